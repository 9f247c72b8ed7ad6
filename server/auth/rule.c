/* One RBAC PolicyRule, compiled from its JSON into string vectors, and the
 * matching Kubernetes does in rbac.RuleAllows (plugin/pkg/auth/authorizer/rbac):
 *
 *   resource request:     verb in verbs (or "*")
 *                         and apiGroup in apiGroups (or "*")
 *                         and "resource" / "resource/subresource" in resources,
 *                             or "*", or "*\/subresource" for a subresource request
 *                         and (no resourceNames, or name in resourceNames)
 *   non-resource request: verb in verbs (or "*")
 *                         and path in nonResourceURLs, or "*", or an entry ending
 *                             in "*" that is a prefix of path once the "*" is cut
 *
 * A rule is evaluated once per decision on a cache hit, so matching is plain
 * string compares with no allocation. */
#include <stdlib.h>
#include <string.h>

#include "authz_internal.h"
#include "triarch/errors.h"

const char *jstr(const json_t *o, const char *key)
{
    return json_string_value(json_object_get(o, key));
}

const char *jstr_or(const json_t *o, const char *key, const char *dflt)
{
    const char *s = jstr(o, key);
    return s ? s : dflt;
}

json_t *jload_val(const tri_val_t *v)
{
    if (v == NULL)
        return NULL;
    json_t *o = json_loadb(v->data, v->len, 0, NULL);
    if (o != NULL && !json_is_object(o)) {
        json_decref(o);
        return NULL;
    }
    return o;
}

static int strv_from(const json_t *arr, strv_t *s)
{
    memset(s, 0, sizeof *s);
    size_t n = json_array_size(arr);
    if (n == 0)
        return 0;
    s->v = calloc(n, sizeof(char *));
    if (s->v == NULL)
        return TRI_ENOMEM;
    size_t i;
    json_t *e;
    json_array_foreach(arr, i, e)
    {
        const char *str = json_string_value(e);
        if (str == NULL)
            continue; /* not a string: matches nothing */
        if (strcmp(str, "*") == 0)
            s->star = true;
        s->v[s->n] = strdup(str);
        if (s->v[s->n] == NULL)
            return TRI_ENOMEM;
        s->n++;
    }
    return 0;
}

static void strv_free(strv_t *s)
{
    for (size_t i = 0; i < s->n; i++)
        free(s->v[i]);
    free(s->v);
    memset(s, 0, sizeof *s);
}

bool strv_has(const strv_t *s, const char *v)
{
    if (s->star)
        return true;
    for (size_t i = 0; i < s->n; i++)
        if (strcmp(s->v[i], v) == 0)
            return true;
    return false;
}

int rbac_rule_compile(const json_t *rule, rbac_rule_t *out)
{
    memset(out, 0, sizeof *out);
    out->json = rule;
    if (!json_is_object(rule))
        return 0;
    int rc = strv_from(json_object_get(rule, "verbs"), &out->verbs);
    if (rc == 0)
        rc = strv_from(json_object_get(rule, "apiGroups"), &out->groups);
    if (rc == 0)
        rc = strv_from(json_object_get(rule, "resources"), &out->resources);
    if (rc == 0)
        rc = strv_from(json_object_get(rule, "resourceNames"), &out->names);
    if (rc == 0)
        rc = strv_from(json_object_get(rule, "nonResourceURLs"), &out->urls);
    if (rc != 0)
        rbac_rule_free(out);
    return rc;
}

void rbac_rule_free(rbac_rule_t *r)
{
    strv_free(&r->verbs);
    strv_free(&r->groups);
    strv_free(&r->resources);
    strv_free(&r->names);
    strv_free(&r->urls);
}

/* ResourceMatches: rule entry against "resource" or "resource/subresource". */
static bool resource_matches(const strv_t *s, const char *res, const char *sub)
{
    if (s->star)
        return true;
    size_t rlen = strlen(res);
    for (size_t i = 0; i < s->n; i++) {
        const char *rr = s->v[i];
        if (sub[0] == '\0') {
            if (strcmp(rr, res) == 0)
                return true;
            continue;
        }
        if (strncmp(rr, res, rlen) == 0 && rr[rlen] == '/' && strcmp(rr + rlen + 1, sub) == 0)
            return true;
        if (rr[0] == '*' && rr[1] == '/' && strcmp(rr + 2, sub) == 0)
            return true;
    }
    return false;
}

static bool url_matches(const strv_t *s, const char *path)
{
    if (s->star)
        return true;
    for (size_t i = 0; i < s->n; i++) {
        const char *u = s->v[i];
        size_t n = strlen(u);
        if (strcmp(u, path) == 0)
            return true;
        if (n > 0 && u[n - 1] == '*' && strncmp(u, path, n - 1) == 0)
            return true;
    }
    return false;
}

/* ResourceNameMatches: exact names only ("*" is no wildcard here, as in Kubernetes). */
static bool name_listed(const strv_t *s, const char *name)
{
    for (size_t i = 0; i < s->n; i++)
        if (strcmp(s->v[i], name) == 0)
            return true;
    return false;
}

bool rbac_rule_allows(const rbac_rule_t *r, const tri_authz_attrs_t *a)
{
    if (!strv_has(&r->verbs, a->verb))
        return false;
    if (!a->resource_request)
        return url_matches(&r->urls, a->path);
    if (!strv_has(&r->groups, a->api_group))
        return false;
    if (!resource_matches(&r->resources, a->resource, a->subresource))
        return false;
    return r->names.n == 0 || name_listed(&r->names, a->name);
}
