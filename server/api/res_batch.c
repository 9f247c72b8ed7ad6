/* batch/v1 resources: Jobs and CronJobs.
 *
 * Jobs get Kubernetes' defaults (completions and parallelism 1, backoffLimit 6,
 * completionMode NonIndexed, suspend false, podReplacementPolicy) and, unless
 * spec.manualSelector is true, the generated selector: the pod template is
 * labelled with the job's uid and name (batch.kubernetes.io/controller-uid and
 * job-name, plus their legacy unprefixed twins) and the selector matches the uid,
 * so a Job's pods are its own even when another Job reuses its name. CronJobs
 * get their defaults and a schedule checked as a standard 5-field cron line (or
 * an @descriptor), as the cron library Kubernetes uses parses it. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "resources.h"
#include "triarch/codec.h"

/* Kubernetes' batch/v1 defaults (pkg/apis/batch/v1/defaults.go). */
#define DEFAULT_BACKOFF_LIMIT 6
#define DEFAULT_SUCCESSFUL_HISTORY 3
#define DEFAULT_FAILED_HISTORY 1
/* A CronJob's name leaves room for the 11-character suffix of its Jobs' names. */
#define MAX_CRONJOB_NAME 52

#define LABEL_CONTROLLER_UID "batch.kubernetes.io/controller-uid"
#define LABEL_JOB_NAME "batch.kubernetes.io/job-name"
#define LEGACY_CONTROLLER_UID "controller-uid"
#define LEGACY_JOB_NAME "job-name"

static const char *const restart_job[] = {"OnFailure", "Never", NULL};

static const char *str_at(const json_t *o, const char *k)
{
    return json_string_value(json_object_get(o, k));
}

static void selector_cell(const json_t *sel, json_t *cells)
{
    tri_buf_t b = {0};
    tri_labelsel_format(sel, &b);
    json_array_append_new(cells, b.len ? json_stringn(b.data, b.len) : json_string("<none>"));
    tri_buf_free(&b);
}

#define SELECTOR_COLUMN                                                                            \
    {                                                                                              \
        "Selector", "string", "", "A label query over pods that should match the pod count.", 1    \
    }

/* ---------- jobs ---------- */

static const tri_column_t job_columns[] = {
    TRI_NAME_COLUMN,
    {"Status", "string", "", "Status of the job.", 0},
    {"Completions", "string", "", "The number of pods which reached phase Succeeded.", 0},
    {"Duration", "string", "", "Time required to complete the job.", 0},
    TRI_AGE_COLUMN,
    TRI_CONTAINERS_COLUMN,
    TRI_IMAGES_COLUMN,
    SELECTOR_COLUMN,
};

static bool has_condition(const json_t *status, const char *type)
{
    size_t i;
    json_t *c;
    json_array_foreach(json_object_get(status, "conditions"), i, c)
    {
        const char *t = str_at(c, "type"), *s = str_at(c, "status");
        if (t && strcmp(t, type) == 0)
            return s && strcmp(s, "True") == 0;
    }
    return false;
}

static const char *job_state(const json_t *obj)
{
    const json_t *status = json_object_get(obj, "status");
    if (has_condition(status, "Complete"))
        return "Complete";
    if (has_condition(status, "Failed"))
        return "Failed";
    if (json_object_get(json_object_get(obj, "metadata"), "deletionTimestamp"))
        return "Terminating";
    if (has_condition(status, "Suspended"))
        return "Suspended";
    if (has_condition(status, "FailureTarget"))
        return "FailureTarget";
    return "Running";
}

static json_t *job_cells(const json_t *obj)
{
    const json_t *spec = json_object_get(obj, "spec");
    const json_t *status = json_object_get(obj, "status");
    long long succeeded = json_integer_value(json_object_get(status, "succeeded"));
    json_t *completions = json_object_get(spec, "completions");
    long long parallelism = json_integer_value(json_object_get(spec, "parallelism"));
    char comp[64], dur[32] = "";
    if (json_is_integer(completions))
        snprintf(comp, sizeof comp, "%lld/%lld", succeeded,
                 (long long)json_integer_value(completions));
    else if (parallelism > 1)
        snprintf(comp, sizeof comp, "%lld/1 of %lld", succeeded, parallelism);
    else
        snprintf(comp, sizeof comp, "%lld/1", succeeded);
    int64_t start, end;
    if (tri_time_parse(str_at(status, "startTime"), &start)) {
        if (!tri_time_parse(str_at(status, "completionTime"), &end))
            end = (int64_t)time(NULL);
        tri_duration_format((long long)(end - start), dur, sizeof dur);
    }
    json_t *cells = tri_row_new(obj);
    tri_row_extend(cells, json_pack("[s, s, s]", job_state(obj), comp, dur));
    tri_row_add_age(cells, obj);
    tri_row_add_containers(cells, json_object_get(json_object_get(spec, "template"), "spec"));
    selector_cell(json_object_get(spec, "selector"), cells);
    return cells;
}

