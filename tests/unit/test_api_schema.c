/* The schema view (include/triarch/schema.h) and the unknown-field check built on
 * it (tri_meta_prune_unknown): lookups through inline messages and the JSON types
 * of maps, Quantity and IntOrString; typos at several depths and inside arrays
 * named as Kubernetes names them, 400 under Strict, dropped with a warning
 * otherwise; map keys, inline fields and free-form values never unknown; kinds
 * without a schema keep the top-level check; the OpenAPI schemas made from it. */
#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "json_fixture.h"
#include "../../server/api/meta.h"
#include "check.h"
#include "triarch/errors.h"
#include "triarch/schema.h"
#include "triarch/util.h"


static const char DEPLOYMENT[] =
    "{\"apiVersion\":\"apps/v1\",\"kind\":\"Deployment\",\"metadata\":{\"name\":\"web\","
    "\"labels\":{\"app\":\"web\"}},\"spec\":{\"replicas\":2,\"selector\":{\"matchLabels\":"
    "{\"app\":\"web\",\"any-key\":\"x\"}},\"strategy\":{\"rollingUpdate\":{\"maxSurge\":\"25%\","
    "\"maxUnavailable\":1}},\"template\":{\"metadata\":{\"labels\":{\"app\":\"web\"}},\"spec\":"
    "{\"containers\":[{\"name\":\"a\",\"image\":\"nginx\",\"resources\":{\"limits\":{\"cpu\":"
    "\"1\",\"memory\":128974848}},\"readinessProbe\":{\"httpGet\":{\"path\":\"/\",\"port\":"
    "\"http\"}}},{\"name\":\"b\",\"image\":\"busybox\"}],\"volumes\":[{\"name\":\"v\","
    "\"configMap\":{\"name\":\"cm\"}}],\"imagePullSecrets\":[{\"name\":\"s\"}]}}},"
    "\"status\":{\"whatever\":1}}";

static const tri_resource_t *resource(const char *group, const char *plural)
{
    const tri_resource_t *r = tri_registry_find(group, "v1", plural);
    CHECK(r != NULL);
    return r;
}

/* Sets the member at a dotted path of objects (array steps as "containers.0"). */
static void set_at(json_t *root, const char *path, json_t *value)
{
    char buf[256];
    snprintf(buf, sizeof buf, "%s", path);
    json_t *cur = root;
    char *save = NULL, *tok = strtok_r(buf, ".", &save), *next;
    while ((next = strtok_r(NULL, ".", &save)) != NULL) {
        cur = json_is_array(cur) ? json_array_get(cur, (size_t)atoi(tok))
                                 : json_object_get(cur, tok);
        CHECK(cur != NULL);
        tok = next;
    }
    json_object_set_new(cur, tok, value);
}

typedef struct outcome {
    tri_status_t st;
    tri_buf_t warnings;
    json_t *obj;
} outcome_t;

static void run(const tri_resource_t *r, json_t *obj, bool strict, outcome_t *o)
{
    memset(o, 0, sizeof *o);
    o->obj = obj;
    tri_meta_prune_unknown(r, obj, strict, &o->warnings, &o->st);
    tri_buf_append(&o->warnings, "", 1);
}

static void done(outcome_t *o)
{
    tri_status_clear(&o->st);
    tri_buf_free(&o->warnings);
    json_decref(o->obj);
}

