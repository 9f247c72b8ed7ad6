/* CertificateSigningRequests without a server: PKCS#10 parsing (PEM and DER, bad
 * signatures, wrong block types, trailing bytes), the signers' rules, the
 * resource's validation (request, signerName, usages, expirationSeconds,
 * conditions, certificate immutability) and update strategies (main, /status,
 * /approval), the cluster signer (subject, SANs, usages, lifetime and its caps,
 * the chain), and Go durations. */
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "../../server/api/resources.h"
#include "csr_fixture.h"
#include "triarch/errors.h"

#define KUBELET_USAGES "[\"digital signature\",\"key encipherment\",\"client auth\"]"

static const tri_resource_t *csr_res(void)
{
    const tri_resource_t *r =
        tri_registry_find("certificates.k8s.io", "v1", "certificatesigningrequests");
    CHECK(r != NULL);
    return r;
}

static void test_parse(void)
{
    char why[256];
    tri_csr_info_t info;
    char *pem = fx_csr_pem("O=system:nodes/CN=system:node:n1", NULL, FX_EC, false, NULL, NULL);
    CHECK_EQ(tri_csr_parse(pem, strlen(pem), &info, why, sizeof why), 0);
    CHECK_STR(info.cn, "system:node:n1");
    CHECK_EQ(info.n_orgs, 1);
    CHECK_STR(info.orgs[0], "system:nodes");
    CHECK_EQ(info.n_other_rdns, 0);
    CHECK_STR(info.key_type, "EC");
    /* text around the block is ignored, as Go's pem.Decode does */
    char wrapped[8192];
    snprintf(wrapped, sizeof wrapped, "some words\n%sand more\n", pem);
    CHECK_EQ(tri_csr_parse(wrapped, strlen(wrapped), &info, why, sizeof why), 0);
    free(pem);

    pem = fx_csr_pem("CN=x/OU=y/O=a/O=b", "DNS:a.example,IP:10.0.0.1,email:x@y,URI:spiffe://x/y",
                     FX_RSA, false, NULL, NULL);
    CHECK_EQ(tri_csr_parse(pem, strlen(pem), &info, why, sizeof why), 0);
    CHECK_STR(info.key_type, "RSA");
    CHECK_EQ(info.n_orgs, 2);
    CHECK_EQ(info.n_other_rdns, 1);
    CHECK_EQ(info.n_dns + 10 * info.n_ip + 100 * info.n_email + 1000 * info.n_uri, 1111);
    free(pem);

    /* a signature that does not verify */
    unsigned char *der;
    size_t dlen;
    pem = fx_csr_pem("CN=x", NULL, FX_EC, true, &der, &dlen);
    CHECK_EQ(tri_csr_parse(pem, strlen(pem), &info, why, sizeof why), TRI_EINVAL);
    CHECK(strstr(why, "verification") != NULL);
    CHECK_EQ(tri_csr_parse_der(der, dlen, &info, why, sizeof why), TRI_EINVAL);
    OPENSSL_free(der);
    free(pem);

    /* DER, and DER with trailing bytes */
    pem = fx_csr_pem("CN=x", NULL, FX_EC, false, &der, &dlen);
    CHECK_EQ(tri_csr_parse_der(der, dlen, &info, why, sizeof why), 0);
    unsigned char *longer = malloc(dlen + 1);
    memcpy(longer, der, dlen);
    longer[dlen] = 0;
    CHECK_EQ(tri_csr_parse_der(longer, dlen + 1, &info, why, sizeof why), TRI_EINVAL);
    CHECK_EQ(tri_csr_parse_der(der, dlen - 1, &info, why, sizeof why), TRI_EINVAL);
    free(longer);
    OPENSSL_free(der);
    free(pem);

    /* not a request */
    const char *cert = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n";
    CHECK_EQ(tri_csr_parse(cert, strlen(cert), &info, why, sizeof why), TRI_EINVAL);
    CHECK(strstr(why, "CERTIFICATE REQUEST") != NULL);
    CHECK_EQ(tri_csr_parse("hello", 5, &info, why, sizeof why), TRI_EINVAL);
    CHECK_STR(why, "PEM block not found");
    CHECK_EQ(tri_csr_parse("", 0, &info, why, sizeof why), TRI_EINVAL);
    const char *junk = "-----BEGIN CERTIFICATE REQUEST-----\n!!!!\n-----END CERTIFICATE "
                       "REQUEST-----\n";
    CHECK_EQ(tri_csr_parse(junk, strlen(junk), &info, why, sizeof why), TRI_EINVAL);
}

