/* Strategic merge patch (application/strategic-merge-patch+json: kubectl apply,
 * patch, set image, rollout restart, cordon), as k8s.io/apimachinery's
 * strategicpatch applies it on the server.
 *
 * It is a JSON merge patch that knows the Kubernetes types: a list whose Go field
 * carries patchStrategy=merge is merged element by element (objects matched by the
 * field's patchMergeKey, primitives as a set) instead of being replaced, and the
 * patch may carry directives:
 *   null                            delete the key
 *   {"$patch": "replace"|"delete"}  in a map: take the patch as is / delete the map
 *   {"$patch": "delete", key: v}    in a merging list: delete the element(s) with v
 *   {"$patch": "replace"}           in a merging list: the list becomes the patch list
 *   "$setElementOrder/<list>": [..] the order of the merged list
 *   "$retainKeys": [..]             drop keys of the original map not listed
 *   "$deleteFromPrimitiveList/<list>": [..]  remove these values from a set list
 * Which lists merge, and by which key, is the Go struct tags' knowledge; here it is
 * the table smp_fields below: (type, field) -> element type, merge key, strategy,
 * and smp_kinds: kind -> root type. Fields missing from the table behave as in an
 * untyped object: maps merge, lists are replaced. Adding a resource is adding rows.
 *
 * Directive keys left in values that are copied in whole (a new field, a new list
 * element) are stripped, as the apiserver's typed round trip would drop them.
 * The target and the patch are never modified: both are deep-copied first.
 */
#include "codec_internal.h"

#include <stdlib.h>
#include <string.h>

#include "triarch/codec.h"

#define DIRECTIVE "$patch"
#define RETAIN_KEYS "$retainKeys"
#define SET_ORDER_PREFIX "$setElementOrder/"
#define DELETE_PRIMITIVE_PREFIX "$deleteFromPrimitiveList/"

/* ---------- the schema tables ---------- */

enum {
    SMP_MERGE = 1 << 0,  /* patchStrategy=merge: the list merges instead of replacing */
    SMP_RETAIN = 1 << 1, /* patchStrategy=retainKeys (informational: $retainKeys drives it) */
};

typedef struct smp_field {
    const char *type;      /* Go struct (our name for it) */
    const char *field;     /* JSON field name */
    const char *elem;      /* type of the nested object or of the list elements, or NULL */
    const char *merge_key; /* patchMergeKey of a list of objects, or NULL */
    unsigned flags;
} smp_field_t;

#define META(type) {type, "metadata", "ObjectMeta", NULL, 0}
#define MERGE_BY(type, field, elem, key) {type, field, elem, key, SMP_MERGE}
#define NESTED(type, field, elem) {type, field, elem, NULL, 0}
#define CONDITIONS(type) MERGE_BY(type, "conditions", NULL, "type")

