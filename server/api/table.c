/* meta.k8s.io/v1 Tables: what `kubectl get` prints. The server formats every
 * cell (kubectl prints them verbatim), AGE included, with apimachinery's
 * HumanDuration rules, and each row carries the object's metadata as a
 * PartialObjectMetadata. */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "triarch/api.h"

/* apimachinery/pkg/util/duration.HumanDuration */
void tri_human_duration(long long s, char *out, size_t len)
{
    if (s < -1) {
        snprintf(out, len, "<invalid>");
        return;
    }
    if (s < 0)
        s = 0;
    long long m = s / 60, h = s / 3600, d = h / 24, y = d / 365;
    if (s < 120)
        snprintf(out, len, "%llds", s);
    else if (m < 10 && s % 60)
        snprintf(out, len, "%lldm%llds", m, s % 60);
    else if (m < 180)
        snprintf(out, len, "%lldm", m);
    else if (h < 8 && m % 60)
        snprintf(out, len, "%lldh%lldm", h, m % 60);
    else if (h < 48)
        snprintf(out, len, "%lldh", h);
    else if (h < 24 * 8 && h % 24)
        snprintf(out, len, "%lldd%lldh", d, h % 24);
    else if (h < 24 * 365 * 2)
        snprintf(out, len, "%lldd", d);
    else if (h < 24 * 365 * 8 && d % 365)
        snprintf(out, len, "%lldy%lldd", y, d % 365);
    else
        snprintf(out, len, "%lldy", y);
}

void tri_table_age(const char *ts, char *out, size_t len)
{
    struct tm tm = {0};
    if (ts == NULL || strptime(ts, "%Y-%m-%dT%H:%M:%SZ", &tm) == NULL) {
        snprintf(out, len, "<unknown>");
        return;
    }
    time_t t = timegm(&tm);
    tri_human_duration((long long)(time(NULL) - t), out, len);
}

static void age_of(const json_t *obj, char *out, size_t len)
{
    tri_table_age(json_string_value(
                      json_object_get(json_object_get(obj, "metadata"), "creationTimestamp")),
                  out, len);
}

static json_t *column_defs(const tri_resource_t *r)
{
    json_t *cols = json_array();
    if (!r->table_all_columns)
        json_array_append_new(cols, json_pack("{s:s, s:s, s:s, s:s, s:i}", "name", "Name", "type",
                                          "string", "format", "name", "description",
                                          "Name must be unique within a namespace.", "priority",
                                          0));
    for (size_t i = 0; i < r->n_columns; i++) {
        const tri_column_t *c = &r->columns[i];
        json_array_append_new(cols, json_pack("{s:s, s:s, s:s, s:s, s:i}", "name", c->name,
                                              "type", c->type, "format", c->format,
                                              "description", c->description, "priority",
                                              c->priority));
    }
    if (!r->table_all_columns)
        json_array_append_new(cols, json_pack("{s:s, s:s, s:s, s:s, s:i}", "name", "Age", "type",
                                          "string", "format", "", "description",
                                          "CreationTimestamp is a timestamp representing the "
                                          "server time when this object was created.",
                                          "priority", 0));
    return cols;
}

/* A row's cells: NAME, the resource's columns, AGE (new reference). */
static json_t *cells_of(const tri_resource_t *r, const json_t *obj)
{
    json_t *cells = json_array();
    json_t *name = json_object_get(json_object_get(obj, "metadata"), "name");
    if (!r->table_all_columns)
        json_array_append_new(cells, name ? json_incref(name) : json_string(""));
    if (r->cells) {
        json_t *extra = r->cells(obj);
        json_array_extend(cells, extra);
        json_decref(extra);
    }
    char age[32];
    age_of(obj, age, sizeof age);
    if (!r->table_all_columns)
        json_array_append_new(cells, json_string(age));
    return cells;
}

static json_t *row_for(const tri_resource_t *r, const json_t *obj)
{
    json_t *meta = json_object_get(obj, "metadata");
    json_t *cells = cells_of(r, obj);
    /* the row's metadata without managedFields: kubectl never prints them from a
     * Table, and they are most of the bytes of a row */
    json_t *m = json_is_object(meta) ? json_copy(meta) : json_object();
    json_object_del(m, "managedFields");
    json_t *pom = json_pack("{s:s, s:s, s:o}", "kind", "PartialObjectMetadata", "apiVersion",
                            "meta.k8s.io/v1", "metadata", m);
    return json_pack("{s:o, s:o}", "cells", cells, "object", pom);
}

static int dump_to_buf(const char *data, size_t size, void *b)
{
    return tri_buf_append(b, data, size) == 0 ? 0 : -1;
}

/* A row written straight into rows: the object's parse tree is the caller's
 * scratch copy, so its managedFields are dropped in place rather than copying the
 * metadata. Objects are freed right after, which keeps a list's peak memory at one
 * object and lets malloc reuse the same chunks (freeing 10,000 trees at the end
 * cost as much as parsing them). */
void tri_table_row_append(const tri_resource_t *r, json_t *obj, tri_buf_t *rows)
{
    json_t *meta = json_object_get(obj, "metadata");
    json_t *cells = cells_of(r, obj);
    if (rows->len)
        tri_buf_append(rows, ",", 1);
    tri_buf_appendf(rows, "{\"cells\":");
    json_dump_callback(cells, dump_to_buf, rows, JSON_COMPACT);
    json_decref(cells);
    tri_buf_appendf(rows, ",\"object\":{\"kind\":\"PartialObjectMetadata\","
                          "\"apiVersion\":\"meta.k8s.io/v1\",\"metadata\":");
    if (json_is_object(meta)) {
        json_object_del(meta, "managedFields");
        json_dump_callback(meta, dump_to_buf, rows, JSON_COMPACT);
    } else {
        tri_buf_append(rows, "{}", 2);
    }
    tri_buf_append(rows, "}}", 2);
}

void tri_table_render(const tri_resource_t *r, const json_t *list_meta, const tri_buf_t *rows,
                      tri_buf_t *out)
{
    tri_buf_appendf(out, "{\"kind\":\"Table\",\"apiVersion\":\"meta.k8s.io/v1\",\"metadata\":");
    if (list_meta)
        json_dump_callback(list_meta, dump_to_buf, out, JSON_COMPACT);
    else
        tri_buf_append(out, "{}", 2);
    tri_buf_appendf(out, ",\"columnDefinitions\":");
    json_t *cols = column_defs(r);
    json_dump_callback(cols, dump_to_buf, out, JSON_COMPACT);
    json_decref(cols);
    tri_buf_appendf(out, ",\"rows\":[");
    tri_buf_reserve(out, rows->len + 2);
    tri_buf_append(out, rows->data, rows->len);
    tri_buf_append(out, "]}", 2);
}

json_t *tri_table_for_object(const tri_resource_t *r, const json_t *obj)
{
    json_t *rv = json_object_get(json_object_get(obj, "metadata"), "resourceVersion");
    json_t *meta = json_object();
    if (rv)
        json_object_set(meta, "resourceVersion", rv);
    json_t *rows = json_array();
    json_array_append_new(rows, row_for(r, obj));
    return json_pack("{s:s, s:s, s:o, s:o, s:o}", "kind", "Table", "apiVersion",
                     "meta.k8s.io/v1", "metadata", meta, "columnDefinitions", column_defs(r),
                     "rows", rows);
}
