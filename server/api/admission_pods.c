/* Admission plugins for pods: ServiceAccount (the account must exist; its token
 * is mounted as kube-apiserver mounts it, a projected volume kube-api-access-xxxxx
 * at /var/run/secrets/kubernetes.io/serviceaccount; its imagePullSecrets are
 * copied) and Priority (spec.priority from the PriorityClass, or the global
 * default). */
#include <stdio.h>
#include <string.h>

#include "jsonutil.h"
#include "admission.h"
#include "resources.h"
#include "triarch/util.h"

#define SA_MOUNT_PATH "/var/run/secrets/kubernetes.io/serviceaccount"
#define SA_TOKEN_SECONDS 3607 /* kube-apiserver's value: an hour plus a little */
#define ROOT_CA_CONFIGMAP "kube-root-ca.crt"

static bool mirror_pod(const json_t *pod)
{
    const json_t *ann = json_object_get(json_object_get(pod, "metadata"), "annotations");
    return json_object_get(ann, "kubernetes.io/config.mirror") != NULL;
}

static bool automount(const json_t *spec, const json_t *sa)
{
    const json_t *p = json_object_get(spec, "automountServiceAccountToken");
    if (json_is_boolean(p))
        return json_is_true(p);
    const json_t *s = json_object_get(sa, "automountServiceAccountToken");
    return !json_is_boolean(s) || json_is_true(s);
}

static bool mounts_sa_path(const json_t *containers)
{
    size_t i, j;
    json_t *c, *m;
    json_array_foreach(containers, i, c) {
        json_array_foreach(json_object_get(c, "volumeMounts"), j, m)
            if (strcmp(str(m, "mountPath"), SA_MOUNT_PATH) == 0)
                return true;
    }
    return false;
}

/* kube-api-access-<5 of bcdfghjklmnpqrstvwxz2456789>, as apimachinery's rand.String */
static void volume_name(char out[32])
{
    static const char alphabet[] = "bcdfghjklmnpqrstvwxz2456789";
    unsigned char r[5];
    tri_random_bytes(r, sizeof r);
    char sfx[6];
    for (int i = 0; i < 5; i++)
        sfx[i] = alphabet[r[i] % (sizeof alphabet - 1)];
    sfx[5] = '\0';
    snprintf(out, 32, "kube-api-access-%s", sfx);
}

static json_t *token_volume(const char *name)
{
    return json_pack(
        "{s:s, s:{s:i, s:[{s:{s:i, s:s}}, {s:{s:s, s:[{s:s, s:s}]}}, "
        "{s:{s:[{s:s, s:{s:s, s:s}}]}}]}}",
        "name", name, "projected", "defaultMode", 420, "sources", "serviceAccountToken",
        "expirationSeconds", SA_TOKEN_SECONDS, "path", "token", "configMap", "name",
        ROOT_CA_CONFIGMAP, "items", "key", "ca.crt", "path", "ca.crt", "downwardAPI", "items",
        "path", "namespace", "fieldRef", "apiVersion", "v1", "fieldPath", "metadata.namespace");
}

static void add_mounts(json_t *containers, const char *vol)
{
    size_t i;
    json_t *c;
    json_array_foreach(containers, i, c) {
        json_t *mounts = json_object_get(c, "volumeMounts");
        if (!json_is_array(mounts)) {
            mounts = json_array();
            json_object_set_new(c, "volumeMounts", mounts);
        }
        json_array_append_new(mounts, json_pack("{s:s, s:b, s:s}", "name", vol, "readOnly", 1,
                                                "mountPath", SA_MOUNT_PATH));
    }
}

static void mount_token(json_t *spec)
{
    json_t *cs = json_object_get(spec, "containers"), *ics = json_object_get(spec, "initContainers");
    if (mounts_sa_path(cs) || mounts_sa_path(ics))
        return; /* the user mounted something there: leave it */
    char vol[32];
    volume_name(vol);
    json_t *vols = json_object_get(spec, "volumes");
    if (!json_is_array(vols)) {
        vols = json_array();
        json_object_set_new(spec, "volumes", vols);
    }
    json_array_append_new(vols, token_volume(vol));
    add_mounts(cs, vol);
    add_mounts(ics, vol);
}

void tri_admit_service_account(const tri_admit_t *a, json_t *pod, tri_status_t *st)
{
    if (mirror_pod(pod))
        return; /* static pods of an agent: NodeRestriction decides */
    json_t *spec = json_object_get(pod, "spec");
    const char *name = str(spec, "serviceAccountName");
    if (name[0] == '\0')
        name = "default";
    json_t *sa = tri_api_lookup(a->api, &tri_res_serviceaccounts, a->ns, name);
    if (sa == NULL) {
        tri_admit_forbid(a, st, "error looking up service account %s/%s: serviceaccount "
                         "\"%s\" not found", a->ns, name, name);
        return;
    }
    if (automount(spec, sa))
        mount_token(spec);
    const json_t *pull = json_object_get(sa, "imagePullSecrets");
    if (json_array_size(json_object_get(spec, "imagePullSecrets")) == 0 && json_array_size(pull))
        json_object_set(spec, "imagePullSecrets", (json_t *)pull);
    json_decref(sa);
}

/* ---------- Priority ---------- */

/* The PriorityClass with globalDefault, if any (new reference). */
static json_t *global_default(tri_api_t *api)
{
    tri_buf_t prefix = {0};
    tri_registry_prefix(&tri_res_priorityclasses, NULL, &prefix);
    char end[1024];
    size_t end_len = tri_prefix_end(prefix.data, prefix.len, end);
    tri_kvs_t kvs = {0};
    bool more;
    json_t *found = NULL;
    if (tri_store_range(tri_api_store(api), prefix.data, prefix.len, end, end_len, 0, 0, &kvs,
                        &more) == 0) {
        for (size_t i = 0; i < kvs.n && found == NULL; i++) {
            json_t *pc = tri_api_load_stored(api, &tri_res_priorityclasses, &kvs.items[i]);
            if (json_is_true(json_object_get(pc, "globalDefault")))
                found = pc;
            else
                json_decref(pc);
        }
    }
    tri_kvs_free(&kvs);
    tri_buf_free(&prefix);
    return found;
}

void tri_admit_priority(const tri_admit_t *a, json_t *pod, tri_status_t *st)
{
    json_t *spec = json_object_get(pod, "spec");
    const char *cls = str(spec, "priorityClassName");
    json_t *pc = cls[0] ? tri_api_lookup(a->api, &tri_res_priorityclasses, NULL, cls)
                        : global_default(a->api);
    if (cls[0] && pc == NULL) {
        tri_admit_forbid(a, st, "no PriorityClass with name %s was found", cls);
        return;
    }
    json_int_t value = pc ? json_integer_value(json_object_get(pc, "value")) : 0;
    const json_t *given = json_object_get(spec, "priority");
    if (given && json_is_integer(given) && json_integer_value(given) != value &&
        json_integer_value(given) != 0) {
        tri_admit_forbid(a, st, "the integer value of priority (%lld) must not be provided in "
                         "pod spec; priority admission controller computed %lld from the given "
                         "PriorityClass name", (long long)json_integer_value(given),
                         (long long)value);
        json_decref(pc);
        return;
    }
    json_object_set_new(spec, "priority", json_integer(value));
    if (pc) {
        json_object_set_new(spec, "priorityClassName",
                            json_string(str(json_object_get(pc, "metadata"), "name")));
        const char *pp = str(pc, "preemptionPolicy");
        if (pp[0])
            json_object_set_new(spec, "preemptionPolicy", json_string(pp));
    }
    json_decref(pc);
}
