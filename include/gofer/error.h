// Errors as values, the way Go's `n, err := c.Read(buf)` reads (the
// examples in these headers are excerpts of examples/snippets/, which CI
// compiles and runs).
//
//   auto [n, err] = conn.read(buf);
//   if (err == gofer::net::errc::eof) return {};  // the peer hung up
//   if (err) return err;
//
// Expected failures (EOF, timeout, reset, closed, refused) are Error values:
// std::error_codes, testable without parsing strings, printable with
// .message(). Error and Result are [[nodiscard]], so every function that
// returns one is too: a caller handles the error, or discards it with
// `(void)` and a comment that says why it may.
//
// Misuse and broken invariants — the policy, for every layer:
//   * Misuse of an API that the callee detects before it has changed
//     anything (send on a closed channel, close of a closed channel, an
//     invalid status code, a conflicting ServeMux pattern, a non-positive
//     Ticker period, a negative semaphore weight) throws an exception derived
//     from std::logic_error — Go's panic. It unwinds the goroutine; an
//     exception that leaves a goroutine's function is fatal, with its
//     message, like an unrecovered panic; the HTTP server recovers one thrown
//     by a handler (a 500, and the connection closes).
//   * A broken invariant — state already inconsistent when the error is
//     seen (unlock of an unlocked Mutex, a negative WaitGroup counter,
//     releasing more of a Semaphore than was held, a second ready() of a
//     goroutine, a stack overflow), a deadlock the runtime can see (a
//     blocking channel operation outside any goroutine), or a system call
//     the runtime cannot run without (epoll_create1, mmap of a stack) —
//     stops the process with runtime::fatal() and a one-line message, like
//     Go's "fatal error:": unwinding would run code over state that can no
//     longer be trusted.
//   * Running out of memory is std::bad_alloc, as for any C++ allocation.
#pragma once

#include <system_error>
#include <utility>

namespace gofer {

// std::error_code that must not be dropped. Converts both ways, so it can
// be passed to and compared with anything that takes a std::error_code.
class [[nodiscard]] Error : public std::error_code {
 public:
  using std::error_code::error_code;
  Error() noexcept = default;
  Error(const std::error_code& e) noexcept : std::error_code(e) {}  // NOLINT: implicit on purpose
};

// A value and an error, returned together (Go's two results).
template <class T>
struct [[nodiscard]] Result {
  T value{};
  Error err{};

  explicit operator bool() const noexcept { return !err; }
};

}  // namespace gofer
