// Mutex, RWMutex, WaitGroup, Once, Cond, Semaphore: the behaviours of Go's
// sync package tests (mutex_test.go, rwmutex_test.go, waitgroup_test.go,
// once_test.go, cond_test.go) and of golang.org/x/sync/semaphore.
#include "gofer/sync.h"

#include <gtest/gtest.h>

#include <atomic>
#include <mutex>
#include <shared_mutex>
#include <stdexcept>
#include <vector>

#include "gofer/chan.h"
#include "gofer/runtime.h"
#include "gofer/time.h"
#include "test_util.h"

namespace {

using gofer::testing::eventually;
using gofer::testing::settle;
using namespace std::chrono_literals;

// ---------------------------------------------------------------------------
// Mutex

// Go TestMutex: a counter protected by a Mutex, heavily contended.
TEST(Mutex, ProtectsCounter1000x1000) {
  gofer::run([] {
    gofer::Mutex mu;
    long counter = 0;  // guarded by mu
    gofer::WaitGroup wg;
    for (int g = 0; g < 1000; ++g) {
      wg.add(1);
      gofer::go([&] {
        for (int i = 0; i < 1000; ++i) {
          std::lock_guard lock(mu);
          ++counter;
        }
        wg.done();
      });
    }
    wg.wait();
    std::lock_guard lock(mu);
    EXPECT_EQ(counter, 1000L * 1000);
  });
}

// Critical sections that park while holding the mutex (waiters must park,
// not spin, and be woken one by one).
TEST(Mutex, HoldersThatPark) {
  gofer::run([] {
    gofer::Mutex mu;
    int inside = 0;  // guarded by mu
    std::atomic<int> overlap{0};
    gofer::WaitGroup wg;
    for (int g = 0; g < 50; ++g) {
      wg.add(1);
      gofer::go([&] {
        for (int i = 0; i < 10; ++i) {
          std::unique_lock lock(mu);
          if (++inside != 1) ++overlap;
          gofer::sleep_for(50us);
          --inside;
        }
        wg.done();
      });
    }
    wg.wait();
    EXPECT_EQ(overlap.load(), 0);
  });
}

// Go TestMutexMisuse-adjacent: try_lock semantics.
TEST(Mutex, TryLock) {
  gofer::run([] {
    gofer::Mutex mu;
    EXPECT_TRUE(mu.try_lock());
    EXPECT_FALSE(mu.try_lock());
    std::atomic<bool> other{true};
    gofer::go([&] { other = mu.try_lock(); });
    EXPECT_TRUE(eventually([&] { return !other.load(); }));
    mu.unlock();
    EXPECT_TRUE(mu.try_lock());
    mu.unlock();
  });
}

// Go TestMutexFairness: a goroutine that locks repeatedly cannot starve
// another one (starvation mode hands the mutex over).
TEST(Mutex, Fairness) {
  gofer::run([] {
    gofer::Mutex mu;
    std::atomic<bool> stop{false};
    gofer::WaitGroup hog_done;
    hog_done.add(1);
    gofer::go([&] {
      while (!stop.load()) {
        mu.lock();
        gofer::sleep_for(100us);
        mu.unlock();
      }
      hog_done.done();
    });
    auto done = gofer::make_chan<bool>(1);
    gofer::go([&, done] {
      for (int i = 0; i < 10; ++i) {
        gofer::sleep_for(100us);
        mu.lock();
        mu.unlock();
      }
      done.send(true);
    });
    bool timed_out = false;
    gofer::select(gofer::recv_case(done),
                  gofer::recv_case(gofer::after(10s), [&] { timed_out = true; }));
    EXPECT_FALSE(timed_out) << "can't acquire Mutex in 10 seconds";
    stop = true;
    hog_done.wait();
  });
}

// Go: the goroutine that unlocks need not be the one that locked.
TEST(Mutex, UnlockFromAnotherGoroutine) {
  gofer::run([] {
    gofer::Mutex mu;
    mu.lock();
    auto unlocked = gofer::make_chan<int>();
    gofer::go([&, unlocked] {
      mu.unlock();
      unlocked.send(1);
    });
    (void)unlocked.recv();
    mu.lock();  // would park forever if the unlock were lost
    mu.unlock();
  });
}

// Go: "fatal error: sync: unlock of unlocked mutex".
TEST(MutexDeathTest, UnlockOfUnlocked) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_DEATH(gofer::run([] {
                 gofer::Mutex mu;
                 mu.unlock();
               }),
               "sync: unlock of unlocked mutex");
}

