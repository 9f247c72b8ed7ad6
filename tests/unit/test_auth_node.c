/* The Node authorizer on a store with pods bound to two nodes: a node reads the
 * secrets, configmaps, claims, volumes and service-account tokens its own pods use
 * (through every kind of reference) and nothing of the other node's pods or of
 * unbound pods; it writes its own Node, Lease and pod statuses only; a pod's
 * deletion revokes at once (and a secret two pods share stays readable until the
 * second goes); RBAC cannot widen what the Node authorizer denies, but decides
 * what it has no opinion on; an identity without group system:nodes is no node. */
#include "authz_fixture.h"

#define R_POD (&tri_res_pods)

static const char pod_a1[] =
    "\"spec\":{\"nodeName\":\"node-a\",\"serviceAccountName\":\"sa1\","
    "\"imagePullSecrets\":[{\"name\":\"pull1\"}],"
    "\"volumes\":[{\"name\":\"v1\",\"secret\":{\"secretName\":\"s1\"}},"
    "{\"name\":\"v2\",\"configMap\":{\"name\":\"cm1\"}},"
    "{\"name\":\"v3\",\"persistentVolumeClaim\":{\"claimName\":\"claim1\"}},"
    "{\"name\":\"v4\",\"projected\":{\"sources\":[{\"secret\":{\"name\":\"s2\"}},"
    "{\"configMap\":{\"name\":\"cm2\"}},{\"serviceAccountToken\":{\"path\":\"t\"}}]}},"
    "{\"name\":\"scratch\",\"ephemeral\":{\"volumeClaimTemplate\":{}}}],"
    "\"initContainers\":[{\"name\":\"i\",\"envFrom\":[{\"secretRef\":{\"name\":\"s4\"}}]}],"
    "\"containers\":[{\"name\":\"c\",\"env\":[{\"name\":\"X\",\"valueFrom\":{\"secretKeyRef\":"
    "{\"name\":\"s3\",\"key\":\"k\"}}},{\"name\":\"Y\",\"valueFrom\":{\"configMapKeyRef\":"
    "{\"name\":\"cm4\",\"key\":\"k\"}}}],\"envFrom\":[{\"configMapRef\":{\"name\":\"cm3\"}}]}]}";

static void populate(tri_store_t *s)
{
    fx_put(s, R_POD, "ns1", "a1", "%s", pod_a1);
    fx_put(s, R_POD, "ns1", "b1",
           "\"spec\":{\"nodeName\":\"node-b\",\"serviceAccountName\":\"sab\",\"volumes\":["
           "{\"name\":\"v\",\"secret\":{\"secretName\":\"sb\"}},"
           "{\"name\":\"w\",\"persistentVolumeClaim\":{\"claimName\":\"claimb\"}}],"
           "\"containers\":[{\"name\":\"c\"}]}");
    fx_put(s, R_POD, "ns1", "pending",
           "\"spec\":{\"volumes\":[{\"name\":\"v\",\"secret\":{\"secretName\":\"su\"}}],"
           "\"containers\":[{\"name\":\"c\"}]}");
    fx_put(s, &tri_res_persistentvolumeclaims, "ns1", "claim1",
           "\"spec\":{\"volumeName\":\"pv1\"}");
    fx_put(s, &tri_res_persistentvolumeclaims, "ns1", "claimb",
           "\"spec\":{\"volumeName\":\"pvb\"}");
    fx_put(s, &tri_res_persistentvolumes, NULL, "pv1",
           "\"spec\":{\"claimRef\":{\"namespace\":\"ns1\",\"name\":\"claim1\"}}");
    fx_put(s, &tri_res_persistentvolumes, NULL, "pvb",
           "\"spec\":{\"claimRef\":{\"namespace\":\"ns1\",\"name\":\"claimb\"}}");
    /* claims its own claim but is not the volume that claim is bound to */
    fx_put(s, &tri_res_persistentvolumes, NULL, "pv-liar",
           "\"spec\":{\"claimRef\":{\"namespace\":\"ns1\",\"name\":\"claim1\"}}");
}

typedef struct row {
    const char *verb, *group, *resource, *ns, *name;
    int want;
} row_t;

