/* A replica's Raft node: lifecycle, the write and read entry points, the role watch
 * that drives leader-only work, and the waiters that turn "applied far enough"
 * into callbacks.
 *
 * libraft 0.15 has no state-change callback and nothing in it is re-entrant, so the
 * node runs a small pump from a uv_prepare and a uv_check handle (before and after
 * every poll of the loop): it watches raft_state() for role changes, starts the
 * shared barrier, keeps the forward connection pointed at the leader, dispatches
 * queued requests, and fires every user callback. Callbacks are never called from
 * inside libraft or from a connection's read callback: completions are queued
 * (p_done, w_done, p_revwait, w_index, w_rev) and fired by the pump, so a callback
 * may call tri_node_propose or tri_node_close safely.
 * One uv_timer ticks every TRI_TICK_MS for deadlines, bootstrap probe retries and
 * store compaction.
 *
 * Writes: on the leader, a proposal (local or forwarded) joins the batch being
 * built; the pump hands the batch to raft_apply as one entry (fsm.c) before the
 * loop waits again, so txns arriving in the same loop iteration share libraft's
 * per-entry costs, and a lone txn waits for nothing. When a batch holding
 * forwarded txns commits and no newer entry will carry the new commit index to
 * the followers (they apply, and so answer their clients, only once one does),
 * the pump starts a shared barrier for that purpose; without it a lone write
 * through a follower waited for the next heartbeat.
 *
 * Reads: a read barrier on the leader joins the next shared raft_barrier (one in
 * flight at a time; requests arriving meanwhile wait for the next one, so each
 * barrier starts after the request did). On a follower it is forwarded (forward.c)
 * and the leader's barrier index comes back. Either way the waiter then waits
 * until raft_last_applied() reaches that index.
 *
 * Leadership: on a new term as leader the node joins a barrier; when it commits
 * (every earlier entry is applied, the store is current) tri_leader_cb(true)
 * fires; false fires on the first pump that sees the role or term change.
 */
#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "internal.h"
#include "triarch/log.h"

/* RAFT.md: pre-vote with 300 ms election / 50 ms heartbeat fails over in ~0.5 s. */
#define TRI_DEF_ELECTION_MS 300
#define TRI_DEF_HEARTBEAT_MS 50
/* RAFT.md: below 8192 every snapshot closes the open segment and stalls the loop. */
#define TRI_DEF_SNAP_THRESHOLD 8192
#define TRI_DEF_SNAP_TRAILING 4096
#define TRI_DEF_BOOTSTRAP_WAIT_MS 60000
#define TRI_DEF_FORWARD_WAIT_MS 2000
#define TRI_DEF_REVISION_WAIT_MS 3000
/* Resolution of every deadline we keep. */
#define TRI_TICK_MS 20
/* Store history compaction about once a second. */
#define TRI_COMPACT_TICKS 50
/* Callbacks may queue more work; bound how often one pump goes around. */
#define TRI_PUMP_ROUNDS 16
/* A batch (one raft entry) closes at this many txns or bytes, whichever first:
 * large enough that libraft's per-entry costs vanish at 256 writes in flight,
 * small enough that one entry stays a modest message and disk write. */
#define TRI_BATCH_MAX_TXNS 512
#define TRI_BATCH_MAX_BYTES (1u << 20)
#define TRI_BATCH_FIRST_CAP 16
/* The batch body buffer is kept between batches up to this size. */
#define TRI_BATCH_KEEP_BYTES (4u << 20)

const char *tri_role_name(enum tri_role role)
{
    switch (role) {
    case TRI_ROLE_FOLLOWER:
        return "follower";
    case TRI_ROLE_CANDIDATE:
        return "candidate";
    case TRI_ROLE_LEADER:
        return "leader";
    default:
        return "unavailable";
    }
}

/* ---------- small accessors ---------- */

bool tri_node_is_leader(tri_node_t *n)
{
    return !n->closing && n->raft_started && raft_state(&n->raft) == RAFT_LEADER &&
           n->raft.transfer == NULL;
}

void tri_node_leader(tri_node_t *n, uint64_t *id, const char **addr)
{
    raft_id lid = 0;
    const char *a = NULL;
    if (n->raft_started && !n->closing)
        raft_leader(&n->raft, &lid, &a);
    *id = a != NULL ? lid : 0;
    *addr = a != NULL ? a : "";
}


/* ---------- completions ---------- */

void tri_node_fire_prop(tri_propose_t *p, int status)
{
    tri_propose_cb cb = p->cb;
    TRI_LIST_REMOVE(p);
    tri_buf_free(&p->enc);
    if (status != 0) {
        memset(&p->res, 0, sizeof p->res);
        p->res.status = status;
        p->res.failed_cmp = -1;
    }
    p->cb = NULL;
    if (cb != NULL)
        cb(p, status, &p->res);
}

void tri_node_fire_waiter(tri_waiter_t *w, int status)
{
    tri_waiter_cb cb = w->cb;
    TRI_LIST_REMOVE(w);
    w->cb = NULL;
    if (cb != NULL)
        cb(w, status);
}

void tri_node_prop_done(tri_node_t *n, tri_propose_t *p, int status)
{
    p->wait_rev = status;
    TRI_LIST_PUSH(&n->p_done, p);
}

void tri_node_waiter_done(tri_node_t *n, tri_waiter_t *w, int status)
{
    w->rev = status;
    TRI_LIST_PUSH(&n->w_done, w);
}

/* ---------- the apply path ---------- */

static void node_batch_free(tri_apply_t *a)
{
    free(a->items);
    free(a);
}

