// ResponseBody (client.h, response_body.h) and Response::take_conn.
#include "http/response_body.h"

#include <algorithm>
#include <cstring>

namespace gofer::http {

namespace {

const HeaderMap& empty_header_map() {
  static const HeaderMap empty;
  return empty;
}

// The connection after 101 Switching Protocols: its own now, with the
// bytes the server sent after the 101 head first.
class UpgradedConn final : public RawConn {
 public:
  UpgradedConn(std::shared_ptr<Transport::State> transport,
               std::unique_ptr<detail::PersistConn> conn)
      : transport_(std::move(transport)), conn_(std::move(conn)) {}
  ~UpgradedConn() override { transport_->discard(std::move(conn_)); }

  Result<std::size_t> read(std::span<char> buf) override {
    if (std::size_t n = conn_->rbuf.take(buf); n > 0) return {n, {}};
    return conn_->io().read(buf);
  }
  Result<std::size_t> write(std::string_view data) override { return conn_->io().write(data); }
  Error close_write() override { return conn_->io().close_write(); }
  Error close() override { return conn_->io().close(); }
  Error set_read_deadline(net::Deadline d) override { return conn_->io().set_read_deadline(d); }
  Error set_write_deadline(net::Deadline d) override { return conn_->io().set_write_deadline(d); }
  net::Addr remote_addr() const override {
    return conn_->is_tls() ? conn_->tls.remote_addr() : conn_->tcp.remote_addr();
  }

 private:
  std::shared_ptr<Transport::State> transport_;
  std::unique_ptr<detail::PersistConn> conn_;
};

}  // namespace

ResponseBody::ResponseBody() noexcept = default;
ResponseBody::ResponseBody(std::unique_ptr<Impl> impl) noexcept : impl_(std::move(impl)) {}
ResponseBody::ResponseBody(ResponseBody&&) noexcept = default;
ResponseBody& ResponseBody::operator=(ResponseBody&& other) noexcept {
  if (this != &other) {
    (void)close();  // the body this one held ends, as if destroyed
    impl_ = std::move(other.impl_);
  }
  return *this;
}
ResponseBody::~ResponseBody() {
  (void)close();  // an unread body's connection is closed; nothing to report
}

Result<std::size_t> ResponseBody::read(std::span<char> buf) {
  if (!impl_) return {0, make_error_code(net::errc::eof)};
  return impl_->read(buf);
}

Error ResponseBody::close() {
  return impl_ ? impl_->close() : Error{};
}

const HeaderMap& ResponseBody::trailer() const noexcept {
  return impl_ ? impl_->trailer : empty_header_map();
}

std::unique_ptr<RawConn> Response::take_conn() {
  ResponseBody::Impl* impl = body.impl();
  if (impl == nullptr || impl->kind != ResponseFraming::Body::tunnel || !impl->conn) return nullptr;
  // From here the connection is the caller's: the request's context no
  // longer closes it (a context that already did leaves a closed one).
  (void)impl->conn->unwatch();
  return std::make_unique<UpgradedConn>(impl->transport, std::move(impl->conn));
}

Error ResponseBody::Impl::fail(Error err) {
  if (conn && conn->cancelled()) {
    err = timeout_is_clients && ctx.err() == context_errc::deadline_exceeded
              ? make_error_code(client_errc::client_timeout)
              : Error(ctx.err());
  } else if (err == net::errc::eof) {
    err = make_error_code(client_errc::unexpected_eof);
  } else if (err == std::errc::bad_message) {
    err = make_error_code(client_errc::malformed_response);
  }
  sticky_ = err;
  if (conn) {
    transport->closed_broken.fetch_add(1, std::memory_order_relaxed);
    (void)conn->unwatch();
    transport->discard(std::move(conn));
  }
  timeout_cancel();
  return err;
}

void ResponseBody::Impl::read_to_end() {
  eof_ = true;
  if (conn) {
    // A connection the context closed is not kept, nor one whose response
    // said it closes.
    if (conn->unwatch() && keep_alive) {
      transport->pool->release(std::move(conn));
    } else {
      transport->discard(std::move(conn));
    }
  }
  timeout_cancel();  // the exchange is over: Client::timeout's timer goes
}

Error ResponseBody::Impl::close() {
  if (closed_) return {};
  closed_ = true;
  if (conn) {
    // Not read to its end: what remains would be the next response's
    // start. The connection goes (Go closes it too, rather than drain).
    if (!eof_ && kind != ResponseFraming::Body::tunnel) {
      transport->closed_unread.fetch_add(1, std::memory_order_relaxed);
    }
    (void)conn->unwatch();
    transport->discard(std::move(conn));
  }
  timeout_cancel();
  return {};
}

Error ResponseBody::Impl::fill() {
  detail::ReadBuffer& rb = conn->rbuf;
  if (rb.full()) {
    rb.start_next();  // no head here: drops what the decoder consumed
    if (rb.full()) {
      if (Error err = rb.grow().err) return err;  // chunk framing beyond the buffer's limit
    }
  }
  auto [n, err] = conn->io().read(rb.free_space());
  rb.commit(n);
  return err;
}

Result<std::size_t> ResponseBody::Impl::read(std::span<char> buf) {
  if (closed_) return {0, make_error_code(client_errc::body_closed)};
  if (sticky_) return {0, sticky_};
  if (eof_) return {0, make_error_code(net::errc::eof)};
  if (buf.empty()) return {0, {}};
  if (kind == ResponseFraming::Body::chunked) return read_chunked(buf);
  if (kind == ResponseFraming::Body::tunnel) {
    // A 101's connection is read through take_conn().
    return {0, make_error_code(std::errc::operation_not_permitted)};
  }

  const bool until_close = kind == ResponseFraming::Body::until_close;
  std::size_t want = until_close
                         ? buf.size()
                         : static_cast<std::size_t>(std::min<std::uint64_t>(remaining, buf.size()));
  detail::ReadBuffer& rb = conn->rbuf;
  std::size_t n;
  if (rb.buffered() > 0) {
    n = std::min(want, rb.buffered());
    std::memcpy(buf.data(), rb.unconsumed().data(), n);
    rb.consume(n);
  } else {
    auto [got, err] = conn->io().read(buf.first(want));
    if (err == net::errc::eof && until_close && !conn->cancelled()) {
      read_to_end();  // the server closed: that was the body's end
      return {0, make_error_code(net::errc::eof)};
    }
    if (err) return {0, fail(err)};
    n = got;
  }
  if (!until_close) {
    remaining -= n;
    if (remaining == 0) read_to_end();
  }
  return {n, {}};
}

Result<std::size_t> ResponseBody::Impl::read_chunked(std::span<char> buf) {
  detail::ReadBuffer& rb = conn->rbuf;
  for (;;) {
    if (data_len_ > 0) {
      std::size_t n = std::min(data_len_, buf.size());
      std::memcpy(buf.data(), rb.data() + data_off_, n);
      data_off_ += n;
      data_len_ -= n;
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
        for (const Header& h : res.trailers) trailer.add(h.name, h.value);
        rb.consume(res.consumed);
        read_to_end();
        return {0, make_error_code(net::errc::eof)};
      case ChunkedStatus::error:
        return {0, fail(make_error_code(std::errc::bad_message))};
      case ChunkedStatus::incomplete:
        rb.consume(res.consumed);
        if (Error err = fill()) return {0, fail(err)};
        continue;
    }
  }
}

}  // namespace gofer::http
