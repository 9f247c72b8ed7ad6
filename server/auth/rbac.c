/* RBAC: Roles, ClusterRoles, RoleBindings and ClusterRoleBindings read from the
 * local store and evaluated as Kubernetes' RBAC authorizer does
 * (plugin/pkg/auth/authorizer/rbac, pkg/registry/rbac/validation):
 *
 *   - ClusterRoleBindings apply everywhere; RoleBindings apply in their namespace,
 *     to a Role of that namespace or to a ClusterRole;
 *   - subjects: User (name), Group (one of the user's groups), ServiceAccount
 *     (namespace, or the RoleBinding's own, + name -> system:serviceaccount:NS:NAME);
 *   - the first rule that allows the request wins; the reason names its binding.
 *
 * Three layers of state, each rebuilt from the one below only when that changed:
 *
 *   objs[kind]   every RBAC object by store key, parsed and its rules compiled.
 *                Kept current by one watch per kind, drained at the start of each
 *                decision (rbac_sync): one JSON parse per changed object.
 *   subjects     bindings by subject ("U\x1fname", "G\x1fname"), rebuilt lazily
 *                after any RBAC change (no JSON work: pointers into objs).
 *   cache        per (user, groups, namespace): the list of rules that user holds
 *                there, each with the binding that grants it. Dropped whole on any
 *                RBAC change; a hit is one hash lookup, then rule compares.
 *
 * ClusterRole aggregation (aggregationRule.clusterRoleSelectors) is computed here,
 * at evaluation time: an aggregated role's effective rules are the union of the
 * effective rules of every other ClusterRole whose labels match one of its
 * selectors, followed transitively (edit aggregates into admin), cycles cut. Its
 * own stored rules are ignored, as Kubernetes' aggregation controller overwrites
 * them. The union is cached per role until the next RBAC change; see
 * docs/adr/0004-authorization.md for why not a leader loop alone.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../api/resources.h"
#include "authz_internal.h"
#include "triarch/errors.h"
#include "triarch/log.h"

/* A full cache is dropped rather than evicted entry by entry: it refills at the
 * cost of one miss per active user, and churn that large means the keys are not
 * repeating anyway. */
#define RBAC_CACHE_MAX 8192
#define KEY_MAX 1024

enum { K_ROLES, K_CLUSTERROLES, K_ROLEBINDINGS, K_CLUSTERROLEBINDINGS, K_N };

typedef struct role {
    json_t *obj;
    const char *ns; /* "" for ClusterRoles; borrowed from obj */
    const char *name;
    rbac_rule_t *rules;
    size_t n_rules;
    const json_t *labels;
    const json_t *selectors; /* aggregationRule.clusterRoleSelectors; NULL: not aggregated */
    /* effective rules: own rules, or the aggregation, valid while eff_gen == gen */
    const rbac_rule_t **eff;
    size_t n_eff;
    uint64_t eff_gen;
    bool visiting; /* aggregation cycle guard */
} role_t;

typedef struct subject {
    char kind; /* 'U' user, 'G' group, 'S' service account */
    const char *name;
    const char *ns; /* service accounts: the namespace the subject means */
} subject_t;

typedef struct binding {
    json_t *obj;
    char *key; /* store key: a stable order */
    const char *ns;
    const char *name;
    bool cluster;
    const char *role_kind;
    const char *role_name;
    subject_t *subjects;
    size_t n_subjects;
} binding_t;

typedef struct bindlist {
    binding_t **v;
    size_t n, cap;
} bindlist_t;

typedef struct grant {
    const rbac_rule_t *rule;
    size_t source; /* index into the entry's sources */
} grant_t;

typedef struct cache_entry {
    grant_t *grants;
    size_t n_grants;
    char **sources; /* "ClusterRoleBinding \"x\" of ClusterRole \"y\" to User \"z\"" */
    size_t n_sources;
    tri_buf_t errors; /* "" or "; "-separated evaluation errors */
} cache_entry_t;

struct rbac {
    tri_store_t *store;
    tri_buf_t prefix[K_N];
    strmap_t objs[K_N];
    tri_watch_t *w[K_N];
    bool dirty;       /* a watch fired (or was closed) since the last sync */
    int64_t seen_rev; /* store revision at the last sync */
    uint64_t gen;     /* bumped on every RBAC change */
    strmap_t subjects;
    uint64_t subjects_gen;
    strmap_t cache;
};

