/* PKCS#10 requests as Kubernetes reads them (see triarch/csr.h): the first PEM
 * block must be a "CERTIFICATE REQUEST", its DER a request whose self-signature
 * verifies; then the subject and subjectAltNames are read for the signers' rules.
 *
 * Everything comes from outside the process (a CSR body), so every OpenSSL call is
 * checked, sizes are bounded before parsing, and the DER must be consumed whole. A
 * fuzz target (tests/fuzz/fuzz_csr.c) runs both entry points. */
#include <stdio.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "triarch/csr.h"
#include "triarch/errors.h"

#define PEM_REQ_BEGIN "-----BEGIN CERTIFICATE REQUEST-----"

/* Kubernetes' KeyUsage values (k8s.io/api/certificates/v1 types.go). */
const char *const tri_csr_usages[] = {
    "signing",
    "digital signature",
    "content commitment",
    "key encipherment",
    "key agreement",
    "data encipherment",
    "cert sign",
    "crl sign",
    "encipher only",
    "decipher only",
    "any",
    "server auth",
    "client auth",
    "code signing",
    "email protection",
    "s/mime",
    "ipsec end system",
    "ipsec tunnel",
    "ipsec user",
    "timestamping",
    "ocsp signing",
    "microsoft sgc",
    "netscape sgc",
    NULL,
};

bool tri_csr_usage_valid(const char *usage)
{
    for (size_t i = 0; usage && tri_csr_usages[i]; i++)
        if (strcmp(usage, tri_csr_usages[i]) == 0)
            return true;
    return false;
}

static int fail(char *why, size_t wl, const char *msg)
{
    snprintf(why, wl, "%s", msg);
    ERR_clear_error();
    return TRI_EINVAL;
}

/* ---------- subject and extensions ---------- */

static void read_subject(X509_REQ *req, tri_csr_info_t *info)
{
    const X509_NAME *name = X509_REQ_get_subject_name(req);
    int n = name ? X509_NAME_entry_count(name) : 0;
    for (int i = 0; i < n; i++) {
        const X509_NAME_ENTRY *e = X509_NAME_get_entry(name, i);
        int nid = OBJ_obj2nid(X509_NAME_ENTRY_get_object(e));
        const ASN1_STRING *v = X509_NAME_ENTRY_get_data(e);
        unsigned char *utf8 = NULL;
        int len = v ? ASN1_STRING_to_UTF8(&utf8, v) : -1;
        if (nid == NID_commonName && len >= 0) {
            if (info->n_cn++ == 0)
                snprintf(info->cn, sizeof info->cn, "%.*s", len, (const char *)utf8);
        } else if (nid == NID_organizationName && len >= 0 && info->n_orgs < TRI_CSR_MAX_ORGS) {
            snprintf(info->orgs[info->n_orgs++], sizeof info->orgs[0], "%.*s", len,
                     (const char *)utf8);
        } else {
            info->n_other_rdns++; /* other attributes, and organizations beyond the cap */
        }
        OPENSSL_free(utf8);
    }
}

static void read_sans(X509_REQ *req, tri_csr_info_t *info)
{
    STACK_OF(X509_EXTENSION) *exts = X509_REQ_get_extensions(req);
    if (exts == NULL) {
        ERR_clear_error();
        return;
    }
    for (int i = 0; i < sk_X509_EXTENSION_num(exts); i++) {
        X509_EXTENSION *ext = sk_X509_EXTENSION_value(exts, i);
        if (OBJ_obj2nid(X509_EXTENSION_get_object(ext)) != NID_subject_alt_name)
            continue;
        GENERAL_NAMES *gens = X509V3_EXT_d2i(ext);
        for (int j = 0; gens && j < sk_GENERAL_NAME_num(gens); j++) {
            switch (sk_GENERAL_NAME_value(gens, j)->type) {
            case GEN_DNS:
                info->n_dns++;
                break;
            case GEN_IPADD:
                info->n_ip++;
                break;
            case GEN_EMAIL:
                info->n_email++;
                break;
            case GEN_URI:
                info->n_uri++;
                break;
            default:
                info->n_other_rdns++; /* a SAN kind no signer issues: never a kubelet's */
                break;
            }
        }
        GENERAL_NAMES_free(gens);
    }
    sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
    ERR_clear_error();
}

static void read_key_type(EVP_PKEY *pk, tri_csr_info_t *info)
{
    const char *t = "unknown";
    switch (EVP_PKEY_get_base_id(pk)) {
    case EVP_PKEY_RSA:
        t = "RSA";
        break;
    case EVP_PKEY_EC:
        t = "EC";
        break;
    case EVP_PKEY_ED25519:
        t = "ED25519";
        break;
    default:
        break;
    }
    snprintf(info->key_type, sizeof info->key_type, "%s", t);
}

