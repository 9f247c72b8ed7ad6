/* Membership over the API (docs/membership.md), what `triarch member` calls:
 *   GET    /triarch/v1/members               the Raft configuration, named
 *   POST   /triarch/v1/members               add {name, peer, api, learner}
 *   DELETE /triarch/v1/members/NAME          remove
 *   POST   /triarch/v1/members/NAME/promote  standby -> voter
 *   POST   /triarch/v1/leader                transfer leadership {name} (or any voter)
 * Authorized like any non-resource path (only system:masters / cluster-admin by
 * default). Changes run on the leader only: elsewhere they answer 503 NotLeader
 * naming the leader, and the CLI asks it. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "internal.h"
#include "triarch/errors.h"
#include "triarch/raft.h"

#define MEMBERS_PATH "/triarch/v1/members"
#define LEADER_PATH "/triarch/v1/leader"

static json_t *member_json(const tri_member_info_t *m)
{
    char id[17];
    snprintf(id, sizeof id, "%016" PRIx64, m->id);
    return json_pack("{s:s, s:s, s:s, s:s, s:s, s:b}", "name", m->name, "id", id, "peer",
                     m->peer, "api", m->api, "role", tri_member_role_name(m->role), "learner",
                     m->learner);
}

/* {kind, leader, members: [...]}; NULL when raft is not running. */
static json_t *members_doc(tri_http_t *h)
{
    tri_node_t *node = tri_api_node(h->api);
    tri_member_info_t *v;
    size_t n;
    if (tri_node_members(node, &v, &n) != 0)
        return NULL;
    tri_node_status_t st;
    tri_node_get_status(node, &st);
    json_t *arr = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(arr, member_json(&v[i]));
    free(v);
    return json_pack("{s:s, s:s, s:o}", "kind", "MemberList", "leader", st.leader_name,
                     "members", arr);
}

static void send_code(h2o_req_t *req, int status, const char *why)
{
    switch (status) {
    case TRI_ENOTLEADER:
        tri_send_error(req, 503, "NotLeader", "this replica is not the leader; ask the leader");
        break;
    case TRI_EPRECOND:
        tri_send_error(req, 409, "Conflict", "another membership change is in progress; retry");
        break;
    case TRI_EEXIST:
        tri_send_error(req, 409, "AlreadyExists", "%s", why ? why : "exists");
        break;
    case TRI_EBUSY:
        tri_send_error(req, 409, "Conflict", "%s", why ? why : "refused");
        break;
    case TRI_EINVAL:
        tri_send_error(req, 400, "BadRequest", "%s", why ? why : "bad request");
        break;
    case TRI_ENOENT:
        tri_send_error(req, 404, "NotFound", "%s", why ? why : "no such member");
        break;
    case TRI_ETIMEDOUT:
        tri_send_error(req, 504, "Timeout", "%s", why ? why : "timed out");
        break;
    default:
        tri_send_error(req, 500, "InternalError", "%s%s%s", tri_strerror(status), why ? ": " : "",
                       why ? why : "");
    }
}

static void change_done(void *data, int status, uint64_t id, const char *msg)
{
    tri_req_t *ctx = data;
    if (ctx->req != NULL) {
        if (status != 0) {
            send_code(ctx->req, status, msg);
        } else {
            json_t *doc = members_doc(ctx->http);
            char hex[17];
            snprintf(hex, sizeof hex, "%016" PRIx64, id);
            if (doc != NULL)
                json_object_set_new(doc, "id", json_string(hex));
            tri_send_json(ctx->req, ctx->verb == V_CREATE ? 201 : 200,
                          doc ? doc : json_pack("{s:s}", "id", hex));
        }
    }
    ctx->op.http_code = status == 0 ? 200 : 500;
    tri_req_free(ctx);
}

static const char *body_str(json_t *b, const char *key)
{
    return json_string_value(json_object_get(b, key));
}

static void do_add(tri_http_t *h, h2o_req_t *req)
{
    tri_status_t st = {0};
    json_t *b = tri_decode_body(req, &st);
    if (b == NULL) {
        tri_send_status(req, &st);
        tri_status_clear(&st);
        return;
    }
    const char *why = NULL;
    tri_req_t *ctx = tri_req_new(h, req, V_CREATE);
    int rv = tri_node_member_add(tri_api_node(h->api), body_str(b, "name"), body_str(b, "peer"),
                                 body_str(b, "api"), json_is_true(json_object_get(b, "learner")),
                                 change_done, ctx, &why);
    json_decref(b);
    if (rv != 0) {
        send_code(req, rv, why);
        tri_req_free(ctx);
    }
}

