/* Txn validation and its wire format (Raft log entries, the forwarding channel).
 *
 * Format, version 1, little endian:
 *   u8 format version (ST_TXN_FORMAT)
 *   u32 n_cmps, u32 n_ops
 *   n_cmps x { u8 kind, [u64 mod_rev if kind == MODREV], u32 key_len, key }
 *   n_ops  x { u8 kind, u32 key_len, key, [u32 val_len, val if kind == PUT] }
 * Nothing may follow. Decoding checks every kind and length (keys 1..ST_KEY_MAX,
 * values up to ST_VAL_MAX) and the counts against the bytes left before it
 * allocates, so hostile input costs at most its own size.
 */
#include <stdlib.h>
#include <string.h>

#include "store_int.h"
#include "triarch/errors.h"

#define ST_TXN_FORMAT 1
/* Smallest encoded cmp or op: kind byte, length word, one key byte. */
#define ST_TXN_MIN_ITEM 6u

static int st_key_ok(const char *key, size_t len)
{
    return key != NULL && len > 0 && len <= ST_KEY_MAX;
}

int st_txn_validate(const tri_txn_t *txn)
{
    if (txn == NULL || (txn->n_cmps > 0 && txn->cmps == NULL) ||
        (txn->n_ops > 0 && txn->ops == NULL))
        return TRI_EINVAL;
    if (txn->n_cmps > UINT32_MAX || txn->n_ops > UINT32_MAX)
        return TRI_EINVAL;
    for (size_t i = 0; i < txn->n_cmps; i++) {
        const tri_cmp_t *c = &txn->cmps[i];
        if (!st_key_ok(c->key, c->key_len))
            return TRI_EINVAL;
        if (c->kind != TRI_CMP_EXISTS && c->kind != TRI_CMP_ABSENT && c->kind != TRI_CMP_MODREV)
            return TRI_EINVAL;
    }
    for (size_t i = 0; i < txn->n_ops; i++) {
        const tri_op_t *o = &txn->ops[i];
        if (!st_key_ok(o->key, o->key_len))
            return TRI_EINVAL;
        if (o->kind == TRI_OP_PUT) {
            if (o->val_len > ST_VAL_MAX || (o->val_len > 0 && o->val == NULL))
                return TRI_EINVAL;
        } else if (o->kind != TRI_OP_DELETE) {
            return TRI_EINVAL;
        }
    }
    return 0;
}

int tri_txn_encode(const tri_txn_t *txn, tri_buf_t *out)
{
    int rc = st_txn_validate(txn);
    if (rc != 0)
        return rc;
    size_t start = out->len;
    rc |= tri_buf_put_u8(out, ST_TXN_FORMAT);
    rc |= tri_buf_put_u32(out, (uint32_t)txn->n_cmps);
    rc |= tri_buf_put_u32(out, (uint32_t)txn->n_ops);
    for (size_t i = 0; i < txn->n_cmps && rc == 0; i++) {
        const tri_cmp_t *c = &txn->cmps[i];
        rc |= tri_buf_put_u8(out, (uint8_t)c->kind);
        if (c->kind == TRI_CMP_MODREV)
            rc |= tri_buf_put_u64(out, (uint64_t)c->mod_rev);
        rc |= tri_buf_put_bytes(out, c->key, (uint32_t)c->key_len);
    }
    for (size_t i = 0; i < txn->n_ops && rc == 0; i++) {
        const tri_op_t *o = &txn->ops[i];
        rc |= tri_buf_put_u8(out, (uint8_t)o->kind);
        rc |= tri_buf_put_bytes(out, o->key, (uint32_t)o->key_len);
        if (o->kind == TRI_OP_PUT)
            rc |= tri_buf_put_bytes(out, o->val, (uint32_t)o->val_len);
    }
    if (rc != 0) {
        out->len = start;
        return TRI_ENOMEM;
    }
    return 0;
}

static int st_read_key(tri_reader_t *r, const char **key, size_t *len)
{
    const void *p;
    uint32_t n;
    if (tri_reader_bytes(r, &p, &n) != 0 || n == 0 || n > ST_KEY_MAX)
        return TRI_EINVAL;
    *key = p;
    *len = n;
    return 0;
}

static int st_decode_cmp(tri_reader_t *r, tri_cmp_t *c)
{
    uint8_t kind;
    if (tri_reader_u8(r, &kind) != 0)
        return TRI_EINVAL;
    c->kind = (enum tri_cmp_kind)kind;
    c->mod_rev = 0;
    if (kind == TRI_CMP_MODREV) {
        uint64_t rev;
        if (tri_reader_u64(r, &rev) != 0 || rev > INT64_MAX)
            return TRI_EINVAL;
        c->mod_rev = (int64_t)rev;
    } else if (kind != TRI_CMP_EXISTS && kind != TRI_CMP_ABSENT) {
        return TRI_EINVAL;
    }
    return st_read_key(r, &c->key, &c->key_len);
}

static int st_decode_op(tri_reader_t *r, tri_op_t *o)
{
    uint8_t kind;
    if (tri_reader_u8(r, &kind) != 0 || (kind != TRI_OP_PUT && kind != TRI_OP_DELETE))
        return TRI_EINVAL;
    o->kind = (enum tri_op_kind)kind;
    o->val = NULL;
    o->val_len = 0;
    if (st_read_key(r, &o->key, &o->key_len) != 0)
        return TRI_EINVAL;
    if (kind == TRI_OP_PUT) {
        const void *p;
        uint32_t n;
        if (tri_reader_bytes(r, &p, &n) != 0 || n > ST_VAL_MAX)
            return TRI_EINVAL;
        o->val = p;
        o->val_len = n;
    }
    return 0;
}

int tri_txn_decode(const void *data, size_t len, tri_txn_decoded_t *out)
{
    memset(out, 0, sizeof(*out));
    tri_reader_t r;
    tri_reader_init(&r, data, len);
    uint8_t fmt;
    uint32_t n_cmps, n_ops;
    if (data == NULL || tri_reader_u8(&r, &fmt) != 0 || fmt != ST_TXN_FORMAT ||
        tri_reader_u32(&r, &n_cmps) != 0 || tri_reader_u32(&r, &n_ops) != 0)
        return TRI_EINVAL;
    /* Counts are bounded by the bytes present before anything is allocated. */
    if (((uint64_t)n_cmps + n_ops) * ST_TXN_MIN_ITEM > len - r.off)
        return TRI_EINVAL;
    if (n_cmps > 0 && (out->cmps = calloc(n_cmps, sizeof(tri_cmp_t))) == NULL)
        goto nomem;
    if (n_ops > 0 && (out->ops = calloc(n_ops, sizeof(tri_op_t))) == NULL)
        goto nomem;
    for (uint32_t i = 0; i < n_cmps; i++)
        if (st_decode_cmp(&r, &out->cmps[i]) != 0)
            goto bad;
    for (uint32_t i = 0; i < n_ops; i++)
        if (st_decode_op(&r, &out->ops[i]) != 0)
            goto bad;
    if (r.off != len)
        goto bad;
    out->txn.cmps = out->cmps;
    out->txn.n_cmps = n_cmps;
    out->txn.ops = out->ops;
    out->txn.n_ops = n_ops;
    return 0;
bad:
    tri_txn_decoded_free(out);
    return TRI_EINVAL;
nomem:
    tri_txn_decoded_free(out);
    return TRI_ENOMEM;
}

void tri_txn_decoded_free(tri_txn_decoded_t *d)
{
    if (d == NULL)
        return;
    free(d->cmps);
    free(d->ops);
    memset(d, 0, sizeof(*d));
}
