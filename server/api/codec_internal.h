/* Private helpers shared by the codec files (server/api/{json,yaml,protobuf,selector,
 * patch_*,names}.c): error formatting into the caller's buffer, the nesting cap that
 * keeps every recursive walk bounded, and deep helpers over json_t trees. Nothing
 * here is part of the public contract in include/triarch/codec.h.
 */
#ifndef TRIARCH_CODEC_INTERNAL_H
#define TRIARCH_CODEC_INTERNAL_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "triarch/errors.h"

/* Deepest nesting of objects/arrays any decoder accepts or any patch walks. Real
 * Kubernetes objects stay below ~30 (a CRD's openAPIV3Schema is the deepest common
 * case); 100 leaves room and keeps recursion far from the stack limit. */
#define TRI_CODEC_MAX_DEPTH 100

/* Writes a formatted message into err (if err && errlen), always NUL-terminated. */
void tri_codec_errf(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* True when v nests no deeper than max levels of containers (a scalar is depth 0,
 * {} is 1). Stops walking as soon as the cap is crossed. */
bool tri_codec_depth_ok(const json_t *v, int max);

/* Deep equality as Go's reflect.DeepEqual on decoded JSON would see it: numbers
 * compare by value whether integer or real, objects ignore key order. */
bool tri_codec_json_equal(const json_t *a, const json_t *b);

/* ---------- protobuf schema (protobuf_schema.c, read by protobuf.c) ---------- */

/* How a field's wire value becomes JSON. */
typedef enum tri_pb_type {
    TRI_PB_STRING,     /* length-delimited UTF-8 -> string */
    TRI_PB_BYTES,      /* length-delimited -> base64 string, as Go's []byte */
    TRI_PB_BOOL,       /* varint -> true/false */
    TRI_PB_INT32,      /* varint, sign-extended -> integer */
    TRI_PB_INT64,      /* varint -> integer */
    TRI_PB_MESSAGE,    /* length-delimited nested message -> object */
    TRI_PB_MAP_STRING, /* map<string,string> entries -> object of strings */
    TRI_PB_MAP_BYTES,  /* map<string,bytes> entries -> object of base64 strings */
    TRI_PB_TIME,       /* metav1.Time{1 seconds, 2 nanos} -> RFC 3339 string, zero omitted */
    TRI_PB_INT_OR_STRING, /* intstr.IntOrString{1 type, 2 intVal, 3 strVal} */
    TRI_PB_QUANTITY,      /* resource.Quantity{1 string} -> its string */
    TRI_PB_MAP_QUANTITY,  /* map<string,Quantity> (core ResourceList) -> object of strings */
    TRI_PB_MICROTIME,     /* metav1.MicroTime{1 seconds, 2 nanos} -> RFC 3339 with 6 digits */
    TRI_PB_RAW_EXTENSION, /* runtime.RawExtension{1 raw}: raw is JSON -> that JSON value */
} tri_pb_type_t;

enum {
    TRI_PB_REPEATED = 1 << 0, /* repeated field -> JSON array */
    TRI_PB_KEEP_ZERO = 1 << 1, /* emitted even when zero/empty: a Go pointer (*bool,
                                * *string) or a field without omitempty */
    TRI_PB_INLINE = 1 << 2,    /* Go's `json:",inline"`: the nested message's fields
                                * land in the enclosing object */
};

typedef struct tri_pb_message tri_pb_message_t;

typedef struct tri_pb_field {
    unsigned number;
    const char *json;
    tri_pb_type_t type;
    unsigned flags;
    const tri_pb_message_t *message; /* for TRI_PB_MESSAGE */
} tri_pb_field_t;

struct tri_pb_message {
    const char *name;
    const tri_pb_field_t *fields;
    size_t nfields;
};

/* The schema of the object kubectl sends for (apiVersion, kind), or NULL. */
const tri_pb_message_t *tri_pb_schema_lookup(const char *api_version, const char *kind);

#endif
