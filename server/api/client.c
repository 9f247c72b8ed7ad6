/* The typed client: get, list, create, update, patch, delete and deletecollection
 * with Kubernetes semantics over the replicated store.
 *
 * Reads choose their consistency from the request's resourceVersion: none means a
 * linearizable read (a read barrier through the leader, then the local store),
 * "0" means the local store at once, N means "not older than N" (wait, bounded,
 * until the local store reaches N). Writes are txns with preconditions proposed
 * through tri_node_propose (forwarded to the leader from followers). Updates
 * without a client resourceVersion and patches are compare-and-swap loops
 * (apiserver's GuaranteedUpdate): read, mutate, propose with mod_revision ==
 * read revision, retry on conflict. A stale local read can only make a CAS fail
 * (and retry); a local "not found" is confirmed after a read barrier before it
 * reaches the client, so a write acknowledged elsewhere is never reported missing.
 *
 * Each operation is a tri_api_op_t that moves through the steps below; every step
 * ends by calling another step, proposing, waiting, or finishing the op.
 */
#include <errno.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "admission.h"
#include "lifecycle.h"
#include "meta.h"
#include "op.h"
#include "quota_lane.h"
#include "scale.h"
#include "resources.h"
#include "storage.h"
#include "triarch/api.h"
#include "triarch/apply.h"
#include "triarch/codec.h"
#include "triarch/errors.h"
#include "triarch/log.h"

/* apiserver's GuaranteedUpdate retries until the request times out; a bound keeps a
 * pathological key from spinning forever (16 writers on one key need ~16 rounds). */
#define DEFAULT_GU_RETRIES 256

enum op_kind { OP_GET = 1, OP_LIST, OP_CREATE, OP_UPDATE, OP_PATCH, OP_DELETE, OP_DELCOL };

/* What to do once a read point (barrier or revision wait) is reached. */
enum op_phase { PH_READ = 1, PH_CONFIRM_ABSENT, PH_RETRY };

int tri_api_new(uv_loop_t *loop, tri_node_t *node, tri_store_t *store,
                const tri_api_config_t *cfg, tri_api_t **out)
{
    tri_api_t *api = calloc(1, sizeof *api);
    if (api == NULL)
        return TRI_ENOMEM;
    api->loop = loop;
    api->node = node;
    api->store = store;
    if (cfg)
        api->cfg = *cfg;
    if (api->cfg.max_guaranteed_update_retries == 0)
        api->cfg.max_guaranteed_update_retries = DEFAULT_GU_RETRIES;
    *out = api;
    return 0;
}

void tri_api_free(tri_api_t *api)
{
    if (api != NULL)
        tri_api_memo_clear(api);
    free(api);
}

tri_store_t *tri_api_store(tri_api_t *api)
{
    return api->store;
}

tri_node_t *tri_api_node(tri_api_t *api)
{
    return api->node;
}

const tri_encrypt_t *tri_api_encryption(const tri_api_t *api)
{
    return api->cfg.encryption;
}

enum tri_authz_decision tri_api_authorize(const tri_api_t *api, const tri_authz_attrs_t *attrs,
                                          char *reason, size_t len)
{
    if (api->cfg.authorize == NULL) {
        if (len)
            snprintf(reason, len, "no authorizer configured");
        return TRI_AUTHZ_DENY;
    }
    return api->cfg.authorize(api->cfg.authorize_data, attrs, reason, len);
}

size_t tri_api_watch_count(tri_api_t *api)
{
    return api->watches;
}

void tri_api_watch_count_add(tri_api_t *api, int delta);
void tri_api_watch_count_add(tri_api_t *api, int delta)
{
    api->watches = (size_t)((long)api->watches + delta);
}

/* ---------- op plumbing ---------- */

static void op_init(tri_api_t *api, tri_api_op_t *op, const tri_resource_t *r, const char *ns,
                    const char *name, int kind, tri_api_cb cb)
{
    op->api = api;
    op->res = r;
    op->cb = cb;
    op->kind = kind;
    op->http_code = 200;
    snprintf(op->ns, sizeof op->ns, "%s", r->namespaced && ns ? ns : "");
    snprintf(op->name, sizeof op->name, "%s", name ? name : "");
    op->prop.data = op;
    op->waiter.data = op;
    op->quota_cmp0 = -1;
}

static void op_finish(tri_api_op_t *op)
{
    tri_quota_lane_leave(op); /* before cb: the caller may free op */
    op->cb(op);
}

void tri_op_finish(tri_api_op_t *op)
{
    op_finish(op);
}

void tri_api_op_release(tri_api_op_t *op)
{
    tri_status_clear(&op->status);
    tri_buf_free(&op->body);
    tri_buf_free(&op->key);
    tri_buf_free(&op->val);
    tri_buf_free(&op->sealed);
    tri_buf_free(&op->warnings);
    tri_txn_builder_reset(&op->builder);
    json_decref(op->obj);
    json_decref(op->items);
    json_decref(op->list_meta);
    json_decref(op->input);
    json_decref(op->current);
    free(op->lopts_store);
    op->obj = op->items = op->list_meta = op->input = op->current = NULL;
    op->lopts_store = NULL;
}

void tri_api_op_cancel(tri_api_op_t *op)
{
    op->canceled = true;
}

static void set_details(tri_api_op_t *op)
{
    snprintf(op->status.kind, sizeof op->status.kind, "%s", op->res->plural);
    snprintf(op->status.group, sizeof op->status.group, "%s", op->res->group);
    if (op->name[0])
        snprintf(op->status.name, sizeof op->status.name, "%s", op->name);
}

static void fail_not_found(tri_api_op_t *op)
{
    tri_status_set(&op->status, 404, "NotFound", "%s \"%s\" not found", op->res->plural, op->name);
    set_details(op);
    op_finish(op);
}

static void fail_code(tri_api_op_t *op, int code)
{
    char what[300];
    snprintf(what, sizeof what, "%s \"%s\"", op->res->plural, op->name);
    tri_status_from_code(&op->status, code, what);
    op_finish(op);
}

void tri_op_fail_code(tri_api_op_t *op, int code)
{
    fail_code(op, code);
}

static void fail_conflict(tri_api_op_t *op)
{
    tri_status_set(&op->status, 409, "Conflict",
                   "Operation cannot be fulfilled on %s \"%s\": the object has been modified; "
                   "please apply your changes to the latest version and try again",
                   op->res->plural, op->name);
    set_details(op);
    op_finish(op);
}

/* Parses a resourceVersion parameter: "" → -1 (none), else a non-negative int. */
static int parse_rv(const char *s, int64_t *out)
{
    if (s == NULL || s[0] == '\0') {
        *out = -1;
        return 0;
    }
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno || *end != '\0' || v < 0)
        return TRI_EINVAL;
    *out = v;
    return 0;
}

static void fail_bad_rv(tri_api_op_t *op, const char *rv)
{
    tri_status_set(&op->status, 400, "BadRequest", "invalid resource version \"%s\"", rv);
    op_finish(op);
}

static void step(tri_api_op_t *op);

static void on_read_point(tri_waiter_t *w, int status)
{
    tri_api_op_t *op = w->data;
    if (status != 0) {
        fail_code(op, status == TRI_ETIMEDOUT ? TRI_EFUTURE : status);
        return;
    }
    step(op);
}

