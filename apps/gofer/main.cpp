// The gofer command: `gofer serve` runs the default site, `gofer proxy` a
// reverse proxy in the same server; `gofer top` watches either from a
// terminal.
#include <pthread.h>
#include <signal.h>
#include <sys/stat.h>

#include <CLI/CLI.hpp>
#include <atomic>
#include <cstdio>
#include <functional>
#include <optional>
#include <vector>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "activation.h"
#include "gofer/debug.h"
#include "gofer/http/access_log.h"
#include "gofer/http/health.h"
#include "gofer/http/server.h"
#include "gofer/runtime.h"
#include "gofer/sync.h"
#include "gofer/time.h"
#include "gofer/tls.h"
#include "gofer/version.h"
#include "lifecycle.h"
#include "proxy.h"
#include "sd_notify.h"
#include "signals.h"
#include "site.h"
#include "top.h"
#include "upgrade.h"

namespace {

struct ServeFlags {
  std::string addr = "127.0.0.1:8080";
  std::string root;
  int procs = 0;
  double grace_seconds = 10;
  double drain_delay_seconds = 0;
  double upgrade_timeout_seconds = 60;
  bool no_debug = false;
  bool debug_public = false;
  bool no_health = false;
  bool reuseport = false;
  bool explain = false;
  std::uint32_t explain_sample = 1;
  std::string access_log;  // a path, "-" for standard output, empty for none
  std::string access_log_format = "combined";
  std::string tls_cert;  // HTTPS with this key pair (reloaded on SIGHUP)
  std::string tls_key;
  bool tls_self_signed = false;  // HTTPS with a certificate made in memory
  // gofer proxy
  std::vector<std::string> to;  // the upstreams' URLs
  double fail_timeout_seconds = 10;
};

std::chrono::nanoseconds seconds(double s) {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::duration<double>(s));
}

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

// The listening sockets: those passed in (socket activation, or the process
// an upgrade replaces: gofer::app::adopt_listeners), else one on --addr.
// Empty, after one line on stderr, when neither works.
std::vector<gofer::app::InheritedListener> open_listeners(const ServeFlags& flags,
                                                          const gofer::app::ListenFds& passed) {
  if (passed.count > 0) {
    gofer::app::Adopted adopted = gofer::app::adopt_listeners(passed);
    if (!adopted.error.empty()) fmt::print(stderr, "gofer: {}\n", adopted.error);
    return std::move(adopted.listeners);
  }
  auto [ln, err] = gofer::net::listen("tcp", flags.addr, {.reuse_port = flags.reuseport});
  if (err) {
    fmt::print(stderr, "gofer: listen on {}: {}\n", flags.addr, err.message());
    return {};
  }
  std::vector<gofer::app::InheritedListener> out;
  int fd = ln.fd();
  out.push_back({fd, "http", std::move(ln)});
  return out;
}

// Every signal gofer serve takes (see lifecycle.h for what each does).
constexpr std::initializer_list<int> kServeSignals = {SIGUSR1, SIGINT, SIGTERM, SIGUSR2, SIGHUP};

// What a command serves: the default site, or the proxy; the debug pages,
// health and drain are the same for both.
using MakeHandler = std::function<gofer::http::Handler(const gofer::app::SiteOptions&)>;

