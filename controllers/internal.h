/* Private helpers shared by the controllers: a string-keyed hash map (the work
 * queue's key index and the garbage collector's graph use it) and small readers
 * of object metadata. */
#ifndef TRIARCH_CONTROLLERS_INTERNAL_H
#define TRIARCH_CONTROLLERS_INTERNAL_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "triarch/api.h"
#include "triarch/controllers.h"

typedef struct ctrl_map_entry {
    struct ctrl_map_entry *next;
    void *val;
    uint64_t hash;
    char key[];
} ctrl_map_entry_t;

typedef struct ctrl_map {
    ctrl_map_entry_t **buckets;
    size_t n_buckets; /* a power of two, or 0 before the first put */
    size_t count;
} ctrl_map_t;

void *ctrl_map_get(const ctrl_map_t *m, const char *key);
/* Sets key to val (replacing). Returns 0 or TRI_ENOMEM. */
int ctrl_map_put(ctrl_map_t *m, const char *key, void *val);
/* Removes key; returns its value (NULL if absent). */
void *ctrl_map_del(ctrl_map_t *m, const char *key);
/* Calls fn for every entry; fn must not change the map. */
void ctrl_map_each(const ctrl_map_t *m, void (*fn)(const char *key, void *val, void *ctx),
                   void *ctx);
/* Removes everything; free_val (may be NULL) gets each value. */
void ctrl_map_clear(ctrl_map_t *m, void (*free_val)(void *val));

/* A reconcile's one asynchronous write (job.c): ctrl_job_new makes the job (its
 * op is leader_only, op.data the job); pass ctrl_job_done as the op's callback,
 * which frees the job and finishes the item (DONE on success or 404, REQUEUE
 * otherwise). */
typedef struct ctrl_job {
    tri_api_op_t op;
    tri_ctrl_item_t *it;
    const char *what; /* for the log line of a failure */
} ctrl_job_t;
ctrl_job_t *ctrl_job_new(tri_ctrl_item_t *it, const char *what);
void ctrl_job_done(tri_api_op_t *op);

/* metadata.<field> as a string, or NULL. */
const char *ctrl_meta_str(const json_t *obj, const char *field);
bool ctrl_has_finalizer(const json_t *obj, const char *name);
bool ctrl_deleting(const json_t *obj);
/* A copy of obj whose metadata.finalizers lacks name (new reference). */
json_t *ctrl_without_finalizer(const json_t *obj, const char *name);
/* Seconds since the epoch of an RFC 3339 time ("...Z", fractions allowed), or -1. */
int64_t ctrl_parse_time(const char *s);

#endif
