/* Server-side apply and managedFields (include/triarch/apply.h), after Kubernetes'
 * apiserver fieldmanager and sigs.k8s.io/structured-merge-diff.
 *
 * A field set is kept in the wire form of fieldsV1 with one change: a node that is
 * itself owned always carries ".", also when it has no children (the wire writes a
 * lone owned leaf as {}). Sets are jansson objects; union, difference and
 * intersection walk two of them side by side. The object walks (the set of fields an
 * applied config names, the merge, the comparison of two objects, the pruning of
 * fields an applier dropped) carry a schema path, the field names from the root
 * joined by '.', to ask the small schema below how a list or a map behaves.
 *
 * Apply, as structured-merge-diff's Updater.Apply: merge the config into the live
 * object; the applier's entry becomes the config's field set; fields of its previous
 * set that nobody owns any more are pruned; then the live and new objects are
 * compared, and a field another entry owns whose value was added or changed is a
 * conflict (409 unless force, which moves it); removed fields leave every entry.
 * Update, as Updater.Update: the changed fields move to the writer's Update entry.
 * The apiserver's wrappers are followed too: server-owned metadata never enters a
 * set (stripMeta), times change only when the object does, at most ten Update
 * entries (capManagers), entries sorted as EncodeObjectManagedFields sorts them.
 */
#include "triarch/apply.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codec_internal.h"
#include "triarch/codec.h"
#include "triarch/errors.h"
#include "triarch/util.h"

#define FS_SELF "."
/* Field sets nest about twice as deep as the object they describe ("f:" and "k:"
 * levels for a list item), plus the root. */
#define FS_MAX_DEPTH (2 * TRI_CODEC_MAX_DEPTH + 2)
/* Longest schema path kept; deeper paths simply match no schema rule. */
#define AP_PATH_MAX 512
#define AP_MAX_KEYS 2
/* Schema path segment used for the elements of a granular map (their names do not
 * change the schema, and a '.' in a label key must not look like a path). */
#define AP_ELEM "*"

/* ---------- schema ---------- */

typedef enum { LIST_ATOMIC, LIST_SET, LIST_MAP } list_type_t;
typedef enum { MAP_STRUCT, MAP_GRANULAR, MAP_ATOMIC } map_type_t;

typedef struct list_schema {
    list_type_t type;
    const char *keys[AP_MAX_KEYS];     /* listMapKeys */
    const char *defaults[AP_MAX_KEYS]; /* a key's default when an item omits it */
} list_schema_t;

/* Rules match a schema path suffix at a '.' boundary, or the whole path with '^'.
 * kinds: NULL (every kind), a kind name, or a class below. */
typedef struct list_rule {
    const char *kinds;
    const char *path;
    list_schema_t schema;
} list_rule_t;

typedef struct map_rule {
    const char *kinds;
    const char *path;
    map_type_t type;
} map_rule_t;

/* clang-format off */
#define PORTS_BY(key) {LIST_MAP, {key, "protocol"}, {NULL, "TCP"}}
/* clang-format on */

/* The list-map keys server-side apply uses where they differ from the strategic-merge
 * key (+listMapKey markers of k8s.io/api), and the sets (+listType=set). Every other
 * list with a strategic-merge key is a map by that key; the rest are atomic. */
static const list_rule_t list_rules[] = {
    {"@pods", "containers.ports", PORTS_BY("containerPort")},
    {"@pods", "initContainers.ports", PORTS_BY("containerPort")},
    {"@pods", "ephemeralContainers.ports", PORTS_BY("containerPort")},
    {"@pods",
     "topologySpreadConstraints",
     {LIST_MAP, {"topologyKey", "whenUnsatisfiable"}, {NULL, NULL}}},
    {"Service", "^spec.ports", PORTS_BY("port")},
    {NULL, "metadata.finalizers", {LIST_SET, {NULL, NULL}, {NULL, NULL}}},
    {"Node", "^spec.podCIDRs", {LIST_SET, {NULL, NULL}, {NULL, NULL}}},
};

/* Maps whose keys are data (map[string]T: each key owned on its own, +mapType=granular)
 * and structs owned as a whole (+structType=atomic). Other maps are structs whose
 * fields are owned one by one. */
static const map_rule_t map_rules[] = {
    {NULL, "metadata.labels", MAP_GRANULAR},
    {NULL, "metadata.annotations", MAP_GRANULAR},
    {"ConfigMap", "^data", MAP_GRANULAR},
    {"ConfigMap", "^binaryData", MAP_GRANULAR},
    {"Secret", "^data", MAP_GRANULAR},
    {"Secret", "^stringData", MAP_GRANULAR},
    {"Service", "^spec.selector", MAP_GRANULAR},
    {"ReplicationController", "^spec.selector", MAP_GRANULAR},
    {"@pods", "nodeSelector", MAP_GRANULAR},
    {"@pods", "resources.limits", MAP_GRANULAR},
    {"@pods", "resources.requests", MAP_GRANULAR},
    {"@pods", "overhead", MAP_GRANULAR},
    {"PersistentVolumeClaim", "resources.requests", MAP_GRANULAR},
    {"PersistentVolumeClaim", "resources.limits", MAP_GRANULAR},
    {"PersistentVolumeClaim", "^status.capacity", MAP_GRANULAR},
    {"Node", "^status.capacity", MAP_GRANULAR},
    {"Node", "^status.allocatable", MAP_GRANULAR},
    {"ResourceQuota", "hard", MAP_GRANULAR},
    {"ResourceQuota", "^status.used", MAP_GRANULAR},
    /* metav1.LabelSelector, the key/field selectors and ObjectReference are atomic */
    {"@selectors", "^spec.selector", MAP_ATOMIC},
    {"CronJob", "^spec.jobTemplate.spec.selector", MAP_ATOMIC},
    {"@pods", "labelSelector", MAP_ATOMIC},
    {"@pods", "namespaceSelector", MAP_ATOMIC},
    {"@pods", "secretKeyRef", MAP_ATOMIC},
    {"@pods", "configMapKeyRef", MAP_ATOMIC},
    {"@pods", "fieldRef", MAP_ATOMIC},
    {"@pods", "resourceFieldRef", MAP_ATOMIC},
    {"Event", "^involvedObject", MAP_ATOMIC},
};

/* Kinds that embed a PodSpec, and those whose spec.selector is a LabelSelector. */
static const char *const pod_kinds[] = {
    "Pod",        "PodTemplate", "ReplicationController",
    "Deployment", "ReplicaSet",  "StatefulSet",
    "DaemonSet",  "Job",         "CronJob",
};
static const char *const selector_kinds[] = {
    "Deployment", "ReplicaSet", "StatefulSet", "DaemonSet", "Job",
};

typedef struct ap_ctx {
    const char *kind;
    char path[AP_PATH_MAX]; /* schema path of the node being walked */
    size_t len;
    unsigned overflow; /* pushes that did not fit; lookups then match nothing */
    bool strict;       /* walking the applied config: bad keys are errors */
    int err;           /* 0, TRI_EINVAL (msg says why) or TRI_ENOMEM */
    char msg[256];
} ap_ctx_t;

