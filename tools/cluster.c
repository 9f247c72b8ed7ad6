/* `triarch cluster up|down|status`: a local cluster on loopback for development and
 * tests. `up` makes the cluster on first use (free loopback ports, then what `init`
 * does), starts every replica that is not running as a detached session leader from
 * its own config, starts haproxy in front of them, writes the kubeconfig and polls
 * until the load balancer answers /readyz and every replica answers its status. A
 * cluster whose processes were stopped restarts from its data dirs: the same cluster,
 * never a new one. `down` stops processes by pid file (TERM, then KILL after a grace
 * period) and keeps the data unless --purge. `status` prints one row per replica. */
#include <arpa/inet.h>
#include <getopt.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "cli.h"
#include "triarch/errors.h"

#define TRI_DEFAULT_REPLICAS 3
#define TRI_DEFAULT_TIMEOUT_S 60
/* Readiness is polled at this period; each probe may take at most TRI_PROBE_MS. */
#define TRI_POLL_MS 200
#define TRI_PROBE_MS 1000
/* `down` waits this long after SIGTERM before SIGKILL, then this long for KILL. */
#define TRI_STOP_GRACE_MS 10000
#define TRI_KILL_GRACE_MS 2000
/* haproxy -D forks and its launcher exits at once; wait this long for it. */
#define TRI_HAPROXY_START_MS 10000
#define TRI_LOG_TAIL_LINES 20
#define TRI_HAPROXY_BIN "/usr/sbin/haproxy"

static int member_path(const tri_cluster_t *c, const tri_member_t *m, const char *file, char *out,
                       size_t outlen)
{
    return tri_path(out, outlen, "%s/%s/%s", c->dir, m->name, file);
}

/* ---- making a cluster on first `up` ---- */

/* Reserves n distinct free loopback ports by holding all n sockets bound at once. */
static int ports_pick(int *ports, size_t n)
{
    int fds[2 * TRI_MAX_MEMBERS + 1];
    size_t opened = 0;
    int rc = 0;
    for (; opened < n; opened++) {
        struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = 0};
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        socklen_t len = sizeof a;
        int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0)
            rc = TRI_EIO;
        else if (bind(fd, (struct sockaddr *)&a, sizeof a) != 0 ||
                 getsockname(fd, (struct sockaddr *)&a, &len) != 0)
            rc = TRI_EIO;
        if (rc != 0) {
            if (fd >= 0)
                close(fd);
            break;
        }
        fds[opened] = fd;
        ports[opened] = ntohs(a.sin_port);
    }
    for (size_t i = 0; i < opened; i++)
        close(fds[i]);
    return rc;
}

static int cluster_create(tri_cluster_t *c, const char *dir, int replicas)
{
    int ports[2 * TRI_MAX_MEMBERS + 1];
    size_t n = 2 * (size_t)replicas + 1;
    if (ports_pick(ports, n) != 0) {
        tri_cli_err("cannot find free loopback ports");
        return TRI_EIO;
    }
    memset(c, 0, sizeof *c);
    if (tri_mkdir_p(dir, 0755) != 0 || realpath(dir, c->dir) == NULL) {
        tri_cli_err("cannot create directory %s", dir);
        return TRI_EIO;
    }
    for (int i = 0; i < replicas; i++) {
        tri_member_t *m = &c->members[c->n_members++];
        snprintf(m->name, sizeof m->name, "r%d", i + 1);
        snprintf(m->peer, sizeof m->peer, "127.0.0.1:%d", ports[2 * i]);
        snprintf(m->api, sizeof m->api, "127.0.0.1:%d", ports[2 * i + 1]);
    }
    snprintf(c->lb, sizeof c->lb, "127.0.0.1:%d", ports[n - 1]);
    int rc = tri_cluster_init(c);
    if (rc == 0)
        printf("created cluster %s in %s\n", c->id, c->dir);
    return rc;
}

/* ---- starting processes ---- */

typedef struct up_state {
    tri_cluster_t c;
    char triarchd[TRI_PATH_MAX];
    pid_t started[TRI_MAX_MEMBERS]; /* our children, 0 when already running */
} up_state_t;

