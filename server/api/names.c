/* Name and label validation with Kubernetes' exact wording.
 *
 * The API server answers an invalid name with a 422 whose message users and tools
 * compare against what a real apiserver says, so the messages below are Kubernetes'
 * own (k8s.io/apimachinery/pkg/util/validation), including the double space its
 * RegexError puts between examples. Each validator returns the first problem found
 * as a static string (Kubernetes may list several; the first is the one users see
 * first), or NULL when the value is valid. The matching is hand-written, not a regex
 * engine, so it is linear and safe on any input.
 */
#include <stdbool.h>
#include <string.h>

#include "triarch/codec.h"

/* Length limits from RFC 1123 and Kubernetes' validation package. */
#define DNS1123_LABEL_MAX 63
#define DNS1123_SUBDOMAIN_MAX 253
#define QUALIFIED_NAME_MAX 63
#define LABEL_VALUE_MAX 63

#define SUBDOMAIN_MSG                                                                              \
    "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or "   \
    "'.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used "  \
    "for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')"
#define LABEL_MSG                                                                                  \
    "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and "   \
    "must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex "     \
    "used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')"
#define QNAME_RULE                                                                                 \
    "must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an "    \
    "alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for "         \
    "validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')"
#define LABEL_VALUE_MSG                                                                            \
    "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or "    \
    "'.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or "             \
    "'my_value',  or '12345', regex used for validation is "                                       \
    "'(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')"

static bool is_lower_alnum(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

static bool is_alnum(char c)
{
    return is_lower_alnum(c) || (c >= 'A' && c <= 'Z');
}

/* [a-z0-9]([-a-z0-9]*[a-z0-9])? over s[0..n) */
static bool match_label(const char *s, size_t n)
{
    if (n == 0 || !is_lower_alnum(s[0]) || !is_lower_alnum(s[n - 1]))
        return false;
    for (size_t i = 1; i + 1 < n; i++) {
        if (!is_lower_alnum(s[i]) && s[i] != '-')
            return false;
    }
    return true;
}

/* label(\.label)* over s[0..n) */
static bool match_subdomain(const char *s, size_t n)
{
    size_t start = 0;
    for (size_t i = 0; i <= n; i++) {
        if (i == n || s[i] == '.') {
            if (!match_label(s + start, i - start))
                return false;
            start = i + 1;
        }
    }
    return true;
}

/* ([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9] over s[0..n) */
static bool match_qname(const char *s, size_t n)
{
    if (n == 0 || !is_alnum(s[0]) || !is_alnum(s[n - 1]))
        return false;
    for (size_t i = 1; i + 1 < n; i++) {
        if (!is_alnum(s[i]) && s[i] != '-' && s[i] != '_' && s[i] != '.')
            return false;
    }
    return true;
}

const char *tri_validate_dns1123_subdomain(const char *s)
{
    size_t n = strlen(s);
    if (n > DNS1123_SUBDOMAIN_MAX)
        return "must be no more than 253 characters";
    if (!match_subdomain(s, n))
        return SUBDOMAIN_MSG;
    return NULL;
}

const char *tri_validate_dns1123_label(const char *s)
{
    size_t n = strlen(s);
    if (n > DNS1123_LABEL_MAX)
        return "must be no more than 63 characters";
    if (!match_label(s, n)) {
        /* A valid subdomain that is not a label can only have failed on dots. */
        if (match_subdomain(s, n))
            return "must not contain dots";
        return LABEL_MSG;
    }
    return NULL;
}

const char *tri_validate_qualified_name(const char *s)
{
    const char *slash = strchr(s, '/');
    const char *name = s;
    if (slash) {
        if (strchr(slash + 1, '/'))
            return "a qualified name " QNAME_RULE " with an optional DNS subdomain prefix and "
                   "'/' (e.g. 'example.com/MyName')";
        size_t plen = (size_t)(slash - s);
        if (plen == 0)
            return "prefix part must be non-empty";
        if (plen > DNS1123_SUBDOMAIN_MAX)
            return "prefix part must be no more than 253 characters";
        if (!match_subdomain(s, plen))
            return "prefix part " SUBDOMAIN_MSG;
        name = slash + 1;
    }
    size_t n = strlen(name);
    if (n == 0)
        return "name part must be non-empty";
    if (n > QUALIFIED_NAME_MAX)
        return "name part must be no more than 63 characters";
    if (!match_qname(name, n))
        return "name part " QNAME_RULE;
    return NULL;
}

const char *tri_validate_label_value(const char *s)
{
    size_t n = strlen(s);
    if (n > LABEL_VALUE_MAX)
        return "must be no more than 63 characters";
    if (n > 0 && !match_qname(s, n))
        return LABEL_VALUE_MSG;
    return NULL;
}
