/* The garbage collector: deletes objects whose owners are gone, and carries out
 * Foreground and Orphan deletions, as Kubernetes' garbage collector does.
 *
 * It watches every registered resource and keeps a graph built from
 * metadata.ownerReferences: a node per object that has owners or that is being
 * deleted with one of our finalizers ("foregroundDeletion", "orphan"), and for
 * each owner uid the set of its dependents' uids. Keys of the work queue are
 * uids. A reconcile reads the object again (consistent GET; a different uid
 * under the same name is another object) and then:
 *
 *  - deleting with "orphan": removes the ownerReference to it from every
 *    dependent, then its own "orphan" finalizer (the API then removes it);
 *  - deleting with "foregroundDeletion": queues its dependents (which delete
 *    themselves, see below) and, once no dependent that blocks owner deletion
 *    (blockOwnerDeletion) is left in the graph, removes the finalizer;
 *  - otherwise, if it has owners: reads each owner (by name, then uid). An owner
 *    that is absent or has another uid is dangling; present and deleting with
 *    "foregroundDeletion" it is waiting for its dependents; present otherwise it
 *    is solid (so is an owner whose kind is not served: unresolvable references
 *    never let an object be collected). With a solid owner the object stays and
 *    loses its references to dangling and waiting owners; with only waiting ones
 *    it is deleted (Foreground when it has dependents itself, else Background);
 *    with only dangling ones it is deleted with the propagation its own
 *    finalizers ask for (Background by default).
 *
 * Deletes carry uid and resourceVersion preconditions and updates the read
 * resourceVersion, so a change after the read (a reference removed by the
 * orphaning of its owner, say) makes the step fail with a conflict and run again
 * on fresh data. Events re-queue what may have changed: a new or changed object
 * with owners, a deleted object's dependents, the owners of a removed dependent
 * or a removed reference.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "triarch/controllers.h"
#include "triarch/errors.h"
#include "triarch/log.h"

#define FIN_ORPHAN "orphan"
#define FIN_FOREGROUND "foregroundDeletion"

typedef struct gc_ref {
    char *uid;
    char *api_version;
    char *kind;
    char *name;
    bool block; /* blockOwnerDeletion */
} gc_ref_t;

typedef struct gc_node {
    const tri_resource_t *res;
    char *ns;
    char *name;
    gc_ref_t *owners;
    size_t n_owners;
    bool deleting;
    bool orphan;     /* has the "orphan" finalizer */
    bool foreground; /* has the "foregroundDeletion" finalizer */
} gc_node_t;

typedef struct gc_deps {
    char **uids;
    size_t n, cap;
} gc_deps_t;

typedef struct gc {
    ctrl_map_t nodes; /* uid -> gc_node_t */
    ctrl_map_t deps;  /* owner uid -> gc_deps_t (dependents' uids) */
} gc_t;

/* ---------- the graph ---------- */

static void refs_free(gc_ref_t *refs, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(refs[i].uid);
        free(refs[i].api_version);
        free(refs[i].kind);
        free(refs[i].name);
    }
    free(refs);
}

static void node_free(void *v)
{
    gc_node_t *n = v;
    if (n == NULL)
        return;
    refs_free(n->owners, n->n_owners);
    free(n->ns);
    free(n->name);
    free(n);
}

static void deps_free(void *v)
{
    gc_deps_t *d = v;
    for (size_t i = 0; i < d->n; i++)
        free(d->uids[i]);
    free(d->uids);
    free(d);
}

static char *dup_or_empty(const char *s)
{
    return strdup(s ? s : "");
}

/* The owner references of obj that name a uid. */
static gc_ref_t *parse_refs(const json_t *obj, size_t *n_out)
{
    json_t *refs = json_object_get(json_object_get(obj, "metadata"), "ownerReferences");
    size_t n = 0, i;
    json_t *r;
    gc_ref_t *out = calloc(json_array_size(refs) + 1, sizeof *out);
    if (out == NULL) {
        *n_out = 0;
        return NULL;
    }
    json_array_foreach(refs, i, r)
    {
        const char *uid = json_string_value(json_object_get(r, "uid"));
        if (uid == NULL || uid[0] == '\0')
            continue;
        gc_ref_t *g = &out[n++];
        g->uid = strdup(uid);
        g->api_version = dup_or_empty(json_string_value(json_object_get(r, "apiVersion")));
        g->kind = dup_or_empty(json_string_value(json_object_get(r, "kind")));
        g->name = dup_or_empty(json_string_value(json_object_get(r, "name")));
        g->block = json_is_true(json_object_get(r, "blockOwnerDeletion"));
    }
    *n_out = n;
    return out;
}

