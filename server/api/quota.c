/* ResourceQuota accounting (see include/triarch/quota.h): ResourceLists, the
 * per-kind evaluators (pods, services, persistentvolumeclaims, object counts),
 * scopes, and the usage of a namespace read from the local store.
 *
 * The evaluators follow Kubernetes' (pkg/quota/v1/evaluator/core and
 * pkg/api/v1/resource's PodRequests/PodLimits), so admission and the
 * controller agree with each other and with what a Kubernetes user expects.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "jsonutil.h"
#include "resources.h"
#include "triarch/errors.h"
#include "triarch/quota.h"

#define STORAGE_CLASS_SUFFIX ".storageclass.storage.k8s.io/"

/* ---------- ResourceLists ---------- */

static tri_rlist_item_t *find(const tri_rlist_t *l, const char *name)
{
    for (size_t i = 0; i < l->n; i++)
        if (strcmp(l->items[i].name, name) == 0)
            return &l->items[i];
    return NULL;
}

static tri_rlist_item_t *entry(tri_rlist_t *l, const char *name)
{
    tri_rlist_item_t *it = find(l, name);
    if (it != NULL)
        return it;
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 8;
        tri_rlist_item_t *items = realloc(l->items, cap * sizeof *items);
        if (items == NULL)
            return NULL;
        l->items = items;
        l->cap = cap;
    }
    char *copy = strdup(name);
    if (copy == NULL)
        return NULL;
    it = &l->items[l->n++];
    it->name = copy;
    it->q = tri_quantity_from_int(0);
    return it;
}

int tri_rlist_add(tri_rlist_t *l, const char *name, const tri_quantity_t *q)
{
    tri_rlist_item_t *it = entry(l, name);
    return it ? tri_quantity_add(&it->q, q) : TRI_ENOMEM;
}

int tri_rlist_set(tri_rlist_t *l, const char *name, const tri_quantity_t *q)
{
    tri_rlist_item_t *it = entry(l, name);
    if (it == NULL)
        return TRI_ENOMEM;
    it->q = *q;
    return 0;
}

const tri_quantity_t *tri_rlist_get(const tri_rlist_t *l, const char *name)
{
    tri_rlist_item_t *it = find(l, name);
    return it ? &it->q : NULL;
}

int tri_rlist_from_json(tri_rlist_t *l, const json_t *obj)
{
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)obj, k, v)
    {
        tri_quantity_t q;
        if (tri_quantity_from_json(v, &q) != 0)
            continue;
        int rc = tri_rlist_set(l, k, &q);
        if (rc != 0)
            return rc;
    }
    return 0;
}

json_t *tri_rlist_json(const tri_rlist_t *l)
{
    json_t *o = json_object();
    for (size_t i = 0; o && i < l->n; i++)
        json_object_set_new(o, l->items[i].name, tri_quantity_json(&l->items[i].q));
    return o;
}

void tri_rlist_free(tri_rlist_t *l)
{
    for (size_t i = 0; i < l->n; i++)
        free(l->items[i].name);
    free(l->items);
    memset(l, 0, sizeof *l);
}

/* dst[k] = max(dst[k], src[k]) for every k of src (maxResourceList). */
static int rlist_max(tri_rlist_t *dst, const tri_rlist_t *src)
{
    for (size_t i = 0; i < src->n; i++) {
        const tri_quantity_t *cur = tri_rlist_get(dst, src->items[i].name);
        if (cur != NULL && tri_quantity_cmp(cur, &src->items[i].q) >= 0)
            continue;
        int rc = tri_rlist_set(dst, src->items[i].name, &src->items[i].q);
        if (rc != 0)
            return rc;
    }
    return 0;
}

static int rlist_add_all(tri_rlist_t *dst, const tri_rlist_t *src)
{
    for (size_t i = 0; i < src->n; i++) {
        int rc = tri_rlist_add(dst, src->items[i].name, &src->items[i].q);
        if (rc != 0)
            return rc;
    }
    return 0;
}

/* ---------- small readers ---------- */

static bool is_resource(const tri_resource_t *r, const char *group, const char *plural)
{
    const tri_resource_t *s = r->storage ? r->storage : r;
    return strcmp(s->group, group) == 0 && strcmp(s->plural, plural) == 0;
}

