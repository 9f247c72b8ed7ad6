/* bench_raft: three replicas in this process on 127.0.0.1, commit throughput of
 * 1 KiB txns through tri_node_propose at 1/16/64/256 in flight, half of them
 * submitted on the leader and half on a follower (forwarded). Prints writes/s,
 * p50/p99 latency, CPU time of this process per write and the time its loop
 * thread spent runnable but waiting for a core (other load on the machine), per
 * level. Build Release for figures worth comparing.
 *
 *   bench_raft [seconds-per-level] [value-bytes] [level...]   (default 3 1024 1 16 64 256)
 *
 * With BENCH_RAFT_RAW=1 it measures the ceiling instead: raw libraft, same shape
 * (three nodes on this one loop, same ports and data dirs), libraft's stock TCP
 * transport, an FSM that only counts, snapshot threshold 8192/4096, every entry
 * proposed on the leader, one raft_apply per write. BENCH_RAFT_RAW=2 does the
 * same with io_destroy taken off the loop as triarch does (raft/aio_destroy.c).
 *
 * All three replicas share one loop thread here, so a stall in any of them (a
 * segment closing, a snapshot) stalls all three; in a deployment each has its own.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>
#include <uv.h>

#include <raft.h>
#include <raft/uv.h>

#include "../raft/internal.h" /* tri_aio_destroy_start, for BENCH_RAFT_RAW=2 */
#include "triarch/errors.h"
#include "triarch/log.h"
#include "triarch/raft.h"
#include "triarch/store.h"
#include "triarch/util.h"

#define N 3
#define VAL_MAX 65536
#define DEF_VAL_LEN 1024
#define MAX_LEVELS 16
#define MAX_INFLIGHT 256
#define MAX_SAMPLES 2000000
/* Distinct keys so the store grows a little but stays small in memory. */
#define KEYSPACE 4096

typedef struct bench bench_t;
typedef struct slot {
    tri_propose_t req;
    bench_t *b;
    uint64_t t0;
} slot_t;

struct bench {
    uv_loop_t loop;
    uv_timer_t waker;
    tri_member_t members[N];
    tri_store_t *stores[N];
    tri_node_t *nodes[N];
    int started, closed;
    char root[128], dirs[N][256];
    slot_t slots[MAX_INFLIGHT];
    int inflight, target;
    int via_leader, via_follower;
    bool running;
    uint64_t done, errors, seq;
    uint64_t *lat_us;
    size_t n_lat;
    char val[VAL_MAX];
    size_t val_len;
};

static int free_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof sa;
    if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof sa) != 0 ||
        getsockname(fd, (struct sockaddr *)&sa, &len) != 0) {
        perror("free port");
        exit(1);
    }
    close(fd);
    return ntohs(sa.sin_port);
}

static void waker_cb(uv_timer_t *t)
{
}

static void run_for(bench_t *b, uint64_t ms, bool (*cond)(bench_t *))
{
    uint64_t end = tri_now_ms() + ms;
    uv_timer_start(&b->waker, waker_cb, 5, 5);
    while (tri_now_ms() < end && !(cond && cond(b)))
        uv_run(&b->loop, UV_RUN_ONCE);
    uv_timer_stop(&b->waker);
}

static void started_cb(tri_node_t *n, int status, const char *err, void *data)
{
    bench_t *b = data;
    if (status != 0) {
        fprintf(stderr, "start failed: %s\n", err);
        exit(1);
    }
    b->started++;
}

static bool all_started(bench_t *b)
{
    return b->started == N;
}

static int leader(bench_t *b)
{
    for (int i = 0; i < N; i++) {
        tri_node_status_t st;
        tri_node_get_status(b->nodes[i], &st);
        if (st.role == TRI_ROLE_LEADER && st.caught_up)
            return i;
    }
    return -1;
}

static bool has_leader(bench_t *b)
{
    return leader(b) >= 0;
}

static void submit(bench_t *b, slot_t *s);

