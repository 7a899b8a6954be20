#include "proxy.h"

#include <fmt/format.h>

#include <optional>
#include <system_error>

namespace gofer::app {
namespace {

std::int64_t now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

}  // namespace

ParsedUpstreams parse_upstreams(const std::vector<std::string>& to) {
  ParsedUpstreams out;
  for (const std::string& s : to) {
    auto [u, err] = url::parse(s);
    std::string why;
    if (err) {
      why = err.message();
    } else if (u.scheme != "http" && u.scheme != "https") {
      why = "the scheme must be http or https";
    } else if (u.host.empty()) {
      why = "no host";
    } else if (!(u.path.empty() || u.path == "/") || !u.raw_query.empty()) {
      why = "a path or query is not supported (requests keep their own)";
    }
    if (!why.empty()) {
      out.error = fmt::format("--to {}: {}", s, why);
      return out;
    }
    u.path.clear();
    out.urls.push_back(std::move(u));
  }
  if (out.urls.empty()) out.error = "at least one --to URL is needed";
  return out;
}

Upstreams::Upstreams(std::vector<url::URL> urls, std::chrono::nanoseconds fail_timeout)
    : urls_(std::move(urls)),
      fail_timeout_(fail_timeout),
      transport_(std::make_shared<http::Transport>()),
      down_until_(new std::atomic<std::int64_t>[urls_.size()]) {
  for (std::size_t i = 0; i < urls_.size(); ++i) down_until_[i].store(0);
  // A proxy keeps many connections to few hosts: Go's 2 idle connections
  // per host would make most requests dial.
  transport_->max_idle_conns = 0;
  transport_->max_idle_conns_per_host = 1024;
}

std::size_t Upstreams::next_healthy() {
  std::int64_t now = now_ns();
  std::size_t n = urls_.size();
  std::size_t start = turn_.fetch_add(1, std::memory_order_relaxed) % n;
  for (std::size_t k = 0; k < n; ++k) {
    std::size_t i = (start + k) % n;
    if (down_until_[i].load(std::memory_order_relaxed) <= now) return i;
  }
  return start;  // all down: try them anyway, in turn
}

const url::URL& Upstreams::pick() {
  return urls_[next_healthy()];
}

std::size_t Upstreams::index_of(const url::URL& u) const {
  for (std::size_t i = 0; i < urls_.size(); ++i) {
    if (urls_[i].host == u.host && urls_[i].scheme == u.scheme) return i;
  }
  return urls_.size();
}

void Upstreams::mark_down(std::size_t i) {
  std::int64_t until = now_ns() + fail_timeout_.count();
  if (down_until_[i].exchange(until, std::memory_order_relaxed) <= now_ns()) {
    fmt::print(stderr, "gofer: proxy: {} refused a connection; skipped for {} s\n",
               urls_[i].to_string(), std::chrono::duration<double>(fail_timeout_).count());
  }
}

http::ClientResult<http::Response> Upstreams::round_trip(const http::ClientRequest& req) {
  auto result = transport_->round_trip(req);
  std::size_t tried = 1;
  std::optional<http::ClientRequest> retry;  // a copy, made only when one is needed
  while (result.err == std::errc::connection_refused && tried < urls_.size()) {
    const url::URL& failed = retry ? retry->url : req.url;
    if (std::size_t i = index_of(failed); i < urls_.size()) mark_down(i);
    std::size_t next = next_healthy();
    if (down_until_[next].load(std::memory_order_relaxed) > now_ns()) break;
    if (!retry) retry.emplace(req);
    retry->url.scheme = urls_[next].scheme;
    retry->url.host = urls_[next].host;
    // The refused dial sent nothing: the body is still unread.
    result = transport_->round_trip(*retry);
    ++tried;
  }
  if (result.err == std::errc::connection_refused) {
    if (std::size_t i = index_of(retry ? retry->url : req.url); i < urls_.size()) mark_down(i);
  }
  return result;
}

http::Handler make_proxy(std::shared_ptr<Upstreams> upstreams) {
  http::ReverseProxy proxy;
  proxy.transport = upstreams;
  proxy.rewrite = [upstreams](http::ProxyRequest& pr) {
    std::string host = pr.out.host;  // the client's Host goes on (as Go's single-host proxy)
    pr.set_url(upstreams->pick());
    pr.out.host = std::move(host);
    pr.set_x_forwarded();
  };
  return proxy;
}

}  // namespace gofer::app
