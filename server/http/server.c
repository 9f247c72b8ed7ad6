/* The h2o server on the process's libuv loop: listeners (HTTPS with ALPN h2 and
 * HTTP/1.1; an optional plain loopback listener that also takes prior-knowledge
 * h2c), TLS context from the cluster-issued certificate, and the one handler that
 * dispatches every request: health, discovery, OpenAPI, then resources. */
#include <arpa/inet.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <stdio.h>
#include <string.h>

#include "internal.h"
#include "triarch/errors.h"
#include "triarch/log.h"

/* h2o buffers whole request bodies; ours are checked at TRI_MAX_BODY_BYTES with a
 * Status, this only bounds what h2o accepts before that. */
#define H2O_ENTITY_LIMIT (8 * 1024 * 1024)
#define IDLE_TIMEOUT_MS (120 * 1000)

typedef struct tri_handler {
    h2o_handler_t super;
    tri_http_t *h;
} tri_handler_t;

static bool has_prefix(const char *p, size_t len, const char *lit)
{
    size_t n = strlen(lit);
    return len >= n && memcmp(p, lit, n) == 0;
}

/* Every request: authenticated first; resource requests (those the router
 * resolves) are authorized with their verb and resource in resource.c; everything
 * else (discovery, OpenAPI, metrics, status; not the health probes) by path here. */
static int on_req(h2o_handler_t *self, h2o_req_t *req)
{
    tri_http_t *h = ((tri_handler_t *)self)->h;
    tri_http_audit_begin(h, req);
    size_t len = req->query_at == SIZE_MAX ? req->path.len : req->query_at;
    const char *p = req->path.base;
    if (h->closing) {
        tri_send_error(req, 503, "ServiceUnavailable", "the server is shutting down");
        return 0;
    }
    tri_user_t user;
    if (tri_authenticate(h, req, p, len, &user) != 0 || tri_impersonate(h, req, &user) != 0)
        return 0;
    tri_route_t rt;
    tri_status_t st = {0};
    if (tri_route_parse(req, &rt, &st) == 0)
        return tri_handle_resource(h, req, &rt, &user);
    if (tri_authorize_path(h, req, &user, p, len) != 0) {
        tri_status_clear(&st);
        return 0;
    }
    if (tri_handle_health(h, req, p, len) == 0 || tri_handle_members(h, req, p, len) == 0 ||
        tri_handle_discovery(h, req, p, len) == 0) {
        tri_status_clear(&st);
        return 0;
    }
    if (has_prefix(p, len, "/openapi/")) {
        if (tri_handle_openapi_v2(h, req, p, len) != 0 && tri_handle_openapi(h, req, p, len) != 0)
            tri_send_error(req, 404, "NotFound", "the server could not find the requested resource");
        tri_status_clear(&st);
        return 0;
    }
    tri_send_status(req, &st);
    tri_status_clear(&st);
    return 0;
}

static int parse_addr(const char *s, struct sockaddr_in *sa)
{
    char host[64];
    int port;
    const char *colon = strrchr(s, ':');
    if (colon == NULL || (size_t)(colon - s) >= sizeof host)
        return -1;
    memcpy(host, s, (size_t)(colon - s));
    host[colon - s] = '\0';
    port = atoi(colon + 1);
    if (port < 0 || port > 65535)
        return -1;
    return uv_ip4_addr(host, port, sa);
}

/* A client connection's TCP handle, counted so shutdown knows what is still open. */
typedef struct tri_conn {
    uv_tcp_t tcp;
    tri_http_t *h;
} tri_conn_t;

static void on_conn_closed(uv_handle_t *hd)
{
    tri_conn_t *c = (tri_conn_t *)hd;
    c->h->connections--;
    free(c);
}

static void on_accept(uv_stream_t *listener, int status)
{
    if (status != 0)
        return;
    tri_http_t *h = listener->data;
    tri_conn_t *conn = h2o_mem_alloc(sizeof *conn);
    conn->h = h;
    h->connections++;
    uv_tcp_init(listener->loop, &conn->tcp);
    if (uv_accept(listener, (uv_stream_t *)&conn->tcp) != 0) {
        uv_close((uv_handle_t *)&conn->tcp, on_conn_closed);
        return;
    }
    uv_tcp_nodelay(&conn->tcp, 1);
    h2o_socket_t *sock = h2o_uv_socket_create((uv_stream_t *)&conn->tcp, on_conn_closed);
    bool tls = listener == (uv_stream_t *)&h->lsock_tls;
    h2o_accept(tls ? &h->accept_tls : &h->accept_plain, sock);
}

