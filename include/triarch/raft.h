/* The replication layer: one replica's Raft node over libraft, with the store as
 * its state machine.
 *
 * A tri_node_t owns the libraft instance, its libuv disk back end, our own peer
 * transport (mutual TLS over libuv TCP; its handshake carries the cluster id so
 * that peers of another cluster are refused), the FSM adapter that applies committed txns to the store,
 * and the replica-to-replica channel over which followers forward writes and
 * read-index requests to the leader. Everything runs on the loop thread.
 *
 * Write path: tri_node_propose() from any replica. On the leader it is a
 * raft_apply; on a follower the encoded txn travels to the leader over the forward
 * channel and the answer comes back. Either way the callback fires once, after the
 * txn is committed (fsync'd on a majority) and applied to the local store of the
 * replica that answers, with the store's txn result.
 *   status 0            committed; res says applied or which precondition failed
 *   TRI_EUNAVAIL        never proposed: no leader reachable within the wait (503)
 *   TRI_EUNKNOWN        proposed, outcome unknown (leadership lost, leader died) (504)
 *   TRI_ECANCELED       the node is closing
 * A forwarded write that committed on the leader is also applied locally before
 * the follower's callback fires (it waits until its store reaches the revision),
 * so read-your-writes holds on the replica that took the request.
 *
 * Read path: tri_node_read_barrier() learns the leader's commit index (a shared
 * raft_barrier on the leader; forwarded from followers) and fires once the local
 * replica has applied that far. tri_node_wait_revision() waits, bounded, for the
 * local store to reach a given revision.
 */
#ifndef TRIARCH_RAFT_H
#define TRIARCH_RAFT_H

#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

#include "triarch/store.h"

typedef struct tri_node tri_node_t;

typedef struct tri_member {
    uint64_t id;
    char name[64];
    char addr[64]; /* IPv4 literal "a.b.c.d:port" */
} tri_member_t;

/* Initial member ids are derived, so every replica computes the same from
 * (cluster id, name): FNV-1a 64 of "cluster_id/name", never 0. */
uint64_t tri_member_id_derive(const char *cluster_id, const char *name);

enum tri_cluster_state { TRI_CLUSTER_NEW = 1, TRI_CLUSTER_EXISTING = 2 };

typedef struct tri_node_config {
    const char *name;       /* this replica's member name */
    const char *cluster_id; /* from `triarch init`; carried in every peer handshake */
    const char *data_dir;   /* raft log, snapshots, identity file; created if missing */
    const char *peer_addr;  /* "ip:port" advertised and bound; port 0 not allowed */
    const tri_member_t *members; /* the initial cluster (ids filled by the caller) */
    size_t n_members;
    enum tri_cluster_state state;
    unsigned election_timeout_ms;  /* 0: 300 (RAFT.md: pre-vote + 300 ms) */
    unsigned heartbeat_ms;         /* 0: 50 */
    unsigned snapshot_threshold;   /* 0: 8192 entries (RAFT.md) */
    unsigned snapshot_trailing;    /* 0: 4096 entries */
    unsigned bootstrap_wait_ms;    /* 0: 60000: how long `new` waits for every peer */
    unsigned forward_wait_ms;      /* 0: 2000: how long a write waits for a leader */
    unsigned revision_wait_ms;     /* 0: 3000: bound of tri_node_wait_revision */
    /* Peer TLS (docs/adr/0005-peer-tls.md): every replica-to-replica connection is
     * mutual TLS with this replica's certificate (CN = its name, O=triarch:replicas)
     * and key, trusting only the cluster CA. All three are required unless
     * peer_insecure_plaintext, which turns encryption and authentication off. */
    const char *peer_cert_file;
    const char *peer_key_file;
    const char *peer_trusted_ca_file;
    bool peer_insecure_plaintext;
    /* A member added at runtime (`triarch member add`): its id from the join
     * bundle. With an empty data dir and state EXISTING, the node writes its
     * identity and starts without bootstrapping; the leader sends it the log. */
    uint64_t join_id;
} tri_node_config_t;

