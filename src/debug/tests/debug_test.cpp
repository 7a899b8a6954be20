// The debug layer against a running runtime and server: the goroutine dump
// of known parked goroutines, /metrics against the Prometheus text format,
// and the live page's JSON.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <chrono>
#include <cstring>
#include <regex>
#include <set>
#include <sstream>

#include "gofer/chan.h"
#include "gofer/debug.h"
#include "gofer/http/httptest.h"
#include "gofer/runtime.h"
#include "gofer/sync.h"
#include "gofer/time.h"

namespace {

// Go's goroutine profile lists a goroutine blocked in a receive as
// "[chan receive]"; ours must show the same for each of them.
TEST(GoroutineDump, ShowsParkedGoroutinesWithTheirWaitReason) {
  gofer::run(
      [] {
        auto block = gofer::make_chan<int>();
        gofer::WaitGroup started, done;
        std::vector<std::uint64_t> ids(3);
        started.add(3);
        done.add(3);
        for (int i = 0; i < 3; ++i) {
          gofer::go([&, i, block] {
            ids[i] = gofer::this_goroutine_id();
            started.done();
            block.recv();
            done.done();
          });
        }
        started.wait();
        // started.done() comes before the receive parks, so on another P a
        // goroutine may still be running for a moment: look again until all
        // three are parked, for at most 5 s.
        auto all_parked = [&](const std::string& dump) {
          for (auto id : ids) {
            if (dump.find("goroutine " + std::to_string(id) + " [chan receive") ==
                std::string::npos)
              return false;
          }
          return true;
        };
        std::string dump = gofer::debug::goroutine_dump();
        auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(5);
        while (!all_parked(dump) && std::chrono::steady_clock::now() < give_up) {
          gofer::sleep_for(std::chrono::milliseconds(1));
          dump = gofer::debug::goroutine_dump();
        }
        for (auto id : ids) {
          std::string line = "goroutine " + std::to_string(id) + " [chan receive";
          EXPECT_NE(dump.find(line), std::string::npos) << "missing: " << line << "\n" << dump;
        }
        EXPECT_NE(dump.find("goroutine 1 [running"), std::string::npos) << dump;
        EXPECT_NE(dump.find("created by"), std::string::npos);
        block.close();
        done.wait();
      },
      {.procs = 2});
}

}  // namespace

// External linkage and never inlined, so the dump can name it.
[[gnu::noinline]] void gofer_test_spawns_a_parked_goroutine(gofer::Chan<int> block,
                                                            gofer::WaitGroup& done) {
  gofer::go([block, &done] {
    block.recv();
    done.done();
  });
}

