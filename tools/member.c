/* `triarch member list|add|remove|promote|transfer-leadership`: membership at
 * runtime (docs/membership.md).
 *
 * Changes go to the leader's /triarch/v1/members API with the admin certificate of
 * D/pki; the leader is found by asking each replica's /triarch/v1/status. A change
 * refused because another is in flight (409 Conflict) or because leadership just
 * moved (503 NotLeader) is retried for a while.
 *
 * `add` makes the new member's certificate with the CA in D/pki (key material never
 * reaches the cluster), asks the leader to add it (a fresh id, as a standby that
 * becomes a voter once it has caught up), and writes the join bundle: one JSON file,
 * 0600, with the cluster id, the member's id, the members, its settings and its key
 * material, which the operator carries to the new machine and gives to
 * `triarchd --join`. For the local cluster of D it also writes D/<name>/triarchd.yaml
 * and adds the member to D/cluster.json, so `triarch cluster up|down|status` manage it.
 */
#include <getopt.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "triarch/errors.h"

#define MEMBER_TIMEOUT_MS 30000 /* a promotion catches the member up first */
#define PROBE_MS 2000
#define RETRY_FOR_MS 30000
#define RETRY_STEP_MS 300
#define TRANSFER_WAIT_MS 3000 /* a transfer's target wins within an election or never */

/* ---------- talking to the cluster ---------- */

/* The member whose status says it leads; NULL when none answers as leader. */
static const tri_member_t *find_leader(const tri_cluster_t *c)
{
    for (size_t i = 0; i < c->n_members; i++) {
        char url[TRI_PATH_MAX];
        long status;
        tri_buf_t body = {0};
        snprintf(url, sizeof url, "https://%s/triarch/v1/status", c->members[i].api);
        json_t *j = NULL;
        if (tri_http_get(c, url, PROBE_MS, &status, &body) == 0 && status == 200)
            j = json_loadb(body.data, body.len, 0, NULL);
        tri_buf_free(&body);
        const char *role = json_string_value(json_object_get(j, "role"));
        bool leads = role && strcmp(role, "leader") == 0;
        json_decref(j);
        if (leads)
            return &c->members[i];
    }
    return NULL;
}

static const char *status_message(json_t *j)
{
    const char *m = json_string_value(json_object_get(j, "message"));
    return m ? m : "(no message)";
}

/* One request to the leader, retried while no leader is known, leadership moves or
 * another change is in flight. Returns the HTTP status (0: no answer) and *out the
 * parsed body. */
static long leader_call(const tri_cluster_t *c, const char *method, const char *path,
                        const char *body, json_t **out)
{
    uint64_t deadline = tri_now_ms() + RETRY_FOR_MS;
    long status = 0;
    *out = NULL;
    for (;;) {
        json_decref(*out);
        *out = NULL;
        const tri_member_t *l = find_leader(c);
        if (l != NULL) {
            char url[TRI_PATH_MAX];
            tri_buf_t b = {0};
            snprintf(url, sizeof url, "https://%s%s", l->api, path);
            if (tri_http_do(c, method, url, body, MEMBER_TIMEOUT_MS, &status, &b) != 0)
                status = 0;
            if (b.len > 0)
                *out = json_loadb(b.data, b.len, 0, NULL);
            tri_buf_free(&b);
            const char *reason = json_string_value(json_object_get(*out, "reason"));
            bool retry = status == 503 || (status == 409 && reason &&
                                           strcmp(reason, "Conflict") == 0 &&
                                           strstr(status_message(*out), "in progress"));
            if (status != 0 && !retry)
                return status;
        }
        if (tri_now_ms() >= deadline)
            return status;
        tri_sleep_ms(RETRY_STEP_MS);
    }
}

/* ---------- list ---------- */

