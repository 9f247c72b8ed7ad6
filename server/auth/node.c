/* The Node authorizer (Kubernetes' plugin/pkg/auth/authorizer/node, with the
 * intent of the system:node role and NodeRestriction admission): what an agent
 * authenticated as system:node:NAME (group system:nodes) may do.
 *
 *   nodes                get/list/watch any; create; get/update/patch only its own
 *                        Node and nodes/status
 *   leases               get/create/update/patch/delete/watch kube-node-lease/NAME
 *   pods                 get/list/watch any; create (mirror pods: admission checks
 *                        they are bound to it); delete, status get/update/patch,
 *                        eviction only of pods bound to it
 *   secrets, configmaps  get/list/watch by name, only when a pod bound to it uses
 *                        them (volumes, projected sources, env, envFrom,
 *                        imagePullSecrets)
 *   persistentvolumeclaims  get (and status update/patch) of claims its pods mount
 *   persistentvolumes    get of the volume such a claim is bound to (the PV's
 *                        claimRef names the claim, whose spec.volumeName names it)
 *   serviceaccounts/token  create for the accounts its pods run as
 *   events               create/patch/update, any namespace (core and events.k8s.io)
 *   certificatesigningrequests  create/get/list/watch
 *   services, endpoints, endpointslices  get/list/watch (its proxy)
 *
 * Requests about the kinds above that are not allowed get a decisive DENY
 * ("nothing of other nodes"), so no RBAC binding can widen a node's reach; any
 * other request gets NO_OPINION and RBAC decides (discovery, access reviews).
 *
 * The graph: for every pod with spec.nodeName, the edges node -> pod and node ->
 * each secret, configmap, claim and service account the pod uses, counted (two
 * pods may use one secret). Built from the store on the first node request, then
 * kept by a watch on pods drained before each node decision: a pod's edges are
 * remembered per pod, so an update costs one parse of the new pod and a delete
 * none. A watcher that fell out of the store's ring rebuilds from a full list.
 */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../api/resources.h"
#include "authz_internal.h"
#include "triarch/errors.h"
#include "triarch/log.h"

#define EDGE_MAX 1024

typedef struct pod_edges {
    char **v;
    size_t n, cap;
} pod_edges_t;

struct node_authz {
    tri_store_t *store;
    tri_buf_t pods_prefix;
    tri_watch_t *w;
    bool loaded;
    bool dirty;
    int64_t seen_rev;
    strmap_t pods;  /* pod store key -> pod_edges_t */
    strmap_t edges; /* "node\x1fkind\x1fns\x1fname" -> count (as a pointer) */
    json_t *rules_json;
    rbac_rule_t *rules;
    size_t n_rules;
};

/* Requests a node makes about objects that are not its own and not subdivided by
 * the graph: allowed for every node (the node rules of system:node). */
static const char node_rules[] =
    "[{\"apiGroups\":[\"\",\"events.k8s.io\"],\"resources\":[\"events\"],"
    "\"verbs\":[\"create\",\"patch\",\"update\"]},"
    "{\"apiGroups\":[\"\"],\"resources\":[\"services\",\"endpoints\"],"
    "\"verbs\":[\"get\",\"list\",\"watch\"]},"
    "{\"apiGroups\":[\"discovery.k8s.io\"],\"resources\":[\"endpointslices\"],"
    "\"verbs\":[\"get\",\"list\",\"watch\"]},"
    "{\"apiGroups\":[\"certificates.k8s.io\"],\"resources\":[\"certificatesigningrequests\"],"
    "\"verbs\":[\"create\",\"get\",\"list\",\"watch\"]},"
    "{\"apiGroups\":[\"authentication.k8s.io\"],\"resources\":[\"tokenreviews\"],"
    "\"verbs\":[\"create\"]},"
    "{\"apiGroups\":[\"authorization.k8s.io\"],"
    "\"resources\":[\"subjectaccessreviews\",\"localsubjectaccessreviews\"],"
    "\"verbs\":[\"create\"]}]";

