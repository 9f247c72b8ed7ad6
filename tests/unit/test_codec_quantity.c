/* resource.Quantity: parsing, canonical printing (the strings apimachinery's
 * Quantity.String gives for the same input), ordering and arithmetic. */
#include <string.h>

#include "check.h"
#include "triarch/errors.h"
#include "triarch/quantity.h"

static tri_quantity_t q(const char *s)
{
    tri_quantity_t v;
    int rc = tri_quantity_parse(s, strlen(s), &v);
    if (rc != 0) {
        fprintf(stderr, "parse \"%s\" failed: %d\n", s, rc);
        exit(1);
    }
    return v;
}

static void canon(const char *in, const char *want)
{
    char buf[TRI_QUANTITY_STR_MAX];
    tri_quantity_t v = q(in);
    tri_quantity_format(&v, buf, sizeof buf);
    if (strcmp(buf, want) != 0) {
        fprintf(stderr, "canonical form of \"%s\": expected \"%s\", got \"%s\"\n", in, want, buf);
        exit(1);
    }
}

static void test_canonical_forms(void)
{
    canon("0", "0");
    canon("-0", "0");
    canon("00", "0");
    canon("1", "1");
    canon("1000m", "1");
    canon("1.5", "1500m");
    canon("0.5", "500m");
    canon(".5", "500m");
    canon("100m", "100m");
    canon("1000", "1k");
    canon("1k", "1k");
    canon("1500k", "1500k");
    canon("2M", "2M");
    canon("1E", "1E");
    canon("1000E", "1000E");
    canon("100n", "100n");
    canon("1u", "1u");
    canon("0.1n", "1n");   /* below a nano-unit rounds up */
    canon("-0.1n", "-1n"); /* away from zero */
    canon("1.0000000001", "1000000001n");
    canon("-1", "-1");
    canon("-100m", "-100m");
    canon("+3", "3");
    canon("1Ki", "1Ki");
    canon("1024", "1024"); /* DecimalSI stays decimal */
    canon("1024Mi", "1Gi");
    canon("1536Mi", "1536Mi");
    canon("1.5Gi", "1536Mi");
    canon("0.5Gi", "512Mi");
    canon("0.5Ki", "512");               /* under 1024: printed as DecimalSI */
    canon("1.1Ki", "1126400m");          /* a fraction: DecimalSI */
    canon("8Ei", "9223372036854775807"); /* BinarySI caps at int64 */
    canon("1e3", "1e3");
    canon("1E3", "1e3");
    canon("1.5e3", "1500");
    canon("12e6", "12e6");
    canon("1e-3", "1e-3");
    canon("100e-3", "100e-3");
    canon("1e-1000000", "1e-9"); /* rounds up to one nano-unit */
    canon("10000000000000000000000000000", "10000000000E");
    canon("1.00000000000000000000000000000000000000000000000001", "1000000001n");
}

static void refused(const char *s, int want)
{
    tri_quantity_t v;
    int rc = tri_quantity_parse(s, strlen(s), &v);
    if (rc != want) {
        fprintf(stderr, "parse \"%s\": expected %d, got %d\n", s, want, rc);
        exit(1);
    }
}

static void test_refused(void)
{
    refused("", TRI_EINVAL);
    refused("abc", TRI_EINVAL);
    refused("1 ", TRI_EINVAL);
    refused(" 1", TRI_EINVAL);
    refused("1.1.1", TRI_EINVAL);
    refused("1Kib", TRI_EINVAL);
    refused("1e", TRI_EINVAL);
    refused("1m3", TRI_EINVAL);
    refused("1e3.5", TRI_EINVAL);
    refused("1ki", TRI_EINVAL);
    refused("1KI", TRI_EINVAL);
    refused("--1", TRI_EINVAL);
    refused("1e1000000", TRI_ETOOBIG);
    refused("1000000000000000000000000000000000000000", TRI_ETOOBIG);
    /* a NUL inside the given length is not a digit */
    tri_quantity_t v;
    CHECK_EQ(tri_quantity_parse("1\0", 2, &v), TRI_EINVAL);
}

