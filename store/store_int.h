/* Private structures of the MVCC store, shared by the files of store/ only.
 *
 * The state of a store (st_state_t) is an ordered index of key entries (a skip
 * list threaded through the entries themselves, plus a chained hash over the same
 * entries for point lookups), the ring of recent events that the watch hub reads,
 * and the counters (revision, compact revision, live size and count). Keeping it
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

/* state lifecycle (store.c) */
int st_state_init(st_state_t *st);
void st_state_free(st_state_t *st);

/* txn.c */
int st_txn_validate(const tri_txn_t *txn);

#endif
