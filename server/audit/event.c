/* Audit events: what a request is about (Kubernetes' RequestInfoFactory rules, from
 * method, path and query alone, so the record does not depend on which handler
 * answered) and the audit.k8s.io/v1 Event line itself. The line is written by hand
 * rather than through a json_t tree: it is built once per request on the event
 * loop, and strings from the client (URI, user agent) are escaped here with invalid
 * UTF-8 replaced, so every line parses as JSON. */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "triarch/audit.h"
#include "triarch/errors.h"

/* ---------- request info ---------- */

typedef struct parts {
    const char *p[8];
    size_t n[8];
    size_t count;
} parts_t;

static void split_path(const char *path, size_t len, parts_t *out)
{
    out->count = 0;
    size_t i = 0;
    while (i < len && out->count < 8) {
        while (i < len && path[i] == '/')
            i++;
        size_t j = i;
        while (j < len && path[j] != '/')
            j++;
        if (j > i) {
            out->p[out->count] = path + i;
            out->n[out->count++] = j - i;
        }
        i = j;
    }
}

static bool part_is(const parts_t *pt, size_t i, const char *lit)
{
    return i < pt->count && pt->n[i] == strlen(lit) && memcmp(pt->p[i], lit, pt->n[i]) == 0;
}

static void copy_part(char *dst, size_t cap, const parts_t *pt, size_t i)
{
    size_t n = pt->n[i] < cap - 1 ? pt->n[i] : cap - 1;
    memcpy(dst, pt->p[i], n);
    dst[n] = '\0';
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c = (char)tolower((unsigned char)c);
    return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* The percent-decoded value of query parameter `key` into out; false if absent. */
static bool query_value(const char *q, size_t qlen, const char *key, char *out, size_t cap)
{
    size_t kl = strlen(key), i = 0;
    while (i < qlen) {
        const char *amp = memchr(q + i, '&', qlen - i);
        size_t end = amp ? (size_t)(amp - q) : qlen;
        if (end - i > kl && memcmp(q + i, key, kl) == 0 && q[i + kl] == '=') {
            size_t o = 0;
            for (size_t k = i + kl + 1; k < end && o + 1 < cap; k++) {
                if (q[k] == '%' && k + 2 < end && hexval(q[k + 1]) >= 0 && hexval(q[k + 2]) >= 0) {
                    out[o++] = (char)(hexval(q[k + 1]) * 16 + hexval(q[k + 2]));
                    k += 2;
                } else {
                    out[o++] = q[k] == '+' ? ' ' : q[k];
                }
            }
            out[o] = '\0';
            return true;
        }
        i = end + 1;
    }
    return false;
}

static bool param_true(const char *v)
{
    return !strcmp(v, "1") || !strcmp(v, "t") || !strcmp(v, "T") || !strcmp(v, "true") ||
           !strcmp(v, "True") || !strcmp(v, "TRUE");
}

static const char *verb_of_method(const char *m, size_t n)
{
    static const struct {
        const char *method, *verb;
    } map[] = {{"POST", "create"}, {"GET", "get"},     {"HEAD", "get"},
               {"PUT", "update"},  {"PATCH", "patch"}, {"DELETE", "delete"}};
    for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
        if (strlen(map[i].method) == n && memcmp(map[i].method, m, n) == 0)
            return map[i].verb;
    return "";
}

/* Lists and watches: the name a `metadata.name=x` field selector pins, as apiserver. */
static void name_from_selector(const char *q, size_t qlen, tri_audit_reqinfo_t *out)
{
    char fs[300];
    if (!query_value(q, qlen, "fieldSelector", fs, sizeof fs))
        return;
    const char *v = NULL;
    if (!strncmp(fs, "metadata.name==", 15))
        v = fs + 15;
    else if (!strncmp(fs, "metadata.name=", 14))
        v = fs + 14;
    if (v && v[0] && !strchr(v, ',') && !strchr(v, '/') && strcmp(v, ".") && strcmp(v, ".."))
        snprintf(out->name, sizeof out->name, "%.*s", (int)sizeof out->name - 1, v);
}

static void resource_info(const char *method, size_t mlen, const parts_t *all, const char *q,
                          size_t qlen, tri_audit_reqinfo_t *out)
{
    size_t i = 1;
    if (part_is(all, 0, "apis")) {
        if (all->count < 4)
            return;
        copy_part(out->api_group, sizeof out->api_group, all, i++);
    }
    out->resource_request = true;
    copy_part(out->api_version, sizeof out->api_version, all, i++);
    bool special = part_is(all, i, "watch") || part_is(all, i, "proxy");
    if (special) {
        copy_part(out->verb, sizeof out->verb, all, i++);
    } else {
        snprintf(out->verb, sizeof out->verb, "%s", verb_of_method(method, mlen));
    }
    if (part_is(all, i, "namespaces") && i + 1 < all->count) {
        copy_part(out->namespace_, sizeof out->namespace_, all, i + 1);
        if (i + 2 < all->count && !part_is(all, i + 2, "status") &&
            !part_is(all, i + 2, "finalize"))
            i += 2;
    }
    size_t left = all->count - (i < all->count ? i : all->count);
    if (left >= 3 && strcmp(out->verb, "proxy") != 0)
        copy_part(out->subresource, sizeof out->subresource, all, i + 2);
    if (left >= 2)
        copy_part(out->name, sizeof out->name, all, i + 1);
    if (left >= 1)
        copy_part(out->resource, sizeof out->resource, all, i);
    char w[16];
    bool watch = query_value(q, qlen, "watch", w, sizeof w) && param_true(w);
    if (!strcmp(out->verb, "get") && (out->name[0] == '\0' || watch)) {
        snprintf(out->verb, sizeof out->verb, "%s", watch ? "watch" : "list");
        if (out->name[0] == '\0')
            name_from_selector(q, qlen, out);
    }
    if (!strcmp(out->verb, "delete") && out->name[0] == '\0')
        snprintf(out->verb, sizeof out->verb, "deletecollection");
}

void tri_audit_reqinfo_parse(const char *method, size_t mlen, const char *path, size_t plen,
                             tri_audit_reqinfo_t *out)
{
    memset(out, 0, sizeof *out);
    const char *qm = memchr(path, '?', plen);
    size_t pl = qm ? (size_t)(qm - path) : plen;
    const char *q = qm ? qm + 1 : "";
    size_t qlen = qm ? plen - pl - 1 : 0;
    size_t cp = pl < sizeof out->path - 1 ? pl : sizeof out->path - 1;
    memcpy(out->path, path, cp);
    out->path[cp] = '\0';
    parts_t all;
    split_path(path, pl, &all);
    if (all.count >= 3 && (part_is(&all, 0, "api") || part_is(&all, 0, "apis")))
        resource_info(method, mlen, &all, q, qlen, out);
    if (!out->resource_request) {
        memset(out->verb, 0, sizeof out->verb);
        for (size_t i = 0; i < mlen && i < sizeof out->verb - 1; i++)
            out->verb[i] = (char)tolower((unsigned char)method[i]);
    }
}

/* ---------- JSON ---------- */

/* Constant pieces: no format string to interpret (this runs for every request). */
#define LIT(b, s) tri_buf_append((b), (s), sizeof(s) - 1)

/* Decimal digits of v, zero-padded to at least `width`. */
static void put_uint(tri_buf_t *b, uint64_t v, int width)
{
    char d[24];
    int n = 0;
    do {
        d[sizeof d - 1 - n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v > 0 || n < width);
    tri_buf_append(b, d + sizeof d - n, (size_t)n);
}

/* Length of the valid UTF-8 sequence at s (at most n bytes), 0 if invalid. */
static size_t utf8_len(const unsigned char *s, size_t n)
{
    size_t len;
    unsigned min;
    unsigned cp;
    if (s[0] < 0x80)
        return 1;
    if ((s[0] & 0xe0) == 0xc0) {
        len = 2, min = 0x80, cp = s[0] & 0x1f;
    } else if ((s[0] & 0xf0) == 0xe0) {
        len = 3, min = 0x800, cp = s[0] & 0x0f;
    } else if ((s[0] & 0xf8) == 0xf0) {
        len = 4, min = 0x10000, cp = s[0] & 0x07;
    } else {
        return 0;
    }
    if (n < len)
        return 0;
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xc0) != 0x80)
            return 0;
        cp = (cp << 6) | (s[i] & 0x3f);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
        return 0;
    return len;
}

