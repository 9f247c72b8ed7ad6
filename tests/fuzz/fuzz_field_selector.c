/* libFuzzer target: tri_field_selector_parse and matching must reject or accept any input without crashing, leaking
 * or reading out of bounds. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_assert.h"
#include "triarch/codec.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char err[256] = "";
    char *s = strndup((const char *)data, size);
    if (!s)
        return 0;
    tri_selector_t *sel = NULL;
    if (tri_field_selector_parse(s, &sel, err, sizeof err) == 0) {
        json_t *o = json_pack("{s:{s:s,s:s},s:{s:s}}", "metadata", "name", "a", "namespace",
                              "b", "spec", "nodeName", "n");
        const char *names[8];
        tri_field_selector_fields(sel, names, 8);
        (void)tri_field_selector_match(sel, o);
        (void)tri_selector_empty(sel);
        json_decref(o);
    }
    FUZZ_ASSERT(sel != NULL || err[0] != '\0'); /* parsed, or a message saying why not */
    tri_selector_free(sel);
    free(s);
    return 0;
}
