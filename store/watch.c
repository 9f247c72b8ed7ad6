/* The watch hub: the ring of recent events and the watchers reading it.
 *
 * Every applied op appends one event to the ring (a growable circular array
 * addressed by absolute sequence numbers). A watcher is only a cursor (the next
 * sequence number to look at) plus its key range: it holds no queue of its own,
 * so a slow watcher costs nothing and the ring never waits for anyone. Replay
 * from the past and live following are the same loop: tri_watch_next walks from
 * the cursor to the ring's tail, skipping events outside the range, so events
 * come in order with no gap and no duplicate.
 *
 * A watcher is closed (TRI_ESLOW) when its cursor has left the ring (its events
 * were trimmed before it read them), or when it is more than watcher_max_lag
 * events behind the tail, counting only events appended after the watcher
 * started: replaying a long stretch of history is not lagging, but falling
 * further behind live traffic than that is. A watcher that has read everything
 * is moved past appends outside its range, so traffic on other keys never makes
 * it "behind". The store's restore closes every
 * watcher, since its cursor no longer means anything.
 *
 * Callbacks are edge-triggered: after an apply, each watcher with a new event in
 * its range is called once. A callback may stop any watcher (including itself);
 * stops during callbacks are deferred until the notification loop ends.
 */
#include <stdlib.h>
#include <string.h>

#include "store_int.h"
#include "triarch/errors.h"

#define ST_RING_INITIAL 1024u

struct tri_watch {
    tri_store_t *s;
    tri_watch_t *prev, *next;
    char *start; /* start and end share one allocation */
    size_t start_len;
    char *end;
    size_t end_len;
    uint64_t next_seq;
    uint64_t start_tail; /* ring tail when the watch began (lag baseline) */
    int64_t seen_rev;    /* every event up to this revision was delivered */
    bool closed;
    bool stopped;
    tri_watch_cb cb;
    void *data;
    tri_val_t *held[3]; /* the refs behind the last event handed out */
};

/* ---------- ring ---------- */

void st_ring_free(st_ring_t *r)
{
    for (size_t i = 0; i < r->count; i++) {
        st_event_t *ev = &r->evs[(r->head + i) & (r->cap - 1)];
        tri_val_unref(ev->key);
        tri_val_unref(ev->val);
        tri_val_unref(ev->prev);
    }
    free(r->evs);
    memset(r, 0, sizeof(*r));
}

int st_ring_reserve(st_ring_t *r, size_t extra)
{
    if (r->count + extra <= r->cap)
        return 0;
    size_t cap = r->cap ? r->cap : ST_RING_INITIAL;
    while (cap < r->count + extra)
        cap *= 2;
    st_event_t *evs = malloc(cap * sizeof(*evs));
    if (evs == NULL)
        return TRI_ENOMEM;
    for (size_t i = 0; i < r->count; i++)
        evs[i] = r->evs[(r->head + i) & (r->cap - 1)];
    free(r->evs);
    r->evs = evs;
    r->cap = cap;
    r->head = 0;
    return 0;
}

void st_ring_push(st_ring_t *r, const st_event_t *ev)
{
    r->evs[(r->head + r->count) & (r->cap - 1)] = *ev;
    r->count++;
}

st_event_t *st_ring_at(const st_ring_t *r, uint64_t seq)
{
    return &r->evs[(r->head + (size_t)(seq - r->base_seq)) & (r->cap - 1)];
}