static void do_change(tri_http_t *h, h2o_req_t *req, const char *name, bool promote)
{
    const char *why = NULL;
    tri_req_t *ctx = tri_req_new(h, req, promote ? V_UPDATE : V_DELETE);
    tri_node_t *node = tri_api_node(h->api);
    int rv = promote ? tri_node_member_promote(node, name, change_done, ctx, &why)
                     : tri_node_member_remove(node, name, change_done, ctx, &why);
    if (rv != 0) {
        send_code(req, rv, why);
        tri_req_free(ctx);
    }
}

static void do_transfer(tri_http_t *h, h2o_req_t *req)
{
    tri_status_t st = {0};
    json_t *b = req->entity.len ? tri_decode_body(req, &st) : json_object();
    if (b == NULL) {
        tri_send_status(req, &st);
        tri_status_clear(&st);
        return;
    }
    tri_node_t *node = tri_api_node(h->api);
    const char *name = body_str(b, "name");
    uint64_t to = name ? tri_node_member_id(node, name) : 0;
    tri_node_status_t ns;
    tri_node_get_status(node, &ns);
    bool self = to != 0 && to == ns.id && ns.role == TRI_ROLE_LEADER;
    int rv = name && to == 0 ? TRI_ENOENT : self ? 0 : tri_node_transfer(node, to);
    json_decref(b);
    if (rv == TRI_EPRECOND)
        tri_send_error(req, 409, "Conflict", "a leadership transfer is in progress; retry");
    else if (rv == TRI_EINVAL)
        tri_send_error(req, 400, "BadRequest", "%s is not a voter", name ? name : "the target");
    else if (rv != 0)
        send_code(req, rv, name && to == 0 ? "no member of that name" : NULL);
    else if (self)
        tri_send_json(req, 200, json_pack("{s:s}", "status", "already the leader"));
    else
        tri_send_json(req, 202, json_pack("{s:s}", "status", "transferring"));
}

/* The NAME of /triarch/v1/members/NAME[/promote] into out; false if malformed. */
static bool member_name(const char *p, size_t len, char *out, size_t cap, bool *promote)
{
    size_t base = strlen(MEMBERS_PATH "/");
    const char *s = p + base, *e = p + len;
    const char *slash = memchr(s, '/', (size_t)(e - s));
    *promote = slash != NULL && (size_t)(e - slash) == strlen("/promote") &&
               memcmp(slash, "/promote", strlen("/promote")) == 0;
    size_t n = (size_t)((slash ? slash : e) - s);
    if (n == 0 || n >= cap || (slash != NULL && !*promote))
        return false;
    memcpy(out, s, n);
    out[n] = '\0';
    return true;
}

static bool method_is(h2o_req_t *req, const char *m)
{
    return h2o_memis(req->method.base, req->method.len, m, strlen(m));
}

int tri_handle_members(tri_http_t *h, h2o_req_t *req, const char *p, size_t len)
{
    if (tri_path_under(p, len, LEADER_PATH) && len == strlen(LEADER_PATH)) {
        if (!method_is(req, "POST"))
            tri_send_error(req, 405, "MethodNotAllowed", "POST to transfer leadership");
        else
            do_transfer(h, req);
        return 0;
    }
    if (!tri_path_under(p, len, MEMBERS_PATH))
        return -1;
    if (len == strlen(MEMBERS_PATH)) {
        if (method_is(req, "GET")) {
            json_t *doc = members_doc(h);
            if (doc == NULL)
                tri_send_error(req, 503, "ServiceUnavailable", "raft is not running");
            else
                tri_send_json(req, 200, doc);
        } else if (method_is(req, "POST")) {
            do_add(h, req);
        } else {
            tri_send_error(req, 405, "MethodNotAllowed", "GET lists members, POST adds one");
        }
        return 0;
    }
    char name[64];
    bool promote;
    if (!member_name(p, len, name, sizeof name, &promote))
        tri_send_error(req, 404, "NotFound", "the server could not find the requested resource");
    else if (promote && method_is(req, "POST"))
        do_change(h, req, name, true);
    else if (!promote && method_is(req, "DELETE"))
        do_change(h, req, name, false);
    else
        tri_send_error(req, 405, "MethodNotAllowed", "DELETE removes a member, POST .../promote "
                                                     "promotes one");
    return 0;
}
