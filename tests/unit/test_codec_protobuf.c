/* Unit tests for the protobuf body decoder (server/api/protobuf.c and its schema
 * tables): real kubectl 1.32 bodies from shared/reference, hand-built envelopes
 * from a tiny encoder (ConfigMap, Namespace, Secret, ServiceAccount), omitempty
 * rules, unknown fields skipped, and malformed input rejected. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "triarch/codec.h"

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "%s:%d: expected %s (err: %s)\n", __FILE__, __LINE__, #cond, err);    \
            exit(1);                                                                               \
        }                                                                                          \
    } while (0)

static char err[512];

/* ---------- a tiny encoder ---------- */

typedef struct enc {
    uint8_t b[4096];
    size_t n;
} enc_t;

static void put_varint(enc_t *e, uint64_t v)
{
    do {
        uint8_t byte = v & 0x7f;
        v >>= 7;
        e->b[e->n++] = byte | (v ? 0x80 : 0);
    } while (v);
}

static void put_bytes(enc_t *e, unsigned field, const void *p, size_t n)
{
    put_varint(e, (uint64_t)field << 3 | 2);
    put_varint(e, n);
    memcpy(e->b + e->n, p, n);
    e->n += n;
}

static void put_str(enc_t *e, unsigned field, const char *s)
{
    put_bytes(e, field, s, strlen(s));
}

static void put_msg(enc_t *e, unsigned field, const enc_t *m)
{
    put_bytes(e, field, m->b, m->n);
}

static void put_uint(enc_t *e, unsigned field, uint64_t v)
{
    put_varint(e, (uint64_t)field << 3);
    put_varint(e, v);
}

static void put_map(enc_t *e, unsigned field, const char *k, const void *v, size_t vn)
{
    enc_t entry = {0};
    put_str(&entry, 1, k);
    put_bytes(&entry, 2, v, vn);
    put_msg(e, field, &entry);
}

/* "k8s\0" + Unknown{typeMeta, raw, "", ""} */
static void envelope(enc_t *out, const char *api_version, const char *kind, const enc_t *raw)
{
    enc_t tm = {0};
    put_str(&tm, 1, api_version);
    put_str(&tm, 2, kind);
    memcpy(out->b, "k8s\0", 4);
    out->n = 4;
    put_msg(out, 1, &tm);
    put_msg(out, 2, raw);
    put_str(out, 3, "");
    put_str(out, 4, "");
}

static json_t *decode(const enc_t *e)
{
    err[0] = '\0';
    return tri_protobuf_decode(e->b, e->n, err, sizeof err);
}

static json_t *decode_hex(const char *hex)
{
    static uint8_t buf[1024];
    size_t n = strlen(hex) / 2;
    for (size_t i = 0; i < n; i++)
        sscanf(hex + 2 * i, "%2hhx", &buf[i]);
    err[0] = '\0';
    return tri_protobuf_decode(buf, n, err, sizeof err);
}

