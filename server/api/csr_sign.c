/* The cluster signer (see triarch/csr.h): issues certificates for approved
 * requests with the cluster CA, as kube-controller-manager's csrsigning controller
 * does with --cluster-signing-cert-file/--cluster-signing-key-file.
 *
 * The certificate takes from the request only its subject, its public key and its
 * subjectAltNames; key usage and extended key usage come from spec.usages (which
 * the API validated), everything else the request carried is dropped. The CA key
 * stays in this process's memory; only the issued certificate goes to the store. */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "triarch/csr.h"
#include "triarch/errors.h"

/* Backdate notBefore so that a node whose clock is a little behind accepts a
 * fresh certificate (Kubernetes' signer backdates 5 minutes too). */
#define BACKDATE_S (5 * 60)
#define SERIAL_BYTES 20

struct tri_signer {
    X509 *ca;
    EVP_PKEY *key;
};

static X509 *read_cert(const char *path)
{
    BIO *b = BIO_new_file(path, "r");
    X509 *x = b ? PEM_read_bio_X509(b, NULL, NULL, NULL) : NULL;
    BIO_free(b);
    return x;
}

static EVP_PKEY *read_key(const char *path)
{
    BIO *b = BIO_new_file(path, "r");
    EVP_PKEY *k = b ? PEM_read_bio_PrivateKey(b, NULL, NULL, NULL) : NULL;
    BIO_free(b);
    return k;
}

int tri_signer_load(const char *cert_file, const char *key_file, tri_signer_t **out, char *err,
                    size_t errlen)
{
    tri_signer_t *s = calloc(1, sizeof *s);
    if (s == NULL)
        return TRI_ENOMEM;
    int rc = TRI_EINVAL;
    if ((s->ca = read_cert(cert_file)) == NULL)
        snprintf(err, errlen, "cannot read the signing CA certificate %s", cert_file);
    else if ((s->key = read_key(key_file)) == NULL)
        snprintf(err, errlen, "cannot read the signing CA key %s", key_file);
    else if (X509_check_private_key(s->ca, s->key) != 1)
        snprintf(err, errlen, "the signing key %s does not match the certificate %s", key_file,
                 cert_file);
    else if (X509_check_ca(s->ca) == 0)
        snprintf(err, errlen, "the signing certificate %s is not a CA", cert_file);
    else
        rc = 0;
    ERR_clear_error();
    if (rc != 0) {
        tri_signer_free(s);
        return rc;
    }
    *out = s;
    return 0;
}

void tri_signer_free(tri_signer_t *s)
{
    if (s == NULL)
        return;
    X509_free(s->ca);
    EVP_PKEY_free(s->key);
    free(s);
}

int64_t tri_signer_lifetime(int64_t expiration_seconds, int64_t max_s)
{
    if (max_s <= 0)
        max_s = TRI_CSR_DEFAULT_DURATION_S;
    int64_t t = expiration_seconds > 0 && expiration_seconds < max_s ? expiration_seconds : max_s;
    return t < TRI_CSR_MIN_EXPIRATION_S ? TRI_CSR_MIN_EXPIRATION_S : t;
}

/* ---------- usages to extensions ---------- */

typedef struct usage_map {
    const char *usage;
    const char *ku;  /* keyUsage name for X509V3_EXT_conf, or NULL */
    const char *eku; /* extendedKeyUsage name, or NULL */
} usage_map_t;

