/* libFuzzer target: tri_json_decode must reject or accept any input without crashing, leaking
 * or reading out of bounds. tri_json_member_range (the byte-level lookup that lists
 * use to cut managedFields out before parsing) must stay in bounds on any input, and
 * on an object jansson reads, cutting a member out must leave that object minus the
 * member. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_assert.h"
#include "triarch/codec.h"

static void check_member_cut(const char *d, size_t n, const char *key)
{
    size_t b, e, vb, ve;
    if (!tri_json_member_range(d, n, key, &b, &e, &vb, &ve))
        return;
    FUZZ_ASSERT(b <= e && e <= n && b <= vb && vb <= ve && ve <= e);
    json_t *whole = json_loadb(d, n, JSON_REJECT_DUPLICATES, NULL);
    if (!json_is_object(whole)) {
        json_decref(whole);
        return;
    }
    char *cut = malloc(n - (e - b) + 1);
    memcpy(cut, d, b);
    memcpy(cut + b, d + e, n - e);
    json_t *rest = json_loadb(cut, n - (e - b), 0, NULL);
    FUZZ_ASSERT(rest != NULL);
    json_object_del(whole, key);
    FUZZ_ASSERT(json_equal(whole, rest));
    json_decref(rest);
    json_decref(whole);
    free(cut);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char err[256] = "";
    json_t *o = tri_json_decode((const char *)data, size, err, sizeof err);
    FUZZ_ASSERT(o == NULL ? err[0] != '\0' : json_is_object(o));
    json_decref(o);
    check_member_cut((const char *)data, size, "metadata");
    check_member_cut((const char *)data, size, "a");
    return 0;
}
