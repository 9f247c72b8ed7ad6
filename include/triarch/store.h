/* The MVCC key-value store: the state machine every replica holds.
 *
 * Keys and values are byte strings. One global revision counter: each txn that
 * applies successfully gets the next revision (a txn whose precondition fails
 * changes nothing and does not bump the revision, as in etcd). Every key carries
 * create_revision, mod_revision and version (number of puts since creation).
 *
 * History: the store keeps older versions of keys (and tombstones) back to its
 * compact revision, so ranges can be read "as of" any revision in the window, and
 * the watch hub keeps a ring of recent events over the same window. The window is
 * bounded by event count and age (tri_store_opts_t); when events leave the ring,
 * the store compacts history up to them. Reads and watches older than the window
 * get TRI_ECOMPACTED (Kubernetes 410 Gone).
 *
 * Values are immutable, reference-counted blobs (tri_val_t): a range, a watch
 * event and a snapshot share the same memory instead of copying it.
 *
 * Nothing here knows of Raft, Kubernetes or HTTP, and nothing here is thread-safe:
 * all calls from one thread (the loop thread), except tri_snap_encode(),
 * which may run on any thread on a tri_snap_ref_t taken on the loop thread.
 */
#ifndef TRIARCH_STORE_H
#define TRIARCH_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "triarch/util.h"

/* ---------- immutable refcounted blobs ---------- */

typedef struct tri_val {
    uint32_t refs;
    uint32_t len;
    char data[]; /* len bytes, followed by a NUL for convenience (not counted) */
} tri_val_t;

tri_val_t *tri_val_new(const void *p, size_t len); /* refs = 1; NULL on ENOMEM; p NULL: caller fills */
tri_val_t *tri_val_ref(tri_val_t *v);              /* NULL-safe */
void tri_val_unref(tri_val_t *v);                  /* NULL-safe */

/* ---------- transactions ---------- */

enum tri_cmp_kind {
    TRI_CMP_EXISTS = 1, /* key must exist (live, not deleted) */
    TRI_CMP_ABSENT = 2, /* key must not exist */
    TRI_CMP_MODREV = 3, /* key must exist with mod_revision == mod_rev */
};

typedef struct tri_cmp {
    enum tri_cmp_kind kind;
    const char *key;
    size_t key_len;
    int64_t mod_rev;
} tri_cmp_t;

enum tri_op_kind {
    TRI_OP_PUT = 1,
    TRI_OP_DELETE = 2, /* deleting an absent key is a no-op, not an error */
};

typedef struct tri_op {
    enum tri_op_kind kind;
    const char *key;
    size_t key_len;
    const char *val; /* PUT only */
    size_t val_len;
} tri_op_t;

typedef struct tri_txn {
    const tri_cmp_t *cmps;
    size_t n_cmps;
    const tri_op_t *ops;
    size_t n_ops;
} tri_txn_t;

typedef struct tri_txn_result {
    int status;       /* 0, TRI_EPRECOND, TRI_EQUOTA, TRI_EINVAL, TRI_ENOMEM */
    int64_t revision; /* the txn's revision if applied, else the store's current one */
    int failed_cmp;   /* index of the first failing precondition, -1 if none */
    /* For the failing precondition: the key's current mod_revision (0 if absent). */
    int64_t failed_mod_rev;
} tri_txn_result_t;

/* Serialise a txn into a self-describing byte string (for the Raft log and the
 * forwarding channel), and parse it back. A decoded txn points into `data`
 * (zero copy); free its arrays with tri_txn_decoded_free. Decoding validates
 * every length: malformed input gets TRI_EINVAL, never a crash. */
int tri_txn_encode(const tri_txn_t *txn, tri_buf_t *out);
typedef struct tri_txn_decoded {
    tri_txn_t txn;
    tri_cmp_t *cmps;
    tri_op_t *ops;
} tri_txn_decoded_t;
int tri_txn_decode(const void *data, size_t len, tri_txn_decoded_t *out);
void tri_txn_decoded_free(tri_txn_decoded_t *d);

