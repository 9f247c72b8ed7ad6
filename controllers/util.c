/* Helpers for the controllers: a chained string hash map that grows by doubling,
 * and readers of the metadata fields every controller looks at (finalizers,
 * deletionTimestamp, RFC 3339 times). */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "internal.h"
#include "triarch/errors.h"

#define MAP_MIN_BUCKETS 64

/* FNV-1a, 64 bit. */
static uint64_t map_hash(const char *s)
{
    uint64_t h = 14695981039346656037ull;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ull;
    return h;
}

static ctrl_map_entry_t **map_slot(const ctrl_map_t *m, const char *key, uint64_t h)
{
    ctrl_map_entry_t **p = &m->buckets[h & (m->n_buckets - 1)];
    while (*p && ((*p)->hash != h || strcmp((*p)->key, key) != 0))
        p = &(*p)->next;
    return p;
}

void *ctrl_map_get(const ctrl_map_t *m, const char *key)
{
    if (m->n_buckets == 0)
        return NULL;
    ctrl_map_entry_t *e = *map_slot(m, key, map_hash(key));
    return e ? e->val : NULL;
}

static int map_grow(ctrl_map_t *m)
{
    size_t n = m->n_buckets ? m->n_buckets * 2 : MAP_MIN_BUCKETS;
    ctrl_map_entry_t **b = calloc(n, sizeof *b);
    if (b == NULL)
        return TRI_ENOMEM;
    for (size_t i = 0; i < m->n_buckets; i++) {
        for (ctrl_map_entry_t *e = m->buckets[i], *next; e; e = next) {
            next = e->next;
            e->next = b[e->hash & (n - 1)];
            b[e->hash & (n - 1)] = e;
        }
    }
    free(m->buckets);
    m->buckets = b;
    m->n_buckets = n;
    return 0;
}

int ctrl_map_put(ctrl_map_t *m, const char *key, void *val)
{
    if (m->count >= m->n_buckets && map_grow(m) != 0)
        return TRI_ENOMEM;
    uint64_t h = map_hash(key);
    ctrl_map_entry_t **p = map_slot(m, key, h);
    if (*p) {
        (*p)->val = val;
        return 0;
    }
    size_t len = strlen(key);
    ctrl_map_entry_t *e = malloc(sizeof *e + len + 1);
    if (e == NULL)
        return TRI_ENOMEM;
    e->next = NULL;
    e->val = val;
    e->hash = h;
    memcpy(e->key, key, len + 1);
    *p = e;
    m->count++;
    return 0;
}

void *ctrl_map_del(ctrl_map_t *m, const char *key)
{
    if (m->n_buckets == 0)
        return NULL;
    ctrl_map_entry_t **p = map_slot(m, key, map_hash(key));
    ctrl_map_entry_t *e = *p;
    if (e == NULL)
        return NULL;
    *p = e->next;
    void *v = e->val;
    free(e);
    m->count--;
    return v;
}

void ctrl_map_each(const ctrl_map_t *m, void (*fn)(const char *key, void *val, void *ctx),
                   void *ctx)
{
    for (size_t i = 0; i < m->n_buckets; i++)
        for (ctrl_map_entry_t *e = m->buckets[i]; e; e = e->next)
            fn(e->key, e->val, ctx);
}

void ctrl_map_clear(ctrl_map_t *m, void (*free_val)(void *val))
{
    for (size_t i = 0; i < m->n_buckets; i++) {
        for (ctrl_map_entry_t *e = m->buckets[i], *next; e; e = next) {
            next = e->next;
            if (free_val)
                free_val(e->val);
            free(e);
        }
    }
    free(m->buckets);
    memset(m, 0, sizeof *m);
}

/* ---------- metadata ---------- */

const char *ctrl_meta_str(const json_t *obj, const char *field)
{
    return json_string_value(json_object_get(json_object_get(obj, "metadata"), field));
}

bool ctrl_has_finalizer(const json_t *obj, const char *name)
{
    json_t *fin = json_object_get(json_object_get(obj, "metadata"), "finalizers");
    size_t i;
    json_t *v;
    json_array_foreach(fin, i, v)
    {
        if (json_is_string(v) && strcmp(json_string_value(v), name) == 0)
            return true;
    }
    return false;
}

bool ctrl_deleting(const json_t *obj)
{
    return ctrl_meta_str(obj, "deletionTimestamp") != NULL;
}

json_t *ctrl_without_finalizer(const json_t *obj, const char *name)
{
    json_t *copy = json_deep_copy(obj);
    json_t *fin = json_object_get(json_object_get(copy, "metadata"), "finalizers");
    for (size_t i = json_array_size(fin); i-- > 0;) {
        const char *s = json_string_value(json_array_get(fin, i));
        if (s && strcmp(s, name) == 0)
            json_array_remove(fin, i);
    }
    return copy;
}

int64_t ctrl_parse_time(const char *s)
{
    if (s == NULL)
        return -1;
    struct tm tm = {0};
    const char *end = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm);
    if (end == NULL)
        return -1;
    return (int64_t)timegm(&tm);
}
