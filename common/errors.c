/* Names of the shared status codes, for logs. */
#include "triarch/errors.h"

const char *tri_strerror(int code)
{
    switch (code) {
    case TRI_OK: return "ok";
    case TRI_ENOMEM: return "out of memory";
    case TRI_EINVAL: return "invalid input";
    case TRI_ENOENT: return "not found";
    case TRI_EEXIST: return "already exists";
    case TRI_EPRECOND: return "precondition failed";
    case TRI_ECOMPACTED: return "revision compacted";
    case TRI_EFUTURE: return "revision not reached yet";
    case TRI_EQUOTA: return "store quota exceeded";
    case TRI_ECORRUPT: return "corrupt data";
    case TRI_EUNAVAIL: return "no leader available";
    case TRI_EUNKNOWN: return "outcome unknown";
    case TRI_ENOTLEADER: return "not leader";
    case TRI_EIO: return "i/o error";
    case TRI_ETOOBIG: return "too large";
    case TRI_ECANCELED: return "canceled";
    case TRI_ETIMEDOUT: return "timed out";
    case TRI_ESLOW: return "watcher too slow";
    case TRI_EBUSY: return "busy";
    default: return "unknown error";
    }
}
