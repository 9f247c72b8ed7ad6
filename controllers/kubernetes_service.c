/* kubernetes-service: the `kubernetes` Service in `default`, through which pods
 * and in-cluster clients (client-go's rest.InClusterConfig, python-kubernetes'
 * load_incluster_config) find the API, and its Endpoints and EndpointSlices.
 *
 * kube-apiserver does this in two parts: every server's kubernetes-service
 * controller creates the Service (ClusterIP: the first address of the service
 * CIDR, port https 443 -> its own secure port) and refreshes a TTL key holding
 * its IP; its "lease" endpoint reconciler writes the set of unexpired keys into
 * the Endpoints and EndpointSlice. Here every replica renews an identity Lease
 * carrying its advertised address (server/apiserver_lease.c) and this one leader
 * loop does the rest: it reconciles one key ("kubernetes") whenever one of those
 * Leases, the Service, its Endpoints or its EndpointSlices changes, and again just
 * after the next live Lease is due to expire, so a replica that stops renewing
 * drops out once its leaseDurationSeconds has passed and comes back with its next
 * renewal. The Leases and slices are read from the local store by name prefix
 * (few keys; the leader's store is current), not from a cache the watch fills: a
 * resync that has drained only part of a large watch would otherwise see a
 * partial set of replicas.
 *
 * A reconcile makes at most one write, in this order, and queues the key again
 * after it: create the Service (or delete one whose ClusterIP is not the reserved
 * address, to recreate it), repair its type, ports and labels; then, when some
 * replica is live (none live means the leases are not readable yet, not that no
 * replica serves: kube-apiserver refuses to erase the endpoints then, and so does
 * this loop), the Endpoints (one subset per distinct API port), one EndpointSlice
 * per API port ("kubernetes" for the Service's targetPort, "kubernetes-<port>"
 * for others: replicas of a local cluster share an IP and differ by port), and
 * the deletion of slices of this Service that no longer match a port.
 *
 * Expiry is judged by the leader's wall clock against renewTime, as Kubernetes'
 * apiserver-lease garbage collector does: the replicas' clocks must agree to well
 * within the lease duration. */
#include <arpa/inet.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "internal.h"
#include "triarch/controllers.h"
#include "triarch/errors.h"
#include "triarch/log.h"

#define KEY "kubernetes"
#define SVC_NS "default"
#define SVC_NAME "kubernetes"
#define SVC_PORT 443      /* the Service's port, as Kubernetes publishes it */
#define PORT_NAME "https" /* the port's name in the Service, Endpoints and slices */
/* targetPort when no replica's address is known yet: kube-apiserver's
 * --secure-port default. */
#define FALLBACK_TARGET_PORT 6443
#define SERVICE_NAME_LABEL "kubernetes.io/service-name"
#define MANAGED_BY_LABEL "endpointslice.kubernetes.io/managed-by"
#define MANAGED_BY "kubernetes-service.triarch.io" /* as endpointslice-controller.k8s.io */
/* The EndpointSlice mirroring controller leaves these Endpoints alone. */
#define SKIP_MIRROR_LABEL "endpointslice.kubernetes.io/skip-mirror"
/* The expiry re-check runs this long after the earliest live Lease's expiry. */
#define EXPIRY_SLACK_MS 50
#define US_PER_S 1000000
#define PORT_MAX 65535
#define NOTHING (-1) /* a step with nothing to write */
/* Times past this (year 5138) are refused rather than overflow microseconds;
 * leaseDurationSeconds is an int32 in Kubernetes. */
#define MAX_TIME_S 100000000000LL
#define SLICE_NAME_LEN 64

typedef struct ks_state {
    tri_ctrl_apiserver_t own; /* this replica's advertised address */
    bool has_own;
} ks_state_t;

static int64_t now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * US_PER_S + ts.tv_nsec / 1000;
}

/* ---------- pure: Leases and subsets ---------- */