static int ap_fail(ap_ctx_t *c, int err, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int ap_fail(ap_ctx_t *c, int err, const char *fmt, ...)
{
    if (c->err == 0) {
        c->err = err;
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(c->msg, sizeof c->msg, fmt, ap);
        va_end(ap);
    }
    return c->err;
}

static int ap_oom(ap_ctx_t *c)
{
    return ap_fail(c, TRI_ENOMEM, "out of memory");
}

static size_t path_push(ap_ctx_t *c, const char *seg)
{
    size_t mark = c->len, n = strlen(seg);
    if (c->overflow || mark + n + 2 > sizeof c->path) {
        c->overflow++;
        return mark;
    }
    if (mark)
        c->path[c->len++] = '.';
    memcpy(c->path + c->len, seg, n);
    c->len += n;
    c->path[c->len] = '\0';
    return mark;
}

static void path_pop(ap_ctx_t *c, size_t mark)
{
    if (c->overflow) {
        c->overflow--;
        return;
    }
    c->len = mark;
    c->path[mark] = '\0';
}

static bool in_list(const char *s, const char *const *list, size_t n)
{
    for (size_t i = 0; s && i < n; i++) {
        if (strcmp(list[i], s) == 0)
            return true;
    }
    return false;
}

static bool kind_matches(const char *want, const char *kind)
{
    if (!want)
        return true;
    if (strcmp(want, "@pods") == 0)
        return in_list(kind, pod_kinds, sizeof pod_kinds / sizeof pod_kinds[0]);
    if (strcmp(want, "@selectors") == 0)
        return in_list(kind, selector_kinds, sizeof selector_kinds / sizeof selector_kinds[0]);
    return kind && strcmp(want, kind) == 0;
}

static bool path_matches(const ap_ctx_t *c, const char *pattern)
{
    bool anchored = pattern[0] == '^';
    const char *p = anchored ? pattern + 1 : pattern;
    size_t n = strlen(p);
    if (c->overflow || c->len < n || strcmp(c->path + c->len - n, p) != 0)
        return false;
    if (c->len == n)
        return true;
    return !anchored && c->path[c->len - n - 1] == '.';
}

static list_schema_t list_schema(const ap_ctx_t *c)
{
    list_schema_t s = {LIST_ATOMIC, {NULL, NULL}, {NULL, NULL}};
    if (c->overflow)
        return s;
    for (size_t i = 0; i < sizeof list_rules / sizeof list_rules[0]; i++) {
        if (kind_matches(list_rules[i].kinds, c->kind) && path_matches(c, list_rules[i].path))
            return list_rules[i].schema;
    }
    const char *key = tri_strategic_merge_key(c->kind, c->path);
    if (key) {
        s.type = LIST_MAP;
        s.keys[0] = key;
    }
    return s;
}

/* in_item: the map is an item of an associative list, always a struct. */
static map_type_t map_type(const ap_ctx_t *c, bool in_item)
{
    if (in_item || c->overflow)
        return MAP_STRUCT;
    for (size_t i = 0; i < sizeof map_rules / sizeof map_rules[0]; i++) {
        if (kind_matches(map_rules[i].kinds, c->kind) && path_matches(c, map_rules[i].path))
            return map_rules[i].type;
    }
    return MAP_STRUCT;
}

/* ---------- path elements ---------- */

/* prefix + compact JSON of v with sorted keys, malloc'd. */
static char *pe_json(const char *prefix, const json_t *v)
{
    char *js = json_dumps(v, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY);
    if (!js)
        return NULL;
    char *out = NULL;
    if (asprintf(&out, "%s%s", prefix, js) < 0)
        out = NULL;
    free(js);
    return out;
}

/* A path element read from fieldsV1, rewritten in the one spelling this file makes
 * (compact JSON, sorted keys), so that lookups by string match. NULL if invalid. */
static char *pe_canonical(const char *k)
{
    if (strncmp(k, "f:", 2) == 0)
        return strdup(k);
    if (strncmp(k, "i:", 2) == 0) {
        if (k[2] == '\0' || strspn(k + 2, "0123456789") != strlen(k + 2))
            return NULL;
        return strdup(k);
    }
    bool key = strncmp(k, "k:", 2) == 0;
    if (!key && strncmp(k, "v:", 2) != 0)
        return NULL;
    json_t *v = json_loads(k + 2, JSON_DECODE_ANY | JSON_REJECT_DUPLICATES, NULL);
    if (!v || (key && !json_is_object(v)) || !tri_codec_depth_ok(v, TRI_CODEC_MAX_DEPTH)) {
        json_decref(v);
        return NULL;
    }
    char *out = pe_json(key ? "k:" : "v:", v);
    json_decref(v);
    return out;
}

/* Appends the path element as Kubernetes prints a path: .field, [name="c"], [="v"], [0]. */
static int pe_print(tri_buf_t *b, const char *pe)
{
    if (pe[0] == 'f')
        return tri_buf_appendf(b, ".%s", pe + 2);
    if (pe[0] == 'v')
        return tri_buf_appendf(b, "[=%s]", pe + 2);
    if (pe[0] == 'i')
        return tri_buf_appendf(b, "[%s]", pe + 2);
    json_t *o = json_loads(pe + 2, 0, NULL);
    int rc = tri_buf_appendf(b, "[");
    const char *k;
    json_t *v;
    bool first = true;
    json_object_foreach(o, k, v)
    {
        char *js = json_dumps(v, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY);
        rc = rc ? rc : tri_buf_appendf(b, "%s%s=%s", first ? "" : ",", k, js ? js : "?");
        free(js);
        first = false;
    }
    json_decref(o);
    return rc ? rc : tri_buf_appendf(b, "]");
}

/* Order of path elements in fieldsV1 as structured-merge-diff sorts them: fields,
 * then keys, then values, then indexes. */
static int pe_rank(const char *pe)
{
    switch (pe[0]) {
    case 'f':
        return 0;
    case 'k':
        return 1;
    case 'v':
        return 2;
    default:
        return 3;
    }
}

static int pe_cmp(const void *a, const void *b)
{
    const char *x = *(const char *const *)a, *y = *(const char *const *)b;
    int d = pe_rank(x) - pe_rank(y);
    return d ? d : strcmp(x, y);
}

/* The children's path elements of a set node, sorted; free() the array. */
static const char **fs_sorted_keys(const json_t *n, size_t *count)
{
    const char **keys = malloc((json_object_size(n) + 1) * sizeof *keys);
    size_t i = 0;
    const char *k;
    json_t *v;
    if (!keys)
        return NULL;
    json_object_foreach((json_t *)n, k, v)
    {
        if (strcmp(k, FS_SELF) != 0)
            keys[i++] = k;
    }
    qsort(keys, i, sizeof *keys, pe_cmp);
    *count = i;
    return keys;
}

/* ---------- field sets ---------- */

static bool fs_member(const json_t *n)
{
    return n && json_object_get(n, FS_SELF) != NULL;
}

static size_t fs_children(const json_t *n)
{
    return json_object_size(n) - (fs_member(n) ? 1 : 0);
}

static int fs_mark(json_t *n)
{
    if (fs_member(n))
        return 0;
    return json_object_set_new(n, FS_SELF, json_object()) ? TRI_ENOMEM : 0;
}

/* The child node for pe, created when missing (borrowed; NULL on OOM). */
static json_t *fs_child(json_t *n, const char *pe)
{
    json_t *c = json_object_get(n, pe);
    if (c)
        return c;
    c = json_object();
    if (!c || json_object_set_new(n, pe, c) != 0)
        return NULL;
    return c;
}

static json_t *fs_field(json_t *n, const char *name)
{
    char *pe = NULL;
    if (asprintf(&pe, "f:%s", name) < 0)
        return NULL;
    json_t *c = fs_child(n, pe);
    free(pe);
    return c;
}

/* Drops nodes that are neither owned nor lead to an owned node. */
static void fs_compact(json_t *n)
{
    const char *k;
    json_t *v;
    void *tmp;
    json_object_foreach_safe(n, tmp, k, v)
    {
        if (strcmp(k, FS_SELF) == 0)
            continue;
        fs_compact(v);
        if (json_object_size(v) == 0)
            json_object_del(n, k);
    }
}

static int fs_union_into(json_t *dst, const json_t *src)
{
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)src, k, v)
    {
        if (strcmp(k, FS_SELF) == 0) {
            if (fs_mark(dst))
                return TRI_ENOMEM;
            continue;
        }
        json_t *d = json_object_get(dst, k);
        int rc = d ? fs_union_into(d, v) : json_object_set_new(dst, k, json_deep_copy(v));
        if (rc)
            return TRI_ENOMEM;
    }
    return 0;
}

/* a \ b (b may be NULL), compact; NULL on OOM. */
static json_t *fs_diff(const json_t *a, const json_t *b)
{
    json_t *out = json_object();
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)a, k, v)
    {
        if (!out)
            return NULL;
        if (strcmp(k, FS_SELF) == 0) {
            if (!fs_member(b) && fs_mark(out))
                goto oom;
            continue;
        }
        const json_t *bv = b ? json_object_get(b, k) : NULL;
        json_t *c = bv ? fs_diff(v, bv) : json_deep_copy(v);
        if (!c)
            goto oom;
        if (json_object_size(c) == 0) {
            json_decref(c);
            continue;
        }
        if (json_object_set_new(out, k, c))
            goto oom;
    }
    return out;
oom:
    json_decref(out);
    return NULL;
}

/* a ∩ b, compact; NULL on OOM. */
static json_t *fs_intersect(const json_t *a, const json_t *b)
{
    json_t *out = json_object();
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)a, k, v)
    {
        if (!out)
            return NULL;
        if (strcmp(k, FS_SELF) == 0) {
            if (fs_member(b) && fs_mark(out))
                goto oom;
            continue;
        }
        const json_t *bv = json_object_get(b, k);
        if (!bv)
            continue;
        json_t *c = fs_intersect(v, bv);
        if (!c)
            goto oom;
        if (json_object_size(c) == 0) {
            json_decref(c);
            continue;
        }
        if (json_object_set_new(out, k, c))
            goto oom;
    }
    return out;
oom:
    json_decref(out);
    return NULL;
}

