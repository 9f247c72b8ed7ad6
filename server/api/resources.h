/* Private to server/api: the resource descriptors defined by res_*.c files. */
#ifndef TRIARCH_API_RESOURCES_H
#define TRIARCH_API_RESOURCES_H

#include "triarch/api.h"

extern const tri_resource_t tri_res_namespaces;
extern const tri_resource_t tri_res_configmaps;
extern const tri_resource_t tri_res_events;
extern const tri_resource_t tri_res_nodes;
/* core/v1, more (res_pods.c, res_services.c, res_core_more.c) */
extern const tri_resource_t tri_res_endpoints;
extern const tri_resource_t tri_res_limitranges;
extern const tri_resource_t tri_res_persistentvolumeclaims;
extern const tri_resource_t tri_res_persistentvolumes;
extern const tri_resource_t tri_res_pods;
extern const tri_resource_t tri_res_replicationcontrollers;
extern const tri_resource_t tri_res_resourcequotas;
extern const tri_resource_t tri_res_secrets;
extern const tri_resource_t tri_res_serviceaccounts;
extern const tri_resource_t tri_res_services;
void tri_pod_spec_default(json_t *spec); /* PodSpec defaulting, for every pod template */
void tri_pod_spec_validate(const json_t *spec, const char *path, tri_status_t *st); /* path: "spec.template.spec" */
const char *tri_pod_qos_class(const json_t *spec); /* BestEffort, Burstable, Guaranteed */
const char *tri_validate_port_name(const char *s); /* IANA_SVC_NAME; NULL when valid */
void tri_format_labels(const json_t *m, char *out, size_t len); /* "a=b,c=d" sorted, "<none>" */
long tri_base64_check(const char *s, size_t len, size_t *n); /* -1 valid, else offset of bad byte */
int tri_service_pick_ip(tri_store_t *s, const char *cidr, const char *seed, unsigned attempt, char *out, size_t len); /* the ClusterIP allocator over a CIDR; TRI_ENOENT when full */
/* named groups (res_apps.c, res_batch.c, res_groups.c) */

/* Built-in namespaces that exist from the start (Kubernetes' own four). */
extern const char *const tri_builtin_namespaces[];

#endif
