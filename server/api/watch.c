/* Kubernetes watches over the store's watch hub.
 *
 * A watch turns store events on a resource's key range into ADDED / MODIFIED /
 * DELETED events of objects, filtered by label and field selectors with
 * apiserver's transition rules (an object that stops matching is DELETED for the
 * watcher, one that starts matching is ADDED). Without a resourceVersion (or with
 * "0") the watcher first receives the current state as ADDED events, then
 * follows from that revision; with N it follows every change after N, N waited
 * for (bounded) if this replica has not reached it, and 410 Expired if N left the
 * history window. Events are pulled by the consumer (tri_api_watch_next), so a
 * watcher costs no buffer of its own: one that falls behind the store's ring is
 * ended with 410 and relists.
 */
#include <stdio.h>
#include <string.h>

#include "op.h"
#include "storage.h"
#include "triarch/api.h"
#include "triarch/codec.h"
#include "triarch/errors.h"

int tri_api_parse_selectors(const tri_resource_t *r, const char *lsel, const char *fsel,
                            tri_selector_t **labels, tri_selector_t **fields, tri_status_t *st);
bool tri_api_selectors_match(const tri_selector_t *labels, const tri_selector_t *fields,
                             const json_t *obj);
void tri_api_watch_count_add(tri_api_t *api, int delta);

struct tri_api_watch {
    tri_api_t *api;
    const tri_resource_t *res;
    tri_selector_t *labels;
    tri_selector_t *fields;
    tri_watch_t *sw;
    tri_api_watch_ready_cb cb;
    void *data;
    bool raw;          /* hand out stored bytes (no selectors, no conversion) */
    bool meta_only;    /* objects as tri_object_load_meta makes them */
    /* The current state as synthetic ADDED events, read at after_rev a batch at a
     * time as the consumer drains them, so a watch over many objects never holds
     * them all. initial_cursor is the next key to read; empty once done. */
    bool initial_pending;
    tri_buf_t initial_cursor;
    json_t *initial;   /* the current batch */
    size_t initial_next;
    int64_t after_rev;
    tri_waiter_t waiter;
    bool waiting;
    bool ended;        /* nothing more after the pending error */
    tri_status_t error;
    bool error_pending;
    tri_buf_t start;
    char end[1024];
    size_t end_len;
};

static void on_store_event(tri_watch_t *sw, void *data)
{
    tri_api_watch_t *w = data;
    w->cb(w, w->data);
}

static void set_error(tri_api_watch_t *w, int code)
{
    if (code == TRI_ECOMPACTED || code == TRI_ESLOW) {
        tri_status_set(&w->error, 410, "Expired", "too old resource version: %lld (%lld)",
                       (long long)w->after_rev,
                       (long long)tri_store_compact_revision(tri_api_store(w->api)) + 1);
    } else {
        tri_status_from_code(&w->error, code, "watch");
    }
    w->error_pending = true;
}

/* The plaintext of a stored value (a new reference), or NULL when it does not
 * decrypt: then the watch ends with that 500 Status, as apiserver's does. */
static tri_val_t *open_val(tri_api_watch_t *w, const char *key, size_t klen, tri_val_t *stored)
{
    tri_val_t *plain = NULL;
    tri_status_t st = {0};
    if (tri_storage_open(w->api, w->res, key, klen, stored, &plain, NULL, &st) == 0)
        return plain;
    if (w->error_pending) {
        tri_status_clear(&st);
    } else {
        tri_status_clear(&w->error);
        w->error = st;
        w->error_pending = true;
    }
    return NULL;
}

static int open_store_watch(tri_api_watch_t *w)
{
    return tri_store_watch(tri_api_store(w->api), w->start.data, w->start.len, w->end,
                           w->end_len, w->after_rev, on_store_event, w, &w->sw);
}

#define INITIAL_BATCH 64 /* keys read per refill of the synthetic ADDED events */

