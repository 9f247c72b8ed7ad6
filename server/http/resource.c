/* Resource requests: the verbs of the Kubernetes API mapped onto the typed
 * client. A request is decoded here (query, body by Content-Type: JSON, YAML or
 * kubectl's protobuf; patch documents by patch type), handed to tri_api_* and
 * answered when the operation's callback fires: the object or list as JSON, a
 * Table when the client asked for one, or a Status. Short requests count against
 * the in-flight limit (429 beyond it); watches go to watch.c. */
#include <stdio.h>
#include <string.h>

#include "internal.h"
#include "triarch/codec.h"
#include "triarch/log.h"

/* ---------- completion ---------- */

static void send_table(tri_req_t *ctx)
{
    tri_api_op_t *op = &ctx->op;
    json_t *obj = json_loadb(op->body.data, op->body.len, 0, NULL);
    tri_send_json(ctx->req, op->http_code, tri_table_for_object(ctx->rt.res, obj));
    json_decref(obj);
}

/* One Warning header per unknown field, as apiserver sends them. */
static void add_warnings(h2o_req_t *req, const tri_buf_t *w)
{
    size_t i = 0;
    while (i < w->len) {
        const char *nl = memchr(w->data + i, '\n', w->len - i);
        size_t n = nl ? (size_t)(nl - (w->data + i)) : w->len - i;
        tri_buf_t v = {0};
        tri_buf_appendf(&v, "299 - \"");
        for (size_t j = 0; j < n; j++) {
            char c = w->data[i + j];
            if (c == '"' || c == '\\')
                tri_buf_append(&v, "\\", 1);
            tri_buf_append(&v, &c, 1);
        }
        tri_buf_append(&v, "\"", 1);
        h2o_iovec_t hv = h2o_strdup(&req->pool, v.data, v.len);
        h2o_add_header_by_str(&req->pool, &req->res.headers, H2O_STRLIT("warning"), 0, NULL,
                              hv.base, hv.len);
        tri_buf_free(&v);
        i += n + 1;
    }
}

static void on_op_done(tri_api_op_t *op)
{
    tri_req_t *ctx = op->data;
    int code = op->status.code ? op->status.code : op->http_code;
    /* fieldValidation=Ignore drops unknown fields silently; Warn (the default) says so */
    if (ctx->req != NULL && op->warnings.len > 0 &&
        !(ctx->p.field_validation && strcmp(ctx->p.field_validation, "Ignore") == 0))
        add_warnings(ctx->req, &op->warnings);
    if (ctx->req != NULL) {
        if (op->status.code != 0)
            tri_send_status(ctx->req, &op->status);
        else if (ctx->accept == ACC_TABLE && ctx->verb == V_GET)
            send_table(ctx); /* lists render their Table as they read (want_table) */
        else
            tri_send_body(ctx->req, op->http_code, "application/json", op->body.data,
                          op->body.len);
    }
    tri_metrics_observe(ctx->http, ctx->verb, code, ctx->t0_ns);
    tri_req_free(ctx);
}

/* ---------- bodies ---------- */

json_t *tri_decode_body(h2o_req_t *req, tri_status_t *st)
{
    char err[512] = "";
    if (req->entity.base == NULL || req->entity.len == 0) {
        tri_status_set(st, 400, "BadRequest", "the request body is empty");
        return NULL;
    }
    if (req->entity.len > TRI_MAX_BODY_BYTES) {
        tri_status_set(st, 413, "RequestEntityTooLarge",
                       "the request body is %zu bytes, over the limit of %d bytes",
                       req->entity.len, TRI_MAX_BODY_BYTES);
        return NULL;
    }
    json_t *obj;
    if (tri_req_header_is(req, H2O_TOKEN_CONTENT_TYPE, "application/vnd.kubernetes.protobuf")) {
        obj = tri_protobuf_decode(req->entity.base, req->entity.len, err, sizeof err);
        if (obj == NULL && strstr(err, "unsupported")) {
            tri_status_set(st, 415, "UnsupportedMediaType", "%s", err);
            return NULL;
        }
    } else if (tri_req_header_is(req, H2O_TOKEN_CONTENT_TYPE, "application/yaml")) {
        obj = tri_yaml_decode(req->entity.base, req->entity.len, err, sizeof err);
    } else if (h2o_find_header(&req->headers, H2O_TOKEN_CONTENT_TYPE, -1) < 0 ||
               tri_req_header_is(req, H2O_TOKEN_CONTENT_TYPE, "application/json") ||
               tri_req_header_is(req, H2O_TOKEN_CONTENT_TYPE, "*/*")) {
        obj = tri_json_decode(req->entity.base, req->entity.len, err, sizeof err);
    } else {
        tri_status_set(st, 415, "UnsupportedMediaType",
                       "the body of the request was in an unknown format - accepted media types "
                       "include: application/json, application/yaml, "
                       "application/vnd.kubernetes.protobuf");
        return NULL;
    }
    if (obj == NULL)
        tri_status_set(st, 400, "BadRequest", "the request body could not be decoded: %s", err);
    return obj;
}

