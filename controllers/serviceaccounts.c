/* Per-namespace defaults that Kubernetes' controller-manager keeps: the
 * `default` ServiceAccount (serviceaccounts-controller) and the
 * `kube-root-ca.crt` ConfigMap holding the cluster CA (root-ca-cert-publisher),
 * which every pod's projected service-account volume reads. Keyed by namespace:
 * a namespace added, or either object deleted or changed, queues its namespace;
 * a reconcile makes one write and queues the namespace again until nothing is
 * missing. Terminating namespaces are left alone. */
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "triarch/controllers.h"
#include "triarch/errors.h"
#include "triarch/log.h"

#define ROOT_CA_CONFIGMAP "kube-root-ca.crt"
#define ROOT_CA_KEY "ca.crt"

typedef struct sa_state {
    char *root_ca; /* PEM of the cluster CA; NULL: no ConfigMap is published */
} sa_state_t;

typedef struct sa_job {
    tri_api_op_t op;
    tri_ctrl_item_t *it;
} sa_job_t;

static void sa_on_event(tri_ctrl_loop_t *l, const tri_resource_t *r,
                        enum tri_watch_event_type type, const json_t *obj)
{
    const char *name = ctrl_meta_str(obj, "name");
    if (name == NULL)
        return;
    if (strcmp(r->plural, "namespaces") == 0) {
        if (type != TRI_WATCH_DELETED)
            tri_ctrl_add(l, name);
        return;
    }
    bool ours = (strcmp(r->plural, "serviceaccounts") == 0 && strcmp(name, "default") == 0) ||
                (strcmp(r->plural, "configmaps") == 0 && strcmp(name, ROOT_CA_CONFIGMAP) == 0);
    const char *ns = ctrl_meta_str(obj, "namespace");
    if (ours && ns && (type == TRI_WATCH_DELETED || strcmp(r->plural, "configmaps") == 0))
        tri_ctrl_add(l, ns);
}

/* Names and namespaces are all it reads. */
static bool sa_metadata_only(const tri_resource_t *r)
{
    (void)r;
    return true;
}

static json_t *local(tri_api_t *api, const char *plural, const char *ns, const char *name)
{
    return tri_api_lookup(api, tri_registry_find("", "v1", plural), ns, name);
}

static void on_written(tri_api_op_t *op)
{
    sa_job_t *j = op->data;
    int code = op->status.code;
    tri_ctrl_item_t *it = j->it;
    if (code != 0 && code != 409 && code != 403 && code != 404)
        tri_warn("serviceaccounts", "write failed", "namespace=%s code=%d", tri_ctrl_key(it),
                 code);
    bool again = code == 0 && tri_ctrl_live(it);
    char ns[256];
    snprintf(ns, sizeof ns, "%s", tri_ctrl_key(it));
    tri_ctrl_loop_t *l = tri_ctrl_item_loop(it);
    tri_api_op_release(&j->op);
    free(j);
    /* 403: the namespace began terminating; 404: it went; 409: someone else wrote */
    tri_ctrl_finish(it, code == 0 || code == 409 || code == 403 || code == 404 ? TRI_CTRL_DONE
                                                                                : TRI_CTRL_REQUEUE);
    if (again)
        tri_ctrl_add(l, ns); /* the next missing piece, if any */
}

static sa_job_t *job(tri_ctrl_item_t *it)
{
    sa_job_t *j = calloc(1, sizeof *j);
    if (j == NULL)
        return NULL;
    j->it = it;
    j->op.data = j;
    j->op.leader_only = true;
    return j;
}