static int signer_check(const char *signer, const char *subject, const char *san,
                        const char *usages)
{
    char why[256];
    tri_csr_info_t info;
    char *pem = fx_csr_pem(subject, san, FX_EC, false, NULL, NULL);
    CHECK_EQ(tri_csr_parse(pem, strlen(pem), &info, why, sizeof why), 0);
    free(pem);
    json_t *u = json_loads(usages, 0, NULL);
    int rc = tri_csr_check_signer(signer, &info, u, why, sizeof why);
    json_decref(u);
    return rc;
}

static void test_signer_rules(void)
{
    const char *node = "O=system:nodes/CN=system:node:n1";
    CHECK_EQ(signer_check(TRI_SIGNER_KUBELET_CLIENT, node, NULL, KUBELET_USAGES), 1);
    CHECK_EQ(signer_check(TRI_SIGNER_KUBELET_CLIENT, node, NULL,
                          "[\"client auth\",\"digital signature\"]"),
             1);
    /* a subset that kubelet never sends, an extra usage, a SAN, other subjects */
    CHECK_EQ(signer_check(TRI_SIGNER_KUBELET_CLIENT, node, NULL, "[\"client auth\"]"), -1);
    CHECK_EQ(signer_check(TRI_SIGNER_KUBELET_CLIENT, node, NULL,
                          "[\"digital signature\",\"client auth\",\"server auth\"]"),
             -1);
    CHECK_EQ(signer_check(TRI_SIGNER_KUBELET_CLIENT, node, "DNS:n1", KUBELET_USAGES), -1);
    CHECK_EQ(signer_check(TRI_SIGNER_KUBELET_CLIENT, "O=system:nodes/CN=system:node:", NULL,
                          KUBELET_USAGES),
             -1);
    CHECK_EQ(signer_check(TRI_SIGNER_KUBELET_CLIENT,
                          "O=system:nodes/O=system:masters/"
                          "CN=system:node:n1",
                          NULL, KUBELET_USAGES),
             -1);
    CHECK_EQ(signer_check(TRI_SIGNER_KUBELET_CLIENT, "O=system:nodes/OU=x/CN=system:node:n1", NULL,
                          KUBELET_USAGES),
             -1);
    CHECK_EQ(
        signer_check(TRI_SIGNER_KUBELET_CLIENT, "O=system:nodes/CN=admin", NULL, KUBELET_USAGES),
        -1);
    /* serving: needs a DNS or IP SAN and server auth */
    const char *serving = "[\"digital signature\",\"key encipherment\",\"server auth\"]";
    CHECK_EQ(signer_check(TRI_SIGNER_KUBELET_SERVING, node, "DNS:n1,IP:10.0.0.1", serving), 1);
    CHECK_EQ(signer_check(TRI_SIGNER_KUBELET_SERVING, node, NULL, serving), -1);
    CHECK_EQ(signer_check(TRI_SIGNER_KUBELET_SERVING, node, "DNS:n1,email:a@b", serving), -1);
    CHECK_EQ(signer_check(TRI_SIGNER_KUBELET_SERVING, node, "DNS:n1", KUBELET_USAGES), -1);
    /* apiserver client: client auth required, only the two optional others */
    CHECK_EQ(signer_check(TRI_SIGNER_APISERVER_CLIENT, "CN=jane/O=devs", NULL, "[\"client auth\"]"),
             1);
    CHECK_EQ(signer_check(TRI_SIGNER_APISERVER_CLIENT, "CN=jane", NULL, "[\"digital signature\"]"),
             -1);
    CHECK_EQ(signer_check(TRI_SIGNER_APISERVER_CLIENT, "CN=jane", NULL,
                          "[\"client auth\",\"server auth\"]"),
             -1);
    /* somebody else's signer */
    CHECK_EQ(signer_check("example.com/mine", "CN=jane", NULL, "[\"client auth\"]"), 0);
    /* the replicas' peer identity is never signed through the API, by any signer */
    CHECK_EQ(signer_check(TRI_SIGNER_APISERVER_CLIENT, "CN=r1/O=triarch:replicas", NULL,
                          "[\"client auth\"]"),
             -1);
    CHECK_EQ(signer_check(TRI_SIGNER_KUBELET_SERVING, "O=triarch:replicas/CN=system:node:n1",
                          "DNS:n1", serving),
             -1);
}

