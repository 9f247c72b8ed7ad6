/* Private to server/api: the resource descriptors defined by res_*.c files. */
#ifndef TRIARCH_API_RESOURCES_H
#define TRIARCH_API_RESOURCES_H

#include "triarch/api.h"

extern const tri_resource_t tri_res_namespaces;
extern const tri_resource_t tri_res_configmaps;
extern const tri_resource_t tri_res_events;
extern const tri_resource_t tri_res_nodes;

/* Built-in namespaces that exist from the start (Kubernetes' own four). */
extern const char *const tri_builtin_namespaces[];

#endif
