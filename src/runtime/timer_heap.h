// A P's timers: a 4-ary min-heap ordered by `when`, under its own lock.
// Each entry keeps its timer's `when` beside the pointer (as Go's heap of
// timerWhen does): sifting compares entries in one contiguous array instead
// of chasing pointers into timers spread over goroutine stacks — measured
// with 100,000 sleeping goroutines, those cache misses dominated the cost
// of a wake-up.
// Invariants (under mu): heap[i].timer->heap_index_ == i;
// heap[i].when == heap[i].timer->when_; an entry's when is not less than
// its parent's; when0 == heap[0].when, or 0 when empty.
#pragma once

#include <atomic>
#include <cstdint>
#include <mutex>
#include <vector>

namespace gofer::runtime {

class Timer;

struct TimerHeap {
  std::mutex mu;
  struct Entry {
    std::int64_t when;
    Timer* timer;
  };
  std::vector<Entry> heap;  // guarded by mu
  // Earliest `when` in the heap, 0 if none. Written under mu; read without
  // it by Ms deciding whether to look here and for how long to poll.
  std::atomic<std::int64_t> when0{0};

  void push_locked(Timer* t);
  void remove_locked(Timer* t);

  // Runs every timer due at `now`. Returns the earliest remaining `when`
  // (0 if none). Callbacks run with no lock held.
  std::int64_t run_due(std::int64_t now);

 private:
  void sift_up_locked(std::size_t i);
  void sift_down_locked(std::size_t i);
  void update_when0_locked();
};

}  // namespace gofer::runtime
