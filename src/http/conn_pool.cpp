// ConnPool (conn_pool.h).
#include "http/conn_pool.h"

#include <algorithm>

namespace gofer::http::detail {
namespace {

void close_all(std::vector<PersistConn*>& conns) {
  for (PersistConn* c : conns) delete c;  // closes its socket
  conns.clear();
}

}  // namespace

ConnPool::~ConnPool() {
  close();
}

ConnPool::Host& ConnPool::host_locked(std::string_view key) {
  auto it = hosts_.find(key);
  if (it == hosts_.end()) it = hosts_.emplace(std::string(key), Host{}).first;
  return it->second;
}

void ConnPool::changed_locked(Host& h) {
  if (!h.changed) return;
  h.changed.close();
  h.changed = Chan<Empty>();
}

void ConnPool::free_slot_locked(std::string_view key) {
  auto it = hosts_.find(key);
  Host& h = it->second;
  --h.open;
  open_count_.fetch_sub(1, std::memory_order_relaxed);
  changed_locked(h);
  if (h.open == 0) hosts_.erase(it);  // a host no longer used costs nothing
}

void ConnPool::lru_remove_locked(PersistConn* c) {
  (c->idle_prev ? c->idle_prev->idle_next : lru_head_) = c->idle_next;
  (c->idle_next ? c->idle_next->idle_prev : lru_tail_) = c->idle_prev;
  c->idle_prev = c->idle_next = nullptr;
  idle_count_.fetch_sub(1, std::memory_order_relaxed);
}

void ConnPool::unlink_idle_locked(Host& h, PersistConn* c) {
  auto it = std::find(h.idle.begin(), h.idle.end(), c);
  if (it != h.idle.end()) h.idle.erase(it);
  lru_remove_locked(c);
}

ConnPool::Lease ConnPool::acquire(std::string_view key, const Context& ctx) {
  std::vector<PersistConn*> expired;
  Lease lease;
  for (;;) {
    Chan<Empty> wait;
    {
      std::lock_guard lock(mu_);
      Host& h = host_locked(key);
      const net::Deadline now =
          limits_.idle_timeout.count() > 0 ? net::Clock::now() : net::Deadline{};
      while (!h.idle.empty()) {
        PersistConn* c = h.idle.back();
        h.idle.pop_back();
        lru_remove_locked(c);
        if (limits_.idle_timeout.count() > 0 && c->idle_since + limits_.idle_timeout <= now) {
          // The newest is expired, so are all the others of the key.
          expired.push_back(c);
          continue;
        }
        lease.conn.reset(c);
        break;
      }
      // The expired ones' slots are free: this request may dial.
      h.open -= static_cast<int>(expired.size());
      open_count_.fetch_sub(expired.size(), std::memory_order_relaxed);
      if (!expired.empty()) changed_locked(h);
      if (lease.conn) break;
      if (limits_.max_per_host <= 0 || h.open < limits_.max_per_host) {
        ++h.open;
        open_count_.fetch_add(1, std::memory_order_relaxed);
        break;  // dial
      }
      if (!h.changed) h.changed = make_chan<Empty>(0);
      wait = h.changed;
    }
    close_all(expired);
    bool done = false;
    select(recv_case(wait), recv_case(ctx.done(), [&] { done = true; }));
    if (done) {
      lease.err = ctx.err();
      return lease;
    }
  }
  close_all(expired);
  return lease;
}

void ConnPool::release(std::unique_ptr<PersistConn> conn) {
  std::vector<PersistConn*> drop;
  {
    std::lock_guard lock(mu_);
    Host& h = host_locked(conn->key);
    const bool keep = !closed_ && limits_.keep_alive && limits_.max_idle_per_host > 0 &&
                      static_cast<int>(h.idle.size()) < limits_.max_idle_per_host &&
                      conn->rbuf.buffered() == 0;
    if (!keep) {
      drop.push_back(conn.release());
      free_slot_locked(drop.back()->key);
    } else {
      PersistConn* c = conn.release();
      c->rbuf.release();  // empty: an idle connection holds no read buffer
      const net::Deadline now = net::Clock::now();
      c->idle_since = now;
      h.idle.push_back(c);
      c->idle_prev = lru_tail_;
      c->idle_next = nullptr;
      (lru_tail_ ? lru_tail_->idle_next : lru_head_) = c;
      lru_tail_ = c;
      idle_count_.fetch_add(1, std::memory_order_relaxed);
      changed_locked(h);  // a waiter of the key can take it
      if (limits_.max_idle > 0 && idle_count_.load(std::memory_order_relaxed) >
                                      static_cast<std::size_t>(limits_.max_idle)) {
        // Go's idleLRU: the oldest idle connection, whatever its key, goes.
        PersistConn* oldest = lru_head_;
        unlink_idle_locked(host_locked(oldest->key), oldest);
        drop.push_back(oldest);
        free_slot_locked(oldest->key);  // may erase h: not used below
      }
      arm_sweeper_locked(now);
    }
  }
  close_all(drop);
}

void ConnPool::forget(std::string_view key) {
  std::lock_guard lock(mu_);
  free_slot_locked(key);
}

void ConnPool::take_expired_locked(net::Deadline now, std::vector<PersistConn*>& out) {
  while (lru_head_ != nullptr && lru_head_->idle_since + limits_.idle_timeout <= now) {
    PersistConn* c = lru_head_;
    unlink_idle_locked(host_locked(c->key), c);
    free_slot_locked(c->key);
    out.push_back(c);
  }
}

void ConnPool::arm_sweeper_locked(net::Deadline now) {
  if (limits_.idle_timeout.count() <= 0 || closed_ || sweeper_armed_ || lru_head_ == nullptr)
    return;
  const Duration wait = std::max(Duration(0), lru_head_->idle_since + limits_.idle_timeout - now);
  sweeper_armed_ = true;
  if (sweeper_) {
    (void)sweeper_->reset(wait);  // it fired before (or never will again): armed anew
    return;
  }
  // The timer runs sweep() on a goroutine of its own; the pool may be gone
  // by then (a transport destroyed), hence the weak reference.
  sweeper_.emplace(after_func(wait, [weak = weak_from_this()] {
    if (auto pool = weak.lock()) pool->sweep();
  }));
}

void ConnPool::sweep() {
  std::vector<PersistConn*> expired;
  {
    std::lock_guard lock(mu_);
    sweeper_armed_ = false;
    const net::Deadline now = net::Clock::now();
    take_expired_locked(now, expired);
    arm_sweeper_locked(now);
  }
  close_all(expired);
}

void ConnPool::close_idle() {
  std::vector<PersistConn*> idle;
  {
    std::lock_guard lock(mu_);
    while (PersistConn* c = lru_head_) {
      unlink_idle_locked(host_locked(c->key), c);
      free_slot_locked(c->key);
      idle.push_back(c);
    }
  }
  close_all(idle);
}

void ConnPool::close() {
  {
    std::lock_guard lock(mu_);
    closed_ = true;
    if (sweeper_) (void)sweeper_->stop();
    sweeper_armed_ = false;
  }
  close_idle();
}

}  // namespace gofer::http::detail
