/* Keeping the default policy (policy.c) in the store, leader-side, the way
 * kube-apiserver's rbac/bootstrap-roles post-start hook and the
 * clusterrole-aggregation controller do:
 *
 *   - a default ClusterRole or ClusterRoleBinding that is missing is created;
 *   - one that exists and does not carry rbac.authorization.kubernetes.io/
 *     autoupdate=false gets what it lacks: default rules no existing rule covers,
 *     aggregation selectors, subjects, the bootstrapping label and annotations.
 *     Nothing is removed (an operator's additions stay);
 *   - every aggregated ClusterRole (defaults or not) gets its computed rules
 *     written back into .rules, so kubectl shows them. Authorization does not wait
 *     for this: rbac.c computes aggregation at evaluation time.
 *
 * The plan is computed from the local store (current on the leader after its
 * barrier) and written through the typed client with leader-only proposals;
 * updates carry the resourceVersion read, so a concurrent edit wins and the next
 * round (the daemon calls this periodically) tries again. Idempotent: with
 * everything in place the plan is empty and nothing is written.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../api/resources.h"
#include "authz_internal.h"
#include "triarch/log.h"

/* ---------- reading ---------- */

static json_t *read_object(tri_store_t *store, const tri_resource_t *r, const char *name)
{
    tri_buf_t key = {0};
    tri_registry_key(r, NULL, name, &key);
    tri_kv_t kv;
    json_t *obj = NULL;
    if (key.data != NULL && tri_store_get(store, key.data, key.len, 0, &kv) == 0) {
        obj = tri_object_load(kv.val, kv.mod_rev);
        tri_kv_release(&kv);
    }
    tri_buf_free(&key);
    return obj;
}

static bool autoupdate_off(const json_t *obj)
{
    const json_t *ann = json_object_get(json_object_get(obj, "metadata"), "annotations");
    const char *v = jstr(ann, AUTOUPDATE_ANNOTATION);
    return v != NULL && strcmp(v, "false") == 0;
}

/* ---------- rule coverage ---------- */

/* Does some rule of `have` allow every request `want` allows? Checked atom by
 * atom (verb x group x resource x name, or verb x URL) with the authorizer's own
 * matching, which is what coverage means for the authorizer. */
static bool atom_covered(const rbac_rule_t *have, size_t n, const tri_authz_attrs_t *a)
{
    for (size_t i = 0; i < n; i++)
        if (rbac_rule_allows(&have[i], a))
            return true;
    return false;
}

static bool resource_atoms_covered(const rbac_rule_t *have, size_t n, const rbac_rule_t *w,
                                   tri_authz_attrs_t *a)
{
    for (size_t g = 0; g < w->groups.n; g++)
        for (size_t r = 0; r < w->resources.n; r++) {
            char res[256];
            snprintf(res, sizeof res, "%s", w->resources.v[r]);
            char *slash = strchr(res, '/');
            if (slash != NULL)
                *slash = '\0';
            a->api_group = w->groups.v[g];
            a->resource = res;
            a->subresource = slash ? slash + 1 : "";
            for (size_t k = 0; k < (w->names.n ? w->names.n : 1); k++) {
                a->name = w->names.n ? w->names.v[k] : "";
                if (!atom_covered(have, n, a))
                    return false;
            }
        }
    return true;
}

static bool rule_covered(const rbac_rule_t *have, size_t n, const rbac_rule_t *w)
{
    tri_user_t nobody = {0};
    tri_authz_attrs_t a = {.user = &nobody, .namespace_ = "", .api_version = "", .path = ""};
    for (size_t v = 0; v < w->verbs.n; v++) {
        a.verb = w->verbs.v[v];
        if (w->urls.n > 0) {
            a.resource_request = false;
            for (size_t u = 0; u < w->urls.n; u++) {
                a.path = w->urls.v[u];
                if (!atom_covered(have, n, &a))
                    return false;
            }
            continue;
        }
        a.resource_request = true;
        if (!resource_atoms_covered(have, n, w, &a))
            return false;
    }
    return true;
}

