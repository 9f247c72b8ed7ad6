/* apps/v1 resources: Deployments, ReplicaSets, StatefulSets, DaemonSets and
 * ControllerRevisions — Kubernetes' defaulting of the fields users omit, the
 * validation that matters (selector present, non-empty, matching the template's
 * labels and immutable; the pod template's containers), and Table cells as
 * kubectl prints them.
 *
 * A pod template is defaulted and validated here for every kind that has one
 * (tri_podtemplate_default/_validate: the pod spec rules of res_pods.c plus what a
 * template adds), next to a few small helpers the other named-group files share
 * (label selectors, ages, defaults of one field), declared in resources.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "resources.h"
#include "triarch/codec.h"

/* Kubernetes' defaults (k8s.io/kubernetes/pkg/apis/{core,apps}/v1/defaults.go). */
#define DEFAULT_REVISION_HISTORY 10   /* revisionHistoryLimit */
#define DEFAULT_PROGRESS_DEADLINE 600 /* progressDeadlineSeconds */
#define MAX_REQS 64                   /* label selector requirements formatted per selector */

/* ---------- small shared helpers ---------- */

json_t *tri_field_child(json_t *obj, const char *key)
{
    json_t *c = json_object_get(obj, key);
    if (!json_is_object(c)) {
        c = json_object();
        json_object_set_new(obj, key, c);
    }
    return c;
}

void tri_field_default(json_t *obj, const char *key, json_t *val)
{
    json_t *cur = json_object_get(obj, key);
    if (json_is_object(obj) && (cur == NULL || json_is_null(cur)))
        json_object_set_new(obj, key, val);
    else
        json_decref(val);
}

void tri_duration_format(long long s, char *out, size_t len)
{
    tri_human_duration(s, out, len); /* the one HumanDuration, in table.c */
}

bool tri_time_parse(const char *ts, int64_t *out)
{
    struct tm tm = {0};
    if (ts == NULL || sscanf(ts, "%4d-%2d-%2dT%2d:%2d:%2d", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
                             &tm.tm_hour, &tm.tm_min, &tm.tm_sec) != 6)
        return false;
    tm.tm_year -= 1900;
    tm.tm_mon -= 1;
    *out = (int64_t)timegm(&tm);
    return true;
}

void tri_validate_name(const json_t *obj, bool label, tri_status_t *st)
{
    const char *name = json_string_value(json_object_get(json_object_get(obj, "metadata"), "name"));
    if (name == NULL)
        return;
    const char *msg =
        label ? tri_validate_dns1123_label(name) : tri_validate_dns1123_subdomain(name);
    if (msg)
        tri_status_add_cause(st, "FieldValueInvalid", "metadata.name", "Invalid value: \"%s\": %s",
                             name, msg);
}

void tri_validate_min(const json_t *o, const char *key, const char *path, long long min,
                      tri_status_t *st)
{
    json_t *v = json_object_get(o, key);
    if (v == NULL || json_is_null(v))
        return;
    if (!json_is_integer(v)) {
        tri_status_add_cause(st, "FieldValueInvalid", path, "Invalid value: must be an integer");
        return;
    }
    if (json_integer_value(v) < min)
        tri_status_add_cause(st, "FieldValueInvalid", path,
                             "Invalid value: %lld: must be greater than or equal to %lld",
                             (long long)json_integer_value(v), min);
}

bool tri_validate_enum(const json_t *o, const char *key, const char *path,
                       const char *const *allowed, tri_status_t *st)
{
    json_t *v = json_object_get(o, key);
    if (v == NULL || json_is_null(v))
        return true;
    const char *s = json_string_value(v);
    for (size_t i = 0; s && allowed[i]; i++)
        if (strcmp(s, allowed[i]) == 0)
            return true;
    tri_buf_t list = {0};
    for (size_t i = 0; allowed[i]; i++)
        tri_buf_appendf(&list, "%s\"%s\"", i ? ", " : "", allowed[i]);
    tri_status_add_cause(st, "FieldValueNotSupported", path,
                         "Unsupported value: \"%s\": supported values: %.*s", s ? s : "",
                         (int)list.len, list.data ? list.data : "");
    tri_buf_free(&list);
    return false;
}

/* ---------- label selectors ---------- */

typedef struct req {
    const char *key;
    const char *op;
    const json_t *values; /* array, or a string for matchLabels */
} req_t;

static int req_cmp(const void *a, const void *b)
{
    return strcmp(((const req_t *)a)->key, ((const req_t *)b)->key);
}

