/* Unit tests for server-side apply and managedFields (include/triarch/apply.h):
 * the ConfigMap examples of the Kubernetes server-side apply documentation as
 * literals, re-apply as a no-op, pruning of fields an applier dropped, conflicts
 * (409 in Kubernetes' words) and force, Update entries taking ownership, a
 * Deployment's containers merged by name and ports by containerPort+protocol,
 * atomic lists and selectors, and the apply request errors. JSON literals here are
 * written with ' for " to stay readable. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "triarch/apply.h"

/* ---------- helpers ---------- */

static json_t *J(const char *text)
{
    char *s = strdup(text);
    for (char *p = s; *p; p++) {
        if (*p == '\'')
            *p = '"';
    }
    json_error_t e;
    json_t *v = json_loads(s, JSON_DECODE_ANY, &e);
    if (!v) {
        fprintf(stderr, "bad test JSON %s: %s\n", s, e.text);
        exit(1);
    }
    free(s);
    return v;
}

/* The node at a '/'-separated path (array indexes as numbers), or NULL. */
static json_t *at(const json_t *v, const char *path)
{
    char buf[512];
    snprintf(buf, sizeof buf, "%s", path);
    json_t *cur = (json_t *)v;
    for (char *save = NULL, *seg = strtok_r(buf, "/", &save); cur && seg;
         seg = strtok_r(NULL, "/", &save)) {
        cur = json_is_array(cur) ? json_array_get(cur, strtoul(seg, NULL, 10))
                                 : json_object_get(cur, seg);
    }
    return cur;
}

static const char *str_at(const json_t *v, const char *path)
{
    const char *s = json_string_value(at(v, path));
    return s ? s : "";
}

/* The managedFields entry of manager/operation, or NULL. */
static json_t *entry(const json_t *obj, const char *manager, const char *op)
{
    size_t i;
    json_t *e;
    json_array_foreach(at(obj, "metadata/managedFields"), i, e)
    {
        if (strcmp(str_at(e, "manager"), manager) == 0 && strcmp(str_at(e, "operation"), op) == 0)
            return e;
    }
    return NULL;
}

static bool fields_are(const json_t *obj, const char *manager, const char *op, const char *want)
{
    json_t *w = J(want);
    json_t *e = entry(obj, manager, op);
    bool ok = e && json_equal(json_object_get(e, "fieldsV1"), w);
    if (!ok) {
        char *got = e ? json_dumps(json_object_get(e, "fieldsV1"), JSON_SORT_KEYS) : NULL;
        fprintf(stderr, "%s/%s fieldsV1: want %s\n  got %s\n", manager, op, want,
                got ? got : "(no entry)");
        free(got);
    }
    json_decref(w);
    return ok;
}

static bool is_rfc3339_seconds(const char *t)
{
    /* 2024-05-01T10:00:00Z */
    return strlen(t) == 20 && t[4] == '-' && t[7] == '-' && t[10] == 'T' && t[13] == ':' &&
           t[16] == ':' && t[19] == 'Z';
}

/* Applies the literal config; on failure returns NULL with the status in *st. */
static json_t *do_apply(const json_t *live, const char *cfg, const char *manager, bool force,
                        tri_status_t *st)
{
    json_t *a = J(cfg);
    json_t *kind = json_object_get(a, "kind");
    json_t *av = json_object_get(a, "apiVersion");
    json_t *before = live ? json_deep_copy(live) : NULL;
    json_t *r =
        tri_apply(live, a, manager, force, json_string_value(kind), json_string_value(av), st);
    CHECK(!live || json_equal(live, before)); /* live is never modified */
    json_decref(before);
    json_decref(a);
    return r;
}

static json_t *apply_ok(const json_t *live, const char *cfg, const char *manager, bool force)
{
    tri_status_t st = {0};
    json_t *r = do_apply(live, cfg, manager, force, &st);
    if (!r)
        fprintf(stderr, "apply failed: %d %s\n", st.code, st.message);
    CHECK(r != NULL);
    CHECK_EQ(st.code, 0);
    tri_status_clear(&st);
    return r;
}

