// Request journeys: the seed's story (docs/design.md) for each request, assembled from the
// trace (runtime/trace.h) after the fact — nothing on the request's path
// but the trace hooks themselves.
//
// Journeys are built from the roles of the events (runtime::TraceRole), not
// from the http layer's kinds: a request is a unit of work. A journey ends at
// a work_end event (the response; connection fd F, goroutine G). Walking F's
// events back from it: the work_begin of G (the head), then the boundary —
// the previous response on F (exclusive), or F's accept
// (inclusive: the first request of a connection), or a close of F (an
// earlier connection that had the same fd number). The journey holds every
// event on F and every event about G between the boundary and the response,
// then the events on F that follow it up to the idle or the close. A first
// request is preceded by the accepting goroutine's wake-up, if it slept
// (epoll reported the listener, the goroutine resumed, accept).
//
// Rejected: assembling journeys in the http layer as requests run (a copy
// and a lock per request even for the requests nobody looks at); a journey
// keyed by fd alone (the goroutine's own events — its park, its resumption
// on another M — carry no fd).
#include <fmt/format.h>

#include <algorithm>
#include <optional>
#include <unordered_map>

#include "debug/json.h"
#include "debug/trace_words.h"
#include "gofer/debug.h"
#include "gofer/runtime.h"
#include "runtime/park.h"
#include "runtime/trace.h"

namespace gofer::debug {
namespace {

using runtime::TraceEvent;
using runtime::TraceKind;

using detail::duration_text;
using runtime::trace_role;
using runtime::TraceRole;

// The events by fd (accepts also under the fd they made) and by the
// goroutine they are about, as indices into the time-sorted events — only
// for the connections and goroutines of the responses asked for, and the
// goroutines that accepted those connections: two linear scans of the
// events, whatever their number.
struct Index {
  // wanted: (connection fd, serving goroutine) of each journey.
  Index(const std::vector<TraceEvent>& events,
        const std::vector<std::pair<int, std::uint64_t>>& wanted)
      : ev(events) {
    for (auto [fd, g] : wanted) {
      by_fd[fd];
      by_g[g];
    }
    std::unordered_map<std::uint64_t, std::vector<std::size_t>> acceptors;
    scan([&](std::size_t i, const TraceEvent& e) {
      if (e.fd >= 0) add(by_fd, e.fd, i);
      if (e.kind == TraceKind::accept && e.a0 >= 0 && add(by_fd, static_cast<int>(e.a0), i) &&
          !by_g.contains(e.g)) {
        acceptors[e.g];
      }
      if (e.g != 0) add(by_g, e.g, i);
    });
    if (acceptors.empty()) return;
    scan([&](std::size_t i, const TraceEvent& e) {
      if (e.g != 0) add(acceptors, e.g, i);
    });
    by_g.merge(acceptors);
  }

  template <class F>
  void scan(F&& f) {
    for (std::size_t i = 0; i < ev.size(); ++i) {
      const TraceEvent& e = ev[i];
      if (e.kind == TraceKind::none || e.kind == TraceKind::poll_block ||
          e.kind == TraceKind::poll_wake)
        continue;
      f(i, e);
    }
  }
  // Appends i to the list of key if key is wanted.
  template <class Map, class Key>
  static bool add(Map& map, Key key, std::size_t i) {
    auto it = map.find(key);
    if (it == map.end()) return false;
    it->second.push_back(i);
    return true;
  }

  const std::vector<TraceEvent>& ev;
  std::unordered_map<int, std::vector<std::size_t>> by_fd;
  std::unordered_map<std::uint64_t, std::vector<std::size_t>> by_g;
};

// Turns events into steps, in order, with the context a sentence needs
// (when a goroutine parked, whether it was just created, …); the words are
// trace_words.cpp's.
class Narrator {
 public:
  explicit Narrator(Journey& j) : j_(j) {}

  void parked_before(std::uint64_t g, std::int64_t ts) { parked_[g] = ts; }

  void add(const TraceEvent& e) {
    detail::EventContext context;
    context.listener_fd = j_.listener_fd;
    switch (e.kind) {
      case TraceKind::go_create:
        created_[e.g] = true;
        break;
      case TraceKind::go_start:
        context.first_run = std::exchange(created_[e.g], false);
        break;
      case TraceKind::netpoll:
        if (auto parked = parked_.find(e.g); parked != parked_.end())
          context.waited_ns = e.ts - parked->second;
        break;
      default:
        break;
    }
    TraceRole role = trace_role(e.kind);
    if (role == TraceRole::part_begin) part_ts_ = e.ts;
    if (role == TraceRole::part_end && part_ts_ != 0) context.part_ns = e.ts - part_ts_;
    detail::EventWords words = detail::describe_event(e, context);
    if (e.kind == TraceKind::go_stop && words.kind == "park") parked_[e.g] = e.ts;
    if (!words.worth_telling) return;
    JourneyStep s;
    s.m = e.m;
    s.p = e.p;
    s.fd = e.fd;
    s.goroutine = e.g;
    s.value = words.value;
    s.kind = std::move(words.kind);
    s.detail = std::move(words.detail);
    s.text = std::move(words.text);
    if (j_.steps.empty()) j_.begin_ns = e.ts;
    s.t_ns = e.ts - j_.begin_ns;
    j_.end_ns = e.ts;
    j_.steps.push_back(std::move(s));
  }

