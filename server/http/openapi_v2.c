/* OpenAPI v2 (Swagger 2.0) at /openapi/v2, generated from the registry. kubectl
 * 1.27 and 1.28 fetch it on `create -f` / `apply -f`, asking for the gnostic
 * protobuf (openapi_v2.Document); a 404 fails those commands. They read three things
 * from it: a PATCH operation per kind tagged x-kubernetes-group-version-kind that
 * takes a fieldValidation query parameter (then the server validates, as with v3),
 * and, per kind, a definition tagged x-kubernetes-group-version-kind whose
 * properties drive strategic-merge patch computation (merge keys, via the
 * x-kubernetes-patch-* extensions). Kinds with a schema table (triarch/schema.h)
 * are described field by field from it; a kind is tagged only when every top-level
 * field it has is described; the others are served untagged, so kubectl computes
 * their patches from its compiled-in types (exact for built-in kinds) instead of
 * warning about a missing field or treating an undescribed field's lists as atomic.
 *
 * The document is built once as JSON (served as is when the client does not ask for
 * protobuf) and transcoded to protobuf by a small schema-directed encoder: each
 * Swagger object maps to its message in gnostic's OpenAPIv2.proto; vendor
 * extensions become NamedAny entries whose value is YAML text (compact JSON, which
 * YAML parsers read as flow style). Both encodings are made once per process: the
 * registry is fixed at build time. */
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "internal.h"
#include "triarch/errors.h"
#include "triarch/schema.h"
#include "triarch/util.h"

/* kubectl asks for "...spec.v2@v1.0+protobuf"; a reply must carry the dotted form
 * ("@" is no MIME token character: Go's mime.ParseMediaType refuses it and kubectl
 * fails with "unexpected content after media subtype"), as kube-apiserver sends. */
#define PB_ACCEPT "com.github.proto-openapi.spec.v2"
#define PB_MIME "application/com.github.proto-openapi.spec.v2.v1.0+protobuf"
#define DEF_PREFIX "#/definitions/"
#define META "io.k8s.apimachinery.pkg.apis.meta.v1."
/* The version /version reports (and openapi.c's v3 info). */
#define API_VERSION "v1.32.0"

/* ---------- the Swagger 2.0 document (JSON) ---------- */

/* Definitions every kind refers to. */
static const char *const common_defs[][2] = {
    {META "ObjectMeta",
     "{\"description\":\"ObjectMeta is metadata that all persisted resources must have.\","
     "\"type\":\"object\",\"properties\":{"
     "\"annotations\":{\"type\":\"object\",\"additionalProperties\":{\"type\":\"string\"}},"
     "\"creationTimestamp\":{\"type\":\"string\",\"format\":\"date-time\"},"
     "\"deletionGracePeriodSeconds\":{\"type\":\"integer\",\"format\":\"int64\"},"
     "\"deletionTimestamp\":{\"type\":\"string\",\"format\":\"date-time\"},"
     "\"finalizers\":{\"type\":\"array\",\"items\":{\"type\":\"string\"},"
     "\"x-kubernetes-patch-strategy\":\"merge\"},"
     "\"generateName\":{\"type\":\"string\"},"
     "\"generation\":{\"type\":\"integer\",\"format\":\"int64\"},"
     "\"labels\":{\"type\":\"object\",\"additionalProperties\":{\"type\":\"string\"}},"
     "\"managedFields\":{\"type\":\"array\",\"items\":{}},"
     "\"name\":{\"type\":\"string\"},\"namespace\":{\"type\":\"string\"},"
     "\"ownerReferences\":{\"type\":\"array\",\"items\":{\"$ref\":\"" DEF_PREFIX META
     "OwnerReference\"},\"x-kubernetes-patch-merge-key\":\"uid\","
     "\"x-kubernetes-patch-strategy\":\"merge\"},"
     "\"resourceVersion\":{\"type\":\"string\"},\"selfLink\":{\"type\":\"string\"},"
     "\"uid\":{\"type\":\"string\"}}}"},
    {META "OwnerReference",
     "{\"type\":\"object\",\"required\":[\"apiVersion\",\"kind\",\"name\",\"uid\"],"
     "\"properties\":{\"apiVersion\":{\"type\":\"string\"},"
     "\"blockOwnerDeletion\":{\"type\":\"boolean\"},\"controller\":{\"type\":\"boolean\"},"
     "\"kind\":{\"type\":\"string\"},\"name\":{\"type\":\"string\"},"
     "\"uid\":{\"type\":\"string\"}}}"},
    {META "Patch", "{\"description\":\"Patch is provided to give a concrete name and type to the "
                   "Kubernetes PATCH request body.\",\"type\":\"object\"}"},
    {"io.k8s.api.core.v1.ObjectReference",
     "{\"type\":\"object\",\"properties\":{\"apiVersion\":{\"type\":\"string\"},"
     "\"fieldPath\":{\"type\":\"string\"},\"kind\":{\"type\":\"string\"},"
     "\"name\":{\"type\":\"string\"},\"namespace\":{\"type\":\"string\"},"
     "\"resourceVersion\":{\"type\":\"string\"},\"uid\":{\"type\":\"string\"}}}"},
};

