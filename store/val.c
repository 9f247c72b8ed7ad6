/* Immutable reference-counted blobs (tri_val_t) and the small value helpers of
 * the store's public face: read results (tri_kv_t, tri_kvs_t), key comparison and
 * prefix range ends.
 *
 * A blob is written once at creation and never changed afterwards, which is what
 * lets a snapshot encoder on another thread read its bytes while the loop thread
 * goes on taking and dropping references to it. Reference counts themselves are
 * plain integers: only the loop thread touches them (see store.h).
 */
#include <stdlib.h>
#include <string.h>

#include "store_int.h"
#include "triarch/errors.h"

tri_val_t *tri_val_new(const void *p, size_t len)
{
    if (len > UINT32_MAX)
        return NULL;
    tri_val_t *v = malloc(sizeof(*v) + len + 1);
    if (v == NULL)
        return NULL;
    v->refs = 1;
    v->len = (uint32_t)len;
    if (len > 0 && p != NULL)
        memcpy(v->data, p, len);
    v->data[len] = '\0';
    return v;
}

tri_val_t *tri_val_ref(tri_val_t *v)
{
    if (v != NULL)
        v->refs++;
    return v;
}

void tri_val_unref(tri_val_t *v)
{
    if (v != NULL && --v->refs == 0)
        free(v);
}

void tri_kv_release(tri_kv_t *kv)
{
    if (kv == NULL)
        return;
    tri_val_unref(kv->key_ref);
    tri_val_unref(kv->val);
    kv->key_ref = NULL;
    kv->val = NULL;
    kv->key = NULL;
    kv->key_len = 0;
}

void tri_kvs_free(tri_kvs_t *kvs)
{
    if (kvs == NULL)
        return;
    for (size_t i = 0; i < kvs->n; i++)
        tri_kv_release(&kvs->items[i]);
    free(kvs->items);
    kvs->items = NULL;
    kvs->n = kvs->cap = 0;
}

size_t tri_prefix_end(const char *prefix, size_t len, char *out)
{
    while (len > 0 && (unsigned char)prefix[len - 1] == 0xff)
        len--;
    if (len == 0)
        return 0;
    memcpy(out, prefix, len);
    out[len - 1] = (char)((unsigned char)out[len - 1] + 1);
    return len;
}

int st_key_cmp(const void *a, size_t alen, const void *b, size_t blen)
{
    size_t n = alen < blen ? alen : blen;
    int c = n > 0 ? memcmp(a, b, n) : 0;
    if (c != 0)
        return c;
    return (alen > blen) - (alen < blen);
}

bool st_key_in_range(const void *k, size_t klen, const void *start, size_t start_len,
                     const void *end, size_t end_len)
{
    if (st_key_cmp(k, klen, start, start_len) < 0)
        return false;
    return end_len == 0 || st_key_cmp(k, klen, end, end_len) < 0;
}
