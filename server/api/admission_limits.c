/* LimitRanger admission, as kube-apiserver's plugin (plugin/pkg/admission/limitranger).
 *
 * Mutating, on pod creates: every LimitRange of the namespace, in name order,
 * gives each container and init container its Container-type `default` as the
 * limit and `defaultRequest` as the request of each resource the container does
 * not set, and notes what it set in the kubernetes.io/limit-ranger annotation.
 * (A limit given without a request already requests the limit: pod defaulting,
 * res_pods.c, runs before admission, as Kubernetes' defaulting runs at decode.)
 *
 * Validating, on pod creates and on PersistentVolumeClaim creates and updates:
 * min, max and maxLimitRequestRatio of Container items against each container,
 * of Pod items against the pod's effective requests and limits, and min/max
 * storage of PersistentVolumeClaim items against the claim's request. Every
 * violation is collected and the create refused with 403, the messages joined as
 * apimachinery's aggregate error joins them ("[a, b]", duplicates once).
 *
 * Quantities are compared exactly (quantity.c); resources within one item are
 * checked in name order (Kubernetes walks a Go map, in no fixed order).
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jsonutil.h"
#include "admission.h"
#include "resources.h"
#include "triarch/quantity.h"
#include "triarch/quota.h"

#define LR_ANNOTATION "kubernetes.io/limit-ranger"
#define LR_ANNOTATION_PREFIX "LimitRanger plugin set: "

/* The LimitRanges of ns in the local store, in name order (new reference). */
static json_t *namespace_ranges(tri_api_t *api, const char *ns)
{
    json_t *out = json_array();
    tri_buf_t prefix = {0};
    tri_registry_prefix(&tri_res_limitranges, ns, &prefix);
    char end[1024];
    size_t end_len = tri_prefix_end(prefix.data, prefix.len, end);
    tri_kvs_t kvs = {0};
    bool more;
    if (tri_store_range(tri_api_store(api), prefix.data, prefix.len, end, end_len, 0, 0, &kvs,
                        &more) == 0) {
        for (size_t i = 0; i < kvs.n; i++) {
            json_t *o =
                tri_object_load_lean(&tri_res_limitranges, kvs.items[i].val, kvs.items[i].mod_rev);
            if (o != NULL)
                json_array_append_new(out, o);
        }
    }
    tri_kvs_free(&kvs);
    tri_buf_free(&prefix);
    return out;
}

static const json_t *items_of(const json_t *lr)
{
    return json_object_get(json_object_get(lr, "spec"), "limits");
}

/* ---------- defaults ---------- */

static json_t *child(json_t *o, const char *k)
{
    json_t *c = json_object_get(o, k);
    if (!json_is_object(c)) {
        c = json_object();
        json_object_set_new(o, k, c);
    }
    return c;
}

/* Names joined ", " in name order into out (the sorted setRequests list). */
static void join_sorted(const json_t *names, tri_buf_t *out)
{
    size_t n = json_array_size(names);
    const char *sorted[64];
    size_t k = 0;
    for (size_t i = 0; i < n && k < 64; i++)
        sorted[k++] = json_string_value(json_array_get(names, i));
    for (size_t i = 1; i < k; i++)
        for (size_t j = i; j > 0 && strcmp(sorted[j - 1], sorted[j]) > 0; j--) {
            const char *t = sorted[j];
            sorted[j] = sorted[j - 1];
            sorted[j - 1] = t;
        }
    for (size_t i = 0; i < k; i++)
        tri_buf_appendf(out, "%s%s", i ? ", " : "", sorted[i]);
}

/* Fills what dst lacks from defaults; the names set go into `set`. */
static void fill_missing(json_t *dst, const json_t *defaults, json_t *set)
{
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)defaults, k, v)
    {
        if (json_object_get(dst, k) != NULL)
            continue;
        tri_quantity_t q;
        json_object_set_new(
            dst, k, tri_quantity_from_json(v, &q) == 0 ? tri_quantity_json(&q) : json_deep_copy(v));
        json_array_append_new(set, json_string(k));
    }
}

/* Whether a container's resources can take defaults: absent, or objects where
 * given (anything else is left for validation to refuse unchanged). */
static bool mergeable(const json_t *c)
{
    const json_t *res = json_object_get(c, "resources");
    if (res == NULL)
        return true;
    const json_t *l = json_object_get(res, "limits"), *r = json_object_get(res, "requests");
    return json_is_object(res) && (l == NULL || json_is_object(l)) &&
           (r == NULL || json_is_object(r));
}

