/* Private to server/api: the one seam between objects and the bytes the store
 * holds. Every read of a resource's stored value goes through tri_storage_open and
 * every put of one through tri_storage_seal, so encryption at rest (encrypt.c)
 * covers get, list, watch, the read-modify-write loops, delete and deletecollection
 * alike. For a resource the EncryptionConfiguration does not name, both are a
 * reference or a pointer copy. */
#ifndef TRIARCH_API_STORAGE_H
#define TRIARCH_API_STORAGE_H

#include <stdbool.h>

#include "triarch/api.h"
#include "triarch/encrypt.h"

/* The loaded configuration (NULL: nothing is encrypted). Defined in client.c. */
const tri_encrypt_t *tri_api_encryption(const tri_api_t *api);

/* "secrets" for core resources, "<plural>.<group>" otherwise, of the version the
 * resource is stored as: the name an EncryptionConfiguration uses. */
void tri_storage_resource(const tri_resource_t *r, char *out, size_t len);

/* The plaintext of a value stored under key: *plain is a new reference (the stored
 * value itself when it was not encrypted). *stale (may be NULL) is set when a
 * rewrite would store it differently (another key or provider wrote it). On failure
 * returns TRI_ECORRUPT, sets st to 500 InternalError naming the object and the
 * problem, and logs it. */
int tri_storage_open(const tri_api_t *api, const tri_resource_t *r, const char *key, size_t klen,
                     tri_val_t *stored, tri_val_t **plain, bool *stale, tri_status_t *st);

/* The bytes to put under key for an encoded object: *data and *len point into plain
 * (not encrypted) or into sealed (reset first). On failure sets st (500). */
int tri_storage_seal(const tri_api_t *api, const tri_resource_t *r, const char *key, size_t klen,
                     const tri_buf_t *plain, tri_buf_t *sealed, const char **data, size_t *len,
                     tri_status_t *st);

#endif
