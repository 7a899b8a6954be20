#include "runtime/timer.h"

#include <sched.h>

#include <algorithm>

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

std::uint32_t TimerHeap::new_slot_locked(Timer* t) {
  std::uint32_t slot = free_slot;
  if (slot == kNoSlot) {
    slot = static_cast<std::uint32_t>(slots.size());
    slots.push_back(Slot{t, 0});
  } else {
    free_slot = slots[slot].index;
    slots[slot].timer = t;
  }
  return slot;
}

void TimerHeap::free_slot_locked(std::uint32_t slot) {
  slots[slot].timer = nullptr;
  slots[slot].index = free_slot;
  free_slot = slot;
}

void TimerHeap::place_locked(std::size_t i, Entry e) {
  heap[i] = e;
  slots[e.slot].index = static_cast<std::uint32_t>(i);
}

void TimerHeap::sift_up_locked(std::size_t i) {
  Entry e = heap[i];
  while (i > 0) {
    std::size_t parent = (i - 1) / 4;
    if (heap[parent].when <= e.when) break;
    place_locked(i, heap[parent]);
    i = parent;
  }
  place_locked(i, e);
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
    place_locked(i, heap[best]);
    i = best;
  }
  place_locked(i, e);
}

void TimerHeap::push_locked(Timer* t) {
  std::uint32_t slot = new_slot_locked(t);
  t->slot_ = slot;
  heap.push_back(Entry{t->when_, t, slot});
  sift_up_locked(heap.size() - 1);
  update_when0_locked();
}

void TimerHeap::remove_at_locked(std::size_t i) {
  std::uint32_t slot = heap[i].slot;
  Timer* t = slots[slot].timer;
  t->slot_ = kNoSlot;
  // Release: run_due counted the callback in running_ before this; pairs
  // with stop_sync's acquire fast path.
  t->armed_.store(false, std::memory_order_release);
  free_slot_locked(slot);
  pop_at_locked(i);
}

void TimerHeap::pop_at_locked(std::size_t i) {
  Entry last = heap.back();
  heap.pop_back();
  if (i < heap.size()) {
    place_locked(i, last);
    sift_up_locked(i);
    sift_down_locked(slots[last.slot].index);
  }
}

void TimerHeap::remove_locked(Timer* t) {
  GOFER_CHECK(t->slot_ < slots.size() && slots[t->slot_].timer == t,
              "timer heap corrupted (slot {})", t->slot_);
  remove_at_locked(slots[t->slot_].index);
  update_when0_locked();
}

void TimerHeap::clear_locked() {
  while (!heap.empty()) remove_at_locked(heap.size() - 1);
  update_when0_locked();
}

int TimerHeap::take_due_locked(std::int64_t now, int max, Timer** due, std::uint64_t* seqs) {
  // Two passes. The first takes the due entries out of the heap without
  // touching their timers (the entries carry `when`) and prefetches each
  // timer; the second writes them. A timer lives in a sleeping goroutine's
  // frame: a cache and TLB miss each, which the prefetches overlap instead
  // of paying one after the other.
  int n = 0;
  while (n < max && !heap.empty() && heap[0].when <= now) {
    std::uint32_t slot = heap[0].slot;
    Timer* t = heap[0].timer;
    __builtin_prefetch(t, 1);
    due[n++] = t;
    free_slot_locked(slot);
    pop_at_locked(0);
  }
  for (int i = 0; i < n; ++i) {
    Timer* t = due[i];
    seqs[i] = t->seq_;
    // Counted under the lock, so that stop_sync(), which takes this lock
    // in stop(), sees a callback that is about to run.
    t->running_.fetch_add(1, std::memory_order_relaxed);
    if (t->period_ > 0) {
      // Skip the periods we are late for, as Go's tickers drop ticks.
      t->when_ += t->period_ * (1 + (now - t->when_) / t->period_);
      push_locked(t);
    } else {
      t->slot_ = kNoSlot;
      // Release: ordered after the running_ increment; pairs with
      // stop_sync's acquire fast path.
      t->armed_.store(false, std::memory_order_release);
    }
  }
  update_when0_locked();
  return n;
}