static const tri_resource_t *const kinds[K_N] = {
    &tri_res_roles,
    &tri_res_clusterroles,
    &tri_res_rolebindings,
    &tri_res_clusterrolebindings,
};

/* ---------- objects ---------- */

static void role_free(role_t *r)
{
    if (r == NULL)
        return;
    for (size_t i = 0; i < r->n_rules; i++)
        rbac_rule_free(&r->rules[i]);
    free(r->rules);
    free(r->eff);
    json_decref(r->obj);
    free(r);
}

static role_t *role_new(json_t *obj)
{
    role_t *r = calloc(1, sizeof *r);
    if (r == NULL)
        return NULL;
    r->obj = obj;
    const json_t *meta = json_object_get(obj, "metadata");
    r->ns = jstr_or(meta, "namespace", "");
    r->name = jstr_or(meta, "name", "");
    r->labels = json_object_get(meta, "labels");
    const json_t *agg = json_object_get(obj, "aggregationRule");
    if (json_is_object(agg))
        r->selectors = json_object_get(agg, "clusterRoleSelectors");
    const json_t *rules = json_object_get(obj, "rules");
    size_t n = json_array_size(rules);
    r->rules = calloc(n ? n : 1, sizeof *r->rules);
    if (r->rules == NULL)
        goto err;
    for (size_t i = 0; i < n; i++) {
        if (rbac_rule_compile(json_array_get(rules, i), &r->rules[i]) != 0)
            goto err;
        r->n_rules++;
    }
    return r;
err:
    r->obj = NULL; /* the caller still owns obj on failure */
    role_free(r);
    return NULL;
}

static void binding_free(binding_t *b)
{
    if (b == NULL)
        return;
    free(b->subjects);
    free(b->key);
    json_decref(b->obj);
    free(b);
}

static binding_t *binding_new(json_t *obj, const char *key, bool cluster)
{
    binding_t *b = calloc(1, sizeof *b);
    const json_t *subjects = json_object_get(obj, "subjects");
    size_t n = json_array_size(subjects);
    if (b == NULL || (b->key = strdup(key)) == NULL ||
        (b->subjects = calloc(n ? n : 1, sizeof *b->subjects)) == NULL) {
        if (b)
            free(b->key);
        free(b);
        return NULL;
    }
    b->obj = obj;
    b->cluster = cluster;
    const json_t *meta = json_object_get(obj, "metadata");
    b->ns = cluster ? "" : jstr_or(meta, "namespace", "");
    b->name = jstr_or(meta, "name", "");
    const json_t *ref = json_object_get(obj, "roleRef");
    b->role_kind = jstr_or(ref, "kind", "");
    b->role_name = jstr_or(ref, "name", "");
    for (size_t i = 0; i < n; i++) {
        const json_t *s = json_array_get(subjects, i);
        const char *kind = jstr_or(s, "kind", "");
        subject_t *out = &b->subjects[b->n_subjects];
        out->name = jstr_or(s, "name", "");
        out->ns = jstr_or(s, "namespace", "");
        if (strcmp(kind, "User") == 0)
            out->kind = 'U';
        else if (strcmp(kind, "Group") == 0)
            out->kind = 'G';
        else if (strcmp(kind, "ServiceAccount") == 0)
            out->kind = 'S';
        else
            continue; /* an unknown kind never applies */
        /* appliesToUser: a service account without a namespace means the
         * RoleBinding's own; in a ClusterRoleBinding it means nobody. */
        if (out->kind == 'S' && out->ns[0] == '\0')
            out->ns = b->ns;
        b->n_subjects++;
    }
    return b;
}

static void obj_free(int k, void *p)
{
    if (k == K_ROLES || k == K_CLUSTERROLES)
        role_free(p);
    else
        binding_free(p);
}

static void free_role_v(void *p)
{
    role_free(p);
}

static void free_binding_v(void *p)
{
    binding_free(p);
}

