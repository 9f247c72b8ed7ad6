/* Encryption at rest (see include/triarch/encrypt.h): the EncryptionConfiguration
 * parser, and sealing and opening of stored values with AES-256-GCM (OpenSSL EVP).
 *
 * The configuration is parsed with libyaml into rules: resources → providers →
 * keys. Parsing is strict: an unknown field, a provider we do not implement or a
 * key of the wrong size is refused with a message naming the field, because a
 * silently ignored provider would store Secrets in plaintext.
 *
 * Sealing uses the rule's first provider, first key. Opening picks the provider by
 * the value's prefix and the key by the name inside it, as Kubernetes' prefix
 * transformers do; a value opened by anything but the first provider's first key
 * is stale, so a rewrite re-encrypts it (key rotation).
 */
#include <errno.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "triarch/encrypt.h"
#include "triarch/errors.h"

#define API_VERSION "apiserver.config.k8s.io/v1"
#define KIND "EncryptionConfiguration"
#define AESGCM_PREFIX TRI_ENC_PREFIX "aesgcm:v1:"
/* Key names travel inside every value; Kubernetes has no bound, a short one keeps
 * values small and names readable in errors. */
#define KEY_NAME_MAX 64
#define RESOURCE_NAME_MAX 253 /* a DNS subdomain, as Kubernetes' resource names */

enum provider_kind { P_IDENTITY = 1, P_AESGCM };

typedef struct enc_key {
    char name[KEY_NAME_MAX + 1];
    unsigned char secret[TRI_ENC_KEY_BYTES];
} enc_key_t;

typedef struct enc_provider {
    enum provider_kind kind;
    enc_key_t *keys;
    size_t n_keys;
} enc_provider_t;

typedef struct enc_rule {
    char **resources;
    size_t n_resources;
    enc_provider_t *providers;
    size_t n_providers;
} enc_rule_t;

struct tri_encrypt {
    enc_rule_t *rules;
    size_t n_rules;
};

/* ---------- lifetime ---------- */

void tri_encrypt_free(tri_encrypt_t *e)
{
    if (e == NULL)
        return;
    for (size_t i = 0; i < e->n_rules; i++) {
        enc_rule_t *r = &e->rules[i];
        for (size_t j = 0; j < r->n_resources; j++)
            free(r->resources[j]);
        free(r->resources);
        for (size_t j = 0; j < r->n_providers; j++) {
            enc_provider_t *p = &r->providers[j];
            if (p->keys)
                OPENSSL_cleanse(p->keys, p->n_keys * sizeof *p->keys);
            free(p->keys);
        }
        free(r->providers);
    }
    free(e->rules);
    free(e);
}

/* ---------- parsing ---------- */

typedef struct parser {
    yaml_document_t *doc;
    char *err;
    size_t errlen;
} parser_t;

