// gofer::http — an HTTP/1.1 server modelled on Go's net/http.
//
//   gofer::run([] {
//     gofer::http::ServeMux mux;
//     mux.handle_func("GET /hello/{name}", [](auto& w, auto& r) {
//       w.header().set("Content-Type", "text/plain");
//       w.write(fmt::format("Hello, {}!\n", r.path_value("name")));
//     });
//     gofer::http::Server server;
//     server.addr = "127.0.0.1:8080";
//     server.handler = mux;
//     if (gofer::Error err = server.listen_and_serve()) fmt::print(stderr, "{}\n", err.message());
//   });
//
// (Every example in these headers is an excerpt of a program under
// examples/snippets/ that CI compiles and runs.)
//
// The main goroutine accepts; every connection gets a goroutine that reads a
// request, runs the handler, writes the response, and loops while the
// connection is kept alive. Request headers are views into the connection's
// read buffer; the response is built in a per-connection buffer and leaves
// in one write. An exception thrown by a handler is answered with 500 and
// the connection is closed (Go recovers a handler's panic); the server and
// every other connection go on.
#pragma once

#include <chrono>
#include <cstdint>
#include <exception>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "gofer/context.h"
#include "gofer/error.h"
#include "gofer/http/cookie.h"
#include "gofer/http/parser.h"
#include "gofer/http/raw_conn.h"
#include "gofer/multipart.h"
#include "gofer/net.h"
#include "gofer/tls.h"
#include "gofer/url.h"

namespace gofer::http {

class AccessLog;  // gofer/http/access_log.h

// Every status code Go's net/http names (RFC 9110 §15 and the RFCs that
// registered the others), Go's names in snake_case. Where the RFC renamed a
// code since, both names exist: status_payload_too_large is Go's
// status_request_entity_too_large (413), status_uri_too_long its
// status_request_uri_too_long (414), status_range_not_satisfiable its
// status_requested_range_not_satisfiable (416).
enum Status : int {
  status_continue = 100,             // RFC 9110 §15.2.1
  status_switching_protocols = 101,  // RFC 9110 §15.2.2
  status_processing = 102,           // RFC 2518 §10.1
  status_early_hints = 103,          // RFC 8297

  status_ok = 200,                      // RFC 9110 §15.3.1
  status_created = 201,                 // RFC 9110 §15.3.2
  status_accepted = 202,                // RFC 9110 §15.3.3
  status_non_authoritative_info = 203,  // RFC 9110 §15.3.4
  status_no_content = 204,              // RFC 9110 §15.3.5
  status_reset_content = 205,           // RFC 9110 §15.3.6
  status_partial_content = 206,         // RFC 9110 §15.3.7
  status_multi_status = 207,            // RFC 4918 §11.1
  status_already_reported = 208,        // RFC 5842 §7.1
  status_im_used = 226,                 // RFC 3229 §10.4.1

  status_multiple_choices = 300,    // RFC 9110 §15.4.1
  status_moved_permanently = 301,   // RFC 9110 §15.4.2
  status_found = 302,               // RFC 9110 §15.4.3
  status_see_other = 303,           // RFC 9110 §15.4.4
  status_not_modified = 304,        // RFC 9110 §15.4.5
  status_use_proxy = 305,           // RFC 9110 §15.4.6
  status_temporary_redirect = 307,  // RFC 9110 §15.4.8
  status_permanent_redirect = 308,  // RFC 9110 §15.4.9

