/* Encryption at rest (server/api/encrypt.c): sealing and opening round-trip, the
 * store key binds a value (AAD), a changed byte or tag is refused, key rotation
 * marks values stale, identity and plaintext, and configuration errors name the
 * field at fault. */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "triarch/encrypt.h"
#include "triarch/errors.h"

/* base64 of 32 bytes: 0x00..0x1f, and of 32 bytes 0x20..0x3f */
#define K1 "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="
#define K2 "ICEiIyQlJicoKSorLC0uLzAxMjM0NTY3ODk6Ozw9Pj8="
#define HEAD "apiVersion: apiserver.config.k8s.io/v1\nkind: EncryptionConfiguration\n"

static const char AAD[] = "/registry/core/secrets/default/s1";
static const char PLAIN[] = "{\"kind\":\"Secret\",\"data\":{\"pw\":\"aHVudGVyMg==\"}}";

static tri_encrypt_t *parse_ok(const char *yaml)
{
    tri_encrypt_t *e = NULL;
    char err[512] = "";
    int rc = tri_encrypt_parse(yaml, strlen(yaml), &e, err, sizeof err);
    if (rc != 0) {
        fprintf(stderr, "parse failed: %s\n--- config:\n%s\n", err, yaml);
        exit(1);
    }
    return e;
}

static tri_encrypt_t *config(const char *providers)
{
    char y[2048];
    snprintf(y, sizeof y, HEAD "resources:\n  - resources: [secrets]\n    providers:\n%s",
             providers);
    return parse_ok(y);
}

#define AESGCM(name, key)                                                                          \
    "      - aesgcm:\n          keys:\n            - {name: " name ", secret: " key "}\n"
#define AESGCM2(n1, k1, n2, k2)                                                                    \
    "      - aesgcm:\n          keys:\n            - {name: " n1 ", secret: " k1 "}\n"             \
    "            - {name: " n2 ", secret: " k2 "}\n"
#define IDENTITY "      - identity: {}\n"

static void seal(const tri_encrypt_t *e, const char *aad, tri_buf_t *out)
{
    bool sealed = false;
    char err[256];
    CHECK_EQ(tri_encrypt_seal(e, "secrets", aad, strlen(aad), PLAIN, strlen(PLAIN), out, &sealed,
                              err, sizeof err),
             0);
    CHECK(sealed);
}

/* Opens v; returns the status, fills flags, plaintext and message. */
static int open_val(const tri_encrypt_t *e, const char *aad, const tri_buf_t *v, tri_buf_t *out,
                    unsigned *flags, char *err, size_t errlen)
{
    tri_buf_reset(out);
    err[0] = '\0';
    return tri_encrypt_open(e, "secrets", aad, strlen(aad), v->data, v->len, out, flags, err,
                            errlen);
}

static void expect_err(const char *err, const char *want)
{
    if (strstr(err, want) == NULL) {
        fprintf(stderr, "expected a message containing \"%s\", got \"%s\"\n", want, err);
        exit(1);
    }
}

static void test_round_trip(void)
{
    tri_encrypt_t *e = config(AESGCM("key1", K1) IDENTITY);
    tri_buf_t v = {0}, v2 = {0}, out = {0};
    unsigned flags = 99;
    char err[512];
    CHECK(tri_encrypt_seals(e, "secrets"));
    CHECK(!tri_encrypt_seals(e, "configmaps"));
    seal(e, AAD, &v);
    static const char prefix[] = "k8s:enc:aesgcm:v1:key1:";
    CHECK(v.len == sizeof prefix - 1 + TRI_ENC_NONCE_BYTES + strlen(PLAIN) + TRI_ENC_TAG_BYTES);
    CHECK(memcmp(v.data, prefix, sizeof prefix - 1) == 0);
    CHECK(memmem(v.data, v.len, "aHVudGVyMg==", 12) == NULL); /* no plaintext inside */
    CHECK_EQ(open_val(e, AAD, &v, &out, &flags, err, sizeof err), 0);
    CHECK_EQ(flags, 0);
    CHECK(out.len == strlen(PLAIN) && memcmp(out.data, PLAIN, out.len) == 0);
    /* a fresh nonce per write: the same plaintext never seals the same way */
    seal(e, AAD, &v2);
    CHECK(v.len == v2.len && memcmp(v.data, v2.data, v.len) != 0);
    /* a resource without a rule is stored as is */
    bool sealed = true;
    tri_buf_t cm = {0};
    CHECK_EQ(tri_encrypt_seal(e, "configmaps", AAD, 3, "{}", 2, &cm, &sealed, err, sizeof err), 0);
    CHECK(!sealed && cm.len == 0);
    char desc[256];
    tri_encrypt_describe(e, desc, sizeof desc);
    CHECK(strcmp(desc, "secrets: aesgcm(key1) identity") == 0);
    tri_buf_free(&v);
    tri_buf_free(&v2);
    tri_buf_free(&out);
    tri_encrypt_free(e);
}