void tri_node_apply_cb(struct raft_apply *req, int status, void *result)
{
    tri_apply_t *a = req->data;
    tri_node_t *n = a->node;
    const tri_fsm_results_t *rs = result;
    if (status == 0)
        for (size_t i = 0; i < a->n && !n->commit_nudge; i++)
            n->commit_nudge = a->items[i].prop == NULL;
    for (size_t i = 0; i < a->n; i++) {
        tri_batch_item_t *it = &a->items[i];
        const tri_txn_result_t *res = status == 0 && rs != NULL && i < rs->n ? &rs->res[i] : NULL;
        /* RAFT_LEADERSHIPLOST: the entry may still commit under the next leader; a
         * result we could not keep (out of memory) is just as unknown. */
        int st = res != NULL ? 0 : n->closing ? TRI_ECANCELED : TRI_EUNKNOWN;
        if (it->prop != NULL) {
            if (res != NULL)
                it->prop->res = *res; /* the results are overwritten by the next apply */
            tri_node_prop_done(n, it->prop, st);
            continue;
        }
        tri_fwd_srv_t *srv = tri_fwd_srv_find(n, it->srv_id);
        if (srv != NULL)
            tri_fwd_reply_result(srv, it->req_id, st == TRI_ECANCELED ? TRI_EUNKNOWN : st, res);
    }
    node_batch_free(a);
}

/* The batch never reached raft: local proposals go back to find the leader (or
 * fail, for leader-only ones), forwarded ones are told to ask again. */
static void node_batch_fail(tri_node_t *n, tri_apply_t *a, bool not_leader)
{
    uint64_t now = tri_now_ms();
    for (size_t i = 0; i < a->n; i++) {
        tri_batch_item_t *it = &a->items[i];
        if (it->prop == NULL) {
            tri_fwd_srv_t *srv = tri_fwd_srv_find(n, it->srv_id);
            if (srv != NULL)
                tri_fwd_reply_result(srv, it->req_id, not_leader ? TRI_ENOTLEADER : TRI_EUNAVAIL,
                                     NULL);
        } else if (n->closing) {
            tri_node_prop_done(n, it->prop, TRI_ECANCELED);
        } else if (not_leader && !it->local_only) {
            it->prop->deadline_ms = now + n->forward_wait_ms;
            TRI_LIST_PUSH(&n->p_unsent, it->prop);
        } else {
            tri_node_prop_done(n, it->prop, TRI_EUNAVAIL);
        }
    }
    node_batch_free(a);
}

int tri_node_batch_add(tri_node_t *n, tri_propose_t *p, bool local_only, uint64_t srv_id,
                       uint64_t req_id, const void *txn, size_t len)
{
    if (n->batch != NULL && n->batch_body.len + len > TRI_BATCH_MAX_BYTES)
        tri_node_batch_flush(n);
    tri_apply_t *a = n->batch;
    if (a == NULL) {
        a = calloc(1, sizeof *a);
        if (a == NULL)
            return TRI_ENOMEM;
        a->node = n;
        a->req.data = a;
        n->batch = a;
    }
    if (a->n == a->cap) {
        size_t cap = a->cap ? a->cap * 2 : TRI_BATCH_FIRST_CAP;
        tri_batch_item_t *items = realloc(a->items, cap * sizeof *items);
        if (items == NULL)
            return TRI_ENOMEM;
        a->items = items;
        a->cap = cap;
    }
    size_t mark = n->batch_body.len;
    if (tri_fsm_batch_append(&n->batch_body, txn, len) != 0) {
        n->batch_body.len = mark;
        return TRI_ENOMEM;
    }
    a->items[a->n++] = (tri_batch_item_t){
        .prop = p, .local_only = local_only, .srv_id = srv_id, .req_id = req_id};
    if (a->n >= TRI_BATCH_MAX_TXNS || n->batch_body.len >= TRI_BATCH_MAX_BYTES)
        tri_node_batch_flush(n);
    return 0;
}

void tri_node_batch_flush(tri_node_t *n)
{
    tri_apply_t *a = n->batch;
    if (a == NULL)
        return;
    n->batch = NULL;
    struct raft_buffer buf = {0};
    int rv = tri_fsm_batch_encode(&n->batch_body, a->n, &buf);
    n->batch_body.len = 0;
    if (n->batch_body.cap > TRI_BATCH_KEEP_BYTES)
        tri_buf_free(&n->batch_body); /* one huge txn must not pin its size */
    if (rv != 0) {
        node_batch_fail(n, a, false);
        return;
    }
    rv = tri_node_is_leader(n) ? raft_apply(&n->raft, &a->req, &buf, 1, tri_node_apply_cb)
                               : RAFT_NOTLEADER;
    if (rv != 0) {
        raft_free(buf.base);
        node_batch_fail(n, a, rv == RAFT_NOTLEADER);
        return;
    }
    n->commit_nudge = false; /* its AppendEntries carry the current commit index */
}

/* At close: nothing of the batch reached raft. */
static void node_batch_cancel(tri_node_t *n)
{
    tri_apply_t *a = n->batch;
    if (a == NULL)
        return;
    n->batch = NULL;
    n->batch_body.len = 0;
    for (size_t i = 0; i < a->n; i++)
        if (a->items[i].prop != NULL)
            tri_node_prop_done(n, a->items[i].prop, TRI_ECANCELED);
    node_batch_free(a);
}

/* 0 dispatched, 1 must wait for a leader, negative: failed. */
int tri_node_dispatch_propose(tri_node_t *n, tri_propose_t *p)
{
    if (tri_node_is_leader(n))
        return tri_node_batch_add(n, p, false, 0, 0, p->enc.data, p->enc.len);
    tri_fwd_conn_t *c = tri_fwd_ready(n);
    if (c != NULL && tri_fwd_send_propose(c, p) == 0)
        return 0;
    return 1;
}

static int node_dispatch_waiter(tri_node_t *n, tri_waiter_t *w)
{
    if (tri_node_is_leader(n)) {
        TRI_LIST_PUSH(&n->w_bnext, w);
        return 0;
    }
    tri_fwd_conn_t *c = tri_fwd_ready(n);
    if (c != NULL && tri_fwd_send_barrier(c, w) == 0)
        return 0;
    return 1;
}