static int parse_address(const char *s, tri_ctrl_apiserver_t *out)
{
    const char *colon = s ? strrchr(s, ':') : NULL;
    if (colon == NULL || (size_t)(colon - s) >= sizeof out->ip)
        return TRI_EINVAL;
    memcpy(out->ip, s, (size_t)(colon - s));
    out->ip[colon - s] = '\0';
    char *end;
    long port = strtol(colon + 1, &end, 10);
    struct in_addr a;
    if (*end != '\0' || colon[1] == '\0' || port < 1 || port > PORT_MAX ||
        inet_pton(AF_INET, out->ip, &a) != 1)
        return TRI_EINVAL;
    out->port = (int)port;
    return 0;
}

/* metav1.MicroTime (or Time) as microseconds since the epoch, or -1. */
static int64_t parse_micro_time(const char *s)
{
    int64_t sec = ctrl_parse_time(s);
    if (sec < 0 || sec > MAX_TIME_S)
        return -1;
    const char *dot = strchr(s, '.');
    int64_t frac = 0, scale = US_PER_S;
    for (const char *p = dot ? dot + 1 : ""; *p >= '0' && *p <= '9' && scale > 1; p++) {
        scale /= 10;
        frac += (*p - '0') * scale;
    }
    return sec * US_PER_S + frac;
}

int tri_ctrl_apiserver_lease(const json_t *lease, tri_ctrl_apiserver_t *out, int64_t *expires_us)
{
    const json_t *meta = json_object_get(lease, "metadata");
    const char *id =
        json_string_value(json_object_get(json_object_get(meta, "labels"), TRI_APISERVER_IDENTITY_LABEL));
    const char *addr = json_string_value(
        json_object_get(json_object_get(meta, "annotations"), TRI_APISERVER_ADDRESS_ANNOTATION));
    const json_t *spec = json_object_get(lease, "spec");
    json_t *dur = json_object_get(spec, "leaseDurationSeconds");
    const char *renewed = json_string_value(json_object_get(spec, "renewTime"));
    if (id == NULL || strcmp(id, TRI_APISERVER_IDENTITY) != 0 || parse_address(addr, out) != 0 ||
        !json_is_integer(dur) || json_integer_value(dur) < 1 ||
        json_integer_value(dur) > INT32_MAX || renewed == NULL)
        return TRI_EINVAL;
    int64_t at = parse_micro_time(renewed);
    if (at < 0)
        return TRI_EINVAL;
    *expires_us = at + (int64_t)json_integer_value(dur) * US_PER_S;
    return 0;
}

static int by_port_then_ip(const void *a, const void *b)
{
    const tri_ctrl_apiserver_t *x = a, *y = b;
    if (x->port != y->port)
        return x->port < y->port ? -1 : 1;
    return strcmp(x->ip, y->ip);
}

/* Sorts and removes duplicates; returns the new count. */
static size_t sort_unique(tri_ctrl_apiserver_t *live, size_t n)
{
    if (n == 0)
        return 0;
    qsort(live, n, sizeof *live, by_port_then_ip);
    size_t m = 1;
    for (size_t i = 1; i < n; i++)
        if (by_port_then_ip(&live[i], &live[m - 1]) != 0)
            live[m++] = live[i];
    return m;
}

static json_t *port_list(int port, bool with_target)
{
    json_t *p = json_pack("{s:s, s:i, s:s}", "name", PORT_NAME, "port",
                          (json_int_t)(with_target ? SVC_PORT : port), "protocol", "TCP");
    if (with_target)
        json_object_set_new(p, "targetPort", json_integer(port));
    return json_pack("[o]", p);
}

