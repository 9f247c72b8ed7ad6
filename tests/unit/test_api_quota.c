/* LimitRanger and ResourceQuota arithmetic on JSON objects, without a store:
 * container defaults and the limit-ranger annotation; min, max and ratio
 * violations worded as Kubernetes words them; what pods (containers, init
 * containers, sidecars, overhead, terminal pods), services and claims charge;
 * scopes; "must specify"; the exceeded-quota check and its message. */
#include <string.h>

#include "../../server/api/admission.h"
#include "../../server/api/resources.h"
#include "check.h"
#include "json_fixture.h"
#include "triarch/quota.h"

#define NOW 1700000000

static const char *qs(const tri_rlist_t *l, const char *name, char *buf)
{
    const tri_quantity_t *q = tri_rlist_get(l, name);
    return q ? tri_quantity_format(q, buf, TRI_QUANTITY_STR_MAX) : "(absent)";
}

/* ---------- LimitRanger ---------- */

static void test_defaults(void)
{
    json_t *ranges = parse("[{\"spec\":{\"limits\":[{\"type\":\"Container\","
                       "\"default\":{\"cpu\":\"0.5\",\"memory\":\"256Mi\"},"
                       "\"defaultRequest\":{\"cpu\":\"250m\",\"memory\":\"128Mi\"}},"
                       "{\"type\":\"Pod\",\"max\":{\"cpu\":\"4\"}}]}}]");
    json_t *pod = parse(
        "{\"metadata\":{\"name\":\"p\"},\"spec\":{"
        "\"containers\":[{\"name\":\"a\"},"
        "{\"name\":\"b\",\"resources\":{\"limits\":{\"cpu\":\"1\"},\"requests\":{\"cpu\":\"1\"}}}],"
        "\"initContainers\":[{\"name\":\"i\"}]}}");
    tri_limitranger_defaults(ranges, pod);
    CHECK_STR(sat(pod, "spec.containers.0.resources.limits.cpu"), "500m"); /* canonical */
    CHECK_STR(sat(pod, "spec.containers.0.resources.requests.memory"), "128Mi");
    CHECK_STR(sat(pod, "spec.containers.1.resources.limits.cpu"), "1"); /* kept */
    CHECK_STR(sat(pod, "spec.containers.1.resources.limits.memory"), "256Mi");
    CHECK_STR(sat(pod, "spec.initContainers.0.resources.requests.cpu"), "250m");
    const char *ann = json_string_value(
        json_object_get(json_object_get(json_object_get(pod, "metadata"), "annotations"),
                        "kubernetes.io/limit-ranger"));
    CHECK_STR(ann, "LimitRanger plugin set: cpu, memory request for container a; cpu, memory "
                   "limit for container a; memory request for container b; memory limit for "
                   "container b; cpu, memory request for init container i; cpu, memory limit "
                   "for init container i");
    json_decref(pod);
    /* no Container item: nothing changes, no annotation */
    json_t *none = parse("[{\"spec\":{\"limits\":[{\"type\":\"Pod\",\"max\":{\"cpu\":\"4\"}}]}}]");
    pod = parse("{\"metadata\":{\"name\":\"p\"},\"spec\":{\"containers\":[{\"name\":\"a\"}]}}");
    tri_limitranger_defaults(none, pod);
    CHECK(json_object_get(json_object_get(pod, "metadata"), "annotations") == NULL);
    CHECK(json_object_get(
              json_array_get(json_object_get(json_object_get(pod, "spec"), "containers"), 0),
              "resources") == NULL);
    json_decref(pod);
    json_decref(none);
    /* malformed resources are left for validation to refuse, not repaired */
    pod = parse("{\"metadata\":{\"name\":\"p\"},\"spec\":{\"containers\":[{\"name\":\"a\","
            "\"resources\":\"x\"},{\"name\":\"b\",\"resources\":{\"limits\":[]}}]}}");
    tri_limitranger_defaults(ranges, pod);
    CHECK_STR(sat(pod, "spec.containers.0.resources"), "x");
    CHECK(json_is_array(json_object_get(
        json_object_get(
            json_array_get(json_object_get(json_object_get(pod, "spec"), "containers"), 1),
            "resources"),
        "limits")));
    CHECK(json_object_get(json_object_get(pod, "metadata"), "annotations") == NULL);
    json_decref(pod);
    json_decref(ranges);
}

