// echo: a TCP (or Unix) echo server, the seed's story (docs/design.md) in forty lines —
// the main goroutine waits in accept; every connection gets a goroutine of
// its own that reads what arrives and writes it back; an idle server sleeps
// in epoll_wait.
//
//   echo --addr 127.0.0.1:8080            (":8080" by default)
//   echo --network unix --addr /tmp/echo.sock
//   echo --park-after 250                 (idle connections hold no stack)
// Prints "listening on <address>" when ready (the real port for ":0").
#include <fmt/core.h>
#include <CLI/CLI.hpp>

#include <chrono>
#include <cstdio>
#include <memory>
#include <string>

#include "gofer/net.h"
#include "gofer/runtime.h"

namespace net = gofer::net;

namespace {

constexpr std::size_t kMaxBuffer = 64 * 1024;

struct Options {
  std::size_t buffer_size = 16 * 1024;
  std::chrono::milliseconds park_after{0};  // 0: a connection's goroutine waits in read
};

// One connection: read, write back, until the peer hangs up. One read and
// one write per message, no allocation. The buffer is on the goroutine's
// stack (only the pages a read fills are ever touched), so with park_after
// a connection quiet that long costs neither: its goroutine ends, its stack
// goes back to the pool, and the poller starts serve() again on a new
// goroutine when bytes arrive.
void serve(std::unique_ptr<net::Conn> conn, Options opt) {
  char buf[kMaxBuffer];
  std::span<char> span(buf, opt.buffer_size);
  for (;;) {
    // A deadline setter fails only on a closed connection, which the read
    // below reports.
    if (opt.park_after.count() > 0)
      (void)conn->set_read_deadline(net::Clock::now() + opt.park_after);
    auto [n, err] = conn->read(span);
    if (err == net::errc::timeout) {
      (void)conn->set_read_deadline(net::Deadline{});  // one in force would start it at once
      net::Conn& c = *conn;
      c.go_when_readable([conn = std::move(conn), opt]() mutable { serve(std::move(conn), opt); });
      return;
    }
    if (err) break;  // EOF, reset, …: this connection is done
    if (conn->write(span.first(n)).err) break;
  }
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"gofer echo server: a goroutine per connection"};
  std::string network = "tcp";
  std::string addr = ":8080";
  int procs = 0;
  Options opt;
  int park_after_ms = 0;
  app.add_option("--network", network, "tcp, tcp4, tcp6 or unix")->capture_default_str();
  app.add_option("--addr", addr, "address to listen on (host:port, or a socket path)")
      ->capture_default_str();
  app.add_option("--procs", procs, "Ps (goroutines running at once); 0: GOFER_PROCS or all CPUs");
  app.add_option("--buffer", opt.buffer_size, "read buffer per connection, bytes")
      ->capture_default_str()
      ->check(CLI::Range(std::size_t{1}, kMaxBuffer));
  app.add_option("--park-after", park_after_ms,
                 "ms a connection may be quiet before its goroutine ends and the poller takes "
                 "over (no stack, no buffer while idle); 0: never")
      ->capture_default_str()
      ->check(CLI::Range(0, 3'600'000));
  CLI11_PARSE(app, argc, argv);
  opt.park_after = std::chrono::milliseconds(park_after_ms);

  int rc = 0;
  gofer::run(
      [&] {
        auto [ln, err] = net::listen(network, addr);
        if (err) {
          fmt::print(stderr, "echo: listen {} {}: {}\n", network, addr, err.message());
          rc = 1;
          return;
        }
        fmt::print("listening on {}\n", ln.addr().to_string());
        std::fflush(stdout);
        for (;;) {
          // Parks until a connection arrives; backs off by itself when out
          // of fds, so an error here means the listener is unusable.
          auto [conn, aerr] = ln.accept();
          if (aerr) {
            fmt::print(stderr, "echo: accept: {}\n", aerr.message());
            rc = 1;
            return;
          }
          gofer::go([c = std::make_unique<net::Conn>(std::move(conn)), opt]() mutable {
            serve(std::move(c), opt);
          });
        }
      },
      {.procs = procs});
  return rc;
}
