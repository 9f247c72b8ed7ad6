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
 * libcurl's easy interface, one handle reused so the connection is too.
 */
#include <errno.h>
#include <getopt.h>
#include <libgen.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <curl/curl.h>
#include <jansson.h>
#include <openssl/evp.h>
#include <yaml.h>

#include "cli.h"
#include "triarch/errors.h"

#define PAGE_SIZE 250      /* secrets per list page (kubectl's default chunk is 500) */
#define CONFLICT_RETRIES 8 /* re-reads after a 409 before giving up on one secret */
#define REQUEST_TIMEOUT_MS 30000
#define RESPONSE_MAX (64 << 20) /* a page of 250 secrets of up to 1 MiB each is less */
#define PROGRESS_STEPS 20       /* lines of progress when stderr is not a terminal */

typedef struct kube {
    CURL *h;
    char server[1024];
    tri_buf_t ca, cert, key; /* PEM bytes (from *-data or files) */
    char token[4096];
    struct curl_slist *headers;
} kube_t;

/* ---------- kubeconfig ---------- */

typedef struct kcfg {
    yaml_document_t doc;
    char dir[TRI_PATH_MAX]; /* relative paths in the file are relative to it */
} kcfg_t;

static const char *kscalar(kcfg_t *k, yaml_node_t *n)
{
    return n && n->type == YAML_SCALAR_NODE ? (const char *)n->data.scalar.value : NULL;
}

static yaml_node_t *kget(kcfg_t *k, yaml_node_t *m, const char *key)
{
    if (m == NULL || m->type != YAML_MAPPING_NODE)
        return NULL;
    for (yaml_node_pair_t *p = m->data.mapping.pairs.start; p < m->data.mapping.pairs.top; p++) {
        const char *s = kscalar(k, yaml_document_get_node(&k->doc, p->key));
        if (s && strcmp(s, key) == 0)
            return yaml_document_get_node(&k->doc, p->value);
    }
    return NULL;
}

/* The `field` mapping of the entry named `name` in the list `list`. */
static yaml_node_t *kentry(kcfg_t *k, const char *list, const char *name, const char *field)
{
    yaml_node_t *seq = kget(k, yaml_document_get_root_node(&k->doc), list);
    if (seq == NULL || seq->type != YAML_SEQUENCE_NODE || name == NULL)
        return NULL;
    for (yaml_node_item_t *it = seq->data.sequence.items.start; it < seq->data.sequence.items.top;
         it++) {
        yaml_node_t *e = yaml_document_get_node(&k->doc, *it);
        const char *n = kscalar(k, kget(k, e, "name"));
        if (n && strcmp(n, name) == 0)
            return kget(k, e, field);
    }
    return NULL;
}

static int b64_decode(const char *s, tri_buf_t *out)
{
    size_t len = strlen(s);
    if (len == 0 || len % 4 != 0 || len > (size_t)1 << 24 || tri_buf_reserve(out, len) != 0)
        return TRI_EINVAL;
    int n = EVP_DecodeBlock((unsigned char *)out->data, (const unsigned char *)s, (int)len);
    if (n < 0)
        return TRI_EINVAL;
    size_t pad = (s[len - 1] == '=') + (s[len - 2] == '=');
    out->len = (size_t)n - pad;
    return 0;
}

/* PEM from `<field>-data` (base64) or `<field>` (a file path). 0 when neither. */
static int kpem(kcfg_t *k, yaml_node_t *m, const char *field, tri_buf_t *out)
{
    char dk[64];
    snprintf(dk, sizeof dk, "%s-data", field);
    const char *data = kscalar(k, kget(k, m, dk));
    if (data) {
        if (b64_decode(data, out) != 0) {
            tri_cli_err("kubeconfig: %s is not valid base64", dk);
            return TRI_EINVAL;
        }
        return 0;
    }
    const char *file = kscalar(k, kget(k, m, field));
    if (file == NULL)
        return 0;
    char path[TRI_PATH_MAX];
    int rc = file[0] == '/' ? tri_path(path, sizeof path, "%s", file)
                            : tri_path(path, sizeof path, "%s/%s", k->dir, file);
    if (rc == 0)
        rc = tri_file_read(path, out);
    if (rc != 0)
        tri_cli_err("kubeconfig: cannot read %s %s", field, path);
    return rc;
}

