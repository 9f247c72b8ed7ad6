/* RBAC on a store populated with Roles, ClusterRoles and bindings: a matrix of
 * users x verbs x resources x namespaces against the decisions Kubernetes makes
 * (wildcards, resourceNames, subresources and "*\/sub", nonResourceURLs with a
 * trailing "*", RoleBinding to a ClusterRole, ServiceAccount subjects with and
 * without a namespace, aggregation followed transitively, deny by default,
 * system:masters); that writes take effect on the very next decision (a new
 * binding allows, its removal revokes, a role edit narrows, aggregation labels
 * come and go); SubjectAccessReview / SelfSubjectAccessReview /
 * SelfSubjectRulesReview JSON; the default policy (view/edit/admin through
 * aggregation, discovery for everyone) and its leader-side plan (creates what is
 * missing, restores rules while autoupdate is on, leaves autoupdate=false alone,
 * converges to an empty plan). */
#include "authz_fixture.h"

#define R_ROLE (&tri_res_roles)
#define R_CROLE (&tri_res_clusterroles)
#define R_RB (&tri_res_rolebindings)
#define R_CRB (&tri_res_clusterrolebindings)

#define SUBJ_USER(n)                                                                               \
    "{\"kind\":\"User\",\"apiGroup\":\"rbac.authorization.k8s.io\",\"name\":\"" n "\"}"
#define SUBJ_GROUP(n)                                                                              \
    "{\"kind\":\"Group\",\"apiGroup\":\"rbac.authorization.k8s.io\",\"name\":\"" n "\"}"
#define REF(kind, n)                                                                               \
    "\"roleRef\":{\"apiGroup\":\"rbac.authorization.k8s.io\",\"kind\":\"" kind "\",\"name\":\"" n  \
    "\"}"

static void populate(tri_store_t *s)
{
    fx_put(s, R_ROLE, "ns1", "pod-reader",
           "\"rules\":[{\"apiGroups\":[\"\"],\"resources\":[\"pods\",\"pods/log\"],"
           "\"verbs\":[\"get\",\"list\",\"watch\"]}]");
    fx_put(s, R_RB, "ns1", "alice-reads",
           REF("Role", "pod-reader") ",\"subjects\":[" SUBJ_USER("alice") "]");
    /* a Role of the same name in another namespace grants nothing through ns1's binding */
    fx_put(s, R_ROLE, "ns2", "pod-reader",
           "\"rules\":[{\"apiGroups\":[\"*\"],\"resources\":[\"*\"],\"verbs\":[\"*\"]}]");

    fx_put(s, R_CROLE, NULL, "secret-one",
           "\"rules\":[{\"apiGroups\":[\"\"],\"resources\":[\"secrets\"],"
           "\"resourceNames\":[\"one\"],\"verbs\":[\"get\"]}]");
    fx_put(s, R_RB, "ns2", "devs-secret",
           REF("ClusterRole", "secret-one") ",\"subjects\":[" SUBJ_GROUP("devs") "]");

    fx_put(s, R_CROLE, NULL, "scaler",
           "\"rules\":[{\"apiGroups\":[\"apps\"],\"resources\":[\"deployments/scale\"],"
           "\"verbs\":[\"update\",\"patch\"]},"
           "{\"apiGroups\":[\"*\"],\"resources\":[\"*/status\"],\"verbs\":[\"get\"]}]");
    fx_put(s, R_CRB, NULL, "builder-scales",
           REF("ClusterRole", "scaler") ",\"subjects\":[{\"kind\":\"ServiceAccount\","
                                        "\"namespace\":\"ns1\",\"name\":\"builder\"}]");

    fx_put(s, R_CROLE, NULL, "metrics",
           "\"rules\":[{\"nonResourceURLs\":[\"/metrics\",\"/logs/*\"],\"verbs\":[\"get\"]}]");
    fx_put(s, R_CRB, NULL, "devs-metrics",
           REF("ClusterRole", "metrics") ",\"subjects\":[" SUBJ_GROUP("devs") "]");

    fx_put(s, R_CROLE, NULL, "everything",
           "\"rules\":[{\"apiGroups\":[\"*\"],\"resources\":[\"*\"],\"verbs\":[\"*\"]}]");
    /* a ServiceAccount subject without a namespace means the RoleBinding's own */
    fx_put(s, R_RB, "ns3", "ns3-builder",
           REF("ClusterRole",
               "everything") ",\"subjects\":[{\"kind\":\"ServiceAccount\",\"name\":\"builder\"}]");
    /* ... and in a ClusterRoleBinding it means nobody */
    fx_put(s, R_CRB, NULL, "sa-without-ns",
           REF("ClusterRole",
               "everything") ",\"subjects\":[{\"kind\":\"ServiceAccount\",\"name\":\"builder\"}]");

    /* aggregation: parent <- child (by label); grand <- parent (by label) */
    fx_put(s, R_CROLE, NULL, "agg-parent",
           "\"metadata\":{\"name\":\"agg-parent\",\"labels\":{\"x/aggregate-to-grand\":\"true\"}},"
           "\"aggregationRule\":{\"clusterRoleSelectors\":[{\"matchLabels\":"
           "{\"x/aggregate-to-parent\":\"true\"}}]},"
           "\"rules\":[{\"apiGroups\":[\"*\"],\"resources\":[\"*\"],\"verbs\":[\"*\"]}]");
    fx_put(
        s, R_CROLE, NULL, "agg-child",
        "\"metadata\":{\"name\":\"agg-child\",\"labels\":{\"x/aggregate-to-parent\":\"true\"}},"
        "\"rules\":[{\"apiGroups\":[\"batch\"],\"resources\":[\"jobs\"],\"verbs\":[\"create\"]}]");
    fx_put(s, R_CROLE, NULL, "agg-grand",
           "\"aggregationRule\":{\"clusterRoleSelectors\":[{\"matchExpressions\":[{\"key\":"
           "\"x/aggregate-to-grand\",\"operator\":\"Exists\"}]}]}");
    fx_put(s, R_CRB, NULL, "carol-parent",
           REF("ClusterRole", "agg-parent") ",\"subjects\":[" SUBJ_USER("carol") "]");
    fx_put(s, R_RB, "ns1", "dave-grand",
           REF("ClusterRole", "agg-grand") ",\"subjects\":[" SUBJ_USER("dave") "]");

    fx_put(s, R_RB, "ns1", "dangling",
           REF("Role", "missing") ",\"subjects\":[" SUBJ_USER("erin") "]");
}

