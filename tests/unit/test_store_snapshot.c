/* Snapshot behaviours: a 10k-key round trip; every sampled single-bit flip and
 * truncation refused with TRI_ECORRUPT with the store left untouched (and
 * semantically bad bodies under a valid checksum refused too); a ref taken
 * before mutations still encodes the old state; encoding on another thread
 * while the loop thread keeps applying: overwrites, deletes, re-creations,
 * several ops on one key per txn and compaction of the replaced versions, with
 * one ref and with several open at once, released in any order, before or
 * after their encode; refs outliving a restore and the store itself; the
 * snapshot view through splits, merges and emptying (checked against the
 * store after every slice of a random workload), and rebuilt after a failed
 * update while an older ref still reads the old one. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../store/store_int.h" /* white box: to mark the view stale */
#include "check.h"
#include "triarch/errors.h"
#include "triarch/store.h"

static void put(tri_store_t *s, const char *k, const char *v)
{
    tri_op_t o = {
        .kind = TRI_OP_PUT, .key = k, .key_len = strlen(k), .val = v, .val_len = strlen(v)};
    tri_txn_t t = {.ops = &o, .n_ops = 1};
    tri_txn_result_t r;
    CHECK_EQ(tri_store_apply(s, &t, &r), 0);
}

static void del(tri_store_t *s, const char *k)
{
    tri_op_t o = {.kind = TRI_OP_DELETE, .key = k, .key_len = strlen(k)};
    tri_txn_t t = {.ops = &o, .n_ops = 1};
    tri_txn_result_t r;
    CHECK_EQ(tri_store_apply(s, &t, &r), 0);
}

static void pod_key(char *out, int i)
{
    snprintf(out, 64, "/registry/pods/ns-%d/pod-%05d", i % 7, i);
}

static void pod_val(char *out, int i, int gen)
{
    snprintf(out, 256,
             "{\"kind\":\"Pod\",\"apiVersion\":\"v1\",\"metadata\":{\"name\":\"pod-%05d\","
             "\"namespace\":\"ns-%d\",\"generation\":%d},\"spec\":{\"nodeName\":\"node-%d\"}}",
             i, i % 7, gen, i % 13);
}

static tri_store_t *fill(int n, size_t history)
{
    tri_store_opts_t o = {.history_events = history};
    tri_store_t *s;
    CHECK_EQ(tri_store_new(&o, &s), 0);
    char k[64], v[256];
    for (int i = 0; i < n; i++) {
        pod_key(k, i);
        pod_val(v, i, 1);
        put(s, k, v);
    }
    return s;
}

static void encode(tri_store_t *s, tri_buf_t *out)
{
    tri_snap_ref_t *ref;
    CHECK_EQ(tri_store_snap_ref(s, &ref), 0);
    CHECK_EQ(tri_snap_encode(ref, out), 0);
    tri_snap_ref_free(ref);
}

/* The whole live state must match, field by field. */
static void check_same(tri_store_t *a, const tri_kvs_t *want, int64_t rev)
{
    tri_kvs_t got = {0};
    CHECK_EQ(tri_store_range(a, "", 0, "", 0, 0, 0, &got, NULL), 0);
    CHECK_EQ(tri_store_revision(a), rev);
    CHECK_EQ(got.n, want->n);
    for (size_t i = 0; i < got.n; i++) {
        const tri_kv_t *x = &got.items[i], *y = &want->items[i];
        CHECK(x->key_len == y->key_len && memcmp(x->key, y->key, x->key_len) == 0);
        CHECK(x->val->len == y->val->len && memcmp(x->val->data, y->val->data, x->val->len) == 0);
        CHECK_EQ(x->create_rev, y->create_rev);
        CHECK_EQ(x->mod_rev, y->mod_rev);
        CHECK_EQ(x->version, y->version);
    }
    tri_kvs_free(&got);
}