int serve(const ServeFlags& flags, const gofer::app::Program& program,
          const MakeHandler& make_handler) {
  if (!flags.root.empty()) {
    struct stat st {};
    if (::stat(flags.root.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
      fmt::print(stderr, "gofer: --root {}: not a directory\n", flags.root);
      return 1;
    }
  }
  // The environment is read (and the variables meant for this process
  // cleared) before any thread starts.
  gofer::app::ListenFds passed = gofer::app::read_listen_env();
  if (!passed.error.empty()) {
    fmt::print(stderr, "gofer: {}\n", passed.error);
    return 1;
  }
  int ready_fd = gofer::app::read_ready_fd_env();
  gofer::app::read_notify_env();
  gofer::app::SignalRelay relay(kServeSignals);

  int exit_code = 0;
  gofer::run(
      [&] {
        std::vector<gofer::app::InheritedListener> listeners = open_listeners(flags, passed);
        if (listeners.empty()) {
          exit_code = 1;
          return;
        }
        std::shared_ptr<gofer::http::AccessLog> access_log;
        if (!flags.access_log.empty()) {
          auto format = flags.access_log_format == "json" ? gofer::http::AccessLogFormat::json
                                                          : gofer::http::AccessLogFormat::combined;
          auto [log, err] = gofer::http::AccessLog::open(flags.access_log, {.format = format});
          if (err) {
            fmt::print(stderr, "gofer: --access-log {}: {}\n", flags.access_log, err.message());
            exit_code = 1;
            return;
          }
          access_log = std::move(log);
        }
        gofer::http::Server server;
        server.addr = listeners.front().listener.addr().to_string();
        server.access_log = access_log;
        bool debug = !flags.no_debug;
        for (const auto& l : listeners)
          // The debug pages show the server's insides: only on loopback unless asked.
          debug = debug && (flags.debug_public || l.listener.addr().is_loopback());
        bool tls_failed = false;
        std::shared_ptr<gofer::tls::ServerConfig> tls = load_tls(flags, server, tls_failed);
        if (tls_failed) {
          exit_code = 1;
          return;
        }
        gofer::http::Health health;
        // The live page's history, kept from the start (destroyed before the server).
        std::optional<gofer::debug::SeriesRecorder> series;
        if (debug) series.emplace(&server);
        server.handler = make_handler({.root = flags.root,
                                       .debug = debug,
                                       .debug_public = flags.debug_public,
                                       .health = flags.no_health ? nullptr : &health,
                                       .server = &server,
                                       .series = series ? &*series : nullptr});
        for (const auto& l : listeners) {
          fmt::print("gofer: serving {}://{} (procs {}, pid {}{})\n", tls ? "https" : "http",
                     l.listener.addr().to_string(), gofer::procs(), ::getpid(),
                     passed.count > 0 ? fmt::format(", inherited fd {} \"{}\"", l.fd, l.name) : "");
        }
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

        gofer::app::LifecycleOptions options{
            .drain_delay = seconds(flags.drain_delay_seconds),
            .grace = seconds(flags.grace_seconds),
            .upgrade_timeout = std::chrono::duration_cast<std::chrono::milliseconds>(
                seconds(flags.upgrade_timeout_seconds)),
            .program = program,
            .sockets = {},
            .on_sighup = [&] {
              if (flags.tls_cert.empty()) return;  // nothing to reload
              gofer::tls::LoadError err = server.reload_certificates(flags.tls_cert, flags.tls_key);
              if (err) {
                fmt::print(stderr, "gofer: SIGHUP: certificate not reloaded: {}\n", err.message());
              } else {
                fmt::print(stderr, "gofer: SIGHUP: certificate reloaded from {}\n", flags.tls_cert);
              }
            }};
        for (const auto& l : listeners) options.sockets.push_back({l.fd, l.name});
        gofer::app::Lifecycle lifecycle(std::move(options), health);
        lifecycle.add_server(&server);
        if (access_log) lifecycle.add_access_log(access_log);
        relay.start(lifecycle.signal_sink());

        auto sink = lifecycle.signal_sink();
        gofer::WaitGroup serving;
        std::atomic<bool> serve_failed{false};
        for (auto& l : listeners) {
          serving.add(1);
          gofer::go([&] {
            gofer::Error err = tls ? server.serve_tls(l.listener, tls) : server.serve(l.listener);
            if (err && err != gofer::http::errc::server_closed) {
              fmt::print(stderr, "gofer: serve {}: {}\n", l.listener.addr().to_string(),
                         err.message());
              serve_failed.store(true);
              sink(SIGTERM);  // the listener is gone: end as a SIGTERM would
            }
            serving.done();
          });
        }
        // Serving: tell whoever waits (the process this one replaces, systemd).
        gofer::app::report_ready(ready_fd);
        gofer::app::sd_notify(fmt::format("READY=1\nMAINPID={}", ::getpid()));

        lifecycle.run();  // until a drain completed
        serving.wait();
        explaining.store(false);
        explainer.wait();
        relay.stop();
        if (serve_failed.load()) exit_code = 1;
        // Lines the log could not keep (its buffer full while the disk
        // lagged, or a failed write): said once, at the end, not per line.
        if (access_log && (access_log->dropped() > 0 || access_log->write_errors() > 0)) {
          fmt::print(stderr, "gofer: access log {}: {} lines dropped, {} failed writes\n",
                     flags.access_log, access_log->dropped(), access_log->write_errors());
        }
      },
      {.procs = flags.procs});
  return exit_code;
}

}  // namespace

