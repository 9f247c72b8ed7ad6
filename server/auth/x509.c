/* x509 client-certificate authentication: the certificate was offered during the
 * TLS handshake and verified there against the client CA (the verify callback
 * lets the handshake finish either way, so that a bad certificate is answered
 * with a 401 Status rather than a TLS alert, as kube-apiserver does). Here its
 * verification result, validity at the time of the request (connections outlive
 * certificates) and subject become the user: CN the name, each O a group. */
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <stdio.h>
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

static bool valid_at(X509 *cert, int64_t now)
{
    time_t t = (time_t)now;
    return X509_cmp_time(X509_get0_notBefore(cert), &t) < 0 &&
           X509_cmp_time(X509_get0_notAfter(cert), &t) > 0;
}

/* The leaf must be meant for client authentication when it says what it is for. */
static bool client_usage(X509 *cert)
{
    uint32_t xku = X509_get_extended_key_usage(cert);
    return (X509_get_extension_flags(cert) & EXFLAG_XKUSAGE) == 0 || (xku & XKU_SSL_CLIENT);
}

int tri_authn_x509(SSL *ssl, int64_t now, tri_user_t *u, char *why, size_t whylen)
{
    X509 *cert = SSL_get0_peer_certificate(ssl);
    if (cert == NULL)
        return TRI_ENOENT;
    long vr = SSL_get_verify_result(ssl);
    if (vr != X509_V_OK) {
        snprintf(why, whylen, "x509: certificate not accepted: %s",
                 X509_verify_cert_error_string(vr));
        return TRI_EINVAL;
    }
    if (!valid_at(cert, now)) {
        snprintf(why, whylen, "x509: certificate has expired or is not yet valid");
        return TRI_EINVAL;
    }
    if (!client_usage(cert)) {
        snprintf(why, whylen, "x509: certificate specifies an incompatible key usage");
        return TRI_EINVAL;
    }
    memset(u, 0, sizeof *u);
    X509_NAME *nm = X509_get_subject_name(cert);
    int last = -1;
    if (subject_entry(nm, NID_commonName, &last, u->name, sizeof u->name) != 0 ||
        u->name[0] == '\0') {
        snprintf(why, whylen, "x509: certificate has no usable common name");
        return TRI_EINVAL;
    }
    char group[TRI_USER_GROUP_MAX];
    last = -1;
    while (subject_entry(nm, NID_organizationName, &last, group, sizeof group) == 0)
        tri_user_add_group(u, group);
    tri_user_add_group(u, "system:authenticated");
    return 0;
}
