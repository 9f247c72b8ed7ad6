/* The audit log as triarchd uses it: settings and policy (refused at start with a
 * message naming the setting, so a bad policy never runs half-applied), then
 * events formatted on the caller's thread and queued to the writer thread
 * (writer.c). Dropped events are counted for /metrics and warned about at most
 * every WARN_EVERY_MS. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit_internal.h"
#include "triarch/audit.h"
#include "triarch/errors.h"
#include "triarch/log.h"

#define DEFAULT_MAX_SIZE (100ull * 1024 * 1024) /* kube-apiserver / CIS 1.2.19: 100 MB */
#define DEFAULT_MAX_AGE_DAYS 30                 /* CIS 1.2.17 */
#define DEFAULT_MAX_BACKUPS 10                  /* CIS 1.2.18 */
#define DEFAULT_QUEUE_EVENTS 10000              /* kube-apiserver --audit-log-batch-buffer-size */
#define DEFAULT_QUEUE_BYTES (64u * 1024 * 1024)
#define MAX_POLICY_BYTES (1024 * 1024)
#define WARN_EVERY_MS 10000

struct tri_audit {
    tri_audit_policy_t *policy;
    char *path;
    tri_audit_writer_opts_t wopts;
    tri_audit_writer_t *w;
    uint64_t events, dropped; /* the caller's thread only */
    uint64_t last_warn_ms, dropped_at_warn;
    tri_buf_t line;    /* reused for every event */
    uint8_t rnd[4096]; /* random bytes for audit IDs, used from rnd_off */
    size_t rnd_off;
};

static int parse_level(const char *s, tri_audit_level_t *out)
{
    static const char *const names[] = {"None", "Metadata", "Request"};
    for (int i = 0; i < 3; i++) {
        if (strcmp(s, names[i]) == 0) {
            *out = (tri_audit_level_t)i;
            return 0;
        }
    }
    return TRI_EINVAL;
}

static int load_policy(const char *path, tri_audit_policy_t **out, char *err, size_t errlen)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        snprintf(err, errlen, "audit-policy-file: cannot open %s: %s", path, strerror(errno));
        return TRI_EINVAL;
    }
    char *text = malloc(MAX_POLICY_BYTES + 1);
    size_t n = text ? fread(text, 1, MAX_POLICY_BYTES + 1, f) : 0;
    fclose(f);
    if (text == NULL || n > MAX_POLICY_BYTES) {
        free(text);
        snprintf(err, errlen, "audit-policy-file: %s is over %d bytes", path, MAX_POLICY_BYTES);
        return TRI_EINVAL;
    }
    char perr[400] = "";
    int rc = tri_audit_policy_parse(text, n, out, perr, sizeof perr);
    free(text);
    if (rc != 0)
        snprintf(err, errlen, "audit-policy-file: %s: %s", path, perr);
    return rc;
}

static int make_policy(const tri_audit_config_t *cfg, tri_audit_policy_t **out, char *err,
                       size_t errlen)
{
    if (cfg->policy_file && cfg->level) {
        snprintf(err, errlen,
                 "audit-level and audit-policy-file cannot both be set: the "
                 "policy's rules decide the level");
        return TRI_EINVAL;
    }
    if (cfg->policy_file)
        return load_policy(cfg->policy_file, out, err, errlen);
    tri_audit_level_t level = TRI_AUDIT_METADATA;
    if (cfg->level && parse_level(cfg->level, &level) != 0) {
        snprintf(err, errlen, "audit-level must be None, Metadata or Request, got \"%s\"",
                 cfg->level);
        return TRI_EINVAL;
    }
    *out = tri_audit_policy_default(level);
    if (*out == NULL) {
        snprintf(err, errlen, "out of memory");
        return TRI_ENOMEM;
    }
    return 0;
}

int tri_audit_new(const tri_audit_config_t *cfg, tri_audit_t **out, char *err, size_t errlen)
{
    *out = NULL;
    uint64_t max_size = DEFAULT_MAX_SIZE;
    if (cfg->max_size && tri_audit_parse_size(cfg->max_size, &max_size) != 0) {
        snprintf(err, errlen,
                 "audit-log-maxsize must be a positive number of megabytes (\"100\", "
                 "\"0.5\") or a size with a unit (\"64KiB\", \"10MB\"), got \"%s\"",
                 cfg->max_size);
        return TRI_EINVAL;
    }
    if (cfg->path == NULL || cfg->path[0] == '\0') {
        snprintf(err, errlen,
                 "audit-log-path must name a file or \"-\" (stdout); to record "
                 "nothing, set audit-level: None");
        return TRI_EINVAL;
    }
    tri_audit_t *a = calloc(1, sizeof *a);
    if (a == NULL || (a->path = strdup(cfg->path)) == NULL) {
        free(a);
        snprintf(err, errlen, "out of memory");
        return TRI_ENOMEM;
    }
    int rc = make_policy(cfg, &a->policy, err, errlen);
    if (rc != 0) {
        free(a->path);
        free(a);
        return rc;
    }
    a->rnd_off = sizeof a->rnd;
    a->wopts = (tri_audit_writer_opts_t){
        .path = a->path,
        .max_size = max_size,
        .max_age_days = cfg->max_age_days ? cfg->max_age_days : DEFAULT_MAX_AGE_DAYS,
        .max_backups = cfg->max_backups ? cfg->max_backups : DEFAULT_MAX_BACKUPS,
        .queue_events = cfg->queue_events ? cfg->queue_events : DEFAULT_QUEUE_EVENTS,
        .queue_bytes = cfg->queue_bytes ? cfg->queue_bytes : DEFAULT_QUEUE_BYTES,
    };
    *out = a;
    return 0;
}