static int cmd_list(const tri_cluster_t *c)
{
    json_t *j = NULL;
    long status = 0;
    for (size_t i = 0; i < c->n_members && j == NULL; i++) {
        char url[TRI_PATH_MAX];
        tri_buf_t b = {0};
        snprintf(url, sizeof url, "https://%s/triarch/v1/members", c->members[i].api);
        if (tri_http_get(c, url, PROBE_MS, &status, &b) == 0 && status == 200)
            j = json_loadb(b.data, b.len, 0, NULL);
        tri_buf_free(&b);
    }
    if (j == NULL) {
        tri_cli_err("no replica answered /triarch/v1/members");
        return 1;
    }
    const char *leader = json_string_value(json_object_get(j, "leader"));
    printf("%-16s %-16s %-8s %-22s %-22s %s\n", "NAME", "ID", "ROLE", "PEER", "API", "LEADER");
    size_t i;
    json_t *m;
    json_array_foreach(json_object_get(j, "members"), i, m) {
        const char *name = json_string_value(json_object_get(m, "name"));
        const char *api = json_string_value(json_object_get(m, "api"));
        for (size_t k = 0; (api == NULL || *api == '\0') && k < c->n_members; k++)
            if (name && strcmp(c->members[k].name, name) == 0)
                api = c->members[k].api;
        bool learner = json_is_true(json_object_get(m, "learner"));
        char role[24];
        snprintf(role, sizeof role, "%s%s", json_string_value(json_object_get(m, "role")),
                 learner ? "*" : "");
        printf("%-16s %-16s %-8s %-22s %-22s %s\n", name ? name : "?",
               json_string_value(json_object_get(m, "id")), role,
               json_string_value(json_object_get(m, "peer")), api && *api ? api : "-",
               leader && name && strcmp(leader, name) == 0 ? "*" : "");
    }
    json_decref(j);
    return 0;
}

/* ---------- add ---------- */

typedef struct add_opts {
    const char *name, *peer, *api, *out;
    bool learner;
} add_opts_t;

static int add_check(const tri_cluster_t *c, const add_opts_t *o)
{
    if (!tri_name_check(o->name, strlen(o->name))) {
        tri_cli_err("member name \"%s\" is not a DNS-1123 label", o->name);
        return 2;
    }
    if (tri_addr_check(o->peer) != 0 || tri_addr_check(o->api) != 0) {
        tri_cli_err("--peer and --api must be IPv4 ip:port");
        return 2;
    }
    if (strcmp(o->peer, o->api) == 0 || (c->lb[0] && (!strcmp(o->peer, c->lb) ||
                                                     !strcmp(o->api, c->lb)))) {
        tri_cli_err("every peer, API and load balancer address must differ");
        return 2;
    }
    for (size_t i = 0; i < c->n_members; i++) {
        const tri_member_t *m = &c->members[i];
        if (strcmp(m->name, o->name) == 0) {
            tri_cli_err("%s is already a member in %s/cluster.json", o->name, c->dir);
            return 1;
        }
        if (!strcmp(m->peer, o->peer) || !strcmp(m->api, o->peer) || !strcmp(m->peer, o->api) ||
            !strcmp(m->api, o->api)) {
            tri_cli_err("member %s already uses one of these addresses", m->name);
            return 2;
        }
    }
    if (c->n_members == TRI_MAX_MEMBERS) {
        tri_cli_err("a cluster has at most %d members", TRI_MAX_MEMBERS);
        return 1;
    }
    return 0;
}

static int add_file(json_t *files, const tri_cluster_t *c, const char *name)
{
    char path[TRI_PATH_MAX];
    tri_buf_t b = {0};
    if (tri_path(path, sizeof path, "%s/pki/%s", c->dir, name) != 0 || tri_file_read(path, &b) != 0) {
        tri_cli_err("cannot read %s", path);
        return TRI_EIO;
    }
    json_object_set_new(files, name, json_stringn(b.data, b.len));
    tri_buf_free(&b);
    return 0;
}

