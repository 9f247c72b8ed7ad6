/* Audit policy: the audit.k8s.io/v1 Policy subset triarch reads, and its evaluation.
 *
 * A policy is a list of rules; the first rule whose every given field matches the
 * request decides the level (kube-apiserver's policy checker, same semantics):
 * users and userGroups match the user, verbs the Kubernetes verb; a rule with
 * namespaces or resources matches only resource requests, one with nonResourceURLs
 * only non-resource requests ("/x*" is a prefix). No match: None. The parsed form
 * is plain arrays of strings: policies are short and evaluated once per request. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "triarch/audit.h"
#include "triarch/codec.h"
#include "triarch/errors.h"

typedef struct strlist {
    char **v;
    size_t n;
} strlist_t;

typedef struct group_res {
    char *group;
    strlist_t resources;
    strlist_t names;
} group_res_t;

typedef struct rule {
    tri_audit_level_t level;
    strlist_t users, groups, verbs, namespaces, urls;
    group_res_t *res;
    size_t n_res;
    unsigned omit;
    int omit_mf; /* -1: not given (the policy's applies) */
} rule_t;

struct tri_audit_policy {
    rule_t *rules;
    size_t n;
    unsigned omit;
    bool omit_mf;
    tri_audit_level_t max_level;
};

static const char *const level_names[] = {"None", "Metadata", "Request"};

const char *tri_audit_level_name(tri_audit_level_t l)
{
    return (unsigned)l < 3 ? level_names[l] : "None";
}

const char *tri_audit_stage_name(enum tri_audit_stage s)
{
    switch (s) {
    case TRI_AUDIT_STAGE_REQUEST_RECEIVED:
        return "RequestReceived";
    case TRI_AUDIT_STAGE_RESPONSE_STARTED:
        return "ResponseStarted";
    case TRI_AUDIT_STAGE_RESPONSE_COMPLETE:
        return "ResponseComplete";
    default:
        return "Panic";
    }
}

/* ---------- freeing ---------- */

static void strlist_free(strlist_t *l)
{
    for (size_t i = 0; i < l->n; i++)
        free(l->v[i]);
    free(l->v);
}

static void rule_free(rule_t *r)
{
    strlist_free(&r->users);
    strlist_free(&r->groups);
    strlist_free(&r->verbs);
    strlist_free(&r->namespaces);
    strlist_free(&r->urls);
    for (size_t i = 0; i < r->n_res; i++) {
        free(r->res[i].group);
        strlist_free(&r->res[i].resources);
        strlist_free(&r->res[i].names);
    }
    free(r->res);
}

void tri_audit_policy_free(tri_audit_policy_t *p)
{
    if (p == NULL)
        return;
    for (size_t i = 0; i < p->n; i++)
        rule_free(&p->rules[i]);
    free(p->rules);
    free(p);
}

/* ---------- parsing ---------- */

typedef struct perr {
    char *buf;
    size_t len;
} perr_t;

#define FAIL(e, ...)                                                                               \
    do {                                                                                           \
        snprintf((e)->buf, (e)->len, __VA_ARGS__);                                                 \
        return TRI_EINVAL;                                                                         \
    } while (0)

static int parse_strlist(const json_t *v, const char *where, strlist_t *out, perr_t *e)
{
    if (v == NULL || json_is_null(v))
        return 0;
    if (!json_is_array(v))
        FAIL(e, "%s: must be a list of strings", where);
    out->v = calloc(json_array_size(v) + 1, sizeof *out->v);
    if (out->v == NULL)
        FAIL(e, "out of memory");
    size_t i;
    json_t *s;
    json_array_foreach(v, i, s)
    {
        if (!json_is_string(s))
            FAIL(e, "%s[%zu]: must be a string", where, i);
        out->v[out->n] = strdup(json_string_value(s));
        if (out->v[out->n++] == NULL)
            FAIL(e, "out of memory");
    }
    return 0;
}

