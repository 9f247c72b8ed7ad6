/* Protobuf request bodies (application/vnd.kubernetes.protobuf), as kubectl 1.32
 * sends them from its typed commands (create configmap|secret|namespace|...).
 *
 * The body is the magic "k8s\0" followed by a runtime.Unknown message:
 *   1 typeMeta {1 apiVersion, 2 kind}, 2 raw (the object's own message),
 *   3 contentEncoding (must be empty), 4 contentType (empty or protobuf; JSON raw is
 *   accepted too).
 * The raw object is decoded against the schema tables of protobuf_schema.c into the
 * JSON the rest of the server uses, with apiVersion and kind from the envelope. The
 * wire format is walked by hand: varints (at most 10 bytes), length-delimited
 * fields checked against what is left, fixed32/fixed64 skipped; unknown field
 * numbers are skipped whatever their wire type, groups and malformed input are
 * errors. Zero values are dropped as Go's omitempty would, except fields the schema
 * marks TRI_PB_KEEP_ZERO (Go pointers and non-omitempty fields); nested messages
 * present on the wire always appear (Go never omits a struct), and those marked
 * TRI_PB_INLINE (Go's `json:",inline"`, e.g. Probe's handler, Volume's source) spill
 * their fields into the enclosing object. resource.Quantity ({1 string}) becomes
 * its string, alone or as the value of a ResourceList map.
 */
#include "codec_internal.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "triarch/codec.h"

#define K8S_PROTOBUF_MAGIC "k8s\0"
#define K8S_PROTOBUF_MAGIC_LEN 4
#define PROTOBUF_CONTENT_TYPE "application/vnd.kubernetes.protobuf"
#define VARINT_MAX_BYTES 10
#define NANOS_PER_S 1000000000LL
/* the seconds of 0001-01-01T00:00:00Z and 9999-12-31T23:59:59Z: RFC 3339's years */
#define TIME_MIN_S (-62135596800LL)
#define TIME_MAX_S 253402300799LL

enum wire {
    WT_VARINT = 0,
    WT_FIXED64 = 1,
    WT_LEN = 2,
    WT_SGROUP = 3,
    WT_EGROUP = 4,
    WT_FIXED32 = 5
};

typedef struct rd {
    const uint8_t *p;
    size_t n;
} rd_t;

typedef struct pctx {
    char *err;
    size_t errlen;
} pctx_t;

static int pb_fail(pctx_t *c, const char *what, const char *field)
{
    tri_codec_errf(c->err, c->errlen, "invalid protobuf body: %s%s%s", what,
                   field ? " in field " : "", field ? field : "");
    return TRI_EINVAL;
}

static int rd_varint(rd_t *r, uint64_t *out)
{
    uint64_t v = 0;
    for (int i = 0; i < VARINT_MAX_BYTES; i++) {
        if (r->n == 0)
            return TRI_EINVAL;
        uint8_t b = *r->p++;
        r->n--;
        /* the 10th byte may only carry the 64th bit */
        if (i == VARINT_MAX_BYTES - 1 && b > 1)
            return TRI_EINVAL;
        v |= (uint64_t)(b & 0x7f) << (7 * i);
        if (!(b & 0x80)) {
            *out = v;
            return 0;
        }
    }
    return TRI_EINVAL;
}

static int rd_bytes(rd_t *r, rd_t *out)
{
    uint64_t len;
    if (rd_varint(r, &len) != 0 || len > r->n)
        return TRI_EINVAL;
    out->p = r->p;
    out->n = (size_t)len;
    r->p += len;
    r->n -= (size_t)len;
    return 0;
}

static int rd_skip(rd_t *r, unsigned wt)
{
    uint64_t v;
    rd_t b;
    size_t fixed = wt == WT_FIXED64 ? 8 : 4;
    switch (wt) {
    case WT_VARINT:
        return rd_varint(r, &v);
    case WT_LEN:
        return rd_bytes(r, &b);
    case WT_FIXED64:
    case WT_FIXED32:
        if (r->n < fixed)
            return TRI_EINVAL;
        r->p += fixed;
        r->n -= fixed;
        return 0;
    default:
        return TRI_EINVAL; /* groups are not used by Kubernetes */
    }
}

