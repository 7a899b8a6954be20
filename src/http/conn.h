// One served connection: its goroutine's state between and during requests.
// Private to the http layer (server.cpp, conn.cpp, response.cpp, body.cpp).
//
// Buffers belong to the connection and are reused for every request on it:
// the read buffer (read_buffer.h) holds the request head (the Request's
// views point into it) and any pipelined bytes after it; the response's
// write buffer holds the response head and, while it fits, the body. A
// steady-state keep-alive request costs one read and one writev, and
// allocates nothing. Every socket operation goes through ConnIO
// (conn_io.h).
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>

#include "gofer/context.h"
#include "gofer/http/raw_conn.h"
#include "gofer/http/server.h"
#include "gofer/net.h"
#include "gofer/sync.h"
#include "http/conn_io.h"
#include "http/read_buffer.h"
#include "http/request_access.h"
#include "http/tls_conn_io.h"

namespace gofer::http::detail {

struct ServerState;

// The request body as the handler reads it: Content-Length or chunked,
// taking bytes left in the read buffer first, then from the socket.
class ConnBody final : public Body {
 public:
  explicit ConnBody(struct ServedConn* conn) : conn_(conn) {}
  Result<std::size_t> read(std::span<char> buf) override;

  void start(const Framing& framing);
  bool finished() const noexcept { return finished_; }
  // The handler answered "100 Continue" itself (a 1xx from write_header).
  void continue_sent() noexcept { continue_pending_ = false; }
  std::uint64_t bytes_read() const noexcept { return bytes_; }
  // Reads and drops the rest of the body, up to `limit` bytes. True if the
  // body ended within the limit (the connection can then carry on).
  bool drain(std::size_t limit);

 private:
  Result<std::size_t> read_chunked(std::span<char> buf);
  // Reads more bytes into the read buffer, making room first (dropping what
  // the body consumed, then growing). An early EOF is connection_aborted.
  Error fill();

  struct ServedConn* conn_;
  Framing::Body kind_ = Framing::Body::none;
  std::uint64_t remaining_ = 0;
  bool finished_ = true;
  bool continue_pending_ = false;  // "100 Continue" not sent yet
  ChunkedDecoder chunked_;
  std::size_t data_off_ = 0;  // decoded chunk data not yet handed out
  std::size_t data_len_ = 0;
  Error sticky_;             // an error seen by read; later reads return it again
  std::uint64_t bytes_ = 0;  // body bytes handed to the handler
};

// What the handler writes to (Go's http.response).
class ConnResponse final : public ResponseWriter {
 public:
  explicit ConnResponse(struct ServedConn* conn) : conn_(conn) {}
  HeaderMap& header() override { return header_; }
  void write_header(int code) override;
  WriteResult write(std::string_view data) override;
  Error flush() override;
  // With sendfile(2) when the bytes may leave as they are (see response.cpp);
  // else as ResponseWriter's default (read, then write).
  WriteResult send_file(int fd, std::int64_t offset, std::size_t count) override;
  // The connection's write deadline, for this response (ResponseController).
  Error set_write_deadline(net::Deadline deadline) override;
  // The handler set a write deadline: it goes when the response is done.
  bool handler_set_write_deadline() const noexcept { return handler_write_deadline_; }
  // The connection leaves the server (hijack.cpp).
  Result<std::unique_ptr<RawConn>> hijack() override;

  void reset(bool head_request, bool keep_alive, int proto_minor);
  // After the handler: sends what is left (headers if never sent, the
  // buffered body with Content-Length, or the final chunk).
  [[nodiscard]] Error finish();
  bool wrote_header() const noexcept { return header_sent_; }
  bool close_after() const noexcept { return close_after_; }
  void set_close_after() noexcept { close_after_ = true; }
  int status() const noexcept { return status_; }
  std::uint64_t body_bytes() const noexcept { return body_written_; }
  // Body bytes that left (none for HEAD): the access log's count.
  std::uint64_t body_bytes_sent() const noexcept { return head_request_ ? 0 : body_written_; }
  std::uint64_t bytes_out() const noexcept { return bytes_out_; }
  // A connection parked idle keeps no buffer.
  void release_buffers() noexcept;

