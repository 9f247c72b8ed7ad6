/* Protobuf schemas of the objects kubectl 1.32 sends as protobuf, as data.
 *
 * Each table mirrors a message of Kubernetes' generated.proto files (field number,
 * the JSON name Go's struct tag gives it, how the value converts, and whether Go's
 * JSON would keep a zero value). protobuf.c walks these tables; supporting another
 * kind means adding its messages here and a row in kinds[]. Field numbers come from
 * k8s.io/api and k8s.io/apimachinery generated.proto (v1.32). managedFields (17)
 * is left out on purpose: clients do not send it and unknown fields are skipped.
 */
#include "codec_internal.h"

#include <string.h>

#define FIELDS(arr) arr, sizeof arr / sizeof arr[0]
#define STR(n, j) {n, j, TRI_PB_STRING, 0, NULL}
#define STRS(n, j) {n, j, TRI_PB_STRING, TRI_PB_REPEATED, NULL}
#define MSG(n, j, m) {n, j, TRI_PB_MESSAGE, 0, &m}
#define MSGS(n, j, m) {n, j, TRI_PB_MESSAGE, TRI_PB_REPEATED, &m}

/* ---------- k8s.io/apimachinery/pkg/apis/meta/v1 ---------- */

static const tri_pb_field_t owner_reference_fields[] = {
    STR(5, "apiVersion"),
    STR(1, "kind"),
    STR(3, "name"),
    STR(4, "uid"),
    {6, "controller", TRI_PB_BOOL, TRI_PB_KEEP_ZERO, NULL},
    {7, "blockOwnerDeletion", TRI_PB_BOOL, TRI_PB_KEEP_ZERO, NULL},
};
static const tri_pb_message_t owner_reference = {"OwnerReference", FIELDS(owner_reference_fields)};

static const tri_pb_field_t object_meta_fields[] = {
    STR(1, "name"),
    STR(2, "generateName"),
    STR(3, "namespace"),
    STR(4, "selfLink"),
    STR(5, "uid"),
    STR(6, "resourceVersion"),
    {7, "generation", TRI_PB_INT64, 0, NULL},
    {8, "creationTimestamp", TRI_PB_TIME, 0, NULL},
    {9, "deletionTimestamp", TRI_PB_TIME, 0, NULL},
    {10, "deletionGracePeriodSeconds", TRI_PB_INT64, TRI_PB_KEEP_ZERO, NULL},
    {11, "labels", TRI_PB_MAP_STRING, 0, NULL},
    {12, "annotations", TRI_PB_MAP_STRING, 0, NULL},
    MSGS(13, "ownerReferences", owner_reference),
    STRS(14, "finalizers"),
};
static const tri_pb_message_t object_meta = {"ObjectMeta", FIELDS(object_meta_fields)};

static const tri_pb_field_t condition_fields[] = {
    STR(1, "type"),
    STR(2, "status"),
    {3, "observedGeneration", TRI_PB_INT64, 0, NULL},
    {4, "lastTransitionTime", TRI_PB_TIME, 0, NULL},
    STR(5, "reason"),
    STR(6, "message"),
};
static const tri_pb_message_t condition = {"Condition", FIELDS(condition_fields)};

/* ---------- core/v1 ---------- */

static const tri_pb_field_t config_map_fields[] = {
    MSG(1, "metadata", object_meta),
    {4, "immutable", TRI_PB_BOOL, TRI_PB_KEEP_ZERO, NULL},
    {2, "data", TRI_PB_MAP_STRING, 0, NULL},
    {3, "binaryData", TRI_PB_MAP_BYTES, 0, NULL},
};
static const tri_pb_message_t config_map = {"ConfigMap", FIELDS(config_map_fields)};

static const tri_pb_field_t secret_fields[] = {
    MSG(1, "metadata", object_meta),
    {5, "immutable", TRI_PB_BOOL, TRI_PB_KEEP_ZERO, NULL},
    {2, "data", TRI_PB_MAP_BYTES, 0, NULL},
    {4, "stringData", TRI_PB_MAP_STRING, 0, NULL},
    STR(3, "type"),
};
static const tri_pb_message_t secret = {"Secret", FIELDS(secret_fields)};

static const tri_pb_field_t namespace_condition_fields[] = {
    STR(1, "type"), STR(2, "status"), {4, "lastTransitionTime", TRI_PB_TIME, 0, NULL},
    STR(5, "reason"), STR(6, "message"),
};
static const tri_pb_message_t namespace_condition = {"NamespaceCondition",
                                                     FIELDS(namespace_condition_fields)};
