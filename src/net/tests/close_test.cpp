// Close (invariant 7 in docs/design.md; Go's "use of closed network
// connection"): close() from another goroutine wakes every goroutine parked
// on the fd with errc::closed; an fd is closed exactly once and only after
// the last operation on it finished; a second close is an error value.
#include <gtest/gtest.h>

#include <fcntl.h>
#include <linux/sockios.h>
#include <sys/ioctl.h>

#include <atomic>
#include <string>
#include <vector>

#include "connected_pair.h"
#include "gofer/net.h"
#include "gofer/runtime.h"
#include "net/fd_mutex.h"
#include "test_util.h"

namespace net = gofer::net;
using namespace gofer::net::test;

namespace {

bool fd_is_open(int fd) {
  return ::fcntl(fd, F_GETFD) != -1;
}

// Go's TestCloseRead/TestConnClose: a reader and a writer parked on one
// conn both return errc::closed when a third goroutine closes it; close()
// returns after the fd is released.
TEST(Close, WakesParkedReaderAndWriter) {
  gofer::run([] {
    auto [ln, err] = net::listen("tcp4", "127.0.0.1:0");
    ASSERT_FALSE(err);
    auto [c, s] = connected_pair(ln);
    int fd = c.fd();
    std::atomic<int> woke{0};
    Latch both(2);
    gofer::go([&] {
      char buf[16];
      auto [n, rerr] = c.read(buf);
      EXPECT_EQ(rerr, net::errc::closed) << rerr.message();
      EXPECT_EQ(n, 0u);
      woke.fetch_add(1);
      both.done();
    });
    std::string big(64 << 20, 'w');
    gofer::go([&] {
      auto [n, werr] = c.write(big);
      EXPECT_EQ(werr, net::errc::closed) << werr.message();
      EXPECT_GT(n, 0u);  // what went out before
      woke.fetch_add(1);
      both.done();
    });
    // Wait until the writer has filled the socket buffers (and so parks).
    int queued = 0;
    for (int i = 0; i < 5000 && queued == 0; ++i) {
      sleep_for(1ms);
      ::ioctl(fd, SIOCOUTQ, &queued);
    }
    sleep_for(50ms);
    ASSERT_EQ(woke.load(), 0) << "both must be parked";
    EXPECT_FALSE(c.close());
    EXPECT_EQ(c.fd(), -1);
    EXPECT_FALSE(fd_is_open(fd)) << "close() returns once the fd is released";
    both.wait();
    EXPECT_EQ(woke.load(), 2);
    // The peer sees the connection end.
    char buf[4096];
    net::Error rerr;
    while (!rerr) rerr = s.read(buf).err;
    EXPECT_TRUE(rerr == net::errc::eof || rerr == std::errc::connection_reset) << rerr.message();
  });
}

// Double close is an error value, not a crash (Go returns ErrClosed); so is
// every operation after close.
TEST(Close, DoubleCloseAndUseAfterCloseReturnClosed) {
  gofer::run([] {
    auto [ln, err] = net::listen("tcp4", "127.0.0.1:0");
    ASSERT_FALSE(err);
    auto [c, s] = connected_pair(ln);
    EXPECT_FALSE(c.close());
    EXPECT_EQ(c.close(), net::errc::closed);
    char buf[4];
    EXPECT_EQ(c.read(buf).err, net::errc::closed);
    EXPECT_EQ(c.write("x").err, net::errc::closed);
    iovec iov{buf, 1};
    EXPECT_EQ(c.writev({&iov, 1}).err, net::errc::closed);
    EXPECT_EQ(c.set_deadline(net::Clock::now()), net::errc::closed);
    EXPECT_EQ(c.close_write(), net::errc::closed);
    EXPECT_EQ(c.set_no_delay(false), net::errc::closed);
    EXPECT_TRUE(c.local_addr().empty());
    EXPECT_FALSE(c.remote_addr().empty());  // remembered, as in Go

    EXPECT_FALSE(ln.close());
    EXPECT_EQ(ln.close(), net::errc::closed);
    EXPECT_EQ(ln.accept().err, net::errc::closed);
    EXPECT_EQ(ln.fd(), -1);

    net::Conn empty;
    EXPECT_EQ(empty.read(buf).err, std::errc::invalid_argument);
    EXPECT_EQ(empty.close(), std::errc::invalid_argument);
    net::Conn moved = std::move(s);
    EXPECT_EQ(s.write("x").err, std::errc::invalid_argument);  // NOLINT(bugprone-use-after-move)
    EXPECT_FALSE(moved.write("x").err);
  });
}

// Closing a listener wakes a goroutine parked in accept.
TEST(Close, WakesParkedAccept) {
  gofer::run([] {
    auto [ln, err] = net::listen("tcp4", "127.0.0.1:0");
    ASSERT_FALSE(err);
    Latch done(1);
    std::atomic<bool> returned{false};
    gofer::go([&] {
      auto [c, aerr] = ln.accept();
      EXPECT_EQ(aerr, net::errc::closed) << aerr.message();
      returned = true;
      done.done();
    });
    sleep_for(50ms);
    EXPECT_FALSE(returned.load());
    EXPECT_FALSE(ln.close());
    done.wait();
    EXPECT_TRUE(returned.load());
  });
}

// Go's fdMutex: a goroutine queued for the read lock (behind a parked
// reader) is woken by close too.
TEST(Close, WakesGoroutinesQueuedForTheLock) {
  gofer::run([] {
    auto [ln, err] = net::listen("tcp4", "127.0.0.1:0");
    ASSERT_FALSE(err);
    auto [c, s] = connected_pair(ln);
    constexpr int kReaders = 5;
    Latch done(kReaders);
    std::atomic<int> closed{0};
    for (int i = 0; i < kReaders; ++i) {
      gofer::go([&] {
        char buf[4];
        if (c.read(buf).err == net::errc::closed) closed.fetch_add(1);
        done.done();
      });
    }
    sleep_for(50ms);
    EXPECT_FALSE(c.close());
    done.wait();
    EXPECT_EQ(closed.load(), kReaders);
  });
}

// Close racing with reads, writes and deadline changes from other
// goroutines, many times over all Ps: no crash, no fatal "closing fd while a
// goroutine waits", every fd released (counted in /proc/self/fd).
TEST(Close, RacingCloseReleasesEveryFdOnce) {
  const int kRounds = 400 / kScale;
  int fds_before = count_open_fds();
  gofer::run([&] {
    auto [ln, err] = net::listen("tcp4", "127.0.0.1:0");
    ASSERT_FALSE(err);
    for (int r = 0; r < kRounds; ++r) {
      auto [c, s] = connected_pair(ln);
      Latch done(3);
      gofer::go([&] {
        char buf[64];
        while (!c.read(buf).err) {
        }
        done.done();
      });
      gofer::go([&] {
        for (int i = 0; i < 100; ++i) {
          if (c.write("ping").err) break;
        }
        done.done();
      });
      gofer::go([&] {
        for (int i = 0; i < 10; ++i) {
          if (c.set_deadline(net::Clock::now() + 1s)) break;
        }
        done.done();
      });
      if (r % 2) gofer::yield();
      EXPECT_FALSE(c.close());
      done.wait();
      EXPECT_FALSE(s.close());
    }
  });
  EXPECT_EQ(count_open_fds(), fds_before);
}

// The fd mutex on its own: reference counting and the closed bit.
TEST(Close, FdMutexCountsReferences) {
  gofer::net::detail::FdMutex mu;
  EXPECT_TRUE(mu.incref());
  EXPECT_TRUE(mu.rwlock(true));
  EXPECT_TRUE(mu.rwlock(false));  // read and write locks are independent
  EXPECT_TRUE(mu.incref_and_close());
  EXPECT_FALSE(mu.incref_and_close());
  EXPECT_FALSE(mu.incref());
  EXPECT_TRUE(mu.closed());
  EXPECT_FALSE(mu.decref());  // close's own reference
  EXPECT_FALSE(mu.rwunlock(true));
  EXPECT_FALSE(mu.decref());
  EXPECT_TRUE(mu.rwunlock(false));  // the last one releases the fd
}

}  // namespace
