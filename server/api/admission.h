/* Private to server/api: admission, as kube-apiserver orders it. A create or an
 * update runs, after defaulting: the mutating plugins (ServiceAccount, Priority,
 * then LimitRanger's defaults), validation, the validating plugins
 * (NodeRestriction, LimitRanger's limits), and last ResourceQuota, whose usage is
 * charged in the write's own txn. NamespaceLifecycle is the create path's own check
 * (client.c). Every plugin reads the replica's local store. */
#ifndef TRIARCH_API_ADMISSION_H
#define TRIARCH_API_ADMISSION_H

#include "triarch/api.h"
#include "triarch/auth.h"
#include "triarch/quota.h"

typedef struct tri_admit {
    tri_api_t *api;
    const tri_resource_t *r;
    const char *ns;
    const char *name;
    const char *subresource;  /* "status", "scale", ... or NULL */
    const tri_user_t *user;   /* NULL: the server itself (leader loops) */
    bool create;              /* else an update */
} tri_admit_t;

/* Before a create starts: true when it should wait a little for something a
 * leader loop is about to make (a namespace's default service account, as
 * kube-apiserver's ServiceAccount admission retries for it). */
bool tri_admit_should_wait(const tri_admit_t *a, const json_t *obj);

void tri_admit_mutate(const tri_admit_t *a, json_t *obj, const json_t *old, tri_status_t *st);
void tri_admit_validate(const tri_admit_t *a, const json_t *obj, const json_t *old,
                        tri_status_t *st);

/* ---------- plugins (admission_*.c) ---------- */

void tri_admit_service_account(const tri_admit_t *a, json_t *pod, tri_status_t *st);
void tri_admit_priority(const tri_admit_t *a, json_t *pod, tri_status_t *st);
void tri_admit_node_restriction(const tri_admit_t *a, const json_t *obj, const json_t *old,
                                tri_status_t *st);

/* LimitRanger (admission_limits.c): defaults on pod creates, limits on pod
 * creates and claim creates/updates. */
void tri_admit_limit_ranger_mutate(const tri_admit_t *a, json_t *pod, tri_status_t *st);
void tri_admit_limit_ranger_validate(const tri_admit_t *a, const json_t *obj, const json_t *old,
                                     tri_status_t *st);
/* Its pure parts, over a JSON array of LimitRange objects: the defaults applied
 * to a pod, and the violations (a new JSON array of messages) of a pod or, with
 * claim, a PersistentVolumeClaim. */
void tri_limitranger_defaults(const json_t *ranges, json_t *pod);
json_t *tri_limitranger_violations(const json_t *ranges, bool claim, const json_t *obj);

/* ResourceQuota (admission_quota.c), last: checks obj (old: its previous
 * version on an update) against the namespace's quotas and adds each charged
 * quota to b (a put of its new status.used, guarded by its mod_revision).
 * Refusals set st (403); returns 0 or a TRI_E* code. */
int tri_admit_quota(const tri_admit_t *a, const json_t *obj, const json_t *old,
                    tri_txn_builder_t *b, tri_status_t *st);
/* Its pure parts: "must specify ..." for a pod (1 and why set when missing);
 * what obj adds to the quota's spec.hard names (only growth, no zeros); whether
 * used + delta fits hard (new_used filled; else false and why "exceeded quota: ..."). */
int tri_quota_constraints(const json_t *quota, const json_t *pod, char *why, size_t len);
int tri_quota_delta(const json_t *quota, const tri_resource_t *r, const json_t *obj,
                    const json_t *old, int64_t now, tri_rlist_t *delta);
bool tri_quota_fits(const char *quota_name, const tri_rlist_t *hard, const tri_rlist_t *used,
                    const tri_rlist_t *delta, tri_rlist_t *new_used, char *why, size_t len);
/* CertificateSigningRequests (admission_csr.c): the requester on create; signer
 * restrictions, approval and signing checks. */
void tri_admit_csr_mutate(const tri_admit_t *a, json_t *obj, const json_t *old, tri_status_t *st);
void tri_admit_csr_validate(const tri_admit_t *a, const json_t *obj, const json_t *old,
                            tri_status_t *st);

/* Shared: the object at (r, ns, name) in the local store, parsed (new reference),
 * or NULL. */
json_t *tri_admit_lookup(tri_api_t *api, const tri_resource_t *r, const char *ns,
                         const char *name);
/* 403 Forbidden as admission words it: `<plural> "<name>" is forbidden: <why>`. */
void tri_admit_forbid(const tri_admit_t *a, tri_status_t *st, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif
