// HTTP/2 (RFC 9113, RFC 7541) in the server: the same handlers over h2 (ALPN
// on TLS) and h2c (prior knowledge on a plaintext listener), checked with
// curl, and frame by frame — concurrency, flow control, graceful shutdown
// and the abuse limits — with a python3-h2 peer (h2_peer.py). Each test says
// which rule it checks.
#include <gtest/gtest.h>

#include <atomic>
#include <memory>
#include <string>

#include <fmt/format.h>

#include "gofer/chan.h"
#include "gofer/http/server.h"
#include "gofer/net.h"
#include "gofer/runtime.h"
#include "gofer/sync.h"
#include "gofer/time.h"
#include "gofer/tls.h"
#include "tls_test_util.h"

namespace http = gofer::http;
namespace net = gofer::net;
namespace tls = gofer::tls;
using gofer::tls::test::Pki;
using gofer::tls::test::Process;
using namespace std::chrono_literals;

namespace {

// What the handlers below share with the tests.
struct Probe {
  std::atomic<int> barrier_arrived{0};
  gofer::Chan<gofer::Empty> barrier_open = gofer::make_chan<gofer::Empty>(0);
  gofer::Chan<gofer::Empty> slow_started = gofer::make_chan<gofer::Empty>(1);
  std::atomic<std::uint64_t> big_accepted{0};
  std::atomic<bool> big_done{false};
  std::atomic<bool> big_failed{false};
  std::atomic<int> handlers{0};
};

http::Handler make_handler(std::shared_ptr<Probe> probe) {
  return [probe](http::ResponseWriter& w, http::Request& r) {
    probe->handlers.fetch_add(1);
    if (r.path == "/barrier") {
      // Ten handlers wait for each other: only goroutines of their own
      // make progress together.
      if (probe->barrier_arrived.fetch_add(1) + 1 == 10) probe->barrier_open.close();
      (void)probe->barrier_open.recv();
      w.write(fmt::format("{} met", r.proto()));
    } else if (r.path == "/echo") {
      char buf[16384];
      for (;;) {
        auto [n, err] = r.body().read(buf);
        if (n > 0) w.write(std::string_view(buf, n));
        if (err) break;
      }
    } else if (r.path == "/block") {
      gofer::Timer t(3s);
      gofer::select(gofer::recv_case(r.context().done()), gofer::recv_case(t.c()));
      w.write("unblocked");
    } else if (r.path == "/slow") {
      (void)probe->slow_started.try_send(gofer::Empty{});
      gofer::sleep_for(300ms);
      w.write("finished");
    } else if (r.path == "/big") {
      std::string chunk(16384, 'x');
      for (int i = 0; i < 1024; ++i) {  // 16 MiB
        auto res = w.write(chunk);
        probe->big_accepted.fetch_add(res.value);
        if (res.err) {
          probe->big_failed = true;
          break;
        }
      }
      probe->big_done = true;
    } else {
      std::string alpn = r.tls ? r.tls->negotiated_protocol : "none";
      w.write(fmt::format("{} alpn={}", r.proto(), alpn));
    }
  };
}

// A server on 127.0.0.1:0, h2c (or TLS with the test PKI), serving from a
// goroutine of its own; stop() shuts it down within 5 s. Inside gofer::run.
class H2Server {
 public:
  explicit H2Server(bool with_tls = false) : probe(std::make_shared<Probe>()), tls_(with_tls) {
    auto [ln, err] = net::listen("tcp4", "127.0.0.1:0");
    EXPECT_FALSE(err) << err.message();
    ln_ = std::move(ln);
    port_ = ln_.addr().port();
    server.handler = make_handler(probe);
  }
  void start() {
    serving_.add(1);
    gofer::go([this] {
      const auto& pair = Pki::get().localhost;
      gofer::Error err =
          tls_ ? server.serve_tls(ln_, pair.cert_file, pair.key_file) : server.serve(ln_);
      EXPECT_EQ(err, http::errc::server_closed);
      serving_.done();
    });
  }
  gofer::Error stop() {
    gofer::Error err = server.shutdown(net::Clock::now() + 5s);
    serving_.wait();
    return err;
  }
  std::string port() const { return std::to_string(port_); }

  std::shared_ptr<Probe> probe;
  http::Server server;

