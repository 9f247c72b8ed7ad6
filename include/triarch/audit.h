/* The audit log: one audit.k8s.io/v1 Event per line, as kube-apiserver writes them.
 *
 * Three parts, usable apart:
 *   - the policy (audit.k8s.io/v1 Policy subset): which requests are recorded and at
 *     which level, evaluated on the same attributes as the authorizer
 *     (tri_authz_attrs_t), first matching rule wins;
 *   - the event: a struct the HTTP layer fills and tri_audit_event_format turns into
 *     one JSON line;
 *   - the log (tri_audit_t): serializes on the caller's thread (the event loop) and
 *     hands the line to ONE writer thread of its own through a bounded queue; that
 *     thread writes, rotates by size and deletes backups by count and age (the
 *     lumberjack rules kube-apiserver uses). A full queue (disk stalled) drops the
 *     event and counts it: the loop never waits for the disk (kube-apiserver's
 *     "batch" mode trade-off, see docs/security.md).
 *
 * The HTTP glue (server/http/audit.c, internal.h) attaches a record to each request
 * and emits its events when the response completes.
 *
 * Ownership: tri_audit_new allocates; tri_audit_free drains the queue (every event
 * accepted is written), joins the writer thread and frees. Policies are owned by the
 * tri_audit_t they were given to, or freed with tri_audit_policy_free. */
#ifndef TRIARCH_AUDIT_H
#define TRIARCH_AUDIT_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "triarch/auth.h"
#include "triarch/util.h"

/* Levels, in order: each records what the one before it does, and more. */
typedef enum tri_audit_level {
    TRI_AUDIT_NONE = 0,     /* nothing */
    TRI_AUDIT_METADATA = 1, /* who, what, when, outcome; no bodies */
    TRI_AUDIT_REQUEST = 2,  /* + requestObject (the decoded request body of writes) */
} tri_audit_level_t;

/* Stages, as bits (omitStages). triarch emits ResponseStarted (long-running requests:
 * watches, when the stream opens) and ResponseComplete; RequestReceived and Panic are
 * accepted in omitStages and never emitted. */
enum tri_audit_stage {
    TRI_AUDIT_STAGE_REQUEST_RECEIVED = 1 << 0,
    TRI_AUDIT_STAGE_RESPONSE_STARTED = 1 << 1,
    TRI_AUDIT_STAGE_RESPONSE_COMPLETE = 1 << 2,
    TRI_AUDIT_STAGE_PANIC = 1 << 3,
};
const char *tri_audit_stage_name(enum tri_audit_stage s);
const char *tri_audit_level_name(tri_audit_level_t l);

/* ---------- policy ---------- */

typedef struct tri_audit_policy tri_audit_policy_t;

/* Parses a Policy (YAML or JSON): apiVersion audit.k8s.io/v1 (or v1beta1), kind
 * Policy, omitStages, omitManagedFields, rules[] of {level, users, userGroups, verbs,
 * resources[{group, resources, resourceNames}], namespaces, nonResourceURLs,
 * omitStages, omitManagedFields}. Unknown fields, unknown levels or stages, and
 * level RequestResponse (response bodies are not recorded) are refused: returns
 * TRI_EINVAL and a message naming the rule and field in err. */
int tri_audit_policy_parse(const char *text, size_t len, tri_audit_policy_t **out, char *err,
                           size_t errlen);
/* The built-in policy used without a policy file: health probes (/livez, /readyz,
 * /healthz and below) at None, then everything at `level`. */
tri_audit_policy_t *tri_audit_policy_default(tri_audit_level_t level);
void tri_audit_policy_free(tri_audit_policy_t *p);

/* The level for a request and the stages to leave out (bits of tri_audit_stage).
 * Secrets, tokenreviews and serviceaccounts/token are capped at Metadata whatever the
 * rules say: their bodies carry credentials. A request no rule matches: None. */
tri_audit_level_t tri_audit_policy_eval(const tri_audit_policy_t *p, const tri_authz_attrs_t *a,
                                        unsigned *omit_stages, bool *omit_managed_fields);
/* The highest level any rule gives: NONE means nothing will ever be recorded. */
tri_audit_level_t tri_audit_policy_max_level(const tri_audit_policy_t *p);
size_t tri_audit_policy_rules(const tri_audit_policy_t *p);
/* Whether a request on this resource may never be recorded above Metadata. */
bool tri_audit_capped(const char *api_group, const char *resource, const char *subresource);

/* ---------- request attributes ---------- */

