/* Identity and bootstrap rules, and the transport's refusal of strangers:
 *  - replicas started a few hundred ms apart all bootstrap (no false refusal);
 *  - a wiped replica restarted with state NEW is refused (TRI_EEXIST) because its
 *    peers have accepted raft traffic from it before;
 *  - state EXISTING with an empty data dir is refused;
 *  - a data dir of another cluster is refused;
 *  - a raw client with another cluster id gets the WRONG_CLUSTER reply, a client
 *    sending garbage is dropped, and the cluster keeps working.
 */
#include "test_raft_harness.h"

/* ---------- a raw TCP client on the test loop ---------- */

typedef struct raw {
    uv_tcp_t tcp;
    uv_connect_t creq;
    uv_write_t wr;
    uint8_t out[512];
    size_t out_len;
    uint8_t in[4096];
    size_t have;
    bool eof, closed;
} raw_t;

static void raw_alloc(uv_handle_t *h, size_t s, uv_buf_t *b)
{
    raw_t *r = h->data;
    *b = uv_buf_init((char *)r->in + r->have, (unsigned)(sizeof r->in - r->have));
}

static void raw_read(uv_stream_t *s, ssize_t n, const uv_buf_t *b)
{
    raw_t *r = s->data;
    if (n < 0) {
        r->eof = true;
        uv_read_stop(s);
        return;
    }
    r->have += (size_t)n;
}

static void raw_write_cb(uv_write_t *w, int status)
{
}

static void raw_connect_cb(uv_connect_t *req, int status)
{
    raw_t *r = req->data;
    CHECK_EQ(status, 0);
    uv_buf_t b = uv_buf_init((char *)r->out, (unsigned)r->out_len);
    r->wr.data = r;
    uv_write(&r->wr, (uv_stream_t *)&r->tcp, &b, 1, raw_write_cb);
    uv_read_start((uv_stream_t *)&r->tcp, raw_alloc, raw_read);
}

static void raw_closed(uv_handle_t *h)
{
    ((raw_t *)h->data)->closed = true;
}

static bool raw_eof(h_cluster_t *c, void *arg)
{
    return ((raw_t *)arg)->eof;
}

static bool raw_is_closed(h_cluster_t *c, void *arg)
{
    return ((raw_t *)arg)->closed;
}

static void raw_run(h_cluster_t *c, raw_t *r, const char *addr)
{
    struct sockaddr_in sa;
    char ip[32];
    int port;
    CHECK(sscanf(addr, "%31[^:]:%d", ip, &port) == 2);
    CHECK_EQ(uv_ip4_addr(ip, port, &sa), 0);
    uv_tcp_init(&c->loop, &r->tcp);
    r->tcp.data = r;
    r->creq.data = r;
    CHECK_EQ(uv_tcp_connect(&r->creq, &r->tcp, (struct sockaddr *)&sa, raw_connect_cb), 0);
    /* the node must close the connection on its side */
    CHECK(h_run_until(c, raw_eof, r, 8000));
    uv_close((uv_handle_t *)&r->tcp, raw_closed);
    CHECK(h_run_until(c, raw_is_closed, r, 1000));
}

static size_t put_str(uint8_t *p, const char *s)
{
    size_t n = strlen(s);
    p[0] = (uint8_t)n;
    memcpy(p + 1, s, n);
    return n + 1;
}

/* A handshake as transport.c's header comment documents it. */
static size_t build_handshake(uint8_t *out, uint8_t kind, const char *cluster)
{
    uint8_t *b = out + 8;
    size_t off = 0;
    uint64_t id = 424242;
    for (int i = 0; i < 8; i++)
        b[off++] = (uint8_t)(id >> (8 * i));
    off += put_str(b + off, cluster);
    off += put_str(b + off, "127.0.0.1:1");
    off += put_str(b + off, "intruder");
    memcpy(out, "TRHS", 4);
    out[4] = 1;
    out[5] = kind;
    out[6] = (uint8_t)(off & 0xff);
    out[7] = (uint8_t)(off >> 8);
    return 8 + off;
}

static void test_transport_refusals(h_cluster_t *c, size_t target)
{
    /* another cluster id: the reply carries status 1 (WRONG_CLUSTER), then close */
    raw_t r1 = {0};
    r1.out_len = build_handshake(r1.out, 1 /* RAFT */, "some-other-cluster");
    raw_run(c, &r1, c->members[target].addr);
    CHECK(r1.have >= 8);
    CHECK(memcmp(r1.in, "TRHS", 4) == 0);
    CHECK_EQ(r1.in[5], 1);

    /* a PROBE with the right cluster id is answered OK and closed */
    raw_t r2 = {0};
    r2.out_len = build_handshake(r2.out, 3 /* PROBE */, H_CLUSTER);
    raw_run(c, &r2, c->members[target].addr);
    CHECK(r2.have >= 10);
    CHECK_EQ(r2.in[5], 0);
    CHECK_EQ(r2.in[8], 1); /* has_cluster */
    CHECK_EQ(r2.in[9], 0); /* never saw id 424242 */

    /* an unknown kind is refused with status 2 */
    raw_t r3 = {0};
    r3.out_len = build_handshake(r3.out, 9, H_CLUSTER);
    raw_run(c, &r3, c->members[target].addr);
    CHECK(r3.have >= 8);
    CHECK_EQ(r3.in[5], 2);

    /* garbage: dropped without a reply */
    raw_t r4 = {0};
    const char *junk = "GET / HTTP/1.1\r\nHost: x\r\n\r\n";
    memcpy(r4.out, junk, strlen(junk));
    r4.out_len = strlen(junk);
    raw_run(c, &r4, c->members[target].addr);
    CHECK_EQ(r4.have, 0);
}

