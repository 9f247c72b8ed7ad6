/* Private to server/api: the small readers and defaulters of JSON objects that the
 * resource rows and admission plugins all use. */
#ifndef TRIARCH_API_JSONUTIL_H
#define TRIARCH_API_JSONUTIL_H

#include <jansson.h>

/* o[k] as a string; "" when absent or not a string. */
static inline const char *str(const json_t *o, const char *k)
{
    const char *s = json_string_value(json_object_get(o, k));
    return s ? s : "";
}

/* o[k], made an empty object first when it is absent or not an object. */
static inline json_t *child_object(json_t *o, const char *k)
{
    json_t *c = json_object_get(o, k);
    if (!json_is_object(c)) {
        c = json_object();
        json_object_set_new(o, k, c);
    }
    return c;
}

/* o[k] = v when o[k] is absent or "". */
static inline void default_str(json_t *o, const char *k, const char *v)
{
    if (str(o, k)[0] == '\0')
        json_object_set_new(o, k, json_string(v));
}

#endif
