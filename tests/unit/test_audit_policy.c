/* The audit log: policy parsing and matching (kube-apiserver's semantics), request
 * attributes from a URL, the Event line, and the writer: rotation and retention,
 * a stalled disk (events dropped and counted, never waited for), a full disk. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "triarch/audit.h"

static tri_audit_policy_t *parse_ok(const char *text)
{
    char err[400] = "";
    tri_audit_policy_t *p = NULL;
    if (tri_audit_policy_parse(text, strlen(text), &p, err, sizeof err) != 0) {
        fprintf(stderr, "policy refused: %s\n%s\n", err, text);
        exit(1);
    }
    return p;
}

static void parse_fails(const char *text, const char *want)
{
    char err[400] = "";
    tri_audit_policy_t *p = NULL;
    int rc = tri_audit_policy_parse(text, strlen(text), &p, err, sizeof err);
    if (rc == 0 || p != NULL || strstr(err, want) == NULL) {
        fprintf(stderr, "expected refusal mentioning \"%s\", got rc=%d err=\"%s\" for:\n%s\n", want,
                rc, err, text);
        exit(1);
    }
}

static tri_user_t user(const char *name, const char *group)
{
    tri_user_t u;
    memset(&u, 0, sizeof u);
    snprintf(u.name, sizeof u.name, "%s", name);
    if (group)
        tri_user_add_group(&u, group);
    tri_user_add_group(&u, "system:authenticated");
    return u;
}

/* The level for METHOD URL by user u. */
static tri_audit_level_t eval(const tri_audit_policy_t *p, const tri_user_t *u, const char *method,
                              const char *url, unsigned *omit)
{
    tri_audit_reqinfo_t in;
    tri_audit_reqinfo_parse(method, strlen(method), url, strlen(url), &in);
    tri_authz_attrs_t a = {.user = u,
                           .verb = in.verb,
                           .resource_request = in.resource_request,
                           .namespace_ = in.namespace_,
                           .api_group = in.api_group,
                           .api_version = in.api_version,
                           .resource = in.resource,
                           .subresource = in.subresource,
                           .name = in.name,
                           .path = in.path};
    unsigned o;
    bool mf;
    tri_audit_level_t l = tri_audit_policy_eval(p, &a, omit ? omit : &o, &mf);
    return l;
}

static const char *POLICY = "apiVersion: audit.k8s.io/v1\n"
                            "kind: Policy\n"
                            "omitStages: [RequestReceived]\n"
                            "rules:\n"
                            "- level: None\n"
                            "  nonResourceURLs: [/healthz*, /version]\n"
                            "- level: None\n"
                            "  users: [system:kube-proxy]\n"
                            "  verbs: [watch]\n"
                            "- level: None\n"
                            "  namespaces: [quiet]\n"
                            "  resources: [{group: \"\", resources: [configmaps]}]\n"
                            "- level: Request\n"
                            "  userGroups: [auditors]\n"
                            "  resources: [{group: \"\", resources: [secrets]}]\n"
                            "- level: Request\n"
                            "  resources:\n"
                            "  - group: apps\n"
                            "    resources: [deployments/scale, \"*/status\"]\n"
                            "  - group: \"\"\n"
                            "    resources: [configmaps]\n"
                            "    resourceNames: [loud]\n"
                            "  - group: \"\"\n"
                            "    resources: [pods/*]\n"
                            "  omitStages: [ResponseStarted]\n"
                            "- level: Metadata\n"
                            "  nonResourceURLs: [\"/api*\"]\n"
                            "- level: Metadata\n"
                            "  resources: [{group: \"\"}]\n";

