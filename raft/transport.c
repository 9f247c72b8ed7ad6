/* Our libraft transport (struct raft_uv_transport over peer channels: mutual TLS on
 * libuv TCP, chan.c) and the peer handshake every replica-to-replica connection
 * begins with, inside the established TLS channel.
 *
 * One listener per node on its peer address, bound in tri_node_start before raft
 * starts so that bootstrap probes can be answered. Each inbound connection first
 * completes TLS (chan.c verifies the peer's certificate names a member; nothing is
 * parsed before that), then sends a handshake frame; the receiver answers with one
 * reply frame and then, depending on the kind, hands the channel to raft through a
 * relay (relay.c: raft gets a stream it owns) (RAFT), to forward.c (FORWARD), or
 * closes it (PROBE). Both sides check that the handshake's sender name and id are
 * those of the member the certificate names, and a dialer that means to reach a
 * given member (raft's connect, forwarding to the leader) that it reached that one.
 *
 *   request: "TRHS" u8 version u8 kind    u16 body_len | u64 sender id,
 *            u8 len + cluster id, u8 len + sender address, u8 len + sender name
 *   reply:   "TRHS" u8 version u8 status  u16 body_len | u8 has_cluster, u8 seen_you,
 *            u64 receiver id, u8 len + cluster id, u8 len + receiver name
 *
 * No byte of raft's traffic can be lost to the handshake reader: the dialer sends
 * nothing after its request until it has read the reply (strict lockstep), and the
 * acceptor sends nothing after its reply unless asked, so bytes past a frame are a
 * protocol violation and drop the connection. Peers whose cluster
 * id differs are refused with a status both ways and a log line that says so;
 * anything that does not start with the magic is dropped silently but logged.
 * Handshakes that do not complete in TRI_HS_TIMEOUT_MS are dropped.
 *
 * raft's outbound connects complete at once with a relay that waits for its dial
 * (see "raft's outbound streams" below for why).
 *
 * close() stops the listener, drops half-done inbound handshakes and cancels every
 * pending dial (a raft connect not answered yet then hears RAFT_CANCELED; a relay
 * still waiting for its dial closes) before its own callback fires, once every
 * handle is closed.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "triarch/log.h"

#define TRI_HS_MAGIC "TRHS"
#define TRI_HS_VERSION 1
#define TRI_HS_HEADER 8
/* Largest body: id, three length-prefixed strings (cluster id, address, name). */
#define TRI_HS_BODY_MAX (2 + 8 + 3 + TRI_CLUSTER_ID_MAX + TRI_ADDR_MAX + TRI_NAME_MAX)
#define TRI_HS_FRAME_MAX (TRI_HS_HEADER + TRI_HS_BODY_MAX)
/* A healthy peer answers in well under a millisecond on a LAN; 5 s covers a stalled
 * process without keeping dead sockets around. */
#define TRI_HS_TIMEOUT_MS 5000
/* libuv's default is small; several peers reconnecting at once must not be refused. */
#define TRI_LISTEN_BACKLOG 128

typedef struct tri_inconn {
    tri_tx_t *tx;
    tri_chan_t *ch; /* NULL once handed over or gone */
    uv_timer_t timer;
    uint8_t in[TRI_HS_FRAME_MAX];
    size_t have, need;
    bool body;
    int kind;
    int status;
    uint64_t peer_id;
    char peer_addr[TRI_ADDR_MAX + 1];
    bool done;
    int closes;
    struct tri_inconn *next, *prev;
} tri_inconn_t;

struct tri_dial {
    tri_tx_t *tx;
    int kind;
    uint64_t expect_id;
    char addr[TRI_ADDR_MAX + 1];
    tri_chan_t *ch; /* NULL once handed over or gone */
    uv_connect_t creq;
    uv_timer_t timer;
    uint8_t out[TRI_HS_FRAME_MAX];
    size_t out_len;
    uint8_t in[TRI_HS_FRAME_MAX];
    size_t have, need;
    bool body, replied, done;
    tri_hs_reply_t rep;
    tri_dial_cb cb;
    void *data;
    int closes;
    struct tri_dial *next, *prev;
};

/* A raft connect (see "raft's outbound streams" below). */
typedef struct tri_rconn tri_rconn_t;
typedef struct tri_backoff tri_backoff_t;
struct tri_backoff {
    uint64_t id;
    uint64_t retry_at; /* tri_now_ms() before which a dial to id waits */
    struct tri_backoff *next;
};

