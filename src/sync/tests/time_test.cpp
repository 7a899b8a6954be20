// sleep, Timer, Ticker, after, after_func: the behaviours of Go's time
// package (sleep_test.go, tick_test.go), with Go 1.23's Stop/Reset rules.
// Timings are only ever checked as lower bounds (a sleep may not end early)
// or as generous upper bounds (a timer must fire at all).
#include "gofer/time.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>

#include "gofer/chan.h"
#include "gofer/runtime.h"
#include "gofer/sync.h"
#include "runtime/park.h"
#include "test_util.h"

namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;
using gofer::RecvStatus;
using gofer::testing::eventually;
using gofer::testing::settle;

// gofer::TimePoint and the runtime's nanotime read the same clock.
TEST(Time, SteadyClockIsNanotime) {
  const auto a = Clock::now().time_since_epoch().count();
  const auto b = gofer::runtime::nanotime();
  const auto c = Clock::now().time_since_epoch().count();
  EXPECT_LE(a, b);
  EXPECT_LE(b, c);
}

// Go TestSleep: Sleep(d) does not return before d has passed.
TEST(Time, SleepForWaitsAtLeast) {
  gofer::run([] {
    const auto start = Clock::now();
    gofer::sleep_for(20ms);
    EXPECT_GE(Clock::now() - start, 20ms);
    const auto deadline = Clock::now() + 10ms;
    gofer::sleep_until(deadline);
    EXPECT_GE(Clock::now(), deadline);
  });
}

// Go: Sleep with d <= 0 returns at once; sleep_until a past time too.
TEST(Time, NonPositiveSleepReturns) {
  gofer::run([] {
    gofer::sleep_for(0ms);
    gofer::sleep_for(-5s);
    gofer::sleep_until(Clock::now() - 1h);
    SUCCEED();
  });
}

// Many goroutines sleeping at once all wake (timers over all Ps).
TEST(Time, ManySleepers) {
  gofer::run([] {
    gofer::WaitGroup wg;
    std::atomic<int> woke{0};
    for (int i = 0; i < 2000; ++i) {
      wg.add(1);
      gofer::go([&, i] {
        const auto d = std::chrono::microseconds(100 * (i % 50));
        const auto start = Clock::now();
        gofer::sleep_for(d);
        if (Clock::now() - start >= d) ++woke;
        wg.done();
      });
    }
    wg.wait();
    EXPECT_EQ(woke.load(), 2000);
  });
}

// Go NewTimer: fires once, sending the time (not before d).
TEST(Timer, FiresOnce) {
  gofer::run([] {
    const auto start = Clock::now();
    gofer::Timer t(10ms);
    EXPECT_EQ(t.c().cap(), 1u);
    auto [when, ok] = t.c().recv();
    EXPECT_TRUE(ok);
    EXPECT_GE(when - start, 10ms);
    EXPECT_GE(Clock::now(), when);
    settle();
    EXPECT_EQ(t.c().try_recv().status, RecvStatus::empty);
    EXPECT_FALSE(t.stop());  // expired and received
  });
}

// Go: Stop before expiry returns true and the timer never fires.
TEST(Timer, StopBeforeFire) {
  gofer::run([] {
    gofer::Timer t(1s);  // far enough that stop() comes first on a loaded machine
    EXPECT_TRUE(t.stop());
    EXPECT_FALSE(t.stop());  // already stopped
    gofer::sleep_for(40ms);
    EXPECT_EQ(t.c().try_recv().status, RecvStatus::empty);
  });
}

// Go 1.23: Stop after expiry with the value unreceived returns true and
// discards the value (no stale receive after Stop).
TEST(Timer, StopAfterFireDiscardsUnreceivedValue) {
  gofer::run([] {
    gofer::Timer t(1ms);
    EXPECT_TRUE(eventually([&] { return t.c().len() == 1; }));
    EXPECT_TRUE(t.stop());
    EXPECT_EQ(t.c().try_recv().status, RecvStatus::empty);
    EXPECT_FALSE(t.stop());
  });
}

