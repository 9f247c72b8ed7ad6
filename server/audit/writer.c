/* The audit log's writer: a bounded queue of finished lines, drained by one thread
 * of its own that appends them to the file, rotates it by size and deletes old
 * backups — the rules of lumberjack, which kube-apiserver's --audit-log-max* flags
 * drive:
 *   - before a line would take the file past max_size, the file is renamed to
 *     <name>-<UTC timestamp>.<ext> (audit-2026-01-02T15-04-05.000.log) and a new one
 *     is opened;
 *   - after each rotation (and at start) backups beyond max_backups, newest kept,
 *     and backups whose name says they are older than max_age days are deleted.
 * The event loop only takes the mutex to link a line in; when the queue is full the
 * line is dropped and counted (tri_audit_emit), never waited for. Closing drains
 * the queue, fsyncs and joins. Stdout ("-") and other non-regular files are never
 * rotated. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "audit_internal.h"
#include "triarch/errors.h"
#include "triarch/log.h"
#include "triarch/util.h"

#define BACKUP_TS_FMT "%Y-%m-%dT%H-%M-%S" /* lumberjack's "2006-01-02T15-04-05.000" */
#define BACKUP_TS_LEN 23                  /* with ".mmm" */
#define WARN_EVERY_MS 10000
#define DAY_MS (24ull * 3600 * 1000)
#define FLUSH_BYTES (256 * 1024) /* one write(2) carries up to this much */
/* A batch is written when this many events or bytes wait, or BATCH_WAIT_MS after its
 * first event (kube-apiserver's batch mode waits up to 30 s; a shorter wait keeps
 * the log close to live and costs ~20 wakeups a second under load). */
#define BATCH_EVENTS 256
#define BATCH_BYTES (128 * 1024)
#define BATCH_WAIT_MS 50

typedef struct line {
    struct line *next;
    size_t len;
    char data[];
} line_t;

struct tri_audit_writer {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    pthread_t thread;
    line_t *head, *tail;
    size_t queued, queued_bytes, max_events, max_bytes;
    bool closing;
    /* What the writer waits for: a push wakes it only when it waits on an empty
     * queue, or when a batch is due. Waking it for every event (a futex call and a
     * context switch each) cost more than formatting the event. */
    enum { BUSY, WAIT_EMPTY, WAIT_BATCH } state;
    /* the writer thread's own */
    int fd;
    bool regular, to_stdout;
    uint64_t size, max_size;
    unsigned max_age_days, max_backups;
    char path[PATH_MAX];
    char dir[PATH_MAX];
    char base[NAME_MAX + 1]; /* "audit" of audit.log */
    char ext[NAME_MAX + 1];  /* ".log" */
    uint64_t last_warn_ms;
    _Atomic uint64_t written, write_errors, rotations;
};

/* ---------- names ---------- */

static void split_name(tri_audit_writer_t *w)
{
    const char *slash = strrchr(w->path, '/');
    const char *file = slash ? slash + 1 : w->path;
    if (slash == NULL)
        snprintf(w->dir, sizeof w->dir, ".");
    else if (slash == w->path)
        snprintf(w->dir, sizeof w->dir, "/");
    else
        snprintf(w->dir, sizeof w->dir, "%.*s", (int)(slash - w->path), w->path);
    const char *dot = strrchr(file, '.');
    if (dot == NULL || dot == file)
        dot = file + strlen(file);
    snprintf(w->base, sizeof w->base, "%.*s", (int)(dot - file), file);
    snprintf(w->ext, sizeof w->ext, "%s", dot);
}

/* Unix milliseconds from a backup's name, or 0 if the name is not one of ours. */
static uint64_t backup_time_ms(const tri_audit_writer_t *w, const char *name)
{
    size_t bl = strlen(w->base), el = strlen(w->ext), n = strlen(name);
    if (n != bl + 1 + BACKUP_TS_LEN + el || strncmp(name, w->base, bl) != 0 || name[bl] != '-' ||
        strcmp(name + n - el, w->ext) != 0)
        return 0;
    char ts[BACKUP_TS_LEN + 1];
    memcpy(ts, name + bl + 1, BACKUP_TS_LEN);
    ts[BACKUP_TS_LEN] = '\0';
    struct tm tm = {0};
    char *rest = strptime(ts, BACKUP_TS_FMT, &tm);
    if (rest == NULL || rest[0] != '.' || strspn(rest + 1, "0123456789") != 3)
        return 0;
    time_t t = timegm(&tm);
    if (t < 0)
        return 0;
    return (uint64_t)t * 1000 + (uint64_t)atoi(rest + 1);
}

