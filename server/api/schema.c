/* The JSON view of the protobuf schema tables (include/triarch/schema.h).
 *
 * protobuf_schema.c describes each kind as protobuf messages: field numbers, JSON
 * names and how a wire value becomes JSON. This file reads the same tables as JSON
 * sees them: a TRI_PB_MAP_* is an object with free keys, a Quantity or IntOrString
 * is a scalar, an inline message's fields belong to the parent, and a message with
 * no tabled fields (a status not decoded) or a RawExtension is free-form. The unknown-field walk
 * lives here too, so meta.c only decides what to do with each unknown path.
 */
#include <stdint.h>
#include <string.h>

#include "codec_internal.h"
#include "protobuf_schema.h"
#include "triarch/errors.h"
#include "triarch/schema.h"
#include "triarch/util.h"

/* Inline messages nest at most twice in the tables (EphemeralContainer inlines
 * Container); the cap only bounds the recursion. */
#define MAX_INLINE_DEPTH 4

const tri_schema_t *tri_schema_find(const char *api_version, const char *kind)
{
    return tri_pb_schema_lookup(api_version, kind);
}

const char *tri_schema_name(const tri_schema_t *s)
{
    return s ? s->name : "";
}

static void field_view(const tri_pb_field_t *pf, tri_schema_field_t *out)
{
    memset(out, 0, sizeof *out);
    out->json = pf->json;
    out->array = (pf->flags & TRI_PB_REPEATED) != 0;
    out->keep_zero = (pf->flags & TRI_PB_KEEP_ZERO) != 0;
    switch (pf->type) {
    case TRI_PB_STRING: out->type = TRI_SCHEMA_STRING; break;
    case TRI_PB_BYTES: out->type = TRI_SCHEMA_BYTES; break;
    case TRI_PB_BOOL: out->type = TRI_SCHEMA_BOOLEAN; break;
    case TRI_PB_INT32: out->type = TRI_SCHEMA_INTEGER; break;
    case TRI_PB_INT64:
        out->type = TRI_SCHEMA_INTEGER;
        out->int64 = true;
        break;
    case TRI_PB_TIME:
    case TRI_PB_MICROTIME: out->type = TRI_SCHEMA_TIME; break;
    case TRI_PB_RAW_EXTENSION: out->type = TRI_SCHEMA_ANY; break;
    case TRI_PB_INT_OR_STRING: out->type = TRI_SCHEMA_INT_OR_STRING; break;
    case TRI_PB_QUANTITY: out->type = TRI_SCHEMA_QUANTITY; break;
    case TRI_PB_MAP_STRING:
        out->map = true;
        out->type = TRI_SCHEMA_STRING;
        break;
    case TRI_PB_MAP_BYTES:
        out->map = true;
        out->type = TRI_SCHEMA_BYTES;
        break;
    case TRI_PB_MAP_QUANTITY:
        out->map = true;
        out->type = TRI_SCHEMA_QUANTITY;
        break;
    case TRI_PB_MESSAGE:
        if (pf->message == NULL || pf->message->nfields == 0) {
            out->type = TRI_SCHEMA_ANY;
        } else {
            out->type = TRI_SCHEMA_OBJECT;
            out->object = pf->message;
        }
        break;
    }
}

static bool is_inline(const tri_pb_field_t *pf)
{
    return (pf->flags & TRI_PB_INLINE) != 0 && pf->message != NULL;
}

static int foreach_depth(const tri_schema_t *s, tri_schema_field_cb cb, void *data, int depth)
{
    if (s == NULL || depth > MAX_INLINE_DEPTH)
        return 0;
    for (size_t i = 0; i < s->nfields; i++) {
        const tri_pb_field_t *pf = &s->fields[i];
        int rc;
        if (is_inline(pf)) {
            rc = foreach_depth(pf->message, cb, data, depth + 1);
        } else {
            tri_schema_field_t f;
            field_view(pf, &f);
            rc = cb(&f, data);
        }
        if (rc)
            return rc;
    }
    return 0;
}

