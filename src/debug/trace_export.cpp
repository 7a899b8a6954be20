// The trace as Chrome trace-event JSON (ui.perfetto.dev, chrome://tracing),
// and the pages that serve it and the journeys: /debug/trace?seconds=N and
// /debug/gofer/journeys.
//
// Tracks: process 1 has a thread per M (goroutine run slices, epoll_wait,
// and instants for creations, parks, wake-ups and epoll reports), process 2
// a thread per P (the same run slices, by the P they ran on), process 3 a
// thread per fd (request spans "GET /hello" with the handler nested in them,
// and instants for accept, read, write, idle and close). Times are in µs
// from the first event, as the format wants.
#include <string.h>

#include <fmt/format.h>

#include <charconv>
#include <map>
#include <set>
#include <unordered_map>

#include "debug/handlers.h"
#include "debug/json.h"
#include "gofer/debug.h"
#include "gofer/time.h"
#include "runtime/park.h"
#include "runtime/trace.h"

namespace gofer::debug {
namespace {

using runtime::TraceEvent;
using runtime::TraceKind;

constexpr int kPidM = 1, kPidP = 2, kPidFd = 3;
constexpr int kTidOutside = 99999;  // events of threads that are not Ms

class ChromeWriter {
 public:
  explicit ChromeWriter(std::int64_t t0) : t0_(t0) {
    out_ = "{\"displayTimeUnit\":\"ns\",\"traceEvents\":[";
  }

  void metadata(int pid, int tid, std::string_view what, std::string_view name) {
    begin();
    out_ += fmt::format("{{\"ph\":\"M\",\"pid\":{},\"tid\":{},\"name\":\"{}\",\"args\":{{\"name\":",
                        pid, tid, what);
    detail::append_json_string(out_, name);
    out_ += "}}";
  }
  void sort_index(int pid, int tid, int index) {
    begin();
    out_ += fmt::format(
        "{{\"ph\":\"M\",\"pid\":{},\"tid\":{},\"name\":\"thread_sort_index\",\"args\":{{\"sort_"
        "index\":{}}}}}",
        pid, tid, index);
  }
  // A complete event (a slice); args is a JSON object's inside ("" or "\"k\":v,…").
  void slice(int pid, int tid, std::int64_t ts, std::int64_t end, std::string_view name,
             std::string_view cat, const std::string& args) {
    begin();
    out_ += fmt::format(
        "{{\"ph\":\"X\",\"pid\":{},\"tid\":{},\"ts\":{},\"dur\":{},\"cat\":\"{}\",\"name\":", pid,
        tid, us(ts - t0_), us(std::max<std::int64_t>(0, end - ts)), cat);
    detail::append_json_string(out_, name);
    out_ += ",\"args\":{" + args + "}}";
  }
  void instant(int pid, int tid, std::int64_t ts, std::string_view name, std::string_view cat,
               const std::string& args) {
    begin();
    out_ += fmt::format(
        "{{\"ph\":\"i\",\"s\":\"t\",\"pid\":{},\"tid\":{},\"ts\":{},\"cat\":\"{}\",\"name\":", pid,
        tid, us(ts - t0_), cat);
    detail::append_json_string(out_, name);
    out_ += ",\"args\":{" + args + "}}";
  }
  std::string finish(std::uint64_t events) {
    out_ += fmt::format("],\"otherData\":{{\"source\":\"gofer\",\"events\":{}}}}}", events);
    return std::move(out_);
  }

