/* `triarch init`: a cluster is born once. This file validates the member list, makes
 * the cluster id (UUID v4) and derives member ids the way triarchd does, asks pki.c
 * for the key material, and writes D/cluster.json plus one D/<name>/triarchd.yaml per
 * replica holding every key that replica needs. It also reads cluster.json back for
 * the other subcommands.
 *
 * init refuses a directory that already holds cluster.json: making a second cluster
 * id for the same replicas would let a wiped replica bootstrap a new cluster.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cli.h"
#include "triarch/errors.h"

/* FNV-1a 64-bit parameters (http://www.isthe.com/chongo/tech/comp/fnv/). */
#define TRI_FNV_OFFSET 14695981039346656037ULL
#define TRI_FNV_PRIME 1099511628211ULL
/* Default API port for a member whose --api was not given (kube-apiserver's). */
#define TRI_DEFAULT_API_PORT 6443
#define TRI_MAX_PORT 65535

uint64_t tri_member_id(const char *cluster_id, const char *name)
{
    uint64_t h = TRI_FNV_OFFSET;
    for (const char *p = cluster_id; *p; p++)
        h = (h ^ (uint8_t)*p) * TRI_FNV_PRIME;
    h = (h ^ (uint8_t)'/') * TRI_FNV_PRIME;
    for (const char *p = name; *p; p++)
        h = (h ^ (uint8_t)*p) * TRI_FNV_PRIME;
    return h == 0 ? 1 : h;
}

/* RFC 1123 label as Kubernetes checks it: [a-z0-9]([-a-z0-9]*[a-z0-9])?, at most 63. */
int tri_name_check(const char *s, size_t len)
{
    if (len == 0 || len > TRI_NAME_MAX)
        return 0;
    for (size_t i = 0; i < len; i++) {
        int ok = islower((unsigned char)s[i]) || isdigit((unsigned char)s[i]) ||
                 (s[i] == '-' && i > 0 && i + 1 < len);
        if (!ok)
            return 0;
    }
    return 1;
}

int tri_addr_check(const char *addr)
{
    const char *colon = strrchr(addr, ':');
    if (colon == NULL || colon == addr || (size_t)(colon - addr) >= INET_ADDRSTRLEN)
        return TRI_EINVAL;
    char ip[INET_ADDRSTRLEN];
    memcpy(ip, addr, (size_t)(colon - addr));
    ip[colon - addr] = '\0';
    struct in_addr a;
    if (inet_pton(AF_INET, ip, &a) != 1)
        return TRI_EINVAL;
    char *end;
    long port = strtol(colon + 1, &end, 10);
    if (colon[1] == '\0' || *end != '\0' || port < 1 || port > TRI_MAX_PORT)
        return TRI_EINVAL;
    return 0;
}

static tri_member_t *member_find(tri_cluster_t *c, const char *name, size_t len)
{
    for (size_t i = 0; i < c->n_members; i++)
        if (strlen(c->members[i].name) == len && memcmp(c->members[i].name, name, len) == 0)
            return &c->members[i];
    return NULL;
}

/* Splits one "name=addr" item; checks both. */
static int item_split(const char *item, size_t len, const char **name, size_t *name_len,
                      char addr[TRI_ADDR_MAX], char *err, size_t errlen)
{
    const char *eq = memchr(item, '=', len);
    if (eq == NULL) {
        snprintf(err, errlen, "'%.*s' is not name=ip:port", (int)len, item);
        return TRI_EINVAL;
    }
    *name = item;
    *name_len = (size_t)(eq - item);
    if (!tri_name_check(item, *name_len)) {
        snprintf(err, errlen,
                 "member name '%.*s' is not a DNS-1123 label (lowercase letters, digits, '-', "
                 "at most 63)",
                 (int)*name_len, item);
        return TRI_EINVAL;
    }
    size_t alen = len - *name_len - 1;
    if (alen >= TRI_ADDR_MAX) {
        snprintf(err, errlen, "address of '%.*s' is too long", (int)*name_len, item);
        return TRI_EINVAL;
    }
    memcpy(addr, eq + 1, alen);
    addr[alen] = '\0';
    if (tri_addr_check(addr) != 0) {
        snprintf(err, errlen, "address '%s' of member '%.*s' is not IPv4:port", addr,
                 (int)*name_len, item);
        return TRI_EINVAL;
    }
    return 0;
}