/* Replaces *set by *set \ b. */
static int fs_subtract(json_t **set, const json_t *b)
{
    json_t *d = fs_diff(*set, b);
    if (!d)
        return TRI_ENOMEM;
    json_decref(*set);
    *set = d;
    return 0;
}

/* fieldsV1 (wire form) into a set; NULL when malformed (or OOM). */
static json_t *fs_decode(const json_t *v, bool root)
{
    if (!json_is_object(v))
        return NULL;
    json_t *out = json_object();
    if (out && !root && json_object_size(v) == 0 && fs_mark(out))
        goto fail;
    const char *k;
    json_t *cv;
    json_object_foreach((json_t *)v, k, cv)
    {
        if (!out)
            return NULL;
        if (strcmp(k, FS_SELF) == 0) {
            if (!json_is_object(cv) || (!root && fs_mark(out)))
                goto fail;
            continue;
        }
        char *pe = pe_canonical(k);
        json_t *c = pe ? fs_decode(cv, false) : NULL;
        json_t *have = pe ? json_object_get(out, pe) : NULL;
        int rc = !c ? -1 : have ? fs_union_into(have, c) : json_object_set(out, pe, c);
        json_decref(c);
        free(pe);
        if (rc)
            goto fail;
    }
    return out;
fail:
    json_decref(out);
    return NULL;
}

/* A set in the wire form of fieldsV1 (new reference). */
static json_t *fs_encode(const json_t *n)
{
    json_t *out = json_object();
    size_t nk = 0;
    const char **keys = out ? fs_sorted_keys(n, &nk) : NULL;
    if (!keys) {
        json_decref(out);
        return NULL;
    }
    if (fs_member(n) && nk > 0 && json_object_set_new(out, FS_SELF, json_object()))
        goto fail;
    for (size_t i = 0; i < nk; i++) {
        if (json_object_set_new(out, keys[i], fs_encode(json_object_get(n, keys[i]))))
            goto fail;
    }
    free(keys);
    return out;
fail:
    free(keys);
    json_decref(out);
    return NULL;
}

typedef int (*fs_path_cb)(const char *path, void *data);

/* Calls cb with the printed path of every owned node, in fieldsV1 order. */
static int fs_paths(const json_t *n, tri_buf_t *path, fs_path_cb cb, void *data)
{
    size_t nk = 0;
    const char **keys = fs_sorted_keys(n, &nk);
    int rc = keys ? 0 : TRI_ENOMEM;
    for (size_t i = 0; rc == 0 && i < nk; i++) {
        const json_t *child = json_object_get(n, keys[i]);
        size_t mark = path->len;
        rc = pe_print(path, keys[i]);
        if (rc == 0 && fs_member(child))
            rc = cb(path->data, data);
        if (rc == 0)
            rc = fs_paths(child, path, cb, data);
        path->len = mark;
        if (path->data)
            path->data[mark] = '\0';
    }
    free(keys);
    return rc;
}

/* Server-owned fields never in a set (the apiserver's stripMeta, plus the deletion
 * fields this server also keeps to itself). */
static const char *const strip_meta_fields[] = {
    "f:name",
    "f:namespace",
    "f:creationTimestamp",
    "f:selfLink",
    "f:uid",
    "f:clusterName",
    "f:generation",
    "f:managedFields",
    "f:resourceVersion",
    "f:deletionTimestamp",
    "f:deletionGracePeriodSeconds",
};

static void fs_strip_meta(json_t *set)
{
    json_object_del(set, "f:apiVersion");
    json_object_del(set, "f:kind");
    json_t *meta = json_object_get(set, "f:metadata");
    if (!meta)
        return;
    json_object_del(meta, FS_SELF);
    for (size_t i = 0; i < sizeof strip_meta_fields / sizeof strip_meta_fields[0]; i++)
        json_object_del(meta, strip_meta_fields[i]);
    if (json_object_size(meta) == 0)
        json_object_del(set, "f:metadata");
}

/* ---------- list items ---------- */

/* The path element of a list item: "v:<json>" in a set, "k:{keys}" in a map. NULL
 * with c->err set when a key is missing from an applied item (or OOM). */
static char *item_pe(ap_ctx_t *c, const list_schema_t *ls, const json_t *item, size_t index)
{
    if (ls->type == LIST_SET) {
        char *pe = pe_json("v:", item);
        if (!pe)
            ap_oom(c);
        return pe;
    }
    json_t *key = json_object();
    for (size_t i = 0; key && i < AP_MAX_KEYS && ls->keys[i]; i++) {
        json_t *v = json_is_object(item) ? json_object_get(item, ls->keys[i]) : NULL;
        if (v && !json_is_null(v)) {
            json_object_set(key, ls->keys[i], v);
        } else if (ls->defaults[i]) {
            json_object_set_new(key, ls->keys[i], json_string(ls->defaults[i]));
        } else if (c->strict) {
            ap_fail(c, TRI_EINVAL,
                    ".%s: element %zu: associative list with keys has an element that "
                    "omits key field \"%s\" (and doesn't have default value)",
                    c->path, index, ls->keys[i]);
            json_decref(key);
            return NULL;
        } else {
            json_object_set_new(key, ls->keys[i], json_null());
        }
    }
    char *pe = key ? pe_json("k:", key) : NULL;
    json_decref(key);
    if (!pe)
        ap_oom(c);
    return pe;
}

/* Path elements of every item, and the index of the first item with each. */
typedef struct list_index {
    char **pe;
    size_t n;
    json_t *first; /* pe -> integer index */
} list_index_t;

static void list_index_free(list_index_t *ix)
{
    for (size_t i = 0; ix->pe && i < ix->n; i++)
        free(ix->pe[i]);
    free(ix->pe);
    json_decref(ix->first);
    memset(ix, 0, sizeof *ix);
}

static int list_index(ap_ctx_t *c, const list_schema_t *ls, const json_t *list, list_index_t *ix)
{
    memset(ix, 0, sizeof *ix);
    size_t n = json_array_size(list);
    ix->pe = calloc(n + 1, sizeof *ix->pe);
    ix->first = json_object();
    if (!ix->pe || !ix->first)
        return ap_oom(c);
    for (size_t i = 0; i < n; i++) {
        ix->pe[i] = item_pe(c, ls, json_array_get(list, i), i);
        if (!ix->pe[i])
            return c->err;
        ix->n = i + 1;
        if (json_object_get(ix->first, ix->pe[i])) {
            if (!c->strict)
                continue;
            tri_buf_t b = {0};
            pe_print(&b, ix->pe[i]);
            ap_fail(c, TRI_EINVAL, ".%s: duplicate entries for key %s", c->path,
                    b.data ? b.data : "");
            tri_buf_free(&b);
            return c->err;
        }
        if (json_object_set_new(ix->first, ix->pe[i], json_integer((json_int_t)i)))
            return ap_oom(c);
    }
    return 0;
}

static long list_find(const list_index_t *ix, const char *pe)
{
    json_t *v = json_object_get(ix->first, pe);
    return v ? (long)json_integer_value(v) : -1;
}

/* ---------- the set an applied config names (typed.ToFieldSet) ---------- */

static int fs_build(ap_ctx_t *c, const json_t *v, json_t *node, bool in_item);

static int fs_build_fields(ap_ctx_t *c, const json_t *obj, json_t *node, map_type_t mt)
{
    const char *k;
    json_t *cv;
    json_object_foreach((json_t *)obj, k, cv)
    {
        json_t *child = fs_field(node, k);
        if (!child)
            return ap_oom(c);
        size_t mark = path_push(c, mt == MAP_GRANULAR ? AP_ELEM : k);
        int rc = json_is_null(cv) ? fs_mark(child) : fs_build(c, cv, child, false);
        if (rc == 0 && mt == MAP_GRANULAR)
            rc = fs_mark(child);
        path_pop(c, mark);
        if (rc)
            return c->err ? c->err : ap_oom(c);
    }
    return 0;
}

static int fs_build_list(ap_ctx_t *c, const list_schema_t *ls, const json_t *v, json_t *node)
{
    list_index_t ix;
    int rc = list_index(c, ls, v, &ix);
    for (size_t i = 0; rc == 0 && i < ix.n; i++) {
        json_t *child = fs_child(node, ix.pe[i]);
        const json_t *item = json_array_get(v, i);
        rc = child ? fs_mark(child) : TRI_ENOMEM;
        if (rc == 0 && ls->type == LIST_MAP && json_is_object(item))
            rc = fs_build(c, item, child, true);
    }
    list_index_free(&ix);
    return rc && !c->err ? ap_oom(c) : rc;
}

