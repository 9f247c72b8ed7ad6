/* The named groups beyond apps and batch: autoscaling (v2 stored and preferred,
 * v1 served by conversion), coordination.k8s.io leases, networking.k8s.io
 * ingresses, ingressclasses and networkpolicies, events.k8s.io events (another
 * view of the core Events, converted), scheduling.k8s.io priorityclasses, policy
 * poddisruptionbudgets, discovery.k8s.io endpointslices and the four
 * rbac.authorization.k8s.io kinds (stored and served; nothing enforces them yet).
 *
 * Two resources are versions of others, as in Kubernetes: autoscaling/v1 HPAs are
 * stored as autoscaling/v2 (v1's targetCPUUtilizationPercentage is v2's Resource
 * cpu Utilization metric; what v1 cannot say — other metrics, their statuses, the
 * conditions and the behavior — rides along in the annotations Kubernetes uses,
 * so a v1 client that round-trips an object loses nothing), and events.k8s.io/v1
 * Events are the core/v1 Events under other field names (regarding is
 * involvedObject, note is message, ...): `kubectl get events` and a controller
 * writing events.k8s.io see the same objects. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "resources.h"
#include "triarch/codec.h"

#define MAX_PORT 65535
/* scheduling.k8s.io: the highest priority a user-defined PriorityClass may have. */
#define HIGHEST_USER_PRIORITY 1000000000LL
/* autoscaling: the CPU utilization target an HPA without metrics gets. */
#define DEFAULT_CPU_UTILIZATION 80
/* autoscaling/v2 behavior defaults (GenerateHPAScaleUpRules/ScaleDownRules). */
#define SCALE_UP_PODS 4
#define SCALE_PERCENT 100
#define SCALE_PERIOD_S 15
#define SCALE_DOWN_WINDOW_S 300
/* events.k8s.io: reportingInstance, action and reason at most 128, note 1 kB. */
#define EVENT_FIELD_MAX 128
#define EVENT_NOTE_MAX 1024
#define LIST_MAX 3 /* hosts, ports and endpoints listed in a cell before "+ N more..." */

/* The annotations through which autoscaling/v1 carries what only v2 can say. */
#define ANN_METRICS "autoscaling.alpha.kubernetes.io/metrics"
#define ANN_CURRENT_METRICS "autoscaling.alpha.kubernetes.io/current-metrics"
#define ANN_CONDITIONS "autoscaling.alpha.kubernetes.io/conditions"
#define ANN_BEHAVIOR "autoscaling.alpha.kubernetes.io/behavior"

static const char *str_at(const json_t *o, const char *k)
{
    return json_string_value(json_object_get(o, k));
}

static char *dump(const json_t *v)
{
    return v ? json_dumps(v, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY) : strdup("null");
}

/* Copies o[from] to out[to] when present. */
static void copy_field(json_t *out, const char *to, const json_t *o, const char *from)
{
    json_t *v = json_object_get(o, from);
    if (v != NULL && !json_is_null(v))
        json_object_set_new(out, to, json_deep_copy(v));
}

static void validate_required_string(const json_t *o, const char *key, const char *path,
                                     tri_status_t *st)
{
    const char *s = str_at(o, key);
    if (s == NULL || s[0] == '\0')
        tri_status_add_cause(st, "FieldValueRequired", path, "Required value");
}

/* IntOrString.String() for cells; "N/A" when unset. */
static void int_or_string(const json_t *v, char *out, size_t len)
{
    if (json_is_integer(v))
        snprintf(out, len, "%lld", (long long)json_integer_value(v));
    else if (json_is_string(v))
        snprintf(out, len, "%s", json_string_value(v));
    else
        snprintf(out, len, "N/A");
}

static void validate_int_or_percent(const json_t *v, const char *path, tri_status_t *st)
{
    if (v == NULL || json_is_null(v))
        return;
    char *s = dump(v);
    if (json_is_integer(v)) {
        if (json_integer_value(v) < 0)
            tri_status_add_cause(st, "FieldValueInvalid", path,
                                 "Invalid value: %s: must be greater than or equal to 0", s);
    } else {
        const char *str = json_string_value(v);
        char *end = NULL;
        long long n = str ? strtoll(str, &end, 10) : 0;
        if (str == NULL || end == str || strcmp(end, "%") != 0)
            tri_status_add_cause(st, "FieldValueInvalid", path,
                                 "Invalid value: %s: a valid percent string must be a numeric "
                                 "string followed by an ending '%%' (e.g. '1%%',  or '93%%')",
                                 s);
        else if (n < 0 || n > 100)
            tri_status_add_cause(st, "FieldValueInvalid", path,
                                 "Invalid value: %s: must be between 0%% and 100%%", s);
    }
    free(s);
}

/* ======================= autoscaling ======================= */

static json_t *cpu_utilization_metric(json_int_t pct)
{
    return json_pack("{s:s, s:{s:s, s:{s:s, s:I}}}", "type", "Resource", "resource", "name", "cpu",
                     "target", "type", "Utilization", "averageUtilization", pct);
}

static json_t *scale_rules(bool up, const json_t *given)
{
    json_t *r = json_is_object(given) ? json_deep_copy(given) : json_object();
    tri_field_default(r, "stabilizationWindowSeconds", json_integer(up ? 0 : SCALE_DOWN_WINDOW_S));
    tri_field_default(r, "selectPolicy", json_string("Max"));
    if (up)
        tri_field_default(r, "policies",
                          json_pack("[{s:s, s:i, s:i}, {s:s, s:i, s:i}]", "type", "Pods", "value",
                                    SCALE_UP_PODS, "periodSeconds", SCALE_PERIOD_S, "type",
                                    "Percent", "value", SCALE_PERCENT, "periodSeconds",
                                    SCALE_PERIOD_S));
    else
        tri_field_default(r, "policies",
                          json_pack("[{s:s, s:i, s:i}]", "type", "Percent", "value", SCALE_PERCENT,
                                    "periodSeconds", SCALE_PERIOD_S));
    return r;
}

/* SetDefaults_HorizontalPodAutoscaler (autoscaling/v2). */
static void hpa2_spec_default(json_t *spec)
{
    tri_field_default(spec, "minReplicas", json_integer(1));
    if (json_array_size(json_object_get(spec, "metrics")) == 0)
        json_object_set_new(spec, "metrics",
                            json_pack("[o]", cpu_utilization_metric(DEFAULT_CPU_UTILIZATION)));
    json_t *behavior = json_object_get(spec, "behavior");
    if (json_is_object(behavior)) {
        json_object_set_new(behavior, "scaleUp",
                            scale_rules(true, json_object_get(behavior, "scaleUp")));
        json_object_set_new(behavior, "scaleDown",
                            scale_rules(false, json_object_get(behavior, "scaleDown")));
    }
}

static void hpa2_prepare(json_t *obj, const json_t *old)
{
    hpa2_spec_default(tri_field_child(obj, "spec"));
    if (old == NULL)
        json_object_set_new(obj, "status", json_pack("{s:i}", "desiredReplicas", 0));
}

static void validate_scale_target(const json_t *spec, tri_status_t *st)
{
    const json_t *ref = json_object_get(spec, "scaleTargetRef");
    validate_required_string(ref, "kind", "spec.scaleTargetRef.kind", st);
    validate_required_string(ref, "name", "spec.scaleTargetRef.name", st);
    tri_validate_min(spec, "minReplicas", "spec.minReplicas", 1, st);
    json_t *max = json_object_get(spec, "maxReplicas");
    json_t *min = json_object_get(spec, "minReplicas");
    if (!json_is_integer(max) || json_integer_value(max) < 1) {
        tri_status_add_cause(st, "FieldValueInvalid", "spec.maxReplicas",
                             "Invalid value: %lld: must be greater than 0",
                             (long long)json_integer_value(max));
        return;
    }
    if (json_is_integer(min) && json_integer_value(max) < json_integer_value(min))
        tri_status_add_cause(st, "FieldValueInvalid", "spec.maxReplicas",
                             "Invalid value: %lld: must be greater than or equal to `minReplicas`",
                             (long long)json_integer_value(max));
}

static void validate_metric(const json_t *m, size_t i, tri_status_t *st)
{
    static const char *const types[] = {"ContainerResource", "External", "Object", "Pods",
                                        "Resource",          NULL};
    static const char *const targets[] = {"AverageValue", "Utilization", "Value", NULL};
    static const char *const sources[] = {"containerResource", "external", "object", "pods",
                                          "resource"};
    char p[128];
    snprintf(p, sizeof p, "spec.metrics[%zu].type", i);
    if (str_at(m, "type") == NULL) {
        tri_status_add_cause(st, "FieldValueRequired", p,
                             "Required value: must specify a metric "
                             "source type");
        return;
    }
    if (!tri_validate_enum(m, "type", p, types, st))
        return;
    for (size_t k = 0; k < sizeof sources / sizeof sources[0]; k++) {
        const json_t *src = json_object_get(m, sources[k]);
        if (src == NULL || strcasecmp(sources[k], str_at(m, "type")) != 0)
            continue;
        snprintf(p, sizeof p, "spec.metrics[%zu].%s.target.type", i, sources[k]);
        const json_t *target = json_object_get(src, "target");
        if (str_at(target, "type") == NULL)
            tri_status_add_cause(st, "FieldValueRequired", p,
                                 "Required value: must specify a "
                                 "metric target type");
        else
            tri_validate_enum(target, "type", p, targets, st);
        snprintf(p, sizeof p, "spec.metrics[%zu].%s.target.averageUtilization", i, sources[k]);
        tri_validate_min(target, "averageUtilization", p, 1, st);
        return;
    }
    snprintf(p, sizeof p, "spec.metrics[%zu]", i);
    tri_status_add_cause(st, "FieldValueRequired", p,
                         "Required value: must populate information for the given metric source");
}

