// Note: a one-shot sleep/wake-up event for an OS thread, on a futex (Go's
// note). An idle M sleeps on its note; whoever hands it a P wakes it.
// Invariants: sleep() is called only by the owning thread; each wakeup()
// is matched by at most one return from sleep(); clear() re-arms it.
#pragma once

#include <linux/futex.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <cstdint>

namespace gofer::runtime {

class Note {
 public:
  void clear() noexcept { key_.store(0, std::memory_order_relaxed); }

  // Release: what the waker wrote before wakeup() is visible after sleep().
  void wakeup() noexcept {
    if (key_.exchange(1, std::memory_order_release) == 0) {
      ::syscall(SYS_futex, reinterpret_cast<std::uint32_t*>(&key_), FUTEX_WAKE_PRIVATE, 1,
                nullptr, nullptr, 0);
    }
  }

  void sleep() noexcept {
    // Acquire pairs with the release exchange in wakeup().
    while (key_.load(std::memory_order_acquire) == 0) {
      ::syscall(SYS_futex, reinterpret_cast<std::uint32_t*>(&key_), FUTEX_WAIT_PRIVATE, 0,
                nullptr, nullptr, 0);
    }
  }

 private:
  std::atomic<std::uint32_t> key_{0};
  static_assert(sizeof(std::atomic<std::uint32_t>) == sizeof(std::uint32_t));
};

}  // namespace gofer::runtime
