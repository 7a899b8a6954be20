// Go's io: what a reader and a writer are, and the helpers around them.
//
// ```cpp
// gofer::io::StringReader src("hello, world");
// std::string copied;
// gofer::io::StringWriter dst(copied);
// auto [n, err] = gofer::io::copy(dst, src);  // n == 12, copied == "hello, world"
// ```
//
// A reader is anything with `read(std::span<char>)` returning a Result of
// the bytes read, net::errc::eof at the end (Go's io.EOF): net::Conn,
// tls::Conn, http::Body, bufio::Reader, StringReader. A writer is anything
// with `write(std::string_view)` returning the bytes written and an error:
// net::Conn, tls::Conn, http::ResponseWriter, bufio::Writer, StringWriter.
// ReaderRef and WriterRef refer to one without owning it (a pointer and a
// function pointer, no allocation), so the types that take "any reader"
// (bufio, multipart) are not templates.
#pragma once

#include <concepts>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <system_error>
#include <type_traits>

#include "gofer/error.h"
#include "gofer/net.h"

namespace gofer::io {

// Errors of the io and bufio packages (EOF itself is net::errc::eof).
enum class errc {
  unexpected_eof = 1,  // Go's io.ErrUnexpectedEOF: the stream ended in the middle
  short_write,         // Go's io.ErrShortWrite: a writer took fewer bytes, without an error
  buffer_full,         // Go's bufio.ErrBufferFull: no delimiter within the buffer
  no_progress,         // Go's io.ErrNoProgress: a reader keeps returning 0 bytes, no error
  invalid_unread,      // Go's bufio.ErrInvalidUnreadByte
  too_large,           // read_all past its limit
};
const std::error_category& io_category() noexcept;
inline std::error_code make_error_code(errc e) noexcept {
  return {static_cast<int>(e), io_category()};
}

template <class R>
concept Reader = requires(R& r, std::span<char> buf) {
  { r.read(buf).value } -> std::convertible_to<std::size_t>;
  { r.read(buf).err } -> std::convertible_to<std::error_code>;
};
template <class W>
concept Writer = requires(W& w, std::string_view data) {
  { w.write(data).value } -> std::convertible_to<std::size_t>;
  { w.write(data).err } -> std::convertible_to<std::error_code>;
};

// A reader, referred to (it must outlive the ref). Itself a Reader.
class ReaderRef {
 public:
  template <Reader R>
  requires(!std::same_as<std::remove_cvref_t<R>, ReaderRef>) ReaderRef(R& r)
  noexcept  // NOLINT: implicit on purpose
      : obj_(&r), read_([](void* obj, std::span<char> buf) -> Result<std::size_t> {
          auto res = static_cast<R*>(obj)->read(buf);
          return {static_cast<std::size_t>(res.value), res.err};
        }) {}
  Result<std::size_t> read(std::span<char> buf) const { return read_(obj_, buf); }

 private:
  void* obj_;
  Result<std::size_t> (*read_)(void*, std::span<char>);
};

// A writer, referred to (it must outlive the ref). Itself a Writer.
class WriterRef {
 public:
  template <Writer W>
  requires(!std::same_as<std::remove_cvref_t<W>, WriterRef>) WriterRef(W& w)
  noexcept  // NOLINT: implicit on purpose
      : obj_(&w), write_([](void* obj, std::string_view data) -> Result<std::size_t> {
          auto res = static_cast<W*>(obj)->write(data);
          return {static_cast<std::size_t>(res.value), res.err};
        }) {}
  Result<std::size_t> write(std::string_view data) const { return write_(obj_, data); }

 private:
  void* obj_;
  Result<std::size_t> (*write_)(void*, std::string_view);
};

// Reads a string_view (Go's strings.Reader); the bytes must outlive it.
class StringReader {
 public:
  explicit StringReader(std::string_view s) noexcept : s_(s) {}
  Result<std::size_t> read(std::span<char> buf);
  std::size_t remaining() const noexcept { return s_.size(); }

 private:
  std::string_view s_;
};

// Appends to a std::string (Go's strings.Builder, or a bytes.Buffer).
class StringWriter {
 public:
  explicit StringWriter(std::string& out) noexcept : out_(&out) {}
  Result<std::size_t> write(std::string_view data) {
    out_->append(data);
    return {data.size(), {}};
  }

 private:
  std::string* out_;
};

// Reads exactly buf.size() bytes (Go's io.ReadFull): eof if none came,
// unexpected_eof if some but not all did.
Result<std::size_t> read_full(ReaderRef r, std::span<char> buf);

// Reads to the end (Go's io.ReadAll), at most `limit` bytes: past it,
// what was read and errc::too_large. EOF is not an error.
Result<std::string> read_all(ReaderRef r, std::size_t limit = SIZE_MAX);

// Copies until src ends (Go's io.Copy): the bytes copied, and the first
// error other than src's EOF.
Result<std::uint64_t> copy(WriterRef dst, ReaderRef src);

}  // namespace gofer::io

template <>
struct std::is_error_code_enum<gofer::io::errc> : std::true_type {};