json_t *tri_ctrl_apiserver_subsets(tri_ctrl_apiserver_t *live, size_t n)
{
    n = sort_unique(live, n);
    json_t *subsets = json_array();
    for (size_t i = 0; i < n;) {
        json_t *addrs = json_array();
        size_t j = i;
        for (; j < n && live[j].port == live[i].port; j++)
            json_array_append_new(addrs, json_pack("{s:s}", "ip", live[j].ip));
        json_array_append_new(subsets, json_pack("{s:o, s:o}", "addresses", addrs, "ports",
                                                 port_list(live[i].port, false)));
        i = j;
    }
    return subsets;
}

/* ---------- what the local store holds ---------- */

/* The objects of r in `ns` whose names start with `prefix`, from the local store
 * (the leader's is current), each passed to fn. */
static void scan(tri_api_t *api, const tri_resource_t *r, const char *ns, const char *prefix,
                 void (*fn)(const json_t *obj, void *ctx), void *ctx)
{
    tri_buf_t start = {0};
    tri_registry_prefix(r, ns, &start);
    tri_buf_appendf(&start, "%s", prefix);
    char end[1024];
    size_t end_len = tri_prefix_end(start.data, start.len, end);
    tri_kvs_t kvs = {0};
    bool more;
    if (tri_store_range(tri_api_store(api), start.data, start.len, end, end_len, 0, 0, &kvs,
                        &more) == 0) {
        for (size_t i = 0; i < kvs.n; i++) {
            json_t *o = tri_api_load_stored(api, r, &kvs.items[i]);
            if (o)
                fn(o, ctx);
            json_decref(o);
        }
    }
    tri_kvs_free(&kvs);
    tri_buf_free(&start);
}

static bool label_is(const json_t *obj, const char *key, const char *want)
{
    const char *v = json_string_value(
        json_object_get(json_object_get(json_object_get(obj, "metadata"), "labels"), key));
    return v != NULL && strcmp(v, want) == 0;
}

static void ks_on_event(tri_ctrl_loop_t *l, const tri_resource_t *r,
                        enum tri_watch_event_type type, const json_t *obj)
{
    const char *ns = ctrl_meta_str(obj, "namespace"), *name = ctrl_meta_str(obj, "name");
    if (ns == NULL || name == NULL)
        return;
    bool ours;
    if (strcmp(r->plural, "leases") == 0)
        ours = strcmp(ns, TRI_APISERVER_LEASE_NAMESPACE) == 0 &&
               strncmp(name, TRI_APISERVER_LEASE_PREFIX, strlen(TRI_APISERVER_LEASE_PREFIX)) == 0;
    else if (strcmp(r->plural, "endpointslices") == 0)
        ours = strcmp(ns, SVC_NS) == 0 && strncmp(name, SVC_NAME, strlen(SVC_NAME)) == 0;
    else /* services, endpoints */
        ours = strcmp(ns, SVC_NS) == 0 && strcmp(name, SVC_NAME) == 0;
    if (ours)
        tri_ctrl_add(l, KEY);
}

typedef struct live_ctx {
    int64_t now;
    int64_t next_expiry; /* 0: none */
    tri_ctrl_apiserver_t *out;
    size_t n, cap;
} live_ctx_t;

static void collect_live(const json_t *lease, void *ctx)
{
    live_ctx_t *c = ctx;
    tri_ctrl_apiserver_t a;
    int64_t expires;
    if (tri_ctrl_apiserver_lease(lease, &a, &expires) != 0 || expires <= c->now)
        return;
    if (c->n == c->cap) {
        size_t cap = c->cap ? 2 * c->cap : 8;
        tri_ctrl_apiserver_t *p = realloc(c->out, cap * sizeof *p);
        if (p == NULL)
            return;
        c->out = p;
        c->cap = cap;
    }
    c->out[c->n++] = a;
    if (c->next_expiry == 0 || expires < c->next_expiry)
        c->next_expiry = expires;
}

/* The live replicas' addresses, sorted (NULL with *n = 0 when none); the key is
 * queued again for just after the first of them expires. */