static int str_cmp(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static void format_values(const json_t *values, tri_buf_t *out)
{
    const char *vals[MAX_REQS];
    size_t n = 0, i;
    json_t *v;
    json_array_foreach(values, i, v)
    {
        if (n < MAX_REQS && json_is_string(v))
            vals[n++] = json_string_value(v);
    }
    qsort(vals, n, sizeof vals[0], str_cmp);
    for (i = 0; i < n; i++)
        tri_buf_appendf(out, "%s%s", i ? "," : "", vals[i]);
}

void tri_labelsel_format(const json_t *sel, tri_buf_t *out)
{
    req_t reqs[MAX_REQS];
    size_t n = 0, i;
    const char *k;
    json_t *v;
    json_object_foreach(json_object_get(sel, "matchLabels"), k, v)
    {
        if (n < MAX_REQS)
            reqs[n++] = (req_t){k, "=", v};
    }
    json_array_foreach(json_object_get(sel, "matchExpressions"), i, v)
    {
        const char *key = json_string_value(json_object_get(v, "key"));
        const char *op = json_string_value(json_object_get(v, "operator"));
        if (key && op && n < MAX_REQS)
            reqs[n++] = (req_t){key, op, json_object_get(v, "values")};
    }
    qsort(reqs, n, sizeof reqs[0], req_cmp);
    for (i = 0; i < n; i++) {
        const req_t *r = &reqs[i];
        if (i)
            tri_buf_append(out, ",", 1);
        if (strcmp(r->op, "=") == 0) {
            tri_buf_appendf(out, "%s=%s", r->key, json_string_value(r->values) ?: "");
        } else if (strcmp(r->op, "In") == 0 || strcmp(r->op, "NotIn") == 0) {
            tri_buf_appendf(out, "%s %s (", r->key, strcmp(r->op, "In") == 0 ? "in" : "notin");
            format_values(r->values, out);
            tri_buf_append(out, ")", 1);
        } else if (strcmp(r->op, "Exists") == 0) {
            tri_buf_appendf(out, "%s", r->key);
        } else {
            tri_buf_appendf(out, "!%s", r->key);
        }
    }
}

/* metav1.FormatLabelSelector: "<none>" when it selects everything. */
static json_t *selector_cell(const json_t *sel)
{
    tri_buf_t b = {0};
    tri_labelsel_format(sel, &b);
    json_t *s = b.len ? json_stringn(b.data, b.len) : json_string("<none>");
    tri_buf_free(&b);
    return s;
}

static bool value_in(const json_t *values, const char *s)
{
    size_t i;
    json_t *v;
    json_array_foreach(values, i, v)
    {
        if (json_is_string(v) && strcmp(json_string_value(v), s) == 0)
            return true;
    }
    return false;
}

bool tri_labelsel_matches(const json_t *sel, const json_t *labels)
{
    const char *k;
    json_t *v;
    json_object_foreach(json_object_get(sel, "matchLabels"), k, v)
    {
        json_t *have = json_object_get(labels, k);
        if (!json_is_string(have) || !json_is_string(v) ||
            strcmp(json_string_value(have), json_string_value(v)) != 0)
            return false;
    }
    size_t i;
    json_array_foreach(json_object_get(sel, "matchExpressions"), i, v)
    {
        const char *key = json_string_value(json_object_get(v, "key"));
        const char *op = json_string_value(json_object_get(v, "operator"));
        const char *have = key ? json_string_value(json_object_get(labels, key)) : NULL;
        const json_t *values = json_object_get(v, "values");
        if (op == NULL)
            return false;
        if (strcmp(op, "In") == 0 && !(have && value_in(values, have)))
            return false;
        if (strcmp(op, "NotIn") == 0 && have && value_in(values, have))
            return false;
        if (strcmp(op, "Exists") == 0 && !have)
            return false;
        if (strcmp(op, "DoesNotExist") == 0 && have)
            return false;
    }
    return true;
}

static bool selector_empty(const json_t *sel)
{
    return json_object_size(json_object_get(sel, "matchLabels")) == 0 &&
           json_array_size(json_object_get(sel, "matchExpressions")) == 0;
}

static void validate_label_map(const json_t *labels, const char *path, tri_status_t *st)
{
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)labels, k, v)
    {
        const char *msg = tri_validate_qualified_name(k);
        if (msg)
            tri_status_add_cause(st, "FieldValueInvalid", path, "Invalid value: \"%s\": %s", k,
                                 msg);
        if (!json_is_string(v))
            tri_status_add_cause(st, "FieldValueInvalid", path,
                                 "Invalid value: value of \"%s\" must be a string", k);
        else if ((msg = tri_validate_label_value(json_string_value(v))) != NULL)
            tri_status_add_cause(st, "FieldValueInvalid", path, "Invalid value: \"%s\": %s",
                                 json_string_value(v), msg);
    }
}

void tri_labelsel_validate(const json_t *sel, const char *path, tri_status_t *st)
{
    static const char *const ops[] = {"In", "NotIn", "Exists", "DoesNotExist", NULL};
    char p[256];
    snprintf(p, sizeof p, "%s.matchLabels", path);
    validate_label_map(json_object_get(sel, "matchLabels"), p, st);
    size_t i;
    json_t *e;
    json_array_foreach(json_object_get(sel, "matchExpressions"), i, e)
    {
        snprintf(p, sizeof p, "%s.matchExpressions[%zu].operator", path, i);
        if (!json_is_string(json_object_get(e, "key")))
            tri_status_add_cause(st, "FieldValueRequired", p, "Required value: key");
        if (!tri_validate_enum(e, "operator", p, ops, st) || json_object_get(e, "operator") == NULL)
            continue;
        const char *op = json_string_value(json_object_get(e, "operator"));
        bool has_values = json_array_size(json_object_get(e, "values")) > 0;
        bool set_op = strcmp(op, "In") == 0 || strcmp(op, "NotIn") == 0;
        snprintf(p, sizeof p, "%s.matchExpressions[%zu].values", path, i);
        if (set_op && !has_values)
            tri_status_add_cause(st, "FieldValueRequired", p,
                                 "Required value: must be specified when `operator` is 'In' or "
                                 "'NotIn'");
        if (!set_op && has_values)
            tri_status_add_cause(st, "FieldValueForbidden", p,
                                 "Forbidden: may not be specified when `operator` is 'Exists' or "
                                 "'DoesNotExist'");
    }
}

