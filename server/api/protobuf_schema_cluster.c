/* Schema tables of the kinds that cluster components write rather than kubectl's
 * typed commands: Nodes, Leases, Events (core/v1 and events.k8s.io/v1), Endpoints
 * and EndpointSlices, PersistentVolumes, LimitRanges, ReplicationControllers,
 * ControllerRevisions, IngressClasses and NetworkPolicies.
 *
 * Same form and sources as protobuf_schema.c (k8s.io/api v1.33 generated.proto for
 * the field numbers, types.go for the JSON names and omitempty), and the same three
 * readers: the protobuf decoder (kubelets and controllers send these as protobuf),
 * the unknown-field check of fieldValidation=Strict, and OpenAPI for `kubectl
 * explain`. A wrong row refuses a real field, so each one was checked against the
 * Go struct tags: a JSON name differs from its proto name in a few places
 * (IngressClassParametersReference.apiGroup is proto "aPIGroup", DaemonEndpoint's
 * "Port" is capitalised, core Event's reportingComponent is Go's
 * ReportingController). Sub-messages a Pod also uses come from protobuf_schema.c.
 */
#include "protobuf_schema.h"

/* ---------- core/v1: Node ---------- */

static const tri_pb_field_t taint_fields[] = {
    KSTR(1, "key"),
    STR(2, "value"),
    KSTR(3, "effect"),
    TIME(4, "timeAdded"),
};
MESSAGE(taint, "Taint");

static const tri_pb_field_t config_map_node_config_source_fields[] = {
    KSTR(1, "namespace"), KSTR(2, "name"), STR(3, "uid"), STR(4, "resourceVersion"),
    KSTR(5, "kubeletConfigKey"),
};
MESSAGE(config_map_node_config_source, "ConfigMapNodeConfigSource");

static const tri_pb_field_t node_config_source_fields[] = {
    MSG(2, "configMap", config_map_node_config_source),
};
MESSAGE(node_config_source, "NodeConfigSource");

static const tri_pb_field_t node_spec_fields[] = {
    STR(1, "podCIDR"),
    STRS(7, "podCIDRs"),
    STR(3, "providerID"),
    BOOL(4, "unschedulable"),
    MSGS(5, "taints", taint),
    MSG(6, "configSource", node_config_source),
    STR(2, "externalID"), /* deprecated, still accepted */
};
MESSAGE(node_spec, "NodeSpec");

static const tri_pb_field_t node_condition_fields[] = {
    KSTR(1, "type"),
    KSTR(2, "status"),
    TIME(3, "lastHeartbeatTime"),
    TIME(4, "lastTransitionTime"),
    STR(5, "reason"),
    STR(6, "message"),
};
MESSAGE(node_condition, "NodeCondition");

static const tri_pb_field_t node_address_fields[] = {
    KSTR(1, "type"),
    KSTR(2, "address"),
};
MESSAGE(node_address, "NodeAddress");

static const tri_pb_field_t daemon_endpoint_fields[] = {
    KI32(1, "Port"), /* capitalised in Go's tag since the first release */
};
MESSAGE(daemon_endpoint, "DaemonEndpoint");

static const tri_pb_field_t node_daemon_endpoints_fields[] = {
    MSG(1, "kubeletEndpoint", daemon_endpoint),
};
MESSAGE(node_daemon_endpoints, "NodeDaemonEndpoints");

static const tri_pb_field_t node_swap_status_fields[] = {
    KI64(1, "capacity"),
};
MESSAGE(node_swap_status, "NodeSwapStatus");

static const tri_pb_field_t node_system_info_fields[] = {
    KSTR(1, "machineID"),
    KSTR(2, "systemUUID"),
    KSTR(3, "bootID"),
    KSTR(4, "kernelVersion"),
    KSTR(5, "osImage"),
    KSTR(6, "containerRuntimeVersion"),
    KSTR(7, "kubeletVersion"),
    KSTR(8, "kubeProxyVersion"),
    KSTR(9, "operatingSystem"),
    KSTR(10, "architecture"),
    MSG(11, "swap", node_swap_status),
};
MESSAGE(node_system_info, "NodeSystemInfo");

static const tri_pb_field_t container_image_fields[] = {
    STRS(1, "names"),
    I64(2, "sizeBytes"),
};
MESSAGE(container_image, "ContainerImage");

