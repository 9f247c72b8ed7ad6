/* core/v1 resources: Namespace and ConfigMap — their defaulting, validation and
 * Table columns, as kube-apiserver prints them. */
#include <stdio.h>
#include <string.h>

#include "resources.h"
#include "triarch/codec.h"

const char *const tri_builtin_namespaces[] = {"default", "kube-system", "kube-public",
                                              "kube-node-lease", NULL};

/* ---------- namespaces ---------- */

static const tri_column_t ns_columns[] = {
    {"Status", "string", "", "The status of the namespace", 0},
};

static json_t *ns_cells(const json_t *obj)
{
    const char *phase = json_string_value(json_object_get(json_object_get(obj, "status"), "phase"));
    return json_pack("[s]", phase ? phase : "Active");
}

static void ns_prepare(json_t *obj, const json_t *old)
{
    /* Namespaces carry the "kubernetes" finalizer and phase Active (defaulting). */
    json_t *spec = json_object_get(obj, "spec");
    if (!json_is_object(spec)) {
        spec = json_object();
        json_object_set_new(obj, "spec", spec);
    }
    if (json_object_get(spec, "finalizers") == NULL)
        json_object_set_new(spec, "finalizers", json_pack("[s]", "kubernetes"));
    json_t *status = json_object_get(obj, "status");
    if (!json_is_object(status)) {
        status = json_object();
        json_object_set_new(obj, "status", status);
    }
    /* which writes may change status is the status subresource's rule (lifecycle.c) */
    if (json_object_get(status, "phase") == NULL)
        json_object_set_new(status, "phase", json_string("Active"));
    /* the namespace name is mirrored into a well-known label (since 1.21) */
    json_t *meta = json_object_get(obj, "metadata");
    json_t *labels = json_object_get(meta, "labels");
    if (!json_is_object(labels)) {
        labels = json_object();
        json_object_set_new(meta, "labels", labels);
    }
    json_t *name = json_object_get(meta, "name");
    if (json_is_string(name))
        json_object_set(labels, "kubernetes.io/metadata.name", name);
}

static void ns_validate(const json_t *obj, const json_t *old, tri_status_t *st)
{
    const char *name = json_string_value(json_object_get(json_object_get(obj, "metadata"), "name"));
    const char *msg = name ? tri_validate_dns1123_label(name) : NULL;
    if (msg)
        tri_status_add_cause(st, "FieldValueInvalid", "metadata.name", "Invalid value: \"%s\": %s",
                             name, msg);
}

const tri_resource_t tri_res_namespaces = {
    .group = "",
    .version = "v1",
    .kind = "Namespace",
    .list_kind = "NamespaceList",
    .plural = "namespaces",
    .singular = "namespace",
    .short_names = {"ns"},
    .namespaced = false,
    .has_status = true,
    .columns = ns_columns,
    .n_columns = 1,
    .cells = ns_cells,
    .validate = ns_validate,
    .prepare = ns_prepare,
    .fields = {"status.phase"},
    .known_fields = {"spec", "status"},
    .subresources = {"finalize"},
};

/* ---------- configmaps ---------- */

static const tri_column_t cm_columns[] = {
    {"Data", "integer", "", "Number of data entries", 0},
};

static json_t *cm_cells(const json_t *obj)
{
    size_t n = json_object_size(json_object_get(obj, "data")) +
               json_object_size(json_object_get(obj, "binaryData"));
    return json_pack("[I]", (json_int_t)n);
}

/* ConfigMap keys: [-._a-zA-Z0-9]+, at most 253 characters. */
static bool cm_key_valid(const char *k)
{
    size_t n = strlen(k);
    if (n == 0 || n > 253 || strcmp(k, ".") == 0 || strcmp(k, "..") == 0)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = k[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '_' || c == '.'))
            return false;
    }
    return true;
}

static void cm_validate_map(const json_t *obj, const char *field, bool strings,
                            const json_t *other, tri_status_t *st)
{
    json_t *m = json_object_get(obj, field);
    if (m == NULL || json_is_null(m))
        return;
    if (!json_is_object(m)) {
        tri_status_add_cause(st, "FieldValueInvalid", field, "Invalid value: must be an object");
        return;
    }
    const char *k;
    json_t *v;
    json_object_foreach(m, k, v) {
        char path[300];
        snprintf(path, sizeof path, "%s[%s]", field, k);
        if (!cm_key_valid(k))
            tri_status_add_cause(st, "FieldValueInvalid", path,
                                 "Invalid value: \"%s\": a valid config key must consist of "
                                 "alphanumeric characters, '-', '_' or '.' (e.g. 'key.name',  or "
                                 "'KEY_NAME',  or 'key-name', regex used for validation is "
                                 "'[-._a-zA-Z0-9]+')",
                                 k);
        if (!json_is_string(v))
            tri_status_add_cause(st, "FieldValueInvalid", path,
                                 "Invalid value: must be a string%s",
                                 strings ? "" : " (base64)");
        if (json_object_get(other, k) != NULL)
            tri_status_add_cause(st, "FieldValueDuplicate", path,
                                 "Duplicate value: \"%s\": duplicate of key present in %s", k,
                                 strings ? "binaryData" : "data");
    }
}

static void cm_validate(const json_t *obj, const json_t *old, tri_status_t *st)
{
    const char *name = json_string_value(json_object_get(json_object_get(obj, "metadata"), "name"));
    const char *msg = name ? tri_validate_dns1123_subdomain(name) : NULL;
    if (msg)
        tri_status_add_cause(st, "FieldValueInvalid", "metadata.name", "Invalid value: \"%s\": %s",
                             name, msg);
    cm_validate_map(obj, "data", true, json_object_get(obj, "binaryData"), st);
    cm_validate_map(obj, "binaryData", false, NULL, st);
    if (old != NULL && json_is_true(json_object_get(old, "immutable"))) {
        if (!json_equal(json_object_get(old, "data"), json_object_get(obj, "data")) ||
            !json_equal(json_object_get(old, "binaryData"), json_object_get(obj, "binaryData")))
            tri_status_add_cause(st, "FieldValueForbidden", "data",
                                 "Forbidden: field is immutable when `immutable` is set");
        if (!json_is_true(json_object_get(obj, "immutable")))
            tri_status_add_cause(st, "FieldValueForbidden", "immutable",
                                 "Forbidden: field is immutable when `immutable` is set");
    }
}

const tri_resource_t tri_res_configmaps = {
    .group = "",
    .version = "v1",
    .kind = "ConfigMap",
    .list_kind = "ConfigMapList",
    .plural = "configmaps",
    .singular = "configmap",
    .short_names = {"cm"},
    .namespaced = true,
    .has_status = false,
    .columns = cm_columns,
    .n_columns = 1,
    .cells = cm_cells,
    .validate = cm_validate,
    .prepare = NULL,
    .known_fields = {"data", "binaryData", "immutable"},
};