/* One object put (val) or deleted (val NULL) at store key `key`. */
static void apply_kv(rbac_t *r, int k, const char *key, const tri_val_t *val)
{
    obj_free(k, strmap_del(&r->objs[k], key));
    if (val == NULL)
        return;
    json_t *obj = jload_val(val);
    if (obj == NULL) {
        tri_warn("authz", "ignoring unparsable RBAC object", "key=%s", key);
        return;
    }
    void *e = k <= K_CLUSTERROLES ? (void *)role_new(obj)
                                  : (void *)binding_new(obj, key, k == K_CLUSTERROLEBINDINGS);
    if (e == NULL || strmap_put(&r->objs[k], key, e) != 0) {
        tri_warn("authz", "out of memory indexing RBAC object", "key=%s", key);
        if (e != NULL)
            obj_free(k, e);
        else
            json_decref(obj);
    }
}

/* ---------- following the store ---------- */

static void on_watch(tri_watch_t *w, void *data)
{
    ((rbac_t *)data)->dirty = true;
}

static void stop_watches(rbac_t *r)
{
    for (int k = 0; k < K_N; k++) {
        if (r->w[k] != NULL)
            tri_watch_stop(r->w[k]);
        r->w[k] = NULL;
    }
}

static void cache_entry_free(void *p)
{
    cache_entry_t *e = p;
    for (size_t i = 0; i < e->n_sources; i++)
        free(e->sources[i]);
    free(e->sources);
    free(e->grants);
    tri_buf_free(&e->errors);
    free(e);
}

static void clear_cache(rbac_t *r)
{
    strmap_clear(&r->cache, cache_entry_free);
}

/* Every derived index (subjects, effective rules, the cache) is stale. */
static void invalidate(rbac_t *r)
{
    r->gen++;
    clear_cache(r);
}

/* Reads everything and starts the watches at the revision read. */
static void reload(rbac_t *r)
{
    stop_watches(r);
    clear_cache(r);
    strmap_clear(&r->objs[K_ROLES], free_role_v);
    strmap_clear(&r->objs[K_CLUSTERROLES], free_role_v);
    strmap_clear(&r->objs[K_ROLEBINDINGS], free_binding_v);
    strmap_clear(&r->objs[K_CLUSTERROLEBINDINGS], free_binding_v);
    int64_t rev = tri_store_revision(r->store);
    r->dirty = false;
    for (int k = 0; k < K_N; k++) {
        char end[512];
        size_t end_len = tri_prefix_end(r->prefix[k].data, r->prefix[k].len, end);
        tri_kvs_t kvs = {0};
        bool more = false;
        if (tri_store_range(r->store, r->prefix[k].data, r->prefix[k].len, end, end_len, 0, 0, &kvs,
                            &more) == 0)
            for (size_t i = 0; i < kvs.n; i++)
                apply_kv(r, k, kvs.items[i].key, kvs.items[i].val);
        tri_kvs_free(&kvs);
        if (tri_store_watch(r->store, r->prefix[k].data, r->prefix[k].len, end, end_len, rev,
                            on_watch, r, &r->w[k]) != 0) {
            r->w[k] = NULL;
            r->dirty = true; /* try again at the next sync */
        }
    }
    r->seen_rev = rev;
    invalidate(r);
}

void rbac_sync(rbac_t *r)
{
    if (!r->dirty && tri_store_revision(r->store) == r->seen_rev)
        return;
    r->dirty = false;
    bool changed = false;
    for (int k = 0; k < K_N; k++) {
        tri_event_t ev;
        int rc;
        while (r->w[k] != NULL && (rc = tri_watch_next(r->w[k], &ev)) == 1) {
            apply_kv(r, k, ev.key->data, ev.kind == TRI_EV_PUT ? ev.val : NULL);
            changed = true;
        }
        if (r->w[k] == NULL || rc < 0) {
            /* fell out of the ring (TRI_ESLOW) or the store was restored */
            reload(r);
            return;
        }
    }
    r->seen_rev = tri_store_revision(r->store);
    if (changed)
        invalidate(r);
}

int rbac_new(tri_store_t *store, rbac_t **out)
{
    rbac_t *r = calloc(1, sizeof *r);
    if (r == NULL)
        return TRI_ENOMEM;
    r->store = store;
    for (int k = 0; k < K_N; k++)
        tri_registry_prefix(kinds[k], NULL, &r->prefix[k]);
    reload(r);
    *out = r;
    return 0;
}

static void bindlist_free(void *p)
{
    bindlist_t *l = p;
    free(l->v);
    free(l);
}

