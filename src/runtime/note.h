// Note: a one-shot sleep/wake-up event for an OS thread, on a futex (Go's
// note). An idle M sleeps on its note; whoever hands it a P wakes it.
// Invariants: sleep() is called only by the owning thread; each wakeup()
// is matched by at most one return from sleep(); clear() re-arms it.
#pragma once

#include <linux/futex.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <mutex>

namespace gofer::runtime {

#if defined(GOFER_TSAN)
// TSan holds an asynchronous signal's handler back until the thread that took
// it passes one of TSan's interceptors or waits in one, and a raw futex
// syscall is neither: with every M asleep on its note, a SIGTERM's handler
// would never run (gofer::signal::notify would never hear of it). Under TSan
// the note sleeps in pthread_cond_wait, which TSan intercepts.
class Note {
 public:
  void clear() noexcept {
    std::lock_guard lock(mu_);
    woken_ = false;
  }

  void wakeup() noexcept {
    std::lock_guard lock(mu_);
    woken_ = true;
    cv_.notify_one();
  }

  void sleep() noexcept {
    std::unique_lock lock(mu_);
    cv_.wait(lock, [this] { return woken_; });
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  bool woken_ = false;
};
#else
class Note {
 public:
  void clear() noexcept { key_.store(0, std::memory_order_relaxed); }

  // Release: what the waker wrote before wakeup() is visible after sleep().
  void wakeup() noexcept {
    if (key_.exchange(1, std::memory_order_release) == 0) {
      ::syscall(SYS_futex, reinterpret_cast<std::uint32_t*>(&key_), FUTEX_WAKE_PRIVATE, 1, nullptr,
                nullptr, 0);
    }
  }

  void sleep() noexcept {
    // Acquire pairs with the release exchange in wakeup().
    while (key_.load(std::memory_order_acquire) == 0) {
      ::syscall(SYS_futex, reinterpret_cast<std::uint32_t*>(&key_), FUTEX_WAIT_PRIVATE, 0, nullptr,
                nullptr, 0);
    }
  }

 private:
  std::atomic<std::uint32_t> key_{0};
  static_assert(sizeof(std::atomic<std::uint32_t>) == sizeof(std::uint32_t));
};
#endif

}  // namespace gofer::runtime
