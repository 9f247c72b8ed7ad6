/* The rest of core/v1: Endpoints, Secrets, ServiceAccounts, PersistentVolumes,
 * PersistentVolumeClaims, ResourceQuotas, LimitRanges and ReplicationControllers —
 * each with the defaulting and validation essentials Kubernetes applies and the
 * Table columns kubectl prints for it. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jsonutil.h"
#include "resources.h"
#include "triarch/codec.h"

#define SECRET_MAX_BYTES (1024 * 1024) /* MaxSecretSize */
#define MAX_SHOWN_ENDPOINTS 3          /* kubectl's formatEndpoints */
#define PORT_MAX 65535
#define FIELD_LEN 160

/* ---------- helpers ---------- */

static const char *name_of(const json_t *obj)
{
    return str(json_object_get(obj, "metadata"), "name");
}

static void subdomain_name(const json_t *obj, tri_status_t *st)
{
    const char *name = name_of(obj);
    const char *msg = name[0] ? tri_validate_dns1123_subdomain(name) : NULL;
    if (msg)
        tri_status_add_cause(st, "FieldValueInvalid", "metadata.name", "Invalid value: \"%s\": %s",
                             name, msg);
}

static void enum_cause(tri_status_t *st, const json_t *o, const char *k, const char *path,
                       const char *const *allowed)
{
    json_t *v = json_object_get(o, k);
    if (v == NULL || json_is_null(v))
        return;
    for (size_t i = 0; allowed[i]; i++)
        if (json_is_string(v) && strcmp(json_string_value(v), allowed[i]) == 0)
            return;
    char list[200] = "", field[FIELD_LEN];
    for (size_t i = 0; allowed[i]; i++) {
        size_t n = strlen(list);
        snprintf(list + n, sizeof list - n, "%s\"%s\"", i ? ", " : "", allowed[i]);
    }
    snprintf(field, sizeof field, "%s%s", path, k);
    tri_status_add_cause(st, "FieldValueNotSupported", field,
                         "Unsupported value: \"%s\": supported values: %s", str(o, k), list);
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* labels.FormatLabels: "k=v" sorted by key, comma-joined; "<none>" when empty. */
void tri_format_labels(const json_t *m, char *out, size_t len)
{
    size_t n = json_object_size(m), k = 0;
    out[0] = '\0';
    if (n == 0 || len == 0) {
        snprintf(out, len, "<none>");
        return;
    }
    const char **keys = calloc(n, sizeof *keys);
    if (keys == NULL)
        return;
    const char *key;
    json_t *v;
    json_object_foreach((json_t *)m, key, v) keys[k++] = key;
    qsort(keys, k, sizeof *keys, cmp_str);
    size_t used = 0;
    for (size_t i = 0; i < k && used < len; i++) {
        int w = snprintf(out + used, len - used, "%s%s=%s", i ? "," : "", keys[i], str(m, keys[i]));
        used += w > 0 ? (size_t)w : 0;
    }
    free(keys);
}

static bool labels_match(const json_t *selector, const json_t *labels)
{
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)selector, k, v)
    {
        if (!json_equal(v, json_object_get(labels, k)))
            return false;
    }
    return true;
}

/* GetAccessModesAsString: RWO,ROX,RWX,RWOP in that order. */
static void access_modes(const json_t *modes, char *out, size_t len)
{
    static const char *const names[][2] = {{"ReadWriteOnce", "RWO"},
                                           {"ReadOnlyMany", "ROX"},
                                           {"ReadWriteMany", "RWX"},
                                           {"ReadWriteOncePod", "RWOP"}};
    out[0] = '\0';
    for (size_t m = 0; m < sizeof names / sizeof names[0]; m++) {
        size_t i;
        json_t *v;
        json_array_foreach(modes, i, v)
        {
            if (json_is_string(v) && strcmp(json_string_value(v), names[m][0]) == 0) {
                size_t n = strlen(out);
                snprintf(out + n, len - n, "%s%s", n ? "," : "", names[m][1]);
                break;
            }
        }
    }
}

static void validate_access_modes(const json_t *spec, const char *path, tri_status_t *st)
{
    static const char *const modes[] = {"ReadOnlyMany", "ReadWriteMany", "ReadWriteOnce",
                                        "ReadWriteOncePod", NULL};
    char field[FIELD_LEN];
    json_t *am = json_object_get(spec, "accessModes");
    snprintf(field, sizeof field, "%s.accessModes", path);
    if (json_array_size(am) == 0) {
        tri_status_add_cause(st, "FieldValueRequired", field, "Required value");
        return;
    }
    size_t i;
    json_t *v;
    json_array_foreach(am, i, v)
    {
        bool ok = false;
        for (size_t m = 0; modes[m]; m++)
            ok = ok || (json_is_string(v) && strcmp(json_string_value(v), modes[m]) == 0);
        if (!ok)
            tri_status_add_cause(st, "FieldValueNotSupported", field,
                                 "Unsupported value: \"%s\": supported values: \"ReadOnlyMany\", "
                                 "\"ReadWriteMany\", \"ReadWriteOnce\", \"ReadWriteOncePod\"",
                                 json_is_string(v) ? json_string_value(v) : "");
    }
}

static const char *quantity_str(const json_t *q, char *tmp, size_t len)
{
    if (json_is_string(q))
        return json_string_value(q);
    if (json_is_integer(q)) {
        snprintf(tmp, len, "%lld", (long long)json_integer_value(q));
        return tmp;
    }
    return "";
}

