// Go's bufio: buffered reading and writing over any reader or writer
// (gofer/io.h), such as a net::Conn.
//
// ```cpp
// auto serve = [](gofer::net::Conn& conn) {
//   gofer::bufio::Reader in(conn);
//   gofer::bufio::Writer out(conn);
//   for (;;) {
//     auto [line, err] = in.read_line();  // without its "\n" or "\r\n"
//     if (err) return;                    // net::errc::eof: the peer hung up
//     if (line.is_prefix) return;         // longer than the buffer: a hostile peer
//     (void)out.write("you said: ");
//     (void)out.write(line.text);
//     (void)out.write("\n");
//     if (out.flush()) return;            // the first write error, if any
//   }
// };
// ```
//
// As in Go: a Reader reads from its source only when its buffer is empty
// (one read at a time, at most its size), and hands a large read straight
// to the caller's buffer; errors are returned once the buffered bytes are
// used up. A Writer collects small writes and sends them in one when its
// buffer fills or on flush(); its first error is kept, and every later
// write and flush returns it. Neither owns its source or destination,
// which must outlive it. Neither is safe for use by two goroutines at once.
//
// The views that peek, read_slice and read_line return point into the
// Reader's buffer: valid until its next read of any kind.
#pragma once

#include <cstddef>
#include <memory>
#include <span>
#include <string>
#include <string_view>

#include "gofer/io.h"

namespace gofer::bufio {

inline constexpr std::size_t kDefaultBufferSize = 4096;  // Go's defaultBufSize

// Go's bufio.Reader.
class Reader {
 public:
  // size < 16 is raised to 16 (Go's minReadBufferSize).
  explicit Reader(io::ReaderRef src, std::size_t size = kDefaultBufferSize);
  Reader(Reader&&) noexcept = default;
  Reader& operator=(Reader&&) noexcept = default;

  // Reads up to buf.size() bytes: the buffered ones, or (when none are)
  // what one read of the source gives.
  Result<std::size_t> read(std::span<char> buf);
  Result<char> read_byte();
  // Steps back over the last byte read (once, right after a read).
  Error unread_byte();
  // The next n bytes without consuming them; fewer with the error that
  // stopped it (buffer_full when n exceeds the buffer's size).
  Result<std::string_view> peek(std::size_t n);
  // Skips n bytes; the number skipped, fewer with the error.
  Result<std::size_t> discard(std::size_t n);

  // Up to and including the first `delim` (Go's ReadSlice). When the
  // buffer fills first: the whole buffer and errc::buffer_full; at the end
  // of the stream: what is left and the error (net::errc::eof).
  Result<std::string_view> read_slice(char delim);

  // A line without its "\n" or "\r\n" (Go's ReadLine). is_prefix: the line
  // is longer than the buffer and this is its first part (the next call
  // returns more of it). The last line may lack a newline; EOF comes after
  // it, with no text.
  struct Line {
    std::string_view text;
    bool is_prefix = false;
  };
  Result<Line> read_line();

  // Up to and including `delim`, copied (Go's ReadString): unbounded, so a
  // peer that never sends `delim` grows it without limit — read_line and
  // read_slice are bounded by the buffer.
  Result<std::string> read_string(char delim);

  std::size_t buffered() const noexcept { return w_ - r_; }
  std::size_t size() const noexcept { return size_; }
  // Drops the buffered bytes and reads from `src` from now on.
  void reset(io::ReaderRef src) noexcept;

 private:
  // Moves the unread bytes to the front and reads once more (looping over
  // empty reads); sets err_ on failure.
  void fill();
  Error take_error() noexcept;

  io::ReaderRef src_;
  std::unique_ptr<char[]> buf_;
  std::size_t size_;
  std::size_t r_ = 0, w_ = 0;  // [r_, w_) is buffered
  Error err_;                  // from the source; returned once the buffer is used up
  int last_byte_ = -1;         // for unread_byte; -1: none
};

// Go's bufio.Writer.
class Writer {
 public:
  explicit Writer(io::WriterRef dst, std::size_t size = kDefaultBufferSize);
  Writer(Writer&&) noexcept = default;
  Writer& operator=(Writer&&) noexcept = default;

  // Buffers data, sending the buffer when it fills (data larger than the
  // buffer, with the buffer empty, goes straight to the destination).
  Result<std::size_t> write(std::string_view data);
  Error write_byte(char c);
  // Sends what is buffered. After an error, every call returns it.
  Error flush();

  std::size_t buffered() const noexcept { return n_; }
  std::size_t available() const noexcept { return size_ - n_; }
  std::size_t size() const noexcept { return size_; }
  // Drops the buffered bytes and the error; writes to `dst` from now on.
  void reset(io::WriterRef dst) noexcept;

 private:
  io::WriterRef dst_;
  std::unique_ptr<char[]> buf_;
  std::size_t size_;
  std::size_t n_ = 0;  // buffered bytes, at the front
  Error err_;
};

}  // namespace gofer::bufio
