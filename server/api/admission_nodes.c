/* NodeRestriction: what an agent (user system:node:NAME in group system:nodes)
 * may write, beyond what the Node authorizer lets through: only its own Node, not
 * the labels under node-restriction.kubernetes.io/ (kept for the administrator's
 * placement rules); only mirror pods bound to itself that reference no API
 * objects; of other pods only the status, and only of pods bound to it. */
#include <stdio.h>
#include <string.h>

#include "jsonutil.h"
#include "admission.h"
#include "resources.h"

#define RESTRICTED_LABELS "node-restriction.kubernetes.io/"

/* The node name of a node identity, or NULL for everyone else. */
static const char *node_of(const tri_user_t *u)
{
    static const char prefix[] = "system:node:";
    if (u == NULL || !tri_user_in_group(u, "system:nodes") ||
        strncmp(u->name, prefix, sizeof prefix - 1) != 0 || u->name[sizeof prefix - 1] == '\0')
        return NULL;
    return u->name + sizeof prefix - 1;
}

/* A label under the restricted prefix that differs between a and b, or NULL. */
static const char *restricted_change(const json_t *a, const json_t *b)
{
    const char *k;
    json_t *v;
    for (int pass = 0; pass < 2; pass++) {
        const json_t *x = pass ? b : a, *y = pass ? a : b;
        json_object_foreach((json_t *)x, k, v) {
            if (strncmp(k, RESTRICTED_LABELS, sizeof RESTRICTED_LABELS - 1) == 0 &&
                !json_equal(v, json_object_get(y, k)))
                return k;
        }
    }
    return NULL;
}

static void admit_node(const tri_admit_t *a, const char *self, const json_t *obj,
                       const json_t *old, tri_status_t *st)
{
    if (strcmp(a->name ? a->name : "", self) != 0) {
        tri_admit_forbid(a, st, "node \"%s\" is not allowed to modify node \"%s\"", self,
                         a->name ? a->name : "");
        return;
    }
    const json_t *nl = json_object_get(json_object_get(obj, "metadata"), "labels");
    const json_t *ol = old ? json_object_get(json_object_get(old, "metadata"), "labels") : NULL;
    json_t *empty = json_object();
    const char *k = restricted_change(nl ? nl : empty, ol ? ol : empty);
    json_decref(empty);
    if (k)
        tri_admit_forbid(a, st, "node \"%s\" is not allowed to modify labels: %s", self, k);
}

static bool references_objects(const json_t *spec)
{
    size_t i;
    json_t *v;
    json_array_foreach(json_object_get(spec, "volumes"), i, v) {
        if (json_object_get(v, "secret") || json_object_get(v, "configMap") ||
            json_object_get(v, "persistentVolumeClaim") || json_object_get(v, "projected"))
            return true;
    }
    const char *sa = str(spec, "serviceAccountName");
    return sa[0] && strcmp(sa, "default") != 0;
}

static void admit_pod(const tri_admit_t *a, const char *self, const json_t *obj,
                      const json_t *old, tri_status_t *st)
{
    bool status = a->subresource && strcmp(a->subresource, "status") == 0;
    const json_t *cur = old ? old : obj;
    const char *bound = str(json_object_get(cur, "spec"), "nodeName");
    if (status) {
        if (strcmp(bound, self) != 0)
            tri_admit_forbid(a, st, "node \"%s\" can only update pod status for pods with "
                             "spec.nodeName set to itself", self);
        return;
    }
    if (!a->create) {
        tri_admit_forbid(a, st, "node \"%s\" can only update pod status", self);
        return;
    }
    const json_t *ann = json_object_get(json_object_get(obj, "metadata"), "annotations");
    if (json_object_get(ann, "kubernetes.io/config.mirror") == NULL) {
        tri_admit_forbid(a, st, "pod does not have \"kubernetes.io/config.mirror\" annotation, "
                         "node \"%s\" can only create mirror pods", self);
    } else if (strcmp(bound, self) != 0) {
        tri_admit_forbid(a, st, "node \"%s\" can only create pods with spec.nodeName set to "
                         "itself", self);
    } else if (references_objects(json_object_get(obj, "spec"))) {
        tri_admit_forbid(a, st, "node \"%s\" can not create pods that reference secrets, "
                         "configmaps, persistent volume claims or service accounts", self);
    }
}

void tri_admit_node_restriction(const tri_admit_t *a, const json_t *obj, const json_t *old,
                                tri_status_t *st)
{
    const char *self = node_of(a->user);
    if (self == NULL)
        return;
    if (a->r == &tri_res_nodes)
        admit_node(a, self, obj, old, st);
    else if (a->r == &tri_res_pods)
        admit_pod(a, self, obj, old, st);
}
