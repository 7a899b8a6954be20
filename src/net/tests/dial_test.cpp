// dial: non-blocking connect, errors as values, name resolution, timeouts.
#include <gtest/gtest.h>

#include <unistd.h>

#include <string>
#include <vector>

#include "gofer/net.h"
#include "gofer/runtime.h"
#include "test_util.h"

namespace net = gofer::net;
using namespace gofer::net::test;

namespace {

// Timing slack for loaded CI machines and sanitizers.
constexpr double kSlack = 5.0;

// A port with no listener refuses the connection: ECONNREFUSED, at once.
TEST(Dial, ClosedPortIsRefusedQuickly) {
  gofer::run([] {
    auto [ln, err] = net::listen("tcp4", "127.0.0.1:0");
    ASSERT_FALSE(err);
    std::string addr = ln.addr().to_string();
    EXPECT_FALSE(ln.close());
    auto start = net::Clock::now();
    auto [c, derr] = net::dial("tcp", addr, 5s);
    EXPECT_EQ(derr, std::errc::connection_refused) << derr.message();
    EXPECT_FALSE(c);
    EXPECT_LT(seconds_since(start), 4.0);  // at once, not at the 5 s dial timeout

    if (have_ipv6_loopback()) {
      auto [ln6, err6] = net::listen("tcp6", "[::1]:0");
      ASSERT_FALSE(err6);
      std::string addr6 = ln6.addr().to_string();
      EXPECT_FALSE(ln6.close());
      EXPECT_EQ(net::dial("tcp6", addr6, 5s).err, std::errc::connection_refused);
    }
    // Unix: a path with no socket, and a socket file nobody listens on.
    std::string path = "/tmp/gofer_net_dial_" + std::to_string(::getpid()) + ".sock";
    EXPECT_EQ(net::dial("unix", path).err, std::errc::no_such_file_or_directory);
  });
}

// An unresolvable name is an error value within the timeout; RFC 6761
// reserves ".invalid" for exactly this.
TEST(Dial, UnresolvableNameFailsWithinTimeout) {
  gofer::run([] {
    auto start = net::Clock::now();
    auto [c, err] = net::dial("tcp", "nonexistent.invalid:80", 2s);
    EXPECT_EQ(err, net::errc::no_such_host) << err.message();
    EXPECT_LT(seconds_since(start), 2.0 + kSlack);
    EXPECT_EQ(net::dial("tcp", "NONEXISTENT.Invalid.:80", 2s).err, net::errc::no_such_host);
    EXPECT_EQ(net::dial("tcp", "nonexistent.invalid:80").err, net::errc::no_such_host);
    EXPECT_EQ(net::dial("tcp", "no-port.invalid").err, net::errc::bad_address);
    EXPECT_EQ(net::dial("tcp4", "[::1]:80").err, net::errc::bad_address);
  });
}

// A name that resolves (through /etc/hosts): "localhost" reaches a
// listener on 127.0.0.1, trying each resolved address in turn (::1 may come
// first and be refused).
TEST(Dial, ResolvesLocalhost) {
  gofer::run([] {
    auto [ln, err] = net::listen("tcp4", "127.0.0.1:0");
    ASSERT_FALSE(err);
    auto [c, derr] = net::dial("tcp", "localhost:" + std::to_string(ln.addr().port()), 5s);
    if (derr == net::errc::no_such_host) GTEST_SKIP() << "localhost does not resolve here";
    ASSERT_FALSE(derr) << derr.message();
    EXPECT_EQ(c.remote_addr().to_string(), ln.addr().to_string());
    // An empty host means the local system (Go).
    std::string port_only = net::join_host_port("", std::to_string(ln.addr().port()));
    auto [c2, derr2] = net::dial("tcp", port_only, 5s);
    EXPECT_FALSE(derr2) << derr2.message();
    // Listening on a name, too.
    auto [ln2, lerr] = net::listen("tcp", "localhost:0");
    EXPECT_FALSE(lerr) << lerr.message();
  });
}

// A listener whose accept queue is full drops new SYNs: connect hangs, and
// the dial timeout (the write deadline meanwhile) ends it with errc::timeout.
TEST(Dial, TimeoutWhenTheHandshakeHangs) {
  gofer::run([] {
    auto [ln, err] = net::listen("tcp4", "127.0.0.1:0", {.backlog = 0});
    ASSERT_FALSE(err);
    std::vector<net::Conn> queued;
    net::Error derr;
    double took = 0;
    for (int i = 0; i < 16 && !derr; ++i) {  // nobody accepts: the queue fills
      auto start = net::Clock::now();
      auto r = net::dial("tcp", ln.addr().to_string(), 300ms);
      took = seconds_since(start);
      derr = r.err;
      if (!derr) queued.push_back(std::move(r.value));
    }
    ASSERT_EQ(derr, net::errc::timeout) << derr.message();
    EXPECT_GE(took, 0.299);
    EXPECT_LT(took, 0.3 + kSlack);
    EXPECT_GE(queued.size(), 1u);
  });
}

// Dial with many goroutines at once: each gets its own connection.
TEST(Dial, ConcurrentDials) {
  gofer::run([] {
    auto [ln, err] = net::listen("tcp4", "127.0.0.1:0");
    ASSERT_FALSE(err);
    EchoServer server(std::move(ln));
    server.start();
    const int kDials = 500 / kScale;
    std::atomic<int> ok{0};
    Latch done(kDials);
    for (int i = 0; i < kDials; ++i) {
      gofer::go([&] {
        auto [c, derr] = net::dial("tcp4", server.addr(), 10s);
        if (!derr && !c.write("hi").err) {
          char buf[2];
          std::size_t got = 0;
          while (got < 2) {
            auto [n, rerr] = c.read(std::span<char>(buf + got, 2 - got));
            if (rerr) break;
            got += n;
          }
          if (got == 2) ok.fetch_add(1);
        }
        done.done();
      });
    }
    done.wait();
    EXPECT_EQ(ok.load(), kDials);
    server.stop();
  });
}

}  // namespace