static int replica_start(up_state_t *u, size_t i)
{
    const tri_member_t *m = &u->c.members[i];
    char pidfile[TRI_PATH_MAX], log[TRI_PATH_MAX], yaml[TRI_PATH_MAX];
    if (member_path(&u->c, m, "triarchd.pid", pidfile, sizeof pidfile) != 0 ||
        member_path(&u->c, m, "triarchd.log", log, sizeof log) != 0 ||
        member_path(&u->c, m, "triarchd.yaml", yaml, sizeof yaml) != 0)
        return TRI_EINVAL;
    pid_t pid = tri_pidfile_alive(pidfile, "triarchd");
    if (pid > 0) {
        printf("replica %s already running (pid %d)\n", m->name, (int)pid);
        return 0;
    }
    char *argv[] = {u->triarchd, "--config", yaml, NULL};
    int rc = tri_proc_spawn(argv, log, &pid);
    if (rc != 0) {
        tri_cli_err("cannot start %s for replica %s", u->triarchd, m->name);
        return rc;
    }
    u->started[i] = pid;
    char text[32];
    int n = snprintf(text, sizeof text, "%d\n", (int)pid);
    rc = tri_file_write(pidfile, text, (size_t)n, 0644);
    printf("starting replica %s (pid %d)\n", m->name, (int)pid);
    return rc;
}

/* Runs the haproxy launcher and waits (bounded) for it; haproxy -D daemonizes. */
static int haproxy_launch(const tri_cluster_t *c, const char *bin, const char *cfg,
                          const char *pidfile, pid_t old)
{
    char log[TRI_PATH_MAX], oldpid[24];
    if (tri_path(log, sizeof log, "%s/haproxy.log", c->dir) != 0)
        return TRI_EINVAL;
    snprintf(oldpid, sizeof oldpid, "%d", (int)old);
    /* -sf: the new process takes the listener over and the old one finishes its
     * connections (a soft reload). */
    char *argv[] = {(char *)bin, "-f",   (char *)cfg, "-D", "-p", (char *)pidfile,
                    old ? "-sf" : NULL, oldpid, NULL};
    pid_t pid;
    if (tri_proc_spawn(argv, log, &pid) != 0)
        return TRI_EIO;
    int status = 0;
    uint64_t deadline = tri_now_ms() + TRI_HAPROXY_START_MS;
    while (waitpid(pid, &status, WNOHANG) == 0) {
        if (tri_now_ms() > deadline) {
            kill(pid, SIGKILL);
            waitpid(pid, &status, 0);
            return TRI_ETIMEDOUT;
        }
        tri_sleep_ms(50);
    }
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        tri_cli_err("haproxy failed to start (see %s)", log);
        tri_file_tail(log, TRI_LOG_TAIL_LINES);
        return TRI_EIO;
    }
    return 0;
}

/* Writes D/haproxy.cfg; *changed when it differs from what was there. */
static int haproxy_render_file(const tri_cluster_t *c, const char *cfg, bool *changed)
{
    tri_buf_t text = {0}, old = {0};
    int rc = tri_haproxy_render(c, &text);
    *changed = tri_file_read(cfg, &old) != 0 || old.len != text.len ||
               memcmp(old.data, text.data, text.len) != 0;
    if (rc == 0 && *changed)
        rc = tri_file_write(cfg, text.data, text.len, 0644);
    tri_buf_free(&text);
    tri_buf_free(&old);
    if (rc != 0)
        tri_cli_err("cannot write %s", cfg);
    return rc;
}