static void test_node_matrix(void)
{
    tri_store_t *s;
    tri_authz_t *a;
    CHECK_EQ(tri_store_new(NULL, &s), 0);
    populate(s);
    CHECK_EQ(tri_authz_new(s, &a), 0);
    tri_user_t na = fx_user("system:node:node-a", "system:nodes system:authenticated");
    const row_t rows[] = {
        /* what its pod uses, by every kind of reference */
        {"get", "", "secrets", "ns1", "s1", ALLOW},
        {"get", "", "secrets", "ns1", "s2", ALLOW},
        {"get", "", "secrets", "ns1", "s3", ALLOW},
        {"get", "", "secrets", "ns1", "s4", ALLOW},
        {"get", "", "secrets", "ns1", "pull1", ALLOW},
        {"watch", "", "secrets", "ns1", "s1", ALLOW}, /* single-object watch */
        {"get", "", "configmaps", "ns1", "cm1", ALLOW},
        {"get", "", "configmaps", "ns1", "cm2", ALLOW},
        {"list", "", "configmaps", "ns1", "cm3", ALLOW},
        {"get", "", "configmaps", "ns1", "cm4", ALLOW},
        {"get", "", "persistentvolumeclaims", "ns1", "claim1", ALLOW},
        {"get", "", "persistentvolumeclaims", "ns1", "a1-scratch", ALLOW},
        {"update", "", "persistentvolumeclaims/status", "ns1", "claim1", ALLOW},
        {"get", "", "persistentvolumes", "", "pv1", ALLOW},
        {"create", "", "serviceaccounts/token", "ns1", "sa1", ALLOW},
        /* what it does not use, or another node's pods use */
        {"get", "", "secrets", "ns1", "sb", DENY},
        {"get", "", "secrets", "ns1", "su", DENY},
        {"get", "", "secrets", "ns2", "s1", DENY},
        {"get", "", "secrets", "ns1", "nope", DENY},
        {"list", "", "secrets", "ns1", "", DENY},
        {"list", "", "secrets", "", "", DENY},
        {"update", "", "secrets", "ns1", "s1", DENY},
        {"delete", "", "configmaps", "ns1", "cm1", DENY},
        {"get", "", "configmaps", "ns1", "cm9", DENY},
        {"get", "", "persistentvolumeclaims", "ns1", "claimb", DENY},
        {"update", "", "persistentvolumeclaims", "ns1", "claim1", DENY},
        {"get", "", "persistentvolumes", "", "pvb", DENY},
        {"get", "", "persistentvolumes", "", "pv-liar", DENY},
        {"list", "", "persistentvolumes", "", "", DENY},
        {"create", "", "serviceaccounts/token", "ns1", "sab", DENY},
        {"get", "", "serviceaccounts", "ns1", "sa1", DENY},
        /* nodes: read all, write its own */
        {"get", "", "nodes", "", "node-b", ALLOW},
        {"list", "", "nodes", "", "", ALLOW},
        {"watch", "", "nodes", "", "", ALLOW},
        {"create", "", "nodes", "", "", ALLOW},
        {"update", "", "nodes", "", "node-a", ALLOW},
        {"patch", "", "nodes/status", "", "node-a", ALLOW},
        {"get", "", "nodes/status", "", "node-a", ALLOW},
        {"update", "", "nodes", "", "node-b", DENY},
        {"patch", "", "nodes", "", "node-b", DENY},
        {"patch", "", "nodes/status", "", "node-b", DENY},
        {"delete", "", "nodes", "", "node-a", DENY},
        {"delete", "", "nodes", "", "node-b", DENY},
        {"get", "", "nodes/proxy", "", "node-b", DENY},
        /* leases: its own in kube-node-lease */
        {"update", "coordination.k8s.io", "leases", "kube-node-lease", "node-a", ALLOW},
        {"get", "coordination.k8s.io", "leases", "kube-node-lease", "node-a", ALLOW},
        {"watch", "coordination.k8s.io", "leases", "kube-node-lease", "node-a", ALLOW},
        {"delete", "coordination.k8s.io", "leases", "kube-node-lease", "node-a", ALLOW},
        {"create", "coordination.k8s.io", "leases", "kube-node-lease", "", ALLOW},
        {"create", "coordination.k8s.io", "leases", "kube-node-lease", "node-a", ALLOW},
        {"create", "coordination.k8s.io", "leases", "kube-node-lease", "node-b", DENY},
        {"update", "coordination.k8s.io", "leases", "kube-node-lease", "node-b", DENY},
        {"update", "coordination.k8s.io", "leases", "kube-system", "node-a", DENY},
        {"list", "coordination.k8s.io", "leases", "kube-node-lease", "", DENY},
        /* pods: read all, mutate its own */
        {"list", "", "pods", "", "", ALLOW},
        {"get", "", "pods", "ns1", "b1", ALLOW},
        {"create", "", "pods", "ns1", "", ALLOW},
        {"delete", "", "pods", "ns1", "a1", ALLOW},
        {"update", "", "pods/status", "ns1", "a1", ALLOW},
        {"patch", "", "pods/status", "ns1", "a1", ALLOW},
        {"create", "", "pods/eviction", "ns1", "a1", ALLOW},
        {"delete", "", "pods", "ns1", "b1", DENY},
        {"delete", "", "pods", "ns1", "pending", DENY},
        {"patch", "", "pods/status", "ns1", "b1", DENY},
        {"update", "", "pods", "ns1", "a1", DENY},
        {"create", "", "pods/exec", "ns1", "a1", DENY},
        {"deletecollection", "", "pods", "ns1", "", DENY},
        /* what every node may do */
        {"create", "", "events", "ns7", "", ALLOW},
        {"patch", "events.k8s.io", "events", "ns7", "e", ALLOW},
        {"create", "certificates.k8s.io", "certificatesigningrequests", "", "", ALLOW},
        {"list", "", "services", "", "", ALLOW},
        {"watch", "", "endpoints", "", "", ALLOW},
        {"watch", "discovery.k8s.io", "endpointslices", "", "", ALLOW},
        /* and what no one granted it */
        {"list", "apps", "deployments", "ns1", "", DENY},
        {"delete", "", "services", "ns1", "x", DENY},
        {"delete", "", "events", "ns7", "e", DENY},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        const row_t *r = &rows[i];
        char what[512];
        snprintf(what, sizeof what, "row %zu: node-a %s %s/%s in \"%s\" name \"%s\"", i, r->verb,
                 r->group, r->resource, r->ns, r->name);
        EXPECT(fx_can(a, &na, r->verb, r->group, r->resource, r->ns, r->name), r->want, what);
    }

    /* the other node, symmetric */
    tri_user_t nb = fx_user("system:node:node-b", "system:nodes system:authenticated");
    EXPECT(fx_can(a, &nb, "get", "", "secrets", "ns1", "sb"), ALLOW, "node-b own secret");
    EXPECT(fx_can(a, &nb, "get", "", "secrets", "ns1", "s1"), DENY, "node-b other's secret");
    CHECK(strstr(fx_reason, "node 'node-b' cannot get secret ns1/s1, no relationship") != NULL);
    EXPECT(fx_can(a, &nb, "get", "", "persistentvolumes", "", "pvb"), ALLOW, "node-b own pv");

    /* named like a node but not in system:nodes: RBAC decides, and says no */
    tri_user_t fake = fx_user("system:node:node-a", "system:authenticated");
    EXPECT(fx_can(a, &fake, "get", "", "secrets", "ns1", "s1"), DENY, "not in system:nodes");
    EXPECT(fx_can(a, &fake, "list", "", "nodes", "", ""), DENY, "not in system:nodes: nodes");
    /* in system:nodes without a node name */
    tri_user_t noname = fx_user("system:node:", "system:nodes");
    EXPECT(fx_can(a, &noname, "list", "", "nodes", "", ""), DENY, "no node name");
    CHECK(strstr(fx_reason, "unknown node") != NULL);

    /* RBAC cannot widen what the Node authorizer denies, but decides the rest */
    fx_put(s, &tri_res_clusterroles, NULL, "too-much",
           "\"rules\":[{\"apiGroups\":[\"*\"],\"resources\":[\"*\"],\"verbs\":[\"*\"]}]");
    fx_put(s, &tri_res_clusterrolebindings, NULL, "nodes-too-much",
           "\"roleRef\":{\"apiGroup\":\"rbac.authorization.k8s.io\",\"kind\":\"ClusterRole\","
           "\"name\":\"too-much\"},\"subjects\":[{\"kind\":\"Group\",\"apiGroup\":"
           "\"rbac.authorization.k8s.io\",\"name\":\"system:nodes\"}]");
    EXPECT(fx_can(a, &na, "get", "", "secrets", "ns1", "sb"), DENY, "RBAC cannot widen secrets");
    EXPECT(fx_can(a, &na, "update", "", "nodes", "", "node-b"), DENY, "RBAC cannot widen nodes");
    EXPECT(fx_can(a, &na, "list", "apps", "deployments", "ns1", ""), ALLOW,
           "RBAC decides the rest");
    /* system:masters comes first */
    tri_user_t master_node = fx_user("system:node:node-a", "system:nodes system:masters");
    EXPECT(fx_can(a, &master_node, "get", "", "secrets", "ns1", "sb"), ALLOW, "masters first");

    tri_authz_free(a);
    tri_store_free(s);
}