bool node_identity(const tri_user_t *u, const char **name)
{
    if (strncmp(u->name, NODE_USER_PREFIX, strlen(NODE_USER_PREFIX)) != 0 ||
        !tri_user_in_group(u, NODES_GROUP))
        return false;
    *name = u->name + strlen(NODE_USER_PREFIX);
    return true;
}

/* ---------- a pod's edges ---------- */

static void edges_free(void *p)
{
    pod_edges_t *e = p;
    for (size_t i = 0; i < e->n; i++)
        free(e->v[i]);
    free(e->v);
    free(e);
}

static void edge_add(pod_edges_t *e, const char *node, const char *kind, const char *ns,
                     const char *name)
{
    char key[EDGE_MAX];
    if (name == NULL || name[0] == '\0')
        return;
    int n = snprintf(key, sizeof key, "%s\x1f%s\x1f%s\x1f%s", node, kind, ns, name);
    if (n < 0 || (size_t)n >= sizeof key)
        return;
    for (size_t i = 0; i < e->n; i++)
        if (strcmp(e->v[i], key) == 0)
            return;
    if (e->n == e->cap) {
        size_t nc = e->cap ? e->cap * 2 : 8;
        char **v = realloc(e->v, nc * sizeof *v);
        if (v == NULL)
            return;
        e->v = v;
        e->cap = nc;
    }
    if ((e->v[e->n] = strdup(key)) != NULL)
        e->n++;
}

static const char *name_at(const json_t *o, const char *a, const char *b)
{
    return jstr(json_object_get(o, a), b);
}

/* Volume plugins that carry a secretRef {name} (podutil.VisitPodSecretNames). */
static const char *const secret_ref_plugins[] = {"cephfs",  "cinder", "flexVolume", "rbd",
                                                 "scaleIO", "iscsi",  "storageos",  NULL};

static void volume_edges(pod_edges_t *e, const char *node, const char *ns, const char *pod,
                         const json_t *vol)
{
    edge_add(e, node, "secret", ns, name_at(vol, "secret", "secretName"));
    edge_add(e, node, "configmap", ns, name_at(vol, "configMap", "name"));
    edge_add(e, node, "pvc", ns, name_at(vol, "persistentVolumeClaim", "claimName"));
    edge_add(e, node, "secret", ns, name_at(vol, "azureFile", "secretName"));
    edge_add(e, node, "secret", ns,
             name_at(json_object_get(vol, "csi"), "nodePublishSecretRef", "name"));
    for (size_t i = 0; secret_ref_plugins[i]; i++)
        edge_add(e, node, "secret", ns,
                 name_at(json_object_get(vol, secret_ref_plugins[i]), "secretRef", "name"));
    if (json_is_object(json_object_get(vol, "ephemeral"))) {
        char claim[512]; /* generic ephemeral volume: the claim is <pod>-<volume> */
        snprintf(claim, sizeof claim, "%s-%s", pod, jstr_or(vol, "name", ""));
        edge_add(e, node, "pvc", ns, claim);
    }
    size_t i;
    json_t *src;
    json_array_foreach(json_object_get(json_object_get(vol, "projected"), "sources"), i, src)
    {
        edge_add(e, node, "secret", ns, name_at(src, "secret", "name"));
        edge_add(e, node, "configmap", ns, name_at(src, "configMap", "name"));
    }
}

static void container_edges(pod_edges_t *e, const char *node, const char *ns, const json_t *c)
{
    size_t i;
    json_t *x;
    json_array_foreach(json_object_get(c, "envFrom"), i, x)
    {
        edge_add(e, node, "configmap", ns, name_at(x, "configMapRef", "name"));
        edge_add(e, node, "secret", ns, name_at(x, "secretRef", "name"));
    }
    json_array_foreach(json_object_get(c, "env"), i, x)
    {
        const json_t *from = json_object_get(x, "valueFrom");
        edge_add(e, node, "configmap", ns, name_at(from, "configMapKeyRef", "name"));
        edge_add(e, node, "secret", ns, name_at(from, "secretKeyRef", "name"));
    }
}