int tri_haproxy_sync(const tri_cluster_t *c, bool start)
{
    char cfg[TRI_PATH_MAX], pidfile[TRI_PATH_MAX], bin[TRI_PATH_MAX];
    bool changed;
    if (tri_path(cfg, sizeof cfg, "%s/haproxy.cfg", c->dir) != 0 ||
        tri_path(pidfile, sizeof pidfile, "%s/haproxy.pid", c->dir) != 0)
        return TRI_EINVAL;
    int rc = haproxy_render_file(c, cfg, &changed);
    if (rc != 0)
        return rc;
    pid_t pid = tri_pidfile_alive(pidfile, "haproxy");
    if (pid > 0 && !changed) {
        if (start)
            printf("haproxy already running on %s (pid %d)\n", c->lb, (int)pid);
        return 0;
    }
    if (pid <= 0 && !start)
        return 0;
    snprintf(bin, sizeof bin, "%s", TRI_HAPROXY_BIN);
    if (access(bin, X_OK) != 0 && tri_proc_find_binary("haproxy", NULL, bin, sizeof bin) != 0) {
        tri_cli_err("haproxy not found (install Debian's haproxy package)");
        return TRI_ENOENT;
    }
    rc = haproxy_launch(c, bin, cfg, pidfile, pid > 0 ? pid : 0);
    if (rc == 0)
        printf("%s haproxy on %s (pid %d)\n", pid > 0 ? "reloaded (members changed)" : "starting",
               c->lb, (int)tri_pidfile_alive(pidfile, "haproxy"));
    return rc;
}

static int kubeconfig_write(const tri_cluster_t *c)
{
    char path[TRI_PATH_MAX];
    tri_buf_t text = {0};
    int rc = tri_path(path, sizeof path, "%s/kubeconfig", c->dir);
    if (rc == 0)
        rc = tri_kubeconfig_render(c, &text);
    if (rc == 0)
        rc = tri_file_write(path, text.data, text.len, 0600);
    tri_buf_free(&text);
    if (rc != 0)
        tri_cli_err("cannot write %s", path);
    return rc;
}

/* ---- waiting for readiness ---- */

/* A replica we started that already exited is reported at once, not after --timeout. */
static int children_check(up_state_t *u)
{
    for (size_t i = 0; i < u->c.n_members; i++) {
        int status;
        if (u->started[i] == 0 || waitpid(u->started[i], &status, WNOHANG) != u->started[i])
            continue;
        u->started[i] = 0;
        if (WIFEXITED(status))
            tri_cli_err("replica %s exited with status %d", u->c.members[i].name,
                        WEXITSTATUS(status));
        else
            tri_cli_err("replica %s died of signal %d", u->c.members[i].name, WTERMSIG(status));
        return TRI_EIO;
    }
    return 0;
}

static int cluster_ready(const tri_cluster_t *c)
{
    char url[TRI_PATH_MAX];
    long status;
    const char *front = c->lb[0] ? c->lb : c->members[0].api;
    snprintf(url, sizeof url, "https://%s/readyz", front);
    if (tri_http_get(c, url, TRI_PROBE_MS, &status, NULL) != 0 || status != 200)
        return 0;
    for (size_t i = 0; i < c->n_members; i++) {
        snprintf(url, sizeof url, "https://%s/triarch/v1/status", c->members[i].api);
        if (tri_http_get(c, url, TRI_PROBE_MS, &status, NULL) != 0 || status != 200)
            return 0;
    }
    return 1;
}

static int ready_wait(up_state_t *u, int timeout_s)
{
    printf("waiting for a leader...\n");
    fflush(stdout);
    uint64_t start = tri_now_ms();
    uint64_t deadline = start + (uint64_t)timeout_s * 1000;
    int rc = TRI_ETIMEDOUT;
    while (tri_now_ms() < deadline) {
        if ((rc = children_check(u)) != 0)
            break;
        if (cluster_ready(&u->c)) {
            uint64_t took = tri_now_ms() - start;
            printf("ready after %llu.%llus\n", (unsigned long long)(took / 1000),
                   (unsigned long long)(took % 1000 / 100));
            return 0;
        }
        rc = TRI_ETIMEDOUT;
        tri_sleep_ms(TRI_POLL_MS);
    }
    if (rc == TRI_ETIMEDOUT)
        tri_cli_err("cluster not ready after %ds", timeout_s);
    for (size_t i = 0; i < u->c.n_members; i++) {
        char log[TRI_PATH_MAX];
        if (member_path(&u->c, &u->c.members[i], "triarchd.log", log, sizeof log) == 0)
            tri_file_tail(log, TRI_LOG_TAIL_LINES);
    }
    return rc;
}