static int parse_level(const json_t *v, const char *where, tri_audit_level_t *out, perr_t *e)
{
    const char *s = json_string_value(v);
    if (s == NULL)
        FAIL(e, "%s: Required value: one of None, Metadata, Request", where);
    for (int i = 0; i < 3; i++) {
        if (strcmp(s, level_names[i]) == 0) {
            *out = (tri_audit_level_t)i;
            return 0;
        }
    }
    if (strcmp(s, "RequestResponse") == 0)
        FAIL(e,
             "%s: level RequestResponse is not supported (triarch does not record response "
             "bodies): use Request",
             where);
    FAIL(e, "%s: Unsupported value \"%s\": must be None, Metadata or Request", where, s);
}

static int parse_stages(const json_t *v, const char *where, unsigned *out, perr_t *e)
{
    static const struct {
        const char *name;
        unsigned bit;
    } stages[] = {
        {"RequestReceived", TRI_AUDIT_STAGE_REQUEST_RECEIVED},
        {"ResponseStarted", TRI_AUDIT_STAGE_RESPONSE_STARTED},
        {"ResponseComplete", TRI_AUDIT_STAGE_RESPONSE_COMPLETE},
        {"Panic", TRI_AUDIT_STAGE_PANIC},
    };
    if (v == NULL)
        return 0;
    if (!json_is_array(v))
        FAIL(e, "%s: must be a list of stages", where);
    size_t i;
    json_t *s;
    json_array_foreach(v, i, s)
    {
        const char *name = json_string_value(s);
        size_t k = 0;
        while (k < 4 && (name == NULL || strcmp(name, stages[k].name) != 0))
            k++;
        if (k == 4)
            FAIL(e,
                 "%s[%zu]: Unsupported value: must be RequestReceived, ResponseStarted, "
                 "ResponseComplete or Panic",
                 where, i);
        *out |= stages[k].bit;
    }
    return 0;
}

static int parse_bool(const json_t *v, const char *where, int *out, perr_t *e)
{
    if (v == NULL)
        return 0;
    if (!json_is_boolean(v))
        FAIL(e, "%s: must be true or false", where);
    *out = json_is_true(v);
    return 0;
}

/* Only the named keys may appear: a misspelt field would silently widen a rule. */
static int only_keys(const json_t *o, const char *const *keys, const char *where, perr_t *e)
{
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)o, k, v)
    {
        size_t i = 0;
        while (keys[i] && strcmp(keys[i], k) != 0)
            i++;
        if (keys[i] == NULL)
            FAIL(e, "%s: unknown field \"%s\"", where, k);
    }
    return 0;
}

static int parse_group_res(const json_t *o, const char *where, group_res_t *g, perr_t *e)
{
    static const char *const keys[] = {"group", "resources", "resourceNames", NULL};
    char w[192];
    if (!json_is_object(o))
        FAIL(e, "%s: must be a mapping with group, resources, resourceNames", where);
    if (only_keys(o, keys, where, e) != 0)
        return TRI_EINVAL;
    const json_t *grp = json_object_get(o, "group");
    if (grp != NULL && !json_is_string(grp))
        FAIL(e, "%s.group: must be a string (\"\" for the core group)", where);
    g->group = strdup(grp ? json_string_value(grp) : "");
    if (g->group == NULL)
        FAIL(e, "out of memory");
    snprintf(w, sizeof w, "%s.resources", where);
    if (parse_strlist(json_object_get(o, "resources"), w, &g->resources, e) != 0)
        return TRI_EINVAL;
    snprintf(w, sizeof w, "%s.resourceNames", where);
    return parse_strlist(json_object_get(o, "resourceNames"), w, &g->names, e);
}

