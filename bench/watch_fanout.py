"""Watch fan-out: 1,000 watchers on one replica, 500 writes/s through another,
delivery latency from commit to every watcher.

Each case (--cases ROLE:WATCHERS:WRITES_PER_S) is one fresh 3-replica cluster
(fsync on, defaults) and a namespace of its own. The watchers are W plain HTTP/1.1
connections to ONE replica (a follower or the leader), each `GET .../namespaces/fanout/configmaps?
watch=1&resourceVersion=N` with N the namespace's list revision before the first
write. The writer creates small ConfigMaps through ANOTHER replica (the leader when
the watchers are on a follower, a follower otherwise) at a paced rate from a few Python
threads over HTTP/1.1 keep-alive; for each write it records the resourceVersion of
the 201 and the CLOCK_MONOTONIC time the 201 arrived ("commit").

The watchers are one small epoll program in C (its source is below, compiled with
cc into the temp dir at run time): a Python client cannot take 1,000 x 500 = 500,000
events a second on a 2-core machine that also runs the servers, and would measure
itself. It decodes chunked transfer encoding, splits event lines, takes the first
"resourceVersion" of each line and records (watcher, resourceVersion, arrival time
on CLOCK_MONOTONIC). When the writer is done it gets the writer's records on stdin
and waits until every watcher has every event or a grace period passed, then pairs
every (watcher, write): latency = arrival - 201 arrival (negative when a watcher
hears of a write before its writer does), missing = writes a watcher never got,
duplicates = the same resourceVersion twice on one watcher, extra = events no write
of ours made. p50/p99/max are exact over every pair.

Also: CPU seconds of each replica over the write window, the watch replica's
apiserver_watch_events_total delta, ERROR events (410: a watcher fell out of the
event ring), and with --profile a perf profile of the watch replica in the first
case. The writer stops at 2.5x its planned time (a starved server); the writes it
did not send are counted.
"""

import argparse
import json
import os
import resource
import select
import subprocess
import sys
import threading
import time
import http.client
import urllib.parse

import common
import perf_breakdown as prof
from common import fmt, log

NS = "fanout"
WATCHERS = 1000
WRITE_RPS = 500
WRITE_SECONDS = 20
WRITER_THREADS = 8
VALUE_BYTES = 256
GRACE_S = 15                 # after the last write, how long watchers may still catch up
READY_TIMEOUT_S = 60         # all watchers connected
RESULT_TIMEOUT_S = 300       # the C program's analysis
HTTP_TIMEOUT_S = 30
PROFILE_SECONDS = 5
# The writer gives up on writes not sent by seconds x this (a starved server).
WRITE_DEADLINE_FACTOR = 2.5
# (watchers on, watchers, writes/s): the goal's two placements, then a tenth of the
# watchers to show the same replica within its capacity.
CASES = "follower:1000:500,leader:1000:500,follower:100:500"
WANT_NOFILE = 65536

