/* Bootstrap-token authentication (Kubernetes' plugin/pkg/auth/authenticator/
 * token/bootstrap), the pure part: the token's shape, and the decision on the
 * Secret that server/http/bootstrap.c read for it. A joining agent presents
 * "<id>.<secret>"; the Secret kube-system/bootstrap-token-<id> vouches for it
 * until its expiration. Every refusal says why (for the debug log); the client
 * only ever sees 401, as kube-apiserver answers. */
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "triarch/authn.h"
#include "triarch/errors.h"

#define DATA_MAX 1024       /* a token secret's values are short */
#define EXTRA_GROUP_MAX 256 /* Kubernetes: system:bootstrappers:[a-z0-9:-]{0,255}[a-z0-9] */

static bool token_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

bool tri_bootstrap_token_split(const char *tok, size_t len, char id[7], char secret[17])
{
    if (len != TRI_BOOTSTRAP_ID_LEN + 1 + TRI_BOOTSTRAP_SECRET_LEN || tok[6] != '.')
        return false;
    for (size_t i = 0; i < len; i++)
        if (i != TRI_BOOTSTRAP_ID_LEN && !token_char(tok[i]))
            return false;
    memcpy(id, tok, TRI_BOOTSTRAP_ID_LEN);
    id[TRI_BOOTSTRAP_ID_LEN] = '\0';
    memcpy(secret, tok + TRI_BOOTSTRAP_ID_LEN + 1, TRI_BOOTSTRAP_SECRET_LEN);
    secret[TRI_BOOTSTRAP_SECRET_LEN] = '\0';
    return true;
}

/* data[key] base64-decoded into out (NUL-terminated); false when absent or bad. */
static bool data_str(const json_t *secret, const char *key, char *out, size_t len)
{
    const char *b64 = json_string_value(json_object_get(json_object_get(secret, "data"), key));
    if (b64 == NULL)
        return false;
    size_t n = strlen(b64);
    if (n % 4 != 0 || n > DATA_MAX || n / 4 * 3 >= len)
        return false;
    int got = EVP_DecodeBlock((unsigned char *)out, (const unsigned char *)b64, (int)n);
    if (got < 0)
        return false;
    size_t pad = (n >= 1 && b64[n - 1] == '=') + (n >= 2 && b64[n - 2] == '=');
    size_t plen = (size_t)got - pad;
    out[plen] = '\0';
    return memchr(out, '\0', plen) == NULL;
}

static bool digits(const char *p, int n, int *out)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (p[i] < '0' || p[i] > '9')
            return false;
        v = v * 10 + (p[i] - '0');
    }
    *out = v;
    return true;
}

/* RFC 3339 as Go's time.RFC3339 reads it: date T time, optional fraction, then Z
 * or an offset. */
static bool parse_rfc3339(const char *s, int64_t *out)
{
    struct tm tm = {0};
    int y, mo, d, h, mi, se;
    if (strlen(s) < 20 || !digits(s, 4, &y) || s[4] != '-' || !digits(s + 5, 2, &mo) ||
        s[7] != '-' || !digits(s + 8, 2, &d) || (s[10] != 'T' && s[10] != 't') ||
        !digits(s + 11, 2, &h) || s[13] != ':' || !digits(s + 14, 2, &mi) || s[16] != ':' ||
        !digits(s + 17, 2, &se))
        return false;
    if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || se > 60)
        return false;
    const char *p = s + 19;
    if (*p == '.') {
        p++;
        if (*p < '0' || *p > '9')
            return false;
        while (*p >= '0' && *p <= '9')
            p++;
    }
    int off = 0;
    if ((*p == 'Z' || *p == 'z') && p[1] == '\0') {
        off = 0;
    } else if ((*p == '+' || *p == '-') && strlen(p) == 6 && p[3] == ':') {
        int oh, om;
        if (!digits(p + 1, 2, &oh) || !digits(p + 4, 2, &om) || oh > 23 || om > 59)
            return false;
        off = (oh * 60 + om) * 60 * (*p == '-' ? -1 : 1);
    } else {
        return false;
    }
    tm.tm_year = y - 1900;
    tm.tm_mon = mo - 1;
    tm.tm_mday = d;
    tm.tm_hour = h;
    tm.tm_min = mi;
    tm.tm_sec = se;
    *out = (int64_t)timegm(&tm) - off;
    return true;
}

int tri_bootstrap_token_expiration(const json_t *secret_obj, int64_t *exp)
{
    char v[128];
    if (json_object_get(json_object_get(secret_obj, "data"), "expiration") == NULL)
        return TRI_ENOENT;
    if (!data_str(secret_obj, "expiration", v, sizeof v) || !parse_rfc3339(v, exp))
        return TRI_EINVAL;
    return 0;
}