/* The edges pod contributes (NULL when it is bound to no node). */
static pod_edges_t *pod_edges(const json_t *pod)
{
    static const char *const lists[] = {"containers", "initContainers", "ephemeralContainers"};
    const json_t *meta = json_object_get(pod, "metadata");
    const json_t *spec = json_object_get(pod, "spec");
    const char *node = jstr_or(spec, "nodeName", "");
    const char *ns = jstr_or(meta, "namespace", "");
    const char *name = jstr_or(meta, "name", "");
    if (node[0] == '\0')
        return NULL;
    pod_edges_t *e = calloc(1, sizeof *e);
    if (e == NULL)
        return NULL;
    edge_add(e, node, "pod", ns, name);
    const char *sa = jstr(spec, "serviceAccountName");
    edge_add(e, node, "sa", ns, sa && sa[0] ? sa : jstr(spec, "serviceAccount"));
    size_t i;
    json_t *x;
    json_array_foreach(json_object_get(spec, "volumes"), i, x) volume_edges(e, node, ns, name, x);
    json_array_foreach(json_object_get(spec, "imagePullSecrets"), i, x)
        edge_add(e, node, "secret", ns, jstr(x, "name"));
    for (size_t l = 0; l < sizeof lists / sizeof lists[0]; l++)
        json_array_foreach(json_object_get(spec, lists[l]), i, x) container_edges(e, node, ns, x);
    return e;
}

/* ---------- the graph ---------- */

static void edges_count(node_authz_t *n, const pod_edges_t *e, int delta)
{
    for (size_t i = 0; e != NULL && i < e->n; i++) {
        uintptr_t c = (uintptr_t)strmap_get(&n->edges, e->v[i]);
        c = delta > 0 ? c + 1 : c - 1;
        if (c == 0)
            strmap_del(&n->edges, e->v[i]);
        else
            strmap_put(&n->edges, e->v[i], (void *)c);
    }
}

static void pod_apply(node_authz_t *n, const char *key, const tri_val_t *val)
{
    pod_edges_t *old = strmap_del(&n->pods, key);
    edges_count(n, old, -1);
    if (old != NULL)
        edges_free(old);
    if (val == NULL)
        return;
    json_t *pod = jload_val(val);
    pod_edges_t *e = pod ? pod_edges(pod) : NULL;
    json_decref(pod);
    if (e == NULL)
        return;
    if (strmap_put(&n->pods, key, e) != 0) {
        edges_free(e);
        return;
    }
    edges_count(n, e, +1);
}

static void on_watch(tri_watch_t *w, void *data)
{
    ((node_authz_t *)data)->dirty = true;
}

static void graph_reload(node_authz_t *n)
{
    if (n->w != NULL)
        tri_watch_stop(n->w);
    n->w = NULL;
    strmap_clear(&n->pods, edges_free);
    strmap_clear(&n->edges, NULL);
    char end[512];
    size_t end_len = tri_prefix_end(n->pods_prefix.data, n->pods_prefix.len, end);
    int64_t rev = tri_store_revision(n->store);
    tri_kvs_t kvs = {0};
    bool more = false;
    if (tri_store_range(n->store, n->pods_prefix.data, n->pods_prefix.len, end, end_len, 0, 0, &kvs,
                        &more) == 0)
        for (size_t i = 0; i < kvs.n; i++)
            pod_apply(n, kvs.items[i].key, kvs.items[i].val);
    tri_kvs_free(&kvs);
    n->dirty = tri_store_watch(n->store, n->pods_prefix.data, n->pods_prefix.len, end, end_len, rev,
                               on_watch, n, &n->w) != 0;
    if (n->dirty)
        n->w = NULL;
    n->seen_rev = rev;
    n->loaded = true;
}

