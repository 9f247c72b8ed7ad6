/* core/v1 Services: defaulting (type ClusterIP, sessionAffinity None, single-stack
 * IPv4, ports TCP with targetPort = port, traffic policies Cluster), validation,
 * the Table kubectl prints (TYPE, CLUSTER-IP, EXTERNAL-IP, PORT(S), wide: SELECTOR)
 * and the two allocators: ClusterIPs from the service CIDR and NodePorts from
 * 30000-32767.
 *
 * An allocation is a key per value (/registry/core/serviceips/<ip>,
 * /registry/core/servicenodeports/<port>) created in the same txn as the Service,
 * guarded by an "absent" precondition: the local store says which values look free,
 * the precondition decides. When another replica's create took the value first the
 * precondition fails and the client calls the hook again with b->attempt + 1. The
 * search for a free value starts at a point derived from the object's uid and the
 * attempt, so a retry starts elsewhere, and so a retry can tell a value it picked
 * itself (it lies on the previous attempt's probe path) from one the user asked for
 * (kept, or refused with 422 when taken).
 *
 * The service CIDR is the api's cfg.service_cidr (--service-cluster-ip-range). Its
 * first address belongs to the `kubernetes` Service in `default` (the leader loop
 * of controllers/kubernetes_service.c creates it): the allocator never picks it and
 * any other Service that asks for it is told it is already allocated, even while
 * the `kubernetes` Service is being recreated after a delete. */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jsonutil.h"
#include "meta.h"
#include "op.h"
#include "resources.h"
#include "triarch/codec.h"
#include "triarch/errors.h"

/* kube-apiserver's default --service-cluster-ip-range. The network address and the
 * broadcast address are never handed out; the first address after the network one
 * is the `kubernetes` Service's, so only an explicit request gets it. */
#define SERVICE_CIDR_DEFAULT "10.96.0.0/12"
#define SERVICE_IP_RESERVED_LOW 2 /* network address + the kubernetes Service's */
#define KUBERNETES_SERVICE_NS "default"
#define KUBERNETES_SERVICE_NAME "kubernetes"
#define NODE_PORT_MIN 30000       /* --service-node-port-range */
#define NODE_PORT_MAX 32767
#define PORT_MAX 65535
#define CLIENT_IP_TIMEOUT_S 10800 /* sessionAffinityConfig.clientIP.timeoutSeconds */
#define SERVICE_IP_PREFIX "/registry/core/serviceips/"
#define NODE_PORT_PREFIX "/registry/core/servicenodeports/"
#define MAX_PORTS_IN_TXN (TRI_TXN_BUILDER_MAX - 1) /* one slot for the ClusterIP */
#define FIELD_LEN 96
#define PATH_LEN 48 /* "spec.ports[N]." */

/* ---------- small helpers ---------- */

static bool is_type(const json_t *spec, const char *t)
{
    return strcmp(str(spec, "type"), t) == 0;
}

/* NodePort and LoadBalancer Services get node ports (LoadBalancer unless
 * allocateLoadBalancerNodePorts is false). */
static bool wants_node_ports(const json_t *spec)
{
    if (is_type(spec, "NodePort"))
        return true;
    return is_type(spec, "LoadBalancer") &&
           !json_is_false(json_object_get(spec, "allocateLoadBalancerNodePorts"));
}

static bool has_cluster_ip(const json_t *spec)
{
    const char *ip = str(spec, "clusterIP");
    return !is_type(spec, "ExternalName") && ip[0] != '\0' && strcmp(ip, "None") != 0;
}

/* ---------- value ranges ---------- */

typedef struct alloc_range {
    const char *prefix; /* allocator key prefix */
    uint32_t first;     /* first value handed out automatically */
    uint32_t size;      /* how many, from first */
    bool ip;            /* values print as dotted quads, else as decimals */
} alloc_range_t;

typedef struct cidr {
    uint32_t base;
    uint32_t size;
} cidr_t;

static int cidr_parse(const char *s, cidr_t *out)
{
    char addr[INET_ADDRSTRLEN];
    const char *slash = strchr(s, '/');
    if (slash == NULL || (size_t)(slash - s) >= sizeof addr)
        return TRI_EINVAL;
    memcpy(addr, s, (size_t)(slash - s));
    addr[slash - s] = '\0';
    char *end;
    long bits = strtol(slash + 1, &end, 10);
    struct in_addr in;
    /* at least 4 addresses: network, the kubernetes Service's, one more, broadcast */
    if (*end != '\0' || bits < 1 || bits > 30 || inet_pton(AF_INET, addr, &in) != 1)
        return TRI_EINVAL;
    out->size = 1u << (32 - bits);
    out->base = ntohl(in.s_addr) & ~(out->size - 1);
    return 0;
}

