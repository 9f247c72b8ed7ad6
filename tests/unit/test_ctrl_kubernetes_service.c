/* The kubernetes-service loop's pure parts: reading an apiserver identity Lease
 * (its advertised address and when it expires; anything else is not an endpoint)
 * and the Endpoints subsets for a set of live replicas (one subset per API port,
 * addresses sorted and unique, as kube-apiserver's RepackSubsets leaves them). */
#include <jansson.h>

#include "check.h"
#include "triarch/controllers.h"
#include "triarch/errors.h"

static json_t *lease(const char *label, const char *addr, const char *renew, int dur)
{
    json_t *o = json_pack("{s:s, s:{s:s, s:s, s:{}, s:{}}, s:{s:s}}", "kind", "Lease", "metadata",
                          "name", "apiserver-x", "namespace", "kube-system", "labels",
                          "annotations", "spec", "holderIdentity", "r1");
    if (label)
        json_object_set_new(json_object_get(json_object_get(o, "metadata"), "labels"),
                            TRI_APISERVER_IDENTITY_LABEL, json_string(label));
    if (addr)
        json_object_set_new(json_object_get(json_object_get(o, "metadata"), "annotations"),
                            TRI_APISERVER_ADDRESS_ANNOTATION, json_string(addr));
    json_t *spec = json_object_get(o, "spec");
    if (renew)
        json_object_set_new(spec, "renewTime", json_string(renew));
    if (dur)
        json_object_set_new(spec, "leaseDurationSeconds", json_integer(dur));
    return o;
}

static int parse(const char *label, const char *addr, const char *renew, int dur,
                 tri_ctrl_apiserver_t *a, int64_t *exp)
{
    json_t *l = lease(label, addr, renew, dur);
    int rc = tri_ctrl_apiserver_lease(l, a, exp);
    json_decref(l);
    return rc;
}

