/* core/v1 resource rows (pods, services, endpoints, secrets, serviceaccounts, PVs,
 * PVCs, resourcequotas, limitranges, replicationcontrollers): their defaulting,
 * validation and Table cells called directly on crafted objects, and the Service
 * allocators run against a real store — concurrent-allocation retries, explicit
 * requests, release on update and delete, exhaustion of a tiny CIDR. */
#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "../../server/api/meta.h"
#include "../../server/api/resources.h"
#include "check.h"
#include "json_fixture.h"
#include "triarch/errors.h"


static bool has_cause(const tri_status_t *st, const char *field, const char *needle)
{
    size_t i;
    json_t *c;
    json_array_foreach(st->causes, i, c)
    {
        const char *f = json_string_value(json_object_get(c, "field"));
        const char *m = json_string_value(json_object_get(c, "message"));
        if (f && strcmp(f, field) == 0 && (needle == NULL || (m && strstr(m, needle))))
            return true;
    }
    return false;
}

static size_t n_causes(const tri_status_t *st)
{
    return json_array_size(st->causes);
}

static void reset_status(tri_status_t *st)
{
    json_decref(st->causes);
    memset(st, 0, sizeof *st);
}

/* prepare (create), then validate; returns the object */
static json_t *created(const tri_resource_t *r, const char *body, tri_status_t *st)
{
    json_t *o = parse(body);
    memset(st, 0, sizeof *st);
    if (r->prepare)
        r->prepare(o, NULL);
    if (r->validate)
        r->validate(o, NULL, st);
    return o;
}

static json_t *cells(const tri_resource_t *r, const json_t *o)
{
    json_t *c = r->cells(o);
    CHECK(json_array_size(c) == r->n_columns);
    return c;
}

/* ---------- pods ---------- */

static const char POD[] =
    "{\"metadata\":{\"name\":\"x\",\"namespace\":\"default\",\"uid\":\"u1\"},"
    "\"spec\":{\"containers\":[{\"name\":\"c\",\"image\":\"nginx\","
    "\"ports\":[{\"containerPort\":80}]},{\"name\":\"d\",\"image\":\"reg:5000/app:1.2\"},"
    "{\"name\":\"e\",\"image\":\"app@sha256:abc\"}]},\"status\":{\"phase\":\"Running\"}}";

static void test_pod_defaults(void)
{
    tri_status_t st;
    json_t *p = created(&tri_res_pods, POD, &st);
    CHECK_EQ(n_causes(&st), 0);
    CHECK_STR(sat(p, "spec.restartPolicy"), "Always");
    CHECK_STR(sat(p, "spec.dnsPolicy"), "ClusterFirst");
    CHECK_EQ(json_integer_value(at(p, "spec.terminationGracePeriodSeconds")), 30);
    CHECK_STR(sat(p, "spec.schedulerName"), "default-scheduler");
    CHECK(json_is_object(at(p, "spec.securityContext")));
    CHECK(json_is_true(at(p, "spec.enableServiceLinks")));
    CHECK_STR(sat(p, "spec.serviceAccountName"), "default");
    CHECK_STR(sat(p, "spec.serviceAccount"), "default");
    CHECK_EQ(json_integer_value(at(p, "spec.priority")), 0);
    CHECK_EQ(json_array_size(at(p, "spec.tolerations")), 2);
    CHECK_EQ(json_integer_value(at(p, "spec.tolerations.0.tolerationSeconds")), 300);
    CHECK_STR(sat(p, "spec.containers.0.imagePullPolicy"), "Always");       /* no tag */
    CHECK_STR(sat(p, "spec.containers.1.imagePullPolicy"), "IfNotPresent"); /* tag, port in host */
    CHECK_STR(sat(p, "spec.containers.2.imagePullPolicy"), "IfNotPresent"); /* digest */
    CHECK_STR(sat(p, "spec.containers.0.terminationMessagePath"), "/dev/termination-log");
    CHECK_STR(sat(p, "spec.containers.0.terminationMessagePolicy"), "File");
    CHECK_STR(sat(p, "spec.containers.0.ports.0.protocol"), "TCP");
    CHECK(json_is_object(at(p, "spec.containers.0.resources")));
    /* a new pod's status is the server's: Pending, whatever the client sent */
    CHECK_STR(sat(p, "status.phase"), "Pending");
    CHECK_STR(sat(p, "status.qosClass"), "BestEffort");
    json_decref(p);
}

static void test_pod_qos(void)
{
    tri_status_t st;
    json_t *p = created(&tri_res_pods,
                        "{\"metadata\":{\"name\":\"q\"},\"spec\":{\"containers\":[{\"name\":\"c\","
                        "\"image\":\"i:1\",\"resources\":{\"limits\":{\"cpu\":\"500m\","
                        "\"memory\":\"128Mi\"}}}]}}",
                        &st);
    CHECK_STR(sat(p, "status.qosClass"), "Guaranteed");
    /* requests were defaulted from the limits */
    CHECK_STR(sat(p, "spec.containers.0.resources.requests.cpu"), "500m");
    json_decref(p);
    p = created(&tri_res_pods,
                "{\"metadata\":{\"name\":\"q\"},\"spec\":{\"containers\":[{\"name\":\"c\","
                "\"image\":\"i:1\",\"resources\":{\"requests\":{\"cpu\":\"0.5\"},\"limits\":{"
                "\"cpu\":\"1\",\"memory\":\"1Gi\"}}}]}}",
                &st);
    CHECK_STR(sat(p, "status.qosClass"), "Burstable");
    json_decref(p);
    p = created(&tri_res_pods,
                "{\"metadata\":{\"name\":\"q\"},\"spec\":{\"containers\":[{\"name\":\"c\","
                "\"image\":\"i:1\",\"resources\":{\"requests\":{\"cpu\":\"1\",\"memory\":"
                "\"1Gi\"},\"limits\":{\"cpu\":\"1000m\",\"memory\":\"1024Mi\"}}}]}}",
                &st);
    CHECK_STR(sat(p, "status.qosClass"), "Guaranteed"); /* equal quantities, other spelling */
    json_decref(p);
}