static void format_value(const alloc_range_t *r, uint32_t v, char *out, size_t len)
{
    if (r->ip)
        snprintf(out, len, "%u.%u.%u.%u", v >> 24, (v >> 16) & 0xff, (v >> 8) & 0xff, v & 0xff);
    else
        snprintf(out, len, "%u", v);
}

static int parse_ip(const char *s, uint32_t *out)
{
    struct in_addr in;
    if (inet_pton(AF_INET, s, &in) != 1)
        return TRI_EINVAL;
    *out = ntohl(in.s_addr);
    return 0;
}

static void range_key(const alloc_range_t *r, uint32_t v, tri_buf_t *key)
{
    char val[INET_ADDRSTRLEN];
    format_value(r, v, val, sizeof val);
    tri_buf_appendf(key, "%s%s", r->prefix, val);
}

/* Taken: allocated in the local store, or already chosen by this same call. */
static bool taken(tri_store_t *s, const alloc_range_t *r, uint32_t v, const uint32_t *excl,
                  size_t n_excl)
{
    for (size_t i = 0; i < n_excl; i++)
        if (excl[i] == v)
            return true;
    tri_buf_t key = {0};
    range_key(r, v, &key);
    tri_kv_t kv;
    int rc = tri_store_get(s, key.data, key.len, 0, &kv);
    tri_buf_free(&key);
    if (rc == 0)
        tri_kv_release(&kv);
    return rc != TRI_ENOENT;
}

static uint32_t seed_of(const char *uid, unsigned attempt, unsigned index)
{
    uint32_t h = tri_crc32c(0, uid, strlen(uid));
    h = tri_crc32c(h, &attempt, sizeof attempt);
    return tri_crc32c(h, &index, sizeof index);
}

/* The first free value from the seed's starting point on, wrapping; TRI_ENOENT
 * when the range is full. */
static int range_pick(tri_store_t *s, const alloc_range_t *r, uint32_t seed, const uint32_t *excl,
                      size_t n_excl, uint32_t *out)
{
    uint32_t start = seed % r->size;
    for (uint32_t i = 0; i < r->size; i++) {
        uint32_t v = r->first + (start + i) % r->size;
        if (!taken(s, r, v, excl, n_excl)) {
            *out = v;
            return 0;
        }
    }
    return TRI_ENOENT;
}

/* Whether range_pick with this seed could have returned v: v lies on the probe
 * path before any value that is free now. */
static bool range_picked(tri_store_t *s, const alloc_range_t *r, uint32_t seed, uint32_t v,
                         const uint32_t *excl, size_t n_excl)
{
    uint32_t start = seed % r->size;
    for (uint32_t i = 0; i < r->size; i++) {
        uint32_t cur = r->first + (start + i) % r->size;
        if (cur == v)
            return true;
        if (!taken(s, r, cur, excl, n_excl))
            return false;
    }
    return false;
}

static void ip_range(const cidr_t *c, alloc_range_t *r)
{
    r->prefix = SERVICE_IP_PREFIX;
    r->first = c->base + SERVICE_IP_RESERVED_LOW;
    r->size = c->size - SERVICE_IP_RESERVED_LOW - 1; /* minus the broadcast address */
    r->ip = true;
}

static const alloc_range_t NODE_PORTS = {NODE_PORT_PREFIX, NODE_PORT_MIN,
                                         NODE_PORT_MAX - NODE_PORT_MIN + 1, false};

int tri_service_pick_ip(tri_store_t *s, const char *cidr_s, const char *seed, unsigned attempt,
                        char *out, size_t len)
{
    cidr_t c;
    alloc_range_t r;
    if (cidr_parse(cidr_s, &c) != 0)
        return TRI_EINVAL;
    ip_range(&c, &r);
    uint32_t v;
    int rc = range_pick(s, &r, seed_of(seed, attempt, 0), NULL, 0, &v);
    if (rc == 0)
        format_value(&r, v, out, len);
    return rc;
}

const char *tri_api_service_cidr(const tri_api_t *api)
{
    const char *s = api ? api->cfg.service_cidr : NULL;
    return s && s[0] ? s : SERVICE_CIDR_DEFAULT;
}

bool tri_service_cidr_valid(const char *s)
{
    cidr_t c;
    return s != NULL && cidr_parse(s, &c) == 0;
}

int tri_api_kubernetes_service_ip(const tri_api_t *api, char *out, size_t len)
{
    cidr_t c;
    if (cidr_parse(tri_api_service_cidr(api), &c) != 0)
        return TRI_EINVAL;
    alloc_range_t r = {.ip = true};
    format_value(&r, c.base + 1, out, len);
    return 0;
}