static tri_ctrl_apiserver_t *live_servers(tri_ctrl_loop_t *l, size_t *n)
{
    live_ctx_t c = {.now = now_us()};
    scan(tri_ctrl_loop_api(l), tri_registry_find("coordination.k8s.io", "v1", "leases"),
         TRI_APISERVER_LEASE_NAMESPACE, TRI_APISERVER_LEASE_PREFIX, collect_live, &c);
    if (c.next_expiry)
        tri_ctrl_add_after(l, KEY, (uint64_t)(c.next_expiry - c.now) / 1000 + EXPIRY_SLACK_MS);
    *n = sort_unique(c.out, c.n);
    return c.out;
}

/* ---------- writes ---------- */

static void on_written(tri_api_op_t *op)
{
    ctrl_job_t *j = op->data;
    tri_ctrl_item_t *it = j->it;
    tri_ctrl_loop_t *l = tri_ctrl_item_loop(it);
    int code = op->status.code;
    /* 404/409: someone else changed it meanwhile; look again */
    bool fine = code == 0 || code == 404 || code == 409;
    if (!fine)
        tri_warn("kubernetes-service", "write failed", "what=\"%s\" code=%d message=\"%s\"",
                 j->what, code, op->status.message);
    bool again = fine && tri_ctrl_live(it);
    tri_api_op_release(&j->op);
    free(j);
    tri_ctrl_finish(it, fine ? TRI_CTRL_DONE : TRI_CTRL_REQUEUE);
    if (again)
        tri_ctrl_add(l, KEY); /* the next step, if any */
}

/* Creates obj, or updates it over cur (keeping cur's resourceVersion: a 409
 * means look again). Takes obj. */
static int put_object(tri_ctrl_loop_t *l, tri_ctrl_item_t *it, const tri_resource_t *r,
                 const json_t *cur, json_t *obj, const char *what)
{
    ctrl_job_t *j = ctrl_job_new(it, what);
    if (j == NULL || obj == NULL) {
        free(j);
        json_decref(obj);
        return TRI_CTRL_REQUEUE;
    }
    tri_info("kubernetes-service", cur ? "updating" : "creating", "what=\"%s\" name=%s/%s", what,
             SVC_NS, ctrl_meta_str(obj, "name"));
    tri_api_t *api = tri_ctrl_loop_api(l);
    if (cur == NULL) {
        tri_api_create(api, &j->op, r, SVC_NS, obj, false, on_written);
        return TRI_CTRL_PENDING;
    }
    json_object_set(json_object_get(obj, "metadata"), "resourceVersion",
                    json_object_get(json_object_get(cur, "metadata"), "resourceVersion"));
    tri_api_update(api, &j->op, r, SVC_NS, ctrl_meta_str(obj, "name"), obj, false, on_written);
    json_decref(obj);
    return TRI_CTRL_PENDING;
}

static int delete_object(tri_ctrl_loop_t *l, tri_ctrl_item_t *it, const tri_resource_t *r,
                  const json_t *cur, const char *what)
{
    ctrl_job_t *j = ctrl_job_new(it, what);
    if (j == NULL)
        return TRI_CTRL_REQUEUE;
    tri_info("kubernetes-service", "deleting", "what=\"%s\" name=%s/%s", what, SVC_NS,
             ctrl_meta_str(cur, "name"));
    tri_delete_opts_t o = {.precondition_uid = ctrl_meta_str(cur, "uid"),
                           .grace_period_seconds = -1};
    tri_api_delete(tri_ctrl_loop_api(l), &j->op, r, SVC_NS, ctrl_meta_str(cur, "name"), &o,
                   on_written);
    return TRI_CTRL_PENDING;
}

