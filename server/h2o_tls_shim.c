/* A workaround for a bug in libh2o 2.2.5 (Debian's, also in 2.2.6): its libuv TLS
 * read callback (lib/common/socket/uv-binding.c.h, on_read_ssl) treats a read of
 * zero bytes as an I/O error and closes the connection. libuv reports zero bytes
 * whenever a read after a full buffer finds nothing more (EAGAIN), which happens
 * often when a large request body arrives through a relay such as haproxy: the
 * client saw its upload cut off with no answer ("unexpected EOF").
 *
 * libh2o calls uv_read_start through the dynamic linker, so the executable's own
 * definition below comes first. It passes every call on to libuv, except that a
 * read callback belonging to libh2o on a TLS socket is wrapped so that zero-byte
 * reads — which libuv documents as "nothing happened" — never reach it. Nothing
 * else changes; all other callers (raft's transport, ours) are passed through. */
#include <dlfcn.h>
#include <stdbool.h>
#include <h2o.h>
#include <string.h>
#include <uv.h>

typedef int (*read_start_fn)(uv_stream_t *, uv_alloc_cb, uv_read_cb);

/* Loop-thread only, like every libuv call; set once and never changed. */
static read_start_fn real_read_start;
static uv_read_cb h2o_tls_read_cb;

static bool in_libh2o(void *fn)
{
    static void *known_h2o[4], *known_other[4];
    for (int i = 0; i < 4; i++) {
        if (known_h2o[i] == fn)
            return true;
        if (known_other[i] == fn)
            return false;
    }
    Dl_info info;
    bool h2o = dladdr(fn, &info) != 0 && info.dli_fname != NULL &&
               strstr(info.dli_fname, "libh2o") != NULL;
    void **slots = h2o ? known_h2o : known_other;
    for (int i = 0; i < 4; i++) {
        if (slots[i] == NULL) {
            slots[i] = fn;
            break;
        }
    }
    return h2o;
}

static void tls_read_filtered(uv_stream_t *stream, ssize_t nread, const uv_buf_t *buf)
{
    if (nread == 0)
        return; /* EAGAIN: not an error, and h2o's buffer is reserved, not consumed */
    h2o_tls_read_cb(stream, nread, buf);
}

int uv_read_start(uv_stream_t *stream, uv_alloc_cb alloc_cb, uv_read_cb read_cb)
{
    if (real_read_start == NULL)
        real_read_start = (read_start_fn)dlsym(RTLD_NEXT, "uv_read_start");
    h2o_socket_t *sock = stream->data;
    if (read_cb != tls_read_filtered && in_libh2o((void *)read_cb) && sock != NULL &&
        sock->ssl != NULL) {
        if (h2o_tls_read_cb == NULL)
            h2o_tls_read_cb = read_cb;
        if (read_cb == h2o_tls_read_cb)
            read_cb = tls_read_filtered;
    }
    return real_read_start(stream, alloc_cb, read_cb);
}