#define S_STRING "{\"type\":\"string\"}"
#define S_TIME "{\"type\":\"string\",\"format\":\"date-time\"}"
#define S_OBJREF "{\"$ref\":\"" DEF_PREFIX "io.k8s.api.core.v1.ObjectReference\"}"
#define S_MAP "{\"type\":\"object\",\"additionalProperties\":{\"type\":\"string\"}}"
/* A list whose elements hold no merge-keyed list: the element schema is left open ({}
 * is "any value" to kubectl), which is exact for patch computation. */
#define S_LIST "{\"type\":\"array\",\"items\":{}}"
#define S_CONDITIONS                                                                               \
    "{\"type\":\"array\",\"items\":{\"type\":\"object\",\"properties\":{\"type\":" S_STRING        \
    ",\"status\":" S_STRING ",\"reason\":" S_STRING ",\"message\":" S_STRING                       \
    ",\"lastHeartbeatTime\":" S_TIME ",\"lastTransitionTime\":" S_TIME "}},"                       \
    "\"x-kubernetes-patch-merge-key\":\"type\",\"x-kubernetes-patch-strategy\":\"merge\"}"

/* Schemas of top-level fields (registry known_fields) that are described here; the
 * kind is matched first, then a NULL kind (any). */
static const struct field_schema {
    const char *kind, *field, *schema;
} field_schemas[] = {
    {"ConfigMap", "data",
     "{\"description\":\"Data contains the configuration data.\",\"type\":\"object\","
     "\"additionalProperties\":{\"type\":\"string\"}}"},
    {"ConfigMap", "binaryData",
     "{\"type\":\"object\",\"additionalProperties\":{\"type\":\"string\",\"format\":\"byte\"}}"},
    {"ConfigMap", "immutable", "{\"type\":\"boolean\"}"},
    {"Namespace", "spec",
     "{\"type\":\"object\",\"properties\":{\"finalizers\":{\"type\":\"array\","
     "\"items\":{\"type\":\"string\"}}}}"},
    {"Namespace", "status",
     "{\"type\":\"object\",\"properties\":{\"phase\":" S_STRING ",\"conditions\":" S_CONDITIONS
     "}}"},
    {"Node", "spec",
     "{\"type\":\"object\",\"properties\":{\"podCIDR\":" S_STRING ",\"podCIDRs\":{\"type\":"
     "\"array\",\"items\":" S_STRING ",\"x-kubernetes-patch-strategy\":\"merge\"},"
     "\"providerID\":" S_STRING ",\"externalID\":" S_STRING ",\"configSource\":{},"
     "\"unschedulable\":{\"type\":\"boolean\"},\"taints\":{"
     "\"type\":\"array\",\"items\":{\"type\":\"object\",\"required\":[\"key\",\"effect\"],"
     "\"properties\":{\"effect\":" S_STRING ",\"key\":" S_STRING ",\"timeAdded\":" S_TIME
     ",\"value\":" S_STRING "}}}}}"},
    {"Node", "status",
     "{\"type\":\"object\",\"properties\":{\"addresses\":{\"type\":\"array\",\"items\":{"
     "\"type\":\"object\",\"properties\":{\"address\":" S_STRING ",\"type\":" S_STRING "}},"
     "\"x-kubernetes-patch-merge-key\":\"type\",\"x-kubernetes-patch-strategy\":\"merge\"},"
     "\"allocatable\":" S_MAP ",\"capacity\":" S_MAP ",\"conditions\":" S_CONDITIONS ","
     "\"config\":{},\"daemonEndpoints\":{},\"features\":{},\"images\":" S_LIST
     ",\"nodeInfo\":{},\"phase\":" S_STRING ",\"runtimeHandlers\":" S_LIST
     ",\"volumesAttached\":" S_LIST ",\"volumesInUse\":{\"type\":\"array\",\"items\":" S_STRING
     "}}}"},
    {"Secret", "data",
     "{\"type\":\"object\",\"additionalProperties\":{\"type\":\"string\",\"format\":\"byte\"}}"},
    {"Secret", "stringData", S_MAP},
    {"Secret", "immutable", "{\"type\":\"boolean\"}"},
    {"ServiceAccount", "secrets",
     "{\"type\":\"array\",\"items\":" S_OBJREF ",\"x-kubernetes-patch-merge-key\":\"name\","
     "\"x-kubernetes-patch-strategy\":\"merge\"}"},
    {"ServiceAccount", "imagePullSecrets",
     "{\"type\":\"array\",\"items\":{\"type\":\"object\",\"properties\":{\"name\":" S_STRING "}}}"},
    {"ServiceAccount", "automountServiceAccountToken", "{\"type\":\"boolean\"}"},
    {"Endpoints", "subsets", S_LIST},
    {"Event", "involvedObject", S_OBJREF},
    {"Event", "related", S_OBJREF},
    {"Event", "source",
     "{\"type\":\"object\",\"properties\":{\"component\":" S_STRING ",\"host\":" S_STRING "}}"},
    {"Event", "series",
     "{\"type\":\"object\",\"properties\":{\"count\":{\"type\":\"integer\",\"format\":"
     "\"int32\"},\"lastObservedTime\":{\"type\":\"string\",\"format\":\"date-time\"}}}"},
    {"Event", "count", "{\"type\":\"integer\",\"format\":\"int32\"}"},
    {"Event", "eventTime", S_TIME},
    {"Event", "firstTimestamp", S_TIME},
    {"Event", "lastTimestamp", S_TIME},
    {NULL, "reason", S_STRING},
    {NULL, "message", S_STRING},
    {NULL, "type", S_STRING},
    {NULL, "action", S_STRING},
    {NULL, "reportingComponent", S_STRING},
    {NULL, "reportingInstance", S_STRING},
};

