/* Private header of the `triarch` admin CLI: the cluster description that `init`
 * writes to D/cluster.json and every other command reads back, and the helpers the
 * subcommand files share (PKI, HTTPS probes, process control, file output).
 *
 * Layout of a cluster directory D:
 *   D/cluster.json              cluster id, members (name, id, peer, api), lb
 *   D/pki/ca.{crt,key}          cluster CA (key 0600)
 *   D/pki/<name>.{crt,key}      each replica's serving + peer certificate
 *   D/pki/admin.{crt,key}       admin client certificate (O=system:masters)
 *   D/pki/sa.{key,pub}          service-account token signing key (RSA; key 0600)
 *   D/pki/apiserver-kubelet-client.{crt,key}  the API server's client cert toward agents
 *   D/pki/encryption.yaml       encryption-at-rest keys (EncryptionConfiguration, 0600)
 *   D/<name>/triarchd.yaml      the replica's config; data in D/<name>/data
 *   D/<name>/triarchd.{log,pid} written by `cluster up`
 *   D/haproxy.{cfg,pid,log}     the load balancer, written by `cluster up`
 *   D/kubeconfig                admin kubeconfig pointing at the load balancer
 */
#ifndef TRIARCH_TOOLS_CLI_H
#define TRIARCH_TOOLS_CLI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdint.h>
#include <sys/types.h>

#include <curl/curl.h>
#include <jansson.h>

#include "triarch/util.h"

/* A cluster is 1..TRI_MAX_MEMBERS replicas; Raft clusters beyond 9 voters make no sense. */
#define TRI_MAX_MEMBERS 9
/* Extra --san entries accepted by init. */
#define TRI_MAX_SANS 16
/* DNS-1123 label limit (RFC 1123). */
#define TRI_NAME_MAX 63
/* "255.255.255.255:65535" plus room. */
#define TRI_ADDR_MAX 32
#define TRI_PATH_MAX 4096

typedef struct tri_member {
    char name[TRI_NAME_MAX + 1];
    uint64_t id;
    char peer[TRI_ADDR_MAX]; /* ip:port for Raft */
    char api[TRI_ADDR_MAX];  /* ip:port for HTTPS */
} tri_member_t;

typedef struct tri_cluster {
    char dir[TRI_PATH_MAX]; /* absolute path of D */
    char id[37];            /* UUID v4 */
    tri_member_t members[TRI_MAX_MEMBERS];
    size_t n_members;
    char lb[TRI_ADDR_MAX]; /* ip:port of the load balancer, "" when none */
    const char *sans[TRI_MAX_SANS];
    size_t n_sans;
} tri_cluster_t;

/* ---- init.c: members, ids, cluster.json, per-replica config ---- */

/* FNV-1a 64 of "<cluster-id>/<name>", 0 mapped to 1: the id triarchd derives too. */
uint64_t tri_member_id(const char *cluster_id, const char *name);
/* Parses "r1=ip:port,r2=..." into c->members (names and addresses validated). */
int tri_members_parse(tri_cluster_t *c, const char *spec, char *err, size_t errlen);
/* Applies "r1=ip:port,..." API addresses to already parsed members. */
int tri_members_parse_api(tri_cluster_t *c, const char *spec, char *err, size_t errlen);
/* Checks "ip:port" with an IPv4 literal and a port in 1..65535. */
int tri_addr_check(const char *addr);
/* 1 when [s, s+len) is a DNS-1123 label, else 0. */
int tri_name_check(const char *s, size_t len);
/* Writes D/cluster.json from c. */
int tri_cluster_json_write(const tri_cluster_t *c);
/* Writes D/<name>/triarchd.yaml: a member of the initial cluster (join NULL), or one
 * added later that starts from the join bundle at `join`. */
int tri_member_yaml_write(const tri_cluster_t *c, const tri_member_t *m, const char *join);
/* Creates cluster id, PKI, cluster.json and per-member configs in c->dir. */
int tri_cluster_init(tri_cluster_t *c);
/* Loads D/cluster.json into c (c->dir = absolute D). TRI_ENOENT when absent. */
int tri_cluster_load(const char *dir, tri_cluster_t *c);
int tri_cmd_init(int argc, char **argv);

/* ---- pki.c: OpenSSL 3 key material ---- */

/* Writes pki/ca, pki/<member> and pki/admin certificates and keys under c->dir. */
int tri_pki_create(const tri_cluster_t *c);
/* Issues pki/<m->name>.{crt,key}, a replica certificate, with the CA in c->dir/pki. */
int tri_pki_issue_member(const tri_cluster_t *c, const tri_member_t *m);
/* PEM readers; NULL when the file is missing or not PEM. */
struct x509_st *tri_pki_read_cert(const char *path);
struct evp_pkey_st *tri_pki_read_key(const char *path);

/* ---- encryption.c: the encryption-at-rest key file ---- */

