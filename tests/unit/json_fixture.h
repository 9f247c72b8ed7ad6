/* JSON helpers for unit tests: parse a literal (exit on a typo in the test) and
 * read a value at a dotted path. */
#ifndef TRIARCH_TESTS_JSON_FIXTURE_H
#define TRIARCH_TESTS_JSON_FIXTURE_H

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static inline json_t *parse(const char *s)
{
    json_error_t err;
    json_t *o = json_loads(s, JSON_DECODE_ANY, &err);
    if (o == NULL) {
        fprintf(stderr, "bad test JSON: %s: %s\n", err.text, s);
        exit(1);
    }
    return o;
}

/* Value at a dotted path, array indices as numbers ("spec.containers.0.name"). */
static inline json_t *at(const json_t *o, const char *path)
{
    char buf[256];
    snprintf(buf, sizeof buf, "%s", path);
    json_t *cur = (json_t *)o;
    for (char *tok = strtok(buf, "."); tok && cur; tok = strtok(NULL, "."))
        cur =
            json_is_array(cur) ? json_array_get(cur, (size_t)atoi(tok)) : json_object_get(cur, tok);
    return cur;
}

static inline const char *sat(const json_t *o, const char *path)
{
    return json_string_value(at(o, path));
}

#endif