  status_bad_request = 400,                      // RFC 9110 §15.5.1
  status_unauthorized = 401,                     // RFC 9110 §15.5.2
  status_payment_required = 402,                 // RFC 9110 §15.5.3
  status_forbidden = 403,                        // RFC 9110 §15.5.4
  status_not_found = 404,                        // RFC 9110 §15.5.5
  status_method_not_allowed = 405,               // RFC 9110 §15.5.6
  status_not_acceptable = 406,                   // RFC 9110 §15.5.7
  status_proxy_auth_required = 407,              // RFC 9110 §15.5.8
  status_request_timeout = 408,                  // RFC 9110 §15.5.9
  status_conflict = 409,                         // RFC 9110 §15.5.10
  status_gone = 410,                             // RFC 9110 §15.5.11
  status_length_required = 411,                  // RFC 9110 §15.5.12
  status_precondition_failed = 412,              // RFC 9110 §15.5.13
  status_payload_too_large = 413,                // RFC 9110 §15.5.14 (Content Too Large)
  status_request_entity_too_large = 413,         // Go's name
  status_uri_too_long = 414,                     // RFC 9110 §15.5.15
  status_request_uri_too_long = 414,             // Go's name
  status_unsupported_media_type = 415,           // RFC 9110 §15.5.16
  status_range_not_satisfiable = 416,            // RFC 9110 §15.5.17
  status_requested_range_not_satisfiable = 416,  // Go's name
  status_expectation_failed = 417,               // RFC 9110 §15.5.18
  status_teapot = 418,                           // RFC 9110 §15.5.19 (unused)
  status_misdirected_request = 421,              // RFC 9110 §15.5.20
  status_unprocessable_entity = 422,             // RFC 9110 §15.5.21
  status_locked = 423,                           // RFC 4918 §11.3
  status_failed_dependency = 424,                // RFC 4918 §11.4
  status_too_early = 425,                        // RFC 8470 §5.2
  status_upgrade_required = 426,                 // RFC 9110 §15.5.22
  status_precondition_required = 428,            // RFC 6585 §3
  status_too_many_requests = 429,                // RFC 6585 §4
  status_request_header_fields_too_large = 431,  // RFC 6585 §5
  status_unavailable_for_legal_reasons = 451,    // RFC 7725 §3

  status_internal_server_error = 500,            // RFC 9110 §15.6.1
  status_not_implemented = 501,                  // RFC 9110 §15.6.2
  status_bad_gateway = 502,                      // RFC 9110 §15.6.3
  status_service_unavailable = 503,              // RFC 9110 §15.6.4
  status_gateway_timeout = 504,                  // RFC 9110 §15.6.5
  status_http_version_not_supported = 505,       // RFC 9110 §15.6.6
  status_variant_also_negotiates = 506,          // RFC 2295 §8.1
  status_insufficient_storage = 507,             // RFC 4918 §11.5
  status_loop_detected = 508,                    // RFC 5842 §7.2
  status_not_extended = 510,                     // RFC 2774 §7
  status_network_authentication_required = 511,  // RFC 6585 §6
};
// "OK", "Not Found", … (Go's http.StatusText); "" for unknown codes.
std::string_view status_text(int code) noexcept;

// A response's header fields: case-insensitive names, several values per
// name, insertion order kept. Storage is reused from one response to the
// next on a connection, so a steady-state response allocates nothing.
class HeaderMap {
 public:
  void add(std::string_view name, std::string_view value);
  void set(std::string_view name, std::string_view value);  // replaces all values
  void del(std::string_view name);
  std::string_view get(std::string_view name) const;  // first value, or ""
  bool has(std::string_view name) const;
  void clear();
  std::size_t size() const noexcept { return fields_.size(); }

  template <class F>
  void for_each(F&& f) const {
    for (const Field& field : fields_) {
      if (field.name_len != 0)
        f(view(field.name_off, field.name_len), view(field.value_off, field.value_len));
    }
  }

