/* The replica-to-replica channel over which a follower hands writes and read-index
 * requests to the leader.
 *
 * A follower keeps one FORWARD connection (a mutual-TLS peer channel, chan.c; see
 * transport.c for the handshake inside it) to
 * the leader it currently knows; when the leader changes, the old connection is
 * retired: it stays open until the requests already sent on it are answered, then
 * closes. Frames, both ways, little endian:
 *
 *   [u32 len][u8 type][u64 request id][payload]      len counts type + id + payload
 *   PROPOSE  follower -> leader   payload: the encoded txn (tri_txn_encode)
 *   RESULT   leader -> follower   u32 status, u32 res.status, u64 res.revision,
 *                                 u32 res.failed_cmp, u64 res.failed_mod_rev
 *   BARRIER  follower -> leader   no payload
 *   INDEX    leader -> follower   u32 status, u64 index reached by the leader's barrier
 *
 * Status TRI_ENOTLEADER in an answer means "I am not the leader (any more)": the
 * follower queues the request again and sends it to the new leader. A connection
 * that drops while a PROPOSE is unanswered completes it with TRI_EUNKNOWN (it may
 * have committed); an unanswered BARRIER is simply asked again (it is idempotent).
 *
 * Leader side: a PROPOSE joins the node's batch (node.c), whose raft_apply
 * callback answers on the connection if it is still there; a BARRIER joins the
 * node's shared barrier (node.c), so many followers' reads ride on one raft_barrier.
 */
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "triarch/log.h"

enum { FWD_PROPOSE = 1, FWD_RESULT = 2, FWD_BARRIER = 3, FWD_INDEX = 4 };

#define FWD_HEADER 13 /* u32 len + u8 type + u64 id */
/* A txn carries objects of at most a few MiB (Kubernetes caps requests at 3 MiB);
 * anything larger than this is a broken or hostile peer. */
#define FWD_FRAME_MAX (64u << 20)
/* After a failed connect to the leader, wait this long before the next attempt. */
#define FWD_RETRY_MS 50
#define FWD_RESULT_LEN 28
#define FWD_INDEX_LEN 12

struct tri_fwd_conn {
    tri_node_t *n;
    uint64_t leader_id;
    char addr[TRI_ADDR_MAX + 1];
    tri_dial_t *dial;
    tri_chan_t *ch;
    bool connected, retiring, dead;
    tri_buf_t rbuf;
    tri_buf_t wbuf; /* frames not yet handed to the socket (tri_fwd_flush) */
    size_t unflushed_p; /* the last this many of sent_p are still in wbuf */
    tri_propose_t sent_p;
    tri_waiter_t sent_w;
    struct tri_fwd_conn *next, *prev;
};

struct tri_fwd_srv {
    tri_node_t *n;
    tri_chan_t *ch;
    uint64_t peer_id;
    uint64_t id; /* batches name the connection to answer on by this, not by pointer */
    tri_buf_t rbuf;
    tri_buf_t wbuf; /* frames not yet handed to the socket (tri_fwd_flush) */
    struct tri_fwd_srv *next, *prev;
};

/* ---------- framing ---------- */