static int fail(parser_t *p, const yaml_node_t *at, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int fail(parser_t *p, const yaml_node_t *at, const char *fmt, ...)
{
    char msg[384];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (at)
        snprintf(p->err, p->errlen, "line %zu: %s", at->start_mark.line + 1, msg);
    else
        snprintf(p->err, p->errlen, "%s", msg);
    return TRI_EINVAL;
}

static yaml_node_t *node(parser_t *p, int id)
{
    return yaml_document_get_node(p->doc, id);
}

static const char *scalar(const yaml_node_t *n)
{
    return n && n->type == YAML_SCALAR_NODE ? (const char *)n->data.scalar.value : NULL;
}

/* The value of key in a mapping, or NULL. */
static yaml_node_t *map_get(parser_t *p, const yaml_node_t *m, const char *key)
{
    for (yaml_node_pair_t *pr = m->data.mapping.pairs.start; pr < m->data.mapping.pairs.top; pr++) {
        const char *k = scalar(node(p, pr->key));
        if (k && strcmp(k, key) == 0)
            return node(p, pr->value);
    }
    return NULL;
}

/* Every key of mapping m is one of allowed (NULL-terminated) and appears once. */
static int map_check(parser_t *p, const yaml_node_t *m, const char *where,
                     const char *const *allowed)
{
    for (yaml_node_pair_t *pr = m->data.mapping.pairs.start; pr < m->data.mapping.pairs.top; pr++) {
        yaml_node_t *kn = node(p, pr->key);
        const char *k = scalar(kn);
        if (k == NULL)
            return fail(p, kn, "%s: keys must be strings", where);
        bool ok = false;
        for (size_t i = 0; allowed[i] && !ok; i++)
            ok = strcmp(allowed[i], k) == 0;
        if (!ok)
            return fail(p, kn, "%s: unknown field \"%s\"", where, k);
        for (yaml_node_pair_t *q = m->data.mapping.pairs.start; q < pr; q++) {
            const char *k2 = scalar(node(p, q->key));
            if (k2 && strcmp(k2, k) == 0)
                return fail(p, kn, "%s: field \"%s\" given twice", where, k);
        }
    }
    return 0;
}

static size_t seq_len(const yaml_node_t *n)
{
    return (size_t)(n->data.sequence.items.top - n->data.sequence.items.start);
}

/* A non-empty sequence at field `what`. */
static int need_seq(parser_t *p, const yaml_node_t *n, const yaml_node_t *parent, const char *what)
{
    if (n == NULL)
        return fail(p, parent, "%s is required", what);
    if (n->type != YAML_SEQUENCE_NODE)
        return fail(p, n, "%s must be a list", what);
    if (seq_len(n) == 0)
        return fail(p, n, "%s must not be empty", what);
    return 0;
}

static int decode_secret(parser_t *p, const yaml_node_t *n, const char *where, unsigned char *out)
{
    const char *s = scalar(n);
    if (s == NULL || s[0] == '\0')
        return fail(p, n, "%s.secret is required (base64 of %d random bytes)", where,
                    TRI_ENC_KEY_BYTES);
    size_t len = strlen(s);
    unsigned char buf[3 * (4 * TRI_ENC_KEY_BYTES) / 4 + 8];
    int n_out = -1;
    /* base64 of 32 bytes is 44 chars; anything longer cannot be a 32-byte key */
    if (len % 4 == 0 && len <= 4 * ((TRI_ENC_KEY_BYTES + 2) / 3))
        n_out = EVP_DecodeBlock(buf, (const unsigned char *)s, (int)len);
    if (n_out < 0) {
        OPENSSL_cleanse(buf, sizeof buf);
        return fail(p, n, "%s.secret is not valid base64 of %d bytes", where, TRI_ENC_KEY_BYTES);
    }
    /* EVP_DecodeBlock counts '=' padding as zero bytes */
    size_t pad = (len >= 1 && s[len - 1] == '=') + (len >= 2 && s[len - 2] == '=');
    size_t got = (size_t)n_out - pad;
    if (got != TRI_ENC_KEY_BYTES) {
        OPENSSL_cleanse(buf, sizeof buf);
        return fail(p, n,
                    "%s.secret decodes to %zu bytes; aesgcm here is AES-256-GCM and needs "
                    "exactly %d (e.g. `head -c 32 /dev/urandom | base64`)",
                    where, got, TRI_ENC_KEY_BYTES);
    }
    memcpy(out, buf, TRI_ENC_KEY_BYTES);
    OPENSSL_cleanse(buf, sizeof buf);
    return 0;
}

static int key_name_check(parser_t *p, const yaml_node_t *n, const char *where, const char *name)
{
    if (name == NULL || name[0] == '\0')
        return fail(p, n, "%s.name is required", where);
    if (strlen(name) > KEY_NAME_MAX)
        return fail(p, n, "%s.name \"%.20s...\" is longer than %d characters", where, name,
                    KEY_NAME_MAX);
    for (const char *c = name; *c; c++)
        if (*c == ':' || (unsigned char)*c <= ' ' || (unsigned char)*c >= 0x7f)
            return fail(p, n,
                        "%s.name \"%s\" may not contain ':', spaces or control characters "
                        "(it is part of every stored value's prefix)",
                        where, name);
    return 0;
}

static int parse_key(parser_t *p, const yaml_node_t *n, const char *where, enc_key_t *k)
{
    static const char *const fields[] = {"name", "secret", NULL};
    if (n->type != YAML_MAPPING_NODE)
        return fail(p, n, "%s must be a mapping with name and secret", where);
    int rc = map_check(p, n, where, fields);
    if (rc != 0)
        return rc;
    yaml_node_t *nm = map_get(p, n, "name");
    const char *name = scalar(nm);
    rc = key_name_check(p, nm ? nm : n, where, name);
    if (rc != 0)
        return rc;
    snprintf(k->name, sizeof k->name, "%s", name);
    yaml_node_t *sec = map_get(p, n, "secret");
    return decode_secret(p, sec ? sec : n, where, k->secret);
}

static int parse_aesgcm(parser_t *p, const yaml_node_t *n, const char *where, enc_provider_t *pv)
{
    static const char *const fields[] = {"keys", NULL};
    char w[160];
    if (n->type != YAML_MAPPING_NODE)
        return fail(p, n, "%s.aesgcm must be a mapping with keys", where);
    snprintf(w, sizeof w, "%s.aesgcm", where);
    int rc = map_check(p, n, w, fields);
    yaml_node_t *keys = map_get(p, n, "keys");
    snprintf(w, sizeof w, "%s.aesgcm.keys", where);
    rc = rc ? rc : need_seq(p, keys, n, w);
    if (rc != 0)
        return rc;
    pv->kind = P_AESGCM;
    pv->keys = calloc(seq_len(keys), sizeof *pv->keys);
    if (pv->keys == NULL)
        return TRI_ENOMEM;
    for (yaml_node_item_t *it = keys->data.sequence.items.start; it < keys->data.sequence.items.top;
         it++) {
        snprintf(w, sizeof w, "%s.aesgcm.keys[%zu]", where, pv->n_keys);
        rc = parse_key(p, node(p, *it), w, &pv->keys[pv->n_keys]);
        pv->n_keys++; /* counted even on error so that free wipes it */
        if (rc != 0)
            return rc;
    }
    return 0;
}

static int parse_provider(parser_t *p, const yaml_node_t *n, const char *where, enc_provider_t *pv)
{
    if (n->type != YAML_MAPPING_NODE ||
        n->data.mapping.pairs.top - n->data.mapping.pairs.start != 1)
        return fail(p, n, "%s must be a mapping with exactly one provider (aesgcm or identity)",
                    where);
    yaml_node_pair_t *pr = n->data.mapping.pairs.start;
    const char *name = scalar(node(p, pr->key));
    yaml_node_t *v = node(p, pr->value);
    if (name && strcmp(name, "aesgcm") == 0)
        return parse_aesgcm(p, v, where, pv);
    if (name && strcmp(name, "identity") == 0) {
        bool empty = (v->type == YAML_MAPPING_NODE &&
                      v->data.mapping.pairs.top == v->data.mapping.pairs.start) ||
                     (v->type == YAML_SCALAR_NODE &&
                      (v->data.scalar.length == 0 || strcmp(scalar(v), "null") == 0 ||
                       strcmp(scalar(v), "~") == 0));
        if (!empty)
            return fail(p, v, "%s.identity takes no settings (write `identity: {}`)", where);
        pv->kind = P_IDENTITY;
        return 0;
    }
    return fail(p, n,
                "%s: provider \"%s\" is not supported by triarch (supported: aesgcm, "
                "identity)",
                where, name ? name : "?");
}

static bool resource_name_ok(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > RESOURCE_NAME_MAX)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '.' ||
              s[i] == '-' || s[i] == '*'))
            return false;
    /* '*' only as the whole resource part: "*.group", "*." or "*.*" */
    const char *star = strchr(s, '*');
    if (star == NULL || strcmp(s, "*.*") == 0)
        return true;
    return star == s && s[1] == '.' && strchr(s + 2, '*') == NULL;
}

