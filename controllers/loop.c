/* The controller framework: leader loops, their watches and their work queues.
 *
 * Each loop keeps one item per key it knows of, in a hash map; an item is in
 * exactly one state: READY (in the FIFO), WAITING (in a min-heap by due time:
 * backoff or a delayed add), or INFLIGHT (a reconcile runs; an add meanwhile
 * marks it dirty so it runs again afterwards). An item leaves the map when its
 * reconcile ends DONE and it is not dirty, so its failure count (the backoff
 * exponent) is forgotten with it.
 *
 * Work never runs inside a watch callback (those fire from inside the store's
 * apply): the callback marks the watch pending and arms the loop's `kick` timer
 * (0 ms); the kick drains watches a batch at a time, then starts reconciles up
 * to `workers`. A second timer, `delay`, fires at the earliest due time of the
 * heap (and for a pending resync).
 *
 * Stopping (leadership lost) stops watches and timers, frees every item not in
 * flight and marks in-flight ones dead: their tri_ctrl_finish frees them and
 * nothing else. A loop restarts (resync) when one of its watches ends or its
 * queue overflowed and has drained: stop, then start again, which replays the
 * current state as ADDED events.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "triarch/controllers.h"
#include "triarch/errors.h"
#include "triarch/log.h"
#include "triarch/yield.h"

#define DEFAULT_BACKOFF_BASE_MS 5
#define DEFAULT_BACKOFF_MAX_MS 5000
#define DEFAULT_MAX_QUEUE 100000
#define DEFAULT_WORKERS 4
#define DEFAULT_EVENT_TTL_MS (3600ull * 1000) /* kube-apiserver --event-ttl 1h */
/* Events drained per watch per kick, so a resync over many objects yields to
 * the rest of the loop (requests, raft) between batches. */
#define DRAIN_BATCH 512
/* Loop time one kick may take before it yields (reconciles that finish at once
 * would otherwise run the whole queue in one go: 20,000 objects on a new leader
 * held the loop for 2 s and cost it the leadership). */
#define KICK_BUDGET_NS (4 * 1000 * 1000)
/* A watch that ended (410, restore, error) is restarted after this long. */
#define WATCH_RESTART_MS 500
#define MAX_BACKOFF_SHIFT 30

enum item_state { ST_READY = 1, ST_WAITING, ST_INFLIGHT };

struct tri_ctrl_item {
    tri_ctrl_loop_t *loop;
    enum item_state state;
    struct tri_ctrl_item *qnext;         /* READY FIFO */
    struct tri_ctrl_item *iprev, *inext; /* INFLIGHT list */
    size_t heap_idx;                     /* WAITING: index in the heap */
    uint64_t due;                        /* WAITING: monotonic ms */
    bool dirty;                          /* added while INFLIGHT */
    uint64_t dirty_due;                  /* when it should run again (0: at once) */
    bool dead;                           /* the loop stopped while INFLIGHT */
    unsigned failures;
    char key[];
};

typedef struct ctrl_watch {
    tri_ctrl_loop_t *loop;
    const tri_resource_t *res;
    tri_api_watch_t *w;
    bool pending; /* events may be waiting in w */
} ctrl_watch_t;

struct tri_ctrl_loop {
    tri_ctrl_manager_t *m;
    const tri_ctrl_loop_def_t *def;
    void *data;
    bool running;
    ctrl_map_t items;
    tri_ctrl_item_t *ready_head, *ready_tail;
    tri_ctrl_item_t **heap;
    size_t heap_len, heap_cap;
    tri_ctrl_item_t *inflight; /* live and dead */
    unsigned n_inflight_live;
    ctrl_watch_t *watches;
    size_t n_watches;
    bool overflowed;     /* a key was dropped: resync once drained */
    uint64_t resync_due; /* 0: none */
    uint64_t reconciles;
    uv_timer_t kick;
    uv_timer_t delay;
    struct tri_ctrl_loop *next;
};

struct tri_ctrl_manager {
    uv_loop_t *uv;
    tri_api_t *api;
    tri_ctrl_config_t cfg;
    tri_ctrl_loop_t *loops;
    bool running;
    bool closed;
};