static const usage_map_t usage_maps[] = {
    {"signing", "digitalSignature", NULL},
    {"digital signature", "digitalSignature", NULL},
    {"content commitment", "nonRepudiation", NULL},
    {"key encipherment", "keyEncipherment", NULL},
    {"key agreement", "keyAgreement", NULL},
    {"data encipherment", "dataEncipherment", NULL},
    {"cert sign", "keyCertSign", NULL},
    {"crl sign", "cRLSign", NULL},
    {"encipher only", "encipherOnly", NULL},
    {"decipher only", "decipherOnly", NULL},
    {"any", NULL, "anyExtendedKeyUsage"},
    {"server auth", NULL, "serverAuth"},
    {"client auth", NULL, "clientAuth"},
    {"code signing", NULL, "codeSigning"},
    {"email protection", NULL, "emailProtection"},
    {"s/mime", NULL, "emailProtection"},
    {"ipsec end system", NULL, "ipsecEndSystem"},
    {"ipsec tunnel", NULL, "ipsecTunnel"},
    {"ipsec user", NULL, "ipsecUser"},
    {"timestamping", NULL, "timeStamping"},
    {"ocsp signing", NULL, "OCSPSigning"},
    {"microsoft sgc", NULL, "msSGC"},
    {"netscape sgc", NULL, "nsSGC"},
};

static void list_add(char *list, size_t len, const char *item)
{
    if (strstr(list, item) != NULL)
        return; /* "signing" and "digital signature" are the same bit */
    size_t n = strlen(list);
    snprintf(list + n, len - n, "%s%s", n ? "," : "", item);
}

static int usage_lists(const json_t *usages, char *ku, char *eku, size_t len)
{
    ku[0] = eku[0] = '\0';
    size_t i;
    json_t *v;
    json_array_foreach(usages, i, v)
    {
        const char *u = json_string_value(v);
        const usage_map_t *m = NULL;
        for (size_t j = 0; u && j < sizeof usage_maps / sizeof usage_maps[0]; j++)
            if (strcmp(usage_maps[j].usage, u) == 0)
                m = &usage_maps[j];
        if (m == NULL)
            return TRI_EINVAL;
        if (m->ku)
            list_add(ku, len, m->ku);
        if (m->eku)
            list_add(eku, len, m->eku);
    }
    return 0;
}

/* ---------- the certificate ---------- */

static int ext_add(X509 *x, X509V3_CTX *ctx, int nid, const char *value)
{
    X509_EXTENSION *ext = X509V3_EXT_conf_nid(NULL, ctx, nid, value);
    if (ext == NULL)
        return TRI_EINVAL;
    int ok = X509_add_ext(x, ext, -1);
    X509_EXTENSION_free(ext);
    return ok ? 0 : TRI_ENOMEM;
}

static int serial_set(X509 *x)
{
    unsigned char raw[SERIAL_BYTES];
    if (tri_random_bytes(raw, sizeof raw) != 0)
        return TRI_EIO;
    raw[0] &= 0x7f; /* positive (RFC 5280 4.1.2.2) */
    raw[0] |= 0x01;
    BIGNUM *bn = BN_bin2bn(raw, sizeof raw, NULL);
    int ok = bn && BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x)) != NULL;
    BN_free(bn);
    return ok ? 0 : TRI_ENOMEM;
}

/* The request's subjectAltName extension, copied as it is (NULL: none). */
static X509_EXTENSION *request_san(X509_REQ *req)
{
    STACK_OF(X509_EXTENSION) *exts = X509_REQ_get_extensions(req);
    X509_EXTENSION *found = NULL;
    for (int i = 0; exts && i < sk_X509_EXTENSION_num(exts) && !found; i++) {
        X509_EXTENSION *e = sk_X509_EXTENSION_value(exts, i);
        if (OBJ_obj2nid(X509_EXTENSION_get_object(e)) == NID_subject_alt_name)
            found = X509_EXTENSION_dup(e);
    }
    sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
    return found;
}

static int set_validity(const tri_signer_t *s, X509 *x, int64_t lifetime_s, char *why, size_t wl)
{
    time_t now = time(NULL);
    if (X509_cmp_time(X509_get0_notAfter(s->ca), &now) <= 0) {
        snprintf(why, wl, "the signing CA certificate has expired");
        return TRI_EINVAL;
    }
    if (!X509_gmtime_adj(X509_getm_notBefore(x), -BACKDATE_S) ||
        !X509_gmtime_adj(X509_getm_notAfter(x), (long)lifetime_s))
        return TRI_EINVAL;
    /* never beyond the CA's own validity */
    if (ASN1_TIME_compare(X509_get0_notAfter(x), X509_get0_notAfter(s->ca)) > 0 &&
        !X509_set1_notAfter(x, X509_get0_notAfter(s->ca)))
        return TRI_EINVAL;
    return 0;
}