static bool quantity_valid(const json_t *q)
{
    if (json_is_integer(q) || json_is_real(q))
        return true;
    const char *s = json_string_value(q);
    if (s == NULL || s[0] == '\0')
        return false;
    char *end;
    strtod(s, &end);
    if (end == s)
        return false;
    static const char *const suffixes[] = {"",   "m",  "k",  "M",  "G",  "T",  "P", "E",
                                           "Ki", "Mi", "Gi", "Ti", "Pi", "Ei", NULL};
    for (size_t i = 0; suffixes[i]; i++)
        if (strcmp(end, suffixes[i]) == 0)
            return true;
    return false;
}

static void validate_quantities(const json_t *m, const char *path, tri_status_t *st)
{
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)m, k, v)
    {
        if (quantity_valid(v))
            continue;
        char field[FIELD_LEN], tmp[32];
        snprintf(field, sizeof field, "%s[%s]", path, k);
        tri_status_add_cause(st, "FieldValueInvalid", field,
                             "Invalid value: \"%s\": quantities must match the regular expression "
                             "'^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'",
                             quantity_str(v, tmp, sizeof tmp));
    }
}

/* ---------- endpoints ---------- */

static const tri_column_t ep_columns[] = {
    {"Endpoints", "string", "", "Endpoints of the service.", 0},
};

static void ep_append(tri_buf_t *b, size_t *shown, const char *s)
{
    if (*shown == MAX_SHOWN_ENDPOINTS)
        return;
    tri_buf_appendf(b, "%s%s", *shown ? "," : "", s);
    (*shown)++;
}

static json_t *ep_cells(const json_t *obj)
{
    tri_buf_t b = {0};
    size_t shown = 0, count = 0, i, j, k;
    json_t *ss, *a, *p;
    json_array_foreach(json_object_get(obj, "subsets"), i, ss)
    {
        json_t *addrs = json_object_get(ss, "addresses");
        json_t *ports = json_object_get(ss, "ports");
        if (json_array_size(ports) == 0) {
            count += json_array_size(addrs);
            json_array_foreach(addrs, j, a) ep_append(&b, &shown, str(a, "ip"));
            continue;
        }
        json_array_foreach(ports, k, p)
        {
            count += json_array_size(addrs);
            json_array_foreach(addrs, j, a)
            {
                char hp[128];
                const char *ip = str(a, "ip");
                snprintf(hp, sizeof hp, strchr(ip, ':') ? "[%s]:%lld" : "%s:%lld", ip,
                         (long long)json_integer_value(json_object_get(p, "port")));
                ep_append(&b, &shown, hp);
            }
        }
    }
    if (count > shown)
        tri_buf_appendf(&b, " + %zu more...", count - shown);
    if (b.len == 0)
        tri_buf_appendf(&b, "<none>");
    tri_buf_append(&b, "", 1);
    json_t *cells = json_pack("[s]", b.data);
    tri_buf_free(&b);
    return cells;
}

static void ep_prepare(json_t *obj, const json_t *old)
{
    size_t i, j;
    json_t *ss, *p;
    json_array_foreach(json_object_get(obj, "subsets"), i, ss)
    {
        json_array_foreach(json_object_get(ss, "ports"), j, p)
        {
            if (json_is_object(p))
                default_str(p, "protocol", "TCP");
        }
    }
}

static void ep_validate(const json_t *obj, const json_t *old, tri_status_t *st)
{
    static const char *const protocols[] = {"SCTP", "TCP", "UDP", NULL};
    subdomain_name(obj, st);
    size_t i, j;
    json_t *ss, *a, *p;
    char field[FIELD_LEN];
    json_array_foreach(json_object_get(obj, "subsets"), i, ss)
    {
        static const char *const lists[] = {"addresses", "notReadyAddresses"};
        for (size_t l = 0; l < 2; l++) {
            json_array_foreach(json_object_get(ss, lists[l]), j, a)
            {
                snprintf(field, sizeof field, "subsets[%zu].%s[%zu].ip", i, lists[l], j);
                if (str(a, "ip")[0] == '\0')
                    tri_status_add_cause(st, "FieldValueRequired", field, "Required value");
            }
        }
        json_t *ports = json_object_get(ss, "ports");
        json_array_foreach(ports, j, p)
        {
            snprintf(field, sizeof field, "subsets[%zu].ports[%zu].port", i, j);
            json_int_t port = json_integer_value(json_object_get(p, "port"));
            if (port < 1 || port > PORT_MAX)
                tri_status_add_cause(st, "FieldValueInvalid", field,
                                     "Invalid value: %lld: must be between 1 and 65535, inclusive",
                                     (long long)port);
            snprintf(field, sizeof field, "subsets[%zu].ports[%zu].", i, j);
            enum_cause(st, p, "protocol", field, protocols);
            snprintf(field, sizeof field, "subsets[%zu].ports[%zu].name", i, j);
            if (json_array_size(ports) > 1 && str(p, "name")[0] == '\0')
                tri_status_add_cause(st, "FieldValueRequired", field, "Required value");
        }
    }
}