static void graph_sync(node_authz_t *n)
{
    if (!n->loaded || n->w == NULL) {
        graph_reload(n);
        return;
    }
    if (!n->dirty && tri_store_revision(n->store) == n->seen_rev)
        return;
    n->dirty = false;
    tri_event_t ev;
    int rc;
    while ((rc = tri_watch_next(n->w, &ev)) == 1)
        pod_apply(n, ev.key->data, ev.kind == TRI_EV_PUT ? ev.val : NULL);
    if (rc < 0) {
        graph_reload(n);
        return;
    }
    n->seen_rev = tri_store_revision(n->store);
}

static bool has_edge(node_authz_t *n, const char *node, const char *kind, const char *ns,
                     const char *name)
{
    char key[EDGE_MAX];
    int len = snprintf(key, sizeof key, "%s\x1f%s\x1f%s\x1f%s", node, kind, ns, name);
    return len > 0 && (size_t)len < sizeof key && strmap_get(&n->edges, key) != NULL;
}

static json_t *store_object(node_authz_t *n, const tri_resource_t *r, const char *ns,
                            const char *name)
{
    tri_buf_t key = {0};
    tri_registry_key(r, ns, name, &key);
    tri_kv_t kv;
    json_t *obj = NULL;
    if (key.data != NULL && tri_store_get(n->store, key.data, key.len, 0, &kv) == 0) {
        obj = jload_val(kv.val);
        tri_kv_release(&kv);
    }
    tri_buf_free(&key);
    return obj;
}

/* node <- pod <- pvc <- pv: the PV's claimRef names a claim that is bound to it
 * (spec.volumeName) and used by a pod of this node. */
static bool pv_related(node_authz_t *n, const char *node, const char *pv)
{
    json_t *vol = store_object(n, &tri_res_persistentvolumes, NULL, pv);
    const json_t *ref = json_object_get(json_object_get(vol, "spec"), "claimRef");
    const char *ns = jstr_or(ref, "namespace", ""), *claim = jstr_or(ref, "name", "");
    bool ok = false;
    if (claim[0] && has_edge(n, node, "pvc", ns, claim)) {
        json_t *pvc = store_object(n, &tri_res_persistentvolumeclaims, ns, claim);
        const char *bound = jstr(json_object_get(pvc, "spec"), "volumeName");
        ok = bound != NULL && strcmp(bound, pv) == 0;
        json_decref(pvc);
    }
    json_decref(vol);
    return ok;
}

/* ---------- decisions ---------- */

static bool verb_in(const char *verb, const char *const *verbs)
{
    for (size_t i = 0; verbs[i]; i++)
        if (strcmp(verb, verbs[i]) == 0)
            return true;
    return false;
}

static enum tri_authz_decision deny(char *reason, size_t len, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static enum tri_authz_decision deny(char *reason, size_t len, const char *fmt, ...)
{
    if (len) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(reason, len, fmt, ap);
        va_end(ap);
    }
    return TRI_AUTHZ_DENY;
}

static enum tri_authz_decision allow(char *reason, size_t len)
{
    if (len)
        reason[0] = '\0';
    return TRI_AUTHZ_ALLOW;
}

#define NO_RELATION                                                                                \
    "node '%s' cannot %s %s %s, no relationship to this object was found in the node "             \
    "authorizer graph"

/* Objects reached through the graph: secrets, configmaps, claims, tokens. */
static enum tri_authz_decision graph_object(node_authz_t *n, const char *node,
                                            const tri_authz_attrs_t *a, const char *kind,
                                            const char *what, char *reason, size_t len)
{
    char obj[600];
    if (a->namespace_[0] == '\0' || a->name[0] == '\0')
        return deny(reason, len, "node '%s' can only %s individual %s, by namespace and name", node,
                    a->verb, what);
    snprintf(obj, sizeof obj, "%s/%s", a->namespace_, a->name);
    if (!has_edge(n, node, kind, a->namespace_, a->name))
        return deny(reason, len, NO_RELATION, node, a->verb, what, obj);
    return allow(reason, len);
}