static void expect_violations(const char *ranges_json, bool claim, const char *obj_json,
                              const char *const *want)
{
    json_t *ranges = parse(ranges_json), *obj = parse(obj_json);
    json_t *msgs = tri_limitranger_violations(ranges, claim, obj);
    size_t n = 0;
    while (want[n])
        n++;
    if (json_array_size(msgs) != n) {
        char *d = json_dumps(msgs, 0);
        fprintf(stderr, "expected %zu violations, got %s\n", n, d);
        exit(1);
    }
    for (size_t i = 0; i < n; i++)
        CHECK_STR(json_string_value(json_array_get(msgs, i)), want[i]);
    json_decref(msgs);
    json_decref(ranges);
    json_decref(obj);
}

static void test_violations(void)
{
    const char *lr = "[{\"spec\":{\"limits\":[{\"type\":\"Container\","
                     "\"min\":{\"memory\":\"100Mi\"},\"max\":{\"cpu\":\"1\"},"
                     "\"maxLimitRequestRatio\":{\"cpu\":\"2\"}}]}}]";
    expect_violations(lr, false,
                      "{\"spec\":{\"containers\":[{\"name\":\"c\",\"resources\":{"
                      "\"limits\":{\"cpu\":\"2\",\"memory\":\"1Gi\"},"
                      "\"requests\":{\"cpu\":\"500m\",\"memory\":\"50Mi\"}}}]}}",
                      (const char *const[]){
                          "minimum memory usage per Container is 100Mi, but request is 50Mi",
                          "maximum cpu usage per Container is 1, but limit is 2",
                          "cpu max limit to request ratio per Container is 2, but provided ratio "
                          "is 4.000000",
                          NULL});
    /* nothing named: min and max say what is missing; two containers, one message */
    expect_violations(lr, false, "{\"spec\":{\"containers\":[{\"name\":\"a\"},{\"name\":\"b\"}]}}",
                      (const char *const[]){
                          "minimum memory usage per Container is 100Mi.  No request is specified",
                          "maximum cpu usage per Container is 1.  No limit is specified",
                          "cpu max limit to request ratio per Container is 2, but no request is "
                          "specified or request is 0",
                          NULL});
    /* exactly at the bounds passes; 1000m is 1 */
    expect_violations(lr, false,
                      "{\"spec\":{\"containers\":[{\"name\":\"c\",\"resources\":{"
                      "\"limits\":{\"cpu\":\"1000m\"},"
                      "\"requests\":{\"cpu\":\"0.5\",\"memory\":\"104857600\"}}}]}}",
                      (const char *const[]){NULL});
    /* Pod items bound the sum of the containers (and the largest init container) */
    const char *podlr = "[{\"spec\":{\"limits\":[{\"type\":\"Pod\",\"max\":{\"cpu\":\"1\"}}]}}]";
    expect_violations(
        podlr, false,
        "{\"spec\":{\"containers\":["
        "{\"name\":\"a\",\"resources\":{\"limits\":{\"cpu\":\"600m\"}}},"
        "{\"name\":\"b\",\"resources\":{\"limits\":{\"cpu\":\"600m\"}}}]}}",
        (const char *const[]){"maximum cpu usage per Pod is 1, but limit is 1200m", NULL});
    expect_violations(
        podlr, false,
        "{\"spec\":{\"containers\":["
        "{\"name\":\"a\",\"resources\":{\"limits\":{\"cpu\":\"500m\"}}}],"
        "\"initContainers\":[{\"name\":\"i\",\"resources\":{\"limits\":{\"cpu\":\"2\"}}}]}}",
        (const char *const[]){"maximum cpu usage per Pod is 1, but limit is 2", NULL});
    /* claims: min and max of the request */
    const char *pvclr = "[{\"spec\":{\"limits\":[{\"type\":\"PersistentVolumeClaim\","
                        "\"min\":{\"storage\":\"1Gi\"},\"max\":{\"storage\":\"5Gi\"}}]}}]";
    expect_violations(pvclr, true,
                      "{\"spec\":{\"resources\":{\"requests\":{\"storage\":\"10Gi\"}}}}",
                      (const char *const[]){"maximum storage usage per PersistentVolumeClaim is "
                                            "5Gi, but request is 10Gi",
                                            NULL});
    expect_violations(pvclr, true,
                      "{\"spec\":{\"resources\":{\"requests\":{\"storage\":\"500Mi\"}}}}",
                      (const char *const[]){"minimum storage usage per PersistentVolumeClaim is "
                                            "1Gi, but request is 500Mi",
                                            NULL});
    expect_violations(pvclr, true,
                      "{\"spec\":{\"resources\":{\"requests\":{\"storage\":\"2Gi\"}}}}",
                      (const char *const[]){NULL});
    /* claim items do not apply to pods, nor container items to claims */
    expect_violations(pvclr, false, "{\"spec\":{\"containers\":[{\"name\":\"a\"}]}}",
                      (const char *const[]){NULL});
    expect_violations(lr, true, "{\"spec\":{}}", (const char *const[]){NULL});
}