static void test_lookup(void)
{
    const tri_schema_t *d = tri_schema_find("apps/v1", "Deployment");
    CHECK(d != NULL);
    CHECK_STR(tri_schema_name(d), "Deployment");
    CHECK(tri_schema_find("apps/v1", "NoSuchKind") == NULL);
    CHECK(tri_schema_find("v2", "Deployment") == NULL);

    tri_schema_field_t f;
    CHECK_EQ(tri_schema_lookup(d, "spec", &f), 0);
    CHECK(f.type == TRI_SCHEMA_OBJECT && !f.array && !f.map);
    CHECK_STR(tri_schema_name(f.object), "DeploymentSpec");
    CHECK_EQ(tri_schema_lookup(d, "spek", &f), TRI_ENOENT);

    /* Volume inlines VolumeSource: configMap is Volume's own field in JSON. */
    const tri_schema_t *pod = tri_schema_find("v1", "Pod");
    CHECK_EQ(tri_schema_lookup(pod, "spec", &f), 0);
    const tri_schema_t *ps = f.object;
    CHECK_EQ(tri_schema_lookup(ps, "volumes", &f), 0);
    CHECK(f.array && f.type == TRI_SCHEMA_OBJECT);
    const tri_schema_t *vol = f.object;
    CHECK_EQ(tri_schema_lookup(vol, "configMap", &f), 0);
    CHECK(f.type == TRI_SCHEMA_OBJECT);
    CHECK_EQ(tri_schema_lookup(vol, "name", &f), 0);
    CHECK(f.type == TRI_SCHEMA_STRING);

    /* nodeSelector is map<string,string>, overhead a map of Quantity. */
    CHECK_EQ(tri_schema_lookup(ps, "nodeSelector", &f), 0);
    CHECK(f.map && f.type == TRI_SCHEMA_STRING);
    CHECK_EQ(tri_schema_lookup(ps, "overhead", &f), 0);
    CHECK(f.map && f.type == TRI_SCHEMA_QUANTITY);
    CHECK_EQ(tri_schema_lookup(ps, "terminationGracePeriodSeconds", &f), 0);
    CHECK(f.type == TRI_SCHEMA_INTEGER && f.int64);

    /* Pod status is not tabled: free-form. */
    CHECK_EQ(tri_schema_lookup(pod, "status", &f), 0);
    CHECK(f.type == TRI_SCHEMA_ANY);
}

static int count_field(const tri_schema_field_t *f, void *data)
{
    size_t *n = data;
    if (strcmp(f->json, "") == 0)
        return TRI_EINVAL; /* an inline row leaked through */
    (*n)++;
    return 0;
}

static int stop_at_image(const tri_schema_field_t *f, void *data)
{
    (void)data;
    return strcmp(f->json, "image") == 0 ? 7 : 0;
}

static void test_foreach(void)
{
    const tri_schema_t *ps = NULL;
    tri_schema_field_t f;
    CHECK_EQ(tri_schema_lookup(tri_schema_find("v1", "Pod"), "spec", &f), 0);
    ps = f.object;
    CHECK_EQ(tri_schema_lookup(ps, "ephemeralContainers", &f), 0);
    size_t n = 0;
    /* EphemeralContainer inlines Container's fields and adds targetContainerName. */
    CHECK_EQ(tri_schema_foreach(f.object, count_field, &n), 0);
    CHECK(n > 20);
    tri_schema_field_t g;
    CHECK_EQ(tri_schema_lookup(f.object, "targetContainerName", &g), 0);
    CHECK_EQ(tri_schema_lookup(f.object, "image", &g), 0);
    CHECK_EQ(tri_schema_foreach(f.object, stop_at_image, NULL), 7);
}

static void test_clean_object_untouched(void)
{
    const tri_resource_t *r = resource("apps", "deployments");
    json_t *want = parse(DEPLOYMENT);
    outcome_t o;
    run(r, parse(DEPLOYMENT), true, &o);
    CHECK_EQ(o.st.code, 0);
    CHECK_STR(o.warnings.data, "");
    CHECK(json_equal(o.obj, want));
    json_decref(want);
    done(&o);
}

/* Each typo once under Strict (400 naming it) and once lenient (dropped, warned). */
static void typo_case(const char *set_path, const char *reported)
{
    const tri_resource_t *r = resource("apps", "deployments");
    char msg[512];
    outcome_t o;
    json_t *obj = parse(DEPLOYMENT);
    set_at(obj, set_path, json_string("oops"));
    run(r, obj, true, &o);
    CHECK_EQ(o.st.code, 400);
    snprintf(msg, sizeof msg, "strict decoding error: unknown field \"%s\"", reported);
    CHECK_STR(o.st.message, msg);
    done(&o);

    json_t *want = parse(DEPLOYMENT);
    obj = parse(DEPLOYMENT);
    set_at(obj, set_path, json_string("oops"));
    run(r, obj, false, &o);
    CHECK_EQ(o.st.code, 0);
    snprintf(msg, sizeof msg, "unknown field \"%s\"", reported);
    CHECK_STR(o.warnings.data, msg);
    CHECK(json_equal(o.obj, want)); /* the typo is gone, nothing else */
    json_decref(want);
    done(&o);
}

