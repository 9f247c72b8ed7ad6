/* Codec micro-benchmarks: nanoseconds per operation for decoding and encoding a
 * ~1 KiB ConfigMap as JSON, a strategic merge patch of a Deployment (kubectl set
 * image with $setElementOrder), and a label selector match. Prints one line per
 * figure: `bench_codec <what> <ns/op>`. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "triarch/codec.h"
#include "triarch/util.h"

/* Iterations per figure: enough for a stable mean in well under a second each. */
#define BENCH_ITERS 20000

static char *configmap_1k(void)
{
    char *s = malloc(2048);
    int n = snprintf(s, 2048,
                     "{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\"cm\","
                     "\"namespace\":\"default\",\"labels\":{\"app\":\"web\",\"tier\":\"front\"}},"
                     "\"data\":{");
    for (int i = 0; n < 1000; i++)
        n += snprintf(s + n, 2048 - (size_t)n, "%s\"key%02d\":\"value-%02d-abcdefghijklmnop\"",
                      i ? "," : "", i, i);
    snprintf(s + n, 2048 - (size_t)n, "}}");
    return s;
}

static double per_op(uint64_t t0, int iters)
{
    return (double)(tri_now_ns() - t0) / iters;
}

int main(void)
{
    char err[256];
    char *cm = configmap_1k();
    size_t len = strlen(cm);

    uint64_t t0 = tri_now_ns();
    for (int i = 0; i < BENCH_ITERS; i++)
        json_decref(tri_json_decode(cm, len, err, sizeof err));
    printf("bench_codec json_decode_configmap_%zuB_ns %.0f\n", len, per_op(t0, BENCH_ITERS));

    json_t *doc = tri_json_decode(cm, len, err, sizeof err);
    t0 = tri_now_ns();
    for (int i = 0; i < BENCH_ITERS; i++)
        free(json_dumps(doc, JSON_COMPACT));
    printf("bench_codec json_encode_configmap_%zuB_ns %.0f\n", len, per_op(t0, BENCH_ITERS));
    json_decref(doc);

    json_t *deploy = json_loads(
        "{\"apiVersion\":\"apps/v1\",\"kind\":\"Deployment\",\"metadata\":{\"name\":\"web\","
        "\"labels\":{\"app\":\"web\"}},\"spec\":{\"replicas\":3,\"template\":{\"metadata\":"
        "{\"labels\":{\"app\":\"web\"}},\"spec\":{\"containers\":[{\"name\":\"main\",\"image\":"
        "\"nginx:1\",\"env\":[{\"name\":\"A\",\"value\":\"1\"},{\"name\":\"B\",\"value\":\"2\"}],"
        "\"ports\":[{\"containerPort\":80}]},{\"name\":\"side\",\"image\":\"busybox\"}],"
        "\"volumes\":[{\"name\":\"v\",\"emptyDir\":{}}]}}}}",
        0, NULL);
    json_t *patch = json_loads(
        "{\"spec\":{\"template\":{\"spec\":{\"$setElementOrder/containers\":[{\"name\":\"main\"},"
        "{\"name\":\"side\"}],\"containers\":[{\"image\":\"nginx:2\",\"name\":\"main\"}]}}}}",
        0, NULL);
    t0 = tri_now_ns();
    for (int i = 0; i < BENCH_ITERS; i++)
        json_decref(tri_strategic_merge_patch(deploy, patch, "Deployment", err, sizeof err));
    printf("bench_codec strategic_merge_patch_set_image_ns %.0f\n", per_op(t0, BENCH_ITERS));
    json_decref(deploy);
    json_decref(patch);

    tri_selector_t *sel = NULL;
    json_t *labels = json_pack("{s:s,s:s,s:s}", "app", "web", "tier", "front", "env", "prod");
    if (tri_label_selector_parse("app=web,tier in (front,back),!canary", &sel, err, sizeof err)) {
        fprintf(stderr, "bench_codec: selector: %s\n", err);
        return 1;
    }
    int hits = 0;
    t0 = tri_now_ns();
    for (int i = 0; i < BENCH_ITERS * 10; i++)
        hits += tri_label_selector_match(sel, labels);
    printf("bench_codec label_selector_match_ns %.1f (matched %d)\n", per_op(t0, BENCH_ITERS * 10),
           hits);
    tri_selector_free(sel);
    json_decref(labels);
    free(cm);
    return 0;
}
