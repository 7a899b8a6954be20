// gofer::http — an HTTP/1.1 client modelled on Go's net/http Client and
// Transport.
//
//   auto [resp, err] = gofer::http::get("http://127.0.0.1:8080/hello");
//   if (err) { fmt::print("{}\n", err.message()); return; }
//   // Get "http://127.0.0.1:8080/hello": dial tcp 127.0.0.1:8080: Connection refused
//   auto [body, rerr] = resp.body.read_all();   // then the connection goes back to the pool
//
//   gofer::http::Client client{.timeout = 5s};
//   auto [req, rqerr] = gofer::http::new_request("POST", "https://example.com/upload", data);
//   req.header.set("Content-Type", "application/json");
//   req.set_context(ctx);                       // cancelling ctx ends the exchange
//   auto [r, e] = client.execute(std::move(req));
//
// A Transport keeps a pool of kept-alive connections per scheme, host
// and port. A request takes an idle one (the most recently used) or
// dials; its response's body holds the connection while it is read, and
// gives it back to the pool only once it was read to its end (or closed
// after its end): a body closed early closes its connection, as does any
// response the client cannot trust (a malformed head, a bad chunk, too
// many 1xx responses) — an error value, never a connection reused out of
// step. The calling goroutine does all the work — writes the request,
// reads the response — and parks on the netpoller while it waits; no
// goroutine per connection (unlike Go's persistConn read and write
// loops), so an idle pooled connection costs its fd and a few hundred
// bytes.
//
// Go's defaults: 30 s to dial, 10 s for a TLS handshake, 90 s before an
// idle connection is closed, at most 100 idle connections in all and 2 per
// host, redirects followed up to 10. How it works inside:
// src/http/transport.cpp (one round trip) and src/http/client.cpp
// (redirects, Client::timeout).
//
// Unlike Go:
//   - The request body is written before the response is read, not in a
//     goroutine of its own: a response that arrives while the body is
//     still being sent is read once the send is done or failed (a server
//     that answers early and stops reading makes the send fail, and its
//     response is returned).
//   - No transparent gzip: Accept-Encoding is the caller's to send, and the
//     body comes as the server sent it.
//   - HTTP/1.1 only (no HTTP/2 client), no cookie jar.
//   - Not yet: proxies (HTTP_PROXY / HTTPS_PROXY / NO_PROXY, CONNECT) and
//     "Expect: 100-continue" (a request that sets it sends its body at once).
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include "gofer/context.h"
#include "gofer/error.h"
#include "gofer/http/raw_conn.h"
#include "gofer/http/server.h"
#include "gofer/tls.h"
#include "gofer/url.h"

namespace gofer::http {

// Why a request failed, beyond the network's, TLS's and the context's own
// error values (net::errc, std::errc, tls::errc, context_errc).
enum class client_errc {
  unsupported_scheme = 1,   // not http or https
  missing_host,             // a URL without a host
  invalid_request,          // a method, header name or value that cannot be sent
  malformed_response,       // the response broke HTTP/1.1 (the parser's reason says how)
  too_many_informational,   // more 1xx responses in a row than a client accepts (5)
  response_header_timeout,  // Transport::response_header_timeout passed
  client_timeout,           // Client::timeout passed
  too_many_redirects,       // more than 10 (Go: "stopped after 10 redirects")
  bad_redirect,             // a 3xx whose Location cannot be parsed
  use_last_response,        // check_redirect's answer: return the redirect itself
  body_closed,              // a read after close() (Go's "read on closed response body")
  unexpected_eof,           // the body ended before its Content-Length or last chunk
  server_closed_idle,       // a kept-alive connection closed before any response byte
  body_length_mismatch,     // the request body's length is not its content_length
};
const std::error_category& client_category() noexcept;
inline std::error_code make_error_code(client_errc e) noexcept {
  return {static_cast<int>(e), client_category()};
}

}  // namespace gofer::http

template <>
struct std::is_error_code_enum<gofer::http::client_errc> : std::true_type {};

namespace gofer::http {

// A failed request: the error value, where it happened and, for a broken
// response, why (Go's *url.Error around its cause). message() reads like
// Go's: `Get "http://127.0.0.1:1/": dial tcp 127.0.0.1:1: Connection refused`.
class ClientError {
 public:
  ClientError() = default;
  // `where`: "dial tcp 127.0.0.1:1", "reading the response from
  // 127.0.0.1:8080"; `reason`: a detail the code does not say ("malformed
  // status code"), or empty.
  ClientError(std::error_code code, std::string where, std::string reason = {})
      : code_(code), where_(std::move(where)), reason_(std::move(reason)) {}

  explicit operator bool() const noexcept { return static_cast<bool>(code_); }
  Error code() const noexcept { return code_; }
  const std::string& where() const noexcept { return where_; }
  const std::string& reason() const noexcept { return reason_; }
  // A deadline passed: a dial or TLS handshake, the response header
  // timeout, Client::timeout or the request context's deadline (Go's
  // err.Timeout()).
  bool timeout() const noexcept;
  std::string message() const;
  // The request the message names: Go's url.Error Op ("Get") and URL.
  void set_request(std::string_view method, std::string_view url);

