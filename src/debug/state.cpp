// /debug/gofer/state: what the live page draws, as JSON.
#include <fmt/format.h>

#include <map>

#include "gofer/debug.h"
#include "runtime/introspect.h"

namespace gofer::debug {
namespace {

// The strings emitted here are our own (states, wait reasons, methods), but
// escape them anyway.
std::string json_string(std::string_view s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (static_cast<unsigned char>(c) < 0x20) {
      out += fmt::format("\\u{:04x}", c);
    } else {
      out += c;
    }
  }
  return out + "\"";
}

}  // namespace

std::string state_json(const http::Server* server) {
  runtime::SchedInfo s = runtime::sched_info();
  std::map<std::string, int> by_state;
  runtime::for_each_goroutine([&](const runtime::GoroutineInfo& g) {
    by_state[g.wait_reason == runtime::WaitReason::none ? g.status
                                                        : runtime::to_string(g.wait_reason)]++;
  });
  std::string out = "{";
  out += fmt::format(
      "\"procs\":{},\"goroutines\":{},\"idle_procs\":{},\"spinning\":{},"
      "\"global_runq\":{},\"netpoll_fds\":{},\"netpoll_wakeups\":{},\"steals\":{},",
      s.procs, s.goroutines, s.idle_procs, s.spinning_threads, s.global_runq, s.open_fds,
      s.poll_wakeups, s.steals);
  out += "\"ps\":[";
  for (std::size_t i = 0; i < s.ps.size(); ++i) {
    const auto& p = s.ps[i];
    out += fmt::format("{}{{\"id\":{},\"runq\":{},\"timers\":{},\"steals\":{}}}", i ? "," : "",
                       p.id, p.runq, p.timers, p.steals);
  }
  out += "],\"ms\":[";
  for (std::size_t i = 0; i < s.ms.size(); ++i) {
    const auto& m = s.ms[i];
    out +=
        fmt::format("{}{{\"id\":{},\"p\":{},\"goroutine\":{},\"in_netpoll\":{},\"state\":\"{}\"}}",
                    i ? "," : "", m.id, m.p_id, m.running_goid, m.in_netpoll ? "true" : "false",
                    runtime::to_string(m.state));
  }
  out += "],\"goroutines_by_state\":{";
  bool first = true;
  for (auto& [state, n] : by_state) {
    out += fmt::format("{}{}:{}", first ? "" : ",", json_string(state), n);
    first = false;
  }
  out += "}";
  if (server != nullptr) {
    http::ServerStats h = server->stats();
    std::uint64_t total = 0;
    for (auto& c : h.requests) total += c.count;
    out += fmt::format(
        ",\"http\":{{\"open_connections\":{},\"parked_connections\":{},"
        "\"connections\":{},\"requests\":{},"
        "\"bytes_in\":{},\"bytes_out\":{},\"latency_sum_s\":{},\"latency_count\":{}}}",
        h.open_connections, h.parked_connections, h.connections_accepted, total, h.bytes_read,
        h.bytes_written, h.latency_sum_seconds, h.latency_count);
  }
  out += "}";
  return out;
}

}  // namespace gofer::debug
