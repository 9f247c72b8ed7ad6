/* core/v1 Events: what `kubectl describe` lists under an object (it asks with
 * involvedObject.* field selectors) and `kubectl get events` prints. Their
 * expiry after a TTL comes with the leader loops. */
#include <stdio.h>
#include <string.h>

#include "resources.h"
#include "triarch/codec.h"

/* kubectl's event columns: the whole row (no NAME first, no AGE last). */
static const tri_column_t ev_columns[] = {
    {"Last Seen", "string", "", "Time when this event was last seen", 0},
    {"Type", "string", "", "Type of this event (Normal, Warning)", 0},
    {"Reason", "string", "", "Why the action was taken", 0},
    {"Object", "string", "", "The object this event is about", 0},
    {"Subobject", "string", "", "The subobject (fieldPath) this event is about", 1},
    {"Source", "string", "", "The component reporting this event", 1},
    {"Message", "string", "", "A human-readable description of the status", 0},
    {"First Seen", "string", "", "Time when this event was first seen", 1},
    {"Count", "integer", "", "How many times this event happened", 1},
    {"Name", "string", "name", "The name of the event", 1},
};

static const char *str_at(const json_t *o, const char *k)
{
    const char *s = json_string_value(json_object_get(o, k));
    return s ? s : "";
}

static const char *first_time(const json_t *obj, const char *const *keys)
{
    for (; *keys; keys++) {
        const char *s = json_string_value(json_object_get(obj, *keys));
        if (s && s[0])
            return s;
    }
    return json_string_value(json_object_get(json_object_get(obj, "metadata"),
                                             "creationTimestamp"));
}

static json_t *ev_cells(const json_t *obj)
{
    const json_t *io = json_object_get(obj, "involvedObject");
    char object[512], kind[128], last[32], first[32];
    snprintf(kind, sizeof kind, "%s", str_at(io, "kind"));
    for (char *c = kind; *c; c++)
        *c = (char)(*c >= 'A' && *c <= 'Z' ? *c + 32 : *c);
    snprintf(object, sizeof object, "%s/%s", kind, str_at(io, "name"));
    static const char *const last_keys[] = {"lastTimestamp", "eventTime", NULL};
    static const char *const first_keys[] = {"firstTimestamp", "eventTime", NULL};
    tri_table_age(first_time(obj, last_keys), last, sizeof last);
    tri_table_age(first_time(obj, first_keys), first, sizeof first);
    const json_t *src = json_object_get(obj, "source");
    json_int_t count = json_integer_value(json_object_get(obj, "count"));
    return json_pack("[s, s, s, s, s, s, s, s, I, s]", last, str_at(obj, "type"),
                     str_at(obj, "reason"), object, str_at(io, "fieldPath"),
                     str_at(src, "component"), str_at(obj, "message"), first,
                     count ? count : 1,
                     str_at(json_object_get(obj, "metadata"), "name"));
}

static void ev_validate(const json_t *obj, const json_t *old, tri_status_t *st)
{
    const char *name = json_string_value(json_object_get(json_object_get(obj, "metadata"), "name"));
    const char *msg = name ? tri_validate_dns1123_subdomain(name) : NULL;
    if (msg)
        tri_status_add_cause(st, "FieldValueInvalid", "metadata.name", "Invalid value: \"%s\": %s",
                             name, msg);
    json_t *io = json_object_get(obj, "involvedObject");
    if (io != NULL && !json_is_object(io))
        tri_status_add_cause(st, "FieldValueInvalid", "involvedObject",
                             "Invalid value: must be an object");
}

const tri_resource_t tri_res_events = {
    .group = "",
    .version = "v1",
    .kind = "Event",
    .list_kind = "EventList",
    .plural = "events",
    .singular = "event",
    .short_names = {"ev"},
    .namespaced = true,
    .table_all_columns = true,
    .columns = ev_columns,
    .n_columns = sizeof ev_columns / sizeof ev_columns[0],
    .cells = ev_cells,
    .validate = ev_validate,
    .fields = {"involvedObject.kind", "involvedObject.namespace", "involvedObject.name",
               "involvedObject.uid", "involvedObject.apiVersion", "involvedObject.resourceVersion",
               "involvedObject.fieldPath", "reason", "reportingComponent", "source", "type"},
    .known_fields = {"involvedObject", "reason", "message", "source", "firstTimestamp",
                     "lastTimestamp", "count", "type", "eventTime", "series", "action", "related",
                     "reportingComponent", "reportingInstance"},
};