/* ---------- quota usage ---------- */

static void test_pod_usage(void)
{
    char b[TRI_QUANTITY_STR_MAX];
    json_t *pod =
        parse("{\"metadata\":{\"name\":\"p\"},\"spec\":{"
          "\"overhead\":{\"cpu\":\"10m\"},"
          "\"containers\":["
          "{\"name\":\"a\",\"resources\":{\"requests\":{\"cpu\":\"100m\",\"memory\":\"64Mi\"},"
          "\"limits\":{\"cpu\":\"200m\"}}},"
          "{\"name\":\"b\",\"resources\":{\"requests\":{\"cpu\":\"300m\",\"example.com/"
          "gpu\":\"1\"}}}],"
          "\"initContainers\":["
          "{\"name\":\"side\",\"restartPolicy\":\"Always\",\"resources\":{\"requests\":{\"cpu\":"
          "\"50m\"}}},"
          "{\"name\":\"big\",\"resources\":{\"requests\":{\"memory\":\"1Gi\"}}}]}}");
    tri_rlist_t u = {0};
    CHECK_EQ(tri_quota_usage(&tri_res_pods, pod, NOW, &u), 0);
    CHECK_STR(qs(&u, "pods", b), "1");
    CHECK_STR(qs(&u, "count/pods", b), "1");
    /* 100m + 300m + the sidecar's 50m + 10m overhead */
    CHECK_STR(qs(&u, "requests.cpu", b), "460m");
    CHECK_STR(qs(&u, "cpu", b), "460m");
    /* the init container alone (1Gi) beats the containers' 64Mi */
    CHECK_STR(qs(&u, "requests.memory", b), "1Gi");
    /* limits: only a sets one; overhead joins a limit the pod has */
    CHECK_STR(qs(&u, "limits.cpu", b), "210m");
    CHECK_STR(qs(&u, "limits.memory", b), "(absent)");
    CHECK_STR(qs(&u, "requests.example.com/gpu", b), "1");
    tri_rlist_free(&u);
    /* a Succeeded pod: only count/pods */
    json_object_set_new(pod, "status", json_pack("{s:s}", "phase", "Succeeded"));
    CHECK_EQ(tri_quota_usage(&tri_res_pods, pod, NOW, &u), 0);
    CHECK_STR(qs(&u, "count/pods", b), "1");
    CHECK_STR(qs(&u, "pods", b), "0");
    CHECK_STR(qs(&u, "requests.cpu", b), "(absent)");
    tri_rlist_free(&u);
    /* past its deletion grace period: not charged; within it: charged */
    json_object_set_new(pod, "status", json_object());
    json_object_set_new(json_object_get(pod, "metadata"), "deletionTimestamp",
                        json_string("2023-11-14T22:13:00Z")); /* NOW - 20 s */
    json_object_set_new(json_object_get(pod, "metadata"), "deletionGracePeriodSeconds",
                        json_integer(30));
    CHECK_EQ(tri_quota_usage(&tri_res_pods, pod, NOW, &u), 0);
    CHECK_STR(qs(&u, "pods", b), "1");
    tri_rlist_free(&u);
    CHECK_EQ(tri_quota_usage(&tri_res_pods, pod, NOW + 60, &u), 0);
    CHECK_STR(qs(&u, "pods", b), "0");
    tri_rlist_free(&u);
    json_decref(pod);
}

