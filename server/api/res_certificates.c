/* certificates.k8s.io/v1 CertificateSigningRequest, cluster-scoped, as
 * kube-apiserver serves it (pkg/registry/certificates):
 *
 * - create: status is dropped; spec.username/uid/groups/extra are the requester's
 *   (admission_csr.c, from the authenticated user); spec.request must be a PEM
 *   "CERTIFICATE REQUEST" whose signature verifies; signerName and usages are
 *   required; expirationSeconds is at least 600.
 * - update of the main resource: spec and status stay as stored (only metadata
 *   changes); /status: only status, and the Approved/Denied conditions stay as
 *   stored; /approval: only status.conditions (admission checks the "approve" verb
 *   on the signer).
 * - conditions: Approved, Denied and Failed at most once each, True, never removed;
 *   Approved and Denied exclusive. status.certificate, once set, never changes.
 *
 * `kubectl get csr` prints NAME, AGE, SIGNERNAME, REQUESTOR, REQUESTEDDURATION,
 * CONDITION like kube-apiserver's printer. */
#include <stdio.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "resources.h"
#include "triarch/codec.h"
#include "triarch/csr.h"

#define MAX_EXPIRATION_S 2147483647LL /* an int32 in the Go type */
#define SIGNER_NAME_MAX 571           /* Kubernetes: 253 domain + 1 + 317 path */

/* ---------- Table ---------- */

static const tri_column_t csr_columns[] = {
    TRI_NAME_COLUMN,
    TRI_AGE_COLUMN,
    {"SignerName", "string", "",
     "signerName indicates the requested signer, and is a qualified name.", 0},
    {"Requestor", "string", "",
     "username contains the name of the user that created the "
     "CertificateSigningRequest.",
     0},
    {"RequestedDuration", "string", "",
     "expirationSeconds is the requested duration of validity "
     "of the issued certificate.",
     0},
    {"Condition", "string", "",
     "conditions applied to the request. Known conditions are "
     "\"Approved\", \"Denied\", and \"Failed\".",
     0},
};

static const char *spec_str(const json_t *obj, const char *k)
{
    return json_string_value(json_object_get(json_object_get(obj, "spec"), k));
}


/* extractCSRStatus: Denied over Approved over Pending, then Failed and Issued. */
static void condition_cell(const json_t *obj, char *out, size_t len)
{
    const char *first = tri_csr_has_condition(obj, "Denied")     ? "Denied"
                        : tri_csr_has_condition(obj, "Approved") ? "Approved"
                                                         : "Pending";
    const char *cert =
        json_string_value(json_object_get(json_object_get(obj, "status"), "certificate"));
    snprintf(out, len, "%s%s%s", first, tri_csr_has_condition(obj, "Failed") ? ",Failed" : "",
             cert && cert[0] ? ",Issued" : "");
}

static json_t *csr_cells(const json_t *obj)
{
    json_t *row = tri_row_new(obj);
    tri_row_add_age(row, obj);
    const char *signer = spec_str(obj, "signerName");
    const char *user = spec_str(obj, "username");
    json_t *exp = json_object_get(json_object_get(obj, "spec"), "expirationSeconds");
    char dur[32] = "<none>", cond[64];
    if (json_is_integer(exp))
        tri_human_duration((long long)json_integer_value(exp), dur, sizeof dur);
    condition_cell(obj, cond, sizeof cond);
    tri_row_extend(row, json_pack("[s, s, s, s]", signer && signer[0] ? signer : "<none>",
                                  user ? user : "", dur, cond));
    return row;
}

/* ---------- validation ---------- */

static bool dns_label_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.';
}

/* "example.com/signer-name": a fully qualified domain, a slash, a path. */
static const char *signer_name_problem(const char *s)
{
    const char *slash = strchr(s, '/');
    if (slash == NULL || slash == s || slash[1] == '\0')
        return "must be a fully qualified domain and path of the form "
               "'example.com/signer-name'";
    if (strlen(s) > SIGNER_NAME_MAX)
        return "must be no more than 571 characters";
    bool dot = false;
    for (const char *p = s; p < slash; p++) {
        if (!dns_label_char(*p))
            return "the domain must be a valid DNS subdomain (lower case)";
        dot |= *p == '.';
    }
    if (!dot)
        return "should be a domain with at least two segments separated by dots";
    for (const char *p = slash + 1; *p; p++)
        if (*p <= ' ' || *p == '%' || (*p == '/' && (p[1] == '/' || p[1] == '\0')))
            return "the path must not contain whitespace, '%' or empty segments";
    if (strcmp(s, "kubernetes.io/legacy-unknown") == 0)
        return "the legacy signerName is not allowed via this API version";
    return NULL;
}

