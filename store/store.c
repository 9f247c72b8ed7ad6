/* The store: txn application, reads at any revision of the window, and the
 * compaction that keeps history exactly as long as the watch ring.
 *
 * A txn goes through four steps, and only the last one changes anything:
 *   1. validate its shape (keys, kinds, sizes) -> TRI_EINVAL;
 *   2. check every precondition against the live state -> TRI_EPRECOND;
 *   3. prepare: group the ops by key, find or allocate each key's entry, reserve
 *      one version slot per entry and one ring slot per op, copy the values into
 *      blobs, and compute the net size change -> TRI_ENOMEM / TRI_EQUOTA;
 *   4. commit at revision + 1: no allocation can fail here, so a txn is applied
 *      entirely or not at all.
 * Several ops on one key apply in order; each yields its own event, all with the
 * txn's revision, and the key keeps one version per revision (the last op's).
 * A txn that changes nothing (no ops, or deletes of absent keys) still takes the
 * next revision: the header promises one per successful txn.
 *
 * Quota rule: a txn containing any PUT is refused with TRI_EQUOTA if the store is
 * already over quota_bytes, or if the net effect of all its ops would leave it
 * over. Txns of deletes only are always accepted. The rule reads only the state
 * and the txn, never a clock, so every replica decides the same.
 *
 * Compaction is driven by the ring: when an event leaves the window (count or
 * age), the compact revision becomes its revision and that event's key drops the
 * versions no read after the compact revision can see. Events of one revision
 * leave together, so a revision is either fully readable or compacted. The work
 * is proportional to the events leaving, which keeps tri_store_compact_auto cheap
 * enough to run after every apply.
 *
 * Reads at a revision at or below the compact revision get TRI_ECOMPACTED, except
 * at the current revision, which is always readable (it is the live state; after
 * a quiet spell every event may have aged out of the ring).
 */
#include <stdlib.h>
#include <string.h>

#include "store_int.h"
#include "triarch/errors.h"
#include "triarch/log.h"

/* ---------- state lifecycle ---------- */

int st_state_init(st_state_t *st)
{
    memset(st, 0, sizeof(*st));
    if (st_index_init(&st->idx) != 0)
        return TRI_ENOMEM;
    if (st_snaps_new(&st->snaps) != 0) {
        st_index_free(&st->idx);
        return TRI_ENOMEM;
    }
    return 0;
}

void st_state_free(st_state_t *st)
{
    /* Open snapshot refs may still be reading it: then their hub frees it. */
    if (st->snaps != NULL && st_snaps_adopt(st->snaps, st)) {
        memset(st, 0, sizeof(*st));
        return;
    }
    st_tctx_t none = {.hub = st->snaps, .pinned = -1};
    st_tree_drop(&st->tree, &none);
    st_snaps_free(st->snaps);
    st_index_free(&st->idx);
    st_ring_free(&st->ring);
    memset(st, 0, sizeof(*st));
}

int tri_store_new(const tri_store_opts_t *opts, tri_store_t **out)
{
    *out = NULL;
    tri_store_t *s = calloc(1, sizeof(*s));
    if (s == NULL)
        return TRI_ENOMEM;
    if (opts != NULL)
        s->opts = *opts;
    if (s->opts.quota_bytes == 0)
        s->opts.quota_bytes = ST_DEFAULT_QUOTA;
    if (s->opts.history_events == 0)
        s->opts.history_events = ST_DEFAULT_HISTORY_EVENTS;
    if (s->opts.history_ms == 0)
        s->opts.history_ms = ST_DEFAULT_HISTORY_MS;
    if (s->opts.watcher_max_lag == 0)
        s->opts.watcher_max_lag = ST_DEFAULT_MAX_LAG;
    if (st_state_init(&s->st) != 0) {
        free(s);
        return TRI_ENOMEM;
    }
    /* The CRC table is built lazily on first use; build it here, on the loop
     * thread, so a snapshot encoder on another thread never races to build it. */
    (void)tri_crc32c(0, "", 0);
    *out = s;
    return 0;
}