static const char *field_schema(const char *kind, const char *field)
{
    const char *any = NULL;
    for (size_t i = 0; i < sizeof field_schemas / sizeof field_schemas[0]; i++) {
        const struct field_schema *f = &field_schemas[i];
        if (strcmp(f->field, field) != 0)
            continue;
        if (f->kind != NULL && strcmp(f->kind, kind) == 0)
            return f->schema;
        if (f->kind == NULL)
            any = f->schema;
    }
    return any;
}

static json_t *gvk(const tri_resource_t *r)
{
    return json_pack("{s:s, s:s, s:s}", "group", r->group, "kind", r->kind, "version", r->version);
}

static void def_name(const tri_resource_t *r, char *out, size_t len)
{
    snprintf(out, len, "io.k8s.api.%s.%s.%s", r->group[0] ? r->group : "core", r->version, r->kind);
}

static json_t *def_ref(const char *name)
{
    char ref[320];
    snprintf(ref, sizeof ref, DEF_PREFIX "%s", name);
    return json_pack("{s:s}", "$ref", ref);
}

/* The properties of a kind with a schema table (nested messages added to defs), or
 * NULL when it has none. */
static json_t *table_properties(const tri_resource_t *r, json_t *defs)
{
    json_t *schema = tri_openapi_kind_schema(r, DEF_PREFIX, defs);
    json_t *props = json_incref(json_object_get(schema, "properties"));
    json_decref(schema);
    return props;
}

