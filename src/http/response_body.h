// ResponseBody::Impl: a response's body as the client reads it, holding
// the connection until the body's end. Private to the http layer.
//
// The bytes that came with the head wait in the connection's read buffer
// and are handed out first; then a Content-Length or close-delimited body
// is read from the socket straight into the caller's buffer (no copy), and
// a chunked one is decoded in the read buffer (its data handed out as
// offsets, so that the buffer may move between reads, as in the server's
// body.cpp).
//
// At the end (read_to_end): the connection goes back to the pool if the
// response allowed it, nothing was left over and the request's context
// did not close it; else it is closed. Before the end (close): it is
// closed — what remains is never read.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "gofer/context.h"
#include "gofer/http/client.h"
#include "gofer/http/parser.h"
#include "http/persist_conn.h"
#include "http/transport_state.h"

namespace gofer::http {

struct ResponseBody::Impl {
  std::shared_ptr<Transport::State> transport;
  std::unique_ptr<detail::PersistConn> conn;  // null once given back or closed
  ResponseFraming::Body kind = ResponseFraming::Body::none;
  std::uint64_t remaining = 0;  // content_length: bytes still to come
  bool keep_alive = false;      // the connection may carry another request after this body
  Context ctx;                  // the request's: its end is the reads' error
  // Client::timeout: its context's cancel (the timer goes with the body)
  // and the error its deadline means.
  CancelFunc timeout_cancel;
  bool timeout_is_clients = false;

  Result<std::size_t> read(std::span<char> buf);
  Error close();

  HeaderMap trailer;

 private:
  Result<std::size_t> read_chunked(std::span<char> buf);
  // More bytes into the read buffer (room made first); EOF is an error here.
  Error fill();
  // The body ended: the connection goes back to the pool or is closed.
  void read_to_end();
  // What an I/O error means: the context's error if it closed the
  // connection; an early EOF is unexpected_eof.
  Error fail(Error err);

  ChunkedDecoder chunked_;
  std::size_t data_off_ = 0;  // decoded chunk data not handed out yet, in conn->rbuf
  std::size_t data_len_ = 0;
  bool eof_ = false;
  bool closed_ = false;
  Error sticky_;  // once failed, reads keep failing the same way
};

}  // namespace gofer::http
