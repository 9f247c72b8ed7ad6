/* Leader-side controllers: level-triggered reconcile loops over the typed client.
 *
 * A loop (tri_ctrl_loop_t) watches some resources through tri_api_watch_start with
 * no resourceVersion, so every start begins with the current state as ADDED events
 * (the resync), then follows changes. Its on_event callback turns each event into
 * keys on the loop's work queue (tri_ctrl_add / tri_ctrl_add_after); a key is
 * queued at most once, reconciled by at most one reconcile at a time, and a key
 * added while it is being reconciled runs again afterwards. reconcile(item) makes
 * one idempotent step toward the desired state and answers DONE (forget the key's
 * failures), REQUEUE (retry after an exponential backoff: base * 2^failures, at
 * most max) or PENDING (asynchronous: the reconciler calls tri_ctrl_finish once).
 *
 * The manager (tri_ctrl_manager_t) owns the loops and follows leadership:
 * tri_ctrl_manager_start when this replica becomes leader (after its barrier),
 * tri_ctrl_manager_stop the moment it is not: watches are stopped, queues and
 * timers dropped, and a reconcile still in flight finds its item dead
 * (tri_ctrl_live false) and must issue no further write; its tri_ctrl_finish then
 * only frees the item. Every write a reconciler makes sets op->leader_only, so a
 * deposed leader's late write fails instead of being forwarded.
 *
 * Queues are bounded (max_queue keys per loop): a key that does not fit is
 * dropped and the loop resyncs (restarts its watches, which replay the state as
 * ADDED) once its queue has drained. A watch that ends (410, restore) is
 * restarted the same way.
 *
 * Everything runs on the libuv loop thread. Ownership: the manager allocates and
 * frees loops and items; a reconciler owns whatever context it allocates for a
 * PENDING reconcile and frees it before (or when) calling tri_ctrl_finish.
 */
#ifndef TRIARCH_CONTROLLERS_H
#define TRIARCH_CONTROLLERS_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "triarch/api.h"

typedef struct tri_ctrl_manager tri_ctrl_manager_t;
typedef struct tri_ctrl_loop tri_ctrl_loop_t;
typedef struct tri_ctrl_item tri_ctrl_item_t;

#define TRI_CTRL_MAX_WATCH 8

enum tri_ctrl_result {
    TRI_CTRL_DONE = 0,    /* desired state reached (or nothing to do): forget failures */
    TRI_CTRL_REQUEUE = 1, /* not yet: run again after the key's backoff */
    TRI_CTRL_PENDING = 2, /* asynchronous: tri_ctrl_finish follows, exactly once */
};

typedef struct tri_ctrl_config {
    uint64_t backoff_base_ms; /* 0: 5 (client-go's per-item rate limiter base) */
    uint64_t backoff_max_ms;  /* 0: 5000 */
    size_t max_queue;         /* keys per loop; 0: 100000 */
    unsigned workers;         /* reconciles in flight per loop; 0: 4 */
    uint64_t event_ttl_ms;    /* Events older than this are deleted; 0: 1 h */
} tri_ctrl_config_t;

/* What a loop is: its name (logs), the resources it watches and its callbacks.
 * The definition must outlive the manager; `data` is the loop's state, freed by
 * free_data when the manager is. */
typedef struct tri_ctrl_loop_def {
    const char *name;
    /* Resources to watch, as "v1/<plural>" (core) or "<group>/v1/<plural>"; or
     * watch_all: every registered storage version (tri_registry_all rows with
     * storage == NULL). A name the registry does not serve is skipped. */
    const char *watch[TRI_CTRL_MAX_WATCH];
    bool watch_all;
    /* True when on_event reads only apiVersion, kind and metadata (managedFields
     * aside) of r's objects: the watch then parses no more (tri_object_load_meta), as
     * Kubernetes' metadata informers. NULL: whole objects for every resource. */
    bool (*metadata_only)(const tri_resource_t *r);
    /* Called when the loop starts (before the resync) and stops: reset state. */
    void (*on_start)(tri_ctrl_loop_t *l);
    void (*on_stop)(tri_ctrl_loop_t *l);
    /* One watch event (ADDED, MODIFIED, DELETED); obj is borrowed. */
    void (*on_event)(tri_ctrl_loop_t *l, const tri_resource_t *r, enum tri_watch_event_type type,
                     const json_t *obj);
    /* One step for tri_ctrl_key(it); returns an enum tri_ctrl_result. */
    int (*reconcile)(tri_ctrl_loop_t *l, tri_ctrl_item_t *it);
    /* Frees `data` with the manager (may be NULL). */
    void (*free_data)(void *data);
} tri_ctrl_loop_def_t;

