/* The namespace controller: empties a Terminating namespace, then finalizes it.
 *
 * A namespace DELETE only marks it (deletionTimestamp, status.phase Terminating,
 * spec.finalizers still ["kubernetes"]) and the API refuses new content in it.
 * This loop watches namespaces and, for each one being deleted, makes passes
 * over every namespaced resource the registry serves: a consistent list of the
 * namespace's objects, and a DELETE (Background, uid precondition) of each that
 * is not already being deleted, NS_DELETE_PARALLEL at a time. A pass that finds
 * nothing at all finalizes the namespace (PUT .../finalize with "kubernetes"
 * gone from spec.finalizers; the API removes it once metadata.finalizers are
 * empty too). A pass that only finds objects already being deleted (held by
 * finalizers, or pods in their grace period) requeues with backoff; one that
 * deleted something runs another pass at once (up to NS_MAX_PASSES), so objects
 * that went in one step do not cost a backoff, and content created by a request
 * that raced the Terminating mark is seen before the namespace goes.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "triarch/controllers.h"
#include "triarch/errors.h"
#include "triarch/log.h"

#define NS_FINALIZER "kubernetes"
/* Deletes in flight per namespace: enough to overlap raft round trips without
 * one namespace's content monopolising the leader. */
#define NS_DELETE_PARALLEL 16
/* Passes in one reconcile before it yields to the backoff. */
#define NS_MAX_PASSES 3

typedef struct ns_job ns_job_t;

typedef struct ns_del {
    ns_job_t *j;
    tri_api_op_t op;
    bool busy;
} ns_del_t;

struct ns_job {
    tri_ctrl_loop_t *l;
    tri_ctrl_item_t *it;
    char name[256];
    tri_api_op_t op; /* get, list, finalize */
    json_t *ns_obj;
    const tri_resource_t *const *all;
    size_t n_all, res_i;
    json_t *items; /* the current resource's objects */
    size_t item_i;
    ns_del_t dels[NS_DELETE_PARALLEL];
    unsigned n_busy;
    size_t found, deleted, failed;
    unsigned pass;
    bool dead;        /* the loop stopped: finish once the deletes in flight return */
    bool dispatching; /* inside ns_dispatch (a delete may answer synchronously) */
};

static void ns_res_next(ns_job_t *j);

static const tri_resource_t *ns_resource(void)
{
    return tri_registry_find("", "v1", "namespaces");
}
static void ns_pass_start(ns_job_t *j);

static void ns_job_end(ns_job_t *j, int result)
{
    tri_ctrl_item_t *it = j->it;
    tri_api_op_release(&j->op);
    json_decref(j->ns_obj);
    json_decref(j->items);
    free(j);
    tri_ctrl_finish(it, result);
}

static bool ns_next_op(ns_job_t *j)
{
    tri_api_op_release(&j->op);
    memset(&j->op, 0, sizeof j->op);
    j->op.data = j;
    j->op.leader_only = true;
    if (!tri_ctrl_live(j->it)) {
        ns_job_end(j, TRI_CTRL_DONE);
        return false;
    }
    return true;
}

static bool spec_has_finalizer(const json_t *ns)
{
    json_t *fin = json_object_get(json_object_get(ns, "spec"), "finalizers");
    size_t i;
    json_t *v;
    json_array_foreach(fin, i, v)
    {
        if (json_is_string(v) && strcmp(json_string_value(v), NS_FINALIZER) == 0)
            return true;
    }
    return false;
}

/* ---------- finalize ---------- */

static void on_finalized(tri_api_op_t *op)
{
    ns_job_t *j = op->data;
    if (op->status.code != 0 && op->status.code != 404) {
        tri_info("namespace", "finalize failed, will retry", "ns=%s code=%d msg=\"%s\"", j->name,
                 op->status.code, op->status.message);
        ns_job_end(j, TRI_CTRL_REQUEUE);
        return;
    }
    tri_info("namespace", "finalized", "ns=%s", j->name);
    ns_job_end(j, TRI_CTRL_DONE);
}

static void ns_finalize(ns_job_t *j)
{
    json_t *upd = json_deep_copy(j->ns_obj);
    json_t *spec = json_object_get(upd, "spec");
    json_t *fin = json_object_get(spec, "finalizers");
    for (size_t i = json_array_size(fin); i-- > 0;) {
        const char *s = json_string_value(json_array_get(fin, i));
        if (s && strcmp(s, NS_FINALIZER) == 0)
            json_array_remove(fin, i);
    }
    if (ns_next_op(j)) {
        j->op.subresource = "finalize";
        tri_api_update(tri_ctrl_loop_api(j->l), &j->op, ns_resource(), NULL, j->name, upd, false,
                       on_finalized);
    }
    json_decref(upd);
}

/* ---------- passes over the content ---------- */

static void ns_dispatch(ns_job_t *j);

static void on_content_deleted(tri_api_op_t *op)
{
    ns_del_t *d = op->data;
    ns_job_t *j = d->j;
    if (op->status.code == 0 || op->status.code == 404) {
        j->deleted++;
    } else {
        j->failed++;
        tri_info("namespace", "delete failed, will retry",
                 "ns=%s kind=%s name=%s code=%d msg=\"%s\"", j->name, op->res ? op->res->kind : "?",
                 op->name, op->status.code, op->status.message);
    }
    tri_api_op_release(op);
    d->busy = false;
    j->n_busy--;
    ns_dispatch(j);
}

/* Starts deletes of the current list's items up to NS_DELETE_PARALLEL; moves on
 * to the next resource when all have returned. */
