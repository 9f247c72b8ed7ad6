/* Service-account tokens: sign and verify round trip, and every way a token can be
 * wrong (signature, algorithm, issuer, audience, time, shape) refused. */
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "check.h"
#include "triarch/authn.h"
#include "triarch/errors.h"

static char dir[] = "/tmp/tri-authn-XXXXXX";

static void write_key(const char *name)
{
    char path[256];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    EVP_PKEY *k = EVP_RSA_gen(2048);
    FILE *f = fopen(path, "w");
    CHECK(k && f && PEM_write_PrivateKey(f, k, NULL, NULL, 0, NULL, NULL) == 1);
    fclose(f);
    EVP_PKEY_free(k);
}

static tri_sa_keys_t *keys(const char *sign, const char *verify)
{
    char sp[256], vp[256], err[256] = "";
    snprintf(sp, sizeof sp, "%s/%s", dir, sign);
    if (verify)
        snprintf(vp, sizeof vp, "%s/%s", dir, verify);
    tri_sa_keys_t *k = NULL;
    CHECK(tri_sa_keys_load(sp, verify ? vp : NULL, &k, err, sizeof err) == 0);
    return k;
}

static tri_sa_claims_t claims(int64_t now)
{
    tri_sa_claims_t c = {0};
    snprintf(c.issuer, sizeof c.issuer, "https://kubernetes.default.svc.cluster.local");
    snprintf(c.audiences[0], sizeof c.audiences[0], "https://kubernetes.default.svc.cluster.local");
    c.n_audiences = 1;
    snprintf(c.ns, sizeof c.ns, "default");
    snprintf(c.sa_name, sizeof c.sa_name, "builder");
    snprintf(c.sa_uid, sizeof c.sa_uid, "1111-2222");
    snprintf(c.pod_name, sizeof c.pod_name, "web-1");
    snprintf(c.pod_uid, sizeof c.pod_uid, "3333");
    snprintf(c.jti, sizeof c.jti, "j1");
    c.iat = c.nbf = now;
    c.exp = now + 3600;
    return c;
}

static int verify(tri_sa_keys_t *k, const char *tok, int64_t now, const char *aud, char *why)
{
    tri_sa_claims_t out;
    return tri_sa_token_verify(k, tok, strlen(tok), now,
                               "https://kubernetes.default.svc.cluster.local", aud, &out, why,
                               256);
}

static void test_round_trip(tri_sa_keys_t *k, int64_t now)
{
    tri_sa_claims_t c = claims(now), out;
    tri_buf_t tok = {0};
    CHECK(tri_sa_token_sign(k, &c, &tok) == 0);
    tri_buf_append(&tok, "", 1);
    char why[256] = "";
    CHECK(tri_sa_token_verify(k, tok.data, tok.len - 1, now, c.issuer, "x,https://kubernetes.default.svc.cluster.local",
                              &out, why, sizeof why) == 0);
    CHECK_STR(out.ns, "default");
    CHECK_STR(out.sa_name, "builder");
    CHECK_STR(out.sa_uid, "1111-2222");
    CHECK_STR(out.pod_name, "web-1");
    CHECK_EQ(out.exp, now + 3600);
    tri_user_t u;
    tri_sa_claims_user(&out, &u);
    CHECK_STR(u.name, "system:serviceaccount:default:builder");
    CHECK(tri_user_in_group(&u, "system:serviceaccounts"));
    CHECK(tri_user_in_group(&u, "system:serviceaccounts:default"));
    CHECK(tri_user_in_group(&u, "system:authenticated"));
    CHECK_STR(u.pod_name, "web-1");
    /* wrong audience, wrong issuer, expired (beyond the leeway), not yet valid */
    CHECK(verify(k, tok.data, now, "https://other", why) == TRI_EINVAL && strstr(why, "audience"));
    CHECK(tri_sa_token_verify(k, tok.data, tok.len - 1, now, "https://evil", NULL, &out, why,
                              sizeof why) == TRI_EINVAL && strstr(why, "issuer"));
    CHECK(verify(k, tok.data, now + 3600 + 61, NULL, why) == TRI_EINVAL && strstr(why, "expired"));
    CHECK(verify(k, tok.data, now + 3600 + 30, NULL, why) == 0); /* leeway */
    CHECK(verify(k, tok.data, now - 120, NULL, why) == TRI_EINVAL && strstr(why, "not valid"));
    /* any change to header, payload or signature breaks it (the last character of a
     * part is skipped: its low bits may be padding that decoders ignore) */
    for (size_t i = 0; i + 2 < tok.len; i += 7) {
        if (tok.data[i + 1] == '.' || tok.data[i] == '.')
            continue;
        char *t = strdup(tok.data);
        t[i] = t[i] == 'A' ? 'B' : 'A';
        if (t[i] != tok.data[i])
            CHECK(verify(k, t, now, NULL, why) == TRI_EINVAL);
        free(t);
    }
    tri_buf_free(&tok);
}