static int fs_build(ap_ctx_t *c, const json_t *v, json_t *node, bool in_item)
{
    if (json_is_object(v)) {
        map_type_t mt = map_type(c, in_item);
        if (mt == MAP_ATOMIC || json_object_size(v) == 0)
            return fs_mark(node) ? ap_oom(c) : 0;
        return fs_build_fields(c, v, node, mt);
    }
    if (json_is_array(v)) {
        list_schema_t ls = list_schema(c);
        if (ls.type == LIST_ATOMIC || json_array_size(v) == 0)
            return fs_mark(node) ? ap_oom(c) : 0;
        return fs_build_list(c, &ls, v, node);
    }
    return fs_mark(node) ? ap_oom(c) : 0;
}

/* ---------- merge (typed.Merge): the config wins, maps and map lists merge ---------- */

/* Removes null-valued fields throughout (null means unset in a typed object). The
 * caller checked the nesting depth. */
static void drop_nulls(json_t *v)
{
    const char *k;
    json_t *cv;
    void *tmp;
    size_t i;
    if (json_is_object(v)) {
        json_object_foreach_safe(v, tmp, k, cv)
        {
            if (json_is_null(cv))
                json_object_del(v, k);
            else
                drop_nulls(cv);
        }
    } else if (json_is_array(v)) {
        json_array_foreach(v, i, cv) drop_nulls(cv);
    }
}

static json_t *copy_set_fields(const json_t *v)
{
    json_t *out = json_deep_copy(v);
    drop_nulls(out);
    return out;
}

static json_t *merge_value(ap_ctx_t *c, const json_t *l, const json_t *r, bool in_item);

static json_t *merge_map(ap_ctx_t *c, const json_t *l, const json_t *r, map_type_t mt)
{
    json_t *out = json_deep_copy(l);
    const char *k;
    json_t *rv;
    json_object_foreach((json_t *)r, k, rv)
    {
        if (!out)
            break;
        if (json_is_null(rv)) {
            json_object_del(out, k);
            continue;
        }
        size_t mark = path_push(c, mt == MAP_GRANULAR ? AP_ELEM : k);
        json_t *m = merge_value(c, json_object_get(l, k), rv, false);
        path_pop(c, mark);
        if (!m || json_object_set_new(out, k, m)) {
            json_decref(out);
            out = NULL;
        }
    }
    if (!out)
        ap_oom(c);
    return out;
}

/* Items only in l keep their place; items of r come in r's order, each merged with
 * its l twin, and are placed before the next l item they share with r. */
static json_t *merge_list(ap_ctx_t *c, const list_schema_t *ls, const json_t *l, const json_t *r)
{
    list_index_t li = {0}, ri = {0};
    json_t *out = json_array(), *done = json_object();
    int rc = list_index(c, ls, l, &li);
    rc = rc ? rc : list_index(c, ls, r, &ri);
    if (rc == 0 && (!out || !done))
        rc = ap_oom(c);
    size_t rnext = 0, rn = rc ? 0 : ri.n;
    for (size_t i = 0; rc == 0 && i <= li.n; i++) {
        long upto = (long)rn - 1;
        if (i < li.n) {
            upto = list_find(&ri, li.pe[i]);
            if (upto < 0) {
                rc = json_array_append_new(out, json_deep_copy(json_array_get(l, i))) ? ap_oom(c)
                                                                                      : 0;
                continue;
            }
        }
        for (; rc == 0 && (long)rnext <= upto; rnext++) {
            const char *pe = ri.pe[rnext];
            if (json_object_get(done, pe))
                continue;
            long lj = list_find(&li, pe);
            const json_t *rv = json_array_get(r, rnext);
            json_t *m = lj >= 0 ? merge_value(c, json_array_get(l, (size_t)lj), rv, true)
                                : copy_set_fields(rv);
            if (!m || json_array_append_new(out, m) || json_object_set_new(done, pe, json_true()))
                rc = ap_oom(c);
        }
    }
    list_index_free(&li);
    list_index_free(&ri);
    json_decref(done);
    if (rc) {
        json_decref(out);
        return NULL;
    }
    return out;
}

static json_t *merge_value(ap_ctx_t *c, const json_t *l, const json_t *r, bool in_item)
{
    if (json_is_object(l) && json_is_object(r)) {
        map_type_t mt = map_type(c, in_item);
        if (mt != MAP_ATOMIC)
            return merge_map(c, l, r, mt);
    }
    if (json_is_array(l) && json_is_array(r)) {
        list_schema_t ls = list_schema(c);
        if (ls.type != LIST_ATOMIC)
            return merge_list(c, &ls, l, r);
    }
    json_t *out = copy_set_fields(r);
    if (!out)
        ap_oom(c);
    return out;
}

/* ---------- compare (typed.Compare): added or modified, and removed ---------- */

enum { V_NONE, V_SCALAR, V_OBJECT, V_ARRAY };

static int value_type(const json_t *v)
{
    if (!v || json_is_null(v))
        return V_NONE;
    return json_is_object(v) ? V_OBJECT : json_is_array(v) ? V_ARRAY : V_SCALAR;
}

static size_t container_size(const json_t *v)
{
    return json_is_object(v) ? json_object_size(v) : json_array_size(v);
}

typedef struct cmp_sets {
    json_t *chg; /* added or modified */
    json_t *rem; /* removed */
} cmp_sets_t;

static int cmp_walk(ap_ctx_t *c, const json_t *l, const json_t *r, cmp_sets_t s, bool member,
                    bool in_item);

static int cmp_child(ap_ctx_t *c, const char *pe, const json_t *l, const json_t *r, cmp_sets_t s,
                     bool member, bool in_item)
{
    cmp_sets_t cs = {fs_child(s.chg, pe), fs_child(s.rem, pe)};
    if (!cs.chg || !cs.rem)
        return ap_oom(c);
    return cmp_walk(c, l, r, cs, member, in_item);
}

static int cmp_fields(ap_ctx_t *c, const json_t *l, const json_t *r, cmp_sets_t s, map_type_t mt)
{
    const json_t *sides[2] = {l, r};
    for (int side = 0; side < 2; side++) {
        const char *k;
        json_t *v;
        json_object_foreach((json_t *)sides[side], k, v)
        {
            if (side == 1 && json_object_get(l, k))
                continue;
            char *pe = NULL;
            if (asprintf(&pe, "f:%s", k) < 0)
                return ap_oom(c);
            size_t mark = path_push(c, mt == MAP_GRANULAR ? AP_ELEM : k);
            int rc = cmp_child(c, pe, json_object_get(l, k), json_object_get(r, k), s,
                               mt == MAP_GRANULAR, false);
            path_pop(c, mark);
            free(pe);
            if (rc)
                return rc;
        }
    }
    return 0;
}

static int cmp_items(ap_ctx_t *c, const list_schema_t *ls, const json_t *l, const json_t *r,
                     cmp_sets_t s)
{
    list_index_t li = {0}, ri = {0};
    int rc = list_index(c, ls, l, &li);
    rc = rc ? rc : list_index(c, ls, r, &ri);
    for (size_t i = 0; rc == 0 && i < li.n; i++) {
        if (list_find(&li, li.pe[i]) != (long)i)
            continue;
        long j = list_find(&ri, li.pe[i]);
        rc = cmp_child(c, li.pe[i], json_array_get(l, i),
                       j >= 0 ? json_array_get(r, (size_t)j) : NULL, s, true, true);
    }
    for (size_t j = 0; rc == 0 && j < ri.n; j++) {
        if (list_find(&ri, ri.pe[j]) == (long)j && list_find(&li, ri.pe[j]) < 0)
            rc = cmp_child(c, ri.pe[j], NULL, json_array_get(r, j), s, true, true);
    }
    list_index_free(&li);
    list_index_free(&ri);
    return rc;
}

/* member: the node is itself a member of a set when present (a list item, an element
 * of a granular map); struct fields are not (their leaves are). */
static int cmp_walk(ap_ctx_t *c, const json_t *l, const json_t *r, cmp_sets_t s, bool member,
                    bool in_item)
{
    int tl = value_type(l), tr = value_type(r);
    if (tl == V_NONE && tr == V_NONE)
        return 0;
    int t = tl != V_NONE ? tl : tr;
    bool leaf = (tl != V_NONE && tr != V_NONE && tl != tr) || t == V_SCALAR ||
                (container_size(l) == 0 && container_size(r) == 0);
    map_type_t mt = MAP_STRUCT;
    list_schema_t ls = {LIST_ATOMIC, {NULL, NULL}, {NULL, NULL}};
    if (!leaf && t == V_OBJECT)
        leaf = (mt = map_type(c, in_item)) == MAP_ATOMIC;
    if (!leaf && t == V_ARRAY)
        leaf = (ls = list_schema(c)).type == LIST_ATOMIC;
    int rc = 0;
    if (leaf) {
        if (tl == V_NONE)
            rc = fs_mark(s.chg);
        else if (tr == V_NONE)
            rc = fs_mark(s.rem);
        else if (!tri_codec_json_equal(l, r))
            rc = fs_mark(s.chg);
        return rc ? ap_oom(c) : 0;
    }
    /* A list or a granular map that appears or goes is itself a member, as the
     * apiserver records it (f:labels: {".": {}, ...}); a struct is not. */
    bool self = member || t == V_ARRAY || mt == MAP_GRANULAR;
    if (self && tl == V_NONE)
        rc = fs_mark(s.chg);
    if (self && tr == V_NONE)
        rc = fs_mark(s.rem);
    if (rc)
        return ap_oom(c);
    if (t == V_OBJECT)
        return cmp_fields(c, tl == V_NONE ? NULL : l, tr == V_NONE ? NULL : r, s, mt);
    return cmp_items(c, &ls, tl == V_NONE ? NULL : l, tr == V_NONE ? NULL : r, s);
}