static void test_roundtrip_10k(void)
{
    tri_store_t *s = fill(10000, 0);
    char k[64], v[256];
    for (int i = 0; i < 10000; i += 3) { /* some versions > 1, some deletions */
        pod_key(k, i);
        pod_val(v, i, 2);
        put(s, k, v);
    }
    for (int i = 1; i < 10000; i += 10) {
        pod_key(k, i);
        del(s, k);
    }
    tri_kvs_t want = {0};
    CHECK_EQ(tri_store_range(s, "", 0, "", 0, 0, 0, &want, NULL), 0);
    tri_buf_t snap = {0};
    encode(s, &snap);
    CHECK(memcmp(snap.data, "TRISNAP1", 8) == 0);
    int64_t rev;
    size_t count;
    CHECK_EQ(tri_snap_verify(snap.data, snap.len, &rev, &count), 0);
    CHECK_EQ(rev, tri_store_revision(s));
    CHECK_EQ(count, 9000);
    tri_store_t *t;
    CHECK_EQ(tri_store_new(NULL, &t), 0);
    put(t, "/stale", "gone after restore");
    CHECK_EQ(tri_store_restore(t, snap.data, snap.len), 0);
    check_same(t, &want, rev);
    CHECK_EQ(tri_store_size_bytes(t), tri_store_size_bytes(s));
    CHECK_EQ(tri_store_count(t), 9000);
    CHECK(snap.len < tri_store_size_bytes(s) / 2); /* lz4 did compress the JSON */
    /* An encode of the restored store is byte-identical. */
    tri_buf_t again = {0};
    encode(t, &again);
    CHECK(again.len == snap.len && memcmp(again.data, snap.data, snap.len) == 0);
    tri_buf_free(&again);
    tri_kvs_free(&want);
    tri_buf_free(&snap);
    tri_store_free(t);
    tri_store_free(s);
}

/* A store with state, a watcher, and a probe that must not change. */
static void check_untouched(tri_store_t *t, tri_watch_t *w, int64_t rev, size_t count)
{
    CHECK_EQ(tri_store_revision(t), rev);
    CHECK_EQ(tri_store_count(t), count);
    tri_kv_t kv;
    CHECK_EQ(tri_store_get(t, "/mine", 5, 0, &kv), 0);
    tri_kv_release(&kv);
    tri_event_t ev;
    CHECK_EQ(tri_watch_next(w, &ev), 0); /* not closed */
}

static void test_corruption_refused(void)
{
    tri_store_t *s = fill(1500, 0);
    tri_buf_t snap = {0};
    encode(s, &snap);
    tri_store_free(s);

    tri_store_t *t;
    CHECK_EQ(tri_store_new(NULL, &t), 0);
    put(t, "/mine", "keep");
    tri_watch_t *w;
    CHECK_EQ(tri_store_watch(t, "", 0, "", 0, 1, NULL, NULL, &w), 0);
    int64_t rev = tri_store_revision(t);
    size_t count = tri_store_count(t);
    /* Every bit of the header and trailer, then sampled positions of the body. */
    size_t step = snap.len / 400 + 1, flips = 0;
    for (size_t pos = 0; pos < snap.len; pos += (pos < 40 || pos + 8 > snap.len) ? 1 : step) {
        for (int bit = 0; bit < 8; bit += (pos < 40 ? 1 : 3)) {
            snap.data[pos] ^= (char)(1 << bit);
            CHECK_EQ(tri_snap_verify(snap.data, snap.len, NULL, NULL), TRI_ECORRUPT);
            CHECK_EQ(tri_store_restore(t, snap.data, snap.len), TRI_ECORRUPT);
            snap.data[pos] ^= (char)(1 << bit);
            flips++;
        }
    }
    check_untouched(t, w, rev, count);
    for (size_t n = 0; n < snap.len; n += (n < 64 ? 1 : step))
        CHECK_EQ(tri_store_restore(t, snap.data, n), TRI_ECORRUPT);
    CHECK_EQ(tri_store_restore(t, snap.data, snap.len - 1), TRI_ECORRUPT);
    check_untouched(t, w, rev, count);
    CHECK(flips > 400);
    CHECK_EQ(tri_snap_verify(snap.data, snap.len, NULL, NULL), 0); /* all restored */
    tri_watch_stop(w);
    tri_buf_free(&snap);
    tri_store_free(t);
}

static void reseal(tri_buf_t *b)
{
    uint32_t crc = tri_crc32c(0, b->data, b->len - 4);
    for (int i = 0; i < 4; i++)
        b->data[b->len - 4 + (size_t)i] = (char)(crc >> (8 * i));
}

