/* Discovery and OpenAPI, generated from the resource registry: /version, the
 * legacy documents (/api, /apis, /api/v1, /apis/<g>/<v>), the aggregated v2
 * documents kubectl 1.32 prefers (sent only when its Accept asks for them, with
 * the exact Content-Type it expects), and the /openapi/v3 documents that tell
 * kubectl to validate server-side (fieldValidation on every PATCH). */
#include <stdio.h>
#include <string.h>

#include "internal.h"
#include "triarch/util.h"

/* kubectl dispatches on the reported minor version (KUBECTL.md). */
#define TRI_K8S_MAJOR "1"
#define TRI_K8S_MINOR "32"
#define TRI_K8S_GIT_VERSION "v1.32.0"

static const char *const all_verbs[] = {"create", "delete", "deletecollection", "get",
                                        "list",   "patch",  "update",           "watch"};

static json_t *verbs_json(const tri_resource_t *r)
{
    if (r->review)
        return json_pack("[s]", "create");
    json_t *a = json_array();
    for (size_t i = 0; i < sizeof all_verbs / sizeof all_verbs[0]; i++)
        json_array_append_new(a, json_string(all_verbs[i]));
    return a;
}

static json_t *strings_json(const char *const *s, size_t max)
{
    json_t *a = json_array();
    for (size_t i = 0; i < max && s[i]; i++)
        json_array_append_new(a, json_string(s[i]));
    return a;
}

/* A resource's subresources: name, the kind it answers with, its verbs. */
typedef struct sub_info {
    const char *name;
    const char *group, *version, *kind; /* NULL group: the resource's own kind */
    const char *verbs[4];
} sub_info_t;

static const sub_info_t known_subs[] = {
    {"status", NULL, NULL, NULL, {"get", "patch", "update"}},
    {"scale", "autoscaling", "v1", "Scale", {"get", "patch", "update"}},
    {"binding", "", "v1", "Binding", {"create"}},
    {"eviction", "policy", "v1", "Eviction", {"create"}},
    {"log", "", "v1", "Pod", {"get"}},
    {"exec", "", "v1", "PodExecOptions", {"create", "get"}},
    {"attach", "", "v1", "PodAttachOptions", {"create", "get"}},
    {"portforward", "", "v1", "PodPortForwardOptions", {"create", "get"}},
    {"proxy", "", "v1", "PodProxyOptions", {"create", "delete", "get", "patch"}},
    {"token", "authentication.k8s.io", "v1", "TokenRequest", {"create"}},
    {"finalize", "", "v1", "Namespace", {"update"}},
    {"ephemeralcontainers", "", "v1", "Pod", {"get", "patch", "update"}},
};

static const sub_info_t *sub_lookup(const char *name)
{
    for (size_t i = 0; i < sizeof known_subs / sizeof known_subs[0]; i++)
        if (strcmp(known_subs[i].name, name) == 0)
            return &known_subs[i];
    return NULL;
}

/* Calls fn for each subresource of r, status and scale first. */
static void each_sub(const tri_resource_t *r, void (*fn)(const tri_resource_t *, const sub_info_t *,
                                                         json_t *),
                     json_t *acc)
{
    if (r->has_status)
        fn(r, sub_lookup("status"), acc);
    if (r->scale_replicas)
        fn(r, sub_lookup("scale"), acc);
    for (size_t i = 0; i < sizeof r->subresources / sizeof r->subresources[0]; i++) {
        const sub_info_t *si = r->subresources[i] ? sub_lookup(r->subresources[i]) : NULL;
        if (si && strcmp(si->name, "status") && strcmp(si->name, "scale"))
            fn(r, si, acc);
    }
}

static json_t *sub_verbs(const sub_info_t *si)
{
    return strings_json(si->verbs, 4);
}

static void legacy_sub(const tri_resource_t *r, const sub_info_t *si, json_t *res)
{
    char name[128];
    snprintf(name, sizeof name, "%s/%s", r->plural, si->name);
    json_t *e = json_pack("{s:s, s:s, s:b, s:s, s:o}", "name", name, "singularName", "",
                          "namespaced", r->namespaced, "kind", si->kind ? si->kind : r->kind,
                          "verbs", sub_verbs(si));
    if (si->group != NULL && si->group[0]) {
        json_object_set_new(e, "group", json_string(si->group));
        json_object_set_new(e, "version", json_string(si->version));
    }
    json_array_append_new(res, e);
}

static void agg_sub(const tri_resource_t *r, const sub_info_t *si, json_t *subs)
{
    json_t *kind = json_pack("{s:s, s:s, s:s}", "group", si->group ? si->group : r->group,
                             "version", si->version ? si->version : r->version, "kind",
                             si->kind ? si->kind : r->kind);
    json_array_append_new(subs, json_pack("{s:s, s:o, s:o}", "subresource", si->name,
                                          "responseKind", kind, "verbs", sub_verbs(si)));
}