/* ---------- parsing ---------- */

int tri_csr_parse_der(const void *der, size_t len, tri_csr_info_t *info, char *why, size_t wl)
{
    if (len == 0 || len > TRI_CSR_MAX_BYTES)
        return fail(why, wl, len ? "certificate request too large" : "empty certificate request");
    const unsigned char *p = der;
    X509_REQ *req = d2i_X509_REQ(NULL, &p, (long)len);
    if (req == NULL)
        return fail(why, wl, "x509: malformed certificate request");
    if ((size_t)(p - (const unsigned char *)der) != len) {
        X509_REQ_free(req);
        return fail(why, wl, "x509: trailing data after the certificate request");
    }
    EVP_PKEY *pk = X509_REQ_get0_pubkey(req);
    if (pk == NULL) {
        X509_REQ_free(req);
        return fail(why, wl, "x509: certificate request has an unreadable public key");
    }
    if (X509_REQ_verify(req, pk) != 1) {
        X509_REQ_free(req);
        return fail(why, wl,
                    "x509: ECDSA/RSA verification failure: the request's signature "
                    "does not match its public key");
    }
    tri_csr_info_t tmp;
    tri_csr_info_t *in = info ? info : &tmp;
    memset(in, 0, sizeof *in);
    read_subject(req, in);
    read_sans(req, in);
    read_key_type(pk, in);
    X509_REQ_free(req);
    ERR_clear_error();
    return 0;
}

int tri_csr_parse(const void *pem, size_t len, tri_csr_info_t *info, char *why, size_t wl)
{
    if (len == 0 || len > TRI_CSR_MAX_BYTES)
        return fail(why, wl, len ? "certificate request too large" : "PEM block not found");
    /* Go's pem.Decode takes the first block whatever its type; so do we */
    const char *begin = memmem(pem, len, "-----BEGIN ", 11);
    if (begin == NULL)
        return fail(why, wl, "PEM block not found");
    size_t off = (size_t)(begin - (const char *)pem);
    if (len - off < strlen(PEM_REQ_BEGIN) || memcmp(begin, PEM_REQ_BEGIN, strlen(PEM_REQ_BEGIN)))
        return fail(why, wl, "PEM block type must be CERTIFICATE REQUEST");
    BIO *b = BIO_new_mem_buf(begin, (int)(len - off));
    if (b == NULL)
        return fail(why, wl, "out of memory");
    char *name = NULL, *header = NULL;
    unsigned char *der = NULL;
    long dlen = 0;
    int ok = PEM_read_bio(b, &name, &header, &der, &dlen);
    BIO_free(b);
    int rc;
    if (!ok || name == NULL || strcmp(name, "CERTIFICATE REQUEST") != 0)
        rc = fail(why, wl, "PEM block not found");
    else if (header != NULL && header[0] != '\0')
        rc = fail(why, wl, "PEM block must have no headers");
    else
        rc = tri_csr_parse_der(der, (size_t)dlen, info, why, wl);
    OPENSSL_free(name);
    OPENSSL_free(header);
    OPENSSL_free(der);
    return rc;
}

int tri_csr_request_pem(const json_t *csr, tri_buf_t *pem, char *why, size_t wl)
{
    const char *b64 = json_string_value(json_object_get(json_object_get(csr, "spec"), "request"));
    if (b64 == NULL || b64[0] == '\0') {
        snprintf(why, wl, "spec.request is required");
        return TRI_EINVAL;
    }
    size_t n = strlen(b64);
    if (n % 4 != 0 || n / 4 * 3 > TRI_CSR_MAX_BYTES) {
        snprintf(why, wl,
                 n % 4 ? "spec.request is not valid base64" : "certificate request too large");
        return TRI_EINVAL;
    }
    tri_buf_reset(pem);
    if (tri_buf_reserve(pem, n / 4 * 3 + 1) != 0)
        return TRI_ENOMEM;
    int got = EVP_DecodeBlock((unsigned char *)pem->data, (const unsigned char *)b64, (int)n);
    if (got < 0) {
        snprintf(why, wl, "spec.request is not valid base64");
        return TRI_EINVAL;
    }
    size_t pad = (n >= 1 && b64[n - 1] == '=') + (n >= 2 && b64[n - 2] == '=');
    pem->len = (size_t)got - pad;
    pem->data[pem->len] = '\0';
    return 0;
}

/* ---------- the signers' rules ---------- */

static bool has_usage(const json_t *usages, const char *u)
{
    size_t i;
    json_t *v;
    json_array_foreach(usages, i, v)
    {
        const char *s = json_string_value(v);
        if (s && strcmp(s, u) == 0)
            return true;
    }
    return false;
}

/* usages is exactly one of the two sets (order free, no duplicates: validation
 * refuses duplicates before this runs). */
