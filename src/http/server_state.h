// The state a Server shares with its connections' goroutines (which may
// outlive a call to serve(), hence shared ownership).
#pragma once

#include <atomic>
#include <mutex>

#include <unordered_set>
#include <vector>
#include "gofer/sync.h"

#include "gofer/http/server.h"
#include "http/conn.h"

namespace gofer::http::detail {

struct ServerState {
  // Copied from the Server when serve() starts.
  Handler handler;
  std::chrono::nanoseconds read_header_timeout{0}, read_timeout{0}, write_timeout{0},
      idle_timeout{0}, idle_park_after{0};
  std::size_t max_header_bytes = 1 << 20;
  std::chrono::nanoseconds shutdown_idle_wait{0};
  std::shared_ptr<AccessLog> access_log;
  // When shutdown() began plus shutdown_idle_wait (nanotime): until then an
  // idle connection may bring one more request. Written before
  // shutting_down is set (under mu) and read after seeing it.
  std::atomic<std::int64_t> idle_close_at{0};

  // Memory orders: shutting_down is stored under mu, and read under mu by
  // serve() (so a serve() that starts late sees it); everywhere else it is
  // a relaxed hint — shutdown() closes the connections itself and looks
  // again until they are gone, so a connection that sees it late serves one
  // more request, nothing worse. Counters are relaxed snapshots, except
  // `open` (release decrement, acquire load in shutdown(): see conn.cpp).
  std::atomic<bool> shutting_down{false};
  Context base_context;  // cancelled by shutdown/close: parent of request contexts
  CancelFunc cancel_base;
  bool cancel_base_set = false;  // guarded by mu

  // A goroutine mutex: shutdown closes connections while holding it, and
  // close() may park.
  gofer::Mutex mu;
  std::unordered_set<ServedConn*> conns;  // guarded by mu
  std::vector<net::Listener*> listeners;  // guarded by mu
  // The configurations of the TLS listeners being served, for
  // Server::reload_certificates. Guarded by mu.
  std::vector<std::shared_ptr<tls::ServerConfig>> tls_configs;
  std::atomic<std::size_t> open{0};
  std::atomic<std::size_t> parked{0};  // open connections parked idle (conn.cpp)

  // Statistics (relaxed counters; read by Server::stats()).
  std::atomic<std::uint64_t> requests_served{0};
  std::atomic<std::uint64_t> connections_accepted{0};
  std::atomic<std::uint64_t> bytes_read{0};
  std::atomic<std::uint64_t> bytes_written{0};
  static constexpr int kMethods = 8;  // see method_index()
  static constexpr int kCodes = 600;
  std::atomic<std::uint64_t> by_method_code[kMethods][kCodes] = {};
  static constexpr int kBuckets = 16;
  static constexpr double kBounds[kBuckets] = {1e-5, 2.5e-5, 5e-5, 1e-4, 2.5e-4, 5e-4,
                                               1e-3, 2.5e-3, 5e-3, 1e-2, 2.5e-2, 5e-2,
                                               0.1,  1,      10,   1e300};
  std::atomic<std::uint64_t> latency_buckets[kBuckets] = {};
  std::atomic<std::uint64_t> latency_sum_ns{0};

  void record(std::string_view method, int code, std::int64_t latency_ns, std::uint64_t in,
              std::uint64_t out);
};

int method_index(std::string_view method) noexcept;
extern const std::string_view kMethodNames[ServerState::kMethods];

}  // namespace gofer::http::detail