static void test_typos(void)
{
    typo_case("spec.replicass", "spec.replicass");
    typo_case("spec.selector.matchLabelz", "spec.selector.matchLabelz");
    typo_case("spec.strategy.rollingUpdate.maxSurg", "spec.strategy.rollingUpdate.maxSurg");
    typo_case("spec.template.spec.containers.0.imagee",
              "spec.template.spec.containers[0].imagee");
    typo_case("spec.template.spec.containers.1.imagee",
              "spec.template.spec.containers[1].imagee");
    typo_case("spec.template.spec.containers.0.readinessProbe.httpGet.portt",
              "spec.template.spec.containers[0].readinessProbe.httpGet.portt");
    typo_case("spec.template.spec.volumes.0.configMap.nme",
              "spec.template.spec.volumes[0].configMap.nme");
    typo_case("spec.template.metadata.labelz", "spec.template.metadata.labelz");
    typo_case("metadata.nme", "metadata.nme");
    typo_case("spek", "spek");
}

/* Every unknown field is reported, in the object's member order (foo was added last). */
static void test_several_lenient(void)
{
    const tri_resource_t *r = resource("apps", "deployments");
    outcome_t o;
    json_t *obj = parse(DEPLOYMENT);
    set_at(obj, "spec.foo", json_true());
    set_at(obj, "spec.template.spec.containers.1.bar", json_object());
    run(r, obj, false, &o);
    CHECK_EQ(o.st.code, 0);
    CHECK_STR(o.warnings.data,
              "unknown field \"spec.template.spec.containers[1].bar\"\nunknown field \"spec.foo\"");
    done(&o);
}

/* Map keys are data; Quantity and IntOrString are scalars; status is not walked;
 * a value of the wrong JSON type is left to validation. */
static void test_never_unknown(void)
{
    const tri_resource_t *r = resource("apps", "deployments");
    outcome_t o;
    json_t *obj = parse(DEPLOYMENT);
    set_at(obj, "spec.template.spec.nodeSelector", parse("{\"disktype\":\"ssd\"}"));
    set_at(obj, "spec.template.spec.containers.0.resources.requests",
           parse("{\"nvidia.com/gpu\":1,\"cpu\":\"250m\"}"));
    set_at(obj, "spec.strategy.rollingUpdate.maxSurge", json_integer(3));
    set_at(obj, "spec.template.spec.containers.1.ports", json_string("not-a-list"));
    set_at(obj, "status", parse("{\"replicass\":1}"));
    /* a template's ObjectMeta is ObjectMeta: managedFields is one of its fields */
    set_at(obj, "spec.template.metadata.managedFields",
           parse("[{\"manager\":\"kubectl\",\"operation\":\"Apply\"}]"));
    json_t *want = json_deep_copy(obj);
    run(r, obj, true, &o);
    CHECK_EQ(o.st.code, 0);
    CHECK_STR(o.warnings.data, "");
    CHECK(json_equal(o.obj, want));
    json_decref(want);
    done(&o);
}

/* Kinds outside the protobuf tables keep the top-level check only. */
static void test_kind_without_schema(void)
{
    const tri_resource_t *r = tri_registry_find("authentication.k8s.io", "v1", "tokenreviews");
    CHECK(r != NULL);
    CHECK(tri_schema_find("authentication.k8s.io/v1", "TokenReview") == NULL);
    outcome_t o;
    run(r,
        parse("{\"apiVersion\":\"authentication.k8s.io/v1\",\"kind\":\"TokenReview\","
              "\"spec\":{\"deep\":{\"typo\":1}},\"spek\":1}"),
        true, &o);
    CHECK_EQ(o.st.code, 400);
    CHECK_STR(o.st.message, "strict decoding error: unknown field \"spek\"");
    done(&o);
    run(r,
        parse("{\"apiVersion\":\"authentication.k8s.io/v1\",\"kind\":\"TokenReview\","
              "\"spec\":{\"deep\":{\"typo\":1}}}"),
        true, &o);
    CHECK_EQ(o.st.code, 0);
    done(&o);
}

/* The kinds of protobuf_schema_cluster.c: a valid object passes Strict untouched;
 * one typo (set at set_path) is refused, named as Kubernetes names it. */
