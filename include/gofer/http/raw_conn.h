// gofer::http — a connection taken out of HTTP: a client's after the
// server answered 101 Switching Protocols (Go's Response.Body as an
// io.ReadWriteCloser).
//
//   auto conn = resp.take_conn();   // resp.status_code == 101
//   conn->write(...);               // the new protocol's bytes
//   ... conn->read(buf) ...
//
// From then on HTTP is done with the connection and the caller owns it —
// destroying the RawConn closes it. Bytes that HTTP had already read past
// the response's head are read first.
#pragma once

#include <cstddef>
#include <memory>
#include <span>
#include <string_view>

#include "gofer/error.h"
#include "gofer/net.h"

namespace gofer::http {

class RawConn {
 public:
  virtual ~RawConn() = default;

  // As net::Conn's: at least one byte, parking until some arrives;
  // {0, net::errc::eof} at the end of the stream.
  virtual Result<std::size_t> read(std::span<char> buf) = 0;
  // Writes everything, parking as often as needed.
  virtual Result<std::size_t> write(std::string_view data) = 0;
  // No more writes: the peer reads EOF; reads go on.
  virtual Error close_write() = 0;
  // Closes now; a goroutine parked in read or write wakes with
  // net::errc::closed. Any goroutine may call it.
  virtual Error close() = 0;
  virtual Error set_read_deadline(net::Deadline d) = 0;
  virtual Error set_write_deadline(net::Deadline d) = 0;
  virtual net::Addr remote_addr() const = 0;
};

}  // namespace gofer::http
