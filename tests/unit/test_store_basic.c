/* Store basics: txn preconditions and all-or-nothing, revision rules, reads at
 * old revisions, range limits and continuation, prefix ends, compaction, the
 * quota alarm, and the txn wire format. Each function proves one behaviour. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "triarch/errors.h"
#include "triarch/store.h"

#define S(x) x, strlen(x)

static tri_op_t put(const char *k, const char *v)
{
    return (tri_op_t){
        .kind = TRI_OP_PUT, .key = k, .key_len = strlen(k), .val = v, .val_len = strlen(v)};
}

static tri_op_t del(const char *k)
{
    return (tri_op_t){.kind = TRI_OP_DELETE, .key = k, .key_len = strlen(k)};
}

static tri_cmp_t cmp(enum tri_cmp_kind kind, const char *k, int64_t rev)
{
    return (tri_cmp_t){.kind = kind, .key = k, .key_len = strlen(k), .mod_rev = rev};
}

static int apply(tri_store_t *s, const tri_cmp_t *c, size_t nc, const tri_op_t *o, size_t no,
                 tri_txn_result_t *res)
{
    tri_txn_t t = {.cmps = c, .n_cmps = nc, .ops = o, .n_ops = no};
    tri_txn_result_t r;
    int rc = tri_store_apply(s, &t, res != NULL ? res : &r);
    CHECK_EQ(rc, (res != NULL ? res : &r)->status);
    return rc;
}

static int put1(tri_store_t *s, const char *k, const char *v)
{
    tri_op_t o = put(k, v);
    return apply(s, NULL, 0, &o, 1, NULL);
}

static tri_store_t *mk(size_t quota, size_t history)
{
    tri_store_opts_t o = {.quota_bytes = quota, .history_events = history};
    tri_store_t *s;
    CHECK_EQ(tri_store_new(&o, &s), 0);
    return s;
}

/* Returns the value at rev as a static string, or an error code string. */
static int get_is(tri_store_t *s, const char *k, int64_t rev, const char *want)
{
    tri_kv_t kv;
    int rc = tri_store_get(s, k, strlen(k), rev, &kv);
    if (rc != 0)
        return rc;
    int ok = kv.val->len == strlen(want) && memcmp(kv.val->data, want, kv.val->len) == 0;
    tri_kv_release(&kv);
    return ok ? 0 : 1;
}

static void test_preconditions(void)
{
    tri_store_t *s = mk(0, 0);
    tri_txn_result_t res;
    CHECK_EQ(put1(s, "/a", "1"), 0);
    tri_cmp_t ok[] = {cmp(TRI_CMP_EXISTS, "/a", 0), cmp(TRI_CMP_ABSENT, "/b", 0),
                      cmp(TRI_CMP_MODREV, "/a", 1)};
    tri_op_t o = put("/b", "2");
    CHECK_EQ(apply(s, ok, 3, &o, 1, &res), 0);
    CHECK_EQ(res.revision, 2);
    CHECK_EQ(res.failed_cmp, -1);
    /* Second cmp fails: absent /b now exists at mod_rev 2. */
    tri_cmp_t bad[] = {cmp(TRI_CMP_EXISTS, "/a", 0), cmp(TRI_CMP_ABSENT, "/b", 0)};
    tri_op_t o2 = put("/c", "3");
    CHECK_EQ(apply(s, bad, 2, &o2, 1, &res), TRI_EPRECOND);
    CHECK_EQ(res.failed_cmp, 1);
    CHECK_EQ(res.failed_mod_rev, 2);
    CHECK_EQ(res.revision, 2);
    /* modrev mismatch and exists on an absent key report mod_rev 0 for absent. */
    tri_cmp_t mr = cmp(TRI_CMP_MODREV, "/a", 5);
    CHECK_EQ(apply(s, &mr, 1, &o2, 1, &res), TRI_EPRECOND);
    CHECK_EQ(res.failed_cmp, 0);
    CHECK_EQ(res.failed_mod_rev, 1);
    tri_cmp_t ex = cmp(TRI_CMP_EXISTS, "/zz", 0);
    CHECK_EQ(apply(s, &ex, 1, &o2, 1, &res), TRI_EPRECOND);
    CHECK_EQ(res.failed_mod_rev, 0);
    CHECK_EQ(tri_store_revision(s), 2);
    CHECK_EQ(get_is(s, "/c", 0, "3"), TRI_ENOENT);
    tri_store_free(s);
}