static const tri_pb_field_t namespace_spec_fields[] = {STRS(1, "finalizers")};
static const tri_pb_message_t namespace_spec = {"NamespaceSpec", FIELDS(namespace_spec_fields)};
static const tri_pb_field_t namespace_status_fields[] = {
    STR(1, "phase"),
    MSGS(2, "conditions", namespace_condition),
};
static const tri_pb_message_t namespace_status = {"NamespaceStatus",
                                                  FIELDS(namespace_status_fields)};
static const tri_pb_field_t namespace_fields[] = {
    MSG(1, "metadata", object_meta),
    MSG(2, "spec", namespace_spec),
    MSG(3, "status", namespace_status),
};
static const tri_pb_message_t namespace_ = {"Namespace", FIELDS(namespace_fields)};

static const tri_pb_field_t object_reference_fields[] = {
    STR(1, "kind"), STR(2, "namespace"),       STR(3, "name"),      STR(4, "uid"),
    STR(5, "apiVersion"), STR(6, "resourceVersion"), STR(7, "fieldPath"),
};
static const tri_pb_message_t object_reference = {"ObjectReference",
                                                  FIELDS(object_reference_fields)};
static const tri_pb_field_t local_object_reference_fields[] = {STR(1, "name")};
static const tri_pb_message_t local_object_reference = {"LocalObjectReference",
                                                        FIELDS(local_object_reference_fields)};

static const tri_pb_field_t service_account_fields[] = {
    MSG(1, "metadata", object_meta),
    MSGS(2, "secrets", object_reference),
    MSGS(3, "imagePullSecrets", local_object_reference),
    {4, "automountServiceAccountToken", TRI_PB_BOOL, TRI_PB_KEEP_ZERO, NULL},
};
static const tri_pb_message_t service_account = {"ServiceAccount", FIELDS(service_account_fields)};

static const tri_pb_field_t service_port_fields[] = {
    STR(1, "name"),
    STR(2, "protocol"),
    {6, "appProtocol", TRI_PB_STRING, TRI_PB_KEEP_ZERO, NULL},
    {3, "port", TRI_PB_INT32, TRI_PB_KEEP_ZERO, NULL},
    {4, "targetPort", TRI_PB_INT_OR_STRING, TRI_PB_KEEP_ZERO, NULL},
    {5, "nodePort", TRI_PB_INT32, 0, NULL},
};
static const tri_pb_message_t service_port = {"ServicePort", FIELDS(service_port_fields)};
static const tri_pb_field_t client_ip_config_fields[] = {
    {1, "timeoutSeconds", TRI_PB_INT32, TRI_PB_KEEP_ZERO, NULL},
};
static const tri_pb_message_t client_ip_config = {"ClientIPConfig",
                                                  FIELDS(client_ip_config_fields)};
static const tri_pb_field_t session_affinity_config_fields[] = {
    MSG(1, "clientIP", client_ip_config),
};
static const tri_pb_message_t session_affinity_config = {"SessionAffinityConfig",
                                                         FIELDS(session_affinity_config_fields)};
static const tri_pb_field_t service_spec_fields[] = {
    MSGS(1, "ports", service_port),
    {2, "selector", TRI_PB_MAP_STRING, 0, NULL},
    STR(3, "clusterIP"),
    STRS(18, "clusterIPs"),
    STR(4, "type"),
    STRS(5, "externalIPs"),
    STR(7, "sessionAffinity"),
    STR(8, "loadBalancerIP"),
    STRS(9, "loadBalancerSourceRanges"),
    STR(10, "externalName"),
    STR(11, "externalTrafficPolicy"),
    {12, "healthCheckNodePort", TRI_PB_INT32, 0, NULL},
    {13, "publishNotReadyAddresses", TRI_PB_BOOL, 0, NULL},
    MSG(14, "sessionAffinityConfig", session_affinity_config),
    STRS(19, "ipFamilies"),
    {17, "ipFamilyPolicy", TRI_PB_STRING, TRI_PB_KEEP_ZERO, NULL},
    {20, "allocateLoadBalancerNodePorts", TRI_PB_BOOL, TRI_PB_KEEP_ZERO, NULL},
    {21, "loadBalancerClass", TRI_PB_STRING, TRI_PB_KEEP_ZERO, NULL},
    {22, "internalTrafficPolicy", TRI_PB_STRING, TRI_PB_KEEP_ZERO, NULL},
    {23, "trafficDistribution", TRI_PB_STRING, TRI_PB_KEEP_ZERO, NULL},
};
static const tri_pb_message_t service_spec = {"ServiceSpec", FIELDS(service_spec_fields)};
static const tri_pb_field_t load_balancer_ingress_fields[] = {
    STR(1, "ip"), STR(2, "hostname"), {3, "ipMode", TRI_PB_STRING, TRI_PB_KEEP_ZERO, NULL},
};
static const tri_pb_message_t load_balancer_ingress = {"LoadBalancerIngress",
                                                       FIELDS(load_balancer_ingress_fields)};
