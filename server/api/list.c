/* LIST: the objects of a resource (in a namespace or all), filtered by label and
 * field selectors, optionally in pages (limit/continue), rendered as a list or,
 * for kubectl, as a Table.
 *
 * A list reads the store as of one revision (the read point, or the revision of
 * the continue token) and runs in slices: each slice reads and renders for at most
 * LIST_SLICE_NS, then yields to the loop with a zero timer. Reading as of a fixed
 * revision makes the slices one consistent snapshot; yielding keeps an unpaged list
 * of 10,000 pods from holding the loop (and with it Raft heartbeats: such a list
 * used to cause elections) for the whole second it took.
 *
 * A Table without selectors (what `kubectl get` sends) is rendered off the loop:
 * batches of stored values go to the libuv thread pool, where each object is parsed
 * (without managedFields) and its row written, and the rows are joined back in key
 * order on the loop. At most ROWS_INFLIGHT batches run at once in the whole process,
 * so the pool keeps threads for libraft's segment and snapshot work (RAFT.md). */
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "op.h"
#include "storage.h"
#include "triarch/errors.h"
#include "triarch/log.h"
#include "triarch/yield.h"

#define LIST_SCAN_BATCH 512          /* keys read per store range while decoding */
#define LIST_SLICE_NS 4000000ull     /* loop time one slice may take */
#define ROWS_BATCH 256               /* objects per Table batch on the thread pool */
#define ROWS_INFLIGHT 2              /* Table batches on the pool, process-wide */

static unsigned rows_inflight; /* loop thread only */

typedef struct rows_work rows_work_t;

typedef struct tri_list_run {
    uv_timer_t timer;
    tri_api_op_t *op;
    tri_selector_t *labels, *fields;
    tri_buf_t prefix, start, items, cont;
    char end[1024];
    size_t end_len;
    int64_t rev;
    size_t n, limit;
    bool decode;   /* items are parsed: for selectors or Table rows */
    bool parallel; /* Table rows rendered on the thread pool (rows_*) */
    bool reading_done;
    int read_rc;
    unsigned inflight;
    rows_work_t *head, *tail; /* batches in key order, rendered or not */
} list_run_t;

struct rows_work {
    uv_work_t req;
    list_run_t *lr;
    tri_val_t **vals; /* plaintext values, referenced; released on the loop */
    int64_t *revs;
    size_t n;
    tri_buf_t rows;
    bool done;
    rows_work_t *next;
};

static void slice(uv_timer_t *t);
static void finish(list_run_t *lr, int rc);
static void rows_free(rows_work_t *w);

/* Continue tokens: base64(JSON {"v":"meta.k8s.io/v1","rv":N,"start":"<key suffix>"}),
 * the shape kube-apiserver uses, so the revision travels with the token. */
static int encode_continue(int64_t rv, const char *start, size_t start_len, tri_buf_t *out)
{
    json_t *t = json_pack("{s:s, s:I, s:s%}", "v", "meta.k8s.io/v1", "rv", (json_int_t)rv,
                          "start", start, start_len);
    char *s = t ? json_dumps(t, JSON_COMPACT) : NULL;
    json_decref(t);
    if (s == NULL)
        return TRI_ENOMEM;
    size_t n = strlen(s);
    int rc = tri_buf_reserve(out, 4 * ((n + 2) / 3) + 1);
    if (rc == 0)
        out->len += (size_t)EVP_EncodeBlock((unsigned char *)out->data + out->len,
                                            (unsigned char *)s, (int)n);
    free(s);
    return rc;
}

static void run_free(uv_handle_t *h)
{
    list_run_t *lr = h->data;
    while (lr->head) { /* batches of a list that failed midway */
        rows_work_t *w = lr->head;
        lr->head = w->next;
        rows_free(w);
    }
    tri_selector_free(lr->labels);
    tri_selector_free(lr->fields);
    tri_buf_free(&lr->prefix);
    tri_buf_free(&lr->start);
    tri_buf_free(&lr->items);
    tri_buf_free(&lr->cont);
    free(lr);
}

