/* Our libraft transport (struct raft_uv_transport over libuv TCP) and the peer
 * handshake every replica-to-replica connection begins with.
 *
 * One listener per node on its peer address, bound in tri_node_start before raft
 * starts so that bootstrap probes can be answered. Each inbound connection first
 * sends a handshake frame; the receiver answers with one reply frame and then,
 * depending on the kind, hands the very same uv_tcp_t (raft_malloc'd, standalone,
 * as libraft frees it with its allocator) to raft (RAFT), to forward.c (FORWARD),
 * or closes it (PROBE).
 *
 *   request: "TRHS" u8 version u8 kind    u16 body_len | u64 sender id,
 *            u8 len + cluster id, u8 len + sender address, u8 len + sender name
 *   reply:   "TRHS" u8 version u8 status  u16 body_len | u8 has_cluster, u8 seen_you,
 *            u64 receiver id, u8 len + cluster id, u8 len + receiver name
 *
 * No byte of raft's traffic can be lost to the handshake reader: the dialer sends
 * nothing after its request until it has read the reply (strict lockstep), and
 * both sides read with buffers sized to exactly the bytes still missing from the
 * frame, stopping the read in the callback that completes it. Peers whose cluster
 * id differs are refused with a status both ways and a log line that says so;
 * anything that does not start with the magic is dropped silently but logged.
 * Handshakes that do not complete in TRI_HS_TIMEOUT_MS are dropped.
 *
 * close() stops the listener, drops half-done inbound handshakes and cancels every
 * pending dial (raft's connect callbacks then fire with RAFT_CANCELED) before its
 * own callback fires, once every handle is closed.
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
/* Refusal log lines repeat with raft's connect retries: print at most one per period. */
#define TRI_REFUSAL_LOG_MS 5000

typedef struct tri_inconn {
    tri_tx_t *tx;
    uv_tcp_t *tcp; /* raft_malloc'd; NULL once handed over */
    uv_timer_t timer;
    uv_write_t wr;
    uint8_t in[TRI_HS_FRAME_MAX];
    size_t have, need;
    bool body;
    uint8_t out[TRI_HS_FRAME_MAX];
    int kind;
    int status;
    uint64_t peer_id;
    char peer_addr[TRI_ADDR_MAX + 1];
    char remote[64];
    bool done;
    int closes;
    struct tri_inconn *next, *prev;
} tri_inconn_t;