/* Opens (or creates) the replica. Identity rules (DESIGN.md, RAFT.md):
 *  - data dir holds an identity file: its cluster id must match cfg->cluster_id and
 *    its name cfg->name, else TRI_EINVAL; the node restarts from snapshot + log.
 *  - empty data dir, state NEW: the node asks every listed peer whether it already
 *    belongs to a cluster; only when all answered "no" within bootstrap_wait_ms does
 *    it bootstrap. Any peer holding a cluster: TRI_EEXIST (refuse to start).
 *  - empty data dir, state EXISTING: with join_id, the node joins (identity written,
 *    no bootstrap); without, TRI_EINVAL.
 * Missing or unusable peer TLS files (or a peer certificate that does not name this
 * member): TRI_EINVAL.
 * *errmsg gets a static human-readable reason on failure.
 * tri_node_start is asynchronous when bootstrapping: started_cb fires with 0 once
 * raft runs, or with the refusal code. */
typedef void (*tri_node_started_cb)(tri_node_t *n, int status, const char *errmsg, void *data);
int tri_node_new(uv_loop_t *loop, tri_store_t *store, const tri_node_config_t *cfg,
                 tri_node_t **out, const char **errmsg);
int tri_node_start(tri_node_t *n, tri_node_started_cb cb, void *data);

/* Stops raft and every connection; close_cb fires when all handles are closed.
 * Pending requests complete with TRI_ECANCELED first. Then free with tri_node_free. */
typedef void (*tri_node_close_cb)(tri_node_t *n, void *data);
void tri_node_close(tri_node_t *n, tri_node_close_cb cb, void *data);
void tri_node_free(tri_node_t *n);

/* ---------- writes ---------- */

typedef struct tri_propose tri_propose_t;
typedef void (*tri_propose_cb)(tri_propose_t *req, int status, const tri_txn_result_t *res);
struct tri_propose {
    void *data;          /* caller's */
    /* private below */
    tri_node_t *node;
    tri_propose_cb cb;
    uint64_t id;
    int64_t wait_rev;
    uint64_t deadline_ms;
    tri_txn_result_t res;
    tri_buf_t enc;
    struct tri_propose *next, *prev;
};

/* From any replica; forwarded to the leader when this one follows. The txn is
 * encoded before return (the caller's txn memory may go at once). `req` must stay
 * alive until cb fires. Returns 0 (cb will fire) or a negative code (cb will not). */
int tri_node_propose(tri_node_t *n, tri_propose_t *req, const tri_txn_t *txn, tri_propose_cb cb);

/* Leader-only (leader loops): a local raft_apply, never forwarded, so a deposed
 * leader's loops cannot write through the new leader. TRI_ENOTLEADER at once when
 * this replica is not the leader. */
int tri_node_propose_local(tri_node_t *n, tri_propose_t *req, const tri_txn_t *txn,
                           tri_propose_cb cb);

/* ---------- reads ---------- */

typedef struct tri_waiter tri_waiter_t;
typedef void (*tri_waiter_cb)(tri_waiter_t *w, int status);
struct tri_waiter {
    void *data;
    /* private below */
    tri_node_t *node;
    tri_waiter_cb cb;
    uint64_t id;
    uint64_t index;      /* raft index to reach (barrier) */
    int64_t rev;         /* store revision to reach (wait_revision) */
    uint64_t deadline_ms;
    int kind;
    struct tri_waiter *next, *prev;
};

/* Linearizable read point: cb(w, 0) once the local store has applied everything the
 * leader had committed when the call was made. TRI_EUNAVAIL without a leader,
 * TRI_ETIMEDOUT if not reached in revision_wait_ms. */
int tri_node_read_barrier(tri_node_t *n, tri_waiter_t *w, tri_waiter_cb cb);

/* cb(w, 0) once tri_store_revision() >= rev (at once if already), TRI_EFUTURE after
 * revision_wait_ms (504 "Too large resource version"). */
int tri_node_wait_revision(tri_node_t *n, tri_waiter_t *w, int64_t rev, tri_waiter_cb cb);

/* Cancels a pending waiter: its cb fires with TRI_ECANCELED (synchronously). */
void tri_node_waiter_cancel(tri_waiter_t *w);

/* ---------- state ---------- */

enum tri_role { TRI_ROLE_UNAVAILABLE = 0, TRI_ROLE_FOLLOWER, TRI_ROLE_CANDIDATE, TRI_ROLE_LEADER };

