/* core/v1 Pods: defaulting of what users omit (as SetDefaults_Pod/PodSpec/Container
 * and the admission plugins a default kube-apiserver runs: ServiceAccount, Priority,
 * DefaultTolerationSeconds), validation (names, containers, ports, the pod spec
 * being immutable after create but for images, activeDeadlineSeconds and added
 * tolerations), QoS class, and the Table kubectl prints (READY, STATUS computed from
 * container states, RESTARTS with the last restart's age, wide: IP, NODE, NOMINATED
 * NODE, READINESS GATES). The PodSpec parts are exported for kinds with a pod
 * template (replicationcontrollers here, the apps and batch kinds elsewhere). */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jsonutil.h"
#include "resources.h"
#include "triarch/codec.h"

#define DEFAULT_GRACE_SECONDS 30
#define DEFAULT_SCHEDULER "default-scheduler"
#define DEFAULT_SERVICE_ACCOUNT "default"
#define TERMINATION_LOG "/dev/termination-log"
#define DEFAULT_TOLERATION_SECONDS 300 /* DefaultTolerationSeconds admission */
#define DEFAULT_VOLUME_MODE 0644       /* 420: secret/configMap/downwardAPI/projected */
#define PROBE_TIMEOUT_S 1
#define PROBE_PERIOD_S 10
#define PROBE_SUCCESS 1
#define PROBE_FAILURE 3
#define PORT_MAX 65535
#define IANA_SVC_NAME_MAX 15
#define ACTIVE_DEADLINE_MAX 2147483647LL
#define MAX_SHOWN_PATH 256 /* a field path in a cause */
#define PATH_LEN 128       /* a container's path, a prefix of the above */

static const char IMMUTABLE_MSG[] =
    "Forbidden: pod updates may not change fields other than `spec.containers[*].image`,"
    "`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,`spec.tolerations` (only "
    "additions to existing tolerations),`spec.terminationGracePeriodSeconds` (allow it to be "
    "set to 1 if it was previously negative)";

/* ---------- small helpers ---------- */

static void default_int(json_t *o, const char *k, json_int_t v)
{
    json_t *cur = json_object_get(o, k);
    if (cur == NULL || json_is_null(cur))
        json_object_set_new(o, k, json_integer(v));
}

static bool one_of(const char *v, const char *const *allowed)
{
    for (size_t i = 0; allowed[i]; i++)
        if (strcmp(v, allowed[i]) == 0)
            return true;
    return false;
}

/* Kubernetes' NotSupported wording: supported values listed quoted, sorted. */
static void unsupported(tri_status_t *st, const char *field, const char *v,
                        const char *const *allowed)
{
    char list[256] = "";
    for (size_t i = 0; allowed[i]; i++) {
        size_t n = strlen(list);
        snprintf(list + n, sizeof list - n, "%s\"%s\"", i ? ", " : "", allowed[i]);
    }
    tri_status_add_cause(st, "FieldValueNotSupported", field,
                         "Unsupported value: \"%s\": supported values: %s", v, list);
}

static void check_enum(const json_t *o, const char *k, const char *path, const char *const *allowed,
                       tri_status_t *st)
{
    json_t *v = json_object_get(o, k);
    if (v == NULL || json_is_null(v))
        return;
    char field[MAX_SHOWN_PATH];
    snprintf(field, sizeof field, "%s.%s", path, k);
    if (!json_is_string(v)) {
        tri_status_add_cause(st, "FieldValueInvalid", field, "Invalid value: must be a string");
        return;
    }
    if (!one_of(json_string_value(v), allowed))
        unsupported(st, field, json_string_value(v), allowed);
}

/* ---------- quantities (only as far as QoS needs: zero or not, equal or not) ---------- */

/* A resource.Quantity as a number of base units; false when unparseable. */
static bool quantity_value(const json_t *q, long double *out)
{
    if (json_is_number(q)) {
        *out = (long double)json_number_value(q);
        return true;
    }
    const char *s = json_string_value(q);
    if (s == NULL || s[0] == '\0')
        return false;
    char *end = NULL;
    long double v = strtold(s, &end);
    if (end == s)
        return false;
    static const struct {
        const char *suffix;
        long double mult;
    } suffixes[] = {
        {"", 1},
        {"m", 1e-3L},
        {"k", 1e3L},
        {"M", 1e6L},
        {"G", 1e9L},
        {"T", 1e12L},
        {"P", 1e15L},
        {"E", 1e18L},
        {"Ki", 1024.0L},
        {"Mi", 1048576.0L},
        {"Gi", 1073741824.0L},
        {"Ti", 1099511627776.0L},
        {"Pi", 1125899906842624.0L},
        {"Ei", 1152921504606846976.0L},
    };
    for (size_t i = 0; i < sizeof suffixes / sizeof suffixes[0]; i++) {
        if (strcmp(end, suffixes[i].suffix) == 0) {
            *out = v * suffixes[i].mult;
            return true;
        }
    }
    return false; /* strtold took any exponent already */
}