const tri_resource_t tri_res_endpoints = {
    .group = "",
    .version = "v1",
    .kind = "Endpoints",
    .list_kind = "EndpointsList",
    .plural = "endpoints",
    .singular = "endpoints",
    .short_names = {"ep"},
    .namespaced = true,
    .columns = ep_columns,
    .n_columns = 1,
    .cells = ep_cells,
    .validate = ep_validate,
    .prepare = ep_prepare,
    .known_fields = {"subsets"},
};

/* ---------- secrets ---------- */

static const char B64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/* Go's base64.StdEncoding as encoding/json decodes []byte: padded, CR and LF
 * ignored. Returns -1 when valid, else the offset of the first bad byte, and the
 * decoded length in *n. */
long tri_base64_check(const char *s, size_t len, size_t *n)
{
    size_t q = 0, pad = 0;
    *n = 0;
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        if (c == '\r' || c == '\n')
            continue;
        if (c == '=') {
            if (q % 4 < 2 || pad == 2)
                return (long)i;
            pad++;
        } else if (pad > 0 || strchr(B64, c) == NULL || c == '\0') {
            return (long)i;
        }
        q++;
    }
    if (q % 4 != 0)
        return (long)len;
    *n = q / 4 * 3 - pad;
    return -1;
}

static char *base64_encode(const unsigned char *p, size_t n)
{
    char *out = malloc((n + 2) / 3 * 4 + 1);
    if (out == NULL)
        return NULL;
    size_t o = 0;
    for (size_t i = 0; i < n; i += 3) {
        unsigned v = (unsigned)p[i] << 16;
        if (i + 1 < n)
            v |= (unsigned)p[i + 1] << 8;
        if (i + 2 < n)
            v |= p[i + 2];
        out[o++] = B64[(v >> 18) & 63];
        out[o++] = B64[(v >> 12) & 63];
        out[o++] = i + 1 < n ? B64[(v >> 6) & 63] : '=';
        out[o++] = i + 2 < n ? B64[v & 63] : '=';
    }
    out[o] = '\0';
    return out;
}

static const tri_column_t secret_columns[] = {
    {"Type", "string", "", "The type of the secret", 0},
    {"Data", "string", "", "The number of entries in the secret", 0},
};

static json_t *secret_cells(const json_t *obj)
{
    return json_pack("[s, I]", str(obj, "type"),
                     (json_int_t)json_object_size(json_object_get(obj, "data")));
}

/* stringData is write-only: merged into data (base64), as the conversion does. */
static void secret_prepare(json_t *obj, const json_t *old)
{
    default_str(obj, "type", "Opaque");
    json_t *sd = json_object_get(obj, "stringData");
    if (json_is_object(sd)) {
        json_t *data = child_object(obj, "data");
        const char *k;
        json_t *v;
        json_object_foreach(sd, k, v)
        {
            if (!json_is_string(v))
                continue;
            char *enc =
                base64_encode((const unsigned char *)json_string_value(v), json_string_length(v));
            if (enc)
                json_object_set_new(data, k, json_string(enc));
            free(enc);
        }
    }
    json_object_del(obj, "stringData");
}

/* A config key, as ConfigMaps and Secrets share. */
static const char *config_key_msg(const char *k)
{
    size_t n = strlen(k);
    bool ok = n > 0 && n <= 253 && strcmp(k, ".") != 0 && strcmp(k, "..") != 0;
    for (size_t i = 0; ok && i < n; i++) {
        char c = k[i];
        ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
             c == '-' || c == '_' || c == '.';
    }
    return ok ? NULL
              : "a valid config key must consist of alphanumeric characters, '-', '_' or '.' "
                "(e.g. 'key.name',  or 'KEY_NAME',  or 'key-name', regex used for validation is "
                "'[-._a-zA-Z0-9]+')";
}

static void require_key(const json_t *data, const char *key, tri_status_t *st)
{
    if (json_object_get(data, key) != NULL)
        return;
    char field[FIELD_LEN];
    snprintf(field, sizeof field, "data[%s]", key);
    tri_status_add_cause(st, "FieldValueRequired", field, "Required value");
}

static void secret_type_rules(const json_t *obj, const json_t *data, tri_status_t *st)
{
    const char *type = str(obj, "type");
    if (strcmp(type, "kubernetes.io/service-account-token") == 0) {
        const json_t *ann = json_object_get(json_object_get(obj, "metadata"), "annotations");
        if (str(ann, "kubernetes.io/service-account.name")[0] == '\0')
            tri_status_add_cause(st, "FieldValueRequired",
                                 "metadata.annotations[kubernetes.io/service-account.name]",
                                 "Required value");
    } else if (strcmp(type, "kubernetes.io/dockercfg") == 0) {
        require_key(data, ".dockercfg", st);
    } else if (strcmp(type, "kubernetes.io/dockerconfigjson") == 0) {
        require_key(data, ".dockerconfigjson", st);
    } else if (strcmp(type, "kubernetes.io/basic-auth") == 0) {
        if (!json_object_get(data, "username") && !json_object_get(data, "password"))
            require_key(data, "username", st);
    } else if (strcmp(type, "kubernetes.io/ssh-auth") == 0) {
        require_key(data, "ssh-privatekey", st);
    } else if (strcmp(type, "kubernetes.io/tls") == 0) {
        require_key(data, "tls.crt", st);
        require_key(data, "tls.key", st);
    }
}