/* Reach the read point a resourceVersion asks for, then step(op). */
static void wait_read_point(tri_api_op_t *op, int64_t rv)
{
    int rc;
    if (rv < 0)
        rc = tri_node_read_barrier(op->api->node, &op->waiter, on_read_point);
    else
        rc = tri_node_wait_revision(op->api->node, &op->waiter, rv, on_read_point);
    if (rc != 0)
        fail_code(op, rc);
}

static bool sub_is(const tri_api_op_t *op, const char *name)
{
    return op->subresource != NULL && strcmp(op->subresource, name) == 0;
}

/* ---------- get ---------- */

static void get_step(tri_api_op_t *op)
{
    tri_kv_t kv;
    int rc = tri_store_get(op->api->store, op->key.data, op->key.len, 0, &kv);
    if (rc == TRI_ENOENT) {
        fail_not_found(op);
        return;
    }
    if (rc != 0) {
        fail_code(op, rc);
        return;
    }
    op->revision = kv.mod_rev;
    tri_val_t *plain = NULL;
    if (tri_storage_open(op->api, op->res, kv.key, kv.key_len, kv.val, &plain, NULL,
                         &op->status) != 0) {
        tri_kv_release(&kv);
        op_finish(op);
        return;
    }
    if (sub_is(op, "scale")) {
        json_t *obj = tri_object_load_as(op->res, plain, kv.mod_rev);
        json_t *scale = obj ? tri_scale_from(op->res, obj) : NULL;
        char *js = scale ? json_dumps(scale, JSON_COMPACT) : NULL;
        if (js)
            tri_buf_append(&op->body, js, strlen(js));
        free(js);
        json_decref(scale);
        json_decref(obj);
    } else {
        tri_object_render_as(op->res, plain->data, plain->len, kv.mod_rev, &op->body);
    }
    tri_val_unref(plain);
    tri_kv_release(&kv);
    op_finish(op);
}

int tri_api_get(tri_api_t *api, tri_api_op_t *op, const tri_resource_t *r, const char *ns,
                const char *name, const char *rv, tri_api_cb cb)
{
    op_init(api, op, r, ns, name, OP_GET, cb);
    tri_registry_key(r, op->ns, name, &op->key);
    int64_t v;
    if (parse_rv(rv, &v) != 0) {
        fail_bad_rv(op, rv);
        return 0;
    }
    if (v == 0)
        step(op);
    else
        wait_read_point(op, v);
    return 0;
}

/* ---------- list ---------- */

typedef struct list_ctx {
    tri_selector_t *labels;
    tri_selector_t *fields;
} list_ctx_t;

static bool field_allowed(const tri_resource_t *r, const char *f)
{
    if (strcmp(f, "metadata.name") == 0 || (strcmp(f, "metadata.namespace") == 0))
        return true;
    for (size_t i = 0; i < sizeof r->fields / sizeof r->fields[0] && r->fields[i]; i++)
        if (strcmp(r->fields[i], f) == 0)
            return true;
    return false;
}

/* Parses both selectors; on error sets a 400 status. */
int tri_api_parse_selectors(const tri_resource_t *r, const char *lsel, const char *fsel,
                            tri_selector_t **labels, tri_selector_t **fields, tri_status_t *st)
{
    char err[256];
    *labels = *fields = NULL;
    if (lsel && lsel[0] && tri_label_selector_parse(lsel, labels, err, sizeof err) != 0) {
        tri_status_set(st, 400, "BadRequest", "unable to parse requirement: %s", err);
        return TRI_EINVAL;
    }
    if (fsel && fsel[0]) {
        if (tri_field_selector_parse(fsel, fields, err, sizeof err) != 0) {
            tri_status_set(st, 400, "BadRequest", "invalid field selector: %s", err);
            goto err;
        }
        const char *names[32];
        size_t n = tri_field_selector_fields(*fields, names, 32);
        for (size_t i = 0; i < n && i < 32; i++) {
            if (!field_allowed(r, names[i])) {
                tri_status_set(st, 400, "BadRequest",
                               "field label not supported: %s", names[i]);
                goto err;
            }
        }
    }
    return 0;
err:
    tri_selector_free(*labels);
    tri_selector_free(*fields);
    *labels = *fields = NULL;
    return TRI_EINVAL;
}

/* Whether an object passes the selectors (NULL selectors pass everything). */
bool tri_api_selectors_match(const tri_selector_t *labels, const tri_selector_t *fields,
                             const json_t *obj)
{
    if (labels && !tri_label_selector_match(
                      labels, json_object_get(json_object_get(obj, "metadata"), "labels")))
        return false;
    if (fields && !tri_field_selector_match(fields, obj))
        return false;
    return true;
}

/* Continue tokens (see list.c) carry the revision and the next key suffix. */
static int decode_continue(const char *tok, int64_t *rv, tri_buf_t *start)
{
    size_t n = strlen(tok);
    if (n == 0 || n > 8192 || n % 4 != 0)
        return TRI_EINVAL;
    unsigned char *raw = malloc(n);
    if (raw == NULL)
        return TRI_ENOMEM;
    int len = EVP_DecodeBlock(raw, (const unsigned char *)tok, (int)n);
    int rc = TRI_EINVAL;
    if (len < 0)
        goto out;
    while (len > 0 && raw[len - 1] == '\0') /* EVP_DecodeBlock keeps padding bytes */
        len--;
    json_t *t = json_loadb((const char *)raw, (size_t)len, JSON_ALLOW_NUL, NULL);
    json_t *jrv = json_object_get(t, "rv"), *js = json_object_get(t, "start");
    if (json_is_integer(jrv) && json_integer_value(jrv) > 0 && json_is_string(js)) {
        *rv = json_integer_value(jrv);
        tri_buf_append(start, json_string_value(js), json_string_length(js));
        rc = 0;
    }
    json_decref(t);
out:
    free(raw);
    return rc;
}

static char *dup_or_null(const char *s, char **cursor)
{
    if (s == NULL)
        return NULL;
    size_t n = strlen(s) + 1;
    memcpy(*cursor, s, n);
    char *r = *cursor;
    *cursor += n;
    return r;
}

static void copy_list_opts(tri_api_op_t *op, const tri_list_opts_t *o)
{
    size_t n = 4;
    const char *strs[] = {o->label_selector, o->field_selector, o->resource_version,
                          o->continue_token};
    for (size_t i = 0; i < 4; i++)
        n += strs[i] ? strlen(strs[i]) + 1 : 0;
    op->lopts_store = malloc(n);
    char *c = op->lopts_store;
    op->lopts = *o;
    op->lopts.label_selector = dup_or_null(o->label_selector, &c);
    op->lopts.field_selector = dup_or_null(o->field_selector, &c);
    op->lopts.resource_version = dup_or_null(o->resource_version, &c);
    op->lopts.continue_token = dup_or_null(o->continue_token, &c);
}