int tri_members_parse(tri_cluster_t *c, const char *spec, char *err, size_t errlen)
{
    c->n_members = 0;
    for (const char *p = spec; *p;) {
        const char *comma = strchr(p, ',');
        size_t len = comma ? (size_t)(comma - p) : strlen(p);
        const char *name;
        size_t nlen;
        char addr[TRI_ADDR_MAX];
        int rc = item_split(p, len, &name, &nlen, addr, err, errlen);
        if (rc != 0)
            return rc;
        if (member_find(c, name, nlen)) {
            snprintf(err, errlen, "member '%.*s' is listed twice", (int)nlen, name);
            return TRI_EINVAL;
        }
        if (c->n_members == TRI_MAX_MEMBERS) {
            snprintf(err, errlen, "at most %d members", TRI_MAX_MEMBERS);
            return TRI_EINVAL;
        }
        tri_member_t *m = &c->members[c->n_members++];
        memset(m, 0, sizeof *m);
        memcpy(m->name, name, nlen);
        memcpy(m->peer, addr, sizeof m->peer);
        p += len + (comma ? 1 : 0);
    }
    if (c->n_members == 0) {
        snprintf(err, errlen, "--members lists no member");
        return TRI_EINVAL;
    }
    return 0;
}

int tri_members_parse_api(tri_cluster_t *c, const char *spec, char *err, size_t errlen)
{
    for (const char *p = spec; *p;) {
        const char *comma = strchr(p, ',');
        size_t len = comma ? (size_t)(comma - p) : strlen(p);
        const char *name;
        size_t nlen;
        char addr[TRI_ADDR_MAX];
        int rc = item_split(p, len, &name, &nlen, addr, err, errlen);
        if (rc != 0)
            return rc;
        tri_member_t *m = member_find(c, name, nlen);
        if (m == NULL) {
            snprintf(err, errlen, "--api names '%.*s', which is not in --members", (int)nlen, name);
            return TRI_EINVAL;
        }
        memcpy(m->api, addr, sizeof m->api);
        p += len + (comma ? 1 : 0);
    }
    return 0;
}

/* Members without --api listen on <peer ip>:6443; every address must be unique. */
static int members_finish(tri_cluster_t *c, char *err, size_t errlen)
{
    for (size_t i = 0; i < c->n_members; i++) {
        tri_member_t *m = &c->members[i];
        if (m->api[0] == '\0') {
            const char *colon = strrchr(m->peer, ':');
            char api[TRI_ADDR_MAX];
            snprintf(api, sizeof api, "%.*s:%d", (int)(colon - m->peer), m->peer,
                     TRI_DEFAULT_API_PORT);
            memcpy(m->api, api, sizeof m->api);
        }
    }
    const char *addrs[2 * TRI_MAX_MEMBERS + 1];
    size_t n = 0;
    for (size_t i = 0; i < c->n_members; i++) {
        addrs[n++] = c->members[i].peer;
        addrs[n++] = c->members[i].api;
    }
    if (c->lb[0])
        addrs[n++] = c->lb;
    for (size_t i = 0; i < n; i++) {
        for (size_t j = i + 1; j < n; j++) {
            if (strcmp(addrs[i], addrs[j]) == 0) {
                snprintf(err, errlen,
                         "address %s is used twice (every peer, API and LB address must "
                         "differ; give --api explicitly)",
                         addrs[i]);
                return TRI_EINVAL;
            }
        }
    }
    return 0;
}

