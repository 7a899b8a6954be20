// `gofer proxy`: the reverse proxy in front of one or more upstreams
// (round robin; an upstream that refuses connections is skipped for a
// while, as nginx's max_fails=1 fail_timeout does).
#pragma once

#include <atomic>
#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "gofer/http/client.h"
#include "gofer/http/reverse_proxy.h"
#include "gofer/url.h"

namespace gofer::app {

// Parses the --to URLs: http or https, a host, no path beyond "/", no
// query. An error names the URL and what is wrong with it.
struct ParsedUpstreams {
  std::vector<url::URL> urls;
  std::string error;
};
ParsedUpstreams parse_upstreams(const std::vector<std::string>& to);

// The upstreams, as the RoundTripper of the proxy: each request goes to
// the next healthy one in turn; one whose connection is refused is marked
// down for `fail_timeout` and the request, which it never received, is
// sent to the next (each upstream tried at most once). When every upstream
// is down, they are tried all the same.
class Upstreams final : public http::RoundTripper {
 public:
  Upstreams(std::vector<url::URL> urls, std::chrono::nanoseconds fail_timeout);

  http::ClientResult<http::Response> round_trip(const http::ClientRequest& req) override;
  // The next upstream in turn that is not marked down.
  const url::URL& pick();
  std::size_t size() const noexcept { return urls_.size(); }

 private:
  std::size_t next_healthy();
  std::size_t index_of(const url::URL& u) const;
  void mark_down(std::size_t i);

  std::vector<url::URL> urls_;
  std::chrono::nanoseconds fail_timeout_;
  std::shared_ptr<http::Transport> transport_;
  std::atomic<std::uint64_t> turn_{0};
  // Per upstream: until when it is skipped (steady_clock, in ns), 0
  // when healthy. Relaxed: a hint; a stale read costs one refused dial.
  std::unique_ptr<std::atomic<std::int64_t>[]> down_until_;
};

// The handler: a ReverseProxy over `upstreams` that keeps the client's Host
// and sets X-Forwarded-For, -Host and -Proto.
http::Handler make_proxy(std::shared_ptr<Upstreams> upstreams);

}  // namespace gofer::app