static int list_begin(tri_api_t *api, tri_api_op_t *op, const tri_list_opts_t *opts)
{
    copy_list_opts(op, opts);
    const tri_list_opts_t *o = &op->lopts;
    int64_t v;
    if (parse_rv(o->resource_version, &v) != 0) {
        fail_bad_rv(op, o->resource_version);
        return 0;
    }
    if (o->continue_token && o->continue_token[0]) {
        if (v > 0) {
            tri_status_set(&op->status, 400, "BadRequest",
                           "specifying resource version is not allowed when using continue");
            op_finish(op);
            return 0;
        }
        int64_t crv;
        if (decode_continue(o->continue_token, &crv, &op->key) != 0) {
            tri_status_set(&op->status, 400, "BadRequest", "invalid continue token");
            op_finish(op);
            return 0;
        }
        op->read_rev = crv; /* read exactly where the first page was read */
        wait_read_point(op, crv);
        return 0;
    }
    bool exact = o->rv_match == TRI_RV_EXACT || (v > 0 && o->limit > 0 && o->rv_match == 0);
    if (exact && v <= 0) {
        tri_status_set(&op->status, 400, "BadRequest",
                       "resourceVersionMatch \"Exact\" requires a non-zero resourceVersion");
        op_finish(op);
        return 0;
    }
    if (exact)
        op->read_rev = v;
    if (v == 0)
        step(op);
    else
        wait_read_point(op, v);
    return 0;
}

int tri_api_list(tri_api_t *api, tri_api_op_t *op, const tri_resource_t *r, const char *ns,
                 const tri_list_opts_t *opts, tri_api_cb cb)
{
    op_init(api, op, r, ns, NULL, OP_LIST, cb);
    return list_begin(api, op, opts);
}

/* ---------- writes: shared ---------- */

static void on_proposed(tri_propose_t *req, int status, const tri_txn_result_t *res);

#define TXN_BASE_MAX 4 /* preconditions / ops of our own before the resource hook's */

/* Proposes cmps/ops followed by what the resource's hook put in op->builder.
 * op->hook_cmp0 records where the hook's preconditions start, so a failure there
 * is told apart from ours. Leader loops propose locally only (DESIGN.md). */
static void propose(tri_api_op_t *op, const tri_cmp_t *cmps, size_t n_cmps, const tri_op_t *ops,
                    size_t n_ops)
{
    tri_txn_builder_t *b = &op->builder;
    tri_cmp_t *ac = calloc(n_cmps + b->n_cmps + 1, sizeof *ac);
    tri_op_t *ao = calloc(n_ops + b->n_ops + 1, sizeof *ao);
    if (ac == NULL || ao == NULL) {
        free(ac);
        free(ao);
        fail_code(op, TRI_ENOMEM);
        return;
    }
    memcpy(ac, cmps, n_cmps * sizeof *ac);
    memcpy(ac + n_cmps, b->cmps, b->n_cmps * sizeof *ac);
    memcpy(ao, ops, n_ops * sizeof *ao);
    memcpy(ao + n_ops, b->ops, b->n_ops * sizeof *ao);
    op->hook_cmp0 = (int)n_cmps;
    tri_txn_t txn = {ac, n_cmps + b->n_cmps, ao, n_ops + b->n_ops};
    int rc = op->leader_only
                 ? tri_node_propose_local(op->api->node, &op->prop, &txn, on_proposed)
                 : tri_node_propose(op->api->node, &op->prop, &txn, on_proposed);
    free(ac);
    free(ao);
    if (rc != 0)
        fail_code(op, rc == TRI_ENOTLEADER ? TRI_EUNAVAIL : rc);
}

static tri_admit_t admit_of(tri_api_op_t *op, bool create);

/* Runs the resource's create/update hook into op->builder, then ResourceQuota
 * admission, whose charges join the same txn (op->quota_cmp0 marks where its
 * preconditions start); false when one failed (op->status set). */
static bool run_hook(tri_api_op_t *op, json_t *obj, const json_t *old)
{
    tri_txn_builder_reset(&op->builder);
    int rc = 0;
    if (old == NULL && op->res->on_create)
        rc = op->res->on_create(op->api, obj, &op->builder, &op->status);
    else if (old != NULL && op->res->on_update)
        rc = op->res->on_update(op->api, obj, old, &op->builder, &op->status);
    size_t own = op->builder.n_cmps;
    if (rc == 0 && op->status.code == 0) {
        tri_admit_t adm = admit_of(op, old == NULL);
        rc = tri_admit_quota(&adm, obj, old, &op->builder, &op->status);
    }
    op->quota_cmp0 = op->builder.n_cmps > own ? (int)own : -1;
    if (rc != 0 && op->status.code == 0)
        tri_status_from_code(&op->status, rc, op->res->plural);
    if (op->status.code != 0)
        set_details(op);
    return op->status.code == 0;
}

/* A failed precondition that belongs to the hook (an allocator lost a race):
 * run it again with attempt+1, at most this many times. */
#define HOOK_ATTEMPTS 8
static bool hook_conflict(tri_api_op_t *op, const tri_txn_result_t *res)
{
    return res->status == TRI_EPRECOND && res->failed_cmp >= op->hook_cmp0 &&
           op->builder.n_cmps > 0 && op->builder.attempt + 1 < HOOK_ATTEMPTS;
}

/* A failed precondition on a ResourceQuota: another write charged it first. The
 * write is admitted again against the newer quota (where it may no longer fit),
 * once the local store has it; bounded like GuaranteedUpdate. */
static bool quota_conflict(tri_api_op_t *op, const tri_txn_result_t *res)
{
    return res->status == TRI_EPRECOND && op->quota_cmp0 >= 0 &&
           res->failed_cmp >= op->hook_cmp0 + op->quota_cmp0;
}

static void retry_quota(tri_api_op_t *op, const tri_txn_result_t *res)
{
    if (op->quota_attempts++ >= (int)op->api->cfg.max_guaranteed_update_retries) {
        fail_conflict(op); /* as kube-apiserver when it cannot update a quota */
        return;
    }
    wait_read_point(op, res->failed_mod_rev > 0 ? res->failed_mod_rev : -1); /* then step */
}

/* Reads the current object into op->current (NULL if absent) and its stored
 * plaintext into *stored; *stale when a rewrite would store it differently (key
 * rotation). Returns its mod_revision, 0 if absent, or a negative error (with
 * op->status set when the value did not decrypt). */
static int64_t read_current(tri_api_op_t *op, tri_val_t **stored, bool *stale)
{
    tri_kv_t kv;
    json_decref(op->current);
    op->current = NULL;
    int rc = tri_store_get(op->api->store, op->key.data, op->key.len, 0, &kv);
    if (rc == TRI_ENOENT)
        return 0;
    if (rc != 0)
        return rc;
    tri_val_t *plain = NULL;
    rc = tri_storage_open(op->api, op->res, kv.key, kv.key_len, kv.val, &plain, stale,
                          &op->status);
    int64_t mr = kv.mod_rev;
    tri_kv_release(&kv);
    if (rc != 0)
        return rc;
    op->current = tri_object_load_as(op->res, plain, mr);
    *stored = plain;
    return op->current ? mr : TRI_ECORRUPT;
}

/* Fails the op after read_current returned an error. */
static void fail_read(tri_api_op_t *op, int64_t rc, tri_val_t *stored)
{
    tri_val_unref(stored);
    if (op->status.code != 0)
        op_finish(op);
    else
        fail_code(op, (int)rc);
}

/* The bytes to put for op->val (sealed when the resource is encrypted at rest);
 * false when sealing failed (op finished with a 500). */
static bool seal_val(tri_api_op_t *op, tri_op_t *put)
{
    const char *data;
    size_t len;
    if (tri_storage_seal(op->api, op->res, op->key.data, op->key.len, &op->val, &op->sealed,
                         &data, &len, &op->status) != 0) {
        op_finish(op);
        return false;
    }
    *put = (tri_op_t){TRI_OP_PUT, op->key.data, op->key.len, data, len};
    return true;
}