void rbac_free(rbac_t *r)
{
    if (r == NULL)
        return;
    stop_watches(r);
    clear_cache(r);
    strmap_clear(&r->subjects, bindlist_free);
    strmap_clear(&r->objs[K_ROLES], free_role_v);
    strmap_clear(&r->objs[K_CLUSTERROLES], free_role_v);
    strmap_clear(&r->objs[K_ROLEBINDINGS], free_binding_v);
    strmap_clear(&r->objs[K_CLUSTERROLEBINDINGS], free_binding_v);
    for (int k = 0; k < K_N; k++)
        tri_buf_free(&r->prefix[k]);
    free(r);
}

uint64_t rbac_generation(const rbac_t *r)
{
    return r->gen;
}

/* ---------- roles and aggregation ---------- */

static role_t *find_role(rbac_t *r, bool cluster, const char *ns, const char *name)
{
    char key[KEY_MAX];
    int k = cluster ? K_CLUSTERROLES : K_ROLES;
    int n = cluster ? snprintf(key, sizeof key, "%s%s", r->prefix[k].data, name)
                    : snprintf(key, sizeof key, "%s%s/%s", r->prefix[k].data, ns, name);
    if (n < 0 || (size_t)n >= sizeof key)
        return NULL;
    return strmap_get(&r->objs[k], key);
}

static bool selected(const json_t *selectors, const json_t *labels)
{
    size_t i;
    json_t *sel;
    json_array_foreach(selectors, i, sel)
    {
        if (json_is_object(sel) && tri_labelsel_matches(sel, labels))
            return true;
    }
    return false;
}

static int eff_add(role_t *role, size_t *cap, const rbac_rule_t *rule)
{
    for (size_t i = 0; i < role->n_eff; i++)
        if (role->eff[i] == rule)
            return 0;
    if (role->n_eff == *cap) {
        size_t nc = *cap ? *cap * 2 : 16;
        const rbac_rule_t **v = realloc(role->eff, nc * sizeof *v);
        if (v == NULL)
            return TRI_ENOMEM;
        role->eff = v;
        *cap = nc;
    }
    role->eff[role->n_eff++] = rule;
    return 0;
}

static void effective_rules(rbac_t *r, role_t *role);

static int role_by_name(const void *a, const void *b)
{
    return strcmp((*(role_t *const *)a)->name, (*(role_t *const *)b)->name);
}

/* The union of the matching roles' effective rules, roles in name order (as the
 * aggregation controller sorts them), so the result is the same on every replica. */
static void aggregate(rbac_t *r, role_t *role, size_t *cap)
{
    strmap_t *m = &r->objs[K_CLUSTERROLES];
    role_t **sel = calloc(m->n ? m->n : 1, sizeof *sel);
    size_t n = 0;
    if (sel == NULL)
        return;
    for (size_t i = 0; i < m->cap; i++) {
        role_t *o = m->keys[i] ? m->vals[i] : NULL;
        if (o != NULL && o != role && selected(role->selectors, o->labels))
            sel[n++] = o;
    }
    qsort(sel, n, sizeof *sel, role_by_name);
    for (size_t i = 0; i < n; i++) {
        effective_rules(r, sel[i]);
        for (size_t j = 0; j < sel[i]->n_eff; j++)
            if (eff_add(role, cap, sel[i]->eff[j]) != 0)
                goto out;
    }
out:
    free(sel);
}

/* Fills role->eff for the current generation. */
static void effective_rules(rbac_t *r, role_t *role)
{
    if (role->eff_gen == r->gen + 1 || role->visiting)
        return;
    role->visiting = true;
    role->n_eff = 0;
    size_t cap = 0;
    free(role->eff);
    role->eff = NULL;
    if (role->selectors == NULL) {
        for (size_t i = 0; i < role->n_rules; i++)
            if (eff_add(role, &cap, &role->rules[i]) != 0)
                break;
    } else {
        aggregate(r, role, &cap);
    }
    role->visiting = false;
    role->eff_gen = r->gen + 1; /* + 1: a fresh role (eff_gen 0) is never current */
}

json_t *rbac_clusterrole_rules(rbac_t *r, const char *name)
{
    rbac_sync(r);
    role_t *role = find_role(r, true, "", name);
    if (role == NULL)
        return NULL;
    effective_rules(r, role);
    json_t *out = json_array();
    for (size_t i = 0; i < role->n_eff; i++) {
        bool dup = false;
        for (size_t j = 0; j < json_array_size(out) && !dup; j++)
            dup = json_equal(json_array_get(out, j), role->eff[i]->json);
        if (!dup && role->eff[i]->json != NULL)
            json_array_append(out, (json_t *)role->eff[i]->json);
    }
    return out;
}

