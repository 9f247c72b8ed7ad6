/* Configuration from a YAML file (libyaml) and flags. One table lists every
 * setting once: its flag/key name, its type and where it lands, so the file, the
 * flags and --help never disagree. Unknown keys and bad values are refused with
 * a message that names the setting. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "config.h"
#include "triarch/api.h"

enum opt_type { T_STR, T_U64 };

/* kube-apiserver's default --service-cluster-ip-range. */
#define DEFAULT_SERVICE_CIDR "10.96.0.0/12"
/* kube-apiserver's endpoint reconciler keeps a replica's address 15 s after its
 * last renewal; renewing every 5 s survives two missed renewals. */
#define DEFAULT_IDENTITY_LEASE_DURATION_S 15
#define DEFAULT_IDENTITY_LEASE_RENEW_S 5
#define MAX_IDENTITY_LEASE_S 86400

typedef struct opt {
    const char *name;
    enum opt_type type;
    size_t off;
    const char *help;
} opt_t;

#define S(n, f, h) {n, T_STR, offsetof(tri_config_t, f), h}
#define U(n, f, h) {n, T_U64, offsetof(tri_config_t, f), h}

static const opt_t opts[] = {
    S("name", name, "this replica's member name (DNS-1123 label)"),
    S("data-dir", data_dir, "directory for the Raft log, snapshots and identity"),
    S("peer-listen", peer_listen, "IPv4 ip:port for Raft and replica-to-replica traffic"),
    S("api-listen", api_listen, "IPv4 ip:port for the HTTPS API (port 0: any)"),
    S("api-listen-plain", api_listen_plain, "loopback ip:port for plain HTTP/1.1 + h2c (tests)"),
    S("initial-cluster", initial_cluster, "name=ip:port,... of the initial members"),
    S("initial-cluster-state", initial_cluster_state, "new | existing"),
    S("cluster-id", cluster_id, "cluster id made by `triarch init`"),
    S("tls-cert-file", tls_cert_file, "serving certificate (PEM)"),
    S("tls-key-file", tls_key_file, "serving key (PEM)"),
    S("trusted-ca-file", trusted_ca_file, "cluster CA certificate (PEM)"),
    S("client-ca-file", client_ca_file, "CA for x509 client certificates (default: trusted-ca-file)"),
    S("service-account-signing-key-file", sa_signing_key_file,
      "RSA private key (PEM) that signs service-account tokens"),
    S("service-account-key-file", sa_key_file,
      "comma-separated PEM keys that verify service-account tokens (default: the signing key)"),
    S("service-account-issuer", sa_issuer,
      "iss of service-account tokens (default https://kubernetes.default.svc.cluster.local)"),
    S("api-audiences", api_audiences,
      "comma-separated audiences a token must name one of (default: the issuer)"),
    S("join", join, "join bundle made by `triarch member add`"),
    S("log-level", log_level, "debug | info | warn | error"),
    U("election-timeout-ms", election_timeout_ms, "Raft election timeout (default 300)"),
    U("heartbeat-ms", heartbeat_ms, "Raft heartbeat interval (default 50)"),
    U("snapshot-threshold", snapshot_threshold, "entries between snapshots (default 8192)"),
    U("snapshot-trailing", snapshot_trailing, "entries kept after a snapshot (default 4096)"),
    U("max-requests-inflight", max_requests_inflight, "short requests in flight (default 400)"),
    U("max-watches", max_watches, "open watches per replica (default 8192)"),
    U("quota-backend-bytes", quota_backend_bytes, "store size quota (default 2 GiB)"),
    U("history-events", history_events, "watch/history window in events (default 100000)"),
    U("history-seconds", history_seconds, "watch/history window in seconds (default 300)"),
    U("watch-heartbeat-ms", watch_heartbeat_ms, "idle watch heartbeat (default 15000)"),
    U("watch-bookmark-ms", watch_bookmark_ms, "bookmark interval (default 60000)"),
    U("min-request-timeout", min_request_timeout_s, "watch lifetime floor, s (default 1800)"),
    U("bootstrap-wait-ms", bootstrap_wait_ms, "wait for all peers at bootstrap (default 60000)"),
    U("event-ttl", event_ttl_s, "seconds an Event is kept (default 3600)"),
    S("audit-log-path", audit_log_path, "audit log file, \"-\" = stdout (default DATA-DIR/audit.log)"),
    S("audit-policy-file", audit_policy_file, "audit.k8s.io/v1 Policy (default: audit-level)"),
    S("audit-level", audit_level, "None | Metadata | Request without a policy (default Metadata)"),
    S("audit-log-maxsize", audit_log_maxsize, "rotate at this size: MB, or 64KiB, 10MB (default 100)"),
    U("audit-log-maxage", audit_log_maxage, "days audit backups are kept (default 30)"),
    U("audit-log-maxbackup", audit_log_maxbackup, "audit backups kept (default 10)"),
    /* encryption at rest */
    S("encryption-provider-config", encryption_provider_config,
      "EncryptionConfiguration file: encrypts Secrets at rest (AES-256-GCM)"),
    U("resource-quota-sync-ms", resource_quota_sync_ms,
      "interval of the full ResourceQuota usage recount (default 300000)"),
    /* peer TLS: every replica-to-replica connection is mutual TLS */
    S("peer-cert-file", peer_cert_file, "this replica's peer certificate (PEM; CN = its name)"),
    S("peer-key-file", peer_key_file, "key of peer-cert-file (PEM)"),
    S("peer-trusted-ca-file", peer_trusted_ca_file, "the only CA peers' certificates may chain to"),
    S("peer-insecure-plaintext", peer_insecure_plaintext,
      "true: peer traffic unencrypted and unauthenticated (tests only; default false)"),
    /* certificates (CertificateSigningRequests) */
    S("cluster-signing-cert-file", cluster_signing_cert_file,
      "CA certificate (PEM) that signs approved CSRs (unset: no signing)"),
    S("cluster-signing-key-file", cluster_signing_key_file,
      "key of cluster-signing-cert-file (PEM)"),
    S("cluster-signing-duration", cluster_signing_duration,
      "longest certificate issued for a CSR, Go duration (default 8760h)"),
    /* the `kubernetes` Service and this replica's identity Lease */
    S("service-cluster-ip-range", service_cluster_ip_range,
      "IPv4 CIDR of Service ClusterIPs; its first IP is the kubernetes Service's (default "
      DEFAULT_SERVICE_CIDR ")"),
    S("advertise-address", advertise_address,
      "IPv4 address this replica's API is reached at, listed in the kubernetes Service's "
      "endpoints (default: api-listen's IP, or peer-listen's when that is 0.0.0.0)"),
    U("identity-lease-duration-seconds", identity_lease_duration_s,
      "a replica whose identity Lease is older than this leaves the kubernetes endpoints "
      "(default 15)"),
    U("identity-lease-renew-interval-seconds", identity_lease_renew_s,
      "how often each replica renews its identity Lease (default 5)"),
};

