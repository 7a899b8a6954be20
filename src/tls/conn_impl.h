// Conn::Impl: one TLS connection's state. Private to the tls layer; the
// protocol that uses it is described at the top of conn.cpp.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>

#include "gofer/net.h"
#include "gofer/sync.h"
#include "gofer/tls.h"
#include "tls/cipher_buffer.h"
#include "tls/ossl.h"

namespace gofer::tls {

// Locks, in the order they are taken: in_mu, then out_mu, then ssl_mu.
//   in_mu   (gofer::Mutex, may be held across a park) — one reader at a
//           time; its holder owns `in` and read_err. The handshake holds it.
//   out_mu  (gofer::Mutex, may be held across a park) — one writer or
//           flusher at a time; its holder sends from `out` and owns
//           write_err and close_notify_sent. The handshake holds it.
//   ssl_mu  (std::mutex, NEVER held across a park) — every call into the
//           SSL object, and `out`'s bookkeeping, which OpenSSL's BIO
//           callbacks (any OpenSSL call, a reader's too) append to.
// Invariants:
//   While `flushing` is true the out_mu holder is sending out's first
//   bytes with no lock held: `out` may be appended to (its free tail) but
//   neither moved nor freed.
//   hs_state moves 0 → 1 or 0 → 2 once, under in_mu and out_mu; its
//   release store publishes handshake_err.
struct Conn::Impl {
  // Ciphertext buffers: `in` starts small and grows while a read fills it;
  // `out` grows to hold a record (16 KiB + overhead) and up to a few, so a
  // bulk write sends several records per syscall.
  static constexpr std::size_t kInMin = 4 << 10;
  static constexpr std::size_t kInMax = 32 << 10;
  static constexpr std::size_t kOutMin = 4 << 10;
  static constexpr std::size_t kOutMax = 64 << 10;

  net::Conn net;
  detail::SslPtr ssl;  // owns the BIO, whose data pointer is this Impl
  bool is_server = false;
  std::shared_ptr<const ServerConfig> server_config;  // keeps the SSL_CTX alive
  std::shared_ptr<const ClientConfig> client_config;
  // Client resumption: where its new sessions go, under which key.
  std::shared_ptr<ClientSessionCache> session_cache;
  std::string session_key;

  gofer::Mutex in_mu;
  gofer::Mutex out_mu;
  std::mutex ssl_mu;

  detail::CipherBuffer in;   // owned by the in_mu holder
  detail::CipherBuffer out;  // appended under ssl_mu; sent by the out_mu holder
  bool flushing = false;     // guarded by ssl_mu

  // 0: not yet; 1: done; 2: failed with handshake_err. Stores are release,
  // loads acquire (pairs: the handshake's result and everything before it).
  std::atomic<int> hs_state{0};
  Error handshake_err;             // written once, before hs_state leaves 0
  Error read_err;                  // guarded by in_mu: sticky (eof, truncated, TLS errors)
  Error write_err;                 // guarded by out_mu: sticky (a record may be half sent)
  bool close_notify_sent = false;  // guarded by out_mu
  // Go's activeCall: bit 0 = closed, the rest = 2 × writes in flight; a
  // close() that finds a write in flight skips close_notify (it would wait
  // behind that write) and just closes the socket, waking it.
  std::atomic<std::int32_t> active_calls{0};

  char detail[160] = {};  // guarded by ssl_mu: error_detail()
};

namespace detail {
// Attaches a BIO of ours to impl->ssl: OpenSSL reads ciphertext from
// impl->in and writes it to impl->out, and never touches the socket.
bool attach_bio(Conn::Impl* impl);
}  // namespace detail

}  // namespace gofer::tls
