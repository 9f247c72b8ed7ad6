/* ObjectMeta on create and update: the fields the server owns (uid,
 * creationTimestamp, generated names), the checks every kind shares (body matches
 * the URL, labels and annotations valid) and the 422 Invalid status they yield. */
#include <stdio.h>
#include <string.h>

#include "meta.h"
#include "triarch/codec.h"
#include "triarch/errors.h"
#include "triarch/schema.h"
#include "triarch/util.h"

/* generateName suffix alphabet and length, as apiserver's SimpleNameGenerator. */
static const char NAME_ALPHABET[] = "bcdfghjklmnpqrstvwxz2456789";
#define GENERATED_SUFFIX_LEN 5
#define MAX_GENERATE_PREFIX 58 /* 63 - 5 */
#define MAX_ANNOTATIONS_BYTES (256 * 1024)

static bool check_type_meta(const tri_resource_t *r, json_t *obj, tri_status_t *st)
{
    char apiv[128];
    tri_resource_api_version(r, apiv, sizeof apiv);
    const char *kind = json_string_value(json_object_get(obj, "kind"));
    const char *av = json_string_value(json_object_get(obj, "apiVersion"));
    if ((kind && strcmp(kind, r->kind) != 0) || (av && strcmp(av, apiv) != 0)) {
        tri_status_set(st, 400, "BadRequest",
                       "the API version in the data (%s) does not match the expected API version "
                       "(%s) or the kind (%s) is not %s",
                       av ? av : "", apiv, kind ? kind : "", r->kind);
        return false;
    }
    json_object_set_new(obj, "kind", json_string(r->kind));
    json_object_set_new(obj, "apiVersion", json_string(apiv));
    return true;
}

static json_t *ensure_meta(json_t *obj, tri_status_t *st)
{
    json_t *meta = json_object_get(obj, "metadata");
    if (meta == NULL || json_is_null(meta)) {
        meta = json_object();
        json_object_set_new(obj, "metadata", meta);
    }
    if (!json_is_object(meta)) {
        tri_status_set(st, 400, "BadRequest", "metadata must be an object");
        return NULL;
    }
    return meta;
}

static bool check_namespace(const tri_resource_t *r, const char *ns, json_t *meta,
                            tri_status_t *st)
{
    if (!r->namespaced) {
        json_object_del(meta, "namespace");
        return true;
    }
    const char *mns = json_string_value(json_object_get(meta, "namespace"));
    if (mns && mns[0] && strcmp(mns, ns) != 0) {
        tri_status_set(st, 400, "BadRequest",
                       "the namespace of the provided object does not match the namespace sent "
                       "on the request");
        return false;
    }
    json_object_set_new(meta, "namespace", json_string(ns));
    return true;
}

static void generate_name(json_t *meta)
{
    const char *gen = json_string_value(json_object_get(meta, "generateName"));
    const char *name = json_string_value(json_object_get(meta, "name"));
    if (gen == NULL || (name && name[0]))
        return;
    tri_meta_regenerate_name(meta);
}

void tri_meta_regenerate_name(json_t *meta)
{
    const char *gen = json_string_value(json_object_get(meta, "generateName"));
    if (gen == NULL)
        return;
    char out[128];
    size_t n = strlen(gen);
    if (n > MAX_GENERATE_PREFIX)
        n = MAX_GENERATE_PREFIX;
    memcpy(out, gen, n);
    uint8_t rnd[GENERATED_SUFFIX_LEN];
    tri_random_bytes(rnd, sizeof rnd);
    for (size_t i = 0; i < GENERATED_SUFFIX_LEN; i++)
        out[n + i] = NAME_ALPHABET[rnd[i] % (sizeof NAME_ALPHABET - 1)];
    out[n + GENERATED_SUFFIX_LEN] = '\0';
    json_object_set_new(meta, "name", json_string(out));
}

void tri_meta_prepare_create(const tri_resource_t *r, const char *ns, json_t *obj,
                             tri_status_t *st)
{
    if (!check_type_meta(r, obj, st))
        return;
    json_t *meta = ensure_meta(obj, st);
    if (meta == NULL || !check_namespace(r, ns, meta, st))
        return;
    generate_name(meta);
    const char *name = json_string_value(json_object_get(meta, "name"));
    if (name == NULL || name[0] == '\0') {
        tri_status_set(st, 422, "Invalid", "%s \"\" is invalid: metadata.name: Required value: "
                                           "name or generateName is required", r->kind);
        tri_status_add_cause(st, "FieldValueRequired", "metadata.name",
                             "Required value: name or generateName is required");
        return;
    }
    char uid[37], ts[21];
    tri_uuid_v4(uid);
    tri_rfc3339_now(ts);
    json_object_set_new(meta, "uid", json_string(uid));
    json_object_set_new(meta, "creationTimestamp", json_string(ts));
    json_object_del(meta, "resourceVersion");
    json_object_del(meta, "deletionTimestamp");
    json_object_del(meta, "deletionGracePeriodSeconds");
    json_object_del(meta, "selfLink");
    if (r->prepare)
        r->prepare(obj, NULL);
}