/* Validation of obj (over old) by the resource: the number of causes, and the
 * first cause's field when want_field is given. */
static size_t invalid(const json_t *obj, const json_t *old, const char *want_field)
{
    tri_status_t st = {0};
    csr_res()->validate(obj, old, &st);
    size_t n = json_array_size(st.causes);
    if (want_field) {
        CHECK(n > 0);
        const char *f = json_string_value(json_object_get(json_array_get(st.causes, 0), "field"));
        if (f == NULL || strcmp(f, want_field) != 0) {
            fprintf(stderr, "expected a cause on %s, got %s\n", want_field,
                    json_dumps(st.causes, 0));
            exit(1);
        }
    }
    tri_status_clear(&st);
    return n;
}

static void test_validation(void)
{
    char *pem = fx_csr_pem("O=system:nodes/CN=system:node:n1", NULL, FX_EC, false, NULL, NULL);
    json_t *good = fx_csr_obj("c1", pem, TRI_SIGNER_KUBELET_CLIENT, KUBELET_USAGES, NULL, NULL);
    CHECK_EQ(invalid(good, NULL, NULL), 0);

    json_t *o = json_deep_copy(good);
    json_object_del(json_object_get(o, "spec"), "signerName");
    invalid(o, NULL, "spec.signerName");
    const char *bad_signers[] = {
        "nodomain",  "example.com/", "/path", "Example.com/x", "kubernetes.io/legacy-unknown",
        "example/x", "a.b/x//y"};
    for (size_t i = 0; i < sizeof bad_signers / sizeof bad_signers[0]; i++) {
        json_object_set_new(json_object_get(o, "spec"), "signerName", json_string(bad_signers[i]));
        invalid(o, NULL, "spec.signerName");
    }
    json_object_set_new(json_object_get(o, "spec"), "signerName", json_string("example.com/a/b"));
    CHECK_EQ(invalid(o, NULL, NULL), 0);
    json_decref(o);

    o = json_deep_copy(good);
    json_object_set_new(json_object_get(o, "spec"), "usages", json_array());
    invalid(o, NULL, "spec.usages");
    json_object_set_new(json_object_get(o, "spec"), "usages", json_pack("[s]", "flying"));
    invalid(o, NULL, "spec.usages[0]");
    json_object_set_new(json_object_get(o, "spec"), "usages",
                        json_pack("[s, s]", "client auth", "client auth"));
    invalid(o, NULL, "spec.usages[1]");
    json_decref(o);

    o = json_deep_copy(good);
    json_object_set_new(json_object_get(o, "spec"), "expirationSeconds", json_integer(599));
    invalid(o, NULL, "spec.expirationSeconds");
    json_object_set_new(json_object_get(o, "spec"), "expirationSeconds", json_integer(600));
    CHECK_EQ(invalid(o, NULL, NULL), 0);
    json_object_set_new(json_object_get(o, "spec"), "request", json_string("bm90IGEgQ1NS"));
    invalid(o, NULL, "spec.request");
    json_object_set_new(json_object_get(o, "spec"), "request", json_string("%%%"));
    invalid(o, NULL, "spec.request");
    json_object_del(json_object_get(o, "spec"), "request");
    invalid(o, NULL, "spec.request");
    json_decref(o);

    char *broken = fx_csr_pem("CN=x", NULL, FX_EC, true, NULL, NULL);
    o = fx_csr_obj("c2", broken, TRI_SIGNER_APISERVER_CLIENT, "[\"client auth\"]", NULL, NULL);
    invalid(o, NULL, "spec.request");
    json_decref(o);
    free(broken);

    /* conditions */
    o = json_deep_copy(good);
    fx_add_condition(o, "Approved", "True");
    CHECK_EQ(invalid(o, NULL, NULL), 0);
    json_t *approved = json_deep_copy(o);
    fx_add_condition(o, "Denied", "True");
    invalid(o, NULL, "status.conditions");
    json_decref(o);
    o = json_deep_copy(approved);
    fx_add_condition(o, "Approved", "True");
    invalid(o, NULL, "status.conditions");
    json_decref(o);
    o = json_deep_copy(good);
    fx_add_condition(o, "Approved", "False");
    invalid(o, NULL, "status.conditions[0]");
    json_decref(o);
    o = json_deep_copy(good);
    fx_add_condition(o, "SomethingElse", "Maybe");
    invalid(o, NULL, "status.conditions[0]");
    json_decref(o);
    /* an update may not remove the decision */
    invalid(good, approved, "status.conditions");
    /* certificate: PEM CERTIFICATE blocks only, and never changed once set */
    o = json_deep_copy(approved);
    json_object_set_new(json_object_get(o, "status"), "certificate", json_string("aGVsbG8="));
    invalid(o, approved, "status.certificate");
    json_decref(o);
    json_decref(approved);
    json_decref(good);
    free(pem);
}