static json_t *kind_definition(const tri_resource_t *r, json_t *defs)
{
    json_t *props = table_properties(r, defs);
    if (props == NULL)
        props = json_pack("{s:{s:s}, s:{s:s}, s:o}", "apiVersion", "type", "string", "kind",
                          "type", "string", "metadata", def_ref(META "ObjectMeta"));
    size_t nf = sizeof r->known_fields / sizeof r->known_fields[0];
    bool complete = true;
    for (size_t i = 0; props != NULL && i < nf && r->known_fields[i] != NULL; i++) {
        if (json_object_get(props, r->known_fields[i]) != NULL)
            continue; /* described by the schema table */
        const char *s = field_schema(r->kind, r->known_fields[i]);
        json_t *schema = s ? json_loads(s, 0, NULL) : NULL;
        if (schema != NULL)
            json_object_set_new(props, r->known_fields[i], schema);
        else
            complete = false;
    }
    json_t *def =
        json_pack("{s:s, s:s, s:o}", "description", r->kind, "type", "object", "properties", props);
    /* Untagged, kubectl does not find the kind here and computes patches from its
     * compiled-in types. Tagged with a field missing, it would warn "unable to find
     * api field" on every apply; with the field left open, it would treat the field's
     * lists as atomic (no merge keys). */
    if (def != NULL && complete) {
        json_t *gvks = json_array();
        json_array_append_new(gvks, gvk(r));
        json_object_set_new(def, "x-kubernetes-group-version-kind", gvks);
    }
    return def;
}

static json_t *parameter(const char *name, const char *in, bool required)
{
    json_t *p = json_pack("{s:s, s:s, s:s, s:b}", "name", name, "in", in, "type", "string",
                          "uniqueItems", 1);
    if (p != NULL && required)
        json_object_set_new(p, "required", json_true());
    return p;
}

static json_t *patch_operation(const tri_resource_t *r, const char *def)
{
    char op[256], desc[256], tag[160];
    snprintf(op, sizeof op, "patch%s%s", r->namespaced ? "Namespaced" : "", r->kind);
    snprintf(desc, sizeof desc, "partially update the specified %s", r->kind);
    snprintf(tag, sizeof tag, "%s_%s", r->group[0] ? r->group : "core", r->version);
    json_t *params = json_array();
    json_array_append_new(params, json_pack("{s:s, s:s, s:b, s:o}", "name", "body", "in", "body",
                                            "required", 1, "schema", def_ref(META "Patch")));
    static const char *const query[] = {"dryRun", "fieldManager", "fieldValidation", "force",
                                        "pretty"};
    for (size_t i = 0; i < sizeof query / sizeof query[0]; i++)
        json_array_append_new(params, parameter(query[i], "query", false));
    return json_pack(
        "{s:s, s:[s], s:s, s:[ssss], s:[sss], s:[s], s:o, s:{s:{s:s, s:o}, s:{s:s, s:o},"
        " s:{s:s}}, s:s, s:o}",
        "description", desc, "tags", tag, "operationId", op, "consumes",
        "application/json-patch+json", "application/merge-patch+json",
        "application/strategic-merge-patch+json", "application/apply-patch+yaml", "produces",
        "application/json", "application/yaml", "application/vnd.kubernetes.protobuf", "schemes",
        "https", "parameters", params, "responses", "200", "description", "OK", "schema",
        def_ref(def), "201", "description", "Created", "schema", def_ref(def), "401", "description",
        "Unauthorized", "x-kubernetes-action", "patch", "x-kubernetes-group-version-kind", gvk(r));
}

static json_t *path_item(const tri_resource_t *r, const char *def)
{
    json_t *params = json_array();
    json_array_append_new(params, parameter("name", "path", true));
    if (r->namespaced)
        json_array_append_new(params, parameter("namespace", "path", true));
    return json_pack("{s:o, s:o}", "patch", patch_operation(r, def), "parameters", params);
}

