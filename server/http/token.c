/* serviceaccounts/token (TokenRequest, authentication.k8s.io/v1): what `kubectl
 * create token` and agents call. The service account is read (consistently); a
 * token may be bound to a Pod or Secret of the same namespace (its uid is
 * checked, and the token dies with it); the answer is the TokenRequest with
 * status.token and status.expirationTimestamp, 201 Created. Nothing is stored. */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "internal.h"
#include "triarch/authn.h"
#include "triarch/log.h"

#define TOKEN_DEFAULT_SECONDS 3600
#define TOKEN_MIN_SECONDS 600              /* Kubernetes refuses shorter ones */
#define TOKEN_MAX_SECONDS (1LL << 32)      /* bounds the arithmetic; ~136 years */

static void finish(tri_req_t *ctx, int code)
{
    tri_metrics_observe(ctx->http, V_CREATE, code, ctx->t0_ns);
    tri_req_free(ctx);
}

static void fail_status(tri_req_t *ctx, const tri_status_t *st)
{
    if (ctx->req)
        tri_send_status(ctx->req, st);
    finish(ctx, st->code);
}

static void fail(tri_req_t *ctx, int code, const char *reason, const char *msg)
{
    tri_status_t st = {0};
    tri_status_set(&st, code, reason, "%s", msg);
    fail_status(ctx, &st);
    tri_status_clear(&st);
}

static const char *str_at(const json_t *o, const char *k)
{
    const char *s = json_string_value(json_object_get(o, k));
    return s ? s : "";
}