// ---------------------------------------------------------------------------
// RWMutex

// Go TestParallelReadLocks: readers do not exclude each other.
TEST(RWMutex, ReadersShare) {
  gofer::run([] {
    gofer::RWMutex rw;
    constexpr int kReaders = 10;
    std::atomic<int> inside{0};
    gofer::WaitGroup wg;
    for (int i = 0; i < kReaders; ++i) {
      wg.add(1);
      gofer::go([&] {
        std::shared_lock lock(rw);
        ++inside;
        // Every reader waits inside until all are inside at once.
        EXPECT_TRUE(eventually([&] { return inside.load() == kReaders; }));
        wg.done();
      });
    }
    wg.wait();
  });
}

// Go TestRWMutex (HammerRWMutex): writers exclude everyone, readers exclude
// writers, across all Ps.
TEST(RWMutex, ReadersWritersExclusion) {
  gofer::run([] {
    gofer::RWMutex rw;
    std::atomic<int> readers{0}, writers{0}, violations{0};
    long value = 0;  // guarded by rw
    gofer::WaitGroup wg;
    for (int g = 0; g < 40; ++g) {
      wg.add(1);
      const bool writer = g % 4 == 0;
      gofer::go([&, writer, g] {
        for (int i = 0; i < 500; ++i) {
          if (writer) {
            std::lock_guard lock(rw);
            if (writers.fetch_add(1) != 0 || readers.load() != 0) ++violations;
            ++value;
            if (i % 50 == 0) gofer::yield();
            writers.fetch_sub(1);
          } else {
            rw.rlock();
            readers.fetch_add(1);
            if (writers.load() != 0) ++violations;
            (void)value;
            if ((i + g) % 50 == 0) gofer::yield();
            readers.fetch_sub(1);
            rw.runlock();
          }
        }
        wg.done();
      });
    }
    wg.wait();
    EXPECT_EQ(violations.load(), 0);
    EXPECT_EQ(value, 10L * 500);
  });
}

// Go: a blocked writer keeps new readers out (writer preference), and gets
// the lock once the readers inside leave.
TEST(RWMutex, PendingWriterBlocksNewReaders) {
  gofer::run([] {
    gofer::RWMutex rw;
    rw.lock_shared();
    std::atomic<bool> wrote{false};
    gofer::go([&] {
      rw.lock();
      wrote = true;
      rw.unlock();
    });
    // Wait until the writer is really pending: new readers are then kept
    // out (a probe that gets in lets go at once).
    EXPECT_TRUE(eventually([&] {
      if (!rw.try_lock_shared()) return true;
      rw.unlock_shared();
      return false;
    }));
    EXPECT_FALSE(wrote.load());
    EXPECT_FALSE(rw.try_lock_shared());  // a writer is pending
    EXPECT_FALSE(rw.try_lock());
    rw.unlock_shared();
    EXPECT_TRUE(eventually([&] { return wrote.load(); }));
    EXPECT_TRUE(rw.try_rlock());
    EXPECT_FALSE(rw.try_lock());
    rw.runlock();
    EXPECT_TRUE(rw.try_lock());
    EXPECT_FALSE(rw.try_rlock());
    rw.unlock();
  });
}

