/* This replica's identity Lease (server/apiserver_lease.c): a
 * coordination.k8s.io/v1 Lease in kube-system, labelled
 * apiserver.kubernetes.io/identity=kube-apiserver as kube-apiserver's are, whose
 * holderIdentity is the replica's name and whose annotation
 * TRI_APISERVER_ADDRESS_ANNOTATION carries the address its API is reached at. Every
 * replica renews its own; the leader's kubernetes-service loop lists the unexpired
 * ones as the `kubernetes` Service's endpoints.
 *
 * Runs on the libuv loop thread. Writes go through the typed client like any other
 * write (a follower's are forwarded to the leader). */
#ifndef TRIARCH_SERVER_APISERVER_LEASE_H
#define TRIARCH_SERVER_APISERVER_LEASE_H

#include <uv.h>

#include "triarch/api.h"

typedef struct tri_apiserver_lease tri_apiserver_lease_t;

typedef struct tri_apiserver_lease_config {
    const char *name;    /* this replica's name: the holderIdentity (copied) */
    const char *address; /* advertised API address "ip:port" (copied) */
    unsigned renew_s;    /* renewal period */
    unsigned duration_s; /* spec.leaseDurationSeconds */
} tri_apiserver_lease_config_t;

/* Starts renewing at once, then every renew_s. api must outlive the renewer. */
int tri_apiserver_lease_start(uv_loop_t *loop, tri_api_t *api,
                              const tri_apiserver_lease_config_t *cfg,
                              tri_apiserver_lease_t **out);
/* Graceful stop: stops renewing and deletes this replica's Lease, so it leaves the
 * `kubernetes` endpoints at once (kube-apiserver removes its endpoint at shutdown)
 * instead of when the Lease expires. cb fires exactly once: when the delete is
 * answered, or after timeout_ms (no quorum), whichever is first. */
typedef void (*tri_apiserver_lease_released_cb)(void *data);
void tri_apiserver_lease_release(tri_apiserver_lease_t *l, uint64_t timeout_ms,
                                 tri_apiserver_lease_released_cb cb, void *data);
/* Stops renewing and closes the timer; call before the uv loop ends. NULL is fine. */
void tri_apiserver_lease_close(tri_apiserver_lease_t *l);
/* After the uv loop ended. A renewal whose callback never came is dropped. */
void tri_apiserver_lease_free(tri_apiserver_lease_t *l);

#endif