static void node_prop_init(tri_node_t *n, tri_propose_t *req, tri_propose_cb cb)
{
    req->node = n;
    req->cb = cb;
    req->id = ++n->next_req_id;
    req->wait_rev = 0;
    req->deadline_ms = tri_now_ms() + n->forward_wait_ms;
    memset(&req->res, 0, sizeof req->res);
    req->res.failed_cmp = -1;
    memset(&req->enc, 0, sizeof req->enc);
    req->next = req->prev = req;
}

int tri_node_propose(tri_node_t *n, tri_propose_t *req, const tri_txn_t *txn, tri_propose_cb cb)
{
    if (n->closing)
        return TRI_ECANCELED;
    node_prop_init(n, req, cb);
    int rv = tri_txn_encode(txn, &req->enc);
    if (rv != 0) {
        tri_buf_free(&req->enc);
        return rv;
    }
    rv = tri_node_dispatch_propose(n, req);
    if (rv == 1)
        TRI_LIST_PUSH(&n->p_unsent, req);
    else if (rv < 0)
        tri_buf_free(&req->enc);
    return rv < 0 ? rv : 0;
}

int tri_node_propose_local(tri_node_t *n, tri_propose_t *req, const tri_txn_t *txn,
                           tri_propose_cb cb)
{
    if (n->closing)
        return TRI_ECANCELED;
    if (!tri_node_is_leader(n))
        return TRI_ENOTLEADER;
    node_prop_init(n, req, cb);
    int rv = tri_txn_encode(txn, &req->enc);
    if (rv == 0)
        rv = tri_node_batch_add(n, req, true, 0, 0, req->enc.data, req->enc.len);
    if (rv != 0)
        tri_buf_free(&req->enc);
    return rv;
}

/* ---------- reads ---------- */

static void node_waiter_init(tri_node_t *n, tri_waiter_t *w, tri_waiter_cb cb, int kind)
{
    w->node = n;
    w->cb = cb;
    w->id = ++n->next_req_id;
    w->index = 0;
    w->rev = 0;
    w->kind = kind;
    w->next = w->prev = w;
}

int tri_node_read_barrier(tri_node_t *n, tri_waiter_t *w, tri_waiter_cb cb)
{
    if (n->closing)
        return TRI_ECANCELED;
    node_waiter_init(n, w, cb, TRI_WAIT_BARRIER);
    w->deadline_ms = tri_now_ms() + n->forward_wait_ms;
    if (node_dispatch_waiter(n, w) == 1)
        TRI_LIST_PUSH(&n->w_unsent, w);
    return 0;
}

int tri_node_wait_revision(tri_node_t *n, tri_waiter_t *w, int64_t rev, tri_waiter_cb cb)
{
    if (n->closing)
        return TRI_ECANCELED;
    node_waiter_init(n, w, cb, TRI_WAIT_REV);
    w->rev = rev;
    if (tri_store_revision(n->store) >= rev) {
        w->cb = NULL;
        cb(w, 0);
        return 0;
    }
    w->deadline_ms = tri_now_ms() + n->revision_wait_ms;
    TRI_LIST_PUSH(&n->w_rev, w);
    return 0;
}

void tri_node_waiter_cancel(tri_waiter_t *w)
{
    if (w->cb == NULL)
        return;
    tri_node_fire_waiter(w, TRI_ECANCELED);
}

/* ---------- shared barrier ---------- */

/* The barrier did not happen (not leader): local reads go back to find the leader,
 * followers' reads are told to ask the new leader. */
static void node_barrier_fail(tri_node_t *n, tri_waiter_t *ws, tri_sbar_t *bs)
{
    uint64_t now = tri_now_ms();
    while (!TRI_LIST_EMPTY(ws)) {
        tri_waiter_t *w = ws->next;
        TRI_LIST_REMOVE(w);
        if (n->closing) {
            tri_node_waiter_done(n, w, TRI_ECANCELED);
            continue;
        }
        w->deadline_ms = now + n->forward_wait_ms;
        TRI_LIST_PUSH(&n->w_unsent, w);
    }
    while (!TRI_LIST_EMPTY(bs)) {
        tri_sbar_t *b = bs->next;
        TRI_LIST_REMOVE(b);
        if (b->srv != NULL)
            tri_fwd_reply_index(b->srv, b->req_id, TRI_ENOTLEADER, 0);
        free(b);
    }
}

static void node_barrier_cb(struct raft_barrier *req, int status)
{
    tri_node_t *n = req->data;
    n->barrier_inflight = false;
    if (status != 0) {
        node_barrier_fail(n, &n->w_bcur, &n->sb_cur);
        n->leader_join_cur = false;
        return;
    }
    uint64_t index = req->index, now = tri_now_ms();
    while (!TRI_LIST_EMPTY(&n->w_bcur)) {
        tri_waiter_t *w = n->w_bcur.next;
        TRI_LIST_REMOVE(w);
        w->index = index;
        w->deadline_ms = now + n->revision_wait_ms;
        TRI_LIST_PUSH(&n->w_index, w);
    }
    while (!TRI_LIST_EMPTY(&n->sb_cur)) {
        tri_sbar_t *b = n->sb_cur.next;
        TRI_LIST_REMOVE(b);
        if (b->srv != NULL) {
            tri_fwd_reply_index(b->srv, b->req_id, 0, index);
            /* the follower waits to apply `index`, which it learns only from our next
             * message: send one now rather than at the next heartbeat (bench/RESULTS.md:
             * follower reads took 50-100 ms idle) */
            n->commit_nudge = true;
        }
        free(b);
    }
    if (n->leader_join_cur && n->leader_pending && raft_state(&n->raft) == RAFT_LEADER &&
        n->raft.current_term == n->leader_term) {
        n->leader_pending = false;
        n->leader_ready = true;
        tri_info("raft", "leader ready: barrier committed", "term=%llu index=%llu",
                 (unsigned long long)n->leader_term, (unsigned long long)index);
    }
    n->leader_join_cur = false;
}

