/* `triarch secrets reencrypt`: rewrites every Secret so that it is stored under the
 * current encryption key (the first key of the first provider of every replica's
 * encryption-provider-config). The step of key rotation between "every replica
 * reads the new key and writes with it" and "drop the old key" (docs/security.md).
 *
 * It talks to the API like any client, with a kubeconfig (server, CA, client
 * certificate or token): list all Secrets in all namespaces page by page, then for
 * each one a PUT of the object exactly as read, carrying its resourceVersion. The
 * server writes such a no-op update only when the stored value is stale (another
 * key or provider wrote it), so a secret already under the current key keeps its
 * resourceVersion and a rerun is cheap. A 409 (the secret changed meanwhile) is
 * answered by reading it again and retrying; a secret deleted meanwhile is skipped.
 * The kubeconfig client is tools/kube.c: one libcurl handle, reused so the
 * connection is too.
 */
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <curl/curl.h>
#include <jansson.h>

#include "cli.h"
#include "triarch/errors.h"

#define PAGE_SIZE 250      /* secrets per list page (kubectl's default chunk is 500) */
#define CONFLICT_RETRIES 8 /* re-reads after a 409 before giving up on one secret */
#define PROGRESS_STEPS 20       /* lines of progress when stderr is not a terminal */

/* ---------- reencrypt ---------- */

typedef struct tally {
    size_t total, done, rewritten, current, gone, failed;
    bool tty;
} tally_t;

static int list_all(tri_kube_t *kc, json_t *items)
{
    char *cont = NULL;
    for (;;) {
        char path[8192];
        char *esc = cont ? curl_easy_escape(kc->h, cont, 0) : NULL;
        snprintf(path, sizeof path, "/api/v1/secrets?limit=%d%s%s", PAGE_SIZE,
                 esc ? "&continue=" : "", esc ? esc : "");
        curl_free(esc);
        free(cont);
        cont = NULL;
        json_t *resp;
        long st = tri_kube_do(kc, "GET", path, NULL, &resp);
        if (st != 200) {
            if (st)
                tri_cli_err("listing secrets: HTTP %ld: %s", st, tri_kube_message(resp));
            json_decref(resp);
            return TRI_EIO;
        }
        json_t *page = json_object_get(resp, "items");
        json_array_extend(items, json_is_array(page) ? page : json_array());
        const char *c =
            json_string_value(json_object_get(json_object_get(resp, "metadata"), "continue"));
        cont = c && c[0] ? strdup(c) : NULL;
        json_decref(resp);
        if (cont == NULL)
            return 0;
    }
}

static void progress(tally_t *t, const char *ns, const char *name)
{
    t->done++;
    if (t->tty) {
        fprintf(stderr, "\rsecrets reencrypt: %zu/%zu %s/%s\033[K", t->done, t->total, ns, name);
        if (t->done == t->total)
            fputc('\n', stderr);
    } else if (t->done == t->total ||
               t->done % ((t->total + PROGRESS_STEPS - 1) / PROGRESS_STEPS) == 0) {
        fprintf(stderr, "secrets reencrypt: %zu/%zu\n", t->done, t->total);
    }
}

/* PUTs the secret back as read; re-reads it after a conflict. */
static void rewrite_one(tri_kube_t *kc, json_t *item, tally_t *t)
{
    json_t *meta = json_object_get(item, "metadata");
    const char *ns = json_string_value(json_object_get(meta, "namespace"));
    const char *name = json_string_value(json_object_get(meta, "name"));
    if (ns == NULL || name == NULL) {
        t->failed++;
        tri_cli_err("a listed secret has no namespace or name");
        return;
    }
    char path[1024];
    char *ens = curl_easy_escape(kc->h, ns, 0), *ename = curl_easy_escape(kc->h, name, 0);
    snprintf(path, sizeof path, "/api/v1/namespaces/%s/secrets/%s", ens, ename);
    curl_free(ens);
    curl_free(ename);
    json_t *obj = json_incref(item);
    for (int attempt = 0;; attempt++) {
        json_object_set_new(obj, "apiVersion", json_string("v1"));
        json_object_set_new(obj, "kind", json_string("Secret"));
        const char *rv0 =
            json_string_value(json_object_get(json_object_get(obj, "metadata"), "resourceVersion"));
        char before[32];
        snprintf(before, sizeof before, "%s", rv0 ? rv0 : "");
        char *body = json_dumps(obj, JSON_COMPACT);
        json_t *resp;
        long st = body ? tri_kube_do(kc, "PUT", path, body, &resp) : 0;
        free(body);
        if (st == 200) {
            const char *rv = json_string_value(
                json_object_get(json_object_get(resp, "metadata"), "resourceVersion"));
            if (rv && strcmp(rv, before) == 0)
                t->current++;
            else
                t->rewritten++;
        } else if (st == 404) {
            t->gone++;
        } else if (st == 409 && attempt < CONFLICT_RETRIES) {
            json_decref(resp);
            json_decref(obj);
            st = tri_kube_do(kc, "GET", path, NULL, &obj);
            if (st == 200)
                continue;
            resp = obj;
            obj = NULL;
            if (st == 404)
                t->gone++;
        }
        if (st != 200 && st != 404) {
            t->failed++;
            tri_cli_err("secrets reencrypt: %s/%s: HTTP %ld: %s", ns, name, st,
                        tri_kube_message(resp));
        }
        json_decref(resp);
        json_decref(obj);
        progress(t, ns, name);
        return;
    }
}