static bool has_prefix(const char *s, const char *p)
{
    return strncmp(s, p, strlen(p)) == 0;
}

static bool has_suffix(const char *s, const char *sfx)
{
    size_t n = strlen(s), m = strlen(sfx);
    return n >= m && strcmp(s + n - m, sfx) == 0;
}

/* count/<plural>.<group>, or count/<plural> for the core group. */
static bool is_count_name(const tri_resource_t *r, const char *name)
{
    const tri_resource_t *s = r->storage ? r->storage : r;
    if (!has_prefix(name, "count/"))
        return false;
    name += 6;
    size_t n = strlen(s->plural);
    if (strncmp(name, s->plural, n) != 0)
        return false;
    if (s->group[0] == '\0')
        return name[n] == '\0';
    return name[n] == '.' && strcmp(name + n + 1, s->group) == 0;
}

static void count_name(const tri_resource_t *r, char *out, size_t len)
{
    const tri_resource_t *s = r->storage ? r->storage : r;
    if (s->group[0] == '\0')
        snprintf(out, len, "count/%s", s->plural);
    else
        snprintf(out, len, "count/%s.%s", s->plural, s->group);
}

/* IsNativeResource: no domain, or one under kubernetes.io. */
static bool native_resource(const char *name)
{
    const char *slash = strchr(name, '/');
    return slash == NULL || strstr(name, "kubernetes.io/") != NULL;
}

/* ---------- what each evaluator tracks ---------- */

static const char *const pod_names[] = {
    "pods",
    "count/pods",
    "cpu",
    "memory",
    "ephemeral-storage",
    "requests.cpu",
    "requests.memory",
    "requests.ephemeral-storage",
    "limits.cpu",
    "limits.memory",
    "limits.ephemeral-storage",
    NULL,
};

static bool in_list(const char *const *list, const char *name)
{
    for (size_t i = 0; list[i]; i++)
        if (strcmp(list[i], name) == 0)
            return true;
    return false;
}

static bool pod_tracks(const char *name)
{
    if (in_list(pod_names, name))
        return true;
    if (has_prefix(name, "hugepages-") || has_prefix(name, "requests.hugepages-"))
        return true;
    return has_prefix(name, "requests.") && !native_resource(name);
}

/* the resources quota knows by their bare plural (generic object counts) */
static const char *const legacy_counts[] = {"configmaps", "secrets", "replicationcontrollers",
                                            "resourcequotas", NULL};

bool tri_quota_tracks(const tri_resource_t *r, const char *name)
{
    if (!r->namespaced)
        return false;
    if (is_count_name(r, name))
        return true;
    if (is_resource(r, "", "pods"))
        return pod_tracks(name);
    if (is_resource(r, "", "services"))
        return !strcmp(name, "services") || !strcmp(name, "services.nodeports") ||
               !strcmp(name, "services.loadbalancers");
    if (is_resource(r, "", "persistentvolumeclaims"))
        return !strcmp(name, "persistentvolumeclaims") || !strcmp(name, "requests.storage") ||
               (strstr(name, STORAGE_CLASS_SUFFIX) != NULL &&
                (has_suffix(name, "/requests.storage") ||
                 has_suffix(name, "/persistentvolumeclaims")));
    const tri_resource_t *s = r->storage ? r->storage : r;
    return s->group[0] == '\0' && in_list(legacy_counts, s->plural) && strcmp(name, s->plural) == 0;
}

/* ---------- pods ---------- */

static int64_t parse_time(const char *s)
{
    struct tm tm = {0};
    if (s == NULL || strptime(s, "%Y-%m-%dT%H:%M:%S", &tm) == NULL)
        return -1;
    return (int64_t)timegm(&tm);
}

/* QuotaV1Pod: terminal pods, and pods past their deletion grace period, are
 * not charged compute (a lost node must not hold a namespace's quota). */