 private:
  // Formats the status line and header fields into head_.
  void write_head(bool final_body_known);
  // Sends a 1xx interim response at once (RFC 9110 §15.2).
  void write_informational(int code);
  // Into head_: the status line and the handler's fields, without
  // Transfer-Encoding (the server decides it) and, unless asked, without
  // Content-Length.
  void append_status_and_fields(int code, bool with_content_length);
  Error send_buffered();
  // The handler declared trailers ("Trailer", or a "Trailer:" field) to
  // an HTTP/1.1 client: the body is chunked.
  bool has_trailers() const;
  // The trailer fields, as lines, after the last chunk.
  void append_trailers(std::string& out) const;

  struct ServedConn* conn_;
  HeaderMap header_;
  // The write buffer: reused by every response on the connection.
  std::string head_;  // the response head, once formatted, until sent
  std::string body_;  // body bytes not yet sent
  int status_ = 0;
  bool head_request_ = false;
  bool keep_alive_ = true;
  int proto_minor_ = 1;
  bool header_sent_ = false;  // head formatted into head_
  bool chunked_ = false;
  bool close_after_ = false;
  bool body_allowed_ = true;
  std::int64_t declared_length_ = -1;  // Content-Length set by the handler
  std::uint64_t body_written_ = 0;
  std::uint64_t bytes_out_ = 0;  // bytes sent for this response
  bool handler_write_deadline_ = false;
};

struct ServedConn final : RequestContextSource {
  // With a `tls_config`, the connection is served over TLS: the handshake
  // runs first, in the connection's goroutine.
  ServedConn(std::shared_ptr<ServerState> server, net::Conn conn,
             std::shared_ptr<const tls::ServerConfig> tls_config = nullptr);
  ~ServedConn();
  ServedConn(const ServedConn&) = delete;
  ServedConn& operator=(const ServedConn&) = delete;

  // The body of the connection's goroutine: serve(), then, unless the
  // connection was parked idle, unregister it from the server and free it.
  static void run(ServedConn* c);

  // Requests until the connection closes (`closed`), or until it has been
  // idle for a while (`parked`): then it holds no goroutine, no stack and
  // no buffers, and the poller starts run() again when bytes arrive, the
  // idle timeout passes or the server closes it. After `parked` the
  // returning goroutine must not touch the connection again.
  enum class End { closed, parked, hijacked };
  End serve();

  // Request::context(): the request's own context, made on first use (any
  // goroutine may ask). Asked on the connection's goroutine with the body
  // read to its end, it also starts watching for the client going away.
  const Context& request_context() override;
  // The body reached its end: watch now if the context was asked for.
  void body_finished();

  // Hijack (hijack.cpp): the connection leaves the server's books (it is
  // no longer closed by shutdown nor waited for, as in Go) and the watch
  // stops, keeping what it read. From then on the serving goroutine only
  // returns from the handler (End::hijacked) and the RawConn owns the
  // bytes.
  void detach_for_hijack();
  // Two owners after a hijack, the serving goroutine and the RawConn: the
  // last to let go deletes the connection. True for that one.
  [[nodiscard]] bool release_owner() noexcept {
    return owners_.fetch_sub(1, std::memory_order_acq_rel) == 1;
  }

  // Where every socket operation goes.
  ConnIO& io() noexcept { return *io_; }
  const net::Addr& remote_addr() const noexcept { return remote_addr_; }
  // What the TLS handshake negotiated; null on a plain connection.
  const tls::ConnectionState* tls_state() const noexcept {
    return tls_conn ? &tls_state_ : nullptr;
  }
  // Grows the read buffer, moving the Request's views (and the parsed
  // head's) along with the bytes.
  [[nodiscard]] Error grow_read_buffer();

  std::shared_ptr<ServerState> server;
  // The socket of a plain connection; over TLS it moved into tls_conn.
  // Either way I/O goes through io().
  net::Conn conn;
  tls::Conn tls_conn;  // empty on a plain connection
  int fd = -1;         // the socket's fd number, for the trace (runtime/trace.h)
  ReadBuffer rbuf;
  Request request;
  ConnBody body{this};
  ConnResponse response{this};

  // Idle between requests (Shutdown closes such connections at once).
  // Relaxed: a hint for shutdown, which looks again until the connection is
  // gone; the close it triggers is what the connection's goroutine sees.
  std::atomic<bool> idle{false};
  std::uint64_t requests = 0;
  // Set by hijack() on the goroutine running the handler; read by that
  // goroutine after the handler returns.
  bool hijacked = false;

