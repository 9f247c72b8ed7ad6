/* The default RBAC policy every cluster starts with: the part of Kubernetes'
 * bootstrap policy (plugin/pkg/auth/authorizer/rbac/bootstrappolicy) that triarch
 * serves — the user-facing roles cluster-admin, admin, edit and view (the last
 * three aggregated from system:aggregate-to-*), discovery and self-review for every
 * user, the node, proxy, scheduler and controller-manager roles, and the
 * certificate roles that let joining agents obtain and renew their client
 * certificates — with the bindings Kubernetes ships for them.
 *
 * Declarative tables, turned into objects by policy_clusterroles() and
 * policy_clusterrolebindings(); policy_ensure.c creates and reconciles them. Each
 * list in a table is space-separated ("" for the core group is written "-").
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "authz_internal.h"

typedef struct prule {
    const char *verbs;
    const char *groups; /* "-" is the core group "" */
    const char *resources;
    const char *names; /* resourceNames, or NULL */
    const char *urls;  /* nonResourceURLs (then groups and resources are NULL) */
} prule_t;

typedef struct prole {
    const char *name;
    const char *aggregate_to; /* "admin", "edit", "view": label aggregate-to-<x>=true */
    const char *aggregates;   /* aggregationRule selecting aggregate-to-<x>=true */
    const prule_t *rules;     /* NULL-verbs terminated */
} prole_t;

typedef struct pbinding {
    const char *name;
    const char *role;
    const char *subjects; /* "Group=system:masters User=system:kube-proxy" */
} pbinding_t;

#define READ "get list watch"
#define WRITE "create delete deletecollection patch update"
#define ALL_RW "create delete deletecollection get list patch update watch"
#define END                                                                                        \
    {                                                                                              \
        NULL, NULL, NULL, NULL, NULL                                                               \
    }

static const prule_t cluster_admin[] = {
    {"*", "*", "*", NULL, NULL},
    {"*", NULL, NULL, NULL, "*"},
    END,
};

static const prule_t aggregate_to_admin[] = {
    {"create", "authorization.k8s.io", "localsubjectaccessreviews", NULL, NULL},
    {ALL_RW, "rbac.authorization.k8s.io", "rolebindings roles", NULL, NULL},
    END,
};

static const prule_t aggregate_to_edit[] = {
    {READ, "-", "pods/attach pods/exec pods/portforward pods/proxy secrets services/proxy", NULL,
     NULL},
    {"impersonate", "-", "serviceaccounts", NULL, NULL},
    {WRITE, "-", "pods pods/attach pods/exec pods/portforward pods/proxy", NULL, NULL},
    {"create", "-", "pods/eviction", NULL, NULL},
    {WRITE, "-",
     "configmaps events persistentvolumeclaims replicationcontrollers "
     "replicationcontrollers/scale secrets serviceaccounts services services/proxy",
     NULL, NULL},
    {"create", "-", "serviceaccounts/token", NULL, NULL},
    {WRITE, "apps",
     "daemonsets deployments deployments/rollback deployments/scale replicasets "
     "replicasets/scale statefulsets statefulsets/scale",
     NULL, NULL},
    {WRITE, "autoscaling", "horizontalpodautoscalers", NULL, NULL},
    {WRITE, "batch", "cronjobs jobs", NULL, NULL},
    {WRITE, "extensions",
     "daemonsets deployments deployments/rollback deployments/scale ingresses networkpolicies "
     "replicasets replicasets/scale replicationcontrollers/scale",
     NULL, NULL},
    {WRITE, "policy", "poddisruptionbudgets", NULL, NULL},
    {WRITE, "networking.k8s.io", "ingresses networkpolicies", NULL, NULL},
    {ALL_RW, "coordination.k8s.io", "leases", NULL, NULL},
    END,
};