static void put_str(tri_buf_t *b, const char *s)
{
    const unsigned char *p = (const unsigned char *)(s ? s : "");
    size_t n = strlen((const char *)p);
    tri_buf_append(b, "\"", 1);
    size_t i = 0;
    while (i < n) {
        size_t run = i;
        while (run < n && p[run] >= 0x20 && p[run] < 0x80 && p[run] != '"' && p[run] != '\\')
            run++;
        tri_buf_append(b, p + i, run - i);
        i = run;
        if (i == n)
            break;
        unsigned char c = p[i];
        if (c == '"' || c == '\\') {
            char esc[2] = {'\\', (char)c};
            tri_buf_append(b, esc, 2);
            i++;
        } else if (c < 0x20) {
            tri_buf_appendf(b, "\\u%04x", c);
            i++;
        } else {
            size_t l = utf8_len(p + i, n - i);
            if (l == 0) {
                tri_buf_append(b, "\\ufffd", 6);
                i++;
            } else {
                tri_buf_append(b, p + i, l);
                i += l;
            }
        }
    }
    tri_buf_append(b, "\"", 1);
}

static void put_kv(tri_buf_t *b, const char *key, const char *value)
{
    LIT(b, "\"");
    tri_buf_append(b, key, strlen(key));
    LIT(b, "\":");
    put_str(b, value);
}

