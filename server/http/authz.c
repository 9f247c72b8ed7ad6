/* Authorization of every authenticated request (after authn.c, before anything is
 * read or written): the request becomes Kubernetes authorizer attributes and the
 * Node,RBAC chain (server/auth) decides; a denial is a 403 Forbidden Status worded
 * as kube-apiserver words it. The health endpoints are never authorized: the load
 * balancer must reach them even before the default RBAC policy exists. */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "internal.h"
#include "triarch/authz.h"
#include "triarch/log.h"

static const char *const verb_words[V_COUNT] = {
    [V_GET] = "get",         [V_LIST] = "list",     [V_WATCH] = "watch",
    [V_CREATE] = "create",   [V_UPDATE] = "update", [V_PATCH] = "patch",
    [V_DELETE] = "delete",   [V_DELCOL] = "deletecollection",
    [V_OTHER] = "",
};

static void forbidden(tri_http_t *h, h2o_req_t *req, const tri_status_t *st)
{
    h->metrics.authz_denials++;
    tri_send_status(req, st);
}

int tri_authorize_path(tri_http_t *h, h2o_req_t *req, const tri_user_t *u, const char *path,
                       size_t len)
{
    if (tri_is_health_path(path, len))
        return 0;
    char verb[16] = "", p[1024];
    size_t m = req->method.len < sizeof verb - 1 ? req->method.len : sizeof verb - 1;
    for (size_t i = 0; i < m; i++)
        verb[i] = (char)tolower((unsigned char)req->method.base[i]);
    snprintf(p, sizeof p, "%.*s", (int)len, path);
    tri_authz_attrs_t a = {.user = u, .verb = verb, .resource_request = false,
                           .namespace_ = "", .api_group = "", .api_version = "",
                           .resource = "", .subresource = "", .name = "", .path = p};
    char why[256] = "";
    if (tri_authz_check(h->authz, &a, why, sizeof why) == TRI_AUTHZ_ALLOW)
        return 0;
    tri_status_t st = {0};
    tri_status_set(&st, 403, "Forbidden", "forbidden: User \"%s\" cannot %s path \"%s\"%s%s",
                   u->name, verb, p, why[0] ? ": " : "", why);
    forbidden(h, req, &st);
    tri_status_clear(&st);
    return -1;
}

int tri_authorize_resource(tri_http_t *h, h2o_req_t *req, const tri_user_t *u,
                           const tri_route_t *rt, enum tri_verb verb)
{
    const tri_resource_t *r = rt->res;
    const char *vw = verb < V_COUNT ? verb_words[verb] : "";
    tri_authz_attrs_t a = {.user = u, .verb = vw, .resource_request = true,
                           .namespace_ = rt->ns, .api_group = r->group,
                           .api_version = r->version, .resource = r->plural,
                           .subresource = rt->sub, .name = rt->name, .path = ""};
    char why[256] = "";
    if (tri_authz_check(h->authz, &a, why, sizeof why) == TRI_AUTHZ_ALLOW)
        return 0;
    char what[600], res[200], scope[300];
    if (rt->name[0])
        snprintf(what, sizeof what, "%s%s%s \"%s\"", r->plural, r->group[0] ? "." : "",
                 r->group, rt->name);
    else
        snprintf(what, sizeof what, "%s%s%s", r->plural, r->group[0] ? "." : "", r->group);
    snprintf(res, sizeof res, "%s%s%s", r->plural, rt->sub[0] ? "/" : "", rt->sub);
    if (rt->ns[0])
        snprintf(scope, sizeof scope, "in the namespace \"%s\"", rt->ns);
    else
        snprintf(scope, sizeof scope, "at the cluster scope");
    tri_status_t st = {0};
    tri_status_set(&st, 403, "Forbidden",
                   "%s is forbidden: User \"%s\" cannot %s resource \"%s\" in API group \"%s\" "
                   "%s%s%s", what, u->name, vw, res, r->group, scope, why[0] ? ": " : "", why);
    snprintf(st.kind, sizeof st.kind, "%s", r->plural);
    snprintf(st.group, sizeof st.group, "%s", r->group);
    snprintf(st.name, sizeof st.name, "%s", rt->name);
    forbidden(h, req, &st);
    tri_status_clear(&st);
    return -1;
}
