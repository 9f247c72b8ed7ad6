/* Protobuf schemas of the objects kubectl sends as protobuf, as data.
 *
 * Each table mirrors a message of Kubernetes' generated.proto files (field number,
 * the JSON name Go's struct tag gives it, how the value converts, and whether Go's
 * JSON would keep a zero value). protobuf.c walks these tables; supporting another
 * kind means adding its messages here (or in a protobuf_schema_*.c file, for the
 * kinds that cluster components rather than kubectl write; protobuf_schema.h shares
 * the building blocks) and a row in kinds[]. Field numbers and JSON
 * names come from k8s.io/api and k8s.io/apimachinery v1.33 (a superset of 1.32).
 * kubectl 1.32 and 1.33 send every kind of this file's part of kinds[] but Pod,
 * PVC and the apps/v1 workloads other than Deployment from a typed command (create
 * deployment|job|cronjob|ingress|token|quota|priorityclass|poddisruptionbudget...,
 * autoscale: autoscaling/v1 from 1.32, autoscaling/v2 from 1.33, auth can-i); those
 * share PodSpec and cost nothing more. managedFields (17) is left out on purpose:
 * clients do not send it and unknown fields are skipped. Pod's status (and a PVC
 * template's) is read as unread_status: clients send it empty and only a kubelet
 * writing /status in protobuf would need its fields.
 */
#include "codec_internal.h"
#include "protobuf_schema.h"

#include <string.h>


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
SHARED(object_meta, "ObjectMeta");

static const tri_pb_field_t condition_fields[] = {
    STR(1, "type"),
    STR(2, "status"),
    {3, "observedGeneration", TRI_PB_INT64, 0, NULL},
    {4, "lastTransitionTime", TRI_PB_TIME, 0, NULL},
    STR(5, "reason"),
    STR(6, "message"),
};
static const tri_pb_message_t condition = {"Condition", FIELDS(condition_fields)};

static const tri_pb_field_t label_selector_requirement_fields[] = {
    KSTR(1, "key"),
    KSTR(2, "operator"),
    STRS(3, "values"),
};
MESSAGE(label_selector_requirement, "LabelSelectorRequirement");

static const tri_pb_field_t label_selector_fields[] = {
    MAP(1, "matchLabels"),
    MSGS(2, "matchExpressions", label_selector_requirement),
};
SHARED(label_selector, "LabelSelector");

/* A status whose fields are not decoded (see the top of the file): present on the
 * wire, it becomes {}, as Go's JSON shows an all-omitempty empty struct. */
static const tri_pb_message_t unread_status = {"Status", NULL, 0};

/* ---------- core/v1 ---------- */

static const tri_pb_field_t config_map_fields[] = {
    MSG(1, "metadata", tri_pb_object_meta),
    {4, "immutable", TRI_PB_BOOL, TRI_PB_KEEP_ZERO, NULL},
    {2, "data", TRI_PB_MAP_STRING, 0, NULL},
    {3, "binaryData", TRI_PB_MAP_BYTES, 0, NULL},
};
static const tri_pb_message_t config_map = {"ConfigMap", FIELDS(config_map_fields)};

static const tri_pb_field_t secret_fields[] = {
    MSG(1, "metadata", tri_pb_object_meta),
    {5, "immutable", TRI_PB_BOOL, TRI_PB_KEEP_ZERO, NULL},
    {2, "data", TRI_PB_MAP_BYTES, 0, NULL},
    {4, "stringData", TRI_PB_MAP_STRING, 0, NULL},
    STR(3, "type"),
};
static const tri_pb_message_t secret = {"Secret", FIELDS(secret_fields)};

static const tri_pb_field_t namespace_condition_fields[] = {
    STR(1, "type"),   STR(2, "status"),  {4, "lastTransitionTime", TRI_PB_TIME, 0, NULL},
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
    MSG(1, "metadata", tri_pb_object_meta),
    MSG(2, "spec", namespace_spec),
    MSG(3, "status", namespace_status),
};
static const tri_pb_message_t namespace_ = {"Namespace", FIELDS(namespace_fields)};

static const tri_pb_field_t object_reference_fields[] = {
    STR(1, "kind"),       STR(2, "namespace"),       STR(3, "name"),      STR(4, "uid"),
    STR(5, "apiVersion"), STR(6, "resourceVersion"), STR(7, "fieldPath"),
};
SHARED(object_reference, "ObjectReference");
static const tri_pb_field_t local_object_reference_fields[] = {STR(1, "name")};
static const tri_pb_message_t local_object_reference = {"LocalObjectReference",
                                                        FIELDS(local_object_reference_fields)};

static const tri_pb_field_t service_account_fields[] = {
    MSG(1, "metadata", tri_pb_object_meta),
    MSGS(2, "secrets", tri_pb_object_reference),
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
    STR(1, "ip"),
    STR(2, "hostname"),
    {3, "ipMode", TRI_PB_STRING, TRI_PB_KEEP_ZERO, NULL},
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
    MSG(1, "metadata", tri_pb_object_meta),
    MSG(2, "spec", service_spec),
    MSG(3, "status", service_status),
};
static const tri_pb_message_t service = {"Service", FIELDS(service_fields)};

/* ---------- rbac.authorization.k8s.io/v1 ---------- */

static const tri_pb_field_t policy_rule_fields[] = {
    STRS(1, "verbs"),         STRS(2, "apiGroups"),       STRS(3, "resources"),
    STRS(4, "resourceNames"), STRS(5, "nonResourceURLs"),
};
static const tri_pb_message_t policy_rule = {"PolicyRule", FIELDS(policy_rule_fields)};
static const tri_pb_field_t role_fields[] = {
    MSG(1, "metadata", tri_pb_object_meta),
    MSGS(2, "rules", policy_rule),
};
static const tri_pb_message_t role = {"Role", FIELDS(role_fields)};
static const tri_pb_field_t aggregation_rule_fields[] = {
    MSGS(1, "clusterRoleSelectors", tri_pb_label_selector),
};
MESSAGE(aggregation_rule, "AggregationRule");
static const tri_pb_field_t cluster_role_fields[] = {
    MSG(1, "metadata", tri_pb_object_meta),
    MSGS(2, "rules", policy_rule),
    MSG(3, "aggregationRule", aggregation_rule),
};
MESSAGE(cluster_role, "ClusterRole");
static const tri_pb_field_t subject_fields[] = {
    STR(1, "kind"),
    STR(2, "apiGroup"),
    STR(3, "name"),
    STR(4, "namespace"),
};
static const tri_pb_message_t subject = {"Subject", FIELDS(subject_fields)};
static const tri_pb_field_t role_ref_fields[] = {
    {1, "apiGroup", TRI_PB_STRING, TRI_PB_KEEP_ZERO, NULL},
    {2, "kind", TRI_PB_STRING, TRI_PB_KEEP_ZERO, NULL},
    {3, "name", TRI_PB_STRING, TRI_PB_KEEP_ZERO, NULL},
};
static const tri_pb_message_t role_ref = {"RoleRef", FIELDS(role_ref_fields)};
static const tri_pb_field_t role_binding_fields[] = {
    MSG(1, "metadata", tri_pb_object_meta),
    MSGS(2, "subjects", subject),
    MSG(3, "roleRef", role_ref),
};
static const tri_pb_message_t role_binding = {"RoleBinding", FIELDS(role_binding_fields)};

/* ---------- core/v1: PodSpec and what it holds, PVC, ResourceQuota ---------- */

static const tri_pb_field_t host_path_volume_source_fields[] = {
    KSTR(1, "path"),
    KSTR(2, "type"),
};
SHARED(host_path_volume_source, "HostPathVolumeSource");

static const tri_pb_field_t empty_dir_volume_source_fields[] = {
    STR(1, "medium"),
    QTY(2, "sizeLimit"),
};
MESSAGE(empty_dir_volume_source, "EmptyDirVolumeSource");

static const tri_pb_field_t gce_persistent_disk_volume_source_fields[] = {
    KSTR(1, "pdName"),
    STR(2, "fsType"),
    I32(3, "partition"),
    BOOL(4, "readOnly"),
};
SHARED(gce_persistent_disk_volume_source, "GCEPersistentDiskVolumeSource");

static const tri_pb_field_t aws_elastic_block_store_volume_source_fields[] = {
    KSTR(1, "volumeID"),
    STR(2, "fsType"),
    I32(3, "partition"),
    BOOL(4, "readOnly"),
};
SHARED(aws_elastic_block_store_volume_source, "AWSElasticBlockStoreVolumeSource");

static const tri_pb_field_t git_repo_volume_source_fields[] = {
    KSTR(1, "repository"),
    STR(2, "revision"),
    STR(3, "directory"),
};
MESSAGE(git_repo_volume_source, "GitRepoVolumeSource");

static const tri_pb_field_t key_to_path_fields[] = {
    KSTR(1, "key"),
    KSTR(2, "path"),
    KI32(3, "mode"),
};
MESSAGE(key_to_path, "KeyToPath");

static const tri_pb_field_t secret_volume_source_fields[] = {
    STR(1, "secretName"),
    MSGS(2, "items", key_to_path),
    KI32(3, "defaultMode"),
    KBOOL(4, "optional"),
};
MESSAGE(secret_volume_source, "SecretVolumeSource");

static const tri_pb_field_t nfs_volume_source_fields[] = {
    KSTR(1, "server"),
    KSTR(2, "path"),
    BOOL(3, "readOnly"),
};
SHARED(nfs_volume_source, "NFSVolumeSource");

static const tri_pb_field_t iscsi_volume_source_fields[] = {
    KSTR(1, "targetPortal"),
    KSTR(2, "iqn"),
    KI32(3, "lun"),
    STR(4, "iscsiInterface"),
    STR(5, "fsType"),
    BOOL(6, "readOnly"),
    STRS(7, "portals"),
    BOOL(8, "chapAuthDiscovery"),
    BOOL(11, "chapAuthSession"),
    MSG(10, "secretRef", local_object_reference),
    KSTR(12, "initiatorName"),
};
MESSAGE(iscsi_volume_source, "ISCSIVolumeSource");

