/* RFC 6902 JSON patch (application/json-patch+json: kubectl patch --type=json).
 *
 * The patch is an array of operations applied in order to a copy of the target;
 * the first failing operation fails the whole patch (nothing is half-applied, the
 * target is never touched). Paths are RFC 6901 JSON pointers: "/a/b/0", "~1" for '/'
 * and "~0" for '~' inside a token, "-" meaning "after the last element" for add.
 * "test" compares by deep equality (numbers by value, object key order ignored).
 * Error messages name the operation index and the path, like evanphx/json-patch
 * (which Kubernetes uses) does.
 */
#include "codec_internal.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "triarch/codec.h"

/* Kubernetes caps the operations of one JSON patch (maxJSONPatchOperations). */
#define JSON_PATCH_MAX_OPS 10000

typedef struct ptr {
    char **tok; /* unescaped reference tokens */
    size_t n;
} ptr_t;

static void ptr_free(ptr_t *p)
{
    for (size_t i = 0; i < p->n; i++)
        free(p->tok[i]);
    free(p->tok);
    p->tok = NULL;
    p->n = 0;
}

/* Unescapes one reference token s[0..n): ~1 -> '/', ~0 -> '~', other '~' is an error. */
static char *unescape_token(const char *s, size_t n)
{
    char *out = malloc(n + 1);
    if (!out)
        return NULL;
    size_t j = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] != '~') {
            out[j++] = s[i];
            continue;
        }
        if (i + 1 < n && (s[i + 1] == '0' || s[i + 1] == '1')) {
            out[j++] = s[i + 1] == '0' ? '~' : '/';
            i++;
            continue;
        }
        free(out);
        errno = EINVAL;
        return NULL;
    }
    out[j] = '\0';
    return out;
}

static int ptr_parse(const char *s, ptr_t *p)
{
    p->tok = NULL;
    p->n = 0;
    if (!*s)
        return 0;
    if (*s != '/')
        return TRI_EINVAL;
    size_t count = 0;
    for (const char *c = s; *c; c++)
        count += *c == '/';
    p->tok = calloc(count, sizeof *p->tok);
    if (!p->tok)
        return TRI_ENOMEM;
    const char *start = s + 1;
    for (;;) {
        const char *slash = strchr(start, '/');
        size_t n = slash ? (size_t)(slash - start) : strlen(start);
        errno = 0;
        p->tok[p->n] = unescape_token(start, n);
        if (!p->tok[p->n]) {
            int rc = errno == EINVAL ? TRI_EINVAL : TRI_ENOMEM;
            ptr_free(p);
            return rc;
        }
        p->n++;
        if (!slash)
            break;
        start = slash + 1;
    }
    return 0;
}

/* An array index token: digits only, no leading zero (RFC 6901). */
static bool parse_index(const char *t, size_t *out)
{
    if (!*t || (t[0] == '0' && t[1]))
        return false;
    size_t v = 0;
    for (; *t; t++) {
        if (*t < '0' || *t > '9' || v > (SIZE_MAX - 9) / 10)
            return false;
        v = v * 10 + (size_t)(*t - '0');
    }
    *out = v;
    return true;
}

/* Walks tokens [0, n) from root; NULL when a step is missing. */
static json_t *walk(json_t *root, const ptr_t *p, size_t n)
{
    json_t *cur = root;
    for (size_t i = 0; i < n && cur; i++) {
        if (json_is_object(cur)) {
            cur = json_object_get(cur, p->tok[i]);
        } else if (json_is_array(cur)) {
            size_t idx;
            cur = parse_index(p->tok[i], &idx) ? json_array_get(cur, idx) : NULL;
        } else {
            cur = NULL;
        }
    }
    return cur;
}

typedef struct ctx {
    json_t *doc;
    size_t opi;
    const char *op;
    char *err;
    size_t errlen;
} ctx_t;

static int fail(ctx_t *c, const char *what, const char *path)
{
    tri_codec_errf(c->err, c->errlen, "json patch operation %zu (%s): %s: \"%s\"", c->opi, c->op,
                   what, path);
    return TRI_EINVAL;
}

