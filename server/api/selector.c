/* Label and field selectors (the labelSelector and fieldSelector query parameters).
 *
 * One opaque type, tri_selector_t, holds either kind: a conjunction of requirements,
 * each a key, an operator and its values. The label grammar and its error messages
 * follow k8s.io/apimachinery/pkg/labels: the string is first cut into tokens
 * (identifiers, the keywords in/notin, and the symbols = == != ! ( ) , > <), then a
 * recursive-descent parser reads requirements separated by commas; keys must be
 * qualified names and values label values, as the apiserver checks them. Field
 * selectors follow pkg/fields: terms split on unescaped commas, sorted, each
 * `field=value`, `field==value` or `field!=value` with \\ \, \= escapes in the value.
 */
#include "codec_internal.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "triarch/codec.h"

/* Longest selector string accepted; far above anything a client sends, and it keeps
 * the token array small. */
#define SELECTOR_MAX_LEN (64 * 1024)

typedef enum op {
    OP_EQ,
    OP_NEQ,
    OP_IN,
    OP_NOTIN,
    OP_EXISTS,
    OP_NOT_EXISTS,
    OP_GT,
    OP_LT,
} op_t;

typedef struct req {
    char *key;
    op_t op;
    char **values;
    size_t nvalues;
} req_t;

struct tri_selector {
    bool field;
    req_t *reqs;
    size_t n, cap;
};

/* ---------- requirements ---------- */

static void req_free(req_t *r)
{
    free(r->key);
    for (size_t i = 0; i < r->nvalues; i++)
        free(r->values[i]);
    free(r->values);
}

void tri_selector_free(tri_selector_t *sel)
{
    if (!sel)
        return;
    for (size_t i = 0; i < sel->n; i++)
        req_free(&sel->reqs[i]);
    free(sel->reqs);
    free(sel);
}

bool tri_selector_empty(const tri_selector_t *sel)
{
    return !sel || sel->n == 0;
}

static req_t *sel_add(tri_selector_t *sel)
{
    if (sel->n == sel->cap) {
        size_t cap = sel->cap ? sel->cap * 2 : 4;
        req_t *r = realloc(sel->reqs, cap * sizeof *r);
        if (!r)
            return NULL;
        sel->reqs = r;
        sel->cap = cap;
    }
    req_t *r = &sel->reqs[sel->n++];
    memset(r, 0, sizeof *r);
    return r;
}

/* Adds v to the requirement's value set (a set: duplicates dropped). */
static int req_add_value(req_t *r, const char *v, size_t n)
{
    for (size_t i = 0; i < r->nvalues; i++) {
        if (strlen(r->values[i]) == n && memcmp(r->values[i], v, n) == 0)
            return 0;
    }
    char **vals = realloc(r->values, (r->nvalues + 1) * sizeof *vals);
    if (!vals)
        return TRI_ENOMEM;
    r->values = vals;
    char *dup = strndup(v, n);
    if (!dup)
        return TRI_ENOMEM;
    r->values[r->nvalues++] = dup;
    return 0;
}

static bool req_has_value(const req_t *r, const char *v)
{
    for (size_t i = 0; i < r->nvalues; i++) {
        if (strcmp(r->values[i], v) == 0)
            return true;
    }
    return false;
}

/* ---------- label selector: lexer ---------- */

typedef enum tok {
    T_END,
    T_IDENT,
    T_IN,
    T_NOTIN,
    T_NOT,
    T_EQ,
    T_DEQ,
    T_NEQ,
    T_GT,
    T_LT,
    T_OPEN,
    T_CLOSE,
    T_COMMA,
} tok_t;

typedef struct token {
    tok_t t;
    const char *lit; /* points into the selector string */
    size_t len;
} token_t;

