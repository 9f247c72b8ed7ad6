/* Authentication of every request, before anything else looks at it (Kubernetes'
 * union authenticator, anonymous access off):
 *
 * - on the TLS listener: an x509 client certificate verified against the client
 *   CA, else a bearer token: a bootstrap token (bootstrap.c) when it has that
 *   shape, a service-account token otherwise; none of them: 401;
 * - on the plain listener (loopback only, and only when configured): the user
 *   system:unsecured in group system:masters, as kube-apiserver's old insecure
 *   port was. It exists for tests and benchmarks (docs/security.md);
 * - /livez, /readyz, /healthz and /version answer without credentials: the load
 *   balancer's health check needs them (CIS 1.2.1 allows exactly these).
 *
 * The TLS handshake asks for a client certificate and always completes; the
 * verification result is read per request, so a wrong-CA or expired certificate
 * gets a 401 Status like kube-apiserver's instead of a TLS alert. h2o keeps each
 * connection's SSL* in a private struct: the slot that holds it is found once, at
 * the first handshake, by matching the SSL* OpenSSL hands the info callback. */
#include <openssl/err.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "internal.h"
#include "triarch/authn.h"
#include "triarch/errors.h"
#include "triarch/log.h"

#define SSL_SLOT_SCAN 6       /* pointer-sized slots of h2o's TLS struct searched */
#define TOKEN_CACHE_SIZE 1024 /* verified tokens remembered (hash slots) */
#define TOKEN_CACHE_TTL_S 10  /* how long a verification is trusted, as kube's cache */

static int ssl_slot = -1; /* index of SSL* in *sock->ssl; loop-thread only */

static int accept_any(int ok, X509_STORE_CTX *x)
{
    (void)ok;
    (void)x;
    return 1; /* the result stays in SSL_get_verify_result for tri_authn_x509 */
}

static void on_tls_info(const SSL *ssl, int where, int ret)
{
    (void)ret;
    if (!(where & SSL_CB_HANDSHAKE_DONE) || ssl_slot >= 0)
        return;
    h2o_socket_t *sock = BIO_get_data(SSL_get_rbio(ssl));
    if (sock == NULL || sock->ssl == NULL)
        return;
    void **slots = (void **)sock->ssl;
    for (int i = 0; i < SSL_SLOT_SCAN; i++) {
        if (slots[i] == (void *)ssl) {
            ssl_slot = i;
            return;
        }
    }
    tri_error("authn", "cannot find the TLS session of h2o connections",
              "effect=\"client certificates will be refused\" slots=%d", SSL_SLOT_SCAN);
    ssl_slot = SSL_SLOT_SCAN; /* searched: do not search again */
}

int tri_authn_tls_setup(SSL_CTX *ctx, const char *client_ca_file, char *err, size_t errlen)
{
    if (client_ca_file == NULL || client_ca_file[0] == '\0') {
        snprintf(err, errlen, "client-ca-file is required: client certificates are how "
                              "administrators and agents authenticate");
        return -1;
    }
    STACK_OF(X509_NAME) *names = SSL_load_client_CA_file(client_ca_file);
    if (names == NULL || SSL_CTX_load_verify_locations(ctx, client_ca_file, NULL) != 1) {
        sk_X509_NAME_pop_free(names, X509_NAME_free);
        ERR_clear_error();
        snprintf(err, errlen, "cannot load client CA %s", client_ca_file);
        return -1;
    }
    SSL_CTX_set_client_CA_list(ctx, names);
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, accept_any);
    static const unsigned char sid_ctx[] = "triarch-api";
    SSL_CTX_set_session_id_context(ctx, sid_ctx, sizeof sid_ctx - 1);
    SSL_CTX_set_info_callback(ctx, on_tls_info);
    return 0;
}

static SSL *req_ssl(h2o_req_t *req)
{
    if (req->conn->callbacks->get_socket == NULL)
        return NULL;
    h2o_socket_t *sock = req->conn->callbacks->get_socket(req->conn);
    if (sock == NULL || sock->ssl == NULL || ssl_slot < 0 || ssl_slot >= SSL_SLOT_SCAN)
        return NULL;
    return ((SSL **)sock->ssl)[ssl_slot];
}

static bool is_tls(h2o_req_t *req)
{
    if (req->conn->callbacks->get_socket == NULL)
        return true; /* unknown: never treat it as the plain listener */
    h2o_socket_t *sock = req->conn->callbacks->get_socket(req->conn);
    return sock == NULL || sock->ssl != NULL;
}

