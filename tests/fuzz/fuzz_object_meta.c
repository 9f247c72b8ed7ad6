/* libFuzzer target: tri_object_load_meta (the leader loops' metadata-only watch
 * events) on any stored bytes. No crash, leak or out-of-bounds read; and whenever it
 * returns an object, that object is exactly what a whole parse gives: the input's
 * metadata minus managedFields with resourceVersion set, under the resource's
 * apiVersion and kind. */
#include <stdint.h>
#include <string.h>

#include "fuzz_assert.h"
#include "triarch/api.h"
#include "triarch/store.h"

static void check_same_as_whole(const tri_resource_t *r, const json_t *got, const uint8_t *data,
                                size_t size)
{
    json_t *whole = json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES, NULL);
    json_t *meta = json_object_get(whole, "metadata");
    if (json_is_object(meta)) {
        json_t *want = json_deep_copy(meta);
        json_object_del(want, "managedFields");
        json_object_set_new(want, "resourceVersion", json_string("3"));
        FUZZ_ASSERT(json_equal(want, json_object_get(got, "metadata")));
        json_decref(want);
    }
    FUZZ_ASSERT(strcmp(json_string_value(json_object_get(got, "kind")), r->kind) == 0);
    json_decref(whole);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const tri_resource_t *r = tri_registry_find("", "v1", "configmaps");
    tri_val_t *v = tri_val_new(data, size);
    if (r == NULL || v == NULL)
        return 0;
    json_t *o = tri_object_load_meta(r, v, 3);
    if (o != NULL) {
        FUZZ_ASSERT(json_is_object(json_object_get(o, "metadata")));
        check_same_as_whole(r, o, data, size);
    }
    json_decref(o);
    tri_val_unref(v);
    return 0;
}
