// Goroutine stacks.
//
// A stack is a range of anonymous memory reserved with MAP_NORESERVE and
// committed lazily by the kernel as the goroutine touches it, so a parked
// goroutine costs the pages its frames reach (usually one) however large its
// stack is. Transparent huge pages are refused (MADV_NOHUGEPAGE): one huge
// page would commit 2 MiB for a stack that touches 4 KiB.
//
// Overflow protection (invariant 6 in docs/design.md) comes in two kinds:
//   guarded — the stack has its own mapping with a PROT_NONE page below it.
//     An overflow faults; the SIGSEGV handler (proc.cpp) names the
//     goroutine and aborts. Costs two kernel mappings per stack.
//   canary  — past the guard budget (vm.max_map_count is 65530 by default,
//     so 1,000,000 guarded stacks are impossible), stacks are carved from
//     slabs of kSlabStacks adjacent stacks, one mapping per slab, with one
//     guard page under the whole slab. The top 64 bytes of every slab stack
//     hold a canary word; an overflow of stack i runs down into the canary
//     of stack i-1, which goroutine i checks every 8th time it switches out
//     and when it exits (goroutine i-1 checks its own at every switch).
//     Detection is then after the fact, but it stops the program with
//     the goroutine's name before the damage spreads. (A frame that jumps
//     over the canary with a large local array can escape it: that is what
//     the guarded stacks, used first, are for.)
// Rejected: a canary at the lowest address of each stack — writing it
// commits the bottom page, doubling the memory of a parked goroutine.
//
// Pools: each P caches a few stacks (no lock); the global pool keeps a bounded
// number "hot" (memory kept) and gives all the pages of the rest back to the
// OS with MADV_DONTNEED (canary page included: a cold slab neighbour reads
// as zero), keeping the address range for reuse.
#pragma once

#include <cstddef>
#include <cstdint>
#include <mutex>
#include <vector>

namespace gofer::runtime {

struct Stack {
  enum class Kind : std::uint8_t {
    none,
    guarded,      // own mapping, guard page below
    slab,         // in a slab, another stack (and its canary) right below
    slab_bottom,  // lowest stack of a slab: the slab's guard page below
    custom,       // a non-default size: own mapping, guard page below, not pooled
  };
  std::uint8_t* lo = nullptr;  // lowest usable address
  std::size_t size = 0;        // usable bytes; the stack grows down from lo + size
  Kind kind = Kind::none;

  std::uint8_t* hi() const noexcept { return lo + size; }
  explicit operator bool() const noexcept { return lo != nullptr; }
};

constexpr std::size_t kCanaryBytes = 64;  // reserved at the top of every stack
constexpr std::uint64_t kCanary = 0x676f666572f00dULL;

// Process-wide allocator and pool of stacks. Thread-safe.
class StackAllocator {
 public:
  explicit StackAllocator(std::size_t default_size);
  ~StackAllocator();
  StackAllocator(const StackAllocator&) = delete;
  StackAllocator& operator=(const StackAllocator&) = delete;

  std::size_t default_size() const noexcept { return default_size_; }

  // A stack of `size` bytes (0: the default size), with its canary written.
  Stack allocate(std::size_t size);
  // Returns a stack; default-size stacks are pooled.
  void release(Stack stack);

  // False if this stack's canary, or (with check_below) the canary of the
  // slab stack right below it — the one an overflow of this stack runs
  // into — was overwritten. The stack below is another goroutine's, cold in
  // the cache: reading it on every switch cost 7% of a timer wake-up.
  static bool canary_intact(const Stack& stack, bool check_below = true) noexcept;
  // True if `addr` lies in the guard page of a guarded stack `stack`.
  static bool in_guard_page(const Stack& stack, const void* addr) noexcept;

  std::size_t guarded_count() const noexcept;

 private:
  Stack map_guarded(std::size_t size);
  void map_slab();

  const std::size_t default_size_;
  const std::size_t page_;
  std::size_t guard_budget_;  // most guarded stacks alive at once

  mutable std::mutex mu_;
  std::vector<Stack> hot_;    // guarded by mu_: pages kept
  std::vector<Stack> cold_;   // guarded by mu_: pages given back to the OS
  std::vector<Stack> fresh_;  // guarded by mu_: never-used slab stacks
  std::vector<std::pair<void*, std::size_t>> mappings_;  // guarded by mu_: all, for munmap
  std::size_t guarded_ = 0;   // guarded by mu_
};


// The per-P stack cache: a small LIFO that needs no lock (only the M that
// holds the P touches it). Overflow and underflow go to the allocator in
// batches.
class StackCache {
 public:
  static constexpr int kCapacity = 32;

  Stack get(StackAllocator& allocator);
  void put(StackAllocator& allocator, Stack stack);
  void drain(StackAllocator& allocator);

 private:
  Stack stacks_[kCapacity];
  int count_ = 0;
};

}  // namespace gofer::runtime