/* ---------- allocation into the txn ---------- */

typedef struct alloc_ctx {
    tri_store_t *store;
    json_t *obj;
    tri_txn_builder_t *b;
    tri_status_t *st;
    const char *uid;
    char owner[768]; /* the allocator keys' value: who holds the value */
} alloc_ctx_t;

static void ctx_init(alloc_ctx_t *c, tri_api_t *api, json_t *obj, tri_txn_builder_t *b,
                     tri_status_t *st)
{
    const json_t *meta = json_object_get(obj, "metadata");
    c->store = tri_api_store(api);
    c->obj = obj;
    c->b = b;
    c->st = st;
    c->uid = str(meta, "uid")[0] ? str(meta, "uid") : str(meta, "name");
    json_t *o = json_pack("{s:s, s:s, s:s, s:s}", "kind", "Service", "namespace",
                          str(meta, "namespace"), "name", str(meta, "name"), "uid", c->uid);
    char *enc = json_dumps(o, JSON_COMPACT);
    snprintf(c->owner, sizeof c->owner, "%s", enc ? enc : "{}");
    free(enc);
    json_decref(o);
}

static int invalid(alloc_ctx_t *c, const char *field, const char *msg)
{
    tri_status_add_cause(c->st, "FieldValueInvalid", field, "%s", msg);
    tri_meta_finish_invalid(&tri_res_services, str(json_object_get(c->obj, "metadata"), "name"),
                            c->st);
    return TRI_EINVAL;
}

static int range_full(alloc_ctx_t *c, const char *what)
{
    tri_status_set(c->st, 500, "InternalError",
                   "Internal error occurred: failed to allocate a %s: range is full", what);
    return TRI_EINVAL;
}

static int claim(alloc_ctx_t *c, const alloc_range_t *r, uint32_t v)
{
    tri_buf_t key = {0};
    range_key(r, v, &key);
    int rc = tri_txn_builder_absent(c->b, key.data, key.len);
    if (rc == 0)
        rc = tri_txn_builder_put(c->b, key.data, key.len, c->owner, strlen(c->owner));
    tri_buf_free(&key);
    if (rc != 0)
        tri_status_set(c->st, 422, "Invalid",
                       "Service \"%s\" is invalid: spec.ports: Too many: must have at most %d "
                       "node ports",
                       str(json_object_get(c->obj, "metadata"), "name"), MAX_PORTS_IN_TXN);
    return rc;
}

static int release(tri_txn_builder_t *b, const alloc_range_t *r, uint32_t v)
{
    tri_buf_t key = {0};
    range_key(r, v, &key);
    int rc = tri_txn_builder_delete(b, key.data, key.len);
    tri_buf_free(&key);
    return rc;
}

/* The api's service CIDR, parsed (validated at startup: the default if not). */
static void service_cidr(tri_api_t *api, cidr_t *c)
{
    if (cidr_parse(tri_api_service_cidr(api), c) != 0)
        cidr_parse(SERVICE_CIDR_DEFAULT, c);
}

/* The kubernetes Service's own address is only ever its own. */
static bool reserved_for_other(const alloc_ctx_t *c, const cidr_t *cidr, uint32_t v)
{
    const json_t *meta = json_object_get(c->obj, "metadata");
    return v == cidr->base + 1 && !(strcmp(str(meta, "namespace"), KUBERNETES_SERVICE_NS) == 0 &&
                                    strcmp(str(meta, "name"), KUBERNETES_SERVICE_NAME) == 0);
}

static int alloc_cluster_ip(alloc_ctx_t *c, tri_api_t *api, json_t *spec)
{
    cidr_t cidr;
    alloc_range_t r;
    service_cidr(api, &cidr);
    ip_range(&cidr, &r);
    const char *want = str(spec, "clusterIP");
    if (strcmp(want, "None") == 0) {
        json_object_set_new(spec, "clusterIPs", json_pack("[s]", "None"));
        return 0;
    }
    uint32_t v = 0;
    bool explicit = want[0] != '\0' && parse_ip(want, &v) == 0;
    /* a value this hook picked on the previous attempt lost a race: pick again */
    if (explicit && c->b->attempt > 0 &&
        range_picked(c->store, &r, seed_of(c->uid, c->b->attempt - 1, 0), v, NULL, 0))
        explicit = false;
    char ip[INET_ADDRSTRLEN], msg[320];
    if (explicit) {
        bool in_range = v > cidr.base && v < cidr.base + cidr.size - 1;
        char valid[64];
        snprintf(valid, sizeof valid, "%s", tri_api_service_cidr(api));
        snprintf(msg, sizeof msg,
                 "Invalid value: [\"%s\"]: failed to allocate IP %s: provided IP is %s%s", want,
                 want,
                 in_range ? "already allocated"
                          : "not in the valid range. The range of valid IPs is ",
                 in_range ? "" : valid);
        if (!in_range || reserved_for_other(c, &cidr, v) || taken(c->store, &r, v, NULL, 0))
            return invalid(c, "spec.clusterIPs", msg);
    } else if (range_pick(c->store, &r, seed_of(c->uid, c->b->attempt, 0), NULL, 0, &v) != 0) {
        return range_full(c, "serviceIP");
    }
    format_value(&r, v, ip, sizeof ip);
    json_object_set_new(spec, "clusterIP", json_string(ip));
    json_object_set_new(spec, "clusterIPs", json_pack("[s]", ip));
    return claim(c, &r, v);
}

