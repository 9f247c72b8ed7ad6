/* The csrapproving controller's decision (tri_ctrl_csr_approval) against the
 * default policy, as Kubernetes' sarapprove decides: a bootstrapper's kubelet
 * client request is approved (nodeclient), a node's request for its own name too
 * (selfnodeclient); a node asking for another node's name, a plain user, a
 * request that is not exactly a kubelet's, another signer, and a request already
 * decided are not. The decision follows RBAC: removing the nodeclient binding
 * stops approvals at once. */
#include "authz_fixture.h"
#include "csr_fixture.h"
#include "triarch/controllers.h"

#define USAGES "[\"digital signature\",\"key encipherment\",\"client auth\"]"
#define BOOT_GROUPS "[\"system:bootstrappers\",\"system:authenticated\"]"
#define NODE_GROUPS "[\"system:nodes\",\"system:authenticated\"]"

static const char *decide(tri_authz_t *a, const char *subject, const char *san, const char *signer,
                          const char *usages, const char *user, const char *groups,
                          const char *condition, char *why, size_t wl)
{
    char *pem = fx_csr_pem(subject, san, FX_EC, false, NULL, NULL);
    json_t *csr = fx_csr_obj("c", pem, signer, usages, user, groups);
    if (condition)
        fx_add_condition(csr, condition, "True");
    const char *msg = tri_ctrl_csr_approval(csr, a, why, wl);
    json_decref(csr);
    free(pem);
    return msg;
}

int main(void)
{
    tri_store_t *s;
    tri_authz_t *a;
    CHECK_EQ(tri_store_new(NULL, &s), 0);
    fx_load_default_policy(s);
    CHECK_EQ(tri_authz_new(s, &a), 0);
    char why[512];
    const char *n7 = "O=system:nodes/CN=system:node:n7";
    const char *boot = "system:bootstrap:abcdef";

    tri_user_t bu = fx_user(boot, "system:bootstrappers system:authenticated");
    CHECK_EQ(fx_can(a, &bu, "create", "certificates.k8s.io",
                    "certificatesigningrequests/nodeclient", NULL, NULL),
             TRI_AUTHZ_ALLOW);

    const char *m = decide(a, n7, NULL, TRI_SIGNER_KUBELET_CLIENT, USAGES, boot, BOOT_GROUPS, NULL,
                           why, sizeof why);
    CHECK(m != NULL && strstr(m, "Auto approving kubelet client certificate") != NULL);
    /* without key encipherment (an EC key): still kubelet's */
    CHECK(decide(a, n7, NULL, TRI_SIGNER_KUBELET_CLIENT, "[\"digital signature\",\"client auth\"]",
                 boot, BOOT_GROUPS, NULL, why, sizeof why) != NULL);
    m = decide(a, n7, NULL, TRI_SIGNER_KUBELET_CLIENT, USAGES, "system:node:n7", NODE_GROUPS, NULL,
               why, sizeof why);
    CHECK(m != NULL && strstr(m, "self kubelet client") != NULL);

    /* a node asking for another node's name: recognized, not allowed */
    CHECK(decide(a, "O=system:nodes/CN=system:node:n8", NULL, TRI_SIGNER_KUBELET_CLIENT, USAGES,
                 "system:node:n7", NODE_GROUPS, NULL, why, sizeof why) == NULL);
    CHECK(strstr(why, "nodeclient") != NULL);
    /* a plain user */
    CHECK(decide(a, n7, NULL, TRI_SIGNER_KUBELET_CLIENT, USAGES, "jane",
                 "[\"system:authenticated\"]", NULL, why, sizeof why) == NULL);
    /* a bootstrapper asking for something kubelet never asks for */
    CHECK(decide(a, n7, "DNS:n7", TRI_SIGNER_KUBELET_CLIENT, USAGES, boot, BOOT_GROUPS, NULL, why,
                 sizeof why) == NULL);
    CHECK(decide(a, n7, NULL, TRI_SIGNER_KUBELET_CLIENT,
                 "[\"digital signature\",\"client auth\",\"server auth\"]", boot, BOOT_GROUPS, NULL,
                 why, sizeof why) == NULL);
    CHECK(decide(a, "O=system:masters/CN=system:node:n7", NULL, TRI_SIGNER_KUBELET_CLIENT, USAGES,
                 boot, BOOT_GROUPS, NULL, why, sizeof why) == NULL);
    CHECK(decide(a, "O=system:nodes/CN=admin", NULL, TRI_SIGNER_KUBELET_CLIENT, USAGES, boot,
                 BOOT_GROUPS, NULL, why, sizeof why) == NULL);
    /* another signer: not this controller's business */
    CHECK(decide(a, n7, NULL, TRI_SIGNER_APISERVER_CLIENT, USAGES, boot, BOOT_GROUPS, NULL, why,
                 sizeof why) == NULL);
    CHECK_STR(why, "");
    /* decided already */
    CHECK(decide(a, n7, NULL, TRI_SIGNER_KUBELET_CLIENT, USAGES, boot, BOOT_GROUPS, "Denied", why,
                 sizeof why) == NULL);
    CHECK(decide(a, n7, NULL, TRI_SIGNER_KUBELET_CLIENT, USAGES, boot, BOOT_GROUPS, "Approved", why,
                 sizeof why) == NULL);

    /* the decision is RBAC's: without the nodeclient binding, bootstrappers wait */
    fx_del(s, &tri_res_clusterrolebindings, NULL,
           "system:certificates.k8s.io:certificatesigningrequests:nodeclient");
    CHECK(decide(a, n7, NULL, TRI_SIGNER_KUBELET_CLIENT, USAGES, boot, BOOT_GROUPS, NULL, why,
                 sizeof why) == NULL);
    CHECK(decide(a, n7, NULL, TRI_SIGNER_KUBELET_CLIENT, USAGES, "system:node:n7", NODE_GROUPS,
                 NULL, why, sizeof why) != NULL);

    tri_authz_free(a);
    tri_store_free(s);
    printf("ok\n");
    return 0;
}