/* A local "absent" is confirmed at a linearizable read point before it counts. */
static bool confirm_absent(tri_api_op_t *op)
{
    if (op->attempts & 0x100)
        return true;
    op->attempts |= 0x100;
    wait_read_point(op, -1);
    return false;
}

static bool namespace_terminating(tri_api_op_t *op)
{
    if (!op->res->namespaced)
        return false;
    tri_buf_t k = {0};
    tri_registry_key(&tri_res_namespaces, NULL, op->ns, &k);
    tri_kv_t kv;
    bool term = false;
    /* Every create asks this, so look at the bytes first and parse only a namespace
     * that mentions the phase at all (we encode it compactly). */
    static const char tag[] = "\"phase\":\"Terminating\"";
    if (tri_store_get(op->api->store, k.data, k.len, 0, &kv) == 0) {
        tri_status_t st = {0};
        tri_val_t *v = NULL;
        /* a namespace that does not decrypt is logged there; the create goes on */
        if (tri_storage_open(op->api, &tri_res_namespaces, kv.key, kv.key_len, kv.val, &v, NULL,
                             &st) == 0 &&
            memmem(v->data, v->len, tag, sizeof tag - 1) != NULL) {
            json_t *o = tri_object_load(v, kv.mod_rev);
            const char *ph =
                json_string_value(json_object_get(json_object_get(o, "status"), "phase"));
            term = ph && strcmp(ph, "Terminating") == 0;
            json_decref(o);
        }
        tri_val_unref(v);
        tri_status_clear(&st);
        tri_kv_release(&kv);
    }
    tri_buf_free(&k);
    return term;
}

/* The op's encoded object (op->val) as the answer, at revision rev. */
static void render_val(tri_api_op_t *op, int64_t rev)
{
    op->revision = rev;
    tri_object_render_as(op->res, op->val.data, op->val.len, rev, &op->body);
}

static void finish_with_val(tri_api_op_t *op, int64_t rev)
{
    render_val(op, rev);
    op_finish(op);
}

/* ---------- create ---------- */

static void create_propose(tri_api_op_t *op)
{
    tri_buf_t nskey = {0};
    tri_cmp_t cmps[2] = {{TRI_CMP_ABSENT, op->key.data, op->key.len, 0}};
    size_t n = 1;
    if (op->res->namespaced) {
        tri_registry_key(&tri_res_namespaces, NULL, op->ns, &nskey);
        cmps[1] = (tri_cmp_t){TRI_CMP_EXISTS, nskey.data, nskey.len, 0};
        n = 2;
    }
    tri_op_t put;
    if (seal_val(op, &put))
        propose(op, cmps, n, &put, 1);
    tri_buf_free(&nskey);
}

static void managed_fields(tri_api_op_t *op, json_t *obj, const json_t *old)
{
    char apiv[128];
    tri_resource_api_version(op->res, apiv, sizeof apiv);
    tri_managed_fields_update(obj, old, op->field_manager, apiv);
}

static tri_admit_t admit_of(tri_api_op_t *op, bool create)
{
    return (tri_admit_t){.api = op->api, .r = op->res, .ns = op->ns, .name = op->name,
                         .subresource = op->subresource, .user = op->user, .create = create};
}

#define ADMIT_WAIT_MS 100 /* between looks for a namespace's default service account */
#define ADMIT_WAITS 100   /* 10 s; then admission answers 403, as kube-apiserver after its retries */

typedef struct admit_wait {
    uv_timer_t timer;
    tri_api_op_t *op;
    bool from_apply;
} admit_wait_t;

static void create_begin(tri_api_op_t *op, bool from_apply);
static void create_readmit(tri_api_op_t *op);

static void free_wait(uv_handle_t *h)
{
    free(h->data);
}

static void on_admit_wait(uv_timer_t *t)
{
    admit_wait_t *w = t->data;
    tri_api_op_t *op = w->op;
    bool from_apply = w->from_apply;
    uv_close((uv_handle_t *)t, free_wait);
    create_begin(op, from_apply);
}

/* A pod created the moment its namespace is: its default service account is on
 * its way from the leader's loop; look again shortly instead of refusing. */
static bool wait_for_admission(tri_api_op_t *op, bool from_apply)
{
    tri_admit_t a = admit_of(op, true);
    if (op->canceled || op->admit_waits >= ADMIT_WAITS || !tri_admit_should_wait(&a, op->input))
        return false;
    admit_wait_t *w = calloc(1, sizeof *w);
    if (w == NULL)
        return false;
    op->admit_waits++;
    w->op = op;
    w->from_apply = from_apply;
    uv_timer_init(op->api->loop, &w->timer);
    w->timer.data = w;
    uv_timer_start(&w->timer, on_admit_wait, ADMIT_WAIT_MS, 0);
    return true;
}

/* The create pipeline on op->input (a body, or the result of an apply). */
static void create_begin(tri_api_op_t *op, bool from_apply)
{
    const tri_resource_t *r = op->res;
    if (wait_for_admission(op, from_apply))
        return;
    op->kind = OP_CREATE;
    op->http_code = 201;
    tri_meta_prune_unknown(r, op->input, op->strict_fields, &op->warnings, &op->status);
    json_t *in_meta = json_object_get(op->input, "metadata");
    const char *given = json_string_value(json_object_get(in_meta, "name"));
    op->generated_name = (given == NULL || given[0] == '\0') &&
                         json_is_string(json_object_get(in_meta, "generateName"));
    if (op->status.code == 0)
        tri_meta_prepare_create(r, op->ns, op->input, &op->status);
    const char *name = json_string_value(json_object_get(json_object_get(op->input, "metadata"),
                                                         "name"));
    snprintf(op->name, sizeof op->name, "%s", name ? name : "");
    tri_admit_t adm = admit_of(op, true);
    if (op->status.code == 0)
        tri_admit_mutate(&adm, op->input, NULL, &op->status);
    if (op->status.code == 0)
        tri_meta_validate(r, op->input, NULL, &op->status);
    if (!tri_meta_finish_invalid(r, op->name, &op->status))
        tri_admit_validate(&adm, op->input, NULL, &op->status);
    if (op->status.code != 0) {
        op_finish(op);
        return;
    }
    if (namespace_terminating(op)) {
        tri_status_set(&op->status, 403, "Forbidden",
                       "%s \"%s\" is forbidden: unable to create new content in namespace %s "
                       "because it is being terminated",
                       r->plural, op->name, op->ns);
        set_details(op);
        op_finish(op);
        return;
    }
    tri_buf_reset(&op->key);
    tri_registry_key(r, op->ns, op->name, &op->key);
    tri_life_generation(r, op->input, NULL);
    if (!from_apply)
        managed_fields(op, op->input, NULL);
    if (!run_hook(op, op->input, NULL)) {
        op_finish(op);
        return;
    }
    tri_buf_reset(&op->val);
    tri_object_encode_as(op->res, op->input, &op->val);
    if (op->val.len > TRI_MAX_OBJECT_BYTES) {
        fail_code(op, TRI_ETOOBIG);
        return;
    }
    if (op->dry_run) {
        render_val(op, 0);
        op_finish(op);
        return;
    }
    if (op->quota_cmp0 >= 0) {
        const tri_cmp_t *q = &op->builder.cmps[op->quota_cmp0];
        if (tri_quota_lane_enter(op, q->key, q->key_len, create_readmit))
            return; /* admitted again when its turn comes */
    }
    create_propose(op);
}

