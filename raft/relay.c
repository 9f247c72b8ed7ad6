/* Raft's streams over peer channels.
 *
 * libraft 0.15 wants a uv_stream_t it owns: it sets its data, uv_writes (outbound)
 * or uv_read_starts (inbound) on it, and finally uv_closes it and frees it with
 * raft_free. It cannot be handed a TLS session. So it gets one end of an AF_UNIX
 * socketpair as a raft_malloc'd uv_pipe_t, and this relay moves bytes between the
 * other end and the channel (RAFT.md: "a transport of our own", measured working):
 *
 *   raft --uv_write--> [pipe] --read, one SSL_write per read--> channel --> peer
 *   raft <--uv_read--- [pipe] <--uv_try_write of SSL_read output-- channel <-- peer
 *
 * A read from the pipe takes everything raft wrote since the loop last polled
 * (up to TRI_CHAN_BUF), so a burst of appends becomes one SSL_write and one
 * send(2). Plaintext into the pipe goes straight to the kernel with uv_try_write;
 * only what does not fit is copied into a queued write. libraft has no
 * backpressure, so each direction stops reading its source while its sink holds
 * more than TRI_CHAN_HIGH_WATER and resumes below TRI_CHAN_LOW_WATER.
 *
 * An outbound relay is opened before its connection exists (tri_relay_open): raft
 * gets its stream at once and what it writes waits in the socketpair, unread, until
 * tri_relay_attach gives the relay the established channel, or tri_relay_fail
 * closes it with those bytes never sent (transport.c says why).
 *
 * Either side going away ends both: raft closing its end shows up here as EOF on
 * ours (the channel is then closed), and a broken channel closes our end, which
 * raft sees as EOF or EPIPE (SIGPIPE is ignored, RAFT.md) and reconnects.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "internal.h"
#include "triarch/log.h"

struct tri_relay {
    tri_chans_t *cs;
    tri_chan_t *ch; /* NULL once it closed */
    uv_pipe_t pipe; /* our end of the socketpair */
    bool pipe_reading, ending;
    size_t pipe_queued; /* plaintext in uv_write requests to raft not yet done */
    int handles;        /* channel + pipe still to close */
};
typedef struct tri_relay relay_t;

typedef struct relay_wreq {
    uv_write_t wr;
    relay_t *r;
    size_t len;
    char data[];
} relay_wreq_t;

static void relay_release(relay_t *r)
{
    if (--r->handles > 0)
        return;
    tri_chans_t *cs = r->cs;
    free(r);
    cs->n_relays--;
    if (cs->freed != NULL)
        cs->freed(cs);
}

static void relay_pipe_closed(uv_handle_t *h)
{
    relay_release(h->data);
}

static void relay_end(relay_t *r, const char *why)
{
    if (r->ending)
        return;
    r->ending = true;
    tri_debug("transport", "raft stream relay ends", "remote=%s peer=%s why=\"%s\"",
              r->ch ? tri_chan_remote(r->ch) : "-", r->ch ? tri_chan_peer(r->ch) : "-", why);
    if (r->ch != NULL)
        tri_chan_close(r->ch);
    uv_close((uv_handle_t *)&r->pipe, relay_pipe_closed);
}

/* ---------- raft -> peer ---------- */

static void relay_pipe_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
    relay_t *r = h->data;
    *buf = uv_buf_init((char *)r->cs->relay, sizeof r->cs->relay);
}

static void relay_pipe_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf)
{
    relay_t *r = s->data;
    if (r->ending || nread == 0)
        return;
    if (nread < 0) { /* raft closed its end */
        relay_end(r, "raft closed its stream");
        return;
    }
    if (tri_chan_write(r->ch, buf->base, (size_t)nread) != 0) {
        relay_end(r, "channel write failed");
        return;
    }
    if (tri_chan_queued(r->ch) >= TRI_CHAN_HIGH_WATER) {
        r->pipe_reading = false;
        uv_read_stop(s);
    }
}

static void relay_start_pipe_read(relay_t *r)
{
    if (r->ending || r->pipe_reading)
        return;
    r->pipe_reading = true;
    if (uv_read_start((uv_stream_t *)&r->pipe, relay_pipe_alloc, relay_pipe_read) != 0)
        relay_end(r, "cannot read raft's stream");
}

static void relay_chan_drain(tri_chan_t *ch, void *data)
{
    relay_start_pipe_read(data);
}