static enum tri_authz_decision decide_nodes(const char *node, const tri_authz_attrs_t *a,
                                            char *reason, size_t len)
{
    static const char *const read[] = {"get", "list", "watch", NULL};
    static const char *const write[] = {"update", "patch", NULL};
    static const char *const status[] = {"get", "update", "patch", NULL};
    const char *sub = a->subresource;
    if (sub[0] == '\0' && (verb_in(a->verb, read) || strcmp(a->verb, "create") == 0))
        return allow(reason, len);
    bool own = strcmp(a->name, node) == 0;
    if ((sub[0] == '\0' && verb_in(a->verb, write)) ||
        (strcmp(sub, "status") == 0 && verb_in(a->verb, status))) {
        if (own)
            return allow(reason, len);
        return deny(reason, len, "node '%s' cannot %s node '%s'%s, only its own Node object", node,
                    a->verb, a->name, sub[0] ? " status" : "");
    }
    return deny(reason, len, "node '%s' cannot %s nodes%s%s", node, a->verb, sub[0] ? "/" : "",
                sub);
}

static enum tri_authz_decision decide_leases(const char *node, const tri_authz_attrs_t *a,
                                             char *reason, size_t len)
{
    static const char *const verbs[] = {"get",    "create", "update", "patch",
                                        "delete", "watch",  NULL};
    if (!verb_in(a->verb, verbs) || a->subresource[0])
        return deny(reason, len,
                    "node '%s' can only get, create, update, patch, delete or watch a node "
                    "lease",
                    node);
    if (strcmp(a->namespace_, NODE_LEASE_NAMESPACE) != 0)
        return deny(reason, len, "node '%s' can only access leases in the \"%s\" namespace", node,
                    NODE_LEASE_NAMESPACE);
    /* create may come without a name (POST to the collection); NodeRestriction
     * admission checks the body's name then */
    bool nameless_create = strcmp(a->verb, "create") == 0 && a->name[0] == '\0';
    if (!nameless_create && strcmp(a->name, node) != 0)
        return deny(reason, len,
                    "node '%s' can only access the node lease with its own name, not '%s'", node,
                    a->name);
    return allow(reason, len);
}

static enum tri_authz_decision decide_pods(node_authz_t *n, const char *node,
                                           const tri_authz_attrs_t *a, char *reason, size_t len)
{
    static const char *const read[] = {"get", "list", "watch", NULL};
    static const char *const status[] = {"get", "update", "patch", NULL};
    const char *sub = a->subresource;
    if (sub[0] == '\0' && (verb_in(a->verb, read) || strcmp(a->verb, "create") == 0))
        return allow(reason, len); /* create: mirror pods, NodeRestriction checks them */
    bool bound_op = (sub[0] == '\0' && strcmp(a->verb, "delete") == 0) ||
                    (strcmp(sub, "status") == 0 && verb_in(a->verb, status)) ||
                    (strcmp(sub, "eviction") == 0 && strcmp(a->verb, "create") == 0);
    if (!bound_op)
        return deny(reason, len, "node '%s' cannot %s pods%s%s", node, a->verb, sub[0] ? "/" : "",
                    sub);
    return graph_object(n, node, a, "pod",
                        sub[0] ? (sub[0] == 's' ? "pods/status" : "pods/eviction") : "pod", reason,
                        len);
}

