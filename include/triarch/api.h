/* The Kubernetes object model and the typed client over raft + store.
 *
 * Resources are described once in a registry (tri_resource_t): group, version,
 * kind, names, scope, verbs, validation, Table columns and the field selectors
 * they support. The typed client (tri_api_*) runs every operation with Kubernetes
 * semantics on top of tri_node_t (writes, consistent reads) and tri_store_t (local
 * reads, watches): the HTTP layer, the scheduler and the controllers all use it.
 *
 * Objects are jansson trees. Stored values are the object's compact JSON without
 * metadata.resourceVersion; it is spliced in on the way out from the key's
 * mod_revision, so a read need not re-encode the object.
 *
 * Errors are Kubernetes Status objects (tri_status_t): code, reason, message,
 * details; the HTTP layer sends them as they are.
 */
#ifndef TRIARCH_API_H
#define TRIARCH_API_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "triarch/auth.h"
#include "triarch/encrypt.h"
#include "triarch/raft.h"
#include "triarch/store.h"
#include "triarch/util.h"

/* Limits, from Kubernetes and etcd defaults. */
#define TRI_MAX_OBJECT_BYTES (1536 * 1024)      /* etcd's --max-request-bytes 1.5 MiB */
#define TRI_MAX_BODY_BYTES (3 * 1024 * 1024)    /* kube-apiserver's request body limit */

/* ---------- Status ---------- */

typedef struct tri_status {
    int code;            /* HTTP code; 0 = success */
    const char *reason;  /* NotFound, AlreadyExists, Conflict, Invalid, ... */
    char message[512];
    char kind[64];       /* details.kind (plural resource or kind) */
    char name[256];      /* details.name */
    char group[64];      /* details.group */
    json_t *causes;      /* details.causes array, owned (may be NULL) */
    int retry_after;     /* seconds, for 429/504 hints; 0 = none */
} tri_status_t;