static void test_pod_validation(void)
{
    tri_status_t st;
    json_t *p = created(&tri_res_pods, "{\"metadata\":{\"name\":\"Bad_Name\"},\"spec\":{}}", &st);
    CHECK(has_cause(&st, "metadata.name", "RFC 1123"));
    CHECK(has_cause(&st, "spec.containers", "Required value"));
    json_decref(p);
    reset_status(&st);
    p = created(&tri_res_pods,
                "{\"metadata\":{\"name\":\"p\"},\"spec\":{\"restartPolicy\":\"Sometimes\","
                "\"containers\":[{\"name\":\"c\"},{\"name\":\"c\",\"image\":\"i\",\"ports\":["
                "{\"containerPort\":70000,\"protocol\":\"XTP\"}],\"volumeMounts\":[{\"name\":"
                "\"nope\",\"mountPath\":\"/x\"}]}],\"initContainers\":[{\"name\":\"\",\"image\":"
                "\"i\"}]}}",
                &st);
    CHECK(has_cause(&st, "spec.containers[0].image", "Required value"));
    CHECK(has_cause(&st, "spec.containers[1].name", "Duplicate value: \"c\""));
    CHECK(has_cause(&st, "spec.containers[1].ports[0].containerPort", "between 1 and 65535"));
    CHECK(has_cause(&st, "spec.containers[1].ports[0].protocol", "Unsupported value: \"XTP\""));
    CHECK(has_cause(&st, "spec.containers[1].volumeMounts[0].name", "Not found"));
    CHECK(has_cause(&st, "spec.initContainers[0].name", "Required value"));
    CHECK(has_cause(&st, "spec.restartPolicy", "supported values: \"Always\""));
    /* the whole status reads as Kubernetes' 422 */
    CHECK(tri_meta_finish_invalid(&tri_res_pods, "p", &st));
    CHECK_EQ(st.code, 422);
    CHECK(strstr(st.message, "Pod \"p\" is invalid: ") == st.message);
    json_decref(p);
    reset_status(&st);
}

static json_t *updated(const json_t *old, void (*edit)(json_t *), tri_status_t *st)
{
    json_t *n = json_deep_copy(old);
    edit(n);
    memset(st, 0, sizeof *st);
    tri_res_pods.prepare(n, old);
    tri_res_pods.validate(n, old, st);
    return n;
}

static void edit_image(json_t *p)
{
    json_object_set_new(at(p, "spec.containers.0"), "image", json_string("nginx:1.27"));
    json_object_set_new(at(p, "spec"), "activeDeadlineSeconds", json_integer(60));
    json_array_append_new(at(p, "spec.tolerations"),
                          json_pack("{s:s, s:s}", "key", "k", "operator", "Exists"));
    json_object_set_new(at(p, "spec"), "nodeName", json_string("n1")); /* binding */
}

static void edit_forbidden(json_t *p)
{
    json_object_set_new(at(p, "spec"), "restartPolicy", json_string("Never"));
    json_array_clear(at(p, "spec.containers.0.ports"));
    json_array_remove(at(p, "spec.tolerations"), 0);
}

static void edit_drop_admitted(json_t *p)
{
    json_object_del(at(p, "spec"), "serviceAccountName");
    json_object_del(at(p, "spec"), "serviceAccount");
    json_object_del(at(p, "spec"), "tolerations");
}

static void test_pod_update(void)
{
    tri_status_t st;
    json_t *old = created(&tri_res_pods, POD, &st);
    json_t *n = updated(old, edit_image, &st);
    CHECK_EQ(n_causes(&st), 0);
    json_decref(n);
    n = updated(old, edit_forbidden, &st);
    CHECK(has_cause(&st, "spec.restartPolicy", "pod updates may not change fields"));
    CHECK(has_cause(&st, "spec.containers[0].ports", "pod updates may not change fields"));
    CHECK(has_cause(&st, "spec.tolerations", "only additions"));
    CHECK_EQ(n_causes(&st), 3);
    reset_status(&st);
    json_decref(n);
    /* a full replacement without what admission added keeps it */
    n = updated(old, edit_drop_admitted, &st);
    CHECK_EQ(n_causes(&st), 0);
    CHECK_STR(sat(n, "spec.serviceAccountName"), "default");
    json_decref(n);
    json_decref(old);
}

static void test_pod_cells(void)
{
    tri_status_t st;
    json_t *p = created(&tri_res_pods, POD, &st);
    json_t *c = cells(&tri_res_pods, p);
    CHECK_STR(json_string_value(json_array_get(c, 0)), "x");
    CHECK_STR(json_string_value(json_array_get(c, 1)), "0/3");
    CHECK(json_string_value(json_array_get(c, 4)) != NULL); /* AGE before the wide columns */
    CHECK_STR(json_string_value(json_array_get(c, 2)), "Pending");
    CHECK_STR(json_string_value(json_array_get(c, 3)), "0");
    CHECK_STR(json_string_value(json_array_get(c, 5)), "<none>");
    CHECK_STR(json_string_value(json_array_get(c, 6)), "<none>");
    CHECK_STR(json_string_value(json_array_get(c, 8)), "<none>");
    json_decref(c);
    json_decref(p);

    p = parse("{\"metadata\":{\"name\":\"r\"},\"spec\":{\"nodeName\":\"n1\",\"containers\":["
              "{\"name\":\"a\"},{\"name\":\"b\"}],\"readinessGates\":[{\"conditionType\":\"G\"}]},"
              "\"status\":{\"phase\":\"Running\",\"podIP\":\"10.244.0.5\",\"conditions\":[{"
              "\"type\":\"G\",\"status\":\"True\"}],\"containerStatuses\":[{\"name\":\"a\","
              "\"ready\":true,\"restartCount\":1,\"state\":{\"running\":{}}},{\"name\":\"b\","
              "\"ready\":false,\"restartCount\":3,\"state\":{\"waiting\":{\"reason\":"
              "\"CrashLoopBackOff\"}},\"lastState\":{\"terminated\":{\"exitCode\":1,"
              "\"finishedAt\":\"2020-01-01T00:00:00Z\"}}}]}}");
    c = cells(&tri_res_pods, p);
    CHECK_STR(json_string_value(json_array_get(c, 1)), "1/2");
    CHECK_STR(json_string_value(json_array_get(c, 2)), "CrashLoopBackOff");
    CHECK(strncmp(json_string_value(json_array_get(c, 3)), "4 (", 3) == 0);
    CHECK(strstr(json_string_value(json_array_get(c, 3)), " ago)") != NULL);
    CHECK_STR(json_string_value(json_array_get(c, 5)), "10.244.0.5");
    CHECK_STR(json_string_value(json_array_get(c, 6)), "n1");
    CHECK_STR(json_string_value(json_array_get(c, 8)), "1/1");
    json_decref(c);
    json_object_set_new(json_object_get(p, "metadata"), "deletionTimestamp",
                        json_string("2020-01-01T00:00:00Z"));
    c = cells(&tri_res_pods, p);
    CHECK_STR(json_string_value(json_array_get(c, 2)), "Terminating");
    json_decref(c);
    json_decref(p);

    p = parse("{\"metadata\":{\"name\":\"i\"},\"spec\":{\"initContainers\":[{\"name\":\"i1\"},"
              "{\"name\":\"i2\"}],\"containers\":[{\"name\":\"a\"}]},\"status\":{\"phase\":"
              "\"Pending\",\"initContainerStatuses\":[{\"name\":\"i1\",\"state\":{\"terminated\":"
              "{\"exitCode\":0}}},{\"name\":\"i2\",\"state\":{\"running\":{}}}]}}");
    c = cells(&tri_res_pods, p);
    CHECK_STR(json_string_value(json_array_get(c, 2)), "Init:1/2");
    json_decref(c);
    json_decref(p);
}