static void set_label_once(json_t *labels, const char *key, const char *value)
{
    if (json_object_get(labels, key) == NULL)
        json_object_set_new(labels, key, json_string(value));
}

/* generateSelector: the pod template carries the job's name and uid, the selector
 * the uid (a user-set conflicting value is left for validation to refuse). */
static void job_generate_selector(json_t *obj)
{
    json_t *meta = json_object_get(obj, "metadata");
    const char *name = str_at(meta, "name"), *uid = str_at(meta, "uid");
    if (name == NULL || uid == NULL)
        return;
    json_t *spec = tri_field_child(obj, "spec");
    json_t *labels =
        tri_field_child(tri_field_child(tri_field_child(spec, "template"), "metadata"), "labels");
    set_label_once(labels, LEGACY_JOB_NAME, name);
    set_label_once(labels, LABEL_JOB_NAME, name);
    set_label_once(labels, LEGACY_CONTROLLER_UID, uid);
    set_label_once(labels, LABEL_CONTROLLER_UID, uid);
    json_t *sel = tri_field_child(spec, "selector");
    set_label_once(tri_field_child(sel, "matchLabels"), LABEL_CONTROLLER_UID, uid);
}

/* SetDefaults_Job gives a Job without labels its template's labels. */
static void job_default_labels(json_t *obj)
{
    json_t *meta = json_object_get(obj, "metadata");
    json_t *tlabels = json_object_get(
        json_object_get(json_object_get(json_object_get(obj, "spec"), "template"), "metadata"),
        "labels");
    if (json_object_size(json_object_get(meta, "labels")) == 0 && json_object_size(tlabels) > 0)
        json_object_set_new(meta, "labels", json_deep_copy(tlabels));
}

static void job_spec_default(json_t *spec)
{
    json_t *completions = json_object_get(spec, "completions");
    json_t *parallelism = json_object_get(spec, "parallelism");
    if ((completions == NULL || json_is_null(completions)) &&
        (parallelism == NULL || json_is_null(parallelism)))
        json_object_set_new(spec, "completions", json_integer(1));
    tri_field_default(spec, "parallelism", json_integer(1));
    tri_field_default(spec, "backoffLimit", json_integer(DEFAULT_BACKOFF_LIMIT));
    tri_field_default(spec, "completionMode", json_string("NonIndexed"));
    tri_field_default(spec, "suspend", json_false());
    bool failure_policy = json_is_object(json_object_get(spec, "podFailurePolicy"));
    tri_field_default(spec, "podReplacementPolicy",
                      json_string(failure_policy ? "Failed" : "TerminatingOrFailed"));
    tri_podtemplate_default(json_object_get(spec, "template"));
}

static void job_prepare(json_t *obj, const json_t *old)
{
    json_t *spec = tri_field_child(obj, "spec");
    job_spec_default(spec);
    if (old == NULL) {
        job_default_labels(obj);
        if (!json_is_true(json_object_get(spec, "manualSelector")))
            job_generate_selector(obj);
        job_default_labels(obj);
        json_object_set_new(obj, "status", json_object());
    }
}