/* nudge: also start one only to carry the commit index (see the file comment). */
static void node_start_barrier(tri_node_t *n, bool nudge)
{
    if (n->barrier_inflight)
        return;
    if (TRI_LIST_EMPTY(&n->w_bnext) && TRI_LIST_EMPTY(&n->sb_next) && !n->leader_join_next &&
        !(nudge && n->commit_nudge))
        return;
    if (!tri_node_is_leader(n)) {
        node_barrier_fail(n, &n->w_bnext, &n->sb_next);
        n->leader_join_next = n->commit_nudge = false;
        return;
    }
    TRI_LIST_SPLICE(&n->w_bcur, &n->w_bnext);
    TRI_LIST_SPLICE(&n->sb_cur, &n->sb_next);
    n->leader_join_cur = n->leader_join_next;
    n->leader_join_next = false;
    n->barrier_req.data = n;
    if (raft_barrier(&n->raft, &n->barrier_req, node_barrier_cb) != 0) {
        node_barrier_fail(n, &n->w_bcur, &n->sb_cur);
        n->leader_join_cur = false;
        return;
    }
    n->barrier_inflight = true;
    n->commit_nudge = false;
}

/* ---------- the pump ---------- */

static void node_watch_role(tri_node_t *n)
{
    if (!n->raft_started)
        return;
    int state = raft_state(&n->raft);
    uint64_t term = n->raft.current_term;
    uint64_t lid;
    const char *laddr;
    tri_node_leader(n, &lid, &laddr);
    if (state != n->last_state || lid != n->last_leader_id) {
        tri_info("raft", "role changed", "role=%s term=%llu leader=%s",
                 tri_role_name((enum tri_role)state), (unsigned long long)term,
                 lid ? tri_node_member_name(n, lid) : "none");
        n->last_state = state;
        n->last_leader_id = lid;
    }
    if ((n->leader_pending || n->leader_ready) && (state != RAFT_LEADER || term != n->leader_term)) {
        bool was = n->leader_reported;
        n->leader_pending = n->leader_ready = n->leader_reported = false;
        if (was && n->leader_cb != NULL)
            n->leader_cb(n, false, n->leader_data);
    }
    if (state == RAFT_LEADER && !n->leader_pending && !n->leader_ready) {
        n->leader_pending = true;
        n->leader_term = term;
        n->leader_join_next = true;
    }
}

static void node_flush_unsent(tri_node_t *n)
{
    if (!tri_node_is_leader(n) && tri_fwd_ready(n) == NULL)
        return;
    tri_propose_t ps;
    TRI_LIST_INIT(&ps);
    TRI_LIST_SPLICE(&ps, &n->p_unsent);
    while (!TRI_LIST_EMPTY(&ps)) {
        tri_propose_t *p = ps.next;
        TRI_LIST_REMOVE(p);
        int rv = tri_node_dispatch_propose(n, p);
        if (rv == 1)
            TRI_LIST_PUSH(&n->p_unsent, p);
        else if (rv < 0)
            tri_node_prop_done(n, p, TRI_EUNAVAIL);
    }
    tri_waiter_t ws;
    TRI_LIST_INIT(&ws);
    TRI_LIST_SPLICE(&ws, &n->w_unsent);
    while (!TRI_LIST_EMPTY(&ws)) {
        tri_waiter_t *w = ws.next;
        TRI_LIST_REMOVE(w);
        if (node_dispatch_waiter(n, w) == 1)
            TRI_LIST_PUSH(&n->w_unsent, w);
    }
}

/* Fires every completed request; true if any callback ran. */
static bool node_fire_ready(tri_node_t *n)
{
    tri_propose_t pdone, pok;
    tri_waiter_t wdone, wok;
    TRI_LIST_INIT(&pdone);
    TRI_LIST_INIT(&pok);
    TRI_LIST_INIT(&wdone);
    TRI_LIST_INIT(&wok);
    TRI_LIST_SPLICE(&pdone, &n->p_done);
    TRI_LIST_SPLICE(&wdone, &n->w_done);

    int64_t rev = tri_store_revision(n->store);
    uint64_t applied = n->raft_started ? raft_last_applied(&n->raft) : 0;
    for (tri_propose_t *p = n->p_revwait.next, *next; p != &n->p_revwait; p = next) {
        next = p->next;
        if (rev >= p->wait_rev) {
            TRI_LIST_REMOVE(p);
            TRI_LIST_PUSH(&pok, p);
        }
    }
    for (tri_waiter_t *w = n->w_index.next, *next; w != &n->w_index; w = next) {
        next = w->next;
        if (applied >= w->index) {
            TRI_LIST_REMOVE(w);
            TRI_LIST_PUSH(&wok, w);
        }
    }
    for (tri_waiter_t *w = n->w_rev.next, *next; w != &n->w_rev; w = next) {
        next = w->next;
        if (rev >= w->rev) {
            TRI_LIST_REMOVE(w);
            TRI_LIST_PUSH(&wok, w);
        }
    }
    bool fired = !TRI_LIST_EMPTY(&pdone) || !TRI_LIST_EMPTY(&pok) || !TRI_LIST_EMPTY(&wdone) ||
                 !TRI_LIST_EMPTY(&wok);
    while (!TRI_LIST_EMPTY(&pdone))
        tri_node_fire_prop(pdone.next, (int)pdone.next->wait_rev);
    while (!TRI_LIST_EMPTY(&pok))
        tri_node_fire_prop(pok.next, 0);
    while (!TRI_LIST_EMPTY(&wdone))
        tri_node_fire_waiter(wdone.next, (int)wdone.next->rev);
    while (!TRI_LIST_EMPTY(&wok))
        tri_node_fire_waiter(wok.next, 0);
    return fired;
}

static bool node_fire_lifecycle(tri_node_t *n)
{
    if (n->started_fire) {
        n->started_fire = false;
        if (n->started_cb != NULL)
            n->started_cb(n, n->started_status, n->started_status ? n->errmsg : NULL,
                          n->started_data);
        return true;
    }
    if (n->leader_ready && !n->leader_reported && n->leader_cb != NULL) {
        n->leader_reported = true;
        n->leader_cb(n, true, n->leader_data);
        return true;
    }
    return false;
}

