/* The state machine libraft drives: committed entries carry encoded txns applied
 * to the store, snapshots are the store's own encoded snapshots.
 *
 * Entry formats, little endian, each entry zero-padded to a multiple of 8 bytes:
 *   version 1: [u32 txn length][u32 1][txn bytes]                      one txn
 *   version 2: [u32 body length][u32 2][u32 count][count x (u32 length, txn bytes)]
 * The leader writes version 1 when a batch holds one txn (what every entry was
 * before batches) and version 2 otherwise; every replica reads both. Batching
 * matters because libraft's cost is per entry: each raft_apply sends an
 * AppendEntries to every follower, which answers it, each a few syscalls and
 * allocations on both ends; a batch pays that once for all the txns that arrived
 * during one loop iteration. The padding is not optional: libraft 0.15's uv
 * transport sends each entry unpadded but its receiver (uvDecodeEntriesBatch)
 * steps over entries as if each were padded to 8 bytes, so a message carrying
 * several entries of other lengths is decoded with shifted boundaries (garbage
 * entries, reads past the buffer; seen under ASan here).
 *
 * apply: decode + tri_store_apply, txn by txn. The results go back through
 * `*result`, which libraft 0.15 hands to the raft_apply callback synchronously
 * right after apply returns (replication.c applyCommand) and simply drops on
 * followers, where no request waits. So instead of heap results that followers
 * would leak, they live in one array of the node (n->apply_results), valid until
 * the next apply; the apply callback copies them out at once. apply never fails
 * towards raft: a txn that does not decode or does not apply gets a result with a
 * status, the same on every replica, because a non-zero return would stall
 * libraft's apply loop for good.
 *
 * libraft counts its snapshot threshold and trailing amount in entries; the
 * configuration counts txns (what an entry was before batches). Every
 * TRI_SNAP_ADJUST_ENTRIES applied entries, apply divides the configured values by
 * the mean number of txns per entry and hands raft the result, so that snapshots
 * and the in-memory log keep covering about as many txns as configured.
 *
 * Snapshots use FSM version 3: `snapshot` (loop thread) takes a cheap point-in-time
 * reference of the store, `snapshot_async` (libuv thread pool) encodes it, and
 * `snapshot_finalize` (loop thread) frees the buffer and the reference. libraft
 * takes one snapshot at a time, so one reference slot in the node suffices.
 * restore replaces the store with a received snapshot and owns the buffer on success.
 */
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "triarch/log.h"

#define TRI_ENTRY_HEADER 8
#define TRI_ENTRY_VERSION 1
#define TRI_ENTRY_BATCH_VERSION 2
#define TRI_ENTRY_ALIGN 8
#define TRI_BATCH_ITEM_HEADER 4
/* How often the snapshot threshold follows the batch size, and its floor in
 * entries (a configured value below the floor is used as is). */
#define TRI_SNAP_ADJUST_ENTRIES 256
#define TRI_SNAP_MIN_ENTRIES 64
/* A snapshot encodes the whole state, so taking one every `snapshot_threshold`
 * writes costs O(state) per threshold: with 100k+ objects that was ~14% of the
 * leader's CPU (bench/RESULTS.md). The threshold grows with the state so that a
 * snapshot is taken at most once per state/4 writes: the encode work stays about
 * four records per write, and the log kept in memory between snapshots stays under
 * about a quarter of the state (inside the 2x-of-raw-data memory budget). */
#define TRI_SNAP_STATE_DIVISOR 4

static void put_u32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static uint32_t get_u32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* An entry of `version` whose payload is the concatenation of parts. */
static int fsm_entry_make(uint32_t version, const void *a, size_t a_len, const void *b,
                          size_t b_len, struct raft_buffer *out)
{
    size_t len = a_len + b_len;
    if (len > UINT32_MAX - TRI_ENTRY_HEADER - TRI_ENTRY_ALIGN)
        return TRI_ETOOBIG;
    size_t total = TRI_ENTRY_HEADER + len;
    total = (total + TRI_ENTRY_ALIGN - 1) / TRI_ENTRY_ALIGN * TRI_ENTRY_ALIGN;
    uint8_t *p = raft_malloc(total);
    if (p == NULL)
        return TRI_ENOMEM;
    put_u32(p, (uint32_t)len);
    put_u32(p + 4, version);
    if (a_len > 0)
        memcpy(p + TRI_ENTRY_HEADER, a, a_len);
    if (b_len > 0)
        memcpy(p + TRI_ENTRY_HEADER + a_len, b, b_len);
    memset(p + TRI_ENTRY_HEADER + len, 0, total - TRI_ENTRY_HEADER - len);
    out->base = p;
    out->len = total;
    return 0;
}

int tri_fsm_entry_encode(const void *txn, size_t len, struct raft_buffer *out)
{
    return fsm_entry_make(TRI_ENTRY_VERSION, txn, len, NULL, 0, out);
}

int tri_fsm_batch_append(tri_buf_t *body, const void *txn, size_t len)
{
    if (len > UINT32_MAX)
        return TRI_ETOOBIG;
    return tri_buf_put_bytes(body, txn, (uint32_t)len);
}

