/* Private to server/api: the autoscaling/v1 Scale view (scale.c). */
#ifndef TRIARCH_API_SCALE_H
#define TRIARCH_API_SCALE_H

#include "triarch/api.h"

/* The Scale of obj (new reference); r->scale_replicas must be set. */
json_t *tri_scale_from(const tri_resource_t *r, const json_t *obj);
/* Writes scale.spec.replicas into obj; 422 in st when invalid. */
int tri_scale_apply(const tri_resource_t *r, json_t *obj, const json_t *scale, tri_status_t *st);

#endif
