/* Randomized model test: thousands of random txns go to the store and to a
 * trivially correct model (flat arrays, linear scans, full history kept), and
 * every answer is compared: txn results, full state, ranges and gets at past
 * revisions, limit pagination, counts, the event streams of watchers started at
 * random revisions (replay, then live; in order, no gap, no duplicate), callback
 * edges, ESLOW exactly when a cursor left the ring, snapshot -> restore into a
 * fresh store, and a restore over the live store midway.
 *
 * TRI_SEED=<n> replays a run; the seed is printed on failure. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "triarch/errors.h"
#include "triarch/store.h"

static unsigned long long g_seed;
static int g_step;

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr,                                                                        \
                    "%s:%d: expected %s (seed %llu, step %d; rerun with "                          \
                    "TRI_SEED=%llu)\n",                                                            \
                    __FILE__, __LINE__, #cond, g_seed, g_step, g_seed);                            \
            exit(1);                                                                               \
        }                                                                                          \
    } while (0)
#define CHECK_EQ(a, b)                                                                             \
    do {                                                                                           \
        long long a_ = (long long)(a), b_ = (long long)(b);                                        \
        if (a_ != b_) {                                                                            \
            fprintf(stderr,                                                                        \
                    "%s:%d: expected %s == %s, got %lld vs %lld (seed %llu, step "                 \
                    "%d)\n",                                                                       \
                    __FILE__, __LINE__, #a, #b, a_, b_, g_seed, g_step);                           \
            exit(1);                                                                               \
        }                                                                                          \
    } while (0)

#define NK 12       /* key space */
#define STEPS 20000 /* txns per run */
#define HISTORY 150 /* events in the window: small, so compaction happens a lot */
#define QUOTA 230   /* bytes: hit now and then by random puts */
#define NW 5        /* concurrent watchers */
#define MAXV (STEPS * 4 + 16)

/* ---- deterministic random ---- */
static unsigned long long g_rng;
static unsigned rnd(unsigned n)
{
    g_rng ^= g_rng << 13;
    g_rng ^= g_rng >> 7;
    g_rng ^= g_rng << 17;
    return (unsigned)(g_rng % n);
}

/* ---- keys and values ---- */
static char g_keys[NK][16];
static int g_sorted[NK]; /* key indices in byte order */

static int key_cmp_idx(const void *a, const void *b)
{
    return strcmp(g_keys[*(const int *)a], g_keys[*(const int *)b]);
}

static void keys_init(void)
{
    for (int i = 0; i < NK; i++) {
        snprintf(g_keys[i], sizeof(g_keys[i]), "/%c/%d", 'a' + i % 3, i);
        g_sorted[i] = i;
    }
    qsort(g_sorted, NK, sizeof(int), key_cmp_idx);
}

/* A value is an id; its bytes are a pure function of the id. */
static void val_str(int id, char *out)
{
    int n = snprintf(out, 48, "v%d-", id);
    int pad = id % 23;
    memset(out + n, 'x', (size_t)pad);
    out[n + pad] = '\0';
}

static size_t val_len(int id)
{
    char b[48];
    val_str(id, b);
    return strlen(b);
}

/* ---- the model ---- */
typedef struct {
    int key;
    long long rev;
    int val; /* -1: tombstone */
    long long create_rev, version;
} mver_t;

typedef struct {
    int kind;
    long long rev;
    int key, val, prev; /* -1: none */
    long long create_rev;
    int created;
} mev_t;

typedef struct {
    mver_t *vers;
    int nvers;
    mev_t *evs;
    int nevs;
    int first_ev; /* events before it left the ring */
    long long rev, compact_rev;
} model_t;

static const mver_t *m_at(const model_t *m, int key, long long rev)
{
    for (int i = m->nvers - 1; i >= 0; i--)
        if (m->vers[i].key == key && m->vers[i].rev <= rev)
            return m->vers[i].val >= 0 ? &m->vers[i] : NULL;
    return NULL;
}

