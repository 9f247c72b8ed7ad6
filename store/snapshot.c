/* Snapshots: a point-in-time copy of the live state, for Raft log compaction,
 * new or lagging members, and backups.
 *
 * Taking one (tri_store_snap_ref, loop thread) is O(1): the ref keeps the root
 * of the store's snapshot view (tree.c, a copy-on-write B+tree of the live
 * records) as it is at the current revision, plus the count and raw size.
 * Encoding (tri_snap_encode) walks that frozen tree and reads the blobs its
 * records point to, on any thread, while the loop thread goes on applying.
 *
 * Why that is safe, and who frees what. Everything here runs on the loop
 * thread except the encoder, which reads only: the ref's rev/count/raw_len/root
 * (written before the ref is handed over), the nodes reachable from root, and
 * the len and bytes of the blobs their records name. The loop thread never
 * writes any of those while the ref is open:
 *   - nodes: a node reachable from a ref at revision R was born <= R; the tree
 *     copies any node born <= pinned (the newest open ref's revision) before
 *     changing it, and hands the original to this file's hub instead of
 *     freeing it (st_snaps_retire_node);
 *   - blobs: records borrow their key and value from the skip list's entry.
 *     When a txn replaces or deletes a value some open ref may still encode
 *     (its mod_rev <= pinned), or deletes a key created at or before pinned,
 *     the store takes a reference on the blob and hands it to the hub
 *     (st_snaps_retire_val), so compaction cannot free it under the encoder.
 *     Blobs are immutable; their reference counts, which the loop thread keeps
 *     changing, are a field the encoder never reads.
 * A retired item (node or blob) is needed by an open ref taken before it was
 * retired whose revision is >= the item's birth (born, or the blob's mod_rev /
 * create_rev). Releasing a ref frees every retired item no open ref needs: with
 * one ref at a time, which is what Raft does, that is all of them, in time
 * proportional to the writes applied while the ref was open. Reference counts
 * are touched only on the loop thread.
 *
 * A store freed, or a state replaced by tri_store_restore, while refs are open
 * leaves its state to the hub, which frees it with the last ref.
 *
 * Format, version 1, little endian:
 *   header  "TRISNAP1", u32 format version, u64 revision, u64 key count,
 *           u64 raw length (sum of the uncompressed chunk sizes)
 *   chunks  { u32 raw_len, u32 comp_len, comp_len bytes of one LZ4 block }
 *   trailer u32 CRC-32C of every byte before it
 * Records (u32 key_len, key, u32 val_len, val, u64 create_rev, u64 mod_rev,
 * u64 version) come in strictly increasing key order and never straddle chunks,
 * so a reader decompresses one bounded chunk at a time: restoring never holds the
 * whole uncompressed state twice, and a chunk's size is known before decoding,
 * which is what the LZ4 block API needs.
 *
 * Restoring checks everything (checksum first, then every chunk and record) while
 * building a complete new state off to the side, and swaps it in only on success:
 * a corrupt snapshot leaves the store exactly as it was.
 */
#include <lz4.h>
#include <stdlib.h>
#include <string.h>

#include "store_int.h"
#include "triarch/errors.h"
#include "triarch/log.h"

#define ST_SNAP_MAGIC "TRISNAP1"
#define ST_SNAP_MAGIC_LEN 8
#define ST_SNAP_FORMAT 1u
#define ST_SNAP_HEADER (ST_SNAP_MAGIC_LEN + 4 + 8 + 8 + 8)
#define ST_SNAP_TRAILER 4
#define ST_SNAP_CHUNK_HDR 8
/* Fixed part of a record: two length words and three revision fields. */
#define ST_SNAP_REC_FIXED (4 + 4 + 8 + 8 + 8)
/* Chunks are cut near 1 MiB: large enough for LZ4 to find repeats across many
 * objects, small enough that a reader's buffer stays modest. One record larger
 * than that gets a chunk of its own, hence the maximum. */
#define ST_SNAP_CHUNK_TARGET (1u << 20)
#define ST_SNAP_CHUNK_MAX (ST_SNAP_REC_FIXED + ST_KEY_MAX + ST_VAL_MAX)
/* Garbage items (nodes, blob references) freed per st_snaps_gc call, i.e. per
 * applied txn and per compact_auto: 128 frees, ~0.1 ms at worst (measured), far
 * more than the 2-3 items a write retires while a ref is open. */
#define ST_SNAP_GC_BUDGET 128u