static int kfill(kcfg_t *k, kube_t *kc)
{
    yaml_node_t *root = yaml_document_get_root_node(&k->doc);
    const char *cur = kscalar(k, kget(k, root, "current-context"));
    yaml_node_t *ctx = kentry(k, "contexts", cur, "context");
    if (ctx == NULL) {
        tri_cli_err("kubeconfig: no current-context (or its context is missing)");
        return TRI_EINVAL;
    }
    const char *cname = kscalar(k, kget(k, ctx, "cluster"));
    const char *uname = kscalar(k, kget(k, ctx, "user"));
    yaml_node_t *cl = kentry(k, "clusters", cname, "cluster");
    yaml_node_t *us = kentry(k, "users", uname, "user");
    const char *server = kscalar(k, kget(k, cl, "server"));
    if (server == NULL || strlen(server) >= sizeof kc->server) {
        tri_cli_err("kubeconfig: cluster \"%s\" has no server", cname ? cname : "");
        return TRI_EINVAL;
    }
    snprintf(kc->server, sizeof kc->server, "%s", server);
    int rc = kpem(k, cl, "certificate-authority", &kc->ca);
    rc = rc ? rc : kpem(k, us, "client-certificate", &kc->cert);
    rc = rc ? rc : kpem(k, us, "client-key", &kc->key);
    const char *token = kscalar(k, kget(k, us, "token"));
    if (rc == 0 && token && strlen(token) < sizeof kc->token)
        snprintf(kc->token, sizeof kc->token, "%s", token);
    return rc;
}

static int kubeconfig_load(const char *path, kube_t *kc)
{
    kcfg_t k;
    char tmp[TRI_PATH_MAX];
    if (tri_path(tmp, sizeof tmp, "%s", path) != 0)
        return TRI_EINVAL;
    snprintf(k.dir, sizeof k.dir, "%s", dirname(tmp));
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        tri_cli_err("cannot open kubeconfig %s: %s", path, strerror(errno));
        return TRI_EIO;
    }
    yaml_parser_t p;
    yaml_parser_initialize(&p);
    yaml_parser_set_input_file(&p, f);
    int rc = TRI_EINVAL;
    if (!yaml_parser_load(&p, &k.doc)) {
        tri_cli_err("kubeconfig %s: line %zu: %s", path, p.problem_mark.line + 1,
                    p.problem ? p.problem : "parse error");
    } else {
        rc = kfill(&k, kc);
        yaml_document_delete(&k.doc);
    }
    yaml_parser_delete(&p);
    fclose(f);
    return rc;
}

/* ---------- HTTP ---------- */

static size_t body_cb(char *p, size_t size, size_t n, void *data)
{
    tri_buf_t *b = data;
    size_t len = size * n;
    if (b->len + len > RESPONSE_MAX || tri_buf_append(b, p, len) != 0)
        return 0;
    return len;
}

