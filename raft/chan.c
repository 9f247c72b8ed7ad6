/* Peer channels: every replica-to-replica connection (Raft streams, forwarded writes
 * and barriers, bootstrap probes) as mutual TLS over a libuv TCP handle, with
 * OpenSSL driven through two memory BIOs on the loop thread: no blocking socket, no
 * thread. Ciphertext read from the socket goes into the read BIO and SSL_read turns
 * it into plaintext for the channel's owner; a write is one SSL_write whose records
 * are taken out of the write BIO in place and handed to uv_try_write, so nothing is
 * allocated or copied again unless the socket is full.
 *
 * Both sides present their replica certificate and require the other's: a chain to
 * the cluster CA (the only trust anchor loaded; never the system store), valid now,
 * with the extended key usage for its role (OpenSSL's ssl_client / ssl_server
 * purposes), O=triarch:replicas and a CN naming a member of this cluster. Anything
 * else is refused and logged, with the peer's address and the reason, before the
 * owner sees a byte: the Raft handshake (transport.c), which still carries the
 * cluster id, runs inside the established channel. docs/adr/0005-peer-tls.md says why.
 *
 * With peer-insecure-plaintext the same channel passes bytes through untouched.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "internal.h"
#include "triarch/log.h"

/* The organisation `triarch init` puts in every replica certificate (tools/pki.c);
 * no other certificate the cluster CA signs may carry it. */
#define TRI_REPLICA_ORG "triarch:replicas"
#define TRI_REASON_MAX 256

struct tri_chan {
    tri_chans_t *cs;
    uv_tcp_t tcp;
    SSL *ssl;
    BIO *rbio, *wbio; /* owned by ssl */
    bool server;
    bool started, established, failed, closing, paused, reading, above_high;
    size_t queued; /* bytes in uv_write requests not yet completed */
    tri_chan_owner_t owner;
    char remote[64];
    char peer[TRI_NAME_MAX + 1];
    bool peer_removed; /* the certificate names a removed member */
    struct tri_chan *next, *prev;
};

typedef struct chan_wreq {
    uv_write_t wr;
    tri_chan_t *ch;
    size_t len;
    char data[];
} chan_wreq_t;

/* ---------- the SSL_CTX ---------- */

static const char *ssl_err_string(void)
{
    unsigned long e = ERR_peek_last_error();
    const char *r = e ? ERR_reason_error_string(e) : NULL;
    return r ? r : "unknown error";
}

/* The subject's first entry of nid into out; false when absent. */
static bool subject_entry(X509 *x, int nid, char *out, size_t cap)
{
    X509_NAME *name = X509_get_subject_name(x);
    int i = X509_NAME_get_index_by_NID(name, nid, -1);
    if (i < 0)
        return false;
    ASN1_STRING *s = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, i));
    int len = ASN1_STRING_length(s);
    if (len < 0 || (size_t)len >= cap || memchr(ASN1_STRING_get0_data(s), 0, (size_t)len))
        return false;
    memcpy(out, ASN1_STRING_get0_data(s), (size_t)len);
    out[len] = '\0';
    return true;
}

static bool has_org(X509 *x, const char *org)
{
    X509_NAME *name = X509_get_subject_name(x);
    for (int i = -1; (i = X509_NAME_get_index_by_NID(name, NID_organizationName, i)) >= 0;) {
        ASN1_STRING *s = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, i));
        if ((size_t)ASN1_STRING_length(s) == strlen(org) &&
            memcmp(ASN1_STRING_get0_data(s), org, strlen(org)) == 0)
            return true;
    }
    return false;
}

const tri_member_t *tri_chan_member(tri_node_t *n, const char *name)
{
    return tri_members_by_name(n, name);
}

/* The member a certificate names, or a reason why it names none. */
static const tri_member_t *cert_member(tri_node_t *n, X509 *x, char *reason, size_t cap)
{
    char cn[TRI_NAME_MAX + 1];
    if (!has_org(x, TRI_REPLICA_ORG)) {
        snprintf(reason, cap, "not a replica certificate (no O=%s)", TRI_REPLICA_ORG);
        return NULL;
    }
    if (!subject_entry(x, NID_commonName, cn, sizeof cn)) {
        snprintf(reason, cap, "replica certificate without a usable CN");
        return NULL;
    }
    const tri_member_t *m = tri_chan_member(n, cn);
    if (m == NULL)
        snprintf(reason, cap, "certificate CN=%s is not a member of this cluster", cn);
    return m;
}

