/* Takes libraft's io_destroy calls off the loop thread.
 *
 * libraft 0.15 writes its log through kernel AIO, one AIO context per open segment
 * (uv_writer.c), and destroys that context on the loop thread whenever a segment
 * closes: when it is full (8 MiB) and at every snapshot (the snapshot barrier
 * finalizes the open segment). io_destroy(2) waits for an RCU grace period before
 * it returns; on these machines that is 25-40 ms (strace -T), during which the loop
 * runs nothing else: no replication, no commits, no HTTP. With 1 KiB writes a node
 * closed a segment about every 0.3 s, so the loop stood still ~15% of the time and
 * p99 commit latency was the length of one io_destroy (bench/RESULTS.md).
 *
 * libraft reaches the kernel through libc's syscall(), called from libraft.so
 * through the PLT, so a definition of syscall() in the program takes precedence.
 * Ours hands io_destroy to one helper thread and returns 0 at once; every other
 * system call goes to libc's syscall() unchanged. This is safe because libraft
 * destroys a context only once nothing is in flight on it: every path to
 * UvWriterClose in 0.15 waits for the segment to be idle (uv_append.c), the probe
 * in uv_fs.c has reaped its one event, and uvWriterWorkCb destroys after its
 * io_getevents. io_destroy's wait protects buffers of requests still in flight,
 * and there are none; durability is untouched because writes are acknowledged by
 * their completion events, long before the context goes.
 *
 * The exception to "no hidden threads, no global state" is deliberate: syscall()
 * has no context argument, and libraft does not expose its writer. The helper
 * thread and its queue are process-wide, created once (pthread_once) by
 * tri_aio_destroy_start() from tri_node_new(). If the queue is full, the thread
 * could not be started, or we are in a child after fork(), io_destroy runs
 * synchronously as before.
 */
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <dlfcn.h>

#include "internal.h"

/* Segment closes arrive a few per second per node; 64 queued destroys is ~2 s of
 * the helper's work, beyond which the caller destroys synchronously (old behaviour). */
#define TRI_AIO_QUEUE 64
/* Bound of tri_aio_destroy_drain's wait: many grace periods. */
#define TRI_AIO_DRAIN_MS 5000

typedef long (*tri_syscall_fn)(long, ...);

static struct {
    pthread_once_t once;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool running;
    pid_t pid; /* process that started the helper: a forked child has none */
    unsigned long ring[TRI_AIO_QUEUE];
    unsigned head, len;
    bool busy; /* the helper is inside io_destroy */
    uint64_t deferred;
    tri_syscall_fn libc_syscall;
} reaper = {
    .once = PTHREAD_ONCE_INIT, .mu = PTHREAD_MUTEX_INITIALIZER, .cv = PTHREAD_COND_INITIALIZER};

static pthread_once_t libc_once = PTHREAD_ONCE_INIT;

static void aio_resolve_libc(void)
{
    reaper.libc_syscall = (tri_syscall_fn)dlsym(RTLD_NEXT, "syscall");
}

static long aio_libc_syscall(long nr, long a, long b, long c, long d, long e, long f)
{
    pthread_once(&libc_once, aio_resolve_libc);
    if (reaper.libc_syscall == NULL) {
        errno = ENOSYS;
        return -1;
    }
    return reaper.libc_syscall(nr, a, b, c, d, e, f);
}

static void *aio_reaper_main(void *arg)
{
    pthread_mutex_lock(&reaper.mu);
    for (;;) {
        while (reaper.len == 0)
            pthread_cond_wait(&reaper.cv, &reaper.mu);
        unsigned long ctx = reaper.ring[reaper.head];
        reaper.head = (reaper.head + 1) % TRI_AIO_QUEUE;
        reaper.len--;
        reaper.busy = true;
        pthread_mutex_unlock(&reaper.mu);
        aio_libc_syscall(SYS_io_destroy, (long)ctx, 0, 0, 0, 0, 0);
        pthread_mutex_lock(&reaper.mu);
        reaper.busy = false;
        pthread_cond_broadcast(&reaper.cv);
    }
    return arg;
}

static void aio_reaper_spawn(void)
{
    pthread_t t;
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    if (pthread_create(&t, &attr, aio_reaper_main, NULL) == 0) {
        reaper.pid = getpid();
        reaper.running = true;
    }
    pthread_attr_destroy(&attr);
}

void tri_aio_destroy_start(void)
{
    pthread_once(&reaper.once, aio_reaper_spawn);
}

/* true if ctx was queued for the helper. */
static bool aio_defer(unsigned long ctx)
{
    if (!reaper.running || reaper.pid != getpid())
        return false;
    bool queued = false;
    pthread_mutex_lock(&reaper.mu);
    if (reaper.len < TRI_AIO_QUEUE) {
        reaper.ring[(reaper.head + reaper.len) % TRI_AIO_QUEUE] = ctx;
        reaper.len++;
        reaper.deferred++;
        queued = true;
        pthread_cond_broadcast(&reaper.cv);
    }
    pthread_mutex_unlock(&reaper.mu);
    return queued;
}

/* Like libc's own syscall(), this takes six argument words whatever the call uses:
 * it cannot know how many the caller passed. Reading words that were not passed
 * reads the caller's stack or registers, harmless on the ABIs we build for, but an
 * error to ASan (the sixth word is on the stack on x86-64), hence the attribute. */
__attribute__((no_sanitize_address)) long syscall(long nr, ...)
{
    va_list ap;
    long a[6];
    va_start(ap, nr);
    for (int i = 0; i < 6; i++)
        a[i] = va_arg(ap, long);
    va_end(ap);
    if (nr == SYS_io_destroy && aio_defer((unsigned long)a[0]))
        return 0;
    return aio_libc_syscall(nr, a[0], a[1], a[2], a[3], a[4], a[5]);
}

uint64_t tri_aio_destroy_deferred(void)
{
    pthread_mutex_lock(&reaper.mu);
    uint64_t n = reaper.deferred;
    pthread_mutex_unlock(&reaper.mu);
    return n;
}

int tri_aio_destroy_drain(void)
{
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += TRI_AIO_DRAIN_MS / 1000;
    int rv = 0;
    pthread_mutex_lock(&reaper.mu);
    while ((reaper.len > 0 || reaper.busy) && rv == 0)
        rv = pthread_cond_timedwait(&reaper.cv, &reaper.mu, &until);
    pthread_mutex_unlock(&reaper.mu);
    return rv == 0 ? 0 : TRI_ETIMEDOUT;
}
