// Transport::State: what a Transport shares with the responses it returned
// (their bodies give connections back to its pool, maybe after the
// Transport itself is gone). Private to the http layer.
#pragma once

#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>

#include "gofer/http/client.h"
#include "gofer/tls.h"
#include "http/conn_pool.h"

namespace gofer::http {

struct Transport::State {
  // The Transport's fields as they were at its first request (Go: a
  // transport is not to be changed once used). Written once under
  // config_mu; `configured` (release store, acquire load) publishes them.
  std::mutex config_mu;
  std::atomic<bool> configured{false};
  std::chrono::nanoseconds dial_timeout{0}, tls_handshake_timeout{0}, response_header_timeout{0};
  std::size_t max_response_header_bytes = 0;
  bool disable_keep_alives = false;
  tls::Config tls_config;
  std::shared_ptr<detail::ConnPool> pool;

  // The TLS client configuration, loaded at the first https request.
  std::mutex tls_mu;
  bool tls_loaded = false;                              // guarded by tls_mu
  std::shared_ptr<const tls::ClientConfig> tls_client;  // guarded by tls_mu
  tls::LoadError tls_error;                             // guarded by tls_mu

  // TransportStats' counters (relaxed).
  std::atomic<std::uint64_t> dials{0}, reused{0}, retried{0}, closed_unread{0}, closed_broken{0};

  // Copies the fields of `t` on its first request.
  void configure_once(const Transport& t);
  // The connection is done (closed or never kept): its slot goes.
  void discard(std::unique_ptr<detail::PersistConn> conn);
};

}  // namespace gofer::http