/* ---------- services: defaulting and validation ---------- */

static void test_service_defaults(void)
{
    tri_status_t st;
    json_t *s = created(&tri_res_services,
                        "{\"metadata\":{\"name\":\"s\"},\"spec\":{\"selector\":{\"b\":\"2\","
                        "\"a\":\"1\"},\"ports\":[{\"port\":80}]}}",
                        &st);
    CHECK_EQ(n_causes(&st), 0);
    CHECK_STR(sat(s, "spec.type"), "ClusterIP");
    CHECK_STR(sat(s, "spec.sessionAffinity"), "None");
    CHECK_STR(sat(s, "spec.ipFamilies.0"), "IPv4");
    CHECK_STR(sat(s, "spec.ipFamilyPolicy"), "SingleStack");
    CHECK_STR(sat(s, "spec.internalTrafficPolicy"), "Cluster");
    CHECK_STR(sat(s, "spec.ports.0.protocol"), "TCP");
    CHECK_EQ(json_integer_value(at(s, "spec.ports.0.targetPort")), 80);
    CHECK(json_is_object(at(s, "status.loadBalancer")));
    json_object_set_new(at(s, "spec"), "clusterIP", json_string("10.96.0.10"));
    json_t *c = cells(&tri_res_services, s);
    CHECK_STR(json_string_value(json_array_get(c, 1)), "ClusterIP");
    CHECK_STR(json_string_value(json_array_get(c, 2)), "10.96.0.10");
    CHECK_STR(json_string_value(json_array_get(c, 3)), "<none>");
    CHECK_STR(json_string_value(json_array_get(c, 4)), "80/TCP");
    CHECK_STR(json_string_value(json_array_get(c, 6)), "a=1,b=2");
    json_decref(c);
    json_decref(s);

    s = created(&tri_res_services,
                "{\"metadata\":{\"name\":\"lb\"},\"spec\":{\"type\":\"LoadBalancer\","
                "\"ports\":[{\"name\":\"h\",\"port\":80,\"nodePort\":30080},{\"name\":\"d\","
                "\"port\":53,\"protocol\":\"UDP\",\"targetPort\":\"dns\"}]}}",
                &st);
    CHECK_EQ(n_causes(&st), 0);
    CHECK_STR(sat(s, "spec.externalTrafficPolicy"), "Cluster");
    CHECK(json_is_true(at(s, "spec.allocateLoadBalancerNodePorts")));
    CHECK_STR(sat(s, "spec.ports.1.targetPort"), "dns");
    c = cells(&tri_res_services, s);
    CHECK_STR(json_string_value(json_array_get(c, 2)), "<none>");
    CHECK_STR(json_string_value(json_array_get(c, 3)), "<pending>");
    CHECK_STR(json_string_value(json_array_get(c, 4)), "80:30080/TCP,53/UDP");
    json_decref(c);
    json_decref(s);
}

static void test_service_validation(void)
{
    tri_status_t st;
    json_t *s = created(&tri_res_services,
                        "{\"metadata\":{\"name\":\"1svc\"},\"spec\":{\"type\":\"Weird\"}}", &st);
    CHECK(has_cause(&st, "metadata.name", "DNS-1035"));
    CHECK(has_cause(&st, "spec.type", "Unsupported value: \"Weird\""));
    CHECK(has_cause(&st, "spec.ports", "Required value"));
    json_decref(s);
    reset_status(&st);
    s = created(&tri_res_services,
                "{\"metadata\":{\"name\":\"s\"},\"spec\":{\"clusterIP\":\"nope\",\"ports\":["
                "{\"port\":80,\"nodePort\":30000},{\"port\":0}]}}",
                &st);
    CHECK(has_cause(&st, "spec.ports[0].name", "Required value"));
    CHECK(has_cause(&st, "spec.ports[1].port", "between 1 and 65535"));
    CHECK(has_cause(&st, "spec.ports[0].nodePort", "may not be used when `type` is 'ClusterIP'"));
    CHECK(has_cause(&st, "spec.clusterIPs[0]", "must be a valid IP address"));
    json_decref(s);
    reset_status(&st);
    /* headless: no ports needed */
    s = created(&tri_res_services,
                "{\"metadata\":{\"name\":\"h\"},\"spec\":{\"clusterIP\":\"None\"}}", &st);
    CHECK_EQ(n_causes(&st), 0);
    json_decref(s);
}

/* ---------- services: allocators on a real store ---------- */

typedef struct fixture {
    tri_store_t *store;
    tri_api_t *api;
} fixture_t;

static void fixture_init(fixture_t *f)
{
    CHECK_EQ(tri_store_new(NULL, &f->store), 0);
    CHECK_EQ(tri_api_new(NULL, NULL, f->store, NULL, &f->api), 0);
}

