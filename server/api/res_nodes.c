/* core/v1 Nodes (cluster-scoped, with a status subresource). Agents register
 * them; until agents exist the list is empty, and `kubectl get nodes` says so.
 * Table columns as kubectl prints them: STATUS from the Ready condition (plus
 * SchedulingDisabled when cordoned), ROLES from node-role.kubernetes.io labels,
 * VERSION from the kubelet version, wide: addresses and node info. */
#include <stdio.h>
#include <string.h>

#include "resources.h"
#include "triarch/codec.h"

static const tri_column_t node_columns[] = {
    {"Status", "string", "", "The status of the node", 0},
    {"Roles", "string", "", "The roles of the node", 0},
    {"Version", "string", "", "Kubelet Version reported by the node.", 0},
    {"Internal-IP", "string", "", "List of internal IPs for the node.", 1},
    {"External-IP", "string", "", "List of external IPs for the node.", 1},
    {"OS-Image", "string", "", "OS image reported by the node.", 1},
    {"Kernel-Version", "string", "", "Kernel version reported by the node.", 1},
    {"Container-Runtime", "string", "", "Container runtime and version.", 1},
};

static const char *node_ready(const json_t *status)
{
    size_t i;
    json_t *c;
    json_array_foreach(json_object_get(status, "conditions"), i, c) {
        const char *type = json_string_value(json_object_get(c, "type"));
        const char *st = json_string_value(json_object_get(c, "status"));
        if (type && strcmp(type, "Ready") == 0)
            return st && strcmp(st, "True") == 0 ? "Ready" : "NotReady";
    }
    return "Unknown";
}

static void node_roles(const json_t *labels, char *out, size_t len)
{
    static const char prefix[] = "node-role.kubernetes.io/";
    out[0] = '\0';
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)labels, k, v) {
        if (strncmp(k, prefix, sizeof prefix - 1) != 0 || k[sizeof prefix - 1] == '\0')
            continue;
        size_t n = strlen(out);
        snprintf(out + n, len - n, "%s%s", n ? "," : "", k + sizeof prefix - 1);
    }
    if (out[0] == '\0')
        snprintf(out, len, "<none>");
}

static const char *address(const json_t *status, const char *type)
{
    size_t i;
    json_t *a;
    json_array_foreach(json_object_get(status, "addresses"), i, a) {
        const char *t = json_string_value(json_object_get(a, "type"));
        if (t && strcmp(t, type) == 0)
            return json_string_value(json_object_get(a, "address"));
    }
    return "<none>";
}

static const char *info(const json_t *status, const char *k)
{
    const char *s = json_string_value(json_object_get(json_object_get(status, "nodeInfo"), k));
    return s && s[0] ? s : "<unknown>";
}

static json_t *node_cells(const json_t *obj)
{
    const json_t *status = json_object_get(obj, "status");
    char st[64], roles[256];
    snprintf(st, sizeof st, "%s%s", node_ready(status),
             json_is_true(json_object_get(json_object_get(obj, "spec"), "unschedulable"))
                 ? ",SchedulingDisabled"
                 : "");
    node_roles(json_object_get(json_object_get(obj, "metadata"), "labels"), roles, sizeof roles);
    const char *ver = json_string_value(
        json_object_get(json_object_get(status, "nodeInfo"), "kubeletVersion"));
    return json_pack("[s, s, s, s, s, s, s, s]", st, roles, ver ? ver : "", address(status, "InternalIP"),
                     address(status, "ExternalIP"), info(status, "osImage"),
                     info(status, "kernelVersion"), info(status, "containerRuntimeVersion"));
}

static void node_validate(const json_t *obj, const json_t *old, tri_status_t *st)
{
    const char *name = json_string_value(json_object_get(json_object_get(obj, "metadata"), "name"));
    const char *msg = name ? tri_validate_dns1123_subdomain(name) : NULL;
    if (msg)
        tri_status_add_cause(st, "FieldValueInvalid", "metadata.name", "Invalid value: \"%s\": %s",
                             name, msg);
}

const tri_resource_t tri_res_nodes = {
    .group = "",
    .version = "v1",
    .kind = "Node",
    .list_kind = "NodeList",
    .plural = "nodes",
    .singular = "node",
    .short_names = {"no"},
    .namespaced = false,
    .has_status = true,
    .columns = node_columns,
    .n_columns = 8,
    .cells = node_cells,
    .validate = node_validate,
    .fields = {"spec.unschedulable"},
    .known_fields = {"spec", "status"},
};
