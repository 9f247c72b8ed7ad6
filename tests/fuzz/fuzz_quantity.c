/* libFuzzer target: tri_quantity_parse must accept or refuse any input without
 * crashing, and what it accepts must print canonically and read back as the
 * same amount. The text settles after one round: a BinarySI amount that is not
 * a whole number of Ki prints as plain digits ("-62.5Ki" prints "-64000", as
 * apimachinery prints it), which then reads back as DecimalSI ("-64k"). */
#include <stdint.h>
#include <string.h>

#include "fuzz_assert.h"
#include "triarch/errors.h"
#include "triarch/quantity.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    tri_quantity_t q, back, sum;
    int rc = tri_quantity_parse((const char *)data, size, &q);
    FUZZ_ASSERT(rc == 0 || rc == TRI_EINVAL || rc == TRI_ETOOBIG);
    if (rc != 0)
        return 0;
    char s1[TRI_QUANTITY_STR_MAX], s2[TRI_QUANTITY_STR_MAX], s3[TRI_QUANTITY_STR_MAX];
    tri_quantity_format(&q, s1, sizeof s1);
    FUZZ_ASSERT(tri_quantity_parse(s1, strlen(s1), &back) == 0);
    FUZZ_ASSERT(tri_quantity_cmp(&q, &back) == 0);
    tri_quantity_format(&back, s2, sizeof s2);
    tri_quantity_t again;
    FUZZ_ASSERT(tri_quantity_parse(s2, strlen(s2), &again) == 0);
    FUZZ_ASSERT(tri_quantity_cmp(&q, &again) == 0);
    FUZZ_ASSERT(strcmp(s2, tri_quantity_format(&again, s3, sizeof s3)) == 0);
    sum = q;
    if (tri_quantity_add(&sum, &back) == 0) {
        FUZZ_ASSERT(tri_quantity_sub(&sum, &back) == 0);
        FUZZ_ASSERT(tri_quantity_cmp(&sum, &q) == 0);
    }
    (void)tri_quantity_milli(&q);
    return 0;
}