static void test_strategies(void)
{
    const tri_resource_t *r = csr_res();
    char *pem = fx_csr_pem("CN=jane", NULL, FX_EC, false, NULL, NULL);
    json_t *old = fx_csr_obj("c1", pem, TRI_SIGNER_APISERVER_CLIENT, "[\"client auth\"]", "jane",
                             "[\"system:authenticated\"]");
    fx_add_condition(old, "Approved", "True");

    /* main resource: spec and status stay, metadata changes */
    json_t *o = json_deep_copy(old);
    json_object_set_new(json_object_get(o, "spec"), "username", json_string("mallory"));
    json_object_del(o, "status");
    json_object_set_new(json_object_get(o, "metadata"), "labels", json_pack("{s:s}", "a", "b"));
    CHECK(r->update_strategy(o, old, NULL));
    CHECK_STR(json_string_value(json_object_get(json_object_get(o, "spec"), "username")), "jane");
    CHECK(json_equal(json_object_get(o, "status"), json_object_get(old, "status")));
    CHECK(json_object_get(json_object_get(o, "metadata"), "labels") != NULL);
    json_decref(o);

    /* /status: the certificate comes in, the decision cannot change */
    o = json_deep_copy(old);
    json_object_set_new(json_object_get(o, "spec"), "signerName", json_string("x.io/y"));
    json_t *conds = json_object_get(json_object_get(o, "status"), "conditions");
    json_array_clear(conds);
    json_array_append_new(conds, json_pack("{s:s, s:s}", "type", "Denied", "status", "True"));
    json_object_set_new(json_object_get(o, "status"), "certificate", json_string("Y2VydA=="));
    CHECK(r->update_strategy(o, old, "status"));
    CHECK_STR(json_string_value(json_object_get(json_object_get(o, "spec"), "signerName")),
              TRI_SIGNER_APISERVER_CLIENT);
    conds = json_object_get(json_object_get(o, "status"), "conditions");
    CHECK_EQ(json_array_size(conds), 1);
    CHECK_STR(json_string_value(json_object_get(json_array_get(conds, 0), "type")), "Approved");
    CHECK_STR(json_string_value(json_object_get(json_object_get(o, "status"), "certificate")),
              "Y2VydA==");
    json_decref(o);

    /* /approval: only conditions; timestamps filled */
    json_t *pending = json_deep_copy(old);
    json_object_del(pending, "status");
    o = json_deep_copy(pending);
    fx_add_condition(o, "Approved", "True");
    json_object_set_new(json_object_get(o, "status"), "certificate", json_string("Y2VydA=="));
    json_object_set_new(json_object_get(o, "spec"), "username", json_string("mallory"));
    CHECK(r->update_strategy(o, pending, "approval"));
    CHECK_STR(json_string_value(json_object_get(json_object_get(o, "spec"), "username")), "jane");
    CHECK(json_object_get(json_object_get(o, "status"), "certificate") == NULL);
    json_t *c = json_array_get(json_object_get(json_object_get(o, "status"), "conditions"), 0);
    CHECK(json_is_string(json_object_get(c, "lastUpdateTime")));
    CHECK(json_is_string(json_object_get(c, "lastTransitionTime")));
    json_decref(o);
    json_decref(pending);
    json_decref(old);
    free(pem);
}

/* ---------- the signer ---------- */

static void write_pem(const char *path, X509 *x, EVP_PKEY *k)
{
    FILE *f = fopen(path, "w");
    CHECK(f != NULL);
    if (x)
        CHECK(PEM_write_X509(f, x));
    if (k)
        CHECK(PEM_write_PrivateKey(f, k, NULL, NULL, 0, NULL, NULL));
    fclose(f);
}