static int patch_type_of(h2o_req_t *req, enum tri_patch_type *t)
{
    static const struct {
        const char *ctype;
        enum tri_patch_type type;
    } types[] = {
        {"application/merge-patch+json", TRI_PATCH_MERGE},
        {"application/strategic-merge-patch+json", TRI_PATCH_STRATEGIC},
        {"application/json-patch+json", TRI_PATCH_JSON},
        {"application/apply-patch+yaml", TRI_PATCH_APPLY},
    };
    for (size_t i = 0; i < sizeof types / sizeof types[0]; i++) {
        if (tri_req_header_is(req, H2O_TOKEN_CONTENT_TYPE, types[i].ctype)) {
            *t = types[i].type;
            return 0;
        }
    }
    return -1;
}

static json_t *decode_patch(h2o_req_t *req, enum tri_patch_type t, tri_status_t *st)
{
    char err[512] = "";
    if (req->entity.len > TRI_MAX_BODY_BYTES) {
        tri_status_set(st, 413, "RequestEntityTooLarge", "the patch is over %d bytes",
                       TRI_MAX_BODY_BYTES);
        return NULL;
    }
    json_t *p = NULL;
    if (t == TRI_PATCH_APPLY)
        p = tri_yaml_decode(req->entity.base ? req->entity.base : "", req->entity.len, err,
                            sizeof err);
    else
        p = json_loadb(req->entity.base ? req->entity.base : "", req->entity.len,
                       JSON_DECODE_ANY, NULL);
    if (p == NULL) {
        tri_status_set(st, 400, "BadRequest", "the patch could not be decoded%s%s",
                       err[0] ? ": " : "", err);
        return NULL;
    }
    bool ok = t == TRI_PATCH_JSON ? json_is_array(p) : json_is_object(p);
    if (!ok) {
        json_decref(p);
        tri_status_set(st, 400, "BadRequest", "the patch must be a JSON %s",
                       t == TRI_PATCH_JSON ? "array of operations" : "object");
        return NULL;
    }
    return p;
}

/* ---------- verbs ---------- */

static void fill_list_opts(const tri_params_t *p, tri_list_opts_t *o)
{
    memset(o, 0, sizeof *o);
    o->label_selector = p->label_selector;
    o->field_selector = p->field_selector;
    o->resource_version = p->resource_version;
    o->continue_token = p->continue_token;
    o->limit = p->limit ? strtol(p->limit, NULL, 10) : 0;
    if (p->rv_match && strcmp(p->rv_match, "Exact") == 0)
        o->rv_match = TRI_RV_EXACT;
    else if (p->rv_match && strcmp(p->rv_match, "NotOlderThan") == 0)
        o->rv_match = TRI_RV_NOT_OLDER;
}

static bool is_dry_run(const tri_params_t *p)
{
    return p->dry_run && strcmp(p->dry_run, "All") == 0;
}

static enum tri_propagation propagation_of(const char *s)
{
    if (s == NULL)
        return TRI_PROPAGATE_DEFAULT;
    if (strcmp(s, "Orphan") == 0)
        return TRI_PROPAGATE_ORPHAN;
    if (strcmp(s, "Foreground") == 0)
        return TRI_PROPAGATE_FOREGROUND;
    if (strcmp(s, "Background") == 0)
        return TRI_PROPAGATE_BACKGROUND;
    return (enum tri_propagation)-1;
}