// Go: Reset re-arms (true while armed); the timer fires once, after the
// new duration; Reset after expiry returns false and fires again.
TEST(Timer, Reset) {
  gofer::run([] {
    gofer::Timer t(1h);
    const auto start = Clock::now();
    EXPECT_TRUE(t.reset(10ms));
    auto when = t.c().recv().value;
    EXPECT_GE(when - start, 10ms);
    EXPECT_FALSE(t.reset(1ms));  // expired and received
    EXPECT_TRUE(t.c().recv().ok);
    // Reset of a fired-but-unreceived timer discards the old value.
    EXPECT_FALSE(t.reset(1ms));
    EXPECT_TRUE(eventually([&] { return t.c().len() == 1; }));
    const auto before_reset = Clock::now();
    EXPECT_TRUE(t.reset(5ms));
    EXPECT_GE(t.c().recv().value, before_reset + 5ms);
  });
}

// Go: a stopped timer can be reset and fires.
TEST(Timer, ResetAfterStop) {
  gofer::run([] {
    gofer::Timer t(1h);
    EXPECT_TRUE(t.stop());
    EXPECT_FALSE(t.reset(1ms));
    EXPECT_TRUE(t.c().recv().ok);
  });
}

// Go: a zero or negative duration fires at once.
TEST(Timer, NonPositiveDurationFires) {
  gofer::run([] {
    gofer::Timer t(-1s);
    EXPECT_TRUE(t.c().recv().ok);
  });
}

// Dropping the last handle stops the timer (no fire into a dead channel,
// no leak: ASan checks).
TEST(Timer, DroppedTimerIsStopped) {
  gofer::run([] {
    gofer::RecvChan<gofer::TimePoint> c;
    {
      gofer::Timer t(2ms);
      c = t.c();
    }
    gofer::sleep_for(20ms);
    EXPECT_EQ(c.try_recv().status, RecvStatus::empty);
  });
}

// Go After: the channel receives the time once.
TEST(After, Fires) {
  gofer::run([] {
    const auto start = Clock::now();
    auto c = gofer::after(5ms);
    auto [when, ok] = c.recv();
    EXPECT_TRUE(ok);
    EXPECT_GE(when - start, 5ms);
  });
}

// Go After in a loop of selects whose other case wins: the unfired timers
// are freed with their channels (ASan's leak check would see them).
TEST(After, UnfiredTimersAreFreed) {
  gofer::run([] {
    auto ready = gofer::make_chan<int>(1);
    for (int i = 0; i < 1000; ++i) {
      ready.send(i);
      EXPECT_EQ(gofer::select(gofer::recv_case(ready), gofer::recv_case(gofer::after(1h))), 0);
    }
    // And ones that fire after their channel is gone.
    for (int i = 0; i < 100; ++i) (void)gofer::after(std::chrono::microseconds(i * 10));
    gofer::sleep_for(5ms);
  });
}

// Go AfterFunc: f runs on its own goroutine after d.
TEST(AfterFunc, RunsOnItsOwnGoroutine) {
  gofer::run([] {
    auto ran = gofer::make_chan<std::uint64_t>(1);
    const auto start = Clock::now();
    auto t = gofer::after_func(5ms, [ran] { ran.send(gofer::this_goroutine_id()); });
    EXPECT_TRUE(t.c() == gofer::RecvChan<gofer::TimePoint>());  // no channel
    auto id = ran.recv().value;
    EXPECT_GE(Clock::now() - start, 5ms);
    EXPECT_NE(id, gofer::this_goroutine_id());
    EXPECT_NE(id, 0u);
  });
}

// Go: Stop before it fires prevents f; Reset after it ran runs f again.
TEST(AfterFunc, StopAndReset) {
  gofer::run([] {
    std::atomic<int> runs{0};
    // 1 s: stop() comes first even if the machine is slow to get there.
    auto t = gofer::after_func(1s, [&] { ++runs; });
    EXPECT_TRUE(t.stop());
    gofer::sleep_for(1100ms);  // past the time it would have fired
    EXPECT_EQ(runs.load(), 0);
    EXPECT_FALSE(t.reset(1ms));
    EXPECT_TRUE(eventually([&] { return runs.load() == 1; }));
    EXPECT_FALSE(t.stop());  // already ran
    EXPECT_FALSE(t.reset(1ms));
    EXPECT_TRUE(eventually([&] { return runs.load() == 2; }));
  });
}