static bool is_ws(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static bool is_special(char c)
{
    return c == '=' || c == '!' || c == '(' || c == ')' || c == ',' || c == '>' || c == '<';
}

static tok_t special_token(const char *s, size_t *len)
{
    *len = 2;
    if (s[0] == '=' && s[1] == '=')
        return T_DEQ;
    if (s[0] == '!' && s[1] == '=')
        return T_NEQ;
    *len = 1;
    switch (s[0]) {
    case '=':
        return T_EQ;
    case '!':
        return T_NOT;
    case '(':
        return T_OPEN;
    case ')':
        return T_CLOSE;
    case ',':
        return T_COMMA;
    case '>':
        return T_GT;
    default:
        return T_LT;
    }
}

/* Cuts s into tokens; the array ends with T_END. At most strlen(s)+1 tokens. */
static token_t *lex(const char *s, size_t *count)
{
    size_t n = strlen(s);
    token_t *toks = calloc(n + 1, sizeof *toks);
    if (!toks)
        return NULL;
    size_t k = 0, i = 0;
    for (;;) {
        while (i < n && is_ws(s[i]))
            i++;
        token_t *t = &toks[k++];
        t->lit = s + i;
        if (i == n) {
            t->t = T_END;
            t->len = 0;
            break;
        }
        if (is_special(s[i])) {
            t->t = special_token(s + i, &t->len);
        } else {
            size_t j = i;
            while (j < n && !is_special(s[j]) && !is_ws(s[j]))
                j++;
            t->len = j - i;
            t->t = T_IDENT;
            if (t->len == 2 && memcmp(t->lit, "in", 2) == 0)
                t->t = T_IN;
            else if (t->len == 5 && memcmp(t->lit, "notin", 5) == 0)
                t->t = T_NOTIN;
        }
        i += t->len;
    }
    *count = k;
    return toks;
}

/* ---------- label selector: parser ---------- */

typedef struct parser {
    token_t *toks;
    size_t pos;
    char *err;
    size_t errlen;
} parser_t;

/* In value position the keywords in/notin are plain identifiers. */
static tok_t value_tok(tok_t t)
{
    return (t == T_IN || t == T_NOTIN) ? T_IDENT : t;
}

static const token_t *peek(parser_t *p)
{
    return &p->toks[p->pos];
}

static const token_t *next(parser_t *p)
{
    const token_t *t = &p->toks[p->pos];
    if (t->t != T_END)
        p->pos++;
    return t;
}

static int syntax_err(parser_t *p, const token_t *t, const char *expected)
{
    tri_codec_errf(p->err, p->errlen, "unable to parse requirement: found '%.*s', expected: %s",
                   (int)t->len, t->lit, expected);
    return TRI_EINVAL;
}

static int check_key(parser_t *p, const char *key)
{
    const char *msg = tri_validate_qualified_name(key);
    if (!msg)
        return 0;
    tri_codec_errf(p->err, p->errlen, "unable to parse requirement: key: Invalid value: \"%s\": %s",
                   key, msg);
    return TRI_EINVAL;
}

static int check_values(parser_t *p, const req_t *r)
{
    for (size_t i = 0; i < r->nvalues; i++) {
        const char *msg = tri_validate_label_value(r->values[i]);
        if (msg) {
            tri_codec_errf(p->err, p->errlen,
                           "unable to parse requirement: values[%zu][%s]: Invalid value: "
                           "\"%s\": %s",
                           i, r->key, r->values[i], msg);
            return TRI_EINVAL;
        }
        if (r->op == OP_GT || r->op == OP_LT) {
            char *end;
            errno = 0;
            (void)strtoll(r->values[i], &end, 10);
            if (!r->values[i][0] || *end || errno) {
                tri_codec_errf(p->err, p->errlen,
                               "unable to parse requirement: values[%zu]: Invalid value: \"%s\": "
                               "for 'Gt', 'Lt' operators, the value must be an integer",
                               i, r->values[i]);
                return TRI_EINVAL;
            }
        }
    }
    return 0;
}

/* ( v1, v2, ... ) with Kubernetes' tolerance of empty entries: "(,a)" holds "". */
static int parse_value_set(parser_t *p, req_t *r)
{
    const token_t *t = next(p);
    if (t->t != T_OPEN)
        return syntax_err(p, t, "'('");
    t = peek(p);
    if (value_tok(t->t) == T_CLOSE) {
        next(p);
        return req_add_value(r, "", 0);
    }
    if (value_tok(t->t) != T_IDENT && t->t != T_COMMA)
        return syntax_err(p, t, "',', ')' or identifier");
    for (;;) {
        t = next(p);
        tok_t vt = value_tok(t->t);
        if (vt == T_IDENT) {
            if (req_add_value(r, t->lit, t->len) != 0)
                return TRI_ENOMEM;
            const token_t *t2 = peek(p);
            if (t2->t == T_COMMA)
                continue;
            if (t2->t == T_CLOSE)
                break;
            return syntax_err(p, t2, "',' or ')'");
        }
        if (vt != T_COMMA)
            return syntax_err(p, t, "',', or identifier");
        if (r->nvalues == 0 && req_add_value(r, "", 0) != 0)
            return TRI_ENOMEM;
        tok_t t2 = peek(p)->t;
        if (t2 == T_CLOSE || t2 == T_COMMA) {
            if (req_add_value(r, "", 0) != 0)
                return TRI_ENOMEM;
            if (t2 == T_CLOSE)
                break;
        }
    }
    next(p); /* the ')' */
    return 0;
}

static int parse_exact_value(parser_t *p, req_t *r)
{
    const token_t *t = peek(p);
    if (t->t == T_END || t->t == T_COMMA)
        return req_add_value(r, "", 0);
    t = next(p);
    if (value_tok(t->t) != T_IDENT)
        return syntax_err(p, t, "identifier");
    return req_add_value(r, t->lit, t->len);
}

static int parse_operator(parser_t *p, op_t *op)
{
    const token_t *t = next(p);
    switch (t->t) {
    case T_IN:
        *op = OP_IN;
        return 0;
    case T_NOTIN:
        *op = OP_NOTIN;
        return 0;
    case T_EQ:
    case T_DEQ:
        *op = OP_EQ;
        return 0;
    case T_NEQ:
        *op = OP_NEQ;
        return 0;
    case T_GT:
        *op = OP_GT;
        return 0;
    case T_LT:
        *op = OP_LT;
        return 0;
    default:
        return syntax_err(p, t, "in, notin, =, ==, !=, gt, lt");
    }
}

static int parse_requirement(parser_t *p, req_t *r)
{
    bool negated = false;
    const token_t *t = next(p);
    if (t->t == T_NOT) {
        negated = true;
        t = next(p);
    }
    if (value_tok(t->t) != T_IDENT)
        return syntax_err(p, t, "identifier");
    r->key = strndup(t->lit, t->len);
    if (!r->key)
        return TRI_ENOMEM;
    int rc = check_key(p, r->key);
    if (rc != 0)
        return rc;
    tok_t la = peek(p)->t;
    if (negated || la == T_END || la == T_COMMA) {
        r->op = negated ? OP_NOT_EXISTS : OP_EXISTS;
        return 0;
    }
    rc = parse_operator(p, &r->op);
    if (rc != 0)
        return rc;
    if (r->op == OP_IN || r->op == OP_NOTIN)
        rc = parse_value_set(p, r);
    else
        rc = parse_exact_value(p, r);
    return rc != 0 ? rc : check_values(p, r);
}

static int parse_labels(parser_t *p, tri_selector_t *sel)
{
    for (;;) {
        const token_t *t = peek(p);
        tok_t vt = value_tok(t->t);
        if (vt == T_END)
            return 0;
        if (vt != T_IDENT && vt != T_NOT)
            return syntax_err(p, t, "!, identifier, or 'end of string'");
        req_t *r = sel_add(sel);
        if (!r)
            return TRI_ENOMEM;
        int rc = parse_requirement(p, r);
        if (rc != 0)
            return rc;
        t = next(p);
        if (t->t == T_END)
            return 0;
        if (t->t != T_COMMA)
            return syntax_err(p, t, "',' or 'end of string'");
        tok_t t2 = value_tok(peek(p)->t);
        if (t2 != T_IDENT && t2 != T_NOT)
            return syntax_err(p, peek(p), "identifier after ','");
    }
}

static int selector_new(const char *s, bool field, tri_selector_t **out, char *err, size_t errlen)
{
    *out = NULL;
    if (!s)
        s = "";
    if (strlen(s) > SELECTOR_MAX_LEN) {
        tri_codec_errf(err, errlen, "selector longer than %d bytes", SELECTOR_MAX_LEN);
        return TRI_EINVAL;
    }
    tri_selector_t *sel = calloc(1, sizeof *sel);
    if (!sel)
        return TRI_ENOMEM;
    sel->field = field;
    *out = sel;
    return 0;
}

int tri_label_selector_parse(const char *s, tri_selector_t **out, char *err, size_t errlen)
{
    tri_selector_t *sel;
    int rc = selector_new(s, false, &sel, err, errlen);
    if (rc != 0)
        return rc;
    size_t ntok;
    parser_t p = {.err = err, .errlen = errlen};
    p.toks = lex(s ? s : "", &ntok);
    if (!p.toks) {
        tri_selector_free(sel);
        return TRI_ENOMEM;
    }
    rc = parse_labels(&p, sel);
    free(p.toks);
    if (rc != 0) {
        if (rc == TRI_ENOMEM)
            tri_codec_errf(err, errlen, "out of memory");
        tri_selector_free(sel);
        return rc;
    }
    *out = sel;
    return 0;
}

static bool parse_int64(const char *s, long long *v)
{
    char *end;
    errno = 0;
    *v = strtoll(s, &end, 10);
    return s[0] && !*end && errno == 0;
}

static bool req_match_labels(const req_t *r, const json_t *labels)
{
    const json_t *v = json_is_object(labels) ? json_object_get(labels, r->key) : NULL;
    const char *s = json_is_string(v) ? json_string_value(v) : NULL;
    long long lv, rv;
    switch (r->op) {
    case OP_EQ:
    case OP_IN:
        return s && req_has_value(r, s);
    case OP_NEQ:
    case OP_NOTIN:
        return !s ? !v : !req_has_value(r, s);
    case OP_EXISTS:
        return v != NULL;
    case OP_NOT_EXISTS:
        return v == NULL;
    case OP_GT:
    case OP_LT:
        if (!s || r->nvalues != 1 || !parse_int64(s, &lv) || !parse_int64(r->values[0], &rv))
            return false;
        return r->op == OP_GT ? lv > rv : lv < rv;
    }
    return false;
}

bool tri_label_selector_match(const tri_selector_t *sel, const json_t *labels)
{
    if (!sel)
        return true;
    for (size_t i = 0; i < sel->n; i++) {
        if (!req_match_labels(&sel->reqs[i], labels))
            return false;
    }
    return true;
}

/* ---------- field selectors ---------- */

/* Undoes \\ \, \= ; an unescaped ',' or '=' or any other escape is an error. */
static char *unescape_value(const char *s, size_t n, char *err, size_t errlen)
{
    char *out = malloc(n + 1);
    if (!out)
        return NULL;
    size_t j = 0;
    bool slash = false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (slash) {
            if (c != '\\' && c != ',' && c != '=') {
                tri_codec_errf(err, errlen,
                               "invalid field selector: invalid escape sequence: \\%c", c);
                goto bad;
            }
            out[j++] = c;
            slash = false;
        } else if (c == '\\') {
            slash = true;
        } else if (c == ',' || c == '=') {
            tri_codec_errf(err, errlen,
                           "invalid field selector: unescaped character in value: %d", c);
            goto bad;
        } else {
            out[j++] = c;
        }
    }
    if (slash) {
        tri_codec_errf(err, errlen, "invalid field selector: invalid escape sequence: \\");
        goto bad;
    }
    out[j] = '\0';
    return out;
bad:
    free(out);
    errno = EINVAL;
    return NULL;
}