static int ctx_check_own(tri_node_t *n, SSL_CTX *ctx, const char **errmsg)
{
    X509 *own = SSL_CTX_get0_certificate(ctx);
    char reason[TRI_REASON_MAX];
    const tri_member_t *m = own ? cert_member(n, own, reason, sizeof reason) : NULL;
    if (m == NULL || m->id != n->id) {
        tri_error("transport", "peer-cert-file is not this replica's certificate",
                  "name=%s reason=\"%s\"", n->name, m ? "it names another member" : reason);
        *errmsg = "peer-cert-file is not this replica's certificate (CN must be its name, "
                  "O=" TRI_REPLICA_ORG ")";
        return TRI_EINVAL;
    }
    if (X509_cmp_current_time(X509_get0_notAfter(own)) <= 0)
        tri_error("transport",
                  "our peer certificate has expired: peers will refuse us; "
                  "renew it and restart this replica",
                  "name=%s", n->name);
    return 0;
}

static SSL_CTX *ctx_load(const tri_node_config_t *cfg, const char **errmsg)
{
    SSL_CTX *ctx = SSL_CTX_new(TLS_method());
    if (ctx == NULL) {
        *errmsg = "out of memory (SSL_CTX_new)";
        return NULL;
    }
    SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
    SSL_CTX_set_options(ctx, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_TICKET |
                                 SSL_OP_CIPHER_SERVER_PREFERENCE);
    /* Long-lived connections between known peers: no resumption, no tickets. */
    SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
    SSL_CTX_set_num_tickets(ctx, 0);
    SSL_CTX_set_cipher_list(ctx, "ECDHE+AESGCM:ECDHE+CHACHA20");
    /* Only the cluster CA: no default verify paths. */
    if (SSL_CTX_load_verify_locations(ctx, cfg->peer_trusted_ca_file, NULL) != 1) {
        *errmsg = "cannot load peer-trusted-ca-file";
        goto err;
    }
    if (SSL_CTX_use_certificate_chain_file(ctx, cfg->peer_cert_file) != 1) {
        *errmsg = "cannot load peer-cert-file";
        goto err;
    }
    if (SSL_CTX_use_PrivateKey_file(ctx, cfg->peer_key_file, SSL_FILETYPE_PEM) != 1 ||
        SSL_CTX_check_private_key(ctx) != 1) {
        *errmsg = "cannot load peer-key-file, or it does not match peer-cert-file";
        goto err;
    }
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, NULL);
    SSL_CTX_set_verify_depth(ctx, 4);
    return ctx;
err:
    tri_error("transport", *errmsg, "cert=\"%s\" key=\"%s\" ca=\"%s\" err=\"%s\"",
              cfg->peer_cert_file, cfg->peer_key_file, cfg->peer_trusted_ca_file, ssl_err_string());
    ERR_clear_error();
    SSL_CTX_free(ctx);
    return NULL;
}

int tri_chans_init(tri_chans_t *cs, tri_node_t *n, const tri_node_config_t *cfg,
                   const char **errmsg)
{
    cs->n = n;
    if (cfg->peer_insecure_plaintext) {
        tri_warn("transport",
                 "PEER TRAFFIC IS NOT ENCRYPTED OR AUTHENTICATED: peer-insecure-plaintext is "
                 "set; anyone who can reach the peer port can join the Raft group",
                 "name=%s peer=%s", n->name, n->peer_addr);
        return 0;
    }
    if (cfg->peer_cert_file == NULL || cfg->peer_key_file == NULL ||
        cfg->peer_trusted_ca_file == NULL) {
        *errmsg = "peer TLS needs peer-cert-file, peer-key-file and peer-trusted-ca-file";
        return TRI_EINVAL;
    }
    SSL_CTX *ctx = ctx_load(cfg, errmsg);
    if (ctx == NULL)
        return TRI_EINVAL;
    if (ctx_check_own(n, ctx, errmsg) != 0) {
        SSL_CTX_free(ctx);
        return TRI_EINVAL;
    }
    cs->ssl_ctx = ctx;
    cs->cert_file = strdup(cfg->peer_cert_file);
    cs->key_file = strdup(cfg->peer_key_file);
    cs->ca_file = strdup(cfg->peer_trusted_ca_file);
    return cs->cert_file && cs->key_file && cs->ca_file ? 0 : TRI_ENOMEM;
}