static uint32_t node_port_of(const json_t *p)
{
    json_int_t v = json_integer_value(json_object_get(p, "nodePort"));
    return v > 0 && v <= PORT_MAX ? (uint32_t)v : 0;
}

/* The node ports an object holds (0 for ports without one). */
static size_t node_ports(const json_t *spec, uint32_t *out, size_t max)
{
    size_t n = 0, i;
    json_t *p;
    json_array_foreach(json_object_get(spec, "ports"), i, p)
    {
        if (n < max)
            out[n++] = node_port_of(p);
    }
    return n;
}

static bool in_list(const uint32_t *list, size_t n, uint32_t v)
{
    for (size_t i = 0; i < n; i++)
        if (list[i] == v && v != 0)
            return true;
    return false;
}

/* Node ports for every port that has none; requested ones checked and claimed
 * unless `held` (the old object's) already has them. */
static int alloc_node_ports(alloc_ctx_t *c, json_t *spec, const uint32_t *held, size_t n_held)
{
    json_t *ports = json_object_get(spec, "ports");
    uint32_t chosen[MAX_PORTS_IN_TXN + 1];
    size_t n = node_ports(spec, chosen, MAX_PORTS_IN_TXN + 1);
    if (json_array_size(ports) > MAX_PORTS_IN_TXN) {
        tri_status_set(c->st, 422, "Invalid",
                       "Service \"%s\" is invalid: spec.ports: Too many: must have at most %d "
                       "node ports",
                       str(json_object_get(c->obj, "metadata"), "name"), MAX_PORTS_IN_TXN);
        return TRI_ETOOBIG;
    }
    for (size_t i = 0; i < n; i++) {
        json_t *p = json_array_get(ports, i);
        uint32_t v = chosen[i];
        char field[FIELD_LEN], msg[160];
        snprintf(field, sizeof field, "spec.ports[%zu].nodePort", i);
        chosen[i] = 0; /* not counted as taken while this port is decided */
        if (v != 0 && c->b->attempt > 0 && !in_list(held, n_held, v) &&
            range_picked(c->store, &NODE_PORTS, seed_of(c->uid, c->b->attempt - 1, (unsigned)i + 1),
                         v, chosen, n))
            v = 0;
        if (v != 0) {
            if (v < NODE_PORT_MIN || v > NODE_PORT_MAX) {
                snprintf(msg, sizeof msg,
                         "Invalid value: %u: provided port is not in the valid range. The range "
                         "of valid ports is %d-%d",
                         v, NODE_PORT_MIN, NODE_PORT_MAX);
                return invalid(c, field, msg);
            }
            chosen[i] = v;
            if (in_list(held, n_held, v))
                continue;
            /* TCP and UDP on the same port may share a node port */
            bool shared = false;
            for (size_t j = 0; j < i; j++)
                shared = shared || chosen[j] == v;
            if (shared)
                continue;
            if (taken(c->store, &NODE_PORTS, v, NULL, 0)) {
                snprintf(msg, sizeof msg, "Invalid value: %u: provided port is already allocated",
                         v);
                return invalid(c, field, msg);
            }
        } else if (range_pick(c->store, &NODE_PORTS,
                              seed_of(c->uid, c->b->attempt, (unsigned)i + 1), chosen, n,
                              &v) != 0) {
            return range_full(c, "nodePort");
        }
        chosen[i] = v;
        json_object_set_new(p, "nodePort", json_integer(v));
        int rc = claim(c, &NODE_PORTS, v);
        if (rc != 0)
            return rc;
    }
    return 0;
}

static int svc_on_create(tri_api_t *api, json_t *obj, tri_txn_builder_t *b, tri_status_t *st)
{
    json_t *spec = json_object_get(obj, "spec");
    if (!json_is_object(spec) || is_type(spec, "ExternalName"))
        return 0;
    alloc_ctx_t c;
    ctx_init(&c, api, obj, b, st);
    int rc = alloc_cluster_ip(&c, api, spec);
    if (rc == 0 && wants_node_ports(spec))
        rc = alloc_node_ports(&c, spec, NULL, 0);
    return rc;
}

