/* One write of a PENDING reconcile (see internal.h): the op and the item it
 * finishes. A write that lost a race (409) or whose object went away (404) ends
 * the reconcile; the watch event the winner made queues the key again, and a 409
 * is retried after the backoff in case that event was coalesced. */
#include <stdlib.h>

#include "internal.h"
#include "triarch/log.h"

ctrl_job_t *ctrl_job_new(tri_ctrl_item_t *it, const char *what)
{
    ctrl_job_t *j = calloc(1, sizeof *j);
    if (j == NULL)
        return NULL;
    j->it = it;
    j->what = what;
    j->op.data = j;
    j->op.leader_only = true;
    return j;
}

void ctrl_job_done(tri_api_op_t *op)
{
    ctrl_job_t *j = op->data;
    int code = op->status.code;
    tri_ctrl_item_t *it = j->it;
    if (code != 0 && code != 404 && code != 409)
        tri_warn(tri_ctrl_loop_name(tri_ctrl_item_loop(it)), "write failed",
                 "what=\"%s\" key=%s code=%d message=\"%s\"", j->what, tri_ctrl_key(it), code,
                 op->status.message);
    tri_api_op_release(&j->op);
    free(j);
    tri_ctrl_finish(it, code == 0 || code == 404 ? TRI_CTRL_DONE : TRI_CTRL_REQUEUE);
}
