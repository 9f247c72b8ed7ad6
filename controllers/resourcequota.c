/* The resource-quota controller (Kubernetes' resourcequota controller with its
 * replenishment): keeps each ResourceQuota's status.hard equal to spec.hard and
 * status.used equal to what the namespace's objects charge (quota.c counts them
 * as admission does).
 *
 * Keyed by namespace. A namespace is queued when one of its quotas is added, or
 * changed so that its status no longer covers spec.hard; when an object in a
 * namespace with quotas is deleted (its charge is freed here: admission charges
 * creates, nothing refunds deletes), or is changed in a way that can lower or
 * raise usage (a pod becoming terminal or deleted, a Service or a claim
 * changed); when an object is created that a quota should have been charged for
 * but was not (the quota's mod_revision is older than the object: the create
 * was admitted by a replica that did not see the quota yet); and every
 * `sync_ms` (resource-quota-sync-ms, 5 minutes by default) for as long as the
 * namespace has quotas. Creates that admission charged queue nothing, so a
 * stream of creates does not make the leader recount a namespace per create.
 *
 * A reconcile reads the namespace from the local store in one synchronous pass
 * (one revision's view), and writes at most one quota's status, with that
 * quota's resourceVersion as precondition: a create that charged the quota in
 * between makes the write fail (409) and the namespace is counted again.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "internal.h"
#include "triarch/controllers.h"
#include "triarch/errors.h"
#include "triarch/log.h"
#include "triarch/quota.h"

#define DEFAULT_SYNC_MS                                                                            \
    (5ull * 60 * 1000) /* kube-controller-manager --resource-quota-sync-period */

typedef struct rq_state {
    uint64_t sync_ms;
} rq_state_t;

typedef struct rq_job {
    tri_api_op_t op;
    tri_ctrl_item_t *it;
} rq_job_t;

static const tri_resource_t *quotas_res(void)
{
    return tri_registry_find("", "v1", "resourcequotas");
}

/* The quotas of ns in the local store (kvs freed by the caller). */
static int ns_quotas(tri_api_t *api, const char *ns, size_t limit, tri_kvs_t *kvs)
{
    tri_buf_t prefix = {0};
    tri_registry_prefix(quotas_res(), ns, &prefix);
    char end[1024];
    size_t end_len = tri_prefix_end(prefix.data, prefix.len, end);
    bool more;
    int rc = tri_store_range(tri_api_store(api), prefix.data, prefix.len, end, end_len, 0, limit,
                             kvs, &more);
    tri_buf_free(&prefix);
    return rc;
}

static bool ns_has_quota(tri_api_t *api, const char *ns)
{
    tri_kvs_t kvs = {0};
    bool has = ns_quotas(api, ns, 1, &kvs) == 0 && kvs.n > 0;
    tri_kvs_free(&kvs);
    return has;
}

/* ---------- comparing ResourceLists ---------- */

/* Same names, same amounts (quota.Equals: "1" equals "1000m"). */
static bool lists_equal(const json_t *a, const json_t *b)
{
    if (json_object_size(a) != json_object_size(b))
        return false;
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)a, k, v)
    {
        tri_quantity_t x, y;
        json_t *w = json_object_get(b, k);
        if (w == NULL)
            return false;
        bool px = tri_quantity_from_json(v, &x) == 0, py = tri_quantity_from_json(w, &y) == 0;
        if (px != py || (px && tri_quantity_cmp(&x, &y) != 0))
            return false;
        if (!px && !json_equal(v, w))
            return false;
    }
    return true;
}

/* A quota whose status does not cover its spec: new, or spec.hard changed. */
static bool needs_sync(const json_t *quota)
{
    const json_t *hard = json_object_get(json_object_get(quota, "spec"), "hard");
    const json_t *status = json_object_get(quota, "status");
    if (!lists_equal(hard, json_object_get(status, "hard")))
        return true;
    const json_t *used = json_object_get(status, "used");
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)hard, k, v) if (json_object_get(used, k) == NULL) return true;
    return false;
}

/* ---------- events ---------- */

static int64_t rv_of(const json_t *obj)
{
    const char *rv = ctrl_meta_str(obj, "resourceVersion");
    return rv ? strtoll(rv, NULL, 10) : 0;
}

/* A created object that a quota applies to, charges something under, and was
 * not charged for: the quota was not written in (or after) the object's txn. */
