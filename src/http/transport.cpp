// Transport::round_trip: one request, one response (Go's
// Transport.roundTrip and persistConn.roundTrip, without their per
// connection goroutines).
//
// A round trip, on the calling goroutine:
//   1. a connection of the request's key from the pool, or a new one
//      (dial within dial_timeout, then the TLS handshake for https);
//   2. the request's context watches it (persist_conn.h): if the context
//      ends, the connection is closed and whatever is parked on it wakes;
//   3. the head is written, then the body (Content-Length, or chunked with
//      its trailers when the length is unknown);
//   4. the response head is read and parsed with the same rules as a
//      request's (parser.h), 1xx responses skipped (at most 5), within
//      response_header_timeout;
//   5. the Response is returned with a body that holds the connection
//      (response_body.h) — or, for a body-less response, the connection
//      goes back to the pool at once.
// A pooled connection the server closed meanwhile fails before any
// response byte; the request is then sent once more on a new connection
// if that is safe (Go's rule: nothing was written, or the request is
// idempotent and its body can be sent again).
#include <algorithm>
#include <cstring>
#include <string>

#include "gofer/http/client.h"
#include "http/persist_conn.h"
#include "http/response_body.h"
#include "http/syntax.h"
#include "http/transport_state.h"

namespace gofer::http {
namespace {

constexpr int kMaxInterim = 5;  // Go: 1xx responses in a row before giving up
constexpr std::string_view kUserAgent = "gofer-http-client/1.1";

bool is_token_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
         std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

bool is_token(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), is_token_char);
}

// A field value must not carry CR, LF or NUL (request splitting).
bool valid_field_value(std::string_view v) {
  return v.find_first_of(std::string_view("\r\n\0", 3)) == std::string_view::npos;
}

// Fields the transport writes itself.
bool transport_owned(std::string_view name) {
  return equal_fold(name, "Host") || equal_fold(name, "Content-Length") ||
         equal_fold(name, "Transfer-Encoding") || equal_fold(name, "Trailer");
}

bool idempotent(std::string_view method) {
  return method == "GET" || method == "HEAD" || method == "OPTIONS" || method == "TRACE";
}

std::string default_port(std::string_view scheme) {
  return scheme == "https" ? "443" : "80";
}

// "host:port" for the dial, with brackets around an IPv6 address.
std::string dial_address(const url::URL& u) {
  std::string host(u.hostname());
  std::string port(u.port());
  if (port.empty()) port = default_port(u.scheme);
  if (host.find(':') != std::string::npos) host = "[" + host + "]";
  return host + ":" + port;
}

void append_hex(std::string& out, std::size_t n) {
  char buf[20];
  int len = 0;
  do {
    buf[len++] = "0123456789abcdef"[n & 15];
    n >>= 4;
  } while (n != 0);
  while (len > 0) out.push_back(buf[--len]);
}

// What became of one attempt; `retryable` when a pooled connection failed
// before the server sent a byte of response.
struct Attempt {
  ClientResult<Response> result;
  bool retryable = false;
  bool wrote_nothing = false;
};

class RoundTrip {
 public:
  RoundTrip(Transport::State& st, std::shared_ptr<Transport::State> owner, const ClientRequest& req,
            std::shared_ptr<Body> body)
      : st_(st), owner_(std::move(owner)), req_(req), body_(std::move(body)) {}

  Attempt run(std::unique_ptr<detail::PersistConn> conn, bool reused);

 private:
  Error write_request(detail::PersistConn& c, std::size_t& written);
  Error write_body(detail::PersistConn& c, std::size_t& written);
  // Reads the head of the final response; `received` counts the bytes.
  ClientError read_head(detail::PersistConn& c, Response& resp, ResponseFraming& framing,
                        std::size_t& received);
  // The error an I/O failure stands for: the context's if it closed the
  // connection, response_header_timeout for the read deadline.
  std::error_code io_error(detail::PersistConn& c, std::error_code err, bool reading_head) const;

  Transport::State& st_;
  std::shared_ptr<Transport::State> owner_;
  const ClientRequest& req_;
  std::shared_ptr<Body> body_;
};

std::error_code RoundTrip::io_error(detail::PersistConn& c, std::error_code err,
                                    bool reading_head) const {
  if (c.cancelled() && req_.context().err()) return req_.context().err();
  if (reading_head && err == net::errc::timeout && st_.response_header_timeout.count() > 0)
    return make_error_code(client_errc::response_header_timeout);
  return err;
}