/* fx_put puts the metadata itself; objects that need labels pass their own
 * metadata, which the JSON parser lets override (last key wins in jansson). */

typedef struct row {
    const tri_user_t *u;
    const char *verb, *group, *resource, *ns, *name;
    int want;
} row_t;

static void test_matrix(void)
{
    tri_store_t *s;
    tri_authz_t *a;
    CHECK_EQ(tri_store_new(NULL, &s), 0);
    populate(s);
    CHECK_EQ(tri_authz_new(s, &a), 0);

    tri_user_t alice = fx_user("alice", "system:authenticated");
    tri_user_t bob = fx_user("bob", "system:authenticated devs");
    tri_user_t sa =
        fx_user("system:serviceaccount:ns1:builder",
                "system:serviceaccounts system:serviceaccounts:ns1 system:authenticated");
    tri_user_t sa3 =
        fx_user("system:serviceaccount:ns3:builder",
                "system:serviceaccounts system:serviceaccounts:ns3 system:authenticated");
    tri_user_t carol = fx_user("carol", "system:authenticated");
    tri_user_t dave = fx_user("dave", "system:authenticated");
    tri_user_t root = fx_user("root", "system:masters system:authenticated");
    tri_user_t mallory = fx_user("mallory", "system:authenticated");
    /* a user named like the group is not in it */
    tri_user_t devs_user = fx_user("devs", "system:authenticated");

    const row_t rows[] = {
        /* Role in its namespace, through a RoleBinding */
        {&alice, "get", "", "pods", "ns1", "p", ALLOW},
        {&alice, "list", "", "pods", "ns1", "", ALLOW},
        {&alice, "watch", "", "pods", "ns1", "", ALLOW},
        {&alice, "get", "", "pods/log", "ns1", "p", ALLOW},
        {&alice, "get", "", "pods/exec", "ns1", "p", DENY},
        {&alice, "create", "", "pods/exec", "ns1", "p", DENY},
        {&alice, "delete", "", "pods", "ns1", "p", DENY},
        {&alice, "get", "", "pods", "ns2", "p", DENY},
        {&alice, "list", "", "pods", "", "",
         DENY}, /* all namespaces: a RoleBinding is not enough */
        {&alice, "get", "apps", "pods", "ns1", "p", DENY},
        {&alice, "get", "", "secrets", "ns1", "x", DENY},
        /* RoleBinding to a ClusterRole with resourceNames, by group */
        {&bob, "get", "", "secrets", "ns2", "one", ALLOW},
        {&bob, "get", "", "secrets", "ns2", "two", DENY},
        {&bob, "list", "", "secrets", "ns2", "", DENY},
        {&bob, "update", "", "secrets", "ns2", "one", DENY},
        {&bob, "get", "", "secrets", "ns1", "one", DENY},
        {&bob, "get", "", "secrets", "", "one", DENY},
        {&devs_user, "get", "", "secrets", "ns2", "one", DENY},
        /* ServiceAccount subject in a ClusterRoleBinding; "res/sub" and "*\/sub" */
        {&sa, "update", "apps", "deployments/scale", "ns9", "d", ALLOW},
        {&sa, "patch", "apps", "deployments/scale", "", "d", ALLOW},
        {&sa, "update", "apps", "deployments", "ns9", "d", DENY},
        {&sa, "update", "", "deployments/scale", "ns9", "d", DENY},
        {&sa, "get", "apps", "deployments/status", "ns9", "d", ALLOW},
        {&sa, "get", "", "pods/status", "ns9", "p", ALLOW},
        {&sa, "get", "", "pods", "ns9", "p", DENY},
        {&sa, "update", "", "pods/status", "ns9", "p", DENY},
        /* the namespace-less ServiceAccount subject of ns3's RoleBinding is ns3's */
        {&sa3, "delete", "apps", "deployments", "ns3", "d", ALLOW},
        {&sa3, "create", "", "pods/exec", "ns3", "p", ALLOW},
        {&sa3, "delete", "apps", "deployments", "ns1", "d", DENY},
        {&sa3, "list", "", "nodes", "", "", DENY},
        {&sa, "delete", "apps", "deployments", "ns3", "d", DENY},
        /* aggregation: the parent's stored wildcard rule is not honoured, its
         * children's rules are; the grand role aggregates the parent's union */
        {&carol, "create", "batch", "jobs", "ns5", "", ALLOW},
        {&carol, "delete", "batch", "jobs", "ns5", "j", DENY},
        {&carol, "get", "", "pods", "ns5", "p", DENY},
        {&dave, "create", "batch", "jobs", "ns1", "", ALLOW},
        {&dave, "create", "batch", "jobs", "ns2", "", DENY},
        /* masters may do anything; strangers nothing */
        {&root, "delete", "", "nodes", "", "n1", ALLOW},
        {&root, "escalate", "rbac.authorization.k8s.io", "clusterroles", "", "x", ALLOW},
        {&mallory, "get", "", "pods", "ns1", "p", DENY},
        {&mallory, "list", "", "namespaces", "", "", DENY},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        const row_t *r = &rows[i];
        char what[512];
        snprintf(what, sizeof what, "row %zu: %s %s %s/%s in \"%s\" name \"%s\"", i, r->u->name,
                 r->verb, r->group, r->resource, r->ns, r->name);
        EXPECT(fx_can(a, r->u, r->verb, r->group, r->resource, r->ns, r->name), r->want, what);
    }

    /* non-resource URLs: exact and trailing-"*" prefix */
    EXPECT(fx_can_url(a, &bob, "get", "/metrics"), ALLOW, "bob get /metrics");
    EXPECT(fx_can_url(a, &bob, "get", "/logs/kube.log"), ALLOW, "bob get /logs/kube.log");
    EXPECT(fx_can_url(a, &bob, "get", "/logs/"), ALLOW, "bob get /logs/");
    EXPECT(fx_can_url(a, &bob, "get", "/logs"), DENY, "bob get /logs");
    EXPECT(fx_can_url(a, &bob, "get", "/metricsx"), DENY, "bob get /metricsx");
    EXPECT(fx_can_url(a, &bob, "post", "/metrics"), DENY, "bob post /metrics");
    EXPECT(fx_can_url(a, &alice, "get", "/metrics"), DENY, "alice get /metrics");
    EXPECT(fx_can_url(a, &root, "put", "/anything"), ALLOW, "root put /anything");
    /* a nonResourceURLs rule never allows a resource request named like it */
    EXPECT(fx_can(a, &bob, "get", "", "metrics", "", ""), DENY, "bob get resource metrics");

    /* reasons: the binding that allowed, or the evaluation error */
    EXPECT(fx_can(a, &alice, "get", "", "pods", "ns1", "p"), ALLOW, "alice reason");
    CHECK(strcmp(fx_reason, "RBAC: allowed by RoleBinding \"alice-reads/ns1\" of Role "
                            "\"pod-reader\" to User \"alice\"") == 0);
    EXPECT(fx_can(a, &sa, "get", "", "pods/status", "ns1", "p"), ALLOW, "sa reason");
    CHECK(strcmp(fx_reason, "RBAC: allowed by ClusterRoleBinding \"builder-scales\" of "
                            "ClusterRole \"scaler\" to ServiceAccount \"builder/ns1\"") == 0);
    EXPECT(fx_can(a, &bob, "get", "", "secrets", "ns2", "one"), ALLOW, "bob reason");
    CHECK(strstr(fx_reason, "to Group \"devs\"") != NULL);
    tri_user_t erin = fx_user("erin", "system:authenticated");
    EXPECT(fx_can(a, &erin, "get", "", "pods", "ns1", "p"), DENY, "erin dangling");
    CHECK(strcmp(fx_reason, "RBAC: role.rbac.authorization.k8s.io \"missing\" not found") == 0);
    EXPECT(fx_can(a, &mallory, "get", "", "pods", "ns1", "p"), DENY, "mallory reason");
    CHECK(fx_reason[0] == '\0');

    tri_authz_free(a);
    tri_store_free(s);
}