static void put_u32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static void put_u64(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static uint32_t get_u32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t get_u64(const uint8_t *p)
{
    return (uint64_t)get_u32(p) | (uint64_t)get_u32(p + 4) << 32;
}

/* Frames are queued per connection and written together by tri_fwd_flush, which
 * the node's pump calls before the loop waits again: under load one write(2)
 * carries many frames, and a lone frame waits for nothing. */
static int fwd_queue(tri_buf_t *wbuf, uint8_t type, uint64_t id, const void *payload, size_t len)
{
    if (tri_buf_reserve(wbuf, FWD_HEADER + len) != 0)
        return TRI_ENOMEM;
    uint8_t *p = (uint8_t *)wbuf->data + wbuf->len;
    put_u32(p, (uint32_t)(1 + 8 + len));
    p[4] = type;
    put_u64(p + 5, id);
    if (len > 0)
        memcpy(p + FWD_HEADER, payload, len);
    wbuf->len += FWD_HEADER + len;
    return 0;
}

/* Hands the queued frames to the channel as one TLS write (the channel copies
 * them into its records), so the buffer is reused by the next batch. */
static int fwd_flush_one(tri_chan_t *ch, tri_buf_t *wbuf)
{
    if (wbuf->len == 0)
        return 0;
    int rv = tri_chan_write(ch, wbuf->data, wbuf->len);
    wbuf->len = 0;
    return rv;
}

static int fwd_append(tri_buf_t *rb, const uint8_t *p, size_t len)
{
    return tri_buf_append(rb, p, len);
}

typedef int (*fwd_frame_fn)(void *ctx, uint8_t type, uint64_t id, const uint8_t *p, size_t len);

/* Consumes every complete frame in rb; -1 if the stream is malformed or fn failed. */
static int fwd_parse(tri_buf_t *rb, fwd_frame_fn fn, void *ctx)
{
    size_t off = 0;
    int rv = 0;
    while (rb->len - off >= 4) {
        const uint8_t *p = (const uint8_t *)rb->data + off;
        uint32_t len = get_u32(p);
        if (len < 9 || len > FWD_FRAME_MAX) {
            rv = -1;
            break;
        }
        if (rb->len - off < 4 + (size_t)len)
            break;
        rv = fn(ctx, p[4], get_u64(p + 5), p + FWD_HEADER, len - 9);
        off += 4 + (size_t)len;
        if (rv != 0)
            break;
    }
    if (rv == 0 && off > 0) {
        memmove(rb->data, rb->data + off, rb->len - off);
        rb->len -= off;
    }
    return rv;
}

/* ---------- leader side ---------- */

static void srv_close(tri_fwd_srv_t *s)
{
    tri_node_t *n = s->n;
    /* Batches in raft that hold its txns find no connection with its id any more. */
    for (tri_sbar_t *b = n->sb_next.next; b != &n->sb_next; b = b->next)
        if (b->srv == s)
            b->srv = NULL;
    for (tri_sbar_t *b = n->sb_cur.next; b != &n->sb_cur; b = b->next)
        if (b->srv == s)
            b->srv = NULL;
    if (s->prev != NULL)
        s->prev->next = s->next;
    else
        n->fwd_srvs = s->next;
    if (s->next != NULL)
        s->next->prev = s->prev;
    tri_chan_abandon(s->ch);
    tri_buf_free(&s->rbuf);
    tri_buf_free(&s->wbuf);
    free(s);
}

void tri_fwd_reply_result(tri_fwd_srv_t *s, uint64_t req_id, int status,
                          const tri_txn_result_t *res)
{
    uint8_t p[FWD_RESULT_LEN];
    tri_txn_result_t none = {.failed_cmp = -1};
    if (res == NULL)
        res = &none;
    put_u32(p, (uint32_t)status);
    put_u32(p + 4, (uint32_t)res->status);
    put_u64(p + 8, (uint64_t)res->revision);
    put_u32(p + 16, (uint32_t)res->failed_cmp);
    put_u64(p + 20, (uint64_t)res->failed_mod_rev);
    fwd_queue(&s->wbuf, FWD_RESULT, req_id, p, sizeof p);
}

void tri_fwd_reply_index(tri_fwd_srv_t *s, uint64_t req_id, int status, uint64_t index)
{
    uint8_t p[FWD_INDEX_LEN];
    put_u32(p, (uint32_t)status);
    put_u64(p + 4, index);
    fwd_queue(&s->wbuf, FWD_INDEX, req_id, p, sizeof p);
}

tri_fwd_srv_t *tri_fwd_srv_find(tri_node_t *n, uint64_t srv_id)
{
    for (tri_fwd_srv_t *s = n->fwd_srvs; s != NULL; s = s->next)
        if (s->id == srv_id)
            return s;
    return NULL;
}

static void srv_propose(tri_fwd_srv_t *s, uint64_t req_id, const uint8_t *txn, size_t len)
{
    tri_node_t *n = s->n;
    if (!tri_node_is_leader(n)) {
        tri_fwd_reply_result(s, req_id, TRI_ENOTLEADER, NULL);
        return;
    }
    if (tri_node_batch_add(n, NULL, false, s->id, req_id, txn, len) != 0) {
        tri_fwd_reply_result(s, req_id, TRI_EUNAVAIL, NULL);
        return;
    }
    n->forwards_served++;
}

static void srv_barrier(tri_fwd_srv_t *s, uint64_t req_id)
{
    tri_node_t *n = s->n;
    if (!tri_node_is_leader(n)) {
        tri_fwd_reply_index(s, req_id, TRI_ENOTLEADER, 0);
        return;
    }
    tri_sbar_t *b = calloc(1, sizeof *b);
    if (b == NULL) {
        tri_fwd_reply_index(s, req_id, TRI_EUNAVAIL, 0);
        return;
    }
    b->srv = s;
    b->req_id = req_id;
    TRI_LIST_PUSH(&n->sb_next, b);
    n->forwards_served++;
}

static int srv_frame(void *ctx, uint8_t type, uint64_t id, const uint8_t *p, size_t len)
{
    tri_fwd_srv_t *s = ctx;
    if (type == FWD_PROPOSE) {
        srv_propose(s, id, p, len);
        return 0;
    }
    if (type == FWD_BARRIER) {
        srv_barrier(s, id);
        return 0;
    }
    tri_warn("forward", "unexpected frame from follower; closing", "type=%u peer=%s", type,
             tri_node_member_name(s->n, s->peer_id));
    return -1;
}

static void srv_read(tri_chan_t *ch, int status, const uint8_t *p, size_t len, void *data)
{
    tri_fwd_srv_t *s = data;
    if (status != 0 || fwd_append(&s->rbuf, p, len) != 0 ||
        fwd_parse(&s->rbuf, srv_frame, s) != 0)
        srv_close(s);
}

void tri_fwd_accept(tri_node_t *n, tri_chan_t *ch, uint64_t peer_id)
{
    tri_fwd_srv_t *s = calloc(1, sizeof *s);
    if (s == NULL || n->closing) {
        free(s);
        tri_chan_abandon(ch);
        return;
    }
    s->n = n;
    s->ch = ch;
    s->peer_id = peer_id;
    s->id = ++n->next_srv_id;
    s->next = n->fwd_srvs;
    if (s->next != NULL)
        s->next->prev = s;
    n->fwd_srvs = s;
    tri_chan_owner_t owner = {.read = srv_read, .data = s};
    tri_chan_set_owner(ch, &owner);
}

/* ---------- follower side ---------- */

static void conn_unlink(tri_fwd_conn_t *c)
{
    tri_node_t *n = c->n;
    if (c->prev != NULL)
        c->prev->next = c->next;
    else
        n->fwd_conns = c->next;
    if (c->next != NULL)
        c->next->prev = c->prev;
    if (n->fwd_cur == c)
        n->fwd_cur = NULL;
}

/* Ends a connection: unanswered proposals become unknown (they may have committed),
 * unanswered barriers are asked again elsewhere. */
static void conn_close(tri_fwd_conn_t *c)
{
    tri_node_t *n = c->n;
    if (c->dead)
        return;
    c->dead = true;
    conn_unlink(c);
    if (c->dial != NULL)
        tri_tx_dial_cancel(c->dial);
    if (c->ch != NULL) {
        tri_chan_abandon(c->ch);
        c->ch = NULL;
    }
    uint64_t now = tri_now_ms();
    while (!TRI_LIST_EMPTY(&c->sent_w)) {
        tri_waiter_t *w = c->sent_w.next;
        TRI_LIST_REMOVE(w);
        if (n->closing) {
            tri_node_waiter_done(n, w, TRI_ECANCELED);
            continue;
        }
        w->deadline_ms = now + n->forward_wait_ms;
        TRI_LIST_PUSH(&n->w_unsent, w);
    }
    /* Proposals whose frames never left wbuf were not proposed: send them again. */
    for (; c->unflushed_p > 0 && !n->closing && !TRI_LIST_EMPTY(&c->sent_p); c->unflushed_p--) {
        tri_propose_t *p = c->sent_p.prev;
        TRI_LIST_REMOVE(p);
        p->deadline_ms = now + n->forward_wait_ms;
        n->p_unsent.next->prev = p; /* to the head, ahead of later ones, in order */
        p->next = n->p_unsent.next;
        p->prev = &n->p_unsent;
        n->p_unsent.next = p;
    }
    while (!TRI_LIST_EMPTY(&c->sent_p)) {
        tri_propose_t *p = c->sent_p.next;
        TRI_LIST_REMOVE(p);
        tri_node_prop_done(n, p, n->closing ? TRI_ECANCELED : TRI_EUNKNOWN);
    }
    tri_buf_free(&c->rbuf);
    tri_buf_free(&c->wbuf);
    free(c);
}

static void conn_maybe_retire(tri_fwd_conn_t *c)
{
    if (c->retiring && TRI_LIST_EMPTY(&c->sent_p) && TRI_LIST_EMPTY(&c->sent_w))
        conn_close(c);
}

static tri_propose_t *conn_find_prop(tri_fwd_conn_t *c, uint64_t id)
{
    for (tri_propose_t *p = c->sent_p.next; p != &c->sent_p; p = p->next)
        if (p->id == id)
            return p;
    return NULL;
}

static tri_waiter_t *conn_find_waiter(tri_fwd_conn_t *c, uint64_t id)
{
    for (tri_waiter_t *w = c->sent_w.next; w != &c->sent_w; w = w->next)
        if (w->id == id)
            return w;
    return NULL;
}

static void conn_on_result(tri_fwd_conn_t *c, uint64_t id, const uint8_t *p, size_t len)
{
    tri_node_t *n = c->n;
    tri_propose_t *prop = conn_find_prop(c, id);
    if (prop == NULL || len < FWD_RESULT_LEN)
        return; /* cancelled meanwhile */
    TRI_LIST_REMOVE(prop);
    int status = (int32_t)get_u32(p);
    if (status == TRI_ENOTLEADER) {
        prop->deadline_ms = tri_now_ms() + n->forward_wait_ms;
        TRI_LIST_PUSH(&n->p_unsent, prop);
        return;
    }
    if (status != 0) {
        tri_node_prop_done(n, prop, status);
        return;
    }
    prop->res.status = (int32_t)get_u32(p + 4);
    prop->res.revision = (int64_t)get_u64(p + 8);
    prop->res.failed_cmp = (int32_t)get_u32(p + 16);
    prop->res.failed_mod_rev = (int64_t)get_u64(p + 20);
    /* Read-your-writes: answer once the local store has caught up with it. */
    prop->wait_rev = prop->res.revision;
    prop->deadline_ms = tri_now_ms() + n->revision_wait_ms;
    TRI_LIST_PUSH(&n->p_revwait, prop);
}

static void conn_on_index(tri_fwd_conn_t *c, uint64_t id, const uint8_t *p, size_t len)
{
    tri_node_t *n = c->n;
    tri_waiter_t *w = conn_find_waiter(c, id);
    if (w == NULL || len < FWD_INDEX_LEN)
        return;
    TRI_LIST_REMOVE(w);
    int status = (int32_t)get_u32(p);
    if (status == TRI_ENOTLEADER) {
        w->deadline_ms = tri_now_ms() + n->forward_wait_ms;
        TRI_LIST_PUSH(&n->w_unsent, w);
        return;
    }
    if (status != 0) {
        tri_node_waiter_done(n, w, status);
        return;
    }
    w->index = get_u64(p + 4);
    w->deadline_ms = tri_now_ms() + n->revision_wait_ms;
    TRI_LIST_PUSH(&n->w_index, w);
}

static int conn_frame(void *ctx, uint8_t type, uint64_t id, const uint8_t *p, size_t len)
{
    tri_fwd_conn_t *c = ctx;
    if (type == FWD_RESULT) {
        conn_on_result(c, id, p, len);
        return 0;
    }
    if (type == FWD_INDEX) {
        conn_on_index(c, id, p, len);
        return 0;
    }
    tri_warn("forward", "unexpected frame from leader; closing", "type=%u", type);
    return -1;
}

static void conn_read(tri_chan_t *ch, int status, const uint8_t *p, size_t len, void *data)
{
    tri_fwd_conn_t *c = data;
    if (status != 0) {
        tri_info("forward", "connection to leader closed", "leader=%s err=%s",
                 tri_node_member_name(c->n, c->leader_id), tri_strerror(status));
        conn_close(c);
        return;
    }
    if (fwd_append(&c->rbuf, p, len) != 0 || fwd_parse(&c->rbuf, conn_frame, c) != 0) {
        conn_close(c);
        return;
    }
    conn_maybe_retire(c);
}

static void conn_dial_cb(tri_dial_t *d, int status, const tri_hs_reply_t *rep, tri_chan_t *ch,
                         void *data)
{
    tri_fwd_conn_t *c = data;
    tri_node_t *n = c->n;
    c->dial = NULL;
    if (c->dead) {
        if (ch != NULL)
            tri_chan_abandon(ch);
        return;
    }
    if (status != 0 || rep->id != c->leader_id) {
        if (ch != NULL)
            tri_chan_abandon(ch);
        tri_debug("forward", "cannot reach the leader", "addr=%s err=%s", c->addr,
                  tri_strerror(status));
        n->fwd_retry_at = tri_now_ms() + FWD_RETRY_MS;
        conn_close(c);
        return;
    }
    c->ch = ch;
    c->connected = true;
    tri_chan_owner_t owner = {.read = conn_read, .data = c};
    tri_chan_set_owner(ch, &owner);
}

static void conn_retire(tri_fwd_conn_t *c)
{
    if (c->n->fwd_cur == c)
        c->n->fwd_cur = NULL;
    c->retiring = true;
    conn_maybe_retire(c);
}

void tri_fwd_maintain(tri_node_t *n)
{
    uint64_t lid;
    const char *addr;
    if (n->closing)
        return;
    tri_node_leader(n, &lid, &addr);
    if (lid == n->id) {
        if (n->fwd_cur != NULL)
            conn_retire(n->fwd_cur);
        return;
    }
    if (lid == 0)
        return; /* keep what we have: the leader may be found again */
    tri_fwd_conn_t *c = n->fwd_cur;
    if (c != NULL && (c->leader_id != lid || strcmp(c->addr, addr) != 0))
        conn_retire(c);
    if (n->fwd_cur != NULL || tri_now_ms() < n->fwd_retry_at)
        return;
    c = calloc(1, sizeof *c);
    if (c == NULL)
        return;
    c->n = n;
    c->leader_id = lid;
    snprintf(c->addr, sizeof c->addr, "%s", addr);
    TRI_LIST_INIT(&c->sent_p);
    TRI_LIST_INIT(&c->sent_w);
    c->next = n->fwd_conns;
    if (c->next != NULL)
        c->next->prev = c;
    n->fwd_conns = c;
    n->fwd_cur = c;
    c->dial = tri_tx_dial(n->tx, TRI_HS_FORWARD, c->addr, lid, conn_dial_cb, c);
    if (c->dial == NULL) {
        n->fwd_retry_at = tri_now_ms() + FWD_RETRY_MS;
        conn_close(c);
    }
}

tri_fwd_conn_t *tri_fwd_ready(tri_node_t *n)
{
    tri_fwd_conn_t *c = n->fwd_cur;
    return (c != NULL && c->connected && !c->dead) ? c : NULL;
}

int tri_fwd_send_propose(tri_fwd_conn_t *c, tri_propose_t *p)
{
    int rv = fwd_queue(&c->wbuf, FWD_PROPOSE, p->id, p->enc.data, p->enc.len);
    if (rv != 0)
        return rv;
    tri_node_t *n = c->n;
    /* An answer is due once the leader commits or loses leadership; bound the wait
     * anyway in case the leader process hangs with the socket open. */
    p->deadline_ms = tri_now_ms() + n->forward_wait_ms + n->revision_wait_ms;
    TRI_LIST_PUSH(&c->sent_p, p);
    c->unflushed_p++;
    n->forwards_sent++;
    return 0;
}

int tri_fwd_send_barrier(tri_fwd_conn_t *c, tri_waiter_t *w)
{
    int rv = fwd_queue(&c->wbuf, FWD_BARRIER, w->id, NULL, 0);
    if (rv != 0)
        return rv;
    tri_node_t *n = c->n;
    w->deadline_ms = tri_now_ms() + n->revision_wait_ms;
    TRI_LIST_PUSH(&c->sent_w, w);
    n->forwards_sent++;
    return 0;
}

void tri_fwd_check_deadlines(tri_node_t *n, uint64_t now)
{
    tri_fwd_conn_t *cnext;
    for (tri_fwd_conn_t *c = n->fwd_conns; c != NULL; c = cnext) {
        cnext = c->next;
        for (tri_propose_t *p = c->sent_p.next; p != &c->sent_p;) {
            tri_propose_t *next = p->next;
            if (now >= p->deadline_ms) {
                TRI_LIST_REMOVE(p);
                tri_node_prop_done(n, p, TRI_EUNKNOWN);
            }
            p = next;
        }
        for (tri_waiter_t *w = c->sent_w.next; w != &c->sent_w;) {
            tri_waiter_t *next = w->next;
            if (now >= w->deadline_ms) {
                TRI_LIST_REMOVE(w);
                tri_node_waiter_done(n, w, TRI_ETIMEDOUT);
            }
            w = next;
        }
        conn_maybe_retire(c);
    }
}

void tri_fwd_flush(tri_node_t *n)
{
    tri_fwd_conn_t *cnext;
    for (tri_fwd_conn_t *c = n->fwd_conns; c != NULL; c = cnext) {
        cnext = c->next;
        if (c->ch == NULL)
            continue;
        if (fwd_flush_one(c->ch, &c->wbuf) != 0) {
            conn_close(c); /* its frames never left: sent again elsewhere */
            continue;
        }
        c->unflushed_p = 0;
    }
    tri_fwd_srv_t *snext;
    for (tri_fwd_srv_t *s = n->fwd_srvs; s != NULL; s = snext) {
        snext = s->next;
        if (fwd_flush_one(s->ch, &s->wbuf) != 0)
            srv_close(s);
    }
}

void tri_fwd_close_all(tri_node_t *n)
{
    while (n->fwd_conns != NULL)
        conn_close(n->fwd_conns);
    while (n->fwd_srvs != NULL)
        srv_close(n->fwd_srvs);
}
