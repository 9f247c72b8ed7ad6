/* The controller work queue on a bare libuv loop with a fake reconcile: keys are
 * deduplicated while queued, a key is never reconciled twice at once and runs
 * again when added during its reconcile, REQUEUE backs off exponentially up to
 * the cap, add_after delays, workers and max_queue bound the work, and stop
 * drops the queue, kills in-flight items and runs nothing more. */
#include <stdlib.h>
#include <string.h>
#include <uv.h>

#include "check.h"
#include "triarch/controllers.h"
#include "triarch/errors.h"

#define MAX_KEYS 16
#define MAX_RUNS 64

typedef struct fake {
    /* what reconcile answers for each run of a key: DONE unless listed */
    int results[MAX_RUNS];
    size_t n_results;
    bool pending; /* answer PENDING and keep the item */
    tri_ctrl_item_t *held[MAX_KEYS];
    size_t n_held;
    char keys[MAX_RUNS][16]; /* order of reconciles */
    uint64_t at[MAX_RUNS];   /* when (monotonic ms) */
    size_t runs;
    int inflight_per_key_max;
    int inflight;
    int inflight_max;
} fake_t;

static int count_runs(const fake_t *f, const char *key)
{
    int n = 0;
    for (size_t i = 0; i < f->runs; i++)
        n += strcmp(f->keys[i], key) == 0;
    return n;
}

static int fake_reconcile(tri_ctrl_loop_t *l, tri_ctrl_item_t *it)
{
    fake_t *f = tri_ctrl_loop_data(l);
    CHECK(f->runs < MAX_RUNS);
    for (size_t i = 0; i < f->n_held; i++)
        CHECK(strcmp(tri_ctrl_key(f->held[i]), tri_ctrl_key(it)) != 0); /* one per key */
    snprintf(f->keys[f->runs], sizeof f->keys[0], "%s", tri_ctrl_key(it));
    f->at[f->runs] = tri_now_ms();
    int res = f->runs < f->n_results ? f->results[f->runs] : TRI_CTRL_DONE;
    f->runs++;
    if (f->pending) {
        CHECK(f->n_held < MAX_KEYS);
        f->held[f->n_held++] = it;
        f->inflight++;
        if (f->inflight > f->inflight_max)
            f->inflight_max = f->inflight;
        return TRI_CTRL_PENDING;
    }
    return res;
}

static void finish_all(fake_t *f, int result)
{
    for (size_t i = 0; i < f->n_held; i++)
        tri_ctrl_finish(f->held[i], result);
    f->inflight -= (int)f->n_held;
    f->n_held = 0;
}

static const tri_ctrl_loop_def_t fake_def = {.name = "fake", .reconcile = fake_reconcile};

static void on_stop_timer(uv_timer_t *t)
{
    uv_stop(t->loop);
}

/* Runs the loop for ms milliseconds. */
static void run_for(uv_loop_t *loop, uint64_t ms)
{
    uv_timer_t t;
    uv_timer_init(loop, &t);
    uv_timer_start(&t, on_stop_timer, ms, 0);
    uv_run(loop, UV_RUN_DEFAULT);
    uv_close((uv_handle_t *)&t, NULL);
    uv_run(loop, UV_RUN_NOWAIT);
}

typedef struct fixture {
    uv_loop_t loop;
    tri_ctrl_manager_t *m;
    tri_ctrl_loop_t *l;
    fake_t f;
} fixture_t;

static void setup(fixture_t *x, const tri_ctrl_config_t *cfg)
{
    memset(x, 0, sizeof *x);
    uv_loop_init(&x->loop);
    CHECK_EQ(tri_ctrl_manager_new(&x->loop, NULL, cfg, &x->m), 0);
    CHECK_EQ(tri_ctrl_manager_add(x->m, &fake_def, &x->f, &x->l), 0);
    tri_ctrl_manager_start(x->m);
}

static void teardown(fixture_t *x)
{
    tri_ctrl_manager_close(x->m);
    uv_run(&x->loop, UV_RUN_DEFAULT);
    tri_ctrl_manager_free(x->m);
    CHECK_EQ(uv_loop_close(&x->loop), 0);
}