static uint64_t unix_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* Returns false if the name does not fit (then no rotation happens). */
static bool backup_name(const tri_audit_writer_t *w, uint64_t ms, char *out, size_t cap)
{
    time_t t = (time_t)(ms / 1000);
    struct tm tm;
    char ts[32];
    gmtime_r(&t, &tm);
    strftime(ts, sizeof ts, BACKUP_TS_FMT, &tm);
    int n =
        snprintf(out, cap, "%s/%s-%s.%03u%s", w->dir, w->base, ts, (unsigned)(ms % 1000), w->ext);
    return n > 0 && (size_t)n < cap;
}

/* ---------- retention ---------- */

typedef struct backup {
    uint64_t ms;
    char name[NAME_MAX + 1];
} backup_t;

static int by_time_desc(const void *a, const void *b)
{
    uint64_t x = ((const backup_t *)a)->ms, y = ((const backup_t *)b)->ms;
    return x < y ? 1 : x > y ? -1 : 0;
}

static void remove_backup(const tri_audit_writer_t *w, const char *name, const char *why)
{
    char p[PATH_MAX + NAME_MAX + 2];
    snprintf(p, sizeof p, "%s/%s", w->dir, name);
    if (unlink(p) == 0)
        tri_debug("audit", "removed an old audit log backup", "file=\"%s\" reason=%s", p, why);
    else if (errno != ENOENT)
        tri_warn("audit", "cannot remove an old audit log backup", "file=\"%s\" err=\"%s\"", p,
                 strerror(errno));
}

static void prune_backups(tri_audit_writer_t *w)
{
    DIR *d = opendir(w->dir);
    if (d == NULL)
        return;
    backup_t *list = NULL;
    size_t n = 0, cap = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        uint64_t ms = backup_time_ms(w, e->d_name);
        if (ms == 0)
            continue;
        if (n == cap) {
            size_t nc = cap ? cap * 2 : 16;
            backup_t *nl = realloc(list, nc * sizeof *nl);
            if (nl == NULL)
                break;
            list = nl;
            cap = nc;
        }
        list[n].ms = ms;
        snprintf(list[n++].name, sizeof list[0].name, "%s", e->d_name);
    }
    closedir(d);
    if (n > 0)
        qsort(list, n, sizeof *list, by_time_desc);
    uint64_t now = unix_ms(), max_age = (uint64_t)w->max_age_days * DAY_MS;
    for (size_t i = 0; i < n; i++) {
        if (i >= w->max_backups)
            remove_backup(w, list[i].name, "max-backup");
        else if (now > list[i].ms && now - list[i].ms > max_age)
            remove_backup(w, list[i].name, "max-age");
    }
    free(list);
}

/* ---------- file ---------- */

/* mkdir -p, mode 0700 for what it creates: the log says who did what. */
static int mkdir_parents(const char *dir)
{
    char p[PATH_MAX];
    snprintf(p, sizeof p, "%s", dir);
    for (char *s = p + 1; *s; s++) {
        if (*s != '/')
            continue;
        *s = '\0';
        if (mkdir(p, 0700) != 0 && errno != EEXIST)
            return -1;
        *s = '/';
    }
    return mkdir(p, 0700) != 0 && errno != EEXIST ? -1 : 0;
}

