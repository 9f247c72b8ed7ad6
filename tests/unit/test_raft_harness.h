/* Shared fixture for the raft unit tests: N replicas of tri_node_t on one libuv
 * loop in this process, real TCP on 127.0.0.1 with ports found free by binding port
 * 0, and data dirs under a fresh /tmp directory removed at the end. Peer traffic
 * is mutual TLS, as in production: h_init makes a CA and one replica certificate
 * per member in <root>/pki (test_raft_pki.h).
 *
 * Included by each test_raft_*.c (each is its own executable), so everything here
 * is static.
 */
#ifndef TEST_RAFT_HARNESS_H
#define TEST_RAFT_HARNESS_H

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>
#include <uv.h>

#include "triarch/errors.h"
#include "triarch/log.h"
#include "triarch/raft.h"
#include "triarch/store.h"
#include "triarch/util.h"

#include "test_raft_pki.h"

#define CHECK(cond)                                                                             \
    do {                                                                                        \
        if (!(cond)) {                                                                          \
            fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond);            \
            exit(1);                                                                            \
        }                                                                                       \
    } while (0)
#define CHECK_EQ(a, b)                                                                          \
    do {                                                                                        \
        long long a_ = (long long)(a), b_ = (long long)(b);                                     \
        if (a_ != b_) {                                                                         \
            fprintf(stderr, "%s:%d: CHECK failed: %s == %s (%lld vs %lld)\n", __FILE__,         \
                    __LINE__, #a, #b, a_, b_);                                                  \
            exit(1);                                                                            \
        }                                                                                       \
    } while (0)

#define H_MAX 3
#define H_CLUSTER "test-cluster-7f3a"

typedef struct h_replica {
    tri_store_t *store;
    tri_node_t *node;
    char dir[256];
    char cert[256], key[256]; /* peer certificate and key (h_init: <root>/pki/<name>) */
    bool up;
    bool started;
    int start_status;
    char start_err[512];
    bool closed;
    int leader_true, leader_false;
    bool is_leader_cb;
} h_replica_t;

typedef struct h_cluster {
    uv_loop_t loop;
    uv_timer_t waker;
    char root[128];
    size_t n;
    tri_member_t members[H_MAX];
    h_replica_t r[H_MAX];
    tri_node_config_t base; /* timings shared by every replica */
    const char *cluster_id;
    h_ca_t ca;
    char ca_file[256];
} h_cluster_t;

static __attribute__((unused)) int h_free_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof sa;
    CHECK(fd >= 0);
    CHECK(bind(fd, (struct sockaddr *)&sa, sizeof sa) == 0);
    CHECK(getsockname(fd, (struct sockaddr *)&sa, &len) == 0);
    close(fd);
    return ntohs(sa.sin_port);
}

static __attribute__((unused)) void h_waker_cb(uv_timer_t *t)
{
}

static __attribute__((unused)) void h_init(h_cluster_t *c, size_t n)
{
    memset(c, 0, sizeof *c);
    signal(SIGPIPE, SIG_IGN); /* RAFT.md: a killed peer must not kill us */
    CHECK(uv_loop_init(&c->loop) == 0);
    uv_timer_init(&c->loop, &c->waker);
    snprintf(c->root, sizeof c->root, "/tmp/triarch-raft-test-XXXXXX");
    CHECK(mkdtemp(c->root) != NULL);
    c->n = n;
    c->cluster_id = H_CLUSTER;
    char pki[200];
    snprintf(pki, sizeof pki, "%s/pki", c->root);
    CHECK(mkdir(pki, 0700) == 0);
    c->ca = h_pki_ca("test-cluster-ca");
    snprintf(c->ca_file, sizeof c->ca_file, "%s/ca.crt", pki);
    h_pki_write(c->ca_file, c->ca.crt, NULL);
    for (size_t i = 0; i < n; i++) {
        tri_member_t *m = &c->members[i];
        snprintf(m->name, sizeof m->name, "r%zu", i + 1);
        snprintf(m->addr, sizeof m->addr, "127.0.0.1:%d", h_free_port());
        m->id = tri_member_id_derive(H_CLUSTER, m->name);
        snprintf(c->r[i].dir, sizeof c->r[i].dir, "%s/%s", c->root, m->name);
        char stem[240];
        snprintf(stem, sizeof stem, "%s/%s", pki, m->name);
        h_pki_replica(&c->ca, stem, m->name);
        snprintf(c->r[i].cert, sizeof c->r[i].cert, "%s.crt", stem);
        snprintf(c->r[i].key, sizeof c->r[i].key, "%s.key", stem);
    }
    c->base.election_timeout_ms = 300;
    c->base.heartbeat_ms = 50;
    c->base.forward_wait_ms = 1000;
    c->base.revision_wait_ms = 1000;
    c->base.bootstrap_wait_ms = 5000;
}