/* "1" and "1000m" are the same amount; decimal suffixes are not exact in binary */
static bool same_amount(long double a, long double b)
{
    long double d = a > b ? a - b : b - a;
    long double m = a > b ? a : b;
    return d <= m * 1e-12L;
}

static bool quantity_nonzero(const json_t *q)
{
    long double v;
    return quantity_value(q, &v) && v != 0;
}

/* ---------- defaulting ---------- */

/* imagePullPolicy: Always for an image tagged latest or untagged (and without a
 * digest), IfNotPresent otherwise, as SetDefaults_Container does. */
static const char *pull_policy_for(const char *image)
{
    const char *last = strrchr(image, '/');
    last = last ? last + 1 : image;
    if (strchr(last, '@') != NULL)
        return "IfNotPresent";
    const char *colon = strchr(last, ':');
    if (colon == NULL || strcmp(colon + 1, "latest") == 0)
        return "Always";
    return "IfNotPresent";
}

static void handler_default(json_t *h)
{
    json_t *get = json_object_get(h, "httpGet");
    if (json_is_object(get)) {
        default_str(get, "path", "/");
        default_str(get, "scheme", "HTTP");
    }
}

static void probe_default(json_t *p)
{
    if (!json_is_object(p))
        return;
    default_int(p, "timeoutSeconds", PROBE_TIMEOUT_S);
    default_int(p, "periodSeconds", PROBE_PERIOD_S);
    default_int(p, "successThreshold", PROBE_SUCCESS);
    default_int(p, "failureThreshold", PROBE_FAILURE);
    handler_default(p);
}

static void container_default(json_t *c, bool host_network)
{
    if (!json_is_object(c))
        return;
    const char *image = json_string_value(json_object_get(c, "image"));
    if (image && image[0])
        default_str(c, "imagePullPolicy", pull_policy_for(image));
    default_str(c, "terminationMessagePath", TERMINATION_LOG);
    default_str(c, "terminationMessagePolicy", "File");
    child_object(c, "resources");
    size_t i;
    json_t *p;
    json_array_foreach(json_object_get(c, "ports"), i, p)
    {
        if (!json_is_object(p))
            continue;
        default_str(p, "protocol", "TCP");
        json_t *cp = json_object_get(p, "containerPort");
        if (host_network && json_is_integer(cp) && json_object_get(p, "hostPort") == NULL)
            json_object_set(p, "hostPort", cp);
    }
    json_t *e;
    json_array_foreach(json_object_get(c, "env"), i, e)
    {
        json_t *fr = json_object_get(json_object_get(e, "valueFrom"), "fieldRef");
        if (json_is_object(fr))
            default_str(fr, "apiVersion", "v1");
    }
    probe_default(json_object_get(c, "livenessProbe"));
    probe_default(json_object_get(c, "readinessProbe"));
    probe_default(json_object_get(c, "startupProbe"));
    json_t *lc = json_object_get(c, "lifecycle");
    if (json_is_object(lc)) {
        handler_default(json_object_get(lc, "postStart"));
        handler_default(json_object_get(lc, "preStop"));
    }
}

static void volume_default(json_t *v)
{
    static const char *const with_mode[] = {"secret", "configMap", "downwardAPI", "projected"};
    for (size_t i = 0; i < sizeof with_mode / sizeof with_mode[0]; i++) {
        json_t *src = json_object_get(v, with_mode[i]);
        if (json_is_object(src))
            default_int(src, "defaultMode", DEFAULT_VOLUME_MODE);
    }
}

void tri_pod_spec_default(json_t *spec)
{
    if (!json_is_object(spec))
        return;
    default_str(spec, "restartPolicy", "Always");
    default_str(spec, "dnsPolicy", "ClusterFirst");
    default_int(spec, "terminationGracePeriodSeconds", DEFAULT_GRACE_SECONDS);
    default_str(spec, "schedulerName", DEFAULT_SCHEDULER);
    child_object(spec, "securityContext");
    if (json_object_get(spec, "enableServiceLinks") == NULL)
        json_object_set_new(spec, "enableServiceLinks", json_true());
    bool host_net = json_is_true(json_object_get(spec, "hostNetwork"));
    static const char *const lists[] = {"containers", "initContainers", "ephemeralContainers"};
    for (size_t l = 0; l < sizeof lists / sizeof lists[0]; l++) {
        size_t i;
        json_t *c;
        json_array_foreach(json_object_get(spec, lists[l]), i, c) container_default(c, host_net);
    }
    size_t i;
    json_t *v;
    json_array_foreach(json_object_get(spec, "volumes"), i, v) volume_default(v);
}