namespace {

// Go's goroutine profile says where each goroutine was created: "created by
// <the function with the go statement> in goroutine <its goroutine>" — the
// function that called go(), not the one that called it.
TEST(GoroutineDump, NamesTheFunctionThatCalledGo) {
  gofer::run([] {
    auto block = gofer::make_chan<int>();
    gofer::WaitGroup done;
    done.add(1);
    gofer_test_spawns_a_parked_goroutine(block, done);
    std::string dump = gofer::debug::goroutine_dump();
    std::string want =
        "created by gofer_test_spawns_a_parked_goroutine(gofer::Chan<int>, gofer::WaitGroup&) in "
        "goroutine " +
        std::to_string(gofer::this_goroutine_id());
    EXPECT_NE(dump.find(want), std::string::npos) << want << "\n" << dump;
    block.close();
    done.wait();
  });
}

// The Prometheus text format, version 0.0.4: every sample line belongs to a
// family announced by # HELP and # TYPE; names and labels are well formed;
// values parse as numbers.
TEST(Metrics, ParseAsPrometheusTextFormat) {
  std::string text;
  gofer::run([&] {
    for (int i = 0; i < 5; ++i) gofer::go([] {});
    text = gofer::debug::metrics_text(nullptr);
  });
  std::regex help(R"(# HELP ([a-zA-Z_:][a-zA-Z0-9_:]*) .+)");
  std::regex type(R"(# TYPE ([a-zA-Z_:][a-zA-Z0-9_:]*) (counter|gauge|histogram|summary|untyped))");
  std::regex sample(
      R"(([a-zA-Z_:][a-zA-Z0-9_:]*)(\{([a-zA-Z_][a-zA-Z0-9_]*="[^"\\]*"(,[a-zA-Z_][a-zA-Z0-9_]*="[^"\\]*")*)?\})? (-?[0-9.eE+-]+|\+Inf|NaN))");
  std::set<std::string> typed;
  std::istringstream in(text);
  std::string line;
  int samples = 0;
  while (std::getline(in, line)) {
    std::smatch m;
    if (std::regex_match(line, m, help)) continue;
    if (std::regex_match(line, m, type)) {
      typed.insert(m[1]);
      continue;
    }
    ASSERT_TRUE(std::regex_match(line, m, sample)) << "bad line: " << line;
    std::string name = m[1];
    for (const char* suffix : {"_bucket", "_sum", "_count"}) {
      if (!typed.count(name) && name.ends_with(suffix))
        name = name.substr(0, name.size() - std::strlen(suffix));
    }
    EXPECT_TRUE(typed.count(name)) << "sample without # TYPE: " << line;
    ++samples;
  }
  EXPECT_GT(samples, 10);
  EXPECT_NE(text.find("gofer_goroutines "), std::string::npos);
  EXPECT_NE(text.find("gofer_procs "), std::string::npos);
}

TEST(State, IsValidJsonWithOneEntryPerP) {
  std::string text;
  gofer::run([&] { text = gofer::debug::state_json(nullptr); }, {.procs = 2});
  auto j = nlohmann::json::parse(text);
  EXPECT_EQ(j["procs"], 2);
  EXPECT_EQ(j["ps"].size(), 2u);
  EXPECT_GE(j["goroutines"].get<int>(), 1);
  EXPECT_TRUE(j["goroutines_by_state"].is_object());
}

// A client address: 127.0.0.1 or, with remote, 192.0.2.1 (TEST-NET-1).
gofer::net::Addr client_addr(bool remote) {
  sockaddr_in sin{};
  sin.sin_family = AF_INET;
  sin.sin_port = htons(40000);
  sin.sin_addr.s_addr = htonl(remote ? 0xC0000201 : INADDR_LOOPBACK);
  return gofer::net::Addr(reinterpret_cast<const sockaddr*>(&sin), sizeof sin);
}

constexpr const char* kDebugPaths[] = {
    "/debug/gofer", "/debug/gofer/state",        "/debug/goroutines",
    "/metrics",     "/debug/trace?seconds=0.05", "/debug/gofer/journeys"};

TEST(Handlers, ServeThePagesThroughAMux) {
  gofer::run([] {
    gofer::http::ServeMux mux;
    gofer::debug::register_handlers(mux, nullptr);
    for (const char* path :
         {"/debug/gofer", "/debug/gofer/state", "/debug/goroutines", "/metrics"}) {
      auto req = gofer::http::httptest::new_request("GET", path);
      req->remote_addr = client_addr(false);
      gofer::http::httptest::ResponseRecorder rec;
      mux(rec, *req);
      EXPECT_EQ(rec.code, 200) << path;
      EXPECT_FALSE(rec.body.empty()) << path;
    }
  });
}

// The debug pages show the server's insides, so by default a client not on
// loopback gets 403 (as `gofer serve` keeps them off a public address), and
// nothing of the page; allow_remote is the explicit opt-out.
TEST(Handlers, AnswerOnlyLoopbackClientsUnlessAllowed) {
  gofer::run([] {
    gofer::http::ServeMux guarded, open;
    gofer::debug::register_handlers(guarded, nullptr);
    gofer::debug::register_handlers(open, nullptr, {.allow_remote = true});
    for (const char* path : kDebugPaths) {
      auto req = gofer::http::httptest::new_request("GET", path);
      req->remote_addr = client_addr(true);
      gofer::http::httptest::ResponseRecorder rec;
      guarded(rec, *req);
      EXPECT_EQ(rec.code, 403) << path;
      EXPECT_EQ(rec.body.find("goroutine"), std::string::npos) << path;

      gofer::http::httptest::ResponseRecorder allowed;
      open(allowed, *req);
      EXPECT_NE(allowed.code, 403) << path;
      EXPECT_NE(allowed.code, 404) << path;
    }
  });
}

}  // namespace
