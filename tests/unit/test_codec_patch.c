/* Unit tests for the three patch formats: RFC 7386 merge patch (appendix A),
 * RFC 6902 JSON patch (appendix A, pointer escaping, errors) and strategic merge
 * patch as kubectl sends it (merge keys, $setElementOrder, $patch, null,
 * $retainKeys, $deleteFromPrimitiveList). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json_fixture.h"
#include "triarch/codec.h"

static char err[512];

enum { MERGE, JSONP, SMP };

static json_t *apply(int type, const char *kind, const char *target, const char *patch)
{
    json_t *t = parse(target), *p = parse(patch);
    json_t *before = json_deep_copy(t);
    err[0] = '\0';
    json_t *r = type == MERGE   ? tri_merge_patch(t, p, err, sizeof err)
                : type == JSONP ? tri_json_patch(t, p, err, sizeof err)
                                : tri_strategic_merge_patch(t, p, kind, err, sizeof err);
    if (!json_equal(t, before)) {
        fprintf(stderr, "patch modified its target: %s\n", target);
        exit(1);
    }
    json_decref(t);
    json_decref(p);
    json_decref(before);
    return r;
}

#define EXPECT_PATCH(type, kind, target, patch, expect) case_at(__LINE__, type, kind, target, patch, expect)
#define EXPECT_PATCH_FAILS(type, kind, target, patch, msg) fails_at(__LINE__, type, kind, target, patch, msg)

static void case_at(int line, int type, const char *kind, const char *target, const char *patch,
                    const char *expect)
{
    json_t *r = apply(type, kind, target, patch);
    json_t *want = parse(expect);
    if (!r || !json_equal(r, want)) {
        char *g = r ? json_dumps(r, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
        char *w = json_dumps(want, JSON_COMPACT | JSON_SORT_KEYS);
        fprintf(stderr, "line %d:\n  want %s\n  got  %s\n  err  %s\n", line, w, g ? g : "NULL",
                err);
        exit(1);
    }
    json_decref(r);
    json_decref(want);
}

static void fails_at(int line, int type, const char *kind, const char *target, const char *patch,
                     const char *msg)
{
    json_t *r = apply(type, kind, target, patch);
    if (r || !strstr(err, msg)) {
        fprintf(stderr, "line %d: expected failure with '%s', got %s '%s'\n", line, msg,
                r ? "a result" : "NULL", err);
        exit(1);
    }
}

/* RFC 7386 appendix A, every row. */
static void test_merge_patch(void)
{
    EXPECT_PATCH(MERGE, NULL, "{\"a\":\"b\"}", "{\"a\":\"c\"}", "{\"a\":\"c\"}");
    EXPECT_PATCH(MERGE, NULL, "{\"a\":\"b\"}", "{\"b\":\"c\"}", "{\"a\":\"b\",\"b\":\"c\"}");
    EXPECT_PATCH(MERGE, NULL, "{\"a\":\"b\"}", "{\"a\":null}", "{}");
    EXPECT_PATCH(MERGE, NULL, "{\"a\":\"b\",\"b\":\"c\"}", "{\"a\":null}", "{\"b\":\"c\"}");
    EXPECT_PATCH(MERGE, NULL, "{\"a\":[\"b\"]}", "{\"a\":\"c\"}", "{\"a\":\"c\"}");
    EXPECT_PATCH(MERGE, NULL, "{\"a\":\"c\"}", "{\"a\":[\"b\"]}", "{\"a\":[\"b\"]}");
    EXPECT_PATCH(MERGE, NULL, "{\"a\":{\"b\":\"c\"}}", "{\"a\":{\"b\":\"d\",\"c\":null}}",
         "{\"a\":{\"b\":\"d\"}}");
    EXPECT_PATCH(MERGE, NULL, "{\"a\":[{\"b\":\"c\"}]}", "{\"a\":[1]}", "{\"a\":[1]}");
    EXPECT_PATCH(MERGE, NULL, "[\"a\",\"b\"]", "[\"c\",\"d\"]", "[\"c\",\"d\"]");
    EXPECT_PATCH(MERGE, NULL, "{\"a\":\"b\"}", "[\"c\"]", "[\"c\"]");
    EXPECT_PATCH(MERGE, NULL, "{\"a\":\"foo\"}", "null", "null");
    EXPECT_PATCH(MERGE, NULL, "{\"a\":\"foo\"}", "\"bar\"", "\"bar\"");
    EXPECT_PATCH(MERGE, NULL, "{\"e\":null}", "{\"a\":1}", "{\"e\":null,\"a\":1}");
    EXPECT_PATCH(MERGE, NULL, "[1,2]", "{\"a\":\"b\",\"c\":null}", "{\"a\":\"b\"}");
    EXPECT_PATCH(MERGE, NULL, "{}", "{\"a\":{\"bb\":{\"ccc\":null}}}", "{\"a\":{\"bb\":{}}}");
    /* kubectl label / scale */
    EXPECT_PATCH(MERGE, NULL, "{\"metadata\":{\"name\":\"x\",\"labels\":{\"a\":\"1\"}}}",
         "{\"metadata\":{\"labels\":{\"foo\":\"bar\"}}}",
         "{\"metadata\":{\"name\":\"x\",\"labels\":{\"a\":\"1\",\"foo\":\"bar\"}}}");
}

