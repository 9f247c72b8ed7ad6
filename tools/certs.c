/* `triarch certs check|renew`: the cluster's certificates in D/pki.
 *
 * check  lists every certificate (the .crt files) with its subject, issuer, notAfter and
 *        the days left; WARN under 30 days, EXPIRED past it, INVALID when it does
 *        not verify against D/pki/ca.crt. Exit 0 when every one is valid now.
 * renew  re-issues replica and admin certificates from the cluster CA: the same
 *        subject, extensions (SANs, key usages) and key, a new serial, notBefore
 *        now (backdated 5 minutes) and the same lifetime as before, never past the
 *        CA's own notAfter. The key is kept, so the new certificate is one file
 *        written atomically (temporary file, then rename) and a replica reading
 *        it at any moment sees either the old pair or the new one. D/kubeconfig,
 *        which inlines the admin certificate, is rewritten after admin's renewal.
 *
 * triarchd reads its serving and peer certificates at start and again on SIGHUP
 * (new connections get the new ones, open ones keep theirs), so a renewal needs no
 * restart. The CA itself is not renewed here: a new CA means new trust on every
 * client (`triarch init` makes one). */
#include <dirent.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "cli.h"
#include "triarch/errors.h"

#define WARN_DAYS 30 /* kubeadm's `certs check-expiration` warns from here too */
#define BACKDATE_S (5 * 60)
#define SERIAL_BYTES 20
#define DEFAULT_LIFETIME_S (365L * 24 * 3600)
#define MIN_LIFETIME_S (24L * 3600)
#define MAX_CERTS 64

/* ---------- reading ---------- */

static void name_line(const X509_NAME *n, char *out, size_t len)
{
    BIO *b = BIO_new(BIO_s_mem());
    char *p;
    out[0] = '\0';
    if (b && X509_NAME_print_ex(b, n, 0, XN_FLAG_RFC2253) >= 0) {
        long m = BIO_get_mem_data(b, &p);
        snprintf(out, len, "%.*s", (int)m, p);
    }
    BIO_free(b);
}

