/* libFuzzer target: the EncryptionConfiguration parser and the opening of stored
 * values (server/api/encrypt.c).
 *
 * The first byte picks the mode. Even: the rest is a configuration; it parses, or
 * fails with a message; a parsed one seals and opens a value for every resource
 * name it might cover, and what opens is what was sealed. Odd: the rest is a
 * stored value opened under a fixed configuration; it opens only as plaintext
 * (nobody forges a GCM tag) or fails with a message, never with garbage. */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_assert.h"
#include "triarch/encrypt.h"
#include "triarch/errors.h"

static const char FIXED[] =
    "apiVersion: apiserver.config.k8s.io/v1\nkind: EncryptionConfiguration\nresources:\n"
    "  - resources: [secrets]\n    providers:\n"
    "      - aesgcm: {keys: [{name: key1, secret: AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=}]}\n"
    "      - identity: {}\n";
static const char AAD[] = "/registry/core/secrets/default/s";
static const char PLAIN[] = "{\"kind\":\"Secret\"}";

static void round_trip(const tri_encrypt_t *e, const char *res)
{
    tri_buf_t v = {0}, out = {0};
    bool sealed = false;
    char err[512];
    unsigned flags = 0;
    int rc = tri_encrypt_seal(e, res, AAD, sizeof AAD - 1, PLAIN, sizeof PLAIN - 1, &v, &sealed,
                              err, sizeof err);
    FUZZ_ASSERT(rc == 0);
    FUZZ_ASSERT(sealed == tri_encrypt_seals(e, res));
    if (sealed) {
        rc = tri_encrypt_open(e, res, AAD, sizeof AAD - 1, v.data, v.len, &out, &flags, err,
                              sizeof err);
        FUZZ_ASSERT(rc == 0 && flags == 0);
        FUZZ_ASSERT(out.len == sizeof PLAIN - 1 && memcmp(out.data, PLAIN, out.len) == 0);
    }
    tri_buf_free(&v);
    tri_buf_free(&out);
}

static void fuzz_config(const uint8_t *data, size_t size)
{
    tri_encrypt_t *e = NULL;
    char err[512] = "";
    int rc = tri_encrypt_parse((const char *)data, size, &e, err, sizeof err);
    FUZZ_ASSERT((rc == 0 && e != NULL) || (rc != 0 && e == NULL && err[0] != '\0'));
    if (e == NULL)
        return;
    static const char *const res[] = {"secrets", "configmaps", "deployments.apps", "x.y"};
    for (size_t i = 0; i < sizeof res / sizeof res[0]; i++)
        round_trip(e, res[i]);
    char desc[256];
    tri_encrypt_describe(e, desc, sizeof desc);
    tri_encrypt_free(e);
}

static void fuzz_value(const uint8_t *data, size_t size)
{
    static tri_encrypt_t *e;
    char err[512] = "";
    if (e == NULL && tri_encrypt_parse(FIXED, sizeof FIXED - 1, &e, err, sizeof err) != 0)
        abort();
    tri_buf_t out = {0};
    unsigned flags = 0;
    int rc = tri_encrypt_open(e, "secrets", AAD, sizeof AAD - 1, data, size, &out, &flags, err,
                              sizeof err);
    FUZZ_ASSERT(rc == 0 || (rc == TRI_ECORRUPT && err[0] != '\0' && out.len == 0));
    FUZZ_ASSERT(rc != 0 || (flags & TRI_ENC_PLAINTEXT));
    tri_buf_free(&out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    if (data[0] % 2 == 0)
        fuzz_config(data + 1, size - 1);
    else
        fuzz_value(data + 1, size - 1);
    return 0;
}
