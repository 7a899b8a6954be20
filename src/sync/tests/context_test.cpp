// Context: the behaviours of Go's context package (context_test.go).
#include "gofer/context.h"

#include <gtest/gtest.h>

#include <atomic>
#include <string>
#include <vector>

#include "gofer/chan.h"
#include "gofer/runtime.h"
#include "gofer/sync.h"
#include "gofer/time.h"
#include "test_util.h"

namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;
using gofer::Context;
using gofer::context_errc;
using gofer::testing::eventually;
using gofer::testing::settle;

bool is_done(const Context& ctx) {
  return gofer::select(gofer::recv_case(ctx.done()), gofer::default_case()) == 0;
}

// Go TestBackground: never done, no error, no deadline, no values; its Done
// channel is nil.
TEST(Context, Background) {
  gofer::run([] {
    Context bg = gofer::background();
    EXPECT_FALSE(bg.done());
    EXPECT_FALSE(is_done(bg));
    EXPECT_FALSE(bg.err());
    EXPECT_FALSE(bg.deadline().has_value());
    static const gofer::ContextKey<int> key;
    EXPECT_EQ(bg.value(key), nullptr);
    EXPECT_TRUE(Context() == bg);
    EXPECT_TRUE(gofer::todo() == bg);
  });
}

// Go TestWithCancel: cancel closes Done and sets Err to Canceled, once.
TEST(Context, WithCancel) {
  gofer::run([] {
    auto [ctx, cancel] = gofer::with_cancel(gofer::background());
    EXPECT_TRUE(ctx.done());
    EXPECT_TRUE(ctx.done() == ctx.done());  // the same channel every time
    EXPECT_FALSE(is_done(ctx));
    EXPECT_FALSE(ctx.err());
    std::atomic<bool> woke{false};
    gofer::go([&, ctx = ctx] {
      (void)ctx.done().recv();
      woke = true;
    });
    settle();
    EXPECT_FALSE(woke.load());
    cancel();
    EXPECT_TRUE(eventually([&] { return woke.load(); }));
    EXPECT_TRUE(is_done(ctx));
    EXPECT_EQ(ctx.err(), context_errc::canceled);
    EXPECT_EQ(ctx.err().message(), "context canceled");
    cancel();  // idempotent
    EXPECT_EQ(ctx.err(), context_errc::canceled);
    gofer::CancelFunc noop;
    noop();
  });
}

// Go TestParentFinishesChild: cancelling a parent cancels its whole subtree
// with the parent's error; cancelling a child leaves parent and siblings.
TEST(Context, CancelPropagatesDown) {
  gofer::run([] {
    auto [parent, cancel_parent] = gofer::with_cancel(gofer::background());
    auto [child1, cancel1] = gofer::with_cancel(parent);
    auto [child2, cancel2] = gofer::with_cancel(parent);
    static const gofer::ContextKey<std::string> key;
    Context valued = gofer::with_value(child2, key, "v");
    auto [grandchild, cancel_grand] = gofer::with_cancel(valued);  // under a value node

    cancel1();
    EXPECT_EQ(child1.err(), context_errc::canceled);
    EXPECT_FALSE(parent.err());
    EXPECT_FALSE(child2.err());
    EXPECT_FALSE(grandchild.err());

    cancel_parent();
    EXPECT_TRUE(is_done(parent));
    EXPECT_TRUE(is_done(child2));
    EXPECT_TRUE(is_done(valued));
    EXPECT_TRUE(is_done(grandchild));
    EXPECT_EQ(grandchild.err(), context_errc::canceled);
    EXPECT_EQ(valued.err(), context_errc::canceled);
    cancel2();
    cancel_grand();
  });
}

// Go: a child of an already cancelled parent is cancelled at once.
TEST(Context, ChildOfCancelledParent) {
  gofer::run([] {
    auto [parent, cancel] = gofer::with_cancel(gofer::background());
    cancel();
    auto [child, cancel_child] = gofer::with_cancel(parent);
    EXPECT_TRUE(is_done(child));
    EXPECT_EQ(child.err(), context_errc::canceled);
    auto [timed, cancel_timed] = gofer::with_timeout(parent, 1h);
    EXPECT_EQ(timed.err(), context_errc::canceled);
    cancel_child();
    cancel_timed();
  });
}

// Go TestWithTimeout / TestDeadline: Done closes after the timeout with
// DeadlineExceeded; Deadline reports it.
TEST(Context, WithTimeout) {
  gofer::run([] {
    const auto start = Clock::now();
    auto [ctx, cancel] = gofer::with_timeout(gofer::background(), 10ms);
    ASSERT_TRUE(ctx.deadline().has_value());
    EXPECT_GE(*ctx.deadline(), start + 10ms);
    // Not expired yet, unless a loaded machine got here after the deadline.
    const auto err = ctx.err();
    if (Clock::now() < *ctx.deadline()) {
      EXPECT_FALSE(err) << err.message();
    }
    (void)ctx.done().recv();
    EXPECT_GE(Clock::now() - start, 10ms);
    EXPECT_EQ(ctx.err(), context_errc::deadline_exceeded);
    EXPECT_EQ(ctx.err().message(), "context deadline exceeded");
    cancel();  // after expiry: keeps deadline_exceeded
    EXPECT_EQ(ctx.err(), context_errc::deadline_exceeded);
  });
}

