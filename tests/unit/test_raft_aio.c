/* io_destroy off the loop thread (raft/aio_destroy.c): before the helper runs,
 * io_destroy is synchronous; once started, it returns at once and the context is
 * gone after the helper drains; other system calls pass through with their result
 * and errno; and libraft's own io_destroy calls (a segment closed by a snapshot)
 * reach the helper, which proves the program's syscall() takes precedence over
 * libc's for libraft.so. After all that, the restarted replicas still hold every
 * write (nothing was lost by closing segments this way).
 */
#include <errno.h>
#include <linux/aio_abi.h>
#include <sys/syscall.h>
#include <time.h>

#include "../../raft/internal.h"
#include "test_raft_harness.h"

/* One write at a time through the leader: each its own raft entry, so that the
 * small threshold takes several snapshots, each closing a segment. */
#define N_WRITES 120
#define SNAP_THRESHOLD 16
#define SNAP_TRAILING 8

static aio_context_t aio_new(void)
{
    aio_context_t ctx = 0;
    CHECK_EQ(syscall(SYS_io_setup, 1, &ctx), 0);
    CHECK(ctx != 0);
    return ctx;
}

/* 0 while ctx is a live context, -1 with EINVAL once destroyed. */
static long aio_poll(aio_context_t ctx)
{
    struct io_event ev;
    struct timespec zero = {0, 0};
    return syscall(SYS_io_getevents, ctx, 0, 1, &ev, &zero);
}

static void test_syscalls(void)
{
    /* not started yet: the old synchronous behaviour */
    aio_context_t ctx = aio_new();
    CHECK_EQ(syscall(SYS_io_destroy, ctx), 0);
    CHECK_EQ(tri_aio_destroy_deferred(), 0);
    errno = 0;
    CHECK_EQ(aio_poll(ctx), -1);
    CHECK_EQ(errno, EINVAL);

    tri_aio_destroy_start();
    tri_aio_destroy_start(); /* idempotent */
    ctx = aio_new();
    CHECK_EQ(aio_poll(ctx), 0);
    CHECK_EQ(syscall(SYS_io_destroy, ctx), 0);
    CHECK_EQ(tri_aio_destroy_deferred(), 1);
    CHECK_EQ(tri_aio_destroy_drain(), 0);
    errno = 0;
    CHECK_EQ(aio_poll(ctx), -1);
    CHECK_EQ(errno, EINVAL);

    /* everything else is libc's syscall(), result and errno included */
    CHECK_EQ(syscall(SYS_getpid), getpid());
    errno = 0;
    CHECK_EQ(syscall(SYS_close, -1), -1);
    CHECK_EQ(errno, EBADF);
}

struct deferred_goal {
    uint64_t before;
    uint64_t want;
};

/* Segments close on libuv's thread pool after a snapshot: wait for them, bounded,
 * instead of expecting them the moment the stores converged. */
static bool deferred_reached(h_cluster_t *c, void *arg)
{
    struct deferred_goal *g = arg;
    (void)c;
    return tri_aio_destroy_deferred() - g->before >= g->want;
}

static void test_libraft_segments(void)
{
    h_cluster_t c;
    h_init(&c, 3);
    c.base.snapshot_threshold = SNAP_THRESHOLD;
    c.base.snapshot_trailing = SNAP_TRAILING;
    for (size_t i = 0; i < 3; i++)
        CHECK_EQ(h_up(&c, i, TRI_CLUSTER_NEW, NULL), 0);
    CHECK(h_run_until(&c, h_all_started, NULL, 10000));
    CHECK(h_run_until(&c, h_has_leader, NULL, 10000));
    uint64_t before = tri_aio_destroy_deferred();
    int l = h_leader(&c);
    for (int i = 0; i < N_WRITES; i++) {
        char key[32];
        snprintf(key, sizeof key, "/aio/%d", i);
        h_prop_t p = h_put(&c, (size_t)l, key, "v");
        CHECK_EQ(p.status, 0);
    }
    int64_t rev = tri_store_revision(c.r[l].store);
    CHECK(h_run_until(&c, h_converged, &rev, 5000));
    tri_node_status_t st;
    tri_node_get_status(c.r[l].node, &st);
    CHECK(st.snapshots_taken >= 2);
    /* every snapshot finalized the open segment on each replica */
    struct deferred_goal goal = {before, 3 * 2};
    CHECK(h_run_until(&c, deferred_reached, &goal, 30000));

    /* restart all three from their disks: every write is there */
    for (size_t i = 0; i < 3; i++)
        h_down(&c, i);
    CHECK_EQ(tri_aio_destroy_drain(), 0);
    for (size_t i = 0; i < 3; i++)
        CHECK_EQ(h_up(&c, i, TRI_CLUSTER_EXISTING, NULL), 0);
    CHECK(h_run_until(&c, h_all_started, NULL, 10000));
    CHECK(h_run_until(&c, h_has_leader, NULL, 10000));
    CHECK(h_run_until(&c, h_converged, &rev, 5000));
    for (size_t i = 0; i < 3; i++)
        for (int k = 0; k < N_WRITES; k += 37) {
            char key[32];
            snprintf(key, sizeof key, "/aio/%d", k);
            CHECK(h_has_value(&c, i, key, "v"));
        }
    h_teardown(&c);
}

int main(void)
{
    tri_log_set_level(TRI_LOG_WARN);
    test_syscalls();
    test_libraft_segments();
    printf("test_raft_aio: ok\n");
    return 0;
}
