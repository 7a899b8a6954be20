// The connection loop (Go's conn.serve): read a request head, run the
// handler, finish the response, and go round again while the connection is
// kept alive.
#include "http/conn.h"

#include <cstring>

#include <fmt/format.h>

#include "gofer/runtime.h"
#include "http/server_state.h"
#include "runtime/park.h"
#include "runtime/trace.h"

namespace gofer::http::detail {
namespace {

// A handler that did not read the body: drop up to this much of it to keep
// the connection (Go's maxPostHandlerReadBytes), else close.
constexpr std::size_t kMaxDrain = 256 << 10;

net::Deadline after(std::chrono::nanoseconds d, net::Deadline now) {
  return d.count() > 0 ? now + d : net::Deadline{};
}
net::Deadline after(std::chrono::nanoseconds d) {
  return d.count() > 0 ? net::Clock::now() + d : net::Deadline{};
}

// Splits the request-target into path and query (RFC 9112 §3.2). An
// absolute-form target ("http://host/path") yields its path and authority.
void split_target(std::string_view target, Request& r) {
  std::string_view rest = target;
  if (!rest.empty() && rest[0] != '/' && rest != "*") {
    std::size_t scheme = rest.find("://");
    if (scheme != std::string_view::npos) {
      rest = rest.substr(scheme + 3);
      std::size_t slash = rest.find_first_of("/?");
      r.host = rest.substr(0, slash);
      rest = slash == std::string_view::npos ? std::string_view("/") : rest.substr(slash);
    }
  }
  std::size_t q = rest.find('?');
  r.path = rest.substr(0, q);
  r.raw_query = q == std::string_view::npos ? std::string_view{} : rest.substr(q + 1);
}

}  // namespace

ServedConn::ServedConn(std::shared_ptr<ServerState> s, net::Conn c)
    : server(std::move(s)), conn(std::move(c)), fd(conn.fd()) {
  request.remote_addr = conn.remote_addr();  // the same for every request
}

ServedConn::~ServedConn() {
  if (bufs != nullptr) ConnBuffers::release(bufs);
}

Result<std::size_t> ServedConn::read_more() {
  if (rlen == rcap) {
    std::size_t limit = server->max_header_bytes + 64 * 1024;
    if (rcap >= limit) return {0, make_error_code(std::errc::no_buffer_space)};
    // Growing moves the bytes: only done while no Request views point into
    // them (reading a head) — see ConnBody for the body's case.
    std::size_t ncap = std::min(limit, std::max(ConnBuffers::kReadBytes, rcap * 2));
    auto nbuf = std::make_unique<char[]>(ncap);
    std::memcpy(nbuf.get(), rbuf, rlen);
    grown = std::move(nbuf);
    rbuf = grown.get();
    rcap = ncap;
  }
  auto [n, err] = conn.read(std::span<char>(rbuf + rlen, rcap - rlen));
  rlen += n;
  return {n, err};
}

void ServedConn::grow_read_buffer() {
  std::size_t ncap = rcap * 2;
  auto nbuf = std::make_unique<char[]>(ncap);
  std::memcpy(nbuf.get(), rbuf, rlen);
  const char* old_base = rbuf;
  const char* old_end = old_base + rcap;
  auto move = [&](std::string_view& v) {
    if (v.data() >= old_base && v.data() < old_end)
      v = {nbuf.get() + (v.data() - old_base), v.size()};
  };
  Request& r = request;
  move(r.method);
  move(r.target);
  move(r.path);
  move(r.raw_query);
  move(r.host);
  for (Header& h : bufs->headers) {
    move(h.name);
    move(h.value);
  }
  grown = std::move(nbuf);
  rbuf = grown.get();
  rcap = ncap;
}

const Context& ServedConn::request_context() {
  int state = ctx_state_.load(std::memory_order_acquire);
  if (state != 2) {
    if (state == 0 && ctx_state_.compare_exchange_strong(state, 1, std::memory_order_acq_rel)) {
      auto [ctx, cancel] = with_cancel(server->base_context);
      ctx_ = std::move(ctx);
      cancel_ = std::move(cancel);
      ctx_state_.store(2, std::memory_order_release);  // publishes ctx_ and cancel_
    } else {
      // Another goroutine is making it: a few instructions away.
      while (ctx_state_.load(std::memory_order_acquire) != 2) gofer::yield();
    }
  }
  if (this_goroutine_id() == serve_goid_ && body.finished()) start_watch();
  return ctx_;
}

void ServedConn::body_finished() {
  if (ctx_state_.load(std::memory_order_acquire) == 2) start_watch();
}

void ServedConn::start_watch() {
  if (watching_.exchange(true, std::memory_order_acq_rel)) return;  // already on
  // The watch reads where the next request's bytes go. Nothing else
  // touches the read buffer until the handler returns (the body is done).
  if (rlen == rcap) {
    watching_.store(false, std::memory_order_relaxed);
    return;  // full of pipelined bytes: the client is plainly still there
  }
  watch_stopping_.store(false, std::memory_order_relaxed);
  watch_bytes_ = 0;
  watch_ended_conn_ = false;
  // No deadline while the handler runs: only the client, or stop_watch,
  // ends this read.
  conn.set_read_deadline(net::Deadline{});
  watch_done_.add(1);
  gofer::go([this] {
    auto [n, err] = conn.read(std::span<char>(rbuf + rlen, rcap - rlen));
    watch_bytes_ = n;
    if (err && !(watch_stopping_.load(std::memory_order_acquire) && err == net::errc::timeout)) {
      watch_ended_conn_ = true;
      cancel_();  // EOF, reset: the client went away
    }
    watch_done_.done();
  });
}

void ServedConn::stop_watch() {
  if (!watching_.load(std::memory_order_acquire)) return;
  watch_stopping_.store(true, std::memory_order_release);
  // A deadline in the past wakes the parked read with a timeout at once.
  conn.set_read_deadline(net::Clock::now() - std::chrono::seconds(1));
  watch_done_.wait();
  rlen += watch_bytes_;
  conn.set_read_deadline(net::Deadline{});
  if (watch_ended_conn_) response.set_close_after();
  watching_.store(false, std::memory_order_relaxed);
}

void ServedConn::end_request_context() {
  if (ctx_state_.load(std::memory_order_acquire) != 2) return;
  stop_watch();
  cancel_();  // Go cancels the request's context when the handler returns
  ctx_ = Context();
  cancel_ = CancelFunc();
  ctx_state_.store(0, std::memory_order_release);
}

void ServedConn::run(ServedConn* c) {
  if (c->serve() == End::parked) return;  // c belongs to the poller's goroutine now
  runtime::trace(runtime::TraceKind::http_close, c->fd, static_cast<std::int64_t>(c->requests));
  auto srv = c->server;
  {
    std::lock_guard lock(srv->mu);
    srv->conns.erase(c);
  }
  delete c;
  srv->open.fetch_sub(1, std::memory_order_relaxed);
}

void ServedConn::park_idle(net::Deadline idle_deadline) {
  conn.set_read_deadline(idle_deadline);
  resumed_ = true;
  parked_idle_deadline_ = idle_deadline;
  server->parked.fetch_add(1, std::memory_order_relaxed);
  ConnBuffers::release(bufs);
  bufs = nullptr;
  grown.reset();
  rbuf = nullptr;
  rcap = rlen = rpos = head_end = 0;
  std::string().swap(wbuf);
  std::string().swap(head);
  response.header() = HeaderMap();
  request.path_values_ = {};
  // The last touch of *this: from here the poller may start run() anywhere.
  conn.go_when_readable([this] { run(this); });
}

ServedConn::End ServedConn::serve() {
  ServerState& s = *server;
  serve_goid_ = this_goroutine_id();
  if (resumed_) s.parked.fetch_sub(1, std::memory_order_relaxed);
  HeadScan scan;
  net::Deadline last_request_end{};  // when this call's last request ended
  ParseLimits limits;
  limits.max_header_bytes = s.max_header_bytes;
  for (;;) {
    // Sampled tracing decides here, before the wait for the request, so a
    // journey holds all of its request's steps or none.
    runtime::trace_sample_request();
    // Move pipelined bytes of the next request to the front.
    if (rpos > 0) {
      std::memmove(rbuf, rbuf + rpos, rlen - rpos);
      rlen -= rpos;
      rpos = 0;
    }
    if (rbuf == nullptr) {
      bufs = ConnBuffers::acquire();
      rbuf = bufs->read;
      rcap = ConnBuffers::kReadBytes;
    }

    // 1. Read the head: idle timeout until the first byte, then the
    //    read-header timeout (slowloris gets a 408-free close).
    RequestHead head;
    ParseResult parsed;
    scan = HeadScan{};
    bool first_byte_seen = rlen > 0;
    // Nothing buffered: wait for the next (or first) request with a short
    // deadline first, and park in the poller if it passes.
    bool lingering = false;
    net::Deadline idle_deadline{};
    if (!first_byte_seen) {
      idle.store(true, std::memory_order_relaxed);
      runtime::trace(runtime::TraceKind::http_idle, fd, static_cast<std::int64_t>(requests));
      if (s.shutting_down.load(std::memory_order_relaxed)) return End::closed;
      if (resumed_) {
        // Started by the poller: the idle deadline is in force already.
        resumed_ = false;
        idle_deadline = parked_idle_deadline_;
      } else {
        // Wait with the goroutine for idle_park_after, then park (below):
        // a fresh connection within the read-header timeout, a kept-alive
        // one within the idle timeout. The clock was read as the last
        // request ended, a few µs ago: close enough for these timeouts, and
        // two clock reads less.
        net::Deadline now =
            last_request_end != net::Deadline{} ? last_request_end : net::Clock::now();
        idle_deadline = after(requests == 0 ? s.read_header_timeout : s.idle_timeout, now);
        net::Deadline deadline = idle_deadline;
        if (s.idle_park_after.count() > 0) {
          net::Deadline park_at = now + s.idle_park_after;
          if (idle_deadline == net::Deadline{} || park_at < idle_deadline) {
            lingering = true;
            deadline = park_at;
          }
        }
        conn.set_read_deadline(deadline);
      }
    }
    // The read-header deadline is armed only when part of a head is in and
    // more must be read: a head that arrives whole (the common case) costs
    // no timer update.
    bool header_deadline_set = false;
    for (;;) {
      if (rlen > 0) {
        parsed = parse_request_head(std::string_view(rbuf, rlen), head,
                                    std::span<Header>(bufs->headers), limits, scan);
        if (parsed.status != ParseStatus::incomplete) break;
        if (!header_deadline_set) {
          conn.set_read_deadline(after(s.read_header_timeout));
          header_deadline_set = true;
        }
      }
      auto [n, err] = read_more();
      if (err == std::errc::no_buffer_space) {
        parsed.status = ParseStatus::error;
        parsed.error = {status_request_header_fields_too_large, "request header too large"};
        break;
      }
      if (err == net::errc::timeout && lingering && rlen == 0) {
        park_idle(idle_deadline);
        return End::parked;
      }
      if (err) return End::closed;  // EOF, timeout, reset or closed: nothing to answer
      lingering = false;
      if (!first_byte_seen) {
        first_byte_seen = true;
        idle.store(false, std::memory_order_relaxed);
      }
    }
    idle.store(false, std::memory_order_relaxed);
    if (parsed.status == ParseStatus::error) {
      write_error_response(conn, parsed.error.status, parsed.error.reason);
      return End::closed;
    }
    FramingResult framing = analyze_request(head);
    if (!framing.ok()) {
      write_error_response(conn, framing.error.status, framing.error.reason);
      return End::closed;
    }
    rpos = head_end = parsed.consumed;
    ++requests;
    runtime::trace_text(runtime::TraceKind::http_request, fd, static_cast<std::int64_t>(head_end),
                        static_cast<std::int64_t>(requests), head.method, head.target);
    std::int64_t started = runtime::nanotime();

    // 2. The Request: views into rbuf.
    Request& r = request;
    r.method = head.method;
    r.target = head.target;
    r.proto_major = head.version_major;
    r.proto_minor = head.version_minor >= 1 ? 1 : 0;
    r.headers = head.headers;
    r.trailers = {};
    r.host = framing.framing.host;
    split_target(head.target, r);
    r.content_length = framing.framing.body == Framing::Body::none ? 0
                       : framing.framing.body == Framing::Body::chunked
                           ? -1
                           : static_cast<std::int64_t>(framing.framing.content_length);
    r.remote_addr = conn.remote_addr();  // a handler may have changed it
    r.path_values_.clear();
    r.context_source_ = this;
    body.start(framing.framing);
    r.body_ = &body;
    bool keep_alive =
        framing.framing.keep_alive && !s.shutting_down.load(std::memory_order_relaxed);
    response.reset(r.method == "HEAD", keep_alive, r.proto_minor);
    // The body's deadline. A request without a body never reads during the
    // handler, so the deadline in force can stay (one timer update less).
    if (framing.framing.body != Framing::Body::none || s.read_timeout.count() > 0) {
      conn.set_read_deadline(after(s.read_timeout));
    }
    if (s.write_timeout.count() > 0) conn.set_write_deadline(after(s.write_timeout));

    // 3. The handler. An exception is Go's recovered panic: 500 if nothing
    //    was sent yet, and the connection closes either way.
    bool failed = false;
    runtime::trace(runtime::TraceKind::handler_start, fd);
    try {
      if (r.target == "*" && r.method == "OPTIONS") {
        // Server-wide OPTIONS (RFC 9110 §9.3.7) is the server's to answer:
        // 200 with an empty body, like Go's globalOptionsHandler.
        response.header().set("Content-Length", "0");
        response.write_header(status_ok);
      } else {
        s.handler(response, r);
      }
    } catch (const std::exception& e) {
      fmt::print(stderr, "http: exception serving {}: {}\n", request.remote_addr.to_string(),
                 e.what());
      failed = true;
    } catch (...) {
      fmt::print(stderr, "http: exception serving {}: unknown exception\n",
                 request.remote_addr.to_string());
      failed = true;
    }
    runtime::trace(runtime::TraceKind::handler_end, fd, response.status());
    end_request_context();
    if (failed) {
      if (!response.wrote_header()) {
        response.header().clear();
        response.set_close_after();
        error(response, "Internal Server Error", status_internal_server_error);
        response.finish();
        runtime::trace(runtime::TraceKind::http_response, fd, response.status(),
                       static_cast<std::int64_t>(response.bytes_out()));
      }
      s.record(r.method, status_internal_server_error, runtime::nanotime() - started, head_end,
               response.bytes_out());
      return End::closed;
    }

    // 4. An unread body is drained (bounded) before the response leaves, so
    //    that the next request starts at the right byte.
    if (!body.finished() && !body.drain(kMaxDrain)) response.set_close_after();
    if (response.finish()) return End::closed;
    runtime::trace(runtime::TraceKind::http_response, fd, response.status(),
                   static_cast<std::int64_t>(response.bytes_out()));
    std::int64_t ended = runtime::nanotime();
    s.record(r.method, response.status(), ended - started, head_end + body.bytes_read(),
             response.bytes_out());
    last_request_end = net::Deadline(std::chrono::nanoseconds(ended));
    if (response.close_after() || !keep_alive) {
      conn.close_write();  // let the client read everything before the FIN
      return End::closed;
    }
    if (s.write_timeout.count() > 0) conn.set_write_deadline(net::Deadline{});
  }
}

void write_error_response(net::Conn& conn, int code, std::string_view reason) {
  std::string text = fmt::format("{} {}", code, status_text(code));
  // Date: RFC 9110 §6.6.1 requires it on 4xx responses too (Go omits it
  // on these early errors; we do not).
  std::string msg = fmt::format(
      "HTTP/1.1 {}\r\nContent-Type: text/plain; charset=utf-8\r\nConnection: close\r\n"
      "Date: {}\r\nContent-Length: {}\r\n\r\n{}{}{}",
      text, http_date_now(), text.size() + (reason.empty() ? 0 : reason.size() + 2), text,
      reason.empty() ? "" : ": ", reason);
  conn.set_write_deadline(net::Clock::now() + std::chrono::seconds(5));
  conn.write(std::string_view(msg));
  conn.close_write();
}

}  // namespace gofer::http::detail