static void loop_kick(tri_ctrl_loop_t *l);
static void loop_schedule(tri_ctrl_loop_t *l, bool yield);
static void loop_arm_delay(tri_ctrl_loop_t *l);

/* ---------- items and the delay heap ---------- */

static void heap_swap(tri_ctrl_loop_t *l, size_t a, size_t b)
{
    tri_ctrl_item_t *t = l->heap[a];
    l->heap[a] = l->heap[b];
    l->heap[b] = t;
    l->heap[a]->heap_idx = a;
    l->heap[b]->heap_idx = b;
}

static void heap_up(tri_ctrl_loop_t *l, size_t i)
{
    while (i > 0 && l->heap[(i - 1) / 2]->due > l->heap[i]->due) {
        heap_swap(l, i, (i - 1) / 2);
        i = (i - 1) / 2;
    }
}

static void heap_down(tri_ctrl_loop_t *l, size_t i)
{
    for (;;) {
        size_t s = i, a = 2 * i + 1, b = 2 * i + 2;
        if (a < l->heap_len && l->heap[a]->due < l->heap[s]->due)
            s = a;
        if (b < l->heap_len && l->heap[b]->due < l->heap[s]->due)
            s = b;
        if (s == i)
            return;
        heap_swap(l, i, s);
        i = s;
    }
}

static int heap_push(tri_ctrl_loop_t *l, tri_ctrl_item_t *it)
{
    if (l->heap_len == l->heap_cap) {
        size_t cap = l->heap_cap ? l->heap_cap * 2 : 64;
        tri_ctrl_item_t **h = realloc(l->heap, cap * sizeof *h);
        if (h == NULL)
            return TRI_ENOMEM;
        l->heap = h;
        l->heap_cap = cap;
    }
    it->heap_idx = l->heap_len;
    l->heap[l->heap_len++] = it;
    heap_up(l, it->heap_idx);
    return 0;
}

static void heap_remove(tri_ctrl_loop_t *l, tri_ctrl_item_t *it)
{
    size_t i = it->heap_idx;
    heap_swap(l, i, l->heap_len - 1);
    l->heap_len--;
    if (i < l->heap_len) {
        heap_up(l, i);
        heap_down(l, i);
    }
}

static void ready_push(tri_ctrl_loop_t *l, tri_ctrl_item_t *it)
{
    it->state = ST_READY;
    it->qnext = NULL;
    if (l->ready_tail)
        l->ready_tail->qnext = it;
    else
        l->ready_head = it;
    l->ready_tail = it;
    loop_kick(l);
}

static tri_ctrl_item_t *ready_pop(tri_ctrl_loop_t *l)
{
    tri_ctrl_item_t *it = l->ready_head;
    if (it) {
        l->ready_head = it->qnext;
        if (l->ready_head == NULL)
            l->ready_tail = NULL;
    }
    return it;
}

/* Puts it in the heap due at `due` (READY at once if already due). */
static void wait_until(tri_ctrl_loop_t *l, tri_ctrl_item_t *it, uint64_t due)
{
    if (due > tri_now_ms()) {
        it->state = ST_WAITING;
        it->due = due;
        if (heap_push(l, it) == 0) {
            loop_arm_delay(l);
            return;
        }
    }
    ready_push(l, it); /* due, or no memory for the heap: run it now */
}

static void inflight_unlink(tri_ctrl_loop_t *l, tri_ctrl_item_t *it)
{
    if (it->iprev)
        it->iprev->inext = it->inext;
    else
        l->inflight = it->inext;
    if (it->inext)
        it->inext->iprev = it->iprev;
    it->iprev = it->inext = NULL;
}

static uint64_t backoff_ms(const tri_ctrl_loop_t *l, unsigned failures)
{
    const tri_ctrl_config_t *c = &l->m->cfg;
    unsigned shift = failures < MAX_BACKOFF_SHIFT ? failures : MAX_BACKOFF_SHIFT;
    uint64_t d = c->backoff_base_ms << shift;
    return d > c->backoff_max_ms || d < c->backoff_base_ms ? c->backoff_max_ms : d;
}

