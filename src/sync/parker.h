// Parker: how every blocking operation of the sync layer parks a goroutine.
//
// The protocol: the goroutine creates a Parker (bound to itself), publishes
// a record pointing to it in a wait queue under that queue's lock, releases
// the lock, and calls park(). A waker removes the record under the same lock,
// releases it, and calls unpark() exactly once. The race between "published"
// and "asleep" is settled by one atomic word (see the states below), so a
// wakeup that arrives before the goroutine is switched out is never lost
// (invariant 2 in docs/design.md) and ready() is called only for a goroutine that is
// really parked (invariant 1).
//
// Rejected: parking with the queue lock held and releasing it in the park
// commit (Go's goparkunlock, runtime::park_unlock). It is as cheap, but the
// lock then stays held across the switch and is released by another fibre
// (the scheduler's), which TSan's fiber API reports as a bad unlock, and
// every waker contends for the lock for the whole switch.
#pragma once

#include <atomic>
#include <cstdint>

#include "gofer/detail/chan_core.h"
#include "runtime/park.h"

namespace gofer::detail {

// A one-shot wakeup token.
//
// States (the only transitions, each one atomic operation):
//   waiting -> parked  by the owner's park commit, on the scheduler stack
//                      after the switch: from then on the waker must ready().
//   waiting -> woken   by the waker before the owner parked: the commit fails
//                      and the owner resumes at once.
//   parked  -> woken   by the waker, which then calls runtime::ready(g).
// The owner owns the Parker; it must stay alive until park() returned.
struct Parker {
  enum : std::uint32_t { waiting = 0, parked = 1, woken = 2 };

  Parker() noexcept : g(runtime::current_g()) {}
  Parker(const Parker&) = delete;
  Parker& operator=(const Parker&) = delete;

  runtime::G* const g;  // the owner; nullptr if not created on a goroutine
  std::atomic<std::uint32_t> state{waiting};
};

// Parks the calling goroutine until unpark(p). Fatal outside a goroutine.
void park(Parker& p, runtime::WaitReason reason);
// Wakes p's owner. p may be gone when this returns: the caller must read
// what it needs from the waiter's record before calling.
void unpark(Parker& p) noexcept;

// Shared by the ChanWaiters of one blocked select.
struct SelectState {
  // 0 until one waker wins the select by CAS 0 -> 1. acq_rel: the competing
  // wakers' CASes pair with each other; the winner's later writes (`winner`,
  // the element, `success`) reach the select's goroutine through the
  // Parker's release (unpark) / acquire (park).
  std::atomic<std::uint32_t> done{0};
  ChanWaiter* winner = nullptr;  // written by the winning waker before unpark
  Parker parker;
};

// Prints "fatal error: <message>" and aborts (Go's fatal/throw): for
// misuse that leaves no consistent state to continue from.
[[noreturn]] void fatal(const char* message) noexcept;

// A fast per-thread pseudo-random number (Go's cheaprand). Not
// cryptographic; never keeps a thread_local address across a switch.
std::uint32_t fastrand() noexcept;
// Uniform in [0, n) (Lemire's multiply-shift; n > 0).
inline std::uint32_t fastrandn(std::uint32_t n) noexcept {
  return static_cast<std::uint32_t>((static_cast<std::uint64_t>(fastrand()) * n) >> 32);
}

}  // namespace gofer::detail