 private:
  struct Field {
    std::uint32_t name_off, name_len, value_off, value_len;
  };
  std::string_view view(std::uint32_t off, std::uint32_t len) const {
    return {arena_.data() + off, len};
  }
  std::vector<Field> fields_;  // a deleted field has name_len == 0
  std::string arena_;
};

// The body of a request: Content-Length or chunked, read as it arrives.
// The first read of a request that sent "Expect: 100-continue" sends
// "100 Continue" first.
class Body {
 public:
  virtual ~Body() = default;
  // Reads up to buf.size() body bytes; {0, net::errc::eof} at the end.
  virtual Result<std::size_t> read(std::span<char> buf) = 0;
  // Reads the rest of the body, up to `limit` bytes (beyond: returns what
  // it read and errc::body_too_large, worth a 413).
  Result<std::string> read_all(std::size_t limit = 32 << 20);
};

namespace detail {
class RequestContextSource;  // the connection a request came on (the server's)
struct RequestAccess;        // the server's and httptest's way to Request's private fields
struct RequestExtras;        // what a Request parses on first use (src/http/request_extras.h)
}  // namespace detail

// A request as the handler gets it (Go's http.Request).
//
// Views and owned values. The string views and spans below (method,
// target, path, raw_query, host, headers, trailers, and what header() and
// header_values() return) point into the connection's read buffer: they
// are valid until the handler returns, and the next request on the
// connection overwrites them. A handler that hands work to another
// goroutine copies what that goroutine needs, or hands it clone(), which
// owns its bytes. In ASan builds the server poisons those bytes once the
// request ends, so a view read later is reported (use-after-poison)
// instead of reading another request's bytes.
//
// url(), form(), cookies(), path_value() and the rest below them own
// their values; those returned by reference or view live until the request
// ends (as the views do). Below, "a view" means: valid only during the
// handler; clone() for later.
class Request {
 public:
  Request();
  ~Request();
  Request(const Request&) = delete;
  Request& operator=(const Request&) = delete;

  std::string_view method;     // "GET" — a view (valid only during the handler)
  std::string_view target;     // request-target as sent: "/search?q=x" — a view
  std::string_view path;       // target's path, still percent-encoded: "/search" — a view
  std::string_view raw_query;  // after '?', without it: "q=x" — a view
  int proto_major = 1;
  int proto_minor = 1;
  // Host header (or the authority of an absolute target) — a view.
  std::string_view host;
  // Content-Length, or -1 when unknown (chunked); 0 for no body.
  std::int64_t content_length = 0;
  net::Addr remote_addr;
  // The TLS connection the request came on (Go's r.TLS): version, cipher
  // suite, SNI name, ALPN protocol, client certificate; null over plain TCP.
  const tls::ConnectionState* tls = nullptr;
  std::span<const Header> headers;   // views into the connection's read buffer (handler only)
  std::span<const Header> trailers;  // filled once a chunked body was read to its end (views)

  // First value of a header field (case-insensitive name), or "" (a view:
  // valid only during the handler).
  std::string_view header(std::string_view name) const;
  // Every value of a header field, in order (views: valid only during the
  // handler).
  std::vector<std::string_view> header_values(std::string_view name) const;
  // First value of a query parameter, percent-decoded ("" if absent); owned.
  // url().query().values(key) gives every value.
  std::string query(std::string_view key) const;
  // The path's decoded form ("/a%20b" → "/a b"); owned.
  std::string decoded_path() const;
  // The value matched by a {name} wildcard of the ServeMux pattern (owned
  // by the request: valid until it ends; copy it, or clone(), for later).
  std::string_view path_value(std::string_view name) const;
  void set_path_value(std::string_view name, std::string value);
  std::string_view proto() const noexcept;  // "HTTP/1.1" (a static string: always valid)

  // --- What Go's Request parses for you: owned values, made on first use
  // (a request that never asks pays nothing), valid until the request ends.

  // The request-target as a URL (Go's r.URL): path decoded, raw_query, and
  // for an absolute-form target its scheme and host. It follows `path` as
  // it is now (strip_prefix shortens it). A target that Go would refuse
  // (a malformed %-escape) gives its path undecoded.
  const url::URL& url() const;

  // Go's ParseForm: form() gets the query's values and, for POST, PUT and
  // PATCH with an application/x-www-form-urlencoded body, the body's (read
  // here, at most kMaxFormBytes: beyond, errc::post_too_large) before them;
  // post_form() the body's only. Idempotent. Malformed pairs are skipped
  // and the first error returned, as in Go.
  Error parse_form();
  const url::Values& form() const;       // empty until parse_form
  const url::Values& post_form() const;  // empty until parse_form
  // The first value of `key` in form(), parsing the form first (with
  // parse_multipart_form(32 MiB), as Go's FormValue; errors are ignored).
  // A view into form(): valid until the request ends; copy it for later.
  std::string_view form_value(std::string_view key);
  // The same in post_form() (Go's PostFormValue), valid as long.
  std::string_view post_form_value(std::string_view key);