Error RoundTrip::write_request(detail::PersistConn& c, std::size_t& written) {
  std::string& w = c.wbuf;
  w.clear();
  w.append(req_.method).append(" ");
  std::string target = req_.url.request_uri();
  w.append(target).append(" HTTP/1.1\r\nHost: ");
  w.append(req_.host.empty() ? req_.url.host : req_.host).append("\r\n");
  if (!req_.header.has("User-Agent")) w.append("User-Agent: ").append(kUserAgent).append("\r\n");
  req_.header.for_each([&](std::string_view name, std::string_view value) {
    if (transport_owned(name)) return;
    if (equal_fold(name, "User-Agent") && value.empty()) return;  // "": send none
    w.append(name).append(": ").append(value).append("\r\n");
  });
  if ((req_.close || st_.disable_keep_alives) && !req_.header.has("Connection"))
    w.append("Connection: close\r\n");
  const bool chunked = body_ && req_.content_length < 0;
  if (body_ && !chunked) {
    w.append("Content-Length: ");
    syntax::append_decimal(w, req_.content_length);
    w.append("\r\n");
  } else if (chunked) {
    w.append("Transfer-Encoding: chunked\r\n");
    if (req_.trailer.size() > 0) {
      w.append("Trailer: ");
      bool first = true;
      req_.trailer.for_each([&](std::string_view name, std::string_view) {
        if (!first) w.append(", ");
        first = false;
        w.append(name);
      });
      w.append("\r\n");
    }
  } else if (req_.method == "POST" || req_.method == "PUT" || req_.method == "PATCH") {
    w.append("Content-Length: 0\r\n");  // Go: a body-less POST says so
  }
  w.append("\r\n");
  // A small body in memory leaves with the head, in one write.
  if (auto* sb = dynamic_cast<StringBody*>(body_.get());
      sb != nullptr && !chunked && sb->remaining().size() <= (16u << 10) &&
      static_cast<std::int64_t>(sb->remaining().size()) == req_.content_length) {
    const std::size_t len = sb->remaining().size();
    w.append(sb->remaining());
    auto [n, err] = c.io().write(w);
    written += n;
    if (!err) sb->skip(len);  // a head that never left keeps the body for a retry
    return err;
  }
  auto [n, err] = c.io().write(w);
  written += n;
  if (err) return err;
  return body_ ? write_body(c, written) : Error{};
}

Error RoundTrip::write_body(detail::PersistConn& c, std::size_t& written) {
  const bool chunked = req_.content_length < 0;
  std::string& w = c.wbuf;
  std::uint64_t sent = 0;
  char buf[32 << 10];
  for (;;) {
    auto [n, rerr] = body_->read(buf);
    if (n > 0) {
      sent += n;
      if (!chunked && sent > static_cast<std::uint64_t>(req_.content_length))
        return make_error_code(client_errc::body_length_mismatch);
      w.clear();
      if (chunked) {
        append_hex(w, n);
        w.append("\r\n");
      }
      w.append(buf, n);
      if (chunked) w.append("\r\n");
      auto [m, werr] = c.io().write(w);
      written += m;
      if (werr) return werr;
    }
    if (rerr == net::errc::eof) break;
    if (rerr) return rerr;
  }
  if (!chunked) {
    if (sent != static_cast<std::uint64_t>(req_.content_length))
      return make_error_code(client_errc::body_length_mismatch);
    return {};
  }
  w.assign("0\r\n");
  req_.trailer.for_each([&](std::string_view name, std::string_view value) {
    w.append(name).append(": ").append(value).append("\r\n");
  });
  w.append("\r\n");
  auto [m, werr] = c.io().write(w);
  written += m;
  return werr;
}

