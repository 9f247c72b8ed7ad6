/* resource.Quantity: parsing, arithmetic and the canonical form (see
 * include/triarch/quantity.h).
 *
 * Parsing follows apimachinery's parseQuantityString and ParseQuantity: an
 * optional sign, digits with an optional fraction, then a suffix made of the
 * letters "eEinumkKMGTP", an optional sign and digits; the suffix is a decimal
 * SI one, a binary SI one, or "e<int>"/"E<int>". The value is reduced to a digit
 * string D and a power of ten X (value in nano-units = D × 10^X × 2^(10i)), then
 * rounded up to a whole nano-unit as ParseQuantity rounds (inf.RoundUp).
 *
 * Printing follows CanonicalizeBytes: trailing zeros move into a power of ten
 * that is then brought to a multiple of three (DecimalSI and DecimalExponent),
 * or into a power of 1024 for whole BinarySI values of at least 1024.
 */
#include <stdio.h>
#include <string.h>

#include "triarch/errors.h"
#include "triarch/quantity.h"

typedef unsigned __int128 u128;

#define NANO_PER_UNIT 1000000000ll
/* Magnitudes stay below 2^126 so that a sum of two never overflows. */
#define MAG_LIMIT ((u128)1 << 126)
/* Significant digits kept (10^38 - 1 < 2^127); further digits only round up,
 * since a value with more above the nano-unit is out of range anyway. */
#define MAX_DIGITS 38
/* 10^38 < 2^127: the largest power of ten an u128 holds with room to spare. */
#define MAX_POW10 38
/* Kubernetes caps BinarySI amounts at int64's maximum (maxAllowed). */
#define BINARY_CAP_UNITS ((u128)INT64_MAX)

static u128 pow10_u(int n)
{
    u128 p = 1;
    while (n-- > 0)
        p *= 10;
    return p;
}

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

/* ---------- scanning ---------- */

typedef struct scan {
    bool neg;
    char digits[MAX_DIGITS + 1]; /* significant digits, no leading zeros */
    int n_digits;
    bool sticky; /* a non-zero digit was dropped past MAX_DIGITS */
    long long x; /* power of ten of the last kept digit, in units */
    const char *suffix;
    size_t suffix_len;
} scan_t;

/* Appends one digit of the number (integer or fraction part) to the scan. */
static void push_digit(scan_t *sc, char c, bool fraction)
{
    if (fraction)
        sc->x--; /* every fraction digit shifts the value one place right */
    if (sc->n_digits == 0 && c == '0')
        return;
    if (sc->n_digits < MAX_DIGITS) {
        sc->digits[sc->n_digits++] = c;
        return;
    }
    /* dropped: the kept digits move one place left */
    sc->x++;
    if (c != '0')
        sc->sticky = true;
}

static int scan_number(const char *s, size_t len, scan_t *sc)
{
    size_t pos = 0;
    memset(sc, 0, sizeof *sc);
    if (pos < len && (s[pos] == '-' || s[pos] == '+'))
        sc->neg = s[pos++] == '-';
    while (pos < len && is_digit(s[pos]))
        push_digit(sc, s[pos++], false);
    if (pos < len && s[pos] == '.') {
        pos++;
        while (pos < len && is_digit(s[pos]))
            push_digit(sc, s[pos++], true);
    }
    size_t sfx = pos;
    while (pos < len && strchr("eEinumkKMGTP", s[pos]) != NULL && s[pos] != '\0')
        pos++;
    if (pos < len && (s[pos] == '-' || s[pos] == '+'))
        pos++;
    while (pos < len && is_digit(s[pos]))
        pos++;
    if (pos != len)
        return TRI_EINVAL;
    sc->suffix = s + sfx;
    sc->suffix_len = len - sfx;
    return 0;
}

/* ---------- suffixes ---------- */

typedef struct suffix_def {
    const char *text;
    int base;     /* 10 or 2 */
    int exponent; /* power of base */
} suffix_def_t;

static const suffix_def_t dec_suffixes[] = {
    {"n", 10, -9}, {"u", 10, -6}, {"m", 10, -3}, {"", 10, 0},   {"k", 10, 3},
    {"M", 10, 6},  {"G", 10, 9},  {"T", 10, 12}, {"P", 10, 15}, {"E", 10, 18},
};
static const suffix_def_t bin_suffixes[] = {
    {"", 2, 0},    {"Ki", 2, 10}, {"Mi", 2, 20}, {"Gi", 2, 30},
    {"Ti", 2, 40}, {"Pi", 2, 50}, {"Ei", 2, 60},
};
#define N_DEC (sizeof dec_suffixes / sizeof dec_suffixes[0])
#define N_BIN (sizeof bin_suffixes / sizeof bin_suffixes[0])

static bool suffix_is(const scan_t *sc, const char *t)
{
    return strlen(t) == sc->suffix_len && memcmp(sc->suffix, t, sc->suffix_len) == 0;
}

