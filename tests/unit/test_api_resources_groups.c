/* The named-group resource rows (apps, autoscaling, batch, coordination,
 * networking, events.k8s.io, scheduling, policy, discovery, rbac): each row's
 * hooks called directly on crafted objects — Kubernetes' defaults applied, the
 * validation causes naming their fields, Table cells as kubectl prints them —
 * the cron parser, the HPA v1<->v2 and events.k8s.io<->core conversions round
 * trips, and the registry's order and storage links. */
#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "../../server/api/resources.h"
#include "check.h"
#include "json_fixture.h"


#define CHECK_JSON(a, b)                                                                           \
    do {                                                                                           \
        json_t *want_ = parse(b);                                                                  \
        if (!json_equal((a), want_)) {                                                             \
            char *got_ = json_dumps((a), JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY);         \
            fprintf(stderr, "%s:%d: expected %s == %s, got %s\n", __FILE__, __LINE__, #a, b,       \
                    got_ ? got_ : "(null)");                                                       \
            exit(1);                                                                               \
        }                                                                                          \
        json_decref(want_);                                                                        \
    } while (0)

static long long iat(const json_t *o, const char *path)
{
    json_t *v = at(o, path);
    CHECK(json_is_integer(v));
    return (long long)json_integer_value(v);
}

static bool has_cause(const tri_status_t *st, const char *field, const char *needle)
{
    size_t i;
    json_t *c;
    json_array_foreach(st->causes, i, c)
    {
        const char *f = json_string_value(json_object_get(c, "field"));
        const char *m = json_string_value(json_object_get(c, "message"));
        if (f && strcmp(f, field) == 0 && (needle == NULL || (m && strstr(m, needle))))
            return true;
    }
    return false;
}

static void dump_causes(const tri_status_t *st)
{
    char *s = json_dumps(st->causes, JSON_COMPACT);
    fprintf(stderr, "causes: %s\n", s ? s : "[]");
    free(s);
}

#define CHECK_CAUSE(st, field, needle)                                                             \
    do {                                                                                           \
        if (!has_cause((st), (field), (needle))) {                                                 \
            dump_causes(st);                                                                       \
            CHECK(has_cause((st), (field), (needle)));                                             \
        }                                                                                          \
    } while (0)

#define CHECK_VALID(st)                                                                            \
    do {                                                                                           \
        if (json_array_size((st)->causes) != 0) {                                                  \
            dump_causes(st);                                                                       \
            CHECK(json_array_size((st)->causes) == 0);                                             \
        }                                                                                          \
    } while (0)

/* prepare (as on create) then validate. */
static json_t *created(const tri_resource_t *r, const char *body, tri_status_t *st)
{
    json_t *o = parse(body);
    tri_status_clear(st);
    if (r->prepare)
        r->prepare(o, NULL);
    if (r->validate)
        r->validate(o, NULL, st);
    return o;
}

/* prepare (as on update of old) then validate against old. */
static json_t *updated(const tri_resource_t *r, const json_t *old, const char *body,
                       tri_status_t *st)
{
    json_t *o = parse(body);
    tri_status_clear(st);
    if (r->prepare)
        r->prepare(o, old);
    if (r->validate)
        r->validate(o, old, st);
    return o;
}

/* The whole printed row: with table_all_columns the cells are it; otherwise
 * tri_table_* adds NAME and AGE around them. Checks the count matches. */
static json_t *row(const tri_resource_t *r, const json_t *obj)
{
    json_t *cells = r->cells(obj);
    size_t want = r->n_columns + (r->table_all_columns ? 0 : 2);
    size_t got = json_array_size(cells) + (r->table_all_columns ? 0 : 2);
    if (want != got)
        fprintf(stderr, "%s: %zu columns, %zu cells\n", r->plural, want, got);
    CHECK_EQ(want, got);
    return cells;
}

#define DEPLOY                                                                                     \
    "{\"apiVersion\":\"apps/v1\",\"kind\":\"Deployment\",\"metadata\":{\"name\":\"web\","          \
    "\"namespace\":\"ns\",\"uid\":\"u1\",\"creationTimestamp\":\"2020-01-01T00:00:00Z\"},"         \
    "\"spec\":{\"selector\":{\"matchLabels\":{\"app\":\"web\"}},\"template\":{\"metadata\":"       \
    "{\"labels\":{\"app\":\"web\"}},\"spec\":{\"containers\":[{\"name\":\"nginx\",\"image\":"      \
    "\"nginx\",\"ports\":[{\"containerPort\":80}]}]}}}}"

static void test_deployment_defaults(void)
{
    tri_status_t st = {0};
    json_t *d = created(&tri_res_deployments, DEPLOY, &st);
    CHECK_VALID(&st);
    CHECK_EQ(iat(d, "spec.replicas"), 1);
    CHECK_STR(sat(d, "spec.strategy.type"), "RollingUpdate");
    CHECK_STR(sat(d, "spec.strategy.rollingUpdate.maxSurge"), "25%");
    CHECK_STR(sat(d, "spec.strategy.rollingUpdate.maxUnavailable"), "25%");
    CHECK_EQ(iat(d, "spec.revisionHistoryLimit"), 10);
    CHECK_EQ(iat(d, "spec.progressDeadlineSeconds"), 600);
    json_t *pod = at(d, "spec.template.spec");
    CHECK_STR(sat(pod, "restartPolicy"), "Always");
    CHECK_STR(sat(pod, "dnsPolicy"), "ClusterFirst");
    CHECK_EQ(iat(pod, "terminationGracePeriodSeconds"), 30);
    CHECK_STR(sat(pod, "schedulerName"), "default-scheduler");
    CHECK(at(pod, "enableServiceLinks") == NULL); /* a Pod's default, not a template's */
    CHECK_STR(sat(pod, "containers.0.imagePullPolicy"), "Always");
    CHECK_STR(sat(pod, "containers.0.terminationMessagePath"), "/dev/termination-log");
    CHECK_STR(sat(pod, "containers.0.terminationMessagePolicy"), "File");
    CHECK_STR(sat(pod, "containers.0.ports.0.protocol"), "TCP");
    CHECK(json_is_null(at(d, "spec.template.metadata.creationTimestamp")));
    CHECK_JSON(at(d, "status"), "{}");
    json_decref(d);

    /* Recreate gets no rollingUpdate; a tagged image pulls IfNotPresent */
    d = created(&tri_res_deployments,
                "{\"metadata\":{\"name\":\"r\"},\"spec\":{\"strategy\":{\"type\":\"Recreate\"},"
                "\"selector\":{\"matchLabels\":{\"a\":\"b\"}},\"template\":{\"metadata\":{"
                "\"labels\":{\"a\":\"b\"}},\"spec\":{\"containers\":[{\"name\":\"c\",\"image\":"
                "\"nginx:1.25\"}]}}}}",
                &st);
    CHECK_VALID(&st);
    CHECK(at(d, "spec.strategy.rollingUpdate") == NULL);
    CHECK_STR(sat(d, "spec.template.spec.containers.0.imagePullPolicy"), "IfNotPresent");
    json_decref(d);
    tri_status_clear(&st);
}