/* ---------- subjects ---------- */

static int index_subject(rbac_t *r, const char *key, binding_t *b)
{
    bindlist_t *l = strmap_get(&r->subjects, key);
    if (l == NULL) {
        l = calloc(1, sizeof *l);
        if (l == NULL || strmap_put(&r->subjects, key, l) != 0) {
            free(l);
            return TRI_ENOMEM;
        }
    }
    if (l->n > 0 && l->v[l->n - 1] == b)
        return 0;
    if (l->n == l->cap) {
        size_t nc = l->cap ? l->cap * 2 : 4;
        binding_t **v = realloc(l->v, nc * sizeof *v);
        if (v == NULL)
            return TRI_ENOMEM;
        l->v = v;
        l->cap = nc;
    }
    l->v[l->n++] = b;
    return 0;
}

/* The index key a subject is found under: "U\x1f" + user name, "G\x1f" + group.
 * false when the subject can match nobody. */
static bool subject_key(const subject_t *s, char *out, size_t len)
{
    int n;
    if (s->kind == 'S') {
        if (s->ns[0] == '\0')
            return false;
        n = snprintf(out, len, "U\x1f" SA_USER_PREFIX "%s:%s", s->ns, s->name);
    } else {
        n = snprintf(out, len, "%c\x1f%s", s->kind, s->name);
    }
    return n > 0 && (size_t)n < len;
}

static void build_subjects(rbac_t *r)
{
    if (r->subjects_gen == r->gen + 1)
        return;
    strmap_clear(&r->subjects, bindlist_free);
    for (int k = K_ROLEBINDINGS; k <= K_CLUSTERROLEBINDINGS; k++) {
        strmap_t *m = &r->objs[k];
        for (size_t i = 0; i < m->cap; i++) {
            binding_t *b = m->keys[i] ? m->vals[i] : NULL;
            for (size_t j = 0; b != NULL && j < b->n_subjects; j++) {
                char key[KEY_MAX];
                if (subject_key(&b->subjects[j], key, sizeof key))
                    index_subject(r, key, b);
            }
        }
    }
    r->subjects_gen = r->gen + 1;
}

static bool subject_applies(const subject_t *s, const tri_user_t *u)
{
    char sa[KEY_MAX];
    switch (s->kind) {
    case 'U':
        return strcmp(s->name, u->name) == 0;
    case 'G':
        return tri_user_in_group(u, s->name);
    case 'S':
        if (s->ns[0] == '\0')
            return false;
        snprintf(sa, sizeof sa, SA_USER_PREFIX "%s:%s", s->ns, s->name);
        return strcmp(sa, u->name) == 0;
    }
    return false;
}

/* describeSubject: Kind "name", service accounts as "name/namespace". */
static void describe(const binding_t *b, const tri_user_t *u, tri_buf_t *out)
{
    const subject_t *s = NULL;
    for (size_t i = 0; i < b->n_subjects && s == NULL; i++)
        if (subject_applies(&b->subjects[i], u))
            s = &b->subjects[i];
    if (b->cluster)
        tri_buf_appendf(out, "ClusterRoleBinding \"%s\"", b->name);
    else
        tri_buf_appendf(out, "RoleBinding \"%s/%s\"", b->name, b->ns);
    tri_buf_appendf(out, " of %s \"%s\" to ", b->role_kind, b->role_name);
    if (s == NULL)
        tri_buf_appendf(out, "User \"%s\"", u->name);
    else if (s->kind == 'S')
        tri_buf_appendf(out, "ServiceAccount \"%s/%s\"", s->name, s->ns);
    else
        tri_buf_appendf(out, "%s \"%s\"", s->kind == 'U' ? "User" : "Group", s->name);
}

/* ---------- the per-user rule cache ---------- */

static int binding_order(const void *a, const void *b)
{
    const binding_t *x = *(binding_t *const *)a, *y = *(binding_t *const *)b;
    if (x->cluster != y->cluster)
        return x->cluster ? -1 : 1; /* ClusterRoleBindings first, as Kubernetes visits */
    return strcmp(x->key, y->key);
}

