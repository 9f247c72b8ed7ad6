/* Kubernetes resource.Quantity (k8s.io/apimachinery/pkg/api/resource): the
 * numbers of resource requests, limits, LimitRanges and ResourceQuotas.
 *
 * A quantity is a signed decimal with a suffix: "100m", "1.5", "2Ki", "1e3",
 * "0.5Gi". It is held exactly as a count of nano-units (the smallest amount
 * Kubernetes represents; finer input is rounded up, away from zero, as
 * ParseQuantity does) in a 128-bit integer, plus the format its suffix chose
 * (DecimalSI, BinarySI or DecimalExponent), which decides how it prints.
 * Printing gives Kubernetes' canonical form ("1000m" prints "1", "1536Mi"
 * prints "1536Mi", "0.5Gi" prints "512Mi", "1.5" prints "1500m").
 *
 * Range: magnitudes up to about 1.7e29 units (2^127 nano); larger input is
 * refused with TRI_ERANGE, where Kubernetes would keep an arbitrary-precision
 * decimal. BinarySI values are capped at 2^63-1 as Kubernetes caps them.
 *
 * Pure functions, safe on any input (fuzzed: tests/fuzz/fuzz_quantity.c).
 */
#ifndef TRIARCH_QUANTITY_H
#define TRIARCH_QUANTITY_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum tri_qformat {
    TRI_QF_DECIMAL_SI = 0, /* "", n, u, m, k, M, G, T, P, E */
    TRI_QF_BINARY_SI = 1,  /* Ki, Mi, Gi, Ti, Pi, Ei */
    TRI_QF_DECIMAL_EXP = 2 /* e3, E-2 */
};

typedef struct tri_quantity {
    __int128 nano; /* value × 10^9 */
    enum tri_qformat format;
} tri_quantity_t;

/* Longest canonical form plus NUL ("-170141183460469231731687303715884105727n"). */
#define TRI_QUANTITY_STR_MAX 64

/* Parses s[0:len) as ParseQuantity does (no surrounding spaces). Returns 0,
 * TRI_EINVAL (not a quantity) or TRI_ETOOBIG (out of range). */
int tri_quantity_parse(const char *s, size_t len, tri_quantity_t *out);
/* A JSON string, integer or real (as Quantity.UnmarshalJSON takes them). */
int tri_quantity_from_json(const json_t *v, tri_quantity_t *out);

/* -1, 0, 1 as a <, ==, > b (values only; formats do not matter). */
int tri_quantity_cmp(const tri_quantity_t *a, const tri_quantity_t *b);
bool tri_quantity_is_zero(const tri_quantity_t *q);
/* a += b; a zero `a` takes b's format (Quantity.Add). TRI_ETOOBIG on overflow
 * (a unchanged). */
int tri_quantity_add(tri_quantity_t *a, const tri_quantity_t *b);
/* a -= b; a zero `a` takes b's format (Quantity.Sub). TRI_ETOOBIG on overflow. */
int tri_quantity_sub(tri_quantity_t *a, const tri_quantity_t *b);
/* Value in milli-units, rounded up (Quantity.MilliValue); saturates at INT64. */
int64_t tri_quantity_milli(const tri_quantity_t *q);
/* A whole number of units in DecimalSI (resource.NewQuantity(n, DecimalSI)). */
tri_quantity_t tri_quantity_from_int(int64_t n);

/* Canonical form (Quantity.String) into out (TRI_QUANTITY_STR_MAX bytes). */
const char *tri_quantity_format(const tri_quantity_t *q, char *out, size_t len);
/* The canonical form as a JSON string (new reference). */
json_t *tri_quantity_json(const tri_quantity_t *q);

#endif
