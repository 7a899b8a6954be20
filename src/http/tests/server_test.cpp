// The HTTP server over real sockets. Each test says which RFC 9110/9112
// rule or Go net/http behaviour it checks.
#include <gtest/gtest.h>

#include <signal.h>
#include <stdlib.h>
#include <unistd.h>

#include <atomic>
#include <string>
#include <vector>

#include "gofer/chan.h"
#include "gofer/context.h"
#include "gofer/http/file_server.h"
#include "gofer/http/httptest.h"
#include "gofer/http/server.h"
#include "gofer/net.h"
#include "gofer/runtime.h"
#include "gofer/signal.h"
#include "gofer/sync.h"
#include "gofer/time.h"
#include "runtime/park.h"
#include "runtime/trace.h"

namespace http = gofer::http;
namespace net = gofer::net;
using namespace std::chrono_literals;

namespace {

// A Server on 127.0.0.1:0 that serves from a goroutine of its own once
// start()ed (configure `server` before); stop() shuts it down within 5 s and
// waits for serve() to return. Lives inside gofer::run.
class ServingServer {
 public:
  explicit ServingServer(http::Handler handler) {
    auto [ln, err] = net::listen("tcp", "127.0.0.1:0");
    EXPECT_FALSE(err) << err.message();
    ln_ = std::move(ln);
    addr_ = ln_.addr().to_string();
    server.handler = std::move(handler);
  }
  void start() {
    serving_.add(1);
    gofer::go([this] {
      EXPECT_EQ(server.serve(ln_), http::errc::server_closed);
      serving_.done();
    });
  }
  // shutdown()'s result: no error when every connection closed in time.
  gofer::Error stop() {
    gofer::Error err = server.shutdown(net::Clock::now() + 5s);
    serving_.wait();
    return err;
  }
  const std::string& addr() const { return addr_; }

  http::Server server;

