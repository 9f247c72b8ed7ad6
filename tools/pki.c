/* Key material for a new cluster, made with OpenSSL 3's EVP and X509 APIs:
 *
 *   pki/ca.crt, ca.key          self-signed cluster CA, ECDSA P-256, 10 years
 *   pki/<member>.crt, .key      per replica; serverAuth (API clients) and clientAuth
 *                               (the replica authenticates to its peers), 1 year, SANs
 *                               127.0.0.1, localhost, the member's peer and API IPs,
 *                               the load balancer's IP and every --san
 *   pki/admin.crt, admin.key    client certificate CN=admin, O=system:masters, 1 year
 *
 * Keys are PKCS#8 PEM written 0600; certificates PEM 0644. Serial numbers are 159
 * random bits (RFC 5280 allows up to 20 octets and asks for positive values).
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "cli.h"

/* The first address of triarchd's default service-cluster-ip-range (10.96.0.0/12). A
 * cluster run with another range adds its first address with `init --san`. */
#define TRI_KUBERNETES_SERVICE_IP "10.96.0.1"
#include "triarch/errors.h"

#define TRI_CA_DAYS (10 * 365 + 3)
#define TRI_LEAF_DAYS 365
#define TRI_SECONDS_PER_DAY (24L * 60 * 60)
/* Backdate notBefore a little so that clocks slightly behind still accept new certs. */
#define TRI_BACKDATE_SECONDS (5 * 60)
#define TRI_SERIAL_BYTES 20
#define TRI_SAN_MAX 2048

typedef struct leaf_spec {
    const char *cn;
    const char *org; /* NULL for none */
    const char *san; /* "IP:1.2.3.4,DNS:x", NULL for none */
    const char *eku; /* "serverAuth,clientAuth" */
    long days;
} leaf_spec_t;

static EVP_PKEY *key_new(void)
{
    return EVP_EC_gen("P-256");
}

static int serial_set(X509 *x)
{
    unsigned char raw[TRI_SERIAL_BYTES];
    if (tri_random_bytes(raw, sizeof raw) != 0)
        return TRI_EIO;
    raw[0] &= 0x7f; /* positive */
    raw[0] |= 0x01; /* and never shorter than it looks */
    BIGNUM *bn = BN_bin2bn(raw, sizeof raw, NULL);
    if (bn == NULL)
        return TRI_ENOMEM;
    int ok = BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x)) != NULL;
    BN_free(bn);
    return ok ? 0 : TRI_ENOMEM;
}

static int name_set(X509_NAME *n, const char *cn, const char *org)
{
    if (org &&
        !X509_NAME_add_entry_by_txt(n, "O", MBSTRING_UTF8, (const unsigned char *)org, -1, -1, 0))
        return TRI_EINVAL;
    if (!X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_UTF8, (const unsigned char *)cn, -1, -1, 0))
        return TRI_EINVAL;
    return 0;
}

static int ext_add(X509 *x, X509V3_CTX *ctx, int nid, const char *value)
{
    X509_EXTENSION *ext = X509V3_EXT_conf_nid(NULL, ctx, nid, value);
    if (ext == NULL)
        return TRI_EINVAL;
    int ok = X509_add_ext(x, ext, -1);
    X509_EXTENSION_free(ext);
    return ok ? 0 : TRI_ENOMEM;
}

/* Fills the fields every certificate has. issuer == NULL means self-signed. */
static int cert_base(X509 *x, EVP_PKEY *key, X509 *issuer, const char *cn, const char *org,
                     long days)
{
    if (!X509_set_version(x, 2) || serial_set(x) != 0)
        return TRI_EINVAL;
    if (!X509_gmtime_adj(X509_getm_notBefore(x), -TRI_BACKDATE_SECONDS) ||
        !X509_gmtime_adj(X509_getm_notAfter(x), days * TRI_SECONDS_PER_DAY))
        return TRI_EINVAL;
    if (name_set(X509_get_subject_name(x), cn, org) != 0)
        return TRI_EINVAL;
    X509_NAME *iname = issuer ? X509_get_subject_name(issuer) : X509_get_subject_name(x);
    if (!X509_set_issuer_name(x, iname) || !X509_set_pubkey(x, key))
        return TRI_EINVAL;
    return 0;
}