ClientError RoundTrip::read_head(detail::PersistConn& c, Response& resp, ResponseFraming& framing,
                                 std::size_t& received) {
  detail::ReadBuffer& rb = c.rbuf;
  const std::string where = "reading the response from " + c.addr;
  ParseLimits limits;
  limits.max_header_bytes = st_.max_response_header_bytes;
  HeadScan scan;
  int interim = 0;
  for (;;) {
    ResponseHead head;
    ParseResult pr = parse_response_head(rb.received(), head, rb.header_slots(), limits, scan);
    if (pr.status == ParseStatus::error)
      return {make_error_code(client_errc::malformed_response), where,
              std::string(pr.error.reason)};
    if (pr.status == ParseStatus::incomplete) {
      if (rb.full()) {
        if (rb.grow().err)
          return {make_error_code(client_errc::malformed_response), where,
                  "response header too large"};
      }
      auto [n, err] = c.io().read(rb.free_space());
      rb.commit(n);
      received += n;
      if (err) {
        if (err == net::errc::eof && received == 0 && !c.cancelled())
          return {make_error_code(client_errc::server_closed_idle), where};
        if (err == net::errc::eof && !c.cancelled())
          return {make_error_code(client_errc::malformed_response), where,
                  "connection closed in the response head"};
        return {io_error(c, err, true), where};
      }
      continue;
    }
    ResponseFramingResult fr = analyze_response(head, req_.method);
    if (!fr.ok())
      return {make_error_code(client_errc::malformed_response), where,
              std::string(fr.error.reason)};
    if (fr.framing.interim) {
      if (++interim > kMaxInterim)
        return {make_error_code(client_errc::too_many_informational), where};
      if (req_.on_informational) req_.on_informational(head.status, head.headers);
      rb.set_head(pr.consumed);
      rb.start_next();  // the next head starts at the front
      scan = HeadScan{};
      continue;
    }
    resp.status_code = head.status;
    resp.proto_major = head.version_major;
    resp.proto_minor = head.version_minor;
    resp.status = std::to_string(head.status);
    resp.status.append(" ").append(head.reason);
    for (const Header& h : head.headers) resp.header.add(h.name, h.value);
    framing = fr.framing;
    rb.set_head(pr.consumed);
    return {};
  }
}

Attempt RoundTrip::run(std::unique_ptr<detail::PersistConn> conn, bool reused) {
  Attempt out;
  detail::PersistConn& c = *conn;
  auto fail = [&](ClientError err) {
    (void)c.unwatch();
    st_.closed_broken.fetch_add(err.code() == client_errc::malformed_response ||
                                        err.code() == client_errc::too_many_informational
                                    ? 1
                                    : 0,
                                std::memory_order_relaxed);
    st_.discard(std::move(conn));
    out.result.err = std::move(err);
    return std::move(out);
  };
  ++c.uses;
  c.rbuf.acquire(st_.max_response_header_bytes);
  c.rbuf.start_next();

  std::size_t written = 0;
  Error werr = write_request(c, written);
  if (werr &&
      (werr == client_errc::body_length_mismatch || c.cancelled() || (reused && written == 0))) {
    out.retryable = reused && !c.cancelled() && werr != client_errc::body_length_mismatch;
    out.wrote_nothing = written == 0;
    return fail({io_error(c, werr, false), "writing the request to " + c.addr});
  }
  // A failed body write may be a server that answered early and stopped
  // reading: its response, if it sent one, is what the caller gets.
  if (st_.response_header_timeout.count() > 0)
    (void)c.io().set_read_deadline(net::Clock::now() + st_.response_header_timeout);
  Response resp;
  ResponseFraming framing;
  std::size_t received = 0;
  if (ClientError herr = read_head(c, resp, framing, received)) {
    if (werr) return fail({io_error(c, werr, false), "writing the request to " + c.addr});
    out.retryable = reused && received == 0 && herr.code() == client_errc::server_closed_idle;
    if (!out.retryable && reused && received == 0 && !c.cancelled() &&
        herr.code() == std::errc::connection_reset)
      out.retryable = true;
    return fail(std::move(herr));
  }
  if (st_.response_header_timeout.count() > 0) (void)c.io().set_read_deadline(net::Deadline{});

  const bool keep_alive = framing.keep_alive && !werr && !req_.close && !st_.disable_keep_alives;
  resp.close = !keep_alive;
  resp.content_length = framing.body == ResponseFraming::Body::content_length
                            ? static_cast<std::int64_t>(framing.content_length)
                        : framing.body == ResponseFraming::Body::none ? 0
                                                                      : -1;
  if (req_.method == "HEAD") {
    // A HEAD response's Content-Length is the GET's, for the caller.
    std::string_view cl = resp.header.get("Content-Length");
    auto n = syntax::parse_decimal(cl);
    resp.content_length = n ? *n : -1;
  }
  resp.method = req_.method;
  resp.url = req_.url;

  if (framing.body == ResponseFraming::Body::none) {
    if (c.unwatch() && keep_alive) {
      st_.pool->release(std::move(conn));
    } else {
      st_.discard(std::move(conn));
    }
    out.result.value = std::move(resp);
    return out;
  }
  auto impl = std::make_unique<ResponseBody::Impl>();
  impl->transport = owner_;
  impl->conn = std::move(conn);
  impl->kind = framing.body;
  impl->remaining = framing.content_length;
  impl->keep_alive = keep_alive;
  impl->ctx = req_.context();
  resp.body = ResponseBody(std::move(impl));
  out.result.value = std::move(resp);
  return out;
}

}  // namespace