static void time_line(const ASN1_TIME *t, char *out, size_t len)
{
    struct tm tm;
    if (ASN1_TIME_to_tm(t, &tm) == 1)
        strftime(out, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
    else
        snprintf(out, len, "?");
}

/* Whole days from now to t (negative when past). */
static int days_left(const ASN1_TIME *t)
{
    int days = 0, secs = 0;
    if (ASN1_TIME_diff(&days, &secs, NULL, t) != 1)
        return -1;
    if (days < 0 || secs < 0)
        return days < 0 ? days : -1;
    return days;
}

static bool verifies(X509 *ca, X509 *x)
{
    X509_STORE *st = X509_STORE_new();
    X509_STORE_CTX *ctx = X509_STORE_CTX_new();
    bool ok = st && ctx && X509_STORE_add_cert(st, ca) == 1 &&
              X509_STORE_CTX_init(ctx, st, x, NULL) == 1 && X509_verify_cert(ctx) == 1;
    X509_STORE_CTX_free(ctx);
    X509_STORE_free(st);
    ERR_clear_error();
    return ok;
}

/* ---------- check ---------- */

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The stems of the .crt files in D/pki, sorted, "ca" first. */
static size_t list_certs(const char *dir, char *names[MAX_CERTS])
{
    DIR *d = opendir(dir);
    size_t n = 0;
    struct dirent *e;
    while (d && (e = readdir(d)) != NULL && n < MAX_CERTS) {
        size_t l = strlen(e->d_name);
        if (l > 4 && strcmp(e->d_name + l - 4, ".crt") == 0)
            names[n++] = strndup(e->d_name, l - 4);
    }
    if (d)
        closedir(d);
    qsort(names, n, sizeof names[0], cmp_str);
    for (size_t i = 0; i < n; i++) {
        if (strcmp(names[i], "ca") == 0 && i > 0) {
            char *ca = names[i];
            memmove(names + 1, names, i * sizeof names[0]);
            names[0] = ca;
        }
    }
    return n;
}

static const char *verdict(X509 *ca, X509 *x, int days)
{
    if (days < 0)
        return "EXPIRED";
    if (ca && !verifies(ca, x))
        return "INVALID";
    return days < WARN_DAYS ? "WARN" : "OK";
}

static int check(const tri_cluster_t *c)
{
    char dir[TRI_PATH_MAX], path[TRI_PATH_MAX];
    if (tri_path(dir, sizeof dir, "%s/pki", c->dir) != 0)
        return 2;
    char *names[MAX_CERTS];
    size_t n = list_certs(dir, names);
    if (n == 0) {
        tri_cli_err("certs check: no certificates in %s", dir);
        return 1;
    }
    X509 *ca = tri_path(path, sizeof path, "%s/ca.crt", dir) == 0 ? tri_pki_read_cert(path) : NULL;
    int bad = 0;
    /* the rows first, then columns as wide as their widest cell */
    typedef struct row {
        char subj[256], iss[256], until[32], days[16];
        const char *verdict;
    } row_t;
    row_t *rows = calloc(n, sizeof *rows);
    int wn = (int)strlen("CERTIFICATE"), ws = (int)strlen("SUBJECT"), wi = (int)strlen("ISSUER");
    for (size_t i = 0; rows && i < n; i++) {
        row_t *r = &rows[i];
        X509 *x =
            tri_path(path, sizeof path, "%s/%s.crt", dir, names[i]) == 0 ? tri_pki_read_cert(path) : NULL;
        if (x == NULL) {
            snprintf(r->subj, sizeof r->subj, "?");
            snprintf(r->iss, sizeof r->iss, "?");
            snprintf(r->until, sizeof r->until, "?");
            snprintf(r->days, sizeof r->days, "?");
            r->verdict = "UNREADABLE";
            bad++;
        } else {
            name_line(X509_get_subject_name(x), r->subj, sizeof r->subj);
            name_line(X509_get_issuer_name(x), r->iss, sizeof r->iss);
            time_line(X509_get0_notAfter(x), r->until, sizeof r->until);
            int days = days_left(X509_get0_notAfter(x));
            snprintf(r->days, sizeof r->days, "%d", days);
            r->verdict = verdict(ca, x, days);
            bad += strcmp(r->verdict, "OK") != 0 && strcmp(r->verdict, "WARN") != 0;
            X509_free(x);
        }
        wn = (int)strlen(names[i]) > wn ? (int)strlen(names[i]) : wn;
        ws = (int)strlen(r->subj) > ws ? (int)strlen(r->subj) : ws;
        wi = (int)strlen(r->iss) > wi ? (int)strlen(r->iss) : wi;
    }
    printf("%-*s  %-*s  %-*s  %-21s %9s  %s\n", wn, "CERTIFICATE", ws, "SUBJECT", wi, "ISSUER",
           "NOT AFTER", "DAYS LEFT", "STATUS");
    for (size_t i = 0; i < n; i++) {
        if (rows)
            printf("%-*s  %-*s  %-*s  %-21s %9s  %s\n", wn, names[i], ws, rows[i].subj, wi,
                   rows[i].iss, rows[i].until, rows[i].days, rows[i].verdict);
        free(names[i]);
    }
    if (rows == NULL) {
        tri_cli_err("certs check: out of memory");
        bad++;
    }
    free(rows);
    X509_free(ca);
    if (bad)
        tri_cli_err("certs check: %d certificate(s) expired, unreadable or not issued by the "
                    "cluster CA; `triarch certs renew` re-issues replica and admin certificates",
                    bad);
    return bad ? 1 : 0;
}

/* ---------- renew ---------- */

static int serial_set(X509 *x)
{
    unsigned char raw[SERIAL_BYTES];
    if (tri_random_bytes(raw, sizeof raw) != 0)
        return TRI_EIO;
    raw[0] &= 0x7f;
    raw[0] |= 0x01;
    BIGNUM *bn = BN_bin2bn(raw, sizeof raw, NULL);
    int ok = bn && BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x)) != NULL;
    BN_free(bn);
    return ok ? 0 : TRI_ENOMEM;
}

/* The old certificate's lifetime, less the backdating it was given. */
static long lifetime_of(X509 *old)
{
    int days = 0, secs = 0;
    if (ASN1_TIME_diff(&days, &secs, X509_get0_notBefore(old), X509_get0_notAfter(old)) != 1)
        return DEFAULT_LIFETIME_S;
    long s = (long)days * 24 * 3600 + secs - BACKDATE_S;
    return s < MIN_LIFETIME_S ? MIN_LIFETIME_S : s;
}

/* Every extension of old but the authority key identifier, which is made anew. */
static int copy_extensions(X509 *old, X509 *x, X509 *ca)
{
    for (int i = 0; i < X509_get_ext_count(old); i++) {
        X509_EXTENSION *e = X509_get_ext(old, i);
        if (OBJ_obj2nid(X509_EXTENSION_get_object(e)) == NID_authority_key_identifier)
            continue;
        if (!X509_add_ext(x, e, -1))
            return TRI_ENOMEM;
    }
    X509V3_CTX ctx;
    X509V3_set_ctx(&ctx, ca, x, NULL, NULL, 0);
    X509_EXTENSION *aki =
        X509V3_EXT_conf_nid(NULL, &ctx, NID_authority_key_identifier, "keyid:always");
    int ok = aki && X509_add_ext(x, aki, -1);
    X509_EXTENSION_free(aki);
    return ok ? 0 : TRI_EINVAL;
}

