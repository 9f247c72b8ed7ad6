/* csrsigning: kube-controller-manager's signer for the kubernetes.io signers
 * (pkg/controller/certificates/signer). An approved request, not failed and not
 * issued yet, of kubernetes.io/kube-apiserver-client-kubelet,
 * kubernetes.io/kube-apiserver-client or kubernetes.io/kubelet-serving is checked
 * against its signer's rules (tri_csr_check_signer): one that does not fit gets a
 * Failed condition (reason SignerValidationFailure), one that does gets
 * status.certificate, signed by the cluster CA for spec.expirationSeconds capped
 * by cluster-signing-duration. Both are writes to /status with the
 * resourceVersion read. Requests for other signers are left to them.
 *
 * Only the issued certificate enters the store; the CA key stays in the
 * tri_signer_t this loop owns. */
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "triarch/controllers.h"
#include "triarch/csr.h"
#include "triarch/errors.h"
#include "triarch/log.h"

typedef struct signing_state {
    tri_signer_t *signer;
    int64_t max_duration_s;
} signing_state_t;


static json_t *status_of(json_t *csr)
{
    json_t *status = json_object_get(csr, "status");
    if (!json_is_object(status)) {
        status = json_object();
        json_object_set_new(csr, "status", status);
    }
    return status;
}

static int write_status(tri_ctrl_loop_t *l, tri_ctrl_item_t *it, json_t *csr, const char *what)
{
    ctrl_job_t *j = ctrl_job_new(it, what);
    if (j == NULL)
        return TRI_CTRL_REQUEUE;
    j->op.subresource = "status";
    tri_api_update(tri_ctrl_loop_api(l), &j->op,
                   tri_registry_find("certificates.k8s.io", "v1", "certificatesigningrequests"),
                   NULL, tri_ctrl_key(it), csr, false, ctrl_job_done);
    return TRI_CTRL_PENDING;
}

static int mark_failed(tri_ctrl_loop_t *l, tri_ctrl_item_t *it, json_t *csr, const char *why)
{
    char now[21];
    tri_rfc3339_now(now);
    json_t *status = status_of(csr);
    json_t *conds = json_object_get(status, "conditions");
    if (!json_is_array(conds)) {
        conds = json_array();
        json_object_set_new(status, "conditions", conds);
    }
    json_array_append_new(conds,
                          json_pack("{s:s, s:s, s:s, s:s, s:s, s:s}", "type", "Failed", "status",
                                    "True", "reason", "SignerValidationFailure", "message", why,
                                    "lastUpdateTime", now, "lastTransitionTime", now));
    tri_warn("csrsigning", "request does not fit its signer", "csr=%s reason=\"%s\"",
             tri_ctrl_key(it), why);
    return write_status(l, it, csr, "mark failed");
}

static int issue(tri_ctrl_loop_t *l, tri_ctrl_item_t *it, json_t *csr, const tri_buf_t *pem)
{
    const signing_state_t *s = tri_ctrl_loop_data(l);
    const json_t *spec = json_object_get(csr, "spec");
    json_t *exp = json_object_get(spec, "expirationSeconds");
    int64_t lifetime =
        tri_signer_lifetime(json_is_integer(exp) ? json_integer_value(exp) : 0, s->max_duration_s);
    tri_buf_t cert = {0};
    char why[256] = "";
    if (tri_signer_sign(s->signer, pem->data, pem->len, json_object_get(spec, "usages"), lifetime,
                        &cert, why, sizeof why) != 0) {
        tri_error("csrsigning", "cannot sign", "csr=%s reason=\"%s\"", tri_ctrl_key(it), why);
        tri_buf_free(&cert);
        return TRI_CTRL_REQUEUE;
    }
    tri_buf_t b64 = {0};
    int rc = tri_buf_reserve(&b64, 4 * (cert.len / 3 + 1) + 1);
    if (rc == 0) {
        int n = EVP_EncodeBlock((unsigned char *)b64.data, (const unsigned char *)cert.data,
                                (int)cert.len);
        json_object_set_new(status_of(csr), "certificate", json_stringn(b64.data, (size_t)n));
    }
    tri_buf_free(&b64);
    tri_buf_free(&cert);
    if (rc != 0)
        return TRI_CTRL_REQUEUE;
    tri_info("csrsigning", "issued", "csr=%s signer=%s lifetime_s=%lld", tri_ctrl_key(it),
             json_string_value(json_object_get(spec, "signerName")), (long long)lifetime);
    return write_status(l, it, csr, "issue");
}