void tri_status_clear(tri_status_t *st);
void tri_status_set(tri_status_t *st, int code, const char *reason, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* Appends {reason, message, field} to details.causes (Invalid). */
void tri_status_add_cause(tri_status_t *st, const char *reason, const char *field,
                          const char *fmt, ...) __attribute__((format(printf, 4, 5)));
/* Maps a TRI_E* code from the store or raft to its Status. */
void tri_status_from_code(tri_status_t *st, int code, const char *what);
/* The Status object as JSON (new reference). */
json_t *tri_status_json(const tri_status_t *st);

/* ---------- registry ---------- */

typedef struct tri_resource tri_resource_t;
typedef struct tri_api tri_api_t;

/* Extra preconditions and operations a resource adds to the txn of a create, update
 * or delete (allocators: a Service's ClusterIP and NodePorts are keys created in the
 * same txn as the Service). Keys and values are copied in; the client proposes and
 * frees them. */
#define TRI_TXN_BUILDER_MAX 16
typedef struct tri_txn_builder {
    tri_cmp_t cmps[TRI_TXN_BUILDER_MAX];
    size_t n_cmps;
    tri_op_t ops[TRI_TXN_BUILDER_MAX];
    size_t n_ops;
    char *owned[2 * TRI_TXN_BUILDER_MAX]; /* copies of keys and values */
    size_t n_owned;
    unsigned attempt; /* 0 on the first try; >0 after one of these cmps failed */
} tri_txn_builder_t;

/* Each returns 0, or TRI_ENOMEM / TRI_ETOOBIG when the builder is full. */
int tri_txn_builder_absent(tri_txn_builder_t *b, const char *key, size_t len);
/* key must still have mod_revision mod_rev (ResourceQuota charges). */
int tri_txn_builder_modrev(tri_txn_builder_t *b, const char *key, size_t len, int64_t mod_rev);
int tri_txn_builder_put(tri_txn_builder_t *b, const char *key, size_t klen, const char *val,
                        size_t vlen);
int tri_txn_builder_delete(tri_txn_builder_t *b, const char *key, size_t len);
void tri_txn_builder_reset(tri_txn_builder_t *b);

typedef struct tri_column {
    const char *name;
    const char *type;   /* string, integer, date */
    const char *format; /* "name", "" */
    const char *description;
    int priority;       /* 0 always, 1 with -o wide */
} tri_column_t;

struct tri_resource {
    const char *group;     /* "" for core */
    const char *version;
    const char *kind;
    const char *list_kind;
    const char *plural;
    const char *singular;
    const char *short_names[4];
    const char *categories[4];
    bool namespaced;
    bool has_status;
    /* Create-only and never stored (SubjectAccessReview and the like): only POST to
     * the collection, answered by the HTTP layer. */
    bool review;
    /* Members of spec that neither Table cells nor field selectors read: cut out of
     * the stored bytes before a list parses them (tri_object_load_lean). */
    const char *lean_skip[4];
    /* Table columns after NAME (AGE is added by tri_table_*); with table_all_columns
     * the columns are the whole row (no implicit NAME and AGE: events). */
    bool table_all_columns;
    const tri_column_t *columns;
    size_t n_columns;
    /* Table cells for one object, matching columns (new reference, a JSON array). */
    json_t *(*cells)(const json_t *obj);
    /* Kind-specific validation on create/update (old NULL on create). */
    void (*validate)(const json_t *obj, const json_t *old, tri_status_t *st);
    /* Kind-specific defaulting and normalisation before validation. */
    void (*prepare)(json_t *obj, const json_t *old);
    /* Field selector fields beyond metadata.name / metadata.namespace. */
    const char *fields[16];
    /* Top-level fields of the kind besides apiVersion, kind, metadata; others are
     * unknown (dropped, or 400 under fieldValidation=Strict). */
    const char *known_fields[20];
    /* Subresources listed in discovery besides status: "scale", "binding",
     * "eviction", "log", "exec", "attach", "portforward", "proxy", "token",
     * "finalize", "ephemeralcontainers". status and scale and binding and finalize
     * are served by the client; the streaming ones answer 503 until agents serve
     * them. */
    const char *subresources[10];
    /* The scale subresource (autoscaling/v1 Scale): dotted paths in the object. */
    const char *scale_replicas;        /* "spec.replicas" */
    const char *scale_status_replicas; /* "status.replicas" */
    const char *scale_selector;        /* "spec.selector": a LabelSelector object */
    /* metadata.generation starts at 1 and is bumped when anything but metadata and
     * status changes (resources with a spec, as Kubernetes does). */
    bool has_generation;
    /* Pods: DELETE with a grace period marks deletionTimestamp and
     * deletionGracePeriodSeconds instead of removing (the agent finishes it). */
    bool graceful_delete;
    /* Txn hooks (see tri_txn_builder_t). on_create/on_update may change obj (e.g.
     * fill spec.clusterIP); they are called again with b->attempt > 0 when one of
     * their preconditions failed (pick another value). on_delete releases. */
    int (*on_create)(tri_api_t *api, json_t *obj, tri_txn_builder_t *b, tri_status_t *st);
    int (*on_update)(tri_api_t *api, json_t *obj, const json_t *old, tri_txn_builder_t *b,
                     tri_status_t *st);
    void (*on_delete)(tri_api_t *api, const json_t *obj, tri_txn_builder_t *b);
    /* Another served version of a resource stored as `storage` (e.g. autoscaling/v1
     * HPAs stored as autoscaling/v2): conversions of a whole object, new reference.
     * NULL storage: this row is the storage version. */
    const tri_resource_t *storage;
    json_t *(*to_storage)(const json_t *obj);
    json_t *(*from_storage)(const json_t *obj);
    /* Kind-specific rules for an update through subresource (NULL: the main
     * resource) over old, run instead of the generic status rules when it returns
     * true (CertificateSigningRequest: spec is immutable, /approval changes only
     * status.conditions, /status keeps the approval conditions). */
    bool (*update_strategy)(json_t *obj, const json_t *old, const char *subresource);
};

/* All registered resources, in discovery order. */
const tri_resource_t *const *tri_registry_all(size_t *n);
const tri_resource_t *tri_registry_find(const char *group, const char *version,
                                        const char *plural);
/* "/registry/<group or core>/<plural>/" plus "<ns>/" when ns given. */
void tri_registry_prefix(const tri_resource_t *r, const char *ns, tri_buf_t *out);
void tri_registry_key(const tri_resource_t *r, const char *ns, const char *name, tri_buf_t *out);
/* "v1" or "apps/v1" */
void tri_resource_api_version(const tri_resource_t *r, char *out, size_t len);

/* ---------- objects ---------- */

/* Output JSON of a stored value with metadata.resourceVersion = rev spliced in.
 * Appends to out. */
int tri_object_render(const tri_val_t *stored, int64_t rev, tri_buf_t *out);
int tri_object_render_bytes(const char *data, size_t len, int64_t rev, tri_buf_t *out);
/* Parsed object with resourceVersion set (new reference), NULL on bad stored data. */
json_t *tri_object_load(const tri_val_t *stored, int64_t rev);
/* Encodes an object for storage: compact, kind/apiVersion/metadata first, no
 * metadata.resourceVersion. */
int tri_object_encode(const json_t *obj, tri_buf_t *out);
/* The same for a resource that may be served as another version than it is stored
 * (r->storage): conversions applied on the way in and out. */
json_t *tri_object_load_as(const tri_resource_t *r, const tri_val_t *stored, int64_t rev);
/* A value read from the store (kv) as an object: decrypted when its resource is
 * encrypted at rest. NULL when it does not open or parse (logged). */
json_t *tri_api_load_stored(const tri_api_t *api, const tri_resource_t *r, const tri_kv_t *kv);
/* The object (r, ns, name) in this replica's store, decrypted and parsed (new
 * reference), or NULL when absent. */
json_t *tri_api_lookup(tri_api_t *api, const tri_resource_t *r, const char *ns,
                       const char *name);
/* Whether (r, ns, name) is in this replica's store (no parse). */
bool tri_api_exists(tri_api_t *api, const tri_resource_t *r, const char *ns, const char *name);
/* As tri_object_load_as, without metadata.managedFields and the resource's
 * lean_skip spec members (for Tables and filters). */
json_t *tri_object_load_lean(const tri_resource_t *r, const tri_val_t *stored, int64_t rev);
/* Only what a metadata informer reads: {"apiVersion", "kind", "metadata"} with r's
 * served apiVersion and kind, metadata.resourceVersion = rev, no managedFields.
 * Parses the stored bytes' metadata member alone (the rest is skipped unparsed);
 * NULL when the bytes are not an object with a metadata object. */
json_t *tri_object_load_meta(const tri_resource_t *r, const tri_val_t *stored, int64_t rev);
int tri_object_render_as(const tri_resource_t *r, const char *data, size_t len, int64_t rev,
                         tri_buf_t *out);
int tri_object_encode_as(const tri_resource_t *r, const json_t *obj, tri_buf_t *out);
/* Value of a dotted field path as a string ("" if missing), for field selectors. */
const char *tri_object_field(const json_t *obj, const char *path, char *tmp, size_t tmplen);

/* ---------- the typed client ---------- */

typedef struct tri_api_config {
    unsigned max_guaranteed_update_retries; /* 0: 16 */
    uint64_t event_ttl_ms;                  /* reserved for Events */
    /* Namespaces go Terminating on delete and a leader loop empties them (set when the
     * namespace controller runs); false: a namespace and its content go in one txn. */
    bool namespace_lifecycle;
    /* Encryption at rest (--encryption-provider-config), owned by the caller and
     * kept alive as long as the api; NULL: values are stored as they are. */
    const tri_encrypt_t *encryption;
    /* The authorizer, for the checks admission makes beyond the request's own verb
     * (approving a CSR needs "approve" on its signer, setting its certificate
     * "sign"); NULL: such checks deny. */
    enum tri_authz_decision (*authorize)(void *data, const tri_authz_attrs_t *attrs,
                                         char *reason, size_t len);
    void *authorize_data;
    /* --service-cluster-ip-range: the IPv4 CIDR Service ClusterIPs come from; its
     * first address is the `kubernetes` Service's alone. NULL: 10.96.0.0/12. Every
     * replica must be given the same. Borrowed; outlives the api. */
    const char *service_cidr;
} tri_api_config_t;

int tri_api_new(uv_loop_t *loop, tri_node_t *node, tri_store_t *store,
                const tri_api_config_t *cfg, tri_api_t **out);
void tri_api_free(tri_api_t *api);
tri_store_t *tri_api_store(tri_api_t *api);
tri_node_t *tri_api_node(tri_api_t *api);

/* Asks cfg.authorize (DENY when there is none). */
enum tri_authz_decision tri_api_authorize(const tri_api_t *api, const tri_authz_attrs_t *attrs,
                                          char *reason, size_t len);

/* The service CIDR (cfg.service_cidr or the default), and its first address: the
 * ClusterIP of the `kubernetes` Service in `default` (res_services.c). */
const char *tri_api_service_cidr(const tri_api_t *api);
int tri_api_kubernetes_service_ip(const tri_api_t *api, char *out, size_t len);
/* Whether s is an IPv4 CIDR a service range can be (at least 4 addresses). */
bool tri_service_cidr_valid(const char *s);

/* Ensure the built-in namespaces exist (leader-side, idempotent). */
void tri_api_ensure_defaults(tri_api_t *api);

enum tri_rv_match { TRI_RV_DEFAULT = 0, TRI_RV_NOT_OLDER = 1, TRI_RV_EXACT = 2 };

typedef struct tri_list_opts {
    const char *label_selector;
    const char *field_selector;
    const char *resource_version; /* NULL/"" = consistent, "0" = any, N */
    enum tri_rv_match rv_match;
    const char *continue_token;
    long limit;                   /* 0 = none */
} tri_list_opts_t;

/* One asynchronous operation. The caller allocates it (zeroed), sets data, keeps
 * it alive until cb fires once. On success status.code == 0 and the result is in
 * `body` (rendered JSON: the object, or a list) and/or `obj`; on failure status is
 * set. The caller calls tri_api_op_release() after the callback to free results. */
typedef struct tri_api_op tri_api_op_t;
typedef void (*tri_api_cb)(tri_api_op_t *op);

/* DeleteOptions, as Kubernetes has them. */
enum tri_propagation {
    TRI_PROPAGATE_DEFAULT = 0, /* the resource's default: Background */
    TRI_PROPAGATE_BACKGROUND,  /* delete now; the garbage collector deletes dependents */
    TRI_PROPAGATE_FOREGROUND,  /* "foregroundDeletion" finalizer: dependents go first */
    TRI_PROPAGATE_ORPHAN,      /* "orphan" finalizer: dependents lose the ownerReference */
};

typedef struct tri_delete_opts {
    const char *precondition_uid;   /* may be NULL */
    const char *precondition_rv;    /* may be NULL */
    enum tri_propagation propagation;
    long grace_period_seconds;      /* -1: unset */
    bool dry_run;
} tri_delete_opts_t;

enum tri_patch_type {
    TRI_PATCH_MERGE = 1,
    TRI_PATCH_JSON = 2,
    TRI_PATCH_STRATEGIC = 3,
    TRI_PATCH_APPLY = 4,
};

struct tri_api_op {
    void *data;
    tri_status_t status;
    int http_code;          /* 200 or 201 on success */
    tri_buf_t body;         /* rendered JSON result */
    json_t *obj;            /* parsed result (object or list), may be NULL */
    int64_t revision;       /* of the result */
    /* Set by the caller before a list: also return the parsed items (leader loops). */
    bool want_items;
    /* Set by the caller before a list: body is a meta.k8s.io/v1 Table, not a list. */
    bool want_table;
    /* Set by the caller: "status" or "scale" for get/update/patch of that
     * subresource (status writes change only status; main writes keep status; scale
     * reads and writes an autoscaling/v1 Scale). NULL: the main resource. */
    const char *subresource;
    /* Set by leader loops: propose with a local raft_apply only (TRI_ENOTLEADER /
     * 503 on a replica that is not leader), never through the forwarding path. */
    bool leader_only;
    /* Set by the caller: who asks (admission: NodeRestriction); NULL for the
     * server's own writes (leader loops). */
    const struct tri_user *user;
    /* Set by the caller: the field manager for managedFields (fieldManager). */
    const char *field_manager;
    bool force;             /* server-side apply: take ownership of conflicting fields */
    tri_delete_opts_t delete_opts;
    tri_txn_builder_t builder;
    int hook_cmp0;          /* index of the first hook precondition in the last txn */
    /* Set by the caller before create/update: fieldValidation=Strict rejects unknown
     * fields with 400; otherwise they are dropped and listed in `warnings`. */
    bool strict_fields;
    tri_buf_t warnings;     /* "unknown field \"x\"" lines, '\n'-separated */
    json_t *items;          /* parsed items (array) when want_items */
    json_t *list_meta;      /* the list's metadata (resourceVersion, continue) */
    /* private */
    tri_api_t *api;
    tri_api_cb cb;
    const tri_resource_t *res;
    char ns[256];
    char name[256];
    int kind;
    int attempts;
    int admit_waits;        /* create: waits for a default service account so far */
    json_t *input;          /* body for create/update, patch document */
    enum tri_patch_type patch_type;
    bool dry_run;
    bool has_client_rv;
    bool generated_name;
    int64_t client_rv;
    int64_t read_rev;
    json_t *current;
    tri_list_opts_t lopts;
    char *lopts_store;      /* owned copies of lopts strings */
    tri_propose_t prop;
    tri_waiter_t waiter;
    tri_buf_t key;
    tri_buf_t val;          /* the encoded object (plaintext) */
    tri_buf_t sealed;       /* val as stored, when its resource is encrypted at rest */
    struct tri_list_run *list_run; /* a list being read in slices (list.c) */
    bool canceled;
    struct tri_api_op *next_pending;
    int quota_cmp0;         /* first ResourceQuota precondition in builder; -1: none */
    int quota_attempts;     /* retries after another write charged the same quota */
    struct tri_quota_lane *quota_lane;     /* held or waited for (quota_lane.c) */
    struct tri_api_op *quota_lane_next;    /* next waiting in that lane */
    void (*quota_lane_resume)(struct tri_api_op *op);
};

void tri_api_op_release(tri_api_op_t *op);
/* Cancel: the callback still fires (with 0 or an error) but the caller may treat
 * its result as dropped; used when the HTTP client went away. */
void tri_api_op_cancel(tri_api_op_t *op);

/* rv: NULL/"" = consistent read; "0" = local; N = not older than N. */
int tri_api_get(tri_api_t *api, tri_api_op_t *op, const tri_resource_t *r, const char *ns,
                const char *name, const char *rv, tri_api_cb cb);
int tri_api_list(tri_api_t *api, tri_api_op_t *op, const tri_resource_t *r, const char *ns,
                 const tri_list_opts_t *opts, tri_api_cb cb);
/* create takes the caller's reference to obj (the object is changed in place);
 * update and patch copy theirs. */
int tri_api_create(tri_api_t *api, tri_api_op_t *op, const tri_resource_t *r, const char *ns,
                   json_t *obj, bool dry_run, tri_api_cb cb);
int tri_api_update(tri_api_t *api, tri_api_op_t *op, const tri_resource_t *r, const char *ns,
                   const char *name, const json_t *obj, bool dry_run, tri_api_cb cb);
int tri_api_patch(tri_api_t *api, tri_api_op_t *op, const tri_resource_t *r, const char *ns,
                  const char *name, enum tri_patch_type type, const json_t *patch,
                  bool dry_run, tri_api_cb cb);
/* An object with finalizers (or deleted with Foreground/Orphan propagation) is not
 * removed: it gets metadata.deletionTimestamp and stays until an update leaves its
 * finalizers empty. A namespace becomes Terminating (spec.finalizers "kubernetes")
 * and is emptied by the namespace controller. */
int tri_api_delete(tri_api_t *api, tri_api_op_t *op, const tri_resource_t *r, const char *ns,
                   const char *name, const tri_delete_opts_t *opts, tri_api_cb cb);
int tri_api_delete_collection(tri_api_t *api, tri_api_op_t *op, const tri_resource_t *r,
                              const char *ns, const tri_list_opts_t *opts, bool dry_run,
                              tri_api_cb cb);

/* ---------- watches ---------- */

typedef struct tri_api_watch tri_api_watch_t;

enum tri_watch_event_type {
    TRI_WATCH_ADDED = 1,
    TRI_WATCH_MODIFIED,
    TRI_WATCH_DELETED,
    TRI_WATCH_BOOKMARK,
    TRI_WATCH_ERROR,
};

/* Events are pulled: on_ready fires when tri_api_watch_next may return something. */
typedef void (*tri_api_watch_ready_cb)(tri_api_watch_t *w, void *data);

typedef struct tri_api_watch_opts {
    const char *label_selector;
    const char *field_selector;
    const char *resource_version; /* ""/NULL/"0": current state as ADDED then live */
    bool send_initial_events;     /* implied when rv is ""/"0" */
    /* The consumer takes stored bytes (tri_api_event_t.raw) when no selector or
     * version conversion needs the parsed object: a watcher then costs a copy per
     * event, not a JSON parse and encode (1,000 watchers of one stream). */
    bool raw_ok;
    /* The consumer reads only apiVersion, kind and metadata (as Kubernetes' metadata
     * informers): events carry tri_object_load_meta objects, so the rest of each
     * object is never parsed. Ignored with a field selector. */
    bool metadata_only;
} tri_api_watch_opts_t;

/* Starts a watch. Synchronous errors (bad selector 400) are returned in st with
 * a negative code. A resourceVersion not reached yet is waited for (bounded);
 * then on_ready fires and next() yields events or an ERROR (410 Expired or 504). */
int tri_api_watch_start(tri_api_t *api, const tri_resource_t *r, const char *ns,
                        const char *name, const tri_api_watch_opts_t *opts,
                        tri_api_watch_ready_cb cb, void *data, tri_api_watch_t **out,
                        tri_status_t *st);

typedef struct tri_api_event {
    enum tri_watch_event_type type;
    json_t *obj;      /* the object (ERROR: a Status); owned by the caller */
    int64_t revision;
    /* raw_ok watches: instead of obj, the stored object and the resourceVersion to
     * render it with (tri_object_render); a reference owned by the caller. */
    tri_val_t *raw;
    int64_t raw_rev;
} tri_api_event_t;

/* 1 with an event, 0 when none is pending, negative when the watch has ended
 * (after the ERROR event, if any, was returned). */
int tri_api_watch_next(tri_api_watch_t *w, tri_api_event_t *ev);
/* A BOOKMARK object at the current progress revision (new reference). */
json_t *tri_api_watch_bookmark(tri_api_watch_t *w);
void tri_api_watch_stop(tri_api_watch_t *w);
size_t tri_api_watch_count(tri_api_t *api);

/* ---------- Table ---------- */

/* A meta.k8s.io/v1 Table for a list of objects (array) or one object. */
/* Streaming Tables for lists: one row appended per object (the object's
 * managedFields are removed: it is the caller's scratch copy), then the Table
 * around the comma-joined rows. */
void tri_table_row_append(const tri_resource_t *r, json_t *obj, tri_buf_t *rows);
void tri_table_render(const tri_resource_t *r, const json_t *list_meta, const tri_buf_t *rows,
                      tri_buf_t *out);
json_t *tri_table_for_object(const tri_resource_t *r, const json_t *obj);
/* How long ago an RFC 3339 timestamp was, as kubectl prints ages ("5m", "3d4h");
 * "<unknown>" for NULL or unparsable. */
void tri_table_age(const char *rfc3339, char *out, size_t len);
/* A duration in seconds as kubectl prints it (apimachinery's HumanDuration). */
void tri_human_duration(long long seconds, char *out, size_t len);

#endif