int tri_chans_reload(tri_chans_t *cs, const char **errmsg)
{
    if (cs->ssl_ctx == NULL)
        return 0; /* peer-insecure-plaintext: nothing to reload */
    tri_node_config_t cfg = {.peer_cert_file = cs->cert_file,
                             .peer_key_file = cs->key_file,
                             .peer_trusted_ca_file = cs->ca_file};
    SSL_CTX *ctx = ctx_load(&cfg, errmsg);
    if (ctx == NULL)
        return TRI_EINVAL;
    if (ctx_check_own(cs->n, ctx, errmsg) != 0) {
        SSL_CTX_free(ctx);
        return TRI_EINVAL;
    }
    /* Open channels hold their own reference to the context they began with. */
    SSL_CTX_free(cs->ssl_ctx);
    cs->ssl_ctx = ctx;
    return 0;
}

void tri_chans_free(tri_chans_t *cs)
{
    SSL_CTX_free(cs->ssl_ctx);
    cs->ssl_ctx = NULL;
    free(cs->cert_file);
    free(cs->key_file);
    free(cs->ca_file);
    cs->cert_file = cs->key_file = cs->ca_file = NULL;
}

void tri_chans_log_refusal(tri_chans_t *cs, const char *remote, const char *dir, const char *reason)
{
    uint64_t now = tri_now_ms();
    cs->refusals++;
    if (cs->refusal_log_ms == 0 || now - cs->refusal_log_ms >= TRI_REFUSAL_LOG_MS) {
        cs->refusal_log_ms = now; /* a new window */
        cs->refusal_lines = 0;
    }
    if (cs->refusal_lines >= TRI_REFUSAL_LOG_BURST) {
        cs->refusals_suppressed++;
        return;
    }
    cs->refusal_lines++;
    tri_warn("transport", "refused peer connection",
             "remote=%s direction=%s reason=\"%s\" suppressed_before=%u", remote, dir, reason,
             cs->refusals_suppressed);
    cs->refusals_suppressed = 0;
}

/* ---------- lifetime ---------- */

static void chan_tcp_closed(uv_handle_t *h)
{
    tri_chan_t *ch = h->data;
    tri_chans_t *cs = ch->cs;
    if (ch->owner.closed != NULL)
        ch->owner.closed(ch, ch->owner.data);
    if (ch->prev != NULL)
        ch->prev->next = ch->next;
    else
        cs->live = ch->next;
    if (ch->next != NULL)
        ch->next->prev = ch->prev;
    cs->n_live--;
    SSL_free(ch->ssl);
    free(ch);
    if (cs->freed != NULL)
        cs->freed(cs);
}

void tri_chan_close(tri_chan_t *ch)
{
    if (ch->closing)
        return;
    ch->closing = true;
    uv_close((uv_handle_t *)&ch->tcp, chan_tcp_closed);
}

void tri_chan_abandon(tri_chan_t *ch)
{
    memset(&ch->owner, 0, sizeof ch->owner);
    tri_chan_close(ch);
}

/* The stream broke or the peer was refused: tell the owner once, then close. */
static void chan_fail(tri_chan_t *ch, int status)
{
    if (ch->failed || ch->closing)
        return;
    ch->failed = true;
    if (!ch->established) {
        if (ch->owner.ready != NULL)
            ch->owner.ready(ch, status, ch->owner.data);
    } else if (ch->owner.read != NULL) {
        ch->owner.read(ch, status, NULL, 0, ch->owner.data);
    }
    tri_chan_close(ch);
}

tri_chan_t *tri_chan_new(tri_chans_t *cs, bool server)
{
    tri_chan_t *ch = calloc(1, sizeof *ch);
    if (ch == NULL)
        return NULL;
    ch->cs = cs;
    ch->server = server;
    uv_tcp_init(cs->n->loop, &ch->tcp);
    ch->tcp.data = ch;
    snprintf(ch->remote, sizeof ch->remote, "?");
    ch->next = cs->live;
    if (ch->next != NULL)
        ch->next->prev = ch;
    cs->live = ch;
    cs->n_live++;
    return ch;
}