/* What to do for one request that is approved and not failed or issued yet. */
static int sign_or_fail(tri_ctrl_loop_t *l, tri_ctrl_item_t *it, json_t *csr)
{
    const json_t *spec = json_object_get(csr, "spec");
    const char *signer = json_string_value(json_object_get(spec, "signerName"));
    tri_buf_t pem = {0};
    tri_csr_info_t info;
    char why[256] = "";
    int rc = TRI_CTRL_DONE;
    if (tri_csr_request_pem(csr, &pem, why, sizeof why) != 0 ||
        tri_csr_parse(pem.data, pem.len, &info, why, sizeof why) != 0) {
        rc = mark_failed(l, it, csr, why);
    } else {
        int fit =
            tri_csr_check_signer(signer, &info, json_object_get(spec, "usages"), why, sizeof why);
        if (fit < 0)
            rc = mark_failed(l, it, csr, why);
        else if (fit > 0)
            rc = issue(l, it, csr, &pem);
    }
    tri_buf_free(&pem);
    return rc;
}

static int sg_reconcile(tri_ctrl_loop_t *l, tri_ctrl_item_t *it)
{
    const tri_resource_t *r =
        tri_registry_find("certificates.k8s.io", "v1", "certificatesigningrequests");
    json_t *csr = tri_api_lookup(tri_ctrl_loop_api(l), r, NULL, tri_ctrl_key(it));
    if (csr == NULL)
        return TRI_CTRL_DONE;
    const char *cert =
        json_string_value(json_object_get(json_object_get(csr, "status"), "certificate"));
    const char *signer =
        json_string_value(json_object_get(json_object_get(csr, "spec"), "signerName"));
    bool ours = signer && (strcmp(signer, TRI_SIGNER_KUBELET_CLIENT) == 0 ||
                           strcmp(signer, TRI_SIGNER_APISERVER_CLIENT) == 0 ||
                           strcmp(signer, TRI_SIGNER_KUBELET_SERVING) == 0);
    int rc = TRI_CTRL_DONE;
    if (ours && !(cert && cert[0]) && tri_csr_has_condition(csr, "Approved") &&
        !tri_csr_has_condition(csr, "Failed") && !tri_csr_has_condition(csr, "Denied"))
        rc = sign_or_fail(l, it, csr);
    json_decref(csr);
    return rc;
}

static void sg_on_event(tri_ctrl_loop_t *l, const tri_resource_t *r, enum tri_watch_event_type type,
                        const json_t *obj)
{
    const char *name = ctrl_meta_str(obj, "name");
    if (name && type != TRI_WATCH_DELETED)
        tri_ctrl_add(l, name);
}

static void sg_free(void *data)
{
    signing_state_t *s = data;
    if (s)
        tri_signer_free(s->signer);
    free(s);
}

static const tri_ctrl_loop_def_t signing_def = {
    .name = "csrsigning",
    .watch = {"certificates.k8s.io/v1/certificatesigningrequests"},
    .on_event = sg_on_event,
    .reconcile = sg_reconcile,
    .free_data = sg_free,
};

int tri_ctrl_csrsigning_add(tri_ctrl_manager_t *m, tri_signer_t *signer, int64_t max_duration_s)
{
    signing_state_t *s = calloc(1, sizeof *s);
    if (s == NULL) {
        tri_signer_free(signer);
        return TRI_ENOMEM;
    }
    s->signer = signer;
    s->max_duration_s = max_duration_s;
    int rc = tri_ctrl_manager_add(m, &signing_def, s, NULL);
    if (rc != 0)
        sg_free(s);
    return rc;
}