static const tri_pb_field_t glusterfs_volume_source_fields[] = {
    KSTR(1, "endpoints"),
    KSTR(2, "path"),
    BOOL(3, "readOnly"),
};
MESSAGE(glusterfs_volume_source, "GlusterfsVolumeSource");

static const tri_pb_field_t persistent_volume_claim_volume_source_fields[] = {
    KSTR(1, "claimName"),
    BOOL(2, "readOnly"),
};
MESSAGE(persistent_volume_claim_volume_source, "PersistentVolumeClaimVolumeSource");

static const tri_pb_field_t rbd_volume_source_fields[] = {
    STRS(1, "monitors"),
    KSTR(2, "image"),
    STR(3, "fsType"),
    STR(4, "pool"),
    STR(5, "user"),
    STR(6, "keyring"),
    MSG(7, "secretRef", local_object_reference),
    BOOL(8, "readOnly"),
};
MESSAGE(rbd_volume_source, "RBDVolumeSource");

static const tri_pb_field_t flex_volume_source_fields[] = {
    KSTR(1, "driver"),   STR(2, "fsType"),  MSG(3, "secretRef", local_object_reference),
    BOOL(4, "readOnly"), MAP(5, "options"),
};
MESSAGE(flex_volume_source, "FlexVolumeSource");

static const tri_pb_field_t cinder_volume_source_fields[] = {
    KSTR(1, "volumeID"),
    STR(2, "fsType"),
    BOOL(3, "readOnly"),
    MSG(4, "secretRef", local_object_reference),
};
MESSAGE(cinder_volume_source, "CinderVolumeSource");

static const tri_pb_field_t ceph_fs_volume_source_fields[] = {
    STRS(1, "monitors"),
    STR(2, "path"),
    STR(3, "user"),
    STR(4, "secretFile"),
    MSG(5, "secretRef", local_object_reference),
    BOOL(6, "readOnly"),
};
MESSAGE(ceph_fs_volume_source, "CephFSVolumeSource");

static const tri_pb_field_t flocker_volume_source_fields[] = {
    STR(1, "datasetName"),
    STR(2, "datasetUUID"),
};
SHARED(flocker_volume_source, "FlockerVolumeSource");

static const tri_pb_field_t object_field_selector_fields[] = {
    STR(1, "apiVersion"),
    KSTR(2, "fieldPath"),
};
MESSAGE(object_field_selector, "ObjectFieldSelector");

static const tri_pb_field_t resource_field_selector_fields[] = {
    STR(1, "containerName"),
    KSTR(2, "resource"),
    QTY(3, "divisor"),
};
MESSAGE(resource_field_selector, "ResourceFieldSelector");

static const tri_pb_field_t downward_api_volume_file_fields[] = {
    KSTR(1, "path"),
    MSG(2, "fieldRef", object_field_selector),
    MSG(3, "resourceFieldRef", resource_field_selector),
    KI32(4, "mode"),
};
MESSAGE(downward_api_volume_file, "DownwardAPIVolumeFile");

static const tri_pb_field_t downward_api_volume_source_fields[] = {
    MSGS(1, "items", downward_api_volume_file),
    KI32(2, "defaultMode"),
};
MESSAGE(downward_api_volume_source, "DownwardAPIVolumeSource");

static const tri_pb_field_t fc_volume_source_fields[] = {
    STRS(1, "targetWWNs"), KI32(2, "lun"), STR(3, "fsType"), BOOL(4, "readOnly"), STRS(5, "wwids"),
};
SHARED(fc_volume_source, "FCVolumeSource");

static const tri_pb_field_t azure_file_volume_source_fields[] = {
    KSTR(1, "secretName"),
    KSTR(2, "shareName"),
    BOOL(3, "readOnly"),
};
MESSAGE(azure_file_volume_source, "AzureFileVolumeSource");

static const tri_pb_field_t config_map_volume_source_fields[] = {
    INLINE(1, local_object_reference),
    MSGS(2, "items", key_to_path),
    KI32(3, "defaultMode"),
    KBOOL(4, "optional"),
};
MESSAGE(config_map_volume_source, "ConfigMapVolumeSource");

static const tri_pb_field_t vsphere_virtual_disk_volume_source_fields[] = {
    KSTR(1, "volumePath"),
    STR(2, "fsType"),
    STR(3, "storagePolicyName"),
    STR(4, "storagePolicyID"),
};
SHARED(vsphere_virtual_disk_volume_source, "VsphereVirtualDiskVolumeSource");

static const tri_pb_field_t quobyte_volume_source_fields[] = {
    KSTR(1, "registry"), KSTR(2, "volume"), BOOL(3, "readOnly"),
    STR(4, "user"),      STR(5, "group"),   STR(6, "tenant"),
};
SHARED(quobyte_volume_source, "QuobyteVolumeSource");

static const tri_pb_field_t azure_disk_volume_source_fields[] = {
    KSTR(1, "diskName"), KSTR(2, "diskURI"),   KSTR(3, "cachingMode"),
    KSTR(4, "fsType"),   KBOOL(5, "readOnly"), KSTR(6, "kind"),
};
SHARED(azure_disk_volume_source, "AzureDiskVolumeSource");

static const tri_pb_field_t photon_persistent_disk_volume_source_fields[] = {
    KSTR(1, "pdID"),
    STR(2, "fsType"),
};
SHARED(photon_persistent_disk_volume_source, "PhotonPersistentDiskVolumeSource");

static const tri_pb_field_t secret_projection_fields[] = {
    INLINE(1, local_object_reference),
    MSGS(2, "items", key_to_path),
    KBOOL(4, "optional"),
};
MESSAGE(secret_projection, "SecretProjection");

static const tri_pb_field_t downward_api_projection_fields[] = {
    MSGS(1, "items", downward_api_volume_file),
};
MESSAGE(downward_api_projection, "DownwardAPIProjection");

static const tri_pb_field_t config_map_projection_fields[] = {
    INLINE(1, local_object_reference),
    MSGS(2, "items", key_to_path),
    KBOOL(4, "optional"),
};
MESSAGE(config_map_projection, "ConfigMapProjection");

static const tri_pb_field_t service_account_token_projection_fields[] = {
    STR(1, "audience"),
    KI64(2, "expirationSeconds"),
    KSTR(3, "path"),
};
MESSAGE(service_account_token_projection, "ServiceAccountTokenProjection");

static const tri_pb_field_t cluster_trust_bundle_projection_fields[] = {
    KSTR(1, "name"),      KSTR(2, "signerName"), MSG(3, "labelSelector", tri_pb_label_selector),
    KBOOL(5, "optional"), KSTR(4, "path"),
};
MESSAGE(cluster_trust_bundle_projection, "ClusterTrustBundleProjection");

static const tri_pb_field_t volume_projection_fields[] = {
    MSG(1, "secret", secret_projection),
    MSG(2, "downwardAPI", downward_api_projection),
    MSG(3, "configMap", config_map_projection),
    MSG(4, "serviceAccountToken", service_account_token_projection),
    MSG(5, "clusterTrustBundle", cluster_trust_bundle_projection),
};
MESSAGE(volume_projection, "VolumeProjection");

static const tri_pb_field_t projected_volume_source_fields[] = {
    MSGS(1, "sources", volume_projection),
    KI32(2, "defaultMode"),
};
MESSAGE(projected_volume_source, "ProjectedVolumeSource");

static const tri_pb_field_t portworx_volume_source_fields[] = {
    KSTR(1, "volumeID"),
    STR(2, "fsType"),
    BOOL(3, "readOnly"),
};
SHARED(portworx_volume_source, "PortworxVolumeSource");

static const tri_pb_field_t scale_io_volume_source_fields[] = {
    KSTR(1, "gateway"),    KSTR(2, "system"),          MSG(3, "secretRef", local_object_reference),
    BOOL(4, "sslEnabled"), STR(5, "protectionDomain"), STR(6, "storagePool"),
    STR(7, "storageMode"), STR(8, "volumeName"),       STR(9, "fsType"),
    BOOL(10, "readOnly"),
};
MESSAGE(scale_io_volume_source, "ScaleIOVolumeSource");

static const tri_pb_field_t storage_os_volume_source_fields[] = {
    STR(1, "volumeName"),
    STR(2, "volumeNamespace"),
    STR(3, "fsType"),
    BOOL(4, "readOnly"),
    MSG(5, "secretRef", local_object_reference),
};
MESSAGE(storage_os_volume_source, "StorageOSVolumeSource");

static const tri_pb_field_t csi_volume_source_fields[] = {
    KSTR(1, "driver"),
    KBOOL(2, "readOnly"),
    KSTR(3, "fsType"),
    MAP(4, "volumeAttributes"),
    MSG(5, "nodePublishSecretRef", local_object_reference),
};
MESSAGE(csi_volume_source, "CSIVolumeSource");

static const tri_pb_field_t volume_resource_requirements_fields[] = {
    QTYMAP(1, "limits"),
    QTYMAP(2, "requests"),
};
MESSAGE(volume_resource_requirements, "VolumeResourceRequirements");

static const tri_pb_field_t typed_local_object_reference_fields[] = {
    KSTR(1, "apiGroup"),
    KSTR(2, "kind"),
    KSTR(3, "name"),
};
MESSAGE(typed_local_object_reference, "TypedLocalObjectReference");

static const tri_pb_field_t typed_object_reference_fields[] = {
    KSTR(1, "apiGroup"),
    KSTR(2, "kind"),
    KSTR(3, "name"),
    KSTR(4, "namespace"),
};
MESSAGE(typed_object_reference, "TypedObjectReference");

static const tri_pb_field_t persistent_volume_claim_spec_fields[] = {
    STRS(1, "accessModes"),
    MSG(4, "selector", tri_pb_label_selector),
    MSG(2, "resources", volume_resource_requirements),
    STR(3, "volumeName"),
    KSTR(5, "storageClassName"),
    KSTR(6, "volumeMode"),
    MSG(7, "dataSource", typed_local_object_reference),
    MSG(8, "dataSourceRef", typed_object_reference),
    KSTR(9, "volumeAttributesClassName"),
};
MESSAGE(persistent_volume_claim_spec, "PersistentVolumeClaimSpec");