/* Pods come and go: the graph follows at once, counting shared references. */
static void test_graph_follows_pods(void)
{
    tri_store_t *s;
    tri_authz_t *a;
    CHECK_EQ(tri_store_new(NULL, &s), 0);
    populate(s);
    CHECK_EQ(tri_authz_new(s, &a), 0);
    tri_user_t na = fx_user("system:node:node-a", "system:nodes system:authenticated");

    EXPECT(fx_can(a, &na, "get", "", "secrets", "ns1", "s1"), ALLOW, "s1 before");
    /* a second pod on node-a shares s1 and brings sb */
    fx_put(
        s, R_POD, "ns1", "a2",
        "\"spec\":{\"nodeName\":\"node-a\",\"volumes\":["
        "{\"name\":\"v\",\"secret\":{\"secretName\":\"s1\"}},"
        "{\"name\":\"w\",\"secret\":{\"secretName\":\"sb\"}}],\"containers\":[{\"name\":\"c\"}]}");
    EXPECT(fx_can(a, &na, "get", "", "secrets", "ns1", "sb"), ALLOW, "sb via new pod a2");
    fx_del(s, R_POD, "ns1", "a1");
    EXPECT(fx_can(a, &na, "get", "", "secrets", "ns1", "s1"), ALLOW, "s1 still via a2");
    EXPECT(fx_can(a, &na, "get", "", "secrets", "ns1", "s2"), DENY, "s2 gone with a1");
    EXPECT(fx_can(a, &na, "get", "", "configmaps", "ns1", "cm1"), DENY, "cm1 gone with a1");
    EXPECT(fx_can(a, &na, "get", "", "persistentvolumes", "", "pv1"), DENY, "pv1 gone with a1");
    EXPECT(fx_can(a, &na, "delete", "", "pods", "ns1", "a1"), DENY, "a1 gone");
    /* an update that drops a reference revokes it */
    fx_put(
        s, R_POD, "ns1", "a2",
        "\"spec\":{\"nodeName\":\"node-a\",\"volumes\":["
        "{\"name\":\"v\",\"secret\":{\"secretName\":\"s1\"}}],\"containers\":[{\"name\":\"c\"}]}");
    EXPECT(fx_can(a, &na, "get", "", "secrets", "ns1", "sb"), DENY, "sb dropped by update");
    EXPECT(fx_can(a, &na, "get", "", "secrets", "ns1", "s1"), ALLOW, "s1 kept by update");
    fx_del(s, R_POD, "ns1", "a2");
    EXPECT(fx_can(a, &na, "get", "", "secrets", "ns1", "s1"), DENY, "s1 gone with a2");
    /* binding a pending pod to node-a (the scheduler's write) grants its secret */
    EXPECT(fx_can(a, &na, "get", "", "secrets", "ns1", "su"), DENY, "su while pending");
    fx_put(s, R_POD, "ns1", "pending",
           "\"spec\":{\"nodeName\":\"node-a\",\"volumes\":[{\"name\":\"v\",\"secret\":"
           "{\"secretName\":\"su\"}}],\"containers\":[{\"name\":\"c\"}]}");
    EXPECT(fx_can(a, &na, "get", "", "secrets", "ns1", "su"), ALLOW, "su once bound");
    tri_authz_free(a);
    tri_store_free(s);
}

