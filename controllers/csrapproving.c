/* csrapproving: kube-controller-manager's CSR approver (pkg/controller/
 * certificates/approver/sarapprove.go). A kubelet client request is approved
 * automatically when it is exactly what kubelet asks for and the requester may
 * ask for it:
 *
 *   selfnodeclient  the requester is the node the certificate names (a node
 *                   renewing its own client certificate): spec.username equals
 *                   the request's CN and it may create
 *                   certificatesigningrequests/selfnodeclient;
 *   nodeclient      the requester may create certificatesigningrequests/nodeclient
 *                   (bootstrap tokens: group system:bootstrappers).
 *
 * "May" is the authorizer's answer for the user spec.username/uid/groups recorded
 * at create time (the server set them from the authenticated requester), as the
 * SubjectAccessReview Kubernetes' approver sends. Everything else stays Pending
 * for a human (`kubectl certificate approve`). Keyed by CSR name; an approval is
 * a write to /approval with the resourceVersion read, so a concurrent decision
 * wins and the key is looked at again. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "triarch/authz.h"
#include "triarch/controllers.h"
#include "triarch/csr.h"
#include "triarch/errors.h"
#include "triarch/log.h"

#define CSR_RESOURCE "certificates.k8s.io/v1/certificatesigningrequests"

typedef struct recognizer {
    const char *subresource;
    bool self; /* the requester must be the node the request names */
    const char *message;
} recognizer_t;

static const recognizer_t recognizers[] = {
    {"selfnodeclient", true,
     "Auto approving self kubelet client certificate after SubjectAccessReview."},
    {"nodeclient", false, "Auto approving kubelet client certificate after SubjectAccessReview."},
};

static const json_t *spec_of(const json_t *csr)
{
    return json_object_get(csr, "spec");
}


/* The requester as the CSR recorded it. */
static void requester(const json_t *spec, tri_user_t *u)
{
    memset(u, 0, sizeof *u);
    const char *name = json_string_value(json_object_get(spec, "username"));
    const char *uid = json_string_value(json_object_get(spec, "uid"));
    snprintf(u->name, sizeof u->name, "%s", name ? name : "");
    snprintf(u->uid, sizeof u->uid, "%s", uid ? uid : "");
    size_t i;
    json_t *g;
    json_array_foreach(json_object_get(spec, "groups"), i, g) if (json_is_string(g))
        tri_user_add_group(u, json_string_value(g));
    json_t *extra = json_object_get(spec, "extra");
    const char *pod = json_string_value(
        json_array_get(json_object_get(extra, "authentication.kubernetes.io/pod-name"), 0));
    const char *node = json_string_value(
        json_array_get(json_object_get(extra, "authentication.kubernetes.io/node-name"), 0));
    snprintf(u->pod_name, sizeof u->pod_name, "%s", pod ? pod : "");
    snprintf(u->node_name, sizeof u->node_name, "%s", node ? node : "");
}

static bool may_create(struct tri_authz *authz, const tri_user_t *u, const char *sub)
{
    tri_authz_attrs_t at = {.user = u,
                            .verb = "create",
                            .resource_request = true,
                            .namespace_ = "",
                            .api_group = "certificates.k8s.io",
                            .api_version = "*",
                            .resource = "certificatesigningrequests",
                            .subresource = sub,
                            .name = "",
                            .path = ""};
    char reason[256];
    return tri_authz_check(authz, &at, reason, sizeof reason) == TRI_AUTHZ_ALLOW;
}

/* The request parsed (its signature verified again: the store is not trusted
 * more than the client was). */
static bool parse_request(const json_t *csr, tri_csr_info_t *info, char *why, size_t wl)
{
    tri_buf_t pem = {0};
    bool ok = tri_csr_request_pem(csr, &pem, why, wl) == 0 &&
              tri_csr_parse(pem.data, pem.len, info, why, wl) == 0;
    tri_buf_free(&pem);
    return ok;
}