static bool rules_name(const tri_encrypt_t *e, const char *res)
{
    for (size_t i = 0; i < e->n_rules; i++)
        for (size_t j = 0; j < e->rules[i].n_resources; j++)
            if (strcmp(e->rules[i].resources[j], res) == 0)
                return true;
    return false;
}

static int parse_resources(parser_t *p, tri_encrypt_t *e, const yaml_node_t *list,
                           const char *where, enc_rule_t *r)
{
    r->resources = calloc(seq_len(list), sizeof *r->resources);
    if (r->resources == NULL)
        return TRI_ENOMEM;
    for (yaml_node_item_t *it = list->data.sequence.items.start; it < list->data.sequence.items.top;
         it++) {
        yaml_node_t *n = node(p, *it);
        const char *s = scalar(n);
        if (s == NULL || !resource_name_ok(s))
            return fail(p, n,
                        "%s.resources[%zu] must be a resource name such as secrets, "
                        "deployments.apps, *.apps or *.*",
                        where, r->n_resources);
        if (rules_name(e, s))
            return fail(p, n, "%s: resource \"%s\" is listed twice", where, s);
        for (size_t j = 0; j < r->n_resources; j++)
            if (strcmp(r->resources[j], s) == 0)
                return fail(p, n, "%s: resource \"%s\" is listed twice", where, s);
        r->resources[r->n_resources] = strdup(s);
        if (r->resources[r->n_resources] == NULL)
            return TRI_ENOMEM;
        r->n_resources++;
    }
    return 0;
}