void tri_store_free(tri_store_t *s)
{
    if (s == NULL)
        return;
    if (s->n_watchers > 0) {
        tri_error("store", "freed with watchers still running", "watchers=%zu", s->n_watchers);
        st_watch_free_all(s);
    }
    st_state_free(&s->st);
    free(s);
}

int64_t tri_store_revision(const tri_store_t *s)
{
    return s->st.rev;
}

int64_t tri_store_compact_revision(const tri_store_t *s)
{
    return s->st.compact_rev;
}

size_t tri_store_size_bytes(const tri_store_t *s)
{
    return s->st.size_bytes;
}

size_t tri_store_count(const tri_store_t *s)
{
    return s->st.count;
}

bool tri_store_alarm(const tri_store_t *s)
{
    return s->st.size_bytes > s->opts.quota_bytes;
}

/* ---------- compaction ---------- */

/* Events dropped for age by one tri_store_compact_auto call: after a quiet spell
 * the whole ring may expire at once, and the loop should not stall on it; the
 * owner's timer and the next applies finish the job in slices. */
#define ST_TRIM_AGE_BUDGET 4096u

static void st_compact_key(st_state_t *st, const tri_val_t *key)
{
    st_ent_t *e = st_index_find(&st->idx, key->data, key->len);
    if (e == NULL || !st_ent_compact(e, st->compact_rev))
        return;
    st_index_remove(&st->idx, e);
    st_ent_free(e);
}

/* Drops the oldest event; the caller decided it leaves the window. */
static void st_drop_head(st_state_t *st)
{
    st_ring_t *r = &st->ring;
    st_event_t ev = r->evs[r->head];
    r->head = (r->head + 1) & (r->cap - 1);
    r->count--;
    r->base_seq++;
    if (ev.rev > st->compact_rev)
        st->compact_rev = ev.rev;
    st_compact_key(st, ev.key);
    tri_val_unref(ev.key);
    tri_val_unref(ev.val);
    tri_val_unref(ev.prev);
}

static void st_trim(tri_store_t *s, bool by_age)
{
    st_state_t *st = &s->st;
    uint64_t now = by_age ? tri_now_ms() : 0;
    int64_t dropped = -1;
    size_t aged = 0;
    while (st->ring.count > 0) {
        const st_event_t *ev = &st->ring.evs[st->ring.head];
        bool old = by_age && aged < ST_TRIM_AGE_BUDGET && ev->ts_ms + s->opts.history_ms <= now;
        if (!old && ev->rev != dropped && st->ring.count <= s->opts.history_events)
            break;
        aged += old;
        dropped = ev->rev;
        st_drop_head(st);
    }
}

void tri_store_compact_auto(tri_store_t *s)
{
    st_trim(s, true);
    st_snaps_gc(s->st.snaps);
}

/* ---------- apply ---------- */

static int st_check_cmps(const st_state_t *st, const tri_txn_t *txn, tri_txn_result_t *res)
{
    for (size_t i = 0; i < txn->n_cmps; i++) {
        const tri_cmp_t *c = &txn->cmps[i];
        const st_ver_t *live = st_ent_live(st_index_find(&st->idx, c->key, c->key_len));
        bool ok = c->kind == TRI_CMP_EXISTS   ? live != NULL
                  : c->kind == TRI_CMP_ABSENT ? live == NULL
                                              : live != NULL && live->rev == c->mod_rev;
        if (!ok) {
            res->failed_cmp = (int)i;
            res->failed_mod_rev = live != NULL ? live->rev : 0;
            return TRI_EPRECOND;
        }
    }
    return 0;
}

/* What step 3 prepares for step 4; every array has n_ops slots. */
typedef struct st_prep {
    const tri_txn_t *txn;
    size_t *order;      /* op indices sorted by (key, index) */
    st_ent_t **ents;    /* entry per op (NULL: delete of a key never seen) */
    bool *fresh;        /* ents[i] is newly allocated and not yet in the index */
    tri_val_t **vals;   /* value blob per PUT */
    int64_t size_delta; /* net change of live keys + values bytes */
    bool has_put;
} st_prep_t;