static const smp_field_t smp_fields[] = {
    /* metav1.ObjectMeta */
    MERGE_BY("ObjectMeta", "ownerReferences", NULL, "uid"),
    MERGE_BY("ObjectMeta", "finalizers", NULL, NULL),
    /* core/v1 PodTemplateSpec, PodSpec, Container, PodStatus */
    META("PodTemplateSpec"),
    NESTED("PodTemplateSpec", "spec", "PodSpec"),
    {"PodSpec", "volumes", NULL, "name", SMP_MERGE | SMP_RETAIN},
    MERGE_BY("PodSpec", "initContainers", "Container", "name"),
    MERGE_BY("PodSpec", "containers", "Container", "name"),
    MERGE_BY("PodSpec", "ephemeralContainers", "Container", "name"),
    MERGE_BY("PodSpec", "imagePullSecrets", NULL, "name"),
    MERGE_BY("PodSpec", "hostAliases", NULL, "ip"),
    MERGE_BY("PodSpec", "topologySpreadConstraints", NULL, "topologyKey"),
    MERGE_BY("PodSpec", "schedulingGates", NULL, "name"),
    {"PodSpec", "resourceClaims", NULL, "name", SMP_MERGE | SMP_RETAIN},
    MERGE_BY("Container", "ports", NULL, "containerPort"),
    MERGE_BY("Container", "env", NULL, "name"),
    MERGE_BY("Container", "volumeMounts", NULL, "mountPath"),
    MERGE_BY("Container", "volumeDevices", NULL, "devicePath"),
    CONDITIONS("PodStatus"),
    MERGE_BY("PodStatus", "hostIPs", NULL, "ip"),
    MERGE_BY("PodStatus", "podIPs", NULL, "ip"),
    {"PodStatus", "resourceClaimStatuses", NULL, "name", SMP_MERGE | SMP_RETAIN},
    /* kinds */
    META("Pod"),
    NESTED("Pod", "spec", "PodSpec"),
    NESTED("Pod", "status", "PodStatus"),
    META("PodTemplate"),
    NESTED("PodTemplate", "template", "PodTemplateSpec"),
    META("ReplicationController"),
    NESTED("ReplicationController", "spec", "WorkloadSpec"),
    NESTED("ReplicationController", "status", "ConditionsStatus"),
    META("Deployment"),
    NESTED("Deployment", "spec", "DeploymentSpec"),
    NESTED("Deployment", "status", "ConditionsStatus"),
    NESTED("DeploymentSpec", "template", "PodTemplateSpec"),
    {"DeploymentSpec", "strategy", NULL, NULL, SMP_RETAIN},
    META("ReplicaSet"),
    NESTED("ReplicaSet", "spec", "WorkloadSpec"),
    NESTED("ReplicaSet", "status", "ConditionsStatus"),
    META("StatefulSet"),
    NESTED("StatefulSet", "spec", "WorkloadSpec"),
    NESTED("StatefulSet", "status", "ConditionsStatus"),
    META("DaemonSet"),
    NESTED("DaemonSet", "spec", "WorkloadSpec"),
    NESTED("DaemonSet", "status", "ConditionsStatus"),
    NESTED("WorkloadSpec", "template", "PodTemplateSpec"),
    CONDITIONS("ConditionsStatus"),
    META("Job"),
    NESTED("Job", "spec", "WorkloadSpec"),
    NESTED("Job", "status", "ConditionsStatus"),
    META("CronJob"),
    NESTED("CronJob", "spec", "CronJobSpec"),
    NESTED("CronJobSpec", "jobTemplate", "JobTemplateSpec"),
    META("JobTemplateSpec"),
    NESTED("JobTemplateSpec", "spec", "WorkloadSpec"),
    META("Service"),
    NESTED("Service", "spec", "ServiceSpec"),
    NESTED("Service", "status", "ConditionsStatus"),
    MERGE_BY("ServiceSpec", "ports", NULL, "port"),
    META("ServiceAccount"),
    MERGE_BY("ServiceAccount", "secrets", NULL, "name"),
    META("Node"),
    NESTED("Node", "spec", "NodeSpec"),
    NESTED("Node", "status", "NodeStatus"),
    MERGE_BY("NodeSpec", "podCIDRs", NULL, NULL),
    CONDITIONS("NodeStatus"),
    MERGE_BY("NodeStatus", "addresses", NULL, "type"),
    META("Namespace"),
    NESTED("Namespace", "status", "ConditionsStatus"),
    META("PersistentVolumeClaim"),
    NESTED("PersistentVolumeClaim", "status", "ConditionsStatus"),
    META("ComponentStatus"),
    CONDITIONS("ComponentStatus"),
    /* any other kind: only its metadata has known strategies */
    META("Object"),
};

/* Kinds whose type has rows above; every other kind uses "Object". */
static const char *const smp_kinds[] = {
    "Pod",     "PodTemplate", "ReplicationController", "Deployment", "ReplicaSet",
    "StatefulSet", "DaemonSet", "Job", "CronJob", "Service", "ServiceAccount", "Node",
    "Namespace", "PersistentVolumeClaim", "ComponentStatus",
};

static const smp_field_t *smp_lookup(const char *type, const char *field)
{
    if (!type)
        return NULL;
    for (size_t i = 0; i < sizeof smp_fields / sizeof smp_fields[0]; i++) {
        if (strcmp(smp_fields[i].type, type) == 0 && strcmp(smp_fields[i].field, field) == 0)
            return &smp_fields[i];
    }
    return NULL;
}

