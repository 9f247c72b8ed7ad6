/* Health, status and metrics: /livez (the process answers), /readyz and
 * /healthz (a leader is known and this replica has applied what it committed —
 * the load balancer's check), /triarch/v1/status (role, term, indexes, for
 * `triarch cluster status`) and /metrics in Prometheus text format. */
#include <stdio.h>
#include <string.h>

#include "internal.h"
#include "triarch/util.h"

static bool is_ready(tri_http_t *h, tri_node_status_t *st)
{
    tri_node_get_status(tri_api_node(h->api), st);
    return st->leader_id != 0 && st->caught_up;
}

static void send_text(h2o_req_t *req, int code, const char *s)
{
    tri_send_body(req, code, "text/plain; charset=utf-8", s, strlen(s));
}

static void send_ready(tri_http_t *h, h2o_req_t *req, bool verbose)
{
    tri_node_status_t st;
    bool ok = is_ready(h, &st);
    if (!verbose) {
        send_text(req, ok ? 200 : 500, ok ? "ok" : "not ready: no leader or not caught up\n");
        return;
    }
    char buf[512];
    snprintf(buf, sizeof buf, "[%s]ping ok\n[%s]raft-leader %s\n[%s]raft-caught-up %s\n%s\n",
             "+", st.leader_id ? "+" : "-", st.leader_id ? "ok" : "failed: no leader known",
             st.caught_up ? "+" : "-", st.caught_up ? "ok" : "failed: applying",
             ok ? "readyz check passed" : "readyz check failed");
    send_text(req, ok ? 200 : 500, buf);
}

static void send_status(tri_http_t *h, h2o_req_t *req)
{
    tri_node_status_t st;
    tri_node_get_status(tri_api_node(h->api), &st);
    char id[32];
    snprintf(id, sizeof id, "%016llx", (unsigned long long)st.id);
    json_t *o = json_pack("{s:s, s:s, s:s, s:I, s:I, s:I, s:I, s:s, s:I, s:b, s:I}", "name",
                          h->cfg.name ? h->cfg.name : "", "id", id, "role",
                          tri_role_name(st.role), "term", (json_int_t)st.term, "commitIndex",
                          (json_int_t)st.commit_index, "appliedIndex",
                          (json_int_t)st.applied_index, "lastIndex", (json_int_t)st.last_index,
                          "leader", st.leader_name, "revision", (json_int_t)st.store_revision,
                          "caughtUp", st.caught_up, "watches",
                          (json_int_t)tri_api_watch_count(h->api));
    tri_send_json(req, 200, o);
}

static void metrics_histograms(tri_http_t *h, tri_buf_t *b)
{
    tri_http_metrics_t *m = &h->metrics;
    tri_buf_appendf(b, "# HELP apiserver_request_total Requests by verb and code class.\n"
                       "# TYPE apiserver_request_total counter\n");
    for (int v = 0; v < V_COUNT; v++)
        for (int c = 1; c <= 5; c++)
            if (m->requests[v][c])
                tri_buf_appendf(b, "apiserver_request_total{verb=\"%s\",code=\"%dxx\"} %llu\n",
                                tri_verb_names[v], c, (unsigned long long)m->requests[v][c]);
    tri_buf_appendf(b, "# HELP apiserver_request_duration_seconds Request latency by verb.\n"
                       "# TYPE apiserver_request_duration_seconds histogram\n");
    for (int v = 0; v < V_COUNT; v++) {
        if (m->lat_count[v] == 0)
            continue;
        for (int i = 0; i < TRI_LAT_BUCKETS; i++)
            tri_buf_appendf(b,
                            "apiserver_request_duration_seconds_bucket{verb=\"%s\",le=\"%g\"} %llu\n",
                            tri_verb_names[v], tri_lat_bounds[i],
                            (unsigned long long)m->lat_bucket[v][i]);
        tri_buf_appendf(b,
                        "apiserver_request_duration_seconds_bucket{verb=\"%s\",le=\"+Inf\"} %llu\n"
                        "apiserver_request_duration_seconds_sum{verb=\"%s\"} %.6f\n"
                        "apiserver_request_duration_seconds_count{verb=\"%s\"} %llu\n",
                        tri_verb_names[v], (unsigned long long)m->lat_count[v], tri_verb_names[v],
                        m->lat_sum[v], tri_verb_names[v], (unsigned long long)m->lat_count[v]);
    }
}