/* Compares two whole objects; chg and rem are compact, without server-owned fields. */
static int cmp_objects(ap_ctx_t *c, const json_t *l, const json_t *r, json_t **chg, json_t **rem)
{
    cmp_sets_t s = {json_object(), json_object()};
    int rc = s.chg && s.rem ? cmp_fields(c, l, r, s, MAP_STRUCT) : ap_oom(c);
    if (rc) {
        json_decref(s.chg);
        json_decref(s.rem);
        return rc;
    }
    fs_compact(s.chg);
    fs_compact(s.rem);
    fs_strip_meta(s.chg);
    fs_strip_meta(s.rem);
    *chg = s.chg;
    *rem = s.rem;
    return 0;
}

/* ---------- prune (Updater.prune) ---------- */

/* Owned for pruning: a member, or a struct field with owned fields below it
 * (EnsureNamedFieldsAreMembers). */
static bool prune_owned(const json_t *n, bool named)
{
    return n && (fs_member(n) || (named && fs_children(n) > 0));
}

static int prune_walk(ap_ctx_t *c, json_t *v, const json_t *last, const json_t *owned,
                      bool in_item);

static int prune_fields(ap_ctx_t *c, json_t *obj, const json_t *last, const json_t *owned,
                        map_type_t mt)
{
    const char *pe;
    json_t *lc;
    json_object_foreach((json_t *)last, pe, lc)
    {
        if (strncmp(pe, "f:", 2) != 0)
            continue;
        const char *name = pe + 2;
        json_t *v = json_object_get(obj, name);
        const json_t *oc = owned ? json_object_get(owned, pe) : NULL;
        bool named = mt == MAP_STRUCT;
        if (!v)
            continue;
        if (prune_owned(lc, named) && !prune_owned(oc, named)) {
            json_object_del(obj, name);
            continue;
        }
        size_t mark = path_push(c, mt == MAP_GRANULAR ? AP_ELEM : name);
        int rc = prune_walk(c, v, lc, oc, false);
        path_pop(c, mark);
        if (rc)
            return rc;
    }
    return 0;
}

static int prune_items(ap_ctx_t *c, const list_schema_t *ls, json_t *list, const json_t *last,
                       const json_t *owned)
{
    list_index_t ix;
    int rc = list_index(c, ls, list, &ix);
    for (size_t i = ix.n; rc == 0 && i-- > 0;) {
        const json_t *lc = json_object_get(last, ix.pe[i]);
        const json_t *oc = owned ? json_object_get(owned, ix.pe[i]) : NULL;
        if (!lc)
            continue;
        if (fs_member(lc) && !fs_member(oc))
            json_array_remove(list, i);
        else
            rc = prune_walk(c, json_array_get(list, i), lc, oc, true);
    }
    list_index_free(&ix);
    return rc;
}

/* Removes from v what `last` (the applier's previous set) holds and `owned` (every
 * entry's set now, the applier's new one included) does not. */
static int prune_walk(ap_ctx_t *c, json_t *v, const json_t *last, const json_t *owned, bool in_item)
{
    if (json_is_object(v)) {
        map_type_t mt = map_type(c, in_item);
        return mt == MAP_ATOMIC ? 0 : prune_fields(c, v, last, owned, mt);
    }
    if (json_is_array(v)) {
        list_schema_t ls = list_schema(c);
        return ls.type == LIST_ATOMIC ? 0 : prune_items(c, &ls, v, last, owned);
    }
    return 0;
}

/* ---------- managedFields entries ---------- */

typedef struct mf_entry {
    char *manager;
    char *api_version; /* may be NULL */
    char *time;        /* may be NULL */
    char *subresource; /* may be NULL */
    bool apply;
    json_t *set; /* never NULL */
} mf_entry_t;

typedef struct mf_list {
    mf_entry_t *v;
    size_t n, cap;
} mf_list_t;

static char *dup_or_null(const char *s)
{
    return s ? strdup(s) : NULL;
}

static void mf_entry_free(mf_entry_t *e)
{
    free(e->manager);
    free(e->api_version);
    free(e->time);
    free(e->subresource);
    json_decref(e->set);
    memset(e, 0, sizeof *e);
}

static void mf_free(mf_list_t *l)
{
    for (size_t i = 0; i < l->n; i++)
        mf_entry_free(&l->v[i]);
    free(l->v);
    memset(l, 0, sizeof *l);
}

static bool str_eq(const char *a, const char *b)
{
    return strcmp(a ? a : "", b ? b : "") == 0;
}

/* An entry's identity (BuildManagerIdentifier): manager, operation, subresource, and
 * for Update the apiVersion (an applier keeps its entry across versions). */
static long mf_find(const mf_list_t *l, const char *manager, bool apply, const char *api_version,
                    const char *subresource)
{
    for (size_t i = 0; i < l->n; i++) {
        const mf_entry_t *e = &l->v[i];
        if (e->apply == apply && str_eq(e->manager, manager) &&
            str_eq(e->subresource, subresource) && (apply || str_eq(e->api_version, api_version)))
            return (long)i;
    }
    return -1;
}

/* Appends an entry (taking `set`); index or negative on OOM. */
static long mf_add(mf_list_t *l, const char *manager, bool apply, const char *api_version,
                   const char *subresource, json_t *set)
{
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 4;
        mf_entry_t *v = realloc(l->v, cap * sizeof *v);
        if (!v) {
            json_decref(set);
            return TRI_ENOMEM;
        }
        l->v = v;
        l->cap = cap;
    }
    mf_entry_t *e = &l->v[l->n];
    memset(e, 0, sizeof *e);
    e->manager = strdup(manager ? manager : "");
    e->api_version = dup_or_null(api_version);
    e->subresource = dup_or_null(subresource);
    e->apply = apply;
    e->set = set ? set : json_object();
    if (!e->manager || !e->set || (api_version && !e->api_version) ||
        (subresource && !e->subresource)) {
        mf_entry_free(e);
        return TRI_ENOMEM;
    }
    return (long)l->n++;
}

static const char *opt_string(const json_t *o, const char *k, bool *bad)
{
    const json_t *v = json_object_get(o, k);
    if (v && !json_is_null(v) && !json_is_string(v))
        *bad = true;
    return json_string_value(v);
}

static int mf_decode_entry(mf_list_t *l, const json_t *e)
{
    bool bad = !json_is_object(e);
    const char *manager = opt_string(e, "manager", &bad);
    const char *op = opt_string(e, "operation", &bad);
    const char *av = opt_string(e, "apiVersion", &bad);
    const char *when = opt_string(e, "time", &bad);
    const char *ft = opt_string(e, "fieldsType", &bad);
    const char *sub = opt_string(e, "subresource", &bad);
    const json_t *fv = json_object_get(e, "fieldsV1");
    bool apply = op && strcmp(op, "Apply") == 0;
    if (bad || !op || (!apply && strcmp(op, "Update") != 0) || (ft && strcmp(ft, "FieldsV1")))
        return TRI_EINVAL;
    if (fv && !json_is_null(fv) && !tri_codec_depth_ok(fv, FS_MAX_DEPTH))
        return TRI_EINVAL;
    json_t *set = fv && !json_is_null(fv) ? fs_decode(fv, true) : json_object();
    if (!set)
        return TRI_EINVAL;
    fs_compact(set);
    fs_strip_meta(set);
    long have = mf_find(l, manager, apply, av, sub && *sub ? sub : NULL);
    if (have >= 0) {
        int rc = fs_union_into(l->v[have].set, set);
        json_decref(set);
        return rc;
    }
    long i = mf_add(l, manager, apply, av, sub && *sub ? sub : NULL, set);
    if (i < 0)
        return (int)i;
    if (when && !(l->v[i].time = strdup(when)))
        return TRI_ENOMEM;
    return 0;
}

