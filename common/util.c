/* Byte buffers, bounds-checked readers, clocks, random ids, CRC-32C: the few
 * utilities every layer shares. */
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "triarch/errors.h"
#include "triarch/util.h"

int tri_buf_reserve(tri_buf_t *b, size_t extra)
{
    if (b->len + extra <= b->cap)
        return 0;
    size_t cap = b->cap ? b->cap : 64;
    while (cap < b->len + extra)
        cap *= 2;
    char *p = realloc(b->data, cap);
    if (p == NULL)
        return TRI_ENOMEM;
    b->data = p;
    b->cap = cap;
    return 0;
}

int tri_buf_append(tri_buf_t *b, const void *p, size_t n)
{
    if (n == 0)
        return 0;
    if (tri_buf_reserve(b, n) != 0)
        return TRI_ENOMEM;
    memcpy(b->data + b->len, p, n);
    b->len += n;
    return 0;
}

int tri_buf_appendf(tri_buf_t *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0)
        return TRI_EINVAL;
    if (tri_buf_reserve(b, (size_t)n + 1) != 0)
        return TRI_ENOMEM;
    va_start(ap, fmt);
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
    return 0;
}

int tri_buf_put_u8(tri_buf_t *b, uint8_t v)
{
    return tri_buf_append(b, &v, 1);
}

int tri_buf_put_u32(tri_buf_t *b, uint32_t v)
{
    uint8_t x[4];
    for (int i = 0; i < 4; i++)
        x[i] = (uint8_t)(v >> (8 * i));
    return tri_buf_append(b, x, 4);
}

int tri_buf_put_u64(tri_buf_t *b, uint64_t v)
{
    uint8_t x[8];
    for (int i = 0; i < 8; i++)
        x[i] = (uint8_t)(v >> (8 * i));
    return tri_buf_append(b, x, 8);
}

int tri_buf_put_bytes(tri_buf_t *b, const void *p, uint32_t n)
{
    int rv = tri_buf_put_u32(b, n);
    return rv ? rv : tri_buf_append(b, p, n);
}

void tri_buf_reset(tri_buf_t *b)
{
    b->len = 0;
}

void tri_buf_free(tri_buf_t *b)
{
    free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
}

void tri_reader_init(tri_reader_t *r, const void *p, size_t len)
{
    r->p = p;
    r->len = len;
    r->off = 0;
}

int tri_reader_u8(tri_reader_t *r, uint8_t *v)
{
    if (r->len - r->off < 1)
        return TRI_EINVAL;
    *v = r->p[r->off++];
    return 0;
}

int tri_reader_u32(tri_reader_t *r, uint32_t *v)
{
    if (r->len - r->off < 4)
        return TRI_EINVAL;
    uint32_t x = 0;
    for (int i = 0; i < 4; i++)
        x |= (uint32_t)r->p[r->off + (size_t)i] << (8 * i);
    r->off += 4;
    *v = x;
    return 0;
}

int tri_reader_u64(tri_reader_t *r, uint64_t *v)
{
    if (r->len - r->off < 8)
        return TRI_EINVAL;
    uint64_t x = 0;
    for (int i = 0; i < 8; i++)
        x |= (uint64_t)r->p[r->off + (size_t)i] << (8 * i);
    r->off += 8;
    *v = x;
    return 0;
}

int tri_reader_bytes(tri_reader_t *r, const void **p, uint32_t *n)
{
    uint32_t len;
    if (tri_reader_u32(r, &len) != 0 || r->len - r->off < len)
        return TRI_EINVAL;
    *p = r->p + r->off;
    *n = len;
    r->off += len;
    return 0;
}

uint64_t tri_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

uint64_t tri_now_ms(void)
{
    return tri_now_ns() / 1000000ull;
}

int tri_random_bytes(void *buf, size_t n)
{
    size_t got = 0;
    while (got < n) {
        ssize_t r = getrandom((char *)buf + got, n - got, 0);
        if (r < 0) {
            if (errno == EINTR)
                continue;
            return TRI_EIO;
        }
        got += (size_t)r;
    }
    return 0;
}

int tri_uuid_v4(char out[37])
{
    uint8_t b[16];
    if (tri_random_bytes(b, sizeof b) != 0)
        return TRI_EIO;
    b[6] = (uint8_t)((b[6] & 0x0f) | 0x40);
    b[8] = (uint8_t)((b[8] & 0x3f) | 0x80);
    snprintf(out, 37, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
             b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12],
             b[13], b[14], b[15]);
    return 0;
}

void tri_rfc3339_now(char out[21])
{
    time_t t = time(NULL);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(out, 21, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* CRC-32C, reflected polynomial 0x82F63B78: the SSE4.2 crc32 instruction where the
 * CPU has it (8 bytes a step), else a table built once (pthread_once: snapshot
 * encoders run on worker threads). */
static uint32_t crc_table[256];
static pthread_once_t crc_once = PTHREAD_ONCE_INIT;
static int crc_hw;

static void crc_init(void)
{
    for (uint32_t i = 0; i < 256; i++) {
        uint32_t c = i;
        for (int k = 0; k < 8; k++)
            c = (c & 1) ? (c >> 1) ^ 0x82F63B78u : c >> 1;
        crc_table[i] = c;
    }
#if defined(__x86_64__)
    crc_hw = __builtin_cpu_supports("sse4.2");
#endif
}

#if defined(__x86_64__)
__attribute__((target("sse4.2"))) static uint32_t crc_sse42(uint32_t crc, const uint8_t *b,
                                                              size_t n)
{
    uint64_t c = crc;
    for (; n >= 8; n -= 8, b += 8) {
        uint64_t v;
        memcpy(&v, b, 8);
        c = __builtin_ia32_crc32di(c, v);
    }
    uint32_t c32 = (uint32_t)c;
    for (; n > 0; n--, b++)
        c32 = __builtin_ia32_crc32qi(c32, *b);
    return c32;
}
#endif

uint32_t tri_crc32c(uint32_t crc, const void *p, size_t n)
{
    pthread_once(&crc_once, crc_init);
    const uint8_t *b = p;
    crc = ~crc;
#if defined(__x86_64__)
    if (crc_hw)
        return ~crc_sse42(crc, b, n);
#endif
    for (size_t i = 0; i < n; i++)
        crc = crc_table[(crc ^ b[i]) & 0xff] ^ (crc >> 8);
    return ~crc;
}