static enum tri_authz_decision decide_core(node_authz_t *n, const char *node,
                                           const tri_authz_attrs_t *a, char *reason, size_t len,
                                           bool *decided)
{
    static const char *const read[] = {"get", "list", "watch", NULL};
    static const char *const status_write[] = {"update", "patch", NULL};
    const char *res = a->resource, *sub = a->subresource;
    *decided = true;
    if (strcmp(res, "nodes") == 0)
        return decide_nodes(node, a, reason, len);
    if (strcmp(res, "pods") == 0)
        return decide_pods(n, node, a, reason, len);
    bool secret = strcmp(res, "secrets") == 0, cm = strcmp(res, "configmaps") == 0;
    if (secret || cm) {
        if (!verb_in(a->verb, read) || sub[0])
            return deny(reason, len, "node '%s' can only read individual %s", node, res);
        return graph_object(n, node, a, secret ? "secret" : "configmap",
                            secret ? "secret" : "configmap", reason, len);
    }
    if (strcmp(res, "persistentvolumeclaims") == 0) {
        bool ok = (sub[0] == '\0' && strcmp(a->verb, "get") == 0) ||
                  (strcmp(sub, "status") == 0 && verb_in(a->verb, status_write));
        if (!ok)
            return deny(reason, len,
                        "node '%s' can only get persistentvolumeclaims (and update their status)",
                        node);
        return graph_object(n, node, a, "pvc", "persistentvolumeclaim", reason, len);
    }
    if (strcmp(res, "persistentvolumes") == 0) {
        if (strcmp(a->verb, "get") != 0 || sub[0] || a->name[0] == '\0')
            return deny(reason, len, "node '%s' can only get individual persistentvolumes", node);
        if (!pv_related(n, node, a->name))
            return deny(reason, len, NO_RELATION, node, "get", "persistentvolume", a->name);
        return allow(reason, len);
    }
    if (strcmp(res, "serviceaccounts") == 0) {
        if (strcmp(a->verb, "create") != 0 || strcmp(sub, "token") != 0)
            return deny(reason, len,
                        "node '%s' can only create tokens for individual service accounts", node);
        return graph_object(n, node, a, "sa", "serviceaccount token", reason, len);
    }
    *decided = false;
    return TRI_AUTHZ_NO_OPINION;
}

enum tri_authz_decision node_authorize(node_authz_t *n, const char *node,
                                       const tri_authz_attrs_t *a, char *reason, size_t len)
{
    if (len)
        reason[0] = '\0';
    if (node[0] == '\0')
        return deny(reason, len, "unknown node for user \"%s\"", a->user->name);
    if (!a->resource_request)
        return TRI_AUTHZ_NO_OPINION;
    graph_sync(n);
    bool decided = false;
    enum tri_authz_decision d = TRI_AUTHZ_NO_OPINION;
    if (a->api_group[0] == '\0')
        d = decide_core(n, node, a, reason, len, &decided);
    else if (strcmp(a->api_group, "coordination.k8s.io") == 0 && strcmp(a->resource, "leases") == 0)
        return decide_leases(node, a, reason, len);
    if (decided)
        return d;
    for (size_t i = 0; i < n->n_rules; i++)
        if (rbac_rule_allows(&n->rules[i], a))
            return allow(reason, len);
    return TRI_AUTHZ_NO_OPINION;
}

/* ---------- lifecycle ---------- */

int node_authz_new(tri_store_t *store, node_authz_t **out)
{
    node_authz_t *n = calloc(1, sizeof *n);
    if (n == NULL)
        return TRI_ENOMEM;
    n->store = store;
    tri_registry_prefix(&tri_res_pods, NULL, &n->pods_prefix);
    n->rules_json = json_loads(node_rules, 0, NULL);
    size_t count = json_array_size(n->rules_json);
    n->rules = calloc(count ? count : 1, sizeof *n->rules);
    if (n->pods_prefix.data == NULL || n->rules_json == NULL || n->rules == NULL) {
        node_authz_free(n);
        return TRI_ENOMEM;
    }
    for (size_t i = 0; i < count; i++) {
        if (rbac_rule_compile(json_array_get(n->rules_json, i), &n->rules[i]) != 0) {
            node_authz_free(n);
            return TRI_ENOMEM;
        }
        n->n_rules++;
    }
    *out = n;
    return 0;
}

void node_authz_free(node_authz_t *n)
{
    if (n == NULL)
        return;
    if (n->w != NULL)
        tri_watch_stop(n->w);
    strmap_clear(&n->pods, edges_free);
    strmap_clear(&n->edges, NULL);
    for (size_t i = 0; i < n->n_rules; i++)
        rbac_rule_free(&n->rules[i]);
    free(n->rules);
    json_decref(n->rules_json);
    tri_buf_free(&n->pods_prefix);
    free(n);
}