typedef struct term {
    const char *s;
    size_t n;
} term_t;

static int term_cmp(const void *a, const void *b)
{
    const term_t *x = a, *y = b;
    size_t n = x->n < y->n ? x->n : y->n;
    int c = memcmp(x->s, y->s, n);
    if (c != 0)
        return c;
    return (x->n > y->n) - (x->n < y->n);
}

/* Splits on commas not preceded by a backslash escape. */
static term_t *split_terms(const char *s, size_t *count)
{
    size_t n = strlen(s), k = 0;
    term_t *terms = calloc(n + 1, sizeof *terms);
    if (!terms)
        return NULL;
    size_t start = 0;
    bool slash = false;
    for (size_t i = 0; i < n; i++) {
        if (slash)
            slash = false;
        else if (s[i] == '\\')
            slash = true;
        else if (s[i] == ',') {
            terms[k++] = (term_t){s + start, i - start};
            start = i + 1;
        }
    }
    terms[k++] = (term_t){s + start, n - start};
    *count = k;
    return terms;
}

static int add_field_term(tri_selector_t *sel, const char *whole, const term_t *t, char *err,
                          size_t errlen)
{
    for (size_t i = 0; i < t->n; i++) {
        const char *rest = t->s + i;
        size_t left = t->n - i, oplen = 0;
        op_t op = OP_EQ;
        if (left >= 2 && rest[0] == '!' && rest[1] == '=') {
            op = OP_NEQ;
            oplen = 2;
        } else if (left >= 2 && rest[0] == '=' && rest[1] == '=') {
            oplen = 2;
        } else if (rest[0] == '=') {
            oplen = 1;
        } else {
            continue;
        }
        errno = 0;
        char *value = unescape_value(rest + oplen, left - oplen, err, errlen);
        if (!value)
            return errno == EINVAL ? TRI_EINVAL : TRI_ENOMEM;
        req_t *r = sel_add(sel);
        if (!r || !(r->key = strndup(t->s, i))) {
            free(value);
            return TRI_ENOMEM;
        }
        r->op = op;
        r->values = malloc(sizeof *r->values);
        if (!r->values) {
            free(value);
            return TRI_ENOMEM;
        }
        r->values[0] = value;
        r->nvalues = 1;
        return 0;
    }
    tri_codec_errf(err, errlen, "invalid selector: '%s'; can't understand '%.*s'", whole,
                   (int)t->n, t->s);
    return TRI_EINVAL;
}

