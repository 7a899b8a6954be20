// ReverseProxy (gofer/http/reverse_proxy.h) between gofer's client and a
// gofer server (or a raw-socket upstream that misbehaves on purpose), each
// test naming the Go httputil.ReverseProxy behaviour or RFC rule it checks.
#include "gofer/http/reverse_proxy.h"

#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/sha.h>

#include <atomic>
#include <string>

#include "gofer/chan.h"
#include "gofer/http/client.h"
#include "gofer/http/server.h"
#include "gofer/net.h"
#include "gofer/time.h"
#include "http/tests/serving_server.h"

namespace gofer {
namespace {

using namespace std::chrono_literals;
using testing::in_runtime;
using testing::read_body;
using testing::ServingServer;

http::ReverseProxy proxy_to(const std::string& upstream) {
  auto [target, err] = url::parse(upstream);
  EXPECT_FALSE(err) << err.message();
  http::ReverseProxy p = http::new_single_host_reverse_proxy(target);
  p.transport = std::make_shared<http::Transport>();
  return p;
}

// An upstream on a raw socket: reads one request head, writes `reply`,
// closes. For responses gofer's server would never send.
class RawUpstream {
 public:
  explicit RawUpstream(std::string reply) : reply_(std::move(reply)) {
    auto [ln, err] = net::listen("tcp", "127.0.0.1:0");
    EXPECT_FALSE(err);
    ln_ = std::move(ln);
    done_.add(1);
    go([this] {
      for (;;) {
        auto [c, err] = ln_.accept();
        if (err) break;
        (void)c.set_deadline(net::Clock::now() + 10s);
        std::string in;
        char buf[4096];
        while (in.find("\r\n\r\n") == std::string::npos) {
          auto [n, rerr] = c.read(buf);
          in.append(buf, n);
          if (rerr) break;
        }
        (void)c.write(reply_);
        (void)c.close();
      }
      done_.done();
    });
  }
  ~RawUpstream() {
    (void)ln_.close();
    done_.wait();
  }
  std::string url() const { return "http://" + ln_.addr().to_string(); }

