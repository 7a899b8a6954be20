#include "site.h"

#include <fmt/format.h>

#include <stdexcept>
#include <string>

#include "gofer/debug.h"
#include "gofer/http/file_server.h"
#include "gofer/http/mux.h"
#include "gofer/runtime.h"

namespace gofer::app {
namespace {

constexpr std::string_view kStoryHead = R"(<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>gofer — what happens inside your server</title>
<style>
body{font:16px/1.5 system-ui,sans-serif;max-width:46rem;margin:2rem auto;padding:0 1rem;color:#222}
h1{font-size:1.6rem}ol li{margin:.6rem 0}code{background:#f3f3f3;padding:0 .2rem;border-radius:3px}
.live{color:#0a5;font-weight:600}
</style></head><body>
<h1>What happens inside the computer when you run a gofer server</h1>
<p>This page was served by gofer, Go's server model in C++. Every step below
happened for <em>this</em> request; the green figures are its own.</p>
<ol>
)";

// This very request's journey so far, read from the trace (only while
// tracing is on: `gofer serve --explain`, or a /debug/trace window).
std::string journey_section() {
  if (!debug::tracing()) {
    return "<p>Start the server with <code>gofer serve --explain</code> and this page shows its "
           "own "
           "journey here, step by step: the real fds, goroutines, Ms, Ps and microseconds.</p>\n";
  }
  auto journey = debug::journey_so_far();
  if (!journey) return {};
  std::string out = "<h2>This request's journey so far</h2>\n<ol>\n";
  for (const auto& step : journey->steps) {
    out += fmt::format("<li><span class=live>+{:.1f} µs</span> {}</li>\n",
                       static_cast<double>(step.t_ns) / 1e3, http::html_escape(step.text));
  }
  return out + "</ol>\n";
}

// POST /echo: the body back as it arrives (Go's io.Copy(w, r.Body)), so a
// request holds this 16 KiB buffer and the connection's buffers whatever
// its size — no limit, no 413. A body with a Content-Length comes back
// with the same one; a chunked body, chunked. The server reads and writes
// in turn on the connection's goroutine, so a client must read the echo
// while it sends (curl does); one that does not stalls only itself.
void echo(http::ResponseWriter& w, http::Request& r) {
  std::string_view type = r.header("Content-Type");
  w.header().set("Content-Type", type.empty() ? "application/octet-stream" : type);
  if (r.content_length >= 0) w.header().set("Content-Length", std::to_string(r.content_length));
  char buf[16 << 10];
  bool sent_any = false;
  for (;;) {
    auto [n, err] = r.body().read(buf);
    if (n > 0) {
      sent_any = true;
      if (w.write({buf, n}).err) return;  // the client is gone; the server ends the connection
    }
    if (err == net::errc::eof) return;
    if (err) {
      if (!sent_any) {
        http::error(w, "bad request body", http::status_bad_request);
        return;
      }
      // Half an echo is out: end the connection rather than finish a
      // response that would look complete (Go's panic(ErrAbortHandler)).
      throw std::runtime_error("echo: reading the request body: " + err.message());
    }
  }
}

// What both sites serve besides their own: health and the debug pages.
void register_operational(http::ServeMux& mux, const SiteOptions& options) {
  if (options.health != nullptr) options.health->register_handlers(mux);
  if (options.debug)
    debug::register_handlers(mux, options.server,
                             {.series = options.series, .allow_remote = options.debug_public});
}

}  // namespace

http::Handler make_site(const SiteOptions& options) {
  auto mux = std::make_shared<http::ServeMux>();

  mux->handle_func("GET /{$}", [debug = options.debug](http::ResponseWriter& w, http::Request& r) {
    w.header().set("Content-Type", "text/html; charset=utf-8");
    w.write(kStoryHead);
    w.write(fmt::format(
        "<li>The server asked the OS for a socket and got a <b>file descriptor</b>; the main "
        "goroutine waits on it in <code>accept</code>.</li>\n"
        "<li>Your browser connected from <span class=live>{}</span>. The kernel queued the "
        "connection; the runtime's netpoller saw the listening fd become ready and woke the "
        "accepting goroutine.</li>\n"
        "<li>A new <b>goroutine</b> took the connection: this one is goroutine "
        "<span class=live>{}</span>, one of <span class=live>{}</span> alive now, running on one "
        "of "
        "<span class=live>{}</span> processors (Ps).</li>\n"
        "<li>It read your request (<span class=live>{} {}</span>) — when no bytes were there "
        "yet, it parked and its thread ran other goroutines; epoll told the runtime when they "
        "arrived.</li>\n"
        "<li>The handler ran and wrote this page into the connection's buffer; it leaves in one "
        "<code>writev</code>.</li>\n"
        "<li>With no requests, the server sleeps: its threads wait in <code>epoll_wait</code> or "
        "on a futex, using no CPU.</li>\n</ol>\n"
        "<p>Try <a href=\"/hello\">/hello</a>, or <code>curl -d hi {}/echo</code>.</p>\n",
        r.remote_addr.to_string(), gofer::this_goroutine_id(), gofer::num_goroutines(),
        gofer::procs(), r.method, r.target, r.host));
    if (debug) w.write(journey_section());
    w.write("</body></html>\n");
  });

  mux->handle_func("/hello", [](http::ResponseWriter& w, http::Request&) {
    w.header().set("Content-Type", "text/plain");
    w.write("Hello, World!");
  });

  mux->handle_func("POST /echo", echo);

  if (!options.root.empty()) {
    mux->handle("/static/", http::strip_prefix("/static", http::file_server(options.root)));
  }

  register_operational(*mux, options);
  return [mux](http::ResponseWriter& w, http::Request& r) { (*mux)(w, r); };
}

http::Handler make_proxy_site(const SiteOptions& options, http::Handler proxy) {
  auto mux = std::make_shared<http::ServeMux>();
  mux->handle("/", std::move(proxy));
  register_operational(*mux, options);
  return [mux](http::ResponseWriter& w, http::Request& r) { (*mux)(w, r); };
}

}  // namespace gofer::app
