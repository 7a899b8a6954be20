// Peers that misbehave: silent (a handshake timeout is a deadline),
// plaintext on a TLS port, TLS to a plaintext port, a stream cut without
// close_notify. Each gives its error value, promptly, and nothing hangs.
#include <gtest/gtest.h>

#include "tls_test_util.h"

namespace tls = gofer::tls;
namespace net = gofer::net;
using namespace tls::test;

namespace {

// The server's handshake against a raw client that runs `raw` on its side.
tls::Error server_handshake_against(const std::function<void(net::Conn&)>& raw,
                                    std::chrono::milliseconds deadline = 5000ms,
                                    double* seconds = nullptr) {
  auto scfg = server_config({Pki::get().localhost});
  net::Listener ln = loopback_listener();
  tls::Error result;
  gofer::WaitGroup wg;
  wg.add(1);
  gofer::go([&] {
    auto [nc, err] = ln.accept();
    EXPECT_FALSE(err);
    tls::Conn c = tls::server(std::move(nc), scfg);
    auto start = net::Clock::now();
    EXPECT_FALSE(c.set_deadline(start + deadline));
    result = c.handshake();
    if (seconds) *seconds = std::chrono::duration<double>(net::Clock::now() - start).count();
    // A failed handshake stays failed.
    char b;
    EXPECT_EQ(c.read({&b, 1}).err, result);
    wg.done();
  });
  auto [raw_conn, derr] = net::dial("tcp4", ln.addr().to_string(), 5s);
  EXPECT_FALSE(derr);
  raw(raw_conn);
  wg.wait();
  (void)ln.close();
  return result;
}

// Go's http.Server sets a deadline for the handshake; a client that sends
// nothing gets a timeout, not a goroutine waiting forever.
TEST(BadPeer, SilentClientTimesOut) {
  gofer::run([] {
    double seconds = 0;
    net::Conn* keep = nullptr;
    tls::Error err = server_handshake_against([&](net::Conn& c) { keep = &c; }, 200ms, &seconds);
    EXPECT_EQ(err, net::errc::timeout);
    EXPECT_TRUE(net::is_timeout(err));
    EXPECT_GE(seconds, 0.19);
    EXPECT_LT(seconds, 5.0);
    (void)keep;
  });
}

// OpenSSL recognises an HTTP request where a ClientHello should be (Go's
// RecordHeaderError, which net/http answers with a 400).
TEST(BadPeer, PlaintextHttpOnATlsPort) {
  gofer::run([] {
    tls::Error err = server_handshake_against([](net::Conn& c) {
      (void)c.write("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
      char buf[256];
      (void)c.read(buf);  // until the server hangs up
    });
    EXPECT_EQ(err, tls::errc::http_request) << err.message();
  });
}

TEST(BadPeer, GarbageOnATlsPort) {
  gofer::run([] {
    tls::Error err = server_handshake_against([](net::Conn& c) {
      (void)c.write(std::string(64, '\x17'));  // a record header with a bad version
      char buf[256];
      (void)c.read(buf);
    });
    EXPECT_EQ(err, tls::errc::not_tls) << err.message();
  });
}

// A client that hangs up before its ClientHello ends: EOF, not a hang.
TEST(BadPeer, ClientHangsUpMidHandshake) {
  gofer::run([] {
    tls::Error err = server_handshake_against([](net::Conn& c) {
      (void)c.write(std::string("\x16\x03\x01\x02\x00\x01", 6));  // half a ClientHello
      (void)c.close();
    });
    EXPECT_EQ(err, net::errc::eof) << err.message();
  });
}

// TLS to a plaintext server (which answers with an HTTP 400, as servers
// do): the client's handshake fails with not_tls.
TEST(BadPeer, TlsToAPlaintextPort) {
  gofer::run([] {
    net::Listener ln = loopback_listener();
    gofer::WaitGroup wg;
    wg.add(1);
    gofer::go([&] {
      auto [c, err] = ln.accept();
      char buf[1024];
      (void)c.read(buf);
      (void)c.write("HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n");
      (void)c.close();
      wg.done();
    });
    auto [c, err] = tls::dial("tcp4", ln.addr().to_string(), client_config(), 5s);
    EXPECT_EQ(err, tls::errc::not_tls) << err.message();
    wg.wait();
    (void)ln.close();
  });
}

// A stream cut without close_notify is errc::truncated, and a clean one
// (close_notify) is EOF: a client can tell a complete response from a cut one.
TEST(BadPeer, TruncatedStreamIsNotEof) {
  gofer::run([] {
    auto scfg = server_config({Pki::get().localhost});
    for (bool clean : {false, true}) {
      with_pair(
          scfg, client_config(), "localhost",
          [&](tls::Conn& c) {
            ASSERT_FALSE(c.write("partial response").err);
            if (clean) {
              (void)c.close();
            } else {
              (void)c.net_conn().close();  // TCP FIN with no close_notify
            }
          },
          [&](tls::Conn& c) {
            tls::Error end;
            EXPECT_EQ(read_all(c, &end), "partial response");
            if (clean) {
              EXPECT_EQ(end, net::errc::eof) << end.message();
            } else {
              EXPECT_EQ(end, tls::errc::truncated) << end.message();
            }
            // The end is sticky.
            char b;
            EXPECT_EQ(c.read({&b, 1}).err, end);
          });
    }
  });
}

// A read deadline during application data is not fatal: the read times out
// and a later read gets the data (Go: a timeout is a temporary error).
TEST(BadPeer, ReadTimeoutIsNotSticky) {
  gofer::run([] {
    // The client writes only once the server's read has timed out.
    gofer::WaitGroup timed_out;
    timed_out.add(1);
    with_pair(
        server_config({Pki::get().localhost}), client_config(), "localhost",
        [&](tls::Conn& c) {
          char b[5];
          // The handshake first, with no deadline: the first one in a
          // process initialises OpenSSL and can take longer than 100 ms.
          ASSERT_FALSE(c.handshake());
          EXPECT_FALSE(c.set_read_deadline(net::Clock::now() + 100ms));
          EXPECT_EQ(c.read(b).err, net::errc::timeout);
          timed_out.done();
          EXPECT_FALSE(c.set_read_deadline({}));
          EXPECT_FALSE(read_full(c, b));
          EXPECT_EQ(std::string(b, 5), "hello");
        },
        [&](tls::Conn& c) {
          ASSERT_FALSE(c.handshake());
          timed_out.wait();
          EXPECT_FALSE(c.write("hello").err);
        });
  });
}

// close() from another goroutine wakes a read parked in application data
// with net::errc::closed (Go's ErrClosed). The client holds its end open
// until then: its FIN would otherwise wake the read first (as truncated).
TEST(BadPeer, CloseWakesAParkedRead) {
  gofer::run([] {
    gofer::WaitGroup server_done;
    server_done.add(1);
    with_pair(
        server_config({Pki::get().localhost}), client_config(), "localhost",
        [&](tls::Conn& c) {
          gofer::WaitGroup wg;
          wg.add(1);
          tls::Error err;
          gofer::go([&] {
            char b;
            err = c.read({&b, 1}).err;
            wg.done();
          });
          gofer::blocking([] { ::usleep(100'000); });
          EXPECT_FALSE(c.close());
          wg.wait();
          EXPECT_EQ(err, net::errc::closed) << err.message();
          server_done.done();
        },
        [&](tls::Conn& c) {
          ASSERT_FALSE(c.handshake());
          char b;
          EXPECT_EQ(c.read({&b, 1}).err, net::errc::eof);  // the server's close_notify
          server_done.wait();
        });
  });
}

// The same for a handshake parked waiting for a silent client.
TEST(BadPeer, CloseWakesAParkedHandshake) {
  gofer::run([] {
    auto scfg = server_config({Pki::get().localhost});
    net::Listener ln = loopback_listener();
    auto [raw, derr] = net::dial("tcp4", ln.addr().to_string(), 5s);
    ASSERT_FALSE(derr);
    auto [nc, aerr] = ln.accept();
    ASSERT_FALSE(aerr);
    tls::Conn c = tls::server(std::move(nc), scfg);
    gofer::WaitGroup wg;
    wg.add(1);
    tls::Error err;
    gofer::go([&] {
      err = c.handshake();
      wg.done();
    });
    gofer::blocking([] { ::usleep(100'000); });
    EXPECT_FALSE(c.close());
    wg.wait();
    EXPECT_EQ(err, net::errc::closed) << err.message();
    (void)ln.close();
  });
}

}  // namespace
