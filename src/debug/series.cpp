// SeriesRecorder and /debug/gofer/series: what the runtime did, second by
// second, kept by the server so that a page opened late still shows the
// minutes before it.
//
// Once an interval the recorder's goroutine reads every counter at one
// moment (a Reading) and turns the difference with the previous Reading into
// a Point: rates per second, fractions of the interval, quantiles of the
// requests that completed in it, and the gauges as they are now. Every
// coarse_every Points it also makes a coarse Point from the Reading taken at
// the previous coarse boundary (so its rates and quantiles are exact over
// the whole stretch) with the gauges averaged over the fine Points.
//
// The JSON is column-oriented, as a chart library takes it: one array per
// series, aligned with "t". Fields (rates are per second, averaged over the
// point's interval; null where there is nothing to say):
//   resolution        "1s" (fine) or "1m" (coarse), as configured
//   interval_s        the nominal interval between points
//   procs             the number of Ps
//   load_rps          the threshold of the load events
//   t                 Unix time (s) at the end of each point's interval
//   dt_s              the length of each point's interval (monotonic clock):
//                     a rate times dt_s is the count in that interval
//   requests          {total, 1xx, 2xx, 3xx, 4xx, 5xx}: requests completed per second
//   latency_s         {p50, p99, p999}: quantiles (seconds) of the requests
//                     completed in the interval, interpolated in the
//                     request-duration histogram's buckets (as Prometheus'
//                     histogram_quantile does); null if none completed
//   goroutines        {running, runnable, io_wait, chan, sleep, sync,
//                     blocking, other}: goroutines in each state at the end
//   connections       {open, parked}: HTTP connections open, and of those
//                     parked idle in the poller
//   netpoll_wakeups   returns from a blocking epoll_wait, per second
//   steals            successful work steals between Ps, per second
//   p_busy            one array per P: the fraction of the interval an M
//                     held it (running goroutines, scheduling or spinning)
//   threads           {running, spinning, netpoll, futex, blocking}: Ms in
//                     each state, averaged over the interval (an M asleep in
//                     epoll_wait the whole second counts 1 in netpoll)
//   ms                [{id, running, spinning, netpoll, futex, blocking}]:
//                     the same per M, as fractions of the interval
//   cpu               {user, system}: the process's CPU time per second
//                     (1 = one core busy)
//   rss_bytes, fds    resident memory and open file descriptors at the end
//   events            [{t, what}]: "load started" / "load stopped" — when
//                     requests per second crossed load_rps (t: the start of
//                     the first interval on the other side)
#include <fmt/format.h>

#include <array>
#include <cmath>
#include <deque>
#include <map>
#include <mutex>
#include <optional>

#include "debug/process_stats.h"
#include "gofer/chan.h"
#include "gofer/debug.h"
#include "gofer/runtime.h"
#include "gofer/sync.h"
#include "gofer/time.h"
#include "runtime/introspect.h"

