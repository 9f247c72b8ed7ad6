/* Authorization: the chain kube-apiserver runs with --authorization-mode=Node,RBAC.
 *
 *   1. a member of group system:masters is always allowed;
 *   2. the Node authorizer decides for node identities (user system:node:NAME in
 *      group system:nodes): its own Node and Lease, the objects its pods use,
 *      nothing of other nodes;
 *   3. RBAC (Role, ClusterRole, RoleBinding, ClusterRoleBinding, with ClusterRole
 *      aggregation) decides the rest; what no rule allows is denied.
 *
 * The authorizer reads RBAC objects and pods from the local store (the replica's
 * applied state) and keeps compiled indexes of them: rules by user, bindings by
 * subject, the node -> pod -> secret/configmap/PVC/service-account graph. It follows
 * the store through watches drained at the start of every decision, so a write
 * applied locally is honoured by the very next decision, and an unchanged store
 * costs a hash lookup and a few string compares per decision.
 *
 * Everything runs on the loop thread (like the store). The caller owns the
 * tri_authz_t; the store must outlive it. JSON results are new references.
 */
#ifndef TRIARCH_AUTHZ_H
#define TRIARCH_AUTHZ_H

#include <jansson.h>
#include <stddef.h>

#include "triarch/api.h"
#include "triarch/auth.h"
#include "triarch/store.h"

typedef struct tri_authz tri_authz_t;

/* Reads RBAC objects and pods from store and starts following it.
 * Returns 0 or TRI_ENOMEM. */
int tri_authz_new(tri_store_t *store, tri_authz_t **out);
void tri_authz_free(tri_authz_t *a); /* NULL is fine */

/* ALLOW or DENY (never NO_OPINION: the chain ends with RBAC's default deny).
 * reason (may be NULL when len is 0) gets a human-readable why, for 403 messages
 * and SubjectAccessReview status.reason; "" when there is nothing to add. */
enum tri_authz_decision tri_authz_check(tri_authz_t *a, const tri_authz_attrs_t *attrs,
                                        char *reason, size_t len);

/* SubjectAccessReview / SelfSubjectAccessReview. spec is the review's spec
 * (authorization.k8s.io/v1): resourceAttributes {namespace, verb, group, version,
 * resource, subresource, name} or nonResourceAttributes {path, verb}, and for a
 * SubjectAccessReview user, groups, uid. self == NULL: a SubjectAccessReview
 * (spec.user/groups name who is asked about); self != NULL: a
 * SelfSubjectAccessReview for self (spec.user/groups ignored). Returns the status
 * object {allowed, denied?, reason?}; a bad spec returns NULL with a message in err
 * (the caller answers 400/422). */
json_t *tri_authz_review(tri_authz_t *a, const json_t *spec, const tri_user_t *self, char *err,
                         size_t errlen);

/* SelfSubjectRulesReview status for user u in namespace ns ("" or NULL: cluster
 * scope only): {resourceRules, nonResourceRules, incomplete[, evaluationError]}. */
json_t *tri_authz_rules_review(tri_authz_t *a, const tri_user_t *u, const char *ns);

/* ---------- default policy (leader-side) ---------- */

/* Kubernetes' bootstrap policy as objects (new references, arrays of complete
 * objects with kind/apiVersion/metadata): ClusterRoles, then ClusterRoleBindings. */
json_t *tri_authz_default_clusterroles(void);
json_t *tri_authz_default_clusterrolebindings(void);

/* What the leader must write to reach the default policy, read from the local
 * store: an array of {"op": "create"|"update", "resource": "clusterroles"|
 * "clusterrolebindings", "object": {...}}. Missing defaults are created; a default
 * that still carries rbac.authorization.kubernetes.io/autoupdate=true gets the
 * rules, subjects, labels and annotations it lacks (updates carry the read
 * resourceVersion, so a concurrent change wins and the next round retries);
 * anything with autoupdate=false is left alone. Aggregated ClusterRoles also get
 * their computed rules written back (Kubernetes' clusterrole-aggregation
 * controller), so `kubectl get clusterrole admin -o yaml` shows them; a is used to
 * compute them and may be NULL to skip that step. New reference; [] when nothing
 * is to be done. */
json_t *tri_authz_defaults_plan(tri_authz_t *a, tri_store_t *store);

/* Runs the plan through the typed client with leader-only writes (fire and
 * forget: failures are logged and the next call retries). Call when this replica
 * becomes leader and periodically, as for the built-in namespaces. */
void tri_authz_ensure_defaults(tri_authz_t *a, tri_api_t *api);

#endif
