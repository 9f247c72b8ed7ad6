/* triarchd's configuration: one table of settings, each settable in the YAML file
 * (`--config`) under its flag's name and by the flag itself (flags win). */
#ifndef TRIARCH_SERVER_CONFIG_H
#define TRIARCH_SERVER_CONFIG_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

typedef struct tri_config {
    char *config_file;
    char *name;
    char *data_dir;
    char *peer_listen;
    char *api_listen;
    char *api_listen_plain;
    char *initial_cluster;
    char *initial_cluster_state;
    char *cluster_id;
    char *tls_cert_file;
    char *tls_key_file;
    char *trusted_ca_file;
    char *client_ca_file;
    char *sa_signing_key_file;
    char *sa_key_file;
    char *sa_issuer;
    char *api_audiences;
    char *join;
    char *log_level;
    /* peer TLS (raft/chan.c, docs/adr/0005-peer-tls.md) */
    char *peer_cert_file;
    char *peer_key_file;
    char *peer_trusted_ca_file;
    char *peer_insecure_plaintext; /* "true" | "false" */
    uint64_t election_timeout_ms;
    uint64_t heartbeat_ms;
    uint64_t snapshot_threshold;
    uint64_t snapshot_trailing;
    uint64_t max_requests_inflight;
    uint64_t max_watches;
    uint64_t quota_backend_bytes;
    uint64_t history_events;
    uint64_t history_seconds;
    uint64_t watch_heartbeat_ms;
    uint64_t watch_bookmark_ms;
    uint64_t min_request_timeout_s;
    uint64_t bootstrap_wait_ms;
    uint64_t event_ttl_s;
    /* audit log (docs/security.md#audit) */
    char *audit_log_path;
    char *audit_policy_file;
    char *audit_level;
    char *audit_log_maxsize;
    uint64_t audit_log_maxage;
    uint64_t audit_log_maxbackup;
    /* encryption at rest */
    char *encryption_provider_config;
    /* admission: ResourceQuota (docs/security.md#admission-limitranger-and-resourcequota) */
    uint64_t resource_quota_sync_ms;
    /* certificates: the csrsigning controller's CA (docs/security.md#joining-agents) */
    char *cluster_signing_cert_file;
    char *cluster_signing_key_file;
    char *cluster_signing_duration;
    /* the `kubernetes` Service (docs/triarchd.md#the-kubernetes-service): resolved
     * to their defaults by tri_config_load */
    char *service_cluster_ip_range;
    char *advertise_address;
    uint64_t identity_lease_duration_s;
    uint64_t identity_lease_renew_s;
    /* from the join bundle (join.c), not settings */
    char *join_ids;   /* "name=hex id,..." of the members listed in the bundle */
    uint64_t join_id; /* this member's id */
} tri_config_t;

/* Parses argv (and the YAML file it names). On error prints a message naming the
 * setting to stderr and returns -1 (exit 2); returns 1 for --help. */
int tri_config_load(tri_config_t *c, int argc, char **argv);
/* Whether a setting has a value; sets it to val only when it has none (0), -1 for
 * an unknown setting or a bad value. */
bool tri_config_is_set(const tri_config_t *c, const char *name);
int tri_config_default(tri_config_t *c, const char *name, const char *val);
/* --join BUNDLE (join.c): unset settings and key material from the bundle. */
int tri_join_apply(tri_config_t *c);
void tri_config_free(tri_config_t *c);
void tri_config_usage(FILE *f);

#endif
