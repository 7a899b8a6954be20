// A P's timers: a 4-ary min-heap ordered by `when`, under its own lock.
//
// Two arrays, both dense, so that sifting never touches a timer:
//   heap   entries {when, timer, slot}: sifting compares `when` in one
//          contiguous array instead of chasing pointers into timers spread
//          over goroutine stacks (as Go's heap of timerWhen does).
//   slots  one per armed timer: {timer, its index in heap}. A sift updates
//          the index of each entry it moves here. (It used to write it into
//          the timer itself, a cold line on a sleeping goroutine's stack:
//          with 100,000 sleepers those stores were 90% of a sift-down and a
//          quarter of the CPU of a wake-up.)
// A timer in the heap remembers its slot (Timer::slot_), which finds its
// entry for stop and reset in O(1), then O(log n) to take it out.
//
// Invariants (under mu): for every entry e at index i,
// slots[e.slot].index == i and slots[e.slot].timer->slot_ == e.slot and
// slots[e.slot].timer->when_ == e.when; an entry's when is not less than its
// parent's; free slots are linked through `index` from free_slot; when0 ==
// heap[0].when, or 0 when empty.
#pragma once

#include <atomic>
#include <cstdint>
#include <mutex>
#include <vector>

namespace gofer::runtime {

class Timer;

struct TimerHeap {
  static constexpr std::uint32_t kNoSlot = ~std::uint32_t{0};
  // Most timers one run_due() takes out of the heap under one lock.
  static constexpr int kFireBatch = 16;

  std::mutex mu;
  struct Entry {
    std::int64_t when;
    Timer* timer;
    std::uint32_t slot;
  };
  struct Slot {
    Timer* timer;
    std::uint32_t index;  // in heap; the next free slot while free
  };
  std::vector<Entry> heap;            // guarded by mu
  std::vector<Slot> slots;            // guarded by mu
  std::uint32_t free_slot = kNoSlot;  // guarded by mu
  // Earliest `when` in the heap, 0 if none. Written under mu; read without
  // it by Ms deciding whether to look here and for how long to poll.
  std::atomic<std::int64_t> when0{0};

  void push_locked(Timer* t);
  void remove_locked(Timer* t);

  // Runs the timers due at `now`, earliest first, at most `max_fire` of
  // them (the rest stay due). Callbacks run with no lock held.
  void run_due(std::int64_t now, int max_fire);

  std::size_t size_locked() const noexcept { return heap.size(); }
  // Takes every timer out (the runtime is ending; their owners were
  // abandoned).
  void clear_locked();

 private:
  // Takes up to `max` due timers from the top (periodic ones move on),
  // counting each in its running_. Returns how many, in `due`.
  int take_due_locked(std::int64_t now, int max, Timer** due, std::uint64_t* seqs);
  void place_locked(std::size_t i, Entry e);
  void sift_up_locked(std::size_t i);
  void sift_down_locked(std::size_t i);
  // Takes the entry at i out of the heap (and its timer out of its slot).
  void remove_at_locked(std::size_t i);
  // Takes the entry at i out of the heap, leaving its slot and timer alone.
  void pop_at_locked(std::size_t i);
  std::uint32_t new_slot_locked(Timer* t);
  void free_slot_locked(std::uint32_t slot);
  void update_when0_locked();
};

}  // namespace gofer::runtime
