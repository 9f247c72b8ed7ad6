/* The objects a cluster has from its first moment: Kubernetes' four built-in
 * namespaces. The leader creates whichever is missing each time it wins an
 * election (after its barrier, so it reads current state), with an "absent"
 * precondition so two leaders in a row never clash. */
#include <string.h>

#include "meta.h"
#include "resources.h"
#include "storage.h"
#include "triarch/errors.h"
#include "triarch/log.h"

typedef struct ns_create {
    tri_propose_t prop;
    tri_buf_t key;
    tri_buf_t val;
    tri_buf_t sealed; /* val as stored, when namespaces are encrypted at rest */
} ns_create_t;

static void on_ns_created(tri_propose_t *req, int status, const tri_txn_result_t *res)
{
    ns_create_t *c = req->data;
    if (status == 0 && res->status == 0)
        tri_info("api", "created built-in namespace", "key=%.*s revision=%lld", (int)c->key.len,
                 c->key.data, (long long)res->revision);
    else if (status != 0)
        tri_warn("api", "could not create built-in namespace", "key=%.*s err=%s",
                 (int)c->key.len, c->key.data, tri_strerror(status));
    tri_buf_free(&c->key);
    tri_buf_free(&c->val);
    tri_buf_free(&c->sealed);
    free(c);
}

static void create_namespace(tri_api_t *api, const char *name)
{
    ns_create_t *c = calloc(1, sizeof *c);
    if (c == NULL)
        return;
    c->prop.data = c;
    json_t *obj = json_pack("{s:s, s:s, s:{s:s}}", "apiVersion", "v1", "kind", "Namespace",
                            "metadata", "name", name);
    tri_status_t st = {0};
    tri_meta_prepare_create(&tri_res_namespaces, NULL, obj, &st);
    tri_registry_key(&tri_res_namespaces, NULL, name, &c->key);
    tri_object_encode(obj, &c->val);
    json_decref(obj);
    const char *data;
    size_t len;
    int rc = tri_storage_seal(api, &tri_res_namespaces, c->key.data, c->key.len, &c->val,
                              &c->sealed, &data, &len, &st);
    tri_status_clear(&st);
    tri_cmp_t cmp = {TRI_CMP_ABSENT, c->key.data, c->key.len, 0};
    tri_op_t put = {TRI_OP_PUT, c->key.data, c->key.len, data, len};
    tri_txn_t txn = {&cmp, 1, &put, 1};
    if (rc != 0 || tri_node_propose_local(tri_api_node(api), &c->prop, &txn, on_ns_created) != 0) {
        tri_buf_free(&c->key);
        tri_buf_free(&c->val);
        tri_buf_free(&c->sealed);
        free(c);
    }
}

void tri_api_ensure_defaults(tri_api_t *api)
{
    for (size_t i = 0; tri_builtin_namespaces[i]; i++) {
        tri_buf_t key = {0};
        tri_registry_key(&tri_res_namespaces, NULL, tri_builtin_namespaces[i], &key);
        tri_kv_t kv;
        int rc = tri_store_get(tri_api_store(api), key.data, key.len, 0, &kv);
        tri_buf_free(&key);
        if (rc == 0) {
            tri_kv_release(&kv);
            continue;
        }
        create_namespace(api, tri_builtin_namespaces[i]);
    }
}