/* DeleteOptions from the query and the body (the body wins, as in apiserver). */
static int delete_opts_of(tri_req_t *ctx, h2o_req_t *req, json_t **body, tri_delete_opts_t *o)
{
    memset(o, 0, sizeof *o);
    o->grace_period_seconds = ctx->p.grace_period_seconds
                                  ? strtol(ctx->p.grace_period_seconds, NULL, 10)
                                  : -1;
    o->dry_run = is_dry_run(&ctx->p);
    o->propagation = propagation_of(ctx->p.propagation_policy);
    *body = NULL;
    if (req->entity.base && req->entity.len > 0) {
        json_t *opts = json_loadb(req->entity.base, req->entity.len, 0, NULL);
        if (!json_is_object(opts)) {
            json_decref(opts);
            tri_send_error(req, 400, "BadRequest", "the DeleteOptions body could not be decoded");
            return -1;
        }
        *body = opts;
        json_t *pre = json_object_get(opts, "preconditions");
        o->precondition_uid = json_string_value(json_object_get(pre, "uid"));
        o->precondition_rv = json_string_value(json_object_get(pre, "resourceVersion"));
        json_t *dr = json_object_get(opts, "dryRun");
        if (json_is_array(dr) && json_array_size(dr) > 0)
            o->dry_run = true;
        json_t *pp = json_object_get(opts, "propagationPolicy");
        if (json_is_string(pp))
            o->propagation = propagation_of(json_string_value(pp));
        json_t *orphan = json_object_get(opts, "orphanDependents");
        if (json_is_boolean(orphan))
            o->propagation = json_is_true(orphan) ? TRI_PROPAGATE_ORPHAN
                                                  : TRI_PROPAGATE_BACKGROUND;
        json_t *gp = json_object_get(opts, "gracePeriodSeconds");
        if (json_is_integer(gp))
            o->grace_period_seconds = (long)json_integer_value(gp);
    }
    if ((int)o->propagation == -1) {
        tri_send_error(req, 400, "BadRequest",
                       "propagationPolicy: Unsupported value: must be Orphan, Foreground or "
                       "Background");
        json_decref(*body);
        *body = NULL;
        return -1;
    }
    return 0;
}

static int do_delete(tri_req_t *ctx, h2o_req_t *req)
{
    json_t *body;
    tri_delete_opts_t dopts;
    if (delete_opts_of(ctx, req, &body, &dopts) != 0)
        return -1;
    tri_api_delete(ctx->http->api, &ctx->op, ctx->rt.res, ctx->rt.ns, ctx->rt.name, &dopts,
                   on_op_done);
    json_decref(body);
    return 0;
}

/* pods/eviction: the pod is deleted (disruption budgets are checked once their
 * controller exists); the answer is a Status, as apiserver's. */
static void on_evicted(tri_api_op_t *op)
{
    if (op->status.code == 0) {
        tri_buf_reset(&op->body);
        tri_buf_appendf(&op->body, "{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"metadata\":{},"
                                   "\"status\":\"Success\",\"code\":201}");
        op->http_code = 201;
    }
    on_op_done(op);
}

static int do_evict(tri_req_t *ctx, h2o_req_t *req)
{
    tri_status_t st = {0};
    json_t *ev = tri_decode_body(req, &st);
    if (ev == NULL) {
        tri_send_status(req, &st);
        tri_status_clear(&st);
        return -1;
    }
    json_t *o = json_object_get(ev, "deleteOptions");
    tri_delete_opts_t dopts = {.grace_period_seconds = -1, .dry_run = is_dry_run(&ctx->p)};
    json_t *gp = json_object_get(o, "gracePeriodSeconds");
    if (json_is_integer(gp))
        dopts.grace_period_seconds = (long)json_integer_value(gp);
    tri_api_delete(ctx->http->api, &ctx->op, ctx->rt.res, ctx->rt.ns, ctx->rt.name, &dopts,
                   on_evicted);
    json_decref(ev);
    return 0;
}

static int do_patch(tri_req_t *ctx, h2o_req_t *req)
{
    enum tri_patch_type t;
    if (patch_type_of(req, &t) != 0) {
        tri_send_error(req, 415, "UnsupportedMediaType",
                       "the body of the request was in an unknown format - accepted media types "
                       "include: application/json-patch+json, application/merge-patch+json, "
                       "application/apply-patch+yaml, application/strategic-merge-patch+json");
        return -1;
    }
    tri_status_t st = {0};
    json_t *patch = decode_patch(req, t, &st);
    if (patch == NULL) {
        tri_send_status(req, &st);
        tri_status_clear(&st);
        return -1;
    }
    if (t == TRI_PATCH_APPLY && (ctx->op.field_manager == NULL || !ctx->op.field_manager[0])) {
        json_decref(patch);
        tri_send_error(req, 400, "BadRequest",
                       "PATCH with application/apply-patch+yaml requires the fieldManager "
                       "query parameter");
        return -1;
    }
    tri_api_patch(ctx->http->api, &ctx->op, ctx->rt.res, ctx->rt.ns, ctx->rt.name, t, patch,
                  is_dry_run(&ctx->p), on_op_done);
    json_decref(patch);
    return 0;
}