int tri_fsm_batch_encode(const tri_buf_t *body, size_t count, struct raft_buffer *out)
{
    if (count == 0 || count > UINT32_MAX || body->len < TRI_BATCH_ITEM_HEADER)
        return TRI_EINVAL;
    if (count == 1)
        return tri_fsm_entry_encode(body->data + TRI_BATCH_ITEM_HEADER,
                                    body->len - TRI_BATCH_ITEM_HEADER, out);
    uint8_t n[4];
    put_u32(n, (uint32_t)count);
    return fsm_entry_make(TRI_ENTRY_BATCH_VERSION, n, sizeof n, body->data, body->len, out);
}

/* Room for count results; false if it cannot be had (the txns still apply). */
static bool fsm_results_reserve(tri_fsm_results_t *rs, size_t count)
{
    rs->n = 0;
    if (count <= rs->cap)
        return true;
    tri_txn_result_t *res = realloc(rs->res, count * sizeof *res);
    if (res == NULL)
        return false;
    rs->res = res;
    rs->cap = count;
    return true;
}

static void fsm_result_invalid(tri_node_t *n, tri_txn_result_t *res)
{
    memset(res, 0, sizeof *res);
    res->status = TRI_EINVAL;
    res->failed_cmp = -1;
    res->revision = tri_store_revision(n->store);
}

static void fsm_apply_txn(tri_node_t *n, const void *txn, size_t len, tri_txn_result_t *res)
{
    tri_txn_decoded_t dec;
    memset(res, 0, sizeof *res);
    res->failed_cmp = -1;
    if (tri_txn_decode(txn, len, &dec) != 0) {
        tri_warn("fsm", "committed entry holds something that is not a txn; recorded as invalid",
                 "len=%zu", len);
        fsm_result_invalid(n, res);
        return;
    }
    int rv = tri_store_apply(n->store, &dec.txn, res);
    if (rv < 0 && res->status == 0)
        res->status = rv;
    /* The member registry (members.c) is read, and saved to the data dir, as soon
     * as it changes: a restart must know members added at runtime. */
    for (size_t i = 0; rv == 0 && res->status == 0 && i < dec.txn.n_ops; i++)
        if (tri_members_key(dec.txn.ops[i].key, dec.txn.ops[i].key_len)) {
            tri_members_refresh(n);
            break;
        }
    if (rv == TRI_ENOMEM)
        tri_error("fsm", "store out of memory while applying; replicas may diverge", "%s", "");
    tri_txn_decoded_free(&dec);
}

/* Applies every txn of a version 2 payload; returns how many the entry holds. */
static size_t fsm_apply_batch(tri_node_t *n, const uint8_t *p, size_t len)
{
    tri_fsm_results_t *rs = &n->apply_results;
    tri_txn_result_t scratch;
    if (len < 4)
        return 0;
    size_t count = get_u32(p), off = 4;
    /* every txn takes at least its length word: a larger count is not ours */
    if (count > (len - 4) / TRI_BATCH_ITEM_HEADER)
        return 0;
    bool keep = fsm_results_reserve(rs, count);
    for (size_t i = 0; i < count; i++) {
        tri_txn_result_t *res = keep ? &rs->res[i] : &scratch;
        size_t left = len - off;
        size_t l = left >= TRI_BATCH_ITEM_HEADER ? get_u32(p + off) : 0;
        if (left < TRI_BATCH_ITEM_HEADER || l > left - TRI_BATCH_ITEM_HEADER) {
            fsm_result_invalid(n, res); /* the rest of the entry is unreadable */
            off = len;
        } else {
            fsm_apply_txn(n, p + off + TRI_BATCH_ITEM_HEADER, l, res);
            off += TRI_BATCH_ITEM_HEADER + l;
        }
    }
    rs->n = keep ? count : 0;
    return count;
}

/* Keeps raft's entry-counted snapshot settings at the configured txn counts. */
static void fsm_adjust_snapshots(tri_node_t *n, size_t txns)
{
    n->fsm_entries++;
    n->fsm_txns += txns;
    if (n->fsm_entries < TRI_SNAP_ADJUST_ENTRIES)
        return;
    uint64_t per_entry = n->fsm_txns / n->fsm_entries;
    if (per_entry == 0)
        per_entry = 1;
    n->fsm_entries = n->fsm_txns = 0;
    unsigned floor_t = n->snapshot_threshold < TRI_SNAP_MIN_ENTRIES ? n->snapshot_threshold
                                                                    : TRI_SNAP_MIN_ENTRIES;
    unsigned floor_k = n->snapshot_trailing < TRI_SNAP_MIN_ENTRIES ? n->snapshot_trailing
                                                                   : TRI_SNAP_MIN_ENTRIES;
    uint64_t want = n->snapshot_threshold;
    uint64_t by_state = tri_store_count(n->store) / TRI_SNAP_STATE_DIVISOR;
    if (by_state > want)
        want = by_state;
    unsigned thr = (unsigned)(want / per_entry);
    unsigned trail = (unsigned)(n->snapshot_trailing / per_entry);
    thr = thr < floor_t ? floor_t : thr;
    trail = trail < floor_k ? floor_k : trail;
    if (thr != n->raft_snap_threshold) {
        raft_set_snapshot_threshold(&n->raft, thr);
        n->raft_snap_threshold = thr;
    }
    if (trail != n->raft_snap_trailing) {
        raft_set_snapshot_trailing(&n->raft, trail);
        n->raft_snap_trailing = trail;
    }
}

