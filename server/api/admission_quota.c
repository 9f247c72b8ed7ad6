/* ResourceQuota admission, the last plugin of the chain (kube-apiserver's
 * plugin/pkg/admission/resourcequota), charged in the write's own txn.
 *
 * For a create (and an update of a Service or a PersistentVolumeClaim, which
 * can grow), every ResourceQuota of the namespace that applies to the object
 * (quota.c: a spec.hard name its kind is counted under, and matching scopes) is
 * checked: a pod must name a request or limit of each compute resource the
 * quota limits ("must specify"), and status.used plus what the object adds must
 * stay within spec.hard ("exceeded quota"). Either refusal is 403 Forbidden,
 * worded as Kubernetes words it.
 *
 * The charge is not a separate write that could be lost or doubled: the quota
 * with its new status.used is put in the same txn as the object, under the
 * precondition that the quota's mod_revision is the one read. Two creates racing
 * for the last unit on different replicas both read used=N-1; one commits, the
 * other's precondition fails and the client retries it against the newer quota
 * (client.c waits until the local store has that revision first), where it no
 * longer fits. A quota without status.used for a name yet (the controller has
 * not seen it) is charged from the namespace's usage computed here, as the
 * controller would compute it.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "admission.h"
#include "resources.h"
#include "triarch/errors.h"
#include "triarch/quota.h"

static bool is(const tri_admit_t *a, const tri_resource_t *r)
{
    return a->r == r || a->r->storage == r;
}

/* ---------- "must specify" ---------- */

static const char *const compute_names[] = {
    "cpu", "memory", "requests.cpu", "requests.memory", "limits.cpu", "limits.memory", NULL};

static bool in_list(const char *const *list, const char *s)
{
    for (size_t i = 0; list[i]; i++)
        if (strcmp(list[i], s) == 0)
            return true;
    return false;
}

/* Whether container c names the quota resource `need` (podComputeUsageHelper
 * of its own requests and limits). */
static bool container_names(const json_t *c, const char *need)
{
    const json_t *res = json_object_get(c, "resources");
    const json_t *req = json_object_get(res, "requests"), *lim = json_object_get(res, "limits");
    if (strncmp(need, "limits.", 7) == 0)
        return json_object_get(lim, need + 7) != NULL;
    if (strncmp(need, "requests.", 9) == 0)
        need += 9;
    return json_object_get(req, need) != NULL;
}

static void add_sorted_unique(json_t *arr, const char *s)
{
    size_t i, at = json_array_size(arr);
    json_t *x;
    json_array_foreach(arr, i, x)
    {
        int c = strcmp(json_string_value(x), s);
        if (c == 0)
            return;
        if (c > 0 && at == json_array_size(arr))
            at = i;
    }
    json_array_insert_new(arr, at, json_string(s));
}

int tri_quota_constraints(const json_t *quota, const json_t *pod, char *why, size_t len)
{
    const json_t *hard = json_object_get(json_object_get(quota, "spec"), "hard");
    const json_t *spec = json_object_get(pod, "spec");
    json_t *required = json_array();
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)hard, k, v) if (in_list(compute_names, k))
        add_sorted_unique(required, k);
    tri_buf_t msg = {0};
    size_t i, j;
    json_t *need;
    json_array_foreach(required, i, need)
    {
        json_t *missing = json_array();
        static const char *const lists[] = {"containers", "initContainers"};
        for (size_t l = 0; l < 2; l++) {
            json_t *c;
            json_array_foreach(json_object_get(spec, lists[l]), j, c)
            {
                if (!container_names(c, json_string_value(need)))
                    add_sorted_unique(missing, json_string_value(json_object_get(c, "name")) ?: "");
            }
        }
        if (json_array_size(missing) > 0) {
            tri_buf_appendf(&msg, "%s%s for: ", msg.len ? "; " : "must specify ",
                            json_string_value(need));
            json_t *n;
            json_array_foreach(missing, j, n)
                tri_buf_appendf(&msg, "%s%s", j ? "," : "", json_string_value(n));
        }
        json_decref(missing);
    }
    json_decref(required);
    int found = msg.len > 0;
    if (found)
        snprintf(why, len, "%.*s", (int)msg.len, msg.data);
    tri_buf_free(&msg);
    return found;
}