static void hpa2_validate(const json_t *obj, const json_t *old, tri_status_t *st)
{
    tri_validate_name(obj, false, st);
    const json_t *spec = json_object_get(obj, "spec");
    validate_scale_target(spec, st);
    size_t i;
    json_t *m;
    json_array_foreach(json_object_get(spec, "metrics"), i, m) validate_metric(m, i, st);
}

static const tri_column_t hpa_columns[] = {
    {"Reference", "string", "",
     "scaleTargetRef points to the target resource to scale, and is "
     "used to the pods for which metrics should be collected, as well "
     "as to actually change the replica count.",
     0},
    {"Targets", "string", "",
     "metrics contains the specifications for which to use to "
     "calculate the desired replica count.",
     0},
    {"MinPods", "string", "",
     "minReplicas is the lower limit for the number of replicas to "
     "which the autoscaler can scale down.",
     0},
    {"MaxPods", "string", "",
     "maxReplicas is the upper limit for the number of replicas to "
     "which the autoscaler can scale up.",
     0},
    {"Replicas", "string", "",
     "currentReplicas is current number of replicas of pods managed "
     "by this autoscaler, as last seen by the autoscaler.",
     0},
};

/* "<current>/<target>" of one metric, as formatHPAMetrics prints it. */
static void format_metric(const json_t *spec, const json_t *status, tri_buf_t *out)
{
    const char *type = str_at(spec, "type");
    type = type ? type : "";
    const char *src_key = strcmp(type, "Resource") == 0            ? "resource"
                          : strcmp(type, "ContainerResource") == 0 ? "containerResource"
                          : strcmp(type, "Pods") == 0              ? "pods"
                          : strcmp(type, "Object") == 0            ? "object"
                          : strcmp(type, "External") == 0          ? "external"
                                                                   : NULL;
    if (src_key == NULL) {
        tri_buf_appendf(out, "<unknown type>");
        return;
    }
    const json_t *src = json_object_get(spec, src_key);
    const json_t *target = json_object_get(src, "target");
    const json_t *cur = json_object_get(json_object_get(status, src_key), "current");
    bool resource = strcmp(type, "Resource") == 0 || strcmp(type, "ContainerResource") == 0;
    const char *avg = str_at(target, "averageValue");
    char prefix[128] = "";
    if (resource)
        snprintf(prefix, sizeof prefix, "%s: ", str_at(src, "name") ? str_at(src, "name") : "");
    if (resource && avg == NULL) {
        json_t *cu = json_object_get(cur, "averageUtilization");
        json_t *tu = json_object_get(target, "averageUtilization");
        char c[32] = "<unknown>", t[32] = "<auto>";
        if (json_is_integer(cu))
            snprintf(c, sizeof c, "%lld%%", (long long)json_integer_value(cu));
        if (json_is_integer(tu))
            snprintf(t, sizeof t, "%lld%%", (long long)json_integer_value(tu));
        tri_buf_appendf(out, "%s%s/%s", prefix, c, t);
        return;
    }
    bool by_avg = avg != NULL || strcmp(src_key, "pods") == 0;
    const char *t = by_avg ? avg : str_at(target, "value");
    const char *c = str_at(cur, by_avg ? "averageValue" : "value");
    tri_buf_appendf(out, "%s%s/%s%s", prefix, c ? c : "<unknown>", t ? t : "",
                    by_avg && !resource && strcmp(src_key, "pods") != 0 ? " (avg)" : "");
}

static json_t *hpa2_cells(const json_t *obj)
{
    const json_t *spec = json_object_get(obj, "spec");
    const json_t *status = json_object_get(obj, "status");
    const json_t *ref = json_object_get(spec, "scaleTargetRef");
    char reference[512], min[32] = "<unset>";
    snprintf(reference, sizeof reference, "%s/%s", str_at(ref, "kind") ? str_at(ref, "kind") : "",
             str_at(ref, "name") ? str_at(ref, "name") : "");
    if (json_is_integer(json_object_get(spec, "minReplicas")))
        snprintf(min, sizeof min, "%lld",
                 (long long)json_integer_value(json_object_get(spec, "minReplicas")));
    tri_buf_t targets = {0};
    const json_t *metrics = json_object_get(spec, "metrics");
    size_t n = json_array_size(metrics), shown = n > 2 ? 2 : n;
    for (size_t i = 0; i < shown; i++) {
        if (i)
            tri_buf_appendf(&targets, ", ");
        format_metric(json_array_get(metrics, i),
                      json_array_get(json_object_get(status, "currentMetrics"), i), &targets);
    }
    if (n > shown)
        tri_buf_appendf(&targets, " + %zu more...", n - shown);
    if (n == 0)
        tri_buf_appendf(&targets, "<none>");
    json_t *cells = json_pack("[s, s%, s, I, I]", reference, targets.data, targets.len, min,
                              json_integer_value(json_object_get(spec, "maxReplicas")),
                              json_integer_value(json_object_get(status, "currentReplicas")));
    tri_buf_free(&targets);
    return cells;
}

const tri_resource_t tri_res_hpa_v2 = {
    .group = "autoscaling",
    .version = "v2",
    .kind = "HorizontalPodAutoscaler",
    .list_kind = "HorizontalPodAutoscalerList",
    .plural = "horizontalpodautoscalers",
    .singular = "horizontalpodautoscaler",
    .short_names = {"hpa"},
    .categories = {"all"},
    .namespaced = true,
    .has_status = true,
    .columns = hpa_columns,
    .n_columns = sizeof hpa_columns / sizeof hpa_columns[0],
    .cells = hpa2_cells,
    .validate = hpa2_validate,
    .prepare = hpa2_prepare,
    .known_fields = {"spec", "status"},
    .has_generation = true,
};

/* ---------- autoscaling/v1 <-> v2 metric conversions ---------- */

/* v2 metric -> the flat v1 (v2beta1) shape autoscaling/v1 keeps in annotations. A spec
 * and a status differ only in their value block ("target" / "current") and the
 * prefix of the flat names (targetValue / currentValue, ...). */
static json_t *metric_to_v1(const json_t *m, const char *side)
{
    char v[48], av[48], au[48];
    snprintf(v, sizeof v, "%sValue", side);
    snprintf(av, sizeof av, "%sAverageValue", side);
    snprintf(au, sizeof au, "%sAverageUtilization", side);
    json_t *out = json_object();
    copy_field(out, "type", m, "type");
    const json_t *s;
    if ((s = json_object_get(m, "resource")) || (s = json_object_get(m, "containerResource"))) {
        const json_t *t = json_object_get(s, side);
        json_t *o = json_object();
        copy_field(o, "name", s, "name");
        copy_field(o, "container", s, "container");
        copy_field(o, au, t, "averageUtilization");
        copy_field(o, av, t, "averageValue");
        json_object_set_new(out, json_object_get(m, "resource") ? "resource" : "containerResource",
                            o);
    } else if ((s = json_object_get(m, "pods"))) {
        json_t *o = json_object();
        copy_field(o, "metricName", json_object_get(s, "metric"), "name");
        copy_field(o, av, json_object_get(s, side), "averageValue");
        copy_field(o, "selector", json_object_get(s, "metric"), "selector");
        json_object_set_new(out, "pods", o);
    } else if ((s = json_object_get(m, "object"))) {
        json_t *o = json_object();
        copy_field(o, "target", s, "describedObject");
        copy_field(o, "metricName", json_object_get(s, "metric"), "name");
        copy_field(o, v, json_object_get(s, side), "value");
        copy_field(o, "selector", json_object_get(s, "metric"), "selector");
        copy_field(o, "averageValue", json_object_get(s, side), "averageValue");
        json_object_set_new(out, "object", o);
    } else if ((s = json_object_get(m, "external"))) {
        json_t *o = json_object();
        copy_field(o, "metricName", json_object_get(s, "metric"), "name");
        copy_field(o, "metricSelector", json_object_get(s, "metric"), "selector");
        copy_field(o, v, json_object_get(s, side), "value");
        copy_field(o, av, json_object_get(s, side), "averageValue");
        json_object_set_new(out, "external", o);
    }
    return out;
}

static json_t *metric_spec_to_v1(const json_t *m)
{
    return metric_to_v1(m, "target");
}

static json_t *metric_ident(const json_t *s, const char *name, const char *selector)
{
    json_t *metric = json_object();
    copy_field(metric, "name", s, name);
    copy_field(metric, "selector", s, selector);
    return metric;
}

/* v1 MetricSpec -> v2 MetricSpec; the target type follows from which value is set. */
static json_t *metric_spec_to_v2(const json_t *m)
{
    json_t *out = json_object();
    copy_field(out, "type", m, "type");
    const json_t *s;
    if ((s = json_object_get(m, "resource")) || (s = json_object_get(m, "containerResource"))) {
        bool util = json_object_get(s, "targetAverageUtilization") != NULL;
        json_t *t = json_pack("{s:s}", "type", util ? "Utilization" : "AverageValue");
        copy_field(t, "averageUtilization", s, "targetAverageUtilization");
        copy_field(t, "averageValue", s, "targetAverageValue");
        json_t *o = json_object();
        copy_field(o, "name", s, "name");
        copy_field(o, "container", s, "container");
        json_object_set_new(o, "target", t);
        json_object_set_new(out, json_object_get(m, "resource") ? "resource" : "containerResource",
                            o);
    } else if ((s = json_object_get(m, "pods"))) {
        json_t *t = json_pack("{s:s}", "type", "AverageValue");
        copy_field(t, "averageValue", s, "targetAverageValue");
        json_object_set_new(out, "pods",
                            json_pack("{s:o, s:o}", "metric",
                                      metric_ident(s, "metricName", "selector"), "target", t));
    } else if ((s = json_object_get(m, "object"))) {
        bool avg = json_object_get(s, "averageValue") != NULL;
        json_t *t = json_pack("{s:s}", "type", avg ? "AverageValue" : "Value");
        copy_field(t, "value", s, "targetValue");
        copy_field(t, "averageValue", s, "averageValue");
        json_t *o = json_object();
        copy_field(o, "describedObject", s, "target");
        json_object_set_new(o, "metric", metric_ident(s, "metricName", "selector"));
        json_object_set_new(o, "target", t);
        json_object_set_new(out, "object", o);
    } else if ((s = json_object_get(m, "external"))) {
        bool value = json_object_get(s, "targetValue") != NULL;
        json_t *t = json_pack("{s:s}", "type", value ? "Value" : "AverageValue");
        copy_field(t, "value", s, "targetValue");
        copy_field(t, "averageValue", s, "targetAverageValue");
        json_object_set_new(out, "external",
                            json_pack("{s:o, s:o}", "metric",
                                      metric_ident(s, "metricName", "metricSelector"), "target",
                                      t));
    }
    return out;
}