/* Stands for the store: what the server keeps after a write. */
static void stored(json_t *obj, const char *rv)
{
    json_t *meta = json_object_get(obj, "metadata");
    json_object_set_new(meta, "resourceVersion", json_string(rv));
    if (!json_object_get(meta, "uid"))
        json_object_set_new(meta, "uid", json_string("6e1a0b4c-0000-4000-8000-000000000001"));
    if (!json_object_get(meta, "creationTimestamp"))
        json_object_set_new(meta, "creationTimestamp", json_string("2024-05-01T10:00:00Z"));
}

#define CM(meta, data)                                                                             \
    "{'apiVersion':'v1','kind':'ConfigMap','metadata':{'name':'test-cm','namespace':'"             \
    "default'" meta "},'data':" data "}"

/* ---------- the documentation's examples ---------- */

/* kubernetes.io/docs/reference/using-api/server-side-apply, "Example": the object
 * created by `kubectl apply --server-side` of test-cm. */
static const char doc_example_entry[] =
    "{'manager':'kubectl','operation':'Apply','apiVersion':'v1','time':'2010-10-10T0:00:00Z',"
    "'fieldsType':'FieldsV1','fieldsV1':{'f:metadata':{'f:labels':{'f:test-label':{}}},"
    "'f:data':{'f:key':{}}}}";

static void test_create_matches_kubernetes_example(void)
{
    json_t *obj = apply_ok(NULL, CM(",'labels':{'test-label':'test'}", "{'key':'some value'}"),
                           "kubectl", false);
    CHECK(strcmp(str_at(obj, "data/key"), "some value") == 0);
    CHECK(strcmp(str_at(obj, "metadata/labels/test-label"), "test") == 0);
    json_t *mf = at(obj, "metadata/managedFields");
    CHECK_EQ(json_array_size(mf), 1);
    json_t *got = json_deep_copy(json_array_get(mf, 0));
    CHECK(is_rfc3339_seconds(str_at(got, "time")));
    json_t *want = J(doc_example_entry);
    json_object_set(want, "time", json_object_get(got, "time"));
    CHECK(json_equal(got, want));
    /* keys in the order ManagedFieldsEntry serialises them */
    const char *order[] = {"manager", "operation", "apiVersion", "time", "fieldsType", "fieldsV1"};
    size_t i = 0;
    const char *k;
    json_t *v;
    json_object_foreach(got, k, v)
    {
        CHECK(i < 6 && strcmp(k, order[i]) == 0);
        i++;
    }
    json_decref(got);
    json_decref(want);
    json_decref(obj);
}

/* The documentation's second example: an Update by kube-controller-manager changing
 * data.key takes that field from the applier. */
static void test_update_takes_changed_field_as_in_kubernetes_example(void)
{
    json_t *obj = apply_ok(NULL, CM(",'labels':{'test-label':'test'}", "{'key':'some value'}"),
                           "kubectl", false);
    stored(obj, "10");
    json_t *next = json_deep_copy(obj);
    json_object_set_new(json_object_get(next, "data"), "key", json_string("new value"));
    tri_managed_fields_update(next, obj, "kube-controller-manager", "v1");
    json_t *want = J("[{'manager':'kubectl','operation':'Apply','apiVersion':'v1',"
                     "'fieldsType':'FieldsV1',"
                     "'fieldsV1':{'f:metadata':{'f:labels':{'f:test-label':{}}}}},"
                     "{'manager':'kube-controller-manager','operation':'Update',"
                     "'apiVersion':'v1','fieldsType':'FieldsV1',"
                     "'fieldsV1':{'f:data':{'f:key':{}}}}]");
    json_t *got = json_deep_copy(at(next, "metadata/managedFields"));
    CHECK(is_rfc3339_seconds(str_at(got, "1/time")));
    json_object_del(json_array_get(got, 0), "time");
    json_object_del(json_array_get(got, 1), "time");
    CHECK(json_equal(got, want)); /* Apply entries sort before Update entries */
    json_decref(got);
    json_decref(want);
    json_decref(next);
    json_decref(obj);
}

/* ---------- apply ---------- */

