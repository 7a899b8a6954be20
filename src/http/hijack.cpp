// Hijack: a served connection taken out of HTTP (Go's Hijacker), as a
// reverse proxy does to tunnel a 101 Switching Protocols, or a handler
// that speaks another protocol after its request.
//
// After the hijack the connection has two owners: the goroutine that runs
// the handler (it still returns from it, and then only lets go: conn.cpp,
// End::hijacked) and the RawConn handed to the handler. The last of the
// two to let go deletes the ServedConn.

#include "http/conn.h"
#include "http/server_state.h"

namespace gofer::http::detail {
namespace {

class HijackedConn final : public RawConn {
 public:
  explicit HijackedConn(ServedConn* c) noexcept : c_(c) {}
  HijackedConn(const HijackedConn&) = delete;
  HijackedConn& operator=(const HijackedConn&) = delete;
  ~HijackedConn() override {
    (void)c_->io().close();  // closed already (by close()): nothing to report
    if (c_->release_owner()) delete c_;
  }

  // What the server read past the request comes first (Go hands it over in
  // the hijack's bufio.Reader).
  Result<std::size_t> read(std::span<char> buf) override {
    if (std::size_t n = c_->rbuf.take(buf); n > 0) return {n, {}};
    return c_->io().read(buf);
  }
  Result<std::size_t> write(std::string_view data) override { return c_->io().write(data); }
  Error close_write() override { return c_->io().close_write(); }
  Error close() override { return c_->io().close(); }
  Error set_read_deadline(net::Deadline d) override { return c_->io().set_read_deadline(d); }
  Error set_write_deadline(net::Deadline d) override { return c_->io().set_write_deadline(d); }
  net::Addr remote_addr() const override {
    return c_->tls_conn ? c_->tls_conn.remote_addr() : c_->conn.remote_addr();
  }

 private:
  ServedConn* c_;
};

}  // namespace

Result<std::unique_ptr<RawConn>> ConnResponse::hijack() {
  if (conn_->hijacked) return {nullptr, make_error_code(errc::hijacked)};
  // A head the handler wrote leaves first, with what it buffered (Go
  // flushes a written header before it hands the connection over).
  if (status_ != 0) {
    if (Error err = flush()) return {nullptr, err};
  }
  conn_->detach_for_hijack();
  return {std::make_unique<HijackedConn>(conn_), {}};
}

void ServedConn::detach_for_hijack() {
  stop_watch();  // what it read stays in rbuf, for the RawConn's first reads
  hijacked = true;
  owners_.store(2, std::memory_order_relaxed);  // before the RawConn exists
  // The new owner starts with no deadline (as Go's hijack clears them).
  (void)io().set_read_deadline(net::Deadline{});
  (void)io().set_write_deadline(net::Deadline{});
  auto srv = server;
  {
    std::lock_guard lock(srv->mu);
    srv->conns.erase(this);
  }
  // Release: as a closing connection's (conn.cpp); shutdown no longer
  // waits for this one.
  srv->open.fetch_sub(1, std::memory_order_release);
}

}  // namespace gofer::http::detail
