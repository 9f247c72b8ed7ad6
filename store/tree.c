/* The snapshot view: a copy-on-write B+tree of the live state, one record
 * (key, value, create/mod revision, version) per live key, in key order. The
 * store updates it at every commit beside its skip list; a snapshot ref is just
 * its root, taken in O(1), and the encoder walks that root on another thread
 * while the loop thread goes on applying.
 *
 * Why a second index: the skip list's entries and version chains are mutated in
 * place (versions appended, arrays reallocated, entries compacted away), so a
 * reader on another thread could only walk them with atomics and deferred frees
 * everywhere. This tree is small (records borrow the blobs; ~50 B per key) and
 * has one rule that makes it safe to share:
 *
 *   A node is frozen once a snapshot may see it. Every node records the
 *   revision it was made at (born); a snapshot ref at revision R sees exactly
 *   the nodes in the live tree when it was taken, all born <= R. An update
 *   walks from the root and, on its path, replaces every node born <= pinned
 *   (the newest open ref's revision) by a copy born at the current revision,
 *   which it may then change in place; the original is retired to the hub
 *   (snapshot.c), which frees it once no open ref can see it. Nodes born after
 *   pinned are seen by no ref and are changed in place or freed at once.
 *
 * So with no snapshot open the tree is an ordinary in-place B+tree; with one
 * open, the first write to each leaf after the ref copies the path to it
 * (depth 3-4 at 200k keys), later writes to the same leaf are in place again.
 * Node contents are written only on the loop thread and only while no ref can
 * see them; reference counts (the separators' blobs) likewise; the encoder
 * reads nothing else. The retire fields of a node are never read by the
 * encoder, which is why the loop thread may set them on a node a ref sees.
 *
 * Deletes remove the record; an emptied node leaves its parent, and a node
 * under a quarter full merges with a neighbour when both fit in three
 * quarters of a node (no borrowing: simpler, and occupancy stays bounded).
 * Updates cannot fail: on ENOMEM the tree stays walkable but may miss the
 * update, is marked stale, and the next snapshot ref rebuilds it from the
 * skip list (O(n), only after an allocation failure).
 */
#include <stdlib.h>
#include <string.h>

#include "store_int.h"
#include "triarch/errors.h"

/* A node under this many entries tries to merge with a neighbour... */
#define ST_NODE_MIN(max) ((max) / 4)
/* ...if the two fit in this many, leaving room before the next split. Bulk
 * builds fill nodes to the same level. */
#define ST_NODE_FILL(max) ((max)*3 / 4)

static int st_tkey_cmp(const tri_val_t *a, const tri_val_t *b)
{
    return st_key_cmp(a->data, a->len, b->data, b->len);
}

/* ---------- nodes ---------- */

static st_node_t *st_node_new(bool leaf, int64_t rev)
{
    size_t sz = leaf ? sizeof(st_leaf_t) : sizeof(st_inner_t);
    st_node_t *n = malloc(sz);
    if (n == NULL)
        return NULL;
    memset(n, 0, sizeof(*n));
    n->born = rev;
    n->leaf = leaf;
    return n;
}

void st_node_free(st_node_t *n)
{
    if (n != NULL && !n->leaf) {
        st_inner_t *in = (st_inner_t *)n;
        for (uint32_t i = 0; i + 1 < n->n; i++)
            tri_val_unref(in->seps[i]);
    }
    free(n);
}

static st_node_t *st_node_copy(const st_node_t *n, int64_t rev)
{
    st_node_t *c = st_node_new(n->leaf, rev);
    if (c == NULL)
        return NULL;
    c->n = n->n;
    if (n->leaf) {
        memcpy(((st_leaf_t *)c)->keys, ((const st_leaf_t *)n)->keys, n->n * sizeof(tri_val_t *));
        memcpy(((st_leaf_t *)c)->recs, ((const st_leaf_t *)n)->recs, n->n * sizeof(st_trec_t));
        return c;
    }
    const st_inner_t *src = (const st_inner_t *)n;
    st_inner_t *dst = (st_inner_t *)c;
    memcpy(dst->kids, src->kids, n->n * sizeof(st_node_t *));
    for (uint32_t i = 0; i + 1 < n->n; i++)
        dst->seps[i] = tri_val_ref(src->seps[i]);
    return c;
}