void Transport::State::configure_once(const Transport& t) {
  if (configured.load(std::memory_order_acquire)) return;
  std::lock_guard lock(config_mu);
  if (configured.load(std::memory_order_relaxed)) return;
  dial_timeout = t.dial_timeout;
  tls_handshake_timeout = t.tls_handshake_timeout;
  response_header_timeout = t.response_header_timeout;
  max_response_header_bytes = t.max_response_header_bytes;
  disable_keep_alives = t.disable_keep_alives;
  tls_config = t.tls_config;
  if (tls_config.next_protos.empty()) tls_config.next_protos = {"http/1.1"};
  pool = std::make_shared<detail::ConnPool>(detail::PoolLimits{
      .max_idle = t.max_idle_conns,
      .max_idle_per_host = t.max_idle_conns_per_host,
      .max_per_host = t.max_conns_per_host,
      .idle_timeout = t.idle_conn_timeout,
      .keep_alive = !t.disable_keep_alives,
  });
  configured.store(true, std::memory_order_release);
}

void Transport::State::discard(std::unique_ptr<detail::PersistConn> conn) {
  if (!conn) return;
  std::string key = conn->key;
  conn.reset();  // closes the socket
  pool->forget(key);
}

Transport::Transport() : state_(std::make_shared<State>()) {}

Transport::~Transport() {
  // Responses still being read keep the state (and the pool) alive; their
  // connections are closed, not pooled, once they end.
  if (state_->pool) state_->pool->close();
}

void Transport::close_idle_connections() {
  if (state_->pool) state_->pool->close_idle();
}

TransportStats Transport::stats() const {
  TransportStats s;
  s.dials = state_->dials.load(std::memory_order_relaxed);
  s.reused = state_->reused.load(std::memory_order_relaxed);
  s.retried = state_->retried.load(std::memory_order_relaxed);
  s.closed_unread = state_->closed_unread.load(std::memory_order_relaxed);
  s.closed_broken = state_->closed_broken.load(std::memory_order_relaxed);
  if (state_->pool) {
    s.idle = state_->pool->idle();
    s.open = state_->pool->open();
  }
  return s;
}

