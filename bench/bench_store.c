/* bench_store: figures of the MVCC store at Kubernetes-like scale.
 *
 *   puts/s        applying single-put txns of 1 KiB values over 100k keys
 *                 (decoded from the wire format first, as the Raft FSM does)
 *   range         reading all 100k keys at the latest revision
 *   snapshot      taking a ref and releasing it (the loop thread's cost: median
 *                 of SNAP_REPS pairs), encoding it (lz4), its size, restoring it
 *   snap+writes   a ref encoded on a pthread while the main thread (the "loop")
 *                 goes on with overwrites: puts/s meanwhile, the longest single
 *                 apply, the release of the ref afterwards and the
 *                 compact_auto calls that free what it left (in slices)
 *   memory        RSS (from /proc/self/statm) after loading, as is and after
 *                 malloc_trim (earlier phases leave freed memory in the
 *                 allocator), against the raw bytes of keys and values
 * The snapshot figures are taken at 100k keys and again after growing to 200k.
 *
 * Values are JSON-like text with a random part, so lz4 sees realistic (not
 * trivially repetitive) input. Build Release for meaningful numbers. */
#include <malloc.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "triarch/errors.h"
#include "triarch/store.h"
#include "triarch/util.h"

#define BENCH_KEYS 100000
#define BENCH_VAL 1024
/* Second pass of puts over existing keys: history and ring at full size. */
#define BENCH_UPDATES 100000
/* Ref + release pairs timed per size; the median is reported. */
#define SNAP_REPS 5
/* Overwrites applied while a ref is being encoded on another thread. */
#define SNAP_WRITES 20000
/* compact_auto calls timed after a release (enough to free what it left). */
#define GC_CALLS 400

typedef struct bench {
    tri_store_t *s;
    tri_buf_t wire;
    char *v;
    unsigned rng;
    size_t raw;
} bench_t;

static size_t rss_bytes(void)
{
    FILE *f = fopen("/proc/self/statm", "r");
    unsigned long size = 0, resident = 0;
    if (f == NULL)
        return 0;
    if (fscanf(f, "%lu %lu", &size, &resident) != 2)
        resident = 0;
    fclose(f);
    return resident * (size_t)sysconf(_SC_PAGESIZE);
}

static void make_val(char *v, unsigned *rng, int i)
{
    int n = snprintf(v, BENCH_VAL,
                     "{\"kind\":\"ConfigMap\",\"apiVersion\":\"v1\",\"metadata\":{\"name\":"
                     "\"cm-%06d\",\"namespace\":\"default\",\"resourceVersion\":\"%d\"},"
                     "\"data\":{\"blob\":\"",
                     i, i);
    for (; n < BENCH_VAL - 3; n++) {
        *rng = *rng * 1103515245u + 12345u;
        v[n] = (char)('a' + (*rng >> 16) % 26);
    }
    memcpy(v + n, "\"}}", 3);
}

static double secs_since(uint64_t t0)
{
    return (double)(tri_now_ns() - t0) / 1e9;
}

/* Puts key number i with a fresh value; returns the key length or -1. */
static int bench_put(bench_t *b, int i)
{
    char k[64];
    int kl = snprintf(k, sizeof(k), "/registry/configmaps/default/cm-%06d", i);
    make_val(b->v, &b->rng, i);
    tri_op_t op = {
        .kind = TRI_OP_PUT, .key = k, .key_len = (size_t)kl, .val = b->v, .val_len = BENCH_VAL};
    tri_txn_t txn = {.ops = &op, .n_ops = 1};
    tri_txn_decoded_t d;
    tri_txn_result_t res;
    tri_buf_reset(&b->wire);
    if (tri_txn_encode(&txn, &b->wire) != 0 || tri_txn_decode(b->wire.data, b->wire.len, &d) != 0)
        return -1;
    int rc = tri_store_apply(b->s, &d.txn, &res);
    tri_txn_decoded_free(&d);
    tri_store_compact_auto(b->s);
    return rc == 0 ? kl : -1;
}

