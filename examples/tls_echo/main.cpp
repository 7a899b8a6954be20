// tls_echo: the echo server over TLS — a goroutine per connection that
// reads what arrives and writes it back, with the handshake, encryption and
// close_notify done by gofer::tls over the same netpoller.
//
//   tls_echo --cert cert.pem --key key.pem --addr 127.0.0.1:8443
//   tls_echo --self-signed          (an in-memory certificate for localhost)
//   tls_echo --self-signed --sink   (reads and discards: for benchmarks)
// Prints "listening on <address>" when ready (the real port for ":0"), and
// with --self-signed first "sha256 fingerprint <hex>" (the certificate a
// client can pin). A bad certificate or key: one line on stderr, exit 1.
#include <fmt/core.h>
#include <CLI/CLI.hpp>

#include <chrono>
#include <cstdio>
#include <memory>
#include <string>

#include "gofer/runtime.h"
#include "gofer/tls.h"

namespace tls = gofer::tls;
namespace net = gofer::net;

namespace {

struct Options {
  bool sink = false;  // read and discard instead of echoing
  std::chrono::seconds handshake_timeout{10};
};

// One connection: the handshake within its timeout (a client that sends
// nothing costs a goroutine for that long, no more), then echo until the
// peer's close_notify or an error, then our close_notify.
void serve(std::unique_ptr<tls::Conn> conn, Options opt) {
  (void)conn->set_deadline(
      net::Clock::now() +
      opt.handshake_timeout);  // fails only on a closed conn, which the next read or write reports
  if (conn->handshake()) return;  // the destructor closes the socket
  (void)conn->set_deadline(
      net::Deadline{});  // fails only on a closed conn, which the next read or write reports
  char buf[16 * 1024];
  for (;;) {
    auto [n, err] = conn->read(buf);
    if (err) break;
    if (!opt.sink && conn->write(std::span<const char>(buf, n)).err) break;
  }
  (void)conn->close();
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"gofer TLS echo server: a goroutine per connection"};
  std::string addr = ":8443";
  std::string cert_file, key_file;
  bool self_signed = false;
  int procs = 0;
  Options opt;
  app.add_option("--addr", addr, "address to listen on (host:port)")->capture_default_str();
  app.add_option("--cert", cert_file, "PEM certificate chain (leaf first)");
  app.add_option("--key", key_file, "PEM private key of the certificate");
  app.add_flag("--self-signed", self_signed,
               "make an ECDSA P-256 certificate for localhost in memory and print its fingerprint");
  app.add_option("--procs", procs, "Ps (goroutines running at once); 0: GOFER_PROCS or all CPUs");
  app.add_flag("--sink", opt.sink, "read and discard instead of echoing (benchmarks)");
  CLI11_PARSE(app, argc, argv);
  if (self_signed == !cert_file.empty() || cert_file.empty() != key_file.empty()) {
    fmt::print(stderr, "tls_echo: give --cert and --key, or --self-signed\n");
    return 2;
  }

  tls::Config config;
  if (self_signed) {
    auto [cert, err] = tls::self_signed();
    if (err) {
      fmt::print(stderr, "tls_echo: {}\n", err.message());
      return 1;
    }
    fmt::print("sha256 fingerprint {}\n", cert.fingerprint_sha256());
    config.certificates = {cert};
  } else {
    auto [cert, err] = tls::load_x509_key_pair(cert_file, key_file);
    if (err) {
      fmt::print(stderr, "tls_echo: {}\n", err.message());
      return 1;
    }
    config.certificates = {cert};
  }
  auto loaded = tls::ServerConfig::load(config);
  if (loaded.err) {
    fmt::print(stderr, "tls_echo: {}\n", loaded.err.message());
    return 1;
  }
  std::shared_ptr<tls::ServerConfig> server_config = std::move(loaded.value);

  int rc = 0;
  gofer::run(
      [&] {
        auto [ln, err] = tls::listen("tcp", addr, server_config);
        if (err) {
          fmt::print(stderr, "tls_echo: listen {}: {}\n", addr, err.message());
          rc = 1;
          return;
        }
        fmt::print("listening on {}\n", ln.addr().to_string());
        std::fflush(stdout);
        for (;;) {
          auto [conn, aerr] =
              ln.accept();  // no handshake here: a slow client stalls only its own goroutine
          if (aerr) {
            fmt::print(stderr, "tls_echo: accept: {}\n", aerr.message());
            rc = 1;
            return;
          }
          gofer::go([c = std::make_unique<tls::Conn>(std::move(conn)), opt]() mutable {
            serve(std::move(c), opt);
          });
        }
      },
      {.procs = procs});
  return rc;
}