static void test_aad_and_tampering(void)
{
    tri_encrypt_t *e = config(AESGCM("key1", K1) IDENTITY);
    tri_buf_t v = {0}, out = {0};
    unsigned flags;
    char err[512];
    seal(e, AAD, &v);
    /* copied under another store key: refused */
    CHECK_EQ(open_val(e, "/registry/core/secrets/default/s2", &v, &out, &flags, err, sizeof err),
             TRI_ECORRUPT);
    expect_err(err, "failed to authenticate");
    CHECK(out.len == 0);
    /* a flipped tag bit, a flipped ciphertext bit, a flipped nonce bit */
    size_t at[] = {v.len - 1, v.len - TRI_ENC_TAG_BYTES - 1,
                   v.len - TRI_ENC_TAG_BYTES - strlen(PLAIN) - 1};
    for (size_t i = 0; i < 3; i++) {
        v.data[at[i]] ^= 0x01;
        CHECK_EQ(open_val(e, AAD, &v, &out, &flags, err, sizeof err), TRI_ECORRUPT);
        expect_err(err, "failed to authenticate");
        CHECK(out.len == 0);
        v.data[at[i]] ^= 0x01;
    }
    /* truncated */
    tri_buf_t t = {0};
    tri_buf_append(&t, v.data, 23 + 20);
    CHECK_EQ(open_val(e, AAD, &t, &out, &flags, err, sizeof err), TRI_ECORRUPT);
    expect_err(err, "truncated");
    CHECK_EQ(open_val(e, AAD, &v, &out, &flags, err, sizeof err), 0);
    tri_buf_free(&t);
    tri_buf_free(&v);
    tri_buf_free(&out);
    tri_encrypt_free(e);
}

static void test_keys(void)
{
    tri_encrypt_t *old = config(AESGCM("key1", K1) IDENTITY);
    tri_encrypt_t *rot = config(AESGCM2("key2", K2, "key1", K1) IDENTITY);
    tri_encrypt_t *only2 = config(AESGCM("key2", K2) IDENTITY);
    tri_encrypt_t *wrong = config(AESGCM("key1", K2) IDENTITY); /* same name, other secret */
    tri_buf_t v1 = {0}, v2 = {0}, out = {0};
    unsigned flags;
    char err[512];
    seal(old, AAD, &v1);
    /* rotation: the old key still reads, and says the value is stale */
    CHECK_EQ(open_val(rot, AAD, &v1, &out, &flags, err, sizeof err), 0);
    CHECK_EQ(flags, TRI_ENC_STALE);
    CHECK(out.len == strlen(PLAIN) && memcmp(out.data, PLAIN, out.len) == 0);
    /* the new first key writes */
    seal(rot, AAD, &v2);
    CHECK(memcmp(v2.data, "k8s:enc:aesgcm:v1:key2:", 23) == 0);
    CHECK_EQ(open_val(only2, AAD, &v2, &out, &flags, err, sizeof err), 0);
    CHECK_EQ(flags, 0);
    /* the old key dropped: values it wrote are refused by name */
    CHECK_EQ(open_val(only2, AAD, &v1, &out, &flags, err, sizeof err), TRI_ECORRUPT);
    expect_err(err, "key \"key1\"");
    expect_err(err, "does not list");
    /* a key of the right name but other material */
    CHECK_EQ(open_val(wrong, AAD, &v1, &out, &flags, err, sizeof err), TRI_ECORRUPT);
    expect_err(err, "aesgcm key \"key1\" failed to authenticate");
    /* no configuration at all */
    CHECK_EQ(open_val(NULL, AAD, &v1, &out, &flags, err, sizeof err), TRI_ECORRUPT);
    expect_err(err, "does not cover");
    /* a provider we do not implement */
    tri_buf_t kms = {0};
    tri_buf_append(&kms, "k8s:enc:kms:v2:x:abcdefgh", 25);
    CHECK_EQ(open_val(rot, AAD, &kms, &out, &flags, err, sizeof err), TRI_ECORRUPT);
    expect_err(err, "provider \"kms\"");
    tri_buf_free(&kms);
    tri_buf_free(&v1);
    tri_buf_free(&v2);
    tri_buf_free(&out);
    tri_encrypt_free(old);
    tri_encrypt_free(rot);
    tri_encrypt_free(only2);
    tri_encrypt_free(wrong);
}

