/* Private to raft/: the node structure shared by node.c (lifecycle, role watch,
 * waiters), transport.c (our raft_uv_transport and the peer handshake), fsm.c (the
 * state machine over the store), identity.c (identity file, bootstrap probe) and
 * forward.c (the follower-to-leader channel for writes and read barriers).
 *
 * Everything here runs on the loop thread, except fsm.c's snapshot_async which
 * runs on the libuv thread pool and touches only the snapshot reference.
 */
#ifndef TRIARCH_RAFT_INTERNAL_H
#define TRIARCH_RAFT_INTERNAL_H

#include <raft.h>
#include <raft/uv.h>
#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

#include "triarch/errors.h"
#include "triarch/raft.h"

/* ---------- circular intrusive lists (sentinel head, any struct with next/prev) ---------- */

#define TRI_LIST_INIT(h) ((h)->next = (h)->prev = (h))
#define TRI_LIST_EMPTY(h) ((h)->next == (h))
#define TRI_LIST_PUSH(h, e)                                                                     \
    do {                                                                                        \
        (e)->prev = (h)->prev;                                                                  \
        (e)->next = (h);                                                                        \
        (h)->prev->next = (e);                                                                  \
        (h)->prev = (e);                                                                        \
    } while (0)
#define TRI_LIST_REMOVE(e)                                                                      \
    do {                                                                                        \
        (e)->prev->next = (e)->next;                                                            \
        (e)->next->prev = (e)->prev;                                                            \
        (e)->next = (e)->prev = (e);                                                            \
    } while (0)
/* Moves every element of src to the tail of dst; src becomes empty. */
#define TRI_LIST_SPLICE(dst, src)                                                               \
    do {                                                                                        \
        if (!TRI_LIST_EMPTY(src)) {                                                             \
            (src)->next->prev = (dst)->prev;                                                    \
            (dst)->prev->next = (src)->next;                                                    \
            (src)->prev->next = (dst);                                                          \
            (dst)->prev = (src)->prev;                                                          \
            TRI_LIST_INIT(src);                                                                 \
        }                                                                                       \
    } while (0)

/* ---------- peer channel: TLS over libuv TCP through memory BIOs (chan.c) ---------- */

/* Every replica-to-replica connection is a tri_chan_t: a TCP handle of its own and,
 * unless the node runs with peer-insecure-plaintext, an OpenSSL session driven
 * through memory BIOs on the loop thread. The channel verifies the peer's
 * certificate (cluster CA only, and a replica certificate naming a member) before
 * its owner sees one byte; see docs/adr/0005-peer-tls.md. */
typedef struct tri_chan tri_chan_t;

/* Owner callbacks. `ready` fires once: status 0 when the channel is established and
 * the peer verified (set a reader then), otherwise the channel is failing and only
 * `closed` follows. `read` gets plaintext (status 0) or, once, a negative status
 * when the peer went away or the stream broke. `drain` (optional) fires when queued
 * output falls below the low-water mark after having been above the high one.
 * `closed` fires after the handles closed; the channel is freed right after it. */
typedef struct tri_chan_owner {
    void (*ready)(tri_chan_t *ch, int status, void *data);
    void (*read)(tri_chan_t *ch, int status, const uint8_t *p, size_t len, void *data);
    void (*drain)(tri_chan_t *ch, void *data);
    void (*closed)(tri_chan_t *ch, void *data);
    void *data;
} tri_chan_owner_t;

/* Read buffers shared by every channel of a node (one loop thread, and libuv runs
 * each stream's alloc -> read -> callback to completion before the next). */
#define TRI_CHAN_BUF 65536
/* Output queued on a socket beyond this pauses whoever feeds it (RAFT.md: libraft
 * has no backpressure), until it drains below the low mark. */
#define TRI_CHAN_HIGH_WATER (4u << 20)
#define TRI_CHAN_LOW_WATER (1u << 20)