/* Writes are honoured by the very next decision, and only the right ones. */
static void test_changes_take_effect_at_once(void)
{
    tri_store_t *s;
    tri_authz_t *a;
    CHECK_EQ(tri_store_new(NULL, &s), 0);
    populate(s);
    CHECK_EQ(tri_authz_new(s, &a), 0);
    tri_user_t mallory = fx_user("mallory", "system:authenticated");
    tri_user_t alice = fx_user("alice", "system:authenticated");
    tri_user_t carol = fx_user("carol", "system:authenticated");

    EXPECT(fx_can(a, &mallory, "create", "", "configmaps", "ns1", ""), DENY, "before binding");
    fx_put(
        s, R_CROLE, NULL, "cm-writer",
        "\"rules\":[{\"apiGroups\":[\"\"],\"resources\":[\"configmaps\"],\"verbs\":[\"create\"]}]");
    EXPECT(fx_can(a, &mallory, "create", "", "configmaps", "ns1", ""), DENY, "role alone");
    fx_put(s, R_RB, "ns1", "mallory-cm",
           REF("ClusterRole", "cm-writer") ",\"subjects\":[" SUBJ_USER("mallory") "]");
    EXPECT(fx_can(a, &mallory, "create", "", "configmaps", "ns1", ""), ALLOW, "new binding");
    EXPECT(fx_can(a, &mallory, "create", "", "configmaps", "ns2", ""), DENY, "other ns");
    fx_del(s, R_RB, "ns1", "mallory-cm");
    EXPECT(fx_can(a, &mallory, "create", "", "configmaps", "ns1", ""), DENY, "binding removed");

    /* a role edit narrows at once; deleting the role revokes */
    EXPECT(fx_can(a, &alice, "list", "", "pods", "ns1", ""), ALLOW, "alice list before");
    fx_put(s, R_ROLE, "ns1", "pod-reader",
           "\"rules\":[{\"apiGroups\":[\"\"],\"resources\":[\"pods\"],\"verbs\":[\"get\"]}]");
    EXPECT(fx_can(a, &alice, "list", "", "pods", "ns1", ""), DENY, "alice list after edit");
    EXPECT(fx_can(a, &alice, "get", "", "pods", "ns1", "p"), ALLOW, "alice get after edit");
    fx_del(s, R_ROLE, "ns1", "pod-reader");
    EXPECT(fx_can(a, &alice, "get", "", "pods", "ns1", "p"), DENY, "role deleted");
    CHECK(strstr(fx_reason, "\"pod-reader\" not found") != NULL);

    /* a subject added to an existing binding */
    fx_put(s, R_ROLE, "ns1", "pod-reader",
           "\"rules\":[{\"apiGroups\":[\"\"],\"resources\":[\"pods\"],\"verbs\":[\"get\"]}]");
    fx_put(s, R_RB, "ns1", "alice-reads",
           REF("Role",
               "pod-reader") ",\"subjects\":[" SUBJ_USER("alice") "," SUBJ_USER("mallory") "]");
    EXPECT(fx_can(a, &mallory, "get", "", "pods", "ns1", "p"), ALLOW, "subject added");

    /* aggregation follows labels as they come and go */
    EXPECT(fx_can(a, &carol, "create", "batch", "cronjobs", "ns1", ""), DENY, "no cronjobs yet");
    fx_put(s, R_CROLE, NULL, "agg-child2",
           "\"metadata\":{\"name\":\"agg-child2\",\"labels\":{\"x/aggregate-to-parent\":\"true\"}},"
           "\"rules\":[{\"apiGroups\":[\"batch\"],\"resources\":[\"cronjobs\"],\"verbs\":["
           "\"create\"]}]");
    EXPECT(fx_can(a, &carol, "create", "batch", "cronjobs", "ns1", ""), ALLOW, "child2 labelled");
    fx_put(s, R_CROLE, NULL, "agg-child2",
           "\"rules\":[{\"apiGroups\":[\"batch\"],\"resources\":[\"cronjobs\"],\"verbs\":["
           "\"create\"]}]");
    EXPECT(fx_can(a, &carol, "create", "batch", "cronjobs", "ns1", ""), DENY, "label removed");
    EXPECT(fx_can(a, &carol, "create", "batch", "jobs", "ns1", ""), ALLOW, "child1 still");

    /* writes elsewhere in the store change nothing */
    fx_put(s, &tri_res_configmaps, "ns1", "noise", "\"data\":{\"a\":\"b\"}");
    EXPECT(fx_can(a, &carol, "create", "batch", "jobs", "ns1", ""), ALLOW, "after noise");

    tri_authz_free(a);
    tri_store_free(s);
}