namespace gofer::debug {
namespace {

constexpr int kClasses = 6;  // total, 1xx … 5xx
constexpr std::array<const char*, kClasses> kClassNames = {"total", "1xx", "2xx",
                                                           "3xx",   "4xx", "5xx"};

enum GState { g_running, g_runnable, g_io_wait, g_chan, g_sleep, g_sync, g_blocking, g_other };
constexpr int kGStates = 8;
constexpr std::array<const char*, kGStates> kGStateNames = {
    "running", "runnable", "io_wait", "chan", "sleep", "sync", "blocking", "other"};

GState classify(const runtime::GoroutineInfo& g) {
  using runtime::WaitReason;
  std::string_view status = g.status;
  if (status == "running") return g_running;
  if (status == "runnable") return g_runnable;
  if (status == "syscall") return g_blocking;
  switch (g.wait_reason) {
    case WaitReason::io_read:
    case WaitReason::io_write:
    case WaitReason::io_accept:
    case WaitReason::io_connect:
      return g_io_wait;
    case WaitReason::chan_receive:
    case WaitReason::chan_send:
    case WaitReason::chan_receive_nil:
    case WaitReason::chan_send_nil:
    case WaitReason::select:
    case WaitReason::select_no_cases:
      return g_chan;
    case WaitReason::sleep:
      return g_sleep;
    case WaitReason::sync_mutex:
    case WaitReason::sync_rwmutex_read:
    case WaitReason::sync_rwmutex_write:
    case WaitReason::sync_wait_group:
    case WaitReason::sync_cond:
    case WaitReason::sync_once:
    case WaitReason::semaphore:
      return g_sync;
    case WaitReason::blocking_call:
      return g_blocking;
    case WaitReason::none:
      break;
  }
  return g_other;
}

using runtime::kMStates;

struct ThreadReading {
  int id = 0;
  std::array<std::int64_t, kMStates> ns{};
};

// Every counter and gauge, read at one moment.
struct Reading {
  double unix_s = 0;
  std::int64_t mono_ns = 0;   // nanotime(): the interval of rates
  std::int64_t clock_ns = 0;  // coarse clock of the P and M times
  std::array<std::uint64_t, kClasses> requests{};
  std::vector<double> latency_bounds;        // upper bounds (s); the last bucket has none
  std::vector<std::uint64_t> latency_count;  // requests in each bucket (bounds.size() + 1)
  std::uint64_t wakeups = 0, steals = 0;
  std::vector<std::int64_t> p_busy_ns;
  std::vector<ThreadReading> ms;
  double cpu_user_s = 0, cpu_system_s = 0;
  // Gauges.
  std::array<int, kGStates> goroutines{};
  std::size_t open = 0, parked = 0;
  std::uint64_t rss = 0;
  int fds = -1;
};

Reading take_reading(const http::Server* server) {
  Reading r;
  r.unix_s =
      std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
  r.mono_ns = runtime::nanotime();
  runtime::SchedInfo s = runtime::sched_info();
  r.clock_ns = s.clock_ns;
  r.wakeups = s.poll_wakeups;
  r.steals = s.steals;
  for (const auto& p : s.ps) r.p_busy_ns.push_back(p.busy_ns);
  for (const auto& m : s.ms) r.ms.push_back({m.id, m.state_ns});
  runtime::for_each_goroutine(
      [&](const runtime::GoroutineInfo& g) { ++r.goroutines[classify(g)]; });
  if (server != nullptr) {
    http::ServerStats h = server->stats();
    for (const auto& c : h.requests) {
      r.requests[0] += c.count;
      if (c.code >= 100 && c.code < 600) r.requests[c.code / 100] += c.count;
    }
    r.latency_bounds = h.latency_bounds;
    std::uint64_t below = 0;
    for (std::uint64_t cumulative : h.latency_cumulative) {
      r.latency_count.push_back(cumulative - below);
      below = cumulative;
    }
    r.latency_count.push_back(h.latency_count - below);
    r.open = h.open_connections;
    r.parked = h.parked_connections;
  }
  detail::ProcessStats ps = detail::process_stats();
  r.cpu_user_s = ps.user_seconds;
  r.cpu_system_s = ps.system_seconds;
  r.rss = ps.rss_bytes;
  r.fds = ps.open_fds;
  return r;
}

constexpr double kNone = std::numeric_limits<double>::quiet_NaN();

struct ThreadPoint {
  int id = 0;
  std::array<double, kMStates> fraction{};
};

struct Point {
  double t = 0;  // Unix seconds at the end of the interval
  double interval_s = 0;
  std::array<double, kClasses> rps{};
  std::array<double, 3> latency{kNone, kNone, kNone};  // p50, p99, p99.9
  std::array<double, kGStates> goroutines{};
  double open = 0, parked = 0;
  double wakeups = 0, steals = 0;
  std::vector<double> p_busy;
  std::vector<ThreadPoint> ms;
  double cpu_user = 0, cpu_system = 0;
  double rss = 0, fds = kNone;
};

// The q-quantile of the requests counted in `buckets` (upper bounds
// `bounds`, the last bucket unbounded): linear within the bucket it falls
// in, like Prometheus' histogram_quantile; past the last bound, that bound.
double quantile(double q, const std::vector<std::uint64_t>& buckets,
                const std::vector<double>& bounds) {
  std::uint64_t n = 0;
  for (auto c : buckets) n += c;
  if (n == 0) return kNone;
  double rank = q * static_cast<double>(n);
  double below = 0;
  for (std::size_t i = 0; i < buckets.size(); ++i) {
    double c = static_cast<double>(buckets[i]);
    if (below + c >= rank && c > 0) {
      double lower = i == 0 ? 0 : bounds[i - 1];
      if (i >= bounds.size()) return lower;
      return lower + (bounds[i] - lower) * (rank - below) / c;
    }
    below += c;
  }
  return bounds.empty() ? kNone : bounds.back();
}

// a's counters subtracted from b's; a counter that went back (it cannot,
// but a reading is not atomic across counters) counts 0.
std::uint64_t delta(std::uint64_t a, std::uint64_t b) {
  return b > a ? b - a : 0;
}

Point make_point(const Reading& a, const Reading& b) {
  Point p;
  p.t = std::round(b.unix_s * 1000) / 1000;  // as the JSON gives it, and `since` compares
  double dt = static_cast<double>(b.mono_ns - a.mono_ns) * 1e-9;
  p.interval_s = dt;
  if (dt <= 0) dt = 1e-9;
  for (int k = 0; k < kClasses; ++k)
    p.rps[k] = static_cast<double>(delta(a.requests[k], b.requests[k])) / dt;
  if (!b.latency_count.empty()) {
    std::vector<std::uint64_t> in_interval(b.latency_count.size());
    for (std::size_t i = 0; i < in_interval.size(); ++i) {
      in_interval[i] =
          delta(i < a.latency_count.size() ? a.latency_count[i] : 0, b.latency_count[i]);
    }
    p.latency = {quantile(0.5, in_interval, b.latency_bounds),
                 quantile(0.99, in_interval, b.latency_bounds),
                 quantile(0.999, in_interval, b.latency_bounds)};
  }
  for (int k = 0; k < kGStates; ++k) p.goroutines[k] = b.goroutines[k];
  p.open = static_cast<double>(b.open);
  p.parked = static_cast<double>(b.parked);
  p.wakeups = static_cast<double>(delta(a.wakeups, b.wakeups)) / dt;
  p.steals = static_cast<double>(delta(a.steals, b.steals)) / dt;
  // P and M times are on the coarse clock: divide by its own interval.
  double clock_dt = static_cast<double>(b.clock_ns - a.clock_ns);
  auto fraction = [&](std::int64_t from, std::int64_t to) {
    return clock_dt <= 0 ? 0.0 : std::clamp(static_cast<double>(to - from) / clock_dt, 0.0, 1.0);
  };
  for (std::size_t i = 0; i < b.p_busy_ns.size(); ++i) {
    p.p_busy.push_back(
        fraction(i < a.p_busy_ns.size() ? a.p_busy_ns[i] : b.p_busy_ns[i], b.p_busy_ns[i]));
  }
  for (const auto& m : b.ms) {
    ThreadPoint tp{m.id, {}};
    const ThreadReading* before = nullptr;
    for (const auto& x : a.ms) {
      if (x.id == m.id) before = &x;
    }
    // An M started during the interval: its totals began at 0.
    for (int k = 0; k < kMStates; ++k)
      tp.fraction[k] = fraction(before ? before->ns[k] : 0, m.ns[k]);
    p.ms.push_back(tp);
  }
  p.cpu_user = std::max(0.0, b.cpu_user_s - a.cpu_user_s) / dt;
  p.cpu_system = std::max(0.0, b.cpu_system_s - a.cpu_system_s) / dt;
  p.rss = static_cast<double>(b.rss);
  p.fds = b.fds < 0 ? kNone : b.fds;
  return p;
}

// The gauges of a coarse point: the mean over its fine points.
class GaugeMean {
 public:
  void add(const Point& p) {
    for (int k = 0; k < kGStates; ++k) sum_.goroutines[k] += p.goroutines[k];
    sum_.open += p.open;
    sum_.parked += p.parked;
    sum_.rss += p.rss;
    if (!std::isnan(p.fds)) {
      fds_ += p.fds;
      ++fds_known_;
    }
    ++n_;
  }
  // Writes the means into `coarse` and starts again.
  void take(Point& coarse) {
    double n = std::max(1, n_);
    for (int k = 0; k < kGStates; ++k) coarse.goroutines[k] = sum_.goroutines[k] / n;
    coarse.open = sum_.open / n;
    coarse.parked = sum_.parked / n;
    coarse.rss = sum_.rss / n;
    coarse.fds = fds_known_ > 0 ? fds_ / fds_known_ : kNone;
    *this = GaugeMean{};
  }