  friend bool operator==(const ClientError& e, const std::error_code& c) noexcept {
    return e.code_ == c;
  }
  friend bool operator==(const ClientError& e, const std::error_condition& c) noexcept {
    return e.code_ == c;
  }

 private:
  Error code_;
  std::string where_, reason_;
  std::string op_, url_;
};

template <class T>
struct [[nodiscard]] ClientResult {
  T value{};
  ClientError err{};

  explicit operator bool() const noexcept { return !err; }
};

// A request body held in memory (Go's strings.Reader): its length is known
// and it can be sent again (new_request sets get_body to a copy).
class StringBody final : public Body {
 public:
  explicit StringBody(std::string data) : data_(std::move(data)) {}
  Result<std::size_t> read(std::span<char> buf) override;
  // What has not been read yet.
  std::string_view remaining() const noexcept { return std::string_view(data_).substr(pos_); }
  void skip(std::size_t n) noexcept { pos_ += n; }

 private:
  std::string data_;
  std::size_t pos_ = 0;
};

// A request to send (Go's http.Request on the client side). Plain data:
// set what you need, or start from new_request().
class ClientRequest {
 public:
  std::string method = "GET";
  url::URL url;
  // Sent as given, after Host and User-Agent ("gofer-http-client/1.1"
  // unless set; set to "" to send none). Host, Content-Length,
  // Transfer-Encoding and Trailer are the transport's to write.
  HeaderMap header;
  // Read to its end and sent; null for none. content_length is its length,
  // or -1 when unknown: then it is sent chunked.
  std::shared_ptr<Body> body;
  std::int64_t content_length = 0;
  // A fresh copy of the body, for a 307/308 redirect or a retry on a new
  // connection (Go's GetBody); new_request sets it for a body in memory.
  std::function<std::shared_ptr<Body>()> get_body;
  // The Host header; empty: url's host.
  std::string host;
  // Trailer fields, sent after a chunked body: their names go in a
  // "Trailer" header before it, their values are read once the body has
  // been read to its end (so the body may fill them in).
  HeaderMap trailer;
  // "Connection: close": the connection is not kept after the response.
  bool close = false;
  // Called for each 1xx response before the final one (103 Early Hints, a
  // 100 Continue), with its header fields (Go's httptrace Got1xxResponse).
  std::function<void(int status, std::span<const Header> fields)> on_informational;

  // The request's context: when it ends, so does the exchange — the dial,
  // the write, the wait for the response and the reads of its body — and
  // the connection is closed. background() by default.
  const Context& context() const noexcept { return ctx_; }
  void set_context(Context ctx) { ctx_ = std::move(ctx); }

 private:
  Context ctx_;
};

// Go's http.NewRequest: `url` parsed (absolute, http or https); a non-empty
// `body` is sent with its length and can be replayed. POST, PUT and PATCH
// without a body send "Content-Length: 0", as in Go.
ClientResult<ClientRequest> new_request(std::string_view method, std::string_view url,
                                        std::string body = {});
// With a body streamed from a reader, `content_length` bytes (-1: unknown,
// sent chunked). It cannot be replayed unless get_body is set.
ClientResult<ClientRequest> new_request(std::string_view method, std::string_view url,
                                        std::shared_ptr<Body> body,
                                        std::int64_t content_length = -1);

// A response's body, read as it arrives (Go's Response.Body). Reading it to
// its end — {0, net::errc::eof} — or closing it after that gives the
// connection back to its pool; closing it before its end closes the
// connection (what remains is never read); destroying it closes it.
// Errors: client_errc::unexpected_eof when the server stopped short of
// the length it announced (never a complete-looking body),
// client_errc::malformed_response for a bad chunk, the network's and the
// context's errors.
class ResponseBody final : public Body {
 public:
  ResponseBody() noexcept;  // no body: reads give EOF
  ResponseBody(ResponseBody&&) noexcept;
  ResponseBody& operator=(ResponseBody&&) noexcept;
  ~ResponseBody() override;

  Result<std::size_t> read(std::span<char> buf) override;
  // Ends the body (see above). Idempotent.
  Error close();
  // The trailer fields, once the body was read to its end.
  const HeaderMap& trailer() const noexcept;

  struct Impl;
  explicit ResponseBody(std::unique_ptr<Impl> impl) noexcept;
  Impl* impl() const noexcept { return impl_.get(); }

 private:
  std::unique_ptr<Impl> impl_;
};

// A response (Go's http.Response).
struct Response {
  int status_code = 0;
  std::string status;  // "200 OK"
  int proto_major = 1;
  int proto_minor = 1;
  HeaderMap header;
  // The body's length; -1 when unknown (chunked, or until the server
  // closes). For HEAD, the length a GET would have had, if the server said.
  std::int64_t content_length = -1;
  // The connection will not carry another request.
  bool close = false;
  ResponseBody body;
  // The request this answers: the last of a chain of redirects.
  std::string method;
  url::URL url;