static X509 *reissue(X509 *old, X509 *ca, EVP_PKEY *ca_key)
{
    X509 *x = X509_new();
    int ok = x && X509_set_version(x, 2) && serial_set(x) == 0 &&
             X509_set_subject_name(x, X509_get_subject_name(old)) &&
             X509_set_issuer_name(x, X509_get_subject_name(ca)) &&
             X509_set_pubkey(x, X509_get0_pubkey(old)) &&
             X509_gmtime_adj(X509_getm_notBefore(x), -BACKDATE_S) &&
             X509_gmtime_adj(X509_getm_notAfter(x), lifetime_of(old));
    if (ok && ASN1_TIME_compare(X509_get0_notAfter(x), X509_get0_notAfter(ca)) > 0)
        ok = X509_set1_notAfter(x, X509_get0_notAfter(ca));
    ok = ok && copy_extensions(old, x, ca) == 0 && X509_sign(x, ca_key, EVP_sha256()) > 0;
    if (!ok) {
        X509_free(x);
        return NULL;
    }
    return x;
}

static int write_cert(const char *path, X509 *x)
{
    BIO *mem = BIO_new(BIO_s_mem());
    char *p;
    int rc = TRI_ENOMEM;
    if (mem && PEM_write_bio_X509(mem, x) == 1) {
        long n = BIO_get_mem_data(mem, &p);
        rc = tri_file_write(path, p, (size_t)n, 0644); /* temporary file, then rename */
    }
    BIO_free(mem);
    return rc;
}

static int renew_one(const tri_cluster_t *c, const char *name, X509 *ca, EVP_PKEY *ca_key)
{
    char crt[TRI_PATH_MAX], key[TRI_PATH_MAX];
    if (tri_path(crt, sizeof crt, "%s/pki/%s.crt", c->dir, name) != 0 ||
        tri_path(key, sizeof key, "%s/pki/%s.key", c->dir, name) != 0)
        return TRI_EINVAL;
    X509 *old = tri_pki_read_cert(crt);
    EVP_PKEY *k = tri_pki_read_key(key);
    int rc = TRI_EINVAL;
    if (old == NULL || k == NULL) {
        tri_cli_err("certs renew: cannot read %s or %s", crt, key);
    } else if (X509_check_private_key(old, k) != 1) {
        tri_cli_err("certs renew: %s does not match %s; nothing changed", key, crt);
    } else {
        X509 *x = reissue(old, ca, ca_key);
        rc = x ? write_cert(crt, x) : TRI_EINVAL;
        char until[32] = "?";
        if (x)
            time_line(X509_get0_notAfter(x), until, sizeof until);
        if (rc == 0)
            printf("renewed %s: %s, not after %s\n", name, crt, until);
        else
            tri_cli_err("certs renew: cannot re-issue %s: %s", name, tri_strerror(rc));
        X509_free(x);
    }
    ERR_clear_error();
    X509_free(old);
    EVP_PKEY_free(k);
    return rc;
}

static bool renewable(const tri_cluster_t *c, const char *name)
{
    if (strcmp(name, "admin") == 0)
        return true;
    for (size_t i = 0; i < c->n_members; i++)
        if (strcmp(c->members[i].name, name) == 0)
            return true;
    return false;
}

static int rewrite_kubeconfig(const tri_cluster_t *c)
{
    char path[TRI_PATH_MAX];
    tri_buf_t text = {0};
    if (tri_path(path, sizeof path, "%s/kubeconfig", c->dir) != 0 || !tri_file_exists(path))
        return 0;
    int rc = tri_kubeconfig_render(c, &text);
    if (rc == 0)
        rc = tri_file_write(path, text.data, text.len, 0600);
    tri_buf_free(&text);
    if (rc == 0)
        printf("rewrote %s with the renewed admin certificate\n", path);
    return rc;
}