// Readers that arrived while a writer was active all run when it unlocks.
TEST(RWMutex, WriterUnlockReleasesWaitingReaders) {
  gofer::run([] {
    gofer::RWMutex rw;
    rw.lock();
    std::atomic<int> read{0};
    gofer::WaitGroup wg;
    for (int i = 0; i < 20; ++i) {
      wg.add(1);
      gofer::go([&] {
        rw.rlock();
        ++read;
        rw.runlock();
        wg.done();
      });
    }
    settle();
    EXPECT_EQ(read.load(), 0);
    rw.unlock();
    wg.wait();
    EXPECT_EQ(read.load(), 20);
  });
}

TEST(RWMutexDeathTest, Misuse) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_DEATH(gofer::run([] {
                 gofer::RWMutex rw;
                 rw.runlock();
               }),
               "sync: RUnlock of unlocked RWMutex");
  EXPECT_DEATH(gofer::run([] {
                 gofer::RWMutex rw;
                 rw.unlock();
               }),
               "sync: Unlock of unlocked RWMutex");
}

// ---------------------------------------------------------------------------
// WaitGroup

// Go TestWaitGroup, at scale: 100,000 goroutines.
TEST(WaitGroup, HundredThousandGoroutines) {
  gofer::run([] {
    constexpr int kGoroutines = 100000;
    gofer::WaitGroup wg;
    std::atomic<int> ran{0};
    for (int i = 0; i < kGoroutines; ++i) {
      wg.add(1);
      gofer::go([&] {
        ran.fetch_add(1, std::memory_order_relaxed);
        wg.done();
      });
    }
    wg.wait();
    EXPECT_EQ(ran.load(), kGoroutines);
  });
}

// Go TestWaitGroup: several waiters, and reuse for a second round.
TEST(WaitGroup, ManyWaitersAndReuse) {
  gofer::run([] {
    gofer::WaitGroup wg;
    wg.wait();  // zero counter: returns at once
    for (int round = 0; round < 3; ++round) {
      constexpr int kWaiters = 8;
      gofer::WaitGroup waiters_done;
      std::atomic<int> released{0};
      wg.add(4);
      for (int w = 0; w < kWaiters; ++w) {
        waiters_done.add(1);
        gofer::go([&] {
          wg.wait();
          ++released;
          waiters_done.done();
        });
      }
      settle(5ms);
      EXPECT_EQ(released.load(), 0);
      for (int i = 0; i < 4; ++i) {
        gofer::go([&] { wg.done(); });
      }
      waiters_done.wait();
      EXPECT_EQ(released.load(), kWaiters);
    }
  });
}

// Go: "sync: negative WaitGroup counter" (a panic in Go; fatal here).
// Go's usage: the waiter may free the WaitGroup as soon as wait() returns,
// while the goroutine whose done() released it is still inside done(). The
// releaser must not touch the object after handing out the wakeup (Go keeps
// semaphore waiters in a global table for this). Under ASan a releaser that
// touched the freed object is reported — when the interleaving happens,
// which on two cores is rare: this is a guard, not a proof.
TEST(WaitGroup, WaiterFreesItAsSoonAsWaitReturns) {
  gofer::run([] {
    for (int i = 0; i < 20000; ++i) {
      auto* wg = new gofer::WaitGroup;
      wg->add(1);
      gofer::go([wg] { wg->done(); });
      for (int spin = 0; spin < i % 64; ++spin)
        asm volatile("" ::: "memory");  // vary who comes first
      wg->wait();
      delete wg;
    }
  });
}

TEST(WaitGroupDeathTest, NegativeCounter) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_DEATH(gofer::run([] {
                 gofer::WaitGroup wg;
                 wg.add(1);
                 wg.done();
                 wg.done();
               }),
               "sync: negative WaitGroup counter");
}

// ---------------------------------------------------------------------------
// Once

