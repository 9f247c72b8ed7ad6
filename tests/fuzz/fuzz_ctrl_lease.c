/* libFuzzer target: tri_ctrl_apiserver_lease reads identity Leases that anyone
 * allowed to write Leases in kube-system can shape. Input: a Lease as JSON when it
 * starts with '{'; otherwise three lines (the advertised-address annotation,
 * renewTime, leaseDurationSeconds) put into a well-labelled Lease, so the address
 * and time parsers are reached on every run. Accepted: a valid IPv4 address and
 * port, an expiry after the renewal, and one Endpoints subset for that address. */
#include <arpa/inet.h>
#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_assert.h"
#include "triarch/controllers.h"
#include "triarch/errors.h"

static json_t *from_lines(const char *text)
{
    char *copy = strdup(text);
    char *f[3] = {"", "", ""};
    char *save = NULL, *p = copy;
    for (int i = 0; i < 3; i++, p = NULL) {
        char *tok = strtok_r(p, "\n", &save);
        if (tok == NULL)
            break;
        f[i] = tok;
    }
    json_t *o = json_pack("{s:{s:{s:s}, s:{s:s}}, s:{s:s, s:I}}", "metadata", "labels",
                          TRI_APISERVER_IDENTITY_LABEL, TRI_APISERVER_IDENTITY, "annotations",
                          TRI_APISERVER_ADDRESS_ANNOTATION, f[0], "spec", "renewTime", f[1],
                          "leaseDurationSeconds", (json_int_t)strtoll(f[2], NULL, 10));
    free(copy);
    return o;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = malloc(size + 1);
    if (text == NULL)
        return 0;
    memcpy(text, data, size);
    text[size] = '\0';
    json_t *lease = size > 0 && data[0] == '{' ? json_loadb((const char *)data, size, 0, NULL)
                                               : from_lines(text);
    free(text);
    if (lease == NULL)
        return 0; /* not JSON, or not UTF-8 */
    tri_ctrl_apiserver_t a;
    int64_t expires = 0;
    int rc = tri_ctrl_apiserver_lease(lease, &a, &expires);
    FUZZ_ASSERT(rc == 0 || rc == TRI_EINVAL);
    if (rc == 0) {
        struct in_addr in;
        FUZZ_ASSERT(inet_pton(AF_INET, a.ip, &in) == 1);
        FUZZ_ASSERT(a.port >= 1 && a.port <= 65535);
        tri_ctrl_apiserver_t two[2] = {a, a};
        json_t *s = tri_ctrl_apiserver_subsets(two, 2);
        FUZZ_ASSERT(json_array_size(s) == 1);
        FUZZ_ASSERT(json_array_size(json_object_get(json_array_get(s, 0), "addresses")) == 1);
        json_decref(s);
    }
    json_decref(lease);
    return 0;
}
