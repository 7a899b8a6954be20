#include "lifecycle.h"

#include <signal.h>
#include <unistd.h>

#include <cstdio>

#include <fmt/format.h>

#include "gofer/runtime.h"
#include "gofer/sync.h"
#include "gofer/time.h"
#include "sd_notify.h"
#include "signals.h"

namespace gofer::app {
namespace {

std::string seconds_text(std::chrono::nanoseconds d) {
  return fmt::format("{:g} s", std::chrono::duration<double>(d).count());
}

}  // namespace

Lifecycle::Lifecycle(LifecycleOptions options, http::Health health)
    : options_(std::move(options)), health_(std::move(health)) {}

template <class... Args>
void Lifecycle::say(fmt::format_string<Args...> f, Args&&... args) {
  std::string line = fmt::format("{}: ", options_.name);
  fmt::format_to(std::back_inserter(line), f, std::forward<Args>(args)...);
  line += '\n';
  // stderr may be a pipe nobody reads fast: block an M, not a P.
  gofer::blocking([&] {
    std::fwrite(line.data(), 1, line.size(), stderr);
    std::fflush(stderr);
  });
}

std::function<void(int)> Lifecycle::signal_sink() const {
  return [events = events_](int signo) {
    (void)events.try_send(Event{Event::signal, signo, {}});  // full: a burst; dropped
  };
}

void Lifecycle::run() {
  while (!done_) {
    auto [e, ok] = events_.recv();
    if (!ok) return;
    switch (e.kind) {
      case Event::signal:
        on_signal(e.signo);
        break;
      case Event::upgrade_ready:
        say("upgrade: the new process (pid {}) is ready; draining this one (pid {})",
            upgrading_pid_, ::getpid());
        upgrading_pid_ = -1;
        start_drain(std::chrono::nanoseconds(0), "upgraded", /*handed_over=*/true);
        break;
      case Event::upgrade_failed:
        say("upgrade failed: {}; still serving", e.text);
        upgrading_pid_ = -1;
        break;
      case Event::drained:
        say("{}", e.text);
        done_ = true;
        break;
    }
  }
}

void Lifecycle::on_signal(int signo) {
  switch (signo) {
    case SIGTERM:
    case SIGINT:
      if (!draining_) {
        start_drain(options_.drain_delay, signal_name(signo), /*handed_over=*/false);
      } else {
        say("{} during the drain: closing every connection now", signal_name(signo));
        cut_drain_delay_();  // a default CancelFunc (no delay running) does nothing
        for (http::Server* s : servers_)
          (void)s->close();  // nothing to report: closing is the point
      }
      break;
    case SIGUSR1:
      reopen_logs();
      break;
    case SIGUSR2:
      if (draining_) {
        say("SIGUSR2: this process is draining; no upgrade");
      } else if (upgrading_pid_ > 0) {
        say("SIGUSR2: an upgrade is already under way (new process pid {}); ignored",
            upgrading_pid_);
      } else {
        start_upgrade();
      }
      break;
    case SIGHUP:
      if (options_.on_sighup) options_.on_sighup();
      break;
    default:
      break;
  }
}

void Lifecycle::reopen_logs() {
  if (logs_.empty()) {
    say("SIGUSR1: no access log to reopen");
    return;
  }
  for (const auto& log : logs_) {
    if (log->path() == "-") continue;  // standard output is not reopened
    if (Error err = log->reopen()) {
      say("SIGUSR1: reopen access log {}: {}; still writing to the file open before", log->path(),
          err.message());
    } else {
      say("SIGUSR1: reopened access log {}", log->path());
    }
  }
}

void Lifecycle::start_upgrade() {
  StartedProcess p = start_with_sockets(options_.program, options_.sockets);
  if (!p.error.empty()) {
    say("upgrade failed: {}; still serving", p.error);
    return;
  }
  upgrading_pid_ = p.pid;
  say("SIGUSR2: upgrade: started {} (pid {}) with {} listening socket{}; waiting up to {} for it",
      options_.program.path, p.pid, options_.sockets.size(),
      options_.sockets.size() == 1 ? "" : "s", seconds_text(options_.upgrade_timeout));
  gofer::go([events = events_, p, timeout = options_.upgrade_timeout]() mutable {
    std::string why = wait_ready(p, timeout);
    events.send(why.empty() ? Event{Event::upgrade_ready, 0, {}}
                            : Event{Event::upgrade_failed, 0, std::move(why)});
  });
}

void Lifecycle::start_drain(std::chrono::nanoseconds delay, std::string_view why,
                            bool handed_over) {
  draining_ = true;
  health_.set_ready(false);
  // After an upgrade the new process is the service now (it said
  // MAINPID=): only a real stop is announced.
  if (!handed_over) sd_notify("STOPPING=1");
  if (delay.count() > 0) {
    say("{}: draining: /readyz answers 503; accepting for {} more, then up to {} for requests "
        "in flight",
        why, seconds_text(delay), seconds_text(options_.grace));
  } else if (!handed_over) {
    say("{}: draining: /readyz answers 503; up to {} for requests in flight", why,
        seconds_text(options_.grace));
  }
  auto [ctx, cancel] = with_cancel(background());
  cut_drain_delay_ = cancel;
  gofer::go([this, delay, ctx = ctx] {
    if (delay.count() > 0) {
      gofer::select(gofer::recv_case(gofer::after(delay)), gofer::recv_case(ctx.done()));
    }
    auto deadline = net::Clock::now() + options_.grace;
    std::size_t open = 0;
    for (http::Server* s : servers_) open += s->open_connections();
    // Every server at once: one's listener must not stay open while
    // another's connections finish.
    std::atomic<bool> cut{false};
    gofer::WaitGroup all;
    for (http::Server* s : servers_) {
      all.add(1);
      gofer::go([&, s] {
        if (s->shutdown(deadline)) cut.store(true, std::memory_order_relaxed);  // timeout
        all.done();
      });
    }
    all.wait();
    std::string text =
        cut.load(std::memory_order_relaxed)
            ? std::string("drained: the grace period ended; closed the connections still open")
            : fmt::format("drained: listeners closed; the {} connection{} open then finished", open,
                          open == 1 ? "" : "s");
    events_.send(Event{Event::drained, 0, std::move(text)});
  });
}

}  // namespace gofer::app
