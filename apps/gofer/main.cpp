// The gofer command: `gofer serve` runs the default site; `gofer top` watches
// one from a terminal.
#include <pthread.h>
#include <signal.h>
#include <sys/stat.h>

#include <CLI/CLI.hpp>
#include <atomic>
#include <cstdio>
#include <optional>
#include <thread>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "gofer/debug.h"
#include "gofer/http/server.h"
#include "gofer/runtime.h"
#include "gofer/sync.h"
#include "gofer/time.h"
#include "gofer/tls.h"
#include "gofer/version.h"
#include "site.h"
#include "top.h"

namespace {

struct ServeFlags {
  std::string addr = "127.0.0.1:8080";
  std::string root;
  int procs = 0;
  int grace_seconds = 10;
  bool no_debug = false;
  bool debug_public = false;
  bool explain = false;
  std::uint32_t explain_sample = 1;
  std::string tls_cert;  // HTTPS with this key pair (reloaded on SIGHUP)
  std::string tls_key;
  bool tls_self_signed = false;  // HTTPS with a certificate made in memory
};

// The HTTPS configuration of the flags: null for plain HTTP; prints why and
// sets `failed` if it does not load.
std::shared_ptr<gofer::tls::ServerConfig> load_tls(const ServeFlags& flags,
                                                   gofer::http::Server& server, bool& failed) {
  if (flags.tls_self_signed) {
    auto [cert, err] = gofer::tls::self_signed();
    if (err) {
      fmt::print(stderr, "gofer: --tls-self-signed: {}\n", err.message());
      failed = true;
      return nullptr;
    }
    fmt::print("gofer: self-signed certificate for {}; SHA-256 fingerprint {}\n",
               fmt::join(cert.names(), ", "), cert.fingerprint_sha256());
    server.tls_config.certificates.push_back(std::move(cert));
  } else if (flags.tls_cert.empty()) {
    return nullptr;
  }
  auto [config, err] = server.load_tls_config(flags.tls_cert, flags.tls_key);
  if (err) {
    fmt::print(stderr, "gofer: TLS: {}\n", err.message());
    failed = true;
    return nullptr;
  }
  return config;
}

// --explain: prints each request's journey as it completes, from a goroutine
// of its own that reads the trace every 50 ms — nothing is printed on a
// request's path. At most 20 journeys a poll; the rest are counted.
void explain_requests(const std::atomic<bool>& running) {
  using namespace std::chrono_literals;
  gofer::debug::JourneyWatcher watcher;
  for (bool last = false; !last;) {
    gofer::sleep_for(50ms);
    last = !running.load();
    std::size_t skipped = 0;
    auto journeys = watcher.poll(20, &skipped);
    std::string out;
    for (const auto& j : journeys) out += gofer::debug::explain(j) + "\n";
    if (skipped > 0)
      out += fmt::format("… and {} more requests in these 50 ms, not shown\n\n", skipped);
    if (out.empty()) continue;
    // stdout may be a slow terminal or a full pipe: block an M, not a P.
    gofer::blocking([&] {
      std::fwrite(out.data(), 1, out.size(), stdout);
      std::fflush(stdout);
    });
  }
}

// The debug pages show the server's insides: only on loopback unless asked.
bool is_loopback(const gofer::net::Addr& a) {
  std::string s = a.to_string();
  return s.starts_with("127.") || s.starts_with("[::1]") || a.family() == AF_UNIX;
}

// SIGINT/SIGTERM (and SIGHUP) are blocked in every thread (the runtime's Ms
// inherit the mask) and taken by one thread with sigwait, which starts the
// graceful shutdown (or the certificate reload) on a goroutine.
int serve(const ServeFlags& flags) {
  if (!flags.root.empty()) {
    struct stat st {};
    if (::stat(flags.root.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
      fmt::print(stderr, "gofer: --root {}: not a directory\n", flags.root);
      return 1;
    }
  }
  sigset_t sigs;
  sigemptyset(&sigs);
  sigaddset(&sigs, SIGINT);
  sigaddset(&sigs, SIGTERM);
  sigaddset(&sigs, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &sigs, nullptr);

  int exit_code = 0;
  gofer::run(
      [&] {
        gofer::http::Server server;
        server.addr = flags.addr;
        auto [ln, err] = gofer::net::listen("tcp", flags.addr);
        if (err) {
          fmt::print(stderr, "gofer: listen on {}: {}\n", flags.addr, err.message());
          exit_code = 1;
          return;
        }
        bool tls_failed = false;
        std::shared_ptr<gofer::tls::ServerConfig> tls = load_tls(flags, server, tls_failed);
        if (tls_failed) {
          exit_code = 1;
          return;
        }
        bool debug = !flags.no_debug && (flags.debug_public || is_loopback(ln.addr()));
        // The live page's history, kept from the start (destroyed before the server).
        std::optional<gofer::debug::SeriesRecorder> series;
        if (debug) series.emplace(&server);
        server.handler = gofer::app::make_site({.root = flags.root,
                                                .debug = debug,
                                                .server = &server,
                                                .series = series ? &*series : nullptr});
        fmt::print("gofer: serving {}://{} (procs {})\n", tls ? "https" : "http",
                   ln.addr().to_string(), gofer::procs());
        std::atomic<bool> explaining{flags.explain};
        gofer::WaitGroup explainer;
        if (flags.explain) {
          fmt::print("gofer: --explain: tracing is on; {} journey is printed as it completes\n\n",
                     flags.explain_sample > 1
                         ? fmt::format("one request in {}: its", flags.explain_sample)
                         : std::string("each request's"));
          gofer::debug::start_tracing(flags.explain_sample);
          explainer.add(1);
          gofer::go([&] {
            explain_requests(explaining);
            explainer.done();
          });
        }
        std::fflush(stdout);
        std::atomic<bool> serving{true};
        gofer::WaitGroup shutdown_done;
        gofer::WaitGroup reloads;
        std::thread waiter([&] {
          int sig = 0;
          for (;;) {
            sigwait(&sigs, &sig);
            if (!serving.load()) return;  // woken by main below: serve() already ended
            if (sig != SIGHUP) break;
            if (flags.tls_cert.empty()) continue;  // nothing to reload
            reloads.add(1);
            gofer::go([&] {
              gofer::tls::LoadError err = server.reload_certificates(flags.tls_cert, flags.tls_key);
              if (err) {
                fmt::print(stderr, "gofer: SIGHUP: certificate not reloaded: {}\n", err.message());
              } else {
                fmt::print(stderr, "gofer: SIGHUP: certificate reloaded from {}\n", flags.tls_cert);
              }
              reloads.done();
            });
          }
          shutdown_done.add(1);
          gofer::go([&, sig] {
            fmt::print(stderr, "gofer: {} — shutting down\n",
                       sig == SIGINT ? "interrupt" : "terminated");
            auto deadline = gofer::net::Clock::now() + std::chrono::seconds(flags.grace_seconds);
            if (server.shutdown(deadline))
              fmt::print(stderr, "gofer: closed connections still open\n");
            shutdown_done.done();
          });
        });
        gofer::Error serve_err = tls ? server.serve_tls(ln, tls) : server.serve(ln);
        // serve() returned: shutdown began (or the listener failed); wait for
        // the connections to finish, then for the signal thread.
        while (server.open_connections() > 0) gofer::sleep_for(std::chrono::milliseconds(5));
        explaining.store(false);
        explainer.wait();
        if (serving.exchange(false)) pthread_kill(waiter.native_handle(), SIGTERM);
        waiter.join();
        shutdown_done.wait();
        reloads.wait();
        if (serve_err && serve_err != gofer::http::errc::server_closed) {
          fmt::print(stderr, "gofer: serve: {}\n", serve_err.message());
          exit_code = 1;
        }
      },
      {.procs = flags.procs});
  return exit_code;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"gofer — Go's server model in C++: an HTTP/1.1 server and a look inside it"};
  app.require_subcommand(1);
  app.set_version_flag("--version", fmt::format("gofer {}", gofer::version));
  ServeFlags flags;
  CLI::App* serve_cmd = app.add_subcommand(
      "serve", "serve the default site (the seed's story, /hello, /echo, /static/)");
  serve_cmd->add_option("--addr", flags.addr, "address to listen on")->capture_default_str();
  serve_cmd->add_option("--root", flags.root, "directory served under /static/");
  serve_cmd
      ->add_option("--procs", flags.procs,
                   "processors (Ps) that run goroutines; 0: GOFER_PROCS or all CPUs")
      ->capture_default_str();
  serve_cmd
      ->add_option("--grace", flags.grace_seconds,
                   "seconds to let requests finish on SIGINT/SIGTERM")
      ->capture_default_str();
  serve_cmd->add_flag("--no-debug", flags.no_debug, "do not serve /debug/ and /metrics");
  serve_cmd->add_flag(
      "--explain", flags.explain,
      "trace every request and print its journey as it completes: the fds, goroutines, "
      "Ms and Ps, epoll reports and microseconds of each step");
  serve_cmd
      ->add_option("--explain-sample", flags.explain_sample,
                   "with --explain: trace one request in N (a power of two; per thread), "
                   "so a busy server keeps nearly its speed")
      ->check(CLI::Range(1u, 65536u))
      ->capture_default_str();
  serve_cmd->add_flag("--debug-public", flags.debug_public,
                      "serve /debug/ and /metrics on a non-loopback address too");
  auto* tls_cert = serve_cmd->add_option(
      "--tls-cert", flags.tls_cert,
      "serve HTTPS with this certificate chain (PEM); SIGHUP reloads it and --tls-key");
  auto* tls_key =
      serve_cmd->add_option("--tls-key", flags.tls_key, "the private key (PEM) of --tls-cert");
  tls_cert->needs(tls_key);
  tls_key->needs(tls_cert);
  serve_cmd
      ->add_flag("--tls-self-signed", flags.tls_self_signed,
                 "serve HTTPS with a certificate made in memory for localhost, 127.0.0.1 and ::1 "
                 "(for local use; its fingerprint is printed)")
      ->excludes(tls_cert);
  gofer::app::TopFlags top_flags;
  CLI::App* top_cmd = app.add_subcommand(
      "top",
      "watch a running gofer server from a terminal: requests, latency, goroutines, "
      "Ps and Ms, CPU and memory over the last minute, refreshed every second");
  top_cmd->add_option("--addr", top_flags.addr, "the server's address (HOST:PORT)")
      ->capture_default_str();
  top_cmd->add_flag("--once", top_flags.once, "print one snapshot in plain text and exit");
  CLI11_PARSE(app, argc, argv);
  if (serve_cmd->parsed()) return serve(flags);
  if (top_cmd->parsed()) return gofer::app::top(top_flags);
  return 0;
}