/* "e<int>" or "E<int>": strconv.ParseInt of the rest (a sign, then digits). */
static bool exponent_suffix(const scan_t *sc, long long *exp)
{
    const char *p = sc->suffix + 1, *end = sc->suffix + sc->suffix_len;
    if (sc->suffix_len < 2 || (sc->suffix[0] != 'e' && sc->suffix[0] != 'E'))
        return false;
    bool neg = false;
    if (*p == '-' || *p == '+')
        neg = *p++ == '-';
    if (p == end || end - p > 18)
        return false;
    long long v = 0;
    for (; p < end; p++) {
        if (!is_digit(*p))
            return false;
        v = v * 10 + (*p - '0');
    }
    *exp = neg ? -v : v;
    return true;
}

static int interpret(const scan_t *sc, int *base, long long *exp, enum tri_qformat *fmt)
{
    for (size_t i = 0; i < N_DEC; i++) {
        if (suffix_is(sc, dec_suffixes[i].text)) {
            *base = 10, *exp = dec_suffixes[i].exponent, *fmt = TRI_QF_DECIMAL_SI;
            return 0;
        }
    }
    for (size_t i = 1; i < N_BIN; i++) {
        if (suffix_is(sc, bin_suffixes[i].text)) {
            *base = 2, *exp = bin_suffixes[i].exponent, *fmt = TRI_QF_BINARY_SI;
            return 0;
        }
    }
    if (exponent_suffix(sc, exp)) {
        *base = 10, *fmt = TRI_QF_DECIMAL_EXP;
        return 0;
    }
    return TRI_EINVAL;
}

/* ---------- value ---------- */

static u128 digits_value(const scan_t *sc)
{
    u128 d = 0;
    for (int i = 0; i < sc->n_digits; i++)
        d = d * 10 + (u128)(sc->digits[i] - '0');
    return d;
}

/* ceil(p / 10^k) for k > 0, plus one when digits were dropped (their true
 * value lies strictly between p and p+1, so the ceiling is floor + 1). */
static u128 div_pow10_up(u128 p, long long k, bool sticky)
{
    if (k > MAX_POW10)
        return p != 0 || sticky ? 1 : 0; /* p < 2^127 < 10^39 */
    u128 d = pow10_u((int)k);
    u128 q = p / d;
    return q + ((p % d) != 0 || sticky ? 1 : 0);
}

/* Magnitude in nano-units of D × 10^x × mult. */
static int magnitude(const scan_t *sc, long long x, u128 mult, u128 *out)
{
    u128 d = digits_value(sc);
    if (d == 0 && !sc->sticky) {
        *out = 0;
        return 0;
    }
    if (x >= 0) {
        /* dropped digits at or above the nano-unit: not representable exactly */
        if (sc->sticky || x > MAX_POW10)
            return TRI_ETOOBIG;
        u128 r;
        if (__builtin_mul_overflow(d, pow10_u((int)x), &r) || __builtin_mul_overflow(r, mult, &r))
            return TRI_ETOOBIG;
        *out = r;
        return 0;
    }
    if (mult != 1 && sc->sticky)
        return TRI_ETOOBIG; /* the bounds of the dropped part scale past one nano */
    u128 p;
    if (__builtin_mul_overflow(d, mult, &p))
        return TRI_ETOOBIG;
    *out = div_pow10_up(p, -x, sc->sticky);
    return 0;
}

int tri_quantity_parse(const char *s, size_t len, tri_quantity_t *out)
{
    scan_t sc;
    if (s == NULL || len == 0 || scan_number(s, len, &sc) != 0)
        return TRI_EINVAL;
    int base;
    long long exp;
    enum tri_qformat fmt;
    if (interpret(&sc, &base, &exp, &fmt) != 0)
        return TRI_EINVAL;
    /* exponents far past any representable value only decide zero / too big */
    if (exp > 100000)
        exp = 100000;
    if (exp < -100000)
        exp = -100000;
    long long x = sc.x + 9 + (base == 10 ? exp : 0);
    u128 mult = base == 2 ? (u128)1 << exp : 1;
    u128 mag;
    int rc = magnitude(&sc, x, mult, &mag);
    if (rc != 0)
        return rc;
    if (mag >= MAG_LIMIT)
        return TRI_ETOOBIG;
    if (fmt == TRI_QF_BINARY_SI && mag > BINARY_CAP_UNITS * NANO_PER_UNIT)
        mag = BINARY_CAP_UNITS * NANO_PER_UNIT;
    if (fmt == TRI_QF_BINARY_SI && mag != 0 && mag < (u128)NANO_PER_UNIT)
        fmt = TRI_QF_DECIMAL_SI; /* as ParseQuantity: a fraction of one is not binary */
    out->nano = sc.neg ? -(__int128)mag : (__int128)mag;
    out->format = fmt;
    return 0;
}

int tri_quantity_from_json(const json_t *v, tri_quantity_t *out)
{
    char tmp[64];
    if (json_is_string(v))
        return tri_quantity_parse(json_string_value(v), json_string_length(v), out);
    if (json_is_integer(v)) {
        snprintf(tmp, sizeof tmp, "%lld", (long long)json_integer_value(v));
        return tri_quantity_parse(tmp, strlen(tmp), out);
    }
    if (json_is_real(v)) {
        snprintf(tmp, sizeof tmp, "%.15g", json_real_value(v));
        return tri_quantity_parse(tmp, strlen(tmp), out);
    }
    return TRI_EINVAL;
}