struct tri_rconn {
    tri_tx_t *tx;
    struct raft_uv_connect *req;
    uint64_t id;
    char addr[TRI_ADDR_MAX + 1];
    tri_relay_t *relay;  /* NULL once attached or failed */
    uv_stream_t *stream; /* raft's end, NULL once handed to raft */
    tri_dial_t *dial;    /* while dialling */
    uv_timer_t timer;    /* hands raft its stream, then waits out the backoff */
    bool done;
    struct tri_rconn *next, *prev;
};

struct tri_tx {
    tri_node_t *n;
    uv_tcp_t listener;
    bool listener_inited;
    bool listening;
    bool closing;
    raft_uv_transport_close_cb close_cb;
    int closes_pending;
    tri_inconn_t inconns;
    tri_dial_t dials;
    tri_rconn_t rconns;      /* raft connects not yet attached or failed */
    tri_backoff_t *backoffs; /* per peer id: when the next raft dial may start */
    uint64_t last_refusal_log;
    tri_chans_t chans; /* every TCP connection, as a TLS channel */
};

/* ---------- small encoding helpers ---------- */

static size_t hs_put_str(uint8_t *p, const char *s, size_t max)
{
    size_t len = strnlen(s, max);
    p[0] = (uint8_t)len;
    memcpy(p + 1, s, len);
    return 1 + len;
}

static void hs_put_u64(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static uint64_t hs_get_u64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v |= (uint64_t)p[i] << (8 * i);
    return v;
}

/* Reads a u8-length-prefixed string into out (size max+1); -1 if it overruns. */
static int hs_get_str(const uint8_t *p, size_t len, size_t *off, char *out, size_t max)
{
    if (*off >= len)
        return -1;
    size_t n = p[*off];
    if (n > max || *off + 1 + n > len)
        return -1;
    memcpy(out, p + *off + 1, n);
    out[n] = '\0';
    *off += 1 + n;
    return 0;
}

static size_t hs_header(uint8_t *p, uint8_t kind_or_status, size_t body_len)
{
    memcpy(p, TRI_HS_MAGIC, 4);
    p[4] = TRI_HS_VERSION;
    p[5] = kind_or_status;
    p[6] = (uint8_t)(body_len & 0xff);
    p[7] = (uint8_t)(body_len >> 8);
    return TRI_HS_HEADER;
}

static size_t hs_body_len(const uint8_t *hdr)
{
    return (size_t)hdr[6] | ((size_t)hdr[7] << 8);
}

int tri_tx_parse_addr(const char *addr, struct sockaddr_in *out)
{
    char ip[TRI_ADDR_MAX + 1];
    const char *colon = strrchr(addr, ':');
    if (colon == NULL || (size_t)(colon - addr) >= sizeof ip)
        return TRI_EINVAL;
    memcpy(ip, addr, (size_t)(colon - addr));
    ip[colon - addr] = '\0';
    char *end;
    long port = strtol(colon + 1, &end, 10);
    if (*end != '\0' || port <= 0 || port > 65535)
        return TRI_EINVAL;
    if (uv_ip4_addr(ip, (int)port, out) != 0)
        return TRI_EINVAL;
    return 0;
}

/* ---------- close bookkeeping ---------- */

static void tx_maybe_closed(tri_tx_t *tx)
{
    if (!tx->closing || tx->closes_pending > 0 || tx->chans.n_live > 0 ||
        tx->chans.n_relays > 0 || tx->close_cb == NULL)
        return;
    raft_uv_transport_close_cb cb = tx->close_cb;
    tx->close_cb = NULL;
    cb(&tx->n->transport);
}

static void tx_chan_freed(tri_chans_t *cs)
{
    tx_maybe_closed(cs->n->tx);
}

/* The handshake names the member the certificate names (TLS); 0 or a reason. */
static const char *tx_check_binding(tri_tx_t *tx, tri_chan_t *ch, const char *name, uint64_t id)
{
    const char *peer = tri_chan_peer(ch);
    if (tx->chans.ssl_ctx == NULL)
        return NULL;
    if (strcmp(peer, name) != 0)
        return "handshake sender name differs from the certificate's CN";
    const tri_member_t *m = tri_chan_member(tx->n, peer);
    if (m == NULL || m->id != id)
        return "handshake sender id is not the id of the member the certificate names";
    return NULL;
}

/* Copies a chunk of a handshake frame into buf; -1 on bytes past the frame or a
 * bad header, 1 when the frame is complete, 0 when more is needed. */
