/* Shared by the test_auth_*.c authorizer tests: a bare store (no raft) holding
 * objects written as JSON text under their registry keys, users made in one line,
 * and one-line decisions. Everything is static: each test is its own executable. */
#ifndef TEST_AUTHZ_FIXTURE_H
#define TEST_AUTHZ_FIXTURE_H

#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "../../server/api/resources.h"
#include "check.h"
#include "triarch/auth.h"
#include "triarch/authz.h"
#include "triarch/store.h"

static void fx_put_raw(tri_store_t *s, const tri_resource_t *r, const char *ns, const char *name,
                       const char *json)
{
    json_error_t err;
    json_t *o = json_loads(json, 0, &err);
    if (o == NULL) {
        fprintf(stderr, "bad test JSON (%s): %s\n", err.text, json);
        exit(1);
    }
    tri_buf_t key = {0}, val = {0};
    tri_registry_key(r, ns, name, &key);
    CHECK_EQ(tri_object_encode(o, &val), 0);
    tri_op_t op = {TRI_OP_PUT, key.data, key.len, val.data, val.len};
    tri_txn_t txn = {NULL, 0, &op, 1};
    tri_txn_result_t res;
    CHECK_EQ(tri_store_apply(s, &txn, &res), 0);
    tri_buf_free(&key);
    tri_buf_free(&val);
    json_decref(o);
}

/* An object of kind r: body is the JSON after "metadata" (rules, subjects, spec...). */
static void fx_put(tri_store_t *s, const tri_resource_t *r, const char *ns, const char *name,
                   const char *body_fmt, ...) __attribute__((format(printf, 5, 6), unused));
static void fx_put(tri_store_t *s, const tri_resource_t *r, const char *ns, const char *name,
                   const char *body_fmt, ...)
{
    char body[8192], json[9000];
    va_list ap;
    va_start(ap, body_fmt);
    vsnprintf(body, sizeof body, body_fmt, ap);
    va_end(ap);
    char apiv[128];
    tri_resource_api_version(r, apiv, sizeof apiv);
    snprintf(json, sizeof json,
             "{\"apiVersion\":\"%s\",\"kind\":\"%s\",\"metadata\":{\"name\":\"%s\"%s%s%s}%s%s}",
             apiv, r->kind, name, ns ? ",\"namespace\":\"" : "", ns ? ns : "", ns ? "\"" : "",
             body[0] ? "," : "", body);
    fx_put_raw(s, r, ns, name, json);
}

/* Kubernetes' default ClusterRoles and bindings, as the leader writes them. */
static __attribute__((unused)) void fx_load_default_policy(tri_store_t *s)
{
    json_t *all[2] = {tri_authz_default_clusterroles(), tri_authz_default_clusterrolebindings()};
    const tri_resource_t *res[2] = {&tri_res_clusterroles, &tri_res_clusterrolebindings};
    for (int k = 0; k < 2; k++) {
        size_t i;
        json_t *o;
        json_array_foreach(all[k], i, o) {
            char *text = json_dumps(o, JSON_COMPACT);
            fx_put_raw(s, res[k], NULL,
                       json_string_value(json_object_get(json_object_get(o, "metadata"), "name")),
                       text);
            free(text);
        }
        json_decref(all[k]);
    }
}

static __attribute__((unused)) void fx_del(tri_store_t *s, const tri_resource_t *r, const char *ns,
                                           const char *name)
{
    tri_buf_t key = {0};
    tri_registry_key(r, ns, name, &key);
    tri_op_t op = {TRI_OP_DELETE, key.data, key.len, NULL, 0};
    tri_txn_t txn = {NULL, 0, &op, 1};
    tri_txn_result_t res;
    CHECK_EQ(tri_store_apply(s, &txn, &res), 0);
    tri_buf_free(&key);
}

/* groups: space-separated */
static tri_user_t fx_user(const char *name, const char *groups)
{
    tri_user_t u;
    memset(&u, 0, sizeof u);
    snprintf(u.name, sizeof u.name, "%s", name);
    char buf[1024];
    snprintf(buf, sizeof buf, "%s", groups);
    char *save = NULL;
    for (char *g = strtok_r(buf, " ", &save); g; g = strtok_r(NULL, " ", &save))
        tri_user_add_group(&u, g);
    return u;
}

static char fx_reason[1024];

/* resource: "pods" or "pods/status"; group "" is core */
static int fx_can(tri_authz_t *a, const tri_user_t *u, const char *verb, const char *group,
                  const char *resource, const char *ns, const char *name)
{
    char res[128];
    snprintf(res, sizeof res, "%s", resource);
    char *slash = strchr(res, '/');
    if (slash)
        *slash = '\0';
    tri_authz_attrs_t at = {.user = u,
                            .verb = verb,
                            .resource_request = true,
                            .namespace_ = ns ? ns : "",
                            .api_group = group,
                            .api_version = "v1",
                            .resource = res,
                            .subresource = slash ? slash + 1 : "",
                            .name = name ? name : "",
                            .path = ""};
    return tri_authz_check(a, &at, fx_reason, sizeof fx_reason);
}

static __attribute__((unused)) int fx_can_url(tri_authz_t *a, const tri_user_t *u, const char *verb,
                                              const char *path)
{
    tri_authz_attrs_t at = {.user = u,
                            .verb = verb,
                            .resource_request = false,
                            .namespace_ = "",
                            .api_group = "",
                            .api_version = "",
                            .resource = "",
                            .subresource = "",
                            .name = "",
                            .path = path};
    return tri_authz_check(a, &at, fx_reason, sizeof fx_reason);
}

#define ALLOW TRI_AUTHZ_ALLOW
#define DENY TRI_AUTHZ_DENY

/* Prints the case on failure. */
#define EXPECT(got, want, what)                                                                    \
    do {                                                                                           \
        int g_ = (got), w_ = (want);                                                               \
        if (g_ != w_) {                                                                            \
            fprintf(stderr, "%s:%d: %s: expected %s, got %s (reason: %s)\n", __FILE__, __LINE__,   \
                    (what), w_ == ALLOW ? "ALLOW" : "DENY", g_ == ALLOW ? "ALLOW" : "DENY",        \
                    fx_reason);                                                                    \
            exit(1);                                                                               \
        }                                                                                          \
    } while (0)

static __attribute__((unused)) json_t *fx_json(const char *s)
{
    json_error_t err;
    json_t *o = json_loads(s, JSON_DECODE_ANY, &err);
    if (o == NULL) {
        fprintf(stderr, "bad test JSON (%s): %s\n", err.text, s);
        exit(1);
    }
    return o;
}

#define CHECK_JSON(got, want)                                                                      \
    do {                                                                                           \
        json_t *w_ = fx_json(want);                                                                \
        json_t *g_ = (got);                                                                        \
        if (!json_equal(g_, w_)) {                                                                 \
            char *gs_ = json_dumps(g_, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY);           \
            fprintf(stderr, "%s:%d: expected %s, got %s\n", __FILE__, __LINE__, want,              \
                    gs_ ? gs_ : "(null)");                                                         \
            exit(1);                                                                               \
        }                                                                                          \
        json_decref(w_);                                                                           \
    } while (0)

#endif
