/* Private to server/audit: the writer thread's face (writer.c), used by audit.c. */
#ifndef TRIARCH_AUDIT_INTERNAL_H
#define TRIARCH_AUDIT_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

typedef struct tri_audit_writer tri_audit_writer_t;

typedef struct tri_audit_writer_opts {
    const char *path; /* "-": stdout */
    uint64_t max_size;
    unsigned max_age_days;
    unsigned max_backups;
    size_t queue_events;
    size_t queue_bytes;
} tri_audit_writer_opts_t;

/* Opens (creating the directory), prunes old backups, starts the thread. */
int tri_audit_writer_open(const tri_audit_writer_opts_t *o, tri_audit_writer_t **out, char *err,
                          size_t errlen);
/* Copies the line into the queue; TRI_EUNAVAIL when full (nothing queued). */
int tri_audit_writer_push(tri_audit_writer_t *w, const char *data, size_t len);
void tri_audit_writer_stats(tri_audit_writer_t *w, uint64_t *written, uint64_t *errors,
                            uint64_t *rotations);
/* Writes everything queued, fsyncs, closes, joins, frees. */
void tri_audit_writer_close(tri_audit_writer_t *w);

#endif
