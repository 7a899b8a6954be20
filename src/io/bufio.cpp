// bufio::Reader and bufio::Writer: Go's bufio.go, buffer for buffer.
#include "gofer/bufio.h"

#include <algorithm>
#include <cstring>

namespace gofer::bufio {
namespace {

constexpr std::size_t kMinReadBufferSize = 16;
constexpr int kMaxConsecutiveEmptyReads = 100;

}  // namespace

Reader::Reader(io::ReaderRef src, std::size_t size)
    : src_(src), size_(std::max(size, kMinReadBufferSize)) {
  buf_ = std::make_unique<char[]>(size_);
}

void Reader::reset(io::ReaderRef src) noexcept {
  src_ = src;
  r_ = w_ = 0;
  err_ = {};
  last_byte_ = -1;
}

Error Reader::take_error() noexcept {
  Error e = err_;
  err_ = {};
  return e;
}

void Reader::fill() {
  if (r_ > 0) {
    std::memmove(buf_.get(), buf_.get() + r_, w_ - r_);
    w_ -= r_;
    r_ = 0;
  }
  for (int i = 0; i < kMaxConsecutiveEmptyReads; ++i) {
    auto [n, err] = src_.read(std::span<char>(buf_.get() + w_, size_ - w_));
    w_ += n;
    if (err) {
      err_ = err;
      return;
    }
    if (n > 0) return;
  }
  err_ = io::errc::no_progress;
}

Result<std::size_t> Reader::read(std::span<char> buf) {
  if (buf.empty()) {
    if (buffered() > 0) return {0, {}};
    return {0, take_error()};
  }
  if (r_ == w_) {
    if (err_) return {0, take_error()};
    if (buf.size() >= size_) {
      // A large read goes straight into the caller's buffer (no copy).
      auto [n, err] = src_.read(buf);
      if (n > 0) last_byte_ = static_cast<unsigned char>(buf[n - 1]);
      return {n, err};
    }
    // One read, no more: the source may have nothing else for now.
    r_ = w_ = 0;
    auto [n, err] = src_.read(std::span<char>(buf_.get(), size_));
    w_ = n;
    err_ = err;
    if (n == 0) return {0, take_error()};
  }
  std::size_t n = std::min(buf.size(), w_ - r_);
  std::memcpy(buf.data(), buf_.get() + r_, n);
  r_ += n;
  last_byte_ = static_cast<unsigned char>(buf_[r_ - 1]);
  return {n, {}};
}

Result<char> Reader::read_byte() {
  last_byte_ = -1;
  while (r_ == w_) {
    if (err_) return {0, take_error()};
    fill();
  }
  char c = buf_[r_++];
  last_byte_ = static_cast<unsigned char>(c);
  return {c, {}};
}

Error Reader::unread_byte() {
  if (last_byte_ < 0 || (r_ == 0 && w_ > 0)) return io::errc::invalid_unread;
  if (r_ > 0) {
    --r_;
  } else {
    w_ = 1;  // the buffer was emptied by a direct read: put the byte back
  }
  buf_[r_] = static_cast<char>(last_byte_);
  last_byte_ = -1;
  return {};
}

Result<std::string_view> Reader::peek(std::size_t n) {
  last_byte_ = -1;
  while (w_ - r_ < n && w_ - r_ < size_ && !err_) fill();
  if (n > size_) return {{buf_.get() + r_, w_ - r_}, io::errc::buffer_full};
  std::size_t avail = w_ - r_;
  Error err;
  if (avail < n) {
    n = avail;
    err = take_error();
    if (!err) err = io::errc::buffer_full;
  }
  return {{buf_.get() + r_, n}, err};
}

Result<std::size_t> Reader::discard(std::size_t n) {
  last_byte_ = -1;
  std::size_t remain = n;
  for (;;) {
    std::size_t skip = std::min(remain, buffered());
    r_ += skip;
    remain -= skip;
    if (remain == 0) return {n, {}};
    if (err_) return {n - remain, take_error()};
    fill();
  }
}

Result<std::string_view> Reader::read_slice(char delim) {
  std::size_t searched = 0;  // bytes of [r_, w_) known to hold no delim
  for (;;) {
    const char* begin = buf_.get() + r_;
    const void* hit = std::memchr(begin + searched, delim, w_ - r_ - searched);
    if (hit != nullptr) {
      std::size_t len = static_cast<std::size_t>(static_cast<const char*>(hit) - begin) + 1;
      r_ += len;
      last_byte_ = static_cast<unsigned char>(delim);
      return {{begin, len}, {}};
    }
    if (err_) {
      std::string_view rest(begin, w_ - r_);
      r_ = w_;
      last_byte_ = rest.empty() ? -1 : static_cast<unsigned char>(rest.back());
      return {rest, take_error()};
    }
    if (buffered() >= size_) {
      r_ = w_;
      last_byte_ = static_cast<unsigned char>(buf_[size_ - 1]);
      return {{buf_.get(), size_}, io::errc::buffer_full};
    }
    searched = w_ - r_;
    fill();  // moves the bytes to the front: `begin` is taken again above
  }
}

Result<Reader::Line> Reader::read_line() {
  auto [line, err] = read_slice('\n');
  if (err == io::errc::buffer_full) {
    // A "\r" at the buffer's end may start a "\r\n": keep it for the next call.
    if (!line.empty() && line.back() == '\r') {
      --r_;
      line.remove_suffix(1);
    }
    return {{line, true}, {}};
  }
  if (line.empty()) return {{}, err};
  if (line.back() == '\n') {
    line.remove_suffix(1);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  }
  // The error (EOF after a last line without a newline) comes with the
  // next call, as in Go.
  if (err) err_ = err;
  return {{line, false}, {}};
}

Result<std::string> Reader::read_string(char delim) {
  std::string out;
  for (;;) {
    auto [part, err] = read_slice(delim);
    out.append(part);
    if (err != io::errc::buffer_full) return {std::move(out), err};
  }
}

Writer::Writer(io::WriterRef dst, std::size_t size)
    : dst_(dst), size_(size == 0 ? kDefaultBufferSize : size) {
  buf_ = std::make_unique<char[]>(size_);
}

void Writer::reset(io::WriterRef dst) noexcept {
  dst_ = dst;
  n_ = 0;
  err_ = {};
}

Error Writer::flush() {
  if (err_) return err_;
  if (n_ == 0) return {};
  auto [n, err] = dst_.write(std::string_view(buf_.get(), n_));
  if (n < n_ && !err) err = io::errc::short_write;
  if (err) {
    // Keep what was not written, at the front, as Go does.
    if (n > 0 && n < n_) std::memmove(buf_.get(), buf_.get() + n, n_ - n);
    n_ -= std::min(n, n_);
    err_ = err;
    return err;
  }
  n_ = 0;
  return {};
}

Result<std::size_t> Writer::write(std::string_view data) {
  std::size_t total = 0;
  while (data.size() > available() && !err_) {
    std::size_t n;
    if (n_ == 0) {
      // Nothing buffered: a large write goes straight through (no copy).
      auto [w, err] = dst_.write(data);
      n = w;
      err_ = err;
      if (!err && w < data.size()) err_ = io::errc::short_write;
    } else {
      n = available();
      std::memcpy(buf_.get() + n_, data.data(), n);
      n_ += n;
      (void)flush();  // its error is err_, returned below
    }
    total += n;
    data.remove_prefix(n);
  }
  if (err_) return {total, err_};
  std::memcpy(buf_.get() + n_, data.data(), data.size());
  n_ += data.size();
  return {total + data.size(), {}};
}

Error Writer::write_byte(char c) {
  if (err_) return err_;
  if (available() == 0 && flush()) return err_;
  buf_[n_++] = c;
  return {};
}

}  // namespace gofer::bufio
