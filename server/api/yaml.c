/* YAML request bodies into the same json_t tree as JSON bodies.
 *
 * Kubernetes turns YAML into JSON with sigs.k8s.io/yaml, which decodes with its
 * yaml.v2 fork (YAML 1.1 rules) and re-encodes as JSON. This file reproduces that
 * from libyaml's event stream, so the rest of the server sees exactly the JSON a
 * real apiserver would have seen:
 *   - plain scalars resolve as yaml.v2 does: "", ~, null/Null/NULL -> null;
 *     y/Y/yes/Yes/YES/on/On/ON/true/True/TRUE -> true and the n/no/off/false
 *     spellings -> false (YAML 1.1, as Kubernetes really behaves); integers in
 *     decimal, 0x hex, 0o/leading-0 octal and 0b binary with '_' separators; floats;
 *     everything else (timestamps included) stays a string. A float with an integral
 *     value becomes an integer, as Go's JSON round trip makes it.
 *   - quoted and block scalars, and !!str, stay strings; .inf/.nan are errors (JSON
 *     cannot carry them, Kubernetes fails too).
 *   - mapping keys become strings (a bool key becomes "true"/"false", an int its
 *     decimal form); a key that is a mapping or a sequence, or null, is an error.
 *   - anchors and aliases are expanded by copy, with a budget of copied nodes
 *     proportional to the input size (billion-laughs safe); "<<" merge keys work.
 *   - one document only; nesting capped at TRI_CODEC_MAX_DEPTH.
 * The builder is an explicit stack, so nothing here recurses on input depth except
 * node counting and copying of aliased values, both bounded by the depth cap.
 */
#include "codec_internal.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "triarch/codec.h"

/* Alias expansion budget: a document may copy this many nodes through aliases on
 * top of a base allowance, per input byte. Real manifests copy a few hundred. */
#define YAML_ALIAS_BASE_NODES 100000
#define YAML_ALIAS_NODES_PER_BYTE 4
/* Longest plain scalar we try to read as a number (int64 has 19 digits; '_'
 * separators and prefixes add a few). */
#define YAML_NUMBER_MAX_LEN 96

#define TAG_PREFIX "tag:yaml.org,2002:"

typedef struct frame {
    json_t *node;   /* object or array being filled */
    char *anchor;   /* anchor to register when the container ends, or NULL */
    char *key;      /* pending key of a mapping, NULL when the next scalar is a key */
    bool merge_key; /* the pending key is the "<<" merge key */
} frame_t;

typedef struct anchor {
    char *name;
    json_t *value;
} anchor_t;

typedef struct builder {
    frame_t stack[TRI_CODEC_MAX_DEPTH];
    int depth;
    anchor_t *anchors;
    size_t nanchors, capanchors;
    size_t alias_budget; /* nodes aliases may still copy */
    json_t *root;
    int documents;
    char *err;
    size_t errlen;
} builder_t;

/* ---------- scalar resolution (yaml.v2 rules) ---------- */

static bool str_in(const char *s, const char *const *list)
{
    for (; *list; list++) {
        if (strcmp(s, *list) == 0)
            return true;
    }
    return false;
}

static const char *const yaml_nulls[] = {"", "~", "null", "Null", "NULL", NULL};
static const char *const yaml_trues[] = {"y",  "Y",    "yes",  "Yes", "YES", "on",
                                         "On", "ON",   "true", "True", "TRUE", NULL};
static const char *const yaml_falses[] = {"n",   "N",     "no",    "No",    "NO", "off",
                                          "Off", "OFF",   "false", "False", "FALSE", NULL};
static const char *const yaml_infs[] = {".inf", ".Inf", ".INF", "+.inf", "+.Inf", "+.INF",
                                        "-.inf", "-.Inf", "-.INF", ".nan", ".NaN", ".NAN", NULL};