static const opt_t *find_opt(const char *name)
{
    for (size_t i = 0; i < sizeof opts / sizeof opts[0]; i++)
        if (strcmp(opts[i].name, name) == 0)
            return &opts[i];
    return NULL;
}

static int set_opt(tri_config_t *c, const opt_t *o, const char *val, const char *where)
{
    void *slot = (char *)c + o->off;
    if (o->type == T_STR) {
        char **s = slot;
        free(*s);
        *s = strdup(val);
        return 0;
    }
    char *end;
    errno = 0;
    unsigned long long v = strtoull(val, &end, 10);
    if (errno || *end != '\0' || val[0] == '\0' || val[0] == '-') {
        fprintf(stderr, "triarchd: %s: %s must be a non-negative integer, got \"%s\"\n", where,
                o->name, val);
        return -1;
    }
    *(uint64_t *)slot = v;
    return 0;
}

bool tri_config_is_set(const tri_config_t *c, const char *name)
{
    const opt_t *o = find_opt(name);
    if (o == NULL)
        return false;
    if (o->type == T_STR)
        return *(char *const *)((const char *)c + o->off) != NULL;
    return *(const uint64_t *)((const char *)c + o->off) != 0;
}

int tri_config_default(tri_config_t *c, const char *name, const char *val)
{
    const opt_t *o = find_opt(name);
    if (o == NULL)
        return -1;
    if (tri_config_is_set(c, name))
        return 0;
    return set_opt(c, o, val, "join bundle");
}

void tri_config_usage(FILE *f)
{
    fprintf(f, "usage: triarchd [--config FILE.yaml] [--SETTING VALUE]...\n\nsettings (flags; the "
               "same names are keys in the YAML file; flags win):\n");
    for (size_t i = 0; i < sizeof opts / sizeof opts[0]; i++)
        fprintf(f, "  --%-24s %s\n", opts[i].name, opts[i].help);
}