struct tri_snap_ref {
    /* Read by the encoder: set on the loop thread before the ref is handed over. */
    int64_t rev;
    uint64_t count;
    uint64_t raw_len;
    const st_node_t *root;
    /* Loop thread only. */
    st_snaps_t *hub;
    uint64_t seq; /* order in which refs of the hub were taken */
    tri_snap_ref_t *older, *newer;
};

/* A blob that left the live state while a ref that may encode it was open. */
typedef struct st_retval {
    tri_val_t *val; /* a reference of the hub's */
    int64_t born;   /* revision from which the live state held it */
    uint64_t seq;   /* hub sequence when it was retired */
} st_retval_t;

struct st_snaps {
    tri_snap_ref_t *oldest, *newest; /* open refs, in the order taken */
    uint64_t next_seq;
    st_node_t *nodes, *nodes_tail; /* retired nodes, linked by retired_next */
    st_retval_t *vals;
    size_t n_vals, cap_vals;
    /* Garbage: retired items no ref needs any more, freed a slice at a time. */
    st_node_t *gc_nodes;
    st_retval_t *gc_vals;
    size_t gc_pos, gc_n;
    bool orphaned;     /* the store let go of the state below */
    st_state_t orphan; /* valid when orphaned */
};

/* ---------- the hub ---------- */

int st_snaps_new(st_snaps_t **out)
{
    *out = calloc(1, sizeof(**out));
    return *out != NULL ? 0 : TRI_ENOMEM;
}

int64_t st_snaps_pinned(const st_snaps_t *h)
{
    return h->newest != NULL ? h->newest->rev : -1;
}

void st_snaps_retire_node(st_snaps_t *h, st_node_t *n)
{
    n->retired_seq = h->next_seq;
    n->retired_next = h->nodes;
    if (h->nodes == NULL)
        h->nodes_tail = n;
    h->nodes = n;
}

int st_snaps_reserve(st_snaps_t *h, size_t n)
{
    if (h->newest == NULL || h->n_vals + n <= h->cap_vals)
        return 0;
    size_t cap = h->cap_vals ? h->cap_vals : 64;
    while (cap < h->n_vals + n)
        cap *= 2;
    st_retval_t *v = realloc(h->vals, cap * sizeof(*v));
    if (v == NULL)
        return TRI_ENOMEM;
    h->vals = v;
    h->cap_vals = cap;
    return 0;
}

void st_snaps_retire_val(st_snaps_t *h, tri_val_t *v, int64_t born)
{
    if (born > st_snaps_pinned(h))
        return; /* no open ref can see it */
    if (h->n_vals == h->cap_vals && st_snaps_reserve(h, 1) != 0) {
        /* Unreachable when the caller reserved; never free under a reader. */
        tri_error("store", "no room to retire a blob; leaking it", "len=%u", v->len);
        tri_val_ref(v);
        return;
    }
    h->vals[h->n_vals++] = (st_retval_t){.val = tri_val_ref(v), .born = born, .seq = h->next_seq};
}

/* Some open ref taken before the item left the live state can still see it. */
static bool st_snaps_needed(const st_snaps_t *h, int64_t born, uint64_t seq)
{
    for (const tri_snap_ref_t *r = h->oldest; r != NULL && r->seq < seq; r = r->newer)
        if (r->rev >= born)
            return true;
    return false;
}

/* With refs still open (overlapping snapshots, rare): frees at once what none
 * of them needs, keeps the rest. */
static void st_snaps_filter(st_snaps_t *h)
{
    st_node_t **pp = &h->nodes;
    h->nodes_tail = NULL;
    while (*pp != NULL) {
        st_node_t *n = *pp;
        if (st_snaps_needed(h, n->born, n->retired_seq)) {
            h->nodes_tail = n;
            pp = &n->retired_next;
            continue;
        }
        *pp = n->retired_next;
        st_node_free(n);
    }
    size_t kept = 0;
    for (size_t i = 0; i < h->n_vals; i++) {
        st_retval_t *it = &h->vals[i];
        if (st_snaps_needed(h, it->born, it->seq))
            h->vals[kept++] = *it;
        else
            tri_val_unref(it->val);
    }
    h->n_vals = kept;
}