WATCH_CLIENT_C = r"""
/* Watch fan-out client: N HTTP/1.1 watch connections on one epoll loop; records
 * (resourceVersion, arrival time) per event line; then pairs them with the
 * writer's (resourceVersion, 201 time) records read from stdin. Bounded: every
 * loop ends by deadline. Output: one JSON object on stdout. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

enum { S_HDR, S_SIZE, S_DATA, S_CRLF, S_RAW, S_DONE };
typedef struct { uint32_t rv; uint32_t t_us; } rec_t;
typedef struct {
    int fd, state, status, ok;
    char hdr[8192]; size_t hlen;
    char sz[64]; size_t slen;
    size_t left;
    char *line; size_t llen, lcap;
    rec_t *recs; size_t n, cap;
    long errors, heartbeats;
} conn_t;

static int64_t t0_ns;
static int64_t base_rv;
static int64_t now_ns(void) {
    struct timespec ts; clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}
static void die(const char *m) { perror(m); exit(2); }

static void on_line(conn_t *c, const char *p, size_t n, uint32_t t_us) {
    if (n == 0 || (n == 1 && p[0] == '\r')) { c->heartbeats++; return; }
    if (n > 9 && memmem(p, n < 40 ? n : 40, "\"ERROR\"", 7)) { c->errors++; return; }
    const char *k = memmem(p, n, "\"resourceVersion\":\"", 19);
    if (!k) return;
    int64_t rv = strtoll(k + 19, NULL, 10);
    if (c->n == c->cap) {
        c->cap = c->cap ? c->cap * 2 : 4096;
        c->recs = realloc(c->recs, c->cap * sizeof *c->recs);
        if (!c->recs) die("realloc");
    }
    c->recs[c->n].rv = (uint32_t)(rv - base_rv);
    c->recs[c->n].t_us = t_us;
    c->n++;
}

static void feed_body(conn_t *c, const char *p, size_t n, uint32_t t_us) {
    while (n > 0) {
        const char *nl = memchr(p, '\n', n);
        if (!nl) {
            if (c->llen + n > c->lcap) {
                c->lcap = (c->llen + n) * 2;
                c->line = realloc(c->line, c->lcap);
                if (!c->line) die("realloc");
            }
            memcpy(c->line + c->llen, p, n); c->llen += n;
            return;
        }
        size_t k = (size_t)(nl - p);
        if (c->llen) {
            if (c->llen + k > c->lcap) {
                c->lcap = (c->llen + k) * 2;
                c->line = realloc(c->line, c->lcap);
                if (!c->line) die("realloc");
            }
            memcpy(c->line + c->llen, p, k);
            on_line(c, c->line, c->llen + k, t_us);
            c->llen = 0;
        } else {
            on_line(c, p, k, t_us);
        }
        p += k + 1; n -= k + 1;
    }
}

static void feed(conn_t *c, const char *p, size_t n, uint32_t t_us) {
    while (n > 0) {
        switch (c->state) {
        case S_HDR: {
            size_t take = n < sizeof c->hdr - 1 - c->hlen ? n : sizeof c->hdr - 1 - c->hlen;
            memcpy(c->hdr + c->hlen, p, take); c->hlen += take; c->hdr[c->hlen] = 0;
            char *e = strstr(c->hdr, "\r\n\r\n");
            if (!e) { if (c->hlen >= sizeof c->hdr - 1) { c->state = S_DONE; return; }
                      p += take; n -= take; break; }
            size_t used = (size_t)(e + 4 - c->hdr) - (c->hlen - take);
            c->status = atoi(c->hdr + 9);
            c->ok = c->status == 200;
            c->state = strcasestr(c->hdr, "transfer-encoding: chunked") ? S_SIZE : S_RAW;
            p += used; n -= used;
            break;
        }
        case S_SIZE: {
            while (n > 0 && *p != '\n') { if (c->slen < sizeof c->sz - 1) c->sz[c->slen++] = *p; p++; n--; }
            if (n == 0) return;
            p++; n--;
            c->sz[c->slen] = 0; c->slen = 0;
            c->left = strtoul(c->sz, NULL, 16);
            c->state = c->left ? S_DATA : S_DONE;
            break;
        }
        case S_DATA: {
            size_t take = n < c->left ? n : c->left;
            feed_body(c, p, take, t_us);
            p += take; n -= take; c->left -= take;
            if (c->left == 0) c->state = S_CRLF;
            break;
        }
        case S_CRLF:
            if (*p == '\n') c->state = S_SIZE;
            p++; n--;
            break;
        case S_RAW:
            feed_body(c, p, n, t_us); return;
        default: return;
        }
    }
}

/* nearest rank, q in thousandths */
static int32_t pct(const int32_t *v, size_t n, size_t q) {
    if (n == 0) return 0;
    size_t k = (n * q + 999) / 1000;
    return v[(k ? k : 1) - 1];
}

static int cmp_i32(const void *a, const void *b) {
    int32_t x = *(const int32_t *)a, y = *(const int32_t *)b;
    return (x > y) - (x < y);
}

int main(int argc, char **argv) {
    if (argc != 7) { fprintf(stderr, "usage: host port path n base_rv grace_s\n"); return 2; }
    const char *host = argv[1]; int port = atoi(argv[2]); const char *path = argv[3];
    int nconn = atoi(argv[4]); base_rv = atoll(argv[5]); int grace_s = atoi(argv[6]);
    t0_ns = now_ns();
    int ep = epoll_create1(0); if (ep < 0) die("epoll");
    conn_t *cs = calloc((size_t)nconn, sizeof *cs); if (!cs) die("calloc");
    char req[2048];
    int rl = snprintf(req, sizeof req, "GET %s HTTP/1.1\r\nHost: %s:%d\r\nAccept: application/json\r\n"
                      "User-Agent: triarch-bench-watch\r\n\r\n", path, host, port);
    struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
    inet_pton(AF_INET, host, &sa.sin_addr);
    for (int i = 0; i < nconn; i++) {
        int fd = socket(AF_INET, SOCK_STREAM, 0); if (fd < 0) die("socket");
        int one = 1; setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        if (connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0) die("connect");
        if (write(fd, req, (size_t)rl) != rl) die("write");
        fcntl(fd, F_SETFL, O_NONBLOCK);
        cs[i].fd = fd; cs[i].state = S_HDR;
        struct epoll_event ev = { .events = EPOLLIN, .data.u32 = (uint32_t)i };
        if (epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) != 0) die("epoll_ctl");
    }
    struct epoll_event sev = { .events = EPOLLIN, .data.u32 = UINT32_MAX };
    epoll_ctl(ep, EPOLL_CTL_ADD, 0, &sev);
    static char buf[1 << 16];
    struct epoll_event evs[256];
    int ready_said = 0, done = 0;
    int64_t ready_deadline = now_ns() + 60LL * 1000000000, end_ns = INT64_MAX;
    int64_t hard_end = now_ns() + 3600LL * 1000000000;
    char *in = NULL; size_t in_len = 0, in_cap = 0; /* writer records from stdin */
    long nwrites = -1;
    while (now_ns() < end_ns && now_ns() < hard_end) {
        int k = epoll_wait(ep, evs, 256, 100);
        if (k < 0 && errno != EINTR) die("epoll_wait");
        int64_t tn = now_ns();
        uint32_t t_us = (uint32_t)((tn - t0_ns) / 1000);
        for (int j = 0; j < k; j++) {
            uint32_t i = evs[j].data.u32;
            if (i == UINT32_MAX) {
                if (in_len + sizeof buf > in_cap) { in_cap = (in_len + sizeof buf) * 2; in = realloc(in, in_cap); if (!in) die("realloc"); }
                ssize_t r = read(0, in + in_len, sizeof buf);
                if (r > 0) { in_len += (size_t)r; continue; }
                epoll_ctl(ep, EPOLL_CTL_DEL, 0, NULL);
                done = 1; end_ns = tn + (int64_t)grace_s * 1000000000;
                nwrites = 0;
                for (size_t q = 0; q < in_len; q++) if (in[q] == '\n') nwrites++;
                continue;
            }
            conn_t *c = &cs[i];
            for (int rep = 0; rep < 64; rep++) {
                ssize_t r = read(c->fd, buf, sizeof buf);
                if (r > 0) { feed(c, buf, (size_t)r, t_us); if ((size_t)r < sizeof buf) break; continue; }
                if (r < 0 && (errno == EAGAIN || errno == EINTR)) break;
                epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL); close(c->fd); c->fd = -1;
                c->state = S_DONE; break;
            }
        }
        if (!ready_said) {
            int waiting = 0, ok = 0;
            for (int i = 0; i < nconn; i++) { if (cs[i].state == S_HDR && cs[i].fd >= 0) waiting++; ok += cs[i].ok; }
            if (!waiting || tn > ready_deadline) { printf("ready %d\n", ok); fflush(stdout); ready_said = 1; }
        }
        if (done && nwrites >= 0) {
            int all = 1;
            for (int i = 0; i < nconn && all; i++) if (cs[i].ok && cs[i].fd >= 0 && (long)cs[i].n < nwrites) all = 0;
            if (all) break;
        }
    }
    int64_t caught_up_ms = done ? (now_ns() - (end_ns - (int64_t)grace_s * 1000000000)) / 1000000 : -1;
    /* writer records: "rv t_ns" lines */
    size_t span = 1; int64_t max_rv = base_rv;
    for (char *p = in, *e = in + in_len; p && p < e;) {
        char *nl = memchr(p, '\n', (size_t)(e - p)); if (!nl) break;
        int64_t rv = strtoll(p, NULL, 10); if (rv > max_rv) max_rv = rv; p = nl + 1;
    }
    span = (size_t)(max_rv - base_rv + 1);
    int64_t *commit = malloc(span * sizeof *commit); uint32_t *seen = calloc(span, sizeof *seen);
    if (!commit || !seen) die("malloc");
    for (size_t q = 0; q < span; q++) commit[q] = INT64_MIN;
    long writes = 0;
    for (char *p = in, *e = in + in_len; p && p < e;) {
        char *nl = memchr(p, '\n', (size_t)(e - p)); if (!nl) break;
        char *sp; int64_t rv = strtoll(p, &sp, 10); int64_t t = strtoll(sp, NULL, 10);
        if (rv > base_rv) { commit[rv - base_rv] = (t - t0_ns) / 1000; writes++; }
        p = nl + 1;
    }
    size_t total = 0; for (int i = 0; i < nconn; i++) total += cs[i].n;
    int32_t *lat = malloc((total + 1) * sizeof *lat); if (!lat) die("malloc");
    size_t nl_ = 0; long missing = 0, dup = 0, extra = 0, errors = 0, ok = 0, neg = 0, closed = 0;
    long nsec = 0; double *sec_sum = NULL; long *sec_n = NULL; int32_t *sec_max = NULL;
    int64_t first_commit = INT64_MAX;
    for (size_t q = 0; q < span; q++) if (commit[q] != INT64_MIN && commit[q] < first_commit) first_commit = commit[q];
    nsec = 4096; sec_sum = calloc((size_t)nsec, sizeof *sec_sum); sec_n = calloc((size_t)nsec, sizeof *sec_n);
    sec_max = calloc((size_t)nsec, sizeof *sec_max);
    for (int i = 0; i < nconn; i++) {
        conn_t *c = &cs[i];
        errors += c->errors; ok += c->ok; if (c->ok && c->fd < 0) closed++;
        if (!c->ok) continue;
        uint32_t gen = (uint32_t)i + 1; long got = 0;
        for (size_t j = 0; j < c->n; j++) {
            uint32_t off = c->recs[j].rv;
            if (off == 0 || off >= span || commit[off] == INT64_MIN) { extra++; continue; }
            if (seen[off] == gen) { dup++; continue; }
            seen[off] = gen; got++;
            int64_t l = (int64_t)c->recs[j].t_us - commit[off];
            if (l < 0) neg++;
            lat[nl_++] = (int32_t)l;
            long s = (long)((commit[off] - first_commit) / 1000000);
            if (s >= 0 && s < nsec) { sec_sum[s] += (double)l; sec_n[s]++; if (l > sec_max[s]) sec_max[s] = (int32_t)l; }
        }
        missing += writes - got;
    }
    qsort(lat, nl_, sizeof *lat, cmp_i32);
    printf("{\"watchers\":%d,\"watchers_ok\":%ld,\"closed\":%ld,\"writes\":%ld,\"pairs\":%zu,"
           "\"missing\":%ld,\"duplicates\":%ld,\"extra\":%ld,\"errors\":%ld,\"negative\":%ld,"
           "\"min_us\":%d,\"p50_us\":%d,\"p90_us\":%d,\"p99_us\":%d,\"p999_us\":%d,\"max_us\":%d,"
           "\"caught_up_ms\":%lld,\"per_second\":[",
           nconn, ok, closed, writes, nl_, missing, dup, extra, errors, neg,
           nl_ ? lat[0] : 0, pct(lat, nl_, 500), pct(lat, nl_, 900), pct(lat, nl_, 990), pct(lat, nl_, 999),
           nl_ ? lat[nl_ - 1] : 0, (long long)caught_up_ms);
    int first = 1;
    for (long s = 0; s < nsec; s++) if (sec_n[s]) {
        printf("%s[%ld,%.0f,%d]", first ? "" : ",", s, sec_sum[s] / (double)sec_n[s], sec_max[s]); first = 0;
    }
    printf("]}\n");
    return 0;
}
"""