static int build(const tri_signer_t *s, X509_REQ *req, X509 *x, const json_t *usages,
                 int64_t lifetime_s, char *why, size_t wl)
{
    char ku[256], eku[256];
    if (usage_lists(usages, ku, eku, sizeof ku) != 0) {
        snprintf(why, wl, "unknown key usage");
        return TRI_EINVAL;
    }
    EVP_PKEY *pub = X509_REQ_get0_pubkey(req);
    if (!X509_set_version(x, 2) || serial_set(x) != 0 || pub == NULL || !X509_set_pubkey(x, pub) ||
        !X509_set_subject_name(x, X509_REQ_get_subject_name(req)) ||
        !X509_set_issuer_name(x, X509_get_subject_name(s->ca)))
        return TRI_EINVAL;
    if (set_validity(s, x, lifetime_s, why, wl) != 0)
        return TRI_EINVAL;
    X509V3_CTX ctx;
    X509V3_set_ctx(&ctx, s->ca, x, NULL, NULL, 0);
    char kuv[300];
    snprintf(kuv, sizeof kuv, "critical,%s", ku);
    if (ext_add(x, &ctx, NID_basic_constraints, "critical,CA:FALSE") != 0 ||
        (ku[0] && ext_add(x, &ctx, NID_key_usage, kuv) != 0) ||
        (eku[0] && ext_add(x, &ctx, NID_ext_key_usage, eku) != 0) ||
        ext_add(x, &ctx, NID_authority_key_identifier, "keyid:always") != 0)
        return TRI_EINVAL;
    X509_EXTENSION *san = request_san(req);
    int ok = san == NULL || X509_add_ext(x, san, -1);
    X509_EXTENSION_free(san);
    /* Ed25519 CA keys take no digest */
    const EVP_MD *md = EVP_PKEY_get_base_id(s->key) == EVP_PKEY_ED25519 ? NULL : EVP_sha256();
    if (!ok || !X509_sign(x, s->key, md))
        return TRI_EINVAL;
    return 0;
}

static X509_REQ *load_request(const void *pem, size_t len, char *why, size_t wl)
{
    tri_csr_info_t info;
    if (tri_csr_parse(pem, len, &info, why, wl) != 0)
        return NULL; /* also verifies the request's signature */
    const char *begin = memmem(pem, len, "-----BEGIN ", 11);
    BIO *b = BIO_new_mem_buf(begin, (int)(len - (size_t)(begin - (const char *)pem)));
    X509_REQ *req = b ? PEM_read_bio_X509_REQ(b, NULL, NULL, NULL) : NULL;
    BIO_free(b);
    if (req == NULL)
        snprintf(why, wl, "cannot read the certificate request");
    return req;
}

int tri_signer_sign(const tri_signer_t *s, const void *csr_pem, size_t len, const json_t *usages,
                    int64_t lifetime_s, tri_buf_t *out, char *why, size_t wl)
{
    if (wl)
        why[0] = '\0';
    X509_REQ *req = load_request(csr_pem, len, why, wl);
    if (req == NULL) {
        ERR_clear_error();
        return TRI_EINVAL;
    }
    X509 *x = X509_new();
    BIO *mem = BIO_new(BIO_s_mem());
    int rc = TRI_ENOMEM;
    if (x && mem) {
        rc = build(s, req, x, usages, lifetime_s, why, wl);
        if (rc != 0 && why[0] == '\0')
            snprintf(why, wl, "cannot build the certificate");
    }
    char *p;
    if (rc == 0 && PEM_write_bio_X509(mem, x) == 1) {
        long n = BIO_get_mem_data(mem, &p);
        rc = tri_buf_append(out, p, (size_t)n);
    } else if (rc == 0) {
        rc = TRI_ENOMEM;
    }
    BIO_free(mem);
    X509_free(x);
    X509_REQ_free(req);
    ERR_clear_error();
    return rc;
}
