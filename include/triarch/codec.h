/* Codecs and pure transformations of Kubernetes objects (jansson json_t trees):
 * YAML and protobuf request decoding, label and field selectors, the three patch
 * formats, and name validation. No I/O, no store: every function here is a pure
 * function of its input, safe on any input (fuzzed), and reports failures with a
 * message a user can act on.
 *
 * Ownership: functions returning json_t* return a new reference (json_decref it).
 * Error messages are written into a caller buffer `err` of `errlen` bytes.
 */
#ifndef TRIARCH_CODEC_H
#define TRIARCH_CODEC_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

/* ---------- request bodies ---------- */

/* JSON body: an object is required. NULL + err on malformed input or trailing
 * garbage. Duplicate keys: last wins (as encoding/json). */
json_t *tri_json_decode(const char *body, size_t len, char *err, size_t errlen);

/* Byte-level lookup of member key in the JSON object held in data[0:len), without
 * parsing it: [*vbeg, *vend) is the value, [*beg, *end) the member with one
 * adjacent comma, so that cutting it out leaves a valid object. Keys are compared
 * as raw bytes (escaped keys do not match). False when absent or malformed. */
bool tri_json_member_range(const char *data, size_t len, const char *key, size_t *beg,
                           size_t *end, size_t *vbeg, size_t *vend);
/* The same for several keys in one pass over the members: out[k] for keys[k];
 * returns how many were found (0 when malformed before the last one was found). */
typedef struct tri_json_range {
    bool found;
    size_t beg, end, vbeg, vend;
} tri_json_range_t;
size_t tri_json_member_ranges(const char *data, size_t len, const char *const *keys,
                              size_t nkeys, tri_json_range_t *out);

/* YAML body (one document; JSON is valid YAML) into the same json_t tree.
 * Scalars: plain ints/floats/bools/null resolved like YAML 1.1 as Kubernetes'
 * sigs.k8s.io/yaml does (via JSON): true/false, null/~, integers, floats; quoted
 * scalars stay strings. Anchors/aliases supported, bounded (billion-laughs safe). */
json_t *tri_yaml_decode(const char *body, size_t len, char *err, size_t errlen);

/* Protobuf body as kubectl 1.32 sends it: "k8s\0" + runtime.Unknown{typeMeta,raw,...}.
 * Decodes the inner object with the schema of its kind into the JSON form the rest
 * of the server uses (apiVersion and kind set from the envelope). Supported kinds
 * are listed by tri_protobuf_supported(); others: NULL + err "unsupported kind". */
json_t *tri_protobuf_decode(const void *body, size_t len, char *err, size_t errlen);
bool tri_protobuf_supported(const char *api_version, const char *kind);

/* ---------- selectors ---------- */

typedef struct tri_selector tri_selector_t;

/* Label selector syntax: `a=b`, `a==b`, `a!=b`, `a in (x,y)`, `a notin (x)`, `a`,
 * `!a`, comma-separated (AND). Empty string = everything. Key and value syntax as
 * Kubernetes validates them (prefix/name, 63 chars, ...). */
int tri_label_selector_parse(const char *s, tri_selector_t **out, char *err, size_t errlen);
/* labels: a JSON object of string values, or NULL (no labels). */
bool tri_label_selector_match(const tri_selector_t *sel, const json_t *labels);

/* Field selector syntax: `f=v`, `f==v`, `f!=v`, comma-separated. Which fields are
 * allowed is the resource's business: after parsing, the caller checks each field
 * name with tri_field_selector_fields(). Values use \, escapes as Kubernetes does. */
int tri_field_selector_parse(const char *s, tri_selector_t **out, char *err, size_t errlen);
/* Each requirement's field name, in order; returns the count. */
size_t tri_field_selector_fields(const tri_selector_t *sel, const char **names, size_t max);
/* Match against an object: field paths are dotted ("metadata.name", "spec.nodeName",
 * "involvedObject.uid"); a missing field matches as "". */
bool tri_field_selector_match(const tri_selector_t *sel, const json_t *obj);

bool tri_selector_empty(const tri_selector_t *sel);
void tri_selector_free(tri_selector_t *sel);

/* ---------- patches ---------- */

/* RFC 7386 JSON merge patch. Returns the patched copy of `target` (target untouched). */
json_t *tri_merge_patch(const json_t *target, const json_t *patch, char *err, size_t errlen);

/* RFC 6902 JSON patch (ops add/remove/replace/move/copy/test). NULL + err when an op
 * fails (path missing, test mismatch) or the patch is malformed. */
json_t *tri_json_patch(const json_t *target, const json_t *patch, char *err, size_t errlen);

/* Strategic merge patch as kubectl sends it, with the merge keys of the built-in
 * types (containers/initContainers/env/volumes/... by name, ports by containerPort,
 * volumeMounts by mountPath, ...) looked up by JSON path within `kind`, and the
 * directives $patch (replace/merge/delete), $setElementOrder/<list>,
 * $retainKeys, $deleteFromPrimitiveList/<list> and null (delete). Lists without a
 * merge key are replaced. kind is the object's kind ("ConfigMap", "Pod", ...). */
json_t *tri_strategic_merge_patch(const json_t *target, const json_t *patch, const char *kind,
                                  char *err, size_t errlen);

/* The strategic-merge key of the list at json_path within kind: field names joined by
 * '.' from the object's root, list elements not named ("spec.template.spec.containers"
 * in a Deployment -> "name", "spec.containers.ports" in a Pod -> "containerPort").
 * NULL when the list has no merge key (atomic, or a set of primitives) or the path is
 * unknown. Returns a static string. */
const char *tri_strategic_merge_key(const char *kind, const char *json_path);

/* ---------- names and labels ---------- */

/* DNS-1123 subdomain (<= 253, lowercase alnum, '-', '.'), label (<= 63, no '.'),
 * qualified names for label/annotation keys, label values. Each returns NULL when
 * valid, else a static message in Kubernetes' words. */
const char *tri_validate_dns1123_subdomain(const char *s);
const char *tri_validate_dns1123_label(const char *s);
const char *tri_validate_qualified_name(const char *s);
const char *tri_validate_label_value(const char *s);

#endif