static void test_policy_matching(void)
{
    tri_audit_policy_t *p = parse_ok(POLICY);
    tri_user_t admin = user("admin", "system:masters");
    tri_user_t proxy = user("system:kube-proxy", NULL);
    tri_user_t aud = user("alice", "auditors");
    CHECK_EQ(tri_audit_policy_rules(p), 7);
    CHECK_EQ(tri_audit_policy_max_level(p), TRI_AUDIT_REQUEST);
    /* non-resource URLs, with a * prefix */
    CHECK_EQ(eval(p, &admin, "GET", "/healthz", NULL), TRI_AUDIT_NONE);
    CHECK_EQ(eval(p, &admin, "GET", "/healthz/etcd", NULL), TRI_AUDIT_NONE);
    CHECK_EQ(eval(p, &admin, "GET", "/version", NULL), TRI_AUDIT_NONE);
    CHECK_EQ(eval(p, &admin, "GET", "/version/x", NULL), TRI_AUDIT_NONE + 0); /* no rule */
    CHECK_EQ(eval(p, &admin, "GET", "/apis", NULL), TRI_AUDIT_METADATA);
    /* users + verbs: both must match */
    CHECK_EQ(eval(p, &proxy, "GET", "/api/v1/services?watch=true", NULL), TRI_AUDIT_NONE);
    CHECK_EQ(eval(p, &proxy, "GET", "/api/v1/services", NULL), TRI_AUDIT_METADATA);
    CHECK_EQ(eval(p, &admin, "GET", "/api/v1/services?watch=1", NULL), TRI_AUDIT_METADATA);
    /* namespaces + resources */
    CHECK_EQ(eval(p, &admin, "POST", "/api/v1/namespaces/quiet/configmaps", NULL), TRI_AUDIT_NONE);
    CHECK_EQ(eval(p, &admin, "POST", "/api/v1/namespaces/other/configmaps", NULL),
             TRI_AUDIT_METADATA);
    /* resourceNames */
    CHECK_EQ(eval(p, &admin, "PUT", "/api/v1/namespaces/other/configmaps/loud", NULL),
             TRI_AUDIT_REQUEST);
    CHECK_EQ(eval(p, &admin, "PUT", "/api/v1/namespaces/other/configmaps/soft", NULL),
             TRI_AUDIT_METADATA);
    /* subresources: "res/sub", "*" + "/sub", "res/" + "*" */
    CHECK_EQ(eval(p, &admin, "PUT", "/apis/apps/v1/namespaces/d/deployments/x/scale", NULL),
             TRI_AUDIT_REQUEST);
    CHECK_EQ(eval(p, &admin, "PUT", "/apis/apps/v1/namespaces/d/deployments/x", NULL),
             TRI_AUDIT_NONE); /* apps deployments: no rule */
    CHECK_EQ(eval(p, &admin, "PUT", "/apis/apps/v1/namespaces/d/replicasets/x/status", NULL),
             TRI_AUDIT_REQUEST);
    CHECK_EQ(eval(p, &admin, "POST", "/api/v1/namespaces/d/pods/x/eviction", NULL),
             TRI_AUDIT_REQUEST);
    CHECK_EQ(eval(p, &admin, "POST", "/api/v1/namespaces/d/pods", NULL), TRI_AUDIT_REQUEST);
    /* stages: the policy's and the matching rule's */
    unsigned omit = 0;
    eval(p, &admin, "GET", "/api/v1/namespaces/d/pods", &omit);
    CHECK_EQ(omit, TRI_AUDIT_STAGE_REQUEST_RECEIVED | TRI_AUDIT_STAGE_RESPONSE_STARTED);
    eval(p, &admin, "GET", "/api/v1/namespaces/d/services", &omit);
    CHECK_EQ(omit, TRI_AUDIT_STAGE_REQUEST_RECEIVED);
    /* secrets never above Metadata, whatever the rule says */
    CHECK_EQ(eval(p, &aud, "POST", "/api/v1/namespaces/d/secrets", NULL), TRI_AUDIT_METADATA);
    tri_audit_policy_free(p);

    p = parse_ok("{\"apiVersion\":\"audit.k8s.io/v1\",\"kind\":\"Policy\","
                 "\"rules\":[{\"level\":\"Request\"}]}");
    CHECK_EQ(eval(p, &admin, "POST", "/api/v1/namespaces/d/configmaps", NULL), TRI_AUDIT_REQUEST);
    CHECK_EQ(eval(p, &admin, "POST", "/api/v1/namespaces/d/secrets", NULL), TRI_AUDIT_METADATA);
    CHECK_EQ(eval(p, &admin, "POST", "/api/v1/namespaces/d/serviceaccounts/x/token", NULL),
             TRI_AUDIT_METADATA);
    CHECK_EQ(eval(p, &admin, "POST", "/apis/authentication.k8s.io/v1/tokenreviews", NULL),
             TRI_AUDIT_METADATA);
    CHECK_EQ(eval(p, &admin, "POST", "/api/v1/namespaces/d/serviceaccounts", NULL),
             TRI_AUDIT_REQUEST);
    tri_audit_policy_free(p);
}