static int open_file(tri_audit_writer_t *w)
{
    w->fd = open(w->path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    if (w->fd < 0)
        return -errno;
    struct stat st;
    if (fstat(w->fd, &st) != 0)
        return -errno;
    w->regular = S_ISREG(st.st_mode);
    w->size = w->regular ? (uint64_t)st.st_size : 0;
    return 0;
}

static void rotate(tri_audit_writer_t *w)
{
    char bk[PATH_MAX + NAME_MAX + 64];
    uint64_t ms = unix_ms();
    struct stat st;
    /* Several rotations within one millisecond (tiny max sizes): take the next free
     * millisecond so that no backup overwrites another and names stay sortable. */
    for (int i = 0; i < 1000; i++, ms++) {
        if (!backup_name(w, ms, bk, sizeof bk)) {
            tri_warn("audit", "cannot rotate the audit log: backup name too long", "file=\"%s\"",
                     w->path);
            return;
        }
        if (stat(bk, &st) != 0)
            break;
    }
    if (rename(w->path, bk) != 0) {
        tri_warn("audit", "cannot rotate the audit log", "file=\"%s\" err=\"%s\"", w->path,
                 strerror(errno));
        return; /* keep appending to the current file rather than lose events */
    }
    fsync(w->fd);
    close(w->fd);
    int rc = open_file(w);
    if (rc != 0) {
        tri_error("audit", "cannot reopen the audit log after rotation", "file=\"%s\" err=\"%s\"",
                  w->path, strerror(-rc));
        w->fd = -1;
        return;
    }
    atomic_fetch_add(&w->rotations, 1);
    prune_backups(w);
}

/* Writes the pending lines in one go (one syscall for many events). */
static void flush_pending(tri_audit_writer_t *w, tri_buf_t *pend, uint64_t *lines)
{
    if (*lines == 0)
        return;
    if (w->fd < 0 && !w->to_stdout && open_file(w) != 0)
        w->fd = -1;
    size_t off = 0;
    int err = w->fd < 0 ? EBADF : 0;
    while (w->fd >= 0 && off < pend->len) {
        ssize_t n = write(w->fd, pend->data + off, pend->len - off);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            err = n < 0 ? errno : EIO;
            break;
        }
        off += (size_t)n;
    }
    w->size += off;
    bool ok = off == pend->len;
    atomic_fetch_add(ok ? &w->written : &w->write_errors, *lines);
    *lines = 0;
    tri_buf_reset(pend);
    uint64_t now = unix_ms();
    if (ok || now - w->last_warn_ms < WARN_EVERY_MS)
        return;
    w->last_warn_ms = now;
    tri_error("audit", "cannot write the audit log: events are being lost",
              "file=\"%s\" err=\"%s\" lost_total=%llu", w->path, strerror(err),
              (unsigned long long)atomic_load(&w->write_errors));
}

/* Appends a batch of lines to the file: rotation happens between lines, before
 * the one that would take the file past max_size. */
static void write_batch(tri_audit_writer_t *w, line_t *batch, tri_buf_t *pend, size_t *n,
                        size_t *bytes)
{
    uint64_t lines = 0;
    while (batch != NULL) {
        line_t *next = batch->next;
        uint64_t cur = w->size + pend->len;
        if (w->regular && cur > 0 && cur + batch->len > w->max_size) {
            flush_pending(w, pend, &lines);
            if (w->size > 0)
                rotate(w);
        }
        if (tri_buf_append(pend, batch->data, batch->len) == 0) {
            lines++;
        } else {
            atomic_fetch_add(&w->write_errors, 1); /* out of memory */
        }
        if (pend->len >= FLUSH_BYTES)
            flush_pending(w, pend, &lines);
        (*n)++;
        *bytes += batch->len;
        free(batch);
        batch = next;
    }
    flush_pending(w, pend, &lines);
}

static bool batch_due(const tri_audit_writer_t *w)
{
    return w->queued >= BATCH_EVENTS || w->queued_bytes >= BATCH_BYTES;
}

/* With the mutex held: returns once there is a batch to write or we are closing. */
static void wait_for_batch(tri_audit_writer_t *w)
{
    while (w->head == NULL && !w->closing) {
        w->state = WAIT_EMPTY;
        pthread_cond_wait(&w->cv, &w->mu);
    }
    if (!w->closing && !batch_due(w)) {
        struct timespec until;
        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_nsec += BATCH_WAIT_MS * 1000000L;
        if (until.tv_nsec >= 1000000000L) {
            until.tv_sec++;
            until.tv_nsec -= 1000000000L;
        }
        w->state = WAIT_BATCH;
        while (!w->closing && !batch_due(w) && pthread_cond_timedwait(&w->cv, &w->mu, &until) == 0)
            ;
    }
    w->state = BUSY;
}