int tri_schema_foreach(const tri_schema_t *s, tri_schema_field_cb cb, void *data)
{
    return foreach_depth(s, cb, data, 0);
}

static const tri_pb_field_t *lookup_depth(const tri_schema_t *s, const char *json, int depth)
{
    if (s == NULL || depth > MAX_INLINE_DEPTH)
        return NULL;
    for (size_t i = 0; i < s->nfields; i++) {
        const tri_pb_field_t *pf = &s->fields[i];
        if (is_inline(pf)) {
            const tri_pb_field_t *in = lookup_depth(pf->message, json, depth + 1);
            if (in)
                return in;
        } else if (strcmp(pf->json, json) == 0) {
            return pf;
        }
    }
    return NULL;
}

int tri_schema_lookup(const tri_schema_t *s, const char *json, tri_schema_field_t *out)
{
    const tri_pb_field_t *pf = lookup_depth(s, json, 0);
    if (pf == NULL)
        return TRI_ENOENT;
    field_view(pf, out);
    return 0;
}

/* ---------- unknown fields ---------- */

typedef struct walk {
    tri_buf_t path; /* NUL-terminated at path.len */
    tri_schema_unknown_cb cb;
    void *data;
} walk_t;

/* Appends to the path and keeps it a C string; returns the length to restore. */
static size_t path_push(walk_t *w, const char *name, size_t index)
{
    size_t saved = w->path.len;
    if (name)
        tri_buf_appendf(&w->path, "%s%s", saved ? "." : "", name);
    else
        tri_buf_appendf(&w->path, "[%zu]", index);
    return saved;
}

static void path_pop(walk_t *w, size_t saved)
{
    w->path.len = saved;
    if (w->path.data)
        w->path.data[saved] = '\0';
}

static int walk_value(walk_t *w, const tri_schema_field_t *f, json_t *v, int depth);

static int walk_object(walk_t *w, const tri_schema_t *s, json_t *obj, int depth)
{
    if (!json_is_object(obj) || depth > TRI_CODEC_MAX_DEPTH)
        return 0;
    const char *k;
    json_t *v;
    void *tmp;
    json_object_foreach_safe(obj, tmp, k, v) {
        tri_schema_field_t f;
        size_t saved = path_push(w, k, 0);
        int rc;
        if (w->path.data == NULL)
            return TRI_ENOMEM;
        if (tri_schema_lookup(s, k, &f) == 0) {
            rc = walk_value(w, &f, v, depth + 1);
        } else if (s == &tri_pb_object_meta && strcmp(k, "managedFields") == 0) {
            rc = 0; /* ObjectMeta's field 17, left out of the protobuf table (its comment) */
        } else {
            rc = w->cb(w->path.data, w->data);
            if (rc == 1) {
                json_object_del(obj, k);
                rc = 0;
            }
        }
        path_pop(w, saved);
        if (rc < 0)
            return rc;
    }
    return 0;
}

static int walk_value(walk_t *w, const tri_schema_field_t *f, json_t *v, int depth)
{
    if (f->type != TRI_SCHEMA_OBJECT || f->map)
        return 0; /* scalars, free-form values and maps (whose keys are data) */
    if (!f->array)
        return walk_object(w, f->object, v, depth);
    if (!json_is_array(v))
        return 0;
    for (size_t i = 0; i < json_array_size(v); i++) {
        size_t saved = path_push(w, NULL, i);
        int rc = w->path.data ? walk_object(w, f->object, json_array_get(v, i), depth + 1)
                              : TRI_ENOMEM;
        path_pop(w, saved);
        if (rc < 0)
            return rc;
    }
    return 0;
}

int tri_schema_walk_unknown(const tri_schema_field_t *f, json_t *value, const char *prefix,
                            tri_schema_unknown_cb cb, void *data)
{
    walk_t w = {.cb = cb, .data = data};
    int rc = tri_buf_appendf(&w.path, "%s", prefix ? prefix : "");
    if (rc == 0)
        rc = walk_value(&w, f, value, 0);
    tri_buf_free(&w.path);
    return rc;
}

