/* A replica's identity on disk and the bootstrap rules that protect it.
 *
 * The data dir holds `identity` (cluster id, member id, name), written once,
 * atomically (temp file, fsync, rename, fsync of the dir). A dir without it never
 * restarts silently: with --initial-cluster-state new it bootstraps only after every
 * other listed member has answered a PROBE; with `existing` it refuses.
 *
 * A PROBE answer says whether the peer holds an identity and whether it has ever
 * accepted raft traffic from the prober (`seen`). The peer keeps the ids it has
 * accepted raft or forward connections from in `peers-seen` (same atomic write, a
 * few bytes once per member in its lifetime). Every vote and every append
 * acknowledgement a member ever sent travelled over such a connection, so:
 *   - peer has an identity and has seen us: we took part in that cluster and our
 *     disk was wiped; bootstrapping again could vote twice in a term or lose
 *     committed entries. Refuse with TRI_EEXIST.
 *   - peer has an identity but never saw us: it bootstrapped the same initial
 *     configuration moments ago (replicas started a little apart); we have never
 *     voted or acknowledged anything, so our bootstrap (the same configuration
 *     entry at index 1) is exactly what a fresh member would hold. Go on.
 *   - peer has no identity (or is probing itself): "no cluster".
 * Without the `seen` refinement replicas started a few hundred ms apart would
 * refuse each other (the first to finish probing already holds an identity).
 *
 * tri_member_id_derive lives here too: initial member ids are FNV-1a 64 of
 * "cluster_id/name", never 0 (0 means "no server" to libraft).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "internal.h"
#include "triarch/log.h"

#define TRI_IDENTITY_FILE "identity"
#define TRI_SEEN_FILE "peers-seen"
#define TRI_IDENTITY_MAGIC "triarch-identity 1"
/* RAFT.md / etcd: peers are retried a few times a second while they come up. */
#define TRI_PROBE_RETRY_MS 200
#define FNV64_OFFSET 0xcbf29ce484222325ULL
#define FNV64_PRIME 0x100000001b3ULL

uint64_t tri_member_id_derive(const char *cluster_id, const char *name)
{
    uint64_t h = FNV64_OFFSET;
    for (const char *p = cluster_id; *p; p++)
        h = (h ^ (uint8_t)*p) * FNV64_PRIME;
    h = (h ^ (uint8_t)'/') * FNV64_PRIME;
    for (const char *p = name; *p; p++)
        h = (h ^ (uint8_t)*p) * FNV64_PRIME;
    return h == 0 ? 1 : h;
}

/* ---------- atomic small files ---------- */

static int fsync_dir(const char *dir)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY);
    if (fd < 0)
        return TRI_EIO;
    int rv = fsync(fd);
    close(fd);
    return rv == 0 ? 0 : TRI_EIO;
}

int tri_file_write_atomic(const char *dir, const char *name, const char *data, size_t len)
{
    char tmp[4096], dst[4096];
    snprintf(tmp, sizeof tmp, "%s/%s.tmp", dir, name);
    snprintf(dst, sizeof dst, "%s/%s", dir, name);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0)
        return TRI_EIO;
    ssize_t w = write(fd, data, len);
    int rv = (w == (ssize_t)len && fsync(fd) == 0) ? 0 : TRI_EIO;
    close(fd);
    if (rv == 0 && rename(tmp, dst) != 0)
        rv = TRI_EIO;
    if (rv == 0)
        rv = fsync_dir(dir);
    if (rv != 0) {
        tri_error("identity", "cannot write file", "dir=\"%s\" file=%s err=\"%s\"", dir, name,
                  strerror(errno));
        unlink(tmp);
    }
    return rv;
}

int tri_file_read_small(const char *dir, const char *name, char *buf, size_t cap, size_t *len)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return errno == ENOENT ? 0 : TRI_EIO;
    ssize_t r = read(fd, buf, cap - 1);
    close(fd);
    if (r < 0)
        return TRI_EIO;
    buf[r] = '\0';
    *len = (size_t)r;
    return 1;
}

/* ---------- identity file ---------- */

int tri_identity_write(const char *dir, const tri_identity_t *id)
{
    char buf[1024];
    int len = snprintf(buf, sizeof buf, "%s\ncluster_id=%s\nmember_id=%" PRIu64 "\nname=%s\n",
                       TRI_IDENTITY_MAGIC, id->cluster_id, id->id, id->name);
    if (len < 0 || (size_t)len >= sizeof buf)
        return TRI_EINVAL;
    return tri_file_write_atomic(dir, TRI_IDENTITY_FILE, buf, (size_t)len);
}

