// tls::Conn: TLS over a net::Conn, with OpenSSL as a pure state machine.
//
// How a TLS read works here (the write and the handshake are alike):
//
//   in_mu held ─► SSL_read_ex under ssl_mu ─► OpenSSL's BIO read (bio.cpp)
//        ▲             │                        takes ciphertext from `in`;
//        │             │                        empty: "retry" → WANT_READ
//        │             ▼
//        │      WANT_READ: net::Conn::read into `in` (the goroutine parks on
//        └───── the netpoller, with no OpenSSL frame on its stack), again
//
// OpenSSL never sees the socket. A BIO of ours hands it ciphertext from the
// connection's `in` buffer and takes its output into `out`; when `in` is
// empty or `out` is full the BIO says "retry", the OpenSSL call returns
// WANT_READ/WANT_WRITE, and this file moves ciphertext with net::Conn —
// which parks the goroutine through the netpoller — and calls OpenSSL
// again. Why:
//   * No OpenSSL frame is ever parked, and no OpenSSL call spans a park. A
//     goroutine may resume on another thread, and OpenSSL keeps per-thread
//     state (its error queue): each call runs under ssl_mu with the queue
//     emptied before it and read right after it (call_ssl), on one thread.
//   * TLS does not depend on the poller: the socket I/O is net::Conn's, so
//     deadlines, close, the trace and a future io_uring backend (which
//     completes I/O into buffers it is given) apply unchanged, and the same
//     code serves a client.
//   * The ciphertext buffers are ours: reused for every record, grown while
//     busy so a bulk write sends several 16 KiB records per syscall, and
//     freed while idle (release_buffers(); SSL_MODE_RELEASE_BUFFERS does
//     the same for OpenSSL's own record buffers).
// Rejected: SSL_set_fd (OpenSSL does the syscalls: its EAGAIN must then be
// mapped to a park on an fd it owns, the error queue spans the park, and the
// poller backend is baked in); a BIO pair or BIO_s_mem (an extra copy into a
// buffer we do not control, which reallocates as it grows and cannot be
// sent from while OpenSSL appends); a thread per handshake or handshakes in
// blocking() (a thread per slow client).
//
// Concurrency, as Go's crypto/tls: one reader and one writer may run at
// once; the handshake runs once, first (handshake(), or implicitly from
// read/write), holding both directions. The locks and what they guard are
// listed in conn_impl.h.
//
// End of stream: close_notify is net::errc::eof; a stream that ends without
// it is errc::truncated, an error (unlike Go, which returns io.EOF when the
// cut falls between records): an attacker can cut a connection anywhere.
//
// kTLS: this kernel offers no TLS ULP (/proc/sys/net/ipv4/tcp_available_ulp
// lists no "tls"), so there is none, untested, here. Where it would go:
// once the handshake completes, the traffic keys would be handed to the
// socket (setsockopt SOL_TLS TLS_TX/TLS_RX) and write/writev would send
// plaintext straight through net::Conn, bypassing SSL_write and `out`; a
// sendfile(2) method beside writev would then let FileServer send files
// without reading them, and read would take plaintext (and control
// messages for alerts) from the socket. The switch is one flag, set at the
// end of handshake_locked, tested at the top of read/write/writev.
#include <arpa/inet.h>

#include <climits>
#include <cstring>

#include "gofer/runtime.h"
#include "tls/conn_impl.h"
#include "tls/errors.h"