void TimerHeap::run_due(std::int64_t now, int max_fire) {
  // Batches under one lock: one lock round trip, not one per timer.
  Timer* due[kFireBatch];
  std::uint64_t seqs[kFireBatch];
  while (max_fire > 0) {
    int n;
    {
      std::lock_guard lock(mu);
      n = take_due_locked(now, std::min(max_fire, kFireBatch), due, seqs);
    }
    for (int i = 0; i < n; ++i) {
      Timer* t = due[i];
      t->callback_(t->arg_, seqs[i]);
      // Release: pairs with stop_sync()'s acquire load; the callback's
      // effects happen before the owner frees the timer. The last touch of
      // t: its owner may free it from here on.
      t->running_.fetch_sub(1, std::memory_order_release);
    }
    if (n < kFireBatch) return;
    max_fire -= n;
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
  // The caller's P if it has one (its timers fire there), else the one this
  // timer was in.
  M* m = current_m();
  P* target = (m != nullptr && m->p != nullptr) ? m->p : (p_ != nullptr ? p_ : sched->allp[0]);
  if (p_ != nullptr && p_ != target) {
    std::lock_guard heap_lock(p_->timers.mu);
    if (slot_ != TimerHeap::kNoSlot) {
      p_->timers.remove_locked(this);
      was_pending = true;
    }
  }
  p_ = target;
  std::uint64_t seq;
  {
    std::lock_guard heap_lock(target->timers.mu);
    if (slot_ != TimerHeap::kNoSlot) {
      // Pending in the same heap: moved in place.
      target->timers.remove_locked(this);
      was_pending = true;
    }
    when_ = when;
    period_ = period;
    seq = ++seq_;
    armed_.store(true, std::memory_order_relaxed);
    target->timers.push_locked(this);
  }
  if (seq_out != nullptr) *seq_out = seq;
  netpoll_timer_added(target, when);
  return was_pending;
}

bool Timer::stop() {
  std::lock_guard lock(mu_);
  if (p_ == nullptr) return false;
  std::lock_guard heap_lock(p_->timers.mu);
  ++seq_;  // a fire already under way for the old arming is now stale
  if (slot_ == TimerHeap::kNoSlot) return false;
  p_->timers.remove_locked(this);
  return true;
}

void Timer::stop_sync() {
  // Acquire: pairs with the release store when run_due took it out.
  if (armed_.load(std::memory_order_acquire)) {
    stop();
  } else {
    // Fired, stopped or never armed: no heap lock to take. But a reset()
    // or stop() may still be finishing on another M (a sleep's timer fires,
    // and its goroutine runs on, while the M that armed it is still inside
    // reset()): they hold mu_ until their last touch of the timer.
    std::lock_guard lock(mu_);
  }
  // Acquire: pairs with run_due()'s release decrement.
  while (running_.load(std::memory_order_acquire) != 0) ::sched_yield();
}

bool Timer::pending() const noexcept {
  auto* self = const_cast<Timer*>(this);
  std::lock_guard lock(self->mu_);
  if (p_ == nullptr) return false;
  std::lock_guard heap_lock(p_->timers.mu);
  return slot_ != TimerHeap::kNoSlot;
}

// ---- sleep ----------------------------------------------------------------

namespace {

struct Sleeper {
  G* g;
  std::int64_t when;
  Timer timer;  // its destructor waits for commit's reset() to let go of it
  Sleeper(G* g, std::int64_t when) : g(g), when(when), timer(&wake, this) {}

  static void wake(void* arg, std::uint64_t) noexcept { ready(static_cast<Sleeper*>(arg)->g); }
  // Arms the timer only once the goroutine is off its stack, so the timer
  // cannot ready a goroutine that is still running.
  static bool commit(G*, void* arg) noexcept {
    auto* s = static_cast<Sleeper*>(arg);
    s->timer.reset(s->when);
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