static json_t *swagger_doc(void)
{
    json_t *paths = json_object(), *defs = json_object();
    for (size_t i = 0; i < sizeof common_defs / sizeof common_defs[0]; i++)
        json_object_set_new(defs, common_defs[i][0], json_loads(common_defs[i][1], 0, NULL));
    size_t n;
    const tri_resource_t *const *all = tri_registry_all(&n);
    for (size_t i = 0; i < n; i++) {
        const tri_resource_t *r = all[i];
        char def[256], path[320];
        def_name(r, def, sizeof def);
        if (json_object_get(defs, def) != NULL)
            continue; /* one row per group/version/kind */
        if (r->group[0])
            snprintf(path, sizeof path, "/apis/%s/%s/%s%s/{name}", r->group, r->version,
                     r->namespaced ? "namespaces/{namespace}/" : "", r->plural);
        else
            snprintf(path, sizeof path, "/api/%s/%s%s/{name}", r->version,
                     r->namespaced ? "namespaces/{namespace}/" : "", r->plural);
        json_object_set_new(defs, def, kind_definition(r, defs));
        json_object_set_new(paths, path, path_item(r, def));
    }
    return json_pack("{s:s, s:{s:s, s:s}, s:o, s:o}", "swagger", "2.0", "info", "title",
                     "Kubernetes", "version", API_VERSION, "paths", paths, "definitions", defs);
}

/* ---------- protobuf encoding ---------- */

enum { PB_VARINT = 0, PB_LEN = 2 };

static int pb_varint(tri_buf_t *b, uint64_t v)
{
    uint8_t tmp[10];
    size_t n = 0;
    do {
        tmp[n] = (uint8_t)(v & 0x7f);
        v >>= 7;
        if (v)
            tmp[n] |= 0x80;
        n++;
    } while (v);
    return tri_buf_append(b, tmp, n);
}

static int pb_bytes(tri_buf_t *b, unsigned field, const void *p, size_t n)
{
    int rc = pb_varint(b, (uint64_t)field << 3 | PB_LEN);
    if (rc == 0)
        rc = pb_varint(b, n);
    if (rc == 0 && n > 0)
        rc = tri_buf_append(b, p, n);
    return rc;
}

static int pb_string(tri_buf_t *b, unsigned field, const json_t *v)
{
    const char *s = json_string_value(v);
    return s && s[0] ? pb_bytes(b, field, s, strlen(s)) : 0; /* proto3: "" is absent */
}

static int pb_bool(tri_buf_t *b, unsigned field, const json_t *v)
{
    if (!json_is_true(v))
        return 0; /* proto3: false is absent */
    int rc = pb_varint(b, (uint64_t)field << 3 | PB_VARINT);
    return rc ? rc : pb_varint(b, 1);
}

/* A string, or each string of an array, as a repeated string field. */
static int pb_strings(tri_buf_t *b, unsigned field, const json_t *v)
{
    if (!json_is_array(v))
        return pb_string(b, field, v);
    size_t i;
    const json_t *e;
    json_array_foreach(v, i, e)
    {
        const char *s = json_string_value(e);
        int rc = s ? pb_bytes(b, field, s, strlen(s)) : 0;
        if (rc)
            return rc;
    }
    return 0;
}

typedef int (*pb_enc_fn)(tri_buf_t *b, const json_t *v);

/* Field `field` holding the message fn encodes from v (emitted even when empty:
 * an empty `properties` still tells a kind from a map). */
static int pb_message(tri_buf_t *b, unsigned field, pb_enc_fn fn, const json_t *v)
{
    tri_buf_t sub = {0};
    int rc = fn(&sub, v);
    if (rc == 0)
        rc = pb_bytes(b, field, sub.data, sub.len);
    tri_buf_free(&sub);
    return rc;
}

/* Any{yaml = 2}: YAML 1.2 is a superset of JSON, so compact JSON is the YAML text. */
static int enc_any(tri_buf_t *b, const json_t *v)
{
    char *s = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
    if (s == NULL)
        return TRI_ENOMEM;
    int rc = pb_bytes(b, 2, s, strlen(s));
    free(s);
    return rc;
}