/* ---------- value conversion ---------- */

static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static json_t *base64_string(const rd_t *b)
{
    size_t outlen = 4 * ((b->n + 2) / 3);
    char *out = malloc(outlen + 1);
    if (!out)
        return NULL;
    size_t j = 0;
    for (size_t i = 0; i < b->n; i += 3) {
        uint32_t v = (uint32_t)b->p[i] << 16;
        if (i + 1 < b->n)
            v |= (uint32_t)b->p[i + 1] << 8;
        if (i + 2 < b->n)
            v |= b->p[i + 2];
        out[j++] = b64[(v >> 18) & 63];
        out[j++] = b64[(v >> 12) & 63];
        out[j++] = i + 1 < b->n ? b64[(v >> 6) & 63] : '=';
        out[j++] = i + 2 < b->n ? b64[v & 63] : '=';
    }
    json_t *s = json_stringn(out, j);
    free(out);
    return s;
}

/* Strings must be UTF-8 without NUL (the rest of the server uses C strings). */
static json_t *utf8_string(pctx_t *c, const rd_t *b, const char *field)
{
    if (memchr(b->p, '\0', b->n)) {
        pb_fail(c, "NUL byte in string", field);
        return NULL;
    }
    json_t *s = json_stringn((const char *)b->p, b->n);
    if (!s)
        pb_fail(c, "invalid UTF-8 string", field);
    return s;
}

/* metav1.Time -> "2006-01-02T15:04:05Z", metav1.MicroTime (micro) ->
 * "2006-01-02T15:04:05.000000Z" as Go's RFC3339Micro prints it; a zero time is
 * omitted (*out NULL). Both messages are {1 seconds, 2 nanos}. */
static int time_value(pctx_t *c, const rd_t *b, const char *field, bool micro, json_t **out)
{
    rd_t r = *b;
    int64_t seconds = 0;
    uint64_t nanos = 0;
    *out = NULL;
    while (r.n > 0) {
        uint64_t key, v;
        if (rd_varint(&r, &key) != 0)
            return pb_fail(c, "malformed Time", field);
        if (((key >> 3) == 1 || (key >> 3) == 2) && (key & 7) == WT_VARINT) {
            if (rd_varint(&r, &v) != 0)
                return pb_fail(c, "malformed Time", field);
            if ((key >> 3) == 1)
                seconds = (int64_t)v;
            else
                nanos = v;
        } else if (rd_skip(&r, key & 7) != 0) {
            return pb_fail(c, "malformed Time", field);
        }
    }
    /* nanos is an int32 that Go's time.Unix normalises into [0, 1e9) */
    int64_t ns = micro ? (int32_t)(uint32_t)nanos : 0;
    if (seconds == 0 && ns == 0)
        return 0;
    /* RFC 3339 years are four digits: 0001..9999; an int32 of nanos moves the
     * seconds by at most 2, so the first check also keeps the sum from overflowing */
    if (seconds < TIME_MIN_S - 3 || seconds > TIME_MAX_S + 3)
        return pb_fail(c, "time out of range", field);
    seconds += ns / NANOS_PER_S;
    ns %= NANOS_PER_S;
    if (ns < 0) {
        ns += NANOS_PER_S;
        seconds--;
    }
    if (seconds < TIME_MIN_S || seconds > TIME_MAX_S)
        return pb_fail(c, "time out of range", field);
    time_t t = (time_t)seconds;
    struct tm tm;
    char buf[40];
    if (!gmtime_r(&t, &tm) || strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm) == 0)
        return pb_fail(c, "time out of range", field);
    size_t n = strlen(buf);
    if (micro)
        snprintf(buf + n, sizeof buf - n, ".%06dZ", (int)(ns / 1000));
    else
        snprintf(buf + n, sizeof buf - n, "Z");
    *out = json_string(buf);
    return *out ? 0 : TRI_ENOMEM;
}

/* runtime.RawExtension is {1 raw bytes}; Go's JSON of it is raw itself, which
 * clients fill with the embedded object's JSON. Raw that is not JSON (an object
 * nested as protobuf) is refused rather than guessed at; an empty one is omitted. */