static size_t m_size(const model_t *m)
{
    size_t n = 0;
    for (int k = 0; k < NK; k++) {
        const mver_t *v = m_at(m, k, m->rev);
        if (v != NULL)
            n += strlen(g_keys[k]) + val_len(v->val);
    }
    return n;
}

/* Trims like the store: oldest first, whole revisions, down to HISTORY. */
static void m_trim(model_t *m)
{
    long long dropped = -1;
    while (m->first_ev < m->nevs &&
           (m->nevs - m->first_ev > HISTORY || m->evs[m->first_ev].rev == dropped)) {
        dropped = m->evs[m->first_ev].rev;
        if (dropped > m->compact_rev)
            m->compact_rev = dropped;
        m->first_ev++;
    }
}

typedef struct {
    int kind, key;
    long long mod_rev;
} gcmp_t;
typedef struct {
    int kind, key, val;
} gop_t;

static tri_txn_result_t m_apply(model_t *m, const gcmp_t *c, int nc, const gop_t *o, int no,
                                int invalid)
{
    tri_txn_result_t r = {.revision = m->rev, .failed_cmp = -1};
    if (invalid) {
        r.status = TRI_EINVAL;
        return r;
    }
    for (int i = 0; i < nc; i++) {
        const mver_t *v = m_at(m, c[i].key, m->rev);
        int ok = c[i].kind == TRI_CMP_EXISTS   ? v != NULL
                 : c[i].kind == TRI_CMP_ABSENT ? v == NULL
                                               : v != NULL && v->rev == c[i].mod_rev;
        if (!ok) {
            r.status = TRI_EPRECOND;
            r.failed_cmp = i;
            r.failed_mod_rev = v != NULL ? v->rev : 0;
            return r;
        }
    }
    int live[NK], has_put = 0;
    for (int k = 0; k < NK; k++) {
        const mver_t *v = m_at(m, k, m->rev);
        live[k] = v != NULL ? v->val : -1;
    }
    for (int i = 0; i < no; i++) {
        live[o[i].key] = o[i].kind == TRI_OP_PUT ? o[i].val : -1;
        has_put |= o[i].kind == TRI_OP_PUT;
    }
    size_t after = 0;
    for (int k = 0; k < NK; k++)
        if (live[k] >= 0)
            after += strlen(g_keys[k]) + val_len(live[k]);
    if (has_put && (m_size(m) > QUOTA || after > QUOTA)) {
        r.status = TRI_EQUOTA;
        return r;
    }
    m->rev++;
    for (int i = 0; i < no; i++) {
        const mver_t *cur = m_at(m, o[i].key, m->rev);
        mver_t cv = cur != NULL ? *cur : (mver_t){0};
        if (o[i].kind == TRI_OP_DELETE && cur == NULL)
            continue;
        mev_t ev = {.kind = o[i].kind == TRI_OP_PUT ? TRI_EV_PUT : TRI_EV_DELETE,
                    .rev = m->rev,
                    .key = o[i].key,
                    .val = -1,
                    .prev = cur != NULL ? cv.val : -1};
        mver_t nv = {.key = o[i].key, .rev = m->rev, .val = -1};
        if (o[i].kind == TRI_OP_PUT) {
            nv.val = ev.val = o[i].val;
            nv.create_rev = cur != NULL ? cv.create_rev : m->rev;
            nv.version = cur != NULL ? cv.version + 1 : 1;
            ev.created = cur == NULL;
            ev.create_rev = nv.create_rev;
        } else {
            ev.create_rev = cv.create_rev;
        }
        m->vers[m->nvers++] = nv;
        m->evs[m->nevs++] = ev;
    }
    m_trim(m);
    r.revision = m->rev;
    return r;
}

/* ---- comparisons ---- */

static void check_kv_val(const tri_kv_t *kv, int id)
{
    char b[48];
    val_str(id, b);
    CHECK(kv->val->len == strlen(b) && memcmp(kv->val->data, b, kv->val->len) == 0);
}

static int in_range(int key, const char *start, const char *end)
{
    return strcmp(g_keys[key], start) >= 0 && (end[0] == '\0' || strcmp(g_keys[key], end) < 0);
}

