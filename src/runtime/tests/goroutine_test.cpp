#include <gtest/gtest.h>

#include <atomic>

#include "gofer/runtime.h"

TEST(Goroutine, RunsMainAndReturns) {
  bool ran = false;
  gofer::run([&] { ran = true; });
  EXPECT_TRUE(ran);
}

TEST(Goroutine, SpawnManyAndYield) {
  std::atomic<int> done{0};
  gofer::run([&] {
    for (int i = 0; i < 1000; ++i) gofer::go([&] { gofer::yield(); done.fetch_add(1); });
    while (done.load() < 1000) gofer::yield();
  });
  EXPECT_EQ(done.load(), 1000);
}