static void test_all_or_nothing_and_same_key_ops(void)
{
    tri_store_t *s = mk(0, 0);
    tri_txn_result_t res;
    /* An invalid op (empty key) after a valid one: nothing applies. */
    tri_op_t ops[] = {put("/x", "1"), {.kind = TRI_OP_PUT, .key = "", .key_len = 0}};
    CHECK_EQ(apply(s, NULL, 0, ops, 2, &res), TRI_EINVAL);
    CHECK_EQ(tri_store_revision(s), 0);
    CHECK_EQ(tri_store_count(s), 0);
    /* put then delete of the same key in one txn: deleted, two events, one rev. */
    tri_watch_t *w;
    CHECK_EQ(tri_store_watch(s, "", 0, "", 0, 0, NULL, NULL, &w), 0);
    tri_op_t pd[] = {put("/k", "v"), del("/k"), put("/j", "1"), put("/j", "2")};
    CHECK_EQ(apply(s, NULL, 0, pd, 4, &res), 0);
    CHECK_EQ(res.revision, 1);
    CHECK_EQ(get_is(s, "/k", 0, "v"), TRI_ENOENT);
    CHECK_EQ(get_is(s, "/j", 0, "2"), 0);
    tri_kv_t kv;
    CHECK_EQ(tri_store_get(s, S("/j"), 0, &kv), 0);
    CHECK_EQ(kv.version, 2);
    CHECK_EQ(kv.create_rev, 1);
    tri_kv_release(&kv);
    tri_event_t ev;
    int kinds[] = {TRI_EV_PUT, TRI_EV_DELETE, TRI_EV_PUT, TRI_EV_PUT};
    for (int i = 0; i < 4; i++) {
        CHECK_EQ(tri_watch_next(w, &ev), 1);
        CHECK_EQ(ev.kind, kinds[i]);
        CHECK_EQ(ev.revision, 1);
    }
    CHECK_EQ(tri_watch_next(w, &ev), 0);
    tri_watch_stop(w);
    CHECK_EQ(tri_store_count(s), 1);
    CHECK_EQ(tri_store_size_bytes(s), 3);
    tri_store_free(s);
}

static void test_revision_rules(void)
{
    tri_store_t *s = mk(0, 0);
    tri_txn_result_t res;
    CHECK_EQ(put1(s, "/a", "1"), 0);
    CHECK_EQ(put1(s, "/a", "2"), 0);
    /* A delete of an absent key applies (and takes a revision) with no event. */
    tri_op_t d = del("/none");
    CHECK_EQ(apply(s, NULL, 0, &d, 1, &res), 0);
    CHECK_EQ(res.revision, 3);
    tri_op_t da = del("/a");
    CHECK_EQ(apply(s, NULL, 0, &da, 1, &res), 0);
    CHECK_EQ(res.revision, 4);
    CHECK_EQ(put1(s, "/a", "3"), 0); /* recreated: version 1, new create_rev */
    tri_kv_t kv;
    CHECK_EQ(tri_store_get(s, S("/a"), 0, &kv), 0);
    CHECK_EQ(kv.create_rev, 5);
    CHECK_EQ(kv.mod_rev, 5);
    CHECK_EQ(kv.version, 1);
    tri_kv_release(&kv);
    CHECK_EQ(tri_store_get(s, S("/a"), 2, &kv), 0);
    CHECK_EQ(kv.create_rev, 1);
    CHECK_EQ(kv.mod_rev, 2);
    CHECK_EQ(kv.version, 2);
    tri_kv_release(&kv);
    CHECK_EQ(get_is(s, "/a", 1, "1"), 0);
    CHECK_EQ(get_is(s, "/a", 3, "2"), 0);
    CHECK_EQ(get_is(s, "/a", 4, "x"), TRI_ENOENT);
    CHECK_EQ(get_is(s, "/a", 6, "x"), TRI_EFUTURE);
    tri_store_free(s);
}