static void test_lease(void)
{
    tri_ctrl_apiserver_t a;
    int64_t exp = 0;
    /* 2026-01-01T00:00:00Z is 1767225600 */
    CHECK_EQ(parse("kube-apiserver", "10.0.0.7:6443", "2026-01-01T00:00:00.250000Z", 15, &a, &exp),
             0);
    CHECK_STR(a.ip, "10.0.0.7");
    CHECK_EQ(a.port, 6443);
    CHECK_EQ(exp, (1767225600LL + 15) * 1000000 + 250000);
    /* Time without fraction, fewer digits of fraction */
    CHECK_EQ(parse("kube-apiserver", "127.0.0.1:1", "2026-01-01T00:00:01Z", 1, &a, &exp), 0);
    CHECK_EQ(exp, (1767225601LL + 1) * 1000000);
    CHECK_EQ(parse("kube-apiserver", "127.0.0.1:65535", "2026-01-01T00:00:00.5Z", 2, &a, &exp), 0);
    CHECK_EQ(exp, (1767225600LL + 2) * 1000000 + 500000);

    /* not an endpoint: another identity, no label, bad or missing address, time
     * or duration */
    static const struct {
        const char *label, *addr, *renew;
        int dur;
    } bad[] = {
        {"kube-controller-manager", "10.0.0.7:6443", "2026-01-01T00:00:00Z", 15},
        {NULL, "10.0.0.7:6443", "2026-01-01T00:00:00Z", 15},
        {"kube-apiserver", NULL, "2026-01-01T00:00:00Z", 15},
        {"kube-apiserver", "10.0.0.7", "2026-01-01T00:00:00Z", 15},
        {"kube-apiserver", "10.0.0.7:", "2026-01-01T00:00:00Z", 15},
        {"kube-apiserver", "10.0.0.7:0", "2026-01-01T00:00:00Z", 15},
        {"kube-apiserver", "10.0.0.7:65536", "2026-01-01T00:00:00Z", 15},
        {"kube-apiserver", "10.0.0.7:64x", "2026-01-01T00:00:00Z", 15},
        {"kube-apiserver", "host.example:6443", "2026-01-01T00:00:00Z", 15},
        {"kube-apiserver", "[::1]:6443", "2026-01-01T00:00:00Z", 15},
        {"kube-apiserver", "10.0.0.7:6443", NULL, 15},
        {"kube-apiserver", "10.0.0.7:6443", "yesterday", 15},
        {"kube-apiserver", "10.0.0.7:6443", "2026-01-01T00:00:00Z", 0},
        {"kube-apiserver", "10.0.0.7:6443", "2026-01-01T00:00:00Z", -5},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        if (parse(bad[i].label, bad[i].addr, bad[i].renew, bad[i].dur, &a, &exp) != TRI_EINVAL) {
            fprintf(stderr, "bad lease %zu accepted\n", i);
            exit(1);
        }
    }
    /* durations beyond an int32 and times beyond year 5138 are refused, not
     * overflowed */
    json_t *big = lease("kube-apiserver", "10.0.0.7:6443", "2026-01-01T00:00:00Z", 0);
    json_object_set_new(json_object_get(big, "spec"), "leaseDurationSeconds",
                        json_integer(2147483648LL));
    CHECK_EQ(tri_ctrl_apiserver_lease(big, &a, &exp), TRI_EINVAL);
    json_object_set_new(json_object_get(big, "spec"), "leaseDurationSeconds",
                        json_integer(2147483647LL));
    CHECK_EQ(tri_ctrl_apiserver_lease(big, &a, &exp), 0);
    json_object_set_new(json_object_get(big, "spec"), "renewTime",
                        json_string("99999999-01-01T00:00:00Z"));
    CHECK_EQ(tri_ctrl_apiserver_lease(big, &a, &exp), TRI_EINVAL);
    json_decref(big);
    /* a string duration, a non-object */
    json_t *l = lease("kube-apiserver", "10.0.0.7:6443", "2026-01-01T00:00:00Z", 0);
    json_object_set_new(json_object_get(l, "spec"), "leaseDurationSeconds", json_string("15"));
    CHECK_EQ(tri_ctrl_apiserver_lease(l, &a, &exp), TRI_EINVAL);
    json_decref(l);
    l = json_array();
    CHECK_EQ(tri_ctrl_apiserver_lease(l, &a, &exp), TRI_EINVAL);
    json_decref(l);
}

static void test_subsets(void)
{
    /* three replicas of a local cluster (one IP, three ports), one duplicate, and
     * two hosts sharing a port */
    tri_ctrl_apiserver_t live[] = {
        {"127.0.0.1", 30000}, {"10.0.0.2", 6443}, {"127.0.0.1", 20000},
        {"10.0.0.1", 6443},   {"127.0.0.1", 30000},
    };
    json_t *s = tri_ctrl_apiserver_subsets(live, sizeof live / sizeof live[0]);
    char *got = json_dumps(s, JSON_COMPACT);
    CHECK_STR(got, "[{\"addresses\":[{\"ip\":\"10.0.0.1\"},{\"ip\":\"10.0.0.2\"}],"
                   "\"ports\":[{\"name\":\"https\",\"port\":6443,\"protocol\":\"TCP\"}]},"
                   "{\"addresses\":[{\"ip\":\"127.0.0.1\"}],"
                   "\"ports\":[{\"name\":\"https\",\"port\":20000,\"protocol\":\"TCP\"}]},"
                   "{\"addresses\":[{\"ip\":\"127.0.0.1\"}],"
                   "\"ports\":[{\"name\":\"https\",\"port\":30000,\"protocol\":\"TCP\"}]}]");
    free(got);
    json_decref(s);
    s = tri_ctrl_apiserver_subsets(NULL, 0);
    CHECK_EQ(json_array_size(s), 0);
    json_decref(s);
}

int main(void)
{
    test_lease();
    test_subsets();
    printf("ok\n");
    return 0;
}