static const struct cluster_case {
    const char *group, *plural, *object, *set_path, *reported;
} cluster_cases[] = {
    {"", "nodes",
     "{\"apiVersion\":\"v1\",\"kind\":\"Node\",\"metadata\":{\"name\":\"n1\"},\"spec\":{"
     "\"podCIDR\":\"10.244.1.0/24\",\"podCIDRs\":[\"10.244.1.0/24\"],\"providerID\":\"x://1\","
     "\"unschedulable\":true,\"externalID\":\"n1\",\"taints\":[{\"key\":\"k\",\"value\":\"v\","
     "\"effect\":\"NoSchedule\",\"timeAdded\":\"2024-01-01T00:00:00Z\"}]},\"status\":{"
     "\"capacity\":{\"cpu\":\"4\"},\"daemonEndpoints\":{\"kubeletEndpoint\":{\"Port\":10250}}}}",
     "spec.taints.0.efect", "spec.taints[0].efect"},
    {"", "events",
     "{\"apiVersion\":\"v1\",\"kind\":\"Event\",\"metadata\":{\"name\":\"e\"},"
     "\"involvedObject\":{\"kind\":\"Pod\",\"name\":\"p\",\"fieldPath\":\"spec.containers{c}\"},"
     "\"reason\":\"Pulled\",\"message\":\"m\",\"source\":{\"component\":\"kubelet\",\"host\":"
     "\"n1\"},\"firstTimestamp\":\"2024-01-01T00:00:00Z\",\"count\":2,\"type\":\"Normal\","
     "\"eventTime\":\"2024-01-01T00:00:00.000001Z\",\"series\":{\"count\":2,"
     "\"lastObservedTime\":\"2024-01-01T00:00:00.000001Z\"},\"reportingComponent\":\"kubelet\","
     "\"reportingInstance\":\"n1\"}",
     "source.hostname", "source.hostname"},
    {"", "endpoints",
     "{\"apiVersion\":\"v1\",\"kind\":\"Endpoints\",\"metadata\":{\"name\":\"s\"},\"subsets\":[{"
     "\"addresses\":[{\"ip\":\"10.0.0.1\",\"nodeName\":\"n1\",\"targetRef\":{\"kind\":\"Pod\","
     "\"name\":\"p\"}}],\"notReadyAddresses\":[{\"ip\":\"10.0.0.2\"}],\"ports\":[{\"name\":"
     "\"http\",\"port\":80,\"protocol\":\"TCP\",\"appProtocol\":\"http\"}]}]}",
     "subsets.0.ports.0.targetPort", "subsets[0].ports[0].targetPort"},
    {"", "limitranges",
     "{\"apiVersion\":\"v1\",\"kind\":\"LimitRange\",\"metadata\":{\"name\":\"l\"},\"spec\":{"
     "\"limits\":[{\"type\":\"Container\",\"max\":{\"cpu\":\"2\"},\"default\":{\"cpu\":\"500m\"},"
     "\"defaultRequest\":{\"cpu\":\"100m\"},\"maxLimitRequestRatio\":{\"cpu\":4}}]}}",
     "spec.limits.0.defaults", "spec.limits[0].defaults"},
    {"", "persistentvolumes",
     "{\"apiVersion\":\"v1\",\"kind\":\"PersistentVolume\",\"metadata\":{\"name\":\"pv\"},"
     "\"spec\":{\"capacity\":{\"storage\":\"1Gi\"},\"accessModes\":[\"ReadWriteOnce\"],"
     "\"hostPath\":{\"path\":\"/tmp/pv\",\"type\":\"DirectoryOrCreate\"},\"claimRef\":{"
     "\"namespace\":\"default\",\"name\":\"c\"},\"persistentVolumeReclaimPolicy\":\"Retain\","
     "\"storageClassName\":\"manual\",\"volumeMode\":\"Filesystem\",\"nodeAffinity\":{"
     "\"required\":{\"nodeSelectorTerms\":[{\"matchExpressions\":[{\"key\":\"k\",\"operator\":"
     "\"In\",\"values\":[\"v\"]}]}]}}},\"status\":{\"phase\":\"Available\"}}",
     "spec.hostPath.pth", "spec.hostPath.pth"},
    {"", "replicationcontrollers",
     "{\"apiVersion\":\"v1\",\"kind\":\"ReplicationController\",\"metadata\":{\"name\":\"rc\"},"
     "\"spec\":{\"replicas\":1,\"selector\":{\"app\":\"a\"},\"template\":{\"metadata\":{"
     "\"labels\":{\"app\":\"a\"}},\"spec\":{\"containers\":[{\"name\":\"c\",\"image\":\"i\"}]}}}}",
     "spec.template.spec.containers.0.imagee", "spec.template.spec.containers[0].imagee"},
    {"apps", "controllerrevisions",
     "{\"apiVersion\":\"apps/v1\",\"kind\":\"ControllerRevision\",\"metadata\":{\"name\":\"r\"},"
     "\"data\":{\"spec\":{\"anything\":{\"goes\":1}}},\"revision\":2}",
     "revisionn", "revisionn"},
    {"discovery.k8s.io", "endpointslices",
     "{\"apiVersion\":\"discovery.k8s.io/v1\",\"kind\":\"EndpointSlice\",\"metadata\":{\"name\":"
     "\"s\"},\"addressType\":\"IPv4\",\"endpoints\":[{\"addresses\":[\"10.0.0.1\"],\"conditions\":"
     "{\"ready\":true,\"serving\":true,\"terminating\":false},\"nodeName\":\"n1\",\"zone\":\"z\","
     "\"hints\":{\"forZones\":[{\"name\":\"z\"}]},\"targetRef\":{\"kind\":\"Pod\",\"name\":\"p\"}}],"
     "\"ports\":[{\"name\":\"http\",\"port\":80,\"protocol\":\"TCP\"}]}",
     "endpoints.0.conditions.healthy", "endpoints[0].conditions.healthy"},
    {"coordination.k8s.io", "leases",
     "{\"apiVersion\":\"coordination.k8s.io/v1\",\"kind\":\"Lease\",\"metadata\":{\"name\":\"n1\"},"
     "\"spec\":{\"holderIdentity\":\"n1\",\"leaseDurationSeconds\":40,\"acquireTime\":"
     "\"2024-01-01T00:00:00.000000Z\",\"renewTime\":\"2024-01-01T00:00:10.123456Z\","
     "\"leaseTransitions\":0}}",
     "spec.renewTimes", "spec.renewTimes"},
    {"networking.k8s.io", "ingressclasses",
     "{\"apiVersion\":\"networking.k8s.io/v1\",\"kind\":\"IngressClass\",\"metadata\":{\"name\":"
     "\"nginx\"},\"spec\":{\"controller\":\"k8s.io/ingress-nginx\",\"parameters\":{\"apiGroup\":"
     "\"k8s.example.com\",\"kind\":\"P\",\"name\":\"p\",\"scope\":\"Cluster\"}}}",
     "spec.parameters.group", "spec.parameters.group"},
    {"networking.k8s.io", "networkpolicies",
     "{\"apiVersion\":\"networking.k8s.io/v1\",\"kind\":\"NetworkPolicy\",\"metadata\":{\"name\":"
     "\"np\"},\"spec\":{\"podSelector\":{\"matchLabels\":{\"app\":\"db\"}},\"policyTypes\":["
     "\"Ingress\",\"Egress\"],\"ingress\":[{\"from\":[{\"ipBlock\":{\"cidr\":\"172.17.0.0/16\","
     "\"except\":[\"172.17.1.0/24\"]}},{\"namespaceSelector\":{\"matchLabels\":{\"p\":\"x\"}}}],"
     "\"ports\":[{\"protocol\":\"TCP\",\"port\":32000,\"endPort\":32768}]}],\"egress\":[{\"to\":"
     "[{\"podSelector\":{}}],\"ports\":[{\"port\":\"dns\"}]}]}}",
     "spec.ingress.0.ports.0.end", "spec.ingress[0].ports[0].end"},
    {"events.k8s.io", "events",
     "{\"apiVersion\":\"events.k8s.io/v1\",\"kind\":\"Event\",\"metadata\":{\"name\":\"e\"},"
     "\"eventTime\":\"2024-01-01T00:00:00.000001Z\",\"reportingController\":\"c\","
     "\"reportingInstance\":\"i\",\"action\":\"A\",\"reason\":\"R\",\"regarding\":{\"kind\":"
     "\"Pod\",\"name\":\"p\"},\"note\":\"n\",\"type\":\"Normal\",\"series\":{\"count\":2,"
     "\"lastObservedTime\":\"2024-01-01T00:00:00.000001Z\"},\"deprecatedSource\":{\"component\":"
     "\"c\"},\"deprecatedFirstTimestamp\":\"2024-01-01T00:00:00Z\",\"deprecatedCount\":1}",
     "regarding.nme", "regarding.nme"},
};

