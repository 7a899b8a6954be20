// A P's local run queue: a bounded single-producer, multi-consumer ring plus
// a `runnext` slot (Go's runqput/runqget/runqsteal).
//
// Only the M that holds the P pushes (put) — at the tail, with a release
// store of tail that publishes the slot. Any M may take from the head by CAS
// (the owner in get, thieves in steal), so head only moves forward.
// runnext holds the goroutine that was just made ready by the running one
// (a channel partner, a spawned child): it runs next, inheriting the rest of
// the time slice, which keeps a ping-pong pair on one P and its caches.
//
// Invariants: 0 <= tail - head <= kSize; slots [head, tail) hold runnable Gs;
// the owner writes a slot only at index tail, which no consumer reads until
// tail is published.
#pragma once

#include <atomic>
#include <cstdint>

#include "runtime/g.h"

namespace gofer::runtime {

class RunQueue {
 public:
  static constexpr std::uint32_t kSize = 256;

  // Owner only. Returns false when the ring is full (the caller then moves
  // half of it to the global queue with take_half_for_global).
  bool put_tail(G* g) noexcept {
    std::uint32_t h = head_.load(std::memory_order_acquire);  // pairs with consumers' CAS
    std::uint32_t t = tail_.load(std::memory_order_relaxed);
    if (t - h >= kSize) return false;
    slots_[t % kSize].store(g, std::memory_order_relaxed);
    tail_.store(t + 1, std::memory_order_release);  // publishes the slot to consumers
    return true;
  }

  // Owner only: puts g in runnext; returns the G it displaced (or nullptr),
  // which the caller must put at the tail.
  G* put_next(G* g) noexcept { return runnext_.exchange(g, std::memory_order_acq_rel); }

  // Owner only: takes runnext if set, else the head.
  G* get() noexcept {
    G* next = runnext_.load(std::memory_order_relaxed);
    // A thief may take runnext too, hence the CAS.
    while (next != nullptr) {
      if (runnext_.compare_exchange_weak(next, nullptr, std::memory_order_acq_rel)) return next;
    }
    for (;;) {
      std::uint32_t h = head_.load(std::memory_order_acquire);
      std::uint32_t t = tail_.load(std::memory_order_relaxed);
      if (t == h) return nullptr;
      G* g = slots_[h % kSize].load(std::memory_order_relaxed);
      if (head_.compare_exchange_weak(h, h + 1, std::memory_order_release)) return g;
    }
  }

  // Owner only, when the ring is full: takes half of it, plus `extra`, as a
  // linked list (through schedlink) for the global queue. Returns nullptr if
  // a thief emptied some of it meanwhile (then retry put_tail).
  G* take_half_for_global(G* extra, int* count) noexcept;

  // Any M: moves about half of `victim`'s Gs into this (the thief's own,
  // empty) queue and returns one of them to run. With steal_next, runnext
  // may be taken too (only when the victim seems to keep it for long).
  G* steal_from(RunQueue& victim, bool steal_next) noexcept;

  // Forgets every G in the queue. Only while no M runs (between runs).
  void clear() noexcept {
    head_.store(0, std::memory_order_relaxed);
    tail_.store(0, std::memory_order_relaxed);
    runnext_.store(nullptr, std::memory_order_relaxed);
  }

  // Owner only: the k-th goroutine the FIFO part would hand out next
  // (runnext aside), or nullptr. A hint: a thief may take it meanwhile.
  G* peek(std::uint32_t k) const noexcept {
    std::uint32_t h = head_.load(std::memory_order_relaxed);
    std::uint32_t t = tail_.load(std::memory_order_relaxed);
    return t - h > k ? slots_[(h + k) % kSize].load(std::memory_order_relaxed) : nullptr;
  }

  bool empty() const noexcept {
    // A consistent snapshot is not needed: callers re-check under a lock or
    // with a CAS before relying on it.
    return head_.load(std::memory_order_acquire) == tail_.load(std::memory_order_acquire) &&
           runnext_.load(std::memory_order_acquire) == nullptr;
  }
  std::uint32_t size() const noexcept {
    std::uint32_t h = head_.load(std::memory_order_acquire);
    std::uint32_t t = tail_.load(std::memory_order_acquire);
    return (t - h) + (runnext_.load(std::memory_order_relaxed) != nullptr ? 1 : 0);
  }

 private:
  // Takes up to half of this queue into `out` starting at out_start;
  // returns how many. Any M.
  std::uint32_t grab(std::atomic<G*>* out, std::uint32_t out_start, bool steal_next) noexcept;

  alignas(64) std::atomic<std::uint32_t> head_{0};
  alignas(64) std::atomic<std::uint32_t> tail_{0};
  std::atomic<G*> runnext_{nullptr};
  std::atomic<G*> slots_[kSize] = {};
};

}  // namespace gofer::runtime
