// `gofer top`: the live page's story in a terminal, for a server reached over
// SSH. Once a second it reads /debug/gofer/series (the last minute) and
// /debug/gofer/state (the machine now) and redraws: requests, latency,
// goroutines, connections, the poller, CPU and memory with a sparkline of
// the last minute each, then every P's busy fraction and every M's state,
// with a strip of what each M did second by second.
#include "top.h"

#include <sys/ioctl.h>
#include <unistd.h>

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <nlohmann/json.hpp>

#include "gofer/runtime.h"
#include "gofer/time.h"
#include "http_get.h"

namespace gofer::app {
namespace {

using json = nlohmann::json;

constexpr auto kTimeout = std::chrono::seconds(5);
constexpr int kSparkPoints = 60;  // a minute of 1-second points

double value(const json& v) {
  return v.is_number() ? v.get<double>() : std::nan("");
}

double last(const json& column) {
  return column.empty() ? std::nan("") : value(column.back());
}

// "▁▂▃▅▇" for the last `width` values, scaled to `top` (0: their maximum);
// a blank where there is no value.
std::string sparkline(const json& column, int width, double top = 0) {
  static const char* kBars[] = {"▁", "▂", "▃", "▄", "▅", "▆", "▇", "█"};
  std::size_t n = std::min<std::size_t>(column.size(), static_cast<std::size_t>(width));
  if (top == 0) {
    for (std::size_t i = column.size() - n; i < column.size(); ++i) {
      double v = value(column[i]);
      if (!std::isnan(v)) top = std::max(top, v);
    }
  }
  std::string out(static_cast<std::size_t>(width) - n, ' ');
  for (std::size_t i = column.size() - n; i < column.size(); ++i) {
    double v = value(column[i]);
    if (std::isnan(v)) {
      out += ' ';
    } else {
      int level = top > 0 ? static_cast<int>(std::lround(v / top * 7)) : 0;
      out += kBars[std::clamp(level, 0, 7)];
    }
  }
  return out;
}

std::string count(double v) {
  if (std::isnan(v)) return "–";
  if (v >= 1e6) return fmt::format("{:.2f}M", v / 1e6);
  if (v >= 1e4) return fmt::format("{:.1f}k", v / 1e3);
  return fmt::format("{:.0f}", v);
}

std::string duration(double seconds) {
  if (std::isnan(seconds)) return "–";
  if (seconds < 1e-3) return fmt::format("{:.0f} µs", seconds * 1e6);
  if (seconds < 1) return fmt::format("{:.2f} ms", seconds * 1e3);
  return fmt::format("{:.2f} s", seconds);
}

std::string clock_time(double unix_seconds) {
  std::time_t t = static_cast<std::time_t>(unix_seconds);
  std::tm tm{};
  ::localtime_r(&t, &tm);
  char buf[16];
  std::strftime(buf, sizeof buf, "%H:%M:%S", &tm);
  return buf;
}

constexpr const char* kMStates[] = {"running", "spinning", "netpoll", "futex", "blocking"};
// One character per M state in the strips: what it spent most of a second on.
constexpr char kMGlyphs[] = {'R', 's', 'e', '.', 'B'};

std::string where(const json& m) {
  std::string state = m.value("state", "");
  if (state == "netpoll") return "asleep in epoll_wait";
  if (state == "futex") return "asleep on its futex";
  if (state == "blocking") return "in blocking()";
  if (m.value("goroutine", 0) != 0) return fmt::format("runs G{}", m.value("goroutine", 0));
  if (state == "spinning") return "spinning for work";
  return "scheduling";
}

// The frame for series (/debug/gofer/series) and state (/debug/gofer/state).
std::string render_top(const json& series, const json& state, std::string_view addr, int width) {
  width = std::max(width, 60);
  int spark = std::min(kSparkPoints, width - 50);
  std::string out;
  const json& t = series["t"];
  if (t.empty()) {
    return fmt::format("gofer top — {}: no point recorded yet (one a {})\n", addr,
                       series.value("resolution", "1s"));
  }
  out += fmt::format(
      "gofer top — {} · {} · procs {} · a point every {} · sparklines: the last {} points\n\n",
      addr, clock_time(value(t.back())), series.value("procs", 0), series.value("resolution", "1s"),
      spark);
  auto line = [&](std::string_view label, const json& column, const std::string& text) {
    out += fmt::format("{:<13} {} {}\n", label, sparkline(column, spark), text);
  };
  const json& req = series["requests"];
  // A rate times its point's interval is the count in that point.
  double served = 0;
  for (std::size_t i = 0; i < t.size(); ++i) {
    served += std::round(value(req["total"][i]) * value(series["dt_s"][i]));
  }
  line("requests/s", req["total"],
       fmt::format("{} (2xx {} · 3xx {} · 4xx {} · 5xx {}) · {:.0f} in these {} points",
                   count(last(req["total"])), count(last(req["2xx"])), count(last(req["3xx"])),
                   count(last(req["4xx"])), count(last(req["5xx"])), served, t.size()));
  const json& lat = series["latency_s"];
  line("latency p99", lat["p99"],
       fmt::format("p50 {} · p99 {} · p99.9 {}", duration(last(lat["p50"])),
                   duration(last(lat["p99"])), duration(last(lat["p999"]))));
  const json& g = series["goroutines"];
  json total = json::array();
  for (std::size_t i = 0; i < t.size(); ++i) {
    double sum = 0;
    for (auto& [k, col] : g.items()) sum += value(col[i]);
    total.push_back(sum);
  }
  std::string states;
  for (auto& [k, col] : g.items()) {
    double v = last(col);
    if (v > 0) states += fmt::format("{}{} {}", states.empty() ? "" : " · ", k, count(v));
  }
  line("goroutines", total, fmt::format("{} ({})", count(last(total)), states));
  const json& c = series["connections"];
  line("connections", c["open"],
       fmt::format("{} open · {} parked idle", count(last(c["open"])), count(last(c["parked"]))));
  line("epoll wakes/s", series["netpoll_wakeups"],
       fmt::format("{} · steals/s {}", count(last(series["netpoll_wakeups"])),
                   count(last(series["steals"]))));
  const json& cpu = series["cpu"];
  json cores = json::array();
  for (std::size_t i = 0; i < t.size(); ++i)
    cores.push_back(value(cpu["user"][i]) + value(cpu["system"][i]));
  line("CPU (cores)", cores,
       fmt::format("{:.3f} (user {:.3f} · system {:.3f})", last(cores), last(cpu["user"]),
                   last(cpu["system"])));
  line("RSS", series["rss_bytes"],
       fmt::format("{:.1f} MiB · {} fds", last(series["rss_bytes"]) / 1048576,
                   count(last(series["fds"]))));
  std::string events;
  for (const auto& e : series["events"]) {
    events += fmt::format("{}{} at {}", events.empty() ? "" : " · ", e.value("what", ""),
                          clock_time(e.value("t", 0.0)));
  }
  out +=
      fmt::format("{:<13} {}\n", "load",
                  events.empty() ? fmt::format("none in this window (load: {} requests/s or more)",
                                               series.value("load_rps", 0.0))
                                 : events);

  out += fmt::format("\n{:<5} {:>5}  {:<{}}  {}\n", "P", "busy", "the last points", spark, "now");
  const json& busy = series["p_busy"];
  for (std::size_t i = 0; i < busy.size(); ++i) {
    std::string now = "idle";
    for (const auto& m : state["ms"]) {
      if (m.value("p", -1) == static_cast<int>(i))
        now = fmt::format("M{} {}", m.value("id", 0), where(m));
    }
    int queued = i < state["ps"].size() ? state["ps"][i].value("runq", 0) : 0;
    out += fmt::format("P{:<4} {:>4.0f}%  {}  {} · {} queued\n", i, last(busy[i]) * 100,
                       sparkline(busy[i], spark, 1), now, queued);
  }
  out += fmt::format("\n{:<5} {:<{}}  {}\n", "M",
                     "each point: R running  s spinning  e epoll_wait  . futex  B blocking()",
                     spark, "now");
  for (const auto& m : series["ms"]) {
    std::string strip;
    std::size_t n = std::min<std::size_t>(t.size(), static_cast<std::size_t>(spark));
    strip.append(static_cast<std::size_t>(spark) - n, ' ');
    for (std::size_t i = t.size() - n; i < t.size(); ++i) {
      int best = -1;
      double most = 0;
      for (int k = 0; k < 5; ++k) {
        double v = value(m[kMStates[k]][i]);
        if (v > most) most = v, best = k;
      }
      strip += best < 0 ? ' ' : kMGlyphs[best];
    }
    std::string now;
    for (const auto& sm : state["ms"]) {
      if (sm.value("id", -1) == m.value("id", -2)) now = where(sm);
    }
    out += fmt::format("M{:<4} {}  {}\n", m.value("id", 0), strip, now);
  }
  out += "\ngoroutines now:";
  for (auto& [k, v] : state["goroutines_by_state"].items())
    out += fmt::format("  {} {}", k, v.get<int>());
  out += "\n";
  return out;
}

// One frame's data: the last minute of the series and the state now.
struct Fetched {
  std::string error;
  json series, state;
};

Fetched fetch(const std::string& addr) {
  Fetched f;
  auto get = [&](std::string_view target, json* into) {
    GetResult r = http_get(addr, target, kTimeout);
    if (!r.error.empty()) {
      f.error = r.error;
    } else if (r.status != 200) {
      f.error =
          fmt::format("http://{}{} answered {} {}{}", addr, target, r.status, r.reason,
                      r.status == 404 ? " (is it a gofer server with its debug pages on?)" : "");
    } else {
      *into = json::parse(r.body, nullptr, false);
      if (into->is_discarded())
        f.error = fmt::format("http://{}{} did not answer JSON", addr, target);
    }
    return f.error.empty();
  };
  // The last minute: everything after a minute before now (the server's
  // clock is compared with ours; a skew only lengthens or shortens it).
  double since =
      std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count() -
      kSparkPoints - 5;
  get(fmt::format("/debug/gofer/series?since={:.3f}", std::max(0.0, since)), &f.series) &&
      get("/debug/gofer/state", &f.state);
  return f;
}

int terminal_width() {
  winsize ws{};
  if (::ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0) return ws.ws_col;
  return 100;
}

}  // namespace

int top(const TopFlags& flags) {
  int exit_code = 0;
  gofer::run(
      [&] {
        for (bool first = true;; first = false) {
          Fetched f = fetch(flags.addr);
          if (!f.error.empty() && (first || flags.once)) {
            std::fprintf(stderr, "gofer top: %s\n", f.error.c_str());
            exit_code = 1;
            return;
          }
          std::string frame;
          if (f.error.empty()) {
            frame = render_top(f.series, f.state, flags.addr, flags.once ? 100 : terminal_width());
          } else {
            frame = fmt::format("gofer top — {}: {} (trying again every second)\n", flags.addr,
                                f.error);
          }
          if (!flags.once) frame = "\x1b[H\x1b[2J" + frame;  // home, clear: a new screen
          gofer::blocking([&] {
            std::fwrite(frame.data(), 1, frame.size(), stdout);
            std::fflush(stdout);
          });
          if (flags.once) return;
          gofer::sleep_for(std::chrono::seconds(1));
        }
      },
      {.procs = 1});
  return exit_code;
}

}  // namespace gofer::app