/* SetDefaults_Pod: a container with a limit and no request for it requests the limit. */
static void requests_from_limits(json_t *spec)
{
    static const char *const lists[] = {"containers", "initContainers"};
    for (size_t l = 0; l < sizeof lists / sizeof lists[0]; l++) {
        size_t i;
        json_t *c;
        json_array_foreach(json_object_get(spec, lists[l]), i, c)
        {
            json_t *res = json_object_get(c, "resources");
            json_t *lim = json_object_get(res, "limits");
            if (!json_is_object(lim) || json_object_size(lim) == 0)
                continue;
            json_t *req = child_object(res, "requests");
            const char *k;
            json_t *q;
            json_object_foreach(lim, k, q)
            {
                if (json_object_get(req, k) == NULL)
                    json_object_set(req, k, q);
            }
        }
    }
}

static bool has_toleration_for(const json_t *tols, const char *key)
{
    size_t i;
    json_t *t;
    json_array_foreach(tols, i, t)
    {
        const char *eff = str(t, "effect");
        const char *op = str(t, "operator");
        bool any_key = str(t, "key")[0] == '\0' && strcmp(op, "Exists") == 0;
        if ((any_key || strcmp(str(t, "key"), key) == 0) &&
            (eff[0] == '\0' || strcmp(eff, "NoExecute") == 0))
            return true;
    }
    return false;
}

/* What a default kube-apiserver's admission adds to a new pod. */
static void admission_defaults(json_t *spec)
{
    default_str(spec, "serviceAccountName", DEFAULT_SERVICE_ACCOUNT);
    json_object_set(spec, "serviceAccount", json_object_get(spec, "serviceAccountName"));
    if (json_object_get(spec, "priorityClassName") == NULL)
        default_int(spec, "priority", 0);
    default_str(spec, "preemptionPolicy", "PreemptLowerPriority");
    json_t *tols = json_object_get(spec, "tolerations");
    if (!json_is_array(tols)) {
        tols = json_array();
        json_object_set_new(spec, "tolerations", tols);
    }
    static const char *const keys[] = {"node.kubernetes.io/not-ready",
                                       "node.kubernetes.io/unreachable"};
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
        if (!has_toleration_for(tols, keys[i]))
            json_array_append_new(tols, json_pack("{s:s, s:s, s:s, s:i}", "key", keys[i],
                                                  "operator", "Exists", "effect", "NoExecute",
                                                  "tolerationSeconds", DEFAULT_TOLERATION_SECONDS));
    }
}

/* On update, what admission set at create and a full replacement omitted is kept. */
static void keep_admitted(json_t *spec, const json_t *ospec)
{
    static const char *const kept[] = {"serviceAccountName", "serviceAccount", "priority",
                                       "preemptionPolicy", "tolerations"};
    for (size_t i = 0; i < sizeof kept / sizeof kept[0]; i++) {
        json_t *ov = json_object_get(ospec, kept[i]);
        if (ov && json_object_get(spec, kept[i]) == NULL)
            json_object_set(spec, kept[i], ov);
    }
}

/* ---------- QoS ---------- */

static const char *const QOS_RESOURCES[] = {"cpu", "memory"};

const char *tri_pod_qos_class(const json_t *spec)
{
    bool any = false, guaranteed = true;
    static const char *const lists[] = {"containers", "initContainers"};
    for (size_t l = 0; l < sizeof lists / sizeof lists[0]; l++) {
        size_t i;
        json_t *c;
        json_array_foreach(json_object_get(spec, lists[l]), i, c)
        {
            json_t *res = json_object_get(c, "resources");
            json_t *req = json_object_get(res, "requests");
            json_t *lim = json_object_get(res, "limits");
            for (size_t r = 0; r < 2; r++) {
                json_t *rq = json_object_get(req, QOS_RESOURCES[r]);
                json_t *lm = json_object_get(lim, QOS_RESOURCES[r]);
                long double a, b;
                if (quantity_nonzero(rq) || quantity_nonzero(lm))
                    any = true;
                if (!quantity_nonzero(lm)) {
                    guaranteed = false;
                    continue;
                }
                /* a request equal to the limit (or none: it defaults to the limit) */
                if (rq && quantity_value(rq, &a) && quantity_value(lm, &b) && !same_amount(a, b))
                    guaranteed = false;
            }
        }
    }
    if (!any)
        return "BestEffort";
    return guaranteed ? "Guaranteed" : "Burstable";
}

static void pod_prepare(json_t *obj, const json_t *old)
{
    json_t *spec = json_object_get(obj, "spec");
    if (!json_is_object(spec))
        return; /* validation says spec is required */
    tri_pod_spec_default(spec);
    requests_from_limits(spec);
    if (old != NULL) {
        keep_admitted(spec, json_object_get(old, "spec"));
        return; /* status: the stored one is kept by the status strategy */
    }
    admission_defaults(spec);
    /* PrepareForCreate: a new pod's status is Pending with its QoS class, whatever
     * the client sent */
    json_object_set_new(
        obj, "status",
        json_pack("{s:s, s:s}", "phase", "Pending", "qosClass", tri_pod_qos_class(spec)));
}

/* ---------- validation ---------- */