static void test_range_limit_and_continue(void)
{
    tri_store_t *s = mk(0, 0);
    char k[32];
    for (int i = 0; i < 10; i++) {
        snprintf(k, sizeof(k), "/p/%02d", i);
        CHECK_EQ(put1(s, k, "v"), 0);
    }
    CHECK_EQ(put1(s, "/q", "v"), 0);
    CHECK_EQ(put1(s, "/o", "v"), 0);
    tri_op_t d = del("/p/03");
    CHECK_EQ(apply(s, NULL, 0, &d, 1, NULL), 0);
    char end[8];
    size_t end_len = tri_prefix_end(S("/p/"), end);
    CHECK_EQ(tri_store_count_range(s, S("/p/"), end, end_len), 9);
    /* Pages of 4 at the current revision, continuing from last key + "\0". */
    char start[40] = "/p/";
    size_t start_len = 3, total = 0;
    int pages = 0;
    bool more = true;
    while (more) {
        tri_kvs_t kvs = {0};
        CHECK_EQ(tri_store_range(s, start, start_len, end, end_len, 0, 4, &kvs, &more), 0);
        CHECK(kvs.n <= 4);
        CHECK(more == (pages < 2));
        total += kvs.n;
        memcpy(start, kvs.items[kvs.n - 1].key, kvs.items[kvs.n - 1].key_len);
        start[kvs.items[kvs.n - 1].key_len] = '\0';
        start_len = kvs.items[kvs.n - 1].key_len + 1;
        tri_kvs_free(&kvs);
        pages++;
    }
    CHECK_EQ(pages, 3);
    CHECK_EQ(total, 9);
    /* At the old revision 10 (before /q, /o and the delete) the prefix has 10. */
    tri_kvs_t kvs = {0};
    CHECK_EQ(tri_store_range(s, S("/p/"), end, end_len, 10, 0, &kvs, &more), 0);
    CHECK_EQ(kvs.n, 10);
    CHECK(!more);
    CHECK(memcmp(kvs.items[3].key, "/p/03", 5) == 0);
    tri_kvs_free(&kvs);
    /* Exact limit: no more. Unbounded end: all 11 live keys from "". */
    CHECK_EQ(tri_store_range(s, S("/p/"), end, end_len, 0, 9, &kvs, &more), 0);
    CHECK(!more);
    tri_kvs_free(&kvs);
    CHECK_EQ(tri_store_range(s, "", 0, "", 0, 0, 0, &kvs, &more), 0);
    CHECK_EQ(kvs.n, 11);
    CHECK(memcmp(kvs.items[0].key, "/o", 2) == 0);
    tri_kvs_free(&kvs);
    tri_store_free(s);
}

static void test_prefix_end(void)
{
    char out[8];
    CHECK_EQ(tri_prefix_end(S("/a/"), out), 3);
    CHECK(memcmp(out, "/a0", 3) == 0);
    CHECK_EQ(tri_prefix_end("a\xff\xff", 3, out), 1);
    CHECK_EQ(out[0], 'b');
    CHECK_EQ(tri_prefix_end("\xff", 1, out), 0);
    CHECK_EQ(tri_prefix_end("", 0, out), 0);
}