static int load(bench_t *b, int from, int to)
{
    size_t rss0 = rss_bytes(), raw0 = b->raw;
    uint64_t t0 = tri_now_ns();
    for (int i = from; i < to; i++) {
        int kl = bench_put(b, i);
        if (kl < 0)
            return -1;
        b->raw += (size_t)kl + BENCH_VAL;
    }
    double t = secs_since(t0);
    size_t rss1 = rss_bytes();
    /* Earlier phases (a restored store, snapshot buffers) leave freed memory
     * the allocator keeps; trimming it shows what the store itself holds. */
    malloc_trim(0);
    size_t rss2 = rss_bytes();
    printf("load      %d new keys (%d..%d) of %d B: %.2f s, %.0f puts/s\n", to - from, from, to,
           BENCH_VAL, t, (to - from) / t);
    printf("memory    raw %.1f MiB total, rss %.1f MiB (+%.1f MiB for +%.1f MiB raw), "
           "%.1f MiB after malloc_trim; rss/raw %.2fx, trimmed %.2fx\n",
           b->raw / 1048576.0, rss1 / 1048576.0, ((double)rss1 - (double)rss0) / 1048576.0,
           (b->raw - raw0) / 1048576.0, rss2 / 1048576.0, (double)rss1 / (double)b->raw,
           (double)rss2 / (double)b->raw);
    return 0;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Loop-thread cost of a ref and of its release, with nothing applied between. */
static int snap_idle(bench_t *b, int keys)
{
    double t_ref[SNAP_REPS], t_free[SNAP_REPS];
    for (int i = 0; i < SNAP_REPS; i++) {
        tri_snap_ref_t *ref;
        uint64_t t0 = tri_now_ns();
        if (tri_store_snap_ref(b->s, &ref) != 0)
            return -1;
        t_ref[i] = secs_since(t0);
        t0 = tri_now_ns();
        tri_snap_ref_free(ref);
        t_free[i] = secs_since(t0);
    }
    qsort(t_ref, SNAP_REPS, sizeof(double), cmp_double);
    qsort(t_free, SNAP_REPS, sizeof(double), cmp_double);
    printf("snap      %d keys: ref %.1f us, release %.1f us (median of %d; max %.1f / %.1f)\n",
           keys, t_ref[SNAP_REPS / 2] * 1e6, t_free[SNAP_REPS / 2] * 1e6, SNAP_REPS,
           t_ref[SNAP_REPS - 1] * 1e6, t_free[SNAP_REPS - 1] * 1e6);
    return 0;
}

typedef struct enc_job {
    const tri_snap_ref_t *ref;
    tri_buf_t out;
    int rc;
    double secs;
} enc_job_t;

static void *enc_thread(void *arg)
{
    enc_job_t *job = arg;
    uint64_t t0 = tri_now_ns();
    job->rc = tri_snap_encode(job->ref, &job->out);
    job->secs = secs_since(t0);
    return NULL;
}

/* A ref encoded on a pthread while the main thread overwrites keys. */
static int snap_busy(bench_t *b, int keys, tri_buf_t *snap)
{
    tri_snap_ref_t *ref;
    uint64_t t0 = tri_now_ns();
    if (tri_store_snap_ref(b->s, &ref) != 0)
        return -1;
    double t_ref = secs_since(t0);
    enc_job_t job = {.ref = ref};
    pthread_t th;
    if (pthread_create(&th, NULL, enc_thread, &job) != 0)
        return -1;
    double worst = 0;
    t0 = tri_now_ns();
    for (int i = 0; i < SNAP_WRITES; i++) {
        uint64_t t1 = tri_now_ns();
        if (bench_put(b, (int)(((unsigned)i * 7919u) % (unsigned)keys)) < 0)
            return -1;
        double d = secs_since(t1);
        worst = d > worst ? d : worst;
    }
    double t_w = secs_since(t0);
    pthread_join(th, NULL);
    if (job.rc != 0)
        return -1;
    t0 = tri_now_ns();
    tri_snap_ref_free(ref);
    double t_free = secs_since(t0);
    /* What a release leaves is freed in slices by later applies and by the
     * owner's compact_auto timer: time those calls (no applies here). */
    double gc_max = 0, gc_sum = 0;
    for (int i = 0; i < GC_CALLS; i++) {
        uint64_t t1 = tri_now_ns();
        tri_store_compact_auto(b->s);
        double d = secs_since(t1);
        gc_sum += d;
        gc_max = d > gc_max ? d : gc_max;
    }
    printf("snap+w    %d keys: ref %.1f us, encode on a thread %.1f ms -> %.1f MiB; meanwhile "
           "%d puts at %.0f puts/s (slowest %.3f ms); release after them %.1f us; then %d "
           "compact_auto calls %.1f ms in all, slowest %.3f ms\n",
           keys, t_ref * 1e6, job.secs * 1e3, job.out.len / 1048576.0, SNAP_WRITES,
           SNAP_WRITES / t_w, worst * 1e3, t_free * 1e6, GC_CALLS, gc_sum * 1e3, gc_max * 1e3);
    *snap = job.out;
    return 0;
}

static int restore(const tri_buf_t *snap, int keys)
{
    tri_store_t *r;
    if (tri_store_new(NULL, &r) != 0)
        return -1;
    uint64_t t0 = tri_now_ns();
    if (tri_store_restore(r, snap->data, snap->len) != 0 || tri_store_count(r) != (size_t)keys)
        return -1;
    printf("restore   %d keys: %.1f ms (verify + decode + build index)\n", keys,
           secs_since(t0) * 1e3);
    tri_store_free(r);
    return 0;
}

static int snapshots(bench_t *b, int keys)
{
    tri_buf_t snap = {0};
    if (snap_idle(b, keys) != 0 || snap_busy(b, keys, &snap) != 0 || restore(&snap, keys) != 0)
        return -1;
    tri_buf_free(&snap);
    return 0;
}

int main(void)
{
    bench_t b = {.v = malloc(BENCH_VAL), .rng = 42};
    if (b.v == NULL || tri_store_new(NULL, &b.s) != 0)
        return 1;
    printf("rss before %.1f MiB\n", rss_bytes() / 1048576.0);
    if (load(&b, 0, BENCH_KEYS) != 0)
        return 1;

    uint64_t t0 = tri_now_ns();
    for (int i = 0; i < BENCH_UPDATES; i++)
        if (bench_put(&b, (i * 7919) % BENCH_KEYS) < 0)
            return 1;
    double t_upd = secs_since(t0);
    printf("update    %d puts over existing keys: %.2f s, %.0f puts/s (rss %.1f MiB with "
           "full history window)\n",
           BENCH_UPDATES, t_upd, BENCH_UPDATES / t_upd, rss_bytes() / 1048576.0);

    t0 = tri_now_ns();
    tri_kvs_t kvs = {0};
    bool more;
    if (tri_store_range(b.s, "", 0, "", 0, 0, 0, &kvs, &more) != 0 || kvs.n != BENCH_KEYS)
        return 1;
    double t_range = secs_since(t0);
    tri_kvs_free(&kvs);
    printf("range     %d keys at latest: %.1f ms\n", BENCH_KEYS, t_range * 1e3);

    if (snapshots(&b, BENCH_KEYS) != 0 || load(&b, BENCH_KEYS, 2 * BENCH_KEYS) != 0 ||
        snapshots(&b, 2 * BENCH_KEYS) != 0)
        return 1;
    tri_buf_free(&b.wire);
    tri_store_free(b.s);
    free(b.v);
    return 0;
}
