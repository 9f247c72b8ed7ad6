/* Authorizer micro-benchmark: nanoseconds per decision of tri_authz_check on a
 * store holding the default policy plus 1,000 Roles and 1,000 RoleBindings (one
 * user each, over 100 namespaces) and 1,000 pods on 100 nodes:
 *
 *   rbac_hit_allow / rbac_hit_deny  cached rules, 1,000 users in rotation
 *   masters                         the system:masters shortcut
 *   rbac_miss                       index current, user not cached yet
 *   rbac_after_write                first decision after an RBAC write (drain the
 *                                   watch, parse the object, rebuild the subject
 *                                   index, build the user's rules)
 *   after_unrelated_write           first decision after a ConfigMap write
 *   node_secret_hit                 Node authorizer, secret of a bound pod
 *   node_after_pod_write            first node decision after a pod update
 *
 * Prints `bench_authz <what>_ns <ns/decision>`, one line each. Writes go straight
 * to the store (no raft): this measures the authorizer alone. Times are the
 * thread's CPU time, not wall time: the machine is shared, and a decision never
 * waits for anything but the CPU. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "triarch/api.h"
#include "triarch/authz.h"
#include "triarch/util.h"

#define N_ROLES 1000
#define N_NS 100
#define N_PODS 1000
#define N_NODES 100
/* Iterations per figure: enough for a stable mean in well under a second each. */
#define HIT_ITERS 400000
#define WRITE_ITERS 300

static const tri_resource_t *res(const char *group, const char *plural)
{
    const tri_resource_t *r = tri_registry_find(group, "v1", plural);
    if (r == NULL) {
        fprintf(stderr, "bench_authz: no resource %s/%s\n", group, plural);
        exit(1);
    }
    return r;
}

static void put(tri_store_t *s, const tri_resource_t *r, const char *ns, const char *name,
                const char *json)
{
    json_t *o = json_loads(json, 0, NULL);
    if (o == NULL) {
        fprintf(stderr, "bench_authz: bad JSON %s\n", json);
        exit(1);
    }
    tri_buf_t key = {0}, val = {0};
    tri_registry_key(r, ns, name, &key);
    tri_object_encode(o, &val);
    tri_op_t op = {TRI_OP_PUT, key.data, key.len, val.data, val.len};
    tri_txn_t txn = {NULL, 0, &op, 1};
    tri_txn_result_t result;
    tri_store_apply(s, &txn, &result);
    tri_buf_free(&key);
    tri_buf_free(&val);
    json_decref(o);
}

static void populate(tri_store_t *s, tri_authz_t *a)
{
    const tri_resource_t *roles = res("rbac.authorization.k8s.io", "roles");
    const tri_resource_t *rbs = res("rbac.authorization.k8s.io", "rolebindings");
    const tri_resource_t *pods = res("", "pods");
    char json[2048], name[64], ns[64];
    for (int round = 0; round < 2; round++) { /* creates, then aggregated rules */
        json_t *plan = tri_authz_defaults_plan(a, s);
        size_t i;
        json_t *step;
        json_array_foreach(plan, i, step)
        {
            json_t *obj = json_object_get(step, "object");
            const char *plural = json_string_value(json_object_get(step, "resource"));
            const char *n =
                json_string_value(json_object_get(json_object_get(obj, "metadata"), "name"));
            char *text = json_dumps(obj, JSON_COMPACT);
            put(s, res("rbac.authorization.k8s.io", plural), NULL, n, text);
            free(text);
        }
        json_decref(plan);
    }
    for (int i = 0; i < N_ROLES; i++) {
        snprintf(name, sizeof name, "role-%d", i);
        snprintf(ns, sizeof ns, "ns-%d", i % N_NS);
        snprintf(json, sizeof json,
                 "{\"kind\":\"Role\",\"metadata\":{\"name\":\"%s\",\"namespace\":\"%s\"},"
                 "\"rules\":[{\"apiGroups\":[\"\"],\"resources\":[\"configmaps\",\"secrets\"],"
                 "\"verbs\":[\"get\",\"list\"]},{\"apiGroups\":[\"apps\"],\"resources\":"
                 "[\"deployments\",\"deployments/scale\"],\"verbs\":[\"*\"]},{\"apiGroups\":"
                 "[\"\"],\"resources\":[\"pods\"],\"verbs\":[\"get\",\"list\",\"watch\"]}]}",
                 name, ns);
        put(s, roles, ns, name, json);
        snprintf(json, sizeof json,
                 "{\"kind\":\"RoleBinding\",\"metadata\":{\"name\":\"%s\",\"namespace\":\"%s\"},"
                 "\"roleRef\":{\"apiGroup\":\"rbac.authorization.k8s.io\",\"kind\":\"Role\","
                 "\"name\":\"%s\"},\"subjects\":[{\"kind\":\"User\",\"apiGroup\":"
                 "\"rbac.authorization.k8s.io\",\"name\":\"user-%d\"}]}",
                 name, ns, name, i);
        put(s, rbs, ns, name, json);
    }
    for (int i = 0; i < N_PODS; i++) {
        snprintf(name, sizeof name, "pod-%d", i);
        snprintf(json, sizeof json,
                 "{\"kind\":\"Pod\",\"metadata\":{\"name\":\"%s\",\"namespace\":\"ns-%d\"},"
                 "\"spec\":{\"nodeName\":\"node-%d\",\"volumes\":[{\"name\":\"s\",\"secret\":"
                 "{\"secretName\":\"secret-%d\"}}],\"containers\":[{\"name\":\"c\",\"image\":"
                 "\"x\"}]}}",
                 name, i % N_NS, i % N_NODES, i);
        snprintf(ns, sizeof ns, "ns-%d", i % N_NS);
        put(s, pods, ns, name, json);
    }
}

