/* The kubeconfig client the CLI's API commands share (`secrets reencrypt`,
 * `token create`): the current context's server, CA and credentials (client
 * certificate and key from files or *-data, or a token), and JSON requests over
 * one libcurl easy handle. Trust is the kubeconfig's CA; proxies are ignored
 * (the cluster is on loopback or a private network). */
#include <errno.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>
#include <jansson.h>
#include <openssl/evp.h>
#include <yaml.h>

#include "cli.h"
#include "triarch/errors.h"

#define REQUEST_TIMEOUT_MS 30000
#define RESPONSE_MAX (64 << 20) /* a page of 250 secrets of up to 1 MiB each is less */

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

static int kfill(kcfg_t *k, tri_kube_t *kc)
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

int tri_kubeconfig_load(const char *path, tri_kube_t *kc)
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

int tri_kube_open(tri_kube_t *kc)
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

void tri_kube_close(tri_kube_t *kc)
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
long tri_kube_do(tri_kube_t *kc, const char *method, const char *path, const char *body,
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

const char *tri_kube_message(json_t *resp)
{
    const char *m = json_string_value(json_object_get(resp, "message"));
    return m ? m : "(no message)";
}
