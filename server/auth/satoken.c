/* Service-account tokens: compact JWS, RS256, with Kubernetes' claims (see
 * include/triarch/authn.h). OpenSSL does the RSA; this file does the JOSE framing
 * and the claim checks. */
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/sha.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "triarch/authn.h"
#include "triarch/errors.h"

#define MAX_VERIFY_KEYS 8
#define MAX_TOKEN_BYTES 16384
#define LEEWAY_S 60 /* Kubernetes' jwt validation leeway */

struct tri_sa_keys {
    EVP_PKEY *sign;
    char sign_kid[64];
    EVP_PKEY *verify[MAX_VERIFY_KEYS];
    size_t n_verify;
};

/* ---------- base64url ---------- */

void tri_base64url_encode(const void *p, size_t n, tri_buf_t *out)
{
    if (tri_buf_reserve(out, 4 * ((n + 2) / 3) + 1) != 0)
        return;
    char *dst = out->data + out->len;
    int m = EVP_EncodeBlock((unsigned char *)dst, p, (int)n);
    while (m > 0 && dst[m - 1] == '=')
        m--;
    for (int i = 0; i < m; i++)
        dst[i] = dst[i] == '+' ? '-' : dst[i] == '/' ? '_' : dst[i];
    out->len += (size_t)m;
}

int tri_base64url_decode(const char *s, size_t n, tri_buf_t *out)
{
    if (n % 4 == 1 || n > MAX_TOKEN_BYTES)
        return TRI_EINVAL;
    char *tmp = malloc(n + 4);
    if (tmp == NULL)
        return TRI_ENOMEM;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (c == '-')
            c = '+';
        else if (c == '_')
            c = '/';
        else if (c == '+' || c == '/' || c == '=')
            c = '!'; /* not base64url: make EVP_DecodeBlock refuse it */
        tmp[i] = c;
    }
    size_t pad = (4 - n % 4) % 4;
    memset(tmp + n, '=', pad);
    int rc = tri_buf_reserve(out, (n + pad) / 4 * 3 + 1);
    int m = rc == 0 ? EVP_DecodeBlock((unsigned char *)out->data + out->len,
                                      (unsigned char *)tmp, (int)(n + pad))
                    : -1;
    free(tmp);
    if (m < 0)
        return rc ? rc : TRI_EINVAL;
    out->len += (size_t)m - pad; /* EVP_DecodeBlock counts the padding as zero bytes */
    return 0;
}

/* ---------- keys ---------- */

static EVP_PKEY *read_key(const char *path, bool want_private)
{
    FILE *f = fopen(path, "r");
    if (f == NULL)
        return NULL;
    EVP_PKEY *k = PEM_read_PrivateKey(f, NULL, NULL, NULL);
    if (k == NULL && !want_private) {
        rewind(f);
        k = PEM_read_PUBKEY(f, NULL, NULL, NULL);
    }
    fclose(f);
    if (k != NULL && EVP_PKEY_base_id(k) != EVP_PKEY_RSA) {
        EVP_PKEY_free(k);
        return NULL;
    }
    return k;
}

/* Kubernetes' key id: base64url(SHA-256(DER of the public key)). */
static void key_id(EVP_PKEY *k, char *out, size_t len)
{
    unsigned char *der = NULL;
    int n = i2d_PUBKEY(k, &der);
    unsigned char md[SHA256_DIGEST_LENGTH];
    SHA256(der, n > 0 ? (size_t)n : 0, md);
    OPENSSL_free(der);
    tri_buf_t b = {0};
    tri_base64url_encode(md, sizeof md, &b);
    snprintf(out, len, "%.*s", (int)b.len, b.data ? b.data : "");
    tri_buf_free(&b);
}

static int add_verify_keys(tri_sa_keys_t *k, const char *list, char *err, size_t errlen)
{
    char *copy = strdup(list), *save = NULL;
    int rc = 0;
    for (char *p = strtok_r(copy, ",", &save); p && rc == 0; p = strtok_r(NULL, ",", &save)) {
        EVP_PKEY *pk = k->n_verify < MAX_VERIFY_KEYS ? read_key(p, false) : NULL;
        if (pk == NULL) {
            snprintf(err, errlen, "service-account key \"%s\": not a readable PEM RSA key%s", p,
                     k->n_verify >= MAX_VERIFY_KEYS ? " (too many keys)" : "");
            rc = TRI_EINVAL;
        } else {
            k->verify[k->n_verify++] = pk;
        }
    }
    free(copy);
    return rc;
}

