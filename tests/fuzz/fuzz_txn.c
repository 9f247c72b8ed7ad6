/* Fuzz target: txn decoding. Arbitrary bytes go to tri_txn_decode; a txn that
 * decodes is applied to a small store (with a tiny quota, so the quota path runs
 * too), must re-encode to exactly the input bytes, and must apply all or nothing. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_assert.h"
#include "triarch/errors.h"
#include "triarch/store.h"

/* Small enough that fuzzed puts hit the quota regularly. */
#define FUZZ_QUOTA 4096

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    tri_txn_decoded_t d;
    int rc = tri_txn_decode(data, size, &d);
    if (rc != 0) {
        if (rc != TRI_EINVAL && rc != TRI_ENOMEM)
            FUZZ_ASSERT_FAILED();
        return 0;
    }
    tri_buf_t b = {0};
    if (tri_txn_encode(&d.txn, &b) != 0 || b.len != size || memcmp(b.data, data, size) != 0)
        FUZZ_ASSERT_FAILED();
    tri_buf_free(&b);
    tri_store_t *s;
    tri_store_opts_t o = {.quota_bytes = FUZZ_QUOTA, .history_events = 8};
    if (tri_store_new(&o, &s) != 0) {
        tri_txn_decoded_free(&d);
        return 0;
    }
    tri_op_t seed = {.kind = TRI_OP_PUT, .key = "a", .key_len = 1, .val = "1", .val_len = 1};
    tri_txn_t seed_txn = {.ops = &seed, .n_ops = 1};
    tri_txn_result_t res;
    tri_store_apply(s, &seed_txn, &res);
    tri_watch_t *w;
    tri_store_watch(s, "", 0, "", 0, 0, NULL, NULL, &w);
    for (int round = 0; round < 3; round++) {
        int64_t before = tri_store_revision(s);
        size_t size_before = tri_store_size_bytes(s);
        rc = tri_store_apply(s, &d.txn, &res);
        if (rc != res.status)
            FUZZ_ASSERT_FAILED();
        if (rc == 0 && tri_store_revision(s) != before + 1)
            FUZZ_ASSERT_FAILED();
        if (rc != 0 && (tri_store_revision(s) != before || tri_store_size_bytes(s) != size_before))
            FUZZ_ASSERT_FAILED();
        if (rc == TRI_EPRECOND && (res.failed_cmp < 0 || (size_t)res.failed_cmp >= d.txn.n_cmps))
            FUZZ_ASSERT_FAILED();
    }
    tri_event_t ev;
    while (tri_watch_next(w, &ev) == 1)
        ;
    tri_watch_stop(w);
    tri_store_free(s);
    tri_txn_decoded_free(&d);
    return 0;
}