/* ,"key":"2006-01-02T15:04:05.000000Z" */
static void put_time(tri_buf_t *b, const char *key, int64_t us)
{
    time_t s = (time_t)(us / 1000000);
    struct tm tm;
    gmtime_r(&s, &tm);
    LIT(b, ",\"");
    tri_buf_append(b, key, strlen(key));
    LIT(b, "\":\"");
    put_uint(b, (uint64_t)tm.tm_year + 1900, 4);
    LIT(b, "-");
    put_uint(b, (uint64_t)tm.tm_mon + 1, 2);
    LIT(b, "-");
    put_uint(b, (uint64_t)tm.tm_mday, 2);
    LIT(b, "T");
    put_uint(b, (uint64_t)tm.tm_hour, 2);
    LIT(b, ":");
    put_uint(b, (uint64_t)tm.tm_min, 2);
    LIT(b, ":");
    put_uint(b, (uint64_t)tm.tm_sec, 2);
    LIT(b, ".");
    put_uint(b, (uint64_t)(us % 1000000), 6);
    LIT(b, "Z\"");
}

static void put_user(tri_buf_t *b, const tri_user_t *u)
{
    if (u == NULL || u->name[0] == '\0') {
        LIT(b, ",\"user\":{\"username\":\"system:anonymous\","
               "\"groups\":[\"system:unauthenticated\"]}");
        return;
    }
    LIT(b, ",\"user\":{");
    put_kv(b, "username", u->name);
    if (u->uid[0]) {
        tri_buf_append(b, ",", 1);
        put_kv(b, "uid", u->uid);
    }
    LIT(b, ",\"groups\":[");
    for (size_t i = 0; i < u->n_groups && i < TRI_USER_MAX_GROUPS; i++) {
        if (i)
            tri_buf_append(b, ",", 1);
        put_str(b, u->groups[i]);
    }
    tri_buf_append(b, "]", 1);
    if (u->pod_name[0] || u->node_name[0]) {
        LIT(b, ",\"extra\":{");
        if (u->pod_name[0]) {
            LIT(b, "\"authentication.kubernetes.io/pod-name\":[");
            put_str(b, u->pod_name);
            tri_buf_append(b, "]", 1);
        }
        if (u->node_name[0]) {
            tri_buf_appendf(b, "%s\"authentication.kubernetes.io/node-name\":[",
                            u->pod_name[0] ? "," : "");
            put_str(b, u->node_name);
            tri_buf_append(b, "]", 1);
        }
        tri_buf_append(b, "}", 1);
    }
    tri_buf_append(b, "}", 1);
}

static void put_object_ref(tri_buf_t *b, const tri_audit_reqinfo_t *in)
{
    LIT(b, ",\"objectRef\":{");
    put_kv(b, "resource", in->resource);
    static const struct {
        const char *key;
        size_t off;
    } opt[] = {
        {"namespace", offsetof(tri_audit_reqinfo_t, namespace_)},
        {"name", offsetof(tri_audit_reqinfo_t, name)},
        {"apiGroup", offsetof(tri_audit_reqinfo_t, api_group)},
        {"apiVersion", offsetof(tri_audit_reqinfo_t, api_version)},
        {"subresource", offsetof(tri_audit_reqinfo_t, subresource)},
    };
    for (size_t i = 0; i < sizeof opt / sizeof opt[0]; i++) {
        const char *v = (const char *)in + opt[i].off;
        if (v[0] == '\0')
            continue;
        tri_buf_append(b, ",", 1);
        put_kv(b, opt[i].key, v);
    }
    tri_buf_append(b, "}", 1);
}