static void fixture_free(fixture_t *f)
{
    tri_api_free(f->api);
    tri_store_free(f->store);
}

static void commit(fixture_t *f, tri_txn_builder_t *b, int want)
{
    tri_txn_t txn = {b->cmps, b->n_cmps, b->ops, b->n_ops};
    tri_txn_result_t res;
    int rc = tri_store_apply(f->store, &txn, &res);
    CHECK(rc == 0 || rc == res.status);
    CHECK_EQ(res.status, want);
}

static bool key_exists(fixture_t *f, const char *key)
{
    tri_kv_t kv;
    if (tri_store_get(f->store, key, strlen(key), 0, &kv) != 0)
        return false;
    tri_kv_release(&kv);
    return true;
}

static void occupy(fixture_t *f, const char *key)
{
    tri_op_t op = {TRI_OP_PUT, key, strlen(key), "x", 1};
    tri_txn_t txn = {NULL, 0, &op, 1};
    tri_txn_result_t res;
    CHECK_EQ(tri_store_apply(f->store, &txn, &res), 0);
}

static json_t *svc(const char *uid, const char *spec)
{
    char buf[1024];
    snprintf(buf, sizeof buf,
             "{\"metadata\":{\"name\":\"s-%s\",\"namespace\":\"default\",\"uid\":\"%s\"},"
             "\"spec\":%s}",
             uid, uid, spec);
    json_t *o = parse(buf);
    tri_res_services.prepare(o, NULL);
    return o;
}

static int run_create(fixture_t *f, json_t *o, tri_txn_builder_t *b, tri_status_t *st)
{
    tri_txn_builder_reset(b);
    memset(st, 0, sizeof *st);
    return tri_res_services.on_create(f->api, o, b, st);
}

static bool ip_in_range(const char *ip)
{
    unsigned a, b, c, d;
    if (sscanf(ip, "%u.%u.%u.%u", &a, &b, &c, &d) != 4)
        return false;
    unsigned v = a << 24 | b << 16 | c << 8 | d;
    unsigned base = 10u << 24 | 96u << 16;
    return v >= base + 2 && v < base + (1u << 20) - 1;
}

static void key_of_ip(const char *ip, char *out, size_t len)
{
    snprintf(out, len, "/registry/core/serviceips/%s", ip);
}

static void test_alloc_cluster_ip(void)
{
    fixture_t f;
    fixture_init(&f);
    tri_txn_builder_t b = {0};
    tri_status_t st;
    json_t *a = svc("a", "{\"ports\":[{\"port\":80}]}");
    CHECK_EQ(run_create(&f, a, &b, &st), 0);
    const char *ip_a = sat(a, "spec.clusterIP");
    CHECK(ip_a && ip_in_range(ip_a));
    CHECK_STR(sat(a, "spec.clusterIPs.0"), ip_a);
    CHECK_EQ(b.n_cmps, 1);
    CHECK_EQ(b.n_ops, 1);
    CHECK_EQ(b.cmps[0].kind, TRI_CMP_ABSENT);
    char key[128];
    key_of_ip(ip_a, key, sizeof key);
    CHECK(b.cmps[0].key_len == strlen(key) && memcmp(b.cmps[0].key, key, strlen(key)) == 0);
    CHECK(memmem(b.ops[0].val, b.ops[0].val_len, "\"uid\":\"a\"", 9) != NULL);
    commit(&f, &b, 0);
    CHECK(key_exists(&f, key));

    /* an explicit request for a taken IP: 422 naming the field */
    json_t *c = svc("c", "{\"ports\":[{\"port\":80}]}");
    json_object_set_new(at(c, "spec"), "clusterIP", json_string(ip_a));
    CHECK(run_create(&f, c, &b, &st) != 0);
    CHECK_EQ(st.code, 422);
    CHECK(strstr(st.message, "provided IP is already allocated") != NULL);
    CHECK(has_cause(&st, "spec.clusterIPs", "provided IP is already allocated"));
    reset_status(&st);
    json_decref(c);

    /* a free explicit one is honoured; outside the range is refused */
    c = svc("c2", "{\"clusterIP\":\"10.96.0.10\",\"ports\":[{\"port\":80}]}");
    CHECK_EQ(run_create(&f, c, &b, &st), 0);
    CHECK_STR(sat(c, "spec.clusterIP"), "10.96.0.10");
    CHECK(memcmp(b.cmps[0].key, "/registry/core/serviceips/10.96.0.10", b.cmps[0].key_len) == 0);
    json_decref(c);
    c = svc("c3", "{\"clusterIP\":\"10.200.0.1\",\"ports\":[{\"port\":80}]}");
    CHECK(run_create(&f, c, &b, &st) != 0);
    CHECK(strstr(st.message, "not in the valid range") != NULL);
    reset_status(&st);
    json_decref(c);

    /* headless and ExternalName allocate nothing */
    c = svc("h", "{\"clusterIP\":\"None\"}");
    CHECK_EQ(run_create(&f, c, &b, &st), 0);
    CHECK_EQ(b.n_cmps + b.n_ops, 0);
    CHECK_STR(sat(c, "spec.clusterIPs.0"), "None");
    json_decref(c);
    c = svc("en", "{\"type\":\"ExternalName\",\"externalName\":\"example.com\"}");
    CHECK_EQ(run_create(&f, c, &b, &st), 0);
    CHECK_EQ(b.n_cmps + b.n_ops, 0);
    CHECK(at(c, "spec.clusterIP") == NULL);
    json_decref(c);

    /* delete releases */
    tri_txn_builder_reset(&b);
    tri_res_services.on_delete(f.api, a, &b);
    CHECK_EQ(b.n_ops, 1);
    CHECK_EQ(b.ops[0].kind, TRI_OP_DELETE);
    commit(&f, &b, 0);
    CHECK(!key_exists(&f, key));
    json_decref(a);
    tri_txn_builder_reset(&b);
    fixture_free(&f);
}

/* Another replica's create took the IP this hook picked: the client calls the hook
 * again with attempt 1 on the same object; it must pick another IP, while an IP the
 * user asked for is refused instead. */