/* Key names must tell keys apart across all of a rule's aesgcm providers. */
static int check_key_names(parser_t *p, const yaml_node_t *at, const char *where,
                           const enc_rule_t *r)
{
    for (size_t a = 0; a < r->n_providers; a++)
        for (size_t i = 0; i < r->providers[a].n_keys; i++)
            for (size_t b = a; b < r->n_providers; b++)
                for (size_t j = b == a ? i + 1 : 0; j < r->providers[b].n_keys; j++)
                    if (strcmp(r->providers[a].keys[i].name, r->providers[b].keys[j].name) == 0)
                        return fail(p, at,
                                    "%s: key name \"%s\" is used twice; every key needs "
                                    "its own name",
                                    where, r->providers[a].keys[i].name);
    return 0;
}

static int parse_rule(parser_t *p, tri_encrypt_t *e, const yaml_node_t *n, enc_rule_t *r)
{
    static const char *const fields[] = {"resources", "providers", NULL};
    char where[64], w[96];
    snprintf(where, sizeof where, "resources[%zu]", e->n_rules);
    if (n->type != YAML_MAPPING_NODE)
        return fail(p, n, "%s must be a mapping with resources and providers", where);
    int rc = map_check(p, n, where, fields);
    yaml_node_t *res = map_get(p, n, "resources");
    yaml_node_t *prov = map_get(p, n, "providers");
    snprintf(w, sizeof w, "%s.resources", where);
    rc = rc ? rc : need_seq(p, res, n, w);
    snprintf(w, sizeof w, "%s.providers", where);
    rc = rc ? rc : need_seq(p, prov, n, w);
    rc = rc ? rc : parse_resources(p, e, res, where, r);
    if (rc != 0)
        return rc;
    r->providers = calloc(seq_len(prov), sizeof *r->providers);
    if (r->providers == NULL)
        return TRI_ENOMEM;
    for (yaml_node_item_t *it = prov->data.sequence.items.start; it < prov->data.sequence.items.top;
         it++) {
        snprintf(w, sizeof w, "%s.providers[%zu]", where, r->n_providers);
        rc = parse_provider(p, node(p, *it), w, &r->providers[r->n_providers]);
        r->n_providers++;
        if (rc != 0)
            return rc;
    }
    return check_key_names(p, prov, where, r);
}

