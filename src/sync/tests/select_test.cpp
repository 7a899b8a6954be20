// select: the behaviours of Go's select statement (runtime/select.go and
// the spec's "Select statements") and of reflect.Select.
#include <gtest/gtest.h>

#include <atomic>
#include <memory>
#include <vector>

#include "gofer/chan.h"
#include "gofer/runtime.h"
#include "gofer/sync.h"
#include "gofer/time.h"
#include "test_util.h"

namespace {

using gofer::Chan;
using gofer::ChanClosedError;
using gofer::default_case;
using gofer::make_chan;
using gofer::recv_case;
using gofer::select;
using gofer::send_case;
using gofer::testing::eventually;
using gofer::testing::settle;

// Go: with a default case and no ready case, the default runs at once.
TEST(Select, DefaultWhenNothingReady) {
  gofer::run([] {
    auto a = make_chan<int>();
    auto b = make_chan<int>(1);
    b.send(1);  // b full: a send case on it is not ready
    bool ran_default = false;
    int i =
        select(recv_case(a, [](int, bool) { ADD_FAILURE(); }),
               send_case(b, 2, [] { ADD_FAILURE(); }), default_case([&] { ran_default = true; }));
    EXPECT_EQ(i, 2);
    EXPECT_TRUE(ran_default);
    // The index is the default's position, wherever it is.
    EXPECT_EQ(select(recv_case(a), default_case(), recv_case(a)), 1);
    // A select of only a default.
    EXPECT_EQ(select(default_case()), 0);
  });
}

// Go: a ready receive case runs with the value and ok == true.
TEST(Select, ReadyRecv) {
  gofer::run([] {
    auto a = make_chan<int>(1);
    a.send(5);
    int got = 0;
    bool got_ok = false;
    int i = select(recv_case(a,
                             [&](int v, bool ok) {
                               got = v;
                               got_ok = ok;
                             }),
                   default_case([] { ADD_FAILURE(); }));
    EXPECT_EQ(i, 0);
    EXPECT_EQ(got, 5);
    EXPECT_TRUE(got_ok);
  });
}

// Go: a receive case on a closed channel is ready: zero value, ok == false.
// Actions may take (v, ok), (v) or nothing.
TEST(Select, RecvOnClosed) {
  gofer::run([] {
    auto a = make_chan<int>();
    a.close();
    int got = -1;
    bool got_ok = true;
    EXPECT_EQ(select(recv_case(a,
                               [&](int v, bool ok) {
                                 got = v;
                                 got_ok = ok;
                               })),
              0);
    EXPECT_EQ(got, 0);
    EXPECT_FALSE(got_ok);
    EXPECT_EQ(select(recv_case(a, [&](int v) { got = v + 1; })), 0);
    EXPECT_EQ(got, 1);
    bool ran = false;
    EXPECT_EQ(select(recv_case(a, [&] { ran = true; })), 0);
    EXPECT_TRUE(ran);
  });
}

// Go: a send case with buffer room is ready; the value lands in the channel.
TEST(Select, ReadySend) {
  gofer::run([] {
    auto a = make_chan<int>(1);
    bool sent = false;
    EXPECT_EQ(select(send_case(a, 9, [&] { sent = true; }), default_case()), 0);
    EXPECT_TRUE(sent);
    EXPECT_EQ(a.recv().value, 9);
  });
}

// Go: choosing a send case on a closed channel panics ("send on closed
// channel"), even with a default case.
TEST(Select, SendOnClosedThrows) {
  gofer::run([] {
    auto a = make_chan<int>(1);
    a.close();
    EXPECT_THROW(select(send_case(a, 1), default_case()), ChanClosedError);
    EXPECT_THROW(select(send_case(a, 1)), ChanClosedError);
  });
}

// Go: cases on nil channels never fire (they are ignored).
TEST(Select, NilChannelCasesNeverFire) {
  gofer::run([] {
    Chan<int> nil;
    EXPECT_EQ(select(recv_case(nil, [](int, bool) { ADD_FAILURE(); }),
                     send_case(nil, 1, [] { ADD_FAILURE(); }), default_case()),
              2);
    // Blocking with a nil case and a real one: only the real one fires.
    auto real = make_chan<int>();
    gofer::go([real] {
      gofer::sleep_for(std::chrono::milliseconds(5));
      real.send(3);
    });
    int got = 0;
    EXPECT_EQ(select(recv_case(nil), send_case(nil, 0), recv_case(real, [&](int v) { got = v; })),
              2);
    EXPECT_EQ(got, 3);
  });
}

// Go: `select {}` and a select of only nil channels block forever.
TEST(Select, NoCasesBlocksForever) {
  gofer::run([] {
    std::atomic<bool> returned{false};
    gofer::go([&] {  // abandoned when run() returns
      select();
      returned = true;
    });
    gofer::go([&] {
      Chan<int> nil;
      select(recv_case(nil));
      returned = true;
    });
    settle(std::chrono::milliseconds(50));
    EXPECT_FALSE(returned.load());
  });
}

// Go: a blocked select wakes for whichever case becomes ready.
TEST(Select, BlocksUntilACaseIsReady) {
  gofer::run([] {
    auto a = make_chan<int>();
    auto b = make_chan<std::string>();
    gofer::go([b] {
      gofer::sleep_for(std::chrono::milliseconds(5));
      b.send("hello");
    });
    std::string got;
    int i = select(recv_case(a, [](int) { ADD_FAILURE(); }),
                   recv_case(b, [&](std::string s) { got = std::move(s); }));
    EXPECT_EQ(i, 1);
    EXPECT_EQ(got, "hello");
    // A blocked send case completes when a receiver arrives.
    gofer::go([a] { EXPECT_EQ(a.recv().value, 11); });
    EXPECT_EQ(select(send_case(a, 11), recv_case(b)), 0);
  });
}

// Go: close wakes a blocked select: a receive case gets ok == false, a send
// case panics.
TEST(Select, CloseWakesBlockedSelect) {
  gofer::run([] {
    auto a = make_chan<int>();
    auto b = make_chan<int>();
    gofer::go([a] {
      gofer::sleep_for(std::chrono::milliseconds(5));
      a.close();
    });
    bool got_ok = true;
    EXPECT_EQ(select(recv_case(b), recv_case(a, [&](int, bool ok) { got_ok = ok; })), 1);
    EXPECT_FALSE(got_ok);

    auto c = make_chan<int>();
    gofer::go([c] {
      gofer::sleep_for(std::chrono::milliseconds(5));
      c.close();
    });
    EXPECT_THROW(select(recv_case(b), send_case(c, 1)), ChanClosedError);
  });
}

// Go: one goroutine may select to send and to receive on the same channel;
// two such goroutines pair up (one's send meets the other's receive — a
// goroutine never meets itself), so both finish all their rounds. The
// channel appears twice in each select and is locked once.
TEST(Select, SendAndRecvOnSameChannel) {
  gofer::run([] {
    auto c = make_chan<int>();
    constexpr int kRounds = 2000;
    std::atomic<int> sends{0}, recvs{0};
    gofer::WaitGroup wg;
    for (int g = 0; g < 2; ++g) {
      wg.add(1);
      gofer::go([&, c] {
        for (int i = 0; i < kRounds; ++i) {
          select(send_case(c, i, [&] { ++sends; }), recv_case(c, [&](int) { ++recvs; }));
        }
        wg.done();
      });
    }
    wg.wait();
    EXPECT_EQ(sends.load(), kRounds);
    EXPECT_EQ(recvs.load(), kRounds);
  });
}

// Go: among ready cases, the choice is uniformly random.
TEST(Select, FairnessBetweenTwoReadyChannels) {
  gofer::run([] {
    auto a = make_chan<int>(1);
    auto b = make_chan<int>(1);
    a.send(0);
    b.send(0);
    int counts[2] = {0, 0};
    constexpr int kRounds = 10000;
    for (int i = 0; i < kRounds; ++i) {
      int k = select(recv_case(a, [&](int) { a.send(0); }), recv_case(b, [&](int) { b.send(0); }),
                     default_case([] { ADD_FAILURE() << "default with ready cases"; }));
      ASSERT_TRUE(k == 0 || k == 1);
      ++counts[k];
    }
    EXPECT_GE(counts[0], kRounds * 40 / 100);
    EXPECT_LE(counts[0], kRounds * 60 / 100);
    EXPECT_GE(counts[1], kRounds * 40 / 100);
    EXPECT_LE(counts[1], kRounds * 60 / 100);
  });
}

// Fairness holds for send cases too, and with a channel listed twice.
TEST(Select, FairnessSendCasesAndDuplicates) {
  gofer::run([] {
    auto a = make_chan<int>(100000);
    int counts[3] = {0, 0, 0};
    constexpr int kRounds = 9000;
    for (int i = 0; i < kRounds; ++i) {
      ++counts[select(send_case(a, 0), send_case(a, 1), send_case(a, 2))];
    }
    for (int c : counts) {
      EXPECT_GE(c, kRounds / 3 * 80 / 100);
      EXPECT_LE(c, kRounds / 3 * 120 / 100);
    }
  });
}

// Move-only values through select, in both directions; an unchosen send
// case destroys its value.
TEST(Select, MoveOnlyValues) {
  gofer::run([] {
    auto a = make_chan<std::unique_ptr<int>>(1);
    EXPECT_EQ(select(send_case(a, std::make_unique<int>(4))), 0);
    std::unique_ptr<int> got;
    EXPECT_EQ(select(recv_case(a,
                               [&](std::unique_ptr<int> p, bool ok) {
                                 EXPECT_TRUE(ok);
                                 got = std::move(p);
                               })),
              0);
    ASSERT_NE(got, nullptr);
    EXPECT_EQ(*got, 4);
    auto full = make_chan<std::unique_ptr<int>>(1);
    full.send(nullptr);
    EXPECT_EQ(select(send_case(full, std::make_unique<int>(5)), default_case()), 1);
  });
}

// A timer channel in select (Go's timeout idiom).
TEST(Select, TimeoutWithAfter) {
  gofer::run([] {
    auto never = make_chan<int>();
    bool timed_out = false;
    EXPECT_EQ(select(recv_case(never), recv_case(gofer::after(std::chrono::milliseconds(5)),
                                                 [&] { timed_out = true; })),
              1);
    EXPECT_TRUE(timed_out);
  });
}

// Go's `case v, ok := <-ch:` in a select that a loop switches on: recv_to
// stores the value and ok only for the case that fired, and the loop can
// `continue` or leave from inside a case, as in Go.
TEST(Select, SwitchOnTheIndexWithRecvTo) {
  gofer::run([] {
    auto in = make_chan<std::unique_ptr<int>>(4);
    auto quit = make_chan<int>();
    auto count = make_chan<int>(1);
    gofer::go([in] {
      for (int i = 1; i <= 3; ++i) in.send(std::make_unique<int>(i));
      in.close();
    });
    int sum = 0, loops = 0;
    bool closed_seen = false;
    for (;;) {
      ++loops;
      std::unique_ptr<int> v;
      bool ok = true;
      int other = -7;
      switch (select(gofer::recv_to(in, v, ok), gofer::recv_to(quit, other))) {
        case 0:
          EXPECT_EQ(other, -7);  // the case that did not fire stored nothing
          if (!ok) {
            EXPECT_EQ(v, nullptr);  // T() from a closed, drained channel
            closed_seen = true;
            break;
          }
          sum += *v;
          continue;
        case 1:
          ADD_FAILURE() << "quit never fires";
          break;
        default:
          ADD_FAILURE() << "no such case";
          break;
      }
      break;  // left the loop from a case, as Go's `break Loop` does
    }
    EXPECT_TRUE(closed_seen);
    EXPECT_EQ(sum, 6);
    EXPECT_EQ(loops, 4);

    // Without ok, on a RecvChan, alongside a default.
    count.send(41);
    gofer::RecvChan<int> r = count;
    int got = 0;
    EXPECT_EQ(select(gofer::recv_to(r, got), default_case()), 0);
    EXPECT_EQ(got, 41);
    EXPECT_EQ(select(gofer::recv_to(r, got), default_case()), 1);
    EXPECT_EQ(got, 41);
  });
}

// Many goroutines each switch on select over a shared channel and a timer,
// under TSan: what recv_to stores is the receiver's alone once select
// returns (the value is moved on the receiver's side).
TEST(Select, RecvToFromManyGoroutines) {
  gofer::run([] {
    constexpr int kWorkers = 8, kValues = 400;
    auto work = make_chan<int>(16);
    auto sums = make_chan<long>(kWorkers);
    for (int w = 0; w < kWorkers; ++w) {
      gofer::go([work, sums] {
        long sum = 0;
        for (;;) {
          int v = 0;
          bool ok = false;
          int idx = select(gofer::recv_to(work, v, ok),
                           recv_case(gofer::after(std::chrono::seconds(30))));
          if (idx == 1 || !ok) break;
          sum += v;
        }
        sums.send(sum);
      });
    }
    for (int i = 1; i <= kValues; ++i) work.send(i);
    work.close();
    long total = 0;
    for (int w = 0; w < kWorkers; ++w) total += sums.recv().value;
    EXPECT_EQ(total, static_cast<long>(kValues) * (kValues + 1) / 2);
  });
}

// reflect.Select: a run-time list of cases; the index is the position in it.
TEST(Select, DynamicSelect) {
  gofer::run([] {
    constexpr int kChans = 20;
    std::vector<Chan<int>> chans;
    for (int i = 0; i < kChans; ++i) chans.push_back(make_chan<int>(1));
    chans[13].send(130);
    int got = 0;
    std::vector<gofer::SelectCase> cases;
    for (auto& c : chans) cases.emplace_back(recv_case(c, [&](int v) { got = v; }));
    EXPECT_EQ(select(cases), 13);
    EXPECT_EQ(got, 130);

    // With a default, and a send case.
    std::vector<gofer::SelectCase> more;
    more.emplace_back(recv_case(chans[0]));
    more.emplace_back(default_case());
    EXPECT_EQ(select(more), 1);
    more.emplace_back(send_case(chans[5], 55));
    EXPECT_EQ(select(more), 2);
    EXPECT_EQ(chans[5].recv().value, 55);

    // Blocking: woken by a sender.
    std::vector<gofer::SelectCase> blocking;
    for (auto& c : chans) blocking.emplace_back(recv_case(c, [&](int v) { got = v; }));
    gofer::go([c = chans[7]] { c.send(70); });
    EXPECT_EQ(select(blocking), 7);
    EXPECT_EQ(got, 70);

    // Two defaults are rejected.
    std::vector<gofer::SelectCase> bad;
    bad.emplace_back(default_case());
    bad.emplace_back(default_case());
    EXPECT_THROW(select(bad), std::invalid_argument);
  });
}

// Stress: producers send through selects over three channels, consumers
// receive through selects over the same three (plus a quit channel); every
// value arrives exactly once.
TEST(SelectStress, ManySelectorsNoLostValues) {
  gofer::run([] {
    constexpr int kProducers = 8;
    constexpr int kConsumers = 8;
    constexpr int kPerProducer = 3000;
    Chan<int> chans[3] = {make_chan<int>(), make_chan<int>(4), make_chan<int>()};
    auto quit = make_chan<gofer::Empty>();
    std::vector<std::atomic<int>> seen(kProducers * kPerProducer);
    gofer::WaitGroup producers, consumers;
    for (int p = 0; p < kProducers; ++p) {
      producers.add(1);
      gofer::go([&, p] {
        for (int i = 0; i < kPerProducer; ++i) {
          const int v = p * kPerProducer + i;
          select(send_case(chans[0], v), send_case(chans[1], v), send_case(chans[2], v));
        }
        producers.done();
      });
    }
    for (int c = 0; c < kConsumers; ++c) {
      consumers.add(1);
      gofer::go([&] {
        bool done = false;
        auto take = [&](int v) { seen[v].fetch_add(1, std::memory_order_relaxed); };
        while (!done) {
          select(recv_case(chans[0], take), recv_case(chans[1], take), recv_case(chans[2], take),
                 recv_case(quit, [&] { done = true; }));
        }
        // Drain what is still buffered.
        for (;;) {
          auto r = chans[1].try_recv();
          if (r.status != gofer::RecvStatus::received) break;
          take(r.value);
        }
        consumers.done();
      });
    }
    producers.wait();
    quit.close();
    consumers.wait();
    int wrong = 0;
    for (auto& s : seen) wrong += s.load() != 1;
    EXPECT_EQ(wrong, 0);
  });
}

// Stress: selects woken by close while other wakers race for them.
TEST(SelectStress, CloseRacesWithSelect) {
  gofer::run([] {
    for (int round = 0; round < 200; ++round) {
      auto a = make_chan<int>();
      auto b = make_chan<int>();
      std::atomic<int> woke{0};
      gofer::WaitGroup wg;
      for (int i = 0; i < 4; ++i) {
        wg.add(1);
        gofer::go([&, a, b] {
          select(recv_case(a), recv_case(b));
          ++woke;
          wg.done();
        });
      }
      gofer::go([b] { (void)b.try_send(1); });
      a.close();
      b.close();
      wg.wait();
      EXPECT_EQ(woke.load(), 4);
    }
  });
}

}  // namespace
