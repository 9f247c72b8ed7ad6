/* OpenAPI v3, generated from the registry. `kubectl create -f` / `apply -f` read
 * /openapi/v3 and then a group-version document to learn whether the server
 * validates fields itself: they look for a PATCH operation per kind, tagged with
 * x-kubernetes-group-version-kind, that accepts a fieldValidation parameter.
 * Kinds with a schema table (triarch/schema.h) are described field by field, which
 * `kubectl explain` and kubectl's apply patches read; the others carry their
 * top-level fields only. */
#include <stdio.h>
#include <string.h>

#include "internal.h"
#include "triarch/schema.h"
#include "triarch/util.h"

static json_t *gvk(const tri_resource_t *r)
{
    return json_pack("{s:s, s:s, s:s}", "group", r->group, "version", r->version, "kind",
                     r->kind);
}

static json_t *schema_ref(const char *name)
{
    char ref[320];
    snprintf(ref, sizeof ref, "#/components/schemas/%s", name);
    return json_pack("{s:s}", "$ref", ref);
}

static void schema_name(const tri_resource_t *r, char *out, size_t len)
{
    snprintf(out, len, "io.k8s.api.%s.%s.%s", r->group[0] ? r->group : "core", r->version,
             r->kind);
}

static json_t *object_meta_schema(void)
{
    return json_pack(
        "{s:s, s:s, s:{s:{s:s}, s:{s:s}, s:{s:s}, s:{s:s}, s:{s:s}, s:{s:s}, s:{s:s, s:{s:s}},"
        " s:{s:s, s:{s:s}}, s:{s:s, s:{s:s}}, s:{s:s}, s:{s:s}, s:{s:s}}}",
        "description", "ObjectMeta is metadata that all persisted resources must have.", "type",
        "object", "properties", "name", "type", "string", "generateName", "type", "string",
        "namespace", "type", "string", "uid", "type", "string", "resourceVersion", "type",
        "string", "creationTimestamp", "type", "string", "labels", "type", "object",
        "additionalProperties", "type", "string", "annotations", "type", "object",
        "additionalProperties", "type", "string", "finalizers", "type", "array", "items", "type",
        "string", "generation", "type", "integer", "deletionTimestamp", "type", "string",
        "deletionGracePeriodSeconds", "type", "integer");
}

static json_t *kind_properties(const tri_resource_t *r)
{
    json_t *p = json_pack("{s:{s:s}, s:{s:s}, s:o}", "apiVersion", "type", "string", "kind",
                          "type", "string", "metadata", schema_ref("io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"));
    if (strcmp(r->kind, "ConfigMap") == 0) {
        json_object_set_new(p, "data", json_pack("{s:s, s:s, s:{s:s}}", "description",
                                                 "Data contains the configuration data.", "type",
                                                 "object", "additionalProperties", "type",
                                                 "string"));
        json_object_set_new(p, "binaryData",
                            json_pack("{s:s, s:{s:s, s:s}}", "type", "object",
                                      "additionalProperties", "type", "string", "format", "byte"));
        json_object_set_new(p, "immutable", json_pack("{s:s}", "type", "boolean"));
    } else if (strcmp(r->kind, "Namespace") == 0) {
        json_object_set_new(p, "spec", json_pack("{s:s, s:{s:{s:s, s:{s:s}}}}", "type", "object",
                                                 "properties", "finalizers", "type", "array",
                                                 "items", "type", "string"));
        json_object_set_new(p, "status", json_pack("{s:s, s:{s:{s:s}}}", "type", "object",
                                                   "properties", "phase", "type", "string"));
    }
    return p;
}

static bool fully_described(const tri_resource_t *r)
{
    return r->group[0] == '\0' &&
           (strcmp(r->kind, "ConfigMap") == 0 || strcmp(r->kind, "Namespace") == 0);
}

json_t *tri_openapi_kind_schema(const tri_resource_t *r, const char *ref_prefix, json_t *defs)
{
    char apiv[160], prefix[200];
    tri_resource_api_version(r, apiv, sizeof apiv);
    const tri_schema_t *s = tri_schema_find(apiv, r->kind);
    if (s == NULL)
        return NULL;
    snprintf(prefix, sizeof prefix, "io.k8s.api.%s.%s", r->group[0] ? r->group : "core",
             r->version);
    json_t *schema = tri_schema_openapi(s, prefix, ref_prefix, defs);
    json_t *props = json_object_get(schema, "properties");
    if (props == NULL) {
        json_decref(schema);
        return NULL;
    }
    json_object_set_new(schema, "description", json_string(r->kind));
    json_object_set_new(props, "apiVersion", json_pack("{s:s}", "type", "string"));
    json_object_set_new(props, "kind", json_pack("{s:s}", "type", "string"));
    return schema;
}

static json_t *param(const char *name, const char *in)
{
    return json_pack("{s:s, s:s, s:{s:s}}", "name", name, "in", in, "schema", "type", "string");
}