static void *writer_main(void *arg)
{
    tri_audit_writer_t *w = arg;
    tri_buf_t pend = {0};
    pthread_mutex_lock(&w->mu);
    for (;;) {
        wait_for_batch(w);
        line_t *batch = w->head;
        w->head = w->tail = NULL;
        bool closing = w->closing;
        pthread_mutex_unlock(&w->mu);
        size_t n = 0, bytes = 0;
        write_batch(w, batch, &pend, &n, &bytes);
        pthread_mutex_lock(&w->mu);
        /* counted out only once written: the queue bounds what waits for the disk */
        w->queued -= n;
        w->queued_bytes -= bytes;
        if (closing && w->head == NULL)
            break;
    }
    pthread_mutex_unlock(&w->mu);
    tri_buf_free(&pend);
    return NULL;
}

/* ---------- the loop's side ---------- */

int tri_audit_writer_open(const tri_audit_writer_opts_t *o, tri_audit_writer_t **out, char *err,
                          size_t errlen)
{
    tri_audit_writer_t *w = calloc(1, sizeof *w);
    if (w == NULL)
        return TRI_ENOMEM;
    w->max_size = o->max_size;
    w->max_age_days = o->max_age_days;
    w->max_backups = o->max_backups;
    w->max_events = o->queue_events;
    w->max_bytes = o->queue_bytes;
    w->to_stdout = strcmp(o->path, "-") == 0;
    int rc = 0;
    if (w->to_stdout) {
        w->fd = STDOUT_FILENO;
    } else if (strlen(o->path) >= sizeof w->path) {
        rc = -ENAMETOOLONG;
    } else {
        snprintf(w->path, sizeof w->path, "%s", o->path);
        split_name(w);
        if (mkdir_parents(w->dir) != 0)
            rc = -errno;
        if (rc == 0)
            rc = open_file(w);
    }
    if (rc != 0) {
        snprintf(err, errlen, "audit-log-path: cannot open %s: %s", o->path, strerror(-rc));
        free(w);
        return TRI_EIO;
    }
    if (w->regular)
        prune_backups(w);
    pthread_mutex_init(&w->mu, NULL);
    pthread_cond_init(&w->cv, NULL);
    if (pthread_create(&w->thread, NULL, writer_main, w) != 0) {
        snprintf(err, errlen, "cannot start the audit writer thread");
        if (!w->to_stdout)
            close(w->fd);
        free(w);
        return TRI_EIO;
    }
    *out = w;
    return 0;
}

int tri_audit_writer_push(tri_audit_writer_t *w, const char *data, size_t len)
{
    line_t *l = malloc(sizeof *l + len);
    if (l == NULL)
        return TRI_ENOMEM;
    l->next = NULL;
    l->len = len;
    memcpy(l->data, data, len);
    pthread_mutex_lock(&w->mu);
    if (w->queued >= w->max_events || w->queued_bytes + len > w->max_bytes || w->closing) {
        pthread_mutex_unlock(&w->mu);
        free(l);
        return TRI_EUNAVAIL;
    }
    if (w->tail)
        w->tail->next = l;
    else
        w->head = l;
    w->tail = l;
    w->queued++;
    w->queued_bytes += len;
    if (w->state == WAIT_EMPTY || (w->state == WAIT_BATCH && batch_due(w)))
        pthread_cond_signal(&w->cv);
    pthread_mutex_unlock(&w->mu);
    return 0;
}

void tri_audit_writer_stats(tri_audit_writer_t *w, uint64_t *written, uint64_t *errors,
                            uint64_t *rotations)
{
    *written = atomic_load(&w->written);
    *errors = atomic_load(&w->write_errors);
    *rotations = atomic_load(&w->rotations);
}

void tri_audit_writer_close(tri_audit_writer_t *w)
{
    if (w == NULL)
        return;
    pthread_mutex_lock(&w->mu);
    w->closing = true;
    pthread_cond_signal(&w->cv);
    pthread_mutex_unlock(&w->mu);
    pthread_join(w->thread, NULL);
    if (w->fd >= 0 && !w->to_stdout) {
        fsync(w->fd);
        close(w->fd);
    }
    pthread_mutex_destroy(&w->mu);
    pthread_cond_destroy(&w->cv);
    free(w);
}
