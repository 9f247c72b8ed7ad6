/* Properties the fuzz targets check beyond "no crash, no leak": a failed property
 * aborts, so libFuzzer keeps the input as a crash. */
#ifndef TRIARCH_FUZZ_ASSERT_H
#define TRIARCH_FUZZ_ASSERT_H

#include <stdio.h>
#include <stdlib.h>

#define FUZZ_ASSERT(cond)                                                                          \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "fuzz property failed: %s (%s:%d)\n", #cond, __FILE__, __LINE__);     \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

/* For properties written as if-chains: fails with file and line. */
#define FUZZ_ASSERT_FAILED() FUZZ_ASSERT(!"property violated")

#endif
