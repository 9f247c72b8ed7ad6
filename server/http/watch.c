/* Watch responses: `?watch=1` streams of `{"type":...,"object":...}` lines.
 *
 * A stream pulls events from its tri_api_watch_t when h2o is ready for more
 * (h2o allows one send in flight per request: the next waits for `proceed`), so
 * a slow client holds at most one buffer here; if it falls behind the store's
 * event ring, the watch ends with a 410 ERROR event and the client relists.
 * Heartbeats (a bare newline) keep idle connections alive and reveal HTTP/1.1
 * clients that left; bookmarks go out when asked for; every watch ends after its
 * timeoutSeconds (or a random span in [min-request-timeout, 2x], as
 * kube-apiserver spreads reconnects). Watches do not count against the
 * in-flight limit; they have their own cap. */
#include <stdio.h>
#include <string.h>

#include "internal.h"
#include "triarch/log.h"
#include "triarch/util.h"

#define MAX_BATCH_BYTES (256 * 1024) /* events coalesced into one send */

struct tri_stream {
    h2o_generator_t gen;
    tri_http_t *h;
    h2o_req_t *req;       /* NULL once the client left or the response ended */
    struct tri_stream_handle *handle;
    tri_api_watch_t *w;
    const tri_resource_t *res;
    bool table;
    bool bookmarks;
    bool sending;         /* a send is in flight: wait for proceed */
    bool finished;        /* final sent or client gone */
    bool end_requested;   /* timeout or shutdown: send final at the next chance */
    bool closing;
    tri_buf_t bufs[2];    /* the one in flight stays alive until proceed */
    int cur;
    uv_timer_t tick;
    uint64_t deadline_ms;
    uint64_t last_send_ms;
    uint64_t last_bookmark_ms;
    uint64_t t0_ns;
    int pending_closes;
    tri_stream_t *next, *prev;
};

struct tri_stream_handle {
    tri_stream_t *s;
};

static void stream_try_send(tri_stream_t *s);

static void on_stream_req_disposed(void *p)
{
    struct tri_stream_handle *hd = p;
    if (hd->s != NULL) {
        hd->s->req = NULL;
        hd->s->finished = true;
    }
}

static void unlink_stream(tri_stream_t *s)
{
    tri_http_t *h = s->h;
    if (s->prev)
        s->prev->next = s->next;
    else if (h->streams == s)
        h->streams = s->next;
    if (s->next)
        s->next->prev = s->prev;
    s->next = s->prev = NULL;
}

static void on_tick_closed(uv_handle_t *hd)
{
    tri_stream_t *s = hd->data;
    tri_buf_free(&s->bufs[0]);
    tri_buf_free(&s->bufs[1]);
    free(s);
}

/* Releases everything once no h2o callback can reach the stream any more. */
static void stream_destroy(tri_stream_t *s)
{
    if (s->closing)
        return;
    s->closing = true;
    if (s->handle && s->req)
        s->handle->s = NULL;
    unlink_stream(s);
    tri_metrics_observe(s->h, V_WATCH, 200, s->t0_ns);
    tri_api_watch_stop(s->w);
    s->w = NULL;
    uv_timer_stop(&s->tick);
    uv_close((uv_handle_t *)&s->tick, on_tick_closed);
}

static void append_event(tri_stream_t *s, tri_buf_t *b, const char *type, json_t *obj)
{
    json_t *o = obj;
    if (s->table && strcmp(type, "ERROR") != 0 && strcmp(type, "BOOKMARK") != 0)
        o = tri_table_for_object(s->res, obj);
    else
        json_incref(o);
    char *js = json_dumps(o, JSON_COMPACT);
    json_decref(o);
    if (js == NULL)
        return;
    tri_buf_appendf(b, "{\"type\":\"%s\",\"object\":%s}\n", type, js);
    free(js);
    s->h->metrics.watch_events_sent++;
}

