// ReverseProxy (gofer/http/reverse_proxy.h): one request, from the client
// to the upstream and back, in the goroutine serving it. What it does in
// order is Go's httputil.ReverseProxy.ServeHTTP's; the tunnel of a 101 is
// in proxy_tunnel.cpp.
#include "gofer/http/reverse_proxy.h"

#include <algorithm>
#include <array>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <fmt/format.h>

#include "gofer/sync.h"
#include "gofer/time.h"
#include "http/proxy_headers.h"

namespace gofer::http {
namespace {

// The inbound request's body, read as the transport sends it upstream.
// At its end the client's trailers are copied into the outbound request's
// (the transport reads them only then: client.h).
class InboundBody final : public Body {
 public:
  InboundBody(Request& in, HeaderMap& out_trailer) : in_(in), out_trailer_(out_trailer) {}
  Result<std::size_t> read(std::span<char> buf) override {
    auto r = in_.body().read(buf);
    if (r.err == net::errc::eof) {
      for (const Header& h : in_.trailers) {
        if (!detail::is_hop_header(h.name)) out_trailer_.set(h.name, h.value);
      }
    }
    return r;
  }

 private:
  Request& in_;
  HeaderMap& out_trailer_;
};

// The client's address without its port, as X-Forwarded-For has it.
std::string client_ip(const net::Addr& a) {
  std::string s = a.to_string();
  std::size_t colon = s.rfind(':');
  if (a.port() != 0 && colon != std::string::npos) s.resize(colon);
  if (s.size() >= 2 && s.front() == '[' && s.back() == ']') s = s.substr(1, s.size() - 2);
  return s;
}

// The outbound request as a copy of the inbound one: the URL as received,
// its fields without hop-by-hop ones, its body streamed.
ClientRequest outbound_request(Request& in) {
  ClientRequest out;
  out.method = std::string(in.method);
  out.url = in.url();
  out.host = std::string(in.host);
  out.set_context(in.context());
  for (const Header& h : in.headers) {
    // Host, Content-Length and Transfer-Encoding are the transport's to
    // write (from out.host and out.content_length).
    if (equal_fold(h.name, "Host") || equal_fold(h.name, "Content-Length")) continue;
    out.header.add(h.name, h.value);
  }
  detail::remove_hop_headers(out.header);
  // Go's issue 21096: tell the upstream that the client takes trailers.
  for (std::string_view te : in.header_values("TE")) {
    if (token_list_contains(te, "trailers")) out.header.set("Te", "trailers");
  }
  // No User-Agent of ours on a request that had none (Go does the same).
  if (!out.header.has("User-Agent")) out.header.set("User-Agent", "");
  if (in.content_length != 0) {
    // Declared trailers are announced upstream; their values come at the
    // body's end (InboundBody).
    for (std::string_view list : in.header_values("Trailer")) {
      detail::for_each_token(list, [&](std::string_view name) { out.trailer.set(name, ""); });
    }
    out.body = std::make_shared<InboundBody>(in, out.trailer);
    out.content_length = in.content_length;  // -1: chunked upstream
  }
  return out;
}

void default_error_handler(ResponseWriter& w, Request& r, const ClientError& err) {
  fmt::print(stderr, "http: proxy error: {} {}: {}\n", r.method, r.target, err.message());
  error(w, "", err.timeout() ? status_gateway_timeout : status_bad_gateway);
}

// Go's maxLatencyWriter: writes go to the client's writer, and a flush
// follows each within `interval` (a timer armed by the first write after a
// flush). Writes and the timer's flush take turns under a gofer::Mutex
// (a ResponseWriter serves one goroutine at a time).
class LatencyFlusher {
 public:
  LatencyFlusher(ResponseWriter& w, std::chrono::nanoseconds interval)
      : w_(w), interval_(interval) {}
  LatencyFlusher(const LatencyFlusher&) = delete;
  LatencyFlusher& operator=(const LatencyFlusher&) = delete;
  ~LatencyFlusher() { stop(); }

  WriteResult write(std::string_view data) {
    std::lock_guard lock(mu_);
    WriteResult r = w_.write(data);
    if (interval_.count() < 0) {
      if (!r.err) r.err = w_.flush();
      return r;
    }
    if (interval_.count() > 0 && !flush_pending_ && !stopped_) {
      flush_pending_ = true;
      armed_.add(1);
      timer_ = after_func(interval_, [this] {
        {
          std::lock_guard lock(mu_);
          if (flush_pending_ && !stopped_)
            (void)w_.flush();  // a failed flush: the next write fails too
          flush_pending_ = false;
        }
        armed_.done();
      });
    }
    return r;
  }