static int write_configmap(tri_ctrl_loop_t *l, tri_ctrl_item_t *it, const char *ns,
                           const char *pem, json_t *cur)
{
    sa_job_t *j = job(it);
    if (j == NULL)
        return TRI_CTRL_REQUEUE;
    tri_api_t *api = tri_ctrl_loop_api(l);
    const tri_resource_t *cms = tri_registry_find("", "v1", "configmaps");
    json_t *cm = json_pack("{s:s, s:s, s:{s:s, s:{s:s}}, s:{s:s}}", "apiVersion", "v1", "kind",
                           "ConfigMap", "metadata", "name", ROOT_CA_CONFIGMAP, "annotations",
                           "kubernetes.io/description",
                           "Contains a CA bundle that can be used to verify the kube-apiserver "
                           "when using internal endpoints such as the internal service IP or "
                           "kubernetes.default.svc. No other usage is guaranteed across "
                           "distributions of Kubernetes clusters.",
                           "data", ROOT_CA_KEY, pem);
    if (cur) {
        json_object_set(json_object_get(cm, "metadata"), "resourceVersion",
                        json_object_get(json_object_get(cur, "metadata"), "resourceVersion"));
        tri_api_update(api, &j->op, cms, ns, ROOT_CA_CONFIGMAP, cm, false, on_written);
    } else {
        tri_api_create(api, &j->op, cms, ns, cm, false, on_written);
    }
    return TRI_CTRL_PENDING;
}

static int sa_reconcile(tri_ctrl_loop_t *l, tri_ctrl_item_t *it)
{
    const char *ns = tri_ctrl_key(it);
    tri_api_t *api = tri_ctrl_loop_api(l);
    json_t *nso = local(api, "namespaces", NULL, ns);
    const char *phase =
        json_string_value(json_object_get(json_object_get(nso, "status"), "phase"));
    bool active = nso && !ctrl_deleting(nso) && !(phase && strcmp(phase, "Terminating") == 0);
    json_decref(nso);
    if (!active)
        return TRI_CTRL_DONE;
    const tri_resource_t *sas = tri_registry_find("", "v1", "serviceaccounts");
    if (!tri_api_exists(api, sas, ns, "default")) {
        sa_job_t *j = job(it);
        if (j == NULL)
            return TRI_CTRL_REQUEUE;
        json_t *o = json_pack("{s:s, s:s, s:{s:s}}", "apiVersion", "v1", "kind", "ServiceAccount",
                              "metadata", "name", "default");
        tri_api_create(api, &j->op, sas, ns, o, false, on_written);
        return TRI_CTRL_PENDING;
    }
    const sa_state_t *s = tri_ctrl_loop_data(l);
    if (s->root_ca == NULL)
        return TRI_CTRL_DONE;
    json_t *cm = local(api, "configmaps", ns, ROOT_CA_CONFIGMAP);
    const char *have = json_string_value(json_object_get(json_object_get(cm, "data"), ROOT_CA_KEY));
    int rc = TRI_CTRL_DONE;
    if (cm == NULL || have == NULL || strcmp(have, s->root_ca) != 0)
        rc = write_configmap(l, it, ns, s->root_ca, cm);
    json_decref(cm);
    return rc;
}

static void sa_free(void *data)
{
    sa_state_t *s = data;
    if (s)
        free(s->root_ca);
    free(s);
}

static const tri_ctrl_loop_def_t sa_def = {
    .name = "serviceaccounts",
    .watch = {"v1/namespaces", "v1/serviceaccounts", "v1/configmaps"},
    .on_event = sa_on_event,
    .metadata_only = sa_metadata_only,
    .reconcile = sa_reconcile,
    .free_data = sa_free,
};

int tri_ctrl_serviceaccounts_add(tri_ctrl_manager_t *m, const char *root_ca_pem)
{
    sa_state_t *s = calloc(1, sizeof *s);
    if (s == NULL)
        return TRI_ENOMEM;
    if (root_ca_pem && (s->root_ca = strdup(root_ca_pem)) == NULL) {
        free(s);
        return TRI_ENOMEM;
    }
    int rc = tri_ctrl_manager_add(m, &sa_def, s, NULL);
    if (rc != 0)
        sa_free(s);
    return rc;
}