// Go: the handle of AfterFunc may be dropped; f still runs.
TEST(AfterFunc, DroppedHandleStillRuns) {
  gofer::run([] {
    auto done = gofer::make_chan<int>(1);
    (void)gofer::after_func(2ms, [done] { done.send(1); });
    EXPECT_EQ(done.recv().value, 1);
  });
}

// Go NewTicker: ticks repeatedly, at least a period apart on average.
TEST(Ticker, Ticks) {
  gofer::run([] {
    const auto start = Clock::now();
    gofer::Ticker ticker(2ms);
    auto prev = start;
    for (int i = 0; i < 5; ++i) {
      auto [t, ok] = ticker.c().recv();
      EXPECT_TRUE(ok);
      EXPECT_GT(t, prev);
      prev = t;
    }
    EXPECT_GE(Clock::now() - start, 10ms);
    ticker.stop();
  });
}

// Go: Stop ends the ticks (and, Go 1.23, discards a pending one); the
// channel is not closed.
TEST(Ticker, Stop) {
  gofer::run([] {
    gofer::Ticker ticker(1ms);
    (void)ticker.c().recv();
    gofer::sleep_for(3ms);
    ticker.stop();
    EXPECT_EQ(ticker.c().try_recv().status, RecvStatus::empty);
    gofer::sleep_for(10ms);
    EXPECT_EQ(ticker.c().try_recv().status, RecvStatus::empty);
  });
}

// Go: a slow receiver gets at most one buffered tick; the rest are dropped.
TEST(Ticker, DropsTicksForSlowReceiver) {
  gofer::run([] {
    gofer::Ticker ticker(1ms);
    gofer::sleep_for(30ms);
    EXPECT_LE(ticker.c().len(), 1u);
    EXPECT_TRUE(ticker.c().recv().ok);
    // After taking it, the next one is at most a period or so away: the
    // backlog was not kept.
    EXPECT_LE(ticker.c().len(), 1u);
    ticker.stop();
  });
}

// Go Ticker.Reset: changes the period.
TEST(Ticker, Reset) {
  gofer::run([] {
    gofer::Ticker ticker(1h);
    ticker.reset(2ms);
    const auto start = Clock::now();
    EXPECT_TRUE(ticker.c().recv().ok);
    EXPECT_TRUE(ticker.c().recv().ok);
    EXPECT_GE(Clock::now() - start, 2ms);
    ticker.stop();
  });
}

// Go panics: "non-positive interval for NewTicker".
TEST(Ticker, NonPositivePeriodThrows) {
  gofer::run([] {
    EXPECT_THROW(gofer::Ticker(0ms), std::invalid_argument);
    gofer::Ticker ok(1h);
    EXPECT_THROW(ok.reset(-1ms), std::invalid_argument);
  });
}

// Stress: reset and stop race with fires; after every stop, nothing stale
// arrives (Go 1.23's guarantee).
TEST(TimerStress, StopResetRaces) {
  gofer::run([] {
    gofer::WaitGroup wg;
    std::atomic<int> stale{0};
    for (int g = 0; g < 16; ++g) {
      wg.add(1);
      gofer::go([&, g] {
        gofer::Timer t{std::chrono::microseconds(g)};
        for (int i = 0; i < 200; ++i) {
          t.reset(std::chrono::microseconds((i * 7 + g) % 50));
          if (i % 3 == 0) gofer::sleep_for(std::chrono::microseconds(i % 40));
          t.stop();
          if (t.c().try_recv().status == RecvStatus::received) ++stale;
        }
        wg.done();
      });
    }
    wg.wait();
    EXPECT_EQ(stale.load(), 0);
  });
}

}  // namespace
