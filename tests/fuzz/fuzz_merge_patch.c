/* libFuzzer target: tri_merge_patch (input: target JSON, a NUL byte, patch JSON) must reject or accept any input without crashing, leaking
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
        json_t *before = json_deep_copy(t);
        json_t *once = tri_merge_patch(t, p, err, sizeof err);
        FUZZ_ASSERT(json_equal(t, before));
        if (once != NULL) {
            json_t *twice = tri_merge_patch(once, p, err, sizeof err);
            FUZZ_ASSERT(twice != NULL && json_equal(once, twice));
            json_decref(twice);
        }
        json_decref(once);
        json_decref(before);
    }
    json_decref(t);
    json_decref(p);
    return 0;
}