static int loop_add(tri_ctrl_loop_t *l, const char *key, uint64_t delay_ms)
{
    if (!l->running)
        return TRI_ECANCELED;
    uint64_t due = delay_ms ? tri_now_ms() + delay_ms : 0;
    tri_ctrl_item_t *it = ctrl_map_get(&l->items, key);
    if (it == NULL) {
        if (l->items.count >= l->m->cfg.max_queue) {
            if (!l->overflowed)
                tri_warn("controllers", "queue full, key dropped; will resync", "loop=%s keys=%zu",
                         l->def->name, l->items.count);
            l->overflowed = true;
            return TRI_ENOMEM;
        }
        size_t len = strlen(key);
        it = calloc(1, sizeof *it + len + 1);
        if (it == NULL || ctrl_map_put(&l->items, key, it) != 0) {
            free(it);
            l->overflowed = true;
            return TRI_ENOMEM;
        }
        it->loop = l;
        memcpy(it->key, key, len + 1);
        wait_until(l, it, due);
        return 0;
    }
    switch (it->state) {
    case ST_READY:
        break;
    case ST_WAITING:
        if (due < it->due) {
            heap_remove(l, it);
            wait_until(l, it, due);
        }
        break;
    case ST_INFLIGHT:
        if (!it->dirty || due < it->dirty_due)
            it->dirty_due = due;
        it->dirty = true;
        break;
    }
    return 0;
}

int tri_ctrl_add(tri_ctrl_loop_t *l, const char *key)
{
    return loop_add(l, key, 0);
}

int tri_ctrl_add_after(tri_ctrl_loop_t *l, const char *key, uint64_t delay_ms)
{
    return loop_add(l, key, delay_ms);
}

/* ---------- reconciling ---------- */

void tri_ctrl_finish(tri_ctrl_item_t *it, int result)
{
    tri_ctrl_loop_t *l = it->loop;
    inflight_unlink(l, it);
    if (it->dead) {
        free(it);
        return;
    }
    l->n_inflight_live--;
    l->reconciles++;
    uint64_t due = 0;
    if (result == TRI_CTRL_REQUEUE) {
        due = tri_now_ms() + backoff_ms(l, it->failures);
        it->failures++;
    } else {
        it->failures = 0;
    }
    /* added meanwhile: at its own due time (a delayed add stays delayed), or
     * sooner than the backoff */
    if (it->dirty && (result != TRI_CTRL_REQUEUE || it->dirty_due < due))
        due = it->dirty_due;
    if (result == TRI_CTRL_REQUEUE || it->dirty) {
        it->dirty = false;
        wait_until(l, it, due);
    } else {
        ctrl_map_del(&l->items, it->key);
        free(it);
    }
    loop_kick(l);
}

static void run_one(tri_ctrl_loop_t *l, tri_ctrl_item_t *it)
{
    it->state = ST_INFLIGHT;
    it->dirty = false;
    it->inext = l->inflight;
    if (l->inflight)
        l->inflight->iprev = it;
    l->inflight = it;
    l->n_inflight_live++;
    int rc = l->def->reconcile(l, it);
    /* PENDING: tri_ctrl_finish was or will be called (perhaps already, from a
     * callback that fired synchronously), so `it` must not be touched here. */
    if (rc != TRI_CTRL_PENDING)
        tri_ctrl_finish(it, rc);
}

/* ---------- watches ---------- */

static void on_watch_ready(tri_api_watch_t *w, void *data)
{
    ctrl_watch_t *cw = data;
    cw->pending = true;
    loop_kick(cw->loop);
}

static void loop_stop_watches(tri_ctrl_loop_t *l)
{
    for (size_t i = 0; i < l->n_watches; i++) {
        tri_api_watch_stop(l->watches[i].w);
        l->watches[i].w = NULL;
        l->watches[i].pending = false;
    }
}

static void schedule_resync(tri_ctrl_loop_t *l, uint64_t delay_ms)
{
    uint64_t due = tri_now_ms() + delay_ms;
    if (l->resync_due == 0 || due < l->resync_due)
        l->resync_due = due;
    loop_arm_delay(l);
}

