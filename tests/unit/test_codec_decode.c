/* Unit tests for the JSON and YAML body decoders (server/api/json.c, yaml.c):
 * objects required, errors with positions, NUL and depth limits, YAML 1.1 scalar
 * resolution as sigs.k8s.io/yaml, anchors/aliases/merge keys, alias bombs, and the
 * one-document rule. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "triarch/codec.h"

#include "check.h"

static char err[512];

static json_t *yaml(const char *s)
{
    err[0] = '\0';
    return tri_yaml_decode(s, strlen(s), err, sizeof err);
}

static json_t *js(const char *s)
{
    err[0] = '\0';
    return tri_json_decode(s, strlen(s), err, sizeof err);
}

/* Decodes YAML and compares with the expected JSON text. */
static void yaml_is(const char *y, const char *expect_json)
{
    json_t *got = yaml(y);
    json_t *want = json_loads(expect_json, 0, NULL);
    if (!got || !want || !json_equal(got, want)) {
        char *g = got ? json_dumps(got, JSON_COMPACT) : NULL;
        fprintf(stderr, "yaml %s\n  want %s\n  got  %s (err %s)\n", y, expect_json,
                g ? g : "NULL", err);
        exit(1);
    }
    json_decref(got);
    json_decref(want);
}

static void yaml_fails(const char *y, const char *msg_part)
{
    json_t *got = yaml(y);
    if (got || !strstr(err, msg_part)) {
        fprintf(stderr, "yaml %s: expected error containing '%s', got '%s'\n", y, msg_part, err);
        exit(1);
    }
}

static void test_json(void)
{
    json_t *o = js("{\"a\":1,\"a\":2}");
    CHECK(o && json_integer_value(json_object_get(o, "a")) == 2); /* last wins */
    json_decref(o);
    CHECK(!js("[1,2]") && strstr(err, "must be an object"));
    CHECK(!js("{\"a\":1} x") && strstr(err, "line 1"));
    CHECK(!js("{\n\"a\": }") && strstr(err, "line 2"));
    CHECK(!tri_json_decode("{\"a\":\"\0\"}", 9, err, sizeof err) && strstr(err, "NUL"));
    CHECK(!js("") && strstr(err, "empty"));
    /* depth cap */
    char deep[1024] = "";
    for (int i = 0; i < 120; i++)
        strcat(deep, "{\"a\":");
    strcat(deep, "1");
    for (int i = 0; i < 120; i++)
        strcat(deep, "}");
    CHECK(!js(deep) && strstr(err, "deeper"));
    o = js("{\"kind\":\"ConfigMap\",\"data\":{\"x\":\"y\"}}");
    CHECK(o && !strcmp(json_string_value(json_object_get(o, "kind")), "ConfigMap"));
    json_decref(o);
}

static void test_yaml_scalars(void)
{
    yaml_is("a: 1\nb: -0x1F\nc: 0o17\nd: 017\ne: 0b101\nf: 1_000\n",
            "{\"a\":1,\"b\":-31,\"c\":15,\"d\":15,\"e\":5,\"f\":1000}");
    yaml_is("a: 1.5\nb: 3.0\nc: 1e3\nd: .5\ne: 08\n",
            "{\"a\":1.5,\"b\":3,\"c\":1000,\"d\":0.5,\"e\":8}");
    yaml_is("a: true\nb: False\nc: yes\nd: off\ne: y\nf: NO\ng: On\n",
            "{\"a\":true,\"b\":false,\"c\":true,\"d\":false,\"e\":true,\"f\":false,\"g\":true}");
    yaml_is("a: null\nb: ~\nc:\nd: NULL\n", "{\"a\":null,\"b\":null,\"c\":null,\"d\":null}");
    yaml_is("a: \"1\"\nb: 'true'\nc: !!str 12\nd: |\n  x\ne: hello world\n",
            "{\"a\":\"1\",\"b\":\"true\",\"c\":\"12\",\"d\":\"x\\n\",\"e\":\"hello world\"}");
    yaml_is("t: 2001-12-14t21:59:43.10-05:00\nv: 1.2.3\nbig: 99999999999999999999999\nn: x\n",
            "{\"t\":\"2001-12-14t21:59:43.10-05:00\",\"v\":\"1.2.3\","
            "\"big\":1e23,\"false\":\"x\"}");
    /* keys become strings */
    yaml_is("1: a\ntrue: b\non: c\n\"x\": d\n", "{\"1\":\"a\",\"true\":\"c\",\"x\":\"d\"}");
    /* JSON is YAML */
    yaml_is("{\"apiVersion\": \"v1\", \"kind\": \"ConfigMap\", \"data\": {\"k\": \"v\"}}",
            "{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"data\":{\"k\":\"v\"}}");
    yaml_is("apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\nspec:\n  containers:\n"
            "  - name: c\n    image: nginx\n    ports:\n    - containerPort: 80\n",
            "{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"p\"},\"spec\":"
            "{\"containers\":[{\"name\":\"c\",\"image\":\"nginx\",\"ports\":"
            "[{\"containerPort\":80}]}]}}");
}