/* Range [start, end) at rev, paginated by limit (0: one page), against the model. */
static void check_range(tri_store_t *s, const model_t *m, const char *start, const char *end,
                        long long rev, size_t limit)
{
    int want[NK], nwant = 0;
    long long at = rev == 0 ? m->rev : rev;
    for (int i = 0; i < NK; i++)
        if (in_range(g_sorted[i], start, end) && m_at(m, g_sorted[i], at) != NULL)
            want[nwant++] = g_sorted[i];
    char from[32];
    size_t from_len = strlen(start);
    memcpy(from, start, from_len);
    int got = 0;
    bool more = true;
    for (int page = 0; more; page++) {
        CHECK(page <= NK);
        tri_kvs_t kvs = {0};
        int rc = tri_store_range(s, from, from_len, end, strlen(end), rev, limit, &kvs, &more);
        if (at <= m->compact_rev && at != m->rev) {
            CHECK_EQ(rc, TRI_ECOMPACTED);
            return;
        }
        CHECK_EQ(rc, 0);
        CHECK(limit == 0 || kvs.n <= limit);
        for (size_t i = 0; i < kvs.n; i++, got++) {
            CHECK(got < nwant);
            const tri_kv_t *kv = &kvs.items[i];
            const mver_t *v = m_at(m, want[got], at);
            CHECK(kv->key_len == strlen(g_keys[want[got]]));
            CHECK(memcmp(kv->key, g_keys[want[got]], kv->key_len) == 0);
            check_kv_val(kv, v->val);
            CHECK_EQ(kv->mod_rev, v->rev);
            CHECK_EQ(kv->create_rev, v->create_rev);
            CHECK_EQ(kv->version, v->version);
        }
        CHECK(more == (got < nwant));
        if (kvs.n > 0) {
            const tri_kv_t *last = &kvs.items[kvs.n - 1];
            memcpy(from, last->key, last->key_len);
            from[last->key_len] = '\0';
            from_len = last->key_len + 1;
        }
        tri_kvs_free(&kvs);
    }
    CHECK_EQ(got, nwant);
}

static void check_get(tri_store_t *s, const model_t *m, int key, long long rev)
{
    tri_kv_t kv;
    int rc = tri_store_get(s, g_keys[key], strlen(g_keys[key]), rev, &kv);
    long long at = rev == 0 ? m->rev : rev;
    if (at > m->rev) {
        CHECK_EQ(rc, TRI_EFUTURE);
        return;
    }
    if (at <= m->compact_rev && at != m->rev) {
        CHECK_EQ(rc, TRI_ECOMPACTED);
        return;
    }
    const mver_t *v = m_at(m, key, at);
    if (v == NULL) {
        CHECK_EQ(rc, TRI_ENOENT);
        return;
    }
    CHECK_EQ(rc, 0);
    check_kv_val(&kv, v->val);
    CHECK_EQ(kv.mod_rev, v->rev);
    CHECK_EQ(kv.version, v->version);
    tri_kv_release(&kv);
}

static void check_state(tri_store_t *s, const model_t *m)
{
    CHECK_EQ(tri_store_revision(s), m->rev);
    CHECK_EQ(tri_store_compact_revision(s), m->compact_rev);
    CHECK_EQ(tri_store_size_bytes(s), m_size(m));
    size_t n = 0;
    for (int k = 0; k < NK; k++)
        n += m_at(m, k, m->rev) != NULL;
    CHECK_EQ(tri_store_count(s), n);
    CHECK_EQ(tri_store_count_range(s, "", 0, "", 0), n);
    check_range(s, m, "", "", 0, 0);
}

/* ---- watchers against the model ---- */

typedef struct {
    tri_watch_t *w;
    char start[16], end[16];
    int pos;       /* model event index the watcher examines next */
    int cb_calls;  /* counted by the callback */
    int cb_expect; /* what the model says it should be */
} mwatch_t;

static void on_event(tri_watch_t *w, void *data)
{
    (void)w;
    ((mwatch_t *)data)->cb_calls++;
}