int tri_field_selector_parse(const char *s, tri_selector_t **out, char *err, size_t errlen)
{
    tri_selector_t *sel;
    int rc = selector_new(s, true, &sel, err, errlen);
    if (rc != 0)
        return rc;
    if (!s || !*s) {
        *out = sel;
        return 0;
    }
    size_t n;
    term_t *terms = split_terms(s, &n);
    if (!terms) {
        tri_selector_free(sel);
        return TRI_ENOMEM;
    }
    /* Kubernetes sorts the terms before parsing, which fixes which error is reported
     * and the order tri_field_selector_fields() returns. */
    qsort(terms, n, sizeof *terms, term_cmp);
    for (size_t i = 0; i < n && rc == 0; i++) {
        if (terms[i].n > 0)
            rc = add_field_term(sel, s, &terms[i], err, errlen);
    }
    free(terms);
    if (rc != 0) {
        if (rc == TRI_ENOMEM)
            tri_codec_errf(err, errlen, "out of memory");
        tri_selector_free(sel);
        return rc;
    }
    *out = sel;
    return 0;
}

size_t tri_field_selector_fields(const tri_selector_t *sel, const char **names, size_t max)
{
    if (!sel)
        return 0;
    for (size_t i = 0; i < sel->n && i < max; i++)
        names[i] = sel->reqs[i].key;
    return sel->n;
}

