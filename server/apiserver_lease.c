/* This replica's identity Lease, renewed on a timer (see apiserver_lease.h).
 *
 * kube-apiserver keeps two records per server: an identity Lease
 * (kube-system/apiserver-<hash>, for storage-version and peer-proxy bookkeeping)
 * and, for the `kubernetes` Service's endpoints, a key with a TTL per advertised
 * IP (the "lease" endpoint reconciler). Here one object does both: the identity
 * Lease carries the advertised address in an annotation, and its renewTime +
 * leaseDurationSeconds says until when the address is live.
 *
 * One renewal at a time: a tick reads the Lease from the local store; absent, it
 * creates it; present, it updates it without a resourceVersion, so the server's
 * read-modify-CAS loop absorbs a stale local copy. A write that lost a race (409:
 * another create won; 404: the Lease was deleted meanwhile) is retried soon, any
 * other failure at the next period.
 *
 * A graceful stop deletes the Lease first (tri_apiserver_lease_release), so the
 * replica leaves the endpoints at once rather than after leaseDurationSeconds.
 *
 * The Lease's name is "apiserver-" and 32 hex digits of the SHA-256 of the
 * replica's name (kube-apiserver hashes its host name the same way), so any
 * replica name makes a valid object name and a replica finds its own Lease again
 * after a restart. */
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "apiserver_lease.h"
#include "triarch/controllers.h"
#include "triarch/errors.h"
#include "triarch/log.h"

/* A renewal that lost a race (or found kube-system missing on a new cluster)
 * tries again after this long, not after a whole period. */
#define RETRY_MS 500
#define NAME_HASH_BYTES 16 /* of the SHA-256, as kube-apiserver's identity leases */
#define LEASE_NAME_LEN (sizeof TRI_APISERVER_LEASE_PREFIX + 2 * NAME_HASH_BYTES)

typedef struct renewal renewal_t;

struct tri_apiserver_lease {
    uv_timer_t timer;
    tri_api_t *api;
    char *holder;
    char *address;
    char lease_name[LEASE_NAME_LEN];
    uint64_t renew_ms;
    unsigned duration_s;
    renewal_t *inflight; /* the one write under way, or NULL */
    unsigned failures;   /* in a row: only the first of a streak is logged */
    bool closed;
    bool releasing;      /* deleting the Lease at a graceful stop */
    renewal_t *release;  /* that delete while under way */
    tri_apiserver_lease_released_cb released_cb; /* NULL once fired */
    void *released_data;
};

struct renewal {
    tri_api_op_t op;
    tri_apiserver_lease_t *owner; /* NULL once the renewer is gone */
    bool create;
};

static void schedule(tri_apiserver_lease_t *l, uint64_t ms);

/* "2026-11-23T15:53:33.123456Z": metav1.MicroTime, as renewTime is written. */
#define MICRO_TIME_LEN 48
static void micro_time_now(char out[MICRO_TIME_LEN])
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    struct tm tm;
    gmtime_r(&ts.tv_sec, &tm);
    char sec[24];
    strftime(sec, sizeof sec, "%Y-%m-%dT%H:%M:%S", &tm);
    unsigned us = (unsigned)(ts.tv_nsec / 1000) % 1000000u;
    snprintf(out, MICRO_TIME_LEN, "%s.%06uZ", sec, us);
}

static int lease_name_of(const char *holder, char *out, size_t len)
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int n = 0;
    if (EVP_Digest(holder, strlen(holder), md, &n, EVP_sha256(), NULL) != 1 ||
        n < NAME_HASH_BYTES)
        return TRI_EIO;
    size_t off = (size_t)snprintf(out, len, "%s", TRI_APISERVER_LEASE_PREFIX);
    for (size_t i = 0; i < NAME_HASH_BYTES && off + 2 < len; i++, off += 2)
        snprintf(out + off, len - off, "%02x", md[i]);
    return 0;
}

/* The whole Lease as this replica wants it now; acquire_time kept from the
 * current one (NULL: now). */
