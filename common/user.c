/* tri_user_t helpers shared by authentication, authorization and audit. */
#include <stdio.h>
#include <string.h>

#include "triarch/auth.h"

bool tri_user_in_group(const tri_user_t *u, const char *group)
{
    for (size_t i = 0; i < u->n_groups; i++)
        if (strcmp(u->groups[i], group) == 0)
            return true;
    return false;
}

void tri_user_add_group(tri_user_t *u, const char *group)
{
    if (u->n_groups >= TRI_USER_MAX_GROUPS || tri_user_in_group(u, group))
        return;
    snprintf(u->groups[u->n_groups++], TRI_USER_GROUP_MAX, "%s", group);
}

json_t *tri_user_extra(const tri_user_t *u)
{
    json_t *extra = json_object();
    if (u->pod_name[0])
        json_object_set_new(extra, "authentication.kubernetes.io/pod-name",
                            json_pack("[s]", u->pod_name));
    if (u->node_name[0])
        json_object_set_new(extra, "authentication.kubernetes.io/node-name",
                            json_pack("[s]", u->node_name));
    return extra;
}