static void test_order(void)
{
    tri_quantity_t a = q("1"), b = q("1000m"), c = q("500m"), d = q("1Gi"), e = q("1G");
    CHECK_EQ(tri_quantity_cmp(&a, &b), 0);
    CHECK_EQ(tri_quantity_cmp(&c, &a), -1);
    CHECK_EQ(tri_quantity_cmp(&d, &e), 1);
    tri_quantity_t f = q("-1"), g = q("0");
    CHECK_EQ(tri_quantity_cmp(&f, &g), -1);
    CHECK(tri_quantity_is_zero(&g));
    tri_quantity_t h = q("0.000000001"), i = q("1n");
    CHECK_EQ(tri_quantity_cmp(&h, &i), 0);
}

static void test_arithmetic(void)
{
    char buf[TRI_QUANTITY_STR_MAX];
    tri_quantity_t sum = tri_quantity_from_int(0), m = q("100Mi"), m2 = q("200Mi");
    CHECK_EQ(tri_quantity_add(&sum, &m), 0); /* zero takes the format of what is added */
    CHECK_STR(tri_quantity_format(&sum, buf, sizeof buf), "100Mi");
    CHECK_EQ(tri_quantity_add(&sum, &m2), 0);
    CHECK_STR(tri_quantity_format(&sum, buf, sizeof buf), "300Mi");
    tri_quantity_t cpu = q("1"), half = q("500m");
    CHECK_EQ(tri_quantity_add(&cpu, &half), 0);
    CHECK_STR(tri_quantity_format(&cpu, buf, sizeof buf), "1500m");
    CHECK_EQ(tri_quantity_sub(&cpu, &half), 0);
    CHECK_EQ(tri_quantity_sub(&cpu, &half), 0);
    CHECK_STR(tri_quantity_format(&cpu, buf, sizeof buf), "500m");
    tri_quantity_t n = tri_quantity_from_int(2);
    CHECK_STR(tri_quantity_format(&n, buf, sizeof buf), "2");
    /* overflow is refused and leaves the value unchanged */
    tri_quantity_t big = q("10000000000000000000000000000"), big2 = big;
    for (int k = 0; k < 8; k++)
        (void)tri_quantity_add(&big, &big2);
    tri_quantity_t before = big;
    tri_quantity_t huge = big;
    int rc = 0;
    for (int k = 0; k < 200 && rc == 0; k++)
        rc = tri_quantity_add(&big, &huge);
    CHECK_EQ(rc, TRI_ETOOBIG);
    CHECK(tri_quantity_cmp(&big, &before) >= 0);
}

static void test_milli_and_json(void)
{
    tri_quantity_t a = q("1"), b = q("1n"), c = q("-1n"), d = q("250m");
    CHECK_EQ(tri_quantity_milli(&a), 1000);
    CHECK_EQ(tri_quantity_milli(&b), 1); /* rounded up, as MilliValue */
    CHECK_EQ(tri_quantity_milli(&c), 0);
    CHECK_EQ(tri_quantity_milli(&d), 250);
    char buf[TRI_QUANTITY_STR_MAX];
    tri_quantity_t v;
    json_t *i = json_integer(2), *r = json_real(0.5), *s = json_string("64Mi"), *t = json_true();
    CHECK_EQ(tri_quantity_from_json(i, &v), 0);
    CHECK_STR(tri_quantity_format(&v, buf, sizeof buf), "2");
    CHECK_EQ(tri_quantity_from_json(r, &v), 0);
    CHECK_STR(tri_quantity_format(&v, buf, sizeof buf), "500m");
    CHECK_EQ(tri_quantity_from_json(s, &v), 0);
    CHECK_STR(tri_quantity_format(&v, buf, sizeof buf), "64Mi");
    CHECK_EQ(tri_quantity_from_json(t, &v), TRI_EINVAL);
    CHECK_EQ(tri_quantity_from_json(NULL, &v), TRI_EINVAL);
    json_t *j = tri_quantity_json(&v);
    CHECK_STR(json_string_value(j), "64Mi");
    json_decref(i);
    json_decref(r);
    json_decref(s);
    json_decref(t);
    json_decref(j);
}

int main(void)
{
    test_canonical_forms();
    test_refused();
    test_order();
    test_arithmetic();
    test_milli_and_json();
    printf("quantity: ok\n");
    return 0;
}