static void test_deployment_validation(void)
{
    tri_status_t st = {0};
    json_t *d = created(&tri_res_deployments,
                        "{\"metadata\":{\"name\":\"web\"},\"spec\":{\"replicas\":-1,"
                        "\"selector\":{\"matchLabels\":{\"app\":\"web\"}},\"template\":{"
                        "\"metadata\":{\"labels\":{\"app\":\"other\"}},\"spec\":{\"restartPolicy\":"
                        "\"OnFailure\",\"containers\":[{\"name\":\"c\"}]}}}}",
                        &st);
    CHECK_CAUSE(&st, "spec.replicas", "must be greater than or equal to 0");
    CHECK_CAUSE(&st, "spec.template.metadata.labels",
                "`selector` does not match template `labels`");
    CHECK_CAUSE(&st, "spec.template.spec.containers[0].image", "Required value");
    CHECK_CAUSE(&st, "spec.template.spec.restartPolicy", "supported values: \"Always\"");
    json_decref(d);

    d = created(&tri_res_deployments,
                "{\"metadata\":{\"name\":\"web\"},\"spec\":{\"template\":{\"spec\":{"
                "\"containers\":[]}}}}",
                &st);
    CHECK_CAUSE(&st, "spec.selector", "Required value");
    CHECK_CAUSE(&st, "spec.template.spec.containers", "Required value");
    json_decref(d);

    d = created(&tri_res_deployments,
                "{\"metadata\":{\"name\":\"web\"},\"spec\":{\"selector\":{},\"strategy\":{\"type\":"
                "\"Recreate\",\"rollingUpdate\":{}},\"template\":{\"spec\":{\"containers\":[{"
                "\"name\":\"c\",\"image\":\"i\"}]}}}}",
                &st);
    CHECK_CAUSE(&st, "spec.selector", "empty selector is invalid for deployment");
    CHECK_CAUSE(&st, "spec.strategy.rollingUpdate",
                "may not be specified when strategy `type` is "
                "'Recreate'");
    json_decref(d);

    d = created(&tri_res_deployments,
                "{\"metadata\":{\"name\":\"web\"},\"spec\":{\"strategy\":{\"rollingUpdate\":{"
                "\"maxSurge\":0,\"maxUnavailable\":\"0%\"}},\"selector\":{\"matchLabels\":{\"a\":"
                "\"b\"}},\"template\":{\"metadata\":{\"labels\":{\"a\":\"b\"}},\"spec\":{"
                "\"containers\":[{\"name\":\"c\",\"image\":\"i\"}]}}}}",
                &st);
    CHECK_CAUSE(&st, "spec.strategy.rollingUpdate.maxUnavailable", "may not be 0 when `maxSurge`");
    json_decref(d);

    /* the selector is immutable; other changes are fine */
    json_t *old = created(&tri_res_deployments, DEPLOY, &st);
    CHECK_VALID(&st);
    d = updated(&tri_res_deployments, old,
                "{\"metadata\":{\"name\":\"web\"},\"spec\":{\"replicas\":4,\"selector\":{"
                "\"matchLabels\":{\"app\":\"web\"}},\"template\":{\"metadata\":{\"labels\":{"
                "\"app\":\"web\"}},\"spec\":{\"containers\":[{\"name\":\"nginx\",\"image\":"
                "\"nginx:2\"}]}}}}",
                &st);
    CHECK_VALID(&st);
    json_decref(d);
    d = updated(&tri_res_deployments, old,
                "{\"metadata\":{\"name\":\"web\"},\"spec\":{\"selector\":{\"matchLabels\":{"
                "\"app\":\"x\"}},\"template\":{\"metadata\":{\"labels\":{\"app\":\"x\"}},\"spec\":"
                "{\"containers\":[{\"name\":\"nginx\",\"image\":\"nginx\"}]}}}}",
                &st);
    CHECK_CAUSE(&st, "spec.selector", "field is immutable");
    json_decref(d);
    json_decref(old);
    tri_status_clear(&st);
}

static void test_deployment_cells(void)
{
    tri_status_t st = {0};
    json_t *d = created(&tri_res_deployments, DEPLOY, &st);
    json_object_set_new(at(d, "spec"), "replicas", json_integer(3));
    json_object_set_new(
        d, "status", parse("{\"readyReplicas\":2,\"updatedReplicas\":3,\"availableReplicas\":1}"));
    json_t *cells = row(&tri_res_deployments, d);
    CHECK(tri_res_deployments.table_all_columns);
    CHECK_STR(tri_res_deployments.columns[4].name, "Age");
    CHECK_STR(sat(cells, "0"), "web");
    CHECK_STR(sat(cells, "1"), "2/3");
    CHECK_EQ(iat(cells, "2"), 3);
    CHECK_EQ(iat(cells, "3"), 1);
    CHECK(strchr(sat(cells, "4"), 'd') != NULL); /* created in 2020: days old */
    CHECK_STR(sat(cells, "5"), "nginx");
    CHECK_STR(sat(cells, "6"), "nginx");
    CHECK_STR(sat(cells, "7"), "app=web");
    json_decref(cells);
    json_decref(d);
    tri_status_clear(&st);
}

static void test_label_selectors(void)
{
    json_t *sel = parse("{\"matchLabels\":{\"b\":\"2\",\"a\":\"1\"},\"matchExpressions\":["
                        "{\"key\":\"c\",\"operator\":\"In\",\"values\":[\"y\",\"x\"]},"
                        "{\"key\":\"d\",\"operator\":\"DoesNotExist\"},"
                        "{\"key\":\"e\",\"operator\":\"NotIn\",\"values\":[\"z\"]},"
                        "{\"key\":\"f\",\"operator\":\"Exists\"}]}");
    tri_buf_t b = {0};
    tri_labelsel_format(sel, &b);
    tri_buf_append(&b, "", 1);
    CHECK_STR(b.data, "a=1,b=2,c in (x,y),!d,e notin (z),f");
    tri_buf_free(&b);
    json_t *yes = parse("{\"a\":\"1\",\"b\":\"2\",\"c\":\"x\",\"f\":\"\"}");
    json_t *no = parse("{\"a\":\"1\",\"b\":\"2\",\"c\":\"x\",\"d\":\"1\",\"f\":\"\"}");
    CHECK(tri_labelsel_matches(sel, yes));
    CHECK(!tri_labelsel_matches(sel, no));
    json_decref(yes);
    json_decref(no);
    json_decref(sel);

    tri_status_t st = {0};
    sel = parse("{\"matchExpressions\":[{\"key\":\"a\",\"operator\":\"In\"},"
                "{\"key\":\"b\",\"operator\":\"Exists\",\"values\":[\"x\"]},"
                "{\"key\":\"c\",\"operator\":\"Near\"}]}");
    tri_labelsel_validate(sel, "spec.selector", &st);
    CHECK_CAUSE(&st, "spec.selector.matchExpressions[0].values", "must be specified");
    CHECK_CAUSE(&st, "spec.selector.matchExpressions[1].values", "may not be specified");
    CHECK_CAUSE(&st, "spec.selector.matchExpressions[2].operator", "Unsupported value: \"Near\"");
    json_decref(sel);
    tri_status_clear(&st);
}

#define WORKLOAD(kind, extra)                                                                      \
    "{\"metadata\":{\"name\":\"w\",\"creationTimestamp\":\"2020-01-01T00:00:00Z\"},\"spec\":"      \
    "{" extra "\"selector\":{\"matchLabels\":{\"app\":\"w\"}},\"template\":{\"metadata\":{"        \
    "\"labels\":{\"app\":\"w\"}},\"spec\":{\"containers\":[{\"name\":\"c\",\"image\":"             \
    "\"nginx:1.25\"},{\"name\":\"d\",\"image\":\"busybox\"}]}}}}"