static void node_pump(tri_node_t *n)
{
    for (int round = 0; round < TRI_PUMP_ROUNDS && !n->closing; round++) {
        node_watch_role(n);
        tri_fwd_maintain(n);
        node_flush_unsent(n);
        tri_node_batch_flush(n); /* what arrived since the last pump, as one entry */
        node_start_barrier(n, false);
        bool fired = node_fire_lifecycle(n);
        if (n->closing)
            return;
        fired = node_fire_ready(n) || fired;
        if (!fired)
            break;
    }
    if (n->closing)
        return;
    /* Last: the callbacks above may have proposed more, and a batch going out
     * carries the commit index as well as a barrier would. */
    tri_node_batch_flush(n);
    node_start_barrier(n, true);
    tri_fwd_flush(n);
}

static void node_prepare_cb(uv_prepare_t *h)
{
    node_pump(h->data);
}

static void node_check_cb(uv_check_t *h)
{
    node_pump(h->data);
}

/* ---------- deadlines ---------- */

static void node_expire(tri_node_t *n, uint64_t now)
{
    for (tri_propose_t *p = n->p_unsent.next, *next; p != &n->p_unsent; p = next) {
        next = p->next;
        if (now >= p->deadline_ms) {
            TRI_LIST_REMOVE(p);
            tri_node_prop_done(n, p, TRI_EUNAVAIL);
        }
    }
    for (tri_propose_t *p = n->p_revwait.next, *next; p != &n->p_revwait; p = next) {
        next = p->next;
        if (now >= p->deadline_ms) {
            /* Committed on the leader; this replica lags. Say so, but it is a success. */
            tri_warn("raft", "forwarded write committed but not applied here in time",
                     "revision=%lld local=%lld", (long long)p->wait_rev,
                     (long long)tri_store_revision(n->store));
            TRI_LIST_REMOVE(p);
            tri_node_prop_done(n, p, 0);
        }
    }
    struct {
        tri_waiter_t *head;
        int status;
    } lists[] = {{&n->w_unsent, TRI_EUNAVAIL}, {&n->w_index, TRI_ETIMEDOUT}, {&n->w_rev, TRI_EFUTURE}};
    for (size_t i = 0; i < sizeof lists / sizeof lists[0]; i++) {
        tri_waiter_t *h = lists[i].head;
        for (tri_waiter_t *w = h->next, *next; w != h; w = next) {
            next = w->next;
            if (now >= w->deadline_ms) {
                TRI_LIST_REMOVE(w);
                tri_node_waiter_done(n, w, lists[i].status);
            }
        }
    }
    tri_fwd_check_deadlines(n, now);
}

static void node_tick_cb(uv_timer_t *t)
{
    tri_node_t *n = t->data;
    uint64_t now = tri_now_ms();
    if (n->closing)
        return;
    tri_fwd_flush(n); /* deadlines below apply to frames that left */
    node_expire(n, now);
    tri_identity_probe_tick(n, now);
    if (n->raft_started && !n->closing)
        tri_members_tick(n, now);
    if (++n->tick_count % TRI_COMPACT_TICKS == 0)
        tri_store_compact_auto(n->store);
    node_pump(n);
}

/* ---------- lifecycle ---------- */

void tri_node_started(tri_node_t *n, int status)
{
    n->started_status = status;
    n->started_fire = true;
}

static int node_bootstrap(tri_node_t *n)
{
    struct raft_configuration conf;
    raft_configuration_init(&conf);
    int rv = 0;
    for (size_t i = 0; i < n->n_members && rv == 0; i++)
        rv = raft_configuration_add(&conf, n->members[i].id, n->members[i].addr, RAFT_VOTER);
    if (rv == 0)
        rv = raft_bootstrap(&n->raft, &conf);
    raft_configuration_close(&conf);
    if (rv != 0)
        snprintf(n->errmsg, sizeof n->errmsg, "raft bootstrap failed: %s",
                 raft_errmsg(&n->raft));
    return rv;
}

void tri_node_start_raft(tri_node_t *n)
{
    if (n->need_bootstrap && node_bootstrap(n) != 0) {
        tri_node_started(n, TRI_EIO);
        return;
    }
    n->need_bootstrap = false;
    if (raft_start(&n->raft) != 0) {
        snprintf(n->errmsg, sizeof n->errmsg, "raft start failed: %s", raft_errmsg(&n->raft));
        tri_error("raft", "cannot start", "err=\"%s\"", n->errmsg);
        tri_node_started(n, TRI_EIO);
        return;
    }
    n->raft_started = true;
    tri_info("raft", "started", "name=%s id=%llu addr=%s", n->name, (unsigned long long)n->id,
             n->peer_addr);
    tri_node_started(n, 0);
}

int tri_node_start(tri_node_t *n, tri_node_started_cb cb, void *data)
{
    if (n->started || n->closing)
        return TRI_EINVAL;
    n->started = true;
    n->started_cb = cb;
    n->started_data = data;
    int rv = tri_tx_bind(n->tx, n->peer_addr);
    if (rv != 0) {
        snprintf(n->errmsg, sizeof n->errmsg, "cannot listen on %s", n->peer_addr);
        return rv;
    }
    uv_prepare_start(&n->prepare, node_prepare_cb);
    uv_check_start(&n->check, node_check_cb);
    uv_timer_start(&n->tick, node_tick_cb, TRI_TICK_MS, TRI_TICK_MS);
    if ((n->need_bootstrap && n->state == TRI_CLUSTER_NEW) || n->joining)
        return tri_identity_probe_start(n);
    tri_node_start_raft(n);
    return 0;
}

void tri_node_handle_closed(tri_node_t *n)
{
    if (--n->closes_pending > 0 || !n->closing)
        return;
    if (n->close_cb != NULL) {
        tri_node_close_cb cb = n->close_cb;
        n->close_cb = NULL;
        cb(n, n->close_data);
    }
}

static void node_uv_closed(uv_handle_t *h)
{
    tri_node_handle_closed(h->data);
}

