// The HTTP client (gofer/http/client.h) against gofer's own server, and
// against a raw-socket server that sends what a test wants — including the
// malformed responses a client must refuse (RFC 9112 §6.3) — and a TLS
// server with a self-signed certificate.
#include "gofer/http/client.h"

#include <gtest/gtest.h>

#include <atomic>
#include <fstream>
#include <string>
#include <vector>

#include "gofer/chan.h"
#include "gofer/context.h"
#include "gofer/http/server.h"
#include "gofer/net.h"
#include "gofer/runtime.h"
#include "gofer/sync.h"
#include "gofer/time.h"
#include "gofer/tls.h"
#include "http/tests/serving_server.h"

namespace gofer {
namespace {

using namespace std::chrono_literals;

using testing::in_runtime;
using testing::read_body;
using testing::ServingServer;

// A raw-socket server: for each connection accepted, for each request head
// read, it writes the next of `replies` (then closes if the reply says so
// by being followed by an empty string). Counts the connections.
class RawServer {
 public:
  // `replies[i]` answers the i-th request over all connections; after the
  // last one, or when `close_after` of a reply is set, the connection
  // closes.
  struct Reply {
    std::string bytes;
    bool close_after = false;
  };
  explicit RawServer(std::vector<Reply> replies) : replies_(std::move(replies)) {
    auto [ln, err] = net::listen("tcp", "127.0.0.1:0");
    EXPECT_FALSE(err) << err.message();
    ln_ = std::move(ln);
    addr_ = ln_.addr().to_string();
    done_.add(1);
    go([this] {
      for (;;) {
        auto [c, err] = ln_.accept();
        if (err) break;
        ++conns;
        done_.add(1);
        go([this, c = std::move(c)]() mutable {
          serve(c);
          done_.done();
        });
      }
      done_.done();
    });
  }
  ~RawServer() {
    (void)ln_.close();
    done_.wait();
  }
  std::string url(std::string_view path = "/") const {
    return "http://" + addr_ + std::string(path);
  }
  std::atomic<int> conns{0};

 private:
  void serve(net::Conn& c) {
    (void)c.set_deadline(net::Clock::now() + 10s);
    std::string in;
    char buf[4096];
    for (;;) {
      std::size_t end;
      while ((end = in.find("\r\n\r\n")) == std::string::npos) {
        auto [n, err] = c.read(buf);
        in.append(buf, n);
        if (err) return;
      }
      in.erase(0, end + 4);  // the tests' requests here have no body
      std::size_t i = next_++;
      if (i >= replies_.size()) return;
      (void)c.write(replies_[i].bytes);
      if (replies_[i].close_after) return;
    }
  }

