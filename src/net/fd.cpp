#include "net/fd.h"

#include <errno.h>
#include <limits.h>
#include <sys/socket.h>

#include <algorithm>
#include <utility>

#include "gofer/chan.h"
#include "gofer/context.h"
#include "gofer/runtime.h"
#include "net/stats.h"
#include "net/sys.h"
#include "runtime/park.h"
#include "runtime/poll_desc.h"
#include "runtime/trace.h"

namespace gofer::net::detail {

using runtime::PollMode;
namespace {

// Go's maxRW: larger reads and writes are split (some kernels misbehave
// above 2 GiB, and a 1 GiB chunk costs nothing).
constexpr std::size_t kMaxRW = 1 << 30;
// iovecs copied to the stack to resume a writev in the middle of a buffer.
constexpr std::size_t kLocalIovecs = 64;

constexpr std::int64_t kBackoffFirst = 5'000'000;    // 5 ms
constexpr std::int64_t kBackoffMax = 1'000'000'000;  // 1 s

Error poll_error(runtime::PollError e) noexcept {
  switch (e) {
    case runtime::PollError::none:
      return {};
    case runtime::PollError::closing:
      return errc::closed;
    case runtime::PollError::timeout:
      return errc::timeout;
  }
  return errc::closed;
}

}  // namespace

Stats& stats() noexcept {
  static Stats s;
  return s;
}

std::int64_t to_nanotime(Deadline d) noexcept {
  if (d == Deadline{}) return 0;
  auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(d.time_since_epoch()).count();
  return ns > 0 ? ns : 1;
}

// Holds the read lock, the write lock or a plain reference for the length of
// one operation; the last release of a closed fd destroys it.
class NetFd::OpGuard {
 public:
  enum Kind { kRead, kWrite, kRef };
  OpGuard(NetFd* fd, Kind kind) : fd_(fd), kind_(kind) {
    ok_ = kind == kRef ? fd->mu_.incref() : fd->mu_.rwlock(kind == kRead);
  }
  ~OpGuard() {
    if (!ok_) return;
    bool last = kind_ == kRef ? fd_->mu_.decref() : fd_->mu_.rwunlock(kind_ == kRead);
    if (last) fd_->destroy();
  }
  OpGuard(const OpGuard&) = delete;
  OpGuard& operator=(const OpGuard&) = delete;
  bool ok() const noexcept { return ok_; }

