/* Events TTL: core/v1 Events older than event_ttl_ms are deleted, as
 * kube-apiserver's --event-ttl does with etcd leases.
 *
 * An Event's age is counted from the newest of its times (creationTimestamp,
 * firstTimestamp, lastTimestamp, eventTime, series.lastObservedTime), so an
 * Event that is updated as it recurs lives on, and every leader computes the
 * same expiry. The loop has a single key, "sweep": the watch only schedules it
 * (at the earliest expiry it sees), and a sweep lists every Event a page at a
 * time, deletes the expired ones (uid and resourceVersion preconditions, so one
 * updated meanwhile survives) and schedules the next sweep at the earliest
 * expiry left. Sweeps are at least SWEEP_GAP apart (ttl/60, at least 1 s), which
 * bounds the listing cost: an Event lives at most ttl + gap.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "internal.h"
#include "triarch/controllers.h"
#include "triarch/errors.h"
#include "triarch/log.h"

#define SWEEP_KEY "sweep"
#define SWEEP_GAP_DIVISOR 60 /* a 1 h TTL sweeps at most every minute */
#define SWEEP_GAP_MIN_MS 1000
#define SWEEP_PAGE 500

typedef struct ttl {
    uint64_t next_due_ms;   /* wall clock ms of the sweep scheduled, 0: none */
    uint64_t last_sweep_ms; /* wall clock ms */
} ttl_t;

typedef struct ttl_job {
    tri_ctrl_loop_t *l;
    tri_ctrl_item_t *it;
    ttl_t *t;
    tri_api_op_t op;
    json_t *items;
    size_t item_i;
    char *cont;           /* continue token of the next page */
    uint64_t earliest_ms; /* earliest expiry among the kept, 0: none */
    size_t deleted;
    bool failed;
} ttl_job_t;

static uint64_t wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static uint64_t sweep_gap_ms(const tri_ctrl_loop_t *l)
{
    uint64_t gap = tri_ctrl_loop_config(l)->event_ttl_ms / SWEEP_GAP_DIVISOR;
    return gap < SWEEP_GAP_MIN_MS ? SWEEP_GAP_MIN_MS : gap;
}

/* Wall-clock ms when obj expires; 0 when it carries no time at all. */
static uint64_t event_expiry_ms(const tri_ctrl_loop_t *l, const json_t *obj)
{
    const char *times[] = {
        ctrl_meta_str(obj, "creationTimestamp"),
        json_string_value(json_object_get(obj, "firstTimestamp")),
        json_string_value(json_object_get(obj, "lastTimestamp")),
        json_string_value(json_object_get(obj, "eventTime")),
        json_string_value(json_object_get(json_object_get(obj, "series"), "lastObservedTime")),
    };
    int64_t newest = -1;
    for (size_t i = 0; i < sizeof times / sizeof times[0]; i++) {
        int64_t t = ctrl_parse_time(times[i]);
        if (t > newest)
            newest = t;
    }
    if (newest < 0)
        return 0;
    return (uint64_t)newest * 1000 + tri_ctrl_loop_config(l)->event_ttl_ms;
}

/* Schedules the sweep for expiry (wall ms), no sooner than the gap allows. */
static void schedule_sweep(tri_ctrl_loop_t *l, uint64_t expiry_ms)
{
    ttl_t *t = tri_ctrl_loop_data(l);
    uint64_t now = wall_ms();
    uint64_t due = expiry_ms;
    if (t->last_sweep_ms && due < t->last_sweep_ms + sweep_gap_ms(l))
        due = t->last_sweep_ms + sweep_gap_ms(l);
    if (t->next_due_ms && t->next_due_ms <= due)
        return; /* an earlier sweep is already scheduled */
    t->next_due_ms = due;
    tri_ctrl_add_after(l, SWEEP_KEY, due > now ? due - now : 0);
}

static void ttl_on_event(tri_ctrl_loop_t *l, const tri_resource_t *r,
                         enum tri_watch_event_type type, const json_t *obj)
{
    if (type == TRI_WATCH_DELETED)
        return;
    uint64_t exp = event_expiry_ms(l, obj);
    schedule_sweep(l, exp ? exp : wall_ms());
}

static void ttl_reset(tri_ctrl_loop_t *l)
{
    ttl_t *t = tri_ctrl_loop_data(l);
    memset(t, 0, sizeof *t);
}

/* ---------- the sweep ---------- */

static void ttl_page(ttl_job_t *j);
static void ttl_delete_next(ttl_job_t *j);