static void expect_json(json_t *got, const char *want_text)
{
    json_t *want = json_loads(want_text, 0, NULL);
    if (!got || !want || !json_equal(got, want)) {
        char *g = got ? json_dumps(got, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
        fprintf(stderr, "want %s\ngot  %s\nerr  %s\n", want_text, g ? g : "NULL", err);
        exit(1);
    }
    json_decref(got);
    json_decref(want);
}

/* ---------- real bodies (kubectl 1.32, shared/reference/kubectl-1.32-requests.jsonl) ---------- */

static void test_real_bodies(void)
{
    /* kubectl create configmap cm1 --from-literal=a=b --from-literal=c=d */
    expect_json(decode_hex("6b3873000a0f0a0276311209436f6e6669674d617012250a130a03636d3112001a0022"
                           "002a0032003800420012060a016112016212060a01631201641a002200"),
                "{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\"cm1\"},"
                "\"data\":{\"a\":\"b\",\"c\":\"d\"}}");
    /* kubectl create secret generic s1 --from-literal=pw=hunter2 */
    expect_json(decode_hex("6b3873000a0c0a027631120653656372657412250a120a02733112001a0022002a0032"
                           "0038004200120d0a027077120768756e746572321a001a002200"),
                "{\"apiVersion\":\"v1\",\"kind\":\"Secret\",\"metadata\":{\"name\":\"s1\"},"
                "\"data\":{\"pw\":\"aHVudGVyMg==\"}}");
    /* kubectl create namespace ns1: spec and status present (empty) as Go keeps them */
    expect_json(decode_hex("6b3873000a0f0a02763112094e616d657370616365121b0a130a036e733112001a0022"
                           "002a0032003800420012001a020a001a002200"),
                "{\"apiVersion\":\"v1\",\"kind\":\"Namespace\",\"metadata\":{\"name\":\"ns1\"},"
                "\"spec\":{},\"status\":{}}");
    /* kubectl create serviceaccount sa1 */
    expect_json(decode_hex("6b3873000a140a027631120e536572766963654163636f756e7412150a130a03736131"
                           "12001a0022002a003200380042001a002200"),
                "{\"apiVersion\":\"v1\",\"kind\":\"ServiceAccount\",\"metadata\":{\"name\":"
                "\"sa1\"}}");
    /* kubectl create service clusterip svc1 --tcp=80:80 */
    expect_json(decode_hex("6b3873000a0d0a02763112075365727669636512690a210a047376633112001a002200"
                           "2a003200380042005a0b0a036170701204737663311240"
                           "0a180a0538302d3830120354435018502206080010501a002800120b0a036170701204"
                           "737663311a002209436c757374657249503a00420052005a00600068001a020a001a00"
                           "2200"),
                "{\"apiVersion\":\"v1\",\"kind\":\"Service\",\"metadata\":{\"name\":\"svc1\","
                "\"labels\":{\"app\":\"svc1\"}},\"spec\":{\"ports\":[{\"name\":\"80-80\","
                "\"protocol\":\"TCP\",\"port\":80,\"targetPort\":80}],\"selector\":{\"app\":"
                "\"svc1\"},\"type\":\"ClusterIP\"},\"status\":"
                "{\"loadBalancer\":{}}}");
    /* kubectl create role r1 --verb=get --resource=pods */
    expect_json(decode_hex("6b3873000a240a1c726261632e617574686f72697a6174696f6e2e6b38732e696f2f76"
                           "311204526f6c6512230a120a02723112001a0022002a00320038004200120d0a036765"
                           "7412001a04706f64731a002200"),
                "{\"apiVersion\":\"rbac.authorization.k8s.io/v1\",\"kind\":\"Role\",\"metadata\":"
                "{\"name\":\"r1\"},\"rules\":[{\"verbs\":[\"get\"],\"apiGroups\":[\"\"],"
                "\"resources\":[\"pods\"]}]}");
    /* kubectl create token: a kind we do not decode */
    CHECK(!decode_hex("6b3873000a280a1861757468656e7469636174696f6e2e6b38732e696f2f7631120c546f"
                      "6b656e52657175657374121a0a100a0012001a0022002a0032003800420012001a040a00"
                      "12001a002200"));
    CHECK(strstr(err, "unsupported kind"));
    CHECK(tri_protobuf_supported("v1", "ConfigMap"));
    CHECK(!tri_protobuf_supported("authentication.k8s.io/v1", "TokenRequest"));
}

/* ---------- hand-built ---------- */

static void object_meta(enc_t *m)
{
    enc_t own = {0}, ts = {0};
    put_str(m, 1, "x");
    put_str(m, 2, "gen-");
    put_str(m, 3, "default");
    put_uint(m, 7, 3);
    put_uint(&ts, 1, 1700000000); /* 2023-11-14T22:13:20Z */
    put_msg(m, 8, &ts);
    put_map(m, 11, "app", "web", 3);
    put_map(m, 12, "note", "", 0);
    put_str(&own, 1, "Deployment");
    put_str(&own, 3, "d");
    put_str(&own, 4, "uid-1");
    put_str(&own, 5, "apps/v1");
    put_uint(&own, 6, 1);
    put_msg(m, 13, &own);
    put_str(m, 14, "f1");
    put_str(m, 14, "f2");
    put_uint(m, 99, 12345);          /* unknown varint field: skipped */
    put_str(m, 98, "unknown bytes"); /* unknown length-delimited field: skipped */
    put_varint(m, 97 << 3 | 5);      /* unknown fixed32 */
    memcpy(m->b + m->n, "abcd", 4);
    m->n += 4;
}

static const char *META_JSON =
    "{\"name\":\"x\",\"generateName\":\"gen-\",\"namespace\":\"default\",\"generation\":3,"
    "\"creationTimestamp\":\"2023-11-14T22:13:20Z\",\"labels\":{\"app\":\"web\"},"
    "\"annotations\":{\"note\":\"\"},\"ownerReferences\":[{\"kind\":\"Deployment\","
    "\"name\":\"d\",\"uid\":\"uid-1\",\"apiVersion\":\"apps/v1\",\"controller\":true}],"
    "\"finalizers\":[\"f1\",\"f2\"]}";

static void test_handmade(void)
{
    enc_t meta = {0}, cm = {0}, env = {0};
    object_meta(&meta);
    put_msg(&cm, 1, &meta);
    put_map(&cm, 2, "k", "v", 1);
    put_map(&cm, 3, "bin", "\x00\x01\xff", 3);
    put_uint(&cm, 4, 0); /* immutable: *bool, kept even when false */
    envelope(&env, "v1", "ConfigMap", &cm);
    char want[2048];
    snprintf(want, sizeof want,
             "{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":%s,\"data\":{\"k\":"
             "\"v\"},\"binaryData\":{\"bin\":\"AAH/\"},\"immutable\":false}",
             META_JSON);
    expect_json(decode(&env), want);

    enc_t ns = {0}, spec = {0}, status = {0};
    put_str(&spec, 1, "kubernetes");
    put_str(&status, 1, "Active");
    put_msg(&ns, 1, &meta);
    put_msg(&ns, 2, &spec);
    put_msg(&ns, 3, &status);
    envelope(&env, "v1", "Namespace", &ns);
    snprintf(want, sizeof want,
             "{\"apiVersion\":\"v1\",\"kind\":\"Namespace\",\"metadata\":%s,\"spec\":{"
             "\"finalizers\":[\"kubernetes\"]},\"status\":{\"phase\":\"Active\"}}",
             META_JSON);
    expect_json(decode(&env), want);

    enc_t sec = {0}, m2 = {0};
    put_str(&m2, 1, "s");
    put_msg(&sec, 1, &m2);
    put_map(&sec, 2, "a", "xy", 2);
    put_map(&sec, 4, "plain", "text", 4);
    put_str(&sec, 3, "Opaque");
    put_uint(&sec, 5, 1);
    envelope(&env, "v1", "Secret", &sec);
    expect_json(decode(&env), "{\"apiVersion\":\"v1\",\"kind\":\"Secret\",\"metadata\":{"
                              "\"name\":\"s\"},\"data\":{\"a\":\"eHk=\"},\"stringData\":{"
                              "\"plain\":\"text\"},\"type\":\"Opaque\",\"immutable\":true}");

    enc_t sa = {0}, ref = {0}, lref = {0};
    put_str(&ref, 3, "tok");
    put_str(&lref, 1, "pull");
    put_msg(&sa, 1, &m2);
    put_msg(&sa, 2, &ref);
    put_msg(&sa, 3, &lref);
    put_uint(&sa, 4, 0);
    envelope(&env, "v1", "ServiceAccount", &sa);
    expect_json(decode(&env), "{\"apiVersion\":\"v1\",\"kind\":\"ServiceAccount\",\"metadata\":{"
                              "\"name\":\"s\"},\"secrets\":[{\"name\":\"tok\"}],"
                              "\"imagePullSecrets\":[{\"name\":\"pull\"}],"
                              "\"automountServiceAccountToken\":false}");
}

static void test_malformed(void)
{
    enc_t meta = {0}, cm = {0}, env = {0};
    put_str(&meta, 1, "x");
    put_msg(&cm, 1, &meta);
    envelope(&env, "v1", "ConfigMap", &cm);
    json_t *ok = decode(&env);
    CHECK(ok);
    json_decref(ok);
    /* every truncation of a valid body fails cleanly or decodes a prefix, never crashes */
    for (size_t n = 0; n < env.n; n++) {
        json_t *v = tri_protobuf_decode(env.b, n, err, sizeof err);
        json_decref(v);
    }
    CHECK(!tri_protobuf_decode("k8s", 3, err, sizeof err) && strstr(err, "k8s"));
    CHECK(!tri_protobuf_decode("{\"a\":1}", 7, err, sizeof err));
    /* raw length past the end */
    enc_t bad = {0};
    memcpy(bad.b, "k8s\0\x12\x50\x0a", 7);
    bad.n = 7;
    CHECK(!decode(&bad) && strstr(err, "malformed"));
    /* an 11-byte varint */
    enc_t raw = {0};
    put_varint(&raw, 7 << 3);
    memset(raw.b + raw.n, 0xff, 10);
    raw.n += 10;
    raw.b[raw.n++] = 0x01;
    envelope(&env, "v1", "ConfigMap", &raw);
    CHECK(!decode(&env) && strstr(err, "invalid protobuf"));
    /* wire type mismatch: metadata as a varint */
    raw.n = 0;
    put_uint(&raw, 1, 5);
    envelope(&env, "v1", "ConfigMap", &raw);
    CHECK(!decode(&env) && strstr(err, "wire type mismatch"));
    /* a group wire type */
    raw.n = 0;
    put_varint(&raw, 9 << 3 | 3);
    envelope(&env, "v1", "ConfigMap", &raw);
    CHECK(!decode(&env) && strstr(err, "invalid field key"));
    /* invalid UTF-8 in a string */
    raw.n = 0;
    meta.n = 0;
    put_bytes(&meta, 1, "\xff\xfe", 2);
    put_msg(&raw, 1, &meta);
    envelope(&env, "v1", "ConfigMap", &raw);
    CHECK(!decode(&env) && strstr(err, "UTF-8"));
    /* contentEncoding is refused */
    enc_t tm = {0};
    put_str(&tm, 1, "v1");
    put_str(&tm, 2, "ConfigMap");
    env.n = 4;
    put_msg(&env, 1, &tm);
    put_str(&env, 3, "gzip");
    CHECK(!decode(&env) && strstr(err, "contentEncoding"));
    /* JSON raw with a JSON contentType */
    env.n = 4;
    put_msg(&env, 1, &tm);
    put_str(&env, 2, "{\"data\":{\"a\":\"b\"}}");
    put_str(&env, 4, "application/json");
    expect_json(decode(&env), "{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"data\":{\"a\":"
                              "\"b\"}}");
}

int main(void)
{
    test_real_bodies();
    test_handmade();
    test_malformed();
    printf("codec_protobuf: all tests passed\n");
    return 0;
}
