/* JSON request bodies: the decoder every non-protobuf request body goes through.
 *
 * jansson does the parsing; this file adds what the API server needs on top: an object
 * at the top level, no NUL bytes anywhere (jansson would stop at a NUL in a
 * string-based API and Kubernetes never accepts one), a nesting cap so the later
 * recursive walks (patches, validation) stay bounded, and error messages that say
 * where the input broke. Duplicate keys are accepted and the last one wins, as Go's
 * encoding/json does. It also holds the small helpers the other codec files share.
 */
#include "codec_internal.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "triarch/codec.h"

void tri_codec_errf(char *err, size_t errlen, const char *fmt, ...)
{
    if (!err || errlen == 0)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}

bool tri_codec_depth_ok(const json_t *v, int max)
{
    if (!json_is_object(v) && !json_is_array(v))
        return true;
    if (max <= 0)
        return false;
    if (json_is_array(v)) {
        size_t i;
        const json_t *e;
        json_array_foreach(v, i, e) {
            if (!tri_codec_depth_ok(e, max - 1))
                return false;
        }
        return true;
    }
    const char *k;
    const json_t *e;
    json_object_foreach((json_t *)v, k, e) {
        if (!tri_codec_depth_ok(e, max - 1))
            return false;
    }
    return true;
}

static bool number_value(const json_t *v, double *out)
{
    if (json_is_integer(v)) {
        *out = (double)json_integer_value(v);
        return true;
    }
    if (json_is_real(v)) {
        *out = json_real_value(v);
        return true;
    }
    return false;
}

bool tri_codec_json_equal(const json_t *a, const json_t *b)
{
    double x, y;
    if (json_is_integer(a) && json_is_integer(b))
        return json_integer_value(a) == json_integer_value(b);
    if (number_value(a, &x) && number_value(b, &y))
        return x == y;
    if (json_typeof(a) != json_typeof(b))
        return false;
    if (json_is_array(a)) {
        size_t n = json_array_size(a);
        if (n != json_array_size(b))
            return false;
        for (size_t i = 0; i < n; i++) {
            if (!tri_codec_json_equal(json_array_get(a, i), json_array_get(b, i)))
                return false;
        }
        return true;
    }
    if (json_is_object(a)) {
        if (json_object_size(a) != json_object_size(b))
            return false;
        const char *k;
        const json_t *v;
        json_object_foreach((json_t *)a, k, v) {
            const json_t *w = json_object_get(b, k);
            if (!w || !tri_codec_json_equal(v, w))
                return false;
        }
        return true;
    }
    return json_equal((json_t *)a, (json_t *)b);
}

json_t *tri_json_decode(const char *body, size_t len, char *err, size_t errlen)
{
    if (!body || len == 0) {
        tri_codec_errf(err, errlen, "empty request body: a JSON object is required");
        return NULL;
    }
    const char *nul = memchr(body, '\0', len);
    if (nul) {
        tri_codec_errf(err, errlen, "invalid JSON: NUL byte at offset %zu", (size_t)(nul - body));
        return NULL;
    }
    /* No JSON_REJECT_DUPLICATES (last key wins) and no JSON_DISABLE_EOF_CHECK
     * (trailing garbage is an error), as encoding/json. */
    json_error_t jerr;
    json_t *doc = json_loadb(body, len, 0, &jerr);
    if (!doc) {
        tri_codec_errf(err, errlen, "invalid JSON at line %d, column %d: %s", jerr.line,
                       jerr.column, jerr.text);
        return NULL;
    }
    if (!json_is_object(doc)) {
        tri_codec_errf(err, errlen, "invalid JSON: the body must be an object, not %s",
                       json_is_array(doc) ? "an array" : "a scalar");
        json_decref(doc);
        return NULL;
    }
    if (!tri_codec_depth_ok(doc, TRI_CODEC_MAX_DEPTH)) {
        tri_codec_errf(err, errlen, "invalid JSON: nested deeper than %d levels",
                       TRI_CODEC_MAX_DEPTH);
        json_decref(doc);
        return NULL;
    }
    return doc;
}

/* ---------- byte-level member lookup ---------- */

static size_t skip_ws(const char *d, size_t i, size_t n)
{
    while (i < n && (d[i] == ' ' || d[i] == '\t' || d[i] == '\n' || d[i] == '\r'))
        i++;
    return i;
}

/* Past the string starting at d[i] == '"'; n when unterminated. Most strings of an
 * object are short keys ("f:name"): they are stepped through byte by byte; a long one
 * (an annotation, a certificate) is searched with memchr for the closing quote, which
 * is then checked for an odd run of backslashes before it. */