static const tri_pb_field_t persistent_volume_claim_template_fields[] = {
    MSG(1, "metadata", tri_pb_object_meta),
    MSG(2, "spec", persistent_volume_claim_spec),
};
MESSAGE(persistent_volume_claim_template, "PersistentVolumeClaimTemplate");

static const tri_pb_field_t ephemeral_volume_source_fields[] = {
    MSG(1, "volumeClaimTemplate", persistent_volume_claim_template),
};
MESSAGE(ephemeral_volume_source, "EphemeralVolumeSource");

static const tri_pb_field_t image_volume_source_fields[] = {
    STR(1, "reference"),
    STR(2, "pullPolicy"),
};
MESSAGE(image_volume_source, "ImageVolumeSource");

static const tri_pb_field_t volume_source_fields[] = {
    MSG(1, "hostPath", tri_pb_host_path_volume_source),
    MSG(2, "emptyDir", empty_dir_volume_source),
    MSG(3, "gcePersistentDisk", tri_pb_gce_persistent_disk_volume_source),
    MSG(4, "awsElasticBlockStore", tri_pb_aws_elastic_block_store_volume_source),
    MSG(5, "gitRepo", git_repo_volume_source),
    MSG(6, "secret", secret_volume_source),
    MSG(7, "nfs", tri_pb_nfs_volume_source),
    MSG(8, "iscsi", iscsi_volume_source),
    MSG(9, "glusterfs", glusterfs_volume_source),
    MSG(10, "persistentVolumeClaim", persistent_volume_claim_volume_source),
    MSG(11, "rbd", rbd_volume_source),
    MSG(12, "flexVolume", flex_volume_source),
    MSG(13, "cinder", cinder_volume_source),
    MSG(14, "cephfs", ceph_fs_volume_source),
    MSG(15, "flocker", tri_pb_flocker_volume_source),
    MSG(16, "downwardAPI", downward_api_volume_source),
    MSG(17, "fc", tri_pb_fc_volume_source),
    MSG(18, "azureFile", azure_file_volume_source),
    MSG(19, "configMap", config_map_volume_source),
    MSG(20, "vsphereVolume", tri_pb_vsphere_virtual_disk_volume_source),
    MSG(21, "quobyte", tri_pb_quobyte_volume_source),
    MSG(22, "azureDisk", tri_pb_azure_disk_volume_source),
    MSG(23, "photonPersistentDisk", tri_pb_photon_persistent_disk_volume_source),
    MSG(26, "projected", projected_volume_source),
    MSG(24, "portworxVolume", tri_pb_portworx_volume_source),
    MSG(25, "scaleIO", scale_io_volume_source),
    MSG(27, "storageos", storage_os_volume_source),
    MSG(28, "csi", csi_volume_source),
    MSG(29, "ephemeral", ephemeral_volume_source),
    MSG(30, "image", image_volume_source),
};
MESSAGE(volume_source, "VolumeSource");

static const tri_pb_field_t volume_fields[] = {
    KSTR(1, "name"),
    INLINE(2, volume_source),
};
MESSAGE(volume, "Volume");

static const tri_pb_field_t container_port_fields[] = {
    STR(1, "name"),     I32(2, "hostPort"), KI32(3, "containerPort"),
    STR(4, "protocol"), STR(5, "hostIP"),
};
MESSAGE(container_port, "ContainerPort");

static const tri_pb_field_t config_map_env_source_fields[] = {
    INLINE(1, local_object_reference),
    KBOOL(2, "optional"),
};
MESSAGE(config_map_env_source, "ConfigMapEnvSource");

static const tri_pb_field_t secret_env_source_fields[] = {
    INLINE(1, local_object_reference),
    KBOOL(2, "optional"),
};
MESSAGE(secret_env_source, "SecretEnvSource");

static const tri_pb_field_t env_from_source_fields[] = {
    STR(1, "prefix"),
    MSG(2, "configMapRef", config_map_env_source),
    MSG(3, "secretRef", secret_env_source),
};
MESSAGE(env_from_source, "EnvFromSource");

static const tri_pb_field_t config_map_key_selector_fields[] = {
    INLINE(1, local_object_reference),
    KSTR(2, "key"),
    KBOOL(3, "optional"),
};
MESSAGE(config_map_key_selector, "ConfigMapKeySelector");

static const tri_pb_field_t secret_key_selector_fields[] = {
    INLINE(1, local_object_reference),
    KSTR(2, "key"),
    KBOOL(3, "optional"),
};
MESSAGE(secret_key_selector, "SecretKeySelector");

static const tri_pb_field_t env_var_source_fields[] = {
    MSG(1, "fieldRef", object_field_selector),
    MSG(2, "resourceFieldRef", resource_field_selector),
    MSG(3, "configMapKeyRef", config_map_key_selector),
    MSG(4, "secretKeyRef", secret_key_selector),
};
MESSAGE(env_var_source, "EnvVarSource");

static const tri_pb_field_t env_var_fields[] = {
    KSTR(1, "name"),
    STR(2, "value"),
    MSG(3, "valueFrom", env_var_source),
};
MESSAGE(env_var, "EnvVar");

static const tri_pb_field_t resource_claim_fields[] = {
    KSTR(1, "name"),
    STR(2, "request"),
};
MESSAGE(resource_claim, "ResourceClaim");

static const tri_pb_field_t resource_requirements_fields[] = {
    QTYMAP(1, "limits"),
    QTYMAP(2, "requests"),
    MSGS(3, "claims", resource_claim),
};
MESSAGE(resource_requirements, "ResourceRequirements");

static const tri_pb_field_t container_resize_policy_fields[] = {
    KSTR(1, "resourceName"),
    KSTR(2, "restartPolicy"),
};
MESSAGE(container_resize_policy, "ContainerResizePolicy");

static const tri_pb_field_t volume_mount_fields[] = {
    KSTR(1, "name"),       BOOL(2, "readOnly"), KSTR(7, "recursiveReadOnly"),
    KSTR(3, "mountPath"),  STR(4, "subPath"),   KSTR(5, "mountPropagation"),
    STR(6, "subPathExpr"),
};
MESSAGE(volume_mount, "VolumeMount");

static const tri_pb_field_t volume_device_fields[] = {
    KSTR(1, "name"),
    KSTR(2, "devicePath"),
};
MESSAGE(volume_device, "VolumeDevice");

static const tri_pb_field_t exec_action_fields[] = {
    STRS(1, "command"),
};
MESSAGE(exec_action, "ExecAction");

static const tri_pb_field_t http_header_fields[] = {
    KSTR(1, "name"),
    KSTR(2, "value"),
};
MESSAGE(http_header, "HTTPHeader");

static const tri_pb_field_t http_get_action_fields[] = {
    STR(1, "path"),
    IOS(2, "port"),
    STR(3, "host"),
    STR(4, "scheme"),
    MSGS(5, "httpHeaders", http_header),
};
MESSAGE(http_get_action, "HTTPGetAction");

static const tri_pb_field_t tcp_socket_action_fields[] = {
    IOS(1, "port"),
    STR(2, "host"),
};
MESSAGE(tcp_socket_action, "TCPSocketAction");

static const tri_pb_field_t grpc_action_fields[] = {
    KI32(1, "port"),
    KSTR(2, "service"),
};
MESSAGE(grpc_action, "GRPCAction");

static const tri_pb_field_t probe_handler_fields[] = {
    MSG(1, "exec", exec_action),
    MSG(2, "httpGet", http_get_action),
    MSG(3, "tcpSocket", tcp_socket_action),
    MSG(4, "grpc", grpc_action),
};
MESSAGE(probe_handler, "ProbeHandler");

static const tri_pb_field_t probe_fields[] = {
    INLINE(1, probe_handler),
    I32(2, "initialDelaySeconds"),
    I32(3, "timeoutSeconds"),
    I32(4, "periodSeconds"),
    I32(5, "successThreshold"),
    I32(6, "failureThreshold"),
    KI64(7, "terminationGracePeriodSeconds"),
};
MESSAGE(probe, "Probe");

static const tri_pb_field_t sleep_action_fields[] = {
    KI64(1, "seconds"),
};
MESSAGE(sleep_action, "SleepAction");

static const tri_pb_field_t lifecycle_handler_fields[] = {
    MSG(1, "exec", exec_action),
    MSG(2, "httpGet", http_get_action),
    MSG(3, "tcpSocket", tcp_socket_action),
    MSG(4, "sleep", sleep_action),
};
MESSAGE(lifecycle_handler, "LifecycleHandler");

static const tri_pb_field_t lifecycle_fields[] = {
    MSG(1, "postStart", lifecycle_handler),
    MSG(2, "preStop", lifecycle_handler),
    KSTR(3, "stopSignal"),
};
MESSAGE(lifecycle, "Lifecycle");

static const tri_pb_field_t capabilities_fields[] = {
    STRS(1, "add"),
    STRS(2, "drop"),
};
MESSAGE(capabilities, "Capabilities");

static const tri_pb_field_t se_linux_options_fields[] = {
    STR(1, "user"),
    STR(2, "role"),
    STR(3, "type"),
    STR(4, "level"),
};
MESSAGE(se_linux_options, "SELinuxOptions");

static const tri_pb_field_t windows_security_context_options_fields[] = {
    KSTR(1, "gmsaCredentialSpecName"),
    KSTR(2, "gmsaCredentialSpec"),
    KSTR(3, "runAsUserName"),
    KBOOL(4, "hostProcess"),
};
MESSAGE(windows_security_context_options, "WindowsSecurityContextOptions");

static const tri_pb_field_t seccomp_profile_fields[] = {
    KSTR(1, "type"),
    KSTR(2, "localhostProfile"),
};
MESSAGE(seccomp_profile, "SeccompProfile");

static const tri_pb_field_t app_armor_profile_fields[] = {
    KSTR(1, "type"),
    KSTR(2, "localhostProfile"),
};
MESSAGE(app_armor_profile, "AppArmorProfile");

