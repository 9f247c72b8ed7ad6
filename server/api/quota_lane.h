/* Private to server/api: one lane per ResourceQuota per replica. Creates that
 * charge the same quota are proposed one at a time from this replica, in
 * arrival order: the next one is admitted (against the store that now holds
 * the previous one's charge) when the previous one has finished. Without it,
 * every create in a namespace would propose at once, all but one would fail
 * their precondition on the quota, and the retries would race new arrivals,
 * some losing hundreds of times in a row (measured: 16 clients on one replica
 * left creates failing after 256 rounds). Replicas still race each other; the
 * quota's mod_revision precondition keeps that correct. */
#ifndef TRIARCH_API_QUOTA_LANE_H
#define TRIARCH_API_QUOTA_LANE_H

#include "triarch/api.h"

typedef void (*tri_quota_lane_cb)(tri_api_op_t *op);

/* op is about to propose a charge of the quota stored at key. Returns false when
 * the lane was free (op holds it now: propose), true when op waits its turn:
 * resume(op) is called then, and op must admit itself again. */
bool tri_quota_lane_enter(tri_api_op_t *op, const char *key, size_t len, tri_quota_lane_cb resume);
/* op finished (any outcome): its lane goes to the next waiting op. No-op when op
 * holds no lane. Never recurses: waiting ops that finish at once are resumed
 * one after another by the outermost call. */
void tri_quota_lane_leave(tri_api_op_t *op);

#endif