 private:
  Point sum_;
  double fds_ = 0;
  int fds_known_ = 0, n_ = 0;
};

struct Event {
  double t = 0;     // when it happened: the start of the first interval on the other side
  double seen = 0;  // the t of the point that saw it (what `since` filters on)
  bool started = false;
};

// ---- JSON ------------------------------------------------------------------

void number(std::string& out, double v) {
  if (std::isnan(v) || std::isinf(v)) {
    out += "null";
  } else if (v == std::floor(v) && std::fabs(v) < 1e15) {
    fmt::format_to(std::back_inserter(out), "{}", static_cast<std::int64_t>(v));
  } else {
    fmt::format_to(std::back_inserter(out), "{:.6g}", v);
  }
}

template <class F>
void column(std::string& out, std::string_view name, const std::vector<const Point*>& points, F f) {
  fmt::format_to(std::back_inserter(out), "\"{}\":[", name);
  for (std::size_t i = 0; i < points.size(); ++i) {
    if (i) out += ',';
    number(out, f(*points[i]));
  }
  out += ']';
}

// "key":[…] for each key, f(point, key index) giving the values.
template <std::size_t N, class F>
void fields(std::string& out, const std::array<const char*, N>& keys,
            const std::vector<const Point*>& points, F f) {
  for (std::size_t k = 0; k < N; ++k) {
    if (k) out += ',';
    column(out, keys[k], points, [&](const Point& p) { return f(p, k); });
  }
}

// "name":{"key":[…], …}
template <std::size_t N, class F>
void columns(std::string& out, std::string_view name, const std::array<const char*, N>& keys,
             const std::vector<const Point*>& points, F f) {
  fmt::format_to(std::back_inserter(out), "\"{}\":{{", name);
  fields(out, keys, points, f);
  out += '}';
}

constexpr std::array<const char*, kMStates> kMStateNames = {"running", "spinning", "netpoll",
                                                            "futex", "blocking"};
constexpr std::array<const char*, 3> kQuantileNames = {"p50", "p99", "p999"};
constexpr std::array<const char*, 2> kCpuNames = {"user", "system"};
constexpr std::array<const char*, 2> kConnNames = {"open", "parked"};

std::string to_json(const std::vector<const Point*>& points, const std::vector<Event>& events,
                    const SeriesOptions& o, bool coarse) {
  std::string out;
  out.reserve(256 + points.size() * 400);
  double interval = std::chrono::duration<double>(o.interval).count() *
                    static_cast<double>(coarse ? o.coarse_every : 1);
  fmt::format_to(std::back_inserter(out),
                 "{{\"resolution\":\"{}\",\"interval_s\":{:g},\"procs\":{},\"load_rps\":{},",
                 interval >= 60 && std::fmod(interval, 60) == 0
                     ? fmt::format("{:g}m", interval / 60)
                     : fmt::format("{:g}s", interval),
                 interval, gofer::procs(), o.load_rps);
  out += "\"t\":[";  // to the millisecond: what `since` compares with
  for (std::size_t i = 0; i < points.size(); ++i) {
    fmt::format_to(std::back_inserter(out), "{}{:.3f}", i ? "," : "", points[i]->t);
  }
  out += "],";
  column(out, "dt_s", points, [](const Point& p) { return p.interval_s; });
  out += ',';
  columns(out, "requests", kClassNames, points,
          [](const Point& p, std::size_t k) { return p.rps[k]; });
  out += ',';
  columns(out, "latency_s", kQuantileNames, points,
          [](const Point& p, std::size_t k) { return p.latency[k]; });
  out += ',';
  columns(out, "goroutines", kGStateNames, points,
          [](const Point& p, std::size_t k) { return p.goroutines[k]; });
  out += ',';
  columns(out, "connections", kConnNames, points,
          [](const Point& p, std::size_t k) { return k == 0 ? p.open : p.parked; });
  out += ',';
  column(out, "netpoll_wakeups", points, [](const Point& p) { return p.wakeups; });
  out += ',';
  column(out, "steals", points, [](const Point& p) { return p.steals; });
  out += ",\"p_busy\":[";
  std::size_t nps = 0;
  for (const Point* p : points) nps = std::max(nps, p->p_busy.size());
  for (std::size_t i = 0; i < nps; ++i) {
    if (i) out += ',';
    out += '[';
    for (std::size_t j = 0; j < points.size(); ++j) {
      if (j) out += ',';
      number(out, i < points[j]->p_busy.size() ? points[j]->p_busy[i] : kNone);
    }
    out += ']';
  }
  out += "],";
  columns(out, "threads", kMStateNames, points, [](const Point& p, std::size_t k) {
    double sum = 0;
    for (const auto& m : p.ms) sum += m.fraction[k];
    return sum;
  });
  // Per M: every M seen in these points, null where a point has none.
  std::map<int, int> ids;
  for (const Point* p : points) {
    for (const auto& m : p->ms) ids.emplace(m.id, 0);
  }
  out += ",\"ms\":[";
  bool first = true;
  for (const auto& [id, unused] : ids) {
    fmt::format_to(std::back_inserter(out), "{}{{\"id\":{},", first ? "" : ",", id);
    first = false;
    fields(out, kMStateNames, points, [id = id](const Point& p, std::size_t k) {
      for (const auto& m : p.ms) {
        if (m.id == id) return m.fraction[k];
      }
      return kNone;
    });
    out += '}';
  }
  out += "],";
  columns(out, "cpu", kCpuNames, points,
          [](const Point& p, std::size_t k) { return k == 0 ? p.cpu_user : p.cpu_system; });
  out += ',';
  column(out, "rss_bytes", points, [](const Point& p) { return p.rss; });
  out += ',';
  column(out, "fds", points, [](const Point& p) { return p.fds; });
  out += ",\"events\":[";
  first = true;
  for (const auto& e : events) {
    fmt::format_to(std::back_inserter(out), "{}{{\"t\":{:.3f},\"what\":\"{}\"}}", first ? "" : ",",
                   e.t, e.started ? "load started" : "load stopped");
    first = false;
  }
  out += "]}";
  return out;
}

}  // namespace

struct SeriesRecorder::State {
  const http::Server* server;
  SeriesOptions options;
  Chan<int> stop = make_chan<int>();
  WaitGroup running;
  bool stopped = false;  // owner only