int tri_api_create(tri_api_t *api, tri_api_op_t *op, const tri_resource_t *r, const char *ns,
                   json_t *obj, bool dry_run, tri_api_cb cb)
{
    op_init(api, op, r, ns, NULL, OP_CREATE, cb);
    op->dry_run = dry_run;
    op->input = obj;
    create_begin(op, false);
    return 0;
}

/* Server-side apply of an object that does not exist: the apply creates it. */
static void create_from_apply(tri_api_op_t *op)
{
    char apiv[128];
    tri_resource_api_version(op->res, apiv, sizeof apiv);
    json_t *obj = tri_apply(NULL, op->input, op->field_manager, op->force, op->res->kind, apiv,
                            &op->status);
    if (obj == NULL) {
        op_finish(op);
        return;
    }
    json_t *meta = json_object_get(obj, "metadata");
    if (json_is_object(meta) && json_object_get(meta, "name") == NULL)
        json_object_set_new(meta, "name", json_string(op->name));
    json_decref(op->input);
    op->input = obj;
    create_begin(op, true);
}

/* apiserver retries a generated name that collided (RetryGenerateName, GA in 1.32). */
#define GENERATE_NAME_ATTEMPTS 8

static bool retry_generated_name(tri_api_op_t *op)
{
    json_t *meta = json_object_get(op->input, "metadata");
    if (!op->generated_name || ++op->attempts >= GENERATE_NAME_ATTEMPTS)
        return false;
    tri_meta_regenerate_name(meta);
    snprintf(op->name, sizeof op->name, "%s", json_string_value(json_object_get(meta, "name")));
    tri_buf_reset(&op->key);
    tri_buf_reset(&op->val);
    tri_registry_key(op->res, op->ns, op->name, &op->key);
    tri_object_encode_as(op->res, op->input, &op->val);
    create_propose(op);
    return true;
}

/* The create's txn again after a quota conflict: hooks and quota re-run
 * against the local store, which has reached the conflicting revision. */
static void create_readmit(tri_api_op_t *op)
{
    if (!run_hook(op, op->input, NULL)) {
        op_finish(op);
        return;
    }
    tri_buf_reset(&op->val);
    tri_object_encode_as(op->res, op->input, &op->val);
    create_propose(op);
}

static bool retry_create_hook(tri_api_op_t *op)
{
    op->builder.attempt++;
    if (!run_hook(op, op->input, NULL))
        return false;
    tri_buf_reset(&op->val);
    tri_object_encode_as(op->res, op->input, &op->val);
    create_propose(op);
    return true;
}

static void create_done(tri_api_op_t *op, const tri_txn_result_t *res)
{
    if (res->status == TRI_EPRECOND && res->failed_cmp == 0 && retry_generated_name(op))
        return;
    if (quota_conflict(op, res)) {
        retry_quota(op, res);
        return;
    }
    if (hook_conflict(op, res)) {
        if (!retry_create_hook(op))
            op_finish(op);
        return;
    }
    if (res->status == TRI_EPRECOND && res->failed_cmp == 0) {
        tri_status_set(&op->status, 409, "AlreadyExists", "%s \"%s\" already exists",
                       op->res->plural, op->name);
        set_details(op);
    } else if (res->status == TRI_EPRECOND && res->failed_cmp == 1 && op->res->namespaced) {
        tri_status_set(&op->status, 404, "NotFound", "namespaces \"%s\" not found", op->ns);
        snprintf(op->status.kind, sizeof op->status.kind, "namespaces");
        snprintf(op->status.name, sizeof op->status.name, "%s", op->ns);
    } else if (res->status != 0) {
        fail_code(op, res->status);
        return;
    } else {
        render_val(op, res->revision);
    }
    op_finish(op);
}

/* ---------- update and patch (GuaranteedUpdate) ---------- */

static json_t *apply_patch(tri_api_op_t *op, const json_t *cur, char *err, size_t errlen)
{
    switch (op->patch_type) {
    case TRI_PATCH_MERGE:
        return tri_merge_patch(cur, op->input, err, errlen);
    case TRI_PATCH_JSON:
        return tri_json_patch(cur, op->input, err, errlen);
    case TRI_PATCH_STRATEGIC:
        return tri_strategic_merge_patch(cur, op->input, op->res->kind, err, errlen);
    case TRI_PATCH_APPLY: {
        char apiv[128];
        tri_resource_api_version(op->res, apiv, sizeof apiv);
        json_t *o = tri_apply(cur, op->input, op->field_manager, op->force, op->res->kind, apiv,
                              &op->status);
        if (o == NULL && op->status.code != 0)
            snprintf(err, errlen, "%s", op->status.message);
        return o;
    }
    default:
        snprintf(err, errlen, "unsupported patch type");
        return NULL;
    }
}

/* Scale: the update or patch applies to the Scale view of the current object. */
static json_t *desired_scale(tri_api_op_t *op)
{
    json_t *scale = NULL;
    if (op->kind == OP_UPDATE) {
        scale = json_incref(op->input);
    } else {
        char err[512] = "";
        json_t *base = tri_scale_from(op->res, op->current);
        scale = apply_patch(op, base, err, sizeof err);
        json_decref(base);
        if (scale == NULL) {
            tri_status_set(&op->status, 422, "Invalid", "the patch could not be applied: %s",
                           err);
            return NULL;
        }
    }
    json_t *obj = json_deep_copy(op->current);
    int rc = tri_scale_apply(op->res, obj, scale, &op->status);
    json_decref(scale);
    if (rc != 0) {
        json_decref(obj);
        return NULL;
    }
    return obj;
}

/* Binding (pods/binding): sets spec.nodeName once. */
static json_t *desired_binding(tri_api_op_t *op)
{
    const char *node = json_string_value(json_object_get(json_object_get(op->input, "target"),
                                                         "name"));
    json_t *spec = json_object_get(op->current, "spec");
    const char *cur = json_string_value(json_object_get(spec, "nodeName"));
    if (node == NULL || node[0] == '\0') {
        tri_status_set(&op->status, 422, "Invalid",
                       "Binding \"%s\" is invalid: target.name: Required value", op->name);
        return NULL;
    }
    if (cur != NULL && cur[0] != '\0') {
        tri_status_set(&op->status, 409, "Conflict",
                       "Operation cannot be fulfilled on pods/binding \"%s\": pod %s is already "
                       "assigned to node \"%s\"",
                       op->name, op->name, cur);
        return NULL;
    }
    json_t *obj = json_deep_copy(op->current);
    json_t *ospec = json_object_get(obj, "spec");
    if (!json_is_object(ospec)) {
        ospec = json_object();
        json_object_set_new(obj, "spec", ospec);
    }
    json_object_set_new(ospec, "nodeName", json_string(node));
    return obj;
}

/* Namespace finalize: only spec.finalizers changes. */
static json_t *desired_finalize(tri_api_op_t *op)
{
    json_t *obj = json_deep_copy(op->current);
    json_t *fin = json_object_get(json_object_get(op->input, "spec"), "finalizers");
    json_t *spec = json_object_get(obj, "spec");
    if (!json_is_object(spec)) {
        spec = json_object();
        json_object_set_new(obj, "spec", spec);
    }
    json_object_set_new(spec, "finalizers", json_is_array(fin) ? json_deep_copy(fin)
                                                                : json_array());
    return obj;
}

