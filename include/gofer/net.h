// gofer::net — sockets as goroutine-blocking objects, modelled on Go's net.
//
//   auto [ln, err] = gofer::net::listen("tcp", "127.0.0.1:8080");
//   for (;;) {
//     auto [conn, err] = ln.accept();       // parks the goroutine, not the thread
//     if (err) break;
//     gofer::go([c = std::move(conn)]() mutable { serve(c); });
//   }
//
// Every socket is non-blocking and registered once with the netpoller; an
// operation tries the syscall and, on EAGAIN, parks the goroutine until the
// poller reports the fd ready (Go's internal/poll). All operations that may
// wait must be called from goroutines. Listener and Conn own their fd
// (move-only, closed exactly once, by close() or the destructor); close()
// from another goroutine wakes the goroutines blocked on the fd with
// errc::closed, and returns once the fd is released.
//
// Concurrency: one goroutine may read while another writes; concurrent reads
// (or concurrent writes) on one Conn are serialised, as in Go. close(),
// set_*deadline and close_read/close_write may be called from any goroutine
// at any time — but not after the Conn object itself was destroyed: the
// goroutine that destroys a Conn must know that no other one still uses it.
#pragma once

#include <sys/socket.h>
#include <sys/uio.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <system_error>
#include <type_traits>

#include "gofer/detail/task.h"
#include "gofer/error.h"

namespace gofer {
class Context;
}

namespace gofer::net {

using gofer::Error;
using gofer::Result;

namespace detail {
// What Conn::write takes as text: anything that converts to string_view,
// except a mutable char array — that is a byte buffer, written whole.
template <class S>
concept Text = std::is_convertible_v<S, std::string_view> &&
    !(std::is_array_v<std::remove_reference_t<S>> &&
      !std::is_const_v<std::remove_all_extents_t<std::remove_reference_t<S>>>);
}  // namespace detail

// Error values of the net layer. Other errno results are returned as
// std::system_category codes and compare equal to their std::errc values,
// e.g. err == std::errc::connection_refused, std::errc::connection_reset,
// std::errc::broken_pipe, std::errc::address_in_use.
enum class errc {
  eof = 1,          // the peer closed its side: read returns 0 bytes (Go's io.EOF)
  closed,           // use of a closed Listener/Conn (Go's net.ErrClosed)
  timeout,          // a deadline passed (Go's os.ErrDeadlineExceeded);
                    // also compares equal to std::errc::timed_out
  bad_address,      // an address that cannot be parsed ("missing port", "too many colons", …)
  unknown_network,  // not "tcp", "tcp4", "tcp6" or "unix"
  no_such_host,     // name resolution found nothing (Go's DNSError.IsNotFound)
  dns_failure,      // name resolution failed otherwise (server unreachable, SERVFAIL)
  not_listening,    // file_listener: the fd is not a listening stream socket
};
const std::error_category& net_category() noexcept;
inline std::error_code make_error_code(errc e) noexcept {
  return {static_cast<int>(e), net_category()};
}

// True for errc::timeout (Go's errors.Is(err, os.ErrDeadlineExceeded)).
inline bool is_timeout(const std::error_code& e) noexcept {
  return e.category() == net_category() && e.value() == static_cast<int>(errc::timeout);
}

// A socket address (IPv4, IPv6 or Unix), printable as Go prints it
// ("127.0.0.1:8080", "[::1]:80", "[fe80::1%eth0]:80", "/tmp/sock",
// "@abstract"). An IPv4-mapped IPv6 address prints as IPv4, as in Go.
class Addr {
 public:
  Addr() = default;
  Addr(const sockaddr* sa, socklen_t len);
  const sockaddr* data() const noexcept { return reinterpret_cast<const sockaddr*>(&storage_); }
  socklen_t size() const noexcept { return len_; }
  int family() const noexcept { return storage_.ss_family; }
  int port() const noexcept;                  // 0 for Unix addresses
  std::string_view network() const noexcept;  // "tcp", "unix", or "" when empty (Go's Addr.Network)
  std::string to_string() const;
  bool empty() const noexcept { return len_ == 0; }

