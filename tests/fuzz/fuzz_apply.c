/* libFuzzer target: server-side apply (include/triarch/apply.h). Input: the live
 * object's JSON, a NUL byte, the applied config's JSON. The live object may carry any
 * metadata.managedFields (decoded, merged, pruned); the input's length picks force,
 * the manager and whether the kind comes from the config or from a fixed list. tri_apply must
 * accept or refuse any pair without crashing, leaking or reading out of bounds, and the
 * managedFields it writes must decode again: the result is re-applied and fed to
 * tri_managed_fields_update.
 *
 * Fuzz targets link only tri_codec (tests/CMakeLists.txt) while apply.c and status.c
 * belong to tri_api, whose other files need the store and raft; the two sources are
 * compiled into this target instead. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_assert.h"
#include "../../server/api/apply.c"
#include "../../server/api/status.c"

static const char *const fuzz_kinds[] = {"ConfigMap", "Deployment", "Pod", "Service", "Widget"};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const uint8_t *sep = memchr(data, 0, size);
    if (!sep || size > 64 * 1024)
        return 0;
    size_t llen = (size_t)(sep - data);
    json_t *live = llen ? json_loadb((const char *)data, llen, 0, NULL) : NULL;
    json_t *applied = json_loadb((const char *)sep + 1, size - llen - 1, 0, NULL);
    unsigned sel = (unsigned)size;
    const char *kind = (sel & 16) ? fuzz_kinds[(sel >> 5) % 5] : NULL;
    const char *manager = (sel & 8) ? "kubectl" : "other";
    tri_status_t st = {0};
    if (applied) {
        json_t *out = tri_apply(live, applied, manager, sel & 1, kind, "v1", &st);
        FUZZ_ASSERT(out != NULL || st.code != 0); /* a result, or a Status saying why not */
        tri_status_clear(&st);
        if (out) {
            json_t *again = tri_apply(out, applied, "third", true, kind, "v1", &st);
            tri_status_clear(&st);
            tri_managed_fields_update(out, live, (sel & 2) ? NULL : "edit", "v1");
            json_decref(again);
        }
        json_decref(out);
    }
    if (live && applied && json_is_object(applied))
        tri_managed_fields_update(applied, live, "update", "v1");
    json_decref(live);
    json_decref(applied);
    return 0;
}