/* ---------- OpenAPI ---------- */

#define OBJECT_META_DEF "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"
/* Messages nest about 12 deep (Deployment ... HTTPGetAction); the cap only bounds
 * the recursion should a table ever refer to itself. */
#define MAX_OPENAPI_DEPTH 32

/* Lists that strategic merge patch merges by key, from the patchStrategy and
 * patchMergeKey struct tags of k8s.io/api (conditions lists are handled by rule:
 * every built-in one merges by type). */
static const struct merge_rule {
    const char *message, *field, *strategy, *key;
} merge_rules[] = {
    {"PodSpec", "volumes", "merge,retainKeys", "name"},
    {"PodSpec", "initContainers", "merge", "name"},
    {"PodSpec", "containers", "merge", "name"},
    {"PodSpec", "ephemeralContainers", "merge", "name"},
    {"PodSpec", "imagePullSecrets", "merge", "name"},
    {"PodSpec", "hostAliases", "merge", "ip"},
    {"PodSpec", "topologySpreadConstraints", "merge", "topologyKey"},
    {"PodSpec", "schedulingGates", "merge", "name"},
    {"PodSpec", "resourceClaims", "merge,retainKeys", "name"},
    {"Container", "ports", "merge", "containerPort"},
    {"Container", "env", "merge", "name"},
    {"Container", "volumeMounts", "merge", "mountPath"},
    {"Container", "volumeDevices", "merge", "devicePath"},
    {"EphemeralContainer", "ports", "merge", "containerPort"},
    {"EphemeralContainer", "env", "merge", "name"},
    {"EphemeralContainer", "volumeMounts", "merge", "mountPath"},
    {"EphemeralContainer", "volumeDevices", "merge", "devicePath"},
    {"ServiceSpec", "ports", "merge", "port"},
    {"ServiceAccount", "secrets", "merge", "name"},
    {"DeploymentSpec", "strategy", "retainKeys", NULL},
    {"NodeSpec", "podCIDRs", "merge", NULL},
    {"NodeStatus", "addresses", "merge", "type"},
};

typedef struct openapi {
    const char *prefix, *ref_base;
    json_t *defs;
    json_t *building; /* def names being built: a self-reference stops here */
    int depth;
} openapi_t;

static json_t *scalar_schema(tri_schema_type_t t, bool int64)
{
    switch (t) {
    case TRI_SCHEMA_STRING: return json_pack("{s:s}", "type", "string");
    case TRI_SCHEMA_BYTES: return json_pack("{s:s, s:s}", "type", "string", "format", "byte");
    case TRI_SCHEMA_TIME: return json_pack("{s:s, s:s}", "type", "string", "format", "date-time");
    case TRI_SCHEMA_INTEGER:
        return json_pack("{s:s, s:s}", "type", "integer", "format", int64 ? "int64" : "int32");
    case TRI_SCHEMA_BOOLEAN: return json_pack("{s:s}", "type", "boolean");
    case TRI_SCHEMA_INT_OR_STRING:
        return json_pack("{s:s, s:s, s:b}", "type", "string", "format", "int-or-string",
                         "x-kubernetes-int-or-string", 1);
    case TRI_SCHEMA_QUANTITY: return json_pack("{s:s, s:s}", "type", "string", "format", "quantity");
    case TRI_SCHEMA_OBJECT:
    case TRI_SCHEMA_ANY: break;
    }
    return json_pack("{s:s}", "type", "object");
}

static json_t *message_schema(openapi_t *o, const tri_schema_t *s);

static json_t *ref_to(openapi_t *o, const char *name)
{
    tri_buf_t b = {0};
    json_t *ref = NULL;
    if (tri_buf_appendf(&b, "%s%s", o->ref_base, name) == 0)
        ref = json_pack("{s:s}", "$ref", b.data);
    tri_buf_free(&b);
    return ref;
}

/* A reference to the definition of s, made on first use. A name already taken by
 * another message of the same Go name (autoscaling v1 and v2 share names) gets the
 * schema inline instead. */