static json_t *patch_op(const tri_resource_t *r)
{
    char op[256], sn[256];
    snprintf(op, sizeof op, "patch%s%s", r->namespaced ? "Namespaced" : "", r->kind);
    schema_name(r, sn, sizeof sn);
    json_t *params = json_array();
    static const char *const q[] = {"dryRun", "fieldManager", "fieldValidation", "force"};
    for (size_t i = 0; i < 4; i++)
        json_array_append_new(params, param(q[i], "query"));
    json_t *content = json_object();
    static const char *const types[] = {"application/json-patch+json",
                                        "application/merge-patch+json",
                                        "application/strategic-merge-patch+json",
                                        "application/apply-patch+yaml"};
    for (size_t i = 0; i < 4; i++)
        json_object_set_new(content, types[i], json_pack("{s:{s:s}}", "schema", "type", "object"));
    return json_pack("{s:s, s:s, s:o, s:o, s:{s:o}, s:{s:{s:s, s:{s:{s:o}}}}}", "operationId", op,
                     "x-kubernetes-action", "patch", "x-kubernetes-group-version-kind", gvk(r),
                     "parameters", params, "requestBody", "content", content, "responses", "200",
                     "description", "OK", "content", "application/json", "schema",
                     schema_ref(sn));
}

static json_t *group_doc(const char *group, const char *version)
{
    size_t n;
    const tri_resource_t *const *all = tri_registry_all(&n);
    json_t *paths = json_object(), *schemas = json_object();
    json_object_set_new(schemas, "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta",
                        object_meta_schema());
    size_t found = 0;
    for (size_t i = 0; i < n; i++) {
        const tri_resource_t *r = all[i];
        if (strcmp(r->group, group) || strcmp(r->version, version))
            continue;
        found++;
        char base[256], item[320], sn[256];
        if (group[0])
            snprintf(base, sizeof base, "/apis/%s/%s%s", group, version,
                     r->namespaced ? "/namespaces/{namespace}" : "");
        else
            snprintf(base, sizeof base, "/api/%s%s", version,
                     r->namespaced ? "/namespaces/{namespace}" : "");
        snprintf(item, sizeof item, "%s/%s/{name}", base, r->plural);
        json_object_set_new(paths, item, json_pack("{s:o}", "patch", patch_op(r)));
        schema_name(r, sn, sizeof sn);
        json_t *schema = tri_openapi_kind_schema(r, "#/components/schemas/", schemas);
        bool full = schema != NULL || fully_described(r);
        if (schema == NULL)
            schema = json_pack("{s:s, s:s, s:o}", "description", r->kind, "type", "object",
                               "properties", kind_properties(r));
        /* kubectl computes apply patches from a schema tagged with its GVK: tag only
         * the kinds described field by field, so it falls back to its built-in
         * types for the others instead of warning "unable to find api field". */
        if (full) {
            json_t *gvks = json_array();
            json_array_append_new(gvks, gvk(r));
            json_object_set_new(schema, "x-kubernetes-group-version-kind", gvks);
        }
        json_object_set_new(schemas, sn, schema);
    }
    if (found == 0) {
        json_decref(paths);
        json_decref(schemas);
        return NULL;
    }
    return json_pack("{s:s, s:{s:s, s:s}, s:o, s:{s:o}}", "openapi", "3.0.0", "info", "title",
                     "Kubernetes", "version", "v1.32.0", "paths", paths, "components", "schemas",
                     schemas);
}

static uint32_t doc_hash(const char *group, const char *version)
{
    json_t *d = group_doc(group, version);
    char *s = d ? json_dumps(d, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
    uint32_t h = s ? tri_crc32c(0, s, strlen(s)) : 0;
    free(s);
    json_decref(d);
    return h;
}

static json_t *root_doc(void)
{
    json_t *paths = json_object();
    size_t n;
    const tri_resource_t *const *all = tri_registry_all(&n);
    for (size_t i = 0; i < n; i++) {
        const tri_resource_t *r = all[i];
        char key[160], url[256];
        if (r->group[0])
            snprintf(key, sizeof key, "apis/%s/%s", r->group, r->version);
        else
            snprintf(key, sizeof key, "api/%s", r->version);
        if (json_object_get(paths, key))
            continue;
        snprintf(url, sizeof url, "/openapi/v3/%s?hash=%08X", key, doc_hash(r->group, r->version));
        json_object_set_new(paths, key, json_pack("{s:s}", "serverRelativeURL", url));
    }
    return json_pack("{s:o}", "paths", paths);
}

int tri_handle_openapi(tri_http_t *h, h2o_req_t *req, const char *path, size_t len)
{
    char p[256];
    if (len >= sizeof p)
        return -1;
    memcpy(p, path, len);
    p[len] = '\0';
    if (strcmp(p, "/openapi/v3") == 0 || strcmp(p, "/openapi/v3/") == 0) {
        tri_send_json(req, 200, root_doc());
        return 0;
    }
    char g[128], v[64];
    json_t *doc = NULL;
    if (sscanf(p, "/openapi/v3/api/%63[^/]", v) == 1)
        doc = group_doc("", v);
    else if (sscanf(p, "/openapi/v3/apis/%127[^/]/%63[^/]", g, v) == 2)
        doc = group_doc(g, v);
    if (doc == NULL)
        return -1;
    tri_send_json(req, 200, doc);
    return 0;
}