static void test_cluster_kinds(void)
{
    char msg[512];
    for (size_t i = 0; i < sizeof cluster_cases / sizeof cluster_cases[0]; i++) {
        const struct cluster_case *c = &cluster_cases[i];
        const tri_resource_t *r = tri_registry_find(c->group, "v1", c->plural);
        CHECK(r != NULL);
        outcome_t o;
        json_t *want = parse(c->object);
        run(r, parse(c->object), true, &o);
        if (o.st.code != 0)
            fprintf(stderr, "%s: %s\n", c->plural, o.st.message);
        CHECK_EQ(o.st.code, 0);
        CHECK(json_equal(o.obj, want));
        done(&o);
        json_decref(want);

        json_t *obj = parse(c->object);
        set_at(obj, c->set_path, json_string("oops"));
        run(r, obj, true, &o);
        CHECK_EQ(o.st.code, 400);
        snprintf(msg, sizeof msg, "strict decoding error: unknown field \"%s\"", c->reported);
        CHECK_STR(o.st.message, msg);
        done(&o);
    }
}

/* Ingress inlines IngressRuleValue into IngressRule: rules[].http is known. */
static void test_ingress_inline(void)
{
    const tri_resource_t *r = tri_registry_find("networking.k8s.io", "v1", "ingresses");
    CHECK(r != NULL);
    outcome_t o;
    run(r,
        parse("{\"apiVersion\":\"networking.k8s.io/v1\",\"kind\":\"Ingress\",\"metadata\":"
              "{\"name\":\"i\"},\"spec\":{\"rules\":[{\"host\":\"a\",\"http\":{\"paths\":[{"
              "\"path\":\"/\",\"pathType\":\"Prefix\",\"backend\":{\"service\":{\"name\":\"s\","
              "\"port\":{\"number\":80}}}}]}}]}}"),
        true, &o);
    CHECK_EQ(o.st.code, 0);
    done(&o);
    run(r,
        parse("{\"apiVersion\":\"networking.k8s.io/v1\",\"kind\":\"Ingress\",\"metadata\":"
              "{\"name\":\"i\"},\"spec\":{\"rules\":[{\"http\":{\"paths\":[{\"path\":\"/\","
              "\"backend\":{\"service\":{\"name\":\"s\",\"port\":{\"numbr\":80}}}}]}}]}}"),
        true, &o);
    CHECK_EQ(o.st.code, 400);
    CHECK_STR(o.st.message, "strict decoding error: unknown field "
                            "\"spec.rules[0].http.paths[0].backend.service.port.numbr\"");
    done(&o);
}

