/* The audit log's hook into the HTTP server.
 *
 * Every request that reaches the handler gets a record (tri_http_audit_begin, at
 * the top of dispatch) holding what the event needs that will be gone later: the
 * request line, client address, user agent, timestamps, an audit ID (also sent back
 * as the Audit-Id header, as kube-apiserver does) and, when the policy can record
 * bodies, a copy of the request body. Records are found again from the h2o request
 * through a small table keyed by its address, so the few places that know more —
 * the Status sent (reason, message), the authenticated user, the name of a created
 * object, a watch whose stream starts — add it without threading a pointer through
 * every handler.
 *
 * The ResponseComplete event is emitted when h2o disposes of the request, which it
 * does once the response is complete (or the client has gone): one exit that every
 * answer passes through, whichever handler gave it. A resource request whose client
 * left before the answer is held (tri_http_audit_hold) by its tri_req_t, and its
 * event waits for the operation's real outcome (tri_http_audit_release).
 * The policy is evaluated when the event is emitted, with the user known by then. */
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>

#include "internal.h"
#include "triarch/codec.h"
#include "triarch/log.h"
#include "triarch/util.h"

#define TAB_SIZE 1024 /* buckets; records live as long as their requests */
#define MAX_URI 8192  /* longer request URIs are cut */

struct tri_audit_rec {
    tri_audit_rec_t *hnext;
    tri_http_t *h;
    h2o_req_t *req; /* NULL once h2o disposed of it */
    unsigned holds;
    tri_audit_reqinfo_t info;
    tri_user_t *user; /* NULL until someone says who asks */
    char audit_id[37];
    char ip[INET6_ADDRSTRLEN];
    char *uri, *user_agent;
    int64_t received_us;
    uint64_t t0_ns;     /* monotonic, at begin */
    uint64_t waited_ns; /* between receipt and begin (body upload, queueing) */
    int code;
    char reason[64];
    char *message;
    char *body; /* only when the policy records bodies */
    size_t body_len;
    char ctype[128];
};

struct rec_handle {
    tri_audit_rec_t *rec;
};

/* ---------- the table ---------- */

static size_t slot_of(const h2o_req_t *req)
{
    return ((uintptr_t)req >> 6) % TAB_SIZE;
}

static tri_http_t *http_of(h2o_req_t *req)
{
    return H2O_STRUCT_FROM_MEMBER(tri_http_t, ctx, req->conn->ctx);
}

static tri_audit_rec_t *rec_of(h2o_req_t *req)
{
    tri_http_t *h = req ? http_of(req) : NULL;
    if (h == NULL || h->audit_tab == NULL)
        return NULL;
    for (tri_audit_rec_t *r = h->audit_tab[slot_of(req)]; r; r = r->hnext)
        if (r->req == req)
            return r;
    return NULL;
}

static void unlink_rec(tri_audit_rec_t *rec)
{
    tri_audit_rec_t **pp = &rec->h->audit_tab[slot_of(rec->req)];
    while (*pp && *pp != rec)
        pp = &(*pp)->hnext;
    if (*pp)
        *pp = rec->hnext;
    rec->hnext = NULL;
}

static void rec_free(tri_audit_rec_t *rec)
{
    free(rec->user);
    free(rec->uri);
    free(rec->user_agent);
    free(rec->message);
    free(rec->body);
    free(rec);
}

/* ---------- emitting ---------- */

static int64_t unix_us(void)
{
    struct timeval tv;
    gettimeofday(&tv, NULL);
    return (int64_t)tv.tv_sec * 1000000 + tv.tv_usec;
}

/* Who a request is from before (or without) authentication, as Kubernetes names it. */
static const tri_user_t anonymous = {
    .name = "system:anonymous",
    .groups = {"system:unauthenticated"},
    .n_groups = 1,
};

static const tri_user_t *user_of(const tri_audit_rec_t *rec)
{
    return rec->user && rec->user->name[0] ? rec->user : &anonymous;
}

static void set_user(tri_audit_rec_t *rec, const tri_user_t *user)
{
    if (rec->user == NULL && (rec->user = malloc(sizeof *rec->user)) == NULL)
        return;
    *rec->user = *user;
}

static tri_audit_level_t level_of(const tri_audit_rec_t *rec, const tri_user_t *u, unsigned *omit,
                                  bool *omit_mf)
{
    const tri_audit_reqinfo_t *in = &rec->info;
    tri_authz_attrs_t at = {
        .user = u,
        .verb = in->verb,
        .resource_request = in->resource_request,
        .namespace_ = in->namespace_,
        .api_group = in->api_group,
        .api_version = in->api_version,
        .resource = in->resource,
        .subresource = in->subresource,
        .name = in->name,
        .path = in->path,
    };
    return tri_audit_policy_eval(tri_audit_get_policy(rec->h->audit), &at, omit, omit_mf);
}

