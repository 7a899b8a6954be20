// Invariant 4 in docs/design.md: a goroutine resumes on whatever thread runs it
// next; code must not keep a thread-local address across a switch. Built at
// -O2 (this target always is), so a cached TLS address would show here.
#include <gtest/gtest.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <exception>
#include <stdexcept>

#include "gofer/runtime.h"
#include "runtime/park.h"
#include "runtime/timer.h"

namespace {


// Not pthread_self(): glibc declares it __attribute__((const)), so the
// compiler may legally reuse its value across a switch — the very pitfall
// this file is about.
long thread_id() { return ::syscall(SYS_gettid); }

TEST(Migration, GoroutineSeesTheCurrentThreadsStateAfterEachSwitch) {
  std::atomic<long> migrations{0};
  std::atomic<long> mismatches{0};
  gofer::run([&] {
    std::atomic<int> done{0};
    constexpr int kG = 64;
    for (int i = 0; i < kG; ++i) {
      gofer::go([&] {
        std::uint64_t me = gofer::this_goroutine_id();
        long last = thread_id();
        for (int k = 0; k < 2000; ++k) {
          // Every way a goroutine leaves its thread: yield, a sleep whose
          // timer any M may fire, and blocking(), which hands the P away.
          if (k % 50 == 0) {
            gofer::runtime::sleep_until_ns(gofer::runtime::nanotime() + 100'000);
          } else if (k % 50 == 25) {
            gofer::blocking([] {});
          } else {
            gofer::yield();
          }
          // A fresh read of the thread-local of the thread we are on now.
          if (gofer::this_goroutine_id() != me) mismatches.fetch_add(1);
          long now = thread_id();
          if (now != last) migrations.fetch_add(1);
          last = now;
        }
        done.fetch_add(1);
      });
    }
    while (done.load() < kG) gofer::yield();
  }, {.procs = 2});
  EXPECT_EQ(mismatches.load(), 0);
  // Not a timing assertion: with 64 goroutines yielding over 2 Ps, work
  // stealing moves some of them; if none moved, the test proved nothing.
  EXPECT_GT(migrations.load(), 0);
}

// Pitfall 9 (docs/design.md): the caught-exception state is per thread in the C++ runtime; a
// goroutine that parks inside a catch block and resumes elsewhere must still
// see its own exception.
TEST(Migration, ExceptionStateTravelsWithTheGoroutine) {
  std::atomic<int> ok{0};
  gofer::run([&] {
    std::atomic<int> done{0};
    constexpr int kG = 32;
    for (int i = 0; i < kG; ++i) {
      gofer::go([&, i] {
        try {
          throw std::runtime_error(std::to_string(i));
        } catch (const std::exception&) {
          for (int k = 0; k < 50; ++k) gofer::yield();
          try {
            throw;  // rethrows the exception this goroutine is handling
          } catch (const std::runtime_error& e) {
            if (e.what() == std::to_string(i)) ok.fetch_add(1);
          }
        }
        if (std::uncaught_exceptions() == 0) ok.fetch_add(1);
        done.fetch_add(1);
      });
    }
    while (done.load() < kG) gofer::yield();
  }, {.procs = 2});
  EXPECT_EQ(ok.load(), 64);
}

}  // namespace