static char *dump(const json_t *v)
{
    return v ? json_dumps(v, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY) : strdup("null");
}

/* The rules every controller with a selector and a template shares: selector
 * required and non-empty, template labels selected by it, selector immutable. */
static void validate_selector_template(const json_t *spec, const json_t *old_spec, const char *kind,
                                       tri_status_t *st)
{
    const json_t *sel = json_object_get(spec, "selector");
    if (sel == NULL || json_is_null(sel)) {
        tri_status_add_cause(st, "FieldValueRequired", "spec.selector", "Required value");
        return;
    }
    if (!json_is_object(sel)) {
        tri_status_add_cause(st, "FieldValueInvalid", "spec.selector",
                             "Invalid value: must be a LabelSelector object");
        return;
    }
    char *s = dump(sel);
    if (selector_empty(sel))
        tri_status_add_cause(st, "FieldValueInvalid", "spec.selector",
                             "Invalid value: %s: empty selector is invalid for %s", s, kind);
    size_t before = json_array_size(st->causes);
    tri_labelsel_validate(sel, "spec.selector", st);
    const json_t *labels =
        json_object_get(json_object_get(json_object_get(spec, "template"), "metadata"), "labels");
    if (json_array_size(st->causes) == before && !selector_empty(sel) &&
        !tri_labelsel_matches(sel, labels)) {
        char *l = dump(labels);
        tri_status_add_cause(st, "FieldValueInvalid", "spec.template.metadata.labels",
                             "Invalid value: %s: `selector` does not match template `labels`", l);
        free(l);
    }
    if (old_spec != NULL && !json_equal(sel, json_object_get(old_spec, "selector")))
        tri_status_add_cause(st, "FieldValueInvalid", "spec.selector",
                             "Invalid value: %s: field is immutable", s);
    free(s);
}

/* ---------- pod templates ---------- */

void tri_podtemplate_default(json_t *tmpl)
{
    if (!json_is_object(tmpl))
        return;
    /* Kubernetes serializes the template's empty ObjectMeta with a null timestamp */
    json_t *meta = tri_field_child(tmpl, "metadata");
    if (json_object_get(meta, "creationTimestamp") == NULL)
        json_object_set_new(meta, "creationTimestamp", json_null());
    json_t *spec = tri_field_child(tmpl, "spec");
    bool links = json_object_get(spec, "enableServiceLinks") != NULL;
    tri_pod_spec_default(spec);
    /* enableServiceLinks is SetDefaults_Pod's, not part of a template's defaults */
    if (!links)
        json_object_del(spec, "enableServiceLinks");
}

void tri_podtemplate_validate(const json_t *tmpl, const char *path, const char *const *restart,
                              tri_status_t *st)
{
    char p[256];
    snprintf(p, sizeof p, "%s.metadata.labels", path);
    validate_label_map(json_object_get(json_object_get(tmpl, "metadata"), "labels"), p, st);
    const json_t *spec = json_object_get(tmpl, "spec");
    snprintf(p, sizeof p, "%s.spec", path);
    tri_pod_spec_validate(spec, p, st);
    snprintf(p, sizeof p, "%s.spec.restartPolicy", path);
    if (restart && json_is_string(json_object_get(spec, "restartPolicy")))
        tri_validate_enum(spec, "restartPolicy", p, restart, st);
}

static const char *const restart_always[] = {"Always", NULL};

/* ---------- Table cells shared by the workload kinds ---------- */

static const json_t *template_spec(const json_t *obj)
{
    return json_object_get(json_object_get(json_object_get(obj, "spec"), "template"), "spec");
}

json_t *tri_row_new(const json_t *obj)
{
    json_t *name = json_object_get(json_object_get(obj, "metadata"), "name");
    return json_pack("[O]", name ? name : json_string(""));
}

void tri_row_extend(json_t *row, json_t *cells)
{
    json_array_extend(row, cells);
    json_decref(cells);
}

void tri_row_add_age(json_t *row, const json_t *obj)
{
    char age[32];
    tri_table_age(
        json_string_value(json_object_get(json_object_get(obj, "metadata"), "creationTimestamp")),
        age, sizeof age);
    json_array_append_new(row, json_string(age));
}