/* Frees up to budget garbage items; returns how many it freed. */
static size_t st_snaps_gc_some(st_snaps_t *h, size_t budget)
{
    size_t done = 0;
    for (; done < budget && h->gc_nodes != NULL; done++) {
        st_node_t *n = h->gc_nodes;
        h->gc_nodes = n->retired_next;
        st_node_free(n);
    }
    for (; done < budget && h->gc_pos < h->gc_n; done++)
        tri_val_unref(h->gc_vals[h->gc_pos++].val);
    if (h->gc_pos == h->gc_n) {
        free(h->gc_vals);
        h->gc_vals = NULL;
        h->gc_pos = h->gc_n = 0;
    }
    return done;
}

void st_snaps_gc(st_snaps_t *h)
{
    st_snaps_gc_some(h, ST_SNAP_GC_BUDGET);
}

/* The last ref is gone: everything retired becomes garbage, handed over in
 * O(1) so that releasing a ref costs the loop thread nothing in one go. */
static void st_snaps_to_gc(st_snaps_t *h)
{
    if (h->nodes != NULL) {
        h->nodes_tail->retired_next = h->gc_nodes;
        h->gc_nodes = h->nodes;
        h->nodes = h->nodes_tail = NULL;
    }
    if (h->n_vals == 0)
        return;
    if (h->gc_pos < h->gc_n) { /* garbage left from an earlier ref: append */
        st_retval_t *v = realloc(h->gc_vals, (h->gc_n + h->n_vals) * sizeof(*v));
        if (v == NULL) { /* no room to append: free the old garbage now */
            st_snaps_gc_some(h, SIZE_MAX);
        } else {
            memcpy(v + h->gc_n, h->vals, h->n_vals * sizeof(*v));
            h->gc_vals = v;
            h->gc_n += h->n_vals;
            h->n_vals = 0;
            return;
        }
    }
    free(h->gc_vals);
    h->gc_vals = h->vals;
    h->gc_pos = 0;
    h->gc_n = h->n_vals;
    h->vals = NULL;
    h->n_vals = h->cap_vals = 0;
}

bool st_snaps_adopt(st_snaps_t *h, st_state_t *st)
{
    if (h->oldest == NULL)
        return false;
    h->orphan = *st;
    h->orphaned = true;
    return true;
}

void st_snaps_free(st_snaps_t *h)
{
    if (h == NULL)
        return;
    st_snaps_to_gc(h); /* no ref open: everything retired is garbage */
    st_snaps_gc_some(h, SIZE_MAX);
    free(h->vals);
    free(h);
}

/* ---------- taking and releasing a ref ---------- */

/* After a failed tree update: give the old tree up and build it again. */
static int st_snap_rebuild(st_state_t *st)
{
    st_tctx_t c = {.hub = st->snaps, .rev = st->rev, .pinned = st_snaps_pinned(st->snaps)};
    st_tree_drop(&st->tree, &c);
    int rc = st_tree_build(&st->tree, &st->idx, st->rev);
    if (rc != 0)
        st->tree.stale = true;
    else
        tri_warn("store", "snapshot view rebuilt after a failed update", "keys=%zu", st->count);
    return rc;
}

int tri_store_snap_ref(tri_store_t *s, tri_snap_ref_t **out)
{
    *out = NULL;
    st_state_t *st = &s->st;
    if (st->tree.stale && st_snap_rebuild(st) != 0)
        return TRI_ENOMEM;
    tri_snap_ref_t *ref = calloc(1, sizeof(*ref));
    if (ref == NULL)
        return TRI_ENOMEM;
    st_snaps_t *h = st->snaps;
    ref->rev = st->rev;
    ref->count = st->count;
    ref->raw_len = (uint64_t)st->count * ST_SNAP_REC_FIXED + st->size_bytes;
    ref->root = st->tree.root;
    ref->hub = h;
    ref->seq = h->next_seq++;
    ref->older = h->newest;
    if (h->newest != NULL)
        h->newest->newer = ref;
    else
        h->oldest = ref;
    h->newest = ref;
    *out = ref;
    return 0;
}

int64_t tri_snap_ref_revision(const tri_snap_ref_t *ref)
{
    return ref->rev;
}

void tri_snap_ref_free(tri_snap_ref_t *ref)
{
    if (ref == NULL)
        return;
    st_snaps_t *h = ref->hub;
    if (ref->older != NULL)
        ref->older->newer = ref->newer;
    else
        h->oldest = ref->newer;
    if (ref->newer != NULL)
        ref->newer->older = ref->older;
    else
        h->newest = ref->older;
    free(ref);
    if (h->oldest != NULL)
        st_snaps_filter(h);
    else
        st_snaps_to_gc(h);
    if (h->oldest == NULL && h->orphaned) {
        st_state_t st = h->orphan;
        h->orphaned = false;
        st_state_free(&st); /* frees h as well */
    }
}