/* Past the checksum (a buggy writer, not a flipped bit): still refused. */
static void test_bad_content_with_valid_crc(void)
{
    tri_store_t *s = fill(50, 0);
    tri_buf_t snap = {0};
    encode(s, &snap);
    tri_store_free(s);
    tri_store_t *t;
    CHECK_EQ(tri_store_new(NULL, &t), 0);
    struct {
        size_t off;
        char val;
    } edits[] = {
        {8, 2},    /* format version 2 */
        {20, 51},  /* key count 51 instead of 50 */
        {12, 10},  /* revision 10 < the records' mod_revs */
        {28, 1},   /* raw length off */
        {36, 0},   /* first chunk's raw length changed */
        {44, 0x7f} /* first compressed byte */
    };
    for (size_t i = 0; i < sizeof(edits) / sizeof(edits[0]); i++) {
        char old = snap.data[edits[i].off];
        snap.data[edits[i].off] = edits[i].val == old ? (char)(old + 1) : edits[i].val;
        reseal(&snap);
        CHECK_EQ(tri_snap_verify(snap.data, snap.len, NULL, NULL), TRI_ECORRUPT);
        CHECK_EQ(tri_store_restore(t, snap.data, snap.len), TRI_ECORRUPT);
        snap.data[edits[i].off] = old;
        reseal(&snap);
    }
    CHECK_EQ(tri_store_revision(t), 0);
    CHECK_EQ(tri_store_restore(t, snap.data, snap.len), 0);
    CHECK_EQ(tri_store_count(t), 50);
    tri_buf_free(&snap);
    tri_store_free(t);
}

static void test_ref_then_mutate(void)
{
    tri_store_t *s = fill(2000, 100); /* small window: old values get trimmed */
    tri_kvs_t want = {0};
    CHECK_EQ(tri_store_range(s, "", 0, "", 0, 0, 0, &want, NULL), 0);
    int64_t rev = tri_store_revision(s);
    tri_snap_ref_t *ref;
    CHECK_EQ(tri_store_snap_ref(s, &ref), 0);
    char k[64], v[256];
    for (int i = 0; i < 2000; i++) {
        pod_key(k, i);
        if (i % 2 == 0) {
            pod_val(v, i, 9);
            put(s, k, v);
        } else {
            del(s, k);
        }
    }
    put(s, "/new", "x");
    tri_buf_t snap = {0};
    CHECK_EQ(tri_snap_encode(ref, &snap), 0);
    CHECK_EQ(tri_snap_ref_revision(ref), rev);
    tri_snap_ref_free(ref);
    tri_store_t *t;
    CHECK_EQ(tri_store_new(NULL, &t), 0);
    CHECK_EQ(tri_store_restore(t, snap.data, snap.len), 0);
    check_same(t, &want, rev);
    tri_kvs_free(&want);
    tri_buf_free(&snap);
    tri_store_free(t);
    tri_store_free(s);
}

typedef struct {
    const tri_snap_ref_t *ref;
    tri_buf_t out;
    int rc;
} enc_job_t;

static void *encode_thread(void *arg)
{
    enc_job_t *job = arg;
    job->rc = tri_snap_encode(job->ref, &job->out);
    return NULL;
}

static void test_encode_on_thread(void)
{
    tri_store_t *s = fill(5000, 500);
    tri_kvs_t want = {0};
    CHECK_EQ(tri_store_range(s, "", 0, "", 0, 0, 0, &want, NULL), 0);
    int64_t rev = tri_store_revision(s);
    enc_job_t job = {0};
    tri_snap_ref_t *ref;
    CHECK_EQ(tri_store_snap_ref(s, &ref), 0);
    job.ref = ref;
    pthread_t th;
    CHECK_EQ(pthread_create(&th, NULL, encode_thread, &job), 0);
    /* The loop thread goes on: overwrites, deletes, ring trims, new keys. */
    char k[64], v[256];
    for (int round = 0; round < 3; round++)
        for (int i = round; i < 5000; i += 3) {
            pod_key(k, i);
            pod_val(v, i, 10 + round);
            if (i % 5 == 0)
                del(s, k);
            else
                put(s, k, v);
        }
    CHECK_EQ(pthread_join(th, NULL), 0);
    CHECK_EQ(job.rc, 0);
    tri_snap_ref_free(ref); /* on the loop thread */
    tri_store_t *t;
    CHECK_EQ(tri_store_new(NULL, &t), 0);
    CHECK_EQ(tri_store_restore(t, job.out.data, job.out.len), 0);
    check_same(t, &want, rev);
    tri_kvs_free(&want);
    tri_buf_free(&job.out);
    tri_store_free(t);
    tri_store_free(s);
}