/* Adds value (reference stolen) at p. */
static int do_add(ctx_t *c, const ptr_t *p, json_t *value, const char *path)
{
    if (p->n == 0) {
        json_decref(c->doc);
        c->doc = value;
        return 0;
    }
    json_t *parent = walk(c->doc, p, p->n - 1);
    const char *last = p->tok[p->n - 1];
    if (json_is_object(parent)) {
        if (json_object_set_new(parent, last, value) != 0)
            return TRI_ENOMEM;
        return 0;
    }
    if (json_is_array(parent)) {
        size_t idx, size = json_array_size(parent);
        if (strcmp(last, "-") == 0)
            idx = size;
        else if (!parse_index(last, &idx) || idx > size) {
            json_decref(value);
            return fail(c, "index out of range or invalid", path);
        }
        if (json_array_insert_new(parent, idx, value) != 0)
            return TRI_ENOMEM;
        return 0;
    }
    json_decref(value);
    return fail(c, "doc is missing path", path);
}

/* Removes the value at p; *removed gets it (new reference) when asked for. */
static int do_remove(ctx_t *c, const ptr_t *p, const char *path, json_t **removed)
{
    if (p->n == 0)
        return fail(c, "cannot remove the whole document", path);
    json_t *parent = walk(c->doc, p, p->n - 1);
    const char *last = p->tok[p->n - 1];
    if (json_is_object(parent)) {
        json_t *v = json_object_get(parent, last);
        if (!v)
            return fail(c, "doc is missing path", path);
        if (removed)
            *removed = json_incref(v);
        json_object_del(parent, last);
        return 0;
    }
    size_t idx;
    if (json_is_array(parent) && parse_index(last, &idx) && idx < json_array_size(parent)) {
        if (removed)
            *removed = json_incref(json_array_get(parent, idx));
        json_array_remove(parent, idx);
        return 0;
    }
    return fail(c, "doc is missing path", path);
}

static int do_replace(ctx_t *c, const ptr_t *p, json_t *value, const char *path)
{
    if (p->n == 0) {
        json_decref(c->doc);
        c->doc = value;
        return 0;
    }
    json_t *parent = walk(c->doc, p, p->n - 1);
    const char *last = p->tok[p->n - 1];
    if (json_is_object(parent) && json_object_get(parent, last)) {
        return json_object_set_new(parent, last, value) == 0 ? 0 : TRI_ENOMEM;
    }
    size_t idx;
    if (json_is_array(parent) && parse_index(last, &idx) && idx < json_array_size(parent))
        return json_array_set_new(parent, idx, value) == 0 ? 0 : TRI_ENOMEM;
    json_decref(value);
    return fail(c, "doc is missing path", path);
}

static const char *op_string(ctx_t *c, const json_t *op, const char *name)
{
    const json_t *v = json_object_get(op, name);
    if (!json_is_string(v)) {
        tri_codec_errf(c->err, c->errlen, "json patch operation %zu (%s): missing \"%s\" string",
                       c->opi, c->op, name);
        return NULL;
    }
    return json_string_value(v);
}

static int parse_path(ctx_t *c, const char *s, ptr_t *p)
{
    int rc = ptr_parse(s, p);
    if (rc == TRI_EINVAL)
        return fail(c, "invalid JSON pointer", s);
    return rc;
}

/* "move" may not move a value into one of its own children. */
static bool is_proper_prefix(const ptr_t *from, const ptr_t *to)
{
    if (from->n >= to->n)
        return false;
    for (size_t i = 0; i < from->n; i++) {
        if (strcmp(from->tok[i], to->tok[i]) != 0)
            return false;
    }
    return true;
}