static void test_compaction(void)
{
    tri_store_t *s = mk(0, 4); /* window of 4 events */
    for (int i = 1; i <= 6; i++) {
        char v[8];
        snprintf(v, sizeof(v), "%d", i);
        CHECK_EQ(put1(s, "/k", v), 0);
    }
    tri_op_t d = del("/gone");
    CHECK_EQ(put1(s, "/gone", "x"), 0);          /* rev 7 */
    CHECK_EQ(apply(s, NULL, 0, &d, 1, NULL), 0); /* rev 8 */
    /* 8 events, window 4: revisions 1..4 left, compact revision 4. */
    CHECK_EQ(tri_store_compact_revision(s), 4);
    CHECK_EQ(get_is(s, "/k", 4, "4"), TRI_ECOMPACTED);
    CHECK_EQ(get_is(s, "/k", 5, "5"), 0);
    tri_kvs_t kvs = {0};
    CHECK_EQ(tri_store_range(s, "", 0, "", 0, 3, 0, &kvs, NULL), TRI_ECOMPACTED);
    tri_watch_t *w;
    CHECK_EQ(tri_store_watch(s, "", 0, "", 0, 3, NULL, NULL, &w), TRI_ECOMPACTED);
    CHECK_EQ(tri_store_watch(s, "", 0, "", 0, 4, NULL, NULL, &w), 0);
    tri_watch_stop(w);
    /* Four more events push the tombstone of /gone out: the key disappears. */
    for (int i = 0; i < 4; i++)
        CHECK_EQ(put1(s, "/k", "z"), 0);
    CHECK_EQ(tri_store_compact_revision(s), 8);
    CHECK_EQ(get_is(s, "/gone", 0, "x"), TRI_ENOENT);
    CHECK_EQ(get_is(s, "/k", 9, "z"), 0);
    /* The current revision is readable even when it equals the compact one. */
    tri_store_opts_t o = {.history_ms = 1};
    tri_store_t *t;
    CHECK_EQ(tri_store_new(&o, &t), 0);
    CHECK_EQ(put1(t, "/a", "1"), 0);
    uint64_t until = tri_now_ms() + 20;
    while (tri_now_ms() < until)
        ;
    tri_store_compact_auto(t);
    CHECK_EQ(tri_store_compact_revision(t), 1);
    CHECK_EQ(get_is(t, "/a", 1, "1"), 0);
    tri_store_free(t);
    /* Age trimming works in slices of 4096 events per call, whole revisions. */
    CHECK_EQ(tri_store_new(&o, &t), 0);
    for (int i = 0; i < 5000; i++)
        CHECK_EQ(put1(t, "/b", "v"), 0);
    until = tri_now_ms() + 20;
    while (tri_now_ms() < until)
        ;
    tri_store_compact_auto(t);
    CHECK_EQ(tri_store_compact_revision(t), 4096);
    tri_store_compact_auto(t);
    CHECK_EQ(tri_store_compact_revision(t), 5000);
    tri_store_free(t);
    tri_store_free(s);
}

static void test_quota(void)
{
    tri_store_t *s = mk(100, 0);
    char big[61];
    memset(big, 'x', 60);
    big[60] = '\0';
    tri_txn_result_t res;
    CHECK_EQ(put1(s, "/a", big), 0); /* 62 bytes */
    /* Would go over: 62 + 42 > 100. */
    tri_op_t o = put("/b", "0123456789012345678901234567890123456789");
    CHECK_EQ(apply(s, NULL, 0, &o, 1, &res), TRI_EQUOTA);
    CHECK_EQ(res.revision, 1);
    /* The same PUT with a delete that frees room fits. */
    tri_op_t od[] = {o, del("/a")};
    CHECK_EQ(apply(s, NULL, 0, od, 2, &res), 0);
    CHECK_EQ(tri_store_size_bytes(s), 42);
    CHECK_EQ(put1(s, "/a", big), TRI_EQUOTA); /* 42 + 62 > 100 */
    CHECK(!tri_store_alarm(s));
    CHECK_EQ(tri_store_size_bytes(s), 42);
    tri_store_free(s);

    /* Over quota (quota lowered by restoring a larger snapshot): alarm raised,
     * PUTs refused even if they would shrink the store, deletes accepted, and
     * the alarm clears once below. */
    tri_store_t *big_s = mk(0, 0);
    CHECK_EQ(put1(big_s, "/a", big), 0);
    CHECK_EQ(put1(big_s, "/b", big), 0);
    tri_snap_ref_t *ref;
    tri_buf_t snap = {0};
    CHECK_EQ(tri_store_snap_ref(big_s, &ref), 0);
    CHECK_EQ(tri_snap_encode(ref, &snap), 0);
    tri_snap_ref_free(ref);
    tri_store_free(big_s);
    s = mk(100, 0);
    CHECK_EQ(tri_store_restore(s, snap.data, snap.len), 0);
    tri_buf_free(&snap);
    CHECK(tri_store_alarm(s));
    CHECK_EQ(put1(s, "/a", "small"), TRI_EQUOTA);
    tri_op_t da = del("/a");
    CHECK_EQ(apply(s, NULL, 0, &da, 1, &res), 0);
    CHECK(!tri_store_alarm(s));
    CHECK_EQ(put1(s, "/c", "small"), 0);
    tri_store_free(s);
}