/* Copies s without '_' into out (size outlen); false when it does not fit. */
static bool strip_underscores(const char *s, char *out, size_t outlen)
{
    size_t j = 0;
    for (; *s; s++) {
        if (*s == '_')
            continue;
        if (j + 1 >= outlen)
            return false;
        out[j++] = *s;
    }
    out[j] = '\0';
    return true;
}

/* Go's strconv.ParseInt(s, 0, 64): sign, then 0x/0o/0b prefix, leading-0 octal or
 * decimal; the whole string must be consumed and fit in int64. */
static bool parse_go_int(const char *s, int64_t *out)
{
    bool neg = false;
    if (*s == '+' || *s == '-')
        neg = *s++ == '-';
    int base = 10;
    if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
        base = 16;
        s += 2;
    } else if (s[0] == '0' && (s[1] == 'o' || s[1] == 'O')) {
        base = 8;
        s += 2;
    } else if (s[0] == '0' && (s[1] == 'b' || s[1] == 'B')) {
        base = 2;
        s += 2;
    } else if (s[0] == '0' && s[1]) {
        base = 8;
        s += 1;
    }
    if (!*s)
        return false;
    uint64_t v = 0;
    for (; *s; s++) {
        int d;
        if (*s >= '0' && *s <= '9')
            d = *s - '0';
        else if (*s >= 'a' && *s <= 'f')
            d = *s - 'a' + 10;
        else if (*s >= 'A' && *s <= 'F')
            d = *s - 'A' + 10;
        else
            return false;
        if (d >= base)
            return false;
        if (v > (UINT64_MAX - (uint64_t)d) / (uint64_t)base)
            return false;
        v = v * (uint64_t)base + (uint64_t)d;
    }
    if (neg) {
        if (v > (uint64_t)INT64_MAX + 1)
            return false;
        *out = v == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)v;
        return true;
    }
    if (v > (uint64_t)INT64_MAX)
        return false;
    *out = (int64_t)v;
    return true;
}

/* yaml.v2's float syntax: [-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)? */
static bool is_yaml_float(const char *s)
{
    if (*s == '+' || *s == '-')
        s++;
    if (*s == '.') {
        s++;
        if (*s < '0' || *s > '9')
            return false;
        while (*s >= '0' && *s <= '9')
            s++;
    } else {
        if (*s < '0' || *s > '9')
            return false;
        while (*s >= '0' && *s <= '9')
            s++;
        if (*s == '.') {
            s++;
            while (*s >= '0' && *s <= '9')
                s++;
        }
    }
    if (*s == 'e' || *s == 'E') {
        s++;
        if (*s == '+' || *s == '-')
            s++;
        if (*s < '0' || *s > '9')
            return false;
        while (*s >= '0' && *s <= '9')
            s++;
    }
    return *s == '\0';
}

/* A float as Go's JSON round trip leaves it: integral values within int64 become
 * integers ("replicas: 3.0" is 3 to the apiserver). */
static json_t *number_from_double(double d)
{
    if (d == floor(d) && d >= -9.2233720368547758e18 && d < 9.2233720368547758e18)
        return json_integer((json_int_t)d);
    return json_real(d);
}

/* Resolves a plain scalar. Returns NULL with *bad set for .inf/.nan. */
static json_t *resolve_plain(const char *s, bool *bad)
{
    *bad = false;
    if (str_in(s, yaml_nulls))
        return json_null();
    if (str_in(s, yaml_trues))
        return json_true();
    if (str_in(s, yaml_falses))
        return json_false();
    if (str_in(s, yaml_infs)) {
        *bad = true;
        return NULL;
    }
    if (strchr("+-.0123456789", s[0])) {
        char plain[YAML_NUMBER_MAX_LEN];
        if (strip_underscores(s, plain, sizeof plain)) {
            int64_t iv;
            if (parse_go_int(plain, &iv))
                return json_integer((json_int_t)iv);
            if (is_yaml_float(plain)) {
                errno = 0;
                double d = strtod(plain, NULL);
                if (errno == 0 && isfinite(d))
                    return number_from_double(d);
            }
        }
    }
    return json_string(s);
}