static void test_policy_default(void)
{
    tri_audit_policy_t *p = tri_audit_policy_default(TRI_AUDIT_METADATA);
    tri_user_t anon = user("system:anonymous", "system:unauthenticated");
    const char *probes[] = {"/livez", "/readyz", "/healthz", "/readyz/ping", "/livez?verbose"};
    for (size_t i = 0; i < sizeof probes / sizeof probes[0]; i++)
        CHECK_EQ(eval(p, &anon, "GET", probes[i], NULL), TRI_AUDIT_NONE);
    CHECK_EQ(eval(p, &anon, "GET", "/readyzz", NULL), TRI_AUDIT_METADATA);
    CHECK_EQ(eval(p, &anon, "GET", "/metrics", NULL), TRI_AUDIT_METADATA);
    CHECK_EQ(eval(p, &anon, "GET", "/api/v1/pods", NULL), TRI_AUDIT_METADATA);
    tri_audit_policy_free(p);
    p = tri_audit_policy_default(TRI_AUDIT_NONE);
    CHECK_EQ(tri_audit_policy_max_level(p), TRI_AUDIT_NONE);
    CHECK_EQ(eval(p, &anon, "GET", "/api/v1/pods", NULL), TRI_AUDIT_NONE);
    tri_audit_policy_free(p);
}

static void test_policy_refusals(void)
{
    const char *head = "apiVersion: audit.k8s.io/v1\nkind: Policy\n";
    char buf[1024];
#define BAD(body, want)                                                                            \
    do {                                                                                           \
        snprintf(buf, sizeof buf, "%s%s", head, body);                                             \
        parse_fails(buf, want);                                                                    \
    } while (0)
    BAD("rules:\n- level: Loud\n", "rules[0].level");
    BAD("rules:\n- level: RequestResponse\n", "RequestResponse");
    BAD("rules:\n- level: None\n- {}\n", "rules[1].level");
    BAD("rules:\n- level: None\n  user: [x]\n", "unknown field \"user\"");
    BAD("rules:\n- level: None\n  verbs: get\n", "rules[0].verbs");
    BAD("rules:\n- level: None\n  verbs: [1]\n", "rules[0].verbs[0]");
    BAD("rules:\n- level: None\n  nonResourceURLs: [/x]\n  namespaces: [a]\n", "both");
    BAD("rules:\n- level: None\n  nonResourceURLs: [x]\n", "must start with /");
    BAD("rules:\n- level: None\n  nonResourceURLs: [/a*b]\n", "only allowed at the end");
    BAD("rules:\n- level: None\n  resources: [{group: 1}]\n", "resources[0].group");
    BAD("rules:\n- level: None\n  resources: [{groups: [a]}]\n", "unknown field \"groups\"");
    BAD("rules:\n- level: None\n  omitStages: [Later]\n", "rules[0].omitStages[0]");
    BAD("omitStages: Later\nrules:\n- level: None\n", "omitStages");
    BAD("rules: []\n", "at least one rule");
    BAD("rules:\n- level: None\n  omitManagedFields: maybe\n", "omitManagedFields");
    BAD("rulez:\n- level: None\n", "unknown field \"rulez\"");
#undef BAD
    parse_fails("apiVersion: v1\nkind: Policy\nrules:\n- level: None\n", "apiVersion");
    parse_fails("apiVersion: audit.k8s.io/v1\nkind: ConfigMap\nrules:\n- level: None\n", "kind");
    parse_fails("[1, 2]", "mapping");
    parse_fails("rules: [unclosed\n", "YAML");
    parse_fails("", "");
}