  // Go's ParseMultipartForm: reads a multipart/form-data body (RFC 7578)
  // into multipart_form(), files beyond max_memory bytes into temporary
  // files (gone when the request ends), and adds its values to form() and
  // post_form(). errc::not_multipart for another Content-Type.
  Error parse_multipart_form(std::int64_t max_memory);
  const multipart::Form* multipart_form() const;  // null until parsed
  // The first file uploaded under `key` (Go's FormFile), parsing the form
  // first; multipart::errc::missing_file when there is none.
  Result<multipart::FileHeader> form_file(std::string_view key);
  // The body's parts one at a time (Go's MultipartReader): for uploads too
  // large to hold; then parse_multipart_form is refused, and vice versa.
  Result<multipart::Reader*> multipart_reader();

  // The cookie named `name` from the Cookie header fields (RFC 6265 §5.4),
  // or nullopt (Go's ErrNoCookie).
  std::optional<Cookie> cookie(std::string_view name) const;
  // Every cookie sent, in order (Go's Cookies).
  std::vector<Cookie> cookies() const;

  // A copy of this request that owns every byte it refers to (Go's
  // r.Clone): hand it to a goroutine that outlives the handler. Its body
  // reads nothing (read the body first and hand over the bytes); its
  // context is this request's (cancelled when the handler returns) or `ctx`.
  std::shared_ptr<Request> clone() const;
  std::shared_ptr<Request> clone(Context ctx) const;

  Body& body() { return *body_; }
  // Replaces the body the handler reads (Go's `r.Body = …`, as
  // max_bytes_handler does); `body` must outlive its use.
  void set_body(Body& body) noexcept { body_ = &body; }
  // Done when the client goes away, the server shuts down or the handler
  // returns (Go's Request.Context). Made on first use, so a handler that
  // never asks costs nothing; from then on the server watches the
  // connection for the client going away, once the body has been read to
  // its end (as Go does: a read that finds EOF or a reset cancels it).
  const Context& context() const;
  // Replaces the request's context (Go's WithContext, in place).
  void set_context(Context ctx) {
    context_ = std::move(ctx);
    context_source_ = nullptr;
  }

 private:
  friend struct detail::RequestAccess;
  detail::RequestExtras& extras() const;

  Body* body_ = nullptr;
  Context context_;
  // If set, the connection makes the context on first use (context_ unused).
  detail::RequestContextSource* context_source_ = nullptr;
  std::vector<std::pair<std::string, std::string>> path_values_;
  // url(), forms, multipart: made on first use, dropped when the request ends.
  mutable std::unique_ptr<detail::RequestExtras> extras_;
};

// What ResponseWriter::write and send_file return: the bytes taken, and an
// error. Unlike Result it is not [[nodiscard]]: a handler may write and move
// on, as Go's handlers ignore the error of ResponseWriter.Write — a failed
// write means the client is gone or too slow, and the server sees the same
// error on the connection and ends it. A handler that produces a long body
// checks it to stop early.
struct WriteResult {
  std::size_t value = 0;
  Error err{};

  explicit operator bool() const noexcept { return !err; }
};

// How a handler answers (Go's http.ResponseWriter).
class ResponseWriter {
 public:
  virtual ~ResponseWriter() = default;
  virtual HeaderMap& header() = 0;
  // Sends the status line and headers (once; later calls are ignored). If
  // the handler never calls it, the first write sends 200. A 1xx code
  // other than 101 sends an interim response at once, with the header
  // fields set so far (e.g. 103 Early Hints with Link), and may be
  // repeated before the final code; HTTP/1.0 clients get none (RFC 9110
  // §15.2).
  virtual void write_header(int code) = 0;
  // Appends body bytes. The response is buffered; if the whole body fits in
  // the buffer it is sent with Content-Length, otherwise chunked.
  virtual WriteResult write(std::string_view data) = 0;
  // Sends what is buffered now.
  virtual Error flush() = 0;
  // Appends `count` bytes of the open file `fd` from `offset` to the body.
  // A server connection sends them with sendfile(2) (no copy through user
  // space) when the handler set Content-Length and Content-Type and the
  // bytes are more than the write buffer holds; this default reads them
  // with pread(2) and write()s them.
  virtual WriteResult send_file(int fd, std::int64_t offset, std::size_t count);

