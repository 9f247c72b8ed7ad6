/* Bootstrap tokens on the request path: the token's Secret is read from this
 * replica's applied state (decrypted through the API's storage seam, as every
 * Secret read is) and judged by tri_bootstrap_token_check. A token secret that a
 * write has only just created on another replica may not be here yet; the agent
 * retries, as kubelet does when its bootstrap request is refused. */
#include <openssl/crypto.h>
#include <stdio.h>
#include <time.h>

#include "internal.h"
#include "triarch/authn.h"
#include "triarch/errors.h"

int tri_authn_bootstrap(tri_http_t *h, const char *tok, size_t len, tri_user_t *u, char *why,
                        size_t wl)
{
    char id[TRI_BOOTSTRAP_ID_LEN + 1], secret[TRI_BOOTSTRAP_SECRET_LEN + 1];
    if (!tri_bootstrap_token_split(tok, len, id, secret)) {
        snprintf(why, wl, "not a bootstrap token");
        return TRI_EINVAL;
    }
    char name[64];
    snprintf(name, sizeof name, TRI_BOOTSTRAP_SECRET_PREFIX "%s", id);
    const tri_resource_t *r = tri_registry_find("", "v1", "secrets");
    json_t *obj = tri_api_lookup(h->api, r, TRI_BOOTSTRAP_NAMESPACE, name);
    int rc;
    if (obj == NULL) {
        snprintf(why, wl, "bootstrap token %s: no secret %s/%s", id, TRI_BOOTSTRAP_NAMESPACE, name);
        rc = TRI_EINVAL;
    } else {
        rc = tri_bootstrap_token_check(obj, id, secret, (int64_t)time(NULL), u, why, wl);
    }
    json_decref(obj);
    OPENSSL_cleanse(secret, sizeof secret);
    return rc;
}