static int hs_accumulate(uint8_t *buf, size_t *have, size_t *need, bool *body, const uint8_t *p,
                         size_t len)
{
    while (len > 0) {
        size_t take = *need - *have;
        if (take > len)
            take = len;
        memcpy(buf + *have, p, take);
        *have += take;
        p += take;
        len -= take;
        if (*have < *need)
            return 0;
        if (*body)
            return len > 0 ? -1 : 1;
        if (memcmp(buf, TRI_HS_MAGIC, 4) != 0 || hs_body_len(buf) > TRI_HS_BODY_MAX)
            return -1;
        *body = true;
        *need = TRI_HS_HEADER + hs_body_len(buf);
        if (*have == *need)
            return len > 0 ? -1 : 1;
    }
    return 0;
}

/* ---------- inbound ---------- */

static void inconn_release(tri_inconn_t *c)
{
    tri_tx_t *tx = c->tx;
    if (--c->closes > 0)
        return;
    free(c);
    tx->closes_pending--;
    tx_maybe_closed(tx);
}

static void inconn_timer_closed(uv_handle_t *h)
{
    inconn_release(h->data);
}

/* Ends the handshake connection: closes whatever it still owns. */
static void inconn_close(tri_inconn_t *c)
{
    if (c->done)
        return;
    c->done = true;
    TRI_LIST_REMOVE(c);
    c->closes = 1;
    uv_close((uv_handle_t *)&c->timer, inconn_timer_closed);
    if (c->ch != NULL) {
        tri_chan_abandon(c->ch);
        c->ch = NULL;
    }
}

static void inconn_timeout(uv_timer_t *t)
{
    tri_inconn_t *c = t->data;
    tri_chans_log_refusal(&c->tx->chans, tri_chan_remote(c->ch), "inbound",
                          "handshake timed out");
    inconn_close(c);
}

static void inconn_hand_over(tri_inconn_t *c)
{
    tri_tx_t *tx = c->tx;
    tri_node_t *n = tx->n;
    tri_chan_t *ch = c->ch;
    int kind = c->kind;
    uint64_t id = c->peer_id;
    char addr[TRI_ADDR_MAX + 1];
    memcpy(addr, c->peer_addr, sizeof addr);

    c->ch = NULL;
    inconn_close(c);
    tri_identity_note_seen(n, id);
    if (kind == TRI_HS_RAFT && n->accept_cb != NULL && !tx->closing) {
        uv_stream_t *stream;
        if (tri_relay_new(&tx->chans, ch, &stream) == 0)
            n->accept_cb(&n->transport, id, addr, stream);
        return;
    }
    if (kind == TRI_HS_FORWARD && !tx->closing) {
        tri_fwd_accept(n, ch, id);
        return;
    }
    tri_chan_abandon(ch);
}

static void inconn_reply(tri_inconn_t *c, int status)
{
    tri_node_t *n = c->tx->n;
    uint8_t out[TRI_HS_FRAME_MAX];
    uint8_t *b = out + TRI_HS_HEADER;
    size_t off = 0;
    b[off++] = (n->has_identity && !n->probing) ? 1 : 0;
    b[off++] = tri_identity_has_seen(n, c->peer_id) ? 1 : 0;
    hs_put_u64(b + off, n->id);
    off += 8;
    off += hs_put_str(b + off, n->cluster_id, TRI_CLUSTER_ID_MAX);
    off += hs_put_str(b + off, n->name, TRI_NAME_MAX);
    hs_header(out, (uint8_t)status, off);
    c->status = status;
    /* The channel keeps the order: what raft or forward.c send next follows it. */
    if (tri_chan_write(c->ch, out, TRI_HS_HEADER + off) != 0 || status != TRI_HS_OK ||
        c->kind == TRI_HS_PROBE) {
        inconn_close(c);
        return;
    }
    inconn_hand_over(c);
}

static int inconn_parse_body(tri_inconn_t *c, char *cluster_id, char *name)
{
    const uint8_t *b = c->in + TRI_HS_HEADER;
    size_t len = c->need - TRI_HS_HEADER;
    size_t off = 8;
    if (len < 8)
        return -1;
    c->peer_id = hs_get_u64(b);
    if (hs_get_str(b, len, &off, cluster_id, TRI_CLUSTER_ID_MAX) != 0 ||
        hs_get_str(b, len, &off, c->peer_addr, TRI_ADDR_MAX) != 0 ||
        hs_get_str(b, len, &off, name, TRI_NAME_MAX) != 0)
        return -1;
    return 0;
}