static void name_cause(tri_status_t *st, const char *field, const char *v, const char *msg)
{
    tri_status_add_cause(st, "FieldValueInvalid", field, "Invalid value: \"%s\": %s", v, msg);
}

/* IANA_SVC_NAME: at most 15 of [-a-z0-9], at least one letter, no leading,
 * trailing or double hyphen. */
const char *tri_validate_port_name(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > IANA_SVC_NAME_MAX)
        return "must be no more than 15 characters";
    bool letter = false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-'))
            return "must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)";
        if (c >= 'a' && c <= 'z')
            letter = true;
        if (c == '-' && (i == 0 || i == n - 1 || s[i + 1] == '-'))
            return "must not begin or end with a hyphen, or contain adjacent hyphens";
    }
    return letter ? NULL : "must contain at least one letter (a-z)";
}

static void validate_ports(const json_t *c, const char *path, tri_status_t *st)
{
    static const char *const protocols[] = {"SCTP", "TCP", "UDP", NULL};
    json_t *ports = json_object_get(c, "ports");
    size_t i;
    json_t *p;
    char field[MAX_SHOWN_PATH];
    json_array_foreach(ports, i, p)
    {
        json_t *cp = json_object_get(p, "containerPort");
        snprintf(field, sizeof field, "%s.ports[%zu].containerPort", path, i);
        if (cp == NULL)
            tri_status_add_cause(st, "FieldValueRequired", field, "Required value");
        else if (!json_is_integer(cp) || json_integer_value(cp) < 1 ||
                 json_integer_value(cp) > PORT_MAX)
            tri_status_add_cause(st, "FieldValueInvalid", field,
                                 "Invalid value: %lld: must be between 1 and 65535, inclusive",
                                 (long long)json_integer_value(cp));
        json_t *hp = json_object_get(p, "hostPort");
        snprintf(field, sizeof field, "%s.ports[%zu].hostPort", path, i);
        if (hp && (!json_is_integer(hp) || json_integer_value(hp) < 0 ||
                   json_integer_value(hp) > PORT_MAX))
            tri_status_add_cause(st, "FieldValueInvalid", field,
                                 "Invalid value: %lld: must be between 1 and 65535, inclusive",
                                 (long long)json_integer_value(hp));
        snprintf(field, sizeof field, "%s.ports[%zu]", path, i);
        check_enum(p, "protocol", field, protocols, st);
        const char *name = json_string_value(json_object_get(p, "name"));
        if (name == NULL)
            continue;
        snprintf(field, sizeof field, "%s.ports[%zu].name", path, i);
        const char *msg = tri_validate_port_name(name);
        if (msg)
            name_cause(st, field, name, msg);
        for (size_t j = 0; j < i; j++) {
            const char *other =
                json_string_value(json_object_get(json_array_get(ports, j), "name"));
            if (other && strcmp(other, name) == 0)
                tri_status_add_cause(st, "FieldValueDuplicate", field, "Duplicate value: \"%s\"",
                                     name);
        }
    }
}

static bool volume_named(const json_t *spec, const char *name)
{
    size_t i;
    json_t *v;
    json_array_foreach(json_object_get(spec, "volumes"), i, v)
    {
        if (strcmp(str(v, "name"), name) == 0)
            return true;
    }
    return false;
}

static void validate_container(const json_t *spec, const json_t *c, const char *path,
                               bool image_required, tri_status_t *st)
{
    static const char *const pull[] = {"Always", "IfNotPresent", "Never", NULL};
    char field[MAX_SHOWN_PATH];
    if (!json_is_object(c)) {
        tri_status_add_cause(st, "FieldValueInvalid", path, "Invalid value: must be an object");
        return;
    }
    const char *name = json_string_value(json_object_get(c, "name"));
    snprintf(field, sizeof field, "%s.name", path);
    const char *msg;
    if (name == NULL || name[0] == '\0')
        tri_status_add_cause(st, "FieldValueRequired", field, "Required value");
    else if ((msg = tri_validate_dns1123_label(name)) != NULL)
        name_cause(st, field, name, msg);
    const char *image = json_string_value(json_object_get(c, "image"));
    snprintf(field, sizeof field, "%s.image", path);
    if (image_required && (image == NULL || image[0] == '\0'))
        tri_status_add_cause(st, "FieldValueRequired", field, "Required value");
    else if (image && image[0] != '\0' &&
             (isspace((unsigned char)image[0]) || isspace((unsigned char)image[strlen(image) - 1])))
        tri_status_add_cause(st, "FieldValueInvalid", field,
                             "Invalid value: \"%s\": must not have leading or trailing whitespace",
                             image);
    check_enum(c, "imagePullPolicy", path, pull, st);
    validate_ports(c, path, st);
    size_t i;
    json_t *e;
    json_array_foreach(json_object_get(c, "env"), i, e)
    {
        snprintf(field, sizeof field, "%s.env[%zu].name", path, i);
        if (str(e, "name")[0] == '\0')
            tri_status_add_cause(st, "FieldValueRequired", field, "Required value");
    }
    json_t *m;
    json_array_foreach(json_object_get(c, "volumeMounts"), i, m)
    {
        snprintf(field, sizeof field, "%s.volumeMounts[%zu].name", path, i);
        const char *vn = str(m, "name");
        if (vn[0] == '\0')
            tri_status_add_cause(st, "FieldValueRequired", field, "Required value");
        else if (!volume_named(spec, vn))
            tri_status_add_cause(st, "FieldValueNotFound", field, "Not found: \"%s\"", vn);
        snprintf(field, sizeof field, "%s.volumeMounts[%zu].mountPath", path, i);
        if (str(m, "mountPath")[0] == '\0')
            tri_status_add_cause(st, "FieldValueRequired", field, "Required value");
    }
}