static const tri_pb_field_t security_context_fields[] = {
    MSG(1, "capabilities", capabilities),
    KBOOL(2, "privileged"),
    MSG(3, "seLinuxOptions", se_linux_options),
    MSG(10, "windowsOptions", windows_security_context_options),
    KI64(4, "runAsUser"),
    KI64(8, "runAsGroup"),
    KBOOL(5, "runAsNonRoot"),
    KBOOL(6, "readOnlyRootFilesystem"),
    KBOOL(7, "allowPrivilegeEscalation"),
    KSTR(9, "procMount"),
    MSG(11, "seccompProfile", seccomp_profile),
    MSG(12, "appArmorProfile", app_armor_profile),
};
MESSAGE(security_context, "SecurityContext");

static const tri_pb_field_t container_fields[] = {
    KSTR(1, "name"),
    STR(2, "image"),
    STRS(3, "command"),
    STRS(4, "args"),
    STR(5, "workingDir"),
    MSGS(6, "ports", container_port),
    MSGS(19, "envFrom", env_from_source),
    MSGS(7, "env", env_var),
    MSG(8, "resources", resource_requirements),
    MSGS(23, "resizePolicy", container_resize_policy),
    KSTR(24, "restartPolicy"),
    MSGS(9, "volumeMounts", volume_mount),
    MSGS(21, "volumeDevices", volume_device),
    MSG(10, "livenessProbe", probe),
    MSG(11, "readinessProbe", probe),
    MSG(22, "startupProbe", probe),
    MSG(12, "lifecycle", lifecycle),
    STR(13, "terminationMessagePath"),
    STR(20, "terminationMessagePolicy"),
    STR(14, "imagePullPolicy"),
    MSG(15, "securityContext", security_context),
    BOOL(16, "stdin"),
    BOOL(17, "stdinOnce"),
    BOOL(18, "tty"),
};
MESSAGE(container, "Container");

static const tri_pb_field_t ephemeral_container_fields[] = {
    INLINE(1, container),
    STR(2, "targetContainerName"),
};
MESSAGE(ephemeral_container, "EphemeralContainer");

static const tri_pb_field_t sysctl_fields[] = {
    KSTR(1, "name"),
    KSTR(2, "value"),
};
MESSAGE(sysctl, "Sysctl");

static const tri_pb_field_t pod_security_context_fields[] = {
    MSG(1, "seLinuxOptions", se_linux_options),
    MSG(8, "windowsOptions", windows_security_context_options),
    KI64(2, "runAsUser"),
    KI64(6, "runAsGroup"),
    KBOOL(3, "runAsNonRoot"),
    I64S(4, "supplementalGroups"),
    KSTR(12, "supplementalGroupsPolicy"),
    KI64(5, "fsGroup"),
    MSGS(7, "sysctls", sysctl),
    KSTR(9, "fsGroupChangePolicy"),
    MSG(10, "seccompProfile", seccomp_profile),
    MSG(11, "appArmorProfile", app_armor_profile),
    KSTR(13, "seLinuxChangePolicy"),
};
MESSAGE(pod_security_context, "PodSecurityContext");

static const tri_pb_field_t node_selector_requirement_fields[] = {
    KSTR(1, "key"),
    KSTR(2, "operator"),
    STRS(3, "values"),
};
MESSAGE(node_selector_requirement, "NodeSelectorRequirement");

static const tri_pb_field_t node_selector_term_fields[] = {
    MSGS(1, "matchExpressions", node_selector_requirement),
    MSGS(2, "matchFields", node_selector_requirement),
};
MESSAGE(node_selector_term, "NodeSelectorTerm");

static const tri_pb_field_t node_selector_fields[] = {
    MSGS(1, "nodeSelectorTerms", node_selector_term),
};
SHARED(node_selector, "NodeSelector");

static const tri_pb_field_t preferred_scheduling_term_fields[] = {
    KI32(1, "weight"),
    MSG(2, "preference", node_selector_term),
};
MESSAGE(preferred_scheduling_term, "PreferredSchedulingTerm");

static const tri_pb_field_t node_affinity_fields[] = {
    MSG(1, "requiredDuringSchedulingIgnoredDuringExecution", tri_pb_node_selector),
    MSGS(2, "preferredDuringSchedulingIgnoredDuringExecution", preferred_scheduling_term),
};
MESSAGE(node_affinity, "NodeAffinity");

static const tri_pb_field_t pod_affinity_term_fields[] = {
    MSG(1, "labelSelector", tri_pb_label_selector),
    STRS(2, "namespaces"),
    KSTR(3, "topologyKey"),
    MSG(4, "namespaceSelector", tri_pb_label_selector),
    STRS(5, "matchLabelKeys"),
    STRS(6, "mismatchLabelKeys"),
};
MESSAGE(pod_affinity_term, "PodAffinityTerm");

static const tri_pb_field_t weighted_pod_affinity_term_fields[] = {
    KI32(1, "weight"),
    MSG(2, "podAffinityTerm", pod_affinity_term),
};
MESSAGE(weighted_pod_affinity_term, "WeightedPodAffinityTerm");

static const tri_pb_field_t pod_affinity_fields[] = {
    MSGS(1, "requiredDuringSchedulingIgnoredDuringExecution", pod_affinity_term),
    MSGS(2, "preferredDuringSchedulingIgnoredDuringExecution", weighted_pod_affinity_term),
};
MESSAGE(pod_affinity, "PodAffinity");

static const tri_pb_field_t pod_anti_affinity_fields[] = {
    MSGS(1, "requiredDuringSchedulingIgnoredDuringExecution", pod_affinity_term),
    MSGS(2, "preferredDuringSchedulingIgnoredDuringExecution", weighted_pod_affinity_term),
};
MESSAGE(pod_anti_affinity, "PodAntiAffinity");

static const tri_pb_field_t affinity_fields[] = {
    MSG(1, "nodeAffinity", node_affinity),
    MSG(2, "podAffinity", pod_affinity),
    MSG(3, "podAntiAffinity", pod_anti_affinity),
};
MESSAGE(affinity, "Affinity");

static const tri_pb_field_t toleration_fields[] = {
    STR(1, "key"),    STR(2, "operator"),           STR(3, "value"),
    STR(4, "effect"), KI64(5, "tolerationSeconds"),
};
MESSAGE(toleration, "Toleration");

static const tri_pb_field_t host_alias_fields[] = {
    KSTR(1, "ip"),
    STRS(2, "hostnames"),
};
MESSAGE(host_alias, "HostAlias");

static const tri_pb_field_t pod_dns_config_option_fields[] = {
    STR(1, "name"),
    KSTR(2, "value"),
};
MESSAGE(pod_dns_config_option, "PodDNSConfigOption");

static const tri_pb_field_t pod_dns_config_fields[] = {
    STRS(1, "nameservers"),
    STRS(2, "searches"),
    MSGS(3, "options", pod_dns_config_option),
};
MESSAGE(pod_dns_config, "PodDNSConfig");

static const tri_pb_field_t pod_readiness_gate_fields[] = {
    KSTR(1, "conditionType"),
};
MESSAGE(pod_readiness_gate, "PodReadinessGate");

static const tri_pb_field_t topology_spread_constraint_fields[] = {
    KI32(1, "maxSkew"),           KSTR(2, "topologyKey"),
    KSTR(3, "whenUnsatisfiable"), MSG(4, "labelSelector", tri_pb_label_selector),
    KI32(5, "minDomains"),        KSTR(6, "nodeAffinityPolicy"),
    KSTR(7, "nodeTaintsPolicy"),  STRS(8, "matchLabelKeys"),
};
MESSAGE(topology_spread_constraint, "TopologySpreadConstraint");

static const tri_pb_field_t pod_os_fields[] = {
    KSTR(1, "name"),
};
MESSAGE(pod_os, "PodOS");

static const tri_pb_field_t pod_scheduling_gate_fields[] = {
    KSTR(1, "name"),
};
MESSAGE(pod_scheduling_gate, "PodSchedulingGate");

static const tri_pb_field_t pod_resource_claim_fields[] = {
    KSTR(1, "name"),
    KSTR(3, "resourceClaimName"),
    KSTR(4, "resourceClaimTemplateName"),
};
MESSAGE(pod_resource_claim, "PodResourceClaim");

static const tri_pb_field_t pod_spec_fields[] = {
    MSGS(1, "volumes", volume),
    MSGS(20, "initContainers", container),
    MSGS(2, "containers", container),
    MSGS(34, "ephemeralContainers", ephemeral_container),
    STR(3, "restartPolicy"),
    KI64(4, "terminationGracePeriodSeconds"),
    KI64(5, "activeDeadlineSeconds"),
    STR(6, "dnsPolicy"),
    MAP(7, "nodeSelector"),
    STR(8, "serviceAccountName"),
    STR(9, "serviceAccount"),
    KBOOL(21, "automountServiceAccountToken"),
    STR(10, "nodeName"),
    BOOL(11, "hostNetwork"),
    BOOL(12, "hostPID"),
    BOOL(13, "hostIPC"),
    KBOOL(27, "shareProcessNamespace"),
    MSG(14, "securityContext", pod_security_context),
    MSGS(15, "imagePullSecrets", local_object_reference),
    STR(16, "hostname"),
    STR(17, "subdomain"),
    MSG(18, "affinity", affinity),
    STR(19, "schedulerName"),
    MSGS(22, "tolerations", toleration),
    MSGS(23, "hostAliases", host_alias),
    STR(24, "priorityClassName"),
    KI32(25, "priority"),
    MSG(26, "dnsConfig", pod_dns_config),
    MSGS(28, "readinessGates", pod_readiness_gate),
    KSTR(29, "runtimeClassName"),
    KBOOL(30, "enableServiceLinks"),
    KSTR(31, "preemptionPolicy"),
    QTYMAP(32, "overhead"),
    MSGS(33, "topologySpreadConstraints", topology_spread_constraint),
    KBOOL(35, "setHostnameAsFQDN"),
    MSG(36, "os", pod_os),
    KBOOL(37, "hostUsers"),
    MSGS(38, "schedulingGates", pod_scheduling_gate),
    MSGS(39, "resourceClaims", pod_resource_claim),
    MSG(40, "resources", resource_requirements),
};
MESSAGE(pod_spec, "PodSpec");