static void test_reapply_is_noop(void)
{
    const char *cfg = CM(",'labels':{'a':'1'},'creationTimestamp':null", "{'k':'v'}");
    json_t *obj = apply_ok(NULL, cfg, "kubectl", false);
    stored(obj, "7");
    /* make the stored time distinguishable from any time the next apply could write */
    json_object_set_new(json_array_get(at(obj, "metadata/managedFields"), 0), "time",
                        json_string("2001-01-01T00:00:00Z"));
    json_t *again = apply_ok(obj, cfg, "kubectl", false);
    CHECK(json_equal(again, obj));
    CHECK(strcmp(str_at(again, "metadata/managedFields/0/time"), "2001-01-01T00:00:00Z") == 0);
    CHECK(strcmp(str_at(again, "metadata/resourceVersion"), "7") == 0);
    json_decref(again);
    /* a changed value is a change: new time */
    json_t *changed = apply_ok(obj, CM(",'labels':{'a':'1'}", "{'k':'w'}"), "kubectl", false);
    CHECK(strcmp(str_at(changed, "data/k"), "w") == 0);
    CHECK(strcmp(str_at(changed, "metadata/managedFields/0/time"), "2001-01-01T00:00:00Z") != 0);
    CHECK(strcmp(str_at(changed, "metadata/uid"), str_at(obj, "metadata/uid")) == 0);
    json_decref(changed);
    json_decref(obj);
}

static void test_apply_removing_key_removes_it(void)
{
    json_t *obj =
        apply_ok(NULL, CM(",'labels':{'a':'1','b':'2'}", "{'x':'1','y':'2'}"), "kubectl", false);
    stored(obj, "3");
    json_t *next = apply_ok(obj, CM(",'labels':{'a':'1'}", "{'x':'1'}"), "kubectl", false);
    CHECK(at(next, "data/y") == NULL);
    CHECK(at(next, "metadata/labels/b") == NULL);
    CHECK(strcmp(str_at(next, "data/x"), "1") == 0);
    CHECK(fields_are(next, "kubectl", "Apply",
                     "{'f:metadata':{'f:labels':{'f:a':{}}},'f:data':{'f:x':{}}}"));
    /* server-owned metadata survives the prune */
    CHECK(strcmp(str_at(next, "metadata/resourceVersion"), "3") == 0);
    CHECK(strcmp(str_at(next, "metadata/name"), "test-cm") == 0);
    json_decref(next);
    json_decref(obj);
}

static void test_conflict_then_force(void)
{
    json_t *obj = apply_ok(NULL, CM("", "{'key':'one','other':'x'}"), "kubectl", false);
    stored(obj, "5");
    tri_status_t st = {0};
    json_t *r = do_apply(obj, CM("", "{'key':'two'}"), "other-manager", false, &st);
    CHECK(r == NULL);
    CHECK_EQ(st.code, 409);
    CHECK(st.reason && strcmp(st.reason, "Conflict") == 0);
    CHECK(strcmp(st.message,
                 "Apply failed with 1 conflict: conflict with \"kubectl\": .data.key") == 0);
    CHECK_EQ(json_array_size(st.causes), 1);
    json_t *want = J("{'reason':'FieldManagerConflict','message':'conflict with \\'kubectl\\'',"
                     "'field':'.data.key'}");
    CHECK(json_equal(json_array_get(st.causes, 0), want));
    json_decref(want);
    tri_status_clear(&st);

    /* the same value is no conflict: the field becomes shared */
    json_t *shared = apply_ok(obj, CM("", "{'key':'one'}"), "other-manager", false);
    CHECK(fields_are(shared, "kubectl", "Apply", "{'f:data':{'f:key':{},'f:other':{}}}"));
    CHECK(fields_are(shared, "other-manager", "Apply", "{'f:data':{'f:key':{}}}"));
    json_decref(shared);

    /* force: the value changes and kubectl no longer owns it */
    json_t *forced = apply_ok(obj, CM("", "{'key':'two'}"), "other-manager", true);
    CHECK(strcmp(str_at(forced, "data/key"), "two") == 0);
    CHECK(strcmp(str_at(forced, "data/other"), "x") == 0);
    CHECK(fields_are(forced, "kubectl", "Apply", "{'f:data':{'f:other':{}}}"));
    CHECK(fields_are(forced, "other-manager", "Apply", "{'f:data':{'f:key':{}}}"));
    stored(forced, "6");
    /* kubectl now conflicts with other-manager if it re-applies its old value */
    r = do_apply(forced, CM("", "{'key':'one','other':'x'}"), "kubectl", false, &st);
    CHECK(r == NULL && st.code == 409);
    CHECK(strstr(st.message, "conflict with \"other-manager\": .data.key") != NULL);
    tri_status_clear(&st);
    json_decref(forced);
    json_decref(obj);
}