int tri_cluster_json_write(const tri_cluster_t *c)
{
    json_t *root = json_object();
    json_t *members = json_array();
    int rc = TRI_ENOMEM;
    if (root == NULL || members == NULL)
        goto out;
    for (size_t i = 0; i < c->n_members; i++) {
        const tri_member_t *m = &c->members[i];
        char id[24];
        snprintf(id, sizeof id, "%llu", (unsigned long long)m->id);
        /* The id goes as a decimal string: JSON numbers lose precision past 2^53. */
        json_t *o = json_pack("{s:s, s:s, s:s, s:s}", "name", m->name, "id", id, "peer", m->peer,
                              "api", m->api);
        if (o == NULL || json_array_append_new(members, o) != 0)
            goto out;
    }
    json_object_set_new(root, "clusterId", json_string(c->id));
    json_object_set(root, "members", members);
    json_object_set_new(root, "lb", c->lb[0] ? json_string(c->lb) : json_null());
    char *text = json_dumps(root, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    if (text == NULL)
        goto out;
    char path[TRI_PATH_MAX];
    rc = tri_path(path, sizeof path, "%s/cluster.json", c->dir);
    if (rc == 0) {
        size_t len = strlen(text);
        text[len] = '\n'; /* replace NUL; written length includes the newline */
        rc = tri_file_write(path, text, len + 1, 0644);
    }
    free(text);
out:
    json_decref(members);
    json_decref(root);
    return rc;
}

/* A double-quoted YAML scalar: escapes backslash and quote. */
static int yaml_kv(tri_buf_t *b, const char *key, const char *value)
{
    int rc = tri_buf_appendf(b, "%s: \"", key);
    for (const char *p = value; rc == 0 && *p; p++) {
        if (*p == '"' || *p == '\\')
            rc = tri_buf_append(b, "\\", 1);
        if (rc == 0)
            rc = tri_buf_append(b, p, 1);
    }
    return rc ? rc : tri_buf_append(b, "\"\n", 2);
}

int tri_member_yaml_write(const tri_cluster_t *c, const tri_member_t *m, const char *join)
{
    tri_buf_t initial = {0}, y = {0};
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < c->n_members; i++)
        rc = tri_buf_appendf(&initial, "%s%s=%s", i ? "," : "", c->members[i].name,
                             c->members[i].peer);
    if (rc == 0)
        rc = tri_buf_append(&initial, "", 1);
    if (rc == 0)
        rc = tri_buf_appendf(&y, "# triarchd config for %s, written by `triarch %s`.\n", m->name,
                             join ? "member add" : "init");
    char p[TRI_PATH_MAX];
#define KV(k, v)                                                                                   \
    do {                                                                                           \
        if (rc == 0)                                                                               \
            rc = yaml_kv(&y, k, v);                                                                \
    } while (0)
#define KVPATH(k, fmt, ...)                                                                        \
    do {                                                                                           \
        if (rc == 0)                                                                               \
            rc = tri_path(p, sizeof p, fmt, __VA_ARGS__);                                          \
        KV(k, p);                                                                                  \
    } while (0)
    KV("name", m->name);
    KV("cluster-id", c->id);
    KVPATH("data-dir", "%s/%s/data", c->dir, m->name);
    KV("peer-listen", m->peer);
    KV("api-listen", m->api);
    KV("initial-cluster", rc == 0 ? initial.data : "");
    KV("initial-cluster-state", join ? "existing" : "new");
    if (join != NULL)
        KV("join", join);
    KVPATH("tls-cert-file", "%s/pki/%s.crt", c->dir, m->name);
    KVPATH("tls-key-file", "%s/pki/%s.key", c->dir, m->name);
    KVPATH("trusted-ca-file", "%s/pki/ca.crt", c->dir);
    KVPATH("client-ca-file", "%s/pki/ca.crt", c->dir);
    KVPATH("service-account-signing-key-file", "%s/pki/sa.key", c->dir);
    KVPATH("service-account-key-file", "%s/pki/sa.pub", c->dir);
    /* CIS 1.2.16: the audit log is on, outside the data dir (backups and wipes of
     * the data dir leave it alone); size/age/count retention use the defaults. */
    KVPATH("audit-log-path", "%s/%s/audit/audit.log", c->dir, m->name);
    KVPATH("encryption-provider-config", "%s/pki/encryption.yaml", c->dir);
    KVPATH("peer-cert-file", "%s/pki/%s.crt", c->dir, m->name);
    KVPATH("peer-key-file", "%s/pki/%s.key", c->dir, m->name);
    KVPATH("peer-trusted-ca-file", "%s/pki/ca.crt", c->dir);
    KVPATH("cluster-signing-cert-file", "%s/pki/ca.crt", c->dir);
    KVPATH("cluster-signing-key-file", "%s/pki/ca.key", c->dir);
#undef KV
#undef KVPATH
    if (rc == 0)
        rc = tri_path(p, sizeof p, "%s/%s", c->dir, m->name);
    if (rc == 0)
        rc = tri_mkdir_p(p, 0700);
    if (rc == 0)
        rc = tri_path(p, sizeof p, "%s/%s/triarchd.yaml", c->dir, m->name);
    if (rc == 0)
        rc = tri_file_write(p, y.data, y.len, 0644);
    tri_buf_free(&initial);
    tri_buf_free(&y);
    return rc;
}

