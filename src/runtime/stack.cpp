#include "runtime/stack.h"

#include <sys/mman.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>

#include "runtime/fatal.h"

#if defined(GOFER_ASAN)
#include <sanitizer/asan_interface.h>
#endif

namespace gofer::runtime {
namespace {

constexpr std::size_t kSlabStacks = 64;
// Stacks kept with their pages in the global pool; beyond this their pages
// are returned to the OS.
constexpr std::size_t kHotMax = 64;

std::size_t read_max_map_count() {
  std::size_t value = 65530;
  if (std::FILE* f = std::fopen("/proc/sys/vm/max_map_count", "r")) {
    unsigned long v = 0;
    if (std::fscanf(f, "%lu", &v) == 1) value = v;
    std::fclose(f);
  }
  return value;
}

void* map_or_die(std::size_t bytes) {
  void* p = ::mmap(nullptr, bytes, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (p == MAP_FAILED)
    fatal("cannot map {} bytes of goroutine stack: {}", bytes, std::strerror(errno));
  ::madvise(p, bytes, MADV_NOHUGEPAGE);
  return p;
}

// The canary: the first word of the top kCanaryBytes of a stack (aligned,
// as hi is page-aligned).
std::uint64_t* canary_word(std::uint8_t* hi) noexcept {
  return reinterpret_cast<std::uint64_t*>(hi - kCanaryBytes);
}

void write_canary(const Stack& stack) noexcept {
  // Atomic (relaxed): a slab neighbour may read it at the same time.
  __atomic_store_n(canary_word(stack.hi()), kCanary, __ATOMIC_RELAXED);
}

}  // namespace

StackAllocator::StackAllocator(std::size_t default_size)
    : default_size_(default_size), page_(static_cast<std::size_t>(::sysconf(_SC_PAGESIZE))) {
  // A guarded stack costs two mappings. Spend at most an eighth of the
  // kernel's mapping limit on them and leave the rest to malloc, the slabs
  // and the program.
  guard_budget_ = read_max_map_count() / 16;
}

namespace {
// Frames of goroutines that never returned (abandoned at the end of run(),
// or the exit path) leave ASan redzones poisoned; a later mapping at the
// same address must not inherit them.
void unpoison([[maybe_unused]] void* p, [[maybe_unused]] std::size_t n) {
#if defined(GOFER_ASAN)
  __asan_unpoison_memory_region(p, n);
#endif
}
}  // namespace

StackAllocator::~StackAllocator() {
  for (auto [p, n] : mappings_) {
    unpoison(p, n);
    ::munmap(p, n);
  }
}

std::size_t StackAllocator::guarded_count() const noexcept {
  std::lock_guard lock(mu_);
  return guarded_;
}

Stack StackAllocator::map_guarded(std::size_t size) {
  auto* base = static_cast<std::uint8_t*>(map_or_die(size + page_));
  if (::mprotect(base, page_, PROT_NONE) != 0)
    fatal("mprotect guard page: {}", std::strerror(errno));
  mappings_.emplace_back(base, size + page_);
  ++guarded_;
  return Stack{base + page_, size, Stack::Kind::guarded};
}

void StackAllocator::map_slab() {
  std::size_t bytes = kSlabStacks * default_size_ + page_;
  auto* base = static_cast<std::uint8_t*>(map_or_die(bytes));
  if (::mprotect(base, page_, PROT_NONE) != 0)
    fatal("mprotect guard page: {}", std::strerror(errno));
  mappings_.emplace_back(base, bytes);
  // Every canary is written now: each stack's check reads its neighbour's.
  // Highest first, so that popping from the back hands out the lowest stack.
  for (std::size_t i = kSlabStacks; i-- > 0;) {
    Stack s{base + page_ + i * default_size_, default_size_,
            i == 0 ? Stack::Kind::slab_bottom : Stack::Kind::slab};
    write_canary(s);
    fresh_.push_back(s);
  }
}

Stack StackAllocator::allocate(std::size_t size) {
  size = size == 0 ? default_size_ : (size + page_ - 1) / page_ * page_;
  Stack stack;
  {
    std::lock_guard lock(mu_);
    if (size == default_size_) {
      if (!hot_.empty()) {
        stack = hot_.back();
        hot_.pop_back();
      } else if (!cold_.empty()) {
        stack = cold_.back();
        cold_.pop_back();
        write_canary(stack);  // its page was given back
      } else if (guarded_ < guard_budget_) {
        stack = map_guarded(size);
      } else {
        if (fresh_.empty()) map_slab();
        stack = fresh_.back();
        fresh_.pop_back();
      }
    } else {
      // Odd sizes are rare, not pooled, and always guarded.
      stack = map_guarded(size);
      stack.kind = Stack::Kind::custom;
    }
  }
  if (stack.kind != Stack::Kind::slab && stack.kind != Stack::Kind::slab_bottom) {
    write_canary(stack);
  }
  return stack;
}

void StackAllocator::release(Stack stack) {
  if (stack.size != default_size_) {
    std::lock_guard lock(mu_);
    std::uint8_t* base = stack.lo - page_;
    for (auto it = mappings_.begin(); it != mappings_.end(); ++it) {
      if (it->first == base) {
        unpoison(it->first, it->second);
        ::munmap(it->first, it->second);
        mappings_.erase(it);
        --guarded_;
        return;
      }
    }
    fatal("released a stack that was never allocated");
  }
  std::lock_guard lock(mu_);
  if (hot_.size() < kHotMax) {
    hot_.push_back(stack);
    return;
  }
  // Give every page back, keeping the range. The canary goes with its page:
  // a slab neighbour above reads zero there (the shared zero page, which
  // commits nothing), which canary_intact accepts; allocate() writes the
  // canary again when the stack is reused.
  ::madvise(stack.lo, stack.size, MADV_DONTNEED);
  cold_.push_back(stack);
}

bool StackAllocator::canary_intact(const Stack& stack, bool check_below) noexcept {
  std::uint64_t own = __atomic_load_n(canary_word(stack.hi()), __ATOMIC_RELAXED);
  std::uint64_t below = kCanary;
  if (check_below && stack.kind == Stack::Kind::slab) {
    below = __atomic_load_n(canary_word(stack.lo), __ATOMIC_RELAXED);
  }
  // Zero below: the stack under this one is in the cold pool, its top page
  // given back. An overflow into it writes frames there, not zero.
  return own == kCanary && (below == kCanary || below == 0);
}

bool StackAllocator::in_guard_page(const Stack& stack, const void* addr) noexcept {
  auto* a = static_cast<const std::uint8_t*>(addr);
  std::size_t page = static_cast<std::size_t>(::sysconf(_SC_PAGESIZE));
  return a < stack.lo && a >= stack.lo - page;
}

Stack StackCache::get(StackAllocator& allocator) {
  if (count_ > 0) {
    return stacks_[--count_];
  }
  return allocator.allocate(0);
}

void StackCache::put(StackAllocator& allocator, Stack stack) {
  if (stack.size != allocator.default_size()) {
    allocator.release(stack);
    return;
  }
  if (count_ == kCapacity) {
    // Hand half to the global pool so that stacks do not drift to one P.
    for (int i = 0; i < kCapacity / 2; ++i) allocator.release(stacks_[--count_]);
  }
  stacks_[count_++] = stack;
}

void StackCache::drain(StackAllocator& allocator) {
  while (count_ > 0) allocator.release(stacks_[--count_]);
}

}  // namespace gofer::runtime
