/* Schemas of Kubernetes kinds, field by field, as their JSON form sees them.
 *
 * A read-only view over the protobuf tables (server/api/protobuf_schema.c), which
 * already name every field of the ~40 kinds kubectl sends with its JSON name and
 * type. Two users: unknown-field detection below the top level
 * (tri_meta_prune_unknown: `fieldValidation=Strict` answers "unknown field
 * \"spec.template.spec.containers[0].imagee\"") and the OpenAPI documents, whose
 * component schemas `kubectl explain` and `kubectl apply` read.
 *
 * Go's `json:",inline"` structs are flattened: their fields appear in the parent,
 * as in JSON. Everything here is static data; nothing is allocated or freed.
 */
#ifndef TRIARCH_SCHEMA_H
#define TRIARCH_SCHEMA_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

/* An object's schema (one message of the protobuf tables); opaque. */
typedef struct tri_pb_message tri_schema_t;

/* What a JSON value (an array's element, a map's value) must look like. */
typedef enum tri_schema_type {
    TRI_SCHEMA_STRING,
    TRI_SCHEMA_BYTES,   /* base64 string (Go []byte) */
    TRI_SCHEMA_TIME,    /* RFC 3339 string */
    TRI_SCHEMA_INTEGER, /* int32 or int64, see format */
    TRI_SCHEMA_BOOLEAN,
    TRI_SCHEMA_INT_OR_STRING, /* intstr.IntOrString: an integer or a string */
    TRI_SCHEMA_QUANTITY,      /* resource.Quantity: a string, or a number in JSON */
    TRI_SCHEMA_OBJECT,        /* fixed fields: see tri_schema_field_t.object */
    TRI_SCHEMA_ANY,           /* free-form (a message whose fields are not tabled) */
} tri_schema_type_t;

typedef struct tri_schema_field {
    const char *json;        /* JSON name */
    tri_schema_type_t type;  /* of the value, or of each element / map value */
    bool array;              /* a JSON array of `type` */
    bool map;                /* a JSON object with free keys and values of `type` */
    bool keep_zero;          /* a Go pointer or a field without omitempty */
    bool int64;              /* TRI_SCHEMA_INTEGER: int64 (else int32) */
    const tri_schema_t *object; /* TRI_SCHEMA_OBJECT: the element's schema */
} tri_schema_field_t;

/* The schema of (apiVersion, kind), e.g. ("apps/v1", "Deployment"), or NULL. */
const tri_schema_t *tri_schema_find(const char *api_version, const char *kind);

/* The Go type name of the message ("DeploymentSpec"). */
const char *tri_schema_name(const tri_schema_t *s);

/* Calls cb for each field of s in table order, inline fields flattened. A non-zero
 * return from cb stops the walk and is returned. */
typedef int (*tri_schema_field_cb)(const tri_schema_field_t *f, void *data);
int tri_schema_foreach(const tri_schema_t *s, tri_schema_field_cb cb, void *data);

/* Fills *out with the field named json (inline fields included). Returns 0, or
 * TRI_ENOENT when s has no such field. */
int tri_schema_lookup(const tri_schema_t *s, const char *json, tri_schema_field_t *out);

/* Unknown-field walk: calls cb(path, data) for each member of value that the
 * field's schema does not describe, depth first, with Kubernetes' path form
 * ("spec.template.spec.containers[0].imagee"; prefix is the field's own path). cb
 * returns 0 to keep the member, 1 to delete it, or a negative code to stop (then
 * returned). Map keys are never unknown; free-form values and values of the wrong
 * JSON type are not walked. */
typedef int (*tri_schema_unknown_cb)(const char *path, void *data);
int tri_schema_walk_unknown(const tri_schema_field_t *f, json_t *value, const char *prefix,
                            tri_schema_unknown_cb cb, void *data);

/* OpenAPI: the JSON Schema of s (type object, properties, items,
 * additionalProperties for maps, x-kubernetes-int-or-string, and the
 * x-kubernetes-patch-merge-key/-strategy kubectl's strategic merge needs). Nested
 * messages are added to defs (a JSON object, name -> schema) as
 * "<prefix>.<GoName>" and referred to as "<ref_base><name>"; ObjectMeta refers to
 * "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta", which the caller defines.
 * Returns a new reference (the caller names and stores it), or NULL on ENOMEM.
 * Same input, same output: the documents hash stably. */
json_t *tri_schema_openapi(const tri_schema_t *s, const char *prefix, const char *ref_base,
                           json_t *defs);

#endif