  const HeaderMap& trailer() const noexcept { return body.trailer(); }
  // For 101 Switching Protocols: the connection, which now speaks the
  // protocol the request asked for in Upgrade (bytes the server sent after
  // the 101 come first). Null for any other status, and once taken.
  std::unique_ptr<RawConn> take_conn();
};

// Go's http.RoundTripper: one request, one response, no redirects.
class RoundTripper {
 public:
  virtual ~RoundTripper() = default;
  virtual ClientResult<Response> round_trip(const ClientRequest& req) = 0;
};

// Counters of a Transport (for tests, metrics and the debug pages).
struct TransportStats {
  std::uint64_t dials = 0;          // connections made
  std::uint64_t reused = 0;         // requests sent on a pooled connection
  std::uint64_t retried = 0;        // requests sent again after a stale pooled connection
  std::uint64_t closed_unread = 0;  // connections closed because a body was not read to its end
  std::uint64_t closed_broken = 0;  // connections closed because the response was malformed
  std::size_t idle = 0;             // idle connections in the pool now
  std::size_t open = 0;             // connections open now: idle, in use or being dialed
};

// Go's http.Transport. Configure before its first request; from then on
// the fields are read no more. A transport, like a Timer, must not outlive
// the gofer::run() it was used in (its idle connections and timer belong
// to it); the default one is closed when the main goroutine returns.
class Transport final : public RoundTripper {
 public:
  std::chrono::nanoseconds dial_timeout = std::chrono::seconds(30);
  std::chrono::nanoseconds tls_handshake_timeout = std::chrono::seconds(10);
  // From the end of the request's write to the response head; 0: none.
  std::chrono::nanoseconds response_header_timeout{0};
  // An idle connection is closed after this; 0: kept until evicted.
  std::chrono::nanoseconds idle_conn_timeout = std::chrono::seconds(90);
  int max_idle_conns = 100;         // in all; 0: no limit
  int max_idle_conns_per_host = 2;  // Go's DefaultMaxIdleConnsPerHost
  // Connections (idle, in use or dialing) per host; 0: no limit. A request
  // over it waits for one to come free (or its context to end).
  int max_conns_per_host = 0;
  // The response head's limit (status-line and fields); over it, an error.
  std::size_t max_response_header_bytes = 1 << 20;
  // Every request gets "Connection: close" and its own connection.
  bool disable_keep_alives = false;
  // For https: the system's CAs (OpenSSL's default paths), the URL's host
  // as the server name (SNI and verification); insecure_skip_verify only
  // if set here. ALPN offers http/1.1.
  tls::Config tls_config;

  Transport();
  ~Transport() override;
  Transport(const Transport&) = delete;
  Transport& operator=(const Transport&) = delete;

  ClientResult<Response> round_trip(const ClientRequest& req) override;
  // Closes the idle connections now (those in use are not touched).
  void close_idle_connections();
  TransportStats stats() const;

  struct State;

 private:
  std::shared_ptr<State> state_;
};

// Go's http.DefaultTransport: Go's defaults. One
// per gofer::run, made on first use and closed when the main goroutine
// returns.
std::shared_ptr<Transport> default_transport();

// Go's http.Client: redirects, a timeout for the whole exchange, and a
// transport.
class Client {
 public:
  // Null: default_transport().
  std::shared_ptr<RoundTripper> transport;
  // Called before following a redirect with the next request and the
  // requests made so far, oldest first (Go's CheckRedirect). An error
  // stops: client_errc::use_last_response returns the redirect response
  // itself; any other is returned with that response's body closed.
  // Null: stop after 10 redirects.
  std::function<Error(const ClientRequest& next, std::span<const ClientRequest> via)>
      check_redirect;
  // The whole exchange — connection, redirects, reading the body — within
  // this; 0: none. Past it the connection is closed and reads fail with
  // client_errc::client_timeout.
  std::chrono::nanoseconds timeout{0};

  // Go's Client.Do: sends req, follows redirects (301, 302, 303 become GET
  // without a body, except for HEAD; 307 and 308 keep the method and send
  // the body again when get_body can make it — else the 307/308 itself is
  // returned), and returns the last response. Authorization, Cookie and
  // WWW-Authenticate are not sent to another host (Go's rule).
  ClientResult<Response> execute(ClientRequest req);
  ClientResult<Response> get(std::string_view url);
  ClientResult<Response> head(std::string_view url);
  ClientResult<Response> post(std::string_view url, std::string_view content_type,
                              std::string body);
  // application/x-www-form-urlencoded
  ClientResult<Response> post_form(std::string_view url, const url::Values& form);
};

// The same with a Client{} of the default transport (Go's http.Get, …).
ClientResult<Response> get(std::string_view url);
ClientResult<Response> head(std::string_view url);
ClientResult<Response> post(std::string_view url, std::string_view content_type, std::string body);
ClientResult<Response> post_form(std::string_view url, const url::Values& form);

}  // namespace gofer::http