/* ---------- encoding (any thread) ---------- */

static void st_le32(char *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (char)(v >> (8 * i));
}

static void st_le64(char *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (char)(v >> (8 * i));
}

static size_t st_rec_write(char *p, const st_trec_t *r)
{
    size_t off = 0;
    st_le32(p + off, r->key->len);
    memcpy(p + off + 4, r->key->data, r->key->len);
    off += 4 + r->key->len;
    st_le32(p + off, r->val->len);
    memcpy(p + off + 4, r->val->data, r->val->len);
    off += 4 + r->val->len;
    st_le64(p + off, (uint64_t)r->create_rev);
    st_le64(p + off + 8, (uint64_t)r->mod_rev);
    st_le64(p + off + 16, (uint64_t)r->version);
    return off + 24;
}

/* Compresses raw[0..n) as one chunk at the end of out. */
static int st_chunk_flush(tri_buf_t *out, const char *raw, size_t n)
{
    int bound = LZ4_compressBound((int)n);
    if (tri_buf_reserve(out, ST_SNAP_CHUNK_HDR + (size_t)bound) != 0)
        return TRI_ENOMEM;
    char *hdr = out->data + out->len;
    int comp = LZ4_compress_default(raw, hdr + ST_SNAP_CHUNK_HDR, (int)n, bound);
    if (comp <= 0)
        return TRI_ENOMEM; /* cannot happen with a bound-sized output */
    st_le32(hdr, (uint32_t)n);
    st_le32(hdr + 4, (uint32_t)comp);
    out->len += ST_SNAP_CHUNK_HDR + (size_t)comp;
    return 0;
}

typedef struct st_encoder {
    tri_buf_t *out;
    char *raw; /* the chunk being filled */
    size_t used;
    uint64_t count;
    uint64_t raw_len;
} st_encoder_t;

static int st_enc_rec(void *ctx, const st_trec_t *r)
{
    st_encoder_t *e = ctx;
    size_t sz = ST_SNAP_REC_FIXED + r->key->len + r->val->len;
    if (e->used > 0 && e->used + sz > ST_SNAP_CHUNK_TARGET) {
        int rc = st_chunk_flush(e->out, e->raw, e->used);
        if (rc != 0)
            return rc;
        e->used = 0;
    }
    e->used += st_rec_write(e->raw + e->used, r);
    e->count++;
    e->raw_len += sz;
    return 0;
}

static int st_snap_body(const tri_snap_ref_t *ref, tri_buf_t *out)
{
    st_encoder_t e = {.out = out, .raw = malloc(ST_SNAP_CHUNK_MAX)};
    if (e.raw == NULL)
        return TRI_ENOMEM;
    int rc = st_tree_walk(ref->root, st_enc_rec, &e);
    if (rc == 0 && e.used > 0)
        rc = st_chunk_flush(out, e.raw, e.used);
    free(e.raw);
    /* The header is already written from the ref's figures: a view that
     * disagrees with them is a bug, and must not become a snapshot. */
    if (rc == 0 && (e.count != ref->count || e.raw_len != ref->raw_len)) {
        tri_error("store", "snapshot view disagrees with the store's counters", "keys=%llu/%llu",
                  (unsigned long long)e.count, (unsigned long long)ref->count);
        rc = TRI_ECORRUPT;
    }
    return rc;
}

int tri_snap_encode(const tri_snap_ref_t *ref, tri_buf_t *out)
{
    size_t start = out->len;
    uint64_t raw_len = ref->raw_len;
    /* One reservation for the worst case (incompressible values); pages never
     * written are never touched, so over-reserving costs address space only. */
    size_t chunks = raw_len / ST_SNAP_CHUNK_TARGET + ref->count / 64 + 2;
    size_t worst = ST_SNAP_HEADER + (size_t)raw_len + raw_len / 255 +
                   chunks * (ST_SNAP_CHUNK_HDR + 16) + ST_SNAP_TRAILER;
    int rc = tri_buf_reserve(out, worst);
    if (rc != 0)
        return rc;
    char *h = out->data + out->len;
    memcpy(h, ST_SNAP_MAGIC, ST_SNAP_MAGIC_LEN);
    st_le32(h + 8, ST_SNAP_FORMAT);
    st_le64(h + 12, (uint64_t)ref->rev);
    st_le64(h + 20, ref->count);
    st_le64(h + 28, raw_len);
    out->len += ST_SNAP_HEADER;
    rc = st_snap_body(ref, out);
    if (rc == 0)
        rc = tri_buf_put_u32(out, tri_crc32c(0, out->data + start, out->len - start));
    if (rc != 0)
        out->len = start;
    return rc;
}