typedef struct tri_chans {
    tri_node_t *n;
    void *ssl_ctx;     /* SSL_CTX *, NULL with peer-insecure-plaintext */
    char *cert_file, *key_file, *ca_file; /* what ssl_ctx was loaded from (reloads) */
    tri_chan_t *live;  /* every channel not yet freed */
    size_t n_live;
    size_t n_relays;   /* relays (relay.c) not yet freed */
    void (*freed)(struct tri_chans *cs); /* a channel or a relay was freed */
    uint64_t refusal_log_ms; /* start of the current log window */
    unsigned refusal_lines, refusals_suppressed;
    uint64_t refusals;
    uint8_t rx[TRI_CHAN_BUF]; /* ciphertext in */
    uint8_t pt[TRI_CHAN_BUF]; /* plaintext out of SSL_read */
    uint8_t relay[TRI_CHAN_BUF]; /* raft's plaintext read from its pipe (relay.c) */
} tri_chans_t;

/* Loads the node's certificate, key and CA into an SSL_CTX (or none when
 * insecure_plaintext). 0, or TRI_EINVAL with *errmsg naming the setting. */
int tri_chans_init(tri_chans_t *cs, tri_node_t *n, const tri_node_config_t *cfg,
                   const char **errmsg);
void tri_chans_free(tri_chans_t *cs);
/* Loads the peer certificate, key and CA again for channels opened from now on. */
int tri_chans_reload(tri_chans_t *cs, const char **errmsg);
/* Fails every live channel (owners hear `read`/`ready` with TRI_ECANCELED). */
void tri_chans_close_all(tri_chans_t *cs);

/* A channel with an initialised, unconnected TCP handle: uv_accept into it or
 * uv_tcp_connect it, then tri_chan_start. Counted live until `closed` returned. */
tri_chan_t *tri_chan_new(tri_chans_t *cs, bool server);
uv_tcp_t *tri_chan_tcp(tri_chan_t *ch);
/* Starts TLS (the client sends its hello) and reading. `ready` may fire before this
 * returns (plaintext mode). Non-zero: the channel is failing (`closed` will fire). */
int tri_chan_start(tri_chan_t *ch, const tri_chan_owner_t *owner);
void tri_chan_set_owner(tri_chan_t *ch, const tri_chan_owner_t *owner);
/* Encrypts p as one SSL_write and hands the records to the socket (uv_try_write
 * first: no allocation unless the socket is full). 0 or TRI_EIO. */
int tri_chan_write(tri_chan_t *ch, const void *p, size_t len);
size_t tri_chan_queued(const tri_chan_t *ch); /* bytes accepted, not yet on the socket */
void tri_chan_pause(tri_chan_t *ch, bool paused); /* stop/resume delivering reads */
void tri_chan_close(tri_chan_t *ch); /* idempotent; only `closed` fires after it */
void tri_chan_abandon(tri_chan_t *ch); /* forgets the owner (no callback at all), closes */
const char *tri_chan_peer(const tri_chan_t *ch);   /* member name from the cert, "" plain */
/* The certificate names a member that was removed: the channel exists only to tell
 * it so (TRI_HS_REMOVED), never to carry raft or forwarded traffic. */
bool tri_chan_peer_removed(const tri_chan_t *ch);
const char *tri_chan_remote(const tri_chan_t *ch); /* "ip:port" */
const tri_member_t *tri_chan_member(tri_node_t *n, const char *name);
/* Logs a refused peer (at most TRI_REFUSAL_LOG_BURST per TRI_REFUSAL_LOG_MS; the
 * rest are counted in the next line) and counts it. */
void tri_chans_log_refusal(tri_chans_t *cs, const char *remote, const char *dir,
                           const char *reason);

/* ---------- raft's streams: a socketpair relay onto a channel (relay.c) ---------- */

/* libraft needs a uv_stream_t it owns (it uv_closes and raft_frees it). It gets one
 * end of a socketpair as a raft_malloc'd uv_pipe_t; the relay moves bytes between
 * the other end and the channel. On success *out belongs to raft and the channel to
 * the relay; on failure the channel is closed and *out is NULL. */
