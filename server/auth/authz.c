/* The authorization chain kube-apiserver runs with --authorization-mode=Node,RBAC
 * (plus its always-on privileged-group authorizer for system:masters), and the
 * access reviews built on it: SubjectAccessReview, SelfSubjectAccessReview and
 * SelfSubjectRulesReview (what `kubectl auth can-i` and `can-i --list` ask).
 *
 * Each authorizer answers ALLOW, DENY or NO_OPINION; the first that is not
 * NO_OPINION decides, and NO_OPINION at the end is a denial (403). A review tells
 * the two denials apart as Kubernetes does: "denied": true only when an authorizer
 * decided so (here: the Node authorizer about node-owned objects).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "authz_internal.h"
#include "triarch/errors.h"

struct tri_authz {
    tri_store_t *store;
    rbac_t *rbac;
    node_authz_t *node;
};

int tri_authz_new(tri_store_t *store, tri_authz_t **out)
{
    tri_authz_t *a = calloc(1, sizeof *a);
    if (a == NULL)
        return TRI_ENOMEM;
    a->store = store;
    if (rbac_new(store, &a->rbac) != 0 || node_authz_new(store, &a->node) != 0) {
        tri_authz_free(a);
        return TRI_ENOMEM;
    }
    *out = a;
    return 0;
}

void tri_authz_free(tri_authz_t *a)
{
    if (a == NULL)
        return;
    rbac_free(a->rbac);
    node_authz_free(a->node);
    free(a);
}

/* The chain, NO_OPINION included (reviews need it). */
static enum tri_authz_decision chain(tri_authz_t *a, const tri_authz_attrs_t *attrs, char *reason,
                                     size_t len)
{
    if (len)
        reason[0] = '\0';
    if (attrs->user == NULL)
        return TRI_AUTHZ_NO_OPINION; /* no one asked: nothing to allow */
    if (tri_user_in_group(attrs->user, MASTERS_GROUP)) {
        if (len)
            snprintf(reason, len, "allowed: member of group \"%s\"", MASTERS_GROUP);
        return TRI_AUTHZ_ALLOW;
    }
    const char *node;
    if (node_identity(attrs->user, &node)) {
        enum tri_authz_decision d = node_authorize(a->node, node, attrs, reason, len);
        if (d != TRI_AUTHZ_NO_OPINION)
            return d;
    }
    return rbac_authorize(a->rbac, attrs, reason, len);
}

enum tri_authz_decision tri_authz_check(tri_authz_t *a, const tri_authz_attrs_t *attrs,
                                        char *reason, size_t len)
{
    enum tri_authz_decision d = chain(a, attrs, reason, len);
    return d == TRI_AUTHZ_ALLOW ? TRI_AUTHZ_ALLOW : TRI_AUTHZ_DENY;
}

/* ---------- SubjectAccessReview / SelfSubjectAccessReview ---------- */

/* A string field of o, "" when absent; false (with err) when present but not a string. */
static bool opt_str(const json_t *o, const char *key, const char *path, const char **out, char *err,
                    size_t errlen)
{
    const json_t *v = json_object_get(o, key);
    *out = "";
    if (v == NULL || json_is_null(v))
        return true;
    if (!json_is_string(v)) {
        snprintf(err, errlen, "%s.%s: Invalid value: must be a string", path, key);
        return false;
    }
    *out = json_string_value(v);
    return true;
}

static bool review_user(const json_t *spec, tri_user_t *u, char *err, size_t errlen)
{
    const char *name, *uid;
    if (!opt_str(spec, "user", "spec", &name, err, errlen) ||
        !opt_str(spec, "uid", "spec", &uid, err, errlen))
        return false;
    if (strlen(name) >= sizeof u->name || strlen(uid) >= sizeof u->uid) {
        snprintf(err, errlen, "spec.user: Invalid value: too long");
        return false;
    }
    memset(u, 0, sizeof *u);
    snprintf(u->name, sizeof u->name, "%s", name);
    snprintf(u->uid, sizeof u->uid, "%s", uid);
    const json_t *groups = json_object_get(spec, "groups");
    if (groups != NULL && !json_is_null(groups) && !json_is_array(groups)) {
        snprintf(err, errlen, "spec.groups: Invalid value: must be a list of strings");
        return false;
    }
    if (json_array_size(groups) > TRI_USER_MAX_GROUPS) {
        snprintf(err, errlen, "spec.groups: Too many: %zu: must have at most %d items",
                 json_array_size(groups), TRI_USER_MAX_GROUPS);
        return false;
    }
    size_t i;
    json_t *g;
    json_array_foreach(groups, i, g)
    {
        const char *s = json_string_value(g);
        if (s == NULL || strlen(s) >= TRI_USER_GROUP_MAX) {
            snprintf(err, errlen,
                     "spec.groups[%zu]: Invalid value: must be a string of at most %d "
                     "characters",
                     i, TRI_USER_GROUP_MAX - 1);
            return false;
        }
        tri_user_add_group(u, s);
    }
    if (u->name[0] == '\0' && u->n_groups == 0) {
        snprintf(err, errlen,
                 "spec.user: Invalid value: \"\": at least one of user or group must be specified");
        return false;
    }
    return true;
}