static void node_raft_closed(struct raft *r)
{
    tri_node_t *n = r->data;
    n->raft_closed = true;
    tri_node_handle_closed(n);
}

static void node_cancel_all(tri_node_t *n)
{
    tri_propose_t *plists[] = {&n->p_unsent, &n->p_revwait};
    for (size_t i = 0; i < 2; i++)
        while (!TRI_LIST_EMPTY(plists[i]))
            tri_node_fire_prop(plists[i]->next, TRI_ECANCELED);
    while (!TRI_LIST_EMPTY(&n->p_done))
        tri_node_fire_prop(n->p_done.next, (int)n->p_done.next->wait_rev);
    tri_waiter_t *wlists[] = {&n->w_unsent, &n->w_index, &n->w_rev, &n->w_bnext, &n->w_bcur};
    for (size_t i = 0; i < 5; i++)
        while (!TRI_LIST_EMPTY(wlists[i]))
            tri_node_fire_waiter(wlists[i]->next, TRI_ECANCELED);
    while (!TRI_LIST_EMPTY(&n->w_done))
        tri_node_fire_waiter(n->w_done.next, (int)n->w_done.next->rev);
    tri_sbar_t *blists[] = {&n->sb_next, &n->sb_cur};
    for (size_t i = 0; i < 2; i++)
        while (!TRI_LIST_EMPTY(blists[i])) {
            tri_sbar_t *b = blists[i]->next;
            TRI_LIST_REMOVE(b);
            free(b);
        }
}

void tri_node_close(tri_node_t *n, tri_node_close_cb cb, void *data)
{
    if (n->closing)
        return;
    n->closing = true;
    n->close_cb = cb;
    n->close_data = data;
    tri_info("raft", "closing", "name=%s", n->name);

    if (n->started_fire) {
        n->started_fire = false;
        if (n->started_cb != NULL)
            n->started_cb(n, n->started_status, n->started_status ? n->errmsg : NULL,
                          n->started_data);
    } else if (n->probing) {
        tri_identity_probe_cancel(n);
        n->probing = false;
        if (n->started_cb != NULL)
            n->started_cb(n, TRI_ECANCELED, "node closed while probing peers", n->started_data);
    }
    if (n->leader_reported && n->leader_cb != NULL) {
        n->leader_reported = false;
        n->leader_cb(n, false, n->leader_data);
    }
    n->leader_pending = n->leader_ready = false;
    tri_members_cancel(n);
    tri_fwd_close_all(n);
    node_batch_cancel(n);
    node_cancel_all(n);
    /* Fires LEADERSHIPLOST on applies and barriers in flight (they queue ECANCELED),
     * then closes the transport: listener, handshakes, pending connects. */
    n->closes_pending++;
    raft_close(&n->raft, node_raft_closed);
    node_cancel_all(n);
    n->closes_pending += 3;
    uv_close((uv_handle_t *)&n->prepare, node_uv_closed);
    uv_close((uv_handle_t *)&n->check, node_uv_closed);
    uv_close((uv_handle_t *)&n->tick, node_uv_closed);
}

void tri_node_on_leadership(tri_node_t *n, tri_leader_cb cb, void *data)
{
    n->leader_cb = cb;
    n->leader_data = data;
    n->leader_reported = false; /* the pump delivers `true` to the new subscriber if due */
}

static void node_transfer_cb(struct raft_transfer *req)
{
    tri_node_t *n = req->data;
    n->transfer_inflight = false;
}

int tri_node_transfer(tri_node_t *n, uint64_t to_id)
{
    if (!tri_node_is_leader(n))
        return TRI_ENOTLEADER;
    if (n->transfer_inflight)
        return TRI_EPRECOND;
    n->transfer_req.data = n;
    int rv = raft_transfer(&n->raft, &n->transfer_req, to_id, node_transfer_cb);
    if (rv == RAFT_NOTFOUND)
        return TRI_ENOENT;
    if (rv == RAFT_BADID)
        return TRI_EINVAL;
    if (rv != 0)
        return TRI_EUNAVAIL;
    n->transfer_inflight = true;
    return 0;
}

void tri_node_get_status(tri_node_t *n, tri_node_status_t *st)
{
    memset(st, 0, sizeof *st);
    st->id = n->id;
    st->store_revision = tri_store_revision(n->store);
    st->snapshots_taken = n->snapshots_taken;
    st->forwards_sent = n->forwards_sent;
    st->forwards_served = n->forwards_served;
    st->peer_refusals = tri_tx_refusals(n->tx);
    if (!n->raft_started || n->closing)
        return;
    st->role = (enum tri_role)raft_state(&n->raft);
    st->term = n->raft.current_term;
    st->commit_index = n->raft.commit_index;
    st->applied_index = raft_last_applied(&n->raft);
    st->last_index = raft_last_index(&n->raft);
    const char *addr;
    tri_node_leader(n, &st->leader_id, &addr);
    snprintf(st->leader_addr, sizeof st->leader_addr, "%s", addr);
    if (st->leader_id != 0)
        snprintf(st->leader_name, sizeof st->leader_name, "%s",
                 tri_node_member_name(n, st->leader_id));
    /* A follower's commit index is the leader's as of the last append it accepted;
     * before any contact it is stale, hence "a leader is known". */
    if (st->role == TRI_ROLE_LEADER)
        st->caught_up = n->leader_ready && st->applied_index >= st->commit_index;
    else
        st->caught_up = st->leader_id != 0 && st->applied_index >= st->commit_index;
}

/* ---------- construction ---------- */

static int mkdir_p(const char *path)
{
    char buf[4096];
    size_t len = strlen(path);
    if (len == 0 || len >= sizeof buf)
        return TRI_EINVAL;
    memcpy(buf, path, len + 1);
    for (char *p = buf + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(buf, 0700) != 0 && errno != EEXIST)
            return TRI_EIO;
        *p = '/';
    }
    if (mkdir(buf, 0700) != 0 && errno != EEXIST)
        return TRI_EIO;
    return 0;
}