/* layoutContainerCells: the containers' names and images, comma-joined. */
void tri_row_add_containers(json_t *row, const json_t *podspec)
{
    tri_buf_t names = {0}, images = {0};
    size_t i;
    json_t *c;
    json_array_foreach(json_object_get(podspec, "containers"), i, c)
    {
        const char *n = json_string_value(json_object_get(c, "name"));
        const char *im = json_string_value(json_object_get(c, "image"));
        tri_buf_appendf(&names, "%s%s", i ? "," : "", n ? n : "");
        tri_buf_appendf(&images, "%s%s", i ? "," : "", im ? im : "");
    }
    json_array_append_new(row, json_stringn(names.data ? names.data : "", names.len));
    json_array_append_new(row, json_stringn(images.data ? images.data : "", images.len));
    tri_buf_free(&names);
    tri_buf_free(&images);
}

static json_int_t int_at(const json_t *o, const char *a, const char *b)
{
    return json_integer_value(json_object_get(json_object_get(o, a), b));
}

/* ---------- deployments ---------- */

static const tri_column_t deploy_columns[] = {
    TRI_NAME_COLUMN,
    {"Ready", "string", "", "Number of the pod with ready state", 0},
    {"Up-to-date", "string", "",
     "Total number of non-terminated pods targeted by this "
     "deployment that have the desired template spec.",
     0},
    {"Available", "string", "",
     "Total number of available pods (ready for at least "
     "minReadySeconds) targeted by this deployment.",
     0},
    TRI_AGE_COLUMN,
    TRI_CONTAINERS_COLUMN,
    TRI_IMAGES_COLUMN,
    {"Selector", "string", "", "Label selector for pods.", 1},
};

static json_t *deploy_cells(const json_t *obj)
{
    char ready[64];
    snprintf(ready, sizeof ready, "%lld/%lld", (long long)int_at(obj, "status", "readyReplicas"),
             (long long)int_at(obj, "spec", "replicas"));
    json_t *cells = tri_row_new(obj);
    tri_row_extend(cells, json_pack("[s, I, I]", ready, int_at(obj, "status", "updatedReplicas"),
                                    int_at(obj, "status", "availableReplicas")));
    tri_row_add_age(cells, obj);
    tri_row_add_containers(cells, template_spec(obj));
    /* printDeployment prints the selector as is ("" when it selects everything) */
    tri_buf_t sel = {0};
    tri_labelsel_format(json_object_get(json_object_get(obj, "spec"), "selector"), &sel);
    json_array_append_new(cells, json_stringn(sel.data ? sel.data : "", sel.len));
    tri_buf_free(&sel);
    return cells;
}

static void deploy_prepare(json_t *obj, const json_t *old)
{
    json_t *spec = tri_field_child(obj, "spec");
    tri_field_default(spec, "replicas", json_integer(1));
    json_t *strategy = tri_field_child(spec, "strategy");
    tri_field_default(strategy, "type", json_string("RollingUpdate"));
    const char *type = json_string_value(json_object_get(strategy, "type"));
    if (type && strcmp(type, "RollingUpdate") == 0) {
        json_t *ru = tri_field_child(strategy, "rollingUpdate");
        tri_field_default(ru, "maxUnavailable", json_string("25%"));
        tri_field_default(ru, "maxSurge", json_string("25%"));
    }
    tri_field_default(spec, "revisionHistoryLimit", json_integer(DEFAULT_REVISION_HISTORY));
    tri_field_default(spec, "progressDeadlineSeconds", json_integer(DEFAULT_PROGRESS_DEADLINE));
    tri_podtemplate_default(json_object_get(spec, "template"));
    if (old == NULL)
        json_object_set_new(obj, "status", json_object());
}

/* IntOrString as a count or a percentage: value in *n, true when valid. */
static bool int_or_percent(const json_t *v, long long *n, bool *pct)
{
    if (json_is_integer(v)) {
        *n = json_integer_value(v);
        *pct = false;
        return true;
    }
    const char *s = json_string_value(v);
    char *end = NULL;
    if (s == NULL || s[0] == '\0')
        return false;
    *n = strtoll(s, &end, 10);
    *pct = true;
    return end != s && strcmp(end, "%") == 0;
}

static void validate_int_or_percent(const json_t *o, const char *key, const char *path, bool max100,
                                    long long *out, tri_status_t *st)
{
    json_t *v = json_object_get(o, key);
    long long n = 0;
    bool pct = false;
    *out = -1;
    if (v == NULL || json_is_null(v))
        return;
    char *s = dump(v);
    if (!int_or_percent(v, &n, &pct))
        tri_status_add_cause(st, "FieldValueInvalid", path,
                             "Invalid value: %s: a valid percent string must be a numeric string "
                             "followed by an ending '%%' (e.g. '1%%',  or '93%%')",
                             s);
    else if (n < 0)
        tri_status_add_cause(st, "FieldValueInvalid", path,
                             "Invalid value: %s: must be greater than or equal to 0", s);
    else if (pct && max100 && n > 100)
        tri_status_add_cause(st, "FieldValueInvalid", path,
                             "Invalid value: %s: must not be greater than 100%%", s);
    else
        *out = n;
    free(s);
}