static void validate_request(const json_t *obj, tri_status_t *st)
{
    tri_buf_t pem = {0};
    char why[256] = "";
    if (tri_csr_request_pem(obj, &pem, why, sizeof why) != 0) {
        tri_status_add_cause(st,
                             spec_str(obj, "request") ? "FieldValueInvalid" : "FieldValueRequired",
                             "spec.request", "%s", why);
    } else if (tri_csr_parse(pem.data, pem.len, NULL, why, sizeof why) != 0) {
        tri_status_add_cause(st, "FieldValueInvalid", "spec.request", "Invalid value: %s", why);
    }
    tri_buf_free(&pem);
}

static void validate_usages(const json_t *spec, tri_status_t *st)
{
    json_t *u = json_object_get(spec, "usages");
    if (u != NULL && !json_is_array(u)) {
        tri_status_add_cause(st, "FieldValueInvalid", "spec.usages",
                             "Invalid value: must be a list");
        return;
    }
    if (json_array_size(u) == 0) {
        tri_status_add_cause(st, "FieldValueRequired", "spec.usages",
                             "Required value: usages must be provided");
        return;
    }
    size_t i;
    json_t *v;
    json_array_foreach(u, i, v)
    {
        const char *s = json_string_value(v);
        char field[48];
        snprintf(field, sizeof field, "spec.usages[%zu]", i);
        if (!tri_csr_usage_valid(s)) {
            tri_status_add_cause(st, "FieldValueNotSupported", field,
                                 "Unsupported value: \"%s\": supported values: \"digital "
                                 "signature\", \"key encipherment\", \"client auth\", \"server "
                                 "auth\", ... (certificates.k8s.io/v1 KeyUsage)",
                                 s ? s : "");
            continue;
        }
        for (size_t j = 0; j < i; j++)
            if (json_equal(json_array_get(u, j), v))
                tri_status_add_cause(st, "FieldValueDuplicate", field, "Duplicate value: \"%s\"",
                                     s);
    }
}

static void validate_spec(const json_t *obj, tri_status_t *st)
{
    const json_t *spec = json_object_get(obj, "spec");
    if (!json_is_object(spec)) {
        tri_status_add_cause(st, "FieldValueRequired", "spec", "Required value");
        return;
    }
    validate_request(obj, st);
    const char *signer = spec_str(obj, "signerName");
    const char *problem = signer && signer[0] ? signer_name_problem(signer) : NULL;
    if (signer == NULL || signer[0] == '\0')
        tri_status_add_cause(st, "FieldValueRequired", "spec.signerName", "Required value");
    else if (problem)
        tri_status_add_cause(st, "FieldValueInvalid", "spec.signerName",
                             "Invalid value: \"%s\": %s", signer, problem);
    validate_usages(spec, st);
    json_t *exp = json_object_get(spec, "expirationSeconds");
    if (exp && !json_is_null(exp) &&
        (!json_is_integer(exp) || json_integer_value(exp) < TRI_CSR_MIN_EXPIRATION_S ||
         json_integer_value(exp) > MAX_EXPIRATION_S))
        tri_status_add_cause(st, "FieldValueInvalid", "spec.expirationSeconds",
                             "Invalid value: %lld: may not specify a duration less than 600 "
                             "seconds (10 minutes)",
                             (long long)json_integer_value(exp));
}

static const char *const ONCE_TYPES[] = {"Approved", "Denied", "Failed", NULL};

static size_t count_type(const json_t *obj, const char *type)
{
    json_t *conds = json_object_get(json_object_get(obj, "status"), "conditions");
    size_t i, n = 0;
    json_t *c;
    json_array_foreach(conds, i, c)
    {
        const char *t = json_string_value(json_object_get(c, "type"));
        n += t && strcmp(t, type) == 0;
    }
    return n;
}

static void validate_condition(const json_t *c, size_t i, tri_status_t *st)
{
    char field[64];
    const char *type = json_string_value(json_object_get(c, "type"));
    const char *status = json_string_value(json_object_get(c, "status"));
    snprintf(field, sizeof field, "status.conditions[%zu]", i);
    if (!json_is_object(c) || type == NULL || type[0] == '\0') {
        tri_status_add_cause(st, "FieldValueRequired", field, "type: Required value");
        return;
    }
    bool once = false;
    for (size_t k = 0; ONCE_TYPES[k]; k++)
        once |= strcmp(type, ONCE_TYPES[k]) == 0;
    if (once && (status == NULL || strcmp(status, "True") != 0))
        tri_status_add_cause(st, "FieldValueNotSupported", field,
                             "status: Unsupported value: \"%s\": supported values: \"True\"",
                             status ? status : "");
    else if (!once && (status == NULL || (strcmp(status, "True") && strcmp(status, "False") &&
                                          strcmp(status, "Unknown"))))
        tri_status_add_cause(st, "FieldValueNotSupported", field,
                             "status: Unsupported value: \"%s\": supported values: \"False\", "
                             "\"True\", \"Unknown\"",
                             status ? status : "");
}