  // Written by the sampling goroutine, read by handlers: a std::mutex, held
  // for copies only (nothing parks under it).
  mutable std::mutex mu;
  std::deque<Point> fine, coarse;
  std::vector<Event> events;
  std::uint64_t samples = 0;
  bool loaded = false;  // the last point was at or above load_rps

  void add(Point fine_point, const Point* coarse_point) {
    std::lock_guard lock(mu);
    if (!fine.empty()) {
      bool now_loaded = fine_point.rps[0] >= options.load_rps;
      if (now_loaded != loaded) {
        events.push_back({fine.back().t, fine_point.t, now_loaded});
        loaded = now_loaded;
      }
    }
    fine.push_back(std::move(fine_point));
    while (fine.size() > options.points) fine.pop_front();
    if (coarse_point != nullptr) {
      coarse.push_back(*coarse_point);
      while (coarse.size() > options.coarse_points) coarse.pop_front();
    }
    ++samples;
    // Events older than everything kept go.
    double oldest = std::min(fine.front().t, coarse.empty() ? fine.front().t : coarse.front().t);
    std::erase_if(events, [&](const Event& e) { return e.seen < oldest; });
  }

  void sample_loop() {
    Ticker tick(options.interval);
    Reading last = take_reading(server);
    Reading boundary = last;
    std::size_t since_boundary = 0;
    GaugeMean gauges;
    for (;;) {
      if (select(recv_case(stop), recv_case(tick.c())) == 0) break;
      Reading now = take_reading(server);
      Point p = make_point(last, now);
      gauges.add(p);
      std::optional<Point> c;
      if (++since_boundary == options.coarse_every) {
        c = make_point(boundary, now);
        gauges.take(*c);
        boundary = now;
        since_boundary = 0;
      }
      add(std::move(p), c ? &*c : nullptr);
      last = std::move(now);
    }
  }
};

SeriesRecorder::SeriesRecorder(const http::Server* server, SeriesOptions options)
    : state_(std::make_shared<State>()) {
  if (options.interval.count() <= 0) options.interval = std::chrono::milliseconds(1000);
  options.points = std::max<std::size_t>(options.points, 1);
  options.coarse_every = std::max<std::size_t>(options.coarse_every, 1);
  state_->server = server;
  state_->options = options;
  state_->running.add(1);
  go([st = state_] {
    st->sample_loop();
    st->running.done();
  });
}

SeriesRecorder::~SeriesRecorder() {
  stop();
}

void SeriesRecorder::stop() {
  if (state_->stopped) return;
  state_->stopped = true;
  state_->stop.close();
  state_->running.wait();
}

std::string SeriesRecorder::json(double since, bool coarse) const {
  // Copy under the lock, format outside it.
  std::vector<Point> copy;
  std::vector<Event> events;
  {
    std::lock_guard lock(state_->mu);
    const auto& from = coarse ? state_->coarse : state_->fine;
    for (const auto& p : from) {
      if (p.t > since) copy.push_back(p);
    }
    for (const auto& e : state_->events) {
      if (e.seen > since) events.push_back(e);
    }
  }
  std::vector<const Point*> points;
  for (const auto& p : copy) points.push_back(&p);
  return to_json(points, events, state_->options, coarse);
}

std::uint64_t SeriesRecorder::samples() const {
  std::lock_guard lock(state_->mu);
  return state_->samples;
}

}  // namespace gofer::debug