static int svc_on_update(tri_api_t *api, json_t *obj, const json_t *old, tri_txn_builder_t *b,
                         tri_status_t *st)
{
    json_t *spec = json_object_get(obj, "spec");
    const json_t *ospec = json_object_get(old, "spec");
    if (!json_is_object(spec))
        return 0;
    alloc_ctx_t c;
    ctx_init(&c, api, obj, b, st);
    cidr_t cidr;
    alloc_range_t r;
    service_cidr(api, &cidr);
    ip_range(&cidr, &r);
    int rc = 0;
    uint32_t oip;
    if (is_type(spec, "ExternalName")) {
        if (has_cluster_ip(ospec) && parse_ip(str(ospec, "clusterIP"), &oip) == 0)
            rc = release(b, &r, oip);
        json_object_del(spec, "clusterIP");
        json_object_del(spec, "clusterIPs");
    } else if (is_type(ospec, "ExternalName")) {
        rc = alloc_cluster_ip(&c, api, spec);
    }
    uint32_t held[MAX_PORTS_IN_TXN + 1] = {0}, now[MAX_PORTS_IN_TXN + 1] = {0};
    size_t n_held = wants_node_ports(ospec) ? node_ports(ospec, held, MAX_PORTS_IN_TXN + 1) : 0;
    if (rc == 0 && wants_node_ports(spec))
        rc = alloc_node_ports(&c, spec, held, n_held);
    size_t n_now = wants_node_ports(spec) ? node_ports(spec, now, MAX_PORTS_IN_TXN + 1) : 0;
    for (size_t i = 0; rc == 0 && i < n_held; i++) {
        bool dup = in_list(held, i, held[i]);
        if (held[i] != 0 && !dup && !in_list(now, n_now, held[i]))
            rc = release(b, &NODE_PORTS, held[i]);
    }
    return rc;
}

static void svc_on_delete(tri_api_t *api, const json_t *obj, tri_txn_builder_t *b)
{
    const json_t *spec = json_object_get(obj, "spec");
    cidr_t cidr;
    alloc_range_t r;
    service_cidr(api, &cidr);
    ip_range(&cidr, &r);
    uint32_t ip;
    if (has_cluster_ip(spec) && parse_ip(str(spec, "clusterIP"), &ip) == 0)
        release(b, &r, ip);
    uint32_t ports[MAX_PORTS_IN_TXN + 1];
    size_t n = node_ports(spec, ports, MAX_PORTS_IN_TXN + 1);
    for (size_t i = 0; i < n; i++)
        if (ports[i] != 0 && !in_list(ports, i, ports[i]))
            release(b, &NODE_PORTS, ports[i]);
}

/* ---------- defaulting ---------- */

/* patchAllocatedValues: an update that omits what was allocated keeps it. */
static void keep_allocated(json_t *spec, const json_t *ospec)
{
    if (is_type(spec, "ExternalName") || is_type(ospec, "ExternalName"))
        return;
    if (str(spec, "clusterIP")[0] == '\0' &&
        json_array_size(json_object_get(spec, "clusterIPs")) == 0) {
        static const char *const kept[] = {"clusterIP", "clusterIPs", "ipFamilies",
                                           "ipFamilyPolicy"};
        for (size_t i = 0; i < sizeof kept / sizeof kept[0]; i++) {
            json_t *v = json_object_get(ospec, kept[i]);
            if (v)
                json_object_set(spec, kept[i], v);
        }
    }
    if (!wants_node_ports(spec) || !wants_node_ports(ospec))
        return;
    size_t i, j;
    json_t *p, *op;
    json_array_foreach(json_object_get(spec, "ports"), i, p)
    {
        if (node_port_of(p) != 0)
            continue;
        json_array_foreach(json_object_get(ospec, "ports"), j, op)
        {
            if (json_equal(json_object_get(p, "port"), json_object_get(op, "port")) &&
                strcmp(str(p, "protocol"), str(op, "protocol")) == 0 && node_port_of(op)) {
                json_object_set(p, "nodePort", json_object_get(op, "nodePort"));
                break;
            }
        }
    }
}