// The flags `gofer serve` and `gofer proxy` share: listening, drain,
// access log, debug pages, TLS, and the signals they take.
void add_server_flags(CLI::App* serve_cmd, ServeFlags& flags) {
  serve_cmd
      ->add_option("--addr", flags.addr,
                   "address to listen on (ignored when listening sockets are passed in: "
                   "LISTEN_FDS, as systemd's socket activation does)")
      ->capture_default_str();
  serve_cmd->add_flag("--reuseport", flags.reuseport,
                      "listen with SO_REUSEPORT: several processes may serve one port");
  serve_cmd
      ->add_option("--procs", flags.procs,
                   "processors (Ps) that run goroutines; 0: GOFER_PROCS or all CPUs")
      ->capture_default_str();
  serve_cmd
      ->add_option("--drain-delay", flags.drain_delay_seconds,
                   "seconds to keep accepting after SIGTERM/SIGINT, with /readyz answering 503, "
                   "before the listener closes (let a load balancer or Kubernetes notice first)")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  serve_cmd
      ->add_option("--grace", flags.grace_seconds,
                   "seconds to let requests in flight finish once the listener closed; then "
                   "the connections still open are closed")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  serve_cmd
      ->add_option("--access-log", flags.access_log,
                   "write a line per request to PATH (appended; reopened on SIGUSR1), or to "
                   "standard output for -")
      ->type_name("PATH|-");
  serve_cmd
      ->add_option(
          "--access-log-format", flags.access_log_format,
          "combined (Apache's Combined Log Format, as nginx's) or json (one object a line)")
      ->check(CLI::IsMember({"combined", "json"}))
      ->capture_default_str();
  serve_cmd
      ->add_option("--upgrade-timeout", flags.upgrade_timeout_seconds,
                   "SIGUSR2 (in-place upgrade): seconds to wait for the new process to be ready "
                   "before giving up on it")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  serve_cmd->add_flag("--no-health", flags.no_health,
                      "do not serve /healthz (alive) and /readyz (503 once draining)");
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
  serve_cmd->footer(R"(Signals:
  SIGTERM, SIGINT  drain: /readyz turns 503 at once, the listener keeps accepting for
                   --drain-delay, then closes; requests in flight get --grace to finish
                   (their connections end after them), idle connections close. A second
                   SIGTERM/SIGINT closes every connection at once.
  SIGUSR1          reopen the access log (after logrotate moved it).
  SIGUSR2          in-place upgrade: start the binary at the path gofer was started from,
                   with the same arguments and the listening sockets, wait until it serves
                   (--upgrade-timeout), then drain this process. Nothing is refused.
  SIGHUP           reload --tls-cert and --tls-key (nothing without them).

Listening sockets may be passed in as systemd does (LISTEN_FDS, LISTEN_PID,
LISTEN_FDNAMES): from a socket unit, `systemd-socket-activate -l ADDR gofer serve`,
or an upgrade. Under systemd with Type=notify, gofer reports READY=1, STOPPING=1
and, after an upgrade, the new MAINPID (NotifyAccess=all).)");
}

int main(int argc, char** argv) {
  CLI::App app{"gofer — Go's server model in C++: an HTTP/1.1 server and a look inside it"};
  app.require_subcommand(1);
  app.set_version_flag("--version", fmt::format("gofer {}", gofer::version));
  ServeFlags flags;
  CLI::App* serve_cmd = app.add_subcommand(
      "serve", "serve the default site (the seed's story, /hello, /echo, /static/)");
  add_server_flags(serve_cmd, flags);
  serve_cmd->add_option("--root", flags.root, "directory served under /static/");
  CLI::App* proxy_cmd = app.add_subcommand(
      "proxy",
      "a reverse proxy to the --to upstreams (round robin; one that refuses connections is "
      "skipped for --fail-timeout), with the health, debug pages and drain of gofer serve");
  add_server_flags(proxy_cmd, flags);
  proxy_cmd->add_option("--to", flags.to, "an upstream's URL (http://HOST:PORT); repeat for more")
      ->required();
  proxy_cmd
      ->add_option("--fail-timeout", flags.fail_timeout_seconds,
                   "seconds an upstream that refused a connection is skipped")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  gofer::app::TopFlags top_flags;
  CLI::App* top_cmd = app.add_subcommand(
      "top",
      "watch a running gofer server from a terminal: requests, latency, goroutines, "
      "Ps and Ms, CPU and memory over the last minute, refreshed every second");
  top_cmd->add_option("--addr", top_flags.addr, "the server's address (HOST:PORT)")
      ->capture_default_str();
  top_cmd->add_flag("--once", top_flags.once, "print one snapshot in plain text and exit");
  CLI11_PARSE(app, argc, argv);
  if (serve_cmd->parsed()) {
    return serve(flags, gofer::app::program_from(argc, argv), gofer::app::make_site);
  }
  if (proxy_cmd->parsed()) {
    gofer::app::ParsedUpstreams parsed = gofer::app::parse_upstreams(flags.to);
    if (!parsed.error.empty()) {
      fmt::print(stderr, "gofer: {}\n", parsed.error);
      return 2;
    }
    for (const auto& u : parsed.urls) fmt::print("gofer: proxy to {}\n", u.to_string());
    std::vector<gofer::url::URL> urls = std::move(parsed.urls);
    return serve(
        flags, gofer::app::program_from(argc, argv), [&](const gofer::app::SiteOptions& site) {
          // Made inside gofer::run: the upstreams' Transport belongs to it.
          auto upstreams =
              std::make_shared<gofer::app::Upstreams>(urls, seconds(flags.fail_timeout_seconds));
          return gofer::app::make_proxy_site(site, gofer::app::make_proxy(upstreams));
        });
  }
  if (top_cmd->parsed()) return gofer::app::top(top_flags);
  return 0;
}
