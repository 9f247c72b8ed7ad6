/* Membership at runtime: the replicated member registry and the leader's add,
 * promote and remove operations (DESIGN.md "Membership"; docs/membership.md).
 *
 * libraft's configuration knows ids and peer addresses only. Names (what a peer
 * certificate's CN says) and API addresses live in a registry in the store, one
 * key per member ever added or removed: /triarch/members/<id, 16 hex digits>,
 * value "name=...\npeer=...\napi=...\nlearner=0|1\nremoved=0|1\n". The initial
 * members come from the configuration (ids derived from the cluster id and name)
 * and appear in the registry only once removed.
 *
 * A name resolves to: a registry entry of that name not removed (the newest when
 * there are several), else an initial member of that name whose id the registry
 * does not mark removed. So a removed member's certificate is refused at the TLS
 * handshake by every replica that applied the removal, and a name can be given to
 * a new member (with a new id) after its old holder was removed.
 *
 * Registry entries are read from the store when the FSM applies a write to the
 * registry or restores a snapshot (fsm.c), and from DATA-DIR/members at start, and
 * kept in a list that only grows: an id never changes its name, so the names handed
 * out stay valid for the node's lifetime. Lookups only read the list.
 *
 * Add (leader only, one change at a time, as libraft allows):
 *   registry PUT (the key must be absent) -> raft_add (spare) -> raft_assign
 *   standby (replicates, does not vote). Key material never passes through here:
 *   the CLI makes the new member's certificate and carries the join bundle.
 *   Unless added as a learner, the leader's tick promotes a standby to voter once
 *   this leader has accepted raft traffic from it (it runs); raft_assign catches it
 *   up first, so the quorum grows only when the new member holds the log.
 * Remove: registry marks it removed (replicated to the member itself, which then
 *   stops) -> raft_remove. The leader does not remove itself: leadership moves
 *   first (the CLI does that).
 */
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "internal.h"
#include "triarch/log.h"
#include "triarch/util.h"

#define REG_PREFIX "/triarch/members/"
#define REG_KEY_MAX 64
#define REG_VAL_MAX 512
/* How often the leader looks for a standby to promote, and how long it waits
 * after a failed attempt (the member was not caught up within a round). */
#define PROMOTE_CHECK_MS 100
#define PROMOTE_BACKOFF_MS 3000
/* Heartbeats between marking a member removed and removing it from Raft. */
#define REMOVE_NOTICE_HEARTBEATS 4

enum { OP_ADD = 1, OP_REMOVE, OP_PROMOTE };

typedef struct member_op {
    tri_node_t *node;
    tri_member_cb cb; /* NULL: the leader's own promotion */
    void *data;
    int kind;
    uint64_t id;
    bool learner;
    char name[TRI_NAME_MAX + 1], peer[TRI_ADDR_MAX + 1], api[TRI_ADDR_MAX + 1];
    char val[REG_VAL_MAX];
    tri_propose_t prop;
    struct raft_change change;
} member_op_t;

static const char *const op_names[] = {"", "add", "remove", "promote"};

struct tri_reg_member {
    tri_member_t m; /* id, name, addr (peer) */
    char api[TRI_ADDR_MAX + 1];
    bool learner;
    bool removed;
    int64_t create_rev;
    struct tri_reg_member *next;
};

/* ---------- registry ---------- */

static void reg_key(uint64_t id, char *out, size_t cap)
{
    snprintf(out, cap, REG_PREFIX "%016" PRIx64, id);
}

static bool val_field(const char *v, size_t len, const char *key, char *out, size_t cap)
{
    size_t klen = strlen(key);
    const char *end = v + len;
    for (const char *p = v; p < end;) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *le = nl ? nl : end;
        if ((size_t)(le - p) > klen && memcmp(p, key, klen) == 0 && p[klen] == '=') {
            size_t n = (size_t)(le - p) - klen - 1;
            if (n >= cap)
                return false;
            memcpy(out, p + klen + 1, n);
            out[n] = '\0';
            return true;
        }
        p = le + 1;
    }
    return false;
}

static tri_reg_member_t *reg_find_id(tri_node_t *n, uint64_t id)
{
    for (tri_reg_member_t *r = n->reg; r; r = r->next)
        if (r->m.id == id)
            return r;
    return NULL;
}