static bool pod_live(const json_t *pod, int64_t now)
{
    const char *phase = str(json_object_get(pod, "status"), "phase");
    if (!strcmp(phase, "Succeeded") || !strcmp(phase, "Failed"))
        return false;
    const json_t *meta = json_object_get(pod, "metadata");
    const json_t *grace = json_object_get(meta, "deletionGracePeriodSeconds");
    int64_t at = parse_time(json_string_value(json_object_get(meta, "deletionTimestamp")));
    if (at >= 0 && json_is_integer(grace) && now > at + json_integer_value(grace))
        return false;
    return true;
}

static int container_list(const json_t *c, const char *which, tri_rlist_t *out)
{
    return tri_rlist_from_json(out, json_object_get(json_object_get(c, "resources"), which));
}

/* PodRequests / PodLimits: containers summed; an init container runs alone
 * (with the sidecars started before it), so the pod needs the larger of the two;
 * restartable init containers (sidecars) run beside the app containers. */
int tri_pod_resources(const json_t *spec, const char *which, tri_rlist_t *out)
{
    tri_rlist_t sidecars = {0}, inits = {0};
    size_t i;
    json_t *c;
    int rc = 0;
    json_array_foreach(json_object_get(spec, "containers"), i, c)
    {
        tri_rlist_t own = {0};
        if (rc == 0)
            rc = container_list(c, which, &own);
        if (rc == 0)
            rc = rlist_add_all(out, &own);
        tri_rlist_free(&own);
    }
    json_array_foreach(json_object_get(spec, "initContainers"), i, c)
    {
        tri_rlist_t own = {0};
        if (rc == 0)
            rc = container_list(c, which, &own);
        if (rc == 0 && strcmp(str(c, "restartPolicy"), "Always") == 0) {
            rc = rlist_add_all(out, &own);
            if (rc == 0)
                rc = rlist_add_all(&sidecars, &own);
            if (rc == 0)
                rc = rlist_max(&inits, &sidecars);
        } else if (rc == 0) {
            rc = rlist_add_all(&own, &sidecars);
            if (rc == 0)
                rc = rlist_max(&inits, &own);
        }
        tri_rlist_free(&own);
    }
    if (rc == 0)
        rc = rlist_max(out, &inits);
    tri_rlist_free(&sidecars);
    tri_rlist_free(&inits);
    return rc;
}

/* Overhead: added to every request, and to the limits the pod sets. */
static int add_overhead(const json_t *spec, tri_rlist_t *reqs, tri_rlist_t *lims)
{
    tri_rlist_t oh = {0};
    int rc = tri_rlist_from_json(&oh, json_object_get(spec, "overhead"));
    if (rc == 0)
        rc = rlist_add_all(reqs, &oh);
    for (size_t i = 0; rc == 0 && i < oh.n; i++)
        if (tri_rlist_get(lims, oh.items[i].name) != NULL)
            rc = tri_rlist_add(lims, oh.items[i].name, &oh.items[i].q);
    tri_rlist_free(&oh);
    return rc;
}

static int put2(tri_rlist_t *out, const char *a, const char *b, const tri_quantity_t *q)
{
    int rc = tri_rlist_set(out, a, q);
    return rc == 0 && b ? tri_rlist_set(out, b, q) : rc;
}

/* podComputeUsageHelper */
static int pod_compute_usage(const tri_rlist_t *reqs, const tri_rlist_t *lims, tri_rlist_t *out)
{
    static const char *const basic[] = {"cpu", "memory", "ephemeral-storage", NULL};
    char a[300], b[300];
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < reqs->n; i++) {
        const char *n = reqs->items[i].name;
        const tri_quantity_t *q = &reqs->items[i].q;
        snprintf(b, sizeof b, "requests.%s", n);
        if (in_list(basic, n) || has_prefix(n, "hugepages-"))
            rc = put2(out, n, b, q);
        else if (!native_resource(n))
            rc = tri_rlist_set(out, b, q);
    }
    for (size_t i = 0; rc == 0 && i < lims->n; i++) {
        const char *n = lims->items[i].name;
        snprintf(a, sizeof a, "limits.%s", n);
        if (in_list(basic, n))
            rc = tri_rlist_set(out, a, &lims->items[i].q);
    }
    return rc;
}