/* A copy of cur (or a new object of kind) with labels[k] = v for each pair. */
static json_t *base_object(const json_t *cur, const char *api_version, const char *kind,
                           const char *name, const char *const *labels)
{
    json_t *o = cur ? json_deep_copy(cur)
                    : json_pack("{s:s, s:s, s:{s:s, s:s}}", "apiVersion", api_version, "kind",
                                kind, "metadata", "name", name, "namespace", SVC_NS);
    json_t *meta = json_object_get(o, "metadata");
    json_t *lbl = json_object_get(meta, "labels");
    if (!json_is_object(lbl)) {
        lbl = json_object();
        json_object_set_new(meta, "labels", lbl);
    }
    for (size_t i = 0; labels[i]; i += 2)
        json_object_set_new(lbl, labels[i], json_string(labels[i + 1]));
    return o;
}

static bool has_labels(const json_t *obj, const char *const *labels)
{
    for (size_t i = 0; labels[i]; i += 2)
        if (!label_is(obj, labels[i], labels[i + 1]))
            return false;
    return true;
}

/* ---------- the Service ---------- */

static const char *const SVC_LABELS[] = {"component", "apiserver", "provider", "kubernetes", NULL};

static const tri_resource_t *res(const char *group, const char *plural)
{
    return tri_registry_find(group, "v1", plural);
}

static int svc_target_port(const json_t *svc)
{
    json_t *p = json_array_get(json_object_get(json_object_get(svc, "spec"), "ports"), 0);
    json_t *tp = json_object_get(p, "targetPort");
    return json_is_integer(tp) ? (int)json_integer_value(tp) : 0;
}

/* The current targetPort while some live replica serves it (a leader change does
 * not move it), else this replica's API port. */
static int target_port(const ks_state_t *s, const json_t *svc, const tri_ctrl_apiserver_t *live,
                       size_t n)
{
    int cur = svc_target_port(svc);
    for (size_t i = 0; cur > 0 && i < n; i++)
        if (live[i].port == cur)
            return cur;
    if (s->has_own)
        return s->own.port;
    if (n > 0)
        return live[0].port;
    return cur > 0 ? cur : FALLBACK_TARGET_PORT;
}

static int sync_service(tri_ctrl_loop_t *l, tri_ctrl_item_t *it, const json_t *svc,
                        const char *ip, int port)
{
    const tri_resource_t *r = res("", "services");
    const json_t *spec = json_object_get(svc, "spec");
    const char *have_ip = json_string_value(json_object_get(spec, "clusterIP"));
    if (svc && (have_ip == NULL || strcmp(have_ip, ip) != 0)) {
        tri_warn("kubernetes-service", "the kubernetes Service has the wrong ClusterIP; "
                 "recreating it", "have=%s want=%s", have_ip ? have_ip : "", ip);
        return delete_object(l, it, r, svc, "Service default/kubernetes (wrong ClusterIP)");
    }
    json_t *ports = port_list(port, true);
    const char *type = json_string_value(json_object_get(spec, "type"));
    bool ok = svc && type && strcmp(type, "ClusterIP") == 0 &&
              json_equal(json_object_get(spec, "ports"), ports) && has_labels(svc, SVC_LABELS);
    if (ok) {
        json_decref(ports);
        return NOTHING;
    }
    json_t *o = base_object(svc, "v1", "Service", SVC_NAME, SVC_LABELS);
    json_t *want = json_object_get(o, "spec");
    if (!json_is_object(want)) {
        want = json_object();
        json_object_set_new(o, "spec", want);
    }
    json_object_set_new(want, "type", json_string("ClusterIP"));
    json_object_set_new(want, "ports", ports);
    if (svc == NULL) {
        json_object_set_new(want, "clusterIP", json_string(ip));
        json_object_set_new(want, "clusterIPs", json_pack("[s]", ip));
        json_object_set_new(want, "sessionAffinity", json_string("None"));
    }
    return put_object(l, it, r, svc, o, "Service");
}

/* ---------- Endpoints and EndpointSlices ---------- */