static void ttl_job_end(ttl_job_t *j)
{
    tri_ctrl_item_t *it = j->it;
    int result = j->failed ? TRI_CTRL_REQUEUE : TRI_CTRL_DONE;
    if (tri_ctrl_live(it)) {
        j->t->last_sweep_ms = wall_ms();
        j->t->next_due_ms = 0;
        if (j->earliest_ms)
            schedule_sweep(j->l, j->earliest_ms);
        if (j->deleted)
            tri_info("events-ttl", "expired events deleted", "count=%zu", j->deleted);
    }
    tri_api_op_release(&j->op);
    json_decref(j->items);
    free(j->cont);
    free(j);
    tri_ctrl_finish(it, result);
}

static bool ttl_next_op(ttl_job_t *j)
{
    tri_api_op_release(&j->op);
    memset(&j->op, 0, sizeof j->op);
    j->op.data = j;
    j->op.leader_only = true;
    if (!tri_ctrl_live(j->it)) {
        ttl_job_end(j);
        return false;
    }
    return true;
}

static void on_event_deleted(tri_api_op_t *op)
{
    ttl_job_t *j = op->data;
    if (op->status.code == 0)
        j->deleted++;
    else if (op->status.code != 404 && op->status.code != 409)
        j->failed = true; /* 409: updated since the list, the next sweep judges it */
    ttl_delete_next(j);
}

static void ttl_delete_next(ttl_job_t *j)
{
    uint64_t now = wall_ms();
    while (j->item_i < json_array_size(j->items)) {
        json_t *ev = json_array_get(j->items, j->item_i++);
        uint64_t exp = event_expiry_ms(j->l, ev);
        if (exp > now) {
            if (j->earliest_ms == 0 || exp < j->earliest_ms)
                j->earliest_ms = exp;
            continue;
        }
        if (!ttl_next_op(j))
            return;
        tri_delete_opts_t o = {
            .precondition_uid = ctrl_meta_str(ev, "uid"),
            .precondition_rv = ctrl_meta_str(ev, "resourceVersion"),
            .grace_period_seconds = -1,
        };
        tri_api_delete(tri_ctrl_loop_api(j->l), &j->op, tri_registry_find("", "v1", "events"),
                       ctrl_meta_str(ev, "namespace"), ctrl_meta_str(ev, "name"), &o,
                       on_event_deleted);
        return;
    }
    if (j->cont && j->cont[0])
        ttl_page(j);
    else
        ttl_job_end(j);
}

static void on_page(tri_api_op_t *op)
{
    ttl_job_t *j = op->data;
    if (op->status.code != 0) {
        j->failed = true;
        ttl_job_end(j);
        return;
    }
    json_decref(j->items);
    j->items = json_incref(op->items ? op->items : json_object_get(op->obj, "items"));
    j->item_i = 0;
    free(j->cont);
    j->cont = strdup(json_string_value(json_object_get(op->list_meta, "continue")) ?: "");
    ttl_delete_next(j);
}

static void ttl_page(ttl_job_t *j)
{
    char *cont = j->cont;
    j->cont = NULL;
    if (ttl_next_op(j)) {
        j->op.want_items = true;
        tri_list_opts_t lo = {.limit = SWEEP_PAGE, .continue_token = cont};
        tri_api_list(tri_ctrl_loop_api(j->l), &j->op, tri_registry_find("", "v1", "events"), NULL,
                     &lo, on_page);
    }
    free(cont);
}

static int ttl_reconcile(tri_ctrl_loop_t *l, tri_ctrl_item_t *it)
{
    if (tri_registry_find("", "v1", "events") == NULL)
        return TRI_CTRL_DONE;
    ttl_job_t *j = calloc(1, sizeof *j);
    if (j == NULL)
        return TRI_CTRL_REQUEUE;
    j->l = l;
    j->it = it;
    j->t = tri_ctrl_loop_data(l);
    ttl_page(j);
    return TRI_CTRL_PENDING;
}

static const tri_ctrl_loop_def_t ttl_def = {
    .name = "events-ttl",
    .watch = {"v1/events"},
    .on_start = ttl_reset,
    .on_stop = ttl_reset,
    .on_event = ttl_on_event,
    .reconcile = ttl_reconcile,
    .free_data = free,
};

int tri_ctrl_events_ttl_add(tri_ctrl_manager_t *m)
{
    ttl_t *t = calloc(1, sizeof *t);
    if (t == NULL)
        return TRI_ENOMEM;
    int rc = tri_ctrl_manager_add(m, &ttl_def, t, NULL);
    if (rc != 0)
        free(t);
    return rc;
}