static int reencrypt(const char *kubeconfig)
{
    tri_kube_t kc = {0};
    json_t *items = json_array();
    tally_t t = {.tty = isatty(STDERR_FILENO) == 1};
    int rc = tri_kubeconfig_load(kubeconfig, &kc);
    rc = rc ? rc : tri_kube_open(&kc);
    rc = rc ? rc : list_all(&kc, items);
    if (rc == 0) {
        t.total = json_array_size(items);
        fprintf(stderr, "secrets reencrypt: %zu secrets in all namespaces\n", t.total);
        for (size_t i = 0; i < t.total; i++)
            rewrite_one(&kc, json_array_get(items, i), &t);
        fprintf(stderr,
                "secrets reencrypt: %zu rewritten under the current key, %zu already current, "
                "%zu deleted meanwhile, %zu failed\n",
                t.rewritten, t.current, t.gone, t.failed);
        if (t.failed)
            tri_cli_err("secrets reencrypt: %zu of %zu secrets could not be rewritten (see "
                        "above); do not remove old keys yet",
                        t.failed, t.total);
    }
    json_decref(items);
    tri_kube_close(&kc);
    return rc == 0 && t.failed == 0 ? 0 : 1;
}

static void secrets_usage(FILE *f)
{
    fputs("Usage: triarch secrets reencrypt [--kubeconfig FILE]\n"
          "\n"
          "Rewrites every Secret in every namespace so that it is stored under the\n"
          "current encryption key (the first key in each replica's\n"
          "encryption-provider-config). Run it after every replica has restarted with a\n"
          "new first key, and before removing the old key (docs/security.md).\n"
          "Progress (n/total) goes to stderr; exits 1 if any secret could not be\n"
          "rewritten.\n"
          "\n"
          "  --kubeconfig FILE   credentials and server (default $KUBECONFIG)\n"
          "  -h, --help          this help\n",
          f);
}

int tri_cmd_secrets(int argc, char **argv)
{
    static const struct option opts[] = {{"kubeconfig", required_argument, NULL, 'k'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    const char *kubeconfig = getenv("KUBECONFIG");
    if (argc < 2 || strcmp(argv[1], "reencrypt") != 0) {
        if (argc >= 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
            secrets_usage(stdout);
            return 0;
        }
        tri_cli_err("secrets: unknown or missing subcommand (want: reencrypt)");
        secrets_usage(stderr);
        return 2;
    }
    int opt;
    optind = 1;
    while ((opt = getopt_long(argc - 1, argv + 1, "h", opts, NULL)) != -1) {
        if (opt == 'k') {
            kubeconfig = optarg;
        } else if (opt == 'h') {
            secrets_usage(stdout);
            return 0;
        } else {
            secrets_usage(stderr);
            return 2;
        }
    }
    if (optind < argc - 1 || kubeconfig == NULL || kubeconfig[0] == '\0') {
        tri_cli_err(optind < argc - 1 ? "secrets reencrypt: unexpected argument"
                                      : "secrets reencrypt needs --kubeconfig (or $KUBECONFIG)");
        secrets_usage(stderr);
        return 2;
    }
    return reencrypt(kubeconfig);
}