static void secret_validate(const json_t *obj, const json_t *old, tri_status_t *st)
{
    subdomain_name(obj, st);
    const json_t *data = json_object_get(obj, "data");
    size_t total = 0;
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)data, k, v)
    {
        char field[FIELD_LEN];
        snprintf(field, sizeof field, "data[%s]", k);
        const char *msg = config_key_msg(k);
        if (msg)
            tri_status_add_cause(st, "FieldValueInvalid", field, "Invalid value: \"%s\": %s", k,
                                 msg);
        size_t n = 0;
        long bad = json_is_string(v)
                       ? tri_base64_check(json_string_value(v), json_string_length(v), &n)
                       : 0;
        if (bad >= 0 && st->code == 0) {
            /* encoding/json fails the whole decode: a 400, not a field error */
            tri_status_set(st, 400, "BadRequest",
                           "Secret in version \"v1\" cannot be handled as a Secret: illegal base64 "
                           "data at input byte %ld",
                           bad);
            return;
        }
        total += strlen(k) + n;
    }
    if (total > SECRET_MAX_BYTES)
        tri_status_add_cause(st, "FieldValueTooLong", "data",
                             "Too long: must have at most %d bytes", SECRET_MAX_BYTES);
    secret_type_rules(obj, data, st);
    if (old == NULL)
        return;
    if (strcmp(str(obj, "type"), str(old, "type")) != 0)
        tri_status_add_cause(st, "FieldValueInvalid", "type",
                             "Invalid value: \"%s\": field is immutable", str(obj, "type"));
    if (json_is_true(json_object_get(old, "immutable"))) {
        if (!json_equal(json_object_get(old, "data"), data))
            tri_status_add_cause(st, "FieldValueForbidden", "data",
                                 "Forbidden: field is immutable when `immutable` is set");
        if (!json_is_true(json_object_get(obj, "immutable")))
            tri_status_add_cause(st, "FieldValueForbidden", "immutable",
                                 "Forbidden: field is immutable when `immutable` is set");
    }
}

const tri_resource_t tri_res_secrets = {
    .group = "",
    .version = "v1",
    .kind = "Secret",
    .list_kind = "SecretList",
    .plural = "secrets",
    .singular = "secret",
    .namespaced = true,
    .columns = secret_columns,
    .n_columns = 2,
    .cells = secret_cells,
    .validate = secret_validate,
    .prepare = secret_prepare,
    .fields = {"type"},
    .known_fields = {"data", "stringData", "type", "immutable"},
};

/* ---------- serviceaccounts ---------- */

static const tri_column_t sa_columns[] = {
    {"Secrets", "string", "", "The number of secrets in the service account", 0},
};

static json_t *sa_cells(const json_t *obj)
{
    return json_pack("[I]", (json_int_t)json_array_size(json_object_get(obj, "secrets")));
}

static void sa_validate(const json_t *obj, const json_t *old, tri_status_t *st)
{
    subdomain_name(obj, st);
    static const char *const lists[] = {"secrets", "imagePullSecrets"};
    for (size_t l = 0; l < 2; l++) {
        json_t *arr = json_object_get(obj, lists[l]);
        if (arr != NULL && !json_is_null(arr) && !json_is_array(arr))
            tri_status_add_cause(st, "FieldValueInvalid", lists[l],
                                 "Invalid value: must be a list");
    }
}

const tri_resource_t tri_res_serviceaccounts = {
    .group = "",
    .version = "v1",
    .kind = "ServiceAccount",
    .list_kind = "ServiceAccountList",
    .plural = "serviceaccounts",
    .singular = "serviceaccount",
    .short_names = {"sa"},
    .namespaced = true,
    .columns = sa_columns,
    .n_columns = 1,
    .cells = sa_cells,
    .validate = sa_validate,
    .known_fields = {"secrets", "imagePullSecrets", "automountServiceAccountToken"},
    .subresources = {"token"},
};

/* ---------- persistentvolumes ---------- */

static const tri_column_t pv_columns[] = {
    {"Capacity", "string", "", "The capacity of the persistent volume.", 0},
    {"Access Modes", "string", "", "The access modes of the persistent volume.", 0},
    {"Reclaim Policy", "string", "", "What happens to the volume when it is released.", 0},
    {"Status", "string", "", "The phase of the persistent volume.", 0},
    {"Claim", "string", "", "The claim bound to the persistent volume.", 0},
    {"StorageClass", "string", "", "The storage class of the persistent volume.", 0},
    {"VolumeAttributesClass", "string", "", "The volume attributes class of the volume.", 0},
    {"Reason", "string", "", "Why the volume is in this phase.", 0},
    {"VolumeMode", "string", "", "Block or Filesystem.", 1},
};

static const char *or_unset(const char *s)
{
    return s[0] ? s : "<unset>";
}

static json_t *pv_cells(const json_t *obj)
{
    const json_t *spec = json_object_get(obj, "spec");
    const json_t *status = json_object_get(obj, "status");
    char modes[64], claim[512], tmp[32];
    access_modes(json_object_get(spec, "accessModes"), modes, sizeof modes);
    const json_t *cr = json_object_get(spec, "claimRef");
    if (cr)
        snprintf(claim, sizeof claim, "%s/%s", str(cr, "namespace"), str(cr, "name"));
    else
        claim[0] = '\0';
    const char *phase = str(status, "phase");
    if (json_object_get(json_object_get(obj, "metadata"), "deletionTimestamp"))
        phase = "Terminating";
    return json_pack("[s, s, s, s, s, s, s, s, s]",
                     quantity_str(json_object_get(json_object_get(spec, "capacity"), "storage"),
                                  tmp, sizeof tmp),
                     modes, str(spec, "persistentVolumeReclaimPolicy"), phase, claim,
                     str(spec, "storageClassName"),
                     or_unset(str(spec, "volumeAttributesClassName")), str(status, "reason"),
                     or_unset(str(spec, "volumeMode")));
}