/* Classifies the data dir: *has_raft if libraft metadata exists, *other if any
 * file besides ours and libraft's is there. */
static int dir_scan(const char *path, bool *has_raft, bool *empty)
{
    DIR *d = opendir(path);
    if (d == NULL)
        return TRI_EIO;
    struct dirent *e;
    *has_raft = false;
    *empty = true;
    while ((e = readdir(d)) != NULL) {
        /* pki: a joining member's key material, unpacked from --join */
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0 ||
            strcmp(e->d_name, "lost+found") == 0 || strcmp(e->d_name, "pki") == 0)
            continue;
        *empty = false;
        if (strncmp(e->d_name, "metadata", 8) == 0)
            *has_raft = true;
    }
    closedir(d);
    return 0;
}

static int node_config(tri_node_t *n, const tri_node_config_t *cfg, const char **errmsg)
{
    struct sockaddr_in sa;
    if (cfg->name == NULL || cfg->cluster_id == NULL || cfg->data_dir == NULL ||
        cfg->peer_addr == NULL || cfg->members == NULL || cfg->n_members == 0) {
        *errmsg = "incomplete node configuration";
        return TRI_EINVAL;
    }
    if (strlen(cfg->name) > TRI_NAME_MAX || strlen(cfg->cluster_id) > TRI_CLUSTER_ID_MAX ||
        strlen(cfg->peer_addr) > TRI_ADDR_MAX || cfg->cluster_id[0] == '\0' ||
        strchr(cfg->cluster_id, '\n') != NULL || strchr(cfg->name, '\n') != NULL) {
        *errmsg = "name, cluster id or peer address too long or malformed";
        return TRI_EINVAL;
    }
    if (tri_tx_parse_addr(cfg->peer_addr, &sa) != 0) {
        *errmsg = "peer address must be an IPv4 literal with a non-zero port";
        return TRI_EINVAL;
    }
    snprintf(n->name, sizeof n->name, "%s", cfg->name);
    snprintf(n->cluster_id, sizeof n->cluster_id, "%s", cfg->cluster_id);
    snprintf(n->peer_addr, sizeof n->peer_addr, "%s", cfg->peer_addr);
    n->data_dir = strdup(cfg->data_dir);
    n->members = calloc(cfg->n_members, sizeof *n->members);
    if (n->data_dir == NULL || n->members == NULL) {
        *errmsg = "out of memory";
        return TRI_ENOMEM;
    }
    memcpy(n->members, cfg->members, cfg->n_members * sizeof *n->members);
    n->n_members = cfg->n_members;
    for (size_t i = 0; i < n->n_members; i++) {
        if (n->members[i].id == 0 || tri_tx_parse_addr(n->members[i].addr, &sa) != 0) {
            *errmsg = "member with id 0 or a malformed address";
            return TRI_EINVAL;
        }
        if (strcmp(n->members[i].name, n->name) == 0)
            n->id = n->members[i].id;
    }
    n->state = cfg->state;
    n->join_id = cfg->join_id;
    n->election_timeout_ms = cfg->election_timeout_ms ? cfg->election_timeout_ms : TRI_DEF_ELECTION_MS;
    n->heartbeat_ms = cfg->heartbeat_ms ? cfg->heartbeat_ms : TRI_DEF_HEARTBEAT_MS;
    n->snapshot_threshold = cfg->snapshot_threshold ? cfg->snapshot_threshold : TRI_DEF_SNAP_THRESHOLD;
    n->snapshot_trailing = cfg->snapshot_trailing ? cfg->snapshot_trailing : TRI_DEF_SNAP_TRAILING;
    n->bootstrap_wait_ms = cfg->bootstrap_wait_ms ? cfg->bootstrap_wait_ms : TRI_DEF_BOOTSTRAP_WAIT_MS;
    n->forward_wait_ms = cfg->forward_wait_ms ? cfg->forward_wait_ms : TRI_DEF_FORWARD_WAIT_MS;
    n->revision_wait_ms = cfg->revision_wait_ms ? cfg->revision_wait_ms : TRI_DEF_REVISION_WAIT_MS;
    return 0;
}

/* A member added at runtime starts empty: its identity (the id the leader gave it)
 * is written now; it neither probes nor bootstraps, and the leader sends it the
 * log as a standby. */
static int node_join_identity(tri_node_t *n, const char **errmsg)
{
    (void)errmsg;
    n->id = n->join_id;
    n->need_identity = true;
    n->joining = true;
    tri_info("raft", "joining an existing cluster", "name=%s id=%016llx", n->name,
             (unsigned long long)n->id);
    return 0;
}