namespace gofer::tls {

using namespace detail;
using Impl = Conn::Impl;

namespace {

// Go returns EINVAL for a method called on a nil Conn; so do we for an
// empty (default-constructed or moved-from) one.
Error invalid() {
  return std::make_error_code(std::errc::invalid_argument);
}

// What one OpenSSL call came to, read before anything can park.
struct SslOutcome {
  int code = SSL_ERROR_NONE;  // SSL_get_error
  Error err;                  // for SSL_ERROR_SSL and the impossible others
  // The call added ciphertext to `out` that nobody is sending: the caller
  // must flush it. (Bytes added while a flush is in flight are sent by that
  // flush, which loops until `out` is empty.)
  bool out_pending = false;
};

// One call into OpenSSL: under ssl_mu, with this thread's error queue
// emptied before and read right after (HACKING.md, rule 2). `f` returns
// OpenSSL's 1-on-success int.
template <class F>
SslOutcome call_ssl(Impl& c, F&& f) {
  std::lock_guard lock(c.ssl_mu);
  ERR_clear_error();
  const std::size_t out_before = c.out.size();
  const int rc = f(c.ssl.get());
  SslOutcome o;
  if (rc != 1) o.code = SSL_get_error(c.ssl.get(), rc);
  if (o.code != SSL_ERROR_NONE && o.code != SSL_ERROR_WANT_READ && o.code != SSL_ERROR_WANT_WRITE &&
      o.code != SSL_ERROR_ZERO_RETURN) {
    const unsigned long packed = ERR_get_error();
    const long verify = SSL_get_verify_result(c.ssl.get());
    describe_ssl_error(packed, verify, c.detail, sizeof c.detail);
    // SSL_ERROR_SYSCALL cannot come from our BIO (it never fails hard).
    o.err =
        o.code == SSL_ERROR_SSL ? classify_ssl_error(packed, verify) : Error(errc::protocol_error);
    ERR_clear_error();
  }
  o.out_pending = c.out.size() > out_before && !c.flushing;
  return o;
}

// Sends everything in `out`. The caller holds out_mu. ssl_mu is taken only
// to look at `out`: the send itself runs with no lock but the flushing
// mark, so a reader's OpenSSL call may append meanwhile.
Error flush_locked(Impl& c) {
  for (;;) {
    const char* p;
    std::size_t n;
    {
      std::lock_guard lock(c.ssl_mu);
      if (c.out.empty()) return {};
      p = c.out.data();
      n = c.out.size();
      c.flushing = true;
    }
    auto [sent, err] = c.net.write(std::span<const char>(p, n));
    {
      std::lock_guard lock(c.ssl_mu);
      c.out.consume(sent);
      c.flushing = false;
    }
    if (err) return err;
  }
}

// Reads ciphertext into `in` (OpenSSL asked for more, so `in` is empty).
// The caller holds in_mu. The buffer doubles (up to kInMax) after a read
// that filled it: a bulk stream gets large reads, a request-response
// connection keeps a small buffer.
Error fill_locked(Impl& c, bool* grow) {
  const std::size_t want = *grow ? std::max(c.in.capacity() * 2, Impl::kInMin) : 1;
  std::span<char> room = c.in.reserve(want, Impl::kInMin, Impl::kInMax);
  if (room.empty()) return std::make_error_code(std::errc::not_enough_memory);
  auto [n, err] = c.net.read(room);
  c.in.commit(n);
  *grow = n == room.size();
  return err;
}

Error handshake_locked(Impl& c) {
  bool grow = false;
  for (;;) {
    SslOutcome o = call_ssl(c, [](SSL* s) { return SSL_do_handshake(s); });
    switch (o.code) {
      case SSL_ERROR_NONE:
        return flush_locked(c);  // our last flight (and a TLS 1.3 server's ticket)
      case SSL_ERROR_WANT_READ:
        if (Error e = flush_locked(c)) return e;        // our flight first: the peer answers it
        if (Error e = fill_locked(c, &grow)) return e;  // eof: the peer hung up
        continue;
      case SSL_ERROR_WANT_WRITE:
        if (Error e = flush_locked(c)) return e;
        continue;
      default:
        (void)flush_locked(c);  // the alert that tells the peer why, if any
        return o.err;
    }
  }
}

Error run_handshake(Impl& c) {
  // acquire: pairs with the release store below (handshake_err).
  int state = c.hs_state.load(std::memory_order_acquire);
  if (state == 1) return {};
  if (state == 2) return c.handshake_err;
  std::lock_guard in_lock(c.in_mu);
  // Look again before taking out_mu: once the handshake is done a writer
  // holds out_mu for as long as its write parks, and a reader that waited
  // for it here while holding in_mu would keep the peer's bytes unread —
  // with both peers writing, neither write would ever end. While the state
  // is 0, nobody but a handshake (which holds in_mu too) takes out_mu.
  state = c.hs_state.load(std::memory_order_acquire);
  if (state == 1) return {};
  if (state == 2) return c.handshake_err;
  std::lock_guard out_lock(c.out_mu);
  Error err = handshake_locked(c);
  c.handshake_err = err;
  c.hs_state.store(err ? 2 : 1, std::memory_order_release);
  return err;
}

// Encrypts `buf` into `out`, sending whenever `out` is full; *done counts
// the plaintext bytes taken. The caller holds out_mu. With
// SSL_MODE_ENABLE_PARTIAL_WRITE each SSL_write_ex takes one record, so
// ssl_mu is held for at most one record's encryption.
Error write_locked(Impl& c, std::span<const char> buf, std::size_t* done) {
  std::size_t taken = 0;
  while (taken < buf.size()) {
    std::size_t n = 0;
    // After WANT_WRITE the same bytes are offered again, as OpenSSL requires.
    SslOutcome o = call_ssl(
        c, [&](SSL* s) { return SSL_write_ex(s, buf.data() + taken, buf.size() - taken, &n); });
    if (o.code == SSL_ERROR_NONE) {
      taken += n;
      continue;
    }
    if (o.code == SSL_ERROR_WANT_WRITE) {
      if (Error e = flush_locked(c)) {
        *done += taken;
        return e;
      }
      continue;
    }
    *done += taken;
    if (o.code == SSL_ERROR_WANT_READ) return errc::protocol_error;  // renegotiation is off
    (void)flush_locked(c);
    return o.err;
  }
  *done += taken;
  return {};
}

// Go's activeCall interlock: a write announces itself, so close() knows
// whether a close_notify would have to wait behind it.
class WriteCall {
 public:
  explicit WriteCall(Impl& c) : c_(c) {
    std::int32_t x = c.active_calls.load(std::memory_order_relaxed);
    do {
      if (x & 1) return;  // closed
    } while (!c.active_calls.compare_exchange_weak(x, x + 2, std::memory_order_acq_rel,
                                                   std::memory_order_relaxed));
    ok_ = true;
  }
  ~WriteCall() {
    if (ok_) c_.active_calls.fetch_sub(2, std::memory_order_acq_rel);
  }
  WriteCall(const WriteCall&) = delete;
  WriteCall& operator=(const WriteCall&) = delete;
  bool ok() const noexcept { return ok_; }

