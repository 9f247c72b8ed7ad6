/* Status codes shared by every layer.
 *
 * Functions return 0 on success or one of these negative codes and fill
 * out-parameters. The HTTP layer maps them to Kubernetes Status reasons.
 */
#ifndef TRIARCH_ERRORS_H
#define TRIARCH_ERRORS_H

enum {
    TRI_OK = 0,
    TRI_ENOMEM = -1,      /* allocation failed */
    TRI_EINVAL = -2,      /* malformed input (bad encoding, bad argument) */
    TRI_ENOENT = -3,      /* key or object not found */
    TRI_EEXIST = -4,      /* key or object already exists */
    TRI_EPRECOND = -5,    /* a txn precondition failed (conflict) */
    TRI_ECOMPACTED = -6,  /* revision left the history window: 410 Gone */
    TRI_EFUTURE = -7,     /* revision not reached yet (bounded wait expired): 504 */
    TRI_EQUOTA = -8,      /* store over its size quota: only deletes accepted */
    TRI_ECORRUPT = -9,    /* checksum or format check failed: refuse to load */
    TRI_EUNAVAIL = -10,   /* no leader / no quorum, never proposed: 503 */
    TRI_EUNKNOWN = -11,   /* outcome unknown (leadership lost mid-commit): 504 */
    TRI_ENOTLEADER = -12, /* local-only propose on a replica that is not leader */
    TRI_EIO = -13,        /* disk or network I/O error */
    TRI_ETOOBIG = -14,    /* value or request over the size limit: 413 */
    TRI_ECANCELED = -15,  /* the operation was cancelled (shutdown) */
    TRI_ETIMEDOUT = -16,  /* a bounded wait expired */
    TRI_ESLOW = -17,      /* a watcher fell too far behind: closed, 410 */
    TRI_EBUSY = -18,      /* refused in the current state (e.g. removing the leader) */
};

/* Short constant name for a code ("TRI_ENOENT"), for logs. */
const char *tri_strerror(int code);

#endif