/* RFC 6902 appendix A. */
static void test_json_patch(void)
{
    EXPECT_PATCH(JSONP, NULL, "{\"foo\":\"bar\"}", "[{\"op\":\"add\",\"path\":\"/baz\",\"value\":\"qux\"}]",
         "{\"baz\":\"qux\",\"foo\":\"bar\"}");
    EXPECT_PATCH(JSONP, NULL, "{\"foo\":[\"bar\",\"baz\"]}",
         "[{\"op\":\"add\",\"path\":\"/foo/1\",\"value\":\"qux\"}]",
         "{\"foo\":[\"bar\",\"qux\",\"baz\"]}");
    EXPECT_PATCH(JSONP, NULL, "{\"baz\":\"qux\",\"foo\":\"bar\"}", "[{\"op\":\"remove\",\"path\":\"/baz\"}]",
         "{\"foo\":\"bar\"}");
    EXPECT_PATCH(JSONP, NULL, "{\"foo\":[\"bar\",\"qux\",\"baz\"]}",
         "[{\"op\":\"remove\",\"path\":\"/foo/1\"}]", "{\"foo\":[\"bar\",\"baz\"]}");
    EXPECT_PATCH(JSONP, NULL, "{\"baz\":\"qux\",\"foo\":\"bar\"}",
         "[{\"op\":\"replace\",\"path\":\"/baz\",\"value\":\"boo\"}]",
         "{\"baz\":\"boo\",\"foo\":\"bar\"}");
    EXPECT_PATCH(JSONP, NULL, "{\"foo\":{\"bar\":\"baz\",\"waldo\":\"fred\"},\"qux\":{\"corge\":\"grault\"}}",
         "[{\"op\":\"move\",\"from\":\"/foo/waldo\",\"path\":\"/qux/thud\"}]",
         "{\"foo\":{\"bar\":\"baz\"},\"qux\":{\"corge\":\"grault\",\"thud\":\"fred\"}}");
    EXPECT_PATCH(JSONP, NULL, "{\"foo\":[\"all\",\"grass\",\"cows\",\"eat\"]}",
         "[{\"op\":\"move\",\"from\":\"/foo/1\",\"path\":\"/foo/3\"}]",
         "{\"foo\":[\"all\",\"cows\",\"eat\",\"grass\"]}");
    EXPECT_PATCH(JSONP, NULL, "{\"baz\":\"qux\",\"foo\":[\"a\",2,\"c\"]}",
         "[{\"op\":\"test\",\"path\":\"/baz\",\"value\":\"qux\"},"
         "{\"op\":\"test\",\"path\":\"/foo/1\",\"value\":2}]",
         "{\"baz\":\"qux\",\"foo\":[\"a\",2,\"c\"]}");
    EXPECT_PATCH_FAILS(JSONP, NULL, "{\"baz\":\"qux\"}", "[{\"op\":\"test\",\"path\":\"/baz\",\"value\":\"bar\"}]",
          "testing value failed");
    EXPECT_PATCH(JSONP, NULL, "{\"foo\":\"bar\"}",
         "[{\"op\":\"add\",\"path\":\"/child\",\"value\":{\"grandchild\":{}}}]",
         "{\"foo\":\"bar\",\"child\":{\"grandchild\":{}}}");
    EXPECT_PATCH(JSONP, NULL, "{\"foo\":\"bar\"}",
         "[{\"op\":\"add\",\"path\":\"/baz\",\"value\":\"qux\",\"xyz\":123}]",
         "{\"foo\":\"bar\",\"baz\":\"qux\"}");
    EXPECT_PATCH_FAILS(JSONP, NULL, "{\"foo\":\"bar\"}", "[{\"op\":\"add\",\"path\":\"/baz/bat\",\"value\":\"qux\"}]",
          "missing path");
    EXPECT_PATCH(JSONP, NULL, "{\"/\":9,\"~1\":10}", "[{\"op\":\"test\",\"path\":\"/~01\",\"value\":10}]",
         "{\"/\":9,\"~1\":10}");
    EXPECT_PATCH_FAILS(JSONP, NULL, "{\"/\":9,\"~1\":10}", "[{\"op\":\"test\",\"path\":\"/~01\",\"value\":\"10\"}]",
          "testing value failed");
    EXPECT_PATCH(JSONP, NULL, "{\"foo\":[\"bar\"]}",
         "[{\"op\":\"add\",\"path\":\"/foo/-\",\"value\":[\"abc\",\"def\"]}]",
         "{\"foo\":[\"bar\",[\"abc\",\"def\"]]}");
    /* more: escapes, copy, test deep equality, errors */
    EXPECT_PATCH(JSONP, NULL, "{\"a/b\":1,\"m~n\":2}",
         "[{\"op\":\"replace\",\"path\":\"/a~1b\",\"value\":3},{\"op\":\"remove\",\"path\":\"/m~0n\"}]",
         "{\"a/b\":3}");
    EXPECT_PATCH(JSONP, NULL, "{\"a\":{\"x\":[1,{\"y\":2}]}}",
         "[{\"op\":\"copy\",\"from\":\"/a\",\"path\":\"/b\"},"
         "{\"op\":\"test\",\"path\":\"/b\",\"value\":{\"x\":[1.0,{\"y\":2}]}}]",
         "{\"a\":{\"x\":[1,{\"y\":2}]},\"b\":{\"x\":[1,{\"y\":2}]}}");
    EXPECT_PATCH(JSONP, NULL, "{\"a\":1}", "[{\"op\":\"replace\",\"path\":\"\",\"value\":{\"b\":2}}]",
         "{\"b\":2}");
    EXPECT_PATCH_FAILS(JSONP, NULL, "{\"a\":1}", "[{\"op\":\"remove\",\"path\":\"/b\"}]", "missing path");
    EXPECT_PATCH_FAILS(JSONP, NULL, "{\"a\":1}", "[{\"op\":\"replace\",\"path\":\"/b\",\"value\":1}]",
          "missing path");
    EXPECT_PATCH_FAILS(JSONP, NULL, "{\"a\":[1]}", "[{\"op\":\"add\",\"path\":\"/a/5\",\"value\":1}]",
          "out of range");
    EXPECT_PATCH_FAILS(JSONP, NULL, "{\"a\":[1]}", "[{\"op\":\"remove\",\"path\":\"/a/-\"}]", "missing path");
    EXPECT_PATCH_FAILS(JSONP, NULL, "{\"a\":1}", "[{\"op\":\"add\",\"path\":\"a\",\"value\":1}]",
          "invalid JSON pointer");
    EXPECT_PATCH_FAILS(JSONP, NULL, "{\"a\":1}", "[{\"op\":\"add\",\"path\":\"/~2\",\"value\":1}]",
          "invalid JSON pointer");
    EXPECT_PATCH_FAILS(JSONP, NULL, "{\"a\":1}", "[{\"op\":\"frob\",\"path\":\"/a\"}]", "unexpected kind");
    EXPECT_PATCH_FAILS(JSONP, NULL, "{\"a\":1}", "[{\"op\":\"add\",\"path\":\"/b\"}]", "missing value");
    EXPECT_PATCH_FAILS(JSONP, NULL, "{\"a\":{}}", "[{\"op\":\"move\",\"from\":\"/a\",\"path\":\"/a/b\"}]",
          "children");
    EXPECT_PATCH_FAILS(JSONP, NULL, "{\"a\":1}", "{\"op\":\"add\"}", "must be an array");
    /* a failing op leaves nothing half-applied (target untouched is checked in apply) */
    EXPECT_PATCH_FAILS(JSONP, NULL, "{\"a\":1}",
          "[{\"op\":\"add\",\"path\":\"/b\",\"value\":1},{\"op\":\"remove\",\"path\":\"/zz\"}]",
          "operation 1");
}