static int key_write(const char *path, EVP_PKEY *key)
{
    BIO *mem = BIO_new(BIO_s_mem());
    if (mem == NULL)
        return TRI_ENOMEM;
    int rc = TRI_EINVAL;
    char *p;
    if (PEM_write_bio_PrivateKey(mem, key, NULL, NULL, 0, NULL, NULL)) {
        long n = BIO_get_mem_data(mem, &p);
        rc = tri_file_write(path, p, (size_t)n, 0600);
    }
    BIO_free(mem);
    return rc;
}

static int cert_write(const char *path, X509 *x)
{
    BIO *mem = BIO_new(BIO_s_mem());
    if (mem == NULL)
        return TRI_ENOMEM;
    int rc = TRI_EINVAL;
    char *p;
    if (PEM_write_bio_X509(mem, x)) {
        long n = BIO_get_mem_data(mem, &p);
        rc = tri_file_write(path, p, (size_t)n, 0644);
    }
    BIO_free(mem);
    return rc;
}

static int pair_write(const tri_cluster_t *c, const char *stem, X509 *x, EVP_PKEY *key)
{
    char path[TRI_PATH_MAX];
    if (tri_path(path, sizeof path, "%s/pki/%s.key", c->dir, stem) != 0)
        return TRI_EINVAL;
    int rc = key_write(path, key);
    if (rc != 0)
        return rc;
    if (tri_path(path, sizeof path, "%s/pki/%s.crt", c->dir, stem) != 0)
        return TRI_EINVAL;
    return cert_write(path, x);
}

static int ca_make(const tri_cluster_t *c, X509 **ca_out, EVP_PKEY **key_out)
{
    int rc = TRI_ENOMEM;
    X509 *x = X509_new();
    EVP_PKEY *key = key_new();
    char cn[64];
    snprintf(cn, sizeof cn, "triarch-ca-%.8s", c->id);
    if (x == NULL || key == NULL)
        goto err;
    rc = cert_base(x, key, NULL, cn, "triarch", TRI_CA_DAYS);
    if (rc != 0)
        goto err;
    X509V3_CTX ctx;
    X509V3_set_ctx(&ctx, x, x, NULL, NULL, 0);
    if ((rc = ext_add(x, &ctx, NID_basic_constraints, "critical,CA:TRUE")) != 0 ||
        (rc = ext_add(x, &ctx, NID_key_usage, "critical,keyCertSign,cRLSign,digitalSignature")) !=
            0 ||
        (rc = ext_add(x, &ctx, NID_subject_key_identifier, "hash")) != 0)
        goto err;
    rc = TRI_EINVAL;
    if (!X509_sign(x, key, EVP_sha256()))
        goto err;
    *ca_out = x;
    *key_out = key;
    return 0;
err:
    X509_free(x);
    EVP_PKEY_free(key);
    return rc;
}

static int leaf_make(const tri_cluster_t *c, X509 *ca, EVP_PKEY *ca_key, const char *stem,
                     const leaf_spec_t *spec)
{
    int rc = TRI_ENOMEM;
    X509 *x = X509_new();
    EVP_PKEY *key = key_new();
    if (x == NULL || key == NULL)
        goto out;
    rc = cert_base(x, key, ca, spec->cn, spec->org, spec->days);
    if (rc != 0)
        goto out;
    X509V3_CTX ctx;
    X509V3_set_ctx(&ctx, ca, x, NULL, NULL, 0);
    if ((rc = ext_add(x, &ctx, NID_basic_constraints, "critical,CA:FALSE")) != 0 ||
        (rc = ext_add(x, &ctx, NID_key_usage, "critical,digitalSignature")) != 0 ||
        (rc = ext_add(x, &ctx, NID_ext_key_usage, spec->eku)) != 0 ||
        (rc = ext_add(x, &ctx, NID_subject_key_identifier, "hash")) != 0 ||
        (rc = ext_add(x, &ctx, NID_authority_key_identifier, "keyid:always")) != 0)
        goto out;
    if (spec->san && (rc = ext_add(x, &ctx, NID_subject_alt_name, spec->san)) != 0)
        goto out;
    rc = TRI_EINVAL;
    if (!X509_sign(x, ca_key, EVP_sha256()))
        goto out;
    rc = pair_write(c, stem, x, key);
out:
    X509_free(x);
    EVP_PKEY_free(key);
    return rc;
}

