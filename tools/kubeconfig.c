/* The admin kubeconfig: cluster `triarch` whose server is the load balancer (or the
 * first replica when the cluster has none), trusting only the cluster CA, user `admin`
 * with the admin client certificate inlined, context `triarch` current. Inlining the
 * PEMs as base64 (*-data keys) keeps the file usable after it is copied elsewhere. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "cli.h"
#include "triarch/errors.h"

static int base64_file(const tri_cluster_t *c, const char *name, tri_buf_t *out)
{
    char path[TRI_PATH_MAX];
    tri_buf_t raw = {0};
    int rc = tri_path(path, sizeof path, "%s/pki/%s", c->dir, name);
    if (rc == 0)
        rc = tri_file_read(path, &raw);
    /* EVP_EncodeBlock writes 4 chars per 3 bytes plus a NUL. */
    size_t need = 4 * ((raw.len + 2) / 3) + 1;
    if (rc == 0)
        rc = tri_buf_reserve(out, need);
    if (rc == 0) {
        int n = EVP_EncodeBlock((unsigned char *)out->data + out->len,
                                (const unsigned char *)raw.data, (int)raw.len);
        out->len += (size_t)n;
    }
    tri_buf_free(&raw);
    return rc;
}

int tri_kubeconfig_render(const tri_cluster_t *c, tri_buf_t *out)
{
    const char *server = c->lb[0] ? c->lb : c->members[0].api;
    int rc = tri_buf_appendf(out,
                             "apiVersion: v1\n"
                             "kind: Config\n"
                             "clusters:\n"
                             "- name: triarch\n"
                             "  cluster:\n"
                             "    server: https://%s\n"
                             "    certificate-authority-data: ",
                             server);
    if (rc == 0)
        rc = base64_file(c, "ca.crt", out);
    if (rc == 0)
        rc = tri_buf_appendf(out, "\nusers:\n"
                                  "- name: admin\n"
                                  "  user:\n"
                                  "    client-certificate-data: ");
    if (rc == 0)
        rc = base64_file(c, "admin.crt", out);
    if (rc == 0)
        rc = tri_buf_appendf(out, "\n    client-key-data: ");
    if (rc == 0)
        rc = base64_file(c, "admin.key", out);
    if (rc == 0)
        rc = tri_buf_appendf(out, "\ncontexts:\n"
                                  "- name: triarch\n"
                                  "  context:\n"
                                  "    cluster: triarch\n"
                                  "    user: admin\n"
                                  "current-context: triarch\n");
    return rc;
}

static void kubeconfig_usage(FILE *f)
{
    fputs("Usage: triarch kubeconfig --dir D\n"
          "\n"
          "Prints the admin kubeconfig of the cluster in D (server: its load balancer).\n"
          "It holds the admin key: treat it as a secret.\n"
          "\n"
          "  --dir D       cluster directory made by `triarch init` or `cluster up`\n"
          "  -h, --help    this help\n",
          f);
}

int tri_cmd_kubeconfig(int argc, char **argv)
{
    const char *dir = NULL;
    int done = tri_cli_dir_only(argc, argv, "kubeconfig", kubeconfig_usage, &dir);
    if (done >= 0)
        return done;
    tri_cluster_t *c = calloc(1, sizeof *c);
    tri_buf_t out = {0};
    int rc = c ? tri_cluster_load(dir, c) : TRI_ENOMEM;
    if (rc != 0)
        tri_cli_err("%s holds no readable cluster.json (%s)", dir, tri_strerror(rc));
    else if ((rc = tri_kubeconfig_render(c, &out)) != 0)
        tri_cli_err("cannot read certificates in %s/pki (%s)", c->dir, tri_strerror(rc));
    else
        fwrite(out.data, 1, out.len, stdout);
    tri_buf_free(&out);
    free(c);
    return rc == 0 ? 0 : 1;
}