static void pv_prepare(json_t *obj, const json_t *old)
{
    json_t *spec = child_object(obj, "spec");
    default_str(spec, "persistentVolumeReclaimPolicy", "Retain");
    default_str(spec, "volumeMode", "Filesystem");
    if (old == NULL)
        json_object_set_new(obj, "status", json_pack("{s:s}", "phase", "Pending"));
}

static const char *const PV_SOURCES[] = {"hostPath",
                                         "nfs",
                                         "local",
                                         "csi",
                                         "iscsi",
                                         "fc",
                                         "awsElasticBlockStore",
                                         "gcePersistentDisk",
                                         "azureDisk",
                                         "azureFile",
                                         "cephfs",
                                         "cinder",
                                         "flexVolume",
                                         "flocker",
                                         "glusterfs",
                                         "photonPersistentDisk",
                                         "portworxVolume",
                                         "quobyte",
                                         "rbd",
                                         "scaleIO",
                                         "storageos",
                                         "vsphereVolume",
                                         NULL};

static void pv_validate(const json_t *obj, const json_t *old, tri_status_t *st)
{
    static const char *const reclaim[] = {"Delete", "Recycle", "Retain", NULL};
    static const char *const modes[] = {"Block", "Filesystem", NULL};
    subdomain_name(obj, st);
    const json_t *spec = json_object_get(obj, "spec");
    const json_t *cap = json_object_get(spec, "capacity");
    if (json_object_size(cap) == 0)
        tri_status_add_cause(st, "FieldValueRequired", "spec.capacity", "Required value");
    else if (json_object_get(cap, "storage") == NULL)
        tri_status_add_cause(st, "FieldValueRequired", "spec.capacity[storage]", "Required value");
    validate_quantities(cap, "spec.capacity", st);
    validate_access_modes(spec, "spec", st);
    enum_cause(st, spec, "persistentVolumeReclaimPolicy", "spec.", reclaim);
    enum_cause(st, spec, "volumeMode", "spec.", modes);
    size_t sources = 0;
    for (size_t i = 0; PV_SOURCES[i]; i++)
        sources += json_object_get(spec, PV_SOURCES[i]) != NULL;
    if (sources == 0)
        tri_status_add_cause(st, "FieldValueRequired", "spec",
                             "Required value: must specify a "
                             "volume type");
    else if (sources > 1)
        tri_status_add_cause(st, "FieldValueForbidden", "spec",
                             "Forbidden: may not specify more than 1 volume type");
    if (old != NULL) {
        const json_t *ospec = json_object_get(old, "spec");
        if (!json_equal(json_object_get(spec, "volumeMode"), json_object_get(ospec, "volumeMode")))
            tri_status_add_cause(st, "FieldValueInvalid", "spec.volumeMode",
                                 "Invalid value: \"%s\": field is immutable",
                                 str(spec, "volumeMode"));
    }
}

const tri_resource_t tri_res_persistentvolumes = {
    .group = "",
    .version = "v1",
    .kind = "PersistentVolume",
    .list_kind = "PersistentVolumeList",
    .plural = "persistentvolumes",
    .singular = "persistentvolume",
    .short_names = {"pv"},
    .namespaced = false,
    .has_status = true,
    .columns = pv_columns,
    .n_columns = sizeof pv_columns / sizeof pv_columns[0],
    .cells = pv_cells,
    .validate = pv_validate,
    .prepare = pv_prepare,
    .known_fields = {"spec", "status"},
};

/* ---------- persistentvolumeclaims ---------- */

static const tri_column_t pvc_columns[] = {
    {"Status", "string", "", "The phase of the claim.", 0},
    {"Volume", "string", "", "The volume bound to the claim.", 0},
    {"Capacity", "string", "", "The capacity of the bound volume.", 0},
    {"Access Modes", "string", "", "The access modes of the bound volume.", 0},
    {"StorageClass", "string", "", "The storage class of the claim.", 0},
    {"VolumeAttributesClass", "string", "", "The volume attributes class of the claim.", 0},
    {"VolumeMode", "string", "", "Block or Filesystem.", 1},
};

static json_t *pvc_cells(const json_t *obj)
{
    const json_t *spec = json_object_get(obj, "spec");
    const json_t *status = json_object_get(obj, "status");
    const json_t *meta = json_object_get(obj, "metadata");
    char modes[64] = "", tmp[32];
    const char *cap = "";
    const char *volume = str(spec, "volumeName");
    if (volume[0]) {
        access_modes(json_object_get(status, "accessModes"), modes, sizeof modes);
        cap = quantity_str(json_object_get(json_object_get(status, "capacity"), "storage"), tmp,
                           sizeof tmp);
    }
    const char *phase =
        json_object_get(meta, "deletionTimestamp") ? "Terminating" : str(status, "phase");
    /* the beta annotation still wins over the field, as GetPersistentVolumeClaimClass */
    const char *sc =
        str(json_object_get(meta, "annotations"), "volume.beta.kubernetes.io/storage-class");
    if (sc[0] == '\0')
        sc = str(spec, "storageClassName");
    return json_pack("[s, s, s, s, s, s, s]", phase, volume, cap, modes, sc,
                     or_unset(str(spec, "volumeAttributesClassName")),
                     or_unset(str(spec, "volumeMode")));
}