/* Applies the identity rules of raft.h to the data dir. */
static int node_identity(tri_node_t *n, const char **errmsg)
{
    tri_identity_t idt;
    bool has_raft, empty;
    if (mkdir_p(n->data_dir) != 0 || dir_scan(n->data_dir, &has_raft, &empty) != 0) {
        *errmsg = "cannot create or read the data dir";
        return TRI_EIO;
    }
    int rv = tri_identity_read(n->data_dir, &idt);
    if (rv < 0) {
        *errmsg = "the identity file in the data dir is unreadable or corrupt";
        return TRI_ECORRUPT;
    }
    if (rv == 1) {
        if (strcmp(idt.cluster_id, n->cluster_id) != 0 || strcmp(idt.name, n->name) != 0) {
            tri_error("raft", "data dir belongs to another cluster or member",
                      "dir=\"%s\" cluster=\"%s\" name=%s configured_cluster=\"%s\" configured_name=%s",
                      n->data_dir, idt.cluster_id, idt.name, n->cluster_id, n->name);
            *errmsg = "identity mismatch: the data dir belongs to another cluster or member";
            return TRI_EINVAL;
        }
        if (n->join_id != 0 && idt.id != n->join_id) {
            tri_error("raft", "data dir belongs to an earlier member of this name",
                      "dir=\"%s\" name=%s dir_id=%016llx bundle_id=%016llx", n->data_dir,
                      n->name, (unsigned long long)idt.id, (unsigned long long)n->join_id);
            *errmsg = "the data dir belongs to an earlier member of this name (another id than "
                      "the join bundle's): delete it to join as the new member";
            return TRI_EINVAL;
        }
        n->id = idt.id;
        n->has_identity = true;
        if (!has_raft && n->join_id == idt.id) {
            /* A joiner stopped before the leader sent it anything: join again. */
        } else if (!has_raft) {
            /* Identity written but raft never bootstrapped: an interrupted bootstrap. */
            if (n->state != TRI_CLUSTER_NEW) {
                *errmsg = "data dir has an identity but no raft state, and the cluster is not new";
                return TRI_EINVAL;
            }
            n->need_bootstrap = true;
        }
        return tri_identity_load_seen(n) < 0 || tri_members_load(n) < 0 ? TRI_EIO : 0;
    }
    if (!empty) {
        *errmsg = "data dir is not empty but holds no identity file; refusing to touch it";
        return TRI_EINVAL;
    }
    if (n->state != TRI_CLUSTER_NEW && n->join_id == 0) {
        *errmsg = "empty data dir and no join bundle";
        return TRI_EINVAL;
    }
    if (n->state != TRI_CLUSTER_NEW)
        return node_join_identity(n, errmsg);
    if (n->id == 0) {
        *errmsg = "this replica's name is not in the member list";
        return TRI_EINVAL;
    }
    n->need_identity = true;
    n->need_bootstrap = true;
    return 0;
}

static int node_raft_init(tri_node_t *n, const tri_node_config_t *cfg, const char **errmsg)
{
    int rv = tri_tx_new(n, &n->tx);
    if (rv != 0) {
        *errmsg = "out of memory";
        return rv;
    }
    rv = tri_tx_init_tls(n->tx, cfg, errmsg);
    if (rv != 0)
        return rv;
    tri_fsm_init(n);
    rv = raft_uv_init(&n->io, n->loop, n->data_dir, &n->transport);
    if (rv != 0) {
        tri_error("raft", "raft_uv_init failed", "dir=\"%s\" err=\"%s\"", n->data_dir,
                  n->io.errmsg);
        *errmsg = "cannot open the raft log in the data dir";
        return TRI_EIO;
    }
    /* libraft 0.15's raft_uv_init implements async_work (an io version 2 method) but
     * sets io->version = 1, and raft_init then refuses FSM v3 async snapshots. The
     * version is read nowhere else in 0.15 (src/raft.c ioFsmCompat). */
    if (n->io.version < 2 && n->io.async_work != NULL)
        n->io.version = 2;
    rv = raft_init(&n->raft, &n->io, &n->fsm, n->id, n->peer_addr);
    if (rv != 0) {
        tri_error("raft", "raft_init failed", "err=\"%s\"", raft_errmsg(&n->raft));
        raft_uv_close(&n->io);
        *errmsg = "cannot initialise raft (unsupported file system?)";
        return TRI_EIO;
    }
    n->raft.data = n;
    raft_uv_set_connect_retry_delay(&n->io, TRI_CONNECT_RETRY_MS);
    /* Store snapshots are lz4-compressed already. */
    raft_uv_set_snapshot_compression(&n->io, false);
    raft_set_election_timeout(&n->raft, n->election_timeout_ms);
    raft_set_heartbeat_timeout(&n->raft, n->heartbeat_ms);
    raft_set_pre_vote(&n->raft, true);
    raft_set_snapshot_threshold(&n->raft, n->snapshot_threshold);
    raft_set_snapshot_trailing(&n->raft, n->snapshot_trailing);
    n->raft_snap_threshold = n->snapshot_threshold;
    n->raft_snap_trailing = n->snapshot_trailing;
    return 0;
}

static void node_lists_init(tri_node_t *n)
{
    TRI_LIST_INIT(&n->p_unsent);
    TRI_LIST_INIT(&n->p_revwait);
    TRI_LIST_INIT(&n->p_done);
    TRI_LIST_INIT(&n->w_unsent);
    TRI_LIST_INIT(&n->w_index);
    TRI_LIST_INIT(&n->w_rev);
    TRI_LIST_INIT(&n->w_done);
    TRI_LIST_INIT(&n->w_bnext);
    TRI_LIST_INIT(&n->w_bcur);
    TRI_LIST_INIT(&n->sb_next);
    TRI_LIST_INIT(&n->sb_cur);
}

static void node_free_memory(tri_node_t *n)
{
    if (n->tx != NULL)
        tri_tx_free(n->tx);
    tri_fsm_free(n);
    tri_buf_free(&n->batch_body);
    free(n->data_dir);
    free(n->members);
    free(n->seen);
    free(n->probes);
    tri_members_free(n);
    free(n);
}

int tri_node_new(uv_loop_t *loop, tri_store_t *store, const tri_node_config_t *cfg,
                 tri_node_t **out, const char **errmsg)
{
    const char *dummy;
    if (errmsg == NULL)
        errmsg = &dummy;
    tri_node_t *n = calloc(1, sizeof *n);
    if (n == NULL) {
        *errmsg = "out of memory";
        return TRI_ENOMEM;
    }
    tri_aio_destroy_start();
    n->loop = loop;
    n->store = store;
    n->last_state = -1;
    node_lists_init(n);
    int rv = node_config(n, cfg, errmsg);
    if (rv == 0)
        rv = node_identity(n, errmsg);
    if (rv == 0)
        rv = node_raft_init(n, cfg, errmsg);
    if (rv != 0) {
        node_free_memory(n);
        return rv;
    }
    uv_prepare_init(loop, &n->prepare);
    uv_check_init(loop, &n->check);
    uv_timer_init(loop, &n->tick);
    n->prepare.data = n->check.data = n->tick.data = n;
    *out = n;
    return 0;
}

void tri_node_free(tri_node_t *n)
{
    if (n == NULL)
        return;
    if (n->raft_closed)
        raft_uv_close(&n->io);
    node_free_memory(n);
}
