/* Objects in and out of the store. A stored value is the object's compact JSON
 * with kind, apiVersion and metadata first and no metadata.resourceVersion: the
 * resourceVersion is the key's mod_revision, spliced in on the way out, so GETs
 * and plain lists copy bytes instead of parsing and re-encoding objects. */
#include <stdio.h>
#include <string.h>

#include "triarch/api.h"
#include "triarch/codec.h"
#include "triarch/errors.h"

static const char META_TAG[] = "\"metadata\":{";

static int append_cb(const char *buf, size_t size, void *data)
{
    return tri_buf_append(data, buf, size) == 0 ? 0 : -1;
}

int tri_object_encode(const json_t *obj, tri_buf_t *out)
{
    json_t *o = json_object();
    if (o == NULL)
        return TRI_ENOMEM;
    static const char *const first[] = {"kind", "apiVersion"};
    for (size_t i = 0; i < 2; i++) {
        json_t *v = json_object_get(obj, first[i]);
        if (v)
            json_object_set(o, first[i], v);
    }
    json_t *meta = json_object_get(obj, "metadata");
    json_t *m = json_is_object(meta) ? json_copy(meta) : json_object();
    json_object_del(m, "resourceVersion");
    json_object_set_new(o, "metadata", m);
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)obj, k, v) {
        if (strcmp(k, "kind") && strcmp(k, "apiVersion") && strcmp(k, "metadata"))
            json_object_set(o, k, v);
    }
    int rv = json_dump_callback(o, append_cb, out, JSON_COMPACT) == 0 ? 0 : TRI_ENOMEM;
    json_decref(o);
    return rv;
}

int tri_object_render_bytes(const char *data, size_t len, int64_t rev, tri_buf_t *out)
{
    const char *p = memmem(data, len, META_TAG, sizeof META_TAG - 1);
    if (p == NULL)
        return tri_buf_append(out, data, len);
    size_t head = (size_t)(p - data) + sizeof META_TAG - 1;
    char rvs[48];
    bool empty = head < len && data[head] == '}';
    int n = snprintf(rvs, sizeof rvs, "\"resourceVersion\":\"%lld\"%s", (long long)rev,
                     empty ? "" : ",");
    int rv = tri_buf_reserve(out, len + (size_t)n);
    rv = rv ? rv : tri_buf_append(out, data, head);
    rv = rv ? rv : tri_buf_append(out, rvs, (size_t)n);
    return rv ? rv : tri_buf_append(out, data + head, len - head);
}

int tri_object_render(const tri_val_t *stored, int64_t rev, tri_buf_t *out)
{
    return tri_object_render_bytes(stored->data, stored->len, rev, out);
}

json_t *tri_object_load(const tri_val_t *stored, int64_t rev)
{
    json_t *o = json_loadb(stored->data, stored->len, 0, NULL);
    if (o == NULL)
        return NULL;
    json_t *meta = json_object_get(o, "metadata");
    if (json_is_object(meta)) {
        char buf[32];
        snprintf(buf, sizeof buf, "%lld", (long long)rev);
        json_object_set_new(meta, "resourceVersion", json_string(buf));
    }
    return o;
}

const char *tri_object_field(const json_t *obj, const char *path, char *tmp, size_t tmplen)
{
    const json_t *cur = obj;
    const char *p = path;
    while (cur != NULL && *p) {
        const char *dot = strchr(p, '.');
        size_t n = dot ? (size_t)(dot - p) : strlen(p);
        char key[128];
        if (n >= sizeof key)
            return "";
        memcpy(key, p, n);
        key[n] = '\0';
        cur = json_object_get(cur, key);
        p = dot ? dot + 1 : p + n;
    }
    if (json_is_string(cur))
        return json_string_value(cur);
    if (json_is_integer(cur)) {
        snprintf(tmp, tmplen, "%lld", (long long)json_integer_value(cur));
        return tmp;
    }
    if (json_is_boolean(cur))
        return json_is_true(cur) ? "true" : "false";
    return "";
}

/* ---------- served versions stored as another version ---------- */

json_t *tri_object_load_as(const tri_resource_t *r, const tri_val_t *stored, int64_t rev)
{
    json_t *o = tri_object_load(stored, rev);
    if (o == NULL || r->from_storage == NULL)
        return o;
    json_t *c = r->from_storage(o);
    json_decref(o);
    return c;
}

int tri_object_render_as(const tri_resource_t *r, const char *data, size_t len, int64_t rev,
                         tri_buf_t *out)
{
    if (r->from_storage == NULL)
        return tri_object_render_bytes(data, len, rev, out);
    tri_val_t *v = tri_val_new(data, len);
    json_t *o = v ? tri_object_load_as(r, v, rev) : NULL;
    tri_val_unref(v);
    if (o == NULL)
        return TRI_ENOMEM;
    int rc = json_dump_callback(o, append_cb, out, JSON_COMPACT) == 0 ? 0 : TRI_ENOMEM;
    json_decref(o);
    return rc;
}