/* NamedX{name = 1, value = 2} for each key of obj accepted by want (NULL: all). */
static int pb_named(tri_buf_t *b, unsigned field, const json_t *obj, pb_enc_fn fn,
                    bool (*want)(const char *key))
{
    const char *key;
    const json_t *v;
    json_object_foreach((json_t *)obj, key, v)
    {
        if (want != NULL && !want(key))
            continue;
        tri_buf_t pair = {0};
        int rc = pb_bytes(&pair, 1, key, strlen(key));
        if (rc == 0)
            rc = pb_message(&pair, 2, fn, v);
        if (rc == 0)
            rc = pb_bytes(b, field, pair.data, pair.len);
        tri_buf_free(&pair);
        if (rc)
            return rc;
    }
    return 0;
}

static bool is_extension(const char *key)
{
    return strncmp(key, "x-", 2) == 0;
}

static int pb_extensions(tri_buf_t *b, unsigned field, const json_t *obj)
{
    return pb_named(b, field, obj, enc_any, is_extension);
}

static int enc_schema(tri_buf_t *b, const json_t *s);

static int enc_schemas_named(tri_buf_t *b, const json_t *obj)
{
    return pb_named(b, 1, obj, enc_schema, NULL); /* Properties / Definitions */
}

static int enc_additional(tri_buf_t *b, const json_t *v)
{
    return json_is_object(v) ? pb_message(b, 1, enc_schema, v) : pb_bool(b, 2, v);
}

static int enc_items(tri_buf_t *b, const json_t *v)
{
    if (json_is_object(v))
        return pb_message(b, 1, enc_schema, v);
    size_t i;
    const json_t *e;
    json_array_foreach(v, i, e)
    {
        int rc = pb_message(b, 1, enc_schema, e);
        if (rc)
            return rc;
    }
    return 0;
}

static int enc_type(tri_buf_t *b, const json_t *v)
{
    return pb_strings(b, 1, v); /* TypeItem{value = 1} */
}

/* Schema: _ref 1, format 2, title 3, description 4, required 19,
 * additional_properties 21, type 22, items 23, properties 25, read_only 27,
 * vendor_extension 31. */
static int enc_schema(tri_buf_t *b, const json_t *s)
{
    const json_t *v;
    int rc = pb_string(b, 1, json_object_get(s, "$ref"));
    rc = rc ? rc : pb_string(b, 2, json_object_get(s, "format"));
    rc = rc ? rc : pb_string(b, 3, json_object_get(s, "title"));
    rc = rc ? rc : pb_string(b, 4, json_object_get(s, "description"));
    rc = rc ? rc : pb_strings(b, 19, json_object_get(s, "required"));
    if (rc == 0 && (v = json_object_get(s, "additionalProperties")) != NULL)
        rc = pb_message(b, 21, enc_additional, v);
    if (rc == 0 && (v = json_object_get(s, "type")) != NULL)
        rc = pb_message(b, 22, enc_type, v);
    if (rc == 0 && (v = json_object_get(s, "items")) != NULL)
        rc = pb_message(b, 23, enc_items, v);
    if (rc == 0 && (v = json_object_get(s, "properties")) != NULL)
        rc = pb_message(b, 25, enc_schemas_named, v);
    rc = rc ? rc : pb_bool(b, 27, json_object_get(s, "readOnly"));
    return rc ? rc : pb_extensions(b, 31, s);
}

/* Query and path parameters share a layout up to `type`, which is 6 in
 * QueryParameterSubSchema (after allow_empty_value 5) and 5 in PathParameterSubSchema;
 * unique_items is 20 and 19. */
static int enc_simple_param(tri_buf_t *b, const json_t *p, unsigned f_type, unsigned f_unique)
{
    int rc = pb_bool(b, 1, json_object_get(p, "required"));
    rc = rc ? rc : pb_string(b, 2, json_object_get(p, "in"));
    rc = rc ? rc : pb_string(b, 3, json_object_get(p, "description"));
    rc = rc ? rc : pb_string(b, 4, json_object_get(p, "name"));
    rc = rc ? rc : pb_string(b, f_type, json_object_get(p, "type"));
    return rc ? rc : pb_bool(b, f_unique, json_object_get(p, "uniqueItems"));
}

static int enc_query_param(tri_buf_t *b, const json_t *p)
{
    return enc_simple_param(b, p, 6, 20);
}

static int enc_path_param(tri_buf_t *b, const json_t *p)
{
    return enc_simple_param(b, p, 5, 19);
}