/* A flat mapping of scalar keys to scalar values. */
static int load_yaml(tri_config_t *c, const char *path)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        fprintf(stderr, "triarchd: config: cannot open %s: %s\n", path, strerror(errno));
        return -1;
    }
    yaml_parser_t p;
    yaml_document_t doc;
    yaml_parser_initialize(&p);
    yaml_parser_set_input_file(&p, f);
    int rc = -1;
    if (!yaml_parser_load(&p, &doc)) {
        fprintf(stderr, "triarchd: config: %s: line %zu: %s\n", path, p.problem_mark.line + 1,
                p.problem ? p.problem : "parse error");
        goto out;
    }
    yaml_node_t *root = yaml_document_get_root_node(&doc);
    if (root == NULL) {
        rc = 0; /* empty file */
        goto out_doc;
    }
    if (root->type != YAML_MAPPING_NODE) {
        fprintf(stderr, "triarchd: config: %s: the top level must be a mapping of settings\n", path);
        goto out_doc;
    }
    for (yaml_node_pair_t *pr = root->data.mapping.pairs.start; pr < root->data.mapping.pairs.top;
         pr++) {
        yaml_node_t *k = yaml_document_get_node(&doc, pr->key);
        yaml_node_t *v = yaml_document_get_node(&doc, pr->value);
        if (k->type != YAML_SCALAR_NODE || v->type != YAML_SCALAR_NODE) {
            fprintf(stderr, "triarchd: config: %s: line %zu: settings are scalar key: value pairs\n",
                    path, k->start_mark.line + 1);
            goto out_doc;
        }
        const char *key = (const char *)k->data.scalar.value;
        const opt_t *o = find_opt(key);
        if (o == NULL) {
            fprintf(stderr, "triarchd: config: %s: line %zu: unknown setting \"%s\"\n", path,
                    k->start_mark.line + 1, key);
            goto out_doc;
        }
        if (set_opt(c, o, (const char *)v->data.scalar.value, path) != 0)
            goto out_doc;
    }
    rc = 0;
out_doc:
    yaml_document_delete(&doc);
out:
    yaml_parser_delete(&p);
    fclose(f);
    return rc;
}

/* Secure by default: peer TLS unless plaintext is asked for in so many words. */
static int require_peer_tls(const tri_config_t *c)
{
    const char *pl = c->peer_insecure_plaintext ? c->peer_insecure_plaintext : "false";
    if (strcmp(pl, "true") != 0 && strcmp(pl, "false") != 0) {
        fprintf(stderr, "triarchd: peer-insecure-plaintext must be \"true\" or \"false\", got "
                        "\"%s\"\n", pl);
        return -1;
    }
    if (strcmp(pl, "true") == 0 || (c->peer_cert_file && c->peer_key_file &&
                                    c->peer_trusted_ca_file))
        return 0;
    fprintf(stderr, "triarchd: peer traffic needs peer-cert-file, peer-key-file and "
                    "peer-trusted-ca-file (written by `triarch init`); set "
                    "peer-insecure-plaintext: true to run without peer TLS (insecure)\n");
    return -1;
}

/* The IP of "ip:port" into out (INET_ADDRSTRLEN), or "" when s is NULL. */
static void host_of(const char *s, char *out, size_t len)
{
    out[0] = '\0';
    if (s == NULL)
        return;
    snprintf(out, len, "%s", s);
    char *colon = strrchr(out, ':');
    if (colon)
        *colon = '\0';
}

static bool is_ipv4(const char *s)
{
    struct in_addr a;
    return inet_pton(AF_INET, s, &a) == 1;
}

/* The kubernetes Service's settings: checked, then resolved to their defaults. */
static int resolve_kubernetes_service(tri_config_t *c)
{
    if (c->service_cluster_ip_range == NULL)
        c->service_cluster_ip_range = strdup(DEFAULT_SERVICE_CIDR);
    if (!tri_service_cidr_valid(c->service_cluster_ip_range)) {
        fprintf(stderr, "triarchd: service-cluster-ip-range must be an IPv4 CIDR of at least 4 "
                        "addresses such as 10.96.0.0/12, got \"%s\"\n",
                c->service_cluster_ip_range);
        return -1;
    }
    if (c->identity_lease_duration_s == 0)
        c->identity_lease_duration_s = DEFAULT_IDENTITY_LEASE_DURATION_S;
    if (c->identity_lease_renew_s == 0)
        c->identity_lease_renew_s = DEFAULT_IDENTITY_LEASE_RENEW_S;
    if (c->identity_lease_duration_s > MAX_IDENTITY_LEASE_S ||
        c->identity_lease_renew_s >= c->identity_lease_duration_s) {
        fprintf(stderr, "triarchd: identity-lease-renew-interval-seconds (%llu) must be shorter "
                        "than identity-lease-duration-seconds (%llu, at most %d): a lease must be "
                        "renewed before it expires\n",
                (unsigned long long)c->identity_lease_renew_s,
                (unsigned long long)c->identity_lease_duration_s, MAX_IDENTITY_LEASE_S);
        return -1;
    }
    char ip[INET_ADDRSTRLEN + 8];
    if (c->advertise_address == NULL) {
        host_of(c->api_listen ? c->api_listen : c->api_listen_plain, ip, sizeof ip);
        if (strcmp(ip, "0.0.0.0") == 0 || !is_ipv4(ip))
            host_of(c->peer_listen, ip, sizeof ip);
        c->advertise_address = strdup(ip);
    }
    if (!is_ipv4(c->advertise_address) || strcmp(c->advertise_address, "0.0.0.0") == 0) {
        fprintf(stderr, "triarchd: advertise-address must be an IPv4 address other than 0.0.0.0 "
                        "(set it when api-listen and peer-listen are both 0.0.0.0), got \"%s\"\n",
                c->advertise_address);
        return -1;
    }
    return 0;
}