  friend bool operator==(const Addr& a, const Addr& b) noexcept;

 private:
  sockaddr_storage storage_{};
  socklen_t len_ = 0;
};

// Go's net.SplitHostPort: "[::1]:80" → {"::1", "80"}; "host:port"; ":80".
// Fails with errc::bad_address ("missing port", "too many colons", …).
Result<std::pair<std::string_view, std::string_view>> split_host_port(std::string_view hostport);
// Go's net.JoinHostPort: brackets a host that contains a colon.
std::string join_host_port(std::string_view host, std::string_view port);

using Clock = std::chrono::steady_clock;  // CLOCK_MONOTONIC, the runtime's nanotime()
using Deadline = Clock::time_point;       // Deadline{} (the epoch) means "no deadline"

class Conn;
class Listener;

struct ListenOptions {
  int backlog = 4096;       // capped by net.core.somaxconn
  bool reuse_port = false;  // SO_REUSEPORT (several listeners, one port)
};

// Go's net.Listen: "tcp", "tcp4", "tcp6" with "host:port" (":8080",
// "127.0.0.1:0", "[::1]:80", "localhost:0"), or "unix" with a socket path
// ("@name": Linux's abstract namespace). As in Go, "tcp" with a wildcard
// host (":8080", "0.0.0.0:80", "[::]:80") listens on a dual-stack IPv6
// socket when the host has IPv6. SO_REUSEADDR is always on for TCP.
// A Unix listener removes its socket file when closed (not an existing one:
// that is std::errc::address_in_use, as in Go).
Result<Listener> listen(std::string_view network, std::string_view address,
                        const ListenOptions& options = {});

// Go's net.DialTimeout. Names are resolved with getaddrinfo inside
// blocking(), so a slow resolver stalls no other goroutine, and each
// resolved address is tried in turn (sharing the time left, as Go does).
// Names under ".invalid" fail at once with no_such_host (RFC 6761).
// timeout <= 0: no timeout (the kernel's connect timeout still applies).
Result<Conn> dial(std::string_view network, std::string_view address,
                  std::chrono::nanoseconds timeout = {});

// Go's net.Dialer.DialContext: dial() bounded by a context instead of a
// timeout. The context's deadline, if any, is the dial's; when the context
// ends (cancelled, or past its deadline) before the connection is made, the
// name lookup is abandoned (getaddrinfo cannot be stopped; it finishes in
// the background, bounded as src/net/resolve.h says) or the connect is
// interrupted, and the result is the context's error:
// context_errc::canceled or context_errc::deadline_exceeded. A context that
// has already ended fails at once.
Result<Conn> dial_context(const Context& ctx, std::string_view network, std::string_view address);

// Go's net.FileListener, for a listening socket made by someone else:
// systemd's socket activation (LISTEN_FDS, sd_listen_fds(3)), or the process
// this one replaces in an in-place upgrade. Takes ownership of `fd` (closed
// on failure too) and makes it non-blocking and close-on-exec. Fails with
// errc::not_listening for anything but a stream socket in the listening
// state (a file, a pipe, a datagram socket, a connected or unbound socket),
// or with the errno of fstat/fcntl (std::errc::bad_file_descriptor for an
// fd that is not open).
Result<Listener> file_listener(int fd);

class Listener {
 public:
  Listener() noexcept;
  Listener(Listener&&) noexcept;
  Listener& operator=(Listener&&) noexcept;
  ~Listener();