/* A watcher that falls behind the store's ring is rebuilt from a full read. */
static void test_lagging_watch_rebuilds(void)
{
    tri_store_opts_t opts = {.watcher_max_lag = 4, .history_events = 8};
    tri_store_t *s;
    tri_authz_t *a;
    CHECK_EQ(tri_store_new(&opts, &s), 0);
    CHECK_EQ(tri_authz_new(s, &a), 0);
    tri_user_t mallory = fx_user("mallory", "system:authenticated");
    EXPECT(fx_can(a, &mallory, "get", "", "pods", "ns1", "p"), DENY, "before");
    fx_put(s, R_CROLE, NULL, "reader",
           "\"rules\":[{\"apiGroups\":[\"\"],\"resources\":[\"pods\"],\"verbs\":[\"get\"]}]");
    for (int i = 0; i < 40; i++) {
        char name[32];
        snprintf(name, sizeof name, "cm%d", i);
        fx_put(s, &tri_res_configmaps, "ns1", name, "\"data\":{}");
    }
    fx_put(s, R_CRB, NULL, "mallory-reads",
           REF("ClusterRole", "reader") ",\"subjects\":[" SUBJ_USER("mallory") "]");
    for (int i = 0; i < 40; i++) {
        char name[32];
        snprintf(name, sizeof name, "cm%d", i);
        fx_del(s, &tri_res_configmaps, "ns1", name);
    }
    EXPECT(fx_can(a, &mallory, "get", "", "pods", "ns1", "p"), ALLOW, "after lag");
    fx_del(s, R_CRB, NULL, "mallory-reads");
    EXPECT(fx_can(a, &mallory, "get", "", "pods", "ns1", "p"), DENY, "revoked after lag");
    tri_authz_free(a);
    tri_store_free(s);
}

