/* Peer TLS (raft/chan.c, docs/adr/0005-peer-tls.md), on a 3-replica cluster:
 *  - a client with a member's certificate completes TLS and gets a handshake reply;
 *  - refused before any handshake byte is parsed (no reply, counted as a refusal):
 *    a certificate of another CA, no certificate, an expired certificate, a
 *    certificate of the right CA naming no member, the admin client certificate,
 *    and the old plaintext handshake without TLS;
 *  - a replica restarted with a certificate of another CA is refused both ways and
 *    the cluster keeps its leader; restarted with its own it reconnects and catches up;
 *  - large and many concurrent entries cross the channels intact (leader appends
 *    through the relay, forwarded writes through a follower);
 *  - tri_node_new refuses missing peer TLS files, and a certificate of another member.
 */
#include "test_raft_harness.h"

static char g_pki[256];

static void stem(char *out, size_t cap, const char *name)
{
    snprintf(out, cap, "%.150s/%.40s", g_pki, name);
}

/* Sends member 1's handshake (PROBE) to replica 0 with the given credentials. */
static void probe(h_cluster_t *c, h_client_t *t, bool tls, const char *st)
{
    char cert[300], key[300];
    memset(t, 0, sizeof *t);
    t->tls = tls;
    if (st != NULL) {
        snprintf(cert, sizeof cert, "%s.crt", st);
        snprintf(key, sizeof key, "%s.key", st);
        t->cert = cert;
        t->key = key;
    }
    t->out_len = h_handshake(t->out, 3, H_CLUSTER, c->members[1].id, c->members[1].name);
    h_client_run(c, t, 0);
}

static void expect_refused(h_cluster_t *c, bool tls, const char *st, const char *what)
{
    h_client_t t;
    uint64_t before = h_refusals(c, 0);
    probe(c, &t, tls, st);
    if (t.have != 0 || h_refusals(c, 0) <= before) {
        fprintf(stderr, "%s: expected refusal, got %zu reply bytes, refusals %llu -> %llu\n", what,
                t.have, (unsigned long long)before, (unsigned long long)h_refusals(c, 0));
        exit(1);
    }
}

static void test_handshakes(h_cluster_t *c)
{
    char st[300];
    h_client_t ok;
    stem(st, sizeof st, "r2"); /* member r2's own certificate (h_init) */
    probe(c, &ok, true, st);
    CHECK(ok.handshake_ok);
    CHECK(ok.have >= 10);
    CHECK(memcmp(ok.in, "TRHS", 4) == 0);
    CHECK_EQ(ok.in[5], 0);

    /* another CA, same subject as a member */
    h_ca_t other = h_pki_ca("some-other-ca");
    stem(st, sizeof st, "other-r2");
    h_pki_replica(&other, st, "r2");
    expect_refused(c, true, st, "certificate of another CA");

    expect_refused(c, true, NULL, "no certificate");

    stem(st, sizeof st, "expired-r2");
    h_pki_leaf(&c->ca, st, "r2", "triarch:replicas", "serverAuth,clientAuth", -7200, -3600);
    expect_refused(c, true, st, "expired certificate");

    stem(st, sizeof st, "r9");
    h_pki_replica(&c->ca, st, "r9");
    expect_refused(c, true, st, "certificate of a non-member");

    stem(st, sizeof st, "admin");
    h_pki_leaf(&c->ca, st, "admin", "system:masters", "clientAuth", -300, 86400);
    expect_refused(c, true, st, "admin client certificate");

    /* right CN and O, but a serverAuth-only certificate cannot authenticate a client */
    stem(st, sizeof st, "serveronly-r2");
    h_pki_leaf(&c->ca, st, "r2", "triarch:replicas", "serverAuth", -300, 86400);
    expect_refused(c, true, st, "certificate without clientAuth");

    expect_refused(c, false, NULL, "plaintext handshake");
    h_pki_ca_free(&other);
}

/* ---------- a replica with a foreign certificate, then its own again ---------- */

static void test_foreign_replica(h_cluster_t *c)
{
    int l = h_leader(c);
    CHECK(l >= 0);
    size_t f = (size_t)(l + 1) % 3;
    size_t g = (size_t)(l + 2) % 3;
    h_down(c, f);

    char st[200], own_cert[256], own_key[256];
    h_ca_t other = h_pki_ca("foreign-ca");
    stem(st, sizeof st, "foreign");
    h_pki_replica(&other, st, c->members[f].name);
    memcpy(own_cert, c->r[f].cert, sizeof own_cert);
    memcpy(own_key, c->r[f].key, sizeof own_key);
    snprintf(c->r[f].cert, sizeof c->r[f].cert, "%s.crt", st);
    snprintf(c->r[f].key, sizeof c->r[f].key, "%s.key", st);
    /* it still trusts the cluster CA, so it refuses nothing; the others refuse it */
    uint64_t before = h_refusals(c, (size_t)l) + h_refusals(c, g);
    CHECK_EQ(h_up(c, f, TRI_CLUSTER_NEW, NULL), 0);
    h_prop_t p = h_put(c, (size_t)l, "/while-foreign", "v1");
    CHECK_EQ(p.status, 0);
    h_sleep(c, 1500);
    CHECK(h_refusals(c, (size_t)l) + h_refusals(c, g) > before);
    CHECK(!h_has_value(c, f, "/while-foreign", "v1"));
    CHECK_EQ(h_leader(c), l); /* the cluster kept its leader */
    /* and the foreign replica's outbound connections are refused too: it never
     * learns a leader */
    tri_node_status_t st_f;
    tri_node_get_status(c->r[f].node, &st_f);
    CHECK(st_f.leader_id == 0 || st_f.leader_id == c->members[l].id);
    CHECK(h_refusals(c, f) > 0 || st_f.leader_id == 0);
    h_down(c, f);

    /* restarted with its own certificate: reconnects and catches up */
    memcpy(c->r[f].cert, own_cert, sizeof own_cert);
    memcpy(c->r[f].key, own_key, sizeof own_key);
    CHECK_EQ(h_up(c, f, TRI_CLUSTER_NEW, NULL), 0);
    p = h_put(c, f, "/after-restart", "v2");
    CHECK_EQ(p.status, 0);
    int64_t rev = p.res.revision;
    CHECK(h_run_until(c, h_converged, &rev, 10000));
    CHECK(h_has_value(c, f, "/while-foreign", "v1"));
    h_pki_ca_free(&other);
}