static bool uncharged(tri_api_t *api, const tri_resource_t *r, const json_t *obj, const char *ns)
{
    int64_t rev = rv_of(obj), now = (int64_t)time(NULL);
    tri_kvs_t kvs = {0};
    bool found = false;
    if (rev <= 0 || ns_quotas(api, ns, 0, &kvs) != 0)
        return false;
    for (size_t i = 0; !found && i < kvs.n; i++) {
        if (kvs.items[i].mod_rev >= rev)
            continue;
        json_t *q = tri_object_load(kvs.items[i].val, kvs.items[i].mod_rev);
        tri_rlist_t u = {0};
        if (q != NULL && tri_quota_matches(q, r, obj, now) &&
            tri_quota_usage(r, obj, now, &u) == 0) {
            const json_t *hard = json_object_get(json_object_get(q, "spec"), "hard");
            for (size_t j = 0; !found && j < u.n; j++)
                found = json_object_get(hard, u.items[j].name) != NULL && u.items[j].q.nano != 0;
        }
        tri_rlist_free(&u);
        json_decref(q);
    }
    tri_kvs_free(&kvs);
    return found;
}

static bool is_core(const tri_resource_t *r, const char *plural)
{
    return r->group[0] == '\0' && strcmp(r->plural, plural) == 0;
}

/* A change that can move usage: a pod ending or being deleted, a Service
 * (type, ports) or a claim (size) changed. */
static bool usage_may_change(const tri_resource_t *r, const json_t *obj)
{
    if (is_core(r, "services") || is_core(r, "persistentvolumeclaims"))
        return true;
    if (!is_core(r, "pods"))
        return false;
    const char *phase = json_string_value(json_object_get(json_object_get(obj, "status"), "phase"));
    return ctrl_deleting(obj) ||
           (phase && (!strcmp(phase, "Succeeded") || !strcmp(phase, "Failed")));
}

/* Objects whose contents can be charged (a pod's requests, a Service's type, a
 * claim's size) or that are the quotas themselves are read whole; every other kind
 * is only counted, from its metadata. */
static bool rq_metadata_only(const tri_resource_t *r)
{
    static const char *const whole[] = {"pods", "services", "persistentvolumeclaims",
                                        "resourcequotas"};
    for (size_t i = 0; i < sizeof whole / sizeof whole[0]; i++)
        if (is_core(r, whole[i]))
            return false;
    return true;
}

static void rq_on_event(tri_ctrl_loop_t *l, const tri_resource_t *r, enum tri_watch_event_type type,
                        const json_t *obj)
{
    const char *ns = ctrl_meta_str(obj, "namespace");
    if (!r->namespaced || ns == NULL || type == TRI_WATCH_BOOKMARK || type == TRI_WATCH_ERROR)
        return;
    tri_api_t *api = tri_ctrl_loop_api(l);
    if (is_core(r, "resourcequotas")) {
        if (type == TRI_WATCH_ADDED || (type == TRI_WATCH_MODIFIED && needs_sync(obj)))
            tri_ctrl_add(l, ns);
        return;
    }
    if (!ns_has_quota(api, ns))
        return;
    bool queue = false;
    if (type == TRI_WATCH_DELETED)
        queue = true;
    else if (type == TRI_WATCH_MODIFIED)
        queue = usage_may_change(r, obj);
    else if (type == TRI_WATCH_ADDED)
        queue = uncharged(api, r, obj, ns);
    if (queue)
        tri_ctrl_add(l, ns);
}

/* ---------- reconcile ---------- */

static void on_written(tri_api_op_t *op)
{
    rq_job_t *j = op->data;
    tri_ctrl_item_t *it = j->it;
    int code = op->status.code;
    if (code != 0 && code != 409 && code != 404)
        tri_warn("resourcequota", "status update failed", "namespace=%s code=%d message=\"%s\"",
                 tri_ctrl_key(it), code, op->status.message);
    bool again = (code == 0 || code == 409 || code == 404) && tri_ctrl_live(it);
    tri_ctrl_loop_t *l = tri_ctrl_item_loop(it);
    char ns[256];
    snprintf(ns, sizeof ns, "%s", tri_ctrl_key(it));
    tri_api_op_release(&j->op);
    free(j);
    tri_ctrl_finish(it, again || code == 404 ? TRI_CTRL_DONE : TRI_CTRL_REQUEUE);
    if (again)
        tri_ctrl_add(l, ns); /* the next quota, or a recount after a conflict */
}