static void test_replicaset_statefulset_daemonset(void)
{
    tri_status_t st = {0};
    json_t *rs = created(&tri_res_replicasets, WORKLOAD("rs", ""), &st);
    CHECK_VALID(&st);
    CHECK_EQ(iat(rs, "spec.replicas"), 1);
    CHECK_EQ(iat(rs, "status.replicas"), 0);
    json_t *cells = row(&tri_res_replicasets, rs);
    CHECK_EQ(iat(cells, "1"), 1);
    CHECK_STR(sat(cells, "5"), "c,d");
    CHECK_STR(sat(cells, "6"), "nginx:1.25,busybox");
    CHECK_STR(sat(cells, "7"), "app=w");
    json_decref(cells);
    json_decref(rs);

    json_t *sts = created(&tri_res_statefulsets, WORKLOAD("sts", "\"serviceName\":\"w\","), &st);
    CHECK_VALID(&st);
    CHECK_STR(sat(sts, "spec.podManagementPolicy"), "OrderedReady");
    CHECK_STR(sat(sts, "spec.updateStrategy.type"), "RollingUpdate");
    CHECK_EQ(iat(sts, "spec.updateStrategy.rollingUpdate.partition"), 0);
    CHECK_STR(sat(sts, "spec.persistentVolumeClaimRetentionPolicy.whenDeleted"), "Retain");
    CHECK_EQ(iat(sts, "status.availableReplicas"), 0);
    cells = row(&tri_res_statefulsets, sts);
    CHECK_STR(sat(cells, "1"), "0/1");
    json_decref(cells);
    json_t *bad =
        updated(&tri_res_statefulsets, sts, WORKLOAD("sts", "\"serviceName\":\"x\","), &st);
    CHECK_CAUSE(&st, "spec", "updates to statefulset spec for fields other than");
    json_decref(bad);
    bad = updated(&tri_res_statefulsets, sts,
                  WORKLOAD("sts", "\"serviceName\":\"w\",\"replicas\":5,"), &st);
    CHECK_VALID(&st);
    json_decref(bad);
    json_decref(sts);

    json_t *ds = created(&tri_res_daemonsets, WORKLOAD("ds", ""), &st);
    CHECK_VALID(&st);
    CHECK_EQ(iat(ds, "spec.updateStrategy.rollingUpdate.maxUnavailable"), 1);
    CHECK_EQ(iat(ds, "spec.updateStrategy.rollingUpdate.maxSurge"), 0);
    CHECK_EQ(iat(ds, "status.numberMisscheduled"), 0);
    cells = row(&tri_res_daemonsets, ds);
    CHECK_STR(sat(cells, "6"), "<none>"); /* NODE SELECTOR */
    CHECK_STR(sat(cells, "10"), "app=w");
    json_decref(cells);
    json_decref(ds);

    json_t *cr =
        created(&tri_res_controllerrevisions,
                "{\"metadata\":{\"name\":\"ds-1\",\"ownerReferences\":[{\"apiVersion\":"
                "\"apps/v1\",\"kind\":\"DaemonSet\",\"name\":\"ds\",\"controller\":true}]},"
                "\"revision\":3,\"data\":{}}",
                &st);
    CHECK_VALID(&st);
    cells = row(&tri_res_controllerrevisions, cr);
    CHECK_STR(sat(cells, "0"), "daemonset.apps/ds");
    CHECK_EQ(iat(cells, "1"), 3);
    json_decref(cells);
    json_decref(cr);
    tri_status_clear(&st);
}

#define JOB(extra, tmpl_extra)                                                                     \
    "{\"metadata\":{\"name\":\"pi\",\"uid\":\"u-1\",\"creationTimestamp\":"                        \
    "\"2020-01-01T00:00:00Z\"},\"spec\":{" extra "\"template\":{" tmpl_extra "\"spec\":{"          \
    "\"restartPolicy\":\"Never\",\"containers\":[{\"name\":\"pi\",\"image\":\"perl\"}]}}}}"

static void test_jobs(void)
{
    tri_status_t st = {0};
    json_t *j = created(&tri_res_jobs, JOB("", ""), &st);
    CHECK_VALID(&st);
    CHECK_EQ(iat(j, "spec.completions"), 1);
    CHECK_EQ(iat(j, "spec.parallelism"), 1);
    CHECK_EQ(iat(j, "spec.backoffLimit"), 6);
    CHECK_STR(sat(j, "spec.completionMode"), "NonIndexed");
    CHECK(json_is_false(at(j, "spec.suspend")));
    CHECK_STR(sat(j, "spec.podReplacementPolicy"), "TerminatingOrFailed");
    CHECK_JSON(at(j, "spec.selector"),
               "{\"matchLabels\":{\"batch.kubernetes.io/controller-uid\":\"u-1\"}}");
    CHECK_JSON(at(j, "spec.template.metadata.labels"),
               "{\"batch.kubernetes.io/controller-uid\":\"u-1\",\"controller-uid\":\"u-1\","
               "\"batch.kubernetes.io/job-name\":\"pi\",\"job-name\":\"pi\"}");
    CHECK(json_equal(at(j, "metadata.labels"), at(j, "spec.template.metadata.labels")));
    json_t *cells = row(&tri_res_jobs, j);
    CHECK_STR(sat(cells, "1"), "Running");
    CHECK_STR(sat(cells, "2"), "0/1");
    CHECK_STR(sat(cells, "3"), "");
    CHECK_STR(sat(cells, "7"), "batch.kubernetes.io/controller-uid=u-1");
    json_decref(cells);

    /* a finished job: status, completions and duration */
    json_object_set_new(j, "status",
                        parse("{\"succeeded\":1,\"startTime\":\"2020-01-01T00:00:00Z\","
                              "\"completionTime\":\"2020-01-01T00:01:30Z\",\"conditions\":[{"
                              "\"type\":\"Complete\",\"status\":\"True\"}]}"));
    cells = row(&tri_res_jobs, j);
    CHECK_STR(sat(cells, "1"), "Complete");
    CHECK_STR(sat(cells, "2"), "1/1");
    CHECK_STR(sat(cells, "3"), "90s");
    json_decref(cells);

    /* the template is immutable, so is the selector; a PUT of the first manifest
     * (no generated selector) is refused as in Kubernetes */
    json_t *u = updated(&tri_res_jobs, j, JOB("", ""), &st);
    CHECK_CAUSE(&st, "spec.selector", "Required value");
    json_decref(u);
    u = json_deep_copy(j);
    json_object_set_new(at(u, "spec.selector.matchLabels"), "x", json_string("y"));
    json_object_set_new(at(u, "spec.template.spec"), "activeDeadlineSeconds", json_integer(5));
    tri_status_clear(&st);
    tri_res_jobs.prepare(u, j);
    tri_res_jobs.validate(u, j, &st);
    CHECK_CAUSE(&st, "spec.selector", "field is immutable");
    CHECK_CAUSE(&st, "spec.template", "field is immutable");
    json_decref(u);
    u = json_deep_copy(j);
    json_object_set_new(at(u, "spec"), "backoffLimit", json_integer(2));
    tri_status_clear(&st);
    tri_res_jobs.prepare(u, j);
    tri_res_jobs.validate(u, j, &st);
    CHECK_VALID(&st);
    json_decref(u);
    json_decref(j);

    /* the pod spec default restartPolicy Always is refused for a job */
    j = created(&tri_res_jobs,
                "{\"metadata\":{\"name\":\"a\",\"uid\":\"u\"},\"spec\":{\"parallelism\":3,"
                "\"template\":{\"spec\":{\"containers\":[{\"name\":\"c\",\"image\":\"i\"}]}}}}",
                &st);
    CHECK_CAUSE(&st, "spec.template.spec.restartPolicy", "Unsupported value: \"Always\"");
    CHECK(at(j, "spec.completions") == NULL); /* parallelism given: no completions default */
    cells = row(&tri_res_jobs, j);
    CHECK_STR(sat(cells, "2"), "0/1 of 3");
    json_decref(cells);
    json_decref(j);

    /* manual selectors must select the template */
    j = created(&tri_res_jobs,
                JOB("\"manualSelector\":true,\"selector\":{\"matchLabels\":{\"x\":\"y\"}},",
                    "\"metadata\":{\"labels\":{\"x\":\"z\"}},"),
                &st);
    CHECK_CAUSE(&st, "spec.template.metadata.labels", "`selector` does not match");
    CHECK(at(j, "spec.template.metadata.labels.controller-uid") == NULL);
    json_decref(j);

    /* a user-set controller-uid that is not this job's is refused */
    j = created(&tri_res_jobs,
                JOB("", "\"metadata\":{\"labels\":{\"batch.kubernetes.io/controller-uid\":"
                        "\"other\"}},"),
                &st);
    CHECK_CAUSE(&st, "spec.template.metadata.labels[batch.kubernetes.io/controller-uid]",
                "must be 'u-1'");
    json_decref(j);
    tri_status_clear(&st);
}

