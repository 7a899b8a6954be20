// Runtime timers: what sleep, Timer/Ticker, context deadlines and I/O
// deadlines are built on.
//
// Each P owns a 4-ary min-heap of timers, protected by the P's timer lock.
// A timer lives in at most one heap at a time and remembers which (`p_`), so
// stop and reset take that P's lock only. Due timers are run by whichever M
// looks for work (its own P first, others' while stealing), and the one M
// that blocks in the netpoller uses the earliest `when` of all Ps as its
// timeout, so an idle process with sleeping goroutines sleeps in one
// epoll_wait (invariant 5 in docs/design.md).
//
// Unlike Go's timers (which run in the timer's P and delete lazily), a stopped
// timer leaves its heap at once (O(log n) through its stored index): deadlines
// are mostly cancelled, and lazy deletion would let cancelled timers pile up.
//
// Callbacks run on an M's scheduler stack with no lock held: they must not
// park or block; they may call ready(), or try_send on a channel.
// reset() and stop() never wait for a running callback (only stop_sync and
// the destructor do), so they may be called under a lock the callback takes.
#pragma once

#include <atomic>
#include <cstdint>
#include <mutex>

namespace gofer::runtime {

struct P;

class Timer {
 public:
  // `seq` is the value of the timer's sequence counter when it was armed;
  // owners that re-arm a timer use it to ignore stale fires.
  using Callback = void (*)(void* arg, std::uint64_t seq) noexcept;

  Timer(Callback callback, void* arg) noexcept : callback_(callback), arg_(arg) {}
  // Stops the timer and waits for a callback that is running right now.
  // Must not run while a reset() of this timer is still under way: a timer
  // that fired skips every lock here, so nothing else would wait for
  // reset() to let go of the timer (see Sleeper in timer.cpp).
  ~Timer();
  Timer(const Timer&) = delete;
  Timer& operator=(const Timer&) = delete;

  // Arms the timer to fire at `when` (nanotime() clock) and then, if
  // period > 0, every `period` ns. Re-arming a pending timer moves it.
  // Returns true if it was pending. Returns the new sequence number in *seq.
  bool reset(std::int64_t when, std::int64_t period = 0, std::uint64_t* seq = nullptr);
  // Disarms the timer. Returns true if it was pending (so it will not fire).
  bool stop();
  // stop(), then waits until no callback of this timer is running.
  void stop_sync();

  bool pending() const noexcept;

 private:
  friend struct TimerHeap;
  friend struct P;

  Callback callback_;
  void* arg_;
  std::mutex mu_;                 // serialises reset/stop of this timer; taken before p->timers.mu
  P* p_ = nullptr;                // heap this timer is in or was last in; guarded by mu_
  std::int64_t when_ = 0;         // guarded by p_->timers.mu while in a heap
  std::int64_t period_ = 0;       // guarded by p_->timers.mu
  std::uint64_t seq_ = 0;         // guarded by p_->timers.mu
  std::int32_t heap_index_ = -1;  // -1: not in a heap; guarded by p_->timers.mu
  std::atomic<int> running_{0};   // callbacks in progress (stop_sync waits for 0)
  // In a heap (written under the heap's lock; read without it by stop_sync's
  // fast path).
  std::atomic<bool> armed_{false};
};

// Parks the current goroutine until nanotime() >= when.
void sleep_until_ns(std::int64_t when);

}  // namespace gofer::runtime