/* Appends to obj.rules the rules of want that obj's rules do not cover. */
static bool add_missing_rules(json_t *obj, const json_t *want)
{
    json_t *rules = json_object_get(obj, "rules");
    if (!json_is_array(rules)) {
        rules = json_array();
        json_object_set_new(obj, "rules", rules);
    }
    size_t n = json_array_size(rules);
    rbac_rule_t *have = calloc(n ? n : 1, sizeof *have);
    if (have == NULL)
        return false;
    for (size_t i = 0; i < n; i++)
        rbac_rule_compile(json_array_get(rules, i), &have[i]);
    bool changed = false;
    size_t i;
    json_t *wj;
    json_array_foreach(json_object_get(want, "rules"), i, wj)
    {
        rbac_rule_t w;
        if (rbac_rule_compile(wj, &w) != 0)
            continue;
        if (!rule_covered(have, n, &w)) {
            json_array_append(rules, wj);
            changed = true;
        }
        rbac_rule_free(&w);
    }
    for (size_t k = 0; k < n; k++)
        rbac_rule_free(&have[k]);
    free(have);
    return changed;
}

/* ---------- merging ---------- */

static bool add_missing_keys(json_t *meta, const char *field, const json_t *want)
{
    json_t *have = json_object_get(meta, field);
    if (!json_is_object(have)) {
        have = json_object();
        json_object_set_new(meta, field, have);
    }
    bool changed = false;
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)want, k, v)
    {
        if (json_object_get(have, k) == NULL) {
            json_object_set(have, k, v);
            changed = true;
        }
    }
    return changed;
}

/* Appends the elements of want[field] that obj[field] lacks (subjects, selectors). */
static bool add_missing_elems(json_t *parent, const char *field, const json_t *want)
{
    json_t *have = json_object_get(parent, field);
    if (!json_is_array(have)) {
        have = json_array();
        json_object_set_new(parent, field, have);
    }
    bool changed = false;
    size_t i, j;
    json_t *w, *h;
    json_array_foreach(want, i, w)
    {
        bool found = false;
        json_array_foreach(have, j, h) found = found || json_equal(h, w);
        if (!found) {
            json_array_append(have, w);
            changed = true;
        }
    }
    return changed;
}

static bool merge_meta(json_t *obj, const json_t *want)
{
    json_t *meta = json_object_get(obj, "metadata");
    const json_t *wmeta = json_object_get(want, "metadata");
    bool a = add_missing_keys(meta, "labels", json_object_get(wmeta, "labels"));
    bool b = add_missing_keys(meta, "annotations", json_object_get(wmeta, "annotations"));
    return a || b;
}

static bool merge_role(json_t *obj, const json_t *want)
{
    bool changed = merge_meta(obj, want);
    const json_t *wagg = json_object_get(want, "aggregationRule");
    if (wagg != NULL) {
        json_t *agg = json_object_get(obj, "aggregationRule");
        if (!json_is_object(agg)) {
            agg = json_object();
            json_object_set_new(obj, "aggregationRule", agg);
        }
        changed |= add_missing_elems(agg, "clusterRoleSelectors",
                                     json_object_get(wagg, "clusterRoleSelectors"));
        return changed; /* its rules are computed (below) */
    }
    return add_missing_rules(obj, want) || changed;
}

static bool merge_binding(json_t *obj, const json_t *want)
{
    bool changed = merge_meta(obj, want);
    return add_missing_elems(obj, "subjects", json_object_get(want, "subjects")) || changed;
}

/* ---------- the plan ---------- */

static void plan_add(json_t *plan, const char *op, const char *resource, json_t *obj)
{
    json_array_append_new(
        plan, json_pack("{s:s, s:s, s:o}", "op", op, "resource", resource, "object", obj));
}

/* Aggregated role obj: set its computed rules; true if they changed. */
static bool set_aggregated_rules(tri_authz_t *a, json_t *obj)
{
    if (a == NULL || !json_is_object(json_object_get(obj, "aggregationRule")))
        return false;
    json_t *rules = tri_authz_aggregated_rules(a, jstr(json_object_get(obj, "metadata"), "name"));
    if (rules == NULL)
        return false;
    if (json_equal(rules, json_object_get(obj, "rules"))) {
        json_decref(rules);
        return false;
    }
    json_object_set_new(obj, "rules", rules);
    return true;
}