/* Turns a scalar event into a value. `tag` is NULL when the scalar had none. */
static json_t *scalar_value(builder_t *b, const yaml_event_t *ev)
{
    const char *s = (const char *)ev->data.scalar.value;
    const char *tag = (const char *)ev->data.scalar.tag;
    bool plain = ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
    if (strlen(s) != ev->data.scalar.length) {
        tri_codec_errf(b->err, b->errlen, "invalid YAML: NUL character in a scalar");
        return NULL;
    }
    bool resolve = plain && !tag;
    if (tag && strncmp(tag, TAG_PREFIX, strlen(TAG_PREFIX)) == 0) {
        const char *t = tag + strlen(TAG_PREFIX);
        resolve = strcmp(t, "str") != 0 && strcmp(t, "binary") != 0 &&
                  strcmp(t, "timestamp") != 0;
    }
    if (!resolve)
        return json_string(s);
    bool bad;
    json_t *v = resolve_plain(s, &bad);
    if (bad) {
        tri_codec_errf(b->err, b->errlen,
                       "invalid YAML at line %zu: %s cannot be represented in JSON",
                       ev->start_mark.line + 1, s);
        return NULL;
    }
    return v;
}

/* ---------- anchors and alias budget ---------- */

static size_t count_nodes(const json_t *v)
{
    size_t n = 1;
    size_t i;
    const char *k;
    json_t *e;
    if (json_is_array(v)) {
        json_array_foreach(v, i, e)
            n += count_nodes(e);
    } else if (json_is_object(v)) {
        json_object_foreach((json_t *)v, k, e)
            n += count_nodes(e);
    }
    return n;
}

static int anchor_add(builder_t *b, const char *name, json_t *value)
{
    /* A later anchor of the same name shadows the earlier one (YAML 1.1). */
    if (b->nanchors == b->capanchors) {
        size_t cap = b->capanchors ? b->capanchors * 2 : 8;
        anchor_t *a = realloc(b->anchors, cap * sizeof *a);
        if (!a)
            return -1;
        b->anchors = a;
        b->capanchors = cap;
    }
    char *dup = strdup(name);
    if (!dup)
        return -1;
    b->anchors[b->nanchors].name = dup;
    b->anchors[b->nanchors].value = json_incref(value);
    b->nanchors++;
    return 0;
}

static json_t *alias_value(builder_t *b, const yaml_event_t *ev)
{
    const char *name = (const char *)ev->data.alias.anchor;
    for (size_t i = b->nanchors; i-- > 0;) {
        if (strcmp(b->anchors[i].name, name) != 0)
            continue;
        size_t n = count_nodes(b->anchors[i].value);
        if (n > b->alias_budget) {
            tri_codec_errf(b->err, b->errlen,
                           "invalid YAML at line %zu: aliases expand to too many nodes",
                           ev->start_mark.line + 1);
            return NULL;
        }
        b->alias_budget -= n;
        return json_deep_copy(b->anchors[i].value);
    }
    tri_codec_errf(b->err, b->errlen, "invalid YAML at line %zu: unknown anchor '%s' referenced",
                   ev->start_mark.line + 1, name);
    return NULL;
}

/* ---------- the builder ---------- */

/* A mapping key as sigs.k8s.io/yaml stringifies it. */
static char *key_string(builder_t *b, const json_t *k, size_t line)
{
    char tmp[64];
    switch (json_typeof(k)) {
    case JSON_STRING:
        return strdup(json_string_value(k));
    case JSON_INTEGER:
        snprintf(tmp, sizeof tmp, "%" JSON_INTEGER_FORMAT, json_integer_value(k));
        return strdup(tmp);
    case JSON_REAL:
        snprintf(tmp, sizeof tmp, "%.17g", json_real_value(k));
        return strdup(tmp);
    case JSON_TRUE:
        return strdup("true");
    case JSON_FALSE:
        return strdup("false");
    default:
        tri_codec_errf(b->err, b->errlen,
                       "invalid YAML at line %zu: a mapping key must be a string, number or "
                       "bool",
                       line);
        return NULL;
    }
}

