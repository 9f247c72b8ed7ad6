/* Stored values in and out (see storage.h): the resource's name as an
 * EncryptionConfiguration spells it, then encrypt.c with the store key as the
 * authenticated data. Failures become a 500 InternalError Status that names the
 * object and what is wrong, and a log line, never a crash or garbage bytes. */
#include <stdio.h>
#include <string.h>

#include "storage.h"
#include "triarch/errors.h"
#include "triarch/log.h"

void tri_storage_resource(const tri_resource_t *r, char *out, size_t len)
{
    const tri_resource_t *s = r->storage ? r->storage : r;
    if (s->group[0] == '\0')
        snprintf(out, len, "%s", s->plural);
    else
        snprintf(out, len, "%s.%s", s->plural, s->group);
}

/* The object's name: the store key's last segment. */
static void key_name(const char *key, size_t klen, char *out, size_t len)
{
    const char *slash = klen ? memrchr(key, '/', klen) : NULL;
    const char *name = slash ? slash + 1 : key;
    snprintf(out, len, "%.*s", (int)(klen - (size_t)(name - key)), name);
}

int tri_storage_open(const tri_api_t *api, const tri_resource_t *r, const char *key, size_t klen,
                     tri_val_t *stored, tri_val_t **plain, bool *stale, tri_status_t *st)
{
    const tri_encrypt_t *e = tri_api_encryption(api);
    char res[300], err[512];
    if (stale)
        *stale = false;
    /* the common case, no configuration and a JSON value, costs one byte compare */
    if (e == NULL && (stored->len == 0 || stored->data[0] != TRI_ENC_PREFIX[0])) {
        *plain = tri_val_ref(stored);
        return 0;
    }
    tri_storage_resource(r, res, sizeof res);
    tri_buf_t out = {0};
    unsigned flags = 0;
    int rc = tri_encrypt_open(e, res, key, klen, stored->data, stored->len, &out, &flags, err,
                              sizeof err);
    if (rc == 0 && (flags & TRI_ENC_PLAINTEXT)) {
        *plain = tri_val_ref(stored);
    } else if (rc == 0) {
        *plain = tri_val_new(out.data, out.len);
        if (*plain == NULL) {
            rc = TRI_ENOMEM;
            snprintf(err, sizeof err, "out of memory");
        }
    }
    tri_buf_free(&out);
    if (rc == 0) {
        if (stale)
            *stale = (flags & TRI_ENC_STALE) != 0;
        return 0;
    }
    char name[256];
    key_name(key, klen, name, sizeof name);
    tri_status_set(st, 500, "InternalError",
                   "Internal error occurred: unable to decrypt %s \"%s\" stored at %.*s: %s", res,
                   name, (int)klen, key, err);
    snprintf(st->kind, sizeof st->kind, "%s", r->plural);
    snprintf(st->name, sizeof st->name, "%s", name);
    tri_error("api", "cannot decrypt a stored value", "key=%.*s err=\"%s\"", (int)klen, key, err);
    *plain = NULL;
    return TRI_ECORRUPT;
}

int tri_storage_seal(const tri_api_t *api, const tri_resource_t *r, const char *key, size_t klen,
                     const tri_buf_t *plain, tri_buf_t *sealed, const char **data, size_t *len,
                     tri_status_t *st)
{
    const tri_encrypt_t *e = tri_api_encryption(api);
    *data = plain->data;
    *len = plain->len;
    if (e == NULL)
        return 0;
    char res[300], err[256];
    tri_storage_resource(r, res, sizeof res);
    tri_buf_reset(sealed);
    bool done = false;
    int rc = tri_encrypt_seal(e, res, key, klen, plain->data, plain->len, sealed, &done, err,
                              sizeof err);
    if (rc != 0) {
        tri_status_set(st, 500, "InternalError",
                       "Internal error occurred: unable to encrypt %s for storage: %s", res, err);
        tri_error("api", "cannot encrypt a value", "key=%.*s err=\"%s\"", (int)klen, key, err);
        return rc;
    }
    if (done) {
        *data = sealed->data;
        *len = sealed->len;
    }
    return 0;
}

json_t *tri_api_load_stored(const tri_api_t *api, const tri_resource_t *r, const tri_kv_t *kv)
{
    tri_val_t *plain = NULL;
    tri_status_t st = {0};
    json_t *o = NULL;
    if (tri_storage_open(api, r, kv->key, kv->key_len, kv->val, &plain, NULL, &st) == 0)
        o = tri_object_load_as(r, plain, kv->mod_rev);
    tri_val_unref(plain);
    tri_status_clear(&st);
    return o;
}

bool tri_api_exists(tri_api_t *api, const tri_resource_t *r, const char *ns, const char *name)
{
    tri_buf_t key = {0};
    tri_registry_key(r, r->namespaced ? ns : NULL, name, &key);
    tri_kv_t kv;
    int rc = tri_store_get(tri_api_store(api), key.data, key.len, 0, &kv);
    tri_buf_free(&key);
    if (rc == 0)
        tri_kv_release(&kv);
    return rc == 0;
}

json_t *tri_api_lookup(tri_api_t *api, const tri_resource_t *r, const char *ns,
                       const char *name)
{
    tri_buf_t key = {0};
    tri_registry_key(r, r->namespaced ? ns : NULL, name, &key);
    tri_kv_t kv;
    int rc = tri_store_get(tri_api_store(api), key.data, key.len, 0, &kv);
    tri_buf_free(&key);
    if (rc != 0)
        return NULL;
    json_t *o = tri_api_load_stored(api, r, &kv);
    tri_kv_release(&kv);
    return o;
}
