/* ResourceQuota accounting: what an object charges against a quota, whether a
 * quota applies to it, and the usage of a whole namespace. ResourceQuota
 * admission (server/api/admission_quota.c) charges creates with it and the
 * resource-quota controller (controllers/resourcequota.c) recomputes each
 * quota's status.used with it, so both count alike.
 *
 * Counted as Kubernetes' quota evaluators count (pkg/quota/v1/evaluator/core):
 *  - pods: `pods` (pods not terminal), `count/pods` (all), and from the pod's
 *    effective requests and limits (containers summed, init containers as a
 *    maximum, sidecars added, overhead): `cpu`/`requests.cpu`, `limits.cpu`,
 *    the same for memory and ephemeral-storage, `requests.hugepages-*` and
 *    `requests.<extended resource>`. A pod that is Succeeded or Failed, or whose
 *    deletion grace period has run out, charges no compute and no `pods`.
 *  - services: `services`, `services.nodeports` (a NodePort or LoadBalancer
 *    service's ports), `services.loadbalancers`.
 *  - persistentvolumeclaims: `persistentvolumeclaims`, `requests.storage`
 *    (rounded up to whole bytes), and per storage class
 *    `<class>.storageclass.storage.k8s.io/requests.storage` and `.../persistentvolumeclaims`.
 *  - configmaps, secrets, replicationcontrollers, resourcequotas by those names,
 *    and every namespaced resource as `count/<plural>.<group>` (`count/<plural>`
 *    for the core group).
 * Scopes (spec.scopes and spec.scopeSelector) apply to pods only: Terminating,
 * NotTerminating, BestEffort, NotBestEffort, PriorityClass (In, NotIn, Exists,
 * DoesNotExist) and CrossNamespacePodAffinity; a scoped quota matches no other
 * kind, as in Kubernetes.
 */
#ifndef TRIARCH_QUOTA_H
#define TRIARCH_QUOTA_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "triarch/api.h"
#include "triarch/quantity.h"
#include "triarch/store.h"

/* A ResourceList: resource names and quantities, in insertion order. */
typedef struct tri_rlist_item {
    char *name;
    tri_quantity_t q;
} tri_rlist_item_t;

typedef struct tri_rlist {
    tri_rlist_item_t *items;
    size_t n, cap;
} tri_rlist_t;

/* Adds q to the entry `name` (made at zero when absent). 0, TRI_ENOMEM, TRI_ETOOBIG. */
int tri_rlist_add(tri_rlist_t *l, const char *name, const tri_quantity_t *q);
/* Sets the entry `name` to q. */
int tri_rlist_set(tri_rlist_t *l, const char *name, const tri_quantity_t *q);
const tri_quantity_t *tri_rlist_get(const tri_rlist_t *l, const char *name);
/* A JSON ResourceList (object of quantity strings); unparseable entries are skipped. */
int tri_rlist_from_json(tri_rlist_t *l, const json_t *obj);
/* The list as a JSON object of canonical strings (new reference). */
json_t *tri_rlist_json(const tri_rlist_t *l);
void tri_rlist_free(tri_rlist_t *l);

/* A pod's effective requests or limits (which: "requests" or "limits") from its
 * spec, without overhead: PodRequests/PodLimits. */
int tri_pod_resources(const json_t *spec, const char *which, tri_rlist_t *out);

/* Whether resource r's evaluator tracks the quota resource name `name`. */
bool tri_quota_tracks(const tri_resource_t *r, const char *name);
/* Whether `quota` (a ResourceQuota) applies to obj of resource r: one of its
 * spec.hard names is tracked for r, and its scopes match. now: Unix seconds. */
bool tri_quota_matches(const json_t *quota, const tri_resource_t *r, const json_t *obj,
                       int64_t now);
/* What obj charges, every name its evaluator knows (zero entries included). */
int tri_quota_usage(const tri_resource_t *r, const json_t *obj, int64_t now, tri_rlist_t *out);
/* The usage of everything in namespace ns of the local store that `quota`
 * applies to, for the names of its spec.hard that some evaluator tracks (each
 * present, zero when nothing is charged): the status.used the controller
 * writes. Reads the store synchronously, so the result is one revision's view. */
int tri_quota_namespace_usage(tri_store_t *store, const char *ns, const json_t *quota, int64_t now,
                              tri_rlist_t *out);

#endif