static void svc_prepare(json_t *obj, const json_t *old)
{
    json_t *spec = child_object(obj, "spec");
    default_str(spec, "type", "ClusterIP");
    default_str(spec, "sessionAffinity", "None");
    if (strcmp(str(spec, "sessionAffinity"), "ClientIP") == 0) {
        json_t *cip = child_object(child_object(spec, "sessionAffinityConfig"), "clientIP");
        if (json_object_get(cip, "timeoutSeconds") == NULL)
            json_object_set_new(cip, "timeoutSeconds", json_integer(CLIENT_IP_TIMEOUT_S));
    }
    size_t i;
    json_t *p;
    json_array_foreach(json_object_get(spec, "ports"), i, p)
    {
        if (!json_is_object(p))
            continue;
        default_str(p, "protocol", "TCP");
        json_t *tp = json_object_get(p, "targetPort");
        bool unset = tp == NULL || json_is_null(tp) ||
                     (json_is_integer(tp) && json_integer_value(tp) == 0) ||
                     (json_is_string(tp) && json_string_length(tp) == 0);
        if (unset && json_object_get(p, "port"))
            json_object_set(p, "targetPort", json_object_get(p, "port"));
    }
    /* clusterIP and clusterIPs say the same thing; either may be given */
    json_t *ips = json_object_get(spec, "clusterIPs");
    if (str(spec, "clusterIP")[0] == '\0' && json_is_string(json_array_get(ips, 0)))
        json_object_set(spec, "clusterIP", json_array_get(ips, 0));
    if (old != NULL)
        keep_allocated(spec, json_object_get(old, "spec"));
    if (str(spec, "clusterIP")[0] != '\0' &&
        json_array_size(json_object_get(spec, "clusterIPs")) == 0)
        json_object_set_new(spec, "clusterIPs",
                            json_pack("[O]", json_object_get(spec, "clusterIP")));
    if (!is_type(spec, "ExternalName")) {
        default_str(spec, "internalTrafficPolicy", "Cluster");
        if (json_array_size(json_object_get(spec, "ipFamilies")) == 0)
            json_object_set_new(spec, "ipFamilies", json_pack("[s]", "IPv4"));
        default_str(spec, "ipFamilyPolicy", "SingleStack");
    }
    if (is_type(spec, "NodePort") || is_type(spec, "LoadBalancer"))
        default_str(spec, "externalTrafficPolicy", "Cluster");
    if (is_type(spec, "LoadBalancer") &&
        json_object_get(spec, "allocateLoadBalancerNodePorts") == NULL)
        json_object_set_new(spec, "allocateLoadBalancerNodePorts", json_true());
    if (old == NULL)
        json_object_set_new(obj, "status", json_pack("{s:{}}", "loadBalancer"));
}

/* ---------- validation ---------- */

/* DNS-1035 label: a DNS-1123 label that starts with a letter. */
static const char *dns1035_label(const char *s)
{
    static const char msg[] =
        "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with "
        "an alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or "
        "'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')";
    if (tri_validate_dns1123_label(s) != NULL || !(s[0] >= 'a' && s[0] <= 'z'))
        return strlen(s) > 63 ? "must be no more than 63 characters" : msg;
    return NULL;
}

static void enum_cause(tri_status_t *st, const json_t *o, const char *k, const char *path,
                       const char *const *allowed)
{
    const char *v = str(o, k);
    if (json_object_get(o, k) == NULL)
        return;
    for (size_t i = 0; allowed[i]; i++)
        if (strcmp(v, allowed[i]) == 0)
            return;
    char list[200] = "", field[FIELD_LEN];
    for (size_t i = 0; allowed[i]; i++) {
        size_t n = strlen(list);
        snprintf(list + n, sizeof list - n, "%s\"%s\"", i ? ", " : "", allowed[i]);
    }
    snprintf(field, sizeof field, "%s%s", path, k);
    tri_status_add_cause(st, "FieldValueNotSupported", field,
                         "Unsupported value: \"%s\": supported values: %s", v, list);
}