/* Bindings that name u (by user, group or service account), deduplicated. */
static size_t user_bindings(rbac_t *r, const tri_user_t *u, binding_t ***out)
{
    char key[KEY_MAX];
    const bindlist_t *lists[TRI_USER_MAX_GROUPS + 1];
    size_t n_lists = 0, total = 0;
    snprintf(key, sizeof key, "U\x1f%s", u->name);
    if ((lists[n_lists] = strmap_get(&r->subjects, key)) != NULL)
        total += lists[n_lists++]->n;
    for (size_t g = 0; g < u->n_groups; g++) {
        snprintf(key, sizeof key, "G\x1f%s", u->groups[g]);
        if ((lists[n_lists] = strmap_get(&r->subjects, key)) != NULL)
            total += lists[n_lists++]->n;
    }
    binding_t **v = calloc(total ? total : 1, sizeof *v);
    if (v == NULL)
        return 0;
    size_t n = 0;
    for (size_t i = 0; i < n_lists; i++)
        for (size_t j = 0; j < lists[i]->n; j++)
            v[n++] = lists[i]->v[j];
    qsort(v, n, sizeof *v, binding_order);
    size_t w = 0;
    for (size_t i = 0; i < n; i++)
        if (w == 0 || v[w - 1] != v[i])
            v[w++] = v[i];
    *out = v;
    return w;
}

static role_t *binding_role(rbac_t *r, const binding_t *b, tri_buf_t *errors)
{
    role_t *role = NULL;
    const char *what = "";
    if (strcmp(b->role_kind, "ClusterRole") == 0) {
        role = find_role(r, true, "", b->role_name);
        what = "clusterrole";
    } else if (strcmp(b->role_kind, "Role") == 0 && !b->cluster) {
        role = find_role(r, false, b->ns, b->role_name);
        what = "role";
    } else {
        tri_buf_appendf(errors, "%sunsupported role reference kind: \"%s\"",
                        errors->len ? ", " : "", b->role_kind);
        return NULL;
    }
    if (role == NULL)
        tri_buf_appendf(errors, "%s%s.rbac.authorization.k8s.io \"%s\" not found",
                        errors->len ? ", " : "", what, b->role_name);
    return role;
}

static int entry_add_binding(rbac_t *r, cache_entry_t *e, const binding_t *b, const tri_user_t *u,
                             size_t *cap)
{
    role_t *role = binding_role(r, b, &e->errors);
    if (role == NULL)
        return 0;
    effective_rules(r, role);
    tri_buf_t src = {0};
    describe(b, u, &src);
    char **sv = realloc(e->sources, (e->n_sources + 1) * sizeof *sv);
    if (sv == NULL || src.data == NULL) {
        tri_buf_free(&src);
        if (sv)
            e->sources = sv;
        return TRI_ENOMEM;
    }
    e->sources = sv;
    e->sources[e->n_sources++] = src.data;
    if (e->n_grants + role->n_eff > *cap) {
        size_t nc = (*cap ? *cap * 2 : 16) + role->n_eff;
        grant_t *gv = realloc(e->grants, nc * sizeof *gv);
        if (gv == NULL)
            return TRI_ENOMEM;
        e->grants = gv;
        *cap = nc;
    }
    for (size_t i = 0; i < role->n_eff; i++)
        e->grants[e->n_grants++] = (grant_t){role->eff[i], e->n_sources - 1};
    return 0;
}

/* "user\x1egroup\x1fgroup...\x1ens": groups in the order authentication gave them
 * (a different order only costs a second entry). Fits CACHE_KEY_MAX by the
 * fixed sizes of tri_user_t; false if ns is absurdly long. */
#define CACHE_KEY_MAX (TRI_USER_NAME_MAX + TRI_USER_MAX_GROUPS * TRI_USER_GROUP_MAX + KEY_MAX)
static bool key_append(char *key, size_t *off, const char *s, char sep)
{
    size_t n = strlen(s);
    if (*off + n + 2 > CACHE_KEY_MAX)
        return false;
    memcpy(key + *off, s, n);
    *off += n;
    key[(*off)++] = sep;
    key[*off] = '\0';
    return true;
}

static bool cache_key(const tri_user_t *u, const char *ns, char *key)
{
    size_t off = 0;
    if (!key_append(key, &off, u->name, '\x1e'))
        return false;
    for (size_t g = 0; g < u->n_groups; g++)
        if (!key_append(key, &off, u->groups[g], '\x1f'))
            return false;
    return key_append(key, &off, ns, '\x1e');
}