static const tri_pb_field_t attached_volume_fields[] = {
    KSTR(1, "name"),
    KSTR(2, "devicePath"),
};
MESSAGE(attached_volume, "AttachedVolume");

static const tri_pb_field_t node_config_status_fields[] = {
    MSG(1, "assigned", node_config_source),
    MSG(2, "active", node_config_source),
    MSG(3, "lastKnownGood", node_config_source),
    STR(4, "error"),
};
MESSAGE(node_config_status, "NodeConfigStatus");

static const tri_pb_field_t node_runtime_handler_features_fields[] = {
    KBOOL(1, "recursiveReadOnlyMounts"),
    KBOOL(2, "userNamespaces"),
};
MESSAGE(node_runtime_handler_features, "NodeRuntimeHandlerFeatures");

static const tri_pb_field_t node_runtime_handler_fields[] = {
    KSTR(1, "name"),
    MSG(2, "features", node_runtime_handler_features),
};
MESSAGE(node_runtime_handler, "NodeRuntimeHandler");

static const tri_pb_field_t node_features_fields[] = {
    KBOOL(1, "supplementalGroupsPolicy"),
};
MESSAGE(node_features, "NodeFeatures");

static const tri_pb_field_t node_status_fields[] = {
    QTYMAP(1, "capacity"),
    QTYMAP(2, "allocatable"),
    STR(3, "phase"),
    MSGS(4, "conditions", node_condition),
    MSGS(5, "addresses", node_address),
    MSG(6, "daemonEndpoints", node_daemon_endpoints),
    MSG(7, "nodeInfo", node_system_info),
    MSGS(8, "images", container_image),
    STRS(9, "volumesInUse"),
    MSGS(10, "volumesAttached", attached_volume),
    MSG(11, "config", node_config_status),
    MSGS(12, "runtimeHandlers", node_runtime_handler),
    MSG(13, "features", node_features),
};
MESSAGE(node_status, "NodeStatus");

static const tri_pb_field_t node_fields[] = {
    MSG(1, "metadata", tri_pb_object_meta),
    MSG(2, "spec", node_spec),
    MSG(3, "status", node_status),
};
SHARED(node, "Node");

/* ---------- core/v1: Event ---------- */

static const tri_pb_field_t event_source_fields[] = {
    STR(1, "component"),
    STR(2, "host"),
};
MESSAGE(event_source, "EventSource");

static const tri_pb_field_t event_series_fields[] = {
    I32(1, "count"),
    MICROTIME(2, "lastObservedTime"),
};
MESSAGE(event_series, "EventSeries");

static const tri_pb_field_t event_fields[] = {
    MSG(1, "metadata", tri_pb_object_meta),
    MSG(2, "involvedObject", tri_pb_object_reference),
    STR(3, "reason"),
    STR(4, "message"),
    MSG(5, "source", event_source),
    TIME(6, "firstTimestamp"),
    TIME(7, "lastTimestamp"),
    I32(8, "count"),
    STR(9, "type"),
    MICROTIME(10, "eventTime"),
    MSG(11, "series", event_series),
    STR(12, "action"),
    MSG(13, "related", tri_pb_object_reference),
    KSTR(14, "reportingComponent"),
    KSTR(15, "reportingInstance"),
};
SHARED(event, "Event");

/* ---------- core/v1: Endpoints ---------- */

static const tri_pb_field_t endpoint_address_fields[] = {
    KSTR(1, "ip"),
    STR(3, "hostname"),
    KSTR(4, "nodeName"),
    MSG(2, "targetRef", tri_pb_object_reference),
};
MESSAGE(endpoint_address, "EndpointAddress");

static const tri_pb_field_t endpoint_port_fields[] = {
    STR(1, "name"),
    KI32(2, "port"),
    STR(3, "protocol"),
    KSTR(4, "appProtocol"),
};
MESSAGE(endpoint_port, "EndpointPort");

static const tri_pb_field_t endpoint_subset_fields[] = {
    MSGS(1, "addresses", endpoint_address),
    MSGS(2, "notReadyAddresses", endpoint_address),
    MSGS(3, "ports", endpoint_port),
};
MESSAGE(endpoint_subset, "EndpointSubset");

static const tri_pb_field_t endpoints_fields[] = {
    MSG(1, "metadata", tri_pb_object_meta),
    MSGS(2, "subsets", endpoint_subset),
};
SHARED(endpoints, "Endpoints");

/* ---------- core/v1: LimitRange ---------- */