static void loop_start_watches(tri_ctrl_loop_t *l)
{
    for (size_t i = 0; i < l->n_watches; i++) {
        ctrl_watch_t *cw = &l->watches[i];
        tri_api_watch_opts_t opts = {
            .resource_version = "",
            .metadata_only = l->def->metadata_only && l->def->metadata_only(cw->res)};
        tri_status_t st = {0};
        int rc = tri_api_watch_start(l->m->api, cw->res, NULL, NULL, &opts, on_watch_ready, cw,
                                     &cw->w, &st);
        if (rc != 0) {
            tri_warn("controllers", "cannot watch", "loop=%s resource=%s err=%s msg=\"%s\"",
                     l->def->name, cw->res->plural, tri_strerror(rc), st.message);
            cw->w = NULL;
            schedule_resync(l, WATCH_RESTART_MS);
        }
        tri_status_clear(&st);
        cw->pending = cw->w != NULL; /* the initial ADDED events are not signalled */
    }
}

/* Reads up to DRAIN_BATCH events; returns false when the watch ended. */
static bool drain_watch(tri_ctrl_loop_t *l, ctrl_watch_t *cw)
{
    for (int n = 0; n < DRAIN_BATCH; n++) {
        tri_api_event_t ev;
        int rc = tri_api_watch_next(cw->w, &ev);
        if (rc == 0) {
            cw->pending = false;
            return true;
        }
        if (rc < 0)
            return false;
        bool ended = ev.type == TRI_WATCH_ERROR;
        if (ended)
            tri_warn("controllers", "watch ended, resync", "loop=%s resource=%s", l->def->name,
                     cw->res->plural);
        else if (ev.type != TRI_WATCH_BOOKMARK && l->def->on_event)
            l->def->on_event(l, cw->res, ev.type, ev.obj);
        json_decref(ev.obj);
        if (ended || !l->running)
            return !ended;
    }
    return true; /* more later: still pending */
}

static void loop_drain(tri_ctrl_loop_t *l)
{
    for (size_t i = 0; i < l->n_watches && l->running; i++) {
        ctrl_watch_t *cw = &l->watches[i];
        if (cw->w == NULL || !cw->pending)
            continue;
        if (!drain_watch(l, cw)) {
            tri_api_watch_stop(cw->w);
            cw->w = NULL;
            cw->pending = false;
            schedule_resync(l, WATCH_RESTART_MS);
        }
    }
}

/* ---------- start, stop, timers ---------- */

static void free_item(void *v)
{
    tri_ctrl_item_t *it = v;
    if (it->state == ST_INFLIGHT)
        it->dead = true; /* freed by its tri_ctrl_finish */
    else
        free(it);
}

static void loop_stop(tri_ctrl_loop_t *l)
{
    if (!l->running)
        return;
    l->running = false;
    loop_stop_watches(l);
    uv_timer_stop(&l->kick);
    uv_timer_stop(&l->delay);
    ctrl_map_clear(&l->items, free_item);
    l->ready_head = l->ready_tail = NULL;
    l->heap_len = 0;
    l->n_inflight_live = 0;
    l->overflowed = false;
    l->resync_due = 0;
    if (l->def->on_stop)
        l->def->on_stop(l);
}

static void loop_start(tri_ctrl_loop_t *l)
{
    if (l->running)
        return;
    l->running = true;
    if (l->def->on_start)
        l->def->on_start(l);
    loop_start_watches(l);
    loop_kick(l);
}

static void loop_resync(tri_ctrl_loop_t *l)
{
    tri_info("controllers", "resync", "loop=%s", l->def->name);
    loop_stop(l);
    loop_start(l);
}

static void on_kick(uv_timer_t *t)
{
    tri_ctrl_loop_t *l = t->data;
    if (!l->running)
        return;
    uint64_t t0 = tri_now_ns();
    loop_drain(l);
    bool more_events = false;
    for (size_t i = 0; i < l->n_watches; i++)
        more_events |= l->watches[i].w != NULL && l->watches[i].pending;
    tri_ctrl_item_t *it;
    while (l->running && l->n_inflight_live < l->m->cfg.workers &&
           tri_now_ns() - t0 < KICK_BUDGET_NS && (it = ready_pop(l)) != NULL)
        run_one(l, it);
    if (l->running && l->overflowed && l->items.count == 0 && !more_events) {
        loop_resync(l);
        return;
    }
    if (more_events || (l->ready_head && l->n_inflight_live < l->m->cfg.workers))
        loop_schedule(l, true);
}

