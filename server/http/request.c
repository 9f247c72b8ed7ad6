/* Per-request plumbing: the context that carries an asynchronous request across
 * raft round trips (and survives the client leaving), query-parameter parsing,
 * content negotiation and the one-shot replies every handler uses. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "internal.h"
#include "triarch/util.h"

/* Lives in the h2o request pool; its dispose hook tells the context that the
 * client went away, so a late raft answer is dropped instead of sent. */
struct tri_req_handle {
    tri_req_t *ctx;
};

static void on_req_disposed(void *p)
{
    struct tri_req_handle *hd = p;
    if (hd->ctx != NULL)
        hd->ctx->req = NULL;
}

tri_req_t *tri_req_new(tri_http_t *h, h2o_req_t *req, enum tri_verb verb)
{
    tri_req_t *ctx = calloc(1, sizeof *ctx);
    if (ctx == NULL)
        return NULL;
    ctx->http = h;
    ctx->req = req;
    ctx->verb = verb;
    ctx->t0_ns = tri_now_ns();
    ctx->op.data = ctx;
    ctx->handle = h2o_mem_alloc_shared(&req->pool, sizeof *ctx->handle, on_req_disposed);
    ctx->handle->ctx = ctx;
    ctx->audit = tri_http_audit_hold(req);
    return ctx;
}

void tri_req_free(tri_req_t *ctx)
{
    tri_http_audit_release(ctx->audit, &ctx->user,
                           ctx->op.status.code ? ctx->op.status.code : ctx->op.http_code,
                           &ctx->op.status);
    if (ctx->req != NULL)
        ctx->handle->ctx = NULL;
    if (ctx->limited)
        ctx->http->inflight--;
    tri_api_op_release(&ctx->op);
    json_decref(ctx->aux);
    free(ctx);
}

/* ---------- query ---------- */

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Percent-decodes [s, s+n) into a NUL-terminated pool string ('+' is a space). */
static char *decode_component(h2o_mem_pool_t *pool, const char *s, size_t n)
{
    char *out = h2o_mem_alloc_pool(pool, n + 1);
    size_t j = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '%' && i + 2 < n && hexval(s[i + 1]) >= 0 && hexval(s[i + 2]) >= 0) {
            out[j++] = (char)(hexval(s[i + 1]) * 16 + hexval(s[i + 2]));
            i += 2;
        } else if (s[i] == '+') {
            out[j++] = ' ';
        } else {
            out[j++] = s[i];
        }
    }
    out[j] = '\0';
    return out;
}

static const char **param_slot(tri_params_t *p, const char *k)
{
    static const struct {
        const char *name;
        size_t off;
    } map[] = {
        {"watch", offsetof(tri_params_t, watch)},
        {"resourceVersion", offsetof(tri_params_t, resource_version)},
        {"resourceVersionMatch", offsetof(tri_params_t, rv_match)},
        {"labelSelector", offsetof(tri_params_t, label_selector)},
        {"fieldSelector", offsetof(tri_params_t, field_selector)},
        {"continue", offsetof(tri_params_t, continue_token)},
        {"limit", offsetof(tri_params_t, limit)},
        {"timeoutSeconds", offsetof(tri_params_t, timeout_seconds)},
        {"allowWatchBookmarks", offsetof(tri_params_t, allow_bookmarks)},
        {"dryRun", offsetof(tri_params_t, dry_run)},
        {"fieldManager", offsetof(tri_params_t, field_manager)},
        {"fieldValidation", offsetof(tri_params_t, field_validation)},
        {"propagationPolicy", offsetof(tri_params_t, propagation_policy)},
        {"sendInitialEvents", offsetof(tri_params_t, send_initial_events)},
        {"gracePeriodSeconds", offsetof(tri_params_t, grace_period_seconds)},
        {"force", offsetof(tri_params_t, force)},
    };
    for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
        if (strcmp(map[i].name, k) == 0)
            return (const char **)((char *)p + map[i].off);
    return NULL;
}

void tri_req_parse_query(h2o_req_t *req, tri_params_t *p)
{
    memset(p, 0, sizeof *p);
    if (req->query_at == SIZE_MAX)
        return;
    const char *q = req->path.base + req->query_at + 1;
    const char *end = req->path.base + req->path.len;
    while (q < end) {
        const char *amp = memchr(q, '&', (size_t)(end - q));
        const char *pe = amp ? amp : end;
        const char *eq = memchr(q, '=', (size_t)(pe - q));
        const char *ke = eq ? eq : pe;
        char *k = decode_component(&req->pool, q, (size_t)(ke - q));
        const char **slot = param_slot(p, k);
        if (slot != NULL)
            *slot = eq ? decode_component(&req->pool, eq + 1, (size_t)(pe - eq - 1)) : "";
        q = pe + 1;
    }
}