/* ---------- the store ---------- */

typedef struct tri_store tri_store_t;

typedef struct tri_store_opts {
    size_t quota_bytes;        /* 0: default 2 GiB. Live keys + values over it: alarm */
    size_t history_events;     /* 0: default 100000. Watch ring / history window, events */
    uint64_t history_ms;       /* 0: default 300000 (5 min). Events older leave the ring */
    size_t watcher_max_lag;    /* 0: default 10000. A watcher further behind is closed */
} tri_store_opts_t;

int tri_store_new(const tri_store_opts_t *opts, tri_store_t **out);
void tri_store_free(tri_store_t *s); /* all watchers must be stopped first */

/* Apply a txn at the next revision: all preconditions checked first, then all ops,
 * all or nothing. Over quota, or when its net effect would take the store over, a
 * txn whose ops include any PUT gets TRI_EQUOTA (deletes-only txns are accepted,
 * so space can be freed). Deterministic: the same
 * sequence of txns gives the same state and results on every replica. */
int tri_store_apply(tri_store_t *s, const tri_txn_t *txn, tri_txn_result_t *res);

int64_t tri_store_revision(const tri_store_t *s);         /* last applied revision */
int64_t tri_store_compact_revision(const tri_store_t *s); /* oldest readable revision - 1 */
size_t tri_store_size_bytes(const tri_store_t *s);        /* live keys + values */
size_t tri_store_count(const tri_store_t *s);             /* live keys */
bool tri_store_alarm(const tri_store_t *s);               /* over quota */

/* Drop history and watch-ring events older than the window (count and age). Called
 * by the owner from a timer and after applies; cheap when there is nothing to do. */
void tri_store_compact_auto(tri_store_t *s);

/* A key-value as read. val is a reference owned by the caller (unref it). */
typedef struct tri_kv {
    const char *key;    /* == key_ref->data, valid while key_ref is held */
    size_t key_len;
    tri_val_t *key_ref; /* reference owned by the caller */
    tri_val_t *val;     /* reference owned by the caller */
    int64_t create_rev;
    int64_t mod_rev;
    int64_t version;
} tri_kv_t;

void tri_kv_release(tri_kv_t *kv); /* unrefs key_ref and val */

/* Point get at revision rev (0 = latest). TRI_ENOENT if absent at that revision,
 * TRI_ECOMPACTED if rev <= compact revision (except rev == current revision, which
 * is always readable), TRI_EFUTURE if rev > current. */
int tri_store_get(tri_store_t *s, const char *key, size_t key_len, int64_t rev, tri_kv_t *out);

/* Range over keys in [start, end) in byte order, as of revision rev (0 = latest),
 * at most limit results (0 = no limit). end_len == 0 means no upper bound; build
 * the end of a prefix range with tri_prefix_end(). *more is set when keys remain after the last returned one (the caller continues
 * from last key + "\0"). Results are appended to *kvs (caller frees with
 * tri_kvs_free). Errors as tri_store_get. */
typedef struct tri_kvs {
    tri_kv_t *items;
    size_t n;
    size_t cap;
} tri_kvs_t;
void tri_kvs_free(tri_kvs_t *kvs);

int tri_store_range(tri_store_t *s, const char *start, size_t start_len, const char *end,
                    size_t end_len, int64_t rev, size_t limit, tri_kvs_t *kvs, bool *more);

/* Count of live keys in [start, end) at the latest revision (for list remainingItemCount). */
size_t tri_store_count_range(tri_store_t *s, const char *start, size_t start_len,
                             const char *end, size_t end_len);

/* The exclusive end of the prefix range (prefix with its last byte incremented,
 * trailing 0xff dropped), into out. Returns its length (0 = unbounded). */