/* Statuses: v2 {metric, current{value, averageValue, averageUtilization}} <-> v1 flat. */
static json_t *metric_status_to_v1(const json_t *m)
{
    return metric_to_v1(m, "current");
}

static json_t *metric_status_to_v2(const json_t *m)
{
    json_t *out = json_object();
    copy_field(out, "type", m, "type");
    const json_t *s;
    if ((s = json_object_get(m, "resource")) || (s = json_object_get(m, "containerResource"))) {
        json_t *c = json_object();
        copy_field(c, "averageUtilization", s, "currentAverageUtilization");
        copy_field(c, "averageValue", s, "currentAverageValue");
        json_t *o = json_object();
        copy_field(o, "name", s, "name");
        copy_field(o, "container", s, "container");
        json_object_set_new(o, "current", c);
        json_object_set_new(out, json_object_get(m, "resource") ? "resource" : "containerResource",
                            o);
    } else if ((s = json_object_get(m, "pods"))) {
        json_t *c = json_object();
        copy_field(c, "averageValue", s, "currentAverageValue");
        json_object_set_new(out, "pods",
                            json_pack("{s:o, s:o}", "metric",
                                      metric_ident(s, "metricName", "selector"), "current", c));
    } else if ((s = json_object_get(m, "object"))) {
        json_t *c = json_object();
        copy_field(c, "value", s, "currentValue");
        copy_field(c, "averageValue", s, "averageValue");
        json_t *o = json_object();
        json_object_set_new(o, "metric", metric_ident(s, "metricName", "selector"));
        json_object_set_new(o, "current", c);
        copy_field(o, "describedObject", s, "target");
        json_object_set_new(out, "object", o);
    } else if ((s = json_object_get(m, "external"))) {
        json_t *c = json_object();
        copy_field(c, "value", s, "currentValue");
        copy_field(c, "averageValue", s, "currentAverageValue");
        json_object_set_new(out, "external",
                            json_pack("{s:o, s:o}", "metric",
                                      metric_ident(s, "metricName", "metricSelector"), "current",
                                      c));
    }
    return out;
}

static bool is_cpu_resource(const json_t *m, const char *value_key, const char *field)
{
    const char *type = str_at(m, "type");
    const json_t *r = json_object_get(m, "resource");
    return type && strcmp(type, "Resource") == 0 && str_at(r, "name") &&
           strcmp(str_at(r, "name"), "cpu") == 0 &&
           json_is_integer(json_object_get(json_object_get(r, value_key), field));
}

static json_t *map_array(const json_t *in, json_t *(*fn)(const json_t *))
{
    json_t *out = json_array();
    size_t i;
    json_t *v;
    json_array_foreach(in, i, v) json_array_append_new(out, fn(v));
    return out;
}

static void annotate_json(json_t *ann, const char *key, json_t *val)
{
    char *s = json_dumps(val, JSON_COMPACT | JSON_ENCODE_ANY);
    if (s)
        json_object_set_new(ann, key, json_string(s));
    free(s);
    json_decref(val);
}

/* The annotation's JSON, parsed (new reference) or NULL. */
static json_t *annotation_json(const json_t *ann, const char *key)
{
    const char *s = str_at(ann, key);
    return s ? json_loads(s, JSON_DECODE_ANY, NULL) : NULL;
}

static void drop_roundtrip_annotations(json_t *meta)
{
    json_t *ann = json_object_get(meta, "annotations");
    json_object_del(ann, ANN_METRICS);
    json_object_del(ann, ANN_CURRENT_METRICS);
    json_object_del(ann, ANN_CONDITIONS);
    json_object_del(ann, ANN_BEHAVIOR);
    if (json_is_object(ann) && json_object_size(ann) == 0)
        json_object_del(meta, "annotations");
}

static void hpa_v1_spec_to_v2(const json_t *in, const json_t *ann, json_t *out)
{
    copy_field(out, "scaleTargetRef", in, "scaleTargetRef");
    copy_field(out, "minReplicas", in, "minReplicas");
    copy_field(out, "maxReplicas", in, "maxReplicas");
    json_t *metrics = json_array();
    json_t *other = annotation_json(ann, ANN_METRICS);
    size_t i;
    json_t *m;
    json_array_foreach(other, i, m) json_array_append_new(metrics, metric_spec_to_v2(m));
    json_decref(other);
    json_t *cpu = json_object_get(in, "targetCPUUtilizationPercentage");
    if (json_is_integer(cpu))
        json_array_append_new(metrics, cpu_utilization_metric(json_integer_value(cpu)));
    if (json_array_size(metrics) > 0)
        json_object_set_new(out, "metrics", metrics);
    else
        json_decref(metrics);
    json_t *behavior = annotation_json(ann, ANN_BEHAVIOR);
    if (json_is_object(behavior))
        json_object_set_new(out, "behavior", behavior);
    else
        json_decref(behavior);
}

static void hpa_v1_status_to_v2(const json_t *in, const json_t *ann, json_t *out)
{
    copy_field(out, "observedGeneration", in, "observedGeneration");
    copy_field(out, "lastScaleTime", in, "lastScaleTime");
    copy_field(out, "currentReplicas", in, "currentReplicas");
    json_object_set_new(out, "desiredReplicas",
                        json_integer(json_integer_value(json_object_get(in, "desiredReplicas"))));
    json_t *current = annotation_json(ann, ANN_CURRENT_METRICS);
    json_t *cpu = json_object_get(in, "currentCPUUtilizationPercentage");
    if (json_is_array(current))
        json_object_set_new(out, "currentMetrics", map_array(current, metric_status_to_v2));
    else if (json_is_integer(cpu))
        json_object_set_new(out, "currentMetrics",
                            json_pack("[{s:s, s:{s:s, s:{s:O}}}]", "type", "Resource", "resource",
                                      "name", "cpu", "current", "averageUtilization", cpu));
    json_decref(current);
    json_t *conditions = annotation_json(ann, ANN_CONDITIONS);
    if (json_is_array(conditions))
        json_object_set_new(out, "conditions", conditions);
    else
        json_decref(conditions);
}

/* autoscaling/v1 -> autoscaling/v2 (the stored version). */
json_t *tri_hpa_v1_to_v2(const json_t *v1)
{
    json_t *out = json_deep_copy(v1);
    json_object_set_new(out, "apiVersion", json_string("autoscaling/v2"));
    json_t *meta = tri_field_child(out, "metadata");
    const json_t *ann = json_object_get(json_object_get(v1, "metadata"), "annotations");
    json_t *spec = json_object(), *status = json_object();
    hpa_v1_spec_to_v2(json_object_get(v1, "spec"), ann, spec);
    hpa_v1_status_to_v2(json_object_get(v1, "status"), ann, status);
    json_object_set_new(out, "spec", spec);
    json_object_set_new(out, "status", status);
    drop_roundtrip_annotations(meta);
    hpa2_spec_default(spec);
    return out;
}

static void hpa_v2_spec_to_v1(const json_t *in, json_t *out, json_t *ann)
{
    copy_field(out, "scaleTargetRef", in, "scaleTargetRef");
    copy_field(out, "minReplicas", in, "minReplicas");
    copy_field(out, "maxReplicas", in, "maxReplicas");
    json_t *other = json_array();
    bool have_cpu = false;
    size_t i;
    json_t *m;
    json_array_foreach(json_object_get(in, "metrics"), i, m)
    {
        if (is_cpu_resource(m, "target", "averageUtilization")) {
            if (!have_cpu)
                copy_field(out, "targetCPUUtilizationPercentage",
                           json_object_get(json_object_get(m, "resource"), "target"),
                           "averageUtilization");
            have_cpu = true;
            continue;
        }
        json_array_append_new(other, metric_spec_to_v1(m));
    }
    if (json_array_size(other) > 0)
        annotate_json(ann, ANN_METRICS, other);
    else
        json_decref(other);
    json_t *behavior = json_object_get(in, "behavior");
    if (json_is_object(behavior))
        annotate_json(ann, ANN_BEHAVIOR, json_incref(behavior));
}

static void hpa_v2_status_to_v1(const json_t *in, json_t *out, json_t *ann)
{
    copy_field(out, "observedGeneration", in, "observedGeneration");
    copy_field(out, "lastScaleTime", in, "lastScaleTime");
    json_object_set_new(out, "currentReplicas",
                        json_integer(json_integer_value(json_object_get(in, "currentReplicas"))));
    json_object_set_new(out, "desiredReplicas",
                        json_integer(json_integer_value(json_object_get(in, "desiredReplicas"))));
    const json_t *current = json_object_get(in, "currentMetrics");
    size_t i;
    json_t *m;
    json_array_foreach(current, i, m)
    {
        if (is_cpu_resource(m, "current", "averageUtilization")) {
            copy_field(out, "currentCPUUtilizationPercentage",
                       json_object_get(json_object_get(m, "resource"), "current"),
                       "averageUtilization");
            break;
        }
    }
    if (json_array_size(current) > 0)
        annotate_json(ann, ANN_CURRENT_METRICS, map_array(current, metric_status_to_v1));
    const json_t *conditions = json_object_get(in, "conditions");
    if (json_array_size(conditions) > 0)
        annotate_json(ann, ANN_CONDITIONS, json_deep_copy(conditions));
}