static void test_conflicts_listed_by_manager(void)
{
    json_t *obj = apply_ok(NULL, CM("", "{'a':'1','b':'2'}"), "alpha", false);
    stored(obj, "2");
    json_t *next = json_deep_copy(obj);
    json_object_set_new(json_object_get(next, "data"), "c", json_string("3"));
    tri_managed_fields_update(next, obj, "beta", "v1");
    tri_status_t st = {0};
    json_t *r = do_apply(next, CM("", "{'a':'x','b':'y','c':'z'}"), "gamma", false, &st);
    CHECK(r == NULL && st.code == 409);
    CHECK(strcmp(st.message, "Apply failed with 3 conflicts: conflicts with \"alpha\":\n"
                             "- .data.a\n- .data.b\n"
                             "conflicts with \"beta\" using v1:\n- .data.c") == 0);
    CHECK_EQ(json_array_size(st.causes), 3);
    CHECK(strcmp(str_at(st.causes, "2/message"), "conflict with \"beta\" using v1") == 0);
    CHECK(strcmp(str_at(st.causes, "2/field"), ".data.c") == 0);
    tri_status_clear(&st);
    json_decref(next);
    json_decref(obj);
}

/* A field another manager set by Update stays when the applier does not mention it;
 * the applier setting it to another value conflicts with that Update entry. */
static void test_update_then_apply_leaves_other_field(void)
{
    json_t *obj = apply_ok(NULL, CM("", "{'a':'1'}"), "kubectl", false);
    stored(obj, "2");
    json_t *edited = json_deep_copy(obj);
    json_object_set_new(json_object_get(edited, "data"), "b", json_string("2"));
    json_object_set_new(json_object_get(edited, "metadata"), "labels", J("{'team':'x'}"));
    tri_managed_fields_update(edited, obj, "kubectl-edit", "v1");
    CHECK(fields_are(edited, "kubectl-edit", "Update",
                     "{'f:data':{'f:b':{}},'f:metadata':{'f:labels':{'.':{},'f:team':{}}}}"));
    CHECK(fields_are(edited, "kubectl", "Apply", "{'f:data':{'f:a':{}}}"));
    stored(edited, "3");

    json_t *next = apply_ok(edited, CM("", "{'a':'1'}"), "kubectl", false);
    CHECK(strcmp(str_at(next, "data/b"), "2") == 0);
    CHECK(strcmp(str_at(next, "metadata/labels/team"), "x") == 0);
    json_decref(next);

    /* dropping a field the applier shares with nobody still prunes it */
    next = apply_ok(edited, CM("", "{}"), "kubectl", false);
    CHECK(at(next, "data/a") == NULL);
    CHECK(strcmp(str_at(next, "data/b"), "2") == 0);
    CHECK(fields_are(next, "kubectl", "Apply", "{'f:data':{}}"));
    json_decref(next);

    tri_status_t st = {0};
    CHECK(do_apply(edited, CM("", "{'a':'1','b':'3'}"), "kubectl", false, &st) == NULL);
    CHECK(strcmp(st.message, "Apply failed with 1 conflict: conflict with \"kubectl-edit\" "
                             "using v1: .data.b") == 0);
    tri_status_clear(&st);
    json_decref(edited);
    json_decref(obj);
}

/* kubectl apply (client-side) then kubectl apply --server-side: the fields the
 * last-applied annotation still describes move to "kubectl" without a conflict, and
 * the annotation follows the new config. */