/* Adds the host part of "ip:port" to ips[] unless already there. */
static void ip_collect(char ips[][TRI_ADDR_MAX], size_t *n, size_t max, const char *addr)
{
    const char *colon = strrchr(addr, ':');
    size_t len = colon ? (size_t)(colon - addr) : strlen(addr);
    if (len == 0 || len >= TRI_ADDR_MAX || *n >= max)
        return;
    for (size_t i = 0; i < *n; i++)
        if (strlen(ips[i]) == len && memcmp(ips[i], addr, len) == 0)
            return;
    memcpy(ips[*n], addr, len);
    ips[*n][len] = '\0';
    (*n)++;
}

static int is_ip_literal(const char *s)
{
    unsigned char tmp[sizeof(struct in6_addr)];
    return inet_pton(AF_INET, s, tmp) == 1 || inet_pton(AF_INET6, s, tmp) == 1;
}

/* SAN entries for a replica: loopback, localhost, its name, the `kubernetes` Service,
 * its own IPs, the LB, --san. */
static int member_san(const tri_cluster_t *c, const tri_member_t *m, tri_buf_t *san)
{
    char ips[4][TRI_ADDR_MAX];
    size_t n = 0;
    ip_collect(ips, &n, 4, "127.0.0.1:0");
    ip_collect(ips, &n, 4, m->peer);
    ip_collect(ips, &n, 4, m->api);
    if (c->lb[0])
        ip_collect(ips, &n, 4, c->lb);
    /* and what in-cluster clients dial: the `kubernetes` Service's names and its
     * ClusterIP in the default service-cluster-ip-range (kubeadm's SANs) */
    int rc = tri_buf_appendf(san, "DNS:localhost,DNS:%s,DNS:kubernetes,DNS:kubernetes.default,"
                                  "DNS:kubernetes.default.svc,"
                                  "DNS:kubernetes.default.svc.cluster.local,IP:%s",
                             m->name, TRI_KUBERNETES_SERVICE_IP);
    for (size_t i = 0; rc == 0 && i < n; i++)
        rc = tri_buf_appendf(san, ",IP:%s", ips[i]);
    for (size_t i = 0; rc == 0 && i < c->n_sans; i++)
        rc = tri_buf_appendf(san, ",%s:%s", is_ip_literal(c->sans[i]) ? "IP" : "DNS", c->sans[i]);
    if (rc == 0)
        rc = tri_buf_append(san, "", 1);
    return rc;
}

/* The service-account signing key (RSA 2048, RS256 as kubeadm's sa.key): sa.key
 * (0600) signs tokens, sa.pub lets a replica verify them. */
static int sa_key_make(const tri_cluster_t *c)
{
    char path[TRI_PATH_MAX];
    EVP_PKEY *k = EVP_RSA_gen(2048);
    if (k == NULL)
        return TRI_ENOMEM;
    int rc = tri_path(path, sizeof path, "%s/pki/sa.key", c->dir);
    if (rc == 0)
        rc = key_write(path, k);
    BIO *mem = rc == 0 ? BIO_new(BIO_s_mem()) : NULL;
    char *p;
    if (rc == 0 && (mem == NULL || PEM_write_bio_PUBKEY(mem, k) != 1))
        rc = TRI_ENOMEM;
    if (rc == 0)
        rc = tri_path(path, sizeof path, "%s/pki/sa.pub", c->dir);
    if (rc == 0) {
        long n = BIO_get_mem_data(mem, &p);
        rc = tri_file_write(path, p, (size_t)n, 0644);
    }
    BIO_free(mem);
    EVP_PKEY_free(k);
    return rc;
}