static void prop_cb(tri_propose_t *req, int status, const tri_txn_result_t *res)
{
    slot_t *s = req->data;
    bench_t *b = s->b;
    b->inflight--;
    if (status != 0 || res->status != 0)
        b->errors++;
    else {
        b->done++;
        if (b->n_lat < MAX_SAMPLES)
            b->lat_us[b->n_lat++] = (tri_now_ns() / 1000) - s->t0;
    }
    if (b->running)
        submit(b, s);
}

static void submit(bench_t *b, slot_t *s)
{
    char key[32];
    snprintf(key, sizeof key, "/bench/%llu", (unsigned long long)(b->seq++ % KEYSPACE));
    tri_op_t op = {.kind = TRI_OP_PUT, .key = key, .key_len = strlen(key), .val = b->val,
                   .val_len = b->val_len};
    tri_txn_t txn = {.ops = &op, .n_ops = 1};
    s->b = b;
    s->req.data = s;
    s->t0 = tri_now_ns() / 1000;
    /* Every other write goes through the follower, also at 1 in flight. */
    int via = b->seq % 2 == 0 ? b->via_leader : b->via_follower;
    if (tri_node_propose(b->nodes[via], &s->req, &txn, prop_cb) != 0) {
        b->errors++;
        return;
    }
    b->inflight++;
}

/* CPU time of the whole process (every thread), in microseconds. */
static uint64_t cpu_us(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (uint64_t)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000000u +
           (uint64_t)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec);
}

/* The loop thread's time on a core and time runnable but waiting for one
 * (/proc/self/schedstat describes the main thread), in microseconds; 0 where
 * unavailable. */