static int raw_extension(pctx_t *c, const rd_t *b, const char *field, json_t **out)
{
    rd_t r = *b, raw = {(const uint8_t *)"", 0};
    *out = NULL;
    while (r.n > 0) {
        uint64_t key;
        if (rd_varint(&r, &key) != 0)
            return pb_fail(c, "malformed RawExtension", field);
        if ((key >> 3) == 1 && (key & 7) == WT_LEN) {
            if (rd_bytes(&r, &raw) != 0)
                return pb_fail(c, "malformed RawExtension", field);
        } else if (rd_skip(&r, key & 7) != 0) {
            return pb_fail(c, "malformed RawExtension", field);
        }
    }
    if (raw.n == 0)
        return 0;
    char jerr[128] = "";
    *out = tri_json_decode((const char *)raw.p, raw.n, jerr, sizeof jerr);
    if (*out == NULL)
        return pb_fail(c, "RawExtension is not JSON", field);
    return 0;
}

/* resource.Quantity is a message {1 string}; Go's JSON is that string. Go refuses an
 * empty one (ParseQuantity("") fails), so do we. The text is not canonicalised:
 * clients send Quantity.String(), which already is. */
static int quantity_value(pctx_t *c, const rd_t *b, const char *field, json_t **out)
{
    rd_t r = *b, str = {(const uint8_t *)"", 0};
    *out = NULL;
    while (r.n > 0) {
        uint64_t key;
        if (rd_varint(&r, &key) != 0)
            return pb_fail(c, "malformed Quantity", field);
        unsigned wt = key & 7;
        int rc = (key >> 3) == 1 && wt == WT_LEN ? rd_bytes(&r, &str) : rd_skip(&r, wt);
        if (rc != 0)
            return pb_fail(c, "malformed Quantity", field);
    }
    if (str.n == 0)
        return pb_fail(c, "empty Quantity", field);
    *out = utf8_string(c, &str, field);
    return *out ? 0 : TRI_EINVAL;
}

static int int_or_string(pctx_t *c, const rd_t *b, const char *field, json_t **out)
{
    rd_t r = *b, str = {(const uint8_t *)"", 0};
    uint64_t type = 0, ival = 0;
    while (r.n > 0) {
        uint64_t key;
        if (rd_varint(&r, &key) != 0)
            return pb_fail(c, "malformed IntOrString", field);
        unsigned num = (unsigned)(key >> 3), wt = key & 7;
        int rc;
        if (num == 1 && wt == WT_VARINT)
            rc = rd_varint(&r, &type);
        else if (num == 2 && wt == WT_VARINT)
            rc = rd_varint(&r, &ival);
        else if (num == 3 && wt == WT_LEN)
            rc = rd_bytes(&r, &str);
        else
            rc = rd_skip(&r, wt);
        if (rc != 0)
            return pb_fail(c, "malformed IntOrString", field);
    }
    *out = type == 1 ? utf8_string(c, &str, field) : json_integer((int32_t)(uint32_t)ival);
    return *out ? 0 : TRI_EINVAL;
}

/* One map entry {1 key, 2 value} into obj; the value is a string, bytes or a
 * Quantity message as f->type says. */
static int map_entry(pctx_t *c, const rd_t *b, const tri_pb_field_t *f, json_t *obj)
{
    rd_t r = *b, key = {(const uint8_t *)"", 0}, val = {(const uint8_t *)"", 0};
    while (r.n > 0) {
        uint64_t k;
        if (rd_varint(&r, &k) != 0)
            return pb_fail(c, "malformed map entry", f->json);
        unsigned num = (unsigned)(k >> 3), wt = k & 7;
        int rc;
        if (num == 1 && wt == WT_LEN)
            rc = rd_bytes(&r, &key);
        else if (num == 2 && wt == WT_LEN)
            rc = rd_bytes(&r, &val);
        else
            rc = rd_skip(&r, wt);
        if (rc != 0)
            return pb_fail(c, "malformed map entry", f->json);
    }
    json_t *ks = utf8_string(c, &key, f->json);
    if (!ks)
        return TRI_EINVAL;
    json_t *v = NULL;
    int rc = 0;
    if (f->type == TRI_PB_MAP_BYTES)
        v = base64_string(&val);
    else if (f->type == TRI_PB_MAP_QUANTITY)
        rc = quantity_value(c, &val, f->json, &v);
    else
        v = utf8_string(c, &val, f->json);
    if (rc == 0)
        rc = v && json_object_set_new(obj, json_string_value(ks), v) == 0 ? 0 : TRI_EINVAL;
    json_decref(ks);
    return rc;
}

