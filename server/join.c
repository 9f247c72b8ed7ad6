/* `triarchd --join BUNDLE`: a member added at runtime starts from the join bundle
 * that `triarch member add` printed (docs/membership.md).
 *
 * The bundle is one JSON document (kind TriarchJoinBundle): the cluster id, the
 * new member's name and id, the members at the time of the add (name, id, peer
 * address), settings (peer-listen, api-listen, ...) and the key material (the
 * member's certificate and key, the CA, the service-account keys, the encryption
 * configuration). Every setting the flags or the config file leave unset is taken
 * from the bundle; the files are written once into DATA-DIR/pki (0700 directory,
 * 0600 files, never overwritten, so certificates renewed in place stay) and the
 * file settings point there. */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "triarch/util.h"


static int join_err(const char *path, const char *msg)
{
    fprintf(stderr, "triarchd: join bundle %s: %s\n", path, msg);
    return -1;
}

static bool safe_file_name(const char *s)
{
    if (s[0] == '\0' || s[0] == '.' || strlen(s) > 64)
        return false;
    for (const char *p = s; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
              *p == '.' || *p == '-' || *p == '_'))
            return false;
    return true;
}

/* Writes DIR/name with content unless it exists; 0 or -1 (message printed). */
static int install_file(const char *dir, const char *name, const char *content, char *path,
                        size_t cap)
{
    snprintf(path, cap, "%s/%s", dir, name);
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0 && errno == EEXIST)
        return 0;
    size_t len = strlen(content);
    if (fd < 0 || write(fd, content, len) != (ssize_t)len || fsync(fd) != 0) {
        fprintf(stderr, "triarchd: join: cannot write %s: %s\n", path, strerror(errno));
        if (fd >= 0) {
            close(fd);
            unlink(path);
        }
        return -1;
    }
    close(fd);
    return 0;
}

/* files: {file name: PEM}; fileSettings: {setting: file name}. */
static int install_files(tri_config_t *c, const char *bundle, json_t *files, json_t *map)
{
    char dir[4096];
    snprintf(dir, sizeof dir, "%s/pki", c->data_dir);
    bool made = false; /* DATA-DIR/pki exists (made only when a file goes there) */
    const char *setting;
    json_t *v;
    json_object_foreach(map, setting, v) {
        const char *fname = json_string_value(v);
        const char *content = fname ? json_string_value(json_object_get(files, fname)) : NULL;
        if (content == NULL || !safe_file_name(fname))
            return join_err(bundle, "fileSettings names a file the bundle does not carry");
        if (tri_config_is_set(c, setting))
            continue;
        if (!made && ((mkdir(c->data_dir, 0700) != 0 && errno != EEXIST) ||
                      (mkdir(dir, 0700) != 0 && errno != EEXIST)))
            return join_err(bundle, "cannot create DATA-DIR/pki");
        made = true;
        char path[4200];
        if (install_file(dir, fname, content, path, sizeof path) != 0)
            return -1;
        if (tri_config_default(c, setting, path) != 0)
            return join_err(bundle, "fileSettings names an unknown setting");
    }
    return 0;
}

/* initial-cluster "name=peer,..." and the ids "name=hex,...", from members. */
static int members_settings(tri_config_t *c, const char *bundle, json_t *members)
{
    tri_buf_t list = {0}, ids = {0};
    size_t i;
    json_t *m;
    int rc = 0;
    json_array_foreach(members, i, m) {
        const char *name = json_string_value(json_object_get(m, "name"));
        const char *peer = json_string_value(json_object_get(m, "peer"));
        const char *id = json_string_value(json_object_get(m, "id"));
        if (!name || !peer || !id || strchr(name, ',') || strchr(name, '=') || strchr(peer, ',') ||
            strtoull(id, NULL, 16) == 0) {
            rc = join_err(bundle, "a member without a name, peer address or id");
            break;
        }
        tri_buf_appendf(&list, "%s%s=%s", i ? "," : "", name, peer);
        tri_buf_appendf(&ids, "%s%s=%s", i ? "," : "", name, id);
    }
    if (rc == 0 && list.len == 0)
        rc = join_err(bundle, "no members");
    if (rc == 0 && !tri_config_is_set(c, "initial-cluster"))
        tri_config_default(c, "initial-cluster", list.data);
    if (rc == 0)
        c->join_ids = strdup(ids.data);
    tri_buf_free(&list);
    tri_buf_free(&ids);
    return rc;
}

static int apply_settings(tri_config_t *c, const char *bundle, json_t *settings)
{
    const char *k;
    json_t *v;
    json_object_foreach(settings, k, v) {
        if (!json_is_string(v))
            return join_err(bundle, "settings must be strings");
        if (strcmp(k, "data-dir") == 0 || strcmp(k, "join") == 0)
            continue;
        if (!tri_config_is_set(c, k) && tri_config_default(c, k, json_string_value(v)) != 0)
            return join_err(bundle, "settings names an unknown setting");
    }
    return 0;
}

static int apply_identity(tri_config_t *c, const char *bundle, json_t *b)
{
    const char *kind = json_string_value(json_object_get(b, "kind"));
    const char *cid = json_string_value(json_object_get(b, "clusterId"));
    const char *name = json_string_value(json_object_get(b, "name"));
    const char *id = json_string_value(json_object_get(b, "id"));
    if (kind == NULL || strcmp(kind, "TriarchJoinBundle") != 0)
        return join_err(bundle, "not a join bundle (kind TriarchJoinBundle)");
    if (cid == NULL || name == NULL || id == NULL || strtoull(id, NULL, 16) == 0)
        return join_err(bundle, "clusterId, name or id missing");
    if (c->cluster_id && strcmp(c->cluster_id, cid) != 0)
        return join_err(bundle, "belongs to another cluster than cluster-id");
    if (c->name && strcmp(c->name, name) != 0)
        return join_err(bundle, "was made for another member than name");
    tri_config_default(c, "cluster-id", cid);
    tri_config_default(c, "name", name);
    tri_config_default(c, "initial-cluster-state", "existing");
    c->join_id = strtoull(id, NULL, 16);
    return 0;
}

int tri_join_apply(tri_config_t *c)
{
    const char *path = c->join;
    if (c->data_dir == NULL)
        return join_err(path, "--join needs data-dir (where the member keeps its state)");
    json_error_t je;
    json_t *b = json_load_file(path, JSON_REJECT_DUPLICATES, &je);
    if (b == NULL) {
        fprintf(stderr, "triarchd: join bundle %s: line %d: %s\n", path, je.line, je.text);
        return -1;
    }
    json_t *members = json_object_get(b, "members"), *settings = json_object_get(b, "settings");
    json_t *files = json_object_get(b, "files"), *map = json_object_get(b, "fileSettings");
    int rc = apply_identity(c, path, b);
    if (rc == 0 && (!json_is_array(members) || !json_is_object(settings) ||
                    !json_is_object(files) || !json_is_object(map)))
        rc = join_err(path, "members, settings, files and fileSettings are required");
    if (rc == 0)
        rc = members_settings(c, path, members);
    if (rc == 0)
        rc = apply_settings(c, path, settings);
    if (rc == 0)
        rc = install_files(c, path, files, map);
    json_decref(b);
    return rc;
}