static void validate_deploy_strategy(const json_t *spec, tri_status_t *st)
{
    static const char *const types[] = {"Recreate", "RollingUpdate", NULL};
    const json_t *strategy = json_object_get(spec, "strategy");
    if (!tri_validate_enum(strategy, "type", "spec.strategy.type", types, st))
        return;
    const char *type = json_string_value(json_object_get(strategy, "type"));
    const json_t *ru = json_object_get(strategy, "rollingUpdate");
    if (type && strcmp(type, "Recreate") == 0 && ru && !json_is_null(ru)) {
        tri_status_add_cause(st, "FieldValueForbidden", "spec.strategy.rollingUpdate",
                             "Forbidden: may not be specified when strategy `type` is "
                             "'Recreate'");
        return;
    }
    long long unavailable, surge;
    validate_int_or_percent(ru, "maxUnavailable", "spec.strategy.rollingUpdate.maxUnavailable",
                            true, &unavailable, st);
    validate_int_or_percent(ru, "maxSurge", "spec.strategy.rollingUpdate.maxSurge", false, &surge,
                            st);
    if (unavailable == 0 && surge == 0)
        tri_status_add_cause(st, "FieldValueInvalid", "spec.strategy.rollingUpdate.maxUnavailable",
                             "Invalid value: 0: may not be 0 when `maxSurge` is 0");
}

static void deploy_validate(const json_t *obj, const json_t *old, tri_status_t *st)
{
    tri_validate_name(obj, false, st);
    const json_t *spec = json_object_get(obj, "spec");
    tri_validate_min(spec, "replicas", "spec.replicas", 0, st);
    tri_validate_min(spec, "minReadySeconds", "spec.minReadySeconds", 0, st);
    tri_validate_min(spec, "revisionHistoryLimit", "spec.revisionHistoryLimit", 0, st);
    tri_validate_min(spec, "progressDeadlineSeconds", "spec.progressDeadlineSeconds", 0, st);
    json_t *pd = json_object_get(spec, "progressDeadlineSeconds");
    json_t *mr = json_object_get(spec, "minReadySeconds");
    if (json_is_integer(pd) && json_is_integer(mr) &&
        json_integer_value(pd) <= json_integer_value(mr))
        tri_status_add_cause(st, "FieldValueInvalid", "spec.progressDeadlineSeconds",
                             "Invalid value: %lld: must be greater than minReadySeconds",
                             (long long)json_integer_value(pd));
    validate_deploy_strategy(spec, st);
    validate_selector_template(spec, old ? json_object_get(old, "spec") : NULL, "deployment", st);
    tri_podtemplate_validate(json_object_get(spec, "template"), "spec.template", restart_always,
                             st);
}

const tri_resource_t tri_res_deployments = {
    .group = "apps",
    .version = "v1",
    .kind = "Deployment",
    .list_kind = "DeploymentList",
    .plural = "deployments",
    .singular = "deployment",
    .short_names = {"deploy"},
    .categories = {"all"},
    .namespaced = true,
    .has_status = true,
    .table_all_columns = true,
    .columns = deploy_columns,
    .n_columns = sizeof deploy_columns / sizeof deploy_columns[0],
    .cells = deploy_cells,
    .validate = deploy_validate,
    .prepare = deploy_prepare,
    .known_fields = {"spec", "status"},
    .subresources = {"scale"},
    .scale_replicas = "spec.replicas",
    .scale_status_replicas = "status.replicas",
    .scale_selector = "spec.selector",
    .has_generation = true,
};

/* ---------- replicasets ---------- */

static const tri_column_t rs_columns[] = {
    TRI_NAME_COLUMN,
    {"Desired", "integer", "", "Replicas is the number of desired pods.", 0},
    {"Current", "integer", "", "Replicas is the most recently observed number of replicas.", 0},
    {"Ready", "integer", "", "The number of ready replicas for this replica set.", 0},
    TRI_AGE_COLUMN,
    TRI_CONTAINERS_COLUMN,
    TRI_IMAGES_COLUMN,
    {"Selector", "string", "",
     "Selector is a label query over pods that should match the "
     "replica count.",
     1},
};

static json_t *rs_cells(const json_t *obj)
{
    json_t *cells = tri_row_new(obj);
    tri_row_extend(cells, json_pack("[I, I, I]", int_at(obj, "spec", "replicas"),
                                    int_at(obj, "status", "replicas"),
                                    int_at(obj, "status", "readyReplicas")));
    tri_row_add_age(cells, obj);
    tri_row_add_containers(cells, template_spec(obj));
    json_array_append_new(cells,
                          selector_cell(json_object_get(json_object_get(obj, "spec"), "selector")));
    return cells;
}

/* Status fields Kubernetes always serializes (no omitempty) start at zero. */
static void zero_status(json_t *obj, const json_t *old, const char *const *fields)
{
    json_t *status = json_object_get(obj, "status");
    if (old == NULL || !json_is_object(status)) {
        status = json_object();
        json_object_set_new(obj, "status", status);
    }
    for (size_t i = 0; fields[i]; i++)
        tri_field_default(status, fields[i], json_integer(0));
}

static void rs_prepare(json_t *obj, const json_t *old)
{
    static const char *const status[] = {"replicas", NULL};
    json_t *spec = tri_field_child(obj, "spec");
    tri_field_default(spec, "replicas", json_integer(1));
    tri_podtemplate_default(json_object_get(spec, "template"));
    zero_status(obj, old, status);
}