static void send_metrics(tri_http_t *h, h2o_req_t *req)
{
    tri_node_status_t st;
    tri_node_get_status(tri_api_node(h->api), &st);
    tri_store_t *s = tri_api_store(h->api);
    tri_buf_t b = {0};
    tri_buf_appendf(&b,
                    "# TYPE triarch_raft_term gauge\ntriarch_raft_term %llu\n"
                    "# TYPE triarch_raft_commit_index gauge\ntriarch_raft_commit_index %llu\n"
                    "# TYPE triarch_raft_applied_index gauge\ntriarch_raft_applied_index %llu\n"
                    "# TYPE triarch_raft_is_leader gauge\ntriarch_raft_is_leader %d\n"
                    "# TYPE triarch_raft_has_leader gauge\ntriarch_raft_has_leader %d\n"
                    "# TYPE triarch_raft_snapshots_total counter\ntriarch_raft_snapshots_total %llu\n"
                    "# TYPE triarch_raft_forwards_sent_total counter\n"
                    "triarch_raft_forwards_sent_total %llu\n"
                    "# TYPE triarch_store_revision gauge\ntriarch_store_revision %lld\n"
                    "# TYPE triarch_store_compact_revision gauge\n"
                    "triarch_store_compact_revision %lld\n"
                    "# TYPE triarch_store_size_bytes gauge\ntriarch_store_size_bytes %zu\n"
                    "# TYPE triarch_store_keys gauge\ntriarch_store_keys %zu\n"
                    "# TYPE triarch_store_quota_alarm gauge\ntriarch_store_quota_alarm %d\n"
                    "# TYPE apiserver_current_inflight_requests gauge\n"
                    "apiserver_current_inflight_requests %u\n"
                    "# TYPE apiserver_rejected_requests_total counter\n"
                    "apiserver_rejected_requests_total %llu\n"
                    "# TYPE apiserver_registered_watchers gauge\napiserver_registered_watchers %zu\n"
                    "# TYPE apiserver_watch_events_total counter\napiserver_watch_events_total %llu\n",
                    (unsigned long long)st.term, (unsigned long long)st.commit_index,
                    (unsigned long long)st.applied_index, st.role == TRI_ROLE_LEADER,
                    st.leader_id != 0, (unsigned long long)st.snapshots_taken,
                    (unsigned long long)st.forwards_sent, (long long)tri_store_revision(s),
                    (long long)tri_store_compact_revision(s), tri_store_size_bytes(s),
                    tri_store_count(s), tri_store_alarm(s), h->inflight,
                    (unsigned long long)h->metrics.rejected_inflight,
                    tri_api_watch_count(h->api), (unsigned long long)h->metrics.watch_events_sent);
    metrics_histograms(h, &b);
    tri_http_audit_metrics(h, &b);
    tri_send_body(req, 200, "text/plain; version=0.0.4", b.data, b.len);
    tri_buf_free(&b);
}

static bool path_is(const char *p, size_t len, const char *lit)
{
    return strlen(lit) == len && memcmp(p, lit, len) == 0;
}

int tri_handle_health(tri_http_t *h, h2o_req_t *req, const char *p, size_t len)
{
    bool verbose = req->query_at != SIZE_MAX &&
                   memmem(req->path.base + req->query_at, req->path.len - req->query_at,
                          "verbose", 7) != NULL;
    if (tri_path_under(p, len, "/livez")) {
        send_text(req, 200, "ok");
        return 0;
    }
    if (tri_path_under(p, len, "/readyz") || tri_path_under(p, len, "/healthz")) {
        send_ready(h, req, verbose);
        return 0;
    }
    if (path_is(p, len, "/metrics")) {
        send_metrics(h, req);
        return 0;
    }
    if (path_is(p, len, "/triarch/v1/status")) {
        send_status(h, req);
        return 0;
    }
    return -1;
}
