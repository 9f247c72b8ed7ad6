/* Private to the protobuf schema files (protobuf_schema*.c): the messages
 * protobuf_schema.c defines and the other files reuse, and the top messages of the
 * kinds those files add, which kinds[] in protobuf_schema.c lists. Everything else
 * about the tables is in codec_internal.h. */
#ifndef TRIARCH_API_PROTOBUF_SCHEMA_H
#define TRIARCH_API_PROTOBUF_SCHEMA_H

#include "codec_internal.h"

/* How the tables are written: one row per field, {number, JSON name, type, flags,
 * message}. */
/* clang-format off */
#define FIELDS(arr) arr, sizeof arr / sizeof arr[0]
#define STR(n, j) {n, j, TRI_PB_STRING, 0, NULL}
#define STRS(n, j) {n, j, TRI_PB_STRING, TRI_PB_REPEATED, NULL}
#define MSG(n, j, m) {n, j, TRI_PB_MESSAGE, 0, &m}
#define MSGS(n, j, m) {n, j, TRI_PB_MESSAGE, TRI_PB_REPEATED, &m}
/* K... keeps a zero value: a Go pointer (set when on the wire) or a field without
 * omitempty. IntOrString and Quantity are always kept: Go writes them whole. */
#define KSTR(n, j) {n, j, TRI_PB_STRING, TRI_PB_KEEP_ZERO, NULL}
#define BOOL(n, j) {n, j, TRI_PB_BOOL, 0, NULL}
#define KBOOL(n, j) {n, j, TRI_PB_BOOL, TRI_PB_KEEP_ZERO, NULL}
#define I32(n, j) {n, j, TRI_PB_INT32, 0, NULL}
#define KI32(n, j) {n, j, TRI_PB_INT32, TRI_PB_KEEP_ZERO, NULL}
#define I32S(n, j) {n, j, TRI_PB_INT32, TRI_PB_REPEATED, NULL}
#define I64(n, j) {n, j, TRI_PB_INT64, 0, NULL}
#define KI64(n, j) {n, j, TRI_PB_INT64, TRI_PB_KEEP_ZERO, NULL}
#define I64S(n, j) {n, j, TRI_PB_INT64, TRI_PB_REPEATED, NULL}
#define TIME(n, j) {n, j, TRI_PB_TIME, 0, NULL}
#define IOS(n, j) {n, j, TRI_PB_INT_OR_STRING, TRI_PB_KEEP_ZERO, NULL}
#define QTY(n, j) {n, j, TRI_PB_QUANTITY, TRI_PB_KEEP_ZERO, NULL}
#define QTYMAP(n, j) {n, j, TRI_PB_MAP_QUANTITY, 0, NULL}
#define MICROTIME(n, j) {n, j, TRI_PB_MICROTIME, 0, NULL}
#define RAW(n, j) {n, j, TRI_PB_RAW_EXTENSION, 0, NULL}
#define MAP(n, j) {n, j, TRI_PB_MAP_STRING, 0, NULL}
#define INLINE(n, m) {n, "", TRI_PB_MESSAGE, TRI_PB_INLINE, &m}
#define MESSAGE(var, name) static const tri_pb_message_t var = {name, FIELDS(var##_fields)}
/* a message the other schema files reuse (declared in protobuf_schema.h) */
#define SHARED(var, name) const tri_pb_message_t tri_pb_##var = {name, FIELDS(var##_fields)}
/* clang-format on */

/* protobuf_schema.c: shared building blocks */
extern const tri_pb_message_t tri_pb_object_meta;
extern const tri_pb_message_t tri_pb_object_reference;
extern const tri_pb_message_t tri_pb_label_selector;
extern const tri_pb_message_t tri_pb_node_selector;
extern const tri_pb_message_t tri_pb_pod_template_spec;
/* volume sources a PersistentVolume shares with a Pod's volumes */
extern const tri_pb_message_t tri_pb_gce_persistent_disk_volume_source;
extern const tri_pb_message_t tri_pb_aws_elastic_block_store_volume_source;
extern const tri_pb_message_t tri_pb_host_path_volume_source;
extern const tri_pb_message_t tri_pb_nfs_volume_source;
extern const tri_pb_message_t tri_pb_fc_volume_source;
extern const tri_pb_message_t tri_pb_flocker_volume_source;
extern const tri_pb_message_t tri_pb_vsphere_virtual_disk_volume_source;
extern const tri_pb_message_t tri_pb_quobyte_volume_source;
extern const tri_pb_message_t tri_pb_azure_disk_volume_source;
extern const tri_pb_message_t tri_pb_photon_persistent_disk_volume_source;
extern const tri_pb_message_t tri_pb_portworx_volume_source;

/* protobuf_schema_cluster.c: kinds written by cluster components */
extern const tri_pb_message_t tri_pb_node;
extern const tri_pb_message_t tri_pb_event;
extern const tri_pb_message_t tri_pb_endpoints;
extern const tri_pb_message_t tri_pb_limit_range;
extern const tri_pb_message_t tri_pb_persistent_volume;
extern const tri_pb_message_t tri_pb_replication_controller;
extern const tri_pb_message_t tri_pb_controller_revision;
extern const tri_pb_message_t tri_pb_endpoint_slice;
extern const tri_pb_message_t tri_pb_lease;
extern const tri_pb_message_t tri_pb_ingress_class;
extern const tri_pb_message_t tri_pb_network_policy;
extern const tri_pb_message_t tri_pb_events_v1_event;

#endif