static const char *type_name(enum tri_watch_event_type t)
{
    switch (t) {
    case TRI_WATCH_ADDED: return "ADDED";
    case TRI_WATCH_MODIFIED: return "MODIFIED";
    case TRI_WATCH_DELETED: return "DELETED";
    case TRI_WATCH_BOOKMARK: return "BOOKMARK";
    default: return "ERROR";
    }
}

/* Fills the free buffer with pending events; returns true if the watch ended. */
static bool fill(tri_stream_t *s, tri_buf_t *b)
{
    tri_api_event_t ev;
    while (b->len < MAX_BATCH_BYTES) {
        int rc = tri_api_watch_next(s->w, &ev);
        if (rc == 0)
            return false;
        if (rc < 0)
            return true;
        if (ev.raw != NULL) {
            /* stored bytes with the resourceVersion spliced in: no parse, no encode */
            tri_buf_appendf(b, "{\"type\":\"%s\",\"object\":", type_name(ev.type));
            tri_object_render(ev.raw, ev.raw_rev, b);
            tri_buf_append(b, "}\n", 2);
            tri_val_unref(ev.raw);
            s->h->metrics.watch_events_sent++;
        } else {
            append_event(s, b, type_name(ev.type), ev.obj);
        }
        json_decref(ev.obj);
        if (ev.type == TRI_WATCH_ERROR)
            return true;
    }
    return false;
}

static void send_buf(tri_stream_t *s, tri_buf_t *b, h2o_send_state_t state)
{
    h2o_iovec_t iov = h2o_iovec_init(b->data, b->len);
    if (state != H2O_SEND_STATE_IN_PROGRESS && b->len > 0) {
        /* the stream is freed right after a final send: the bytes go with the request */
        iov.base = h2o_mem_alloc_pool(&s->req->pool, b->len);
        memcpy(iov.base, b->data, b->len);
    }
    s->sending = state == H2O_SEND_STATE_IN_PROGRESS;
    s->last_send_ms = tri_now_ms();
    if (state != H2O_SEND_STATE_IN_PROGRESS) {
        s->finished = true;
        s->handle->s = NULL;
    }
    h2o_send(s->req, &iov, b->len ? 1 : 0, state);
}

static void stream_try_send(tri_stream_t *s)
{
    if (s->finished) {
        if (!s->sending)
            stream_destroy(s);
        return;
    }
    if (s->sending || s->req == NULL)
        return;
    s->cur ^= 1;
    tri_buf_t *b = &s->bufs[s->cur];
    tri_buf_reset(b);
    bool ended = fill(s, b);
    uint64_t now = tri_now_ms();
    if (!ended && s->bookmarks && now - s->last_bookmark_ms >= s->h->cfg.watch_bookmark_ms) {
        json_t *bm = tri_api_watch_bookmark(s->w);
        append_event(s, b, "BOOKMARK", bm);
        json_decref(bm);
        s->last_bookmark_ms = now;
    }
    if (ended || s->end_requested || now >= s->deadline_ms) {
        send_buf(s, b, H2O_SEND_STATE_FINAL);
        stream_destroy(s);
        return;
    }
    if (b->len == 0 && now - s->last_send_ms >= s->h->cfg.watch_heartbeat_ms)
        tri_buf_append(b, "\n", 1); /* h2o misbehaves on 0-byte in-progress sends */
    if (b->len > 0)
        send_buf(s, b, H2O_SEND_STATE_IN_PROGRESS);
}

static void on_proceed(h2o_generator_t *g, h2o_req_t *req)
{
    tri_stream_t *s = (tri_stream_t *)g;
    s->sending = false;
    stream_try_send(s);
}

static void on_stop(h2o_generator_t *g, h2o_req_t *req)
{
    tri_stream_t *s = (tri_stream_t *)g;
    s->req = NULL;
    s->finished = true;
    s->sending = false;
    if (s->handle)
        s->handle->s = NULL;
    stream_destroy(s);
}

static void on_watch_ready(tri_api_watch_t *w, void *data)
{
    stream_try_send(data);
}

static void on_tick(uv_timer_t *t)
{
    stream_try_send(t->data);
}