static void loop_sched_us(uint64_t *run_us, uint64_t *wait_us)
{
    unsigned long long run = 0, wait = 0;
    FILE *f = fopen("/proc/self/schedstat", "r");
    if (f != NULL) {
        if (fscanf(f, "%llu %llu", &run, &wait) != 2)
            run = wait = 0;
        fclose(f);
    }
    *run_us = run / 1000;
    *wait_us = wait / 1000;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

static bool drained(bench_t *b)
{
    return b->inflight == 0;
}

static void level(bench_t *b, int inflight, unsigned secs)
{
    b->via_leader = leader(b);
    b->via_follower = (b->via_leader + 1) % N;
    b->done = b->errors = 0;
    b->n_lat = 0;
    b->running = true;
    for (int i = 0; i < inflight; i++) {
        submit(b, &b->slots[i]);
    }
    tri_node_status_t st0, st1;
    tri_node_get_status(b->nodes[b->via_leader], &st0);
    uint64_t t0 = tri_now_ms(), c0 = cpu_us(), r0, w0, r1, w1;
    loop_sched_us(&r0, &w0);
    run_for(b, secs * 1000ull, NULL);
    uint64_t el = tri_now_ms() - t0;
    uint64_t done = b->done;
    uint64_t cpu = cpu_us() - c0;
    loop_sched_us(&r1, &w1);
    tri_node_get_status(b->nodes[b->via_leader], &st1);
    /* raft entries (batches and barriers) per write: how well batching works */
    double entries = done ? (double)(st1.last_index - st0.last_index) / (double)done : 0.0;
    b->running = false;
    run_for(b, 10000, drained);
    qsort(b->lat_us, b->n_lat, sizeof *b->lat_us, cmp_u64);
    double p50 = b->n_lat ? b->lat_us[b->n_lat / 2] / 1000.0 : 0;
    double p99 = b->n_lat ? b->lat_us[(size_t)(b->n_lat * 0.99)] / 1000.0 : 0;
    printf("inflight=%-4d writes/s=%-8.0f p50_ms=%-7.2f p99_ms=%-7.2f cpu_us/write=%-6.1f "
           "cpu=%3.0f%% loop_run=%3.0f%% loop_runq=%3.0f%% entries/write=%.2f errors=%llu\n",
           inflight, done * 1000.0 / (double)el, p50, p99, done ? (double)cpu / (double)done : 0.0,
           cpu / (10.0 * (double)el), (r1 - r0) / (10.0 * (double)el),
           (w1 - w0) / (10.0 * (double)el), entries, (unsigned long long)b->errors);
    fflush(stdout);
}

/* ---------- BENCH_RAFT_RAW: plain libraft, for the ceiling ---------- */

#define RAW_SNAP_THRESHOLD 8192
#define RAW_SNAP_TRAILING 4096

typedef struct raw_node {
    struct raft_uv_transport transport;
    struct raft_io io;
    struct raft_fsm fsm;
    struct raft raft;
    uint64_t applied;
} raw_node_t;

typedef struct raw_slot {
    struct raft_apply req;
    bench_t *b;
    uint64_t t0;
} raw_slot_t;

static raw_node_t raw_nodes[N];

static bool all_closed_raw(bench_t *b)
{
    return b->closed == N;
}
static raw_slot_t raw_slots[MAX_INFLIGHT];

static int raw_apply(struct raft_fsm *fsm, const struct raft_buffer *buf, void **result)
{
    ((raw_node_t *)fsm->data)->applied++;
    *result = NULL;
    return 0;
}

static int raw_snapshot(struct raft_fsm *fsm, struct raft_buffer *bufs[], unsigned *n_bufs)
{
    raw_node_t *rn = fsm->data;
    *bufs = raft_malloc(sizeof **bufs);
    if (*bufs == NULL)
        return RAFT_NOMEM;
    (*bufs)[0].len = sizeof rn->applied;
    (*bufs)[0].base = raft_malloc(sizeof rn->applied);
    if ((*bufs)[0].base == NULL) {
        raft_free(*bufs);
        return RAFT_NOMEM;
    }
    memcpy((*bufs)[0].base, &rn->applied, sizeof rn->applied);
    *n_bufs = 1;
    return 0;
}

static int raw_restore(struct raft_fsm *fsm, struct raft_buffer *buf)
{
    raw_node_t *rn = fsm->data;
    memcpy(&rn->applied, buf->base, sizeof rn->applied);
    raft_free(buf->base);
    return 0;
}

static int raw_leader(void)
{
    for (int i = 0; i < N; i++)
        if (raft_state(&raw_nodes[i].raft) == RAFT_LEADER)
            return i;
    return -1;
}

static bool raw_has_leader(bench_t *b)
{
    return raw_leader() >= 0;
}

static void raw_submit(bench_t *b, raw_slot_t *s);

static void raw_apply_cb(struct raft_apply *req, int status, void *result)
{
    raw_slot_t *s = req->data;
    bench_t *b = s->b;
    b->inflight--;
    if (status != 0)
        b->errors++;
    else {
        b->done++;
        if (b->n_lat < MAX_SAMPLES)
            b->lat_us[b->n_lat++] = (tri_now_ns() / 1000) - s->t0;
    }
    if (b->running)
        raw_submit(b, s);
}

static void raw_submit(bench_t *b, raw_slot_t *s)
{
    int l = raw_leader();
    struct raft_buffer buf = {.len = b->val_len, .base = raft_malloc(b->val_len)};
    if (l < 0 || buf.base == NULL) {
        raft_free(buf.base);
        b->errors++;
        return;
    }
    memcpy(buf.base, b->val, b->val_len);
    s->b = b;
    s->req.data = s;
    s->t0 = tri_now_ns() / 1000;
    if (raft_apply(&raw_nodes[l].raft, &s->req, &buf, 1, raw_apply_cb) != 0) {
        raft_free(buf.base);
        b->errors++;
        return;
    }
    b->inflight++;
}

static void raw_level(bench_t *b, int inflight, unsigned secs)
{
    b->done = b->errors = 0;
    b->n_lat = 0;
    b->running = true;
    for (int i = 0; i < inflight; i++)
        raw_submit(b, &raw_slots[i]);
    uint64_t t0 = tri_now_ms(), c0 = cpu_us();
    run_for(b, secs * 1000ull, NULL);
    uint64_t el = tri_now_ms() - t0, done = b->done, cpu = cpu_us() - c0;
    b->running = false;
    run_for(b, 10000, drained);
    qsort(b->lat_us, b->n_lat, sizeof *b->lat_us, cmp_u64);
    double p50 = b->n_lat ? b->lat_us[b->n_lat / 2] / 1000.0 : 0;
    double p99 = b->n_lat ? b->lat_us[(size_t)(b->n_lat * 0.99)] / 1000.0 : 0;
    printf("raw inflight=%-4d writes/s=%-8.0f p50_ms=%-7.2f p99_ms=%-7.2f cpu_us/write=%-6.1f "
           "errors=%llu\n",
           inflight, done * 1000.0 / (double)el, p50, p99, done ? (double)cpu / (double)done : 0.0,
           (unsigned long long)b->errors);
    fflush(stdout);
}

static int raw_node_start(bench_t *b, int i, struct raft_configuration *conf)
{
    raw_node_t *rn = &raw_nodes[i];
    rn->fsm = (struct raft_fsm){.version = 1, .data = rn, .apply = raw_apply,
                                .snapshot = raw_snapshot, .restore = raw_restore};
    raft_id id = (raft_id)(i + 1);
    if (mkdir(b->dirs[i], 0700) != 0 || raft_uv_tcp_init(&rn->transport, &b->loop) != 0 ||
        raft_uv_init(&rn->io, &b->loop, b->dirs[i], &rn->transport) != 0 ||
        raft_init(&rn->raft, &rn->io, &rn->fsm, id, b->members[i].addr) != 0)
        return -1;
    raft_set_snapshot_threshold(&rn->raft, RAW_SNAP_THRESHOLD);
    raft_set_snapshot_trailing(&rn->raft, RAW_SNAP_TRAILING);
    raft_set_election_timeout(&rn->raft, 300);
    raft_set_heartbeat_timeout(&rn->raft, 50);
    raft_set_pre_vote(&rn->raft, true);
    if (raft_bootstrap(&rn->raft, conf) != 0 || raft_start(&rn->raft) != 0)
        return -1;
    return 0;
}

static void raw_closed_cb(struct raft *r)
{
    ((bench_t *)r->data)->closed++;
}

static int raw_main(bench_t *b, const int *levels, size_t n_levels, unsigned secs)
{
    struct raft_configuration conf;
    raft_configuration_init(&conf);
    for (int i = 0; i < N; i++)
        if (raft_configuration_add(&conf, (raft_id)(i + 1), b->members[i].addr, RAFT_VOTER) != 0)
            return 1;
    for (int i = 0; i < N; i++)
        if (raw_node_start(b, i, &conf) != 0) {
            fprintf(stderr, "raw libraft node %d did not start\n", i);
            return 1;
        }
    raft_configuration_close(&conf);
    run_for(b, 10000, raw_has_leader);
    if (raw_leader() < 0) {
        fprintf(stderr, "no leader\n");
        return 1;
    }
    run_for(b, 500, NULL);
    printf("bench_raft raw libraft: 3 nodes, %zu B entries, all on the leader\n", b->val_len);
    for (size_t i = 0; i < n_levels; i++)
        raw_level(b, levels[i], secs);
    for (int i = 0; i < N; i++) {
        raw_nodes[i].raft.data = b;
        raft_close(&raw_nodes[i].raft, raw_closed_cb);
    }
    run_for(b, 10000, all_closed_raw);
    for (int i = 0; i < N; i++)
        raft_uv_close(&raw_nodes[i].io);
    for (int i = 0; i < N; i++)
        raft_uv_tcp_close(&raw_nodes[i].transport);
    return 0;
}

static void closed_cb(tri_node_t *n, void *data)
{
    ((bench_t *)data)->closed++;
}

static bool all_closed(bench_t *b)
{
    return b->closed == N;
}

int main(int argc, char **argv)
{
    unsigned secs = argc > 1 ? (unsigned)atoi(argv[1]) : 3;
    int levels[MAX_LEVELS] = {1, 16, 64, 256};
    size_t n_levels = 4;
    if (argc > 3) {
        n_levels = 0;
        for (int i = 3; i < argc && n_levels < MAX_LEVELS; i++) {
            int l = atoi(argv[i]);
            if (l < 1 || l > MAX_INFLIGHT) {
                fprintf(stderr, "in-flight level must be 1..%d\n", MAX_INFLIGHT);
                return 2;
            }
            levels[n_levels++] = l;
        }
    }
    static bench_t bench;
    bench_t *b = &bench;
    signal(SIGPIPE, SIG_IGN);
    tri_log_set_level(TRI_LOG_WARN);
    b->val_len = argc > 2 ? (size_t)atol(argv[2]) : DEF_VAL_LEN;
    if (b->val_len > VAL_MAX) {
        fprintf(stderr, "value size must be at most %d\n", VAL_MAX);
        return 2;
    }
    memset(b->val, 'x', sizeof b->val);
    b->lat_us = malloc(MAX_SAMPLES * sizeof *b->lat_us);
    uv_loop_init(&b->loop);
    uv_timer_init(&b->loop, &b->waker);
    snprintf(b->root, sizeof b->root, "/tmp/triarch-bench-raft-XXXXXX");
    if (mkdtemp(b->root) == NULL) {
        perror("mkdtemp");
        return 1;
    }
    for (int i = 0; i < N; i++) {
        snprintf(b->members[i].name, sizeof b->members[i].name, "r%d", i + 1);
        snprintf(b->members[i].addr, sizeof b->members[i].addr, "127.0.0.1:%d", free_port());
        b->members[i].id = tri_member_id_derive("bench", b->members[i].name);
        snprintf(b->dirs[i], sizeof b->dirs[i], "%.180s/%s", b->root, b->members[i].name);
    }
    const char *raw = getenv("BENCH_RAFT_RAW");
    if (raw != NULL && raw[0] != '\0' && raw[0] != '0') {
        if (strcmp(raw, "2") == 0)
            tri_aio_destroy_start();
        int rv = raw_main(b, levels, n_levels, secs);
        uv_close((uv_handle_t *)&b->waker, NULL);
        uv_run(&b->loop, UV_RUN_DEFAULT);
        uv_loop_close(&b->loop);
        free(b->lat_us);
        char cmd[256];
        snprintf(cmd, sizeof cmd, "rm -rf '%.200s'", b->root);
        return system(cmd) == 0 ? rv : 1;
    }
    for (int i = 0; i < N; i++) {
        tri_node_config_t cfg = {.name = b->members[i].name, .cluster_id = "bench",
                                 .data_dir = b->dirs[i], .peer_addr = b->members[i].addr,
                                 .members = b->members, .n_members = N,
                                 .state = TRI_CLUSTER_NEW};
        const char *err;
        if (tri_store_new(NULL, &b->stores[i]) != 0 ||
            tri_node_new(&b->loop, b->stores[i], &cfg, &b->nodes[i], &err) != 0 ||
            tri_node_start(b->nodes[i], started_cb, b) != 0) {
            fprintf(stderr, "cannot start replica %d\n", i);
            return 1;
        }
    }
    run_for(b, 10000, all_started);
    run_for(b, 10000, has_leader);
    if (leader(b) < 0) {
        fprintf(stderr, "no leader\n");
        return 1;
    }
    printf("bench_raft: 3 replicas, %zu B puts, half via the leader, half forwarded\n",
           b->val_len);
    for (size_t i = 0; i < n_levels; i++)
        level(b, levels[i], secs);
    for (int i = 0; i < N; i++)
        tri_node_close(b->nodes[i], closed_cb, b);
    run_for(b, 10000, all_closed);
    for (int i = 0; i < N; i++) {
        tri_node_free(b->nodes[i]);
        tri_store_free(b->stores[i]);
    }
    uv_close((uv_handle_t *)&b->waker, NULL);
    uv_run(&b->loop, UV_RUN_DEFAULT);
    uv_loop_close(&b->loop);
    free(b->lat_us);
    char cmd[256];
    snprintf(cmd, sizeof cmd, "rm -rf '%.200s'", b->root);
    return system(cmd) == 0 ? 0 : 1;
}