static void validate_port(const json_t *spec, const json_t *p, size_t i, tri_status_t *st)
{
    static const char *const protocols[] = {"SCTP", "TCP", "UDP", NULL};
    char path[PATH_LEN], field[FIELD_LEN];
    snprintf(path, sizeof path, "spec.ports[%zu].", i);
    json_t *port = json_object_get(p, "port");
    snprintf(field, sizeof field, "%sport", path);
    if (!json_is_integer(port) || json_integer_value(port) < 1 ||
        json_integer_value(port) > PORT_MAX)
        tri_status_add_cause(st, "FieldValueInvalid", field,
                             "Invalid value: %lld: must be between 1 and 65535, inclusive",
                             (long long)json_integer_value(port));
    enum_cause(st, p, "protocol", path, protocols);
    const char *name = str(p, "name");
    size_t n = json_array_size(json_object_get(spec, "ports"));
    snprintf(field, sizeof field, "%sname", path);
    const char *msg;
    if (name[0] == '\0' && n > 1)
        tri_status_add_cause(st, "FieldValueRequired", field, "Required value");
    else if (name[0] && (msg = tri_validate_dns1123_label(name)) != NULL)
        tri_status_add_cause(st, "FieldValueInvalid", field, "Invalid value: \"%s\": %s", name,
                             msg);
    json_t *tp = json_object_get(p, "targetPort");
    snprintf(field, sizeof field, "%stargetPort", path);
    if (json_is_integer(tp) && (json_integer_value(tp) < 1 || json_integer_value(tp) > PORT_MAX))
        tri_status_add_cause(st, "FieldValueInvalid", field,
                             "Invalid value: %lld: must be between 1 and 65535, inclusive",
                             (long long)json_integer_value(tp));
    else if (json_is_string(tp) && (msg = tri_validate_port_name(json_string_value(tp))) != NULL)
        tri_status_add_cause(st, "FieldValueInvalid", field, "Invalid value: \"%s\": %s",
                             json_string_value(tp), msg);
    snprintf(field, sizeof field, "%snodePort", path);
    if (node_port_of(p) != 0 && is_type(spec, "ClusterIP"))
        tri_status_add_cause(st, "FieldValueForbidden", field,
                             "Forbidden: may not be used when `type` is 'ClusterIP'");
    for (size_t j = 0; j < i; j++) {
        const json_t *q = json_array_get(json_object_get(spec, "ports"), j);
        snprintf(field, sizeof field, "spec.ports[%zu]", i);
        if (name[0] && strcmp(str(q, "name"), name) == 0)
            tri_status_add_cause(st, "FieldValueDuplicate", field, "Duplicate value: \"%s\"", name);
        else if (json_equal(json_object_get(q, "port"), port) &&
                 strcmp(str(q, "protocol"), str(p, "protocol")) == 0)
            tri_status_add_cause(st, "FieldValueDuplicate", field,
                                 "Duplicate value: {port: %lld, protocol: \"%s\"}",
                                 (long long)json_integer_value(port), str(p, "protocol"));
    }
}

static void svc_validate_spec(const json_t *spec, tri_status_t *st)
{
    static const char *const types[] = {"ClusterIP", "ExternalName", "LoadBalancer", "NodePort",
                                        NULL};
    static const char *const affinity[] = {"ClientIP", "None", NULL};
    static const char *const policies[] = {"Cluster", "Local", NULL};
    enum_cause(st, spec, "type", "spec.", types);
    enum_cause(st, spec, "sessionAffinity", "spec.", affinity);
    enum_cause(st, spec, "internalTrafficPolicy", "spec.", policies);
    enum_cause(st, spec, "externalTrafficPolicy", "spec.", policies);
    const char *ip = str(spec, "clusterIP");
    uint32_t v;
    if (ip[0] && strcmp(ip, "None") != 0 && parse_ip(ip, &v) != 0)
        tri_status_add_cause(st, "FieldValueInvalid", "spec.clusterIPs[0]",
                             "Invalid value: \"%s\": must be a valid IP address, (e.g. 10.9.8.7 "
                             "or 2001:db8::ffff)",
                             ip);
    size_t i;
    json_t *f;
    json_array_foreach(json_object_get(spec, "ipFamilies"), i, f)
    {
        char field[FIELD_LEN];
        snprintf(field, sizeof field, "spec.ipFamilies[%zu]", i);
        if (!json_is_string(f) || strcmp(json_string_value(f), "IPv4") != 0)
            tri_status_add_cause(st, "FieldValueInvalid", field,
                                 "Invalid value: \"%s\": not configured on this cluster",
                                 json_is_string(f) ? json_string_value(f) : "");
    }
    const char *msg;
    if (is_type(spec, "ExternalName")) {
        const char *en = str(spec, "externalName");
        if (en[0] == '\0')
            tri_status_add_cause(st, "FieldValueRequired", "spec.externalName", "Required value");
        else if ((msg = tri_validate_dns1123_subdomain(en)) != NULL)
            tri_status_add_cause(st, "FieldValueInvalid", "spec.externalName",
                                 "Invalid value: \"%s\": %s", en, msg);
        return;
    }
    json_t *ports = json_object_get(spec, "ports");
    if (json_array_size(ports) == 0 && strcmp(ip, "None") != 0)
        tri_status_add_cause(st, "FieldValueRequired", "spec.ports", "Required value");
    json_t *p;
    json_array_foreach(ports, i, p) validate_port(spec, p, i, st);
}

