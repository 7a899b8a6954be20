// The examples of the http headers (server, mux, file_server, health,
// httptest, cookie, form, access_log), debug.h, url.h, mime.h, multipart.h
// and tls.h, as one program that CI compiles; what needs no fixed port or
// file it runs (check_excerpts.cpp keeps the headers' copies equal to these
// lines).
#include <fmt/core.h>
#include <signal.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "gofer/chan.h"
#include "gofer/context.h"
#include "gofer/debug.h"
#include "gofer/http/access_log.h"
#include "gofer/http/cookie.h"
#include "gofer/http/file_server.h"
#include "gofer/http/form.h"
#include "gofer/http/health.h"
#include "gofer/http/httptest.h"
#include "gofer/http/mux.h"
#include "gofer/http/server.h"
#include "gofer/io.h"
#include "gofer/mime.h"
#include "gofer/multipart.h"
#include "gofer/runtime.h"
#include "gofer/signal.h"
#include "gofer/sync.h"
#include "gofer/tls.h"
#include "gofer/url.h"
#include "status_recorder.h"

// gtest's spelling, for httptest.h's example outside a test.
#define EXPECT_EQ(a, b)                                        \
  if (!((a) == (b))) {                                         \
    std::fprintf(stderr, "http snippets: %s != %s\n", #a, #b); \
    std::exit(1);                                              \
  }

namespace {

using gofer::http::Cookie;
using gofer::http::format_set_cookie;
using gofer::http::is_form_urlencoded;
using gofer::http::merge_form;
using gofer::http::parse_cookies;
using gofer::http::SameSite;
namespace url = gofer::url;
namespace tls = gofer::tls;

int cookies_seen = 0;
void use(const Cookie&) {
  ++cookies_seen;
}
void serve(tls::Conn&) {}

// clang-format off
// server.h, and the README (not run: port 8080).
[[maybe_unused]] void server_h() {
  gofer::run([] {
    gofer::http::ServeMux mux;
    mux.handle_func("GET /hello/{name}", [](auto& w, auto& r) {
      w.header().set("Content-Type", "text/plain");
      w.write(fmt::format("Hello, {}!\n", r.path_value("name")));
    });
    gofer::http::Server server;
    server.addr = "127.0.0.1:8080";
    server.handler = mux;
    if (gofer::Error err = server.listen_and_serve()) fmt::print(stderr, "{}\n", err.message());
  });
}

// server.h's graceful stop (run: no signal comes, the server is closed).
void shutdown_h() {
  gofer::http::Server server;
  gofer::WaitGroup stopped;  // (not in the header: the server outlives the goroutine)
  stopped.add(1);
  auto sigs = gofer::make_chan<int>(1);
  gofer::signal::notify(sigs, SIGTERM);
  gofer::go([&] {
    (void)sigs.recv();
    auto [ctx, cancel] = gofer::with_timeout(gofer::background(), std::chrono::seconds(10));
    if (server.shutdown(ctx)) (void)server.close();  // past 10 s: end the rest
    cancel();
    stopped.done();
  });
  sigs.send(SIGTERM);  // as notify would
  stopped.wait();
  gofer::signal::stop(sigs);
}

gofer::http::ServeMux mux_h() {
  gofer::http::ServeMux mux;
  mux.handle_func("GET /items/{id}", [](auto& w, auto& r) {
    w.write(r.path_value("id"));
  });
  mux.handle("/static/", gofer::http::strip_prefix("/static", gofer::http::file_server("www")));
  gofer::http::Server server;
  server.addr = ":8080";
  server.handler = mux;  // a Handler: the mux is copied, sharing its patterns
  return mux;
}

void file_server_h(gofer::http::ServeMux& mux) {
  auto files = gofer::http::file_server("www");
  mux.handle("GET /static/", gofer::http::strip_prefix("/static", files));
}

void health_h(gofer::http::ServeMux& mux) {
  gofer::http::Health health;
  health.register_handlers(mux);      // GET /healthz, GET /readyz
  // …
  health.set_ready(false);            // a drain begins: /readyz turns 503 at once
}

void httptest_h() {
  gofer::http::ServeMux mux;
  mux.handle_func("GET /items/{id}", [](gofer::http::ResponseWriter& w, gofer::http::Request& r) {
    w.header().set("Content-Type", "text/plain");
    w.write("item " + std::string(r.path_value("id")));
  });
  auto r = gofer::http::httptest::new_request("GET", "/items/7?full=1", "",
                                              {{"Accept", "text/plain"}});
  gofer::http::httptest::ResponseRecorder w;
  mux(w, *r);
  EXPECT_EQ(w.code, 200);
  EXPECT_EQ(w.header().get("Content-Type"), "text/plain");
  EXPECT_EQ(w.body, "item 7");
}

void cookie_h(gofer::http::ResponseWriter& w, gofer::http::Request& r) {
  std::string id = "x1";
  for (const Cookie& c : parse_cookies(r.header("Cookie"))) use(c);
  w.header().add("Set-Cookie",
                 format_set_cookie({.name = "session", .value = id, .path = "/",
                                    .max_age = 3600, .secure = true, .http_only = true,
                                    .same_site = SameSite::lax}));
}

void form_h(gofer::http::Request& r, std::string_view body) {
  if (is_form_urlencoded(r.header("Content-Type"))) {
    auto [post, err] = gofer::url::parse_query(body);   // every value of a key
    url::Values form = merge_form(post, r.url().query());
    EXPECT_EQ(form.get("a"), "1");
  }
}

// access_log.h (not run: a path under /var/log).
[[maybe_unused]] gofer::Error access_log_h(gofer::http::Server& server) {
  auto [log, err] = gofer::http::AccessLog::open("/var/log/gofer/access.log");
  if (err) return err;                         // err.message(): "Permission denied"
  server.access_log = log;                     // before serve()
  // …
  (void)log->reopen();                         // on SIGUSR1, after logrotate moved the file
  return {};
}

void debug_h(gofer::http::Server& server) {
  gofer::http::ServeMux mux;
  gofer::debug::register_handlers(mux, &server);
}

void series_h(gofer::http::Server& server, gofer::http::ServeMux& mux) {
  gofer::debug::SeriesRecorder series(&server);  // from now until destroyed
  gofer::debug::register_handlers(mux, &server, &series);
}

std::string url_h() {
  auto [u, err] = gofer::url::parse("https://user@example.com:8443/a%2Fb?q=1&q=2#top");
  if (err) return err.message();      // parse "…": invalid port ":x" after host
  u.hostname();                        // "example.com"
  u.port();                            // "8443"
  u.path;                              // "/a/b" (decoded); u.escaped_path() is "/a%2Fb"
  u.query().values("q");               // {"1", "2"}: every value of a key, in order
  auto [next, rerr] = u.parse_reference("../c?x");  // RFC 3986 §5.2
  EXPECT_EQ(u.hostname(), "example.com");
  EXPECT_EQ(u.query().values("q").size(), 2u);
  return rerr ? rerr.message() : next.path;
}

void mime_h() {
  auto [mt, err] = gofer::mime::parse_media_type("multipart/form-data; boundary=\"xyz\"");
  // mt.type == "multipart/form-data", mt.param("boundary") == "xyz"
  auto [cd, cerr] =
      gofer::mime::parse_media_type("form-data; name=\"f\"; filename*=UTF-8''%e2%82%ac.txt");
  // cd.type == "form-data", cd.param("filename") == "€.txt"
  EXPECT_EQ(mt.param("boundary"), "xyz");
  EXPECT_EQ(cd.param("filename"), "€.txt");
}

void multipart_h() {
  std::string body =
      "--xyz\r\nContent-Disposition: form-data; name=\"title\"\r\n\r\nHello\r\n"
      "--xyz\r\nContent-Disposition: form-data; name=\"doc\"; filename=\"a.txt\"\r\n"
      "Content-Type: text/plain\r\n\r\nfile bytes\r\n--xyz--\r\n";
  gofer::io::StringReader src(body);
  gofer::multipart::Reader mr(src, "xyz");
  int parts = 0;
  for (;;) {
    auto [part, err] = mr.next_part();  // valid until the next call
    if (err) break;                     // net::errc::eof after the last part
    std::string name(part->form_name()), file = part->file_name();
    auto [bytes, rerr] = gofer::io::read_all(*part, 1 << 20);
    ++parts;
  }
  EXPECT_EQ(parts, 2);
}

// tls.h (not run: cert.pem and port 8443).
[[maybe_unused]] void tls_h() {
  auto [cert, err] = tls::load_x509_key_pair("cert.pem", "key.pem");
  tls::Config config;
  config.certificates = {cert};
  auto [server_config, cerr] = tls::ServerConfig::load(config);
  if (cerr) { fmt::print(stderr, "{}\n", cerr.message()); return; }
  auto [ln, lerr] = tls::listen("tcp", ":8443", server_config);
  for (;;) {
    auto [conn, err] = ln.accept();            // a tls::Conn; its handshake runs on first use
    gofer::go([c = std::move(conn)]() mutable { serve(c); });
  }
}
// clang-format on

}  // namespace

int main() {
  gofer::run([] {
    shutdown_h();
    gofer::http::ServeMux mux = mux_h();
    file_server_h(mux);
    health_h(mux);
    httptest_h();
    auto r = gofer::http::httptest::new_request(
        "POST", "/f?b=2", "a=1",
        {{"Content-Type", "application/x-www-form-urlencoded"}, {"Cookie", "k=v"}});
    gofer::http::httptest::ResponseRecorder w;
    cookie_h(w, *r);
    EXPECT_EQ(cookies_seen, 1);
    form_h(*r, "a=1");
    gofer::http::Server server;
    debug_h(server);
    gofer::http::ServeMux debug_mux;
    series_h(server, debug_mux);
    EXPECT_EQ(url_h(), "/c");
    mime_h();
    multipart_h();
  });
  std::puts("http snippets: ok");
  return 0;
}