static void pvc_prepare(json_t *obj, const json_t *old)
{
    json_t *spec = child_object(obj, "spec");
    default_str(spec, "volumeMode", "Filesystem");
    if (old == NULL)
        json_object_set_new(obj, "status", json_pack("{s:s}", "phase", "Pending"));
}

static void pvc_validate(const json_t *obj, const json_t *old, tri_status_t *st)
{
    static const char *const modes[] = {"Block", "Filesystem", NULL};
    subdomain_name(obj, st);
    const json_t *spec = json_object_get(obj, "spec");
    validate_access_modes(spec, "spec", st);
    enum_cause(st, spec, "volumeMode", "spec.", modes);
    const json_t *req = json_object_get(json_object_get(spec, "resources"), "requests");
    if (json_object_get(req, "storage") == NULL)
        tri_status_add_cause(st, "FieldValueRequired", "spec.resources[storage]", "Required value");
    validate_quantities(req, "spec.resources.requests", st);
    validate_quantities(json_object_get(json_object_get(spec, "resources"), "limits"),
                        "spec.resources.limits", st);
    if (old == NULL)
        return;
    /* immutable but for the size, the volume attributes class, and binding */
    json_t *a = json_deep_copy(spec);
    const json_t *ospec = json_object_get(old, "spec");
    json_t *ores = json_object_get(ospec, "resources");
    if (ores)
        json_object_set(a, "resources", ores);
    else
        json_object_del(a, "resources");
    json_object_del(a, "volumeAttributesClassName");
    json_t *b = json_deep_copy(ospec);
    json_object_del(b, "volumeAttributesClassName");
    if (str(ospec, "volumeName")[0] == '\0')
        json_object_del(a, "volumeName");
    if (!json_equal(a, b))
        tri_status_add_cause(st, "FieldValueForbidden", "spec",
                             "Forbidden: spec is immutable after creation except "
                             "resources.requests and volumeAttributesClassName for bound claims");
    json_decref(a);
    json_decref(b);
}

const tri_resource_t tri_res_persistentvolumeclaims = {
    .group = "",
    .version = "v1",
    .kind = "PersistentVolumeClaim",
    .list_kind = "PersistentVolumeClaimList",
    .plural = "persistentvolumeclaims",
    .singular = "persistentvolumeclaim",
    .short_names = {"pvc"},
    .namespaced = true,
    .has_status = true,
    .columns = pvc_columns,
    .n_columns = sizeof pvc_columns / sizeof pvc_columns[0],
    .cells = pvc_cells,
    .validate = pvc_validate,
    .prepare = pvc_prepare,
    .known_fields = {"spec", "status"},
};

/* ---------- resourcequotas ---------- */

#define NAME_COLUMN                                                                                \
    {                                                                                              \
        "Name", "string", "name", "Name must be unique within a namespace.", 0                     \
    }
#define AGE_COLUMN                                                                                 \
    {                                                                                              \
        "Age", "string", "",                                                                       \
            "CreationTimestamp is a timestamp representing the server time when this object was "  \
            "created.",                                                                            \
            0                                                                                      \
    }

static const char *age_of(const json_t *obj, char *out, size_t len)
{
    tri_table_age(str(json_object_get(obj, "metadata"), "creationTimestamp"), out, len);
    return out;
}

/* The whole row: kubectl prints AGE before REQUEST and LIMIT. */
static const tri_column_t quota_columns[] = {
    NAME_COLUMN,
    AGE_COLUMN,
    {"Request", "string", "",
     "Request represents a minimum amount of cpu/memory that a container may consume.", 0},
    {"Limit", "string", "",
     "Limits control the maximum amount of cpu/memory that a container may use independent of "
     "contention on the node.",
     0},
};

/* "resource: used/hard, ..." sorted by resource, limits.* in the second column. */
static json_t *quota_cells(const json_t *obj)
{
    const json_t *hard = json_object_get(json_object_get(obj, "spec"), "hard");
    const json_t *used = json_object_get(json_object_get(obj, "status"), "used");
    size_t n = json_object_size(hard), k = 0;
    const char **keys = calloc(n ? n : 1, sizeof *keys);
    tri_buf_t req = {0}, lim = {0};
    const char *key;
    json_t *v;
    if (keys != NULL) {
        json_object_foreach((json_t *)hard, key, v) keys[k++] = key;
        qsort(keys, k, sizeof *keys, cmp_str);
    }
    for (size_t i = 0; keys != NULL && i < k; i++) {
        char t1[32], t2[32];
        const json_t *u = json_object_get(used, keys[i]);
        tri_buf_t *b = strncmp(keys[i], "limits", 6) == 0 ? &lim : &req;
        tri_buf_appendf(b, "%s%s: %s/%s", b->len ? ", " : "", keys[i],
                        u ? quantity_str(u, t1, sizeof t1) : "0",
                        quantity_str(json_object_get(hard, keys[i]), t2, sizeof t2));
    }
    free(keys);
    tri_buf_append(&req, "", 1);
    tri_buf_append(&lim, "", 1);
    char age[32];
    json_t *cells =
        json_pack("[s, s, s, s]", name_of(obj), age_of(obj, age, sizeof age), req.data, lim.data);
    tri_buf_free(&req);
    tri_buf_free(&lim);
    return cells;
}

