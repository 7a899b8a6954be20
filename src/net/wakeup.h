// Wakeup: a one-shot "park until notified, or until a time" for one waiter.
//
// The net layer needs three waits that are neither "fd ready" (the
// PollDesc's job) nor a lock: close() waiting for the last operation in
// flight to release the fd, accept's EMFILE back-off sleep that close() must
// cut short, and a connect waiting for the goroutine that watched its
// context to exit. Each has exactly one waiter and one or two wakers (notify() and,
// with a timeout, a runtime timer).
//
// The slot word (invariant 2 in docs/design.md, as in PollDesc):
//   kEmpty     nobody waits and nothing happened
//   kNotified  notify() ran (terminal until reset())
//   kTimedOut  the timer fired first
//   G*         the waiter is parked
// The waiter publishes G* by CAS from kEmpty in its park commit (on g0, after
// it switched out), so a waker never readies a running goroutine; wakers take
// a G* out by exchange/CAS, so the goroutine is readied exactly once.
// notify()'s exchange is its last access to the Wakeup: the woken waiter may
// free it at once (close() relies on this).
#pragma once

#include <atomic>
#include <cstdint>

#include "runtime/park.h"

namespace gofer::net::detail {

class Wakeup {
 public:
  // Waits until notify() (returns true) or until nanotime() >= when (returns
  // false); when == 0: no time limit. Outside a goroutine (a Conn destroyed
  // on a foreign thread) it spins with sched_yield; only without a limit.
  bool wait(std::int64_t when, runtime::WaitReason reason);
  // Wakes the waiter, or makes its next wait() return at once.
  void notify();
  // After a timed-out wait, makes the Wakeup reusable — unless notify()
  // arrived meanwhile, which stays pending.
  void reset_timeout() noexcept;
  bool notified() const noexcept;

 private:
  static void on_timer(void* arg, std::uint64_t seq) noexcept;
  static bool commit(runtime::G* g, void* arg) noexcept;

  std::atomic<std::uintptr_t> slot_{kEmpty};

  static constexpr std::uintptr_t kEmpty = 0;
  static constexpr std::uintptr_t kNotified = 1;
  static constexpr std::uintptr_t kTimedOut = 2;
};

}  // namespace gofer::net::detail