/* A node that left the live tree: retired if a ref may see it, else freed. */
static void st_node_dispose(const st_tctx_t *c, st_node_t *n)
{
    if (n->born <= c->pinned)
        st_snaps_retire_node(c->hub, n);
    else
        st_node_free(n);
}

static void st_subtree_dispose(const st_tctx_t *c, st_node_t *n)
{
    if (n == NULL)
        return;
    if (!n->leaf) {
        st_inner_t *in = (st_inner_t *)n;
        for (uint32_t i = 0; i < n->n; i++)
            st_subtree_dispose(c, in->kids[i]);
    }
    st_node_dispose(c, n);
}

/* The node at *slot, made safe to change: copied if a ref may see it. The
 * parent (owner of slot) must already be writable. NULL on ENOMEM. */
static st_node_t *st_writable(const st_tctx_t *c, st_node_t **slot)
{
    st_node_t *n = *slot;
    if (n->born > c->pinned)
        return n;
    st_node_t *copy = st_node_copy(n, c->rev);
    if (copy == NULL)
        return NULL;
    st_snaps_retire_node(c->hub, n);
    *slot = copy;
    return copy;
}

/* ---------- search ---------- */

/* Refreshes keys[from..n) after records moved. */
static void st_leaf_keys(st_leaf_t *l, uint32_t from)
{
    for (uint32_t i = from; i < l->hdr.n; i++)
        l->keys[i] = l->recs[i].key;
}

/* First record >= key; *found if equal. A live key's record holds the very
 * blob of its skip-list entry, which is what callers pass: try that first. */
