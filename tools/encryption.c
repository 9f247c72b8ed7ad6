/* The encryption-at-rest key file that `triarch init` writes: D/pki/encryption.yaml,
 * a Kubernetes EncryptionConfiguration that encrypts Secrets with one fresh random
 * AES-256-GCM key ("key1") and still reads plaintext (identity, last). Every
 * replica's triarchd.yaml names it, so a cluster is encrypted from its first write.
 * The file is key material: mode 0600 in the 0700 pki directory, never in the store.
 * Rotation is documented in docs/security.md ("Encryption at rest"). */
#include <stdio.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "cli.h"
#include "triarch/errors.h"

/* AES-256: 32 random bytes, base64 in the file (44 characters). */
#define TRI_ENC_INIT_KEY_BYTES 32

int tri_encryption_config_render(const char *key_name, tri_buf_t *out)
{
    unsigned char key[TRI_ENC_INIT_KEY_BYTES];
    char b64[4 * ((TRI_ENC_INIT_KEY_BYTES + 2) / 3) + 1];
    if (RAND_bytes(key, sizeof key) != 1)
        return TRI_EIO;
    EVP_EncodeBlock((unsigned char *)b64, key, sizeof key);
    OPENSSL_cleanse(key, sizeof key);
    int rc = tri_buf_appendf(out,
                             "# Encryption at rest, written by `triarch init` (docs/security.md).\n"
                             "# The first provider encrypts; every provider listed can decrypt.\n"
                             "apiVersion: apiserver.config.k8s.io/v1\n"
                             "kind: EncryptionConfiguration\n"
                             "resources:\n"
                             "  - resources:\n"
                             "      - secrets\n"
                             "    providers:\n"
                             "      - aesgcm:\n"
                             "          keys:\n"
                             "            - name: %s\n"
                             "              secret: %s\n"
                             "      - identity: {}\n",
                             key_name, b64);
    OPENSSL_cleanse(b64, sizeof b64);
    return rc;
}

int tri_encryption_config_create(const tri_cluster_t *c)
{
    char path[TRI_PATH_MAX];
    tri_buf_t y = {0};
    int rc = tri_path(path, sizeof path, "%s/pki/encryption.yaml", c->dir);
    if (rc == 0)
        rc = tri_encryption_config_render("key1", &y);
    if (rc == 0)
        rc = tri_file_write(path, y.data, y.len, 0600);
    if (y.data)
        OPENSSL_cleanse(y.data, y.len);
    tri_buf_free(&y);
    return rc;
}
