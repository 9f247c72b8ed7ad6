/* Identity and bootstrap rules, and the transport's refusal of strangers:
 *  - replicas started a few hundred ms apart all bootstrap (no false refusal);
 *  - a wiped replica restarted with state NEW is refused (TRI_EEXIST) because its
 *    peers have accepted raft traffic from it before;
 *  - state EXISTING with an empty data dir is refused;
 *  - a data dir of another cluster is refused;
 *  - a client with a member's certificate but another cluster id gets the
 *    WRONG_CLUSTER reply inside TLS; one sending garbage, or a handshake that names
 *    another member than its certificate, or the old plaintext handshake, is
 *    dropped; and the cluster keeps working.
 */
#include "test_raft_harness.h"

/* A client holding member `who`'s certificate, speaking the handshake inside TLS
 * (or, tls false, the old plaintext handshake) to replica `target`. */
static void stranger(h_cluster_t *c, h_client_t *t, size_t target, size_t who, bool tls)
{
    t->tls = tls;
    t->cert = c->r[who].cert;
    t->key = c->r[who].key;
    h_client_run(c, t, target);
}

static void test_transport_refusals(h_cluster_t *c, size_t target)
{
    size_t who = (target + 1) % 3;
    uint64_t id = c->members[who].id;
    const char *name = c->members[who].name;

    /* another cluster id: the reply carries status 1 (WRONG_CLUSTER), then close */
    h_client_t r1 = {0};
    r1.out_len = h_handshake(r1.out, 1 /* RAFT */, "some-other-cluster", id, name);
    stranger(c, &r1, target, who, true);
    CHECK(r1.have >= 8);
    CHECK(memcmp(r1.in, "TRHS", 4) == 0);
    CHECK_EQ(r1.in[5], 1);

    /* a PROBE with the right cluster id is answered OK and closed */
    h_client_t r2 = {0};
    r2.out_len = h_handshake(r2.out, 3 /* PROBE */, H_CLUSTER, id, name);
    stranger(c, &r2, target, who, true);
    CHECK(r2.have >= 10);
    CHECK_EQ(r2.in[5], 0);
    CHECK_EQ(r2.in[8], 1); /* has_cluster */
    CHECK_EQ(r2.in[9], 1); /* `who` has sent it raft traffic */

    /* an unknown kind is refused with status 2 */
    h_client_t r3 = {0};
    r3.out_len = h_handshake(r3.out, 9, H_CLUSTER, id, name);
    stranger(c, &r3, target, who, true);
    CHECK(r3.have >= 8);
    CHECK_EQ(r3.in[5], 2);

    /* garbage inside TLS: dropped without a reply */
    h_client_t r4 = {0};
    const char *junk = "GET / HTTP/1.1\r\nHost: x\r\n\r\n";
    memcpy(r4.out, junk, strlen(junk));
    r4.out_len = strlen(junk);
    stranger(c, &r4, target, who, true);
    CHECK(r4.handshake_ok);
    CHECK_EQ(r4.have, 0);

    /* the handshake must name the member the certificate names */
    h_client_t r5 = {0};
    r5.out_len = h_handshake(r5.out, 3, H_CLUSTER, 424242, "intruder");
    stranger(c, &r5, target, who, true);
    CHECK_EQ(r5.have, 0);
    h_client_t r6 = {0};
    r6.out_len = h_handshake(r6.out, 3, H_CLUSTER, c->members[target].id, name);
    stranger(c, &r6, target, who, true);
    CHECK_EQ(r6.have, 0);

    /* the old plaintext handshake, without TLS: dropped without a reply */
    h_client_t r7 = {0};
    r7.out_len = h_handshake(r7.out, 3, H_CLUSTER, id, name);
    stranger(c, &r7, target, who, false);
    CHECK_EQ(r7.have, 0);
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
