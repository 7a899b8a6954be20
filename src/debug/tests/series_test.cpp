// SeriesRecorder and /debug/gofer/series against a real server on loopback:
// a burst of known size is counted exactly, fractions stay fractions, an
// idle stretch shows the process asleep (the seed's "with no requests, the
// server sleeps": ~0% CPU, one M in epoll_wait, the others on a futex), and
// the handler answers bad arguments with 400. No timing is asserted: the
// test waits for samples to be taken, however long they take.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <fmt/format.h>

#include <chrono>
#include <cmath>

#include "gofer/debug.h"
#include "gofer/http/httptest.h"
#include "gofer/http/server.h"
#include "gofer/net.h"
#include "gofer/runtime.h"
#include "gofer/sync.h"
#include "gofer/time.h"

namespace http = gofer::http;
namespace net = gofer::net;
namespace debug = gofer::debug;
using json = nlohmann::json;
using namespace std::chrono_literals;

namespace {

constexpr std::string_view kBody = "Hello, World!";

// n keep-alive requests for /hello on one connection, one after the other;
// returns how many were answered 200.
int get_hello(int port, int n) {
  auto [c, err] = net::dial("tcp", fmt::format("127.0.0.1:{}", port), 5s);
  if (err) return 0;
  (void)c.set_deadline(net::Clock::now() + 30s);  // a hung server fails the test
  std::string pending;
  int ok = 0;
  for (int i = 0; i < n; ++i) {
    if (c.write(std::string_view("GET /hello HTTP/1.1\r\nHost: test\r\n\r\n")).err) break;
    std::size_t end;
    while ((end = pending.find(kBody)) == std::string::npos) {
      char buf[4096];
      auto [k, rerr] = c.read(buf);
      if (rerr) return ok;
      pending.append(buf, k);
    }
    if (pending.starts_with("HTTP/1.1 200")) ++ok;
    pending.erase(0, end + kBody.size());
  }
  return ok;
}

// Waits (parking, never asserting how long) until `recorder` has taken
// `more` samples after now, for at most 60 s.
void wait_samples(const debug::SeriesRecorder& recorder, std::uint64_t more) {
  std::uint64_t want = recorder.samples() + more;
  auto give_up = std::chrono::steady_clock::now() + 60s;
  while (recorder.samples() < want && std::chrono::steady_clock::now() < give_up) {
    gofer::sleep_for(10ms);
  }
  ASSERT_GE(recorder.samples(), want) << "no samples for 60 s";
}

// Counts from a rate column: rate times each point's own interval.
double count(const json& rates, const json& dt) {
  double n = 0;
  for (std::size_t i = 0; i < rates.size(); ++i) {
    n += std::round(rates[i].get<double>() * dt[i].get<double>());
  }
  return n;
}

void expect_fraction(const json& v, const std::string& what) {
  if (v.is_null()) return;
  EXPECT_GE(v.get<double>(), 0.0) << what;
  EXPECT_LE(v.get<double>(), 1.0) << what;
}

// Runs body(port, server) with a server for /hello on 127.0.0.1:0 in a
// runtime of two Ps.
void with_server(const std::function<void(int, const http::Server&)>& body) {
  gofer::run(
      [&] {
        auto [ln, err] = net::listen("tcp", "127.0.0.1:0");
        ASSERT_FALSE(err) << err.message();
        http::Server server;
        server.handler = [](http::ResponseWriter& w, http::Request&) { w.write(kBody); };
        gofer::WaitGroup served;
        served.add(1);
        gofer::go([&] {
          EXPECT_EQ(server.serve(ln), http::errc::server_closed);
          served.done();
        });
        body(ln.addr().port(), server);
        EXPECT_FALSE(server.shutdown(net::Clock::now() + 2s));
        served.wait();
      },
      {.procs = 2});
}

// Every request of a burst is in the series — as Prometheus' rate() of
// http_requests_total would count them — once, in the 2xx class; P busy
// and M fractions are fractions; the quiet stretch after it is asleep.
TEST(Series, CountsABurstExactlyAndShowsTheIdleServerAsleep) {
  with_server([](int port, const http::Server& server) {
    // A load threshold of 1 request/s: the burst is load however slowly a
    // sanitizer runs it.
    debug::SeriesRecorder recorder(&server, {.interval = 200ms, .load_rps = 1});
    wait_samples(recorder, 1);

    constexpr int kConns = 4, kEach = 75;
    std::atomic<int> ok{0};
    gofer::WaitGroup clients;
    clients.add(kConns);
    for (int i = 0; i < kConns; ++i) {
      gofer::go([&] {
        ok += get_hello(port, kEach);
        clients.done();
      });
    }
    // Meanwhile, a goroutine that keeps its P busy without parking for a
    // while: some point must show a P busy.
    gofer::WaitGroup spun;
    spun.add(1);
    gofer::go([&] {
      auto until = std::chrono::steady_clock::now() + 300ms;
      while (std::chrono::steady_clock::now() < until) {
      }
      spun.done();
    });
    clients.wait();
    spun.wait();
    ASSERT_EQ(ok.load(), kConns * kEach);
    // Connections closed; then a quiet stretch of several points.
    wait_samples(recorder, 6);

    json s = json::parse(recorder.json());
    ASSERT_GE(s["t"].size(), 7u);
    EXPECT_EQ(s["resolution"], "0.2s");
    EXPECT_EQ(s["procs"], 2);
    EXPECT_EQ(count(s["requests"]["total"], s["dt_s"]), kConns * kEach);
    EXPECT_EQ(count(s["requests"]["2xx"], s["dt_s"]), kConns * kEach);
    EXPECT_EQ(count(s["requests"]["4xx"], s["dt_s"]), 0);

    std::size_t n = s["t"].size();
    ASSERT_EQ(s["p_busy"].size(), 2u);
    double busiest = 0;
    for (const auto& p : s["p_busy"]) {
      ASSERT_EQ(p.size(), n);
      for (const auto& v : p) {
        expect_fraction(v, "p_busy");
        busiest = std::max(busiest, v.get<double>());
      }
    }
    EXPECT_GT(busiest, 0.0) << "a P spun for 300 ms and no point shows it busy";
    for (const auto& m : s["ms"]) {
      for (const char* state : {"running", "spinning", "netpoll", "futex", "blocking"}) {
        for (const auto& v : m[state])
          expect_fraction(v, fmt::format("M{} {}", m["id"].get<int>(), state));
      }
    }
    // Latency quantiles where requests completed, ordered.
    bool some_latency = false;
    for (std::size_t i = 0; i < n; ++i) {
      const auto& l = s["latency_s"];
      if (l["p50"][i].is_null()) continue;
      some_latency = true;
      EXPECT_LE(l["p50"][i].get<double>(), l["p99"][i].get<double>());
      EXPECT_LE(l["p99"][i].get<double>(), l["p999"][i].get<double>());
    }
    EXPECT_TRUE(some_latency);

    // The last points are quiet: no requests, no connection, and the quietest
    // shows the process asleep: almost no CPU, and every M asleep — one in
    // epoll_wait (the poller, which also wakes for the recorder's timer),
    // the others on their futex.
    double least_cpu = 1e9;
    std::size_t quietest = n;
    for (std::size_t i = n - 3; i < n; ++i) {
      EXPECT_EQ(s["requests"]["total"][i], 0) << "point " << i;
      EXPECT_EQ(s["connections"]["open"][i], 0) << "point " << i;
      double cpu = s["cpu"]["user"][i].get<double>() + s["cpu"]["system"][i].get<double>();
      if (cpu < least_cpu) least_cpu = cpu, quietest = i;
    }
    EXPECT_LT(least_cpu, 0.05) << "cores busy while idle";
    double asleep = s["threads"]["netpoll"][quietest].get<double>() +
                    s["threads"]["futex"][quietest].get<double>();
    double ms = 0;
    for (const auto& m : s["ms"]) ms += m["netpoll"][quietest].is_null() ? 0 : 1;
    EXPECT_GE(asleep, 0.9 * ms) << s.dump();
    EXPECT_GE(s["threads"]["netpoll"][quietest].get<double>(), 0.5) << "no M asleep in epoll_wait";

    // The burst began and ended inside the window: two events, in order.
    ASSERT_EQ(s["events"].size(), 2u) << s["events"].dump();
    EXPECT_EQ(s["events"][0]["what"], "load started");
    EXPECT_EQ(s["events"][1]["what"], "load stopped");
    EXPECT_LT(s["events"][0]["t"].get<double>(), s["events"][1]["t"].get<double>());

    // ?since= gives only the later points, and the events seen after it.
    double since = s["t"][n - 2].get<double>();
    json later = json::parse(recorder.json(since));
    ASSERT_GE(later["t"].size(), 1u);
    EXPECT_GT(later["t"][0].get<double>(), since);
    EXPECT_EQ(later["events"].size(), 0u);
  });
}

// The coarse series: its points cover coarse_every fine ones, and its
// counts come from the counters at its boundaries, so they add up too.
TEST(Series, CoarsePointsCountTheSameRequests) {
  with_server([](int port, const http::Server& server) {
    debug::SeriesRecorder recorder(&server, {.interval = 100ms, .coarse_every = 3});
    wait_samples(recorder, 1);
    ASSERT_EQ(get_hello(port, 50), 50);
    wait_samples(recorder, 7);
    json c = json::parse(recorder.json(0, true));
    EXPECT_EQ(c["resolution"], "0.3s");
    ASSERT_GE(c["t"].size(), 2u);
    EXPECT_EQ(count(c["requests"]["total"], c["dt_s"]), 50);
    json f = json::parse(recorder.json());
    EXPECT_EQ(count(f["requests"]["total"], f["dt_s"]), 50);
  });
}

// The handler: 404 (with why) when the program records no history, 400 for
// a malformed since= or coarse=, JSON otherwise.
TEST(Series, HandlerAnswersBadArgumentsWith400) {
  gofer::run([] {
    auto get = [](http::ServeMux& mux, const char* target) {
      auto req = http::httptest::new_request("GET", target);
      http::httptest::ResponseRecorder rec;
      mux(rec, *req);
      return rec;
    };
    // httptest's client is 192.0.2.1, not loopback: the pages answer it
    // only with allow_remote (debug_test's Handlers tests check the 403).
    http::ServeMux without;
    debug::register_handlers(without, nullptr, {.allow_remote = true});
    auto none = get(without, "/debug/gofer/series");
    EXPECT_EQ(none.code, 404);
    EXPECT_NE(none.body.find("SeriesRecorder"), std::string::npos);

    debug::SeriesRecorder recorder(nullptr, {.interval = 50ms});
    wait_samples(recorder, 2);
    http::ServeMux mux;
    debug::register_handlers(mux, nullptr, {.series = &recorder, .allow_remote = true});
    for (const char* bad : {"/debug/gofer/series?since=abc", "/debug/gofer/series?since=-1",
                            "/debug/gofer/series?since=1e999", "/debug/gofer/series?coarse=yes"}) {
      EXPECT_EQ(get(mux, bad).code, 400) << bad;
    }
    auto ok = get(mux, "/debug/gofer/series?since=0");
    EXPECT_EQ(ok.code, 200);
    json s = json::parse(ok.body);
    EXPECT_GE(s["t"].size(), 2u);
    // Without a server there are no HTTP figures, but the runtime's are there.
    EXPECT_EQ(s["requests"]["total"][0], 0);
    EXPECT_GE(s["goroutines"]["running"][0].get<int>(), 1);
    EXPECT_EQ(get(mux, "/debug/gofer/series?coarse=1").code, 200);
  });
}

}  // namespace