static void pick_range(char *start, char *end)
{
    switch (rnd(4)) {
    case 0:
        start[0] = end[0] = '\0';
        break;
    case 1: /* a prefix */
        snprintf(start, 16, "/%c/", 'a' + rnd(3));
        tri_prefix_end(start, strlen(start), end);
        end[strlen(start)] = '\0';
        break;
    case 2: /* a single key */
        snprintf(start, 16, "%s", g_keys[rnd(NK)]);
        snprintf(end, 16, "%s", start);
        end[strlen(start) + 1] = '\0'; /* start + "\0" as an end: only start */
        end[strlen(start)] = '\x01';
        break;
    default: /* between two keys */
        snprintf(start, 16, "%s", g_keys[g_sorted[rnd(NK / 2)]]);
        snprintf(end, 16, "%s", g_keys[g_sorted[NK / 2 + rnd(NK / 2)]]);
    }
}

static void watch_start(tri_store_t *s, const model_t *m, mwatch_t *mw)
{
    pick_range(mw->start, mw->end);
    long long after = m->compact_rev + rnd((unsigned)(m->rev - m->compact_rev + 1));
    int rc = tri_store_watch(s, mw->start, strlen(mw->start), mw->end, strlen(mw->end), after,
                             on_event, mw, &mw->w);
    CHECK_EQ(rc, 0);
    mw->pos = m->first_ev;
    while (mw->pos < m->nevs && m->evs[mw->pos].rev <= after)
        mw->pos++;
    mw->cb_calls = mw->cb_expect = 0;
    if (m->compact_rev > 0) { /* one revision too old: refused */
        tri_watch_t *old;
        CHECK_EQ(tri_store_watch(s, "", 0, "", 0, m->compact_rev - 1, NULL, NULL, &old),
                 TRI_ECOMPACTED);
    }
}

static void check_event(const tri_event_t *ev, const mev_t *me)
{
    char b[48];
    CHECK_EQ(ev->kind, me->kind);
    CHECK_EQ(ev->revision, me->rev);
    CHECK_EQ(ev->mod_rev, me->rev);
    CHECK_EQ(ev->create_rev, me->create_rev);
    CHECK_EQ(ev->created, me->created);
    CHECK(ev->key->len == strlen(g_keys[me->key]));
    CHECK(memcmp(ev->key->data, g_keys[me->key], ev->key->len) == 0);
    if (me->val >= 0) {
        val_str(me->val, b);
        CHECK(ev->val != NULL && ev->val->len == strlen(b));
        CHECK(memcmp(ev->val->data, b, ev->val->len) == 0);
    } else {
        CHECK(ev->val == NULL);
    }
    if (me->prev >= 0) {
        val_str(me->prev, b);
        CHECK(ev->prev != NULL && ev->prev->len == strlen(b));
        CHECK(memcmp(ev->prev->data, b, ev->prev->len) == 0);
    } else {
        CHECK(ev->prev == NULL);
    }
}

/* Drains up to budget events; returns false when the watcher was closed. */
static bool watch_drain(const model_t *m, mwatch_t *mw, int budget)
{
    for (int i = 0; i < budget; i++) {
        tri_event_t ev;
        int rc = tri_watch_next(mw->w, &ev);
        if (mw->pos < m->first_ev) { /* its cursor left the ring */
            CHECK_EQ(rc, TRI_ESLOW);
            return false;
        }
        while (mw->pos < m->nevs && !in_range(m->evs[mw->pos].key, mw->start, mw->end))
            mw->pos++;
        if (mw->pos == m->nevs) {
            CHECK_EQ(rc, 0);
            CHECK_EQ(tri_watch_progress(mw->w), m->rev);
            return true;
        }
        CHECK_EQ(rc, 1);
        check_event(&ev, &m->evs[mw->pos]);
        mw->pos++;
        CHECK(tri_watch_progress(mw->w) >= ev.revision - 1);
    }
    return true;
}