/* Arms the kick: at once, or (from inside a kick) after the loop's next I/O poll. */
static void loop_schedule(tri_ctrl_loop_t *l, bool yield)
{
    if (!l->running || l->m->closed || uv_is_active((uv_handle_t *)&l->kick))
        return;
    if (yield)
        tri_timer_yield(&l->kick, on_kick);
    else
        uv_timer_start(&l->kick, on_kick, 0, 0);
}

static void loop_kick(tri_ctrl_loop_t *l)
{
    loop_schedule(l, false);
}

static void on_delay(uv_timer_t *t)
{
    tri_ctrl_loop_t *l = t->data;
    if (!l->running)
        return;
    uint64_t now = tri_now_ms();
    if (l->resync_due && l->resync_due <= now) {
        loop_resync(l);
        return;
    }
    while (l->heap_len > 0 && l->heap[0]->due <= now) {
        tri_ctrl_item_t *it = l->heap[0];
        heap_remove(l, it);
        ready_push(l, it);
    }
    loop_arm_delay(l);
}

static void loop_arm_delay(tri_ctrl_loop_t *l)
{
    if (!l->running || l->m->closed)
        return;
    uint64_t due = l->heap_len ? l->heap[0]->due : 0;
    if (l->resync_due && (due == 0 || l->resync_due < due))
        due = l->resync_due;
    if (due == 0) {
        uv_timer_stop(&l->delay);
        return;
    }
    uint64_t now = tri_now_ms();
    uv_timer_start(&l->delay, on_delay, due > now ? due - now : 0, 0);
}

/* ---------- manager ---------- */

int tri_ctrl_manager_new(uv_loop_t *loop, tri_api_t *api, const tri_ctrl_config_t *cfg,
                         tri_ctrl_manager_t **out)
{
    tri_ctrl_manager_t *m = calloc(1, sizeof *m);
    if (m == NULL)
        return TRI_ENOMEM;
    m->uv = loop;
    m->api = api;
    if (cfg)
        m->cfg = *cfg;
    if (m->cfg.backoff_base_ms == 0)
        m->cfg.backoff_base_ms = DEFAULT_BACKOFF_BASE_MS;
    if (m->cfg.backoff_max_ms == 0)
        m->cfg.backoff_max_ms = DEFAULT_BACKOFF_MAX_MS;
    if (m->cfg.max_queue == 0)
        m->cfg.max_queue = DEFAULT_MAX_QUEUE;
    if (m->cfg.workers == 0)
        m->cfg.workers = DEFAULT_WORKERS;
    if (m->cfg.event_ttl_ms == 0)
        m->cfg.event_ttl_ms = DEFAULT_EVENT_TTL_MS;
    *out = m;
    return 0;
}

/* "v1/pods" or "apps/v1/deployments" -> the registry row, or NULL. */
static const tri_resource_t *find_watched(const char *spec)
{
    char buf[256];
    snprintf(buf, sizeof buf, "%s", spec);
    char *a = buf, *b = strchr(a, '/'), *c = b ? strchr(b + 1, '/') : NULL;
    if (b == NULL)
        return NULL;
    *b = '\0';
    if (c == NULL)
        return tri_registry_find("", a, b + 1);
    *c = '\0';
    return tri_registry_find(a, b + 1, c + 1);
}

static int loop_init_watches(tri_ctrl_loop_t *l)
{
    size_t n = 0;
    const tri_resource_t *const *all = tri_registry_all(&n);
    l->watches = calloc(n + TRI_CTRL_MAX_WATCH, sizeof *l->watches);
    if (l->watches == NULL)
        return TRI_ENOMEM;
    for (size_t i = 0; l->def->watch_all && i < n; i++) {
        if (all[i]->storage != NULL)
            continue; /* another served version of keys watched through its storage row */
        l->watches[l->n_watches++] = (ctrl_watch_t){.loop = l, .res = all[i]};
    }
    for (size_t i = 0; i < TRI_CTRL_MAX_WATCH && l->def->watch[i]; i++) {
        const tri_resource_t *r = find_watched(l->def->watch[i]);
        if (r == NULL) {
            tri_warn("controllers", "resource not served, not watched", "loop=%s resource=%s",
                     l->def->name, l->def->watch[i]);
            continue;
        }
        l->watches[l->n_watches++] = (ctrl_watch_t){.loop = l, .res = r};
    }
    return 0;
}

