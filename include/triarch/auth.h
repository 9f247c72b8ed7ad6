/* Who is asking, and what for: the types shared by authentication (server/http),
 * authorization (server/auth: RBAC and the Node authorizer), admission and audit.
 * They mirror Kubernetes' user.Info and authorizer.Attributes. */
#ifndef TRIARCH_AUTH_H
#define TRIARCH_AUTH_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#define TRI_USER_NAME_MAX 384 /* system:serviceaccount:<63>:<253> fits */
#define TRI_USER_GROUP_MAX 128
#define TRI_USER_MAX_GROUPS 16

/* An authenticated user (user.Info). Groups always include "system:authenticated"
 * for an authenticated request. */
typedef struct tri_user {
    char name[TRI_USER_NAME_MAX];
    char uid[64];
    char groups[TRI_USER_MAX_GROUPS][TRI_USER_GROUP_MAX];
    size_t n_groups;
    /* From a service-account token bound to a pod (extra
     * authentication.kubernetes.io/pod-name and node-name); "" when absent. */
    char pod_name[254];
    char node_name[254];
} tri_user_t;

/* Adds a group (ignored beyond TRI_USER_MAX_GROUPS or when already present). */
void tri_user_add_group(tri_user_t *u, const char *group);
bool tri_user_in_group(const tri_user_t *u, const char *group);
/* userInfo.extra as Kubernetes records it (the pod and node a service-account token
 * is bound to); a new, possibly empty object. */
json_t *tri_user_extra(const tri_user_t *u);

/* What a request does (authorizer.Attributes). Strings are never NULL ("" when
 * they do not apply). verb is the Kubernetes verb: get list watch create update
 * patch delete deletecollection, or for non-resource requests the lowercased HTTP
 * method (get, post, put, ...). */
typedef struct tri_authz_attrs {
    const tri_user_t *user;
    const char *verb;
    bool resource_request;
    const char *namespace_;
    const char *api_group; /* "" for core */
    const char *api_version;
    const char *resource;  /* plural */
    const char *subresource;
    const char *name;
    const char *path;      /* non-resource requests: the URL path */
} tri_authz_attrs_t;

enum tri_authz_decision {
    TRI_AUTHZ_DENY = 0,    /* no rule allows it (403) */
    TRI_AUTHZ_ALLOW = 1,
    TRI_AUTHZ_NO_OPINION = 2, /* this authorizer does not decide; ask the next */
};

#endif
