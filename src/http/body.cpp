// ConnBody: the request body as the handler reads it (Go's http.body).
//
// Bytes that arrived with the head sit in the read buffer after it; they are
// handed out first, then a Content-Length body is read from the socket
// straight into the handler's buffer (no copy). A chunked body is decoded
// in the read buffer; its data comes out as views, copied into the
// handler's buffer as it asks.
#include <algorithm>
#include <cstring>

#include "http/conn.h"

namespace gofer::http::detail {

void ConnBody::start(const Framing& framing) {
  kind_ = framing.body;
  remaining_ = framing.body == Framing::Body::content_length ? framing.content_length : 0;
  finished_ = framing.body == Framing::Body::none;
  continue_pending_ = framing.expect_continue && !finished_;
  chunked_.reset();
  data_off_ = data_len_ = 0;
  sticky_ = {};
  bytes_ = 0;
}

Error ConnBody::fill() {
  ServedConn& c = *conn_;
  ReadBuffer& rb = c.rbuf;
  if (rb.full()) {
    rb.compact_after_head();
    if (rb.full()) {
      if (Error err = c.grow_read_buffer()) return err;
    }
  }
  auto [n, err] = c.io().read(rb.free_space());
  rb.commit(n);
  if (err == net::errc::eof)
    return make_error_code(std::errc::connection_aborted);  // unexpected EOF
  return err;
}

Result<std::size_t> ConnBody::read(std::span<char> buf) {
  if (sticky_) return {0, sticky_};
  if (finished_) return {0, make_error_code(net::errc::eof)};
  if (buf.empty()) return {0, {}};
  ServedConn& c = *conn_;
  if (continue_pending_) {
    continue_pending_ = false;
    if (!c.response.wrote_header()) {
      auto [n, err] = c.io().write("HTTP/1.1 100 Continue\r\n\r\n");
      if (err) return {0, sticky_ = err};
    }
  }
  if (kind_ == Framing::Body::chunked) return read_chunked(buf);

  std::size_t want = static_cast<std::size_t>(std::min<std::uint64_t>(remaining_, buf.size()));
  std::size_t n;
  if (c.rbuf.buffered() > 0) {
    n = std::min(want, c.rbuf.buffered());
    std::memcpy(buf.data(), c.rbuf.unconsumed().data(), n);
    c.rbuf.consume(n);
  } else {
    auto [got, err] = c.io().read(buf.first(want));
    if (err) {
      sticky_ = err == net::errc::eof ? make_error_code(std::errc::connection_aborted) : err;
      return {0, sticky_};
    }
    n = got;
  }
  remaining_ -= n;
  bytes_ += n;
  if (remaining_ == 0) {
    finished_ = true;
    c.body_finished();
  }
  return {n, {}};
}

// Chunk data is kept as an offset into the read buffer, not a view, so
// that fill() may move or grow the buffer; it is handed out before the
// decoder runs again (read_buffer.h).
Result<std::size_t> ConnBody::read_chunked(std::span<char> buf) {
  ServedConn& c = *conn_;
  ReadBuffer& rb = c.rbuf;
  for (;;) {
    if (data_len_ > 0) {
      std::size_t n = std::min(data_len_, buf.size());
      std::memcpy(buf.data(), rb.data() + data_off_, n);
      data_off_ += n;
      data_len_ -= n;
      bytes_ += n;
      return {n, {}};
    }
    ChunkedResult res = chunked_.decode(rb.unconsumed(), rb.trailer_slots());
    switch (res.status) {
      case ChunkedStatus::data:
        data_off_ = static_cast<std::size_t>(res.data.data() - rb.data());
        data_len_ = res.data.size();
        rb.consume(res.consumed);
        continue;
      case ChunkedStatus::done:
        rb.consume(res.consumed);
        c.request.trailers = res.trailers;
        finished_ = true;
        c.body_finished();
        return {0, make_error_code(net::errc::eof)};
      case ChunkedStatus::error:
        c.response.set_close_after();
        return {0, sticky_ = make_error_code(std::errc::bad_message)};
      case ChunkedStatus::incomplete:
        rb.consume(res.consumed);
        if (Error err = fill()) return {0, sticky_ = err};
        continue;
    }
  }
}

bool ConnBody::drain(std::size_t limit) {
  if (continue_pending_) return false;  // the client may never send it
  char scratch[16384];
  std::size_t total = 0;
  while (!finished_) {
    if (total > limit) return false;
    auto [n, err] = read(scratch);
    if (err) return finished_ && err == net::errc::eof;
    total += n;
  }
  return !sticky_;
}

}  // namespace gofer::http::detail