typedef struct tri_node_status {
    enum tri_role role;
    uint64_t id;
    uint64_t term;
    uint64_t commit_index;
    uint64_t applied_index;
    uint64_t last_index;
    uint64_t leader_id;       /* 0 if unknown */
    char leader_addr[64];     /* peer address of the leader, "" if unknown */
    char leader_name[64];
    int64_t store_revision;
    bool caught_up;           /* applied >= commit index learned from the leader */
    uint64_t snapshots_taken;
    uint64_t forwards_sent;
    uint64_t forwards_served;
    uint64_t peer_refusals;   /* peer connections refused (TLS, identity, handshake) */
} tri_node_status_t;

void tri_node_get_status(tri_node_t *n, tri_node_status_t *st);
const char *tri_role_name(enum tri_role role);

/* Leadership callback for leader-only loops: fires with is_leader=true once this
 * replica is leader AND a barrier committed (its store is current), and with
 * is_leader=false the moment it stops being leader. One subscriber per call. */
typedef void (*tri_leader_cb)(tri_node_t *n, bool is_leader, void *data);
void tri_node_on_leadership(tri_node_t *n, tri_leader_cb cb, void *data);

/* Reads the peer certificate, key and trusted CA files again (SIGHUP after `triarch
 * certs renew`): connections opened from now on use them, open ones keep theirs. On
 * failure (*errmsg says why) the old ones stay. */
int tri_node_reload_peer_tls(tri_node_t *n, const char **errmsg);

/* Transfers leadership to another voter (0 = pick one). Used by tests and the CLI.
 * TRI_ENOTLEADER, TRI_EPRECOND (a transfer in flight), TRI_ENOENT (no such
 * member), TRI_EINVAL (not a voter, or this replica itself), TRI_EUNAVAIL. */
int tri_node_transfer(tri_node_t *n, uint64_t to_id);

/* ---------- membership (raft/members.c, docs/membership.md) ---------- */

enum tri_member_role { TRI_MEMBER_VOTER, TRI_MEMBER_STANDBY, TRI_MEMBER_SPARE };
const char *tri_member_role_name(enum tri_member_role role);

typedef struct tri_member_info {
    uint64_t id;
    char name[64];
    char peer[64];
    char api[64];      /* "" for initial members (not recorded) */
    enum tri_member_role role;
    bool learner;      /* stays a standby until promoted by hand */
} tri_member_info_t;

/* The Raft configuration as this replica knows it, with names; *out is malloc'd. */
int tri_node_members(tri_node_t *n, tri_member_info_t **out, size_t *count);
/* The id of the live member called name, 0 if none. */
uint64_t tri_node_member_id(tri_node_t *n, const char *name);
/* This replica was removed from the cluster (it applied its own removal, or a peer
 * said so). tri_node_on_removed: cb fires once, from the node's tick, when it is. */
bool tri_node_self_removed(tri_node_t *n);
typedef void (*tri_removed_cb)(tri_node_t *n, void *data);
void tri_node_on_removed(tri_node_t *n, tri_removed_cb cb, void *data);

/* status 0, or: TRI_ENOTLEADER (leadership moved; retry on the leader),
 * TRI_EPRECOND (another change in flight), TRI_ETIMEDOUT (a promotion whose member
 * did not catch up), TRI_ECANCELED, TRI_EIO. id: the member's (a new one for
 * add); msg: static text or NULL. */
typedef void (*tri_member_cb)(void *data, int status, uint64_t id, const char *msg);

/* Leader only; one change at a time. Each returns 0 (cb will fire once) or a
 * negative code at once (cb will not), with *why naming the problem for the
 * client where there is one: TRI_ENOTLEADER, TRI_EPRECOND (a change in flight),
 * TRI_EINVAL (bad name or address), TRI_EEXIST (name or peer address taken; a
 * promotion of a voter), TRI_ENOENT (no such member), TRI_EBUSY (removing the
 * leader itself or the last voter).
 * add: a fresh id, never used before, in the registry; added as a standby, and
 * promoted to voter once it runs and has caught up, unless `learner`. */
int tri_node_member_add(tri_node_t *n, const char *name, const char *peer, const char *api,
                        bool learner, tri_member_cb cb, void *data, const char **why);
int tri_node_member_remove(tri_node_t *n, const char *name, tri_member_cb cb, void *data,
                           const char **why);
int tri_node_member_promote(tri_node_t *n, const char *name, tri_member_cb cb, void *data,
                            const char **why);

#endif