/* autoscaling/v2 -> autoscaling/v1, what v1 cannot hold kept in annotations. */
json_t *tri_hpa_v2_to_v1(const json_t *v2)
{
    json_t *out = json_deep_copy(v2);
    json_object_set_new(out, "apiVersion", json_string("autoscaling/v1"));
    json_t *meta = tri_field_child(out, "metadata");
    drop_roundtrip_annotations(meta);
    json_t *ann = json_object();
    json_t *spec = json_object(), *status = json_object();
    hpa_v2_spec_to_v1(json_object_get(v2, "spec"), spec, ann);
    hpa_v2_status_to_v1(json_object_get(v2, "status"), status, ann);
    json_object_set_new(out, "spec", spec);
    json_object_set_new(out, "status", status);
    if (json_object_size(ann) > 0)
        json_object_update(tri_field_child(meta, "annotations"), ann);
    json_decref(ann);
    return out;
}

static void hpa1_prepare(json_t *obj, const json_t *old)
{
    tri_field_default(tri_field_child(obj, "spec"), "minReplicas", json_integer(1));
    if (old == NULL)
        json_object_set_new(obj, "status",
                            json_pack("{s:i, s:i}", "currentReplicas", 0, "desiredReplicas", 0));
}

static void hpa1_validate(const json_t *obj, const json_t *old, tri_status_t *st)
{
    tri_validate_name(obj, false, st);
    const json_t *spec = json_object_get(obj, "spec");
    validate_scale_target(spec, st);
    tri_validate_min(spec, "targetCPUUtilizationPercentage", "spec.targetCPUUtilizationPercentage",
                     1, st);
}

static json_t *hpa1_cells(const json_t *obj)
{
    json_t *v2 = tri_hpa_v1_to_v2(obj);
    json_t *cells = hpa2_cells(v2);
    json_decref(v2);
    return cells;
}

const tri_resource_t tri_res_hpa_v1 = {
    .group = "autoscaling",
    .version = "v1",
    .kind = "HorizontalPodAutoscaler",
    .list_kind = "HorizontalPodAutoscalerList",
    .plural = "horizontalpodautoscalers",
    .singular = "horizontalpodautoscaler",
    .short_names = {"hpa"},
    .categories = {"all"},
    .namespaced = true,
    .has_status = true,
    .columns = hpa_columns,
    .n_columns = sizeof hpa_columns / sizeof hpa_columns[0],
    .cells = hpa1_cells,
    .validate = hpa1_validate,
    .prepare = hpa1_prepare,
    .known_fields = {"spec", "status"},
    .has_generation = true,
    .storage = &tri_res_hpa_v2,
    .to_storage = tri_hpa_v1_to_v2,
    .from_storage = tri_hpa_v2_to_v1,
};

/* ======================= coordination.k8s.io ======================= */

static const tri_column_t lease_columns[] = {
    {"Holder", "string", "",
     "holderIdentity contains the identity of the holder of a current "
     "lease.",
     0},
};

static json_t *lease_cells(const json_t *obj)
{
    const char *h = str_at(json_object_get(obj, "spec"), "holderIdentity");
    return json_pack("[s]", h ? h : "");
}

static void lease_validate(const json_t *obj, const json_t *old, tri_status_t *st)
{
    tri_validate_name(obj, false, st);
    const json_t *spec = json_object_get(obj, "spec");
    tri_validate_min(spec, "leaseDurationSeconds", "spec.leaseDurationSeconds", 1, st);
    tri_validate_min(spec, "leaseTransitions", "spec.leaseTransitions", 0, st);
}

const tri_resource_t tri_res_leases = {
    .group = "coordination.k8s.io",
    .version = "v1",
    .kind = "Lease",
    .list_kind = "LeaseList",
    .plural = "leases",
    .singular = "lease",
    .namespaced = true,
    .columns = lease_columns,
    .n_columns = sizeof lease_columns / sizeof lease_columns[0],
    .cells = lease_cells,
    .validate = lease_validate,
    .known_fields = {"spec"},
};

/* ======================= networking.k8s.io ======================= */

/* ---------- ingressclasses ---------- */

static const tri_column_t ingclass_columns[] = {
    {"Controller", "string", "", "Controller that is responsible for handling this class", 0},
    {"Parameters", "string", "", "A reference to a resource with additional parameters", 0},
};

static json_t *ingclass_cells(const json_t *obj)
{
    const json_t *spec = json_object_get(obj, "spec");
    const json_t *p = json_object_get(spec, "parameters");
    char params[512] = "<none>";
    if (json_is_object(p)) {
        const char *group = str_at(p, "apiGroup");
        snprintf(params, sizeof params, "%s%s%s/%s", str_at(p, "kind") ? str_at(p, "kind") : "",
                 group ? "." : "", group ? group : "", str_at(p, "name") ? str_at(p, "name") : "");
    }
    const char *ctl = str_at(spec, "controller");
    return json_pack("[s, s]", ctl ? ctl : "", params);
}

static void ingclass_validate(const json_t *obj, const json_t *old, tri_status_t *st)
{
    tri_validate_name(obj, false, st);
    const json_t *spec = json_object_get(obj, "spec");
    validate_required_string(spec, "controller", "spec.controller", st);
    if (old != NULL && !json_equal(json_object_get(spec, "controller"),
                                   json_object_get(json_object_get(old, "spec"), "controller")))
        tri_status_add_cause(st, "FieldValueInvalid", "spec.controller",
                             "Invalid value: \"%s\": field is immutable",
                             str_at(spec, "controller") ? str_at(spec, "controller") : "");
    const json_t *p = json_object_get(spec, "parameters");
    if (json_is_object(p)) {
        validate_required_string(p, "kind", "spec.parameters.kind", st);
        validate_required_string(p, "name", "spec.parameters.name", st);
    }
}

const tri_resource_t tri_res_ingressclasses = {
    .group = "networking.k8s.io",
    .version = "v1",
    .kind = "IngressClass",
    .list_kind = "IngressClassList",
    .plural = "ingressclasses",
    .singular = "ingressclass",
    .namespaced = false,
    .columns = ingclass_columns,
    .n_columns = sizeof ingclass_columns / sizeof ingclass_columns[0],
    .cells = ingclass_cells,
    .validate = ingclass_validate,
    .known_fields = {"spec"},
    .has_generation = true,
};

/* ---------- ingresses ---------- */

static const tri_column_t ing_columns[] = {
    {"Class", "string", "",
     "The name of the IngressClass resource that should be used for "
     "additional configuration",
     0},
    {"Hosts", "string", "",
     "Hosts that incoming requests are matched against before the "
     "ingress rule",
     0},
    {"Address", "string", "",
     "Address is a list containing ingress points for the "
     "load-balancer",
     0},
    {"Ports", "string", "", "Ports of TLS configurations that open", 0},
};

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Sorted unique IPs (else hostnames) of the load balancer, as kubectl lists them. */
static void lb_addresses(const json_t *status, tri_buf_t *out)
{
    const char *addrs[64];
    size_t n = 0, i;
    json_t *in;
    json_array_foreach(json_object_get(json_object_get(status, "loadBalancer"), "ingress"), i, in)
    {
        const char *a =
            str_at(in, "ip") && str_at(in, "ip")[0] ? str_at(in, "ip") : str_at(in, "hostname");
        if (a && a[0] && n < sizeof addrs / sizeof addrs[0])
            addrs[n++] = a;
    }
    qsort(addrs, n, sizeof addrs[0], cmp_str);
    for (i = 0; i < n; i++)
        if (i == 0 || strcmp(addrs[i], addrs[i - 1]) != 0)
            tri_buf_appendf(out, "%s%s", out->len ? "," : "", addrs[i]);
}

static json_t *ing_cells(const json_t *obj)
{
    /* loadBalancerWidth: kubectl clips a long address list to 16 characters */
    enum { LB_WIDTH = 16 };
    const json_t *spec = json_object_get(obj, "spec");
    const char *cls = str_at(spec, "ingressClassName");
    tri_buf_t hosts = {0}, addr = {0};
    const json_t *rules = json_object_get(spec, "rules");
    size_t listed = 0, i;
    json_t *r;
    json_array_foreach(rules, i, r)
    {
        const char *h = str_at(r, "host");
        if (i >= LIST_MAX)
            break;
        if (h && h[0])
            tri_buf_appendf(&hosts, "%s%s", listed++ ? "," : "", h);
    }
    if (listed == 0)
        tri_buf_appendf(&hosts, "*");
    else if (json_array_size(rules) > LIST_MAX)
        tri_buf_appendf(&hosts, " + %zu more...", json_array_size(rules) - LIST_MAX);
    lb_addresses(json_object_get(obj, "status"), &addr);
    if (addr.len > LB_WIDTH) {
        addr.len = LB_WIDTH - 3;
        tri_buf_appendf(&addr, "...");
    }
    json_t *cells = json_pack("[s, s%, s%, s]", cls ? cls : "<none>", hosts.data, hosts.len,
                              addr.data ? addr.data : "", addr.len,
                              json_array_size(json_object_get(spec, "tls")) ? "80, 443" : "80");
    tri_buf_free(&hosts);
    tri_buf_free(&addr);
    return cells;
}

static void ing_prepare(json_t *obj, const json_t *old)
{
    if (old == NULL)
        json_object_set_new(obj, "status", json_pack("{s:{}}", "loadBalancer"));
}