static int start_listener(tri_http_t *h, uv_tcp_t *l, const char *addr, int *port, char *err,
                          size_t errlen)
{
    struct sockaddr_in sa;
    if (parse_addr(addr, &sa) != 0) {
        snprintf(err, errlen, "invalid listen address \"%s\": want IPv4 ip:port", addr);
        return -1;
    }
    uv_tcp_init(h->loop, l);
    l->data = h;
    int rc = uv_tcp_bind(l, (struct sockaddr *)&sa, 0);
    if (rc == 0)
        rc = uv_listen((uv_stream_t *)l, 1024, on_accept);
    if (rc != 0) {
        snprintf(err, errlen, "cannot listen on %s: %s", addr, uv_strerror(rc));
        return -1;
    }
    struct sockaddr_in bound;
    int blen = sizeof bound;
    uv_tcp_getsockname(l, (struct sockaddr *)&bound, &blen);
    *port = ntohs(bound.sin_port);
    return 0;
}

static SSL_CTX *make_ssl(const tri_http_config_t *cfg, char *err, size_t errlen)
{
    SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
    if (ctx == NULL)
        goto fail;
    SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
    /* No renegotiation, as Go's TLS servers (kube-apiserver) and RFC 7540 for HTTP/2:
     * a connection's client certificate is read once (server/auth/x509.c) and must
     * not change under it. */
    SSL_CTX_set_options(ctx, SSL_OP_NO_COMPRESSION | SSL_OP_CIPHER_SERVER_PREFERENCE |
                                 SSL_OP_NO_RENEGOTIATION);
    /* TLS 1.3: AES-128-GCM first, as Go's servers (kube-apiserver) choose on AES-NI
     * hardware; OpenSSL's default order picks AES-256-GCM, the same security for our
     * purposes and a third more AES rounds per record. */
    SSL_CTX_set_ciphersuites(ctx, "TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384:"
                                  "TLS_CHACHA20_POLY1305_SHA256");
    if (SSL_CTX_use_certificate_chain_file(ctx, cfg->cert_file) != 1) {
        snprintf(err, errlen, "cannot load serving certificate %s", cfg->cert_file);
        goto fail_ctx;
    }
    if (SSL_CTX_use_PrivateKey_file(ctx, cfg->key_file, SSL_FILETYPE_PEM) != 1 ||
        SSL_CTX_check_private_key(ctx) != 1) {
        snprintf(err, errlen, "cannot load serving key %s (or it does not match the certificate)",
                 cfg->key_file);
        goto fail_ctx;
    }
    if (tri_authn_tls_setup(ctx, cfg->ca_file, err, errlen) != 0)
        goto fail_ctx;
    h2o_ssl_register_alpn_protocols(ctx, h2o_http2_alpn_protocols);
    return ctx;
fail_ctx:
    SSL_CTX_free(ctx);
    ERR_clear_error();
    return NULL;
fail:
    snprintf(err, errlen, "cannot create a TLS context");
    return NULL;
}

/* The chain file (leaf first, then intermediates) and its key, checked to match. */
static int load_pair(const char *cert_file, const char *key_file, X509 **leaf,
                     STACK_OF(X509) **chain, EVP_PKEY **key, char *err, size_t errlen)
{
    BIO *b = BIO_new_file(cert_file, "r");
    *leaf = b ? PEM_read_bio_X509_AUX(b, NULL, NULL, NULL) : NULL;
    *chain = sk_X509_new_null();
    X509 *x;
    while (b && *chain && (x = PEM_read_bio_X509(b, NULL, NULL, NULL)) != NULL)
        sk_X509_push(*chain, x);
    BIO_free(b);
    b = BIO_new_file(key_file, "r");
    *key = b ? PEM_read_bio_PrivateKey(b, NULL, NULL, NULL) : NULL;
    BIO_free(b);
    ERR_clear_error();
    if (*leaf && *key && *chain && X509_check_private_key(*leaf, *key) == 1)
        return 0;
    snprintf(err, errlen, "cannot load %s with %s (unreadable, or the key does not match)",
             cert_file, key_file);
    X509_free(*leaf);
    sk_X509_pop_free(*chain, X509_free);
    EVP_PKEY_free(*key);
    ERR_clear_error();
    return -1;
}

/* SSL_new copies the context's certificate into each connection, so replacing it
 * here changes what new handshakes present and nothing of open connections. The
 * loop thread is the only one that touches the context. */
int tri_http_reload_tls(tri_http_t *h, char *err, size_t errlen)
{
    if (h->ssl == NULL) {
        snprintf(err, errlen, "no TLS listener");
        return -1;
    }
    X509 *leaf;
    STACK_OF(X509) *chain;
    EVP_PKEY *key;
    if (load_pair(h->cfg.cert_file, h->cfg.key_file, &leaf, &chain, &key, err, errlen) != 0)
        return -1;
    int ok = SSL_CTX_use_cert_and_key(h->ssl, leaf, key, chain, 1);
    X509_free(leaf);
    sk_X509_pop_free(chain, X509_free);
    EVP_PKEY_free(key);
    if (ok != 1) {
        snprintf(err, errlen, "OpenSSL refused the new certificate");
        ERR_clear_error();
        return -1;
    }
    return 0;
}

