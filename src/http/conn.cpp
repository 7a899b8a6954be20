// The connection loop (Go's conn.serve): read a request head, run the
// handler, finish the response, and go round again while the connection is
// kept alive.
#include "http/conn.h"

#include <cstring>

#include <fmt/format.h>

#include "gofer/http/access_log.h"
#include "gofer/runtime.h"
#include "http/h2/session.h"
#include "http/server_state.h"
#include "http/trace_kinds.h"
#include "runtime/park.h"
#include "runtime/trace.h"

namespace gofer::http::detail {
namespace {

// A handler that did not read the body: drop up to this much of it to keep
// the connection (Go's maxPostHandlerReadBytes), else close.
constexpr std::size_t kMaxDrain = 256 << 10;

// The trace kinds are registered before any connection is served (this
// file is linked whenever a Server is).
[[maybe_unused]] const bool kTraceKindsRegistered = (trace_kind::register_trace_kinds(), true);

// The deadline `timeout` after `now`; none for a timeout of 0 (the server's
// timeouts are off at 0, as in Go).
net::Deadline deadline_after(std::chrono::nanoseconds timeout, net::Deadline now) {
  return timeout.count() > 0 ? now + timeout : net::Deadline{};
}
net::Deadline deadline_after(std::chrono::nanoseconds timeout) {
  return timeout.count() > 0 ? net::Clock::now() + timeout : net::Deadline{};
}

}  // namespace

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

ServedConn::ServedConn(std::shared_ptr<ServerState> s, net::Conn c,
                       std::shared_ptr<const tls::ServerConfig> tls_config)
    : server(std::move(s)), conn(std::move(c)), fd(conn.fd()), remote_addr_(conn.remote_addr()) {
  request.remote_addr = remote_addr_;  // the same for every request
  if (tls_config) {
    tls_conn = tls::server(std::move(conn), std::move(tls_config));
    io_ = &tls_io_;
    handshake_pending_ = true;
  }
}

bool ServedConn::handshake() {
  handshake_pending_ = false;
  ServerState& s = *server;
  // Go's tlsHandshakeTimeout: the smallest of the server's timeouts that
  // are set; none if none is.
  std::chrono::nanoseconds timeout{0};
  for (auto t : {s.read_header_timeout, s.read_timeout, s.write_timeout}) {
    if (t.count() > 0 && (timeout.count() == 0 || t < timeout)) timeout = t;
  }
  net::Deadline deadline = deadline_after(timeout);
  // Deadline setters fail only on a closed connection, which the
  // handshake then reports.
  (void)tls_conn.set_read_deadline(deadline);
  (void)tls_conn.set_write_deadline(deadline);
  std::int64_t started = runtime::nanotime();
  Error err = tls_conn.handshake();
  std::int64_t took_us = (runtime::nanotime() - started) / 1000;
  if (err) {
    runtime::trace_text(trace_kind::tls_handshake, fd, took_us, -1, "failed:", err.message());
    if (err == tls::errc::http_request) {
      // Go's answer to plaintext HTTP on a TLS port, in plaintext: the
      // client sees why, instead of a reset. Best effort: it closes next.
      (void)tls_conn.net_conn().set_write_deadline(net::Clock::now() + std::chrono::seconds(1));
      (void)tls_conn.net_conn().write(
          "HTTP/1.0 400 Bad Request\r\n\r\nClient sent an HTTP request to an HTTPS server.\n");
    } else {
      std::string detail = tls_conn.error_detail();
      fmt::print(stderr, "http: TLS handshake error from {}: {}{}{}\n", remote_addr_.to_string(),
                 err.message(), detail.empty() ? "" : ": ", detail);
    }
    return false;
  }
  (void)tls_conn.set_write_deadline(net::Deadline{});
  tls_state_ = tls_conn.connection_state();
  if (runtime::trace_enabled()) [[unlikely]] {
    // The trace keeps 24 bytes of text: the version and the ALPN result
    // fit ("TLS 1.3 alpn=http/1.1"), the cipher suite's name would not.
    runtime::trace_text(trace_kind::tls_handshake, fd, took_us, tls_state_.did_resume ? 1 : 0,
                        tls::to_string(tls_state_.version),
                        fmt::format("alpn={}", tls_state_.negotiated_protocol.empty()
                                                   ? "none"
                                                   : tls_state_.negotiated_protocol));
  }
  return true;
}

ServedConn::~ServedConn() = default;

void NetConnIO::go_when_readable(gofer::detail::Task task) {
  conn_.go_when_readable(std::move(task));
}

Error ServedConn::grow_read_buffer() {
  auto [rebase, err] = rbuf.grow();
  if (err) return err;
  Request& r = request;
  rebase(r.method);
  rebase(r.target);
  rebase(r.path);
  rebase(r.raw_query);
  rebase(r.host);
  for (Header& h : rbuf.header_slots()) {
    rebase(h.name);
    rebase(h.value);
  }
  return {};
}

const Context& ServedConn::request_context() {
  ContextState state = ctx_state_.load(std::memory_order_acquire);
  if (state != ContextState::made) {
    if (state == ContextState::none &&
        ctx_state_.compare_exchange_strong(state, ContextState::making,
                                           std::memory_order_acq_rel)) {
      auto [ctx, cancel] = with_cancel(server->base_context);
      ctx_ = std::move(ctx);
      cancel_ = std::move(cancel);
      // Release: publishes ctx_ and cancel_ to the acquire loads above.
      ctx_state_.store(ContextState::made, std::memory_order_release);
    } else {
      // Another goroutine is making it: a few instructions away.
      while (ctx_state_.load(std::memory_order_acquire) != ContextState::made) gofer::yield();
    }
  }
  if (this_goroutine_id() == serve_goid_ && body.finished()) start_watch();
  return ctx_;
}

void ServedConn::body_finished() {
  if (ctx_state_.load(std::memory_order_acquire) == ContextState::made) start_watch();
}

void ServedConn::start_watch() {
  if (hijacked) return;                                             // the RawConn reads now
  if (watching_.exchange(true, std::memory_order_acq_rel)) return;  // already on
  // The watch reads where the next request's bytes go. Nothing else
  // touches the read buffer until the handler returns (the body is done).
  if (rbuf.full()) {
    watching_.store(false, std::memory_order_relaxed);
    return;  // full of pipelined bytes: the client is plainly still there
  }
  watch_stopping_.store(false, std::memory_order_relaxed);
  watch_bytes_ = 0;
  watch_ended_conn_ = false;
  // No deadline while the handler runs: only the client, or stop_watch,
  // ends this read. (Deadline setters fail only on a closed connection,
  // which the read then reports.)
  (void)io().set_read_deadline(net::Deadline{});
  watch_done_.add(1);
  gofer::go([this, space = rbuf.free_space()] {
    auto [n, err] = io().read(space);
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
  // (On a closed connection the read has ended already.)
  (void)io().set_read_deadline(net::Clock::now() - std::chrono::seconds(1));
  watch_done_.wait();
  rbuf.commit(watch_bytes_);
  (void)io().set_read_deadline(net::Deadline{});
  if (watch_ended_conn_) response.set_close_after();
  watching_.store(false, std::memory_order_relaxed);
}

void ServedConn::end_request_context() {
  if (ctx_state_.load(std::memory_order_acquire) != ContextState::made) return;
  stop_watch();
  cancel_();  // Go cancels the request's context when the handler returns
  ctx_ = Context();
  cancel_ = CancelFunc();
  ctx_state_.store(ContextState::none, std::memory_order_release);
}

void ServedConn::run(ServedConn* c) {
  End end = c->serve();
  if (end == End::parked) return;  // c belongs to the poller's goroutine now
  if (end == End::hijacked) {
    // Off the server's books since the hijack; the RawConn may still use it.
    if (c->release_owner()) delete c;
    return;
  }
  runtime::trace(trace_kind::conn_close, c->fd, static_cast<std::int64_t>(c->requests));
  auto srv = c->server;
  {
    std::lock_guard lock(srv->mu);
    srv->conns.erase(c);
  }
  delete c;
  // Release: the connection's last act; Server::shutdown's acquire load of
  // 0 then sees everything it did (its handlers' writes included).
  srv->open.fetch_sub(1, std::memory_order_release);
}

void ServedConn::park_idle(net::Deadline idle_deadline) {
  // The read deadline becomes the idle timeout's: reaching it starts the
  // goroutine, whose read then times out and closes the connection.
  (void)io().set_read_deadline(idle_deadline);
  resumed_ = true;
  parked_idle_deadline_ = idle_deadline;
  server->parked.fetch_add(1, std::memory_order_relaxed);
  rbuf.release();
  response.release_buffers();
  io().release_idle_buffers();
  RequestAccess::release_path_values(request);
  // The last touch of *this: from here the poller may start run() anywhere.
  io().go_when_readable(gofer::detail::Task([this] { run(this); }));
}

ServedConn::End ServedConn::serve() {
  serve_goid_ = this_goroutine_id();
  if (resumed_) server->parked.fetch_sub(1, std::memory_order_relaxed);
  if (handshake_pending_) {
    // Shutdown may close a connection still in its handshake, as an idle
    // one: it has no request to finish.
    idle.store(true, std::memory_order_relaxed);
    if (!handshake()) return End::closed;
    if (tls_state_.negotiated_protocol == "h2") {
      // ALPN chose HTTP/2 (RFC 9113 §3.2): the connection speaks nothing else.
      idle.store(false, std::memory_order_relaxed);
      h2::serve(*this, {});
      return End::closed;
    }
  }
  net::Deadline last_request_end{};  // when this call's last request ended
  for (;;) {
    // Sampled tracing decides here, before the wait for the request, so a
    // journey holds all of its request's steps or none.
    runtime::trace_sample_work();
    RequestHead head;
    Framing framing;
    switch (read_request(head, framing, last_request_end)) {
      case Next::request:
        break;
      case Next::closed:
        return End::closed;
      case Next::parked:
        return End::parked;
      case Next::h2: {
        // The preface's bytes move out, and the HTTP/1 buffers go back to
        // their pools for the connection's life.
        std::string preface(rbuf.received());
        rbuf.release();
        response.release_buffers();
        h2::serve(*this, preface);
        return End::closed;
      }
    }
    if (!serve_request(head, framing, last_request_end))
      return hijacked ? End::hijacked : End::closed;
    // The request's views die here (a closed connection's buffer goes
    // back to the pool, which poisons it whole).
    rbuf.retire_request();
  }
}

bool ServedConn::begin_idle_wait(IdleWait& wait, net::Deadline last_request_end) {
  ServerState& s = *server;
  idle.store(true, std::memory_order_relaxed);
  runtime::trace(trace_kind::idle, fd, static_cast<std::int64_t>(requests));
  if (s.shutting_down.load(std::memory_order_relaxed)) return begin_last_idle_wait(wait);
  if (resumed_) {
    // Started by the poller: the idle deadline is in force already.
    resumed_ = false;
    wait.idle_deadline = parked_idle_deadline_;
    return true;
  }
  // Wait with the goroutine for idle_park_after, then park (read_request):
  // a fresh connection within the read-header timeout, a kept-alive one
  // within the idle timeout. The clock was read as the last request ended,
  // a few µs ago: close enough for these timeouts, and two clock reads less.
  net::Deadline now = last_request_end != net::Deadline{} ? last_request_end : net::Clock::now();
  wait.idle_deadline = deadline_after(requests == 0 ? s.read_header_timeout : s.idle_timeout, now);
  net::Deadline deadline = wait.idle_deadline;
  if (s.idle_park_after.count() > 0) {
    net::Deadline park_at = now + s.idle_park_after;
    if (wait.idle_deadline == net::Deadline{} || park_at < wait.idle_deadline) {
      wait.park_at_deadline = true;
      deadline = park_at;
    }
  }
  // On a closed connection the read below reports it.
  (void)io().set_read_deadline(deadline);
  return true;
}

bool ServedConn::begin_last_idle_wait(IdleWait& wait) {
  ServerState& s = *server;
  if (s.shutdown_idle_wait.count() <= 0) return false;  // closed at once, as in Go
  // Seen shutting_down before the time was published: it began just now.
  std::int64_t at_ns = s.idle_close_at.load(std::memory_order_relaxed);
  net::Deadline close_at = at_ns != 0 ? net::Deadline(std::chrono::nanoseconds(at_ns))
                                      : net::Clock::now() + s.shutdown_idle_wait;
  if (resumed_) {
    resumed_ = false;
    close_at = std::min(close_at, parked_idle_deadline_);
  }
  if (close_at <= net::Clock::now()) return false;
  wait.idle_deadline = close_at;
  wait.park_at_deadline = false;  // a connection about to end is not parked
  // On a closed connection the read reports it.
  (void)io().set_read_deadline(close_at);
  return true;
}

ServedConn::Next ServedConn::read_request(RequestHead& head, Framing& framing,
                                          net::Deadline last_request_end) {
  ServerState& s = *server;
  rbuf.acquire(s.max_header_bytes + 64 * 1024);
  rbuf.start_next();  // pipelined bytes of this request move to the front

  // The idle timeout until the first byte, then the read-header timeout
  // (slowloris gets a 408-free close).
  IdleWait wait;
  bool first_byte_seen = rbuf.len() > 0;
  if (!first_byte_seen && !begin_idle_wait(wait, last_request_end)) return Next::closed;
  ParseLimits limits;
  limits.max_header_bytes = s.max_header_bytes;
  HeadScan scan;
  ParseResult parsed;
  // The read-header deadline is armed only when part of a head is in and
  // more must be read: a head that arrives whole (the common case) costs
  // no timer update.
  bool header_deadline_set = false;
  for (;;) {
    if (requests == 0 && rbuf.len() > 0 && !tls_conn && server->http2) {
      // The first bytes of a plaintext connection may be HTTP/2's preface.
      std::string_view got = rbuf.received();
      std::string_view preface = h2::kClientPreface;
      if (got.substr(0, preface.size()) == preface.substr(0, got.size())) {
        if (got.size() >= preface.size()) {
          idle.store(false, std::memory_order_relaxed);
          return Next::h2;
        }
        auto [n, err] = io().read(rbuf.free_space());
        rbuf.commit(n);
        if (err) return Next::closed;
        continue;
      }
    }
    if (rbuf.len() > 0) {
      parsed = parse_request_head(rbuf.received(), head, rbuf.header_slots(), limits, scan);
      if (parsed.status != ParseStatus::incomplete) break;
      if (!header_deadline_set) {
        (void)io().set_read_deadline(deadline_after(s.read_header_timeout));
        header_deadline_set = true;
      }
    }
    if (rbuf.full()) {
      // No request views exist yet: the bytes may move.
      if (rbuf.grow().err) {
        parsed.status = ParseStatus::error;
        parsed.error = {status_request_header_fields_too_large, "request header too large"};
        break;
      }
    }
    auto [n, err] = io().read(rbuf.free_space());
    rbuf.commit(n);
    if (err == net::errc::timeout && wait.park_at_deadline && rbuf.len() == 0) {
      park_idle(wait.idle_deadline);
      return Next::parked;
    }
    if (err) return Next::closed;  // EOF, timeout, reset or closed: nothing to answer
    wait.park_at_deadline = false;
    if (!first_byte_seen) {
      first_byte_seen = true;
      idle.store(false, std::memory_order_relaxed);
    }
  }
  idle.store(false, std::memory_order_relaxed);
  if (parsed.status == ParseStatus::error) {
    write_error_response(io(), parsed.error.status, parsed.error.reason);
    log_unparsed(parsed.error.status);
    return Next::closed;
  }
  FramingResult analyzed = analyze_request(head);
  if (!analyzed.ok()) {
    write_error_response(io(), analyzed.error.status, analyzed.error.reason);
    log_unparsed(analyzed.error.status);
    return Next::closed;
  }
  framing = analyzed.framing;
  rbuf.set_head(parsed.consumed);
  return Next::request;
}

void ServedConn::start_request(const RequestHead& head, const Framing& framing, bool keep_alive) {
  Request& r = request;
  r.method = head.method;
  r.target = head.target;
  r.proto_major = head.version_major;
  r.proto_minor = head.version_minor >= 1 ? 1 : 0;
  r.headers = head.headers;
  r.trailers = {};
  r.host = framing.host;
  split_target(head.target, r);
  r.content_length = framing.body == Framing::Body::none ? 0
                     : framing.body == Framing::Body::chunked
                         ? -1
                         : static_cast<std::int64_t>(framing.content_length);
  r.remote_addr = remote_addr_;  // a handler may have changed it
  r.tls = tls_conn ? &tls_state_ : nullptr;
  RequestAccess::clear_path_values(r);
  RequestAccess::set_context_source(r, this);
  body.start(framing);
  r.set_body(body);
  response.reset(r.method == "HEAD", keep_alive, r.proto_minor);
}

ServedConn::HandlerEnd ServedConn::run_handler() {
  Request& r = request;
  runtime::trace(trace_kind::handler_start, fd);
  HandlerEnd end = HandlerEnd::returned;
  try {
    if (r.target == "*" && r.method == "OPTIONS") {
      // Server-wide OPTIONS (RFC 9110 §9.3.7) is the server's to answer:
      // 200 with an empty body, like Go's globalOptionsHandler.
      response.header().set("Content-Length", "0");
      response.write_header(status_ok);
    } else {
      server->handler(response, r);
    }
  } catch (const AbortHandler&) {
    end = HandlerEnd::aborted;  // on purpose: nothing to log
  } catch (const std::exception& e) {
    fmt::print(stderr, "http: exception serving {}: {}\n", r.remote_addr.to_string(), e.what());
    end = HandlerEnd::threw;
  } catch (...) {
    fmt::print(stderr, "http: exception serving {}: unknown exception\n",
               r.remote_addr.to_string());
    end = HandlerEnd::threw;
  }
  runtime::trace(trace_kind::handler_end, fd, response.status());
  return end;
}

bool ServedConn::serve_request(const RequestHead& head, const Framing& framing,
                               net::Deadline& ended) {
  ServerState& s = *server;
  ++requests;
  runtime::trace_text(trace_kind::request, fd, static_cast<std::int64_t>(rbuf.head_end()),
                      static_cast<std::int64_t>(requests), head.method, head.target);
  std::int64_t started = runtime::nanotime();
  bool keep_alive = framing.keep_alive && !s.shutting_down.load(std::memory_order_relaxed);
  start_request(head, framing, keep_alive);
  // The body's deadline. A request without a body never reads during the
  // handler, so the deadline in force can stay (one timer update less).
  // (A deadline setter fails only on a closed connection, which the next
  // read or write reports.)
  if (framing.body != Framing::Body::none || s.read_timeout.count() > 0) {
    (void)io().set_read_deadline(deadline_after(s.read_timeout));
  }
  if (s.write_timeout.count() > 0) (void)io().set_write_deadline(deadline_after(s.write_timeout));

  // An exception is Go's recovered panic: 500 if nothing was sent yet, and
  // the connection closes either way. AbortHandler closes it with what
  // was sent, and nothing more.
  HandlerEnd handler_end = run_handler();
  end_request_context();
  RequestAccess::drop_extras(request);  // a multipart form's temporary files go now
  if (hijacked) return false;           // the connection is the RawConn's: nothing more to send
  if (handler_end != HandlerEnd::returned) {
    if (!response.wrote_header() && handler_end == HandlerEnd::threw) {
      response.header().clear();
      response.set_close_after();
      error(response, "Internal Server Error", status_internal_server_error);
      // The connection closes next: a failed send has nothing left to spoil.
      (void)response.finish();
      runtime::trace(trace_kind::response, fd, response.status(),
                     static_cast<std::int64_t>(response.bytes_out()));
    }
    std::int64_t took = runtime::nanotime() - started;
    s.record(request.method, status_internal_server_error, took, rbuf.head_end(),
             response.bytes_out());
    log_response(status_internal_server_error, took);
    return false;
  }

  // An unread body is drained (bounded) before the response leaves, so
  // that the next request starts at the right byte.
  if (!body.finished() && !body.drain(kMaxDrain)) response.set_close_after();
  if (response.finish()) return false;  // the client is gone, or too slow
  runtime::trace(trace_kind::response, fd, response.status(),
                 static_cast<std::int64_t>(response.bytes_out()));
  std::int64_t now = runtime::nanotime();
  s.record(request.method, response.status(), now - started, rbuf.head_end() + body.bytes_read(),
           response.bytes_out());
  if (s.access_log) log_response(response.status(), now - started);
  ended = net::Deadline(std::chrono::nanoseconds(now));
  if (response.close_after() || !keep_alive) {
    // Let the client read everything before the FIN; the connection closes
    // next whether or not the shutdown worked.
    (void)io().close_write();
    return false;
  }
  // The next request starts with no write deadline but the server's own.
  if (s.write_timeout.count() > 0 || response.handler_set_write_deadline()) {
    (void)io().set_write_deadline(net::Deadline{});
  }
  return true;
}

const std::string& ServedConn::remote_text() {
  if (remote_text_.empty()) remote_text_ = remote_addr_.to_string();  // once per connection
  return remote_text_;
}

void ServedConn::log_response(int status, std::int64_t duration_ns) {
  AccessLog* log = server->access_log.get();
  if (log == nullptr) return;
  const Request& r = request;
  AccessLogEntry e;
  e.remote_addr = remote_text();
  e.method = r.method;
  e.target = r.target;
  e.proto = r.proto();
  e.host = r.host;
  e.referer = r.header("Referer");
  e.user_agent = r.header("User-Agent");
  e.status = status;
  e.body_bytes = response.body_bytes_sent();
  e.duration = std::chrono::nanoseconds(duration_ns);
  log->record(e);
}

void ServedConn::log_unparsed(int status) {
  AccessLog* log = server->access_log.get();
  if (log == nullptr) return;
  // The Request's views belong to an earlier request (or to none): only
  // the peer and the status are known.
  AccessLogEntry e;
  e.remote_addr = remote_text();
  e.status = status;
  log->record(e);
}

void write_error_response(ConnIO& io, int code, std::string_view reason) {
  std::string text = fmt::format("{} {}", code, status_text(code));
  // Date: RFC 9110 §6.6.1 requires it on 4xx responses too (Go omits it
  // on these early errors; we do not).
  std::string msg = fmt::format(
      "HTTP/1.1 {}\r\nContent-Type: text/plain; charset=utf-8\r\nConnection: close\r\n"
      "Date: {}\r\nContent-Length: {}\r\n\r\n{}{}{}",
      text, http_date_now(), text.size() + (reason.empty() ? 0 : reason.size() + 2), text,
      reason.empty() ? "" : ": ", reason);
  // Best effort, then the caller closes: a client that cannot take the
  // answer (gone, or not reading within 5 s) loses only its own error page.
  (void)io.set_write_deadline(net::Clock::now() + std::chrono::seconds(5));
  (void)io.write(msg);
  (void)io.close_write();
}

}  // namespace gofer::http::detail