 private:
  NetFd* fd_;
  Kind kind_;
  bool ok_;
};

NetFd::NetFd(int sysfd, Error* err) {
  int e = 0;
  runtime::PollDesc* pd = runtime::poll_open(sysfd, &e);
  if (pd == nullptr) {
    sys::close(sysfd);
    mu_.mark_never_opened();
    *err = sys_error(e);
    return;
  }
  sysfd_ = sysfd;
  pd_ = pd;
  *err = {};
}

NetFd::~NetFd() {
  // A destructor has nobody to tell; close() fails only on a closed fd.
  if (pd_ != nullptr) (void)close();
}

int NetFd::sysfd() const noexcept {
  return mu_.closed() ? -1 : sysfd_;
}

Error NetFd::prepare_read() {
  // Go's pollDesc.prepare: a closed fd or an expired deadline fails even if
  // data is waiting.
  if (auto e = runtime::poll_check(pd_, PollMode::read); e != runtime::PollError::none)
    return poll_error(e);
  // And Go's runtime_pollReset: drop a readiness report that arrived while
  // nobody waited. The read below tells the truth about the socket; without
  // the reset, its EAGAIN would be followed by a wait that returns at once
  // and a second, useless read. Only the read-lock holder waits on rg, so
  // ready→nil is this waiter's own "consume" transition (poll_desc.h).
  // Writes skip it: their readiness is nearly always stale-ready, and EAGAIN
  // on a write is rare.
  std::uintptr_t ready = runtime::kPdReady;
  if (pd_->rg.load(std::memory_order_relaxed) == ready) {
    pd_->rg.compare_exchange_strong(ready, runtime::kPdNil, std::memory_order_seq_cst);
  }
  return {};
}

Error NetFd::prepare_write() {
  return poll_error(runtime::poll_check(pd_, PollMode::write));
}

// reason: what the goroutine dump shows (none: "IO wait (read/write)").
Error NetFd::wait(PollMode mode, runtime::WaitReason reason) {
  return poll_error(runtime::poll_wait(pd_, mode, reason));
}

void NetFd::go_when_readable(gofer::detail::Task task, void* creator_pc) {
  // Held while g is published, so that the descriptor cannot be destroyed
  // (and its PollDesc reused) under it; a close evicts g and starts it.
  OpGuard op(this, OpGuard::kRead);
  if (!op.ok()) {
    gofer::detail::spawn(std::move(task), GoOptions{}, creator_pc);  // its read says "closed"
    return;
  }
  // The wait that a read would do next; the readiness it keeps is what
  // read's drained path would wait on (see read()).
  read_drained_ = false;
  runtime::poll_start_when_ready(pd_, PollMode::read, std::move(task), runtime::WaitReason::io_read,
                                 creator_pc);
}

Result<std::size_t> NetFd::read(std::span<char> buf) {
  OpGuard op(this, OpGuard::kRead);
  if (!op.ok()) return {0, errc::closed};
  // The last read came back short: the receive buffer was empty then, and
  // the edge-triggered poller reports every byte that arrived since. Then
  // wait for that report (at once if it came already) rather than ask the
  // kernel for an EAGAIN first — nginx's "not ready after a short recv";
  // it saves a syscall per request on a keep-alive connection. Not once
  // an EOF was reported: it may have come before the short read, and no
  // report follows it. A stale report costs what the plain path costs.
  const bool drained =
      std::exchange(read_drained_, false) && !pd_->read_hup.load(std::memory_order_acquire);
  if (drained) {
    // The readiness is what we wait on: keep it (no pollReset).
    if (auto e = runtime::poll_check(pd_, PollMode::read); e != runtime::PollError::none) {
      return {0, poll_error(e)};
    }
  } else if (Error e = prepare_read()) {
    return {0, e};
  }
  if (buf.empty()) return {0, {}};
  const std::size_t n = std::min(buf.size(), kMaxRW);
  if (drained) {
    if (Error e = wait(PollMode::read)) return {0, e};
  }
  for (;;) {
    ssize_t r = sys::read(sysfd_, buf.data(), n);
    runtime::trace(runtime::TraceKind::read, sysfd_, r);
    if (r > 0) {
      read_drained_ = static_cast<std::size_t>(r) < n;
      return {static_cast<std::size_t>(r), {}};
    }
    if (r == 0) return {0, errc::eof};
    if (r == -EAGAIN) {
      if (Error e = wait(PollMode::read)) return {0, e};
      continue;
    }
    if (r == -EINTR) continue;
    return {0, sys_error(static_cast<int>(-r))};
  }
}

Result<std::size_t> NetFd::write(std::span<const char> buf) {
  OpGuard op(this, OpGuard::kWrite);
  if (!op.ok()) return {0, errc::closed};
  if (Error e = prepare_write()) return {0, e};
  std::size_t done = 0;
  while (done < buf.size()) {
    const std::size_t n = std::min(buf.size() - done, kMaxRW);
    // MSG_NOSIGNAL: a write to a reset connection returns EPIPE instead of
    // killing the process with SIGPIPE.
    ssize_t r = sys::send(sysfd_, buf.data() + done, n, MSG_NOSIGNAL);
    runtime::trace(runtime::TraceKind::write, sysfd_, r,
                   static_cast<std::int64_t>(runtime::TraceSyscall::send));
    if (r > 0) {
      done += static_cast<std::size_t>(r);
      continue;  // a partial write: the next try usually says EAGAIN
    }
    if (r == -EAGAIN) {
      if (Error e = wait(PollMode::write)) return {done, e};
      continue;
    }
    if (r == -EINTR) continue;
    if (r == 0) return {done, sys_error(EIO)};  // impossible for a stream socket
    return {done, sys_error(static_cast<int>(-r))};
  }
  return {done, {}};
}

Result<std::size_t> NetFd::send_file(int file_fd, std::int64_t offset, std::size_t count) {
  OpGuard op(this, OpGuard::kWrite);
  if (!op.ok()) return {0, errc::closed};
  if (Error e = prepare_write()) return {0, e};
  std::size_t done = 0;
  auto at = static_cast<off_t>(offset);
  while (done < count) {
    const std::size_t n = std::min(count - done, kMaxRW);
    ssize_t r = sys::sendfile(sysfd_, file_fd, &at, n);
    runtime::trace(runtime::TraceKind::write, sysfd_, r,
                   static_cast<std::int64_t>(runtime::TraceSyscall::sendfile));
    if (r > 0) {
      done += static_cast<std::size_t>(r);
      continue;
    }
    if (r == 0) break;  // the file ended first
    if (r == -EAGAIN) {
      if (Error e = wait(PollMode::write)) return {done, e};
      continue;
    }
    if (r == -EINTR) continue;
    return {done, sys_error(static_cast<int>(-r))};
  }
  return {done, {}};
}

Result<std::size_t> NetFd::writev(std::span<const iovec> bufs) {
  OpGuard op(this, OpGuard::kWrite);
  if (!op.ok()) return {0, errc::closed};
  if (Error e = prepare_write()) return {0, e};
  std::size_t done = 0;
  std::size_t i = 0;  // the next byte to send is bufs[i] + offset
  std::size_t offset = 0;
  iovec local[kLocalIovecs];
  for (;;) {
    while (i < bufs.size() && offset == bufs[i].iov_len) {  // skip what is sent and empty buffers
      ++i;
      offset = 0;
    }
    if (i == bufs.size()) return {done, {}};
    msghdr msg{};
    if (offset == 0) {
      // The common case: the caller's array as it is (sendmsg only reads it).
      msg.msg_iov = const_cast<iovec*>(bufs.data() + i);
      msg.msg_iovlen = std::min<std::size_t>(bufs.size() - i, IOV_MAX);
    } else {
      std::size_t n = std::min(bufs.size() - i, kLocalIovecs);
      std::copy_n(bufs.data() + i, n, local);
      local[0].iov_base = static_cast<char*>(local[0].iov_base) + offset;
      local[0].iov_len -= offset;
      msg.msg_iov = local;
      msg.msg_iovlen = n;
    }
    ssize_t r = sys::sendmsg(sysfd_, &msg, MSG_NOSIGNAL);
    runtime::trace(runtime::TraceKind::write, sysfd_, r,
                   static_cast<std::int64_t>(runtime::TraceSyscall::sendmsg));
    if (r > 0) {
      done += static_cast<std::size_t>(r);
      auto left = static_cast<std::size_t>(r);
      while (left > 0) {
        std::size_t rest = bufs[i].iov_len - offset;
        if (left < rest) {
          offset += left;
          break;
        }
        left -= rest;
        ++i;
        offset = 0;
      }
      continue;
    }
    if (r == -EAGAIN) {
      if (Error e = wait(PollMode::write)) return {done, e};
      continue;
    }
    if (r == -EINTR) continue;
    if (r == 0) return {done, sys_error(EIO)};
    return {done, sys_error(static_cast<int>(-r))};
  }
}

Result<int> NetFd::accept(Addr* remote) {
  OpGuard op(this, OpGuard::kRead);
  if (!op.ok()) return {-1, errc::closed};
  if (Error e = prepare_read()) return {-1, e};
  std::int64_t backoff = 0;
  for (;;) {
    sockaddr_storage ss;
    socklen_t len = sizeof ss;
    int s =
        sys::accept4(sysfd_, reinterpret_cast<sockaddr*>(&ss), &len, SOCK_NONBLOCK | SOCK_CLOEXEC);
    runtime::trace(runtime::TraceKind::accept, sysfd_, s);
    if (s >= 0) {
      *remote = Addr(reinterpret_cast<sockaddr*>(&ss), len);
      return {s, {}};
    }
    switch (-s) {
      case EAGAIN:
        if (Error e = wait(PollMode::read, runtime::WaitReason::io_accept)) return {-1, e};
        continue;
      case EINTR:
        continue;
      // The connection at the head of the queue failed before we took it
      // (accept(2): "treat them like EAGAIN by retrying"); the next one may
      // be fine. Go retries ECONNABORTED in poll.FD.Accept, and its
      // http.Server retries the other temporary errors.
      case ECONNABORTED:
      case EPROTO:
      case EPERM:  // a firewall rule refused it
      case ENETDOWN:
      case ENOPROTOOPT:
      case EHOSTDOWN:
      case ENONET:
      case EHOSTUNREACH:
      case EOPNOTSUPP:
      case ENETUNREACH:
        stats().accept_retries.fetch_add(1, std::memory_order_relaxed);
        continue;
      // Out of fds or memory: the connection stays queued in the kernel.
      // Sleep and retry rather than spin (pitfall 4 in docs/design.md), 5 ms
      // doubling to 1 s as Go's http.Server does; meanwhile the other
      // goroutines keep serving the connections already open.
      case EMFILE:
      case ENFILE:
      case ENOBUFS:
      case ENOMEM:
        backoff = backoff == 0 ? kBackoffFirst : std::min(2 * backoff, kBackoffMax);
        stats().accept_backoffs.fetch_add(1, std::memory_order_relaxed);
        if (Error e = backoff_sleep(runtime::nanotime() + backoff)) return {-1, e};
        continue;
      default:
        return {-1, sys_error(-s)};
    }
  }
}

Error NetFd::backoff_sleep(std::int64_t until) {
  // Unlike runtime::sleep_until_ns, close() cuts this sleep short (through
  // backoff_), so closing a listener out of fds does not wait up to 1 s.
  backoff_.wait(until, runtime::WaitReason::sleep);
  backoff_.reset_timeout();
  // close() evicts the PollDesc before it notifies: a close is seen here.
  return poll_error(runtime::poll_check(pd_, PollMode::read));
}

Error NetFd::connect(const Addr& remote, std::int64_t deadline, const Context* ctx) {
  OpGuard op(this, OpGuard::kWrite);
  if (!op.ok()) return errc::closed;
  int r = sys::connect(sysfd_, remote.data(), remote.size());
  switch (-r) {
    case 0:
    case EISCONN:
      return {};
    case EINPROGRESS:
    case EALREADY:
    case EINTR:  // the handshake goes on without us: wait for it
      break;
    default:
      return sys_error(-r);
  }
  // The dial timeout is the write deadline while the handshake runs (Go).
  if (deadline != 0) runtime::poll_set_deadline(pd_, deadline, PollMode::write);
  // A context that can end gets a watcher, started after the deadline was
  // set so that it cannot be overwritten: when the context ends first, the
  // watcher moves the write deadline into the past, which wakes the wait
  // below with errc::timeout (Go's netFD.connect does the same).
  ConnectWatcher watcher(this, ctx);
  Error err;
  for (;;) {
    if ((err = wait(PollMode::write, runtime::WaitReason::io_connect))) break;
    int soerr = 0;
    if (int g = sys::getsockopt_int(sysfd_, SOL_SOCKET, SO_ERROR, &soerr); g < 0) {
      err = sys_error(-g);
      break;
    }
    if (soerr == EINPROGRESS || soerr == EALREADY || soerr == EINTR) continue;
    if (soerr == EISCONN) break;
    if (soerr != 0) {
      err = sys_error(soerr);
      break;
    }
    // Writable without an error. The fd reports "ready" once when it is
    // registered, before connect(): make sure the handshake is really done
    // (Go: "the runtime poller can wake us up spuriously").
    sockaddr_storage ss;
    socklen_t len = sizeof ss;
    if (sys::getpeername(sysfd_, reinterpret_cast<sockaddr*>(&ss), &len) == 0) break;
  }
  // Only once the watcher is gone may the deadline go back to none: a
  // watcher still running could move it into the past after that.
  if (watcher.stop()) err = ctx->err();  // the context ended: its error wins, as in Go
  if (deadline != 0 || ctx != nullptr) runtime::poll_set_deadline(pd_, 0, PollMode::write);
  return err;
}

NetFd::ConnectWatcher::ConnectWatcher(NetFd* fd, const Context* ctx) {
  if (ctx == nullptr || !ctx->done()) return;  // a context that never ends
  stop_ = make_chan<Empty>();
  gofer::go([this, fd, done = ctx->done(), stop = stop_] {
    gofer::select(recv_case(done,
                            [&] {
                              fired_ = true;
                              runtime::poll_set_deadline(fd->pd_, 1, PollMode::write);  // long ago
                            }),
                  recv_case(stop));
    exited_.notify();  // the last touch of *this and *fd
  });
}

bool NetFd::ConnectWatcher::stop() {
  if (!stop_) return fired_;
  std::exchange(stop_, Chan<Empty>{}).close();
  exited_.wait(0, runtime::WaitReason::semaphore);
  // exited_'s notify/wait order the watcher's write of fired_ before this read.
  return fired_;
}

Error NetFd::close() {
  if (!mu_.incref_and_close()) return errc::closed;
  runtime::poll_evict(pd_);  // parked readers and writers wake with errc::closed
  backoff_.notify();         // so does an accept that backs off
  if (mu_.decref()) destroy();
  // The operations just woken drop their references promptly; the last one
  // releases the fd. Waiting here means the fd number is free when close()
  // returns, and that the owner may then free this NetFd.
  destroyed_.wait(0, runtime::WaitReason::semaphore);
  return {};
}

void NetFd::destroy() {
  runtime::poll_close(pd_);
  sys::close(sysfd_);
  runtime::trace(runtime::TraceKind::close, sysfd_);
  destroyed_.notify();  // the last access to *this
}

Error NetFd::shutdown(int how) {
  OpGuard op(this, OpGuard::kRef);
  if (!op.ok()) return errc::closed;
  int r = sys::shutdown(sysfd_, how);
  return r < 0 ? sys_error(-r) : Error{};
}

Error NetFd::set_deadline(Deadline d, PollMode mode) {
  OpGuard op(this, OpGuard::kRef);
  if (!op.ok()) return errc::closed;
  runtime::poll_set_deadline(pd_, to_nanotime(d), mode);
  return {};
}

Error NetFd::setsockopt_int(int level, int name, int value) {
  OpGuard op(this, OpGuard::kRef);
  if (!op.ok()) return errc::closed;
  int r = sys::setsockopt_int(sysfd_, level, name, value);
  return r < 0 ? sys_error(-r) : Error{};
}

Addr NetFd::local_addr() const {
  OpGuard op(const_cast<NetFd*>(this), OpGuard::kRef);
  if (!op.ok()) return {};
  sockaddr_storage ss;
  socklen_t len = sizeof ss;
  if (sys::getsockname(sysfd_, reinterpret_cast<sockaddr*>(&ss), &len) < 0) return {};
  return Addr(reinterpret_cast<sockaddr*>(&ss), len);
}

}  // namespace gofer::net::detail