/* The join bundle (see server/join.c for the reader). */
static json_t *bundle_make(const tri_cluster_t *c, const add_opts_t *o, const char *id,
                           json_t *members)
{
    char crt[TRI_NAME_MAX + 8], key[TRI_NAME_MAX + 8];
    snprintf(crt, sizeof crt, "%s.crt", o->name);
    snprintf(key, sizeof key, "%s.key", o->name);
    json_t *files = json_object();
    const char *names[] = {"ca.crt", "ca.key", crt, key, "sa.key", "sa.pub", "encryption.yaml"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (add_file(files, c, names[i]) != 0) {
            json_decref(files);
            return NULL;
        }
    json_t *map = json_pack(
        "{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "tls-cert-file", crt,
        "tls-key-file", key, "trusted-ca-file", "ca.crt", "client-ca-file", "ca.crt",
        "service-account-signing-key-file", "sa.key", "service-account-key-file", "sa.pub",
        "encryption-provider-config", "encryption.yaml", "peer-cert-file", crt, "peer-key-file",
        key, "peer-trusted-ca-file", "ca.crt", "cluster-signing-cert-file", "ca.crt",
        "cluster-signing-key-file", "ca.key");
    json_t *settings = json_pack("{s:s, s:s}", "peer-listen", o->peer, "api-listen", o->api);
    return json_pack("{s:s, s:s, s:s, s:s, s:s, s:O, s:o, s:o, s:o}", "apiVersion",
                     "triarch.io/v1", "kind", "TriarchJoinBundle", "clusterId", c->id, "name",
                     o->name, "id", id, "members", members, "settings", settings, "files", files,
                     "fileSettings", map);
}

static int bundle_write(const char *path, json_t *bundle)
{
    char *text = json_dumps(bundle, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    int rc = text ? tri_file_write(path, text, strlen(text), 0600) : TRI_ENOMEM;
    free(text);
    if (rc != 0)
        tri_cli_err("cannot write the join bundle to %s", path);
    return rc;
}

/* The local cluster of D learns the member: cluster.json and D/<name>/triarchd.yaml. */
static int add_local(tri_cluster_t *c, const add_opts_t *o, uint64_t id, const char *bundle)
{
    tri_member_t *m = &c->members[c->n_members];
    memset(m, 0, sizeof *m);
    snprintf(m->name, sizeof m->name, "%s", o->name);
    snprintf(m->peer, sizeof m->peer, "%s", o->peer);
    snprintf(m->api, sizeof m->api, "%s", o->api);
    m->id = id;
    c->n_members++;
    int rc = tri_member_yaml_write(c, m, bundle);
    if (rc == 0)
        rc = tri_cluster_json_write(c);
    if (rc != 0)
        tri_cli_err("cannot update %s/cluster.json or %s/%s/triarchd.yaml", c->dir, c->dir,
                    o->name);
    if (rc == 0 && c->lb[0])
        tri_haproxy_sync(c, false); /* the LB checks it and sends traffic once it is ready */
    return rc;
}

static int add_run(tri_cluster_t *c, const add_opts_t *o)
{
    tri_member_t nm = {0};
    snprintf(nm.name, sizeof nm.name, "%s", o->name);
    snprintf(nm.peer, sizeof nm.peer, "%s", o->peer);
    snprintf(nm.api, sizeof nm.api, "%s", o->api);
    if (tri_pki_issue_member(c, &nm) != 0) {
        tri_cli_err("cannot issue %s/pki/%s.crt with the CA in %s/pki", c->dir, o->name, c->dir);
        return 1;
    }
    json_t *req = json_pack("{s:s, s:s, s:s, s:b}", "name", o->name, "peer", o->peer, "api",
                            o->api, "learner", o->learner);
    char *body = json_dumps(req, JSON_COMPACT);
    json_decref(req);
    json_t *resp = NULL;
    long st = leader_call(c, "POST", "/triarch/v1/members", body, &resp);
    free(body);
    const char *id = json_string_value(json_object_get(resp, "id"));
    json_t *members = json_object_get(resp, "members");
    if (st != 201 || id == NULL || !json_is_array(members)) {
        tri_cli_err("the leader refused to add %s (HTTP %ld): %s", o->name, st,
                    st ? status_message(resp) : "no leader answered");
        json_decref(resp);
        return 1;
    }
    char path[TRI_PATH_MAX], dir[TRI_PATH_MAX];
    int rc = o->out ? tri_path(path, sizeof path, "%s", o->out)
                    : tri_path(path, sizeof path, "%s/%s/join.json", c->dir, o->name);
    if (rc == 0)
        rc = tri_path(dir, sizeof dir, "%s/%s", c->dir, o->name);
    json_t *bundle = rc == 0 ? bundle_make(c, o, id, members) : NULL;
    rc = bundle && tri_mkdir_p(dir, 0700) == 0 ? bundle_write(path, bundle) : TRI_EIO;
    if (rc == 0)
        rc = add_local(c, o, strtoull(id, NULL, 16), path);
    if (rc == 0)
        printf("member %s added (id %s) as a %s; join bundle: %s (0600, holds keys: carry it "
               "out of band)\nstart it with: triarchd --join %s --data-dir DIR  (or `triarch "
               "cluster up --dir %s`)\n",
               o->name, id, o->learner ? "learner (promote it with `triarch member promote`)"
                                       : "standby, a voter once it has caught up",
               path, path, c->dir);
    json_decref(bundle);
    json_decref(resp);
    return rc == 0 ? 0 : 1;
}

static void add_usage(FILE *f)
{
    fputs("Usage: triarch member add --dir D NAME --peer IP:PORT --api IP:PORT [--learner] "
          "[--out FILE]\n"
          "\n"
          "Adds a replica to the running cluster of D: issues its certificate with the CA in\n"
          "D/pki, asks the leader to add it (a fresh id; a standby until it has caught up,\n"
          "then a voter) and writes its join bundle (default D/NAME/join.json). Start the\n"
          "new replica with `triarchd --join BUNDLE --data-dir DIR`, or `triarch cluster up\n"
          "--dir D` for a local cluster.\n"
          "\n"
          "  --peer IP:PORT   the new replica's Raft address\n"
          "  --api IP:PORT    its API address\n"
          "  --learner        stay a non-voting standby until `triarch member promote`\n"
          "  --out FILE       where to write the join bundle\n",
          f);
}

static int cmd_add(const char *dir, int argc, char **argv)
{
    static const struct option opts[] = {{"dir", required_argument, NULL, 'd'},
                                         {"peer", required_argument, NULL, 'p'},
                                         {"api", required_argument, NULL, 'a'},
                                         {"out", required_argument, NULL, 'o'},
                                         {"learner", no_argument, NULL, 'l'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    add_opts_t o = {0};
    int opt;
    optind = 1;
    while ((opt = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        if (opt == 'p')
            o.peer = optarg;
        else if (opt == 'a')
            o.api = optarg;
        else if (opt == 'o')
            o.out = optarg;
        else if (opt == 'l')
            o.learner = true;
        else if (opt == 'h')
            return add_usage(stdout), 0;
        else if (opt != 'd')
            return add_usage(stderr), 2;
    }
    if (optind + 1 != argc || o.peer == NULL || o.api == NULL) {
        tri_cli_err("member add needs NAME, --peer and --api");
        add_usage(stderr);
        return 2;
    }
    o.name = argv[optind];
    tri_cluster_t c;
    if (tri_cluster_load(dir, &c) != 0) {
        tri_cli_err("no cluster in %s (cluster.json missing or unreadable)", dir);
        return 1;
    }
    int rc = add_check(&c, &o);
    return rc != 0 ? rc : add_run(&c, &o);
}

/* ---------- remove, promote, transfer ---------- */

static int drop_local(tri_cluster_t *c, const char *name)
{
    for (size_t i = 0; i < c->n_members; i++)
        if (strcmp(c->members[i].name, name) == 0) {
            memmove(&c->members[i], &c->members[i + 1],
                    (c->n_members - i - 1) * sizeof c->members[0]);
            c->n_members--;
            int rc = tri_cluster_json_write(c);
            if (rc == 0 && c->lb[0])
                tri_haproxy_sync(c, false);
            return rc;
        }
    return 0;
}

/* Moves leadership off `name` when it leads; 0 once another member leads. A
 * transfer whose target does not win in time ends without effect: ask again. */
static int lead_elsewhere(const tri_cluster_t *c, const char *name)
{
    uint64_t end = tri_now_ms() + RETRY_FOR_MS;
    bool said = false;
    while (tri_now_ms() < end) {
        const tri_member_t *l = find_leader(c);
        if (l != NULL && strcmp(l->name, name) != 0)
            return 0;
        if (l != NULL) {
            if (!said)
                printf("%s is the leader: transferring leadership first\n", name);
            said = true;
            json_t *resp = NULL;
            long st = leader_call(c, "POST", "/triarch/v1/leader", "{}", &resp);
            json_decref(resp);
            if (st != 202 && st != 409)
                return TRI_EIO;
            for (uint64_t t = tri_now_ms() + TRANSFER_WAIT_MS; tri_now_ms() < t;
                 tri_sleep_ms(RETRY_STEP_MS / 3))
                if ((l = find_leader(c)) != NULL && strcmp(l->name, name) != 0)
                    return 0;
        } else {
            tri_sleep_ms(RETRY_STEP_MS);
        }
    }
    return TRI_ETIMEDOUT;
}

/* DELETE of the member once another one leads; leadership can come back to it
 * before the request lands (an election under load): then move it again. -1 when
 * leadership cannot be moved. */
static long remove_call(const tri_cluster_t *c, const char *name, json_t **resp)
{
    char path[TRI_PATH_MAX];
    snprintf(path, sizeof path, "/triarch/v1/members/%s", name);
    long st = 0;
    *resp = NULL;
    for (uint64_t end = tri_now_ms() + RETRY_FOR_MS; tri_now_ms() < end;) {
        if (lead_elsewhere(c, name) != 0)
            return -1;
        json_decref(*resp);
        st = leader_call(c, "DELETE", path, NULL, resp);
        if (st != 409 || !strstr(status_message(*resp), "transfer leadership first"))
            return st;
    }
    return st;
}

static int cmd_change(tri_cluster_t *c, const char *what, const char *name)
{
    char path[TRI_PATH_MAX];
    json_t *resp = NULL;
    long st;
    if (strcmp(what, "remove") == 0) {
        st = remove_call(c, name, &resp);
        if (st < 0) {
            tri_cli_err("could not move leadership off %s", name);
            return 1;
        }
    } else if (strcmp(what, "promote") == 0) {
        snprintf(path, sizeof path, "/triarch/v1/members/%s/promote", name);
        st = leader_call(c, "POST", path, "{}", &resp);
    } else {
        char body[128];
        snprintf(body, sizeof body, name ? "{\"name\":\"%s\"}" : "{}", name);
        st = leader_call(c, "POST", "/triarch/v1/leader", body, &resp);
    }
    if (st < 200 || st > 299) {
        tri_cli_err("%s %s failed (HTTP %ld): %s", what, name ? name : "", st,
                    st ? status_message(resp) : "no leader answered");
        json_decref(resp);
        return 1;
    }
    json_decref(resp);
    if (strcmp(what, "remove") == 0) {
        if (drop_local(c, name) != 0)
            tri_cli_err("removed, but cannot rewrite %s/cluster.json", c->dir);
        printf("member %s removed; it stops by itself once it learns of it, and its data dir "
               "can then be deleted\n", name);
    } else if (strcmp(what, "promote") == 0) {
        printf("member %s is a voter\n", name);
    } else {
        printf("leadership transfer started\n");
    }
    return 0;
}

static void usage(FILE *f)
{
    fputs("Usage: triarch member COMMAND --dir D [args]\n"
          "\n"
          "  list                           members, roles, addresses and the leader\n"
          "  add NAME --peer IP:PORT --api IP:PORT [--learner] [--out FILE]\n"
          "                                 add a replica; prints its join bundle's path\n"
          "  remove NAME                    remove a replica (leadership moves off it first)\n"
          "  promote NAME                   make a learner (standby) a voter\n"
          "  transfer-leadership [NAME]     move leadership (to NAME, or to any voter)\n",
          f);
}

int tri_cmd_member(int argc, char **argv)
{
    if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
        usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    const char *what = argv[1], *dir = NULL;
    for (int i = 2; i + 1 < argc; i++)
        if (strcmp(argv[i], "--dir") == 0)
            dir = argv[i + 1];
    for (int i = 2; i < argc; i++)
        if (strncmp(argv[i], "--dir=", 6) == 0)
            dir = argv[i] + 6;
    if (dir == NULL) {
        tri_cli_err("member %s needs --dir D", what);
        return 2;
    }
    if (strcmp(what, "add") == 0)
        return cmd_add(dir, argc - 1, argv + 1);
    const char *name = NULL;
    for (int i = 2; i < argc; i++) {
        if (strcmp(argv[i], "--dir") == 0)
            i++;
        else if (strncmp(argv[i], "--", 2) != 0 && name == NULL)
            name = argv[i];
    }
    tri_cluster_t c;
    if (tri_cluster_load(dir, &c) != 0) {
        tri_cli_err("no cluster in %s (cluster.json missing or unreadable)", dir);
        return 1;
    }
    if (strcmp(what, "list") == 0)
        return cmd_list(&c);
    if ((strcmp(what, "remove") == 0 || strcmp(what, "promote") == 0) && name != NULL)
        return cmd_change(&c, what, name);
    if (strcmp(what, "transfer-leadership") == 0)
        return cmd_change(&c, what, name);
    tri_cli_err("unknown or incomplete member command '%s'", what);
    usage(stderr);
    return 2;
}