static const tri_pb_field_t limit_range_item_fields[] = {
    KSTR(1, "type"),
    QTYMAP(2, "max"),
    QTYMAP(3, "min"),
    QTYMAP(4, "default"),
    QTYMAP(5, "defaultRequest"),
    QTYMAP(6, "maxLimitRequestRatio"),
};
MESSAGE(limit_range_item, "LimitRangeItem");

static const tri_pb_field_t limit_range_spec_fields[] = {
    MSGS(1, "limits", limit_range_item),
};
MESSAGE(limit_range_spec, "LimitRangeSpec");

static const tri_pb_field_t limit_range_fields[] = {
    MSG(1, "metadata", tri_pb_object_meta),
    MSG(2, "spec", limit_range_spec),
};
SHARED(limit_range, "LimitRange");

/* ---------- core/v1: PersistentVolume ---------- */

/* The PersistentVolume forms of volume sources whose Pod forms name a Secret in the
 * pod's namespace: here a SecretReference may name another namespace. */
static const tri_pb_field_t secret_reference_fields[] = {
    STR(1, "name"),
    STR(2, "namespace"),
};
MESSAGE(secret_reference, "SecretReference");

static const tri_pb_field_t glusterfs_persistent_volume_source_fields[] = {
    KSTR(1, "endpoints"),
    KSTR(2, "path"),
    BOOL(3, "readOnly"),
    KSTR(4, "endpointsNamespace"),
};
MESSAGE(glusterfs_persistent_volume_source, "GlusterfsPersistentVolumeSource");

static const tri_pb_field_t rbd_persistent_volume_source_fields[] = {
    STRS(1, "monitors"),
    KSTR(2, "image"),
    STR(3, "fsType"),
    STR(4, "pool"),
    STR(5, "user"),
    STR(6, "keyring"),
    MSG(7, "secretRef", secret_reference),
    BOOL(8, "readOnly"),
};
MESSAGE(rbd_persistent_volume_source, "RBDPersistentVolumeSource");

static const tri_pb_field_t iscsi_persistent_volume_source_fields[] = {
    KSTR(1, "targetPortal"),
    KSTR(2, "iqn"),
    KI32(3, "lun"),
    STR(4, "iscsiInterface"),
    STR(5, "fsType"),
    BOOL(6, "readOnly"),
    STRS(7, "portals"),
    BOOL(8, "chapAuthDiscovery"),
    BOOL(11, "chapAuthSession"),
    MSG(10, "secretRef", secret_reference),
    KSTR(12, "initiatorName"),
};
MESSAGE(iscsi_persistent_volume_source, "ISCSIPersistentVolumeSource");

static const tri_pb_field_t cinder_persistent_volume_source_fields[] = {
    KSTR(1, "volumeID"),
    STR(2, "fsType"),
    BOOL(3, "readOnly"),
    MSG(4, "secretRef", secret_reference),
};
MESSAGE(cinder_persistent_volume_source, "CinderPersistentVolumeSource");

static const tri_pb_field_t ceph_fs_persistent_volume_source_fields[] = {
    STRS(1, "monitors"),
    STR(2, "path"),
    STR(3, "user"),
    STR(4, "secretFile"),
    MSG(5, "secretRef", secret_reference),
    BOOL(6, "readOnly"),
};
MESSAGE(ceph_fs_persistent_volume_source, "CephFSPersistentVolumeSource");

static const tri_pb_field_t flex_persistent_volume_source_fields[] = {
    KSTR(1, "driver"),   STR(2, "fsType"),  MSG(3, "secretRef", secret_reference),
    BOOL(4, "readOnly"), MAP(5, "options"),
};
MESSAGE(flex_persistent_volume_source, "FlexPersistentVolumeSource");

static const tri_pb_field_t azure_file_persistent_volume_source_fields[] = {
    KSTR(1, "secretName"),
    KSTR(2, "shareName"),
    BOOL(3, "readOnly"),
    KSTR(4, "secretNamespace"),
};
MESSAGE(azure_file_persistent_volume_source, "AzureFilePersistentVolumeSource");

static const tri_pb_field_t scale_io_persistent_volume_source_fields[] = {
    KSTR(1, "gateway"),    KSTR(2, "system"),          MSG(3, "secretRef", secret_reference),
    BOOL(4, "sslEnabled"), STR(5, "protectionDomain"), STR(6, "storagePool"),
    STR(7, "storageMode"), STR(8, "volumeName"),       STR(9, "fsType"),
    BOOL(10, "readOnly"),
};
MESSAGE(scale_io_persistent_volume_source, "ScaleIOPersistentVolumeSource");

