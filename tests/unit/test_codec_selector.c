/* Unit tests for label/field selectors (server/api/selector.c) and the name
 * validators (server/api/names.c): parse and match tables, Kubernetes' error
 * messages, escaping rules. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "triarch/codec.h"

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "%s:%d: expected %s\n", __FILE__, __LINE__, #cond);                   \
            exit(1);                                                                               \
        }                                                                                          \
    } while (0)

static char err[512];

/* labels as JSON text; expect 1 match, 0 no match */
static void label_case(const char *sel, const char *labels, int expect)
{
    tri_selector_t *s = NULL;
    err[0] = '\0';
    int rc = tri_label_selector_parse(sel, &s, err, sizeof err);
    if (rc != 0) {
        fprintf(stderr, "selector '%s' failed to parse: %s\n", sel, err);
        exit(1);
    }
    json_t *l = labels ? json_loads(labels, 0, NULL) : NULL;
    bool m = tri_label_selector_match(s, l);
    if ((int)m != expect) {
        fprintf(stderr, "selector '%s' on %s: expected %d\n", sel, labels ? labels : "NULL",
                expect);
        exit(1);
    }
    json_decref(l);
    tri_selector_free(s);
}

static void label_error(const char *sel, const char *msg_part)
{
    tri_selector_t *s = NULL;
    err[0] = '\0';
    int rc = tri_label_selector_parse(sel, &s, err, sizeof err);
    if (rc == 0 || s || !strstr(err, msg_part)) {
        fprintf(stderr, "selector '%s': expected error with '%s', got rc %d '%s'\n", sel,
                msg_part, rc, err);
        exit(1);
    }
}

static void test_labels(void)
{
    const char *L = "{\"app\":\"web\",\"tier\":\"front\",\"n\":\"5\"}";
    label_case("", L, 1);
    label_case("", NULL, 1);
    label_case("app=web", L, 1);
    label_case("app==web", L, 1);
    label_case("app = web", L, 1);
    label_case("app=db", L, 0);
    label_case("app!=db", L, 1);
    label_case("app!=web", L, 0);
    label_case("missing!=x", L, 1);
    label_case("app in (db, web)", L, 1);
    label_case("app in (db)", L, 0);
    label_case("app notin (db)", L, 1);
    label_case("missing notin (db)", L, 1);
    label_case("app notin (web,db)", L, 0);
    label_case("app", L, 1);
    label_case("missing", L, 0);
    label_case("!missing", L, 1);
    label_case("!app", L, 0);
    label_case("app=web,tier=front", L, 1);
    label_case("app=web, tier=back", L, 0);
    label_case("  app=web ,\ttier in (front)  ", L, 1);
    label_case("n>4", L, 1);
    label_case("n<5", L, 0);
    label_case("app=web", NULL, 0);
    label_case("x in (in, notin)", "{\"x\":\"in\"}", 1);
    label_case("x=", "{\"x\":\"\"}", 1);
    label_case("x in (,a)", "{\"x\":\"\"}", 1);
    label_case("example.com/app=web", "{\"example.com/app\":\"web\"}", 1);
    tri_selector_t *s = NULL;
    CHECK(tri_label_selector_parse("", &s, err, sizeof err) == 0 && tri_selector_empty(s));
    tri_selector_free(s);
    CHECK(tri_label_selector_parse("a", &s, err, sizeof err) == 0 && !tri_selector_empty(s));
    tri_selector_free(s);

    label_error("=web", "found '=', expected: !, identifier, or 'end of string'");
    label_error("app=web,", "identifier after ','");
    label_error("app in web", "expected: '('");
    label_error("app in (a b)", "expected: ',' or ')'");
    label_error("app web", "found 'web', expected: in, notin, =, ==, !=, gt, lt");
    label_error("app=web tier=x", "expected: ',' or 'end of string'");
    label_error("-app=x", "name part must consist of alphanumeric characters");
    label_error("app=-x", "a valid label must be an empty string");
    label_error("a/b/c=x", "a qualified name must consist");
    label_error("n>x", "must be an integer");
    label_error("!app=x", "expected: ',' or 'end of string'");
}

static void test_labels_empty_value_ok(void)
{
    label_case("app=", "{\"app\":\"\"}", 1);
}

static void field_case(const char *sel, const char *obj, int expect)
{
    tri_selector_t *s = NULL;
    err[0] = '\0';
    if (tri_field_selector_parse(sel, &s, err, sizeof err) != 0) {
        fprintf(stderr, "field selector '%s' failed: %s\n", sel, err);
        exit(1);
    }
    json_t *o = json_loads(obj, 0, NULL);
    if ((int)tri_field_selector_match(s, o) != expect) {
        fprintf(stderr, "field selector '%s' on %s: expected %d\n", sel, obj, expect);
        exit(1);
    }
    json_decref(o);
    tri_selector_free(s);
}