static void test_kubectl_takes_over_client_side_apply(void)
{
    const char *la = "{'apiVersion':'v1','data':{'key':'one'},'kind':'ConfigMap',"
                     "'metadata':{'name':'test-cm','namespace':'default'}}";
    json_t *obj = J(CM("", "{'key':'one'}"));
    json_t *ann = json_object();
    json_t *la_json = J(la);
    char *la_text = json_dumps(la_json, JSON_COMPACT | JSON_SORT_KEYS);
    json_object_set_new(ann, "kubectl.kubernetes.io/last-applied-configuration",
                        json_string(la_text));
    json_object_set_new(json_object_get(obj, "metadata"), "annotations", ann);
    tri_managed_fields_update(obj, NULL, "kubectl-client-side-apply", "v1");
    stored(obj, "2");

    json_t *next = apply_ok(obj, CM("", "{'key':'two'}"), "kubectl", false);
    CHECK(strcmp(str_at(next, "data/key"), "two") == 0);
    CHECK(fields_are(next, "kubectl", "Apply", "{'f:data':{'f:key':{}}}"));
    const char *got = json_string_value(json_object_get(
        at(next, "metadata/annotations"), "kubectl.kubernetes.io/last-applied-configuration"));
    CHECK(got && strcmp(got, "{\"apiVersion\":\"v1\",\"data\":{\"key\":\"two\"},\"kind\":"
                             "\"ConfigMap\",\"metadata\":{\"name\":\"test-cm\",\"namespace\":"
                             "\"default\"}}\n") == 0);
    json_decref(next);

    /* another manager gets the conflict */
    tri_status_t st = {0};
    CHECK(do_apply(obj, CM("", "{'key':'two'}"), "other", false, &st) == NULL);
    CHECK(strstr(st.message, "conflict with \"kubectl-client-side-apply\" using v1: .data.key"));
    tri_status_clear(&st);

    /* and so does kubectl once someone else changed the value since */
    json_t *edited = json_deep_copy(obj);
    json_object_set_new(json_object_get(edited, "data"), "key", json_string("edited"));
    tri_managed_fields_update(edited, obj, "kubectl-edit", "v1");
    CHECK(do_apply(edited, CM("", "{'key':'two'}"), "kubectl", false, &st) == NULL);
    CHECK(strstr(st.message, "conflict with \"kubectl-edit\" using v1: .data.key"));
    tri_status_clear(&st);
    json_decref(edited);
    free(la_text);
    json_decref(la_json);
    json_decref(obj);
}

#define DEPLOY(containers)                                                                         \
    "{'apiVersion':'apps/v1','kind':'Deployment','metadata':{'name':'web'},"                       \
    "'spec':{'replicas':2,'selector':{'matchLabels':{'app':'web'}},"                               \
    "'template':{'metadata':{'labels':{'app':'web'}},'spec':{'containers':" containers "}}}}"

#define SIDECAR                                                                                    \
    "{'apiVersion':'apps/v1','kind':'Deployment','metadata':{'name':'web'},"                       \
    "'spec':{'template':{'spec':{'containers':[{'name':'proxy','image':'envoy:1'}]}}}}"

static void test_deployment_containers_merge_by_name(void)
{
    json_t *obj =
        apply_ok(NULL, DEPLOY("[{'name':'app','image':'app:1','ports':[{'containerPort':80}]}]"),
                 "kubectl", false);
    /* the shape of a real Apply entry: items by key with '.', LabelSelector atomic,
     * ports keyed by containerPort and the defaulted protocol */
    CHECK(fields_are(obj, "kubectl", "Apply",
                     "{'f:spec':{'f:replicas':{},'f:selector':{},'f:template':{"
                     "'f:metadata':{'f:labels':{'f:app':{}}},'f:spec':{'f:containers':{"
                     "'k:{\\'name\\':\\'app\\'}':{'.':{},'f:image':{},'f:name':{},'f:ports':{"
                     "'k:{\\'containerPort\\':80,\\'protocol\\':\\'TCP\\'}':{'.':{},"
                     "'f:containerPort':{}}}}}}}}}"));
    stored(obj, "2");
    json_t *with_sidecar = apply_ok(obj, SIDECAR, "injector", false);
    CHECK_EQ(json_array_size(at(with_sidecar, "spec/template/spec/containers")), 2);
    stored(with_sidecar, "3");

    json_t *next = apply_ok(
        with_sidecar, DEPLOY("[{'name':'app','image':'app:2','ports':[{'containerPort':80}]}]"),
        "kubectl", false);
    json_t *cs = at(next, "spec/template/spec/containers");
    CHECK_EQ(json_array_size(cs), 2);
    CHECK(strcmp(str_at(cs, "0/name"), "app") == 0 && strcmp(str_at(cs, "0/image"), "app:2") == 0);
    CHECK(strcmp(str_at(cs, "1/name"), "proxy") == 0 &&
          strcmp(str_at(cs, "1/image"), "envoy:1") == 0);
    CHECK_EQ(json_integer_value(at(cs, "0/ports/0/containerPort")), 80);
    json_decref(next);

    /* kubectl dropping its container removes it; the injector's stays */
    next = apply_ok(with_sidecar, DEPLOY("[]"), "kubectl", false);
    cs = at(next, "spec/template/spec/containers");
    CHECK_EQ(json_array_size(cs), 1);
    CHECK(strcmp(str_at(cs, "0/name"), "proxy") == 0);
    json_decref(next);

    /* the injector changing kubectl's image conflicts on that field only */
    tri_status_t st = {0};
    const char *steal = "{'apiVersion':'apps/v1','kind':'Deployment','metadata':{'name':'web'},"
                        "'spec':{'template':{'spec':{'containers':[{'name':'app','image':'x'}]}}}}";
    CHECK(do_apply(with_sidecar, steal, "injector", false, &st) == NULL);
    CHECK(strcmp(st.message, "Apply failed with 1 conflict: conflict with \"kubectl\": "
                             ".spec.template.spec.containers[name=\"app\"].image") == 0);
    tri_status_clear(&st);
    json_decref(with_sidecar);
    json_decref(obj);
}