static int parse_root(parser_t *p, tri_encrypt_t *e, const yaml_node_t *root)
{
    static const char *const fields[] = {"apiVersion", "kind", "resources", NULL};
    if (root == NULL || root->type != YAML_MAPPING_NODE)
        return fail(p, root, "the file must be a mapping (kind: %s)", KIND);
    int rc = map_check(p, root, "EncryptionConfiguration", fields);
    if (rc != 0)
        return rc;
    const char *av = scalar(map_get(p, root, "apiVersion"));
    const char *kind = scalar(map_get(p, root, "kind"));
    if (av == NULL || strcmp(av, API_VERSION) != 0)
        return fail(p, root, "apiVersion must be %s, got \"%s\"", API_VERSION, av ? av : "");
    if (kind == NULL || strcmp(kind, KIND) != 0)
        return fail(p, root, "kind must be %s, got \"%s\"", KIND, kind ? kind : "");
    yaml_node_t *rules = map_get(p, root, "resources");
    rc = need_seq(p, rules, root, "resources");
    if (rc != 0)
        return rc;
    e->rules = calloc(seq_len(rules), sizeof *e->rules);
    if (e->rules == NULL)
        return TRI_ENOMEM;
    for (yaml_node_item_t *it = rules->data.sequence.items.start;
         it < rules->data.sequence.items.top; it++) {
        rc = parse_rule(p, e, node(p, *it), &e->rules[e->n_rules]);
        e->n_rules++;
        if (rc != 0)
            return rc;
    }
    return 0;
}

int tri_encrypt_parse(const char *text, size_t len, tri_encrypt_t **out, char *err, size_t errlen)
{
    *out = NULL;
    parser_t p = {NULL, err, errlen};
    if (len > TRI_ENC_CONFIG_MAX_BYTES)
        return fail(&p, NULL, "larger than %d bytes", TRI_ENC_CONFIG_MAX_BYTES);
    tri_encrypt_t *e = calloc(1, sizeof *e);
    if (e == NULL)
        return TRI_ENOMEM;
    yaml_parser_t yp;
    yaml_document_t doc;
    yaml_parser_initialize(&yp);
    yaml_parser_set_input_string(&yp, (const unsigned char *)text, len);
    int rc;
    if (!yaml_parser_load(&yp, &doc)) {
        rc = fail(&p, NULL, "line %zu: %s", yp.problem_mark.line + 1,
                  yp.problem ? yp.problem : "YAML parse error");
        yaml_parser_delete(&yp);
        tri_encrypt_free(e);
        return rc;
    }
    p.doc = &doc;
    rc = parse_root(&p, e, yaml_document_get_root_node(&doc));
    yaml_document_delete(&doc);
    yaml_parser_delete(&yp);
    if (rc == TRI_ENOMEM)
        snprintf(err, errlen, "out of memory");
    if (rc != 0) {
        tri_encrypt_free(e);
        return rc;
    }
    *out = e;
    return 0;
}

int tri_encrypt_load(const char *path, tri_encrypt_t **out, char *err, size_t errlen)
{
    *out = NULL;
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        snprintf(err, errlen, "%s: cannot open: %s", path, strerror(errno));
        return TRI_EIO;
    }
    tri_buf_t b = {0};
    char chunk[4096];
    size_t n;
    int rc = 0;
    while (rc == 0 && (n = fread(chunk, 1, sizeof chunk, f)) > 0) {
        if (b.len + n > TRI_ENC_CONFIG_MAX_BYTES) {
            snprintf(err, errlen, "%s: larger than %d bytes", path, TRI_ENC_CONFIG_MAX_BYTES);
            rc = TRI_EINVAL;
        } else {
            rc = tri_buf_append(&b, chunk, n);
        }
    }
    if (rc == 0 && ferror(f)) {
        snprintf(err, errlen, "%s: read error", path);
        rc = TRI_EIO;
    }
    fclose(f);
    char msg[512] = "";
    if (rc == 0 && (rc = tri_encrypt_parse(b.data ? b.data : "", b.len, out, msg, sizeof msg)) != 0)
        snprintf(err, errlen, "%s: %s", path, msg);
    if (b.data)
        OPENSSL_cleanse(b.data, b.len);
    tri_buf_free(&b);
    OPENSSL_cleanse(chunk, sizeof chunk);
    return rc;
}

/* ---------- rules ---------- */

static bool pattern_matches(const char *pat, const char *resource)
{
    if (strcmp(pat, "*.*") == 0)
        return true;
    if (strncmp(pat, "*.", 2) != 0)
        return strcmp(pat, resource) == 0;
    const char *dot = strchr(resource, '.');
    if (pat[2] == '\0') /* "*." : every core-group resource */
        return dot == NULL;
    return dot != NULL && strcmp(dot + 1, pat + 2) == 0;
}