static void rfc3339(int64_t t, char out[32])
{
    time_t tt = (time_t)t;
    struct tm tm;
    gmtime_r(&tt, &tm);
    strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static void audiences_of(const tri_http_t *h, const json_t *spec, tri_sa_claims_t *c)
{
    const json_t *aud = json_object_get(spec, "audiences");
    for (size_t i = 0; i < json_array_size(aud) && c->n_audiences < TRI_SA_MAX_AUDIENCES; i++)
        snprintf(c->audiences[c->n_audiences++], sizeof c->audiences[0], "%s",
                 json_string_value(json_array_get(aud, i)));
    if (c->n_audiences > 0)
        return;
    const char *list = h->cfg.api_audiences ? h->cfg.api_audiences : TRI_DEFAULT_SA_ISSUER;
    const char *comma = strchr(list, ',');
    snprintf(c->audiences[c->n_audiences++], sizeof c->audiences[0], "%.*s",
             (int)(comma ? (size_t)(comma - list) : strlen(list)), list);
}

static void sign_and_answer(tri_req_t *ctx, tri_sa_claims_t *c)
{
    tri_http_t *h = ctx->http;
    json_t *spec = json_object_get(ctx->aux, "spec");
    json_int_t secs = json_integer_value(json_object_get(spec, "expirationSeconds"));
    int64_t now = (int64_t)time(NULL);
    snprintf(c->issuer, sizeof c->issuer, "%s", h->cfg.sa_issuer ? h->cfg.sa_issuer : TRI_DEFAULT_SA_ISSUER);
    audiences_of(h, spec, c);
    c->iat = c->nbf = now;
    c->exp = now + secs;
    tri_uuid_v4(c->jti);
    tri_buf_t tok = {0};
    if (tri_sa_token_sign(h->cfg.sa_keys, c, &tok) != 0) {
        tri_buf_free(&tok);
        fail(ctx, 500, "InternalError", "signing the token failed");
        return;
    }
    json_t *aud = json_array();
    for (size_t i = 0; i < c->n_audiences; i++)
        json_array_append_new(aud, json_string(c->audiences[i]));
    json_object_set_new(spec, "audiences", aud);
    char exp[32];
    rfc3339(c->exp, exp);
    json_t *out = json_pack(
        "{s:s, s:s, s:{s:s, s:s, s:n}, s:O, s:{s:s%, s:s}}", "kind", "TokenRequest",
        "apiVersion", "authentication.k8s.io/v1", "metadata", "name", c->sa_name, "namespace",
        c->ns, "creationTimestamp", "spec", spec, "status", "token", tok.data, tok.len,
        "expirationTimestamp", exp);
    tri_buf_free(&tok);
    tri_info("token", "token issued", "sa=%s/%s by=\"%s\" exp=%s", c->ns, c->sa_name,
             ctx->user.name, exp);
    if (ctx->req)
        tri_send_json(ctx->req, 201, out);
    else
        json_decref(out);
    finish(ctx, 201);
}

/* The claims known once the account was read (its uid waits in ctx->aux). */
static void account_claims(tri_req_t *ctx, tri_sa_claims_t *c)
{
    memset(c, 0, sizeof *c);
    snprintf(c->ns, sizeof c->ns, "%.63s", ctx->rt.ns);
    snprintf(c->sa_name, sizeof c->sa_name, "%.253s", ctx->rt.name);
    snprintf(c->sa_uid, sizeof c->sa_uid, "%s", str_at(ctx->aux, "accountUID"));
}

/* The bound object was read: its uid must be the one asked for (when given). */
static void on_bound(tri_api_op_t *op)
{
    tri_req_t *ctx = op->data;
    if (op->status.code != 0) {
        fail_status(ctx, &op->status);
        return;
    }
    tri_sa_claims_t c;
    account_claims(ctx, &c);
    json_t *obj = json_loadb(op->body.data, op->body.len, 0, NULL);
    json_t *ref = json_object_get(json_object_get(ctx->aux, "spec"), "boundObjectRef");
    const char *uid = str_at(json_object_get(obj, "metadata"), "uid");
    const char *want = str_at(ref, "uid");
    bool pod = strcmp(str_at(ref, "kind"), "Pod") == 0;
    if (want[0] && strcmp(want, uid) != 0) {
        json_decref(obj);
        fail(ctx, 409, "Conflict", "the UID in the bound object reference does not match");
        return;
    }
    snprintf(pod ? c.pod_name : c.secret_name, sizeof c.pod_name, "%s", str_at(ref, "name"));
    snprintf(pod ? c.pod_uid : c.secret_uid, sizeof c.pod_uid, "%s", uid);
    if (pod)
        snprintf(c.node_name, sizeof c.node_name, "%s",
                 str_at(json_object_get(obj, "spec"), "nodeName"));
    json_decref(obj);
    sign_and_answer(ctx, &c);
}

static void on_account(tri_api_op_t *op)
{
    tri_req_t *ctx = op->data;
    if (op->status.code != 0) {
        fail_status(ctx, &op->status);
        return;
    }
    json_t *sa = json_loadb(op->body.data, op->body.len, 0, NULL);
    json_object_set_new(ctx->aux, "accountUID",
                        json_string(str_at(json_object_get(sa, "metadata"), "uid")));
    json_decref(sa);
    tri_sa_claims_t c;
    account_claims(ctx, &c);
    json_t *ref = json_object_get(json_object_get(ctx->aux, "spec"), "boundObjectRef");
    if (ref == NULL) {
        sign_and_answer(ctx, &c);
        return;
    }
    tri_api_op_release(&ctx->op);
    memset(&ctx->op, 0, sizeof ctx->op);
    ctx->op.data = ctx;
    bool pod = strcmp(str_at(ref, "kind"), "Pod") == 0;
    const tri_resource_t *r = tri_registry_find("", "v1", pod ? "pods" : "secrets");
    tri_api_get(ctx->http->api, &ctx->op, r, ctx->rt.ns, str_at(ref, "name"), NULL, on_bound);
}

/* 422 text for a spec Kubernetes would refuse, or NULL. */
static const char *spec_problem(json_t *spec)
{
    json_t *es = json_object_get(spec, "expirationSeconds");
    if (es == NULL || json_is_null(es) || (json_is_integer(es) && json_integer_value(es) == 0))
        json_object_set_new(spec, "expirationSeconds", json_integer(TOKEN_DEFAULT_SECONDS));
    else if (!json_is_integer(es))
        return "spec.expirationSeconds: Invalid value: must be an integer";
    json_int_t secs = json_integer_value(json_object_get(spec, "expirationSeconds"));
    if (secs < TOKEN_MIN_SECONDS)
        return "spec.expirationSeconds: Invalid value: may not specify a duration less than "
               "10 minutes";
    if (secs > TOKEN_MAX_SECONDS)
        return "spec.expirationSeconds: Invalid value: may not specify a duration larger than "
               "2^32 seconds";
    json_t *aud = json_object_get(spec, "audiences");
    for (size_t i = 0; i < json_array_size(aud); i++)
        if (!json_is_string(json_array_get(aud, i)) ||
            json_string_length(json_array_get(aud, i)) == 0 ||
            json_string_length(json_array_get(aud, i)) >= 256)
            return "spec.audiences: Invalid value: each audience must be a non-empty string "
                   "shorter than 256 bytes";
    if (aud && (!json_is_array(aud) || json_array_size(aud) > TRI_SA_MAX_AUDIENCES))
        return "spec.audiences: Invalid value: at most 8 audiences";
    json_t *ref = json_object_get(spec, "boundObjectRef");
    if (ref && !json_is_null(ref)) {
        const char *kind = str_at(ref, "kind");
        if (strcmp(kind, "Pod") != 0 && strcmp(kind, "Secret") != 0)
            return "spec.boundObjectRef.kind: Unsupported value: supported values: \"Pod\", "
                   "\"Secret\"";
        if (!str_at(ref, "name")[0])
            return "spec.boundObjectRef.name: Required value";
    } else if (ref) {
        json_object_del(spec, "boundObjectRef");
    }
    return NULL;
}

int tri_do_token_request(tri_req_t *ctx, h2o_req_t *req)
{
    if (ctx->http->cfg.sa_keys == NULL || !tri_sa_keys_can_sign(ctx->http->cfg.sa_keys)) {
        tri_send_error(req, 503, "ServiceUnavailable",
                       "serviceaccounts/token: this replica has no service-account signing key "
                       "(service-account-signing-key-file)");
        return -1;
    }
    tri_status_t st = {0};
    json_t *body = tri_decode_body(req, &st);
    if (body == NULL) {
        tri_send_status(req, &st);
        tri_status_clear(&st);
        return -1;
    }
    json_t *spec = json_object_get(body, "spec");
    if (!json_is_object(spec)) {
        spec = json_object();
        json_object_set_new(body, "spec", spec);
    }
    const char *bad = spec_problem(spec);
    if (bad) {
        tri_send_error(req, 422, "Invalid", "TokenRequest.authentication.k8s.io \"%s\" is "
                       "invalid: %s", ctx->rt.name, bad);
        json_decref(body);
        return -1;
    }
    ctx->aux = body;
    ctx->op.subresource = NULL; /* read the account itself */
    tri_api_get(ctx->http->api, &ctx->op, ctx->rt.res, ctx->rt.ns, ctx->rt.name, NULL,
                on_account);
    return 0;
}