/* status.certificate: base64 of one or more PEM CERTIFICATE blocks, each parsing. */
static bool certificate_ok(const char *b64)
{
    size_t n = strlen(b64);
    if (n == 0 || n % 4 != 0 || n > 4 * TRI_CSR_MAX_BYTES)
        return false;
    unsigned char *raw = malloc(n / 4 * 3 + 1);
    int got = raw ? EVP_DecodeBlock(raw, (const unsigned char *)b64, (int)n) : -1;
    BIO *b = got > 0 ? BIO_new_mem_buf(raw, got) : NULL;
    int certs = 0;
    bool ok = b != NULL;
    while (ok) {
        X509 *x = PEM_read_bio_X509(b, NULL, NULL, NULL);
        if (x == NULL)
            break;
        certs++;
        X509_free(x);
    }
    BIO_free(b);
    free(raw);
    ERR_clear_error();
    return ok && certs > 0;
}

static void validate_status(const json_t *obj, const json_t *old, tri_status_t *st)
{
    const json_t *status = json_object_get(obj, "status");
    json_t *conds = json_object_get(status, "conditions");
    if (conds && !json_is_null(conds) && !json_is_array(conds)) {
        tri_status_add_cause(st, "FieldValueInvalid", "status.conditions",
                             "Invalid value: must be a list");
        return;
    }
    size_t i;
    json_t *c;
    json_array_foreach(conds, i, c) validate_condition(c, i, st);
    for (size_t k = 0; ONCE_TYPES[k]; k++) {
        if (count_type(obj, ONCE_TYPES[k]) > 1)
            tri_status_add_cause(st, "FieldValueDuplicate", "status.conditions",
                                 "Duplicate value: \"%s\"", ONCE_TYPES[k]);
        if (old && count_type(obj, ONCE_TYPES[k]) < count_type(old, ONCE_TYPES[k]))
            tri_status_add_cause(st, "FieldValueForbidden", "status.conditions",
                                 "Forbidden: updates may not remove a condition of type \"%s\"",
                                 ONCE_TYPES[k]);
    }
    if (count_type(obj, "Approved") && count_type(obj, "Denied"))
        tri_status_add_cause(st, "FieldValueInvalid", "status.conditions",
                             "Invalid value: Approved and Denied conditions are mutually "
                             "exclusive");
    const char *cert = json_string_value(json_object_get(status, "certificate"));
    if (cert && cert[0] && !certificate_ok(cert))
        tri_status_add_cause(st, "FieldValueInvalid", "status.certificate",
                             "Invalid value: must contain one or more PEM CERTIFICATE blocks");
    const char *was =
        old ? json_string_value(json_object_get(json_object_get(old, "status"), "certificate"))
            : NULL;
    if (was && was[0] && (cert == NULL || strcmp(cert, was) != 0))
        tri_status_add_cause(st, "FieldValueForbidden", "status.certificate",
                             "Forbidden: updates may not modify existing certificate content");
}

static void csr_validate(const json_t *obj, const json_t *old, tri_status_t *st)
{
    const char *name = json_string_value(json_object_get(json_object_get(obj, "metadata"), "name"));
    if (name && (strcmp(name, ".") == 0 || strcmp(name, "..") == 0 || strpbrk(name, "/%")))
        tri_status_add_cause(st, "FieldValueInvalid", "metadata.name",
                             "Invalid value: \"%s\": may not be '.' or '..' and may not contain "
                             "'/' or '%%'",
                             name);
    validate_spec(obj, st);
    validate_status(obj, old, st);
}

/* PrepareForCreate: a new request has no status. */
static void csr_prepare(json_t *obj, const json_t *old)
{
    if (old == NULL)
        json_object_del(obj, "status");
}

/* ---------- update strategies ---------- */

static json_t *find_condition(const json_t *conds, const char *type)
{
    size_t i;
    json_t *c;
    json_array_foreach(conds, i, c)
    {
        const char *t = json_string_value(json_object_get(c, "type"));
        if (t && strcmp(t, type) == 0)
            return c;
    }
    return NULL;
}

