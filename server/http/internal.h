/* Private to server/http: the server, per-request context, routes, metrics. */
#ifndef TRIARCH_HTTP_INTERNAL_H
#define TRIARCH_HTTP_INTERNAL_H

#include <h2o.h>
#include <stdbool.h>
#include <stdint.h>

#include "triarch/api.h"
#include "triarch/auth.h"
#include "triarch/http.h"

/* ---------- metrics ---------- */

#define TRI_LAT_BUCKETS 14
extern const double tri_lat_bounds[TRI_LAT_BUCKETS]; /* seconds */

enum tri_verb {
    V_GET = 0, V_LIST, V_WATCH, V_CREATE, V_UPDATE, V_PATCH, V_DELETE, V_DELCOL, V_OTHER,
    V_COUNT,
    V_ANSWERED = V_COUNT + 1 /* not a verb: the request was answered already */
};
extern const char *const tri_verb_names[V_COUNT];

typedef struct tri_http_metrics {
    uint64_t requests[V_COUNT][6]; /* by verb and code class 1xx..5xx (index 1..5) */
    uint64_t lat_count[V_COUNT];
    double lat_sum[V_COUNT];
    uint64_t lat_bucket[V_COUNT][TRI_LAT_BUCKETS];
    uint64_t rejected_inflight;
    uint64_t authn_failures;   /* 401s */
    uint64_t authz_denials;    /* 403s from the authorizer */
    uint64_t watch_events_sent;
} tri_http_metrics_t;

/* ---------- server ---------- */

typedef struct tri_stream tri_stream_t; /* an open watch response */

struct tri_http {
    uv_loop_t *loop;
    tri_api_t *api;
    tri_http_config_t cfg;
    char *strings; /* owned copies of cfg strings */
    h2o_globalconf_t config;
    h2o_context_t ctx;
    h2o_accept_ctx_t accept_tls;
    h2o_accept_ctx_t accept_plain;
    SSL_CTX *ssl;
    uv_tcp_t lsock_tls;
    uv_tcp_t lsock_plain;
    bool have_tls, have_plain;
    int port_tls, port_plain;
    unsigned inflight;
    size_t connections;
    tri_stream_t *streams; /* open watches, to end them on close */
    tri_http_metrics_t metrics;
    struct tri_token_cache *tokens; /* verified service-account tokens (authn.c) */
    struct tri_authz *authz;        /* Node,RBAC (cfg.authz) */
    int closing;
    tri_http_close_cb close_cb;
    void *close_data;
    tri_audit_t *audit;                 /* cfg.audit */
    struct tri_audit_rec **audit_tab;   /* open requests' audit records (audit.c) */
};

/* ---------- routes ---------- */

typedef struct tri_route {
    const tri_resource_t *res;
    char ns[256];
    char name[256];
    char sub[64];
    bool collection;
} tri_route_t;

/* Query parameters kube clients send. Strings point into the request pool. */
typedef struct tri_params {
    const char *watch;
    const char *resource_version;
    const char *rv_match;
    const char *label_selector;
    const char *field_selector;
    const char *continue_token;
    const char *limit;
    const char *timeout_seconds;
    const char *allow_bookmarks;
    const char *dry_run;
    const char *field_manager;
    const char *field_validation;
    const char *propagation_policy;
    const char *send_initial_events;
    const char *grace_period_seconds;
    const char *force;
} tri_params_t;

enum tri_accept { ACC_JSON = 0, ACC_TABLE = 1 };

/* A request being served asynchronously. Allocated with malloc (not in the
 * request pool) because it may outlive the request when the client goes away. */
typedef struct tri_req {
    tri_http_t *http;
    h2o_req_t *req;          /* NULL once the client is gone */
    struct tri_req_handle *handle;
    tri_route_t rt;
    tri_params_t p;
    enum tri_accept accept;
    enum tri_verb verb;
    uint64_t t0_ns;
    bool limited;            /* counted in http->inflight */
    char field_manager[129]; /* a copy: the op may outlive the request's pool */
    tri_user_t user;         /* who is asking (set by authentication) */
    json_t *aux;             /* a body kept across the steps of a request (token.c) */
    struct tri_audit_rec *audit; /* held until the operation ends (audit.c) */
    tri_api_op_t op;
} tri_req_t;

tri_req_t *tri_req_new(tri_http_t *h, h2o_req_t *req, enum tri_verb verb);
/* Finishes accounting and frees ctx (the response, if any, was sent). */
void tri_req_free(tri_req_t *ctx);
void tri_req_parse_query(h2o_req_t *req, tri_params_t *p);
/* A boolean query parameter as Go's strconv.ParseBool reads it ("1", "t", "true",
 * "True", "TRUE"); clients differ (python-kubernetes sends "True"). */
bool tri_param_true(const char *v);
enum tri_accept tri_req_accept(h2o_req_t *req);
bool tri_req_header_is(h2o_req_t *req, const h2o_token_t *tok, const char *prefix);
/* Whether [p, p+len) is base or below it ("/readyz", "/readyz/ping"). */
bool tri_path_under(const char *p, size_t len, const char *base);
/* /livez, /readyz, /healthz and below: answered to anyone, never authorized (the
 * load balancer's check has no credentials). */
bool tri_is_health_path(const char *p, size_t len);

/* The request body as JSON (by Content-Type: JSON, YAML, protobuf); NULL with st
 * set (400, 413, 415) when it cannot be. */