/* The rule for a resource: exact names first, then wildcards, as Kubernetes
 * requires them to be ordered anyway. */
static const enc_rule_t *rule_for(const tri_encrypt_t *e, const char *resource)
{
    if (e == NULL)
        return NULL;
    for (size_t i = 0; i < e->n_rules; i++)
        for (size_t j = 0; j < e->rules[i].n_resources; j++)
            if (strcmp(e->rules[i].resources[j], resource) == 0)
                return &e->rules[i];
    for (size_t i = 0; i < e->n_rules; i++)
        for (size_t j = 0; j < e->rules[i].n_resources; j++)
            if (pattern_matches(e->rules[i].resources[j], resource))
                return &e->rules[i];
    return NULL;
}

bool tri_encrypt_seals(const tri_encrypt_t *e, const char *resource)
{
    const enc_rule_t *r = rule_for(e, resource);
    return r != NULL && r->providers[0].kind == P_AESGCM;
}

void tri_encrypt_describe(const tri_encrypt_t *e, char *out, size_t len)
{
    tri_buf_t b = {0};
    for (size_t i = 0; e && i < e->n_rules; i++) {
        const enc_rule_t *r = &e->rules[i];
        for (size_t j = 0; j < r->n_resources; j++)
            tri_buf_appendf(&b, "%s%s", j ? "," : (i ? "; " : ""), r->resources[j]);
        tri_buf_appendf(&b, ":");
        for (size_t j = 0; j < r->n_providers; j++) {
            const enc_provider_t *p = &r->providers[j];
            if (p->kind == P_IDENTITY) {
                tri_buf_appendf(&b, " identity");
                continue;
            }
            tri_buf_appendf(&b, " aesgcm(");
            for (size_t k = 0; k < p->n_keys; k++)
                tri_buf_appendf(&b, "%s%s", k ? "," : "", p->keys[k].name);
            tri_buf_appendf(&b, ")");
        }
    }
    snprintf(out, len, "%.*s", (int)b.len, b.data ? b.data : "");
    tri_buf_free(&b);
}

/* ---------- AES-256-GCM ---------- */

static int gcm_seal(const enc_key_t *k, const void *aad, size_t aadlen, const void *plain,
                    size_t len, tri_buf_t *out)
{
    size_t name_len = strlen(k->name);
    size_t total =
        sizeof AESGCM_PREFIX - 1 + name_len + 1 + TRI_ENC_NONCE_BYTES + len + TRI_ENC_TAG_BYTES;
    if (len > (size_t)INT32_MAX || aadlen > (size_t)INT32_MAX || tri_buf_reserve(out, total) != 0)
        return TRI_ENOMEM;
    size_t start = out->len;
    tri_buf_append(out, AESGCM_PREFIX, sizeof AESGCM_PREFIX - 1);
    tri_buf_append(out, k->name, name_len);
    tri_buf_append(out, ":", 1);
    unsigned char *nonce = (unsigned char *)out->data + out->len;
    unsigned char *ct = nonce + TRI_ENC_NONCE_BYTES;
    unsigned char *tag = ct + len;
    EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
    int n = 0, ok = c != NULL && RAND_bytes(nonce, TRI_ENC_NONCE_BYTES) == 1 &&
                    EVP_EncryptInit_ex(c, EVP_aes_256_gcm(), NULL, k->secret, nonce) == 1 &&
                    EVP_EncryptUpdate(c, NULL, &n, aad, (int)aadlen) == 1 &&
                    EVP_EncryptUpdate(c, ct, &n, plain, (int)len) == 1 &&
                    EVP_EncryptFinal_ex(c, ct + n, &n) == 1 &&
                    EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_GET_TAG, TRI_ENC_TAG_BYTES, tag) == 1;
    EVP_CIPHER_CTX_free(c);
    if (!ok) {
        out->len = start;
        return TRI_EIO;
    }
    out->len = start + total;
    return 0;
}