/* What a request is about, from its method, path and query alone (Kubernetes'
 * RequestInfoFactory): resource requests under /api and /apis get verb, namespace,
 * group, version, resource, subresource and name; everything else is a non-resource
 * request whose verb is the lowercased method. Strings live in `buf`. */
typedef struct tri_audit_reqinfo {
    bool resource_request;
    char verb[24];
    char api_group[128];
    char api_version[32];
    char namespace_[256];
    char resource[128];
    char subresource[64];
    char name[256];
    char path[512]; /* the path without the query, cut at 511 bytes */
} tri_audit_reqinfo_t;

void tri_audit_reqinfo_parse(const char *method, size_t mlen, const char *path, size_t plen,
                             tri_audit_reqinfo_t *out);

/* ---------- events ---------- */

typedef struct tri_audit_event {
    tri_audit_level_t level;
    enum tri_audit_stage stage;
    const char *audit_id;
    const char *request_uri;
    const tri_audit_reqinfo_t *info;
    const tri_user_t *user; /* NULL or an empty name: system:anonymous */
    const char *source_ip;  /* NULL: none known */
    const char *user_agent; /* NULL: none sent */
    int code;               /* response status code */
    const char *reason;     /* failures (code >= 400): the Status reason and message */
    const char *message;
    int64_t received_us; /* Unix time, microseconds */
    int64_t stage_us;
    double latency_ms;
    const json_t *request_object; /* level Request only; NULL: none */
} tri_audit_event_t;

/* Appends the event as one JSON object and a newline. */
int tri_audit_event_format(const tri_audit_event_t *ev, tri_buf_t *out);

/* ---------- the log ---------- */

typedef struct tri_audit tri_audit_t;

typedef struct tri_audit_config {
    const char *policy_file; /* NULL: the built-in policy at `level` */
    const char *level;       /* None | Metadata | Request; NULL: Metadata */
    const char *path;        /* file, or "-" for stdout; required */
    const char *max_size;    /* "100" (MB), "0.5", "64KiB", "10MB"...; NULL: 100 MB */
    unsigned max_age_days;   /* backups older are deleted; 0: 30 */
    unsigned max_backups;    /* backups kept; 0: 10 */
    size_t queue_events;     /* bounded queue; 0: 10000 (kube-apiserver's batch buffer) */
    size_t queue_bytes;      /* 0: 64 MiB */
} tri_audit_config_t;

/* Parses the policy and the settings; opens nothing. TRI_EINVAL with a message
 * naming the setting (and the policy's rule) in err. */
int tri_audit_new(const tri_audit_config_t *cfg, tri_audit_t **out, char *err, size_t errlen);
/* Opens the file (creating its directory, mode 0700; the file 0600), deletes expired
 * backups and starts the writer thread. Nothing is opened when the policy records
 * nothing. TRI_EIO with a message in err. */
int tri_audit_start(tri_audit_t *a, char *err, size_t errlen);
const tri_audit_policy_t *tri_audit_get_policy(const tri_audit_t *a);
/* Whether anything can be recorded (started, and the policy is not all None). */
bool tri_audit_enabled(const tri_audit_t *a);
bool tri_audit_wants_bodies(const tri_audit_t *a);

/* A fresh random (version 4) UUID for an event's auditID, from a buffer of
 * getrandom bytes refilled every 256 IDs (one syscall per request adds up). */
void tri_audit_new_id(tri_audit_t *a, char out[37]);

/* Formats and queues an event; never blocks on the disk. Returns 0, or TRI_EUNAVAIL
 * when the queue was full and the event was dropped (counted, warned about at most
 * every 10 s). */
int tri_audit_emit(tri_audit_t *a, const tri_audit_event_t *ev);

typedef struct tri_audit_stats {
    uint64_t events;       /* queued */
    uint64_t dropped;      /* queue full */
    uint64_t written;      /* on disk (written by the writer thread) */
    uint64_t write_errors; /* events lost to write errors (ENOSPC, EIO) */
    uint64_t rotations;
} tri_audit_stats_t;
void tri_audit_get_stats(const tri_audit_t *a, tri_audit_stats_t *st);

/* Drains the queue, syncs and closes the file, joins the writer; NULL is fine. */
void tri_audit_free(tri_audit_t *a);

/* Size settings: a number of megabytes (fractions allowed: "0.01"), or a number
 * with a unit K, KB, KiB, M, MB, MiB, G, GB, GiB (binary multiples, as lumberjack's
 * megabyte is 1024*1024 bytes). Returns 0 and *bytes > 0, or TRI_EINVAL. */
int tri_audit_parse_size(const char *s, uint64_t *bytes);

#endif