int tri_relay_new(tri_chans_t *cs, tri_chan_t *ch, uv_stream_t **out);
/* The same in two steps, for raft's outbound streams (transport.c): open gives raft
 * its end at once, before any connection exists; nothing raft writes is read until
 * tri_relay_attach hands the relay an established channel, and tri_relay_fail
 * (instead of attach) closes the relay with whatever raft wrote still unread, so
 * that none of it ever reaches a peer. NULL when out of resources. */
typedef struct tri_relay tri_relay_t;
tri_relay_t *tri_relay_open(tri_chans_t *cs, uv_stream_t **out);
void tri_relay_attach(tri_relay_t *r, tri_chan_t *ch);
void tri_relay_fail(tri_relay_t *r, const char *why);

/* ---------- peer handshake (transport.c) ---------- */

enum tri_hs_kind { TRI_HS_RAFT = 1, TRI_HS_FORWARD = 2, TRI_HS_PROBE = 3 };
enum tri_hs_status {
    TRI_HS_OK = 0,
    TRI_HS_WRONG_CLUSTER = 1,
    TRI_HS_UNKNOWN_KIND = 2,
    TRI_HS_NOT_READY = 3, /* raft not started yet on the receiver: retry later */
    TRI_HS_BAD_VERSION = 4,
    TRI_HS_REMOVED = 5, /* the sender was removed from the cluster (members.c) */
};

#define TRI_CLUSTER_ID_MAX 255
#define TRI_ADDR_MAX 63
#define TRI_NAME_MAX 63
/* Refusal log lines repeat with connect retries: at most a burst of lines per
 * window, the rest counted. */
#define TRI_REFUSAL_LOG_MS 10000
/* Wait before dialling again a peer whose last raft dial failed (transport.c), and
 * libraft's own reconnect delay. libraft's default 1 s would dominate failover;
 * peers are cheap to retry (a refused loopback/LAN connect costs microseconds). */
#define TRI_CONNECT_RETRY_MS 200
#define TRI_REFUSAL_LOG_BURST 10

/* What the receiver of a handshake says about itself. */
typedef struct tri_hs_reply {
    uint8_t status;   /* enum tri_hs_status */
    bool has_cluster; /* the receiver holds an identity (belongs to a cluster) */
    bool seen_you;    /* the receiver has accepted raft traffic from the sender */
    uint64_t id;
    char cluster_id[TRI_CLUSTER_ID_MAX + 1];
    char name[TRI_NAME_MAX + 1];
} tri_hs_reply_t;

typedef struct tri_tx tri_tx_t;
typedef struct tri_dial tri_dial_t;
/* Outcome of an outbound connect + handshake. status 0: `tcp` is a raft_malloc'd,
 * established channel to a verified member that now belongs to the callee
 * (tri_chan_set_owner, tri_chan_close). Otherwise ch is NULL; rep is filled when the peer answered (status TRI_EINVAL for
 * a refusal) and NULL when it did not. TRI_ECANCELED when cancelled. */
typedef void (*tri_dial_cb)(tri_dial_t *d, int status, const tri_hs_reply_t *rep, tri_chan_t *ch,
                            void *data);

int tri_tx_new(tri_node_t *n, tri_tx_t **out);
void tri_tx_free(tri_tx_t *tx);
int tri_tx_parse_addr(const char *addr, struct sockaddr_in *out); /* "a.b.c.d:port" */
int tri_tx_bind(tri_tx_t *tx, const char *addr); /* starts listening; TRI_EIO on failure */
/* NULL on immediate failure (no callback then). expect_id: the member the caller
 * means to reach (its certificate and handshake must name it), 0 for any member. */
tri_dial_t *tri_tx_dial(tri_tx_t *tx, int kind, const char *addr, uint64_t expect_id,
                        tri_dial_cb cb, void *data);
void tri_tx_dial_cancel(tri_dial_t *d); /* cb fires with TRI_ECANCELED, synchronously */
int tri_tx_init_tls(tri_tx_t *tx, const tri_node_config_t *cfg, const char **errmsg);
uint64_t tri_tx_refusals(const tri_tx_t *tx);