static const char *const EP_LABELS[] = {SKIP_MIRROR_LABEL, "true", NULL};
static const char *const SLICE_LABELS[] = {SERVICE_NAME_LABEL, SVC_NAME, MANAGED_BY_LABEL,
                                           MANAGED_BY, NULL};

static int sync_endpoints(tri_ctrl_loop_t *l, tri_ctrl_item_t *it, tri_ctrl_apiserver_t *live,
                          size_t n)
{
    const tri_resource_t *r = res("", "endpoints");
    json_t *cur = tri_api_lookup(tri_ctrl_loop_api(l), r, SVC_NS, SVC_NAME);
    json_t *subsets = tri_ctrl_apiserver_subsets(live, n);
    int rc = NOTHING;
    if (cur == NULL || !json_equal(json_object_get(cur, "subsets"), subsets) ||
        !has_labels(cur, EP_LABELS)) {
        json_t *o = base_object(cur, "v1", "Endpoints", SVC_NAME, EP_LABELS);
        json_object_set(o, "subsets", subsets);
        rc = put_object(l, it, r, cur, o, "Endpoints");
    }
    json_decref(subsets);
    json_decref(cur);
    return rc;
}

/* The slice for live[from, to) (one port). */
static json_t *slice_content(const tri_ctrl_apiserver_t *live, size_t from, size_t to)
{
    json_t *eps = json_array();
    for (size_t i = from; i < to; i++)
        json_array_append_new(eps, json_pack("{s:[s], s:{s:b}}", "addresses", live[i].ip,
                                             "conditions", "ready", 1));
    return json_pack("{s:s, s:o, s:o}", "addressType", "IPv4", "endpoints", eps, "ports",
                     port_list(live[from].port, false));
}

static int sync_slice(tri_ctrl_loop_t *l, tri_ctrl_item_t *it, const char *name, json_t *want)
{
    const tri_resource_t *r = res("discovery.k8s.io", "endpointslices");
    json_t *cur = tri_api_lookup(tri_ctrl_loop_api(l), r, SVC_NS, name);
    static const char *const fields[] = {"addressType", "endpoints", "ports"};
    bool same = cur != NULL && has_labels(cur, SLICE_LABELS);
    for (size_t i = 0; same && i < sizeof fields / sizeof fields[0]; i++)
        same = json_equal(json_object_get(cur, fields[i]), json_object_get(want, fields[i]));
    int rc = NOTHING;
    if (cur && !json_equal(json_object_get(cur, "addressType"), json_object_get(want, "addressType")))
        rc = delete_object(l, it, r, cur, "EndpointSlice of another address type");
    else if (!same) {
        json_t *o = base_object(cur, "discovery.k8s.io/v1", "EndpointSlice", name, SLICE_LABELS);
        json_object_update(o, want);
        rc = put_object(l, it, r, cur, o, "EndpointSlice");
    }
    json_decref(cur);
    return rc;
}

static void slice_name(int port, bool primary, char *out, size_t len)
{
    if (primary)
        snprintf(out, len, "%s", SVC_NAME);
    else
        snprintf(out, len, "%s-%d", SVC_NAME, port);
}

typedef struct stale_ctx {
    char (*keep)[SLICE_NAME_LEN];
    size_t n_keep;
    json_t *found; /* the first slice of the Service not kept */
} stale_ctx_t;

static void find_stale(const json_t *slice, void *ctx)
{
    stale_ctx_t *c = ctx;
    const char *name = ctrl_meta_str(slice, "name");
    if (c->found || name == NULL || !label_is(slice, SERVICE_NAME_LABEL, SVC_NAME))
        return;
    for (size_t i = 0; i < c->n_keep; i++)
        if (strcmp(c->keep[i], name) == 0)
            return;
    c->found = json_incref((json_t *)slice);
}

/* Slices of the Service (named kubernetes*, as this loop names them) for a port
 * no live replica serves. */
