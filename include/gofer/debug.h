// gofer::debug — see inside a running server: the goroutines, the Ms and
// Ps and what each runs, the netpoller, and the HTTP server's counters.
//
//   gofer::http::ServeMux mux;
//   gofer::debug::register_handlers(mux, &server);
//
// serves /debug/gofer (a live page), /debug/gofer/state (its JSON),
// /debug/goroutines (every goroutine, like Go's goroutine profile with
// debug=2) and /metrics (Prometheus text format), to clients on loopback
// only unless HandlerOptions::allow_remote says otherwise. With a SeriesRecorder
// (below), the live page also charts the last minutes from
// /debug/gofer/series. The layers below know nothing of this one: it reads
// them through narrow stats interfaces.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "gofer/http/mux.h"
#include "gofer/http/server.h"

namespace gofer::debug {

// Every goroutine: id, state, wait reason, time in that state, and where it
// was created.
std::string goroutine_dump();

// Prometheus text exposition (version 0.0.4) of the runtime's metrics and,
// if `server` is given, the HTTP server's.
std::string metrics_text(const http::Server* server);

// The live page's data: scheduler, goroutines by state and wait reason,
// HTTP counters (JSON).
std::string state_json(const http::Server* server);

class SeriesRecorder;

struct HandlerOptions {
  // /debug/gofer/series serves this recorder's history (it must outlive the
  // mux's use); null: that page answers 404 and the live page says how to
  // turn it on.
  const SeriesRecorder* series = nullptr;
  // The pages show the server's insides (goroutines, requests, paths), so by
  // default they answer only clients on loopback (Addr::is_loopback: 127/8,
  // ::1, a Unix socket) and 403 Forbidden to everyone else, whatever address
  // the server listens on. true: every client that reaches the mux — put
  // your own authentication in front of it.
  bool allow_remote = false;
};

// Registers the pages above on `mux`, and /debug/trace and
// /debug/gofer/journeys (below). `server` may be null.
void register_handlers(http::ServeMux& mux, const http::Server* server,
                       const HandlerOptions& options = {});
// The same with only a recorder: register_handlers(mux, server, {.series = series}).
void register_handlers(http::ServeMux& mux, const http::Server* server,
                       const SeriesRecorder* series);

// ---- History: what the runtime did, second by second -----------------------
//
// A SeriesRecorder samples the runtime, the HTTP server and the process once
// an interval (1 s) on a goroutine of its own, and keeps the last `points`
// samples (5 minutes) and a coarser point per `coarse_every` samples for the
// last `coarse_points` of those (an hour of minutes): requests per second by
// status class, latency quantiles, goroutines by state, connections, poller
// wake-ups and steals, each P's busy fraction, where each M's time went,
// and the process's CPU, RSS and fds. An idle server is woken once an
// interval (one M leaves epoll_wait, reads the counters, and goes back).
//
//   gofer::debug::SeriesRecorder series(&server);  // from now until destroyed
//   gofer::debug::register_handlers(mux, &server, &series);
struct SeriesOptions {
  std::chrono::milliseconds interval{1000};
  std::size_t points = 300;
  std::size_t coarse_every = 60;
  std::size_t coarse_points = 60;
  // Requests per second at or above which a second counts as "under load",
  // for the load started/stopped events (the live page itself makes a few).
  double load_rps = 20;
};

class SeriesRecorder {
 public:
  // Starts sampling; call from a goroutine. `server` (may be null) must
  // outlive the recorder.
  explicit SeriesRecorder(const http::Server* server, SeriesOptions options = {});
  // stop().
  ~SeriesRecorder();
  SeriesRecorder(const SeriesRecorder&) = delete;
  SeriesRecorder& operator=(const SeriesRecorder&) = delete;

  // Stops sampling and waits for the sampling goroutine to end (parks; call
  // from a goroutine). The history stays readable. Idempotent.
  void stop();

  // /debug/gofer/series as JSON (fields documented in series.cpp and the
  // README): the points taken after `since` (Unix seconds; 0: all kept), of
  // the fine series or, with coarse, of the coarse one.
  std::string json(double since = 0, bool coarse = false) const;

  // Samples taken so far (points made, fine series).
  std::uint64_t samples() const;