struct tri_dial {
    tri_tx_t *tx;
    int kind;
    char addr[TRI_ADDR_MAX + 1];
    uv_tcp_t *tcp;
    uv_connect_t creq;
    uv_write_t wr;
    uv_timer_t timer;
    uint8_t out[TRI_HS_FRAME_MAX];
    size_t out_len;
    uint8_t in[TRI_HS_FRAME_MAX];
    size_t have, need;
    bool body, wrote, replied, done;
    tri_hs_reply_t rep;
    tri_dial_cb cb;
    void *data;
    int closes;
    struct tri_dial *next, *prev;
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
    uint64_t last_refusal_log;
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

static void tx_remote_name(uv_tcp_t *tcp, char *out, size_t cap)
{
    struct sockaddr_storage ss;
    int len = sizeof ss;
    char ip[64] = "?";
    int port = 0;
    snprintf(out, cap, "?");
    if (uv_tcp_getpeername(tcp, (struct sockaddr *)&ss, &len) != 0)
        return;
    if (ss.ss_family == AF_INET) {
        struct sockaddr_in *in = (struct sockaddr_in *)&ss;
        uv_ip4_name(in, ip, sizeof ip);
        port = ntohs(in->sin_port);
    }
    snprintf(out, cap, "%s:%d", ip, port);
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
    if (!tx->closing || tx->closes_pending > 0 || tx->close_cb == NULL)
        return;
    raft_uv_transport_close_cb cb = tx->close_cb;
    tx->close_cb = NULL;
    cb(&tx->n->transport);
}

static void tx_raft_free_close_cb(uv_handle_t *h)
{
    tri_node_t *n = h->data;
    raft_free(h);
    if (n != NULL)
        tri_node_handle_closed(n);
}

void tri_tcp_close_free(uv_tcp_t *tcp, tri_node_t *n)
{
    tcp->data = n;
    if (n != NULL)
        n->closes_pending++;
    uv_close((uv_handle_t *)tcp, tx_raft_free_close_cb);
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

static void inconn_tcp_closed(uv_handle_t *h)
{
    tri_inconn_t *c = h->data;
    raft_free(h);
    inconn_release(c);
}

/* Ends the handshake connection: closes whatever handles it still owns. */
static void inconn_close(tri_inconn_t *c)
{
    if (c->done)
        return;
    c->done = true;
    TRI_LIST_REMOVE(c);
    c->closes = 1;
    uv_close((uv_handle_t *)&c->timer, inconn_timer_closed);
    if (c->tcp != NULL) {
        c->closes++;
        uv_close((uv_handle_t *)c->tcp, inconn_tcp_closed);
        c->tcp = NULL;
    }
}

static void inconn_timeout(uv_timer_t *t)
{
    tri_inconn_t *c = t->data;
    tri_warn("transport", "peer handshake timed out, dropping connection", "remote=%s",
             c->remote);
    inconn_close(c);
}

static void inconn_hand_over(tri_inconn_t *c)
{
    tri_node_t *n = c->tx->n;
    uv_tcp_t *tcp = c->tcp;
    int kind = c->kind;
    uint64_t id = c->peer_id;
    char addr[TRI_ADDR_MAX + 1];
    memcpy(addr, c->peer_addr, sizeof addr);

    c->tcp = NULL;
    tcp->data = NULL;
    inconn_close(c);
    tri_identity_note_seen(n, id);
    if (kind == TRI_HS_RAFT && n->accept_cb != NULL && !c->tx->closing) {
        n->accept_cb(&n->transport, id, addr, (uv_stream_t *)tcp);
        return;
    }
    if (kind == TRI_HS_FORWARD && !c->tx->closing) {
        tri_fwd_accept(n, tcp, id);
        return;
    }
    tri_tcp_close_free(tcp, n);
}

static void inconn_write_cb(uv_write_t *wr, int status)
{
    tri_inconn_t *c = wr->data;
    if (c->done)
        return;
    if (status < 0 || c->status != TRI_HS_OK || c->kind == TRI_HS_PROBE) {
        inconn_close(c);
        return;
    }
    inconn_hand_over(c);
}

static void inconn_reply(tri_inconn_t *c, int status)
{
    tri_node_t *n = c->tx->n;
    uint8_t *b = c->out + TRI_HS_HEADER;
    size_t off = 0;
    b[off++] = (n->has_identity && !n->probing) ? 1 : 0;
    b[off++] = tri_identity_has_seen(n, c->peer_id) ? 1 : 0;
    hs_put_u64(b + off, n->id);
    off += 8;
    off += hs_put_str(b + off, n->cluster_id, TRI_CLUSTER_ID_MAX);
    off += hs_put_str(b + off, n->name, TRI_NAME_MAX);
    hs_header(c->out, (uint8_t)status, off);
    c->status = status;
    uv_buf_t buf = uv_buf_init((char *)c->out, (unsigned)(TRI_HS_HEADER + off));
    c->wr.data = c;
    if (uv_write(&c->wr, (uv_stream_t *)c->tcp, &buf, 1, inconn_write_cb) != 0)
        inconn_close(c);
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
    char cluster_id[TRI_CLUSTER_ID_MAX + 1], name[TRI_NAME_MAX + 1];

    if (inconn_parse_body(c, cluster_id, name) != 0 || c->peer_id == 0) {
        tri_warn("transport", "dropped peer connection: malformed handshake", "remote=%s",
                 c->remote);
        inconn_close(c);
        return;
    }
    if (strcmp(cluster_id, n->cluster_id) != 0) {
        tri_warn("transport", "refused peer of another cluster",
                 "remote=%s peer=\"%s\" peer_cluster=\"%s\" our_cluster=\"%s\"", c->remote, name,
                 cluster_id, n->cluster_id);
        inconn_reply(c, TRI_HS_WRONG_CLUSTER);
        return;
    }
    if (c->kind != TRI_HS_RAFT && c->kind != TRI_HS_FORWARD && c->kind != TRI_HS_PROBE) {
        tri_warn("transport", "refused peer connection of unknown kind", "remote=%s kind=%d",
                 c->remote, c->kind);
        inconn_reply(c, TRI_HS_UNKNOWN_KIND);
        return;
    }
    if (c->kind != TRI_HS_PROBE && (n->accept_cb == NULL || n->probing || n->closing)) {
        inconn_reply(c, TRI_HS_NOT_READY);
        return;
    }
    inconn_reply(c, TRI_HS_OK);
}

static void inconn_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
    tri_inconn_t *c = h->data;
    /* Exactly the bytes still missing from the frame: never read past it. */
    *buf = uv_buf_init((char *)c->in + c->have, (unsigned)(c->need - c->have));
}

static void inconn_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf)
{
    tri_inconn_t *c = s->data;
    if (c->done)
        return;
    if (nread < 0) {
        tri_debug("transport", "peer closed before completing the handshake", "remote=%s",
                  c->remote);
        inconn_close(c);
        return;
    }
    c->have += (size_t)nread;
    if (c->have < c->need)
        return;
    if (!c->body) {
        if (memcmp(c->in, TRI_HS_MAGIC, 4) != 0) {
            tri_warn("transport", "dropped connection: not a triarch peer handshake",
                     "remote=%s", c->remote);
            inconn_close(c);
            return;
        }
        size_t body = hs_body_len(c->in);
        c->kind = c->in[5];
        if (c->in[4] != TRI_HS_VERSION || body > TRI_HS_BODY_MAX) {
            tri_warn("transport", "refused peer: unsupported handshake version",
                     "remote=%s version=%u ours=%u", c->remote, c->in[4], TRI_HS_VERSION);
            uv_read_stop(s);
            inconn_reply(c, TRI_HS_BAD_VERSION);
            return;
        }
        c->body = true;
        c->need = TRI_HS_HEADER + body;
        if (c->have < c->need)
            return;
    }
    uv_read_stop(s);
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
    uv_tcp_t *tcp = raft_malloc(sizeof *tcp);
    if (c == NULL || tcp == NULL) {
        free(c);
        raft_free(tcp);
        return; /* the connection stays in the backlog and is retried by the kernel */
    }
    c->tx = tx;
    c->need = TRI_HS_HEADER;
    uv_tcp_init(server->loop, tcp);
    tcp->data = c;
    c->tcp = tcp;
    uv_timer_init(server->loop, &c->timer);
    c->timer.data = c;
    TRI_LIST_PUSH(&tx->inconns, c);
    tx->closes_pending++;
    if (uv_accept(server, (uv_stream_t *)tcp) != 0) {
        inconn_close(c);
        return;
    }
    uv_tcp_nodelay(tcp, 1);
    tx_remote_name(tcp, c->remote, sizeof c->remote);
    uv_timer_start(&c->timer, inconn_timeout, TRI_HS_TIMEOUT_MS, 0);
    if (uv_read_start((uv_stream_t *)tcp, inconn_alloc, inconn_read) != 0)
        inconn_close(c);
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

static void dial_tcp_closed(uv_handle_t *h)
{
    tri_dial_t *d = h->data;
    raft_free(h);
    dial_release(d);
}

static void dial_finish(tri_dial_t *d, int status)
{
    if (d->done)
        return;
    d->done = true;
    TRI_LIST_REMOVE(d);
    uv_timer_stop(&d->timer);
    uv_tcp_t *tcp = NULL;
    if (status == 0) {
        tcp = d->tcp;
        d->tcp = NULL;
        uv_read_stop((uv_stream_t *)tcp);
        tcp->data = NULL;
    }
    if (d->cb != NULL)
        d->cb(d, status, d->replied ? &d->rep : NULL, tcp, d->data);
    d->closes = 1;
    uv_close((uv_handle_t *)&d->timer, dial_timer_closed);
    if (d->tcp != NULL) {
        d->closes++;
        uv_close((uv_handle_t *)d->tcp, dial_tcp_closed);
        d->tcp = NULL;
    }
}

static void dial_maybe_complete(tri_dial_t *d)
{
    if (!d->wrote || !d->replied)
        return;
    dial_finish(d, d->rep.status == TRI_HS_OK ? 0 : TRI_EINVAL);
}

static void dial_timeout(uv_timer_t *t)
{
    tri_dial_t *d = t->data;
    tri_debug("transport", "peer handshake timed out", "addr=%s", d->addr);
    dial_finish(d, TRI_ETIMEDOUT);
}

static void dial_write_cb(uv_write_t *wr, int status)
{
    tri_dial_t *d = wr->data;
    if (d->done)
        return;
    if (status < 0) {
        dial_finish(d, TRI_EIO);
        return;
    }
    d->wrote = true;
    dial_maybe_complete(d);
}

static int dial_parse_reply(tri_dial_t *d)
{
    const uint8_t *b = d->in + TRI_HS_HEADER;
    size_t len = d->need - TRI_HS_HEADER;
    size_t off = 10;
    d->rep.status = d->in[5];
    if (len < 10)
        return -1;
    d->rep.has_cluster = b[0] != 0;
    d->rep.seen_you = b[1] != 0;
    d->rep.id = hs_get_u64(b + 2);
    if (hs_get_str(b, len, &off, d->rep.cluster_id, TRI_CLUSTER_ID_MAX) != 0 ||
        hs_get_str(b, len, &off, d->rep.name, TRI_NAME_MAX) != 0)
        return -1;
    return 0;
}

static void dial_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
    tri_dial_t *d = h->data;
    *buf = uv_buf_init((char *)d->in + d->have, (unsigned)(d->need - d->have));
}

