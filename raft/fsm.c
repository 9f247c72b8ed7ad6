/* The state machine libraft drives: committed entries are encoded txns applied to
 * the store, snapshots are the store's own encoded snapshots.
 *
 * apply: decode + tri_store_apply. The result goes back through `*result`, which
 * libraft 0.15 hands to the raft_apply callback synchronously right after apply
 * returns (replication.c applyCommand) and simply drops on followers, where no
 * request waits. So instead of a heap result that followers would leak, the result
 * lives in one slot of the node (n->apply_res), valid until the next apply; the
 * apply callback copies it out at once. apply never fails towards raft: a txn that
 * does not decode or does not apply gets a result with a status, the same on every
 * replica, because a non-zero return would stall libraft's apply loop for good.
 *
 * Entry format: [u32 txn length][u32 format version][txn bytes][zeros to a multiple
 * of 8]. The padding is not optional: libraft 0.15's uv transport sends each entry
 * unpadded but its receiver (uvDecodeEntriesBatch) steps over entries as if each
 * were padded to 8 bytes, so a message carrying several entries of other lengths is
 * decoded with shifted boundaries (garbage entries, reads past the buffer; seen
 * under ASan here). Padded entries are laid out identically either way.
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
#define TRI_ENTRY_ALIGN 8

int tri_fsm_entry_encode(const void *txn, size_t len, struct raft_buffer *out)
{
    size_t total = TRI_ENTRY_HEADER + len;
    total = (total + TRI_ENTRY_ALIGN - 1) / TRI_ENTRY_ALIGN * TRI_ENTRY_ALIGN;
    if (len > UINT32_MAX)
        return TRI_ETOOBIG;
    uint8_t *p = raft_malloc(total);
    if (p == NULL)
        return TRI_ENOMEM;
    for (int i = 0; i < 4; i++) {
        p[i] = (uint8_t)(len >> (8 * i));
        p[4 + i] = (uint8_t)((uint32_t)TRI_ENTRY_VERSION >> (8 * i));
    }
    memcpy(p + TRI_ENTRY_HEADER, txn, len);
    memset(p + TRI_ENTRY_HEADER + len, 0, total - TRI_ENTRY_HEADER - len);
    out->base = p;
    out->len = total;
    return 0;
}

/* Finds the txn inside an entry; TRI_EINVAL if the entry is not ours. */
static int fsm_entry_txn(const struct raft_buffer *buf, const void **txn, size_t *len)
{
    const uint8_t *p = buf->base;
    if (buf->len < TRI_ENTRY_HEADER)
        return TRI_EINVAL;
    uint32_t l = (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
                 (uint32_t)p[3] << 24;
    uint32_t v = (uint32_t)p[4] | (uint32_t)p[5] << 8 | (uint32_t)p[6] << 16 |
                 (uint32_t)p[7] << 24;
    if (v != TRI_ENTRY_VERSION || l > buf->len - TRI_ENTRY_HEADER)
        return TRI_EINVAL;
    *txn = p + TRI_ENTRY_HEADER;
    *len = l;
    return 0;
}

static int fsm_apply(struct raft_fsm *fsm, const struct raft_buffer *buf, void **result)
{
    tri_node_t *n = fsm->data;
    tri_txn_result_t *res = &n->apply_res;
    tri_txn_decoded_t dec;
    int rv;

    const void *txn;
    size_t len;

    memset(res, 0, sizeof *res);
    res->failed_cmp = -1;
    rv = fsm_entry_txn(buf, &txn, &len);
    if (rv == 0)
        rv = tri_txn_decode(txn, len, &dec);
    if (rv != 0) {
        tri_warn("fsm", "committed entry is not a txn; recorded as invalid", "len=%zu",
                 buf->len);
        res->status = TRI_EINVAL;
        res->revision = tri_store_revision(n->store);
        *result = res;
        return 0;
    }
    rv = tri_store_apply(n->store, &dec.txn, res);
    if (rv < 0 && res->status == 0)
        res->status = rv;
    if (rv == TRI_ENOMEM)
        tri_error("fsm", "store out of memory while applying; replicas may diverge", "%s", "");
    tri_txn_decoded_free(&dec);
    *result = res;
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
    return 0;
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