static int enc_header_param(tri_buf_t *b, const json_t *p)
{
    return enc_simple_param(b, p, 5, 19); /* HeaderParameterSubSchema: same as path */
}

/* NonBodyParameter: header 1, form data 2, query 3, path 4. */
static int enc_non_body(tri_buf_t *b, const json_t *p)
{
    const char *in = json_string_value(json_object_get(p, "in"));
    if (in && strcmp(in, "query") == 0)
        return pb_message(b, 3, enc_query_param, p);
    if (in && strcmp(in, "path") == 0)
        return pb_message(b, 4, enc_path_param, p);
    if (in && strcmp(in, "header") == 0)
        return pb_message(b, 1, enc_header_param, p);
    return TRI_EINVAL;
}

/* BodyParameter: description 1, name 2, in 3, required 4, schema 5. */
static int enc_body_param(tri_buf_t *b, const json_t *p)
{
    int rc = pb_string(b, 1, json_object_get(p, "description"));
    rc = rc ? rc : pb_string(b, 2, json_object_get(p, "name"));
    rc = rc ? rc : pb_string(b, 3, json_object_get(p, "in"));
    rc = rc ? rc : pb_bool(b, 4, json_object_get(p, "required"));
    const json_t *s = json_object_get(p, "schema");
    return rc || s == NULL ? rc : pb_message(b, 5, enc_schema, s);
}

/* Parameter: body 1, non-body 2. */
static int enc_parameter(tri_buf_t *b, const json_t *p)
{
    const char *in = json_string_value(json_object_get(p, "in"));
    if (in && strcmp(in, "body") == 0)
        return pb_message(b, 1, enc_body_param, p);
    return pb_message(b, 2, enc_non_body, p);
}

/* ParametersItem{parameter = 1}, repeated under `field`. */
static int enc_parameters_item(tri_buf_t *b, const json_t *p)
{
    return pb_message(b, 1, enc_parameter, p);
}

static int pb_parameters(tri_buf_t *b, unsigned field, const json_t *list)
{
    size_t i;
    const json_t *p;
    json_array_foreach(list, i, p)
    {
        int rc = pb_message(b, field, enc_parameters_item, p);
        if (rc)
            return rc;
    }
    return 0;
}

/* SchemaItem{schema = 1} */
static int enc_schema_item(tri_buf_t *b, const json_t *s)
{
    return pb_message(b, 1, enc_schema, s);
}

/* Response: description 1, schema 2. */
static int enc_response(tri_buf_t *b, const json_t *r)
{
    int rc = pb_string(b, 1, json_object_get(r, "description"));
    const json_t *s = json_object_get(r, "schema");
    rc = rc || s == NULL ? rc : pb_message(b, 2, enc_schema_item, s);
    return rc ? rc : pb_extensions(b, 5, r);
}

/* ResponseValue{response = 1} */
static int enc_response_value(tri_buf_t *b, const json_t *r)
{
    return pb_message(b, 1, enc_response, r);
}

/* Responses{response_code = 1 (NamedResponseValue)} */
static int enc_responses(tri_buf_t *b, const json_t *r)
{
    return pb_named(b, 1, r, enc_response_value, NULL);
}

/* Operation: tags 1, description 3, operation_id 5, produces 6, consumes 7,
 * parameters 8, responses 9, schemes 10, vendor_extension 13. */
static int enc_operation(tri_buf_t *b, const json_t *op)
{
    const json_t *v;
    int rc = pb_strings(b, 1, json_object_get(op, "tags"));
    rc = rc ? rc : pb_string(b, 3, json_object_get(op, "description"));
    rc = rc ? rc : pb_string(b, 5, json_object_get(op, "operationId"));
    rc = rc ? rc : pb_strings(b, 6, json_object_get(op, "produces"));
    rc = rc ? rc : pb_strings(b, 7, json_object_get(op, "consumes"));
    rc = rc ? rc : pb_parameters(b, 8, json_object_get(op, "parameters"));
    if (rc == 0 && (v = json_object_get(op, "responses")) != NULL)
        rc = pb_message(b, 9, enc_responses, v);
    rc = rc ? rc : pb_strings(b, 10, json_object_get(op, "schemes"));
    return rc ? rc : pb_extensions(b, 13, op);
}