static int require(tri_config_t *c)
{
    static const char *const req[] = {"name", "data-dir", "peer-listen", "initial-cluster",
                                      "cluster-id"};
    for (size_t i = 0; i < sizeof req / sizeof req[0]; i++) {
        const opt_t *o = find_opt(req[i]);
        if (*(char **)((char *)c + o->off) == NULL) {
            fprintf(stderr, "triarchd: missing required setting %s (see --help)\n", req[i]);
            return -1;
        }
    }
    if (c->api_listen == NULL && c->api_listen_plain == NULL) {
        fprintf(stderr, "triarchd: missing required setting api-listen (see --help)\n");
        return -1;
    }
    if (c->api_listen && c->client_ca_file == NULL && c->trusted_ca_file == NULL) {
        fprintf(stderr, "triarchd: api-listen needs client-ca-file (or trusted-ca-file): "
                        "clients authenticate with certificates of that CA\n");
        return -1;
    }
    if (c->api_listen && (c->tls_cert_file == NULL || c->tls_key_file == NULL)) {
        fprintf(stderr, "triarchd: api-listen needs tls-cert-file and tls-key-file "
                        "(made by `triarch init`)\n");
        return -1;
    }
    if (c->api_listen_plain && strncmp(c->api_listen_plain, "127.", 4) != 0) {
        fprintf(stderr, "triarchd: api-listen-plain must be a loopback address (127.0.0.0/8): "
                        "plain HTTP carries no credentials, got \"%s\"\n",
                c->api_listen_plain);
        return -1;
    }
    if (require_peer_tls(c) != 0)
        return -1;
    const char *st = c->initial_cluster_state ? c->initial_cluster_state : "new";
    if (strcmp(st, "new") != 0 && strcmp(st, "existing") != 0) {
        fprintf(stderr, "triarchd: initial-cluster-state must be \"new\" or \"existing\", got "
                        "\"%s\"\n", st);
        return -1;
    }
    return resolve_kubernetes_service(c);
}

int tri_config_load(tri_config_t *c, int argc, char **argv)
{
    memset(c, 0, sizeof *c);
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0)
            return 1;
        if (strcmp(argv[i], "--config") == 0 && i + 1 < argc)
            c->config_file = strdup(argv[++i]);
        else if (strncmp(argv[i], "--config=", 9) == 0)
            c->config_file = strdup(argv[i] + 9);
    }
    if (c->config_file && load_yaml(c, c->config_file) != 0)
        return -1;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strncmp(a, "--", 2) != 0) {
            fprintf(stderr, "triarchd: unexpected argument \"%s\" (see --help)\n", a);
            return -1;
        }
        char name[64];
        const char *eq = strchr(a, '=');
        size_t n = eq ? (size_t)(eq - a - 2) : strlen(a + 2);
        if (n >= sizeof name) {
            fprintf(stderr, "triarchd: unknown flag %s\n", a);
            return -1;
        }
        memcpy(name, a + 2, n);
        name[n] = '\0';
        const char *val = eq ? eq + 1 : (i + 1 < argc ? argv[++i] : NULL);
        if (strcmp(name, "config") == 0)
            continue;
        const opt_t *o = find_opt(name);
        if (o == NULL) {
            fprintf(stderr, "triarchd: unknown flag --%s (see --help)\n", name);
            return -1;
        }
        if (val == NULL) {
            fprintf(stderr, "triarchd: flag --%s needs a value\n", name);
            return -1;
        }
        if (set_opt(c, o, val, "flags") != 0)
            return -1;
    }
    if (c->join && tri_join_apply(c) != 0)
        return -1;
    return require(c);
}

void tri_config_free(tri_config_t *c)
{
    for (size_t i = 0; i < sizeof opts / sizeof opts[0]; i++)
        if (opts[i].type == T_STR)
            free(*(char **)((char *)c + opts[i].off));
    free(c->config_file);
    free(c->join_ids);
}