/* One stored object into the result: rendered as stored (with its
 * resourceVersion), or parsed to filter it and to make its Table row. Encrypted
 * values are opened first; one that does not open ends the list (op->status set),
 * as in kube-apiserver. */
static int take(list_run_t *lr, const tri_kv_t *kv)
{
    tri_api_op_t *op = lr->op;
    json_t *obj = NULL;
    tri_val_t *plain = NULL;
    int rc = tri_storage_open(op->api, op->res, kv->key, kv->key_len, kv->val, &plain, NULL,
                              &op->status);
    if (rc != 0)
        return rc;
    if (lr->decode) {
        /* leader loops (want_items) get whole objects; Tables and filters need no
         * managedFields */
        obj = op->want_items ? tri_object_load_as(op->res, plain, kv->mod_rev)
                             : tri_object_load_lean(op->res, plain, kv->mod_rev);
        if (obj == NULL || !tri_api_selectors_match(lr->labels, lr->fields, obj)) {
            json_decref(obj);
            tri_val_unref(plain);
            return 0;
        }
    }
    lr->n++;
    if (op->want_table) {
        tri_table_row_append(op->res, obj, &lr->items);
    } else {
        if (lr->items.len)
            tri_buf_append(&lr->items, ",", 1);
        tri_object_render_as(op->res, plain->data, plain->len, kv->mod_rev, &lr->items);
    }
    tri_val_unref(plain);
    if (op->want_items)
        json_array_append_new(op->items, obj);
    else
        json_decref(obj);
    return 0;
}

/* ---------- Table rows on the thread pool ---------- */

static void rows_render(uv_work_t *req)
{
    rows_work_t *w = req->data;
    const tri_resource_t *r = w->lr->op->res;
    for (size_t i = 0; i < w->n; i++) {
        json_t *obj = tri_object_load_lean(r, w->vals[i], w->revs[i]);
        if (obj != NULL)
            tri_table_row_append(r, obj, &w->rows);
        json_decref(obj);
    }
}

static void rows_free(rows_work_t *w)
{
    for (size_t i = 0; i < w->n; i++)
        tri_val_unref(w->vals[i]);
    free(w->vals);
    free(w->revs);
    tri_buf_free(&w->rows);
    free(w);
}

static void rows_done(uv_work_t *req, int status)
{
    (void)status;
    rows_work_t *w = req->data;
    list_run_t *lr = w->lr;
    w->done = true;
    lr->inflight--;
    rows_inflight--;
    while (lr->head && lr->head->done) { /* join in key order */
        rows_work_t *h = lr->head;
        if (lr->items.len && h->rows.len)
            tri_buf_append(&lr->items, ",", 1);
        tri_buf_append(&lr->items, h->rows.data, h->rows.len);
        lr->head = h->next;
        if (lr->head == NULL)
            lr->tail = NULL;
        rows_free(h);
    }
    if (lr->reading_done && lr->inflight == 0)
        finish(lr, lr->read_rc);
    else if (!lr->reading_done)
        uv_timer_start(&lr->timer, slice, 0, 0);
}

/* Hands kvs[0:n) to the pool; their values are opened (decrypted) here. */
static int rows_queue(list_run_t *lr, const tri_kv_t *kvs, size_t n)
{
    tri_api_op_t *op = lr->op;
    rows_work_t *w = calloc(1, sizeof *w);
    if (w == NULL || (w->vals = calloc(n, sizeof *w->vals)) == NULL ||
        (w->revs = calloc(n, sizeof *w->revs)) == NULL) {
        if (w)
            free(w->vals);
        free(w);
        return TRI_ENOMEM;
    }
    w->lr = lr;
    w->req.data = w;
    for (size_t i = 0; i < n; i++) {
        int rc = tri_storage_open(op->api, op->res, kvs[i].key, kvs[i].key_len, kvs[i].val,
                                  &w->vals[w->n], NULL, &op->status);
        if (rc != 0) {
            rows_free(w);
            return rc;
        }
        w->revs[w->n++] = kvs[i].mod_rev;
    }
    if (lr->tail)
        lr->tail->next = w;
    else
        lr->head = w;
    lr->tail = w;
    lr->inflight++;
    rows_inflight++;
    uv_queue_work(op->api->loop, &w->req, rows_render, rows_done);
    return 0;
}