/* Merges one entry (the registry value format) for id; true when it changed. */
static bool reg_merge_val(tri_node_t *n, uint64_t id, const char *v, size_t len, int64_t crev)
{
    char name[TRI_NAME_MAX + 1], peer[TRI_ADDR_MAX + 1], api[TRI_ADDR_MAX + 1] = "", flag[4];
    if (id == 0 || !val_field(v, len, "name", name, sizeof name) ||
        !val_field(v, len, "peer", peer, sizeof peer))
        return false;
    val_field(v, len, "api", api, sizeof api);
    bool learner = val_field(v, len, "learner", flag, sizeof flag) && strcmp(flag, "1") == 0;
    bool removed = val_field(v, len, "removed", flag, sizeof flag) && strcmp(flag, "1") == 0;
    tri_reg_member_t *r = reg_find_id(n, id);
    if (r != NULL && r->learner == learner && r->removed == removed &&
        strcmp(r->m.addr, peer) == 0 && strcmp(r->api, api) == 0)
        return false;
    if (r == NULL) {
        r = calloc(1, sizeof *r);
        if (r == NULL)
            return false;
        r->m.id = id;
        snprintf(r->m.name, sizeof r->m.name, "%s", name);
        r->create_rev = crev;
        r->next = n->reg;
        n->reg = r;
    }
    snprintf(r->m.addr, sizeof r->m.addr, "%s", peer);
    snprintf(r->api, sizeof r->api, "%s", api);
    r->learner = learner;
    r->removed = removed;
    return true;
}

static bool reg_merge(tri_node_t *n, const tri_kv_t *kv)
{
    if (kv->key_len != strlen(REG_PREFIX) + 16)
        return false;
    uint64_t id = strtoull(kv->key + strlen(REG_PREFIX), NULL, 16);
    return reg_merge_val(n, id, kv->val->data, kv->val->len, kv->create_rev);
}

/* ---------- DATA-DIR/members: the registry as last seen ---------- */

#define MEMBERS_FILE "members"
#define MEMBERS_FILE_MAX 65536

/* One block per entry: "id=HEX\ncrev=N\n" then the registry value, then "\n". */
static void members_save(tri_node_t *n)
{
    if (!n->has_identity)
        return;
    tri_buf_t b = {0};
    for (const tri_reg_member_t *r = n->reg; r; r = r->next)
        tri_buf_appendf(&b, "id=%016" PRIx64 "\ncrev=%" PRId64 "\nname=%s\npeer=%s\napi=%s\n"
                            "learner=%d\nremoved=%d\n\n",
                        r->m.id, r->create_rev, r->m.name, r->m.addr, r->api, r->learner,
                        r->removed);
    if (b.data != NULL)
        tri_file_write_atomic(n->data_dir, MEMBERS_FILE, b.data, b.len);
    tri_buf_free(&b);
}

int tri_members_load(tri_node_t *n)
{
    char *buf = malloc(MEMBERS_FILE_MAX);
    size_t len = 0;
    int rv = buf ? tri_file_read_small(n->data_dir, MEMBERS_FILE, buf, MEMBERS_FILE_MAX, &len)
                 : TRI_ENOMEM;
    for (char *p = buf; rv == 1 && p < buf + len;) {
        char *end = strstr(p, "\n\n");
        size_t blen = end ? (size_t)(end - p) + 1 : (size_t)(buf + len - p);
        char id[24] = "", crev[24] = "0";
        val_field(p, blen, "id", id, sizeof id);
        val_field(p, blen, "crev", crev, sizeof crev);
        reg_merge_val(n, strtoull(id, NULL, 16), p, blen, strtoll(crev, NULL, 10));
        p += blen + 1;
    }
    free(buf);
    return rv < 0 ? rv : 0;
}

bool tri_members_key(const char *key, size_t len)
{
    return len >= strlen(REG_PREFIX) && memcmp(key, REG_PREFIX, strlen(REG_PREFIX)) == 0;
}

void tri_members_refresh(tri_node_t *n)
{
    char end[sizeof REG_PREFIX];
    size_t end_len = tri_prefix_end(REG_PREFIX, strlen(REG_PREFIX), end);
    tri_kvs_t kvs = {0};
    bool more = false;
    bool changed = false;
    if (tri_store_range(n->store, REG_PREFIX, strlen(REG_PREFIX), end, end_len, 0, 0, &kvs,
                        &more) == 0) {
        for (size_t i = 0; i < kvs.n; i++)
            changed |= reg_merge(n, &kvs.items[i]);
    }
    tri_kvs_free(&kvs);
    if (changed)
        members_save(n);
}

