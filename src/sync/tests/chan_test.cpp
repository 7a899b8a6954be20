// Chan<T>: the behaviours of Go's channels (runtime/chan.go, the spec's
// "Channel types", "Send statements", "Receive operator", "Close").
#include "gofer/chan.h"

#include <gtest/gtest.h>

#include <atomic>
#include <memory>
#include <numeric>
#include <string>
#include <vector>

#include "gofer/runtime.h"
#include "gofer/sync.h"
#include "gofer/time.h"
#include "test_util.h"

namespace {

using gofer::Chan;
using gofer::ChanClosedError;
using gofer::make_chan;
using gofer::RecvStatus;
using gofer::SendStatus;
using gofer::testing::eventually;
using gofer::testing::settle;

// Go: an unbuffered send completes only when a receiver takes the value;
// values arrive in order.
TEST(Chan, UnbufferedDeliversInOrder) {
  gofer::run([] {
    auto ch = make_chan<int>();
    EXPECT_EQ(ch.cap(), 0u);
    gofer::go([ch] {
      for (int i = 0; i < 100; ++i) ch.send(i);
    });
    for (int i = 0; i < 100; ++i) {
      auto [v, ok] = ch.recv();
      EXPECT_TRUE(ok);
      EXPECT_EQ(v, i);
    }
  });
}

// Go: an unbuffered send blocks until the receive happens (synchronisation).
TEST(Chan, UnbufferedSendWaitsForReceiver) {
  gofer::run([] {
    auto ch = make_chan<int>();
    std::atomic<bool> sent{false};
    gofer::go([&, ch] {
      ch.send(7);
      sent = true;
    });
    settle();
    EXPECT_FALSE(sent.load());
    EXPECT_EQ(ch.recv().value, 7);
    EXPECT_TRUE(eventually([&] { return sent.load(); }));
  });
}

// Go: len and cap of a buffered channel; FIFO order; a full buffer blocks.
TEST(Chan, BufferedLenCapFifo) {
  gofer::run([] {
    auto ch = make_chan<std::string>(3);
    EXPECT_EQ(ch.cap(), 3u);
    EXPECT_EQ(ch.len(), 0u);
    ch.send("a");
    ch.send(std::string("b"));
    EXPECT_EQ(ch.try_send("c"), SendStatus::sent);
    EXPECT_EQ(ch.len(), 3u);
    EXPECT_EQ(ch.try_send("d"), SendStatus::full);
    EXPECT_EQ(ch.recv().value, "a");
    EXPECT_EQ(ch.len(), 2u);
    EXPECT_EQ(ch.try_send("d"), SendStatus::sent);
    EXPECT_EQ(ch.recv().value, "b");
    EXPECT_EQ(ch.recv().value, "c");
    EXPECT_EQ(ch.recv().value, "d");
    EXPECT_EQ(ch.len(), 0u);
    auto [v, status] = ch.try_recv();
    EXPECT_EQ(status, RecvStatus::empty);
    EXPECT_EQ(v, "");
  });
}

// Go chan.go "recv": a receiver that finds a sender blocked on a full buffer
// takes the head and the sender's value goes to the tail — order is kept.
TEST(Chan, BlockedSenderOnFullBufferKeepsOrder) {
  gofer::run([] {
    auto ch = make_chan<int>(2);
    ch.send(1);
    ch.send(2);
    gofer::WaitGroup wg;
    wg.add(1);
    gofer::go([&, ch] {
      ch.send(3);  // blocks: buffer full
      wg.done();
    });
    settle();
    EXPECT_EQ(ch.len(), 2u);
    EXPECT_EQ(ch.recv().value, 1);
    wg.wait();
    EXPECT_EQ(ch.recv().value, 2);
    EXPECT_EQ(ch.recv().value, 3);
  });
}

// Go: try forms are select with default: no peer, no room -> would block.
TEST(Chan, TryFormsOnUnbuffered) {
  gofer::run([] {
    auto ch = make_chan<int>();
    EXPECT_EQ(ch.try_send(1), SendStatus::full);
    EXPECT_EQ(ch.try_recv().status, RecvStatus::empty);
    // With a receiver parked, try_send hands the value over.
    std::atomic<int> got{-1};
    gofer::go([&, ch] { got = ch.recv().value; });
    EXPECT_TRUE(eventually([&] { return ch.try_send(5) == SendStatus::sent; }));
    EXPECT_TRUE(eventually([&] { return got.load() == 5; }));
    // With a sender parked, try_recv takes its value.
    gofer::go([ch] { ch.send(9); });
    int v = -1;
    EXPECT_TRUE(eventually([&] {
      auto r = ch.try_recv();
      v = r.value;
      return r.status == RecvStatus::received;
    }));
    EXPECT_EQ(v, 9);
  });
}

// Go: receiving from a closed channel drains the buffer first, then yields
// the zero value with ok == false, forever.
TEST(Chan, ClosedDrainsThenZeroValue) {
  gofer::run([] {
    auto ch = make_chan<int>(4);
    ch.send(1);
    ch.send(2);
    ch.close();
    EXPECT_EQ(ch.try_send(3), SendStatus::closed);
    auto a = ch.recv();
    EXPECT_TRUE(a.ok);
    EXPECT_EQ(a.value, 1);
    auto b = ch.try_recv();
    EXPECT_EQ(b.status, RecvStatus::received);
    EXPECT_EQ(b.value, 2);
    for (int i = 0; i < 3; ++i) {
      auto [v, ok] = ch.recv();
      EXPECT_FALSE(ok);
      EXPECT_EQ(v, 0);
    }
    EXPECT_EQ(ch.try_recv().status, RecvStatus::closed);
  });
}

// Go: close wakes every blocked receiver with ok == false.
TEST(Chan, CloseWakesAllReceivers) {
  gofer::run([] {
    auto ch = make_chan<int>();
    constexpr int kReceivers = 50;
    std::atomic<int> not_ok{0};
    gofer::WaitGroup wg;
    for (int i = 0; i < kReceivers; ++i) {
      wg.add(1);
      gofer::go([&, ch] {
        if (!ch.recv().ok) ++not_ok;
        wg.done();
      });
    }
    settle();
    ch.close();
    wg.wait();
    EXPECT_EQ(not_ok.load(), kReceivers);
  });
}

// Go: close wakes blocked senders, which panic "send on closed channel".
TEST(Chan, CloseMakesBlockedSendersThrow) {
  gofer::run([] {
    auto ch = make_chan<int>(1);
    ch.send(0);  // full
    std::atomic<int> threw{0};
    gofer::WaitGroup wg;
    for (int i = 0; i < 10; ++i) {
      wg.add(1);
      gofer::go([&, ch] {
        try {
          ch.send(1);
        } catch (const ChanClosedError& e) {
          EXPECT_STREQ(e.what(), "send on closed channel");
          ++threw;
        }
        wg.done();
      });
    }
    settle();
    ch.close();
    wg.wait();
    EXPECT_EQ(threw.load(), 10);
    // The buffered value survives the close.
    EXPECT_EQ(ch.recv().value, 0);
    EXPECT_FALSE(ch.recv().ok);
  });
}

// Go panics: send on closed channel, close of closed channel, close of nil
// channel. ChanClosedError is a std::logic_error.
TEST(Chan, MisuseThrows) {
  gofer::run([] {
    auto ch = make_chan<int>(1);
    ch.close();
    EXPECT_THROW(ch.send(1), ChanClosedError);
    try {
      ch.close();
      ADD_FAILURE() << "second close did not throw";
    } catch (const std::logic_error& e) {
      EXPECT_STREQ(e.what(), "close of closed channel");
    }
    Chan<int> nil;
    try {
      nil.close();
      ADD_FAILURE() << "close of nil did not throw";
    } catch (const ChanClosedError& e) {
      EXPECT_STREQ(e.what(), "close of nil channel");
    }
  });
}

// Go: a nil channel has len 0 and cap 0; send and receive block forever;
// the non-blocking forms report "would block".
TEST(Chan, NilChannel) {
  gofer::run([] {
    Chan<int> nil;
    EXPECT_FALSE(nil);
    EXPECT_EQ(nil.len(), 0u);
    EXPECT_EQ(nil.cap(), 0u);
    EXPECT_EQ(nil.try_send(1), SendStatus::full);
    EXPECT_EQ(nil.try_recv().status, RecvStatus::empty);
    EXPECT_TRUE(nil == Chan<int>());
    std::atomic<bool> sent{false}, received{false};
    // These goroutines never finish; run() abandons them when main returns.
    gofer::go([&, nil] {
      nil.send(1);
      sent = true;
    });
    gofer::go([&, nil] {
      (void)nil.recv();
      received = true;
    });
    settle(std::chrono::milliseconds(50));
    EXPECT_FALSE(sent.load());
    EXPECT_FALSE(received.load());
  });
}

// Go: `for v := range ch` receives until the channel is closed and drained.
TEST(Chan, RangeFor) {
  gofer::run([] {
    auto ch = make_chan<int>(8);
    gofer::go([ch] {
      for (int i = 1; i <= 1000; ++i) ch.send(i);
      ch.close();
    });
    long sum = 0;
    int count = 0;
    for (auto v : ch) {
      sum += v;
      ++count;
    }
    EXPECT_EQ(count, 1000);
    EXPECT_EQ(sum, 1000L * 1001 / 2);
    // An already closed, empty channel: the loop body never runs.
    for (int v : ch) ADD_FAILURE() << v;
  });
}

// Move-only elements travel through the buffer and by direct hand-off; a
// failed try_send leaves the value with the caller.
TEST(Chan, MoveOnlyElements) {
  gofer::run([] {
    auto ch = make_chan<std::unique_ptr<int>>(1);
    ch.send(std::make_unique<int>(1));
    auto p = std::make_unique<int>(2);
    EXPECT_EQ(ch.try_send(std::move(p)), SendStatus::full);
    ASSERT_NE(p, nullptr);  // untouched
    EXPECT_EQ(*ch.recv().value, 1);
    EXPECT_EQ(ch.try_send(std::move(p)), SendStatus::sent);
    EXPECT_EQ(p, nullptr);
    EXPECT_EQ(*ch.recv().value, 2);

    auto unbuffered = make_chan<std::unique_ptr<int>>();
    gofer::go([unbuffered] {
      for (int i = 0; i < 10; ++i) unbuffered.send(std::make_unique<int>(i));
      unbuffered.close();
    });
    int expect = 0;
    for (auto& q : unbuffered) {
      std::unique_ptr<int> mine = std::move(q);
      EXPECT_EQ(*mine, expect++);
    }
    EXPECT_EQ(expect, 10);
    auto [v, ok] = unbuffered.recv();
    EXPECT_FALSE(ok);
    EXPECT_EQ(v, nullptr);
  });
}

// Elements still buffered when the last reference goes are destroyed.
TEST(Chan, BufferedElementsDestroyedWithChannel) {
  auto token = std::make_shared<int>(0);
  gofer::run([&] {
    auto ch = make_chan<std::shared_ptr<int>>(4);
    ch.send(token);
    ch.send(token);
    EXPECT_EQ(token.use_count(), 3);
    (void)ch.recv();
    EXPECT_EQ(token.use_count(), 2);
  });
  EXPECT_EQ(token.use_count(), 1);
}

// Go: a channel is a reference: copies share it; == compares identity;
// <-chan and chan<- views of the same channel are the same channel.
TEST(Chan, HandlesAndDirectionalViews) {
  gofer::run([] {
    auto a = make_chan<int>(1);
    auto b = a;
    auto c = make_chan<int>(1);
    EXPECT_TRUE(a == b);
    EXPECT_FALSE(a == c);
    gofer::SendChan<int> out = a;
    gofer::RecvChan<int> in = a;
    out.send(42);
    EXPECT_EQ(in.len(), 1u);
    EXPECT_EQ(in.recv().value, 42);
    out.close();
    EXPECT_FALSE(in.recv().ok);
    gofer::RecvChan<int> nil_in;
    EXPECT_FALSE(nil_in);
    EXPECT_EQ(nil_in.try_recv().status, RecvStatus::empty);
  });
}

// Many round trips between two goroutines (the hand-off path, both ways).
TEST(Chan, PingPong) {
  gofer::run([] {
    auto ping = make_chan<int>();
    auto pong = make_chan<int>();
    gofer::go([ping, pong] {
      for (auto v : ping) pong.send(v + 1);
      pong.close();
    });
    int v = 0;
    for (int i = 0; i < 20000; ++i) {
      ping.send(v);
      v = pong.recv().value;
    }
    ping.close();
    EXPECT_EQ(v, 20000);
    EXPECT_FALSE(pong.recv().ok);
  });
}

// Stress: many senders and receivers over all Ps; every value is received
// exactly once (checksum and per-value marks), for unbuffered and buffered
// channels.
void contention(std::size_t capacity) {
  gofer::run([capacity] {
    constexpr int kSenders = 16;
    constexpr int kReceivers = 16;
    constexpr int kPerSender = 5000;
    auto ch = make_chan<int>(capacity);
    std::vector<std::atomic<int>> seen(kSenders * kPerSender);
    std::atomic<long> sum{0};
    gofer::WaitGroup senders, receivers;
    for (int s = 0; s < kSenders; ++s) {
      senders.add(1);
      gofer::go([&, ch, s] {
        for (int i = 0; i < kPerSender; ++i) ch.send(s * kPerSender + i);
        senders.done();
      });
    }
    for (int r = 0; r < kReceivers; ++r) {
      receivers.add(1);
      gofer::go([&, ch] {
        long local = 0;
        for (int v : ch) {
          seen[v].fetch_add(1, std::memory_order_relaxed);
          local += v;
        }
        sum += local;
        receivers.done();
      });
    }
    senders.wait();
    ch.close();
    receivers.wait();
    const long n = static_cast<long>(kSenders) * kPerSender;
    EXPECT_EQ(sum.load(), n * (n - 1) / 2);
    int wrong = 0;
    for (auto& s : seen) wrong += s.load() != 1;
    EXPECT_EQ(wrong, 0);
  });
}

TEST(ChanStress, UnbufferedContention) {
  contention(0);
}
TEST(ChanStress, BufferedContention) {
  contention(64);
}
TEST(ChanStress, BufferOfOneContention) {
  contention(1);
}

// Stress: close races with blocked and arriving senders/receivers. Every
// sender either delivered (and its value was received) or threw.
TEST(ChanStress, CloseRacesWithTraffic) {
  gofer::run([] {
    for (int round = 0; round < 50; ++round) {
      auto ch = make_chan<int>(round % 3);
      std::atomic<int> delivered{0}, threw{0}, received{0};
      gofer::WaitGroup wg;
      for (int i = 0; i < 8; ++i) {
        wg.add(2);
        gofer::go([&, ch] {
          for (int k = 0; k < 20; ++k) {
            try {
              ch.send(k);
              ++delivered;
            } catch (const ChanClosedError&) {
              ++threw;
              break;
            }
          }
          wg.done();
        });
        gofer::go([&, ch] {
          for (;;) {
            auto [v, ok] = ch.recv();
            if (!ok) break;
            ++received;
          }
          wg.done();
        });
      }
      gofer::sleep_for(std::chrono::microseconds(100 * (round % 5)));
      ch.close();
      wg.wait();
      EXPECT_EQ(delivered.load(), received.load());
    }
  });
}

}  // namespace