size_t tri_prefix_end(const char *prefix, size_t len, char *out);

/* ---------- watch hub ---------- */

enum tri_event_kind { TRI_EV_PUT = 1, TRI_EV_DELETE = 2 };

typedef struct tri_event {
    enum tri_event_kind kind;
    int64_t revision;   /* the txn's revision; several events may share one */
    tri_val_t *key;     /* borrowed: valid until the next tri_watch_next/stop call */
    tri_val_t *val;     /* PUT: the new value; DELETE: NULL */
    tri_val_t *prev;    /* the previous value (NULL if the key was created) */
    int64_t create_rev; /* of the key (PUT: after, DELETE: before) */
    int64_t mod_rev;    /* PUT: revision; DELETE: revision of the deletion */
    bool created;       /* PUT that created the key (version 1) */
} tri_event_t;

typedef struct tri_watch tri_watch_t;
/* Called (edge-triggered, from inside tri_store_apply) when events a watcher may
 * want were appended. The callback must not call tri_store_apply; it normally
 * schedules a drain with tri_watch_next. */
typedef void (*tri_watch_cb)(tri_watch_t *w, void *data);

/* Watch keys in [start, end) for events with revision > after_rev. Events already
 * in the ring are replayed first, then live ones follow, in revision order, with
 * no gap and no duplicate. TRI_ECOMPACTED if after_rev < compact revision (the ring
 * no longer holds every event after it); TRI_EFUTURE if after_rev > current. */
int tri_store_watch(tri_store_t *s, const char *start, size_t start_len, const char *end,
                    size_t end_len, int64_t after_rev, tri_watch_cb cb, void *data,
                    tri_watch_t **out);

/* Next event for this watcher: 1 with *ev filled, 0 when none is pending,
 * TRI_ESLOW when the watcher fell more than watcher_max_lag events behind or its
 * position left the ring (the caller ends the watch with 410 and the client
 * relists). */
int tri_watch_next(tri_watch_t *w, tri_event_t *ev);
/* The revision the watcher has seen everything up to (for bookmarks). */
int64_t tri_watch_progress(const tri_watch_t *w);
void tri_watch_stop(tri_watch_t *w);
size_t tri_store_watcher_count(const tri_store_t *s);

/* ---------- snapshots ---------- */

/* A point-in-time reference to the whole live state (loop thread), O(1): the
 * root of the store's copy-on-write tree of live records, no copying. Encoding
 * it can run on another thread while the store goes on applying; several refs
 * may be open at once. */
typedef struct tri_snap_ref tri_snap_ref_t;
int tri_store_snap_ref(tri_store_t *s, tri_snap_ref_t **out);
int64_t tri_snap_ref_revision(const tri_snap_ref_t *ref);
/* Encode, appending to out: header (magic "TRISNAP1", format version, revision,
 * count, raw size), lz4-compressed records, CRC-32C of everything before the
 * trailer. Thread-safe with respect to the store (touches only the ref). */
int tri_snap_encode(const tri_snap_ref_t *ref, tri_buf_t *out);
/* Release on the loop thread, O(1): what only the ref still needed is freed in
 * slices by later applies and tri_store_compact_auto calls. A ref may outlive
 * tri_store_restore and tri_store_free: it still encodes the state it was
 * taken at, and the last one frees that state. */
void tri_snap_ref_free(tri_snap_ref_t *ref);

/* Replace the whole store state with a snapshot's. Verifies magic, version, sizes
 * and checksum before touching anything: a corrupt snapshot gets TRI_ECORRUPT and
 * the store is left exactly as it was. Existing watchers are closed with TRI_ESLOW
 * (their position no longer means anything). */
int tri_store_restore(tri_store_t *s, const void *data, size_t len);
/* Verify a snapshot without loading it (for backups): revision and key count. */
int tri_snap_verify(const void *data, size_t len, int64_t *revision, size_t *count);

#endif
