// /debug/gofer: a live page served from the binary (no CDN; built from
// web/live_page.* with uPlot by web/embed_page.cmake) that polls once a
// second /debug/gofer/state (the machine now: Ps and what they run, Ms and
// where they are, goroutines by state, the netpoller, HTTP),
// /debug/gofer/series (the charts of the last minutes) and
// /debug/gofer/journeys (the last requests' journeys as timelines) — and the
// registration of every debug handler.
#include <charconv>
#include <cmath>

#include "debug/handlers.h"
#include "gofer/debug.h"

namespace gofer::debug {
namespace {

// ?since=T (Unix seconds, default 0) and ?coarse=1: the arguments of
// SeriesRecorder::json. A malformed value is a 400, not a guess.
bool parse_since(const std::string& text, double* since) {
  if (text.empty()) return true;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), *since);
  return ec == std::errc() && end == text.data() + text.size() && std::isfinite(*since) &&
         *since >= 0;
}

// The mux, with every handler registered through it answering 403 to a
// client not on loopback unless `allow_remote` (HandlerOptions).
class GuardedMux {
 public:
  GuardedMux(http::ServeMux& mux, bool allow_remote) : mux_(mux), allow_remote_(allow_remote) {}

  void handle_func(std::string_view pattern, http::Handler handler) {
    if (allow_remote_) {
      mux_.handle_func(pattern, std::move(handler));
      return;
    }
    mux_.handle_func(pattern, [h = std::move(handler)](http::ResponseWriter& w, http::Request& r) {
      if (!r.remote_addr.is_loopback()) {
        http::error(w, "the debug pages answer only clients on loopback", http::status_forbidden);
        return;
      }
      h(w, r);
    });
  }

 private:
  http::ServeMux& mux_;
  bool allow_remote_;
};

}  // namespace

void register_handlers(http::ServeMux& mux, const http::Server* server,
                       const SeriesRecorder* series) {
  register_handlers(mux, server, HandlerOptions{.series = series});
}

void register_handlers(http::ServeMux& plain_mux, const http::Server* server,
                       const HandlerOptions& options) {
  GuardedMux mux(plain_mux, options.allow_remote);
  const SeriesRecorder* series = options.series;
  mux.handle_func("GET /debug/gofer", [](http::ResponseWriter& w, http::Request&) {
    w.header().set("Content-Type", "text/html; charset=utf-8");
    w.write(detail::kLivePage);
  });
  mux.handle_func("GET /debug/gofer/series", [series](http::ResponseWriter& w, http::Request& r) {
    if (series == nullptr) {
      http::error(w, "no history: this program records none (gofer::debug::SeriesRecorder)",
                  http::status_not_found);
      return;
    }
    double since = 0;
    if (!parse_since(r.query("since"), &since)) {
      http::error(w, "since: expected Unix seconds (a number >= 0)", http::status_bad_request);
      return;
    }
    std::string coarse = r.query("coarse");
    if (!coarse.empty() && coarse != "0" && coarse != "1") {
      http::error(w, "coarse: expected 0 or 1", http::status_bad_request);
      return;
    }
    w.header().set("Content-Type", "application/json");
    w.header().set("Cache-Control", "no-store");
    w.write(series->json(since, coarse == "1"));
  });
  mux.handle_func("GET /debug/gofer/state", [server](http::ResponseWriter& w, http::Request&) {
    w.header().set("Content-Type", "application/json");
    w.header().set("Cache-Control", "no-store");
    w.write(state_json(server));
  });
  mux.handle_func("GET /debug/gofer/journeys", &detail::serve_journeys);
  mux.handle_func("GET /debug/trace", &detail::serve_trace);
  mux.handle_func("GET /debug/goroutines", [](http::ResponseWriter& w, http::Request&) {
    w.header().set("Content-Type", "text/plain; charset=utf-8");
    w.write(goroutine_dump());
  });
  mux.handle_func("GET /metrics", [server](http::ResponseWriter& w, http::Request&) {
    w.header().set("Content-Type", "text/plain; version=0.0.4; charset=utf-8");
    w.write(metrics_text(server));
  });
}

}  // namespace gofer::debug