/* A whole request frame is in: decide and answer. */
static void inconn_decide(tri_inconn_t *c)
{
    tri_tx_t *tx = c->tx;
    tri_node_t *n = tx->n;
    const char *remote = tri_chan_remote(c->ch);
    char cluster_id[TRI_CLUSTER_ID_MAX + 1], name[TRI_NAME_MAX + 1];

    if (c->in[4] != TRI_HS_VERSION) {
        tri_warn("transport", "refused peer: unsupported handshake version",
                 "remote=%s version=%u ours=%u", remote, c->in[4], TRI_HS_VERSION);
        inconn_reply(c, TRI_HS_BAD_VERSION);
        return;
    }
    if (inconn_parse_body(c, cluster_id, name) != 0 || c->peer_id == 0) {
        tri_chans_log_refusal(&tx->chans, remote, "inbound", "malformed handshake");
        inconn_close(c);
        return;
    }
    if (tri_chan_peer_removed(c->ch)) {
        tri_chans_log_refusal(&tx->chans, remote, "inbound",
                              "the certificate names a member that was removed");
        inconn_reply(c, TRI_HS_REMOVED);
        return;
    }
    const char *bad = tx_check_binding(tx, c->ch, name, c->peer_id);
    if (bad != NULL) {
        tri_chans_log_refusal(&tx->chans, remote, "inbound", bad);
        inconn_close(c);
        return;
    }
    if (strcmp(cluster_id, n->cluster_id) != 0) {
        tri_warn("transport", "refused peer of another cluster",
                 "remote=%s peer=\"%s\" peer_cluster=\"%s\" our_cluster=\"%s\"", remote, name,
                 cluster_id, n->cluster_id);
        inconn_reply(c, TRI_HS_WRONG_CLUSTER);
        return;
    }
    if (c->kind != TRI_HS_RAFT && c->kind != TRI_HS_FORWARD && c->kind != TRI_HS_PROBE) {
        tri_warn("transport", "refused peer connection of unknown kind", "remote=%s kind=%d",
                 remote, c->kind);
        inconn_reply(c, TRI_HS_UNKNOWN_KIND);
        return;
    }
    if (c->kind != TRI_HS_PROBE && (n->accept_cb == NULL || n->probing || n->closing)) {
        inconn_reply(c, TRI_HS_NOT_READY);
        return;
    }
    inconn_reply(c, TRI_HS_OK);
}

static void inconn_ready(tri_chan_t *ch, int status, void *data)
{
    tri_inconn_t *c = data;
    if (status != 0) {
        c->ch = NULL; /* the channel closes itself */
        inconn_close(c);
    }
}

static void inconn_read(tri_chan_t *ch, int status, const uint8_t *p, size_t len, void *data)
{
    tri_inconn_t *c = data;
    if (c->done)
        return;
    if (status != 0) {
        tri_debug("transport", "peer closed before completing the handshake", "remote=%s",
                  tri_chan_remote(ch));
        c->ch = NULL;
        inconn_close(c);
        return;
    }
    int r = hs_accumulate(c->in, &c->have, &c->need, &c->body, p, len);
    if (r == 0)
        return;
    if (r < 0) {
        tri_chans_log_refusal(&c->tx->chans, tri_chan_remote(ch), "inbound",
                              "not a triarch peer handshake");
        inconn_close(c);
        return;
    }
    c->kind = c->in[5];
    uv_timer_stop(&c->timer);
    inconn_decide(c);
}

static void tx_on_connection(uv_stream_t *server, int status)
{
    tri_tx_t *tx = server->data;
    if (status < 0 || tx->closing) {
        tri_warn("transport", "accept failed", "err=%s", uv_strerror(status));
        return;
    }
    tri_inconn_t *c = calloc(1, sizeof *c);
    tri_chan_t *ch = c ? tri_chan_new(&tx->chans, true) : NULL;
    if (ch == NULL) {
        free(c);
        return; /* the connection stays in the backlog and is retried by the kernel */
    }
    c->tx = tx;
    c->need = TRI_HS_HEADER;
    c->ch = ch;
    uv_timer_init(server->loop, &c->timer);
    c->timer.data = c;
    TRI_LIST_PUSH(&tx->inconns, c);
    tx->closes_pending++;
    if (uv_accept(server, (uv_stream_t *)tri_chan_tcp(ch)) != 0) {
        inconn_close(c);
        return;
    }
    /* The timer covers TLS and our handshake: a silent client is dropped. */
    uv_timer_start(&c->timer, inconn_timeout, TRI_HS_TIMEOUT_MS, 0);
    tri_chan_owner_t owner = {.ready = inconn_ready, .read = inconn_read, .data = c};
    tri_chan_start(ch, &owner);
}

/* ---------- outbound ---------- */