/* ---------- forwarding (forward.c) ---------- */

typedef struct tri_fwd_conn tri_fwd_conn_t; /* follower side, to the leader */
typedef struct tri_fwd_srv tri_fwd_srv_t;   /* leader side, one per follower */
typedef struct tri_sbar tri_sbar_t;         /* a follower's BARRIER waiting on the leader */

struct tri_sbar {
    tri_fwd_srv_t *srv; /* NULL once the connection went away */
    uint64_t req_id;
    struct tri_sbar *next, *prev;
};

/* One txn of a batch: a local proposal or a forwarded one. */
typedef struct tri_batch_item {
    tri_propose_t *prop; /* local proposal, or NULL */
    bool local_only;     /* from tri_node_propose_local: never sent to another leader */
    uint64_t srv_id;     /* forwarded: id of the connection to answer on */
    uint64_t req_id;
} tri_batch_item_t;

/* A batch of txns, one raft entry: built by the leader during a loop iteration,
 * handed to raft_apply by the pump, freed by its callback. */
typedef struct tri_apply {
    struct raft_apply req;
    tri_node_t *node;
    tri_batch_item_t *items;
    size_t n, cap;
} tri_apply_t;

/* What the FSM hands to the apply callback: one result per txn of the entry. */
typedef struct tri_fsm_results {
    tri_txn_result_t *res;
    size_t n, cap;
} tri_fsm_results_t;

void tri_fwd_accept(tri_node_t *n, tri_chan_t *ch, uint64_t peer_id);
void tri_fwd_maintain(tri_node_t *n); /* keep one connection to the current leader */
tri_fwd_conn_t *tri_fwd_ready(tri_node_t *n); /* connected to the current leader, or NULL */
int tri_fwd_send_propose(tri_fwd_conn_t *c, tri_propose_t *p);
int tri_fwd_send_barrier(tri_fwd_conn_t *c, tri_waiter_t *w);
void tri_fwd_flush(tri_node_t *n); /* writes the frames queued on every connection */
void tri_fwd_close_all(tri_node_t *n);
void tri_fwd_check_deadlines(tri_node_t *n, uint64_t now);
void tri_fwd_reply_result(tri_fwd_srv_t *srv, uint64_t req_id, int status,
                          const tri_txn_result_t *res);
void tri_fwd_reply_index(tri_fwd_srv_t *srv, uint64_t req_id, int status, uint64_t index);
tri_fwd_srv_t *tri_fwd_srv_find(tri_node_t *n, uint64_t srv_id); /* NULL once gone */

/* ---------- identity and bootstrap (identity.c) ---------- */

typedef struct tri_identity {
    char cluster_id[TRI_CLUSTER_ID_MAX + 1];
    char name[TRI_NAME_MAX + 1];
    uint64_t id;
} tri_identity_t;

/* 1 when read, 0 when absent, negative on a malformed file. */
int tri_identity_read(const char *dir, tri_identity_t *out);
/* Small files of the data dir: written atomically (tmp, fsync, rename, fsync dir);
 * read whole into buf (NUL terminated): 1 read, 0 absent, TRI_EIO. */
int tri_file_write_atomic(const char *dir, const char *name, const char *data, size_t len);
int tri_file_read_small(const char *dir, const char *name, char *buf, size_t cap, size_t *len);
int tri_identity_write(const char *dir, const tri_identity_t *id);
int tri_identity_load_seen(tri_node_t *n);
bool tri_identity_has_seen(const tri_node_t *n, uint64_t id);
void tri_identity_note_seen(tri_node_t *n, uint64_t id);
int tri_identity_probe_start(tri_node_t *n);
void tri_identity_probe_tick(tri_node_t *n, uint64_t now);
void tri_identity_probe_cancel(tri_node_t *n);

/* ---------- node internals used across files (node.c) ---------- */

enum tri_waiter_kind { TRI_WAIT_BARRIER = 1, TRI_WAIT_REV = 2 };

/* One member's bootstrap probe. */
typedef struct tri_reg_member tri_reg_member_t;