static void test_reqinfo(void)
{
    tri_audit_reqinfo_t in;
#define RI(m, u) tri_audit_reqinfo_parse(m, strlen(m), u, strlen(u), &in)
    RI("GET", "/api/v1/namespaces/d/configmaps/a");
    CHECK(in.resource_request && !strcmp(in.verb, "get") && !strcmp(in.namespace_, "d") &&
          !strcmp(in.resource, "configmaps") && !strcmp(in.name, "a") && !in.api_group[0] &&
          !strcmp(in.api_version, "v1"));
    RI("GET", "/api/v1/namespaces/d/configmaps?limit=500");
    CHECK(!strcmp(in.verb, "list") && !in.name[0] &&
          !strcmp(in.path, "/api/v1/namespaces/d/configmaps"));
    RI("GET", "/api/v1/namespaces/d/configmaps?fieldSelector=metadata.name%3Da&watch=true");
    CHECK(!strcmp(in.verb, "watch") && !strcmp(in.name, "a"));
    RI("GET", "/api/v1/watch/namespaces/d/pods");
    CHECK(!strcmp(in.verb, "watch") && !strcmp(in.resource, "pods") && !strcmp(in.namespace_, "d"));
    RI("DELETE", "/apis/apps/v1/namespaces/d/deployments");
    CHECK(!strcmp(in.verb, "deletecollection") && !strcmp(in.api_group, "apps"));
    RI("PATCH", "/apis/apps/v1/namespaces/d/deployments/x/scale");
    CHECK(!strcmp(in.verb, "patch") && !strcmp(in.subresource, "scale") && !strcmp(in.name, "x"));
    RI("PUT", "/api/v1/namespaces/d/finalize");
    CHECK(!strcmp(in.resource, "namespaces") && !strcmp(in.name, "d") &&
          !strcmp(in.subresource, "finalize") && !strcmp(in.verb, "update"));
    RI("GET", "/api/v1/namespaces/d");
    CHECK(!strcmp(in.resource, "namespaces") && !strcmp(in.name, "d") && !strcmp(in.verb, "get"));
    RI("GET", "/api/v1/nodes");
    CHECK(!strcmp(in.verb, "list") && !in.namespace_[0]);
    RI("POST", "/api/v1/namespaces/d/pods");
    CHECK(!strcmp(in.verb, "create"));
    RI("GET", "/apis/apps/v1");
    CHECK(!in.resource_request && !strcmp(in.verb, "get") && !strcmp(in.path, "/apis/apps/v1"));
    RI("GET", "/api/v1");
    CHECK(!in.resource_request);
    RI("OPTIONS", "/openapi/v3");
    CHECK(!in.resource_request && !strcmp(in.verb, "options"));
    RI("", "");
    CHECK(!in.resource_request && in.verb[0] == '\0');
#undef RI
}

static json_t *format(const tri_audit_event_t *ev)
{
    tri_buf_t b = {0};
    CHECK_EQ(tri_audit_event_format(ev, &b), 0);
    CHECK(b.len > 0 && b.data[b.len - 1] == '\n' &&
          memchr(b.data, '\n', b.len) == b.data + b.len - 1);
    json_error_t je;
    json_t *o = json_loadb(b.data, b.len, 0, &je);
    if (o == NULL) {
        fprintf(stderr, "not JSON (%s): %.*s", je.text, (int)b.len, b.data);
        exit(1);
    }
    tri_buf_free(&b);
    return o;
}

