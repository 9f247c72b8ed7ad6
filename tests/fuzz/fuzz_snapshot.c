/* Fuzz target: snapshot decoding. Arbitrary bytes go to tri_snap_verify and to
 * tri_store_restore over a store that holds state; both must agree, never crash,
 * and a refused snapshot must leave the store exactly as it was.
 *
 * The checksum would stop almost every mutation at the door, so for inputs with
 * the low bit of their last byte set the target recomputes the trailer first:
 * half of the runs exercise the chunk and record parsers behind it. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_assert.h"
#include "triarch/errors.h"
#include "triarch/store.h"

static int check(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 8 || (data[size - 1] & 1) == 0)
        return check(data, size);
    uint8_t *copy = malloc(size);
    if (copy == NULL)
        return 0;
    memcpy(copy, data, size);
    uint32_t crc = tri_crc32c(0, copy, size - 4);
    for (int i = 0; i < 4; i++)
        copy[size - 4 + (size_t)i] = (uint8_t)(crc >> (8 * i));
    check(copy, size);
    free(copy);
    return 0;
}

static int check(const uint8_t *data, size_t size)
{
    int64_t rev = -1;
    size_t count = 0;
    int vrc = tri_snap_verify(data, size, &rev, &count);
    tri_store_t *s;
    if (tri_store_new(NULL, &s) != 0)
        return 0;
    tri_op_t op = {.kind = TRI_OP_PUT, .key = "/probe", .key_len = 6, .val = "v", .val_len = 1};
    tri_txn_t txn = {.ops = &op, .n_ops = 1};
    tri_txn_result_t res;
    tri_store_apply(s, &txn, &res);
    int rrc = tri_store_restore(s, data, size);
    if ((vrc == 0) != (rrc == 0))
        FUZZ_ASSERT_FAILED();
    if (rrc == 0) {
        if (tri_store_revision(s) != rev || tri_store_count(s) != count)
            FUZZ_ASSERT_FAILED();
        /* A restored store must keep working: read everything, write once more. */
        tri_kvs_t kvs = {0};
        if (tri_store_range(s, "", 0, "", 0, 0, 0, &kvs, NULL) != 0 || kvs.n != count)
            FUZZ_ASSERT_FAILED();
        tri_kvs_free(&kvs);
        tri_store_apply(s, &txn, &res);
    } else if (rrc != TRI_ECORRUPT && rrc != TRI_ENOMEM) {
        FUZZ_ASSERT_FAILED();
    } else if (tri_store_revision(s) != 1 || tri_store_count(s) != 1) {
        FUZZ_ASSERT_FAILED();
    }
    tri_store_free(s);
    return 0;
}