  // The writer this one wraps, or nullptr (Go's Unwrap convention): how
  // ResponseController reaches what a middleware's writer does not offer.
  virtual ResponseWriter* unwrap() noexcept { return nullptr; }
  // Bounds the writes of this response (Go's SetWriteDeadline through a
  // ResponseController); Deadline{} removes it. The server's connection
  // has it, and clears it when the response is done; this default returns
  // errc::not_supported.
  virtual Error set_write_deadline(net::Deadline deadline);
  // Takes the connection out of HTTP (Go's Hijacker.Hijack through a
  // ResponseController): from then on the caller owns it — bytes the
  // server had read past the request come first from read(), the server
  // no longer closes it on shutdown nor waits for it, and this writer's
  // write/flush return errc::hijacked. What the handler wrote before is
  // sent first. The server's connection has it (HTTP/1.x, plain or TLS);
  // this default returns errc::not_supported.
  virtual Result<std::unique_ptr<RawConn>> hijack();
};

// A middleware's writer, forwarding everything to the writer it wraps (in
// Go, what embedding http.ResponseWriter gives). Derive from it and
// override only what the middleware changes:
//
// ```cpp
// struct StatusRecorder : gofer::http::ResponseWriterWrapper {
//   using ResponseWriterWrapper::ResponseWriterWrapper;
//   int status = gofer::http::status_ok;
//   void write_header(int code) override {
//     status = code;
//     ResponseWriterWrapper::write_header(code);
//   }
// };
// ```
//
// The wrapped writer must outlive the wrapper (it does when both live in
// the handler's frame). unwrap() returns it, so a ResponseController made
// on the wrapper reaches the connection.
class ResponseWriterWrapper : public ResponseWriter {
 public:
  explicit ResponseWriterWrapper(ResponseWriter& inner) noexcept : inner_(&inner) {}
  HeaderMap& header() override { return inner_->header(); }
  void write_header(int code) override { inner_->write_header(code); }
  WriteResult write(std::string_view data) override { return inner_->write(data); }
  Error flush() override { return inner_->flush(); }
  WriteResult send_file(int fd, std::int64_t offset, std::size_t count) override {
    return inner_->send_file(fd, offset, count);
  }
  ResponseWriter* unwrap() noexcept override { return inner_; }
  Error set_write_deadline(net::Deadline deadline) override {
    return inner_->set_write_deadline(deadline);
  }
  Result<std::unique_ptr<RawConn>> hijack() override { return inner_->hijack(); }

 private:
  ResponseWriter* inner_;
};

// Go 1.20's http.ResponseController: what a handler asks of the
// connection under any number of middleware writers. Each call goes to the
// outermost writer that supports it, following unwrap() past those that
// return errc::not_supported. Not offered yet: SetReadDeadline
// (the server's own use of the read deadline, to see a client go away
// while the handler runs, would have to yield to the handler's), and
// EnableFullDuplex (reads and writes already interleave on HTTP/1.1 here).
class ResponseController {
 public:
  explicit ResponseController(ResponseWriter& w) noexcept : w_(&w) {}
  // Sends what is buffered now (Go's Flush / FlushError).
  Error flush();
  // Go's SetWriteDeadline: errc::not_supported if no writer in the chain
  // has one.
  Error set_write_deadline(net::Deadline deadline);
  // Go's Hijack: the connection, out of HTTP (ResponseWriter::hijack);
  // errc::not_supported if no writer in the chain can.
  Result<std::unique_ptr<RawConn>> hijack();

