/* Process control for `cluster up/down/status`: starting a daemon detached in its own
 * session with its output appended to a log file, finding executables, and reading
 * pid files safely. A pid file alone is not proof: pids are recycled, so a pid counts
 * as ours only while /proc/<pid>/cmdline still names the program we started. */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "triarch/errors.h"

/* /proc/<pid>/cmdline is read up to this much; the program name is at its start. */
#define TRI_CMDLINE_MAX 4096
/* How far back tri_file_tail reads. */
#define TRI_TAIL_BYTES 8192

static int cmdline_matches(pid_t pid, const char *expect)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/cmdline", (int)pid);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return 0;
    char buf[TRI_CMDLINE_MAX];
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (n <= 0)
        return 0; /* a zombie has an empty cmdline: it is not running */
    for (ssize_t i = 0; i < n; i++)
        if (buf[i] == '\0')
            buf[i] = ' ';
    buf[n] = '\0';
    return strstr(buf, expect) != NULL;
}

pid_t tri_pidfile_alive(const char *path, const char *expect)
{
    tri_buf_t b = {0};
    if (tri_file_read(path, &b) != 0) {
        tri_buf_free(&b);
        return 0;
    }
    long pid = strtol(b.data, NULL, 10);
    tri_buf_free(&b);
    if (pid <= 1 || kill((pid_t)pid, 0) != 0)
        return 0;
    return cmdline_matches((pid_t)pid, expect) ? (pid_t)pid : 0;
}

/* In the child: new session, stdin from /dev/null, stdout+stderr to the log. */
static void child_exec(char *const argv[], const char *log_path)
{
    setsid();
    int in = open("/dev/null", O_RDONLY);
    int out = open(log_path, O_WRONLY | O_CREAT | O_APPEND, 0644);
    if (in < 0 || out < 0)
        _exit(127);
    dup2(in, STDIN_FILENO);
    dup2(out, STDOUT_FILENO);
    dup2(out, STDERR_FILENO);
    if (in > STDERR_FILENO)
        close(in);
    if (out > STDERR_FILENO)
        close(out);
    /* The daemon handles its own signals; undo anything we inherited. */
    signal(SIGPIPE, SIG_DFL);
    signal(SIGINT, SIG_DFL);
    execv(argv[0], argv);
    dprintf(STDERR_FILENO, "triarch: cannot execute %s: %s\n", argv[0], strerror(errno));
    _exit(127);
}

int tri_proc_spawn(char *const argv[], const char *log_path, pid_t *pid)
{
    fflush(stdout);
    fflush(stderr);
    pid_t p = fork();
    if (p < 0)
        return TRI_EIO;
    if (p == 0)
        child_exec(argv, log_path);
    *pid = p;
    return 0;
}

static int executable(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode) && access(path, X_OK) == 0;
}

static int find_in_path(const char *name, char *out, size_t outlen)
{
    const char *env = getenv("PATH");
    if (env == NULL)
        return TRI_ENOENT;
    for (const char *p = env; *p;) {
        const char *colon = strchr(p, ':');
        size_t len = colon ? (size_t)(colon - p) : strlen(p);
        if (len > 0 && tri_path(out, outlen, "%.*s/%s", (int)len, p, name) == 0 && executable(out))
            return 0;
        p += len + (colon ? 1 : 0);
    }
    return TRI_ENOENT;
}

int tri_proc_find_binary(const char *name, const char *bin_dir, char *out, size_t outlen)
{
    if (bin_dir)
        return tri_path(out, outlen, "%s/%s", bin_dir, name) == 0 && executable(out) ? 0
                                                                                     : TRI_ENOENT;
    char self[TRI_PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    if (n > 0) {
        self[n] = '\0';
        if (tri_path(out, outlen, "%s/%s", dirname(self), name) == 0 && executable(out))
            return 0;
    }
    return find_in_path(name, out, outlen);
}

void tri_file_tail(const char *path, int lines)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        fprintf(stderr, "    (no log at %s)\n", path);
        return;
    }
    char buf[TRI_TAIL_BYTES + 1];
    off_t end = lseek(fd, 0, SEEK_END);
    off_t start = end > TRI_TAIL_BYTES ? end - TRI_TAIL_BYTES : 0;
    ssize_t n = pread(fd, buf, TRI_TAIL_BYTES, start);
    close(fd);
    if (n <= 0) {
        fprintf(stderr, "    (%s is empty)\n", path);
        return;
    }
    buf[n] = '\0';
    const char *p = buf + n;
    int seen = 0;
    /* Walk back over line starts (a byte after '\n', but not the final one). */
    while (p > buf) {
        if (p[-1] == '\n' && p < buf + n && ++seen == lines)
            break;
        p--;
    }
    fprintf(stderr, "--- last lines of %s ---\n%s%s", path, p, buf[n - 1] == '\n' ? "" : "\n");
}
