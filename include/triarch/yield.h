/* Continuing long work in slices on the loop thread: a timer callback that did one
 * slice re-arms itself with tri_timer_yield so that I/O (Raft heartbeats, requests)
 * runs before the next slice.
 *
 * Why not a 0 ms timeout: libuv 1.44 (Debian 12) runs every timer due at the loop
 * time fixed when the timer pass began, and a timer re-armed with 0 ms inside its own
 * callback is due at that time, so it runs again in the same pass, before any I/O
 * (docs/adr/0002-library-workarounds.md). A 1 ms timeout is due 1 ms after the start
 * of the iteration, which has passed once a slice ran: the loop polls I/O with a zero
 * timeout and comes straight back, with no added delay. */
#ifndef TRIARCH_YIELD_H
#define TRIARCH_YIELD_H

#include <uv.h>

#define TRI_YIELD_MS 1

static inline void tri_timer_yield(uv_timer_t *t, uv_timer_cb cb)
{
    uv_timer_start(t, cb, TRI_YIELD_MS, 0);
}

#endif