static void test_yaml_anchors(void)
{
    yaml_is("base: &b {x: 1, y: 2}\nother: *b\n",
            "{\"base\":{\"x\":1,\"true\":2},\"other\":{\"x\":1,\"true\":2}}"); /* y is a YAML 1.1 bool */
    yaml_is("s: &v hello\nt: *v\n", "{\"s\":\"hello\",\"t\":\"hello\"}");
    yaml_is("base: &b {p: 1, q: 2}\nm:\n  <<: *b\n  q: 3\n",
            "{\"base\":{\"p\":1,\"q\":2},\"m\":{\"p\":1,\"q\":3}}");
    /* an alias copy is independent of its anchor */
    json_t *o = yaml("a: &x {k: 1}\nb: *x\n");
    CHECK(o && json_object_get(o, "a") != json_object_get(o, "b"));
    json_decref(o);
    yaml_fails("a: *nope\n", "unknown anchor");
    /* billion laughs */
    char bomb[4096] = "a: &a [x,x,x,x,x,x,x,x,x,x]\n";
    char prev = 'a';
    for (char c = 'b'; c <= 'k'; c++, prev++) {
        char line[128];
        snprintf(line, sizeof line, "%c: &%c [*%c,*%c,*%c,*%c,*%c,*%c,*%c,*%c,*%c,*%c]\n", c, c,
                 prev, prev, prev, prev, prev, prev, prev, prev, prev, prev);
        strcat(bomb, line);
    }
    yaml_fails(bomb, "too many nodes");
    /* recursive alias: the anchor is incomplete when referenced */
    yaml_fails("a: &r [*r]\n", "unknown anchor");
}

static void test_yaml_errors(void)
{
    yaml_fails("a: 1\n---\nb: 2\n", "expected one document");
    yaml_fails("- 1\n- 2\n", "must be a mapping");
    yaml_fails("", "empty");
    yaml_fails("a: [1, 2\n", "line");
    yaml_fails("? [a, b]\n: c\n", "key must be a scalar");
    yaml_fails("a: .inf\n", "cannot be represented");
    yaml_fails("~: 1\n", "mapping key");
    yaml_fails("a: b\n c: d\n", "line");
    char deep[1024] = "a: ";
    for (int i = 0; i < 150; i++)
        strcat(deep, "[");
    for (int i = 0; i < 150; i++)
        strcat(deep, "]");
    yaml_fails(deep, "deeper");
    CHECK(!tri_yaml_decode("a: \"x\0y\"", 9, err, sizeof err));
}

/* The member of d named key, cut out: expect what remains and the value. */
static void cut_is(const char *d, const char *key, const char *rest, const char *value)
{
    size_t b, e, vb, ve, n = strlen(d);
    bool found = tri_json_member_range(d, n, key, &b, &e, &vb, &ve);
    if (rest == NULL) {
        CHECK(!found);
        return;
    }
    CHECK(found);
    if (!found)
        return;
    char got[256];
    snprintf(got, sizeof got, "%.*s%.*s", (int)b, d, (int)(n - e), d + e);
    CHECK_STR(got, rest);
    snprintf(got, sizeof got, "%.*s", (int)(ve - vb), d + vb);
    CHECK_STR(got, value);
}

static void test_member_range(void)
{
    cut_is("{\"a\":1,\"b\":2}", "a", "{\"b\":2}", "1");
    cut_is("{\"a\":1,\"b\":2}", "b", "{\"a\":1}", "2");
    cut_is("{\"a\":{\"x\":[1,\"}\"]}}", "a", "{}", "{\"x\":[1,\"}\"]}");
    cut_is("{ \"k\" : \"v\\\"\" , \"m\":{\"managedFields\":[{}]} }", "m",
           "{ \"k\" : \"v\\\"\" }", "{\"managedFields\":[{}]}");
    cut_is("{\"a\":1,\"b\":{\"c\":2},\"d\":true}", "b", "{\"a\":1,\"d\":true}",
           "{\"c\":2}");
    cut_is("{\"ab\":1}", "a", NULL, NULL);      /* a prefix is not the key */
    cut_is("{\"x\":{\"a\":1}}", "a", NULL, NULL); /* only top-level members */
    cut_is("[\"a\",1]", "a", NULL, NULL);
    cut_is("{\"a\":[1,2", "a", NULL, NULL);     /* unterminated */
    cut_is("{\"a\" 1}", "a", NULL, NULL);
    cut_is("", "a", NULL, NULL);
    /* escapes: an even run of backslashes before a quote ends the string, an odd
     * one does not, whatever came before in the string */
    cut_is("{\"k\":\"a\\\\\",\"b\":1}", "b", "{\"k\":\"a\\\\\"}", "1");
    cut_is("{\"k\":\"a\\\\\\\",\\\"b\\\":1\",\"c\":2}", "c",
           "{\"k\":\"a\\\\\\\",\\\"b\\\":1\"}", "2");
    cut_is("{\"k\":\"a\\\",\"b\":1}", "b", NULL, NULL); /* "a\",\"b\":1}: unterminated */
    cut_is("{\"q\\\"x\":1,\"b\":2}", "b", "{\"q\\\"x\":1}", "2");
}

int main(void)
{
    test_member_range();
    test_json();
    test_yaml_scalars();
    test_yaml_anchors();
    test_yaml_errors();
    printf("codec_decode: all tests passed\n");
    return 0;
}