static const char *DEPLOY =
    "{\"metadata\":{\"name\":\"web\",\"labels\":{\"app\":\"web\"},\"finalizers\":[\"a\",\"b\"]},"
    "\"spec\":{\"replicas\":1,\"strategy\":{\"type\":\"RollingUpdate\","
    "\"rollingUpdate\":{\"maxSurge\":1}},\"template\":{\"spec\":{"
    "\"containers\":[{\"name\":\"main\",\"image\":\"nginx:1\",\"env\":[{\"name\":\"A\","
    "\"value\":\"1\"}],\"ports\":[{\"containerPort\":80}]},"
    "{\"name\":\"side\",\"image\":\"busybox\"}],"
    "\"volumes\":[{\"name\":\"v1\",\"emptyDir\":{}}],\"tolerations\":[{\"key\":\"k\"}]}}}}";

static void test_strategic(void)
{
    /* kubectl set image: containers merged by name, other container kept, order kept */
    EXPECT_PATCH(SMP, "Deployment", DEPLOY,
         "{\"spec\":{\"template\":{\"spec\":{\"$setElementOrder/containers\":[{\"name\":\"main\"},"
         "{\"name\":\"side\"}],\"containers\":[{\"image\":\"nginx:2\",\"name\":\"main\"}]}}}}",
         "{\"metadata\":{\"name\":\"web\",\"labels\":{\"app\":\"web\"},\"finalizers\":[\"a\",\"b\"]},"
         "\"spec\":{\"replicas\":1,\"strategy\":{\"type\":\"RollingUpdate\","
         "\"rollingUpdate\":{\"maxSurge\":1}},\"template\":{\"spec\":{"
         "\"containers\":[{\"name\":\"main\",\"image\":\"nginx:2\",\"env\":[{\"name\":\"A\","
         "\"value\":\"1\"}],\"ports\":[{\"containerPort\":80}]},"
         "{\"name\":\"side\",\"image\":\"busybox\"}],"
         "\"volumes\":[{\"name\":\"v1\",\"emptyDir\":{}}],\"tolerations\":[{\"key\":\"k\"}]}}}}");
    /* new container appended; env merged by name; ports by containerPort */
    json_t *r = apply(SMP, "Deployment", DEPLOY,
                      "{\"spec\":{\"template\":{\"spec\":{\"containers\":[{\"name\":\"main\","
                      "\"env\":[{\"name\":\"B\",\"value\":\"2\"}],\"ports\":[{\"containerPort\":"
                      "80,\"name\":\"http\"}]},{\"name\":\"new\",\"image\":\"x\"}]}}}}");
    if (!r) {
        fprintf(stderr, "smp failed: %s\n", err);
        exit(1);
    }
    json_t *c = json_object_get(
        json_object_get(json_object_get(json_object_get(r, "spec"), "template"), "spec"),
        "containers");
    if (json_array_size(c) != 3 ||
        /* without $setElementOrder Kubernetes puts patch items before server-only
         * items the live order cannot place: main, new, side */
        strcmp(json_string_value(json_object_get(json_array_get(c, 1), "name")), "new") != 0 ||
        strcmp(json_string_value(json_object_get(json_array_get(c, 2), "name")), "side") != 0 ||
        json_array_size(json_object_get(json_array_get(c, 0), "env")) != 2 ||
        json_array_size(json_object_get(json_array_get(c, 0), "ports")) != 1 ||
        strcmp(json_string_value(json_object_get(
                   json_array_get(json_object_get(json_array_get(c, 0), "ports"), 0), "name")),
               "http") != 0) {
        char *g = json_dumps(c, JSON_COMPACT);
        fprintf(stderr, "%s:%d: containers not merged by name: %s\n", __FILE__, __LINE__, g);
        free(g);
        exit(1);
    }
    json_decref(r);
    /* $setElementOrder reorders */
    EXPECT_PATCH(SMP, "Pod",
         "{\"spec\":{\"containers\":[{\"name\":\"a\"},{\"name\":\"b\"},{\"name\":\"c\"}]}}",
         "{\"spec\":{\"$setElementOrder/containers\":[{\"name\":\"c\"},{\"name\":\"a\"},"
         "{\"name\":\"b\"}]}}",
         "{\"spec\":{\"containers\":[{\"name\":\"c\"},{\"name\":\"a\"},{\"name\":\"b\"}]}}");
    /* $patch: delete of a list element (kubectl apply removing a container) */
    EXPECT_PATCH(SMP, "Pod",
         "{\"spec\":{\"containers\":[{\"name\":\"a\",\"image\":\"x\"},{\"name\":\"b\"}]}}",
         "{\"spec\":{\"$setElementOrder/containers\":[{\"name\":\"b\"}],"
         "\"containers\":[{\"$patch\":\"delete\",\"name\":\"a\"}]}}",
         "{\"spec\":{\"containers\":[{\"name\":\"b\"}]}}");
    /* $patch: replace in a list and in a map; $patch: delete of a map */
    EXPECT_PATCH(SMP, "Pod", "{\"spec\":{\"containers\":[{\"name\":\"a\"},{\"name\":\"b\"}]}}",
         "{\"spec\":{\"containers\":[{\"name\":\"z\"},{\"$patch\":\"replace\"}]}}",
         "{\"spec\":{\"containers\":[{\"name\":\"z\"}]}}");
    EXPECT_PATCH(SMP, "Pod", "{\"metadata\":{\"labels\":{\"a\":\"1\",\"b\":\"2\"}}}",
         "{\"metadata\":{\"labels\":{\"$patch\":\"replace\",\"c\":\"3\"}}}",
         "{\"metadata\":{\"labels\":{\"c\":\"3\"}}}");
    EXPECT_PATCH(SMP, "Pod", "{\"metadata\":{\"name\":\"p\",\"labels\":{\"a\":\"1\"}}}",
         "{\"metadata\":{\"labels\":{\"$patch\":\"delete\"}}}",
         "{\"metadata\":{\"name\":\"p\",\"labels\":{}}}");
    EXPECT_PATCH_FAILS(SMP, "Pod", "{\"metadata\":{}}", "{\"metadata\":{\"$patch\":\"frob\"}}",
          "unknown patch type");
    /* null deletes a key; unknown lists are replaced; tolerations have no merge key */
    EXPECT_PATCH(SMP, "Deployment", "{\"metadata\":{\"labels\":{\"a\":\"1\",\"b\":\"2\"}},"
         "\"spec\":{\"template\":{\"spec\":{\"tolerations\":[{\"key\":\"k\"}]}}}}",
         "{\"metadata\":{\"labels\":{\"a\":null}},\"spec\":{\"template\":{\"spec\":"
         "{\"tolerations\":[{\"key\":\"j\"}]}}}}",
         "{\"metadata\":{\"labels\":{\"b\":\"2\"}},\"spec\":{\"template\":{\"spec\":"
         "{\"tolerations\":[{\"key\":\"j\"}]}}}}");
    /* $retainKeys: kubectl apply switching the strategy type */
    EXPECT_PATCH(SMP, "Deployment", DEPLOY,
         "{\"spec\":{\"strategy\":{\"$retainKeys\":[\"type\"],\"type\":\"Recreate\"}}}",
         "{\"metadata\":{\"name\":\"web\",\"labels\":{\"app\":\"web\"},\"finalizers\":[\"a\",\"b\"]},"
         "\"spec\":{\"replicas\":1,\"strategy\":{\"type\":\"Recreate\"},"
         "\"template\":{\"spec\":{\"containers\":[{\"name\":\"main\",\"image\":\"nginx:1\","
         "\"env\":[{\"name\":\"A\",\"value\":\"1\"}],\"ports\":[{\"containerPort\":80}]},"
         "{\"name\":\"side\",\"image\":\"busybox\"}],"
         "\"volumes\":[{\"name\":\"v1\",\"emptyDir\":{}}],\"tolerations\":[{\"key\":\"k\"}]}}}}");
    EXPECT_PATCH_FAILS(SMP, "Deployment", DEPLOY,
          "{\"spec\":{\"strategy\":{\"$retainKeys\":[\"type\"],\"rollingUpdate\":{}}}}",
          "missing from $retainKeys");
    /* finalizers: a merging primitive list; $deleteFromPrimitiveList */
    EXPECT_PATCH(SMP, "ConfigMap", "{\"metadata\":{\"finalizers\":[\"a\",\"b\"]}}",
         "{\"metadata\":{\"finalizers\":[\"c\",\"a\"]}}",
         "{\"metadata\":{\"finalizers\":[\"c\",\"a\",\"b\"]}}");
    EXPECT_PATCH(SMP, "ConfigMap", "{\"metadata\":{\"finalizers\":[\"a\",\"b\",\"c\"]}}",
         "{\"metadata\":{\"$deleteFromPrimitiveList/finalizers\":[\"b\"]}}",
         "{\"metadata\":{\"finalizers\":[\"a\",\"c\"]}}");
    EXPECT_PATCH(SMP, "ConfigMap", "{\"metadata\":{\"finalizers\":[\"a\",\"b\",\"c\"]}}",
         "{\"metadata\":{\"$setElementOrder/finalizers\":[\"c\",\"a\"],"
         "\"$deleteFromPrimitiveList/finalizers\":[\"b\"]}}",
         "{\"metadata\":{\"finalizers\":[\"c\",\"a\"]}}");
    /* ConfigMap data is a plain map; a new key; ownerReferences merge by uid */
    EXPECT_PATCH(SMP, "ConfigMap",
         "{\"data\":{\"a\":\"1\"},\"metadata\":{\"ownerReferences\":[{\"uid\":\"u1\",\"name\":"
         "\"x\"}]}}",
         "{\"data\":{\"b\":\"2\"},\"metadata\":{\"ownerReferences\":[{\"uid\":\"u2\",\"name\":"
         "\"y\"}]}}",
         "{\"data\":{\"a\":\"1\",\"b\":\"2\"},\"metadata\":{\"ownerReferences\":[{\"uid\":\"u2\","
         "\"name\":\"y\"},{\"uid\":\"u1\",\"name\":\"x\"}]}}"); /* Kubernetes' order */
    /* a list in an unknown kind is replaced */
    EXPECT_PATCH(SMP, "Widget", "{\"spec\":{\"items\":[1,2]}}", "{\"spec\":{\"items\":[3]}}",
         "{\"spec\":{\"items\":[3]}}");
    /* Service ports merge by port; Node addresses by type */
    EXPECT_PATCH(SMP, "Service", "{\"spec\":{\"ports\":[{\"port\":80,\"name\":\"a\"},{\"port\":81}]}}",
         "{\"spec\":{\"ports\":[{\"port\":81,\"name\":\"b\"}]}}",
         "{\"spec\":{\"ports\":[{\"port\":80,\"name\":\"a\"},{\"port\":81,\"name\":\"b\"}]}}");
    /* the sidecar case: kubectl sends $setElementOrder so the live order holds */
    EXPECT_PATCH(SMP, "Node", "{\"spec\":{},\"status\":{\"addresses\":[{\"type\":\"InternalIP\","
         "\"address\":\"127.0.0.2\"}]}}",
         "{\"spec\":{\"unschedulable\":true},\"status\":{\"addresses\":[{\"type\":\"Hostname\","
         "\"address\":\"n1\"}]}}",
         "{\"spec\":{\"unschedulable\":true},\"status\":{\"addresses\":[{\"type\":\"Hostname\","
         "\"address\":\"n1\"},{\"type\":\"InternalIP\",\"address\":\"127.0.0.2\"}]}}");
    /* CronJob pod template is found through jobTemplate */
    EXPECT_PATCH(SMP, "CronJob",
         "{\"spec\":{\"jobTemplate\":{\"spec\":{\"template\":{\"spec\":{\"containers\":"
         "[{\"name\":\"a\",\"image\":\"1\"},{\"name\":\"b\"}]}}}}}}",
         "{\"spec\":{\"jobTemplate\":{\"spec\":{\"template\":{\"spec\":{\"containers\":"
         "[{\"name\":\"a\",\"image\":\"2\"}]}}}}}}",
         "{\"spec\":{\"jobTemplate\":{\"spec\":{\"template\":{\"spec\":{\"containers\":"
         "[{\"name\":\"a\",\"image\":\"2\"},{\"name\":\"b\"}]}}}}}}");
    /* directives in new values are stripped; nulls in new values dropped */
    EXPECT_PATCH(SMP, "Pod", "{}",
         "{\"spec\":{\"containers\":[{\"name\":\"a\",\"x\":null},{\"name\":\"b\",\"$patch\":"
         "\"delete\"}],\"$setElementOrder/volumes\":[]}}",
         "{\"spec\":{\"containers\":[{\"name\":\"a\"}]}}");
    EXPECT_PATCH_FAILS(SMP, "Pod", "{\"spec\":{\"containers\":[{\"name\":\"a\"}]}}",
          "{\"spec\":{\"containers\":[{\"image\":\"x\"}]}}", "merge key");
    EXPECT_PATCH_FAILS(SMP, "Pod", "{}", "[1]", "must be a JSON object");
}