void tri_meta_prepare_update(const tri_resource_t *r, const char *ns, const char *name,
                             json_t *obj, const json_t *old, tri_status_t *st)
{
    if (!check_type_meta(r, obj, st))
        return;
    json_t *meta = ensure_meta(obj, st);
    if (meta == NULL || !check_namespace(r, ns, meta, st))
        return;
    const char *bname = json_string_value(json_object_get(meta, "name"));
    if (bname == NULL || bname[0] == '\0') {
        json_object_set_new(meta, "name", json_string(name));
    } else if (strcmp(bname, name) != 0) {
        tri_status_set(st, 400, "BadRequest",
                       "the name of the object (%s) does not match the name on the URL (%s)", bname,
                       name);
        return;
    }
    json_t *ometa = json_object_get(old, "metadata");
    const char *uid = json_string_value(json_object_get(meta, "uid"));
    const char *ouid = json_string_value(json_object_get(ometa, "uid"));
    if (uid && uid[0] && ouid && strcmp(uid, ouid) != 0) {
        tri_status_set(st, 409, "Conflict",
                       "Precondition failed: UID in precondition: %s, UID in object meta: %s", uid,
                       ouid);
        return;
    }
    static const char *const kept[] = {"uid", "creationTimestamp", "deletionTimestamp",
                                       "deletionGracePeriodSeconds", "generation"};
    for (size_t i = 0; i < sizeof kept / sizeof kept[0]; i++) {
        json_t *v = json_object_get(ometa, kept[i]);
        if (v)
            json_object_set(meta, kept[i], v);
        else
            json_object_del(meta, kept[i]);
    }
    json_object_del(meta, "selfLink");
    if (r->prepare)
        r->prepare(obj, old);
}

static void validate_string_map(const json_t *meta, const char *field, bool label_values,
                                tri_status_t *st)
{
    json_t *m = json_object_get(meta, field);
    if (m == NULL || json_is_null(m))
        return;
    char path[300];
    if (!json_is_object(m)) {
        snprintf(path, sizeof path, "metadata.%s", field);
        tri_status_add_cause(st, "FieldValueInvalid", path, "Invalid value: must be an object");
        return;
    }
    size_t total = 0;
    const char *k;
    json_t *v;
    json_object_foreach(m, k, v) {
        snprintf(path, sizeof path, "metadata.%s", field);
        const char *msg = tri_validate_qualified_name(k);
        if (msg)
            tri_status_add_cause(st, "FieldValueInvalid", path, "Invalid value: \"%s\": %s", k, msg);
        if (!json_is_string(v)) {
            tri_status_add_cause(st, "FieldValueInvalid", path,
                                 "Invalid value: value of \"%s\" must be a string", k);
            continue;
        }
        total += strlen(k) + json_string_length(v);
        if (label_values && (msg = tri_validate_label_value(json_string_value(v))) != NULL)
            tri_status_add_cause(st, "FieldValueInvalid", path, "Invalid value: \"%s\": %s",
                                 json_string_value(v), msg);
    }
    if (!label_values && total > MAX_ANNOTATIONS_BYTES)
        tri_status_add_cause(st, "FieldValueTooLong", "metadata.annotations",
                             "Too long: must have at most %d bytes", MAX_ANNOTATIONS_BYTES);
}

void tri_meta_validate(const tri_resource_t *r, const json_t *obj, const json_t *old,
                       tri_status_t *st)
{
    json_t *meta = json_object_get(obj, "metadata");
    validate_string_map(meta, "labels", true, st);
    validate_string_map(meta, "annotations", false, st);
    json_t *fin = json_object_get(meta, "finalizers");
    if (fin && !json_is_null(fin) && !json_is_array(fin))
        tri_status_add_cause(st, "FieldValueInvalid", "metadata.finalizers",
                             "Invalid value: must be a list of strings");
    if (r->validate)
        r->validate(obj, old, st);
}

