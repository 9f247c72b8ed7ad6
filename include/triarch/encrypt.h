/* Encryption at rest: Kubernetes' EncryptionConfiguration, AES-256-GCM.
 *
 * The API layer seals a resource's stored bytes before the write is proposed to
 * Raft and opens them after every read, so neither the Raft log, nor snapshots, nor
 * backups hold the plaintext of the resources the configuration names (secrets).
 *
 * The configuration is the file kube-apiserver reads for
 * --encryption-provider-config (apiVersion apiserver.config.k8s.io/v1, kind
 * EncryptionConfiguration): for each group of resources an ordered list of
 * providers. The first provider writes; every listed provider reads. Providers
 * supported: `aesgcm` (keys of 32 bytes, base64) and `identity` (plaintext).
 *
 * A sealed value is laid out as Kubernetes lays it out, so the stored bytes name
 * the key that sealed them:
 *
 *   "k8s:enc:aesgcm:v1:" <key name> ":" nonce(12) || ciphertext || tag(16)
 *
 * with a fresh random 96-bit nonce per write and the store key as additional
 * authenticated data: a value copied under another key does not open. A value
 * without the "k8s:enc:" prefix is plaintext (identity, or written before
 * encryption was turned on).
 *
 * Key material stays in the loaded configuration (wiped on free); it never goes
 * into the store. Nothing here is thread-affine: a loaded configuration is read-only.
 */
#ifndef TRIARCH_ENCRYPT_H
#define TRIARCH_ENCRYPT_H

#include <stdbool.h>
#include <stddef.h>

#include "triarch/util.h"

/* The prefix every encrypted value starts with (Kubernetes' envelope marker). */
#define TRI_ENC_PREFIX "k8s:enc:"
/* AES-256-GCM: key, nonce and tag sizes in bytes (NIST SP 800-38D, 96-bit IV). */
#define TRI_ENC_KEY_BYTES 32
#define TRI_ENC_NONCE_BYTES 12
#define TRI_ENC_TAG_BYTES 16
/* Configuration files are small; a larger one is refused before parsing. */
#define TRI_ENC_CONFIG_MAX_BYTES (1024 * 1024)

typedef struct tri_encrypt tri_encrypt_t;

/* Parses an EncryptionConfiguration (YAML or JSON). On error returns TRI_EINVAL
 * (TRI_ENOMEM) and writes a message naming the offending field into err. The
 * caller frees *out with tri_encrypt_free. */
int tri_encrypt_parse(const char *text, size_t len, tri_encrypt_t **out, char *err, size_t errlen);
/* Reads and parses a file (the message names the file). */
int tri_encrypt_load(const char *path, tri_encrypt_t **out, char *err, size_t errlen);
/* Wipes key material and frees. NULL-safe. */
void tri_encrypt_free(tri_encrypt_t *e);

/* A one-line summary for logs: "secrets: aesgcm(key1,key0) identity". */
void tri_encrypt_describe(const tri_encrypt_t *e, char *out, size_t len);

/* Whether writes of this resource are sealed: its rule's first provider encrypts.
 * resource is "secrets" for the core group, "<plural>.<group>" otherwise. e may
 * be NULL (no configuration: nothing is sealed). */
bool tri_encrypt_seals(const tri_encrypt_t *e, const char *resource);

/* Seals plaintext for storage under store key aad, appending to out. Sets *sealed
 * false and appends nothing when the resource is stored as plaintext (no rule, or
 * identity first): the caller stores the plaintext. Returns 0, or TRI_EIO when
 * the cipher failed (message in err). */
int tri_encrypt_seal(const tri_encrypt_t *e, const char *resource, const void *aad, size_t aadlen,
                     const void *plain, size_t len, tri_buf_t *out, bool *sealed, char *err,
                     size_t errlen);

/* Flags out of tri_encrypt_open. */
enum {
    TRI_ENC_PLAINTEXT = 1, /* the value is plaintext: use it as stored (out untouched) */
    TRI_ENC_STALE = 2,     /* not how the resource would be written now: the first
                            * provider's first key (or identity) did not read it, so
                            * a rewrite of the same object re-encrypts it */
};

/* Opens a stored value of resource, read under store key aad. Either sets
 * TRI_ENC_PLAINTEXT in *flags (nothing appended), or appends the plaintext to out.
 * Returns 0, or TRI_ECORRUPT with a message in err when the value cannot be opened:
 * unknown key name, failed authentication tag (wrong key material, tampering, value
 * moved to another store key), unsupported provider, truncated value, plaintext
 * where the configuration lists no identity provider. Never returns garbage. */
int tri_encrypt_open(const tri_encrypt_t *e, const char *resource, const void *aad, size_t aadlen,
                     const void *val, size_t len, tri_buf_t *out, unsigned *flags, char *err,
                     size_t errlen);

#endif