/* The status the quota should have (new reference): hard from spec, used as
 * counted (earlier observations of names no evaluator counts are kept). */
static json_t *desired_status(tri_api_t *api, const char *ns, const json_t *quota, int64_t now,
                              int *rc)
{
    const json_t *hard = json_object_get(json_object_get(quota, "spec"), "hard");
    const json_t *old = json_object_get(json_object_get(quota, "status"), "used");
    tri_rlist_t counted = {0};
    *rc = tri_quota_namespace_usage(tri_api_store(api), ns, quota, now, &counted);
    json_t *used = json_object();
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)hard, k, v)
    {
        const tri_quantity_t *c = tri_rlist_get(&counted, k);
        if (c != NULL)
            json_object_set_new(used, k, tri_quantity_json(c));
        else if (json_object_get(old, k) != NULL)
            json_object_set(used, k, json_object_get(old, k));
    }
    tri_rlist_free(&counted);
    return json_pack("{s:O, s:o}", "hard", hard ? hard : json_object(), "used", used);
}

static int write_status(tri_ctrl_loop_t *l, tri_ctrl_item_t *it, const char *ns, json_t *quota,
                        json_t *status)
{
    rq_job_t *j = calloc(1, sizeof *j);
    if (j == NULL) {
        json_decref(status);
        return TRI_CTRL_REQUEUE;
    }
    j->it = it;
    j->op.data = j;
    j->op.leader_only = true;
    j->op.subresource = "status";
    json_t *body = json_deep_copy(quota);
    json_object_set_new(body, "status", status);
    tri_api_update(tri_ctrl_loop_api(l), &j->op, quotas_res(), ns, ctrl_meta_str(quota, "name"),
                   body, false, on_written);
    json_decref(body);
    return TRI_CTRL_PENDING;
}

static int rq_reconcile(tri_ctrl_loop_t *l, tri_ctrl_item_t *it)
{
    const char *ns = tri_ctrl_key(it);
    tri_api_t *api = tri_ctrl_loop_api(l);
    const rq_state_t *s = tri_ctrl_loop_data(l);
    tri_kvs_t kvs = {0};
    if (ns_quotas(api, ns, 0, &kvs) != 0)
        return TRI_CTRL_REQUEUE;
    int64_t now = (int64_t)time(NULL);
    int result = TRI_CTRL_DONE;
    for (size_t i = 0; result == TRI_CTRL_DONE && i < kvs.n; i++) {
        json_t *q = tri_object_load(kvs.items[i].val, kvs.items[i].mod_rev);
        if (q == NULL)
            continue;
        int rc = 0;
        json_t *want = desired_status(api, ns, q, now, &rc);
        const json_t *have = json_object_get(q, "status");
        if (rc != 0) {
            tri_warn("resourcequota", "usage not computed", "namespace=%s quota=%s rc=%s", ns,
                     ctrl_meta_str(q, "name"), tri_strerror(rc));
            json_decref(want);
            result = TRI_CTRL_REQUEUE;
        } else if (lists_equal(json_object_get(want, "hard"), json_object_get(have, "hard")) &&
                   lists_equal(json_object_get(want, "used"), json_object_get(have, "used"))) {
            json_decref(want);
        } else {
            result = write_status(l, it, ns, q, want);
        }
        json_decref(q);
    }
    size_t n = kvs.n;
    tri_kvs_free(&kvs);
    if (n > 0)
        tri_ctrl_add_after(l, ns, s->sync_ms); /* the periodic recount */
    return result;
}

static const tri_ctrl_loop_def_t rq_def = {
    .name = "resourcequota",
    .watch_all = true,
    .metadata_only = rq_metadata_only,
    .on_event = rq_on_event,
    .reconcile = rq_reconcile,
    .free_data = free,
};

int tri_ctrl_resourcequota_add(tri_ctrl_manager_t *m, uint64_t sync_ms)
{
    rq_state_t *s = calloc(1, sizeof *s);
    if (s == NULL)
        return TRI_ENOMEM;
    s->sync_ms = sync_ms ? sync_ms : DEFAULT_SYNC_MS;
    int rc = tri_ctrl_manager_add(m, &rq_def, s, NULL);
    if (rc != 0)
        free(s);
    return rc;
}