/* After a successful apply that added model events [from, nevs): expected edges. */
static void expect_edges(const model_t *m, mwatch_t *ws, int from)
{
    for (int j = 0; j < NW; j++)
        for (int e = from; e < m->nevs; e++)
            if (in_range(m->evs[e].key, ws[j].start, ws[j].end)) {
                ws[j].cb_expect++;
                break;
            }
}

/* ---- snapshot ---- */

static void snapshot_roundtrip(tri_store_t *s, const model_t *m, tri_buf_t *snap)
{
    tri_snap_ref_t *ref;
    CHECK_EQ(tri_store_snap_ref(s, &ref), 0);
    CHECK_EQ(tri_snap_ref_revision(ref), m->rev);
    snap->len = 0;
    CHECK_EQ(tri_snap_encode(ref, snap), 0);
    tri_snap_ref_free(ref);
    int64_t rev;
    size_t count;
    CHECK_EQ(tri_snap_verify(snap->data, snap->len, &rev, &count), 0);
    CHECK_EQ(rev, m->rev);
    CHECK_EQ(count, tri_store_count(s));
    tri_store_t *fresh;
    CHECK_EQ(
        tri_store_new(&(tri_store_opts_t){.quota_bytes = QUOTA, .history_events = HISTORY}, &fresh),
        0);
    CHECK_EQ(tri_store_restore(fresh, snap->data, snap->len), 0);
    model_t view = *m;
    view.compact_rev = m->rev; /* a restored store has no history */
    check_state(fresh, &view);
    for (int k = 0; k < NK; k++)
        check_get(fresh, &view, k, 0);
    tri_store_free(fresh);
}

/* ---- the run ---- */

static void gen_txn(const model_t *m, gcmp_t *c, int *nc, gop_t *o, int *no, int *invalid)
{
    *nc = (int)rnd(3);
    for (int i = 0; i < *nc; i++) {
        c[i].kind = 1 + (int)rnd(3);
        c[i].key = (int)rnd(NK);
        const mver_t *v = m_at(m, c[i].key, m->rev);
        c[i].mod_rev = v != NULL && rnd(4) != 0 ? v->rev : (long long)rnd(8);
    }
    *no = 1 + (int)rnd(4);
    for (int i = 0; i < *no; i++) {
        o[i].kind = rnd(10) < 7 ? TRI_OP_PUT : TRI_OP_DELETE;
        o[i].key = (int)rnd(NK);
        o[i].val = (int)rnd(100000);
    }
    *invalid = rnd(100) == 0;
}