/* populateConditionTimestamps: lastUpdateTime now when unset; lastTransitionTime
 * kept from the old condition of the same type and status, else now. */
static void condition_times(json_t *obj, const json_t *old)
{
    char now[21];
    tri_rfc3339_now(now);
    json_t *conds = json_object_get(json_object_get(obj, "status"), "conditions");
    json_t *oconds = json_object_get(json_object_get(old, "status"), "conditions");
    size_t i;
    json_t *c;
    json_array_foreach(conds, i, c)
    {
        if (!json_is_object(c))
            continue;
        if (!json_is_string(json_object_get(c, "lastUpdateTime")))
            json_object_set_new(c, "lastUpdateTime", json_string(now));
        if (json_is_string(json_object_get(c, "lastTransitionTime")))
            continue;
        const json_t *oc = find_condition(oconds, json_string_value(json_object_get(c, "type")));
        json_t *was = json_object_get(oc, "lastTransitionTime");
        bool same = oc && json_equal(json_object_get(oc, "status"), json_object_get(c, "status"));
        json_object_set_new(c, "lastTransitionTime",
                            same && json_is_string(was) ? json_incref(was) : json_string(now));
    }
}

/* obj becomes old with obj's status (or only obj's status.conditions). */
static void keep_old_but(json_t *obj, const json_t *old, bool conditions_only)
{
    json_t *status = json_incref(json_object_get(obj, "status"));
    json_t *conds = json_incref(json_object_get(status, "conditions"));
    json_t *base = json_deep_copy(old);
    json_object_clear(obj);
    json_object_update(obj, base);
    json_decref(base);
    if (conditions_only) {
        json_t *st = tri_field_child(obj, "status");
        if (conds)
            json_object_set(st, "conditions", conds);
        else
            json_object_del(st, "conditions");
    } else if (status) {
        json_object_set(obj, "status", status);
    } else {
        json_object_del(obj, "status");
    }
    json_decref(status);
    json_decref(conds);
}

/* The Approved and Denied conditions as they were: a /status write cannot change
 * the decision (only /approval can). */
static void keep_approval_conditions(json_t *obj, const json_t *old)
{
    json_t *conds = json_object_get(json_object_get(obj, "status"), "conditions");
    json_t *oconds = json_object_get(json_object_get(old, "status"), "conditions");
    json_t *out = json_array();
    size_t i;
    json_t *c;
    json_array_foreach(conds, i, c)
    {
        const char *t = json_string_value(json_object_get(c, "type"));
        if (t == NULL || (strcmp(t, "Approved") && strcmp(t, "Denied")))
            json_array_append(out, c);
    }
    json_array_foreach(oconds, i, c)
    {
        const char *t = json_string_value(json_object_get(c, "type"));
        if (t && (!strcmp(t, "Approved") || !strcmp(t, "Denied")))
            json_array_append(out, c);
    }
    if (json_array_size(out) || conds)
        json_object_set(tri_field_child(obj, "status"), "conditions", out);
    json_decref(out);
}

static bool csr_update_strategy(json_t *obj, const json_t *old, const char *sub)
{
    json_t *meta = json_incref(json_object_get(obj, "metadata"));
    if (sub == NULL || sub[0] == '\0') {
        /* spec and status as stored; metadata as sent */
        json_t *base = json_deep_copy(old);
        json_object_clear(obj);
        json_object_update(obj, base);
        json_decref(base);
        if (meta)
            json_object_set(obj, "metadata", meta);
    } else if (strcmp(sub, "approval") == 0) {
        keep_old_but(obj, old, true);
        condition_times(obj, old);
    } else if (strcmp(sub, "status") == 0) {
        keep_old_but(obj, old, false);
        keep_approval_conditions(obj, old);
        condition_times(obj, old);
    }
    json_decref(meta);
    return true;
}

const tri_resource_t tri_res_certificatesigningrequests = {
    .group = "certificates.k8s.io",
    .version = "v1",
    .kind = "CertificateSigningRequest",
    .list_kind = "CertificateSigningRequestList",
    .plural = "certificatesigningrequests",
    .singular = "certificatesigningrequest",
    .short_names = {"csr"},
    .namespaced = false,
    .has_status = true,
    .table_all_columns = true,
    .columns = csr_columns,
    .n_columns = sizeof csr_columns / sizeof csr_columns[0],
    .cells = csr_cells,
    .validate = csr_validate,
    .prepare = csr_prepare,
    .fields = {"spec.signerName"},
    .known_fields = {"spec", "status"},
    .subresources = {"approval"},
    .update_strategy = csr_update_strategy,
};