static void test_staggered_bootstrap(h_cluster_t *c)
{
    /* r1 first, r2 300 ms later, r3 300 ms after that: the first to finish probing
     * already holds an identity when the others ask, and that must not refuse them */
    CHECK_EQ(h_up(c, 0, TRI_CLUSTER_NEW, NULL), 0);
    h_sleep(c, 300);
    CHECK_EQ(h_up(c, 1, TRI_CLUSTER_NEW, NULL), 0);
    h_sleep(c, 300);
    CHECK_EQ(h_up(c, 2, TRI_CLUSTER_NEW, NULL), 0);
    CHECK(h_run_until(c, h_all_started, NULL, 10000));
    for (size_t i = 0; i < 3; i++) {
        if (c->r[i].start_status != 0)
            fprintf(stderr, "r%zu: %s\n", i + 1, c->r[i].start_err);
        CHECK_EQ(c->r[i].start_status, 0);
    }
    CHECK(h_run_until(c, h_has_leader, NULL, 10000));
    for (size_t i = 0; i < 3; i++) {
        char key[16];
        snprintf(key, sizeof key, "/id/%zu", i);
        h_prop_t p = h_put(c, i, key, "v");
        CHECK_EQ(p.status, 0);
    }
}

static void wipe(h_cluster_t *c, size_t i)
{
    char cmd[512];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", c->r[i].dir);
    CHECK(system(cmd) == 0);
}

static void test_wiped_replica_refused(h_cluster_t *c)
{
    int l = h_leader(c);
    CHECK(l >= 0);
    size_t f = (size_t)(l + 1) % 3;
    h_down(c, f);
    wipe(c, f);
    CHECK_EQ(h_up(c, f, TRI_CLUSTER_NEW, NULL), 0);
    CHECK(h_run_until(c, h_all_started, NULL, 5000));
    CHECK_EQ(c->r[f].start_status, TRI_EEXIST);
    CHECK(strstr(c->r[f].start_err, "already belongs to cluster " H_CLUSTER) != NULL);
    CHECK(strstr(c->r[f].start_err, "triarch member add") != NULL);
    h_down(c, f);
    /* nothing written: the dir still holds no identity */
    char path[512];
    snprintf(path, sizeof path, "%s/identity", c->r[f].dir);
    CHECK(access(path, F_OK) != 0);

    /* EXISTING on an empty dir: refused at once */
    wipe(c, f);
    const char *err = NULL;
    CHECK_EQ(h_up(c, f, TRI_CLUSTER_EXISTING, &err), TRI_EINVAL);
    CHECK(err != NULL && strstr(err, "empty data dir and no join bundle") != NULL);
}

static void test_identity_mismatch(h_cluster_t *c)
{
    int l = h_leader(c);
    CHECK(l >= 0);
    size_t f = (size_t)(l + 2) % 3;
    CHECK(c->r[f].up);
    h_down(c, f);
    const char *saved = c->cluster_id;
    c->cluster_id = "another-cluster";
    const char *err = NULL;
    CHECK_EQ(h_up(c, f, TRI_CLUSTER_NEW, &err), TRI_EINVAL);
    CHECK(err != NULL && strstr(err, "identity mismatch") != NULL);
    c->cluster_id = saved;
    /* the right identity restarts fine */
    CHECK_EQ(h_up(c, f, TRI_CLUSTER_NEW, NULL), 0);
    CHECK(h_run_until(c, h_all_started, NULL, 5000));
    CHECK_EQ(c->r[f].start_status, 0);
}

int main(void)
{
    h_cluster_t c;
    h_init(&c, 3);
    test_staggered_bootstrap(&c);
    int l = h_leader(&c);
    CHECK(l >= 0);
    test_transport_refusals(&c, (size_t)l);
    /* the cluster still works after the strangers */
    h_prop_t p = h_put(&c, (size_t)(l + 1) % 3, "/after-strangers", "ok");
    CHECK_EQ(p.status, 0);
    test_wiped_replica_refused(&c);
    test_identity_mismatch(&c);
    /* two of three are up: still writable through the restarted one */
    CHECK(h_run_until(&c, h_has_leader, NULL, 10000));
    for (size_t i = 0; i < 3; i++)
        if (c.r[i].up) {
            h_prop_t q = h_put(&c, i, "/end", "ok");
            CHECK_EQ(q.status, 0);
        }
    h_teardown(&c);
    printf("ok\n");
    return 0;
}
