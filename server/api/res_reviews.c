/* authentication.k8s.io/v1 and authorization.k8s.io/v1: the review kinds. They
 * are create-only and nothing of them is stored: the HTTP layer answers each POST
 * from the authenticator and the authorizer (server/http/review.c). They are rows
 * here so that discovery, `kubectl api-resources` and routing see them as
 * kube-apiserver serves them. */
#include "resources.h"

#define REVIEW(id, grp, k, pl, sing, ns)                                                           \
    const tri_resource_t id = {                                                                    \
        .group = grp,                                                                              \
        .version = "v1",                                                                           \
        .kind = k,                                                                                 \
        .list_kind = k "List",                                                                     \
        .plural = pl,                                                                              \
        .singular = sing,                                                                          \
        .namespaced = ns,                                                                          \
        .review = true,                                                                            \
        .known_fields = {"spec", "status"},                                                        \
    }

REVIEW(tri_res_selfsubjectreviews, "authentication.k8s.io", "SelfSubjectReview",
       "selfsubjectreviews", "selfsubjectreview", false);
REVIEW(tri_res_tokenreviews, "authentication.k8s.io", "TokenReview", "tokenreviews",
       "tokenreview", false);
REVIEW(tri_res_localsubjectaccessreviews, "authorization.k8s.io", "LocalSubjectAccessReview",
       "localsubjectaccessreviews", "localsubjectaccessreview", true);
REVIEW(tri_res_selfsubjectaccessreviews, "authorization.k8s.io", "SelfSubjectAccessReview",
       "selfsubjectaccessreviews", "selfsubjectaccessreview", false);
REVIEW(tri_res_selfsubjectrulesreviews, "authorization.k8s.io", "SelfSubjectRulesReview",
       "selfsubjectrulesreviews", "selfsubjectrulesreview", false);
REVIEW(tri_res_subjectaccessreviews, "authorization.k8s.io", "SubjectAccessReview",
       "subjectaccessreviews", "subjectaccessreview", false);