static const char *str_at(json_t *o, const char *a, const char *b)
{
    json_t *v = json_object_get(o, a);
    if (b)
        v = json_object_get(v, b);
    return json_string_value(v) ? json_string_value(v) : "";
}

static void test_event_format(void)
{
    tri_audit_reqinfo_t in;
    const char *url = "/api/v1/namespaces/d/configmaps?fieldManager=kubectl";
    tri_audit_reqinfo_parse("POST", 4, url, strlen(url), &in);
    tri_user_t u = user("admin", "system:masters");
    json_t *body = json_pack("{s:{s:s},s:{s:s}}", "metadata", "name", "a", "data", "k", "v");
    tri_audit_event_t ev = {
        .level = TRI_AUDIT_METADATA,
        .stage = TRI_AUDIT_STAGE_RESPONSE_COMPLETE,
        .audit_id = "0b391b18-2212-42f5-8064-b93fa4ea040b",
        .request_uri = url,
        .info = &in,
        .user = &u,
        .source_ip = "127.0.0.1",
        .user_agent = "kubectl \"quoted\" \x01 \xff\xfe caf\xc3\xa9",
        .code = 409,
        .reason = "AlreadyExists",
        .message = "configmaps \"a\" already exists",
        .received_us = 1700000000123456LL,
        .stage_us = 1700000000223456LL,
        .latency_ms = 100.0,
        .request_object = body,
    };
    json_t *o = format(&ev);
    CHECK(!strcmp(str_at(o, "kind", NULL), "Event"));
    CHECK(!strcmp(str_at(o, "apiVersion", NULL), "audit.k8s.io/v1"));
    CHECK(!strcmp(str_at(o, "level", NULL), "Metadata"));
    CHECK(!strcmp(str_at(o, "stage", NULL), "ResponseComplete"));
    CHECK(!strcmp(str_at(o, "verb", NULL), "create"));
    CHECK(!strcmp(str_at(o, "requestURI", NULL), url));
    CHECK(!strcmp(str_at(o, "user", "username"), "admin"));
    CHECK_EQ(json_array_size(json_object_get(json_object_get(o, "user"), "groups")), 2);
    CHECK(!strcmp(json_string_value(json_array_get(json_object_get(o, "sourceIPs"), 0)),
                  "127.0.0.1"));
    CHECK(!strcmp(str_at(o, "userAgent", NULL),
                  "kubectl \"quoted\" \x01 \xef\xbf\xbd\xef\xbf\xbd caf\xc3\xa9"));
    CHECK(!strcmp(str_at(o, "objectRef", "resource"), "configmaps"));
    CHECK(!strcmp(str_at(o, "objectRef", "namespace"), "d"));
    CHECK(json_object_get(json_object_get(o, "objectRef"), "apiGroup") == NULL);
    CHECK(json_object_get(json_object_get(o, "objectRef"), "name") == NULL);
    CHECK_EQ(json_integer_value(json_object_get(json_object_get(o, "responseStatus"), "code")),
             409);
    CHECK(!strcmp(str_at(o, "responseStatus", "status"), "Failure"));
    CHECK(!strcmp(str_at(o, "responseStatus", "reason"), "AlreadyExists"));
    CHECK(!strcmp(str_at(o, "requestReceivedTimestamp", NULL), "2023-11-14T22:13:20.123456Z"));
    CHECK(!strcmp(str_at(o, "stageTimestamp", NULL), "2023-11-14T22:13:20.223456Z"));
    CHECK(!strcmp(str_at(o, "annotations", "triarch.io/latency-ms"), "100.000"));
    CHECK(json_object_get(o, "requestObject") == NULL); /* Metadata: no body */
    json_decref(o);

    ev.level = TRI_AUDIT_REQUEST;
    ev.code = 201;
    ev.user = NULL;
    o = format(&ev);
    CHECK(!strcmp(str_at(o, "requestObject", "kind"), "") &&
          json_is_object(json_object_get(o, "requestObject")));
    CHECK(!strcmp(json_string_value(json_object_get(
                      json_object_get(json_object_get(o, "requestObject"), "data"), "k")),
                  "v"));
    CHECK(json_object_get(json_object_get(o, "responseStatus"), "status") == NULL);
    CHECK(!strcmp(str_at(o, "user", "username"), "system:anonymous"));
    json_decref(o);
    json_decref(body);
}