/* ---------- data integrity ---------- */

static char *pattern(size_t len, unsigned seed)
{
    char *v = malloc(len + 1);
    CHECK(v != NULL);
    uint32_t x = seed * 2654435761u + 1;
    for (size_t i = 0; i < len; i++) {
        x = x * 1103515245u + 12345u;
        v[i] = (char)('!' + (x >> 16) % 90);
    }
    v[len] = '\0';
    return v;
}

#define N_SMALL 300

static void test_integrity(h_cluster_t *c)
{
    int l = h_leader(c);
    CHECK(l >= 0);
    size_t f = (size_t)(l + 1) % 3;
    /* large entries: 1 MiB through the leader, 3 MiB forwarded by a follower */
    char *big1 = pattern(1u << 20, 1), *big2 = pattern(3u << 20, 2);
    h_prop_t p = h_put(c, (size_t)l, "/big/1", big1);
    CHECK_EQ(p.status, 0);
    p = h_put(c, f, "/big/2", big2);
    CHECK_EQ(p.status, 0);
    int64_t rev = p.res.revision;
    CHECK(h_run_until(c, h_converged, &rev, 20000));
    for (size_t i = 0; i < 3; i++) {
        CHECK(h_has_value(c, i, "/big/1", big1));
        CHECK(h_has_value(c, i, "/big/2", big2));
    }
    free(big1);
    free(big2);

    /* many entries of assorted sizes in flight at once, through every replica: the
     * records and pipe reads split them at arbitrary points */
    static h_prop_t props[N_SMALL];
    static char keys[N_SMALL][32];
    char *vals[N_SMALL];
    for (size_t i = 0; i < N_SMALL; i++) {
        snprintf(keys[i], sizeof keys[i], "/small/%zu", i);
        vals[i] = pattern(1 + (i * 7919) % 40000, (unsigned)i + 10);
        CHECK_EQ(h_put_async(c, i % 3, &props[i], keys[i], vals[i]), 0);
    }
    for (size_t i = 0; i < N_SMALL; i++) {
        CHECK(h_run_until(c, h_prop_done, &props[i], 20000));
        CHECK_EQ(props[i].status, 0);
        if (props[i].res.revision > rev)
            rev = props[i].res.revision;
    }
    CHECK(h_run_until(c, h_converged, &rev, 20000));
    for (size_t i = 0; i < N_SMALL; i++) {
        for (size_t r = 0; r < 3; r++)
            CHECK(h_has_value(c, r, keys[i], vals[i]));
        free(vals[i]);
    }
}

/* ---------- configuration ---------- */

static void test_config_refusals(h_cluster_t *c)
{
    tri_node_config_t cfg = h_config(c, 0, TRI_CLUSTER_EXISTING);
    tri_store_t *store;
    tri_node_t *n = NULL;
    const char *err = NULL;
    CHECK(tri_store_new(NULL, &store) == 0);
    cfg.peer_cert_file = NULL;
    CHECK_EQ(tri_node_new(&c->loop, store, &cfg, &n, &err), TRI_EINVAL);
    CHECK(err != NULL && strstr(err, "peer-cert-file") != NULL);
    /* r2's certificate given to r1 */
    cfg = h_config(c, 0, TRI_CLUSTER_EXISTING);
    cfg.peer_cert_file = c->r[1].cert;
    cfg.peer_key_file = c->r[1].key;
    err = NULL;
    CHECK_EQ(tri_node_new(&c->loop, store, &cfg, &n, &err), TRI_EINVAL);
    CHECK(err != NULL && strstr(err, "peer-cert-file") != NULL);
    tri_store_free(store);
}

static bool started_ok(h_cluster_t *c, void *arg)
{
    return h_all_started(c, arg) && h_has_leader(c, arg);
}

int main(void)
{
    h_cluster_t c;
    h_init(&c, 3);
    snprintf(g_pki, sizeof g_pki, "%s/pki", c.root);
    for (size_t i = 0; i < 3; i++)
        CHECK_EQ(h_up(&c, i, TRI_CLUSTER_NEW, NULL), 0);
    CHECK(h_run_until(&c, started_ok, NULL, 15000));
    test_config_refusals(&c);
    test_handshakes(&c);
    CHECK(h_run_until(&c, h_has_leader, NULL, 5000));
    test_integrity(&c);
    test_foreign_replica(&c);
    h_teardown(&c);
    printf("ok\n");
    return 0;
}