static void merge_container(json_t *c, const json_t *req, const json_t *lim, const char *what,
                            tri_buf_t *notes)
{
    if (!mergeable(c))
        return;
    json_t *res = child(c, "resources");
    json_t *set_lim = json_array(), *set_req = json_array();
    fill_missing(child(res, "limits"), lim, set_lim);
    fill_missing(child(res, "requests"), req, set_req);
    const char *name = str(c, "name");
    if (json_array_size(set_req) > 0) {
        tri_buf_appendf(notes, "%s", notes->len ? "; " : "");
        join_sorted(set_req, notes);
        tri_buf_appendf(notes, " request for %s %s", what, name);
    }
    if (json_array_size(set_lim) > 0) {
        tri_buf_appendf(notes, "%s", notes->len ? "; " : "");
        join_sorted(set_lim, notes);
        tri_buf_appendf(notes, " limit for %s %s", what, name);
    }
    /* empty maps the container did not have are not added */
    if (json_object_size(json_object_get(res, "limits")) == 0)
        json_object_del(res, "limits");
    if (json_object_size(json_object_get(res, "requests")) == 0)
        json_object_del(res, "requests");
    json_decref(set_lim);
    json_decref(set_req);
}

/* PodMutateLimitFunc for one LimitRange. */
static void default_one(const json_t *lr, json_t *pod)
{
    json_t *req = json_object(), *lim = json_object();
    size_t i;
    json_t *item;
    json_array_foreach(items_of(lr), i, item)
    {
        if (strcmp(str(item, "type"), "Container") != 0)
            continue;
        json_object_update(req, json_object_get(item, "defaultRequest"));
        json_object_update(lim, json_object_get(item, "default"));
    }
    tri_buf_t notes = {0};
    json_t *spec = json_object_get(pod, "spec");
    json_t *c;
    if (json_object_size(req) + json_object_size(lim) > 0) {
        json_array_foreach(json_object_get(spec, "containers"), i, c) if (json_is_object(c))
            merge_container(c, req, lim, "container", &notes);
        json_array_foreach(json_object_get(spec, "initContainers"), i, c) if (json_is_object(c))
            merge_container(c, req, lim, "init container", &notes);
    }
    if (notes.len > 0) {
        json_t *ann = child(child(pod, "metadata"), "annotations");
        char *v = NULL;
        tri_buf_append(&notes, "", 1);
        if (asprintf(&v, LR_ANNOTATION_PREFIX "%s", notes.data) > 0)
            json_object_set_new(ann, LR_ANNOTATION, json_string(v));
        free(v);
    }
    tri_buf_free(&notes);
    json_decref(req);
    json_decref(lim);
}

void tri_limitranger_defaults(const json_t *ranges, json_t *pod)
{
    size_t i;
    json_t *lr;
    json_array_foreach(ranges, i, lr) default_one(lr, pod);
}

/* ---------- constraints ---------- */

/* The keys of a JSON object in name order; returns how many (at most max). */
static size_t sorted_keys(const json_t *o, const char **keys, size_t max)
{
    size_t k = 0;
    const char *key;
    json_t *v;
    json_object_foreach((json_t *)o, key, v)
    {
        if (k == max)
            break;
        keys[k++] = key;
    }
    for (size_t i = 1; i < k; i++)
        for (size_t j = i; j > 0 && strcmp(keys[j - 1], keys[j]) > 0; j--) {
            const char *t = keys[j];
            keys[j] = keys[j - 1];
            keys[j - 1] = t;
        }
    return k;
}

#define MAX_KEYS 64

static bool listed(const json_t *arr, const char *s)
{
    size_t i;
    json_t *x;
    json_array_foreach(arr, i, x) if (strcmp(json_string_value(x), s) == 0) return true;
    return false;
}