/* Returns 0, or TRI_ECORRUPT when the tag does not verify. */
static int gcm_open(const enc_key_t *k, const void *aad, size_t aadlen, const unsigned char *body,
                    size_t len, tri_buf_t *out)
{
    size_t ct_len = len - TRI_ENC_NONCE_BYTES - TRI_ENC_TAG_BYTES;
    const unsigned char *nonce = body, *ct = body + TRI_ENC_NONCE_BYTES, *tag = ct + ct_len;
    if (ct_len > (size_t)INT32_MAX || aadlen > (size_t)INT32_MAX ||
        tri_buf_reserve(out, ct_len + 1) != 0)
        return TRI_ENOMEM;
    unsigned char *pt = (unsigned char *)out->data + out->len;
    EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
    int n = 0, m = 0;
    int ok = c != NULL && EVP_DecryptInit_ex(c, EVP_aes_256_gcm(), NULL, k->secret, nonce) == 1 &&
             EVP_DecryptUpdate(c, NULL, &n, aad, (int)aadlen) == 1 &&
             EVP_DecryptUpdate(c, pt, &n, ct, (int)ct_len) == 1 &&
             EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_TAG, TRI_ENC_TAG_BYTES, (void *)tag) == 1 &&
             EVP_DecryptFinal_ex(c, pt + n, &m) == 1;
    EVP_CIPHER_CTX_free(c);
    if (!ok) {
        OPENSSL_cleanse(pt, ct_len); /* unauthenticated plaintext is never handed out */
        return TRI_ECORRUPT;
    }
    out->len += (size_t)(n + m);
    return 0;
}

int tri_encrypt_seal(const tri_encrypt_t *e, const char *resource, const void *aad, size_t aadlen,
                     const void *plain, size_t len, tri_buf_t *out, bool *sealed, char *err,
                     size_t errlen)
{
    *sealed = false;
    const enc_rule_t *r = rule_for(e, resource);
    if (r == NULL || r->providers[0].kind != P_AESGCM)
        return 0;
    const enc_key_t *k = &r->providers[0].keys[0];
    int rc = gcm_seal(k, aad, aadlen, plain, len, out);
    if (rc != 0) {
        snprintf(err, errlen, "AES-256-GCM encryption with key \"%s\" failed (%s)", k->name,
                 rc == TRI_ENOMEM ? "out of memory" : "cipher or random source error");
        return TRI_EIO;
    }
    *sealed = true;
    return 0;
}

/* The key named in an "aesgcm:v1:<name>:" value, with its provider and key
 * positions (0, 0 = the key that writes). */
static const enc_key_t *find_key(const enc_rule_t *r, const char *name, size_t name_len,
                                 size_t *prov, size_t *idx)
{
    for (size_t i = 0; r && i < r->n_providers; i++)
        for (size_t j = 0; j < r->providers[i].n_keys; j++) {
            const enc_key_t *k = &r->providers[i].keys[j];
            if (strlen(k->name) == name_len && memcmp(k->name, name, name_len) == 0) {
                *prov = i;
                *idx = j;
                return k;
            }
        }
    return NULL;
}

static bool has_identity(const enc_rule_t *r, size_t *pos)
{
    for (size_t i = 0; i < r->n_providers; i++)
        if (r->providers[i].kind == P_IDENTITY) {
            *pos = i;
            return true;
        }
    return false;
}

static int open_plaintext(const enc_rule_t *r, const char *resource, unsigned *flags, char *err,
                          size_t errlen)
{
    size_t pos = 0;
    if (r == NULL) {
        *flags = TRI_ENC_PLAINTEXT;
        return 0;
    }
    if (!has_identity(r, &pos)) {
        snprintf(err, errlen,
                 "the stored value is not encrypted and the "
                 "encryption-provider-config lists no identity provider for %s",
                 resource);
        return TRI_ECORRUPT;
    }
    *flags = TRI_ENC_PLAINTEXT | (pos == 0 ? 0 : TRI_ENC_STALE);
    return 0;
}