/* Container names are unique across containers and init containers. */
static bool name_seen(const json_t *spec, const char *name, const char *list, size_t upto)
{
    static const char *const lists[] = {"initContainers", "containers"};
    for (size_t l = 0; l < 2; l++) {
        json_t *arr = json_object_get(spec, lists[l]);
        size_t n = strcmp(lists[l], list) == 0 ? upto : json_array_size(arr);
        for (size_t i = 0; i < n && i < json_array_size(arr); i++)
            if (strcmp(str(json_array_get(arr, i), "name"), name) == 0)
                return true;
        if (strcmp(lists[l], list) == 0)
            return false;
    }
    return false;
}

static void validate_volumes(const json_t *spec, const char *path, tri_status_t *st)
{
    size_t i;
    json_t *v;
    char field[MAX_SHOWN_PATH];
    json_array_foreach(json_object_get(spec, "volumes"), i, v)
    {
        const char *name = str(v, "name");
        snprintf(field, sizeof field, "%s.volumes[%zu].name", path, i);
        const char *msg;
        if (name[0] == '\0') {
            tri_status_add_cause(st, "FieldValueRequired", field, "Required value");
            continue;
        }
        if ((msg = tri_validate_dns1123_label(name)) != NULL)
            name_cause(st, field, name, msg);
        for (size_t j = 0; j < i; j++)
            if (strcmp(str(json_array_get(json_object_get(spec, "volumes"), j), "name"), name) == 0)
                tri_status_add_cause(st, "FieldValueDuplicate", field, "Duplicate value: \"%s\"",
                                     name);
    }
}

void tri_pod_spec_validate(const json_t *spec, const char *path, tri_status_t *st)
{
    static const char *const restart[] = {"Always", "OnFailure", "Never", NULL};
    static const char *const dns[] = {"ClusterFirst", "ClusterFirstWithHostNet", "Default", "None",
                                      NULL};
    char field[MAX_SHOWN_PATH];
    if (!json_is_object(spec)) {
        tri_status_add_cause(st, "FieldValueRequired", path, "Required value");
        return;
    }
    json_t *containers = json_object_get(spec, "containers");
    snprintf(field, sizeof field, "%s.containers", path);
    if (!json_is_array(containers) || json_array_size(containers) == 0)
        tri_status_add_cause(st, "FieldValueRequired", field, "Required value");
    static const char *const lists[] = {"initContainers", "containers"};
    for (size_t l = 0; l < 2; l++) {
        size_t i;
        json_t *c;
        json_array_foreach(json_object_get(spec, lists[l]), i, c)
        {
            char cpath[PATH_LEN];
            snprintf(cpath, sizeof cpath, "%s.%s[%zu]", path, lists[l], i);
            validate_container(spec, c, cpath, true, st);
            const char *name = str(c, "name");
            if (name[0] && name_seen(spec, name, lists[l], i)) {
                snprintf(field, sizeof field, "%s.name", cpath);
                tri_status_add_cause(st, "FieldValueDuplicate", field, "Duplicate value: \"%s\"",
                                     name);
            }
        }
    }
    validate_volumes(spec, path, st);
    check_enum(spec, "restartPolicy", path, restart, st);
    check_enum(spec, "dnsPolicy", path, dns, st);
    json_t *ads = json_object_get(spec, "activeDeadlineSeconds");
    snprintf(field, sizeof field, "%s.activeDeadlineSeconds", path);
    if (ads && !json_is_null(ads) &&
        (!json_is_integer(ads) || json_integer_value(ads) < 1 ||
         json_integer_value(ads) > ACTIVE_DEADLINE_MAX))
        tri_status_add_cause(st, "FieldValueInvalid", field,
                             "Invalid value: %lld: must be between 1 and 2147483647, inclusive",
                             (long long)json_integer_value(ads));
    const char *sa = json_string_value(json_object_get(spec, "serviceAccountName"));
    const char *msg;
    snprintf(field, sizeof field, "%s.serviceAccountName", path);
    if (sa && sa[0] && (msg = tri_validate_dns1123_subdomain(sa)) != NULL)
        name_cause(st, field, sa, msg);
}

/* ---------- update: what may change ---------- */