static int st_op_order_cmp(const void *a, const void *b, void *arg)
{
    const tri_op_t *ops = arg;
    size_t i = *(const size_t *)a, j = *(const size_t *)b;
    int c = st_key_cmp(ops[i].key, ops[i].key_len, ops[j].key, ops[j].key_len);
    if (c != 0)
        return c;
    return (i > j) - (i < j);
}

static void st_prep_free(st_prep_t *p, bool keep_fresh)
{
    size_t n = p->txn->n_ops;
    for (size_t i = 0; p->vals != NULL && i < n; i++)
        tri_val_unref(p->vals[i]);
    for (size_t i = 0; !keep_fresh && p->fresh != NULL && i < n; i++)
        if (p->fresh[i])
            st_ent_free(p->ents[i]);
    free(p->order);
    free(p->ents);
    free(p->fresh);
    free(p->vals);
}

/* Finds or allocates the entry of one group of ops on the same key
 * (order[from..to)), reserves its version slot and adds the group's size change. */
static int st_prep_group(st_state_t *st, st_prep_t *p, size_t from, size_t to)
{
    const tri_op_t *ops = p->txn->ops;
    const tri_op_t *first = &ops[p->order[from]];
    st_ent_t *e = st_index_find(&st->idx, first->key, first->key_len);
    bool any_put = false;
    for (size_t k = from; k < to; k++)
        any_put |= ops[p->order[k]].kind == TRI_OP_PUT;
    bool fresh = false;
    if (e == NULL && any_put) {
        tri_val_t *key = tri_val_new(first->key, first->key_len);
        if (key == NULL || (e = st_ent_new(&st->idx, key)) == NULL) {
            tri_val_unref(key);
            return TRI_ENOMEM;
        }
        fresh = true;
    }
    if (e != NULL && st_ent_reserve(e, 1) != 0) {
        if (fresh)
            st_ent_free(e);
        return TRI_ENOMEM;
    }
    const st_ver_t *live = st_ent_live(e);
    int64_t size = live != NULL ? (int64_t)(e->key->len + live->val->len) : 0;
    int64_t before = size;
    for (size_t k = from; k < to; k++) {
        size_t i = p->order[k];
        p->ents[i] = e;
        p->fresh[i] = fresh && k == from; /* owned once, by the group's first op */
        if (ops[i].kind == TRI_OP_PUT)
            size = (int64_t)(ops[i].key_len + ops[i].val_len);
        else
            size = 0;
    }
    p->size_delta += size - before;
    return 0;
}

static int st_prepare(st_state_t *st, const tri_txn_t *txn, st_prep_t *p)
{
    size_t n = txn->n_ops;
    memset(p, 0, sizeof(*p));
    p->txn = txn;
    if (n == 0)
        return 0;
    p->order = malloc(n * sizeof(*p->order));
    p->ents = calloc(n, sizeof(*p->ents));
    p->fresh = calloc(n, sizeof(*p->fresh));
    p->vals = calloc(n, sizeof(*p->vals));
    if (p->order == NULL || p->ents == NULL || p->fresh == NULL || p->vals == NULL)
        return TRI_ENOMEM;
    for (size_t i = 0; i < n; i++)
        p->order[i] = i;
    qsort_r(p->order, n, sizeof(*p->order), st_op_order_cmp, (void *)txn->ops);
    for (size_t from = 0, to; from < n; from = to) {
        const tri_op_t *a = &txn->ops[p->order[from]];
        for (to = from + 1; to < n; to++) {
            const tri_op_t *b = &txn->ops[p->order[to]];
            if (st_key_cmp(a->key, a->key_len, b->key, b->key_len) != 0)
                break;
        }
        if (st_prep_group(st, p, from, to) != 0)
            return TRI_ENOMEM;
    }
    for (size_t i = 0; i < n; i++) {
        if (txn->ops[i].kind != TRI_OP_PUT)
            continue;
        p->has_put = true;
        if ((p->vals[i] = tri_val_new(txn->ops[i].val, txn->ops[i].val_len)) == NULL)
            return TRI_ENOMEM;
    }
    /* Each op retires at most a value and a key some snapshot ref may read. */
    if (st_snaps_reserve(st->snaps, 2 * n) != 0)
        return TRI_ENOMEM;
    return st_ring_reserve(&st->ring, n);
}

