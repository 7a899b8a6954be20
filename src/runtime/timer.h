// Runtime timers: what sleep, Timer/Ticker, context deadlines and I/O
// deadlines are built on.
//
// Each P owns a 4-ary min-heap of timers (timer_heap.h), protected by the
// P's timer lock. A timer is armed in the heap of the P its caller holds
// and remembers which (`p_`), so stop and reset take that P's lock only.
// Timers fire on the P that owns them: the M that holds a P runs that P's
// due timers each time it looks for work, and the goroutines they ready
// queue on that P. Another P's timers are run only by an M that found
// nothing else to do (so that a P whose M is stuck in one long goroutine,
// or that no M holds, still has its timers fire). The one M that blocks in
// the netpoller sleeps until the earliest `when` of all Ps, then takes the
// P that owns that timer (invariant 5 in docs/design.md: an idle process with sleeping
// goroutines sleeps in one epoll_wait, and a timer firing wakes one M).
//
// Unlike Go's timers (which delete lazily), a stopped timer leaves its heap
// at once (O(log n) through its slot): deadlines are mostly cancelled, and
// lazy deletion would let cancelled timers pile up.
//
// Callbacks run on an M's scheduler stack with no lock held: they must not
// park or block; they may call ready(), or try_send on a channel.
// reset() and stop() never wait for a running callback (only stop_sync and
// the destructor do), so they may be called under a lock the callback takes.
//
// Lifetime: a Timer may live in a goroutine's frame (sleep does this) and
// may fire, and its goroutine run on and return, while the M that armed it
// is still inside reset(). The destructor therefore waits for both a
// callback that is running (running_) and a reset()/stop() that is still
// under way on another M (mu_, held until their last touch of the timer);
// run_due's last touch is the release of running_. Owners need no protocol
// of their own for this.
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
  // Stops the timer, then waits for a callback that is running right now
  // and for a reset() or stop() that another M is still finishing.
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
  // Serialises reset/stop of this timer, taken before p->timers.mu; held by
  // them until their last touch of the timer (the destructor waits on it).
  std::mutex mu_;
  P* p_ = nullptr;           // heap this timer is in or was last in; guarded by mu_
  std::int64_t when_ = 0;    // guarded by p_->timers.mu while in a heap
  std::int64_t period_ = 0;  // guarded by p_->timers.mu
  std::uint64_t seq_ = 0;    // guarded by p_->timers.mu
  // Its slot in p_'s heap (TimerHeap::kNoSlot: in no heap); guarded by
  // p_->timers.mu.
  std::uint32_t slot_ = ~std::uint32_t{0};
  std::atomic<int> running_{0};  // callbacks in progress (stop_sync waits for 0)
  // In a heap (written under the heap's lock; read without it by stop_sync's
  // fast path).
  std::atomic<bool> armed_{false};
};

// Parks the current goroutine until nanotime() >= when.
void sleep_until_ns(std::int64_t when);

}  // namespace gofer::runtime
