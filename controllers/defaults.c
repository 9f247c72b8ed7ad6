/* The loops every leader runs: the garbage collector, the namespace controller
 * and the Events TTL. */
#include "triarch/controllers.h"

int tri_ctrl_add_defaults(tri_ctrl_manager_t *m)
{
    int rc = tri_ctrl_gc_add(m);
    if (rc == 0)
        rc = tri_ctrl_namespace_add(m);
    if (rc == 0)
        rc = tri_ctrl_events_ttl_add(m);
    return rc;
}