/* validateGeneratedSelector: the generated labels must name this very job. */
static void validate_generated_selector(const json_t *obj, tri_status_t *st)
{
    const json_t *meta = json_object_get(obj, "metadata");
    const json_t *spec = json_object_get(obj, "spec");
    const char *uid = str_at(meta, "uid");
    if (uid == NULL)
        return;
    const json_t *sel = json_object_get(spec, "selector");
    const char *got = str_at(json_object_get(sel, "matchLabels"), LABEL_CONTROLLER_UID);
    if (got == NULL || strcmp(got, uid) != 0)
        tri_status_add_cause(st, "FieldValueInvalid", "spec.selector",
                             "Invalid value: `selector` not auto-generated");
    const json_t *labels =
        json_object_get(json_object_get(json_object_get(spec, "template"), "metadata"), "labels");
    got = str_at(labels, LABEL_CONTROLLER_UID);
    if (got == NULL || strcmp(got, uid) != 0)
        tri_status_add_cause(st, "FieldValueInvalid",
                             "spec.template.metadata.labels[" LABEL_CONTROLLER_UID "]",
                             "Invalid value: \"%s\": must be '%s'", got ? got : "", uid);
}

static void validate_job_selector(const json_t *obj, const json_t *old_spec, tri_status_t *st)
{
    const json_t *spec = json_object_get(obj, "spec");
    const json_t *sel = json_object_get(spec, "selector");
    if (sel == NULL || json_is_null(sel)) {
        tri_status_add_cause(st, "FieldValueRequired", "spec.selector", "Required value");
        return;
    }
    size_t before = json_array_size(st->causes);
    tri_labelsel_validate(sel, "spec.selector", st);
    const json_t *labels =
        json_object_get(json_object_get(json_object_get(spec, "template"), "metadata"), "labels");
    if (json_array_size(st->causes) == before && !tri_labelsel_matches(sel, labels))
        tri_status_add_cause(st, "FieldValueInvalid", "spec.template.metadata.labels",
                             "Invalid value: `selector` does not match template `labels`");
    if (!json_is_true(json_object_get(spec, "manualSelector")))
        validate_generated_selector(obj, st);
    if (old_spec != NULL && !json_equal(sel, json_object_get(old_spec, "selector")))
        tri_status_add_cause(st, "FieldValueInvalid", "spec.selector",
                             "Invalid value: field is immutable");
}

static void validate_job_spec(const json_t *spec, const char *path, tri_status_t *st)
{
    static const char *const modes[] = {"NonIndexed", "Indexed", NULL};
    static const char *const replacements[] = {"TerminatingOrFailed", "Failed", NULL};
    static const struct {
        const char *key;
        long long min;
    } mins[] = {{"parallelism", 0},
                {"completions", 0},
                {"backoffLimit", 0},
                {"activeDeadlineSeconds", 1},
                {"ttlSecondsAfterFinished", 0}};
    char p[256];
    for (size_t i = 0; i < sizeof mins / sizeof mins[0]; i++) {
        snprintf(p, sizeof p, "%s.%s", path, mins[i].key);
        tri_validate_min(spec, mins[i].key, p, mins[i].min, st);
    }
    snprintf(p, sizeof p, "%s.completionMode", path);
    tri_validate_enum(spec, "completionMode", p, modes, st);
    snprintf(p, sizeof p, "%s.podReplacementPolicy", path);
    tri_validate_enum(spec, "podReplacementPolicy", p, replacements, st);
    const char *mode = str_at(spec, "completionMode");
    json_t *completions = json_object_get(spec, "completions");
    snprintf(p, sizeof p, "%s.completions", path);
    if (mode && strcmp(mode, "Indexed") == 0 && !json_is_integer(completions))
        tri_status_add_cause(st, "FieldValueRequired", p,
                             "Required value: when completion mode is Indexed");
    snprintf(p, sizeof p, "%s.template", path);
    const json_t *tmpl = json_object_get(spec, "template");
    tri_podtemplate_validate(tmpl, p, restart_job, st);
    const json_t *tspec = json_object_get(tmpl, "spec");
    snprintf(p, sizeof p, "%s.template.spec.restartPolicy", path);
    if (json_array_size(json_object_get(tspec, "containers")) > 0 &&
        !json_is_string(json_object_get(tspec, "restartPolicy")))
        tri_status_add_cause(st, "FieldValueRequired", p,
                             "Required value: valid values: \"OnFailure\", \"Never\"");
}

