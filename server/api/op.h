/* Private to server/api: what the typed client (client.c) shares with the files
 * that carry out some of its operations (list.c). */
#ifndef TRIARCH_API_OP_H
#define TRIARCH_API_OP_H

#include "triarch/api.h"
#include "triarch/codec.h"

struct tri_api {
    uv_loop_t *loop;
    tri_node_t *node;
    tri_store_t *store;
    tri_api_config_t cfg;
    size_t watches;
    struct tri_quota_lane *quota_lanes; /* quota_lane.c */
    /* The objects of recent watch events, shared by every watcher of them
     * (watch.c): the leader's loops (garbage collector, quota, accounts) and HTTP
     * watches with selectors all see each write, each draining its own watch in
     * batches; the object is parsed once instead of once per watcher. Slots are
     * picked by revision (a watcher more than TRI_EVENT_MEMO revisions behind
     * another parses again). Consumers get read-only references. */
#define TRI_EVENT_MEMO 512
    struct tri_event_memo {
        tri_val_t *val; /* referenced: its address cannot be reused while here */
        int64_t rev;
        const tri_resource_t *res;
        json_t *obj;
        bool meta; /* obj holds only apiVersion, kind and metadata */
    } memo[TRI_EVENT_MEMO];
};

/* Releases the watch-event memo (tri_api_free). */
void tri_api_memo_clear(tri_api_t *api);

/* Ends op: its callback fires with op->status / op->body as they are. */
void tri_op_finish(tri_api_op_t *op);
/* Ends op with the Status for a TRI_E* code. */
void tri_op_fail_code(tri_api_op_t *op, int code);

int tri_api_parse_selectors(const tri_resource_t *r, const char *lsel, const char *fsel,
                            tri_selector_t **labels, tri_selector_t **fields, tri_status_t *st);
bool tri_api_selectors_match(const tri_selector_t *labels, const tri_selector_t *fields,
                             const json_t *obj);

/* The read of a list at op->read_rev (or the store's revision), from the continue
 * key in op->key: in slices of a few milliseconds, yielding to the loop between
 * them, so a list of any size never stalls Raft heartbeats or other requests. */
void tri_list_start(tri_api_op_t *op);

#endif