static const gc_ref_t *find_ref(const gc_ref_t *refs, size_t n, const char *uid)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(refs[i].uid, uid) == 0)
            return &refs[i];
    return NULL;
}

static bool refs_equal(const gc_ref_t *a, size_t na, const gc_ref_t *b, size_t nb)
{
    if (na != nb)
        return false;
    for (size_t i = 0; i < na; i++) {
        const gc_ref_t *r = find_ref(b, nb, a[i].uid);
        if (r == NULL || r->block != a[i].block)
            return false;
    }
    return true;
}

static void deps_add(gc_t *gc, const char *owner, const char *dep)
{
    gc_deps_t *d = ctrl_map_get(&gc->deps, owner);
    if (d == NULL) {
        d = calloc(1, sizeof *d);
        if (d == NULL || ctrl_map_put(&gc->deps, owner, d) != 0) {
            free(d);
            return;
        }
    }
    for (size_t i = 0; i < d->n; i++)
        if (strcmp(d->uids[i], dep) == 0)
            return;
    if (d->n == d->cap) {
        size_t cap = d->cap ? d->cap * 2 : 4;
        char **u = realloc(d->uids, cap * sizeof *u);
        if (u == NULL)
            return;
        d->uids = u;
        d->cap = cap;
    }
    d->uids[d->n] = strdup(dep);
    if (d->uids[d->n])
        d->n++;
}

static void deps_remove(gc_t *gc, const char *owner, const char *dep)
{
    gc_deps_t *d = ctrl_map_get(&gc->deps, owner);
    if (d == NULL)
        return;
    for (size_t i = 0; i < d->n; i++) {
        if (strcmp(d->uids[i], dep) == 0) {
            free(d->uids[i]);
            d->uids[i] = d->uids[--d->n];
            break;
        }
    }
    if (d->n == 0)
        deps_free(ctrl_map_del(&gc->deps, owner));
}

static void enqueue_deps(tri_ctrl_loop_t *l, gc_t *gc, const char *owner)
{
    gc_deps_t *d = ctrl_map_get(&gc->deps, owner);
    for (size_t i = 0; d && i < d->n; i++)
        tri_ctrl_add(l, d->uids[i]);
}

/* Removes the edges of node uid whose owner is not in keep; queues those owners
 * (one may be waiting for this dependent to go). */
static void drop_edges(tri_ctrl_loop_t *l, gc_t *gc, const char *uid, const gc_node_t *n,
                       const gc_ref_t *keep, size_t n_keep)
{
    for (size_t i = 0; n && i < n->n_owners; i++) {
        if (find_ref(keep, n_keep, n->owners[i].uid))
            continue;
        deps_remove(gc, n->owners[i].uid, uid);
        tri_ctrl_add(l, n->owners[i].uid);
    }
}

static void gc_on_deleted(tri_ctrl_loop_t *l, gc_t *gc, const char *uid)
{
    gc_node_t *n = ctrl_map_del(&gc->nodes, uid);
    drop_edges(l, gc, uid, n, NULL, 0);
    node_free(n);
    enqueue_deps(l, gc, uid); /* they may have lost their last owner */
}

