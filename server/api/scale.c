/* The scale subresource: an autoscaling/v1 Scale view of any resource that names
 * its replica paths in the registry (deployments, replicasets, statefulsets,
 * replicationcontrollers). `kubectl scale` PATCHes this view; the write lands on
 * the object's spec. */
#include <stdio.h>
#include <string.h>

#include "scale.h"
#include "triarch/util.h"

static json_t *at_path(const json_t *obj, const char *path)
{
    char buf[128];
    snprintf(buf, sizeof buf, "%s", path);
    const json_t *cur = obj;
    char *save = NULL;
    for (char *t = strtok_r(buf, ".", &save); t && cur; t = strtok_r(NULL, ".", &save))
        cur = json_object_get(cur, t);
    return (json_t *)cur;
}

static void set_path(json_t *obj, const char *path, json_t *val)
{
    char buf[128];
    snprintf(buf, sizeof buf, "%s", path);
    char *last = strrchr(buf, '.');
    json_t *cur = obj;
    if (last != NULL) {
        *last = '\0';
        char *save = NULL;
        for (char *t = strtok_r(buf, ".", &save); t; t = strtok_r(NULL, ".", &save)) {
            json_t *next = json_object_get(cur, t);
            if (!json_is_object(next)) {
                next = json_object();
                json_object_set_new(cur, t, next);
            }
            cur = next;
        }
        json_object_set_new(cur, last + 1, val);
    } else {
        json_object_set_new(cur, buf, val);
    }
}

/* A LabelSelector (or an RC's plain map) as the string Scale.status.selector holds. */
static void selector_string(const json_t *sel, tri_buf_t *out)
{
    const json_t *labels = json_object_get(sel, "matchLabels");
    if (labels == NULL && json_object_get(sel, "matchExpressions") == NULL)
        labels = sel; /* a plain map */
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)labels, k, v) {
        if (json_is_string(v))
            tri_buf_appendf(out, "%s%s=%s", out->len ? "," : "", k, json_string_value(v));
    }
    size_t i;
    json_t *e;
    json_array_foreach(json_object_get(sel, "matchExpressions"), i, e) {
        const char *key = json_string_value(json_object_get(e, "key"));
        const char *op = json_string_value(json_object_get(e, "operator"));
        if (key == NULL || op == NULL)
            continue;
        if (out->len)
            tri_buf_append(out, ",", 1);
        if (!strcmp(op, "Exists")) {
            tri_buf_appendf(out, "%s", key);
            continue;
        }
        if (!strcmp(op, "DoesNotExist")) {
            tri_buf_appendf(out, "!%s", key);
            continue;
        }
        tri_buf_appendf(out, "%s %s (", key, !strcmp(op, "In") ? "in" : "notin");
        size_t j;
        json_t *val;
        json_array_foreach(json_object_get(e, "values"), j, val)
            tri_buf_appendf(out, "%s%s", j ? "," : "", json_string_value(val));
        tri_buf_append(out, ")", 1);
    }
}

json_t *tri_scale_from(const tri_resource_t *r, const json_t *obj)
{
    const json_t *meta = json_object_get(obj, "metadata");
    json_t *m = json_object();
    static const char *const keep[] = {"name", "namespace", "uid", "resourceVersion",
                                       "creationTimestamp"};
    for (size_t i = 0; i < sizeof keep / sizeof keep[0]; i++) {
        json_t *v = json_object_get(meta, keep[i]);
        if (v)
            json_object_set(m, keep[i], v);
    }
    json_t *spec = at_path(obj, r->scale_replicas);
    json_t *status = r->scale_status_replicas ? at_path(obj, r->scale_status_replicas) : NULL;
    tri_buf_t sel = {0};
    if (r->scale_selector)
        selector_string(at_path(obj, r->scale_selector), &sel);
    json_t *scale = json_pack("{s:s, s:s, s:o, s:{s:I}, s:{s:I}}", "kind", "Scale",
                              "apiVersion", "autoscaling/v1", "metadata", m, "spec", "replicas",
                              (json_int_t)json_integer_value(spec), "status", "replicas",
                              (json_int_t)json_integer_value(status));
    if (sel.len)
        json_object_set_new(json_object_get(scale, "status"), "selector",
                            json_stringn(sel.data, sel.len));
    tri_buf_free(&sel);
    return scale;
}

int tri_scale_apply(const tri_resource_t *r, json_t *obj, const json_t *scale, tri_status_t *st)
{
    json_t *rep = json_object_get(json_object_get(scale, "spec"), "replicas");
    if (rep != NULL && !json_is_integer(rep)) {
        tri_status_set(st, 422, "Invalid", "Scale.autoscaling \"%s\" is invalid: spec.replicas: "
                       "Invalid value: must be an integer",
                       json_string_value(json_object_get(json_object_get(obj, "metadata"),
                                                         "name")));
        return -1;
    }
    json_int_t n = rep ? json_integer_value(rep) : 0;
    if (n < 0) {
        tri_status_set(st, 422, "Invalid", "Scale.autoscaling \"%s\" is invalid: spec.replicas: "
                       "Invalid value: %lld: must be greater than or equal to 0",
                       json_string_value(json_object_get(json_object_get(obj, "metadata"),
                                                         "name")),
                       (long long)n);
        tri_status_add_cause(st, "FieldValueInvalid", "spec.replicas",
                             "Invalid value: %lld: must be greater than or equal to 0",
                             (long long)n);
        return -1;
    }
    set_path(obj, r->scale_replicas, json_integer(n));
    return 0;
}
