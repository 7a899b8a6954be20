// ReadBuffer: a served connection's read buffer (Go's bufio.Reader, with the
// parsed head's field slots beside the bytes). Private to the http layer.
//
// Layout, with the indices it keeps:
//
//   0        head_end        pos              len              cap
//   | the head |  consumed    | not consumed yet |     free       |
//
// Invariants: pos ≤ len ≤ cap, and head_end ≤ pos while a request is being
// served. [0, len) holds bytes received; [pos, len) is what nobody has taken
// yet (the rest of a body, pipelined requests); [len, cap) is where the next
// read goes. With no storage (a connection parked idle) all four are 0.
//
// Views into the bytes: the current request's head (Request::method, target,
// path, raw_query, host and the header fields, all views into [0, head_end))
// and the decoded chunk data a ChunkedDecoder handed out (views into
// [head_end, pos)). Who may move bytes, and what happens to those views:
//   * start_next() — only between requests, when no view is alive: moves
//     [pos, len) to the front.
//   * compact_after_head() — while a body is read: moves [pos, len) down to
//     head_end. The head's views stay valid; chunk data views must have been
//     used up (ConnBody hands out chunk data before it decodes more).
//   * grow() — doubles the storage up to the limit. Every byte moves: the
//     caller rebases its views with the Rebase it gets back (ServedConn does
//     for the Request and the header fields; ConnBody keeps offsets, not
//     views, so it needs nothing).
//
// Storage: the first 8 KiB and the field slots are one block from a pool
// that keeps a few blocks and gives the pages of the others back to the OS
// (conn_buffers.cpp), so that connections parked idle by the thousand leave
// no memory behind; a head or a chunked body that needs more moves to a heap
// block (`grown_`), freed when the storage is released.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstring>
#include <memory>
#include <span>
#include <string_view>

#include "gofer/error.h"
#include "gofer/http/parser.h"

namespace gofer::http::detail {

// One pooled block: the first kReadBytes of the read buffer and the slots
// the parser fills with the head's (and a chunked body's trailer) fields.
struct ConnBuffers {
  static constexpr std::size_t kReadBytes = 8 << 10;
  static constexpr std::size_t kMaxHeaderFields = 100;
  char read[kReadBytes];  // not initialised
  Header headers[kMaxHeaderFields];
  Header trailers[16];  // a chunked body's trailer fields

  static ConnBuffers* acquire();
  static void release(ConnBuffers* b) noexcept;
};

class ReadBuffer {
 public:
  ReadBuffer() = default;
  ~ReadBuffer() { release(); }
  ReadBuffer(const ReadBuffer&) = delete;
  ReadBuffer& operator=(const ReadBuffer&) = delete;

  // Takes a block from the pool if there is none; `limit` bounds grow().
  void acquire(std::size_t limit);
  // Gives the storage back; every index returns to 0.
  void release() noexcept;
  bool has_storage() const noexcept { return data_ != nullptr; }

  char* data() const noexcept { return data_; }
  std::size_t pos() const noexcept { return pos_; }
  std::size_t len() const noexcept { return len_; }
  std::size_t cap() const noexcept { return cap_; }
  std::size_t head_end() const noexcept { return head_end_; }
  bool full() const noexcept { return len_ == cap_; }

  // Every byte received: the parser reads the head from here.
  std::string_view received() const noexcept { return {data_, len_}; }
  // [pos, len): bytes not taken yet.
  std::string_view unconsumed() const noexcept { return {data_ + pos_, len_ - pos_}; }
  std::size_t buffered() const noexcept { return len_ - pos_; }
  // [len, cap): where the next read goes; commit() what it read. (Made
  // addressable again in ASan builds: retire_request may have poisoned it.)
  std::span<char> free_space() noexcept {
#if defined(GOFER_ASAN)
    unpoison_free_space();
#endif
    return {data_ + len_, cap_ - len_};
  }
  void commit(std::size_t n) noexcept {
    len_ += n;
  }
  // Takes n bytes of [pos, len).
  void consume(std::size_t n) noexcept {
    pos_ += n;
  }
  // Copies and takes up to buf.size() bytes of [pos, len); how many (a
  // connection taken out of HTTP reads these before its socket).
  std::size_t take(std::span<char> buf) noexcept {
    std::size_t n = std::min(buf.size(), buffered());
    if (n > 0) std::memcpy(buf.data(), data_ + pos_, n);
    pos_ += n;
    return n;
  }
  // The head ends `n` bytes in; what follows is unconsumed.
  void set_head(std::size_t n) noexcept {
    head_end_ = pos_ = n;
  }

  // The field slots of the head and of a chunked body's trailers.
  std::span<Header> header_slots() const noexcept {
    return block_->headers;
  }
  std::span<Header> trailer_slots() const noexcept {
    return block_->trailers;
  }

  // Between requests: the next request's bytes move to the front.
  void start_next() noexcept;
  // A request ended (its handler returned, its response went out). In ASan
  // builds the bytes its views point to become unaddressable, so that a
  // view read late (a goroutine the handler started, holding Request::path)
  // is reported as a use-after-poison instead of reading another request's
  // bytes: with nothing pipelined the storage goes back to the pool (which
  // poisons it and reuses it as late as it can), else [0, pos) is poisoned
  // until the pipelined bytes or a read move over it. Elsewhere a no-op:
  // the storage stays for the next request.
  void retire_request() noexcept;
  // While a body is read: drops what the body consumed; the head stays.
  void compact_after_head() noexcept;

  // Where views into the old storage point now (from grow()).
  struct Rebase {
    const char* old_begin = nullptr;
    const char* old_end = nullptr;
    char* now = nullptr;
    void operator()(std::string_view& v) const noexcept {
      if (v.data() >= old_begin && v.data() < old_end) v = {now + (v.data() - old_begin), v.size()};
    }
  };
  // Doubles the storage (up to the limit), keeping every index. Returns the
  // rebase for views into the old storage, or errc::no_buffer_space at the
  // limit (a head, or a chunked body's framing, that is too large).
  [[nodiscard]] Result<Rebase> grow();

 private:
  void unpoison_free_space() noexcept;

  ConnBuffers* block_ = nullptr;   // from the pool, while there is storage
  std::unique_ptr<char[]> grown_;  // the storage once it outgrew block_->read
  char* data_ = nullptr;           // block_->read or grown_.get()
  std::size_t cap_ = 0, len_ = 0, pos_ = 0, head_end_ = 0;
  std::size_t limit_ = 0;
};

}  // namespace gofer::http::detail