static void put_status(tri_buf_t *b, const tri_audit_event_t *ev)
{
    LIT(b, ",\"responseStatus\":{\"metadata\":{}");
    if (ev->code >= 400) {
        LIT(b, ",\"status\":\"Failure\"");
        if (ev->message && ev->message[0]) {
            tri_buf_append(b, ",", 1);
            put_kv(b, "message", ev->message);
        }
        if (ev->reason && ev->reason[0]) {
            tri_buf_append(b, ",", 1);
            put_kv(b, "reason", ev->reason);
        }
    }
    LIT(b, ",\"code\":");
    put_uint(b, ev->code > 0 ? (uint64_t)ev->code : 0, 1);
    LIT(b, "}");
}

int tri_audit_event_format(const tri_audit_event_t *ev, tri_buf_t *b)
{
    size_t start = b->len;
    const tri_audit_reqinfo_t *in = ev->info;
    LIT(b, "{\"kind\":\"Event\",\"apiVersion\":\"audit.k8s.io/v1\",\"level\":\"");
    const char *lv = tri_audit_level_name(ev->level);
    tri_buf_append(b, lv, strlen(lv));
    LIT(b, "\",\"auditID\":");
    put_str(b, ev->audit_id);
    LIT(b, ",\"stage\":\"");
    const char *sn = tri_audit_stage_name(ev->stage);
    tri_buf_append(b, sn, strlen(sn));
    LIT(b, "\",");
    put_kv(b, "requestURI", ev->request_uri);
    tri_buf_append(b, ",", 1);
    put_kv(b, "verb", in->verb);
    put_user(b, ev->user);
    LIT(b, ",\"sourceIPs\":[");
    if (ev->source_ip && ev->source_ip[0])
        put_str(b, ev->source_ip);
    tri_buf_append(b, "]", 1);
    if (ev->user_agent) {
        tri_buf_append(b, ",", 1);
        put_kv(b, "userAgent", ev->user_agent);
    }
    if (in->resource_request)
        put_object_ref(b, in);
    if (ev->stage != TRI_AUDIT_STAGE_REQUEST_RECEIVED)
        put_status(b, ev);
    if (ev->level >= TRI_AUDIT_REQUEST && ev->request_object != NULL) {
        char *js = json_dumps(ev->request_object, JSON_COMPACT | JSON_ENCODE_ANY);
        if (js != NULL) {
            LIT(b, ",\"requestObject\":");
            tri_buf_append(b, js, strlen(js));
            free(js);
        }
    }
    put_time(b, "requestReceivedTimestamp", ev->received_us);
    put_time(b, "stageTimestamp", ev->stage_us);
    double lat = ev->latency_ms > 0 && ev->latency_ms < 1e12 ? ev->latency_ms : 0;
    uint64_t lat_us = (uint64_t)(lat * 1000.0 + 0.5);
    LIT(b, ",\"annotations\":{\"triarch.io/latency-ms\":\"");
    put_uint(b, lat_us / 1000, 1);
    LIT(b, ".");
    put_uint(b, lat_us % 1000, 3);
    LIT(b, "\"}}\n");
    /* tri_buf_* fail only without memory: then no half line is left behind */
    if (b->data == NULL || b->len == start || b->data[b->len - 1] != '\n') {
        b->len = start;
        return TRI_ENOMEM;
    }
    return 0;
}

/* ---------- settings ---------- */

int tri_audit_parse_size(const char *s, uint64_t *bytes)
{
    static const struct {
        const char *unit;
        double mult;
    } units[] = {
        {"", 1024.0 * 1024},  {"K", 1024.0},         {"KB", 1024.0},         {"KiB", 1024.0},
        {"M", 1024.0 * 1024}, {"MB", 1024.0 * 1024}, {"MiB", 1024.0 * 1024}, {"G", 1073741824.0},
        {"GB", 1073741824.0}, {"GiB", 1073741824.0},
    };
    if (s == NULL || !isdigit((unsigned char)s[0]))
        return TRI_EINVAL;
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno != 0 || !isfinite(v) || v <= 0)
        return TRI_EINVAL;
    while (*end == ' ')
        end++;
    for (size_t i = 0; i < sizeof units / sizeof units[0]; i++) {
        if (strcmp(end, units[i].unit) != 0)
            continue;
        double b = v * units[i].mult;
        if (b < 1 || b > 1e18)
            return TRI_EINVAL;
        *bytes = (uint64_t)b;
        return 0;
    }
    return TRI_EINVAL;
}