uv_tcp_t *tri_chan_tcp(tri_chan_t *ch)
{
    return &ch->tcp;
}

const char *tri_chan_peer(const tri_chan_t *ch)
{
    return ch->peer;
}

const char *tri_chan_remote(const tri_chan_t *ch)
{
    return ch->remote;
}

size_t tri_chan_queued(const tri_chan_t *ch)
{
    return ch->queued;
}

void tri_chan_set_owner(tri_chan_t *ch, const tri_chan_owner_t *owner)
{
    ch->owner = *owner;
}

void tri_chans_close_all(tri_chans_t *cs)
{
    for (tri_chan_t *ch = cs->live; ch != NULL; ch = ch->next) {
        chan_fail(ch, TRI_ECANCELED);
        tri_chan_close(ch);
    }
}

/* ---------- output ---------- */

static void chan_write_cb(uv_write_t *wr, int status)
{
    chan_wreq_t *w = wr->data;
    tri_chan_t *ch = w->ch;
    ch->queued -= w->len;
    free(w);
    if (ch->closing)
        return;
    if (status < 0) {
        chan_fail(ch, TRI_EIO);
        return;
    }
    if (ch->above_high && ch->queued < TRI_CHAN_LOW_WATER) {
        ch->above_high = false;
        if (ch->owner.drain != NULL)
            ch->owner.drain(ch, ch->owner.data);
    }
}

/* Bytes to the socket in order: straight into the kernel when nothing is queued,
 * the rest copied into one write request. */
static int chan_send_raw(tri_chan_t *ch, const char *p, size_t len)
{
    size_t off = 0;
    if (ch->queued == 0) {
        uv_buf_t b = uv_buf_init((char *)p, (unsigned)len);
        int r = uv_try_write((uv_stream_t *)&ch->tcp, &b, 1);
        if (r < 0 && r != UV_EAGAIN)
            return TRI_EIO;
        off = r > 0 ? (size_t)r : 0;
    }
    if (off == len)
        return 0;
    chan_wreq_t *w = malloc(sizeof *w + (len - off));
    if (w == NULL)
        return TRI_ENOMEM;
    memcpy(w->data, p + off, len - off);
    w->ch = ch;
    w->len = len - off;
    w->wr.data = w;
    uv_buf_t b = uv_buf_init(w->data, (unsigned)w->len);
    if (uv_write(&w->wr, (uv_stream_t *)&ch->tcp, &b, 1, chan_write_cb) != 0) {
        free(w);
        return TRI_EIO;
    }
    ch->queued += w->len;
    if (ch->queued >= TRI_CHAN_HIGH_WATER) /* the relay stops feeding at >= too */
        ch->above_high = true;
    return 0;
}

/* Hands whatever TLS produced (records, alerts) to the socket, in place. */
static int chan_flush(tri_chan_t *ch)
{
    char *p;
    long n = BIO_get_mem_data(ch->wbio, &p);
    if (n <= 0)
        return 0;
    int rv = chan_send_raw(ch, p, (size_t)n);
    (void)BIO_reset(ch->wbio);
    return rv;
}

int tri_chan_write(tri_chan_t *ch, const void *p, size_t len)
{
    if (ch->closing || ch->failed || !ch->established)
        return TRI_EIO;
    if (len == 0)
        return 0;
    if (ch->ssl == NULL)
        return chan_send_raw(ch, p, len);
    ERR_clear_error();
    /* A memory BIO takes every record: one SSL_write writes it all. */
    if (SSL_write(ch->ssl, p, (int)len) != (int)len) {
        tri_warn("transport", "TLS write failed", "remote=%s err=\"%s\"", ch->remote,
                 ssl_err_string());
        ERR_clear_error();
        return TRI_EIO;
    }
    return chan_flush(ch);
}

/* ---------- input ---------- */