// Go TestOnce: f runs once; concurrent callers return only after it did.
TEST(Once, RunsOnceAndCallersWait) {
  gofer::run([] {
    gofer::Once once;
    std::atomic<int> calls{0};
    std::atomic<bool> finished{false};
    std::atomic<int> early{0};
    gofer::WaitGroup wg;
    for (int i = 0; i < 100; ++i) {
      wg.add(1);
      gofer::go([&] {
        once.call([&] {
          ++calls;
          gofer::sleep_for(5ms);
          finished = true;
        });
        if (!finished.load()) ++early;
        wg.done();
      });
    }
    wg.wait();
    EXPECT_EQ(calls.load(), 1);
    EXPECT_EQ(early.load(), 0);
  });
}

// Go TestOncePanic: if f panics, Do propagates it and counts as done.
TEST(Once, ThrowingCallCountsAsDone) {
  gofer::run([] {
    gofer::Once once;
    EXPECT_THROW(once.call([] { throw std::runtime_error("boom"); }), std::runtime_error);
    bool ran = false;
    once.call([&] { ran = true; });
    EXPECT_FALSE(ran);
  });
}

// ---------------------------------------------------------------------------
// Cond

// Go TestCondSignal / TestCondBroadcast.
TEST(Cond, SignalWakesOneBroadcastWakesAll) {
  gofer::run([] {
    gofer::Mutex mu;
    gofer::Cond cond;
    int generation = 0;  // guarded by mu
    int waiting = 0;     // guarded by mu
    std::atomic<int> woken{0};
    constexpr int kWaiters = 10;
    gofer::WaitGroup wg;
    for (int i = 0; i < kWaiters; ++i) {
      wg.add(1);
      gofer::go([&] {
        std::unique_lock lock(mu);
        ++waiting;  // and queued on cond before mu is released
        while (generation == 0) cond.wait(lock);
        ++woken;
        wg.done();
      });
    }
    EXPECT_TRUE(eventually([&] {
      std::lock_guard lock(mu);
      return waiting == kWaiters;
    }));
    {
      std::lock_guard lock(mu);
      ++generation;
    }
    cond.signal();
    EXPECT_TRUE(eventually([&] { return woken.load() >= 1; }));
    settle();
    EXPECT_EQ(woken.load(), 1);  // no spurious wakeups
    cond.broadcast();
    wg.wait();
    EXPECT_EQ(woken.load(), kWaiters);
    cond.signal();  // no waiters: a no-op
    cond.broadcast();
  });
}

// A producer/consumer queue on Cond; wait(lock, predicate).
TEST(Cond, ProducerConsumer) {
  gofer::run([] {
    gofer::Mutex mu;
    gofer::Cond not_empty;
    std::vector<int> queue;  // guarded by mu
    bool closed = false;     // guarded by mu
    std::atomic<long> sum{0};
    gofer::WaitGroup consumers;
    for (int c = 0; c < 4; ++c) {
      consumers.add(1);
      gofer::go([&] {
        for (;;) {
          std::unique_lock lock(mu);
          not_empty.wait(lock, [&] { return !queue.empty() || closed; });
          if (queue.empty()) break;
          sum += queue.back();
          queue.pop_back();
        }
        consumers.done();
      });
    }
    for (int i = 1; i <= 10000; ++i) {
      {
        std::lock_guard lock(mu);
        queue.push_back(i);
      }
      not_empty.signal();
      if (i % 100 == 0) gofer::yield();
    }
    {
      std::lock_guard lock(mu);
      closed = true;
    }
    not_empty.broadcast();
    consumers.wait();
    EXPECT_EQ(sum.load(), 10000L * 10001 / 2);
  });
}

// ---------------------------------------------------------------------------
// Semaphore

