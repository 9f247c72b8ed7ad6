/* Shared by the CSR unit tests: certificate requests made with OpenSSL in a line
 * (subject, SANs, key type, optionally a broken signature), CSR objects around
 * them, and a throwaway CA. Everything is static: each test is its own
 * executable. */
#ifndef TEST_CSR_FIXTURE_H
#define TEST_CSR_FIXTURE_H

#include <jansson.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <string.h>

#include "check.h"
#include "triarch/csr.h"

enum fx_key { FX_EC = 0, FX_RSA = 1 };

/* subject: "O=system:nodes/CN=system:node:n1" (fields separated by '/');
 * san: "DNS:a,IP:1.2.3.4" or NULL. broken: flip a signature bit. Returns PEM
 * (malloc'd, NUL-terminated) or, with der_out, the DER too. */
static char *fx_csr_pem(const char *subject, const char *san, enum fx_key kt, bool broken,
                        unsigned char **der_out, size_t *der_len)
{
    EVP_PKEY *k = kt == FX_RSA ? EVP_RSA_gen(2048) : EVP_EC_gen("P-256");
    X509_REQ *req = X509_REQ_new();
    CHECK(k != NULL && req != NULL);
    X509_NAME *n = X509_REQ_get_subject_name(req);
    char buf[512];
    snprintf(buf, sizeof buf, "%s", subject);
    char *save = NULL;
    for (char *f = strtok_r(buf, "/", &save); f; f = strtok_r(NULL, "/", &save)) {
        char *eq = strchr(f, '=');
        CHECK(eq != NULL);
        *eq = '\0';
        CHECK(X509_NAME_add_entry_by_txt(n, f, MBSTRING_UTF8, (unsigned char *)eq + 1, -1, -1, 0));
    }
    CHECK(X509_REQ_set_pubkey(req, k));
    if (san) {
        STACK_OF(X509_EXTENSION) *exts = sk_X509_EXTENSION_new_null();
        X509_EXTENSION *e = X509V3_EXT_conf_nid(NULL, NULL, NID_subject_alt_name, san);
        CHECK(e != NULL);
        sk_X509_EXTENSION_push(exts, e);
        CHECK(X509_REQ_add_extensions(req, exts));
        sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
    }
    CHECK(X509_REQ_sign(req, k, EVP_sha256()) > 0);
    unsigned char *der = NULL;
    int dl = i2d_X509_REQ(req, &der);
    CHECK(dl > 0);
    if (broken)
        der[dl - 1] ^= 0x01; /* the signature's last byte */
    X509_REQ_free(req);
    EVP_PKEY_free(k);
    /* PEM of the (possibly broken) DER, written by hand: OpenSSL would re-encode */
    int b64len = 4 * ((dl + 2) / 3);
    char *b64 = malloc((size_t)b64len + 1);
    EVP_EncodeBlock((unsigned char *)b64, der, dl);
    size_t cap = (size_t)b64len + (size_t)b64len / 64 + 128;
    char *pem = malloc(cap);
    size_t off = (size_t)snprintf(pem, cap, "-----BEGIN CERTIFICATE REQUEST-----\n");
    for (int i = 0; i < b64len; i += 64)
        off += (size_t)snprintf(pem + off, cap - off, "%.*s\n", b64len - i < 64 ? b64len - i : 64,
                                b64 + i);
    snprintf(pem + off, cap - off, "-----END CERTIFICATE REQUEST-----\n");
    free(b64);
    if (der_out) {
        *der_out = der;
        *der_len = (size_t)dl;
    } else {
        OPENSSL_free(der);
    }
    return pem;
}

static char *fx_b64(const char *s)
{
    size_t n = strlen(s);
    char *out = malloc(4 * (n / 3 + 1) + 1);
    EVP_EncodeBlock((unsigned char *)out, (const unsigned char *)s, (int)n);
    return out;
}

/* A CSR object; usages: JSON array text. groups: JSON array text or NULL. */
static json_t *fx_csr_obj(const char *name, const char *pem, const char *signer, const char *usages,
                          const char *user, const char *groups)
{
    char *b = fx_b64(pem);
    json_t *o =
        json_pack("{s:s, s:s, s:{s:s}, s:{s:s, s:s, s:o}}", "apiVersion", "certificates.k8s.io/v1",
                  "kind", "CertificateSigningRequest", "metadata", "name", name, "spec", "request",
                  b, "signerName", signer, "usages", json_loads(usages, 0, NULL));
    free(b);
    json_t *spec = json_object_get(o, "spec");
    if (user)
        json_object_set_new(spec, "username", json_string(user));
    if (groups)
        json_object_set_new(spec, "groups", json_loads(groups, 0, NULL));
    return o;
}

static void fx_add_condition(json_t *csr, const char *type, const char *status)
{
    json_t *st = json_object_get(csr, "status");
    if (st == NULL) {
        st = json_object();
        json_object_set_new(csr, "status", st);
    }
    json_t *c = json_object_get(st, "conditions");
    if (c == NULL) {
        c = json_array();
        json_object_set_new(st, "conditions", c);
    }
    json_array_append_new(c, json_pack("{s:s, s:s}", "type", type, "status", status));
}

#endif