int tri_sa_keys_load(const char *signing_key_file, const char *verify_key_files,
                     tri_sa_keys_t **out, char *err, size_t errlen)
{
    tri_sa_keys_t *k = calloc(1, sizeof *k);
    if (k == NULL)
        return TRI_ENOMEM;
    int rc = 0;
    if (signing_key_file && signing_key_file[0]) {
        k->sign = read_key(signing_key_file, true);
        if (k->sign == NULL) {
            snprintf(err, errlen, "service-account signing key \"%s\": not a readable PEM RSA "
                     "private key", signing_key_file);
            rc = TRI_EINVAL;
        } else {
            key_id(k->sign, k->sign_kid, sizeof k->sign_kid);
        }
    }
    if (rc == 0 && verify_key_files && verify_key_files[0])
        rc = add_verify_keys(k, verify_key_files, err, errlen);
    else if (rc == 0 && k->sign) {
        EVP_PKEY_up_ref(k->sign);
        k->verify[k->n_verify++] = k->sign;
    }
    if (rc == 0 && k->n_verify == 0) {
        snprintf(err, errlen, "no service-account key given");
        rc = TRI_EINVAL;
    }
    if (rc != 0) {
        tri_sa_keys_free(k);
        return rc;
    }
    *out = k;
    return 0;
}

void tri_sa_keys_free(tri_sa_keys_t *k)
{
    if (k == NULL)
        return;
    EVP_PKEY_free(k->sign);
    for (size_t i = 0; i < k->n_verify; i++)
        EVP_PKEY_free(k->verify[i]);
    free(k);
}

bool tri_sa_keys_can_sign(const tri_sa_keys_t *k)
{
    return k->sign != NULL;
}

/* ---------- signing ---------- */

static json_t *ref(const char *name, const char *uid)
{
    return json_pack("{s:s, s:s}", "name", name, "uid", uid);
}

static json_t *claims_json(const tri_sa_claims_t *c)
{
    json_t *aud = json_array();
    for (size_t i = 0; i < c->n_audiences; i++)
        json_array_append_new(aud, json_string(c->audiences[i]));
    char sub[400];
    snprintf(sub, sizeof sub, "system:serviceaccount:%s:%s", c->ns, c->sa_name);
    json_t *k8s = json_pack("{s:s, s:o}", "namespace", c->ns, "serviceaccount",
                            ref(c->sa_name, c->sa_uid));
    if (c->pod_name[0])
        json_object_set_new(k8s, "pod", ref(c->pod_name, c->pod_uid));
    if (c->secret_name[0])
        json_object_set_new(k8s, "secret", ref(c->secret_name, c->secret_uid));
    if (c->node_name[0])
        json_object_set_new(k8s, "node", ref(c->node_name, c->node_uid));
    return json_pack("{s:s, s:s, s:o, s:I, s:I, s:I, s:s, s:o}", "iss", c->issuer, "sub", sub,
                     "aud", aud, "exp", (json_int_t)c->exp, "iat", (json_int_t)c->iat, "nbf",
                     (json_int_t)c->nbf, "jti", c->jti, "kubernetes.io", k8s);
}

static void append_b64_json(json_t *j, tri_buf_t *out)
{
    char *s = json_dumps(j, JSON_COMPACT);
    if (s) {
        tri_base64url_encode(s, strlen(s), out);
        free(s);
    }
}

int tri_sa_token_sign(const tri_sa_keys_t *k, const tri_sa_claims_t *c, tri_buf_t *out)
{
    if (k->sign == NULL)
        return TRI_EINVAL;
    size_t start = out->len;
    json_t *hdr = json_pack("{s:s, s:s}", "alg", "RS256", "kid", k->sign_kid);
    json_t *cl = claims_json(c);
    append_b64_json(hdr, out);
    tri_buf_append(out, ".", 1);
    append_b64_json(cl, out);
    json_decref(hdr);
    json_decref(cl);
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    size_t siglen = 0;
    unsigned char *sig = NULL;
    int ok = md && EVP_DigestSignInit(md, NULL, EVP_sha256(), NULL, k->sign) == 1 &&
             EVP_DigestSign(md, NULL, &siglen, (unsigned char *)out->data + start,
                            out->len - start) == 1 &&
             (sig = malloc(siglen)) != NULL &&
             EVP_DigestSign(md, sig, &siglen, (unsigned char *)out->data + start,
                            out->len - start) == 1;
    if (ok) {
        tri_buf_append(out, ".", 1);
        tri_base64url_encode(sig, siglen, out);
    }
    free(sig);
    EVP_MD_CTX_free(md);
    return ok ? 0 : TRI_EINVAL;
}

