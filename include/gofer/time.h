// Go's time package, for goroutines: sleep, Timer, Ticker, after, after_func.
//
//   gofer::sleep_for(10ms);                         // parks the goroutine, not the thread
//   gofer::select(gofer::recv_case(work, [&](int job) { handle(job); }),
//                 gofer::recv_case(gofer::after(1s), [&] { timed_out = true; }));
//   gofer::Ticker tick(100ms);
//   for (auto t : tick.c()) { if (poll()) break; }  // the channel is never closed, as in Go
//
// All of it runs on runtime::Timer (a per-P timer heap, src/runtime/timer.h):
// a timer's callback runs on a scheduler stack, so it only try_sends on the
// timer's buffered channel (Timer, Ticker, after) or spawns a goroutine
// (after_func). An idle process whose goroutines all sleep costs no CPU.
//
// Times are std::chrono::steady_clock time points, which on Linux read the
// same CLOCK_MONOTONIC as the runtime's nanotime(). Timers live in the
// running runtime's heaps: a Timer or Ticker (or a Context with a deadline)
// must not outlive the gofer::run() during which it was armed.
//
// Timer and Ticker follow Go 1.23: stop() and reset() guarantee that no value
// from before the call is received after it (a fired-but-unreceived value is
// discarded, and then stop/reset return true as if the timer had not fired
// yet), so the pre-1.23 idiom `if (!t.stop()) t.c().recv();` is never needed
// (and still harmless when the value was not received).
//
// Unlike Go:
//   - The channel's capacity is 1 and len() may report a pending value (Go
//     1.23 reports 0 for both).
//   - Timer and Ticker are shared handles: copies refer to one timer, and the
//     timer stops when the last handle goes, even if its channel is still
//     referenced (Go keeps it alive through the channel). after() is the
//     exception: its timer lives exactly as long as its channel.
//   - A non-positive Ticker interval throws std::invalid_argument (Go panics).
#pragma once

#include <chrono>
#include <functional>
#include <memory>

#include "gofer/chan.h"

namespace gofer {

using Duration = std::chrono::nanoseconds;
using TimePoint = std::chrono::steady_clock::time_point;

// Parks the calling goroutine for at least d. d <= 0 returns at once (Go's
// time.Sleep).
void sleep_for(Duration d);
// Parks the calling goroutine until `deadline` has passed.
void sleep_until(TimePoint deadline);

namespace detail {
class TimerImpl;  // src/sync/time.cpp
}

// Go's time.Timer: a single event. A Timer made by Timer(d) sends the
// current time on c() once, d from now. One made by after_func(d, f) has no
// channel (c() is nil) and starts f on a new goroutine instead.
class Timer {
 public:
  // Go's time.NewTimer(d). d <= 0 fires at once.
  explicit Timer(Duration d);

  // Receives the time at which the timer fired.
  RecvChan<TimePoint> c() const noexcept { return c_; }

  // Prevents the timer from firing. Returns true if that stopped it (it was
  // armed, or fired but its value had not been received yet), false if it
  // had already expired or been stopped. After stop(), c() delivers nothing
  // until the next reset. For after_func: true if f had not been started.
  bool stop();
  // Re-arms the timer to fire d from now; returns what stop() would have.
  bool reset(Duration d);

 private:
  friend Timer after_func(Duration d, std::function<void()> f);
  Timer(Duration d, std::function<void()> f);

  Chan<TimePoint> c_;                        // nil for after_func timers
  std::shared_ptr<detail::TimerImpl> impl_;  // after c_: destroyed (stopped) first
};

// Go's time.After: a channel that receives the time once, d from now. The
// timer is freed when it has fired or when its channel is no longer
// referenced, whichever comes last.
RecvChan<TimePoint> after(Duration d);

// Go's time.AfterFunc: runs f on its own goroutine d from now. The timer
// stays armed even if the returned handle is dropped; keep it to stop() or
// reset() it (reset after it fired runs f again).
Timer after_func(Duration d, std::function<void()> f);

// Go's time.Ticker: sends the time on c() every period. A receiver that falls
// behind gets one pending tick, not a backlog: the others are dropped, and
// the period stays aligned to the original start.
class Ticker {
 public:
  // Go's time.NewTicker; throws std::invalid_argument if period <= 0.
  explicit Ticker(Duration period);

  RecvChan<TimePoint> c() const noexcept { return c_; }
  // Stops the ticks (a pending tick is discarded, as in Go 1.23). The
  // channel is not closed.
  void stop();
  // Stops and restarts with a new period, the next tick one period from
  // now. Throws std::invalid_argument if period <= 0.
  void reset(Duration period);

 private:
  Chan<TimePoint> c_;
  std::shared_ptr<detail::TimerImpl> impl_;
};

}  // namespace gofer
