// Errors as values, the way Go's `n, err := c.Read(buf)` reads.
//
//   auto [n, err] = conn.read(buf);
//   if (err == gofer::net::errc::eof) ...
//   if (err) return err;
//
// Expected failures (EOF, timeout, reset, closed, refused) are
// std::error_code values — testable without parsing strings, printable with
// .message(). Programming errors are fatal, never values.
#pragma once

#include <system_error>
#include <utility>

namespace gofer {

using Error = std::error_code;

// A value and an error, returned together (Go's two results).
template <class T>
struct Result {
  T value{};
  Error err{};

  explicit operator bool() const noexcept { return !err; }
};

}  // namespace gofer
