/* Bootstrap tokens: the token's shape, the decision on its Secret (secret,
 * usage, expiration in RFC 3339 with offsets, type, deletion, token-id,
 * auth-extra-groups), and what the default policy lets a bootstrap user do: create
 * and read CertificateSigningRequests (and ask for node client certificates),
 * discovery and self-reviews as every authenticated user; nothing else. */
#include <openssl/evp.h>

#include "authz_fixture.h"
#include "triarch/authn.h"
#include "triarch/errors.h"

#define NOW 1800000000LL /* 2027-01-15T08:00:00Z */

static char *b64(const char *s)
{
    size_t n = strlen(s);
    char *out = malloc(4 * (n / 3 + 1) + 1);
    EVP_EncodeBlock((unsigned char *)out, (const unsigned char *)s, (int)n);
    return out;
}

/* A token Secret; NULL values are left out. */
static json_t *token_secret(const char *name, const char *type, const char *id, const char *secret,
                            const char *usage, const char *exp, const char *groups)
{
    json_t *data = json_object();
    const char *keys[] = {"token-id", "token-secret", "usage-bootstrap-authentication",
                          "expiration", "auth-extra-groups"};
    const char *vals[] = {id, secret, usage, exp, groups};
    for (int i = 0; i < 5; i++) {
        if (vals[i] == NULL)
            continue;
        char *v = b64(vals[i]);
        json_object_set_new(data, keys[i], json_string(v));
        free(v);
    }
    return json_pack("{s:s, s:s, s:{s:s, s:s}, s:s, s:o}", "apiVersion", "v1", "kind", "Secret",
                     "metadata", "name", name, "namespace", "kube-system", "type", type, "data",
                     data);
}

static int check_token(json_t *secret, const char *id, const char *sec, tri_user_t *u)
{
    char why[256];
    int rc = tri_bootstrap_token_check(secret, id, sec, NOW, u, why, sizeof why);
    json_decref(secret);
    return rc;
}

#define TYPE "bootstrap.kubernetes.io/token"
#define NAME "bootstrap-token-abcdef"
#define SECRET "0123456789abcdef"

