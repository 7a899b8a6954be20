// Deadlines (Go's SetDeadline/SetReadDeadline/SetWriteDeadline): a blocked
// operation past its deadline fails with errc::timeout; a deadline in the
// past fails at once; moving a deadline while an operation is parked
// re-arms its wait; a zero deadline clears it.
#include <gtest/gtest.h>

#include <linux/sockios.h>
#include <sys/ioctl.h>

#include <atomic>
#include <string>

#include "gofer/net.h"
#include "gofer/runtime.h"
#include "connected_pair.h"
#include "test_util.h"

namespace net = gofer::net;
using namespace gofer::net::test;

namespace {

// Timing slack for loaded CI machines and sanitizers: upper bounds only say
// that an operation did not wait for some much later event.
constexpr double kSlack = 5.0;

// Go's TestReadTimeout: a read with nothing to read returns a timeout error
// once the deadline passes, not before.
TEST(Deadline, ReadDeadlineExpiresWithTimeout) {
  gofer::run([] {
    auto [ln, err] = net::listen("tcp4", "127.0.0.1:0");
    ASSERT_FALSE(err);
    auto [c, s] = connected_pair(ln);
    auto start = net::Clock::now();
    ASSERT_FALSE(c.set_read_deadline(start + 100ms));
    char buf[16];
    auto [n, rerr] = c.read(buf);
    double took = seconds_since(start);
    EXPECT_EQ(rerr, net::errc::timeout) << rerr.message();
    EXPECT_TRUE(net::is_timeout(rerr));
    EXPECT_EQ(n, 0u);
    EXPECT_GE(took, 0.099);
    EXPECT_LT(took, 0.1 + kSlack);

    // Reads keep failing until the deadline moves (Go: "a deadline can be
    // extended … after a timeout").
    EXPECT_EQ(c.read(buf).err, net::errc::timeout);
    ASSERT_FALSE(c.set_read_deadline(net::Clock::now() + 5s));
    ASSERT_FALSE(s.write("x").err);
    auto [n2, rerr2] = c.read(buf);
    EXPECT_FALSE(rerr2) << rerr2.message();
    EXPECT_EQ(n2, 1u);
    // The write side was never affected.
    EXPECT_FALSE(c.write("y").err);
  });
}

// Go's TestWriteTimeout: a writer whose peer does not read fills the socket
// buffers, parks, and times out; n reports what was written before.
TEST(Deadline, WriteDeadlineWithPeerNotReadingTimesOut) {
  gofer::run([] {
    auto [ln, err] = net::listen("tcp4", "127.0.0.1:0");
    ASSERT_FALSE(err);
    auto [c, s] = connected_pair(ln);
    std::string big(64 << 20, 'w');  // far more than the socket buffers hold
    auto start = net::Clock::now();
    ASSERT_FALSE(c.set_write_deadline(start + 200ms));
    auto [n, werr] = c.write(big);
    double took = seconds_since(start);
    EXPECT_EQ(werr, net::errc::timeout) << werr.message();
    EXPECT_GT(n, 0u);
    EXPECT_LT(n, big.size());
    EXPECT_GE(took, 0.199);
    EXPECT_LT(took, 0.2 + kSlack);
    // The read side was never affected: it still waits for data.
    ASSERT_FALSE(c.set_read_deadline(net::Clock::now() + 20ms));
    char buf[4];
    EXPECT_EQ(c.read(buf).err, net::errc::timeout);
  });
}

// Go's TestReadTimeoutFluctuation / deadline moved while parked: a reader
// parked with a 500 ms deadline, extended at 50 ms to 1 s, wakes at ~1 s.
// Then: shortened while parked, it wakes early. The helpers act within
// 50 ms, far from the deadlines they move, so that a loaded machine that
// runs them late still moves a deadline that has not passed yet.
TEST(Deadline, ExtendingOrShorteningWhileParked) {
  gofer::run([] {
    auto [ln, err] = net::listen("tcp4", "127.0.0.1:0");
    ASSERT_FALSE(err);
    auto [c, s] = connected_pair(ln);
    auto start = net::Clock::now();
    ASSERT_FALSE(c.set_read_deadline(start + 500ms));
    Latch moved(1);
    gofer::go([&] {
      sleep_for(50ms);
      EXPECT_FALSE(c.set_read_deadline(start + 1s));
      moved.done();
    });
    char buf[16];
    auto [n, rerr] = c.read(buf);
    double took = seconds_since(start);
    moved.wait();
    EXPECT_EQ(rerr, net::errc::timeout);
    EXPECT_GE(took, 0.999);
    EXPECT_LT(took, 1.0 + kSlack);

    // Extended while parked, and data arrives before the new deadline.
    start = net::Clock::now();
    ASSERT_FALSE(c.set_read_deadline(start + 500ms));
    Latch wrote(1);
    gofer::go([&] {
      sleep_for(30ms);
      EXPECT_FALSE(c.set_read_deadline(start + 10s));
      sleep_for(600ms);  // past the first deadline
      EXPECT_FALSE(s.write("late").err);
      wrote.done();
    });
    auto [n2, rerr2] = c.read(buf);
    wrote.wait();
    EXPECT_FALSE(rerr2) << rerr2.message();
    EXPECT_EQ(std::string(buf, n2), "late");
    EXPECT_GE(seconds_since(start), 0.629);

    // Shortened while parked: from 10 s to 50 ms.
    start = net::Clock::now();
    ASSERT_FALSE(c.set_read_deadline(start + 10s));
    gofer::go([&] {
      sleep_for(20ms);
      EXPECT_FALSE(c.set_read_deadline(start + 50ms));
    });
    EXPECT_EQ(c.read(buf).err, net::errc::timeout);
    EXPECT_LT(seconds_since(start), 0.05 + kSlack);
  });
}

// Go: "A deadline … in the past … causes I/O operations to fail at once",
// even with data waiting, and setting one wakes a goroutine already parked.
TEST(Deadline, DeadlineInThePastFailsAtOnceAndWakesWaiters) {
  gofer::run([] {
    auto [ln, err] = net::listen("tcp4", "127.0.0.1:0");
    ASSERT_FALSE(err);
    auto [c, s] = connected_pair(ln);
    ASSERT_FALSE(s.write("data").err);
    sleep_for(10ms);
    ASSERT_FALSE(c.set_deadline(net::Clock::now() - 1s));
    char buf[16];
    auto start = net::Clock::now();
    EXPECT_EQ(c.read(buf).err, net::errc::timeout);
    EXPECT_EQ(c.write("x").err, net::errc::timeout);
    EXPECT_LT(seconds_since(start), kSlack);  // no wait: nothing here wakes them

    // A parked reader and a parked writer wake when the deadline moves into
    // the past.
    ASSERT_FALSE(c.set_deadline(net::Deadline{}));
    auto [n0, e0] = c.read(buf);  // consume "data"
    ASSERT_FALSE(e0);
    std::atomic<int> woke{0};
    Latch both(2);
    gofer::go([&] {
      auto [n, rerr] = c.read(buf);
      EXPECT_EQ(rerr, net::errc::timeout);
      woke.fetch_add(1);
      both.done();
    });
    std::string big(64 << 20, 'w');
    gofer::go([&] {
      auto [n, werr] = c.write(big);
      EXPECT_EQ(werr, net::errc::timeout);
      EXPECT_GT(n, 0u);
      woke.fetch_add(1);
      both.done();
    });
    int queued = 0;  // wait until the writer has filled the socket buffers
    for (int i = 0; i < 5000 && queued == 0; ++i) {
      sleep_for(1ms);
      ::ioctl(c.fd(), SIOCOUTQ, &queued);
    }
    sleep_for(50ms);
    EXPECT_EQ(woke.load(), 0) << "both must be parked";
    start = net::Clock::now();
    ASSERT_FALSE(c.set_deadline(net::Clock::now() - 1ms));
    both.wait();
    EXPECT_EQ(woke.load(), 2);
    EXPECT_LT(seconds_since(start), 0.1 + kSlack);
  });
}

// Go: "A zero value for t means I/O operations will not time out." Cleared
// while parked, the wait goes on past the old deadline until data comes.
TEST(Deadline, ClearingADeadline) {
  gofer::run([] {
    auto [ln, err] = net::listen("tcp4", "127.0.0.1:0");
    ASSERT_FALSE(err);
    auto [c, s] = connected_pair(ln);
    auto start = net::Clock::now();
    // Cleared at 10 ms, long before the deadline even on a loaded machine.
    ASSERT_FALSE(c.set_read_deadline(start + 500ms));
    gofer::go([&] {
      sleep_for(10ms);
      EXPECT_FALSE(c.set_read_deadline(net::Deadline{}));
      sleep_for(600ms);  // past the old deadline
      EXPECT_FALSE(s.write("ok").err);
    });
    char buf[8];
    auto [n, rerr] = c.read(buf);
    EXPECT_FALSE(rerr) << rerr.message();
    EXPECT_EQ(std::string(buf, n), "ok");
    EXPECT_GE(seconds_since(start), 0.609);

    // Cleared after it expired: operations work again.
    ASSERT_FALSE(c.set_read_deadline(net::Clock::now() - 1ms));
    EXPECT_EQ(c.read(buf).err, net::errc::timeout);
    ASSERT_FALSE(c.set_read_deadline(net::Deadline{}));
    ASSERT_FALSE(s.write("again").err);
    auto [n2, rerr2] = c.read(buf);
    EXPECT_FALSE(rerr2);
    EXPECT_EQ(std::string(buf, n2), "again");
  });
}

// A read that timed out, then a cleared deadline, then a read that parks
// before the bytes come: it gets them (Go: a timeout is not sticky once the
// deadline moves; the TLS layer's "timeout is not sticky" rests on this).
TEST(Deadline, ReadParkedAfterATimeoutAndAClearedDeadlineGetsLaterBytes) {
  gofer::run([] {
    auto [ln, err] = net::listen("tcp4", "127.0.0.1:0");
    ASSERT_FALSE(err);
    auto [c, s] = connected_pair(ln);
    ASSERT_FALSE(c.set_read_deadline(net::Clock::now() + 100ms));
    char buf[8];
    EXPECT_EQ(c.read(buf).err, net::errc::timeout);
    ASSERT_FALSE(c.set_read_deadline(net::Deadline{}));
    gofer::go([&] {
      sleep_for(300ms);  // the read below parks first
      EXPECT_FALSE(s.write("later").err);
    });
    auto [n, rerr] = c.read(buf);
    EXPECT_FALSE(rerr) << rerr.message();
    EXPECT_EQ(std::string(buf, n), "later");
  });
}

// Many connections with deadlines that expire together, while others are
// cleared: each parked reader gets exactly its own outcome.
TEST(Deadline, ManyConcurrentDeadlines) {
  gofer::run([] {
    auto [ln, err] = net::listen("tcp4", "127.0.0.1:0");
    ASSERT_FALSE(err);
    constexpr int kConns = 200 / (kScale > 1 ? 4 : 1);
    std::vector<std::pair<net::Conn, net::Conn>> pairs;
    for (int i = 0; i < kConns; ++i) pairs.push_back(connected_pair(ln));
    std::atomic<int> timeouts{0}, reads{0};
    Latch done(kConns);
    auto start = net::Clock::now();
    // The even ones are cleared at ~20 ms: the deadlines leave a loaded
    // machine plenty of time for that.
    for (int i = 0; i < kConns; ++i) {
      EXPECT_FALSE(pairs[i].first.set_read_deadline(start + 1s + std::chrono::milliseconds(i % 7)));
      gofer::go([&, i] {
        char buf[4];
        auto [n, rerr] = pairs[i].first.read(buf);
        if (rerr == net::errc::timeout)
          timeouts.fetch_add(1);
        else if (!rerr)
          reads.fetch_add(1);
        done.done();
      });
    }
    sleep_for(20ms);
    for (int i = 0; i < kConns; i += 2) {  // odd ones time out, even ones get data
      EXPECT_FALSE(pairs[i].first.set_read_deadline(net::Deadline{}));
      EXPECT_FALSE(pairs[i].second.write("d").err);
    }
    done.wait();
    EXPECT_EQ(timeouts.load(), kConns / 2);
    EXPECT_EQ(reads.load(), kConns / 2);
  });
}

// A deadline moved later leaves its timer armed at the earlier time, which
// fires early and re-arms for the deadline in force (how a keep-alive
// connection's per-request idle deadline avoids a timer update). Go's
// contract must hold through it: a parked read times out at the last
// deadline set — never at one it replaced, and not at a later one it was
// shortened from after the timer re-armed.
TEST(Deadline, PushedLaterManyTimesThenShortenedTimesOutAtTheLastOne) {
  gofer::run([] {
    auto [ln, err] = net::listen("tcp4", "127.0.0.1:0");
    ASSERT_FALSE(err);
    auto [c, s] = connected_pair(ln);
    auto start = net::Clock::now();
    ASSERT_FALSE(c.set_read_deadline(start + 200ms));  // the timer is armed for +200 ms
    net::Clock::time_point first_push{}, last{};
    Latch shortened(1);
    gofer::go([&] {
      // 20 pushes an hour ahead while the reader is parked: the timer
      // stays at +200 ms, fires, and re-arms for an hour from now.
      first_push = net::Clock::now();
      for (int i = 0; i < 20; ++i) {
        EXPECT_FALSE(c.set_read_deadline(start + 1h + i * 1ms));
        sleep_for(1ms);
      }
      sleep_for(300ms - (net::Clock::now() - start));
      // Shortened below the re-armed timer: it must move earlier, or the
      // read hangs for an hour.
      last = start + 450ms;
      EXPECT_FALSE(c.set_read_deadline(last));
      shortened.done();
    });
    char buf[4];
    auto [n, rerr] = c.read(buf);
    auto returned = net::Clock::now();
    shortened.wait();
    if (first_push >= start + 200ms)
      GTEST_SKIP() << "the machine ran the pusher after the first deadline";
    EXPECT_EQ(rerr, net::errc::timeout) << rerr.message();
    EXPECT_EQ(n, 0u);
    // A pusher that ran late set a deadline already past: the read returns
    // at once then, but never before the deadline set last.
    EXPECT_GE(returned, last);
  });
}

}  // namespace