/* ---------- the charge ---------- */

int tri_quota_delta(const json_t *quota, const tri_resource_t *r, const json_t *obj,
                    const json_t *old, int64_t now, tri_rlist_t *delta)
{
    const json_t *hard = json_object_get(json_object_get(quota, "spec"), "hard");
    tri_rlist_t use = {0}, prev = {0};
    int rc = tri_quota_usage(r, obj, now, &use);
    if (rc == 0 && old != NULL)
        rc = tri_quota_usage(r, old, now, &prev);
    for (size_t i = 0; rc == 0 && i < use.n; i++) {
        if (json_object_get(hard, use.items[i].name) == NULL)
            continue;
        tri_quantity_t d = use.items[i].q;
        const tri_quantity_t *p = tri_rlist_get(&prev, use.items[i].name);
        if (p != NULL)
            rc = tri_quantity_sub(&d, p);
        if (rc == 0 && d.nano > 0) /* only growth is charged; shrinking is the controller's */
            rc = tri_rlist_set(delta, use.items[i].name, &d);
    }
    tri_rlist_free(&use);
    tri_rlist_free(&prev);
    return rc;
}

static int by_name(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* "a=1,b=2" of l's entries named in `names` (prettyPrint). */
static void pretty(const tri_rlist_t *l, const char **names, size_t n, tri_buf_t *out)
{
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        const tri_quantity_t *q = tri_rlist_get(l, names[i]);
        char b[TRI_QUANTITY_STR_MAX];
        if (q != NULL)
            tri_buf_appendf(out, "%s%s=%s", k++ ? "," : "", names[i],
                            tri_quantity_format(q, b, sizeof b));
    }
}

bool tri_quota_fits(const char *quota_name, const tri_rlist_t *hard, const tri_rlist_t *used,
                    const tri_rlist_t *delta, tri_rlist_t *new_used, char *why, size_t len)
{
    const char *exceeded[64];
    size_t n = 0;
    for (size_t i = 0; i < used->n; i++)
        tri_rlist_set(new_used, used->items[i].name, &used->items[i].q);
    for (size_t i = 0; i < delta->n; i++) {
        const char *k = delta->items[i].name;
        const tri_quantity_t *h = tri_rlist_get(hard, k);
        if (tri_rlist_add(new_used, k, &delta->items[i].q) != 0 ||
            (h != NULL && tri_quantity_cmp(tri_rlist_get(new_used, k), h) > 0)) {
            if (n < 64)
                exceeded[n++] = k;
        }
    }
    if (n == 0)
        return true;
    qsort(exceeded, n, sizeof exceeded[0], by_name);
    tri_buf_t b = {0};
    tri_buf_appendf(&b, "exceeded quota: %s, requested: ", quota_name);
    pretty(delta, exceeded, n, &b);
    tri_buf_appendf(&b, ", used: ");
    pretty(used, exceeded, n, &b);
    tri_buf_appendf(&b, ", limited: ");
    pretty(hard, exceeded, n, &b);
    snprintf(why, len, "%.*s", (int)b.len, b.data);
    tri_buf_free(&b);
    return false;
}

/* status.used, completed from the namespace's usage where it lacks a name delta
 * charges (a quota the controller has not synced yet). */
static int current_used(const tri_admit_t *a, const json_t *quota, const tri_rlist_t *delta,
                        int64_t now, tri_rlist_t *used)
{
    int rc = tri_rlist_from_json(used, json_object_get(json_object_get(quota, "status"), "used"));
    bool complete = true;
    for (size_t i = 0; rc == 0 && i < delta->n; i++)
        complete = complete && tri_rlist_get(used, delta->items[i].name) != NULL;
    if (rc != 0 || complete)
        return rc;
    tri_rlist_t computed = {0};
    rc = tri_quota_namespace_usage(tri_api_store(a->api), a->ns, quota, now, &computed);
    for (size_t i = 0; rc == 0 && i < delta->n; i++) {
        const char *k = delta->items[i].name;
        tri_quantity_t zero = tri_quantity_from_int(0);
        const tri_quantity_t *c = tri_rlist_get(&computed, k);
        if (tri_rlist_get(used, k) == NULL)
            rc = tri_rlist_set(used, k, c ? c : &zero);
    }
    tri_rlist_free(&computed);
    return rc;
}