json_t *tri_decode_body(h2o_req_t *req, tri_status_t *st);
/* POST serviceaccounts/NAME/token (token.c); -1 when answered at once (bad input). */
int tri_do_token_request(tri_req_t *ctx, h2o_req_t *req);

/* Replies (each sets content-length and sends in one go). */
void tri_send_body(h2o_req_t *req, int code, const char *ctype, const char *body, size_t len);
void tri_send_json(h2o_req_t *req, int code, json_t *obj); /* steals obj */
void tri_send_status(h2o_req_t *req, const tri_status_t *st);
void tri_send_error(h2o_req_t *req, int code, const char *reason, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
void tri_metrics_observe(tri_http_t *h, enum tri_verb verb, int code, uint64_t t0_ns);

int tri_route_parse(h2o_req_t *req, tri_route_t *rt, tri_status_t *st);

/* Authentication (authn.c). Setup: ask TLS clients for a certificate from the
 * client CA. Per request: fills u and returns 0, or answers 401 and returns -1. */
int tri_authn_tls_setup(SSL_CTX *ctx, const char *client_ca_file, char *err, size_t errlen);
int tri_authenticate(tri_http_t *h, h2o_req_t *req, const char *path, size_t len, tri_user_t *u);
void tri_authn_cache_free(tri_http_t *h);
/* A bearer service-account token: 0 with u filled, else TRI_EINVAL and why. */
int tri_authn_token(tri_http_t *h, const char *tok, size_t len, tri_user_t *u, char *why,
                    size_t wl);
/* A bearer token of the bootstrap shape (bootstrap.c): 0 with u filled, else
 * TRI_EINVAL and why. */
int tri_authn_bootstrap(tri_http_t *h, const char *tok, size_t len, tri_user_t *u, char *why,
                        size_t wl);
/* Impersonate-User/-Group/-Uid (impersonate.c): u becomes the user asked for when
 * it may; 0, or an answer (400, 403) was sent and -1 returned. */
int tri_impersonate(tri_http_t *h, h2o_req_t *req, tri_user_t *u);
/* Authorization (authz.c): 0 when allowed, else a 403 was sent and -1 returned. */
int tri_authorize_path(tri_http_t *h, h2o_req_t *req, const tri_user_t *u, const char *path,
                       size_t len);
int tri_authorize_resource(tri_http_t *h, h2o_req_t *req, const tri_user_t *u,
                           const tri_route_t *rt, enum tri_verb verb);
/* POST to a review kind (review.c); always answers. */
int tri_handle_review(tri_http_t *h, h2o_req_t *req, const tri_route_t *rt, const tri_user_t *u);

/* Handlers. Each returns 0 once it has taken care of the request. */
/* /triarch/v1/members and /triarch/v1/leader (members.c); -1 for other paths. */
int tri_handle_members(tri_http_t *h, h2o_req_t *req, const char *p, size_t len);
int tri_handle_resource(tri_http_t *h, h2o_req_t *req, tri_route_t *rt, const tri_user_t *u);
int tri_handle_watch(tri_http_t *h, h2o_req_t *req, tri_route_t *rt, const tri_params_t *p,
                     const tri_user_t *u);
int tri_handle_discovery(tri_http_t *h, h2o_req_t *req, const char *path, size_t len);
int tri_handle_openapi(tri_http_t *h, h2o_req_t *req, const char *path, size_t len);
int tri_handle_openapi_v2(tri_http_t *h, h2o_req_t *req, const char *path, size_t len);
/* The OpenAPI schema of a kind from its schema table, with apiVersion and kind
 * (nested messages added to defs, referenced as ref_prefix + name), or NULL when the
 * kind has no table. Shared by /openapi/v3 and /openapi/v2. */
json_t *tri_openapi_kind_schema(const tri_resource_t *r, const char *ref_prefix, json_t *defs);
int tri_handle_health(tri_http_t *h, h2o_req_t *req, const char *path, size_t len);
void tri_streams_end_all(tri_http_t *h);

/* ---------- audit (audit.c) ----------
 * tri_http_audit_begin opens the request's audit record at dispatch; its
 * ResponseComplete event is emitted when h2o disposes of the request, with the
 * status code sent. The others add what only a handler knows; each is a no-op
 * for a request without a record (auditing off, or not dispatched). */
typedef struct tri_audit_rec tri_audit_rec_t;
void tri_http_audit_begin(tri_http_t *h, h2o_req_t *req);
/* Who is asking, once authentication knows (or whatever it knows when it refuses
 * with 401/403). Without it the event says system:anonymous. Resource requests
 * also pick up ctx->user when their operation ends. */
void tri_http_audit_user(h2o_req_t *req, const tri_user_t *user);
void tri_http_audit_status(h2o_req_t *req, const tri_status_t *st); /* reason, message */
void tri_http_audit_name(h2o_req_t *req, const char *name);         /* a create's object */
void tri_http_audit_started(h2o_req_t *req, int code);              /* long-running: started */
/* A tri_req_t holds the record so that a client leaving early does not emit the
 * event before the operation's outcome is known; release gives that outcome. */
tri_audit_rec_t *tri_http_audit_hold(h2o_req_t *req);
void tri_http_audit_release(tri_audit_rec_t *rec, const tri_user_t *user, int code,
                            const tri_status_t *st);
void tri_http_audit_metrics(tri_http_t *h, tri_buf_t *b);
void tri_http_audit_free(tri_http_t *h);

#endif