 private:
  Impl& c_;
  bool ok_ = false;
};

// What write and writev share (Go's Conn.Write): the close interlock, the
// handshake, out_mu and the sticky error around `encrypt`, which feeds
// write_locked and counts the bytes it took in *done; then the send of
// what is left in `out`.
template <class F>
Result<std::size_t> write_frame(Impl& c, F&& encrypt) {
  WriteCall call(c);
  if (!call.ok()) return {0, net::errc::closed};
  if (Error e = run_handshake(c)) return {0, e};
  std::lock_guard lock(c.out_mu);
  if (c.write_err) return {0, c.write_err};
  std::size_t done = 0;
  Error err = encrypt(&done);
  if (!err) err = flush_locked(c);
  if (err) c.write_err = err;
  return {done, err};
}

// Sends close_notify once. Go's closeNotify.
Error send_close_notify(Impl& c, bool bounded) {
  std::lock_guard lock(c.out_mu);
  if (c.close_notify_sent || c.write_err) return c.write_err;
  if (bounded)
    (void)c.net.set_write_deadline(
        net::Clock::now() +
        std::chrono::seconds(5));  // fails only when closed: the write reports it
  c.close_notify_sent = true;
  for (;;) {
    // SSL_shutdown: 0 = sent (the peer's has not arrived: we do not wait for
    // it), 1 = both sent; both are success here.
    SslOutcome o = call_ssl(c, [](SSL* s) { return SSL_shutdown(s) >= 0 ? 1 : -1; });
    if (o.code == SSL_ERROR_WANT_WRITE) {
      if (Error e = flush_locked(c)) return c.write_err = e;
      continue;
    }
    if (o.code != SSL_ERROR_NONE) return c.write_err = o.err;
    break;
  }
  if (Error e = flush_locked(c)) c.write_err = e;
  return c.write_err;
}

}  // namespace

Conn::Conn() noexcept = default;
Conn::Conn(std::unique_ptr<Impl> impl) noexcept : impl_(std::move(impl)) {}
Conn::Conn(Conn&&) noexcept = default;
Conn& Conn::operator=(Conn&&) noexcept = default;
Conn::~Conn() = default;

Error Conn::handshake() {
  if (!impl_) return invalid();
  return run_handshake(*impl_);
}

Result<std::size_t> Conn::read(std::span<char> buf) {
  if (!impl_) return {0, invalid()};
  Impl& c = *impl_;
  if (Error e = run_handshake(c)) return {0, e};
  std::lock_guard lock(c.in_mu);
  if (c.read_err) return {0, c.read_err};
  if (buf.empty()) return {0, {}};
  bool grow = false;
  for (;;) {
    std::size_t n = 0;
    SslOutcome o = call_ssl(c, [&](SSL* s) { return SSL_read_ex(s, buf.data(), buf.size(), &n); });
    if (o.out_pending || o.code == SSL_ERROR_WANT_WRITE) {
      // What reading made OpenSSL say (a KeyUpdate answer, an alert): sent
      // now, waiting behind a write in flight if there is one (as Go does).
      std::lock_guard wlock(c.out_mu);
      if (Error e = flush_locked(c); e && !c.write_err) c.write_err = e;
    }
    switch (o.code) {
      case SSL_ERROR_NONE:
        return {n, {}};
      case SSL_ERROR_ZERO_RETURN:  // close_notify
        c.read_err = net::errc::eof;
        return {0, c.read_err};
      case SSL_ERROR_WANT_READ:
        if (Error e = fill_locked(c, &grow)) {
          if (e == net::errc::eof) {
            c.read_err = errc::truncated;
            return {0, c.read_err};
          }
          return {0, e};  // a timeout is not sticky: the record waits in OpenSSL
        }
        continue;
      case SSL_ERROR_WANT_WRITE:
        continue;  // flushed above
      default:
        c.read_err = o.err;
        return {0, c.read_err};
    }
  }
}

Result<std::size_t> Conn::write(std::span<const char> buf) {
  if (!impl_) return {0, invalid()};
  Impl& c = *impl_;
  return write_frame(c, [&](std::size_t* done) { return write_locked(c, buf, done); });
}

Result<std::size_t> Conn::writev(std::span<const iovec> bufs) {
  if (!impl_) return {0, invalid()};
  Impl& c = *impl_;
  return write_frame(c, [&](std::size_t* done) {
    // Small buffers are gathered on the stack so they share a record (a
    // response head and a short body: one record, one send); a large one is
    // encrypted where it is.
    constexpr std::size_t kGather = 4096;
    char gather[kGather];
    std::size_t gathered = 0;
    for (const iovec& v : bufs) {
      const char* p = static_cast<const char*>(v.iov_base);
      std::size_t len = v.iov_len;
      while (len > 0) {
        if (gathered == 0 && len >= kGather) {
          if (Error e = write_locked(c, {p, len}, done)) return e;
          break;
        }
        const std::size_t k = std::min(len, kGather - gathered);
        std::memcpy(gather + gathered, p, k);
        gathered += k;
        p += k;
        len -= k;
        if (gathered == kGather) {
          if (Error e = write_locked(c, {gather, gathered}, done)) return e;
          gathered = 0;
        }
      }
    }
    return gathered > 0 ? write_locked(c, {gather, gathered}, done) : Error{};
  });
}

Error Conn::close() {
  if (!impl_) return invalid();
  Impl& c = *impl_;
  std::int32_t x = c.active_calls.load(std::memory_order_relaxed);
  do {
    if (x & 1) return net::errc::closed;
  } while (!c.active_calls.compare_exchange_weak(x, x | 1, std::memory_order_acq_rel,
                                                 std::memory_order_relaxed));
  // A write in flight: close() is being used to break it. Sending
  // close_notify would wait behind it.
  if (x != 0) return c.net.close();
  Error alert_err;
  if (c.hs_state.load(std::memory_order_acquire) == 1) alert_err = send_close_notify(c, true);
  Error err = c.net.close();
  return err ? err : alert_err;
}

Error Conn::close_write() {
  if (!impl_) return invalid();
  // Go's errEarlyCloseWrite: there is no TLS stream to end yet.
  if (impl_->hs_state.load(std::memory_order_acquire) != 1) {
    return std::make_error_code(std::errc::not_connected);
  }
  return send_close_notify(*impl_, false);
}

}  // namespace gofer::tls
