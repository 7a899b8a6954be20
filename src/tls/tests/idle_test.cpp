// What a server needs to park idle TLS connections (the HTTP server's idle
// keep-alive parking): release_buffers() frees a quiet connection's
// buffers, which come back on the next read; go_when_readable() starts its
// goroutine when bytes arrive — at once when plaintext or ciphertext is
// already buffered in the connection, which the socket would never report
// again (net::Conn::go_when_readable's contract, one layer up).
#include <gtest/gtest.h>

#include <netinet/tcp.h>

#include <atomic>

#include "tls_test_util.h"

namespace tls = gofer::tls;
namespace net = gofer::net;
using namespace tls::test;

namespace {

struct Started {
  std::atomic<bool> ran{false};
  std::string data;
  tls::Error err;
  gofer::WaitGroup done;
};

void go_read_when_readable(tls::Conn& c, Started& st) {
  st.done.add(1);
  c.go_when_readable([&c, &st] {
    char buf[64];
    auto [n, err] = c.read(buf);
    st.data.assign(buf, n);
    st.err = err;
    st.ran = true;
    st.done.done();
  });
}

void pause(std::chrono::milliseconds d) {
  gofer::blocking([d] { ::usleep(static_cast<useconds_t>(d.count() * 1000)); });
}

TEST(Idle, ReleasedBuffersComeBack) {
  gofer::run([] {
    gofer::WaitGroup step;
    step.add(1);
    with_pair(
        server_config({Pki::get().localhost}), client_config(), "localhost",
        [&](tls::Conn& c) {
          char b[5];
          ASSERT_FALSE(read_full(c, b));
          EXPECT_TRUE(c.release_buffers());
          EXPECT_TRUE(c.release_buffers());  // nothing left to free: still true
          step.done();
          ASSERT_FALSE(read_full(c, b));
          EXPECT_EQ(std::string(b, 5), "again");
          ASSERT_FALSE(c.write("reply").err);
          EXPECT_TRUE(c.release_buffers());
          (void)c.close();
        },
        [&](tls::Conn& c) {
          ASSERT_FALSE(c.write("first").err);
          step.wait();
          ASSERT_FALSE(c.write("again").err);
          char b[5];
          ASSERT_FALSE(read_full(c, b));
          EXPECT_EQ(std::string(b, 5), "reply");
        });
  });
}

TEST(Idle, GoWhenReadableStartsWhenBytesArrive) {
  gofer::run([] {
    gofer::WaitGroup armed;
    armed.add(1);
    with_pair(
        server_config({Pki::get().localhost}), client_config(), "localhost",
        [&](tls::Conn& c) {
          ASSERT_FALSE(c.handshake());
          EXPECT_TRUE(c.release_buffers());
          Started st;
          go_read_when_readable(c, st);
          pause(50ms);
          EXPECT_FALSE(st.ran) << "started with nothing to read";
          armed.done();
          st.done.wait();
          EXPECT_FALSE(st.err) << st.err.message();
          EXPECT_EQ(st.data, "wake up");
          (void)c.close();
        },
        [&](tls::Conn& c) {
          ASSERT_FALSE(c.handshake());
          armed.wait();
          ASSERT_FALSE(c.write("wake up").err);
          char b;
          (void)c.read({&b, 1});
        });
  });
}

// Plaintext left in OpenSSL by a short read: the socket has nothing new.
TEST(Idle, GoWhenReadableStartsAtOnceForBufferedPlaintext) {
  gofer::run([] {
    with_pair(
        server_config({Pki::get().localhost}), client_config(), "localhost",
        [&](tls::Conn& c) {
          char first;
          ASSERT_FALSE(c.read({&first, 1}).err);
          EXPECT_EQ(first, 'a');
          EXPECT_FALSE(c.release_buffers());  // "bcdef" is still in there
          Started st;
          go_read_when_readable(c, st);
          st.done.wait();
          EXPECT_EQ(st.data, "bcdef");
          (void)c.close();
        },
        [&](tls::Conn& c) {
          ASSERT_FALSE(c.write("abcdef").err);
          char b;
          (void)c.read({&b, 1});  // until the server closes
        });
  });
}

// A second record read from the socket with the first one waits in the
// connection's ciphertext buffer.
TEST(Idle, GoWhenReadableStartsAtOnceForBufferedCiphertext) {
  gofer::run([] {
    gofer::WaitGroup sent;
    sent.add(1);
    with_pair(
        server_config({Pki::get().localhost}), client_config(), "localhost",
        [&](tls::Conn& c) {
          ASSERT_FALSE(c.handshake());
          sent.wait();
          pause(50ms);  // both records are in the socket
          char buf[64];
          auto [n, err] = c.read(buf);
          ASSERT_FALSE(err);
          EXPECT_EQ(std::string(buf, n), "one");
          Started st;
          go_read_when_readable(c, st);
          st.done.wait();
          EXPECT_EQ(st.data, "two");
          (void)c.close();
        },
        [&](tls::Conn& c) {
          // A record each, in one TCP segment (corked): a single
          // arrival, so no later readiness report could start the
          // goroutine in place of the buffered record.
          ASSERT_FALSE(c.handshake());  // not corked
          const int fd = c.net_conn().fd();
          int on = 1, off = 0;
          ::setsockopt(fd, IPPROTO_TCP, TCP_CORK, &on, sizeof on);
          ASSERT_FALSE(c.write("one").err);
          ASSERT_FALSE(c.write("two").err);
          ::setsockopt(fd, IPPROTO_TCP, TCP_CORK, &off, sizeof off);
          sent.done();
          char b;
          (void)c.read({&b, 1});
        });
  });
}

// The read deadline starts the goroutine too; its read says timeout.
TEST(Idle, GoWhenReadableStartsAtTheReadDeadline) {
  gofer::run([] {
    with_pair(
        server_config({Pki::get().localhost}), client_config(), "localhost",
        [&](tls::Conn& c) {
          ASSERT_FALSE(c.handshake());
          EXPECT_FALSE(c.set_read_deadline(net::Clock::now() + 100ms));
          Started st;
          go_read_when_readable(c, st);
          st.done.wait();
          EXPECT_EQ(st.err, net::errc::timeout);
          (void)c.close();
        },
        [&](tls::Conn& c) {
          ASSERT_FALSE(c.handshake());
          char b;
          (void)c.read({&b, 1});
        });
  });
}

}  // namespace