static int identity_field(char *line, const char *key, char *out, size_t cap)
{
    size_t klen = strlen(key);
    if (strncmp(line, key, klen) != 0 || line[klen] != '=')
        return 0;
    const char *v = line + klen + 1;
    if (strlen(v) >= cap)
        return -1;
    strcpy(out, v);
    return 1;
}

int tri_identity_read(const char *dir, tri_identity_t *out)
{
    char buf[1024], idbuf[32] = "";
    size_t len;
    int rv = tri_file_read_small(dir, TRI_IDENTITY_FILE, buf, sizeof buf, &len);
    if (rv <= 0)
        return rv;
    memset(out, 0, sizeof *out);
    char *save = NULL;
    char *line = strtok_r(buf, "\n", &save);
    if (line == NULL || strcmp(line, TRI_IDENTITY_MAGIC) != 0)
        return TRI_ECORRUPT;
    while ((line = strtok_r(NULL, "\n", &save)) != NULL) {
        if (identity_field(line, "cluster_id", out->cluster_id, sizeof out->cluster_id) < 0 ||
            identity_field(line, "name", out->name, sizeof out->name) < 0 ||
            identity_field(line, "member_id", idbuf, sizeof idbuf) < 0)
            return TRI_ECORRUPT;
    }
    char *end;
    out->id = strtoull(idbuf, &end, 10);
    if (out->cluster_id[0] == '\0' || out->name[0] == '\0' || idbuf[0] == '\0' || *end != '\0' ||
        out->id == 0)
        return TRI_ECORRUPT;
    return 1;
}

/* ---------- members we have accepted raft traffic from ---------- */

int tri_identity_load_seen(tri_node_t *n)
{
    char buf[8192];
    size_t len;
    int rv = tri_file_read_small(n->data_dir, TRI_SEEN_FILE, buf, sizeof buf, &len);
    if (rv <= 0)
        return rv;
    char *save = NULL;
    for (char *line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        uint64_t id = strtoull(line, NULL, 10);
        if (id == 0 || tri_identity_has_seen(n, id))
            continue;
        uint64_t *p = realloc(n->seen, (n->n_seen + 1) * sizeof *p);
        if (p == NULL)
            return TRI_ENOMEM;
        n->seen = p;
        n->seen[n->n_seen++] = id;
    }
    return 0;
}

bool tri_identity_has_seen(const tri_node_t *n, uint64_t id)
{
    for (size_t i = 0; i < n->n_seen; i++)
        if (n->seen[i] == id)
            return true;
    return false;
}

void tri_identity_note_seen(tri_node_t *n, uint64_t id)
{
    if (!n->has_identity || n->probing || id == 0 || tri_identity_has_seen(n, id))
        return;
    uint64_t *p = realloc(n->seen, (n->n_seen + 1) * sizeof *p);
    if (p == NULL)
        return;
    n->seen = p;
    n->seen[n->n_seen++] = id;
    tri_buf_t b = {0};
    for (size_t i = 0; i < n->n_seen; i++)
        tri_buf_appendf(&b, "%" PRIu64 "\n", n->seen[i]);
    if (b.data != NULL)
        tri_file_write_atomic(n->data_dir, TRI_SEEN_FILE, b.data, b.len);
    tri_buf_free(&b);
}

/* ---------- bootstrap probe ---------- */

static void probe_refuse(tri_node_t *n, int code)
{
    tri_identity_probe_cancel(n);
    n->probing = false;
    tri_error("identity", "refusing to bootstrap", "reason=\"%s\"", n->errmsg);
    tri_node_started(n, code);
}

static void probe_bootstrap(tri_node_t *n)
{
    tri_identity_probe_cancel(n);
    if (n->need_identity) {
        tri_identity_t id = {.id = n->id};
        snprintf(id.cluster_id, sizeof id.cluster_id, "%s", n->cluster_id);
        snprintf(id.name, sizeof id.name, "%s", n->name);
        if (tri_identity_write(n->data_dir, &id) != 0) {
            snprintf(n->errmsg, sizeof n->errmsg, "cannot write the identity file in %s",
                     n->data_dir);
            n->probing = false;
            tri_node_started(n, TRI_EIO);
            return;
        }
        n->has_identity = true;
    }
    n->probing = false;
    n->joining = false;
    tri_node_start_raft(n);
}

static void probe_check_done(tri_node_t *n)
{
    for (size_t i = 0; i < n->n_members; i++)
        if (n->probes[i].member != NULL && !n->probes[i].answered)
            return;
    tri_info("identity",
             n->joining ? "every listed peer reports no prior participation: joining"
                        : "every listed peer reports no prior participation: bootstrapping",
             "cluster=\"%s\" members=%zu", n->cluster_id, n->n_members);
    probe_bootstrap(n);
}