#define SHORT_STRING 24

static size_t skip_string(const char *d, size_t i, size_t n)
{
    size_t stop = i + 1 + SHORT_STRING < n ? i + 1 + SHORT_STRING : n;
    for (i++; i < stop; i++) {
        if (d[i] == '\\')
            i++;
        else if (d[i] == '"')
            return i + 1;
    }
    while (i < n) {
        const char *q = memchr(d + i, '"', n - i);
        if (q == NULL)
            return n;
        size_t at = (size_t)(q - d), bs = 0;
        while (at - bs > i && d[at - bs - 1] == '\\')
            bs++;
        /* a run that began before i: i is past a backslash pair or an escape */
        if (bs % 2 == 0)
            return at + 1;
        i = at + 1;
    }
    return n;
}

/* Past the value starting at d[i]; n when malformed (unbalanced). */
static size_t skip_value(const char *d, size_t i, size_t n)
{
    if (i >= n)
        return n;
    if (d[i] == '"')
        return skip_string(d, i, n);
    if (d[i] != '{' && d[i] != '[') {
        while (i < n && d[i] != ',' && d[i] != '}' && d[i] != ']' && d[i] != ' ' &&
               d[i] != '\n' && d[i] != '\t' && d[i] != '\r')
            i++;
        return i;
    }
    size_t depth = 0;
    for (; i < n; i++) {
        if (d[i] == '"') {
            i = skip_string(d, i, n) - 1;
        } else if (d[i] == '{' || d[i] == '[') {
            depth++;
        } else if (d[i] == '}' || d[i] == ']') {
            if (--depth == 0)
                return i + 1;
        }
    }
    return n;
}

/* The member [ks, after) whose value is [vs, ve), with one adjacent comma. */
static void member_cut(const char *d, size_t n, size_t prev_end, size_t ks, size_t after,
                       size_t vs, size_t ve, tri_json_range_t *out)
{
    out->found = true;
    out->vbeg = vs;
    out->vend = ve;
    if (d[after] == ',') { /* drop "key":value, */
        out->beg = ks;
        out->end = skip_ws(d, after + 1, n);
    } else if (prev_end > 0 && d[prev_end - 1] != '{') { /* last: drop ,"key":value */
        out->beg = prev_end;
        out->end = after;
    } else { /* the only member */
        out->beg = ks;
        out->end = after;
    }
}

/* The index in keys[0:nkeys) of the key spelled by the string [ks, ke), or -1. */
static int key_index(const char *d, size_t ks, size_t ke, const char *const *keys, size_t nkeys)
{
    for (size_t k = 0; k < nkeys; k++)
        if (ke - ks == strlen(keys[k]) + 2 && memcmp(d + ks + 1, keys[k], ke - ks - 2) == 0)
            return (int)k;
    return -1;
}

size_t tri_json_member_ranges(const char *d, size_t n, const char *const *keys, size_t nkeys,
                              tri_json_range_t *out)
{
    size_t found = 0;
    for (size_t k = 0; k < nkeys; k++)
        out[k].found = false;
    size_t i = skip_ws(d, 0, n);
    if (i >= n || d[i] != '{')
        return 0;
    size_t prev_end = i + 1; /* just past '{' or past the previous member's value */
    i = skip_ws(d, i + 1, n);
    while (i < n && d[i] == '"' && found < nkeys) {
        size_t ks = i, ke = skip_string(d, i, n);
        size_t c = skip_ws(d, ke, n);
        size_t vs = c < n && d[c] == ':' ? skip_ws(d, c + 1, n) : n;
        size_t ve = skip_value(d, vs, n);
        size_t after = skip_ws(d, ve, n);
        if (after >= n) { /* no ':', or no ',' or '}' after the value: malformed */
            for (size_t k = 0; k < nkeys; k++)
                out[k].found = false;
            return 0;
        }
        int k = key_index(d, ks, ke, keys, nkeys);
        if (k >= 0 && !out[k].found) {
            member_cut(d, n, prev_end, ks, after, vs, ve, &out[k]);
            found++;
        }
        if (d[after] != ',')
            break;
        prev_end = after;
        i = skip_ws(d, after + 1, n);
    }
    return found;
}

bool tri_json_member_range(const char *d, size_t n, const char *key, size_t *beg, size_t *end,
                           size_t *vbeg, size_t *vend)
{
    tri_json_range_t r = {0};
    if (tri_json_member_ranges(d, n, &key, 1, &r) != 1)
        return false;
    *beg = r.beg;
    *end = r.end;
    *vbeg = r.vbeg;
    *vend = r.vend;
    return true;
}