static void dial_release(tri_dial_t *d)
{
    tri_tx_t *tx = d->tx;
    if (--d->closes > 0)
        return;
    free(d);
    tx->closes_pending--;
    tx_maybe_closed(tx);
}

static void dial_timer_closed(uv_handle_t *h)
{
    dial_release(h->data);
}

static void dial_finish(tri_dial_t *d, int status)
{
    if (d->done)
        return;
    d->done = true;
    TRI_LIST_REMOVE(d);
    uv_timer_stop(&d->timer);
    tri_chan_t *ch = NULL;
    if (status == 0) {
        ch = d->ch;
        d->ch = NULL;
        tri_chan_owner_t none = {0};
        tri_chan_set_owner(ch, &none);
    }
    if (d->cb != NULL)
        d->cb(d, status, d->replied ? &d->rep : NULL, ch, d->data);
    d->closes = 1;
    uv_close((uv_handle_t *)&d->timer, dial_timer_closed);
    if (d->ch != NULL) {
        tri_chan_abandon(d->ch);
        d->ch = NULL;
    }
}

static void dial_timeout(uv_timer_t *t)
{
    tri_dial_t *d = t->data;
    tri_debug("transport", "peer handshake timed out", "addr=%s", d->addr);
    dial_finish(d, TRI_ETIMEDOUT);
}

static int dial_parse_reply(tri_dial_t *d)
{
    const uint8_t *b = d->in + TRI_HS_HEADER;
    size_t len = d->need - TRI_HS_HEADER;
    size_t off = 10;
    d->rep.status = d->in[5];
    if (d->in[4] != TRI_HS_VERSION || len < 10)
        return -1;
    d->rep.has_cluster = b[0] != 0;
    d->rep.seen_you = b[1] != 0;
    d->rep.id = hs_get_u64(b + 2);
    if (hs_get_str(b, len, &off, d->rep.cluster_id, TRI_CLUSTER_ID_MAX) != 0 ||
        hs_get_str(b, len, &off, d->rep.name, TRI_NAME_MAX) != 0)
        return -1;
    return 0;
}

static void dial_read(tri_chan_t *ch, int status, const uint8_t *p, size_t len, void *data)
{
    tri_dial_t *d = data;
    if (d->done)
        return;
    if (status != 0) {
        d->ch = NULL;
        dial_finish(d, TRI_EIO);
        return;
    }
    int r = hs_accumulate(d->in, &d->have, &d->need, &d->body, p, len);
    if (r == 0)
        return;
    if (r < 0 || dial_parse_reply(d) != 0) {
        tri_warn("transport", "peer answered with an unknown handshake", "addr=%s", d->addr);
        dial_finish(d, TRI_EIO);
        return;
    }
    const char *bad = tx_check_binding(d->tx, ch, d->rep.name, d->rep.id);
    if (bad == NULL && d->expect_id != 0 && d->rep.id != d->expect_id)
        bad = "reached another member than the one dialled";
    if (bad != NULL) {
        tri_chans_log_refusal(&d->tx->chans, d->addr, "outbound", bad);
        dial_finish(d, TRI_EIO);
        return;
    }
    d->replied = true;
    dial_finish(d, d->rep.status == TRI_HS_OK ? 0 : TRI_EINVAL);
}

static void dial_ready(tri_chan_t *ch, int status, void *data)
{
    tri_dial_t *d = data;
    if (d->done)
        return;
    if (status != 0) {
        d->ch = NULL;
        dial_finish(d, TRI_EIO);
        return;
    }
    if (tri_chan_write(ch, d->out, d->out_len) != 0)
        dial_finish(d, TRI_EIO);
}

static void dial_connect_cb(uv_connect_t *req, int status)
{
    tri_dial_t *d = req->data;
    if (d->done)
        return;
    if (status < 0) {
        dial_finish(d, TRI_EIO);
        return;
    }
    tri_chan_owner_t owner = {.ready = dial_ready, .read = dial_read, .data = d};
    tri_chan_start(d->ch, &owner);
}

static void dial_build_request(tri_dial_t *d)
{
    tri_node_t *n = d->tx->n;
    uint8_t *b = d->out + TRI_HS_HEADER;
    size_t off = 0;
    hs_put_u64(b, n->id);
    off += 8;
    off += hs_put_str(b + off, n->cluster_id, TRI_CLUSTER_ID_MAX);
    off += hs_put_str(b + off, n->peer_addr, TRI_ADDR_MAX);
    off += hs_put_str(b + off, n->name, TRI_NAME_MAX);
    hs_header(d->out, (uint8_t)d->kind, off);
    d->out_len = TRI_HS_HEADER + off;
}