static void test_cron_parse(void)
{
    char err[256];
    static const char *const good[] = {
        "*/5 * * * *", "0 0 1 jan,feb mon-fri", "0-59/15 0 * * 0", "@hourly",
        "@every 5m",   "5 4 ? * SUN",           " 1 2 3 4 5 "};
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        if (!tri_cron_parse(good[i], err, sizeof err))
            fprintf(stderr, "%s: %s\n", good[i], err);
        CHECK(tri_cron_parse(good[i], err, sizeof err));
    }
    static const struct {
        const char *s, *msg;
    } bad[] = {
        {"61 * * * *", "end of range (61) above maximum (59)"},
        {"* * *", "expected exactly 5 fields, found 3"},
        {"* * * * * *", "expected exactly 5 fields, found 6"},
        {"*/0 * * * *", "step of range should be a positive number"},
        {"5-1 * * * *", "beyond end of range"},
        {"x * * * *", "failed to parse int from x"},
        {"* * 0 * *", "below minimum (1)"},
        {"* * * * 7", "above maximum (6)"},
        {"1,,2 * * * *", "failed to parse int"},
        {"@fortnightly", "unrecognized descriptor"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        err[0] = '\0';
        CHECK(!tri_cron_parse(bad[i].s, err, sizeof err));
        if (strstr(err, bad[i].msg) == NULL)
            fprintf(stderr, "%s: got \"%s\", want \"%s\"\n", bad[i].s, err, bad[i].msg);
        CHECK(strstr(err, bad[i].msg) != NULL);
    }
}

#define CRONJOB(name, sched, extra)                                                                \
    "{\"metadata\":{\"name\":\"" name "\"},\"spec\":{\"schedule\":\"" sched "\"," extra            \
    "\"jobTemplate\":{\"spec\":{\"template\":{\"spec\":{\"restartPolicy\":\"OnFailure\","          \
    "\"containers\":[{\"name\":\"c\",\"image\":\"busybox\"}]}}}}}}"

static void test_cronjobs(void)
{
    tri_status_t st = {0};
    json_t *cj = created(&tri_res_cronjobs, CRONJOB("tick", "*/5 * * * *", ""), &st);
    CHECK_VALID(&st);
    CHECK_STR(sat(cj, "spec.concurrencyPolicy"), "Allow");
    CHECK(json_is_false(at(cj, "spec.suspend")));
    CHECK_EQ(iat(cj, "spec.successfulJobsHistoryLimit"), 3);
    CHECK_EQ(iat(cj, "spec.failedJobsHistoryLimit"), 1);
    CHECK_STR(sat(cj, "spec.jobTemplate.spec.template.spec.dnsPolicy"), "ClusterFirst");
    CHECK(at(cj, "spec.jobTemplate.spec.backoffLimit") == NULL); /* Job defaults are a Job's */
    json_t *cells = row(&tri_res_cronjobs, cj);
    CHECK_STR(sat(cells, "1"), "*/5 * * * *");
    CHECK_STR(sat(cells, "2"), "<none>");
    CHECK_STR(sat(cells, "3"), "False");
    CHECK_EQ(iat(cells, "4"), 0);
    CHECK_STR(sat(cells, "5"), "<none>");
    CHECK_STR(sat(cells, "8"), "busybox");
    json_decref(cells);
    json_decref(cj);

    cj = created(&tri_res_cronjobs, CRONJOB("tick", "TZ=UTC 0 * * * *", ""), &st);
    CHECK_CAUSE(&st, "spec.schedule", "cannot use TZ or CRON_TZ in schedule");
    json_decref(cj);
    cj = created(&tri_res_cronjobs, CRONJOB("tick", "0 * * * *", "\"timeZone\":\"Mars/Olympus\","),
                 &st);
    CHECK_CAUSE(&st, "spec.timeZone", "unknown time zone");
    json_decref(cj);
    cj = created(&tri_res_cronjobs, CRONJOB("tick", "0 * * * *", "\"timeZone\":\"UTC\","), &st);
    CHECK_VALID(&st);
    json_decref(cj);
    cj = created(&tri_res_cronjobs,
                 CRONJOB("a-name-that-is-much-too-long-for-a-cronjob-with-jobs-x", "@daily",
                         "\"concurrencyPolicy\":\"Sometimes\","),
                 &st);
    CHECK_CAUSE(&st, "metadata.name", "must be no more than 52 characters");
    CHECK_CAUSE(&st, "spec.concurrencyPolicy", "Unsupported value");
    json_decref(cj);
    cj = created(&tri_res_cronjobs, CRONJOB("tick", "0 25 * * *", ""), &st);
    CHECK_CAUSE(&st, "spec.schedule", "above maximum (23)");
    json_decref(cj);
    tri_status_clear(&st);
}

#define HPA2                                                                                       \
    "{\"apiVersion\":\"autoscaling/v2\",\"kind\":\"HorizontalPodAutoscaler\",\"metadata\":{"       \
    "\"name\":\"web\",\"namespace\":\"ns\"},\"spec\":{\"scaleTargetRef\":{\"apiVersion\":"         \
    "\"apps/v1\",\"kind\":\"Deployment\",\"name\":\"web\"},\"maxReplicas\":5}}"

static void test_hpa_v2(void)
{
    tri_status_t st = {0};
    json_t *h = created(&tri_res_hpa_v2, HPA2, &st);
    CHECK_VALID(&st);
    CHECK_EQ(iat(h, "spec.minReplicas"), 1);
    CHECK_JSON(at(h, "spec.metrics"),
               "[{\"type\":\"Resource\",\"resource\":{\"name\":\"cpu\",\"target\":{\"type\":"
               "\"Utilization\",\"averageUtilization\":80}}}]");
    CHECK_JSON(at(h, "status"), "{\"desiredReplicas\":0}");
    json_t *cells = row(&tri_res_hpa_v2, h);
    CHECK_JSON(cells, "[\"Deployment/web\",\"cpu: <unknown>/80%\",\"1\",5,0]");
    json_decref(cells);

    /* more metrics than two are summarised; pods and object metrics print their values */
    json_object_set_new(
        at(h, "spec"), "metrics",
        parse("[{\"type\":\"Pods\",\"pods\":{\"metric\":{\"name\":\"qps\"},"
              "\"target\":{\"type\":\"AverageValue\",\"averageValue\":\"1k\"}}},"
              "{\"type\":\"Object\",\"object\":{\"metric\":{\"name\":\"hits\"},"
              "\"target\":{\"type\":\"Value\",\"value\":\"10\"}}},"
              "{\"type\":\"Resource\",\"resource\":{\"name\":\"memory\","
              "\"target\":{\"type\":\"AverageValue\",\"averageValue\":\"1Gi\"}}}]"));
    json_object_set_new(h, "status",
                        parse("{\"currentReplicas\":2,\"desiredReplicas\":2,\"currentMetrics\":[{"
                              "\"type\":\"Pods\",\"pods\":{\"metric\":{\"name\":\"qps\"},"
                              "\"current\":{\"averageValue\":\"500\"}}}]}"));
    cells = row(&tri_res_hpa_v2, h);
    CHECK_STR(sat(cells, "1"), "500/1k, <unknown>/10 + 1 more...");
    CHECK_EQ(iat(cells, "4"), 2);
    json_decref(cells);
    json_decref(h);

    h = created(&tri_res_hpa_v2,
                "{\"metadata\":{\"name\":\"h\"},\"spec\":{\"scaleTargetRef\":{},\"minReplicas\":4,"
                "\"maxReplicas\":2,\"metrics\":[{\"type\":\"Resource\",\"resource\":{\"name\":"
                "\"cpu\",\"target\":{\"type\":\"Percent\"}}},{\"type\":\"Magic\"}]}}",
                &st);
    CHECK_CAUSE(&st, "spec.scaleTargetRef.kind", "Required value");
    CHECK_CAUSE(&st, "spec.scaleTargetRef.name", "Required value");
    CHECK_CAUSE(&st, "spec.maxReplicas", "must be greater than or equal to `minReplicas`");
    CHECK_CAUSE(&st, "spec.metrics[0].resource.target.type", "Unsupported value: \"Percent\"");
    CHECK_CAUSE(&st, "spec.metrics[1].type", "Unsupported value: \"Magic\"");
    json_decref(h);

    /* behavior given: its unset parts get Kubernetes' defaults */
    h = created(&tri_res_hpa_v2,
                "{\"metadata\":{\"name\":\"h\"},\"spec\":{\"scaleTargetRef\":{\"kind\":\"D\","
                "\"name\":\"d\"},\"maxReplicas\":3,\"behavior\":{\"scaleDown\":{"
                "\"stabilizationWindowSeconds\":60}}}}",
                &st);
    CHECK_VALID(&st);
    CHECK_EQ(iat(h, "spec.behavior.scaleDown.stabilizationWindowSeconds"), 60);
    CHECK_EQ(iat(h, "spec.behavior.scaleUp.stabilizationWindowSeconds"), 0);
    CHECK_STR(sat(h, "spec.behavior.scaleUp.policies.0.type"), "Pods");
    CHECK_EQ(iat(h, "spec.behavior.scaleUp.policies.0.value"), 4);
    CHECK_STR(sat(h, "spec.behavior.scaleDown.selectPolicy"), "Max");
    json_decref(h);
    tri_status_clear(&st);
}

