/* libFuzzer target: tri_protobuf_decode (with and without the k8s prefix) must reject or accept any input without crashing, leaking
 * or reading out of bounds. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_assert.h"
#include "triarch/codec.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char err[256] = "";
    json_t *o = tri_protobuf_decode(data, size, err, sizeof err);
    FUZZ_ASSERT(o == NULL ? err[0] != '\0' : json_is_object(o));
    json_decref(o);
    uint8_t *buf = malloc(size + 4);
    if (!buf)
        return 0;
    memcpy(buf, "k8s\0", 4);
    memcpy(buf + 4, data, size);
    json_decref(tri_protobuf_decode(buf, size + 4, err, sizeof err));
    free(buf);
    return 0;
}