static void test_dedup(void)
{
    fixture_t x;
    setup(&x, NULL);
    for (int i = 0; i < 3; i++)
        CHECK_EQ(tri_ctrl_add(x.l, "a"), 0);
    CHECK_EQ(tri_ctrl_add(x.l, "b"), 0);
    CHECK_EQ(tri_ctrl_loop_len(x.l), 2);
    run_for(&x.loop, 20);
    CHECK_EQ(count_runs(&x.f, "a"), 1);
    CHECK_EQ(count_runs(&x.f, "b"), 1);
    CHECK_EQ(strcmp(x.f.keys[0], "a"), 0); /* FIFO */
    CHECK_EQ(tri_ctrl_loop_len(x.l), 0);   /* DONE forgets the key */
    teardown(&x);
}

/* A delayed add made while the key is in flight (a controller scheduling its own
 * periodic resync) keeps its delay after a DONE. */
static void test_delayed_add_while_inflight(void)
{
    fixture_t x;
    setup(&x, NULL);
    x.f.pending = true;
    tri_ctrl_add(x.l, "a");
    run_for(&x.loop, 10);
    CHECK_EQ(x.f.runs, 1);
    tri_ctrl_add_after(x.l, "a", 300);
    finish_all(&x.f, TRI_CTRL_DONE);
    run_for(&x.loop, 100);
    CHECK_EQ(x.f.runs, 1); /* not at once */
    run_for(&x.loop, 400);
    CHECK_EQ(x.f.runs, 2);
    CHECK(x.f.at[1] - x.f.at[0] >= 300);
    finish_all(&x.f, TRI_CTRL_DONE);
    teardown(&x);
}

static void test_dirty_runs_again(void)
{
    fixture_t x;
    setup(&x, NULL);
    x.f.pending = true;
    tri_ctrl_add(x.l, "a");
    run_for(&x.loop, 10);
    CHECK_EQ(x.f.runs, 1);
    /* added three times during its reconcile: not run concurrently... */
    for (int i = 0; i < 3; i++)
        tri_ctrl_add(x.l, "a");
    run_for(&x.loop, 10);
    CHECK_EQ(x.f.runs, 1);
    /* ...but exactly once more after it */
    x.f.pending = false;
    finish_all(&x.f, TRI_CTRL_DONE);
    run_for(&x.loop, 10);
    CHECK_EQ(count_runs(&x.f, "a"), 2);
    CHECK_EQ(tri_ctrl_loop_len(x.l), 0);
    teardown(&x);
}

static void test_backoff(void)
{
    fixture_t x;
    tri_ctrl_config_t cfg = {.backoff_base_ms = 10, .backoff_max_ms = 40};
    setup(&x, &cfg);
    x.f.n_results = 6;
    for (int i = 0; i < 5; i++)
        x.f.results[i] = TRI_CTRL_REQUEUE;
    x.f.results[5] = TRI_CTRL_DONE;
    tri_ctrl_add(x.l, "k");
    run_for(&x.loop, 400);
    CHECK_EQ(x.f.runs, 6);
    static const uint64_t want[] = {10, 20, 40, 40, 40}; /* base * 2^n, capped */
    for (int i = 0; i < 5; i++) {
        uint64_t gap = x.f.at[i + 1] - x.f.at[i];
        if (gap < want[i] || gap > want[i] + 30) {
            fprintf(stderr, "retry %d after %llu ms, want %llu\n", i, (unsigned long long)gap,
                    (unsigned long long)want[i]);
            exit(1);
        }
    }
    CHECK_EQ(tri_ctrl_loop_len(x.l), 0);
    /* the failures were forgotten with DONE: a new failure starts again at base */
    x.f.n_results = 8;
    x.f.results[6] = TRI_CTRL_REQUEUE;
    x.f.results[7] = TRI_CTRL_DONE;
    tri_ctrl_add(x.l, "k");
    run_for(&x.loop, 100);
    CHECK_EQ(x.f.runs, 8);
    CHECK(x.f.at[7] - x.f.at[6] < 10 + 30);
    teardown(&x);
}