static void rs_validate(const json_t *obj, const json_t *old, tri_status_t *st)
{
    tri_validate_name(obj, false, st);
    const json_t *spec = json_object_get(obj, "spec");
    tri_validate_min(spec, "replicas", "spec.replicas", 0, st);
    tri_validate_min(spec, "minReadySeconds", "spec.minReadySeconds", 0, st);
    validate_selector_template(spec, old ? json_object_get(old, "spec") : NULL, "replicaset", st);
    tri_podtemplate_validate(json_object_get(spec, "template"), "spec.template", restart_always,
                             st);
}

const tri_resource_t tri_res_replicasets = {
    .group = "apps",
    .version = "v1",
    .kind = "ReplicaSet",
    .list_kind = "ReplicaSetList",
    .plural = "replicasets",
    .singular = "replicaset",
    .short_names = {"rs"},
    .categories = {"all"},
    .namespaced = true,
    .has_status = true,
    .table_all_columns = true,
    .columns = rs_columns,
    .n_columns = sizeof rs_columns / sizeof rs_columns[0],
    .cells = rs_cells,
    .validate = rs_validate,
    .prepare = rs_prepare,
    .fields = {"status.replicas"},
    .known_fields = {"spec", "status"},
    .subresources = {"scale"},
    .scale_replicas = "spec.replicas",
    .scale_status_replicas = "status.replicas",
    .scale_selector = "spec.selector",
    .has_generation = true,
};

/* ---------- statefulsets ---------- */

static const tri_column_t sts_columns[] = {
    TRI_NAME_COLUMN,   {"Ready", "string", "", "Number of the pod with ready state", 0},
    TRI_AGE_COLUMN,    TRI_CONTAINERS_COLUMN,
    TRI_IMAGES_COLUMN,
};

static json_t *sts_cells(const json_t *obj)
{
    char ready[64];
    snprintf(ready, sizeof ready, "%lld/%lld", (long long)int_at(obj, "status", "readyReplicas"),
             (long long)int_at(obj, "spec", "replicas"));
    json_t *cells = tri_row_new(obj);
    json_array_append_new(cells, json_string(ready));
    tri_row_add_age(cells, obj);
    tri_row_add_containers(cells, template_spec(obj));
    return cells;
}

static void pvc_template_default(json_t *pvc)
{
    if (!json_is_object(pvc))
        return;
    tri_field_default(pvc, "apiVersion", json_string("v1"));
    tri_field_default(pvc, "kind", json_string("PersistentVolumeClaim"));
    json_t *spec = tri_field_child(pvc, "spec");
    tri_field_default(spec, "volumeMode", json_string("Filesystem"));
    json_t *status = tri_field_child(pvc, "status");
    tri_field_default(status, "phase", json_string("Pending"));
}

static void sts_prepare(json_t *obj, const json_t *old)
{
    static const char *const status[] = {"replicas", "availableReplicas", NULL};
    json_t *spec = tri_field_child(obj, "spec");
    tri_field_default(spec, "replicas", json_integer(1));
    tri_field_default(spec, "podManagementPolicy", json_string("OrderedReady"));
    json_t *us = tri_field_child(spec, "updateStrategy");
    tri_field_default(us, "type", json_string("RollingUpdate"));
    const char *type = json_string_value(json_object_get(us, "type"));
    if (type && strcmp(type, "RollingUpdate") == 0)
        tri_field_default(tri_field_child(us, "rollingUpdate"), "partition", json_integer(0));
    tri_field_default(spec, "revisionHistoryLimit", json_integer(DEFAULT_REVISION_HISTORY));
    json_t *retention = tri_field_child(spec, "persistentVolumeClaimRetentionPolicy");
    tri_field_default(retention, "whenDeleted", json_string("Retain"));
    tri_field_default(retention, "whenScaled", json_string("Retain"));
    tri_podtemplate_default(json_object_get(spec, "template"));
    size_t i;
    json_t *pvc;
    json_array_foreach(json_object_get(spec, "volumeClaimTemplates"), i, pvc)
        pvc_template_default(pvc);
    zero_status(obj, old, status);
}

/* The spec fields a StatefulSet update may change (ValidateStatefulSetUpdate). */
static void validate_sts_update(const json_t *spec, const json_t *old_spec, tri_status_t *st)
{
    static const char *const mutable[] = {"replicas",
                                          "ordinals",
                                          "template",
                                          "updateStrategy",
                                          "persistentVolumeClaimRetentionPolicy",
                                          "minReadySeconds"};
    json_t *a = json_deep_copy(spec), *b = json_deep_copy(old_spec);
    for (size_t i = 0; i < sizeof mutable / sizeof mutable[0]; i++) {
        json_object_del(a, mutable[i]);
        json_object_del(b, mutable[i]);
    }
    if (!json_equal(a, b))
        tri_status_add_cause(st, "FieldValueForbidden", "spec",
                             "Forbidden: updates to statefulset spec for fields other than "
                             "'replicas', 'ordinals', 'template', 'updateStrategy', "
                             "'persistentVolumeClaimRetentionPolicy' and 'minReadySeconds' are "
                             "forbidden");
    json_decref(a);
    json_decref(b);
}

