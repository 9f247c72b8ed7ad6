/* Renders the load balancer's config from deploy/haproxy.cfg.in, which CMake compiles
 * into this binary (generated/haproxy_template.h), so an installed `triarch` needs no
 * source tree. {{LB}} becomes the frontend address and {{SERVERS}} one server line per
 * replica, each health-checked with an HTTPS GET /readyz. */
#include <string.h>

#include "cli.h"
#include "haproxy_template.h"
#include "triarch/errors.h"

/* Check every 500 ms; down after 2 failures (~1 s), up again after 1 success. Clients
 * of a replica marked down are cut so they reconnect to a healthy one. */
#define TRI_SERVER_OPTS                                                                            \
    "check check-ssl verify none inter 500ms fall 2 rise 1 on-marked-down shutdown-sessions"

static int servers_render(const tri_cluster_t *c, tri_buf_t *out)
{
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < c->n_members; i++)
        rc = tri_buf_appendf(out, "    server %s %s %s\n", c->members[i].name, c->members[i].api,
                             TRI_SERVER_OPTS);
    return rc;
}

int tri_haproxy_render(const tri_cluster_t *c, tri_buf_t *out)
{
    static const char lb_mark[] = "{{LB}}", servers_mark[] = "{{SERVERS}}";
    const char *p = tri_haproxy_template;
    int rc = 0;
    while (rc == 0 && *p) {
        const char *next = strstr(p, "{{");
        if (next == NULL) {
            rc = tri_buf_append(out, p, strlen(p));
            break;
        }
        rc = tri_buf_append(out, p, (size_t)(next - p));
        if (rc != 0)
            break;
        if (strncmp(next, lb_mark, sizeof lb_mark - 1) == 0) {
            rc = tri_buf_appendf(out, "%s", c->lb);
            p = next + sizeof lb_mark - 1;
        } else if (strncmp(next, servers_mark, sizeof servers_mark - 1) == 0) {
            rc = servers_render(c, out);
            p = next + sizeof servers_mark - 1;
            if (*p == '\n') /* server lines end with their own newline */
                p++;
        } else {
            rc = tri_buf_append(out, "{{", 2);
            p = next + 2;
        }
    }
    return rc;
}