static void validate_backend(const json_t *b, const char *path, tri_status_t *st)
{
    char p[256];
    const json_t *svc = json_object_get(b, "service");
    const json_t *res = json_object_get(b, "resource");
    if (svc && res) {
        tri_status_add_cause(st, "FieldValueInvalid", path,
                             "Invalid value: cannot set both `resource` and `service` backends");
        return;
    }
    if (!svc && !res) {
        tri_status_add_cause(st, "FieldValueRequired", path,
                             "Required value: one of `resource` or `service` must be set");
        return;
    }
    if (res)
        return;
    snprintf(p, sizeof p, "%.200s.service.name", path);
    const char *name = str_at(svc, "name");
    const char *msg = name ? tri_validate_dns1123_label(name) : NULL;
    if (name == NULL || name[0] == '\0')
        tri_status_add_cause(st, "FieldValueRequired", p, "Required value");
    else if (msg)
        tri_status_add_cause(st, "FieldValueInvalid", p, "Invalid value: \"%s\": %s", name, msg);
    const json_t *port = json_object_get(svc, "port");
    bool has_name = str_at(port, "name") && str_at(port, "name")[0];
    json_t *number = json_object_get(port, "number");
    bool has_number = json_is_integer(number) && json_integer_value(number) != 0;
    snprintf(p, sizeof p, "%.200s.service.port", path);
    if (has_name && has_number)
        tri_status_add_cause(st, "FieldValueInvalid", p,
                             "Invalid value: cannot set both port name & port number");
    else if (!has_name && !has_number)
        tri_status_add_cause(st, "FieldValueRequired", p,
                             "Required value: port name or number is required");
    else if (has_number &&
             (json_integer_value(number) < 1 || json_integer_value(number) > MAX_PORT)) {
        snprintf(p, sizeof p, "%.200s.service.port.number", path);
        tri_status_add_cause(st, "FieldValueInvalid", p,
                             "Invalid value: %lld: must be between 1 and 65535, inclusive",
                             (long long)json_integer_value(number));
    }
}

static void validate_ing_path(const json_t *hp, const char *path, tri_status_t *st)
{
    static const char *const types[] = {"Exact", "Prefix", "ImplementationSpecific", NULL};
    char p[256];
    snprintf(p, sizeof p, "%.200s.pathType", path);
    const char *type = str_at(hp, "pathType");
    if (type == NULL)
        tri_status_add_cause(st, "FieldValueRequired", p,
                             "Required value: pathType must be specified");
    else if (tri_validate_enum(hp, "pathType", p, types, st) &&
             strcmp(type, "ImplementationSpecific") != 0) {
        const char *hpath = str_at(hp, "path");
        snprintf(p, sizeof p, "%.200s.path", path);
        if (hpath == NULL || hpath[0] != '/')
            tri_status_add_cause(st, "FieldValueInvalid", p,
                                 "Invalid value: \"%s\": must be an absolute path",
                                 hpath ? hpath : "");
    }
    snprintf(p, sizeof p, "%.200s.backend", path);
    validate_backend(json_object_get(hp, "backend"), p, st);
}

static void validate_host(const char *host, const char *path, tri_status_t *st)
{
    const char *check = strncmp(host, "*.", 2) == 0 ? host + 2 : host;
    const char *msg = tri_validate_dns1123_subdomain(check);
    if (msg)
        tri_status_add_cause(st, "FieldValueInvalid", path, "Invalid value: \"%s\": %s", host, msg);
}

static void ing_validate(const json_t *obj, const json_t *old, tri_status_t *st)
{
    tri_validate_name(obj, false, st);
    const json_t *spec = json_object_get(obj, "spec");
    const json_t *rules = json_object_get(spec, "rules");
    const json_t *def = json_object_get(spec, "defaultBackend");
    if (json_array_size(rules) == 0 && !json_is_object(def))
        tri_status_add_cause(st, "FieldValueInvalid", "spec",
                             "Invalid value: either `defaultBackend` or `rules` must be specified");
    if (json_is_object(def))
        validate_backend(def, "spec.defaultBackend", st);
    const char *cls = str_at(spec, "ingressClassName");
    const char *msg = cls ? tri_validate_dns1123_subdomain(cls) : NULL;
    if (msg)
        tri_status_add_cause(st, "FieldValueInvalid", "spec.ingressClassName",
                             "Invalid value: \"%s\": %s", cls, msg);
    char p[256];
    size_t i, j;
    json_t *r, *hp;
    json_array_foreach(rules, i, r)
    {
        if (str_at(r, "host") && str_at(r, "host")[0]) {
            snprintf(p, sizeof p, "spec.rules[%zu].host", i);
            validate_host(str_at(r, "host"), p, st);
        }
        const json_t *http = json_object_get(r, "http");
        if (http == NULL)
            continue;
        snprintf(p, sizeof p, "spec.rules[%zu].http.paths", i);
        if (json_array_size(json_object_get(http, "paths")) == 0)
            tri_status_add_cause(st, "FieldValueRequired", p, "Required value");
        json_array_foreach(json_object_get(http, "paths"), j, hp)
        {
            snprintf(p, sizeof p, "spec.rules[%zu].http.paths[%zu]", i, j);
            validate_ing_path(hp, p, st);
        }
    }
}

const tri_resource_t tri_res_ingresses = {
    .group = "networking.k8s.io",
    .version = "v1",
    .kind = "Ingress",
    .list_kind = "IngressList",
    .plural = "ingresses",
    .singular = "ingress",
    .short_names = {"ing"},
    .namespaced = true,
    .has_status = true,
    .columns = ing_columns,
    .n_columns = sizeof ing_columns / sizeof ing_columns[0],
    .cells = ing_cells,
    .validate = ing_validate,
    .prepare = ing_prepare,
    .known_fields = {"spec", "status"},
    .has_generation = true,
};

/* ---------- networkpolicies ---------- */

static const tri_column_t netpol_columns[] = {
    {"Pod-Selector", "string", "",
     "Selects the pods to which this NetworkPolicy object "
     "applies.",
     0},
};

static json_t *netpol_cells(const json_t *obj)
{
    tri_buf_t b = {0};
    tri_labelsel_format(json_object_get(json_object_get(obj, "spec"), "podSelector"), &b);
    json_t *cells = json_pack("[o]", b.len ? json_stringn(b.data, b.len) : json_string("<none>"));
    tri_buf_free(&b);
    return cells;
}

static void netpol_ports_default(const json_t *rules)
{
    size_t i, j;
    json_t *r, *p;
    json_array_foreach(rules, i, r)
    {
        json_array_foreach(json_object_get(r, "ports"), j, p)
        {
            if (json_is_object(p))
                tri_field_default(p, "protocol", json_string("TCP"));
        }
    }
}

static void netpol_prepare(json_t *obj, const json_t *old)
{
    json_t *spec = tri_field_child(obj, "spec");
    tri_field_child(spec, "podSelector");
    if (json_array_size(json_object_get(spec, "policyTypes")) == 0) {
        json_t *types = json_pack("[s]", "Ingress");
        if (json_array_size(json_object_get(spec, "egress")) > 0)
            json_array_append_new(types, json_string("Egress"));
        json_object_set_new(spec, "policyTypes", types);
    }
    netpol_ports_default(json_object_get(spec, "ingress"));
    netpol_ports_default(json_object_get(spec, "egress"));
}

static void validate_netpol_rules(const json_t *rules, const char *dir, tri_status_t *st)
{
    static const char *const protocols[] = {"SCTP", "TCP", "UDP", NULL};
    char p[256];
    size_t i, j;
    json_t *r, *port;
    json_array_foreach(rules, i, r)
    {
        json_array_foreach(json_object_get(r, "ports"), j, port)
        {
            snprintf(p, sizeof p, "spec.%s[%zu].ports[%zu].protocol", dir, i, j);
            tri_validate_enum(port, "protocol", p, protocols, st);
            json_t *n = json_object_get(port, "port");
            snprintf(p, sizeof p, "spec.%s[%zu].ports[%zu].port", dir, i, j);
            if (json_is_integer(n) &&
                (json_integer_value(n) < 1 || json_integer_value(n) > MAX_PORT))
                tri_status_add_cause(st, "FieldValueInvalid", p,
                                     "Invalid value: %lld: must be between 1 and 65535, inclusive",
                                     (long long)json_integer_value(n));
            json_t *end = json_object_get(port, "endPort");
            snprintf(p, sizeof p, "spec.%s[%zu].ports[%zu].endPort", dir, i, j);
            if (json_is_integer(end) && json_is_integer(n) &&
                json_integer_value(end) < json_integer_value(n))
                tri_status_add_cause(st, "FieldValueInvalid", p,
                                     "Invalid value: %lld: must be greater than or equal to `port`",
                                     (long long)json_integer_value(end));
        }
    }
}

static void netpol_validate(const json_t *obj, const json_t *old, tri_status_t *st)
{
    static const char *const types[] = {"Ingress", "Egress", NULL};
    tri_validate_name(obj, false, st);
    const json_t *spec = json_object_get(obj, "spec");
    const json_t *sel = json_object_get(spec, "podSelector");
    if (json_is_object(sel))
        tri_labelsel_validate(sel, "spec.podSelector", st);
    size_t i;
    json_t *t;
    json_array_foreach(json_object_get(spec, "policyTypes"), i, t)
    {
        char p[64];
        snprintf(p, sizeof p, "spec.policyTypes[%zu]", i);
        json_t *wrap = json_pack("{s:O}", "t", t);
        tri_validate_enum(wrap, "t", p, types, st);
        json_decref(wrap);
    }
    validate_netpol_rules(json_object_get(spec, "ingress"), "ingress", st);
    validate_netpol_rules(json_object_get(spec, "egress"), "egress", st);
}

const tri_resource_t tri_res_networkpolicies = {
    .group = "networking.k8s.io",
    .version = "v1",
    .kind = "NetworkPolicy",
    .list_kind = "NetworkPolicyList",
    .plural = "networkpolicies",
    .singular = "networkpolicy",
    .short_names = {"netpol"},
    .namespaced = true,
    .columns = netpol_columns,
    .n_columns = sizeof netpol_columns / sizeof netpol_columns[0],
    .cells = netpol_cells,
    .validate = netpol_validate,
    .prepare = netpol_prepare,
    .known_fields = {"spec"},
    .has_generation = true,
};