static json_t *load_obj(const tri_api_watch_t *w, const tri_val_t *plain, int64_t rev)
{
    return w->meta_only ? tri_object_load_meta(w->res, plain, rev)
                        : tri_object_load_as(w->res, plain, rev);
}

/* The current state is replayed from the revision the watch follows from. */
static int start_initial(tri_api_watch_t *w)
{
    w->after_rev = tri_store_revision(tri_api_store(w->api));
    w->initial_pending = true;
    tri_buf_append(&w->initial_cursor, w->start.data, w->start.len);
    return 0;
}

/* Refills w->initial with the next batch that passes the selectors. */
static int refill_initial(tri_api_watch_t *w)
{
    json_decref(w->initial);
    w->initial = json_array();
    w->initial_next = 0;
    while (w->initial_pending && json_array_size(w->initial) == 0) {
        tri_kvs_t kvs = {0};
        bool more = false;
        int rc = tri_store_range(tri_api_store(w->api), w->initial_cursor.data,
                                 w->initial_cursor.len, w->end, w->end_len, w->after_rev,
                                 INITIAL_BATCH, &kvs, &more);
        if (rc != 0) {
            tri_kvs_free(&kvs);
            w->initial_pending = false;
            return rc;
        }
        for (size_t i = 0; i < kvs.n; i++) {
            tri_kv_t *kv = &kvs.items[i];
            tri_val_t *plain = open_val(w, kv->key, kv->key_len, kv->val);
            if (plain == NULL) {
                tri_kvs_free(&kvs);
                w->initial_pending = false;
                return TRI_ECORRUPT;
            }
            json_t *obj = load_obj(w, plain, kv->mod_rev);
            tri_val_unref(plain);
            if (obj && tri_api_selectors_match(w->labels, w->fields, obj))
                json_array_append_new(w->initial, obj);
            else
                json_decref(obj);
        }
        if (more && kvs.n > 0) {
            tri_kv_t *last = &kvs.items[kvs.n - 1];
            tri_buf_reset(&w->initial_cursor);
            tri_buf_append(&w->initial_cursor, last->key, last->key_len);
            tri_buf_append(&w->initial_cursor, "\0", 1);
        } else {
            w->initial_pending = false;
        }
        tri_kvs_free(&kvs);
    }
    return 0;
}

static void on_rv_reached(tri_waiter_t *wt, int status)
{
    tri_api_watch_t *w = wt->data;
    w->waiting = false;
    if (status == TRI_ECANCELED)
        return;
    int rc = status == 0 ? open_store_watch(w) : TRI_EFUTURE;
    if (rc != 0)
        set_error(w, rc);
    w->cb(w, w->data);
}

static int parse_watch_rv(const char *s, int64_t *out)
{
    if (s == NULL || s[0] == '\0') {
        *out = 0;
        return 0;
    }
    char *end;
    long long v = strtoll(s, &end, 10);
    if (*end != '\0' || v < 0)
        return TRI_EINVAL;
    *out = v;
    return 0;
}

static void build_range(tri_api_watch_t *w, const char *ns, const char *name)
{
    tri_registry_prefix(w->res, ns, &w->start);
    if (name && name[0]) {
        tri_buf_append(&w->start, name, strlen(name));
        /* exactly one key: [key, key + "\0") */
        memcpy(w->end, w->start.data, w->start.len);
        w->end[w->start.len] = '\0';
        w->end_len = w->start.len + 1;
    } else {
        w->end_len = tri_prefix_end(w->start.data, w->start.len, w->end);
    }
}