static const prule_t aggregate_to_view[] = {
    {READ, "-",
     "configmaps endpoints persistentvolumeclaims persistentvolumeclaims/status pods "
     "replicationcontrollers replicationcontrollers/scale serviceaccounts services "
     "services/status",
     NULL, NULL},
    {READ, "-",
     "bindings events limitranges namespaces/status pods/log pods/status "
     "replicationcontrollers/status resourcequotas resourcequotas/status",
     NULL, NULL},
    {READ, "-", "namespaces", NULL, NULL},
    {READ, "discovery.k8s.io", "endpointslices", NULL, NULL},
    {READ, "apps",
     "controllerrevisions daemonsets daemonsets/status deployments deployments/scale "
     "deployments/status replicasets replicasets/scale replicasets/status statefulsets "
     "statefulsets/scale statefulsets/status",
     NULL, NULL},
    {READ, "autoscaling", "horizontalpodautoscalers horizontalpodautoscalers/status", NULL, NULL},
    {READ, "batch", "cronjobs cronjobs/status jobs jobs/status", NULL, NULL},
    {READ, "extensions",
     "daemonsets daemonsets/status deployments deployments/scale deployments/status ingresses "
     "ingresses/status networkpolicies replicasets replicasets/scale replicasets/status "
     "replicationcontrollers/scale",
     NULL, NULL},
    {READ, "policy", "poddisruptionbudgets poddisruptionbudgets/status", NULL, NULL},
    {READ, "networking.k8s.io", "ingresses ingresses/status networkpolicies", NULL, NULL},
    END,
};

static const prule_t basic_user[] = {
    {"create", "authorization.k8s.io", "selfsubjectaccessreviews selfsubjectrulesreviews", NULL,
     NULL},
    {"create", "authentication.k8s.io", "selfsubjectreviews", NULL, NULL},
    END,
};

static const prule_t discovery[] = {
    {"get", NULL, NULL, NULL,
     "/api /api/* /apis /apis/* /healthz /livez /openapi /openapi/* /readyz /version /version/"},
    END,
};

static const prule_t public_info_viewer[] = {
    {"get", NULL, NULL, NULL, "/healthz /livez /readyz /version /version/"},
    END,
};

static const prule_t node[] = {
    {"create", "authentication.k8s.io", "tokenreviews", NULL, NULL},
    {"create", "authorization.k8s.io", "localsubjectaccessreviews subjectaccessreviews", NULL,
     NULL},
    {READ, "-", "services", NULL, NULL},
    {"create get list watch", "-", "nodes", NULL, NULL},
    {"patch update", "-", "nodes/status", NULL, NULL},
    {"patch update", "-", "nodes", NULL, NULL},
    {"create patch update", "-", "events", NULL, NULL},
    {READ, "-", "pods", NULL, NULL},
    {"create delete", "-", "pods", NULL, NULL},
    {"patch update", "-", "pods/status", NULL, NULL},
    {"create", "-", "pods/eviction", NULL, NULL},
    {READ, "-", "configmaps secrets", NULL, NULL},
    {"get", "-", "persistentvolumeclaims persistentvolumes", NULL, NULL},
    {"get", "-", "endpoints", NULL, NULL},
    {"create get list watch", "certificates.k8s.io", "certificatesigningrequests", NULL, NULL},
    {"create delete get patch update", "coordination.k8s.io", "leases", NULL, NULL},
    {"create", "-", "serviceaccounts/token", NULL, NULL},
    {"get patch update", "-", "persistentvolumeclaims/status", NULL, NULL},
    END,
};

static const prule_t node_proxier[] = {
    {"list watch", "-", "endpoints services", NULL, NULL},
    {READ, "-", "nodes", NULL, NULL},
    {"create patch update", "- events.k8s.io", "events", NULL, NULL},
    {"list watch", "discovery.k8s.io", "endpointslices", NULL, NULL},
    END,
};

static const prule_t kube_scheduler[] = {
    {"create patch update", "- events.k8s.io", "events", NULL, NULL},
    {"create", "coordination.k8s.io", "leases", NULL, NULL},
    {"get update", "coordination.k8s.io", "leases", "kube-scheduler", NULL},
    {READ, "-", "nodes", NULL, NULL},
    {"delete get list watch", "-", "pods", NULL, NULL},
    {"create", "-", "bindings pods/binding", NULL, NULL},
    {"patch update", "-", "pods/status", NULL, NULL},
    {READ, "-", "replicationcontrollers services", NULL, NULL},
    {READ, "apps extensions", "replicasets", NULL, NULL},
    {READ, "apps", "statefulsets", NULL, NULL},
    {READ, "policy", "poddisruptionbudgets", NULL, NULL},
    {READ, "-", "persistentvolumeclaims persistentvolumes", NULL, NULL},
    {"create", "authentication.k8s.io", "tokenreviews", NULL, NULL},
    {"create", "authorization.k8s.io", "subjectaccessreviews", NULL, NULL},
    {READ, "storage.k8s.io", "csinodes", NULL, NULL},
    {READ, "-", "namespaces", NULL, NULL},
    {READ, "storage.k8s.io", "csidrivers", NULL, NULL},
    {READ, "storage.k8s.io", "csistoragecapacities", NULL, NULL},
    END,
};

