// One HTTP/2 stream as its handler sees it: the Request, its Body and the
// ResponseWriter (RFC 9113 §8). Private to the http layer.
//
// Two goroutines share a stream: the connection's (h2/session.cpp), which
// alone touches the nghttp2 session and the socket, and the stream's
// handler. They meet in the fields under "shared" below, guarded by the
// session's mutex (a gofer::Mutex, never held across a park):
//   - request body: the connection appends DATA payloads to `in`; the
//     handler takes bytes from it and counts them in `consumed`, which the
//     connection turns into WINDOW_UPDATEs. So a handler that does not read
//     stops the client once the stream window (64 KiB) is full.
//   - response: the handler appends to `out` (at most kMaxOut bytes; a
//     handler that would go past it parks); the connection's DATA frames
//     take from it as the peer's flow-control window allows.
// Each side wakes the other: the handler through the session's pending
// list and kick channel, the connection through the stream's `wake`
// channel (capacity 1, so a wake-up sent before the other side parks is
// not lost; both sides re-check the state after a wake-up).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "gofer/chan.h"
#include "gofer/context.h"
#include "gofer/http/server.h"

namespace gofer::http::detail::h2 {

class Session;

class Stream final : public Body,
                     public ResponseWriter,
                     public std::enable_shared_from_this<Stream> {
 public:
  // Response bytes a handler may have queued and not yet sent; past it,
  // write() parks until DATA frames take some (server memory per stream
  // stays bounded even if the peer never opens its window).
  static constexpr std::size_t kMaxOut = 64 << 10;

  Stream(Session* session, std::int32_t id) : id(id), session_(session) {}

  // --- Body
  Result<std::size_t> read(std::span<char> buf) override;

  // --- ResponseWriter
  HeaderMap& header() override { return header_; }
  // 1xx codes are not sent over HTTP/2 yet: they are ignored.
  void write_header(int code) override;
  WriteResult write(std::string_view data) override;
  Error flush() override;

  // Runs on the handler's goroutine: the handler, then the end of the
  // response (a 500 if it threw before writing).
  void serve(const Handler& handler);

  // --- Set by the connection goroutine before the handler starts; then
  // read-only (the handler reads them through `request`).
  const std::int32_t id;
  Request request;
  std::string method, scheme, authority, path;
  std::string arena;  // header names and values
  struct FieldSpan {
    std::size_t name_off, name_len, value_off, value_len;
  };
  std::vector<FieldSpan> field_spans;  // into arena (which may still grow)
  std::vector<Header> fields;          // views into arena, made once it is whole
  std::string cookie;                  // split cookie fields, joined (§8.2.3)
  std::size_t header_list_bytes = 0;   // RFC 9113 §6.5.2 size so far
  bool header_list_too_large = false;
  bool refused = false;  // the handler never runs: REFUSED_STREAM
  std::int64_t started_ns = 0;
  Context ctx;
  CancelFunc cancel;
  // The connection's own state of the stream (its goroutine only).
  bool response_submitted = false;
  bool handler_done_seen = false;
  bool closed = false;  // nghttp2 closed the stream
  std::uint64_t bytes_in = 0;

  // --- Shared (guarded by Session::mu) ---
  std::string in;  // request body bytes the handler has not read
  std::size_t in_off = 0;
  bool in_eof = false;       // END_STREAM received
  bool reset = false;        // the stream ended early: reads and writes fail
  bool aborted = false;      // the handler threw mid-body: RST_STREAM(INTERNAL_ERROR)
  std::size_t consumed = 0;  // bytes read by the handler, not yet acknowledged
  std::size_t unacked = 0;   // bytes received and not yet acknowledged (consumed)
  std::string out;           // response bytes not yet in a DATA frame
  std::size_t out_off = 0;
  bool headers_ready = false;  // status and fields below are final
  int status = 0;
  std::vector<std::pair<std::string, std::string>> response_fields;
  bool out_eof = false;  // the handler returned: no more bytes
  bool handler_done = false;
  bool queued = false;           // in the session's pending list
  std::uint64_t bytes_out = 0;   // DATA payload sent so far
  std::uint64_t body_bytes = 0;  // what the handler wrote (none sent for HEAD)

  // The handler parks on it (capacity 1); the connection try_sends.
  Chan<Empty> wake = make_chan<Empty>(1);

 private:
  // Freezes the status and fields into response_fields (handler side,
  // under the lock). `final_length`: the whole body, for Content-Length.
  void freeze_headers(std::int64_t final_length);
  // Tells the connection this stream has news (under the lock).
  void notify_locked();
  WriteResult append(std::string_view data);

  Session* session_;
  HeaderMap header_;
  int code_ = 0;            // write_header's code; 200 if never called
  bool head_ = false;       // HEAD: the body is not sent
  bool committed_ = false;  // headers frozen (handler side)
  std::uint64_t body_written_ = 0;
  std::string sniff_;  // the first bytes, for Content-Type sniffing
};

}  // namespace gofer::http::detail::h2
