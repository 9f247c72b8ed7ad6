/* Per-quota FIFO lanes for creates that charge a ResourceQuota (quota_lane.h).
 * Lanes live in the tri_api_t while an op holds or waits for them; a replica
 * rarely has more than a few, so they are a plain list. */
#include <stdlib.h>
#include <string.h>

#include "op.h"
#include "quota_lane.h"

struct tri_quota_lane {
    struct tri_quota_lane *next;
    tri_api_op_t *holder;
    bool holder_waiting; /* holder was handed the lane and not resumed yet */
    bool resuming;       /* the outermost leave is resuming ops */
    tri_api_op_t *head, *tail;
    size_t key_len;
    char key[];
};

static struct tri_quota_lane *find(tri_api_t *api, const char *key, size_t len)
{
    for (struct tri_quota_lane *l = api->quota_lanes; l; l = l->next)
        if (l->key_len == len && memcmp(l->key, key, len) == 0)
            return l;
    return NULL;
}

static void unlink_free(tri_api_t *api, struct tri_quota_lane *lane)
{
    for (struct tri_quota_lane **p = &api->quota_lanes; *p; p = &(*p)->next) {
        if (*p == lane) {
            *p = lane->next;
            break;
        }
    }
    free(lane);
}

bool tri_quota_lane_enter(tri_api_op_t *op, const char *key, size_t len, tri_quota_lane_cb resume)
{
    if (op->quota_lane != NULL)
        return false; /* holds it already (a retry) */
    struct tri_quota_lane *lane = find(op->api, key, len);
    if (lane == NULL) {
        lane = calloc(1, sizeof *lane + len);
        if (lane == NULL)
            return false; /* no lane: the precondition alone keeps it correct */
        memcpy(lane->key, key, len);
        lane->key_len = len;
        lane->next = op->api->quota_lanes;
        op->api->quota_lanes = lane;
        lane->holder = op;
        op->quota_lane = lane;
        return false;
    }
    op->quota_lane = lane;
    op->quota_lane_resume = resume;
    op->quota_lane_next = NULL;
    if (lane->tail)
        lane->tail->quota_lane_next = op;
    else
        lane->head = op;
    lane->tail = op;
    return true;
}

void tri_quota_lane_leave(tri_api_op_t *op)
{
    struct tri_quota_lane *lane = op->quota_lane;
    if (lane == NULL || lane->holder != op)
        return;
    op->quota_lane = NULL;
    tri_api_t *api = op->api;
    lane->holder = lane->head;
    if (lane->head) {
        lane->head = lane->head->quota_lane_next;
        if (lane->head == NULL)
            lane->tail = NULL;
        lane->holder_waiting = true;
    }
    if (lane->resuming)
        return; /* the outer call below picks the new holder up */
    lane->resuming = true;
    while (lane->holder != NULL && lane->holder_waiting) {
        tri_api_op_t *next = lane->holder;
        lane->holder_waiting = false;
        next->quota_lane_resume(next); /* may finish next at once, and leave */
    }
    lane->resuming = false;
    if (lane->holder == NULL)
        unlink_free(api, lane);
}
