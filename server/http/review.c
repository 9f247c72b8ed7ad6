/* The review kinds (res_reviews.c): POST only, answered at once from the
 * authenticator and the authorizer, nothing stored. What `kubectl auth can-i`
 * (SelfSubjectAccessReview, SelfSubjectRulesReview with --list) and `kubectl auth
 * whoami` (SelfSubjectReview) send, and what webhooks and proxies use
 * (SubjectAccessReview, LocalSubjectAccessReview, TokenReview). Each answer is the
 * request with its status filled, 201 Created, as kube-apiserver's. */
#include <stdio.h>
#include <string.h>

#include "internal.h"
#include "triarch/authn.h"
#include "triarch/authz.h"

static json_t *user_info(const tri_user_t *u)
{
    json_t *groups = json_array();
    for (size_t i = 0; i < u->n_groups; i++)
        json_array_append_new(groups, json_string(u->groups[i]));
    json_t *ui = json_pack("{s:s, s:o}", "username", u->name, "groups", groups);
    if (u->uid[0])
        json_object_set_new(ui, "uid", json_string(u->uid));
    json_t *extra = tri_user_extra(u);
    if (json_object_size(extra))
        json_object_set_new(ui, "extra", extra);
    else
        json_decref(extra);
    return ui;
}

/* TokenReview: is spec.token a valid service-account token, and whose? */
static json_t *token_review(tri_http_t *h, json_t *spec, char *err, size_t errlen)
{
    const char *tok = json_string_value(json_object_get(spec, "token"));
    if (tok == NULL || tok[0] == '\0') {
        snprintf(err, errlen, "spec.token: Required value");
        return NULL;
    }
    tri_user_t u;
    char why[640] = "";
    json_t *st = json_object();
    if (tri_authn_token(h, tok, strlen(tok), &u, why, sizeof why) == 0) {
        json_object_set_new(st, "authenticated", json_true());
        json_object_set_new(st, "user", user_info(&u));
    } else {
        json_object_set_new(st, "error", json_string(why));
    }
    return st;
}

static json_t *status_for(tri_http_t *h, const tri_route_t *rt, json_t *spec,
                          const tri_user_t *u, char *err, size_t errlen)
{
    const char *plural = rt->res->plural;
    if (!strcmp(plural, "selfsubjectreviews"))
        return json_pack("{s:o}", "userInfo", user_info(u));
    if (!strcmp(plural, "tokenreviews"))
        return token_review(h, spec, err, errlen);
    if (!strcmp(plural, "selfsubjectrulesreviews"))
        return tri_authz_rules_review(h->authz, u,
                                      json_string_value(json_object_get(spec, "namespace")));
    if (!strcmp(plural, "selfsubjectaccessreviews"))
        return tri_authz_review(h->authz, spec, u, err, errlen);
    if (!strcmp(plural, "localsubjectaccessreviews")) {
        json_t *ra = json_object_get(spec, "resourceAttributes");
        const char *ns = json_string_value(json_object_get(ra, "namespace"));
        if (ra == NULL || ns == NULL || strcmp(ns, rt->ns) != 0) {
            snprintf(err, errlen, "spec.resourceAttributes.namespace: Invalid value: must "
                                  "match metadata.namespace \"%s\"", rt->ns);
            return NULL;
        }
    }
    return tri_authz_review(h->authz, spec, NULL, err, errlen);
}

int tri_handle_review(tri_http_t *h, h2o_req_t *req, const tri_route_t *rt, const tri_user_t *u)
{
    tri_status_t st = {0};
    json_t *body = tri_decode_body(req, &st);
    if (body == NULL && !strcmp(rt->res->plural, "selfsubjectreviews"))
        body = json_object(); /* whoami: nothing in the request matters */
    if (body == NULL) {
        tri_send_status(req, &st);
        tri_status_clear(&st);
        return 0;
    }
    json_t *spec = json_object_get(body, "spec");
    if (!json_is_object(spec)) {
        spec = json_object();
        json_object_set_new(body, "spec", spec);
    }
    char err[512] = "";
    json_t *status = status_for(h, rt, spec, u, err, sizeof err);
    if (status == NULL) {
        tri_send_error(req, 422, "Invalid", "%s.%s \"\" is invalid: %s", rt->res->kind,
                       rt->res->group, err[0] ? err : "bad spec");
        json_decref(body);
        return 0;
    }
    char apiv[128];
    tri_resource_api_version(rt->res, apiv, sizeof apiv);
    json_object_set_new(body, "kind", json_string(rt->res->kind));
    json_object_set_new(body, "apiVersion", json_string(apiv));
    json_t *meta = json_object_get(body, "metadata");
    if (!json_is_object(meta)) {
        meta = json_object();
        json_object_set_new(body, "metadata", meta);
    }
    json_object_set_new(meta, "creationTimestamp", json_null());
    if (!strcmp(rt->res->plural, "selfsubjectreviews"))
        json_object_del(body, "spec");
    json_object_set_new(body, "status", status);
    tri_send_json(req, 201, body);
    return 0;
}