static bool review_attrs(const json_t *spec, tri_authz_attrs_t *attrs, char *err, size_t errlen)
{
    const json_t *ra = json_object_get(spec, "resourceAttributes");
    const json_t *nra = json_object_get(spec, "nonResourceAttributes");
    if (json_is_null(ra))
        ra = NULL;
    if (json_is_null(nra))
        nra = NULL;
    if (ra != NULL && nra != NULL) {
        snprintf(err, errlen,
                 "spec.nonResourceAttributes: Invalid value: cannot be specified in "
                 "combination with resourceAttributes");
        return false;
    }
    if (ra == NULL && nra == NULL) {
        snprintf(err, errlen,
                 "spec.resourceAttributes: Required value: exactly one of "
                 "nonResourceAttributes or resourceAttributes must be specified");
        return false;
    }
    const json_t *o = ra ? ra : nra;
    const char *path = ra ? "spec.resourceAttributes" : "spec.nonResourceAttributes";
    if (!json_is_object(o)) {
        snprintf(err, errlen, "%s: Invalid value: must be an object", path);
        return false;
    }
    attrs->resource_request = ra != NULL;
    if (ra != NULL)
        return opt_str(o, "namespace", path, &attrs->namespace_, err, errlen) &&
               opt_str(o, "verb", path, &attrs->verb, err, errlen) &&
               opt_str(o, "group", path, &attrs->api_group, err, errlen) &&
               opt_str(o, "version", path, &attrs->api_version, err, errlen) &&
               opt_str(o, "resource", path, &attrs->resource, err, errlen) &&
               opt_str(o, "subresource", path, &attrs->subresource, err, errlen) &&
               opt_str(o, "name", path, &attrs->name, err, errlen);
    return opt_str(o, "path", path, &attrs->path, err, errlen) &&
           opt_str(o, "verb", path, &attrs->verb, err, errlen);
}

json_t *tri_authz_review(tri_authz_t *a, const json_t *spec, const tri_user_t *self, char *err,
                         size_t errlen)
{
    if (!json_is_object(spec)) {
        snprintf(err, errlen, "spec: Required value: must be an object");
        return NULL;
    }
    tri_user_t who;
    tri_authz_attrs_t attrs = {.verb = "",
                               .namespace_ = "",
                               .api_group = "",
                               .api_version = "",
                               .resource = "",
                               .subresource = "",
                               .name = "",
                               .path = ""};
    if (!review_attrs(spec, &attrs, err, errlen))
        return NULL;
    if (self == NULL && !review_user(spec, &who, err, errlen))
        return NULL;
    attrs.user = self ? self : &who;
    char reason[1024];
    enum tri_authz_decision d = chain(a, &attrs, reason, sizeof reason);
    json_t *status = json_pack("{s:b}", "allowed", d == TRI_AUTHZ_ALLOW);
    if (d == TRI_AUTHZ_DENY)
        json_object_set_new(status, "denied", json_true());
    if (reason[0])
        json_object_set_new(status, "reason", json_string(reason));
    return status;
}

/* ---------- SelfSubjectRulesReview ---------- */

json_t *tri_authz_rules_review(tri_authz_t *a, const tri_user_t *u, const char *ns)
{
    json_t *res = json_array(), *nonres = json_array();
    char err[1024] = "";
    rbac_rules_for(a->rbac, u, ns ? ns : "", res, nonres, err, sizeof err);
    const char *node;
    if (node_identity(u, &node)) /* as Kubernetes: the Node authorizer lists nothing */
        snprintf(err, sizeof err, "node authorizer does not support user rule resolution");
    json_t *status = json_pack("{s:o, s:o, s:b}", "resourceRules", res, "nonResourceRules", nonres,
                               "incomplete", err[0] != '\0');
    if (err[0])
        json_object_set_new(status, "evaluationError", json_string(err));
    return status;
}

json_t *tri_authz_aggregated_rules(tri_authz_t *a, const char *name)
{
    return name ? rbac_clusterrole_rules(a->rbac, name) : NULL;
}
