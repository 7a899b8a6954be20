// echo: a TCP (or Unix) echo server, the seed's story in thirty lines —
// the main goroutine waits in accept; every connection gets a goroutine of
// its own that reads what arrives and writes it back; an idle server sleeps
// in epoll_wait.
//
//   echo --addr 127.0.0.1:8080            (":8080" by default)
//   echo --network unix --addr /tmp/echo.sock
// Prints "listening on <address>" when ready (the real port for ":0").
#include <CLI/CLI.hpp>
#include <fmt/core.h>

#include <cstdio>
#include <memory>
#include <string>

#include "gofer/net.h"
#include "gofer/runtime.h"

namespace net = gofer::net;

namespace {

// One connection: read, write back, until the peer hangs up. One read and
// one write per message, no allocation after the buffer.
void serve(net::Conn conn, std::size_t buffer_size) {
  auto buf = std::make_unique_for_overwrite<char[]>(buffer_size);
  for (;;) {
    auto [n, err] = conn.read(std::span<char>(buf.get(), buffer_size));
    if (err) break;  // EOF, reset, …: this connection is done
    if (conn.write(std::span<const char>(buf.get(), n)).err) break;
  }
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"gofer echo server: a goroutine per connection"};
  std::string network = "tcp";
  std::string addr = ":8080";
  int procs = 0;
  std::size_t buffer_size = 16 * 1024;
  app.add_option("--network", network, "tcp, tcp4, tcp6 or unix")->capture_default_str();
  app.add_option("--addr", addr, "address to listen on (host:port, or a socket path)")->capture_default_str();
  app.add_option("--procs", procs, "Ps (goroutines running at once); 0: GOFER_PROCS or all CPUs");
  app.add_option("--buffer", buffer_size, "read buffer per connection, bytes")
      ->capture_default_str()
      ->check(CLI::Range(std::size_t{1}, std::size_t{1} << 24));
  CLI11_PARSE(app, argc, argv);

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
          gofer::go([c = std::move(conn), buffer_size]() mutable { serve(std::move(c), buffer_size); });
        }
      },
      {.procs = procs});
  return rc;
}
