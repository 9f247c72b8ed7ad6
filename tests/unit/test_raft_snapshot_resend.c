/* Snapshot catch-up when the leader sent more than one snapshot to a follower that
 * was down (docs/adr/0005-peer-tls.md, "Snapshot catch-up stall").
 *
 * The leader keeps sending InstallSnapshot to a follower it heard from within the
 * last election timeout; while that follower is down each failed send makes it send
 * the current snapshot again, and writes meanwhile move the snapshot index on. When
 * messages for the follower waited in libraft 0.15's connect queue, the follower
 * came back to an older snapshot followed by a newer one: it installed the older,
 * dropped the newer as busy, and the leader (waiting for the newer) kept it in
 * snapshot mode until libraft's 30 s install_snapshot_timeout.
 *
 * Each round takes a follower down, writes until the leader has addressed two
 * different snapshots to it, brings it back at once and requires it to catch up
 * in less time than that timeout. Before the fix this failed in most rounds.
 */
#include "../../raft/internal.h"
#include "test_raft_harness.h"

/* libraft 0.15's progress states (src/progress.h); raft.h has the struct only. */
#define H_PROGRESS_SNAPSHOT 2
/* Well under libraft's install_snapshot_timeout (30 s): a stalled install fails. */
#define H_CATCH_UP_MS 20000

/* The snapshot index the leader is sending to member id, 0 when it is not sending one. */
static raft_index sending_snapshot(h_cluster_t *c, int l, uint64_t id)
{
    struct raft *r = &c->r[l].node->raft;
    if (raft_state(r) != RAFT_LEADER)
        return 0;
    for (unsigned i = 0; i < r->configuration.n; i++) {
        const struct raft_progress *p = &r->leader_state.progress[i];
        if (r->configuration.servers[i].id == id && p->state == H_PROGRESS_SNAPSHOT)
            return p->snapshot_index;
    }
    return 0;
}

static bool caught_up(h_cluster_t *c, void *arg)
{
    size_t i = *(size_t *)arg;
    int l = h_leader(c);
    if (l < 0)
        return false;
    tri_node_status_t st, ls;
    tri_node_get_status(c->r[i].node, &st);
    tri_node_get_status(c->r[l].node, &ls);
    return st.caught_up && st.store_revision == ls.store_revision;
}

static void round_down_write_up(h_cluster_t *c, int round)
{
    CHECK(h_run_until(c, h_has_leader, NULL, 10000));
    int l = h_leader(c);
    size_t f = (size_t)(l + 1) % 3;
    uint64_t fid = c->members[f].id;
    h_down(c, f);

    raft_index first = 0, second = 0;
    char key[48], val[32];
    for (int i = 0; i < 2000 && second == 0; i++) {
        snprintf(key, sizeof key, "/resend/%d/%04d", round, i);
        snprintf(val, sizeof val, "v%d", i);
        h_prop_t p = h_put(c, (size_t)l, key, val);
        CHECK_EQ(p.status, 0);
        raft_index s = sending_snapshot(c, l, fid);
        if (s != 0 && first == 0)
            first = s;
        else if (s != 0 && s != first)
            second = s;
    }
    /* The case this test is about happened: two different snapshots addressed. */
    if (second == 0)
        fprintf(stderr, "round %d: leader addressed snapshot %llu only\n", round,
                (unsigned long long)first);
    CHECK(second != 0);

    CHECK_EQ(h_up(c, f, TRI_CLUSTER_NEW, NULL), 0);
    bool ok = h_run_until(c, caught_up, &f, H_CATCH_UP_MS);
    if (!ok)
        fprintf(stderr, "round %d: r%zu not caught up (leader sending snapshot %llu)\n", round,
                f + 1, (unsigned long long)sending_snapshot(c, h_leader(c), fid));
    CHECK(ok);
    int64_t rev = tri_store_revision(c->r[h_leader(c)].store);
    CHECK(h_run_until(c, h_converged, &rev, 5000));
}

int main(void)
{
    h_cluster_t c;
    h_init(&c, 3);
    c.base.snapshot_threshold = 64;
    c.base.snapshot_trailing = 16;
    /* The leader sends snapshots to a silent follower only until its next check of
     * who it heard from, one election timeout: a longer one leaves time for several
     * snapshots even on a loaded machine. */
    c.base.election_timeout_ms = 3000;
    c.base.heartbeat_ms = 100;
    for (size_t i = 0; i < 3; i++)
        CHECK_EQ(h_up(&c, i, TRI_CLUSTER_NEW, NULL), 0);
    CHECK(h_run_until(&c, h_all_started, NULL, 10000));
    for (int round = 0; round < 3; round++)
        round_down_write_up(&c, round);
    h_teardown(&c);
    printf("ok\n");
    return 0;
}
