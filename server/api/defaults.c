/* The objects a cluster has from its first moment: Kubernetes' four built-in
 * namespaces and its two system PriorityClasses (system-cluster-critical,
 * system-node-critical, which kube-apiserver also creates itself). The leader
 * creates whichever is missing each time it wins an election (after its barrier,
 * so it reads current state), with an "absent" precondition so two leaders in a
 * row never clash. */
#include <string.h>

#include "meta.h"
#include "resources.h"
#include "storage.h"
#include "triarch/errors.h"
#include "triarch/log.h"

typedef struct builtin_create {
    tri_propose_t prop;
    tri_buf_t key;
    tri_buf_t val;
    tri_buf_t sealed; /* val as stored, when the resource is encrypted at rest */
} builtin_create_t;

static void on_created(tri_propose_t *req, int status, const tri_txn_result_t *res)
{
    builtin_create_t *c = req->data;
    if (status == 0 && res->status == 0)
        tri_info("api", "created built-in object", "key=%.*s revision=%lld", (int)c->key.len,
                 c->key.data, (long long)res->revision);
    else if (status != 0)
        tri_warn("api", "could not create built-in object", "key=%.*s err=%s",
                 (int)c->key.len, c->key.data, tri_strerror(status));
    tri_buf_free(&c->key);
    tri_buf_free(&c->val);
    tri_buf_free(&c->sealed);
    free(c);
}

/* obj (stolen) made as an API create would make it, if its key is still absent. */
static void create_builtin(tri_api_t *api, const tri_resource_t *r, json_t *obj)
{
    const char *name =
        json_string_value(json_object_get(json_object_get(obj, "metadata"), "name"));
    if (tri_api_exists(api, r, NULL, name)) {
        json_decref(obj);
        return;
    }
    tri_buf_t key = {0};
    tri_registry_key(r, NULL, name, &key);
    builtin_create_t *c = calloc(1, sizeof *c);
    if (c == NULL) {
        tri_buf_free(&key);
        json_decref(obj);
        return;
    }
    c->prop.data = c;
    c->key = key;
    tri_status_t st = {0};
    tri_meta_prepare_create(r, NULL, obj, &st);
    tri_object_encode(obj, &c->val);
    json_decref(obj);
    const char *data;
    size_t len;
    int rc = tri_storage_seal(api, r, c->key.data, c->key.len, &c->val,
                              &c->sealed, &data, &len, &st);
    tri_status_clear(&st);
    tri_cmp_t cmp = {TRI_CMP_ABSENT, c->key.data, c->key.len, 0};
    tri_op_t put = {TRI_OP_PUT, c->key.data, c->key.len, data, len};
    tri_txn_t txn = {&cmp, 1, &put, 1};
    if (rc != 0 || tri_node_propose_local(tri_api_node(api), &c->prop, &txn, on_created) != 0) {
        tri_buf_free(&c->key);
        tri_buf_free(&c->val);
        tri_buf_free(&c->sealed);
        free(c);
    }
}

static json_t *priority_class(const char *name, int value, const char *description)
{
    return json_pack("{s:s, s:s, s:{s:s}, s:i, s:s, s:s}", "apiVersion", "scheduling.k8s.io/v1",
                     "kind", "PriorityClass", "metadata", "name", name, "value", value,
                     "description", description, "preemptionPolicy", "PreemptLowerPriority");
}

void tri_api_ensure_defaults(tri_api_t *api)
{
    for (size_t i = 0; tri_builtin_namespaces[i]; i++)
        create_builtin(api, &tri_res_namespaces,
                       json_pack("{s:s, s:s, s:{s:s}}", "apiVersion", "v1", "kind", "Namespace",
                                 "metadata", "name", tri_builtin_namespaces[i]));
    create_builtin(api, &tri_res_priorityclasses,
                   priority_class("system-node-critical", 2000001000,
                                  "Used for system critical pods that must not be moved from "
                                  "their current node."));
    create_builtin(api, &tri_res_priorityclasses,
                   priority_class("system-cluster-critical", 2000000000,
                                  "Used for system critical pods that must run in the cluster, "
                                  "but can be moved to another node if necessary."));
}