/* ---------- decoding ---------- */

typedef struct st_rec {
    const char *key;
    uint32_t key_len;
    const char *val;
    uint32_t val_len;
    int64_t create_rev;
    int64_t mod_rev;
    int64_t version;
} st_rec_t;

typedef int (*st_rec_fn)(void *ctx, const st_rec_t *rec);

typedef struct st_decoder {
    int64_t rev;
    uint64_t count;
    uint64_t raw_len;
    uint64_t seen;
    uint64_t raw_seen;
    char last_key[ST_KEY_MAX];
    uint32_t last_len;
    st_rec_fn fn;
    void *ctx;
} st_decoder_t;

static int st_rec_parse(st_decoder_t *d, tri_reader_t *r, st_rec_t *rec)
{
    const void *k, *v;
    uint64_t c, m, ver;
    if (tri_reader_bytes(r, &k, &rec->key_len) != 0 ||
        tri_reader_bytes(r, &v, &rec->val_len) != 0 || tri_reader_u64(r, &c) != 0 ||
        tri_reader_u64(r, &m) != 0 || tri_reader_u64(r, &ver) != 0)
        return TRI_ECORRUPT;
    if (rec->key_len == 0 || rec->key_len > ST_KEY_MAX || rec->val_len > ST_VAL_MAX)
        return TRI_ECORRUPT;
    if (c < 1 || c > m || m > (uint64_t)d->rev || ver < 1 || ver > INT64_MAX)
        return TRI_ECORRUPT;
    if (d->seen > 0 && st_key_cmp(d->last_key, d->last_len, k, rec->key_len) >= 0)
        return TRI_ECORRUPT; /* keys must be unique and sorted */
    memcpy(d->last_key, k, rec->key_len);
    d->last_len = rec->key_len;
    rec->key = k;
    rec->val = v;
    rec->create_rev = (int64_t)c;
    rec->mod_rev = (int64_t)m;
    rec->version = (int64_t)ver;
    return 0;
}

static int st_chunk_records(st_decoder_t *d, const char *raw, size_t n)
{
    tri_reader_t r;
    tri_reader_init(&r, raw, n);
    while (r.off < r.len) {
        st_rec_t rec;
        int rc = st_rec_parse(d, &r, &rec);
        if (rc == 0 && ++d->seen > d->count)
            rc = TRI_ECORRUPT;
        if (rc == 0 && d->fn != NULL)
            rc = d->fn(d->ctx, &rec);
        if (rc != 0)
            return rc;
    }
    return 0;
}

static int st_snap_header(st_decoder_t *d, const uint8_t *p, size_t len)
{
    if (len < ST_SNAP_HEADER + ST_SNAP_TRAILER || memcmp(p, ST_SNAP_MAGIC, ST_SNAP_MAGIC_LEN))
        return TRI_ECORRUPT;
    tri_reader_t r;
    tri_reader_init(&r, p + ST_SNAP_MAGIC_LEN, len - ST_SNAP_MAGIC_LEN);
    uint32_t fmt, crc;
    uint64_t rev;
    tri_reader_u32(&r, &fmt);
    tri_reader_u64(&r, &rev);
    tri_reader_u64(&r, &d->count);
    tri_reader_u64(&r, &d->raw_len);
    /* the next txn takes rev + 1: INT64_MAX itself is refused (fuzz found it) */
    if (fmt != ST_SNAP_FORMAT || rev >= INT64_MAX)
        return TRI_ECORRUPT;
    tri_reader_init(&r, p + len - ST_SNAP_TRAILER, ST_SNAP_TRAILER);
    tri_reader_u32(&r, &crc);
    if (crc != tri_crc32c(0, p, len - ST_SNAP_TRAILER))
        return TRI_ECORRUPT;
    d->rev = (int64_t)rev;
    /* Every record takes at least its fixed part and one key byte. */
    if (d->count > d->raw_len / (ST_SNAP_REC_FIXED + 1))
        return TRI_ECORRUPT;
    return 0;
}