void tri_members_free(tri_node_t *n)
{
    while (n->reg) {
        tri_reg_member_t *r = n->reg;
        n->reg = r->next;
        free(r);
    }
}

static bool reg_removed(tri_node_t *n, uint64_t id)
{
    tri_reg_member_t *r = reg_find_id(n, id);
    return r != NULL && r->removed;
}

const tri_member_t *tri_members_by_name(tri_node_t *n, const char *name)
{
    const tri_reg_member_t *best = NULL;
    for (const tri_reg_member_t *r = n->reg; r; r = r->next)
        if (!r->removed && strcmp(r->m.name, name) == 0 &&
            (best == NULL || r->create_rev > best->create_rev))
            best = r;
    if (best != NULL)
        return &best->m;
    for (size_t i = 0; i < n->n_members; i++)
        if (strcmp(n->members[i].name, name) == 0 && !reg_removed(n, n->members[i].id))
            return &n->members[i];
    return NULL;
}

/* Name of an id, removed members included (logs, status); NULL if unknown. */
static const char *name_of(tri_node_t *n, uint64_t id, const char **api)
{
    tri_reg_member_t *r = reg_find_id(n, id);
    if (api != NULL)
        *api = r ? r->api : "";
    if (r != NULL)
        return r->m.name;
    for (size_t i = 0; i < n->n_members; i++)
        if (n->members[i].id == id)
            return n->members[i].name;
    return NULL;
}

const char *tri_node_member_name(tri_node_t *n, uint64_t id)
{
    const char *s = name_of(n, id, NULL);
    return s ? s : "?";
}

bool tri_members_name_removed(tri_node_t *n, const char *name)
{
    if (tri_members_by_name(n, name) != NULL)
        return false;
    for (const tri_reg_member_t *r = n->reg; r; r = r->next)
        if (r->removed && strcmp(r->m.name, name) == 0)
            return true;
    return false;
}

bool tri_node_self_removed(tri_node_t *n)
{
    return n->removed_notice || reg_removed(n, n->id);
}

void tri_node_on_removed(tri_node_t *n, tri_removed_cb cb, void *data)
{
    n->removed_cb = cb;
    n->removed_data = data;
}

static void removed_tick(tri_node_t *n)
{
    if (n->removed_cb == NULL || !tri_node_self_removed(n))
        return;
    tri_removed_cb cb = n->removed_cb;
    n->removed_cb = NULL;
    cb(n, n->removed_data);
}

/* ---------- listing ---------- */

int tri_node_members(tri_node_t *n, tri_member_info_t **out, size_t *count)
{
    *out = NULL;
    *count = 0;
    if (!n->raft_started || n->closing)
        return TRI_EUNAVAIL;
    const struct raft_configuration *c = &n->raft.configuration;
    tri_member_info_t *v = calloc(c->n ? c->n : 1, sizeof *v);
    if (v == NULL)
        return TRI_ENOMEM;
    for (unsigned i = 0; i < c->n; i++) {
        const char *api = "";
        const char *name = name_of(n, c->servers[i].id, &api);
        tri_reg_member_t *r = reg_find_id(n, c->servers[i].id);
        v[i].id = c->servers[i].id;
        snprintf(v[i].name, sizeof v[i].name, "%s", name ? name : "?");
        snprintf(v[i].peer, sizeof v[i].peer, "%s", c->servers[i].address);
        snprintf(v[i].api, sizeof v[i].api, "%s", api);
        v[i].role = c->servers[i].role == RAFT_VOTER     ? TRI_MEMBER_VOTER
                    : c->servers[i].role == RAFT_STANDBY ? TRI_MEMBER_STANDBY
                                                         : TRI_MEMBER_SPARE;
        v[i].learner = r != NULL && r->learner;
    }
    *out = v;
    *count = c->n;
    return 0;
}

const char *tri_member_role_name(enum tri_member_role role)
{
    switch (role) {
    case TRI_MEMBER_VOTER:
        return "voter";
    case TRI_MEMBER_STANDBY:
        return "standby";
    default:
        return "spare";
    }
}

/* ---------- operations ---------- */

static int conf_index(tri_node_t *n, uint64_t id)
{
    const struct raft_configuration *c = &n->raft.configuration;
    for (unsigned i = 0; i < c->n; i++)
        if (c->servers[i].id == id)
            return (int)i;
    return -1;
}