// Go: a deadline in the past gives a context cancelled at birth.
TEST(Context, DeadlineInThePast) {
  gofer::run([] {
    auto [ctx, cancel] = gofer::with_deadline(gofer::background(), Clock::now() - 1s);
    EXPECT_TRUE(is_done(ctx));
    EXPECT_EQ(ctx.err(), context_errc::deadline_exceeded);
    cancel();
  });
}

// Go: cancel before the deadline wins (Canceled), and the timer is stopped.
TEST(Context, CancelBeforeDeadline) {
  gofer::run([] {
    // 200 ms: cancel() comes first even on a loaded machine.
    auto [ctx, cancel] = gofer::with_timeout(gofer::background(), 200ms);
    cancel();
    EXPECT_EQ(ctx.err(), context_errc::canceled);
    gofer::sleep_for(300ms);  // past the deadline: still canceled
    EXPECT_EQ(ctx.err(), context_errc::canceled);
  });
}

// Go: a later deadline under an earlier one keeps the parent's deadline
// (WithDeadline returns WithCancel); the parent's expiry cancels the child
// with DeadlineExceeded.
TEST(Context, ParentDeadlineWins) {
  gofer::run([] {
    // 500 ms: the parent must still be alive when the 1 ms child has fired,
    // even on a loaded machine under TSan (10 ms was flaky there).
    auto [parent, cancel_parent] = gofer::with_timeout(gofer::background(), 500ms);
    auto [child, cancel_child] = gofer::with_timeout(parent, 1h);
    EXPECT_EQ(child.deadline(), parent.deadline());
    auto [sooner, cancel_sooner] = gofer::with_timeout(parent, 1ms);
    EXPECT_LT(*sooner.deadline(), *parent.deadline());
    (void)sooner.done().recv();
    EXPECT_EQ(sooner.err(), context_errc::deadline_exceeded);
    EXPECT_FALSE(parent.err());
    (void)child.done().recv();
    EXPECT_EQ(child.err(), context_errc::deadline_exceeded);
    EXPECT_EQ(parent.err(), context_errc::deadline_exceeded);
    cancel_child();
    cancel_sooner();
    cancel_parent();
  });
}

// Go TestValues: lookups walk up the chain; a nearer key shadows; keys are
// distinct objects even with the same type; values pass cancel nodes.
TEST(Context, Values) {
  gofer::run([] {
    static const gofer::ContextKey<std::string> k1;
    static const gofer::ContextKey<std::string> k2;
    static const gofer::ContextKey<int> k3;
    Context c1 = gofer::with_value(gofer::background(), k1, "c1k1");
    Context c2 = gofer::with_value(c1, k2, "c2k2");
    auto [c3, cancel] = gofer::with_cancel(c2);
    Context c4 = gofer::with_value(c3, k1, std::string("c4k1"));
    Context c5 = gofer::with_value(c4, k3, 5);
    EXPECT_EQ(*c1.value(k1), "c1k1");
    EXPECT_EQ(c1.value(k2), nullptr);
    EXPECT_EQ(*c3.value(k2), "c2k2");
    EXPECT_EQ(*c3.value(k1), "c1k1");
    EXPECT_EQ(*c4.value(k1), "c4k1");
    EXPECT_EQ(*c5.value(k3), 5);
    EXPECT_EQ(*c5.value(k2), "c2k2");
    EXPECT_EQ(c3.value(k3), nullptr);
    cancel();
    EXPECT_EQ(c5.err(), context_errc::canceled);
  });
}

// A child dropped without cancel unlinks itself; cancelling the parent
// afterwards must not touch it (ASan checks), and the others still get it.
TEST(Context, DroppedChildrenAreUnlinked) {
  gofer::run([] {
    auto [parent, cancel_parent] = gofer::with_cancel(gofer::background());
    std::vector<Context> kept;
    for (int i = 0; i < 100; ++i) {
      auto [child, cancel] = gofer::with_timeout(parent, 1h);
      if (i % 2 == 0) kept.push_back(child);
      // cancel dropped without being called for odd children
    }
    cancel_parent();
    for (auto& c : kept) EXPECT_EQ(c.err(), context_errc::canceled);
  });
}

// done() works in select beside other work (the usual worker loop).
TEST(Context, WorkerStopsOnCancel) {
  gofer::run([] {
    auto [ctx, cancel] = gofer::with_cancel(gofer::background());
    auto jobs = gofer::make_chan<int>();
    std::atomic<int> handled{0};
    gofer::WaitGroup wg;
    wg.add(1);
    gofer::go([&, ctx = ctx] {
      bool running = true;
      while (running) {
        gofer::select(gofer::recv_case(jobs, [&](int) { ++handled; }),
                      gofer::recv_case(ctx.done(), [&] { running = false; }));
      }
      wg.done();
    });
    for (int i = 0; i < 10; ++i) jobs.send(i);
    cancel();
    wg.wait();
    EXPECT_EQ(handled.load(), 10);
  });
}