/* ---------- service-account tokens ---------- */

/* The objects a token names (account, bound pod or secret): the mod_revision at
 * which each was last seen live with the token's uid. A later request finds the same
 * revision with one hash lookup instead of parsing the object again. */
enum { BOUND_SA = 0, BOUND_POD, BOUND_SECRET, BOUND_N };

typedef struct token_entry {
    char *tok; /* the token itself: a hit compares it whole */
    size_t len;
    int64_t until;
    tri_sa_claims_t claims;
    tri_user_t user; /* what the claims make of the caller, worked out once */
    int64_t live_rev[BOUND_N];
} token_entry_t;

struct tri_token_cache {
    token_entry_t slots[TOKEN_CACHE_SIZE];
};

/* The slot of a token: CRC-32C picks it (8 bytes a step; the entry holds the
 * whole token, so a collision only evicts: no cryptographic hash is needed on every
 * request). */
static token_entry_t *cache_slot(tri_http_t *h, const char *tok, size_t len)
{
    if (h->tokens == NULL)
        h->tokens = calloc(1, sizeof *h->tokens);
    if (h->tokens == NULL)
        return NULL;
    return &h->tokens->slots[tri_crc32c(0, tok, len) % TOKEN_CACHE_SIZE];
}

void tri_authn_cache_free(tri_http_t *h)
{
    if (h->tokens == NULL)
        return;
    for (size_t i = 0; i < TOKEN_CACHE_SIZE; i++)
        free(h->tokens->slots[i].tok);
    free(h->tokens);
    h->tokens = NULL;
}

/* Is the object at (plural, ns, name) stored here with metadata.uid == uid and not
 * being deleted? *rev is the mod_revision it was last confirmed at (0: never): the
 * same revision needs no parse. */
static bool live_with_uid(tri_http_t *h, const char *plural, const char *ns, const char *name,
                          const char *uid, int64_t *rev)
{
    const tri_resource_t *r = tri_registry_find("", "v1", plural);
    tri_buf_t key = {0};
    tri_registry_key(r, ns, name, &key);
    tri_kv_t kv;
    int rc = tri_store_get(tri_api_store(h->api), key.data, key.len, 0, &kv);
    tri_buf_free(&key);
    if (rc != 0)
        return false;
    if (*rev != 0 && kv.mod_rev == *rev) {
        tri_kv_release(&kv);
        return true;
    }
    json_t *o = tri_api_load_stored(h->api, r, &kv);
    tri_kv_release(&kv);
    json_t *meta = json_object_get(o, "metadata");
    const char *u = json_string_value(json_object_get(meta, "uid"));
    bool ok = u != NULL && strcmp(u, uid) == 0 && json_object_get(meta, "deletionTimestamp") == NULL;
    *rev = ok ? kv.mod_rev : 0;
    json_decref(o);
    return ok;
}

/* Service-account lookup (CIS 1.2.21): the account, and the pod or secret the
 * token is bound to, must still exist with the uid the token names. */
static bool token_objects_live(tri_http_t *h, const tri_sa_claims_t *c, int64_t *revs,
                               char *why, size_t wl)
{
    if (!live_with_uid(h, "serviceaccounts", c->ns, c->sa_name, c->sa_uid, &revs[BOUND_SA])) {
        snprintf(why, wl, "service account %s/%s has been deleted", c->ns, c->sa_name);
        return false;
    }
    if (c->pod_name[0] &&
        !live_with_uid(h, "pods", c->ns, c->pod_name, c->pod_uid, &revs[BOUND_POD])) {
        snprintf(why, wl, "the pod %s/%s the token is bound to no longer exists", c->ns,
                 c->pod_name);
        return false;
    }
    if (c->secret_name[0] &&
        !live_with_uid(h, "secrets", c->ns, c->secret_name, c->secret_uid, &revs[BOUND_SECRET])) {
        snprintf(why, wl, "the secret %s/%s the token is bound to no longer exists", c->ns,
                 c->secret_name);
        return false;
    }
    return true;
}

