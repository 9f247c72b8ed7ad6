/* Admission for CertificateSigningRequests, as kube-apiserver does it:
 *
 * - create (the CSR strategy's PrepareForCreate): spec.username, uid, groups and
 *   extra are the authenticated requester's; whatever the client sent there is
 *   overwritten, so an approver can trust them.
 * - CertificateSubjectRestriction: a kube-apiserver-client request for group
 *   system:masters is refused (that signer would mint cluster-admins).
 * - CertificateApproval: an update of /approval needs, beyond update on
 *   certificatesigningrequests/approval, the verb "approve" on resource "signers"
 *   of group certificates.k8s.io named by the signerName (or its domain wildcard).
 * - CertificateSigning: setting status.certificate through /status needs "sign"
 *   on the signer the same way.
 *
 * Writes by the server itself (leader loops: user NULL) skip the signer checks:
 * the csrapproving and csrsigning controllers are the signers. */
#include <stdio.h>
#include <string.h>

#include "admission.h"
#include "resources.h"
#include "triarch/csr.h"

static const char *spec_str(const json_t *obj, const char *k)
{
    return json_string_value(json_object_get(json_object_get(obj, "spec"), k));
}

static void set_requester(const tri_user_t *u, json_t *obj)
{
    json_t *spec = tri_field_child(obj, "spec");
    json_object_set_new(spec, "username", json_string(u->name));
    if (u->uid[0])
        json_object_set_new(spec, "uid", json_string(u->uid));
    else
        json_object_del(spec, "uid");
    json_t *groups = json_array();
    for (size_t i = 0; i < u->n_groups; i++)
        json_array_append_new(groups, json_string(u->groups[i]));
    json_object_set_new(spec, "groups", groups);
    json_t *extra = tri_user_extra(u);
    if (json_object_size(extra))
        json_object_set_new(spec, "extra", extra);
    else {
        json_object_del(spec, "extra");
        json_decref(extra);
    }
}

void tri_admit_csr_mutate(const tri_admit_t *a, json_t *obj, const json_t *old, tri_status_t *st)
{
    (void)old;
    (void)st;
    if (!a->create || a->user == NULL)
        return;
    set_requester(a->user, obj);
}

/* IsAuthorizedForSignerName: the signer by name, then the wildcard of its domain. */
static bool may_for_signer(const tri_admit_t *a, const char *verb, const char *signer)
{
    char wildcard[600];
    const char *slash = strchr(signer, '/');
    snprintf(wildcard, sizeof wildcard, "%.*s/*", slash ? (int)(slash - signer) : 0, signer);
    const char *names[2] = {signer, wildcard};
    for (int i = 0; i < (slash ? 2 : 1); i++) {
        tri_authz_attrs_t at = {.user = a->user,
                                .verb = verb,
                                .resource_request = true,
                                .namespace_ = "",
                                .api_group = "certificates.k8s.io",
                                .api_version = "*",
                                .resource = "signers",
                                .subresource = "",
                                .name = names[i],
                                .path = ""};
        char reason[256];
        if (tri_api_authorize(a->api, &at, reason, sizeof reason) == TRI_AUTHZ_ALLOW)
            return true;
    }
    return false;
}

static bool subject_has_masters(const json_t *obj)
{
    tri_buf_t pem = {0};
    char why[128];
    tri_csr_info_t info;
    bool masters = false;
    if (tri_csr_request_pem(obj, &pem, why, sizeof why) == 0 &&
        tri_csr_parse(pem.data, pem.len, &info, why, sizeof why) == 0) {
        for (size_t i = 0; i < info.n_orgs; i++)
            masters |= strcmp(info.orgs[i], "system:masters") == 0;
    }
    tri_buf_free(&pem);
    return masters;
}

static bool certificate_changes(const json_t *obj, const json_t *old)
{
    json_t *now = json_object_get(json_object_get(obj, "status"), "certificate");
    json_t *was = json_object_get(json_object_get(old, "status"), "certificate");
    if (now == NULL || was == NULL)
        return now != was;
    return !json_equal(now, was);
}

void tri_admit_csr_validate(const tri_admit_t *a, const json_t *obj, const json_t *old,
                            tri_status_t *st)
{
    const char *signer = spec_str(obj, "signerName");
    if (signer == NULL)
        return; /* validation has said so */
    const char *sub = a->subresource;
    if (a->create && strcmp(signer, TRI_SIGNER_APISERVER_CLIENT) == 0 && subject_has_masters(obj)) {
        tri_admit_forbid(a, st, "use of %s signer with system:masters group is not allowed",
                         signer);
        return;
    }
    if (a->user == NULL || a->create || sub == NULL)
        return;
    if (strcmp(sub, "approval") == 0 && !may_for_signer(a, "approve", signer))
        tri_admit_forbid(a, st, "user not permitted to approve requests with signerName \"%s\"",
                         signer);
    else if (strcmp(sub, "status") == 0 && certificate_changes(obj, old) &&
             !may_for_signer(a, "sign", signer))
        tri_admit_forbid(a, st, "user not permitted to sign requests with signerName \"%s\"",
                         signer);
}
