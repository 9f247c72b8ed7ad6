/* User impersonation (Impersonate-User, -Group, -Uid headers), as kube-apiserver
 * does it: the authenticated user must be allowed the verb "impersonate" on each
 * thing it asks to be — users/NAME (or serviceaccounts/NAME in its namespace for
 * system:serviceaccount:NS:NAME), groups/NAME, uids/UID in authentication.k8s.io —
 * and the request then runs as that user. `kubectl --as jane --as-group dev` sends
 * these; a hollow-node agent hosting many nodes impersonates system:node:NAME (with
 * group system:nodes) for each, allowed by RBAC resourceNames. */
#include <stdio.h>
#include <string.h>

#include "internal.h"
#include "triarch/authz.h"
#include "triarch/log.h"

#define SA_PREFIX "system:serviceaccount:"

static bool header_is(const h2o_header_t *hd, const char *name)
{
    return hd->name->len == strlen(name) && strncasecmp(hd->name->base, name, hd->name->len) == 0;
}

static int deny(tri_http_t *h, h2o_req_t *req, const tri_user_t *u, const char *resource,
                const char *group, const char *name, const char *why)
{
    h->metrics.authz_denials++;
    tri_send_error(req, 403, "Forbidden",
                   "%s \"%s\" is forbidden: User \"%s\" cannot impersonate resource \"%s\" in "
                   "API group \"%s\" at the cluster scope%s%s",
                   resource, name, u->name, resource, group, why[0] ? ": " : "", why);
    return -1;
}

/* May u impersonate (resource, name)? Answers 403 and returns -1 when not. */
static int may(tri_http_t *h, h2o_req_t *req, const tri_user_t *u, const char *resource,
               const char *group, const char *ns, const char *name)
{
    tri_authz_attrs_t a = {.user = u, .verb = "impersonate", .resource_request = true,
                           .namespace_ = ns, .api_group = group, .api_version = "",
                           .resource = resource, .subresource = "", .name = name, .path = ""};
    char why[256] = "";
    if (tri_authz_check(h->authz, &a, why, sizeof why) == TRI_AUTHZ_ALLOW)
        return 0;
    return deny(h, req, u, resource, group, name, why);
}

static int may_be_user(tri_http_t *h, h2o_req_t *req, const tri_user_t *u, const char *name)
{
    char ns[64], sa[254];
    if (strncmp(name, SA_PREFIX, strlen(SA_PREFIX)) == 0 &&
        sscanf(name + strlen(SA_PREFIX), "%63[^:]:%253s", ns, sa) == 2)
        return may(h, req, u, "serviceaccounts", "", ns, sa);
    return may(h, req, u, "users", "", "", name);
}

/* The identity asked for, checked piece by piece; 0 with *as filled. */
static int build(tri_http_t *h, h2o_req_t *req, const tri_user_t *u, const char *user,
                 tri_user_t *as)
{
    memset(as, 0, sizeof *as);
    if (may_be_user(h, req, u, user) != 0)
        return -1;
    snprintf(as->name, sizeof as->name, "%s", user);
    for (size_t i = 0; i < req->headers.size; i++) {
        const h2o_header_t *hd = &req->headers.entries[i];
        char v[TRI_USER_GROUP_MAX];
        snprintf(v, sizeof v, "%.*s", (int)hd->value.len, hd->value.base);
        if (header_is(hd, "impersonate-group")) {
            if (may(h, req, u, "groups", "", "", v) != 0)
                return -1;
            tri_user_add_group(as, v);
        } else if (header_is(hd, "impersonate-uid")) {
            if (may(h, req, u, "uids", "authentication.k8s.io", "", v) != 0)
                return -1;
            snprintf(as->uid, sizeof as->uid, "%.63s", v);
        }
    }
    char ns[64];
    if (strncmp(user, SA_PREFIX, strlen(SA_PREFIX)) == 0 &&
        sscanf(user + strlen(SA_PREFIX), "%63[^:]", ns) == 1) {
        char g[TRI_USER_GROUP_MAX];
        tri_user_add_group(as, "system:serviceaccounts");
        snprintf(g, sizeof g, "system:serviceaccounts:%s", ns);
        tri_user_add_group(as, g);
    }
    tri_user_add_group(as, strcmp(user, "system:anonymous") == 0 ? "system:unauthenticated"
                                                                 : "system:authenticated");
    return 0;
}

int tri_impersonate(tri_http_t *h, h2o_req_t *req, tri_user_t *u)
{
    ssize_t i = h2o_find_header_by_str(&req->headers, H2O_STRLIT("impersonate-user"), -1);
    bool others = h2o_find_header_by_str(&req->headers, H2O_STRLIT("impersonate-group"), -1) >= 0 ||
                  h2o_find_header_by_str(&req->headers, H2O_STRLIT("impersonate-uid"), -1) >= 0;
    if (i < 0) {
        if (!others)
            return 0;
        tri_send_error(req, 400, "BadRequest",
                       "requested impersonation of groups or uid without impersonating a user");
        return -1;
    }
    h2o_iovec_t v = req->headers.entries[i].value;
    if (v.len == 0 || v.len >= TRI_USER_NAME_MAX) {
        tri_send_error(req, 400, "BadRequest", "Impersonate-User: invalid user name");
        return -1;
    }
    char user[TRI_USER_NAME_MAX];
    snprintf(user, sizeof user, "%.*s", (int)v.len, v.base);
    tri_user_t as;
    if (build(h, req, u, user, &as) != 0)
        return -1;
    tri_debug("authn", "impersonating", "user=\"%s\" as=\"%s\"", u->name, as.name);
    *u = as;
    tri_http_audit_user(req, u);
    return 0;
}
