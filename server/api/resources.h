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
extern const tri_resource_t tri_res_controllerrevisions;
extern const tri_resource_t tri_res_daemonsets;
extern const tri_resource_t tri_res_deployments;
extern const tri_resource_t tri_res_replicasets;
extern const tri_resource_t tri_res_statefulsets;
extern const tri_resource_t tri_res_hpa_v2; /* autoscaling/v2, the stored version */
extern const tri_resource_t tri_res_hpa_v1; /* autoscaling/v1, stored as v2 */
extern const tri_resource_t tri_res_cronjobs;
extern const tri_resource_t tri_res_jobs;
extern const tri_resource_t tri_res_certificatesigningrequests; /* res_certificates.c */
extern const tri_resource_t tri_res_leases;
extern const tri_resource_t tri_res_ingressclasses;
extern const tri_resource_t tri_res_ingresses;
extern const tri_resource_t tri_res_networkpolicies;
extern const tri_resource_t tri_res_events_v1; /* events.k8s.io/v1, stored as core Events */
extern const tri_resource_t tri_res_priorityclasses;
extern const tri_resource_t tri_res_poddisruptionbudgets;
extern const tri_resource_t tri_res_endpointslices;
extern const tri_resource_t tri_res_clusterrolebindings;
extern const tri_resource_t tri_res_clusterroles;
extern const tri_resource_t tri_res_rolebindings;
extern const tri_resource_t tri_res_roles;
/* res_reviews.c: create-only review kinds, answered by server/http/review.c */
extern const tri_resource_t tri_res_selfsubjectreviews;
extern const tri_resource_t tri_res_tokenreviews;
extern const tri_resource_t tri_res_localsubjectaccessreviews;
extern const tri_resource_t tri_res_selfsubjectaccessreviews;
extern const tri_resource_t tri_res_selfsubjectrulesreviews;
extern const tri_resource_t tri_res_subjectaccessreviews;
void tri_podtemplate_default(json_t *tmpl); /* PodTemplateSpec: tri_pod_spec_default + template metadata */
void tri_podtemplate_validate(const json_t *tmpl, const char *path, const char *const *restart, tri_status_t *st); /* restart: allowed restartPolicy values, NULL-terminated, or NULL */
json_t *tri_field_child(json_t *obj, const char *key); /* obj[key], created as {} when not an object */
void tri_field_default(json_t *obj, const char *key, json_t *val); /* steals val; set when missing or null */
bool tri_validate_enum(const json_t *o, const char *key, const char *path, const char *const *allowed, tri_status_t *st); /* absent is fine */
void tri_validate_min(const json_t *o, const char *key, const char *path, long long min, tri_status_t *st); /* absent is fine */
void tri_validate_name(const json_t *obj, bool label, tri_status_t *st); /* metadata.name: DNS-1123 label or subdomain */
void tri_labelsel_format(const json_t *sel, tri_buf_t *out); /* LabelSelector as selector.String(); "" = everything */
bool tri_labelsel_matches(const json_t *sel, const json_t *labels);
void tri_labelsel_validate(const json_t *sel, const char *path, tri_status_t *st);
bool tri_time_parse(const char *rfc3339, int64_t *unix_s);
void tri_duration_format(long long seconds, char *out, size_t len); /* duration.HumanDuration */
json_t *tri_row_new(const json_t *obj); /* a table_all_columns row: [name] */
void tri_row_extend(json_t *row, json_t *cells); /* steals cells */
void tri_row_add_age(json_t *row, const json_t *obj);
void tri_row_add_containers(json_t *row, const json_t *podspec); /* CONTAINERS and IMAGES cells */
#define TRI_NAME_COLUMN {"Name", "string", "name", "Name must be unique within a namespace.", 0}
#define TRI_AGE_COLUMN {"Age", "string", "", "CreationTimestamp is a timestamp representing the server time when this object was created.", 0}
#define TRI_CONTAINERS_COLUMN {"Containers", "string", "", "Names of each container in the template.", 1}
#define TRI_IMAGES_COLUMN {"Images", "string", "", "Images referenced by each container in the template.", 1}
bool tri_cron_parse(const char *schedule, char *err, size_t errlen); /* 5-field cron or @descriptor */
json_t *tri_hpa_v1_to_v2(const json_t *v1);
json_t *tri_hpa_v2_to_v1(const json_t *v2);
json_t *tri_event_v1_to_core(const json_t *obj); /* events.k8s.io/v1 -> core/v1 */
json_t *tri_event_core_to_v1(const json_t *obj);

/* Built-in namespaces that exist from the start (Kubernetes' own four). */
extern const char *const tri_builtin_namespaces[];

#endif