 private:
  bool tls_;
  net::Listener ln_;
  int port_ = 0;
  gofer::WaitGroup serving_;
};

// Runs h2_peer.py SCENARIO against the server; its output, and its exit
// status in `status`.
std::string run_peer(const std::string& scenario, const H2Server& srv, int& status) {
  Process p({"/usr/bin/python3", H2_PEER, scenario, srv.port()});
  EXPECT_TRUE(p.started());
  std::string out = p.wait_exit(30s);
  status = p.exit_status(5s);
  return out;
}

// What curl prints of GET / over `proto_flag` (--http2, --http1.1,
// --http2-prior-knowledge), then " v" and the HTTP version it used; https
// with the test CA for a TLS server.
std::string curl_get(const H2Server& srv, bool with_tls, const std::string& proto_flag) {
  std::string port = srv.port();
  std::vector<std::string> argv = {"curl",     "-sS", "--max-time",       "20",
                                   proto_flag, "-w",  " v%{http_version}"};
  if (with_tls) {
    for (std::string a : {"--cacert", Pki::get().ca_file.c_str(), "--resolve"}) argv.push_back(a);
    argv.push_back("localhost:" + port + ":127.0.0.1");
    argv.push_back("https://localhost:" + port + "/");
  } else {
    argv.push_back("http://127.0.0.1:" + port + "/");
  }
  Process curl(argv);
  EXPECT_TRUE(curl.started());
  return curl.wait_exit(30s);
}

// One python scenario that must pass, against a server set by `adjust`.
void expect_peer_ok(const std::string& scenario,
                    const std::function<void(http::Server&)>& adjust = {},
                    const std::function<void(H2Server&)>& after = {}) {
  gofer::run(
      [&] {
        H2Server srv;
        if (adjust) adjust(srv.server);
        srv.start();
        int status = -1;
        std::string out = run_peer(scenario, srv, status);
        EXPECT_EQ(status, 0) << out;
        EXPECT_NE(out.find("ok"), std::string::npos) << out;
        if (after) after(srv);
        EXPECT_FALSE(srv.stop());
      },
      {.procs = 2});
}

}  // namespace

// RFC 9113 §3.3: a plaintext client with prior knowledge speaks h2 at once;
// curl --http2-prior-knowledge gets the handler's answer over HTTP/2.
TEST(H2Server, CurlH2cPriorKnowledge) {
  gofer::run(
      [] {
        H2Server srv;
        srv.start();
        EXPECT_EQ(curl_get(srv, false, "--http2-prior-knowledge"), "HTTP/2.0 alpn=none v2");
        EXPECT_FALSE(srv.stop());
      },
      {.procs = 2});
}

// RFC 9113 §3.2 and Go's ServeTLS: ALPN picks h2 when the client offers it;
// the handler sees HTTP/2.0 and r.tls's ALPN result.
TEST(H2Server, CurlH2OverTlsWithAlpn) {
  gofer::run(
      [&] {
        H2Server srv(/*with_tls=*/true);
        srv.start();
        EXPECT_EQ(curl_get(srv, true, "--http2"), "HTTP/2.0 alpn=h2 v2");
        EXPECT_FALSE(srv.stop());
      },
      {.procs = 2});
}

// ALPN falls back to http/1.1 for a client that offers only it, and the
// plaintext port still serves HTTP/1.1 next to h2c.
TEST(H2Server, Http11StillServedOnBothListeners) {
  gofer::run(
      [&] {
        H2Server tls_srv(/*with_tls=*/true);
        tls_srv.start();
        EXPECT_EQ(curl_get(tls_srv, true, "--http1.1"), "HTTP/1.1 alpn=http/1.1 v1.1");
        EXPECT_FALSE(tls_srv.stop());

        H2Server plain;
        plain.start();
        EXPECT_EQ(curl_get(plain, false, "--http1.1"), "HTTP/1.1 alpn=none v1.1");
        EXPECT_FALSE(plain.stop());
      },
      {.procs = 2});
}

// With http2 off (Go's Protocols without HTTP/2), a TLS listener offers
// only http/1.1 (curl --http2 falls back), and the preface on a plaintext
// one is an HTTP/1.1 request with major version 2: 505, then close.
TEST(H2Server, Http2OffOffersOnlyHttp11) {
  gofer::run(
      [&] {
        H2Server srv(/*with_tls=*/true);
        srv.server.http2 = false;
        srv.start();
        EXPECT_EQ(curl_get(srv, true, "--http2"), "HTTP/1.1 alpn=http/1.1 v1.1");
        EXPECT_FALSE(srv.stop());

        H2Server plain;
        plain.server.http2 = false;
        plain.start();
        auto [c, err] = net::dial("tcp4", "127.0.0.1:" + plain.port());
        ASSERT_FALSE(err) << err.message();
        EXPECT_FALSE(c.write("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n").err);
        std::string got;
        char buf[1024];
        for (;;) {
          auto [n, rerr] = c.read(buf);
          got.append(buf, n);
          if (rerr) break;
        }
        // RFC 9110 §15.6.6 / Go: major version 2 on an HTTP/1.1 server is 505.
        EXPECT_TRUE(got.starts_with("HTTP/1.1 505")) << got;
        EXPECT_FALSE(plain.stop());
      },
      {.procs = 2});
}

