/* x509 client-certificate authentication: the certificate was offered during the
 * TLS handshake and verified there against the client CA (the verify callback
 * lets the handshake finish either way, so that a bad certificate is answered
 * with a 401 Status rather than a TLS alert, as kube-apiserver does). Here its
 * verification result, validity at the time of the request (connections outlive
 * certificates) and subject become the user: CN the name, each O a group. */
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "triarch/authn.h"
#include "triarch/errors.h"

static int subject_entry(X509_NAME *nm, int nid, int *last, char *out, size_t len)
{
    *last = X509_NAME_get_index_by_NID(nm, nid, *last);
    if (*last < 0)
        return -1;
    ASN1_STRING *d = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(nm, *last));
    unsigned char *utf8 = NULL;
    int n = ASN1_STRING_to_UTF8(&utf8, d);
    if (n < 0)
        return -1;
    bool ok = (size_t)n < len && memchr(utf8, '\0', (size_t)n) == NULL;
    if (ok)
        snprintf(out, len, "%.*s", n, (const char *)utf8);
    OPENSSL_free(utf8);
    return ok ? 0 : -1;
}

/* The leaf must be meant for client authentication when it says what it is for. */
static bool client_usage(X509 *cert)
{
    uint32_t xku = X509_get_extended_key_usage(cert);
    return (X509_get_extension_flags(cert) & EXFLAG_XKUSAGE) == 0 || (xku & XKU_SSL_CLIENT);
}

/* What one connection's certificate says, worked out at its first request and kept
 * with its SSL (ex_data): the verification result and subject cannot change during
 * a connection, so later requests only compare the time against the validity
 * period (connections outlive certificates). Parsing the subject and the ASN.1 times
 * on every request cost more than the token path it should be cheaper than. */
typedef struct x509_memo {
    int rc; /* 0: user holds the identity; else the refusal, with why */
    char why[160];
    int64_t not_before, not_after;
    tri_user_t user;
} x509_memo_t;

static int memo_index = -1;
static pthread_once_t memo_once = PTHREAD_ONCE_INIT;

static void memo_free(void *parent, void *ptr, CRYPTO_EX_DATA *ad, int idx, long argl,
                      void *argp)
{
    (void)parent;
    (void)ad;
    (void)idx;
    (void)argl;
    (void)argp;
    free(ptr);
}

static void memo_index_make(void)
{
    memo_index = SSL_get_ex_new_index(0, NULL, NULL, NULL, memo_free);
}

static bool asn1_seconds(const ASN1_TIME *t, int64_t *out)
{
    struct tm tm;
    if (t == NULL || ASN1_TIME_to_tm(t, &tm) != 1)
        return false;
    *out = (int64_t)timegm(&tm);
    return true;
}

static int memo_refuse(x509_memo_t *m, const char *why)
{
    snprintf(m->why, sizeof m->why, "%s", why);
    return m->rc = TRI_EINVAL;
}

static int memo_fill(SSL *ssl, X509 *cert, x509_memo_t *m)
{
    long vr = SSL_get_verify_result(ssl);
    if (vr != X509_V_OK) {
        snprintf(m->why, sizeof m->why, "x509: certificate not accepted: %s",
                 X509_verify_cert_error_string(vr));
        return m->rc = TRI_EINVAL;
    }
    if (!asn1_seconds(X509_get0_notBefore(cert), &m->not_before) ||
        !asn1_seconds(X509_get0_notAfter(cert), &m->not_after))
        return memo_refuse(m, "x509: certificate has unreadable validity dates");
    if (!client_usage(cert))
        return memo_refuse(m, "x509: certificate specifies an incompatible key usage");
    X509_NAME *nm = X509_get_subject_name(cert);
    int last = -1;
    if (subject_entry(nm, NID_commonName, &last, m->user.name, sizeof m->user.name) != 0 ||
        m->user.name[0] == '\0')
        return memo_refuse(m, "x509: certificate has no usable common name");
    char group[TRI_USER_GROUP_MAX];
    last = -1;
    while (subject_entry(nm, NID_organizationName, &last, group, sizeof group) == 0)
        tri_user_add_group(&m->user, group);
    tri_user_add_group(&m->user, "system:authenticated");
    return m->rc = 0;
}

/* The connection's memo, made at its first request; NULL when out of memory. */
static x509_memo_t *memo_of(SSL *ssl, X509 *cert)
{
    pthread_once(&memo_once, memo_index_make);
    if (memo_index < 0)
        return NULL;
    x509_memo_t *m = SSL_get_ex_data(ssl, memo_index);
    if (m != NULL)
        return m;
    if ((m = calloc(1, sizeof *m)) == NULL)
        return NULL;
    memo_fill(ssl, cert, m);
    if (SSL_set_ex_data(ssl, memo_index, m) != 1) {
        free(m);
        return NULL;
    }
    return m;
}

int tri_authn_x509(SSL *ssl, int64_t now, tri_user_t *u, char *why, size_t whylen)
{
    X509 *cert = SSL_get0_peer_certificate(ssl);
    if (cert == NULL)
        return TRI_ENOENT;
    x509_memo_t *m = memo_of(ssl, cert);
    if (m == NULL) {
        snprintf(why, whylen, "x509: out of memory");
        return TRI_ENOMEM;
    }
    if (m->rc != 0) {
        snprintf(why, whylen, "%s", m->why);
        return m->rc;
    }
    if (now < m->not_before || now > m->not_after) { /* both inclusive (RFC 5280) */
        snprintf(why, whylen, "x509: certificate has expired or is not yet valid");
        return TRI_EINVAL;
    }
    *u = m->user;
    return 0;
}
