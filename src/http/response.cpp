// ConnResponse: the ResponseWriter of a served connection (Go's
// http.response + chunkWriter).
//
// Trailers, as in Go: the handler declares their names in a "Trailer"
// header before the head leaves and sets their values by the time it
// returns; a field named "Trailer:<name>" is a trailer that was not
// declared. Either way the body is chunked (unless the handler set a
// Content-Length, and then there are no trailers), and the fields go
// after the last chunk (RFC 9112 §7.1.2).
//
// The body is buffered in the connection's write buffer and the head is
// formatted only when it must leave: at the end of the handler (then the
// body's length is known and sent as Content-Length, and head and body go
// out in one writev), when the buffer passes kMaxBuffered, or on flush()
// (then the length is unknown: chunked for HTTP/1.1, close-delimited for
// HTTP/1.0).
#include <sys/uio.h>

#include <charconv>
#include <ctime>
#include <stdexcept>

#include "http/conn.h"
#include "http/http_date.h"
#include "http/server_state.h"
#include "http/sniff.h"
#include "http/syntax.h"

namespace gofer::http::detail {
namespace {

constexpr std::size_t kMaxBuffered = 16 << 10;

// Go's TrailerPrefix: a header field named "Trailer:X" is the trailer X.
constexpr std::string_view kTrailerPrefix = "Trailer:";

bool has_trailer_prefix(std::string_view name) {
  return name.size() > kTrailerPrefix.size() &&
         equal_fold(name.substr(0, kTrailerPrefix.size()), kTrailerPrefix);
}

// Fields that frame the message, never sent as trailers (RFC 9110 §6.5.1).
bool forbidden_trailer(std::string_view name) {
  return equal_fold(name, "Content-Length") || equal_fold(name, "Transfer-Encoding") ||
         equal_fold(name, "Trailer") || equal_fold(name, "Host");
}

// Header names and values must not carry CR or LF (response splitting):
// they are replaced by spaces, as Go does.
void append_clean(std::string& out, std::string_view s) {
  for (char c : s) out.push_back(c == '\r' || c == '\n' ? ' ' : c);
}

}  // namespace

// Formatted at most once a second per thread; the caller copies the view at
// once (no goroutine switch in between), so a thread-local is safe here.
__attribute__((noinline)) std::string_view http_date_now() {
  thread_local std::time_t cached_sec = 0;
  thread_local char cached[32];
  std::time_t now = std::time(nullptr);
  if (now != cached_sec) {
    std::string s = format_http_time(now);
    s.copy(cached, 29);
    cached_sec = now;
  }
  return {cached, 29};
}

void ConnResponse::reset(bool head_request, bool keep_alive, int proto_minor) {
  header_.clear();
  body_.clear();
  status_ = 0;
  head_request_ = head_request;
  keep_alive_ = keep_alive;
  proto_minor_ = proto_minor;
  header_sent_ = false;
  chunked_ = false;
  close_after_ = !keep_alive;
  body_allowed_ = true;
  declared_length_ = -1;
  body_written_ = 0;
  bytes_out_ = 0;
  handler_write_deadline_ = false;
}

Error ConnResponse::set_write_deadline(net::Deadline deadline) {
  handler_write_deadline_ = true;
  return conn_->io().set_write_deadline(deadline);
}

void ConnResponse::release_buffers() noexcept {
  std::string().swap(head_);
  std::string().swap(body_);
  header_ = HeaderMap();
}

void ConnResponse::write_header(int code) {
  if (status_ != 0) return;  // superfluous, as in Go
  if (code < 100 || code > 999) throw std::invalid_argument("http: invalid WriteHeader code");
  if (code >= 100 && code < 200 && code != 101) {
    write_informational(code);
    return;
  }
  status_ = code;
  body_allowed_ = !(code == 204 || code == 304 || code < 200);  // 101: no body (RFC 9110 §6.4.1)
  std::string_view cl = header_.get("Content-Length");
  if (!cl.empty()) {
    if (std::optional<std::int64_t> n = syntax::parse_decimal(cl)) {
      declared_length_ = *n;
    } else {
      header_.del("Content-Length");
    }
  }
}

void ConnResponse::append_status_and_fields(int code, bool with_content_length) {
  std::string& head = head_;
  head.clear();
  head.append("HTTP/1.1 ");
  syntax::append_decimal(head, static_cast<std::uint64_t>(code));
  head.push_back(' ');
  std::string_view text = status_text(code);
  head.append(text.empty() ? "status code" : text);
  head.append("\r\n");
  header_.for_each([&](std::string_view name, std::string_view value) {
    if (!with_content_length && equal_fold(name, "Content-Length")) return;
    if (equal_fold(name, "Transfer-Encoding")) return;  // ours to decide
    if (has_trailer_prefix(name)) return;               // goes after the body
    append_clean(head, name);
    head.append(": ");
    append_clean(head, value);
    head.append("\r\n");
  });
}

void ConnResponse::write_informational(int code) {
  // RFC 9110 §15.2: never to an HTTP/1.0 client (it would take it for the
  // final response).
  if (proto_minor_ == 0) return;
  if (code == 100) conn_->body.continue_sent();  // the client asked; it has its answer
  // The header fields set so far go along (103 Early Hints' Link fields);
  // they stay set for the final response too, as in Go.
  // Content-Length describes the final response's body, not this one's.
  append_status_and_fields(code, /*with_content_length=*/false);
  head_.append("\r\n");
  auto [n, err] = conn_->io().write(head_);
  bytes_out_ += n;
  if (err) close_after_ = true;
}

void ConnResponse::write_head(bool final_body_known) {
  std::string& head = head_;
  append_status_and_fields(status_, body_allowed_);
  if (!header_.has("Date")) {
    head.append("Date: ");
    head.append(http_date_now());
    head.append("\r\n");
  }
  if (body_allowed_ && !header_.has("Content-Type") && body_written_ > 0) {
    head.append("Content-Type: ");
    head.append(detect_content_type(body_));
    head.append("\r\n");
  }
  if (body_allowed_ && declared_length_ < 0) {
    if (final_body_known && !has_trailers()) {
      if (!head_request_ || body_written_ > 0) {
        head.append("Content-Length: ");
        syntax::append_decimal(head, body_written_);
        head.append("\r\n");
      }
    } else if (head_request_) {
      // No body follows a HEAD response (RFC 9110 §9.3.2), so an unknown
      // length needs neither chunking nor a close (as in Go).
    } else if (proto_minor_ >= 1) {
      chunked_ = true;
      head.append("Transfer-Encoding: chunked\r\n");
    } else {
      close_after_ = true;  // HTTP/1.0: the body ends when the connection does
    }
  }
  // A handler's "Connection: close" ends the connection after this
  // response (RFC 9112 §9.6; Go's closeAfterReply), and is sent as it is.
  bool handler_close = token_list_contains(header_.get("Connection"), "close");
  if (handler_close) close_after_ = true;
  // A shutdown that began while the handler ran: this response is the
  // connection's last, and says so (the client opens a new connection for
  // its next request instead of sending it into a closing one).
  if (!close_after_ && conn_->server->shutting_down.load(std::memory_order_relaxed)) {
    close_after_ = true;
  }
  if (close_after_) {
    if (!handler_close) head.append("Connection: close\r\n");
  } else if (proto_minor_ == 0) {
    head.append("Connection: keep-alive\r\n");
  }
  head.append("\r\n");
  header_sent_ = true;
}

Error ConnResponse::send_buffered() {
  std::string& body = body_;
  std::string& head = head_;
  iovec iov[4];
  int n = 0;
  char size_line[24];
  if (!head.empty()) iov[n++] = {head.data(), head.size()};
  if (!body.empty() && !head_request_) {
    if (chunked_) {
      auto [end, ec] = std::to_chars(size_line, size_line + 20, body.size(), 16);
      *end++ = '\r';
      *end++ = '\n';
      iov[n++] = {size_line, static_cast<std::size_t>(end - size_line)};
      iov[n++] = {body.data(), body.size()};
      iov[n++] = {const_cast<char*>("\r\n"), 2};
    } else {
      iov[n++] = {body.data(), body.size()};
    }
  }
  Error err;
  if (n > 0) {
    auto [sent, e] = conn_->io().writev(std::span<const iovec>(iov, n));
    bytes_out_ += sent;
    err = e;
  }
  head.clear();
  body.clear();
  return err;
}

WriteResult ConnResponse::write(std::string_view data) {
  if (conn_->hijacked) return {0, make_error_code(errc::hijacked)};
  if (status_ == 0) write_header(status_ok);
  if (!body_allowed_) return {0, make_error_code(std::errc::operation_not_permitted)};
  std::size_t n = data.size();
  Error err;
  if (declared_length_ >= 0 && body_written_ + n > static_cast<std::uint64_t>(declared_length_)) {
    n = static_cast<std::size_t>(declared_length_) - static_cast<std::size_t>(body_written_);
    err = make_error_code(std::errc::message_size);  // Go's ErrContentLength
  }
  body_written_ += n;
  if (head_request_) return {n, err};
  body_.append(data.data(), n);
  if (body_.size() > kMaxBuffered) {
    if (!header_sent_) write_head(false);
    if (Error e = send_buffered()) return {n, e};
  }
  return {n, err};
}

// sendfile(2) only where nothing else must happen to the bytes: a body the
// handler declared the length of (no chunk framing), a response head that
// needs no sniffed Content-Type, and more bytes than the write buffer takes
// anyway (a small file leaves with the head in one writev, as before).
WriteResult ConnResponse::send_file(int fd, std::int64_t offset, std::size_t count) {
  if (conn_->hijacked) return {0, make_error_code(errc::hijacked)};
  if (status_ == 0) write_header(status_ok);
  bool as_is = body_allowed_ && !head_request_ && declared_length_ >= 0 &&
               (header_sent_ || header_.has("Content-Type")) && body_.size() + count > kMaxBuffered;
  if (!as_is) return ResponseWriter::send_file(fd, offset, count);
  std::size_t want = count;
  Error err;
  auto left = static_cast<std::uint64_t>(declared_length_) - body_written_;
  if (want > left) {
    want = static_cast<std::size_t>(left);
    err = make_error_code(std::errc::message_size);  // as write(): Go's ErrContentLength
  }
  if (!header_sent_) write_head(false);
  if (Error e = send_buffered()) return {0, e};
  auto [sent, e] = conn_->io().send_file(fd, offset, want);
  body_written_ += sent;
  bytes_out_ += sent;
  // A file shorter than asked leaves the declared length unmet: finish()
  // closes the connection after the response.
  if (e) return {sent, e};
  return {sent, err};
}

Error ConnResponse::flush() {
  if (conn_->hijacked) return make_error_code(errc::hijacked);
  if (status_ == 0) write_header(status_ok);
  if (!header_sent_) write_head(false);
  return send_buffered();
}

bool ConnResponse::has_trailers() const {
  bool found = false;
  header_.for_each([&](std::string_view name, std::string_view) {
    found = found || equal_fold(name, "Trailer") || has_trailer_prefix(name);
  });
  return found && proto_minor_ >= 1;
}

void ConnResponse::append_trailers(std::string& out) const {
  auto append_field = [&out](std::string_view name, std::string_view value) {
    if (forbidden_trailer(name)) return;
    append_clean(out, name);
    out.append(": ");
    append_clean(out, value);
    out.append("\r\n");
  };
  header_.for_each([&](std::string_view name, std::string_view value) {
    if (has_trailer_prefix(name)) {
      append_field(name.substr(kTrailerPrefix.size()), value);
      return;
    }
    bool declared = false;
    header_.for_each([&](std::string_view n, std::string_view list) {
      declared = declared || (equal_fold(n, "Trailer") && token_list_contains(list, name));
    });
    if (declared) append_field(name, value);
  });
}

Error ConnResponse::finish() {
  if (status_ == 0) write_header(status_ok);
  if (!header_sent_) {
    // A declared Content-Length the handler did not fill: the client would
    // wait for the missing bytes, so the connection closes after them (Go's
    // shouldReuseConnection; RFC 9112 §8 makes the response incomplete).
    if (declared_length_ >= 0 && body_allowed_ && !head_request_ &&
        body_written_ < static_cast<std::uint64_t>(declared_length_)) {
      close_after_ = true;
    }
    write_head(true);
    if (!chunked_) return send_buffered();  // the common case: one writev
  }
  Error err = send_buffered();
  if (err) return err;
  if (chunked_) {
    std::string& last = head_;  // sent and cleared by send_buffered
    last.assign("0\r\n");
    append_trailers(last);
    last.append("\r\n");
    auto [sent, e] = conn_->io().write(last);
    last.clear();
    bytes_out_ += sent;
    return e;
  }
  if (declared_length_ >= 0 && body_written_ < static_cast<std::uint64_t>(declared_length_)) {
    close_after_ = true;  // the client waits for bytes that will not come
  }
  return {};
}

}  // namespace gofer::http::detail