/* ---------- messages ---------- */

static int decode_message(pctx_t *c, const rd_t *b, const tri_pb_message_t *m, json_t *out,
                          int depth);

static const tri_pb_field_t *find_field(const tri_pb_message_t *m, unsigned num)
{
    for (size_t i = 0; i < m->nfields; i++) {
        if (m->fields[i].number == num)
            return &m->fields[i];
    }
    return NULL;
}

static bool is_varint_type(tri_pb_type_t t)
{
    return t == TRI_PB_BOOL || t == TRI_PB_INT32 || t == TRI_PB_INT64;
}

/* Puts v (stolen) into out[f->json]: appended for repeated fields. */
static int store(json_t *out, const tri_pb_field_t *f, json_t *v)
{
    if (!v)
        return TRI_ENOMEM;
    if (!(f->flags & TRI_PB_REPEATED))
        return json_object_set_new(out, f->json, v) == 0 ? 0 : TRI_ENOMEM;
    json_t *arr = json_object_get(out, f->json);
    if (!json_is_array(arr)) {
        arr = json_array();
        if (!arr || json_object_set_new(out, f->json, arr) != 0) {
            json_decref(v);
            return TRI_ENOMEM;
        }
    }
    return json_array_append_new(arr, v) == 0 ? 0 : TRI_ENOMEM;
}

static int varint_field(pctx_t *c, rd_t *r, const tri_pb_field_t *f, json_t *out)
{
    uint64_t v;
    if (rd_varint(r, &v) != 0)
        return pb_fail(c, "malformed varint", f->json);
    bool keep = (f->flags & (TRI_PB_KEEP_ZERO | TRI_PB_REPEATED)) || v != 0;
    if (!keep) {
        json_object_del(out, f->json);
        return 0;
    }
    json_t *j;
    if (f->type == TRI_PB_BOOL)
        j = json_boolean(v != 0);
    else if (f->type == TRI_PB_INT32)
        j = json_integer((int32_t)(uint32_t)v);
    else
        j = json_integer((json_int_t)(int64_t)v);
    return store(out, f, j);
}

/* A packed repeated scalar (proto3 style): one length-delimited run of varints. Go
 * accepts it although Kubernetes' proto2 files make clients send them unpacked. */
static int packed_field(pctx_t *c, rd_t *r, const tri_pb_field_t *f, json_t *out)
{
    rd_t run;
    if (rd_bytes(r, &run) != 0)
        return pb_fail(c, "length past the end of the message", f->json);
    while (run.n > 0) {
        int rc = varint_field(c, &run, f, out);
        if (rc != 0)
            return rc;
    }
    return 0;
}

