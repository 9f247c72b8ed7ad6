/* Watch hub behaviours: replay from the past then live, range filtering and
 * callback edges, too-old and future revisions, slow watchers (lag and cursor
 * out of the ring), stops during replay and from inside callbacks, borrowed
 * events outliving their ring slot, and watches across a restore. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "triarch/errors.h"
#include "triarch/store.h"

static tri_store_t *mk(size_t history, size_t max_lag)
{
    tri_store_opts_t o = {.history_events = history, .watcher_max_lag = max_lag};
    tri_store_t *s;
    CHECK_EQ(tri_store_new(&o, &s), 0);
    return s;
}

static void put(tri_store_t *s, const char *k, const char *v)
{
    tri_op_t o = {
        .kind = TRI_OP_PUT, .key = k, .key_len = strlen(k), .val = v, .val_len = strlen(v)};
    tri_txn_t t = {.ops = &o, .n_ops = 1};
    tri_txn_result_t r;
    CHECK_EQ(tri_store_apply(s, &t, &r), 0);
}

static void del(tri_store_t *s, const char *k)
{
    tri_op_t o = {.kind = TRI_OP_DELETE, .key = k, .key_len = strlen(k)};
    tri_txn_t t = {.ops = &o, .n_ops = 1};
    tri_txn_result_t r;
    CHECK_EQ(tri_store_apply(s, &t, &r), 0);
}

static void count_cb(tri_watch_t *w, void *data)
{
    (void)w;
    (*(int *)data)++;
}

static bool is(const tri_val_t *v, const char *s)
{
    return v != NULL && v->len == strlen(s) && memcmp(v->data, s, v->len) == 0;
}

static void test_replay_then_live(void)
{
    tri_store_t *s = mk(0, 0);
    put(s, "/a", "1");
    put(s, "/a", "2");
    put(s, "/b", "1");
    del(s, "/a");
    int calls = 0;
    tri_watch_t *w;
    CHECK_EQ(tri_store_watch(s, "", 0, "", 0, 1, count_cb, &calls, &w), 0);
    tri_event_t ev;
    CHECK_EQ(tri_watch_next(w, &ev), 1);
    CHECK(ev.kind == TRI_EV_PUT && ev.revision == 2 && is(ev.val, "2") && is(ev.prev, "1"));
    CHECK(!ev.created && ev.create_rev == 1);
    CHECK_EQ(tri_watch_next(w, &ev), 1);
    CHECK(ev.revision == 3 && ev.created && ev.prev == NULL && is(ev.key, "/b"));
    CHECK_EQ(tri_watch_next(w, &ev), 1);
    CHECK(ev.kind == TRI_EV_DELETE && ev.revision == 4 && ev.val == NULL && is(ev.prev, "2"));
    CHECK(ev.mod_rev == 4 && ev.create_rev == 1);
    CHECK_EQ(tri_watch_next(w, &ev), 0);
    CHECK_EQ(tri_watch_progress(w), 4);
    CHECK_EQ(calls, 0); /* replay needs no edge */
    put(s, "/c", "x");
    CHECK_EQ(calls, 1);
    put(s, "/c", "y");
    CHECK_EQ(calls, 2); /* edge per apply, drained or not */
    CHECK_EQ(tri_watch_next(w, &ev), 1);
    CHECK(ev.revision == 5 && ev.created);
    CHECK_EQ(tri_watch_next(w, &ev), 1);
    CHECK(ev.revision == 6 && is(ev.prev, "x"));
    CHECK_EQ(tri_watch_next(w, &ev), 0);
    /* A watch at the current revision just follows live. */
    tri_watch_t *live;
    CHECK_EQ(tri_store_watch(s, "", 0, "", 0, 6, NULL, NULL, &live), 0);
    CHECK_EQ(tri_watch_next(live, &ev), 0);
    put(s, "/d", "1");
    CHECK_EQ(tri_watch_next(live, &ev), 1);
    CHECK_EQ(ev.revision, 7);
    CHECK_EQ(tri_store_watcher_count(s), 2);
    tri_watch_stop(live);
    tri_watch_stop(w);
    CHECK_EQ(tri_store_watcher_count(s), 0);
    tri_store_free(s);
}

static void test_range_filter(void)
{
    tri_store_t *s = mk(0, 0);
    int calls = 0;
    char end[8];
    size_t end_len = tri_prefix_end("/a/", 3, end);
    tri_watch_t *w;
    CHECK_EQ(tri_store_watch(s, "/a/", 3, end, end_len, 0, count_cb, &calls, &w), 0);
    put(s, "/b/1", "x");
    put(s, "/a", "x"); /* not under the prefix */
    CHECK_EQ(calls, 0);
    put(s, "/a/1", "x");
    put(s, "/a0", "x"); /* the prefix end itself is excluded */
    CHECK_EQ(calls, 1);
    tri_event_t ev;
    CHECK_EQ(tri_watch_next(w, &ev), 1);
    CHECK(is(ev.key, "/a/1") && ev.revision == 3);
    CHECK_EQ(tri_watch_next(w, &ev), 0);
    CHECK_EQ(tri_watch_progress(w), 4); /* filtered events still advance progress */
    tri_watch_stop(w);
    tri_store_free(s);
}