/* A graph watcher left behind by many writes rebuilds from a full list. */
static void test_graph_lag_rebuilds(void)
{
    tri_store_opts_t opts = {.watcher_max_lag = 4, .history_events = 8};
    tri_store_t *s;
    tri_authz_t *a;
    CHECK_EQ(tri_store_new(&opts, &s), 0);
    populate(s);
    CHECK_EQ(tri_authz_new(s, &a), 0);
    tri_user_t na = fx_user("system:node:node-a", "system:nodes system:authenticated");
    EXPECT(fx_can(a, &na, "get", "", "secrets", "ns1", "s1"), ALLOW, "before");
    fx_del(s, R_POD, "ns1", "a1");
    for (int i = 0; i < 30; i++) {
        char name[32];
        snprintf(name, sizeof name, "p%d", i);
        fx_put(s, R_POD, "ns2", name,
               "\"spec\":{\"nodeName\":\"node-b\",\"containers\":[{\"name\":\"c\"}]}");
    }
    EXPECT(fx_can(a, &na, "get", "", "secrets", "ns1", "s1"), DENY, "after lag");
    EXPECT(fx_can(a, &na, "get", "", "secrets", "ns1", "s2"), DENY, "after lag s2");
    tri_authz_free(a);
    tri_store_free(s);
}