/* ======================= events.k8s.io ======================= */

/* events.k8s.io/v1 field <-> core/v1 field; the rest of the object is shared. */
static const char *const event_renames[][2] = {
    {"regarding", "involvedObject"},
    {"note", "message"},
    {"reportingController", "reportingComponent"},
    {"deprecatedSource", "source"},
    {"deprecatedFirstTimestamp", "firstTimestamp"},
    {"deprecatedLastTimestamp", "lastTimestamp"},
    {"deprecatedCount", "count"},
};
#define N_EVENT_RENAMES (sizeof event_renames / sizeof event_renames[0])

static json_t *event_convert(const json_t *in, const char *api_version, int from, int to)
{
    json_t *out = json_deep_copy(in);
    json_object_set_new(out, "apiVersion", json_string(api_version));
    for (size_t i = 0; i < N_EVENT_RENAMES; i++) {
        json_t *v = json_object_get(in, event_renames[i][from]);
        json_object_del(out, event_renames[i][from]);
        if (v != NULL)
            json_object_set_new(out, event_renames[i][to], json_deep_copy(v));
    }
    return out;
}

json_t *tri_event_v1_to_core(const json_t *obj)
{
    return event_convert(obj, "v1", 0, 1);
}

json_t *tri_event_core_to_v1(const json_t *obj)
{
    json_t *out = event_convert(obj, "events.k8s.io/v1", 1, 0);
    /* eventTime is a required (non-pointer) field of events.k8s.io/v1 */
    if (json_object_get(out, "eventTime") == NULL)
        json_object_set_new(out, "eventTime", json_null());
    return out;
}

/* kubectl prints both versions of an Event with one printer: the core Events'
 * columns and cells, on the object converted (the unit test keeps the two lists
 * the same length). */
static const tri_column_t event_columns[] = {
    {"Last Seen", "string", "", "Time when this event was last seen", 0},
    {"Type", "string", "", "Type of this event (Normal, Warning)", 0},
    {"Reason", "string", "", "Why the action was taken", 0},
    {"Object", "string", "", "The object this event is about", 0},
    {"Subobject", "string", "", "The subobject (fieldPath) this event is about", 1},
    {"Source", "string", "", "The component reporting this event", 1},
    {"Message", "string", "", "A human-readable description of the status", 0},
    {"First Seen", "string", "", "Time when this event was first seen", 1},
    {"Count", "integer", "", "How many times this event happened", 1},
    {"Name", "string", "name", "The name of the event", 1},
};

static json_t *event_cells(const json_t *obj)
{
    json_t *core = tri_event_v1_to_core(obj);
    json_t *cells = tri_res_events.cells(core);
    json_decref(core);
    return cells;
}

static void validate_event_string(const json_t *obj, const char *key, size_t max, tri_status_t *st)
{
    const char *s = str_at(obj, key);
    if (s == NULL || s[0] == '\0')
        tri_status_add_cause(st, "FieldValueRequired", key, "Required value");
    else if (strlen(s) > max)
        tri_status_add_cause(st, "FieldValueInvalid", key,
                             "Invalid value: \"%s\": can have at most %zu characters", s, max);
}

/* ValidateEventCreate for events.k8s.io/v1: the fields the new API requires. */
static void event_v1_validate(const json_t *obj, const json_t *old, tri_status_t *st)
{
    static const char *const types[] = {"Normal", "Warning", NULL};
    tri_validate_name(obj, false, st);
    json_t *et = json_object_get(obj, "eventTime");
    if (et == NULL || json_is_null(et))
        tri_status_add_cause(st, "FieldValueRequired", "eventTime", "Required value");
    if (str_at(obj, "type") == NULL)
        tri_status_add_cause(st, "FieldValueRequired", "type", "Required value");
    else
        tri_validate_enum(obj, "type", "type", types, st);
    const char *ctl = str_at(obj, "reportingController");
    const char *msg = ctl ? tri_validate_qualified_name(ctl) : NULL;
    if (ctl == NULL || ctl[0] == '\0')
        tri_status_add_cause(st, "FieldValueRequired", "reportingController", "Required value");
    else if (msg)
        tri_status_add_cause(st, "FieldValueInvalid", "reportingController",
                             "Invalid value: \"%s\": %s", ctl, msg);
    validate_event_string(obj, "reportingInstance", EVENT_FIELD_MAX, st);
    validate_event_string(obj, "action", EVENT_FIELD_MAX, st);
    validate_event_string(obj, "reason", EVENT_FIELD_MAX, st);
    const char *note = str_at(obj, "note");
    if (note && strlen(note) > EVENT_NOTE_MAX)
        tri_status_add_cause(st, "FieldValueTooLong", "note", "Too long: may not be longer than %d",
                             EVENT_NOTE_MAX);
}

const tri_resource_t tri_res_events_v1 = {
    .group = "events.k8s.io",
    .version = "v1",
    .kind = "Event",
    .list_kind = "EventList",
    .plural = "events",
    .singular = "event",
    .short_names = {"ev"},
    .namespaced = true,
    .table_all_columns = true,
    .columns = event_columns,
    .n_columns = sizeof event_columns / sizeof event_columns[0],
    .cells = event_cells,
    .validate = event_v1_validate,
    .fields = {"regarding.kind", "regarding.namespace", "regarding.name", "regarding.uid",
               "regarding.apiVersion", "regarding.resourceVersion", "regarding.fieldPath", "reason",
               "reportingController", "type"},
    .known_fields = {"eventTime", "series", "reportingController", "reportingInstance", "action",
                     "reason", "regarding", "related", "note", "type", "deprecatedSource",
                     "deprecatedFirstTimestamp", "deprecatedLastTimestamp", "deprecatedCount"},
    .storage = &tri_res_events,
    .to_storage = tri_event_v1_to_core,
    .from_storage = tri_event_core_to_v1,
};

/* ======================= scheduling.k8s.io ======================= */

static const tri_column_t pc_columns[] = {
    TRI_NAME_COLUMN,
    {"Value", "integer", "", "value represents the integer value of this priority class.", 0},
    {"Global-Default", "boolean", "",
     "globalDefault specifies whether this PriorityClass should "
     "be considered as the default priority for pods that do "
     "not have any priority class.",
     0},
    TRI_AGE_COLUMN,
    {"PreemptionPolicy", "string", "",
     "preemptionPolicy is the Policy for preempting pods with "
     "lower priority.",
     0},
};

static json_t *pc_cells(const json_t *obj)
{
    const char *pp = str_at(obj, "preemptionPolicy");
    json_t *row = tri_row_new(obj);
    tri_row_extend(row, json_pack("[I, b]", json_integer_value(json_object_get(obj, "value")),
                                  json_is_true(json_object_get(obj, "globalDefault"))));
    tri_row_add_age(row, obj);
    json_array_append_new(row, json_string(pp ? pp : ""));
    return row;
}

static void pc_prepare(json_t *obj, const json_t *old)
{
    tri_field_default(obj, "value", json_integer(0));
    tri_field_default(obj, "preemptionPolicy", json_string("PreemptLowerPriority"));
}

static void pc_validate(const json_t *obj, const json_t *old, tri_status_t *st)
{
    static const char *const policies[] = {"PreemptLowerPriority", "Never", NULL};
    static const char *const builtin[] = {"system-node-critical", "system-cluster-critical"};
    tri_validate_name(obj, false, st);
    const char *name = str_at(json_object_get(obj, "metadata"), "name");
    bool system = false;
    for (size_t i = 0; name && i < sizeof builtin / sizeof builtin[0]; i++)
        system = system || strcmp(name, builtin[i]) == 0;
    if (name && strncmp(name, "system-", 7) == 0 && !system)
        tri_status_add_cause(st, "FieldValueInvalid", "metadata.name",
                             "Invalid value: \"%s\": priority class names with 'system-' prefix "
                             "are reserved",
                             name);
    json_t *value = json_object_get(obj, "value");
    if (!system && json_is_integer(value) && json_integer_value(value) > HIGHEST_USER_PRIORITY)
        tri_status_add_cause(st, "FieldValueForbidden", "value",
                             "Forbidden: maximum allowed value of a user defined priority is "
                             "%lld",
                             HIGHEST_USER_PRIORITY);
    tri_validate_enum(obj, "preemptionPolicy", "preemptionPolicy", policies, st);
    if (old == NULL)
        return;
    if (!json_equal(value, json_object_get(old, "value")))
        tri_status_add_cause(st, "FieldValueForbidden", "value",
                             "Forbidden: may not be changed in an update.");
    if (!json_equal(json_object_get(obj, "preemptionPolicy"),
                    json_object_get(old, "preemptionPolicy")))
        tri_status_add_cause(st, "FieldValueInvalid", "preemptionPolicy",
                             "Invalid value: field is immutable");
}

const tri_resource_t tri_res_priorityclasses = {
    .group = "scheduling.k8s.io",
    .version = "v1",
    .kind = "PriorityClass",
    .list_kind = "PriorityClassList",
    .plural = "priorityclasses",
    .singular = "priorityclass",
    .short_names = {"pc"},
    .namespaced = false,
    .table_all_columns = true,
    .columns = pc_columns,
    .n_columns = sizeof pc_columns / sizeof pc_columns[0],
    .cells = pc_cells,
    .validate = pc_validate,
    .prepare = pc_prepare,
    .known_fields = {"value", "globalDefault", "description", "preemptionPolicy"},
};

/* ======================= policy ======================= */

static const tri_column_t pdb_columns[] = {
    {"Min Available", "string", "", "The minimum number of pods that must be available.", 0},
    {"Max Unavailable", "string", "", "The maximum number of pods that may be unavailable.", 0},
    {"Allowed Disruptions", "integer", "",
     "Calculated number of pods that may be disrupted at "
     "this time.",
     0},
};

