/* The txn builder resources use to add their own preconditions and operations to
 * a create, update or delete (allocator keys): copies of keys and values owned by
 * the builder until tri_txn_builder_reset. */
#include <stdlib.h>
#include <string.h>

#include "triarch/api.h"
#include "triarch/errors.h"

static char *own(tri_txn_builder_t *b, const char *p, size_t n)
{
    if (b->n_owned == sizeof b->owned / sizeof b->owned[0])
        return NULL;
    char *c = malloc(n ? n : 1);
    if (c == NULL)
        return NULL;
    memcpy(c, p, n);
    b->owned[b->n_owned++] = c;
    return c;
}

int tri_txn_builder_absent(tri_txn_builder_t *b, const char *key, size_t len)
{
    if (b->n_cmps == TRI_TXN_BUILDER_MAX)
        return TRI_ETOOBIG;
    char *k = own(b, key, len);
    if (k == NULL)
        return TRI_ENOMEM;
    b->cmps[b->n_cmps++] = (tri_cmp_t){TRI_CMP_ABSENT, k, len, 0};
    return 0;
}

int tri_txn_builder_modrev(tri_txn_builder_t *b, const char *key, size_t len, int64_t mod_rev)
{
    if (b->n_cmps == TRI_TXN_BUILDER_MAX)
        return TRI_ETOOBIG;
    char *k = own(b, key, len);
    if (k == NULL)
        return TRI_ENOMEM;
    b->cmps[b->n_cmps++] = (tri_cmp_t){TRI_CMP_MODREV, k, len, mod_rev};
    return 0;
}

int tri_txn_builder_put(tri_txn_builder_t *b, const char *key, size_t klen, const char *val,
                        size_t vlen)
{
    if (b->n_ops == TRI_TXN_BUILDER_MAX)
        return TRI_ETOOBIG;
    char *k = own(b, key, klen);
    char *v = k ? own(b, val, vlen) : NULL;
    if (v == NULL)
        return TRI_ENOMEM;
    b->ops[b->n_ops++] = (tri_op_t){TRI_OP_PUT, k, klen, v, vlen};
    return 0;
}

int tri_txn_builder_delete(tri_txn_builder_t *b, const char *key, size_t len)
{
    if (b->n_ops == TRI_TXN_BUILDER_MAX)
        return TRI_ETOOBIG;
    char *k = own(b, key, len);
    if (k == NULL)
        return TRI_ENOMEM;
    b->ops[b->n_ops++] = (tri_op_t){TRI_OP_DELETE, k, len, NULL, 0};
    return 0;
}

void tri_txn_builder_reset(tri_txn_builder_t *b)
{
    for (size_t i = 0; i < b->n_owned; i++)
        free(b->owned[i]);
    unsigned attempt = b->attempt;
    memset(b, 0, sizeof *b);
    b->attempt = attempt;
}
