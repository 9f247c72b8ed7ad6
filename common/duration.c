/* Durations as Go's time.ParseDuration writes them ("8760h0m0s", "24h", "90m",
 * "600s"), which is how Kubernetes spells --cluster-signing-duration and kubeadm
 * spells token TTLs. Whole seconds only: "ms", "us" and "ns" units and fractions
 * are refused, since every duration we take is at least a second. A bare number
 * is seconds. */
#include <stdint.h>

#include "triarch/errors.h"
#include "triarch/util.h"

#define DURATION_MAX_S (100LL * 365 * 24 * 3600) /* a century is plenty */

static int64_t unit_seconds(char c)
{
    switch (c) {
    case 'h':
        return 3600;
    case 'm':
        return 60;
    case 's':
        return 1;
    default:
        return 0;
    }
}

int tri_duration_parse(const char *s, int64_t *seconds)
{
    if (s == NULL || s[0] == '\0')
        return TRI_EINVAL;
    int64_t total = 0;
    const char *p = s;
    while (*p) {
        if (*p < '0' || *p > '9')
            return TRI_EINVAL;
        int64_t n = 0;
        while (*p >= '0' && *p <= '9') {
            n = n * 10 + (*p - '0');
            if (n > DURATION_MAX_S)
                return TRI_EINVAL;
            p++;
        }
        int64_t unit = 1;
        if (*p != '\0') {
            unit = unit_seconds(*p);
            /* "ms" is milliseconds in Go: not a unit we take */
            if (unit == 0 || (*p == 'm' && p[1] == 's'))
                return TRI_EINVAL;
            p++;
        } else if (p != s && total != 0) {
            return TRI_EINVAL; /* "1h30": a number without a unit after a unit */
        }
        total += n * unit;
        if (total > DURATION_MAX_S)
            return TRI_EINVAL;
    }
    *seconds = total;
    return 0;
}