static void test_txn_codec(void)
{
    tri_cmp_t c[] = {cmp(TRI_CMP_MODREV, "/a", 77), cmp(TRI_CMP_ABSENT, "/b", 0)};
    tri_op_t o[] = {put("/a", "value"), del("/b"), put("/c", "")};
    tri_txn_t t = {.cmps = c, .n_cmps = 2, .ops = o, .n_ops = 3};
    tri_buf_t b = {0};
    CHECK_EQ(tri_txn_encode(&t, &b), 0);
    tri_txn_decoded_t d;
    CHECK_EQ(tri_txn_decode(b.data, b.len, &d), 0);
    CHECK_EQ(d.txn.n_cmps, 2);
    CHECK_EQ(d.txn.n_ops, 3);
    CHECK_EQ(d.txn.cmps[0].kind, TRI_CMP_MODREV);
    CHECK_EQ(d.txn.cmps[0].mod_rev, 77);
    CHECK(d.txn.cmps[1].key_len == 2 && memcmp(d.txn.cmps[1].key, "/b", 2) == 0);
    CHECK_EQ(d.txn.ops[0].kind, TRI_OP_PUT);
    CHECK(d.txn.ops[0].val_len == 5 && memcmp(d.txn.ops[0].val, "value", 5) == 0);
    CHECK_EQ(d.txn.ops[1].kind, TRI_OP_DELETE);
    CHECK_EQ(d.txn.ops[2].val_len, 0);
    /* Zero copy: the decoded key points into the encoded bytes. */
    CHECK(d.txn.ops[0].key > b.data && d.txn.ops[0].key < b.data + b.len);
    tri_txn_decoded_free(&d);
    /* Every truncation is refused, and so is a trailing byte. */
    for (size_t n = 0; n < b.len; n++)
        CHECK_EQ(tri_txn_decode(b.data, n, &d), TRI_EINVAL);
    tri_buf_put_u8(&b, 0);
    CHECK_EQ(tri_txn_decode(b.data, b.len, &d), TRI_EINVAL);
    b.len--;
    /* Wrong version byte, bad kind, huge count. */
    b.data[0] = 2;
    CHECK_EQ(tri_txn_decode(b.data, b.len, &d), TRI_EINVAL);
    b.data[0] = 1;
    b.data[9] = 9; /* first cmp kind */
    CHECK_EQ(tri_txn_decode(b.data, b.len, &d), TRI_EINVAL);
    b.data[9] = TRI_CMP_MODREV;
    memset(b.data + 1, 0xff, 4);
    CHECK_EQ(tri_txn_decode(b.data, b.len, &d), TRI_EINVAL);
    tri_buf_free(&b);
    /* Garbage. */
    unsigned char g[64];
    for (size_t i = 0; i < sizeof(g); i++)
        g[i] = (unsigned char)(i * 37 + 11);
    CHECK_EQ(tri_txn_decode(g, sizeof(g), &d), TRI_EINVAL);
    /* Limits: empty key and key over 4096 are refused by encode and apply. */
    char *longkey = malloc(4097);
    memset(longkey, 'k', 4097);
    tri_op_t lk = {.kind = TRI_OP_PUT, .key = longkey, .key_len = 4097, .val = "", .val_len = 0};
    tri_txn_t lt = {.ops = &lk, .n_ops = 1};
    CHECK_EQ(tri_txn_encode(&lt, &b), TRI_EINVAL);
    lk.key_len = 4096;
    CHECK_EQ(tri_txn_encode(&lt, &b), 0);
    CHECK_EQ(tri_txn_decode(b.data, b.len, &d), 0);
    tri_txn_decoded_free(&d);
    tri_buf_free(&b);
    lk.key_len = 10;
    lk.val = longkey;
    lk.val_len = (4u << 20) + 1;
    CHECK_EQ(tri_txn_encode(&lt, &b), TRI_EINVAL);
    free(longkey);
}

int main(void)
{
    test_preconditions();
    test_all_or_nothing_and_same_key_ops();
    test_revision_rules();
    test_range_limit_and_continue();
    test_prefix_end();
    test_compaction();
    test_quota();
    test_txn_codec();
    printf("store_basic: ok\n");
    return 0;
}