static int len_field(pctx_t *c, const rd_t *b, const tri_pb_field_t *f, json_t *out, int depth)
{
    bool keep = (f->flags & (TRI_PB_KEEP_ZERO | TRI_PB_REPEATED)) || b->n > 0;
    json_t *v = NULL;
    int rc;
    switch (f->type) {
    case TRI_PB_STRING:
        if (!keep) {
            json_object_del(out, f->json);
            return 0;
        }
        v = utf8_string(c, b, f->json);
        return v ? store(out, f, v) : TRI_EINVAL;
    case TRI_PB_BYTES:
        if (!keep) {
            json_object_del(out, f->json);
            return 0;
        }
        return store(out, f, base64_string(b));
    case TRI_PB_MAP_STRING:
    case TRI_PB_MAP_BYTES:
    case TRI_PB_MAP_QUANTITY:
        v = json_object_get(out, f->json);
        if (!v) {
            v = json_object();
            if (!v || json_object_set_new(out, f->json, v) != 0)
                return TRI_ENOMEM;
        }
        return map_entry(c, b, f, v);
    case TRI_PB_TIME:
    case TRI_PB_MICROTIME:
        rc = time_value(c, b, f->json, f->type == TRI_PB_MICROTIME, &v);
        if (rc != 0 || !v)
            return rc;
        return store(out, f, v);
    case TRI_PB_RAW_EXTENSION:
        rc = raw_extension(c, b, f->json, &v);
        if (rc != 0 || !v)
            return rc;
        return store(out, f, v);
    case TRI_PB_INT_OR_STRING:
        rc = int_or_string(c, b, f->json, &v);
        return rc != 0 ? rc : store(out, f, v);
    case TRI_PB_QUANTITY:
        rc = quantity_value(c, b, f->json, &v);
        return rc != 0 ? rc : store(out, f, v);
    case TRI_PB_MESSAGE:
        if (f->flags & TRI_PB_INLINE)
            return decode_message(c, b, f->message, out, depth + 1);
        /* a message field given twice merges, as protobuf says */
        v = (f->flags & TRI_PB_REPEATED) ? NULL : json_incref(json_object_get(out, f->json));
        if (!v && !(v = json_object()))
            return TRI_ENOMEM;
        rc = decode_message(c, b, f->message, v, depth + 1);
        if (rc != 0) {
            json_decref(v);
            return rc;
        }
        return store(out, f, v);
    default:
        return pb_fail(c, "wire type mismatch", f->json);
    }
}

static int decode_message(pctx_t *c, const rd_t *b, const tri_pb_message_t *m, json_t *out,
                          int depth)
{
    if (depth > TRI_CODEC_MAX_DEPTH)
        return pb_fail(c, "nested too deep", m->name);
    rd_t r = *b;
    while (r.n > 0) {
        uint64_t key;
        if (rd_varint(&r, &key) != 0)
            return pb_fail(c, "malformed field key", m->name);
        unsigned wt = key & 7;
        uint64_t num = key >> 3;
        if (num == 0 || wt == WT_SGROUP || wt == WT_EGROUP || wt > WT_FIXED32)
            return pb_fail(c, "invalid field key", m->name);
        const tri_pb_field_t *f = num <= UINT32_MAX ? find_field(m, (unsigned)num) : NULL;
        if (!f) {
            if (rd_skip(&r, wt) != 0)
                return pb_fail(c, "malformed unknown field", m->name);
            continue;
        }
        int rc;
        if (is_varint_type(f->type) && wt == WT_LEN && (f->flags & TRI_PB_REPEATED)) {
            rc = packed_field(c, &r, f, out);
        } else if (is_varint_type(f->type)) {
            if (wt != WT_VARINT)
                return pb_fail(c, "wire type mismatch", f->json);
            rc = varint_field(c, &r, f, out);
        } else {
            rd_t sub;
            if (wt != WT_LEN)
                return pb_fail(c, "wire type mismatch", f->json);
            if (rd_bytes(&r, &sub) != 0)
                return pb_fail(c, "length past the end of the message", f->json);
            rc = len_field(c, &sub, f, out, depth);
        }
        if (rc != 0) {
            if (rc == TRI_ENOMEM)
                tri_codec_errf(c->err, c->errlen, "out of memory");
            return rc;
        }
    }
    return 0;
}

/* ---------- the envelope ---------- */

typedef struct envelope {
    rd_t api_version, kind, raw, encoding, content_type;
} envelope_t;

static int read_type_meta(const rd_t *b, envelope_t *e)
{
    rd_t r = *b;
    while (r.n > 0) {
        uint64_t key;
        if (rd_varint(&r, &key) != 0)
            return TRI_EINVAL;
        unsigned num = (unsigned)(key >> 3), wt = key & 7;
        int rc;
        if (num == 1 && wt == WT_LEN)
            rc = rd_bytes(&r, &e->api_version);
        else if (num == 2 && wt == WT_LEN)
            rc = rd_bytes(&r, &e->kind);
        else
            rc = rd_skip(&r, wt);
        if (rc != 0)
            return rc;
    }
    return 0;
}