static json_t *lease_object(const tri_apiserver_lease_t *l, const char *acquire_time)
{
    char now[MICRO_TIME_LEN];
    micro_time_now(now);
    return json_pack("{s:s, s:s, s:{s:s, s:s, s:{s:s}, s:{s:s}},"
                     " s:{s:s, s:i, s:s, s:s}}",
                     "apiVersion", "coordination.k8s.io/v1", "kind", "Lease", "metadata", "name",
                     l->lease_name, "namespace", TRI_APISERVER_LEASE_NAMESPACE, "labels",
                     TRI_APISERVER_IDENTITY_LABEL, TRI_APISERVER_IDENTITY, "annotations",
                     TRI_APISERVER_ADDRESS_ANNOTATION, l->address, "spec", "holderIdentity",
                     l->holder, "leaseDurationSeconds", (json_int_t)l->duration_s, "acquireTime",
                     acquire_time ? acquire_time : now, "renewTime", now);
}

static void on_renewed(tri_api_op_t *op)
{
    renewal_t *r = op->data;
    tri_apiserver_lease_t *l = r->owner;
    int code = op->status.code;
    if (l != NULL) {
        l->inflight = NULL;
        bool raced = code == 404 || code == 409;
        if (code != 0 && !raced && l->failures++ == 0)
            tri_warn("apiserver-lease", "renewal failed; retrying. The replica leaves the "
                     "kubernetes endpoints if this lasts", "lease=%s/%s code=%d message=\"%s\"",
                     TRI_APISERVER_LEASE_NAMESPACE, l->lease_name, code, op->status.message);
        if (code == 0 && l->failures > 0)
            tri_info("apiserver-lease", "renewing again", "lease=%s/%s failed_attempts=%u",
                     TRI_APISERVER_LEASE_NAMESPACE, l->lease_name, l->failures);
        if (code == 0)
            l->failures = 0;
        if (code == 0 && r->create)
            tri_info("apiserver-lease", "identity lease created", "lease=%s/%s address=%s",
                     TRI_APISERVER_LEASE_NAMESPACE, l->lease_name, l->address);
        if (!l->closed && !l->releasing)
            schedule(l, code == 0 ? l->renew_ms
                                  : (l->renew_ms < RETRY_MS ? l->renew_ms : RETRY_MS));
    }
    tri_api_op_release(op);
    free(r);
}

static void renew(tri_apiserver_lease_t *l)
{
    renewal_t *r = calloc(1, sizeof *r);
    if (r == NULL) {
        schedule(l, RETRY_MS);
        return;
    }
    r->owner = l;
    r->op.data = r;
    const tri_resource_t *res = tri_registry_find("coordination.k8s.io", "v1", "leases");
    json_t *cur = tri_api_lookup(l->api, res, TRI_APISERVER_LEASE_NAMESPACE, l->lease_name);
    const json_t *spec = json_object_get(cur, "spec");
    const char *acquired = json_string_value(json_object_get(spec, "acquireTime"));
    const char *holder = json_string_value(json_object_get(spec, "holderIdentity"));
    bool same_holder = holder != NULL && strcmp(holder, l->holder) == 0;
    json_t *obj = lease_object(l, same_holder ? acquired : NULL);
    r->create = cur == NULL;
    json_decref(cur);
    if (obj == NULL) { /* not UTF-8: the config's name or address */
        tri_error("apiserver-lease", "cannot build the identity lease", "holder=%s", l->holder);
        free(r);
        schedule(l, l->renew_ms);
        return;
    }
    l->inflight = r;
    if (r->create)
        tri_api_create(l->api, &r->op, res, TRI_APISERVER_LEASE_NAMESPACE, obj, false, on_renewed);
    else {
        tri_api_update(l->api, &r->op, res, TRI_APISERVER_LEASE_NAMESPACE, l->lease_name, obj,
                       false, on_renewed);
        json_decref(obj);
    }
}

static void on_tick(uv_timer_t *t)
{
    tri_apiserver_lease_t *l = t->data;
    if (!l->closed && !l->releasing && l->inflight == NULL)
        renew(l);
}