static int check_urls(const strlist_t *urls, const char *where, perr_t *e)
{
    for (size_t i = 0; i < urls->n; i++) {
        const char *u = urls->v[i];
        const char *star = strchr(u, '*');
        if (strcmp(u, "*") != 0 && u[0] != '/')
            FAIL(e, "%s[%zu]: \"%s\" must start with /", where, i, u);
        if (star != NULL && star[1] != '\0')
            FAIL(e, "%s[%zu]: \"%s\": * is only allowed at the end", where, i, u);
    }
    return 0;
}

static int parse_rule(const json_t *o, size_t idx, rule_t *r, perr_t *e)
{
    static const char *const keys[] = {
        "level",           "users",      "userGroups",        "verbs", "resources", "namespaces",
        "nonResourceURLs", "omitStages", "omitManagedFields", NULL};
    char w[64], f[128];
    snprintf(w, sizeof w, "rules[%zu]", idx);
    r->omit_mf = -1;
    if (!json_is_object(o))
        FAIL(e, "%s: must be a mapping", w);
    if (only_keys(o, keys, w, e) != 0)
        return TRI_EINVAL;
    snprintf(f, sizeof f, "%s.level", w);
    if (parse_level(json_object_get(o, "level"), f, &r->level, e) != 0)
        return TRI_EINVAL;
    static const struct {
        const char *key;
        size_t off;
    } lists[] = {
        {"users", offsetof(rule_t, users)},          {"userGroups", offsetof(rule_t, groups)},
        {"verbs", offsetof(rule_t, verbs)},          {"namespaces", offsetof(rule_t, namespaces)},
        {"nonResourceURLs", offsetof(rule_t, urls)},
    };
    for (size_t i = 0; i < sizeof lists / sizeof lists[0]; i++) {
        snprintf(f, sizeof f, "%s.%s", w, lists[i].key);
        if (parse_strlist(json_object_get(o, lists[i].key), f,
                          (strlist_t *)((char *)r + lists[i].off), e) != 0)
            return TRI_EINVAL;
    }
    const json_t *res = json_object_get(o, "resources");
    if (res != NULL && !json_is_array(res))
        FAIL(e, "%s.resources: must be a list of {group, resources, resourceNames}", w);
    r->res = calloc(json_array_size(res) + 1, sizeof *r->res);
    if (r->res == NULL)
        FAIL(e, "out of memory");
    for (size_t i = 0; i < json_array_size(res); i++) {
        snprintf(f, sizeof f, "%s.resources[%zu]", w, i);
        r->n_res++;
        if (parse_group_res(json_array_get(res, i), f, &r->res[i], e) != 0)
            return TRI_EINVAL;
    }
    if (r->urls.n > 0 && (r->n_res > 0 || r->namespaces.n > 0))
        FAIL(e, "%s: rules cannot apply to both regular resources and non-resource URLs", w);
    snprintf(f, sizeof f, "%s.nonResourceURLs", w);
    if (check_urls(&r->urls, f, e) != 0)
        return TRI_EINVAL;
    snprintf(f, sizeof f, "%s.omitStages", w);
    if (parse_stages(json_object_get(o, "omitStages"), f, &r->omit, e) != 0)
        return TRI_EINVAL;
    snprintf(f, sizeof f, "%s.omitManagedFields", w);
    return parse_bool(json_object_get(o, "omitManagedFields"), f, &r->omit_mf, e);
}