 private:
  ResponseWriter* w_;
};

using Handler = std::function<void(ResponseWriter&, Request&)>;

// Escapes & < > " ' for HTML text and attribute values.
std::string html_escape(std::string_view s);

// Replies with the status text as a plain-text body (Go's http.Error).
void error(ResponseWriter& w, std::string_view message, int code);
void not_found(ResponseWriter& w, Request& r);
// A redirect to `url` (absolute path or URL) with `code` (3xx).
void redirect(ResponseWriter& w, Request& r, std::string_view url, int code);

// Adds a Set-Cookie header field for `cookie` (Go's http.SetCookie); a
// cookie whose name is not a token is dropped, as Go drops it.
void set_cookie(ResponseWriter& w, const Cookie& cookie);

// Counters of a Server since it started serving (for /metrics).
struct ServerStats {
  std::uint64_t connections_accepted = 0;
  std::size_t open_connections = 0;
  // Of those, connections idle long enough to be parked in the poller (see
  // idle_park_after): no goroutine stack, no buffers (the poller starts
  // their goroutine when the next request arrives).
  std::size_t parked_connections = 0;
  std::uint64_t bytes_read = 0;     // request bytes, heads and bodies
  std::uint64_t bytes_written = 0;  // response bytes, heads and bodies
  struct Count {
    std::string_view method;  // GET, HEAD, POST, PUT, DELETE, PATCH, OPTIONS, or OTHER
    int code = 0;
    std::uint64_t count = 0;
  };
  std::vector<Count> requests;  // non-zero counts only
  // Request latency, from a complete head to the response sent: upper
  // bounds (seconds) and the number of requests at or under each.
  std::vector<double> latency_bounds;
  std::vector<std::uint64_t> latency_cumulative;
  double latency_sum_seconds = 0;
  std::uint64_t latency_count = 0;
};

class Server {
 public:
  std::string addr = ":8080";
  Handler handler;
  // Time to read a request's head (stops slowloris); 0 = none.
  std::chrono::nanoseconds read_header_timeout = std::chrono::seconds(10);
  // Time to read the whole request, head and body; 0 = none.
  std::chrono::nanoseconds read_timeout{0};
  // Time to write a response; 0 = none.
  std::chrono::nanoseconds write_timeout{0};
  // How long a keep-alive connection may wait for its next request.
  std::chrono::nanoseconds idle_timeout = std::chrono::seconds(120);
  // A connection idle this long — kept alive after a response, or new and
  // silent — is parked: its goroutine exits, its stack and buffers go back
  // to their pools, and the poller starts a new goroutine when the next
  // request arrives (about 2 KiB per idle connection instead of a stack and
  // ~20 KiB). Its idle or read-header timeout keeps running. A busy client
  // sends its next request well within it and never pays for the round
  // trip through the poller. 0: never park.
  std::chrono::nanoseconds idle_park_after = std::chrono::milliseconds(250);
  std::size_t max_header_bytes = 1 << 20;
  // HTTP/2 (RFC 9113) with the same handlers: offered by ALPN on TLS
  // listeners ("h2" before "http/1.1" when tls_config.next_protos is
  // empty, as Go does), and on plaintext listeners to a client that opens
  // with HTTP/2's preface (h2c with prior knowledge, RFC 9113 §3.3).
  // r.proto() says "HTTP/2.0". false: HTTP/1.x only.
  bool http2 = true;
  // On shutdown(), a connection idle between requests may still send one
  // more request within this long; it is answered with "Connection: close"
  // and the connection ends, as does one that sends nothing. A keep-alive
  // client whose next request crossed the shutdown on the wire so gets its
  // answer instead of a reset (RFC 9112 §9.6 lets a server close an idle
  // connection; this narrows the race to clients quiet for this long).
  // 0: idle connections are closed at once, as Go's Shutdown does.
  std::chrono::nanoseconds shutdown_idle_wait = std::chrono::milliseconds(500);
  // A line per response (and per request answered with an error before a
  // handler ran), if set. See gofer/http/access_log.h.
  std::shared_ptr<AccessLog> access_log;

  Server();
  Server(Server&&) = delete;
  ~Server();

  // HTTPS (Go's TLSConfig): certificates chosen by SNI, versions, cipher
  // suites, ALPN, session tickets, client certificates. serve_tls and
  // listen_and_serve_tls load it; empty next_protos means {"h2",
  // "http/1.1"} ({"http/1.1"} without http2).
  tls::Config tls_config;