static int delete_stale_slice(tri_ctrl_loop_t *l, tri_ctrl_item_t *it,
                              char (*keep)[SLICE_NAME_LEN], size_t n_keep)
{
    const tri_resource_t *r = res("discovery.k8s.io", "endpointslices");
    stale_ctx_t c = {.keep = keep, .n_keep = n_keep};
    scan(tri_ctrl_loop_api(l), r, SVC_NS, SVC_NAME, find_stale, &c);
    if (c.found == NULL)
        return NOTHING;
    int rc = delete_object(l, it, r, c.found, "EndpointSlice of a port no replica serves");
    json_decref(c.found);
    return rc;
}

/* live: sorted by port (sync_endpoints sorted it). */
static int sync_slices(tri_ctrl_loop_t *l, tri_ctrl_item_t *it, const tri_ctrl_apiserver_t *live,
                       size_t n, int target)
{
    bool target_served = false;
    for (size_t i = 0; i < n; i++)
        target_served |= live[i].port == target;
    char(*keep)[SLICE_NAME_LEN] = calloc(n, sizeof *keep);
    if (keep == NULL)
        return TRI_CTRL_REQUEUE;
    size_t n_keep = 0;
    int rc = NOTHING;
    for (size_t i = 0; i < n && rc == NOTHING;) {
        size_t j = i;
        while (j < n && live[j].port == live[i].port)
            j++;
        bool primary = target_served ? live[i].port == target : i == 0;
        slice_name(live[i].port, primary, keep[n_keep], SLICE_NAME_LEN);
        json_t *want = slice_content(live, i, j);
        rc = sync_slice(l, it, keep[n_keep++], want);
        json_decref(want);
        i = j;
    }
    if (rc == NOTHING)
        rc = delete_stale_slice(l, it, keep, n_keep);
    free(keep);
    return rc;
}

/* ---------- reconcile ---------- */

static int ks_reconcile(tri_ctrl_loop_t *l, tri_ctrl_item_t *it)
{
    ks_state_t *s = tri_ctrl_loop_data(l);
    tri_api_t *api = tri_ctrl_loop_api(l);
    char ip[64];
    if (tri_api_kubernetes_service_ip(api, ip, sizeof ip) != 0)
        return TRI_CTRL_DONE;
    size_t n = 0;
    tri_ctrl_apiserver_t *live = live_servers(l, &n);
    json_t *svc = tri_api_lookup(api, res("", "services"), SVC_NS, SVC_NAME);
    int port = target_port(s, svc, live, n);
    int rc = sync_service(l, it, svc, ip, port);
    json_decref(svc);
    if (rc == NOTHING && n > 0)
        rc = sync_endpoints(l, it, live, n);
    if (rc == NOTHING && n > 0)
        rc = sync_slices(l, it, live, n, port);
    free(live);
    return rc == NOTHING ? TRI_CTRL_DONE : rc;
}

static void ks_start(tri_ctrl_loop_t *l)
{
    tri_ctrl_add(l, KEY); /* the Service even before any event */
}

static void ks_free(void *data)
{
    free(data);
}

static const tri_ctrl_loop_def_t ks_def = {
    .name = "kubernetes-service",
    .watch = {"v1/services", "v1/endpoints", "discovery.k8s.io/v1/endpointslices",
              "coordination.k8s.io/v1/leases"},
    .on_start = ks_start,
    .on_event = ks_on_event,
    .reconcile = ks_reconcile,
    .free_data = ks_free,
};

int tri_ctrl_kubernetes_service_add(tri_ctrl_manager_t *m, const char *own_address)
{
    ks_state_t *s = calloc(1, sizeof *s);
    if (s == NULL)
        return TRI_ENOMEM;
    s->has_own = own_address != NULL && parse_address(own_address, &s->own) == 0;
    int rc = tri_ctrl_manager_add(m, &ks_def, s, NULL);
    if (rc != 0)
        ks_free(s);
    return rc;
}
