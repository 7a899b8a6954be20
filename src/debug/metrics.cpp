// /metrics in the Prometheus text exposition format (version 0.0.4).
#include <fmt/format.h>

#include <map>

#include "debug/process_stats.h"
#include "gofer/debug.h"
#include "runtime/introspect.h"

namespace gofer::debug {
namespace {

void family(std::string& out, std::string_view name, std::string_view type, std::string_view help) {
  out += fmt::format("# HELP {} {}\n# TYPE {} {}\n", name, help, name, type);
}

}  // namespace

std::string metrics_text(const http::Server* server) {
  runtime::SchedInfo s = runtime::sched_info();
  std::string out;
  family(out, "gofer_goroutines", "gauge", "Goroutines that exist.");
  out += fmt::format("gofer_goroutines {}\n", s.goroutines);
  std::map<std::string, int> by_state;
  runtime::for_each_goroutine([&](const runtime::GoroutineInfo& g) {
    by_state[g.wait_reason == runtime::WaitReason::none ? g.status
                                                        : runtime::to_string(g.wait_reason)]++;
  });
  family(out, "gofer_goroutines_by_state", "gauge", "Goroutines by state or wait reason.");
  for (auto& [state, n] : by_state)
    out += fmt::format("gofer_goroutines_by_state{{state=\"{}\"}} {}\n", state, n);
  family(out, "gofer_procs", "gauge", "Processors (Ps) that run goroutines, like GOMAXPROCS.");
  out += fmt::format("gofer_procs {}\n", s.procs);
  family(out, "gofer_threads", "gauge", "OS threads (Ms) the runtime started.");
  out += fmt::format("gofer_threads {}\n", s.ms.size());
  family(out, "gofer_idle_procs", "gauge", "Ps with no work.");
  out += fmt::format("gofer_idle_procs {}\n", s.idle_procs);
  family(out, "gofer_spinning_threads", "gauge", "Ms looking for work to steal.");
  out += fmt::format("gofer_spinning_threads {}\n", s.spinning_threads);
  family(out, "gofer_runqueue_length", "gauge", "Goroutines in each P's local run queue.");
  for (auto& p : s.ps) out += fmt::format("gofer_runqueue_length{{p=\"{}\"}} {}\n", p.id, p.runq);
  family(out, "gofer_global_runqueue_length", "gauge", "Goroutines in the global run queue.");
  out += fmt::format("gofer_global_runqueue_length {}\n", s.global_runq);
  family(out, "gofer_timers", "gauge", "Timers in each P's heap.");
  for (auto& p : s.ps) out += fmt::format("gofer_timers{{p=\"{}\"}} {}\n", p.id, p.timers);
  family(out, "gofer_steals_total", "counter", "Successful work steals between Ps.");
  out += fmt::format("gofer_steals_total {}\n", s.steals);
  family(out, "gofer_netpoll_wakeups_total", "counter", "Returns from a blocking epoll_wait.");
  out += fmt::format("gofer_netpoll_wakeups_total {}\n", s.poll_wakeups);
  family(out, "gofer_netpoll_fds", "gauge", "File descriptors registered with the netpoller.");
  out += fmt::format("gofer_netpoll_fds {}\n", s.open_fds);
  family(out, "gofer_proc_busy_seconds_total", "counter",
         "Time each P was held by an M (running goroutines, scheduling or spinning).");
  for (auto& p : s.ps) {
    out += fmt::format("gofer_proc_busy_seconds_total{{p=\"{}\"}} {}\n", p.id,
                       static_cast<double>(p.busy_ns) * 1e-9);
  }
  family(out, "gofer_thread_seconds_total", "counter",
         "Time each M spent running, spinning, asleep in epoll_wait (netpoll), asleep on a "
         "futex, or in blocking().");
  for (auto& m : s.ms) {
    for (int k = 0; k < runtime::kMStates; ++k) {
      out += fmt::format("gofer_thread_seconds_total{{m=\"{}\",state=\"{}\"}} {}\n", m.id,
                         runtime::to_string(static_cast<runtime::MState>(k)),
                         static_cast<double>(m.state_ns[k]) * 1e-9);
    }
  }
  detail::ProcessStats ps = detail::process_stats();
  family(out, "process_cpu_seconds_total", "counter",
         "Total user and system CPU time spent in seconds.");
  out += fmt::format("process_cpu_seconds_total {}\n", ps.user_seconds + ps.system_seconds);
  family(out, "process_resident_memory_bytes", "gauge", "Resident memory size in bytes.");
  out += fmt::format("process_resident_memory_bytes {}\n", ps.rss_bytes);
  if (ps.open_fds >= 0) {
    family(out, "process_open_fds", "gauge", "Number of open file descriptors.");
    out += fmt::format("process_open_fds {}\n", ps.open_fds);
  }

  if (server != nullptr) {
    http::ServerStats h = server->stats();
    family(out, "http_open_connections", "gauge", "Connections being served.");
    out += fmt::format("http_open_connections {}\n", h.open_connections);
    family(out, "http_parked_connections", "gauge",
           "Idle kept-alive connections parked in the poller (no goroutine stack, no buffers).");
    out += fmt::format("http_parked_connections {}\n", h.parked_connections);
    family(out, "http_connections_total", "counter", "Connections accepted.");
    out += fmt::format("http_connections_total {}\n", h.connections_accepted);
    family(out, "http_requests_total", "counter", "Requests served, by method and status code.");
    for (auto& c : h.requests) {
      out += fmt::format("http_requests_total{{method=\"{}\",code=\"{}\"}} {}\n", c.method, c.code,
                         c.count);
    }
    family(out, "http_request_duration_seconds", "histogram",
           "From a complete request head to the response sent.");
    for (std::size_t i = 0; i < h.latency_bounds.size(); ++i) {
      out += fmt::format("http_request_duration_seconds_bucket{{le=\"{}\"}} {}\n",
                         h.latency_bounds[i], h.latency_cumulative[i]);
    }
    out += fmt::format("http_request_duration_seconds_bucket{{le=\"+Inf\"}} {}\n", h.latency_count);
    out += fmt::format("http_request_duration_seconds_sum {}\n", h.latency_sum_seconds);
    out += fmt::format("http_request_duration_seconds_count {}\n", h.latency_count);
    family(out, "http_received_bytes_total", "counter",
           "Request bytes received (heads and bodies).");
    out += fmt::format("http_received_bytes_total {}\n", h.bytes_read);
    family(out, "http_sent_bytes_total", "counter", "Response bytes sent (heads and bodies).");
    out += fmt::format("http_sent_bytes_total {}\n", h.bytes_written);
  }
  return out;
}

}  // namespace gofer::debug
