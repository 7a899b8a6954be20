// Conn::go_when_readable: a goroutine started by the poller. It must start
// for exactly what would wake a goroutine parked in read — bytes, EOF, the
// read deadline, a close — at once if that already happened, and never
// before.
#include <gtest/gtest.h>

#include <atomic>
#include <string>

#include "connected_pair.h"
#include "gofer/net.h"
#include "gofer/runtime.h"
#include "test_util.h"

namespace net = gofer::net;
using namespace gofer::net::test;

namespace {

// What the started goroutine saw: its id and its first read.
struct Started {
  std::atomic<bool> ran{false};
  std::uint64_t goroutine = 0;
  std::string data;
  net::Error err;
  Latch done{1};
};

void go_read_when_readable(net::Conn& conn, Started& st) {
  conn.go_when_readable([&conn, &st] {
    st.goroutine = gofer::this_goroutine_id();
    char buf[64];
    auto [n, err] = conn.read(buf);
    st.data.assign(buf, n);
    st.err = err;
    st.ran = true;
    st.done.done();
  });
}

TEST(GoWhenReadable, StartsWhenBytesArriveAndNotBefore) {
  gofer::run([] {
    auto [ln, err] = net::listen("tcp4", "127.0.0.1:0");
    ASSERT_FALSE(err);
    auto [c, s] = connected_pair(ln);
    Started st;
    go_read_when_readable(s, st);
    sleep_for(50ms);
    EXPECT_FALSE(st.ran) << "started with nothing to read";
    ASSERT_FALSE(c.write("hello").err);
    st.done.wait();
    EXPECT_FALSE(st.err) << st.err.message();
    EXPECT_EQ(st.data, "hello");
    EXPECT_NE(st.goroutine, gofer::this_goroutine_id());
  });
}

TEST(GoWhenReadable, StartsAtOnceWhenBytesAreAlreadyThere) {
  gofer::run([] {
    auto [ln, err] = net::listen("tcp4", "127.0.0.1:0");
    ASSERT_FALSE(err);
    auto [c, s] = connected_pair(ln);
    ASSERT_FALSE(c.write("early").err);
    // Let the bytes and epoll's report arrive first.
    char probe;
    ASSERT_EQ(::recv(s.fd(), &probe, 1, MSG_PEEK), 1);
    sleep_for(10ms);
    Started st;
    go_read_when_readable(s, st);
    st.done.wait();
    EXPECT_FALSE(st.err) << st.err.message();
    EXPECT_EQ(st.data, "early");
  });
}

// The peer's FIN: the read returns EOF.
TEST(GoWhenReadable, StartsOnEofAndTheReadSaysSo) {
  gofer::run([] {
    auto [ln, err] = net::listen("tcp4", "127.0.0.1:0");
    ASSERT_FALSE(err);
    auto [c, s] = connected_pair(ln);
    Started st;
    go_read_when_readable(s, st);
    ASSERT_FALSE(c.close_write());
    st.done.wait();
    EXPECT_EQ(st.err, net::errc::eof) << st.err.message();
  });
}

// The read deadline passes: it starts, and its read times out (as a parked
// read would).
TEST(GoWhenReadable, StartsWhenTheReadDeadlinePasses) {
  gofer::run([] {
    auto [ln, err] = net::listen("tcp4", "127.0.0.1:0");
    ASSERT_FALSE(err);
    auto [c, s] = connected_pair(ln);
    auto deadline = net::Clock::now() + 100ms;
    ASSERT_FALSE(s.set_read_deadline(deadline));
    Started st;
    go_read_when_readable(s, st);
    st.done.wait();
    EXPECT_GE(net::Clock::now(), deadline);
    EXPECT_EQ(st.err, net::errc::timeout) << st.err.message();
  });
}

// close() from another goroutine: it starts, and its read says closed.
TEST(GoWhenReadable, StartsWhenTheConnIsClosed) {
  gofer::run([] {
    auto [ln, err] = net::listen("tcp4", "127.0.0.1:0");
    ASSERT_FALSE(err);
    auto [c, s] = connected_pair(ln);
    Started st;
    go_read_when_readable(s, st);
    sleep_for(20ms);
    EXPECT_FALSE(st.ran);
    EXPECT_FALSE(s.close());
    st.done.wait();
    EXPECT_EQ(st.err, net::errc::closed) << st.err.message();
  });
}

}  // namespace
