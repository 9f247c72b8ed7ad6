/* Private structures of the MVCC store, shared by the files of store/ only.
 *
 * The state of a store (st_state_t) is an ordered index of key entries (a skip
 * list threaded through the entries themselves, plus a chained hash over the same
 * entries for point lookups), the ring of recent events that the watch hub reads,
 * the snapshot view (a copy-on-write B+tree of the live records, tree.c) with the
 * hub of the snapshot refs open on it (snapshot.c), and the counters (revision,
 * compact revision, live size and count). Keeping it
 * in one struct lets tri_store_restore build a complete new state off to the side
 * and swap it in only once the snapshot has been fully verified.
 *
 * Every entry has a version chain (oldest first) that reaches back to the compact
 * revision: the latest version at or before it (if not a tombstone), then every
 * later version. Values and keys are tri_val_t blobs shared by reference with the
 * ring, with readers and with snapshot refs.
 */
#ifndef TRIARCH_STORE_INT_H
#define TRIARCH_STORE_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "triarch/store.h"

/* Size limits of one key and one value. 4 KiB covers any Kubernetes key
 * (253-byte names, short group/resource paths); 4 MiB is a little above the 3 MiB
 * request limit kube-apiserver puts on an object, so every valid object fits. */
#define ST_KEY_MAX 4096u
#define ST_VAL_MAX (4u << 20)

/* Defaults of tri_store_opts_t (values documented in store.h). */
#define ST_DEFAULT_QUOTA ((size_t)2 << 30)
#define ST_DEFAULT_HISTORY_EVENTS 100000u
#define ST_DEFAULT_HISTORY_MS 300000u
#define ST_DEFAULT_MAX_LAG 10000u

/* Skip list: p = 1/4 and 24 levels index 4^24 keys, far above any store's size. */
#define ST_SKIP_LEVELS 24

/* One version of a key: a value, or a tombstone (val == NULL) at a deletion. */
typedef struct st_ver {
    int64_t rev;
    tri_val_t *val;
    int64_t create_rev;
    int64_t version;
} st_ver_t;

typedef struct st_ent {
    tri_val_t *key;
    st_ver_t *vers; /* oldest first; the last one is the current state */
    uint32_t n_vers;
    uint32_t cap_vers;
    struct st_ent *hnext; /* hash chain */
    uint32_t height;
    struct st_ent *next[]; /* skip list forward pointers, height of them */
} st_ent_t;

typedef struct st_index {
    st_ent_t *head; /* sentinel with ST_SKIP_LEVELS pointers, no key */
    uint32_t height;
    uint64_t rng; /* level generator state; only affects speed, never results */
    st_ent_t **buckets;
    size_t n_buckets; /* power of two */
    size_t n_ents;
} st_index_t;

/* ---- the snapshot view (tree.c) ----
 * A copy-on-write B+tree holding only the live state (one record per live key),
 * kept beside the skip list so that taking a snapshot is keeping its root. Nodes
 * are immutable once a snapshot may see them (born <= the newest open snapshot's
 * revision); see tree.c for the rules and snapshot.c for who frees what. */
#define ST_LEAF_MAX 32  /* records per leaf: 32 x (40 + 8) B, a leaf copy is ~1.6 KiB */
#define ST_INNER_MAX 32 /* children per inner node */

/* A live key as a snapshot encodes it. key and val are borrowed, not referenced:
 * the skip list's entry and its last version keep them alive while the record is
 * in the live tree, and snapshot.c keeps a reference once it leaves it while a
 * snapshot may still read it. */
typedef struct st_trec {
    tri_val_t *key;
    tri_val_t *val;
    int64_t create_rev;
    int64_t mod_rev;
    int64_t version;
} st_trec_t;

typedef struct st_node {
    int64_t born;                 /* the store revision current when the node was made */
    uint64_t retired_seq;         /* loop thread only: hub sequence when it left the live tree */
    struct st_node *retired_next; /* loop thread only: the hub's list of retired nodes */
    uint32_t n;                   /* records (leaf) or children (inner) */
    bool leaf;
} st_node_t;

/* keys[i] == recs[i].key, packed: an overwrite or delete finds its record by
 * comparing the entry's key pointer against 4 cache lines, instead of a
 * binary search that reads a cold key blob at every step. */
typedef struct st_leaf {
    st_node_t hdr;
    tri_val_t *keys[ST_LEAF_MAX];
    st_trec_t recs[ST_LEAF_MAX];
} st_leaf_t;

/* seps[i] is the lowest key of kids[i + 1]'s subtree when it was set (a
 * reference owned by the node); keys < seps[0] live under kids[0]. */
typedef struct st_inner {
    st_node_t hdr;
    tri_val_t *seps[ST_INNER_MAX - 1];
    st_node_t *kids[ST_INNER_MAX];
} st_inner_t;

typedef struct st_tree {
    st_node_t *root; /* NULL when the store holds no live key */
    bool stale;      /* an update failed for memory: rebuilt before the next snapshot */
} st_tree_t;

typedef struct st_snaps st_snaps_t;

/* One event of the watch ring. mod_rev of the public event is always rev. */
typedef struct st_event {
    int64_t rev;
    tri_val_t *key;
    tri_val_t *val;
    tri_val_t *prev;
    int64_t create_rev;
    uint64_t ts_ms; /* when it was appended, for the age bound of the window */
    uint8_t kind;
    bool created;
} st_event_t;

/* Ring of events; sequence numbers are absolute so watcher cursors survive
 * growth and trimming: event seq lives at evs[(head + seq - base_seq) & (cap-1)]. */