/* ---- concurrent encoders ---- */

/* An encoder thread that encodes its ref `reps` times; every result must be
 * byte-identical (the ref's state does not move while the loop applies). */
typedef struct {
    const tri_snap_ref_t *ref;
    int reps;
    tri_buf_t out;
    int rc;
    bool differed;
    volatile int done; /* set with __atomic_store_n when the thread ends */
} rep_job_t;

static void *rep_thread(void *arg)
{
    rep_job_t *job = arg;
    for (int i = 0; i < job->reps && job->rc == 0; i++) {
        tri_buf_t b = {0};
        job->rc = tri_snap_encode(job->ref, &b);
        if (i == 0)
            job->out = b;
        else {
            job->differed |= b.len != job->out.len || memcmp(b.data, job->out.data, b.len) != 0;
            tri_buf_free(&b);
        }
    }
    __atomic_store_n(&job->done, 1, __ATOMIC_RELEASE);
    return NULL;
}

static void start_job(rep_job_t *job, const tri_snap_ref_t *ref, int reps, pthread_t *th)
{
    memset(job, 0, sizeof(*job));
    job->ref = ref;
    job->reps = reps;
    CHECK_EQ(pthread_create(th, NULL, rep_thread, job), 0);
}

/* Joins the job and checks its snapshot decodes to exactly want at rev. */
static void finish_job(rep_job_t *job, pthread_t th, const tri_kvs_t *want, int64_t rev)
{
    CHECK_EQ(pthread_join(th, NULL), 0);
    CHECK_EQ(job->rc, 0);
    CHECK(!job->differed);
    tri_store_t *t;
    CHECK_EQ(tri_store_new(NULL, &t), 0);
    CHECK_EQ(tri_store_restore(t, job->out.data, job->out.len), 0);
    check_same(t, want, rev);
    tri_store_free(t);
    tri_buf_free(&job->out);
}

/* One txn of churn over keys [0, n): overwrite, delete, re-create, and now and
 * then several ops on one key (put, delete, put) in one txn. */
static void churn_txn(tri_store_t *s, unsigned *rng, int n, int gen)
{
    char k[64], v1[256], v2[256];
    *rng = *rng * 1103515245u + 12345u;
    int i = (int)((*rng >> 8) % (unsigned)n);
    pod_key(k, i);
    pod_val(v1, i, gen);
    pod_val(v2, i, gen + 1);
    unsigned kind = (*rng >> 24) % 8;
    tri_op_t ops[3] = {
        {.kind = TRI_OP_PUT, .key = k, .key_len = strlen(k), .val = v1, .val_len = strlen(v1)},
        {.kind = TRI_OP_DELETE, .key = k, .key_len = strlen(k)},
        {.kind = TRI_OP_PUT, .key = k, .key_len = strlen(k), .val = v2, .val_len = strlen(v2)},
    };
    tri_txn_t t = {.ops = kind < 5 ? &ops[0] : kind < 7 ? &ops[1] : ops, .n_ops = kind < 7 ? 1 : 3};
    tri_txn_result_t r;
    CHECK_EQ(tri_store_apply(s, &t, &r), 0);
    tri_store_compact_auto(s);
}

/* Churns until the job is done (at least min txns, at most a bound). */
static int churn_while(tri_store_t *s, unsigned *rng, int n, rep_job_t *job, int min)
{
    int done = 0;
    for (; done < 200000; done++) {
        if (done >= min && __atomic_load_n(&job->done, __ATOMIC_ACQUIRE))
            break;
        churn_txn(s, rng, n, 100 + done);
    }
    return done;
}

/* The live state as private copies: holding the store's own blobs would keep
 * them alive and hide a blob freed under the encoder. */