static const json_t *prop(const json_t *defs, const char *def, const char *field)
{
    const json_t *p = json_object_get(json_object_get(json_object_get(defs, def), "properties"),
                                      field);
    if (p == NULL)
        fprintf(stderr, "no %s in %s\n", field, def);
    CHECK(p != NULL);
    return p;
}

static const char *str(const json_t *obj, const char *key)
{
    return json_string_value(json_object_get(obj, key));
}

/* The OpenAPI view: refs to nested definitions, arrays, maps, scalars with their
 * formats, int-or-string, and the merge keys kubectl's strategic merge reads. */
static void test_openapi(void)
{
    json_t *defs = json_object();
    json_t *d = tri_schema_openapi(tri_schema_find("apps/v1", "Deployment"), "io.k8s.api.apps.v1",
                                   "#/definitions/", defs);
    CHECK(d != NULL);
    CHECK_STR(str(d, "type"), "object");
    const json_t *props = json_object_get(d, "properties");
    CHECK_STR(str(json_object_get(props, "spec"), "$ref"),
              "#/definitions/io.k8s.api.apps.v1.DeploymentSpec");
    CHECK_STR(str(json_object_get(props, "metadata"), "$ref"),
              "#/definitions/io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta");
    CHECK(json_object_get(defs, "io.k8s.api.apps.v1.ObjectMeta") == NULL);

    const json_t *c = prop(defs, "io.k8s.api.apps.v1.PodSpec", "containers");
    CHECK_STR(str(c, "type"), "array");
    CHECK_STR(str(json_object_get(c, "items"), "$ref"), "#/definitions/io.k8s.api.apps.v1.Container");
    CHECK_STR(str(c, "x-kubernetes-patch-merge-key"), "name");
    CHECK_STR(str(c, "x-kubernetes-patch-strategy"), "merge");
    CHECK_STR(str(prop(defs, "io.k8s.api.apps.v1.Container", "ports"),
                  "x-kubernetes-patch-merge-key"),
              "containerPort");
    /* Volume's inline VolumeSource: configMap is a property of Volume itself. */
    prop(defs, "io.k8s.api.apps.v1.Volume", "configMap");

    const json_t *sel = prop(defs, "io.k8s.api.apps.v1.PodSpec", "nodeSelector");
    CHECK_STR(str(sel, "type"), "object");
    CHECK_STR(str(json_object_get(sel, "additionalProperties"), "type"), "string");
    const json_t *surge = prop(defs, "io.k8s.api.apps.v1.RollingUpdateDeployment", "maxSurge");
    CHECK(json_is_true(json_object_get(surge, "x-kubernetes-int-or-string")));
    CHECK_STR(str(prop(defs, "io.k8s.api.apps.v1.DeploymentSpec", "replicas"), "format"), "int32");
    const json_t *conds = prop(defs, "io.k8s.api.apps.v1.DeploymentStatus", "conditions");
    CHECK_STR(str(conds, "x-kubernetes-patch-merge-key"), "type");
    const json_t *strategy = prop(defs, "io.k8s.api.apps.v1.DeploymentSpec", "strategy");
    CHECK_STR(str(strategy, "x-kubernetes-patch-strategy"), "retainKeys");
    CHECK(json_object_get(strategy, "x-kubernetes-patch-merge-key") == NULL);
    json_decref(d);
    json_decref(defs);
}