/* A name from a stored value, for a message: printable ASCII or a placeholder. */
static void printable(const char *s, size_t len, char *out, size_t outlen)
{
    bool ok = len < outlen;
    for (size_t i = 0; ok && i < len; i++)
        ok = (unsigned char)s[i] > ' ' && (unsigned char)s[i] < 0x7f && s[i] != '"';
    snprintf(out, outlen, "%.*s", ok ? (int)len : 0, ok ? s : "");
    if (!ok)
        snprintf(out, outlen, "(unprintable)");
}

static int open_aesgcm(const enc_rule_t *r, const char *resource, const void *aad, size_t aadlen,
                       const char *v, size_t len, tri_buf_t *out, unsigned *flags, char *err,
                       size_t errlen)
{
    const size_t plen = sizeof AESGCM_PREFIX - 1;
    const char *name = v + plen;
    const char *colon = memchr(name, ':', len - plen);
    if (colon == NULL || colon == name) {
        snprintf(err, errlen, "the stored value has a malformed aesgcm prefix (no key name)");
        return TRI_ECORRUPT;
    }
    size_t name_len = (size_t)(colon - name);
    size_t prov = 0, idx = 0;
    const enc_key_t *k = find_key(r, name, name_len, &prov, &idx);
    if (k == NULL) {
        char shown[KEY_NAME_MAX + 1];
        printable(name, name_len, shown, sizeof shown);
        snprintf(err, errlen, "the stored value was encrypted with aesgcm key \"%s\", which %s",
                 shown,
                 r == NULL ? "this replica cannot read: its encryption-provider-config does not "
                             "cover this resource (or is not set)"
                           : "the encryption-provider-config does not list (was it removed "
                             "before every value was re-encrypted?)");
        return TRI_ECORRUPT;
    }
    size_t body = len - plen - name_len - 1;
    if (body < TRI_ENC_NONCE_BYTES + TRI_ENC_TAG_BYTES) {
        snprintf(err, errlen,
                 "the stored value encrypted with aesgcm key \"%s\" is truncated "
                 "(%zu bytes after its prefix)",
                 k->name, body);
        return TRI_ECORRUPT;
    }
    int rc = gcm_open(k, aad, aadlen, (const unsigned char *)colon + 1, body, out);
    if (rc == TRI_ENOMEM) {
        snprintf(err, errlen, "out of memory decrypting a %s value", resource);
        return TRI_ECORRUPT;
    }
    if (rc != 0) {
        snprintf(err, errlen,
                 "aesgcm key \"%s\" failed to authenticate the stored value (the "
                 "key's secret differs from the one that encrypted it, or the value "
                 "was altered or copied from another key)",
                 k->name);
        return TRI_ECORRUPT;
    }
    *flags = (prov == 0 && idx == 0) ? 0 : TRI_ENC_STALE;
    return 0;
}

int tri_encrypt_open(const tri_encrypt_t *e, const char *resource, const void *aad, size_t aadlen,
                     const void *val, size_t len, tri_buf_t *out, unsigned *flags, char *err,
                     size_t errlen)
{
    const char *v = val;
    const enc_rule_t *r = rule_for(e, resource);
    *flags = 0;
    if (len < sizeof TRI_ENC_PREFIX - 1 || memcmp(v, TRI_ENC_PREFIX, sizeof TRI_ENC_PREFIX - 1))
        return open_plaintext(r, resource, flags, err, errlen);
    if (len >= sizeof AESGCM_PREFIX - 1 && memcmp(v, AESGCM_PREFIX, sizeof AESGCM_PREFIX - 1) == 0)
        return open_aesgcm(r, resource, aad, aadlen, v, len, out, flags, err, errlen);
    const char *prov = v + sizeof TRI_ENC_PREFIX - 1;
    const char *end = memchr(prov, ':', len - (sizeof TRI_ENC_PREFIX - 1));
    char shown[33];
    printable(prov, end ? (size_t)(end - prov) : 0, shown, sizeof shown);
    snprintf(err, errlen,
             "the stored value was encrypted by provider \"%s\", which triarch does "
             "not support (supported: aesgcm, identity)",
             shown);
    return TRI_ECORRUPT;
}