 private:
  static std::string us(std::int64_t ns) { return fmt::format("{}.{:03}", ns / 1000, ns % 1000); }
  void begin() {
    if (!first_) out_ += ",\n";
    first_ = false;
  }
  std::int64_t t0_;
  bool first_ = true;
  std::string out_;
};

int tid_of_m(int m) {
  return m >= 0 ? m : kTidOutside;
}

const char* stop_name(std::int64_t why) {
  switch (static_cast<runtime::TraceStop>(why)) {
    case runtime::TraceStop::yield:
      return "yield";
    case runtime::TraceStop::park:
      return "park";
    case runtime::TraceStop::exit:
      return "exit";
    case runtime::TraceStop::blocking:
      return "blocking";
  }
  return "?";
}

const char* unpark_name(std::int64_t how) {
  switch (static_cast<runtime::TraceUnpark>(how)) {
    case runtime::TraceUnpark::ready:
      return "ready";
    case runtime::TraceUnpark::netpoll:
      return "netpoll";
    case runtime::TraceUnpark::declined:
      return "park declined";
    case runtime::TraceUnpark::blocking:
      return "after blocking";
  }
  return "?";
}

std::string io_name(const TraceEvent& e) {
  const char* op = e.kind == TraceKind::read     ? "read"
                   : e.kind == TraceKind::accept ? "accept"
                                                 : "write";
  if (e.kind == TraceKind::write &&
      e.a1 == static_cast<std::int64_t>(runtime::TraceSyscall::sendmsg))
    op = "sendmsg";
  if (e.kind == TraceKind::write && e.a1 == static_cast<std::int64_t>(runtime::TraceSyscall::send))
    op = "send";
  if (e.a0 < 0) {
    const char* name = ::strerrorname_np(static_cast<int>(-e.a0));
    return name != nullptr ? fmt::format("{} → {}", op, name)
                           : fmt::format("{} → errno {}", op, -e.a0);
  }
  if (e.kind == TraceKind::accept) return fmt::format("accept → fd {}", e.a0);
  if (e.kind == TraceKind::read && e.a0 == 0) return "read → EOF";
  return fmt::format("{} {} B", op, e.a0);
}

}  // namespace

std::string trace_json(std::int64_t since_ns) {
  std::vector<TraceEvent> ev = runtime::trace_collect(since_ns);
  ChromeWriter out(ev.empty() ? since_ns : ev.front().ts);
  out.metadata(kPidM, 0, "process_name", "Ms (OS threads): goroutines run, epoll_wait");
  out.metadata(kPidP, 0, "process_name", "Ps (processors): goroutines run");
  out.metadata(kPidFd, 0, "process_name", "fds: requests, handlers, syscalls");

  struct Run {
    std::int64_t ts;
    std::uint64_t g;
    int p;
    std::int64_t runnable_ns;
  };
  std::unordered_map<int, Run> running;            // by M
  std::unordered_map<int, std::int64_t> polling;   // by M: epoll_wait since
  std::unordered_map<int, TraceEvent> requests;    // by fd
  std::unordered_map<int, std::int64_t> handlers;  // by fd
  std::set<int> ms, ps, fds, listeners;

  auto end_run = [&](int m, std::int64_t ts, std::string_view how) {
    auto it = running.find(m);
    if (it == running.end()) return;
    const Run& run = it->second;
    std::string name = fmt::format("G{}", run.g);
    std::string args = fmt::format(
        "\"goroutine\":{},\"p\":{},\"m\":{},\"runnable_us\":{},\"stopped\":\"{}\"", run.g, run.p, m,
        run.runnable_ns < 0 ? -1.0 : static_cast<double>(run.runnable_ns) / 1e3, how);
    out.slice(kPidM, tid_of_m(m), run.ts, ts, name, "goroutine", args);
    if (run.p >= 0) out.slice(kPidP, run.p, run.ts, ts, name, "goroutine", args);
    running.erase(it);
  };

  for (const TraceEvent& e : ev) {
    int tid = tid_of_m(e.m);
    ms.insert(tid);
    if (e.p >= 0) ps.insert(e.p);
    switch (e.kind) {
      case TraceKind::go_start:
        end_run(e.m, e.ts, "unknown");
        running[e.m] = Run{e.ts, e.g, e.p, e.a0};
        break;
      case TraceKind::go_stop: {
        std::string why = stop_name(e.a0);
        if (static_cast<runtime::TraceStop>(e.a0) == runtime::TraceStop::park) {
          std::string reason = runtime::to_string(static_cast<runtime::WaitReason>(e.a1));
          out.instant(kPidM, tid, e.ts,
                      e.fd >= 0 ? fmt::format("park G{}: {} fd {}", e.g, reason, e.fd)
                                : fmt::format("park G{}: {}", e.g, reason),
                      "sched", fmt::format("\"goroutine\":{},\"fd\":{}", e.g, e.fd));
          why = reason;
        }
        end_run(e.m, e.ts, why);
        break;
      }
      case TraceKind::go_create:
        out.instant(kPidM, tid, e.ts, fmt::format("create G{}", e.g), "sched",
                    e.a1 != 0 ? fmt::format("\"goroutine\":{},\"parent\":{},\"waits_for_fd\":{}",
                                            e.g, e.a0, e.fd)
                              : fmt::format("\"goroutine\":{},\"parent\":{}", e.g, e.a0));
        break;
      case TraceKind::go_unpark:
        out.instant(kPidM, tid, e.ts, fmt::format("unpark G{} ({})", e.g, unpark_name(e.a0)),
                    "sched", fmt::format("\"goroutine\":{},\"by\":{}", e.g, e.a1));
        break;
      case TraceKind::poll_block:
        polling[e.m] = e.ts;
        break;
      case TraceKind::poll_wake:
        if (auto it = polling.find(e.m); it != polling.end()) {
          out.slice(kPidM, tid, it->second, e.ts, "epoll_wait", "netpoll",
                    fmt::format("\"woke\":{}", e.a0));
          polling.erase(it);
        }
        break;
      case TraceKind::netpoll:
        out.instant(kPidM, tid, e.ts,
                    e.g != 0 ? fmt::format("epoll: fd {} ready → G{}", e.fd, e.g)
                             : fmt::format("epoll: fd {} ready", e.fd),
                    "netpoll",
                    fmt::format("\"fd\":{},\"events\":{},\"goroutine\":{},\"blocking\":{}", e.fd,
                                e.a0, e.g, e.a1));
        break;
      case TraceKind::accept:
      case TraceKind::read:
      case TraceKind::write:
        fds.insert(e.fd);
        if (e.kind == TraceKind::accept) listeners.insert(e.fd);
        out.instant(
            kPidFd, e.fd, e.ts, io_name(e), "syscall",
            fmt::format("\"result\":{},\"goroutine\":{},\"m\":{},\"p\":{}", e.a0, e.g, e.m, e.p));
        break;
      case TraceKind::close:
        fds.insert(e.fd);
        out.instant(kPidFd, e.fd, e.ts, "close", "syscall", fmt::format("\"goroutine\":{}", e.g));
        break;
      case TraceKind::http_request:
        fds.insert(e.fd);
        requests[e.fd] = e;
        break;
      case TraceKind::handler_start:
        handlers[e.fd] = e.ts;
        break;
      case TraceKind::handler_end:
        if (auto it = handlers.find(e.fd); it != handlers.end()) {
          out.slice(kPidFd, e.fd, it->second, e.ts, "handler", "http",
                    fmt::format("\"status\":{}", e.a0));
          handlers.erase(it);
        }
        break;
      case TraceKind::http_response:
        if (auto it = requests.find(e.fd); it != requests.end()) {
          const TraceEvent& q = it->second;
          out.slice(kPidFd, e.fd, q.ts, e.ts, q.text_view(), "http",
                    fmt::format("\"status\":{},\"bytes_out\":{},\"head_bytes\":{},\"request_on_"
                                "conn\":{},\"goroutine\":{}",
                                e.a0, e.a1, q.a0, q.a1, e.g));
          requests.erase(it);
        }
        break;
      case TraceKind::http_idle:
        fds.insert(e.fd);
        out.instant(kPidFd, e.fd, e.ts, "idle", "http", fmt::format("\"served\":{}", e.a0));
        break;
      case TraceKind::http_close:
        fds.insert(e.fd);
        out.instant(kPidFd, e.fd, e.ts, "server done", "http", fmt::format("\"served\":{}", e.a0));
        break;
      default:
        break;
    }
  }
  // Goroutines still running when the window ended.
  std::int64_t last = ev.empty() ? since_ns : ev.back().ts;
  std::vector<int> open;
  for (auto& [m, run] : running) open.push_back(m);
  for (int m : open) end_run(m, last, "running at the end of the trace");

  for (int tid : ms) {
    out.metadata(kPidM, tid, "thread_name",
                 tid == kTidOutside ? std::string("outside the runtime") : fmt::format("M{}", tid));
    out.sort_index(kPidM, tid, tid);
  }
  for (int p : ps) {
    out.metadata(kPidP, p, "thread_name", fmt::format("P{}", p));
    out.sort_index(kPidP, p, p);
  }
  for (int fd : fds) {
    out.metadata(
        kPidFd, fd, "thread_name",
        listeners.count(fd) ? fmt::format("fd {} (listener)", fd) : fmt::format("fd {}", fd));
    out.sort_index(kPidFd, fd, fd);
  }
  return out.finish(ev.size());
}

namespace detail {

void serve_trace(http::ResponseWriter& w, http::Request& r) {
  double seconds = 1;
  std::string arg = r.query("seconds");
  if (!arg.empty()) {
    auto [end, ec] = std::from_chars(arg.data(), arg.data() + arg.size(), seconds);
    if (ec != std::errc() || end != arg.data() + arg.size() || !(seconds > 0 && seconds <= 30)) {
      http::error(w, "seconds: a number of seconds in (0, 30]", http::status_bad_request);
      return;
    }
  }
  std::uint32_t sample = 1;
  if (std::string arg_sample = r.query("sample"); !arg_sample.empty()) {
    auto [end, ec] =
        std::from_chars(arg_sample.data(), arg_sample.data() + arg_sample.size(), sample);
    if (ec != std::errc() || end != arg_sample.data() + arg_sample.size() || sample < 1 ||
        sample > 65536) {
      http::error(w, "sample: record one request in N, N in [1, 65536]", http::status_bad_request);
      return;
    }
  }
  std::int64_t since = runtime::nanotime();
  start_tracing(sample);
  gofer::sleep_for(std::chrono::nanoseconds(static_cast<std::int64_t>(seconds * 1e9)));
  stop_tracing(sample);
  std::string json = trace_json(since);
  w.header().set("Content-Type", "application/json");
  w.header().set("Content-Disposition", "attachment; filename=\"gofer-trace.json\"");
  w.write(json);
}

void serve_journeys(http::ResponseWriter& w, http::Request&) {
  w.header().set("Content-Type", "application/json");
  w.header().set("Cache-Control", "no-store");
  w.write(journeys_json(64));
}

}  // namespace detail
}  // namespace gofer::debug