/* The desired object for this attempt, from the input (update) or the patch. */
static json_t *desired_object(tri_api_op_t *op)
{
    if (sub_is(op, "scale"))
        return desired_scale(op);
    if (sub_is(op, "binding"))
        return desired_binding(op);
    if (sub_is(op, "finalize"))
        return desired_finalize(op);
    if (op->kind == OP_UPDATE)
        return json_deep_copy(op->input);
    char err[512] = "";
    json_t *obj = apply_patch(op, op->current, err, sizeof err);
    if (obj == NULL && op->status.code != 0)
        return NULL; /* apply's own Status (409 conflict, 400) */
    if (obj == NULL) {
        tri_status_set(&op->status, 422, "Invalid", "the patch could not be applied: %s", err);
        set_details(op);
        return NULL;
    }
    if (!json_is_object(obj)) {
        json_decref(obj);
        tri_status_set(&op->status, 400, "BadRequest", "the patch result is not an object");
        return NULL;
    }
    return obj;
}

/* The answer to a write at revision rev: the object, its Scale, or a Status. */
static void finish_update(tri_api_op_t *op, int64_t rev)
{
    if (sub_is(op, "scale")) {
        tri_val_t *v = tri_val_new(op->val.data, op->val.len);
        json_t *obj = v ? tri_object_load_as(op->res, v, rev) : NULL;
        tri_val_unref(v);
        json_t *scale = obj ? tri_scale_from(op->res, obj) : NULL;
        json_decref(obj);
        char *js = scale ? json_dumps(scale, JSON_COMPACT) : NULL;
        json_decref(scale);
        if (js)
            tri_buf_append(&op->body, js, strlen(js));
        free(js);
        op->revision = rev;
        op_finish(op);
        return;
    }
    if (sub_is(op, "binding")) {
        op->http_code = 201;
        op->revision = rev;
        tri_buf_appendf(&op->body, "{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"metadata\":{},"
                                   "\"status\":\"Success\",\"code\":201}");
        op_finish(op);
        return;
    }
    finish_with_val(op, rev);
}

/* A resourceVersion inside a patch is a precondition, as in apiserver. */
static bool patch_rv_conflict(tri_api_op_t *op, json_t *obj, int64_t cur_rev)
{
    if (op->kind != OP_PATCH)
        return false;
    const char *rv = json_string_value(json_object_get(json_object_get(obj, "metadata"),
                                                       "resourceVersion"));
    int64_t v;
    if (rv == NULL || parse_rv(rv, &v) != 0 || v < 0)
        return false;
    if (v == cur_rev)
        return false;
    op->has_client_rv = true;
    return true;
}

static void update_step(tri_api_op_t *op)
{
    tri_val_t *stored = NULL;
    bool stale = false;
    int64_t cur_rev = read_current(op, &stored, &stale);
    if (cur_rev < 0) {
        fail_read(op, cur_rev, stored);
        return;
    }
    if (cur_rev == 0) {
        if (!confirm_absent(op))
            return;
        if (op->kind == OP_PATCH && op->patch_type == TRI_PATCH_APPLY && op->subresource == NULL)
            create_from_apply(op);
        else
            fail_not_found(op);
        return;
    }
    if (op->has_client_rv && op->client_rv != cur_rev) {
        tri_val_unref(stored);
        fail_conflict(op);
        return;
    }
    json_t *obj = desired_object(op);
    if (obj != NULL && op->kind == OP_PATCH) {
        tri_buf_reset(&op->warnings);
        tri_meta_prune_unknown(op->res, obj, op->strict_fields, &op->warnings, &op->status);
        if (op->status.code != 0) {
            json_decref(obj);
            obj = NULL;
        }
    }
    if (obj == NULL || patch_rv_conflict(op, obj, cur_rev)) {
        json_decref(obj);
        tri_val_unref(stored);
        if (op->status.code == 0)
            fail_conflict(op);
        else
            op_finish(op);
        return;
    }
    tri_life_status_strategy(op->res, obj, op->current, op->subresource);
    tri_meta_prepare_update(op->res, op->ns, op->name, obj, op->current, &op->status);
    tri_admit_t adm = admit_of(op, false);
    if (op->status.code == 0)
        tri_admit_mutate(&adm, obj, op->current, &op->status);
    if (op->status.code == 0)
        tri_meta_validate(op->res, obj, op->current, &op->status);
    if (!tri_meta_finish_invalid(op->res, op->name, &op->status))
        tri_admit_validate(&adm, obj, op->current, &op->status);
    if (op->status.code != 0 || !run_hook(op, obj, op->current)) {
        json_decref(obj);
        tri_val_unref(stored);
        op_finish(op);
        return;
    }
    tri_life_generation(op->res, obj, op->current);
    if (!(op->kind == OP_PATCH && op->patch_type == TRI_PATCH_APPLY))
        managed_fields(op, obj, op->current);
    bool release = tri_life_releasable(op->res, obj);
    if (release && op->res->on_delete)
        op->res->on_delete(op->api, obj, &op->builder);
    tri_buf_reset(&op->val);
    tri_object_encode_as(op->res, obj, &op->val);
    json_decref(obj);
    op->read_rev = cur_rev;
    if (op->val.len > TRI_MAX_OBJECT_BYTES) {
        tri_val_unref(stored);
        fail_code(op, TRI_ETOOBIG);
        return;
    }
    /* An update that changes nothing is not written (apiserver does the same), so
     * `kubectl apply` of an unchanged file keeps the resourceVersion; unless the
     * stored value is stale (another key or provider wrote it): then the write
     * re-encrypts it with the current key, which is how rotation re-encrypts. */
    bool same = stored->len == op->val.len && memcmp(stored->data, op->val.data, op->val.len) == 0;
    tri_val_unref(stored);
    if ((same && !release && !stale) || op->dry_run) {
        finish_update(op, cur_rev);
        return;
    }
    /* the write that empties the finalizers of an object being deleted removes it */
    tri_cmp_t cmp = {TRI_CMP_MODREV, op->key.data, op->key.len, cur_rev};
    tri_op_t wr = {TRI_OP_DELETE, op->key.data, op->key.len, NULL, 0};
    if (!release && !seal_val(op, &wr))
        return;
    propose(op, &cmp, 1, &wr, 1);
}

static void retry_after_conflict(tri_api_op_t *op, const tri_txn_result_t *res)
{
    if (op->has_client_rv) {
        fail_conflict(op);
        return;
    }
    if ((op->attempts & 0xff) >= (int)op->api->cfg.max_guaranteed_update_retries) {
        fail_conflict(op);
        return;
    }
    op->attempts++;
    /* wait until the local store has the newer version, then try again */
    wait_read_point(op, res->failed_mod_rev > 0 ? res->failed_mod_rev : -1);
}

static void update_done(tri_api_op_t *op, const tri_txn_result_t *res)
{
    if (quota_conflict(op, res)) {
        retry_quota(op, res);
        return;
    }
    if (hook_conflict(op, res)) {
        op->builder.attempt++;
        step(op);
        return;
    }
    if (res->status == TRI_EPRECOND) {
        retry_after_conflict(op, res);
        return;
    }
    if (res->status != 0) {
        fail_code(op, res->status);
        return;
    }
    finish_update(op, res->revision);
}