/* ---------- verification ---------- */

static bool sig_ok(const tri_sa_keys_t *k, const char *signed_part, size_t n,
                   const tri_buf_t *sig)
{
    for (size_t i = 0; i < k->n_verify; i++) {
        EVP_MD_CTX *md = EVP_MD_CTX_new();
        bool ok = md && EVP_DigestVerifyInit(md, NULL, EVP_sha256(), NULL, k->verify[i]) == 1 &&
                  EVP_DigestVerify(md, (const unsigned char *)sig->data, sig->len,
                                   (const unsigned char *)signed_part, n) == 1;
        EVP_MD_CTX_free(md);
        if (ok)
            return true;
    }
    return false;
}

static json_t *decode_part(const char *s, size_t n)
{
    tri_buf_t b = {0};
    json_t *j = NULL;
    if (tri_base64url_decode(s, n, &b) == 0 && b.len > 0)
        j = json_loadb(b.data, b.len, JSON_REJECT_DUPLICATES, NULL);
    tri_buf_free(&b);
    if (j && !json_is_object(j)) {
        json_decref(j);
        j = NULL;
    }
    return j;
}

static bool copy_val(const json_t *v, char *out, size_t len)
{
    if (!json_is_string(v) || json_string_length(v) >= len ||
        strlen(json_string_value(v)) != json_string_length(v))
        return false;
    snprintf(out, len, "%s", json_string_value(v));
    return true;
}

static bool copy_str(const json_t *obj, const char *key, char *out, size_t len)
{
    return copy_val(json_object_get(obj, key), out, len);
}

static void copy_ref(const json_t *k8s, const char *what, char *name, size_t nlen, char *uid,
                     size_t ulen)
{
    const json_t *r = json_object_get(k8s, what);
    copy_str(r, "name", name, nlen);
    copy_str(r, "uid", uid, ulen);
}

/* aud: one string or a non-empty array of them (RFC 7519 section 4.1.3). */
static bool read_audiences(const json_t *aud, tri_sa_claims_t *c)
{
    if (json_is_string(aud)) {
        c->n_audiences = 1;
        return copy_val(aud, c->audiences[0], sizeof c->audiences[0]);
    }
    if (!json_is_array(aud) || json_array_size(aud) == 0 ||
        json_array_size(aud) > TRI_SA_MAX_AUDIENCES)
        return false;
    for (size_t i = 0; i < json_array_size(aud); i++)
        if (!copy_val(json_array_get(aud, i), c->audiences[c->n_audiences++],
                      sizeof c->audiences[0]))
            return false;
    return true;
}

static bool read_time(const json_t *obj, const char *key, int64_t *out, bool required)
{
    const json_t *v = json_object_get(obj, key);
    if (v == NULL)
        return !required;
    if (!json_is_integer(v))
        return false;
    *out = json_integer_value(v);
    return true;
}

/* The claims of a well-formed service-account token; false names what is wrong. */
static bool read_claims(const json_t *p, tri_sa_claims_t *c, const char **what)
{
    const json_t *k8s = json_object_get(p, "kubernetes.io");
    char sub[400], want[400];
    *what = "issuer";
    if (!copy_str(p, "iss", c->issuer, sizeof c->issuer))
        return false;
    *what = "audience";
    if (!read_audiences(json_object_get(p, "aud"), c))
        return false;
    *what = "time claims";
    if (!read_time(p, "exp", &c->exp, true) || !read_time(p, "iat", &c->iat, false) ||
        !read_time(p, "nbf", &c->nbf, false))
        return false;
    *what = "kubernetes.io claims";
    if (!json_is_object(k8s) || !copy_str(k8s, "namespace", c->ns, sizeof c->ns))
        return false;
    const json_t *sa = json_object_get(k8s, "serviceaccount");
    if (!copy_str(sa, "name", c->sa_name, sizeof c->sa_name) ||
        !copy_str(sa, "uid", c->sa_uid, sizeof c->sa_uid))
        return false;
    copy_ref(k8s, "pod", c->pod_name, sizeof c->pod_name, c->pod_uid, sizeof c->pod_uid);
    copy_ref(k8s, "secret", c->secret_name, sizeof c->secret_name, c->secret_uid,
             sizeof c->secret_uid);
    copy_ref(k8s, "node", c->node_name, sizeof c->node_name, c->node_uid, sizeof c->node_uid);
    copy_str(p, "jti", c->jti, sizeof c->jti);
    *what = "subject";
    snprintf(want, sizeof want, "system:serviceaccount:%s:%s", c->ns, c->sa_name);
    return copy_str(p, "sub", sub, sizeof sub) && strcmp(sub, want) == 0;
}