/* A token signed by another key, or with alg none / HS256, is refused. */
static void test_forged(tri_sa_keys_t *k, tri_sa_keys_t *other, int64_t now)
{
    tri_sa_claims_t c = claims(now);
    tri_buf_t tok = {0};
    CHECK(tri_sa_token_sign(other, &c, &tok) == 0);
    tri_buf_append(&tok, "", 1);
    char why[256];
    CHECK(verify(k, tok.data, now, NULL, why) == TRI_EINVAL && strstr(why, "signature"));
    /* same payload, header {"alg":"none"}, empty signature */
    const char *dot = strchr(tok.data, '.');
    const char *dot2 = strchr(dot + 1, '.');
    tri_buf_t none = {0};
    const char *hdr = "{\"alg\":\"none\"}";
    tri_base64url_encode(hdr, strlen(hdr), &none);
    tri_buf_append(&none, dot, (size_t)(dot2 - dot + 1));
    tri_buf_append(&none, "", 1);
    CHECK(verify(k, none.data, now, NULL, why) == TRI_EINVAL && strstr(why, "header"));
    const char *shapes[] = {"", "a.b", "a.b.c.d", "....", "eyJ.eyJ.", "e30.e30.e30"};
    for (size_t i = 0; i < sizeof shapes / sizeof shapes[0]; i++)
        CHECK(verify(k, shapes[i], now, NULL, why) == TRI_EINVAL);
    tri_buf_free(&none);
    tri_buf_free(&tok);
}

static void test_base64url(void)
{
    const char *in[] = {"", "f", "fo", "foo", "foob", "fooba", "foobar", "\xff\xfe\xfd"};
    for (size_t i = 0; i < sizeof in / sizeof in[0]; i++) {
        tri_buf_t e = {0}, d = {0};
        tri_base64url_encode(in[i], strlen(in[i]), &e);
        CHECK(e.len == 0 || memchr(e.data, '=', e.len) == NULL);
        CHECK(tri_base64url_decode(e.data ? e.data : "", e.len, &d) == 0);
        CHECK(d.len == strlen(in[i]) && (d.len == 0 || memcmp(d.data, in[i], d.len) == 0));
        tri_buf_free(&e);
        tri_buf_free(&d);
    }
    tri_buf_t d = {0};
    CHECK(tri_base64url_decode("a+b/", 4, &d) == TRI_EINVAL); /* std alphabet refused */
    CHECK(tri_base64url_decode("abcde", 5, &d) == TRI_EINVAL);
    CHECK(tri_base64url_decode("ab==", 4, &d) == TRI_EINVAL);
    tri_buf_free(&d);
}

static void test_load_errors(void)
{
    char err[256] = "";
    tri_sa_keys_t *k = NULL;
    CHECK(tri_sa_keys_load("/nonexistent/sa.key", NULL, &k, err, sizeof err) == TRI_EINVAL);
    CHECK(strstr(err, "/nonexistent/sa.key") != NULL);
    CHECK(tri_sa_keys_load(NULL, NULL, &k, err, sizeof err) == TRI_EINVAL);
    char p[256];
    snprintf(p, sizeof p, "%s/garbage", dir);
    FILE *f = fopen(p, "w");
    fputs("not a key\n", f);
    fclose(f);
    CHECK(tri_sa_keys_load(NULL, p, &k, err, sizeof err) == TRI_EINVAL);
}

int main(void)
{
    CHECK(mkdtemp(dir) != NULL);
    write_key("a.key");
    write_key("b.key");
    tri_sa_keys_t *a = keys("a.key", NULL), *b = keys("b.key", NULL);
    /* verify-only with both keys (rotation): tokens of either verify */
    char both[600], err[256];
    snprintf(both, sizeof both, "%s/a.key,%s/b.key", dir, dir);
    tri_sa_keys_t *ab = NULL;
    CHECK(tri_sa_keys_load(NULL, both, &ab, err, sizeof err) == 0 && !tri_sa_keys_can_sign(ab));
    int64_t now = (int64_t)time(NULL);
    test_round_trip(a, now);
    test_forged(a, b, now);
    tri_sa_claims_t c = claims(now);
    tri_buf_t tok = {0};
    CHECK(tri_sa_token_sign(b, &c, &tok) == 0);
    tri_buf_append(&tok, "", 1);
    CHECK(verify(ab, tok.data, now, NULL, err) == 0);
    CHECK(tri_sa_token_sign(ab, &c, &tok) == TRI_EINVAL);
    tri_buf_free(&tok);
    test_base64url();
    test_load_errors();
    tri_sa_keys_free(a);
    tri_sa_keys_free(b);
    tri_sa_keys_free(ab);
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    CHECK(system(cmd) == 0);
    printf("auth_authn: all tests passed\n");
    return 0;
}
