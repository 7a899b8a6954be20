// tls_load: the client side of bench/tls/run-tls-bench — full TLS
// handshakes per second, or bulk upload throughput, against any TLS server
// (gofer's tls_echo --sink, Go's crypto/tls, openssl s_server).
//
//   tls_load --addr 127.0.0.1:8443 --mode handshake --conns 16 --seconds 5
//   tls_load --addr 127.0.0.1:8443 --mode bulk --seconds 5
// Prints one line: "handshakes N errors E seconds S" or
// "bytes N errors E seconds S". The server's certificate is not verified
// (its cost would be the client's, and the client is not what is measured);
// no session is resumed, so every handshake is a full one.
#include <fmt/core.h>
#include <CLI/CLI.hpp>

#include <atomic>
#include <chrono>
#include <string>
#include <vector>

#include "gofer/runtime.h"
#include "gofer/sync.h"
#include "gofer/tls.h"

namespace tls = gofer::tls;
namespace net = gofer::net;

int main(int argc, char** argv) {
  CLI::App app{"TLS load client: handshakes per second or bulk throughput"};
  std::string addr, mode = "handshake", version = "1.3";
  int conns = 16, procs = 1;
  double seconds = 5;
  app.add_option("--addr", addr, "server host:port")->required();
  app.add_option("--mode", mode, "handshake or bulk")->check(CLI::IsMember({"handshake", "bulk"}));
  app.add_option("--conns", conns, "concurrent connections (handshake mode)")
      ->capture_default_str();
  app.add_option("--seconds", seconds, "how long")->capture_default_str();
  app.add_option("--version", version, "TLS version: 1.2 or 1.3")->capture_default_str();
  app.add_option("--procs", procs, "Ps of the client")->capture_default_str();
  CLI11_PARSE(app, argc, argv);

  auto [v, verr] = tls::parse_version(version);
  if (verr) {
    fmt::print(stderr, "tls_load: {}\n", verr.message());
    return 2;
  }
  tls::Config c;
  c.insecure_skip_verify = true;
  c.min_version = c.max_version = v;
  auto loaded = tls::ClientConfig::load(c);
  if (loaded.err) {
    fmt::print(stderr, "tls_load: {}\n", loaded.err.message());
    return 2;
  }
  std::shared_ptr<tls::ClientConfig> config = std::move(loaded.value);

  std::atomic<long> done{0}, errors{0};
  std::atomic<unsigned long long> bytes{0};
  double elapsed = 0;
  gofer::run(
      [&] {
        const auto start = net::Clock::now();
        const auto end = start + std::chrono::duration_cast<net::Clock::duration>(
                                     std::chrono::duration<double>(seconds));
        gofer::WaitGroup wg;
        if (mode == "handshake") {
          wg.add(conns);
          for (int i = 0; i < conns; ++i) {
            gofer::go([&] {
              while (net::Clock::now() < end) {
                auto [conn, err] = tls::dial("tcp", addr, config, std::chrono::seconds(10));
                if (err) {
                  errors.fetch_add(1, std::memory_order_relaxed);
                  continue;
                }
                (void)conn.close();  // close_notify, then FIN
                done.fetch_add(1, std::memory_order_relaxed);
              }
              wg.done();
            });
          }
        } else {
          wg.add(1);
          gofer::go([&] {
            auto [conn, err] = tls::dial("tcp", addr, config, std::chrono::seconds(10));
            if (err) {
              errors.fetch_add(1);
              wg.done();
              return;
            }
            std::vector<char> chunk(64 << 10, 'x');
            while (net::Clock::now() < end) {
              auto [n, werr] = conn.write(chunk);
              bytes.fetch_add(n, std::memory_order_relaxed);
              if (werr) {
                errors.fetch_add(1);
                break;
              }
            }
            (void)conn.close();
            wg.done();
          });
        }
        wg.wait();
        elapsed = std::chrono::duration<double>(net::Clock::now() - start).count();
      },
      {.procs = procs});
  if (mode == "handshake") {
    fmt::print("handshakes {} errors {} seconds {:.3f}\n", done.load(), errors.load(), elapsed);
  } else {
    fmt::print("bytes {} errors {} seconds {:.3f}\n", bytes.load(), errors.load(), elapsed);
  }
  return 0;
}