int tri_object_encode_as(const tri_resource_t *r, const json_t *obj, tri_buf_t *out)
{
    if (r->to_storage == NULL)
        return tri_object_encode(obj, out);
    json_t *s = r->to_storage(obj);
    if (s == NULL)
        return TRI_EINVAL;
    int rc = tri_object_encode(s, out);
    json_decref(s);
    return rc;
}

/* Table rows and selectors never read metadata.managedFields, often the largest
 * and most nested part of an object, nor the spec members a resource lists in
 * lean_skip (a pod's volumes): cut them out of the bytes before parsing. */
#define LEAN_CUTS 8

typedef struct cut {
    size_t beg, end;
} cut_t;

static size_t find_cuts(const tri_resource_t *r, const tri_val_t *v, cut_t *cuts)
{
    /* one pass over the object's members, one over metadata's, one over spec's */
    static const char *const top[] = {"metadata", "spec"};
    static const char *const managed[] = {"managedFields"};
    tri_json_range_t t[2], f[LEAN_CUTS];
    size_t n = 0;
    if (tri_json_member_ranges(v->data, v->len, top, r->lean_skip[0] ? 2 : 1, t) == 0)
        return 0;
    if (t[0].found &&
        tri_json_member_ranges(v->data + t[0].vbeg, t[0].vend - t[0].vbeg, managed, 1, f) == 1)
        cuts[n++] = (cut_t){t[0].vbeg + f[0].beg, t[0].vbeg + f[0].end};
    size_t nskip = 0;
    while (nskip < sizeof r->lean_skip / sizeof r->lean_skip[0] && nskip < LEAN_CUTS - 1 &&
           r->lean_skip[nskip])
        nskip++;
    if (nskip == 0 || !t[1].found ||
        tri_json_member_ranges(v->data + t[1].vbeg, t[1].vend - t[1].vbeg, r->lean_skip, nskip,
                               f) == 0)
        return n;
    /* two adjacent members share the comma between them: such ranges overlap and
     * the caller then parses the whole object */
    for (size_t i = 0; i < nskip; i++)
        if (f[i].found)
            cuts[n++] = (cut_t){t[1].vbeg + f[i].beg, t[1].vbeg + f[i].end};
    return n;
}

static int cut_cmp(const void *a, const void *b)
{
    const cut_t *x = a, *y = b;
    return x->beg < y->beg ? -1 : x->beg > y->beg;
}

json_t *tri_object_load_lean(const tri_resource_t *r, const tri_val_t *stored, int64_t rev)
{
    cut_t cuts[LEAN_CUTS];
    size_t n = find_cuts(r, stored, cuts);
    if (n == 0)
        return tri_object_load_as(r, stored, rev);
    qsort(cuts, n, sizeof cuts[0], cut_cmp);
    for (size_t i = 1; i < n; i++)
        if (cuts[i].beg < cuts[i - 1].end)
            return tri_object_load_as(r, stored, rev); /* overlapping: parse it all */
    size_t removed = 0;
    for (size_t i = 0; i < n; i++)
        removed += cuts[i].end - cuts[i].beg;
    tri_val_t *v = tri_val_new(NULL, stored->len - removed);
    if (v == NULL)
        return NULL;
    size_t at = 0, from = 0;
    for (size_t i = 0; i <= n; i++) {
        size_t upto = i < n ? cuts[i].beg : stored->len;
        memcpy(v->data + at, stored->data + from, upto - from);
        at += upto - from;
        from = i < n ? cuts[i].end : stored->len;
    }
    json_t *o = tri_object_load_as(r, v, rev);
    tri_val_unref(v);
    return o;
}

/* The metadata member's bytes without its managedFields member, into out. */
static bool meta_bytes(const char *data, size_t len, tri_buf_t *out)
{
    static const char *const managed[] = {"managedFields"};
    tri_json_range_t f;
    if (tri_json_member_ranges(data, len, managed, 1, &f) == 1) {
        tri_buf_append(out, data, f.beg);
        tri_buf_append(out, data + f.end, len - f.end);
    } else {
        tri_buf_append(out, data, len);
    }
    return out->data != NULL;
}

json_t *tri_object_load_meta(const tri_resource_t *r, const tri_val_t *stored, int64_t rev)
{
    static const char *const top[] = {"metadata"};
    tri_json_range_t t;
    if (tri_json_member_ranges(stored->data, stored->len, top, 1, &t) != 1)
        return NULL;
    tri_buf_t b = {0};
    json_t *meta = meta_bytes(stored->data + t.vbeg, t.vend - t.vbeg, &b)
                       ? json_loadb(b.data, b.len, 0, NULL)
                       : NULL;
    tri_buf_free(&b);
    if (!json_is_object(meta)) {
        json_decref(meta);
        return NULL;
    }
    json_object_del(meta, "managedFields"); /* spelt with escapes, the cut missed it */
    char rv[32], apiv[128];
    snprintf(rv, sizeof rv, "%lld", (long long)rev);
    json_object_set_new(meta, "resourceVersion", json_string(rv));
    tri_resource_api_version(r, apiv, sizeof apiv);
    return json_pack("{s:s, s:s, s:o}", "apiVersion", apiv, "kind", r->kind, "metadata", meta);
}