static int kube_open(kube_t *kc)
{
    kc->h = curl_easy_init();
    if (kc->h == NULL)
        return TRI_ENOMEM;
    CURL *h = kc->h;
    curl_easy_setopt(h, CURLOPT_PROXY, "");
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, (long)REQUEST_TIMEOUT_MS);
    curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 1L);
    curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 2L);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, body_cb);
    if (kc->ca.len) {
        struct curl_blob b = {kc->ca.data, kc->ca.len, CURL_BLOB_COPY};
        curl_easy_setopt(h, CURLOPT_CAINFO_BLOB, &b);
        curl_easy_setopt(h, CURLOPT_CAPATH, NULL);
    }
    if (kc->cert.len && kc->key.len) {
        struct curl_blob c = {kc->cert.data, kc->cert.len, CURL_BLOB_COPY};
        struct curl_blob k = {kc->key.data, kc->key.len, CURL_BLOB_COPY};
        curl_easy_setopt(h, CURLOPT_SSLCERT_BLOB, &c);
        curl_easy_setopt(h, CURLOPT_SSLCERTTYPE, "PEM");
        curl_easy_setopt(h, CURLOPT_SSLKEY_BLOB, &k);
        curl_easy_setopt(h, CURLOPT_SSLKEYTYPE, "PEM");
    }
    kc->headers = curl_slist_append(NULL, "Content-Type: application/json");
    kc->headers = curl_slist_append(kc->headers, "Accept: application/json");
    if (kc->token[0]) {
        char auth[sizeof kc->token + 32];
        snprintf(auth, sizeof auth, "Authorization: Bearer %s", kc->token);
        kc->headers = curl_slist_append(kc->headers, auth);
    }
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, kc->headers);
    return kc->headers ? 0 : TRI_ENOMEM;
}

static void kube_close(kube_t *kc)
{
    if (kc->h)
        curl_easy_cleanup(kc->h);
    curl_slist_free_all(kc->headers);
    tri_buf_free(&kc->ca);
    tri_buf_free(&kc->cert);
    tri_buf_free(&kc->key);
}

/* One request; *resp gets the parsed JSON answer (NULL if not JSON). Returns the
 * HTTP status, or 0 when no answer came (message printed). */
static long kube_do(kube_t *kc, const char *method, const char *path, const char *body,
                    json_t **resp)
{
    char url[8192];
    tri_buf_t out = {0};
    *resp = NULL;
    if (tri_path(url, sizeof url, "%s%s", kc->server, path) != 0)
        return 0;
    curl_easy_setopt(kc->h, CURLOPT_URL, url);
    curl_easy_setopt(kc->h, CURLOPT_CUSTOMREQUEST, method);
    curl_easy_setopt(kc->h, CURLOPT_POSTFIELDS, body);
    if (body == NULL)
        curl_easy_setopt(kc->h, CURLOPT_HTTPGET, 1L);
    curl_easy_setopt(kc->h, CURLOPT_WRITEDATA, &out);
    CURLcode cc = curl_easy_perform(kc->h);
    long status = 0;
    if (cc != CURLE_OK)
        tri_cli_err("%s %s: %s", method, url, curl_easy_strerror(cc));
    else
        curl_easy_getinfo(kc->h, CURLINFO_RESPONSE_CODE, &status);
    if (out.len)
        *resp = json_loadb(out.data, out.len, 0, NULL);
    tri_buf_free(&out);
    return status;
}

static const char *status_message(json_t *resp)
{
    const char *m = json_string_value(json_object_get(resp, "message"));
    return m ? m : "(no message)";
}

/* ---------- reencrypt ---------- */

typedef struct tally {
    size_t total, done, rewritten, current, gone, failed;
    bool tty;
} tally_t;

static int list_all(kube_t *kc, json_t *items)
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
        long st = kube_do(kc, "GET", path, NULL, &resp);
        if (st != 200) {
            if (st)
                tri_cli_err("listing secrets: HTTP %ld: %s", st, status_message(resp));
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
static void rewrite_one(kube_t *kc, json_t *item, tally_t *t)
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
        long st = body ? kube_do(kc, "PUT", path, body, &resp) : 0;
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
            st = kube_do(kc, "GET", path, NULL, &obj);
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
                        status_message(resp));
        }
        json_decref(resp);
        json_decref(obj);
        progress(t, ns, name);
        return;
    }
}

static int reencrypt(const char *kubeconfig)
{
    kube_t kc = {0};
    json_t *items = json_array();
    tally_t t = {.tty = isatty(STDERR_FILENO) == 1};
    int rc = kubeconfig_load(kubeconfig, &kc);
    rc = rc ? rc : kube_open(&kc);
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
    kube_close(&kc);
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
