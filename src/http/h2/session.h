// An HTTP/2 connection (RFC 9113), server side, on nghttp2's session API:
// nghttp2 does the framing, HPACK (RFC 7541), stream states and flow
// control; this file runs it in gofer's model. Private to the http layer.
//
// Goroutines. The connection's goroutine (the ServedConn's) owns the
// nghttp2 session and is the only one to write to the socket. A reader
// goroutine reads from the ConnIO and hands the bytes over a channel, so
// that the connection goroutine can wait in one select for bytes, for news
// from handlers (the kick channel) and for the server's shutdown. Each
// stream's handler runs in a goroutine of its own (h2/stream.h). Nothing
// blocks a thread: every wait parks in the netpoller or on a channel.
//
// Limits (each tested in src/http/tests/h2_test.cpp):
//   - SETTINGS_MAX_CONCURRENT_STREAMS kMaxConcurrentStreams; a stream past
//     it gets RST_STREAM(REFUSED_STREAM) (nghttp2), as does one whose
//     handler could not start because too many reset streams' handlers
//     still run.
//   - header list: SETTINGS_MAX_HEADER_LIST_SIZE = Server::max_header_bytes;
//     a larger list (an HPACK bomb decodes to one) stops being stored and
//     is answered 431, as Go does; the dynamic table stays nghttp2's 4 KiB.
//   - CONTINUATION: at most 8 after a HEADERS (nghttp2, CVE-2024-27316).
//   - rapid reset (CVE-2023-44487): a token bucket over RST_STREAMs (200,
//     then 33/s), then GOAWAY(ENHANCE_YOUR_CALM); a reset stream's handler
//     still counts against kMaxHandlers until it returns.
//   - PING, SETTINGS, PRIORITY and empty DATA frames: another bucket
//     (1000, then 100/s); a client that does not read the ACKs it asks
//     for hits nghttp2's limit of 1000 queued ACKs first.
//   - a connection error found by nghttp2 (a bad preface, a flood it
//     caught) still sends a GOAWAY before the close.
//   - idle: no stream for Server::idle_timeout ends the connection with
//     GOAWAY(NO_ERROR).
#pragma once

#include <nghttp2/nghttp2.h>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "gofer/chan.h"
#include "gofer/sync.h"
#include "http/h2/flood_guard.h"
#include "http/h2/stream.h"

namespace gofer::http::detail {
struct ServedConn;
}

namespace gofer::http::detail::h2 {

inline constexpr std::string_view kClientPreface = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
inline constexpr std::uint32_t kMaxConcurrentStreams = 100;

// Serves the connection as HTTP/2 until it ends. `already_read`: bytes read
// before the protocol was known (the client preface of an h2c connection).
void serve(ServedConn& conn, std::string_view already_read);

class Session {
 public:
  explicit Session(ServedConn& conn);
  ~Session();
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  void run(std::string_view already_read);

  // --- For streams (any goroutine)
  gofer::Mutex mu;
  // Streams with news for the connection goroutine; guarded by mu.
  std::vector<std::shared_ptr<Stream>> pending;
  // Capacity 1: "look at pending".
  Chan<Empty> kick = make_chan<Empty>(1);
  ServedConn& conn;

 private:
  struct ReadChunk {
    std::string bytes;
    Error err;
  };
  static int on_begin_headers(nghttp2_session*, const nghttp2_frame* frame, void* self);
  static int on_header(nghttp2_session*, const nghttp2_frame* frame, const std::uint8_t* name,
                       std::size_t namelen, const std::uint8_t* value, std::size_t valuelen,
                       std::uint8_t flags, void* self);
  static int on_frame_recv(nghttp2_session*, const nghttp2_frame* frame, void* self);
  static int on_data_chunk_recv(nghttp2_session*, std::uint8_t flags, std::int32_t stream_id,
                                const std::uint8_t* data, std::size_t len, void* self);
  static int on_stream_close(nghttp2_session*, std::int32_t stream_id, std::uint32_t error_code,
                             void* self);
  static int on_frame_send(nghttp2_session*, const nghttp2_frame* frame, void* self);
  static ssize_t read_response(nghttp2_session*, std::int32_t stream_id, std::uint8_t* buf,
                               std::size_t length, std::uint32_t* data_flags,
                               nghttp2_data_source* source, void* self);

  Stream* stream_of(std::int32_t id);
  // The request's head is complete: validate it and start the handler.
  void start_stream(Stream& s);
  // What handlers reported: bytes read (WINDOW_UPDATE), response headers,
  // more response bytes, handler done.
  void handle_pending();
  void submit_response(Stream& s, bool no_body);
  // Hands bytes read to nghttp2; false on a connection error (a GOAWAY
  // is then queued).
  [[nodiscard]] bool receive(std::string_view bytes);
  // Every frame nghttp2 has queued, written to the socket. False if the
  // write failed.
  [[nodiscard]] bool flush();
  // Goes to GOAWAY(code) and stops reading.
  void go_away(std::uint32_t code);
  void update_idle();
  // The end: every stream reset, every handler waited for, the reader too.
  void finish();
  void record(Stream& s);

  nghttp2_session* session_ = nullptr;
  std::unordered_map<std::int32_t, std::shared_ptr<Stream>> streams_;
  std::size_t handlers_running_ = 0;
  WaitGroup handlers_;
  Chan<ReadChunk> reads_ = make_chan<ReadChunk>(2);
  bool reader_done_ = false;
  bool draining_ = false;  // GOAWAY sent on shutdown
  bool idle_armed_ = false;
  std::string wbuf_;
  // PING, SETTINGS, PRIORITY, empty DATA: far above what browsers send.
  FloodGuard flood_{1000, 100};
  // RST_STREAMs from the client (CVE-2023-44487). Go and nghttp2 allow a
  // similar order; nghttp2's own limiter stays as a backstop, but it says
  // INTERNAL_ERROR where RFC 9113 §10.5 asks for ENHANCE_YOUR_CALM.
  FloodGuard resets_{200, 33};
};

}  // namespace gofer::http::detail::h2
