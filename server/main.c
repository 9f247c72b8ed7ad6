/* triarchd: one replica. Loads its configuration, opens the store and the Raft
 * node (which bootstraps, restarts or refuses according to its data dir), then
 * serves the API on the same libuv loop. The leader also runs the leader-only
 * loops (today: creating the built-in namespaces). SIGTERM/SIGINT stop it
 * gracefully; exit 2 means bad configuration, 1 a refusal to start. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <uv.h>

#include "apiserver_lease.h"
#include "config.h"
#include "triarch/api.h"
#include "triarch/authn.h"
#include "triarch/authz.h"
#include "triarch/audit.h"
#include "triarch/controllers.h"
#include "triarch/csr.h"
#include "triarch/encrypt.h"
#include "triarch/errors.h"
#include "triarch/http.h"
#include "triarch/log.h"
#include "triarch/raft.h"
#include "triarch/store.h"

#define COMPACT_PERIOD_MS 1000
/* The leader recreates missing built-in namespaces this often (Kubernetes' system
 * namespaces controller does it every minute). */
#define DEFAULTS_EVERY_TICKS 10
#define MAX_MEMBERS 16
/* libraft does its disk work on the libuv pool; nothing of ours runs there. */
#define UV_POOL_SIZE "6" /* libraft's disk work, snapshots, Table rows (list.c: at most 2) */
/* After raft has stopped, client connections get this long to go away. */
#define DRAIN_MS 500
/* A graceful stop waits at most this long for its identity Lease's delete. */
#define LEASE_RELEASE_MS 1000


/* A small text file's contents (new string), or NULL. */
static char *read_text_file(const char *path)
{
    if (path == NULL)
        return NULL;
    FILE *f = fopen(path, "r");
    if (f == NULL)
        return NULL;
    char *buf = malloc(65536);
    size_t n = buf ? fread(buf, 1, 65535, f) : 0;
    fclose(f);
    if (buf)
        buf[n] = '\0';
    return buf;
}

typedef struct daemon {
    tri_config_t cfg;
    uv_loop_t loop;
    tri_store_t *store;
    tri_node_t *node;
    tri_api_t *api;
    tri_http_t *http;
    tri_ctrl_manager_t *ctrl; /* leader loops: GC, namespaces, Events TTL */
    tri_sa_keys_t *sa_keys;   /* service-account token keys (NULL: none configured) */
    tri_authz_t *authz;       /* Node + RBAC authorizer; the leader keeps its default policy */
    tri_audit_t *audit;
    tri_encrypt_t *encryption; /* encryption at rest, NULL when not configured */
    tri_signer_t *signer;      /* cluster-signing CA until csrsigning takes it; NULL: none */
    tri_apiserver_lease_t *lease; /* identity Lease: the kubernetes Service's endpoints */
    int64_t signing_duration_s;
    uv_signal_t sigterm, sigint, sighup;
    uv_timer_t compact;
    uv_timer_t drain;
    tri_member_t members[MAX_MEMBERS];
    size_t n_members;
    int exit_code;
    bool stopping;
    bool leading;       /* leader loops running (after the leadership barrier) */
    unsigned ticks;
} daemon_t;

/* The daemon stays reachable from here until exit (see the end of main). */
static daemon_t *g_daemon;

/* A member's id from the join bundle's "name=hex,..." list; 0 if not listed
 * (initial members' ids are derived from the cluster id and name). */
static uint64_t join_id_of(const char *ids, const char *name)
{
    size_t nl = strlen(name);
    for (const char *p = ids; p != NULL && *p; p = strchr(p, ',') ? strchr(p, ',') + 1 : NULL)
        if (strncmp(p, name, nl) == 0 && p[nl] == '=')
            return strtoull(p + nl + 1, NULL, 16);
    return 0;
}