/* Checks the verified peer certificate names a member; fills ch->peer. */
static int chan_check_peer(tri_chan_t *ch, char *reason, size_t cap)
{
    X509 *x = SSL_get0_peer_certificate(ch->ssl);
    if (x == NULL) {
        snprintf(reason, cap, "no certificate");
        return -1;
    }
    long v = SSL_get_verify_result(ch->ssl);
    if (v != X509_V_OK) {
        snprintf(reason, cap, "certificate verify failed: %s", X509_verify_cert_error_string(v));
        return -1;
    }
    const tri_member_t *m = cert_member(ch->cs->n, x, reason, cap);
    char cn[TRI_NAME_MAX + 1];
    if (m == NULL && ch->server && subject_entry(x, NID_commonName, cn, sizeof cn) &&
        has_org(x, TRI_REPLICA_ORG) && tri_members_name_removed(ch->cs->n, cn)) {
        /* kept open only to answer TRI_HS_REMOVED (transport.c) */
        snprintf(ch->peer, sizeof ch->peer, "%s", cn);
        ch->peer_removed = true;
        return 0;
    }
    if (m == NULL)
        return -1;
    snprintf(ch->peer, sizeof ch->peer, "%s", m->name);
    return 0;
}

bool tri_chan_peer_removed(const tri_chan_t *ch)
{
    return ch->peer_removed;
}

static void chan_refuse(tri_chan_t *ch, const char *reason)
{
    tri_chans_log_refusal(ch->cs, ch->remote, ch->server ? "inbound" : "outbound", reason);
    chan_flush(ch); /* the alert, if TLS made one */
    chan_fail(ch, TRI_EINVAL);
}

static void chan_handshake_failed(tri_chan_t *ch)
{
    char reason[TRI_REASON_MAX];
    long v = SSL_get_verify_result(ch->ssl);
    if (v != X509_V_OK)
        snprintf(reason, sizeof reason, "certificate verify failed: %s",
                 X509_verify_cert_error_string(v));
    else
        snprintf(reason, sizeof reason, "TLS handshake failed: %s", ssl_err_string());
    ERR_clear_error();
    chan_refuse(ch, reason);
}

/* Drives the handshake; true once established (and the peer verified). */
static bool chan_handshake(tri_chan_t *ch)
{
    ERR_clear_error();
    int r = SSL_do_handshake(ch->ssl);
    if (r != 1) {
        int e = SSL_get_error(ch->ssl, r);
        if (e == SSL_ERROR_WANT_READ) {
            if (chan_flush(ch) != 0)
                chan_fail(ch, TRI_EIO);
            return false;
        }
        chan_handshake_failed(ch);
        return false;
    }
    if (chan_flush(ch) != 0) {
        chan_fail(ch, TRI_EIO);
        return false;
    }
    char reason[TRI_REASON_MAX];
    if (chan_check_peer(ch, reason, sizeof reason) != 0) {
        chan_refuse(ch, reason);
        return false;
    }
    ch->established = true;
    tri_debug("transport", "peer TLS established", "remote=%s peer=%s version=%s cipher=%s",
              ch->remote, ch->peer, SSL_get_version(ch->ssl), SSL_get_cipher_name(ch->ssl));
    if (ch->owner.ready != NULL)
        ch->owner.ready(ch, 0, ch->owner.data);
    return !ch->closing && !ch->failed;
}

static bool chan_usable(const tri_chan_t *ch)
{
    return !ch->closing && !ch->failed && !ch->paused && ch->owner.read != NULL;
}

/* Decrypts and delivers what the read BIO holds, until it is empty or the owner
 * pauses, switches or closes. */
static void chan_drain_input(tri_chan_t *ch)
{
    tri_chans_t *cs = ch->cs;
    while (chan_usable(ch)) {
        ERR_clear_error();
        int r = SSL_read(ch->ssl, cs->pt, sizeof cs->pt);
        if (r > 0) {
            ch->owner.read(ch, 0, cs->pt, (size_t)r, ch->owner.data);
            continue;
        }
        int e = SSL_get_error(ch->ssl, r);
        if (e == SSL_ERROR_WANT_READ)
            break;
        if (e == SSL_ERROR_ZERO_RETURN) {
            chan_fail(ch, TRI_EIO);
            return;
        }
        /* TLS 1.3: a client hears that the server refused its certificate only now. */
        tri_chans_log_refusal(cs, ch->remote, ch->server ? "inbound" : "outbound",
                              ssl_err_string());
        ERR_clear_error();
        chan_fail(ch, TRI_EIO);
        return;
    }
    if (!ch->closing && !ch->failed && chan_flush(ch) != 0)
        chan_fail(ch, TRI_EIO);
}

