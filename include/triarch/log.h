/* Structured logging: one line per event, `level ts component msg key=value ...`.
 *
 *   tri_log(TRI_LOG_INFO, "raft", "became leader", "term=%llu id=%llu", term, id);
 *
 * Lines go to stderr (or the file given to tri_log_open). Values containing spaces
 * should be quoted by the caller ("name=\"%s\""). Not thread-safe beyond what a
 * single write(2) per line gives, which is enough for our one-loop process.
 */
#ifndef TRIARCH_LOG_H
#define TRIARCH_LOG_H

enum tri_log_level { TRI_LOG_DEBUG = 0, TRI_LOG_INFO, TRI_LOG_WARN, TRI_LOG_ERROR };

/* Minimum level printed; default INFO, or TRI_LOG_LEVEL=debug|info|warn|error. */
void tri_log_set_level(enum tri_log_level level);
enum tri_log_level tri_log_get_level(void);

/* kv_fmt is a printf format for the key=value tail; it may be "" . */
void tri_log(enum tri_log_level level, const char *component, const char *msg,
             const char *kv_fmt, ...) __attribute__((format(printf, 4, 5)));

#define tri_debug(comp, msg, ...) tri_log(TRI_LOG_DEBUG, comp, msg, __VA_ARGS__)
#define tri_info(comp, msg, ...) tri_log(TRI_LOG_INFO, comp, msg, __VA_ARGS__)
#define tri_warn(comp, msg, ...) tri_log(TRI_LOG_WARN, comp, msg, __VA_ARGS__)
#define tri_error(comp, msg, ...) tri_log(TRI_LOG_ERROR, comp, msg, __VA_ARGS__)

#endif
