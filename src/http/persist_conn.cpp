// PersistConn (persist_conn.h): the connection, its transport switch to
// TLS, and the request context's hold on it.
#include "http/persist_conn.h"

#include <mutex>

#include "gofer/runtime.h"

namespace gofer::http::detail {

PersistConn::PersistConn(std::string k) : key(std::move(k)) {
  cancel_->conn = this;  // not shared with anyone yet
}

PersistConn::~PersistConn() {
  if (watch_armed_) (void)watching_.stop();  // no goroutine starts from now on
  if (ever_watched_) {
    // One may have started already: it must find nothing to close.
    std::lock_guard lock(cancel_->mu);
    cancel_->conn = nullptr;
  }
}

Error PersistConn::start_tls(std::shared_ptr<const tls::ClientConfig> config,
                             std::string_view server_name, std::chrono::nanoseconds timeout) {
  {
    // The context's close goes through io(): it must see one transport or
    // the other, never the socket half moved.
    std::lock_guard lock(cancel_->mu);
    if (cancel_->fired) return make_error_code(net::errc::closed);
    tls = tls::client(std::move(tcp), std::move(config), server_name);
    io_ = &tls_io_;
  }
  // The deadline bounds the handshake (a fresh conn: a setter fails only
  // when closed, which the handshake then reports).
  if (timeout.count() > 0) (void)tls.set_deadline(net::Clock::now() + timeout);
  Error err = tls.handshake();
  if (timeout.count() > 0 && !err) (void)tls.set_deadline(net::Deadline{});
  return err;
}

void PersistConn::watch(const Context& ctx) {
  if (!ctx.done()) return;  // background(): it never ends
  ever_watched_ = true;
  watch_armed_ = true;
  watching_ = after_func(ctx, [target = cancel_] {
    std::lock_guard lock(target->mu);
    if (target->conn == nullptr) return;
    target->fired = true;
    // Wakes whatever is parked on the connection; it is not reused.
    (void)target->conn->io().close();
  });
}

bool PersistConn::unwatch() {
  if (!watch_armed_) return !cancelled();
  watch_armed_ = false;
  // Stopped in time: its goroutine never runs. (A connection a context
  // closed before is never watched again: it is not reused.)
  if (watching_.stop()) return true;
  // The context ended: its goroutine closes the connection (or did).
  return false;
}

bool PersistConn::cancelled() {
  if (!ever_watched_) return false;
  std::lock_guard lock(cancel_->mu);
  return cancel_->fired;
}

}  // namespace gofer::http::detail