static void quota_validate(const json_t *obj, const json_t *old, tri_status_t *st)
{
    static const char *const scopes[] = {"BestEffort",
                                         "CrossNamespacePodAffinity",
                                         "NotBestEffort",
                                         "NotTerminating",
                                         "PriorityClass",
                                         "Terminating",
                                         NULL};
    subdomain_name(obj, st);
    const json_t *spec = json_object_get(obj, "spec");
    validate_quantities(json_object_get(spec, "hard"), "spec.hard", st);
    size_t i;
    json_t *s;
    json_array_foreach(json_object_get(spec, "scopes"), i, s)
    {
        bool ok = false;
        for (size_t j = 0; scopes[j]; j++)
            ok = ok || (json_is_string(s) && strcmp(json_string_value(s), scopes[j]) == 0);
        if (!ok)
            tri_status_add_cause(st, "FieldValueInvalid", "spec.scopes",
                                 "Invalid value: \"%s\": unsupported scope",
                                 json_is_string(s) ? json_string_value(s) : "");
    }
}

const tri_resource_t tri_res_resourcequotas = {
    .group = "",
    .version = "v1",
    .kind = "ResourceQuota",
    .list_kind = "ResourceQuotaList",
    .plural = "resourcequotas",
    .singular = "resourcequota",
    .short_names = {"quota"},
    .namespaced = true,
    .has_status = true,
    .table_all_columns = true,
    .columns = quota_columns,
    .n_columns = sizeof quota_columns / sizeof quota_columns[0],
    .cells = quota_cells,
    .validate = quota_validate,
    .known_fields = {"spec", "status"},
};

/* ---------- limitranges ---------- */

/* The whole row: kubectl prints CREATED AT and no AGE for LimitRanges. */
static const tri_column_t lr_columns[] = {
    NAME_COLUMN,
    {"Created At", "date", "",
     "CreationTimestamp is a timestamp representing the server time "
     "when this object was created.",
     0},
};

static json_t *lr_cells(const json_t *obj)
{
    return json_pack("[s, s]", name_of(obj),
                     str(json_object_get(obj, "metadata"), "creationTimestamp"));
}

static void copy_missing(json_t *item, const char *to, const json_t *from)
{
    if (json_object_size(from) == 0)
        return;
    json_t *dst = child_object(item, to);
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)from, k, v)
    {
        if (json_object_get(dst, k) == NULL)
            json_object_set(dst, k, v);
    }
}

/* SetDefaults_LimitRangeItem: a Container item's default is its max, its default
 * request its default, else its min. */
static void lr_prepare(json_t *obj, const json_t *old)
{
    size_t i;
    json_t *item;
    json_array_foreach(json_object_get(json_object_get(obj, "spec"), "limits"), i, item)
    {
        if (!json_is_object(item) || strcmp(str(item, "type"), "Container") != 0)
            continue;
        copy_missing(item, "default", json_object_get(item, "max"));
        copy_missing(item, "defaultRequest", json_object_get(item, "default"));
        copy_missing(item, "defaultRequest", json_object_get(item, "min"));
    }
}

static void lr_validate(const json_t *obj, const json_t *old, tri_status_t *st)
{
    static const char *const types[] = {"Container", "PersistentVolumeClaim", "Pod", NULL};
    static const char *const maps[] = {"max", "min", "default", "defaultRequest",
                                       "maxLimitRequestRatio"};
    subdomain_name(obj, st);
    size_t i;
    json_t *item;
    json_array_foreach(json_object_get(json_object_get(obj, "spec"), "limits"), i, item)
    {
        char path[FIELD_LEN / 2];
        snprintf(path, sizeof path, "spec.limits[%zu].", i);
        if (str(item, "type")[0] == '\0') {
            char field[FIELD_LEN];
            snprintf(field, sizeof field, "%stype", path);
            tri_status_add_cause(st, "FieldValueRequired", field, "Required value");
        }
        enum_cause(st, item, "type", path, types);
        for (size_t m = 0; m < sizeof maps / sizeof maps[0]; m++) {
            char field[FIELD_LEN];
            snprintf(field, sizeof field, "%s%s", path, maps[m]);
            validate_quantities(json_object_get(item, maps[m]), field, st);
        }
    }
}

const tri_resource_t tri_res_limitranges = {
    .group = "",
    .version = "v1",
    .kind = "LimitRange",
    .list_kind = "LimitRangeList",
    .plural = "limitranges",
    .singular = "limitrange",
    .short_names = {"limits"},
    .namespaced = true,
    .table_all_columns = true,
    .columns = lr_columns,
    .n_columns = sizeof lr_columns / sizeof lr_columns[0],
    .cells = lr_cells,
    .validate = lr_validate,
    .prepare = lr_prepare,
    .known_fields = {"spec"},
};

/* ---------- replicationcontrollers ---------- */

static const tri_column_t rc_columns[] = {
    {"Desired", "integer", "", "Number of desired pods.", 0},
    {"Current", "integer", "", "Number of actually running pods.", 0},
    {"Ready", "integer", "", "Number of pods that are ready.", 0},
    {"Containers", "string", "", "Names of each container in the template.", 1},
    {"Images", "string", "", "Images referenced by each container in the template.", 1},
    {"Selector", "string", "", "Label selector for the pods.", 1},
};