static bool usages_are(const json_t *usages, const char *const *want, size_t n)
{
    if (!json_is_array(usages) || json_array_size(usages) != n)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!has_usage(usages, want[i]))
            return false;
    return true;
}

static bool usages_are_either(const json_t *usages, const char *third)
{
    const char *full[] = {"digital signature", "key encipherment", third};
    const char *no_rsa[] = {"digital signature", third};
    return usages_are(usages, full, 3) || usages_are(usages, no_rsa, 2);
}

static bool orgs_system_nodes(const tri_csr_info_t *info)
{
    return info->n_orgs == 1 && strcmp(info->orgs[0], "system:nodes") == 0;
}

static bool cn_is_node(const tri_csr_info_t *info)
{
    static const char prefix[] = "system:node:";
    return info->n_cn == 1 && strncmp(info->cn, prefix, sizeof prefix - 1) == 0 &&
           info->cn[sizeof prefix - 1] != '\0';
}

static int kubelet_client_why(const tri_csr_info_t *info, const json_t *usages, char *why,
                              size_t wl)
{
    if (!orgs_system_nodes(info))
        snprintf(why, wl, "subject organization is not system:nodes");
    else if (info->n_dns || info->n_ip || info->n_email || info->n_uri)
        snprintf(why, wl, "subjectAltNames are not allowed for kubelet client certificates");
    else if (!cn_is_node(info))
        snprintf(why, wl, "subject common name does not begin with system:node:");
    else if (info->n_other_rdns)
        snprintf(why, wl, "subject may only have CN and O");
    else if (!usages_are_either(usages, "client auth"))
        snprintf(why, wl, "usages did not match [client auth digital signature key encipherment]");
    else
        return 1;
    return -1;
}

bool tri_csr_is_kubelet_client(const tri_csr_info_t *info, const json_t *usages)
{
    char why[128];
    return kubelet_client_why(info, usages, why, sizeof why) == 1;
}

static int kubelet_serving_why(const tri_csr_info_t *info, const json_t *usages, char *why,
                               size_t wl)
{
    if (!orgs_system_nodes(info))
        snprintf(why, wl, "subject organization is not system:nodes");
    else if (info->n_dns == 0 && info->n_ip == 0)
        snprintf(why, wl, "DNS or IP subjectAltName is required");
    else if (info->n_email || info->n_uri)
        snprintf(why, wl, "Email and URI subjectAltNames are not allowed");
    else if (!usages_are_either(usages, "server auth"))
        snprintf(why, wl, "usages did not match [digital signature key encipherment server auth]");
    else if (!cn_is_node(info))
        snprintf(why, wl, "subject common name does not begin with system:node:");
    else
        return 1;
    return -1;
}

static int apiserver_client_why(const json_t *usages, char *why, size_t wl)
{
    bool client = false;
    size_t i;
    json_t *v;
    json_array_foreach(usages, i, v)
    {
        const char *u = json_string_value(v);
        if (u && strcmp(u, "client auth") == 0) {
            client = true;
        } else if (!u || (strcmp(u, "digital signature") && strcmp(u, "key encipherment"))) {
            snprintf(why, wl, "invalid usage for client certificate: %s", u ? u : "");
            return -1;
        }
    }
    if (!client) {
        snprintf(why, wl, "missing required usage for client certificate: client auth");
        return -1;
    }
    return 1;
}

int tri_csr_check_signer(const char *signer, const tri_csr_info_t *info, const json_t *usages,
                         char *why, size_t wl)
{
    if (signer == NULL)
        return 0;
    /* O=triarch:replicas is how replicas know each other on the peer channel
     * (docs/adr/0005): only `triarch init` may issue it, never a signer here */
    for (size_t i = 0; i < info->n_orgs; i++) {
        if (strcmp(info->orgs[i], "triarch:replicas") == 0) {
            snprintf(why, wl, "the organization triarch:replicas is reserved for replica "
                              "certificates and is never signed through the API");
            return -1;
        }
    }
    if (strcmp(signer, TRI_SIGNER_KUBELET_CLIENT) == 0)
        return kubelet_client_why(info, usages, why, wl);
    if (strcmp(signer, TRI_SIGNER_KUBELET_SERVING) == 0)
        return kubelet_serving_why(info, usages, why, wl);
    if (strcmp(signer, TRI_SIGNER_APISERVER_CLIENT) == 0)
        return apiserver_client_why(usages, why, wl);
    return 0;
}

bool tri_csr_has_condition(const json_t *csr, const char *type)
{
    json_t *conds = json_object_get(json_object_get(csr, "status"), "conditions");
    size_t i;
    json_t *c;
    json_array_foreach(conds, i, c) {
        const char *t = json_string_value(json_object_get(c, "type"));
        if (t && strcmp(t, type) == 0)
            return true;
    }
    return false;
}
