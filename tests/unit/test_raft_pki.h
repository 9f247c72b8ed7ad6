/* Certificates for the raft unit tests, made with OpenSSL in the test's temp dir the
 * way `triarch init` makes them (tools/pki.c): an ECDSA P-256 CA and leaves with
 * CN = member name, O = triarch:replicas, serverAuth + clientAuth. Tests also make
 * the ones a peer must be refused for: another CA, expired, a non-member CN, a
 * client certificate of another kind (admin).
 *
 * Included by test_raft_harness.h; everything here is static.
 */
#ifndef TEST_RAFT_PKI_H
#define TEST_RAFT_PKI_H

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

typedef struct h_ca {
    X509 *crt;
    EVP_PKEY *key;
} h_ca_t;

static __attribute__((unused)) void h_pki_ext(X509 *x, X509 *issuer, int nid, const char *v)
{
    X509V3_CTX ctx;
    X509V3_set_ctx(&ctx, issuer, x, NULL, NULL, 0);
    X509_EXTENSION *e = X509V3_EXT_conf_nid(NULL, &ctx, nid, v);
    if (e == NULL || !X509_add_ext(x, e, -1)) {
        fprintf(stderr, "test pki: extension %d=%s failed\n", nid, v);
        exit(1);
    }
    X509_EXTENSION_free(e);
}

static __attribute__((unused)) void h_pki_name(X509 *x, const char *cn, const char *org)
{
    X509_NAME *n = X509_get_subject_name(x);
    if (org)
        X509_NAME_add_entry_by_txt(n, "O", MBSTRING_UTF8, (const unsigned char *)org, -1, -1, 0);
    X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_UTF8, (const unsigned char *)cn, -1, -1, 0);
}

static __attribute__((unused)) void h_pki_write(const char *path, X509 *crt, EVP_PKEY *key)
{
    FILE *f = fopen(path, "w");
    if (f == NULL || (crt && !PEM_write_X509(f, crt)) ||
        (key && !PEM_write_PrivateKey(f, key, NULL, NULL, 0, NULL, NULL))) {
        fprintf(stderr, "test pki: cannot write %s\n", path);
        exit(1);
    }
    fclose(f);
}

static __attribute__((unused)) h_ca_t h_pki_ca(const char *cn)
{
    static unsigned serial = 1;
    h_ca_t ca = {X509_new(), EVP_EC_gen("P-256")};
    X509_set_version(ca.crt, 2);
    ASN1_INTEGER_set(X509_get_serialNumber(ca.crt), (long)serial++);
    X509_gmtime_adj(X509_getm_notBefore(ca.crt), -300);
    X509_gmtime_adj(X509_getm_notAfter(ca.crt), 86400L * 30);
    h_pki_name(ca.crt, cn, "test");
    X509_set_issuer_name(ca.crt, X509_get_subject_name(ca.crt));
    X509_set_pubkey(ca.crt, ca.key);
    h_pki_ext(ca.crt, ca.crt, NID_basic_constraints, "critical,CA:TRUE");
    h_pki_ext(ca.crt, ca.crt, NID_key_usage, "critical,keyCertSign,cRLSign,digitalSignature");
    h_pki_ext(ca.crt, ca.crt, NID_subject_key_identifier, "hash");
    X509_sign(ca.crt, ca.key, EVP_sha256());
    return ca;
}

static __attribute__((unused)) void h_pki_ca_free(h_ca_t *ca)
{
    X509_free(ca->crt);
    EVP_PKEY_free(ca->key);
}