int tri_api_watch_start(tri_api_t *api, const tri_resource_t *r, const char *ns,
                        const char *name, const tri_api_watch_opts_t *opts,
                        tri_api_watch_ready_cb cb, void *data, tri_api_watch_t **out,
                        tri_status_t *st)
{
    int64_t rv;
    if (parse_watch_rv(opts->resource_version, &rv) != 0) {
        tri_status_set(st, 400, "BadRequest", "invalid resource version \"%s\"",
                       opts->resource_version);
        return TRI_EINVAL;
    }
    tri_api_watch_t *w = calloc(1, sizeof *w);
    if (w == NULL)
        return TRI_ENOMEM;
    if (tri_api_parse_selectors(r, opts->label_selector, opts->field_selector, &w->labels,
                                &w->fields, st) != 0) {
        free(w);
        return TRI_EINVAL;
    }
    w->api = api;
    w->res = r;
    w->cb = cb;
    w->data = data;
    w->raw = opts->raw_ok && w->labels == NULL && w->fields == NULL && r->from_storage == NULL;
    w->meta_only = !w->raw && opts->metadata_only && w->fields == NULL;
    w->waiter.data = w;
    build_range(w, r->namespaced ? ns : NULL, name);
    tri_api_watch_count_add(api, 1);
    *out = w;
    int rc = 0;
    if (rv == 0 || opts->send_initial_events) {
        rc = start_initial(w);
        rc = rc ? rc : open_store_watch(w);
    } else if (rv > tri_store_revision(tri_api_store(api))) {
        w->after_rev = rv;
        w->waiting = true;
        rc = tri_node_wait_revision(tri_api_node(api), &w->waiter, rv, on_rv_reached);
        if (rc != 0)
            w->waiting = false;
    } else {
        w->after_rev = rv;
        rc = open_store_watch(w);
    }
    if (rc != 0)
        set_error(w, rc);
    return 0;
}

void tri_api_memo_clear(tri_api_t *api)
{
    for (size_t i = 0; i < sizeof api->memo / sizeof api->memo[0]; i++) {
        tri_val_unref(api->memo[i].val);
        json_decref(api->memo[i].obj);
        api->memo[i] = (struct tri_event_memo){0};
    }
}

/* The object of a stored value in an event; false when it did not decrypt. Parsed
 * once for all the watchers of the event (api->memo): a whole object serves every
 * watcher, a metadata-only one the metadata-only watchers. */
static bool load_event_val(tri_api_watch_t *w, const tri_event_t *ev, tri_val_t *v, int64_t rev,
                           json_t **out)
{
    struct tri_event_memo *m = &w->api->memo[(uint64_t)rev % TRI_EVENT_MEMO];
    if (m->val == v && m->rev == rev && m->res == w->res && m->obj != NULL &&
        (w->meta_only || !m->meta)) {
        *out = json_incref(m->obj);
        return true;
    }
    tri_val_t *plain = open_val(w, ev->key->data, ev->key->len, v);
    *out = plain ? load_obj(w, plain, rev) : NULL;
    tri_val_unref(plain);
    if (*out != NULL) {
        tri_val_unref(m->val);
        json_decref(m->obj);
        *m = (struct tri_event_memo){tri_val_ref(v), rev, w->res, json_incref(*out),
                                     w->meta_only};
    }
    return plain != NULL;
}

/* Applies apiserver's selector transition rules to one store event. Returns the
 * event type, 0 when the watcher should not see it, or -1 when a value did not
 * decrypt (the watch's error is pending). */
static int classify(tri_api_watch_t *w, const tri_event_t *ev, json_t **obj)
{
    bool filtering = w->labels || w->fields;
    json_t *cur = NULL, *prev = NULL;
    if (ev->kind == TRI_EV_PUT && !load_event_val(w, ev, ev->val, ev->mod_rev, &cur))
        return -1;
    if (ev->prev && (ev->kind == TRI_EV_DELETE || filtering) &&
        !load_event_val(w, ev, ev->prev, ev->revision, &prev)) {
        json_decref(cur);
        return -1;
    }
    bool cm = cur && (!filtering || tri_api_selectors_match(w->labels, w->fields, cur));
    bool pm = prev && (!filtering || tri_api_selectors_match(w->labels, w->fields, prev));
    int type = 0;
    if (ev->kind == TRI_EV_DELETE) {
        type = pm ? TRI_WATCH_DELETED : 0;
        *obj = pm ? json_incref(prev) : NULL;
    } else if (cm) {
        type = (ev->created || (filtering && !pm)) ? TRI_WATCH_ADDED : TRI_WATCH_MODIFIED;
        *obj = json_incref(cur);
    } else if (pm) {
        /* stopped matching: the watcher sees it go, with its new state */
        type = TRI_WATCH_DELETED;
        *obj = json_incref(cur);
    }
    json_decref(cur);
    json_decref(prev);
    return type;
}