bool tri_bootstrap_token_secret(const json_t *obj)
{
    const json_t *meta = json_object_get(obj, "metadata");
    const char *ns = json_string_value(json_object_get(meta, "namespace"));
    const char *name = json_string_value(json_object_get(meta, "name"));
    const char *type = json_string_value(json_object_get(obj, "type"));
    return ns && name && type && strcmp(ns, TRI_BOOTSTRAP_NAMESPACE) == 0 &&
           strncmp(name, TRI_BOOTSTRAP_SECRET_PREFIX, strlen(TRI_BOOTSTRAP_SECRET_PREFIX)) == 0 &&
           strcmp(type, TRI_BOOTSTRAP_SECRET_TYPE) == 0;
}

static bool extra_group_ok(const char *g, size_t n)
{
    static const char prefix[] = TRI_BOOTSTRAPPERS_GROUP ":";
    size_t pl = sizeof prefix - 1;
    if (n <= pl || n > pl + EXTRA_GROUP_MAX || strncmp(g, prefix, pl) != 0)
        return false;
    for (size_t i = pl; i < n; i++)
        if (!token_char(g[i]) && g[i] != ':' && g[i] != '-')
            return false;
    return token_char(g[n - 1]);
}

/* auth-extra-groups: comma-separated, each under system:bootstrappers:. */
static int extra_groups(const json_t *secret, tri_user_t *u, char *why, size_t wl)
{
    char v[DATA_MAX];
    if (json_object_get(json_object_get(secret, "data"), "auth-extra-groups") == NULL)
        return 0;
    if (!data_str(secret, "auth-extra-groups", v, sizeof v)) {
        snprintf(why, wl, "bootstrap token: auth-extra-groups is not readable");
        return TRI_EINVAL;
    }
    for (char *save = NULL, *g = strtok_r(v, ",", &save); g; g = strtok_r(NULL, ",", &save)) {
        while (*g == ' ')
            g++;
        size_t n = strlen(g);
        while (n > 0 && g[n - 1] == ' ')
            g[--n] = '\0';
        if (!extra_group_ok(g, n)) {
            snprintf(why, wl,
                     "bootstrap token: auth-extra-groups entry \"%.64s\" must start "
                     "with %s:",
                     g, TRI_BOOTSTRAPPERS_GROUP);
            return TRI_EINVAL;
        }
        tri_user_add_group(u, g);
    }
    return 0;
}

static int refuse(char *why, size_t wl, const char *id, const char *what)
{
    snprintf(why, wl, "bootstrap token %s: %s", id, what);
    return TRI_EINVAL;
}

int tri_bootstrap_token_check(const json_t *secret_obj, const char *id, const char *secret,
                              int64_t now, tri_user_t *u, char *why, size_t wl)
{
    char v[128];
    const json_t *meta = json_object_get(secret_obj, "metadata");
    if (!json_is_object(secret_obj) || !tri_bootstrap_token_secret(secret_obj))
        return refuse(why, wl, id, "no token secret of type " TRI_BOOTSTRAP_SECRET_TYPE);
    if (json_object_get(meta, "deletionTimestamp") != NULL)
        return refuse(why, wl, id, "its secret is being deleted");
    if (!data_str(secret_obj, "token-id", v, sizeof v) || strcmp(v, id) != 0)
        return refuse(why, wl, id, "token-id does not match the secret's name");
    if (!data_str(secret_obj, "token-secret", v, sizeof v) ||
        strlen(v) != TRI_BOOTSTRAP_SECRET_LEN ||
        CRYPTO_memcmp(v, secret, TRI_BOOTSTRAP_SECRET_LEN) != 0)
        return refuse(why, wl, id, "the token secret does not match");
    if (!data_str(secret_obj, "usage-bootstrap-authentication", v, sizeof v) ||
        strcmp(v, "true") != 0)
        return refuse(why, wl, id, "not marked usage-bootstrap-authentication: \"true\"");
    int64_t exp;
    int rc = tri_bootstrap_token_expiration(secret_obj, &exp);
    if (rc == TRI_EINVAL)
        return refuse(why, wl, id, "expiration is not an RFC 3339 time");
    if (rc == 0 && now >= exp)
        return refuse(why, wl, id, "expired");
    memset(u, 0, sizeof *u);
    snprintf(u->name, sizeof u->name, TRI_BOOTSTRAP_USER_PREFIX "%s", id);
    tri_user_add_group(u, TRI_BOOTSTRAPPERS_GROUP);
    if (extra_groups(secret_obj, u, why, wl) != 0)
        return TRI_EINVAL;
    tri_user_add_group(u, "system:authenticated");
    return 0;
}
