// TlsConnIO: the ConnIO (conn_io.h) of a TLS connection, so that the serve
// loop speaks HTTP/1.1 over TLS unchanged (Go's http.conn keeps a
// *tls.Conn as its net.Conn for the same reason). Private to the http
// layer.
#pragma once

#include "gofer/tls.h"
#include "http/conn_io.h"

namespace gofer::http::detail {

class TlsConnIO final : public ConnIO {
 public:
  explicit TlsConnIO(tls::Conn& conn) noexcept : conn_(conn) {}
  Result<std::size_t> read(std::span<char> buf) override { return conn_.read(buf); }
  Result<std::size_t> write(std::string_view data) override {
    return conn_.write(std::span<const char>(data.data(), data.size()));
  }
  Result<std::size_t> writev(std::span<const iovec> bufs) override { return conn_.writev(bufs); }
  // The bytes must be encrypted, so they are read into memory and written.
  // (Kernel TLS would let sendfile(2) carry them unread; this machine's
  // kernel offers no "tls" ULP, so it is not built: docs/design.md.)
  Result<std::size_t> send_file(int fd, std::int64_t offset, std::size_t count) override;
  Error close_write() override { return conn_.close_write(); }
  Error close() override { return conn_.close(); }
  Error set_read_deadline(net::Deadline d) override { return conn_.set_read_deadline(d); }
  Error set_write_deadline(net::Deadline d) override { return conn_.set_write_deadline(d); }
  void go_when_readable(gofer::detail::Task task) override {
    conn_.go_when_readable(std::move(task));
  }
  // An idle connection keeps no ciphertext or record buffers.
  void release_idle_buffers() override { (void)conn_.release_buffers(); }

 private:
  tls::Conn& conn_;
};

}  // namespace gofer::http::detail
