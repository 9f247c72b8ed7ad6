/* libFuzzer target: tri_json_decode must reject or accept any input without crashing, leaking
 * or reading out of bounds. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "triarch/codec.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char err[256];
    json_decref(tri_json_decode((const char *)data, size, err, sizeof err));
    return 0;
}
