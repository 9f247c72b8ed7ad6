/* Writes without a quorum: a proposal in flight when quorum goes away ends as
 * TRI_EUNKNOWN or TRI_EUNAVAIL, never as success without commit; once the leader
 * has stepped down, proposals fail fast with TRI_EUNAVAIL within forward_wait_ms;
 * when quorum returns, writes work again and no acknowledged write is lost.
 */
#include "test_raft_harness.h"

#define FORWARD_WAIT_MS 600

static void wcb(tri_waiter_t *w, int status)
{
    *(int *)w->data = status;
}

int main(void)
{
    h_cluster_t c;
    h_init(&c, 3);
    c.base.forward_wait_ms = FORWARD_WAIT_MS;
    for (size_t i = 0; i < 3; i++)
        CHECK_EQ(h_up(&c, i, TRI_CLUSTER_NEW, NULL), 0);
    CHECK(h_run_until(&c, h_all_started, NULL, 10000));
    CHECK(h_run_until(&c, h_has_leader, NULL, 10000));
    int l = h_leader(&c);
    size_t f1 = (size_t)(l + 1) % 3, f2 = (size_t)(l + 2) % 3;
    h_prop_t ok = h_put(&c, f1, "/q/acked", "yes");
    CHECK_EQ(ok.status, 0);

    /* both followers go away; proposals through the leader are in flight */
    h_down(&c, f1);
    h_down(&c, f2);
    h_prop_t p[4];
    for (int i = 0; i < 4; i++) {
        char key[16];
        snprintf(key, sizeof key, "/q/%d", i);
        CHECK_EQ(h_put_async(&c, (size_t)l, &p[i], key, "maybe"), 0);
    }
    for (int i = 0; i < 4; i++) {
        CHECK(h_run_until(&c, h_prop_done, &p[i], 5000));
        if (p[i].status != TRI_EUNKNOWN && p[i].status != TRI_EUNAVAIL)
            fprintf(stderr, "proposal %d without quorum: %s\n", i, tri_strerror(p[i].status));
        CHECK(p[i].status == TRI_EUNKNOWN || p[i].status == TRI_EUNAVAIL);
    }

    /* the lone leader steps down; new proposals fail fast with TRI_EUNAVAIL */
    h_sleep(&c, 400);
    tri_node_status_t st;
    tri_node_get_status(c.r[l].node, &st);
    CHECK(st.role != TRI_ROLE_LEADER);
    CHECK(!st.caught_up);
    uint64_t t0 = tri_now_ms();
    h_prop_t q = h_put(&c, (size_t)l, "/q/never", "no");
    uint64_t took = tri_now_ms() - t0;
    CHECK_EQ(q.status, TRI_EUNAVAIL);
    CHECK(took <= FORWARD_WAIT_MS + 200);
    /* a read barrier without a leader: TRI_EUNAVAIL too */
    tri_waiter_t w = {0};
    int wstatus = 1;
    w.data = &wstatus;
    CHECK_EQ(tri_node_read_barrier(c.r[l].node, &w, wcb), 0);
    h_sleep(&c, FORWARD_WAIT_MS + 100);
    CHECK_EQ(wstatus, TRI_EUNAVAIL);

    /* quorum back: writes work, the acknowledged one is there, the never-proposed
     * one is not */
    CHECK_EQ(h_up(&c, f1, TRI_CLUSTER_NEW, NULL), 0);
    CHECK(h_run_until(&c, h_has_leader, NULL, 10000));
    int nl = h_leader(&c);
    h_prop_t again = h_put(&c, (size_t)l, "/q/again", "yes");
    CHECK_EQ(again.status, 0);
    int64_t rev = tri_store_revision(c.r[nl].store);
    CHECK(h_run_until(&c, h_converged, &rev, 5000));
    for (size_t i = 0; i < 3; i++) {
        if (!c.r[i].up)
            continue;
        CHECK(h_has_value(&c, i, "/q/acked", "yes"));
        CHECK(h_has_value(&c, i, "/q/again", "yes"));
        tri_kv_t kv;
        CHECK_EQ(tri_store_get(c.r[i].store, "/q/never", 8, 0, &kv), TRI_ENOENT);
    }
    h_teardown(&c);
    printf("ok\n");
    return 0;
}