static void svc_validate(const json_t *obj, const json_t *old, tri_status_t *st)
{
    const char *name = str(json_object_get(obj, "metadata"), "name");
    const char *msg = dns1035_label(name);
    if (name[0] && msg)
        tri_status_add_cause(st, "FieldValueInvalid", "metadata.name", "Invalid value: \"%s\": %s",
                             name, msg);
    const json_t *spec = json_object_get(obj, "spec");
    svc_validate_spec(spec, st);
    if (old == NULL)
        return;
    const json_t *ospec = json_object_get(old, "spec");
    if (is_type(spec, "ExternalName") || is_type(ospec, "ExternalName"))
        return;
    if (strcmp(str(spec, "clusterIP"), str(ospec, "clusterIP")) != 0)
        tri_status_add_cause(st, "FieldValueInvalid", "spec.clusterIPs[0]",
                             "Invalid value: \"%s\": may not change once set",
                             str(spec, "clusterIP"));
}

/* ---------- Table ---------- */

/* The whole row: AGE comes before the wide SELECTOR column. */
static const tri_column_t svc_columns[] = {
    {"Name", "string", "name", "Name must be unique within a namespace.", 0},
    {"Type", "string", "", "The type of the service.", 0},
    {"Cluster-IP", "string", "", "The cluster IP of the service.", 0},
    {"External-IP", "string", "", "The external IP of the service.", 0},
    {"Port(s)", "string", "", "The ports of the service.", 0},
    {"Age", "string", "",
     "CreationTimestamp is a timestamp representing the server time when this object was "
     "created.",
     0},
    {"Selector", "string", "", "The label selector of the service.", 1},
};

static void join(tri_buf_t *b, const char *s)
{
    if (s[0] == '\0')
        return;
    tri_buf_appendf(b, "%s%s", b->len ? "," : "", s);
}

static void external_ips(const json_t *obj, tri_buf_t *b)
{
    const json_t *spec = json_object_get(obj, "spec");
    size_t i;
    json_t *v;
    if (is_type(spec, "ExternalName")) {
        join(b, str(spec, "externalName"));
        return;
    }
    if (is_type(spec, "LoadBalancer")) {
        json_array_foreach(
            json_object_get(json_object_get(json_object_get(obj, "status"), "loadBalancer"),
                            "ingress"),
            i, v)
        {
            join(b, str(v, "ip"));
            join(b, str(v, "hostname"));
        }
    }
    json_array_foreach(json_object_get(spec, "externalIPs"), i, v)
        join(b, json_is_string(v) ? json_string_value(v) : "");
    if (b->len == 0)
        tri_buf_appendf(b, "%s", is_type(spec, "LoadBalancer") ? "<pending>" : "<none>");
}

static json_t *svc_cells(const json_t *obj)
{
    const json_t *spec = json_object_get(obj, "spec");
    tri_buf_t ext = {0}, ports = {0};
    external_ips(obj, &ext);
    size_t i;
    json_t *p;
    json_array_foreach(json_object_get(spec, "ports"), i, p)
    {
        char one[64];
        uint32_t np = node_port_of(p);
        if (np)
            snprintf(one, sizeof one, "%lld:%u/%s",
                     (long long)json_integer_value(json_object_get(p, "port")), np,
                     str(p, "protocol"));
        else
            snprintf(one, sizeof one, "%lld/%s",
                     (long long)json_integer_value(json_object_get(p, "port")), str(p, "protocol"));
        join(&ports, one);
    }
    if (ports.len == 0)
        tri_buf_appendf(&ports, "<none>");
    char sel[1024];
    tri_format_labels(json_object_get(spec, "selector"), sel, sizeof sel);
    const char *ip = str(spec, "clusterIP");
    const json_t *meta = json_object_get(obj, "metadata");
    char age[32];
    tri_table_age(json_string_value(json_object_get(meta, "creationTimestamp")), age, sizeof age);
    tri_buf_append(&ext, "", 1);
    tri_buf_append(&ports, "", 1);
    json_t *cells = json_pack("[s, s, s, s, s, s, s]", str(meta, "name"), str(spec, "type"),
                              ip[0] ? ip : "<none>", ext.data, ports.data, age, sel);
    tri_buf_free(&ext);
    tri_buf_free(&ports);
    return cells;
}

const tri_resource_t tri_res_services = {
    .group = "",
    .version = "v1",
    .kind = "Service",
    .list_kind = "ServiceList",
    .plural = "services",
    .singular = "service",
    .short_names = {"svc"},
    .categories = {"all"},
    .namespaced = true,
    .has_status = true,
    .table_all_columns = true,
    .columns = svc_columns,
    .n_columns = sizeof svc_columns / sizeof svc_columns[0],
    .cells = svc_cells,
    .validate = svc_validate,
    .prepare = svc_prepare,
    .fields = {"spec.clusterIP", "spec.type"},
    .known_fields = {"spec", "status"},
    .on_create = svc_on_create,
    .on_update = svc_on_update,
    .on_delete = svc_on_delete,
};