static bool tolerations_superset(const json_t *new_tols, const json_t *old_tols)
{
    size_t i, j;
    json_t *o, *n;
    json_array_foreach(old_tols, i, o)
    {
        bool found = false;
        json_array_foreach(new_tols, j, n)
        {
            if (json_equal(o, n)) {
                found = true;
                break;
            }
        }
        if (!found)
            return false;
    }
    return true;
}

/* The new spec with every allowed change undone, so that what remains different
 * from the old spec is forbidden. */
static json_t *spec_without_allowed_changes(const json_t *spec, const json_t *ospec)
{
    json_t *s = json_deep_copy(spec);
    static const char *const lists[] = {"containers", "initContainers"};
    for (size_t l = 0; l < 2; l++) {
        json_t *arr = json_object_get(s, lists[l]);
        json_t *oarr = json_object_get(ospec, lists[l]);
        if (json_array_size(arr) != json_array_size(oarr))
            continue;
        size_t i;
        json_t *c;
        json_array_foreach(arr, i, c)
        {
            json_t *oimg = json_object_get(json_array_get(oarr, i), "image");
            if (json_is_object(c) && oimg)
                json_object_set(c, "image", oimg);
        }
    }
    json_t *ads = json_object_get(s, "activeDeadlineSeconds");
    json_t *oads = json_object_get(ospec, "activeDeadlineSeconds");
    /* activeDeadlineSeconds may be set, or lowered, never raised or removed */
    if (json_is_integer(ads) &&
        (oads == NULL || json_integer_value(ads) <= json_integer_value(oads))) {
        if (oads)
            json_object_set(s, "activeDeadlineSeconds", oads);
        else
            json_object_del(s, "activeDeadlineSeconds");
    }
    json_t *tols = json_object_get(s, "tolerations");
    if (tolerations_superset(tols, json_object_get(ospec, "tolerations"))) {
        json_t *ot = json_object_get(ospec, "tolerations");
        if (ot)
            json_object_set(s, "tolerations", ot);
        else
            json_object_del(s, "tolerations");
    }
    json_t *tgp = json_object_get(s, "terminationGracePeriodSeconds");
    json_t *otgp = json_object_get(ospec, "terminationGracePeriodSeconds");
    if (json_integer_value(tgp) == 1 && json_is_integer(otgp) && json_integer_value(otgp) < 0)
        json_object_set(s, "terminationGracePeriodSeconds", otgp);
    /* spec.nodeName is set once by the binding subresource (its own write path in
     * Kubernetes); an unbound pod's update may carry it */
    if (str(ospec, "nodeName")[0] == '\0')
        json_object_del(s, "nodeName");
    return s;
}

static void diff_object(const json_t *a, const json_t *b, const char *path, bool descend_lists,
                        tri_status_t *st);

static void diff_key(const json_t *a, const json_t *b, const char *path, const char *k,
                     bool descend_lists, tri_status_t *st)
{
    json_t *va = json_object_get(a, k), *vb = json_object_get(b, k);
    if (json_equal(va, vb))
        return;
    char field[MAX_SHOWN_PATH];
    snprintf(field, sizeof field, "%s.%s", path, k);
    if (descend_lists && json_is_array(va) && json_is_array(vb) &&
        json_array_size(va) == json_array_size(vb)) {
        size_t i;
        json_t *e;
        json_array_foreach(va, i, e)
        {
            char ef[2 * MAX_SHOWN_PATH];
            snprintf(ef, sizeof ef, "%s[%zu]", field, i);
            json_t *eb = json_array_get(vb, i);
            if (json_is_object(e) && json_is_object(eb))
                diff_object(e, eb, ef, false, st);
            else if (!json_equal(e, eb))
                tri_status_add_cause(st, "FieldValueForbidden", ef, "%s", IMMUTABLE_MSG);
        }
        return;
    }
    tri_status_add_cause(st, "FieldValueForbidden", field, "%s", IMMUTABLE_MSG);
}

/* One cause per differing key (per container and key for the container lists). */
static void diff_object(const json_t *a, const json_t *b, const char *path, bool descend_lists,
                        tri_status_t *st)
{
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)a, k, v) diff_key(a, b, path, k, descend_lists, st);
    json_object_foreach((json_t *)b, k, v)
    {
        if (json_object_get(a, k) == NULL)
            diff_key(a, b, path, k, descend_lists, st);
    }
}

static void pod_validate(const json_t *obj, const json_t *old, tri_status_t *st)
{
    const char *name = json_string_value(json_object_get(json_object_get(obj, "metadata"), "name"));
    const char *msg = name ? tri_validate_dns1123_subdomain(name) : NULL;
    if (msg)
        name_cause(st, "metadata.name", name, msg);
    const json_t *spec = json_object_get(obj, "spec");
    tri_pod_spec_validate(spec, "spec", st);
    if (old == NULL || !json_is_object(spec))
        return;
    const json_t *ospec = json_object_get(old, "spec");
    json_t *masked = spec_without_allowed_changes(spec, ospec);
    diff_object(masked, ospec, "spec", true, st);
    json_decref(masked);
}

