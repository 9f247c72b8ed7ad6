/* bench_store: figures of the MVCC store at Kubernetes-like scale.
 *
 *   puts/s        applying single-put txns of 1 KiB values over 100k keys
 *                 (decoded from the wire format first, as the Raft FSM does)
 *   range         reading all 100k keys at the latest revision
 *   snapshot      taking a ref, encoding it (lz4), its size, and restoring it
 *   memory        RSS (from /proc/self/statm) before and after loading
 *                 100k x 1 KiB, against the raw bytes of keys and values
 *
 * Values are JSON-like text with a random part, so lz4 sees realistic (not
 * trivially repetitive) input. Build Release for meaningful numbers. */
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

static int apply_put(tri_store_t *s, const char *k, const char *v, tri_buf_t *wire)
{
    tri_op_t op = {
        .kind = TRI_OP_PUT, .key = k, .key_len = strlen(k), .val = v, .val_len = BENCH_VAL};
    tri_txn_t txn = {.ops = &op, .n_ops = 1};
    tri_txn_decoded_t d;
    tri_txn_result_t res;
    tri_buf_reset(wire);
    if (tri_txn_encode(&txn, wire) != 0 || tri_txn_decode(wire->data, wire->len, &d) != 0)
        return TRI_EINVAL;
    int rc = tri_store_apply(s, &d.txn, &res);
    tri_txn_decoded_free(&d);
    tri_store_compact_auto(s);
    return rc;
}

static double secs_since(uint64_t t0)
{
    return (double)(tri_now_ns() - t0) / 1e9;
}

int main(void)
{
    char *v = malloc(BENCH_VAL);
    char k[64];
    unsigned rng = 42;
    tri_buf_t wire = {0};
    tri_store_t *s;
    if (v == NULL || tri_store_new(NULL, &s) != 0)
        return 1;
    size_t rss0 = rss_bytes(), raw = 0;

    uint64_t t0 = tri_now_ns();
    for (int i = 0; i < BENCH_KEYS; i++) {
        int kl = snprintf(k, sizeof(k), "/registry/configmaps/default/cm-%06d", i);
        make_val(v, &rng, i);
        if (apply_put(s, k, v, &wire) != 0)
            return 1;
        raw += (size_t)kl + BENCH_VAL;
    }
    double t_load = secs_since(t0);
    size_t rss1 = rss_bytes();
    printf("load      %d puts of %d B: %.2f s, %.0f puts/s\n", BENCH_KEYS, BENCH_VAL, t_load,
           BENCH_KEYS / t_load);
    printf("memory    raw %.1f MiB, rss before %.1f MiB, after %.1f MiB, delta %.1f MiB "
           "(%.2fx raw; ring holds %d events)\n",
           raw / 1048576.0, rss0 / 1048576.0, rss1 / 1048576.0, (rss1 - rss0) / 1048576.0,
           (double)(rss1 - rss0) / (double)raw, BENCH_KEYS);

    t0 = tri_now_ns();
    for (int i = 0; i < BENCH_UPDATES; i++) {
        snprintf(k, sizeof(k), "/registry/configmaps/default/cm-%06d", (i * 7919) % BENCH_KEYS);
        make_val(v, &rng, i);
        if (apply_put(s, k, v, &wire) != 0)
            return 1;
    }
    double t_upd = secs_since(t0);
    printf("update    %d puts over existing keys: %.2f s, %.0f puts/s (rss %.1f MiB with "
           "full history window)\n",
           BENCH_UPDATES, t_upd, BENCH_UPDATES / t_upd, rss_bytes() / 1048576.0);

    t0 = tri_now_ns();
    tri_kvs_t kvs = {0};
    bool more;
    if (tri_store_range(s, "", 0, "", 0, 0, 0, &kvs, &more) != 0 || kvs.n != BENCH_KEYS)
        return 1;
    double t_range = secs_since(t0);
    tri_kvs_free(&kvs);
    printf("range     %d keys at latest: %.1f ms\n", BENCH_KEYS, t_range * 1e3);

    t0 = tri_now_ns();
    tri_snap_ref_t *ref;
    if (tri_store_snap_ref(s, &ref) != 0)
        return 1;
    double t_ref = secs_since(t0);
    tri_buf_t snap = {0};
    t0 = tri_now_ns();
    if (tri_snap_encode(ref, &snap) != 0)
        return 1;
    double t_enc = secs_since(t0);
    tri_snap_ref_free(ref);
    printf("snapshot  ref %.1f ms, encode %.1f ms, size %.1f MiB (%.0f%% of raw)\n", t_ref * 1e3,
           t_enc * 1e3, snap.len / 1048576.0, 100.0 * (double)snap.len / (double)raw);

    tri_store_t *r;
    if (tri_store_new(NULL, &r) != 0)
        return 1;
    t0 = tri_now_ns();
    if (tri_store_restore(r, snap.data, snap.len) != 0 || tri_store_count(r) != BENCH_KEYS)
        return 1;
    printf("restore   %.1f ms (verify + decode + build index)\n", secs_since(t0) * 1e3);
    tri_store_free(r);
    tri_buf_free(&snap);
    tri_buf_free(&wire);
    tri_store_free(s);
    free(v);
    return 0;
}