typedef struct tri_probe {
    tri_node_t *node;
    const tri_member_t *member;
    tri_dial_t *dial;
    bool answered;
} tri_probe_t;

struct tri_node {
    uv_loop_t *loop;
    tri_store_t *store;

    /* configuration (copied) */
    char name[TRI_NAME_MAX + 1];
    char cluster_id[TRI_CLUSTER_ID_MAX + 1];
    char *data_dir;
    char peer_addr[TRI_ADDR_MAX + 1];
    tri_member_t *members;
    size_t n_members;
    enum tri_cluster_state state;
    unsigned election_timeout_ms, heartbeat_ms, snapshot_threshold, snapshot_trailing;
    unsigned bootstrap_wait_ms, forward_wait_ms, revision_wait_ms;
    uint64_t id;

    /* identity */
    bool has_identity;  /* an identity file is on disk */
    bool need_identity; /* write the identity file at bootstrap */
    bool need_bootstrap;
    bool probing;
    uint64_t *seen;
    size_t n_seen;
    tri_probe_t *probes;
    uint64_t probe_deadline_ms, probe_next_ms;
    char errmsg[1024];

    /* libraft */
    struct raft raft;
    struct raft_io io;
    struct raft_fsm fsm;
    struct raft_uv_transport transport;
    tri_tx_t *tx;
    raft_uv_accept_cb accept_cb; /* set by raft at raft_start */
    bool raft_started;

    /* FSM adapter */
    tri_fsm_results_t apply_results; /* of the entry being applied, read by the apply cb */
    uint64_t fsm_entries, fsm_txns;  /* applied since the snapshot threshold was last set */
    unsigned raft_snap_threshold, raft_snap_trailing; /* in entries, as last given to raft */

    /* the batch being built (leader): items and their encoded txns */
    tri_apply_t *batch;
    tri_buf_t batch_body;
    /* A forwarded txn committed and no message has carried the new commit index to
     * the followers yet: they apply (and answer) only once one does. */
    bool commit_nudge;
    tri_snap_ref_t *snap_ref;   /* the snapshot being taken (libraft takes one at a time) */
    uint64_t snapshots_taken;

    /* lifecycle */
    uv_prepare_t prepare;
    uv_check_t check;
    uv_timer_t tick;
    unsigned tick_count;
    bool started, closing;
    int closes_pending;
    bool raft_closed;
    tri_node_started_cb started_cb;
    void *started_data;
    bool started_fire;
    int started_status;
    tri_node_close_cb close_cb;
    void *close_data;

    /* role watch and leadership */
    int last_state;
    uint64_t last_leader_id;
    tri_leader_cb leader_cb;
    void *leader_data;
    bool leader_pending;  /* leader, waiting for the first barrier of the term */
    bool leader_ready;    /* leader and the barrier committed */
    bool leader_reported; /* cb(true) delivered */
    uint64_t leader_term;
    bool leader_join_next, leader_join_cur;

    /* shared barrier (leader) */
    struct raft_barrier barrier_req;
    bool barrier_inflight;
    tri_waiter_t w_bnext, w_bcur; /* local waiters for the next / current barrier */
    tri_sbar_t sb_next, sb_cur;   /* forwarded barrier requests */

    /* proposals: waiting for a leader, waiting for local revision, completed */
    tri_propose_t p_unsent, p_revwait, p_done;
    /* waiters: waiting for a leader, waiting for an index, waiting for a revision */
    tri_waiter_t w_unsent, w_index, w_rev, w_done;
    uint64_t next_req_id;

    /* forwarding */
    tri_fwd_conn_t *fwd_cur;
    tri_fwd_conn_t *fwd_conns; /* all client connections (current and draining) */
    uint64_t fwd_retry_at;
    tri_fwd_srv_t *fwd_srvs;
    uint64_t next_srv_id;
    uint64_t forwards_sent, forwards_served;

    /* transfer */
    struct raft_transfer transfer_req;
    bool transfer_inflight;