static void run(void)
{
    model_t m = {.vers = calloc(MAXV, sizeof(mver_t)), .evs = calloc(MAXV, sizeof(mev_t))};
    tri_store_t *s;
    tri_store_opts_t opts = {
        .quota_bytes = QUOTA, .history_events = HISTORY, .watcher_max_lag = 1000000};
    CHECK_EQ(tri_store_new(&opts, &s), 0);
    mwatch_t ws[NW];
    memset(ws, 0, sizeof(ws));
    for (int j = 0; j < NW; j++)
        watch_start(s, &m, &ws[j]);
    tri_buf_t snap = {0};
    int quota_hits = 0, slow = 0, replays = 0;
    for (g_step = 0; g_step < STEPS; g_step++) {
        gcmp_t c[3];
        gop_t o[4];
        int nc, no, invalid;
        gen_txn(&m, c, &nc, o, &no, &invalid);
        tri_cmp_t tc[3];
        tri_op_t to[4];
        char vb[4][48];
        for (int i = 0; i < nc; i++)
            tc[i] = (tri_cmp_t){.kind = c[i].kind,
                                .key = g_keys[c[i].key],
                                .key_len = strlen(g_keys[c[i].key]),
                                .mod_rev = c[i].mod_rev};
        for (int i = 0; i < no; i++) {
            val_str(o[i].val, vb[i]);
            to[i] = (tri_op_t){.kind = o[i].kind,
                               .key = g_keys[o[i].key],
                               .key_len = invalid && i == no - 1 ? 0 : strlen(g_keys[o[i].key]),
                               .val = vb[i],
                               .val_len = strlen(vb[i])};
        }
        /* Half the txns travel through the wire format, as they do in the log. */
        tri_txn_t txn = {.cmps = tc, .n_cmps = (size_t)nc, .ops = to, .n_ops = (size_t)no};
        tri_txn_result_t got, want;
        int from = m.nevs;
        want = m_apply(&m, c, nc, o, no, invalid);
        if (!invalid && rnd(2) == 0) {
            tri_buf_t b = {0};
            tri_txn_decoded_t d;
            CHECK_EQ(tri_txn_encode(&txn, &b), 0);
            CHECK_EQ(tri_txn_decode(b.data, b.len, &d), 0);
            tri_store_apply(s, &d.txn, &got);
            tri_txn_decoded_free(&d);
            tri_buf_free(&b);
        } else {
            tri_store_apply(s, &txn, &got);
        }
        CHECK_EQ(got.status, want.status);
        CHECK_EQ(got.revision, want.revision);
        CHECK_EQ(got.failed_cmp, want.failed_cmp);
        CHECK_EQ(got.failed_mod_rev, want.failed_mod_rev);
        quota_hits += got.status == TRI_EQUOTA;
        if (got.status == 0)
            expect_edges(&m, ws, from);
        for (int j = 0; j < NW; j++) {
            CHECK_EQ(ws[j].cb_calls, ws[j].cb_expect);
            if (rnd(100) < 30 && !watch_drain(&m, &ws[j], 1 + (int)rnd(20))) {
                slow++;
                tri_watch_stop(ws[j].w);
                watch_start(s, &m, &ws[j]);
                replays++;
            } else if (rnd(500) == 0) { /* stop mid-stream, restart in the past */
                tri_watch_stop(ws[j].w);
                watch_start(s, &m, &ws[j]);
                replays++;
            }
        }
        if (g_step % 40 == 0) {
            check_state(s, &m);
            long long past = m.compact_rev + rnd((unsigned)(m.rev - m.compact_rev + 1));
            char st[16], en[16];
            pick_range(st, en);
            check_range(s, &m, st, en, past, rnd(4));
            check_range(s, &m, "", "", past > 2 ? past - 2 : 0, 1 + rnd(5));
            for (int k = 0; k < NK; k++)
                check_get(s, &m, k, (long long)rnd((unsigned)m.rev + 2));
        }
        if (g_step % 1000 == 999)
            snapshot_roundtrip(s, &m, &snap);
        if (g_step == STEPS / 2) { /* restore over the live store: watchers close */
            snapshot_roundtrip(s, &m, &snap);
            CHECK_EQ(tri_store_restore(s, snap.data, snap.len), 0);
            m.compact_rev = m.rev;
            m.first_ev = m.nevs;
            for (int j = 0; j < NW; j++) {
                tri_event_t ev;
                CHECK_EQ(tri_watch_next(ws[j].w, &ev), TRI_ESLOW);
                tri_watch_stop(ws[j].w);
                watch_start(s, &m, &ws[j]);
            }
            check_state(s, &m);
        }
    }
    for (int j = 0; j < NW; j++) {
        watch_drain(&m, &ws[j], HISTORY + 10);
        tri_watch_stop(ws[j].w);
    }
    CHECK_EQ(tri_store_watcher_count(s), 0);
    /* The run must have exercised the interesting paths. */
    CHECK(quota_hits > 0);
    CHECK(slow > 0);
    CHECK(replays > 0);
    CHECK(m.compact_rev > 0);
    printf("store_model: seed %llu, %d txns, rev %lld, compact %lld, quota hits %d, slow "
           "watchers %d, restarts %d\n",
           g_seed, STEPS, m.rev, m.compact_rev, quota_hits, slow, replays);
    tri_buf_free(&snap);
    tri_store_free(s);
    free(m.vers);
    free(m.evs);
}

int main(void)
{
    const char *env = getenv("TRI_SEED");
    g_seed = env != NULL ? strtoull(env, NULL, 10) : (unsigned long long)time(NULL);
    g_rng = g_seed * 2654435761ull + 1;
    keys_init();
    run();
    return 0;
}