static int parse_members(daemon_t *d)
{
    char *list = strdup(d->cfg.initial_cluster);
    char *save = NULL;
    for (char *tok = strtok_r(list, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        char *eq = strchr(tok, '=');
        if (eq == NULL || d->n_members == MAX_MEMBERS || eq - tok >= 64 || strlen(eq + 1) >= 64) {
            fprintf(stderr, "triarchd: initial-cluster: bad member \"%s\" (want name=ip:port)\n",
                    tok);
            free(list);
            return -1;
        }
        tri_member_t *m = &d->members[d->n_members++];
        memset(m, 0, sizeof *m);
        memcpy(m->name, tok, (size_t)(eq - tok));
        snprintf(m->addr, sizeof m->addr, "%s", eq + 1);
        m->id = join_id_of(d->cfg.join_ids, m->name);
        if (m->id == 0)
            m->id = tri_member_id_derive(d->cfg.cluster_id, m->name);
    }
    free(list);
    for (size_t i = 0; i < d->n_members; i++)
        if (strcmp(d->members[i].name, d->cfg.name) == 0)
            return 0;
    fprintf(stderr, "triarchd: initial-cluster does not list this replica's name \"%s\"\n",
            d->cfg.name);
    return -1;
}

/* Reads encryption-provider-config before anything starts: a replica that cannot
 * read its keys must not serve (it would store Secrets in plaintext, or fail
 * every read of them). */
static int load_encryption(daemon_t *d)
{
    if (d->cfg.encryption_provider_config == NULL) {
        tri_warn("triarchd", "encryption at rest is off: Secrets are stored in plaintext",
                 "hint=\"set encryption-provider-config (triarch init writes one)\"");
        return 0;
    }
    char err[768];
    if (tri_encrypt_load(d->cfg.encryption_provider_config, &d->encryption, err, sizeof err) != 0) {
        fprintf(stderr, "triarchd: encryption-provider-config: %s\n", err);
        return -1;
    }
    char desc[512];
    tri_encrypt_describe(d->encryption, desc, sizeof desc);
    tri_info("triarchd", "encryption at rest", "file=%s providers=\"%s\"",
             d->cfg.encryption_provider_config, desc);
    return 0;
}

/* Reads the cluster-signing CA (the csrsigning controller's) before anything
 * starts: a replica told to sign with a key it cannot read must say so. */
static int load_signer(daemon_t *d)
{
    const char *cert = d->cfg.cluster_signing_cert_file, *key = d->cfg.cluster_signing_key_file;
    const char *dur = d->cfg.cluster_signing_duration;
    d->signing_duration_s = TRI_CSR_DEFAULT_DURATION_S;
    if (dur && (tri_duration_parse(dur, &d->signing_duration_s) != 0 ||
                d->signing_duration_s < TRI_CSR_MIN_EXPIRATION_S)) {
        fprintf(stderr, "triarchd: cluster-signing-duration: want a duration of at least 10m "
                        "such as 8760h or 24h, got \"%s\"\n", dur);
        return -1;
    }
    if (cert == NULL && key == NULL) {
        tri_info("triarchd", "CSR signing is off", "hint=\"set cluster-signing-cert-file and "
                 "cluster-signing-key-file (triarch init writes them)\"");
        return 0;
    }
    char err[512];
    if (cert == NULL || key == NULL) {
        fprintf(stderr, "triarchd: cluster-signing-cert-file and cluster-signing-key-file go "
                        "together: set both or neither\n");
        return -1;
    }
    if (tri_signer_load(cert, key, &d->signer, err, sizeof err) != 0) {
        fprintf(stderr, "triarchd: cluster-signing: %s\n", err);
        return -1;
    }
    tri_info("triarchd", "CSR signing", "cert=%s duration_s=%lld", cert,
             (long long)d->signing_duration_s);
    return 0;
}

/* Admission's own authorization questions (approving a CSR) go to the same chain
 * as the requests'. */
static enum tri_authz_decision authorize(void *data, const tri_authz_attrs_t *attrs, char *reason,
                                         size_t len)
{
    return tri_authz_check(data, attrs, reason, len);
}

static void on_leadership(tri_node_t *n, bool is_leader, void *data)
{
    daemon_t *d = data;
    tri_info("leader", is_leader ? "leader loops started" : "leader loops stopped", "name=%s",
             d->cfg.name);
    d->leading = is_leader;
    if (is_leader) {
        tri_api_ensure_defaults(d->api);
        tri_authz_ensure_defaults(d->authz, d->api);
        tri_ctrl_manager_start(d->ctrl);
    } else {
        tri_ctrl_manager_stop(d->ctrl);
    }
}

static void shutdown_daemon(daemon_t *d, int code);

static void on_removed(tri_node_t *n, void *data)
{
    daemon_t *d = data;
    (void)n;
    tri_error("triarchd", "this member was removed from the cluster; stopping",
              "name=%s hint=\"its data dir can be deleted; to come back, add it again with "
              "`triarch member add`\"",
              d->cfg.name);
    shutdown_daemon(d, 1);
}

static void on_compact(uv_timer_t *t)
{
    daemon_t *d = t->data;
    tri_store_compact_auto(d->store);
    if (d->leading && d->api != NULL && ++d->ticks % DEFAULTS_EVERY_TICKS == 0) {
        tri_api_ensure_defaults(d->api);
        tri_authz_ensure_defaults(d->authz, d->api);
    }
}

static void write_api_addr(daemon_t *d)
{
    char path[4096], tmp[4100];
    snprintf(path, sizeof path, "%s/api.addr", d->cfg.data_dir);
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    FILE *f = fopen(tmp, "w");
    if (f == NULL)
        return;
    if (d->cfg.api_listen) {
        char host[64];
        snprintf(host, sizeof host, "%s", d->cfg.api_listen);
        char *c = strrchr(host, ':');
        if (c)
            *c = '\0';
        fprintf(f, "https://%s:%d\n", host, tri_http_port(d->http, false));
    }
    if (d->cfg.api_listen_plain) {
        char host[64];
        snprintf(host, sizeof host, "%s", d->cfg.api_listen_plain);
        char *c = strrchr(host, ':');
        if (c)
            *c = '\0';
        fprintf(f, "http://%s:%d\n", host, tri_http_port(d->http, true));
    }
    fclose(f);
    rename(tmp, path);
}

/* The `kubernetes` Service: the leader's loop, and this replica's identity Lease
 * with its advertised API address (without an HTTPS listener there is none). */
static int start_kubernetes_service(daemon_t *d)
{
    char own[96] = "";
    if (d->cfg.api_listen)
        snprintf(own, sizeof own, "%s:%d", d->cfg.advertise_address,
                 tri_http_port(d->http, false));
    int rc = tri_ctrl_kubernetes_service_add(d->ctrl, own[0] ? own : NULL);
    if (rc != 0 || own[0] == '\0')
        return rc;
    tri_apiserver_lease_config_t lc = {.name = d->cfg.name,
                                       .address = own,
                                       .renew_s = (unsigned)d->cfg.identity_lease_renew_s,
                                       .duration_s = (unsigned)d->cfg.identity_lease_duration_s};
    return tri_apiserver_lease_start(&d->loop, d->api, &lc, &d->lease);
}

static void on_started(tri_node_t *n, int status, const char *errmsg, void *data)
{
    daemon_t *d = data;
    if (status != 0) {
        tri_error("triarchd", "refusing to start", "name=%s reason=\"%s\"", d->cfg.name,
                  errmsg ? errmsg : tri_strerror(status));
        fprintf(stderr, "triarchd: refusing to start: %s\n", errmsg ? errmsg : tri_strerror(status));
        shutdown_daemon(d, 1);
        return;
    }
    if (tri_authz_new(d->store, &d->authz) != 0) {
        shutdown_daemon(d, 1);
        return;
    }
    /* The namespace controller (controllers/namespace.c) empties Terminating namespaces. */
    tri_api_config_t acfg = {.namespace_lifecycle = true,
                             .encryption = d->encryption,
                             .authorize = authorize,
                             .authorize_data = d->authz,
                             .service_cidr = d->cfg.service_cluster_ip_range};
    tri_api_new(&d->loop, d->node, d->store, &acfg, &d->api);
    char err[512] = "";
    const char *sa_sign = d->cfg.sa_signing_key_file, *sa_verify = d->cfg.sa_key_file;
    if (((sa_sign && sa_sign[0]) || (sa_verify && sa_verify[0])) &&
        tri_sa_keys_load(sa_sign, sa_verify, &d->sa_keys, err, sizeof err) != 0) {
        fprintf(stderr, "triarchd: %s\n", err);
        tri_error("triarchd", "bad service-account key", "err=\"%s\"", err);
        shutdown_daemon(d, 2);
        return;
    }
    tri_http_config_t hc = {
        .name = d->cfg.name,
        .listen = d->cfg.api_listen,
        .listen_plain = d->cfg.api_listen_plain,
        .cert_file = d->cfg.tls_cert_file,
        .key_file = d->cfg.tls_key_file,
        .ca_file = d->cfg.client_ca_file ? d->cfg.client_ca_file : d->cfg.trusted_ca_file,
        .sa_keys = d->sa_keys,
        .authz = d->authz,
        .sa_issuer = d->cfg.sa_issuer ? d->cfg.sa_issuer : TRI_DEFAULT_SA_ISSUER,
        .api_audiences = d->cfg.api_audiences
                             ? d->cfg.api_audiences
                             : (d->cfg.sa_issuer ? d->cfg.sa_issuer : TRI_DEFAULT_SA_ISSUER),
        .max_inflight = (unsigned)d->cfg.max_requests_inflight,
        .max_watches = (unsigned)d->cfg.max_watches,
        .watch_heartbeat_ms = (unsigned)d->cfg.watch_heartbeat_ms,
        .watch_bookmark_ms = (unsigned)d->cfg.watch_bookmark_ms,
        .min_request_timeout_s = (unsigned)d->cfg.min_request_timeout_s,
    };
    /* Opened only now: the data dir must look empty to the node's identity check
     * on a first start, and a replica that refuses to start writes nothing. */
    if (tri_audit_start(d->audit, err, sizeof err) != 0) {
        fprintf(stderr, "triarchd: %s\n", err);
        tri_error("triarchd", "cannot open the audit log", "err=\"%s\"", err);
        shutdown_daemon(d, 2);
        return;
    }
    hc.audit = d->audit;
    if (tri_http_new(&d->loop, d->api, &hc, &d->http, err, sizeof err) != 0) {
        fprintf(stderr, "triarchd: %s\n", err);
        tri_error("triarchd", "cannot serve the API", "err=\"%s\"", err);
        shutdown_daemon(d, 2);
        return;
    }
    tri_ctrl_config_t cc = {.event_ttl_ms = d->cfg.event_ttl_s * 1000};
    char *root_ca = read_text_file(d->cfg.trusted_ca_file);
    int crc = tri_ctrl_manager_new(&d->loop, d->api, &cc, &d->ctrl);
    if (crc == 0)
        crc = tri_ctrl_add_defaults(d->ctrl);
    if (crc == 0)
        crc = tri_ctrl_serviceaccounts_add(d->ctrl, root_ca);
    if (crc == 0)
        crc = tri_ctrl_resourcequota_add(d->ctrl, d->cfg.resource_quota_sync_ms);
    free(root_ca);
    if (crc == 0)
        crc = tri_ctrl_tokencleaner_add(d->ctrl);
    if (crc == 0)
        crc = tri_ctrl_csrapproving_add(d->ctrl, d->authz);
    if (crc == 0 && d->signer) {
        crc = tri_ctrl_csrsigning_add(d->ctrl, d->signer, d->signing_duration_s);
        d->signer = NULL; /* the loop owns it now */
    }
    if (crc == 0)
        crc = start_kubernetes_service(d);
    if (crc != 0) {
        shutdown_daemon(d, 1);
        return;
    }
    tri_node_on_leadership(d->node, on_leadership, d);
    tri_node_on_removed(d->node, on_removed, d);
    write_api_addr(d);
    tri_info("triarchd", "serving", "name=%s https_port=%d plain_port=%d", d->cfg.name,
             tri_http_port(d->http, false), tri_http_port(d->http, true));
}

static void on_drained(uv_timer_t *t)
{
    daemon_t *d = t->data;
    uv_close((uv_handle_t *)&d->sigterm, NULL);
    uv_close((uv_handle_t *)&d->sigint, NULL);
    uv_close((uv_handle_t *)&d->sighup, NULL);
    uv_close((uv_handle_t *)&d->compact, NULL);
    uv_close((uv_handle_t *)&d->drain, NULL);
    uv_stop(&d->loop);
}

static void on_node_closed(tri_node_t *n, void *data)
{
    daemon_t *d = data;
    uv_timer_start(&d->drain, on_drained, DRAIN_MS, 0);
}

static void on_http_closed(tri_http_t *h, void *data)
{
    daemon_t *d = data;
    tri_node_close(d->node, on_node_closed, d);
}

static void close_server(void *data)
{
    daemon_t *d = data;
    tri_apiserver_lease_close(d->lease);
    if (d->http)
        tri_http_close(d->http, on_http_closed, d);
    else
        tri_node_close(d->node, on_node_closed, d);
}

static void shutdown_daemon(daemon_t *d, int code)
{
    if (d->stopping)
        return;
    d->stopping = true;
    d->exit_code = code;
    if (d->ctrl)
        tri_ctrl_manager_close(d->ctrl);
    if (d->lease && code == 0) /* graceful: leave the kubernetes endpoints first */
        tri_apiserver_lease_release(d->lease, LEASE_RELEASE_MS, close_server, d);
    else
        close_server(d);
}

/* SIGHUP: serve the certificate and key files as they are now (after `triarch
 * certs renew`) to new connections, API and peer alike; open ones keep the one they
 * negotiated. */
static void on_sighup(uv_signal_t *s, int signum)
{
    daemon_t *d = s->data;
    char err[512] = "";
    const char *perr = NULL;
    if (d->node != NULL && tri_node_reload_peer_tls(d->node, &perr) != 0)
        tri_error("triarchd", "peer certificate not reloaded; the old one stays", "err=\"%s\"",
                  perr ? perr : "?");
    else if (d->node != NULL && d->cfg.peer_cert_file != NULL)
        tri_info("triarchd", "peer certificate reloaded", "cert=%s", d->cfg.peer_cert_file);
    if (d->http == NULL || d->cfg.api_listen == NULL)
        return;
    if (tri_http_reload_tls(d->http, err, sizeof err) != 0)
        tri_error("triarchd", "serving certificate not reloaded; the old one stays", "err=\"%s\"",
                  err);
    else
        tri_info("triarchd", "serving certificate reloaded", "cert=%s", d->cfg.tls_cert_file);
}

static void on_signal(uv_signal_t *s, int signum)
{
    daemon_t *d = s->data;
    tri_info("triarchd", "stopping", "signal=%d", signum);
    shutdown_daemon(d, 0);
}

/* Settings and policy are checked before anything starts (a bad policy: exit 2). */
static int make_audit(daemon_t *d)
{
    char path[4096], err[512] = "";
    if (d->cfg.audit_log_path == NULL)
        snprintf(path, sizeof path, "%s/audit.log", d->cfg.data_dir);
    tri_audit_config_t ac = {
        .policy_file = d->cfg.audit_policy_file,
        .level = d->cfg.audit_level,
        .path = d->cfg.audit_log_path ? d->cfg.audit_log_path : path,
        .max_size = d->cfg.audit_log_maxsize,
        .max_age_days = (unsigned)d->cfg.audit_log_maxage,
        .max_backups = (unsigned)d->cfg.audit_log_maxbackup,
    };
    if (tri_audit_new(&ac, &d->audit, err, sizeof err) != 0) {
        fprintf(stderr, "triarchd: %s\n", err);
        return -1;
    }
    return 0;
}

static int open_node(daemon_t *d)
{
    tri_store_opts_t so = {
        .quota_bytes = d->cfg.quota_backend_bytes,
        .history_events = d->cfg.history_events,
        .history_ms = d->cfg.history_seconds * 1000,
    };
    if (tri_store_new(&so, &d->store) != 0)
        return -1;
    mkdir(d->cfg.data_dir, 0700);
    tri_node_config_t nc = {
        .name = d->cfg.name,
        .cluster_id = d->cfg.cluster_id,
        .data_dir = d->cfg.data_dir,
        .peer_addr = d->cfg.peer_listen,
        .members = d->members,
        .n_members = d->n_members,
        .state = d->cfg.initial_cluster_state && !strcmp(d->cfg.initial_cluster_state, "existing")
                     ? TRI_CLUSTER_EXISTING
                     : TRI_CLUSTER_NEW,
        .election_timeout_ms = (unsigned)d->cfg.election_timeout_ms,
        .heartbeat_ms = (unsigned)d->cfg.heartbeat_ms,
        .snapshot_threshold = (unsigned)d->cfg.snapshot_threshold,
        .snapshot_trailing = (unsigned)d->cfg.snapshot_trailing,
        .bootstrap_wait_ms = (unsigned)d->cfg.bootstrap_wait_ms,
        .peer_cert_file = d->cfg.peer_cert_file,
        .peer_key_file = d->cfg.peer_key_file,
        .peer_trusted_ca_file = d->cfg.peer_trusted_ca_file,
        .peer_insecure_plaintext = d->cfg.peer_insecure_plaintext &&
                                   strcmp(d->cfg.peer_insecure_plaintext, "true") == 0,
        .join_id = d->cfg.join_id,
    };
    const char *errmsg = NULL;
    int rc = tri_node_new(&d->loop, d->store, &nc, &d->node, &errmsg);
    if (rc != 0) {
        fprintf(stderr, "triarchd: refusing to start: %s\n", errmsg ? errmsg : tri_strerror(rc));
        return rc == TRI_EINVAL ? -2 : -1;
    }
    return tri_node_start(d->node, on_started, d) == 0 ? 0 : -1;
}

int main(int argc, char **argv)
{
    daemon_t *d = calloc(1, sizeof *d);
    int rc = tri_config_load(&d->cfg, argc, argv);
    if (rc != 0) {
        if (rc == 1)
            tri_config_usage(stdout);
        tri_config_free(&d->cfg);
        free(d);
        return rc == 1 ? 0 : 2;
    }
    if (d->cfg.log_level) {
        static const char *const lv[] = {"debug", "info", "warn", "error"};
        for (int i = 0; i < 4; i++)
            if (!strcmp(d->cfg.log_level, lv[i]))
                tri_log_set_level((enum tri_log_level)i);
    }
    if (parse_members(d) != 0 || make_audit(d) != 0 || load_encryption(d) != 0 ||
        load_signer(d) != 0) {
        tri_audit_free(d->audit);
        tri_encrypt_free(d->encryption);
        tri_signer_free(d->signer);
        tri_config_free(&d->cfg);
        free(d);
        return 2;
    }
    signal(SIGPIPE, SIG_IGN); /* RAFT.md: followers died with 141 when a leader was killed */
    setenv("UV_THREADPOOL_SIZE", UV_POOL_SIZE, 0);
    uv_loop_init(&d->loop);
    uv_signal_init(&d->loop, &d->sigterm);
    uv_signal_init(&d->loop, &d->sigint);
    uv_signal_init(&d->loop, &d->sighup);
    d->sigterm.data = d->sigint.data = d->sighup.data = d;
    uv_signal_start(&d->sigterm, on_signal, SIGTERM);
    uv_signal_start(&d->sigint, on_signal, SIGINT);
    uv_signal_start(&d->sighup, on_sighup, SIGHUP);
    uv_timer_init(&d->loop, &d->compact);
    d->compact.data = d;
    uv_timer_init(&d->loop, &d->drain);
    d->drain.data = d;
    uv_timer_start(&d->compact, on_compact, COMPACT_PERIOD_MS, COMPACT_PERIOD_MS);
    rc = open_node(d);
    if (rc != 0) {
        d->exit_code = 1;
        uv_close((uv_handle_t *)&d->sigterm, NULL);
        uv_close((uv_handle_t *)&d->sigint, NULL);
        uv_close((uv_handle_t *)&d->sighup, NULL);
        uv_close((uv_handle_t *)&d->compact, NULL);
        uv_close((uv_handle_t *)&d->drain, NULL);
    }
    g_daemon = d;
    uv_run(&d->loop, UV_RUN_DEFAULT);
    uv_run(&d->loop, UV_RUN_NOWAIT); /* let the close callbacks run */
    int code = d->exit_code;
    /* h2o's context is left to the exit, still reachable through g_daemon: h2o
     * asserts when disposed while any timer entry of a past connection remains,
     * and nothing of it outlives the process anyway. */
    tri_debug("triarchd", "loop ended", "connections=%zu",
              d->http ? tri_http_connections(d->http) : 0);
    tri_ctrl_manager_free(d->ctrl);
    tri_apiserver_lease_free(d->lease);
    tri_api_free(d->api);
    tri_sa_keys_free(d->sa_keys);
    tri_authz_free(d->authz); /* its watches go before the store */
    if (d->node)
        tri_node_free(d->node);
    tri_store_free(d->store);
    /* last: every request disposed of while the loop ran has queued its event */
    tri_audit_free(d->audit);
    tri_encrypt_free(d->encryption);
    tri_signer_free(d->signer);
    tri_config_free(&d->cfg);
    return code;
}