namespace {

// Checks what round_trip cannot send, before anything is dialed.
ClientError check_request(const ClientRequest& req) {
  const std::string where = "checking the request";
  if (req.url.scheme != "http" && req.url.scheme != "https")
    return {make_error_code(client_errc::unsupported_scheme), where,
            "unsupported protocol scheme \"" + req.url.scheme + "\""};
  if (req.url.hostname().empty()) return {make_error_code(client_errc::missing_host), where};
  if (!is_token(req.method))
    return {make_error_code(client_errc::invalid_request), where,
            "invalid method \"" + req.method + "\""};
  std::string bad;
  auto check = [&](std::string_view name, std::string_view value) {
    if (!bad.empty()) return;
    if (!is_token(name))
      bad = "invalid header field name \"" + std::string(name) + "\"";
    else if (!valid_field_value(value))
      bad = "invalid header field value for \"" + std::string(name) + "\"";
  };
  req.header.for_each(check);
  req.trailer.for_each(check);
  if (!bad.empty()) return {make_error_code(client_errc::invalid_request), where, bad};
  if (!valid_field_value(req.host) || req.host.find(' ') != std::string::npos)
    return {make_error_code(client_errc::invalid_request), where, "invalid Host"};
  return {};
}

// Dials `addr` for `key`, the TLS handshake included; the context watches
// the new connection from the dial's end.
ClientResult<std::unique_ptr<detail::PersistConn>> dial_conn(Transport::State& st,
                                                             const ClientRequest& req,
                                                             const std::string& key,
                                                             const std::string& addr) {
  ClientResult<std::unique_ptr<detail::PersistConn>> out;
  const Context& ctx = req.context();
  auto [dctx, dcancel] =
      st.dial_timeout.count() > 0 ? with_timeout(ctx, st.dial_timeout) : with_cancel(ctx);
  auto [tcp, err] = net::dial_context(dctx, "tcp", addr);
  dcancel();
  if (err) {
    // The dial's own deadline is an i/o timeout, as in Go; the request's
    // context ending is its error.
    std::error_code code = err;
    if (ctx.err())
      code = ctx.err();
    else if (err == context_errc::deadline_exceeded)
      code = make_error_code(net::errc::timeout);
    out.err = ClientError(code, "dial tcp " + addr);
    return out;
  }
  st.dials.fetch_add(1, std::memory_order_relaxed);
  auto conn = std::make_unique<detail::PersistConn>(key);
  conn->addr = addr;
  conn->tcp = std::move(tcp);
  conn->watch(ctx);
  if (req.url.scheme == "https") {
    std::shared_ptr<const tls::ClientConfig> config;
    {
      std::lock_guard lock(st.tls_mu);
      if (!st.tls_loaded) {
        auto loaded = tls::ClientConfig::load(st.tls_config);
        st.tls_client = std::move(loaded.value);
        st.tls_error = std::move(loaded.err);
        st.tls_loaded = true;
      }
      config = st.tls_client;
      if (st.tls_error) {
        out.err = ClientError(st.tls_error.code(), "loading the TLS configuration",
                              st.tls_error.message());
      }
    }
    if (out.err) {
      (void)conn->unwatch();
      return out;
    }
    std::string server_name = st.tls_config.server_name.empty() ? std::string(req.url.hostname())
                                                                : st.tls_config.server_name;
    if (Error terr = conn->start_tls(config, server_name, st.tls_handshake_timeout)) {
      std::error_code code = terr;
      if (conn->cancelled() && ctx.err()) code = ctx.err();
      out.err = ClientError(code, "tls handshake with " + addr, conn->tls_detail());
      (void)conn->unwatch();
      return out;
    }
  }
  out.value = std::move(conn);
  return out;
}

}  // namespace

ClientResult<Response> Transport::round_trip(const ClientRequest& req) {
  state_->configure_once(*this);
  State& st = *state_;
  if (ClientError err = check_request(req)) return {{}, std::move(err)};
  const Context& ctx = req.context();
  const std::string addr = dial_address(req.url);
  const std::string key = req.url.scheme + "|" + addr;
  std::shared_ptr<Body> body = req.body;
  for (int attempt = 0;; ++attempt) {
    if (ctx.err()) return {{}, ClientError(ctx.err(), "sending the request to " + addr)};
    auto lease = st.pool->acquire(key, ctx);
    if (lease.err) return {{}, ClientError(lease.err, "waiting for a connection to " + addr)};
    std::unique_ptr<detail::PersistConn> conn = std::move(lease.conn);
    const bool reused = conn != nullptr;
    if (reused) {
      st.reused.fetch_add(1, std::memory_order_relaxed);
      conn->watch(ctx);
    } else {
      auto dialed = dial_conn(st, req, key, addr);
      if (dialed.err) {
        st.pool->forget(key);
        return {{}, std::move(dialed.err)};
      }
      conn = std::move(dialed.value);
    }
    Attempt a = RoundTrip(st, state_, req, body).run(std::move(conn), reused);
    if (!a.result.err || !a.retryable || attempt > 0) return std::move(a.result);
    // A pooled connection the server had closed. Go's shouldRetryRequest:
    // again if nothing was written, or if the request is idempotent and
    // its body can be made again.
    const bool replayable = !req.body || req.get_body;
    if (!a.wrote_nothing && !(idempotent(req.method) && replayable)) return std::move(a.result);
    if (req.body && !a.wrote_nothing) body = req.get_body();
    if (req.body && !body) return std::move(a.result);
    st.retried.fetch_add(1, std::memory_order_relaxed);
  }
}

}  // namespace gofer::http
