/* Local reads for synchronous callers (see tri_api_lookup in triarch/api.h;
 * main defines the same function in storage.c: drop this file when merging main):
 * the replica's applied state, opened through the storage seam so that Secrets
 * encrypted at rest come back as plaintext objects, exactly as get would render
 * them. Nothing here waits for a read index: callers that must see every
 * committed write use tri_api_get. */
#include "storage.h"
#include "triarch/api.h"
#include "triarch/log.h"

json_t *tri_api_lookup(tri_api_t *api, const tri_resource_t *r, const char *ns, const char *name)
{
    if (api == NULL || r == NULL || name == NULL || name[0] == '\0')
        return NULL;
    tri_buf_t key = {0};
    tri_registry_key(r, ns, name, &key);
    tri_kv_t kv;
    int rc = tri_store_get(tri_api_store(api), key.data, key.len, 0, &kv);
    json_t *obj = NULL;
    if (rc == 0) {
        tri_val_t *plain = NULL;
        tri_status_t st = {0};
        if (tri_storage_open(api, r, key.data, key.len, kv.val, &plain, NULL, &st) == 0)
            obj = tri_object_load_as(r, plain, kv.mod_rev);
        tri_val_unref(plain);
        tri_status_clear(&st);
        tri_kv_release(&kv);
    }
    tri_buf_free(&key);
    return obj;
}