 private:
  // What became of the wait for a request. `h2`: the bytes read are an
  // HTTP/2 client preface (h2c with prior knowledge, RFC 9113 §3.3).
  enum class Next { request, closed, parked, h2 };
  // Waits for the next request's head and parses it: `request` with `head`
  // and `framing` set; `closed` when the connection ends without one (after
  // answering a malformed head); `parked` when it stayed idle.
  Next read_request(RequestHead& head, Framing& framing, net::Deadline last_request_end);
  // Before the first byte of a request: the idle (or, on a new connection,
  // read-header) deadline, and whether reaching it parks rather than
  // closes. False when the server is shutting down.
  struct IdleWait {
    net::Deadline idle_deadline{};  // when the connection is closed
    bool park_at_deadline = false;  // the deadline set is the earlier park time
  };
  bool begin_idle_wait(IdleWait& wait, net::Deadline last_request_end);
  // The same once the server is shutting down: the wait ends when the
  // shutdown's idle wait does (Server::shutdown_idle_wait); false if it is
  // over (or 0), and the connection closes now.
  bool begin_last_idle_wait(IdleWait& wait);
  // Serves the request read_request returned; false when the connection
  // ends after it. `ended`: when the response was sent.
  bool serve_request(const RequestHead& head, const Framing& framing, net::Deadline& ended);
  // Points the Request at the head's bytes and resets body and response.
  void start_request(const RequestHead& head, const Framing& framing, bool keep_alive);
  // How the handler ended: it returned, it threw (Go's recovered panic), or
  // it threw AbortHandler (Go's panic(ErrAbortHandler)).
  enum class HandlerEnd { returned, threw, aborted };
  HandlerEnd run_handler();
  // The access log's line for the request just answered, if the server
  // has a log; log_unparsed for a request answered before it was parsed.
  void log_response(int status, std::int64_t duration_ns);
  void log_unparsed(int status);
  // The peer as text, made once per connection (only the log asks).
  const std::string& remote_text();

  // The watch (Go's backgroundRead): while the handler runs with nothing
  // left to read, one goroutine reads on; EOF or an error means the client
  // is gone and cancels the request's context, bytes are the next
  // request's and are kept. The handler returning stops it.
  void start_watch();
  // Stops the watch and waits for it; keeps what it read.
  void stop_watch();
  // After the handler: stops the watch and cancels the request's context.
  void end_request_context();
  // Gives the buffers back and leaves the connection to the poller
  // (End::parked). `idle_deadline`: when the idle timeout ends it.
  void park_idle(net::Deadline idle_deadline);

  // Runs the TLS handshake within the handshake timeout; false (and the
  // connection is to be closed) if it failed.
  bool handshake();

  std::string remote_text_;
  NetConnIO net_io_{conn};
  TlsConnIO tls_io_{tls_conn};
  ConnIO* io_ = &net_io_;
  net::Addr remote_addr_;
  bool handshake_pending_ = false;
  tls::ConnectionState tls_state_;  // Request::tls points here once the handshake is done

  // Set by park_idle for the goroutine the poller starts: the idle timeout
  // runs on from where it was, it does not start over.
  bool resumed_ = false;
  net::Deadline parked_idle_deadline_{};

  // The request's context, made on first use by request_context().
  enum class ContextState : int {
    none,    // not made (the handler never asked)
    making,  // one goroutine is making it; others wait for `made`
    made,    // ctx_ and cancel_ are set and only read until
             // end_request_context, after the handler returned
  };
  std::atomic<ContextState> ctx_state_{ContextState::none};
  Context ctx_;
  CancelFunc cancel_;
  std::uint64_t serve_goid_ = 0;  // the connection's goroutine
  std::atomic<bool> watching_{false};
  std::atomic<bool> watch_stopping_{false};
  WaitGroup watch_done_;
  // Written by the watch before watch_done_.done(), read after wait().
  std::size_t watch_bytes_ = 0;
  bool watch_ended_conn_ = false;  // it saw EOF or an error
  // 1, or 2 from a hijack until the serving goroutine or the RawConn lets
  // go (acq_rel: the one that deletes sees the other's last writes).
  std::atomic<int> owners_{1};
};

// Splits the request-target into path and query (RFC 9112 §3.2). An
// absolute-form target ("http://host/path") yields its path and authority.
void split_target(std::string_view target, Request& r);

// Writes a response to a request the server could not parse, then the
// caller closes the connection.
void write_error_response(ConnIO& io, int code, std::string_view reason);

// The Date header value for now ("Mon, 02 Jan 2006 15:04:05 GMT"),
// formatted at most once a second per thread.
std::string_view http_date_now();

}  // namespace gofer::http::detail
