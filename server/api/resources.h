/* Private to server/api: the resource descriptors defined by res_*.c files. */
#ifndef TRIARCH_API_RESOURCES_H
#define TRIARCH_API_RESOURCES_H

#include "triarch/api.h"

extern const tri_resource_t tri_res_namespaces;
extern const tri_resource_t tri_res_configmaps;
extern const tri_resource_t tri_res_events;
extern const tri_resource_t tri_res_nodes;
/* core/v1, more (res_pods.c, res_services.c, res_core_more.c) */
/* named groups (res_apps.c, res_batch.c, res_groups.c) */

/* Built-in namespaces that exist from the start (Kubernetes' own four). */
extern const char *const tri_builtin_namespaces[];

#endif
