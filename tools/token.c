/* `triarch token create`: a bootstrap token for joining an agent, as `kubeadm
 * token create` makes one. The token is "<id>.<secret>" ([a-z0-9]{6}.[a-z0-9]{16},
 * from getrandom), stored as the Secret kube-system/bootstrap-token-<id> of type
 * bootstrap.kubernetes.io/token with usage-bootstrap-authentication "true" and an
 * expiration (--ttl, default 24h; 0 never expires). It is created through the API
 * with the kubeconfig's credentials (the admin certificate), so it is encrypted at
 * rest like every Secret. The token goes to stdout and nowhere else: whoever holds
 * it may ask for a node client certificate until it expires. */
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "cli.h"
#include "triarch/errors.h"

#define TOKEN_ALPHABET "abcdefghijklmnopqrstuvwxyz0123456789"
#define TOKEN_ALPHABET_LEN 36
#define UNBIASED_LIMIT (256 / TOKEN_ALPHABET_LEN * TOKEN_ALPHABET_LEN) /* 252 */
#define DEFAULT_TTL_S (24 * 3600)                                      /* kubeadm's default */
#define GROUP_PREFIX "system:bootstrappers:"

/* n characters of [a-z0-9], each uniform (bytes >= 252 are drawn again). */
static int random_chars(char *out, size_t n)
{
    size_t got = 0;
    while (got < n) {
        unsigned char raw[32];
        if (tri_random_bytes(raw, sizeof raw) != 0)
            return TRI_EIO;
        for (size_t i = 0; i < sizeof raw && got < n; i++)
            if (raw[i] < UNBIASED_LIMIT)
                out[got++] = TOKEN_ALPHABET[raw[i] % TOKEN_ALPHABET_LEN];
        OPENSSL_cleanse(raw, sizeof raw);
    }
    out[n] = '\0';
    return 0;
}

static json_t *b64(const char *s)
{
    size_t n = strlen(s);
    char *out = malloc(4 * (n / 3 + 1) + 1);
    if (out == NULL)
        return NULL;
    EVP_EncodeBlock((unsigned char *)out, (const unsigned char *)s, (int)n);
    json_t *v = json_string(out);
    free(out);
    return v;
}

static json_t *token_secret(const char *id, const char *secret, long long ttl_s,
                            const char *description, const char *groups)
{
    char name[64], exp[32];
    snprintf(name, sizeof name, "bootstrap-token-%s", id);
    json_t *data = json_object();
    json_object_set_new(data, "token-id", b64(id));
    json_object_set_new(data, "token-secret", b64(secret));
    json_object_set_new(data, "usage-bootstrap-authentication", b64("true"));
    if (ttl_s > 0) {
        time_t t = time(NULL) + (time_t)ttl_s;
        struct tm tm;
        gmtime_r(&t, &tm);
        strftime(exp, sizeof exp, "%Y-%m-%dT%H:%M:%SZ", &tm);
        json_object_set_new(data, "expiration", b64(exp));
    }
    if (description)
        json_object_set_new(data, "description", b64(description));
    if (groups)
        json_object_set_new(data, "auth-extra-groups", b64(groups));
    return json_pack("{s:s, s:s, s:{s:s, s:s}, s:s, s:o}", "apiVersion", "v1", "kind", "Secret",
                     "metadata", "name", name, "namespace", "kube-system", "type",
                     "bootstrap.kubernetes.io/token", "data", data);
}

/* Each comma-separated group must be system:bootstrappers:<something>. */
static int groups_check(const char *groups)
{
    char buf[1024];
    if (strlen(groups) >= sizeof buf)
        return TRI_EINVAL;
    snprintf(buf, sizeof buf, "%s", groups);
    for (char *save = NULL, *g = strtok_r(buf, ",", &save); g; g = strtok_r(NULL, ",", &save))
        if (strncmp(g, GROUP_PREFIX, strlen(GROUP_PREFIX)) != 0 || g[strlen(GROUP_PREFIX)] == 0)
            return TRI_EINVAL;
    return 0;
}

