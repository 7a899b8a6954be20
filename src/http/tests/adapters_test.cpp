// Handler adapters: Go's StripPrefix, TimeoutHandler, MaxBytesHandler,
// NotFoundHandler and RedirectHandler, through httptest's recorder — and
// the httptest helpers themselves (Go's httptest.NewRequest and
// ResponseRecorder).
#include <fcntl.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <chrono>
#include <stdexcept>
#include <string>

#include "gofer/chan.h"
#include "gofer/context.h"
#include "gofer/http/httptest.h"
#include "gofer/http/mux.h"
#include "gofer/runtime.h"
#include "gofer/time.h"

namespace gofer::http {
namespace {

using namespace std::chrono_literals;
using httptest::new_request;
using httptest::ResponseRecorder;

// Waits until every goroutine but the caller has exited, so that a test's
// late handlers have released what they hold before gofer::run returns
// (run abandons goroutines still alive, which would read as leaks).
void join_goroutines() {
  auto deadline = std::chrono::steady_clock::now() + 20s;
  while (gofer::num_goroutines() > 1) {
    ASSERT_LT(std::chrono::steady_clock::now(), deadline) << "goroutines still running";
    gofer::sleep_for(1ms);
  }
}

// --- httptest ---------------------------------------------------------------

TEST(HttptestNewRequest, BuildsAServerLikeRequestThatOwnsItsBytes) {
  std::unique_ptr<httptest::TestRequest> r;
  {
    std::string method = "POST";
    std::string target = "/search?q=a%20b&x=1";
    std::string name = "X-Token";
    std::string value = "secret";
    r = new_request(method, target, "payload", {{name, value}});
  }  // the arguments are gone; the request's views must not be
  EXPECT_EQ(r->method, "POST");
  EXPECT_EQ(r->target, "/search?q=a%20b&x=1");
  EXPECT_EQ(r->path, "/search");
  EXPECT_EQ(r->raw_query, "q=a%20b&x=1");
  EXPECT_EQ(r->query("q"), "a b");
  EXPECT_EQ(r->host, "example.com");
  EXPECT_EQ(r->header("x-token"), "secret");
  EXPECT_EQ(r->content_length, 7);
  EXPECT_EQ(r->proto(), "HTTP/1.1");
  EXPECT_EQ(r->remote_addr.to_string(), "192.0.2.1:1234");
  auto [body, err] = r->body().read_all();
  EXPECT_FALSE(err);
  EXPECT_EQ(body, "payload");
  char buf[4];
  EXPECT_EQ(r->body().read(buf).err, net::errc::eof);
}

TEST(HttptestNewRequest, HostFromAbsoluteUrlOrHeader) {
  auto abs = new_request("GET", "http://api.test:8080/v1?k=v");
  EXPECT_EQ(abs->host, "api.test:8080");
  EXPECT_EQ(abs->path, "/v1");
  EXPECT_EQ(abs->raw_query, "k=v");
  EXPECT_EQ(new_request("GET", "http://api.test")->path, "/");
  EXPECT_EQ(new_request("GET", "/", "", {{"Host", "h.test"}})->host, "h.test");
  EXPECT_EQ(new_request("OPTIONS", "*")->target, "*");
  EXPECT_THROW(new_request("GET", "relative"), std::invalid_argument);
  EXPECT_THROW(new_request("", "/"), std::invalid_argument);
}

TEST(HttptestRecorder, RecordsLikeAServer) {
  ResponseRecorder w;
  EXPECT_EQ(w.code, 200);
  EXPECT_FALSE(w.wrote_header());
  w.header().set("X-A", "1");
  w.write_header(status_created);
  w.write_header(status_not_found);  // superfluous: ignored
  w.header().set("X-B", "late");     // after the head: not in what was sent
  w.write("<html><body>hi");
  EXPECT_EQ(w.code, 201);
  EXPECT_TRUE(w.wrote_header());
  EXPECT_EQ(w.sent_header().get("X-A"), "1");
  EXPECT_FALSE(w.sent_header().has("X-B"));
  EXPECT_EQ(w.header().get("Content-Type"), "text/html; charset=utf-8");  // sniffed
  EXPECT_EQ(w.body, "<html><body>hi");
  EXPECT_THROW(ResponseRecorder().write_header(42), std::invalid_argument);

  ResponseRecorder implicit;
  implicit.write("plain");
  EXPECT_EQ(implicit.code, 200);
  EXPECT_EQ(implicit.sent_header().get("Content-Type"), "text/plain; charset=utf-8");
  EXPECT_FALSE(implicit.flushed);
  EXPECT_FALSE(implicit.flush());
  EXPECT_TRUE(implicit.flushed);
}

TEST(HttptestRecorder, SendFileReadsTheRange) {
  char path[] = "/tmp/gofer_recorder_XXXXXX";
  int fd = ::mkstemp(path);
  ASSERT_GE(fd, 0);
  ::unlink(path);
  ASSERT_EQ(::write(fd, "0123456789", 10), 10);
  ResponseRecorder w;
  auto [n, err] = w.send_file(fd, 3, 4);
  EXPECT_FALSE(err);
  EXPECT_EQ(n, 4u);
  EXPECT_EQ(w.body, "3456");
  auto [m, err2] = w.send_file(fd, 8, 100);  // short at the end of the file
  EXPECT_EQ(m, 2u);
  EXPECT_EQ(w.body, "345689");
  ::close(fd);
}

// --- strip_prefix (Go's StripPrefix) ---------------------------------------

TEST(StripPrefix, InnerHandlerSeesTheRestAndPathIsRestored) {
  std::string seen;
  Handler h = strip_prefix("/static", [&](ResponseWriter& w, Request& r) { seen = r.path; });
  auto r = new_request("GET", "/static/css/a.css?v=1");
  ResponseRecorder w;
  h(w, *r);
  EXPECT_EQ(seen, "/css/a.css");
  EXPECT_EQ(r->path, "/static/css/a.css");  // restored for outer handlers (logging)
  EXPECT_EQ(r->raw_query, "v=1");
}

TEST(StripPrefix, MissingPrefixIs404) {
  bool called = false;
  Handler h = strip_prefix("/static", [&](ResponseWriter&, Request&) { called = true; });
  auto r = new_request("GET", "/other/a.css");
  ResponseRecorder w;
  h(w, *r);
  EXPECT_FALSE(called);
  EXPECT_EQ(w.code, 404);
}

TEST(StripPrefix, ComparesTheEscapedPath) {
  std::string seen;
  Handler h = strip_prefix("/a%20b", [&](ResponseWriter&, Request& r) { seen = r.path; });
  auto r = new_request("GET", "/a%20b/c");
  ResponseRecorder w;
  h(w, *r);
  EXPECT_EQ(seen, "/c");
}

TEST(StripPrefix, EmptyPrefixReturnsTheHandler) {
  int calls = 0;
  Handler h = strip_prefix("", [&](ResponseWriter&, Request&) { ++calls; });
  auto r = new_request("GET", "/x");
  ResponseRecorder w;
  h(w, *r);
  EXPECT_EQ(calls, 1);
}

// --- not_found_handler / redirect_handler ----------------------------------

TEST(SimpleHandlers, NotFoundAndRedirect) {
  auto r = new_request("GET", "/x");
  ResponseRecorder w1;
  not_found_handler()(w1, *r);
  EXPECT_EQ(w1.code, 404);
  ResponseRecorder w2;
  redirect_handler("/elsewhere", status_found)(w2, *r);
  EXPECT_EQ(w2.code, 302);
  EXPECT_EQ(w2.header().get("Location"), "/elsewhere");
}

// --- timeout_handler (Go's TimeoutHandler) ----------------------------------

TEST(TimeoutHandler, FastHandlerIsCopiedThrough) {
  gofer::run([] {
    Handler h = timeout_handler(
        [](ResponseWriter& w, Request& r) {
          w.header().set("X-Thing", "1");
          w.header().add("X-Multi", "a");
          w.header().add("X-Multi", "b");
          w.write_header(status_created);
          w.write("made ");
          w.write(r.path);
        },
        5s);
    auto r = new_request("POST", "/things");
    ResponseRecorder w;
    w.header().set("X-Multi", "outer");  // replaced, as Go's dst[k] = vv does
    h(w, *r);
    EXPECT_EQ(w.code, 201);
    EXPECT_EQ(w.body, "made /things");
    EXPECT_EQ(w.header().get("X-Thing"), "1");
    std::vector<std::string> multi;
    w.header().for_each([&](std::string_view n, std::string_view v) {
      if (equal_fold(n, "X-Multi")) multi.emplace_back(v);
    });
    EXPECT_EQ(multi, (std::vector<std::string>{"a", "b"}));
    join_goroutines();
  });
}

TEST(TimeoutHandler, SlowHandlerGets503AndLateWritesFail) {
  gofer::run([] {
    // The late handler reports what it sees once the timeout handler has
    // answered and returned (`proceed` is closed then).
    struct Late {
      std::error_code ctx_err;
      Error write_err;
      std::string path;
    };
    Chan<Late> late = make_chan<Late>(1);
    Chan<Empty> proceed = make_chan<Empty>();
    Handler h = timeout_handler(
        [late, proceed](ResponseWriter& w, Request& r) {
          w.write("partial");  // buffered, never sent
          gofer::select(recv_case(r.context().done()));
          Late l;
          l.ctx_err = r.context().err();  // cancelled at the timeout
          proceed.recv();
          l.write_err = w.write("too late").err;
          l.path = std::string(r.path);  // the copy outlives the caller's request
          late.send(std::move(l));
        },
        20ms, "too slow");
    ResponseRecorder w;
    {
      auto r = new_request("GET", "/slow");
      h(w, *r);
    }  // the request is destroyed while the late handler still runs
    proceed.close();
    EXPECT_EQ(w.code, 503);
    EXPECT_EQ(w.body, "too slow");
    EXPECT_EQ(w.header().get("Content-Type"), "text/plain; charset=utf-8");
    auto [l, ok] = late.recv();
    ASSERT_TRUE(ok);
    EXPECT_EQ(l.ctx_err, context_errc::deadline_exceeded);
    EXPECT_EQ(l.write_err, errc::handler_timeout);
    EXPECT_EQ(l.path, "/slow");
    join_goroutines();
  });
}

TEST(TimeoutHandler, DefaultMessageIsHtml) {
  gofer::run([] {
    Chan<Empty> release = make_chan<Empty>();
    Handler h = timeout_handler([release](ResponseWriter&, Request&) { release.recv(); }, 10ms);
    auto r = new_request("GET", "/");
    ResponseRecorder w;
    h(w, *r);
    release.close();
    EXPECT_EQ(w.code, 503);
    EXPECT_NE(w.body.find("<h1>Timeout</h1>"), std::string::npos);
    EXPECT_EQ(w.header().get("Content-Type"), "text/html; charset=utf-8");
    join_goroutines();
  });
}

TEST(TimeoutHandler, HandlerExceptionIsRethrown) {
  gofer::run([] {
    Handler h = timeout_handler([](ResponseWriter&, Request&) { throw std::runtime_error("boom"); }, 5s);
    auto r = new_request("GET", "/");
    ResponseRecorder w;
    EXPECT_THROW(h(w, *r), std::runtime_error);
    join_goroutines();
  });
}

TEST(TimeoutHandler, BodyReadableInTimeNotAfter) {
  gofer::run([] {
    Chan<Error> after_err = make_chan<Error>(1);
    Chan<Empty> proceed = make_chan<Empty>();
    Handler inner = [after_err, proceed](ResponseWriter& w, Request& r) {
      auto [body, err] = r.body().read_all();
      w.write(body);
      if (r.path == "/slow") {
        proceed.recv();
        char buf[8];
        after_err.send(r.body().read(buf).err);
      }
    };
    // The fast request gets a timeout no loaded machine reaches; the slow
    // one blocks until `proceed` closes, so it always outlives its 30 ms.
    Handler in_time = timeout_handler(inner, 10s);
    Handler timing_out = timeout_handler(inner, 30ms);
    auto fast = new_request("POST", "/fast", "hello body");
    ResponseRecorder w;
    in_time(w, *fast);
    EXPECT_EQ(w.code, 200);
    EXPECT_EQ(w.body, "hello body");

    auto slow = new_request("POST", "/slow", "x");
    ResponseRecorder w2;
    timing_out(w2, *slow);
    EXPECT_EQ(w2.code, 503);
    slow.reset();  // the real body is gone; the late read must not touch it
    proceed.close();
    auto [err, ok] = after_err.recv();
    ASSERT_TRUE(ok);
    EXPECT_EQ(err, errc::handler_timeout);
    join_goroutines();
  });
}

TEST(TimeoutHandler, CancelledParentGives503WithoutBody) {
  gofer::run([] {
    Chan<Empty> release = make_chan<Empty>();
    Handler h = timeout_handler([release](ResponseWriter&, Request&) { release.recv(); }, 10s);
    auto r = new_request("GET", "/");
    auto [ctx, cancel] = with_cancel(background());
    r->set_context(ctx);
    gofer::go([cancel = cancel] {
      gofer::sleep_for(10ms);
      cancel();  // the client went away
    });
    ResponseRecorder w;
    h(w, *r);
    release.close();
    EXPECT_EQ(w.code, 503);
    EXPECT_EQ(w.body, "");
    join_goroutines();
  });
}

// --- max_bytes_handler (Go's MaxBytesHandler / MaxBytesReader) --------------

TEST(MaxBytesHandler, ReadingPastTheLimitFails) {
  Handler h = max_bytes_handler(
      [](ResponseWriter& w, Request& r) {
        auto [body, err] = r.body().read_all();
        if (err == errc::body_too_large) {
          EXPECT_EQ(body, "hello");  // the bytes up to the limit, as Go returns them
          error(w, "too large", status_payload_too_large);
          return;
        }
        w.write(body);
      },
      5);
  auto big = new_request("POST", "/", "hello world");
  ResponseRecorder w;
  h(w, *big);
  EXPECT_EQ(w.code, 413);

  auto exact = new_request("POST", "/", "hello");
  ResponseRecorder w2;
  h(w2, *exact);
  EXPECT_EQ(w2.code, 200);
  EXPECT_EQ(w2.body, "hello");
}

TEST(MaxBytesHandler, ErrorIsStickyAndBodyIsRestored) {
  Body* inner_body = nullptr;
  Handler h = max_bytes_handler(
      [&](ResponseWriter&, Request& r) {
        inner_body = &r.body();
        char buf[4];
        auto first = r.body().read(buf);  // 3 allowed: gets 3, then the limit is hit
        EXPECT_EQ(first.value, 3u);
        EXPECT_EQ(first.err, errc::body_too_large);
        auto again = r.body().read(buf);
        EXPECT_EQ(again.value, 0u);
        EXPECT_EQ(again.err, errc::body_too_large);
      },
      3);
  auto r = new_request("POST", "/", "abcdef");
  Body* original = &r->body();
  ResponseRecorder w;
  h(w, *r);
  EXPECT_NE(inner_body, original);
  EXPECT_EQ(&r->body(), original);
}

}  // namespace
}  // namespace gofer::http
