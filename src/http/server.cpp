// Server: the accept loop, connection tracking, shutdown and close.
#include "gofer/http/server.h"

#include <fmt/format.h>

#include "gofer/chan.h"
#include "gofer/runtime.h"
#include "gofer/time.h"
#include "http/server_state.h"
#include "runtime/trace.h"

namespace gofer::http {

struct Server::State {
  std::shared_ptr<detail::ServerState> shared = std::make_shared<detail::ServerState>();
};

Server::Server() : state_(std::make_unique<State>()) {}

Server::~Server() = default;

std::size_t Server::open_connections() const {
  return state_->shared->open.load(std::memory_order_relaxed);  // a snapshot
}

namespace detail {

const std::string_view kMethodNames[ServerState::kMethods] = {
    "GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "OTHER"};

int method_index(std::string_view method) noexcept {
  for (int i = 0; i + 1 < ServerState::kMethods; ++i) {
    if (kMethodNames[i] == method) return i;
  }
  return ServerState::kMethods - 1;
}

void ServerState::record(std::string_view method, int code, std::int64_t latency_ns,
                         std::uint64_t in, std::uint64_t out) {
  requests_served.fetch_add(1, std::memory_order_relaxed);
  by_method_code[method_index(method)][code >= 0 && code < kCodes ? code : 0].fetch_add(
      1, std::memory_order_relaxed);
  double seconds = static_cast<double>(latency_ns) * 1e-9;
  int b = 0;
  while (seconds > kBounds[b]) ++b;
  latency_buckets[b].fetch_add(1, std::memory_order_relaxed);
  latency_sum_ns.fetch_add(static_cast<std::uint64_t>(latency_ns), std::memory_order_relaxed);
  bytes_read.fetch_add(in, std::memory_order_relaxed);
  bytes_written.fetch_add(out, std::memory_order_relaxed);
}

}  // namespace detail

ServerStats Server::stats() const {
  const auto& s = *state_->shared;
  ServerStats out;
  out.connections_accepted = s.connections_accepted.load(std::memory_order_relaxed);
  out.open_connections = s.open.load(std::memory_order_relaxed);
  out.parked_connections = s.parked.load(std::memory_order_relaxed);
  out.bytes_read = s.bytes_read.load(std::memory_order_relaxed);
  out.bytes_written = s.bytes_written.load(std::memory_order_relaxed);
  for (int m = 0; m < detail::ServerState::kMethods; ++m) {
    for (int code = 0; code < detail::ServerState::kCodes; ++code) {
      std::uint64_t n = s.by_method_code[m][code].load(std::memory_order_relaxed);
      if (n != 0) out.requests.push_back({detail::kMethodNames[m], code, n});
    }
  }
  std::uint64_t cumulative = 0;
  for (int b = 0; b < detail::ServerState::kBuckets; ++b) {
    cumulative += s.latency_buckets[b].load(std::memory_order_relaxed);
    if (b + 1 < detail::ServerState::kBuckets) {
      out.latency_bounds.push_back(detail::ServerState::kBounds[b]);
      out.latency_cumulative.push_back(cumulative);
    }
  }
  out.latency_count = cumulative;
  out.latency_sum_seconds =
      static_cast<double>(s.latency_sum_ns.load(std::memory_order_relaxed)) * 1e-9;
  return out;
}

Error Server::listen_and_serve() {
  auto [ln, err] = net::listen("tcp", addr);
  if (err) return err;
  return serve(ln);
}

Error Server::serve(net::Listener& listener) {
  return serve_conns(listener, nullptr);
}

tls::LoadResult<std::shared_ptr<tls::ServerConfig>> Server::load_tls_config(
    std::string_view cert_file, std::string_view key_file) const {
  tls::Config config = tls_config;
  if (!cert_file.empty() || !key_file.empty()) {
    auto [cert, err] = tls::load_x509_key_pair(cert_file, key_file);
    if (err) return {nullptr, err};
    // Go's ServeTLS: the files' pair comes first (the default certificate).
    config.certificates.insert(config.certificates.begin(), std::move(cert));
  }
  if (config.next_protos.empty()) config.next_protos = {"http/1.1"};
  return tls::ServerConfig::load(config);
}

Error Server::listen_and_serve_tls(std::string_view cert_file, std::string_view key_file) {
  auto [config, load_err] = load_tls_config(cert_file, key_file);
  if (load_err) return load_err.code();
  auto [ln, err] = net::listen("tcp", addr);
  if (err) return err;
  return serve_conns(ln, std::move(config));
}

Error Server::serve_tls(net::Listener& listener, std::string_view cert_file,
                        std::string_view key_file) {
  auto [config, err] = load_tls_config(cert_file, key_file);
  if (err) return err.code();
  return serve_conns(listener, std::move(config));
}

Error Server::serve_tls(net::Listener& listener, std::shared_ptr<tls::ServerConfig> config) {
  if (!config) return make_error_code(tls::errc::bad_config);
  return serve_conns(listener, std::move(config));
}

tls::LoadError Server::reload_certificates(std::string_view cert_file, std::string_view key_file) {
  auto [cert, err] = tls::load_x509_key_pair(cert_file, key_file);
  if (err) return err;
  auto& s = *state_->shared;
  std::lock_guard lock(s.mu);
  for (auto& config : s.tls_configs) {
    // The files' pair replaces the first (default) certificate; those
    // added in tls_config for other SNI names stay.
    std::vector<tls::Certificate> certs = config->certificates();
    if (certs.empty()) {
      certs.push_back(cert);
    } else {
      certs.front() = cert;
    }
    if (tls::LoadError set_err = config->set_certificates(std::move(certs))) return set_err;
  }
  return {};
}

Error Server::serve_conns(net::Listener& listener, std::shared_ptr<tls::ServerConfig> tls_config) {
  auto s = state_->shared;
  {
    std::lock_guard lock(s->mu);
    if (s->shutting_down.load(std::memory_order_relaxed))
      return make_error_code(errc::server_closed);
    if (!s->cancel_base_set) {
      // The first serve() copies the settings; the connections read them
      // without a lock, so a serve() on a second listener (several
      // inherited sockets) must not write them again.
      s->handler = handler;
      s->read_header_timeout = read_header_timeout;
      s->read_timeout = read_timeout;
      s->write_timeout = write_timeout;
      s->idle_timeout = idle_timeout;
      s->idle_park_after = idle_park_after;
      s->max_header_bytes = max_header_bytes;
      s->shutdown_idle_wait = shutdown_idle_wait;
      s->access_log = access_log;
      auto [ctx, cancel] = with_cancel(background());
      s->base_context = ctx;
      s->cancel_base = cancel;
      s->cancel_base_set = true;
    }
    s->listeners.push_back(&listener);
    if (tls_config) s->tls_configs.push_back(tls_config);
  }
  Error result;
  for (;;) {
    auto [conn, err] = listener.accept();
    if (err) {
      if (s->shutting_down.load(std::memory_order_relaxed)) {
        result = make_error_code(errc::server_closed);
        break;
      }
      if (err == net::errc::closed) {
        result = err;
        break;
      }
      continue;  // a failed handshake; accept() backs off on EMFILE itself
    }
    auto* c = new detail::ServedConn(s, std::move(conn), tls_config);
    {
      std::lock_guard lock(s->mu);
      s->conns.insert(c);
    }
    s->open.fetch_add(1, std::memory_order_relaxed);
    s->connections_accepted.fetch_add(1, std::memory_order_relaxed);
    gofer::go([c] { detail::ServedConn::run(c); });
  }
  std::lock_guard lock(s->mu);
  std::erase(s->listeners, &listener);
  if (tls_config) std::erase(s->tls_configs, tls_config);
  return result;
}

namespace {

enum class CloseConns { none, idle, all };

void close_listeners_and(detail::ServerState& s, CloseConns which) {
  std::lock_guard lock(s.mu);
  // A listener closed already (by another shutdown) says so: nothing to do.
  for (net::Listener* l : s.listeners) (void)l->close();
  if (which == CloseConns::none) return;
  for (detail::ServedConn* c : s.conns) {
    // Closing from here wakes the connection's goroutine with errc::closed
    // (a connection closed already says errc::closed too: nothing to do).
    if (which == CloseConns::all || c->idle.load(std::memory_order_relaxed)) (void)c->io().close();
  }
}

std::int64_t clock_ns(net::Deadline t) {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count();
}

// Under the lock, so that a serve() starting concurrently either sees
// shutting_down and returns, or has already published cancel_base for us.
void begin_shutdown(detail::ServerState& s, std::chrono::nanoseconds idle_wait) {
  CancelFunc cancel;
  {
    std::lock_guard lock(s.mu);
    if (!s.shutting_down.load(std::memory_order_relaxed)) {
      s.idle_close_at.store(clock_ns(net::Clock::now() + idle_wait), std::memory_order_relaxed);
    }
    s.shutting_down.store(true, std::memory_order_relaxed);  // under mu: see ServerState
    cancel = s.cancel_base;
  }
  cancel();
}

}  // namespace

Error Server::shutdown(const Context& ctx) {
  auto& s = *state_->shared;
  begin_shutdown(s, shutdown_idle_wait);
  // Like Go: poll with a growing interval, closing connections that went
  // idle since the last look — once the idle wait is over (until then an
  // idle connection may bring one more request, and ends after it).
  auto interval = std::chrono::milliseconds(1);
  bool idle_wait_over = false;
  for (;;) {
    net::Deadline now = net::Clock::now();
    net::Deadline idle_close_at{
        std::chrono::nanoseconds(s.idle_close_at.load(std::memory_order_relaxed))};
    if (!idle_wait_over && now >= idle_close_at) {
      // The idle connections close now and end within a few ms: look again
      // soon, not after the interval that grew during the idle wait (which
      // made a shutdown with idle keep-alive connections last twice the wait).
      idle_wait_over = true;
      interval = std::chrono::milliseconds(1);
    }
    close_listeners_and(s, idle_wait_over ? CloseConns::idle : CloseConns::none);
    // Acquire: pairs with each connection's release decrement, so that what
    // the connections did happens before shutdown returns.
    if (s.open.load(std::memory_order_acquire) == 0) return {};
    auto nap = interval;
    if (now < idle_close_at) {
      nap = std::min(nap, std::chrono::ceil<std::chrono::milliseconds>(idle_close_at - now));
    }
    Timer poll(nap);
    bool ended = false;
    gofer::select(recv_case(ctx.done(), [&] { ended = true; }), recv_case(poll.c()));
    if (ended) return ctx.err();
    interval = std::min<std::chrono::milliseconds>(interval * 2, std::chrono::milliseconds(500));
  }
}

Error Server::shutdown(net::Deadline deadline) {
  Context ctx;
  CancelFunc cancel;
  if (deadline != net::Deadline{}) {
    WithCancel bounded = with_deadline(background(), deadline);
    ctx = bounded.ctx;
    cancel = bounded.cancel;
  }
  Error err = shutdown(ctx);
  cancel();
  if (!err) return {};
  close_listeners_and(*state_->shared, CloseConns::all);
  return make_error_code(net::errc::timeout);
}

Error Server::close() {
  auto& s = *state_->shared;
  begin_shutdown(s, std::chrono::nanoseconds(0));
  close_listeners_and(s, CloseConns::all);
  return {};
}

void error(ResponseWriter& w, std::string_view message, int code) {
  w.header().del("Content-Length");
  w.header().set("Content-Type", "text/plain; charset=utf-8");
  w.header().set("X-Content-Type-Options", "nosniff");
  w.write_header(code);
  w.write(message);
  w.write("\n");
}

void not_found(ResponseWriter& w, Request&) {
  error(w, "404 page not found", status_not_found);
}

std::string html_escape(std::string_view s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '&':
        out += "&amp;";
        break;
      case '"':
        out += "&#34;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

void redirect(ResponseWriter& w, Request& r, std::string_view url, int code) {
  w.header().set("Location", url);
  bool had_type = w.header().has("Content-Type");
  if (!had_type && (r.method == "GET" || r.method == "HEAD")) {
    w.header().set("Content-Type", "text/html; charset=utf-8");
  }
  w.write_header(code);
  if (!had_type && r.method == "GET") {
    // Escaped: the URL may carry the request's own path (Go escapes it too).
    w.write(fmt::format("<a href=\"{}\">{}</a>.\n\n", html_escape(url), status_text(code)));
  }
}

}  // namespace gofer::http