static const tri_pb_field_t local_volume_source_fields[] = {
    KSTR(1, "path"),
    KSTR(2, "fsType"),
};
MESSAGE(local_volume_source, "LocalVolumeSource");

static const tri_pb_field_t storage_os_persistent_volume_source_fields[] = {
    STR(1, "volumeName"),
    STR(2, "volumeNamespace"),
    STR(3, "fsType"),
    BOOL(4, "readOnly"),
    MSG(5, "secretRef", tri_pb_object_reference),
};
MESSAGE(storage_os_persistent_volume_source, "StorageOSPersistentVolumeSource");

static const tri_pb_field_t csi_persistent_volume_source_fields[] = {
    KSTR(1, "driver"),
    KSTR(2, "volumeHandle"),
    BOOL(3, "readOnly"),
    STR(4, "fsType"),
    MAP(5, "volumeAttributes"),
    MSG(6, "controllerPublishSecretRef", secret_reference),
    MSG(7, "nodeStageSecretRef", secret_reference),
    MSG(8, "nodePublishSecretRef", secret_reference),
    MSG(9, "controllerExpandSecretRef", secret_reference),
    MSG(10, "nodeExpandSecretRef", secret_reference),
};
MESSAGE(csi_persistent_volume_source, "CSIPersistentVolumeSource");

static const tri_pb_field_t persistent_volume_source_fields[] = {
    MSG(1, "gcePersistentDisk", tri_pb_gce_persistent_disk_volume_source),
    MSG(2, "awsElasticBlockStore", tri_pb_aws_elastic_block_store_volume_source),
    MSG(3, "hostPath", tri_pb_host_path_volume_source),
    MSG(4, "glusterfs", glusterfs_persistent_volume_source),
    MSG(5, "nfs", tri_pb_nfs_volume_source),
    MSG(6, "rbd", rbd_persistent_volume_source),
    MSG(7, "iscsi", iscsi_persistent_volume_source),
    MSG(8, "cinder", cinder_persistent_volume_source),
    MSG(9, "cephfs", ceph_fs_persistent_volume_source),
    MSG(10, "fc", tri_pb_fc_volume_source),
    MSG(11, "flocker", tri_pb_flocker_volume_source),
    MSG(12, "flexVolume", flex_persistent_volume_source),
    MSG(13, "azureFile", azure_file_persistent_volume_source),
    MSG(14, "vsphereVolume", tri_pb_vsphere_virtual_disk_volume_source),
    MSG(15, "quobyte", tri_pb_quobyte_volume_source),
    MSG(16, "azureDisk", tri_pb_azure_disk_volume_source),
    MSG(17, "photonPersistentDisk", tri_pb_photon_persistent_disk_volume_source),
    MSG(18, "portworxVolume", tri_pb_portworx_volume_source),
    MSG(19, "scaleIO", scale_io_persistent_volume_source),
    MSG(20, "local", local_volume_source),
    MSG(21, "storageos", storage_os_persistent_volume_source),
    MSG(22, "csi", csi_persistent_volume_source),
};
MESSAGE(persistent_volume_source, "PersistentVolumeSource");

static const tri_pb_field_t volume_node_affinity_fields[] = {
    MSG(1, "required", tri_pb_node_selector),
};
MESSAGE(volume_node_affinity, "VolumeNodeAffinity");

static const tri_pb_field_t persistent_volume_spec_fields[] = {
    QTYMAP(1, "capacity"),
    INLINE(2, persistent_volume_source),
    STRS(3, "accessModes"),
    MSG(4, "claimRef", tri_pb_object_reference),
    STR(5, "persistentVolumeReclaimPolicy"),
    STR(6, "storageClassName"),
    STRS(7, "mountOptions"),
    KSTR(8, "volumeMode"),
    MSG(9, "nodeAffinity", volume_node_affinity),
    KSTR(10, "volumeAttributesClassName"),
};
MESSAGE(persistent_volume_spec, "PersistentVolumeSpec");

static const tri_pb_field_t persistent_volume_status_fields[] = {
    STR(1, "phase"),
    STR(2, "message"),
    STR(3, "reason"),
    TIME(4, "lastPhaseTransitionTime"),
};
MESSAGE(persistent_volume_status, "PersistentVolumeStatus");

