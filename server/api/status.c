/* Kubernetes Status objects: the one shape every error takes on its way to a
 * client, built here so the HTTP layer, the scheduler and controllers agree on
 * codes and reasons (metav1.StatusReason). */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "triarch/api.h"
#include "triarch/errors.h"

void tri_status_clear(tri_status_t *st)
{
    json_decref(st->causes);
    memset(st, 0, sizeof *st);
}

void tri_status_set(tri_status_t *st, int code, const char *reason, const char *fmt, ...)
{
    st->code = code;
    st->reason = reason;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(st->message, sizeof st->message, fmt, ap);
    va_end(ap);
}

void tri_status_add_cause(tri_status_t *st, const char *reason, const char *field,
                          const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (st->causes == NULL)
        st->causes = json_array();
    json_array_append_new(st->causes,
                          json_pack("{s:s, s:s, s:s}", "reason", reason, "message", msg,
                                    "field", field));
}

void tri_status_from_code(tri_status_t *st, int code, const char *what)
{
    switch (code) {
    case TRI_EUNAVAIL:
        tri_status_set(st, 503, "ServiceUnavailable",
                       "%s: no Raft leader is reachable (no quorum); the write was not made",
                       what);
        st->retry_after = 1;
        break;
    case TRI_EUNKNOWN:
        tri_status_set(st, 504, "Timeout",
                       "%s: the outcome is unknown (leadership changed while committing); "
                       "read the object to find out whether the write was made",
                       what);
        st->retry_after = 1;
        break;
    case TRI_EFUTURE:
    case TRI_ETIMEDOUT:
        /* client-go recognises this by the cause type (IsTooLargeResourceVersion) */
        tri_status_set(st, 504, "Timeout", "Too large resource version");
        tri_status_add_cause(st, "ResourceVersionTooLarge", "", "Too large resource version");
        st->retry_after = 1;
        break;
    case TRI_ECOMPACTED:
        tri_status_set(st, 410, "Expired", "too old resource version");
        break;
    case TRI_EQUOTA:
        tri_status_set(st, 507, "InternalError",
                       "%s: the store is over its size quota (alarm raised); only deletes "
                       "are accepted until space is freed",
                       what);
        break;
    case TRI_ENOMEM:
        tri_status_set(st, 500, "InternalError", "%s: out of memory", what);
        break;
    case TRI_ECANCELED:
        tri_status_set(st, 503, "ServiceUnavailable", "%s: the server is shutting down", what);
        break;
    case TRI_ETOOBIG:
        tri_status_set(st, 413, "RequestEntityTooLarge", "%s: request is too large", what);
        break;
    default:
        tri_status_set(st, 500, "InternalError", "%s: %s", what, tri_strerror(code));
        break;
    }
}

json_t *tri_status_json(const tri_status_t *st)
{
    json_t *s = json_pack("{s:s, s:s, s:{}, s:s, s:s, s:s, s:i}", "kind", "Status", "apiVersion",
                          "v1", "metadata", "status", st->code == 0 ? "Success" : "Failure",
                          "message", st->message, "reason", st->reason ? st->reason : "",
                          "code", st->code == 0 ? 200 : st->code);
    if (s == NULL)
        return NULL;
    if (st->reason == NULL || st->reason[0] == '\0')
        json_object_del(s, "reason");
    json_t *details = json_object();
    if (st->name[0])
        json_object_set_new(details, "name", json_string(st->name));
    if (st->group[0])
        json_object_set_new(details, "group", json_string(st->group));
    if (st->kind[0])
        json_object_set_new(details, "kind", json_string(st->kind));
    if (st->causes)
        json_object_set(details, "causes", st->causes);
    if (st->retry_after > 0)
        json_object_set_new(details, "retryAfterSeconds", json_integer(st->retry_after));
    if (json_object_size(details) > 0)
        json_object_set_new(s, "details", details);
    else
        json_decref(details);
    return s;
}
