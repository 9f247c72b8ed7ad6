/* `triarch`, the admin CLI: dispatches to the subcommands (init, cluster up/down/
 * status, kubeconfig). Each subcommand parses its own flags, has --help, prints
 * errors as "triarch: ..." on stderr and exits non-zero on failure: 2 for usage
 * errors, 1 for everything else. */
#include <signal.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <curl/curl.h>

#include "cli.h"

void tri_cli_err(const char *fmt, ...)
{
    va_list ap;
    fflush(stdout);
    fputs("triarch: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

int tri_cli_dir_only(int argc, char **argv, const char *what, void (*usage_fn)(FILE *),
                     const char **dir)
{
    static const struct option opts[] = {{"dir", required_argument, NULL, 'd'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    int opt;
    optind = 1;
    *dir = NULL;
    while ((opt = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        if (opt == 'd') {
            *dir = optarg;
        } else if (opt == 'h') {
            usage_fn(stdout);
            return 0;
        } else {
            usage_fn(stderr);
            return 2;
        }
    }
    if (*dir == NULL || optind < argc) {
        tri_cli_err("%s needs --dir and nothing else", what);
        usage_fn(stderr);
        return 2;
    }
    return -1;
}

static void usage(FILE *f)
{
    fputs("Usage: triarch COMMAND [options]\n"
          "\n"
          "Commands:\n"
          "  init            make a new cluster's id, certificates and replica configs\n"
          "  cluster up      start (or restart) a local cluster behind haproxy\n"
          "  cluster down    stop a local cluster (keeps data unless --purge)\n"
          "  cluster status  show replicas, leader and load balancer\n"
          "  kubeconfig      print the admin kubeconfig\n"
          "  secrets reencrypt  rewrite every Secret under the current encryption key\n"
          "  token create    make a bootstrap token for joining an agent\n"
          "  certs check     list the certificates in D/pki with their expiry\n"
          "  certs renew     re-issue replica and admin certificates from the CA\n"
          "  member          list, add, remove or promote replicas; transfer leadership\n"
          "\n"
          "`triarch COMMAND --help` shows a command's options.\n",
          f);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    /* A probe to a replica that vanished must fail the probe, not kill us. */
    signal(SIGPIPE, SIG_IGN);
    const char *cmd = argv[1];
    if (strcmp(cmd, "-h") == 0 || strcmp(cmd, "--help") == 0 || strcmp(cmd, "help") == 0) {
        usage(stdout);
        return 0;
    }
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != 0) {
        tri_cli_err("cannot initialise libcurl");
        return 1;
    }
    int rc;
    if (strcmp(cmd, "init") == 0) {
        rc = tri_cmd_init(argc - 1, argv + 1);
    } else if (strcmp(cmd, "cluster") == 0) {
        rc = tri_cmd_cluster(argc - 1, argv + 1);
    } else if (strcmp(cmd, "secrets") == 0) {
        rc = tri_cmd_secrets(argc - 1, argv + 1);
    } else if (strcmp(cmd, "token") == 0) {
        rc = tri_cmd_token(argc - 1, argv + 1);
    } else if (strcmp(cmd, "certs") == 0) {
        rc = tri_cmd_certs(argc - 1, argv + 1);
    } else if (strcmp(cmd, "member") == 0) {
        rc = tri_cmd_member(argc - 1, argv + 1);
    } else if (strcmp(cmd, "kubeconfig") == 0) {
        rc = tri_cmd_kubeconfig(argc - 1, argv + 1);
    } else {
        tri_cli_err("unknown command '%s'", cmd);
        usage(stderr);
        rc = 2;
    }
    curl_global_cleanup();
    return rc;
}