static int fsm_apply(struct raft_fsm *fsm, const struct raft_buffer *buf, void **result)
{
    tri_node_t *n = fsm->data;
    tri_fsm_results_t *rs = &n->apply_results;
    const uint8_t *p = buf->base;
    size_t txns = 0;
    uint32_t len = buf->len >= TRI_ENTRY_HEADER ? get_u32(p) : 0;
    uint32_t version = buf->len >= TRI_ENTRY_HEADER ? get_u32(p + 4) : 0;

    *result = rs;
    if (buf->len >= TRI_ENTRY_HEADER && len <= buf->len - TRI_ENTRY_HEADER) {
        if (version == TRI_ENTRY_VERSION) {
            bool keep = fsm_results_reserve(rs, 1);
            tri_txn_result_t scratch;
            fsm_apply_txn(n, p + TRI_ENTRY_HEADER, len, keep ? &rs->res[0] : &scratch);
            rs->n = keep ? 1 : 0;
            txns = 1;
        } else if (version == TRI_ENTRY_BATCH_VERSION) {
            txns = fsm_apply_batch(n, p + TRI_ENTRY_HEADER, len);
        }
    }
    if (txns == 0) {
        tri_warn("fsm", "committed entry is not ours; recorded as invalid", "len=%zu", buf->len);
        if (fsm_results_reserve(rs, 1)) {
            fsm_result_invalid(n, &rs->res[0]);
            rs->n = 1;
        }
        txns = 1;
    }
    fsm_adjust_snapshots(n, txns);
    return 0;
}

static int fsm_snapshot(struct raft_fsm *fsm, struct raft_buffer *bufs[], unsigned *n_bufs)
{
    tri_node_t *n = fsm->data;
    struct raft_buffer *b;

    if (n->snap_ref != NULL)
        return RAFT_BUSY;
    b = raft_calloc(1, sizeof *b);
    if (b == NULL)
        return RAFT_NOMEM;
    if (tri_store_snap_ref(n->store, &n->snap_ref) != 0) {
        raft_free(b);
        n->snap_ref = NULL;
        return RAFT_NOMEM;
    }
    *bufs = b;
    *n_bufs = 1;
    return 0;
}

/* Thread pool: touches only the reference taken on the loop thread. */
static int fsm_snapshot_async(struct raft_fsm *fsm, struct raft_buffer *bufs[], unsigned *n_bufs)
{
    tri_node_t *n = fsm->data;
    tri_buf_t out = {0};
    if (tri_snap_encode(n->snap_ref, &out) != 0) {
        tri_buf_free(&out);
        return RAFT_NOMEM;
    }
    (*bufs)[0].base = out.data;
    (*bufs)[0].len = out.len;
    return 0;
}

static int fsm_snapshot_finalize(struct raft_fsm *fsm, struct raft_buffer *bufs[],
                                 unsigned *n_bufs)
{
    tri_node_t *n = fsm->data;
    if (*bufs != NULL) {
        if ((*bufs)[0].base != NULL) {
            free((*bufs)[0].base);
            n->snapshots_taken++;
        }
        raft_free(*bufs);
    }
    *bufs = NULL;
    *n_bufs = 0;
    if (n->snap_ref != NULL) {
        tri_snap_ref_free(n->snap_ref);
        n->snap_ref = NULL;
    }
    return 0;
}

static int fsm_restore(struct raft_fsm *fsm, struct raft_buffer *buf)
{
    tri_node_t *n = fsm->data;
    int rv = tri_store_restore(n->store, buf->base, buf->len);
    if (rv != 0) {
        tri_error("fsm", "snapshot from raft refused by the store", "len=%zu err=%s", buf->len,
                  tri_strerror(rv));
        return RAFT_CORRUPT;
    }
    tri_info("fsm", "restored snapshot", "revision=%lld keys=%zu",
             (long long)tri_store_revision(n->store), tri_store_count(n->store));
    raft_free(buf->base); /* ours on success (snapshotRestore) */
    tri_members_refresh(n);
    return 0;
}

void tri_fsm_free(tri_node_t *n)
{
    free(n->apply_results.res);
    memset(&n->apply_results, 0, sizeof n->apply_results);
}

void tri_fsm_init(tri_node_t *n)
{
    memset(&n->fsm, 0, sizeof n->fsm);
    n->fsm.version = 3;
    n->fsm.data = n;
    n->fsm.apply = fsm_apply;
    n->fsm.snapshot = fsm_snapshot;
    n->fsm.restore = fsm_restore;
    n->fsm.snapshot_finalize = fsm_snapshot_finalize;
    n->fsm.snapshot_async = fsm_snapshot_async;
}