int tri_api_update(tri_api_t *api, tri_api_op_t *op, const tri_resource_t *r, const char *ns,
                   const char *name, const json_t *obj, bool dry_run, tri_api_cb cb)
{
    op_init(api, op, r, ns, name, OP_UPDATE, cb);
    op->dry_run = dry_run;
    op->input = json_deep_copy(obj);
    /* bodies of scale, binding and finalize are other kinds (Scale, Binding) */
    if (op->subresource == NULL || sub_is(op, "status"))
        tri_meta_prune_unknown(r, op->input, op->strict_fields, &op->warnings, &op->status);
    if (op->status.code != 0) {
        op_finish(op);
        return 0;
    }
    tri_registry_key(r, op->ns, name, &op->key);
    const char *rv = json_string_value(json_object_get(json_object_get(obj, "metadata"),
                                                       "resourceVersion"));
    int64_t v = -1;
    if (rv && rv[0] && (parse_rv(rv, &v) != 0 || v == 0)) {
        tri_status_set(&op->status, 400, "BadRequest",
                       "metadata.resourceVersion: Invalid value: \"%s\"", rv);
        op_finish(op);
        return 0;
    }
    if (v > 0) {
        op->has_client_rv = true;
        op->client_rv = v;
        wait_read_point(op, v);
    } else {
        step(op);
    }
    return 0;
}

int tri_api_patch(tri_api_t *api, tri_api_op_t *op, const tri_resource_t *r, const char *ns,
                  const char *name, enum tri_patch_type type, const json_t *patch,
                  bool dry_run, tri_api_cb cb)
{
    op_init(api, op, r, ns, name, OP_PATCH, cb);
    op->dry_run = dry_run;
    op->patch_type = type;
    op->input = json_deep_copy(patch);
    tri_registry_key(r, op->ns, name, &op->key);
    step(op);
    return 0;
}

/* ---------- delete ---------- */

/* Kubernetes refuses to delete these three namespaces (NamespaceLifecycle). */
static bool namespace_protected(const char *name)
{
    return !strcmp(name, "default") || !strcmp(name, "kube-system") ||
           !strcmp(name, "kube-public");
}

static bool builtin_protected(tri_api_op_t *op)
{
    return op->res == &tri_res_namespaces && namespace_protected(op->name);
}

/* Deleting a namespace removes everything in it in the same txn. (The namespace
 * lifecycle with a Terminating phase and a leader loop arrives with the
 * controllers; until then the deletion is immediate and atomic.) */
static void collect_namespace_content(tri_store_t *store, const char *ns, tri_buf_t *keys,
                                      size_t *n)
{
    size_t nres;
    const tri_resource_t *const *all = tri_registry_all(&nres);
    for (size_t i = 0; i < nres; i++) {
        if (!all[i]->namespaced)
            continue;
        tri_buf_t prefix = {0};
        tri_registry_prefix(all[i], ns, &prefix);
        char end[1024];
        size_t end_len = tri_prefix_end(prefix.data, prefix.len, end);
        tri_kvs_t kvs = {0};
        bool more;
        if (tri_store_range(store, prefix.data, prefix.len, end, end_len, 0, 0, &kvs,
                            &more) == 0) {
            for (size_t j = 0; j < kvs.n; j++) {
                tri_buf_put_bytes(keys, kvs.items[j].key, (uint32_t)kvs.items[j].key_len);
                (*n)++;
            }
        }
        tri_kvs_free(&kvs);
        tri_buf_free(&prefix);
    }
}

/* Appends a DELETE op for each key packed in `keys` (as tri_buf_put_bytes wrote them). */
static void append_key_deletes(const tri_buf_t *keys, size_t n, tri_op_t *ops)
{
    tri_reader_t rd;
    tri_reader_init(&rd, keys->data, keys->len);
    for (size_t i = 0; i < n; i++) {
        const void *k;
        uint32_t kl;
        tri_reader_bytes(&rd, &k, &kl);
        ops[i] = (tri_op_t){TRI_OP_DELETE, k, kl, NULL, 0};
    }
}

static void delete_propose(tri_api_op_t *op, int64_t cur_rev)
{
    tri_buf_t keys = {0};
    size_t n = 0;
    tri_txn_builder_reset(&op->builder);
    if (op->res->on_delete)
        op->res->on_delete(op->api, op->current, &op->builder);
    if (op->res == &tri_res_namespaces && !op->api->cfg.namespace_lifecycle)
        collect_namespace_content(op->api->store, op->name, &keys, &n);
    tri_op_t *ops = calloc(n + 1, sizeof *ops);
    if (ops == NULL) {
        tri_buf_free(&keys);
        fail_code(op, TRI_ENOMEM);
        return;
    }
    ops[0] = (tri_op_t){TRI_OP_DELETE, op->key.data, op->key.len, NULL, 0};
    append_key_deletes(&keys, n, ops + 1);
    tri_cmp_t cmp = {TRI_CMP_MODREV, op->key.data, op->key.len, cur_rev};
    propose(op, &cmp, 1, ops, n + 1);
    free(ops);
    tri_buf_free(&keys);
}

static void delete_step(tri_api_op_t *op)
{
    tri_val_t *stored = NULL;
    int64_t cur_rev = read_current(op, &stored, NULL);
    if (cur_rev < 0) {
        fail_read(op, cur_rev, stored);
        return;
    }
    if (cur_rev == 0) {
        if (confirm_absent(op))
            fail_not_found(op);
        return;
    }
    json_t *meta = json_object_get(op->current, "metadata");
    const char *puid = json_string_value(json_object_get(op->input, "uid"));
    const char *prv = json_string_value(json_object_get(op->input, "resourceVersion"));
    const char *uid = json_string_value(json_object_get(meta, "uid"));
    int64_t v;
    if (puid && uid && strcmp(puid, uid) != 0) {
        tri_status_set(&op->status, 409, "Conflict",
                       "Operation cannot be fulfilled on %s \"%s\": Precondition failed: UID in "
                       "precondition: %s, UID in object meta: %s",
                       op->res->plural, op->name, puid, uid);
        set_details(op);
    } else if (prv && (parse_rv(prv, &v) != 0 || v != cur_rev)) {
        tri_status_set(&op->status, 409, "Conflict",
                       "Operation cannot be fulfilled on %s \"%s\": Precondition failed: "
                       "ResourceVersion in precondition: %s, ResourceVersion in object meta: %lld",
                       op->res->plural, op->name, prv, (long long)cur_rev);
        set_details(op);
    }
    if (op->status.code != 0) {
        tri_val_unref(stored);
        op_finish(op);
        return;
    }
    tri_buf_reset(&op->val);
    tri_buf_append(&op->val, stored->data, stored->len);
    tri_val_unref(stored);
    op->read_rev = cur_rev;
    /* finalizers, propagation, graceful pods and namespaces may turn the delete
     * into a mark (deletionTimestamp) written back instead */
    json_t *marked = json_deep_copy(op->current);
    enum tri_life_delete what =
        tri_life_begin_delete(op->res, marked, &op->delete_opts, op->api->cfg.namespace_lifecycle);
    if (what == TRI_LIFE_MARK) {
        tri_buf_reset(&op->val);
        tri_object_encode_as(op->res, marked, &op->val);
    }
    json_decref(marked);
    if (op->dry_run || what == TRI_LIFE_UNCHANGED) {
        finish_with_val(op, cur_rev);
        return;
    }
    if (what == TRI_LIFE_MARK) {
        tri_txn_builder_reset(&op->builder);
        tri_cmp_t cmp = {TRI_CMP_MODREV, op->key.data, op->key.len, cur_rev};
        tri_op_t put;
        if (seal_val(op, &put))
            propose(op, &cmp, 1, &put, 1);
        return;
    }
    delete_propose(op, cur_rev);
}

