// The trace as Chrome trace-event JSON (ui.perfetto.dev, chrome://tracing),
// and the pages that serve it and the journeys: /debug/trace?seconds=N and
// /debug/gofer/journeys.
//
// Tracks: process 1 has a thread per M (goroutine run slices, epoll_wait,
// and instants for creations, parks, wake-ups and epoll reports), process 2
// a thread per P (the same run slices, by the P they ran on), process 3 a
// thread per fd (request spans "GET /hello" with the handler nested in them,
// and instants for accept, read, write, idle and close). Names and
// arguments are the words of trace_words.cpp, the same as the journeys'.
// Times are in µs from the first event, as the format wants.
#include <fmt/format.h>

#include <charconv>
#include <map>
#include <set>
#include <unordered_map>

#include "debug/handlers.h"
#include "debug/json.h"
#include "debug/trace_words.h"
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

}  // namespace

namespace {

// Turns the events, in time order, into the three processes' tracks.
class ChromeExport {
 public:
  explicit ChromeExport(std::int64_t t0) : out_(t0) {
    out_.metadata(kPidM, 0, "process_name", "Ms (OS threads): goroutines run, epoll_wait");
    out_.metadata(kPidP, 0, "process_name", "Ps (processors): goroutines run");
    out_.metadata(kPidFd, 0, "process_name", "fds: requests, handlers, syscalls");
  }

  void add(const TraceEvent& e) {
    int tid = tid_of_m(e.m);
    ms_.insert(tid);
    if (e.p >= 0) ps_.insert(e.p);
    detail::EventWords words = detail::describe_event(e);
    switch (e.kind) {
      case TraceKind::go_start:
        end_run(e.m, e.ts, "unknown");
        running_[e.m] = Run{e.ts, e.g, e.p, e.a0};
        break;
      case TraceKind::go_stop:
        if (words.kind == "park") {
          out_.instant(kPidM, tid, e.ts, words.label, "sched", words.args);
          end_run(e.m, e.ts, words.detail);
        } else {
          end_run(e.m, e.ts, words.kind);
        }
        break;
      case TraceKind::go_create:
      case TraceKind::go_unpark:
        out_.instant(kPidM, tid, e.ts, words.label, "sched", words.args);
        break;
      case TraceKind::poll_block:
        polling_[e.m] = e.ts;
        break;
      case TraceKind::poll_wake:
        if (auto it = polling_.find(e.m); it != polling_.end()) {
          out_.slice(kPidM, tid, it->second, e.ts, words.label, "netpoll", words.args);
          polling_.erase(it);
        }
        break;
      case TraceKind::netpoll:
        out_.instant(kPidM, tid, e.ts, words.label, "netpoll", words.args);
        break;
      case TraceKind::accept:
      case TraceKind::read:
      case TraceKind::write:
      case TraceKind::close:
        fds_.insert(e.fd);
        if (e.kind == TraceKind::accept) listeners_.insert(e.fd);
        out_.instant(kPidFd, e.fd, e.ts, words.label, "syscall", words.args);
        break;
      default:
        layer_event(e, words);
        break;
    }
  }

  // `last`: when the window ended (goroutines still running end there).
  std::string finish(std::int64_t last, std::uint64_t events) {
    std::vector<int> open;
    for (auto& [m, run] : running_) open.push_back(m);
    for (int m : open) end_run(m, last, "running at the end of the trace");
    for (int tid : ms_) {
      out_.metadata(
          kPidM, tid, "thread_name",
          tid == kTidOutside ? std::string("outside the runtime") : fmt::format("M{}", tid));
      out_.sort_index(kPidM, tid, tid);
    }
    for (int p : ps_) {
      out_.metadata(kPidP, p, "thread_name", fmt::format("P{}", p));
      out_.sort_index(kPidP, p, p);
    }
    for (int fd : fds_) {
      out_.metadata(
          kPidFd, fd, "thread_name",
          listeners_.count(fd) ? fmt::format("fd {} (listener)", fd) : fmt::format("fd {}", fd));
      out_.sort_index(kPidFd, fd, fd);
    }
    return out_.finish(events);
  }