static const tri_pb_field_t pod_fields[] = {
    MSG(1, "metadata", tri_pb_object_meta),
    MSG(2, "spec", pod_spec),
    MSG(3, "status", unread_status),
};
MESSAGE(pod, "Pod");

static const tri_pb_field_t pod_template_spec_fields[] = {
    MSG(1, "metadata", tri_pb_object_meta),
    MSG(2, "spec", pod_spec),
};
SHARED(pod_template_spec, "PodTemplateSpec");

static const tri_pb_field_t persistent_volume_claim_fields[] = {
    MSG(1, "metadata", tri_pb_object_meta),
    MSG(2, "spec", persistent_volume_claim_spec),
    MSG(3, "status", unread_status),
};
MESSAGE(persistent_volume_claim, "PersistentVolumeClaim");

static const tri_pb_field_t scoped_resource_selector_requirement_fields[] = {
    KSTR(1, "scopeName"),
    KSTR(2, "operator"),
    STRS(3, "values"),
};
MESSAGE(scoped_resource_selector_requirement, "ScopedResourceSelectorRequirement");

static const tri_pb_field_t scope_selector_fields[] = {
    MSGS(1, "matchExpressions", scoped_resource_selector_requirement),
};
MESSAGE(scope_selector, "ScopeSelector");

static const tri_pb_field_t resource_quota_spec_fields[] = {
    QTYMAP(1, "hard"),
    STRS(2, "scopes"),
    MSG(3, "scopeSelector", scope_selector),
};
MESSAGE(resource_quota_spec, "ResourceQuotaSpec");

static const tri_pb_field_t resource_quota_status_fields[] = {
    QTYMAP(1, "hard"),
    QTYMAP(2, "used"),
};
MESSAGE(resource_quota_status, "ResourceQuotaStatus");

static const tri_pb_field_t resource_quota_fields[] = {
    MSG(1, "metadata", tri_pb_object_meta),
    MSG(2, "spec", resource_quota_spec),
    MSG(3, "status", resource_quota_status),
};
MESSAGE(resource_quota, "ResourceQuota");
/* ---------- apps/v1 ---------- */

static const tri_pb_field_t apps_rolling_update_deployment_fields[] = {
    IOS(1, "maxUnavailable"),
    IOS(2, "maxSurge"),
};
MESSAGE(apps_rolling_update_deployment, "RollingUpdateDeployment");

static const tri_pb_field_t apps_deployment_strategy_fields[] = {
    STR(1, "type"),
    MSG(2, "rollingUpdate", apps_rolling_update_deployment),
};
MESSAGE(apps_deployment_strategy, "DeploymentStrategy");

static const tri_pb_field_t apps_deployment_spec_fields[] = {
    KI32(1, "replicas"),
    MSG(2, "selector", tri_pb_label_selector),
    MSG(3, "template", tri_pb_pod_template_spec),
    MSG(4, "strategy", apps_deployment_strategy),
    I32(5, "minReadySeconds"),
    KI32(6, "revisionHistoryLimit"),
    BOOL(7, "paused"),
    KI32(9, "progressDeadlineSeconds"),
};
MESSAGE(apps_deployment_spec, "DeploymentSpec");

static const tri_pb_field_t apps_deployment_condition_fields[] = {
    KSTR(1, "type"),  KSTR(2, "status"), TIME(6, "lastUpdateTime"), TIME(7, "lastTransitionTime"),
    STR(4, "reason"), STR(5, "message"),
};
MESSAGE(apps_deployment_condition, "DeploymentCondition");

static const tri_pb_field_t apps_deployment_status_fields[] = {
    I64(1, "observedGeneration"),   I32(2, "replicas"),
    I32(3, "updatedReplicas"),      I32(7, "readyReplicas"),
    I32(4, "availableReplicas"),    I32(5, "unavailableReplicas"),
    KI32(9, "terminatingReplicas"), MSGS(6, "conditions", apps_deployment_condition),
    KI32(8, "collisionCount"),
};
MESSAGE(apps_deployment_status, "DeploymentStatus");

static const tri_pb_field_t apps_deployment_fields[] = {
    MSG(1, "metadata", tri_pb_object_meta),
    MSG(2, "spec", apps_deployment_spec),
    MSG(3, "status", apps_deployment_status),
};
MESSAGE(apps_deployment, "Deployment");

static const tri_pb_field_t apps_replica_set_spec_fields[] = {
    KI32(1, "replicas"),
    I32(4, "minReadySeconds"),
    MSG(2, "selector", tri_pb_label_selector),
    MSG(3, "template", tri_pb_pod_template_spec),
};
MESSAGE(apps_replica_set_spec, "ReplicaSetSpec");

static const tri_pb_field_t apps_replica_set_condition_fields[] = {
    KSTR(1, "type"),  KSTR(2, "status"), TIME(3, "lastTransitionTime"),
    STR(4, "reason"), STR(5, "message"),
};
MESSAGE(apps_replica_set_condition, "ReplicaSetCondition");

static const tri_pb_field_t apps_replica_set_status_fields[] = {
    KI32(1, "replicas"),
    I32(2, "fullyLabeledReplicas"),
    I32(4, "readyReplicas"),
    I32(5, "availableReplicas"),
    KI32(7, "terminatingReplicas"),
    I64(3, "observedGeneration"),
    MSGS(6, "conditions", apps_replica_set_condition),
};
MESSAGE(apps_replica_set_status, "ReplicaSetStatus");

static const tri_pb_field_t apps_replica_set_fields[] = {
    MSG(1, "metadata", tri_pb_object_meta),
    MSG(2, "spec", apps_replica_set_spec),
    MSG(3, "status", apps_replica_set_status),
};
MESSAGE(apps_replica_set, "ReplicaSet");

static const tri_pb_field_t apps_rolling_update_stateful_set_strategy_fields[] = {
    KI32(1, "partition"),
    IOS(2, "maxUnavailable"),
};
MESSAGE(apps_rolling_update_stateful_set_strategy, "RollingUpdateStatefulSetStrategy");

static const tri_pb_field_t apps_stateful_set_update_strategy_fields[] = {
    STR(1, "type"),
    MSG(2, "rollingUpdate", apps_rolling_update_stateful_set_strategy),
};
MESSAGE(apps_stateful_set_update_strategy, "StatefulSetUpdateStrategy");

static const tri_pb_field_t apps_stateful_set_persistent_volume_claim_retention_policy_fields[] = {
    STR(1, "whenDeleted"),
    STR(2, "whenScaled"),
};
MESSAGE(apps_stateful_set_persistent_volume_claim_retention_policy,
        "StatefulSetPersistentVolumeClaimRetentionPolicy");

static const tri_pb_field_t apps_stateful_set_ordinals_fields[] = {
    KI32(1, "start"),
};
MESSAGE(apps_stateful_set_ordinals, "StatefulSetOrdinals");

static const tri_pb_field_t apps_stateful_set_spec_fields[] = {
    KI32(1, "replicas"),
    MSG(2, "selector", tri_pb_label_selector),
    MSG(3, "template", tri_pb_pod_template_spec),
    MSGS(4, "volumeClaimTemplates", persistent_volume_claim),
    KSTR(5, "serviceName"),
    STR(6, "podManagementPolicy"),
    MSG(7, "updateStrategy", apps_stateful_set_update_strategy),
    KI32(8, "revisionHistoryLimit"),
    I32(9, "minReadySeconds"),
    MSG(10, "persistentVolumeClaimRetentionPolicy",
        apps_stateful_set_persistent_volume_claim_retention_policy),
    MSG(11, "ordinals", apps_stateful_set_ordinals),
};
MESSAGE(apps_stateful_set_spec, "StatefulSetSpec");

static const tri_pb_field_t apps_stateful_set_condition_fields[] = {
    KSTR(1, "type"),  KSTR(2, "status"), TIME(3, "lastTransitionTime"),
    STR(4, "reason"), STR(5, "message"),
};
MESSAGE(apps_stateful_set_condition, "StatefulSetCondition");

static const tri_pb_field_t apps_stateful_set_status_fields[] = {
    I64(1, "observedGeneration"),
    KI32(2, "replicas"),
    I32(3, "readyReplicas"),
    I32(4, "currentReplicas"),
    I32(5, "updatedReplicas"),
    STR(6, "currentRevision"),
    STR(7, "updateRevision"),
    KI32(9, "collisionCount"),
    MSGS(10, "conditions", apps_stateful_set_condition),
    KI32(11, "availableReplicas"),
};
MESSAGE(apps_stateful_set_status, "StatefulSetStatus");

static const tri_pb_field_t apps_stateful_set_fields[] = {
    MSG(1, "metadata", tri_pb_object_meta),
    MSG(2, "spec", apps_stateful_set_spec),
    MSG(3, "status", apps_stateful_set_status),
};
MESSAGE(apps_stateful_set, "StatefulSet");

static const tri_pb_field_t apps_rolling_update_daemon_set_fields[] = {
    IOS(1, "maxUnavailable"),
    IOS(2, "maxSurge"),
};
MESSAGE(apps_rolling_update_daemon_set, "RollingUpdateDaemonSet");

static const tri_pb_field_t apps_daemon_set_update_strategy_fields[] = {
    STR(1, "type"),
    MSG(2, "rollingUpdate", apps_rolling_update_daemon_set),
};
MESSAGE(apps_daemon_set_update_strategy, "DaemonSetUpdateStrategy");

static const tri_pb_field_t apps_daemon_set_spec_fields[] = {
    MSG(1, "selector", tri_pb_label_selector),
    MSG(2, "template", tri_pb_pod_template_spec),
    MSG(3, "updateStrategy", apps_daemon_set_update_strategy),
    I32(4, "minReadySeconds"),
    KI32(6, "revisionHistoryLimit"),
};
MESSAGE(apps_daemon_set_spec, "DaemonSetSpec");

static const tri_pb_field_t apps_daemon_set_condition_fields[] = {
    KSTR(1, "type"),  KSTR(2, "status"), TIME(3, "lastTransitionTime"),
    STR(4, "reason"), STR(5, "message"),
};
MESSAGE(apps_daemon_set_condition, "DaemonSetCondition");