 private:
  struct State;
  std::shared_ptr<State> state_;
};

// ---- Tracing and request journeys ------------------------------------------
//
// While tracing is on, the runtime, net and http layers record what they do
// (goroutines created, run, parked and woken; epoll reports; accept, read and
// write results; request heads, handlers, responses) in fixed-size rings, one
// per thread (runtime/trace.h). Off, it costs one relaxed load per hook.
// A request's journey is assembled from those events: the events of its
// connection's fd and of the goroutine serving it, from the end of the
// previous request on that connection (or its accept) to this one's
// response, and the idle or close that follows — the seed's story (docs/design.md), with the
// real fds, goroutine ids, Ms, Ps and microseconds.

// Tracing is on while at least one user wants it; each start_tracing() is
// paired with a stop_tracing() with the same argument. The events recorded
// stay readable after.
//
// sample_every > 1 records one request in that many (rounded down to a
// power of two; per thread, so about one in N overall): the journeys of
// the others are not recorded, and they run at nearly the speed of
// tracing off. Accepts and goroutines that serve no request are always
// recorded. With several users, the smallest rate asked for is in force.
void start_tracing(std::uint32_t sample_every = 1);
void stop_tracing(std::uint32_t sample_every = 1);
bool tracing() noexcept;
// The trace's clock (CLOCK_MONOTONIC, in ns): the unit of since_ns below.
std::int64_t trace_now() noexcept;

struct JourneyStep {
  std::int64_t t_ns = 0;  // since the journey's first step
  // "accept", "create", "run", "park", "yield", "exit", "unpark", "netpoll",
  // "read", "write", "close", "request", "handler_start", "handler_end",
  // "response", "idle", "conn_close".
  std::string kind;
  int m = -1, p = -1, fd = -1;  // where it happened (-1: not an M / no P / no fd)
  std::uint64_t goroutine = 0;  // the goroutine it is about
  // read/write: bytes, 0 for EOF, or -errno; accept: the new fd; run: ns
  // runnable before (-1: unknown); response: status; request: head bytes.
  std::int64_t value = 0;
  // park: the wait reason; netpoll: the epoll events ("EPOLLIN|EPOLLOUT");
  // write: the syscall; unpark: what readied it.
  std::string detail;
  std::string text;  // the step in plain words
};

struct Journey {
  int fd = -1;                  // the connection
  int listener_fd = -1;         // set when the journey starts with its accept
  std::uint64_t goroutine = 0;  // the goroutine that served it
  std::uint64_t number = 0;     // the request's number on its connection (1: first)
  std::string request;          // "GET /hello" (at most 24 bytes)
  int status = 0;
  std::uint64_t bytes_out = 0;
  std::int64_t begin_ns = 0, end_ns = 0;  // trace_now() of its first and last steps
  std::vector<JourneyStep> steps;         // in time order
};

// The journeys of requests whose response left at or after since_ns, oldest
// first; the latest `max` of them.
std::vector<Journey> recent_journeys(std::size_t max = 64, std::int64_t since_ns = 0);

// The journey so far of the request the calling goroutine serves (its
// handler is running): for a page that shows its own story. nullopt if
// tracing was off when it arrived.
std::optional<Journey> journey_so_far();

// The journey in plain words, a line per step, in the seed's order.
std::string explain(const Journey& journey);

// Follows the trace as it grows (`gofer serve --explain`): each poll()
// returns the journeys of requests that completed since the previous poll
// (and at least a few ms ago, so that the steps after the response are in).
class JourneyWatcher {
 public:
  JourneyWatcher();  // from now on
  ~JourneyWatcher();
  JourneyWatcher(const JourneyWatcher&) = delete;
  JourneyWatcher& operator=(const JourneyWatcher&) = delete;
  // At most `max` journeys (the latest); *skipped gets how many more
  // completed, and *lost how many events the rings overwrote unread.
  std::vector<Journey> poll(std::size_t max, std::size_t* skipped = nullptr,
                            std::uint64_t* lost = nullptr);

 private:
  struct State;
  std::unique_ptr<State> state_;
};

// {"tracing":…, "journeys":[…]}: recent_journeys(max) for the live page.
std::string journeys_json(std::size_t max = 64);

// The events recorded at or after since_ns as Chrome trace-event JSON (the
// "traceEvents" format that ui.perfetto.dev and chrome://tracing open):
// goroutine run slices on a track per M and per P, epoll waits, instants
// for parks, wake-ups and epoll reports, request and handler spans on a
// track per connection.
std::string trace_json(std::int64_t since_ns);

}  // namespace gofer::debug