static void test_identity(void)
{
    tri_encrypt_t *last = config(AESGCM("key1", K1) IDENTITY);
    tri_encrypt_t *first = config(IDENTITY AESGCM("key1", K1));
    tri_encrypt_t *none = config(AESGCM("key1", K1));
    tri_buf_t p = {0}, out = {0}, v = {0};
    unsigned flags;
    char err[512];
    tri_buf_append(&p, PLAIN, strlen(PLAIN));
    /* written before encryption was on: read as is, rewritten encrypted */
    CHECK_EQ(open_val(last, AAD, &p, &out, &flags, err, sizeof err), 0);
    CHECK_EQ(flags, TRI_ENC_PLAINTEXT | TRI_ENC_STALE);
    CHECK(out.len == 0);
    /* identity first: plaintext is current, nothing is sealed, encrypted values
     * still read (and are stale: turning encryption off decrypts on rewrite) */
    CHECK(!tri_encrypt_seals(first, "secrets"));
    bool sealed = true;
    CHECK_EQ(tri_encrypt_seal(first, "secrets", AAD, strlen(AAD), PLAIN, strlen(PLAIN), &v, &sealed,
                              err, sizeof err),
             0);
    CHECK(!sealed);
    CHECK_EQ(open_val(first, AAD, &p, &out, &flags, err, sizeof err), 0);
    CHECK_EQ(flags, TRI_ENC_PLAINTEXT);
    seal(last, AAD, &v);
    CHECK_EQ(open_val(first, AAD, &v, &out, &flags, err, sizeof err), 0);
    CHECK_EQ(flags, TRI_ENC_STALE);
    /* without identity, plaintext is refused */
    CHECK_EQ(open_val(none, AAD, &p, &out, &flags, err, sizeof err), TRI_ECORRUPT);
    expect_err(err, "lists no identity provider");
    /* no configuration: everything unprefixed is plaintext */
    CHECK_EQ(open_val(NULL, AAD, &p, &out, &flags, err, sizeof err), 0);
    CHECK_EQ(flags, TRI_ENC_PLAINTEXT);
    tri_buf_free(&p);
    tri_buf_free(&v);
    tri_buf_free(&out);
    tri_encrypt_free(last);
    tri_encrypt_free(first);
    tri_encrypt_free(none);
}

static void test_wildcards(void)
{
    tri_encrypt_t *e =
        parse_ok(HEAD "resources:\n"
                      "  - resources: [configmaps, deployments.apps]\n"
                      "    providers: [{identity: {}}]\n"
                      "  - resources: ['*.apps', '*.']\n"
                      "    providers: [{aesgcm: {keys: [{name: k, secret: " K1 "}]}}]\n");
    CHECK(!tri_encrypt_seals(e, "configmaps")); /* exact name wins */
    CHECK(!tri_encrypt_seals(e, "deployments.apps"));
    CHECK(tri_encrypt_seals(e, "replicasets.apps")); /* *.apps */
    CHECK(tri_encrypt_seals(e, "secrets"));          /* *. (core) */
    CHECK(!tri_encrypt_seals(e, "jobs.batch"));
    tri_encrypt_free(e);
}

static void expect_parse_error(const char *yaml, const char *want)
{
    tri_encrypt_t *e = (tri_encrypt_t *)1;
    char err[512] = "";
    int rc = tri_encrypt_parse(yaml, strlen(yaml), &e, err, sizeof err);
    if (rc != TRI_EINVAL || e != NULL) {
        fprintf(stderr, "expected TRI_EINVAL for:\n%s\ngot %d\n", yaml, rc);
        exit(1);
    }
    expect_err(err, want);
}

