/* The HTTP front: h2o listeners on the process's libuv loop serving the
 * Kubernetes API (HTTPS with HTTP/2 by ALPN and HTTP/1.1; optionally plain
 * HTTP/1.1 and prior-knowledge h2c on loopback for tests and benchmarks),
 * discovery, OpenAPI, health and metrics. Every request is handed to the typed
 * client (tri_api_t); nothing here knows of raft or the store beyond status. */
#ifndef TRIARCH_HTTP_H
#define TRIARCH_HTTP_H

#include <stdbool.h>
#include <uv.h>

#include "triarch/api.h"
#include "triarch/audit.h"

typedef struct tri_http tri_http_t;

typedef struct tri_http_config {
    const char *name;          /* replica name, for /triarch/v1/status */
    const char *listen;        /* "ip:port" for HTTPS (port 0: pick one); NULL: none */
    const char *listen_plain;  /* "127.x.x.x:port" plain HTTP/1.1 + h2c; NULL: none */
    const char *cert_file;     /* serving certificate (PEM, chain) */
    const char *key_file;
    const char *ca_file;       /* client CA: x509 client certificates are verified against it */
    /* Service-account tokens: keys to verify (NULL: bearer tokens refused), the
     * issuer they must name and the audiences one of which they must carry
     * (comma-separated). */
    struct tri_sa_keys *sa_keys;
    /* The Node,RBAC authorizer every request goes through (required). */
    struct tri_authz *authz;
    const char *sa_issuer;
    const char *api_audiences;
    unsigned max_inflight;     /* short requests in flight; 0: 400 (kube-apiserver's default) */
    unsigned max_watches;      /* open watches; 0: 8192 */
    unsigned watch_heartbeat_ms;   /* 0: 15000 */
    unsigned watch_bookmark_ms;    /* 0: 60000 */
    unsigned min_request_timeout_s; /* watch lifetime is random in [t, 2t]; 0: 1800 */
    tri_audit_t *audit;        /* the audit log (borrowed, started); NULL: none */
} tri_http_config_t;

int tri_http_new(uv_loop_t *loop, tri_api_t *api, const tri_http_config_t *cfg,
                 tri_http_t **out, char *err, size_t errlen);
/* Reads cfg.cert_file and cfg.key_file again and serves them to every TLS
 * connection accepted from now on (open connections keep theirs): certificate
 * renewal without a restart. The pair is loaded and checked first; on any error
 * the old one stays and err says why. */
int tri_http_reload_tls(tri_http_t *h, char *err, size_t errlen);
/* Bound port of the HTTPS (plain=false) or plain listener, 0 if none. */
int tri_http_port(const tri_http_t *h, bool plain);
/* Stops accepting, ends watches; cb fires when every handle is closed. */
typedef void (*tri_http_close_cb)(tri_http_t *h, void *data);
void tri_http_close(tri_http_t *h, tri_http_close_cb cb, void *data);
void tri_http_free(tri_http_t *h);
/* Client connections currently open. */
size_t tri_http_connections(const tri_http_t *h);

#endif
