/* The lifecycle rules every resource shares, as pure functions over objects:
 * which writes may touch status and which spec (the status subresource), when
 * metadata.generation moves, and how a DELETE becomes either a removal or a mark
 * (deletionTimestamp) that finalizers, propagation policies, graceful pod deletion
 * and the namespace lifecycle hold open. client.c calls these inside its
 * read-modify-write loops, so every rule is applied to the object as it is at the
 * revision the write is conditioned on. */
#include <stdio.h>
#include <string.h>

#include "lifecycle.h"
#include "resources.h"
#include "triarch/util.h"

#define FINALIZER_ORPHAN "orphan"
#define FINALIZER_FOREGROUND "foregroundDeletion"

static json_t *meta_of(json_t *obj)
{
    json_t *m = json_object_get(obj, "metadata");
    if (!json_is_object(m)) {
        m = json_object();
        json_object_set_new(obj, "metadata", m);
    }
    return m;
}

void tri_life_status_strategy(const tri_resource_t *r, json_t *obj, const json_t *old,
                              const char *subresource)
{
    if (!r->has_status || old == NULL)
        return;
    if (r->update_strategy && r->update_strategy(obj, old, subresource))
        return;
    if (subresource != NULL && strcmp(subresource, "status") == 0) {
        /* a status write changes status only: everything else is the stored object */
        json_t *status = json_incref(json_object_get(obj, "status"));
        json_t *base = json_deep_copy(old);
        json_object_clear(obj);
        json_object_update(obj, base);
        json_decref(base);
        if (status)
            json_object_set_new(obj, "status", status);
        else
            json_object_del(obj, "status");
        return;
    }
    /* a main-resource write keeps the stored status */
    json_t *ostatus = json_object_get(old, "status");
    if (ostatus)
        json_object_set_new(obj, "status", json_deep_copy(ostatus));
    else
        json_object_del(obj, "status");
}

/* Everything but metadata and status: what generation counts. */
static bool spec_equal(const json_t *a, const json_t *b)
{
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)a, k, v) {
        if (!strcmp(k, "metadata") || !strcmp(k, "status"))
            continue;
        if (!json_equal(v, json_object_get(b, k)))
            return false;
    }
    json_object_foreach((json_t *)b, k, v) {
        if (!strcmp(k, "metadata") || !strcmp(k, "status"))
            continue;
        if (json_object_get(a, k) == NULL)
            return false;
    }
    return true;
}

void tri_life_generation(const tri_resource_t *r, json_t *obj, const json_t *old)
{
    if (!r->has_generation)
        return;
    json_t *meta = meta_of(obj);
    if (old == NULL) {
        json_object_set_new(meta, "generation", json_integer(1));
        return;
    }
    json_int_t g = json_integer_value(
        json_object_get(json_object_get(old, "metadata"), "generation"));
    if (g < 1)
        g = 1;
    if (!spec_equal(obj, old))
        g++;
    json_object_set_new(meta, "generation", json_integer(g));
}

static bool has_string(const json_t *arr, const char *s)
{
    size_t i;
    json_t *v;
    json_array_foreach(arr, i, v) {
        if (json_is_string(v) && strcmp(json_string_value(v), s) == 0)
            return true;
    }
    return false;
}

/* Returns true if the finalizer was not there yet. */
static bool add_finalizer(json_t *meta, const char *f)
{
    json_t *fin = json_object_get(meta, "finalizers");
    if (!json_is_array(fin)) {
        fin = json_array();
        json_object_set_new(meta, "finalizers", fin);
    }
    if (has_string(fin, f))
        return false;
    json_array_append_new(fin, json_string(f));
    return true;
}

static size_t count_finalizers(const json_t *obj)
{
    return json_array_size(json_object_get(json_object_get(obj, "metadata"), "finalizers"));
}

static size_t namespace_spec_finalizers(const json_t *obj)
{
    return json_array_size(json_object_get(json_object_get(obj, "spec"), "finalizers"));
}

bool tri_life_releasable(const tri_resource_t *r, const json_t *obj)
{
    json_t *meta = json_object_get(obj, "metadata");
    if (json_object_get(meta, "deletionTimestamp") == NULL)
        return false;
    if (count_finalizers(obj) > 0)
        return false;
    if (r == &tri_res_namespaces && namespace_spec_finalizers(obj) > 0)
        return false;
    return true;
}

enum tri_life_delete tri_life_begin_delete(const tri_resource_t *r, json_t *obj,
                                           const tri_delete_opts_t *opts, bool ns_lifecycle)
{
    json_t *meta = meta_of(obj);
    bool marked = json_object_get(meta, "deletionTimestamp") != NULL;
    bool changed = false;
    if (opts->propagation == TRI_PROPAGATE_ORPHAN)
        changed = add_finalizer(meta, FINALIZER_ORPHAN);
    else if (opts->propagation == TRI_PROPAGATE_FOREGROUND)
        changed = add_finalizer(meta, FINALIZER_FOREGROUND);
    bool ns_hold = r == &tri_res_namespaces && ns_lifecycle;
    bool graceful = false;
    long grace = opts->grace_period_seconds;
    if (r->graceful_delete && !marked) {
        const char *node =
            json_string_value(json_object_get(json_object_get(obj, "spec"), "nodeName"));
        if (grace < 0)
            grace = (long)json_integer_value(json_object_get(json_object_get(obj, "spec"),
                                                             "terminationGracePeriodSeconds"));
        /* a pod that never reached a node has nothing to stop: it goes at once */
        graceful = node != NULL && node[0] != '\0' && grace > 0;
    }
    if (!ns_hold && !graceful && count_finalizers(obj) == 0)
        return TRI_LIFE_DELETE_NOW;
    if (marked && !changed)
        return TRI_LIFE_UNCHANGED; /* already being deleted: nothing new to record */
    if (!marked) {
        char ts[21];
        tri_rfc3339_now(ts);
        json_object_set_new(meta, "deletionTimestamp", json_string(ts));
        json_object_set_new(meta, "deletionGracePeriodSeconds",
                            json_integer(graceful ? grace : 0));
    }
    if (ns_hold) {
        json_t *status = json_object_get(obj, "status");
        if (!json_is_object(status)) {
            status = json_object();
            json_object_set_new(obj, "status", status);
        }
        json_object_set_new(status, "phase", json_string("Terminating"));
        if (namespace_spec_finalizers(obj) == 0 && count_finalizers(obj) == 0)
            return TRI_LIFE_DELETE_NOW;
    }
    return TRI_LIFE_MARK;
}