  std::vector<Reply> replies_;
  std::atomic<std::size_t> next_{0};
  net::Listener ln_;
  std::string addr_;
  WaitGroup done_;
};

http::Client client_with(std::shared_ptr<http::Transport> t) {
  http::Client c;
  c.transport = std::move(t);
  return c;
}

void hello(http::ResponseWriter& w, http::Request&) {
  w.write("Hello, World!");
}

// ---- Round trips and the pool ----------------------------------------------

// Go's Transport: a response read to its end gives its connection back,
// and the next request to the same host reuses it.
TEST(Client, GetReusesTheConnectionOnceTheBodyWasRead) {
  in_runtime([] {
    std::vector<std::string> peers;
    ServingServer srv([&](http::ResponseWriter& w, http::Request& r) {
      peers.push_back(r.remote_addr.to_string());
      hello(w, r);
    });
    auto t = std::make_shared<http::Transport>();
    http::Client client = client_with(t);
    for (int i = 0; i < 3; ++i) {
      auto [resp, err] = client.get(srv.url("/"));
      ASSERT_FALSE(err) << err.message();
      EXPECT_EQ(resp.status_code, 200);
      EXPECT_EQ(resp.status, "200 OK");
      EXPECT_EQ(resp.content_length, 13);
      EXPECT_EQ(read_body(resp), "Hello, World!");
    }
    ASSERT_EQ(peers.size(), 3u);
    EXPECT_EQ(peers[0], peers[1]);
    EXPECT_EQ(peers[1], peers[2]);
    http::TransportStats s = t->stats();
    EXPECT_EQ(s.dials, 1u);
    EXPECT_EQ(s.reused, 2u);
    EXPECT_EQ(s.idle, 1u);
    t->close_idle_connections();
    EXPECT_EQ(t->stats().idle, 0u);
    EXPECT_EQ(t->stats().open, 0u);
  });
}

// A body closed before its end closes the connection (what remains would
// be read as the next response); the next request dials.
TEST(Client, BodyNotReadToItsEndIsNotReused) {
  in_runtime([] {
    ServingServer srv(
        [](http::ResponseWriter& w, http::Request&) { w.write(std::string(256 << 10, 'x')); });
    auto t = std::make_shared<http::Transport>();
    http::Client client = client_with(t);
    {
      auto [resp, err] = client.get(srv.url("/"));
      ASSERT_FALSE(err) << err.message();
      char buf[100];
      auto [n, rerr] = resp.body.read(buf);
      EXPECT_GT(n, 0u);
      EXPECT_FALSE(rerr);
      EXPECT_FALSE(resp.body.close());
      auto [m, cerr] = resp.body.read(buf);
      EXPECT_EQ(cerr, http::client_errc::body_closed);
    }
    auto [resp, err] = client.get(srv.url("/"));
    ASSERT_FALSE(err) << err.message();
    EXPECT_EQ(read_body(resp).size(), 256u << 10);
    EXPECT_EQ(t->stats().dials, 2u);
    EXPECT_EQ(t->stats().closed_unread, 1u);
  });
}

// A chunked response (the server does not know the length) is decoded,
// and the connection is reused after its last chunk.
TEST(Client, ChunkedResponseThenReuse) {
  in_runtime([] {
    ServingServer srv([](http::ResponseWriter& w, http::Request&) {
      for (int i = 0; i < 40; ++i) {
        w.write(std::string(1000, static_cast<char>('a' + i % 26)));
        (void)w.flush();
      }
    });
    auto t = std::make_shared<http::Transport>();
    http::Client client = client_with(t);
    for (int i = 0; i < 2; ++i) {
      auto [resp, err] = client.get(srv.url("/"));
      ASSERT_FALSE(err) << err.message();
      EXPECT_EQ(resp.content_length, -1);
      std::string body = read_body(resp);
      ASSERT_EQ(body.size(), 40000u);
      EXPECT_EQ(body[39999], static_cast<char>('a' + 39 % 26));
    }
    EXPECT_EQ(t->stats().dials, 1u);
  });
}

// Go's http.Post: the body with its Content-Length; a body of unknown
// length goes chunked (RFC 9112 §7.1), its trailers after the last chunk.
TEST(Client, PostWithLengthAndChunkedWithTrailers) {
  in_runtime([] {
    ServingServer srv([](http::ResponseWriter& w, http::Request& r) {
      auto [body, err] = r.body().read_all();
      std::string out;
      for (std::string_view name : {"Content-Type", "Content-Length", "Transfer-Encoding"})
        out.append(r.header(name)).append("|");
      out.append(body);
      for (const http::Header& h : r.trailers)
        out.append("|").append(h.name).append("=").append(h.value);
      w.write(out);
    });
    auto [resp, err] = http::post(srv.url("/"), "text/plain", "hello body");
    ASSERT_FALSE(err) << err.message();
    EXPECT_EQ(read_body(resp), "text/plain|10||hello body");

    auto [req, rerr] = http::new_request(
        "PUT", srv.url("/"), std::make_shared<http::StringBody>(std::string(70000, 'z')));
    ASSERT_FALSE(rerr);
    req.trailer.set("X-Checksum", "abc");
    auto [resp2, err2] = http::Client{}.execute(std::move(req));
    ASSERT_FALSE(err2) << err2.message();
    EXPECT_EQ(read_body(resp2), "||chunked|" + std::string(70000, 'z') + "|X-Checksum=abc");

    // Go: a POST without a body says "Content-Length: 0".
    auto [resp3, err3] = http::post(srv.url("/"), "a/b", "");
    ASSERT_FALSE(err3) << err3.message();
    EXPECT_EQ(read_body(resp3), "a/b|0||");
  });
}

// A body whose length is not the content_length it claimed is an error,
// never a request the server would read out of step.
TEST(Client, RequestBodyShorterThanItsLengthIsAnError) {
  in_runtime([] {
    ServingServer srv(hello);
    auto [req, rerr] =
        http::new_request("POST", srv.url("/"), std::make_shared<http::StringBody>("abc"), 10);
    ASSERT_FALSE(rerr);
    auto [resp, err] = http::Client{}.execute(std::move(req));
    EXPECT_EQ(err, http::client_errc::body_length_mismatch) << err.message();
  });
}

// HEAD: no body, whatever Content-Length says (RFC 9110 §9.3.2), and the
// connection is reused.
TEST(Client, HeadHasNoBodyAndReusesTheConnection) {
  in_runtime([] {
    ServingServer srv(hello);
    auto t = std::make_shared<http::Transport>();
    http::Client client = client_with(t);
    for (int i = 0; i < 2; ++i) {
      auto [resp, err] = client.head(srv.url("/"));
      ASSERT_FALSE(err) << err.message();
      EXPECT_EQ(resp.status_code, 200);
      EXPECT_EQ(read_body(resp), "");
    }
    EXPECT_EQ(t->stats().dials, 1u);
  });
}

// max_conns_per_host: a request over the limit waits for a connection to
// come back, then uses it.
TEST(Client, MaxConnsPerHostMakesRequestsWait) {
  in_runtime([] {
    ServingServer srv([](http::ResponseWriter& w, http::Request&) {
      sleep_for(20ms);
      w.write("ok");
    });
    auto t = std::make_shared<http::Transport>();
    t->max_conns_per_host = 1;
    http::Client client = client_with(t);
    WaitGroup wg;
    std::atomic<int> ok{0};
    for (int i = 0; i < 4; ++i) {
      wg.add(1);
      go([&] {
        auto [resp, err] = client.get(srv.url("/"));
        EXPECT_FALSE(err) << err.message();
        if (!err && read_body(resp) == "ok") ++ok;
        wg.done();
      });
    }
    wg.wait();
    EXPECT_EQ(ok.load(), 4);
    EXPECT_EQ(t->stats().dials, 1u);
  });
}

// idle_conn_timeout: an idle connection is closed once it passes.
TEST(Client, IdleConnectionsCloseAfterTheIdleTimeout) {
  in_runtime([] {
    ServingServer srv(hello);
    auto t = std::make_shared<http::Transport>();
    t->idle_conn_timeout = 50ms;
    http::Client client = client_with(t);
    auto [resp, err] = client.get(srv.url("/"));
    ASSERT_FALSE(err) << err.message();
    read_body(resp);
    EXPECT_EQ(t->stats().idle, 1u);
    for (int i = 0; i < 200 && t->stats().idle != 0; ++i) sleep_for(10ms);
    EXPECT_EQ(t->stats().idle, 0u);
    EXPECT_EQ(t->stats().open, 0u);
  });
}

// max_idle_conns_per_host (Go's default 2): of 4 connections in use at
// once, 2 stay idle afterwards.
TEST(Client, IdleConnectionsPerHostAreBounded) {
  in_runtime([] {
    Chan<Empty> release = make_chan<Empty>(0);
    std::atomic<int> waiting{0};
    ServingServer srv([&](http::ResponseWriter& w, http::Request&) {
      ++waiting;
      (void)release.recv();
      w.write("ok");
    });
    auto t = std::make_shared<http::Transport>();
    http::Client client = client_with(t);
    WaitGroup wg;
    for (int i = 0; i < 4; ++i) {
      wg.add(1);
      go([&] {
        auto [resp, err] = client.get(srv.url("/"));
        EXPECT_FALSE(err) << err.message();
        if (!err) read_body(resp);
        wg.done();
      });
    }
    // All four in flight at once (else one could reuse another's).
    for (int i = 0; i < 500 && waiting.load() < 4; ++i) sleep_for(10ms);
    EXPECT_EQ(waiting.load(), 4);
    for (int i = 0; i < 4; ++i) release.send({});
    wg.wait();
    EXPECT_EQ(t->stats().dials, 4u);
    EXPECT_EQ(t->stats().idle, 2u);
  });
}

// Go's Transport retries a request on a new connection when a pooled one
// turns out to be closed by the server before any response byte.
TEST(Client, StalePooledConnectionIsRetriedOnANewOne) {
  in_runtime([] {
    RawServer srv({{"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi", true},
                   {"HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nbye", true}});
    auto t = std::make_shared<http::Transport>();
    http::Client client = client_with(t);
    auto [r1, e1] = client.get(srv.url());
    ASSERT_FALSE(e1) << e1.message();
    EXPECT_EQ(read_body(r1), "hi");
    sleep_for(20ms);  // the server's close reaches us (not needed for the result)
    auto [r2, e2] = client.get(srv.url());
    ASSERT_FALSE(e2) << e2.message();
    EXPECT_EQ(read_body(r2), "bye");
    EXPECT_EQ(t->stats().retried, 1u);
    EXPECT_EQ(srv.conns.load(), 2);
  });
}

// ---- Strict response reading ------------------------------------------------

struct Malformed {
  const char* name;
  std::string reply;
  http::client_errc head_error;  // 0: the head is fine, the body fails
  http::client_errc body_error;
};

// RFC 9112 §6.3: a response whose framing is ambiguous or broken is an
// error value, and its connection is never reused (the next request dials).
TEST(Client, MalformedResponsesAreErrorsAndTheirConnectionIsNotReused) {
  std::vector<Malformed> cases = {
      {"both Content-Length and Transfer-Encoding",
       "HTTP/1.1 200 OK\r\nContent-Length: 3\r\nTransfer-Encoding: "
       "chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n",
       http::client_errc::malformed_response,
       {}},
      {"two different Content-Lengths",
       "HTTP/1.1 200 OK\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd",
       http::client_errc::malformed_response,
       {}},
      {"bad status line", "HTTP/1.1 2x0 OK\r\n\r\n", http::client_errc::malformed_response, {}},
      {"six 100 Continue",
       [] {
         std::string s;
         for (int i = 0; i < 6; ++i) s += "HTTP/1.1 100 Continue\r\n\r\n";
         return s + "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n";
       }(),
       http::client_errc::too_many_informational,
       {}},
      {"bad chunk size",
       "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nabc\r\n0\r\n\r\n",
       {},
       http::client_errc::malformed_response},
      {"Content-Length cut short",
       "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc",
       {},
       http::client_errc::unexpected_eof},
      {"chunked cut short",
       "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n",
       {},
       http::client_errc::unexpected_eof},
  };
  for (const Malformed& m : cases) {
    SCOPED_TRACE(m.name);
    in_runtime([&] {
      RawServer srv({{m.reply, true}, {"HTTP/1.1 204 No Content\r\n\r\n", false}});
      auto t = std::make_shared<http::Transport>();
      http::Client client = client_with(t);
      auto [resp, err] = client.get(srv.url());
      if (m.head_error != http::client_errc{}) {
        EXPECT_EQ(err, m.head_error) << err.message();
        EXPECT_NE(err.message().find("Get \"" + srv.url() + "\""), std::string::npos)
            << err.message();
      } else {
        ASSERT_FALSE(err) << err.message();
        auto [body, berr] = resp.body.read_all();
        EXPECT_EQ(berr, m.body_error) << berr.message();
      }
      auto [r2, e2] = client.get(srv.url());
      ASSERT_FALSE(e2) << e2.message();
      EXPECT_EQ(r2.status_code, 204);
      EXPECT_EQ(srv.conns.load(), 2);
    });
  }
}

// A head longer than max_response_header_bytes is refused.
TEST(Client, OverLongResponseHeadIsAnError) {
  in_runtime([] {
    RawServer srv(
        {{"HTTP/1.1 200 OK\r\nX-Big: " + std::string(40000, 'a') + "\r\nContent-Length: 0\r\n\r\n",
          true}});
    auto t = std::make_shared<http::Transport>();
    t->max_response_header_bytes = 16 << 10;
    http::Client client = client_with(t);
    auto [resp, err] = client.get(srv.url());
    EXPECT_EQ(err, http::client_errc::malformed_response) << err.message();
  });
}

// A response without framing is read until the server closes, and that
// connection is not pooled (RFC 9112 §6.3 rule 8).
TEST(Client, ResponseWithoutFramingEndsAtCloseAndIsNotReused) {
  in_runtime([] {
    RawServer srv({{"HTTP/1.1 200 OK\r\n\r\nuntil close", true},
                   {"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", false}});
    auto t = std::make_shared<http::Transport>();
    http::Client client = client_with(t);
    auto [resp, err] = client.get(srv.url());
    ASSERT_FALSE(err) << err.message();
    EXPECT_TRUE(resp.close);
    EXPECT_EQ(read_body(resp), "until close");
    EXPECT_EQ(t->stats().idle, 0u);
    auto [r2, e2] = client.get(srv.url());
    ASSERT_FALSE(e2) << e2.message();
    EXPECT_EQ(srv.conns.load(), 2);
  });
}

// Go's Got1xxResponse: 1xx responses before the final one reach the hook.
TEST(Client, InformationalResponsesReachTheHook) {
  in_runtime([] {
    RawServer srv(
        {{"HTTP/1.1 103 Early Hints\r\nLink: </a.css>; rel=preload\r\n\r\n"
          "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok",
          true}});
    auto [req, rerr] = http::new_request("GET", srv.url());
    ASSERT_FALSE(rerr);
    std::vector<std::string> seen;
    req.on_informational = [&](int status, std::span<const http::Header> fields) {
      seen.push_back(std::to_string(status) + " " + std::string(fields[0].value));
    };
    auto [resp, err] = http::Client{}.execute(std::move(req));
    ASSERT_FALSE(err) << err.message();
    EXPECT_EQ(read_body(resp), "ok");
    EXPECT_EQ(seen, (std::vector<std::string>{"103 </a.css>; rel=preload"}));
  });
}

// ---- Redirects --------------------------------------------------------------

// Go's Client: 301/302/303 turn a POST into a GET without a body; 307/308
// keep the method and send the body again.
TEST(Client, RedirectsChangeOrKeepTheMethodByStatus) {
  in_runtime([] {
    ServingServer srv([](http::ResponseWriter& w, http::Request& r) {
      std::string path(r.path);
      if (path.starts_with("/r/")) {
        w.header().set("Location", "/final");
        w.write_header(std::stoi(path.substr(3)));
        return;
      }
      auto [body, err] = r.body().read_all();
      w.write(std::string(r.method) + " " + body);
    });
    // No SCOPED_TRACE here: gtest keeps its trace stack per thread, and
    // this goroutine may resume on another thread after each request.
    for (int code : {301, 302, 303, 307, 308}) {
      auto [resp, err] = http::post(srv.url("/r/" + std::to_string(code)), "text/plain", "data");
      ASSERT_FALSE(err) << code << ": " << err.message();
      EXPECT_EQ(resp.status_code, 200) << code;
      EXPECT_EQ(resp.url.path, "/final") << code;
      EXPECT_EQ(read_body(resp), code >= 307 ? "POST data" : "GET ") << code;
      EXPECT_EQ(resp.method, code >= 307 ? "POST" : "GET") << code;
    }
    // A 307 whose body cannot be sent again is returned as it is.
    auto [req, rerr] =
        http::new_request("POST", srv.url("/r/307"), std::make_shared<http::StringBody>("x"), 1);
    ASSERT_FALSE(rerr);
    auto [resp, err] = http::Client{}.execute(std::move(req));
    ASSERT_FALSE(err) << err.message();
    EXPECT_EQ(resp.status_code, 307);
  });
}

// Go: "stopped after 10 redirects"; check_redirect sees the chain and can
// stop it, or ask for the redirect itself (ErrUseLastResponse).
TEST(Client, RedirectLoopStopsAfterTenAndCheckRedirectDecides) {
  in_runtime([] {
    std::atomic<int> hits{0};
    ServingServer srv([&](http::ResponseWriter& w, http::Request&) {
      ++hits;
      w.header().set("Location", "/loop");
      w.write_header(302);
    });
    auto [resp, err] = http::get(srv.url("/loop"));
    EXPECT_EQ(err, http::client_errc::too_many_redirects) << err.message();
    EXPECT_EQ(hits.load(), 10);

    std::size_t via_seen = 0;
    http::Client last;
    last.check_redirect = [&](const http::ClientRequest&,
                              std::span<const http::ClientRequest> via) -> Error {
      via_seen = via.size();
      return via.size() >= 2 ? make_error_code(http::client_errc::use_last_response) : Error{};
    };
    auto [r2, e2] = last.get(srv.url("/loop"));
    ASSERT_FALSE(e2) << e2.message();
    EXPECT_EQ(r2.status_code, 302);
    EXPECT_EQ(via_seen, 2u);
  });
}

// Go: credentials are not sent on to another host.
TEST(Client, AuthorizationIsDroppedOnARedirectToAnotherHost) {
  in_runtime([] {
    ServingServer target([](http::ResponseWriter& w, http::Request& r) {
      w.write("auth=" + std::string(r.header("Authorization")));
    });
    std::string target_url = target.url("/t");
    // 127.0.0.1 and localhost: another host name for the same server.
    std::string other = "http://localhost" + target_url.substr(target_url.rfind(':'));
    ServingServer origin([&](http::ResponseWriter& w, http::Request& r) {
      if (r.path == "/same")
        w.header().set("Location", target_url);
      else
        w.header().set("Location", other);
      w.write_header(302);
    });
    for (const char* path : {"/same", "/other"}) {
      auto [req, rerr] = http::new_request("GET", origin.url(path));
      ASSERT_FALSE(rerr);
      req.header.set("Authorization", "secret");
      auto [resp, err] = http::Client{}.execute(std::move(req));
      ASSERT_FALSE(err) << err.message();
      EXPECT_EQ(read_body(resp), std::string(path) == "/same" ? "auth=secret" : "auth=");
    }
  });
}

// ---- Cancellation and timeouts ----------------------------------------------

// The request's context ends the wait for the response, and the connection
// is closed (not pooled).
TEST(Client, RequestContextCancelsTheExchange) {
  in_runtime([] {
    Chan<Empty> stop = make_chan<Empty>(0);
    ServingServer srv([&](http::ResponseWriter& w, http::Request& r) {
      select(recv_case(stop), recv_case(r.context().done()));
      w.write("late");
    });
    auto t = std::make_shared<http::Transport>();
    auto [ctx, cancel] = with_cancel(background());
    auto [req, rerr] = http::new_request("GET", srv.url("/"));
    ASSERT_FALSE(rerr);
    req.set_context(ctx);
    go([cancel = cancel] {
      sleep_for(30ms);
      cancel();
    });
    auto [resp, err] = client_with(t).execute(std::move(req));
    EXPECT_EQ(err, context_errc::canceled) << err.message();
    EXPECT_EQ(t->stats().idle, 0u);
    EXPECT_EQ(t->stats().open, 0u);
    stop.close();
  });
}

// Client::timeout bounds the whole exchange, the body's reads included;
// the error says it was the client's timeout (Go's err.Timeout()).
TEST(Client, ClientTimeoutCoversHeadAndBody) {
  in_runtime([] {
    Chan<Empty> stop = make_chan<Empty>(0);
    ServingServer srv([&](http::ResponseWriter& w, http::Request& r) {
      if (r.path == "/slow-body") {
        w.write("first");
        (void)w.flush();
      }
      select(recv_case(stop), recv_case(r.context().done()));
    });
    http::Client client;
    client.timeout = 100ms;
    auto [resp, err] = client.get(srv.url("/slow-head"));
    EXPECT_EQ(err, http::client_errc::client_timeout) << err.message();
    EXPECT_TRUE(err.timeout());

    auto [r2, e2] = client.get(srv.url("/slow-body"));
    ASSERT_FALSE(e2) << e2.message();
    auto [body, berr] = r2.body.read_all();
    EXPECT_EQ(berr, http::client_errc::client_timeout) << berr.message();
    EXPECT_EQ(body, "first");
    stop.close();
  });
}

// Transport::response_header_timeout: from the request's end to the head.
TEST(Client, ResponseHeaderTimeout) {
  in_runtime([] {
    Chan<Empty> stop = make_chan<Empty>(0);
    ServingServer srv([&](http::ResponseWriter&, http::Request& r) {
      select(recv_case(stop), recv_case(r.context().done()));
    });
    auto t = std::make_shared<http::Transport>();
    t->response_header_timeout = 50ms;
    auto [resp, err] = client_with(t).get(srv.url("/"));
    EXPECT_EQ(err, http::client_errc::response_header_timeout) << err.message();
    EXPECT_TRUE(err.timeout());
    stop.close();
  });
}

// ---- Bad input ----------------------------------------------------------------

TEST(Client, BadUrlsAndRefusedConnectionsAreErrorsThatSayWhere) {
  in_runtime([] {
    auto [r1, e1] = http::get("ftp://127.0.0.1/x");
    EXPECT_EQ(e1, http::client_errc::unsupported_scheme);
    EXPECT_EQ(e1.message(),
              "Get \"ftp://127.0.0.1/x\": checking the request: unsupported protocol scheme: "
              "unsupported protocol scheme \"ftp\"");
    auto [r2, e2] = http::get("http://[::1");
    EXPECT_EQ(e2, http::client_errc::invalid_request) << e2.message();
    auto [r3, e3] = http::get("/relative");
    EXPECT_EQ(e3, http::client_errc::unsupported_scheme) << e3.message();

    // A port nobody listens on: refused, and the message names the dial.
    auto [ln, lerr] = net::listen("tcp", "127.0.0.1:0");
    ASSERT_FALSE(lerr);
    std::string addr = ln.addr().to_string();
    (void)ln.close();
    auto [r4, e4] = http::get("http://" + addr + "/");
    EXPECT_EQ(e4, std::errc::connection_refused) << e4.message();
    EXPECT_NE(e4.message().find("dial tcp " + addr), std::string::npos) << e4.message();

    auto [req, rerr] = http::new_request("GET", "http://" + addr + "/");
    ASSERT_FALSE(rerr);
    req.header.set("X-Bad", "a\r\nInjected: yes");
    auto [r5, e5] = http::Client{}.execute(std::move(req));
    EXPECT_EQ(e5, http::client_errc::invalid_request) << e5.message();
  });
}

// ---- HTTPS ------------------------------------------------------------------

// A TLS server with a self-signed certificate for 127.0.0.1 and localhost,
// answering each request with a fixed response.
class TlsServer {
 public:
  TlsServer() {
    auto [cert, err] = tls::self_signed({"localhost", "127.0.0.1"});
    EXPECT_FALSE(err) << err.message();
    cert_pem = cert.cert_pem();
    tls::Config config;
    config.certificates = {cert};
    auto [sc, serr] = tls::ServerConfig::load(config);
    EXPECT_FALSE(serr) << serr.message();
    auto [ln, lerr] = net::listen("tcp", "127.0.0.1:0");
    EXPECT_FALSE(lerr);
    ln_ = std::move(ln);
    port = std::to_string(ln_.addr().port());
    done_.add(1);
    go([this, sc = sc] {
      for (;;) {
        auto [c, err] = ln_.accept();
        if (err) break;
        done_.add(1);
        go([this, sc, c = std::move(c)]() mutable {
          tls::Conn t = tls::server(std::move(c), sc);
          (void)t.set_deadline(net::Clock::now() + 5s);
          std::string in;
          char buf[4096];
          while (true) {
            while (in.find("\r\n\r\n") == std::string::npos) {
              auto [n, rerr] = t.read(buf);
              in.append(buf, n);
              if (rerr) {
                done_.done();
                return;
              }
            }
            in.erase(0, in.find("\r\n\r\n") + 4);
            std::string_view reply = "HTTP/1.1 200 OK\r\nContent-Length: 6\r\n\r\nsecure";
            (void)t.write(std::span<const char>(reply.data(), reply.size()));
          }
        });
      }
      done_.done();
    });
  }
  ~TlsServer() {
    (void)ln_.close();
    done_.wait();
  }
  std::string cert_pem;
  std::string port;