 private:
  net::Listener ln_;
  std::string addr_;
  gofer::WaitGroup serving_;
};

// Runs `body(addr)` against a server with `handler` on 127.0.0.1:0, then
// shuts the server down.
template <class F>
void with_server(http::Handler handler, F&& body, http::Server* configure = nullptr) {
  gofer::run(
      [&] {
        ServingServer srv(std::move(handler));
        if (configure) {
          srv.server.read_header_timeout = configure->read_header_timeout;
          srv.server.idle_timeout = configure->idle_timeout;
          srv.server.max_header_bytes = configure->max_header_bytes;
        }
        srv.start();
        body(srv.addr());
        EXPECT_FALSE(srv.stop());
      },
      {.procs = 2});
}

// Sends raw bytes and reads until the server closes or `until` is seen.
std::string roundtrip(const std::string& addr, std::string_view request,
                      std::string_view until = {}) {
  auto [c, err] = net::dial("tcp", addr, 2s);
  EXPECT_FALSE(err) << err.message();
  if (err) return {};
  EXPECT_FALSE(c.set_deadline(net::Clock::now() + 5s));
  EXPECT_FALSE(c.write(request).err);
  std::string out;
  char buf[4096];
  for (;;) {
    if (!until.empty() && out.find(until) != std::string::npos) break;
    auto [n, rerr] = c.read(buf);
    out.append(buf, n);
    if (rerr) break;
  }
  return out;
}

void hello(http::ResponseWriter& w, http::Request&) {
  w.write("Hello, World!");
}

// Reads from a connection until `marker` has come (or an error); returns
// what was read. TCP may deliver a response in more than one read.
std::string read_until(net::Conn& c, std::string_view marker) {
  std::string out;
  char buf[4096];
  while (out.find(marker) == std::string::npos) {
    auto [n, err] = c.read(buf);
    out.append(buf, n);
    if (err) break;
  }
  return out;
}

// Reads from a kept-alive connection until hello's body has come.
std::string read_hello_reply(net::Conn& c) {
  return read_until(c, "Hello, World!");
}

TEST(Server, ServesAKeepAliveRequestWithContentLengthAndDate) {
  with_server(hello, [](const std::string& addr) {
    std::string resp = roundtrip(addr, "GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    EXPECT_TRUE(resp.starts_with("HTTP/1.1 200 OK\r\n")) << resp;
    EXPECT_NE(resp.find("Content-Length: 13\r\n"), std::string::npos) << resp;
    EXPECT_NE(resp.find("Content-Type: text/plain; charset=utf-8\r\n"), std::string::npos) << resp;
    EXPECT_NE(resp.find("\r\nDate: "), std::string::npos) << resp;
    EXPECT_TRUE(resp.ends_with("\r\n\r\nHello, World!")) << resp;
  });
}

// RFC 9112 §9.3.2: pipelined requests are answered in order.
TEST(Server, PipelinedRequestsAnsweredInOrder) {
  with_server([](http::ResponseWriter& w, http::Request& r) { w.write(r.path); },
              [](const std::string& addr) {
                std::string resp =
                    roundtrip(addr,
                              "GET /a HTTP/1.1\r\nHost: x\r\n\r\n"
                              "GET /bb HTTP/1.1\r\nHost: x\r\n\r\n"
                              "GET /ccc HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
                auto a = resp.find("\r\n\r\n/a");
                auto b = resp.find("\r\n\r\n/bb");
                auto c = resp.find("\r\n\r\n/ccc");
                ASSERT_NE(a, std::string::npos) << resp;
                ASSERT_NE(b, std::string::npos) << resp;
                ASSERT_NE(c, std::string::npos) << resp;
                EXPECT_LT(a, b);
                EXPECT_LT(b, c);
              });
}

// RFC 9112 §6.1: a chunked request body is decoded; §7.1.2 trailers.
TEST(Server, EchoesAChunkedBody) {
  with_server(
      [](http::ResponseWriter& w, http::Request& r) {
        auto [body, err] = r.body().read_all();
        EXPECT_FALSE(err) << err.message();
        w.write(body);
      },
      [](const std::string& addr) {
        std::string resp =
            roundtrip(addr,
                      "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"
                      "Connection: close\r\n\r\n5\r\nHello\r\n7\r\n, World\r\n0\r\n\r\n");
        EXPECT_TRUE(resp.ends_with("\r\n\r\nHello, World")) << resp;
      });
}

// RFC 9112 §6.3: both Content-Length and Transfer-Encoding → 400 and close.
TEST(Server, RejectsContentLengthWithTransferEncoding) {
  with_server(hello, [](const std::string& addr) {
    std::string resp = roundtrip(addr,
                                 "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n"
                                 "Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n");
    EXPECT_TRUE(resp.starts_with("HTTP/1.1 400 Bad Request\r\n")) << resp;
    EXPECT_NE(resp.find("Connection: close"), std::string::npos);
  });
}

// RFC 9110 §7.2: HTTP/1.1 without Host → 400.
TEST(Server, RejectsMissingHost) {
  with_server(hello, [](const std::string& addr) {
    std::string resp = roundtrip(addr, "GET / HTTP/1.1\r\n\r\n");
    EXPECT_TRUE(resp.starts_with("HTTP/1.1 400 ")) << resp;
  });
}

// Go recovers a handler's panic: 500, the connection closes, the server
// goes on serving.
TEST(Server, HandlerExceptionGives500AndServerGoesOn) {
  with_server(
      [](http::ResponseWriter& w, http::Request& r) {
        if (r.path == "/boom") throw std::runtime_error("boom");
        w.write("fine");
      },
      [](const std::string& addr) {
        std::string resp = roundtrip(addr, "GET /boom HTTP/1.1\r\nHost: x\r\n\r\n");
        EXPECT_TRUE(resp.starts_with("HTTP/1.1 500 Internal Server Error\r\n")) << resp;
        std::string ok =
            roundtrip(addr, "GET /ok HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
        EXPECT_TRUE(ok.ends_with("fine")) << ok;
      });
}

// RFC 9110 §9.3.2: HEAD gets the headers GET would, without a body.
TEST(Server, HeadHasNoBody) {
  with_server(hello, [](const std::string& addr) {
    std::string resp = roundtrip(addr, "HEAD / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    EXPECT_TRUE(resp.starts_with("HTTP/1.1 200 OK\r\n")) << resp;
    EXPECT_NE(resp.find("Content-Length: 13\r\n"), std::string::npos) << resp;
    EXPECT_TRUE(resp.ends_with("\r\n\r\n")) << resp;
  });
}

// A body larger than the response buffer goes out chunked (HTTP/1.1).
TEST(Server, LargeBodyIsChunked) {
  with_server(
      [](http::ResponseWriter& w, http::Request&) {
        std::string block(1000, 'x');
        for (int i = 0; i < 100; ++i) w.write(block);
      },
      [](const std::string& addr) {
        std::string resp =
            roundtrip(addr, "GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
        EXPECT_NE(resp.find("Transfer-Encoding: chunked\r\n"), std::string::npos)
            << resp.substr(0, 300);
        EXPECT_TRUE(resp.ends_with("\r\n0\r\n\r\n"));
        std::size_t xs = 0;
        for (char c : resp.substr(resp.find("\r\n\r\n"))) xs += c == 'x';
        EXPECT_EQ(xs, 100'000u);
      });
}

// RFC 9110 §10.1.1: "Expect: 100-continue" is answered when the handler
// reads the body.
TEST(Server, ExpectContinueAnsweredOnFirstRead) {
  with_server(
      [](http::ResponseWriter& w, http::Request& r) {
        auto [body, err] = r.body().read_all();
        w.write(body);
      },
      [](const std::string& addr) {
        auto [c, err] = net::dial("tcp", addr, 2s);
        ASSERT_FALSE(err);
        EXPECT_FALSE(c.set_deadline(net::Clock::now() + 5s));
        EXPECT_FALSE(c.write(std::string_view("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\n"
                                              "Expect: 100-continue\r\nConnection: close\r\n\r\n"))
                         .err);
        EXPECT_EQ(read_until(c, "\r\n\r\n"), "HTTP/1.1 100 Continue\r\n\r\n");
        EXPECT_FALSE(c.write(std::string_view("ping")).err);
        std::string rest;
        char buf[256];
        for (;;) {
          auto [m, e] = c.read(buf);
          rest.append(buf, m);
          if (e) break;
        }
        EXPECT_TRUE(rest.ends_with("ping")) << rest;
      });
}

// Go's Shutdown: stops accepting, waits for the in-flight request.
TEST(Server, ShutdownLetsInFlightRequestsFinish) {
  gofer::run(
      [] {
        auto [ln, err] = net::listen("tcp", "127.0.0.1:0");
        ASSERT_FALSE(err);
        std::string addr = ln.addr().to_string();
        http::Server server;
        std::atomic<bool> in_handler{false};
        server.handler = [&](http::ResponseWriter& w, http::Request&) {
          in_handler = true;
          gofer::sleep_for(200ms);
          w.write("done");
        };
        gofer::WaitGroup wg;
        wg.add(2);
        gofer::Error serve_err;
        gofer::go([&] {
          serve_err = server.serve(ln);
          wg.done();
        });
        std::string resp;
        gofer::go([&] {
          resp = roundtrip(addr, "GET / HTTP/1.1\r\nHost: x\r\n\r\n", "done");
          wg.done();
        });
        while (!in_handler.load()) gofer::sleep_for(1ms);
        EXPECT_FALSE(server.shutdown(net::Clock::now() + 5s));
        wg.wait();
        EXPECT_TRUE(resp.ends_with("done")) << resp;
        EXPECT_EQ(serve_err, http::errc::server_closed);
      },
      {.procs = 2});
}

// The graceful stop of a Go server: signal.Notify, then Shutdown(ctx) on
// the signal. The request in flight when the signal comes is answered,
// Shutdown returns nil, Serve returns ErrServerClosed.
TEST(Server, ShutdownOnASignalLetsTheRequestInFlightFinish) {
  gofer::run(
      [] {
        std::atomic<bool> in_handler{false};
        ServingServer srv([&](http::ResponseWriter& w, http::Request&) {
          in_handler = true;
          gofer::sleep_for(200ms);
          w.write("done");
        });
        auto sigs = gofer::make_chan<int>(1);
        gofer::signal::notify(sigs, SIGUSR2);
        srv.start();
        gofer::Error shutdown_err = make_error_code(net::errc::closed);  // overwritten
        gofer::WaitGroup stopped;
        stopped.add(1);
        gofer::go([&] {
          sigs.recv();
          auto [ctx, cancel] = gofer::with_timeout(gofer::background(), 10s);
          shutdown_err = srv.server.shutdown(ctx);
          cancel();
          stopped.done();
        });
        std::string resp;
        gofer::WaitGroup client;
        client.add(1);
        gofer::go([&] {
          resp = roundtrip(srv.addr(), "GET / HTTP/1.1\r\nHost: x\r\n\r\n", "done");
          client.done();
        });
        while (!in_handler.load()) gofer::sleep_for(1ms);
        ASSERT_EQ(::kill(::getpid(), SIGUSR2), 0);
        stopped.wait();
        client.wait();
        gofer::signal::stop(sigs);
        EXPECT_FALSE(shutdown_err) << shutdown_err.message();
        EXPECT_TRUE(resp.ends_with("done")) << resp;
        EXPECT_FALSE(srv.stop());  // serve() returned server_closed (checked in start())
      },
      {.procs = 2});
}

// Go: "If the provided context expires before the shutdown is complete,
// Shutdown returns the context's error"; the connections still open are
// left alone (the handler's response still arrives), and Close ends what
// is left.
TEST(Server, ShutdownReturnsTheContextsErrorAndLeavesTheConnectionOpen) {
  gofer::run(
      [] {
        auto release = gofer::make_chan<gofer::Empty>();
        std::atomic<bool> in_handler{false};
        ServingServer srv([&, release](http::ResponseWriter& w, http::Request&) {
          in_handler = true;
          release.recv();
          w.write("late");
        });
        srv.start();
        std::string resp;
        gofer::WaitGroup client;
        client.add(1);
        gofer::go([&] {
          resp = roundtrip(srv.addr(), "GET / HTTP/1.1\r\nHost: x\r\n\r\n", "late");
          client.done();
        });
        while (!in_handler.load()) gofer::sleep_for(1ms);
        auto [ctx, cancel] = gofer::with_timeout(gofer::background(), 50ms);
        EXPECT_EQ(srv.server.shutdown(ctx), gofer::context_errc::deadline_exceeded);
        cancel();
        EXPECT_EQ(srv.server.open_connections(), 1u);
        release.send(gofer::Empty{});
        client.wait();
        EXPECT_TRUE(resp.ends_with("late")) << resp;
        // A cancelled context: the same, with canceled.
        auto [done_ctx, cancel_now] = gofer::with_cancel(gofer::background());
        cancel_now();
        gofer::Error again = srv.server.shutdown(done_ctx);
        EXPECT_TRUE(!again || again == gofer::context_errc::canceled) << again.message();
        EXPECT_FALSE(srv.server.close());
        EXPECT_FALSE(srv.stop());
      },
      {.procs = 2});
}

// Waits on the request's context for up to `limit`; true if it was
// cancelled (and then its error is context_errc::canceled).
bool cancelled_within(const gofer::Context& ctx, std::chrono::milliseconds limit) {
  bool done = false;
  gofer::select(gofer::recv_case(ctx.done(), [&] { done = true; }),
                gofer::recv_case(gofer::after(limit)));
  if (done) {
    EXPECT_EQ(ctx.err(), gofer::context_errc::canceled);
  }
  return done;
}

// Go: "For incoming server requests, the context is canceled when the
// client's connection closes" — here while the handler still runs.
TEST(RequestContext, CancelledWhenTheClientCloses) {
  auto seen = std::make_shared<std::atomic<int>>(0);  // 1: cancelled, 2: not
  with_server(
      [seen](http::ResponseWriter& w, http::Request& r) {
        *seen = cancelled_within(r.context(), 5000ms) ? 1 : 2;
        w.write("late");
      },
      [seen](const std::string& addr) {
        {
          auto [c, err] = net::dial("tcp", addr, 2s);
          ASSERT_FALSE(err);
          EXPECT_FALSE(c.write(std::string_view("GET / HTTP/1.1\r\nHost: x\r\n\r\n")).err);
          gofer::sleep_for(50ms);  // the handler is waiting on its context
        }                          // closes the connection
        for (int i = 0; i < 400 && seen->load() == 0; ++i) gofer::sleep_for(10ms);
        EXPECT_EQ(seen->load(), 1);
      });
}

// The same once a Content-Length body was read to its end (Go starts its
// background read when the body hits EOF).
TEST(RequestContext, CancelledWhenTheClientClosesAfterTheBody) {
  auto seen = std::make_shared<std::atomic<int>>(0);
  with_server(
      [seen](http::ResponseWriter& w, http::Request& r) {
        const gofer::Context& ctx = r.context();  // asked before the body is read
        auto [body, err] = r.body().read_all();
        EXPECT_EQ(body, "12345");
        *seen = cancelled_within(ctx, 5000ms) ? 1 : 2;
        w.write("late");
      },
      [seen](const std::string& addr) {
        {
          auto [c, err] = net::dial("tcp", addr, 2s);
          ASSERT_FALSE(err);
          EXPECT_FALSE(c.write(std::string_view(
                                   "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\n12345"))
                           .err);
          gofer::sleep_for(50ms);
        }
        for (int i = 0; i < 400 && seen->load() == 0; ++i) gofer::sleep_for(10ms);
        EXPECT_EQ(seen->load(), 1);
      });
}

// A client that stays and sends its next request while the handler waits
// is not "gone": the context stays live, and the bytes the watch read are
// the next request's, answered in order (Go keeps its background byte).
TEST(RequestContext, LiveClientKeepsItAndItsNextRequest) {
  auto seen = std::make_shared<std::atomic<int>>(0);
  with_server(
      [seen](http::ResponseWriter& w, http::Request& r) {
        if (r.path == "/first") *seen = cancelled_within(r.context(), 300ms) ? 1 : 2;
        w.write(r.path);
      },
      [seen](const std::string& addr) {
        auto [c, err] = net::dial("tcp", addr, 2s);
        ASSERT_FALSE(err);
        EXPECT_FALSE(c.set_deadline(net::Clock::now() + 5s));
        EXPECT_FALSE(c.write(std::string_view("GET /first HTTP/1.1\r\nHost: x\r\n\r\n")).err);
        gofer::sleep_for(100ms);  // the watch is reading now
        EXPECT_FALSE(c.write(std::string_view(
                                 "GET /second HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"))
                         .err);
        std::string out;
        char buf[4096];
        for (;;) {
          auto [n, rerr] = c.read(buf);
          out.append(buf, n);
          if (rerr) break;
        }
        EXPECT_EQ(seen->load(), 2);
        std::size_t first = out.find("/first");
        std::size_t second = out.find("/second");
        EXPECT_NE(first, std::string::npos) << out;
        EXPECT_NE(second, std::string::npos) << out;
        EXPECT_LT(first, second) << out;
      });
}

// Go cancels the request's context when ServeHTTP returns.
TEST(RequestContext, CancelledWhenTheHandlerReturns) {
  auto kept = std::make_shared<gofer::Context>();
  with_server(
      [kept](http::ResponseWriter& w, http::Request& r) {
        *kept = r.context();
        EXPECT_FALSE(kept->err());
        w.write("ok");
      },
      [kept](const std::string& addr) {
        std::string resp =
            roundtrip(addr, "GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
        EXPECT_TRUE(resp.ends_with("ok")) << resp;
        EXPECT_EQ(kept->err(), gofer::context_errc::canceled);
      });
}

// RFC 9110 §15.2 and RFC 8297: a handler's 103 goes out at once with the
// fields set so far, before the final response; Go sends 1xx the same way.
TEST(Server, EarlyHintsPrecedeTheFinalResponse) {
  with_server(
      [](http::ResponseWriter& w, http::Request&) {
        w.header().set("Link", "</style.css>; rel=preload; as=style");
        w.write_header(http::status_early_hints);
        w.write("final");
      },
      [](const std::string& addr) {
        std::string resp =
            roundtrip(addr, "GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
        EXPECT_TRUE(resp.starts_with(
            "HTTP/1.1 103 Early Hints\r\nLink: </style.css>; rel=preload; as=style\r\n\r\n"
            "HTTP/1.1 200 OK\r\n"))
            << resp;
        EXPECT_TRUE(resp.ends_with("final")) << resp;
      });
}

// RFC 9110 §15.2: "A server MUST NOT send a 1xx response to an HTTP/1.0
// client."
TEST(Server, NoInterimResponseToHttp10) {
  with_server(
      [](http::ResponseWriter& w, http::Request&) {
        w.write_header(http::status_early_hints);
        w.write("final");
      },
      [](const std::string& addr) {
        std::string resp = roundtrip(addr, "GET / HTTP/1.0\r\n\r\n");
        EXPECT_TRUE(resp.starts_with("HTTP/1.1 200 OK\r\n")) << resp;
      });
}

// An idle kept-alive connection gives its goroutine (stack and buffers) back
// and waits in the poller; its next request starts a goroutine again and is
// served as if nothing happened (the client cannot tell). Shutdown closes it
// like any idle connection (Go's Shutdown closes idle connections).
TEST(ParkedIdle, NextRequestWakesItAndShutdownClosesIt) {
  gofer::run(
      [] {
        ServingServer srv(hello);
        srv.start();
        const std::string& addr = srv.addr();
        http::Server& server = srv.server;
        auto [c, derr] = net::dial("tcp", addr, 2s);
        ASSERT_FALSE(derr);
        EXPECT_FALSE(c.set_deadline(net::Clock::now() + 10s));
        auto request = [&c] {
          EXPECT_FALSE(c.write(std::string_view("GET / HTTP/1.1\r\nHost: x\r\n\r\n")).err);
          return read_hello_reply(c);
        };
        auto parked_within = [&](std::chrono::milliseconds limit) {
          for (auto end = net::Clock::now() + limit; net::Clock::now() < end;
               gofer::sleep_for(10ms)) {
            if (server.stats().parked_connections == 1) return true;
          }
          return false;
        };
        for (int i = 0; i < 3; ++i) {
          EXPECT_TRUE(request().ends_with("Hello, World!"));
          EXPECT_TRUE(parked_within(3000ms)) << "round " << i;
        }
        EXPECT_EQ(server.stats().open_connections, 1u);
        EXPECT_FALSE(srv.stop());
        char buf[64];
        auto [n, rerr] = c.read(buf);
        EXPECT_EQ(rerr, net::errc::eof) << "shutdown closes a parked connection";
        EXPECT_EQ(server.stats().parked_connections, 0u);
      },
      {.procs = 2});
}

// A new connection that sends nothing is parked too, and keeps the
// read-header timeout it started with (Go's ReadHeaderTimeout, counted from
// the accept): one that sends its request is served by the goroutine the
// poller starts; one that stays silent is closed when the timeout ends.
TEST(ParkedIdle, SilentNewConnectionParksAndKeepsItsReadHeaderTimeout) {
  gofer::run(
      [] {
        ServingServer srv(hello);
        srv.server.idle_park_after = 50ms;
        srv.server.read_header_timeout = 1500ms;
        srv.start();
        const std::string& addr = srv.addr();
        http::Server& server = srv.server;
        auto [talker, d1] = net::dial("tcp", addr, 2s);
        ASSERT_FALSE(d1);
        auto [silent, d2] = net::dial("tcp", addr, 2s);
        ASSERT_FALSE(d2);
        auto dialed = net::Clock::now();
        EXPECT_FALSE(talker.set_deadline(net::Clock::now() + 10s));
        EXPECT_FALSE(silent.set_deadline(net::Clock::now() + 10s));
        for (int i = 0; i < 300 && server.stats().parked_connections < 2; ++i)
          gofer::sleep_for(10ms);
        EXPECT_EQ(server.stats().parked_connections, 2u);

        EXPECT_FALSE(talker.write(std::string_view("GET / HTTP/1.1\r\nHost: x\r\n\r\n")).err);
        EXPECT_TRUE(read_hello_reply(talker).ends_with("Hello, World!"));

        char buf[64];
        auto [n, rerr] = silent.read(buf);
        EXPECT_EQ(rerr, net::errc::eof) << "closed at the read-header timeout";
        EXPECT_EQ(n, 0u);
        EXPECT_GE(net::Clock::now() - dialed, 1400ms) << "not before the read-header timeout";
        EXPECT_FALSE(srv.stop());
      },
      {.procs = 2});
}

#if defined(GOFER_TSAN) || defined(GOFER_ASAN)
constexpr int kManyConns = 50;
#else
constexpr int kManyConns = 200;
#endif

// Many parked connections each come back for one more request (each one
// started by the poller with a fresh goroutine).
TEST(ParkedIdle, ManyConnectionsParkAndComeBack) {
  static constexpr int kConns = kManyConns;
  gofer::run(
      [] {
        ServingServer srv(hello);
        srv.start();
        const std::string& addr = srv.addr();
        http::Server& server = srv.server;
        std::vector<net::Conn> conns;
        for (int i = 0; i < kConns; ++i) {
          auto [c, derr] = net::dial("tcp", addr, 2s);
          ASSERT_FALSE(derr);
          EXPECT_FALSE(c.set_deadline(net::Clock::now() + 20s));
          EXPECT_FALSE(c.write(std::string_view("GET / HTTP/1.1\r\nHost: x\r\n\r\n")).err);
          conns.push_back(std::move(c));
        }
        auto read_reply = [](net::Conn& c) {
          return read_hello_reply(c).ends_with("Hello, World!");
        };
        for (auto& c : conns) EXPECT_TRUE(read_reply(c));
        for (int i = 0; i < 500 && server.stats().parked_connections < kConns; ++i)
          gofer::sleep_for(10ms);
        EXPECT_EQ(server.stats().parked_connections, static_cast<std::size_t>(kConns));
        gofer::WaitGroup clients;
        std::atomic<int> ok{0};
        for (auto& c : conns) {
          clients.add(1);
          gofer::go([&] {
            EXPECT_FALSE(
                c.write(std::string_view("GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"))
                    .err);
            if (read_reply(c)) ok.fetch_add(1);
            clients.done();
          });
        }
        clients.wait();
        EXPECT_EQ(ok.load(), kConns);
        EXPECT_FALSE(srv.stop());
      },
      {.procs = 2});
}

// Server::idle_park_after = 0 keeps every idle connection's goroutine (Go's
// behaviour), and such a connection is served as before.
TEST(ParkedIdle, ZeroParkAfterNeverParks) {
  gofer::run(
      [] {
        ServingServer srv(hello);
        srv.server.idle_park_after = std::chrono::nanoseconds(0);
        srv.start();
        const std::string& addr = srv.addr();
        http::Server& server = srv.server;
        auto [c, derr] = net::dial("tcp", addr, 2s);
        ASSERT_FALSE(derr);
        EXPECT_FALSE(c.set_deadline(net::Clock::now() + 10s));
        for (int round = 0; round < 2; ++round) {
          EXPECT_FALSE(c.write(std::string_view("GET / HTTP/1.1\r\nHost: x\r\n\r\n")).err);
          std::string out = read_hello_reply(c);
          EXPECT_TRUE(out.ends_with("Hello, World!")) << out;
          gofer::sleep_for(600ms);  // well past the default 250 ms
          EXPECT_EQ(server.stats().parked_connections, 0u);
        }
        EXPECT_FALSE(srv.stop());
      },
      {.procs = 2});
}

// ResponseWriter::send_file on a server connection: a file larger than the
// write buffer leaves with sendfile(2) — the trace shows the syscall — and
// the client gets exactly its bytes, whole or as a range (RFC 9110 §14.2);
// a small one still leaves with the head in one writev.
TEST(Server, SendFileUsesSendfileForLargeBodies) {
  namespace rt = gofer::runtime;
  char path[] = "/tmp/gofer_sendfile_test_XXXXXX";
  int fd = ::mkstemp(path);
  ASSERT_GE(fd, 0);
  ::unlink(path);
  std::string data(300'000, '\0');
  for (std::size_t i = 0; i < data.size(); ++i) data[i] = static_cast<char>('a' + i * 7 % 26);
  ASSERT_EQ(::write(fd, data.data(), data.size()), static_cast<ssize_t>(data.size()));
  auto handler = [fd, &data](http::ResponseWriter& w, http::Request& r) {
    std::int64_t size = r.path == "/small" ? 100 : static_cast<std::int64_t>(data.size());
    http::serve_content(w, r, "blob.bin", {}, fd, size);
  };
  auto body_of = [](const std::string& response) {
    std::size_t end = response.find("\r\n\r\n");
    return end == std::string::npos ? std::string() : response.substr(end + 4);
  };
  with_server(handler, [&](const std::string& addr) {
    std::int64_t since = rt::nanotime();
    rt::trace_start();
    std::string whole =
        roundtrip(addr, "GET /big HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    std::string part = roundtrip(
        addr,
        "GET /big HTTP/1.1\r\nHost: x\r\nRange: bytes=1000-200999\r\nConnection: close\r\n\r\n");
    std::string small =
        roundtrip(addr, "GET /small HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    rt::trace_stop();
    EXPECT_EQ(whole.rfind("HTTP/1.1 200 OK\r\n", 0), 0u) << whole.substr(0, 200);
    EXPECT_NE(whole.find("Content-Length: 300000\r\n"), std::string::npos);
    EXPECT_TRUE(body_of(whole) == data) << "body of " << body_of(whole).size() << " bytes";
    EXPECT_EQ(part.rfind("HTTP/1.1 206 Partial Content\r\n", 0), 0u) << part.substr(0, 200);
    EXPECT_TRUE(body_of(part) == data.substr(1000, 200000));
    EXPECT_EQ(body_of(small), data.substr(0, 100));

    std::int64_t sendfiles = 0, bytes = 0;
    for (const rt::TraceEvent& e : rt::trace_collect(since)) {
      if (e.kind != rt::TraceKind::write ||
          e.a1 != static_cast<std::int64_t>(rt::TraceSyscall::sendfile) || e.a0 <= 0)
        continue;
      ++sendfiles;
      bytes += e.a0;
    }
    EXPECT_GE(sendfiles, 2);  // the whole file and the range; not the small one
    EXPECT_EQ(bytes, 300'000 + 200'000);
  });
  ::close(fd);
}

}  // namespace

namespace {

// Go's StatusText for every status constant Go names (net/http/status.go);
// "" for a code it does not name.
TEST(Status, EveryGoConstantHasGosText) {
  const std::pair<int, std::string_view> go[] = {
      {http::status_continue, "Continue"},
      {http::status_switching_protocols, "Switching Protocols"},
      {http::status_processing, "Processing"},
      {http::status_early_hints, "Early Hints"},
      {http::status_accepted, "Accepted"},
      {http::status_non_authoritative_info, "Non-Authoritative Information"},
      {http::status_reset_content, "Reset Content"},
      {http::status_multi_status, "Multi-Status"},
      {http::status_already_reported, "Already Reported"},
      {http::status_im_used, "IM Used"},
      {http::status_multiple_choices, "Multiple Choices"},
      {http::status_see_other, "See Other"},
      {http::status_use_proxy, "Use Proxy"},
      {http::status_unauthorized, "Unauthorized"},
      {http::status_payment_required, "Payment Required"},
      {http::status_not_acceptable, "Not Acceptable"},
      {http::status_proxy_auth_required, "Proxy Authentication Required"},
      {http::status_conflict, "Conflict"},
      {http::status_gone, "Gone"},
      {http::status_request_entity_too_large, "Request Entity Too Large"},
      {http::status_request_uri_too_long, "Request URI Too Long"},
      {http::status_unsupported_media_type, "Unsupported Media Type"},
      {http::status_requested_range_not_satisfiable, "Requested Range Not Satisfiable"},
      {http::status_teapot, "I'm a teapot"},
      {http::status_misdirected_request, "Misdirected Request"},
      {http::status_unprocessable_entity, "Unprocessable Entity"},
      {http::status_locked, "Locked"},
      {http::status_failed_dependency, "Failed Dependency"},
      {http::status_too_early, "Too Early"},
      {http::status_upgrade_required, "Upgrade Required"},
      {http::status_precondition_required, "Precondition Required"},
      {http::status_too_many_requests, "Too Many Requests"},
      {http::status_unavailable_for_legal_reasons, "Unavailable For Legal Reasons"},
      {http::status_bad_gateway, "Bad Gateway"},
      {http::status_gateway_timeout, "Gateway Timeout"},
      {http::status_variant_also_negotiates, "Variant Also Negotiates"},
      {http::status_insufficient_storage, "Insufficient Storage"},
      {http::status_loop_detected, "Loop Detected"},
      {http::status_not_extended, "Not Extended"},
      {http::status_network_authentication_required, "Network Authentication Required"},
  };
  for (auto [code, text] : go) EXPECT_EQ(http::status_text(code), text) << code;
  EXPECT_EQ(http::status_payload_too_large, http::status_request_entity_too_large);
  EXPECT_EQ(http::status_text(306), "");  // unused (RFC 9110 §15.4.7); Go names none
  EXPECT_EQ(http::status_text(599), "");
}

}  // namespace

namespace {

// A middleware's writer as Go writes one: it embeds the ResponseWriter
// and overrides only WriteHeader.
struct StatusRecorder : http::ResponseWriterWrapper {
  using ResponseWriterWrapper::ResponseWriterWrapper;
  int status = 0;
  void write_header(int code) override {
    status = code;
    ResponseWriterWrapper::write_header(code);
  }
};

// A writer that forwards the four basics and unwrap() only (no deadline):
// ResponseController must look past it, as Go's follows Unwrap.
class OpaqueWriter final : public http::ResponseWriter {
 public:
  explicit OpaqueWriter(http::ResponseWriter& inner) : inner_(&inner) {}
  http::HeaderMap& header() override { return inner_->header(); }
  void write_header(int code) override { inner_->write_header(code); }
  http::WriteResult write(std::string_view data) override { return inner_->write(data); }
  gofer::Error flush() override { return inner_->flush(); }
  http::ResponseWriter* unwrap() noexcept override { return inner_; }

 private:
  http::ResponseWriter* inner_;
};

// Go: a writer that embeds http.ResponseWriter gets every method it does
// not override from the one it wraps; Unwrap returns that one.
TEST(ResponseWriterWrapper, ForwardsWhatItDoesNotOverride) {
  http::httptest::ResponseRecorder rec;
  StatusRecorder w(rec);
  w.header().set("X-Seen", "yes");
  w.write_header(http::status_created);
  w.write("made");
  EXPECT_FALSE(http::ResponseController(w).flush());
  EXPECT_EQ(w.status, http::status_created);
  EXPECT_EQ(rec.code, http::status_created);
  EXPECT_EQ(rec.body, "made");
  EXPECT_EQ(rec.sent_header().get("X-Seen"), "yes");
  EXPECT_TRUE(rec.flushed);
  EXPECT_EQ(w.unwrap(), &rec);
  // A recorder has no connection: Go's ErrNotSupported, through the chain.
  OpaqueWriter outer(w);
  EXPECT_EQ(http::ResponseController(outer).set_write_deadline(net::Clock::now() + 1s),
            http::errc::not_supported);
}

// Go 1.20's ResponseController under two middleware writers: Flush sends
// the head and the bytes so far while the handler still runs, and
// SetWriteDeadline reaches the connection (a deadline already past makes
// the next send fail with a timeout instead of blocking).
TEST(ResponseController, FlushesAndSetsTheWriteDeadlineThroughWrappers) {
  gofer::run(
      [] {
        auto client_saw_head = gofer::make_chan<gofer::Empty>(1);
        gofer::Error deadline_err = make_error_code(net::errc::closed);  // overwritten
        gofer::Error late_flush = {};
        ServingServer srv([&, client_saw_head](http::ResponseWriter& w, http::Request& r) {
          StatusRecorder status(w);
          OpaqueWriter outer(status);
          http::ResponseController rc(outer);
          if (r.path == "/stream") {
            deadline_err = rc.set_write_deadline(net::Clock::now() + 10s);
            outer.write("first part;");
            if (rc.flush()) return;
            client_saw_head.recv();  // the client read it: flush sent it
            outer.write("second part");
          } else if (r.path == "/expired") {
            (void)rc.set_write_deadline(net::Clock::now() - 1s);
            outer.write("too late");  // buffered: nothing sent yet
            late_flush = rc.flush();
          }
        });
        srv.start();
        auto [c, err] = net::dial("tcp", srv.addr(), 2s);
        ASSERT_FALSE(err);
        ASSERT_FALSE(c.set_deadline(net::Clock::now() + 10s));
        ASSERT_FALSE(c.write("GET /stream HTTP/1.1\r\nHost: x\r\n\r\n").err);
        std::string got = read_until(c, "first part;");
        EXPECT_NE(got.find("first part;"), std::string::npos) << got;
        client_saw_head.send(gofer::Empty{});
        got += read_until(c, "second part");
        EXPECT_NE(got.find("second part"), std::string::npos) << got;
        EXPECT_FALSE(deadline_err) << deadline_err.message();
        EXPECT_FALSE(c.close());

        std::string expired = roundtrip(srv.addr(), "GET /expired HTTP/1.1\r\nHost: x\r\n\r\n");
        EXPECT_EQ(late_flush, net::errc::timeout) << late_flush.message();
        EXPECT_FALSE(srv.stop());
      },
      {.procs = 2});
}

// The deadline a handler sets is its response's: the server clears it
// when the response is done, so the next request on the connection is not
// cut short by it (Go resets the connection's deadlines per request).
TEST(ResponseController, AHandlersWriteDeadlineEndsWithItsResponse) {
  with_server(
      [](http::ResponseWriter& w, http::Request& r) {
        if (r.path == "/short") {
          (void)http::ResponseController(w).set_write_deadline(net::Clock::now() + 20ms);
          w.write("short");
          return;
        }
        gofer::sleep_for(100ms);  // past the first request's deadline
        w.write("Hello, World!");
      },
      [](const std::string& addr) {
        auto [c, err] = net::dial("tcp", addr, 2s);
        ASSERT_FALSE(err);
        ASSERT_FALSE(c.set_deadline(net::Clock::now() + 10s));
        ASSERT_FALSE(c.write("GET /short HTTP/1.1\r\nHost: x\r\n\r\n").err);
        EXPECT_NE(read_until(c, "short").find("short"), std::string::npos);
        ASSERT_FALSE(c.write("GET /later HTTP/1.1\r\nHost: x\r\n\r\n").err);
        std::string later = read_hello_reply(c);
        EXPECT_NE(later.find("200 OK"), std::string::npos) << later;
        EXPECT_NE(later.find("Hello, World!"), std::string::npos) << later;
      });
}

}  // namespace