typedef struct st_ring {
    st_event_t *evs;
    size_t cap; /* power of two, or 0 */
    size_t head;
    size_t count;
    uint64_t base_seq;
} st_ring_t;

typedef struct st_state {
    st_index_t idx;
    st_ring_t ring;
    st_tree_t tree;    /* the live state again, for snapshots */
    st_snaps_t *snaps; /* the snapshot refs open on this state (snapshot.c) */
    int64_t rev;
    int64_t compact_rev;
    size_t size_bytes;
    size_t count;
} st_state_t;

struct tri_store {
    tri_store_opts_t opts;
    st_state_t st;
    tri_watch_t *watchers; /* doubly linked list */
    size_t n_watchers;
    int notify_depth; /* > 0 while watcher callbacks run: stops are deferred */
    bool stops_deferred;
};

/* ---- helpers shared by the files of store/ ---- */

int st_key_cmp(const void *a, size_t alen, const void *b, size_t blen);
/* key in [start, end), end_len == 0 meaning unbounded */
bool st_key_in_range(const void *k, size_t klen, const void *start, size_t start_len,
                     const void *end, size_t end_len);

/* index.c */
int st_index_init(st_index_t *idx);
void st_index_free(st_index_t *idx);
st_ent_t *st_index_find(const st_index_t *idx, const void *key, size_t len);
st_ent_t *st_index_seek(const st_index_t *idx, const void *key, size_t len);
st_ent_t *st_ent_new(st_index_t *idx, tri_val_t *key); /* takes the key reference */
void st_ent_free(st_ent_t *e);
void st_index_insert(st_index_t *idx, st_ent_t *e); /* e's key must be absent */
void st_index_remove(st_index_t *idx, st_ent_t *e);
/* Bulk load for restore: entries must come in strictly increasing key order. */
typedef struct st_appender {
    st_ent_t *last[ST_SKIP_LEVELS];
} st_appender_t;
void st_index_append_init(st_index_t *idx, st_appender_t *ap);
void st_index_append(st_index_t *idx, st_appender_t *ap, st_ent_t *e);
int st_ent_reserve(st_ent_t *e, uint32_t extra);
const st_ver_t *st_ent_at(const st_ent_t *e, int64_t rev); /* latest version <= rev */
const st_ver_t *st_ent_live(const st_ent_t *e);            /* NULL if deleted */
/* Drops versions no read after compact_rev can see; true if nothing is left. */
bool st_ent_compact(st_ent_t *e, int64_t compact_rev);

/* watch.c: ring and hub */
void st_ring_free(st_ring_t *r);
int st_ring_reserve(st_ring_t *r, size_t extra);
void st_ring_push(st_ring_t *r, const st_event_t *ev); /* capacity reserved */
st_event_t *st_ring_at(const st_ring_t *r, uint64_t seq);
static inline uint64_t st_ring_tail(const st_ring_t *r)
{
    return r->base_seq + r->count;
}
void st_watch_notify(tri_store_t *s, uint64_t first_seq);
void st_watch_close_all(tri_store_t *s);
void st_watch_free_all(tri_store_t *s);

/* tree.c. Updates never fail: on ENOMEM the tree is marked stale and rebuilt
 * from the skip list by the next snapshot ref. */
typedef struct st_tctx {
    st_snaps_t *hub;
    int64_t rev;    /* the revision being applied: born of every node made */
    int64_t pinned; /* newest open snapshot's revision, -1 if none */
} st_tctx_t;
void st_tree_put(st_tree_t *t, const st_tctx_t *c, const st_trec_t *rec);
void st_tree_del(st_tree_t *t, const st_tctx_t *c, const tri_val_t *key);
/* Builds t (empty) from the live entries of idx in key order. */
int st_tree_build(st_tree_t *t, const st_index_t *idx, int64_t rev);
/* Gives every node of t up (retired if a snapshot may see it, else freed). */
void st_tree_drop(st_tree_t *t, const st_tctx_t *c);
void st_node_free(st_node_t *n); /* one node; an inner node's separators unreffed */
/* In-order walk of a (frozen) subtree; stops at the first non-zero return. */
typedef int (*st_trec_fn)(void *ctx, const st_trec_t *rec);
int st_tree_walk(const st_node_t *n, st_trec_fn fn, void *ctx);

/* snapshot.c: the hub of the refs open on one state and of what left the live
 * state while they were open. */
int st_snaps_new(st_snaps_t **out);
int64_t st_snaps_pinned(const st_snaps_t *h); /* newest open ref's revision, or -1 */
void st_snaps_retire_node(st_snaps_t *h, st_node_t *n);
/* Blob retirement: the commit of a txn cannot fail, so prepare reserves room
 * for every blob its ops may retire; retire takes its own reference. */
int st_snaps_reserve(st_snaps_t *h, size_t n);
void st_snaps_retire_val(st_snaps_t *h, tri_val_t *v, int64_t born);
/* The state is being freed: if refs are still open on it, the hub takes its
 * contents over (freed with the last ref) and true is returned. */
bool st_snaps_adopt(st_snaps_t *h, st_state_t *st);
void st_snaps_free(st_snaps_t *h); /* no ref open */
/* Frees a bounded slice of what released refs left behind (after applies). */
void st_snaps_gc(st_snaps_t *h);

/* state lifecycle (store.c) */
int st_state_init(st_state_t *st);
void st_state_free(st_state_t *st);

/* txn.c */
int st_txn_validate(const tri_txn_t *txn);

#endif