/* ---------- graceful stop ---------- */

static void released(tri_apiserver_lease_t *l)
{
    tri_apiserver_lease_released_cb cb = l->released_cb;
    l->released_cb = NULL;
    if (cb)
        cb(l->released_data);
}

static void on_deleted(tri_api_op_t *op)
{
    renewal_t *r = op->data;
    tri_apiserver_lease_t *l = r->owner;
    if (l != NULL) {
        l->release = NULL;
        if (op->status.code != 0 && op->status.code != 404)
            tri_warn("apiserver-lease", "identity lease not deleted; it expires instead",
                     "lease=%s/%s code=%d", TRI_APISERVER_LEASE_NAMESPACE, l->lease_name,
                     op->status.code);
        released(l);
    }
    tri_api_op_release(op);
    free(r);
}

static void on_release_timeout(uv_timer_t *t)
{
    tri_apiserver_lease_t *l = t->data;
    tri_warn("apiserver-lease", "identity lease delete not answered in time; it expires instead",
             "lease=%s/%s", TRI_APISERVER_LEASE_NAMESPACE, l->lease_name);
    released(l);
}

void tri_apiserver_lease_release(tri_apiserver_lease_t *l, uint64_t timeout_ms,
                                 tri_apiserver_lease_released_cb cb, void *data)
{
    renewal_t *r = l->closed || l->releasing ? NULL : calloc(1, sizeof *r);
    l->releasing = true;
    l->released_cb = cb;
    l->released_data = data;
    if (r == NULL) {
        released(l);
        return;
    }
    r->owner = l;
    r->op.data = r;
    l->release = r;
    uv_timer_start(&l->timer, on_release_timeout, timeout_ms, 0);
    tri_delete_opts_t o = {.grace_period_seconds = -1};
    tri_api_delete(l->api, &r->op, tri_registry_find("coordination.k8s.io", "v1", "leases"),
                   TRI_APISERVER_LEASE_NAMESPACE, l->lease_name, &o, on_deleted);
}

static void schedule(tri_apiserver_lease_t *l, uint64_t ms)
{
    uv_timer_start(&l->timer, on_tick, ms, 0);
}

int tri_apiserver_lease_start(uv_loop_t *loop, tri_api_t *api,
                              const tri_apiserver_lease_config_t *cfg,
                              tri_apiserver_lease_t **out)
{
    tri_apiserver_lease_t *l = calloc(1, sizeof *l);
    if (l == NULL)
        return TRI_ENOMEM;
    l->api = api;
    l->holder = strdup(cfg->name);
    l->address = strdup(cfg->address);
    l->renew_ms = (uint64_t)cfg->renew_s * 1000;
    l->duration_s = cfg->duration_s;
    if (l->holder == NULL || l->address == NULL ||
        lease_name_of(cfg->name, l->lease_name, sizeof l->lease_name) != 0) {
        free(l->holder);
        free(l->address);
        free(l);
        return TRI_ENOMEM;
    }
    uv_timer_init(loop, &l->timer);
    l->timer.data = l;
    schedule(l, 0);
    tri_info("apiserver-lease", "renewing", "lease=%s/%s holder=%s address=%s every_s=%u ttl_s=%u",
             TRI_APISERVER_LEASE_NAMESPACE, l->lease_name, l->holder, l->address, cfg->renew_s,
             cfg->duration_s);
    *out = l;
    return 0;
}

void tri_apiserver_lease_close(tri_apiserver_lease_t *l)
{
    if (l == NULL || l->closed)
        return;
    l->closed = true;
    uv_close((uv_handle_t *)&l->timer, NULL);
}

void tri_apiserver_lease_free(tri_apiserver_lease_t *l)
{
    if (l == NULL)
        return;
    if (l->inflight)
        l->inflight->owner = NULL; /* its callback (if it ever comes) frees it alone */
    if (l->release)
        l->release->owner = NULL;
    free(l->holder);
    free(l->address);
    free(l);
}
