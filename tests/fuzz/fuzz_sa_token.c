/* libFuzzer target: service-account token verification (the bearer-token path of
 * authentication). No input may crash or leak, and none may verify unless its
 * signed part is exactly the one the seed corpus token was signed over with the
 * fixed test key below: anything else verifying would be a forgery (a bypass).
 * base64url decoding is exercised on the raw input too. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fuzz_assert.h"
#include "triarch/authn.h"

/* A throwaway RSA key made for this target; tokens/corpus/sa_token/valid is signed
 * with it. It protects nothing. */
static const char test_key[] =
    "-----BEGIN PRIVATE KEY-----\n"
    "MIIEvgIBADANBgkqhkiG9w0BAQEFAASCBKgwggSkAgEAAoIBAQDEFoRLPd6QlQ68\n"
    "0M5puSGiHKIsg4JMRl2DzQS8CaGIL+sOQFLdyTggQD3yCRp0bCkueGD7qjZ9ei1e\n"
    "V+0oLbWXh8qMmk7UVrcjFkSNQ05AtjWK4Cb5h10R2qi77jLC1pgMDulJJkvjeUmv\n"
    "AoNogb+ocU6gv5+YtpnbZfVBDfybc+H7fy7aftl6UONPi0oYcf/CK75hNLiLDBdC\n"
    "K09Y/jl4ItD3dog5eBdfi65wu84FqR3b1x8pTn49o3glZodmxLyl2XTOY4b9jHcC\n"
    "NKn2X6psyrE+RlNOtJeQNIDA075y8X0HXSl+V+0Qco6GeJ2fJlHL4fNWNSpmQN/Q\n"
    "FNpV47jzAgMBAAECggEAJCcOnxy6EygYPoG0/NMQO2ZSFCju9gcnKKy9Cbow2P4U\n"
    "tVzwqkl2GqQdh6lcAkkK0rGJF/1K7JmBEdreM8ExsM1tb7zneci/HS3216CoJdAy\n"
    "UPeA2BK3+xm4cGW7YCbWg6qgIkd4SGlNR4IMHlGFt5WkbIjH8Q0BkuzaafMdNr+1\n"
    "NU+IsOxjI5akD06A/qQ8vieDKtI9RfpDOjXIOlINUTNnPPIY6Zii0FhCoXgKWubr\n"
    "h1amkD7HJhhJfw6x6DQy4sTOqdgQFb1w/QXTMkMHugsNxNBD6YED1TOQh92xoTAa\n"
    "1mbE4zcsXpg6e0FOrHcqJA8U6khF6QRGWvH6b9fdwQKBgQDg+mxHz/fMyomEmIsH\n"
    "RALkqUJVWdDv6nv4OylEK0jXO2tBHAEKzz/xFxvsqCI4W1kvDWaCb3L2VIq/MVOY\n"
    "6iSCOh8DICFS2jrDc5QamDFFuHZbfRqoPvPQRGzt0/aPYDEN2Hp+9AWW9eiJot7R\n"
    "0dFPvhs4XPOYg7I1ikH7j4dAoQKBgQDfIEmV6D7i0nHuXMaVj6gh7q5bGiGoYFWe\n"
    "wKV9kFkqUeN5DYmT9tMPBTAnnPDgwKMlOtPlRZPDTMAAN+5il7NLXvWLyktmdfUp\n"
    "ynEDIXSALp/Oaol9N9x2ZnduEoIXY5BRjaQd3D/podi0idulaprj8VFVvEbMhh2K\n"
    "fOb9VHnNEwKBgBYyXvCO4kIAUaUVb9IdsbNhx7uoCudA2U5ad+3T33Hs2N4ppyir\n"
    "3gEpaIXm6MlqqdfsmIqR+GO5X58RfM//ee6nUVv7lY4ZHecexiQBlAru8i6An1qu\n"
    "K1wHBEBKw27N7MkS7LMN3GdSh8jcmuNUsjQN652Z/ia0B6ckpvHs7UlBAoGBAMUi\n"
    "ssEmzAD9bDnscGwN27/3MMc/BEPOsXcswEp7MbyJU1BN3KMFbZ6Ut+IX8F6y9LHd\n"
    "EwA7g/0Gn5DR2eX0IC5UfOAAYLPrPiupOEZK1bK2/uySBl3C8B8QEy8GXTgq+ISF\n"
    "f13+jd1u6JdCQfUZhjYkrPbx/R+Q0yLbjf5/F4pPAoGBAKyhTbfFegG3Hbk2rlS6\n"
    "qN5P6KWSI+XEg/zFionCkupToiLQqgt6ukqlwjHf2AsARPXeSq0wyO+PiRfKuEMe\n"
    "45GHgJzCwRr+3FLK5wfBgUwH87uBTElpZ/oqukIa5H4Fi4VnhiRYG8JYfNuLG23W\n"
    "KHBQG4UNOlXrPGtfuCmMhYg7\n"
    "-----END PRIVATE KEY-----\n";

/* What the seed token signs: header.payload */
static const char signed_part[] = "eyJhbGciOiJSUzI1NiIsImtpZCI6IngifQ.eyJpc3MiOiJodHRwczovL2t1YmVybmV0ZXMuZGVmYXVsdC5zdmMuY2x1c3Rlci5sb2NhbCIsInN1YiI6InN5c3RlbTpzZXJ2aWNlYWNjb3VudDpkZWZhdWx0OnNhIiwiYXVkIjpbImh0dHBzOi8va3ViZXJuZXRlcy5kZWZhdWx0LnN2Yy5jbHVzdGVyLmxvY2FsIl0sImV4cCI6MjcwMDAwMDAwMCwiaWF0IjoxNzAwMDAwMDAwLCJuYmYiOjE3MDAwMDAwMDAsImp0aSI6ImoiLCJrdWJlcm5ldGVzLmlvIjp7Im5hbWVzcGFjZSI6ImRlZmF1bHQiLCJzZXJ2aWNlYWNjb3VudCI6eyJuYW1lIjoic2EiLCJ1aWQiOiJ1LTEifSwicG9kIjp7Im5hbWUiOiJwIiwidWlkIjoidS0yIn19fQ";

#define NOW 1700000100 /* inside the seed token's validity window */

static tri_sa_keys_t *keys(void)
{
    static tri_sa_keys_t *k;
    if (k != NULL)
        return k;
    char path[] = "/tmp/fuzz-sa-key-XXXXXX";
    int fd = mkstemp(path);
    FUZZ_ASSERT(fd >= 0 && write(fd, test_key, sizeof test_key - 1) == (ssize_t)(sizeof test_key - 1));
    close(fd);
    char err[256];
    FUZZ_ASSERT(tri_sa_keys_load(path, NULL, &k, err, sizeof err) == 0);
    unlink(path);
    return k;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *tok = (const char *)data;
    tri_sa_claims_t c;
    char why[512];
    int rc = tri_sa_token_verify(keys(), tok, size, NOW, NULL, NULL, &c, why, sizeof why);
    if (rc == 0) {
        size_t n = strlen(signed_part);
        FUZZ_ASSERT(size > n && memcmp(tok, signed_part, n) == 0 && tok[n] == '.');
        FUZZ_ASSERT(c.ns[0] && c.sa_name[0] && c.sa_uid[0] && c.n_audiences >= 1);
    } else {
        FUZZ_ASSERT(why[0] != '\0');
    }
    tri_buf_t b = {0};
    if (tri_base64url_decode(tok, size, &b) == 0)
        FUZZ_ASSERT(b.len <= size);
    tri_buf_free(&b);
    return 0;
}
