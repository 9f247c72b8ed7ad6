/* HTTPS probes of the replicas and the load balancer, over libcurl's easy interface.
 * Trust is the cluster CA alone (D/pki/ca.crt), never the system store, and the admin
 * client certificate is offered in case the endpoint asks for one. Used by `cluster
 * up` to wait for readiness, by `cluster status` and by `member`. */
#include <string.h>

#include <curl/curl.h>

#include "cli.h"
#include "triarch/errors.h"

/* Status bodies are small; anything bigger is not what we asked for. */
#define TRI_HTTP_BODY_MAX (1 << 20)

static size_t body_cb(char *p, size_t size, size_t n, void *data)
{
    tri_buf_t *b = data;
    size_t len = size * n;
    if (b == NULL)
        return len;
    if (b->len + len > TRI_HTTP_BODY_MAX || tri_buf_append(b, p, len) != 0)
        return 0; /* makes curl fail with CURLE_WRITE_ERROR */
    return len;
}

int tri_http_get(const tri_cluster_t *c, const char *url, long timeout_ms, long *status,
                 tri_buf_t *body)
{
    return tri_http_do(c, "GET", url, NULL, timeout_ms, status, body);
}

int tri_http_do(const tri_cluster_t *c, const char *method, const char *url, const char *json,
                long timeout_ms, long *status, tri_buf_t *body)
{
    char ca[TRI_PATH_MAX], cert[TRI_PATH_MAX], key[TRI_PATH_MAX];
    *status = 0;
    if (tri_path(ca, sizeof ca, "%s/pki/ca.crt", c->dir) != 0 ||
        tri_path(cert, sizeof cert, "%s/pki/admin.crt", c->dir) != 0 ||
        tri_path(key, sizeof key, "%s/pki/admin.key", c->dir) != 0)
        return TRI_EINVAL;
    CURL *h = curl_easy_init();
    if (h == NULL)
        return TRI_ENOMEM;
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_CAINFO, ca);
    curl_easy_setopt(h, CURLOPT_CAPATH, NULL);
    curl_easy_setopt(h, CURLOPT_SSLCERT, cert);
    curl_easy_setopt(h, CURLOPT_SSLKEY, key);
    curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 1L);
    curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 2L);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, timeout_ms);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, timeout_ms);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_PROXY, ""); /* loopback only: ignore *_proxy variables */
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, body_cb);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, body);
    curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
    struct curl_slist *hdr = NULL;
    if (json != NULL) {
        hdr = curl_slist_append(hdr, "Content-Type: application/json");
        curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdr);
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, json);
    }
    CURLcode cc = curl_easy_perform(h);
    int rc = TRI_EIO;
    if (cc == CURLE_OK) {
        curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, status);
        rc = 0;
        if (body && tri_buf_reserve(body, 1) == 0)
            body->data[body->len] = '\0';
    }
    curl_easy_cleanup(h);
    curl_slist_free_all(hdr);
    return rc;
}
