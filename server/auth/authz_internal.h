/* Private to server/auth: the pieces of the authorizer (include/triarch/authz.h).
 *
 *   strmap.c    string-keyed hash map
 *   rule.c      one PolicyRule compiled, and Kubernetes' rule matching
 *   rbac.c      RBAC objects from the store, the subject index, the per-user rule
 *               cache and evaluation-time aggregation
 *   node.c      the Node authorizer and its node -> pod -> object graph
 *   authz.c     the chain (system:masters, Node, RBAC) and the reviews
 *   policy.c    the default policy tables; policy_ensure.c writes them (leader)
 */
#ifndef TRIARCH_AUTH_AUTHZ_INTERNAL_H
#define TRIARCH_AUTH_AUTHZ_INTERNAL_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "triarch/auth.h"
#include "triarch/authz.h"
#include "triarch/store.h"
#include "triarch/util.h"

#define RBAC_GROUP "rbac.authorization.k8s.io"
#define AUTOUPDATE_ANNOTATION "rbac.authorization.kubernetes.io/autoupdate"
#define BOOTSTRAP_LABEL "kubernetes.io/bootstrapping"
#define MASTERS_GROUP "system:masters"
#define NODES_GROUP "system:nodes"
#define NODE_USER_PREFIX "system:node:"
#define SA_USER_PREFIX "system:serviceaccount:"
#define NODE_LEASE_NAMESPACE "kube-node-lease"

/* ---------- strmap.c ---------- */

typedef struct strmap {
    char **keys; /* owned copies; NULL = empty slot */
    void **vals;
    size_t cap; /* power of two */
    size_t n;
} strmap_t;

void *strmap_get(const strmap_t *m, const char *key);
int strmap_put(strmap_t *m, const char *key, void *val);  /* replaces; TRI_ENOMEM */
void *strmap_del(strmap_t *m, const char *key);           /* the old value or NULL */
void strmap_clear(strmap_t *m, void (*free_val)(void *)); /* frees everything */

/* ---------- rule.c ---------- */

typedef struct strv {
    char **v;
    size_t n;
    bool star; /* contains "*" */
} strv_t;

typedef struct rbac_rule {
    strv_t verbs, groups, resources, names, urls;
    const json_t *json; /* the rule as stored (borrowed from its role's object) */
} rbac_rule_t;

/* Compiles one PolicyRule; a rule that is not an object or has no verbs compiles
 * to one that matches nothing. Returns 0 or TRI_ENOMEM. */
int rbac_rule_compile(const json_t *rule, rbac_rule_t *out);
void rbac_rule_free(rbac_rule_t *r);
/* rbac.RuleAllows: verbs, then apiGroups + resources ("res", "res/sub", "*",
 * "*\/sub") + resourceNames for resource requests, or nonResourceURLs (exact,
 * "*", or a trailing "*" prefix) for the others. */
bool rbac_rule_allows(const rbac_rule_t *r, const tri_authz_attrs_t *a);
bool strv_has(const strv_t *s, const char *v); /* true for "*" entries too */

/* ---------- rbac.c ---------- */

typedef struct rbac rbac_t;

int rbac_new(tri_store_t *store, rbac_t **out);
void rbac_free(rbac_t *r);
/* Applies what the store changed since the last call (cheap when nothing did). */
void rbac_sync(rbac_t *r);
/* ALLOW (reason: the binding that allowed it) or NO_OPINION (reason: errors met,
 * e.g. a binding to a missing role, or ""). */
enum tri_authz_decision rbac_authorize(rbac_t *r, const tri_authz_attrs_t *attrs, char *reason,
                                       size_t len);
/* The rules user u holds in namespace ns (cluster-wide rules when ns is ""):
 * appends {verbs, apiGroups, resources, resourceNames} and {verbs, nonResourceURLs}
 * objects to res and nonres; returns the evaluation errors ("" when none) in err. */
void rbac_rules_for(rbac_t *r, const tri_user_t *u, const char *ns, json_t *res, json_t *nonres,
                    char *err, size_t errlen);
/* The effective rules of ClusterRole name (aggregated ones computed), as a JSON
 * array of PolicyRule objects (new reference), NULL when there is no such role. */
json_t *rbac_clusterrole_rules(rbac_t *r, const char *name);
/* Bumped on every RBAC change the indexes followed (tests, the benchmark). */
uint64_t rbac_generation(const rbac_t *r);

/* ---------- node.c ---------- */

typedef struct node_authz node_authz_t;

int node_authz_new(tri_store_t *store, node_authz_t **out);
void node_authz_free(node_authz_t *n);
/* True for system:node:NAME in group system:nodes; *name points into u->name. */
bool node_identity(const tri_user_t *u, const char **name);
/* ALLOW, DENY (a decision about node-owned objects: other nodes' or objects no pod
 * of this node uses) or NO_OPINION (not the Node authorizer's business: RBAC
 * decides, e.g. discovery or SelfSubjectAccessReview). */
enum tri_authz_decision node_authorize(node_authz_t *n, const char *node,
                                       const tri_authz_attrs_t *attrs, char *reason, size_t len);

/* ---------- policy.c ---------- */

/* ClusterRoles Kubernetes' bootstrap policy ships that a user may take as given. */
json_t *policy_clusterroles(void);
json_t *policy_clusterrolebindings(void);

/* ---------- authz.c ---------- */

/* rbac_clusterrole_rules on a's RBAC state (policy_ensure.c). */
json_t *tri_authz_aggregated_rules(tri_authz_t *a, const char *name);

/* ---------- small JSON helpers (rule.c) ---------- */

const char *jstr(const json_t *o, const char *key); /* NULL unless a string */
const char *jstr_or(const json_t *o, const char *key, const char *dflt);
json_t *jload_val(const tri_val_t *v); /* a stored object, NULL if not a JSON object */

#endif
