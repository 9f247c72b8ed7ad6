/* Snapshot behaviours: a 10k-key round trip; every sampled single-bit flip and
 * truncation refused with TRI_ECORRUPT with the store left untouched (and
 * semantically bad bodies under a valid checksum refused too); a ref taken
 * before mutations still encodes the old state; encoding on another thread
 * while the loop thread keeps applying. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
    printf("store_snapshot: ok\n");
    return 0;
}