static void test_sizes(void)
{
    uint64_t b = 0;
    CHECK(tri_audit_parse_size("100", &b) == 0 && b == 100ull * 1024 * 1024);
    CHECK(tri_audit_parse_size("0.5", &b) == 0 && b == 512 * 1024);
    CHECK(tri_audit_parse_size("64KiB", &b) == 0 && b == 64 * 1024);
    CHECK(tri_audit_parse_size("2K", &b) == 0 && b == 2048);
    CHECK(tri_audit_parse_size("10MB", &b) == 0 && b == 10ull * 1024 * 1024);
    CHECK(tri_audit_parse_size("1GiB", &b) == 0 && b == 1024ull * 1024 * 1024);
    const char *bad[] = {"", "0", "-1", "x", "10 parsecs", "1e400", "0.0000001", "nan", "inf"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        CHECK(tri_audit_parse_size(bad[i], &b) != 0);
}

/* ---------- the writer ---------- */

static tri_audit_event_t sample_event(tri_audit_reqinfo_t *in, const char *ua)
{
    const char *url = "/api/v1/namespaces/d/configmaps/a";
    tri_audit_reqinfo_parse("GET", 3, url, strlen(url), in);
    return (tri_audit_event_t){.level = TRI_AUDIT_METADATA,
                               .stage = TRI_AUDIT_STAGE_RESPONSE_COMPLETE,
                               .audit_id = "x",
                               .request_uri = url,
                               .info = in,
                               .user_agent = ua,
                               .code = 200,
                               .received_us = 1,
                               .stage_us = 2};
}

static size_t count_lines(const char *path)
{
    FILE *f = fopen(path, "r");
    if (f == NULL)
        return 0;
    size_t n = 0;
    int c;
    while ((c = fgetc(f)) != EOF)
        n += c == '\n';
    fclose(f);
    return n;
}

static void test_rotation(void)
{
    char dir[] = "/tmp/tri-audit-XXXXXX";
    CHECK(mkdtemp(dir) != NULL);
    char path[256], old[256], recent[256];
    snprintf(path, sizeof path, "%s/logs/audit.log", dir);
    mkdir(strcat(strcpy(old, dir), "/logs"), 0700);
    /* a backup from 2001 (past max age) and one from a moment ago */
    snprintf(old, sizeof old, "%s/logs/audit-2001-01-01T00-00-00.000.log", dir);
    CHECK(fclose(fopen(old, "w")) == 0);
    time_t now = time(NULL) - 60;
    struct tm tm;
    gmtime_r(&now, &tm);
    char ts[32];
    strftime(ts, sizeof ts, "%Y-%m-%dT%H-%M-%S", &tm);
    snprintf(recent, sizeof recent, "%s/logs/audit-%s.000.log", dir, ts);
    CHECK(fclose(fopen(recent, "w")) == 0);
    tri_audit_config_t cfg = {
        .path = path, .max_size = "2KiB", .max_backups = 3, .max_age_days = 30};
    tri_audit_t *a = NULL;
    char err[256] = "";
    CHECK_EQ(tri_audit_new(&cfg, &a, err, sizeof err), 0);
    CHECK_EQ(tri_audit_start(a, err, sizeof err), 0);
    CHECK(access(old, F_OK) != 0 && errno == ENOENT); /* max age, at start */
    CHECK(access(recent, F_OK) == 0);
    tri_audit_reqinfo_t in;
    tri_audit_event_t ev = sample_event(&in, "unit");
    for (int i = 0; i < 200; i++)
        CHECK_EQ(tri_audit_emit(a, &ev), 0);
    tri_audit_stats_t st;
    tri_audit_free(a); /* drains */
    (void)st;
    char logs[256];
    snprintf(logs, sizeof logs, "%s/logs", dir);
    DIR *d = opendir(logs);
    struct dirent *e;
    size_t backups = 0, current = 0, lines = 0;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        char p[600];
        snprintf(p, sizeof p, "%s/%s", logs, e->d_name);
        struct stat sb;
        CHECK(stat(p, &sb) == 0 && sb.st_size <= 2048);
        CHECK((sb.st_mode & 0777) == 0600);
        if (strcmp(e->d_name, "audit.log") == 0) {
            current++;
            continue;
        }
        /* audit-YYYY-MM-DDTHH-MM-SS.mmm.log */
        CHECK(strlen(e->d_name) == strlen("audit-2001-01-01T00-00-00.000.log"));
        CHECK(!strncmp(e->d_name, "audit-20", 8) && !strcmp(e->d_name + 29, ".log"));
        CHECK(strcmp(e->d_name, "audit-2001-01-01T00-00-00.000.log") != 0);
        backups++;
        lines += count_lines(p);
    }
    closedir(d);
    CHECK_EQ(current, 1);
    CHECK_EQ(backups, 3); /* max_backups, the newest: the fake recent one is older */
    CHECK(access(recent, F_OK) != 0);
    CHECK(lines + count_lines(path) < 200); /* older ones were deleted */
    CHECK(count_lines(path) > 0);
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    CHECK(system(cmd) == 0);
}

