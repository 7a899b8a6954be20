// The handler's side of an HTTP/2 stream: see stream.h.
#include "http/h2/stream.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <cstring>

#include "gofer/net.h"
#include "http/conn.h"
#include "http/h2/session.h"
#include "http/sniff.h"

namespace gofer::http::detail::h2 {
namespace {

bool is_connection_specific(std::string_view lower_name) {
  return lower_name == "connection" || lower_name == "keep-alive" ||
         lower_name == "proxy-connection" || lower_name == "transfer-encoding" ||
         lower_name == "upgrade";
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

}  // namespace

Result<std::size_t> Stream::read(std::span<char> buf) {
  if (buf.empty()) return {0, {}};
  std::unique_lock lock(session_->mu);
  for (;;) {
    if (in_off < in.size()) {
      std::size_t n = std::min(buf.size(), in.size() - in_off);
      std::memcpy(buf.data(), in.data() + in_off, n);
      in_off += n;
      // The connection acknowledges what was read (WINDOW_UPDATE): the
      // client sends more only as the handler takes it.
      consumed += n;
      notify_locked();
      lock.unlock();
      (void)session_->kick.try_send(Empty{});
      return {n, {}};
    }
    if (reset) return {0, make_error_code(std::errc::connection_reset)};
    if (in_eof) return {0, make_error_code(net::errc::eof)};
    lock.unlock();
    (void)wake.recv();
    lock.lock();
  }
}

void Stream::write_header(int code) {
  if (committed_ || code_ != 0) return;
  if (code >= 100 && code < 200) return;  // interim responses: not over h2 yet
  code_ = code;
}

void Stream::notify_locked() {
  if (queued) return;
  queued = true;
  session_->pending.push_back(shared_from_this());
}

void Stream::freeze_headers(std::int64_t final_length) {
  int code = code_ != 0 ? code_ : status_ok;
  bool body_allowed = !(code == 204 || code == 304 || (code >= 100 && code < 200));
  response_fields.clear();
  bool has_date = false, has_type = false, has_length = false;
  header_.for_each([&](std::string_view name, std::string_view value) {
    std::string n = lower(name);
    if (is_connection_specific(n)) return;  // RFC 9113 §8.2.2
    if (n == "date") has_date = true;
    if (n == "content-type") has_type = true;
    if (n == "content-length") has_length = true;
    response_fields.emplace_back(std::move(n), std::string(value));
  });
  if (!has_date) response_fields.emplace_back("date", std::string(http_date_now()));
  if (body_allowed && !has_type && !sniff_.empty()) {
    response_fields.emplace_back("content-type", std::string(detect_content_type(sniff_)));
  }
  if (body_allowed && !has_length && final_length >= 0 && !head_) {
    response_fields.emplace_back("content-length", std::to_string(final_length));
  }
  status = code;
  headers_ready = true;
  committed_ = true;
}

WriteResult Stream::append(std::string_view data) {
  std::unique_lock lock(session_->mu);
  std::size_t taken = 0;
  while (taken < data.size()) {
    if (reset) return {taken, make_error_code(std::errc::connection_reset)};
    std::size_t queued_bytes = out.size() - out_off;
    if (queued_bytes >= kMaxOut) {
      // Full: the handler parks until DATA frames take some.
      if (!committed_) freeze_headers(-1);
      notify_locked();
      lock.unlock();
      (void)session_->kick.try_send(Empty{});
      (void)wake.recv();
      lock.lock();
      continue;
    }
    std::size_t n = std::min(data.size() - taken, kMaxOut - queued_bytes);
    out.append(data.substr(taken, n));
    taken += n;
  }
  // Until the headers leave, bytes wait: a body that ends within kMaxOut
  // gets a Content-Length (as HTTP/1.1 responses do).
  if (committed_) {
    notify_locked();
    lock.unlock();
    (void)session_->kick.try_send(Empty{});
  }
  return {taken, {}};
}

WriteResult Stream::write(std::string_view data) {
  if (code_ == 0) code_ = status_ok;
  if (code_ == 204 || code_ == 304) {
    return {0, make_error_code(std::errc::operation_not_permitted)};
  }
  if (sniff_.size() < 512) sniff_.append(data.substr(0, 512 - sniff_.size()));
  body_written_ += data.size();
  if (head_) return {data.size(), {}};  // HEAD: counted, not sent
  return append(data);
}

Error Stream::flush() {
  std::unique_lock lock(session_->mu);
  if (reset) return make_error_code(std::errc::connection_reset);
  if (!committed_) freeze_headers(-1);
  notify_locked();
  lock.unlock();
  (void)session_->kick.try_send(Empty{});
  return {};
}

void Stream::serve(const Handler& handler) {
  head_ = request.method == "HEAD";
  bool ok = true;
  try {
    if (request.target == "*" && request.method == "OPTIONS") {
      header_.set("Content-Length", "0");
      write_header(status_ok);
    } else {
      handler(*this, request);
    }
  } catch (const std::exception& e) {
    fmt::print(stderr, "http: exception serving {}: {}\n", request.remote_addr.to_string(),
               e.what());
    ok = false;
  } catch (...) {
    fmt::print(stderr, "http: exception serving {}: unknown exception\n",
               request.remote_addr.to_string());
    ok = false;
  }
  std::unique_lock lock(session_->mu);
  if (!ok) {
    if (!committed_) {
      // Go's recovered panic: 500 if nothing was sent yet.
      header_.clear();
      code_ = status_internal_server_error;
      out.clear();
      out_off = 0;
      sniff_.clear();
      freeze_headers(0);
    } else {
      aborted = true;  // the body is cut short: the client must not take it as whole
    }
  }
  if (!committed_) freeze_headers(static_cast<std::int64_t>(body_written_));
  out_eof = true;
  body_bytes = head_ ? 0 : body_written_;
  handler_done = true;
  notify_locked();
}

}  // namespace gofer::http::detail::h2
