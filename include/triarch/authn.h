/* Authentication: who a request comes from.
 *
 * - x509 client certificates verified against the cluster CA at the TLS handshake:
 *   CN is the user, each O a group (Kubernetes' x509 authenticator).
 * - Service-account tokens: JWTs signed RS256 with the cluster's service-account
 *   key (made by `triarch init`, on every replica, never in the store), carrying
 *   Kubernetes' claims: iss, sub system:serviceaccount:NS:NAME, aud, exp, nbf, iat,
 *   jti, and kubernetes.io {namespace, serviceaccount{name,uid}, pod{name,uid},
 *   node{name,uid}}. Issued by the serviceaccounts/token subresource.
 *
 * - Bootstrap tokens (kubeadm's join tokens) "<id>.<secret>", [a-z0-9]{6}.[a-z0-9]{16}:
 *   the Secret kube-system/bootstrap-token-<id> of type bootstrap.kubernetes.io/token
 *   must hold the same token-secret, usage-bootstrap-authentication "true" and an
 *   expiration (RFC 3339) not yet past. The user is system:bootstrap:<id> in group
 *   system:bootstrappers plus the secret's auth-extra-groups; the default policy
 *   lets it create and read CertificateSigningRequests and nothing else.
 *
 * The functions here are pure (no store, no sockets); server/http/authn.c runs
 * them per request and checks that the service account (and bound pod) still
 * exist, or reads the bootstrap token's Secret. */
#ifndef TRIARCH_AUTHN_H
#define TRIARCH_AUTHN_H

#include <jansson.h>
#include <openssl/ssl.h>
#include <stdbool.h>
#include <stdint.h>

#include "triarch/auth.h"
#include "triarch/util.h"

/* The user of a TLS connection whose client certificate verified against the
 * client CA (SSL_get_verify_result OK) and is valid at now (seconds since the
 * epoch). 0 with *u filled; TRI_ENOENT when no certificate was presented;
 * TRI_EINVAL with why set when one was presented but is not acceptable. */
int tri_authn_x509(SSL *ssl, int64_t now, tri_user_t *u, char *why, size_t whylen);

#define TRI_SA_MAX_AUDIENCES 8
/* kube-apiserver's usual issuer, and so the audience clients expect by default. */
#define TRI_DEFAULT_SA_ISSUER "https://kubernetes.default.svc.cluster.local"

typedef struct tri_sa_claims {
    char issuer[256];
    char audiences[TRI_SA_MAX_AUDIENCES][256];
    size_t n_audiences;
    char ns[64];
    char sa_name[254];
    char sa_uid[64];
    char pod_name[254]; /* bound object refs; "" when absent */
    char pod_uid[64];
    char secret_name[254];
    char secret_uid[64];
    char node_name[254];
    char node_uid[64];
    char jti[64];
    int64_t iat, nbf, exp; /* seconds since the epoch */
} tri_sa_claims_t;

typedef struct tri_sa_keys tri_sa_keys_t;

/* signing_key_file: PEM RSA private key (may be NULL: verify only).
 * verify_key_files: comma-separated PEM public or private keys; NULL: the signing
 * key's public half. At least one key is needed. */
int tri_sa_keys_load(const char *signing_key_file, const char *verify_key_files,
                     tri_sa_keys_t **out, char *err, size_t errlen);
void tri_sa_keys_free(tri_sa_keys_t *k);
bool tri_sa_keys_can_sign(const tri_sa_keys_t *k);

/* A compact JWS (header.payload.signature) for the claims. */
int tri_sa_token_sign(const tri_sa_keys_t *k, const tri_sa_claims_t *c, tri_buf_t *out);

/* Verifies signature (RS256 only; "none" and every other alg refused), shape, the
 * issuer (when issuer is not NULL), that one audience is in audiences (a
 * comma-separated list; NULL: any), and the time window with 60 s of leeway as
 * Kubernetes allows. 0 with *c filled, else TRI_EINVAL with why set. */
int tri_sa_token_verify(const tri_sa_keys_t *k, const char *tok, size_t len, int64_t now,
                        const char *issuer, const char *audiences, tri_sa_claims_t *c,
                        char *why, size_t whylen);

/* The user a verified token stands for: system:serviceaccount:NS:NAME in groups
 * system:serviceaccounts, system:serviceaccounts:NS, system:authenticated; pod and
 * node names (when bound) as extras. */
void tri_sa_claims_user(const tri_sa_claims_t *c, tri_user_t *u);

/* ---------- bootstrap tokens ---------- */

#define TRI_BOOTSTRAP_NAMESPACE "kube-system"
#define TRI_BOOTSTRAP_SECRET_PREFIX "bootstrap-token-"
#define TRI_BOOTSTRAP_SECRET_TYPE "bootstrap.kubernetes.io/token"
#define TRI_BOOTSTRAP_USER_PREFIX "system:bootstrap:"
#define TRI_BOOTSTRAPPERS_GROUP "system:bootstrappers"
#define TRI_BOOTSTRAP_ID_LEN 6
#define TRI_BOOTSTRAP_SECRET_LEN 16

/* Splits a token of the bootstrap shape into id (6 chars + NUL) and secret (16 +
 * NUL); false when it has another shape (then it is no bootstrap token). */
bool tri_bootstrap_token_split(const char *tok, size_t len, char id[7], char secret[17]);

/* Checks the token's Secret object (as read, data values base64) at now (seconds
 * since the epoch): 0 with *u filled, else TRI_EINVAL with why set. The secret
 * comparison is constant-time. */
int tri_bootstrap_token_check(const json_t *secret_obj, const char *id, const char *secret,
                              int64_t now, tri_user_t *u, char *why, size_t wl);

/* data.expiration of a token Secret: 0 with *exp (seconds since the epoch), or
 * TRI_ENOENT when it has none, TRI_EINVAL when it is not RFC 3339. */
int tri_bootstrap_token_expiration(const json_t *secret_obj, int64_t *exp);

/* Whether obj is a bootstrap token Secret (namespace, name prefix and type). */
bool tri_bootstrap_token_secret(const json_t *obj);

/* base64url without padding (RFC 7515 section 2). decode: TRI_EINVAL on bad input. */
void tri_base64url_encode(const void *p, size_t n, tri_buf_t *out);
int tri_base64url_decode(const char *s, size_t n, tri_buf_t *out);

#endif
