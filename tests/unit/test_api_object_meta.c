/* Metadata-only loading (tri_object_load_meta), what the leader's metadata watches
 * hand to the garbage collector, quota and service-account loops: only apiVersion,
 * kind and metadata, the served version's apiVersion, the resourceVersion of the
 * revision, no managedFields; NULL for bytes that are not such an object. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "triarch/api.h"
#include "triarch/store.h"

static json_t *load(const tri_resource_t *r, const char *stored, int64_t rev)
{
    tri_val_t *v = tri_val_new(stored, strlen(stored));
    CHECK(v != NULL);
    json_t *o = tri_object_load_meta(r, v, rev);
    tri_val_unref(v);
    return o;
}

static const char *meta_str(const json_t *o, const char *key)
{
    return json_string_value(json_object_get(json_object_get(o, "metadata"), key));
}

static void test_configmap(void)
{
    const tri_resource_t *cm = tri_registry_find("", "v1", "configmaps");
    CHECK(cm != NULL);
    json_t *o = load(cm,
                     "{\"kind\":\"ConfigMap\",\"apiVersion\":\"v1\",\"metadata\":{\"name\":\"a\","
                     "\"namespace\":\"ns\",\"uid\":\"u1\",\"managedFields\":[{\"manager\":\"m\","
                     "\"fieldsV1\":{\"f:data\":{}}}],\"ownerReferences\":[{\"uid\":\"o1\"}],"
                     "\"finalizers\":[\"f\"]},\"data\":{\"k\":\"v\"}}",
                     42);
    CHECK(o != NULL);
    CHECK_EQ(json_object_size(o), 3);
    CHECK_STR(json_string_value(json_object_get(o, "apiVersion")), "v1");
    CHECK_STR(json_string_value(json_object_get(o, "kind")), "ConfigMap");
    CHECK_STR(meta_str(o, "name"), "a");
    CHECK_STR(meta_str(o, "uid"), "u1");
    CHECK_STR(meta_str(o, "resourceVersion"), "42");
    const json_t *m = json_object_get(o, "metadata");
    CHECK(json_object_get(m, "managedFields") == NULL);
    CHECK_EQ(json_array_size(json_object_get(m, "ownerReferences")), 1);
    CHECK_EQ(json_array_size(json_object_get(m, "finalizers")), 1);
    CHECK(json_object_get(o, "data") == NULL);
    json_decref(o);
    /* managedFields first, last or alone: the cut leaves valid JSON */
    const char *shapes[] = {
        "{\"metadata\":{\"managedFields\":[],\"name\":\"b\"}}",
        "{\"metadata\":{\"name\":\"b\",\"managedFields\":[{\"x\":[1,{\"y\":\"}\"}]}]}}",
        "{\"metadata\":{\"managedFields\":null},\"data\":{}}",
        "{\"data\":{\"metadata\":1},\"metadata\":{\"name\":\"b\"}}",
    };
    for (size_t i = 0; i < sizeof shapes / sizeof shapes[0]; i++) {
        o = load(cm, shapes[i], 7);
        CHECK(o != NULL);
        CHECK(json_object_get(json_object_get(o, "metadata"), "managedFields") == NULL);
        CHECK_STR(meta_str(o, "resourceVersion"), "7");
        json_decref(o);
    }
}

static void test_served_version(void)
{
    /* a version served from another stored version: apiVersion is the served one */
    const tri_resource_t *hpa = tri_registry_find("autoscaling", "v1", "horizontalpodautoscalers");
    CHECK(hpa != NULL);
    json_t *o = load(hpa,
                     "{\"kind\":\"HorizontalPodAutoscaler\",\"apiVersion\":\"autoscaling/v2\","
                     "\"metadata\":{\"name\":\"h\"},\"spec\":{}}",
                     5);
    CHECK(o != NULL);
    CHECK_STR(json_string_value(json_object_get(o, "apiVersion")), "autoscaling/v1");
    CHECK_STR(json_string_value(json_object_get(o, "kind")), "HorizontalPodAutoscaler");
    json_decref(o);
}

static void test_refused(void)
{
    const tri_resource_t *cm = tri_registry_find("", "v1", "configmaps");
    const char *bad[] = {"", "[]", "{}", "{\"metadata\":[]}", "{\"metadata\":\"x\"}",
                         "{\"metadata\":{\"name\":", "{\"metadata\":{\"a\":1,}}", "null"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        json_t *o = load(cm, bad[i], 1);
        if (o != NULL) {
            fprintf(stderr, "accepted: %s\n", bad[i]);
            exit(1);
        }
    }
}

int main(void)
{
    test_configmap();
    test_served_version();
    test_refused();
    printf("api_object_meta: ok\n");
    return 0;
}