/* ---------- manager ---------- */

/* api may be NULL for loops that watch nothing (tests). */
int tri_ctrl_manager_new(uv_loop_t *loop, tri_api_t *api, const tri_ctrl_config_t *cfg,
                         tri_ctrl_manager_t **out);
/* Adds a loop (before start). Returns 0 or TRI_ENOMEM. */
int tri_ctrl_manager_add(tri_ctrl_manager_t *m, const tri_ctrl_loop_def_t *def, void *data,
                         tri_ctrl_loop_t **out);
/* Leadership gained / lost. Idempotent. */
void tri_ctrl_manager_start(tri_ctrl_manager_t *m);
void tri_ctrl_manager_stop(tri_ctrl_manager_t *m);
/* Stops and closes the manager's libuv handles; call before the uv loop ends. */
void tri_ctrl_manager_close(tri_ctrl_manager_t *m);
/* After the close callbacks ran (uv_run returned). NULL is fine. */
void tri_ctrl_manager_free(tri_ctrl_manager_t *m);
bool tri_ctrl_manager_running(const tri_ctrl_manager_t *m);

/* The garbage collector, namespace and Events TTL loops (controllers/gc.c,
 * namespace.c, events_ttl.c) added to m. */
int tri_ctrl_gc_add(tri_ctrl_manager_t *m);
int tri_ctrl_namespace_add(tri_ctrl_manager_t *m);
int tri_ctrl_events_ttl_add(tri_ctrl_manager_t *m);
int tri_ctrl_add_defaults(tri_ctrl_manager_t *m);
/* The per-namespace `default` ServiceAccount and `kube-root-ca.crt` ConfigMap
 * (root_ca_pem: the cluster CA; NULL publishes no ConfigMap). */
int tri_ctrl_serviceaccounts_add(tri_ctrl_manager_t *m, const char *root_ca_pem);
/* The resource-quota controller: recounts each ResourceQuota's status.used on
 * changes and every sync_ms (0: 5 minutes). */
int tri_ctrl_resourcequota_add(tri_ctrl_manager_t *m, uint64_t sync_ms);

/* ---------- the `kubernetes` Service ---------- */

/* Each replica renews an identity Lease (server/apiserver_lease.c): namespace,
 * name prefix and label as kube-apiserver's, and the advertised API address
 * ("ip:port") in an annotation. */
#define TRI_APISERVER_LEASE_NAMESPACE "kube-system"
#define TRI_APISERVER_LEASE_PREFIX "apiserver-"
#define TRI_APISERVER_IDENTITY_LABEL "apiserver.kubernetes.io/identity"
#define TRI_APISERVER_IDENTITY "kube-apiserver"
#define TRI_APISERVER_ADDRESS_ANNOTATION "triarch.io/advertise-address"

/* kubernetes-service: keeps Service default/kubernetes (ClusterIP: the service
 * CIDR's first address, https 443/TCP), its Endpoints and its EndpointSlices
 * listing the advertised address of every replica whose identity Lease is
 * unexpired. own_address: this replica's advertised "ip:port" (the Service's
 * targetPort when no live replica serves the current one); NULL: none. */
int tri_ctrl_kubernetes_service_add(tri_ctrl_manager_t *m, const char *own_address);

typedef struct tri_ctrl_apiserver {
    char ip[46];
    int port;
} tri_ctrl_apiserver_t;
/* One identity Lease's advertised address and the time it expires (renewTime +
 * leaseDurationSeconds, microseconds since the epoch); TRI_EINVAL when lease is
 * not an apiserver identity Lease or lacks either. Pure. */