  // No flush after this returns; one running now has ended.
  void stop() {
    bool unarmed = false;
    {
      std::lock_guard lock(mu_);
      if (stopped_) return;
      stopped_ = true;
      if (flush_pending_ && timer_) unarmed = timer_->stop();
      flush_pending_ = false;
    }
    if (unarmed) armed_.done();  // its callback will never run
    armed_.wait();
  }

 private:
  ResponseWriter& w_;
  std::chrono::nanoseconds interval_;
  Mutex mu_;
  bool flush_pending_ = false;  // guarded by mu_
  bool stopped_ = false;        // guarded by mu_
  std::optional<Timer> timer_;  // guarded by mu_
  WaitGroup armed_;             // a timer callback not yet run to its end
};

// Go's flushInterval: streaming responses flush at once.
std::chrono::nanoseconds flush_interval_for(const Response& resp, std::chrono::nanoseconds base) {
  std::string_view ct = resp.header.get("Content-Type");
  std::string_view media = ct.substr(0, ct.find(';'));
  while (!media.empty() && (media.back() == ' ' || media.back() == '\t')) media.remove_suffix(1);
  if (equal_fold(media, "text/event-stream")) return std::chrono::nanoseconds(-1);
  if (resp.content_length == -1) return std::chrono::nanoseconds(-1);
  return base;
}

// Copies the body to the client. False if it could not be copied to its
// end; `upstream_err` is then set if the upstream (not the client) failed.
bool copy_body(ResponseWriter& w, Response& resp, std::chrono::nanoseconds interval,
               Error& upstream_err) {
  LatencyFlusher out(w, interval);
  std::array<char, 16 << 10> buf;  // the server's own write buffer is as large
  for (;;) {
    auto [n, err] = resp.body.read(buf);
    if (n > 0 && out.write(std::string_view(buf.data(), n)).err) return false;
    if (err == net::errc::eof) return true;
    if (err) {
      upstream_err = err;
      return false;
    }
  }
}

// Trailer names the upstream declared, to be declared to the client.
std::vector<std::string> declared_trailers(const HeaderMap& h) {
  std::vector<std::string> names;
  h.for_each([&](std::string_view name, std::string_view value) {
    if (!equal_fold(name, "Trailer")) return;
    detail::for_each_token(value, [&](std::string_view t) { names.emplace_back(t); });
  });
  return names;
}

// `in` routed to `target` (Go's rewriteRequestURL): the target's scheme
// and host, the paths joined by one '/' (on their escaped forms, so that
// an escaped '/' stays one), the target's query before the inbound one.
url::URL routed_url(const url::URL& target, const url::URL& in) {
  std::string a = target.escaped_path();
  std::string b = in.escaped_path();
  bool a_slash = !a.empty() && a.back() == '/';
  bool b_slash = !b.empty() && b.front() == '/';
  std::string path = a_slash && b_slash     ? a + b.substr(1)
                     : !a_slash && !b_slash ? a + "/" + b
                                            : a + b;
  url::URL u = target;
  u.fragment.clear();
  u.raw_fragment.clear();
  if (auto [parsed, err] = url::parse(target.scheme + "://" + target.host + path); !err) {
    u.path = std::move(parsed.path);
    u.raw_path = std::move(parsed.raw_path);
  }
  if (!u.raw_query.empty() && !in.raw_query.empty()) u.raw_query += '&';
  u.raw_query += in.raw_query;
  return u;
}

}  // namespace

void ProxyRequest::set_url(const url::URL& target) {
  out.url = routed_url(target, in.url());
  out.host.clear();  // the target's
}

void ProxyRequest::set_x_forwarded() {
  out.header.set("X-Forwarded-For", client_ip(in.remote_addr));
  if (!in.host.empty()) {
    out.header.set("X-Forwarded-Host", in.host);
  } else {
    out.header.del("X-Forwarded-Host");
  }
  out.header.set("X-Forwarded-Proto", in.tls != nullptr ? "https" : "http");
}

ReverseProxy new_single_host_reverse_proxy(url::URL target) {
  ReverseProxy p;
  p.director = [target = std::move(target)](ClientRequest& out) {
    out.url = routed_url(target, out.url);
  };
  return p;
}

void ReverseProxy::operator()(ResponseWriter& w, Request& r) const {
  ClientRequest out = outbound_request(r);
  std::string up_type = detail::upgrade_type(r);
  if (!up_type.empty()) {
    out.header.set("Connection", "Upgrade");
    out.header.set("Upgrade", up_type);
  }
  if (rewrite) {
    out.header.del("X-Forwarded-For");
    out.header.del("X-Forwarded-Host");
    out.header.del("X-Forwarded-Proto");
    ProxyRequest pr{r, out};
    rewrite(pr);
  } else {
    if (director) director(out);
    if (append_x_forwarded_for) {
      std::vector<std::string_view> prior = r.header_values("X-Forwarded-For");
      std::string joined;
      for (std::string_view v : prior) {
        if (!joined.empty()) joined += ", ";
        joined += v;
      }
      if (!joined.empty()) joined += ", ";
      joined += client_ip(r.remote_addr);
      out.header.set("X-Forwarded-For", joined);
    }
  }
  // 1xx responses go on to the client as they come (Go 1.20's proxy does
  // the same), with only their own fields.
  out.on_informational = [&w](int status, std::span<const Header> fields) {
    if (status == status_switching_protocols) return;
    HeaderMap& h = w.header();
    HeaderMap saved = h;
    h.clear();
    for (const Header& f : fields) h.add(f.name, f.value);
    w.write_header(status);
    h = std::move(saved);
  };

  auto fail = [&](const ClientError& err) {
    if (error_handler) {
      error_handler(w, r, err);
    } else {
      default_error_handler(w, r, err);
    }
  };

  std::shared_ptr<RoundTripper> rt = transport ? transport : default_transport();
  auto [resp, err] = rt->round_trip(out);
  if (err) return fail(err);
  if (modify_response) {
    if (Error e = modify_response(resp)) {
      return fail(ClientError(e, "modifying the response from " + out.url.host));
    }
  }
  if (resp.status_code == status_switching_protocols) {
    ClientError e = detail::tunnel(w, up_type, resp);
    if (e == errc::hijacked) {
      fmt::print(stderr, "http: proxy: the client's connection closed before its 101\n");
    } else if (e) {
      fail(e);
    }
    return;
  }

  std::vector<std::string> trailers = declared_trailers(resp.header);
  detail::remove_hop_headers(resp.header);
  HeaderMap& h = w.header();
  resp.header.for_each([&](std::string_view name, std::string_view value) { h.add(name, value); });
  if (!trailers.empty()) {
    std::string list;
    for (const std::string& t : trailers) {
      if (!list.empty()) list += ", ";
      list += t;
    }
    h.set("Trailer", list);
  }
  bool body_allowed = r.method != "HEAD" && resp.status_code != 204 && resp.status_code != 304;
  if (resp.content_length >= 0 && trailers.empty() && !h.has("Content-Length") && body_allowed) {
    h.set("Content-Length", std::to_string(resp.content_length));
  }
  w.write_header(resp.status_code);
  // A client waiting for trailers gets the head now (Go flushes here too).
  if (!trailers.empty()) (void)w.flush();  // a failed flush fails the copy next

  Error upstream_err;
  if (!copy_body(w, resp, flush_interval_for(resp, flush_interval), upstream_err)) {
    if (upstream_err && upstream_err != context_errc::canceled) {
      fmt::print(stderr, "http: proxy: reading the response body from {}: {}\n", out.url.host,
                 upstream_err.message());
      // What came before the failure reaches the client, cut short
      // (a failed flush: the client is gone too).
      (void)w.flush();
    }
    (void)resp.body.close();  // not read to its end: the connection closes
    throw AbortHandler();     // the client's response ends short, never complete
  }
  const HeaderMap& tr = resp.trailer();
  tr.for_each([&](std::string_view name, std::string_view value) {
    bool declared = std::any_of(trailers.begin(), trailers.end(),
                                [&](const std::string& t) { return equal_fold(t, name); });
    if (declared) {
      h.add(name, value);
    } else {
      h.add(std::string("Trailer:") + std::string(name), value);
    }
  });
}

}  // namespace gofer::http
