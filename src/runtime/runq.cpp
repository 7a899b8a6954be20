#include "runtime/runq.h"

#include <sched.h>

namespace gofer::runtime {

G* RunQueue::take_half_for_global(G* extra, int* count) noexcept {
  std::uint32_t h = head_.load(std::memory_order_acquire);
  std::uint32_t t = tail_.load(std::memory_order_relaxed);
  std::uint32_t n = (t - h) / 2;
  if (n != kSize / 2) return nullptr;  // not full any more: a thief took some
  G* batch[kSize / 2 + 1];
  for (std::uint32_t i = 0; i < n; ++i) batch[i] = slots_[(h + i) % kSize].load(std::memory_order_relaxed);
  if (!head_.compare_exchange_strong(h, h + n, std::memory_order_release)) return nullptr;
  batch[n] = extra;
  for (std::uint32_t i = 0; i < n; ++i) batch[i]->schedlink = batch[i + 1];
  extra->schedlink = nullptr;
  *count = static_cast<int>(n + 1);
  return batch[0];
}

std::uint32_t RunQueue::grab(std::atomic<G*>* out, std::uint32_t out_start,
                             bool steal_next) noexcept {
  for (;;) {
    std::uint32_t h = head_.load(std::memory_order_acquire);  // pairs with other consumers
    std::uint32_t t = tail_.load(std::memory_order_acquire);  // pairs with the owner's publish
    std::uint32_t n = t - h;
    n = n - n / 2;
    if (n == 0) {
      if (steal_next) {
        G* next = runnext_.load(std::memory_order_acquire);
        if (next != nullptr) {
          // The victim's M is probably about to run it (it just readied it
          // and will park soon); Go sleeps 3 µs here before taking it, and
          // so do we, to avoid bouncing a ping-pong pair between threads.
          ::sched_yield();
          if (!runnext_.compare_exchange_strong(next, nullptr, std::memory_order_acq_rel)) continue;
          out[out_start % kSize].store(next, std::memory_order_relaxed);
          return 1;
        }
      }
      return 0;
    }
    if (n > kSize / 2) continue;  // read an inconsistent head/tail pair; retry
    for (std::uint32_t i = 0; i < n; ++i) {
      G* g = slots_[(h + i) % kSize].load(std::memory_order_relaxed);
      out[(out_start + i) % kSize].store(g, std::memory_order_relaxed);
    }
    if (head_.compare_exchange_strong(h, h + n, std::memory_order_acq_rel)) return n;
  }
}

G* RunQueue::steal_from(RunQueue& victim, bool steal_next) noexcept {
  std::uint32_t t = tail_.load(std::memory_order_relaxed);
  std::uint32_t n = victim.grab(slots_, t, steal_next);
  if (n == 0) return nullptr;
  --n;
  G* g = slots_[(t + n) % kSize].load(std::memory_order_relaxed);
  if (n == 0) return g;
  tail_.store(t + n, std::memory_order_release);  // publishes the stolen slots
  return g;
}

}  // namespace gofer::runtime