static void copy_state(tri_store_t *s, tri_kvs_t *want)
{
    memset(want, 0, sizeof(*want));
    CHECK_EQ(tri_store_range(s, "", 0, "", 0, 0, 0, want, NULL), 0);
    for (size_t i = 0; i < want->n; i++) {
        tri_kv_t *kv = &want->items[i];
        tri_val_t *k = tri_val_new(kv->key, kv->key_len);
        tri_val_t *v = tri_val_new(kv->val->data, kv->val->len);
        CHECK(k != NULL && v != NULL);
        tri_kv_release(kv);
        kv->key_ref = k;
        kv->key = k->data;
        kv->key_len = k->len;
        kv->val = v;
    }
}

static void snapshot_state(tri_store_t *s, tri_kvs_t *want, int64_t *rev, tri_snap_ref_t **ref)
{
    copy_state(s, want);
    *rev = tri_store_revision(s);
    CHECK_EQ(tri_store_snap_ref(s, ref), 0);
    CHECK_EQ(tri_snap_ref_revision(*ref), *rev);
}

/* The brief's case: thousands of puts, deletes and overwrites of the very keys
 * the ref holds, and compaction of their old versions (history of 64 events),
 * while the encoder runs; the snapshot is exactly the state at the ref. Under
 * ASan a blob freed under the encoder would be a use-after-free. */
static void test_churn_while_encoding(void)
{
    tri_store_t *s = fill(3000, 64);
    unsigned rng = 7;
    tri_kvs_t want;
    int64_t rev;
    tri_snap_ref_t *ref;
    snapshot_state(s, &want, &rev, &ref);
    rep_job_t job;
    pthread_t th;
    start_job(&job, ref, 4, &th);
    int n = churn_while(s, &rng, 3000, &job, 5000);
    CHECK(n >= 5000);
    finish_job(&job, th, &want, rev);
    CHECK(tri_store_compact_revision(s) > rev); /* what the ref saw was compacted */
    /* The same ref encodes the same state after yet more churn, now unthreaded. */
    for (int i = 0; i < 2000; i++)
        churn_txn(s, &rng, 3000, 9000 + i);
    start_job(&job, ref, 1, &th);
    finish_job(&job, th, &want, rev);
    tri_snap_ref_free(ref);
    tri_kvs_free(&want);
    /* A ref taken now sees the churned state. */
    snapshot_state(s, &want, &rev, &ref);
    start_job(&job, ref, 1, &th);
    finish_job(&job, th, &want, rev);
    tri_snap_ref_free(ref);
    tri_kvs_free(&want);
    tri_store_free(s);
}

/* Three refs at three revisions, encoded concurrently with churn, released
 * out of order (middle, oldest, newest), some before others are encoded. */
static void test_several_refs_open(void)
{
    tri_store_t *s = fill(2000, 64);
    unsigned rng = 11;
    tri_kvs_t want[3];
    int64_t rev[3];
    tri_snap_ref_t *ref[3];
    for (int r = 0; r < 3; r++) {
        snapshot_state(s, &want[r], &rev[r], &ref[r]);
        for (int i = 0; i < 1500; i++)
            churn_txn(s, &rng, 2000, 1000 * r + i);
    }
    CHECK(rev[0] < rev[1] && rev[1] < rev[2]);
    rep_job_t job[3];
    pthread_t th[3];
    start_job(&job[1], ref[1], 2, &th[1]);
    churn_while(s, &rng, 2000, &job[1], 1000);
    finish_job(&job[1], th[1], &want[1], rev[1]);
    tri_snap_ref_free(ref[1]); /* the middle one goes first */
    start_job(&job[0], ref[0], 2, &th[0]);
    start_job(&job[2], ref[2], 2, &th[2]);
    churn_while(s, &rng, 2000, &job[0], 1000);
    churn_while(s, &rng, 2000, &job[2], 0);
    finish_job(&job[0], th[0], &want[0], rev[0]);
    finish_job(&job[2], th[2], &want[2], rev[2]);
    tri_snap_ref_free(ref[0]);
    for (int i = 0; i < 1000; i++) /* ref 2 alone, still valid */
        churn_txn(s, &rng, 2000, 50000 + i);
    start_job(&job[2], ref[2], 1, &th[2]);
    finish_job(&job[2], th[2], &want[2], rev[2]);
    tri_snap_ref_free(ref[2]);
    for (int r = 0; r < 3; r++)
        tri_kvs_free(&want[r]);
    tri_store_free(s);
}