int tri_authn_token(tri_http_t *h, const char *tok, size_t len, tri_user_t *u, char *why,
                       size_t wl)
{
    char bid[TRI_BOOTSTRAP_ID_LEN + 1], bsecret[TRI_BOOTSTRAP_SECRET_LEN + 1];
    if (tri_bootstrap_token_split(tok, len, bid, bsecret)) { /* a JWT never has this shape */
        OPENSSL_cleanse(bsecret, sizeof bsecret);
        return tri_authn_bootstrap(h, tok, len, u, why, wl);
    }
    if (h->cfg.sa_keys == NULL) {
        snprintf(why, wl, "service-account tokens are not accepted (no key configured)");
        return TRI_EINVAL;
    }
    int64_t now = (int64_t)time(NULL);
    token_entry_t *e = cache_slot(h, tok, len);
    if (e && e->until >= now && e->len == len && memcmp(e->tok, tok, len) == 0) {
        if (now > e->claims.exp + 60) {
            snprintf(why, wl, "service-account token: expired");
            return TRI_EINVAL;
        }
        if (!token_objects_live(h, &e->claims, e->live_rev, why, wl))
            return TRI_EINVAL;
        *u = e->user;
        return 0;
    }
    tri_sa_claims_t c;
    int rc = tri_sa_token_verify(h->cfg.sa_keys, tok, len, now, h->cfg.sa_issuer,
                                 h->cfg.api_audiences, &c, why, wl);
    if (rc != 0)
        return rc;
    int64_t scratch[BOUND_N] = {0};
    int64_t *revs = scratch;
    char *copy = e ? malloc(len) : NULL;
    if (copy) {
        memcpy(copy, tok, len);
        free(e->tok);
        e->tok = copy;
        e->len = len;
        e->until = now + TOKEN_CACHE_TTL_S;
        e->claims = c;
        tri_sa_claims_user(&c, &e->user);
        memset(e->live_rev, 0, sizeof e->live_rev);
        revs = e->live_rev;
    }
    if (!token_objects_live(h, &c, revs, why, wl))
        return TRI_EINVAL;
    tri_sa_claims_user(&c, u);
    return 0;
}

static bool bearer(h2o_req_t *req, const char **tok, size_t *len)
{
    ssize_t i = h2o_find_header(&req->headers, H2O_TOKEN_AUTHORIZATION, -1);
    if (i < 0)
        return false;
    h2o_iovec_t v = req->headers.entries[i].value;
    if (v.len <= 7 || strncasecmp(v.base, "Bearer ", 7) != 0)
        return false;
    *tok = v.base + 7;
    *len = v.len - 7;
    while (*len > 0 && (*tok)[0] == ' ') {
        (*tok)++;
        (*len)--;
    }
    return *len > 0;
}

/* ---------- per request ---------- */

static bool anonymous_allowed(const char *p, size_t len)
{
    return tri_is_health_path(p, len) || tri_path_under(p, len, "/version");
}

static void unsecured_user(tri_user_t *u)
{
    memset(u, 0, sizeof *u);
    snprintf(u->name, sizeof u->name, "system:unsecured");
    tri_user_add_group(u, "system:masters");
    tri_user_add_group(u, "system:authenticated");
}

static void anonymous_user(tri_user_t *u)
{
    memset(u, 0, sizeof *u);
    snprintf(u->name, sizeof u->name, "system:anonymous");
    tri_user_add_group(u, "system:unauthenticated");
}

int tri_authenticate(tri_http_t *h, h2o_req_t *req, const char *path, size_t len, tri_user_t *u)
{
    if (!is_tls(req)) {
        unsecured_user(u);
        tri_http_audit_user(req, u);
        return 0;
    }
    char why[640] = "no client certificate or bearer token";
    SSL *ssl = req_ssl(req);
    int rc = ssl ? tri_authn_x509(ssl, (int64_t)time(NULL), u, why, sizeof why) : TRI_ENOENT;
    if (rc == TRI_ENOENT && ssl == NULL && ssl_slot >= SSL_SLOT_SCAN)
        snprintf(why, sizeof why, "client certificates cannot be read on this build");
    const char *tok;
    size_t tlen;
    if (rc != 0 && bearer(req, &tok, &tlen))
        rc = tri_authn_token(h, tok, tlen, u, why, sizeof why);
    if (rc == 0) {
        tri_http_audit_user(req, u);
        return 0;
    }
    anonymous_user(u);
    tri_http_audit_user(req, u);
    if (anonymous_allowed(path, len))
        return 0;
    h->metrics.authn_failures++;
    tri_debug("authn", "request refused", "path=\"%.*s\" reason=\"%s\"", (int)len, path, why);
    tri_send_error(req, 401, "Unauthorized", "Unauthorized");
    return -1;
}