/* ---------- Table ---------- */

/* The whole row, AGE between RESTARTS and the wide columns as kubectl prints it. */
static const tri_column_t pod_columns[] = {
    {"Name", "string", "name", "Name must be unique within a namespace.", 0},
    {"Ready", "string", "", "The aggregate readiness state of this pod for accepting traffic.", 0},
    {"Status", "string", "", "The aggregate status of the containers in this pod.", 0},
    {"Restarts", "string", "",
     "The number of times the containers in this pod have been restarted and when the last "
     "container in this pod has restarted.",
     0},
    {"Age", "string", "",
     "CreationTimestamp is a timestamp representing the server time when this object was "
     "created.",
     0},
    {"IP", "string", "", "IP address allocated to the pod. Routable at least within the cluster.",
     1},
    {"Node", "string", "", "Name of the node the pod is scheduled on.", 1},
    {"Nominated Node", "string", "",
     "Name of the node the pod is nominated to run on, if it is preempting others.", 1},
    {"Readiness Gates", "string", "", "The readiness gates of the pod.", 1},
};

typedef struct pod_summary {
    char status[128];
    long long restarts;
    char last_restart[32]; /* the latest lastState.terminated.finishedAt (RFC 3339) */
    int ready, total;
} pod_summary_t;

static void note_restart(pod_summary_t *s, const json_t *cs)
{
    s->restarts += json_integer_value(json_object_get(cs, "restartCount"));
    json_t *term = json_object_get(json_object_get(cs, "lastState"), "terminated");
    const char *t = json_string_value(json_object_get(term, "finishedAt"));
    /* same-format UTC timestamps order as strings */
    if (t && strlen(t) < sizeof s->last_restart && strcmp(t, s->last_restart) > 0)
        snprintf(s->last_restart, sizeof s->last_restart, "%s", t);
}

static bool is_sidecar(const json_t *spec, const char *name)
{
    size_t i;
    json_t *c;
    json_array_foreach(json_object_get(spec, "initContainers"), i, c)
    {
        if (strcmp(str(c, "name"), name) == 0)
            return strcmp(str(c, "restartPolicy"), "Always") == 0;
    }
    return false;
}

/* Init containers: "Init:N/M", "Init:<reason>", or nothing once all are done. */
static bool init_status(const json_t *spec, const json_t *status, pod_summary_t *s)
{
    json_t *list = json_object_get(status, "initContainerStatuses");
    size_t n = json_array_size(json_object_get(spec, "initContainers"));
    size_t i;
    json_t *cs;
    bool initializing = false;
    json_array_foreach(list, i, cs)
    {
        note_restart(s, cs);
        json_t *state = json_object_get(cs, "state");
        json_t *term = json_object_get(state, "terminated");
        json_t *wait = json_object_get(state, "waiting");
        bool sidecar = is_sidecar(spec, str(cs, "name"));
        if (sidecar) {
            s->total++;
            if (json_is_true(json_object_get(cs, "ready")))
                s->ready++;
        }
        if (initializing)
            continue;
        if (term && json_integer_value(json_object_get(term, "exitCode")) == 0)
            continue;
        if (sidecar && json_object_get(state, "running") &&
            json_is_true(json_object_get(cs, "started")))
            continue;
        if (term) {
            const char *r = str(term, "reason");
            long long sig = json_integer_value(json_object_get(term, "signal"));
            if (r[0])
                snprintf(s->status, sizeof s->status, "Init:%s", r);
            else if (sig)
                snprintf(s->status, sizeof s->status, "Init:Signal:%lld", sig);
            else
                snprintf(s->status, sizeof s->status, "Init:ExitCode:%lld",
                         (long long)json_integer_value(json_object_get(term, "exitCode")));
        } else if (wait && str(wait, "reason")[0] &&
                   strcmp(str(wait, "reason"), "PodInitializing") != 0) {
            snprintf(s->status, sizeof s->status, "Init:%s", str(wait, "reason"));
        } else {
            snprintf(s->status, sizeof s->status, "Init:%zu/%zu", i, n);
        }
        initializing = true;
    }
    return initializing;
}

static bool condition_true(const json_t *status, const char *type)
{
    size_t i;
    json_t *c;
    json_array_foreach(json_object_get(status, "conditions"), i, c)
    {
        if (strcmp(str(c, "type"), type) == 0)
            return strcmp(str(c, "status"), "True") == 0;
    }
    return false;
}

