// CipherBuffer: the bytes in flight between OpenSSL and the socket, one per
// direction of a tls::Conn — a FIFO in one contiguous block that grows (up
// to a bound) while the connection is busy, is reused for every record,
// and can be freed while the connection is idle. Private to the tls layer.
//
// Invariants: begin_ <= end_ <= cap_; data_ is null iff cap_ == 0; the bytes
// [begin_, end_) are pending, in order. Whoever holds a pointer into the
// pending bytes (a send in flight) must keep reserve() and release() from
// running: they move or free the block.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdlib>
#include <cstring>
#include <span>

namespace gofer::tls::detail {

class CipherBuffer {
 public:
  CipherBuffer() = default;
  CipherBuffer(const CipherBuffer&) = delete;
  CipherBuffer& operator=(const CipherBuffer&) = delete;
  ~CipherBuffer() { std::free(data_); }

  std::size_t size() const noexcept { return end_ - begin_; }
  bool empty() const noexcept { return begin_ == end_; }
  std::size_t capacity() const noexcept { return cap_; }
  const char* data() const noexcept { return data_ + begin_; }

  // Takes up to `n` pending bytes off the front.
  void consume(std::size_t n) noexcept {
    begin_ += std::min(n, size());
    if (begin_ == end_) begin_ = end_ = 0;  // empty: start over at the front
  }

  // Free space after the pending bytes, as it is (nothing moves).
  std::span<char> tail() noexcept { return {data_ + end_, cap_ - end_}; }

  // Free space after the pending bytes for at least `want` bytes if that
  // fits in `max_cap` (else as much as fits): moves the pending bytes to
  // the front, then grows the block (doubling from `min_cap`). May be empty
  // only if allocation failed or the buffer is full at max_cap.
  std::span<char> reserve(std::size_t want, std::size_t min_cap, std::size_t max_cap) noexcept {
    if (cap_ - end_ >= want) return tail();
    if (begin_ > 0) {
      std::memmove(data_, data_ + begin_, size());
      end_ -= begin_;
      begin_ = 0;
      if (cap_ - end_ >= want) return tail();
    }
    std::size_t cap = std::max(cap_, min_cap);
    while (cap < end_ + want && cap < max_cap) cap *= 2;
    cap = std::min(cap, max_cap);
    if (cap > cap_) {
      // realloc, not new: a std::bad_alloc must not cross OpenSSL's frames
      // (this runs inside its BIO callbacks).
      if (void* p = std::realloc(data_, cap)) {
        data_ = static_cast<char*>(p);
        cap_ = cap;
      }
    }
    return tail();
  }

  // `n` bytes were written into tail().
  void commit(std::size_t n) noexcept { end_ += n; }

  // Frees the block if nothing is pending; false if bytes are pending.
  bool release() noexcept {
    if (!empty()) return false;
    std::free(data_);
    data_ = nullptr;
    cap_ = begin_ = end_ = 0;
    return true;
  }

 private:
  char* data_ = nullptr;
  std::size_t cap_ = 0;
  std::size_t begin_ = 0;
  std::size_t end_ = 0;
};

}  // namespace gofer::tls::detail
