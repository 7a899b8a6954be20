// NetFd: one non-blocking socket and the goroutines that use it — Go's
// internal/poll.FD. Everything in net that touches an fd goes through here.
//
// The loop (Go's FD.Read/Write/Accept): take the direction's lock and a
// reference (FdMutex), fail fast on close or an expired deadline, then try the
// syscall; on EAGAIN park on the PollDesc until the netpoller reports the fd
// ready, and try again. With the fd ready a read or write costs one syscall
// and a few atomic operations — no lock, no allocation.
//
// Close (invariant 7 in docs/design.md): close() sets the closed bit (no new
// operation can start), evicts the PollDesc (parked readers and writers wake
// with errc::closed), interrupts an accept back-off, and drops its reference.
// The last reference to go — close() itself, or the operation that was still
// in flight — unregisters the fd from the poller and closes it, exactly once.
// close() waits for that (the operations it woke finish promptly), so when
// it returns the fd number is free, and the owner may free the NetFd.
//
// Invariants:
//   sysfd_ and pd_ do not change from construction to destroy(); destroy()
//   runs exactly once, by whoever drops the last reference after close().
//   At most one goroutine waits on each direction of pd_: the holder of that
//   direction's lock (accept and connect use the read and write lock).
//   Each syscall on sysfd_ runs under a reference, so never after destroy().
//
// Rejected: closing in close() whatever runs (a concurrent read would hit a
// reused fd number); a std::mutex per direction (a lock on the hot path, and
// it would block the thread, not the goroutine).
#pragma once

#include <sys/uio.h>

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <span>

#include "gofer/chan.h"
#include "gofer/context.h"
#include "gofer/error.h"
#include "gofer/net.h"
#include "net/fd_mutex.h"
#include "net/wakeup.h"
#include "runtime/park.h"
#include "runtime/poll_desc.h"

namespace gofer::net::detail {

// errno → Error (std::system_category; compares equal to std::errc values).
inline Error sys_error(int errnum) noexcept {
  return {errnum, std::system_category()};
}

// The steady_clock time point as a runtime nanotime() deadline: 0 for none,
// >= 1 otherwise (a time at or before now expires at once). Both clocks read
// CLOCK_MONOTONIC on Linux (checked by a test).
std::int64_t to_nanotime(Deadline d) noexcept;

class NetFd {
 public:
  // Registers `sysfd` (non-blocking, close-on-exec) with the netpoller and
  // takes ownership; on failure closes it and returns the error in *err.
  NetFd(int sysfd, Error* err);
  NetFd(const NetFd&) = delete;
  NetFd& operator=(const NetFd&) = delete;
  // close() if still open.
  ~NetFd();

  Result<std::size_t> read(std::span<char> buf);
  // Conn::go_when_readable.
  void go_when_readable(gofer::detail::Task task, void* creator_pc);
  Result<std::size_t> write(std::span<const char> buf);
  Result<std::size_t> writev(std::span<const iovec> bufs);
  // Conn::send_file.
  Result<std::size_t> send_file(int file_fd, std::int64_t offset, std::size_t count);
  // A new non-blocking, close-on-exec socket (not yet registered) and its
  // peer's address. Backs off on EMFILE & co (see Listener::accept).
  Result<int> accept(Addr* remote);
  // Non-blocking connect; waits for the handshake until `deadline`
  // (nanotime; 0: none), which is the write deadline meanwhile, or until
  // `ctx` (nullptr: none) ends, which makes it return the context's error.
  Error connect(const Addr& remote, std::int64_t deadline, const Context* ctx = nullptr);

  Error close();
  Error shutdown(int how);
  Error set_deadline(Deadline d, runtime::PollMode mode);
  Error setsockopt_int(int level, int name, int value);
  Addr local_addr() const;
  int sysfd() const noexcept;  // -1 once closed

  bool ok() const noexcept { return pd_ != nullptr; }

 private:
  class OpGuard;

  // A goroutine that interrupts a connect when its context ends, for the
  // length of the connect. stop() ends it, waits until it has exited, and
  // says whether it fired (the context ended).
  class ConnectWatcher {
   public:
    ConnectWatcher(NetFd* fd, const Context* ctx);
    ConnectWatcher(const ConnectWatcher&) = delete;
    ConnectWatcher& operator=(const ConnectWatcher&) = delete;
    ~ConnectWatcher() { (void)stop(); }
    [[nodiscard]] bool stop();  // idempotent

   private:
    Chan<Empty> stop_;    // nil when there is no watcher
    bool fired_ = false;  // written by the watcher before exited_.notify()
    Wakeup exited_;
  };

  Error prepare_read();
  Error prepare_write();
  Error wait(runtime::PollMode mode, runtime::WaitReason reason = runtime::WaitReason::none);
  Error backoff_sleep(std::int64_t until);
  // The last reference went: unregister and close the fd, then let close()
  // return.
  void destroy();

  int sysfd_ = -1;
  runtime::PollDesc* pd_ = nullptr;
  // The last read came back short, so the receive buffer was empty then.
  // Guarded by the read lock. Every socket here is a stream socket (TCP,
  // unix stream); a datagram socket could not use this hint.
  bool read_drained_ = false;
  mutable FdMutex mu_;
  Wakeup destroyed_;  // notified by destroy(); close() waits on it
  Wakeup backoff_;    // close() interrupts accept's back-off sleep
};

}  // namespace gofer::net::detail

namespace gofer::net {

struct Conn::Impl {
  Impl(int sysfd, const Addr& remote, Error* err) : fd(sysfd, err), remote(remote) {}
  detail::NetFd fd;
  Addr remote;
};

struct Listener::Impl {
  Impl(int sysfd, Error* err) : fd(sysfd, err) {}
  detail::NetFd fd;
  Addr local;
  std::string unlink_path;  // a Unix socket file this listener created
};

}  // namespace gofer::net