static void test_hpa_conversion(void)
{
    CHECK(tri_res_hpa_v1.storage == &tri_res_hpa_v2);
    CHECK(tri_res_hpa_v1.to_storage == tri_hpa_v1_to_v2);
    CHECK(tri_res_hpa_v1.from_storage == tri_hpa_v2_to_v1);

    /* v1 -> v2 -> v1: targetCPUUtilizationPercentage is v2's cpu Utilization metric */
    json_t *v1 = parse("{\"apiVersion\":\"autoscaling/v1\",\"kind\":\"HorizontalPodAutoscaler\","
                       "\"metadata\":{\"name\":\"web\",\"annotations\":{\"keep\":\"me\"}},"
                       "\"spec\":{\"scaleTargetRef\":{\"kind\":\"Deployment\",\"name\":\"web\"},"
                       "\"minReplicas\":2,\"maxReplicas\":5,\"targetCPUUtilizationPercentage\":50},"
                       "\"status\":{\"currentReplicas\":2,\"desiredReplicas\":3,"
                       "\"currentCPUUtilizationPercentage\":40}}");
    json_t *v2 = tri_hpa_v1_to_v2(v1);
    CHECK_STR(sat(v2, "apiVersion"), "autoscaling/v2");
    CHECK_JSON(at(v2, "spec.metrics"),
               "[{\"type\":\"Resource\",\"resource\":{\"name\":\"cpu\",\"target\":{\"type\":"
               "\"Utilization\",\"averageUtilization\":50}}}]");
    CHECK(at(v2, "spec.targetCPUUtilizationPercentage") == NULL);
    CHECK_EQ(iat(v2, "status.currentMetrics.0.resource.current.averageUtilization"), 40);
    json_t *back = tri_hpa_v2_to_v1(v2);
    json_t *want = json_deep_copy(v1);
    /* v2 had currentMetrics, which v1 keeps in an annotation */
    json_t *ann = at(back, "metadata.annotations");
    CHECK(json_object_get(ann, "autoscaling.alpha.kubernetes.io/current-metrics") != NULL);
    json_object_del(ann, "autoscaling.alpha.kubernetes.io/current-metrics");
    CHECK(json_equal(back, want));
    json_decref(back);
    json_decref(want);
    json_decref(v2);
    json_decref(v1);

    /* no target in v1: v2's default cpu 80% */
    v1 = parse("{\"apiVersion\":\"autoscaling/v1\",\"metadata\":{\"name\":\"x\"},\"spec\":{"
               "\"scaleTargetRef\":{\"kind\":\"Deployment\",\"name\":\"x\"},\"maxReplicas\":3}}");
    v2 = tri_hpa_v1_to_v2(v1);
    CHECK_EQ(iat(v2, "spec.metrics.0.resource.target.averageUtilization"), 80);
    CHECK_EQ(iat(v2, "spec.minReplicas"), 1);
    CHECK(at(v2, "metadata.annotations") == NULL);
    back = tri_hpa_v2_to_v1(v2);
    CHECK_EQ(iat(back, "spec.targetCPUUtilizationPercentage"), 80);
    json_decref(back);
    json_decref(v2);
    json_decref(v1);

    /* v2 -> v1 -> v2: what v1 cannot say rides in annotations and comes back */
    v2 =
        parse("{\"apiVersion\":\"autoscaling/v2\",\"kind\":\"HorizontalPodAutoscaler\","
              "\"metadata\":{\"name\":\"web\",\"annotations\":{\"keep\":\"me\"}},\"spec\":{"
              "\"scaleTargetRef\":{\"kind\":\"Deployment\",\"name\":\"web\"},\"minReplicas\":1,"
              "\"maxReplicas\":9,\"metrics\":["
              "{\"type\":\"Pods\",\"pods\":{\"metric\":{\"name\":\"qps\"},\"target\":{\"type\":"
              "\"AverageValue\",\"averageValue\":\"1k\"}}},"
              "{\"type\":\"External\",\"external\":{\"metric\":{\"name\":\"queue\",\"selector\":"
              "{\"matchLabels\":{\"q\":\"a\"}}},\"target\":{\"type\":\"Value\",\"value\":\"30\"}}},"
              "{\"type\":\"Object\",\"object\":{\"describedObject\":{\"kind\":\"Ingress\","
              "\"name\":\"main\",\"apiVersion\":\"networking.k8s.io/v1\"},\"metric\":{\"name\":"
              "\"rps\"},\"target\":{\"type\":\"AverageValue\",\"averageValue\":\"2\"}}},"
              "{\"type\":\"Resource\",\"resource\":{\"name\":\"memory\",\"target\":{\"type\":"
              "\"AverageValue\",\"averageValue\":\"1Gi\"}}},"
              "{\"type\":\"Resource\",\"resource\":{\"name\":\"cpu\",\"target\":{\"type\":"
              "\"Utilization\",\"averageUtilization\":70}}}],"
              "\"behavior\":{\"scaleUp\":{\"stabilizationWindowSeconds\":0,\"selectPolicy\":"
              "\"Max\",\"policies\":[{\"type\":\"Pods\",\"value\":4,\"periodSeconds\":15}]},"
              "\"scaleDown\":{\"stabilizationWindowSeconds\":300,\"selectPolicy\":\"Min\","
              "\"policies\":[{\"type\":\"Percent\",\"value\":10,\"periodSeconds\":60}]}}},"
              "\"status\":{\"currentReplicas\":3,\"desiredReplicas\":4,\"currentMetrics\":["
              "{\"type\":\"Pods\",\"pods\":{\"metric\":{\"name\":\"qps\"},\"current\":{"
              "\"averageValue\":\"700\"}}},"
              "{\"type\":\"Resource\",\"resource\":{\"name\":\"cpu\",\"current\":{"
              "\"averageUtilization\":65,\"averageValue\":\"300m\"}}}],"
              "\"conditions\":[{\"type\":\"AbleToScale\",\"status\":\"True\",\"reason\":"
              "\"ReadyForNewScale\"}]}}");
    v1 = tri_hpa_v2_to_v1(v2);
    CHECK_STR(sat(v1, "apiVersion"), "autoscaling/v1");
    CHECK_EQ(iat(v1, "spec.targetCPUUtilizationPercentage"), 70);
    CHECK(at(v1, "spec.metrics") == NULL && at(v1, "spec.behavior") == NULL);
    CHECK_EQ(iat(v1, "status.currentCPUUtilizationPercentage"), 65);
    CHECK(at(v1, "status.conditions") == NULL);
    ann = at(v1, "metadata.annotations");
    CHECK_STR(sat(ann, "keep"), "me");
    json_t *other =
        parse(json_string_value(json_object_get(ann, "autoscaling.alpha.kubernetes.io/metrics")));
    CHECK_EQ(json_array_size(other), 4);
    CHECK_JSON(json_array_get(other, 0),
               "{\"type\":\"Pods\",\"pods\":{\"metricName\":\"qps\",\"targetAverageValue\":"
               "\"1k\"}}");
    CHECK_JSON(json_array_get(other, 3), "{\"type\":\"Resource\",\"resource\":{\"name\":\"memory\","
                                         "\"targetAverageValue\":\"1Gi\"}}");
    json_decref(other);
    CHECK(json_object_get(ann, "autoscaling.alpha.kubernetes.io/behavior") != NULL);
    CHECK(json_object_get(ann, "autoscaling.alpha.kubernetes.io/conditions") != NULL);
    json_t *cells = row(&tri_res_hpa_v1, v1); /* v1 rows print as v2 would */
    json_t *cells2 = row(&tri_res_hpa_v2, v2);
    CHECK(json_equal(cells, cells2));
    json_decref(cells);
    json_decref(cells2);
    back = tri_hpa_v1_to_v2(v1);
    if (!json_equal(back, v2)) {
        char *a = json_dumps(back, JSON_SORT_KEYS), *b = json_dumps(v2, JSON_SORT_KEYS);
        fprintf(stderr, "round trip:\n%s\n%s\n", a, b);
        free(a);
        free(b);
    }
    CHECK(json_equal(back, v2));
    json_decref(back);
    json_decref(v1);
    json_decref(v2);

    tri_status_t st = {0};
    json_t *h = created(&tri_res_hpa_v1,
                        "{\"metadata\":{\"name\":\"h\"},\"spec\":{\"scaleTargetRef\":{\"kind\":"
                        "\"Deployment\",\"name\":\"d\"},\"maxReplicas\":0,"
                        "\"targetCPUUtilizationPercentage\":0}}",
                        &st);
    CHECK_CAUSE(&st, "spec.maxReplicas", "must be greater than 0");
    CHECK_CAUSE(&st, "spec.targetCPUUtilizationPercentage", "greater than or equal to 1");
    CHECK_JSON(at(h, "status"), "{\"currentReplicas\":0,\"desiredReplicas\":0}");
    json_decref(h);
    tri_status_clear(&st);
}