static int st_check_quota(const tri_store_t *s, const st_prep_t *p)
{
    if (!p->has_put)
        return 0;
    int64_t after = (int64_t)s->st.size_bytes + p->size_delta;
    if (tri_store_alarm(s) || after > (int64_t)s->opts.quota_bytes)
        return TRI_EQUOTA;
    return 0;
}

/* Sets the key's version at rev: a new one, or the one this txn already wrote. */
static void st_set_version(st_ent_t *e, const st_ver_t *v)
{
    if (e->n_vers > 0 && e->vers[e->n_vers - 1].rev == v->rev) {
        tri_val_unref(e->vers[e->n_vers - 1].val);
        e->vers[e->n_vers - 1] = *v;
        return;
    }
    e->vers[e->n_vers++] = *v; /* slot reserved by st_prep_group */
}

/* Keeps the snapshot view in step with one op, and the blobs it replaces
 * alive for the snapshot refs that may still encode them (snapshot.c). */
static void st_view_update(st_state_t *st, st_ent_t *e, const st_ver_t *live, const st_ver_t *v)
{
    st_tctx_t c = {.hub = st->snaps, .rev = st->rev, .pinned = st_snaps_pinned(st->snaps)};
    if (live != NULL && live->rev <= c.pinned)
        st_snaps_retire_val(st->snaps, live->val, live->rev);
    if (v == NULL) {
        if (live->create_rev <= c.pinned)
            st_snaps_retire_val(st->snaps, e->key, live->create_rev);
        st_tree_del(&st->tree, &c, e->key);
        return;
    }
    st_trec_t rec = {.key = e->key,
                     .val = v->val,
                     .create_rev = v->create_rev,
                     .mod_rev = v->rev,
                     .version = v->version};
    st_tree_put(&st->tree, &c, &rec);
}

static void st_commit_op(st_state_t *st, st_prep_t *p, size_t i, uint64_t now)
{
    const tri_op_t *op = &p->txn->ops[i];
    st_ent_t *e = p->ents[i];
    if (e == NULL)
        return; /* delete of a key that never existed: no-op */
    if (p->fresh[i]) {
        st_index_insert(&st->idx, e);
        p->fresh[i] = false;
    }
    const st_ver_t *live = st_ent_live(e);
    if (op->kind == TRI_OP_DELETE && live == NULL)
        return; /* deleting an absent key is a no-op: no version, no event */
    st_event_t ev = {.rev = st->rev, .key = tri_val_ref(e->key), .ts_ms = now};
    if (op->kind == TRI_OP_DELETE) {
        ev.kind = TRI_EV_DELETE;
        ev.prev = tri_val_ref(live->val);
        ev.create_rev = live->create_rev;
        st->size_bytes -= e->key->len + live->val->len;
        st->count--;
        st_view_update(st, e, live, NULL);
        st_ver_t tomb = {.rev = st->rev};
        st_set_version(e, &tomb);
    } else {
        st_ver_t v = {.rev = st->rev, .val = p->vals[i]};
        p->vals[i] = NULL; /* moved into the version */
        v.create_rev = live != NULL ? live->create_rev : st->rev;
        v.version = live != NULL ? live->version + 1 : 1;
        ev.kind = TRI_EV_PUT;
        ev.val = tri_val_ref(v.val);
        ev.prev = live != NULL ? tri_val_ref(live->val) : NULL;
        ev.create_rev = v.create_rev;
        ev.created = live == NULL;
        if (live != NULL)
            st->size_bytes -= e->key->len + live->val->len;
        else
            st->count++;
        st->size_bytes += e->key->len + v.val->len;
        st_view_update(st, e, live, &v);
        st_set_version(e, &v);
    }
    st_ring_push(&st->ring, &ev);
}