int tri_api_watch_next(tri_api_watch_t *w, tri_api_event_t *ev)
{
    memset(ev, 0, sizeof *ev);
    if ((w->initial == NULL || w->initial_next >= json_array_size(w->initial)) &&
        w->initial_pending) {
        int rc = refill_initial(w);
        if (rc != 0) {
            if (!w->error_pending)
                set_error(w, rc);
            json_decref(w->initial);
            w->initial = NULL;
        }
    }
    if (w->initial && w->initial_next < json_array_size(w->initial)) {
        ev->type = TRI_WATCH_ADDED;
        ev->obj = json_incref(json_array_get(w->initial, w->initial_next++));
        ev->revision = w->after_rev;
        return 1;
    }
    if (w->error_pending) {
        w->error_pending = false;
        w->ended = true;
        ev->type = TRI_WATCH_ERROR;
        ev->obj = tri_status_json(&w->error);
        return 1;
    }
    if (w->ended)
        return TRI_ECANCELED;
    if (w->sw == NULL)
        return 0;
    for (;;) {
        tri_event_t sev;
        int rc = tri_watch_next(w->sw, &sev);
        if (rc == 0)
            return 0;
        if (rc < 0) {
            set_error(w, rc);
            return tri_api_watch_next(w, ev);
        }
        if (w->raw) {
            bool del = sev.kind == TRI_EV_DELETE;
            if (del && sev.prev == NULL)
                continue;
            /* stored bytes go out as they are, so they are opened here */
            tri_val_t *plain = open_val(w, sev.key->data, sev.key->len, del ? sev.prev : sev.val);
            if (plain == NULL)
                return tri_api_watch_next(w, ev);
            ev->type = del ? TRI_WATCH_DELETED : sev.created ? TRI_WATCH_ADDED : TRI_WATCH_MODIFIED;
            ev->raw = plain;
            ev->raw_rev = del ? sev.revision : sev.mod_rev;
            ev->revision = sev.revision;
            return 1;
        }
        json_t *obj = NULL;
        int type = classify(w, &sev, &obj);
        if (type < 0)
            return tri_api_watch_next(w, ev);
        if (type == 0 || obj == NULL) {
            json_decref(obj);
            continue;
        }
        ev->type = type;
        ev->obj = obj;
        ev->revision = sev.revision;
        return 1;
    }
}

json_t *tri_api_watch_bookmark(tri_api_watch_t *w)
{
    char apiv[128], rv[32];
    tri_resource_api_version(w->res, apiv, sizeof apiv);
    int64_t p = w->sw ? tri_watch_progress(w->sw) : w->after_rev;
    snprintf(rv, sizeof rv, "%lld", (long long)p);
    return json_pack("{s:s, s:s, s:{s:s}}", "kind", w->res->kind, "apiVersion", apiv,
                     "metadata", "resourceVersion", rv);
}

void tri_api_watch_stop(tri_api_watch_t *w)
{
    if (w == NULL)
        return;
    if (w->waiting)
        tri_node_waiter_cancel(&w->waiter);
    if (w->sw)
        tri_watch_stop(w->sw);
    tri_api_watch_count_add(w->api, -1);
    tri_selector_free(w->labels);
    tri_selector_free(w->fields);
    json_decref(w->initial);
    tri_buf_free(&w->initial_cursor);
    tri_status_clear(&w->error);
    tri_buf_free(&w->start);
    free(w);
}