int tri_cluster_init(tri_cluster_t *c)
{
    char path[TRI_PATH_MAX];
    if (tri_path(path, sizeof path, "%s/cluster.json", c->dir) != 0)
        return TRI_EINVAL;
    char err[256];
    if (members_finish(c, err, sizeof err) != 0) {
        tri_cli_err("%s", err);
        return TRI_EINVAL;
    }
    if (tri_file_exists(path)) {
        tri_cli_err("%s already holds a cluster (cluster.json exists); a cluster is born "
                    "once: use another --dir, or `triarch cluster up` to restart it",
                    c->dir);
        return TRI_EEXIST;
    }
    if (tri_mkdir_p(c->dir, 0755) != 0) {
        tri_cli_err("cannot create directory %s", c->dir);
        return TRI_EIO;
    }
    int rc = tri_uuid_v4(c->id);
    for (size_t i = 0; rc == 0 && i < c->n_members; i++)
        c->members[i].id = tri_member_id(c->id, c->members[i].name);
    if (rc == 0 && (rc = tri_pki_create(c)) != 0)
        tri_cli_err("cannot create certificates in %s/pki: %s", c->dir, tri_strerror(rc));
    if (rc == 0 && (rc = tri_encryption_config_create(c)) != 0)
        tri_cli_err("cannot write %s/pki/encryption.yaml: %s", c->dir, tri_strerror(rc));
    for (size_t i = 0; rc == 0 && i < c->n_members; i++)
        if ((rc = tri_member_yaml_write(c, &c->members[i], NULL)) != 0)
            tri_cli_err("cannot write %s/%s/triarchd.yaml", c->dir, c->members[i].name);
    /* cluster.json last: its presence means the directory is complete. */
    if (rc == 0 && (rc = tri_cluster_json_write(c)) != 0)
        tri_cli_err("cannot write %s", path);
    return rc;
}

static int member_load(json_t *o, tri_member_t *m)
{
    const char *name, *id, *peer, *api;
    if (json_unpack(o, "{s:s, s:s, s:s, s:s}", "name", &name, "id", &id, "peer", &peer, "api",
                    &api) != 0)
        return TRI_ECORRUPT;
    if (strlen(name) > TRI_NAME_MAX || strlen(peer) >= TRI_ADDR_MAX || strlen(api) >= TRI_ADDR_MAX)
        return TRI_ECORRUPT;
    strcpy(m->name, name);
    strcpy(m->peer, peer);
    strcpy(m->api, api);
    m->id = strtoull(id, NULL, 10);
    return 0;
}

int tri_cluster_load(const char *dir, tri_cluster_t *c)
{
    memset(c, 0, sizeof *c);
    if (realpath(dir, c->dir) == NULL)
        return TRI_ENOENT;
    char path[TRI_PATH_MAX];
    if (tri_path(path, sizeof path, "%s/cluster.json", c->dir) != 0)
        return TRI_EINVAL;
    json_error_t jerr;
    json_t *root = json_load_file(path, 0, &jerr);
    if (root == NULL)
        return tri_file_exists(path) ? TRI_ECORRUPT : TRI_ENOENT;
    int rc = TRI_ECORRUPT;
    const char *id = json_string_value(json_object_get(root, "clusterId"));
    json_t *members = json_object_get(root, "members");
    const char *lb = json_string_value(json_object_get(root, "lb"));
    if (id == NULL || strlen(id) != 36 || !json_is_array(members) ||
        json_array_size(members) == 0 || json_array_size(members) > TRI_MAX_MEMBERS)
        goto out;
    if (lb && strlen(lb) >= sizeof c->lb)
        goto out;
    strcpy(c->id, id);
    snprintf(c->lb, sizeof c->lb, "%s", lb ? lb : "");
    rc = 0;
    for (size_t i = 0; rc == 0 && i < json_array_size(members); i++)
        rc = member_load(json_array_get(members, i), &c->members[c->n_members++]);
out:
    json_decref(root);
    return rc;
}