static int create(const char *kubeconfig, long long ttl_s, const char *description,
                  const char *groups)
{
    char id[7], secret[17];
    if (random_chars(id, 6) != 0 || random_chars(secret, 16) != 0) {
        tri_cli_err("token create: no random bytes from the kernel");
        return 1;
    }
    tri_kube_t kc = {0};
    int rc = tri_kubeconfig_load(kubeconfig, &kc);
    rc = rc ? rc : tri_kube_open(&kc);
    json_t *obj = rc == 0 ? token_secret(id, secret, ttl_s, description, groups) : NULL;
    char *body = obj ? json_dumps(obj, JSON_COMPACT) : NULL;
    json_t *resp = NULL;
    long st =
        body ? tri_kube_do(&kc, "POST", "/api/v1/namespaces/kube-system/secrets", body, &resp) : 0;
    if (body)
        OPENSSL_cleanse(body, strlen(body));
    free(body);
    json_decref(obj);
    int code = 1;
    if (st == 201) {
        printf("%s.%s\n", id, secret);
        code = 0;
    } else if (st != 0) {
        tri_cli_err("token create: HTTP %ld: %s", st, tri_kube_message(resp));
    }
    OPENSSL_cleanse(secret, sizeof secret);
    json_decref(resp);
    tri_kube_close(&kc);
    return code;
}

static void token_usage(FILE *f)
{
    fputs("Usage: triarch token create [--kubeconfig FILE] [--ttl DURATION]\n"
          "                            [--description TEXT] [--groups GROUPS]\n"
          "\n"
          "Creates a bootstrap token for joining an agent and prints it (<id>.<secret>).\n"
          "An agent presenting it as a bearer token is system:bootstrap:<id> in group\n"
          "system:bootstrappers: it may create CertificateSigningRequests and read them,\n"
          "nothing else; a kubelet client request it makes is approved and signed\n"
          "automatically (docs/security.md). The token is the Secret\n"
          "kube-system/bootstrap-token-<id>; delete it to revoke the token.\n"
          "\n"
          "  --kubeconfig FILE   credentials and server (default $KUBECONFIG)\n"
          "  --ttl DURATION      lifetime, e.g. 24h, 1h30m, 600s; 0: never expires\n"
          "                      (default 24h)\n"
          "  --description TEXT  stored with the token\n"
          "  --groups GROUPS     extra groups, comma-separated, each system:bootstrappers:*\n"
          "  -h, --help          this help\n",
          f);
}

int tri_cmd_token(int argc, char **argv)
{
    static const struct option opts[] = {{"kubeconfig", required_argument, NULL, 'k'},
                                         {"ttl", required_argument, NULL, 't'},
                                         {"description", required_argument, NULL, 'd'},
                                         {"groups", required_argument, NULL, 'g'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    if (argc >= 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
        token_usage(stdout);
        return 0;
    }
    if (argc < 2 || strcmp(argv[1], "create") != 0) {
        tri_cli_err("token: unknown or missing subcommand (want: create)");
        token_usage(stderr);
        return 2;
    }
    const char *kubeconfig = getenv("KUBECONFIG"), *desc = NULL, *groups = NULL;
    int64_t ttl = DEFAULT_TTL_S;
    int opt;
    optind = 1;
    while ((opt = getopt_long(argc - 1, argv + 1, "h", opts, NULL)) != -1) {
        if (opt == 'k') {
            kubeconfig = optarg;
        } else if (opt == 't' && tri_duration_parse(optarg, &ttl) != 0) {
            tri_cli_err("token create: --ttl: want a duration such as 24h or 90m, got \"%s\"",
                        optarg);
            return 2;
        } else if (opt == 'd') {
            desc = optarg;
        } else if (opt == 'g' && groups_check(optarg) != 0) {
            tri_cli_err("token create: --groups: each group must start with %s", GROUP_PREFIX);
            return 2;
        } else if (opt == 'g') {
            groups = optarg;
        } else if (opt == 'h') {
            token_usage(stdout);
            return 0;
        } else if (opt != 't') {
            token_usage(stderr);
            return 2;
        }
    }
    if (optind < argc - 1 || kubeconfig == NULL || kubeconfig[0] == '\0') {
        tri_cli_err(optind < argc - 1 ? "token create: unexpected argument"
                                      : "token create needs --kubeconfig (or $KUBECONFIG)");
        token_usage(stderr);
        return 2;
    }
    return create(kubeconfig, (long long)ttl, desc, groups);
}
