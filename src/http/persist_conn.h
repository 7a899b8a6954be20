// PersistConn: one client connection to a server,
// kept between requests (Go's persistConn). Private to the http layer.
//
// Who owns it, in turn: the goroutine that dials it; the pool (idle, in
// conn_pool.cpp); a round trip, from taking it out of the pool to its
// response's head; the response's body, until read to its end or closed
// (response_body.cpp), which gives it back to the pool or closes it. One
// owner at a time, through a unique_ptr; the only other party is the
// request's context (CancelTarget below), which may close it.
//
// Buffers: the read buffer (read_buffer.h, a pooled block that grows for a
// long head) holds a response's head and the body bytes that came with it;
// the head is copied into the Response, so between responses the buffer
// holds nothing (a connection with bytes left over after a response is
// not reused: they were not asked for). The write buffer holds the request
// head (and a small body) and is reused by every request.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>

#include "gofer/context.h"
#include "gofer/http/client.h"
#include "gofer/net.h"
#include "gofer/sync.h"
#include "gofer/tls.h"
#include "http/conn_io.h"
#include "http/read_buffer.h"
#include "http/tls_conn_io.h"

namespace gofer::http::detail {

struct PersistConn;

// The request's context's hold on the connection: once the context ends,
// an after_func goroutine closes the connection, which wakes a read or
// write parked on it. A goroutine mutex, since that close may park; the
// owner takes it only to switch the transport (plain TCP to TLS) and to
// let go of the connection.
struct CancelTarget {
  gofer::Mutex mu;
  PersistConn* conn = nullptr;  // guarded by mu; null once the owner let go
  bool fired = false;           // guarded by mu: the context closed the connection
};

struct PersistConn {
  explicit PersistConn(std::string key);
  ~PersistConn();
  PersistConn(const PersistConn&) = delete;
  PersistConn& operator=(const PersistConn&) = delete;

  // Where the bytes go: tcp through net_io, or tls (which then owns the
  // socket) through tls_io. Switched by start_tls.
  ConnIO& io() noexcept { return *io_; }
  // Wraps the connection in TLS as a client of `server_name` and runs the
  // handshake within `timeout` (0: none).
  Error start_tls(std::shared_ptr<const tls::ClientConfig> config, std::string_view server_name,
                  std::chrono::nanoseconds timeout);
  bool is_tls() const noexcept { return io_ == &tls_io_; }
  // What OpenSSL said about a failed handshake ("" if nothing).
  std::string tls_detail() const { return tls.error_detail(); }

  // Watches `ctx` for the exchange about to start (nothing to do for a
  // context that cannot end).
  void watch(const Context& ctx);
  // Stops watching. False if the context ended and closed the connection
  // (then it must not be reused): the owner's errors are the context's.
  [[nodiscard]] bool unwatch();
  // Whether the context closed the connection (the errors seen since are
  // its doing).
  bool cancelled();

  const std::string key;  // the pool's: "scheme|host:port"
  std::string addr;       // "host:port" dialed, for messages
  net::Conn tcp;          // the socket, until tls takes it
  tls::Conn tls;
  int fd = -1;  // for the trace

  ReadBuffer rbuf;
  std::string wbuf;
  std::uint64_t uses = 0;  // requests sent on it
  // In the pool: since when it is idle, and its links in the pool's list
  // of all idle connections, oldest first (guarded by the pool's mutex).
  net::Deadline idle_since{};
  PersistConn* idle_prev = nullptr;
  PersistConn* idle_next = nullptr;

 private:
  NetConnIO net_io_{tcp};
  TlsConnIO tls_io_{tls};
  ConnIO* io_ = &net_io_;  // switched under cancel_->mu (start_tls)
  std::shared_ptr<CancelTarget> cancel_ = std::make_shared<CancelTarget>();
  AfterFuncStop watching_;
  bool watch_armed_ = false;   // watching_ registered and not stopped yet
  bool ever_watched_ = false;  // some context watched it: cancel_ may be fired
};

}  // namespace gofer::http::detail