    /* membership (members.c) */
    uint64_t join_id;          /* joining with an empty data dir (config) */
    bool joining;              /* probing peers before the first start as a joiner */
    bool removed_notice;       /* a peer answered TRI_HS_REMOVED: we were removed */
    tri_removed_cb removed_cb; /* fired once when removed */
    void *removed_data;
    tri_reg_member_t *reg;     /* registry entries read so far (grows only) */
    bool member_busy;          /* a change of ours is in flight */
    struct member_op *member_delayed; /* a removal in its notice period */
    uint64_t member_due_ms;
    uint64_t promote_next_ms;  /* earliest next look for a standby to promote */
};

/* Completions are queued and their callbacks fired from the node's pump, never
 * from inside libraft or a connection's read callback. While in p_done a proposal
 * keeps its final status in wait_rev; a waiter in w_done keeps it in rev. */
void tri_node_prop_done(tri_node_t *n, tri_propose_t *p, int status);
void tri_node_waiter_done(tri_node_t *n, tri_waiter_t *w, int status);
void tri_node_apply_cb(struct raft_apply *req, int status, void *result);
/* Hands a proposal to raft (leader) or to the forward channel; 1 if it must wait. */
int tri_node_dispatch_propose(tri_node_t *n, tri_propose_t *p);
/* Adds a txn to the batch (p local, or srv_id/req_id forwarded); raft sees it when
 * the pump flushes the batch, before the loop next waits. 0 or TRI_ENOMEM. */
int tri_node_batch_add(tri_node_t *n, tri_propose_t *p, bool local_only, uint64_t srv_id,
                       uint64_t req_id, const void *txn, size_t len);
void tri_node_batch_flush(tri_node_t *n);
void tri_node_fire_prop(tri_propose_t *p, int status);
void tri_node_fire_waiter(tri_waiter_t *w, int status);
bool tri_node_is_leader(tri_node_t *n);
void tri_node_leader(tri_node_t *n, uint64_t *id, const char **addr);
void tri_node_handle_closed(tri_node_t *n); /* one handle of ours finished closing */
void tri_node_start_raft(tri_node_t *n);    /* after bootstrap (identity.c) */
void tri_node_started(tri_node_t *n, int status);

/* Membership (members.c): the registry read from the store, names, the leader's
 * promotion of standbys. */
const char *tri_node_member_name(tri_node_t *n, uint64_t id);
const tri_member_t *tri_members_by_name(tri_node_t *n, const char *name);
/* name was a member and was removed (and no live member has the name now). */
bool tri_members_name_removed(tri_node_t *n, const char *name);
void tri_members_refresh(tri_node_t *n); /* reads the registry from the store (fsm.c) */
bool tri_members_key(const char *key, size_t len); /* a registry key */
void tri_members_tick(tri_node_t *n, uint64_t now);
void tri_members_free(tri_node_t *n);
/* The registry as last seen, from DATA-DIR/members: a restarted replica knows the
 * members added at runtime before its store has caught up (their certificates). */
int tri_members_load(tri_node_t *n);
void tri_members_cancel(tri_node_t *n); /* closing: ends a pending removal */

/* io_destroy off the loop thread (aio_destroy.c): process-wide, started once. */
void tri_aio_destroy_start(void);
uint64_t tri_aio_destroy_deferred(void); /* io_destroy calls handed to the helper */
int tri_aio_destroy_drain(void);         /* waits until the helper is idle (tests) */

/* FSM (fsm.c) */
void tri_fsm_init(tri_node_t *n);
/* A log entry (raft_malloc'd, padded to 8 bytes) carrying an encoded txn. */
int tri_fsm_entry_encode(const void *txn, size_t len, struct raft_buffer *out);
/* Batches: txns are appended to a body, which becomes one entry carrying them all
 * (a single-txn entry, as above, when the body holds one). */
int tri_fsm_batch_append(tri_buf_t *body, const void *txn, size_t len);
int tri_fsm_batch_encode(const tri_buf_t *body, size_t count, struct raft_buffer *out);
void tri_fsm_free(tri_node_t *n);

#endif
