/* libFuzzer target: tri_json_patch (input: target JSON, a NUL byte, patch JSON) must reject or accept any input without crashing, leaking
 * or reading out of bounds. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_assert.h"
#include "triarch/codec.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char err[256];
    const uint8_t *sep = memchr(data, 0, size);
    if (!sep)
        return 0;
    json_t *t = json_loadb((const char *)data, (size_t)(sep - data), JSON_DECODE_ANY, NULL);
    json_t *p = json_loadb((const char *)sep + 1, size - (size_t)(sep - data) - 1,
                           JSON_DECODE_ANY, NULL);
    if (t && p) {
        /* a patch never changes its target */
        json_t *before = json_deep_copy(t);
        json_decref(tri_json_patch(t, p, err, sizeof err));
        FUZZ_ASSERT(json_equal(t, before));
        json_decref(before);
    }
    json_decref(t);
    json_decref(p);
    return 0;
}