static uint64_t watch_lifetime_ms(tri_http_t *h, const tri_params_t *p)
{
    long t = p->timeout_seconds ? strtol(p->timeout_seconds, NULL, 10) : 0;
    if (t > 0)
        return (uint64_t)t * 1000;
    uint32_t r = 0;
    tri_random_bytes(&r, sizeof r);
    uint64_t min = (uint64_t)h->cfg.min_request_timeout_s * 1000;
    return min + (min ? r % min : 0);
}

void tri_streams_end_all(tri_http_t *h)
{
    for (tri_stream_t *s = h->streams, *next; s; s = next) {
        next = s->next;
        s->end_requested = true;
        stream_try_send(s);
    }
}

static size_t stream_count(tri_http_t *h)
{
    size_t n = 0;
    for (tri_stream_t *s = h->streams; s; s = s->next)
        n++;
    return n;
}

int tri_handle_watch(tri_http_t *h, h2o_req_t *req, tri_route_t *rt, const tri_params_t *p,
                     const tri_user_t *u)
{
    if (stream_count(h) >= h->cfg.max_watches) {
        h->metrics.rejected_inflight++;
        tri_send_error(req, 429, "TooManyRequests",
                       "Too many open watches on this replica, please try again later.");
        return 0;
    }
    tri_stream_t *s = calloc(1, sizeof *s);
    if (s == NULL) {
        tri_send_error(req, 500, "InternalError", "out of memory");
        return 0;
    }
    s->h = h;
    s->req = req;
    s->res = rt->res;
    s->t0_ns = tri_now_ns();
    s->table = tri_req_accept(req) == ACC_TABLE;
    s->bookmarks = tri_param_true(p->allow_bookmarks);
    tri_api_watch_opts_t wo = {
        .label_selector = p->label_selector,
        .field_selector = p->field_selector,
        .resource_version = p->resource_version,
        .send_initial_events = tri_param_true(p->send_initial_events),
        .raw_ok = !s->table,
    };
    tri_status_t st = {0};
    if (tri_api_watch_start(h->api, rt->res, rt->ns, rt->collection ? NULL : rt->name, &wo,
                            on_watch_ready, s, &s->w, &st) != 0) {
        if (st.code == 0)
            tri_status_set(&st, 500, "InternalError", "could not start the watch");
        tri_send_status(req, &st);
        tri_status_clear(&st);
        free(s);
        return 0;
    }
    s->handle = h2o_mem_alloc_shared(&req->pool, sizeof *s->handle, on_stream_req_disposed);
    s->handle->s = s;
    s->gen.proceed = on_proceed;
    s->gen.stop = on_stop;
    s->next = h->streams;
    if (h->streams)
        h->streams->prev = s;
    h->streams = s;
    uint64_t now = tri_now_ms();
    s->deadline_ms = now + watch_lifetime_ms(h, p);
    s->last_bookmark_ms = now;
    uv_timer_init(h->loop, &s->tick);
    s->tick.data = s;
    uint64_t period = h->cfg.watch_heartbeat_ms < 1000 ? h->cfg.watch_heartbeat_ms : 1000;
    uv_timer_start(&s->tick, on_tick, period, period);
    req->res.status = 200;
    req->res.reason = "OK";
    h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_CONTENT_TYPE, NULL,
                   H2O_STRLIT("application/json"));
    h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_CACHE_CONTROL, NULL,
                   H2O_STRLIT("no-cache, private"));
    h2o_start_response(req, &s->gen);
    tri_http_audit_started(req, 200);
    /* Send the headers with a first heartbeat so clients see the watch open. */
    s->cur = 0;
    tri_buf_t *b = &s->bufs[0];
    bool ended = fill(s, b);
    if (b->len == 0)
        tri_buf_append(b, "\n", 1);
    if (ended) {
        send_buf(s, b, H2O_SEND_STATE_FINAL);
        stream_destroy(s);
        return 0;
    }
    send_buf(s, b, H2O_SEND_STATE_IN_PROGRESS);
    return 0;
}