static void sts_validate(const json_t *obj, const json_t *old, tri_status_t *st)
{
    static const char *const policies[] = {"OrderedReady", "Parallel", NULL};
    static const char *const strategies[] = {"RollingUpdate", "OnDelete", NULL};
    tri_validate_name(obj, false, st);
    const json_t *spec = json_object_get(obj, "spec");
    const json_t *old_spec = old ? json_object_get(old, "spec") : NULL;
    tri_validate_min(spec, "replicas", "spec.replicas", 0, st);
    tri_validate_min(spec, "minReadySeconds", "spec.minReadySeconds", 0, st);
    tri_validate_enum(spec, "podManagementPolicy", "spec.podManagementPolicy", policies, st);
    const json_t *us = json_object_get(spec, "updateStrategy");
    tri_validate_enum(us, "type", "spec.updateStrategy.type", strategies, st);
    const char *type = json_string_value(json_object_get(us, "type"));
    const json_t *ru = json_object_get(us, "rollingUpdate");
    if (type && strcmp(type, "OnDelete") == 0 && ru && !json_is_null(ru))
        tri_status_add_cause(st, "FieldValueInvalid", "spec.updateStrategy.rollingUpdate",
                             "Invalid value: only allowed for updateStrategy 'RollingUpdate'");
    tri_validate_min(ru, "partition", "spec.updateStrategy.rollingUpdate.partition", 0, st);
    validate_selector_template(spec, old_spec, "statefulset", st);
    tri_podtemplate_validate(json_object_get(spec, "template"), "spec.template", restart_always,
                             st);
    if (old_spec != NULL)
        validate_sts_update(spec, old_spec, st);
}

const tri_resource_t tri_res_statefulsets = {
    .group = "apps",
    .version = "v1",
    .kind = "StatefulSet",
    .list_kind = "StatefulSetList",
    .plural = "statefulsets",
    .singular = "statefulset",
    .short_names = {"sts"},
    .categories = {"all"},
    .namespaced = true,
    .has_status = true,
    .table_all_columns = true,
    .columns = sts_columns,
    .n_columns = sizeof sts_columns / sizeof sts_columns[0],
    .cells = sts_cells,
    .validate = sts_validate,
    .prepare = sts_prepare,
    .known_fields = {"spec", "status"},
    .subresources = {"scale"},
    .scale_replicas = "spec.replicas",
    .scale_status_replicas = "status.replicas",
    .scale_selector = "spec.selector",
    .has_generation = true,
};

/* ---------- daemonsets ---------- */

static const tri_column_t ds_columns[] = {
    TRI_NAME_COLUMN,
    {"Desired", "integer", "",
     "The total number of nodes that should be running the daemon "
     "pod.",
     0},
    {"Current", "integer", "", "The number of nodes that are running at least 1 daemon pod.", 0},
    {"Ready", "integer", "",
     "The number of nodes that should be running the daemon pod and "
     "have one or more of the daemon pod running and ready.",
     0},
    {"Up-to-date", "integer", "",
     "The total number of nodes that are running updated daemon "
     "pod",
     0},
    {"Available", "integer", "",
     "The number of nodes that should be running the daemon pod and "
     "have one or more of the daemon pod running and available.",
     0},
    {"Node Selector", "string", "",
     "NodeSelector is a selector which must be true for the pod "
     "to fit on a node.",
     0},
    TRI_AGE_COLUMN,
    TRI_CONTAINERS_COLUMN,
    TRI_IMAGES_COLUMN,
    {"Selector", "string", "", "A label query over pods that are managed by the daemon set.", 1},
};

static json_t *ds_cells(const json_t *obj)
{
    const json_t *status = json_object_get(obj, "status");
    char ns[1024];
    tri_format_labels(json_object_get(template_spec(obj), "nodeSelector"), ns, sizeof ns);
    json_t *cells = tri_row_new(obj);
    tri_row_extend(cells,
                   json_pack("[I, I, I, I, I, s]",
                             json_integer_value(json_object_get(status, "desiredNumberScheduled")),
                             json_integer_value(json_object_get(status, "currentNumberScheduled")),
                             json_integer_value(json_object_get(status, "numberReady")),
                             json_integer_value(json_object_get(status, "updatedNumberScheduled")),
                             json_integer_value(json_object_get(status, "numberAvailable")), ns));
    tri_row_add_age(cells, obj);
    tri_row_add_containers(cells, template_spec(obj));
    json_array_append_new(cells,
                          selector_cell(json_object_get(json_object_get(obj, "spec"), "selector")));
    return cells;
}

