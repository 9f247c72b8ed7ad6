/* Private to server/api: lifecycle rules shared by every resource (lifecycle.c). */
#ifndef TRIARCH_API_LIFECYCLE_H
#define TRIARCH_API_LIFECYCLE_H

#include "triarch/api.h"

/* Status subresource rules on a write of obj over old: subresource "status" keeps
 * everything of old but status; a main write keeps old's status. */
void tri_life_status_strategy(const tri_resource_t *r, json_t *obj, const json_t *old,
                              const char *subresource);
/* generation 1 on create; +1 when anything but metadata and status changed. */
void tri_life_generation(const tri_resource_t *r, json_t *obj, const json_t *old);

enum tri_life_delete {
    TRI_LIFE_DELETE_NOW = 1, /* remove the key */
    TRI_LIFE_MARK,           /* write obj back: deletionTimestamp, finalizers, phase */
    TRI_LIFE_UNCHANGED,      /* already being deleted; answer with it as it is */
};
/* Decides what a DELETE does to obj (the current object, changed in place when
 * marking). ns_lifecycle: namespaces go Terminating (a controller empties them). */
enum tri_life_delete tri_life_begin_delete(const tri_resource_t *r, json_t *obj,
                                           const tri_delete_opts_t *opts, bool ns_lifecycle);
/* A marked object whose finalizers are all gone: the write that emptied them
 * removes it instead. */
bool tri_life_releasable(const tri_resource_t *r, const json_t *obj);

#endif