static int read_envelope(const rd_t *b, envelope_t *e)
{
    rd_t r = *b, tm;
    while (r.n > 0) {
        uint64_t key;
        if (rd_varint(&r, &key) != 0)
            return TRI_EINVAL;
        unsigned num = (unsigned)(key >> 3), wt = key & 7;
        int rc;
        if (num >= 1 && num <= 4 && wt != WT_LEN)
            return TRI_EINVAL;
        switch (num) {
        case 1:
            rc = rd_bytes(&r, &tm);
            if (rc == 0)
                rc = read_type_meta(&tm, e);
            break;
        case 2:
            rc = rd_bytes(&r, &e->raw);
            break;
        case 3:
            rc = rd_bytes(&r, &e->encoding);
            break;
        case 4:
            rc = rd_bytes(&r, &e->content_type);
            break;
        default:
            rc = rd_skip(&r, wt);
        }
        if (rc != 0)
            return rc;
    }
    return 0;
}

static char *rd_strdup(const rd_t *b)
{
    if (memchr(b->p, '\0', b->n))
        return NULL;
    return strndup((const char *)b->p, b->n);
}

static json_t *decode_object(pctx_t *c, const envelope_t *e, const char *api_version,
                             const char *kind)
{
    const char *ct = (const char *)e->content_type.p;
    size_t ctn = e->content_type.n;
    if (ctn == 16 && memcmp(ct, "application/json", 16) == 0)
        return tri_json_decode((const char *)e->raw.p, e->raw.n, c->err, c->errlen);
    if (ctn != 0 &&
        !(ctn == strlen(PROTOBUF_CONTENT_TYPE) && memcmp(ct, PROTOBUF_CONTENT_TYPE, ctn) == 0)) {
        tri_codec_errf(c->err, c->errlen, "invalid protobuf body: unsupported contentType '%.*s'",
                       (int)(ctn > 64 ? 64 : ctn), ct);
        return NULL;
    }
    const tri_pb_message_t *m = tri_pb_schema_lookup(api_version, kind);
    if (!m) {
        tri_codec_errf(c->err, c->errlen,
                       "unsupported kind %s/%s in protobuf body: send JSON instead", api_version,
                       kind);
        return NULL;
    }
    json_t *obj = json_object();
    if (!obj)
        return NULL;
    if (decode_message(c, &e->raw, m, obj, 0) != 0) {
        json_decref(obj);
        return NULL;
    }
    return obj;
}

json_t *tri_protobuf_decode(const void *body, size_t len, char *err, size_t errlen)
{
    pctx_t c = {.err = err, .errlen = errlen};
    if (!body || len < K8S_PROTOBUF_MAGIC_LEN ||
        memcmp(body, K8S_PROTOBUF_MAGIC, K8S_PROTOBUF_MAGIC_LEN) != 0) {
        pb_fail(&c, "missing the k8s\\0 prefix", NULL);
        return NULL;
    }
    rd_t whole = {(const uint8_t *)body + K8S_PROTOBUF_MAGIC_LEN, len - K8S_PROTOBUF_MAGIC_LEN};
    envelope_t e = {0};
    static const uint8_t empty[1];
    e.api_version.p = e.kind.p = e.raw.p = e.encoding.p = e.content_type.p = empty;
    if (read_envelope(&whole, &e) != 0) {
        pb_fail(&c, "malformed runtime.Unknown envelope", NULL);
        return NULL;
    }
    if (e.encoding.n != 0) {
        pb_fail(&c, "contentEncoding is not supported", NULL);
        return NULL;
    }
    char *api_version = rd_strdup(&e.api_version), *kind = rd_strdup(&e.kind);
    json_t *obj = NULL;
    if (!api_version || !kind) {
        pb_fail(&c, "bad typeMeta", NULL);
    } else if (!kind[0]) {
        pb_fail(&c, "typeMeta has no kind", NULL);
    } else {
        obj = decode_object(&c, &e, api_version, kind);
    }
    if (obj && (json_object_set_new(obj, "apiVersion", json_string(api_version)) != 0 ||
                json_object_set_new(obj, "kind", json_string(kind)) != 0)) {
        pb_fail(&c, "typeMeta is not valid UTF-8", NULL);
        json_decref(obj);
        obj = NULL;
    }
    free(api_version);
    free(kind);
    return obj;
}

bool tri_protobuf_supported(const char *api_version, const char *kind)
{
    return tri_pb_schema_lookup(api_version, kind) != NULL;
}