static const tri_pb_field_t persistent_volume_fields[] = {
    MSG(1, "metadata", tri_pb_object_meta),
    MSG(2, "spec", persistent_volume_spec),
    MSG(3, "status", persistent_volume_status),
};
SHARED(persistent_volume, "PersistentVolume");

/* ---------- core/v1: ReplicationController ---------- */

static const tri_pb_field_t replication_controller_spec_fields[] = {
    KI32(1, "replicas"),
    I32(4, "minReadySeconds"),
    MAP(2, "selector"),
    MSG(3, "template", tri_pb_pod_template_spec),
};
MESSAGE(replication_controller_spec, "ReplicationControllerSpec");

static const tri_pb_field_t replication_controller_condition_fields[] = {
    KSTR(1, "type"),
    KSTR(2, "status"),
    TIME(3, "lastTransitionTime"),
    STR(4, "reason"),
    STR(5, "message"),
};
MESSAGE(replication_controller_condition, "ReplicationControllerCondition");

static const tri_pb_field_t replication_controller_status_fields[] = {
    KI32(1, "replicas"),
    I32(2, "fullyLabeledReplicas"),
    I32(4, "readyReplicas"),
    I32(5, "availableReplicas"),
    I64(3, "observedGeneration"),
    MSGS(6, "conditions", replication_controller_condition),
};
MESSAGE(replication_controller_status, "ReplicationControllerStatus");

static const tri_pb_field_t replication_controller_fields[] = {
    MSG(1, "metadata", tri_pb_object_meta),
    MSG(2, "spec", replication_controller_spec),
    MSG(3, "status", replication_controller_status),
};
SHARED(replication_controller, "ReplicationController");

/* ---------- apps/v1: ControllerRevision ---------- */

/* data is a RawExtension: whatever the owning controller stored (a patch of its
 * template), free-form in JSON and in OpenAPI. */
static const tri_pb_field_t controller_revision_fields[] = {
    MSG(1, "metadata", tri_pb_object_meta),
    RAW(2, "data"),
    KI64(3, "revision"),
};
SHARED(controller_revision, "ControllerRevision");

/* ---------- discovery.k8s.io/v1: EndpointSlice ---------- */

static const tri_pb_field_t es_endpoint_conditions_fields[] = {
    KBOOL(1, "ready"),
    KBOOL(2, "serving"),
    KBOOL(3, "terminating"),
};
MESSAGE(es_endpoint_conditions, "EndpointConditions");

static const tri_pb_field_t es_for_zone_fields[] = {KSTR(1, "name")};
MESSAGE(es_for_zone, "ForZone");
static const tri_pb_field_t es_for_node_fields[] = {KSTR(1, "name")};
MESSAGE(es_for_node, "ForNode");

static const tri_pb_field_t es_endpoint_hints_fields[] = {
    MSGS(1, "forZones", es_for_zone),
    MSGS(2, "forNodes", es_for_node),
};
MESSAGE(es_endpoint_hints, "EndpointHints");

static const tri_pb_field_t es_endpoint_fields[] = {
    STRS(1, "addresses"),
    MSG(2, "conditions", es_endpoint_conditions),
    KSTR(3, "hostname"),
    MSG(4, "targetRef", tri_pb_object_reference),
    MAP(5, "deprecatedTopology"),
    KSTR(6, "nodeName"),
    KSTR(7, "zone"),
    MSG(8, "hints", es_endpoint_hints),
};
MESSAGE(es_endpoint, "Endpoint");

static const tri_pb_field_t es_endpoint_port_fields[] = {
    KSTR(1, "name"),
    KSTR(2, "protocol"),
    KI32(3, "port"),
    KSTR(4, "appProtocol"),
};
MESSAGE(es_endpoint_port, "EndpointPort");

static const tri_pb_field_t endpoint_slice_fields[] = {
    MSG(1, "metadata", tri_pb_object_meta),
    KSTR(4, "addressType"),
    MSGS(2, "endpoints", es_endpoint),
    MSGS(3, "ports", es_endpoint_port),
};
SHARED(endpoint_slice, "EndpointSlice");

/* ---------- coordination.k8s.io/v1: Lease ---------- */