tri_dial_t *tri_tx_dial(tri_tx_t *tx, int kind, const char *addr, uint64_t expect_id,
                        tri_dial_cb cb, void *data)
{
    struct sockaddr_in sa;
    if (tx->closing || tri_tx_parse_addr(addr, &sa) != 0)
        return NULL;
    tri_dial_t *d = calloc(1, sizeof *d);
    tri_chan_t *ch = d ? tri_chan_new(&tx->chans, false) : NULL;
    if (ch == NULL) {
        free(d);
        return NULL;
    }
    d->tx = tx;
    d->kind = kind;
    d->expect_id = expect_id;
    snprintf(d->addr, sizeof d->addr, "%s", addr);
    d->cb = cb;
    d->data = data;
    d->need = TRI_HS_HEADER;
    d->ch = ch;
    dial_build_request(d);
    uv_timer_init(tx->n->loop, &d->timer);
    d->timer.data = d;
    TRI_LIST_PUSH(&tx->dials, d);
    tx->closes_pending++;
    d->creq.data = d;
    if (uv_tcp_connect(&d->creq, tri_chan_tcp(ch), (struct sockaddr *)&sa, dial_connect_cb) !=
        0) {
        d->cb = NULL; /* immediate failure: the caller hears it from the return value */
        dial_finish(d, TRI_EIO);
        return NULL;
    }
    uv_timer_start(&d->timer, dial_timeout, TRI_HS_TIMEOUT_MS, 0);
    return d;
}

void tri_tx_dial_cancel(tri_dial_t *d)
{
    dial_finish(d, TRI_ECANCELED);
}

/* ---------- the raft_uv_transport face ---------- */

static void tx_log_refusal(tri_tx_t *tx, const char *addr, const tri_hs_reply_t *rep)
{
    uint64_t now = tri_now_ms();
    if (tx->last_refusal_log != 0 && now - tx->last_refusal_log < TRI_REFUSAL_LOG_MS)
        return;
    tx->last_refusal_log = now;
    if (rep->status == TRI_HS_WRONG_CLUSTER)
        tri_error("transport",
                  "peer refused us: it belongs to another cluster; check --initial-cluster",
                  "addr=%s peer=\"%s\" peer_cluster=\"%s\" our_cluster=\"%s\"", addr, rep->name,
                  rep->cluster_id, tx->n->cluster_id);
    else if (rep->status != TRI_HS_NOT_READY)
        tri_warn("transport", "peer refused connection", "addr=%s status=%u", addr, rep->status);
}

static int tx_init(struct raft_uv_transport *t, raft_id id, const char *address)
{
    tri_tx_t *tx = t->impl;
    if (id != tx->n->id || strcmp(address, tx->n->peer_addr) != 0) {
        snprintf(t->errmsg, sizeof t->errmsg, "transport identity mismatch");
        return RAFT_INVALID;
    }
    return 0;
}

static int tx_listen(struct raft_uv_transport *t, raft_uv_accept_cb cb)
{
    tri_tx_t *tx = t->impl;
    tx->n->accept_cb = cb;
    if (!tx->listening && tri_tx_bind(tx, tx->n->peer_addr) != 0) {
        snprintf(t->errmsg, sizeof t->errmsg, "cannot listen on %s", tx->n->peer_addr);
        return RAFT_IOERR;
    }
    return 0;
}

/* ---------- raft's outbound streams ----------
 *
 * raft's connect completes at once, with the stream of a relay that has no
 * connection yet (tri_relay_open); the dial runs behind it. When the dial succeeds
 * the relay starts carrying what raft wrote; when it fails the relay is closed with
 * that unread, raft's next write on the stream fails and it connects again.
 *
 * Why not complete raft's connect only once the peer answered (as the stock TCP
 * transport does): while a connect is pending libraft 0.15 (src/uv_send.c) queues
 * messages, and each failed attempt fails all but the newest 3 queued ones. A
 * failed send moves the leader's view of a follower out of snapshot mode, so with
 * the follower down the leader sent a new InstallSnapshot after each failure while
 * the previous one stayed queued; when the follower came back the queue delivered
 * two snapshots, the follower installed the first and dropped the second as busy,
 * and the leader, waiting for the second, left it in snapshot mode for
 * install_snapshot_timeout (30 s). Here nothing waits in libraft's queue, and a
 * message reaches a peer only over the connection it was written to
 * (docs/adr/0005-peer-tls.md, "Snapshot catch-up stall"). */

