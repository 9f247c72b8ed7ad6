/* A small string-keyed hash map for the authorizer's indexes (objects by store
 * key, bindings by subject, compiled rules by user, node graph edges). Open
 * addressing with linear probing and backward-shift deletion, so there are no
 * tombstones and a lookup stops at the first empty slot. Keys are copied in;
 * values are the caller's. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "authz_internal.h"
#include "triarch/errors.h"

#define STRMAP_MIN_CAP 16

/* FNV-1a, 64 bit: short keys, no adversary that could not already write RBAC
 * objects (every key is a store key, a subject or a user name). */
static uint64_t strmap_hash(const char *s)
{
    uint64_t h = 1469598103934665603ull;
    for (; *s; s++) {
        h ^= (unsigned char)*s;
        h *= 1099511628211ull;
    }
    return h;
}

static size_t strmap_slot(const strmap_t *m, const char *key)
{
    size_t mask = m->cap - 1;
    size_t i = (size_t)strmap_hash(key) & mask;
    while (m->keys[i] != NULL && strcmp(m->keys[i], key) != 0)
        i = (i + 1) & mask;
    return i;
}

void *strmap_get(const strmap_t *m, const char *key)
{
    if (m->n == 0)
        return NULL;
    size_t i = strmap_slot(m, key);
    return m->keys[i] ? m->vals[i] : NULL;
}

static int strmap_grow(strmap_t *m)
{
    size_t cap = m->cap ? m->cap * 2 : STRMAP_MIN_CAP;
    strmap_t n = {calloc(cap, sizeof(char *)), calloc(cap, sizeof(void *)), cap, 0};
    if (n.keys == NULL || n.vals == NULL) {
        free(n.keys);
        free(n.vals);
        return TRI_ENOMEM;
    }
    for (size_t i = 0; i < m->cap; i++) {
        if (m->keys[i] == NULL)
            continue;
        size_t j = strmap_slot(&n, m->keys[i]);
        n.keys[j] = m->keys[i];
        n.vals[j] = m->vals[i];
        n.n++;
    }
    free(m->keys);
    free(m->vals);
    *m = n;
    return 0;
}

int strmap_put(strmap_t *m, const char *key, void *val)
{
    if ((m->n + 1) * 4 > m->cap * 3 && strmap_grow(m) != 0)
        return TRI_ENOMEM;
    size_t i = strmap_slot(m, key);
    if (m->keys[i] == NULL) {
        m->keys[i] = strdup(key);
        if (m->keys[i] == NULL)
            return TRI_ENOMEM;
        m->n++;
    }
    m->vals[i] = val;
    return 0;
}

void *strmap_del(strmap_t *m, const char *key)
{
    if (m->n == 0)
        return NULL;
    size_t mask = m->cap - 1;
    size_t i = strmap_slot(m, key);
    if (m->keys[i] == NULL)
        return NULL;
    void *old = m->vals[i];
    free(m->keys[i]);
    m->keys[i] = NULL;
    m->n--;
    /* Backward shift: move later entries of the run into the hole when their
     * home slot does not lie (cyclically) between the hole and them. */
    for (size_t j = (i + 1) & mask; m->keys[j] != NULL; j = (j + 1) & mask) {
        size_t home = (size_t)strmap_hash(m->keys[j]) & mask;
        bool stays = i <= j ? (i < home && home <= j) : (i < home || home <= j);
        if (stays)
            continue;
        m->keys[i] = m->keys[j];
        m->vals[i] = m->vals[j];
        m->keys[j] = NULL;
        i = j;
    }
    return old;
}

void strmap_clear(strmap_t *m, void (*free_val)(void *))
{
    for (size_t i = 0; i < m->cap; i++) {
        if (m->keys[i] == NULL)
            continue;
        if (free_val != NULL)
            free_val(m->vals[i]);
        free(m->keys[i]);
    }
    free(m->keys);
    free(m->vals);
    memset(m, 0, sizeof *m);
}