typedef struct reader {
    int fd;
    size_t lines;
} reader_t;

static void *read_all(void *arg)
{
    reader_t *r = arg;
    char buf[65536];
    ssize_t n;
    while ((n = read(r->fd, buf, sizeof buf)) > 0 || (n < 0 && errno == EINTR))
        for (ssize_t i = 0; i < n; i++)
            r->lines += buf[i] == '\n';
    return NULL;
}

/* A stalled disk (a pipe nobody reads): the emitter never waits, the overflow is
 * dropped and counted, and every accepted event is written once the disk is back. */
static void test_stalled_disk_drops(void)
{
    char dir[] = "/tmp/tri-audit-XXXXXX";
    CHECK(mkdtemp(dir) != NULL);
    char path[256];
    snprintf(path, sizeof path, "%s/fifo", dir);
    CHECK(mkfifo(path, 0600) == 0);
    reader_t r = {.fd = open(path, O_RDONLY | O_NONBLOCK)};
    CHECK(r.fd >= 0);
    tri_audit_config_t cfg = {.path = path, .queue_events = 8};
    tri_audit_t *a = NULL;
    char err[256] = "";
    CHECK_EQ(tri_audit_new(&cfg, &a, err, sizeof err), 0);
    CHECK_EQ(tri_audit_start(a, err, sizeof err), 0);
    static char ua[8000];
    memset(ua, 'u', sizeof ua - 1);
    tri_audit_reqinfo_t in;
    tri_audit_event_t ev = sample_event(&in, ua);
    int dropped = 0;
    for (int i = 0; i < 300; i++)
        dropped += tri_audit_emit(a, &ev) != 0;
    tri_audit_stats_t st;
    tri_audit_get_stats(a, &st);
    CHECK(dropped > 0); /* 64 KiB of pipe + 8 queued cannot take 300 x 8 KB */
    CHECK_EQ(st.dropped, (uint64_t)dropped);
    CHECK_EQ(st.events + st.dropped, 300);
    fcntl(r.fd, F_SETFL, 0);
    pthread_t t;
    CHECK(pthread_create(&t, NULL, read_all, &r) == 0);
    tri_audit_free(a); /* drains into the pipe, then closes it: the reader sees EOF */
    pthread_join(t, NULL);
    close(r.fd);
    CHECK_EQ(r.lines, st.events);
    unlink(path);
    rmdir(dir);
}