/* First sequence number whose event has a revision > rev (events are sorted). */
static uint64_t st_ring_after(const st_ring_t *r, int64_t rev)
{
    uint64_t lo = r->base_seq, hi = st_ring_tail(r);
    while (lo < hi) {
        uint64_t mid = lo + (hi - lo) / 2;
        if (st_ring_at(r, mid)->rev <= rev)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* ---------- watchers ---------- */

static bool st_watch_matches(const tri_watch_t *w, const st_event_t *ev)
{
    return st_key_in_range(ev->key->data, ev->key->len, w->start, w->start_len, w->end, w->end_len);
}

static void st_watch_release(tri_watch_t *w)
{
    for (int i = 0; i < 3; i++) {
        tri_val_unref(w->held[i]);
        w->held[i] = NULL;
    }
}

int tri_store_watch(tri_store_t *s, const char *start, size_t start_len, const char *end,
                    size_t end_len, int64_t after_rev, tri_watch_cb cb, void *data,
                    tri_watch_t **out)
{
    *out = NULL;
    if (after_rev < 0 || (start_len > 0 && start == NULL) || (end_len > 0 && end == NULL))
        return TRI_EINVAL;
    if (after_rev > s->st.rev)
        return TRI_EFUTURE;
    if (after_rev < s->st.compact_rev)
        return TRI_ECOMPACTED;
    tri_watch_t *w = calloc(1, sizeof(*w));
    char *keys = malloc(start_len + end_len + 1);
    if (w == NULL || keys == NULL) {
        free(w);
        free(keys);
        return TRI_ENOMEM;
    }
    if (start_len > 0)
        memcpy(keys, start, start_len);
    if (end_len > 0)
        memcpy(keys + start_len, end, end_len);
    *w = (tri_watch_t){.s = s,
                       .start = keys,
                       .start_len = start_len,
                       .end = keys + start_len,
                       .end_len = end_len,
                       .cb = cb,
                       .data = data,
                       .seen_rev = after_rev};
    w->next_seq = st_ring_after(&s->st.ring, after_rev);
    w->start_tail = st_ring_tail(&s->st.ring);
    w->next = s->watchers;
    if (s->watchers != NULL)
        s->watchers->prev = w;
    s->watchers = w;
    s->n_watchers++;
    *out = w;
    return 0;
}

static int st_watch_fail(tri_watch_t *w)
{
    w->closed = true;
    return TRI_ESLOW;
}

int tri_watch_next(tri_watch_t *w, tri_event_t *ev)
{
    st_watch_release(w);
    const st_ring_t *r = &w->s->st.ring;
    uint64_t tail = st_ring_tail(r);
    if (w->closed || w->next_seq < r->base_seq)
        return st_watch_fail(w);
    uint64_t from = w->next_seq > w->start_tail ? w->next_seq : w->start_tail;
    if (tail > from && tail - from > w->s->opts.watcher_max_lag)
        return st_watch_fail(w);
    while (w->next_seq < tail) {
        const st_event_t *e = st_ring_at(r, w->next_seq++);
        if (e->rev - 1 > w->seen_rev)
            w->seen_rev = e->rev - 1;
        if (!st_watch_matches(w, e))
            continue;
        *ev = (tri_event_t){.kind = (enum tri_event_kind)e->kind,
                            .revision = e->rev,
                            .key = e->key,
                            .val = e->val,
                            .prev = e->prev,
                            .create_rev = e->create_rev,
                            .mod_rev = e->rev,
                            .created = e->created};
        w->held[0] = tri_val_ref(e->key);
        w->held[1] = tri_val_ref(e->val);
        w->held[2] = tri_val_ref(e->prev);
        return 1;
    }
    w->seen_rev = w->s->st.rev;
    return 0;
}

int64_t tri_watch_progress(const tri_watch_t *w)
{
    const st_ring_t *r = &w->s->st.ring;
    if (w->closed || w->next_seq < r->base_seq)
        return w->seen_rev;
    if (w->next_seq >= st_ring_tail(r))
        return w->s->st.rev;
    int64_t before_next = st_ring_at(r, w->next_seq)->rev - 1;
    return before_next > w->seen_rev ? before_next : w->seen_rev;
}

static void st_watch_unlink_free(tri_watch_t *w)
{
    tri_store_t *s = w->s;
    if (w->prev != NULL)
        w->prev->next = w->next;
    else
        s->watchers = w->next;
    if (w->next != NULL)
        w->next->prev = w->prev;
    s->n_watchers--;
    st_watch_release(w);
    free(w->start);
    free(w);
}

void tri_watch_stop(tri_watch_t *w)
{
    if (w == NULL || w->stopped)
        return;
    if (w->s->notify_depth > 0) {
        w->stopped = true;
        w->s->stops_deferred = true;
        st_watch_release(w);
        return;
    }
    st_watch_unlink_free(w);
}

size_t tri_store_watcher_count(const tri_store_t *s)
{
    size_t n = 0;
    for (const tri_watch_t *w = s->watchers; w != NULL; w = w->next)
        n += !w->stopped;
    return n;
}

static void st_watch_sweep(tri_store_t *s)
{
    if (s->notify_depth > 0 || !s->stops_deferred)
        return;
    s->stops_deferred = false;
    tri_watch_t *w = s->watchers;
    while (w != NULL) {
        tri_watch_t *next = w->next;
        if (w->stopped)
            st_watch_unlink_free(w);
        w = next;
    }
}

static bool st_watch_wants(const tri_watch_t *w, uint64_t first_seq)
{
    const st_ring_t *r = &w->s->st.ring;
    if (w->closed)
        return false; /* its owner already knows, or was told by close_all */
    uint64_t from = first_seq > r->base_seq ? first_seq : r->base_seq;
    for (uint64_t q = from; q < st_ring_tail(r); q++)
        if (st_watch_matches(w, st_ring_at(r, q)))
            return true;
    return false;
}

/* A watcher that had read everything before this apply and wants none of its
 * events is current: its cursor moves to the tail. Otherwise a watcher of a quiet
 * range (leases, say) would sit at its last event while other keys' traffic passed
 * it, and the next event in its range would find it watcher_max_lag "behind" and
 * close it, though it never had anything to read: every such watcher relisted
 * after each 10,000 unrelated writes (the leader's loops relisting 100,000
 * ConfigMaps, seconds of CPU each time). */
static void st_watch_skip_unrelated(tri_watch_t *w, uint64_t first_seq)
{
    if (w->closed || w->next_seq < first_seq)
        return; /* unread events before this apply: it is replaying, or behind */
    w->next_seq = st_ring_tail(&w->s->st.ring);
    w->seen_rev = w->s->st.rev;
}

void st_watch_notify(tri_store_t *s, uint64_t first_seq)
{
    s->notify_depth++;
    for (tri_watch_t *w = s->watchers; w != NULL; w = w->next) {
        if (w->stopped)
            continue;
        if (!st_watch_wants(w, first_seq))
            st_watch_skip_unrelated(w, first_seq);
        else if (w->cb != NULL)
            w->cb(w, w->data);
    }
    s->notify_depth--;
    st_watch_sweep(s);
}

void st_watch_close_all(tri_store_t *s)
{
    s->notify_depth++;
    for (tri_watch_t *w = s->watchers; w != NULL; w = w->next) {
        if (w->stopped || w->closed)
            continue;
        w->closed = true;
        if (w->cb != NULL)
            w->cb(w, w->data); /* edge: its owner drains and reads TRI_ESLOW */
    }
    s->notify_depth--;
    st_watch_sweep(s);
}

void st_watch_free_all(tri_store_t *s)
{
    while (s->watchers != NULL)
        st_watch_unlink_free(s->watchers);
}