bool tri_param_true(const char *v)
{
    static const char *const yes[] = {"1", "t", "T", "true", "True", "TRUE"};
    for (size_t i = 0; v && i < sizeof yes / sizeof yes[0]; i++)
        if (strcmp(v, yes[i]) == 0)
            return true;
    return false;
}

bool tri_req_header_is(h2o_req_t *req, const h2o_token_t *tok, const char *prefix)
{
    ssize_t i = h2o_find_header(&req->headers, tok, -1);
    if (i < 0)
        return false;
    h2o_iovec_t v = req->headers.entries[i].value;
    size_t n = strlen(prefix);
    return v.len >= n && strncasecmp(v.base, prefix, n) == 0;
}

/* kubectl asks for Tables with "application/json;as=Table;v=v1;g=meta.k8s.io,...". */
enum tri_accept tri_req_accept(h2o_req_t *req)
{
    ssize_t i = h2o_find_header(&req->headers, H2O_TOKEN_ACCEPT, -1);
    if (i < 0)
        return ACC_JSON;
    h2o_iovec_t v = req->headers.entries[i].value;
    if (memmem(v.base, v.len, "as=Table", 8) != NULL)
        return ACC_TABLE;
    return ACC_JSON;
}

/* ---------- replies ---------- */

static const char *reason_phrase(int code)
{
    switch (code) {
    case 200: return "OK";
    case 201: return "Created";
    case 202: return "Accepted";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 406: return "Not Acceptable";
    case 409: return "Conflict";
    case 410: return "Gone";
    case 413: return "Request Entity Too Large";
    case 415: return "Unsupported Media Type";
    case 422: return "Unprocessable Entity";
    case 429: return "Too Many Requests";
    case 500: return "Internal Server Error";
    case 503: return "Service Unavailable";
    case 504: return "Gateway Timeout";
    case 507: return "Insufficient Storage";
    default: return "Status";
    }
}

void tri_send_body(h2o_req_t *req, int code, const char *ctype, const char *body, size_t len)
{
    req->res.status = code;
    req->res.reason = reason_phrase(code);
    req->res.content_length = len;
    h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_CONTENT_TYPE, NULL, ctype,
                   strlen(ctype));
    h2o_send_inline(req, body, len);
}

void tri_send_json(h2o_req_t *req, int code, json_t *obj)
{
    char *s = json_dumps(obj, JSON_COMPACT);
    json_decref(obj);
    if (s == NULL) {
        tri_send_body(req, 500, "text/plain", "out of memory\n", 14);
        return;
    }
    tri_send_body(req, code, "application/json", s, strlen(s));
    free(s);
}

void tri_send_status(h2o_req_t *req, const tri_status_t *st)
{
    tri_http_audit_status(req, st);
    if (st->retry_after > 0 && (st->code == 429 || st->code >= 500)) {
        char *ra = h2o_mem_alloc_pool(&req->pool, 16);
        int n = snprintf(ra, 16, "%d", st->retry_after);
        h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_RETRY_AFTER, NULL, ra,
                       (size_t)n);
    }
    tri_send_json(req, st->code, tri_status_json(st));
}

void tri_send_error(h2o_req_t *req, int code, const char *reason, const char *fmt, ...)
{
    tri_status_t st = {0};
    st.code = code;
    st.reason = reason;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(st.message, sizeof st.message, fmt, ap);
    va_end(ap);
    if (code == 429)
        st.retry_after = 1;
    tri_send_status(req, &st);
}

/* ---------- metrics ---------- */

const double tri_lat_bounds[TRI_LAT_BUCKETS] = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
                                                0.1,    0.25,  0.5,    1,     2.5,   5,    10};
const char *const tri_verb_names[V_COUNT] = {"GET",   "LIST",   "WATCH",  "POST",  "PUT",
                                             "PATCH", "DELETE", "DELETECOLLECTION", "OTHER"};

void tri_metrics_observe(tri_http_t *h, enum tri_verb verb, int code, uint64_t t0_ns)
{
    int cls = code / 100;
    if (cls < 1 || cls > 5)
        cls = 5;
    h->metrics.requests[verb][cls]++;
    double s = (double)(tri_now_ns() - t0_ns) / 1e9;
    h->metrics.lat_count[verb]++;
    h->metrics.lat_sum[verb] += s;
    for (int i = 0; i < TRI_LAT_BUCKETS; i++)
        if (s <= tri_lat_bounds[i])
            h->metrics.lat_bucket[verb][i]++;
}

bool tri_path_under(const char *p, size_t len, const char *base)
{
    size_t n = strlen(base);
    return len >= n && memcmp(p, base, n) == 0 && (len == n || p[n] == '/');
}

bool tri_is_health_path(const char *p, size_t len)
{
    return tri_path_under(p, len, "/livez") || tri_path_under(p, len, "/readyz") ||
           tri_path_under(p, len, "/healthz");
}
