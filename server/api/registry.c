/* The resource registry: every served resource described once (names, scope,
 * Table columns, validation), in the order discovery lists them. Later resources
 * are new rows here plus a small file with their kind-specific hooks. */
#include <stdio.h>
#include <string.h>

#include "resources.h"
#include "triarch/api.h"

/* Discovery order: core first, then the named groups in Kubernetes' order (apps,
 * autoscaling, batch, ...); `kubectl get all` lists category "all" in this order.
 * Each res_*.c file adds its rows in its own section. */
static const tri_resource_t *const registry[] = {
    /* core/v1 */
    &tri_res_namespaces,
    &tri_res_nodes,
    &tri_res_configmaps,
    &tri_res_events,
    /* core/v1, more (res_pods.c, res_services.c, res_core_more.c) */
    &tri_res_endpoints,
    &tri_res_limitranges,
    &tri_res_persistentvolumeclaims,
    &tri_res_persistentvolumes,
    &tri_res_pods,
    &tri_res_replicationcontrollers,
    &tri_res_resourcequotas,
    &tri_res_secrets,
    &tri_res_serviceaccounts,
    &tri_res_services,
    /* named groups (res_apps.c, res_batch.c, res_groups.c) */
    &tri_res_controllerrevisions,
    &tri_res_daemonsets,
    &tri_res_deployments,
    &tri_res_replicasets,
    &tri_res_statefulsets,
    &tri_res_selfsubjectreviews,
    &tri_res_tokenreviews,
    &tri_res_localsubjectaccessreviews,
    &tri_res_selfsubjectaccessreviews,
    &tri_res_selfsubjectrulesreviews,
    &tri_res_subjectaccessreviews,
    &tri_res_hpa_v2,
    &tri_res_hpa_v1,
    &tri_res_cronjobs,
    &tri_res_jobs,
    &tri_res_certificatesigningrequests,
    &tri_res_leases,
    &tri_res_ingressclasses,
    &tri_res_ingresses,
    &tri_res_networkpolicies,
    &tri_res_events_v1,
    &tri_res_priorityclasses,
    &tri_res_poddisruptionbudgets,
    &tri_res_endpointslices,
    &tri_res_clusterrolebindings,
    &tri_res_clusterroles,
    &tri_res_rolebindings,
    &tri_res_roles,
};

const tri_resource_t *const *tri_registry_all(size_t *n)
{
    *n = sizeof registry / sizeof registry[0];
    return registry;
}

const tri_resource_t *tri_registry_find(const char *group, const char *version,
                                        const char *plural)
{
    for (size_t i = 0; i < sizeof registry / sizeof registry[0]; i++) {
        const tri_resource_t *r = registry[i];
        if (strcmp(r->group, group) == 0 && strcmp(r->version, version) == 0 &&
            strcmp(r->plural, plural) == 0)
            return r;
    }
    return NULL;
}

/* Keys: /registry/<group>/<resource>/[<namespace>/]<name>; the core group is
 * spelled "core" so that every resource sits at the same depth (ADR 0002). */
void tri_registry_prefix(const tri_resource_t *r, const char *ns, tri_buf_t *out)
{
    /* a version stored as another resource lives under that resource's keys:
     * events.k8s.io Events are the core Events */
    const tri_resource_t *s = r->storage ? r->storage : r;
    tri_buf_appendf(out, "/registry/%s/%s/", s->group[0] ? s->group : "core", s->plural);
    if (r->namespaced && ns != NULL && ns[0] != '\0')
        tri_buf_appendf(out, "%s/", ns);
}

void tri_registry_key(const tri_resource_t *r, const char *ns, const char *name, tri_buf_t *out)
{
    tri_registry_prefix(r, r->namespaced ? ns : NULL, out);
    tri_buf_append(out, name, strlen(name));
}

void tri_resource_api_version(const tri_resource_t *r, char *out, size_t len)
{
    if (r->group[0])
        snprintf(out, len, "%s/%s", r->group, r->version);
    else
        snprintf(out, len, "%s", r->version);
}