// x/sync TestWeighted: the bound is never exceeded under contention.
TEST(Semaphore, BoundNeverExceeded) {
  gofer::run([] {
    constexpr std::int64_t kSize = 5;
    gofer::Semaphore sem(kSize);
    std::atomic<std::int64_t> held{0};
    std::atomic<std::int64_t> max_held{0};
    std::atomic<int> violations{0};
    gofer::WaitGroup wg;
    for (int g = 0; g < 100; ++g) {
      wg.add(1);
      gofer::go([&, g] {
        const std::int64_t n = 1 + g % 3;
        for (int i = 0; i < 50; ++i) {
          sem.acquire(n);
          const std::int64_t now = held.fetch_add(n) + n;
          if (now > kSize) ++violations;
          std::int64_t m = max_held.load();
          while (now > m && !max_held.compare_exchange_weak(m, now)) {
          }
          if (i % 10 == 0) gofer::sleep_for(10us);
          held.fetch_sub(n);
          sem.release(n);
        }
        wg.done();
      });
    }
    wg.wait();
    EXPECT_EQ(violations.load(), 0);
    EXPECT_LE(max_held.load(), kSize);
    EXPECT_TRUE(sem.try_acquire(kSize));  // everything was released
    sem.release(kSize);
  });
}

// x/sync TestWeightedTryAcquire.
TEST(Semaphore, TryAcquire) {
  gofer::run([] {
    gofer::Semaphore sem(2);
    EXPECT_TRUE(sem.try_acquire(1));
    EXPECT_TRUE(sem.try_acquire(1));
    EXPECT_FALSE(sem.try_acquire(1));
    sem.release(1);
    EXPECT_FALSE(sem.try_acquire(2));
    EXPECT_TRUE(sem.try_acquire(1));
    sem.release(2);
    EXPECT_TRUE(sem.try_acquire(0));
  });
}

// x/sync TestLargeAcquireDoesntStarve / FIFO: a large request at the head
// of the queue blocks smaller later ones, and is served first.
TEST(Semaphore, FifoLargeRequestNotStarved) {
  gofer::run([] {
    gofer::Semaphore sem(4);
    sem.acquire(3);  // 1 unit left
    auto order = gofer::make_chan<int>(2);
    gofer::go([&, order] {
      sem.acquire(4);  // queues at the head
      order.send(4);
      sem.release(4);
    });
    // Wait until acquire(4) is queued: the free unit is then out of reach
    // (a probe that gets it before gives it back at once).
    EXPECT_TRUE(eventually([&] {
      if (!sem.try_acquire(1)) return true;
      sem.release(1);
      return false;
    }));
    // A small request that would fit is not allowed to jump the queue.
    EXPECT_FALSE(sem.try_acquire(1));
    gofer::go([&, order] {
      sem.acquire(1);
      order.send(1);
      sem.release(1);
    });
    settle();
    EXPECT_EQ(order.len(), 0u);
    sem.release(3);
    EXPECT_EQ(order.recv().value, 4);
    EXPECT_EQ(order.recv().value, 1);
  });
}

// error.h's policy: the count is wrong already when releasing more than
// held is seen, so it is fatal (x/sync panics).
TEST(SemaphoreDeathTest, ReleaseMoreThanHeld) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_DEATH(gofer::run([] {
                 gofer::Semaphore sem(1);
                 sem.release(1);
               }),
               "semaphore: released more than held");
}

// error.h's policy: a weight that can never be granted, or a negative one,
// is refused before anything changes: std::invalid_argument (Go's panic),
// and the semaphore works on.
TEST(Semaphore, ImpossibleWeightsThrowAndChangeNothing) {
  gofer::run([] {
    gofer::Semaphore sem(1);
    EXPECT_THROW(sem.acquire(2), std::invalid_argument);
    EXPECT_THROW(sem.acquire(-1), std::invalid_argument);
    EXPECT_THROW((void)sem.try_acquire(-1), std::invalid_argument);
    EXPECT_THROW(sem.release(-1), std::invalid_argument);
    EXPECT_TRUE(sem.try_acquire(1));
    EXPECT_FALSE(sem.try_acquire(1));
    sem.release(1);
    sem.acquire(1);
    sem.release(1);
  });
}

}  // namespace