static void test_atomic_list_and_selector_replaced(void)
{
    json_t *obj = apply_ok(NULL, DEPLOY("[{'name':'app','image':'a','args':['--x','--y']}]"),
                           "kubectl", false);
    CHECK(fields_are(
        obj, "kubectl", "Apply",
        "{'f:spec':{'f:replicas':{},'f:selector':{},'f:template':{"
        "'f:metadata':{'f:labels':{'f:app':{}}},'f:spec':{'f:containers':{"
        "'k:{\\'name\\':\\'app\\'}':{'.':{},'f:image':{},'f:name':{},'f:args':{}}}}}}}"));
    stored(obj, "2");
    json_t *next =
        apply_ok(obj, DEPLOY("[{'name':'app','image':'a','args':['--z']}]"), "kubectl", false);
    json_t *want = J("['--z']");
    CHECK(json_equal(at(next, "spec/template/spec/containers/0/args"), want));
    json_decref(want);
    json_decref(next);

    /* selector is a LabelSelector: atomic, replaced wholesale, not merged */
    const char *sel = "{'apiVersion':'apps/v1','kind':'Deployment','metadata':{'name':'web'},"
                      "'spec':{'selector':{'matchLabels':{'tier':'x'}}}}";
    tri_status_t st = {0};
    CHECK(do_apply(obj, sel, "other", false, &st) == NULL);
    CHECK(strstr(st.message, ": .spec.selector") != NULL);
    tri_status_clear(&st);
    next = apply_ok(obj, sel, "other", true);
    want = J("{'matchLabels':{'tier':'x'}}");
    CHECK(json_equal(at(next, "spec/selector"), want));
    json_decref(want);
    json_decref(next);
    json_decref(obj);
}

static void test_set_list_merges_members(void)
{
    json_t *obj = apply_ok(NULL, CM(",'finalizers':['a.io/x']", "{}"), "one", false);
    stored(obj, "2");
    json_t *next = apply_ok(obj, CM(",'finalizers':['b.io/y']", "{}"), "two", false);
    json_t *want = J("['a.io/x','b.io/y']");
    CHECK(json_equal(at(next, "metadata/finalizers"), want));
    CHECK(fields_are(next, "two", "Apply",
                     "{'f:metadata':{'f:finalizers':{'v:\\'b.io/y\\'':{}}},'f:data':{}}"));
    json_decref(want);
    json_decref(next);
    json_decref(obj);
}

static void test_bad_requests(void)
{
    tri_status_t st = {0};
    CHECK(do_apply(NULL, CM("", "{}"), NULL, false, &st) == NULL);
    CHECK_EQ(st.code, 400);
    tri_status_clear(&st);
    CHECK(do_apply(NULL, CM(",'managedFields':[]", "{}"), "m", false, &st) == NULL);
    CHECK_EQ(st.code, 400);
    CHECK(strstr(st.message, "managedFields must be nil") != NULL);
    tri_status_clear(&st);
    CHECK(do_apply(NULL, DEPLOY("[{'image':'a'}]"), "m", false, &st) == NULL);
    CHECK_EQ(st.code, 400);
    CHECK(strstr(st.message, ".spec.template.spec.containers: element 0: associative list with "
                             "keys has an element that omits key field \"name\"") != NULL);
    tri_status_clear(&st);
    CHECK(do_apply(NULL, DEPLOY("[{'name':'a'},{'name':'a'}]"), "m", false, &st) == NULL);
    CHECK_EQ(st.code, 400);
    CHECK(strstr(st.message, "duplicate entries for key [name=\"a\"]") != NULL);
    tri_status_clear(&st);
    json_t *arr = J("[1]");
    CHECK(tri_apply(NULL, arr, "m", false, "ConfigMap", "v1", &st) == NULL);
    CHECK_EQ(st.code, 400);
    tri_status_clear(&st);
    json_decref(arr);
}