/* PathItem: get 2, put 3, post 4, delete 5, patch 8, parameters 9. */
static int enc_path_item(tri_buf_t *b, const json_t *item)
{
    static const struct {
        const char *method;
        unsigned field;
    } ops[] = {{"get", 2}, {"put", 3}, {"post", 4}, {"delete", 5}, {"patch", 8}};
    for (size_t i = 0; i < sizeof ops / sizeof ops[0]; i++) {
        const json_t *op = json_object_get(item, ops[i].method);
        int rc = op ? pb_message(b, ops[i].field, enc_operation, op) : 0;
        if (rc)
            return rc;
    }
    int rc = pb_parameters(b, 9, json_object_get(item, "parameters"));
    return rc ? rc : pb_extensions(b, 10, item);
}

/* Paths{path = 2 (NamedPathItem)} */
static int enc_paths(tri_buf_t *b, const json_t *paths)
{
    return pb_named(b, 2, paths, enc_path_item, NULL);
}

/* Info: title 1, version 2. */
static int enc_info(tri_buf_t *b, const json_t *info)
{
    int rc = pb_string(b, 1, json_object_get(info, "title"));
    return rc ? rc : pb_string(b, 2, json_object_get(info, "version"));
}

/* Document: swagger 1, info 2, paths 8, definitions 9. */
static int enc_document(tri_buf_t *b, const json_t *doc)
{
    int rc = pb_string(b, 1, json_object_get(doc, "swagger"));
    rc = rc ? rc : pb_message(b, 2, enc_info, json_object_get(doc, "info"));
    rc = rc ? rc : pb_message(b, 8, enc_paths, json_object_get(doc, "paths"));
    return rc ? rc : pb_message(b, 9, enc_schemas_named, json_object_get(doc, "definitions"));
}

/* ---------- the cached encodings and the handler ---------- */

/* Made once per process (pthread_once, as common/util.c's CRC table): the registry is
 * a build-time constant, so both encodings never change after init. */
static struct {
    char *json;
    tri_buf_t pb;
    int rc;
} v2_doc;
static pthread_once_t v2_once = PTHREAD_ONCE_INIT;

static void v2_init(void)
{
    json_t *doc = swagger_doc();
    if (doc == NULL) {
        v2_doc.rc = TRI_ENOMEM;
        return;
    }
    v2_doc.json = json_dumps(doc, JSON_COMPACT);
    v2_doc.rc = v2_doc.json ? enc_document(&v2_doc.pb, doc) : TRI_ENOMEM;
    json_decref(doc);
}

static bool wants_protobuf(h2o_req_t *req)
{
    ssize_t i = h2o_find_header(&req->headers, H2O_TOKEN_ACCEPT, -1);
    if (i < 0)
        return false;
    h2o_iovec_t v = req->headers.entries[i].value;
    return memmem(v.base, v.len, PB_ACCEPT, strlen(PB_ACCEPT)) != NULL;
}

int tri_handle_openapi_v2(tri_http_t *h, h2o_req_t *req, const char *path, size_t len)
{
    (void)h;
    static const char route[] = "/openapi/v2";
    if (len != sizeof route - 1 || memcmp(path, route, len) != 0)
        return -1;
    if (!h2o_memis(req->method.base, req->method.len, H2O_STRLIT("GET")) &&
        !h2o_memis(req->method.base, req->method.len, H2O_STRLIT("HEAD"))) {
        tri_send_error(req, 405, "MethodNotAllowed", "the server does not allow this method");
        return 0;
    }
    pthread_once(&v2_once, v2_init);
    if (v2_doc.rc != 0) {
        tri_send_error(req, 500, "InternalError", "OpenAPI v2 document: %s",
                       tri_strerror(v2_doc.rc));
        return 0;
    }
    if (wants_protobuf(req))
        tri_send_body(req, 200, PB_MIME, v2_doc.pb.data, v2_doc.pb.len);
    else
        tri_send_body(req, 200, "application/json", v2_doc.json, strlen(v2_doc.json));
    return 0;
}