  // Waits for the next connection. On EMFILE/ENFILE/ENOBUFS/ENOMEM it backs
  // off (5 ms doubling to 1 s, as Go's http.Server does) and tries again, so
  // the connections already open keep being served; errors that belong to
  // one aborted connection (ECONNABORTED, EPROTO, EPERM, ENETDOWN, …) are
  // retried at once. close() from another goroutine interrupts both waits.
  Result<Conn> accept();
  // errc::closed if already closed.
  Error close();
  // The bound address (the actual port when listening on port 0).
  Addr addr() const;
  int fd() const noexcept;  // -1 once closed
  explicit operator bool() const noexcept { return static_cast<bool>(impl_); }

  struct Impl;
  explicit Listener(std::unique_ptr<Impl> impl) noexcept;

 private:
  std::unique_ptr<Impl> impl_;
};

class Conn {
 public:
  Conn() noexcept;
  Conn(Conn&&) noexcept;
  Conn& operator=(Conn&&) noexcept;
  ~Conn();

  // Reads what is available (at least 1 byte), parking until some is.
  // Returns {0, errc::eof} at end of stream; {0, {}} for an empty buffer.
  Result<std::size_t> read(std::span<char> buf);
  // Writes the whole buffer, parking as often as needed. On error, value
  // is the number of bytes written before it.
  Result<std::size_t> write(std::span<const char> buf);
  // Text: std::string, std::string_view, a string literal (without its NUL).
  template <detail::Text S>
  Result<std::size_t> write(S&& s) {
    std::string_view v(s);
    return write(std::span<const char>(v.data(), v.size()));
  }
  // Writes all the buffers in order (one sendmsg per readiness, usually one
  // in all), resuming a partial write in the middle of any buffer.
  Result<std::size_t> writev(std::span<const iovec> bufs);
  // Writes `count` bytes of the open file `fd` from `offset` with
  // sendfile(2): no copy through user space, and fd's file position does
  // not move (Go's TCPConn.ReadFrom of an *os.File). Fewer bytes than
  // asked, and no error, if the file ends first. A read from a file that
  // is not in the page cache blocks the thread, as in Go.
  Result<std::size_t> send_file(int fd, std::int64_t offset, std::size_t count);

  // errc::closed if already closed.
  Error close();
  Error close_read();   // shutdown(SHUT_RD)
  Error close_write();  // shutdown(SHUT_WR): the peer reads EOF, and may still write back

  Addr local_addr() const;   // getsockname
  Addr remote_addr() const;  // the peer, as known when the Conn was made

  // Absolute deadlines (Go's SetDeadline). A blocked operation past its
  // deadline returns errc::timeout; a deadline in the past wakes the waiter
  // at once (and fails later operations until it is moved); moving it later
  // while parked extends the wait; Deadline{} clears it.
  Error set_deadline(Deadline d);
  Error set_read_deadline(Deadline d);
  Error set_write_deadline(Deadline d);

  // TCP_NODELAY (on by default, as in Go). Unix sockets: a no-op.
  Error set_no_delay(bool on);

  // Runs `f` in a new goroutine once a read would not block (bytes or EOF
  // arrived), the read deadline passes or the connection is closed — at
  // once if that is already so. Until then no goroutine waits, so the
  // connection costs no stack: a server parks idle keep-alive connections
  // this way. `f` then reads as usual. Like a read, at most one at a time;
  // the Conn must outlive the start of `f`.
  template <class F>
  [[gnu::noinline]] void go_when_readable(F&& f) {  // noinline: see go()
    go_when_readable_impl(gofer::detail::Task(std::forward<F>(f)), __builtin_return_address(0));
  }

  int fd() const noexcept;  // -1 once closed
  explicit operator bool() const noexcept { return static_cast<bool>(impl_); }

  struct Impl;
  explicit Conn(std::unique_ptr<Impl> impl) noexcept;

 private:
  void go_when_readable_impl(gofer::detail::Task task, void* creator_pc);
  std::unique_ptr<Impl> impl_;
};

}  // namespace gofer::net

template <>
struct std::is_error_code_enum<gofer::net::errc> : std::true_type {};
