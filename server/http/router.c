/* Resource paths, as Kubernetes lays them out:
 *   /api/v1/<plural>[/<name>[/<sub>]]                      cluster scope, or all namespaces
 *   /api/v1/namespaces/<ns>/<plural>[/<name>[/<sub>]]      namespaced
 *   /apis/<group>/<version>/...                            the same under a group
 * plus the legacy /api/v1/watch/... prefix. "namespaces/<x>/<y>" is a namespaced
 * collection when <y> is a namespaced resource, else a subresource of the
 * Namespace (status, finalize). */
#include <stdio.h>
#include <string.h>

#include "internal.h"

#define MAX_SEGS 8

typedef struct segs {
    char s[MAX_SEGS][256];
    size_t n;
} segs_t;

static int split(const char *p, size_t len, segs_t *out, bool *watch_prefix)
{
    out->n = 0;
    size_t i = 0;
    while (i < len) {
        while (i < len && p[i] == '/')
            i++;
        size_t j = i;
        while (j < len && p[j] != '/')
            j++;
        if (j > i) {
            if (out->n == MAX_SEGS || j - i >= sizeof out->s[0])
                return -1;
            memcpy(out->s[out->n], p + i, j - i);
            out->s[out->n][j - i] = '\0';
            out->n++;
        }
        i = j;
    }
    (void)watch_prefix;
    return 0;
}

static bool valid_segment(const char *s)
{
    return s[0] != '\0' && strcmp(s, ".") != 0 && strcmp(s, "..") != 0 && strchr(s, '%') == NULL;
}

static int fill(tri_route_t *rt, const char *group, const char *version, const char *plural,
                tri_status_t *st)
{
    rt->res = tri_registry_find(group, version, plural);
    if (rt->res == NULL) {
        tri_status_set(st, 404, "NotFound", "the server could not find the requested resource");
        return -1;
    }
    return 0;
}

int tri_route_parse(h2o_req_t *req, tri_route_t *rt, tri_status_t *st)
{
    memset(rt, 0, sizeof *rt);
    size_t len = req->query_at == SIZE_MAX ? req->path.len : req->query_at;
    segs_t sg;
    bool wp = false;
    if (split(req->path.base, len, &sg, &wp) != 0) {
        tri_status_set(st, 404, "NotFound", "the server could not find the requested resource");
        return -1;
    }
    size_t base;
    const char *group, *version;
    if (sg.n >= 2 && strcmp(sg.s[0], "api") == 0) {
        group = "";
        version = sg.s[1];
        base = 2;
    } else if (sg.n >= 3 && strcmp(sg.s[0], "apis") == 0) {
        group = sg.s[1];
        version = sg.s[2];
        base = 3;
    } else {
        tri_status_set(st, 404, "NotFound", "the server could not find the requested resource");
        return -1;
    }
    char (*s)[256] = &sg.s[base];
    size_t n = sg.n - base;
    if (n > 0 && strcmp(s[0], "watch") == 0) {
        /* legacy watch paths: same layout after the prefix */
        s++;
        n--;
    }
    for (size_t i = 0; i < n; i++) {
        if (!valid_segment(s[i])) {
            tri_status_set(st, 404, "NotFound", "the server could not find the requested resource");
            return -1;
        }
    }
    if (n >= 3 && strcmp(s[0], "namespaces") == 0) {
        const tri_resource_t *r = tri_registry_find(group, version, s[2]);
        if (r != NULL && r->namespaced) {
            snprintf(rt->ns, sizeof rt->ns, "%s", s[1]);
            s += 2;
            n -= 2;
        }
    }
    if (n == 0 || n > 3) {
        tri_status_set(st, 404, "NotFound", "the server could not find the requested resource");
        return -1;
    }
    if (fill(rt, group, version, s[0], st) != 0)
        return -1;
    rt->collection = n == 1;
    if (n >= 2)
        snprintf(rt->name, sizeof rt->name, "%s", s[1]);
    if (n == 3)
        snprintf(rt->sub, sizeof rt->sub, "%s", s[2]);
    if (rt->res->namespaced && rt->ns[0] == '\0' && !rt->collection) {
        tri_status_set(st, 404, "NotFound", "the server could not find the requested resource");
        return -1;
    }
    return 0;
}