X509 *tri_pki_read_cert(const char *path)
{
    BIO *b = BIO_new_file(path, "r");
    X509 *x = b ? PEM_read_bio_X509(b, NULL, NULL, NULL) : NULL;
    BIO_free(b);
    ERR_clear_error();
    return x;
}

EVP_PKEY *tri_pki_read_key(const char *path)
{
    BIO *b = BIO_new_file(path, "r");
    EVP_PKEY *k = b ? PEM_read_bio_PrivateKey(b, NULL, NULL, NULL) : NULL;
    BIO_free(b);
    ERR_clear_error();
    return k;
}

/* A replica's certificate: CN = its name, O=triarch:replicas, serving and client. */
static int member_leaf(const tri_cluster_t *c, X509 *ca, EVP_PKEY *ca_key, const tri_member_t *m)
{
    tri_buf_t san = {0};
    int rc = member_san(c, m, &san);
    leaf_spec_t spec = {.cn = m->name,
                        .org = "triarch:replicas",
                        .san = san.data,
                        .eku = "serverAuth,clientAuth",
                        .days = TRI_LEAF_DAYS};
    if (rc == 0)
        rc = leaf_make(c, ca, ca_key, m->name, &spec);
    tri_buf_free(&san);
    return rc;
}

int tri_pki_issue_member(const tri_cluster_t *c, const tri_member_t *m)
{
    char crt[TRI_PATH_MAX], key[TRI_PATH_MAX];
    if (tri_path(crt, sizeof crt, "%s/pki/ca.crt", c->dir) != 0 ||
        tri_path(key, sizeof key, "%s/pki/ca.key", c->dir) != 0)
        return TRI_EINVAL;
    X509 *ca = tri_pki_read_cert(crt);
    EVP_PKEY *ca_key = tri_pki_read_key(key);
    int rc = ca && ca_key ? member_leaf(c, ca, ca_key, m) : TRI_ENOENT;
    X509_free(ca);
    EVP_PKEY_free(ca_key);
    return rc;
}

int tri_pki_create(const tri_cluster_t *c)
{
    char dir[TRI_PATH_MAX];
    if (tri_path(dir, sizeof dir, "%s/pki", c->dir) != 0 || tri_mkdir_p(dir, 0700) != 0)
        return TRI_EIO;
    X509 *ca = NULL;
    EVP_PKEY *ca_key = NULL;
    int rc = ca_make(c, &ca, &ca_key);
    if (rc != 0)
        return rc;
    rc = pair_write(c, "ca", ca, ca_key);
    for (size_t i = 0; rc == 0 && i < c->n_members; i++)
        rc = member_leaf(c, ca, ca_key, &c->members[i]);
    leaf_spec_t admin = {.cn = "admin",
                         .org = "system:masters",
                         .san = NULL,
                         .eku = "clientAuth",
                         .days = TRI_LEAF_DAYS};
    if (rc == 0)
        rc = leaf_make(c, ca, ca_key, "admin", &admin);
    /* what the API server presents to agents (logs, exec, port-forward), as kubeadm's
     * apiserver-kubelet-client: agents authorize it through the cluster's RBAC */
    leaf_spec_t to_agents = {.cn = "kube-apiserver-kubelet-client",
                             .org = "kubeadm:cluster-admins",
                             .san = NULL,
                             .eku = "clientAuth",
                             .days = TRI_LEAF_DAYS};
    if (rc == 0)
        rc = leaf_make(c, ca, ca_key, "apiserver-kubelet-client", &to_agents);
    if (rc == 0)
        rc = sa_key_make(c);
    X509_free(ca);
    EVP_PKEY_free(ca_key);
    return rc;
}