static int do_write_with_body(tri_req_t *ctx, h2o_req_t *req, bool create)
{
    tri_status_t st = {0};
    json_t *obj = tri_decode_body(req, &st);
    if (obj == NULL) {
        tri_send_status(req, &st);
        tri_status_clear(&st);
        return -1;
    }
    if (create) {
        tri_http_audit_name(req, json_string_value(json_object_get(json_object_get(obj, "metadata"),
                                                                   "name")));
        tri_api_create(ctx->http->api, &ctx->op, ctx->rt.res, ctx->rt.ns, obj,
                       is_dry_run(&ctx->p), on_op_done);
    } else {
        tri_api_update(ctx->http->api, &ctx->op, ctx->rt.res, ctx->rt.ns, ctx->rt.name, obj,
                       is_dry_run(&ctx->p), on_op_done);
        json_decref(obj);
    }
    return 0;
}

static enum tri_verb verb_of(h2o_req_t *req, const tri_route_t *rt, const tri_params_t *p)
{
    h2o_iovec_t m = req->method;
    if (h2o_memis(m.base, m.len, H2O_STRLIT("GET")))
        return tri_param_true(p->watch) ? V_WATCH : rt->collection ? V_LIST : V_GET;
    if (h2o_memis(m.base, m.len, H2O_STRLIT("POST")) && rt->collection)
        return V_CREATE;
    if (h2o_memis(m.base, m.len, H2O_STRLIT("PUT")) && !rt->collection)
        return V_UPDATE;
    if (h2o_memis(m.base, m.len, H2O_STRLIT("PATCH")) && !rt->collection)
        return V_PATCH;
    if (h2o_memis(m.base, m.len, H2O_STRLIT("DELETE")))
        return rt->collection ? V_DELCOL : V_DELETE;
    return V_OTHER;
}

static bool method_is(h2o_req_t *req, const char *m)
{
    return h2o_memis(req->method.base, req->method.len, m, strlen(m));
}

static bool listed_sub(const tri_resource_t *r, const char *sub)
{
    for (size_t i = 0; i < sizeof r->subresources / sizeof r->subresources[0]; i++)
        if (r->subresources[i] && strcmp(r->subresources[i], sub) == 0)
            return true;
    return false;
}

/* The verb of a subresource request, or V_ANSWERED when it was answered here
 * (404, 405, 503 for what needs a node agent or token signing). */
static enum tri_verb sub_verb(tri_http_t *h, h2o_req_t *req, const tri_route_t *rt)
{
    const tri_resource_t *r = rt->res;
    const char *sub = rt->sub;
    bool status = !strcmp(sub, "status") && r->has_status;
    bool scale = !strcmp(sub, "scale") && r->scale_replicas != NULL;
    /* certificatesigningrequests/approval reads and writes like status */
    status = status || (!strcmp(sub, "approval") && listed_sub(r, sub));
    if (!status && !scale && !listed_sub(r, sub)) {
        tri_send_error(req, 404, "NotFound", "the server could not find the requested resource");
        return V_ANSWERED;
    }
    static const char *const agent_subs[] = {"log", "exec", "attach", "portforward", "proxy",
                                             "ephemeralcontainers"};
    for (size_t i = 0; i < sizeof agent_subs / sizeof agent_subs[0]; i++) {
        if (!strcmp(sub, agent_subs[i])) {
            tri_send_error(req, 503, "ServiceUnavailable",
                           "%s/%s is served by the node agent, which no node runs yet",
                           r->plural, sub);
            return V_ANSWERED;
        }
    }
    if (!strcmp(sub, "token"))
        return method_is(req, "POST") ? V_CREATE : V_OTHER;
    if (status || scale) {
        if (method_is(req, "GET"))
            return V_GET;
        if (method_is(req, "PUT"))
            return V_UPDATE;
        if (method_is(req, "PATCH"))
            return V_PATCH;
        return V_OTHER;
    }
    if (!strcmp(sub, "binding") || !strcmp(sub, "eviction"))
        return method_is(req, "POST") ? V_CREATE : V_OTHER;
    if (!strcmp(sub, "finalize"))
        return method_is(req, "PUT") ? V_UPDATE : V_OTHER;
    (void)h;
    tri_send_error(req, 404, "NotFound", "the server could not find the requested resource");
    return V_ANSWERED;
}