static int apply_from_op(ctx_t *c, const json_t *op, const ptr_t *p, const char *path)
{
    const char *from_s = op_string(c, op, "from");
    if (!from_s)
        return TRI_EINVAL;
    ptr_t from;
    int rc = parse_path(c, from_s, &from);
    if (rc != 0)
        return rc;
    if (strcmp(c->op, "move") == 0) {
        json_t *v = NULL;
        if (is_proper_prefix(&from, p))
            rc = fail(c, "cannot move a value into one of its children", path);
        else
            rc = do_remove(c, &from, from_s, &v);
        if (rc == 0)
            rc = do_add(c, p, v, path);
    } else {
        json_t *v = walk(c->doc, &from, from.n);
        json_t *copy = v ? json_deep_copy(v) : NULL;
        if (!v)
            rc = fail(c, "doc is missing from path", from_s);
        else if (!copy)
            rc = TRI_ENOMEM;
        else
            rc = do_add(c, p, copy, path);
    }
    ptr_free(&from);
    return rc;
}

static int apply_op(ctx_t *c, const json_t *op)
{
    if (!json_is_object(op)) {
        tri_codec_errf(c->err, c->errlen, "json patch operation %zu: not an object", c->opi);
        return TRI_EINVAL;
    }
    c->op = "?";
    const char *name = op_string(c, op, "op");
    if (!name)
        return TRI_EINVAL;
    c->op = name;
    const char *path = op_string(c, op, "path");
    if (!path)
        return TRI_EINVAL;
    ptr_t p;
    int rc = parse_path(c, path, &p);
    if (rc != 0)
        return rc;
    const json_t *value = json_object_get(op, "value");
    bool needs_value = !strcmp(name, "add") || !strcmp(name, "replace") || !strcmp(name, "test");
    if (needs_value && !value) {
        rc = fail(c, "missing value", path);
    } else if (!strcmp(name, "add") || !strcmp(name, "replace")) {
        json_t *copy = json_deep_copy(value);
        if (!copy)
            rc = TRI_ENOMEM;
        else
            rc = name[0] == 'a' ? do_add(c, &p, copy, path) : do_replace(c, &p, copy, path);
    } else if (!strcmp(name, "remove")) {
        rc = do_remove(c, &p, path, NULL);
    } else if (!strcmp(name, "move") || !strcmp(name, "copy")) {
        rc = apply_from_op(c, op, &p, path);
    } else if (!strcmp(name, "test")) {
        json_t *cur = walk(c->doc, &p, p.n);
        if (!cur)
            rc = fail(c, "doc is missing path", path);
        else if (!tri_codec_json_equal(cur, value))
            rc = fail(c, "testing value failed", path);
    } else {
        tri_codec_errf(c->err, c->errlen, "json patch operation %zu: unexpected kind of operation "
                       "\"%s\"", c->opi, name);
        rc = TRI_EINVAL;
    }
    ptr_free(&p);
    return rc;
}

json_t *tri_json_patch(const json_t *target, const json_t *patch, char *err, size_t errlen)
{
    if (!json_is_array(patch)) {
        tri_codec_errf(err, errlen, "json patch: the patch must be an array of operations");
        return NULL;
    }
    if (json_array_size(patch) > JSON_PATCH_MAX_OPS) {
        tri_codec_errf(err, errlen, "json patch: more than %d operations", JSON_PATCH_MAX_OPS);
        return NULL;
    }
    if (!tri_codec_depth_ok(patch, TRI_CODEC_MAX_DEPTH + 2)) {
        tri_codec_errf(err, errlen, "json patch: nested deeper than %d levels",
                       TRI_CODEC_MAX_DEPTH);
        return NULL;
    }
    ctx_t c = {.err = err, .errlen = errlen};
    c.doc = target ? json_deep_copy(target) : json_null();
    if (!c.doc) {
        tri_codec_errf(err, errlen, "json patch: out of memory");
        return NULL;
    }
    size_t i;
    const json_t *op;
    json_array_foreach(patch, i, op) {
        c.opi = i;
        int rc = apply_op(&c, op);
        if (rc != 0) {
            if (rc == TRI_ENOMEM)
                tri_codec_errf(err, errlen, "json patch: out of memory");
            json_decref(c.doc);
            return NULL;
        }
    }
    return c.doc;
}
