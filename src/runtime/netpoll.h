// The netpoller: turns "the kernel marked this fd ready" into "the goroutine
// that waits on it is runnable" (the heart of the seed's story, docs/design.md).
//
// The backend is chosen at build time, one file per platform mechanism, as
// Go does (netpoll_epoll.cpp today; an io_uring backend would be another file
// implementing these five functions). The rest of the runtime and the net
// layer see only this interface and poll_desc.h.
#pragma once

#include <cstdint>

namespace gofer::runtime {

struct G;
struct PollDesc;

// Creates the poller (epoll instance and its wake-up eventfd).
void netpoll_init();
void netpoll_shutdown();

// Registers fd once, edge-triggered for read, write and peer hang-up,
// tagged with pd's index and sequence number. Returns 0 or an errno.
int netpoll_open(int fd, PollDesc* pd);
// Removes fd from the poller. Returns 0 or an errno.
int netpoll_close(int fd);

// Waits for readiness up to `delay_ns` (< 0: forever, 0: do not block) and
// returns the goroutines it made runnable as a list linked through
// G::schedlink; *count gets their number.
G* netpoll(std::int64_t delay_ns, int* count);

// Interrupts a netpoll() that blocks (or makes the next one return at once).
void netpoll_break() noexcept;

}  // namespace gofer::runtime