static json_t *decode_body(const tri_audit_rec_t *rec, bool omit_mf)
{
    char err[128];
    json_t *o;
    if (!strncmp(rec->ctype, "application/vnd.kubernetes.protobuf", 35))
        o = tri_protobuf_decode(rec->body, rec->body_len, err, sizeof err);
    else if (!strncmp(rec->ctype, "application/yaml", 16) ||
             !strncmp(rec->ctype, "application/apply-patch+yaml", 28))
        o = tri_yaml_decode(rec->body, rec->body_len, err, sizeof err);
    else
        o = json_loadb(rec->body, rec->body_len, JSON_DECODE_ANY, NULL);
    if (omit_mf && json_is_object(o))
        json_object_del(json_object_get(o, "metadata"), "managedFields");
    return o;
}

static void emit(tri_audit_rec_t *rec, enum tri_audit_stage stage, int code)
{
    const tri_user_t *u = user_of(rec);
    unsigned omit = 0;
    bool omit_mf = false;
    tri_audit_level_t level = level_of(rec, u, &omit, &omit_mf);
    if (level == TRI_AUDIT_NONE || (omit & stage))
        return;
    json_t *obj = NULL;
    if (level >= TRI_AUDIT_REQUEST && rec->body != NULL)
        obj = decode_body(rec, omit_mf);
    tri_audit_event_t ev = {
        .level = level,
        .stage = stage,
        .audit_id = rec->audit_id,
        .request_uri = rec->uri,
        .info = &rec->info,
        .user = u,
        .source_ip = rec->ip,
        .user_agent = rec->user_agent,
        .code = code,
        .reason = rec->reason,
        .message = rec->message,
        .received_us = rec->received_us,
        .stage_us = unix_us(),
        .latency_ms = (double)(tri_now_ns() - rec->t0_ns + rec->waited_ns) / 1e6,
        .request_object = obj,
    };
    tri_audit_emit(rec->h->audit, &ev);
    json_decref(obj);
}

static void finish(tri_audit_rec_t *rec)
{
    emit(rec, TRI_AUDIT_STAGE_RESPONSE_COMPLETE, rec->code);
    rec_free(rec);
}

/* h2o is done with the request: the response is complete or the client left. */
static void on_req_disposed(void *p)
{
    tri_audit_rec_t *rec = ((struct rec_handle *)p)->rec;
    if (rec->req->res.status != 0)
        rec->code = rec->req->res.status;
    unlink_rec(rec);
    rec->req = NULL;
    if (rec->holds == 0)
        finish(rec);
}

/* ---------- begin ---------- */

static char *header_dup(h2o_req_t *req, const h2o_token_t *tok, size_t max)
{
    ssize_t i = h2o_find_header(&req->headers, tok, -1);
    if (i < 0)
        return NULL;
    h2o_iovec_t v = req->headers.entries[i].value;
    return strndup(v.base, v.len < max ? v.len : max);
}

static void peer_ip(h2o_req_t *req, char *out, size_t cap)
{
    struct sockaddr_storage ss;
    out[0] = '\0';
    if (req->conn->callbacks->get_peername == NULL ||
        req->conn->callbacks->get_peername(req->conn, (struct sockaddr *)&ss) == 0)
        return;
    if (ss.ss_family == AF_INET)
        inet_ntop(AF_INET, &((struct sockaddr_in *)&ss)->sin_addr, out, (socklen_t)cap);
    else if (ss.ss_family == AF_INET6)
        inet_ntop(AF_INET6, &((struct sockaddr_in6 *)&ss)->sin6_addr, out, (socklen_t)cap);
}

static bool is_write(const tri_audit_reqinfo_t *in)
{
    static const char *const w[] = {"create", "update", "patch", "delete", "deletecollection"};
    for (size_t i = 0; i < sizeof w / sizeof w[0]; i++)
        if (!strcmp(in->verb, w[i]))
            return true;
    return false;
}

/* The body, for level Request; never for resources capped at Metadata. */
static void keep_body(tri_http_t *h, tri_audit_rec_t *rec, h2o_req_t *req)
{
    const tri_audit_reqinfo_t *in = &rec->info;
    if (!tri_audit_wants_bodies(h->audit) || !in->resource_request || !is_write(in) ||
        req->entity.base == NULL || req->entity.len == 0 || req->entity.len > TRI_MAX_BODY_BYTES ||
        tri_audit_capped(in->api_group, in->resource, in->subresource))
        return;
    rec->body = malloc(req->entity.len);
    if (rec->body == NULL)
        return;
    memcpy(rec->body, req->entity.base, req->entity.len);
    rec->body_len = req->entity.len;
    ssize_t i = h2o_find_header(&req->headers, H2O_TOKEN_CONTENT_TYPE, -1);
    if (i >= 0) {
        h2o_iovec_t v = req->headers.entries[i].value;
        snprintf(rec->ctype, sizeof rec->ctype, "%.*s", (int)v.len, v.base);
    }
}

static void stamp(tri_audit_rec_t *rec, h2o_req_t *req)
{
    int64_t now = unix_us();
    struct timeval b = req->timestamps.request_begin_at;
    rec->received_us = now;
    if (b.tv_sec != 0) {
        int64_t got = (int64_t)b.tv_sec * 1000000 + b.tv_usec;
        if (got <= now) {
            rec->received_us = got;
            rec->waited_ns = (uint64_t)(now - got) * 1000;
        }
    }
    rec->t0_ns = tri_now_ns();
}