/* CPU time of this thread, ns (see the header comment). */
static uint64_t cpu_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static tri_user_t users[N_ROLES];
static char namespaces[N_NS][16];

static tri_authz_attrs_t attrs(const tri_user_t *u, const char *verb, const char *group,
                               const char *resource, const char *ns, const char *name)
{
    return (tri_authz_attrs_t){.user = u,
                               .verb = verb,
                               .resource_request = true,
                               .namespace_ = ns,
                               .api_group = group,
                               .api_version = "v1",
                               .resource = resource,
                               .subresource = "",
                               .name = name,
                               .path = ""};
}

static void report(const char *what, uint64_t t, int iters, int allowed, int want)
{
    if (allowed != want) {
        fprintf(stderr, "bench_authz: %s: %d of %d allowed, expected %d\n", what, allowed, iters,
                want);
        exit(1);
    }
    printf("bench_authz %s_ns %.0f\n", what, (double)t / iters);
}

static int check(tri_authz_t *a, const tri_authz_attrs_t *at)
{
    return tri_authz_check(a, at, NULL, 0) == TRI_AUTHZ_ALLOW;
}

/* Fills the rule cache for every user. */
static void warm(tri_authz_t *a)
{
    int ok = 0;
    for (int i = 0; i < N_ROLES; i++) {
        tri_authz_attrs_t at = attrs(&users[i], "get", "", "pods", namespaces[i % N_NS], "p");
        ok += check(a, &at);
    }
    if (ok != N_ROLES) {
        fprintf(stderr, "bench_authz: warm-up: %d of %d allowed\n", ok, N_ROLES);
        exit(1);
    }
}