static int merge_into(builder_t *b, json_t *map, json_t *value, size_t line)
{
    if (json_is_object(value))
        return json_object_update(map, value) == 0 ? 0 : -1;
    if (json_is_array(value)) {
        /* Earlier maps in the list take precedence: apply them last. */
        for (size_t i = json_array_size(value); i-- > 0;) {
            json_t *m = json_array_get(value, i);
            if (!json_is_object(m))
                goto bad;
            if (json_object_update(map, m) != 0)
                return -1;
        }
        return 0;
    }
bad:
    tri_codec_errf(b->err, b->errlen,
                   "invalid YAML at line %zu: map merge requires a map or a sequence of maps",
                   line);
    return -1;
}

/* Hands a finished value (reference stolen) to the enclosing container. */
static int deliver(builder_t *b, json_t *v, bool is_plain_merge, size_t line)
{
    if (b->depth == 0) {
        b->root = v;
        return 0;
    }
    frame_t *f = &b->stack[b->depth - 1];
    if (json_is_array(f->node))
        return json_array_append_new(f->node, v) == 0 ? 0 : -1;
    if (!f->key && !f->merge_key) {
        if (is_plain_merge) {
            f->merge_key = true;
            json_decref(v);
            return 0;
        }
        if (json_is_object(v) || json_is_array(v)) {
            tri_codec_errf(b->err, b->errlen,
                           "invalid YAML at line %zu: a mapping key must be a scalar", line);
            json_decref(v);
            return -1;
        }
        f->key = key_string(b, v, line);
        json_decref(v);
        return f->key ? 0 : -1;
    }
    int rc;
    if (f->merge_key) {
        rc = merge_into(b, f->node, v, line);
        json_decref(v);
        f->merge_key = false;
    } else {
        rc = json_object_set_new(f->node, f->key, v) == 0 ? 0 : -1;
        free(f->key);
        f->key = NULL;
    }
    return rc;
}

static int push(builder_t *b, json_t *node, const yaml_char_t *anchor, size_t line)
{
    if (b->depth >= TRI_CODEC_MAX_DEPTH) {
        tri_codec_errf(b->err, b->errlen, "invalid YAML at line %zu: nested deeper than %d levels",
                       line, TRI_CODEC_MAX_DEPTH);
        json_decref(node);
        return -1;
    }
    if (!node)
        return -1;
    frame_t *f = &b->stack[b->depth++];
    f->node = node;
    f->key = NULL;
    f->merge_key = false;
    f->anchor = anchor ? strdup((const char *)anchor) : NULL;
    return 0;
}

static int pop(builder_t *b, size_t line)
{
    frame_t *f = &b->stack[--b->depth];
    json_t *node = f->node;
    int rc = 0;
    if (f->anchor)
        rc = anchor_add(b, f->anchor, node);
    free(f->anchor);
    free(f->key);
    if (rc != 0) {
        json_decref(node);
        return rc;
    }
    return deliver(b, node, false, line);
}

static int on_value(builder_t *b, json_t *v, const yaml_char_t *anchor, bool merge, size_t line)
{
    if (!v)
        return -1;
    if (anchor && anchor_add(b, (const char *)anchor, v) != 0) {
        json_decref(v);
        return -1;
    }
    return deliver(b, v, merge, line);
}

static bool awaiting_key(const builder_t *b)
{
    if (b->depth == 0)
        return false;
    const frame_t *f = &b->stack[b->depth - 1];
    return json_is_object(f->node) && !f->key && !f->merge_key;
}