static json_t *pdb_cells(const json_t *obj)
{
    const json_t *spec = json_object_get(obj, "spec");
    char min[64], max[64];
    int_or_string(json_object_get(spec, "minAvailable"), min, sizeof min);
    int_or_string(json_object_get(spec, "maxUnavailable"), max, sizeof max);
    return json_pack(
        "[s, s, I]", min, max,
        json_integer_value(json_object_get(json_object_get(obj, "status"), "disruptionsAllowed")));
}

static void pdb_prepare(json_t *obj, const json_t *old)
{
    static const char *const counts[] = {"currentHealthy", "desiredHealthy", "disruptionsAllowed",
                                         "expectedPods"};
    json_t *status = json_object_get(obj, "status");
    if (old == NULL || !json_is_object(status)) {
        status = json_object();
        json_object_set_new(obj, "status", status);
    }
    for (size_t i = 0; i < sizeof counts / sizeof counts[0]; i++)
        tri_field_default(status, counts[i], json_integer(0));
}

static void pdb_validate(const json_t *obj, const json_t *old, tri_status_t *st)
{
    static const char *const policies[] = {"IfHealthyBudget", "AlwaysAllow", NULL};
    tri_validate_name(obj, false, st);
    const json_t *spec = json_object_get(obj, "spec");
    const json_t *min = json_object_get(spec, "minAvailable");
    const json_t *max = json_object_get(spec, "maxUnavailable");
    if (min && !json_is_null(min) && max && !json_is_null(max))
        tri_status_add_cause(st, "FieldValueInvalid", "spec",
                             "Invalid value: minAvailable and maxUnavailable cannot be both set");
    validate_int_or_percent(min, "spec.minAvailable", st);
    validate_int_or_percent(max, "spec.maxUnavailable", st);
    const json_t *sel = json_object_get(spec, "selector");
    if (json_is_object(sel))
        tri_labelsel_validate(sel, "spec.selector", st);
    tri_validate_enum(spec, "unhealthyPodEvictionPolicy", "spec.unhealthyPodEvictionPolicy",
                      policies, st);
}

const tri_resource_t tri_res_poddisruptionbudgets = {
    .group = "policy",
    .version = "v1",
    .kind = "PodDisruptionBudget",
    .list_kind = "PodDisruptionBudgetList",
    .plural = "poddisruptionbudgets",
    .singular = "poddisruptionbudget",
    .short_names = {"pdb"},
    .namespaced = true,
    .has_status = true,
    .columns = pdb_columns,
    .n_columns = sizeof pdb_columns / sizeof pdb_columns[0],
    .cells = pdb_cells,
    .validate = pdb_validate,
    .prepare = pdb_prepare,
    .known_fields = {"spec", "status"},
    .has_generation = true,
};

/* ======================= discovery.k8s.io ======================= */

static const tri_column_t eps_columns[] = {
    {"AddressType", "string", "",
     "addressType specifies the type of address carried by this "
     "EndpointSlice.",
     0},
    {"Ports", "string", "",
     "ports specifies the list of network ports exposed by each endpoint "
     "in this slice.",
     0},
    {"Endpoints", "string", "", "endpoints is a list of unique endpoints in this slice.", 0},
};

/* listWithMoreString: the first three, "+ N more...", or "<unset>". */
static void list_more(tri_buf_t *b, size_t listed, size_t count)
{
    if (count > LIST_MAX)
        tri_buf_appendf(b, " + %zu more...", count - LIST_MAX);
    if (listed == 0)
        tri_buf_appendf(b, "<unset>");
}

static json_t *eps_cells(const json_t *obj)
{
    tri_buf_t ports = {0}, eps = {0};
    size_t count = 0, listed = 0, i, j;
    json_t *p, *e, *a;
    json_array_foreach(json_object_get(obj, "ports"), i, p)
    {
        if (listed < LIST_MAX) {
            json_t *num = json_object_get(p, "port");
            if (json_is_integer(num))
                tri_buf_appendf(&ports, "%s%lld", listed ? "," : "",
                                (long long)json_integer_value(num));
            else
                tri_buf_appendf(&ports, "%s%s", listed ? "," : "",
                                str_at(p, "name") ? str_at(p, "name") : "*");
            listed++;
        }
        count++;
    }
    list_more(&ports, listed, count);
    count = listed = 0;
    json_array_foreach(json_object_get(obj, "endpoints"), i, e)
    {
        json_array_foreach(json_object_get(e, "addresses"), j, a)
        {
            if (listed < LIST_MAX && json_is_string(a))
                tri_buf_appendf(&eps, "%s%s", listed++ ? "," : "", json_string_value(a));
            count++;
        }
    }
    list_more(&eps, listed, count);
    const char *at = str_at(obj, "addressType");
    json_t *cells =
        json_pack("[s, s%, s%]", at ? at : "", ports.data, ports.len, eps.data, eps.len);
    tri_buf_free(&ports);
    tri_buf_free(&eps);
    return cells;
}

static void eps_prepare(json_t *obj, const json_t *old)
{
    size_t i;
    json_t *p;
    json_array_foreach(json_object_get(obj, "ports"), i, p)
    {
        if (!json_is_object(p))
            continue;
        tri_field_default(p, "name", json_string(""));
        tri_field_default(p, "protocol", json_string("TCP"));
    }
    tri_field_default(obj, "endpoints", json_array());
}

static void eps_validate(const json_t *obj, const json_t *old, tri_status_t *st)
{
    static const char *const types[] = {"IPv4", "IPv6", "FQDN", NULL};
    enum { MAX_ADDRESSES = 100 };
    tri_validate_name(obj, false, st);
    if (str_at(obj, "addressType") == NULL)
        tri_status_add_cause(st, "FieldValueRequired", "addressType", "Required value");
    else
        tri_validate_enum(obj, "addressType", "addressType", types, st);
    if (old != NULL &&
        !json_equal(json_object_get(obj, "addressType"), json_object_get(old, "addressType")))
        tri_status_add_cause(st, "FieldValueInvalid", "addressType",
                             "Invalid value: \"%s\": field is immutable",
                             str_at(obj, "addressType") ? str_at(obj, "addressType") : "");
    char p[128];
    size_t i;
    json_t *e;
    json_array_foreach(json_object_get(obj, "endpoints"), i, e)
    {
        size_t n = json_array_size(json_object_get(e, "addresses"));
        snprintf(p, sizeof p, "endpoints[%zu].addresses", i);
        if (n == 0)
            tri_status_add_cause(st, "FieldValueRequired", p,
                                 "Required value: must contain at "
                                 "least 1 address");
        else if (n > MAX_ADDRESSES)
            tri_status_add_cause(st, "FieldValueTooMany", p,
                                 "Too many: %zu: must have at most 100 items", n);
    }
    json_array_foreach(json_object_get(obj, "ports"), i, e)
    {
        json_t *port = json_object_get(e, "port");
        snprintf(p, sizeof p, "ports[%zu].port", i);
        if (json_is_integer(port) &&
            (json_integer_value(port) < 1 || json_integer_value(port) > MAX_PORT))
            tri_status_add_cause(st, "FieldValueInvalid", p,
                                 "Invalid value: %lld: must be between 1 and 65535, inclusive",
                                 (long long)json_integer_value(port));
    }
}

const tri_resource_t tri_res_endpointslices = {
    .group = "discovery.k8s.io",
    .version = "v1",
    .kind = "EndpointSlice",
    .list_kind = "EndpointSliceList",
    .plural = "endpointslices",
    .singular = "endpointslice",
    .namespaced = true,
    .columns = eps_columns,
    .n_columns = sizeof eps_columns / sizeof eps_columns[0],
    .cells = eps_cells,
    .validate = eps_validate,
    .prepare = eps_prepare,
    .known_fields = {"addressType", "endpoints", "ports"},
    .has_generation = true,
};

/* ======================= rbac.authorization.k8s.io ======================= */

#define RBAC_GROUP "rbac.authorization.k8s.io"

