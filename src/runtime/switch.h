// Switching between an M's g0 and a goroutine, and what runs on g0 after a
// goroutine switched out (see switch.cpp).
#pragma once

#include "runtime/sched.h"

namespace gofer::runtime {

// g0: runs g until it switches out, then performs what it asked for (yield,
// park, exit, …). Returns a goroutine to run at once (a park whose commit
// declined), or nullptr.
G* execute(M* m, G* g);

void set_current_m(M* m) noexcept;
// Per-thread setup of an M: alternate signal stack, sanitizer fiber of g0.
void thread_init(M* m);
void thread_fini(M* m);

void enter_blocking_impl();
void exit_blocking_impl();
void netpoll_fd_opened() noexcept;
void netpoll_fd_closed() noexcept;

}  // namespace gofer::runtime