  // Listens on addr ("tcp") and serves until shutdown() or close().
  // Returns errc::server_closed after a shutdown, like Go's ErrServerClosed.
  Error listen_and_serve();
  Error serve(net::Listener& listener);
  // The same over TLS (Go's ListenAndServeTLS and ServeTLS): the key pair
  // in the files, when given, is added to tls_config's certificates. A
  // configuration that does not load returns its tls::errc (load the
  // config yourself with tls::ServerConfig::load for the message, and pass
  // it to the overload). Each connection's handshake runs in its own
  // goroutine, bounded by the smallest of read_header_timeout, read_timeout
  // and write_timeout (as Go's), so a slow client never holds the accept
  // loop.
  Error listen_and_serve_tls(std::string_view cert_file = {}, std::string_view key_file = {});
  Error serve_tls(net::Listener& listener, std::string_view cert_file = {},
                  std::string_view key_file = {});
  Error serve_tls(net::Listener& listener, std::shared_ptr<tls::ServerConfig> config);
  // The checked configuration serve_tls loads from tls_config (with the
  // default ALPN list), for callers that want the error's message.
  tls::LoadResult<std::shared_ptr<tls::ServerConfig>> load_tls_config(
      std::string_view cert_file = {}, std::string_view key_file = {}) const;
  // Replaces the certificates of every TLS listener being served by the key
  // pair in the files (what `gofer serve` does on SIGHUP): handshakes that
  // start afterwards use it, open connections keep theirs. On error
  // nothing changes.
  tls::LoadError reload_certificates(std::string_view cert_file, std::string_view key_file);
  // Go's Shutdown: stops accepting (listen_and_serve and serve return
  // errc::server_closed at once), cancels the contexts of requests in
  // flight, closes idle connections, lets the requests in flight finish,
  // and returns {} when every connection is gone. If `ctx` ends first it
  // returns ctx.err() (context_errc::deadline_exceeded or ::canceled) and,
  // as Go's does, leaves the connections still open alone: close() ends
  // them. A graceful stop on SIGTERM (gofer/signal.h):
  //
  // ```cpp
  // gofer::http::Server server;
  // auto sigs = gofer::make_chan<int>(1);
  // gofer::signal::notify(sigs, SIGTERM);
  // gofer::go([&] {
  //   (void)sigs.recv();
  //   auto [ctx, cancel] = gofer::with_timeout(gofer::background(), std::chrono::seconds(10));
  //   if (server.shutdown(ctx)) (void)server.close();  // past 10 s: end the rest
  //   cancel();
  // });
  // ```
  Error shutdown(const Context& ctx);
  // The same bounded by a deadline (Deadline{}: none): at the deadline it
  // closes the connections still open and returns net::errc::timeout.
  Error shutdown(net::Deadline deadline);
  // Closes the listeners and every connection now.
  Error close();

  // Connections being served now.
  std::size_t open_connections() const;
  ServerStats stats() const;

 private:
  Error serve_conns(net::Listener& listener, std::shared_ptr<tls::ServerConfig> tls_config);

  struct State;
  std::unique_ptr<State> state_;
};

// Errors of the http layer.
enum class errc {
  server_closed = 1,  // Go's http.ErrServerClosed
  body_too_large,     // read_all beyond its limit / MaxBytesReader
  handler_timeout,
  not_multipart,       // Go's ErrNotMultipart: the Content-Type is not multipart/form-data
  missing_boundary,    // Go's ErrMissingBoundary
  post_too_large,      // parse_form: an urlencoded body past kMaxFormBytes ("http: POST too large")
  multipart_conflict,  // multipart_reader and parse_multipart_form both used on one request
  not_supported,       // Go's ErrNotSupported: no writer in the chain offers it
  hijacked,            // Go's ErrHijacked: a write after the connection was hijacked
};

// Thrown by a handler to end its response at once, without the server
// logging it (Go's panic(http.ErrAbortHandler)): the connection closes
// with what was sent so far, so the client sees the response cut short —
// no final chunk, fewer bytes than the Content-Length — never a complete
// one. A reverse proxy throws it when its upstream fails mid-body.
struct AbortHandler : std::exception {
  const char* what() const noexcept override { return "net/http: abort Handler"; }
};
const std::error_category& http_category() noexcept;
inline std::error_code make_error_code(errc e) noexcept {
  return {static_cast<int>(e), http_category()};
}

}  // namespace gofer::http

template <>
struct std::is_error_code_enum<gofer::http::errc> : std::true_type {};
