/* Encryption-at-rest micro-benchmark: nanoseconds per seal and per open of a stored
 * Secret with a 1 KiB value (AES-256-GCM, fresh nonce, store key as AAD), and, for
 * scale, per JSON parse of the same object (what every read with a selector or a
 * conversion pays anyway). Prints `bench_encrypt <what> <ns/op>`. */
#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "triarch/encrypt.h"
#include "triarch/util.h"

/* Iterations per figure: a stable mean in well under a second each. */
#define BENCH_ITERS 100000

static const char CONFIG[] =
    "apiVersion: apiserver.config.k8s.io/v1\nkind: EncryptionConfiguration\nresources:\n"
    "  - resources: [secrets]\n    providers:\n"
    "      - aesgcm: {keys: [{name: key1, secret: AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=}]}\n"
    "      - identity: {}\n";
static const char KEY[] = "/registry/core/secrets/default/b-x7k2p";

static double per_op(uint64_t t0, int iters)
{
    return (double)(tri_now_ns() - t0) / iters;
}

int main(void)
{
    tri_encrypt_t *e = NULL;
    char err[512];
    if (tri_encrypt_parse(CONFIG, sizeof CONFIG - 1, &e, err, sizeof err) != 0) {
        fprintf(stderr, "bench_encrypt: %s\n", err);
        return 1;
    }
    tri_buf_t plain = {0}, sealed = {0}, out = {0};
    tri_buf_appendf(&plain, "{\"kind\":\"Secret\",\"apiVersion\":\"v1\",\"metadata\":{\"name\":"
                            "\"b-x7k2p\",\"namespace\":\"default\",\"uid\":"
                            "\"6b07db95-727b-49eb-b3c6-f59da659a4fe\",\"creationTimestamp\":"
                            "\"2026-11-23T18:43:54Z\"},\"type\":\"Opaque\",\"data\":{\"k\":\"");
    for (int i = 0; i < 1368 / 4; i++)
        tri_buf_append(&plain, "QUJD", 4); /* base64 of 1 KiB */
    tri_buf_appendf(&plain, "\"}}");
    bool done;
    unsigned flags;
    uint64_t t0 = tri_now_ns();
    for (int i = 0; i < BENCH_ITERS; i++) {
        tri_buf_reset(&sealed);
        tri_encrypt_seal(e, "secrets", KEY, sizeof KEY - 1, plain.data, plain.len, &sealed, &done,
                         err, sizeof err);
    }
    printf("bench_encrypt seal_%zuB %.0f\n", plain.len, per_op(t0, BENCH_ITERS));
    t0 = tri_now_ns();
    for (int i = 0; i < BENCH_ITERS; i++) {
        tri_buf_reset(&out);
        if (tri_encrypt_open(e, "secrets", KEY, sizeof KEY - 1, sealed.data, sealed.len, &out,
                             &flags, err, sizeof err) != 0) {
            fprintf(stderr, "bench_encrypt: open failed: %s\n", err);
            return 1;
        }
    }
    printf("bench_encrypt open_%zuB %.0f\n", sealed.len, per_op(t0, BENCH_ITERS));
    t0 = tri_now_ns();
    for (int i = 0; i < BENCH_ITERS / 10; i++)
        json_decref(json_loadb(plain.data, plain.len, 0, NULL));
    printf("bench_encrypt json_parse_%zuB %.0f\n", plain.len, per_op(t0, BENCH_ITERS / 10));
    tri_buf_free(&plain);
    tri_buf_free(&sealed);
    tri_buf_free(&out);
    tri_encrypt_free(e);
    return 0;
}
