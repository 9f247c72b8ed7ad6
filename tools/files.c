/* File helpers for the admin CLI: directory creation, atomic writes with an explicit
 * mode (private keys must never exist, even briefly, with a wider mode), whole-file
 * reads, and recursive removal for `cluster down --purge`. */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "triarch/errors.h"

/* File descriptors nftw may hold open while walking. */
#define TRI_NFTW_FDS 16

int tri_path(char *out, size_t outlen, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(out, outlen, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= outlen)
        return TRI_EINVAL;
    return 0;
}

int tri_mkdir_p(const char *path, mode_t mode)
{
    char tmp[TRI_PATH_MAX];
    if (tri_path(tmp, sizeof tmp, "%s", path) != 0)
        return TRI_EINVAL;
    for (char *p = tmp + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(tmp, mode) != 0 && errno != EEXIST)
            return TRI_EIO;
        *p = '/';
    }
    if (mkdir(tmp, mode) != 0 && errno != EEXIST)
        return TRI_EIO;
    return 0;
}

static int write_all(int fd, const char *p, size_t len)
{
    while (len > 0) {
        ssize_t n = write(fd, p, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return TRI_EIO;
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

int tri_file_write(const char *path, const void *data, size_t len, mode_t mode)
{
    char tmp[TRI_PATH_MAX];
    if (tri_path(tmp, sizeof tmp, "%s.tmp", path) != 0)
        return TRI_EINVAL;
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
    if (fd < 0)
        return TRI_EIO;
    /* open() honours the umask; fchmod makes the mode exactly what was asked. */
    int rc = fchmod(fd, mode) == 0 ? write_all(fd, data, len) : TRI_EIO;
    if (rc == 0 && fsync(fd) != 0)
        rc = TRI_EIO;
    if (close(fd) != 0 && rc == 0)
        rc = TRI_EIO;
    if (rc == 0 && rename(tmp, path) != 0)
        rc = TRI_EIO;
    if (rc != 0)
        unlink(tmp);
    return rc;
}

int tri_file_read(const char *path, tri_buf_t *out)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return errno == ENOENT ? TRI_ENOENT : TRI_EIO;
    int rc = 0;
    char chunk[4096];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0) {
        rc = tri_buf_append(out, chunk, n);
        if (rc != 0)
            break;
    }
    if (rc == 0 && ferror(f))
        rc = TRI_EIO;
    fclose(f);
    if (rc == 0)
        rc = tri_buf_reserve(out, 1);
    if (rc == 0)
        out->data[out->len] = '\0';
    return rc;
}

int tri_file_exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0;
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path) == 0 ? 0 : -1;
}

int tri_rm_rf(const char *path)
{
    if (!tri_file_exists(path))
        return 0;
    return nftw(path, rm_one, TRI_NFTW_FDS, FTW_DEPTH | FTW_PHYS) == 0 ? 0 : TRI_EIO;
}

void tri_sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}