def raise_nofile():
    """Lifts the soft fd limit (the watch replica and the C client inherit it)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = min(hard, WANT_NOFILE) if hard != resource.RLIM_INFINITY else WANT_NOFILE
    if soft < want:
        resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


def build_client(root):
    src = os.path.join(root, "watchc.c")
    exe = os.path.join(root, "watchc")
    with open(src, "w") as f:
        f.write(WATCH_CLIENT_C)
    r = subprocess.run(["cc", "-O2", "-Wall", "-o", exe, src], capture_output=True, text=True,
                       timeout=120)
    if r.returncode != 0:
        raise RuntimeError(f"cc watchc.c: {r.stderr[-1000:]}")
    return exe


def request(url, method, path, body=None):
    u = urllib.parse.urlsplit(url)
    conn = http.client.HTTPConnection(u.hostname, u.port, timeout=HTTP_TIMEOUT_S)
    try:
        conn.request(method, path, body=json.dumps(body) if body is not None else None,
                     headers={"Content-Type": "application/json"})
        r = conn.getresponse()
        return r.status, r.read()
    finally:
        conn.close()


class Writer:
    """Paced ConfigMap creates from a few threads; records (rv, 201 time in ns)."""

    def __init__(self, url, rps, seconds, threads, value_bytes):
        self.url, self.rps, self.seconds, self.threads = url, rps, seconds, threads
        self.body = json.dumps({"apiVersion": "v1", "kind": "ConfigMap",
                                "metadata": {"generateName": "w-"},
                                "data": {"k": "x" * value_bytes}})
        self.recs, self.failed, self.late, self.unsent = [], 0, 0, 0
        self.lock = threading.Lock()

    def _run(self, idx, t0):
        u = urllib.parse.urlsplit(self.url)
        conn = http.client.HTTPConnection(u.hostname, u.port, timeout=HTTP_TIMEOUT_S)
        path = f"/api/v1/namespaces/{NS}/configmaps"
        total = self.rps * self.seconds
        recs, failed, late = [], 0, 0
        stop = t0 + self.seconds * WRITE_DEADLINE_FACTOR
        try:
            for k in range(idx, total, self.threads):
                if time.monotonic() > stop:
                    late += len(range(k, total, self.threads))
                    with self.lock:
                        self.unsent += len(range(k, total, self.threads))
                    break
                due = t0 + k / self.rps
                d = due - time.monotonic()
                if d > 0:
                    time.sleep(d)
                elif d < -0.01:
                    late += 1
                try:
                    conn.request("POST", path, body=self.body,
                                 headers={"Content-Type": "application/json"})
                    r = conn.getresponse()
                    b = r.read()
                    t = time.monotonic_ns()
                except (OSError, http.client.HTTPException):
                    failed += 1
                    conn.close()
                    continue
                if r.status != 201:
                    failed += 1
                    continue
                recs.append((int(json.loads(b)["metadata"]["resourceVersion"]), t))
        finally:
            conn.close()
            with self.lock:
                self.recs += recs
                self.failed += failed
                self.late += late

    def run(self):
        t0 = time.monotonic() + 0.05
        ths = [threading.Thread(target=self._run, args=(i, t0), daemon=True)
               for i in range(self.threads)]
        for th in ths:
            th.start()
        for th in ths:
            th.join(timeout=self.seconds + 120)
        self.elapsed = time.monotonic() - t0
        return self


def run(a, root):
    exe = build_client(root)
    t = common.Triarch(root).start()
    client = None
    try:
        leader = t.leader()
        followers = t.followers()
        wname, sname = (leader, followers[0]) if a.watch_on == "leader" else (followers[0], leader)
        wurl, surl = t.plain(wname), t.plain(sname)
        st, b = request(surl, "POST", "/api/v1/namespaces",
                        {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": NS}})
        if st != 201:
            raise RuntimeError(f"create namespace: HTTP {st} {b[:200]!r}")
        st, b = request(wurl, "GET", f"/api/v1/namespaces/{NS}/configmaps")
        base_rv = int(json.loads(b)["metadata"]["resourceVersion"])
        log(f"fanout: watchers on {wname} ({'leader' if wname == leader else 'follower'}), "
            f"writes through {sname}; {a.watchers} watchers from resourceVersion {base_rv}")
        u = urllib.parse.urlsplit(wurl)
        path = f"/api/v1/namespaces/{NS}/configmaps?watch=1&resourceVersion={base_rv}"
        client = subprocess.Popen([exe, u.hostname, str(u.port), path, str(a.watchers),
                                   str(base_rv), str(GRACE_S)],
                                  stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        r, _, _ = select.select([client.stdout], [], [], READY_TIMEOUT_S)
        line = client.stdout.readline() if r else ""
        if not line.startswith("ready"):
            raise RuntimeError(f"watch client not ready: {line!r}")
        connected = int(line.split()[1])
        m0 = t.metrics(wname)
        log(f"fanout: {connected}/{a.watchers} watches open "
            f"(registered {m0.get('apiserver_registered_watchers')}); writing "
            f"{a.rps}/s for {a.seconds} s")
        pids = {n: t.pid(n) for n in t.c.names}
        c0 = common.cpu_seconds(pids.values())
        w = Writer(surl, a.rps, a.seconds, WRITER_THREADS, a.value_bytes)
        prof_out = None
        if a.profile:
            th = threading.Thread(target=w.run, daemon=True)
            th.start()
            time.sleep(min(3, a.seconds / 4))
            data = os.path.join(root, "perf.data")
            err = prof.record(pids[wname], PROFILE_SECONDS, data)
            th.join(timeout=a.seconds + 180)
            prof_out = {"error": err} if err else dict(zip(("top", "components", "total"),
                                                           prof.report(data, a.bin_dir)))
        else:
            w.run()
        c1 = common.cpu_seconds(pids.values())
        m1 = t.metrics(wname)
        log(f"fanout: {len(w.recs)} writes in {w.elapsed:.1f} s ({len(w.recs) / w.elapsed:.0f}/s), "
            f"failed {w.failed}, late {w.late}; waiting for the watchers")
        client.stdin.write("".join(f"{rv} {tn}\n" for rv, tn in sorted(w.recs)))
        client.stdin.close()
        client.wait(timeout=RESULT_TIMEOUT_S + GRACE_S)
        out = client.stdout.read()
        res = json.loads(out.strip().splitlines()[-1])
        res.update(watch_on=wname, role="leader" if wname == leader else "follower",
                   write_to=sname, connected=connected, write_elapsed=w.elapsed,
                   write_failed=w.failed, write_late=w.late, write_unsent=w.unsent,
                   base_rv=base_rv, rps=a.rps,
                   cpu={("watch " if n == wname else "write " if n == sname else "") + n:
                        c1[pids[n]] - c0[pids[n]] for n in pids},
                   events_sent=m1.get("apiserver_watch_events_total", 0)
                   - m0.get("apiserver_watch_events_total", 0),
                   registered=m1.get("apiserver_registered_watchers"),
                   rss=common.proc_status(pids[wname], "VmRSS"), profile=prof_out)
        return res
    finally:
        if client is not None and client.poll() is None:
            client.kill()
            client.wait(timeout=30)
        t.close()


def print_results(a, rs):
    print("## Watch fan-out\n")
    print(f"Machine: {common.machine()}. Command: `python3 bench/watch_fanout.py "
          f"{' '.join(sys.argv[1:])}`. Fresh 3-replica cluster per row (fsync on, defaults). "
          f"Watchers: one C epoll client (in watch_fanout.py), HTTP/1.1, plain JSON, each "
          f"`?watch=1&resourceVersion=N` on ConfigMaps of one namespace; writer: "
          f"{WRITER_THREADS} Python threads over HTTP/1.1 keep-alive, paced, ConfigMaps with a "
          f"{a.value_bytes} B value. Latency = watcher's arrival − the writer's 201 arrival "
          "(CLOCK_MONOTONIC, same machine), exact over every (watcher, write) pair; missing = "
          f"not delivered within {GRACE_S} s after the last write.\n")
    print("| watchers on | writes via | watchers open | writes (/s planned → achieved) | pairs | p50 ms | "
          "p90 ms | p99 ms | p99.9 ms | max ms | min ms | missing | duplicates | extra | ERROR "
          "events | last event after last write | CPU s (per replica, write window) |")
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|")
    for r in rs:
        if "error" in r:
            print(f"| FAILED: {r['error'][:200]} |" + " |" * 16)
            continue
        ms = lambda k: f"{r[k] / 1000:.1f}"  # noqa: E731
        cpu = ", ".join(f"{k} {v:.1f}" for k, v in sorted(r["cpu"].items()))
        print(f"| {r['role']} {r['watch_on']} | {r['write_to']} | {r['watchers_ok']}/{r['watchers']} "
              f"| {r['writes']} ({r['rps']} → {r['writes'] / r['write_elapsed']:.0f}) | {r['pairs']} | "
              f"{ms('p50_us')} | {ms('p90_us')} | {ms('p99_us')} | {ms('p999_us')} | "
              f"{ms('max_us')} | {ms('min_us')} | {r['missing']} | {r['duplicates']} | "
              f"{r['extra']} | {r['errors']} | {r['caught_up_ms']} ms | {cpu} |")
    print()
    for r in rs:
        if "error" in r:
            continue
        per = r["per_second"]
        print(f"{r['watchers']} watchers on the {r['role']}, {r['rps']} writes/s: mean / max latency (ms) by the second of the write "
              f"(seconds 0..{len(per) - 1}): "
              + ", ".join(f"{m / 1000:.0f}/{x / 1000:.0f}" for _, m, x in per) + ". "
              f"Watch events sent (/metrics delta): {r['events_sent']:.0f}; watch replica VmRSS "
              f"{(r['rss'] or 0) / (1 << 20):.0f} MiB; writer failures {r['write_failed']}, "
              f"writes sent >10 ms late {r['write_late']}, not sent by the writer's deadline "
              f"({WRITE_DEADLINE_FACTOR}x the planned {a.seconds} s) {r['write_unsent']}.\n")
        p = r.get("profile")
        if p and "error" not in p:
            print(f"CPU profile of the watch replica ({r['watch_on']}, {r['watchers']} watchers, "
                  f"perf cpu-clock, "
                  f"{PROFILE_SECONDS} s during the writes, self time):\n")
            print("| component | % |\n|---|---:|")
            for k, v in p["components"]:
                print(f"| {k} | {v:.1f} |")
            print("\n```\n" + "\n".join(p["top"][:20]) + "\n```\n")
        elif p:
            print(f"perf: {p['error']}\n")


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--cases", default=CASES,
                   help="comma-separated ROLE:WATCHERS:WRITES_PER_S, ROLE follower|leader")
    p.add_argument("--seconds", type=int, default=WRITE_SECONDS)
    p.add_argument("--value-bytes", type=int, default=VALUE_BYTES)
    p.add_argument("--profile", action="store_true", help="perf the watch replica")
    p.add_argument("--bin-dir", default=os.environ["TRI_BIN_DIR"])
    a, _ = p.parse_known_args()
    cases = []
    for c in a.cases.split(","):
        role, nw, rps = c.split(":")
        if role not in ("follower", "leader"):
            p.error(f"--cases: {role}: follower or leader")
        cases.append((role, int(nw), int(rps)))
    nofile = raise_nofile()
    if nofile < max(nw for _, nw, _ in cases) + 1000:
        log(f"fanout: fd limit {nofile} is too low")
        return 1
    rs = []
    for role, a.watchers, a.rps in cases:
        a.watch_on = role
        with common.TempRoot() as root:
            try:
                r = run(a, root)
            except (RuntimeError, OSError, ValueError, subprocess.TimeoutExpired) as e:
                r = {"error": f"watchers on {role}: {e}"}
            a.profile = False  # profile only the first case
            log(f"fanout: {json.dumps({k: v for k, v in r.items() if k not in ('per_second', 'profile')})}")
            rs.append(r)
    print_results(a, rs)
    bad = [r for r in rs if "error" in r or r["missing"] or r["duplicates"] or r["extra"]
           or r["errors"] or r["watchers_ok"] != r["watchers"]]
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