static const tri_pb_field_t apps_daemon_set_status_fields[] = {
    KI32(1, "currentNumberScheduled"), KI32(2, "numberMisscheduled"),
    KI32(3, "desiredNumberScheduled"), KI32(4, "numberReady"),
    I64(5, "observedGeneration"),      I32(6, "updatedNumberScheduled"),
    I32(7, "numberAvailable"),         I32(8, "numberUnavailable"),
    KI32(9, "collisionCount"),         MSGS(10, "conditions", apps_daemon_set_condition),
};
MESSAGE(apps_daemon_set_status, "DaemonSetStatus");

static const tri_pb_field_t apps_daemon_set_fields[] = {
    MSG(1, "metadata", tri_pb_object_meta),
    MSG(2, "spec", apps_daemon_set_spec),
    MSG(3, "status", apps_daemon_set_status),
};
MESSAGE(apps_daemon_set, "DaemonSet");
/* ---------- batch/v1 ---------- */

static const tri_pb_field_t batch_pod_failure_policy_on_exit_codes_requirement_fields[] = {
    KSTR(1, "containerName"),
    KSTR(2, "operator"),
    I32S(3, "values"),
};
MESSAGE(batch_pod_failure_policy_on_exit_codes_requirement,
        "PodFailurePolicyOnExitCodesRequirement");

static const tri_pb_field_t batch_pod_failure_policy_on_pod_conditions_pattern_fields[] = {
    KSTR(1, "type"),
    KSTR(2, "status"),
};
MESSAGE(batch_pod_failure_policy_on_pod_conditions_pattern,
        "PodFailurePolicyOnPodConditionsPattern");

static const tri_pb_field_t batch_pod_failure_policy_rule_fields[] = {
    KSTR(1, "action"),
    MSG(2, "onExitCodes", batch_pod_failure_policy_on_exit_codes_requirement),
    MSGS(3, "onPodConditions", batch_pod_failure_policy_on_pod_conditions_pattern),
};
MESSAGE(batch_pod_failure_policy_rule, "PodFailurePolicyRule");

static const tri_pb_field_t batch_pod_failure_policy_fields[] = {
    MSGS(1, "rules", batch_pod_failure_policy_rule),
};
MESSAGE(batch_pod_failure_policy, "PodFailurePolicy");

static const tri_pb_field_t batch_success_policy_rule_fields[] = {
    KSTR(1, "succeededIndexes"),
    KI32(2, "succeededCount"),
};
MESSAGE(batch_success_policy_rule, "SuccessPolicyRule");

static const tri_pb_field_t batch_success_policy_fields[] = {
    MSGS(1, "rules", batch_success_policy_rule),
};
MESSAGE(batch_success_policy, "SuccessPolicy");

static const tri_pb_field_t batch_job_spec_fields[] = {
    KI32(1, "parallelism"),
    KI32(2, "completions"),
    KI64(3, "activeDeadlineSeconds"),
    MSG(11, "podFailurePolicy", batch_pod_failure_policy),
    MSG(16, "successPolicy", batch_success_policy),
    KI32(7, "backoffLimit"),
    KI32(12, "backoffLimitPerIndex"),
    KI32(13, "maxFailedIndexes"),
    MSG(4, "selector", tri_pb_label_selector),
    KBOOL(5, "manualSelector"),
    MSG(6, "template", tri_pb_pod_template_spec),
    KI32(8, "ttlSecondsAfterFinished"),
    KSTR(9, "completionMode"),
    KBOOL(10, "suspend"),
    KSTR(14, "podReplacementPolicy"),
    KSTR(15, "managedBy"),
};
MESSAGE(batch_job_spec, "JobSpec");

static const tri_pb_field_t batch_job_condition_fields[] = {
    KSTR(1, "type"),  KSTR(2, "status"), TIME(3, "lastProbeTime"), TIME(4, "lastTransitionTime"),
    STR(5, "reason"), STR(6, "message"),
};
MESSAGE(batch_job_condition, "JobCondition");

static const tri_pb_field_t batch_uncounted_terminated_pods_fields[] = {
    STRS(1, "succeeded"),
    STRS(2, "failed"),
};
MESSAGE(batch_uncounted_terminated_pods, "UncountedTerminatedPods");

static const tri_pb_field_t batch_job_status_fields[] = {
    MSGS(1, "conditions", batch_job_condition),
    TIME(2, "startTime"),
    TIME(3, "completionTime"),
    I32(4, "active"),
    I32(5, "succeeded"),
    I32(6, "failed"),
    KI32(11, "terminating"),
    STR(7, "completedIndexes"),
    KSTR(10, "failedIndexes"),
    MSG(8, "uncountedTerminatedPods", batch_uncounted_terminated_pods),
    KI32(9, "ready"),
};
MESSAGE(batch_job_status, "JobStatus");

static const tri_pb_field_t batch_job_fields[] = {
    MSG(1, "metadata", tri_pb_object_meta),
    MSG(2, "spec", batch_job_spec),
    MSG(3, "status", batch_job_status),
};
MESSAGE(batch_job, "Job");

static const tri_pb_field_t batch_job_template_spec_fields[] = {
    MSG(1, "metadata", tri_pb_object_meta),
    MSG(2, "spec", batch_job_spec),
};
MESSAGE(batch_job_template_spec, "JobTemplateSpec");

static const tri_pb_field_t batch_cron_job_spec_fields[] = {
    KSTR(1, "schedule"),
    KSTR(8, "timeZone"),
    KI64(2, "startingDeadlineSeconds"),
    STR(3, "concurrencyPolicy"),
    KBOOL(4, "suspend"),
    MSG(5, "jobTemplate", batch_job_template_spec),
    KI32(6, "successfulJobsHistoryLimit"),
    KI32(7, "failedJobsHistoryLimit"),
};
MESSAGE(batch_cron_job_spec, "CronJobSpec");

static const tri_pb_field_t batch_cron_job_status_fields[] = {
    MSGS(1, "active", tri_pb_object_reference),
    TIME(4, "lastScheduleTime"),
    TIME(5, "lastSuccessfulTime"),
};
MESSAGE(batch_cron_job_status, "CronJobStatus");

static const tri_pb_field_t batch_cron_job_fields[] = {
    MSG(1, "metadata", tri_pb_object_meta),
    MSG(2, "spec", batch_cron_job_spec),
    MSG(3, "status", batch_cron_job_status),
};
MESSAGE(batch_cron_job, "CronJob");
/* ---------- networking.k8s.io/v1 ---------- */

static const tri_pb_field_t net_service_backend_port_fields[] = {
    STR(1, "name"),
    I32(2, "number"),
};
MESSAGE(net_service_backend_port, "ServiceBackendPort");

static const tri_pb_field_t net_ingress_service_backend_fields[] = {
    KSTR(1, "name"),
    MSG(2, "port", net_service_backend_port),
};
MESSAGE(net_ingress_service_backend, "IngressServiceBackend");

static const tri_pb_field_t net_ingress_backend_fields[] = {
    MSG(4, "service", net_ingress_service_backend),
    MSG(3, "resource", typed_local_object_reference),
};
MESSAGE(net_ingress_backend, "IngressBackend");

static const tri_pb_field_t net_ingress_tls_fields[] = {
    STRS(1, "hosts"),
    STR(2, "secretName"),
};
MESSAGE(net_ingress_tls, "IngressTLS");

static const tri_pb_field_t net_http_ingress_path_fields[] = {
    STR(1, "path"),
    KSTR(3, "pathType"),
    MSG(2, "backend", net_ingress_backend),
};
MESSAGE(net_http_ingress_path, "HTTPIngressPath");

static const tri_pb_field_t net_http_ingress_rule_value_fields[] = {
    MSGS(1, "paths", net_http_ingress_path),
};
MESSAGE(net_http_ingress_rule_value, "HTTPIngressRuleValue");

static const tri_pb_field_t net_ingress_rule_value_fields[] = {
    MSG(1, "http", net_http_ingress_rule_value),
};
MESSAGE(net_ingress_rule_value, "IngressRuleValue");

static const tri_pb_field_t net_ingress_rule_fields[] = {
    STR(1, "host"),
    INLINE(2, net_ingress_rule_value),
};
MESSAGE(net_ingress_rule, "IngressRule");

static const tri_pb_field_t net_ingress_spec_fields[] = {
    KSTR(4, "ingressClassName"),
    MSG(1, "defaultBackend", net_ingress_backend),
    MSGS(2, "tls", net_ingress_tls),
    MSGS(3, "rules", net_ingress_rule),
};
MESSAGE(net_ingress_spec, "IngressSpec");

static const tri_pb_field_t net_ingress_port_status_fields[] = {
    KI32(1, "port"),
    KSTR(2, "protocol"),
    KSTR(3, "error"),
};
MESSAGE(net_ingress_port_status, "IngressPortStatus");

static const tri_pb_field_t net_ingress_load_balancer_ingress_fields[] = {
    STR(1, "ip"),
    STR(2, "hostname"),
    MSGS(4, "ports", net_ingress_port_status),
};
MESSAGE(net_ingress_load_balancer_ingress, "IngressLoadBalancerIngress");

static const tri_pb_field_t net_ingress_load_balancer_status_fields[] = {
    MSGS(1, "ingress", net_ingress_load_balancer_ingress),
};
MESSAGE(net_ingress_load_balancer_status, "IngressLoadBalancerStatus");

static const tri_pb_field_t net_ingress_status_fields[] = {
    MSG(1, "loadBalancer", net_ingress_load_balancer_status),
};
MESSAGE(net_ingress_status, "IngressStatus");

static const tri_pb_field_t net_ingress_fields[] = {
    MSG(1, "metadata", tri_pb_object_meta),
    MSG(2, "spec", net_ingress_spec),
    MSG(3, "status", net_ingress_status),
};
MESSAGE(net_ingress, "Ingress");
/* ---------- autoscaling/v1 ---------- */

static const tri_pb_field_t hpa1_cross_version_object_reference_fields[] = {
    KSTR(1, "kind"),
    KSTR(2, "name"),
    STR(3, "apiVersion"),
};
MESSAGE(hpa1_cross_version_object_reference, "CrossVersionObjectReference");