/* ENOSPC: counted as write errors, nothing crashes, closing still returns. */
static void test_full_disk(void)
{
    tri_audit_config_t cfg = {.path = "/dev/full"};
    tri_audit_t *a = NULL;
    char err[256] = "";
    CHECK_EQ(tri_audit_new(&cfg, &a, err, sizeof err), 0);
    if (tri_audit_start(a, err, sizeof err) != 0) {
        fprintf(stderr, "skipping the full-disk case: %s\n", err);
        tri_audit_free(a);
        return;
    }
    tri_audit_reqinfo_t in;
    tri_audit_event_t ev = sample_event(&in, "x");
    for (int i = 0; i < 5; i++)
        CHECK_EQ(tri_audit_emit(a, &ev), 0);
    /* the writer counts as it goes; poll its counters (no sleeps asserted on) */
    tri_audit_stats_t st;
    for (int i = 0; i < 5000; i++) {
        tri_audit_get_stats(a, &st);
        if (st.write_errors == 5)
            break;
        usleep(1000);
    }
    CHECK_EQ(st.write_errors, 5);
    CHECK_EQ(st.written, 0);
    tri_audit_free(a);
}

static void test_audit_ids(void)
{
    tri_audit_config_t c = {.path = "-"};
    tri_audit_t *a = NULL;
    char err[200];
    CHECK_EQ(tri_audit_new(&c, &a, err, sizeof err), 0);
    static char ids[600][37];
    for (int i = 0; i < 600; i++) { /* past two refills of the random buffer */
        tri_audit_new_id(a, ids[i]);
        CHECK_EQ(strlen(ids[i]), 36);
        CHECK(ids[i][8] == '-' && ids[i][13] == '-' && ids[i][14] == '4' && ids[i][18] == '-' &&
              strchr("89ab", ids[i][19]) != NULL && ids[i][23] == '-');
        for (int j = 0; j < i; j++)
            CHECK(strcmp(ids[i], ids[j]) != 0);
    }
    tri_audit_free(a);
}

static void test_settings(void)
{
    tri_audit_t *a = NULL;
    char err[400] = "";
    tri_audit_config_t c = {.path = "/tmp/x.log", .level = "Loud"};
    CHECK(tri_audit_new(&c, &a, err, sizeof err) != 0 && strstr(err, "audit-level"));
    c = (tri_audit_config_t){.path = "/tmp/x.log", .max_size = "lots"};
    CHECK(tri_audit_new(&c, &a, err, sizeof err) != 0 && strstr(err, "audit-log-maxsize"));
    c = (tri_audit_config_t){.path = ""};
    CHECK(tri_audit_new(&c, &a, err, sizeof err) != 0 && strstr(err, "audit-log-path"));
    c = (tri_audit_config_t){.path = "/tmp/x.log", .policy_file = "/nonexistent/policy.yaml"};
    CHECK(tri_audit_new(&c, &a, err, sizeof err) != 0 && strstr(err, "audit-policy-file") &&
          strstr(err, "/nonexistent/policy.yaml"));
    c = (tri_audit_config_t){.path = "/tmp/x.log", .policy_file = "/p", .level = "None"};
    CHECK(tri_audit_new(&c, &a, err, sizeof err) != 0 && strstr(err, "both"));
    CHECK(a == NULL);
    /* level None: nothing is ever opened */
    c = (tri_audit_config_t){.path = "/nonexistent-dir-for-sure/x/audit.log", .level = "None"};
    CHECK_EQ(tri_audit_new(&c, &a, err, sizeof err), 0);
    CHECK_EQ(tri_audit_start(a, err, sizeof err), 0);
    CHECK(!tri_audit_enabled(a));
    tri_audit_free(a);
}

int main(void)
{
    test_policy_matching();
    test_policy_default();
    test_policy_refusals();
    test_reqinfo();
    test_event_format();
    test_sizes();
    test_settings();
    test_audit_ids();
    test_rotation();
    test_stalled_disk_drops();
    test_full_disk();
    printf("audit policy, events and writer: ok\n");
    return 0;
}