static const char *smp_root_type(const char *kind)
{
    for (size_t i = 0; kind && i < sizeof smp_kinds / sizeof smp_kinds[0]; i++) {
        if (strcmp(smp_kinds[i], kind) == 0)
            return smp_kinds[i];
    }
    return "Object";
}

/* ---------- helpers ---------- */

typedef struct ctx {
    char *err;
    size_t errlen;
} ctx_t;

static int smp_fail(ctx_t *c, const char *msg, const char *detail)
{
    tri_codec_errf(c->err, c->errlen, "strategic merge patch: %s%s%s", msg, detail ? ": " : "",
                   detail ? detail : "");
    return TRI_EINVAL;
}

static bool has_prefix(const char *s, const char *prefix)
{
    return strncmp(s, prefix, strlen(prefix)) == 0;
}

/* Keys of an object, copied, so the object can change while we walk them. */
static char **object_keys(const json_t *o, size_t *n)
{
    *n = json_object_size(o);
    char **keys = calloc(*n + 1, sizeof *keys);
    if (!keys)
        return NULL;
    size_t i = 0;
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)o, k, v) {
        keys[i] = strdup(k);
        if (!keys[i]) {
            for (size_t j = 0; j < i; j++)
                free(keys[j]);
            free(keys);
            return NULL;
        }
        i++;
    }
    return keys;
}

static void keys_free(char **keys, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(keys[i]);
    free(keys);
}

static bool is_directive_key(const char *k)
{
    return strcmp(k, DIRECTIVE) == 0 || strcmp(k, RETAIN_KEYS) == 0 ||
           has_prefix(k, SET_ORDER_PREFIX) || has_prefix(k, DELETE_PRIMITIVE_PREFIX);
}

/* Strips directives from a value about to be stored whole; false when the value
 * itself is a directive map and must not be kept. Mutates v. */
static bool strip_directives(json_t *v)
{
    if (json_is_object(v)) {
        if (json_object_get(v, DIRECTIVE))
            return false;
        const char *k;
        json_t *e;
        void *tmp;
        json_object_foreach_safe(v, tmp, k, e) {
            if (is_directive_key(k) || !strip_directives(e))
                json_object_del(v, k);
        }
        return true;
    }
    if (json_is_array(v)) {
        for (size_t i = json_array_size(v); i-- > 0;) {
            if (!strip_directives(json_array_get(v, i)))
                json_array_remove(v, i);
        }
    }
    return true;
}

/* Removes null-valued keys throughout (the apply path ignores unmatched nulls). */
static void discard_nulls(json_t *v)
{
    const char *k;
    json_t *e;
    void *tmp;
    size_t i;
    if (json_is_object(v)) {
        json_object_foreach_safe(v, tmp, k, e) {
            if (json_is_null(e))
                json_object_del(v, k);
            else
                discard_nulls(e);
        }
    } else if (json_is_array(v)) {
        json_array_foreach(v, i, e)
            discard_nulls(e);
    }
}

/* Stores a patch value whole into orig[k] (nulls dropped, directives stripped). */
static int take_patch_value(json_t *orig, const char *k, json_t *pv)
{
    discard_nulls(pv);
    if (!strip_directives(pv)) {
        json_object_del(orig, k);
        return 0;
    }
    return json_object_set(orig, k, pv) == 0 ? 0 : TRI_ENOMEM;
}

/* Element classes as Go's reflect sees decoded JSON. */
typedef enum kind { K_NONE, K_MAP, K_LIST, K_STRING, K_NUMBER, K_BOOL, K_NULL } kind_t;

static kind_t kind_of(const json_t *v)
{
    switch (json_typeof(v)) {
    case JSON_OBJECT:
        return K_MAP;
    case JSON_ARRAY:
        return K_LIST;
    case JSON_STRING:
        return K_STRING;
    case JSON_INTEGER:
    case JSON_REAL:
        return K_NUMBER;
    case JSON_TRUE:
    case JSON_FALSE:
        return K_BOOL;
    default:
        return K_NULL;
    }
}