/* Writes <stem>.crt and <stem>.key. Validity in seconds from now. */
static __attribute__((unused)) void h_pki_leaf(const h_ca_t *ca, const char *stem, const char *cn,
                                               const char *org, const char *eku, long from, long to)
{
    static unsigned serial = 1000;
    X509 *x = X509_new();
    EVP_PKEY *key = EVP_EC_gen("P-256");
    X509_set_version(x, 2);
    ASN1_INTEGER_set(X509_get_serialNumber(x), (long)serial++);
    X509_gmtime_adj(X509_getm_notBefore(x), from);
    X509_gmtime_adj(X509_getm_notAfter(x), to);
    h_pki_name(x, cn, org);
    X509_set_issuer_name(x, X509_get_subject_name(ca->crt));
    X509_set_pubkey(x, key);
    h_pki_ext(x, ca->crt, NID_basic_constraints, "critical,CA:FALSE");
    h_pki_ext(x, ca->crt, NID_key_usage, "critical,digitalSignature");
    h_pki_ext(x, ca->crt, NID_ext_key_usage, eku);
    h_pki_ext(x, ca->crt, NID_authority_key_identifier, "keyid:always");
    h_pki_ext(x, ca->crt, NID_subject_alt_name, "IP:127.0.0.1");
    X509_sign(x, ca->key, EVP_sha256());
    char path[512];
    snprintf(path, sizeof path, "%s.crt", stem);
    h_pki_write(path, x, NULL);
    snprintf(path, sizeof path, "%s.key", stem);
    h_pki_write(path, NULL, key);
    X509_free(x);
    EVP_PKEY_free(key);
}

/* A replica certificate as `triarch init` makes it, valid for a day. */
static __attribute__((unused)) void h_pki_replica(const h_ca_t *ca, const char *stem,
                                                  const char *name)
{
    h_pki_leaf(ca, stem, name, "triarch:replicas", "serverAuth,clientAuth", -300, 86400);
}

/* ---------- a stranger's client, on its own thread (blocking sockets) ----------
 * Connects to addr, optionally does TLS with the given certificate (NULL: none),
 * sends out and reads until the server closes (or 8 s pass). The test's loop keeps
 * running meanwhile (h_tls_run), so the node under test answers. */
typedef struct h_client {
    char addr[64];
    bool tls;
    const char *cert, *key;
    uint8_t out[512];
    size_t out_len;
    /* results */
    bool handshake_ok; /* TLS handshake completed from the client's view */
    uint8_t in[4096];
    size_t have;
    atomic_int done;
} h_client_t;

static __attribute__((unused)) void h_client_io(h_client_t *t, int fd)
{
    SSL_CTX *ctx = NULL;
    SSL *ssl = NULL;
    if (t->tls) {
        ctx = SSL_CTX_new(TLS_client_method());
        if (t->cert && (SSL_CTX_use_certificate_chain_file(ctx, t->cert) != 1 ||
                        SSL_CTX_use_PrivateKey_file(ctx, t->key, SSL_FILETYPE_PEM) != 1)) {
            fprintf(stderr, "test client: cannot load %s\n", t->cert);
            exit(1);
        }
        ssl = SSL_new(ctx);
        SSL_set_fd(ssl, fd);
        t->handshake_ok = SSL_connect(ssl) == 1;
        if (!t->handshake_ok)
            goto out;
    }
    if (t->out_len > 0 && (ssl ? SSL_write(ssl, t->out, (int)t->out_len) <= 0
                               : send(fd, t->out, t->out_len, MSG_NOSIGNAL) < 0))
        goto out;
    for (;;) {
        int n = ssl ? SSL_read(ssl, t->in + t->have, (int)(sizeof t->in - t->have))
                    : (int)recv(fd, t->in + t->have, sizeof t->in - t->have, 0);
        if (n <= 0 || t->have + (size_t)n >= sizeof t->in)
            break;
        t->have += (size_t)n;
    }
out:
    SSL_free(ssl);
    SSL_CTX_free(ctx);
    ERR_clear_error();
}

static __attribute__((unused)) void *h_client_main(void *arg)
{
    h_client_t *t = arg;
    char ip[32];
    int port;
    struct sockaddr_in sa = {.sin_family = AF_INET};
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct timeval tv = {.tv_sec = 8};
    if (fd < 0 || sscanf(t->addr, "%31[^:]:%d", ip, &port) != 2)
        exit(1);
    sa.sin_port = htons((uint16_t)port);
    inet_pton(AF_INET, ip, &sa.sin_addr);
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    if (connect(fd, (struct sockaddr *)&sa, sizeof sa) == 0)
        h_client_io(t, fd);
    close(fd);
    atomic_store(&t->done, 1);
    return NULL;
}

#endif
