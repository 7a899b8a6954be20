// ConnIO: the byte stream a served connection speaks HTTP/1.1 over (Go's
// http.conn keeps a net.Conn, `rwc`, for the same reason). Private to the
// http layer.
//
// The serve loop (conn.cpp), the request body (body.cpp) and the response
// (response.cpp) do every socket operation through it, so that another
// transport — TLS over the same socket, or a stream of an HTTP/2 connection —
// can be served by the same loop: it implements this interface and the loop
// does not change. NetConnIO (below) is the plain connection; TlsConnIO
// (tls_conn_io.h) the TLS one.
//
// Cost: one indirect call per operation, a few ns next to the syscall it
// makes (a keep-alive request makes a read and a writev; the deadline
// setters are stores). Rejected: a template parameter on ServedConn (every
// file of the server would become a header) and a std::variant of transports
// (each new transport would edit every call site's visitor).
#pragma once

#include <sys/uio.h>

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

#include "gofer/detail/task.h"
#include "gofer/error.h"
#include "gofer/net.h"

namespace gofer::http::detail {

class ConnIO {
 public:
  // Reads what is available (at least 1 byte), parking until some is;
  // {0, net::errc::eof} at the end of the stream.
  [[nodiscard]] virtual Result<std::size_t> read(std::span<char> buf) = 0;
  // Writes everything, parking as often as needed; on error, the bytes
  // written before it.
  [[nodiscard]] virtual Result<std::size_t> write(std::string_view data) = 0;
  [[nodiscard]] virtual Result<std::size_t> writev(std::span<const iovec> bufs) = 0;
  // `count` bytes of an open file from `offset`; fewer if the file ends
  // first (net::Conn::send_file). A transport that must transform the
  // bytes (TLS) reads and writes them instead.
  [[nodiscard]] virtual Result<std::size_t> send_file(int fd, std::int64_t offset,
                                                      std::size_t count) = 0;
  // No more writes: the peer reads EOF after what was written.
  virtual Error close_write() = 0;
  // Closes now; a goroutine parked in read or write wakes with errc::closed.
  // Any goroutine may call it, at any time (Server::shutdown does).
  virtual Error close() = 0;
  // Absolute deadlines, as net::Conn's; Deadline{} clears one.
  virtual Error set_read_deadline(net::Deadline d) = 0;
  virtual Error set_write_deadline(net::Deadline d) = 0;
  // Runs `task` in a new goroutine once a read would not block, the read
  // deadline passes or the connection is closed (net::Conn::go_when_readable).
  // A transport that buffers bytes of its own runs it at once when it has
  // some.
  virtual void go_when_readable(gofer::detail::Task task) = 0;
  // The connection goes idle with nothing buffered: a transport with
  // buffers of its own (TLS) frees them until the next read or write.
  virtual void release_idle_buffers() {}

 protected:
  ~ConnIO() = default;
};

// The plain TCP (or Unix) connection.
class NetConnIO final : public ConnIO {
 public:
  explicit NetConnIO(net::Conn& conn) noexcept : conn_(conn) {}
  Result<std::size_t> read(std::span<char> buf) override { return conn_.read(buf); }
  Result<std::size_t> write(std::string_view data) override { return conn_.write(data); }
  Result<std::size_t> writev(std::span<const iovec> bufs) override { return conn_.writev(bufs); }
  Result<std::size_t> send_file(int fd, std::int64_t offset, std::size_t count) override {
    return conn_.send_file(fd, offset, count);
  }
  Error close_write() override { return conn_.close_write(); }
  Error close() override { return conn_.close(); }
  Error set_read_deadline(net::Deadline d) override { return conn_.set_read_deadline(d); }
  Error set_write_deadline(net::Deadline d) override { return conn_.set_write_deadline(d); }
  void go_when_readable(gofer::detail::Task task) override;

 private:
  net::Conn& conn_;
};

}  // namespace gofer::http::detail
