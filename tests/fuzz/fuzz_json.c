/* libFuzzer target: tri_json_decode must reject or accept any input without crashing, leaking
 * or reading out of bounds. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_assert.h"
#include "triarch/codec.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char err[256] = "";
    json_t *o = tri_json_decode((const char *)data, size, err, sizeof err);
    FUZZ_ASSERT(o == NULL ? err[0] != '\0' : json_is_object(o));
    json_decref(o);
    return 0;
}