/* The configuration member called name (its registry name or initial name). */
static uint64_t conf_id_by_name(tri_node_t *n, const char *name)
{
    const struct raft_configuration *c = &n->raft.configuration;
    for (unsigned i = 0; i < c->n; i++) {
        const char *s = name_of(n, c->servers[i].id, NULL);
        if (s != NULL && strcmp(s, name) == 0)
            return c->servers[i].id;
    }
    return 0;
}

static unsigned voters(tri_node_t *n)
{
    unsigned k = 0;
    for (unsigned i = 0; i < n->raft.configuration.n; i++)
        k += n->raft.configuration.servers[i].role == RAFT_VOTER;
    return k;
}

static void op_finish(member_op_t *op, int status, const char *msg)
{
    tri_node_t *n = op->node;
    n->member_busy = false;
    if (status != 0)
        tri_warn("members", "membership change failed", "op=%s name=%s err=\"%s\"",
                 op_names[op->kind], op->name, msg ? msg : tri_strerror(status));
    else
        tri_info("members", "membership changed", "op=%s name=%s id=%016" PRIx64,
                 op_names[op->kind], op->name, op->id);
    if (op->cb != NULL)
        op->cb(op->data, status, op->id, msg);
    free(op);
}

static int raft_status(int rv)
{
    switch (rv) {
    case 0:
        return 0;
    case RAFT_NOTLEADER:
    case RAFT_LEADERSHIPLOST:
        return TRI_ENOTLEADER;
    case RAFT_CANTCHANGE:
        return TRI_EPRECOND;
    case RAFT_NOCONNECTION:
        return TRI_ETIMEDOUT;
    case RAFT_CANCELED:
        return TRI_ECANCELED;
    default:
        return TRI_EIO;
    }
}

static void assign_standby_cb(struct raft_change *req, int status)
{
    member_op_t *op = req->data;
    op_finish(op, raft_status(status), status ? "could not make the new member a standby" : NULL);
}

static void add_cb(struct raft_change *req, int status)
{
    member_op_t *op = req->data;
    tri_node_t *n = op->node;
    if (status != 0) {
        op_finish(op, raft_status(status), "raft refused to add the member");
        return;
    }
    int rv = raft_assign(&n->raft, &op->change, op->id, RAFT_STANDBY, assign_standby_cb);
    if (rv != 0)
        op_finish(op, raft_status(rv), "raft refused to make the new member a standby");
}

static void remove_cb(struct raft_change *req, int status)
{
    member_op_t *op = req->data;
    op_finish(op, raft_status(status), status ? "raft refused to remove the member" : NULL);
}

static void promote_cb(struct raft_change *req, int status)
{
    member_op_t *op = req->data;
    if (op->cb == NULL && status != 0)
        op->node->promote_next_ms = tri_now_ms() + PROMOTE_BACKOFF_MS;
    op_finish(op, raft_status(status),
              status == RAFT_NOCONNECTION ? "the member did not catch up with the log in time"
              : status                   ? "raft refused to promote the member"
                                         : NULL);
}

static void change_start(member_op_t *op)
{
    tri_node_t *n = op->node;
    op->change.data = op;
    int rv = op->kind == OP_ADD ? raft_add(&n->raft, &op->change, op->id, op->peer, add_cb)
                                : raft_remove(&n->raft, &op->change, op->id, remove_cb);
    if (rv != 0)
        op_finish(op, raft_status(rv), "raft refused the configuration change");
}

/* After the registry txn committed: the raft half of the change. A removal waits
 * a few heartbeats first, so that the member learns the registry entry is
 * committed (the next append or heartbeat carries the commit index) and stops:
 * once out of the configuration it hears from no one again. */
static void registry_cb(tri_propose_t *p, int status, const tri_txn_result_t *res)
{
    member_op_t *op = p->data;
    tri_node_t *n = op->node;
    if (status == 0 && res->status != 0)
        status = res->status == TRI_EPRECOND ? TRI_EEXIST : res->status;
    if (status != 0) {
        op_finish(op, status, "the member registry write failed");
        return;
    }
    if (op->kind == OP_ADD) {
        change_start(op);
        return;
    }
    n->member_delayed = op;
    n->member_due_ms = tri_now_ms() + REMOVE_NOTICE_HEARTBEATS * n->heartbeat_ms;
}

/* Leader tick: a removal whose notice period ended. */
static void delayed_tick(tri_node_t *n, uint64_t now)
{
    member_op_t *op = n->member_delayed;
    if (op == NULL || now < n->member_due_ms)
        return;
    n->member_delayed = NULL;
    if (raft_state(&n->raft) != RAFT_LEADER)
        op_finish(op, TRI_ENOTLEADER, "leadership moved during the removal; retry");
    else
        change_start(op);
}