static int parse_policy(const json_t *doc, tri_audit_policy_t *p, perr_t *e)
{
    static const char *const keys[] = {
        "apiVersion", "kind", "metadata", "rules", "omitStages", "omitManagedFields", NULL};
    if (!json_is_object(doc))
        FAIL(e, "the policy must be a mapping (kind: Policy)");
    if (only_keys(doc, keys, "policy", e) != 0)
        return TRI_EINVAL;
    const char *av = json_string_value(json_object_get(doc, "apiVersion"));
    const char *kind = json_string_value(json_object_get(doc, "kind"));
    if (av == NULL || (strcmp(av, "audit.k8s.io/v1") != 0 && strcmp(av, "audit.k8s.io/v1beta1")))
        FAIL(e, "apiVersion: must be audit.k8s.io/v1");
    if (kind == NULL || strcmp(kind, "Policy") != 0)
        FAIL(e, "kind: must be Policy");
    if (parse_stages(json_object_get(doc, "omitStages"), "omitStages", &p->omit, e) != 0)
        return TRI_EINVAL;
    int mf = 0;
    if (parse_bool(json_object_get(doc, "omitManagedFields"), "omitManagedFields", &mf, e) != 0)
        return TRI_EINVAL;
    p->omit_mf = mf == 1;
    const json_t *rules = json_object_get(doc, "rules");
    if (!json_is_array(rules) || json_array_size(rules) == 0)
        FAIL(e, "rules: Required value: at least one rule");
    p->rules = calloc(json_array_size(rules), sizeof *p->rules);
    if (p->rules == NULL)
        FAIL(e, "out of memory");
    for (size_t i = 0; i < json_array_size(rules); i++) {
        p->n++;
        if (parse_rule(json_array_get(rules, i), i, &p->rules[i], e) != 0)
            return TRI_EINVAL;
        if (p->rules[i].level > p->max_level)
            p->max_level = p->rules[i].level;
    }
    return 0;
}

int tri_audit_policy_parse(const char *text, size_t len, tri_audit_policy_t **out, char *err,
                           size_t errlen)
{
    *out = NULL;
    char derr[256] = "";
    json_t *doc = tri_yaml_decode(text, len, derr, sizeof derr);
    if (doc == NULL) {
        snprintf(err, errlen, "not a YAML or JSON document: %s", derr);
        return TRI_EINVAL;
    }
    tri_audit_policy_t *p = calloc(1, sizeof *p);
    perr_t e = {err, errlen};
    int rc = p ? parse_policy(doc, p, &e) : TRI_ENOMEM;
    json_decref(doc);
    if (rc != 0) {
        if (p == NULL)
            snprintf(err, errlen, "out of memory");
        tri_audit_policy_free(p);
        return rc;
    }
    *out = p;
    return 0;
}

static int add_str(strlist_t *l, const char *s)
{
    char **v = realloc(l->v, (l->n + 1) * sizeof *v);
    if (v == NULL)
        return -1;
    l->v = v;
    l->v[l->n] = strdup(s);
    return l->v[l->n++] == NULL ? -1 : 0;
}

tri_audit_policy_t *tri_audit_policy_default(tri_audit_level_t level)
{
    /* Load balancers probe every replica several times a second; a log of probes
     * would bury the requests that matter (GCE's and most published policies start
     * the same way). */
    static const char *const probes[] = {"/livez",    "/livez/*", "/readyz",
                                         "/readyz/*", "/healthz", "/healthz/*"};
    tri_audit_policy_t *p = calloc(1, sizeof *p);
    if (p == NULL || (p->rules = calloc(2, sizeof *p->rules)) == NULL) {
        free(p);
        return NULL;
    }
    p->n = 2;
    p->rules[0].level = TRI_AUDIT_NONE;
    p->rules[0].omit_mf = p->rules[1].omit_mf = -1;
    for (size_t i = 0; i < sizeof probes / sizeof probes[0]; i++) {
        if (add_str(&p->rules[0].urls, probes[i]) != 0) {
            tri_audit_policy_free(p);
            return NULL;
        }
    }
    p->rules[1].level = level;
    p->max_level = level;
    return p;
}

/* ---------- evaluation ---------- */

static bool has(const strlist_t *l, const char *s)
{
    for (size_t i = 0; i < l->n; i++)
        if (strcmp(l->v[i], s) == 0)
            return true;
    return false;
}

