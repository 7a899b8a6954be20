// How a gofer server process lives and ends, driven by signals — the part
// of `gofer serve` that any long-running server command shares (a proxy
// drains and upgrades the same way):
//
//   SIGTERM, SIGINT  drain: /readyz turns 503 at once; the listeners keep
//                    accepting for drain_delay (so that a load balancer or
//                    Kubernetes' endpoints stop sending first); then they
//                    close, requests in flight get up to `grace` to finish
//                    (each connection's last response says Connection:
//                    close), idle connections close, and run() returns.
//                    A second SIGTERM/SIGINT during a drain closes every
//                    connection at once.
//   SIGUSR1          reopens the access logs (after logrotate moved them).
//   SIGUSR2          in-place upgrade (upgrade.h): starts the program again
//                    with the listening sockets, waits until it reports
//                    ready (upgrade_timeout), then drains this process with
//                    no delay (the sockets stay open in the new process, so
//                    nothing is refused). Refused with one line while an
//                    upgrade or a drain is under way; a failed upgrade says
//                    why in one line and the server serves on.
//   SIGHUP           runs LifecycleOptions::on_sighup (gofer serve reloads
//                    its TLS certificate there); ignored when it is null.
//
// Every event is one line on stderr, prefixed with the program's name.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "gofer/chan.h"
#include "gofer/context.h"
#include "gofer/http/access_log.h"
#include "gofer/http/health.h"
#include "gofer/http/server.h"
#include "upgrade.h"

namespace gofer::app {

struct LifecycleOptions {
  std::string name = "gofer";  // prefix of every line
  std::chrono::nanoseconds drain_delay{0};
  std::chrono::nanoseconds grace = std::chrono::seconds(10);
  std::chrono::milliseconds upgrade_timeout = std::chrono::seconds(60);
  Program program;                    // what SIGUSR2 starts
  std::vector<PassedSocket> sockets;  // and hands its listening sockets
  std::function<void()> on_sighup;    // on the run() goroutine; may be null
};

class Lifecycle {
 public:
  Lifecycle(LifecycleOptions options, http::Health health);

  void add_server(http::Server* server) { servers_.push_back(server); }
  void add_access_log(std::shared_ptr<http::AccessLog> log) { logs_.push_back(std::move(log)); }

  // What a SignalRelay delivers to: queues the signal for run(). Any
  // goroutine; never blocks (a burst beyond the queue's 16 is dropped). The
  // function stays safe to call after run() returned.
  std::function<void(int)> signal_sink() const;

  // Handles signals until a drain completed: after SIGTERM/SIGINT, or after
  // an upgrade handed over. On a goroutine.
  void run();

 private:
  struct Event {
    enum Kind { signal, upgrade_ready, upgrade_failed, drained } kind = signal;
    int signo = 0;
    std::string text;
  };

  void on_signal(int signo);
  void start_drain(std::chrono::nanoseconds delay, std::string_view why, bool handed_over);
  void start_upgrade();
  void reopen_logs();
  template <class... Args>
  void say(fmt::format_string<Args...> f, Args&&... args);

  LifecycleOptions options_;
  http::Health health_;
  std::vector<http::Server*> servers_;
  std::vector<std::shared_ptr<http::AccessLog>> logs_;
  Chan<Event> events_ = make_chan<Event>(16);
  bool draining_ = false;
  bool done_ = false;
  pid_t upgrading_pid_ = -1;  // the new process while an upgrade waits for it
  CancelFunc cut_drain_delay_;
};

}  // namespace gofer::app