/* The one element kind of both lists; errors on lists of lists or mixed kinds. */
static int element_kind(ctx_t *c, const json_t *a, const json_t *b, kind_t *out)
{
    const json_t *lists[2] = {a, b};
    kind_t k = K_NONE;
    for (int l = 0; l < 2; l++) {
        size_t i;
        const json_t *e;
        if (!json_is_array(lists[l]))
            continue;
        json_array_foreach(lists[l], i, e) {
            kind_t ek = kind_of(e);
            if (ek == K_LIST)
                return smp_fail(c, "lists of lists are not supported", NULL);
            if (k != K_NONE && ek != k)
                return smp_fail(c, "list element types are not identical", NULL);
            k = ek;
        }
    }
    *out = k;
    return 0;
}

/* The value an element is identified by: its merge key value, or itself. */
static const json_t *ident(const json_t *e, const char *merge_key)
{
    if (!merge_key)
        return e;
    return json_is_object(e) ? json_object_get(e, merge_key) : NULL;
}

static bool ident_equal(const json_t *a, const json_t *b)
{
    if (!a || !b)
        return a == b;
    return tri_codec_json_equal(a, b);
}

/* Index of the element of l identified like v, or -1. */
static long index_in(const json_t *l, const json_t *v, const char *merge_key)
{
    const json_t *want = ident(v, merge_key);
    size_t i;
    const json_t *e;
    json_array_foreach(l, i, e) {
        if (ident_equal(ident(e, merge_key), want))
            return (long)i;
    }
    return -1;
}

static bool is_delete_element(const json_t *e)
{
    const json_t *d = json_object_get(e, DIRECTIVE);
    return json_is_string(d) && strcmp(json_string_value(d), "delete") == 0;
}

static int require_merge_keys(ctx_t *c, const json_t *l, const char *merge_key)
{
    size_t i;
    const json_t *e;
    json_array_foreach(l, i, e) {
        if (!json_is_object(e) || !json_object_get(e, merge_key))
            return smp_fail(c, "list element does not contain declared merge key", merge_key);
    }
    return 0;
}

/* Stable sort of `items` by position in `order` (items not in `order` keep their
 * place); for maps, $patch:delete items go last. Returns a new array. */
static json_t *sort_by_order(const json_t *items, const json_t *order, const char *merge_key,
                             bool maps)
{
    json_t *out = json_array();
    json_t *deletes = json_array();
    if (!out || !deletes)
        goto oom;
    size_t i;
    json_t *e;
    json_array_foreach(items, i, e) {
        if (maps && json_is_object(e) && is_delete_element(e)) {
            if (json_array_append(deletes, e) != 0)
                goto oom;
            continue;
        }
        long ei = index_in(order, e, merge_key);
        size_t pos = json_array_size(out);
        /* insertion sort: move before found elements that come later in `order` */
        while (ei >= 0 && pos > 0) {
            long pi = index_in(order, json_array_get(out, pos - 1), merge_key);
            if (pi < 0 || pi <= ei)
                break;
            pos--;
        }
        if (json_array_insert(out, pos, e) != 0)
            goto oom;
    }
    if (json_array_extend(out, deletes) != 0)
        goto oom;
    json_decref(deletes);
    return out;
oom:
    json_decref(out);
    json_decref(deletes);
    return NULL;
}

/* Interleaves server-only items into the patch items, keeping each side's order and
 * putting a server item first only when the live list had it before the patch item. */
static json_t *merge_sorted(const json_t *left, const json_t *right, const json_t *server_order,
                            const char *merge_key)
{
    json_t *out = json_array();
    if (!out)
        return NULL;
    size_t i = 0, j = 0, nl = json_array_size(left), nr = json_array_size(right);
    while (i < nl || j < nr) {
        json_t *pick;
        if (i >= nl) {
            pick = json_array_get(right, j++);
        } else if (j >= nr) {
            pick = json_array_get(left, i++);
        } else {
            long li = index_in(server_order, json_array_get(left, i), merge_key);
            long ri = index_in(server_order, json_array_get(right, j), merge_key);
            if (li >= 0 && ri >= 0 && li < ri)
                pick = json_array_get(left, i++);
            else
                pick = json_array_get(right, j++);
        }
        if (json_array_append(out, pick) != 0) {
            json_decref(out);
            return NULL;
        }
    }
    return out;
}