static void job_validate(const json_t *obj, const json_t *old, tri_status_t *st)
{
    tri_validate_name(obj, false, st);
    const json_t *spec = json_object_get(obj, "spec");
    const json_t *old_spec = old ? json_object_get(old, "spec") : NULL;
    validate_job_spec(spec, "spec", st);
    validate_job_selector(obj, old_spec, st);
    if (old_spec == NULL)
        return;
    if (!json_equal(json_object_get(spec, "completionMode"),
                    json_object_get(old_spec, "completionMode")))
        tri_status_add_cause(st, "FieldValueInvalid", "spec.completionMode",
                             "Invalid value: field is immutable");
    if (!json_equal(json_object_get(spec, "completions"), json_object_get(old_spec, "completions")))
        tri_status_add_cause(st, "FieldValueInvalid", "spec.completions",
                             "Invalid value: field is immutable");
    if (!json_equal(json_object_get(spec, "template"), json_object_get(old_spec, "template")))
        tri_status_add_cause(st, "FieldValueInvalid", "spec.template",
                             "Invalid value: field is immutable");
}

const tri_resource_t tri_res_jobs = {
    .group = "batch",
    .version = "v1",
    .kind = "Job",
    .list_kind = "JobList",
    .plural = "jobs",
    .singular = "job",
    .categories = {"all"},
    .namespaced = true,
    .has_status = true,
    .table_all_columns = true,
    .columns = job_columns,
    .n_columns = sizeof job_columns / sizeof job_columns[0],
    .cells = job_cells,
    .validate = job_validate,
    .prepare = job_prepare,
    .fields = {"status.successful"},
    .known_fields = {"spec", "status"},
    .has_generation = true,
};

/* ---------- cron schedules ---------- */

typedef struct cron_field {
    const char *what;
    int min, max;
    const char *const *names; /* 3-letter names for min.., or NULL */
} cron_field_t;

static const char *const month_names[] = {"jan", "feb", "mar", "apr", "may", "jun", "jul",
                                          "aug", "sep", "oct", "nov", "dec", NULL};
static const char *const dow_names[] = {"sun", "mon", "tue", "wed", "thu", "fri", "sat", NULL};

static const cron_field_t cron_fields[] = {
    {"minute", 0, 59, NULL},          {"hour", 0, 23, NULL},
    {"day of month", 1, 31, NULL},    {"month", 1, 12, month_names},
    {"day of week", 0, 6, dow_names},
};