static void test_too_old_and_future(void)
{
    tri_store_t *s = mk(3, 0);
    for (int i = 0; i < 6; i++)
        put(s, "/k", "v");
    CHECK_EQ(tri_store_compact_revision(s), 3);
    tri_watch_t *w;
    CHECK_EQ(tri_store_watch(s, "", 0, "", 0, 2, NULL, NULL, &w), TRI_ECOMPACTED);
    CHECK(w == NULL);
    CHECK_EQ(tri_store_watch(s, "", 0, "", 0, 7, NULL, NULL, &w), TRI_EFUTURE);
    CHECK_EQ(tri_store_watch(s, "", 0, "", 0, 3, NULL, NULL, &w), 0);
    tri_event_t ev;
    for (int r = 4; r <= 6; r++) {
        CHECK_EQ(tri_watch_next(w, &ev), 1);
        CHECK_EQ(ev.revision, r);
    }
    CHECK_EQ(tri_watch_next(w, &ev), 0);
    tri_watch_stop(w);
    tri_store_free(s);
}

static void test_slow_watchers(void)
{
    /* Lag: more than 10 live events behind. */
    tri_store_t *s = mk(0, 10);
    put(s, "/x", "0");
    tri_watch_t *ok, *slow;
    CHECK_EQ(tri_store_watch(s, "", 0, "", 0, 1, NULL, NULL, &ok), 0);
    CHECK_EQ(tri_store_watch(s, "", 0, "", 0, 1, NULL, NULL, &slow), 0);
    tri_event_t ev;
    for (int i = 0; i < 10; i++)
        put(s, "/x", "1");
    CHECK_EQ(tri_watch_next(ok, &ev), 1); /* exactly 10 behind: fine */
    put(s, "/x", "2");
    CHECK_EQ(tri_watch_next(slow, &ev), TRI_ESLOW); /* 11 behind */
    CHECK_EQ(tri_watch_next(slow, &ev), TRI_ESLOW); /* and stays closed */
    while (tri_watch_next(ok, &ev) == 1)
        ;
    CHECK_EQ(tri_watch_next(ok, &ev), 0);
    tri_watch_stop(slow);
    tri_watch_stop(ok);
    tri_store_free(s);

    /* Cursor out of the ring: window of 4 events, a watcher 5 behind. */
    s = mk(4, 1000);
    tri_watch_t *w;
    CHECK_EQ(tri_store_watch(s, "", 0, "", 0, 0, NULL, NULL, &w), 0);
    for (int i = 0; i < 5; i++)
        put(s, "/y", "v");
    CHECK_EQ(tri_watch_next(w, &ev), TRI_ESLOW);
    tri_watch_stop(w);
    /* Replaying more history than max_lag is not lagging. */
    tri_store_t *t = mk(100, 5);
    for (int i = 0; i < 50; i++)
        put(t, "/z", "v");
    CHECK_EQ(tri_store_watch(t, "", 0, "", 0, 0, NULL, NULL, &w), 0);
    for (int r = 1; r <= 50; r++) {
        CHECK_EQ(tri_watch_next(w, &ev), 1);
        CHECK_EQ(ev.revision, r);
    }
    tri_watch_stop(w);
    tri_store_free(t);
    tri_store_free(s);
}

typedef struct {
    tri_watch_t *self;
    tri_watch_t *other;
    int calls;
} stopper_t;

static void stop_cb(tri_watch_t *w, void *data)
{
    stopper_t *st = data;
    st->calls++;
    tri_watch_stop(st->other); /* another watcher, maybe later in the list */
    tri_watch_stop(w);         /* and itself */
}

static void test_stop_during_replay_and_in_callback(void)
{
    tri_store_t *s = mk(0, 0);
    for (int i = 0; i < 20; i++)
        put(s, "/k", "v");
    tri_watch_t *w;
    CHECK_EQ(tri_store_watch(s, "", 0, "", 0, 0, NULL, NULL, &w), 0);
    tri_event_t ev;
    CHECK_EQ(tri_watch_next(w, &ev), 1);
    CHECK_EQ(tri_watch_next(w, &ev), 1);
    tri_watch_stop(w); /* mid-replay, holding an event: no leak (LeakSanitizer) */
    CHECK_EQ(tri_store_watcher_count(s), 0);

    stopper_t a = {0}, b = {0};
    tri_watch_t *wa, *wb;
    CHECK_EQ(tri_store_watch(s, "", 0, "", 0, 20, stop_cb, &a, &wa), 0);
    CHECK_EQ(tri_store_watch(s, "", 0, "", 0, 20, stop_cb, &b, &wb), 0);
    a.other = wb;
    b.other = wa;
    put(s, "/k", "w");
    CHECK_EQ(a.calls + b.calls, 1); /* the first one called stopped the other */
    CHECK_EQ(tri_store_watcher_count(s), 0);
    put(s, "/k", "x");
    CHECK_EQ(a.calls + b.calls, 1);
    tri_store_free(s);
}