static void test_alloc_retry(void)
{
    fixture_t f;
    fixture_init(&f);
    tri_txn_builder_t b = {0};
    tri_status_t st;
    json_t *a = svc("r", "{\"type\":\"NodePort\",\"ports\":[{\"port\":80}]}");
    CHECK_EQ(run_create(&f, a, &b, &st), 0);
    char ip1[64], key[128];
    snprintf(ip1, sizeof ip1, "%s", sat(a, "spec.clusterIP"));
    json_int_t np1 = json_integer_value(at(a, "spec.ports.0.nodePort"));
    CHECK(np1 >= 30000 && np1 <= 32767);
    CHECK_EQ(b.n_cmps, 2);
    /* the winner's keys land first */
    key_of_ip(ip1, key, sizeof key);
    occupy(&f, key);
    char npkey[128];
    snprintf(npkey, sizeof npkey, "/registry/core/servicenodeports/%lld", (long long)np1);
    occupy(&f, npkey);
    commit(&f, &b, TRI_EPRECOND);
    b.attempt = 1;
    CHECK_EQ(run_create(&f, a, &b, &st), 0);
    CHECK(strcmp(sat(a, "spec.clusterIP"), ip1) != 0);
    CHECK(ip_in_range(sat(a, "spec.clusterIP")));
    CHECK(json_integer_value(at(a, "spec.ports.0.nodePort")) != np1);
    commit(&f, &b, 0);

    /* an explicit IP that lost the race is a 422, not silently another IP */
    b.attempt = 0;
    json_t *e = svc("e", "{\"clusterIP\":\"10.96.0.77\",\"ports\":[{\"port\":80}]}");
    CHECK_EQ(run_create(&f, e, &b, &st), 0);
    occupy(&f, "/registry/core/serviceips/10.96.0.77");
    b.attempt = 1;
    CHECK(run_create(&f, e, &b, &st) != 0);
    CHECK_EQ(st.code, 422);
    CHECK(strstr(st.message, "provided IP is already allocated") != NULL);
    reset_status(&st);
    json_decref(e);
    json_decref(a);
    tri_txn_builder_reset(&b);
    fixture_free(&f);
}

static void test_alloc_node_ports(void)
{
    fixture_t f;
    fixture_init(&f);
    tri_txn_builder_t b = {0};
    tri_status_t st;
    occupy(&f, "/registry/core/servicenodeports/30080");
    json_t *s = svc("n", "{\"type\":\"NodePort\",\"ports\":[{\"name\":\"a\",\"port\":80,"
                         "\"nodePort\":30080},{\"name\":\"b\",\"port\":81}]}");
    CHECK(run_create(&f, s, &b, &st) != 0);
    CHECK(has_cause(&st, "spec.ports[0].nodePort", "provided port is already allocated"));
    reset_status(&st);
    json_decref(s);
    s = svc("n2", "{\"type\":\"NodePort\",\"ports\":[{\"port\":80,\"nodePort\":80}]}");
    CHECK(run_create(&f, s, &b, &st) != 0);
    CHECK(has_cause(&st, "spec.ports[0].nodePort", "30000-32767"));
    reset_status(&st);
    json_decref(s);

    /* two ports: two distinct node ports; the explicit one is kept */
    s = svc("n3", "{\"type\":\"NodePort\",\"ports\":[{\"name\":\"a\",\"port\":80},{\"name\":"
                  "\"b\",\"port\":81,\"nodePort\":31000}]}");
    CHECK_EQ(run_create(&f, s, &b, &st), 0);
    json_int_t p0 = json_integer_value(at(s, "spec.ports.0.nodePort"));
    CHECK(p0 >= 30000 && p0 <= 32767 && p0 != 31000);
    CHECK_EQ(json_integer_value(at(s, "spec.ports.1.nodePort")), 31000);
    CHECK_EQ(b.n_cmps, 3);
    commit(&f, &b, 0);

    /* update to ClusterIP releases both node ports (the prepare drops nothing: the
     * user cleared them) */
    json_t *n = json_deep_copy(s);
    json_object_set_new(at(n, "spec"), "type", json_string("ClusterIP"));
    json_object_del(at(n, "spec.ports.0"), "nodePort");
    json_object_del(at(n, "spec.ports.1"), "nodePort");
    json_object_del(at(n, "spec"), "externalTrafficPolicy");
    tri_res_services.prepare(n, s);
    memset(&st, 0, sizeof st);
    tri_res_services.validate(n, s, &st);
    CHECK_EQ(n_causes(&st), 0);
    tri_txn_builder_reset(&b);
    CHECK_EQ(tri_res_services.on_update(f.api, n, s, &b, &st), 0);
    CHECK_EQ(b.n_cmps, 0);
    CHECK_EQ(b.n_ops, 2);
    CHECK_EQ(b.ops[0].kind, TRI_OP_DELETE);
    commit(&f, &b, 0);
    CHECK(!key_exists(&f, "/registry/core/servicenodeports/31000"));
    json_decref(n);

    /* an update that omits the node ports keeps them (patchAllocatedValues) and
     * allocates only for a new port */
    n = json_deep_copy(s);
    json_object_del(at(n, "spec.ports.0"), "nodePort");
    json_object_del(at(n, "spec"), "clusterIP");
    json_object_del(at(n, "spec"), "clusterIPs");
    json_array_append_new(at(n, "spec.ports"), json_pack("{s:s, s:i}", "name", "c", "port", 82));
    tri_res_services.prepare(n, s);
    CHECK_EQ(json_integer_value(at(n, "spec.ports.0.nodePort")), p0);
    CHECK_STR(sat(n, "spec.clusterIP"), sat(s, "spec.clusterIP"));
    tri_txn_builder_reset(&b);
    CHECK_EQ(tri_res_services.on_update(f.api, n, s, &b, &st), 0);
    CHECK_EQ(b.n_cmps, 1);
    json_decref(n);

    /* clusterIP is immutable */
    n = json_deep_copy(s);
    json_object_set_new(at(n, "spec"), "clusterIP", json_string("10.96.0.99"));
    json_object_del(at(n, "spec"), "clusterIPs");
    tri_res_services.prepare(n, s);
    memset(&st, 0, sizeof st);
    tri_res_services.validate(n, s, &st);
    CHECK(has_cause(&st, "spec.clusterIPs[0]", "may not change once set"));
    reset_status(&st);
    json_decref(n);
    json_decref(s);
    tri_txn_builder_reset(&b);
    fixture_free(&f);
}