static int on_event(builder_t *b, const yaml_event_t *ev)
{
    size_t line = ev->start_mark.line + 1;
    switch (ev->type) {
    case YAML_DOCUMENT_START_EVENT:
        if (++b->documents > 1) {
            tri_codec_errf(b->err, b->errlen,
                           "invalid YAML: expected one document, found more (line %zu)", line);
            return -1;
        }
        return 0;
    case YAML_SCALAR_EVENT: {
        bool merge = awaiting_key(b) && ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE &&
                     !ev->data.scalar.tag && strcmp((const char *)ev->data.scalar.value, "<<") == 0;
        return on_value(b, scalar_value(b, ev), ev->data.scalar.anchor, merge, line);
    }
    case YAML_ALIAS_EVENT:
        return on_value(b, alias_value(b, ev), NULL, false, line);
    case YAML_SEQUENCE_START_EVENT:
        return push(b, json_array(), ev->data.sequence_start.anchor, line);
    case YAML_MAPPING_START_EVENT:
        return push(b, json_object(), ev->data.mapping_start.anchor, line);
    case YAML_SEQUENCE_END_EVENT:
    case YAML_MAPPING_END_EVENT:
        return pop(b, line);
    default:
        return 0;
    }
}

static void builder_free(builder_t *b)
{
    while (b->depth > 0) {
        frame_t *f = &b->stack[--b->depth];
        json_decref(f->node);
        free(f->anchor);
        free(f->key);
    }
    for (size_t i = 0; i < b->nanchors; i++) {
        free(b->anchors[i].name);
        json_decref(b->anchors[i].value);
    }
    free(b->anchors);
}

json_t *tri_yaml_decode(const char *body, size_t len, char *err, size_t errlen)
{
    if (!body || len == 0) {
        tri_codec_errf(err, errlen, "empty request body: a YAML mapping is required");
        return NULL;
    }
    yaml_parser_t parser;
    if (!yaml_parser_initialize(&parser)) {
        tri_codec_errf(err, errlen, "out of memory");
        return NULL;
    }
    yaml_parser_set_input_string(&parser, (const unsigned char *)body, len);
    builder_t b = {.err = err, .errlen = errlen};
    b.alias_budget = YAML_ALIAS_BASE_NODES + YAML_ALIAS_NODES_PER_BYTE * len;
    if (err && errlen)
        err[0] = '\0';
    bool done = false, failed = false;
    while (!done && !failed) {
        yaml_event_t ev;
        if (!yaml_parser_parse(&parser, &ev)) {
            tri_codec_errf(err, errlen, "invalid YAML at line %zu, column %zu: %s%s%s",
                           parser.problem_mark.line + 1, parser.problem_mark.column + 1,
                           parser.problem ? parser.problem : "parse error",
                           parser.context ? " " : "", parser.context ? parser.context : "");
            failed = true;
            break;
        }
        done = ev.type == YAML_STREAM_END_EVENT;
        if (on_event(&b, &ev) != 0)
            failed = true;
        yaml_event_delete(&ev);
    }
    yaml_parser_delete(&parser);
    json_t *root = b.root;
    builder_free(&b);
    if (failed) {
        if (err && errlen && !err[0])
            tri_codec_errf(err, errlen, "invalid YAML: out of memory");
        json_decref(root);
        return NULL;
    }
    if (!root) {
        tri_codec_errf(err, errlen, "invalid YAML: empty document, a mapping is required");
        return NULL;
    }
    if (!json_is_object(root)) {
        tri_codec_errf(err, errlen, "invalid YAML: the document must be a mapping (an object)");
        json_decref(root);
        return NULL;
    }
    /* An alias copied into a deep spot can nest deeper than the stack allowed. */
    if (!tri_codec_depth_ok(root, TRI_CODEC_MAX_DEPTH)) {
        tri_codec_errf(err, errlen, "invalid YAML: nested deeper than %d levels",
                       TRI_CODEC_MAX_DEPTH);
        json_decref(root);
        return NULL;
    }
    return root;
}
