// The default site of `gofer serve`: the seed's story (docs/design.md), the benchmark
// endpoint, an echo endpoint, static files, and the health endpoints.
#pragma once

#include <string>

#include "gofer/debug.h"
#include "gofer/http/health.h"
#include "gofer/http/server.h"

namespace gofer::app {

struct SiteOptions {
  std::string root;                               // files served under /static/; empty: none
  bool debug = false;                             // serve /debug/… and /metrics
  bool debug_public = false;                      // …to clients not on loopback too
  const http::Health* health = nullptr;           // /healthz and /readyz; may be null
  const http::Server* server = nullptr;           // for the HTTP metrics
  const debug::SeriesRecorder* series = nullptr;  // /debug/gofer/series; may be null
};

http::Handler make_site(const SiteOptions& options);
// `gofer proxy`'s: /healthz, /readyz and the debug pages as make_site
// serves them (per `options`; root is not used), every other request to
// `proxy`.
http::Handler make_proxy_site(const SiteOptions& options, http::Handler proxy);

}  // namespace gofer::app