/* Reads one batch of keys from lr->start. Returns 1 when the list is complete, 0
 * when keys remain, or a TRI_E* code. */
static int read_batch(list_run_t *lr)
{
    tri_kvs_t kvs = {0};
    bool more = false;
    size_t batch = lr->parallel ? (lr->limit && lr->limit - lr->n + 1 < ROWS_BATCH
                                       ? lr->limit - lr->n + 1
                                       : ROWS_BATCH)
                   : lr->decode ? LIST_SCAN_BATCH
                                : (lr->limit ? lr->limit - lr->n + 1 : LIST_SCAN_BATCH * 4);
    int rc = tri_store_range(lr->op->api->store, lr->start.data, lr->start.len, lr->end,
                             lr->end_len, lr->rev, batch, &kvs, &more);
    if (rc != 0)
        return rc;
    size_t i = 0;
    if (lr->parallel) {
        i = lr->limit && lr->limit - lr->n < kvs.n ? lr->limit - lr->n : kvs.n;
        if (i > 0 && (rc = rows_queue(lr, kvs.items, i)) != 0) {
            tri_kvs_free(&kvs);
            return rc;
        }
        lr->n += i;
    }
    for (; !lr->parallel && i < kvs.n && (!lr->limit || lr->n < lr->limit); i++) {
        if ((rc = take(lr, &kvs.items[i])) != 0) {
            tri_kvs_free(&kvs);
            return rc;
        }
    }
    bool remaining = i < kvs.n || more;
    if (lr->limit && lr->n >= lr->limit && remaining) {
        /* the next key to read: the last one returned, plus "\0" */
        tri_kv_t *last = &kvs.items[i - 1];
        tri_buf_t suffix = {0};
        tri_buf_append(&suffix, last->key + lr->prefix.len, last->key_len - lr->prefix.len);
        tri_buf_append(&suffix, "\0", 1);
        rc = encode_continue(lr->rev, suffix.data, suffix.len, &lr->cont);
        tri_buf_free(&suffix);
    }
    bool done = !more || (lr->limit && lr->n >= lr->limit) || kvs.n == 0;
    if (!done) {
        tri_kv_t *last = &kvs.items[kvs.n - 1];
        tri_buf_reset(&lr->start);
        tri_buf_append(&lr->start, last->key, last->key_len);
        tri_buf_append(&lr->start, "\0", 1);
    }
    tri_kvs_free(&kvs);
    return rc != 0 ? rc : done;
}

static void render(list_run_t *lr)
{
    tri_api_op_t *op = lr->op;
    op->revision = lr->rev;
    op->list_meta = json_object();
    char rvs[32];
    snprintf(rvs, sizeof rvs, "%lld", (long long)lr->rev);
    json_object_set_new(op->list_meta, "resourceVersion", json_string(rvs));
    if (lr->cont.len)
        json_object_set_new(op->list_meta, "continue", json_stringn(lr->cont.data, lr->cont.len));
    if (op->want_table) {
        tri_table_render(op->res, op->list_meta, &lr->items, &op->body);
        return;
    }
    char apiv[128];
    tri_resource_api_version(op->res, apiv, sizeof apiv);
    char *m = json_dumps(op->list_meta, JSON_COMPACT);
    tri_buf_reserve(&op->body, lr->items.len + strlen(m) + 256);
    tri_buf_appendf(&op->body, "{\"kind\":\"%s\",\"apiVersion\":\"%s\",\"metadata\":%s,\"items\":[",
                    op->res->list_kind, apiv, m);
    free(m);
    tri_buf_append(&op->body, lr->items.data, lr->items.len);
    tri_buf_append(&op->body, "]}", 2);
}