static int pod_usage(const json_t *pod, int64_t now, tri_rlist_t *out)
{
    tri_quantity_t one = tri_quantity_from_int(1), zero = tri_quantity_from_int(0);
    int rc = tri_rlist_set(out, "count/pods", &one);
    bool live = pod_live(pod, now);
    if (rc == 0)
        rc = tri_rlist_set(out, "pods", live ? &one : &zero);
    if (rc != 0 || !live)
        return rc;
    const json_t *spec = json_object_get(pod, "spec");
    tri_rlist_t reqs = {0}, lims = {0};
    rc = tri_pod_resources(spec, "requests", &reqs);
    if (rc == 0)
        rc = tri_pod_resources(spec, "limits", &lims);
    if (rc == 0)
        rc = add_overhead(spec, &reqs, &lims);
    if (rc == 0)
        rc = pod_compute_usage(&reqs, &lims, out);
    tri_rlist_free(&reqs);
    tri_rlist_free(&lims);
    return rc;
}

/* ---------- services and claims ---------- */

static int64_t ports_with_node_ports(const json_t *spec)
{
    int64_t n = 0;
    size_t i;
    json_t *p;
    json_array_foreach(json_object_get(spec, "ports"), i, p)
    {
        json_int_t np = json_integer_value(json_object_get(p, "nodePort"));
        n += np != 0;
    }
    return n;
}

static int service_usage(const json_t *svc, tri_rlist_t *out)
{
    const json_t *spec = json_object_get(svc, "spec");
    const char *type = str(spec, "type");
    int64_t ports = (int64_t)json_array_size(json_object_get(spec, "ports")), node_ports = 0,
            lbs = 0;
    if (strcmp(type, "NodePort") == 0)
        node_ports = ports;
    if (strcmp(type, "LoadBalancer") == 0) {
        const json_t *alloc = json_object_get(spec, "allocateLoadBalancerNodePorts");
        node_ports = json_is_false(alloc) ? ports_with_node_ports(spec) : ports;
        lbs = 1;
    }
    tri_quantity_t one = tri_quantity_from_int(1), np = tri_quantity_from_int(node_ports),
                   lb = tri_quantity_from_int(lbs);
    int rc = tri_rlist_set(out, "services", &one);
    if (rc == 0)
        rc = tri_rlist_set(out, "services.nodeports", &np);
    if (rc == 0)
        rc = tri_rlist_set(out, "services.loadbalancers", &lb);
    return rc;
}

/* Whole bytes: a storage request of "1.5" charges 2 (issue 94313). */
static void round_up_units(tri_quantity_t *q)
{
    const __int128 unit = 1000000000;
    __int128 r = q->nano % unit;
    if (r > 0)
        q->nano += unit - r;
    else if (r < 0)
        q->nano -= r;
}

static int pvc_usage(const json_t *pvc, tri_rlist_t *out)
{
    const json_t *spec = json_object_get(pvc, "spec");
    const char *cls = json_string_value(json_object_get(spec, "storageClassName"));
    if (cls == NULL)
        cls = json_string_value(
            json_object_get(json_object_get(json_object_get(pvc, "metadata"), "annotations"),
                            "volume.beta.kubernetes.io/storage-class"));
    tri_quantity_t one = tri_quantity_from_int(1);
    char name[320];
    int rc = tri_rlist_set(out, "persistentvolumeclaims", &one);
    if (rc == 0 && cls && cls[0]) {
        snprintf(name, sizeof name, "%s" STORAGE_CLASS_SUFFIX "persistentvolumeclaims", cls);
        rc = tri_rlist_set(out, name, &one);
    }
    tri_quantity_t req, alloc;
    const json_t *rq =
        json_object_get(json_object_get(json_object_get(spec, "resources"), "requests"), "storage");
    const json_t *al = json_object_get(
        json_object_get(json_object_get(pvc, "status"), "allocatedResources"), "storage");
    if (rc != 0 || tri_quantity_from_json(rq, &req) != 0)
        return rc;
    round_up_units(&req);
    if (tri_quantity_from_json(al, &alloc) == 0 && tri_quantity_cmp(&alloc, &req) > 0)
        req = alloc; /* an expansion in progress charges what was allocated */
    rc = tri_rlist_set(out, "requests.storage", &req);
    if (rc == 0 && cls && cls[0]) {
        snprintf(name, sizeof name, "%s" STORAGE_CLASS_SUFFIX "requests.storage", cls);
        rc = tri_rlist_set(out, name, &req);
    }
    return rc;
}