static void apply_defaults(tri_http_config_t *c)
{
    if (c->max_inflight == 0)
        c->max_inflight = 400; /* kube-apiserver --max-requests-inflight */
    if (c->max_watches == 0)
        c->max_watches = 8192;
    if (c->watch_heartbeat_ms == 0)
        c->watch_heartbeat_ms = 15000;
    if (c->watch_bookmark_ms == 0)
        c->watch_bookmark_ms = 60000;
    if (c->min_request_timeout_s == 0)
        c->min_request_timeout_s = 1800; /* kube-apiserver --min-request-timeout */
}

static void setup_h2o(tri_http_t *h)
{
    h2o_config_init(&h->config);
    h->config.max_request_entity_size = H2O_ENTITY_LIMIT;
    h->config.http1.upgrade_to_http2 = 1; /* prior-knowledge h2c on the plain listener */
    h->config.http2.idle_timeout = IDLE_TIMEOUT_MS;
    h->config.server_name = h2o_iovec_init(H2O_STRLIT("triarch"));
    h2o_hostconf_t *host =
        h2o_config_register_host(&h->config, h2o_iovec_init(H2O_STRLIT("default")), 65535);
    h2o_pathconf_t *path = h2o_config_register_path(host, "/", 0);
    tri_handler_t *hd = (tri_handler_t *)h2o_create_handler(path, sizeof *hd);
    hd->super.on_req = on_req;
    hd->h = h;
    h2o_context_init(&h->ctx, h->loop, &h->config);
    h->accept_tls.ctx = &h->ctx;
    h->accept_tls.hosts = h->config.hosts;
    h->accept_plain = h->accept_tls;
}

int tri_http_new(uv_loop_t *loop, tri_api_t *api, const tri_http_config_t *cfg,
                 tri_http_t **out, char *err, size_t errlen)
{
    tri_http_t *h = calloc(1, sizeof *h);
    if (h == NULL)
        return TRI_ENOMEM;
    h->loop = loop;
    h->api = api;
    h->cfg = *cfg;
    h->authz = cfg->authz;
    if (h->authz == NULL) {
        snprintf(err, errlen, "no authorizer: every request must be authorized");
        free(h);
        return -1;
    }
    h->audit = cfg->audit;
    apply_defaults(&h->cfg);
    if (cfg->listen) {
        h->ssl = make_ssl(cfg, err, errlen);
        if (h->ssl == NULL) {
            free(h);
            return TRI_EINVAL;
        }
    }
    setup_h2o(h);
    h->accept_tls.ssl_ctx = h->ssl;
    h->accept_plain.ssl_ctx = NULL;
    if (cfg->listen) {
        if (start_listener(h, &h->lsock_tls, cfg->listen, &h->port_tls, err, errlen) != 0)
            goto fail;
        h->have_tls = true;
    }
    if (cfg->listen_plain) {
        if (strncmp(cfg->listen_plain, "127.", 4) != 0) {
            snprintf(err, errlen, "the plain-http listener is only allowed on loopback (127.0.0.0/8), "
                                  "not %s", cfg->listen_plain);
            goto fail;
        }
        if (start_listener(h, &h->lsock_plain, cfg->listen_plain, &h->port_plain, err,
                           errlen) != 0)
            goto fail;
        h->have_plain = true;
    }
    *out = h;
    return 0;
fail:
    /* listeners already open are closed by tri_http_close; keep it simple for a
     * failure at start-up: the process exits right after. */
    *out = h;
    return TRI_EINVAL;
}

int tri_http_port(const tri_http_t *h, bool plain)
{
    return plain ? (h->have_plain ? h->port_plain : 0) : (h->have_tls ? h->port_tls : 0);
}

static void on_listener_closed(uv_handle_t *hd)
{
    tri_http_t *h = hd->data;
    if (--h->closing == 1 && h->close_cb) {
        h->closing = 1;
        h->close_cb(h, h->close_data);
    }
}

size_t tri_http_connections(const tri_http_t *h)
{
    return h->connections;
}

void tri_http_close(tri_http_t *h, tri_http_close_cb cb, void *data)
{
    h->close_cb = cb;
    h->close_data = data;
    h->closing = 1;
    if (h->connections > 0)
        h2o_context_request_shutdown(&h->ctx); /* HTTP/2 clients get GOAWAY */
    tri_streams_end_all(h);
    if (h->have_tls) {
        h->closing++;
        uv_close((uv_handle_t *)&h->lsock_tls, on_listener_closed);
    }
    if (h->have_plain) {
        h->closing++;
        uv_close((uv_handle_t *)&h->lsock_plain, on_listener_closed);
    }
    if (h->closing == 1 && cb)
        cb(h, data);
}

void tri_http_free(tri_http_t *h)
{
    if (h == NULL)
        return;
    h2o_context_dispose(&h->ctx);
    tri_http_audit_free(h);
    h2o_config_dispose(&h->config);
    if (h->ssl)
        SSL_CTX_free(h->ssl);
    tri_authn_cache_free(h);
    free(h);
}