/* Runs the loop until cond(arg) holds or ms elapse; returns whether it held. */
static __attribute__((unused)) bool h_run_until(h_cluster_t *c, bool (*cond)(h_cluster_t *, void *), void *arg,
                        unsigned ms)
{
    uint64_t deadline = tri_now_ms() + ms;
    uv_timer_start(&c->waker, h_waker_cb, 5, 5);
    bool ok = cond(c, arg);
    while (!ok && tri_now_ms() < deadline) {
        uv_run(&c->loop, UV_RUN_ONCE);
        ok = cond(c, arg);
    }
    uv_timer_stop(&c->waker);
    return ok;
}

static __attribute__((unused)) bool h_never(h_cluster_t *c, void *arg)
{
    return false;
}

static __attribute__((unused)) void h_sleep(h_cluster_t *c, unsigned ms)
{
    h_run_until(c, h_never, NULL, ms);
}

static __attribute__((unused)) void h_started_cb(tri_node_t *n, int status, const char *errmsg, void *data)
{
    h_replica_t *r = data;
    r->started = true;
    r->start_status = status;
    snprintf(r->start_err, sizeof r->start_err, "%s", errmsg ? errmsg : "");
}

static __attribute__((unused)) void h_leader_cb(tri_node_t *n, bool is_leader, void *data)
{
    h_replica_t *r = data;
    if (is_leader)
        r->leader_true++;
    else
        r->leader_false++;
    r->is_leader_cb = is_leader;
}

static __attribute__((unused)) tri_node_config_t h_config(h_cluster_t *c, size_t i, enum tri_cluster_state state)
{
    tri_node_config_t cfg = c->base;
    cfg.name = c->members[i].name;
    cfg.cluster_id = c->cluster_id;
    cfg.data_dir = c->r[i].dir;
    cfg.peer_addr = c->members[i].addr;
    cfg.members = c->members;
    cfg.n_members = c->n;
    cfg.state = state;
    cfg.peer_cert_file = c->r[i].cert;
    cfg.peer_key_file = c->r[i].key;
    cfg.peer_trusted_ca_file = c->ca_file;
    return cfg;
}

/* Creates and starts replica i; returns tri_node_new's status. */
static __attribute__((unused)) int h_up(h_cluster_t *c, size_t i, enum tri_cluster_state state, const char **errmsg)
{
    h_replica_t *r = &c->r[i];
    tri_node_config_t cfg = h_config(c, i, state);
    const char *dummy;
    CHECK(!r->up);
    CHECK(tri_store_new(NULL, &r->store) == 0);
    int rv = tri_node_new(&c->loop, r->store, &cfg, &r->node, errmsg ? errmsg : &dummy);
    if (rv != 0) {
        tri_store_free(r->store);
        r->store = NULL;
        return rv;
    }
    r->up = true;
    r->started = false;
    r->closed = false;
    r->start_status = 1;
    tri_node_on_leadership(r->node, h_leader_cb, r);
    CHECK(tri_node_start(r->node, h_started_cb, r) == 0);
    return 0;
}

static __attribute__((unused)) void h_closed_cb(tri_node_t *n, void *data)
{
    ((h_replica_t *)data)->closed = true;
}

static __attribute__((unused)) bool h_is_closed(h_cluster_t *c, void *arg)
{
    return ((h_replica_t *)arg)->closed;
}

static __attribute__((unused)) void h_down(h_cluster_t *c, size_t i)
{
    h_replica_t *r = &c->r[i];
    if (!r->up)
        return;
    tri_node_close(r->node, h_closed_cb, r);
    CHECK(h_run_until(c, h_is_closed, r, 5000));
    tri_node_free(r->node);
    tri_store_free(r->store);
    r->node = NULL;
    r->store = NULL;
    r->up = false;
}

static __attribute__((unused)) bool h_all_started(h_cluster_t *c, void *arg)
{
    for (size_t i = 0; i < c->n; i++)
        if (c->r[i].up && !c->r[i].started)
            return false;
    return true;
}

static __attribute__((unused)) int h_leader(h_cluster_t *c)
{
    for (size_t i = 0; i < c->n; i++) {
        if (!c->r[i].up)
            continue;
        tri_node_status_t st;
        tri_node_get_status(c->r[i].node, &st);
        if (st.role == TRI_ROLE_LEADER && st.caught_up)
            return (int)i;
    }
    return -1;
}

/* A caught-up leader that every live follower also knows. */
static __attribute__((unused)) bool h_has_leader(h_cluster_t *c, void *arg)
{
    int l = h_leader(c);
    if (l < 0)
        return false;
    for (size_t i = 0; i < c->n; i++) {
        if (!c->r[i].up || (int)i == l)
            continue;
        tri_node_status_t st;
        tri_node_get_status(c->r[i].node, &st);
        if (st.leader_id != c->members[l].id)
            return false;
    }
    return true;
}