/* A ref released without ever being encoded, and one released before another
 * ref's encode starts; the garbage they leave is freed (LeakSanitizer). */
static void test_release_before_encode(void)
{
    tri_store_t *s = fill(1500, 64);
    unsigned rng = 3;
    tri_snap_ref_t *unused;
    CHECK_EQ(tri_store_snap_ref(s, &unused), 0);
    for (int i = 0; i < 3000; i++)
        churn_txn(s, &rng, 1500, i);
    tri_kvs_t want;
    int64_t rev;
    tri_snap_ref_t *ref;
    snapshot_state(s, &want, &rev, &ref);
    for (int i = 0; i < 3000; i++)
        churn_txn(s, &rng, 1500, 4000 + i);
    tri_snap_ref_free(unused);
    rep_job_t job;
    pthread_t th;
    start_job(&job, ref, 2, &th);
    churn_while(s, &rng, 1500, &job, 500);
    finish_job(&job, th, &want, rev);
    tri_snap_ref_free(ref);
    tri_kvs_free(&want);
    tri_store_free(s);
}

/* A restore replaces the state under an open ref; freeing the store leaves
 * another ref open: both still encode what they saw. */
static void test_refs_outlive_state(void)
{
    tri_store_t *s = fill(1000, 64);
    tri_kvs_t want;
    int64_t rev;
    tri_snap_ref_t *ref;
    snapshot_state(s, &want, &rev, &ref);
    tri_store_t *other = fill(10, 0);
    tri_buf_t small = {0};
    encode(other, &small);
    tri_store_free(other);
    CHECK_EQ(tri_store_restore(s, small.data, small.len), 0);
    CHECK_EQ(tri_store_count(s), 10);
    rep_job_t job;
    pthread_t th;
    start_job(&job, ref, 1, &th);
    unsigned rng = 5;
    churn_while(s, &rng, 10, &job, 100); /* the restored state moves on */
    finish_job(&job, th, &want, rev);
    tri_snap_ref_free(ref); /* frees the old state */
    tri_kvs_free(&want);

    snapshot_state(s, &want, &rev, &ref);
    tri_store_free(s);
    start_job(&job, ref, 1, &th);
    finish_job(&job, th, &want, rev);
    tri_snap_ref_free(ref); /* frees the store's last state */
    tri_kvs_free(&want);
    tri_buf_free(&small);
}

/* After a failed update (ENOMEM in a commit, simulated by marking the view
 * stale) the view stops following the state; the next ref rebuilds it from
 * the skip list, retiring the old nodes an open ref still reads. Both refs
 * encode their own state while the loop churns on. */
static void test_rebuild_after_failed_update(void)
{
    tri_store_t *s = fill(3000, 64);
    unsigned rng = 13;
    for (int i = 0; i < 500; i++) /* some tombstones for the rebuild to skip */
        churn_txn(s, &rng, 3000, i);
    tri_kvs_t want[2];
    int64_t rev[2];
    tri_snap_ref_t *ref[2];
    snapshot_state(s, &want[0], &rev[0], &ref[0]);
    for (int i = 0; i < 500; i++)
        churn_txn(s, &rng, 3000, 1000 + i);
    s->st.tree.stale = true;
    for (int i = 0; i < 1500; i++)
        churn_txn(s, &rng, 3000, 2000 + i);
    snapshot_state(s, &want[1], &rev[1], &ref[1]);
    CHECK(!s->st.tree.stale);
    rep_job_t job[2];
    pthread_t th[2];
    start_job(&job[0], ref[0], 2, &th[0]);
    start_job(&job[1], ref[1], 2, &th[1]);
    churn_while(s, &rng, 3000, &job[0], 2000);
    churn_while(s, &rng, 3000, &job[1], 0);
    for (int r = 0; r < 2; r++) {
        finish_job(&job[r], th[r], &want[r], rev[r]);
        tri_snap_ref_free(ref[r]);
        tri_kvs_free(&want[r]);
    }
    tri_store_free(s);
}

/* The view through growth to several levels, splits (random and increasing
 * keys), deletes that empty and merge nodes, down to nothing and back, with a
 * ref open across some slices: every snapshot equals the live state. */