/* RBAC names are path segments ("system:controller:x" is fine). */
static void rbac_validate_name(const json_t *obj, tri_status_t *st)
{
    const char *name = str_at(json_object_get(obj, "metadata"), "name");
    if (name == NULL)
        return;
    if (strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
        tri_status_add_cause(st, "FieldValueInvalid", "metadata.name",
                             "Invalid value: \"%s\": may not be '%s'", name, name);
    else if (strpbrk(name, "/%") != NULL)
        tri_status_add_cause(st, "FieldValueInvalid", "metadata.name",
                             "Invalid value: \"%s\": may not contain '/' or '%%'", name);
}

static const tri_column_t role_columns[] = {
    TRI_NAME_COLUMN,
    {"Created At", "date", "",
     "CreationTimestamp is a timestamp representing the server time "
     "when this object was created.",
     0},
};

static json_t *role_cells(const json_t *obj)
{
    const char *ts = str_at(json_object_get(obj, "metadata"), "creationTimestamp");
    json_t *row = tri_row_new(obj);
    json_array_append_new(row, json_string(ts ? ts : ""));
    return row;
}

static void validate_rules(const json_t *obj, bool namespaced, tri_status_t *st)
{
    char p[128];
    size_t i;
    json_t *r;
    json_array_foreach(json_object_get(obj, "rules"), i, r)
    {
        snprintf(p, sizeof p, "rules[%zu].verbs", i);
        if (json_array_size(json_object_get(r, "verbs")) == 0)
            tri_status_add_cause(st, "FieldValueRequired", p,
                                 "Required value: verbs must contain at least one value");
        bool urls = json_array_size(json_object_get(r, "nonResourceURLs")) > 0;
        bool resources = json_array_size(json_object_get(r, "resources")) > 0;
        bool groups = json_array_size(json_object_get(r, "apiGroups")) > 0;
        snprintf(p, sizeof p, "rules[%zu].nonResourceURLs", i);
        if (urls && namespaced) {
            tri_status_add_cause(st, "FieldValueInvalid", p,
                                 "Invalid value: namespaced rules cannot apply to non-resource "
                                 "URLs");
            continue;
        }
        if (urls && (resources || groups)) {
            tri_status_add_cause(st, "FieldValueInvalid", p,
                                 "Invalid value: rules cannot apply to both regular resources and "
                                 "non-resource URLs");
            continue;
        }
        if (urls)
            continue;
        snprintf(p, sizeof p, "rules[%zu].apiGroups", i);
        if (!groups)
            tri_status_add_cause(st, "FieldValueRequired", p,
                                 "Required value: resource rules must supply at least one api "
                                 "group");
        snprintf(p, sizeof p, "rules[%zu].resources", i);
        if (!resources)
            tri_status_add_cause(st, "FieldValueRequired", p,
                                 "Required value: resource rules must supply at least one "
                                 "resource");
    }
}

static void role_validate(const json_t *obj, const json_t *old, tri_status_t *st)
{
    rbac_validate_name(obj, st);
    validate_rules(obj, true, st);
}

static void clusterrole_validate(const json_t *obj, const json_t *old, tri_status_t *st)
{
    rbac_validate_name(obj, st);
    validate_rules(obj, false, st);
}

const tri_resource_t tri_res_roles = {
    .group = RBAC_GROUP,
    .version = "v1",
    .kind = "Role",
    .list_kind = "RoleList",
    .plural = "roles",
    .singular = "role",
    .namespaced = true,
    .table_all_columns = true,
    .columns = role_columns,
    .n_columns = sizeof role_columns / sizeof role_columns[0],
    .cells = role_cells,
    .validate = role_validate,
    .known_fields = {"rules"},
};

const tri_resource_t tri_res_clusterroles = {
    .group = RBAC_GROUP,
    .version = "v1",
    .kind = "ClusterRole",
    .list_kind = "ClusterRoleList",
    .plural = "clusterroles",
    .singular = "clusterrole",
    .namespaced = false,
    .table_all_columns = true,
    .columns = role_columns,
    .n_columns = sizeof role_columns / sizeof role_columns[0],
    .cells = role_cells,
    .validate = clusterrole_validate,
    .known_fields = {"rules", "aggregationRule"},
};

/* ---------- bindings ---------- */

static const tri_column_t binding_columns[] = {
    TRI_NAME_COLUMN,
    {"Role", "string", "",
     "RoleRef can reference a Role in the current namespace or a "
     "ClusterRole in the global namespace.",
     0},
    TRI_AGE_COLUMN,
    {"Users", "string", "", "Users in the roleBinding", 1},
    {"Groups", "string", "", "Groups in the roleBinding", 1},
    {"ServiceAccounts", "string", "", "ServiceAccounts in the roleBinding", 1},
};

static json_t *binding_cells(const json_t *obj)
{
    const json_t *ref = json_object_get(obj, "roleRef");
    char role[512];
    snprintf(role, sizeof role, "%s/%s", str_at(ref, "kind") ? str_at(ref, "kind") : "",
             str_at(ref, "name") ? str_at(ref, "name") : "");
    tri_buf_t users = {0}, groups = {0}, sas = {0};
    size_t i;
    json_t *s;
    json_array_foreach(json_object_get(obj, "subjects"), i, s)
    {
        const char *kind = str_at(s, "kind"), *name = str_at(s, "name");
        if (kind == NULL || name == NULL)
            continue;
        if (strcmp(kind, "User") == 0)
            tri_buf_appendf(&users, "%s%s", users.len ? ", " : "", name);
        else if (strcmp(kind, "Group") == 0)
            tri_buf_appendf(&groups, "%s%s", groups.len ? ", " : "", name);
        else if (strcmp(kind, "ServiceAccount") == 0)
            tri_buf_appendf(&sas, "%s%s:%s", sas.len ? ", " : "",
                            str_at(s, "namespace") ? str_at(s, "namespace") : "", name);
    }
    json_t *cells = tri_row_new(obj);
    json_array_append_new(cells, json_string(role));
    tri_row_add_age(cells, obj);
    tri_row_extend(cells, json_pack("[s%, s%, s%]", users.data ? users.data : "", users.len,
                                    groups.data ? groups.data : "", groups.len,
                                    sas.data ? sas.data : "", sas.len));
    tri_buf_free(&users);
    tri_buf_free(&groups);
    tri_buf_free(&sas);
    return cells;
}

/* SetDefaults_Subject and the roleRef's group. */
static void binding_prepare(json_t *obj, const json_t *old)
{
    json_t *ref = json_object_get(obj, "roleRef");
    if (json_is_object(ref) && (str_at(ref, "apiGroup") == NULL || !str_at(ref, "apiGroup")[0]))
        json_object_set_new(ref, "apiGroup", json_string(RBAC_GROUP));
    size_t i;
    json_t *s;
    json_array_foreach(json_object_get(obj, "subjects"), i, s)
    {
        const char *kind = str_at(s, "kind");
        if (!json_is_object(s) || kind == NULL ||
            (str_at(s, "apiGroup") && str_at(s, "apiGroup")[0]))
            continue;
        if (strcmp(kind, "User") == 0 || strcmp(kind, "Group") == 0)
            json_object_set_new(s, "apiGroup", json_string(RBAC_GROUP));
        else if (strcmp(kind, "ServiceAccount") == 0)
            json_object_set_new(s, "apiGroup", json_string(""));
    }
}

static void validate_subjects(const json_t *obj, bool cluster, tri_status_t *st)
{
    static const char *const kinds[] = {"ServiceAccount", "User", "Group", NULL};
    char p[128];
    size_t i;
    json_t *s;
    json_array_foreach(json_object_get(obj, "subjects"), i, s)
    {
        snprintf(p, sizeof p, "subjects[%zu].name", i);
        validate_required_string(s, "name", p, st);
        snprintf(p, sizeof p, "subjects[%zu].kind", i);
        if (!tri_validate_enum(s, "kind", p, kinds, st) || str_at(s, "kind") == NULL)
            continue;
        bool sa = strcmp(str_at(s, "kind"), "ServiceAccount") == 0;
        const char *group = str_at(s, "apiGroup") ? str_at(s, "apiGroup") : "";
        snprintf(p, sizeof p, "subjects[%zu].apiGroup", i);
        if (sa && group[0])
            tri_status_add_cause(st, "FieldValueNotSupported", p,
                                 "Unsupported value: \"%s\": supported values: \"\"", group);
        if (!sa && strcmp(group, RBAC_GROUP) != 0)
            tri_status_add_cause(st, "FieldValueNotSupported", p,
                                 "Unsupported value: \"%s\": supported values: \"" RBAC_GROUP "\"",
                                 group);
        snprintf(p, sizeof p, "subjects[%zu].namespace", i);
        if (sa && cluster && (str_at(s, "namespace") == NULL || !str_at(s, "namespace")[0]))
            tri_status_add_cause(st, "FieldValueRequired", p, "Required value");
    }
}

static void validate_binding(const json_t *obj, const json_t *old, bool cluster, tri_status_t *st)
{
    static const char *const ns_kinds[] = {"Role", "ClusterRole", NULL};
    static const char *const cluster_kinds[] = {"ClusterRole", NULL};
    static const char *const groups[] = {RBAC_GROUP, NULL};
    rbac_validate_name(obj, st);
    const json_t *ref = json_object_get(obj, "roleRef");
    tri_validate_enum(ref, "apiGroup", "roleRef.apiGroup", groups, st);
    if (str_at(ref, "kind") == NULL)
        tri_status_add_cause(st, "FieldValueNotSupported", "roleRef.kind",
                             "Unsupported value: \"\": supported values: %s",
                             cluster ? "\"ClusterRole\"" : "\"Role\", \"ClusterRole\"");
    else
        tri_validate_enum(ref, "kind", "roleRef.kind", cluster ? cluster_kinds : ns_kinds, st);
    validate_required_string(ref, "name", "roleRef.name", st);
    validate_subjects(obj, cluster, st);
    if (old != NULL && !json_equal(ref, json_object_get(old, "roleRef"))) {
        char *s = dump(ref);
        tri_status_add_cause(st, "FieldValueInvalid", "roleRef",
                             "Invalid value: %s: cannot change roleRef", s);
        free(s);
    }
}

static void rolebinding_validate(const json_t *obj, const json_t *old, tri_status_t *st)
{
    validate_binding(obj, old, false, st);
}

static void clusterrolebinding_validate(const json_t *obj, const json_t *old, tri_status_t *st)
{
    validate_binding(obj, old, true, st);
}

const tri_resource_t tri_res_rolebindings = {
    .group = RBAC_GROUP,
    .version = "v1",
    .kind = "RoleBinding",
    .list_kind = "RoleBindingList",
    .plural = "rolebindings",
    .singular = "rolebinding",
    .namespaced = true,
    .table_all_columns = true,
    .columns = binding_columns,
    .n_columns = sizeof binding_columns / sizeof binding_columns[0],
    .cells = binding_cells,
    .validate = rolebinding_validate,
    .prepare = binding_prepare,
    .known_fields = {"subjects", "roleRef"},
};

const tri_resource_t tri_res_clusterrolebindings = {
    .group = RBAC_GROUP,
    .version = "v1",
    .kind = "ClusterRoleBinding",
    .list_kind = "ClusterRoleBindingList",
    .plural = "clusterrolebindings",
    .singular = "clusterrolebinding",
    .namespaced = false,
    .table_all_columns = true,
    .columns = binding_columns,
    .n_columns = sizeof binding_columns / sizeof binding_columns[0],
    .cells = binding_cells,
    .validate = clusterrolebinding_validate,
    .prepare = binding_prepare,
    .known_fields = {"subjects", "roleRef"},
};