int tri_ctrl_apiserver_lease(const json_t *lease, tri_ctrl_apiserver_t *out, int64_t *expires_us);
/* The Endpoints subsets for n live servers: one subset per port (ascending), its
 * addresses sorted and unique, port "https"/TCP. New reference. Sorts `live`. */
json_t *tri_ctrl_apiserver_subsets(tri_ctrl_apiserver_t *live, size_t n);

/* ---------- certificates and bootstrap tokens ---------- */

struct tri_authz;
struct tri_signer;

/* csrapproving (Kubernetes' sarapprove): auto-approves a
 * kubernetes.io/kube-apiserver-client-kubelet request that is exactly a kubelet's
 * (tri_csr_is_kubelet_client) when its requester, as spec.username/groups record
 * it, may create certificatesigningrequests/selfnodeclient (a node renewing its
 * own CN) or certificatesigningrequests/nodeclient (a bootstrapper), asked of
 * authz as a SubjectAccessReview would. Borrowed; must outlive the manager. */
int tri_ctrl_csrapproving_add(tri_ctrl_manager_t *m, struct tri_authz *authz);
/* Its decision for one CSR object: the approval message, or NULL with why set
 * ("" when the request is not one it handles). Pure but for authz. */
const char *tri_ctrl_csr_approval(const json_t *csr, struct tri_authz *authz, char *why,
                                  size_t wl);

/* csrsigning: issues approved requests of the three kubernetes.io signers with
 * the cluster CA (status.certificate), lifetime spec.expirationSeconds capped by
 * max_duration_s; a request that does not fit its signer gets a Failed condition.
 * Takes signer (freed with the manager). */
int tri_ctrl_csrsigning_add(tri_ctrl_manager_t *m, struct tri_signer *signer,
                            int64_t max_duration_s);

/* tokencleaner: deletes bootstrap token Secrets whose expiration has passed. */
int tri_ctrl_tokencleaner_add(tri_ctrl_manager_t *m);

/* ---------- loops ---------- */

/* Queues key (dedup while queued; runs again after an in-flight reconcile).
 * Returns 0, TRI_ECANCELED when the loop is stopped, TRI_ENOMEM when the queue
 * is full (the loop will resync). */
int tri_ctrl_add(tri_ctrl_loop_t *l, const char *key);
/* Queues key after delay_ms (an earlier due time wins over a later one). */
int tri_ctrl_add_after(tri_ctrl_loop_t *l, const char *key, uint64_t delay_ms);
bool tri_ctrl_loop_running(const tri_ctrl_loop_t *l);
void *tri_ctrl_loop_data(const tri_ctrl_loop_t *l);
tri_api_t *tri_ctrl_loop_api(const tri_ctrl_loop_t *l);
const tri_ctrl_config_t *tri_ctrl_loop_config(const tri_ctrl_loop_t *l);
const char *tri_ctrl_loop_name(const tri_ctrl_loop_t *l);
/* Keys waiting (queued, in backoff, or in flight) — for tests and metrics. */
size_t tri_ctrl_loop_len(const tri_ctrl_loop_t *l);
/* Reconciles finished, by result (for tests). */
uint64_t tri_ctrl_loop_reconciles(const tri_ctrl_loop_t *l);

/* ---------- items (one key being reconciled) ---------- */

const char *tri_ctrl_key(const tri_ctrl_item_t *it);
tri_ctrl_loop_t *tri_ctrl_item_loop(const tri_ctrl_item_t *it);
/* Consecutive failures of this key so far. */
unsigned tri_ctrl_failures(const tri_ctrl_item_t *it);
/* False once the loop stopped after this reconcile began: write nothing more. */
bool tri_ctrl_live(const tri_ctrl_item_t *it);
/* Ends a PENDING reconcile with DONE or REQUEUE (frees a dead item). */
void tri_ctrl_finish(tri_ctrl_item_t *it, int result);

#endif