/* ---------- reviews ---------- */

static json_t *review(tri_authz_t *a, const char *spec, const tri_user_t *self)
{
    json_t *j = fx_json(spec);
    char err[256] = "";
    json_t *st = tri_authz_review(a, j, self, err, sizeof err);
    json_decref(j);
    if (st == NULL)
        snprintf(fx_reason, sizeof fx_reason, "%s", err);
    return st;
}

static void test_reviews(void)
{
    tri_store_t *s;
    tri_authz_t *a;
    CHECK_EQ(tri_store_new(NULL, &s), 0);
    populate(s);
    CHECK_EQ(tri_authz_new(s, &a), 0);
    json_t *st;

    st = review(a,
                "{\"user\":\"alice\",\"groups\":[\"system:authenticated\"],\"resourceAttributes\":"
                "{\"namespace\":\"ns1\",\"verb\":\"get\",\"resource\":\"pods\",\"name\":\"p\"}}",
                NULL);
    CHECK_JSON(st, "{\"allowed\":true,\"reason\":\"RBAC: allowed by RoleBinding "
                   "\\\"alice-reads/ns1\\\" of Role \\\"pod-reader\\\" to User \\\"alice\\\"\"}");
    json_decref(st);
    st = review(a,
                "{\"user\":\"alice\",\"resourceAttributes\":{\"namespace\":\"ns2\",\"verb\":"
                "\"get\",\"resource\":\"pods\"}}",
                NULL);
    CHECK_JSON(st, "{\"allowed\":false}");
    json_decref(st);
    st = review(a,
                "{\"groups\":[\"devs\"],\"nonResourceAttributes\":{\"path\":\"/metrics\","
                "\"verb\":\"get\"}}",
                NULL);
    CHECK(json_is_true(json_object_get(st, "allowed")));
    json_decref(st);
    st = review(a,
                "{\"groups\":[\"system:masters\"],\"resourceAttributes\":{\"verb\":\"delete\","
                "\"resource\":\"nodes\"}}",
                NULL);
    CHECK(json_is_true(json_object_get(st, "allowed")));
    json_decref(st);

    /* SelfSubjectAccessReview: spec.user and groups are ignored */
    tri_user_t mallory = fx_user("mallory", "system:authenticated");
    st = review(a,
                "{\"user\":\"alice\",\"groups\":[\"system:masters\"],\"resourceAttributes\":"
                "{\"namespace\":\"ns1\",\"verb\":\"get\",\"resource\":\"pods\"}}",
                &mallory);
    CHECK_JSON(st, "{\"allowed\":false}");
    json_decref(st);
    tri_user_t alice = fx_user("alice", "system:authenticated");
    st = review(a,
                "{\"resourceAttributes\":{\"namespace\":\"ns1\",\"verb\":\"list\","
                "\"resource\":\"pods\"}}",
                &alice);
    CHECK(json_is_true(json_object_get(st, "allowed")));
    json_decref(st);

    /* bad specs: NULL and a message, never a decision */
    static const struct {
        const char *spec;
        const char *msg;
    } bad[] = {
        {"{\"user\":\"a\"}", "exactly one of"},
        {"{\"user\":\"a\",\"resourceAttributes\":{},\"nonResourceAttributes\":{}}",
         "cannot be specified in combination"},
        {"{\"resourceAttributes\":{\"verb\":\"get\"}}", "at least one of user or group"},
        {"{\"user\":\"a\",\"groups\":\"x\",\"resourceAttributes\":{}}", "spec.groups"},
        {"{\"user\":\"a\",\"groups\":[1],\"resourceAttributes\":{}}", "spec.groups[0]"},
        {"{\"user\":7,\"resourceAttributes\":{}}", "spec.user"},
        {"{\"user\":\"a\",\"resourceAttributes\":{\"verb\":5}}", "spec.resourceAttributes.verb"},
        {"{\"user\":\"a\",\"resourceAttributes\":[]}", "must be an object"},
        {"[]", "spec"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        st = review(a, bad[i].spec, NULL);
        if (st != NULL || strstr(fx_reason, bad[i].msg) == NULL) {
            fprintf(stderr, "bad spec %zu (%s) gave %s / \"%s\"\n", i, bad[i].spec,
                    st ? "a status" : "NULL", fx_reason);
            exit(1);
        }
    }

    /* SelfSubjectRulesReview */
    st = tri_authz_rules_review(a, &alice, "ns1");
    CHECK_JSON(st, "{\"resourceRules\":[{\"verbs\":[\"get\",\"list\",\"watch\"],\"apiGroups\":"
                   "[\"\"],\"resources\":[\"pods\",\"pods/log\"]}],\"nonResourceRules\":[],"
                   "\"incomplete\":false}");
    json_decref(st);
    tri_user_t bob = fx_user("bob", "system:authenticated devs");
    st = tri_authz_rules_review(a, &bob, "ns2");
    CHECK_JSON(st, "{\"resourceRules\":[{\"verbs\":[\"get\"],\"apiGroups\":[\"\"],\"resources\":"
                   "[\"secrets\"],\"resourceNames\":[\"one\"]}],\"nonResourceRules\":[{\"verbs\":"
                   "[\"get\"],\"nonResourceURLs\":[\"/metrics\",\"/logs/*\"]}],"
                   "\"incomplete\":false}");
    json_decref(st);
    tri_user_t erin = fx_user("erin", "");
    st = tri_authz_rules_review(a, &erin, "ns1");
    CHECK_JSON(st, "{\"resourceRules\":[],\"nonResourceRules\":[],\"incomplete\":true,"
                   "\"evaluationError\":\"role.rbac.authorization.k8s.io \\\"missing\\\" not "
                   "found\"}");
    json_decref(st);

    tri_authz_free(a);
    tri_store_free(s);
}

/* ---------- default policy ---------- */

/* Applies a plan to the store the way the typed client would (object as given). */
static size_t apply_plan(tri_store_t *s, json_t *plan)
{
    size_t i;
    json_t *step;
    json_array_foreach(plan, i, step)
    {
        json_t *obj = json_object_get(step, "object");
        const char *res = json_string_value(json_object_get(step, "resource"));
        const char *name =
            json_string_value(json_object_get(json_object_get(obj, "metadata"), "name"));
        json_object_del(json_object_get(obj, "metadata"), "resourceVersion");
        char *text = json_dumps(obj, JSON_COMPACT);
        fx_put_raw(s, strcmp(res, "clusterroles") == 0 ? R_CROLE : R_CRB, NULL, name, text);
        free(text);
    }
    return json_array_size(plan);
}

static json_t *find_step(json_t *plan, const char *op, const char *name)
{
    size_t i;
    json_t *step;
    json_array_foreach(plan, i, step)
    {
        const json_t *meta = json_object_get(json_object_get(step, "object"), "metadata");
        if (strcmp(json_string_value(json_object_get(step, "op")), op) == 0 &&
            strcmp(json_string_value(json_object_get(meta, "name")), name) == 0)
            return step;
    }
    return NULL;
}

static void test_default_policy(void)
{
    tri_store_t *s;
    tri_authz_t *a;
    CHECK_EQ(tri_store_new(NULL, &s), 0);
    CHECK_EQ(tri_authz_new(s, &a), 0);

    json_t *plan = tri_authz_defaults_plan(a, s);
    json_t *roles = tri_authz_default_clusterroles();
    json_t *bindings = tri_authz_default_clusterrolebindings();
    CHECK_EQ(json_array_size(plan), json_array_size(roles) + json_array_size(bindings));
    CHECK(find_step(plan, "create", "cluster-admin") != NULL);
    CHECK(find_step(plan, "create", "system:node") != NULL);
    CHECK(find_step(plan, "create",
                    "system:certificates.k8s.io:certificatesigningrequests:"
                    "selfnodeclient") != NULL);
    const json_t *meta =
        json_object_get(json_object_get(find_step(plan, "create", "view"), "object"), "metadata");
    CHECK_JSON(json_object_get(meta, "labels"),
               "{\"kubernetes.io/bootstrapping\":\"rbac-defaults\","
               "\"rbac.authorization.k8s.io/aggregate-to-edit\":\"true\"}");
    CHECK_JSON(json_object_get(meta, "annotations"),
               "{\"rbac.authorization.kubernetes.io/autoupdate\":\"true\"}");
    apply_plan(s, plan);
    json_decref(plan);

    /* second round: only the aggregated roles' computed rules are written back */
    plan = tri_authz_defaults_plan(a, s);
    CHECK_EQ(json_array_size(plan), 3);
    CHECK(find_step(plan, "update", "admin") && find_step(plan, "update", "edit") &&
          find_step(plan, "update", "view"));
    apply_plan(s, plan);
    json_decref(plan);
    plan = tri_authz_defaults_plan(a, s);
    CHECK_EQ(json_array_size(plan), 0);
    json_decref(plan);

    /* what the defaults allow */
    tri_user_t anon = fx_user("system:anonymous", "system:unauthenticated");
    tri_user_t alice = fx_user("alice", "system:authenticated");
    EXPECT(fx_can_url(a, &anon, "get", "/version"), ALLOW, "anonymous /version");
    EXPECT(fx_can_url(a, &anon, "get", "/readyz"), ALLOW, "anonymous /readyz");
    EXPECT(fx_can_url(a, &anon, "get", "/api"), DENY, "anonymous /api");
    EXPECT(fx_can_url(a, &alice, "get", "/apis/apps/v1"), ALLOW, "alice discovery");
    EXPECT(fx_can_url(a, &alice, "get", "/metrics"), DENY, "alice /metrics");
    EXPECT(fx_can(a, &alice, "create", "authorization.k8s.io", "selfsubjectaccessreviews", "", ""),
           ALLOW, "alice SSAR");
    EXPECT(fx_can(a, &alice, "create", "authorization.k8s.io", "subjectaccessreviews", "", ""),
           DENY, "alice SAR");
    EXPECT(fx_can(a, &alice, "get", "", "pods", "default", "p"), DENY, "alice pods");
    tri_user_t proxy = fx_user("system:kube-proxy", "system:authenticated");
    EXPECT(fx_can(a, &proxy, "watch", "discovery.k8s.io", "endpointslices", "", ""), ALLOW,
           "kube-proxy endpointslices");
    EXPECT(fx_can(a, &proxy, "get", "", "secrets", "default", "x"), DENY, "kube-proxy secrets");
    tri_user_t boot =
        fx_user("system:bootstrap:abcdef", "system:bootstrappers system:authenticated");
    EXPECT(fx_can(a, &boot, "create", "certificates.k8s.io", "certificatesigningrequests", "", ""),
           ALLOW, "bootstrapper CSR");
    EXPECT(fx_can(a, &boot, "create", "certificates.k8s.io",
                  "certificatesigningrequests/nodeclient", "", ""),
           ALLOW, "bootstrapper nodeclient");
    EXPECT(fx_can(a, &boot, "get", "", "nodes", "", "n"), DENY, "bootstrapper nodes");

    /* view / edit / admin through RoleBindings: aggregated, transitively */
    fx_put(s, R_RB, "team", "v", REF("ClusterRole", "view") ",\"subjects\":[" SUBJ_USER("vic") "]");
    fx_put(s, R_RB, "team", "e", REF("ClusterRole", "edit") ",\"subjects\":[" SUBJ_USER("ed") "]");
    fx_put(s, R_RB, "team", "a",
           REF("ClusterRole", "admin") ",\"subjects\":[" SUBJ_USER("ada") "]");
    tri_user_t vic = fx_user("vic", "system:authenticated");
    tri_user_t ed = fx_user("ed", "system:authenticated");
    tri_user_t ada = fx_user("ada", "system:authenticated");
    const row_t rows[] = {
        {&vic, "list", "", "pods", "team", "", ALLOW},
        {&vic, "get", "", "pods/log", "team", "p", ALLOW},
        {&vic, "get", "apps", "deployments/scale", "team", "d", ALLOW},
        {&vic, "get", "", "secrets", "team", "s", DENY},
        {&vic, "create", "", "pods", "team", "", DENY},
        {&vic, "list", "", "pods", "other", "", DENY},
        {&ed, "create", "apps", "deployments", "team", "", ALLOW},
        {&ed, "get", "", "secrets", "team", "s", ALLOW},
        {&ed, "create", "", "pods/exec", "team", "p", ALLOW},
        {&ed, "list", "", "pods", "team", "", ALLOW}, /* edit includes view */
        {&ed, "create", "rbac.authorization.k8s.io", "rolebindings", "team", "", DENY},
        {&ada, "create", "rbac.authorization.k8s.io", "rolebindings", "team", "", ALLOW},
        {&ada, "delete", "apps", "deployments", "team", "d", ALLOW}, /* admin includes edit */
        {&ada, "watch", "batch", "jobs", "team", "", ALLOW},         /* ... and view */
        {&ada, "create", "", "namespaces", "", "", DENY},
        {&ada, "delete", "", "nodes", "", "n", DENY},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        const row_t *r = &rows[i];
        char what[512];
        snprintf(what, sizeof what, "default row %zu: %s %s %s/%s in \"%s\"", i, r->u->name,
                 r->verb, r->group, r->resource, r->ns);
        EXPECT(fx_can(a, r->u, r->verb, r->group, r->resource, r->ns, r->name), r->want, what);
    }

    /* reconcile: a rule taken out of an autoupdate role comes back, an operator's
     * extra rule stays; autoupdate=false is left alone; a deleted default returns */
    fx_put(s, R_CROLE, NULL, "system:basic-user",
           "\"metadata\":{\"name\":\"system:basic-user\",\"annotations\":{"
           "\"rbac.authorization.kubernetes.io/autoupdate\":\"true\"}},"
           "\"rules\":[{\"apiGroups\":[\"authorization.k8s.io\"],\"resources\":"
           "[\"selfsubjectaccessreviews\"],\"verbs\":[\"create\"]},"
           "{\"apiGroups\":[\"\"],\"resources\":[\"configmaps\"],\"verbs\":[\"get\"]}]");
    fx_put(s, R_CROLE, NULL, "system:discovery",
           "\"metadata\":{\"name\":\"system:discovery\",\"annotations\":{"
           "\"rbac.authorization.kubernetes.io/autoupdate\":\"false\"}},"
           "\"rules\":[{\"nonResourceURLs\":[\"/version\"],\"verbs\":[\"get\"]}]");
    fx_del(s, R_CRB, NULL, "cluster-admin");
    plan = tri_authz_defaults_plan(a, s);
    CHECK_EQ(json_array_size(plan), 2);
    json_t *step = find_step(plan, "update", "system:basic-user");
    CHECK(step != NULL);
    json_t *rules = json_object_get(json_object_get(step, "object"), "rules");
    CHECK_EQ(json_array_size(rules),
             4); /* kept 2, added selfsubjectrulesreviews and selfsubjectreviews */
    CHECK_JSON(json_array_get(rules, 1), "{\"apiGroups\":[\"\"],\"resources\":[\"configmaps\"],"
                                         "\"verbs\":[\"get\"]}");
    CHECK(
        json_object_get(
            json_object_get(json_object_get(json_object_get(step, "object"), "metadata"), "labels"),
            "kubernetes.io/bootstrapping") != NULL);
    CHECK(json_object_get(json_object_get(json_object_get(step, "object"), "metadata"),
                          "resourceVersion") != NULL);
    CHECK(find_step(plan, "create", "cluster-admin") != NULL);
    apply_plan(s, plan);
    json_decref(plan);
    plan = tri_authz_defaults_plan(a, s);
    CHECK_EQ(json_array_size(plan), 0);
    json_decref(plan);
    EXPECT(fx_can_url(a, &alice, "get", "/apis"), DENY, "discovery narrowed by its owner");

    /* a binding keeps its own subjects and regains the default ones */
    fx_put(s, R_CRB, NULL, "system:node-proxier",
           REF("ClusterRole", "system:node-proxier") ",\"subjects\":[" SUBJ_USER("my-proxy") "]");
    plan = tri_authz_defaults_plan(a, s);
    CHECK_EQ(json_array_size(plan), 1);
    CHECK_JSON(json_object_get(json_object_get(json_array_get(plan, 0), "object"), "subjects"),
               "[" SUBJ_USER("my-proxy") "," SUBJ_USER("system:kube-proxy") "]");
    json_decref(plan);

    /* an aggregated role of the user's own gets its rules written back too */
    fx_put(s, R_CROLE, NULL, "mine",
           "\"aggregationRule\":{\"clusterRoleSelectors\":[{\"matchLabels\":"
           "{\"rbac.authorization.k8s.io/aggregate-to-view\":\"true\"}}]}");
    plan = tri_authz_defaults_plan(a, s);
    step = find_step(plan, "update", "mine");
    CHECK(step != NULL);
    CHECK(json_array_size(json_object_get(json_object_get(step, "object"), "rules")) > 5);
    json_decref(plan);

    json_decref(roles);
    json_decref(bindings);
    tri_authz_free(a);
    tri_store_free(s);
}

int main(void)
{
    test_matrix();
    test_changes_take_effect_at_once();
    test_lagging_watch_rebuilds();
    test_reviews();
    test_default_policy();
    printf("ok\n");
    return 0;
}