/* Splits `merged` into the items identified in `by` and the others. */
static int partition(const json_t *merged, const json_t *by, const char *merge_key, json_t **in,
                     json_t **out)
{
    *in = json_array();
    *out = json_array();
    if (!*in || !*out)
        return TRI_ENOMEM;
    size_t i;
    json_t *e;
    json_array_foreach(merged, i, e) {
        json_t *dst = index_in(by, e, merge_key) >= 0 ? *in : *out;
        if (json_array_append(dst, e) != 0)
            return TRI_ENOMEM;
    }
    return 0;
}

/* Orders `merged`: items named in patch_order by that order, the others by the live
 * list's order, interleaved as Kubernetes does. Returns a new array. */
static json_t *enforce_order(ctx_t *c, const json_t *merged, const json_t *patch_order,
                             const json_t *server_order, const char *merge_key, bool maps,
                             int *rc)
{
    json_t *in = NULL, *out = NULL, *sin = NULL, *sout = NULL, *all = NULL;
    *rc = TRI_ENOMEM;
    if (maps) {
        if ((*rc = require_merge_keys(c, patch_order, merge_key)) != 0)
            return NULL;
        *rc = TRI_ENOMEM;
    }
    if (partition(merged, patch_order, merge_key, &in, &out) != 0)
        goto done;
    if (maps) {
        if ((*rc = require_merge_keys(c, in, merge_key)) != 0 ||
            (*rc = require_merge_keys(c, out, merge_key)) != 0)
            goto done;
        *rc = TRI_ENOMEM;
    }
    sin = sort_by_order(in, patch_order, merge_key, maps);
    sout = sort_by_order(out, server_order, merge_key, maps);
    if (sin && sout)
        all = merge_sorted(sout, sin, server_order, merge_key);
    if (all)
        *rc = 0;
done:
    json_decref(in);
    json_decref(out);
    json_decref(sin);
    json_decref(sout);
    return all;
}

/* ---------- the merge ---------- */

static json_t *merge_map(ctx_t *c, json_t *orig, json_t *patch, const char *type, int depth,
                         int *rc);

/* Primitive set lists: union (first occurrence kept), or removal for delete lists. */
static json_t *merge_primitive_list(const json_t *orig, const json_t *patch, bool delete_list)
{
    json_t *out = json_array();
    if (!out)
        return NULL;
    size_t i;
    json_t *e;
    json_array_foreach(orig, i, e) {
        if (delete_list && index_in(patch, e, NULL) >= 0)
            continue;
        if (!delete_list && index_in(out, e, NULL) >= 0)
            continue;
        if (json_array_append(out, e) != 0)
            goto oom;
    }
    if (delete_list)
        return out;
    json_array_foreach(patch, i, e) {
        if (index_in(out, e, NULL) >= 0)
            continue;
        if (json_array_append(out, e) != 0)
            goto oom;
    }
    return out;
oom:
    json_decref(out);
    return NULL;
}

/* Applies $patch elements of a merging list of maps: deletes matching elements from
 * *orig (replaced by a new array), drops the directives from *patch; a
 * {"$patch":"replace"} element makes the directive-free patch the whole list. */
static int apply_list_directives(ctx_t *c, json_t **orig, json_t **patch, const char *merge_key)
{
    json_t *plain = json_array();
    json_t *kept = json_copy(*orig);
    bool replace = false;
    int rc = TRI_ENOMEM;
    if (!plain || !kept)
        goto done;
    size_t i;
    json_t *e;
    json_array_foreach(*patch, i, e) {
        const json_t *d = json_object_get(e, DIRECTIVE);
        if (!d) {
            if (json_array_append(plain, e) != 0)
                goto done;
            continue;
        }
        const char *dv = json_is_string(d) ? json_string_value(d) : "";
        if (strcmp(dv, "delete") == 0) {
            const json_t *want = json_object_get(e, merge_key);
            if (!want) {
                rc = smp_fail(c, "$patch: delete element does not contain the merge key",
                              merge_key);
                goto done;
            }
            for (size_t j = json_array_size(kept); j-- > 0;) {
                if (ident_equal(ident(json_array_get(kept, j), merge_key), want))
                    json_array_remove(kept, j);
            }
        } else if (strcmp(dv, "replace") == 0) {
            replace = true;
        } else if (strcmp(dv, "merge") == 0) {
            rc = smp_fail(c, "merging lists cannot yet be specified in the patch", NULL);
            goto done;
        } else {
            rc = smp_fail(c, "unknown patch type in list element", dv);
            goto done;
        }
    }
    json_decref(*orig);
    json_decref(*patch);
    if (replace) {
        json_decref(kept);
        *orig = plain;
        *patch = json_array();
        return *patch ? 0 : TRI_ENOMEM;
    }
    *orig = kept;
    *patch = plain;
    return 0;
done:
    json_decref(plain);
    json_decref(kept);
    return rc;
}