static const tri_pb_field_t hpa1_horizontal_pod_autoscaler_spec_fields[] = {
    MSG(1, "scaleTargetRef", hpa1_cross_version_object_reference),
    KI32(2, "minReplicas"),
    KI32(3, "maxReplicas"),
    KI32(4, "targetCPUUtilizationPercentage"),
};
MESSAGE(hpa1_horizontal_pod_autoscaler_spec, "HorizontalPodAutoscalerSpec");

static const tri_pb_field_t hpa1_horizontal_pod_autoscaler_status_fields[] = {
    KI64(1, "observedGeneration"),
    TIME(2, "lastScaleTime"),
    KI32(3, "currentReplicas"),
    KI32(4, "desiredReplicas"),
    KI32(5, "currentCPUUtilizationPercentage"),
};
MESSAGE(hpa1_horizontal_pod_autoscaler_status, "HorizontalPodAutoscalerStatus");

static const tri_pb_field_t hpa1_horizontal_pod_autoscaler_fields[] = {
    MSG(1, "metadata", tri_pb_object_meta),
    MSG(2, "spec", hpa1_horizontal_pod_autoscaler_spec),
    MSG(3, "status", hpa1_horizontal_pod_autoscaler_status),
};
MESSAGE(hpa1_horizontal_pod_autoscaler, "HorizontalPodAutoscaler");
/* ---------- autoscaling/v2 ---------- */

static const tri_pb_field_t hpa2_cross_version_object_reference_fields[] = {
    KSTR(1, "kind"),
    KSTR(2, "name"),
    STR(3, "apiVersion"),
};
MESSAGE(hpa2_cross_version_object_reference, "CrossVersionObjectReference");

static const tri_pb_field_t hpa2_metric_target_fields[] = {
    KSTR(1, "type"),
    QTY(2, "value"),
    QTY(3, "averageValue"),
    KI32(4, "averageUtilization"),
};
MESSAGE(hpa2_metric_target, "MetricTarget");

static const tri_pb_field_t hpa2_metric_identifier_fields[] = {
    KSTR(1, "name"),
    MSG(2, "selector", tri_pb_label_selector),
};
MESSAGE(hpa2_metric_identifier, "MetricIdentifier");

static const tri_pb_field_t hpa2_object_metric_source_fields[] = {
    MSG(1, "describedObject", hpa2_cross_version_object_reference),
    MSG(2, "target", hpa2_metric_target),
    MSG(3, "metric", hpa2_metric_identifier),
};
MESSAGE(hpa2_object_metric_source, "ObjectMetricSource");

static const tri_pb_field_t hpa2_pods_metric_source_fields[] = {
    MSG(1, "metric", hpa2_metric_identifier),
    MSG(2, "target", hpa2_metric_target),
};
MESSAGE(hpa2_pods_metric_source, "PodsMetricSource");

static const tri_pb_field_t hpa2_resource_metric_source_fields[] = {
    KSTR(1, "name"),
    MSG(2, "target", hpa2_metric_target),
};
MESSAGE(hpa2_resource_metric_source, "ResourceMetricSource");

static const tri_pb_field_t hpa2_container_resource_metric_source_fields[] = {
    KSTR(1, "name"),
    MSG(2, "target", hpa2_metric_target),
    KSTR(3, "container"),
};
MESSAGE(hpa2_container_resource_metric_source, "ContainerResourceMetricSource");

static const tri_pb_field_t hpa2_external_metric_source_fields[] = {
    MSG(1, "metric", hpa2_metric_identifier),
    MSG(2, "target", hpa2_metric_target),
};
MESSAGE(hpa2_external_metric_source, "ExternalMetricSource");

static const tri_pb_field_t hpa2_metric_spec_fields[] = {
    KSTR(1, "type"),
    MSG(2, "object", hpa2_object_metric_source),
    MSG(3, "pods", hpa2_pods_metric_source),
    MSG(4, "resource", hpa2_resource_metric_source),
    MSG(7, "containerResource", hpa2_container_resource_metric_source),
    MSG(5, "external", hpa2_external_metric_source),
};
MESSAGE(hpa2_metric_spec, "MetricSpec");

static const tri_pb_field_t hpa2_hpa_scaling_policy_fields[] = {
    KSTR(1, "type"),
    KI32(2, "value"),
    KI32(3, "periodSeconds"),
};
MESSAGE(hpa2_hpa_scaling_policy, "HPAScalingPolicy");

static const tri_pb_field_t hpa2_hpa_scaling_rules_fields[] = {
    KI32(3, "stabilizationWindowSeconds"),
    KSTR(1, "selectPolicy"),
    MSGS(2, "policies", hpa2_hpa_scaling_policy),
    QTY(4, "tolerance"),
};
MESSAGE(hpa2_hpa_scaling_rules, "HPAScalingRules");

static const tri_pb_field_t hpa2_horizontal_pod_autoscaler_behavior_fields[] = {
    MSG(1, "scaleUp", hpa2_hpa_scaling_rules),
    MSG(2, "scaleDown", hpa2_hpa_scaling_rules),
};
MESSAGE(hpa2_horizontal_pod_autoscaler_behavior, "HorizontalPodAutoscalerBehavior");

static const tri_pb_field_t hpa2_horizontal_pod_autoscaler_spec_fields[] = {
    MSG(1, "scaleTargetRef", hpa2_cross_version_object_reference),
    KI32(2, "minReplicas"),
    KI32(3, "maxReplicas"),
    MSGS(4, "metrics", hpa2_metric_spec),
    MSG(5, "behavior", hpa2_horizontal_pod_autoscaler_behavior),
};
MESSAGE(hpa2_horizontal_pod_autoscaler_spec, "HorizontalPodAutoscalerSpec");

static const tri_pb_field_t hpa2_metric_value_status_fields[] = {
    QTY(1, "value"),
    QTY(2, "averageValue"),
    KI32(3, "averageUtilization"),
};
MESSAGE(hpa2_metric_value_status, "MetricValueStatus");

static const tri_pb_field_t hpa2_object_metric_status_fields[] = {
    MSG(1, "metric", hpa2_metric_identifier),
    MSG(2, "current", hpa2_metric_value_status),
    MSG(3, "describedObject", hpa2_cross_version_object_reference),
};
MESSAGE(hpa2_object_metric_status, "ObjectMetricStatus");

static const tri_pb_field_t hpa2_pods_metric_status_fields[] = {
    MSG(1, "metric", hpa2_metric_identifier),
    MSG(2, "current", hpa2_metric_value_status),
};
MESSAGE(hpa2_pods_metric_status, "PodsMetricStatus");

static const tri_pb_field_t hpa2_resource_metric_status_fields[] = {
    KSTR(1, "name"),
    MSG(2, "current", hpa2_metric_value_status),
};
MESSAGE(hpa2_resource_metric_status, "ResourceMetricStatus");

static const tri_pb_field_t hpa2_container_resource_metric_status_fields[] = {
    KSTR(1, "name"),
    MSG(2, "current", hpa2_metric_value_status),
    KSTR(3, "container"),
};
MESSAGE(hpa2_container_resource_metric_status, "ContainerResourceMetricStatus");

static const tri_pb_field_t hpa2_external_metric_status_fields[] = {
    MSG(1, "metric", hpa2_metric_identifier),
    MSG(2, "current", hpa2_metric_value_status),
};
MESSAGE(hpa2_external_metric_status, "ExternalMetricStatus");

static const tri_pb_field_t hpa2_metric_status_fields[] = {
    KSTR(1, "type"),
    MSG(2, "object", hpa2_object_metric_status),
    MSG(3, "pods", hpa2_pods_metric_status),
    MSG(4, "resource", hpa2_resource_metric_status),
    MSG(7, "containerResource", hpa2_container_resource_metric_status),
    MSG(5, "external", hpa2_external_metric_status),
};
MESSAGE(hpa2_metric_status, "MetricStatus");

static const tri_pb_field_t hpa2_horizontal_pod_autoscaler_condition_fields[] = {
    KSTR(1, "type"),  KSTR(2, "status"), TIME(3, "lastTransitionTime"),
    STR(4, "reason"), STR(5, "message"),
};
MESSAGE(hpa2_horizontal_pod_autoscaler_condition, "HorizontalPodAutoscalerCondition");

static const tri_pb_field_t hpa2_horizontal_pod_autoscaler_status_fields[] = {
    KI64(1, "observedGeneration"),
    TIME(2, "lastScaleTime"),
    I32(3, "currentReplicas"),
    KI32(4, "desiredReplicas"),
    MSGS(5, "currentMetrics", hpa2_metric_status),
    MSGS(6, "conditions", hpa2_horizontal_pod_autoscaler_condition),
};
MESSAGE(hpa2_horizontal_pod_autoscaler_status, "HorizontalPodAutoscalerStatus");

static const tri_pb_field_t hpa2_horizontal_pod_autoscaler_fields[] = {
    MSG(1, "metadata", tri_pb_object_meta),
    MSG(2, "spec", hpa2_horizontal_pod_autoscaler_spec),
    MSG(3, "status", hpa2_horizontal_pod_autoscaler_status),
};
MESSAGE(hpa2_horizontal_pod_autoscaler, "HorizontalPodAutoscaler");
/* ---------- authentication.k8s.io/v1 ---------- */

static const tri_pb_field_t authn_bound_object_reference_fields[] = {
    STR(1, "kind"),
    STR(2, "apiVersion"),
    STR(3, "name"),
    STR(4, "uid"),
};
MESSAGE(authn_bound_object_reference, "BoundObjectReference");

static const tri_pb_field_t authn_token_request_spec_fields[] = {
    STRS(1, "audiences"),
    KI64(4, "expirationSeconds"),
    MSG(3, "boundObjectRef", authn_bound_object_reference),
};
MESSAGE(authn_token_request_spec, "TokenRequestSpec");

static const tri_pb_field_t authn_token_request_status_fields[] = {
    KSTR(1, "token"),
    TIME(2, "expirationTimestamp"),
};
MESSAGE(authn_token_request_status, "TokenRequestStatus");