static void container_status(const json_t *status, pod_summary_t *s)
{
    json_t *list = json_object_get(status, "containerStatuses");
    bool running = false;
    s->restarts = 0; /* kubectl counts the regular containers' restarts once init is done */
    for (size_t k = json_array_size(list); k > 0; k--) {
        json_t *cs = json_array_get(list, k - 1);
        note_restart(s, cs);
        json_t *state = json_object_get(cs, "state");
        json_t *term = json_object_get(state, "terminated");
        json_t *wait = json_object_get(state, "waiting");
        if (wait && str(wait, "reason")[0]) {
            snprintf(s->status, sizeof s->status, "%s", str(wait, "reason"));
        } else if (term && str(term, "reason")[0]) {
            snprintf(s->status, sizeof s->status, "%s", str(term, "reason"));
        } else if (term) {
            long long sig = json_integer_value(json_object_get(term, "signal"));
            if (sig)
                snprintf(s->status, sizeof s->status, "Signal:%lld", sig);
            else
                snprintf(s->status, sizeof s->status, "ExitCode:%lld",
                         (long long)json_integer_value(json_object_get(term, "exitCode")));
        } else if (json_object_get(state, "running") &&
                   json_is_true(json_object_get(cs, "ready"))) {
            running = true;
            s->ready++;
        }
    }
    if (strcmp(s->status, "Completed") == 0 && running)
        snprintf(s->status, sizeof s->status, "%s",
                 condition_true(status, "Ready") ? "Running" : "NotReady");
}

static void summarize(const json_t *obj, pod_summary_t *s)
{
    const json_t *spec = json_object_get(obj, "spec");
    const json_t *status = json_object_get(obj, "status");
    memset(s, 0, sizeof *s);
    s->total = (int)json_array_size(json_object_get(spec, "containers"));
    const char *phase = str(status, "phase");
    const char *reason = str(status, "reason");
    snprintf(s->status, sizeof s->status, "%s", reason[0] ? reason : phase);
    if (!init_status(spec, status, s))
        container_status(status, s);
    const json_t *meta = json_object_get(obj, "metadata");
    if (json_object_get(meta, "deletionTimestamp") != NULL)
        snprintf(s->status, sizeof s->status, "%s",
                 strcmp(reason, "NodeLost") == 0 ? "Unknown" : "Terminating");
}

static const char *or_none(const char *s)
{
    return s && s[0] ? s : "<none>";
}

static json_t *pod_cells(const json_t *obj)
{
    pod_summary_t s;
    summarize(obj, &s);
    const json_t *spec = json_object_get(obj, "spec");
    const json_t *status = json_object_get(obj, "status");
    char ready[32], restarts[64], gates[32], age[32];
    snprintf(ready, sizeof ready, "%d/%d", s.ready, s.total);
    if (s.restarts > 0 && s.last_restart[0]) {
        char ago[32];
        tri_table_age(s.last_restart, ago, sizeof ago);
        snprintf(restarts, sizeof restarts, "%lld (%s ago)", s.restarts, ago);
    } else {
        snprintf(restarts, sizeof restarts, "%lld", s.restarts);
    }
    json_t *rg = json_object_get(spec, "readinessGates");
    if (json_array_size(rg) == 0) {
        snprintf(gates, sizeof gates, "<none>");
    } else {
        size_t met = 0, i;
        json_t *g;
        json_array_foreach(rg, i, g)
        {
            if (condition_true(status, str(g, "conditionType")))
                met++;
        }
        snprintf(gates, sizeof gates, "%zu/%zu", met, json_array_size(rg));
    }
    const char *ip = str(status, "podIP");
    if (ip[0] == '\0')
        ip = str(json_array_get(json_object_get(status, "podIPs"), 0), "ip");
    const json_t *meta = json_object_get(obj, "metadata");
    tri_table_age(json_string_value(json_object_get(meta, "creationTimestamp")), age, sizeof age);
    return json_pack("[s, s, s, s, s, s, s, s, s]", str(meta, "name"), ready, s.status, restarts,
                     age, or_none(ip), or_none(str(spec, "nodeName")),
                     or_none(str(status, "nominatedNodeName")), gates);
}

/* Pods have no metadata.generation in 1.32 (it came with PodGeneration in 1.33). */
const tri_resource_t tri_res_pods = {
    /* volumes (with the service-account projection, a third of a small pod) are read
     * by neither the Table cells nor any field selector */
    .lean_skip = {"volumes"},
    .group = "",
    .version = "v1",
    .kind = "Pod",
    .list_kind = "PodList",
    .plural = "pods",
    .singular = "pod",
    .short_names = {"po"},
    .categories = {"all"},
    .namespaced = true,
    .has_status = true,
    .table_all_columns = true,
    .columns = pod_columns,
    .n_columns = sizeof pod_columns / sizeof pod_columns[0],
    .cells = pod_cells,
    .validate = pod_validate,
    .prepare = pod_prepare,
    .fields = {"spec.nodeName", "spec.restartPolicy", "spec.schedulerName",
               "spec.serviceAccountName", "spec.hostNetwork", "status.phase", "status.podIP",
               "status.nominatedNodeName"},
    .known_fields = {"spec", "status"},
    .subresources = {"binding", "eviction", "log", "exec", "attach", "portforward"},
    .has_generation = false,
    .graceful_delete = true,
};
