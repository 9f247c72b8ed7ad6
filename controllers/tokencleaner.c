/* tokencleaner: kube-controller-manager's bootstrap token cleaner
 * (pkg/controller/bootstrap/tokencleaner.go). A bootstrap token Secret
 * (kube-system/bootstrap-token-*, type bootstrap.kubernetes.io/token) whose
 * data.expiration has passed is deleted, with its uid and resourceVersion as
 * preconditions so that a token renewed meanwhile survives. One not yet expired
 * is looked at again when it expires (at most an hour later, so a clock step or
 * a changed expiration is noticed). Authentication refuses an expired token on
 * its own; this loop only keeps such Secrets from piling up. */
#include <stdio.h>
#include <time.h>

#include "internal.h"
#include "triarch/authn.h"
#include "triarch/controllers.h"
#include "triarch/log.h"

#define RECHECK_MAX_MS (3600 * 1000ULL)
#define RECHECK_SLACK_MS 500 /* past the expiration second, not just before it */

static void tc_on_event(tri_ctrl_loop_t *l, const tri_resource_t *r, enum tri_watch_event_type type,
                        const json_t *obj)
{
    if (type == TRI_WATCH_DELETED || !tri_bootstrap_token_secret(obj))
        return;
    tri_ctrl_add(l, ctrl_meta_str(obj, "name"));
}

static int tc_reconcile(tri_ctrl_loop_t *l, tri_ctrl_item_t *it)
{
    const tri_resource_t *secrets = tri_registry_find("", "v1", "secrets");
    json_t *obj =
        tri_api_lookup(tri_ctrl_loop_api(l), secrets, TRI_BOOTSTRAP_NAMESPACE, tri_ctrl_key(it));
    int64_t exp;
    if (obj == NULL || !tri_bootstrap_token_secret(obj) || ctrl_deleting(obj) ||
        tri_bootstrap_token_expiration(obj, &exp) != 0) {
        json_decref(obj); /* gone, not a token, or one that never expires */
        return TRI_CTRL_DONE;
    }
    int64_t now = (int64_t)time(NULL);
    if (now < exp) {
        uint64_t wait = (uint64_t)(exp - now) * 1000 + RECHECK_SLACK_MS;
        tri_ctrl_add_after(l, tri_ctrl_key(it), wait < RECHECK_MAX_MS ? wait : RECHECK_MAX_MS);
        json_decref(obj);
        return TRI_CTRL_DONE;
    }
    ctrl_job_t *j = ctrl_job_new(it, "delete expired bootstrap token");
    if (j == NULL) {
        json_decref(obj);
        return TRI_CTRL_REQUEUE;
    }
    tri_info("tokencleaner", "deleting expired bootstrap token", "secret=%s/%s",
             TRI_BOOTSTRAP_NAMESPACE, tri_ctrl_key(it));
    tri_delete_opts_t o = {
        .precondition_uid = ctrl_meta_str(obj, "uid"),
        .precondition_rv = ctrl_meta_str(obj, "resourceVersion"),
        .grace_period_seconds = -1,
    };
    tri_api_delete(tri_ctrl_loop_api(l), &j->op, secrets, TRI_BOOTSTRAP_NAMESPACE, tri_ctrl_key(it),
                   &o, ctrl_job_done);
    json_decref(obj);
    return TRI_CTRL_PENDING;
}

static const tri_ctrl_loop_def_t cleaner_def = {
    .name = "tokencleaner",
    .watch = {"v1/secrets"},
    .on_event = tc_on_event,
    .reconcile = tc_reconcile,
};

int tri_ctrl_tokencleaner_add(tri_ctrl_manager_t *m)
{
    return tri_ctrl_manager_add(m, &cleaner_def, NULL, NULL);
}
