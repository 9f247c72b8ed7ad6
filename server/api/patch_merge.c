/* RFC 7386 JSON merge patch (application/merge-patch+json: kubectl label, annotate,
 * scale). The patch is a partial document: objects merge key by key, null deletes
 * a key, and any other value (arrays included) replaces what was there. The target
 * is never modified; the result is a fresh tree.
 */
#include "codec_internal.h"

#include "triarch/codec.h"

/* Merges patch into *doc (owned, may be replaced). depth bounds the recursion. */
static int merge_into(json_t **doc, const json_t *patch, int depth)
{
    if (depth > TRI_CODEC_MAX_DEPTH)
        return TRI_EINVAL;
    if (!json_is_object(patch)) {
        json_t *copy = json_deep_copy(patch);
        if (!copy)
            return TRI_ENOMEM;
        json_decref(*doc);
        *doc = copy;
        return 0;
    }
    if (!json_is_object(*doc)) {
        json_decref(*doc);
        *doc = json_object();
        if (!*doc)
            return TRI_ENOMEM;
    }
    const char *k;
    json_t *pv;
    json_object_foreach((json_t *)patch, k, pv) {
        if (json_is_null(pv)) {
            json_object_del(*doc, k);
            continue;
        }
        json_t *cur = json_object_get(*doc, k);
        json_t *slot = cur ? json_incref(cur) : json_null();
        /* Drop the parent's reference so the child is mutated in place only when
         * nobody else shares it (copies from json_deep_copy never share). */
        int rc = merge_into(&slot, pv, depth + 1);
        if (rc != 0) {
            json_decref(slot);
            return rc;
        }
        if (json_object_set_new(*doc, k, slot) != 0)
            return TRI_ENOMEM;
    }
    return 0;
}

json_t *tri_merge_patch(const json_t *target, const json_t *patch, char *err, size_t errlen)
{
    if (!patch) {
        tri_codec_errf(err, errlen, "merge patch: no patch document");
        return NULL;
    }
    if (!tri_codec_depth_ok(patch, TRI_CODEC_MAX_DEPTH)) {
        tri_codec_errf(err, errlen, "merge patch: nested deeper than %d levels",
                       TRI_CODEC_MAX_DEPTH);
        return NULL;
    }
    json_t *doc = target ? json_deep_copy(target) : json_null();
    if (!doc) {
        tri_codec_errf(err, errlen, "merge patch: out of memory");
        return NULL;
    }
    int rc = merge_into(&doc, patch, 0);
    if (rc != 0) {
        tri_codec_errf(err, errlen, "merge patch: %s",
                       rc == TRI_ENOMEM ? "out of memory" : "nested too deep");
        json_decref(doc);
        return NULL;
    }
    return doc;
}