static int renew(const tri_cluster_t *c, char **names, size_t n)
{
    char path[TRI_PATH_MAX];
    X509 *ca = tri_path(path, sizeof path, "%s/pki/ca.crt", c->dir) == 0 ? tri_pki_read_cert(path) : NULL;
    EVP_PKEY *ca_key =
        tri_path(path, sizeof path, "%s/pki/ca.key", c->dir) == 0 ? tri_pki_read_key(path) : NULL;
    int failed = 0;
    if (ca == NULL || ca_key == NULL || X509_check_private_key(ca, ca_key) != 1) {
        tri_cli_err("certs renew: cannot read the cluster CA (%s/pki/ca.crt and ca.key)", c->dir);
        failed = 1;
    }
    bool admin = false;
    for (size_t i = 0; !failed && i < n; i++) {
        if (renew_one(c, names[i], ca, ca_key) != 0)
            failed++;
        else
            admin |= strcmp(names[i], "admin") == 0;
    }
    if (admin && rewrite_kubeconfig(c) != 0)
        failed++;
    if (!failed)
        printf("Replicas pick up renewed certificates on restart, or at once on SIGHUP\n"
               "(triarchd reloads its API and peer certificates for new connections; open ones\n"
               "keep theirs).\n");
    X509_free(ca);
    EVP_PKEY_free(ca_key);
    ERR_clear_error();
    return failed ? 1 : 0;
}

/* ---------- command line ---------- */

static void certs_usage(FILE *f)
{
    fputs("Usage: triarch certs check --dir D\n"
          "       triarch certs renew --dir D (--all | NAME...)\n"
          "\n"
          "check  lists every certificate in D/pki: subject, issuer, not-after, days left;\n"
          "       WARN under 30 days. Exits 0 when all are valid.\n"
          "renew  re-issues replica certificates (NAME = a member name) and the admin\n"
          "       certificate (NAME = admin) from the cluster CA with the same subject,\n"
          "       SANs and key; --all renews every one of them. Each file is replaced\n"
          "       atomically. Replicas pick up renewed serving certificates on restart or\n"
          "       on SIGHUP.\n"
          "\n"
          "  --dir D     the cluster directory `triarch init` made\n"
          "  --all       renew: every replica and the admin certificate\n"
          "  -h, --help  this help\n",
          f);
}

static int renew_args(const tri_cluster_t *c, int argc, char **argv, bool all)
{
    char *names[TRI_MAX_MEMBERS + 1];
    size_t n = 0;
    if (all) {
        for (size_t i = 0; i < c->n_members; i++)
            names[n++] = (char *)c->members[i].name;
        names[n++] = "admin";
        return renew(c, names, n);
    }
    for (int i = 0; i < argc; i++) {
        if (!renewable(c, argv[i])) {
            tri_cli_err("certs renew: \"%s\" is neither a member of the cluster nor admin",
                        argv[i]);
            return 2;
        }
        if (n < TRI_MAX_MEMBERS + 1)
            names[n++] = argv[i];
    }
    if (n == 0) {
        tri_cli_err("certs renew needs --all or certificate names");
        certs_usage(stderr);
        return 2;
    }
    return renew(c, names, n);
}

int tri_cmd_certs(int argc, char **argv)
{
    static const struct option opts[] = {{"dir", required_argument, NULL, 'd'},
                                         {"all", no_argument, NULL, 'a'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    if (argc >= 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
        certs_usage(stdout);
        return 0;
    }
    bool is_check = argc >= 2 && !strcmp(argv[1], "check");
    if (argc < 2 || (!is_check && strcmp(argv[1], "renew") != 0)) {
        tri_cli_err("certs: unknown or missing subcommand (want: check, renew)");
        certs_usage(stderr);
        return 2;
    }
    const char *dir = NULL;
    bool all = false;
    int opt;
    optind = 1;
    while ((opt = getopt_long(argc - 1, argv + 1, "h", opts, NULL)) != -1) {
        if (opt == 'd') {
            dir = optarg;
        } else if (opt == 'a' && !is_check) {
            all = true;
        } else if (opt == 'h') {
            certs_usage(stdout);
            return 0;
        } else {
            certs_usage(stderr);
            return 2;
        }
    }
    int rest = argc - 1 - optind;
    if (dir == NULL || (is_check && rest > 0) || (all && rest > 0)) {
        tri_cli_err("certs %s: %s", argv[1], dir ? "unexpected argument" : "needs --dir");
        certs_usage(stderr);
        return 2;
    }
    tri_cluster_t c;
    int rc = tri_cluster_load(dir, &c);
    if (rc != 0) {
        tri_cli_err("certs: %s is not a cluster directory (no cluster.json): %s", dir,
                    tri_strerror(rc));
        return 1;
    }
    return is_check ? check(&c) : renew_args(&c, rest, argv + 1 + optind, all);
}