/* Closing: a removal still waiting for its notice period ends cancelled. */
void tri_members_cancel(tri_node_t *n)
{
    member_op_t *op = n->member_delayed;
    n->member_delayed = NULL;
    if (op != NULL)
        op_finish(op, TRI_ECANCELED, NULL);
}

static int registry_put(tri_node_t *n, member_op_t *op, bool removed, bool must_be_absent)
{
    char key[REG_KEY_MAX];
    reg_key(op->id, key, sizeof key);
    int len = snprintf(op->val, sizeof op->val, "name=%s\npeer=%s\napi=%s\nlearner=%d\nremoved=%d\n",
                       op->name, op->peer, op->api, op->learner ? 1 : 0, removed ? 1 : 0);
    if (len < 0 || (size_t)len >= sizeof op->val)
        return TRI_EINVAL;
    tri_cmp_t cmp = {.kind = TRI_CMP_ABSENT, .key = key, .key_len = strlen(key)};
    tri_op_t put = {.kind = TRI_OP_PUT, .key = key, .key_len = strlen(key), .val = op->val,
                    .val_len = (size_t)len};
    tri_txn_t txn = {.cmps = &cmp, .n_cmps = must_be_absent ? 1 : 0, .ops = &put, .n_ops = 1};
    op->prop.data = op;
    return tri_node_propose_local(n, &op->prop, &txn, registry_cb);
}

/* A new op for a client's change, or NULL with *rv set. */
static member_op_t *op_new(tri_node_t *n, int kind, const char *name, tri_member_cb cb,
                           void *data, int *rv)
{
    *rv = 0;
    if (!tri_node_is_leader(n) || !n->leader_ready)
        *rv = TRI_ENOTLEADER;
    else if (n->member_busy || n->raft.leader_state.change != NULL)
        *rv = TRI_EPRECOND;
    else if (name == NULL || name[0] == '\0' || strlen(name) > TRI_NAME_MAX ||
             strchr(name, '\n') != NULL)
        *rv = TRI_EINVAL;
    member_op_t *op = *rv == 0 ? calloc(1, sizeof *op) : NULL;
    if (op == NULL) {
        if (*rv == 0)
            *rv = TRI_ENOMEM;
        return NULL;
    }
    op->node = n;
    op->cb = cb;
    op->data = data;
    op->kind = kind;
    snprintf(op->name, sizeof op->name, "%s", name);
    return op;
}

/* Frees op unless it started (rv 0). */
static int op_started(member_op_t *op, int rv)
{
    if (rv == 0)
        op->node->member_busy = true;
    else
        free(op);
    return rv;
}

static uint64_t fresh_id(tri_node_t *n)
{
    for (;;) {
        uint64_t id = 0;
        if (getrandom(&id, sizeof id, 0) != (ssize_t)sizeof id)
            return 0;
        if (id != 0 && conf_index(n, id) < 0 && reg_find_id(n, id) == NULL &&
            name_of(n, id, NULL) == NULL)
            return id;
    }
}

static bool peer_in_use(tri_node_t *n, const char *peer)
{
    for (unsigned i = 0; i < n->raft.configuration.n; i++)
        if (strcmp(n->raft.configuration.servers[i].address, peer) == 0)
            return true;
    return false;
}

static int add_check(tri_node_t *n, const char *name, const char *peer, const char *api,
                     const char **why)
{
    struct sockaddr_in sa;
    if (peer == NULL || strlen(peer) > TRI_ADDR_MAX || tri_tx_parse_addr(peer, &sa) != 0) {
        *why = "peer must be an IPv4 ip:port with a non-zero port";
        return TRI_EINVAL;
    }
    if (api != NULL && (strlen(api) > TRI_ADDR_MAX || strchr(api, '\n') != NULL)) {
        *why = "api address is malformed";
        return TRI_EINVAL;
    }
    if (conf_id_by_name(n, name) != 0) {
        *why = "a member of that name exists";
        return TRI_EEXIST;
    }
    if (peer_in_use(n, peer)) {
        *why = "a member already uses that peer address";
        return TRI_EEXIST;
    }
    return 0;
}