static void test_alloc_exhaustion(void)
{
    fixture_t f;
    fixture_init(&f);
    char ip[64], key[128], seed[16];
    /* /29: 8 addresses; network, the kubernetes Service's and broadcast excluded */
    for (int i = 0; i < 5; i++) {
        snprintf(seed, sizeof seed, "s%d", i);
        CHECK_EQ(tri_service_pick_ip(f.store, "10.0.0.0/29", seed, 0, ip, sizeof ip), 0);
        CHECK(strcmp(ip, "10.0.0.0") != 0 && strcmp(ip, "10.0.0.1") != 0 &&
              strcmp(ip, "10.0.0.7") != 0);
        key_of_ip(ip, key, sizeof key);
        CHECK(!key_exists(&f, key));
        occupy(&f, key);
    }
    CHECK_EQ(tri_service_pick_ip(f.store, "10.0.0.0/29", "s9", 0, ip, sizeof ip), TRI_ENOENT);
    CHECK_EQ(tri_service_pick_ip(f.store, "10.0.0.0/33", "s9", 0, ip, sizeof ip), TRI_EINVAL);
    fixture_free(&f);
}

/* The service CIDR's first address is the kubernetes Service's alone: refused to
 * any other Service even while no allocator key holds it (the kubernetes Service
 * deleted, about to be recreated), granted to default/kubernetes; and the CIDR is
 * the api's setting. */
static void test_alloc_reserved_and_cidr(void)
{
    fixture_t f;
    fixture_init(&f);
    char ip[64];
    CHECK_STR(tri_api_service_cidr(f.api), "10.96.0.0/12");
    CHECK_EQ(tri_api_kubernetes_service_ip(f.api, ip, sizeof ip), 0);
    CHECK_STR(ip, "10.96.0.1");
    tri_txn_builder_t b = {0};
    tri_status_t st;
    json_t *t = svc("t", "{\"clusterIP\":\"10.96.0.1\",\"ports\":[{\"port\":80}]}");
    CHECK(run_create(&f, t, &b, &st) != 0);
    CHECK_EQ(st.code, 422);
    CHECK(has_cause(&st, "spec.clusterIPs", "provided IP is already allocated"));
    reset_status(&st);
    json_object_set_new(at(t, "metadata"), "name", json_string("kubernetes"));
    json_object_set_new(at(t, "metadata"), "namespace", json_string("other"));
    CHECK(run_create(&f, t, &b, &st) != 0); /* the name alone is not enough */
    reset_status(&st);
    json_object_set_new(at(t, "metadata"), "namespace", json_string("default"));
    CHECK_EQ(run_create(&f, t, &b, &st), 0);
    CHECK_STR(sat(t, "spec.clusterIP"), "10.96.0.1");
    CHECK(memcmp(b.cmps[0].key, "/registry/core/serviceips/10.96.0.1", b.cmps[0].key_len) == 0);
    json_decref(t);
    tri_txn_builder_reset(&b);
    fixture_free(&f);

    /* another range: allocations, the reserved address and the error follow it */
    CHECK(tri_service_cidr_valid("10.0.0.0/29"));
    CHECK(!tri_service_cidr_valid("10.0.0.0/31") && !tri_service_cidr_valid("10.0.0.0") &&
          !tri_service_cidr_valid("fd00::/64") && !tri_service_cidr_valid(NULL) &&
          !tri_service_cidr_valid("10.0.0.0/x"));
    CHECK_EQ(tri_store_new(NULL, &f.store), 0);
    tri_api_config_t cfg = {.service_cidr = "10.0.0.0/29"};
    CHECK_EQ(tri_api_new(NULL, NULL, f.store, &cfg, &f.api), 0);
    CHECK_EQ(tri_api_kubernetes_service_ip(f.api, ip, sizeof ip), 0);
    CHECK_STR(ip, "10.0.0.1");
    for (int i = 0; i < 5; i++) {
        char uid[8];
        snprintf(uid, sizeof uid, "u%d", i);
        json_t *a = svc(uid, "{\"ports\":[{\"port\":80}]}");
        CHECK_EQ(run_create(&f, a, &b, &st), 0);
        const char *got = sat(a, "spec.clusterIP");
        CHECK(got && strncmp(got, "10.0.0.", 7) == 0 && strcmp(got, "10.0.0.1") != 0 &&
              strcmp(got, "10.0.0.0") != 0 && strcmp(got, "10.0.0.7") != 0);
        commit(&f, &b, 0);
        json_decref(a);
    }
    json_t *full = svc("u9", "{\"ports\":[{\"port\":80}]}");
    CHECK(run_create(&f, full, &b, &st) != 0);
    CHECK(strstr(st.message, "range is full") != NULL);
    reset_status(&st);
    json_decref(full);
    json_t *out = svc("o", "{\"clusterIP\":\"10.96.0.10\",\"ports\":[{\"port\":80}]}");
    CHECK(run_create(&f, out, &b, &st) != 0);
    CHECK(has_cause(&st, "spec.clusterIPs", "The range of valid IPs is 10.0.0.0/29"));
    reset_status(&st);
    json_decref(out);
    tri_txn_builder_reset(&b);
    fixture_free(&f);
}

/* ---------- the other kinds ---------- */