static void ds_prepare(json_t *obj, const json_t *old)
{
    static const char *const status[] = {"currentNumberScheduled", "desiredNumberScheduled",
                                         "numberMisscheduled", "numberReady", NULL};
    json_t *spec = tri_field_child(obj, "spec");
    json_t *us = tri_field_child(spec, "updateStrategy");
    tri_field_default(us, "type", json_string("RollingUpdate"));
    const char *type = json_string_value(json_object_get(us, "type"));
    if (type && strcmp(type, "RollingUpdate") == 0) {
        json_t *ru = tri_field_child(us, "rollingUpdate");
        tri_field_default(ru, "maxUnavailable", json_integer(1));
        tri_field_default(ru, "maxSurge", json_integer(0));
    }
    tri_field_default(spec, "revisionHistoryLimit", json_integer(DEFAULT_REVISION_HISTORY));
    tri_podtemplate_default(json_object_get(spec, "template"));
    zero_status(obj, old, status);
}

static void ds_validate(const json_t *obj, const json_t *old, tri_status_t *st)
{
    static const char *const strategies[] = {"RollingUpdate", "OnDelete", NULL};
    tri_validate_name(obj, false, st);
    const json_t *spec = json_object_get(obj, "spec");
    tri_validate_min(spec, "minReadySeconds", "spec.minReadySeconds", 0, st);
    tri_validate_min(spec, "revisionHistoryLimit", "spec.revisionHistoryLimit", 0, st);
    const json_t *us = json_object_get(spec, "updateStrategy");
    tri_validate_enum(us, "type", "spec.updateStrategy.type", strategies, st);
    long long unavailable, surge;
    const json_t *ru = json_object_get(us, "rollingUpdate");
    validate_int_or_percent(ru, "maxUnavailable",
                            "spec.updateStrategy.rollingUpdate.maxUnavailable", true, &unavailable,
                            st);
    validate_int_or_percent(ru, "maxSurge", "spec.updateStrategy.rollingUpdate.maxSurge", true,
                            &surge, st);
    if (unavailable == 0 && surge == 0)
        tri_status_add_cause(st, "FieldValueInvalid",
                             "spec.updateStrategy.rollingUpdate.maxUnavailable",
                             "Invalid value: 0: may not be 0 when `maxSurge` is 0");
    validate_selector_template(spec, old ? json_object_get(old, "spec") : NULL, "daemonset", st);
    tri_podtemplate_validate(json_object_get(spec, "template"), "spec.template", restart_always,
                             st);
}

const tri_resource_t tri_res_daemonsets = {
    .group = "apps",
    .version = "v1",
    .kind = "DaemonSet",
    .list_kind = "DaemonSetList",
    .plural = "daemonsets",
    .singular = "daemonset",
    .short_names = {"ds"},
    .categories = {"all"},
    .namespaced = true,
    .has_status = true,
    .table_all_columns = true,
    .columns = ds_columns,
    .n_columns = sizeof ds_columns / sizeof ds_columns[0],
    .cells = ds_cells,
    .validate = ds_validate,
    .prepare = ds_prepare,
    .known_fields = {"spec", "status"},
    .has_generation = true,
};

/* ---------- controllerrevisions ---------- */

static const tri_column_t cr_columns[] = {
    {"Controller", "string", "", "Controller of the object", 0},
    {"Revision", "string", "",
     "Revision indicates the revision of the state represented by "
     "Data.",
     0},
};

/* "daemonset.apps/name", as kubectl names the controlling owner. */
static json_t *cr_cells(const json_t *obj)
{
    char controller[512];
    snprintf(controller, sizeof controller, "<none>");
    size_t i;
    json_t *ref;
    json_array_foreach(json_object_get(json_object_get(obj, "metadata"), "ownerReferences"), i, ref)
    {
        if (!json_is_true(json_object_get(ref, "controller")))
            continue;
        const char *kind = json_string_value(json_object_get(ref, "kind"));
        const char *av = json_string_value(json_object_get(ref, "apiVersion"));
        const char *name = json_string_value(json_object_get(ref, "name"));
        const char *slash = av ? strchr(av, '/') : NULL;
        char lower[128];
        snprintf(lower, sizeof lower, "%s", kind ? kind : "");
        for (char *c = lower; *c; c++)
            *c = (char)(*c >= 'A' && *c <= 'Z' ? *c + 32 : *c);
        if (slash)
            snprintf(controller, sizeof controller, "%s.%.*s/%s", lower, (int)(slash - av), av,
                     name ? name : "");
        else
            snprintf(controller, sizeof controller, "%s/%s", lower, name ? name : "");
        break;
    }
    return json_pack("[s, I]", controller, json_integer_value(json_object_get(obj, "revision")));
}

static void cr_validate(const json_t *obj, const json_t *old, tri_status_t *st)
{
    tri_validate_name(obj, false, st);
    tri_validate_min(obj, "revision", "revision", 0, st);
    if (old != NULL && !json_equal(json_object_get(obj, "data"), json_object_get(old, "data")))
        tri_status_add_cause(st, "FieldValueForbidden", "data", "Forbidden: field is immutable");
}

const tri_resource_t tri_res_controllerrevisions = {
    .group = "apps",
    .version = "v1",
    .kind = "ControllerRevision",
    .list_kind = "ControllerRevisionList",
    .plural = "controllerrevisions",
    .singular = "controllerrevision",
    .namespaced = true,
    .columns = cr_columns,
    .n_columns = sizeof cr_columns / sizeof cr_columns[0],
    .cells = cr_cells,
    .validate = cr_validate,
    .known_fields = {"data", "revision"},
};