static uint32_t st_leaf_pos(const st_leaf_t *l, const tri_val_t *key, bool *found)
{
    for (uint32_t i = 0; i < l->hdr.n; i++) {
        if (l->keys[i] == key) {
            *found = true;
            return i;
        }
    }
    uint32_t lo = 0, hi = l->hdr.n;
    while (lo < hi) {
        uint32_t mid = (lo + hi) / 2;
        if (st_tkey_cmp(l->recs[mid].key, key) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    *found = lo < l->hdr.n && st_tkey_cmp(l->recs[lo].key, key) == 0;
    return lo;
}

/* The child whose subtree holds key: the number of separators <= key. */
static uint32_t st_inner_pos(const st_inner_t *in, const tri_val_t *key)
{
    uint32_t lo = 0, hi = in->hdr.n - 1;
    while (lo < hi) {
        uint32_t mid = (lo + hi) / 2;
        if (st_tkey_cmp(in->seps[mid], key) <= 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* ---------- put ---------- */

/* A split hands its new right sibling and that sibling's lowest key (a
 * reference) to the parent. */
typedef struct st_split {
    st_node_t *right;
    tri_val_t *sep;
} st_split_t;

static int st_leaf_put(const st_tctx_t *c, st_leaf_t *l, const st_trec_t *rec, st_split_t *sp)
{
    bool found;
    uint32_t i = st_leaf_pos(l, rec->key, &found);
    if (found) {
        l->recs[i] = *rec;
        l->keys[i] = rec->key;
        return 0;
    }
    st_leaf_t *dst = l;
    if (l->hdr.n == ST_LEAF_MAX) {
        st_leaf_t *r = (st_leaf_t *)st_node_new(true, c->rev);
        if (r == NULL)
            return TRI_ENOMEM;
        /* Appending past the end (increasing keys) leaves the full leaf full. */
        uint32_t keep = i == ST_LEAF_MAX ? ST_LEAF_MAX : ST_LEAF_MAX / 2;
        r->hdr.n = ST_LEAF_MAX - keep;
        memcpy(r->recs, l->recs + keep, r->hdr.n * sizeof(st_trec_t));
        l->hdr.n = keep;
        if (i >= keep) {
            dst = r;
            i -= keep;
        }
        sp->right = &r->hdr;
    }
    memmove(dst->recs + i + 1, dst->recs + i, (dst->hdr.n - i) * sizeof(st_trec_t));
    dst->recs[i] = *rec;
    dst->hdr.n++;
    st_leaf_keys(dst, i);
    if (sp->right != NULL) {
        st_leaf_t *r = (st_leaf_t *)sp->right;
        st_leaf_keys(r, 0);
        sp->sep = tri_val_ref(r->recs[0].key);
    }
    return 0;
}

/* Inserts kid (lowest key sep, reference taken over) right after kids[i]. */
static void st_inner_insert(st_inner_t *in, uint32_t i, tri_val_t *sep, st_node_t *kid)
{
    uint32_t n = in->hdr.n;
    memmove(in->kids + i + 2, in->kids + i + 1, (n - i - 1) * sizeof(st_node_t *));
    memmove(in->seps + i + 1, in->seps + i, (n - 1 - i) * sizeof(tri_val_t *));
    in->kids[i + 1] = kid;
    in->seps[i] = sep;
    in->hdr.n++;
}

/* Adds a child's split to in, splitting in if it is full. */
static int st_inner_add(const st_tctx_t *c, st_inner_t *in, uint32_t i, const st_split_t *kid,
                        st_split_t *sp)
{
    if (in->hdr.n < ST_INNER_MAX) {
        st_inner_insert(in, i, kid->sep, kid->right);
        return 0;
    }
    st_inner_t *r = (st_inner_t *)st_node_new(false, c->rev);
    if (r == NULL)
        return TRI_ENOMEM;
    if (i + 1 == ST_INNER_MAX) { /* appending: the new child alone on the right */
        r->kids[0] = kid->right;
        r->hdr.n = 1;
        *sp = (st_split_t){.right = &r->hdr, .sep = kid->sep};
        return 0;
    }
    uint32_t keep = ST_INNER_MAX / 2;
    r->hdr.n = ST_INNER_MAX - keep;
    memcpy(r->kids, in->kids + keep, r->hdr.n * sizeof(st_node_t *));
    memcpy(r->seps, in->seps + keep, (r->hdr.n - 1) * sizeof(tri_val_t *));
    *sp = (st_split_t){.right = &r->hdr, .sep = in->seps[keep - 1]};
    in->hdr.n = keep;
    if (i < keep)
        st_inner_insert(in, i, kid->sep, kid->right);
    else
        st_inner_insert(r, i - keep, kid->sep, kid->right);
    return 0;
}

static int st_put_at(const st_tctx_t *c, st_node_t **slot, const st_trec_t *rec, st_split_t *sp)
{
    st_node_t *n = st_writable(c, slot);
    if (n == NULL)
        return TRI_ENOMEM;
    if (n->leaf)
        return st_leaf_put(c, (st_leaf_t *)n, rec, sp);
    st_inner_t *in = (st_inner_t *)n;
    uint32_t i = st_inner_pos(in, rec->key);
    st_split_t kid = {0};
    int rc = st_put_at(c, &in->kids[i], rec, &kid);
    if (kid.right == NULL)
        return rc;
    rc = st_inner_add(c, in, i, &kid, sp);
    if (rc != 0) { /* the split half cannot be linked: give it up */
        st_subtree_dispose(c, kid.right);
        tri_val_unref(kid.sep);
    }
    return rc;
}

static int st_tree_put_rc(st_tree_t *t, const st_tctx_t *c, const st_trec_t *rec)
{
    if (t->root == NULL) {
        st_leaf_t *l = (st_leaf_t *)st_node_new(true, c->rev);
        if (l == NULL)
            return TRI_ENOMEM;
        l->recs[0] = *rec;
        l->keys[0] = rec->key;
        l->hdr.n = 1;
        t->root = &l->hdr;
        return 0;
    }
    st_split_t sp = {0};
    int rc = st_put_at(c, &t->root, rec, &sp);
    if (sp.right == NULL)
        return rc;
    st_inner_t *root = (st_inner_t *)st_node_new(false, c->rev);
    if (root == NULL) {
        st_subtree_dispose(c, sp.right);
        tri_val_unref(sp.sep);
        return TRI_ENOMEM;
    }
    root->kids[0] = t->root;
    root->kids[1] = sp.right;
    root->seps[0] = sp.sep;
    root->hdr.n = 2;
    t->root = &root->hdr;
    return 0;
}

void st_tree_put(st_tree_t *t, const st_tctx_t *c, const st_trec_t *rec)
{
    if (!t->stale && st_tree_put_rc(t, c, rec) != 0)
        t->stale = true;
}

/* ---------- delete ---------- */

/* Removes kids[i] (empty, writable) and the separator that bounded it. */
static void st_inner_remove(const st_tctx_t *c, st_inner_t *in, uint32_t i)
{
    uint32_t n = in->hdr.n;
    st_node_dispose(c, in->kids[i]);
    if (n > 1) {
        uint32_t s = i > 0 ? i - 1 : 0;
        tri_val_unref(in->seps[s]);
        memmove(in->seps + s, in->seps + s + 1, (n - 2 - s) * sizeof(tri_val_t *));
    }
    memmove(in->kids + i, in->kids + i + 1, (n - 1 - i) * sizeof(st_node_t *));
    in->hdr.n--;
}

/* Merges kids[a + 1] into kids[a] (both writable, same kind, fitting). */
static void st_merge_kids(st_inner_t *in, uint32_t a)
{
    st_node_t *l = in->kids[a], *r = in->kids[a + 1];
    if (l->leaf) {
        memcpy(((st_leaf_t *)l)->recs + l->n, ((st_leaf_t *)r)->recs, r->n * sizeof(st_trec_t));
        memcpy(((st_leaf_t *)l)->keys + l->n, ((st_leaf_t *)r)->keys, r->n * sizeof(tri_val_t *));
        tri_val_unref(in->seps[a]); /* leaves keep no separators */
    } else {
        st_inner_t *li = (st_inner_t *)l, *ri = (st_inner_t *)r;
        li->seps[l->n - 1] = in->seps[a]; /* the parent's separator moves down */
        memcpy(li->seps + l->n, ri->seps, (r->n - 1) * sizeof(tri_val_t *));
        memcpy(li->kids + l->n, ri->kids, r->n * sizeof(st_node_t *));
    }
    l->n += r->n;
    free(r); /* writable, so seen by no ref; its separators moved to l */
    uint32_t n = in->hdr.n;
    memmove(in->seps + a, in->seps + a + 1, (n - 2 - a) * sizeof(tri_val_t *));
    memmove(in->kids + a + 1, in->kids + a + 2, (n - 2 - a) * sizeof(st_node_t *));
    in->hdr.n--;
}

/* After a delete under kids[i] (writable): drop it if empty, merge it with a
 * neighbour if both are small. A failed copy of the neighbour only skips the
 * merge, which is an optimisation. */
static void st_fix_kid(const st_tctx_t *c, st_inner_t *in, uint32_t i)
{
    st_node_t *k = in->kids[i];
    uint32_t max = k->leaf ? ST_LEAF_MAX : ST_INNER_MAX;
    if (k->n == 0) {
        st_inner_remove(c, in, i);
        return;
    }
    if (k->n >= ST_NODE_MIN(max) || in->hdr.n < 2)
        return;
    uint32_t j = i + 1 < in->hdr.n ? i + 1 : i - 1;
    if (k->n + in->kids[j]->n > ST_NODE_FILL(max) || st_writable(c, &in->kids[j]) == NULL)
        return;
    st_merge_kids(in, i < j ? i : j);
}

static int st_del_at(const st_tctx_t *c, st_node_t **slot, const tri_val_t *key)
{
    st_node_t *n = st_writable(c, slot);
    if (n == NULL)
        return TRI_ENOMEM;
    if (n->leaf) {
        st_leaf_t *l = (st_leaf_t *)n;
        bool found;
        uint32_t i = st_leaf_pos(l, key, &found);
        if (found) {
            memmove(l->recs + i, l->recs + i + 1, (n->n - i - 1) * sizeof(st_trec_t));
            n->n--;
            st_leaf_keys(l, i);
        }
        return 0;
    }
    st_inner_t *in = (st_inner_t *)n;
    uint32_t i = st_inner_pos(in, key);
    int rc = st_del_at(c, &in->kids[i], key);
    if (rc == 0)
        st_fix_kid(c, in, i);
    return rc;
}

void st_tree_del(st_tree_t *t, const st_tctx_t *c, const tri_val_t *key)
{
    if (t->stale || t->root == NULL)
        return;
    if (st_del_at(c, &t->root, key) != 0) {
        t->stale = true;
        return;
    }
    /* The root is writable now; collapse it while it has one child or none. */
    while (t->root != NULL && (t->root->n == 0 || (!t->root->leaf && t->root->n == 1))) {
        st_node_t *old = t->root;
        t->root = old->n == 0 ? NULL : ((st_inner_t *)old)->kids[0];
        st_node_dispose(c, old);
    }
}

/* ---------- whole trees ---------- */

void st_tree_drop(st_tree_t *t, const st_tctx_t *c)
{
    st_subtree_dispose(c, t->root);
    t->root = NULL;
    t->stale = false;
}

/* One level of a bulk build: nodes and their lowest keys (borrowed). */
typedef struct st_level {
    st_node_t **nodes;
    tri_val_t **lows;
    size_t n;
} st_level_t;

static void st_level_free(st_level_t *lv, bool nodes_too)
{
    for (size_t i = 0; nodes_too && i < lv->n; i++) {
        st_tctx_t none = {.pinned = -1};
        st_subtree_dispose(&none, lv->nodes[i]);
    }
    free(lv->nodes);
    free(lv->lows);
    memset(lv, 0, sizeof(*lv));
}

static int st_level_alloc(st_level_t *lv, size_t cap)
{
    lv->nodes = malloc((cap + 1) * sizeof(*lv->nodes));
    lv->lows = malloc((cap + 1) * sizeof(*lv->lows));
    lv->n = 0;
    return lv->nodes != NULL && lv->lows != NULL ? 0 : TRI_ENOMEM;
}

static int st_build_leaves(const st_index_t *idx, int64_t rev, st_level_t *lv)
{
    size_t fill = ST_NODE_FILL(ST_LEAF_MAX);
    if (st_level_alloc(lv, idx->n_ents / fill + 1) != 0)
        return TRI_ENOMEM;
    st_leaf_t *l = NULL;
    for (const st_ent_t *e = idx->head->next[0]; e != NULL; e = e->next[0]) {
        const st_ver_t *v = st_ent_live(e);
        if (v == NULL)
            continue;
        if (l == NULL || l->hdr.n == fill) {
            if ((l = (st_leaf_t *)st_node_new(true, rev)) == NULL)
                return TRI_ENOMEM;
            lv->nodes[lv->n] = &l->hdr;
            lv->lows[lv->n++] = e->key;
        }
        l->keys[l->hdr.n] = e->key;
        l->recs[l->hdr.n++] = (st_trec_t){.key = e->key,
                                          .val = v->val,
                                          .create_rev = v->create_rev,
                                          .mod_rev = v->rev,
                                          .version = v->version};
    }
    return 0;
}

static int st_build_up(const st_level_t *lo, int64_t rev, st_level_t *up)
{
    size_t fill = ST_NODE_FILL(ST_INNER_MAX);
    if (st_level_alloc(up, lo->n / fill + 1) != 0)
        return TRI_ENOMEM;
    st_inner_t *in = NULL;
    for (size_t i = 0; i < lo->n; i++) {
        if (in == NULL || in->hdr.n == fill) {
            if ((in = (st_inner_t *)st_node_new(false, rev)) == NULL)
                return TRI_ENOMEM;
            up->nodes[up->n] = &in->hdr;
            up->lows[up->n++] = lo->lows[i];
        } else {
            in->seps[in->hdr.n - 1] = tri_val_ref(lo->lows[i]);
        }
        in->kids[in->hdr.n++] = lo->nodes[i];
    }
    return 0;
}

int st_tree_build(st_tree_t *t, const st_index_t *idx, int64_t rev)
{
    st_level_t lv = {0}, up = {0};
    int rc = st_build_leaves(idx, rev, &lv);
    while (rc == 0 && lv.n > 1) {
        rc = st_build_up(&lv, rev, &up);
        if (rc != 0)
            break;
        st_level_free(&lv, false); /* its nodes now belong to up's */
        lv = up;
        memset(&up, 0, sizeof(up));
    }
    if (rc != 0) {
        /* up's nodes hold some of lv's: free those shells alone, then every
         * subtree of lv, linked or not. */
        for (size_t i = 0; i < up.n; i++)
            st_node_free(up.nodes[i]);
        st_level_free(&up, false);
        st_level_free(&lv, true);
        return rc;
    }
    t->root = lv.n == 1 ? lv.nodes[0] : NULL;
    t->stale = false;
    st_level_free(&lv, false);
    return 0;
}

/* ---------- walking (the encoder, any thread) ---------- */

int st_tree_walk(const st_node_t *n, st_trec_fn fn, void *ctx)
{
    if (n == NULL)
        return 0;
    if (n->leaf) {
        const st_leaf_t *l = (const st_leaf_t *)n;
        for (uint32_t i = 0; i < n->n; i++) {
            int rc = fn(ctx, &l->recs[i]);
            if (rc != 0)
                return rc;
        }
        return 0;
    }
    const st_inner_t *in = (const st_inner_t *)n;
    for (uint32_t i = 0; i < n->n; i++) {
        int rc = st_tree_walk(in->kids[i], fn, ctx);
        if (rc != 0)
            return rc;
    }
    return 0;
}