int tri_node_member_add(tri_node_t *n, const char *name, const char *peer, const char *api,
                        bool learner, tri_member_cb cb, void *data, const char **why)
{
    int rv;
    *why = NULL;
    member_op_t *op = op_new(n, OP_ADD, name, cb, data, &rv);
    if (op == NULL)
        return rv;
    rv = add_check(n, name, peer, api, why);
    if (rv == 0) {
        op->id = fresh_id(n);
        rv = op->id == 0 ? TRI_EIO : 0;
    }
    if (rv == 0) {
        snprintf(op->peer, sizeof op->peer, "%s", peer);
        snprintf(op->api, sizeof op->api, "%s", api ? api : "");
        op->learner = learner;
        rv = registry_put(n, op, false, true);
    }
    return op_started(op, rv);
}

static int remove_check(tri_node_t *n, member_op_t *op, const char **why)
{
    op->id = conf_id_by_name(n, op->name);
    if (op->id == 0) {
        *why = "no member of that name";
        return TRI_ENOENT;
    }
    if (op->id == n->id) {
        *why = "it is the leader: transfer leadership first";
        return TRI_EBUSY;
    }
    int i = conf_index(n, op->id);
    if (n->raft.configuration.servers[i].role == RAFT_VOTER && voters(n) <= 1) {
        *why = "it is the last voter";
        return TRI_EBUSY;
    }
    const char *api = "";
    name_of(n, op->id, &api);
    snprintf(op->peer, sizeof op->peer, "%s", n->raft.configuration.servers[i].address);
    snprintf(op->api, sizeof op->api, "%s", api);
    return 0;
}

int tri_node_member_remove(tri_node_t *n, const char *name, tri_member_cb cb, void *data,
                           const char **why)
{
    int rv;
    *why = NULL;
    member_op_t *op = op_new(n, OP_REMOVE, name, cb, data, &rv);
    if (op == NULL)
        return rv;
    rv = remove_check(n, op, why);
    if (rv == 0)
        rv = registry_put(n, op, true, false);
    return op_started(op, rv);
}

static int promote(tri_node_t *n, member_op_t *op, uint64_t id)
{
    op->id = id;
    op->change.data = op;
    return raft_status(raft_assign(&n->raft, &op->change, id, RAFT_VOTER, promote_cb));
}

int tri_node_member_promote(tri_node_t *n, const char *name, tri_member_cb cb, void *data,
                            const char **why)
{
    int rv;
    *why = NULL;
    member_op_t *op = op_new(n, OP_PROMOTE, name, cb, data, &rv);
    if (op == NULL)
        return rv;
    uint64_t id = conf_id_by_name(n, name);
    if (id == 0) {
        *why = "no member of that name";
        rv = TRI_ENOENT;
    } else if (n->raft.configuration.servers[conf_index(n, id)].role == RAFT_VOTER) {
        *why = "already a voter";
        rv = TRI_EEXIST;
    } else {
        rv = promote(n, op, id);
    }
    return op_started(op, rv);
}

uint64_t tri_node_member_id(tri_node_t *n, const char *name)
{
    if (!n->raft_started || n->closing)
        return 0;
    return conf_id_by_name(n, name);
}

/* Leader tick: promote one standby that is not a learner and that has talked to
 * this leader (so it runs); libraft catches it up before the quorum grows. */
void tri_members_tick(tri_node_t *n, uint64_t now)
{
    removed_tick(n);
    if (n->closing)
        return;
    delayed_tick(n, now);
    if (raft_state(&n->raft) != RAFT_LEADER || !n->leader_ready || n->member_busy || n->raft.leader_state.change != NULL ||
        now < n->promote_next_ms)
        return;
    n->promote_next_ms = now + PROMOTE_CHECK_MS;
    const struct raft_configuration *c = &n->raft.configuration;
    for (unsigned i = 0; i < c->n; i++) {
        tri_reg_member_t *r = reg_find_id(n, c->servers[i].id);
        if (c->servers[i].role != RAFT_STANDBY || r == NULL || r->learner || r->removed ||
            !tri_identity_has_seen(n, r->m.id))
            continue;
        member_op_t *op = calloc(1, sizeof *op);
        if (op == NULL)
            return;
        op->node = n;
        op->kind = OP_PROMOTE;
        snprintf(op->name, sizeof op->name, "%s", r->m.name);
        tri_info("members", "promoting a standby to voter", "name=%s", r->m.name);
        if (op_started(op, promote(n, op, r->m.id)) != 0)
            n->promote_next_ms = now + PROMOTE_BACKOFF_MS;
        return;
    }
}