/* The strategic patch kubectl 1.32 sent for `apply` (from the reference log). */
static void test_strategic_kubectl_apply(void)
{
    const char *live =
        "{\"apiVersion\":\"apps/v1\",\"kind\":\"Deployment\",\"metadata\":{\"name\":\"web\","
        "\"annotations\":{\"kubectl.kubernetes.io/last-applied-configuration\":\"old\"}},"
        "\"spec\":{\"replicas\":2,\"template\":{\"metadata\":{\"labels\":{\"app\":\"web\"}},"
        "\"spec\":{\"containers\":[{\"name\":\"web\",\"image\":\"nginx:1.25\"}]}}}}";
    const char *patch =
        "{\"metadata\":{\"annotations\":{\"kubectl.kubernetes.io/last-applied-configuration\":"
        "\"new\"}},\"spec\":{\"template\":{\"spec\":{\"$setElementOrder/containers\":[{\"name\":"
        "\"web\"},{\"name\":\"sidecar\"}],\"containers\":[{\"image\":\"busybox\",\"name\":"
        "\"sidecar\"}]}}}}";
    EXPECT_PATCH(SMP, "Deployment", live, patch,
         "{\"apiVersion\":\"apps/v1\",\"kind\":\"Deployment\",\"metadata\":{\"name\":\"web\","
         "\"annotations\":{\"kubectl.kubernetes.io/last-applied-configuration\":\"new\"}},"
         "\"spec\":{\"replicas\":2,\"template\":{\"metadata\":{\"labels\":{\"app\":\"web\"}},"
         "\"spec\":{\"containers\":[{\"name\":\"web\",\"image\":\"nginx:1.25\"},"
         "{\"image\":\"busybox\",\"name\":\"sidecar\"}]}}}}");
    /* rollout restart */
    EXPECT_PATCH(SMP, "Deployment", live,
         "{\"spec\":{\"template\":{\"metadata\":{\"annotations\":{\"kubectl.kubernetes.io/"
         "restartedAt\":\"2026-11-23T15:01:03Z\"}}}}}",
         "{\"apiVersion\":\"apps/v1\",\"kind\":\"Deployment\",\"metadata\":{\"name\":\"web\","
         "\"annotations\":{\"kubectl.kubernetes.io/last-applied-configuration\":\"old\"}},"
         "\"spec\":{\"replicas\":2,\"template\":{\"metadata\":{\"labels\":{\"app\":\"web\"},"
         "\"annotations\":{\"kubectl.kubernetes.io/restartedAt\":\"2026-11-23T15:01:03Z\"}},"
         "\"spec\":{\"containers\":[{\"name\":\"web\",\"image\":\"nginx:1.25\"}]}}}}");
}

int main(void)
{
    test_merge_patch();
    test_json_patch();
    test_strategic();
    test_strategic_kubectl_apply();
    printf("codec_patch: all tests passed\n");
    return 0;
}