int tri_quota_usage(const tri_resource_t *r, const json_t *obj, int64_t now, tri_rlist_t *out)
{
    char cname[300];
    tri_quantity_t one = tri_quantity_from_int(1);
    int rc = 0;
    if (is_resource(r, "", "pods"))
        return pod_usage(obj, now, out);
    count_name(r, cname, sizeof cname);
    rc = tri_rlist_set(out, cname, &one);
    if (rc != 0)
        return rc;
    if (is_resource(r, "", "services"))
        return service_usage(obj, out);
    if (is_resource(r, "", "persistentvolumeclaims"))
        return pvc_usage(obj, out);
    const tri_resource_t *s = r->storage ? r->storage : r;
    if (s->group[0] == '\0' && in_list(legacy_counts, s->plural))
        rc = tri_rlist_set(out, s->plural, &one);
    return rc;
}

/* ---------- scopes ---------- */

static bool nonzero_compute(const json_t *list)
{
    static const char *const qos[] = {"cpu", "memory", NULL};
    for (size_t i = 0; qos[i]; i++) {
        tri_quantity_t q;
        if (tri_quantity_from_json(json_object_get(list, qos[i]), &q) == 0 && q.nano > 0)
            return true;
    }
    return false;
}

/* The BestEffort QoS class: no container asks for or is limited in cpu or memory. */
static bool best_effort(const json_t *spec)
{
    static const char *const lists[] = {"containers", "initContainers"};
    for (size_t l = 0; l < 2; l++) {
        size_t i;
        json_t *c;
        json_array_foreach(json_object_get(spec, lists[l]), i, c)
        {
            const json_t *res = json_object_get(c, "resources");
            if (nonzero_compute(json_object_get(res, "requests")) ||
                nonzero_compute(json_object_get(res, "limits")))
                return false;
        }
    }
    return true;
}

static bool terms_cross_namespace(const json_t *aff)
{
    static const char *const kinds[] = {"requiredDuringSchedulingIgnoredDuringExecution",
                                        "preferredDuringSchedulingIgnoredDuringExecution"};
    for (size_t k = 0; k < 2; k++) {
        size_t i;
        json_t *t;
        json_array_foreach(json_object_get(aff, kinds[k]), i, t)
        {
            const json_t *term = k == 1 ? json_object_get(t, "podAffinityTerm") : t;
            if (json_array_size(json_object_get(term, "namespaces")) > 0 ||
                json_object_get(term, "namespaceSelector") != NULL)
                return true;
        }
    }
    return false;
}

static bool cross_namespace_affinity(const json_t *spec)
{
    const json_t *aff = json_object_get(spec, "affinity");
    return terms_cross_namespace(json_object_get(aff, "podAffinity")) ||
           terms_cross_namespace(json_object_get(aff, "podAntiAffinity"));
}

static bool value_in(const json_t *values, const char *v)
{
    size_t i;
    json_t *x;
    json_array_foreach(values, i, x) if (json_is_string(x) &&
                                         strcmp(json_string_value(x), v) == 0) return true;
    return false;
}

/* One scope requirement against a pod (podMatchesScopeFunc). */
static bool pod_scope(const char *scope, const char *op, const json_t *values, const json_t *pod)
{
    const json_t *spec = json_object_get(pod, "spec");
    const json_t *ads = json_object_get(spec, "activeDeadlineSeconds");
    bool terminating = json_is_integer(ads) && json_integer_value(ads) >= 0;
    if (!strcmp(scope, "Terminating"))
        return terminating;
    if (!strcmp(scope, "NotTerminating"))
        return !terminating;
    if (!strcmp(scope, "BestEffort"))
        return best_effort(spec);
    if (!strcmp(scope, "NotBestEffort"))
        return !best_effort(spec);
    if (!strcmp(scope, "CrossNamespacePodAffinity"))
        return cross_namespace_affinity(spec);
    if (strcmp(scope, "PriorityClass") != 0)
        return false;
    const char *pc = str(spec, "priorityClassName");
    if (!strcmp(op, "Exists"))
        return pc[0] != '\0';
    if (!strcmp(op, "DoesNotExist"))
        return pc[0] == '\0';
    if (!strcmp(op, "In"))
        return value_in(values, pc);
    if (!strcmp(op, "NotIn"))
        return !value_in(values, pc);
    return false;
}