static void test_fields(void)
{
    const char *P = "{\"metadata\":{\"name\":\"p1\",\"namespace\":\"default\"},"
                    "\"spec\":{\"nodeName\":\"n1\",\"unschedulable\":true,\"replicas\":3},"
                    "\"status\":{\"phase\":\"Running\"},\"weird\":\"a,b=c\\\\d\"}";
    field_case("", P, 1);
    field_case("metadata.name=p1", P, 1);
    field_case("metadata.name==p1", P, 1);
    field_case("metadata.name!=p1", P, 0);
    field_case("metadata.name=p1,metadata.namespace=default", P, 1);
    field_case("metadata.name=p1,metadata.namespace=other", P, 0);
    field_case("status.phase!=Succeeded,status.phase!=Failed", P, 1);
    field_case("spec.nodeName=", P, 0);
    field_case("spec.missing=", P, 1);
    field_case("spec.missing!=", P, 0);
    field_case("spec.unschedulable=true", P, 1);
    field_case("spec.replicas=3", P, 1);
    field_case("weird=a\\,b\\=c\\\\d", P, 1);

    tri_selector_t *s = NULL;
    CHECK(tri_field_selector_parse("spec.nodeName=n1,metadata.name=x", &s, err, sizeof err) == 0);
    const char *names[4];
    CHECK(tri_field_selector_fields(s, names, 4) == 2);
    CHECK(!strcmp(names[0], "metadata.name") && !strcmp(names[1], "spec.nodeName")); /* sorted */
    CHECK(tri_field_selector_fields(s, names, 1) == 2);
    tri_selector_free(s);
    s = NULL;
    CHECK(tri_field_selector_parse("metadata.name", &s, err, sizeof err) != 0 && !s);
    CHECK(strstr(err, "invalid selector: 'metadata.name'; can't understand 'metadata.name'"));
    CHECK(tri_field_selector_parse("a=b=c", &s, err, sizeof err) != 0);
    CHECK(strstr(err, "unescaped character in value"));
    CHECK(tri_field_selector_parse("a=b\\x", &s, err, sizeof err) != 0);
    CHECK(strstr(err, "invalid escape sequence: \\x"));
    CHECK(tri_field_selector_parse("a=b\\", &s, err, sizeof err) != 0);
}

static void test_names(void)
{
    CHECK(tri_validate_dns1123_subdomain("example.com") == NULL);
    CHECK(tri_validate_dns1123_subdomain("a") == NULL);
    const char *m = tri_validate_dns1123_subdomain("Example.com");
    CHECK(m && !strcmp(m, "a lowercase RFC 1123 subdomain must consist of lower case "
                          "alphanumeric characters, '-' or '.', and must start and end with an "
                          "alphanumeric character (e.g. 'example.com', regex used for validation "
                          "is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')"));
    CHECK(tri_validate_dns1123_subdomain("a..b") != NULL);
    CHECK(tri_validate_dns1123_subdomain("-a") != NULL);
    CHECK(tri_validate_dns1123_subdomain("") != NULL);
    char big[300];
    memset(big, 'a', 254);
    big[254] = '\0';
    CHECK(!strcmp(tri_validate_dns1123_subdomain(big), "must be no more than 253 characters"));
    CHECK(tri_validate_dns1123_label("my-name") == NULL);
    CHECK(!strcmp(tri_validate_dns1123_label("a.b"), "must not contain dots"));
    m = tri_validate_dns1123_label("a_b");
    CHECK(m && strstr(m, "(e.g. 'my-name',  or '123-abc', regex used for validation is "
                         "'[a-z0-9]([-a-z0-9]*[a-z0-9])?')"));
    big[64] = '\0';
    CHECK(!strcmp(tri_validate_dns1123_label(big), "must be no more than 63 characters"));
    CHECK(tri_validate_qualified_name("app") == NULL);
    CHECK(tri_validate_qualified_name("example.com/My_Name.1") == NULL);
    CHECK(!strcmp(tri_validate_qualified_name("/a"), "prefix part must be non-empty"));
    CHECK(!strcmp(tri_validate_qualified_name("a/"), "name part must be non-empty"));
    CHECK(strstr(tri_validate_qualified_name("Foo/a"), "prefix part a lowercase RFC 1123"));
    CHECK(!strcmp(tri_validate_qualified_name(big), "name part must be no more than 63 characters"));
    CHECK(tri_validate_label_value("") == NULL);
    CHECK(tri_validate_label_value("v1.2_x-y") == NULL);
    CHECK(strstr(tri_validate_label_value("a b"), "'MyValue',  or 'my_value',  or '12345'"));
}

int main(void)
{
    test_labels();
    test_labels_empty_value_ok();
    test_fields();
    test_names();
    printf("codec_selector: all tests passed\n");
    return 0;
}
