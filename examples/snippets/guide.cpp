// The gofer side of docs/go-to-gofer.md, one function per idiom, as a
// program that CI compiles and runs (check_excerpts.cpp keeps the guide's
// copies equal to these lines). Servers listen on 127.0.0.1:0.
#include <fmt/core.h>
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "gofer/chan.h"
#include "gofer/context.h"
#include "gofer/http/httptest.h"
#include "gofer/http/mux.h"
#include "gofer/http/server.h"
#include "gofer/net.h"
#include "gofer/runtime.h"
#include "gofer/signal.h"
#include "gofer/sync.h"
#include "gofer/time.h"
#include "status_recorder.h"

using namespace std::chrono_literals;

namespace {

void check(bool ok, const char* what) {
  if (!ok) {
    std::fprintf(stderr, "guide snippets: %s\n", what);
    std::exit(1);
  }
}

int fetch(const std::string& url) {
  return static_cast<int>(url.size());
}

// clang-format off
// --- goroutine + WaitGroup
std::vector<int> fetch_all(const std::vector<std::string>& urls) {
  std::vector<int> sizes(urls.size());
  gofer::WaitGroup wg;
  for (std::size_t i = 0; i < urls.size(); ++i) {
    wg.add(1);
    gofer::go([&, i] {
      sizes[i] = fetch(urls[i]);
      wg.done();
    });
  }
  wg.wait();
  return sizes;
}

// --- channels and select with a timeout
void channels() {
  auto jobs = gofer::make_chan<int>(10);
  auto results = gofer::make_chan<int>(10);
  gofer::go([jobs, results] {
    for (int j : jobs) results.send(j * 2);  // until jobs is closed
    results.close();
  });
  for (int j = 1; j <= 3; ++j) jobs.send(j);
  jobs.close();

  int sum = 0;
  for (;;) {
    int r = 0;
    bool ok = false;
    switch (gofer::select(gofer::recv_to(results, r, ok), gofer::recv_case(gofer::after(1s)))) {
      case 0:
        if (!ok) break;  // closed: all results are in
        sum += r;
        continue;
      case 1:
        fmt::print("timed out\n");
        break;
    }
    break;
  }
  check(sum == 12, "channels");
}

// --- context propagation
gofer::Error slow_operation(const gofer::Context& ctx) {
  int r = 0;
  auto done = gofer::make_chan<int>(1);
  gofer::go([done] { gofer::sleep_for(50ms); done.send(42); });
  switch (gofer::select(gofer::recv_to(done, r), gofer::recv_case(ctx.done()))) {
    case 0: return {};
    default: return ctx.err();  // context_errc::deadline_exceeded or ::canceled
  }
}

void contexts() {
  auto [ctx, cancel] = gofer::with_timeout(gofer::background(), 10ms);
  gofer::Error err = slow_operation(ctx);
  cancel();
  check(err == gofer::context_errc::deadline_exceeded, "context");
}

// --- http.Handler and middleware
gofer::http::Handler logging(gofer::http::Handler next) {
  return [next](gofer::http::ResponseWriter& w, gofer::http::Request& r) {
    auto start = std::chrono::steady_clock::now();
    StatusRecorder rec(w);
    next(rec, r);
    auto took = std::chrono::steady_clock::now() - start;
    fmt::print("{} {} {} {}us\n", r.method, r.path, rec.status,
               std::chrono::duration_cast<std::chrono::microseconds>(took).count());
  };
}

gofer::http::Handler routes() {
  gofer::http::ServeMux mux;
  mux.handle_func("GET /hello/{name}", [](gofer::http::ResponseWriter& w, gofer::http::Request& r) {
    w.write("hello, " + std::string(r.path_value("name")) + "\n");
  });
  return logging(mux);
}

// --- graceful shutdown
void serve_until_signal(gofer::http::Server& server, gofer::net::Listener& ln) {
  auto sigs = gofer::make_chan<int>(1);
  gofer::signal::notify(sigs, SIGTERM, SIGINT);
  gofer::WaitGroup serving;
  serving.add(1);
  gofer::go([&] {
    gofer::Error err = server.serve(ln);  // http::errc::server_closed after shutdown
    if (err != gofer::http::errc::server_closed) fmt::print(stderr, "serve: {}\n", err.message());
    serving.done();
  });
  (void)sigs.recv();  // parks until SIGTERM or SIGINT
  auto [ctx, cancel] = gofer::with_timeout(gofer::background(), 10s);
  if (server.shutdown(ctx)) (void)server.close();  // past 10 s: end the rest
  cancel();
  serving.wait();
  gofer::signal::stop(sigs);
}

// --- encoding/json
struct Item {
  std::string name;
  int count = 0;
};
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(Item, name, count)

void create_item(gofer::http::ResponseWriter& w, gofer::http::Request& r) {
  auto [body, err] = r.body().read_all(1 << 20);  // Go: http.MaxBytesReader + io.ReadAll
  if (err) {
    gofer::http::error(w, err.message(), gofer::http::status_bad_request);
    return;
  }
  Item item;
  try {
    item = nlohmann::json::parse(body).get<Item>();  // Go: json.Unmarshal
  } catch (const nlohmann::json::exception& e) {
    gofer::http::error(w, e.what(), gofer::http::status_bad_request);
    return;
  }
  item.count++;
  w.header().set("Content-Type", "application/json");
  w.write(nlohmann::json(item).dump());  // Go: json.NewEncoder(w).Encode(item)
}
// clang-format on

// Runs the idioms above; the servers over 127.0.0.1.
void run_all() {
  auto sizes = fetch_all({"a", "bb", "ccc"});
  check(sizes == std::vector<int>{1, 2, 3}, "fetch_all");
  channels();
  contexts();

  gofer::http::Handler h = routes();
  auto req = gofer::http::httptest::new_request("GET", "/hello/gopher");
  gofer::http::httptest::ResponseRecorder rec;
  h(rec, *req);
  check(rec.code == 200 && rec.body == "hello, gopher\n", "middleware");

  auto post = gofer::http::httptest::new_request("POST", "/items", R"({"name":"x","count":1})");
  gofer::http::httptest::ResponseRecorder created;
  create_item(created, *post);
  check(created.body == R"({"count":2,"name":"x"})", "json");
  auto bad = gofer::http::httptest::new_request("POST", "/items", "{");
  gofer::http::httptest::ResponseRecorder refused;
  create_item(refused, *bad);
  check(refused.code == 400, "bad json");

  // Graceful shutdown: a request is served, then SIGTERM stops the server.
  auto [ln, err] = gofer::net::listen("tcp", "127.0.0.1:0");
  check(!err, "listen");
  std::string addr = ln.addr().to_string();
  gofer::http::Server server;
  server.handler = routes();
  gofer::go([addr] {
    auto [c, derr] = gofer::net::dial("tcp", addr);
    check(!derr, "dial");
    (void)c.write(
        std::string_view("GET /hello/you HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"));
    std::string got;
    char buf[512];
    for (;;) {
      auto [n, rerr] = c.read(buf);
      if (rerr) break;
      got.append(buf, n);
    }
    check(got.find("hello, you") != std::string::npos, "served before the signal");
    ::kill(::getpid(), SIGTERM);
  });
  serve_until_signal(server, ln);
}

}  // namespace

int main() {
  gofer::run(run_all);
  std::puts("guide snippets: ok");
  return 0;
}
