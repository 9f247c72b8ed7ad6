/* The ordered index of key entries: a skip list threaded through the entries
 * (prefix ranges walk level 0 in key order) and a chained hash over the same
 * entries (point lookups and txn preconditions skip the O(log n) descent).
 *
 * A skip list rather than a sorted array: inserting into a sorted array moves
 * half of it on average, which does not scale to 100k+ keys at tens of thousands
 * of puts per second; a skip list inserts and removes in O(log n) with no
 * rebalancing and walks in order for free. Each entry also owns its version
 * chain, so compaction of a key is local to its entry.
 */
#include <stdlib.h>
#include <string.h>

#include "store_int.h"
#include "triarch/errors.h"

/* Initial hash size; the table doubles when entries outnumber buckets. */
#define ST_HASH_INITIAL 1024u
/* A level is added with probability 1/4 (Pugh's recommended trade-off). */
#define ST_SKIP_P_SHIFT 2

static uint64_t st_hash(const void *p, size_t n)
{
    /* FNV-1a, 64-bit: keys are short paths; good spread, no tables. */
    const unsigned char *b = p;
    uint64_t h = 0xcbf29ce484222325ull;
    for (size_t i = 0; i < n; i++) {
        h ^= b[i];
        h *= 0x100000001b3ull;
    }
    return h ^ (h >> 29);
}

int st_index_init(st_index_t *idx)
{
    memset(idx, 0, sizeof(*idx));
    idx->head = calloc(1, sizeof(st_ent_t) + ST_SKIP_LEVELS * sizeof(st_ent_t *));
    idx->buckets = calloc(ST_HASH_INITIAL, sizeof(st_ent_t *));
    if (idx->head == NULL || idx->buckets == NULL) {
        free(idx->head);
        free(idx->buckets);
        return TRI_ENOMEM;
    }
    idx->head->height = ST_SKIP_LEVELS;
    idx->height = 1;
    idx->rng = 0x9e3779b97f4a7c15ull;
    idx->n_buckets = ST_HASH_INITIAL;
    return 0;
}

void st_ent_free(st_ent_t *e)
{
    if (e == NULL)
        return;
    for (uint32_t i = 0; i < e->n_vers; i++)
        tri_val_unref(e->vers[i].val);
    free(e->vers);
    tri_val_unref(e->key);
    free(e);
}

void st_index_free(st_index_t *idx)
{
    if (idx->head == NULL)
        return;
    st_ent_t *e = idx->head->next[0];
    while (e != NULL) {
        st_ent_t *n = e->next[0];
        st_ent_free(e);
        e = n;
    }
    free(idx->head);
    free(idx->buckets);
    memset(idx, 0, sizeof(*idx));
}

static uint32_t st_random_height(st_index_t *idx)
{
    /* xorshift64: deterministic, and heights never influence results. */
    uint64_t x = idx->rng;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    idx->rng = x;
    uint32_t h = 1;
    while (h < ST_SKIP_LEVELS && (x & ((1u << ST_SKIP_P_SHIFT) - 1)) == 0) {
        h++;
        x >>= ST_SKIP_P_SHIFT;
    }
    return h;
}

st_ent_t *st_ent_new(st_index_t *idx, tri_val_t *key)
{
    uint32_t h = st_random_height(idx);
    st_ent_t *e = calloc(1, sizeof(*e) + h * sizeof(st_ent_t *));
    if (e == NULL)
        return NULL;
    e->key = key;
    e->height = h;
    return e;
}

st_ent_t *st_index_find(const st_index_t *idx, const void *key, size_t len)
{
    st_ent_t *e = idx->buckets[st_hash(key, len) & (idx->n_buckets - 1)];
    for (; e != NULL; e = e->hnext)
        if (e->key->len == len && memcmp(e->key->data, key, len) == 0)
            return e;
    return NULL;
}

/* Descends the skip list; update[i] = last entry at level i with key < key. */
static st_ent_t *st_index_descend(const st_index_t *idx, const void *key, size_t len,
                                  st_ent_t **update)
{
    st_ent_t *x = idx->head;
    for (int i = (int)idx->height - 1; i >= 0; i--) {
        while (x->next[i] != NULL &&
               st_key_cmp(x->next[i]->key->data, x->next[i]->key->len, key, len) < 0)
            x = x->next[i];
        if (update != NULL)
            update[i] = x;
    }
    return x->next[0];
}

st_ent_t *st_index_seek(const st_index_t *idx, const void *key, size_t len)
{
    return st_index_descend(idx, key, len, NULL);
}