static void test_events_v1(void)
{
    CHECK(tri_res_events_v1.storage == &tri_res_events);
    CHECK_EQ(tri_res_events_v1.n_columns, tri_res_events.n_columns);
    json_t *ev = parse("{\"apiVersion\":\"events.k8s.io/v1\",\"kind\":\"Event\",\"metadata\":{"
                       "\"name\":\"e\",\"namespace\":\"ns\"},\"eventTime\":"
                       "\"2020-01-01T00:00:00.000000Z\",\"reportingController\":\"x.io/ctl\","
                       "\"reportingInstance\":\"i\",\"action\":\"Scale\",\"reason\":\"Scaled\","
                       "\"type\":\"Normal\",\"note\":\"hello\",\"regarding\":{\"kind\":"
                       "\"Deployment\",\"name\":\"web\"},\"deprecatedCount\":2}");
    tri_status_t st = {0};
    tri_res_events_v1.validate(ev, NULL, &st);
    CHECK_VALID(&st);
    json_t *core = tri_event_v1_to_core(ev);
    CHECK_STR(sat(core, "apiVersion"), "v1");
    CHECK_STR(sat(core, "message"), "hello");
    CHECK_STR(sat(core, "involvedObject.name"), "web");
    CHECK_STR(sat(core, "reportingComponent"), "x.io/ctl");
    CHECK_EQ(iat(core, "count"), 2);
    CHECK(at(core, "note") == NULL && at(core, "regarding") == NULL);
    json_t *back = tri_event_core_to_v1(core);
    CHECK(json_equal(back, ev));
    json_t *cells = row(&tri_res_events_v1, ev);
    CHECK_STR(sat(cells, "3"), "deployment/web");
    CHECK_STR(sat(cells, "6"), "hello");
    json_decref(cells);
    json_decref(back);
    json_decref(core);

    /* a core event read as events.k8s.io gets eventTime null (a required field) */
    core = parse("{\"apiVersion\":\"v1\",\"kind\":\"Event\",\"metadata\":{\"name\":\"c\"},"
                 "\"message\":\"m\",\"involvedObject\":{\"kind\":\"Pod\",\"name\":\"p\"}}");
    back = tri_event_core_to_v1(core);
    CHECK(json_is_null(at(back, "eventTime")));
    CHECK_STR(sat(back, "note"), "m");
    json_decref(back);
    json_decref(core);

    json_object_del(ev, "reportingController");
    json_object_set_new(ev, "type", json_string("Odd"));
    json_object_set_new(ev, "eventTime", json_null());
    tri_res_events_v1.validate(ev, NULL, &st);
    CHECK_CAUSE(&st, "reportingController", "Required value");
    CHECK_CAUSE(&st, "type", "Unsupported value: \"Odd\"");
    CHECK_CAUSE(&st, "eventTime", "Required value");
    json_decref(ev);
    tri_status_clear(&st);
}

#define INGRESS(rules, extra)                                                                      \
    "{\"metadata\":{\"name\":\"web\"},\"spec\":{" extra "\"rules\":[" rules "]}}"
#define RULE(host, path, type, port)                                                               \
    "{\"host\":\"" host "\",\"http\":{\"paths\":[{\"path\":\"" path "\"," type                     \
    "\"backend\":{\"service\":{\"name\":\"web\",\"port\":" port "}}}]}}"

static void test_networking(void)
{
    tri_status_t st = {0};
    json_t *ing = created(
        &tri_res_ingresses,
        INGRESS(RULE("foo.com", "/bar", "\"pathType\":\"Exact\",", "{\"number\":80}"), ""), &st);
    CHECK_VALID(&st);
    CHECK_JSON(at(ing, "status"), "{\"loadBalancer\":{}}");
    json_t *cells = row(&tri_res_ingresses, ing);
    CHECK_JSON(cells, "[\"<none>\",\"foo.com\",\"\",\"80\"]");
    json_decref(cells);
    json_object_set_new(at(ing, "spec"), "tls", parse("[{\"hosts\":[\"foo.com\"]}]"));
    json_object_set_new(at(ing, "spec"), "ingressClassName", json_string("nginx"));
    json_object_set_new(ing, "status",
                        parse("{\"loadBalancer\":{\"ingress\":[{\"ip\":\"10.0.0.2\"},"
                              "{\"hostname\":\"lb.example.com\"},{\"ip\":\"10.0.0.1\"}]}}"));
    cells = row(&tri_res_ingresses, ing);
    CHECK_JSON(cells, "[\"nginx\",\"foo.com\",\"10.0.0.1,10.0...\",\"80, 443\"]");
    json_decref(cells);
    json_decref(ing);

    ing = created(
        &tri_res_ingresses,
        INGRESS(
            RULE("a.com", "/", "", "{\"number\":80}") "," RULE(
                "b.com", "rel", "\"pathType\":\"Prefix\",",
                "{}") "," RULE("c.com", "/", "\"pathType\":\"Prefix\",",
                               "{\"number\":70000}") "," RULE("*.d.com", "/",
                                                              "\"pathType\":"
                                                              "\"ImplementationSpecific\",",
                                                              "{\"name\":\"http\",\"number\":80}"),
            ""),
        &st);
    CHECK_CAUSE(&st, "spec.rules[0].http.paths[0].pathType", "pathType must be specified");
    CHECK_CAUSE(&st, "spec.rules[1].http.paths[0].path", "must be an absolute path");
    CHECK_CAUSE(&st, "spec.rules[1].http.paths[0].backend.service.port",
                "port name or number is required");
    CHECK_CAUSE(&st, "spec.rules[2].http.paths[0].backend.service.port.number",
                "between 1 and 65535");
    CHECK_CAUSE(&st, "spec.rules[3].http.paths[0].backend.service.port",
                "cannot set both port name & port number");
    cells = row(&tri_res_ingresses, ing);
    CHECK_STR(sat(cells, "1"), "a.com,b.com,c.com + 1 more...");
    json_decref(cells);
    json_decref(ing);
    ing = created(&tri_res_ingresses, "{\"metadata\":{\"name\":\"e\"},\"spec\":{}}", &st);
    CHECK_CAUSE(&st, "spec", "either `defaultBackend` or `rules` must be specified");
    json_decref(ing);

    json_t *np = created(&tri_res_networkpolicies,
                         "{\"metadata\":{\"name\":\"np\"},\"spec\":{\"ingress\":[{\"ports\":[{"
                         "\"port\":80}]}],\"egress\":[{}]}}",
                         &st);
    CHECK_VALID(&st);
    CHECK_JSON(at(np, "spec.policyTypes"), "[\"Ingress\",\"Egress\"]");
    CHECK_STR(sat(np, "spec.ingress.0.ports.0.protocol"), "TCP");
    CHECK_JSON(at(np, "spec.podSelector"), "{}");
    cells = row(&tri_res_networkpolicies, np);
    CHECK_JSON(cells, "[\"<none>\"]");
    json_decref(cells);
    json_decref(np);

    json_t *ic =
        created(&tri_res_ingressclasses,
                "{\"metadata\":{\"name\":\"nginx\"},\"spec\":{\"controller\":"
                "\"k8s.io/ingress-nginx\",\"parameters\":{\"apiGroup\":\"k8s.example.com\","
                "\"kind\":\"IngressParameters\",\"name\":\"p\"}}}",
                &st);
    CHECK_VALID(&st);
    cells = row(&tri_res_ingressclasses, ic);
    CHECK_JSON(cells, "[\"k8s.io/ingress-nginx\",\"IngressParameters.k8s.example.com/p\"]");
    json_decref(cells);
    json_t *u =
        updated(&tri_res_ingressclasses, ic,
                "{\"metadata\":{\"name\":\"nginx\"},\"spec\":{\"controller\":\"other\"}}", &st);
    CHECK_CAUSE(&st, "spec.controller", "field is immutable");
    json_decref(u);
    json_decref(ic);
    tri_status_clear(&st);
}

