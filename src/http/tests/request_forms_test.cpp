// Request::url, forms, multipart, cookies and clone, through the public
// API (httptest requests, and a real server where the connection matters).
// Each test names the Go net/http behaviour or RFC rule it checks.
#include <gtest/gtest.h>

#include <atomic>
#include <string>
#include <vector>

#include "gofer/chan.h"
#include "gofer/http/form.h"
#include "gofer/http/httptest.h"
#include "gofer/http/mux.h"
#include "gofer/http/server.h"
#include "gofer/io.h"
#include "gofer/net.h"
#include "gofer/runtime.h"
#include "gofer/sync.h"

namespace http = gofer::http;
namespace net = gofer::net;
using http::httptest::new_request;
using namespace std::chrono_literals;

namespace {

// Go's r.URL: path decoded, RawQuery as sent, Query() with every value of
// a key in order.
TEST(RequestUrl, QueryHasEveryValueOfAKey) {
  auto r = new_request("GET", "/search%20me?q=a&q=b&x=%20y&flag");
  const gofer::url::URL& u = r->url();
  EXPECT_EQ(u.path, "/search me");
  EXPECT_EQ(u.raw_query, "q=a&q=b&x=%20y&flag");
  gofer::url::Values q = u.query();
  EXPECT_EQ(q.values("q"), (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(q.get("x"), " y");
  EXPECT_TRUE(q.has("flag"));
  EXPECT_EQ(r->query("q"), "a");  // the first, as before
  EXPECT_EQ(u.host, "");          // origin-form: the host is r.host (Go: r.Host)
}

// RFC 9112 §3.2.2: an absolute-form target gives the URL its scheme and
// authority (Go's r.URL.Host).
TEST(RequestUrl, AbsoluteFormHasSchemeAndHost) {
  auto r = new_request("GET", "http://example.com:8080/p?x=1");
  EXPECT_EQ(r->url().scheme, "http");
  EXPECT_EQ(r->url().host, "example.com:8080");
  EXPECT_EQ(r->url().path, "/p");
}

// Go's StripPrefix changes r.URL.Path: url() follows the path as it is now.
TEST(RequestUrl, FollowsStripPrefix) {
  std::string seen;
  http::Handler inner = [&](http::ResponseWriter&, http::Request& r) { seen = r.url().path; };
  http::Handler h = http::strip_prefix("/api", inner);
  auto r = new_request("GET", "/api/items?x=1");
  EXPECT_EQ(r->url().path, "/api/items");  // cached before the prefix goes
  http::httptest::ResponseRecorder w;
  h(w, *r);
  EXPECT_EQ(seen, "/items");
}

// Go's ParseForm: for POST with an urlencoded body, Form has the body's
// values first, then the query's; PostForm only the body's.
TEST(RequestForm, UrlencodedBodyThenQuery) {
  auto r = new_request("POST", "/f?a=q&z=9", "a=1&b=2&a=3",
                       {{"Content-Type", "application/x-www-form-urlencoded; charset=UTF-8"}});
  ASSERT_FALSE(r->parse_form());
  EXPECT_EQ(r->form().values("a"), (std::vector<std::string>{"1", "3", "q"}));
  EXPECT_EQ(r->post_form().values("a"), (std::vector<std::string>{"1", "3"}));
  EXPECT_FALSE(r->post_form().has("z"));
  EXPECT_EQ(r->form_value("z"), "9");
  EXPECT_EQ(r->form_value("a"), "1");
  EXPECT_EQ(r->post_form_value("b"), "2");
  EXPECT_EQ(r->post_form_value("z"), "");
  EXPECT_FALSE(r->parse_form());  // idempotent
}

// Go reads a form body for POST, PUT and PATCH only; other methods get the
// query alone. form_value parses on its own (Go's FormValue).
TEST(RequestForm, OnlyPostPutPatchBodiesAreForms) {
  auto r =
      new_request("GET", "/f?k=v", "a=1", {{"Content-Type", "application/x-www-form-urlencoded"}});
  EXPECT_EQ(r->form_value("a"), "");
  EXPECT_EQ(r->form_value("k"), "v");
  auto put =
      new_request("PUT", "/f", "a=1", {{"Content-Type", "application/x-www-form-urlencoded"}});
  EXPECT_EQ(put->form_value("a"), "1");
}

// Go's ParseForm: "http: POST too large" past 10 MB; an unreadable
// Content-Type is the mime error.
TEST(RequestForm, TooLargeAndBadContentType) {
  std::string big(http::kMaxFormBytes + 1, 'a');
  auto r = new_request("POST", "/", big, {{"Content-Type", "application/x-www-form-urlencoded"}});
  EXPECT_EQ(r->parse_form(), http::errc::post_too_large);
  auto bad = new_request("POST", "/", "a=1", {{"Content-Type", "text/plain; x"}});
  EXPECT_TRUE(bad->parse_form());
}

std::string multipart_body(std::string_view boundary) {
  std::string b = "--";
  b += boundary;
  b += "\r\nContent-Disposition: form-data; name=\"title\"\r\n\r\nA title\r\n--";
  b += boundary;
  b += "\r\nContent-Disposition: form-data; name=\"upload\"; filename=\"dir/notes.txt\"\r\n"
       "Content-Type: text/plain\r\n\r\nthe notes\r\n--";
  b += boundary;
  b += "--\r\n";
  return b;
}

// Go's ParseMultipartForm: values join Form and PostForm, files are in
// MultipartForm; FormFile finds one, ErrMissingFile otherwise.
TEST(RequestMultipart, ParseMultipartFormAndFormFile) {
  auto r = new_request("POST", "/up?title=from-query", multipart_body("bnd"),
                       {{"Content-Type", "multipart/form-data; boundary=bnd"}});
  ASSERT_FALSE(r->parse_multipart_form(1 << 20));
  EXPECT_EQ(r->form().values("title"), (std::vector<std::string>{"from-query", "A title"}));
  EXPECT_EQ(r->post_form_value("title"), "A title");
  ASSERT_NE(r->multipart_form(), nullptr);
  auto [fh, err] = r->form_file("upload");
  ASSERT_FALSE(err) << err.message();
  EXPECT_EQ(fh.filename, "notes.txt");
  EXPECT_EQ(fh.header.get("Content-Type"), "text/plain");
  gofer::multipart::File f = fh.open();
  EXPECT_EQ(gofer::io::read_all(f).value, "the notes");
  EXPECT_EQ(r->form_file("nope").err, gofer::multipart::errc::missing_file);
}

// Go's errors: ErrNotMultipart, ErrMissingBoundary; MultipartReader and
// ParseMultipartForm exclude each other.
TEST(RequestMultipart, ErrorsAndExclusion) {
  auto plain = new_request("POST", "/", "x", {{"Content-Type", "text/plain"}});
  EXPECT_EQ(plain->parse_multipart_form(1024), http::errc::not_multipart);
  EXPECT_EQ(plain->multipart_reader().err, http::errc::not_multipart);
  auto nob = new_request("POST", "/", "x", {{"Content-Type", "multipart/form-data"}});
  EXPECT_EQ(nob->multipart_reader().err, http::errc::missing_boundary);

  auto r = new_request("POST", "/", multipart_body("q"),
                       {{"Content-Type", "multipart/form-data; boundary=q"}});
  auto [mr, err] = r->multipart_reader();
  ASSERT_FALSE(err);
  EXPECT_EQ(r->multipart_reader().err, http::errc::multipart_conflict);
  EXPECT_EQ(r->parse_multipart_form(1024), http::errc::multipart_conflict);
  auto [part, perr] = mr->next_part();
  ASSERT_FALSE(perr);
  EXPECT_EQ(part->form_name(), "title");
}

// RFC 6265 §5.4: every Cookie field line's cookies, in order; Go's
// Cookie(name) and ErrNoCookie.
TEST(RequestCookies, ReadFromEveryCookieLine) {
  auto r = new_request("GET", "/", "", {{"Cookie", "a=1; b=\"two\""}, {"Cookie", "c=3"}});
  std::vector<http::Cookie> all = r->cookies();
  ASSERT_EQ(all.size(), 3u);
  EXPECT_EQ(all[0].name, "a");
  EXPECT_EQ(all[2].value, "3");
  ASSERT_TRUE(r->cookie("b").has_value());
  EXPECT_EQ(r->cookie("b")->value, "two");
  EXPECT_FALSE(r->cookie("zz").has_value());
}

// Go's SetCookie: a Set-Cookie field per cookie with RFC 6265 §4.1
// attributes; an invalid cookie is dropped.
TEST(SetCookie, AddsASetCookieField) {
  http::httptest::ResponseRecorder w;
  http::set_cookie(w, {.name = "session",
                       .value = "abc",
                       .path = "/",
                       .max_age = 60,
                       .secure = true,
                       .http_only = true,
                       .same_site = http::SameSite::lax});
  http::set_cookie(w, {.name = "second", .value = "2"});
  http::set_cookie(w, {.name = "bad name", .value = "x"});
  std::vector<std::string> fields;
  w.header().for_each([&](std::string_view name, std::string_view value) {
    if (name == "Set-Cookie") fields.emplace_back(value);
  });
  ASSERT_EQ(fields.size(), 2u);
  EXPECT_EQ(fields[0], "session=abc; Path=/; Max-Age=60; HttpOnly; Secure; SameSite=Lax");
  EXPECT_EQ(fields[1], "second=2");
}

// A Server serving `handler` on 127.0.0.1:0 from a goroutine of its own
// (inside gofer::run); dial() connects to it with a 10 s deadline, stop()
// shuts it down and waits for serve() to return.
class LoopbackServer {
 public:
  explicit LoopbackServer(http::Handler handler) {
    server_.handler = std::move(handler);
    auto [ln, err] = net::listen("tcp", "127.0.0.1:0");
    EXPECT_FALSE(err) << err.message();
    ln_ = std::move(ln);
    serving_.add(1);
    gofer::go([this] {
      (void)server_.serve(ln_);
      serving_.done();
    });
  }
  net::Conn dial() {
    auto [c, err] = net::dial("tcp", ln_.addr().to_string());
    EXPECT_FALSE(err) << err.message();
    EXPECT_FALSE(c.set_deadline(net::Clock::now() + 10s));
    return std::move(c);
  }
  void stop() {
    EXPECT_FALSE(server_.shutdown(net::Clock::now() + 5s));
    serving_.wait();
  }

 private:
  http::Server server_;
  net::Listener ln_;
  gofer::WaitGroup serving_;
};

// The reason clone() exists: a request handed to a goroutine that runs
// after the handler returned (and after the connection read the next
// request into the same buffer) still reads its own bytes.
TEST(RequestClone, OutlivesTheHandlerAndTheNextRequest) {
  gofer::run(
      [] {
        auto later = gofer::make_chan<std::shared_ptr<http::Request>>(4);
        LoopbackServer server([later](http::ResponseWriter& w, http::Request& r) {
          (void)r.parse_form();
          later.send(r.clone(gofer::background()));
          w.write("ok");
        });
        net::Conn c = server.dial();
        ASSERT_FALSE(
            c.write(std::string_view(
                        "GET /first?v=1 HTTP/1.1\r\nHost: a\r\nX-Tag: one\r\n\r\n"
                        "GET /second-and-longer?v=2 HTTP/1.1\r\nHost: b\r\nX-Tag: two\r\n\r\n"))
                .err);
        std::string got;
        char buf[1024];
        while (got.find("ok", got.find("ok") + 2) == std::string::npos) {
          auto [n, rerr] = c.read(buf);
          ASSERT_FALSE(rerr);
          got.append(buf, n);
        }
        auto first = later.recv().value;
        auto second = later.recv().value;
        EXPECT_EQ(first->path, "/first");
        EXPECT_EQ(first->header("X-Tag"), "one");
        EXPECT_EQ(first->host, "a");
        EXPECT_EQ(first->form().get("v"), "1");
        EXPECT_EQ(first->url().path, "/first");
        EXPECT_FALSE(first->context().err());  // background, not the request's
        char b[8];
        EXPECT_EQ(first->body().read(b).err, net::errc::eof);
        EXPECT_EQ(second->path, "/second-and-longer");
        EXPECT_EQ(second->header("X-Tag"), "two");
        EXPECT_FALSE(c.close());
        server.stop();
      },
      {.procs = 2});
}

// A multipart upload over a real connection: a file past max_memory goes to
// a temporary file and reads back whole.
TEST(RequestMultipart, UploadOverAConnectionSpillsToDisk) {
  gofer::run(
      [] {
        std::string content(200'000, 'x');
        for (std::size_t i = 0; i < content.size(); i += 97) content[i] = 'y';
        std::atomic<bool> ok{false};
        LoopbackServer server([&](http::ResponseWriter& w, http::Request& r) {
          if (gofer::Error err = r.parse_multipart_form(4096)) {
            http::error(w, err.message(), http::status_bad_request);
            return;
          }
          auto [fh, err] = r.form_file("upload");
          gofer::multipart::File f = fh.open();
          ok = !err && !fh.in_memory() && gofer::io::read_all(f).value == content &&
               r.form_value("title") == "A title";
          w.write(ok ? "stored" : "wrong");
        });
        std::string body =
            "--Z\r\nContent-Disposition: form-data; name=\"title\"\r\n\r\nA title\r\n"
            "--Z\r\nContent-Disposition: form-data; name=\"upload\"; filename=\"f.bin\"\r\n\r\n" +
            content + "\r\n--Z--\r\n";
        std::string req =
            "POST /up HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
            "Content-Type: multipart/form-data; boundary=Z\r\nContent-Length: " +
            std::to_string(body.size()) + "\r\n\r\n" + body;
        net::Conn c = server.dial();
        ASSERT_FALSE(c.write(req).err);
        auto [resp, rerr] = gofer::io::read_all(c);
        EXPECT_TRUE(resp.ends_with("stored")) << resp;
        EXPECT_TRUE(ok.load());
        server.stop();
      },
      {.procs = 2});
}

}  // namespace