static void container_list(const json_t *spec, const char *field, tri_buf_t *out)
{
    size_t i;
    json_t *c;
    json_array_foreach(json_object_get(spec, "containers"), i, c)
        tri_buf_appendf(out, "%s%s", i ? "," : "", str(c, field));
    tri_buf_append(out, "", 1);
}

static json_t *rc_cells(const json_t *obj)
{
    const json_t *spec = json_object_get(obj, "spec");
    const json_t *status = json_object_get(obj, "status");
    const json_t *pspec = json_object_get(json_object_get(spec, "template"), "spec");
    tri_buf_t names = {0}, images = {0};
    container_list(pspec, "name", &names);
    container_list(pspec, "image", &images);
    char sel[1024];
    tri_format_labels(json_object_get(spec, "selector"), sel, sizeof sel);
    json_t *cells = json_pack(
        "[I, I, I, s, s, s]", json_integer_value(json_object_get(spec, "replicas")),
        json_integer_value(json_object_get(status, "replicas")),
        json_integer_value(json_object_get(status, "readyReplicas")), names.data, images.data, sel);
    tri_buf_free(&names);
    tri_buf_free(&images);
    return cells;
}

/* SetDefaults_ReplicationController: selector and labels from the template's
 * labels, one replica, and the template's pod spec defaulted like a pod's. */
static void rc_prepare(json_t *obj, const json_t *old)
{
    json_t *spec = child_object(obj, "spec");
    json_t *tmpl = json_object_get(spec, "template");
    json_t *tlabels = json_object_get(json_object_get(tmpl, "metadata"), "labels");
    if (json_object_size(tlabels) > 0) {
        if (json_object_size(json_object_get(spec, "selector")) == 0)
            json_object_set_new(spec, "selector", json_deep_copy(tlabels));
        json_t *meta = child_object(obj, "metadata");
        if (json_object_size(json_object_get(meta, "labels")) == 0)
            json_object_set_new(meta, "labels", json_deep_copy(tlabels));
    }
    if (json_object_get(spec, "replicas") == NULL)
        json_object_set_new(spec, "replicas", json_integer(1));
    if (json_is_object(tmpl))
        tri_pod_spec_default(json_object_get(tmpl, "spec"));
    if (old == NULL)
        json_object_set_new(obj, "status", json_pack("{s:i}", "replicas", 0));
}

static void rc_validate(const json_t *obj, const json_t *old, tri_status_t *st)
{
    subdomain_name(obj, st);
    const json_t *spec = json_object_get(obj, "spec");
    const json_t *sel = json_object_get(spec, "selector");
    const json_t *tmpl = json_object_get(spec, "template");
    json_t *replicas = json_object_get(spec, "replicas");
    if (!json_is_integer(replicas) || json_integer_value(replicas) < 0)
        tri_status_add_cause(st, "FieldValueInvalid", "spec.replicas",
                             "Invalid value: %lld: must be greater than or equal to 0",
                             (long long)json_integer_value(replicas));
    if (json_object_size(sel) == 0)
        tri_status_add_cause(st, "FieldValueRequired", "spec.selector", "Required value");
    if (!json_is_object(tmpl)) {
        tri_status_add_cause(st, "FieldValueRequired", "spec.template", "Required value");
        return;
    }
    const json_t *tlabels = json_object_get(json_object_get(tmpl, "metadata"), "labels");
    if (json_object_size(sel) > 0 && !labels_match(sel, tlabels)) {
        char l[512];
        tri_format_labels(tlabels, l, sizeof l);
        tri_status_add_cause(st, "FieldValueInvalid", "spec.template.metadata.labels",
                             "Invalid value: \"%s\": `selector` does not match template `labels`",
                             l);
    }
    const json_t *pspec = json_object_get(tmpl, "spec");
    tri_pod_spec_validate(pspec, "spec.template.spec", st);
    const char *rp = str(pspec, "restartPolicy");
    if (rp[0] && strcmp(rp, "Always") != 0)
        tri_status_add_cause(st, "FieldValueNotSupported", "spec.template.spec.restartPolicy",
                             "Unsupported value: \"%s\": supported values: \"Always\"", rp);
}

/* The scale subresource reads spec.selector as it is: a ReplicationController's
 * selector is a plain label map, not a LabelSelector with matchLabels. */
const tri_resource_t tri_res_replicationcontrollers = {
    .group = "",
    .version = "v1",
    .kind = "ReplicationController",
    .list_kind = "ReplicationControllerList",
    .plural = "replicationcontrollers",
    .singular = "replicationcontroller",
    .short_names = {"rc"},
    .categories = {"all"},
    .namespaced = true,
    .has_status = true,
    .columns = rc_columns,
    .n_columns = sizeof rc_columns / sizeof rc_columns[0],
    .cells = rc_cells,
    .validate = rc_validate,
    .prepare = rc_prepare,
    .fields = {"status.replicas"},
    .known_fields = {"spec", "status"},
    .subresources = {"scale"},
    .scale_replicas = "spec.replicas",
    .scale_status_replicas = "status.replicas",
    .scale_selector = "spec.selector",
    .has_generation = true,
};