/* ---- up ---- */

typedef struct up_opts {
    const char *dir;
    const char *bin_dir;
    int replicas;
    int replicas_given;
    int agents;
    int hollow;
    int timeout_s;
} up_opts_t;

static void up_usage(FILE *f)
{
    fputs("Usage: triarch cluster up --dir D [options]\n"
          "\n"
          "Starts a local cluster on loopback: the replicas, haproxy in front of them.\n"
          "Creates the cluster first when D holds none; otherwise restarts the stopped\n"
          "processes of the cluster in D from their data. Waits until the cluster is\n"
          "ready and writes D/kubeconfig.\n"
          "\n"
          "  --dir D             cluster directory\n"
          "  --replicas N        replicas of a new cluster (default 3, at most 9)\n"
          "  --agents M          worker agents (not available yet: must be 0)\n"
          "  --hollow-nodes K    hollow nodes (not available yet: must be 0)\n"
          "  --bin-dir B         where triarchd is (default: next to triarch, then PATH)\n"
          "  --timeout S         seconds to wait for readiness (default 60)\n"
          "  -h, --help          this help\n",
          f);
}

static int int_arg(const char *flag, const char *s, int min, int max, int *out)
{
    char *end;
    long v = strtol(s, &end, 10);
    if (*s == '\0' || *end != '\0' || v < min || v > max) {
        tri_cli_err("%s wants a number from %d to %d, not '%s'", flag, min, max, s);
        return TRI_EINVAL;
    }
    *out = (int)v;
    return 0;
}