static int st_snap_decode(const void *data, size_t len, st_decoder_t *d)
{
    const uint8_t *p = data;
    int rc = data != NULL ? st_snap_header(d, p, len) : TRI_ECORRUPT;
    if (rc != 0)
        return rc;
    tri_reader_t r;
    tri_reader_init(&r, p + ST_SNAP_HEADER, len - ST_SNAP_HEADER - ST_SNAP_TRAILER);
    char *raw = NULL;
    size_t raw_cap = 0;
    while (rc == 0 && r.off < r.len) {
        uint32_t n, comp;
        if (tri_reader_u32(&r, &n) != 0 || tri_reader_u32(&r, &comp) != 0 || n == 0 ||
            n > ST_SNAP_CHUNK_MAX || comp == 0 || comp > r.len - r.off ||
            comp > (uint32_t)LZ4_compressBound((int)n) || d->raw_seen + n > d->raw_len) {
            rc = TRI_ECORRUPT;
            break;
        }
        if (n > raw_cap) {
            char *nr = realloc(raw, n);
            if (nr == NULL) {
                rc = TRI_ENOMEM;
                break;
            }
            raw = nr;
            raw_cap = n;
        }
        if (LZ4_decompress_safe((const char *)r.p + r.off, raw, (int)comp, (int)n) != (int)n) {
            rc = TRI_ECORRUPT;
            break;
        }
        r.off += comp;
        d->raw_seen += n;
        rc = st_chunk_records(d, raw, n);
    }
    free(raw);
    if (rc == 0 && (d->seen != d->count || d->raw_seen != d->raw_len))
        rc = TRI_ECORRUPT;
    return rc;
}

int tri_snap_verify(const void *data, size_t len, int64_t *revision, size_t *count)
{
    st_decoder_t *d = calloc(1, sizeof(*d));
    if (d == NULL)
        return TRI_ENOMEM;
    int rc = st_snap_decode(data, len, d);
    if (rc == 0 && revision != NULL)
        *revision = d->rev;
    if (rc == 0 && count != NULL)
        *count = (size_t)d->count;
    free(d);
    return rc;
}

/* ---------- restore ---------- */

typedef struct st_loader {
    st_state_t *st;
    st_appender_t ap;
} st_loader_t;

static int st_load_rec(void *ctx, const st_rec_t *rec)
{
    st_loader_t *l = ctx;
    tri_val_t *key = tri_val_new(rec->key, rec->key_len);
    tri_val_t *val = tri_val_new(rec->val, rec->val_len);
    st_ent_t *e = key != NULL ? st_ent_new(&l->st->idx, key) : NULL;
    if (e == NULL || val == NULL || st_ent_reserve(e, 1) != 0) {
        if (e != NULL)
            st_ent_free(e); /* frees key too */
        else
            tri_val_unref(key);
        tri_val_unref(val);
        return TRI_ENOMEM;
    }
    e->vers[e->n_vers++] = (st_ver_t){
        .rev = rec->mod_rev, .val = val, .create_rev = rec->create_rev, .version = rec->version};
    st_index_append(&l->st->idx, &l->ap, e);
    l->st->size_bytes += rec->key_len + rec->val_len;
    l->st->count++;
    return 0;
}

int tri_store_restore(tri_store_t *s, const void *data, size_t len)
{
    st_state_t ns;
    if (st_state_init(&ns) != 0)
        return TRI_ENOMEM;
    st_decoder_t *d = calloc(1, sizeof(*d));
    st_loader_t *l = calloc(1, sizeof(*l));
    int rc = TRI_ENOMEM;
    if (d == NULL || l == NULL)
        goto out;
    l->st = &ns;
    st_index_append_init(&ns.idx, &l->ap);
    d->fn = st_load_rec;
    d->ctx = l;
    rc = st_snap_decode(data, len, d);
    if (rc != 0)
        goto out;
    ns.rev = d->rev;
    ns.compact_rev = d->rev; /* no history before the snapshot */
    if (st_tree_build(&ns.tree, &ns.idx, ns.rev) != 0)
        ns.tree.stale = true; /* the next snapshot ref builds it */
    st_state_free(&s->st);
    s->st = ns;
    st_watch_close_all(s);
out:
    if (rc != 0)
        st_state_free(&ns);
    free(d);
    free(l);
    return rc;
}