 private:
  std::string reply_;
  net::Listener ln_;
  WaitGroup done_;
};

// Go: the path is joined to the target's and the query follows the
// target's; hop-by-hop fields (RFC 9110 §7.6.1), and those Connection
// names, are not forwarded either way; the inbound Host goes on; the
// client's address is appended to X-Forwarded-For.
TEST(ReverseProxy, ForwardsTheRequestWithoutHopByHopFields) {
  in_runtime([] {
    ServingServer upstream([](http::ResponseWriter& w, http::Request& r) {
      w.header().set("X-Path", r.target);
      w.header().set("X-Host", r.host);
      w.header().set("X-Got-Xff", r.header("X-Forwarded-For"));
      w.header().set("X-Got-Custom", r.header("X-Custom"));
      w.header().set("X-Got-Dropme", r.header("X-Dropme"));
      w.header().set("X-Got-Keepalive", r.header("Keep-Alive"));
      w.header().set("Connection", "X-Secret");
      w.header().set("X-Secret", "hop");
      w.header().set("Keep-Alive", "timeout=5");
      w.write("from upstream");
    });
    ServingServer proxy(proxy_to(upstream.url("/base?t=1")));
    auto [req, rerr] = http::new_request("GET", proxy.url("/x/y?q=2"));
    ASSERT_FALSE(rerr);
    req.host = "example.test";
    req.header.set("X-Forwarded-For", "192.0.2.7");
    req.header.set("X-Custom", "kept");
    req.header.set("Connection", "X-Dropme");
    req.header.set("X-Dropme", "hop");
    req.header.set("Keep-Alive", "timeout=5");
    auto [resp, err] = http::Client{}.execute(std::move(req));
    ASSERT_FALSE(err) << err.message();
    EXPECT_EQ(resp.status_code, 200);
    EXPECT_EQ(read_body(resp), "from upstream");
    EXPECT_EQ(resp.header.get("X-Path"), "/base/x/y?t=1&q=2");
    EXPECT_EQ(resp.header.get("X-Host"), "example.test");
    EXPECT_EQ(resp.header.get("X-Got-Xff"), "192.0.2.7, 127.0.0.1");
    EXPECT_EQ(resp.header.get("X-Got-Custom"), "kept");
    EXPECT_EQ(resp.header.get("X-Got-Dropme"), "");
    EXPECT_EQ(resp.header.get("X-Got-Keepalive"), "");
    EXPECT_FALSE(resp.header.has("X-Secret"));
    EXPECT_FALSE(resp.header.has("Keep-Alive"));
  });
}

// Go's Rewrite with SetURL and SetXForwarded: the client's X-Forwarded-*
// are dropped, the three are set from the inbound request, and Host is the
// target's.
TEST(ReverseProxy, RewriteSetsTheForwardedFields) {
  in_runtime([] {
    ServingServer upstream([](http::ResponseWriter& w, http::Request& r) {
      w.write(std::string(r.target) + "|" + std::string(r.host) + "|" +
              std::string(r.header("X-Forwarded-For")) + "|" +
              std::string(r.header("X-Forwarded-Host")) + "|" +
              std::string(r.header("X-Forwarded-Proto")));
    });
    auto [target, perr] = url::parse(upstream.url("/api/"));
    ASSERT_FALSE(perr);
    http::ReverseProxy p;
    p.transport = std::make_shared<http::Transport>();
    p.rewrite = [target = target](http::ProxyRequest& pr) {
      pr.set_url(target);
      pr.set_x_forwarded();
    };
    ServingServer proxy(p);
    auto [req, rerr] = http::new_request("GET", proxy.url("/v1"));
    ASSERT_FALSE(rerr);
    req.host = "front.test";
    req.header.set("X-Forwarded-For", "198.51.100.1");  // not to be trusted
    auto [resp, err] = http::Client{}.execute(std::move(req));
    ASSERT_FALSE(err) << err.message();
    EXPECT_EQ(read_body(resp), "/api/v1|" + upstream.addr() + "|127.0.0.1|front.test|http");
  });
}

// Request bodies stream upstream: a body of unknown length goes chunked,
// with the client's trailer fields after it (RFC 9112 §7.1.2).
TEST(ReverseProxy, RequestBodyAndTrailersGoUpstream) {
  in_runtime([] {
    ServingServer upstream([](http::ResponseWriter& w, http::Request& r) {
      auto [body, err] = r.body().read_all();
      EXPECT_FALSE(err);
      std::string trailer;
      for (const http::Header& h : r.trailers) {
        if (http::equal_fold(h.name, "X-Sum")) trailer = h.value;
      }
      w.write(std::to_string(r.content_length) + ":" + std::to_string(body.size()) + ":" + trailer);
    });
    ServingServer proxy(proxy_to(upstream.url("/")));
    std::string big(200 << 10, 'b');
    auto [req, rerr] =
        http::new_request("POST", proxy.url("/"), std::make_shared<http::StringBody>(big), -1);
    ASSERT_FALSE(rerr);
    req.trailer.set("X-Sum", "s1");
    auto [resp, err] = http::Client{}.execute(std::move(req));
    ASSERT_FALSE(err) << err.message();
    EXPECT_EQ(read_body(resp), "-1:" + std::to_string(big.size()) + ":s1");
  });
}

// Go flushes a text/event-stream response at once: the first event
// reaches the client while the upstream is still waiting to send the
// second (it waits for the client to have the first, up to 5 s).
TEST(ReverseProxy, EventStreamIsFlushedAsItArrives) {
  in_runtime([] {
    Chan<Empty> first_seen = make_chan<Empty>(0);
    std::atomic<bool> released_by_client{false};
    ServingServer upstream([&](http::ResponseWriter& w, http::Request&) {
      w.header().set("Content-Type", "text/event-stream");
      w.write("data: one\n\n");
      (void)w.flush();
      Timer limit(5s);
      select(recv_case(first_seen, [&] { released_by_client = true; }), recv_case(limit.c()));
      w.write("data: two\n\n");
    });
    ServingServer proxy(proxy_to(upstream.url("/")));
    auto [resp, err] = http::Client{}.get(proxy.url("/events"));
    ASSERT_FALSE(err) << err.message();
    char buf[64];
    auto [n, rerr] = resp.body.read(buf);
    ASSERT_FALSE(rerr);
    EXPECT_EQ(std::string(buf, n), "data: one\n\n");
    first_seen.close();
    EXPECT_EQ(read_body(resp), "data: two\n\n");
    EXPECT_TRUE(released_by_client.load());
  });
}

// Go's FlushInterval: a body of known length is buffered by the server,
// and flushed at the latest flush_interval after a write — the first half
// reaches the client while the upstream waits (up to 5 s) to send the rest.
TEST(ReverseProxy, FlushIntervalFlushesABufferedBody) {
  in_runtime([] {
    Chan<Empty> first_seen = make_chan<Empty>(0);
    std::atomic<bool> released_by_client{false};
    ServingServer upstream([&](http::ResponseWriter& w, http::Request&) {
      w.header().set("Content-Length", "10");
      w.write("01234");
      (void)w.flush();
      Timer limit(5s);
      select(recv_case(first_seen, [&] { released_by_client = true; }), recv_case(limit.c()));
      w.write("56789");
    });
    http::ReverseProxy p = proxy_to(upstream.url("/"));
    p.flush_interval = 20ms;
    ServingServer proxy(p);
    auto [resp, err] = http::Client{}.get(proxy.url("/"));
    ASSERT_FALSE(err) << err.message();
    EXPECT_EQ(resp.content_length, 10);
    char buf[16];
    auto [n, rerr] = resp.body.read(buf);
    ASSERT_FALSE(rerr);
    EXPECT_EQ(std::string(buf, n), "01234");
    first_seen.close();
    EXPECT_EQ(read_body(resp), "56789");
    EXPECT_TRUE(released_by_client.load());
  });
}

// Trailers the upstream sends reach the client: a declared one as such,
// one set late as a "Trailer:" field (Go's ReverseProxy copies both).
TEST(ReverseProxy, ResponseTrailersArePassedOn) {
  in_runtime([] {
    ServingServer upstream([](http::ResponseWriter& w, http::Request&) {
      w.header().set("Trailer", "X-Checksum");
      w.write("payload");
      w.header().set("X-Checksum", "c0ffee");
      w.header().set("Trailer:X-Late", "yes");
    });
    ServingServer proxy(proxy_to(upstream.url("/")));
    auto [resp, err] = http::Client{}.get(proxy.url("/"));
    ASSERT_FALSE(err) << err.message();
    EXPECT_EQ(read_body(resp), "payload");
    EXPECT_EQ(resp.trailer().get("X-Checksum"), "c0ffee");
    EXPECT_EQ(resp.trailer().get("X-Late"), "yes");
  });
}

// An upstream that refuses the connection: 502 (Go's default error
// handler); one that does not answer within the transport's response
// header timeout: 504. The proxy goes on serving.
TEST(ReverseProxy, UnreachableIs502AndTimeoutIs504) {
  in_runtime([] {
    std::string closed_port;
    {
      auto [ln, err] = net::listen("tcp", "127.0.0.1:0");
      ASSERT_FALSE(err);
      closed_port = ln.addr().to_string();
    }
    ServingServer refused(proxy_to("http://" + closed_port));
    auto [r1, e1] = http::Client{}.get(refused.url("/"));
    ASSERT_FALSE(e1) << e1.message();
    EXPECT_EQ(r1.status_code, 502);
    (void)read_body(r1);

    Chan<Empty> stop = make_chan<Empty>(0);
    ServingServer slow([&](http::ResponseWriter& w, http::Request& r) {
      if (r.path == "/slow") select(recv_case(stop), recv_case(r.context().done()));
      w.write("ok");
    });
    http::ReverseProxy p = proxy_to(slow.url("/"));
    auto t = std::make_shared<http::Transport>();
    t->response_header_timeout = 50ms;
    p.transport = t;
    ServingServer proxy(p);
    auto [r2, e2] = http::Client{}.get(proxy.url("/slow"));
    ASSERT_FALSE(e2) << e2.message();
    EXPECT_EQ(r2.status_code, 504);
    (void)read_body(r2);
    auto [r3, e3] = http::Client{}.get(proxy.url("/fast"));
    ASSERT_FALSE(e3) << e3.message();
    EXPECT_EQ(r3.status_code, 200);
    EXPECT_EQ(read_body(r3), "ok");
    stop.close();
  });
}

// A custom error handler answers instead (Go's ErrorHandler).
TEST(ReverseProxy, ErrorHandlerIsCalled) {
  in_runtime([] {
    std::string closed_port;
    {
      auto [ln, err] = net::listen("tcp", "127.0.0.1:0");
      ASSERT_FALSE(err);
      closed_port = ln.addr().to_string();
    }
    http::ReverseProxy p = proxy_to("http://" + closed_port);
    p.error_handler = [](http::ResponseWriter& w, http::Request&, const http::ClientError& e) {
      EXPECT_EQ(e, std::errc::connection_refused) << e.message();
      http::error(w, "upstream down", 503);
    };
    ServingServer proxy(p);
    auto [resp, err] = http::Client{}.get(proxy.url("/"));
    ASSERT_FALSE(err) << err.message();
    EXPECT_EQ(resp.status_code, 503);
    EXPECT_EQ(read_body(resp), "upstream down\n");
  });
}

// An upstream that dies in the middle of its body: the client's response
// ends short too, as an error (never a complete-looking body) — with a
// Content-Length, and chunked.
TEST(ReverseProxy, UpstreamDyingMidBodyTruncatesTheResponse) {
  in_runtime([] {
    for (std::string reply :
         {std::string("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n0123456789"),
          std::string(
              "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\na\r\n0123456789\r\n")}) {
      RawUpstream upstream(reply);
      ServingServer proxy(proxy_to(upstream.url()));
      auto [resp, err] = http::Client{}.get(proxy.url("/"));
      ASSERT_FALSE(err) << err.message();
      EXPECT_EQ(resp.status_code, 200);
      auto [body, rerr] = resp.body.read_all();
      EXPECT_EQ(rerr, http::client_errc::unexpected_eof) << reply;
      EXPECT_EQ(body, "0123456789");
    }
  });
}

// RFC 6455 §1.3: the accept key for a Sec-WebSocket-Key.
std::string websocket_accept(std::string_view key) {
  std::string s = std::string(key) + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
  unsigned char digest[SHA_DIGEST_LENGTH];
  SHA1(reinterpret_cast<const unsigned char*>(s.data()), s.size(), digest);
  unsigned char out[64];
  int n = EVP_EncodeBlock(out, digest, SHA_DIGEST_LENGTH);
  return std::string(reinterpret_cast<char*>(out), n);
}

// 101 Switching Protocols (RFC 9110 §15.2.2, a WebSocket handshake, RFC
// 6455 §4): the proxy forwards Upgrade, joins the two connections and
// copies bytes both ways; a half-close travels through.
TEST(ReverseProxy, WebSocketUpgradeIsTunnelled) {
  in_runtime([] {
    // A hijacked connection is the handler's, not the server's: shutdown does
    // not wait for it (as Go's). The test waits for both handlers, or their
    // goroutines would be cut off at the runtime's end mid-tunnel.
    WaitGroup handlers;
    handlers.add(2);
    ServingServer upstream([&handlers](http::ResponseWriter& w, http::Request& r) {
      struct Done {
        WaitGroup& wg;
        ~Done() { wg.done(); }
      } done{handlers};
      if (!http::equal_fold(r.header("Upgrade"), "websocket")) return http::error(w, "no", 400);
      auto [raw, err] = http::ResponseController(w).hijack();
      ASSERT_FALSE(err);
      std::string head =
          "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
          "Sec-WebSocket-Accept: " +
          websocket_accept(r.header("Sec-WebSocket-Key")) + "\r\n\r\n";
      ASSERT_FALSE(raw->write(head).err);
      char buf[256];
      for (;;) {  // echo until the client's end
        auto [n, rerr] = raw->read(buf);
        if (n > 0) (void)raw->write(std::string_view(buf, n));
        if (rerr) break;
      }
      (void)raw->close_write();
    });
    ServingServer proxy(
        [&handlers, p = proxy_to(upstream.url("/"))](http::ResponseWriter& w, http::Request& r) {
          p(w, r);
          handlers.done();
        });
    auto [c, err] = net::dial("tcp", proxy.addr());
    ASSERT_FALSE(err);
    (void)c.set_deadline(net::Clock::now() + 10s);
    ASSERT_FALSE(c.write("GET /chat HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n"
                         "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                         "Sec-WebSocket-Version: 13\r\n\r\n")
                     .err);
    std::string got;
    char buf[1024];
    while (got.find("\r\n\r\n") == std::string::npos) {
      auto [n, rerr] = c.read(buf);
      got.append(buf, n);
      if (rerr) break;
    }
    EXPECT_EQ(got.substr(0, 34), "HTTP/1.1 101 Switching Protocols\r\n") << got;
    // The RFC 6455 §1.3 example key's answer.
    EXPECT_NE(got.find("Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n"), std::string::npos)
        << got;
    got.erase(0, got.find("\r\n\r\n") + 4);
    // A masked text frame "Hello" (RFC 6455 §5.7), echoed byte for byte.
    const std::string frame("\x81\x85\x37\xfa\x21\x3d\x7f\x9f\x4d\x51\x58", 11);
    ASSERT_FALSE(c.write(frame).err);
    while (got.size() < frame.size()) {
      auto [n, rerr] = c.read(buf);
      got.append(buf, n);
      if (rerr) break;
    }
    EXPECT_EQ(got, frame);
    ASSERT_FALSE(c.close_write());
    auto [n, rerr] = c.read(buf);
    EXPECT_EQ(n, 0u);
    EXPECT_EQ(rerr, net::errc::eof);
    (void)c.close();
    handlers.wait();
  });
}

}  // namespace
}  // namespace gofer
