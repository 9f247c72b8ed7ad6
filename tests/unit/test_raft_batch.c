/* Batches: txns proposed during one loop iteration travel as one raft entry.
 *  - many concurrent proposals through the leader and both followers all commit,
 *    in far fewer raft entries than txns, each with its own result: distinct
 *    revisions, and of several create-if-absent txns on one key exactly one
 *    applies while the others fail their precondition;
 *  - a forwarded write is answered only once the follower applied it
 *    (read-your-writes), and one write at a time through a follower does not wait
 *    for a heartbeat to carry the commit index (heartbeats are slow here on purpose);
 *  - restarted from disk, replicas replay single-txn and batch entries to the same
 *    state.
 */
#include "test_raft_harness.h"

#define N_PROPS 240
#define N_CREATES 6 /* proposals racing to create the same key */
/* Slow heartbeats: a follower that learned the commit index only from them would
 * answer a lone forwarded write after ~HEARTBEAT_MS / 2 on average. */
#define HEARTBEAT_MS 300
#define ELECTION_MS 1500
#define N_LONE 9
#define LONE_MEDIAN_MAX_MS 60

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return x < y ? -1 : x > y;
}

static int propose_create(h_cluster_t *c, size_t i, h_prop_t *p, const char *key, const char *val)
{
    tri_cmp_t cmp = {.kind = TRI_CMP_ABSENT, .key = key, .key_len = strlen(key)};
    tri_op_t op = {
        .kind = TRI_OP_PUT, .key = key, .key_len = strlen(key), .val = val, .val_len = strlen(val)};
    tri_txn_t txn = {.cmps = &cmp, .n_cmps = 1, .ops = &op, .n_ops = 1};
    memset(p, 0, sizeof *p);
    p->req.data = p;
    return tri_node_propose(c->r[i].node, &p->req, &txn, h_prop_cb);
}

static bool all_done(h_cluster_t *c, void *arg)
{
    h_prop_t *p = arg;
    for (int i = 0; i < N_PROPS; i++)
        if (!p[i].done)
            return false;
    return true;
}

static void check_concurrent(h_cluster_t *c, int l)
{
    static h_prop_t p[N_PROPS];
    char key[32], val[32];
    tri_node_status_t st0, st1;
    tri_node_get_status(c->r[l].node, &st0);
    for (int i = 0; i < N_PROPS; i++) {
        size_t via = (size_t)(l + i) % 3;
        snprintf(val, sizeof val, "v%d", i);
        if (i < N_CREATES) {
            CHECK_EQ(propose_create(c, via, &p[i], "/b/once", val), 0);
            continue;
        }
        snprintf(key, sizeof key, "/b/%d", i);
        CHECK_EQ(h_put_async(c, via, &p[i], key, val), 0);
    }
    CHECK(h_run_until(c, all_done, p, 20000));
    tri_node_get_status(c->r[l].node, &st1);
    /* batching happened: far fewer entries than txns */
    CHECK(st1.last_index - st0.last_index < N_PROPS / 4);

    static int64_t revs[N_PROPS];
    int n_revs = 0, created = 0;
    for (int i = 0; i < N_PROPS; i++) {
        CHECK_EQ(p[i].status, 0);
        if (i < N_CREATES && p[i].res.status == TRI_EPRECOND) {
            CHECK_EQ(p[i].res.failed_cmp, 0);
            continue;
        }
        CHECK_EQ(p[i].res.status, 0);
        created += i < N_CREATES;
        revs[n_revs++] = p[i].res.revision;
        /* answered only once the replica that took it applied it */
        size_t via = (size_t)(l + i) % 3;
        snprintf(val, sizeof val, "v%d", i);
        if (i < N_CREATES)
            CHECK(h_has_value(c, via, "/b/once", val));
        else {
            snprintf(key, sizeof key, "/b/%d", i);
            CHECK(h_has_value(c, via, key, val));
        }
    }
    CHECK_EQ(created, 1);
    qsort(revs, (size_t)n_revs, sizeof revs[0], cmp_i64);
    for (int i = 1; i < n_revs; i++)
        CHECK(revs[i] > revs[i - 1]);
}

static void check_lone_forwarded(h_cluster_t *c, int l)
{
    uint64_t took[N_LONE];
    size_t f = (size_t)(l + 1) % 3;
    for (int i = 0; i < N_LONE; i++) {
        char key[32];
        snprintf(key, sizeof key, "/b/lone/%d", i);
        uint64_t t0 = tri_now_ms();
        h_prop_t p = h_put(c, f, key, "x");
        took[i] = tri_now_ms() - t0;
        CHECK_EQ(p.status, 0);
        CHECK_EQ(p.res.status, 0);
        CHECK(h_has_value(c, f, key, "x"));
    }
    qsort(took, N_LONE, sizeof took[0], cmp_u64);
    if (took[N_LONE / 2] > LONE_MEDIAN_MAX_MS)
        fprintf(stderr, "lone forwarded write: median %llu ms\n",
                (unsigned long long)took[N_LONE / 2]);
    CHECK(took[N_LONE / 2] <= LONE_MEDIAN_MAX_MS);
}

int main(void)
{
    h_cluster_t c;
    tri_log_set_level(TRI_LOG_WARN);
    h_init(&c, 3);
    c.base.heartbeat_ms = HEARTBEAT_MS;
    c.base.election_timeout_ms = ELECTION_MS;
    for (size_t i = 0; i < 3; i++)
        CHECK_EQ(h_up(&c, i, TRI_CLUSTER_NEW, NULL), 0);
    CHECK(h_run_until(&c, h_all_started, NULL, 10000));
    CHECK(h_run_until(&c, h_has_leader, NULL, 15000));
    int l = h_leader(&c);

    check_lone_forwarded(&c, l);
    check_concurrent(&c, l);

    int64_t rev = tri_store_revision(c.r[l].store);
    CHECK(h_run_until(&c, h_converged, &rev, 5000));
    for (size_t i = 0; i < 3; i++)
        h_down(&c, i);
    for (size_t i = 0; i < 3; i++)
        CHECK_EQ(h_up(&c, i, TRI_CLUSTER_EXISTING, NULL), 0);
    CHECK(h_run_until(&c, h_all_started, NULL, 10000));
    CHECK(h_run_until(&c, h_has_leader, NULL, 15000));
    CHECK(h_run_until(&c, h_converged, &rev, 5000));
    for (size_t i = 0; i < 3; i++) {
        CHECK_EQ(tri_store_revision(c.r[i].store), rev);
        CHECK(h_has_value(&c, i, "/b/lone/0", "x"));
        CHECK(h_has_value(&c, i, "/b/100", "v100"));
        CHECK(h_has_value(&c, i, "/b/239", "v239"));
    }
    h_teardown(&c);
    printf("test_raft_batch: ok\n");
    return 0;
}