static void send_version(h2o_req_t *req)
{
    json_t *v = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "major", TRI_K8S_MAJOR,
                          "minor", TRI_K8S_MINOR, "gitVersion", TRI_K8S_GIT_VERSION, "gitCommit",
                          "triarch", "gitTreeState", "clean", "buildDate", "2026-11-23T00:00:00Z",
                          "goVersion", "c11", "compiler", "triarch", "platform", "linux/amd64");
    tri_send_json(req, 200, v);
}

/* ---------- legacy ---------- */

static json_t *api_resource_list(const char *group, const char *version)
{
    size_t n;
    const tri_resource_t *const *all = tri_registry_all(&n);
    json_t *res = json_array();
    for (size_t i = 0; i < n; i++) {
        const tri_resource_t *r = all[i];
        if (strcmp(r->group, group) || strcmp(r->version, version))
            continue;
        json_t *e = json_pack("{s:s, s:s, s:b, s:s, s:o}", "name", r->plural, "singularName",
                              r->singular, "namespaced", r->namespaced, "kind", r->kind, "verbs",
                              verbs_json(r));
        if (r->short_names[0])
            json_object_set_new(e, "shortNames", strings_json(r->short_names, 4));
        if (r->categories[0])
            json_object_set_new(e, "categories", strings_json(r->categories, 4));
        json_array_append_new(res, e);
        each_sub(r, legacy_sub, res);
    }
    char gv[128];
    snprintf(gv, sizeof gv, "%s%s%s", group, group[0] ? "/" : "", version);
    return json_pack("{s:s, s:s, s:s, s:o}", "kind", "APIResourceList", "apiVersion", "v1",
                     "groupVersion", gv, "resources", res);
}

/* Named groups with their versions, in registry order, each once. */
/* The versions of a group in registry order: the first is the preferred one
 * (autoscaling lists v2 before v1). Returns how many, at most max. */
static size_t group_versions(const char *group, const char **out, size_t max)
{
    size_t n, k = 0;
    const tri_resource_t *const *all = tri_registry_all(&n);
    for (size_t i = 0; i < n; i++) {
        if (strcmp(all[i]->group, group) != 0)
            continue;
        bool seen = false;
        for (size_t j = 0; j < k; j++)
            seen |= strcmp(out[j], all[i]->version) == 0;
        if (!seen && k < max)
            out[k++] = all[i]->version;
    }
    return k;
}

/* Named groups with their versions, in registry order, each once. */
static json_t *group_list(void)
{
    size_t n;
    const tri_resource_t *const *all = tri_registry_all(&n);
    json_t *groups = json_array();
    for (size_t i = 0; i < n; i++) {
        const tri_resource_t *r = all[i];
        if (r->group[0] == '\0')
            continue;
        bool seen = false;
        for (size_t j = 0; j < i; j++)
            seen |= strcmp(all[j]->group, r->group) == 0;
        if (seen)
            continue;
        const char *vers[8];
        size_t nv = group_versions(r->group, vers, 8);
        json_t *list = json_array();
        for (size_t v = 0; v < nv; v++) {
            char gv[128];
            snprintf(gv, sizeof gv, "%s/%s", r->group, vers[v]);
            json_array_append_new(list, json_pack("{s:s, s:s}", "groupVersion", gv, "version",
                                                  vers[v]));
        }
        json_array_append_new(groups, json_pack("{s:s, s:o, s:O}", "name", r->group, "versions",
                                                list, "preferredVersion",
                                                json_array_get(list, 0)));
    }
    return groups;
}

/* ---------- aggregated (apidiscovery.k8s.io v2 / v2beta1) ---------- */

static json_t *agg_resource(const tri_resource_t *r)
{
    json_t *kind = json_pack("{s:s, s:s, s:s}", "group", r->group, "version", r->version, "kind",
                             r->kind);
    json_t *e = json_pack("{s:s, s:O, s:s, s:s, s:o}", "resource", r->plural, "responseKind",
                          kind, "scope", r->namespaced ? "Namespaced" : "Cluster",
                          "singularResource", r->singular, "verbs", verbs_json(r));
    if (r->short_names[0])
        json_object_set_new(e, "shortNames", strings_json(r->short_names, 4));
    if (r->categories[0])
        json_object_set_new(e, "categories", strings_json(r->categories, 4));
    json_t *subs = json_array();
    each_sub(r, agg_sub, subs);
    if (json_array_size(subs) > 0)
        json_object_set_new(e, "subresources", subs);
    else
        json_decref(subs);
    json_decref(kind);
    return e;
}