static void test_node_reviews(void)
{
    tri_store_t *s;
    tri_authz_t *a;
    CHECK_EQ(tri_store_new(NULL, &s), 0);
    populate(s);
    CHECK_EQ(tri_authz_new(s, &a), 0);
    char err[256];
    json_t *spec = fx_json("{\"user\":\"system:node:node-b\",\"groups\":[\"system:nodes\"],"
                           "\"resourceAttributes\":{\"namespace\":\"ns1\",\"verb\":\"get\","
                           "\"resource\":\"secrets\",\"name\":\"s1\"}}");
    json_t *st = tri_authz_review(a, spec, NULL, err, sizeof err);
    CHECK_JSON(st, "{\"allowed\":false,\"denied\":true,\"reason\":\"node 'node-b' cannot get "
                   "secret ns1/s1, no relationship to this object was found in the node "
                   "authorizer graph\"}");
    json_decref(st);
    json_decref(spec);
    /* no opinion from the Node authorizer, none from RBAC: not "denied" */
    spec = fx_json("{\"user\":\"system:node:node-b\",\"groups\":[\"system:nodes\"],"
                   "\"resourceAttributes\":{\"namespace\":\"ns1\",\"verb\":\"list\","
                   "\"group\":\"apps\",\"resource\":\"deployments\"}}");
    st = tri_authz_review(a, spec, NULL, err, sizeof err);
    CHECK_JSON(st, "{\"allowed\":false}");
    json_decref(st);
    json_decref(spec);
    spec = fx_json("{\"resourceAttributes\":{\"namespace\":\"ns1\",\"verb\":\"get\","
                   "\"resource\":\"secrets\",\"name\":\"sb\"}}");
    tri_user_t nb = fx_user("system:node:node-b", "system:nodes system:authenticated");
    st = tri_authz_review(a, spec, &nb, err, sizeof err);
    CHECK_JSON(st, "{\"allowed\":true}");
    json_decref(st);
    json_decref(spec);
    st = tri_authz_rules_review(a, &nb, "ns1");
    CHECK_JSON(st, "{\"resourceRules\":[],\"nonResourceRules\":[],\"incomplete\":true,"
                   "\"evaluationError\":\"node authorizer does not support user rule "
                   "resolution\"}");
    json_decref(st);
    tri_authz_free(a);
    tri_store_free(s);
}

int main(void)
{
    test_node_matrix();
    test_graph_follows_pods();
    test_graph_lag_rebuilds();
    test_node_reviews();
    printf("ok\n");
    return 0;
}