 private:
  Journey& j_;
  std::unordered_map<std::uint64_t, std::int64_t> parked_;
  std::unordered_map<std::uint64_t, bool> created_;
  std::int64_t part_ts_ = 0;
};

bool ends_a_request(const TraceEvent& e, int fd) {
  TraceRole role = trace_role(e.kind);
  return role == TraceRole::work_end || role == TraceRole::fd_done ||
         (e.kind == TraceKind::close && e.fd == fd) || (e.kind == TraceKind::accept && e.a0 == fd);
}

// The journey of the request that goroutine g serves on fd, up to event r:
// its response, or (a request still being served) g's latest event.
std::optional<Journey> build(const Index& ix, int fd, std::uint64_t g, std::size_t r) {
  const std::vector<TraceEvent>& ev = ix.ev;
  const TraceEvent& resp = ev[r];
  bool finished = trace_role(resp.kind) == TraceRole::work_end && resp.fd == fd;
  auto fit = ix.by_fd.find(fd);
  if (fit == ix.by_fd.end()) return std::nullopt;
  const std::vector<std::size_t>& on_fd = fit->second;
  // The last event on fd at or before r.
  auto pos =
      static_cast<std::ptrdiff_t>(std::upper_bound(on_fd.begin(), on_fd.end(), r) - on_fd.begin()) -
      1;

  std::ptrdiff_t req = -1;
  for (std::ptrdiff_t k = pos; k >= 0; --k) {
    if (finished && on_fd[k] == r) continue;
    const TraceEvent& e = ev[on_fd[k]];
    if (trace_role(e.kind) == TraceRole::work_begin && e.g == g) {
      req = k;
      break;
    }
    if (ends_a_request(e, fd)) break;
  }
  if (req < 0) return std::nullopt;  // its head is no longer in the rings

  // Events with index in [lower, r] belong to the request.
  const TraceEvent& head = ev[on_fd[req]];
  std::size_t lower = 0;
  const TraceEvent* accepted = nullptr;
  std::size_t accept_index = 0;
  bool bounded = false;
  for (std::ptrdiff_t k = req - 1; k >= 0; --k) {
    const TraceEvent& e = ev[on_fd[k]];
    if (e.kind == TraceKind::accept && e.a0 == fd) {
      lower = on_fd[k];
      accepted = &e;
      accept_index = on_fd[k];
      bounded = head.a1 == 1;
      break;
    }
    if (ends_a_request(e, fd)) {
      lower = on_fd[k] + 1;
      bounded = true;
      break;
    }
  }
  if (!bounded) {
    // Not the first request, and the previous one left no response in the
    // rings: it was not sampled (or was overwritten). Start at this
    // request's own wait for its head, not at the accept long before.
    accepted = nullptr;
    lower = on_fd[req];
    for (std::ptrdiff_t k = req - 1; k >= 0; --k) {
      const TraceEvent& e = ev[on_fd[k]];
      if (trace_role(e.kind) == TraceRole::fd_wait && e.g == g && e.a0 + 1 == head.a1) {
        lower = on_fd[k];
        break;
      }
      if (e.kind == TraceKind::accept || ends_a_request(e, fd)) break;
    }
  }

  Journey j;
  j.fd = fd;
  j.goroutine = g;
  j.number = static_cast<std::uint64_t>(head.a1);
  j.request = std::string(head.text_view());
  if (finished) {
    j.status = static_cast<int>(resp.a0);
    j.bytes_out = static_cast<std::uint64_t>(resp.a1);
  }
  Narrator story(j);

  if (accepted != nullptr) {
    // The accepting goroutine's wake-up just before, if it had slept.
    j.listener_fd = accepted->fd;
    std::vector<std::size_t> wake;
    if (auto git = ix.by_g.find(accepted->g); git != ix.by_g.end()) {
      const auto& mine = git->second;
      auto at = std::lower_bound(mine.begin(), mine.end(), accept_index) - mine.begin();
      for (auto k = at - 1; k >= 0; --k) {
        const TraceEvent& e = ev[mine[k]];
        bool part = e.kind == TraceKind::go_start || e.kind == TraceKind::go_unpark ||
                    (e.kind == TraceKind::netpoll && e.fd == accepted->fd);
        if (!part) {
          if (e.kind == TraceKind::go_stop) story.parked_before(e.g, e.ts);
          break;
        }
        wake.push_back(mine[k]);
      }
    }
    for (auto it = wake.rbegin(); it != wake.rend(); ++it) story.add(ev[*it]);
  }

  std::vector<std::size_t> steps;
  for (std::ptrdiff_t k = pos; k >= 0 && on_fd[k] >= lower; --k) steps.push_back(on_fd[k]);
  if (auto git = ix.by_g.find(g); git != ix.by_g.end()) {
    const auto& mine = git->second;
    auto from = std::lower_bound(mine.begin(), mine.end(), lower);
    auto to = std::upper_bound(mine.begin(), mine.end(), r);
    steps.insert(steps.end(), from, to);
  }
  std::sort(steps.begin(), steps.end());
  steps.erase(std::unique(steps.begin(), steps.end()), steps.end());
  for (std::size_t i : steps) story.add(ev[i]);

  // What follows on the connection: idle, or the close.
  for (std::size_t k = static_cast<std::size_t>(pos) + 1, n = 0;
       finished && k < on_fd.size() && n < 4; ++k, ++n) {
    const TraceEvent& e = ev[on_fd[k]];
    if (trace_role(e.kind) == TraceRole::work_begin || e.kind == TraceKind::accept) break;
    story.add(e);
    if (trace_role(e.kind) == TraceRole::fd_wait || e.kind == TraceKind::close) break;
  }
  return j;
}

// Journeys of the responses among events[from, to) (indices), the latest max.
std::vector<Journey> assemble(const std::vector<TraceEvent>& events, std::int64_t since_ns,
                              std::int64_t until_ns, std::size_t max, std::size_t* skipped) {
  std::vector<std::size_t> responses;
  for (std::size_t i = 0; i < events.size(); ++i) {
    const TraceEvent& e = events[i];
    if (trace_role(e.kind) == TraceRole::work_end && e.ts >= since_ns && e.ts <= until_ns)
      responses.push_back(i);
  }
  std::size_t first = responses.size() > max ? responses.size() - max : 0;
  if (skipped != nullptr) *skipped = first;
  std::vector<Journey> out;
  if (responses.size() == first) return out;
  responses.erase(responses.begin(), responses.begin() + static_cast<std::ptrdiff_t>(first));
  std::vector<std::pair<int, std::uint64_t>> wanted;
  for (std::size_t r : responses) wanted.emplace_back(events[r].fd, events[r].g);
  Index ix(events, wanted);
  for (std::size_t r : responses) {
    if (auto j = build(ix, events[r].fd, events[r].g, r)) out.push_back(std::move(*j));
  }
  return out;
}

}  // namespace

void start_tracing(std::uint32_t sample_every) {
  runtime::trace_start(sample_every);
}
void stop_tracing(std::uint32_t sample_every) {
  runtime::trace_stop(sample_every);
}
bool tracing() noexcept {
  return runtime::trace_enabled();
}
std::int64_t trace_now() noexcept {
  return runtime::nanotime();
}

std::vector<Journey> recent_journeys(std::size_t max, std::int64_t since_ns) {
  return assemble(runtime::trace_collect(0), since_ns, INT64_MAX, max, nullptr);
}

std::optional<Journey> journey_so_far() {
  std::uint64_t g = this_goroutine_id();
  if (g == 0) return std::nullopt;
  std::vector<TraceEvent> events = runtime::trace_collect(0);
  // The calling goroutine's latest event, and the connection of its latest request.
  std::ptrdiff_t last = -1, head = -1;
  for (auto i = static_cast<std::ptrdiff_t>(events.size()) - 1; i >= 0 && head < 0; --i) {
    if (events[i].g != g) continue;
    if (last < 0) last = i;
    if (trace_role(events[i].kind) == TraceRole::work_begin) head = i;
  }
  if (head < 0) return std::nullopt;
  int fd = events[head].fd;
  Index ix(events, {{fd, g}});
  return build(ix, fd, g, static_cast<std::size_t>(last));
}

std::string explain(const Journey& j) {
  std::string out =
      fmt::format("{} — conn fd {}, request {} on it, goroutine {}: status {}, {} bytes, {}\n",
                  j.request.empty() ? "request" : j.request, j.fd, j.number, j.goroutine, j.status,
                  j.bytes_out, duration_text(j.end_ns - j.begin_ns));
  for (const JourneyStep& s : j.steps) {
    std::string at = "+";
    at += duration_text(s.t_ns);
    out += fmt::format("  {:>10}  {}\n", at, s.text);
  }
  return out;
}

// ---- JourneyWatcher --------------------------------------------------------

struct JourneyWatcher::State {
  runtime::TraceCursor cursor = runtime::trace_cursor_at_end();
  std::vector<TraceEvent> window;  // recent events, in time order
  std::int64_t done_until = runtime::nanotime();
};

namespace {
// A response is reported once it is this old: the idle or close that follows
// it is recorded by then, and so is any event of another M stamped before it
// but published a little later.
constexpr std::int64_t kGraceNs = 20'000'000;
// The window keeps what a request's journey may reach back to: a keep-alive
// connection's previous response, an accept. Bounded in time and size.
constexpr std::int64_t kWindowNs = 30'000'000'000;
constexpr std::size_t kWindowEvents = 1 << 17;
}  // namespace

JourneyWatcher::JourneyWatcher() : state_(std::make_unique<State>()) {}
JourneyWatcher::~JourneyWatcher() = default;

std::vector<Journey> JourneyWatcher::poll(std::size_t max, std::size_t* skipped,
                                          std::uint64_t* lost) {
  State& s = *state_;
  std::vector<TraceEvent> fresh = runtime::trace_collect(s.cursor);
  if (lost != nullptr) *lost = s.cursor.lost;
  auto by_time = [](const TraceEvent& a, const TraceEvent& b) { return a.ts < b.ts; };
  if (!fresh.empty()) {
    // The new events overlap the window's end only by the few that were
    // published late: merge from there.
    auto from = std::upper_bound(s.window.begin(), s.window.end(), fresh.front(), by_time) -
                s.window.begin();
    s.window.insert(s.window.end(), fresh.begin(), fresh.end());
    std::inplace_merge(s.window.begin() + from,
                       s.window.end() - static_cast<std::ptrdiff_t>(fresh.size()), s.window.end(),
                       by_time);
  }

  std::int64_t horizon = runtime::nanotime() - kGraceNs;
  std::vector<Journey> out;
  if (horizon > s.done_until) {
    out = assemble(s.window, s.done_until + 1, horizon, max, skipped);
    s.done_until = horizon;
  } else if (skipped != nullptr) {
    *skipped = 0;
  }
  // Trimmed by a quarter at a time, so that the copy is amortised.
  if (s.window.size() > kWindowEvents ||
      (!s.window.empty() && s.window.front().ts < horizon - kWindowNs)) {
    auto keep_from = std::lower_bound(s.window.begin(), s.window.end(), horizon - kWindowNs * 3 / 4,
                                      [](const TraceEvent& e, std::int64_t t) { return e.ts < t; });
    if (s.window.end() - keep_from > static_cast<std::ptrdiff_t>(kWindowEvents * 3 / 4)) {
      keep_from = s.window.end() - static_cast<std::ptrdiff_t>(kWindowEvents * 3 / 4);
    }
    s.window.erase(s.window.begin(), keep_from);
  }
  return out;
}

// ---- JSON for the live page -------------------------------------------------

std::string journeys_json(std::size_t max) {
  std::vector<Journey> journeys = recent_journeys(max);
  std::string out = fmt::format("{{\"tracing\":{},\"now_ns\":{},\"journeys\":[",
                                tracing() ? "true" : "false", runtime::nanotime());
  for (std::size_t i = 0; i < journeys.size(); ++i) {
    const Journey& j = journeys[i];
    if (i != 0) out += ',';
    out += fmt::format("{{\"fd\":{},\"listener_fd\":{},\"goroutine\":{},\"number\":{},\"request\":",
                       j.fd, j.listener_fd, j.goroutine, j.number);
    detail::append_json_string(out, j.request);
    out += fmt::format(
        ",\"status\":{},\"bytes_out\":{},\"begin_ns\":{},\"duration_ns\":{},\"steps\":[", j.status,
        j.bytes_out, j.begin_ns, j.end_ns - j.begin_ns);
    for (std::size_t k = 0; k < j.steps.size(); ++k) {
      const JourneyStep& s = j.steps[k];
      if (k != 0) out += ',';
      out += fmt::format(
          "{{\"t\":{},\"kind\":\"{}\",\"m\":{},\"p\":{},\"fd\":{},\"g\":{},\"value\":{},"
          "\"detail\":",
          s.t_ns, s.kind, s.m, s.p, s.fd, s.goroutine, s.value);
      detail::append_json_string(out, s.detail);
      out += ",\"text\":";
      detail::append_json_string(out, s.text);
      out += '}';
    }
    out += "]}";
  }
  out += "]}";
  return out;
}

}  // namespace gofer::debug