static const tri_pb_field_t lease_spec_fields[] = {
    KSTR(1, "holderIdentity"),
    KI32(2, "leaseDurationSeconds"),
    MICROTIME(3, "acquireTime"),
    MICROTIME(4, "renewTime"),
    KI32(5, "leaseTransitions"),
    KSTR(6, "strategy"),
    KSTR(7, "preferredHolder"),
};
MESSAGE(lease_spec, "LeaseSpec");

static const tri_pb_field_t lease_fields[] = {
    MSG(1, "metadata", tri_pb_object_meta),
    MSG(2, "spec", lease_spec),
};
SHARED(lease, "Lease");

/* ---------- networking.k8s.io/v1: IngressClass, NetworkPolicy ---------- */

static const tri_pb_field_t ingress_class_parameters_reference_fields[] = {
    KSTR(1, "apiGroup"), /* proto name "aPIGroup" */
    KSTR(2, "kind"),
    KSTR(3, "name"),
    KSTR(4, "scope"),
    KSTR(5, "namespace"),
};
MESSAGE(ingress_class_parameters_reference, "IngressClassParametersReference");

static const tri_pb_field_t ingress_class_spec_fields[] = {
    STR(1, "controller"),
    MSG(2, "parameters", ingress_class_parameters_reference),
};
MESSAGE(ingress_class_spec, "IngressClassSpec");

static const tri_pb_field_t ingress_class_fields[] = {
    MSG(1, "metadata", tri_pb_object_meta),
    MSG(2, "spec", ingress_class_spec),
};
SHARED(ingress_class, "IngressClass");

static const tri_pb_field_t network_policy_port_fields[] = {
    KSTR(1, "protocol"),
    IOS(2, "port"),
    KI32(3, "endPort"),
};
MESSAGE(network_policy_port, "NetworkPolicyPort");

static const tri_pb_field_t ip_block_fields[] = {
    KSTR(1, "cidr"),
    STRS(2, "except"),
};
MESSAGE(ip_block, "IPBlock");

static const tri_pb_field_t network_policy_peer_fields[] = {
    MSG(1, "podSelector", tri_pb_label_selector),
    MSG(2, "namespaceSelector", tri_pb_label_selector),
    MSG(3, "ipBlock", ip_block),
};
MESSAGE(network_policy_peer, "NetworkPolicyPeer");

static const tri_pb_field_t network_policy_ingress_rule_fields[] = {
    MSGS(1, "ports", network_policy_port),
    MSGS(2, "from", network_policy_peer),
};
MESSAGE(network_policy_ingress_rule, "NetworkPolicyIngressRule");

static const tri_pb_field_t network_policy_egress_rule_fields[] = {
    MSGS(1, "ports", network_policy_port),
    MSGS(2, "to", network_policy_peer),
};
MESSAGE(network_policy_egress_rule, "NetworkPolicyEgressRule");

static const tri_pb_field_t network_policy_spec_fields[] = {
    MSG(1, "podSelector", tri_pb_label_selector),
    MSGS(2, "ingress", network_policy_ingress_rule),
    MSGS(3, "egress", network_policy_egress_rule),
    STRS(4, "policyTypes"),
};
MESSAGE(network_policy_spec, "NetworkPolicySpec");

static const tri_pb_field_t network_policy_fields[] = {
    MSG(1, "metadata", tri_pb_object_meta),
    MSG(2, "spec", network_policy_spec),
};
SHARED(network_policy, "NetworkPolicy");

/* ---------- events.k8s.io/v1: Event ---------- */

/* The same object as the core Event under other names (note, regarding,
 * deprecated*); res_groups.c converts between the two. */
static const tri_pb_field_t ev1_event_series_fields[] = {
    KI32(1, "count"),
    MICROTIME(2, "lastObservedTime"),
};
MESSAGE(ev1_event_series, "EventSeries");

static const tri_pb_field_t events_v1_event_fields[] = {
    MSG(1, "metadata", tri_pb_object_meta),
    MICROTIME(2, "eventTime"),
    MSG(3, "series", ev1_event_series),
    STR(4, "reportingController"),
    STR(5, "reportingInstance"),
    STR(6, "action"),
    STR(7, "reason"),
    MSG(8, "regarding", tri_pb_object_reference),
    MSG(9, "related", tri_pb_object_reference),
    STR(10, "note"),
    STR(11, "type"),
    MSG(12, "deprecatedSource", event_source),
    TIME(13, "deprecatedFirstTimestamp"),
    TIME(14, "deprecatedLastTimestamp"),
    I32(15, "deprecatedCount"),
};
SHARED(events_v1_event, "Event");