/* ---------- arithmetic ---------- */

int tri_quantity_cmp(const tri_quantity_t *a, const tri_quantity_t *b)
{
    return a->nano < b->nano ? -1 : a->nano > b->nano ? 1 : 0;
}

bool tri_quantity_is_zero(const tri_quantity_t *q)
{
    return q->nano == 0;
}

static bool in_range(__int128 v)
{
    return v < (__int128)MAG_LIMIT && v > -(__int128)MAG_LIMIT;
}

int tri_quantity_add(tri_quantity_t *a, const tri_quantity_t *b)
{
    __int128 r = a->nano + b->nano; /* both below 2^126: no overflow */
    if (!in_range(r))
        return TRI_ETOOBIG;
    if (a->nano == 0)
        a->format = b->format;
    a->nano = r;
    return 0;
}

int tri_quantity_sub(tri_quantity_t *a, const tri_quantity_t *b)
{
    __int128 r = a->nano - b->nano;
    if (!in_range(r))
        return TRI_ETOOBIG;
    if (a->nano == 0)
        a->format = b->format;
    a->nano = r;
    return 0;
}

int64_t tri_quantity_milli(const tri_quantity_t *q)
{
    __int128 m = q->nano >= 0 ? (q->nano + 999999) / 1000000 : q->nano / 1000000;
    if (m > INT64_MAX)
        return INT64_MAX;
    if (m < INT64_MIN)
        return INT64_MIN;
    return (int64_t)m;
}

tri_quantity_t tri_quantity_from_int(int64_t n)
{
    return (tri_quantity_t){(__int128)n * NANO_PER_UNIT, TRI_QF_DECIMAL_SI};
}

/* ---------- canonical form ---------- */

/* Decimal digits of v into buf (at least 40 bytes); returns buf. */
static char *u128_str(u128 v, char *buf)
{
    char tmp[48];
    int n = 0;
    do {
        tmp[n++] = (char)('0' + (int)(v % 10));
        v /= 10;
    } while (v != 0);
    for (int i = 0; i < n; i++)
        buf[i] = tmp[n - 1 - i];
    buf[n] = '\0';
    return buf;
}

static const char *dec_suffix_for(int exponent)
{
    for (size_t i = 0; i < N_DEC; i++)
        if (dec_suffixes[i].exponent == exponent)
            return dec_suffixes[i].text;
    return "";
}

/* amount × 10^exponent with exponent a multiple of 3 (AsCanonicalBytes). */
static void canonical_decimal(u128 mag, u128 *amount, int *exponent)
{
    int e = -9;
    while (mag % 10 == 0) {
        mag /= 10;
        e++;
    }
    /* each multiplication undoes a division above: no overflow */
    int r = ((e % 3) + 3) % 3;
    for (int i = 0; i < r; i++) {
        mag *= 10;
        e--;
    }
    *amount = mag, *exponent = e;
}

static void format_decimal(u128 mag, enum tri_qformat fmt, char *digits, char *suffix, size_t slen)
{
    u128 amount;
    int e;
    canonical_decimal(mag, &amount, &e);
    if (fmt == TRI_QF_DECIMAL_EXP) {
        if (e == 0)
            suffix[0] = '\0';
        else
            snprintf(suffix, slen, "e%d", e);
    } else {
        /* past exa (the largest SI suffix) the number carries the difference, where
         * apimachinery would print no suffix at all */
        for (; e > 18; e--)
            amount *= 10;
        snprintf(suffix, slen, "%s", dec_suffix_for(e));
    }
    u128_str(amount, digits);
}

const char *tri_quantity_format(const tri_quantity_t *q, char *out, size_t len)
{
    if (q->nano == 0) {
        snprintf(out, len, "0");
        return out;
    }
    bool neg = q->nano < 0;
    u128 mag = neg ? (u128)(-q->nano) : (u128)q->nano;
    char digits[48], suffix[24];
    bool binary = q->format == TRI_QF_BINARY_SI && mag >= (u128)1024 * NANO_PER_UNIT &&
                  mag % NANO_PER_UNIT == 0;
    if (binary) {
        u128 units = mag / NANO_PER_UNIT;
        size_t e = 0;
        while (units % 1024 == 0 && e + 1 < N_BIN) {
            units /= 1024;
            e++;
        }
        u128_str(units, digits);
        snprintf(suffix, sizeof suffix, "%s", bin_suffixes[e].text);
    } else {
        enum tri_qformat f = q->format == TRI_QF_DECIMAL_EXP ? q->format : TRI_QF_DECIMAL_SI;
        format_decimal(mag, f, digits, suffix, sizeof suffix);
    }
    snprintf(out, len, "%s%s%s", neg ? "-" : "", digits, suffix);
    return out;
}

json_t *tri_quantity_json(const tri_quantity_t *q)
{
    char buf[TRI_QUANTITY_STR_MAX];
    return json_string(tri_quantity_format(q, buf, sizeof buf));
}
