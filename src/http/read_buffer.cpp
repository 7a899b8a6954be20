// ReadBuffer (read_buffer.h) and the pool of its ConnBuffers blocks.
//
// Blocks come from slabs mapped with mmap and are never unmapped (like the
// goroutine stacks' address ranges). A released block stays "hot" — pages
// kept — while fewer than kHotMax are; the pages of the others go back to
// the OS with MADV_DONTNEED and the block waits, costing nothing, in the
// cold list. Written by hand rather than with malloc, which keeps freed
// blocks resident: measured with bench/http/run-http-bench --idle, parked
// connections left 8–11 KiB each behind in the malloc heap.
#include <sys/mman.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <mutex>
#include <new>
#include <type_traits>
#include <vector>

#include "http/read_buffer.h"

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

// The bytes of [p, p + n), for ReadBuffer's view poisoning.
void poison_bytes([[maybe_unused]] const char* p, [[maybe_unused]] std::size_t n) {
#if defined(GOFER_ASAN)
  __asan_poison_memory_region(p, n);
#endif
}

void unpoison_bytes([[maybe_unused]] const char* p, [[maybe_unused]] std::size_t n) {
#if defined(GOFER_ASAN)
  __asan_unpoison_memory_region(p, n);
#endif
}

// A hot block to reuse, or null. Normally the last one released (its pages
// are the likeliest to be in cache). In ASan builds, only when no cold block
// is left, and then the oldest: a released block stays poisoned as long as
// possible, so that a request's view read late (ReadBuffer::retire_request)
// is caught rather than reading the next request's bytes.
void* take_hot_locked(Pool& p) {
  if (p.hot.empty()) return nullptr;
#if defined(GOFER_ASAN)
  if (!p.cold.empty()) return nullptr;
  void* block = p.hot.front();
  p.hot.erase(p.hot.begin());
#else
  void* block = p.hot.back();
  p.hot.pop_back();
#endif
  return block;
}

}  // namespace

ConnBuffers* ConnBuffers::acquire() {
  Pool& p = pool();
  void* block = nullptr;
  {
    std::lock_guard lock(p.mu);
    if (void* hot = take_hot_locked(p)) {
      block = hot;
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

void ReadBuffer::acquire(std::size_t limit) {
  limit_ = std::max(limit, ConnBuffers::kReadBytes);
  if (data_ != nullptr) return;
  block_ = ConnBuffers::acquire();
  data_ = block_->read;
  cap_ = ConnBuffers::kReadBytes;
}

void ReadBuffer::release() noexcept {
  // A retired request's bytes: the heap block is freed addressable (the
  // pool poisons its blocks whole).
  if (data_ != nullptr) unpoison_bytes(data_, cap_);
  if (block_ != nullptr) ConnBuffers::release(block_);
  block_ = nullptr;
  grown_.reset();
  data_ = nullptr;
  cap_ = len_ = pos_ = head_end_ = 0;
}

void ReadBuffer::retire_request() noexcept {
#if defined(GOFER_ASAN)
  // Nothing pipelined: the block goes back to the pool, poisoned whole, and
  // the next request reads into another (poisoning in place would not last:
  // free_space() makes the bytes addressable again for the next read).
  if (pos_ == len_) {
    release();
    return;
  }
#endif
  poison_bytes(data_, pos_);
}

void ReadBuffer::unpoison_free_space() noexcept {
  unpoison_bytes(data_ + len_, cap_ - len_);  // retire_request's poison
}

void ReadBuffer::start_next() noexcept {
  // The pipelined bytes land over the retired request's (poisoned) ones;
  // the rest stays poisoned until a read fills it.
  unpoison_bytes(data_, len_ - pos_);
  if (pos_ > 0) {
    std::memmove(data_, data_ + pos_, len_ - pos_);
    len_ -= pos_;
    pos_ = 0;
  }
  head_end_ = 0;
}

void ReadBuffer::compact_after_head() noexcept {
  if (pos_ > head_end_) {
    std::memmove(data_ + head_end_, data_ + pos_, len_ - pos_);
    len_ -= pos_ - head_end_;
    pos_ = head_end_;
  }
}

Result<ReadBuffer::Rebase> ReadBuffer::grow() {
  if (cap_ >= limit_) return {{}, make_error_code(std::errc::no_buffer_space)};
  std::size_t ncap = std::min(limit_, cap_ * 2);
  auto nbuf = std::make_unique<char[]>(ncap);
  std::memcpy(nbuf.get(), data_, len_);
  Rebase rebase{data_, data_ + cap_, nbuf.get()};
  grown_ = std::move(nbuf);
  data_ = grown_.get();
  cap_ = ncap;
  return {rebase, {}};
}

}  // namespace gofer::http::detail