/* managedFields (an array or absent) into entries; TRI_EINVAL when malformed, as
 * DecodeManagedFields fails (the caller then starts from no entries). */
static int mf_decode(const json_t *arr, mf_list_t *l)
{
    memset(l, 0, sizeof *l);
    if (!arr || json_is_null(arr))
        return 0;
    if (!json_is_array(arr))
        return TRI_EINVAL;
    size_t i;
    json_t *e;
    json_array_foreach(arr, i, e)
    {
        int rc = mf_decode_entry(l, e);
        if (rc) {
            mf_free(l);
            return rc;
        }
    }
    return 0;
}

/* Encoded order (sortEncodedManagedFields): operation, time, manager, apiVersion,
 * subresource. Times are RFC 3339 UTC, so they sort as strings; none sorts first. */
static int mf_cmp(const void *a, const void *b)
{
    const mf_entry_t *x = a, *y = b;
    int d;
    if (x->apply != y->apply)
        return x->apply ? -1 : 1;
    if ((d = strcmp(x->time ? x->time : "", y->time ? y->time : "")) != 0)
        return d;
    if ((d = strcmp(x->manager, y->manager)) != 0)
        return d;
    if ((d = strcmp(x->api_version ? x->api_version : "", y->api_version ? y->api_version : "")))
        return d;
    return strcmp(x->subresource ? x->subresource : "", y->subresource ? y->subresource : "");
}

static json_t *mf_encode_entry(const mf_entry_t *e)
{
    json_t *o = json_object();
    json_object_set_new(o, "manager", json_string(e->manager));
    json_object_set_new(o, "operation", json_string(e->apply ? "Apply" : "Update"));
    if (e->api_version)
        json_object_set_new(o, "apiVersion", json_string(e->api_version));
    if (e->time)
        json_object_set_new(o, "time", json_string(e->time));
    json_object_set_new(o, "fieldsType", json_string("FieldsV1"));
    json_object_set_new(o, "fieldsV1", fs_encode(e->set));
    if (e->subresource)
        json_object_set_new(o, "subresource", json_string(e->subresource));
    if (o && json_object_size(o) < 4) {
        json_decref(o);
        return NULL;
    }
    return o;
}

/* Sorts the entries and returns managedFields (new reference; NULL on OOM). */
static json_t *mf_encode(mf_list_t *l)
{
    if (l->n > 1)
        qsort(l->v, l->n, sizeof *l->v, mf_cmp);
    json_t *arr = json_array();
    for (size_t i = 0; arr && i < l->n; i++) {
        if (json_array_append_new(arr, mf_encode_entry(&l->v[i]))) {
            json_decref(arr);
            return NULL;
        }
    }
    return arr;
}

static void mf_drop_empty(mf_list_t *l)
{
    size_t w = 0;
    for (size_t i = 0; i < l->n; i++) {
        if (json_object_size(l->v[i].set) == 0)
            mf_entry_free(&l->v[i]);
        else
            l->v[w++] = l->v[i];
    }
    l->n = w;
}

static size_t mf_count_updates(const mf_list_t *l)
{
    size_t n = 0;
    for (size_t i = 0; i < l->n; i++)
        n += !l->v[i].apply;
    return n;
}

/* capManagers: beyond the cap, the oldest Update entries merge into one
 * "ancient-changes" entry per apiVersion (the first one found is renamed). */
static int mf_cap(mf_list_t *l)
{
    while (mf_count_updates(l) > TRI_APPLY_MAX_UPDATE_MANAGERS) {
        long old = -1;
        for (size_t i = 0; i < l->n; i++) {
            const mf_entry_t *e = &l->v[i];
            if (e->apply || strcmp(e->manager, TRI_APPLY_ANCIENT_MANAGER) == 0)
                continue;
            if (old < 0 || strcmp(e->time ? e->time : "", l->v[old].time ? l->v[old].time : "") < 0)
                old = (long)i;
        }
        if (old < 0)
            return 0;
        mf_entry_t *e = &l->v[old];
        long bucket = mf_find(l, TRI_APPLY_ANCIENT_MANAGER, false, e->api_version, e->subresource);
        if (bucket < 0) {
            char *name = strdup(TRI_APPLY_ANCIENT_MANAGER);
            if (!name)
                return TRI_ENOMEM;
            free(e->manager);
            e->manager = name;
            continue;
        }
        if (fs_union_into(l->v[bucket].set, e->set))
            return TRI_ENOMEM;
        free(l->v[bucket].time);
        l->v[bucket].time = e->time; /* the merged update is the more recent one */
        e->time = NULL;
        mf_entry_free(e);
        l->v[old] = l->v[--l->n];
    }
    return 0;
}

static int mf_set_time(mf_entry_t *e, const char *now)
{
    char *t = strdup(now);
    if (!t)
        return TRI_ENOMEM;
    free(e->time);
    e->time = t;
    return 0;
}

/* Writes the entries into obj's metadata (removing managedFields when none is left). */
static int mf_store(json_t *obj, mf_list_t *l)
{
    json_t *meta = json_object_get(obj, "metadata");
    if (!json_is_object(meta)) {
        meta = json_object();
        if (!meta || json_object_set_new(obj, "metadata", meta))
            return TRI_ENOMEM;
    }
    if (l->n == 0) {
        json_object_del(meta, "managedFields");
        return 0;
    }
    json_t *arr = mf_encode(l);
    return arr && json_object_set_new(meta, "managedFields", arr) == 0 ? 0 : TRI_ENOMEM;
}

/* A copy of obj (or {}) without metadata.managedFields. */
static json_t *copy_without_managed_fields(const json_t *obj)
{
    json_t *out = obj ? json_deep_copy(obj) : json_object();
    json_object_del(json_object_get(out, "metadata"), "managedFields");
    return out;
}

/* ---------- conflicts ---------- */

typedef struct conflict {
    char *who;  /* "\"mgr\"", "\"mgr\" using v1" */
    char *path; /* ".data.key" */
    size_t seq;
} conflict_t;

typedef struct conflicts {
    conflict_t *v;
    size_t n, cap;
    const char *who; /* manager being collected */
} conflicts_t;

static char *manager_print(const mf_entry_t *e)
{
    tri_buf_t b = {0};
    json_t *name = json_string(e->manager);
    char *q = name ? json_dumps(name, JSON_ENCODE_ANY) : NULL;
    int rc = tri_buf_appendf(&b, "%s", q ? q : "\"\"");
    if (rc == 0 && e->subresource)
        rc = tri_buf_appendf(&b, " with subresource \"%s\"", e->subresource);
    if (rc == 0 && !e->apply)
        rc = tri_buf_appendf(&b, " using %s", e->api_version ? e->api_version : "");
    free(q);
    json_decref(name);
    if (rc) {
        tri_buf_free(&b);
        return NULL;
    }
    return b.data;
}

static int conflict_add(const char *path, void *data)
{
    conflicts_t *cs = data;
    if (cs->n == cs->cap) {
        size_t cap = cs->cap ? cs->cap * 2 : 8;
        conflict_t *v = realloc(cs->v, cap * sizeof *v);
        if (!v)
            return TRI_ENOMEM;
        cs->v = v;
        cs->cap = cap;
    }
    conflict_t *c = &cs->v[cs->n];
    c->who = strdup(cs->who);
    c->path = strdup(path);
    c->seq = cs->n++;
    return c->who && c->path ? 0 : TRI_ENOMEM;
}

static int conflict_cmp(const void *a, const void *b)
{
    const conflict_t *x = a, *y = b;
    int d = strcmp(x->who, y->who);
    return d ? d : (x->seq > y->seq) - (x->seq < y->seq);
}

static void conflicts_free(conflicts_t *cs)
{
    for (size_t i = 0; i < cs->n; i++) {
        free(cs->v[i].who);
        free(cs->v[i].path);
    }
    free(cs->v);
}

/* The 409 Kubernetes sends (apiserver's NewConflictError). sets[i] holds entry i's
 * conflicting fields or NULL. */
