// Where an M's time goes, for the debug layer's charts (/debug/gofer/series):
// the M marks each change of what it does, and a reader on another thread
// adds up how long it spent doing each thing, without stopping it.
//
// Cost: the transitions are the scheduler's slow paths — an M about to sleep
// in epoll_wait or on its futex, just woken, starting or stopping to spin,
// entering or leaving blocking() — never a goroutine switch. Each reads
// coarse_nanotime() (CLOCK_MONOTONIC_COARSE: a few ns, no rdtsc) and makes a
// handful of relaxed stores to memory only this M writes. A stretch shorter
// than the kernel's tick is counted as a whole tick or as nothing, depending
// on whether a tick fell inside it; over the many stretches of a loaded
// second the sum is right on average, and a stretch of idle is exact to a
// tick.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>

#include "runtime/park.h"

namespace gofer::runtime {

// What an M is doing. "running" covers running goroutines and the scheduler
// between them (finding the next one, timers): the M is awake and not
// spinning.
enum class MState : std::uint8_t { running, spinning, netpoll, futex, blocking };
inline constexpr int kMStates = 5;
const char* to_string(MState state) noexcept;

class MStateClock {
 public:
  // Time spent in each state since start(), as of `now`
  // (coarse_nanotime()), and the state at that moment.
  struct Reading {
    MState state = MState::running;
    std::array<std::int64_t, kMStates> ns{};
  };

  // Owner only, before any reader can see the M (under Sched::mu with the M
  // added to allm, or before its thread starts).
  void start(MState state) noexcept {
    since_.store(coarse_nanotime(), std::memory_order_relaxed);
    state_.store(state, std::memory_order_relaxed);
  }

  // Owner only: the M now does `state`. A sequence lock lets readers see the
  // state, its start and the totals as one: the odd count is made visible
  // before the fields change (release fence), the even one after (release
  // store); read() pairs with both (acquire).
  void enter(MState state) noexcept {
    MState old = state_.load(std::memory_order_relaxed);
    if (old == state) return;
    std::int64_t now = coarse_nanotime();
    std::uint32_t seq = seq_.load(std::memory_order_relaxed);
    seq_.store(seq + 1, std::memory_order_relaxed);
    std::atomic_thread_fence(std::memory_order_release);
    auto& total = total_[static_cast<int>(old)];
    total.store(
        total.load(std::memory_order_relaxed) + now - since_.load(std::memory_order_relaxed),
        std::memory_order_relaxed);
    since_.store(now, std::memory_order_relaxed);
    state_.store(state, std::memory_order_relaxed);
    seq_.store(seq + 2, std::memory_order_release);
  }

  // Any thread. The totals add up to `now` minus start(). A change the M
  // made just before `now` but had not yet published is seen by the next
  // read: a total may then come out a moment (under a tick) smaller than
  // it was here, so a reader takes differences clamped at 0.
  Reading read(std::int64_t now) const noexcept {
    Reading r;
    for (;;) {
      std::uint32_t before = seq_.load(std::memory_order_acquire);
      r.state = state_.load(std::memory_order_relaxed);
      std::int64_t since = since_.load(std::memory_order_relaxed);
      for (int i = 0; i < kMStates; ++i) r.ns[i] = total_[i].load(std::memory_order_relaxed);
      std::atomic_thread_fence(std::memory_order_acquire);
      if ((before & 1) == 0 && seq_.load(std::memory_order_relaxed) == before) {
        // `now` was read before the loop and the stretch may have begun
        // after it: clamp, so that a total never goes back.
        if (now > since) r.ns[static_cast<int>(r.state)] += now - since;
        return r;
      }
    }
  }

 private:
  std::atomic<std::uint32_t> seq_{0};  // odd while enter() changes the fields
  std::atomic<MState> state_{MState::running};
  std::atomic<std::int64_t> since_{0};
  std::array<std::atomic<std::int64_t>, kMStates> total_{};
};

}  // namespace gofer::runtime