/* ---------- peer -> raft ---------- */

static void relay_pipe_write_cb(uv_write_t *wr, int status)
{
    relay_wreq_t *w = wr->data;
    relay_t *r = w->r;
    r->pipe_queued -= w->len;
    free(w);
    if (r->ending)
        return;
    if (status < 0) {
        relay_end(r, "write to raft failed");
        return;
    }
    if (r->pipe_queued < TRI_CHAN_LOW_WATER && r->ch != NULL)
        tri_chan_pause(r->ch, false);
}

static int relay_to_raft(relay_t *r, const uint8_t *p, size_t len)
{
    size_t off = 0;
    if (r->pipe_queued == 0) {
        uv_buf_t b = uv_buf_init((char *)p, (unsigned)len);
        int n = uv_try_write((uv_stream_t *)&r->pipe, &b, 1);
        if (n < 0 && n != UV_EAGAIN)
            return TRI_EIO;
        off = n > 0 ? (size_t)n : 0;
    }
    if (off == len)
        return 0;
    relay_wreq_t *w = malloc(sizeof *w + (len - off));
    if (w == NULL)
        return TRI_ENOMEM;
    memcpy(w->data, p + off, len - off);
    w->r = r;
    w->len = len - off;
    w->wr.data = w;
    uv_buf_t b = uv_buf_init(w->data, (unsigned)w->len);
    if (uv_write(&w->wr, (uv_stream_t *)&r->pipe, &b, 1, relay_pipe_write_cb) != 0) {
        free(w);
        return TRI_EIO;
    }
    r->pipe_queued += w->len;
    if (r->pipe_queued > TRI_CHAN_HIGH_WATER)
        tri_chan_pause(r->ch, true);
    return 0;
}

static void relay_chan_read(tri_chan_t *ch, int status, const uint8_t *p, size_t len, void *data)
{
    relay_t *r = data;
    if (r->ending)
        return;
    if (status != 0)
        relay_end(r, "channel closed");
    else if (relay_to_raft(r, p, len) != 0)
        relay_end(r, "write to raft failed");
}

static void relay_chan_closed(tri_chan_t *ch, void *data)
{
    relay_t *r = data;
    r->ch = NULL;
    relay_end(r, "channel closed");
    relay_release(r);
}

/* ---------- setup ---------- */

static void relay_raft_handle_closed(uv_handle_t *h)
{
    raft_free(h);
}

tri_relay_t *tri_relay_open(tri_chans_t *cs, uv_stream_t **out)
{
    uv_loop_t *loop = cs->n->loop;
    int fds[2] = {-1, -1};
    *out = NULL;
    relay_t *r = calloc(1, sizeof *r);
    uv_pipe_t *theirs = raft_malloc(sizeof *theirs);
    if (r == NULL || theirs == NULL ||
        socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) != 0) {
        free(r);
        raft_free(theirs);
        return NULL;
    }
    r->cs = cs;
    r->handles = 1; /* the pipe; the channel counts once attached */
    cs->n_relays++;
    uv_pipe_init(loop, &r->pipe, 0);
    r->pipe.data = r;
    uv_pipe_init(loop, theirs, 0);
    int rv = uv_pipe_open(&r->pipe, fds[1]);
    if (rv != 0)
        close(fds[1]);
    if (rv != 0 || uv_pipe_open(theirs, fds[0]) != 0) {
        close(fds[0]);
        uv_close((uv_handle_t *)theirs, relay_raft_handle_closed);
        relay_end(r, "cannot open the socketpair");
        return NULL;
    }
    *out = (uv_stream_t *)theirs;
    return r;
}

void tri_relay_attach(tri_relay_t *r, tri_chan_t *ch)
{
    r->ch = ch;
    r->handles++;
    tri_chan_owner_t owner = {
        .read = relay_chan_read, .drain = relay_chan_drain, .closed = relay_chan_closed, .data = r};
    tri_chan_set_owner(ch, &owner);
    relay_start_pipe_read(r);
}

void tri_relay_fail(tri_relay_t *r, const char *why)
{
    relay_end(r, why);
}

int tri_relay_new(tri_chans_t *cs, tri_chan_t *ch, uv_stream_t **out)
{
    tri_relay_t *r = tri_relay_open(cs, out);
    if (r == NULL) {
        tri_chan_close(ch);
        return TRI_ENOMEM;
    }
    tri_relay_attach(r, ch);
    return 0;
}