static void ns_dispatch(ns_job_t *j)
{
    if (j->dispatching)
        return; /* a delete that answered synchronously: the outer call goes on */
    j->dispatching = true;
    if (!j->dead && !tri_ctrl_live(j->it))
        j->dead = true;
    const tri_resource_t *r = j->all[j->res_i];
    while (!j->dead && j->item_i < json_array_size(j->items) && j->n_busy < NS_DELETE_PARALLEL) {
        json_t *obj = json_array_get(j->items, j->item_i++);
        j->found++;
        if (ctrl_deleting(obj))
            continue; /* already going; held by finalizers or a grace period */
        size_t k = 0;
        while (k < NS_DELETE_PARALLEL - 1 && j->dels[k].busy)
            k++; /* a free slot exists: n_busy < NS_DELETE_PARALLEL */
        ns_del_t *d = &j->dels[k];
        memset(&d->op, 0, sizeof d->op);
        d->j = j;
        d->busy = true;
        d->op.data = d;
        d->op.leader_only = true;
        j->n_busy++;
        tri_delete_opts_t o = {
            .precondition_uid = ctrl_meta_str(obj, "uid"),
            .propagation = TRI_PROPAGATE_BACKGROUND,
            .grace_period_seconds = -1,
        };
        tri_api_delete(tri_ctrl_loop_api(j->l), &d->op, r, j->name, ctrl_meta_str(obj, "name"), &o,
                       on_content_deleted);
    }
    j->dispatching = false;
    if (j->n_busy > 0)
        return;
    if (j->dead) {
        ns_job_end(j, TRI_CTRL_DONE);
        return;
    }
    if (j->item_i < json_array_size(j->items))
        return;
    j->res_i++;
    ns_res_next(j);
}

static void on_content_listed(tri_api_op_t *op)
{
    ns_job_t *j = op->data;
    if (op->status.code != 0) {
        tri_info("namespace", "list failed, will retry", "ns=%s resource=%s code=%d", j->name,
                 j->all[j->res_i]->plural, op->status.code);
        ns_job_end(j, TRI_CTRL_REQUEUE);
        return;
    }
    json_decref(j->items);
    j->items = json_incref(op->items ? op->items : json_object_get(op->obj, "items"));
    if (j->items == NULL)
        j->items = json_array();
    j->item_i = 0;
    ns_dispatch(j);
}

static void ns_pass_end(ns_job_t *j)
{
    if (j->found == 0) {
        ns_finalize(j);
        return;
    }
    tri_debug("namespace", "pass", "ns=%s found=%zu deleted=%zu failed=%zu pass=%u", j->name,
              j->found, j->deleted, j->failed, j->pass);
    if (j->deleted > 0 && j->failed == 0 && j->pass < NS_MAX_PASSES) {
        ns_pass_start(j);
        return;
    }
    ns_job_end(j, TRI_CTRL_REQUEUE);
}

static void ns_res_next(ns_job_t *j)
{
    for (; j->res_i < j->n_all; j->res_i++) {
        const tri_resource_t *r = j->all[j->res_i];
        if (!r->namespaced || r->storage != NULL)
            continue;
        if (!ns_next_op(j))
            return;
        j->op.want_items = true;
        tri_list_opts_t lo = {0};
        tri_api_list(tri_ctrl_loop_api(j->l), &j->op, r, j->name, &lo, on_content_listed);
        return;
    }
    ns_pass_end(j);
}

static void ns_pass_start(ns_job_t *j)
{
    j->pass++;
    j->res_i = 0;
    j->found = j->deleted = j->failed = 0;
    ns_res_next(j);
}

/* ---------- entry ---------- */

static void on_ns_read(tri_api_op_t *op)
{
    ns_job_t *j = op->data;
    if (op->status.code != 0) {
        ns_job_end(j, op->status.code == 404 ? TRI_CTRL_DONE : TRI_CTRL_REQUEUE);
        return;
    }
    j->ns_obj = json_loadb(op->body.data ? op->body.data : "", op->body.len, 0, NULL);
    if (j->ns_obj == NULL || !ctrl_deleting(j->ns_obj) || !spec_has_finalizer(j->ns_obj)) {
        ns_job_end(j, TRI_CTRL_DONE); /* not being deleted, or already finalized */
        return;
    }
    ns_pass_start(j);
}

static int ns_reconcile(tri_ctrl_loop_t *l, tri_ctrl_item_t *it)
{
    ns_job_t *j = calloc(1, sizeof *j);
    if (j == NULL)
        return TRI_CTRL_REQUEUE;
    j->l = l;
    j->it = it;
    snprintf(j->name, sizeof j->name, "%s", tri_ctrl_key(it));
    j->all = tri_registry_all(&j->n_all);
    j->op.data = j;
    tri_api_get(tri_ctrl_loop_api(l), &j->op, ns_resource(), NULL, j->name, "", on_ns_read);
    return TRI_CTRL_PENDING;
}

static void ns_on_event(tri_ctrl_loop_t *l, const tri_resource_t *r, enum tri_watch_event_type type,
                        const json_t *obj)
{
    const char *name = ctrl_meta_str(obj, "name");
    if (type != TRI_WATCH_DELETED && name && ctrl_deleting(obj))
        tri_ctrl_add(l, name);
}

static const tri_ctrl_loop_def_t ns_def = {
    .name = "namespace",
    .watch = {"v1/namespaces"},
    .on_event = ns_on_event,
    .reconcile = ns_reconcile,
};

int tri_ctrl_namespace_add(tri_ctrl_manager_t *m)
{
    return tri_ctrl_manager_add(m, &ns_def, NULL, NULL);
}