/* Merges the elements of a list of maps by merge key into a new array. */
static json_t *merge_map_list(ctx_t *c, json_t *orig, const json_t *patch,
                              const smp_field_t *meta, int depth, int *rc)
{
    json_t *out = json_copy(orig);
    *rc = TRI_ENOMEM;
    if (!out)
        return NULL;
    size_t i;
    json_t *e;
    json_array_foreach(patch, i, e) {
        const json_t *want = json_object_get(e, meta->merge_key);
        if (!want) {
            *rc = smp_fail(c, "list element does not contain declared merge key", meta->merge_key);
            goto fail;
        }
        long at = -1;
        for (size_t j = 0; j < json_array_size(out); j++) {
            json_t *o = json_array_get(out, j);
            if (!json_is_object(o)) {
                *rc = smp_fail(c, "list element is not a map", meta->field);
                goto fail;
            }
            if (ident_equal(json_object_get(o, meta->merge_key), want)) {
                at = (long)j;
                break;
            }
        }
        if (at < 0) {
            discard_nulls(e);
            strip_directives(e);
            if (json_array_append(out, e) != 0)
                goto fail;
            continue;
        }
        json_t *m = merge_map(c, json_array_get(out, (size_t)at), e, meta->elem, depth + 1, rc);
        if (!m || json_array_set_new(out, (size_t)at, m) != 0)
            goto fail;
    }
    *rc = 0;
    return out;
fail:
    if (*rc == 0)
        *rc = TRI_ENOMEM;
    json_decref(out);
    return NULL;
}

/* mergeSlice: a list with the merge strategy (or a $deleteFromPrimitiveList). */
static json_t *merge_list(ctx_t *c, json_t *orig_in, json_t *patch_in, const smp_field_t *meta,
                          bool delete_list, int depth, int *rc)
{
    *rc = 0;
    if (json_array_size(orig_in) == 0 && json_array_size(patch_in) == 0)
        return json_incref(orig_in);
    kind_t kind;
    if ((*rc = element_kind(c, orig_in, patch_in, &kind)) != 0)
        return NULL;
    const char *merge_key = meta ? meta->merge_key : NULL;
    if (kind != K_MAP) {
        json_t *merged = merge_primitive_list(orig_in, patch_in, delete_list);
        if (!merged || delete_list) {
            *rc = merged ? 0 : TRI_ENOMEM;
            return merged;
        }
        json_t *all = enforce_order(c, merged, patch_in, orig_in, NULL, false, rc);
        json_decref(merged);
        return all;
    }
    if (!merge_key) {
        *rc = smp_fail(c, "cannot merge lists without merge key", meta ? meta->field : NULL);
        return NULL;
    }
    json_t *orig = json_incref(orig_in), *patch = json_incref(patch_in);
    json_t *all = NULL;
    if ((*rc = apply_list_directives(c, &orig, &patch, merge_key)) == 0) {
        json_t *merged = merge_map_list(c, orig, patch, meta, depth, rc);
        if (merged)
            all = enforce_order(c, merged, patch, orig, merge_key, true, rc);
        json_decref(merged);
    }
    json_decref(orig);
    json_decref(patch);
    return all;
}