int tri_store_apply(tri_store_t *s, const tri_txn_t *txn, tri_txn_result_t *res)
{
    st_state_t *st = &s->st;
    *res = (tri_txn_result_t){.revision = st->rev, .failed_cmp = -1};
    int rc = st_txn_validate(txn);
    if (rc == 0)
        rc = st_check_cmps(st, txn, res);
    if (rc != 0)
        return res->status = rc;
    if (st->rev == INT64_MAX)
        return res->status = TRI_EINVAL; /* no revision left: refused on every replica */
    st_prep_t p;
    rc = st_prepare(st, txn, &p);
    if (rc == 0)
        rc = st_check_quota(s, &p);
    if (rc != 0) {
        st_prep_free(&p, false);
        return res->status = rc;
    }
    uint64_t first_seq = st_ring_tail(&st->ring);
    uint64_t now = tri_now_ms();
    st->rev++;
    for (size_t i = 0; i < txn->n_ops; i++)
        st_commit_op(st, &p, i, now);
    st_prep_free(&p, true);
    res->revision = st->rev;
    st_watch_notify(s, first_seq);
    st_trim(s, false);
    st_snaps_gc(st->snaps);
    return 0;
}

/* ---------- reads ---------- */

static int st_check_rev(const st_state_t *st, int64_t *rev)
{
    if (*rev == 0)
        *rev = st->rev;
    if (*rev > st->rev)
        return TRI_EFUTURE;
    if (*rev < 0 || (*rev <= st->compact_rev && *rev != st->rev))
        return TRI_ECOMPACTED;
    return 0;
}

static void st_fill_kv(const st_ent_t *e, const st_ver_t *v, tri_kv_t *out)
{
    out->key_ref = tri_val_ref(e->key);
    out->key = e->key->data;
    out->key_len = e->key->len;
    out->val = tri_val_ref(v->val);
    out->create_rev = v->create_rev;
    out->mod_rev = v->rev;
    out->version = v->version;
}

int tri_store_get(tri_store_t *s, const char *key, size_t key_len, int64_t rev, tri_kv_t *out)
{
    memset(out, 0, sizeof(*out));
    int rc = st_check_rev(&s->st, &rev);
    if (rc != 0)
        return rc;
    const st_ent_t *e = st_index_find(&s->st.idx, key, key_len);
    const st_ver_t *v = e != NULL ? st_ent_at(e, rev) : NULL;
    if (v == NULL || v->val == NULL)
        return TRI_ENOENT;
    st_fill_kv(e, v, out);
    return 0;
}

static int st_kvs_push(tri_kvs_t *kvs, const st_ent_t *e, const st_ver_t *v)
{
    if (kvs->n == kvs->cap) {
        size_t cap = kvs->cap ? kvs->cap * 2 : 16;
        tri_kv_t *items = realloc(kvs->items, cap * sizeof(*items));
        if (items == NULL)
            return TRI_ENOMEM;
        kvs->items = items;
        kvs->cap = cap;
    }
    st_fill_kv(e, v, &kvs->items[kvs->n++]);
    return 0;
}

static bool st_before_end(const st_ent_t *e, const char *end, size_t end_len)
{
    return end_len == 0 || st_key_cmp(e->key->data, e->key->len, end, end_len) < 0;
}

int tri_store_range(tri_store_t *s, const char *start, size_t start_len, const char *end,
                    size_t end_len, int64_t rev, size_t limit, tri_kvs_t *kvs, bool *more)
{
    if (more != NULL)
        *more = false;
    int rc = st_check_rev(&s->st, &rev);
    if (rc != 0)
        return rc;
    size_t got = 0;
    for (st_ent_t *e = st_index_seek(&s->st.idx, start, start_len);
         e != NULL && st_before_end(e, end, end_len); e = e->next[0]) {
        const st_ver_t *v = st_ent_at(e, rev);
        if (v == NULL || v->val == NULL)
            continue;
        if (limit > 0 && got == limit) {
            if (more != NULL)
                *more = true;
            break;
        }
        if ((rc = st_kvs_push(kvs, e, v)) != 0)
            return rc;
        got++;
    }
    return 0;
}

size_t tri_store_count_range(tri_store_t *s, const char *start, size_t start_len, const char *end,
                             size_t end_len)
{
    size_t n = 0;
    for (st_ent_t *e = st_index_seek(&s->st.idx, start, start_len);
         e != NULL && st_before_end(e, end, end_len); e = e->next[0])
        n += st_ent_live(e) != NULL;
    return n;
}