static void gc_on_event(tri_ctrl_loop_t *l, const tri_resource_t *r, enum tri_watch_event_type type,
                        const json_t *obj)
{
    gc_t *gc = tri_ctrl_loop_data(l);
    const char *uid = ctrl_meta_str(obj, "uid");
    if (uid == NULL)
        return;
    if (type == TRI_WATCH_DELETED) {
        gc_on_deleted(l, gc, uid);
        return;
    }
    size_t n_refs;
    gc_ref_t *refs = parse_refs(obj, &n_refs);
    bool deleting = ctrl_deleting(obj);
    bool orphan = deleting && ctrl_has_finalizer(obj, FIN_ORPHAN);
    bool foreground = deleting && ctrl_has_finalizer(obj, FIN_FOREGROUND);
    gc_node_t *old = ctrl_map_get(&gc->nodes, uid);
    bool changed = old == NULL || !refs_equal(old->owners, old->n_owners, refs, n_refs) ||
                   old->deleting != deleting;
    drop_edges(l, gc, uid, old, refs, n_refs);
    if (n_refs == 0 && !orphan && !foreground) {
        node_free(ctrl_map_del(&gc->nodes, uid));
        refs_free(refs, n_refs);
        return;
    }
    gc_node_t *n = old ? old : calloc(1, sizeof *n);
    if (n == NULL || (old == NULL && ctrl_map_put(&gc->nodes, uid, n) != 0)) {
        free(n);
        refs_free(refs, n_refs);
        return;
    }
    if (old) {
        refs_free(old->owners, old->n_owners);
        free(old->ns);
        free(old->name);
    }
    n->res = r;
    n->ns = dup_or_empty(ctrl_meta_str(obj, "namespace"));
    n->name = dup_or_empty(ctrl_meta_str(obj, "name"));
    n->owners = refs;
    n->n_owners = n_refs;
    n->deleting = deleting;
    n->orphan = orphan;
    n->foreground = foreground;
    for (size_t i = 0; i < n_refs; i++)
        deps_add(gc, refs[i].uid, uid);
    if ((n_refs > 0 && changed) || orphan || foreground)
        tri_ctrl_add(l, uid);
    if (foreground)
        enqueue_deps(l, gc, uid);
}

/* The graph is built from metadata alone: uid, name, namespace, ownerReferences,
 * finalizers, deletionTimestamp. */
static bool gc_metadata_only(const tri_resource_t *r)
{
    (void)r;
    return true;
}

static void gc_reset(tri_ctrl_loop_t *l)
{
    gc_t *gc = tri_ctrl_loop_data(l);
    ctrl_map_clear(&gc->nodes, node_free);
    ctrl_map_clear(&gc->deps, deps_free);
}

/* ---------- reconcile ---------- */

typedef struct gc_job gc_job_t;
typedef void (*gc_step_fn)(gc_job_t *j);

struct gc_job {
    gc_t *gc;
    tri_ctrl_loop_t *l;
    tri_ctrl_item_t *it;
    tri_api_op_t op;
    const tri_resource_t *res;
    char uid[128];
    char ns[256];
    char name[256];
    json_t *obj; /* the object as read */
    /* owners */
    size_t ref_i;
    json_t *drop; /* uids of the references to remove */
    int solid, waiting;
    /* dependents (orphaning) */
    char **deps;
    size_t n_deps, dep_i;
    bool failed;
};

static void job_end(gc_job_t *j, int result)
{
    tri_ctrl_item_t *it = j->it;
    tri_api_op_release(&j->op);
    json_decref(j->obj);
    json_decref(j->drop);
    for (size_t i = 0; i < j->n_deps; i++)
        free(j->deps[i]);
    free(j->deps);
    free(j);
    tri_ctrl_finish(it, result);
}

/* Resets the op for the next request; false (and the job ended) when the loop
 * stopped meanwhile: a deposed leader writes nothing more. */
static bool job_next_op(gc_job_t *j)
{
    tri_api_op_release(&j->op);
    memset(&j->op, 0, sizeof j->op);
    j->op.data = j;
    j->op.leader_only = true;
    if (!tri_ctrl_live(j->it)) {
        job_end(j, TRI_CTRL_DONE);
        return false;
    }
    return true;
}

static json_t *body_json(const tri_api_op_t *op)
{
    return json_loadb(op->body.data ? op->body.data : "", op->body.len, 0, NULL);
}

static bool same_uid(const json_t *obj, const char *uid)
{
    const char *u = ctrl_meta_str(obj, "uid");
    return u && strcmp(u, uid) == 0;
}

/* apiVersion + kind -> the served resource (its storage row). */
static const tri_resource_t *resolve_kind(const char *api_version, const char *kind)
{
    char group[128] = "";
    const char *slash = strchr(api_version, '/');
    if (slash && (size_t)(slash - api_version) < sizeof group)
        memcpy(group, api_version, (size_t)(slash - api_version));
    size_t n;
    const tri_resource_t *const *all = tri_registry_all(&n);
    for (size_t i = 0; i < n; i++)
        if (all[i]->storage == NULL && strcmp(all[i]->group, group) == 0 &&
            strcmp(all[i]->kind, kind) == 0)
            return all[i];
    return NULL;
}

static void log_write_error(gc_job_t *j, const char *what)
{
    tri_info("gc", "write failed, will retry",
             "what=%s resource=%s ns=%s name=%s code=%d msg=\"%s\"", what, j->res->plural, j->ns,
             j->name, j->op.status.code, j->op.status.message);
}