static bool scopes_match(const json_t *spec, bool pod, const json_t *obj)
{
    size_t i;
    json_t *s;
    json_array_foreach(json_object_get(spec, "scopes"), i, s)
    {
        if (!pod || !json_is_string(s) || !pod_scope(json_string_value(s), "Exists", NULL, obj))
            return false;
    }
    json_array_foreach(json_object_get(json_object_get(spec, "scopeSelector"), "matchExpressions"),
                       i, s)
    {
        if (!pod ||
            !pod_scope(str(s, "scopeName"), str(s, "operator"), json_object_get(s, "values"), obj))
            return false;
    }
    return true;
}

bool tri_quota_matches(const json_t *quota, const tri_resource_t *r, const json_t *obj, int64_t now)
{
    (void)now;
    const json_t *spec = json_object_get(quota, "spec");
    const char *k;
    json_t *v;
    bool tracked = false;
    json_object_foreach(json_object_get(spec, "hard"), k, v)
    {
        if (tri_quota_tracks(r, k)) {
            tracked = true;
            break;
        }
    }
    return tracked && scopes_match(spec, is_resource(r, "", "pods"), obj);
}

/* ---------- a namespace's usage ---------- */

static int add_resource_usage(tri_store_t *store, const tri_resource_t *r, const char *ns,
                              const json_t *quota, int64_t now, tri_rlist_t *sum)
{
    tri_buf_t prefix = {0};
    tri_registry_prefix(r, ns, &prefix);
    char end[1024];
    size_t end_len = tri_prefix_end(prefix.data, prefix.len, end);
    tri_kvs_t kvs = {0};
    bool more;
    int rc = tri_store_range(store, prefix.data, prefix.len, end, end_len, 0, 0, &kvs, &more);
    for (size_t i = 0; rc == 0 && i < kvs.n; i++) {
        json_t *obj = tri_object_load_lean(r, kvs.items[i].val, kvs.items[i].mod_rev);
        if (obj != NULL && tri_quota_matches(quota, r, obj, now)) {
            tri_rlist_t u = {0};
            rc = tri_quota_usage(r, obj, now, &u);
            if (rc == 0)
                rc = rlist_add_all(sum, &u);
            tri_rlist_free(&u);
        }
        json_decref(obj);
    }
    tri_kvs_free(&kvs);
    tri_buf_free(&prefix);
    return rc;
}

static bool resource_needed(const tri_resource_t *r, const json_t *hard)
{
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)hard, k, v) if (tri_quota_tracks(r, k)) return true;
    return false;
}

int tri_quota_namespace_usage(tri_store_t *store, const char *ns, const json_t *quota, int64_t now,
                              tri_rlist_t *out)
{
    const json_t *hard = json_object_get(json_object_get(quota, "spec"), "hard");
    size_t n;
    const tri_resource_t *const *all = tri_registry_all(&n);
    tri_rlist_t sum = {0};
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < n; i++) {
        const tri_resource_t *r = all[i];
        if (r->storage != NULL || r->review || !r->namespaced || !resource_needed(r, hard))
            continue;
        rc = add_resource_usage(store, r, ns, quota, now, &sum);
    }
    /* every tracked name of hard is reported, zero when nothing uses it */
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)hard, k, v)
    {
        bool tracked = false;
        for (size_t i = 0; !tracked && i < n; i++)
            tracked = all[i]->storage == NULL && tri_quota_tracks(all[i], k);
        if (rc != 0 || !tracked)
            continue;
        const tri_quantity_t *u = tri_rlist_get(&sum, k);
        tri_quantity_t zero = tri_quantity_from_int(0);
        rc = tri_rlist_set(out, k, u ? u : &zero);
    }
    tri_rlist_free(&sum);
    return rc;
}