static void conflict_status(const mf_list_t *l, json_t *const *sets, tri_status_t *st)
{
    conflicts_t cs = {0};
    tri_buf_t path = {0}, msg = {0};
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < l->n; i++) {
        if (!sets[i])
            continue;
        char *who = manager_print(&l->v[i]);
        cs.who = who;
        rc = who ? tri_buf_appendf(&path, "%s", "") : TRI_ENOMEM;
        rc = rc ? rc : fs_paths(sets[i], &path, conflict_add, &cs);
        tri_buf_reset(&path);
        free(who);
    }
    if (rc) {
        tri_status_set(st, 500, "InternalError", "apply: out of memory");
        goto done;
    }
    qsort(cs.v, cs.n, sizeof *cs.v, conflict_cmp);
    if (cs.n == 1) {
        tri_buf_appendf(&msg, "Apply failed with 1 conflict: conflict with %s: %s", cs.v[0].who,
                        cs.v[0].path);
    } else {
        tri_buf_appendf(&msg, "Apply failed with %zu conflicts: ", cs.n);
        for (size_t i = 0; i < cs.n; i++) {
            if (i == 0 || strcmp(cs.v[i].who, cs.v[i - 1].who) != 0)
                tri_buf_appendf(&msg, "%sconflicts with %s:", i ? "\n" : "", cs.v[i].who);
            tri_buf_appendf(&msg, "\n- %s", cs.v[i].path);
        }
    }
    tri_status_set(st, 409, "Conflict", "%s", msg.data ? msg.data : "Apply failed");
    for (size_t i = 0; i < cs.n; i++)
        tri_status_add_cause(st, "FieldManagerConflict", cs.v[i].path, "conflict with %s",
                             cs.v[i].who);
done:
    conflicts_free(&cs);
    tri_buf_free(&path);
    tri_buf_free(&msg);
}

/* ---------- apply ---------- */

/* Server-owned metadata an applied config may carry but never changes. */
static const char *const server_meta[] = {
    "uid",           "resourceVersion",   "creationTimestamp",          "generation",
    "managedFields", "deletionTimestamp", "deletionGracePeriodSeconds", "selfLink",
};

static void strip_server_meta(json_t *obj)
{
    json_t *meta = json_object_get(obj, "metadata");
    for (size_t i = 0; json_is_object(meta) && i < sizeof server_meta / sizeof server_meta[0]; i++)
        json_object_del(meta, server_meta[i]);
}

typedef struct apply_req {
    const json_t *live;
    const char *manager;
    bool force;
    const char *api_version;
    tri_status_t *st;
    ap_ctx_t c;
    mf_list_t mf;
    json_t *cfg;    /* the applied config without server-owned metadata */
    json_t *cur;    /* live without managedFields, or {} */
    json_t *merged; /* the result */
    json_t *last;   /* the applier's previous set, or NULL */
    long own;       /* index of the applier's entry */
} apply_req_t;

static json_t *apply_fail(apply_req_t *r, int code, const char *reason, const char *what)
{
    if (code == 500)
        tri_status_set(r->st, 500, "InternalError", "apply: out of memory");
    else
        tri_status_set(r->st, code, reason, "%s", what);
    return NULL;
}

/* Checks the request and sets up cfg, cur and the live entries. NULL on success. */
static const char *apply_prepare(apply_req_t *r, const json_t *applied, int *code)
{
    *code = 400;
    if (!r->manager || !r->manager[0])
        return "fieldManager is required for apply requests";
    if (!json_is_object(applied))
        return "the apply patch must be a JSON object";
    if (r->live && !json_is_object(r->live))
        return "the live object is not a JSON object";
    if (!tri_codec_depth_ok(applied, TRI_CODEC_MAX_DEPTH) ||
        (r->live && !tri_codec_depth_ok(r->live, TRI_CODEC_MAX_DEPTH)))
        return "the object nests deeper than 100 levels";
    const json_t *mf = json_object_get(json_object_get(applied, "metadata"), "managedFields");
    if (mf && !json_is_null(mf))
        return "metadata.managedFields must be nil";
    *code = 500;
    r->cfg = json_deep_copy(applied);
    r->cur = copy_without_managed_fields(r->live);
    if (!r->cfg || !r->cur)
        return "out of memory";
    strip_server_meta(r->cfg);
    const json_t *live_mf = json_object_get(json_object_get(r->live, "metadata"), "managedFields");
    int rc = mf_decode(live_mf, &r->mf);
    if (rc == TRI_ENOMEM)
        return "out of memory";
    return NULL;
}

/* The applier's new set replaces its entry; remembers the previous one in r->last. */
static int apply_own_entry(apply_req_t *r)
{
    json_t *set = json_object();
    if (!set)
        return ap_oom(&r->c);
    r->c.strict = true;
    int rc = fs_build_fields(&r->c, r->cfg, set, MAP_STRUCT);
    r->c.strict = false;
    if (rc) {
        json_decref(set);
        return rc;
    }
    fs_compact(set);
    fs_strip_meta(set);
    r->own = mf_find(&r->mf, r->manager, true, NULL, NULL);
    if (r->own < 0) {
        r->own = mf_add(&r->mf, r->manager, true, r->api_version, NULL, set);
        return r->own < 0 ? ap_oom(&r->c) : 0;
    }
    mf_entry_t *e = &r->mf.v[r->own];
    char *av = dup_or_null(r->api_version);
    if (r->api_version && !av) {
        json_decref(set);
        return ap_oom(&r->c);
    }
    free(e->api_version);
    e->api_version = av;
    r->last = e->set;
    e->set = set;
    return 0;
}

static int apply_prune(apply_req_t *r)
{
    if (!r->last || json_object_size(r->last) == 0)
        return 0;
    json_t *owned = json_object();
    int rc = owned ? 0 : TRI_ENOMEM;
    for (size_t i = 0; rc == 0 && i < r->mf.n; i++)
        rc = fs_union_into(owned, r->mf.v[i].set);
    if (rc == 0)
        rc = prune_fields(&r->c, r->merged, r->last, owned, MAP_STRUCT);
    json_decref(owned);
    return rc && !r->c.err ? ap_oom(&r->c) : rc;
}

/* ---------- kubectl's client-side apply annotation ---------- */

/* kubectl apply (client-side) keeps its last config in this annotation; server-side
 * apply by the "kubectl" manager reads it to take over without conflicts and keeps
 * it current (the apiserver's lastAppliedManager and lastAppliedUpdater). */
#define LAST_APPLIED "kubectl.kubernetes.io/last-applied-configuration"
#define KUBECTL_MANAGER "kubectl"

static json_t *annotations_of(const json_t *obj)
{
    return json_object_get(json_object_get(obj, "metadata"), "annotations");
}

/* The fields the annotation sets to the value the live object still has: conflicts
 * on those are the applier's own earlier client-side apply. NULL when none. */
static json_t *last_applied_allowed(apply_req_t *r)
{
    const char *text = json_string_value(json_object_get(annotations_of(r->live), LAST_APPLIED));
    json_t *la = text && text[0] ? json_loads(text, 0, NULL) : NULL;
    json_t *set = json_object(), *chg = NULL, *rem = NULL, *allowed = NULL;
    ap_ctx_t c = {.kind = r->c.kind};
    if (json_is_object(la) && set && tri_codec_depth_ok(la, TRI_CODEC_MAX_DEPTH) &&
        fs_build_fields(&c, la, set, MAP_STRUCT) == 0 &&
        cmp_objects(&c, r->cur, la, &chg, &rem) == 0) {
        fs_compact(set);
        fs_strip_meta(set);
        allowed = fs_diff(set, chg);
    }
    json_decref(la);
    json_decref(set);
    json_decref(chg);
    json_decref(rem);
    return allowed;
}

/* For the "kubectl" manager: conflicts the annotation allows are dropped. True when
 * none is left (the apply then proceeds as forced, with every conflict moving);
 * otherwise sets[] is narrowed to the conflicts to report. */
static bool conflicts_allowed(apply_req_t *r, json_t **sets)
{
    json_t *allowed = strcmp(r->manager, KUBECTL_MANAGER) == 0 ? last_applied_allowed(r) : NULL;
    json_t **rest = allowed ? calloc(r->mf.n + 1, sizeof *rest) : NULL;
    bool left = false, ok = rest != NULL;
    for (size_t i = 0; ok && i < r->mf.n; i++) {
        if (sets[i] && !(rest[i] = fs_diff(sets[i], allowed)))
            ok = false;
        left |= rest[i] && json_object_size(rest[i]) > 0;
    }
    for (size_t i = 0; ok && left && i < r->mf.n; i++) {
        json_decref(sets[i]);
        sets[i] = rest[i] && json_object_size(rest[i]) > 0 ? json_incref(rest[i]) : NULL;
    }
    for (size_t i = 0; rest && i < r->mf.n; i++)
        json_decref(rest[i]);
    free(rest);
    json_decref(allowed);
    return ok && !left;
}

/* After a successful apply by "kubectl": the annotation, when present, becomes the
 * applied config (without the annotation), as Go encodes it: sorted keys, newline. */