// Go TestAfterFuncCalledAfterCancel / TestAfterFuncNotCalledAfterStop:
// f runs on its own goroutine once the context is done, exactly once; a
// stop() before that keeps it from running and says so; after it, stop()
// says f was started.
TEST(Context, AfterFunc) {
  gofer::run([] {
    auto [ctx, cancel] = gofer::with_cancel(gofer::background());
    std::atomic<int> runs{0};
    std::atomic<std::uint64_t> ran_on{0};
    gofer::AfterFuncStop stop = gofer::after_func(ctx, [&] {
      ran_on = gofer::this_goroutine_id();
      ++runs;
    });
    settle();
    EXPECT_EQ(runs.load(), 0);
    cancel();
    EXPECT_TRUE(eventually([&] { return runs.load() == 1; }));
    EXPECT_NE(ran_on.load(), gofer::this_goroutine_id());
    EXPECT_FALSE(stop.stop());  // already started
    cancel();
    settle();
    EXPECT_EQ(runs.load(), 1);

    auto [ctx2, cancel2] = gofer::with_cancel(gofer::background());
    gofer::AfterFuncStop stop2 = gofer::after_func(ctx2, [&] { ++runs; });
    EXPECT_TRUE(stop2.stop());
    EXPECT_FALSE(stop2.stop());  // Go: a second stop reports false
    cancel2();
    settle();
    EXPECT_EQ(runs.load(), 1);
    EXPECT_EQ(ctx2.err(), context_errc::canceled);
  });
}

// Go TestAfterFuncCalledImmediately: a context already done starts f at
// once; a deadline starts it when it passes; a context that can never be
// done registers nothing (stop() has nothing to stop).
TEST(Context, AfterFuncDoneAlreadyDeadlineAndNever) {
  gofer::run([] {
    auto [done_ctx, cancel] = gofer::with_cancel(gofer::background());
    cancel();
    std::atomic<int> runs{0};
    auto stop = gofer::after_func(done_ctx, [&] { ++runs; });
    EXPECT_TRUE(eventually([&] { return runs.load() == 1; }));
    EXPECT_FALSE(stop.stop());

    auto [timed, cancel_timed] = gofer::with_timeout(gofer::background(), 20ms);
    auto stop_timed = gofer::after_func(timed, [&] { ++runs; });
    EXPECT_TRUE(eventually([&] { return runs.load() == 2; }));
    EXPECT_EQ(timed.err(), context_errc::deadline_exceeded);
    cancel_timed();

    auto never = gofer::after_func(gofer::background(), [&] { ++runs; });
    EXPECT_TRUE(never.stop());
    settle();
    EXPECT_EQ(runs.load(), 2);
  });
}

// A stopped after_func leaves no link behind in its parent (the parent's
// cancel walks no stale node) and does not cancel the parent; a dropped
// handle unregisters f the same way (our rule, not Go's).
TEST(Context, AfterFuncStopLeavesParentAlone) {
  gofer::run([] {
    auto [ctx, cancel] = gofer::with_cancel(gofer::background());
    std::atomic<int> runs{0};
    for (int i = 0; i < 1000; ++i) {
      auto stop = gofer::after_func(ctx, [&] { ++runs; });
      EXPECT_TRUE(stop.stop());
      auto dropped = gofer::after_func(ctx, [&] { ++runs; });
    }
    EXPECT_FALSE(ctx.err());
    cancel();
    settle();
    EXPECT_EQ(runs.load(), 0);
  });
}

// Stress: children created, cancelled and dropped concurrently over all Ps
// while deadlines fire and the root is finally cancelled.
TEST(ContextStress, ConcurrentTree) {
  gofer::run([] {
    auto [root, cancel_root] = gofer::with_cancel(gofer::background());
    gofer::WaitGroup wg;
    std::atomic<int> wrong{0};
    for (int g = 0; g < 16; ++g) {
      wg.add(1);
      gofer::go([&, g, root = root] {
        for (int i = 0; i < 300; ++i) {
          auto [child, cancel] = (i % 3 == 0)
                                     ? gofer::with_timeout(root, std::chrono::microseconds(i % 50))
                                     : gofer::with_cancel(root);
          gofer::WithCancel grand = gofer::with_cancel(child);
          if ((i + g) % 2 == 0) cancel();
          // A cancelled child's subtree is cancelled by the time cancel()
          // returns (or the timer's cancel finished).
          if (child.err() && !eventually([&] { return bool(grand.ctx.err()); })) ++wrong;
          if (i % 10 == 0) gofer::yield();
          grand.cancel();
        }
        wg.done();
      });
    }
    auto [late, cancel_late] = gofer::with_cancel(root);
    wg.wait();
    cancel_root();
    EXPECT_EQ(late.err(), context_errc::canceled);
    EXPECT_EQ(wrong.load(), 0);
  });
}

}  // namespace