static void init_usage(FILE *f)
{
    fputs("Usage: triarch init --dir D --members NAME=IP:PORT,... [options]\n"
          "\n"
          "Makes a new cluster in D: cluster id, CA, replica and admin certificates,\n"
          "the encryption-at-rest key file (D/pki/encryption.yaml: Secrets are\n"
          "encrypted with AES-256-GCM), D/cluster.json and D/<name>/triarchd.yaml per\n"
          "member. Refuses a D that already holds a cluster.\n"
          "\n"
          "  --dir D                 cluster directory (created if missing)\n"
          "  --members LIST          name=ip:port of each replica's Raft (peer) address\n"
          "  --api LIST              name=ip:port of each replica's API address\n"
          "                          (default: the peer IP, port 6443)\n"
          "  --lb IP:PORT            load balancer address (added to the certificates)\n"
          "  --san IP|DNS            extra subject alternative name (repeatable)\n"
          "  -h, --help              this help\n"
          "\n"
          "Names are DNS-1123 labels; addresses are IPv4 literals.\n",
          f);
}

int tri_cmd_init(int argc, char **argv)
{
    static const struct option opts[] = {{"dir", required_argument, NULL, 'd'},
                                         {"members", required_argument, NULL, 'm'},
                                         {"api", required_argument, NULL, 'a'},
                                         {"lb", required_argument, NULL, 'l'},
                                         {"san", required_argument, NULL, 's'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    tri_cluster_t *c = calloc(1, sizeof *c);
    const char *dir = NULL, *members = NULL, *api = NULL;
    int rc = 2, opt;
    char err[256];
    if (c == NULL)
        return 1;
    optind = 1;
    while ((opt = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (opt) {
        case 'd':
            dir = optarg;
            break;
        case 'm':
            members = optarg;
            break;
        case 'a':
            api = optarg;
            break;
        case 'l':
            if (tri_addr_check(optarg) != 0 || strlen(optarg) >= sizeof c->lb) {
                tri_cli_err("--lb %s is not IPv4:port", optarg);
                goto out;
            }
            strcpy(c->lb, optarg);
            break;
        case 's':
            if (c->n_sans == TRI_MAX_SANS) {
                tri_cli_err("at most %d --san", TRI_MAX_SANS);
                goto out;
            }
            c->sans[c->n_sans++] = optarg;
            break;
        case 'h':
            init_usage(stdout);
            rc = 0;
            goto out;
        default:
            init_usage(stderr);
            goto out;
        }
    }
    if (optind < argc || dir == NULL || members == NULL) {
        tri_cli_err(optind < argc ? "unexpected argument '%s'" : "init needs --dir and --members",
                    optind < argc ? argv[optind] : "");
        init_usage(stderr);
        goto out;
    }
    for (size_t i = 0; i < c->n_sans; i++) {
        for (const char *p = c->sans[i]; *p; p++) {
            if (!isalnum((unsigned char)*p) && !strchr(".-:", *p)) {
                tri_cli_err("--san '%s' is neither an IP address nor a DNS name", c->sans[i]);
                goto out;
            }
        }
    }
    if (tri_members_parse(c, members, err, sizeof err) != 0 ||
        (api && tri_members_parse_api(c, api, err, sizeof err) != 0) ||
        members_finish(c, err, sizeof err) != 0) {
        tri_cli_err("%s", err);
        goto out;
    }
    if (tri_mkdir_p(dir, 0755) != 0 || realpath(dir, c->dir) == NULL) {
        tri_cli_err("cannot create directory %s", dir);
        rc = 1;
        goto out;
    }
    rc = tri_cluster_init(c);
    rc = rc == 0 ? 0 : rc == TRI_EINVAL ? 2 : 1;
    if (rc == 0)
        printf("cluster %s created in %s (%zu members)\n", c->id, c->dir, c->n_members);
out:
    free(c);
    return rc;
}
