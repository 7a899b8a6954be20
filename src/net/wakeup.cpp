#include "net/wakeup.h"

#include <sched.h>

#include "gofer/runtime.h"
#include "runtime/timer.h"

namespace gofer::net::detail {

bool Wakeup::commit(runtime::G* g, void* arg) noexcept {
  auto* slot = static_cast<std::atomic<std::uintptr_t>*>(arg);
  std::uintptr_t expected = kEmpty;
  // seq_cst: pairs with notify()'s exchange and on_timer's CAS; if either ran
  // first, the CAS fails and the goroutine resumes at once.
  return slot->compare_exchange_strong(expected, reinterpret_cast<std::uintptr_t>(g),
                                       std::memory_order_seq_cst);
}

void Wakeup::on_timer(void* arg, std::uint64_t) noexcept {
  auto* self = static_cast<Wakeup*>(arg);
  std::uintptr_t old = self->slot_.load(std::memory_order_seq_cst);
  for (;;) {
    if (old == kNotified || old == kTimedOut) return;
    if (self->slot_.compare_exchange_weak(old, kTimedOut, std::memory_order_seq_cst)) break;
  }
  if (old != kEmpty) runtime::ready(reinterpret_cast<runtime::G*>(old));
}

bool Wakeup::wait(std::int64_t when, runtime::WaitReason reason) {
  if (!gofer::in_goroutine()) {
    // acquire: pairs with notify()'s exchange (the notifier's writes before
    // it, e.g. the fd's release, are visible).
    while (slot_.load(std::memory_order_acquire) != kNotified) ::sched_yield();
    return true;
  }
  if (when == 0) {
    runtime::park(&commit, &slot_, reason);
  } else {
    // Lives on this stack; stop_sync() in its destructor waits out a
    // callback that is running now, so the callback never sees a dead Wakeup
    // or Timer. The timer may fire before the park commits: then the commit
    // finds kTimedOut and the goroutine does not park.
    runtime::Timer timer(&on_timer, this);
    timer.reset(when);
    runtime::park(&commit, &slot_, reason);
  }
  // The waker replaced G* (or kEmpty) by kNotified/kTimedOut before readying
  // us (or before our commit failed). A notify() after a timeout overwrites
  // kTimedOut: then report the notification.
  return slot_.load(std::memory_order_seq_cst) == kNotified;
}

void Wakeup::notify() {
  // acq_rel: publishes the notifier's writes to the waiter; the last access
  // to *this (see the file comment).
  std::uintptr_t old = slot_.exchange(kNotified, std::memory_order_acq_rel);
  if (old > kTimedOut) runtime::ready(reinterpret_cast<runtime::G*>(old));
}

void Wakeup::reset_timeout() noexcept {
  std::uintptr_t expected = kTimedOut;
  slot_.compare_exchange_strong(expected, kEmpty, std::memory_order_seq_cst);
}

bool Wakeup::notified() const noexcept { return slot_.load(std::memory_order_seq_cst) == kNotified; }

}  // namespace gofer::net::detail
