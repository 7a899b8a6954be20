// Helpers shared by the sync/chan/time/context tests.
#pragma once

#include <gtest/gtest.h>

#include <chrono>
#include <functional>

#include "gofer/runtime.h"
#include "gofer/time.h"

namespace gofer::testing {

// Polls `cond` (yielding the goroutine between tries) until it holds; fails
// the test after a deadline that is generous on purpose (a bound, never a
// timing assertion).
inline bool eventually(const std::function<bool()>& cond,
                       std::chrono::milliseconds limit = std::chrono::seconds(20)) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (!cond()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    gofer::sleep_for(std::chrono::microseconds(200));
  }
  return true;
}

// Lets other goroutines run for a while (for "nothing happens" checks).
inline void settle(std::chrono::milliseconds d = std::chrono::milliseconds(20)) {
  gofer::sleep_for(d);
}

}  // namespace gofer::testing