static bool over_limit(tri_http_t *h, h2o_req_t *req)
{
    if (h->inflight < h->cfg.max_inflight)
        return false;
    h->metrics.rejected_inflight++;
    tri_send_error(req, 429, "TooManyRequests", "Too many requests, please try again later.");
    return true;
}

int tri_handle_resource(tri_http_t *h, h2o_req_t *req, tri_route_t *rt, const tri_user_t *u)
{
    tri_params_t p;
    tri_req_parse_query(req, &p);
    enum tri_verb verb = rt->sub[0] ? sub_verb(h, req, rt) : verb_of(req, rt, &p);
    if (verb == V_ANSWERED)
        return 0;
    if (verb == V_OTHER || (rt->res->review && (verb != V_CREATE || rt->name[0]))) {
        tri_send_error(req, 405, "MethodNotAllowed",
                       "the server does not allow this method on the requested resource");
        return 0;
    }
    if (tri_authorize_resource(h, req, u, rt, verb) != 0)
        return 0;
    if (rt->res->review)
        return tri_handle_review(h, req, rt, u);
    if (verb == V_WATCH)
        return tri_handle_watch(h, req, rt, &p, u);
    if (p.limit != NULL) {
        char *end;
        long v = strtol(p.limit, &end, 10);
        if (p.limit[0] == '\0' || *end != '\0' || v < 0) {
            tri_send_error(req, 400, "BadRequest",
                           "limit: Invalid value: \"%s\": must be a non-negative integer",
                           p.limit);
            return 0;
        }
    }
    if (p.field_manager && strlen(p.field_manager) > 128) {
        tri_send_error(req, 422, "Invalid", "fieldManager: Too long: must have at most 128 bytes");
        return 0;
    }
    if (over_limit(h, req))
        return 0;
    tri_req_t *ctx = tri_req_new(h, req, verb);
    if (ctx == NULL) {
        tri_send_error(req, 500, "InternalError", "out of memory");
        return 0;
    }
    ctx->rt = *rt;
    ctx->p = p;
    ctx->user = *u;
    ctx->op.user = &ctx->user;
    ctx->accept = tri_req_accept(req);
    ctx->limited = true;
    ctx->op.strict_fields = p.field_validation && strcmp(p.field_validation, "Strict") == 0;
    if (p.field_manager) {
        snprintf(ctx->field_manager, sizeof ctx->field_manager, "%s", p.field_manager);
        ctx->op.field_manager = ctx->field_manager;
    }
    ctx->op.force = tri_param_true(p.force);
    h->inflight++;
    int rc = 0;
    tri_list_opts_t lo;
    if (rt->sub[0])
        ctx->op.subresource = ctx->rt.sub;
    if (rt->sub[0] && !strcmp(rt->sub, "eviction")) {
        rc = do_evict(ctx, req);
        verb = V_OTHER;
    } else if (rt->sub[0] && !strcmp(rt->sub, "token")) {
        rc = tri_do_token_request(ctx, req);
        verb = V_OTHER;
    } else if (rt->sub[0] && !strcmp(rt->sub, "binding")) {
        verb = V_UPDATE; /* a POST that sets spec.nodeName through the update path */
    }
    switch (verb) {
    case V_GET:
        tri_api_get(h->api, &ctx->op, rt->res, rt->ns, rt->name, p.resource_version, on_op_done);
        break;
    case V_LIST:
        fill_list_opts(&p, &lo);
        ctx->op.want_table = ctx->accept == ACC_TABLE;
        tri_api_list(h->api, &ctx->op, rt->res, rt->ns, &lo, on_op_done);
        break;
    case V_CREATE:
        rc = do_write_with_body(ctx, req, true);
        break;
    case V_UPDATE:
        rc = do_write_with_body(ctx, req, false);
        break;
    case V_PATCH:
        rc = do_patch(ctx, req);
        break;
    case V_DELETE:
        rc = do_delete(ctx, req);
        break;
    case V_DELCOL:
        fill_list_opts(&p, &lo);
        tri_api_delete_collection(h->api, &ctx->op, rt->res, rt->ns, &lo, is_dry_run(&p),
                                  on_op_done);
        break;
    default:
        break;
    }
    if (rc != 0) {
        /* answered already (bad input); nothing was started */
        tri_metrics_observe(h, verb, 400, ctx->t0_ns);
        tri_req_free(ctx);
    }
    return 0;
}