/* Returns 0, or the exit code (2 usage, -1 for --help). */
static int up_parse(int argc, char **argv, up_opts_t *o)
{
    static const struct option opts[] = {
        {"dir", required_argument, NULL, 'd'},     {"replicas", required_argument, NULL, 'r'},
        {"agents", required_argument, NULL, 'a'},  {"hollow-nodes", required_argument, NULL, 'k'},
        {"bin-dir", required_argument, NULL, 'b'}, {"timeout", required_argument, NULL, 't'},
        {"help", no_argument, NULL, 'h'},          {NULL, 0, NULL, 0}};
    int opt, bad = 0;
    *o = (up_opts_t){.replicas = TRI_DEFAULT_REPLICAS, .timeout_s = TRI_DEFAULT_TIMEOUT_S};
    optind = 1;
    while ((opt = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (opt) {
        case 'd':
            o->dir = optarg;
            break;
        case 'b':
            o->bin_dir = optarg;
            break;
        case 'r':
            bad |= int_arg("--replicas", optarg, 1, TRI_MAX_MEMBERS, &o->replicas);
            o->replicas_given = 1;
            break;
        case 'a':
            bad |= int_arg("--agents", optarg, 0, 1000000, &o->agents);
            break;
        case 'k':
            bad |= int_arg("--hollow-nodes", optarg, 0, 1000000, &o->hollow);
            break;
        case 't':
            bad |= int_arg("--timeout", optarg, 1, 86400, &o->timeout_s);
            break;
        case 'h':
            up_usage(stdout);
            return -1;
        default:
            bad = 1;
        }
    }
    if (!bad && (o->dir == NULL || optind < argc)) {
        tri_cli_err(o->dir ? "unexpected argument '%s'" : "cluster up needs --dir%s",
                    o->dir ? argv[optind] : "");
        bad = 1;
    }
    if (bad) {
        up_usage(stderr);
        return 2;
    }
    return 0;
}

static int cluster_up(int argc, char **argv)
{
    up_opts_t o;
    int rc = up_parse(argc, argv, &o);
    if (rc != 0)
        return rc < 0 ? 0 : rc;
    if (o.agents != 0 || o.hollow != 0) {
        tri_cli_err("agents are not available yet");
        return 2;
    }
    up_state_t *u = calloc(1, sizeof *u);
    if (u == NULL)
        return 1;
    rc = 1;
    if (tri_proc_find_binary("triarchd", o.bin_dir, u->triarchd, sizeof u->triarchd) != 0) {
        tri_cli_err("triarchd not found (%s%s)", o.bin_dir ? "not in --bin-dir " : "",
                    o.bin_dir ? o.bin_dir : "not next to triarch nor in PATH; use --bin-dir");
        goto out;
    }
    int lrc = tri_cluster_load(o.dir, &u->c);
    if (lrc == TRI_ENOENT) {
        if (cluster_create(&u->c, o.dir, o.replicas) != 0)
            goto out;
    } else if (lrc != 0) {
        tri_cli_err("%s/cluster.json is unreadable (%s)", o.dir, tri_strerror(lrc));
        goto out;
    } else {
        printf("cluster %s in %s\n", u->c.id, u->c.dir);
        if (o.replicas_given && (size_t)o.replicas != u->c.n_members)
            printf("note: the cluster has %zu replicas; --replicas only applies to a new "
                   "cluster\n",
                   u->c.n_members);
    }
    for (size_t i = 0; i < u->c.n_members; i++)
        if (replica_start(u, i) != 0)
            goto out;
    if ((u->c.lb[0] && tri_haproxy_sync(&u->c, true) != 0) || kubeconfig_write(&u->c) != 0)
        goto out;
    if (ready_wait(u, o.timeout_s) != 0)
        goto out;
    printf("kubeconfig: %s/kubeconfig\n", u->c.dir);
    rc = 0;
out:
    free(u);
    return rc;
}

/* ---- down ---- */

typedef struct victim {
    char what[TRI_NAME_MAX + 16];
    char pidfile[TRI_PATH_MAX];
    const char *expect;
    pid_t pid;
} victim_t;

static int victims_collect(const tri_cluster_t *c, victim_t *v, size_t *n)
{
    *n = 0;
    for (size_t i = 0; i < c->n_members; i++) {
        victim_t *x = &v[(*n)++];
        snprintf(x->what, sizeof x->what, "replica %s", c->members[i].name);
        x->expect = "triarchd";
        if (member_path(c, &c->members[i], "triarchd.pid", x->pidfile, sizeof x->pidfile) != 0)
            return TRI_EINVAL;
    }
    victim_t *h = &v[(*n)++];
    snprintf(h->what, sizeof h->what, "haproxy");
    h->expect = "haproxy";
    return tri_path(h->pidfile, sizeof h->pidfile, "%s/haproxy.pid", c->dir);
}

/* Waits until every victim is gone or the deadline passes; returns how many live. */
static size_t victims_wait(victim_t *v, size_t n, long ms)
{
    uint64_t deadline = tri_now_ms() + (uint64_t)ms;
    for (;;) {
        size_t alive = 0;
        for (size_t i = 0; i < n; i++) {
            if (v[i].pid > 0 && tri_pidfile_alive(v[i].pidfile, v[i].expect) != v[i].pid)
                v[i].pid = 0;
            alive += v[i].pid > 0;
        }
        if (alive == 0 || tri_now_ms() >= deadline)
            return alive;
        tri_sleep_ms(50);
    }
}

static int processes_stop(const tri_cluster_t *c)
{
    victim_t v[TRI_MAX_MEMBERS + 1];
    pid_t pids[TRI_MAX_MEMBERS + 1];
    size_t n;
    if (victims_collect(c, v, &n) != 0)
        return TRI_EINVAL;
    for (size_t i = 0; i < n; i++) {
        v[i].pid = pids[i] = tri_pidfile_alive(v[i].pidfile, v[i].expect);
        if (v[i].pid > 0) {
            printf("stopping %s (pid %d)\n", v[i].what, (int)v[i].pid);
            fflush(stdout);
            kill(v[i].pid, SIGTERM);
        } else
            printf("%s was not running\n", v[i].what);
    }
    size_t alive = victims_wait(v, n, TRI_STOP_GRACE_MS);
    for (size_t i = 0; alive > 0 && i < n; i++) {
        if (v[i].pid > 0) {
            printf("%s (pid %d) ignored SIGTERM for %ds: killing it\n", v[i].what, (int)v[i].pid,
                   TRI_STOP_GRACE_MS / 1000);
            kill(v[i].pid, SIGKILL);
        }
    }
    alive = victims_wait(v, n, TRI_KILL_GRACE_MS);
    for (size_t i = 0; i < n; i++) {
        if (pids[i] > 0 && v[i].pid == 0) {
            printf("stopped %s (pid %d)\n", v[i].what, (int)pids[i]);
            unlink(v[i].pidfile);
        } else if (v[i].pid > 0) {
            tri_cli_err("%s (pid %d) is still alive", v[i].what, (int)v[i].pid);
        }
    }
    return alive == 0 ? 0 : TRI_EIO;
}

static void down_usage(FILE *f)
{
    fputs("Usage: triarch cluster down --dir D [--purge]\n"
          "\n"
          "Stops the replicas and haproxy of the cluster in D (SIGTERM, SIGKILL after 10s).\n"
          "The data stays, so `cluster up` resumes the same cluster.\n"
          "\n"
          "  --dir D       cluster directory\n"
          "  --purge       also delete D with all data and keys\n"
          "  -h, --help    this help\n",
          f);
}

static int cluster_down(int argc, char **argv)
{
    static const struct option opts[] = {{"dir", required_argument, NULL, 'd'},
                                         {"purge", no_argument, NULL, 'p'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    const char *dir = NULL;
    int purge = 0, opt;
    optind = 1;
    while ((opt = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        if (opt == 'd') {
            dir = optarg;
        } else if (opt == 'p') {
            purge = 1;
        } else if (opt == 'h') {
            down_usage(stdout);
            return 0;
        } else {
            down_usage(stderr);
            return 2;
        }
    }
    if (dir == NULL || optind < argc) {
        tri_cli_err("cluster down needs --dir and nothing else");
        down_usage(stderr);
        return 2;
    }
    tri_cluster_t *c = calloc(1, sizeof *c);
    int rc = c ? tri_cluster_load(dir, c) : TRI_ENOMEM;
    if (rc != 0) {
        /* Without cluster.json we cannot know what is ours: never delete such a dir. */
        tri_cli_err("%s holds no cluster (%s)", dir, tri_strerror(rc));
        free(c);
        return 1;
    }
    rc = processes_stop(c);
    if (rc == 0 && purge) {
        rc = tri_rm_rf(c->dir);
        if (rc == 0)
            printf("deleted %s\n", c->dir);
        else
            tri_cli_err("cannot delete %s", c->dir);
    }
    free(c);
    return rc == 0 ? 0 : 1;
}

/* ---- status ---- */

/* Prints a JSON member as a table cell: integers as numbers, strings as is. */
static void cell(char *out, size_t len, json_t *v)
{
    if (json_is_integer(v))
        snprintf(out, len, "%lld", (long long)json_integer_value(v));
    else if (json_is_string(v))
        snprintf(out, len, "%s", json_string_value(v));
    else
        snprintf(out, len, "-");
}

static void status_row(const tri_cluster_t *c, const tri_member_t *m, char *leader,
                       size_t leader_len)
{
    char pidfile[TRI_PATH_MAX], url[TRI_PATH_MAX], pid[16] = "-";
    char role[32] = "down", term[24] = "-", commit[24] = "-", applied[24] = "-", rev[24] = "-";
    if (member_path(c, m, "triarchd.pid", pidfile, sizeof pidfile) == 0) {
        pid_t p = tri_pidfile_alive(pidfile, "triarchd");
        if (p > 0)
            snprintf(pid, sizeof pid, "%d", (int)p);
    }
    snprintf(url, sizeof url, "https://%s/triarch/v1/status", m->api);
    tri_buf_t body = {0};
    long status;
    json_t *j = NULL;
    if (tri_http_get(c, url, TRI_PROBE_MS, &status, &body) == 0 && status == 200)
        j = json_loadb(body.data, body.len, 0, NULL);
    if (j) {
        cell(role, sizeof role, json_object_get(j, "role"));
        cell(term, sizeof term, json_object_get(j, "term"));
        cell(commit, sizeof commit, json_object_get(j, "commitIndex"));
        cell(applied, sizeof applied, json_object_get(j, "appliedIndex"));
        cell(rev, sizeof rev, json_object_get(j, "revision"));
        const char *l = json_string_value(json_object_get(j, "leader"));
        /* A leader's own word beats a follower's memory of one. */
        if (strcmp(role, "leader") == 0)
            snprintf(leader, leader_len, "%s", m->name);
        else if (l && *l && leader[0] == '\0')
            snprintf(leader, leader_len, "%s", l);
    }
    printf("%-10s %-12s %-6s %-8s %-8s %-9s %-8s https://%s\n", m->name, role, term, commit,
           applied, rev, pid, m->api);
    json_decref(j);
    tri_buf_free(&body);
}

static void status_usage(FILE *f)
{
    fputs("Usage: triarch cluster status --dir D\n"
          "\n"
          "Shows each replica (role, term, commit and applied index, store revision,\n"
          "pid, API address; role `down` when its status endpoint does not answer),\n"
          "the leader and the load balancer.\n"
          "\n"
          "  --dir D       cluster directory\n"
          "  -h, --help    this help\n",
          f);
}

static int cluster_status(int argc, char **argv)
{
    const char *dir = NULL;
    int done = tri_cli_dir_only(argc, argv, "cluster status", status_usage, &dir);
    if (done >= 0)
        return done;
    tri_cluster_t *c = calloc(1, sizeof *c);
    int rc = c ? tri_cluster_load(dir, c) : TRI_ENOMEM;
    if (rc != 0) {
        tri_cli_err("%s holds no cluster (%s)", dir, tri_strerror(rc));
        free(c);
        return 1;
    }
    char leader[TRI_NAME_MAX + 1] = "";
    printf("cluster %s\n", c->id);
    printf("%-10s %-12s %-6s %-8s %-8s %-9s %-8s %s\n", "NAME", "ROLE", "TERM", "COMMIT", "APPLIED",
           "REVISION", "PID", "API");
    for (size_t i = 0; i < c->n_members; i++)
        status_row(c, &c->members[i], leader, sizeof leader);
    printf("leader: %s\n", leader[0] ? leader : "none");
    if (c->lb[0]) {
        char pidfile[TRI_PATH_MAX];
        pid_t hp = 0;
        if (tri_path(pidfile, sizeof pidfile, "%s/haproxy.pid", c->dir) == 0)
            hp = tri_pidfile_alive(pidfile, "haproxy");
        if (hp > 0)
            printf("load balancer: https://%s (haproxy pid %d)\n", c->lb, (int)hp);
        else
            printf("load balancer: https://%s (haproxy not running)\n", c->lb);
    }
    free(c);
    return 0;
}

/* ---- dispatch ---- */

static void cluster_usage(FILE *f)
{
    fputs("Usage: triarch cluster up|down|status --dir D [options]\n"
          "\n"
          "  up        start (or restart) a local cluster and wait until it is ready\n"
          "  down      stop it, keeping its data (--purge deletes D)\n"
          "  status    show replicas, leader and load balancer\n"
          "\n"
          "`triarch cluster COMMAND --help` shows a command's options.\n",
          f);
}

int tri_cmd_cluster(int argc, char **argv)
{
    if (argc < 2) {
        cluster_usage(stderr);
        return 2;
    }
    const char *sub = argv[1];
    if (strcmp(sub, "up") == 0)
        return cluster_up(argc - 1, argv + 1);
    if (strcmp(sub, "down") == 0)
        return cluster_down(argc - 1, argv + 1);
    if (strcmp(sub, "status") == 0)
        return cluster_status(argc - 1, argv + 1);
    if (strcmp(sub, "-h") == 0 || strcmp(sub, "--help") == 0 || strcmp(sub, "help") == 0) {
        cluster_usage(stdout);
        return 0;
    }
    tri_cli_err("unknown cluster command '%s'", sub);
    cluster_usage(stderr);
    return 2;
}