static tri_backoff_t *tx_backoff(tri_tx_t *tx, uint64_t id, bool create)
{
    for (tri_backoff_t *b = tx->backoffs; b != NULL; b = b->next)
        if (b->id == id)
            return b;
    tri_backoff_t *b = create ? calloc(1, sizeof *b) : NULL;
    if (b != NULL) {
        b->id = id;
        b->next = tx->backoffs;
        tx->backoffs = b;
    }
    return b;
}

static void rconn_timer_closed(uv_handle_t *h)
{
    tri_rconn_t *rc = h->data;
    tri_tx_t *tx = rc->tx;
    free(rc);
    tx->closes_pending--;
    tx_maybe_closed(tx);
}

static void rconn_raft_end_closed(uv_handle_t *h)
{
    tri_tx_t *tx = h->data;
    raft_free(h);
    tx->closes_pending--;
    tx_maybe_closed(tx);
}

/* The relay is attached or failed: the connect is over. */
static void rconn_finish(tri_rconn_t *rc)
{
    rc->done = true;
    TRI_LIST_REMOVE(rc);
    uv_close((uv_handle_t *)&rc->timer, rconn_timer_closed);
}

static void rconn_fail(tri_rconn_t *rc, const char *why)
{
    tri_backoff_t *b = tx_backoff(rc->tx, rc->id, true);
    if (b != NULL)
        b->retry_at = tri_now_ms() + TRI_CONNECT_RETRY_MS;
    tri_relay_fail(rc->relay, why);
    rc->relay = NULL;
    rconn_finish(rc);
}

static void rconn_dial_cb(tri_dial_t *d, int status, const tri_hs_reply_t *rep, tri_chan_t *ch,
                          void *data)
{
    tri_rconn_t *rc = data;
    rc->dial = NULL;
    if (status == 0) {
        tri_backoff_t *b = tx_backoff(rc->tx, rc->id, false);
        if (b != NULL)
            b->retry_at = 0;
        tri_relay_attach(rc->relay, ch);
        rc->relay = NULL;
        rconn_finish(rc);
        return;
    }
    if (rep != NULL)
        tx_log_refusal(rc->tx, rc->addr, rep);
    if (rep != NULL && rep->status == TRI_HS_REMOVED && !rc->tx->n->removed_notice) {
        rc->tx->n->removed_notice = true;
        tri_error("transport", "a peer says this member was removed from the cluster",
                  "peer=%s", rep->name);
    }
    rconn_fail(rc, status == TRI_ECANCELED ? "connect cancelled" : "connect failed");
}

static void rconn_timer_cb(uv_timer_t *t)
{
    tri_rconn_t *rc = t->data;
    tri_tx_t *tx = rc->tx;
    if (rc->stream != NULL) {
        uv_stream_t *stream = rc->stream;
        rc->stream = NULL;
        rc->req->cb(rc->req, stream, 0);
    }
    if (rc->done || tx->closing)
        return;
    tri_backoff_t *b = tx_backoff(tx, rc->id, false);
    uint64_t now = tri_now_ms();
    if (b != NULL && b->retry_at > now) {
        uv_timer_start(&rc->timer, rconn_timer_cb, b->retry_at - now, 0);
        return;
    }
    rc->dial = tri_tx_dial(tx, TRI_HS_RAFT, rc->addr, rc->id, rconn_dial_cb, rc);
    if (rc->dial == NULL)
        rconn_fail(rc, "cannot start a connection");
}

/* Transport close: raft hears RAFT_CANCELED for a connect it was not answered yet. */
static void rconn_cancel(tri_rconn_t *rc)
{
    if (rc->dial != NULL) {
        tri_tx_dial_cancel(rc->dial); /* rconn_dial_cb finishes it */
        return;
    }
    if (rc->stream != NULL) {
        uv_stream_t *stream = rc->stream;
        rc->stream = NULL;
        stream->data = rc->tx;
        rc->tx->closes_pending++;
        uv_close((uv_handle_t *)stream, rconn_raft_end_closed);
        rc->req->cb(rc->req, NULL, RAFT_CANCELED);
    }
    tri_relay_fail(rc->relay, "transport closing");
    rc->relay = NULL;
    rconn_finish(rc);
}