/* One item per group, one entry per version (preferred first), as kube-apiserver. */
static json_t *agg_group(const char *group)
{
    size_t n;
    const tri_resource_t *const *all = tri_registry_all(&n);
    const char *vers[8];
    size_t nv = group_versions(group, vers, 8);
    json_t *versions = json_array();
    for (size_t v = 0; v < nv; v++) {
        json_t *res = json_array();
        for (size_t i = 0; i < n; i++)
            if (!strcmp(all[i]->group, group) && !strcmp(all[i]->version, vers[v]))
                json_array_append_new(res, agg_resource(all[i]));
        json_array_append_new(versions, json_pack("{s:s, s:o, s:s}", "version", vers[v],
                                                  "resources", res, "freshness", "Current"));
    }
    json_t *item = json_pack("{s:{}, s:o}", "metadata", "versions", versions);
    if (group[0])
        json_object_set_new(json_object_get(item, "metadata"), "name", json_string(group));
    return item;
}

static json_t *agg_list(bool core, const char *api_version)
{
    json_t *items = json_array();
    if (core) {
        json_array_append_new(items, agg_group(""));
    } else {
        json_t *groups = group_list();
        size_t i;
        json_t *g;
        json_array_foreach(groups, i, g)
            json_array_append_new(items, agg_group(json_string_value(json_object_get(g, "name"))));
        json_decref(groups);
    }
    return json_pack("{s:s, s:s, s:{}, s:o}", "kind", "APIGroupDiscoveryList", "apiVersion",
                     api_version, "metadata", "items", items);
}

/* Which aggregated version the Accept header prefers, if any. */
static const char *wants_aggregated(h2o_req_t *req)
{
    ssize_t i = h2o_find_header(&req->headers, H2O_TOKEN_ACCEPT, -1);
    if (i < 0)
        return NULL;
    h2o_iovec_t v = req->headers.entries[i].value;
    if (memmem(v.base, v.len, "g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList", 51))
        return "v2";
    if (memmem(v.base, v.len, "g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList", 56))
        return "v2beta1";
    return NULL;
}

static void send_aggregated(h2o_req_t *req, bool core, const char *ver)
{
    char api_version[64], ctype[160];
    snprintf(api_version, sizeof api_version, "apidiscovery.k8s.io/%s", ver);
    snprintf(ctype, sizeof ctype, "application/json;g=apidiscovery.k8s.io;v=%s;as=APIGroupDiscoveryList",
             ver);
    json_t *doc = agg_list(core, api_version);
    char *s = json_dumps(doc, JSON_COMPACT);
    json_decref(doc);
    h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_VARY, NULL, H2O_STRLIT("Accept"));
    tri_send_body(req, 200, h2o_strdup(&req->pool, ctype, SIZE_MAX).base, s, strlen(s));
    free(s);
}

int tri_handle_discovery(tri_http_t *h, h2o_req_t *req, const char *path, size_t len)
{
    char p[256];
    if (len >= sizeof p)
        return -1;
    memcpy(p, path, len);
    p[len] = '\0';
    while (len > 1 && p[len - 1] == '/')
        p[--len] = '\0';
    if (strcmp(p, "/version") == 0) {
        send_version(req);
        return 0;
    }
    const char *agg = wants_aggregated(req);
    if (strcmp(p, "/api") == 0) {
        if (agg) {
            send_aggregated(req, true, agg);
            return 0;
        }
        tri_send_json(req, 200,
                      json_pack("{s:s, s:[s], s:[{s:s, s:s}]}", "kind", "APIVersions", "versions",
                                "v1", "serverAddressByClientCIDRs", "clientCIDR", "0.0.0.0/0",
                                "serverAddress", ""));
        return 0;
    }
    if (strcmp(p, "/apis") == 0) {
        if (agg) {
            send_aggregated(req, false, agg);
            return 0;
        }
        tri_send_json(req, 200, json_pack("{s:s, s:s, s:o}", "kind", "APIGroupList",
                                          "apiVersion", "v1", "groups", group_list()));
        return 0;
    }
    if (strcmp(p, "/api/v1") == 0) {
        tri_send_json(req, 200, api_resource_list("", "v1"));
        return 0;
    }
    char g[128], v[64];
    if (sscanf(p, "/apis/%127[^/]/%63[^/]", g, v) == 2 && strchr(p + 6 + strlen(g) + 1, '/') == NULL) {
        json_t *l = api_resource_list(g, v);
        if (json_array_size(json_object_get(l, "resources")) == 0) {
            json_decref(l);
            return -1;
        }
        tri_send_json(req, 200, l);
        return 0;
    }
    return -1;
}