/* A CA valid for `days`, written to dir/ca.crt and dir/ca.key. */
static X509 *make_ca(const char *dir, long days)
{
    EVP_PKEY *k = EVP_EC_gen("P-256");
    X509 *x = X509_new();
    X509_set_version(x, 2);
    ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
    X509_gmtime_adj(X509_getm_notBefore(x), -60);
    X509_gmtime_adj(X509_getm_notAfter(x), days * 86400);
    X509_NAME_add_entry_by_txt(X509_get_subject_name(x), "CN", MBSTRING_UTF8,
                               (const unsigned char *)"test-ca", -1, -1, 0);
    X509_set_issuer_name(x, X509_get_subject_name(x));
    X509_set_pubkey(x, k);
    X509V3_CTX ctx;
    X509V3_set_ctx(&ctx, x, x, NULL, NULL, 0);
    X509_EXTENSION *e = X509V3_EXT_conf_nid(NULL, &ctx, NID_basic_constraints, "critical,CA:TRUE");
    X509_add_ext(x, e, -1);
    X509_EXTENSION_free(e);
    e = X509V3_EXT_conf_nid(NULL, &ctx, NID_subject_key_identifier, "hash");
    X509_add_ext(x, e, -1);
    X509_EXTENSION_free(e);
    CHECK(X509_sign(x, k, EVP_sha256()) > 0);
    char p[512];
    snprintf(p, sizeof p, "%s/ca.crt", dir);
    write_pem(p, x, NULL);
    snprintf(p, sizeof p, "%s/ca.key", dir);
    write_pem(p, NULL, k);
    EVP_PKEY_free(k);
    return x;
}

static X509 *sign(tri_signer_t *s, const char *subject, const char *san, const char *usages,
                  int64_t lifetime)
{
    char *pem = fx_csr_pem(subject, san, FX_EC, false, NULL, NULL);
    json_t *u = json_loads(usages, 0, NULL);
    tri_buf_t out = {0};
    char why[256];
    int rc = tri_signer_sign(s, pem, strlen(pem), u, lifetime, &out, why, sizeof why);
    if (rc != 0)
        fprintf(stderr, "sign: %s\n", why);
    CHECK_EQ(rc, 0);
    BIO *b = BIO_new_mem_buf(out.data, (int)out.len);
    X509 *x = PEM_read_bio_X509(b, NULL, NULL, NULL);
    CHECK(x != NULL);
    BIO_free(b);
    tri_buf_free(&out);
    json_decref(u);
    free(pem);
    return x;
}

static long seconds_until(const ASN1_TIME *t)
{
    int d = 0, s = 0;
    CHECK(ASN1_TIME_diff(&d, &s, NULL, t) == 1);
    return (long)d * 86400 + s;
}