static int apply_update_last_applied(apply_req_t *r, const json_t *applied)
{
    json_t *ann = annotations_of(r->merged);
    if (strcmp(r->manager, KUBECTL_MANAGER) != 0 || !json_object_get(ann, LAST_APPLIED))
        return 0;
    json_t *copy = json_deep_copy(applied);
    json_t *meta = json_object_get(copy, "metadata");
    json_t *cann = json_object_get(meta, "annotations");
    json_object_del(cann, LAST_APPLIED);
    if (json_is_object(cann) && json_object_size(cann) == 0)
        json_object_del(meta, "annotations");
    char *js = copy ? json_dumps(copy, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
    char *text = NULL;
    if (js && asprintf(&text, "%s\n", js) < 0)
        text = NULL;
    int rc =
        text && json_object_set_new(ann, LAST_APPLIED, json_string(text)) == 0 ? 0 : TRI_ENOMEM;
    free(text);
    free(js);
    json_decref(copy);
    return rc;
}

/* Conflicts with the other entries over chg; with force (or none) they move to the
 * applier, and removed fields leave every other entry. 1 when refused with a 409. */
static int apply_ownership(apply_req_t *r, const json_t *chg, const json_t *rem)
{
    json_t **sets = calloc(r->mf.n + 1, sizeof *sets);
    bool any = false;
    int rc = sets ? 0 : TRI_ENOMEM;
    for (size_t i = 0; rc == 0 && i < r->mf.n; i++) {
        if ((long)i == r->own)
            continue;
        json_t *x = fs_intersect(r->mf.v[i].set, chg);
        if (!x)
            rc = TRI_ENOMEM;
        else if (json_object_size(x) == 0)
            json_decref(x);
        else
            sets[i] = x, any = true;
    }
    if (rc == 0 && any && !r->force && !conflicts_allowed(r, sets)) {
        conflict_status(&r->mf, sets, r->st);
        rc = 1;
    }
    for (size_t i = 0; rc == 0 && i < r->mf.n; i++) {
        if ((long)i == r->own)
            continue;
        if (sets[i])
            rc = fs_subtract(&r->mf.v[i].set, sets[i]);
        if (rc == 0)
            rc = fs_subtract(&r->mf.v[i].set, rem);
    }
    for (size_t i = 0; sets && i < r->mf.n; i++)
        json_decref(sets[i]);
    free(sets);
    return rc;
}

static void apply_set_type(apply_req_t *r, const char *kind)
{
    if (r->api_version && !json_object_get(r->merged, "apiVersion"))
        json_object_set_new(r->merged, "apiVersion", json_string(r->api_version));
    if (kind && !json_object_get(r->merged, "kind"))
        json_object_set_new(r->merged, "kind", json_string(kind));
}

/* The new object, or a copy of live when neither it nor its managedFields changed. */
static json_t *apply_result(apply_req_t *r, bool changed)
{
    mf_entry_t *own = &r->mf.v[r->own];
    bool same_set = r->last && json_equal(r->last, own->set);
    if (changed || !own->time) {
        char now[21];
        tri_rfc3339_now(now);
        if (mf_set_time(own, now))
            return NULL;
    }
    mf_drop_empty(&r->mf);
    if (mf_cap(&r->mf) || mf_store(r->merged, &r->mf))
        return NULL;
    if (!changed && same_set && r->live) {
        const json_t *a = json_object_get(json_object_get(r->live, "metadata"), "managedFields");
        const json_t *b = json_object_get(json_object_get(r->merged, "metadata"), "managedFields");
        if ((!a && !b) || (a && b && json_equal(a, b)))
            return json_deep_copy(r->live);
    }
    return json_incref(r->merged);
}

static void apply_req_free(apply_req_t *r)
{
    mf_free(&r->mf);
    json_decref(r->cfg);
    json_decref(r->cur);
    json_decref(r->merged);
    json_decref(r->last);
}

json_t *tri_apply(const json_t *live, const json_t *applied, const char *manager, bool force,
                  const char *kind, const char *api_version, tri_status_t *st)
{
    apply_req_t r = {.live = live,
                     .manager = manager,
                     .force = force,
                     .api_version = api_version,
                     .st = st,
                     .own = -1};
    json_t *out = NULL, *chg = NULL, *rem = NULL;
    r.c.kind = kind ? kind : json_string_value(json_object_get(applied, "kind"));
    int code;
    const char *why = apply_prepare(&r, applied, &code);
    if (why) {
        apply_fail(&r, code, "BadRequest", why);
        goto done;
    }
    if (apply_own_entry(&r) == 0 && (r.merged = merge_value(&r.c, r.cur, r.cfg, false)) != NULL) {
        apply_set_type(&r, r.c.kind);
        if (apply_prune(&r) == 0)
            cmp_objects(&r.c, r.cur, r.merged, &chg, &rem);
    }
    if (r.c.err) {
        char msg[sizeof r.c.msg + 96];
        snprintf(msg, sizeof msg, "failed to create typed patch object (%s, Kind=%s): %s",
                 api_version ? api_version : "", r.c.kind ? r.c.kind : "", r.c.msg);
        apply_fail(&r, r.c.err == TRI_EINVAL ? 400 : 500, "BadRequest", msg);
        goto done;
    }
    int rc = apply_ownership(&r, chg, rem);
    rc = rc ? rc : apply_update_last_applied(&r, applied);
    if (rc == 0) {
        out = apply_result(&r, !tri_codec_json_equal(r.cur, r.merged));
        rc = out ? 0 : TRI_ENOMEM;
    }
    if (rc < 0)
        apply_fail(&r, 500, NULL, NULL);
done:
    json_decref(chg);
    json_decref(rem);
    apply_req_free(&r);
    return out;
}

/* ---------- update ---------- */

/* [{}]: the documented way to clear managedFields through a non-apply write. */
static bool mf_is_reset(const json_t *mf)
{
    return json_is_array(mf) && json_array_size(mf) == 1 && json_is_object(json_array_get(mf, 0)) &&
           json_object_size(json_array_get(mf, 0)) == 0;
}

/* The entries the write starts from (decodeLiveOrNew). */
static void update_base(const json_t *given, const json_t *old, mf_list_t *mf)
{
    memset(mf, 0, sizeof *mf);
    if (mf_is_reset(given))
        return;
    if (json_array_size(given) > 0 && mf_decode(given, mf) == 0 && mf->n > 0)
        return;
    mf_free(mf);
    const json_t *old_mf = json_object_get(json_object_get(old, "metadata"), "managedFields");
    if (mf_decode(old_mf, mf) != 0)
        mf_free(mf);
}

static int update_record(mf_list_t *mf, const json_t *chg, const json_t *rem, const char *manager,
                         const char *api_version)
{
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < mf->n; i++) {
        rc = fs_subtract(&mf->v[i].set, chg);
        rc = rc ? rc : fs_subtract(&mf->v[i].set, rem);
    }
    if (rc || json_object_size(chg) == 0)
        return rc;
    long own = mf_find(mf, manager, false, api_version, NULL);
    if (own < 0)
        own = mf_add(mf, manager, false, api_version, NULL, NULL);
    if (own < 0)
        return TRI_ENOMEM;
    char now[21];
    tri_rfc3339_now(now);
    rc = fs_union_into(mf->v[own].set, chg);
    return rc ? rc : mf_set_time(&mf->v[own], now);
}

void tri_managed_fields_update(json_t *obj, const json_t *old, const char *manager,
                               const char *api_version)
{
    json_t *meta = json_object_get(obj, "metadata");
    if (!json_is_object(obj) || !json_is_object(meta))
        return;
    const char *mgr = manager && manager[0] ? manager : TRI_APPLY_UNKNOWN_MANAGER;
    ap_ctx_t c = {.kind = json_string_value(json_object_get(obj, "kind"))};
    mf_list_t mf;
    json_t *a = NULL, *b = NULL, *chg = NULL, *rem = NULL;
    int rc = TRI_EINVAL;
    if (!tri_codec_depth_ok(obj, TRI_CODEC_MAX_DEPTH) ||
        (old && !tri_codec_depth_ok(old, TRI_CODEC_MAX_DEPTH))) {
        memset(&mf, 0, sizeof mf);
        goto done;
    }
    update_base(json_object_get(meta, "managedFields"), old, &mf);
    a = copy_without_managed_fields(json_is_object(old) ? old : NULL);
    b = copy_without_managed_fields(obj);
    rc = a && b ? cmp_objects(&c, a, b, &chg, &rem) : TRI_ENOMEM;
    rc = rc ? rc : update_record(&mf, chg, rem, mgr, api_version);
    if (rc == 0) {
        mf_drop_empty(&mf);
        rc = mf_cap(&mf);
    }
    rc = rc ? rc : mf_store(obj, &mf);
done:
    /* As the apiserver's UpdateNoErrors: never fail the write, drop what we cannot
     * track rather than keep entries that no longer describe the object. */
    if (rc)
        json_object_del(meta, "managedFields");
    mf_free(&mf);
    json_decref(a);
    json_decref(b);
    json_decref(chg);
    json_decref(rem);
}