static json_t *message_ref(openapi_t *o, const tri_schema_t *s)
{
    if (strcmp(s->name, "ObjectMeta") == 0)
        return ref_to(o, OBJECT_META_DEF);
    tri_buf_t name = {0};
    json_t *out = NULL;
    if (tri_buf_appendf(&name, "%s.%s", o->prefix, s->name) != 0)
        goto done;
    json_t *owner = json_object_get(o->building, name.data);
    if (owner != NULL && json_integer_value(owner) != (json_int_t)(intptr_t)s) {
        out = o->depth < MAX_OPENAPI_DEPTH ? message_schema(o, s) : json_object();
        goto done;
    }
    if (owner == NULL) {
        json_object_set_new(o->building, name.data, json_integer((json_int_t)(intptr_t)s));
        json_t *def = message_schema(o, s);
        if (def == NULL)
            goto done;
        json_object_set_new(o->defs, name.data, def);
    }
    out = ref_to(o, name.data);
done:
    tri_buf_free(&name);
    return out;
}

static const struct merge_rule *merge_rule(const tri_schema_t *s, const tri_schema_field_t *f)
{
    for (size_t i = 0; i < sizeof merge_rules / sizeof merge_rules[0]; i++)
        if (strcmp(merge_rules[i].message, s->name) == 0 &&
            strcmp(merge_rules[i].field, f->json) == 0)
            return &merge_rules[i];
    return NULL;
}

static void add_patch_meta(json_t *schema, const tri_schema_t *s, const tri_schema_field_t *f)
{
    const struct merge_rule *m = merge_rule(s, f);
    tri_schema_field_t type_field;
    if (m == NULL && f->array && f->object && strcmp(f->json, "conditions") == 0 &&
        tri_schema_lookup(f->object, "type", &type_field) == 0) {
        static const struct merge_rule conditions = {"", "conditions", "merge", "type"};
        m = &conditions;
    }
    if (m == NULL)
        return;
    if (m->key)
        json_object_set_new(schema, "x-kubernetes-patch-merge-key", json_string(m->key));
    json_object_set_new(schema, "x-kubernetes-patch-strategy", json_string(m->strategy));
}

static json_t *field_schema(openapi_t *o, const tri_schema_field_t *f)
{
    json_t *elem = f->type == TRI_SCHEMA_OBJECT ? message_ref(o, f->object)
                                                : scalar_schema(f->type, f->int64);
    if (elem == NULL || (!f->array && !f->map))
        return elem;
    if (f->map)
        return json_pack("{s:s, s:o}", "type", "object", "additionalProperties", elem);
    return json_pack("{s:s, s:o}", "type", "array", "items", elem);
}

typedef struct props_ctx {
    openapi_t *o;
    const tri_schema_t *s;
    json_t *props;
} props_ctx_t;

static int add_property(const tri_schema_field_t *f, void *data)
{
    props_ctx_t *p = data;
    json_t *schema = field_schema(p->o, f);
    if (schema == NULL)
        return TRI_ENOMEM;
    add_patch_meta(schema, p->s, f);
    json_object_set_new(p->props, f->json, schema);
    return 0;
}

static json_t *message_schema(openapi_t *o, const tri_schema_t *s)
{
    props_ctx_t p = {.o = o, .s = s, .props = json_object()};
    o->depth++;
    int rc = p.props ? tri_schema_foreach(s, add_property, &p) : TRI_ENOMEM;
    o->depth--;
    if (rc != 0) {
        json_decref(p.props);
        return NULL;
    }
    return json_pack("{s:s, s:s, s:o}", "description", s->name, "type", "object", "properties",
                     p.props);
}

json_t *tri_schema_openapi(const tri_schema_t *s, const char *prefix, const char *ref_base,
                           json_t *defs)
{
    openapi_t o = {.prefix = prefix, .ref_base = ref_base, .defs = defs,
                   .building = json_object()};
    json_t *out = o.building ? message_schema(&o, s) : NULL;
    json_decref(o.building);
    return out;
}