static void test_scheduling_policy_discovery_coordination(void)
{
    tri_status_t st = {0};
    json_t *pc =
        created(&tri_res_priorityclasses, "{\"metadata\":{\"name\":\"high\"},\"value\":1000}", &st);
    CHECK_VALID(&st);
    CHECK_STR(sat(pc, "preemptionPolicy"), "PreemptLowerPriority");
    json_t *cells = row(&tri_res_priorityclasses, pc);
    CHECK_STR(sat(cells, "0"), "high");
    CHECK_EQ(iat(cells, "1"), 1000);
    CHECK(json_is_false(at(cells, "2")));
    CHECK_STR(sat(cells, "4"), "PreemptLowerPriority");
    CHECK_STR(tri_res_priorityclasses.columns[3].name, "Age");
    json_decref(cells);
    json_t *u = updated(&tri_res_priorityclasses, pc,
                        "{\"metadata\":{\"name\":\"high\"},\"value\":1001}", &st);
    CHECK_CAUSE(&st, "value", "may not be changed in an update");
    json_decref(u);
    json_decref(pc);
    pc = created(&tri_res_priorityclasses,
                 "{\"metadata\":{\"name\":\"system-mine\"},\"value\":2000000000,"
                 "\"preemptionPolicy\":\"Sometimes\"}",
                 &st);
    CHECK_CAUSE(&st, "metadata.name", "'system-' prefix are reserved");
    CHECK_CAUSE(&st, "value", "maximum allowed value of a user defined priority is 1000000000");
    CHECK_CAUSE(&st, "preemptionPolicy", "Unsupported value");
    json_decref(pc);

    json_t *pdb = created(&tri_res_poddisruptionbudgets,
                          "{\"metadata\":{\"name\":\"web\"},\"spec\":{\"minAvailable\":1,"
                          "\"selector\":{\"matchLabels\":{\"app\":\"web\"}}}}",
                          &st);
    CHECK_VALID(&st);
    CHECK_JSON(at(pdb, "status"), "{\"currentHealthy\":0,\"desiredHealthy\":0,"
                                  "\"disruptionsAllowed\":0,\"expectedPods\":0}");
    cells = row(&tri_res_poddisruptionbudgets, pdb);
    CHECK_JSON(cells, "[\"1\",\"N/A\",0]");
    json_decref(cells);
    json_decref(pdb);
    pdb = created(&tri_res_poddisruptionbudgets,
                  "{\"metadata\":{\"name\":\"web\"},\"spec\":{\"minAvailable\":\"50%\","
                  "\"maxUnavailable\":\"150%\"}}",
                  &st);
    CHECK_CAUSE(&st, "spec", "minAvailable and maxUnavailable cannot be both set");
    CHECK_CAUSE(&st, "spec.maxUnavailable", "must be between 0% and 100%");
    json_decref(pdb);

    json_t *eps = created(&tri_res_endpointslices,
                          "{\"metadata\":{\"name\":\"web-1\"},\"addressType\":\"IPv4\",\"ports\":["
                          "{\"port\":80}],\"endpoints\":[{\"addresses\":[\"10.0.0.1\",\"10.0.0.2\""
                          "]},{\"addresses\":[\"10.0.0.3\",\"10.0.0.4\"]}]}",
                          &st);
    CHECK_VALID(&st);
    CHECK_STR(sat(eps, "ports.0.protocol"), "TCP");
    CHECK_STR(sat(eps, "ports.0.name"), "");
    cells = row(&tri_res_endpointslices, eps);
    CHECK_JSON(cells, "[\"IPv4\",\"80\",\"10.0.0.1,10.0.0.2,10.0.0.3 + 1 more...\"]");
    json_decref(cells);
    u = updated(&tri_res_endpointslices, eps,
                "{\"metadata\":{\"name\":\"web-1\"},\"addressType\":\"IPv6\",\"endpoints\":[{"
                "\"addresses\":[]}]}",
                &st);
    CHECK_CAUSE(&st, "addressType", "field is immutable");
    CHECK_CAUSE(&st, "endpoints[0].addresses", "must contain at least 1 address");
    json_decref(u);
    json_decref(eps);
    eps = created(&tri_res_endpointslices, "{\"metadata\":{\"name\":\"e\"}}", &st);
    CHECK_CAUSE(&st, "addressType", "Required value");
    cells = row(&tri_res_endpointslices, eps);
    CHECK_JSON(cells, "[\"\",\"<unset>\",\"<unset>\"]");
    json_decref(cells);
    json_decref(eps);

    json_t *lease = created(&tri_res_leases,
                            "{\"metadata\":{\"name\":\"node-1\"},\"spec\":{\"holderIdentity\":"
                            "\"node-1\",\"leaseDurationSeconds\":0}}",
                            &st);
    CHECK_CAUSE(&st, "spec.leaseDurationSeconds", "greater than or equal to 1");
    cells = row(&tri_res_leases, lease);
    CHECK_JSON(cells, "[\"node-1\"]");
    json_decref(cells);
    json_decref(lease);
    tri_status_clear(&st);
}