static void test_secrets(void)
{
    tri_status_t st;
    json_t *s = created(&tri_res_secrets,
                        "{\"metadata\":{\"name\":\"s\"},\"data\":{\"a\":\"aGk=\"},"
                        "\"stringData\":{\"b\":\"hello\"}}",
                        &st);
    CHECK_EQ(st.code, 0);
    CHECK_EQ(n_causes(&st), 0);
    CHECK_STR(sat(s, "type"), "Opaque");
    CHECK_STR(sat(s, "data.b"), "aGVsbG8=");
    CHECK(json_object_get(s, "stringData") == NULL);
    json_t *c = cells(&tri_res_secrets, s);
    CHECK_STR(json_string_value(json_array_get(c, 0)), "Opaque");
    CHECK_EQ(json_integer_value(json_array_get(c, 1)), 2);
    json_decref(c);
    json_decref(s);
    s = created(&tri_res_secrets, "{\"metadata\":{\"name\":\"s\"},\"data\":{\"a\":\"aGk\"}}", &st);
    CHECK_EQ(st.code, 400);
    CHECK(strstr(st.message, "illegal base64 data at input byte 3") != NULL);
    json_decref(s);
    reset_status(&st);
    s = created(&tri_res_secrets,
                "{\"metadata\":{\"name\":\"t\"},\"type\":\"kubernetes.io/tls\",\"data\":{"
                "\"tls.crt\":\"\"}}",
                &st);
    CHECK(has_cause(&st, "data[tls.key]", "Required value"));
    reset_status(&st);
    /* type is immutable; an immutable secret's data too */
    json_t *old = json_deep_copy(s);
    json_object_set_new(old, "immutable", json_true());
    json_object_set_new(s, "type", json_string("Opaque"));
    json_object_set_new(at(s, "data"), "x", json_string(""));
    tri_res_secrets.validate(s, old, &st);
    CHECK(has_cause(&st, "type", "field is immutable"));
    CHECK(has_cause(&st, "data", "immutable"));
    reset_status(&st);
    json_decref(old);
    json_decref(s);
    size_t n;
    CHECK_EQ(tri_base64_check("aGVsbG8=", 8, &n), -1);
    CHECK_EQ(n, 5);
    CHECK_EQ(tri_base64_check("aGVs\nbG8=", 9, &n), -1);
    CHECK_EQ(tri_base64_check("a=Vs", 4, &n), 1);
    CHECK_EQ(tri_base64_check("aGV*", 4, &n), 3);
}

static void test_rc(void)
{
    tri_status_t st;
    json_t *rc = created(&tri_res_replicationcontrollers,
                         "{\"metadata\":{\"name\":\"rc\"},\"spec\":{\"template\":{\"metadata\":{"
                         "\"labels\":{\"app\":\"w\"}},\"spec\":{\"containers\":[{\"name\":\"c\","
                         "\"image\":\"nginx:1\"},{\"name\":\"d\",\"image\":\"busybox\"}]}}}}",
                         &st);
    CHECK_EQ(n_causes(&st), 0);
    CHECK_STR(sat(rc, "spec.selector.app"), "w");
    CHECK_STR(sat(rc, "metadata.labels.app"), "w");
    CHECK_EQ(json_integer_value(at(rc, "spec.replicas")), 1);
    CHECK_STR(sat(rc, "spec.template.spec.restartPolicy"), "Always");
    CHECK_STR(sat(rc, "spec.template.spec.containers.1.imagePullPolicy"), "Always");
    CHECK_EQ(json_integer_value(at(rc, "status.replicas")), 0);
    json_t *c = cells(&tri_res_replicationcontrollers, rc);
    CHECK_EQ(json_integer_value(json_array_get(c, 0)), 1);
    CHECK_STR(json_string_value(json_array_get(c, 3)), "c,d");
    CHECK_STR(json_string_value(json_array_get(c, 4)), "nginx:1,busybox");
    CHECK_STR(json_string_value(json_array_get(c, 5)), "app=w");
    json_decref(c);
    json_decref(rc);
    rc = created(&tri_res_replicationcontrollers,
                 "{\"metadata\":{\"name\":\"rc\"},\"spec\":{\"replicas\":-1,\"selector\":{\"app\":"
                 "\"x\"},\"template\":{\"metadata\":{\"labels\":{\"app\":\"w\"}},\"spec\":{"
                 "\"restartPolicy\":\"Never\",\"containers\":[{\"name\":\"c\"}]}}}}",
                 &st);
    CHECK(has_cause(&st, "spec.replicas", "greater than or equal to 0"));
    CHECK(has_cause(&st, "spec.template.metadata.labels", "`selector` does not match"));
    CHECK(has_cause(&st, "spec.template.spec.restartPolicy", "supported values: \"Always\""));
    CHECK(has_cause(&st, "spec.template.spec.containers[0].image", "Required value"));
    reset_status(&st);
    json_decref(rc);
    CHECK(tri_res_replicationcontrollers.has_generation);
    CHECK_STR(tri_res_replicationcontrollers.scale_replicas, "spec.replicas");
}

static void test_volumes(void)
{
    tri_status_t st;
    json_t *pv = created(&tri_res_persistentvolumes,
                         "{\"metadata\":{\"name\":\"pv1\"},\"spec\":{\"capacity\":{\"storage\":"
                         "\"1Gi\"},\"accessModes\":[\"ReadWriteMany\",\"ReadWriteOnce\"],"
                         "\"hostPath\":{\"path\":\"/tmp\"},\"claimRef\":{\"namespace\":\"d\","
                         "\"name\":\"c\"}}}",
                         &st);
    CHECK_EQ(n_causes(&st), 0);
    CHECK_STR(sat(pv, "spec.persistentVolumeReclaimPolicy"), "Retain");
    CHECK_STR(sat(pv, "spec.volumeMode"), "Filesystem");
    CHECK_STR(sat(pv, "status.phase"), "Pending");
    json_t *c = cells(&tri_res_persistentvolumes, pv);
    CHECK_STR(json_string_value(json_array_get(c, 0)), "1Gi");
    CHECK_STR(json_string_value(json_array_get(c, 1)), "RWO,RWX");
    CHECK_STR(json_string_value(json_array_get(c, 4)), "d/c");
    CHECK_STR(json_string_value(json_array_get(c, 6)), "<unset>");
    json_decref(c);
    json_decref(pv);
    pv = created(&tri_res_persistentvolumes, "{\"metadata\":{\"name\":\"pv2\"},\"spec\":{}}", &st);
    CHECK(has_cause(&st, "spec.capacity", "Required value"));
    CHECK(has_cause(&st, "spec.accessModes", "Required value"));
    CHECK(has_cause(&st, "spec", "must specify a volume type"));
    reset_status(&st);
    json_decref(pv);

    json_t *pvc = created(&tri_res_persistentvolumeclaims,
                          "{\"metadata\":{\"name\":\"c\"},\"spec\":{\"accessModes\":["
                          "\"ReadWriteOnce\"],\"resources\":{\"requests\":{\"storage\":\"1Gi\"}}}}",
                          &st);
    CHECK_EQ(n_causes(&st), 0);
    CHECK_STR(sat(pvc, "status.phase"), "Pending");
    c = cells(&tri_res_persistentvolumeclaims, pvc);
    CHECK_STR(json_string_value(json_array_get(c, 0)), "Pending");
    CHECK_STR(json_string_value(json_array_get(c, 1)), "");
    json_decref(c);
    json_t *n = json_deep_copy(pvc);
    json_object_set_new(at(n, "spec.resources.requests"), "storage", json_string("2Gi"));
    json_object_set_new(at(n, "spec"), "volumeName", json_string("pv1"));
    tri_res_persistentvolumeclaims.validate(n, pvc, &st);
    CHECK_EQ(n_causes(&st), 0);
    json_object_set_new(at(n, "spec"), "accessModes", json_pack("[s]", "ReadWriteMany"));
    tri_res_persistentvolumeclaims.validate(n, pvc, &st);
    CHECK(has_cause(&st, "spec", "spec is immutable after creation"));
    reset_status(&st);
    json_decref(n);
    json_decref(pvc);
}