/* An EncryptionConfiguration for secrets: one fresh aesgcm key named key_name,
 * identity last. */
int tri_encryption_config_render(const char *key_name, tri_buf_t *out);
/* Writes it to D/pki/encryption.yaml, mode 0600. */
int tri_encryption_config_create(const tri_cluster_t *c);

/* ---- kube.c: the kubeconfig client ---- */

/* A client of the API with a kubeconfig's credentials (kube.c), over libcurl's easy
 * interface: one handle, so requests share one connection. JSON in and out. */
typedef struct tri_kube {
    CURL *h;
    char server[1024];
    tri_buf_t ca, cert, key; /* PEM bytes (from *-data or files) */
    char token[4096];
    struct curl_slist *headers;
} tri_kube_t;

/* Reads server, CA, client certificate/key (files or *-data) or token of the
 * current context. Messages printed; 0 or a TRI_E* code. */
int tri_kubeconfig_load(const char *path, tri_kube_t *kc);
int tri_kube_open(tri_kube_t *kc);
void tri_kube_close(tri_kube_t *kc);
/* One request (body NULL: none); *resp gets the parsed JSON answer (NULL if not
 * JSON). Returns the HTTP status, or 0 when no answer came (message printed). */
long tri_kube_do(tri_kube_t *kc, const char *method, const char *path, const char *body,
                 json_t **resp);
/* A Status answer's message, or "(no message)". */
const char *tri_kube_message(json_t *resp);

/* ---- secrets.c: `triarch secrets reencrypt` ---- */

int tri_cmd_secrets(int argc, char **argv);

/* ---- token.c, certs.c: `triarch token create`, `triarch certs check|renew` ---- */

int tri_cmd_token(int argc, char **argv);
int tri_cmd_certs(int argc, char **argv);

/* ---- member.c: `triarch member list|add|remove|promote|transfer-leadership` ---- */

int tri_cmd_member(int argc, char **argv);

/* ---- http.c: HTTPS GET with libcurl, verifying with the cluster CA ---- */

/* GETs url with D/pki/ca.crt as the only trust anchor and the admin client
 * certificate. Fills *status (0 when no answer) and, if body is non-NULL, the body
 * (NUL terminated). Returns 0 when an HTTP answer came, TRI_EIO otherwise. */
int tri_http_get(const tri_cluster_t *c, const char *url, long timeout_ms, long *status,
                 tri_buf_t *body);
/* The same with a method and an optional JSON body. */
int tri_http_do(const tri_cluster_t *c, const char *method, const char *url, const char *json,
                long timeout_ms, long *status, tri_buf_t *body);

/* ---- proc.c: pid files and daemons ---- */

/* Reads a pid file; returns the pid when that process is alive and its command line
 * contains `expect` (guards against a recycled pid), else 0. */
pid_t tri_pidfile_alive(const char *path, const char *expect);
/* Forks a session leader running argv with stdout/stderr appended to log_path. */
int tri_proc_spawn(char *const argv[], const char *log_path, pid_t *pid);
/* Finds an executable: in bin_dir if given, next to /proc/self/exe, then $PATH. */
int tri_proc_find_binary(const char *name, const char *bin_dir, char *out, size_t outlen);
/* Prints the last `lines` lines of a file to stderr, indented. */
void tri_file_tail(const char *path, int lines);

/* ---- files.c: small file helpers ---- */

int tri_mkdir_p(const char *path, mode_t mode);
/* Writes data to path atomically (tmp + rename) with the given mode. */
int tri_file_write(const char *path, const void *data, size_t len, mode_t mode);
int tri_file_read(const char *path, tri_buf_t *out); /* NUL terminated */
int tri_file_exists(const char *path);
int tri_rm_rf(const char *path);
void tri_sleep_ms(long ms);
/* snprintf into a fixed buffer; TRI_EINVAL when the result would be truncated. */
int tri_path(char *out, size_t outlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* ---- kubeconfig.c ---- */

int tri_kubeconfig_render(const tri_cluster_t *c, tri_buf_t *out);
int tri_cmd_kubeconfig(int argc, char **argv);

/* ---- cluster.c / haproxy.c ---- */

int tri_haproxy_render(const tri_cluster_t *c, tri_buf_t *out);
/* Renders D/haproxy.cfg from c; starts haproxy when `start` and it is not running,
 * reloads it softly (-sf) when it runs and the servers changed. */
int tri_haproxy_sync(const tri_cluster_t *c, bool start);
int tri_cmd_cluster(int argc, char **argv);

/* Prints "triarch: <msg>" to stderr. */
void tri_cli_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Parses the `--dir D` (and --help) of a command that takes nothing else.
 * Returns -1 with *dir set to go on, or the exit code to return (0 after --help,
 * 2 on a usage error, with the usage printed). */
int tri_cli_dir_only(int argc, char **argv, const char *what, void (*usage)(FILE *),
                     const char **dir);

#endif