int main(void)
{
    tri_store_t *s;
    tri_authz_t *a;
    if (tri_store_new(NULL, &s) != 0 || tri_authz_new(s, &a) != 0)
        return 1;
    populate(s, a);
    for (int i = 0; i < N_NS; i++)
        snprintf(namespaces[i], sizeof namespaces[i], "ns-%d", i);
    for (int i = 0; i < N_ROLES; i++) {
        snprintf(users[i].name, sizeof users[i].name, "user-%d", i);
        tri_user_add_group(&users[i], "system:authenticated");
    }
    warm(a);
    int ok = 0;

    ok = 0;
    uint64_t t0 = cpu_ns();
    for (int i = 0; i < HIT_ITERS; i++) {
        int u = i % N_ROLES;
        tri_authz_attrs_t at =
            attrs(&users[u], "patch", "apps", "deployments", namespaces[u % N_NS], "d");
        ok += check(a, &at);
    }
    report("rbac_hit_allow", cpu_ns() - t0, HIT_ITERS, ok, HIT_ITERS);

    ok = 0;
    t0 = cpu_ns();
    for (int i = 0; i < HIT_ITERS; i++) {
        int u = i % N_ROLES;
        tri_authz_attrs_t at = attrs(&users[u], "delete", "", "pods", namespaces[u % N_NS], "p");
        ok += check(a, &at);
    }
    report("rbac_hit_deny", cpu_ns() - t0, HIT_ITERS, ok, 0);

    tri_user_t root = {0};
    snprintf(root.name, sizeof root.name, "admin");
    tri_user_add_group(&root, "system:masters");
    tri_user_add_group(&root, "system:authenticated");
    ok = 0;
    t0 = cpu_ns();
    for (int i = 0; i < HIT_ITERS; i++) {
        tri_authz_attrs_t at = attrs(&root, "delete", "", "nodes", "", "n");
        ok += check(a, &at);
    }
    report("masters", cpu_ns() - t0, HIT_ITERS, ok, HIT_ITERS);

    /* an RBAC write, then the first decision (timed), then misses for other users */
    const tri_resource_t *rbs = res("rbac.authorization.k8s.io", "rolebindings");
    uint64_t first = 0, misses = 0;
    int n_miss = 0, ok_first = 0;
    ok = 0;
    for (int i = 0; i < WRITE_ITERS; i++) {
        char json[512];
        snprintf(json, sizeof json,
                 "{\"kind\":\"RoleBinding\",\"metadata\":{\"name\":\"churn\",\"namespace\":"
                 "\"ns-0\",\"labels\":{\"i\":\"%d\"}},\"roleRef\":{\"apiGroup\":"
                 "\"rbac.authorization.k8s.io\",\"kind\":\"Role\",\"name\":\"role-0\"},"
                 "\"subjects\":[{\"kind\":\"User\",\"apiGroup\":\"rbac.authorization.k8s.io\","
                 "\"name\":\"churner\"}]}",
                 i);
        put(s, rbs, "ns-0", "churn", json);
        int u = i % N_ROLES;
        tri_authz_attrs_t at = attrs(&users[u], "get", "", "secrets", namespaces[u % N_NS], "x");
        t0 = cpu_ns();
        ok_first += check(a, &at);
        first += cpu_ns() - t0;
        for (int k = 1; k <= 10; k++) {
            int v = (u + k * 37) % N_ROLES;
            tri_authz_attrs_t m = attrs(&users[v], "get", "", "secrets", namespaces[v % N_NS], "x");
            t0 = cpu_ns();
            ok += check(a, &m);
            misses += cpu_ns() - t0;
            n_miss++;
        }
    }
    report("rbac_after_write", first, WRITE_ITERS, ok_first, WRITE_ITERS);
    report("rbac_miss", misses, n_miss, ok, n_miss);

    const tri_resource_t *cms = res("", "configmaps");
    warm(a);
    first = 0;
    ok = 0;
    for (int i = 0; i < WRITE_ITERS; i++) {
        put(s, cms, "ns-1", "noise",
            "{\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\"noise\"},\"data\":{}}");
        int u = i % N_ROLES;
        tri_authz_attrs_t at = attrs(&users[u], "get", "", "pods", namespaces[u % N_NS], "p");
        t0 = cpu_ns();
        ok += check(a, &at);
        first += cpu_ns() - t0;
    }
    report("after_unrelated_write", first, WRITE_ITERS, ok, WRITE_ITERS);

    /* the Node authorizer */
    static tri_user_t nodes[N_NODES];
    for (int i = 0; i < N_NODES; i++) {
        snprintf(nodes[i].name, sizeof nodes[i].name, "system:node:node-%d", i);
        tri_user_add_group(&nodes[i], "system:nodes");
        tri_user_add_group(&nodes[i], "system:authenticated");
    }
    char secret[N_PODS][24];
    for (int i = 0; i < N_PODS; i++)
        snprintf(secret[i], sizeof secret[i], "secret-%d", i);
    ok = 0;
    t0 = cpu_ns();
    for (int i = 0; i < HIT_ITERS; i++) {
        int p = i % N_PODS;
        tri_authz_attrs_t at =
            attrs(&nodes[p % N_NODES], "get", "", "secrets", namespaces[p % N_NS], secret[p]);
        ok += check(a, &at);
    }
    report("node_secret_hit", cpu_ns() - t0, HIT_ITERS, ok, HIT_ITERS);

    const tri_resource_t *pods = res("", "pods");
    first = 0;
    ok = 0;
    for (int i = 0; i < WRITE_ITERS; i++) {
        int p = i % N_PODS;
        char json[512], name[32];
        snprintf(name, sizeof name, "pod-%d", p);
        snprintf(json, sizeof json,
                 "{\"kind\":\"Pod\",\"metadata\":{\"name\":\"%s\",\"namespace\":\"ns-%d\"},"
                 "\"spec\":{\"nodeName\":\"node-%d\",\"volumes\":[{\"name\":\"s\",\"secret\":"
                 "{\"secretName\":\"secret-%d\"}}],\"containers\":[{\"name\":\"c\",\"image\":"
                 "\"x\"}]},\"status\":{\"phase\":\"Running\",\"n\":%d}}",
                 name, p % N_NS, p % N_NODES, p, i);
        put(s, pods, namespaces[p % N_NS], name, json);
        tri_authz_attrs_t at =
            attrs(&nodes[p % N_NODES], "get", "", "secrets", namespaces[p % N_NS], secret[p]);
        t0 = cpu_ns();
        ok += check(a, &at);
        first += cpu_ns() - t0;
    }
    report("node_after_pod_write", first, WRITE_ITERS, ok, WRITE_ITERS);

    tri_authz_free(a);
    tri_store_free(s);
    return 0;
}
