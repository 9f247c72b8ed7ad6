/* Small utilities every layer uses: a growable byte buffer, clocks, random ids. */
#ifndef TRIARCH_UTIL_H
#define TRIARCH_UTIL_H

#include <stddef.h>
#include <stdint.h>

/* Growable byte buffer. Zero-initialise (tri_buf_t b = {0}); free with tri_buf_free. */
typedef struct tri_buf {
    char *data;
    size_t len;
    size_t cap;
} tri_buf_t;

int tri_buf_reserve(tri_buf_t *b, size_t extra);
int tri_buf_append(tri_buf_t *b, const void *p, size_t n);
int tri_buf_appendf(tri_buf_t *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int tri_buf_put_u8(tri_buf_t *b, uint8_t v);
int tri_buf_put_u32(tri_buf_t *b, uint32_t v); /* little endian */
int tri_buf_put_u64(tri_buf_t *b, uint64_t v); /* little endian */
int tri_buf_put_bytes(tri_buf_t *b, const void *p, uint32_t n); /* u32 length + bytes */
void tri_buf_reset(tri_buf_t *b);
void tri_buf_free(tri_buf_t *b);

/* Bounds-checked reader over a byte range; every get returns TRI_EINVAL past the end. */
typedef struct tri_reader {
    const uint8_t *p;
    size_t len;
    size_t off;
} tri_reader_t;

void tri_reader_init(tri_reader_t *r, const void *p, size_t len);
int tri_reader_u8(tri_reader_t *r, uint8_t *v);
int tri_reader_u32(tri_reader_t *r, uint32_t *v);
int tri_reader_u64(tri_reader_t *r, uint64_t *v);
/* Points *p into the reader's memory (no copy). */
int tri_reader_bytes(tri_reader_t *r, const void **p, uint32_t *n);

/* Milliseconds / nanoseconds from CLOCK_MONOTONIC, and wall-clock seconds. */
uint64_t tri_now_ms(void);
uint64_t tri_now_ns(void);

/* Fills buf with cryptographically random bytes (getrandom). Returns 0 or TRI_EIO. */
int tri_random_bytes(void *buf, size_t n);
/* An RFC 4122 version-4 UUID as 36 chars + NUL into out[37]. */
int tri_uuid_v4(char out[37]);
/* RFC 3339 UTC timestamp of now, second precision ("2026-11-23T15:53:33Z"), out[21]. */
void tri_rfc3339_now(char out[21]);

/* A Go-style duration ("8760h0m0s", "24h", "1h30m", "600s"; a bare number is
 * seconds) in whole seconds: 0, or TRI_EINVAL. */
int tri_duration_parse(const char *s, int64_t *seconds);

/* CRC-32C (Castagnoli) of a byte range, for snapshot and frame checksums. */
uint32_t tri_crc32c(uint32_t crc, const void *p, size_t n);

#endif