static const tri_pb_field_t load_balancer_status_fields[] = {
    MSGS(1, "ingress", load_balancer_ingress),
};
static const tri_pb_message_t load_balancer_status = {"LoadBalancerStatus",
                                                      FIELDS(load_balancer_status_fields)};
static const tri_pb_field_t service_status_fields[] = {
    MSG(1, "loadBalancer", load_balancer_status),
    MSGS(2, "conditions", condition),
};
static const tri_pb_message_t service_status = {"ServiceStatus", FIELDS(service_status_fields)};
static const tri_pb_field_t service_fields[] = {
    MSG(1, "metadata", object_meta),
    MSG(2, "spec", service_spec),
    MSG(3, "status", service_status),
};
static const tri_pb_message_t service = {"Service", FIELDS(service_fields)};

/* ---------- rbac.authorization.k8s.io/v1 ---------- */

static const tri_pb_field_t policy_rule_fields[] = {
    STRS(1, "verbs"), STRS(2, "apiGroups"), STRS(3, "resources"), STRS(4, "resourceNames"),
    STRS(5, "nonResourceURLs"),
};
static const tri_pb_message_t policy_rule = {"PolicyRule", FIELDS(policy_rule_fields)};
static const tri_pb_field_t role_fields[] = {
    MSG(1, "metadata", object_meta),
    MSGS(2, "rules", policy_rule),
};
static const tri_pb_message_t role = {"Role", FIELDS(role_fields)};
static const tri_pb_field_t subject_fields[] = {
    STR(1, "kind"), STR(2, "apiGroup"), STR(3, "name"), STR(4, "namespace"),
};
static const tri_pb_message_t subject = {"Subject", FIELDS(subject_fields)};
static const tri_pb_field_t role_ref_fields[] = {
    {1, "apiGroup", TRI_PB_STRING, TRI_PB_KEEP_ZERO, NULL},
    {2, "kind", TRI_PB_STRING, TRI_PB_KEEP_ZERO, NULL},
    {3, "name", TRI_PB_STRING, TRI_PB_KEEP_ZERO, NULL},
};
static const tri_pb_message_t role_ref = {"RoleRef", FIELDS(role_ref_fields)};
static const tri_pb_field_t role_binding_fields[] = {
    MSG(1, "metadata", object_meta),
    MSGS(2, "subjects", subject),
    MSG(3, "roleRef", role_ref),
};
static const tri_pb_message_t role_binding = {"RoleBinding", FIELDS(role_binding_fields)};

/* ---------- kinds ---------- */

typedef struct kind_schema {
    const char *api_version;
    const char *kind;
    const tri_pb_message_t *message;
} kind_schema_t;

static const kind_schema_t kinds[] = {
    {"v1", "ConfigMap", &config_map},
    {"v1", "Secret", &secret},
    {"v1", "Namespace", &namespace_},
    {"v1", "ServiceAccount", &service_account},
    {"v1", "Service", &service},
    {"rbac.authorization.k8s.io/v1", "Role", &role},
    {"rbac.authorization.k8s.io/v1", "ClusterRole", &role},
    {"rbac.authorization.k8s.io/v1", "RoleBinding", &role_binding},
    {"rbac.authorization.k8s.io/v1", "ClusterRoleBinding", &role_binding},
};

const tri_pb_message_t *tri_pb_schema_lookup(const char *api_version, const char *kind)
{
    if (!api_version || !kind)
        return NULL;
    for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++) {
        if (strcmp(kinds[i].api_version, api_version) == 0 && strcmp(kinds[i].kind, kind) == 0)
            return kinds[i].message;
    }
    return NULL;
}