static void delete_done(tri_api_op_t *op, const tri_txn_result_t *res)
{
    if (res->status == TRI_EPRECOND) {
        op->has_client_rv = json_object_get(op->input, "resourceVersion") != NULL;
        retry_after_conflict(op, res);
        return;
    }
    if (res->status != 0) {
        fail_code(op, res->status);
        return;
    }
    finish_with_val(op, res->revision);
}

int tri_api_delete(tri_api_t *api, tri_api_op_t *op, const tri_resource_t *r, const char *ns,
                   const char *name, const tri_delete_opts_t *opts, tri_api_cb cb)
{
    op_init(api, op, r, ns, name, OP_DELETE, cb);
    op->dry_run = opts->dry_run;
    op->delete_opts = *opts;
    op->input = json_object();
    if (opts->precondition_uid)
        json_object_set_new(op->input, "uid", json_string(opts->precondition_uid));
    if (opts->precondition_rv)
        json_object_set_new(op->input, "resourceVersion", json_string(opts->precondition_rv));
    tri_registry_key(r, op->ns, name, &op->key);
    if (builtin_protected(op)) {
        tri_status_set(&op->status, 403, "Forbidden",
                       "namespaces \"%s\" is forbidden: this namespace may not be deleted", name);
        set_details(op);
        op_finish(op);
        return 0;
    }
    step(op);
    return 0;
}

/* ---------- deletecollection ---------- */

/* Lists (consistently) what matches, then deletes it in one txn guarded by each
 * item's mod_revision; a concurrent change makes the txn fail and the whole
 * step run again, so an item changed to no longer match is never deleted. */
static void delcol_step(tri_api_op_t *op)
{
    if (op->key.len == 0 && op->attempts == 0 && op->read_rev == 0) {
        /* first visit: the list happens at a linearizable read point */
        op->read_rev = -1;
        wait_read_point(op, -1);
        return;
    }
    list_ctx_t lc = {0};
    if (tri_api_parse_selectors(op->res, op->lopts.label_selector, op->lopts.field_selector,
                                &lc.labels, &lc.fields, &op->status) != 0) {
        op_finish(op);
        return;
    }
    tri_buf_t prefix = {0};
    tri_registry_prefix(op->res, op->ns, &prefix);
    char end[1024];
    size_t end_len = tri_prefix_end(prefix.data, prefix.len, end);
    tri_kvs_t kvs = {0};
    bool more;
    tri_store_range(op->api->store, prefix.data, prefix.len, end, end_len, 0, 0, &kvs, &more);
    tri_cmp_t *cmps = calloc(kvs.n + 1, sizeof *cmps);
    size_t n = 0, n_content = 0;
    tri_buf_t content = {0};
    bool namespaces = op->res == &tri_res_namespaces;
    tri_buf_reset(&op->body);
    json_decref(op->items);
    op->items = json_array();
    bool failed = false;
    for (size_t i = 0; i < kvs.n && cmps && !failed; i++) {
        tri_kv_t *kv = &kvs.items[i];
        tri_val_t *plain = NULL;
        failed = tri_storage_open(op->api, op->res, kv->key, kv->key_len, kv->val, &plain, NULL,
                                  &op->status) != 0;
        json_t *obj = plain ? tri_object_load_as(op->res, plain, kv->mod_rev) : NULL;
        tri_val_unref(plain);
        const char *name =
            json_string_value(json_object_get(json_object_get(obj, "metadata"), "name"));
        bool skip = namespaces && name && namespace_protected(name);
        if (obj && !skip && tri_api_selectors_match(lc.labels, lc.fields, obj)) {
            cmps[n++] = (tri_cmp_t){TRI_CMP_MODREV, kv->key, kv->key_len, kv->mod_rev};
            json_array_append(op->items, obj);
            if (namespaces && name)
                collect_namespace_content(op->api->store, name, &content, &n_content);
        }
        json_decref(obj);
    }
    tri_op_t *ops = calloc(n + n_content + 1, sizeof *ops);
    for (size_t i = 0; i < n && ops; i++)
        ops[i] = (tri_op_t){TRI_OP_DELETE, cmps[i].key, cmps[i].key_len, NULL, 0};
    if (ops)
        append_key_deletes(&content, n_content, ops + n);
    tri_selector_free(lc.labels);
    tri_selector_free(lc.fields);
    char apiv[128];
    tri_resource_api_version(op->res, apiv, sizeof apiv);
    tri_buf_appendf(&op->body, "{\"kind\":\"%s\",\"apiVersion\":\"%s\",\"metadata\":{},\"items\":",
                    op->res->list_kind, apiv);
    char *items = json_dumps(op->items, JSON_COMPACT);
    tri_buf_appendf(&op->body, "%s}", items ? items : "[]");
    free(items);
    if (failed) /* nothing is deleted when any matching candidate cannot be read */
        tri_buf_reset(&op->body);
    if (n == 0 || op->dry_run || cmps == NULL || ops == NULL || failed)
        op_finish(op);
    else
        propose(op, cmps, n, ops, n + n_content);
    free(cmps);
    free(ops);
    tri_buf_free(&content);
    tri_kvs_free(&kvs);
    tri_buf_free(&prefix);
}

int tri_api_delete_collection(tri_api_t *api, tri_api_op_t *op, const tri_resource_t *r,
                              const char *ns, const tri_list_opts_t *opts, bool dry_run,
                              tri_api_cb cb)
{
    op_init(api, op, r, ns, NULL, OP_DELCOL, cb);
    op->dry_run = dry_run;
    copy_list_opts(op, opts);
    step(op);
    return 0;
}

static void delcol_done(tri_api_op_t *op, const tri_txn_result_t *res)
{
    if (res->status == TRI_EPRECOND &&
        (op->attempts & 0xff) < (int)op->api->cfg.max_guaranteed_update_retries) {
        op->attempts++;
        wait_read_point(op, res->failed_mod_rev > 0 ? res->failed_mod_rev : -1);
        return;
    }
    if (res->status == TRI_EPRECOND) {
        fail_conflict(op);
        return;
    }
    if (res->status != 0) {
        fail_code(op, res->status);
        return;
    }
    op->revision = res->revision;
    op_finish(op);
}

/* ---------- dispatch ---------- */

static void step(tri_api_op_t *op)
{
    switch (op->kind) {
    case OP_GET:
        get_step(op);
        break;
    case OP_LIST:
        tri_list_start(op);
        break;
    case OP_CREATE:
        create_readmit(op); /* only reached again after a quota conflict */
        break;
    case OP_UPDATE:
    case OP_PATCH:
        update_step(op);
        break;
    case OP_DELETE:
        delete_step(op);
        break;
    case OP_DELCOL:
        delcol_step(op);
        break;
    }
}

static void on_proposed(tri_propose_t *req, int status, const tri_txn_result_t *res)
{
    tri_api_op_t *op = req->data;
    if (status != 0) {
        fail_code(op, status);
        return;
    }
    switch (op->kind) {
    case OP_CREATE:
        create_done(op, res);
        break;
    case OP_UPDATE:
    case OP_PATCH:
        update_done(op, res);
        break;
    case OP_DELETE:
        delete_done(op, res);
        break;
    case OP_DELCOL:
        delcol_done(op, res);
        break;
    default:
        op_finish(op);
    }
}