static bool in_list(const char *list, const char *item)
{
    size_t n = strlen(item);
    for (const char *p = list; p && *p;) {
        const char *e = strchr(p, ',');
        size_t m = e ? (size_t)(e - p) : strlen(p);
        if (m == n && memcmp(p, item, n) == 0)
            return true;
        p = e ? e + 1 : NULL;
    }
    return false;
}

static bool audience_ok(const tri_sa_claims_t *c, const char *audiences)
{
    if (audiences == NULL)
        return true;
    for (size_t i = 0; i < c->n_audiences; i++)
        if (in_list(audiences, c->audiences[i]))
            return true;
    return false;
}

static int fail(char *why, size_t len, const char *msg)
{
    snprintf(why, len, "service-account token: %s", msg);
    return TRI_EINVAL;
}

/* Splits a compact JWS into its three parts; false unless exactly three. */
static bool split3(const char *tok, size_t len, size_t dot[2])
{
    size_t n = 0;
    for (size_t i = 0; i < len; i++) {
        if (tok[i] == '.') {
            if (n == 2)
                return false;
            dot[n++] = i;
        }
    }
    return n == 2;
}

static bool header_ok(const char *tok, size_t n)
{
    json_t *h = decode_part(tok, n);
    const json_t *alg = json_object_get(h, "alg");
    bool ok = json_is_string(alg) && strcmp(json_string_value(alg), "RS256") == 0 &&
              (json_object_get(h, "crit") == NULL);
    json_decref(h);
    return ok;
}

static int check_claims(json_t *p, int64_t now, const char *issuer, const char *audiences,
                        tri_sa_claims_t *c, char *why, size_t wl)
{
    const char *what = "";
    if (!read_claims(p, c, &what)) {
        char m[128];
        snprintf(m, sizeof m, "missing or malformed %s", what);
        return fail(why, wl, m);
    }
    if (issuer && strcmp(c->issuer, issuer) != 0)
        return fail(why, wl, "issued by another issuer");
    if (!audience_ok(c, audiences))
        return fail(why, wl, "not meant for this server's audiences");
    if (now > c->exp + LEEWAY_S)
        return fail(why, wl, "expired");
    if (c->nbf && now + LEEWAY_S < c->nbf)
        return fail(why, wl, "not valid yet");
    return 0;
}

int tri_sa_token_verify(const tri_sa_keys_t *k, const char *tok, size_t len, int64_t now,
                        const char *issuer, const char *audiences, tri_sa_claims_t *c,
                        char *why, size_t wl)
{
    size_t dot[2];
    memset(c, 0, sizeof *c);
    if (len > MAX_TOKEN_BYTES || !split3(tok, len, dot))
        return fail(why, wl, "not a JWT");
    if (!header_ok(tok, dot[0]))
        return fail(why, wl, "unsupported header (only alg RS256)");
    tri_buf_t sig = {0};
    bool good = tri_base64url_decode(tok + dot[1] + 1, len - dot[1] - 1, &sig) == 0 &&
                sig_ok(k, tok, dot[1], &sig);
    tri_buf_free(&sig);
    if (!good)
        return fail(why, wl, "invalid signature");
    json_t *p = decode_part(tok + dot[0] + 1, dot[1] - dot[0] - 1);
    if (p == NULL)
        return fail(why, wl, "malformed claims");
    int rc = check_claims(p, now, issuer, audiences, c, why, wl);
    json_decref(p);
    return rc;
}

void tri_sa_claims_user(const tri_sa_claims_t *c, tri_user_t *u)
{
    memset(u, 0, sizeof *u);
    snprintf(u->name, sizeof u->name, "system:serviceaccount:%s:%s", c->ns, c->sa_name);
    snprintf(u->uid, sizeof u->uid, "%s", c->sa_uid);
    char g[TRI_USER_GROUP_MAX];
    tri_user_add_group(u, "system:serviceaccounts");
    snprintf(g, sizeof g, "system:serviceaccounts:%s", c->ns);
    tri_user_add_group(u, g);
    tri_user_add_group(u, "system:authenticated");
    snprintf(u->pod_name, sizeof u->pod_name, "%s", c->pod_name);
    snprintf(u->node_name, sizeof u->node_name, "%s", c->node_name);
}
