// Addresses and listen errors: parsing and printing as Go's net does, and
// the error values listen returns.
#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <string>

#include "gofer/net.h"
#include "gofer/runtime.h"
#include "test_util.h"

namespace net = gofer::net;
using namespace gofer::net::test;

namespace {

std::string tmp_socket_path(const char* name) {
  return "/tmp/gofer_net_test_" + std::to_string(::getpid()) + "_" + name + ".sock";
}

// Go's TestSplitHostPort and its error table.
TEST(Addr, SplitHostPortLikeGo) {
  struct Case {
    const char* in;
    const char* host;
    const char* port;
  };
  const Case ok[] = {
      {"localhost:http", "localhost", "http"},
      {"localhost:80", "localhost", "80"},
      {"127.0.0.1:0", "127.0.0.1", "0"},
      {"[::1]:80", "::1", "80"},
      {"[fe80::1%lo0]:80", "fe80::1%lo0", "80"},
      {":8080", "", "8080"},
      {"[::]:80", "::", "80"},
      {"host:", "host", ""},
  };
  for (const auto& c : ok) {
    auto [hp, err] = net::split_host_port(c.in);
    EXPECT_FALSE(err) << c.in;
    EXPECT_EQ(hp.first, c.host) << c.in;
    EXPECT_EQ(hp.second, c.port) << c.in;
  }
  for (const char* bad : {"golang.org", "127.0.0.1", "[::1]", "::1", "[::1]80", "a:b:c",
                          "[foo:bar]", "[foo]bar:baz", "[foo]:[bar]:baz", "[::1]:80]", "[::1"}) {
    EXPECT_EQ(net::split_host_port(bad).err, net::errc::bad_address) << bad;
  }
  EXPECT_EQ(net::join_host_port("::1", "80"), "[::1]:80");
  EXPECT_EQ(net::join_host_port("example.com", "443"), "example.com:443");
}

// Go's error values are comparable; ours are error_codes comparable with ==.
TEST(Addr, ErrorValuesCompareAndPrintLikeGo) {
  std::error_code timeout = net::errc::timeout;
  EXPECT_EQ(timeout, net::errc::timeout);
  EXPECT_EQ(timeout, std::errc::timed_out);  // generic code sees a timeout too
  EXPECT_TRUE(net::is_timeout(timeout));
  EXPECT_FALSE(net::is_timeout(std::make_error_code(std::errc::timed_out)));
  EXPECT_NE(std::error_code(net::errc::eof), net::errc::closed);
  EXPECT_EQ(std::error_code(net::errc::eof).message(), "EOF");
  EXPECT_EQ(std::error_code(net::errc::closed).message(), "use of closed network connection");
  EXPECT_EQ(timeout.message(), "i/o timeout");
  EXPECT_EQ(std::error_code(ECONNREFUSED, std::system_category()), std::errc::connection_refused);
}

// Deadlines are steady_clock time points; the runtime's timers use
// nanotime(). Both must read CLOCK_MONOTONIC: a nanotime() read between two
// steady_clock reads lies between them, however long the thread was
// descheduled in between.
TEST(Addr, SteadyClockIsTheRuntimeClock) {
  auto steady_ns = [] {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(
               net::Clock::now().time_since_epoch())
        .count();
  };
  const std::int64_t a = steady_ns();
  const std::int64_t b = gofer::runtime::nanotime();
  const std::int64_t c = steady_ns();
  EXPECT_LE(a, b);
  EXPECT_LE(b, c);
}

// Go's Listener.Addr() and Conn.LocalAddr/RemoteAddr strings.
TEST(Addr, ListenerAndConnAddressesPrintLikeGo) {
  gofer::run([] {
    auto [ln, err] = net::listen("tcp4", "127.0.0.1:0");
    ASSERT_FALSE(err) << err.message();
    std::string a = ln.addr().to_string();
    EXPECT_EQ(a.rfind("127.0.0.1:", 0), 0u) << a;
    EXPECT_NE(ln.addr().port(), 0);
    EXPECT_EQ(ln.addr().network(), "tcp");

    auto [c, derr] = net::dial("tcp", a);
    ASSERT_FALSE(derr) << derr.message();
    auto [s, aerr] = ln.accept();
    ASSERT_FALSE(aerr) << aerr.message();
    EXPECT_EQ(c.remote_addr().to_string(), a);
    EXPECT_EQ(s.local_addr().to_string(), a);
    EXPECT_EQ(s.remote_addr().to_string(), c.local_addr().to_string());
    EXPECT_EQ(s.remote_addr(), c.local_addr());
    EXPECT_GE(c.fd(), 0);

    if (have_ipv6_loopback()) {
      auto [ln6, err6] = net::listen("tcp6", "[::1]:0");
      ASSERT_FALSE(err6) << err6.message();
      std::string a6 = ln6.addr().to_string();
      EXPECT_EQ(a6, "[::1]:" + std::to_string(ln6.addr().port()));
      auto [c6, derr6] = net::dial("tcp", a6);
      ASSERT_FALSE(derr6) << derr6.message();
      EXPECT_EQ(c6.local_addr().to_string().rfind("[::1]:", 0), 0u);

      // As in Go, "tcp" with a wildcard listens dual-stack on [::]; an IPv4
      // client is printed as IPv4, not as ::ffff:127.0.0.1.
      auto [any, aerr2] = net::listen("tcp", ":0");
      ASSERT_FALSE(aerr2) << aerr2.message();
      EXPECT_EQ(any.addr().to_string(), "[::]:" + std::to_string(any.addr().port()));
      auto [c4, derr4] = net::dial("tcp4", "127.0.0.1:" + std::to_string(any.addr().port()));
      ASSERT_FALSE(derr4) << derr4.message();
      auto [s4, serr4] = any.accept();
      ASSERT_FALSE(serr4) << serr4.message();
      EXPECT_EQ(s4.remote_addr().to_string(), c4.local_addr().to_string());
      EXPECT_EQ(s4.local_addr().to_string(), "127.0.0.1:" + std::to_string(any.addr().port()));
    }

    std::string path = tmp_socket_path("addr");
    auto [lu, uerr] = net::listen("unix", path);
    ASSERT_FALSE(uerr) << uerr.message();
    EXPECT_EQ(lu.addr().to_string(), path);
    EXPECT_EQ(lu.addr().network(), "unix");
    auto [cu, cuerr] = net::dial("unix", path);
    ASSERT_FALSE(cuerr) << cuerr.message();
    EXPECT_EQ(cu.remote_addr().to_string(), path);
    EXPECT_EQ(cu.local_addr().to_string(), "");  // unnamed client socket
    EXPECT_FALSE(lu.close());

    std::string abstract = "@gofer_net_test_" + std::to_string(::getpid());
    auto [la, laerr] = net::listen("unix", abstract);
    ASSERT_FALSE(laerr) << laerr.message();
    EXPECT_EQ(la.addr().to_string(), abstract);
  });
}

// Go: listen on a port in use fails with EADDRINUSE; malformed addresses and
// unknown networks fail before any syscall.
// An Addr of a numeric IP (v4 or v6) and port, for the tables below.
net::Addr ip_addr(const char* ip) {
  sockaddr_in6 sin6{};
  sin6.sin6_family = AF_INET6;
  if (::inet_pton(AF_INET6, ip, &sin6.sin6_addr) == 1)
    return net::Addr(reinterpret_cast<const sockaddr*>(&sin6), sizeof sin6);
  sockaddr_in sin{};
  sin.sin_family = AF_INET;
  EXPECT_EQ(::inet_pton(AF_INET, ip, &sin.sin_addr), 1) << ip;
  return net::Addr(reinterpret_cast<const sockaddr*>(&sin), sizeof sin);
}

// Go's net.IP.IsLoopback: 127.0.0.0/8 and ::1, an IPv4-mapped 127.x too (a
// dual-stack listener sees IPv4 clients so); Unix sockets count as local.
TEST(Addr, IsLoopbackLikeGo) {
  for (const char* ip : {"127.0.0.1", "127.255.0.9", "::1", "::ffff:127.0.0.1"})
    EXPECT_TRUE(ip_addr(ip).is_loopback()) << ip;
  for (const char* ip : {"192.0.2.1", "10.0.0.1", "128.0.0.1", "0.0.0.0", "::", "::2",
                         "::ffff:10.0.0.1", "fe80::1", "::127.0.0.1"})
    EXPECT_FALSE(ip_addr(ip).is_loopback()) << ip;
  sockaddr_un sun{};
  sun.sun_family = AF_UNIX;
  EXPECT_TRUE(
      net::Addr(reinterpret_cast<const sockaddr*>(&sun), sizeof(sa_family_t)).is_loopback());
  EXPECT_FALSE(net::Addr().is_loopback());
}

TEST(Addr, ListenErrors) {
  gofer::run([] {
    auto [ln, err] = net::listen("tcp4", "127.0.0.1:0");
    ASSERT_FALSE(err);
    auto [ln2, err2] = net::listen("tcp4", ln.addr().to_string());
    EXPECT_EQ(err2, std::errc::address_in_use) << err2.message();
    EXPECT_FALSE(ln2);

    for (const char* bad : {"127.0.0.1", "127.0.0.1:99999", "127.0.0.1:-1", "[::1", "a:b:c",
                            "127.0.0.1:port-that-does-not-exist"}) {
      EXPECT_EQ(net::listen("tcp", bad).err, net::errc::bad_address) << bad;
    }
    EXPECT_EQ(net::listen("tcp4", "[::1]:0").err, net::errc::bad_address);
    EXPECT_EQ(net::listen("tcp6", "127.0.0.1:0").err, net::errc::bad_address);
    for (const char* network : {"udp", "tcp5", "", "TCP", "unixgram"}) {
      EXPECT_EQ(net::listen(network, "127.0.0.1:0").err, net::errc::unknown_network) << network;
      EXPECT_EQ(net::dial(network, "127.0.0.1:1").err, net::errc::unknown_network) << network;
    }
    EXPECT_EQ(net::listen("unix", "").err, net::errc::bad_address);
    EXPECT_EQ(net::listen("unix", std::string(200, 'x')).err, net::errc::bad_address);

    // A service name is a port, as in Go.
    auto [named, nerr] = net::split_host_port("127.0.0.1:http");
    ASSERT_FALSE(nerr);

    // Go does not remove an existing socket file: it is in use.
    std::string path = tmp_socket_path("inuse");
    {
      auto [lu, uerr] = net::listen("unix", path);
      ASSERT_FALSE(uerr) << uerr.message();
      EXPECT_EQ(net::listen("unix", path).err, std::errc::address_in_use);
      struct stat st;
      EXPECT_EQ(::stat(path.c_str(), &st), 0);
      EXPECT_FALSE(lu.close());
      EXPECT_NE(::stat(path.c_str(), &st), 0) << "close() removes the socket file it created";
      EXPECT_EQ(lu.close(), net::errc::closed);
    }
  });
}

// SO_REUSEPORT: two listeners on one port.
TEST(Addr, ReusePortAllowsTwoListeners) {
  gofer::run([] {
    net::ListenOptions opts{.backlog = 16, .reuse_port = true};
    auto [a, err] = net::listen("tcp4", "127.0.0.1:0", opts);
    ASSERT_FALSE(err) << err.message();
    auto [b, err2] = net::listen("tcp4", a.addr().to_string(), opts);
    EXPECT_FALSE(err2) << err2.message();
    EXPECT_EQ(a.addr(), b.addr());
  });
}

}  // namespace
