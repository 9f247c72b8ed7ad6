/* libFuzzer target: tri_audit_policy_parse must accept or refuse any input without
 * crashing, leaking or reading out of bounds; a refusal says why; a parsed policy
 * evaluates any request to a valid level, never above Metadata for a Secret. The
 * request attributes come from the input's tail too, so the URL parser
 * (tri_audit_reqinfo_parse) is fuzzed along. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_assert.h"
#include "triarch/audit.h"

static tri_audit_level_t eval(const tri_audit_policy_t *p, const char *method, const char *url,
                              const tri_user_t *u)
{
    tri_audit_reqinfo_t in;
    tri_audit_reqinfo_parse(method, strlen(method), url, strlen(url), &in);
    tri_authz_attrs_t a = {.user = u,
                           .verb = in.verb,
                           .resource_request = in.resource_request,
                           .namespace_ = in.namespace_,
                           .api_group = in.api_group,
                           .api_version = in.api_version,
                           .resource = in.resource,
                           .subresource = in.subresource,
                           .name = in.name,
                           .path = in.path};
    unsigned omit = 0;
    bool mf = false;
    tri_audit_level_t l = tri_audit_policy_eval(p, &a, &omit, &mf);
    FUZZ_ASSERT(l >= TRI_AUDIT_NONE && l <= TRI_AUDIT_REQUEST);
    FUZZ_ASSERT(l <= tri_audit_policy_max_level(p) || l == TRI_AUDIT_NONE);
    if (in.resource_request && tri_audit_capped(in.api_group, in.resource, in.subresource))
        FUZZ_ASSERT(l <= TRI_AUDIT_METADATA);
    return l;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* policy text, then an optional "\n---url---\n" and a URL to evaluate */
    const char *sep = "\n---url---\n";
    const uint8_t *cut = memmem(data, size, sep, strlen(sep));
    size_t plen = cut ? (size_t)(cut - data) : size;
    char *url = cut ? strndup((const char *)cut + strlen(sep), size - plen - strlen(sep))
                    : strdup("/api/v1/namespaces/d/secrets/s");
    char err[400] = "";
    tri_audit_policy_t *p = NULL;
    int rc = tri_audit_policy_parse((const char *)data, plen, &p, err, sizeof err);
    FUZZ_ASSERT((rc == 0) == (p != NULL));
    FUZZ_ASSERT(rc == 0 || err[0] != '\0'); /* parsed, or a message saying why not */
    if (p != NULL && url != NULL) {
        tri_user_t u;
        memset(&u, 0, sizeof u);
        strcpy(u.name, "alice");
        strcpy(u.groups[0], "system:authenticated");
        u.n_groups = 1;
        static const char *const methods[] = {"GET", "POST", "PUT", "PATCH", "DELETE", "HEAD"};
        for (size_t i = 0; i < sizeof methods / sizeof methods[0]; i++)
            eval(p, methods[i], url, &u);
        eval(p, "POST", "/api/v1/namespaces/d/secrets", &u);
        eval(p, "GET", "/healthz", &u);
    }
    tri_audit_policy_free(p);
    free(url);
    return 0;
}