static bool is_gone(const tri_api_op_t *op)
{
    return op->status.code == 404;
}

/* ---- removing a finalizer from the object itself ---- */

static void on_finalizer_removed(tri_api_op_t *op)
{
    gc_job_t *j = op->data;
    if (op->status.code != 0 && !is_gone(op)) {
        log_write_error(j, "finalizer");
        job_end(j, TRI_CTRL_REQUEUE);
        return;
    }
    job_end(j, TRI_CTRL_DONE);
}

static void remove_finalizer(gc_job_t *j, const char *fin)
{
    if (!job_next_op(j))
        return;
    json_t *upd = ctrl_without_finalizer(j->obj, fin);
    tri_api_update(tri_ctrl_loop_api(j->l), &j->op, j->res, j->ns, j->name, upd, false,
                   on_finalizer_removed);
    json_decref(upd);
}

/* ---- Orphan: every dependent loses its reference, then the finalizer goes ---- */

static void orphan_next(gc_job_t *j);

/* A copy of obj without the owner references whose uid is in uids (array). */
static json_t *without_refs(const json_t *obj, const json_t *uids)
{
    json_t *copy = json_deep_copy(obj);
    json_t *refs = json_object_get(json_object_get(copy, "metadata"), "ownerReferences");
    for (size_t i = json_array_size(refs); i-- > 0;) {
        const char *u = json_string_value(json_object_get(json_array_get(refs, i), "uid"));
        size_t k;
        json_t *v;
        json_array_foreach(uids, k, v)
        {
            if (u && strcmp(u, json_string_value(v)) == 0) {
                json_array_remove(refs, i);
                break;
            }
        }
    }
    if (json_array_size(refs) == 0)
        json_object_del(json_object_get(copy, "metadata"), "ownerReferences");
    return copy;
}

static void on_dep_orphaned(tri_api_op_t *op)
{
    gc_job_t *j = op->data;
    if (op->status.code != 0 && !is_gone(op)) {
        log_write_error(j, "orphan-dependent");
        j->failed = true;
    }
    j->dep_i++;
    orphan_next(j);
}

static void on_dep_read(tri_api_op_t *op)
{
    gc_job_t *j = op->data;
    const char *dep_uid = j->deps[j->dep_i];
    gc_node_t *n = ctrl_map_get(&j->gc->nodes, dep_uid);
    json_t *dep = op->status.code == 0 ? body_json(op) : NULL;
    if (op->status.code != 0 && !is_gone(op))
        j->failed = true;
    if (dep == NULL || n == NULL || !same_uid(dep, dep_uid)) {
        json_decref(dep);
        j->dep_i++;
        orphan_next(j);
        return;
    }
    json_t *uids = json_pack("[s]", j->uid);
    json_t *upd = without_refs(dep, uids);
    json_decref(uids);
    json_decref(dep);
    const tri_resource_t *r = n->res;
    char ns[256], name[256];
    snprintf(ns, sizeof ns, "%s", n->ns);
    snprintf(name, sizeof name, "%s", n->name);
    if (job_next_op(j))
        tri_api_update(tri_ctrl_loop_api(j->l), &j->op, r, ns, name, upd, false, on_dep_orphaned);
    json_decref(upd);
}

static void orphan_next(gc_job_t *j)
{
    for (; j->dep_i < j->n_deps; j->dep_i++) {
        gc_node_t *n = ctrl_map_get(&j->gc->nodes, j->deps[j->dep_i]);
        if (n == NULL || find_ref(n->owners, n->n_owners, j->uid) == NULL)
            continue; /* gone, or its reference already removed */
        if (!job_next_op(j))
            return;
        tri_api_get(tri_ctrl_loop_api(j->l), &j->op, n->res, n->ns, n->name, "", on_dep_read);
        return;
    }
    if (j->failed) {
        job_end(j, TRI_CTRL_REQUEUE);
        return;
    }
    remove_finalizer(j, FIN_ORPHAN);
}

static void orphan_start(gc_job_t *j)
{
    gc_deps_t *d = ctrl_map_get(&j->gc->deps, j->uid);
    size_t n = d ? d->n : 0;
    j->deps = calloc(n + 1, sizeof *j->deps);
    for (size_t i = 0; j->deps && i < n; i++)
        if ((j->deps[j->n_deps] = strdup(d->uids[i])) != NULL)
            j->n_deps++;
    if (j->deps == NULL) {
        job_end(j, TRI_CTRL_REQUEUE);
        return;
    }
    orphan_next(j);
}

