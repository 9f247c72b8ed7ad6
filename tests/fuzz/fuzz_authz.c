/* libFuzzer target for the authorizer's inputs. The first byte picks the mode:
 *
 *   even: the rest is a SubjectAccessReview spec (JSON): a review returns a status
 *         with a boolean "allowed", or NULL with a message, never both or neither;
 *         the same spec as a SelfSubjectAccessReview likewise;
 *   odd:  the rest is stored as a Role, a RoleBinding, a ClusterRole, a
 *         ClusterRoleBinding and a Pod (as if something had written it past
 *         validation): decisions, a rules review and the default-policy plan run
 *         over it without crashing, and deleting it restores the baseline decisions.
 *
 * No crash, no leak, no read out of bounds on any input. */
#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_assert.h"
#include "triarch/api.h"
#include "triarch/authz.h"
#include "triarch/store.h"

static tri_store_t *store;
static tri_authz_t *authz;

static void put(const char *group, const char *plural, const char *ns, const char *name,
                const char *val, size_t len)
{
    tri_buf_t key = {0};
    tri_registry_key(tri_registry_find(group, "v1", plural), ns, name, &key);
    tri_op_t op = {val ? TRI_OP_PUT : TRI_OP_DELETE, key.data, key.len, val, len};
    tri_txn_t txn = {NULL, 0, &op, 1};
    tri_txn_result_t res;
    tri_store_apply(store, &txn, &res);
    tri_buf_free(&key);
}

static tri_user_t user(const char *name, const char *g1, const char *g2)
{
    tri_user_t u;
    memset(&u, 0, sizeof u);
    strcpy(u.name, name);
    tri_user_add_group(&u, g1);
    tri_user_add_group(&u, g2);
    return u;
}

static int decide(const tri_user_t *u, const char *verb, const char *res, const char *ns,
                  const char *name)
{
    char reason[256];
    tri_authz_attrs_t a = {.user = u,
                           .verb = verb,
                           .resource_request = true,
                           .namespace_ = ns,
                           .api_group = "",
                           .api_version = "v1",
                           .resource = res,
                           .subresource = "",
                           .name = name,
                           .path = ""};
    return tri_authz_check(authz, &a, reason, sizeof reason);
}

static void setup(void)
{
    static const char role[] =
        "{\"metadata\":{\"name\":\"r\",\"namespace\":\"ns\"},\"rules\":"
        "[{\"apiGroups\":[\"\"],\"resources\":[\"pods\"],\"verbs\":[\"get\"]}]}";
    static const char rb[] = "{\"metadata\":{\"name\":\"b\",\"namespace\":\"ns\"},\"roleRef\":"
                             "{\"kind\":\"Role\",\"name\":\"r\"},\"subjects\":[{\"kind\":\"User\","
                             "\"name\":\"alice\"}]}";
    tri_store_new(NULL, &store);
    put("rbac.authorization.k8s.io", "roles", "ns", "r", role, strlen(role));
    put("rbac.authorization.k8s.io", "rolebindings", "ns", "b", rb, strlen(rb));
    tri_authz_new(store, &authz);
}

static void review_mode(const uint8_t *data, size_t size)
{
    json_t *spec = json_loadb((const char *)data, size, JSON_DECODE_ANY, NULL);
    if (spec == NULL)
        return;
    tri_user_t self = user("system:node:n1", "system:nodes", "system:authenticated");
    for (int i = 0; i < 2; i++) {
        char err[256] = "";
        json_t *st = tri_authz_review(authz, spec, i ? &self : NULL, err, sizeof err);
        FUZZ_ASSERT((st != NULL) != (err[0] != '\0'));
        FUZZ_ASSERT(st == NULL || json_is_boolean(json_object_get(st, "allowed")));
        json_decref(st);
    }
    json_decref(spec);
}

static void object_mode(const uint8_t *data, size_t size)
{
    const char *v = (const char *)data;
    put("rbac.authorization.k8s.io", "roles", "ns", "fz", v, size);
    put("rbac.authorization.k8s.io", "rolebindings", "ns", "fz", v, size);
    put("rbac.authorization.k8s.io", "clusterroles", NULL, "fz", v, size);
    put("rbac.authorization.k8s.io", "clusterrolebindings", NULL, "fz", v, size);
    put("", "pods", "ns", "fz", v, size);
    tri_user_t alice = user("alice", "system:authenticated", "g");
    tri_user_t node = user("system:node:n1", "system:nodes", "system:authenticated");
    decide(&alice, "get", "pods", "ns", "p");
    decide(&node, "get", "secrets", "ns", "s");
    decide(&node, "get", "persistentvolumes", "", "pv");
    json_decref(tri_authz_rules_review(authz, &alice, "ns"));
    json_decref(tri_authz_defaults_plan(authz, store));
    put("rbac.authorization.k8s.io", "roles", "ns", "fz", NULL, 0);
    put("rbac.authorization.k8s.io", "rolebindings", "ns", "fz", NULL, 0);
    put("rbac.authorization.k8s.io", "clusterroles", NULL, "fz", NULL, 0);
    put("rbac.authorization.k8s.io", "clusterrolebindings", NULL, "fz", NULL, 0);
    put("", "pods", "ns", "fz", NULL, 0);
    /* the baseline is back: alice reads pods in ns through r, nothing more */
    FUZZ_ASSERT(decide(&alice, "get", "pods", "ns", "p") == TRI_AUTHZ_ALLOW);
    FUZZ_ASSERT(decide(&alice, "delete", "pods", "ns", "p") == TRI_AUTHZ_DENY);
    FUZZ_ASSERT(decide(&node, "get", "secrets", "ns", "s") == TRI_AUTHZ_DENY);
    tri_store_compact_auto(store);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (store == NULL)
        setup();
    if (size == 0)
        return 0;
    if (data[0] % 2 == 0)
        review_mode(data + 1, size - 1);
    else
        object_mode(data + 1, size - 1);
    return 0;
}