void tri_http_audit_begin(tri_http_t *h, h2o_req_t *req)
{
    if (!tri_audit_enabled(h->audit))
        return;
    if (h->audit_tab == NULL && (h->audit_tab = calloc(TAB_SIZE, sizeof *h->audit_tab)) == NULL)
        return;
    tri_audit_rec_t *rec = calloc(1, sizeof *rec);
    struct rec_handle *hd =
        rec ? h2o_mem_alloc_shared(&req->pool, sizeof *hd, on_req_disposed) : NULL;
    if (hd == NULL) {
        free(rec);
        return;
    }
    hd->rec = rec;
    rec->h = h;
    rec->req = req;
    stamp(rec, req);
    tri_audit_new_id(h->audit, rec->audit_id);
    h2o_iovec_t path = req->input.path;
    rec->uri = strndup(path.base, path.len < MAX_URI ? path.len : MAX_URI);
    rec->user_agent = header_dup(req, H2O_TOKEN_USER_AGENT, 1024);
    peer_ip(req, rec->ip, sizeof rec->ip);
    tri_audit_reqinfo_parse(req->method.base, req->method.len, path.base, path.len, &rec->info);
    keep_body(h, rec, req);
    rec->hnext = h->audit_tab[slot_of(req)];
    h->audit_tab[slot_of(req)] = rec;
    h2o_add_header_by_str(&req->pool, &req->res.headers, H2O_STRLIT("audit-id"), 0, NULL,
                          h2o_strdup(&req->pool, rec->audit_id, 36).base, 36);
}

/* ---------- what handlers add ---------- */

void tri_http_audit_user(h2o_req_t *req, const tri_user_t *user)
{
    tri_audit_rec_t *rec = rec_of(req);
    if (rec != NULL && user != NULL)
        set_user(rec, user);
}

static void note_status(tri_audit_rec_t *rec, const tri_status_t *st)
{
    if (st == NULL || st->code < 400)
        return;
    snprintf(rec->reason, sizeof rec->reason, "%s", st->reason ? st->reason : "");
    free(rec->message);
    rec->message = strndup(st->message, sizeof st->message);
}

void tri_http_audit_status(h2o_req_t *req, const tri_status_t *st)
{
    tri_audit_rec_t *rec = rec_of(req);
    if (rec != NULL)
        note_status(rec, st);
}

void tri_http_audit_name(h2o_req_t *req, const char *name)
{
    tri_audit_rec_t *rec = rec_of(req);
    if (rec != NULL && name != NULL && rec->info.name[0] == '\0')
        snprintf(rec->info.name, sizeof rec->info.name, "%s", name);
}

void tri_http_audit_started(h2o_req_t *req, int code)
{
    tri_audit_rec_t *rec = rec_of(req);
    if (rec != NULL)
        emit(rec, TRI_AUDIT_STAGE_RESPONSE_STARTED, code);
}

tri_audit_rec_t *tri_http_audit_hold(h2o_req_t *req)
{
    tri_audit_rec_t *rec = rec_of(req);
    if (rec != NULL)
        rec->holds++;
    return rec;
}

void tri_http_audit_release(tri_audit_rec_t *rec, const tri_user_t *user, int code,
                            const tri_status_t *st)
{
    if (rec == NULL)
        return;
    if (user != NULL && user->name[0] && (rec->user == NULL || rec->user->name[0] == '\0'))
        set_user(rec, user);
    rec->holds--;
    if (rec->req != NULL || rec->holds > 0)
        return; /* the response is still on its way: disposal emits */
    if (rec->code == 0) {
        rec->code = code; /* the client left before the answer: record the outcome */
        note_status(rec, st);
    }
    finish(rec);
}

void tri_http_audit_metrics(tri_http_t *h, tri_buf_t *b)
{
    tri_audit_stats_t st;
    tri_audit_get_stats(h->audit, &st);
    tri_buf_appendf(b,
                    "# HELP triarch_audit_events_total Audit events queued for the audit log.\n"
                    "# TYPE triarch_audit_events_total counter\ntriarch_audit_events_total %llu\n"
                    "# HELP triarch_audit_events_dropped_total Audit events dropped because the "
                    "writer's queue was full (the disk did not keep up).\n"
                    "# TYPE triarch_audit_events_dropped_total counter\n"
                    "triarch_audit_events_dropped_total %llu\n"
                    "# HELP triarch_audit_write_errors_total Audit events lost to write errors.\n"
                    "# TYPE triarch_audit_write_errors_total counter\n"
                    "triarch_audit_write_errors_total %llu\n"
                    "# TYPE triarch_audit_rotations_total counter\n"
                    "triarch_audit_rotations_total %llu\n",
                    (unsigned long long)st.events, (unsigned long long)st.dropped,
                    (unsigned long long)st.write_errors, (unsigned long long)st.rotations);
}

void tri_http_audit_free(tri_http_t *h)
{
    free(h->audit_tab);
    h->audit_tab = NULL;
}