static void violation(json_t *msgs, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void violation(json_t *msgs, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (!listed(msgs, msg))
        json_array_append_new(msgs, json_string(msg));
}

typedef struct observed {
    const tri_rlist_t *req, *lim;
} observed_t;

typedef struct check {
    const char *type;     /* "Container", "Pod", "PersistentVolumeClaim" */
    const char *resource; /* "cpu" */
    tri_quantity_t enforced;
    char enf[TRI_QUANTITY_STR_MAX];
} check_t;

static const char *qstr(const tri_quantity_t *q, char *buf)
{
    return tri_quantity_format(q, buf, TRI_QUANTITY_STR_MAX);
}

static void min_constraint(const check_t *c, const observed_t *o, json_t *msgs)
{
    const tri_quantity_t *req = tri_rlist_get(o->req, c->resource);
    const tri_quantity_t *lim = tri_rlist_get(o->lim, c->resource);
    char b[TRI_QUANTITY_STR_MAX];
    if (req == NULL)
        violation(msgs, "minimum %s usage per %s is %s.  No request is specified", c->resource,
                  c->type, c->enf);
    else if (tri_quantity_cmp(req, &c->enforced) < 0)
        violation(msgs, "minimum %s usage per %s is %s, but request is %s", c->resource, c->type,
                  c->enf, qstr(req, b));
    else if (lim != NULL && tri_quantity_cmp(lim, &c->enforced) < 0)
        violation(msgs, "minimum %s usage per %s is %s, but limit is %s", c->resource, c->type,
                  c->enf, qstr(lim, b));
}

static void max_constraint(const check_t *c, const observed_t *o, json_t *msgs)
{
    const tri_quantity_t *req = tri_rlist_get(o->req, c->resource);
    const tri_quantity_t *lim = tri_rlist_get(o->lim, c->resource);
    char b[TRI_QUANTITY_STR_MAX];
    if (lim == NULL)
        violation(msgs, "maximum %s usage per %s is %s.  No limit is specified", c->resource,
                  c->type, c->enf);
    else if (tri_quantity_cmp(lim, &c->enforced) > 0)
        violation(msgs, "maximum %s usage per %s is %s, but limit is %s", c->resource, c->type,
                  c->enf, qstr(lim, b));
    else if (req != NULL && tri_quantity_cmp(req, &c->enforced) > 0)
        violation(msgs, "maximum %s usage per %s is %s, but request is %s", c->resource, c->type,
                  c->enf, qstr(req, b));
}

/* A claim has no limits: its max bounds the request. */
static void max_request_constraint(const check_t *c, const observed_t *o, json_t *msgs)
{
    const tri_quantity_t *req = tri_rlist_get(o->req, c->resource);
    char b[TRI_QUANTITY_STR_MAX];
    if (req == NULL)
        violation(msgs, "maximum %s usage per %s is %s.  No request is specified", c->resource,
                  c->type, c->enf);
    else if (tri_quantity_cmp(req, &c->enforced) > 0)
        violation(msgs, "maximum %s usage per %s is %s, but request is %s", c->resource, c->type,
                  c->enf, qstr(req, b));
}

/* limitRequestRatioConstraint: compared in milli-units, as Kubernetes does. */
static void ratio_constraint(const check_t *c, const observed_t *o, json_t *msgs)
{
    const tri_quantity_t *req = tri_rlist_get(o->req, c->resource);
    const tri_quantity_t *lim = tri_rlist_get(o->lim, c->resource);
    int64_t rm = req ? tri_quantity_milli(req) : 0, lm = lim ? tri_quantity_milli(lim) : 0;
    if (rm == 0) {
        violation(msgs,
                  "%s max limit to request ratio per %s is %s, but no request is specified or "
                  "request is 0",
                  c->resource, c->type, c->enf);
        return;
    }
    if (lm == 0) {
        violation(msgs,
                  "%s max limit to request ratio per %s is %s, but no limit is specified or limit "
                  "is 0",
                  c->resource, c->type, c->enf);
        return;
    }
    double ratio = (double)lm / (double)rm;
    if (ratio * 1000.0 > (double)tri_quantity_milli(&c->enforced))
        violation(msgs, "%s max limit to request ratio per %s is %s, but provided ratio is %f",
                  c->resource, c->type, c->enf, ratio);
}

typedef void (*constraint_fn)(const check_t *, const observed_t *, json_t *);

/* Runs fn for every resource of the item's map `field` (min, max, ...). */
static void each_bound(const json_t *item, const char *field, const char *type, const observed_t *o,
                       constraint_fn fn, json_t *msgs)
{
    const json_t *m = json_object_get(item, field);
    const char *keys[MAX_KEYS];
    size_t n = sorted_keys(m, keys, MAX_KEYS);
    for (size_t i = 0; i < n; i++) {
        check_t c = {.type = type, .resource = keys[i]};
        if (tri_quantity_from_json(json_object_get(m, keys[i]), &c.enforced) != 0)
            continue; /* LimitRange validation refuses these; nothing to enforce */
        qstr(&c.enforced, c.enf);
        fn(&c, o, msgs);
    }
}

static void check_observed(const json_t *item, const char *type, const observed_t *o, json_t *msgs)
{
    each_bound(item, "min", type, o, min_constraint, msgs);
    each_bound(item, "max", type, o, max_constraint, msgs);
    each_bound(item, "maxLimitRequestRatio", type, o, ratio_constraint, msgs);
}

static void check_containers(const json_t *item, const json_t *list, json_t *msgs)
{
    size_t i;
    json_t *c;
    json_array_foreach(list, i, c)
    {
        const json_t *res = json_object_get(c, "resources");
        tri_rlist_t req = {0}, lim = {0};
        tri_rlist_from_json(&req, json_object_get(res, "requests"));
        tri_rlist_from_json(&lim, json_object_get(res, "limits"));
        observed_t o = {&req, &lim};
        check_observed(item, "Container", &o, msgs);
        tri_rlist_free(&req);
        tri_rlist_free(&lim);
    }
}

static void check_pod_item(const json_t *item, const json_t *pod, json_t *msgs)
{
    const json_t *spec = json_object_get(pod, "spec");
    const char *type = str(item, "type");
    if (strcmp(type, "Container") == 0) {
        check_containers(item, json_object_get(spec, "containers"), msgs);
        check_containers(item, json_object_get(spec, "initContainers"), msgs);
        return;
    }
    if (strcmp(type, "Pod") != 0)
        return;
    tri_rlist_t req = {0}, lim = {0};
    tri_pod_resources(spec, "requests", &req);
    tri_pod_resources(spec, "limits", &lim);
    observed_t o = {&req, &lim};
    check_observed(item, "Pod", &o, msgs);
    tri_rlist_free(&req);
    tri_rlist_free(&lim);
}

static void check_claim_item(const json_t *item, const json_t *pvc, json_t *msgs)
{
    if (strcmp(str(item, "type"), "PersistentVolumeClaim") != 0)
        return;
    tri_rlist_t req = {0}, none = {0};
    tri_rlist_from_json(
        &req,
        json_object_get(json_object_get(json_object_get(pvc, "spec"), "resources"), "requests"));
    observed_t o = {&req, &none};
    each_bound(item, "min", "PersistentVolumeClaim", &o, min_constraint, msgs);
    each_bound(item, "max", "PersistentVolumeClaim", &o, max_request_constraint, msgs);
    tri_rlist_free(&req);
}

json_t *tri_limitranger_violations(const json_t *ranges, bool claim, const json_t *obj)
{
    json_t *msgs = json_array();
    size_t i, j;
    json_t *lr, *item;
    json_array_foreach(ranges, i, lr)
    {
        json_array_foreach(items_of(lr), j, item)
        {
            if (claim)
                check_claim_item(item, obj, msgs);
            else
                check_pod_item(item, obj, msgs);
        }
    }
    return msgs;
}

/* apimachinery's aggregate error text: one message as is, several in brackets. */
static void aggregate(const json_t *msgs, tri_buf_t *out)
{
    size_t n = json_array_size(msgs);
    if (n > 1)
        tri_buf_append(out, "[", 1);
    for (size_t i = 0; i < n; i++)
        tri_buf_appendf(out, "%s%s", i ? ", " : "", json_string_value(json_array_get(msgs, i)));
    if (n > 1)
        tri_buf_append(out, "]", 1);
    tri_buf_append(out, "", 1);
}

/* ---------- the plugin ---------- */

static bool is(const tri_admit_t *a, const tri_resource_t *r)
{
    return a->r == r || a->r->storage == r;
}

void tri_admit_limit_ranger_mutate(const tri_admit_t *a, json_t *pod, tri_status_t *st)
{
    (void)st;
    if (!a->create || !is(a, &tri_res_pods))
        return;
    json_t *ranges = namespace_ranges(a->api, a->ns);
    tri_limitranger_defaults(ranges, pod);
    json_decref(ranges);
}

void tri_admit_limit_ranger_validate(const tri_admit_t *a, const json_t *obj, const json_t *old,
                                     tri_status_t *st)
{
    bool claim = is(a, &tri_res_persistentvolumeclaims);
    if (!claim && !(is(a, &tri_res_pods) && a->create))
        return;
    /* an object being deleted is left alone (only its finalizers may change) */
    if (old != NULL && json_object_get(json_object_get(old, "metadata"), "deletionTimestamp"))
        return;
    json_t *ranges = namespace_ranges(a->api, a->ns);
    json_t *msgs = json_array_size(ranges) ? tri_limitranger_violations(ranges, claim, obj) : NULL;
    if (json_array_size(msgs) > 0) {
        tri_buf_t why = {0};
        aggregate(msgs, &why);
        tri_admit_forbid(a, st, "%s", why.data);
        tri_buf_free(&why);
    }
    json_decref(msgs);
    json_decref(ranges);
}