/* $retainKeys: keys of orig not listed are dropped; the patch may only set listed keys. */
static int apply_retain_keys(ctx_t *c, json_t *orig, json_t *patch)
{
    json_t *list = json_object_get(patch, RETAIN_KEYS);
    if (!list)
        return 0;
    json_incref(list);
    json_object_del(patch, RETAIN_KEYS);
    int rc = 0;
    if (!json_is_array(list)) {
        rc = smp_fail(c, "$retainKeys must be a list of strings", NULL);
        goto done;
    }
    const char *k;
    json_t *v;
    void *tmp;
    json_object_foreach(patch, k, v) {
        if (json_is_null(v) || has_prefix(k, DELETE_PRIMITIVE_PREFIX) ||
            has_prefix(k, SET_ORDER_PREFIX))
            continue;
        json_t *ks = json_string(k);
        bool listed = ks && index_in(list, ks, NULL) >= 0;
        json_decref(ks);
        if (!listed) {
            rc = smp_fail(c, "a key in the patch is missing from $retainKeys", k);
            goto done;
        }
    }
    json_object_foreach_safe(orig, tmp, k, v) {
        json_t *ks = json_string(k);
        bool listed = ks && index_in(list, ks, NULL) >= 0;
        json_decref(ks);
        if (!listed)
            json_object_del(orig, k);
    }
done:
    json_decref(list);
    return rc;
}

/* One "$setElementOrder/<key>" directive: merges patch[key] into orig[key] now and
 * orders the result by the directive; patch[key] is then dropped. */
static int apply_set_order(ctx_t *c, json_t *orig, json_t *patch, const char *dkey,
                           const char *type, int depth)
{
    const char *key = dkey + strlen(SET_ORDER_PREFIX);
    json_t *order = json_incref(json_object_get(patch, dkey));
    json_object_del(patch, dkey);
    json_t *ol = json_object_get(orig, key), *pl = json_object_get(patch, key);
    json_t *merged = NULL, *all = NULL;
    int rc = 0;
    if (!json_is_array(order) || (ol && !json_is_array(ol)) || (pl && !json_is_array(pl))) {
        rc = smp_fail(c, "$setElementOrder and its list must be lists", key);
        goto done;
    }
    if (!ol && !pl)
        goto done;
    const smp_field_t *meta = smp_lookup(type, key);
    const char *mk = meta ? meta->merge_key : NULL;
    if (ol && pl) {
        if (meta && (meta->flags & SMP_MERGE))
            merged = merge_list(c, ol, pl, meta, false, depth, &rc);
        else
            merged = json_incref(pl);
    } else if (pl) {
        merged = json_incref(pl);
        strip_directives(merged);
    } else {
        merged = json_incref(ol);
    }
    if (!merged)
        goto done;
    kind_t kind;
    if ((rc = element_kind(c, ol, pl, &kind)) != 0)
        goto done;
    if (kind == K_NONE) {
        rc = json_object_set(orig, key, merged) == 0 ? 0 : TRI_ENOMEM;
        goto done;
    }
    all = enforce_order(c, merged, order, ol, mk,
                        kind == K_MAP && mk, &rc);
    if (all)
        rc = json_object_set_new(orig, key, all) == 0 ? 0 : TRI_ENOMEM;
    json_object_del(patch, key);
done:
    json_decref(order);
    json_decref(merged);
    return rc;
}

/* One key of the patch map against orig. */
static int merge_key(ctx_t *c, json_t *orig, json_t *patch, const char *pkey, const char *type,
                     int depth)
{
    const char *k = pkey;
    bool delete_list = false;
    if (has_prefix(pkey, DELETE_PRIMITIVE_PREFIX)) {
        k = pkey + strlen(DELETE_PRIMITIVE_PREFIX);
        delete_list = true;
    }
    json_t *pv = json_object_get(patch, pkey);
    if (json_is_null(pv)) {
        json_object_del(orig, k);
        return 0;
    }
    json_t *ov = json_object_get(orig, k);
    if (!ov)
        return delete_list ? 0 : take_patch_value(orig, k, pv);
    kind_t ok = kind_of(ov), pk = kind_of(pv);
    if (ok != pk && delete_list)
        return 0;
    if (ok != pk || (ok != K_MAP && ok != K_LIST))
        return take_patch_value(orig, k, pv);
    const smp_field_t *meta = smp_lookup(type, k);
    int rc = 0;
    json_t *res;
    if (ok == K_MAP) {
        res = merge_map(c, ov, pv, meta ? meta->elem : NULL, depth + 1, &rc);
    } else if (delete_list || (meta && (meta->flags & SMP_MERGE))) {
        res = merge_list(c, ov, pv, meta, delete_list, depth + 1, &rc);
    } else {
        return take_patch_value(orig, k, pv);
    }
    if (!res)
        return rc ? rc : TRI_ENOMEM;
    return json_object_set_new(orig, k, res) == 0 ? 0 : TRI_ENOMEM;
}

