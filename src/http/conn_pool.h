// ConnPool: a Transport's kept-alive connections (Go's Transport.idleConn,
// connsPerHost and idleLRU). Private to the http layer.
//
// Per key ("scheme|host:port"): the idle connections, most recently
// used last (a request takes the last: the one most likely still open on
// the server's side), and how many connections of the key exist — idle,
// in use or being dialed — for max_conns_per_host. Across keys: every idle
// connection in one list, oldest first, for max_idle_conns (the oldest
// goes) and for the idle timeout, which one timer enforces: armed while
// any connection is idle, for the oldest one's expiry (a connection found
// expired when taken is closed too).
//
// A request over max_conns_per_host waits on the key's `changed` channel,
// closed (and replaced) whenever a connection of the key comes back or
// goes away, and looks again; its context ending stops the wait.
//
// Connections are closed outside the mutex (a close may park; a
// std::mutex must not be held across a park, HACKING.md).
#pragma once

#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "gofer/chan.h"
#include "gofer/context.h"
#include "gofer/time.h"
#include "http/persist_conn.h"

namespace gofer::http::detail {

struct PoolLimits {
  int max_idle = 100;                                                // 0: no limit
  int max_idle_per_host = 2;                                         // <= 0: none kept
  int max_per_host = 0;                                              // 0: no limit
  std::chrono::nanoseconds idle_timeout = std::chrono::seconds(90);  // 0: none
  bool keep_alive = true;                                            // false: nothing is kept
};

class ConnPool : public std::enable_shared_from_this<ConnPool> {
 public:
  explicit ConnPool(PoolLimits limits) : limits_(limits) {}
  ~ConnPool();
  ConnPool(const ConnPool&) = delete;
  ConnPool& operator=(const ConnPool&) = delete;

  // An idle connection of `key`, or — conn null, err empty — leave to dial
  // one, counted from now as one of the key's (forget() it if the dial
  // fails). Waits while the key has max_per_host connections; the
  // context's error if it ends first.
  struct Lease {
    std::unique_ptr<PersistConn> conn;
    Error err;
  };
  Lease acquire(std::string_view key, const Context& ctx);
  // A connection whose response was read to its end, for the next request
  // of its key; closed instead if it cannot be kept (limits, the pool is
  // closed, bytes nobody asked for wait in it).
  void release(std::unique_ptr<PersistConn> conn);
  // A connection of `key` that is gone, or was never made: frees its slot.
  void forget(std::string_view key);
  // Closes the idle connections now.
  void close_idle();
  // The transport is done: idle connections are closed, released ones
  // from now on too.
  void close();

  std::size_t idle() const noexcept { return idle_count_.load(std::memory_order_relaxed); }
  std::size_t open() const noexcept { return open_count_.load(std::memory_order_relaxed); }

 private:
  struct Host {
    std::vector<PersistConn*> idle;  // owned; most recently used last
    int open = 0;                    // idle + in use + dialing
    Chan<Empty> changed;             // nil until someone waits
  };
  struct KeyHash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const noexcept {
      return std::hash<std::string_view>{}(s);
    }
  };
  using Hosts = std::unordered_map<std::string, Host, KeyHash, std::equal_to<>>;

  Host& host_locked(std::string_view key);
  // Wakes the key's waiters, if any (they look again).
  void changed_locked(Host& h);
  // One connection of `key` less (its host goes once it has none).
  void free_slot_locked(std::string_view key);
  // Takes c out of the idle lists (its host's and the global one).
  void unlink_idle_locked(Host& h, PersistConn* c);
  void lru_remove_locked(PersistConn* c);
  // The idle connections past their timeout, out of the lists.
  void take_expired_locked(net::Deadline now, std::vector<PersistConn*>& out);
  // Arms the timer for the oldest idle connection's expiry (none: nothing).
  void arm_sweeper_locked(net::Deadline now);
  void sweep();

  const PoolLimits limits_;
  mutable std::mutex mu_;
  Hosts hosts_;                             // guarded by mu_
  PersistConn* lru_head_ = nullptr;         // guarded by mu_: oldest idle
  PersistConn* lru_tail_ = nullptr;         // guarded by mu_: newest idle
  bool closed_ = false;                     // guarded by mu_
  std::optional<Timer> sweeper_;            // guarded by mu_
  bool sweeper_armed_ = false;              // guarded by mu_
  std::atomic<std::size_t> idle_count_{0};  // written under mu_; read as a snapshot
  std::atomic<std::size_t> open_count_{0};
};

}  // namespace gofer::http::detail
