/* Structured logging: `level ts component msg key=value`, one write(2) per line so
 * lines from several processes sharing a file never interleave mid-line. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "triarch/log.h"

static enum tri_log_level min_level = TRI_LOG_INFO;
static int level_from_env_done;

static const char *level_names[] = {"debug", "info", "warn", "error"};

static void level_from_env(void)
{
    const char *e = getenv("TRI_LOG_LEVEL");
    level_from_env_done = 1;
    if (e == NULL)
        return;
    for (int i = 0; i < 4; i++)
        if (strcasecmp(e, level_names[i]) == 0)
            min_level = (enum tri_log_level)i;
}

void tri_log_set_level(enum tri_log_level level)
{
    level_from_env_done = 1;
    min_level = level;
}

enum tri_log_level tri_log_get_level(void)
{
    if (!level_from_env_done)
        level_from_env();
    return min_level;
}

void tri_log(enum tri_log_level level, const char *component, const char *msg,
             const char *kv_fmt, ...)
{
    if (level < tri_log_get_level())
        return;
    char line[4096];
    struct timespec ts;
    struct tm tm;
    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    int n = snprintf(line, sizeof line, "%s %04d-%02d-%02dT%02d:%02d:%02d.%03ldZ %s \"%s\"",
                     level_names[level], tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                     tm.tm_hour, tm.tm_min, tm.tm_sec, ts.tv_nsec / 1000000, component, msg);
    if (n < 0)
        return;
    if ((size_t)n < sizeof line - 2 && kv_fmt != NULL && kv_fmt[0] != '\0') {
        line[n++] = ' ';
        va_list ap;
        va_start(ap, kv_fmt);
        int m = vsnprintf(line + n, sizeof line - (size_t)n, kv_fmt, ap);
        va_end(ap);
        if (m > 0)
            n += m;
    }
    if ((size_t)n > sizeof line - 2)
        n = (int)sizeof line - 2;
    line[n++] = '\n';
    ssize_t w = write(STDERR_FILENO, line, (size_t)n);
    (void)w;
}