static void finish(list_run_t *lr, int rc)
{
    tri_api_op_t *op = lr->op;
    op->list_run = NULL;
    bool from_token = op->key.len > 0;
    if (rc == 0)
        render(lr);
    uv_close((uv_handle_t *)&lr->timer, run_free);
    if (rc == TRI_ECOMPACTED && from_token) {
        tri_status_set(&op->status, 410, "Expired",
                       "The provided continue parameter is too old to display a consistent list "
                       "result. You can start a new list without the continue parameter.");
    } else if (rc == TRI_ECOMPACTED) {
        tri_status_set(&op->status, 410, "Expired", "too old resource version: %lld (%lld)",
                       (long long)lr->rev,
                       (long long)tri_store_compact_revision(op->api->store) + 1);
    } else if (rc != 0 && op->status.code == 0) {
        tri_op_fail_code(op, rc);
        return;
    }
    tri_op_finish(op); /* a value that did not open: its Status is set */
}

/* A parallel slice: read and queue batches while the pool has room; rows_done
 * calls again as batches come back, and finishes once all are joined. */
static void slice_parallel(list_run_t *lr)
{
    while (!lr->reading_done && lr->inflight < ROWS_INFLIGHT && rows_inflight < ROWS_INFLIGHT) {
        int rc = lr->op->canceled ? 1 : read_batch(lr);
        if (rc != 0) {
            lr->reading_done = true;
            lr->read_rc = rc == 1 ? 0 : rc;
        }
    }
    if (lr->reading_done && lr->inflight == 0)
        finish(lr, lr->read_rc);
    else if (!lr->reading_done && lr->inflight == 0) /* the pool is busy with other lists */
        uv_timer_start(&lr->timer, slice, 1, 0);
}

static void slice(uv_timer_t *t)
{
    list_run_t *lr = t->data;
    if (lr->parallel) {
        slice_parallel(lr);
        return;
    }
    if (lr->op->canceled) { /* the client went away: the result is dropped anyway */
        finish(lr, 0);
        return;
    }
    uint64_t t0 = tri_now_ns();
    for (;;) {
        int rc = read_batch(lr);
        if (rc != 0) {
            finish(lr, rc == 1 ? 0 : rc);
            return;
        }
        if (tri_now_ns() - t0 >= LIST_SLICE_NS)
            break;
    }
    tri_timer_yield(&lr->timer, slice); /* I/O runs between slices */
}

void tri_list_start(tri_api_op_t *op)
{
    list_run_t *lr = calloc(1, sizeof *lr);
    if (lr == NULL) {
        tri_op_fail_code(op, TRI_ENOMEM);
        return;
    }
    if (tri_api_parse_selectors(op->res, op->lopts.label_selector, op->lopts.field_selector,
                                &lr->labels, &lr->fields, &op->status) != 0) {
        free(lr);
        tri_op_finish(op);
        return;
    }
    lr->op = op;
    op->list_run = lr;
    lr->rev = op->read_rev > 0 ? op->read_rev : tri_store_revision(op->api->store);
    tri_registry_prefix(op->res, op->ns, &lr->prefix);
    lr->end_len = tri_prefix_end(lr->prefix.data, lr->prefix.len, lr->end);
    tri_buf_append(&lr->start, lr->prefix.data, lr->prefix.len);
    if (op->key.len)
        tri_buf_append(&lr->start, op->key.data, op->key.len); /* continue: key suffix */
    lr->decode = lr->labels || lr->fields || op->want_table || op->want_items;
    lr->parallel = op->want_table && !op->want_items && !lr->labels && !lr->fields;
    lr->limit = op->lopts.limit > 0 ? (size_t)op->lopts.limit : 0;
    if (op->want_items)
        op->items = json_array();
    uv_timer_init(op->api->loop, &lr->timer);
    lr->timer.data = lr;
    slice(&lr->timer);
}