static cache_entry_t *entry_build(rbac_t *r, const tri_user_t *u, const char *ns)
{
    cache_entry_t *e = calloc(1, sizeof *e);
    if (e == NULL)
        return NULL;
    build_subjects(r);
    binding_t **bs = NULL;
    size_t n = user_bindings(r, u, &bs), cap = 0;
    for (size_t i = 0; i < n; i++) {
        if (!bs[i]->cluster && (ns[0] == '\0' || strcmp(bs[i]->ns, ns) != 0))
            continue;
        if (entry_add_binding(r, e, bs[i], u, &cap) != 0) {
            free(bs);
            cache_entry_free(e);
            return NULL;
        }
    }
    free(bs);
    tri_buf_append(&e->errors, "", 1); /* NUL-terminated for errors_of */
    return e;
}

static const char *errors_of(const cache_entry_t *e)
{
    return e->errors.data ? e->errors.data : "";
}

static cache_entry_t *rules_for(rbac_t *r, const tri_user_t *u, const char *ns)
{
    char key[CACHE_KEY_MAX];
    if (!cache_key(u, ns, key))
        return NULL;
    cache_entry_t *e = strmap_get(&r->cache, key);
    if (e != NULL)
        return e;
    e = entry_build(r, u, ns);
    if (e == NULL)
        return NULL;
    if (r->cache.n >= RBAC_CACHE_MAX)
        clear_cache(r);
    if (strmap_put(&r->cache, key, e) != 0) {
        cache_entry_free(e);
        return NULL;
    }
    return e;
}

enum tri_authz_decision rbac_authorize(rbac_t *r, const tri_authz_attrs_t *attrs, char *reason,
                                       size_t len)
{
    rbac_sync(r);
    const char *ns = attrs->resource_request ? attrs->namespace_ : "";
    cache_entry_t *e = rules_for(r, attrs->user, ns ? ns : "");
    if (e == NULL) {
        if (len)
            snprintf(reason, len, "RBAC: cannot evaluate (out of memory or oversized request)");
        return TRI_AUTHZ_NO_OPINION;
    }
    for (size_t i = 0; i < e->n_grants; i++) {
        if (!rbac_rule_allows(e->grants[i].rule, attrs))
            continue;
        if (len)
            snprintf(reason, len, "RBAC: allowed by %s", e->sources[e->grants[i].source]);
        return TRI_AUTHZ_ALLOW;
    }
    if (len)
        snprintf(reason, len, "%s%s", errors_of(e)[0] ? "RBAC: " : "", errors_of(e));
    return TRI_AUTHZ_NO_OPINION;
}

/* ---------- rules review ---------- */

static json_t *review_rule(const json_t *rule)
{
    static const char *const res_keys[] = {"verbs", "apiGroups", "resources", "resourceNames"};
    bool nonres = json_array_size(json_object_get(rule, "nonResourceURLs")) > 0;
    json_t *o = json_object();
    if (nonres) {
        json_object_set(o, "verbs", json_object_get(rule, "verbs"));
        json_object_set(o, "nonResourceURLs", json_object_get(rule, "nonResourceURLs"));
        return o;
    }
    for (size_t i = 0; i < sizeof res_keys / sizeof res_keys[0]; i++) {
        json_t *v = json_object_get(rule, res_keys[i]);
        if (json_array_size(v) > 0 || i == 0)
            json_object_set_new(o, res_keys[i], v ? json_incref(v) : json_array());
    }
    return o;
}

void rbac_rules_for(rbac_t *r, const tri_user_t *u, const char *ns, json_t *res, json_t *nonres,
                    char *err, size_t errlen)
{
    rbac_sync(r);
    cache_entry_t *e = rules_for(r, u, ns ? ns : "");
    if (e == NULL) {
        snprintf(err, errlen, "out of memory");
        return;
    }
    for (size_t i = 0; i < e->n_grants; i++) {
        const json_t *rule = e->grants[i].rule->json;
        if (!json_is_object(rule))
            continue;
        bool is_nonres = json_array_size(json_object_get(rule, "nonResourceURLs")) > 0;
        json_array_append_new(is_nonres ? nonres : res, review_rule(rule));
    }
    snprintf(err, errlen, "%s", errors_of(e));
}