static const prule_t kube_controller_manager[] = {
    {"create patch update", "- events.k8s.io", "events", NULL, NULL},
    {"create", "coordination.k8s.io", "leases", NULL, NULL},
    {"get update", "coordination.k8s.io", "leases", "kube-controller-manager", NULL},
    {"create", "-", "secrets serviceaccounts", NULL, NULL},
    {"delete", "-", "secrets", NULL, NULL},
    {"get", "-", "configmaps namespaces secrets serviceaccounts", NULL, NULL},
    {"update", "-", "secrets serviceaccounts", NULL, NULL},
    {"create", "authentication.k8s.io", "tokenreviews", NULL, NULL},
    {"create", "authorization.k8s.io", "subjectaccessreviews", NULL, NULL},
    {"list watch", "*", "*", NULL, NULL},
    {"create", "-", "serviceaccounts/token", NULL, NULL},
    END,
};

/* What the API server needs of an agent (logs, exec, attach, port-forward, metrics),
 * as Kubernetes' system:kubelet-api-admin. */
static const prule_t kubelet_api_admin[] = {
    {"get list watch", "-", "nodes", NULL, NULL},
    {"proxy", "-", "nodes", NULL, NULL},
    {"*", "-", "nodes/log nodes/metrics nodes/proxy nodes/stats", NULL, NULL},
    END,
};

static const prule_t node_bootstrapper[] = {
    {"create get list watch", "certificates.k8s.io", "certificatesigningrequests", NULL, NULL},
    END,
};

static const prule_t csr_nodeclient[] = {
    {"create", "certificates.k8s.io", "certificatesigningrequests/nodeclient", NULL, NULL},
    END,
};

static const prule_t csr_selfnodeclient[] = {
    {"create", "certificates.k8s.io", "certificatesigningrequests/selfnodeclient", NULL, NULL},
    END,
};

#define CSR_ROLE "system:certificates.k8s.io:certificatesigningrequests:"

static const prole_t roles[] = {
    {"cluster-admin", NULL, NULL, cluster_admin},
    {"admin", NULL, "admin", NULL},
    {"edit", "admin", "edit", NULL},
    {"view", "edit", "view", NULL},
    {"system:aggregate-to-admin", "admin", NULL, aggregate_to_admin},
    {"system:aggregate-to-edit", "edit", NULL, aggregate_to_edit},
    {"system:aggregate-to-view", "view", NULL, aggregate_to_view},
    {"system:basic-user", NULL, NULL, basic_user},
    {"system:discovery", NULL, NULL, discovery},
    {"system:public-info-viewer", NULL, NULL, public_info_viewer},
    {"system:node", NULL, NULL, node},
    {"system:node-proxier", NULL, NULL, node_proxier},
    {"system:node-bootstrapper", NULL, NULL, node_bootstrapper},
    {"system:kubelet-api-admin", NULL, NULL, kubelet_api_admin},
    {"system:kube-scheduler", NULL, NULL, kube_scheduler},
    {"system:kube-controller-manager", NULL, NULL, kube_controller_manager},
    {CSR_ROLE "nodeclient", NULL, NULL, csr_nodeclient},
    {CSR_ROLE "selfnodeclient", NULL, NULL, csr_selfnodeclient},
};

/* system:node has no binding, as in Kubernetes since 1.8: the Node authorizer
 * grants nodes what they need and nothing of other nodes. */
static const pbinding_t bindings[] = {
    {"cluster-admin", "cluster-admin", "Group=system:masters"},
    {"system:basic-user", "system:basic-user", "Group=system:authenticated"},
    {"system:discovery", "system:discovery", "Group=system:authenticated"},
    {"system:public-info-viewer", "system:public-info-viewer",
     "Group=system:authenticated Group=system:unauthenticated"},
    {"system:node-proxier", "system:node-proxier", "User=system:kube-proxy"},
    /* the API server's client certificate toward agents (triarch init's
     * pki/apiserver-kubelet-client), as kubeadm binds it */
    {"kube-apiserver-kubelet-client", "system:kubelet-api-admin",
     "User=kube-apiserver-kubelet-client"},
    {"system:kube-scheduler", "system:kube-scheduler", "User=system:kube-scheduler"},
    {"system:kube-controller-manager", "system:kube-controller-manager",
     "User=system:kube-controller-manager"},
    /* joining agents (bootstrap tokens) request client certificates, which the
     * CSR approver signs for the node-client signer; nodes renew their own */
    {"system:node-bootstrapper", "system:node-bootstrapper", "Group=system:bootstrappers"},
    {CSR_ROLE "nodeclient", CSR_ROLE "nodeclient", "Group=system:bootstrappers"},
    {CSR_ROLE "selfnodeclient", CSR_ROLE "selfnodeclient", "Group=system:nodes"},
};