/* One number or name of a field; -1 when it is neither. */
static int cron_value(const char *s, size_t n, const cron_field_t *f)
{
    if (n == 0 || n > 9)
        return -1;
    if (f->names && n == 3)
        for (int i = 0; f->names[i]; i++)
            if (strncasecmp(s, f->names[i], 3) == 0)
                return f->min + i;
    int v = 0;
    for (size_t i = 0; i < n; i++) {
        if (!isdigit((unsigned char)s[i]))
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    return v;
}

/* One comma-separated term: "*", "?", "a", "a-b", each with an optional "/step". */
static bool cron_term(const char *s, size_t n, const cron_field_t *f, char *err, size_t errlen)
{
    const char *slash = memchr(s, '/', n);
    size_t rn = slash ? (size_t)(slash - s) : n;
    if (slash) {
        int step = cron_value(slash + 1, n - rn - 1, &(cron_field_t){"", 0, 0, NULL});
        if (step <= 0) {
            snprintf(err, errlen, "step of range should be a positive number: %.*s", (int)n, s);
            return false;
        }
    }
    if ((rn == 1 && (s[0] == '*' || s[0] == '?')))
        return true;
    const char *dash = memchr(s, '-', rn);
    size_t an = dash ? (size_t)(dash - s) : rn;
    int lo = cron_value(s, an, f);
    int hi = dash ? cron_value(dash + 1, rn - an - 1, f) : lo;
    if (lo < 0 || hi < 0) {
        snprintf(err, errlen, "failed to parse int from %.*s: invalid syntax", (int)rn, s);
        return false;
    }
    if (lo < f->min) {
        snprintf(err, errlen, "beginning of range (%d) below minimum (%d): %.*s", lo, f->min,
                 (int)n, s);
        return false;
    }
    if (hi > f->max) {
        snprintf(err, errlen, "end of range (%d) above maximum (%d): %.*s", hi, f->max, (int)n, s);
        return false;
    }
    if (lo > hi) {
        snprintf(err, errlen, "beginning of range (%d) beyond end of range (%d): %.*s", lo, hi,
                 (int)n, s);
        return false;
    }
    return true;
}

static bool cron_descriptor(const char *s, char *err, size_t errlen)
{
    static const char *const known[] = {"@yearly", "@annually", "@monthly", "@weekly",
                                        "@daily",  "@midnight", "@hourly",  NULL};
    for (size_t i = 0; known[i]; i++)
        if (strcmp(s, known[i]) == 0)
            return true;
    if (strncmp(s, "@every ", 7) == 0 && s[7] != '\0')
        return true;
    snprintf(err, errlen, "unrecognized descriptor: %s", s);
    return false;
}

bool tri_cron_parse(const char *schedule, char *err, size_t errlen)
{
    while (*schedule == ' ' || *schedule == '\t')
        schedule++;
    if (schedule[0] == '@')
        return cron_descriptor(schedule, err, errlen);
    const char *starts[8];
    size_t lens[8], n = 0;
    for (const char *p = schedule; *p;) {
        while (*p == ' ' || *p == '\t')
            p++;
        if (*p == '\0')
            break;
        const char *start = p;
        while (*p && *p != ' ' && *p != '\t')
            p++;
        if (n < sizeof starts / sizeof starts[0]) {
            starts[n] = start;
            lens[n] = (size_t)(p - start);
        }
        n++;
    }
    if (n != 5) {
        snprintf(err, errlen, "expected exactly 5 fields, found %zu: %s", n, schedule);
        return false;
    }
    for (size_t i = 0; i < n; i++) {
        const char *s = starts[i], *end = s + lens[i];
        while (s <= end) {
            const char *comma = memchr(s, ',', (size_t)(end - s));
            const char *term_end = comma ? comma : end;
            if (!cron_term(s, (size_t)(term_end - s), &cron_fields[i], err, errlen))
                return false;
            s = term_end + 1;
        }
    }
    return true;
}

/* ---------- cronjobs ---------- */

static const tri_column_t cj_columns[] = {
    TRI_NAME_COLUMN,
    {"Schedule", "string", "",
     "The schedule in Cron format, see "
     "https://en.wikipedia.org/wiki/Cron.",
     0},
    {"Timezone", "string", "", "The time zone name for the given schedule.", 0},
    {"Suspend", "boolean", "",
     "This flag tells the controller to suspend subsequent "
     "executions.",
     0},
    {"Active", "integer", "", "A list of pointers to currently running jobs.", 0},
    {"Last Schedule", "string", "",
     "Information when was the last time the job was "
     "successfully scheduled.",
     0},
    TRI_AGE_COLUMN,
    TRI_CONTAINERS_COLUMN,
    TRI_IMAGES_COLUMN,
    SELECTOR_COLUMN,
};

static json_t *cj_cells(const json_t *obj)
{
    const json_t *spec = json_object_get(obj, "spec");
    const json_t *status = json_object_get(obj, "status");
    const char *tz = str_at(spec, "timeZone");
    json_t *suspend = json_object_get(spec, "suspend");
    const char *susp =
        json_is_boolean(suspend) ? (json_is_true(suspend) ? "True" : "False") : "<unset>";
    char last[32] = "<none>";
    if (str_at(status, "lastScheduleTime"))
        tri_table_age(str_at(status, "lastScheduleTime"), last, sizeof last);
    const char *sched = str_at(spec, "schedule");
    json_t *cells = tri_row_new(obj);
    tri_row_extend(cells,
                   json_pack("[s, s, s, I, s]", sched ? sched : "", tz ? tz : "<none>", susp,
                             (json_int_t)json_array_size(json_object_get(status, "active")), last));
    tri_row_add_age(cells, obj);
    const json_t *jspec = json_object_get(json_object_get(spec, "jobTemplate"), "spec");
    tri_row_add_containers(cells, json_object_get(json_object_get(jspec, "template"), "spec"));
    selector_cell(json_object_get(jspec, "selector"), cells);
    return cells;
}

static void cj_prepare(json_t *obj, const json_t *old)
{
    json_t *spec = tri_field_child(obj, "spec");
    tri_field_default(spec, "concurrencyPolicy", json_string("Allow"));
    tri_field_default(spec, "suspend", json_false());
    tri_field_default(spec, "successfulJobsHistoryLimit", json_integer(DEFAULT_SUCCESSFUL_HISTORY));
    tri_field_default(spec, "failedJobsHistoryLimit", json_integer(DEFAULT_FAILED_HISTORY));
    json_t *jt = tri_field_child(spec, "jobTemplate");
    json_t *jmeta = tri_field_child(jt, "metadata");
    if (json_object_get(jmeta, "creationTimestamp") == NULL)
        json_object_set_new(jmeta, "creationTimestamp", json_null());
    tri_podtemplate_default(json_object_get(tri_field_child(jt, "spec"), "template"));
    if (old == NULL)
        json_object_set_new(obj, "status", json_object());
}

/* A time zone name is a file of the zone database (time.LoadLocation). */
static bool tz_known(const char *tz)
{
    if (tz[0] == '\0' || tz[0] == '/' || strstr(tz, "..") != NULL || strlen(tz) > 128)
        return false;
    if (strcmp(tz, "UTC") == 0 || strcmp(tz, "Local") == 0)
        return true;
    char path[256];
    snprintf(path, sizeof path, "/usr/share/zoneinfo/%s", tz);
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return false;
    fclose(f);
    return true;
}

static void validate_schedule(const json_t *spec, tri_status_t *st)
{
    const char *sched = str_at(spec, "schedule");
    if (sched == NULL || sched[0] == '\0') {
        tri_status_add_cause(st, "FieldValueRequired", "spec.schedule", "Required value");
        return;
    }
    char err[256];
    if (!tri_cron_parse(sched, err, sizeof err))
        tri_status_add_cause(st, "FieldValueInvalid", "spec.schedule", "Invalid value: \"%s\": %s",
                             sched, err);
    if (strstr(sched, "TZ") != NULL)
        tri_status_add_cause(st, "FieldValueInvalid", "spec.schedule",
                             "Invalid value: \"%s\": cannot use TZ or CRON_TZ in schedule, use "
                             "timeZone field instead",
                             sched);
    const char *tz = str_at(spec, "timeZone");
    if (tz && !tz_known(tz))
        tri_status_add_cause(st, "FieldValueInvalid", "spec.timeZone",
                             "Invalid value: \"%s\": unknown time zone %s", tz, tz);
}

static void cj_validate(const json_t *obj, const json_t *old, tri_status_t *st)
{
    static const char *const policies[] = {"Allow", "Forbid", "Replace", NULL};
    tri_validate_name(obj, false, st);
    const char *name = str_at(json_object_get(obj, "metadata"), "name");
    if (name && strlen(name) > MAX_CRONJOB_NAME)
        tri_status_add_cause(st, "FieldValueInvalid", "metadata.name",
                             "Invalid value: \"%s\": must be no more than 52 characters", name);
    const json_t *spec = json_object_get(obj, "spec");
    validate_schedule(spec, st);
    tri_validate_enum(spec, "concurrencyPolicy", "spec.concurrencyPolicy", policies, st);
    tri_validate_min(spec, "startingDeadlineSeconds", "spec.startingDeadlineSeconds", 0, st);
    tri_validate_min(spec, "successfulJobsHistoryLimit", "spec.successfulJobsHistoryLimit", 0, st);
    tri_validate_min(spec, "failedJobsHistoryLimit", "spec.failedJobsHistoryLimit", 0, st);
    const json_t *jspec = json_object_get(json_object_get(spec, "jobTemplate"), "spec");
    validate_job_spec(jspec, "spec.jobTemplate.spec", st);
    const json_t *sel = json_object_get(jspec, "selector");
    if (json_is_true(json_object_get(jspec, "manualSelector")) && json_is_object(sel))
        tri_labelsel_validate(sel, "spec.jobTemplate.spec.selector", st);
}

const tri_resource_t tri_res_cronjobs = {
    .group = "batch",
    .version = "v1",
    .kind = "CronJob",
    .list_kind = "CronJobList",
    .plural = "cronjobs",
    .singular = "cronjob",
    .short_names = {"cj"},
    .categories = {"all"},
    .namespaced = true,
    .has_status = true,
    .table_all_columns = true,
    .columns = cj_columns,
    .n_columns = sizeof cj_columns / sizeof cj_columns[0],
    .cells = cj_cells,
    .validate = cj_validate,
    .prepare = cj_prepare,
    .known_fields = {"spec", "status"},
    .has_generation = true,
};
