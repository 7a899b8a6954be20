// The pool of ConnBuffers (conn.h).
//
// Blocks come from slabs mapped with mmap and are never unmapped (like the
// goroutine stacks' address ranges). A released block stays "hot" — pages
// kept — while fewer than kHotMax are; the pages of the others go back to
// the OS with MADV_DONTNEED and the block waits, costing nothing, in the
// cold list. Written by hand rather than with malloc, which keeps freed
// blocks resident: measured with bench/http/run-http-bench --idle, parked
// connections left 8–11 KiB each behind in the malloc heap.
#include <sys/mman.h>

#include <cerrno>
#include <cstring>
#include <mutex>
#include <new>
#include <type_traits>
#include <vector>

#include "http/conn.h"

#if defined(GOFER_ASAN)
#include <sanitizer/asan_interface.h>
#endif

namespace gofer::http::detail {
namespace {

constexpr std::size_t kPage = 4096;
constexpr std::size_t kBlockBytes = (sizeof(ConnBuffers) + kPage - 1) / kPage * kPage;
constexpr std::size_t kSlabBlocks = 32;
constexpr std::size_t kHotMax = 128;  // ~1.5 MiB kept for reuse at most

struct Pool {
  std::mutex mu;
  std::vector<void*> hot;   // guarded by mu; pages resident
  std::vector<void*> cold;  // guarded by mu; pages given back (or never touched)
};

Pool& pool() {
  static auto* p = new Pool;  // never destroyed: connections may outlive main
  return *p;
}

void poison([[maybe_unused]] void* p) {
#if defined(GOFER_ASAN)
  __asan_poison_memory_region(p, kBlockBytes);
#endif
}

void unpoison([[maybe_unused]] void* p) {
#if defined(GOFER_ASAN)
  __asan_unpoison_memory_region(p, kBlockBytes);
#endif
}

}  // namespace

ConnBuffers* ConnBuffers::acquire() {
  Pool& p = pool();
  void* block = nullptr;
  {
    std::lock_guard lock(p.mu);
    if (!p.hot.empty()) {
      block = p.hot.back();
      p.hot.pop_back();
    } else {
      if (p.cold.empty()) {
        void* slab = ::mmap(nullptr, kSlabBlocks * kBlockBytes, PROT_READ | PROT_WRITE,
                            MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
        if (slab == MAP_FAILED) throw std::bad_alloc();
        ::madvise(slab, kSlabBlocks * kBlockBytes, MADV_NOHUGEPAGE);
        for (std::size_t i = kSlabBlocks; i-- > 0;) {
          void* b = static_cast<char*>(slab) + i * kBlockBytes;
          poison(b);
          p.cold.push_back(b);
        }
      }
      block = p.cold.back();
      p.cold.pop_back();
    }
  }
  unpoison(block);
  auto* b = ::new (block) ConnBuffers;  // `read` stays uninitialised (untouched pages)
  for (Header& h : b->headers) h = Header{};
  for (Header& h : b->trailers) h = Header{};
  return b;
}

void ConnBuffers::release(ConnBuffers* b) noexcept {
  static_assert(std::is_trivially_destructible_v<ConnBuffers>);
  void* block = b;
  Pool& p = pool();
  {
    std::lock_guard lock(p.mu);
    if (p.hot.size() < kHotMax) {
      poison(block);
      p.hot.push_back(block);
      return;
    }
  }
  ::madvise(block, kBlockBytes, MADV_DONTNEED);
  poison(block);
  std::lock_guard lock(p.mu);
  p.cold.push_back(block);
}

}  // namespace gofer::http::detail
