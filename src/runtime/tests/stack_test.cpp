// Invariant 6 in docs/design.md: a stack overflow never corrupts memory silently. A guarded
// stack faults on its guard page; a slab stack (used once the guard budget
// derived from vm.max_map_count is spent) trips its neighbour's canary. Both
// stop the program with a message that names the goroutine (checked in a
// child process: gtest death tests).
#include <gtest/gtest.h>

#include <atomic>
#include <mutex>
#include <vector>

#include "gofer/runtime.h"
#include "runtime/park.h"

namespace rt = gofer::runtime;

namespace {

int recurse(int depth, bool yield_at_bottom) {
  volatile char frame[1024];
  frame[0] = static_cast<char>(depth);
  if (depth == 0) {
    if (yield_at_bottom) gofer::yield();
    return frame[0];
  }
  return recurse(depth - 1, yield_at_bottom) + frame[0];
}

TEST(StackDeathTest, OverflowOnAGuardedStackNamesTheGoroutine) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_DEATH(gofer::run([] {
    gofer::go([] { recurse(1000, false); });
    for (;;) gofer::yield();
  }, {.procs = 1}),
               "goroutine [0-9]+: stack overflow");
}

TEST(StackDeathTest, OverflowOnASlabStackTripsTheCanary) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_DEATH(gofer::run([] {
    // Use up the guarded stacks (the budget is max_map_count / 16), parking
    // each goroutine so that its stack stays taken.
    std::mutex mu;
    std::vector<rt::G*> parked;
    for (int i = 0; i < 70000 / 16 + 2; ++i) {
      gofer::go([&] {
        mu.lock();
        parked.push_back(rt::current_g());
        rt::park_unlock(mu, rt::WaitReason::semaphore);
      });
    }
    gofer::yield();
    // This goroutine's stack is from a slab with a stack right below it:
    // 300 KiB of frames run through its own 256 KiB and into the
    // neighbour's canary; the check at the next switch stops the program.
    gofer::go([] { recurse(300, true); });
    for (;;) gofer::yield();
  }, {.procs = 1}),
               "goroutine [0-9]+: stack overflow");
}

}  // namespace