// Each stream's handler runs in its own goroutine: ten handlers that wait
// for each other all answer (RFC 9113 §5.1.2 concurrency).
TEST(H2Server, StreamsRunConcurrently) {
  expect_peer_ok("concurrent");
}

// RFC 9113 §6.9: a 1 MiB body larger than the 64 KiB stream window arrives
// only as WINDOW_UPDATEs follow the handler's reads, and echoes back whole.
TEST(H2Server, RequestBodyStreamsWithFlowControl) {
  expect_peer_ok("echo");
}

// RFC 9113 §5.1.2: SETTINGS_MAX_CONCURRENT_STREAMS is 100; streams past it
// are refused with RST_STREAM(REFUSED_STREAM).
TEST(H2Server, RefusesStreamsPastMaxConcurrent) {
  expect_peer_ok("max_streams");
}

// RFC 9113 §6.5.2 / Go's MaxHeaderBytes: a header list past the limit is
// answered 431.
TEST(H2Server, HeaderListPastLimitGets431) {
  expect_peer_ok("header_list", [](http::Server& s) { s.max_header_bytes = 16 << 10; });
}

// RFC 7541 §7.3 (HPACK bomb): 1 KB of references to a 4 KB table entry
// decodes past the limit: 431, and the connection goes on.
TEST(H2Server, HpackBombGets431AndConnectionLives) {
  expect_peer_ok("hpack_bomb");
}

// CVE-2024-27316: CONTINUATION frames without end: the connection ends with
// a GOAWAY error after a bounded number, not an unbounded header buffer.
TEST(H2Server, ContinuationFloodEndsConnection) {
  expect_peer_ok("continuation");
}

// CVE-2023-44487 (rapid reset): streams opened and cancelled at once end
// the connection with GOAWAY(ENHANCE_YOUR_CALM), before 3000 handlers ran.
TEST(H2Server, RapidResetGetsEnhanceYourCalm) {
  expect_peer_ok("rapid_reset", {},
                 [](H2Server& srv) { EXPECT_LT(srv.probe->handlers.load(), 3000); });
}

// RFC 9113 §10.5: floods of frames that cost work and carry nothing end the
// connection with GOAWAY(ENHANCE_YOUR_CALM).
TEST(H2Server, PingFloodGetsEnhanceYourCalm) {
  expect_peer_ok("ping_flood");
}
TEST(H2Server, SettingsFloodGetsEnhanceYourCalm) {
  expect_peer_ok("settings_flood");
}
TEST(H2Server, PriorityFloodGetsEnhanceYourCalm) {
  expect_peer_ok("priority_flood");
}
TEST(H2Server, EmptyDataFloodGetsEnhanceYourCalm) {
  expect_peer_ok("empty_data_flood");
}

// RFC 9113 §6.9: a client that never opens its window gets no DATA; the
// handler parks with a bounded amount accepted (server memory bounded),
// and its write fails once the client hangs up.
TEST(H2Server, ZeroWindowClientParksTheHandlerWithBoundedMemory) {
  expect_peer_ok("zero_window", {}, [](H2Server& srv) {
    for (int i = 0; i < 500 && !srv.probe->big_done.load(); ++i) gofer::sleep_for(10ms);
    EXPECT_TRUE(srv.probe->big_done.load());
    EXPECT_TRUE(srv.probe->big_failed.load());
    EXPECT_LE(srv.probe->big_accepted.load(), 256u << 10);
  });
}

// Go's IdleTimeout over h2: a connection without streams ends with
// GOAWAY(NO_ERROR) once it passes.
TEST(H2Server, IdleConnectionGetsGoawayAndCloses) {
  expect_peer_ok("idle", [](http::Server& s) { s.idle_timeout = 300ms; });
}

// Go's Shutdown over h2 (RFC 9113 §6.8): GOAWAY(NO_ERROR) at once, the
// stream in flight still finishes, then shutdown returns.
TEST(H2Server, ShutdownSendsGoawayAndLetsStreamsFinish) {
  gofer::run(
      [] {
        H2Server srv;
        srv.start();
        gofer::WaitGroup stopped;
        stopped.add(1);
        gofer::go([&] {
          (void)srv.probe->slow_started.recv();
          EXPECT_FALSE(srv.stop());
          stopped.done();
        });
        int status = -1;
        std::string out = run_peer("shutdown", srv, status);
        EXPECT_EQ(status, 0) << out;
        stopped.wait();
        EXPECT_EQ(srv.server.open_connections(), 0u);
      },
      {.procs = 2});
}