static void st_hash_grow(st_index_t *idx)
{
    size_t n = idx->n_buckets * 2;
    st_ent_t **b = calloc(n, sizeof(*b));
    if (b == NULL)
        return; /* keep the old table: longer chains, still correct */
    for (size_t i = 0; i < idx->n_buckets; i++) {
        st_ent_t *e = idx->buckets[i];
        while (e != NULL) {
            st_ent_t *next = e->hnext;
            size_t j = st_hash(e->key->data, e->key->len) & (n - 1);
            e->hnext = b[j];
            b[j] = e;
            e = next;
        }
    }
    free(idx->buckets);
    idx->buckets = b;
    idx->n_buckets = n;
}

static void st_hash_add(st_index_t *idx, st_ent_t *e)
{
    if (idx->n_ents >= idx->n_buckets)
        st_hash_grow(idx);
    size_t j = st_hash(e->key->data, e->key->len) & (idx->n_buckets - 1);
    e->hnext = idx->buckets[j];
    idx->buckets[j] = e;
    idx->n_ents++;
}

void st_index_insert(st_index_t *idx, st_ent_t *e)
{
    st_ent_t *update[ST_SKIP_LEVELS];
    st_index_descend(idx, e->key->data, e->key->len, update);
    for (uint32_t i = idx->height; i < e->height; i++)
        update[i] = idx->head;
    if (e->height > idx->height)
        idx->height = e->height;
    for (uint32_t i = 0; i < e->height; i++) {
        e->next[i] = update[i]->next[i];
        update[i]->next[i] = e;
    }
    st_hash_add(idx, e);
}

void st_index_remove(st_index_t *idx, st_ent_t *e)
{
    st_ent_t *update[ST_SKIP_LEVELS];
    st_index_descend(idx, e->key->data, e->key->len, update);
    for (uint32_t i = 0; i < e->height; i++)
        if (update[i]->next[i] == e)
            update[i]->next[i] = e->next[i];
    while (idx->height > 1 && idx->head->next[idx->height - 1] == NULL)
        idx->height--;
    st_ent_t **pp = &idx->buckets[st_hash(e->key->data, e->key->len) & (idx->n_buckets - 1)];
    while (*pp != NULL && *pp != e)
        pp = &(*pp)->hnext;
    if (*pp == e)
        *pp = e->hnext;
    idx->n_ents--;
}

void st_index_append_init(st_index_t *idx, st_appender_t *ap)
{
    for (int i = 0; i < ST_SKIP_LEVELS; i++)
        ap->last[i] = idx->head;
}

void st_index_append(st_index_t *idx, st_appender_t *ap, st_ent_t *e)
{
    if (e->height > idx->height)
        idx->height = e->height;
    for (uint32_t i = 0; i < e->height; i++) {
        ap->last[i]->next[i] = e;
        ap->last[i] = e;
    }
    st_hash_add(idx, e);
}

int st_ent_reserve(st_ent_t *e, uint32_t extra)
{
    if (e->n_vers + extra <= e->cap_vers)
        return 0;
    uint32_t cap = e->cap_vers ? e->cap_vers * 2 : 1;
    while (cap < e->n_vers + extra)
        cap *= 2;
    st_ver_t *v = realloc(e->vers, cap * sizeof(*v));
    if (v == NULL)
        return TRI_ENOMEM;
    e->vers = v;
    e->cap_vers = cap;
    return 0;
}

const st_ver_t *st_ent_at(const st_ent_t *e, int64_t rev)
{
    for (uint32_t i = e->n_vers; i > 0; i--)
        if (e->vers[i - 1].rev <= rev)
            return &e->vers[i - 1];
    return NULL;
}

const st_ver_t *st_ent_live(const st_ent_t *e)
{
    if (e == NULL || e->n_vers == 0 || e->vers[e->n_vers - 1].val == NULL)
        return NULL;
    return &e->vers[e->n_vers - 1];
}

bool st_ent_compact(st_ent_t *e, int64_t compact_rev)
{
    /* Keep the latest version at or before compact_rev (reads just after it see
     * that one) unless it is a tombstone, and every later version. */
    uint32_t keep = 0;
    while (keep + 1 < e->n_vers && e->vers[keep + 1].rev <= compact_rev)
        keep++;
    if (e->n_vers > 0 && e->vers[keep].rev <= compact_rev && e->vers[keep].val == NULL)
        keep++;
    if (keep > 0) {
        for (uint32_t i = 0; i < keep; i++)
            tri_val_unref(e->vers[i].val);
        memmove(e->vers, e->vers + keep, (e->n_vers - keep) * sizeof(*e->vers));
        e->n_vers -= keep;
    }
    if (e->n_vers > 0 && e->n_vers * 4 <= e->cap_vers) {
        /* A hot key's chain shrinks back once its burst is compacted. */
        st_ver_t *v = realloc(e->vers, e->n_vers * 2 * sizeof(*v));
        if (v != NULL) {
            e->vers = v;
            e->cap_vers = e->n_vers * 2;
        }
    }
    if (e->n_vers == 0) {
        free(e->vers);
        e->vers = NULL;
        e->cap_vers = 0;
    }
    return e->n_vers == 0;
}
