/* The admission chain (see admission.h): which plugin runs for what, in
 * kube-apiserver's order. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "admission.h"
#include "resources.h"

static bool is(const tri_admit_t *a, const tri_resource_t *r)
{
    return a->r == r || a->r->storage == r;
}

static bool main_resource(const tri_admit_t *a)
{
    return a->subresource == NULL || a->subresource[0] == '\0';
}

void tri_admit_forbid(const tri_admit_t *a, tri_status_t *st, const char *fmt, ...)
{
    char why[768];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, sizeof why, fmt, ap);
    va_end(ap);
    tri_status_set(st, 403, "Forbidden", "%s \"%s\" is forbidden: %s", a->r->plural,
                   a->name ? a->name : "", why);
    snprintf(st->kind, sizeof st->kind, "%s", a->r->plural);
    snprintf(st->group, sizeof st->group, "%s", a->r->group);
    snprintf(st->name, sizeof st->name, "%s", a->name ? a->name : "");
}

bool tri_admit_should_wait(const tri_admit_t *a, const json_t *obj)
{
    if (!a->create || !is(a, &tri_res_pods) || !main_resource(a))
        return false;
    const json_t *spec = json_object_get(obj, "spec");
    const char *sa = json_string_value(json_object_get(spec, "serviceAccountName"));
    if (sa == NULL)
        sa = json_string_value(json_object_get(spec, "serviceAccount"));
    if (sa != NULL && sa[0] != '\0' && strcmp(sa, "default") != 0)
        return false; /* only the default account is made by a loop */
    return !tri_api_exists(a->api, &tri_res_serviceaccounts, a->ns, "default");
}

void tri_admit_mutate(const tri_admit_t *a, json_t *obj, const json_t *old, tri_status_t *st)
{
    if (is(a, &tri_res_certificatesigningrequests)) {
        tri_admit_csr_mutate(a, obj, old, st);
        return;
    }
    if (!a->create || !main_resource(a) || !is(a, &tri_res_pods))
        return;
    tri_admit_service_account(a, obj, st);
    if (st->code == 0)
        tri_admit_priority(a, obj, st);
    if (st->code == 0)
        tri_admit_limit_ranger_mutate(a, obj, st);
}

void tri_admit_validate(const tri_admit_t *a, const json_t *obj, const json_t *old,
                        tri_status_t *st)
{
    tri_admit_node_restriction(a, obj, old, st);
    if (st->code == 0 && main_resource(a))
        tri_admit_limit_ranger_validate(a, obj, old, st);
    if (st->code == 0 && is(a, &tri_res_certificatesigningrequests))
        tri_admit_csr_validate(a, obj, old, st);
}