static void test_add_after(void)
{
    fixture_t x;
    setup(&x, NULL);
    uint64_t t0 = tri_now_ms();
    tri_ctrl_add_after(x.l, "late", 50);
    tri_ctrl_add_after(x.l, "later", 500);
    run_for(&x.loop, 20);
    CHECK_EQ(x.f.runs, 0);
    run_for(&x.loop, 60);
    CHECK_EQ(count_runs(&x.f, "late"), 1);
    CHECK(x.f.at[0] - t0 >= 50);
    /* a plain add of a waiting key runs it now */
    tri_ctrl_add(x.l, "later");
    run_for(&x.loop, 10);
    CHECK_EQ(count_runs(&x.f, "later"), 1);
    CHECK_EQ(tri_ctrl_loop_len(x.l), 0);
    teardown(&x);
}

static void test_workers_and_bound(void)
{
    fixture_t x;
    tri_ctrl_config_t cfg = {.workers = 2, .max_queue = 4};
    setup(&x, &cfg);
    x.f.pending = true;
    const char *keys[] = {"k1", "k2", "k3", "k4"};
    for (int i = 0; i < 4; i++)
        CHECK_EQ(tri_ctrl_add(x.l, keys[i]), 0);
    CHECK_EQ(tri_ctrl_add(x.l, "k5"), TRI_ENOMEM); /* bounded */
    CHECK_EQ(tri_ctrl_add(x.l, "k1"), 0);          /* known keys still dedup */
    run_for(&x.loop, 20);
    CHECK_EQ(x.f.inflight_max, 2);
    finish_all(&x.f, TRI_CTRL_DONE);
    run_for(&x.loop, 20);
    CHECK_EQ(x.f.runs, 4);
    finish_all(&x.f, TRI_CTRL_DONE);
    x.f.pending = false;
    /* drained after an overflow: the loop resynced (nothing to replay here) */
    run_for(&x.loop, 20);
    CHECK_EQ(tri_ctrl_loop_len(x.l), 0);
    CHECK_EQ(tri_ctrl_add(x.l, "k5"), 0);
    run_for(&x.loop, 20);
    CHECK_EQ(count_runs(&x.f, "k5"), 1);
    teardown(&x);
}

static void test_stop(void)
{
    fixture_t x;
    tri_ctrl_config_t cfg = {.workers = 1, .backoff_base_ms = 5};
    setup(&x, &cfg);
    x.f.pending = true;
    tri_ctrl_add(x.l, "inflight");
    tri_ctrl_add(x.l, "queued");
    tri_ctrl_add_after(x.l, "delayed", 30);
    run_for(&x.loop, 10);
    CHECK_EQ(x.f.runs, 1);
    tri_ctrl_item_t *it = x.f.held[0];
    CHECK(tri_ctrl_live(it));
    tri_ctrl_manager_stop(x.m);
    CHECK(!tri_ctrl_live(it));
    CHECK_EQ(tri_ctrl_loop_len(x.l), 0);
    CHECK_EQ(tri_ctrl_add(x.l, "new"), TRI_ECANCELED);
    /* the late finish of a dead item frees it and starts nothing */
    finish_all(&x.f, TRI_CTRL_REQUEUE);
    run_for(&x.loop, 60);
    CHECK_EQ(x.f.runs, 1);
    /* leadership again: a fresh queue */
    x.f.pending = false;
    tri_ctrl_manager_start(x.m);
    CHECK_EQ(tri_ctrl_add(x.l, "again"), 0);
    run_for(&x.loop, 10);
    CHECK_EQ(x.f.runs, 2);
    CHECK_EQ(count_runs(&x.f, "queued"), 0);
    CHECK_EQ(count_runs(&x.f, "delayed"), 0);
    /* stopped with an item in flight and never finished: freed with the manager */
    x.f.pending = true;
    tri_ctrl_add(x.l, "abandoned");
    run_for(&x.loop, 10);
    CHECK_EQ(x.f.runs, 3);
    teardown(&x);
}

int main(void)
{
    test_dedup();
    test_dirty_runs_again();
    test_delayed_add_while_inflight();
    test_backoff();
    test_add_after();
    test_workers_and_bound();
    test_stop();
    printf("ok\n");
    return 0;
}