static void probe_dial_cb(tri_dial_t *d, int status, const tri_hs_reply_t *rep, tri_chan_t *ch,
                          void *data)
{
    tri_probe_t *p = data;
    tri_node_t *n = p->node;
    p->dial = NULL;
    if (ch != NULL)
        tri_chan_abandon(ch);
    if (status == TRI_ECANCELED || !n->probing)
        return;
    if (rep == NULL || rep->status == TRI_HS_NOT_READY)
        return; /* not up yet: retried by the tick */
    if (rep->status == TRI_HS_WRONG_CLUSTER) {
        snprintf(n->errmsg, sizeof n->errmsg,
                 "peer %s (%s) belongs to cluster %s, not %s: check --initial-cluster",
                 p->member->name, p->member->addr, rep->cluster_id, n->cluster_id);
        probe_refuse(n, TRI_EEXIST);
        return;
    }
    if (rep->status != TRI_HS_OK)
        return;
    if (rep->has_cluster && rep->seen_you && n->joining) {
        snprintf(n->errmsg, sizeof n->errmsg,
                 "peer %s has heard from this member before: its data dir was wiped, and "
                 "joining again with the same id could lose committed writes. Remove it "
                 "(`triarch member remove`) and add it again (`triarch member add`)",
                 p->member->name);
        probe_refuse(n, TRI_EEXIST);
        return;
    }
    if (rep->has_cluster && rep->seen_you) {
        snprintf(n->errmsg, sizeof n->errmsg,
                 "peer %s already belongs to cluster %s: this data dir was wiped or is new; "
                 "refusing to bootstrap. Use `triarch member add` to join a new member",
                 p->member->name, rep->cluster_id);
        probe_refuse(n, TRI_EEXIST);
        return;
    }
    if (rep->has_cluster)
        tri_info("identity", "peer already bootstrapped the same cluster and never heard from us",
                 "peer=%s cluster=\"%s\"", p->member->name, rep->cluster_id);
    p->answered = true;
    probe_check_done(n);
}

void tri_identity_probe_tick(tri_node_t *n, uint64_t now)
{
    if (!n->probing)
        return;
    if (now >= n->probe_deadline_ms) {
        tri_buf_t b = {0};
        for (size_t i = 0; i < n->n_members; i++)
            if (n->probes[i].member != NULL && !n->probes[i].answered)
                tri_buf_appendf(&b, "%s%s", b.len ? "," : "", n->probes[i].member->name);
        snprintf(n->errmsg, sizeof n->errmsg,
                 "peers %s did not answer within %u ms; refusing to %s without them%s",
                 b.data ? b.data : "?", n->bootstrap_wait_ms, n->joining ? "join" : "bootstrap",
                 n->joining ? " (a dead member: `triarch member remove` it, then add again)"
                            : "");
        tri_buf_free(&b);
        probe_refuse(n, TRI_EUNAVAIL);
        return;
    }
    if (now < n->probe_next_ms)
        return;
    n->probe_next_ms = now + TRI_PROBE_RETRY_MS;
    for (size_t i = 0; i < n->n_members; i++) {
        tri_probe_t *p = &n->probes[i];
        if (p->member == NULL || p->answered || p->dial != NULL)
            continue;
        p->dial = tri_tx_dial(n->tx, TRI_HS_PROBE, p->member->addr, p->member->id,
                              probe_dial_cb, p);
    }
}

int tri_identity_probe_start(tri_node_t *n)
{
    n->probes = calloc(n->n_members, sizeof *n->probes);
    if (n->probes == NULL)
        return TRI_ENOMEM;
    size_t others = 0;
    for (size_t i = 0; i < n->n_members; i++) {
        n->probes[i].node = n;
        if (n->members[i].id != n->id) {
            n->probes[i].member = &n->members[i];
            others++;
        }
    }
    n->probing = true;
    n->probe_deadline_ms = tri_now_ms() + n->bootstrap_wait_ms;
    n->probe_next_ms = 0;
    if (others == 0) {
        probe_check_done(n);
        return 0;
    }
    tri_identity_probe_tick(n, tri_now_ms());
    return 0;
}

void tri_identity_probe_cancel(tri_node_t *n)
{
    if (n->probes == NULL)
        return;
    for (size_t i = 0; i < n->n_members; i++)
        if (n->probes[i].dial != NULL)
            tri_tx_dial_cancel(n->probes[i].dial);
}
