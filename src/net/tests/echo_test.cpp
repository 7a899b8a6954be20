// Data transfer: echo round trips over every network, whole writes through a
// slow reader, writev resumed in the middle of a buffer, half-close, and
// concurrent readers/writers on one Conn (Go serialises them).
#include <gtest/gtest.h>

#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cstring>
#include <numeric>
#include <string>
#include <vector>

#include "connected_pair.h"
#include "gofer/net.h"
#include "gofer/runtime.h"
#include "test_util.h"

namespace net = gofer::net;
using namespace gofer::net::test;

namespace {

// Reads exactly buf.size() bytes (Go's io.ReadFull).
net::Error read_full(net::Conn& c, std::span<char> buf) {
  std::size_t got = 0;
  while (got < buf.size()) {
    auto [n, err] = c.read(buf.subspan(got));
    if (err) return err;
    got += n;
  }
  return {};
}

// Runs an echo server on (network, address) and checks round trips of
// growing messages from several concurrent clients.
void echo_round_trips(const char* network, const std::string& address) {
  gofer::run([&] {
    auto [ln, err] = net::listen(network, address);
    ASSERT_FALSE(err) << network << " " << address << ": " << err.message();
    EchoServer server(std::move(ln));
    server.start();
    const std::string target = std::string(network) == "unix" ? address : server.addr();
    constexpr int kClients = 8;
    std::atomic<int> ok{0};
    Latch done(kClients);
    for (int i = 0; i < kClients; ++i) {
      gofer::go([&, i] {
        auto [c, derr] = net::dial(network, target, 5s);
        if (derr) {
          ADD_FAILURE() << "dial " << target << ": " << derr.message();
          done.done();
          return;
        }
        bool good = true;
        for (std::size_t len : {1u, 100u, 4096u, 65536u, 300000u}) {
          std::string msg(len, static_cast<char>('a' + i));
          msg[0] = static_cast<char>(len % 251);
          // Write on another goroutine while this one reads the echo: a
          // message larger than both socket buffers would otherwise
          // deadlock (the server blocks writing back, so it stops reading).
          net::Error werr;
          std::size_t n = 0;
          Latch written(1);
          gofer::go([&] {
            auto r = c.write(msg);
            n = r.value;
            werr = r.err;
            written.done();
          });
          std::string back(len, '\0');
          net::Error rerr = read_full(c, back);
          written.wait();
          if (werr || n != len || rerr || back != msg) {
            good = false;
            ADD_FAILURE() << "round trip of " << len << " bytes: " << werr.message() << " / "
                          << rerr.message();
            break;
          }
        }
        if (good) ok.fetch_add(1);
        EXPECT_FALSE(c.close());
        done.done();
      });
    }
    done.wait();
    EXPECT_EQ(ok.load(), kClients);
    server.stop();
    EXPECT_EQ(server.accepted.load(), kClients);
  });
}

TEST(Echo, RoundTripsOverTcp4) {
  echo_round_trips("tcp4", "127.0.0.1:0");
}

TEST(Echo, RoundTripsOverTcp6) {
  if (!have_ipv6_loopback()) GTEST_SKIP() << "no ::1 on this host";
  echo_round_trips("tcp6", "[::1]:0");
}

TEST(Echo, RoundTripsOverTcpDualStack) {
  echo_round_trips("tcp", "127.0.0.1:0");
}

TEST(Echo, RoundTripsOverUnix) {
  std::string path = "/tmp/gofer_net_echo_" + std::to_string(::getpid()) + ".sock";
  echo_round_trips("unix", path);
  struct stat st;
  EXPECT_NE(::stat(path.c_str(), &st), 0) << "the listener removes its socket file";
}

TEST(Echo, RoundTripsOverAbstractUnix) {
  echo_round_trips("unix", "@gofer_net_echo_" + std::to_string(::getpid()));
}

std::uint64_t fnv1a(std::uint64_t h, const char* p, std::size_t n) {
  for (std::size_t i = 0; i < n; ++i) h = (h ^ static_cast<unsigned char>(p[i])) * 0x100000001b3ULL;
  return h;
}

// Go's Write "returns a non-nil error if it returns n < len(p)": one write
// of 64 MiB completes, parking many times, through a reader that takes small
// chunks and sleeps; every byte arrives in order.
TEST(Echo, LargeWriteThroughSlowReaderArrivesIntact) {
  gofer::run([] {
    auto [ln, err] = net::listen("tcp4", "127.0.0.1:0");
    ASSERT_FALSE(err);
    auto [c, s] = connected_pair(ln);
    const std::size_t kSize = std::size_t{64} << 20;
    std::vector<char> data(kSize);
    std::uint64_t x = 88172645463325252ULL;
    for (auto& b : data) {
      x ^= x << 13, x ^= x >> 7, x ^= x << 17;
      b = static_cast<char>(x);
    }
    const std::uint64_t want = fnv1a(1469598103934665603ULL, data.data(), data.size());

    Latch done(1);
    std::uint64_t got_hash = 1469598103934665603ULL;
    std::size_t got = 0;
    int sleeps = 0;
    gofer::go([&] {
      std::vector<char> buf(16 * 1024);
      for (int reads = 0;; ++reads) {
        auto [n, rerr] = s.read(buf);
        if (rerr) {
          EXPECT_EQ(rerr, net::errc::eof);
          break;
        }
        got_hash = fnv1a(got_hash, buf.data(), n);
        got += n;
        if (reads % 64 == 63) {  // slow: the writer's buffer fills up
          sleep_for(1ms);
          ++sleeps;
        }
      }
      done.done();
    });
    auto [n, werr] = c.write(std::span<const char>(data));
    EXPECT_FALSE(werr) << werr.message();
    EXPECT_EQ(n, kSize);
    EXPECT_FALSE(c.close_write());
    done.wait();
    EXPECT_EQ(got, kSize);
    EXPECT_EQ(got_hash, want);
    EXPECT_GT(sleeps, 10);
  });
}

// writev of thousands of buffers (more than IOV_MAX) of odd sizes through a
// slow reader: partial sendmsg calls end in the middle of buffers and are
// resumed there.
TEST(Echo, WritevResumesPartialWritesAcrossBuffers) {
  gofer::run([] {
    auto [ln, err] = net::listen("tcp4", "127.0.0.1:0");
    ASSERT_FALSE(err);
    auto [c, s] = connected_pair(ln);
    std::vector<std::string> parts;
    std::size_t total = 0;
    for (int i = 0; i < 3000; ++i) {
      std::size_t len = (i * 7919) % 5000;  // includes empty buffers
      std::string p(len, '\0');
      for (std::size_t j = 0; j < len; ++j) p[j] = static_cast<char>(i * 31 + j);
      total += len;
      parts.push_back(std::move(p));
    }
    std::vector<iovec> iov;
    for (auto& p : parts) iov.push_back({p.data(), p.size()});
    std::string expect;
    for (auto& p : parts) expect += p;

    Latch done(1);
    std::string got;
    gofer::go([&] {
      char buf[8192];
      for (int reads = 0;; ++reads) {
        auto [n, rerr] = s.read(buf);
        if (rerr) break;
        got.append(buf, n);
        if (reads % 32 == 31) sleep_for(1ms);
      }
      done.done();
    });
    auto [n, werr] = c.writev(iov);
    EXPECT_FALSE(werr) << werr.message();
    EXPECT_EQ(n, total);
    EXPECT_FALSE(c.close_write());
    done.wait();
    EXPECT_EQ(got.size(), expect.size());
    EXPECT_TRUE(got == expect);
  });
}

// Conn::send_file (Go's TCPConn.ReadFrom of a file, by sendfile(2)): 8 MiB
// of a file from an offset, through a slow reader, arrive intact and the
// file's position does not move; a count past the end of the file sends
// what there is with no error; a closed Conn says errc::closed.
TEST(Echo, SendFileSendsTheFileRangeThroughASlowReader) {
  gofer::run([] {
    char path[] = "/tmp/gofer_net_sendfile_XXXXXX";
    int fd = ::mkstemp(path);
    ASSERT_GE(fd, 0);
    ::unlink(path);
    const std::size_t kSize = std::size_t{9} << 20, kOffset = 12345, kCount = std::size_t{8} << 20;
    std::string data(kSize, '\0');
    for (std::size_t i = 0; i < kSize; ++i) data[i] = static_cast<char>(i * 131 + (i >> 9));
    ASSERT_EQ(::write(fd, data.data(), kSize), static_cast<ssize_t>(kSize));
    ASSERT_EQ(::lseek(fd, 7, SEEK_SET), 7);

    auto [ln, err] = net::listen("tcp4", "127.0.0.1:0");
    ASSERT_FALSE(err);
    auto [c, s] = connected_pair(ln);
    Latch done(1);
    std::string got;
    gofer::go([&] {
      char buf[16384];
      for (int reads = 0;; ++reads) {
        auto [n, rerr] = s.read(buf);
        if (rerr) break;
        got.append(buf, n);
        if (reads % 64 == 63) sleep_for(1ms);  // slow: sendfile meets EAGAIN
      }
      done.done();
    });
    auto [n, werr] = c.send_file(fd, kOffset, kCount);
    EXPECT_FALSE(werr) << werr.message();
    EXPECT_EQ(n, kCount);
    auto [tail, terr] = c.send_file(fd, kSize - 100, 1000);  // only 100 bytes are left
    EXPECT_FALSE(terr) << terr.message();
    EXPECT_EQ(tail, 100u);
    EXPECT_FALSE(c.close_write());
    done.wait();
    EXPECT_EQ(got.size(), kCount + 100);
    EXPECT_TRUE(got == data.substr(kOffset, kCount) + data.substr(kSize - 100));
    EXPECT_EQ(::lseek(fd, 0, SEEK_CUR), 7);  // the position is the file's own

    EXPECT_FALSE(c.close());
    EXPECT_EQ(c.send_file(fd, 0, 10).err, net::errc::closed);
    ::close(fd);
  });
}

// Go's CloseWrite: the peer reads EOF and can still answer; our read side
// stays open for the answer.
TEST(Echo, HalfCloseLetsPeerReadEofAndAnswer) {
  gofer::run([] {
    auto [ln, err] = net::listen("tcp4", "127.0.0.1:0");
    ASSERT_FALSE(err);
    auto [c, s] = connected_pair(ln);
    ASSERT_FALSE(c.write("request").err);
    ASSERT_FALSE(c.close_write());
    EXPECT_EQ(c.write("more").err, std::errc::broken_pipe);  // our write side is shut

    std::string req;
    char buf[64];
    for (;;) {
      auto [n, rerr] = s.read(buf);
      if (rerr) {
        EXPECT_EQ(rerr, net::errc::eof);
        break;
      }
      req.append(buf, n);
    }
    EXPECT_EQ(req, "request");
    ASSERT_FALSE(s.write("response").err);
    ASSERT_FALSE(s.close());

    std::string resp;
    for (;;) {
      auto [n, rerr] = c.read(buf);
      if (rerr) {
        EXPECT_EQ(rerr, net::errc::eof);
        break;
      }
      resp.append(buf, n);
    }
    EXPECT_EQ(resp, "response");

    // close_read: our reads end, the connection is otherwise fine.
    auto [c2, s2] = connected_pair(ln);
    ASSERT_FALSE(c2.close_read());
    auto [n2, rerr2] = c2.read(buf);
    EXPECT_EQ(rerr2, net::errc::eof);
    EXPECT_EQ(n2, 0u);
    EXPECT_FALSE(c2.write("still writable").err);
  });
}

// Empty reads and writes return at once (Go: 0, nil).
TEST(Echo, EmptyReadAndWrite) {
  gofer::run([] {
    auto [ln, err] = net::listen("tcp4", "127.0.0.1:0");
    ASSERT_FALSE(err);
    auto [c, s] = connected_pair(ln);
    auto [n, rerr] = c.read(std::span<char>());
    EXPECT_EQ(n, 0u);
    EXPECT_FALSE(rerr);
    auto [m, werr] = c.write(std::string_view());
    EXPECT_EQ(m, 0u);
    EXPECT_FALSE(werr);
    auto [k, verr] = c.writev({});
    EXPECT_EQ(k, 0u);
    EXPECT_FALSE(verr);
  });
}

// Writing to a connection the peer reset returns EPIPE/ECONNRESET as a
// value; the process gets no SIGPIPE (MSG_NOSIGNAL).
TEST(Echo, WriteToResetConnectionIsAnErrorNotSigpipe) {
  gofer::run([] {
    auto [ln, err] = net::listen("tcp4", "127.0.0.1:0");
    ASSERT_FALSE(err);
    auto [c, s] = connected_pair(ln);
    ::linger lg{1, 0};  // close with RST
    ::setsockopt(s.fd(), SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
    EXPECT_FALSE(s.close());
    std::string chunk(64 * 1024, 'x');
    net::Error werr;
    for (int i = 0; i < 100 && !werr; ++i) {
      werr = c.write(chunk).err;
      if (!werr) sleep_for(1ms);
    }
    EXPECT_TRUE(werr == std::errc::broken_pipe || werr == std::errc::connection_reset)
        << werr.message();
    char buf[16];
    auto [n, rerr] = c.read(buf);
    EXPECT_TRUE(rerr == std::errc::connection_reset || rerr == net::errc::eof) << rerr.message();
    EXPECT_EQ(n, 0u);
  });
}

// Go serialises concurrent Reads (and Writes) on one conn, so only one
// goroutine waits per direction on the poll descriptor. Four readers and
// four writers on one connection: every byte is delivered once.
TEST(Echo, ConcurrentReadersAndWritersAreSerialised) {
  gofer::run([] {
    auto [ln, err] = net::listen("tcp4", "127.0.0.1:0");
    ASSERT_FALSE(err);
    auto [c, s] = connected_pair(ln);
    constexpr int kWriters = 4, kReaders = 4, kMsgs = 2000;
    constexpr std::size_t kMsg = 1000;
    std::atomic<std::size_t> read_total{0};
    std::atomic<std::uint64_t> byte_sum{0};
    Latch writers(kWriters), readers(kReaders);
    for (int w = 0; w < kWriters; ++w) {
      gofer::go([&, w] {
        std::string msg(kMsg, static_cast<char>(w + 1));
        for (int i = 0; i < kMsgs; ++i) {
          auto [n, werr] = c.write(msg);
          if (werr || n != kMsg) {
            ADD_FAILURE() << werr.message();
            break;
          }
        }
        writers.done();
      });
    }
    for (int r = 0; r < kReaders; ++r) {
      gofer::go([&] {
        char buf[1500];
        for (;;) {
          auto [n, rerr] = s.read(buf);
          if (rerr) break;
          std::uint64_t sum = 0;
          for (std::size_t i = 0; i < n; ++i) sum += static_cast<unsigned char>(buf[i]);
          byte_sum.fetch_add(sum);
          read_total.fetch_add(n);
        }
        readers.done();
      });
    }
    writers.wait();
    EXPECT_FALSE(c.close_write());
    readers.wait();
    EXPECT_EQ(read_total.load(), kWriters * kMsgs * kMsg);
    EXPECT_EQ(byte_sum.load(), std::uint64_t{kMsgs} * kMsg * (1 + 2 + 3 + 4));
  });
}

}  // namespace
