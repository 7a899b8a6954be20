// The server's Hijack (Go's Hijacker through a ResponseController),
// response trailers (RFC 9112 §7.1.2, Go's Trailer / "Trailer:" rules) and
// AbortHandler (Go's panic(http.ErrAbortHandler)), seen from a raw socket.
#include <gtest/gtest.h>

#include <string>

#include "gofer/chan.h"
#include "gofer/http/httptest.h"
#include "gofer/http/server.h"
#include "gofer/net.h"
#include "http/tests/serving_server.h"

namespace gofer {
namespace {

using namespace std::chrono_literals;
using testing::in_runtime;
using testing::ServingServer;

// Sends `request` on a new connection and reads until the server closes
// (or 10 s pass).
std::string raw_exchange(const std::string& addr, std::string_view request) {
  auto [c, err] = net::dial("tcp", addr);
  EXPECT_FALSE(err) << err.message();
  if (err) return {};
  (void)c.set_deadline(net::Clock::now() + 10s);
  EXPECT_FALSE(c.write(request).err);
  std::string got;
  char buf[4096];
  for (;;) {
    auto [n, rerr] = c.read(buf);
    got.append(buf, n);
    if (rerr) break;
  }
  return got;
}

// Go: Hijack hands over the connection with the bytes the server read past
// the request; the writer then refuses writes (ErrHijacked), and the server
// neither closes the connection nor waits for it on shutdown.
TEST(Hijack, TakesTheConnectionWithItsBufferedBytes) {
  in_runtime([] {
    Chan<std::unique_ptr<http::RawConn>> taken = make_chan<std::unique_ptr<http::RawConn>>(1);
    {
      ServingServer srv([&](http::ResponseWriter& w, http::Request&) {
        auto [raw, err] = http::ResponseController(w).hijack();
        ASSERT_FALSE(err) << err.message();
        EXPECT_EQ(w.write("late").err, http::errc::hijacked);
        EXPECT_EQ(http::ResponseController(w).hijack().err, http::errc::hijacked);
        char buf[64];
        auto [n, rerr] = raw->read(buf);  // "after": sent with the head, buffered by the server
        EXPECT_FALSE(rerr);
        std::string reply = "got " + std::string(buf, n) + "\n";
        EXPECT_FALSE(raw->write(reply).err);
        taken.send(std::move(raw));  // still open after the handler returns
      });
      auto [c, err] = net::dial("tcp", srv.addr());
      ASSERT_FALSE(err);
      (void)c.set_deadline(net::Clock::now() + 10s);
      ASSERT_FALSE(c.write("GET / HTTP/1.1\r\nHost: x\r\n\r\nafter").err);
      char buf[64];
      auto [n, rerr] = c.read(buf);
      EXPECT_EQ(std::string(buf, n), "got after\n");
      auto [raw, ok] = taken.recv();
      ASSERT_TRUE(ok);
      // The server shuts down (the destructor) with the hijacked connection
      // open: it is not the server's to wait for.
      (void)c.close();
      (void)raw->close();
    }
  });
}

// A writer that is not the server's: Hijack is not supported.
TEST(Hijack, NotSupportedByARecorder) {
  in_runtime([] {
    http::httptest::ResponseRecorder rec;
    EXPECT_EQ(http::ResponseController(rec).hijack().err, http::errc::not_supported);
  });
}

// RFC 9112 §7.1.2: trailer fields follow the last chunk. A name declared
// in "Trailer" before the head, and a "Trailer:" field set late (Go's
// TrailerPrefix), both go after the body; the body is chunked for them.
TEST(ResponseTrailers, FollowTheLastChunk) {
  in_runtime([] {
    ServingServer srv([](http::ResponseWriter& w, http::Request&) {
      w.header().set("Trailer", "X-Checksum");
      w.write("body");
      w.header().set("X-Checksum", "abc");
      w.header().set("Trailer:X-Late", "1");
    });
    std::string got =
        raw_exchange(srv.addr(), "GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    EXPECT_NE(got.find("Transfer-Encoding: chunked\r\n"), std::string::npos) << got;
    EXPECT_NE(got.find("Trailer: X-Checksum\r\n"), std::string::npos) << got;
    std::size_t body = got.find("\r\n\r\n");
    ASSERT_NE(body, std::string::npos);
    EXPECT_EQ(got.substr(body + 4), "4\r\nbody\r\n0\r\nX-Checksum: abc\r\nX-Late: 1\r\n\r\n");
  });
}

// Go's ErrAbortHandler: the response ends where it is, the connection
// closes, and nothing is added — fewer bytes than the Content-Length, or
// no last chunk — so the client cannot take it for complete.
TEST(AbortHandler, EndsTheResponseShort) {
  in_runtime([] {
    ServingServer srv([](http::ResponseWriter& w, http::Request& r) {
      if (r.path == "/length") w.header().set("Content-Length", "100");
      w.write("0123456789");
      (void)w.flush();
      throw http::AbortHandler();
    });
    std::string got = raw_exchange(srv.addr(), "GET /length HTTP/1.1\r\nHost: x\r\n\r\n");
    EXPECT_EQ(got.substr(0, 17), "HTTP/1.1 200 OK\r\n") << got;
    EXPECT_EQ(got.substr(got.find("\r\n\r\n") + 4), "0123456789");
    got = raw_exchange(srv.addr(), "GET /chunked HTTP/1.1\r\nHost: x\r\n\r\n");
    EXPECT_NE(got.find("Transfer-Encoding: chunked\r\n"), std::string::npos) << got;
    EXPECT_EQ(got.substr(got.find("\r\n\r\n") + 4), "a\r\n0123456789\r\n");
  });
}

}  // namespace
}  // namespace gofer