int tri_audit_start(tri_audit_t *a, char *err, size_t errlen)
{
    if (a->w != NULL || tri_audit_policy_max_level(a->policy) == TRI_AUDIT_NONE)
        return 0;
    int rc = tri_audit_writer_open(&a->wopts, &a->w, err, errlen);
    if (rc != 0)
        return rc;
    tri_info("audit", "audit log open",
             "path=\"%s\" max_size_bytes=%llu max_age_days=%u "
             "max_backups=%u rules=%zu",
             a->path, (unsigned long long)a->wopts.max_size, a->wopts.max_age_days,
             a->wopts.max_backups, tri_audit_policy_rules(a->policy));
    return 0;
}

const tri_audit_policy_t *tri_audit_get_policy(const tri_audit_t *a)
{
    return a->policy;
}

bool tri_audit_enabled(const tri_audit_t *a)
{
    return a != NULL && a->w != NULL;
}

bool tri_audit_wants_bodies(const tri_audit_t *a)
{
    return tri_audit_enabled(a) && tri_audit_policy_max_level(a->policy) >= TRI_AUDIT_REQUEST;
}

void tri_audit_new_id(tri_audit_t *a, char out[37])
{
    if (a->rnd_off + 16 > sizeof a->rnd) {
        if (tri_random_bytes(a->rnd, sizeof a->rnd) != 0) {
            tri_uuid_v4(out);
            return;
        }
        a->rnd_off = 0;
    }
    uint8_t *b = a->rnd + a->rnd_off;
    a->rnd_off += 16;
    b[6] = (uint8_t)((b[6] & 0x0f) | 0x40); /* RFC 4122 version 4, variant 1 */
    b[8] = (uint8_t)((b[8] & 0x3f) | 0x80);
    static const char hex[] = "0123456789abcdef";
    size_t o = 0;
    for (int i = 0; i < 16; i++) {
        if (i == 4 || i == 6 || i == 8 || i == 10)
            out[o++] = '-';
        out[o++] = hex[b[i] >> 4];
        out[o++] = hex[b[i] & 15];
    }
    out[o] = '\0';
}

static void warn_dropped(tri_audit_t *a)
{
    uint64_t now = tri_now_ms();
    if (a->last_warn_ms != 0 && now - a->last_warn_ms < WARN_EVERY_MS)
        return;
    tri_warn("audit", "audit queue full (the disk is not keeping up): events dropped",
             "path=\"%s\" dropped=%llu dropped_total=%llu", a->path,
             (unsigned long long)(a->dropped - a->dropped_at_warn), (unsigned long long)a->dropped);
    a->last_warn_ms = now;
    a->dropped_at_warn = a->dropped;
}

int tri_audit_emit(tri_audit_t *a, const tri_audit_event_t *ev)
{
    if (!tri_audit_enabled(a) || ev->level == TRI_AUDIT_NONE)
        return 0;
    tri_buf_reset(&a->line);
    int rc = tri_audit_event_format(ev, &a->line);
    if (rc == 0)
        rc = tri_audit_writer_push(a->w, a->line.data, a->line.len);
    if (rc != 0) {
        a->dropped++;
        warn_dropped(a);
        return TRI_EUNAVAIL;
    }
    a->events++;
    return 0;
}

void tri_audit_get_stats(const tri_audit_t *a, tri_audit_stats_t *st)
{
    memset(st, 0, sizeof *st);
    if (a == NULL)
        return;
    st->events = a->events;
    st->dropped = a->dropped;
    if (a->w)
        tri_audit_writer_stats(a->w, &st->written, &st->write_errors, &st->rotations);
}

void tri_audit_free(tri_audit_t *a)
{
    if (a == NULL)
        return;
    tri_audit_writer_close(a->w);
    if (a->dropped > a->dropped_at_warn)
        tri_warn("audit", "audit events were dropped", "dropped_total=%llu",
                 (unsigned long long)a->dropped);
    tri_audit_policy_free(a->policy);
    tri_buf_free(&a->line);
    free(a->path);
    free(a);
}