static void test_rbac(void)
{
    tri_status_t st = {0};
    json_t *role = created(&tri_res_roles,
                           "{\"metadata\":{\"name\":\"system:reader\",\"creationTimestamp\":"
                           "\"2020-01-01T00:00:00Z\"},\"rules\":[{\"apiGroups\":[\"\"],"
                           "\"resources\":[\"pods\"],\"verbs\":[\"get\"]}]}",
                           &st);
    CHECK_VALID(&st);
    json_t *cells = row(&tri_res_roles, role);
    CHECK_JSON(cells, "[\"system:reader\",\"2020-01-01T00:00:00Z\"]");
    json_decref(cells);
    json_decref(role);
    role = created(&tri_res_roles,
                   "{\"metadata\":{\"name\":\"a/b\"},\"rules\":[{\"resources\":[\"pods\"]},"
                   "{\"verbs\":[\"get\"],\"nonResourceURLs\":[\"/healthz\"]}]}",
                   &st);
    CHECK_CAUSE(&st, "metadata.name", "may not contain '/'");
    CHECK_CAUSE(&st, "rules[0].verbs", "verbs must contain at least one value");
    CHECK_CAUSE(&st, "rules[0].apiGroups", "at least one api group");
    CHECK_CAUSE(&st, "rules[1].nonResourceURLs", "namespaced rules cannot apply to non-resource");
    json_decref(role);
    role = created(&tri_res_clusterroles,
                   "{\"metadata\":{\"name\":\"health\"},\"rules\":[{\"verbs\":[\"get\"],"
                   "\"nonResourceURLs\":[\"/healthz\"]}]}",
                   &st);
    CHECK_VALID(&st);
    json_decref(role);

    json_t *rb = created(&tri_res_rolebindings,
                         "{\"metadata\":{\"name\":\"rb\",\"creationTimestamp\":"
                         "\"2020-01-01T00:00:00Z\"},\"roleRef\":{\"kind\":\"Role\",\"name\":"
                         "\"reader\"},\"subjects\":[{\"kind\":\"User\",\"name\":\"alice\"},"
                         "{\"kind\":\"Group\",\"name\":\"devs\"},{\"kind\":\"ServiceAccount\","
                         "\"name\":\"default\",\"namespace\":\"ns\"},{\"kind\":\"User\",\"name\":"
                         "\"bob\"}]}",
                         &st);
    CHECK_VALID(&st);
    CHECK_STR(sat(rb, "roleRef.apiGroup"), "rbac.authorization.k8s.io");
    CHECK_STR(sat(rb, "subjects.0.apiGroup"), "rbac.authorization.k8s.io");
    CHECK_STR(sat(rb, "subjects.2.apiGroup"), "");
    cells = row(&tri_res_rolebindings, rb);
    CHECK_STR(sat(cells, "0"), "rb");
    CHECK_STR(sat(cells, "1"), "Role/reader");
    CHECK_STR(tri_res_rolebindings.columns[2].name, "Age");
    CHECK_STR(sat(cells, "3"), "alice, bob");
    CHECK_STR(sat(cells, "4"), "devs");
    CHECK_STR(sat(cells, "5"), "ns:default");
    json_decref(cells);
    json_t *u = updated(&tri_res_rolebindings, rb,
                        "{\"metadata\":{\"name\":\"rb\"},\"roleRef\":{\"kind\":\"Role\",\"name\":"
                        "\"writer\"}}",
                        &st);
    CHECK_CAUSE(&st, "roleRef", "cannot change roleRef");
    json_decref(u);
    json_decref(rb);

    json_t *crb = created(&tri_res_clusterrolebindings,
                          "{\"metadata\":{\"name\":\"crb\"},\"roleRef\":{\"apiGroup\":\"x.io\","
                          "\"kind\":\"Role\",\"name\":\"r\"},\"subjects\":[{\"kind\":"
                          "\"ServiceAccount\",\"name\":\"sa\"},{\"kind\":\"Robot\",\"name\":"
                          "\"r2\"}]}",
                          &st);
    CHECK_CAUSE(&st, "roleRef.apiGroup", "Unsupported value: \"x.io\"");
    CHECK_CAUSE(&st, "roleRef.kind", "supported values: \"ClusterRole\"");
    CHECK_CAUSE(&st, "subjects[0].namespace", "Required value");
    CHECK_CAUSE(&st, "subjects[1].kind", "Unsupported value: \"Robot\"");
    json_decref(crb);
    tri_status_clear(&st);
}

/* Discovery order: the named groups in Kubernetes' order, each group's resources
 * alphabetical (as kube-apiserver lists them; `kubectl get all` follows it), and
 * autoscaling/v2 before v1 so that v2 is the preferred version. */
static void test_registry(void)
{
    static const char *const groups[] = {"apps",
                                         "authentication.k8s.io",
                                         "authorization.k8s.io",
                                         "autoscaling",
                                         "batch",
                                         "certificates.k8s.io",
                                         "coordination.k8s.io",
                                         "networking.k8s.io",
                                         "events.k8s.io",
                                         "scheduling.k8s.io",
                                         "policy",
                                         "discovery.k8s.io",
                                         "rbac.authorization.k8s.io"};
    size_t n, seen = 0;
    const tri_resource_t *const *all = tri_registry_all(&n);
    const char *last_group = "";
    const tri_resource_t *prev = NULL;
    for (size_t i = 0; i < n; i++) {
        const tri_resource_t *r = all[i];
        if (r->group[0] == '\0')
            continue;
        if (strcmp(r->group, last_group) != 0) {
            CHECK(seen < sizeof groups / sizeof groups[0]);
            CHECK_STR(r->group, groups[seen]);
            seen++;
            last_group = r->group;
        } else if (strcmp(prev->version, r->version) == 0) {
            CHECK(strcmp(prev->plural, r->plural) < 0);
        }
        prev = r;
    }
    CHECK_EQ(seen, sizeof groups / sizeof groups[0]);
    CHECK(tri_registry_find("autoscaling", "v2", "horizontalpodautoscalers") == &tri_res_hpa_v2);
    CHECK(tri_registry_find("autoscaling", "v1", "horizontalpodautoscalers") == &tri_res_hpa_v1);
    CHECK(tri_registry_find("events.k8s.io", "v1", "events") == &tri_res_events_v1);
    /* a version stored as another resource shares its keys */
    tri_buf_t a = {0}, b = {0};
    tri_registry_key(&tri_res_events_v1, "ns", "e", &a);
    tri_registry_key(&tri_res_events, "ns", "e", &b);
    CHECK(a.len == b.len && memcmp(a.data, b.data, a.len) == 0);
    tri_buf_reset(&a);
    tri_registry_prefix(&tri_res_hpa_v1, "ns", &a);
    tri_buf_append(&a, "", 1);
    CHECK_STR(a.data, "/registry/autoscaling/horizontalpodautoscalers/ns/");
    tri_buf_free(&a);
    tri_buf_free(&b);
    size_t v2 = n, v1 = n;
    for (size_t i = 0; i < n; i++) {
        if (all[i] == &tri_res_hpa_v2)
            v2 = i;
        if (all[i] == &tri_res_hpa_v1)
            v1 = i;
    }
    CHECK(v2 < v1 && v1 < n);
    /* what `kubectl get all` lists from these groups */
    static const tri_resource_t *const in_all[] = {
        &tri_res_daemonsets, &tri_res_deployments, &tri_res_replicasets, &tri_res_statefulsets,
        &tri_res_hpa_v2,     &tri_res_cronjobs,    &tri_res_jobs};
    for (size_t i = 0; i < sizeof in_all / sizeof in_all[0]; i++)
        CHECK_STR(in_all[i]->categories[0], "all");
    CHECK(tri_res_controllerrevisions.categories[0] == NULL);
    CHECK(tri_res_poddisruptionbudgets.categories[0] == NULL);
    /* scale subresources and their paths */
    static const tri_resource_t *const scaled[] = {&tri_res_deployments, &tri_res_replicasets,
                                                   &tri_res_statefulsets};
    for (size_t i = 0; i < sizeof scaled / sizeof scaled[0]; i++) {
        CHECK_STR(scaled[i]->subresources[0], "scale");
        CHECK_STR(scaled[i]->scale_replicas, "spec.replicas");
        CHECK_STR(scaled[i]->scale_status_replicas, "status.replicas");
        CHECK_STR(scaled[i]->scale_selector, "spec.selector");
        CHECK(scaled[i]->has_generation && scaled[i]->has_status);
    }
}

int main(void)
{
    test_deployment_defaults();
    test_deployment_validation();
    test_deployment_cells();
    test_label_selectors();
    test_replicaset_statefulset_daemonset();
    test_jobs();
    test_cron_parse();
    test_cronjobs();
    test_hpa_v2();
    test_hpa_conversion();
    test_events_v1();
    test_networking();
    test_scheduling_policy_discovery_coordination();
    test_rbac();
    test_registry();
    printf("api_resources_groups: ok\n");
    return 0;
}
