#include "runtime/timer.h"

#include <sched.h>

#include "gofer/runtime.h"
#include "runtime/fatal.h"
#include "runtime/sched.h"
#include "runtime/timer_heap.h"

namespace gofer::runtime {

// ---- TimerHeap ------------------------------------------------------------

void TimerHeap::update_when0_locked() {
  // seq_cst: pairs with the netpoller's "store poll_until; load when0" (see
  // netpoll_wake_if_later), so either the poller sees this timer or the
  // adder sees the poller's deadline and wakes it.
  when0.store(heap.empty() ? 0 : heap[0].when, std::memory_order_seq_cst);
}

void TimerHeap::sift_up_locked(std::size_t i) {
  Entry e = heap[i];
  while (i > 0) {
    std::size_t parent = (i - 1) / 4;
    if (heap[parent].when <= e.when) break;
    heap[i] = heap[parent];
    heap[i].timer->heap_index_ = static_cast<std::int32_t>(i);
    i = parent;
  }
  heap[i] = e;
  e.timer->heap_index_ = static_cast<std::int32_t>(i);
}

void TimerHeap::sift_down_locked(std::size_t i) {
  Entry e = heap[i];
  std::size_t n = heap.size();
  for (;;) {
    std::size_t first = 4 * i + 1;
    if (first >= n) break;
    std::size_t best = first;
    for (std::size_t c = first + 1; c < first + 4 && c < n; ++c) {
      if (heap[c].when < heap[best].when) best = c;
    }
    if (heap[best].when >= e.when) break;
    heap[i] = heap[best];
    heap[i].timer->heap_index_ = static_cast<std::int32_t>(i);
    i = best;
  }
  heap[i] = e;
  e.timer->heap_index_ = static_cast<std::int32_t>(i);
}

void TimerHeap::push_locked(Timer* t) {
  heap.push_back(Entry{t->when_, t});
  sift_up_locked(heap.size() - 1);
  update_when0_locked();
}

void TimerHeap::remove_locked(Timer* t) {
  std::size_t i = static_cast<std::size_t>(t->heap_index_);
  GOFER_CHECK(i < heap.size() && heap[i].timer == t, "timer heap corrupted (index {})", i);
  Entry last = heap.back();
  heap.pop_back();
  t->heap_index_ = -1;
  // Release: run_due counted the callback in running_ before this; pairs
  // with stop_sync's acquire fast path.
  t->armed_.store(false, std::memory_order_release);
  if (last.timer != t) {
    heap[i] = last;
    last.timer->heap_index_ = static_cast<std::int32_t>(i);
    sift_up_locked(i);
    sift_down_locked(static_cast<std::size_t>(last.timer->heap_index_));
  }
  update_when0_locked();
}

std::int64_t TimerHeap::run_due(std::int64_t now) {
  for (;;) {
    Timer* t;
    std::uint64_t seq;
    {
      std::lock_guard lock(mu);
      if (heap.empty()) return 0;
      if (heap[0].when > now) return heap[0].when;
      t = heap[0].timer;
      seq = t->seq_;
      // Counted under the lock, so that stop_sync(), which takes this lock
      // in stop(), sees a callback that is about to run.
      t->running_.fetch_add(1, std::memory_order_relaxed);
      if (t->period_ > 0) {
        // Skip the periods we are late for, as Go's tickers drop ticks.
        t->when_ += t->period_ * (1 + (now - t->when_) / t->period_);
        heap[0].when = t->when_;
        sift_down_locked(0);
        update_when0_locked();
      } else {
        remove_locked(t);
      }
    }
    t->callback_(t->arg_, seq);
    // Release: pairs with stop_sync()'s acquire load; the callback's effects
    // happen before the owner frees the timer.
    t->running_.fetch_sub(1, std::memory_order_release);
  }
}

// ---- Timer ----------------------------------------------------------------

Timer::~Timer() {
  stop_sync();
}

bool Timer::reset(std::int64_t when, std::int64_t period, std::uint64_t* seq_out) {
  std::lock_guard lock(mu_);
  bool was_pending = false;
  Sched* sched = g_sched;
  GOFER_CHECK(sched != nullptr, "timer armed while the runtime is not running");
  if (p_ != nullptr) {
    std::lock_guard heap_lock(p_->timers.mu);
    if (heap_index_ >= 0) {
      p_->timers.remove_locked(this);
      was_pending = true;
    }
  }
  // The caller's P if it has one (its M checks its own heap first), else
  // the one this timer was in.
  M* m = current_m();
  P* target = (m != nullptr && m->p != nullptr) ? m->p : (p_ != nullptr ? p_ : sched->allp[0]);
  std::uint64_t seq;
  {
    std::lock_guard heap_lock(target->timers.mu);
    when_ = when;
    period_ = period;
    seq = ++seq_;
    armed_.store(true, std::memory_order_relaxed);
    target->timers.push_locked(this);
  }
  p_ = target;
  if (seq_out != nullptr) *seq_out = seq;
  netpoll_wake_if_later(when);
  return was_pending;
}

bool Timer::stop() {
  std::lock_guard lock(mu_);
  if (p_ == nullptr) return false;
  std::lock_guard heap_lock(p_->timers.mu);
  ++seq_;  // a fire already under way for the old arming is now stale
  if (heap_index_ < 0) return false;
  p_->timers.remove_locked(this);
  return true;
}

void Timer::stop_sync() {
  // Fast path for a one-shot timer that fired (a sleep's, usually): it is in
  // no heap, so there is nothing to take out and no lock to take. Acquire
  // pairs with the release store when run_due took it out.
  if (!armed_.load(std::memory_order_acquire)) {
    while (running_.load(std::memory_order_acquire) != 0) ::sched_yield();
    return;
  }
  stop();
  // Acquire: pairs with run_due()'s release decrement.
  while (running_.load(std::memory_order_acquire) != 0) ::sched_yield();
}

bool Timer::pending() const noexcept {
  auto* self = const_cast<Timer*>(this);
  std::lock_guard lock(self->mu_);
  if (p_ == nullptr) return false;
  std::lock_guard heap_lock(p_->timers.mu);
  return heap_index_ >= 0;
}

// ---- sleep ----------------------------------------------------------------

namespace {

struct Sleeper {
  G* g;
  std::int64_t when;
  Timer timer;
  // Set when commit() has finished with the timer. The timer can fire, and
  // the sleeper resume, while reset() on the scheduler stack is still
  // writing the timer and unlocking its mutex; the sleeper must not destroy
  // the timer (its stack frame) before that.
  std::atomic<bool> armed{false};
  Sleeper(G* g, std::int64_t when) : g(g), when(when), timer(&wake, this) {}
  ~Sleeper() {
    // Acquire: pairs with commit's release, after reset()'s last write.
    while (!armed.load(std::memory_order_acquire)) ::sched_yield();
  }

  static void wake(void* arg, std::uint64_t) noexcept { ready(static_cast<Sleeper*>(arg)->g); }
  // Arms the timer only once the goroutine is off its stack, so the timer
  // cannot ready a goroutine that is still running.
  static bool commit(G*, void* arg) noexcept {
    auto* s = static_cast<Sleeper*>(arg);
    s->timer.reset(s->when);
    s->armed.store(true, std::memory_order_release);  // the last touch of *s
    return true;
  }
};

}  // namespace

void sleep_until_ns(std::int64_t when) {
  G* g = current_g();
  GOFER_CHECK(g != nullptr, "sleep called outside a goroutine");
  if (when <= nanotime()) {
    gofer::yield();
    return;
  }
  Sleeper sleeper(g, when);
  park(&Sleeper::commit, &sleeper, WaitReason::sleep);
}

}  // namespace gofer::runtime
