/* Private to server/api: ObjectMeta handling shared by every resource. */
#ifndef TRIARCH_API_META_H
#define TRIARCH_API_META_H

#include "triarch/api.h"

/* Checks apiVersion/kind/name/namespace of a body against the request and fills
 * the server-owned fields of a new object (uid, creationTimestamp, generated
 * name). Sets st on error (400 or 422). */
void tri_meta_prepare_create(const tri_resource_t *r, const char *ns, json_t *obj,
                             tri_status_t *st);
/* A new random name from metadata.generateName (after a collision). */
void tri_meta_regenerate_name(json_t *meta);
/* Same for an update of `old` (kept: uid, creationTimestamp; checked: name). */
void tri_meta_prepare_update(const tri_resource_t *r, const char *ns, const char *name,
                             json_t *obj, const json_t *old, tri_status_t *st);
/* Labels, annotations, name, then the resource's own validation: 422 Invalid
 * with one cause per field. */
void tri_meta_validate(const tri_resource_t *r, const json_t *obj, const json_t *old,
                       tri_status_t *st);
/* Drops fields the kind does not have (top level and metadata), as decoding
 * into Kubernetes' typed structs does; under strict, the first one is a 400. */
void tri_meta_prune_unknown(const tri_resource_t *r, json_t *obj, bool strict,
                            tri_buf_t *warnings, tri_status_t *st);
/* Fills an Invalid status from st->causes if any (returns true if invalid). */
bool tri_meta_finish_invalid(const tri_resource_t *r, const char *name, tri_status_t *st);

#endif
