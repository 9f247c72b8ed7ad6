/* Snapshots: a point-in-time copy of the live state, for Raft log compaction,
 * new or lagging members, and backups.
 *
 * Taking one (tri_store_snap_ref, loop thread) walks the index once and takes a
 * reference to every live key and value: O(n) pointer work, no byte copied.
 * Encoding (tri_snap_encode) reads only those immutable blobs and the ref's own
 * array, never a reference count, so it may run on another thread while the loop
 * goes on applying.
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

typedef struct st_snap_rec {
    tri_val_t *key;
    tri_val_t *val;
    int64_t create_rev;
    int64_t mod_rev;
    int64_t version;
} st_snap_rec_t;

struct tri_snap_ref {
    int64_t rev;
    size_t n;
    st_snap_rec_t recs[];
};

/* ---------- taking a ref ---------- */

int tri_store_snap_ref(tri_store_t *s, tri_snap_ref_t **out)
{
    *out = NULL;
    size_t n = s->st.count;
    tri_snap_ref_t *ref = malloc(sizeof(*ref) + n * sizeof(st_snap_rec_t));
    if (ref == NULL)
        return TRI_ENOMEM;
    ref->rev = s->st.rev;
    ref->n = 0;
    for (st_ent_t *e = s->st.idx.head->next[0]; e != NULL && ref->n < n; e = e->next[0]) {
        const st_ver_t *v = st_ent_live(e);
        if (v == NULL)
            continue;
        ref->recs[ref->n++] = (st_snap_rec_t){.key = tri_val_ref(e->key),
                                              .val = tri_val_ref(v->val),
                                              .create_rev = v->create_rev,
                                              .mod_rev = v->rev,
                                              .version = v->version};
    }
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
    for (size_t i = 0; i < ref->n; i++) {
        tri_val_unref(ref->recs[i].key);
        tri_val_unref(ref->recs[i].val);
    }
    free(ref);
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

static size_t st_rec_size(const st_snap_rec_t *r)
{
    return ST_SNAP_REC_FIXED + r->key->len + r->val->len;
}

static size_t st_rec_write(char *p, const st_snap_rec_t *r)
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

/* Compresses raw[0..n) as one chunk at the end of out (capacity reserved). */
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

static int st_snap_body(const tri_snap_ref_t *ref, tri_buf_t *out)
{
    char *raw = malloc(ST_SNAP_CHUNK_MAX);
    if (raw == NULL)
        return TRI_ENOMEM;
    size_t used = 0;
    int rc = 0;
    for (size_t i = 0; i < ref->n && rc == 0; i++) {
        size_t sz = st_rec_size(&ref->recs[i]);
        if (used > 0 && used + sz > ST_SNAP_CHUNK_TARGET) {
            rc = st_chunk_flush(out, raw, used);
            used = 0;
        }
        used += st_rec_write(raw + used, &ref->recs[i]);
    }
    if (rc == 0 && used > 0)
        rc = st_chunk_flush(out, raw, used);
    free(raw);
    return rc;
}

int tri_snap_encode(const tri_snap_ref_t *ref, tri_buf_t *out)
{
    size_t start = out->len;
    uint64_t raw_len = 0;
    for (size_t i = 0; i < ref->n; i++)
        raw_len += st_rec_size(&ref->recs[i]);
    /* One reservation for the worst case (incompressible values); pages never
     * written are never touched, so over-reserving costs address space only. */
    size_t chunks = raw_len / ST_SNAP_CHUNK_TARGET + ref->n / 64 + 2;
    size_t worst = ST_SNAP_HEADER + (size_t)raw_len + raw_len / 255 +
                   chunks * (ST_SNAP_CHUNK_HDR + 16) + ST_SNAP_TRAILER;
    int rc = tri_buf_reserve(out, worst);
    if (rc != 0)
        return rc;
    char *h = out->data + out->len;
    memcpy(h, ST_SNAP_MAGIC, ST_SNAP_MAGIC_LEN);
    st_le32(h + 8, ST_SNAP_FORMAT);
    st_le64(h + 12, (uint64_t)ref->rev);
    st_le64(h + 20, (uint64_t)ref->n);
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
    if (fmt != ST_SNAP_FORMAT || rev > INT64_MAX)
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