static void test_split(void)
{
    char id[7], sec[17];
    CHECK(tri_bootstrap_token_split("abcdef.0123456789abcdef", 23, id, sec));
    CHECK_STR(id, "abcdef");
    CHECK_STR(sec, SECRET);
    const char *bad[] = {"abcdef0123456789abcdef",   "ABCDEF.0123456789abcdef",
                         "abcde.0123456789abcdefg",  "abcdef.0123456789abcde_",
                         "abcdef.0123456789abcdef0", "eyJhbGciOiJSUzI1NiJ9.e30.sig"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        CHECK(!tri_bootstrap_token_split(bad[i], strlen(bad[i]), id, sec));
}

static void test_check(void)
{
    tri_user_t u;
    const char *later = "2027-01-16T00:00:00Z", *earlier = "2027-01-15T07:59:59Z";
    CHECK_EQ(check_token(token_secret(NAME, TYPE, "abcdef", SECRET, "true", later, NULL), "abcdef",
                         SECRET, &u),
             0);
    CHECK_STR(u.name, "system:bootstrap:abcdef");
    CHECK(tri_user_in_group(&u, "system:bootstrappers"));
    CHECK(tri_user_in_group(&u, "system:authenticated"));
    CHECK_EQ(u.n_groups, 2);
    /* no expiration: valid until deleted */
    CHECK_EQ(check_token(token_secret(NAME, TYPE, "abcdef", SECRET, "true", NULL, NULL), "abcdef",
                         SECRET, &u),
             0);
    /* offsets and fractions, as RFC 3339 allows */
    CHECK_EQ(check_token(token_secret(NAME, TYPE, "abcdef", SECRET, "true",
                                      "2027-01-15T09:30:00.5+01:00", NULL),
                         "abcdef", SECRET, &u),
             0);
    CHECK_EQ(check_token(token_secret(NAME, TYPE, "abcdef", SECRET, "true",
                                      "2027-01-15T08:30:00+01:00", NULL),
                         "abcdef", SECRET, &u),
             TRI_EINVAL);
    /* refusals */
    CHECK_EQ(check_token(token_secret(NAME, TYPE, "abcdef", SECRET, "true", earlier, NULL),
                         "abcdef", SECRET, &u),
             TRI_EINVAL);
    CHECK_EQ(check_token(token_secret(NAME, TYPE, "abcdef", SECRET, "true", "tomorrow", NULL),
                         "abcdef", SECRET, &u),
             TRI_EINVAL);
    CHECK_EQ(check_token(token_secret(NAME, TYPE, "abcdef", SECRET, "true", later, NULL), "abcdef",
                         "0123456789abcdee", &u),
             TRI_EINVAL);
    CHECK_EQ(check_token(token_secret(NAME, TYPE, "abcdef", SECRET, "false", later, NULL), "abcdef",
                         SECRET, &u),
             TRI_EINVAL);
    CHECK_EQ(check_token(token_secret(NAME, TYPE, "abcdef", SECRET, NULL, later, NULL), "abcdef",
                         SECRET, &u),
             TRI_EINVAL);
    CHECK_EQ(check_token(token_secret(NAME, "Opaque", "abcdef", SECRET, "true", later, NULL),
                         "abcdef", SECRET, &u),
             TRI_EINVAL);
    CHECK_EQ(check_token(token_secret("other-abcdef", TYPE, "abcdef", SECRET, "true", later, NULL),
                         "abcdef", SECRET, &u),
             TRI_EINVAL);
    CHECK_EQ(check_token(token_secret(NAME, TYPE, "zzzzzz", SECRET, "true", later, NULL), "abcdef",
                         SECRET, &u),
             TRI_EINVAL);
    CHECK_EQ(check_token(token_secret(NAME, TYPE, NULL, SECRET, "true", later, NULL), "abcdef",
                         SECRET, &u),
             TRI_EINVAL);
    json_t *deleting = token_secret(NAME, TYPE, "abcdef", SECRET, "true", later, NULL);
    json_object_set_new(json_object_get(deleting, "metadata"), "deletionTimestamp",
                        json_string("2027-01-15T07:00:00Z"));
    CHECK_EQ(check_token(deleting, "abcdef", SECRET, &u), TRI_EINVAL);
    /* extra groups: each under system:bootstrappers: */
    CHECK_EQ(check_token(token_secret(NAME, TYPE, "abcdef", SECRET, "true", later,
                                      "system:bootstrappers:kubeadm:default-node-token"),
                         "abcdef", SECRET, &u),
             0);
    CHECK(tri_user_in_group(&u, "system:bootstrappers:kubeadm:default-node-token"));
    CHECK_EQ(check_token(token_secret(NAME, TYPE, "abcdef", SECRET, "true", later,
                                      "system:bootstrappers:a,system:masters"),
                         "abcdef", SECRET, &u),
             TRI_EINVAL);
    CHECK_EQ(check_token(
                 token_secret(NAME, TYPE, "abcdef", SECRET, "true", later, "system:bootstrappers:"),
                 "abcdef", SECRET, &u),
             TRI_EINVAL);
    int64_t exp;
    json_t *s = token_secret(NAME, TYPE, "abcdef", SECRET, "true", "2020-01-01T00:00:00Z", NULL);
    CHECK_EQ(tri_bootstrap_token_expiration(s, &exp), 0);
    CHECK_EQ(exp, 1577836800);
    CHECK(tri_bootstrap_token_secret(s));
    json_decref(s);
}

/* The default policy gives a bootstrap user CSRs and nothing else. */
static void test_only_join(void)
{
    tri_store_t *s;
    tri_authz_t *a;
    CHECK_EQ(tri_store_new(NULL, &s), 0);
    fx_load_default_policy(s);
    CHECK_EQ(tri_authz_new(s, &a), 0);
    tri_user_t u = fx_user("system:bootstrap:abcdef", "system:bootstrappers system:authenticated");
    const char *cg = "certificates.k8s.io", *csr = "certificatesigningrequests";
    const char *allowed[] = {"create", "get", "list", "watch"};
    for (size_t i = 0; i < 4; i++)
        CHECK_EQ(fx_can(a, &u, allowed[i], cg, csr, NULL, NULL), TRI_AUTHZ_ALLOW);
    CHECK_EQ(fx_can(a, &u, "create", cg, "certificatesigningrequests/nodeclient", NULL, NULL),
             TRI_AUTHZ_ALLOW);
    CHECK_EQ(
        fx_can(a, &u, "create", "authorization.k8s.io", "selfsubjectaccessreviews", NULL, NULL),
        TRI_AUTHZ_ALLOW);
    struct {
        const char *verb, *group, *resource, *ns;
    } denied[] = {
        {"update", cg, "certificatesigningrequests/approval", NULL},
        {"update", cg, "certificatesigningrequests/status", NULL},
        {"delete", cg, csr, NULL},
        {"update", cg, csr, NULL},
        {"create", cg, "certificatesigningrequests/selfnodeclient", NULL},
        {"approve", cg, "signers", NULL},
        {"list", "", "secrets", "kube-system"},
        {"get", "", "secrets", "kube-system"},
        {"list", "", "nodes", NULL},
        {"create", "", "nodes", NULL},
        {"list", "", "pods", "default"},
        {"create", "", "pods", "default"},
        {"get", "", "configmaps", "kube-system"},
        {"create", "", "serviceaccounts/token", "default"},
        {"list", "", "namespaces", NULL},
        {"create", "coordination.k8s.io", "leases", "kube-node-lease"},
        {"list", "rbac.authorization.k8s.io", "clusterroles", NULL},
    };
    for (size_t i = 0; i < sizeof denied / sizeof denied[0]; i++) {
        if (fx_can(a, &u, denied[i].verb, denied[i].group, denied[i].resource, denied[i].ns,
                   NULL) != TRI_AUTHZ_DENY) {
            fprintf(stderr, "bootstrap user may %s %s/%s: expected a denial\n", denied[i].verb,
                    denied[i].group, denied[i].resource);
            exit(1);
        }
    }
    tri_authz_free(a);
    tri_store_free(s);
}

int main(void)
{
    test_split();
    test_check();
    test_only_join();
    printf("ok\n");
    return 0;
}
