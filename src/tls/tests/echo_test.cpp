// TLS between gofer's server and gofer's client over loopback: bytes arrive
// whole and in order through both versions, both directions at once, and
// the connection says what was negotiated (Go's ConnectionState).
#include <gtest/gtest.h>

#include <string>

#include "tls_test_util.h"

namespace tls = gofer::tls;
namespace net = gofer::net;
using namespace tls::test;

namespace {

std::string pattern(std::size_t n, int seed) {
  std::string s(n, '\0');
  for (std::size_t i = 0; i < n; ++i) s[i] = static_cast<char>((i * 131 + seed) & 0xff);
  return s;
}

// Echoes until close_notify (or an error), then closes.
void echo(tls::Conn& c) {
  char buf[16 << 10];
  for (;;) {
    auto [n, err] = c.read(buf);
    if (err) break;
    if (c.write(std::span<const char>(buf, n)).err) break;
  }
  (void)c.close();
}

class EchoByVersion : public ::testing::TestWithParam<tls::Version> {};

// A 1 MiB message in writes of every size from 1 byte to 64 KiB, echoed
// back; then close_notify from the client reads as EOF on the server (Go:
// io.EOF after alertCloseNotify) and the server's reads as EOF here.
TEST_P(EchoByVersion, BytesComeBackWholeAndInOrder) {
  const tls::Version v = GetParam();
  gofer::run(
      [v] {
        auto scfg = server_config({Pki::get().localhost}, [v](tls::Config& c) {
          c.min_version = v;
          c.max_version = v;
        });
        auto ccfg = client_config();
        const std::string msg = pattern(1 << 20, 7);
        with_pair(scfg, ccfg, "localhost", echo, [&](tls::Conn& c) {
          ASSERT_FALSE(c.handshake());
          tls::ConnectionState st = c.connection_state();
          EXPECT_TRUE(st.handshake_complete);
          EXPECT_EQ(st.version, v);
          EXPECT_FALSE(st.cipher_suite.empty());
          EXPECT_EQ(st.server_name, "localhost");
          EXPECT_EQ(st.peer_certificate_subject, "CN=localhost,O=gofer tests");
          EXPECT_FALSE(st.did_resume);
          // Writer and reader at once: the echo comes back while we still write.
          gofer::WaitGroup wg;
          wg.add(1);
          std::string back(msg.size(), '\0');
          net::Error rerr;
          gofer::go([&] {
            rerr = read_full(c, back);
            wg.done();
          });
          std::size_t off = 0, step = 1;
          while (off < msg.size()) {
            std::size_t n = std::min(step, msg.size() - off);
            auto [w, werr] = c.write(std::string_view(msg).substr(off, n));
            ASSERT_FALSE(werr) << werr.message();
            ASSERT_EQ(w, n);
            off += n;
            step = step >= (64 << 10) ? 1 : step * 2 + 1;
          }
          wg.wait();
          ASSERT_FALSE(rerr) << rerr.message();
          EXPECT_TRUE(back == msg);
          EXPECT_FALSE(c.close_write());
          char b;
          EXPECT_EQ(c.read({&b, 1}).err, net::errc::eof);
          EXPECT_FALSE(c.close());
          EXPECT_EQ(c.close(), net::errc::closed);
        });
      },
      {.procs = 2});
}

INSTANTIATE_TEST_SUITE_P(Versions, EchoByVersion,
                         ::testing::Values(tls::Version::tls12, tls::Version::tls13),
                         [](const auto& info) {
                           return info.param == tls::Version::tls12 ? "TLS12" : "TLS13";
                         });

// Both sides write 4 MiB before reading anything: only a connection whose
// reads and writes run at once (Go's crypto/tls allows one Read and one
// Write concurrently) gets through without deadlock.
TEST(Echo, FullDuplexBulkBothWays) {
  gofer::run(
      [] {
        auto scfg = server_config({Pki::get().localhost});
        auto ccfg = client_config();
        const std::string a = pattern(4 << 20, 1), b = pattern(4 << 20, 2);
        auto both = [](tls::Conn& c, const std::string& out, const std::string& expect) {
          gofer::WaitGroup wg;
          wg.add(1);
          std::string in(expect.size(), '\0');
          net::Error rerr;
          gofer::go([&] {
            rerr = read_full(c, in);
            wg.done();
          });
          auto [n, werr] = c.write(out);
          EXPECT_FALSE(werr) << werr.message();
          EXPECT_EQ(n, out.size());
          wg.wait();
          EXPECT_FALSE(rerr) << rerr.message();
          EXPECT_TRUE(in == expect);
        };
        with_pair(
            scfg, ccfg, "localhost", [&](tls::Conn& c) { both(c, b, a); },
            [&](tls::Conn& c) { both(c, a, b); });
      },
      {.procs = 2});
}

// writev gathers small buffers and sends large ones as they are; what
// arrives is their concatenation in order.
TEST(Echo, WritevSendsTheBuffersInOrder) {
  gofer::run(
      [] {
        auto scfg = server_config({Pki::get().localhost});
        auto ccfg = client_config();
        const std::string big = pattern(100'000, 3);
        const std::string parts[] = {
            "HTTP/1.1 200 OK\r\n", "Content-Length: 5\r\n\r\n", "", "hello", big, "x",
            pattern(5000, 4),      std::string(4096, 'y')};
        std::string expect;
        std::vector<iovec> iov;
        for (const auto& p : parts) {
          expect += p;
          iov.push_back({const_cast<char*>(p.data()), p.size()});
        }
        with_pair(
            scfg, ccfg, "localhost",
            [&](tls::Conn& c) {
              auto [n, err] = c.writev(iov);
              EXPECT_FALSE(err) << err.message();
              EXPECT_EQ(n, expect.size());
              (void)c.close();
            },
            [&](tls::Conn& c) {
              net::Error end;
              std::string got = read_all(c, &end);
              EXPECT_EQ(end, net::errc::eof) << end.message();
              EXPECT_TRUE(got == expect) << got.size() << " bytes vs " << expect.size();
            });
      },
      {.procs = 2});
}

// tls::dial and tls::Listener, as Go's tls.Dial and tls.NewListener: the
// server name comes from the address; accept() does not wait for the
// handshake.
TEST(Echo, DialAndListen) {
  gofer::run(
      [] {
        auto scfg = server_config({Pki::get().localhost});
        tls::Listener ln = loopback_listener(scfg);
        gofer::WaitGroup wg;
        wg.add(1);
        gofer::go([&] {
          auto [c, aerr] = ln.accept();
          ASSERT_FALSE(aerr);
          echo(c);
          wg.done();
        });
        const std::string addr = "localhost:" + std::to_string(ln.addr().port());
        auto [c, derr] = tls::dial("tcp4", addr, client_config(), 5s);
        ASSERT_FALSE(derr) << derr.message();
        EXPECT_EQ(c.connection_state().server_name, "localhost");
        ASSERT_FALSE(c.write("ping").err);
        char buf[4];
        ASSERT_FALSE(read_full(c, buf));
        EXPECT_EQ(std::string(buf, 4), "ping");
        (void)c.close();
        wg.wait();
        (void)ln.close();
      },
      {.procs = 2});
}

// Operations on an empty Conn fail as Go's methods on a nil Conn do.
TEST(Echo, EmptyConnSaysInvalidArgument) {
  tls::Conn c;
  char b;
  EXPECT_EQ(c.read({&b, 1}).err, std::errc::invalid_argument);
  EXPECT_EQ(c.close(), std::errc::invalid_argument);
  EXPECT_FALSE(c.connection_state().handshake_complete);
}

}  // namespace