static int tx_connect(struct raft_uv_transport *t, struct raft_uv_connect *req, raft_id id,
                      const char *address, raft_uv_connect_cb cb)
{
    tri_tx_t *tx = t->impl;
    struct sockaddr_in sa;
    if (tx->closing || tri_tx_parse_addr(address, &sa) != 0)
        return RAFT_NOCONNECTION;
    tri_rconn_t *rc = calloc(1, sizeof *rc);
    if (rc == NULL)
        return RAFT_NOMEM;
    rc->relay = tri_relay_open(&tx->chans, &rc->stream);
    if (rc->relay == NULL) {
        free(rc);
        return RAFT_NOCONNECTION;
    }
    req->cb = cb;
    rc->tx = tx;
    rc->req = req;
    rc->id = id;
    snprintf(rc->addr, sizeof rc->addr, "%s", address);
    uv_timer_init(tx->n->loop, &rc->timer);
    rc->timer.data = rc;
    TRI_LIST_PUSH(&tx->rconns, rc);
    tx->closes_pending++;
    /* The callback fires asynchronously (the transport contract), on the next turn. */
    uv_timer_start(&rc->timer, rconn_timer_cb, 0, 0);
    return 0;
}

static void tx_listener_closed(uv_handle_t *h)
{
    tri_tx_t *tx = h->data;
    tx->closes_pending--;
    tx_maybe_closed(tx);
}

static void tx_close(struct raft_uv_transport *t, raft_uv_transport_close_cb cb)
{
    tri_tx_t *tx = t->impl;
    tx->closing = true;
    tx->close_cb = cb;
    tx->n->accept_cb = NULL;
    while (!TRI_LIST_EMPTY(&tx->inconns))
        inconn_close(tx->inconns.next);
    while (!TRI_LIST_EMPTY(&tx->rconns))
        rconn_cancel(tx->rconns.next);
    while (!TRI_LIST_EMPTY(&tx->dials))
        dial_finish(tx->dials.next, TRI_ECANCELED);
    /* Relays to raft's streams (raft closed its ends already) and anything else. */
    tri_chans_close_all(&tx->chans);
    /* Always close a listener handle (a fresh one if we never bound), so the
     * callback never fires from inside close() itself: libraft's uvClose is still
     * on the stack then. */
    if (!tx->listener_inited) {
        uv_tcp_init(tx->n->loop, &tx->listener);
        tx->listener.data = tx;
        tx->listener_inited = true;
    }
    tx->closes_pending++;
    uv_close((uv_handle_t *)&tx->listener, tx_listener_closed);
}

int tri_tx_bind(tri_tx_t *tx, const char *addr)
{
    struct sockaddr_in sa;
    int rv;
    if (tri_tx_parse_addr(addr, &sa) != 0)
        return TRI_EINVAL;
    if (!tx->listener_inited) {
        uv_tcp_init(tx->n->loop, &tx->listener);
        tx->listener.data = tx;
        tx->listener_inited = true;
    }
    rv = uv_tcp_bind(&tx->listener, (struct sockaddr *)&sa, 0);
    if (rv == 0)
        rv = uv_listen((uv_stream_t *)&tx->listener, TRI_LISTEN_BACKLOG, tx_on_connection);
    if (rv != 0) {
        tri_error("transport", "cannot listen on the peer address", "addr=%s err=%s", addr,
                  uv_strerror(rv));
        return TRI_EIO;
    }
    tx->listening = true;
    return 0;
}

int tri_tx_new(tri_node_t *n, tri_tx_t **out)
{
    tri_tx_t *tx = calloc(1, sizeof *tx);
    if (tx == NULL)
        return TRI_ENOMEM;
    tx->n = n;
    TRI_LIST_INIT(&tx->inconns);
    TRI_LIST_INIT(&tx->dials);
    TRI_LIST_INIT(&tx->rconns);
    tx->chans.n = n;
    tx->chans.freed = tx_chan_freed;

    struct raft_uv_transport *t = &n->transport;
    memset(t, 0, sizeof *t);
    t->impl = tx;
    t->init = tx_init;
    t->listen = tx_listen;
    t->connect = tx_connect;
    t->close = tx_close;
    *out = tx;
    return 0;
}

int tri_tx_init_tls(tri_tx_t *tx, const tri_node_config_t *cfg, const char **errmsg)
{
    return tri_chans_init(&tx->chans, tx->n, cfg, errmsg);
}

uint64_t tri_tx_refusals(const tri_tx_t *tx)
{
    return tx->chans.refusals;
}

int tri_node_reload_peer_tls(tri_node_t *n, const char **errmsg)
{
    *errmsg = NULL;
    return tri_chans_reload(&n->tx->chans, errmsg);
}

void tri_tx_free(tri_tx_t *tx)
{
    while (tx->backoffs != NULL) {
        tri_backoff_t *b = tx->backoffs;
        tx->backoffs = b->next;
        free(b);
    }
    tri_chans_free(&tx->chans);
    free(tx);
}