static void test_misc_kinds(void)
{
    json_t *ep = parse("{\"metadata\":{\"name\":\"e\"},\"subsets\":[{\"addresses\":[{\"ip\":"
                       "\"10.0.0.1\"},{\"ip\":\"10.0.0.2\"}],\"ports\":[{\"port\":80},{\"port\":"
                       "81}]}]}");
    tri_status_t st = {0};
    tri_res_endpoints.prepare(ep, NULL);
    tri_res_endpoints.validate(ep, NULL, &st);
    CHECK(has_cause(&st, "subsets[0].ports[1].name", "Required value"));
    reset_status(&st);
    CHECK_STR(sat(ep, "subsets.0.ports.0.protocol"), "TCP");
    json_t *c = cells(&tri_res_endpoints, ep);
    CHECK_STR(json_string_value(json_array_get(c, 0)),
              "10.0.0.1:80,10.0.0.2:80,10.0.0.1:81 + 1 more...");
    json_decref(c);
    json_decref(ep);

    json_t *lr = created(&tri_res_limitranges,
                         "{\"metadata\":{\"name\":\"l\"},\"spec\":{\"limits\":[{\"type\":"
                         "\"Container\",\"max\":{\"cpu\":\"2\"},\"min\":{\"memory\":\"1Mi\"}}]}}",
                         &st);
    CHECK_EQ(n_causes(&st), 0);
    CHECK_STR(sat(lr, "spec.limits.0.default.cpu"), "2");
    CHECK_STR(sat(lr, "spec.limits.0.defaultRequest.cpu"), "2");
    CHECK_STR(sat(lr, "spec.limits.0.defaultRequest.memory"), "1Mi");
    json_decref(lr);

    json_t *q = created(&tri_res_resourcequotas,
                        "{\"metadata\":{\"name\":\"q\"},\"spec\":{\"hard\":{\"pods\":\"10\","
                        "\"limits.cpu\":\"4\",\"cpu\":\"2\",\"memory\":\"x1\"}},\"status\":{"
                        "\"used\":{\"pods\":\"3\"}}}",
                        &st);
    CHECK(has_cause(&st, "spec.hard[memory]", "quantities must match"));
    reset_status(&st);
    json_object_set_new(at(q, "spec.hard"), "memory", json_string("1Gi"));
    c = cells(&tri_res_resourcequotas, q);
    CHECK_STR(json_string_value(json_array_get(c, 0)), "q");
    CHECK_STR(json_string_value(json_array_get(c, 2)), "cpu: 0/2, memory: 0/1Gi, pods: 3/10");
    CHECK_STR(json_string_value(json_array_get(c, 3)), "limits.cpu: 0/4");
    json_decref(c);
    json_decref(q);

    json_t *sa = created(&tri_res_serviceaccounts,
                         "{\"metadata\":{\"name\":\"sa\"},\"secrets\":[{\"name\":\"x\"}]}", &st);
    CHECK_EQ(n_causes(&st), 0);
    c = cells(&tri_res_serviceaccounts, sa);
    CHECK_EQ(json_integer_value(json_array_get(c, 0)), 1);
    json_decref(c);
    json_decref(sa);
}

static void test_registry_rows(void)
{
    static const char *const plurals[] = {"pods",
                                          "services",
                                          "endpoints",
                                          "secrets",
                                          "serviceaccounts",
                                          "persistentvolumes",
                                          "persistentvolumeclaims",
                                          "resourcequotas",
                                          "limitranges",
                                          "replicationcontrollers"};
    for (size_t i = 0; i < sizeof plurals / sizeof plurals[0]; i++)
        CHECK(tri_registry_find("", "v1", plurals[i]) != NULL);
    CHECK_STR(tri_res_pods.categories[0], "all");
    CHECK_STR(tri_res_services.categories[0], "all");
    CHECK_STR(tri_res_replicationcontrollers.categories[0], "all");
    CHECK(!tri_res_persistentvolumes.namespaced);
    CHECK(tri_res_pods.graceful_delete);
    CHECK_STR(tri_res_services.short_names[0], "svc");
    CHECK_STR(tri_res_resourcequotas.short_names[0], "quota");
    tri_buf_t k = {0};
    tri_registry_key(&tri_res_persistentvolumes, "ns", "pv1", &k);
    CHECK(k.len == strlen("/registry/core/persistentvolumes/pv1"));
    tri_buf_free(&k);
}

int main(void)
{
    test_pod_defaults();
    test_pod_qos();
    test_pod_validation();
    test_pod_update();
    test_pod_cells();
    test_service_defaults();
    test_service_validation();
    test_alloc_cluster_ip();
    test_alloc_retry();
    test_alloc_node_ports();
    test_alloc_exhaustion();
    test_alloc_reserved_and_cidr();
    test_secrets();
    test_rc();
    test_volumes();
    test_misc_kinds();
    test_registry_rows();
    printf("ok\n");
    return 0;
}