/* Puts the quota with its new usage into the txn, guarded by its mod_revision. */
static int charge(json_t *quota, const tri_kv_t *kv, const tri_rlist_t *new_used,
                  tri_txn_builder_t *b)
{
    json_t *status = json_object_get(quota, "status");
    if (!json_is_object(status)) {
        status = json_object();
        json_object_set_new(quota, "status", status);
    }
    json_object_set_new(status, "used", tri_rlist_json(new_used));
    json_object_set_new(status, "hard",
                        json_deep_copy(json_object_get(json_object_get(quota, "spec"), "hard")));
    tri_buf_t val = {0};
    int rc = tri_object_encode_as(&tri_res_resourcequotas, quota, &val);
    if (rc == 0)
        rc = tri_txn_builder_modrev(b, kv->key, kv->key_len, kv->mod_rev);
    if (rc == 0)
        rc = tri_txn_builder_put(b, kv->key, kv->key_len, val.data, val.len);
    tri_buf_free(&val);
    return rc;
}

/* One quota: refused (st set), charged into b, or not concerned. */
static int admit_one(const tri_admit_t *a, const json_t *obj, const json_t *old, const tri_kv_t *kv,
                     int64_t now, tri_txn_builder_t *b, tri_status_t *st)
{
    json_t *quota = tri_object_load(kv->val, kv->mod_rev);
    const char *qname =
        json_string_value(json_object_get(json_object_get(quota, "metadata"), "name"));
    if (quota == NULL || qname == NULL || !tri_quota_matches(quota, a->r, obj, now)) {
        json_decref(quota);
        return 0;
    }
    char why[512];
    int rc = 0;
    tri_rlist_t delta = {0}, hard = {0}, used = {0}, new_used = {0};
    if (is(a, &tri_res_pods) && tri_quota_constraints(quota, obj, why, sizeof why)) {
        tri_admit_forbid(a, st, "failed quota: %s: %s", qname, why);
        goto out;
    }
    rc = tri_quota_delta(quota, a->r, obj, old, now, &delta);
    if (rc != 0 || delta.n == 0)
        goto out;
    rc = tri_rlist_from_json(&hard, json_object_get(json_object_get(quota, "spec"), "hard"));
    if (rc == 0)
        rc = current_used(a, quota, &delta, now, &used);
    if (rc != 0)
        goto out;
    if (!tri_quota_fits(qname, &hard, &used, &delta, &new_used, why, sizeof why))
        tri_admit_forbid(a, st, "%s", why);
    else
        rc = charge(quota, kv, &new_used, b);
out:
    tri_rlist_free(&delta);
    tri_rlist_free(&hard);
    tri_rlist_free(&used);
    tri_rlist_free(&new_used);
    json_decref(quota);
    return rc;
}

int tri_admit_quota(const tri_admit_t *a, const json_t *obj, const json_t *old,
                    tri_txn_builder_t *b, tri_status_t *st)
{
    if (!a->r->namespaced || a->r->review || (a->subresource && a->subresource[0]))
        return 0;
    /* a pod's spec cannot change; a service (type, ports) or a claim (resize) can */
    if (!a->create && !is(a, &tri_res_services) && !is(a, &tri_res_persistentvolumeclaims))
        return 0;
    if (!a->create && old != NULL &&
        json_object_get(json_object_get(old, "metadata"), "deletionTimestamp"))
        return 0;
    tri_buf_t prefix = {0};
    tri_registry_prefix(&tri_res_resourcequotas, a->ns, &prefix);
    char end[1024];
    size_t end_len = tri_prefix_end(prefix.data, prefix.len, end);
    tri_kvs_t kvs = {0};
    bool more;
    int rc = tri_store_range(tri_api_store(a->api), prefix.data, prefix.len, end, end_len, 0, 0,
                             &kvs, &more);
    int64_t now = (int64_t)time(NULL);
    for (size_t i = 0; rc == 0 && st->code == 0 && i < kvs.n; i++)
        rc = admit_one(a, obj, old, &kvs.items[i], now, b, st);
    tri_kvs_free(&kvs);
    tri_buf_free(&prefix);
    return rc;
}