 private:
  net::Listener ln_;
  WaitGroup done_;
};

// HTTPS: the certificate is verified against the configured CAs and the
// URL's host (name or IP); an untrusted one or the wrong name is a TLS
// error value; insecure_skip_verify accepts it only when set.
TEST(Client, HttpsVerifiesTheServerAndReusesTheConnection) {
  in_runtime([] {
    TlsServer srv;
    std::string ca = ::testing::TempDir() + "client_test_ca.pem";
    std::ofstream(ca) << srv.cert_pem;

    {  // The system's CAs do not know a self-signed certificate.
      auto [resp, err] = http::get("https://127.0.0.1:" + srv.port + "/");
      EXPECT_TRUE(err);
      EXPECT_NE(err.message().find("tls handshake with 127.0.0.1:" + srv.port), std::string::npos)
          << err.message();
    }
    auto t = std::make_shared<http::Transport>();
    t->tls_config.root_ca_file = ca;
    http::Client client = client_with(t);
    for (const char* host : {"127.0.0.1", "localhost", "127.0.0.1"}) {
      auto [resp, err] = client.get(std::string("https://") + host + ":" + srv.port + "/");
      ASSERT_FALSE(err) << err.message();
      EXPECT_EQ(read_body(resp), "secure");
    }
    EXPECT_EQ(t->stats().dials, 2u);  // one per host name; the third reused the first

    {  // A name the certificate does not have.
      auto t2 = std::make_shared<http::Transport>();
      t2->tls_config.root_ca_file = ca;
      t2->tls_config.server_name = "example.com";
      auto [resp, err] = client_with(t2).get("https://127.0.0.1:" + srv.port + "/");
      EXPECT_TRUE(err);
    }
    {
      auto t3 = std::make_shared<http::Transport>();
      t3->tls_config.insecure_skip_verify = true;
      auto [resp, err] = client_with(t3).get("https://127.0.0.1:" + srv.port + "/");
      ASSERT_FALSE(err) << err.message();
      EXPECT_EQ(read_body(resp), "secure");
    }
  });
}

}  // namespace
}  // namespace gofer