 private:
  struct Run {
    std::int64_t ts;
    std::uint64_t g;
    int p;
    std::int64_t runnable_ns;
  };
  struct Open {
    TraceEvent event;
    std::string args;
  };

  static std::string with(std::string args, const std::string& more) {
    if (!more.empty()) args += "," + more;
    return args;
  }

  // M's goroutine stops running: its slice on the M's track and its P's.
  void end_run(int m, std::int64_t ts, std::string_view how) {
    auto it = running_.find(m);
    if (it == running_.end()) return;
    const Run& run = it->second;
    std::string name = fmt::format("G{}", run.g);
    std::string args = fmt::format(
        "\"goroutine\":{},\"p\":{},\"m\":{},\"runnable_us\":{},\"stopped\":\"{}\"", run.g, run.p, m,
        run.runnable_ns < 0 ? -1.0 : static_cast<double>(run.runnable_ns) / 1e3, how);
    out_.slice(kPidM, tid_of_m(m), run.ts, ts, name, "goroutine", args);
    if (run.p >= 0) out_.slice(kPidP, run.p, run.ts, ts, name, "goroutine", args);
    running_.erase(it);
  }

  // A layer's event, by its role: a unit of work (a request) is a slice on
  // its fd's track from work_begin to work_end, a part of it (the handler)
  // a slice nested in it; the rest are instants.
  void layer_event(const TraceEvent& e, const detail::EventWords& words) {
    const runtime::TraceKindInfo* info = runtime::trace_kind_info(e.kind);
    if (info == nullptr) return;
    fds_.insert(e.fd);
    std::string goroutine = fmt::format("\"goroutine\":{}", e.g);
    switch (info->role) {
      case runtime::TraceRole::work_begin:
        units_[e.fd] = Open{e, words.args};
        break;
      case runtime::TraceRole::work_end:
        if (auto it = units_.find(e.fd); it != units_.end()) {
          const Open& begin = it->second;
          out_.slice(kPidFd, e.fd, begin.event.ts, e.ts, begin.event.text_view(), info->layer,
                     with(with(goroutine, begin.args), words.args));
          units_.erase(it);
        }
        break;
      case runtime::TraceRole::part_begin:
        parts_[e.fd] = Open{e, words.args};
        break;
      case runtime::TraceRole::part_end:
        if (auto it = parts_.find(e.fd); it != parts_.end()) {
          const runtime::TraceKindInfo* begin = runtime::trace_kind_info(it->second.event.kind);
          out_.slice(kPidFd, e.fd, it->second.event.ts, e.ts,
                     begin != nullptr && begin->span != nullptr ? begin->span : words.label,
                     info->layer, with(goroutine, words.args));
          parts_.erase(it);
        }
        break;
      default:
        out_.instant(kPidFd, e.fd, e.ts, words.label, info->layer, with(goroutine, words.args));
        break;
    }
  }

  ChromeWriter out_;
  std::unordered_map<int, Run> running_;           // by M
  std::unordered_map<int, std::int64_t> polling_;  // by M: in epoll_wait since
  std::unordered_map<int, Open> units_;            // by fd: the unit of work (request) under way
  std::unordered_map<int, Open> parts_;            // by fd: the part of it (handler) under way
  std::set<int> ms_, ps_, fds_, listeners_;
};

}  // namespace

std::string trace_json(std::int64_t since_ns) {
  std::vector<TraceEvent> ev = runtime::trace_collect(since_ns);
  ChromeExport x(ev.empty() ? since_ns : ev.front().ts);
  for (const TraceEvent& e : ev) x.add(e);
  return x.finish(ev.empty() ? since_ns : ev.back().ts, ev.size());
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