static const tri_pb_field_t authn_token_request_fields[] = {
    MSG(1, "metadata", tri_pb_object_meta),
    MSG(2, "spec", authn_token_request_spec),
    MSG(3, "status", authn_token_request_status),
};
MESSAGE(authn_token_request, "TokenRequest");
/* ---------- authorization.k8s.io/v1 ---------- */

/* FieldSelectorRequirement has LabelSelectorRequirement's shape (key, operator,
 * values), so one table serves both. */

static const tri_pb_field_t authz_field_selector_attributes_fields[] = {
    STR(1, "rawSelector"),
    MSGS(2, "requirements", label_selector_requirement),
};
MESSAGE(authz_field_selector_attributes, "FieldSelectorAttributes");

static const tri_pb_field_t authz_label_selector_attributes_fields[] = {
    STR(1, "rawSelector"),
    MSGS(2, "requirements", label_selector_requirement),
};
MESSAGE(authz_label_selector_attributes, "LabelSelectorAttributes");

static const tri_pb_field_t authz_resource_attributes_fields[] = {
    STR(1, "namespace"),
    STR(2, "verb"),
    STR(3, "group"),
    STR(4, "version"),
    STR(5, "resource"),
    STR(6, "subresource"),
    STR(7, "name"),
    MSG(8, "fieldSelector", authz_field_selector_attributes),
    MSG(9, "labelSelector", authz_label_selector_attributes),
};
MESSAGE(authz_resource_attributes, "ResourceAttributes");

static const tri_pb_field_t authz_non_resource_attributes_fields[] = {
    STR(1, "path"),
    STR(2, "verb"),
};
MESSAGE(authz_non_resource_attributes, "NonResourceAttributes");

static const tri_pb_field_t authz_self_subject_access_review_spec_fields[] = {
    MSG(1, "resourceAttributes", authz_resource_attributes),
    MSG(2, "nonResourceAttributes", authz_non_resource_attributes),
};
MESSAGE(authz_self_subject_access_review_spec, "SelfSubjectAccessReviewSpec");

static const tri_pb_field_t authz_subject_access_review_status_fields[] = {
    KBOOL(1, "allowed"),
    BOOL(4, "denied"),
    STR(2, "reason"),
    STR(3, "evaluationError"),
};
MESSAGE(authz_subject_access_review_status, "SubjectAccessReviewStatus");

static const tri_pb_field_t authz_self_subject_access_review_fields[] = {
    MSG(1, "metadata", tri_pb_object_meta),
    MSG(2, "spec", authz_self_subject_access_review_spec),
    MSG(3, "status", authz_subject_access_review_status),
};
MESSAGE(authz_self_subject_access_review, "SelfSubjectAccessReview");

static const tri_pb_field_t authz_self_subject_rules_review_spec_fields[] = {
    STR(1, "namespace"),
};
MESSAGE(authz_self_subject_rules_review_spec, "SelfSubjectRulesReviewSpec");

static const tri_pb_field_t authz_resource_rule_fields[] = {
    STRS(1, "verbs"),
    STRS(2, "apiGroups"),
    STRS(3, "resources"),
    STRS(4, "resourceNames"),
};
MESSAGE(authz_resource_rule, "ResourceRule");

static const tri_pb_field_t authz_non_resource_rule_fields[] = {
    STRS(1, "verbs"),
    STRS(2, "nonResourceURLs"),
};
MESSAGE(authz_non_resource_rule, "NonResourceRule");

static const tri_pb_field_t authz_subject_rules_review_status_fields[] = {
    MSGS(1, "resourceRules", authz_resource_rule),
    MSGS(2, "nonResourceRules", authz_non_resource_rule),
    KBOOL(3, "incomplete"),
    STR(4, "evaluationError"),
};
MESSAGE(authz_subject_rules_review_status, "SubjectRulesReviewStatus");

static const tri_pb_field_t authz_self_subject_rules_review_fields[] = {
    MSG(1, "metadata", tri_pb_object_meta),
    MSG(2, "spec", authz_self_subject_rules_review_spec),
    MSG(3, "status", authz_subject_rules_review_status),
};
MESSAGE(authz_self_subject_rules_review, "SelfSubjectRulesReview");
/* ---------- policy/v1 ---------- */

static const tri_pb_field_t policy_pod_disruption_budget_spec_fields[] = {
    IOS(1, "minAvailable"),
    MSG(2, "selector", tri_pb_label_selector),
    IOS(3, "maxUnavailable"),
    KSTR(4, "unhealthyPodEvictionPolicy"),
};
MESSAGE(policy_pod_disruption_budget_spec, "PodDisruptionBudgetSpec");

static const tri_pb_field_t policy_pod_disruption_budget_status_fields[] = {
    I64(1, "observedGeneration"),
    /* 2 disruptedPods (map<string,Time>) is written by the disruption controller only */
    KI32(3, "disruptionsAllowed"),
    KI32(4, "currentHealthy"),
    KI32(5, "desiredHealthy"),
    KI32(6, "expectedPods"),
    MSGS(7, "conditions", condition),
};
MESSAGE(policy_pod_disruption_budget_status, "PodDisruptionBudgetStatus");

static const tri_pb_field_t policy_pod_disruption_budget_fields[] = {
    MSG(1, "metadata", tri_pb_object_meta),
    MSG(2, "spec", policy_pod_disruption_budget_spec),
    MSG(3, "status", policy_pod_disruption_budget_status),
};
MESSAGE(policy_pod_disruption_budget, "PodDisruptionBudget");
/* ---------- scheduling.k8s.io/v1 ---------- */

static const tri_pb_field_t sched_priority_class_fields[] = {
    MSG(1, "metadata", tri_pb_object_meta), KI32(2, "value"),
    BOOL(3, "globalDefault"),        STR(4, "description"),
    KSTR(5, "preemptionPolicy"),
};
MESSAGE(sched_priority_class, "PriorityClass");

/* ---------- certificates.k8s.io/v1 ---------- */

/* kubectl certificate approve|deny PUTs the whole object to /approval. spec.extra
 * (6, map<string, ExtraValue>) is left out: the server sets spec from the
 * requester on create and keeps it on every update, so it is never read. */

static const tri_pb_field_t cert_csr_condition_fields[] = {
    STR(1, "type"),
    STR(6, "status"),
    STR(2, "reason"),
    STR(3, "message"),
    TIME(4, "lastUpdateTime"),
    TIME(5, "lastTransitionTime"),
};
MESSAGE(cert_csr_condition, "CertificateSigningRequestCondition");

static const tri_pb_field_t cert_csr_spec_fields[] = {
    {1, "request", TRI_PB_BYTES, 0, NULL},
    STR(7, "signerName"),
    KI32(8, "expirationSeconds"),
    STRS(5, "usages"),
    STR(2, "username"),
    STR(3, "uid"),
    STRS(4, "groups"),
};
MESSAGE(cert_csr_spec, "CertificateSigningRequestSpec");

static const tri_pb_field_t cert_csr_status_fields[] = {
    MSGS(1, "conditions", cert_csr_condition),
    {2, "certificate", TRI_PB_BYTES, 0, NULL},
};
MESSAGE(cert_csr_status, "CertificateSigningRequestStatus");

static const tri_pb_field_t cert_csr_fields[] = {
    MSG(1, "metadata", tri_pb_object_meta),
    MSG(2, "spec", cert_csr_spec),
    MSG(3, "status", cert_csr_status),
};
MESSAGE(cert_csr, "CertificateSigningRequest");

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
    {"rbac.authorization.k8s.io/v1", "ClusterRole", &cluster_role},
    {"rbac.authorization.k8s.io/v1", "RoleBinding", &role_binding},
    {"rbac.authorization.k8s.io/v1", "ClusterRoleBinding", &role_binding},
    {"v1", "Pod", &pod},
    {"v1", "PersistentVolumeClaim", &persistent_volume_claim},
    {"v1", "ResourceQuota", &resource_quota},
    {"apps/v1", "Deployment", &apps_deployment},
    {"apps/v1", "ReplicaSet", &apps_replica_set},
    {"apps/v1", "StatefulSet", &apps_stateful_set},
    {"apps/v1", "DaemonSet", &apps_daemon_set},
    {"batch/v1", "Job", &batch_job},
    {"batch/v1", "CronJob", &batch_cron_job},
    {"networking.k8s.io/v1", "Ingress", &net_ingress},
    {"autoscaling/v1", "HorizontalPodAutoscaler", &hpa1_horizontal_pod_autoscaler},
    {"autoscaling/v2", "HorizontalPodAutoscaler", &hpa2_horizontal_pod_autoscaler},
    {"authentication.k8s.io/v1", "TokenRequest", &authn_token_request},
    {"authorization.k8s.io/v1", "SelfSubjectAccessReview", &authz_self_subject_access_review},
    {"authorization.k8s.io/v1", "SelfSubjectRulesReview", &authz_self_subject_rules_review},
    {"policy/v1", "PodDisruptionBudget", &policy_pod_disruption_budget},
    {"scheduling.k8s.io/v1", "PriorityClass", &sched_priority_class},
    {"certificates.k8s.io/v1", "CertificateSigningRequest", &cert_csr},
    /* protobuf_schema_cluster.c */
    {"v1", "Node", &tri_pb_node},
    {"v1", "Event", &tri_pb_event},
    {"v1", "Endpoints", &tri_pb_endpoints},
    {"v1", "LimitRange", &tri_pb_limit_range},
    {"v1", "PersistentVolume", &tri_pb_persistent_volume},
    {"v1", "ReplicationController", &tri_pb_replication_controller},
    {"apps/v1", "ControllerRevision", &tri_pb_controller_revision},
    {"discovery.k8s.io/v1", "EndpointSlice", &tri_pb_endpoint_slice},
    {"coordination.k8s.io/v1", "Lease", &tri_pb_lease},
    {"networking.k8s.io/v1", "IngressClass", &tri_pb_ingress_class},
    {"networking.k8s.io/v1", "NetworkPolicy", &tri_pb_network_policy},
    {"events.k8s.io/v1", "Event", &tri_pb_events_v1_event},
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