/* ---------- tables to objects ---------- */

static json_t *words(const char *list)
{
    json_t *a = json_array();
    char buf[1024];
    snprintf(buf, sizeof buf, "%s", list);
    char *save = NULL;
    for (char *w = strtok_r(buf, " ", &save); w; w = strtok_r(NULL, " ", &save))
        json_array_append_new(a, json_string(strcmp(w, "-") == 0 ? "" : w));
    return a;
}

static json_t *rule_json(const prule_t *r)
{
    json_t *o = json_object();
    if (r->urls != NULL) {
        json_object_set_new(o, "nonResourceURLs", words(r->urls));
        json_object_set_new(o, "verbs", words(r->verbs));
        return o;
    }
    json_object_set_new(o, "apiGroups", words(r->groups));
    if (r->names != NULL)
        json_object_set_new(o, "resourceNames", words(r->names));
    json_object_set_new(o, "resources", words(r->resources));
    json_object_set_new(o, "verbs", words(r->verbs));
    return o;
}

static json_t *metadata(const char *name)
{
    return json_pack("{s:s, s:{s:s}, s:{s:s}}", "name", name, "labels", BOOTSTRAP_LABEL,
                     "rbac-defaults", "annotations", AUTOUPDATE_ANNOTATION, "true");
}

static json_t *aggregate_label(const char *to)
{
    char key[128];
    snprintf(key, sizeof key, "rbac.authorization.k8s.io/aggregate-to-%s", to);
    return json_pack("{s:s}", key, "true");
}

static json_t *role_json(const prole_t *p)
{
    json_t *meta = metadata(p->name);
    if (p->aggregate_to != NULL) {
        json_t *label = aggregate_label(p->aggregate_to);
        json_object_update(json_object_get(meta, "labels"), label);
        json_decref(label);
    }
    json_t *obj = json_pack("{s:s, s:s, s:o}", "apiVersion", RBAC_GROUP "/v1", "kind",
                            "ClusterRole", "metadata", meta);
    json_t *rules = json_array();
    for (size_t i = 0; p->rules && p->rules[i].verbs; i++)
        json_array_append_new(rules, rule_json(&p->rules[i]));
    json_object_set_new(obj, "rules", rules);
    if (p->aggregates != NULL)
        json_object_set_new(obj, "aggregationRule",
                            json_pack("{s:[{s:o}]}", "clusterRoleSelectors", "matchLabels",
                                      aggregate_label(p->aggregates)));
    return obj;
}

static json_t *binding_json(const pbinding_t *p)
{
    json_t *subjects = json_array();
    char buf[512];
    snprintf(buf, sizeof buf, "%s", p->subjects);
    char *save = NULL;
    for (char *w = strtok_r(buf, " ", &save); w; w = strtok_r(NULL, " ", &save)) {
        char *eq = strchr(w, '=');
        *eq = '\0';
        json_array_append_new(subjects, json_pack("{s:s, s:s, s:s}", "apiGroup", RBAC_GROUP, "kind",
                                                  w, "name", eq + 1));
    }
    return json_pack("{s:s, s:s, s:o, s:{s:s, s:s, s:s}, s:o}", "apiVersion", RBAC_GROUP "/v1",
                     "kind", "ClusterRoleBinding", "metadata", metadata(p->name), "roleRef",
                     "apiGroup", RBAC_GROUP, "kind", "ClusterRole", "name", p->role, "subjects",
                     subjects);
}

json_t *policy_clusterroles(void)
{
    json_t *a = json_array();
    for (size_t i = 0; i < sizeof roles / sizeof roles[0]; i++)
        json_array_append_new(a, role_json(&roles[i]));
    return a;
}

json_t *policy_clusterrolebindings(void)
{
    json_t *a = json_array();
    for (size_t i = 0; i < sizeof bindings / sizeof bindings[0]; i++)
        json_array_append_new(a, binding_json(&bindings[i]));
    return a;
}

json_t *tri_authz_default_clusterroles(void)
{
    return policy_clusterroles();
}

json_t *tri_authz_default_clusterrolebindings(void)
{
    return policy_clusterrolebindings();
}