/* A drained watcher of a quiet range is not "behind" however much traffic other
 * keys see: neither the lag limit nor the ring's trimming closes it. One with an
 * unread event in its range is not moved past it. */
static void test_quiet_range_not_slow(void)
{
    tri_store_t *s = mk(8, 10);
    put(s, "/quiet/a", "0");
    int calls = 0;
    tri_watch_t *quiet, *busy;
    CHECK_EQ(tri_store_watch(s, "/quiet/", 7, "/quiet0", 7, 1, count_cb, &calls, &quiet), 0);
    CHECK_EQ(tri_store_watch(s, "/quiet/", 7, "/quiet0", 7, 1, NULL, NULL, &busy), 0);
    put(s, "/quiet/a", "1");
    tri_event_t ev;
    CHECK_EQ(calls, 1);
    CHECK_EQ(tri_watch_next(quiet, &ev), 1); /* drained, as its owner does; busy is not */
    CHECK(is(ev.val, "1"));
    CHECK_EQ(tri_watch_next(quiet, &ev), 0);
    for (int i = 0; i < 200; i++)
        put(s, "/loud", "v");
    CHECK_EQ(calls, 1);
    CHECK_EQ(tri_watch_next(quiet, &ev), 0); /* not closed: nothing was missed */
    CHECK_EQ(tri_watch_progress(quiet), 202); /* every revision seen */
    put(s, "/quiet/a", "2");
    CHECK_EQ(calls, 2);
    CHECK_EQ(tri_watch_next(quiet, &ev), 1);
    CHECK(is(ev.val, "2") && ev.revision == 203);
    CHECK_EQ(tri_watch_next(busy, &ev), TRI_ESLOW); /* its unread event left the ring */
    tri_watch_stop(quiet);
    tri_watch_stop(busy);
    tri_store_free(s);
}

static void test_event_outlives_ring_slot(void)
{
    tri_store_t *s = mk(1, 0);
    tri_watch_t *w;
    CHECK_EQ(tri_store_watch(s, "", 0, "", 0, 0, NULL, NULL, &w), 0);
    put(s, "/a", "first");
    tri_event_t ev;
    CHECK_EQ(tri_watch_next(w, &ev), 1);
    put(s, "/a", "second"); /* trims the event we hold; its bytes stay valid */
    put(s, "/a", "third");
    CHECK(is(ev.key, "/a") && is(ev.val, "first"));
    CHECK_EQ(tri_watch_next(w, &ev), TRI_ESLOW); /* "second" left the ring unread */
    tri_watch_stop(w);
    tri_store_free(s);
}

static void test_watch_after_restore(void)
{
    tri_store_t *src = mk(0, 0);
    put(src, "/a", "1");
    put(src, "/b", "2");
    tri_snap_ref_t *ref;
    tri_buf_t snap = {0};
    CHECK_EQ(tri_store_snap_ref(src, &ref), 0);
    CHECK_EQ(tri_snap_encode(ref, &snap), 0);
    tri_snap_ref_free(ref);
    tri_store_free(src);

    tri_store_t *s = mk(0, 0);
    for (int i = 0; i < 5; i++)
        put(s, "/old", "v");
    int calls = 0;
    tri_watch_t *old;
    CHECK_EQ(tri_store_watch(s, "", 0, "", 0, 5, count_cb, &calls, &old), 0);
    CHECK_EQ(tri_store_restore(s, snap.data, snap.len), 0);
    tri_buf_free(&snap);
    CHECK_EQ(calls, 1); /* told, so that it drains and learns */
    tri_event_t ev;
    CHECK_EQ(tri_watch_next(old, &ev), TRI_ESLOW);
    tri_watch_stop(old);
    CHECK_EQ(tri_store_revision(s), 2);
    CHECK_EQ(tri_store_compact_revision(s), 2);
    tri_watch_t *w;
    CHECK_EQ(tri_store_watch(s, "", 0, "", 0, 1, NULL, NULL, &w), TRI_ECOMPACTED);
    CHECK_EQ(tri_store_watch(s, "", 0, "", 0, 2, count_cb, &calls, &w), 0);
    CHECK_EQ(tri_watch_next(w, &ev), 0);
    put(s, "/b", "3");
    CHECK_EQ(calls, 2);
    CHECK_EQ(tri_watch_next(w, &ev), 1);
    CHECK(ev.revision == 3 && is(ev.prev, "2") && !ev.created && ev.create_rev == 2);
    tri_watch_stop(w);
    tri_store_free(s);
}

int main(void)
{
    test_replay_then_live();
    test_range_filter();
    test_too_old_and_future();
    test_slow_watchers();
    test_stop_during_replay_and_in_callback();
    test_quiet_range_not_slow();
    test_event_outlives_ring_slot();
    test_watch_after_restore();
    printf("store_watch: ok\n");
    return 0;
}