static void dial_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf)
{
    tri_dial_t *d = s->data;
    if (d->done)
        return;
    if (nread < 0) {
        dial_finish(d, TRI_EIO);
        return;
    }
    d->have += (size_t)nread;
    if (d->have < d->need)
        return;
    if (!d->body) {
        size_t body = hs_body_len(d->in);
        if (memcmp(d->in, TRI_HS_MAGIC, 4) != 0 || d->in[4] != TRI_HS_VERSION ||
            body > TRI_HS_BODY_MAX) {
            tri_warn("transport", "peer answered with an unknown handshake", "addr=%s", d->addr);
            dial_finish(d, TRI_EIO);
            return;
        }
        d->body = true;
        d->need = TRI_HS_HEADER + body;
        if (d->have < d->need)
            return;
    }
    uv_read_stop(s);
    if (dial_parse_reply(d) != 0) {
        dial_finish(d, TRI_EIO);
        return;
    }
    d->replied = true;
    dial_maybe_complete(d);
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
    uv_buf_t buf = uv_buf_init((char *)d->out, (unsigned)d->out_len);
    d->wr.data = d;
    if (uv_write(&d->wr, (uv_stream_t *)d->tcp, &buf, 1, dial_write_cb) != 0 ||
        uv_read_start((uv_stream_t *)d->tcp, dial_alloc, dial_read) != 0)
        dial_finish(d, TRI_EIO);
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

tri_dial_t *tri_tx_dial(tri_tx_t *tx, int kind, const char *addr, tri_dial_cb cb, void *data)
{
    struct sockaddr_in sa;
    if (tx->closing || tri_tx_parse_addr(addr, &sa) != 0)
        return NULL;
    tri_dial_t *d = calloc(1, sizeof *d);
    uv_tcp_t *tcp = raft_malloc(sizeof *tcp);
    if (d == NULL || tcp == NULL) {
        free(d);
        raft_free(tcp);
        return NULL;
    }
    d->tx = tx;
    d->kind = kind;
    snprintf(d->addr, sizeof d->addr, "%s", addr);
    d->cb = cb;
    d->data = data;
    d->need = TRI_HS_HEADER;
    dial_build_request(d);
    uv_loop_t *loop = tx->n->loop;
    uv_tcp_init(loop, tcp);
    tcp->data = d;
    d->tcp = tcp;
    uv_timer_init(loop, &d->timer);
    d->timer.data = d;
    TRI_LIST_PUSH(&tx->dials, d);
    tx->closes_pending++;
    uv_tcp_nodelay(tcp, 1);
    d->creq.data = d;
    if (uv_tcp_connect(&d->creq, tcp, (struct sockaddr *)&sa, dial_connect_cb) != 0) {
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

static void tx_raft_dial_cb(tri_dial_t *d, int status, const tri_hs_reply_t *rep, uv_tcp_t *tcp,
                            void *data)
{
    struct raft_uv_connect *req = data;
    raft_uv_connect_cb cb = req->cb;
    if (status == 0) {
        cb(req, (uv_stream_t *)tcp, 0);
        return;
    }
    if (status == TRI_ECANCELED) {
        cb(req, NULL, RAFT_CANCELED);
        return;
    }
    if (rep != NULL)
        tx_log_refusal(d->tx, d->addr, rep);
    cb(req, NULL, RAFT_NOCONNECTION);
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

static int tx_connect(struct raft_uv_transport *t, struct raft_uv_connect *req, raft_id id,
                      const char *address, raft_uv_connect_cb cb)
{
    tri_tx_t *tx = t->impl;
    req->cb = cb;
    if (tri_tx_dial(tx, TRI_HS_RAFT, address, tx_raft_dial_cb, req) == NULL)
        return RAFT_NOCONNECTION;
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
    while (!TRI_LIST_EMPTY(&tx->dials))
        dial_finish(tx->dials.next, TRI_ECANCELED);
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

void tri_tx_free(tri_tx_t *tx)
{
    free(tx);
}