static void test_view_structure(void)
{
    tri_store_t *s;
    CHECK_EQ(tri_store_new(&(tri_store_opts_t){.history_events = 32}, &s), 0);
    char k[64], v[256];
    unsigned rng = 1;
    tri_snap_ref_t *held = NULL;
    tri_kvs_t held_want = {0};
    int64_t held_rev = 0;
    for (int phase = 0; phase < 6; phase++) {
        int n = phase % 3 == 0 ? 20000 : 8000;
        for (int i = 0; i < n; i++) {
            rng = rng * 1103515245u + 12345u;
            int key = phase % 3 == 0 ? i : (int)((rng >> 8) % 20000);
            pod_key(k, key);
            if (phase % 3 == 2 || (phase % 3 == 1 && (rng >> 28) < 12)) {
                del(s, k);
            } else {
                pod_val(v, key, phase);
                put(s, k, v);
            }
            if (i % 2000 == 1999) {
                tri_buf_t snap = {0};
                tri_kvs_t want = {0};
                CHECK_EQ(tri_store_range(s, "", 0, "", 0, 0, 0, &want, NULL), 0);
                encode(s, &snap);
                tri_store_t *t;
                CHECK_EQ(tri_store_new(NULL, &t), 0);
                CHECK_EQ(tri_store_restore(t, snap.data, snap.len), 0);
                check_same(t, &want, tri_store_revision(s));
                tri_store_free(t);
                tri_buf_free(&snap);
                tri_kvs_free(&want);
            }
            if (i == n / 2) { /* swap the ref held across slices */
                if (held != NULL) {
                    rep_job_t job;
                    pthread_t th;
                    start_job(&job, held, 1, &th);
                    finish_job(&job, th, &held_want, held_rev);
                    tri_snap_ref_free(held);
                    tri_kvs_free(&held_want);
                }
                snapshot_state(s, &held_want, &held_rev, &held);
            }
        }
        if (phase % 3 == 2) { /* delete every key left */
            for (int key = 0; key < 20000; key++) {
                pod_key(k, key);
                del(s, k);
            }
            CHECK_EQ(tri_store_count(s), 0);
        }
    }
    tri_snap_ref_free(held);
    tri_kvs_free(&held_want);
    tri_store_free(s);
}

static void test_empty_and_large_values(void)
{
    tri_store_t *s;
    CHECK_EQ(tri_store_new(NULL, &s), 0);
    tri_buf_t snap = {0};
    encode(s, &snap); /* empty store at revision 0 */
    tri_store_t *t;
    CHECK_EQ(tri_store_new(NULL, &t), 0);
    CHECK_EQ(tri_store_restore(t, snap.data, snap.len), 0);
    CHECK_EQ(tri_store_count(t), 0);
    /* Values larger than a chunk, an empty value, and a 4 KiB key. */
    size_t big = (3u << 20) + 17;
    char *val = malloc(big + 1);
    for (size_t i = 0; i < big; i++)
        val[i] = (char)('a' + (i * 7919) % 26);
    val[big] = '\0';
    put(s, "/big1", val);
    put(s, "/big2", val);
    put(s, "/empty", "");
    char key[4097];
    memset(key, 'k', 4096);
    key[0] = '/';
    key[4096] = '\0';
    put(s, key, "long key");
    tri_buf_free(&snap);
    encode(s, &snap);
    CHECK_EQ(tri_store_restore(t, snap.data, snap.len), 0);
    CHECK_EQ(tri_store_count(t), 4);
    CHECK_EQ(tri_store_size_bytes(t), tri_store_size_bytes(s));
    tri_kv_t kv;
    CHECK_EQ(tri_store_get(t, "/big2", 5, 0, &kv), 0);
    CHECK(kv.val->len == big && memcmp(kv.val->data, val, big) == 0);
    tri_kv_release(&kv);
    free(val);
    tri_buf_free(&snap);
    tri_store_free(t);
    tri_store_free(s);
}

int main(void)
{
    test_roundtrip_10k();
    test_corruption_refused();
    test_bad_content_with_valid_crc();
    test_ref_then_mutate();
    test_encode_on_thread();
    test_empty_and_large_values();
    test_churn_while_encoding();
    test_several_refs_open();
    test_release_before_encode();
    test_refs_outlive_state();
    test_view_structure();
    test_rebuild_after_failed_update();
    printf("store_snapshot: ok\n");
    return 0;
}