const char *tri_ctrl_csr_approval(const json_t *csr, struct tri_authz *authz, char *why, size_t wl)
{
    why[0] = '\0';
    const json_t *spec = spec_of(csr);
    const char *signer = json_string_value(json_object_get(spec, "signerName"));
    const char *cert =
        json_string_value(json_object_get(json_object_get(csr, "status"), "certificate"));
    if ((cert && cert[0]) || tri_csr_has_condition(csr, "Approved") || tri_csr_has_condition(csr, "Denied"))
        return NULL; /* decided already */
    if (signer == NULL || strcmp(signer, TRI_SIGNER_KUBELET_CLIENT) != 0)
        return NULL; /* only kubelet client certificates are approved automatically */
    tri_csr_info_t info;
    if (!parse_request(csr, &info, why, wl))
        return NULL;
    if (!tri_csr_is_kubelet_client(&info, json_object_get(spec, "usages"))) {
        snprintf(why, wl, "not a kubelet client request (subject, SANs or usages)");
        return NULL;
    }
    tri_user_t u;
    requester(spec, &u);
    char tried[64] = "";
    for (size_t i = 0; i < sizeof recognizers / sizeof recognizers[0]; i++) {
        const recognizer_t *r = &recognizers[i];
        if (r->self && strcmp(u.name, info.cn) != 0)
            continue;
        if (may_create(authz, &u, r->subresource))
            return r->message;
        size_t n = strlen(tried);
        snprintf(tried + n, sizeof tried - n, "%s%s", n ? "," : "", r->subresource);
    }
    snprintf(why, wl, "recognized as [%s] but the subject access review of %s was not allowed",
             tried, u.name);
    return NULL;
}

/* ---------- the loop ---------- */

static void ap_on_event(tri_ctrl_loop_t *l, const tri_resource_t *r, enum tri_watch_event_type type,
                        const json_t *obj)
{
    const char *name = ctrl_meta_str(obj, "name");
    if (name && type != TRI_WATCH_DELETED)
        tri_ctrl_add(l, name);
}

static int approve(tri_ctrl_loop_t *l, tri_ctrl_item_t *it, json_t *csr, const char *message)
{
    ctrl_job_t *j = ctrl_job_new(it, "approve");
    if (j == NULL)
        return TRI_CTRL_REQUEUE;
    char now[21];
    tri_rfc3339_now(now);
    json_t *status = json_object_get(csr, "status");
    if (!json_is_object(status)) {
        status = json_object();
        json_object_set_new(csr, "status", status);
    }
    json_t *conds = json_object_get(status, "conditions");
    if (!json_is_array(conds)) {
        conds = json_array();
        json_object_set_new(status, "conditions", conds);
    }
    json_array_append_new(conds,
                          json_pack("{s:s, s:s, s:s, s:s, s:s, s:s}", "type", "Approved", "status",
                                    "True", "reason", "AutoApproved", "message", message,
                                    "lastUpdateTime", now, "lastTransitionTime", now));
    j->op.subresource = "approval";
    tri_api_update(tri_ctrl_loop_api(l), &j->op,
                   tri_registry_find("certificates.k8s.io", "v1", "certificatesigningrequests"),
                   NULL, tri_ctrl_key(it), csr, false, ctrl_job_done);
    tri_info("csrapproving", "approved", "csr=%s user=\"%s\"", tri_ctrl_key(it),
             json_string_value(json_object_get(spec_of(csr), "username")));
    return TRI_CTRL_PENDING;
}

static int ap_reconcile(tri_ctrl_loop_t *l, tri_ctrl_item_t *it)
{
    struct tri_authz *authz = tri_ctrl_loop_data(l);
    const tri_resource_t *r =
        tri_registry_find("certificates.k8s.io", "v1", "certificatesigningrequests");
    json_t *csr = tri_api_lookup(tri_ctrl_loop_api(l), r, NULL, tri_ctrl_key(it));
    if (csr == NULL)
        return TRI_CTRL_DONE;
    char why[512];
    const char *message = tri_ctrl_csr_approval(csr, authz, why, sizeof why);
    int rc = TRI_CTRL_DONE;
    if (message)
        rc = approve(l, it, csr, message);
    else if (why[0])
        tri_debug("csrapproving", "left pending", "csr=%s reason=\"%s\"", tri_ctrl_key(it), why);
    json_decref(csr);
    return rc;
}

static const tri_ctrl_loop_def_t approving_def = {
    .name = "csrapproving",
    .watch = {CSR_RESOURCE},
    .on_event = ap_on_event,
    .reconcile = ap_reconcile,
};

int tri_ctrl_csrapproving_add(tri_ctrl_manager_t *m, struct tri_authz *authz)
{
    if (authz == NULL)
        return TRI_EINVAL;
    return tri_ctrl_manager_add(m, &approving_def, authz, NULL);
}