static void chan_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
    tri_chan_t *ch = h->data;
    *buf = uv_buf_init((char *)ch->cs->rx, sizeof ch->cs->rx);
}

static void chan_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf)
{
    tri_chan_t *ch = s->data;
    if (ch->closing || ch->failed || nread == 0)
        return;
    if (nread < 0) {
        tri_debug("transport", "peer connection closed", "remote=%s peer=%s err=%s", ch->remote,
                  ch->peer, uv_strerror((int)nread));
        chan_fail(ch, TRI_EIO);
        return;
    }
    if (ch->ssl == NULL) {
        if (ch->owner.read != NULL)
            ch->owner.read(ch, 0, (const uint8_t *)buf->base, (size_t)nread, ch->owner.data);
        return;
    }
    if (BIO_write(ch->rbio, buf->base, (int)nread) != (int)nread) {
        chan_fail(ch, TRI_ENOMEM);
        return;
    }
    if (!ch->established && !chan_handshake(ch))
        return;
    chan_drain_input(ch);
}

static void chan_read_control(tri_chan_t *ch)
{
    bool want = !ch->paused && !ch->closing && !ch->failed;
    if (want == ch->reading)
        return;
    ch->reading = want;
    if (want)
        uv_read_start((uv_stream_t *)&ch->tcp, chan_alloc, chan_read);
    else
        uv_read_stop((uv_stream_t *)&ch->tcp);
}

void tri_chan_pause(tri_chan_t *ch, bool paused)
{
    if (ch->closing || ch->failed || ch->paused == paused)
        return;
    ch->paused = paused;
    chan_read_control(ch);
    /* Records already in the read BIO are not announced by the socket again. */
    if (!paused && ch->ssl != NULL && ch->established)
        chan_drain_input(ch);
}

static void remote_name(uv_tcp_t *tcp, char *out, size_t cap)
{
    struct sockaddr_storage ss;
    int len = sizeof ss;
    char ip[64] = "?";
    if (uv_tcp_getpeername(tcp, (struct sockaddr *)&ss, &len) != 0 || ss.ss_family != AF_INET)
        return;
    struct sockaddr_in *in = (struct sockaddr_in *)&ss;
    uv_ip4_name(in, ip, sizeof ip);
    snprintf(out, cap, "%s:%d", ip, ntohs(in->sin_port));
}

static int chan_ssl_new(tri_chan_t *ch)
{
    ch->ssl = SSL_new(ch->cs->ssl_ctx);
    ch->rbio = BIO_new(BIO_s_mem());
    ch->wbio = BIO_new(BIO_s_mem());
    if (ch->ssl == NULL || ch->rbio == NULL || ch->wbio == NULL) {
        BIO_free(ch->rbio);
        BIO_free(ch->wbio);
        return TRI_ENOMEM;
    }
    SSL_set_bio(ch->ssl, ch->rbio, ch->wbio);
    if (ch->server)
        SSL_set_accept_state(ch->ssl);
    else
        SSL_set_connect_state(ch->ssl);
    return 0;
}

int tri_chan_start(tri_chan_t *ch, const tri_chan_owner_t *owner)
{
    ch->owner = *owner;
    ch->started = true;
    uv_tcp_nodelay(&ch->tcp, 1);
    remote_name(&ch->tcp, ch->remote, sizeof ch->remote);
    if (ch->cs->ssl_ctx != NULL && chan_ssl_new(ch) != 0) {
        chan_fail(ch, TRI_ENOMEM);
        return TRI_ENOMEM;
    }
    chan_read_control(ch);
    if (ch->ssl == NULL) {
        ch->established = true;
        if (ch->owner.ready != NULL)
            ch->owner.ready(ch, 0, ch->owner.data);
        return 0;
    }
    if (!ch->server)
        chan_handshake(ch); /* the ClientHello */
    return ch->failed ? TRI_EIO : 0;
}