static void test_other_usage(void)
{
    char b[TRI_QUANTITY_STR_MAX];
    tri_rlist_t u = {0};
    json_t *svc =
        parse("{\"spec\":{\"type\":\"LoadBalancer\",\"ports\":[{\"port\":80},{\"port\":443}]}}");
    CHECK_EQ(tri_quota_usage(&tri_res_services, svc, NOW, &u), 0);
    CHECK_STR(qs(&u, "services", b), "1");
    CHECK_STR(qs(&u, "services.nodeports", b), "2");
    CHECK_STR(qs(&u, "services.loadbalancers", b), "1");
    CHECK_STR(qs(&u, "count/services", b), "1");
    tri_rlist_free(&u);
    json_decref(svc);
    json_t *pvc = parse("{\"spec\":{\"storageClassName\":\"fast\",\"resources\":{\"requests\":"
                    "{\"storage\":\"1.5\"}}}}");
    CHECK_EQ(tri_quota_usage(&tri_res_persistentvolumeclaims, pvc, NOW, &u), 0);
    CHECK_STR(qs(&u, "requests.storage", b), "2"); /* whole bytes */
    CHECK_STR(qs(&u, "fast.storageclass.storage.k8s.io/requests.storage", b), "2");
    CHECK_STR(qs(&u, "fast.storageclass.storage.k8s.io/persistentvolumeclaims", b), "1");
    CHECK_STR(qs(&u, "persistentvolumeclaims", b), "1");
    tri_rlist_free(&u);
    json_decref(pvc);
    json_t *cm = parse("{}");
    CHECK_EQ(tri_quota_usage(&tri_res_configmaps, cm, NOW, &u), 0);
    CHECK_STR(qs(&u, "configmaps", b), "1");
    CHECK_STR(qs(&u, "count/configmaps", b), "1");
    tri_rlist_free(&u);
    json_decref(cm);
    CHECK(tri_quota_tracks(&tri_res_pods, "requests.cpu"));
    CHECK(tri_quota_tracks(&tri_res_pods, "requests.hugepages-2Mi"));
    CHECK(!tri_quota_tracks(&tri_res_pods, "requests.storage"));
    CHECK(!tri_quota_tracks(&tri_res_pods, "count/services"));
    CHECK(tri_quota_tracks(&tri_res_secrets, "count/secrets"));
    CHECK(tri_quota_tracks(&tri_res_secrets, "secrets"));
    CHECK(!tri_quota_tracks(&tri_res_secrets, "count/secrets.apps"));
}

static void test_scopes(void)
{
    json_t *be = parse("{\"spec\":{\"hard\":{\"pods\":\"1\"},\"scopes\":[\"BestEffort\"]}}");
    json_t *hi =
        parse("{\"spec\":{\"hard\":{\"pods\":\"1\"},\"scopeSelector\":{\"matchExpressions\":"
          "[{\"scopeName\":\"PriorityClass\",\"operator\":\"In\",\"values\":[\"high\"]}]}}}");
    json_t *plain = parse("{\"spec\":{\"containers\":[{\"name\":\"a\"}]}}");
    json_t *sized = parse("{\"spec\":{\"priorityClassName\":\"high\",\"containers\":[{\"name\":\"a\","
                      "\"resources\":{\"requests\":{\"cpu\":\"1\"}}}]}}");
    json_t *cm = parse("{}");
    CHECK(tri_quota_matches(be, &tri_res_pods, plain, NOW));
    CHECK(!tri_quota_matches(be, &tri_res_pods, sized, NOW));
    CHECK(!tri_quota_matches(hi, &tri_res_pods, plain, NOW));
    CHECK(tri_quota_matches(hi, &tri_res_pods, sized, NOW));
    json_t *cmq =
        parse("{\"spec\":{\"hard\":{\"count/configmaps\":\"1\"},\"scopes\":[\"BestEffort\"]}}");
    CHECK(!tri_quota_matches(cmq, &tri_res_configmaps, cm, NOW)); /* scopes are pods' only */
    json_t *cmq2 = parse("{\"spec\":{\"hard\":{\"count/configmaps\":\"1\"}}}");
    CHECK(tri_quota_matches(cmq2, &tri_res_configmaps, cm, NOW));
    CHECK(!tri_quota_matches(cmq2, &tri_res_pods, plain, NOW)); /* nothing it tracks */
    json_decref(be);
    json_decref(hi);
    json_decref(plain);
    json_decref(sized);
    json_decref(cm);
    json_decref(cmq);
    json_decref(cmq2);
}

/* ---------- quota checks ---------- */