static void test_parse_errors(void)
{
    expect_parse_error("", "must be a mapping");
    expect_parse_error("[1, 2]", "must be a mapping");
    expect_parse_error("a: [", "line");
    expect_parse_error("apiVersion: v1\nkind: EncryptionConfiguration\nresources: []\n",
                       "apiVersion must be apiserver.config.k8s.io/v1");
    expect_parse_error("apiVersion: apiserver.config.k8s.io/v1\nkind: Foo\n",
                       "kind must be EncryptionConfiguration");
    expect_parse_error(HEAD "foo: 1\n", "unknown field \"foo\"");
    expect_parse_error(HEAD "kind: EncryptionConfiguration\n", "given twice");
    expect_parse_error(HEAD, "resources is required");
    expect_parse_error(HEAD "resources: []\n", "resources must not be empty");
    expect_parse_error(HEAD "resources:\n  - resources: [secrets]\n",
                       "resources[0].providers is required");
    expect_parse_error(HEAD "resources:\n  - resources: [secrets]\n    providers: []\n",
                       "resources[0].providers must not be empty");
    expect_parse_error(HEAD "resources:\n  - resources: [Secrets]\n"
                            "    providers: [{identity: {}}]\n",
                       "resources[0].resources[0] must be a resource name");
    expect_parse_error(HEAD
                       "resources:\n  - resources: [secrets]\n    providers: [{identity: {}}]\n"
                       "  - resources: [secrets]\n    providers: [{identity: {}}]\n",
                       "resource \"secrets\" is listed twice");
    expect_parse_error(HEAD "resources:\n  - resources: [secrets]\n"
                            "    providers: [{aescbc: {keys: [{name: k, secret: " K1 "}]}}]\n",
                       "provider \"aescbc\" is not supported");
    expect_parse_error(HEAD "resources:\n  - resources: [secrets]\n"
                            "    providers: [{identity: {}, aesgcm: {}}]\n",
                       "exactly one provider");
    expect_parse_error(HEAD "resources:\n  - resources: [secrets]\n"
                            "    providers: [{identity: {x: 1}}]\n",
                       "takes no settings");
    expect_parse_error(HEAD "resources:\n  - resources: [secrets]\n"
                            "    providers: [{aesgcm: {keys: []}}]\n",
                       "providers[0].aesgcm.keys must not be empty");
    expect_parse_error(HEAD "resources:\n  - resources: [secrets]\n"
                            "    providers: [{aesgcm: {keys: [{name: k, secret: "
                            "AAECAwQFBgcICQoLDA0ODw==}]}}]\n",
                       "decodes to 16 bytes");
    expect_parse_error(HEAD
                       "resources:\n  - resources: [secrets]\n"
                       "    providers: [{aesgcm: {keys: [{name: k, secret: 'not base64!'}]}}]\n",
                       "not valid base64");
    expect_parse_error(HEAD "resources:\n  - resources: [secrets]\n"
                            "    providers: [{aesgcm: {keys: [{name: k}]}}]\n",
                       "secret is required");
    expect_parse_error(HEAD "resources:\n  - resources: [secrets]\n"
                            "    providers: [{aesgcm: {keys: [{name: 'a:b', secret: " K1 "}]}}]\n",
                       "may not contain ':'");
    expect_parse_error(HEAD "resources:\n  - resources: [secrets]\n"
                            "    providers: [{aesgcm: {keys: [{name: k, secret: " K1 "}]}},"
                            " {aesgcm: {keys: [{name: k, secret: " K2 "}]}}]\n",
                       "key name \"k\" is used twice");
    expect_parse_error(HEAD "resources:\n  - resources: [secrets]\n"
                            "    providers: [{aesgcm: {keys: [{name: k, secret: " K1
                            ", x: 1}]}}]\n",
                       "unknown field \"x\"");
    /* a file that is not there names itself */
    tri_encrypt_t *e = NULL;
    char err[512];
    CHECK(tri_encrypt_load("/nonexistent/enc.yaml", &e, err, sizeof err) != 0);
    expect_err(err, "/nonexistent/enc.yaml");
    CHECK(e == NULL);
}

int main(void)
{
    test_round_trip();
    test_aad_and_tampering();
    test_keys();
    test_identity();
    test_wildcards();
    test_parse_errors();
    printf("ok\n");
    return 0;
}