bool tri_meta_finish_invalid(const tri_resource_t *r, const char *name, tri_status_t *st)
{
    if (st->code != 0)
        return true;
    if (st->causes == NULL || json_array_size(st->causes) == 0)
        return false;
    tri_buf_t msg = {0};
    tri_buf_appendf(&msg, "%s \"%s\" is invalid: ", r->kind, name ? name : "");
    size_t i;
    json_t *c;
    json_array_foreach(st->causes, i, c) {
        tri_buf_appendf(&msg, "%s%s: %s", i ? ", " : "",
                        json_string_value(json_object_get(c, "field")),
                        json_string_value(json_object_get(c, "message")));
    }
    tri_buf_append(&msg, "", 1);
    tri_status_set(st, 422, "Invalid", "%s", msg.data);
    tri_buf_free(&msg);
    snprintf(st->kind, sizeof st->kind, "%s", r->kind);
    snprintf(st->name, sizeof st->name, "%s", name ? name : "");
    snprintf(st->group, sizeof st->group, "%s", r->group);
    return true;
}

static const char *const meta_fields[] = {
    "name", "generateName", "namespace", "selfLink", "uid", "resourceVersion", "generation",
    "creationTimestamp", "deletionTimestamp", "deletionGracePeriodSeconds", "labels",
    "annotations", "ownerReferences", "finalizers", "managedFields", NULL};

static bool listed(const char *const *names, size_t max, const char *k)
{
    for (size_t i = 0; i < max && names[i]; i++)
        if (strcmp(names[i], k) == 0)
            return true;
    return false;
}

/* Where each unknown field goes: the first one fails a Strict request, otherwise
 * each is dropped and reported as a warning (the HTTP layer makes them
 * `Warning: 299 - "unknown field ..."` headers). */
typedef struct unknown_sink {
    bool strict;
    tri_buf_t *warnings;
    tri_status_t *st;
} unknown_sink_t;

static int on_unknown(const char *path, void *data)
{
    unknown_sink_t *u = data;
    if (u->strict) {
        if (u->st->code == 0)
            tri_status_set(u->st, 400, "BadRequest",
                           "strict decoding error: unknown field \"%s\"", path);
        return TRI_EINVAL;
    }
    if (u->warnings)
        tri_buf_appendf(u->warnings, "%sunknown field \"%s\"", u->warnings->len ? "\n" : "",
                        path);
    return 1;
}

static void prune(json_t *obj, const char *prefix, const char *const *names, size_t max,
                  const char *const *extra, const tri_schema_t *schema, unknown_sink_t *u)
{
    const char *k;
    json_t *v;
    void *tmp;
    tri_schema_field_t f;
    json_object_foreach_safe(obj, tmp, k, v) {
        if (listed(names, max, k) || (extra && listed(extra, 3, k)) ||
            (schema && tri_schema_lookup(schema, k, &f) == 0))
            continue;
        tri_buf_t path = {0};
        tri_buf_appendf(&path, "%s%s", prefix, k);
        int rc = path.data ? on_unknown(path.data, u) : TRI_ENOMEM;
        tri_buf_free(&path);
        if (rc != 1)
            return;
        json_object_del(obj, k);
    }
}

/* Below the top level, for kinds with a schema: every field but metadata (checked
 * against meta_fields) and status (written by controllers, not validated here). */
static void prune_nested(const tri_schema_t *schema, json_t *obj, unknown_sink_t *u)
{
    const char *k;
    json_t *v;
    json_object_foreach(obj, k, v) {
        tri_schema_field_t f;
        if (strcmp(k, "metadata") == 0 || strcmp(k, "status") == 0 ||
            tri_schema_lookup(schema, k, &f) != 0)
            continue;
        int rc = tri_schema_walk_unknown(&f, v, k, on_unknown, u);
        if (rc == TRI_ENOMEM && u->st->code == 0)
            tri_status_set(u->st, 500, "InternalError", "out of memory checking fields");
        if (rc < 0)
            return;
    }
}

void tri_meta_prune_unknown(const tri_resource_t *r, json_t *obj, bool strict,
                            tri_buf_t *warnings, tri_status_t *st)
{
    static const char *const always[] = {"apiVersion", "kind", "metadata"};
    unknown_sink_t u = {.strict = strict, .warnings = warnings, .st = st};
    char apiv[128];
    tri_resource_api_version(r, apiv, sizeof apiv);
    const tri_schema_t *schema = tri_schema_find(apiv, r->kind);
    prune(obj, "", r->known_fields, sizeof r->known_fields / sizeof r->known_fields[0], always,
          schema, &u);
    json_t *meta = json_object_get(obj, "metadata");
    if (st->code == 0 && json_is_object(meta))
        prune(meta, "metadata.", meta_fields, sizeof meta_fields / sizeof meta_fields[0], NULL,
              NULL, &u);
    if (st->code == 0 && schema != NULL)
        prune_nested(schema, obj, &u);
}