/* OpenAPI of a cluster kind: MicroTime is a date-time, RawExtension free-form, and
 * a Node's addresses merge by type. */
static void test_openapi_cluster_kinds(void)
{
    json_t *defs = json_object();
    json_t *d = tri_schema_openapi(tri_schema_find("coordination.k8s.io/v1", "Lease"),
                                   "io.k8s.api.coordination.k8s.io.v1", "#/definitions/", defs);
    CHECK(d != NULL);
    CHECK_STR(str(prop(defs, "io.k8s.api.coordination.k8s.io.v1.LeaseSpec", "renewTime"),
                  "format"),
              "date-time");
    json_decref(d);
    d = tri_schema_openapi(tri_schema_find("apps/v1", "ControllerRevision"), "io.k8s.api.apps.v1",
                           "#/definitions/", defs);
    CHECK(d != NULL);
    const json_t *data = json_object_get(json_object_get(d, "properties"), "data");
    CHECK_STR(str(data, "type"), "object");
    CHECK(json_object_get(data, "properties") == NULL);
    json_decref(d);
    d = tri_schema_openapi(tri_schema_find("v1", "Node"), "io.k8s.api.core.v1", "#/definitions/",
                           defs);
    CHECK(d != NULL);
    const json_t *addrs = prop(defs, "io.k8s.api.core.v1.NodeStatus", "addresses");
    CHECK_STR(str(addrs, "x-kubernetes-patch-merge-key"), "type");
    CHECK_STR(str(prop(defs, "io.k8s.api.core.v1.NodeSpec", "podCIDRs"),
                  "x-kubernetes-patch-strategy"),
              "merge");
    json_decref(d);
    json_decref(defs);
}

int main(void)
{
    test_lookup();
    test_foreach();
    test_clean_object_untouched();
    test_typos();
    test_several_lenient();
    test_never_unknown();
    test_kind_without_schema();
    test_ingress_inline();
    test_openapi();
    test_cluster_kinds();
    test_openapi_cluster_kinds();
    printf("ok\n");
    return 0;
}