/* ---------- proposals ---------- */

typedef struct h_prop {
    tri_propose_t req;
    bool done;
    int status;
    tri_txn_result_t res;
} h_prop_t;

static __attribute__((unused)) void h_prop_cb(tri_propose_t *req, int status, const tri_txn_result_t *res)
{
    h_prop_t *p = req->data;
    p->done = true;
    p->status = status;
    p->res = *res;
}

static __attribute__((unused)) bool h_prop_done(h_cluster_t *c, void *arg)
{
    return ((h_prop_t *)arg)->done;
}

static __attribute__((unused)) int h_put_async(h_cluster_t *c, size_t i, h_prop_t *p, const char *key, const char *val)
{
    tri_op_t op = {.kind = TRI_OP_PUT, .key = key, .key_len = strlen(key), .val = val,
                   .val_len = strlen(val)};
    tri_txn_t txn = {.ops = &op, .n_ops = 1};
    memset(p, 0, sizeof *p);
    p->req.data = p;
    return tri_node_propose(c->r[i].node, &p->req, &txn, h_prop_cb);
}

/* Proposes a put through replica i and waits for the answer. */
static __attribute__((unused)) h_prop_t h_put(h_cluster_t *c, size_t i, const char *key, const char *val)
{
    h_prop_t p;
    CHECK(h_put_async(c, i, &p, key, val) == 0);
    CHECK(h_run_until(c, h_prop_done, &p, 10000));
    return p;
}

/* ---------- reading a replica's store ---------- */

static __attribute__((unused)) bool h_has_value(h_cluster_t *c, size_t i, const char *key, const char *val)
{
    tri_kv_t kv;
    if (tri_store_get(c->r[i].store, key, strlen(key), 0, &kv) != 0)
        return false;
    bool same = kv.val->len == strlen(val) && memcmp(kv.val->data, val, kv.val->len) == 0;
    tri_kv_release(&kv);
    return same;
}

static __attribute__((unused)) bool h_converged(h_cluster_t *c, void *arg)
{
    int64_t rev = -1;
    for (size_t i = 0; i < c->n; i++) {
        if (!c->r[i].up)
            continue;
        int64_t r = tri_store_revision(c->r[i].store);
        if (rev >= 0 && r != rev)
            return false;
        rev = r;
    }
    return rev >= (arg ? *(int64_t *)arg : 0);
}

/* ---------- a stranger's client (test_raft_pki.h) against replica i ---------- */

static __attribute__((unused)) bool h_client_done(h_cluster_t *c, void *arg)
{
    return atomic_load(&((h_client_t *)arg)->done) != 0;
}

static __attribute__((unused)) void h_client_run(h_cluster_t *c, h_client_t *t, size_t i)
{
    pthread_t th;
    snprintf(t->addr, sizeof t->addr, "%s", c->members[i].addr);
    atomic_store(&t->done, 0);
    CHECK(pthread_create(&th, NULL, h_client_main, t) == 0);
    CHECK(h_run_until(c, h_client_done, t, 15000));
    pthread_join(th, NULL);
}

/* A handshake as transport.c's header comment documents it. */
static __attribute__((unused)) size_t h_handshake(uint8_t *out, uint8_t kind, const char *cluster,
                                                  uint64_t id, const char *name)
{
    uint8_t *b = out + 8;
    size_t off = 0;
    for (int i = 0; i < 8; i++)
        b[off++] = (uint8_t)(id >> (8 * i));
    const char *strs[] = {cluster, "127.0.0.1:1", name};
    for (size_t k = 0; k < 3; k++) {
        size_t n = strlen(strs[k]);
        b[off++] = (uint8_t)n;
        memcpy(b + off, strs[k], n);
        off += n;
    }
    memcpy(out, "TRHS", 4);
    out[4] = 1;
    out[5] = kind;
    out[6] = (uint8_t)(off & 0xff);
    out[7] = (uint8_t)(off >> 8);
    return 8 + off;
}

static __attribute__((unused)) uint64_t h_refusals(h_cluster_t *c, size_t i)
{
    tri_node_status_t st;
    tri_node_get_status(c->r[i].node, &st);
    return st.peer_refusals;
}

static __attribute__((unused)) void h_teardown(h_cluster_t *c)
{
    for (size_t i = 0; i < c->n; i++)
        h_down(c, i);
    uv_close((uv_handle_t *)&c->waker, NULL);
    uv_run(&c->loop, UV_RUN_DEFAULT);
    CHECK(uv_loop_close(&c->loop) == 0);
    h_pki_ca_free(&c->ca);
    char cmd[256];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", c->root);
    CHECK(system(cmd) == 0);
}

#endif