static void plan_defaults(tri_authz_t *a, tri_store_t *store, json_t *plan, bool roles)
{
    const tri_resource_t *r = roles ? &tri_res_clusterroles : &tri_res_clusterrolebindings;
    json_t *want = roles ? policy_clusterroles() : policy_clusterrolebindings();
    size_t i;
    json_t *w;
    json_array_foreach(want, i, w)
    {
        const char *name = jstr(json_object_get(w, "metadata"), "name");
        json_t *have = read_object(store, r, name);
        if (have == NULL) {
            plan_add(plan, "create", r->plural, json_incref(w));
            continue;
        }
        bool changed = false;
        if (!autoupdate_off(have))
            changed = roles ? merge_role(have, w) : merge_binding(have, w);
        if (roles)
            changed |= set_aggregated_rules(a, have);
        if (changed)
            plan_add(plan, "update", r->plural, have);
        else
            json_decref(have);
    }
    json_decref(want);
}

static bool is_default_role(const json_t *defaults, const char *name)
{
    size_t i;
    json_t *d;
    json_array_foreach(defaults, i, d)
    {
        if (strcmp(jstr_or(json_object_get(d, "metadata"), "name", ""), name) == 0)
            return true;
    }
    return false;
}

/* Aggregated ClusterRoles that are not defaults (the defaults were done above). */
static void plan_aggregated(tri_authz_t *a, tri_store_t *store, json_t *plan)
{
    tri_buf_t prefix = {0};
    tri_registry_prefix(&tri_res_clusterroles, NULL, &prefix);
    char end[512];
    size_t end_len = tri_prefix_end(prefix.data, prefix.len, end);
    tri_kvs_t kvs = {0};
    bool more = false;
    json_t *defaults = policy_clusterroles();
    if (tri_store_range(store, prefix.data, prefix.len, end, end_len, 0, 0, &kvs, &more) == 0)
        for (size_t i = 0; i < kvs.n; i++) {
            json_t *obj = tri_object_load(kvs.items[i].val, kvs.items[i].mod_rev);
            const char *name = jstr(json_object_get(obj, "metadata"), "name");
            if (name != NULL && !is_default_role(defaults, name) && set_aggregated_rules(a, obj))
                plan_add(plan, "update", tri_res_clusterroles.plural, obj);
            else
                json_decref(obj);
        }
    json_decref(defaults);
    tri_kvs_free(&kvs);
    tri_buf_free(&prefix);
}

json_t *tri_authz_defaults_plan(tri_authz_t *a, tri_store_t *store)
{
    json_t *plan = json_array();
    plan_defaults(a, store, plan, true);
    plan_defaults(a, store, plan, false);
    if (a != NULL)
        plan_aggregated(a, store, plan);
    return plan;
}

/* ---------- writing ---------- */

typedef struct ensure_op {
    tri_api_op_t op;
    char what[300];
} ensure_op_t;

static void on_written(tri_api_op_t *op)
{
    ensure_op_t *e = op->data;
    if (op->status.code == 0)
        tri_info("authz", "wrote default RBAC policy object", "object=%s", e->what);
    else if (op->status.code != 409) /* 409: another round or a user got there first */
        tri_warn("authz", "could not write default RBAC policy object",
                 "object=%s code=%d message=\"%s\"", e->what, op->status.code, op->status.message);
    tri_api_op_release(op);
    free(e);
}

void tri_authz_ensure_defaults(tri_authz_t *a, tri_api_t *api)
{
    json_t *plan = tri_authz_defaults_plan(a, tri_api_store(api));
    size_t i;
    json_t *step;
    json_array_foreach(plan, i, step)
    {
        const char *op = jstr(step, "op");
        const tri_resource_t *r = strcmp(jstr_or(step, "resource", ""), "clusterroles") == 0
                                      ? &tri_res_clusterroles
                                      : &tri_res_clusterrolebindings;
        json_t *obj = json_object_get(step, "object");
        const char *name = jstr_or(json_object_get(obj, "metadata"), "name", "");
        ensure_op_t *e = calloc(1, sizeof *e);
        if (e == NULL)
            break;
        snprintf(e->what, sizeof e->what, "%s/%s", r->plural, name);
        e->op.data = e;
        e->op.leader_only = true;
        e->op.field_manager = "triarchd";
        if (strcmp(op, "create") == 0)
            tri_api_create(api, &e->op, r, NULL, json_incref(obj), false, on_written);
        else
            tri_api_update(api, &e->op, r, NULL, name, obj, false, on_written);
    }
    json_decref(plan);
}