static bool res_matches(const group_res_t *g, const tri_authz_attrs_t *a)
{
    if (strcmp(g->group, a->api_group) != 0)
        return false;
    if (g->resources.n == 0)
        return true;
    if (g->names.n > 0 && !has(&g->names, a->name))
        return false;
    size_t rl = strlen(a->resource);
    for (size_t i = 0; i < g->resources.n; i++) {
        const char *r = g->resources.v[i];
        size_t n = strlen(r);
        if (strcmp(r, "*") == 0)
            return true;
        if (a->subresource[0] == '\0') {
            if (strcmp(r, a->resource) == 0 ||
                (n == rl + 2 && !strncmp(r, a->resource, rl) && !strcmp(r + rl, "/*")))
                return true;
            continue;
        }
        /* a subresource request matches "res/sub", "*\/sub" and "res/(any)" */
        if (n == rl + 1 + strlen(a->subresource) && !strncmp(r, a->resource, rl) && r[rl] == '/' &&
            !strcmp(r + rl + 1, a->subresource))
            return true;
        if (!strncmp(r, "*/", 2) && !strcmp(r + 2, a->subresource))
            return true;
        if (n == rl + 2 && !strncmp(r, a->resource, rl) && !strcmp(r + rl, "/*"))
            return true;
    }
    return false;
}

static bool url_matches(const char *spec, const char *path)
{
    size_t n = strlen(spec);
    if (n > 0 && spec[n - 1] == '*')
        return strncmp(spec, path, n - 1) == 0;
    return strcmp(spec, path) == 0;
}

static bool rule_matches(const rule_t *r, const tri_authz_attrs_t *a)
{
    if (r->users.n > 0 && !has(&r->users, a->user->name))
        return false;
    if (r->groups.n > 0) {
        size_t i = 0;
        while (i < a->user->n_groups && !has(&r->groups, a->user->groups[i]))
            i++;
        if (i == a->user->n_groups)
            return false;
    }
    if (r->verbs.n > 0 && !has(&r->verbs, a->verb))
        return false;
    if (r->namespaces.n > 0 || r->n_res > 0) {
        if (!a->resource_request)
            return false;
        if (r->namespaces.n > 0 && !has(&r->namespaces, a->namespace_))
            return false;
        if (r->n_res == 0)
            return true;
        for (size_t i = 0; i < r->n_res; i++)
            if (res_matches(&r->res[i], a))
                return true;
        return false;
    }
    if (r->urls.n > 0) {
        if (a->resource_request)
            return false;
        for (size_t i = 0; i < r->urls.n; i++)
            if (url_matches(r->urls.v[i], a->path))
                return true;
        return false;
    }
    return true;
}

bool tri_audit_capped(const char *api_group, const char *resource, const char *subresource)
{
    if (api_group[0] == '\0' && strcmp(resource, "secrets") == 0)
        return true;
    if (api_group[0] == '\0' && strcmp(resource, "serviceaccounts") == 0 &&
        strcmp(subresource, "token") == 0)
        return true;
    return strcmp(api_group, "authentication.k8s.io") == 0 && strcmp(resource, "tokenreviews") == 0;
}

tri_audit_level_t tri_audit_policy_eval(const tri_audit_policy_t *p, const tri_authz_attrs_t *a,
                                        unsigned *omit_stages, bool *omit_managed_fields)
{
    *omit_stages = p->omit;
    *omit_managed_fields = p->omit_mf;
    for (size_t i = 0; i < p->n; i++) {
        const rule_t *r = &p->rules[i];
        if (!rule_matches(r, a))
            continue;
        *omit_stages |= r->omit;
        if (r->omit_mf >= 0)
            *omit_managed_fields = r->omit_mf == 1;
        tri_audit_level_t l = r->level;
        if (l > TRI_AUDIT_METADATA && a->resource_request &&
            tri_audit_capped(a->api_group, a->resource, a->subresource))
            l = TRI_AUDIT_METADATA;
        return l;
    }
    return TRI_AUDIT_NONE;
}

tri_audit_level_t tri_audit_policy_max_level(const tri_audit_policy_t *p)
{
    return p->max_level;
}

size_t tri_audit_policy_rules(const tri_audit_policy_t *p)
{
    return p->n;
}
