// The state a Server shares with its connections' goroutines (which may
// outlive a call to serve(), hence shared ownership).
#pragma once

#include <atomic>
#include <mutex>

#include "gofer/sync.h"
#include <unordered_set>
#include <vector>

#include "gofer/http/server.h"
#include "http/conn.h"

namespace gofer::http::detail {

struct ServerState {
  // Copied from the Server when serve() starts.
  Handler handler;
  std::chrono::nanoseconds read_header_timeout{0}, read_timeout{0}, write_timeout{0}, idle_timeout{0};
  std::size_t max_header_bytes = 1 << 20;

  std::atomic<bool> shutting_down{false};
  Context base_context;  // cancelled by shutdown/close: parent of request contexts
  CancelFunc cancel_base;
  bool cancel_base_set = false;  // guarded by mu

  // A goroutine mutex: shutdown closes connections while holding it, and
  // close() may park.
  gofer::Mutex mu;
  std::unordered_set<ServedConn*> conns;    // guarded by mu
  std::vector<net::Listener*> listeners;    // guarded by mu
  std::atomic<std::size_t> open{0};

  // Statistics (relaxed counters).
  std::atomic<std::uint64_t> requests_served{0};
};

}  // namespace gofer::http::detail