static void test_constraints(void)
{
    char why[512];
    json_t *q = parse(
        "{\"spec\":{\"hard\":{\"limits.cpu\":\"2\",\"requests.memory\":\"1Gi\",\"pods\":\"9\"}}}");
    json_t *pod = parse("{\"spec\":{\"containers\":[{\"name\":\"b\",\"resources\":{\"requests\":{"
                    "\"memory\":\"1Mi\"}}},"
                    "{\"name\":\"a\"}],\"initContainers\":[{\"name\":\"i\",\"resources\":"
                    "{\"limits\":{\"cpu\":\"1\"},\"requests\":{\"memory\":\"1\"}}}]}}");
    CHECK_EQ(tri_quota_constraints(q, pod, why, sizeof why), 1);
    CHECK_STR(why, "must specify limits.cpu for: a,b; requests.memory for: a");
    json_t *ok = parse("{\"spec\":{\"containers\":[{\"name\":\"a\",\"resources\":{\"limits\":"
                   "{\"cpu\":\"1\"},\"requests\":{\"memory\":\"1\"}}}]}}");
    CHECK_EQ(tri_quota_constraints(q, ok, why, sizeof why), 0);
    json_decref(q);
    json_decref(pod);
    json_decref(ok);
}

static void test_fits(void)
{
    char why[512], b[TRI_QUANTITY_STR_MAX];
    json_t *quota = parse("{\"spec\":{\"hard\":{\"pods\":\"2\",\"requests.cpu\":\"1\"}}}");
    json_t *pod = parse("{\"spec\":{\"containers\":[{\"name\":\"a\",\"resources\":"
                    "{\"requests\":{\"cpu\":\"600m\",\"memory\":\"1Gi\"}}}]}}");
    tri_rlist_t delta = {0}, hard = {0}, used = {0}, next = {0};
    CHECK_EQ(tri_quota_delta(quota, &tri_res_pods, pod, NULL, NOW, &delta), 0);
    CHECK_EQ(delta.n, 2); /* only what hard names: pods and requests.cpu */
    CHECK_STR(qs(&delta, "requests.cpu", b), "600m");
    tri_rlist_from_json(&hard, json_object_get(json_object_get(quota, "spec"), "hard"));
    json_t *u = parse("{\"pods\":\"1\",\"requests.cpu\":\"300m\"}");
    tri_rlist_from_json(&used, u);
    CHECK(tri_quota_fits("q", &hard, &used, &delta, &next, why, sizeof why));
    CHECK_STR(qs(&next, "pods", b), "2");
    CHECK_STR(qs(&next, "requests.cpu", b), "900m");
    tri_rlist_free(&used);
    tri_rlist_free(&next);
    json_t *u2 = parse("{\"pods\":\"2\",\"requests.cpu\":\"500m\"}");
    tri_rlist_from_json(&used, u2);
    CHECK(!tri_quota_fits("q", &hard, &used, &delta, &next, why, sizeof why));
    CHECK_STR(why, "exceeded quota: q, requested: pods=1,requests.cpu=600m, used: "
                   "pods=2,requests.cpu=500m, limited: pods=2,requests.cpu=1");
    tri_rlist_free(&used);
    tri_rlist_free(&next);
    tri_rlist_free(&delta);
    /* an update charges only growth: a claim from 1Gi to 3Gi adds 2Gi, shrinking adds nothing */
    json_t *sq =
        parse("{\"spec\":{\"hard\":{\"requests.storage\":\"10Gi\",\"persistentvolumeclaims\":\"5\"}}}");
    json_t *small = parse("{\"spec\":{\"resources\":{\"requests\":{\"storage\":\"1Gi\"}}}}");
    json_t *large = parse("{\"spec\":{\"resources\":{\"requests\":{\"storage\":\"3Gi\"}}}}");
    CHECK_EQ(tri_quota_delta(sq, &tri_res_persistentvolumeclaims, large, small, NOW, &delta), 0);
    CHECK_EQ(delta.n, 1);
    CHECK_STR(qs(&delta, "requests.storage", b), "2Gi");
    tri_rlist_free(&delta);
    CHECK_EQ(tri_quota_delta(sq, &tri_res_persistentvolumeclaims, small, large, NOW, &delta), 0);
    CHECK_EQ(delta.n, 0);
    tri_rlist_free(&hard);
    json_decref(sq);
    json_decref(small);
    json_decref(large);
    json_decref(u);
    json_decref(u2);
    json_decref(quota);
    json_decref(pod);
}

int main(void)
{
    test_defaults();
    test_violations();
    test_pod_usage();
    test_other_usage();
    test_scopes();
    test_constraints();
    test_fits();
    printf("quota: ok\n");
    return 0;
}