/* The value at a dotted path, as the string a Kubernetes field set would hold:
 * strings as they are, numbers in decimal, bools as true/false, anything missing
 * or not a scalar as "". */
static const char *field_value(const json_t *obj, const char *path, char *buf, size_t buflen)
{
    const json_t *cur = obj;
    const char *p = path;
    while (cur && *p) {
        const char *dot = strchr(p, '.');
        size_t n = dot ? (size_t)(dot - p) : strlen(p);
        if (!json_is_object(cur))
            return "";
        cur = json_object_getn(cur, p, n);
        p = dot ? dot + 1 : p + n;
    }
    if (!cur)
        return "";
    switch (json_typeof(cur)) {
    case JSON_STRING:
        return json_string_value(cur);
    case JSON_INTEGER:
        snprintf(buf, buflen, "%" JSON_INTEGER_FORMAT, json_integer_value(cur));
        return buf;
    case JSON_REAL:
        snprintf(buf, buflen, "%g", json_real_value(cur));
        return buf;
    case JSON_TRUE:
        return "true";
    case JSON_FALSE:
        return "false";
    default:
        return "";
    }
}

bool tri_field_selector_match(const tri_selector_t *sel, const json_t *obj)
{
    if (!sel)
        return true;
    char buf[64];
    for (size_t i = 0; i < sel->n; i++) {
        const req_t *r = &sel->reqs[i];
        bool eq = strcmp(field_value(obj, r->key, buf, sizeof buf), r->values[0]) == 0;
        if (eq != (r->op == OP_EQ))
            return false;
    }
    return true;
}
