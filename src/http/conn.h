// One served connection: its goroutine's state between and during requests.
// Private to the http layer (server.cpp, conn.cpp, response.cpp, body.cpp).
//
// Buffers belong to the connection and are reused for every request on it:
// the read buffer holds the request head (the Request's views point into
// it) and any pipelined bytes after it; the write buffer holds the response
// head and, while it fits, the body. A steady-state keep-alive request costs
// one read and one write, and allocates nothing.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>

#include "gofer/context.h"
#include "gofer/http/server.h"
#include "gofer/net.h"
#include "gofer/sync.h"

namespace gofer::http::detail {

struct ServerState;

// What an active connection reads into: its read buffer and the head's
// fields (views into it), in one block from a pool that keeps a few blocks
// and gives the pages of the others back to the OS (conn_buffers.cpp) — so
// that connections parked idle by the thousand leave no memory behind.
struct ConnBuffers {
  static constexpr std::size_t kReadBytes = 8 << 10;
  static constexpr std::size_t kMaxHeaderFields = 100;
  char read[kReadBytes];  // not initialised
  Header headers[kMaxHeaderFields];
  Header trailers[16];  // a chunked body's trailer fields

  static ConnBuffers* acquire();
  static void release(ConnBuffers* b) noexcept;
};

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
  // Makes sure the read buffer has new bytes after `pending`; false on error.
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
  Result<std::size_t> write(std::string_view data) override;
  Error flush() override;

  void reset(bool head_request, bool keep_alive, int proto_minor);
  // After the handler: sends what is left (headers if never sent, the
  // buffered body with Content-Length, or the final chunk).
  Error finish();
  bool wrote_header() const noexcept { return header_sent_; }
  bool close_after() const noexcept { return close_after_; }
  void set_close_after() noexcept { close_after_ = true; }
  int status() const noexcept { return status_; }
  std::uint64_t body_bytes() const noexcept { return body_written_; }
  std::uint64_t bytes_out() const noexcept { return bytes_out_; }

 private:
  // Formats the status line and header fields into the write buffer.
  void write_head(bool final_body_known);
  // Sends a 1xx interim response at once (RFC 9110 §15.2).
  void write_informational(int code);
  // Into `head`: the status line and the handler's fields, without
  // Transfer-Encoding (the server decides it) and, unless asked, without
  // Content-Length.
  void append_status_and_fields(std::string& head, int code, bool with_content_length) const;
  Error send_buffered();

  struct ServedConn* conn_;
  HeaderMap header_;
  int status_ = 0;
  bool head_request_ = false;
  bool keep_alive_ = true;
  int proto_minor_ = 1;
  bool header_sent_ = false;  // head formatted into the write buffer
  bool chunked_ = false;
  bool close_after_ = false;
  bool body_allowed_ = true;
  std::int64_t declared_length_ = -1;  // Content-Length set by the handler
  std::uint64_t body_written_ = 0;
  std::uint64_t bytes_out_ = 0;  // bytes sent for this response
};

struct ServedConn final : RequestContextSource {
  ServedConn(std::shared_ptr<ServerState> server, net::Conn conn);
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
  enum class End { closed, parked };
  End serve();

  // Request::context(): the request's own context, made on first use (any
  // goroutine may ask). Asked on the connection's goroutine with the body
  // read to its end, it also starts watching for the client going away.
  const Context& request_context() override;
  // The body reached its end: watch now if the context was asked for.
  void body_finished();

  // Reads more bytes into the read buffer (growing it up to the limit).
  // Returns bytes read, or an error (EOF, timeout, closed).
  Result<std::size_t> read_more();
  // Doubles the read buffer while a request is being served, moving the
  // Request's views (and the parser's) along with the bytes.
  void grow_read_buffer();

  std::shared_ptr<ServerState> server;
  net::Conn conn;
  int fd = -1;  // conn's fd number, for the trace (runtime/trace.h)

  // Read buffer: [0, rlen) holds bytes received; the current request's head
  // starts at 0 and `rpos` is where unconsumed bytes (body, next request)
  // start.
  char* rbuf = nullptr;  // bufs->read, or grown.get() once a head outgrew it
  std::size_t rcap = 0;
  std::size_t rlen = 0;
  std::size_t rpos = 0;
  std::size_t head_end = 0;  // end of the current request's head

  std::string wbuf;  // response body bytes not yet written
  std::string head;  // the response head, once formatted

  Request request;
  ConnBody body{this};
  ConnResponse response{this};
  // The read buffer and the parsed head's fields, from a pool; none while
  // the connection is parked idle.
  ConnBuffers* bufs = nullptr;
  std::unique_ptr<char[]> grown;  // a read buffer larger than bufs->read

  // Idle between requests (Shutdown closes such connections at once).
  std::atomic<bool> idle{false};
  std::uint64_t requests = 0;

 private:
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

  // 0: not made, 1: being made, 2: made (then ctx and cancel are set and
  // only read until end_request_context, after the handler returned).
  // Set by park_idle for the goroutine the poller starts: the idle timeout
  // runs on from where it was, it does not start over.
  bool resumed_ = false;
  net::Deadline parked_idle_deadline_{};

  std::atomic<int> ctx_state_{0};
  Context ctx_;
  CancelFunc cancel_;
  std::uint64_t serve_goid_ = 0;  // the connection's goroutine
  std::atomic<bool> watching_{false};
  std::atomic<bool> watch_stopping_{false};
  WaitGroup watch_done_;
  // Written by the watch before watch_done_.done(), read after wait().
  std::size_t watch_bytes_ = 0;
  bool watch_ended_conn_ = false;  // it saw EOF or an error
};

// Writes a response to a request the server could not parse, then the
// caller closes the connection.
void write_error_response(net::Conn& conn, int code, std::string_view reason);

// The Date header value for now ("Mon, 02 Jan 2006 15:04:05 GMT"),
// formatted at most once a second per thread.
std::string_view http_date_now();

}  // namespace gofer::http::detail