static void test_signer(void)
{
    char dir[] = "/tmp/tri-csr-XXXXXX";
    CHECK(mkdtemp(dir) != NULL);
    char crt[256], key[256];
    snprintf(crt, sizeof crt, "%s/ca.crt", dir);
    snprintf(key, sizeof key, "%s/ca.key", dir);
    X509 *ca = make_ca(dir, 3650);
    tri_signer_t *s = NULL;
    char err[256];
    CHECK_EQ(tri_signer_load(crt, key, &s, err, sizeof err), 0);

    X509 *x = sign(s, "O=system:nodes/CN=system:node:n1", NULL,
                   "[\"digital signature\",\"client auth\"]", 3600);
    CHECK_EQ(X509_verify(x, X509_get0_pubkey(ca)), 1);
    CHECK_EQ(X509_NAME_cmp(X509_get_issuer_name(x), X509_get_subject_name(ca)), 0);
    char cn[64];
    X509_NAME_get_text_by_NID(X509_get_subject_name(x), NID_commonName, cn, sizeof cn);
    CHECK_STR(cn, "system:node:n1");
    CHECK(X509_get_extended_key_usage(x) & XKU_SSL_CLIENT);
    CHECK(!(X509_get_extended_key_usage(x) & XKU_SSL_SERVER));
    CHECK(X509_get_key_usage(x) & KU_DIGITAL_SIGNATURE);
    CHECK(!(X509_get_key_usage(x) & KU_KEY_CERT_SIGN));
    CHECK_EQ(X509_check_ca(x), 0);
    long left = seconds_until(X509_get0_notAfter(x));
    CHECK(left > 3500 && left <= 3600);
    CHECK(seconds_until(X509_get0_notBefore(x)) <= -290); /* backdated */
    X509_free(x);

    /* SANs copied, server auth */
    x = sign(s, "O=system:nodes/CN=system:node:n1", "DNS:n1.example,IP:10.1.2.3",
             "[\"digital signature\",\"key encipherment\",\"server auth\"]", 86400);
    CHECK_EQ(X509_check_host(x, "n1.example", 0, 0, NULL), 1);
    CHECK_EQ(X509_check_ip_asc(x, "10.1.2.3", 0), 1);
    CHECK(X509_get_extended_key_usage(x) & XKU_SSL_SERVER);
    CHECK(X509_get_key_usage(x) & KU_KEY_ENCIPHERMENT);
    X509_free(x);

    /* unknown usage: refused */
    char *pem = fx_csr_pem("CN=x", NULL, FX_EC, false, NULL, NULL);
    json_t *u = json_pack("[s]", "flying");
    tri_buf_t out = {0};
    char why[256];
    CHECK_EQ(tri_signer_sign(s, pem, strlen(pem), u, 3600, &out, why, sizeof why), TRI_EINVAL);
    json_decref(u);
    u = json_pack("[s]", "client auth");
    CHECK_EQ(tri_signer_sign(s, "junk", 4, u, 3600, &out, why, sizeof why), TRI_EINVAL);
    json_decref(u);
    free(pem);
    tri_buf_free(&out);
    tri_signer_free(s);
    X509_free(ca);

    /* never past the CA's own notAfter */
    ca = make_ca(dir, 2);
    CHECK_EQ(tri_signer_load(crt, key, &s, err, sizeof err), 0);
    x = sign(s, "CN=y", NULL, "[\"client auth\"]", 365 * 86400);
    CHECK_EQ(ASN1_TIME_compare(X509_get0_notAfter(x), X509_get0_notAfter(ca)), 0);
    X509_free(x);
    tri_signer_free(s);
    X509_free(ca);

    /* a key of another CA is refused; a missing file too */
    X509 *ca2 = make_ca(dir, 10); /* rewrites ca.key with a new key */
    char other[256];
    snprintf(other, sizeof other, "%s/other.crt", dir);
    rename(crt, other);
    X509_free(make_ca(dir, 10));
    CHECK_EQ(tri_signer_load(other, key, &s, err, sizeof err), TRI_EINVAL);
    CHECK(strstr(err, "does not match") != NULL);
    CHECK_EQ(tri_signer_load("/nonexistent/ca.crt", key, &s, err, sizeof err), TRI_EINVAL);
    X509_free(ca2);
    unlink(other);
    unlink(crt);
    unlink(key);
    rmdir(dir);

    /* lifetimes */
    CHECK_EQ(tri_signer_lifetime(0, 0), TRI_CSR_DEFAULT_DURATION_S);
    CHECK_EQ(tri_signer_lifetime(3600, 0), 3600);
    CHECK_EQ(tri_signer_lifetime(3600, 1800), 1800);
    CHECK_EQ(tri_signer_lifetime(100, 0), TRI_CSR_MIN_EXPIRATION_S);
    CHECK_EQ(tri_signer_lifetime(0, 7200), 7200);
}

static void test_durations(void)
{
    int64_t s;
    CHECK_EQ(tri_duration_parse("8760h0m0s", &s), 0);
    CHECK_EQ(s, 8760LL * 3600);
    CHECK_EQ(tri_duration_parse("1h30m", &s), 0);
    CHECK_EQ(s, 5400);
    CHECK_EQ(tri_duration_parse("600s", &s), 0);
    CHECK_EQ(s, 600);
    CHECK_EQ(tri_duration_parse("45", &s), 0);
    CHECK_EQ(s, 45);
    CHECK_EQ(tri_duration_parse("0", &s), 0);
    CHECK_EQ(s, 0);
    const char *bad[] = {"", "h", "1d", "10ms", "1.5h", "-1h", "1h30", "99999999999999h", "1 h"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        CHECK_EQ(tri_duration_parse(bad[i], &s), TRI_EINVAL);
}

int main(void)
{
    test_parse();
    test_signer_rules();
    test_validation();
    test_strategies();
    test_signer();
    test_durations();
    printf("ok\n");
    return 0;
}