/* mergeMap: merges patch into orig (both mutable); returns a new reference to the
 * result, which is orig itself unless a $patch directive replaced it. */
static json_t *merge_map(ctx_t *c, json_t *orig, json_t *patch, const char *type, int depth,
                         int *rc)
{
    *rc = 0;
    if (depth > TRI_CODEC_MAX_DEPTH) {
        *rc = smp_fail(c, "nested too deep", NULL);
        return NULL;
    }
    const json_t *d = json_object_get(patch, DIRECTIVE);
    if (d) {
        const char *dv = json_is_string(d) ? json_string_value(d) : "";
        if (strcmp(dv, "replace") == 0) {
            json_object_del(patch, DIRECTIVE);
            strip_directives(patch);
            return json_incref(patch);
        }
        if (strcmp(dv, "delete") == 0)
            return json_object();
        *rc = smp_fail(c, "unknown patch type in map", dv);
        return NULL;
    }
    if ((*rc = apply_retain_keys(c, orig, patch)) != 0)
        return NULL;
    size_t n;
    char **keys = object_keys(patch, &n);
    if (!keys) {
        *rc = TRI_ENOMEM;
        return NULL;
    }
    for (size_t i = 0; i < n && *rc == 0; i++) {
        if (has_prefix(keys[i], SET_ORDER_PREFIX))
            *rc = apply_set_order(c, orig, patch, keys[i], type, depth);
    }
    for (size_t i = 0; i < n && *rc == 0; i++) {
        if (json_object_get(patch, keys[i]))
            *rc = merge_key(c, orig, patch, keys[i], type, depth);
    }
    keys_free(keys, n);
    return *rc == 0 ? json_incref(orig) : NULL;
}

json_t *tri_strategic_merge_patch(const json_t *target, const json_t *patch, const char *kind,
                                  char *err, size_t errlen)
{
    ctx_t c = {.err = err, .errlen = errlen};
    if (!json_is_object(patch)) {
        tri_codec_errf(err, errlen, "strategic merge patch: the patch must be a JSON object");
        return NULL;
    }
    if (target && !json_is_object(target)) {
        tri_codec_errf(err, errlen, "strategic merge patch: the target must be a JSON object");
        return NULL;
    }
    if (!tri_codec_depth_ok(patch, TRI_CODEC_MAX_DEPTH) ||
        (target && !tri_codec_depth_ok(target, TRI_CODEC_MAX_DEPTH))) {
        tri_codec_errf(err, errlen, "strategic merge patch: nested deeper than %d levels",
                       TRI_CODEC_MAX_DEPTH);
        return NULL;
    }
    json_t *orig = target ? json_deep_copy(target) : json_object();
    json_t *p = json_deep_copy(patch);
    json_t *res = NULL;
    int rc = TRI_ENOMEM;
    if (orig && p)
        res = merge_map(&c, orig, p, smp_root_type(kind), 0, &rc);
    if (!res && rc == TRI_ENOMEM)
        tri_codec_errf(err, errlen, "strategic merge patch: out of memory");
    json_decref(orig);
    json_decref(p);
    return res;
}

/* The merge key of the list at json_path ("spec.template.spec.containers", field names
 * joined by '.', list elements not named) inside kind, from the same table the patch
 * uses. Server-side apply (server/api/apply.c) merges associative lists by it. */
const char *tri_strategic_merge_key(const char *kind, const char *json_path)
{
    if (!json_path)
        return NULL;
    const char *type = smp_root_type(kind);
    const char *p = json_path[0] == '.' ? json_path + 1 : json_path;
    char seg[128];
    while (*p) {
        size_t n = strcspn(p, ".");
        if (n == 0 || n >= sizeof seg)
            return NULL;
        memcpy(seg, p, n);
        seg[n] = '\0';
        const smp_field_t *f = smp_lookup(type, seg);
        if (!f)
            return NULL;
        p += n;
        if (*p == '\0')
            return (f->flags & SMP_MERGE) ? f->merge_key : NULL;
        p++;
        type = f->elem;
    }
    return NULL;
}
