// Goroutines through the public API: run, go, yield, ids, counts, procs,
// blocking, and go() from a plain thread.
#include <gtest/gtest.h>
#include <pthread.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <memory>
#include <chrono>
#include <cstdlib>
#include <thread>
#include <vector>

#include "gofer/runtime.h"

namespace {

TEST(Run, RunsMainAsAGoroutineAndReturnsWhenItReturns) {
  bool ran = false;
  std::uint64_t id = 0;
  gofer::run([&] {
    ran = gofer::in_goroutine();
    id = gofer::this_goroutine_id();
  });
  EXPECT_TRUE(ran);
  EXPECT_EQ(id, 1u);  // like Go, the main goroutine is goroutine 1
  EXPECT_FALSE(gofer::in_goroutine());
  EXPECT_EQ(gofer::this_goroutine_id(), 0u);
}

TEST(Run, CanRunManyTimesInOneProcess) {
  int sum = 0;
  for (int i = 0; i < 20; ++i) gofer::run([&] { sum += 1; }, {.procs = 1 + i % 3});
  EXPECT_EQ(sum, 20);
}

// at_main_exit: the functions run on the main goroutine after main returns,
// last registered first, one registered meanwhile too; the next run starts
// with none.
TEST(Run, AtMainExitRunsOnTheMainGoroutineLastFirst) {
  std::vector<int> order;
  std::vector<std::uint64_t> ids;
  gofer::run([&] {
    gofer::at_main_exit([&] {
      order.push_back(1);
      ids.push_back(gofer::this_goroutine_id());
    });
    gofer::at_main_exit([&] {
      order.push_back(2);
      gofer::at_main_exit([&] { order.push_back(3); });
    });
    order.push_back(0);
  });
  EXPECT_EQ(order, (std::vector<int>{0, 2, 3, 1}));
  EXPECT_EQ(ids, (std::vector<std::uint64_t>{1}));
  order.clear();
  gofer::run([&] { order.push_back(0); });
  EXPECT_EQ(order, (std::vector<int>{0}));
}

TEST(Run, ProcsFromConfigThenEnvironmentThenHardware) {
  int seen = 0;
  gofer::run([&] { seen = gofer::procs(); }, {.procs = 3});
  EXPECT_EQ(seen, 3);
  ::setenv("GOFER_PROCS", "2", 1);
  gofer::run([&] { seen = gofer::procs(); });
  EXPECT_EQ(seen, 2);
  ::unsetenv("GOFER_PROCS");
  gofer::run([&] { seen = gofer::procs(); });
  EXPECT_EQ(seen, static_cast<int>(std::max(1u, std::thread::hardware_concurrency())));
}

TEST(Go, EveryGoroutineRunsOnceWithItsOwnId) {
  constexpr int kN = 10000;
  std::vector<std::atomic<std::uint64_t>> ids(kN);
  std::atomic<int> done{0};
  gofer::run([&] {
    for (int i = 0; i < kN; ++i) {
      gofer::go([&, i] {
        ids[i].store(gofer::this_goroutine_id());
        done.fetch_add(1);
      });
    }
    while (done.load() < kN) gofer::yield();
  });
  std::vector<std::uint64_t> sorted;
  for (auto& id : ids) sorted.push_back(id.load());
  std::sort(sorted.begin(), sorted.end());
  EXPECT_NE(sorted.front(), 0u);
  EXPECT_EQ(std::adjacent_find(sorted.begin(), sorted.end()), sorted.end()) << "duplicate id";
}

TEST(Go, NumGoroutinesCountsLiveOnes) {
  gofer::run([&] {
    EXPECT_EQ(gofer::num_goroutines(), 1u);
    std::atomic<bool> release{false};
    std::atomic<int> exited{0};
    for (int i = 0; i < 10; ++i) {
      gofer::go([&] {
        while (!release.load()) gofer::yield();
        exited.fetch_add(1);
      });
    }
    EXPECT_EQ(gofer::num_goroutines(), 11u);
    release = true;
    while (exited.load() < 10) gofer::yield();
    // The last exits are counted once their goroutines are off their stacks
    // (on g0, just after they incremented `exited`): wait for that, bounded.
    for (int i = 0; i < 5000 && gofer::num_goroutines() != 1; ++i) gofer::blocking([] { ::usleep(1000); });
    EXPECT_EQ(gofer::num_goroutines(), 1u);
  }, {.procs = 2});
}

TEST(Go, LargeCapturesAndMoveOnlyCaptures) {
  gofer::run([] {
    std::atomic<int> got{0};
    std::array<int, 64> big{};  // 256 bytes: beyond the inline storage
    big[63] = 7;
    auto owned = std::make_unique<int>(5);
    gofer::go([big, &got] { got.fetch_add(big[63]); });
    gofer::go([owned = std::move(owned), &got] { got.fetch_add(*owned); });
    while (got.load() != 12) gofer::yield();
  });
}

TEST(Go, FromAPlainThreadWhileTheRuntimeRuns) {
  std::atomic<bool> spawned{false};
  std::atomic<std::uint64_t> child_id{0};
  gofer::run([&] {
    std::thread t([&] {
      gofer::go([&] { child_id.store(gofer::this_goroutine_id()); });
      spawned = true;
    });
    while (child_id.load() == 0) gofer::yield();
    t.join();
  });
  EXPECT_TRUE(spawned.load());
  EXPECT_NE(child_id.load(), 0u);
}

TEST(Go, CustomStackSize) {
  gofer::run([] {
    std::atomic<bool> done{false};
    gofer::go({.stack_size = 1 << 20}, [&] {
      volatile char big[512 * 1024];  // would overflow the 256 KiB default
      big[0] = 1;
      big[sizeof big - 1] = 1;
      done = true;
    });
    while (!done.load()) gofer::yield();
  });
}

// Go's Gosched: a goroutine that yields in a loop does not starve others on
// its P.
TEST(Yield, ALoopingYielderDoesNotStarveOthers) {
  gofer::run([] {
    std::atomic<bool> stop{false};
    std::atomic<long> spins{0};
    gofer::go([&] {
      while (!stop.load()) {
        spins.fetch_add(1);
        gofer::yield();
      }
    });
    std::atomic<int> others{0};
    for (int i = 0; i < 100; ++i) gofer::go([&] { others.fetch_add(1); });
    while (others.load() < 100) gofer::yield();
    stop = true;
    while (spins.load() == 0) gofer::yield();
  }, {.procs = 1});
}

// blocking() hands the P over: with one P, other goroutines keep running
// while one sits in a blocking call.
TEST(Blocking, OtherGoroutinesRunMeanwhile) {
  gofer::run([] {
    std::atomic<bool> in_call{false}, call_done{false};
    std::atomic<long> progress_during_call{0};
    gofer::go([&] {
      int r = gofer::blocking([&] {
        in_call = true;
        // The call lasts until the main goroutine has gone round its loop
        // twice on the only P, or 5 s: without the hand-over it never
        // does, and the check below fails.
        for (int i = 0; i < 5000 && progress_during_call.load() < 2; ++i) ::usleep(1000);
        return 42;
      });
      EXPECT_EQ(r, 42);
      call_done = true;
    });
    while (!in_call.load()) gofer::yield();
    while (!call_done.load()) {
      progress_during_call.fetch_add(1);
      gofer::yield();
    }
    EXPECT_GT(progress_during_call.load(), 1);
  }, {.procs = 1});
}

TEST(Blocking, ManyConcurrentBlockingCallsFinish) {
  gofer::run([] {
    std::atomic<int> done{0};
    for (int i = 0; i < 50; ++i) {
      gofer::go([&] {
        for (int k = 0; k < 5; ++k) gofer::blocking([] { ::usleep(1000); });
        done.fetch_add(1);
      });
    }
    while (done.load() < 50) gofer::yield();
  }, {.procs = 2});
}

}  // namespace