int tri_ctrl_manager_add(tri_ctrl_manager_t *m, const tri_ctrl_loop_def_t *def, void *data,
                         tri_ctrl_loop_t **out)
{
    tri_ctrl_loop_t *l = calloc(1, sizeof *l);
    if (l == NULL)
        return TRI_ENOMEM;
    l->m = m;
    l->def = def;
    l->data = data;
    if (loop_init_watches(l) != 0) {
        free(l);
        return TRI_ENOMEM;
    }
    uv_timer_init(m->uv, &l->kick);
    uv_timer_init(m->uv, &l->delay);
    l->kick.data = l->delay.data = l;
    tri_ctrl_loop_t **p = &m->loops;
    while (*p)
        p = &(*p)->next;
    *p = l;
    if (out)
        *out = l;
    if (m->running)
        loop_start(l);
    return 0;
}

void tri_ctrl_manager_start(tri_ctrl_manager_t *m)
{
    if (m->running || m->closed)
        return;
    m->running = true;
    for (tri_ctrl_loop_t *l = m->loops; l; l = l->next)
        loop_start(l);
}

void tri_ctrl_manager_stop(tri_ctrl_manager_t *m)
{
    if (!m->running)
        return;
    m->running = false;
    for (tri_ctrl_loop_t *l = m->loops; l; l = l->next)
        loop_stop(l);
}

bool tri_ctrl_manager_running(const tri_ctrl_manager_t *m)
{
    return m->running;
}

void tri_ctrl_manager_close(tri_ctrl_manager_t *m)
{
    if (m == NULL || m->closed)
        return;
    tri_ctrl_manager_stop(m);
    m->closed = true;
    for (tri_ctrl_loop_t *l = m->loops; l; l = l->next) {
        uv_close((uv_handle_t *)&l->kick, NULL);
        uv_close((uv_handle_t *)&l->delay, NULL);
    }
}

void tri_ctrl_manager_free(tri_ctrl_manager_t *m)
{
    if (m == NULL)
        return;
    for (tri_ctrl_loop_t *l = m->loops, *next; l; l = next) {
        next = l->next;
        ctrl_map_clear(&l->items, free_item);
        /* Reconciles still in flight never got their callback (the uv loop is
         * over): nothing can reach their items any more. */
        for (tri_ctrl_item_t *it = l->inflight, *in; it; it = in) {
            in = it->inext;
            free(it);
        }
        if (l->def->free_data)
            l->def->free_data(l->data);
        free(l->heap);
        free(l->watches);
        free(l);
    }
    free(m);
}

/* ---------- accessors ---------- */

bool tri_ctrl_loop_running(const tri_ctrl_loop_t *l)
{
    return l->running;
}
void *tri_ctrl_loop_data(const tri_ctrl_loop_t *l)
{
    return l->data;
}
tri_api_t *tri_ctrl_loop_api(const tri_ctrl_loop_t *l)
{
    return l->m->api;
}
const tri_ctrl_config_t *tri_ctrl_loop_config(const tri_ctrl_loop_t *l)
{
    return &l->m->cfg;
}
const char *tri_ctrl_loop_name(const tri_ctrl_loop_t *l)
{
    return l->def->name;
}
size_t tri_ctrl_loop_len(const tri_ctrl_loop_t *l)
{
    return l->items.count;
}
uint64_t tri_ctrl_loop_reconciles(const tri_ctrl_loop_t *l)
{
    return l->reconciles;
}
const char *tri_ctrl_key(const tri_ctrl_item_t *it)
{
    return it->key;
}
tri_ctrl_loop_t *tri_ctrl_item_loop(const tri_ctrl_item_t *it)
{
    return it->loop;
}
unsigned tri_ctrl_failures(const tri_ctrl_item_t *it)
{
    return it->failures;
}
bool tri_ctrl_live(const tri_ctrl_item_t *it)
{
    return !it->dead && it->loop->running;
}