/* ---- Foreground: wait for the blocking dependents, then the finalizer goes ---- */

static void foreground_step(gc_job_t *j)
{
    gc_deps_t *d = ctrl_map_get(&j->gc->deps, j->uid);
    size_t blocking = 0;
    for (size_t i = 0; d && i < d->n; i++) {
        tri_ctrl_add(j->l, d->uids[i]); /* each deletes itself: its owner is waiting */
        gc_node_t *n = ctrl_map_get(&j->gc->nodes, d->uids[i]);
        const gc_ref_t *r = n ? find_ref(n->owners, n->n_owners, j->uid) : NULL;
        blocking += r && r->block;
    }
    if (blocking > 0) {
        /* the dependents' DELETED events queue this owner again */
        tri_debug("gc", "waiting for dependents", "resource=%s ns=%s name=%s blocking=%zu",
                  j->res->plural, j->ns, j->name, blocking);
        job_end(j, TRI_CTRL_DONE);
        return;
    }
    remove_finalizer(j, FIN_FOREGROUND);
}

/* ---- an object with owners: classify them, then keep, trim or delete it ---- */

static void owners_next(gc_job_t *j);

static void on_deleted(tri_api_op_t *op)
{
    gc_job_t *j = op->data;
    if (op->status.code != 0 && !is_gone(op)) {
        log_write_error(j, "delete");
        job_end(j, TRI_CTRL_REQUEUE);
        return;
    }
    tri_info("gc", "deleted", "resource=%s ns=%s name=%s uid=%s", j->res->plural, j->ns, j->name,
             j->uid);
    job_end(j, TRI_CTRL_DONE);
}

static void delete_self(gc_job_t *j, enum tri_propagation prop)
{
    if (!job_next_op(j))
        return;
    tri_delete_opts_t o = {
        .precondition_uid = j->uid,
        .precondition_rv = ctrl_meta_str(j->obj, "resourceVersion"),
        .propagation = prop,
        .grace_period_seconds = -1,
    };
    tri_api_delete(tri_ctrl_loop_api(j->l), &j->op, j->res, j->ns, j->name, &o, on_deleted);
}

static void on_refs_trimmed(tri_api_op_t *op)
{
    gc_job_t *j = op->data;
    if (op->status.code != 0 && !is_gone(op)) {
        log_write_error(j, "trim-references");
        job_end(j, TRI_CTRL_REQUEUE);
        return;
    }
    job_end(j, TRI_CTRL_DONE);
}

static void owners_decide(gc_job_t *j)
{
    size_t n_drop = json_array_size(j->drop);
    if (j->solid > 0) {
        if (n_drop == 0) {
            job_end(j, TRI_CTRL_DONE);
            return;
        }
        if (!job_next_op(j))
            return;
        json_t *upd = without_refs(j->obj, j->drop);
        tri_api_update(tri_ctrl_loop_api(j->l), &j->op, j->res, j->ns, j->name, upd, false,
                       on_refs_trimmed);
        json_decref(upd);
        return;
    }
    if (ctrl_deleting(j->obj)) {
        job_end(j, TRI_CTRL_DONE); /* already on its way */
        return;
    }
    if (j->waiting > 0) {
        bool has_deps = ctrl_map_get(&j->gc->deps, j->uid) != NULL;
        delete_self(j, has_deps ? TRI_PROPAGATE_FOREGROUND : TRI_PROPAGATE_BACKGROUND);
        return;
    }
    enum tri_propagation p = TRI_PROPAGATE_BACKGROUND;
    if (ctrl_has_finalizer(j->obj, FIN_ORPHAN))
        p = TRI_PROPAGATE_ORPHAN;
    else if (ctrl_has_finalizer(j->obj, FIN_FOREGROUND))
        p = TRI_PROPAGATE_FOREGROUND;
    delete_self(j, p);
}

static json_t *ref_at(const json_t *obj, size_t i)
{
    return json_array_get(json_object_get(json_object_get(obj, "metadata"), "ownerReferences"), i);
}