/* ---------- update ---------- */

static void test_update_on_create_and_noop(void)
{
    json_t *obj = J(CM(",'labels':{'app':'x'}", "{'k':'v'}"));
    tri_managed_fields_update(obj, NULL, NULL, "v1");
    CHECK(fields_are(obj, "unknown", "Update",
                     "{'f:metadata':{'f:labels':{'.':{},'f:app':{}}},'f:data':{'.':{},'f:k':{}}}"));
    CHECK(strcmp(str_at(obj, "metadata/managedFields/0/apiVersion"), "v1") == 0);
    stored(obj, "2");
    json_object_set_new(json_array_get(at(obj, "metadata/managedFields"), 0), "time",
                        json_string("2001-01-01T00:00:00Z"));
    /* only server fields change: nothing recorded */
    json_t *same = json_deep_copy(obj);
    json_object_set_new(json_object_get(same, "metadata"), "resourceVersion", json_string("3"));
    tri_managed_fields_update(same, obj, "kubectl-edit", "v1");
    CHECK(json_equal(at(same, "metadata/managedFields"), at(obj, "metadata/managedFields")));
    json_decref(same);
    /* a client that drops managedFields ([] or absent) keeps them */
    json_t *dropped = json_deep_copy(obj);
    json_object_set_new(json_object_get(dropped, "metadata"), "managedFields", json_array());
    json_object_set_new(json_object_get(dropped, "data"), "k", json_string("w"));
    tri_managed_fields_update(dropped, obj, "edit", "v1");
    CHECK(fields_are(dropped, "unknown", "Update",
                     "{'f:metadata':{'f:labels':{'.':{},'f:app':{}}},'f:data':{}}"));
    CHECK(fields_are(dropped, "edit", "Update", "{'f:data':{'f:k':{}}}"));
    json_decref(dropped);
    /* [{}] resets them: only this write's changes are recorded */
    json_t *reset = json_deep_copy(obj);
    json_object_set_new(json_object_get(reset, "metadata"), "managedFields", J("[{}]"));
    tri_managed_fields_update(reset, obj, "edit", "v1");
    CHECK(at(reset, "metadata/managedFields") == NULL);
    json_decref(reset);
    json_decref(obj);
}

static void test_update_managers_are_capped(void)
{
    json_t *obj = J(CM("", "{}"));
    tri_managed_fields_update(obj, NULL, "creator", "v1");
    for (int i = 0; i < 12; i++) {
        json_t *next = json_deep_copy(obj);
        char key[16], mgr[16];
        snprintf(key, sizeof key, "k%d", i);
        snprintf(mgr, sizeof mgr, "writer-%02d", i);
        json_object_set_new(json_object_get(next, "data"), key, json_string("v"));
        tri_managed_fields_update(next, obj, mgr, "v1");
        json_decref(obj);
        obj = next;
    }
    json_t *mf = at(obj, "metadata/managedFields");
    CHECK_EQ(json_array_size(mf), TRI_APPLY_MAX_UPDATE_MANAGERS);
    CHECK(entry(obj, TRI_APPLY_ANCIENT_MANAGER, "Update") != NULL);
    CHECK(entry(obj, "writer-11", "Update") != NULL);
    json_decref(obj);
}

int main(void)
{
    test_create_matches_kubernetes_example();
    test_update_takes_changed_field_as_in_kubernetes_example();
    test_reapply_is_noop();
    test_apply_removing_key_removes_it();
    test_conflict_then_force();
    test_conflicts_listed_by_manager();
    test_update_then_apply_leaves_other_field();
    test_kubectl_takes_over_client_side_apply();
    test_deployment_containers_merge_by_name();
    test_atomic_list_and_selector_replaced();
    test_set_list_merges_members();
    test_bad_requests();
    test_update_on_create_and_noop();
    test_update_managers_are_capped();
    printf("api_apply: all tests passed\n");
    return 0;
}