static void on_owner_read(tri_api_op_t *op)
{
    gc_job_t *j = op->data;
    json_t *ref = ref_at(j->obj, j->ref_i);
    const char *uid = json_string_value(json_object_get(ref, "uid"));
    if (op->status.code != 0 && !is_gone(op)) {
        job_end(j, TRI_CTRL_REQUEUE); /* unknown: decide nothing */
        return;
    }
    json_t *owner = op->status.code == 0 ? body_json(op) : NULL;
    if (owner == NULL || !same_uid(owner, uid))
        json_array_append_new(j->drop, json_string(uid)); /* dangling */
    else if (ctrl_deleting(owner) && ctrl_has_finalizer(owner, FIN_FOREGROUND)) {
        j->waiting++;
        json_array_append_new(j->drop, json_string(uid));
    } else
        j->solid++;
    json_decref(owner);
    j->ref_i++;
    owners_next(j);
}

static void owners_next(gc_job_t *j)
{
    json_t *ref;
    while ((ref = ref_at(j->obj, j->ref_i)) != NULL) {
        const char *uid = json_string_value(json_object_get(ref, "uid"));
        const char *av = json_string_value(json_object_get(ref, "apiVersion"));
        const char *kind = json_string_value(json_object_get(ref, "kind"));
        const char *name = json_string_value(json_object_get(ref, "name"));
        const tri_resource_t *r = av && kind ? resolve_kind(av, kind) : NULL;
        /* Unresolvable (kind not served, or a namespaced owner of a cluster-scoped
         * object): counted solid, so the object is never collected for it. */
        if (uid == NULL || name == NULL || r == NULL || (r->namespaced && !j->res->namespaced)) {
            j->solid++;
            j->ref_i++;
            continue;
        }
        if (!job_next_op(j))
            return;
        tri_api_get(tri_ctrl_loop_api(j->l), &j->op, r, r->namespaced ? j->ns : NULL, name, "",
                    on_owner_read);
        return;
    }
    owners_decide(j);
}

/* ---- entry ---- */

static void on_self_read(tri_api_op_t *op)
{
    gc_job_t *j = op->data;
    if (op->status.code != 0) {
        job_end(j, is_gone(op) ? TRI_CTRL_DONE : TRI_CTRL_REQUEUE);
        return;
    }
    j->obj = body_json(op);
    if (j->obj == NULL || !same_uid(j->obj, j->uid)) {
        job_end(j, TRI_CTRL_DONE); /* another object under that name now */
        return;
    }
    bool deleting = ctrl_deleting(j->obj);
    if (deleting && ctrl_has_finalizer(j->obj, FIN_ORPHAN))
        orphan_start(j);
    else if (deleting && ctrl_has_finalizer(j->obj, FIN_FOREGROUND))
        foreground_step(j);
    else if (ref_at(j->obj, 0) != NULL)
        owners_next(j);
    else
        job_end(j, TRI_CTRL_DONE);
}

static int gc_reconcile(tri_ctrl_loop_t *l, tri_ctrl_item_t *it)
{
    gc_t *gc = tri_ctrl_loop_data(l);
    gc_node_t *n = ctrl_map_get(&gc->nodes, tri_ctrl_key(it));
    if (n == NULL)
        return TRI_CTRL_DONE;
    gc_job_t *j = calloc(1, sizeof *j);
    if (j == NULL)
        return TRI_CTRL_REQUEUE;
    j->gc = gc;
    j->l = l;
    j->it = it;
    j->res = n->res;
    j->drop = json_array();
    snprintf(j->uid, sizeof j->uid, "%s", tri_ctrl_key(it));
    snprintf(j->ns, sizeof j->ns, "%s", n->ns);
    snprintf(j->name, sizeof j->name, "%s", n->name);
    j->op.data = j;
    tri_api_get(tri_ctrl_loop_api(l), &j->op, j->res, j->ns, j->name, "", on_self_read);
    return TRI_CTRL_PENDING;
}

static void gc_free(void *data)
{
    gc_t *gc = data;
    ctrl_map_clear(&gc->nodes, node_free);
    ctrl_map_clear(&gc->deps, deps_free);
    free(gc);
}

static const tri_ctrl_loop_def_t gc_def = {
    .name = "garbage-collector",
    .watch_all = true,
    .metadata_only = gc_metadata_only,
    .on_start = gc_reset,
    .on_stop = gc_reset,
    .on_event = gc_on_event,
    .reconcile = gc_reconcile,
    .free_data = gc_free,
};

int tri_ctrl_gc_add(tri_ctrl_manager_t *m)
{
    gc_t *gc = calloc(1, sizeof *gc);
    if (gc == NULL)
        return TRI_ENOMEM;
    int rc = tri_ctrl_manager_add(m, &gc_def, gc, NULL);
    if (rc != 0)
        free(gc);
    return rc;
}
