// Black-box conformance of the HTTP/1.1 server: RFC 9110 (semantics),
// RFC 9112 (HTTP/1.1 messages), Go's net/http where the RFCs leave the
// choice to the server, and the request-smuggling and differential-fuzzing
// findings of the last years (framing that two parties could read
// differently must be refused, and a refused request must close the
// connection).
//
// Setup
//   The server runs on a thread of its own under gofer::run, serving a site
//   like `gofer serve`'s (GET / → a small HTML page, POST /echo → the body
//   back with the request's Content-Type) plus routes that the cases need.
//   Two servers share the handler: `site` has gofer serve's defaults,
//   `strict` short timeouts (read_header_timeout 200 ms, idle_timeout
//   300 ms) for the slow-client cases. The client side is plain blocking
//   POSIX sockets: nothing of the gofer runtime stands between a case and
//   the bytes on the wire.
//
// Tables
//   Most cases are rows: raw request bytes, the statuses expected in order,
//   and what must become of the connection afterwards —
//     open    the server carries on: a follow-up request on the same
//             connection is answered 200 with the follow-up's own target,
//             which also proves the server found the end of the previous
//             request where the RFC puts it (no desync);
//     closed  the server closes after the responses and sends nothing more
//             (after a 400, a second request in the same bytes must not be
//             answered);
//     either  no opinion.
//   Every response read is also checked for well-formedness (status line,
//   field syntax, one framing, Date on final responses, no body where none
//   is allowed).
//   Timing, concurrency and broken clients are TESTs of their own below.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <ctime>
#include <future>
#include <memory>
#include <optional>
#include <ostream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "gofer/http/mux.h"
#include "gofer/http/server.h"
#include "gofer/net.h"
#include "gofer/runtime.h"
#include "gofer/sync.h"
#include "gofer/time.h"

namespace http = gofer::http;
namespace net = gofer::net;
using namespace std::chrono_literals;
using namespace std::string_literals;
using Clock = std::chrono::steady_clock;

namespace {

// --- The site under test --------------------------------------------------------

constexpr std::string_view kIndexHtml =
    "<!DOCTYPE html>\n<html><head><title>gofer</title></head><body>gofer</body></html>\n";

std::string join(const std::vector<std::string_view>& parts, std::string_view sep) {
  std::string out;
  for (std::size_t i = 0; i < parts.size(); ++i) {
    if (i > 0) out += sep;
    out += parts[i];
  }
  return out;
}

http::Handler make_site() {
  auto mux = std::make_shared<http::ServeMux>();
  // As `gofer serve`: GET / is a page, POST /echo sends the body back.
  mux->handle_func("GET /{$}", [](http::ResponseWriter& w, http::Request&) {
    w.header().set("Content-Type", "text/html; charset=utf-8");
    w.write(kIndexHtml);
  });
  mux->handle_func("POST /echo", [](http::ResponseWriter& w, http::Request& r) {
    auto [body, err] = r.body().read_all();
    if (err) {
      bool too_large = err == http::errc::body_too_large;
      http::error(w, too_large ? "request body too large" : "bad body",
                  too_large ? http::status_payload_too_large : http::status_bad_request);
      return;
    }
    std::string_view type = r.header("Content-Type");
    w.header().set("Content-Type", type.empty() ? "application/octet-stream" : type);
    w.write(body);
  });
  // What the server made of the request-line and Host.
  mux->handle_func("/target", [](http::ResponseWriter& w, http::Request& r) {
    w.header().set("Content-Type", "text/plain");
    w.write(fmt::format("{}|{}|{}|{}", r.method, r.path, r.raw_query, r.host));
  });
  // Every value of one request header field, in order.
  mux->handle_func("/header/{name}", [](http::ResponseWriter& w, http::Request& r) {
    w.header().set("Content-Type", "text/plain");
    w.write(join(r.header_values(r.path_value("name")), "|"));
  });
  // The body, then the trailer fields it ended with.
  mux->handle_func("POST /trailers", [](http::ResponseWriter& w, http::Request& r) {
    auto [body, err] = r.body().read_all();
    if (err) {
      http::error(w, "bad body", http::status_bad_request);
      return;
    }
    std::string out = body + "|";
    for (const http::Header& h : r.trailers) out += fmt::format("{}={};", h.name, h.value);
    w.header().set("Content-Type", "text/plain");
    w.write(out);
  });
  mux->handle_func("/status/{code}", [](http::ResponseWriter& w, http::Request& r) {
    w.write_header(std::stoi(std::string(r.path_value("code"))));
    w.write("body");  // refused for 204 and 304
  });
  // n bytes in 1000-byte writes: past the response buffer, the body goes
  // out chunked (HTTP/1.1) or close-delimited (HTTP/1.0).
  mux->handle_func("/big/{n}", [](http::ResponseWriter& w, http::Request& r) {
    std::size_t n = std::stoul(std::string(r.path_value("n")));
    std::string block(1000, 'x');
    w.header().set("Content-Type", "text/plain");
    while (n > 0) {
      std::size_t k = std::min(n, block.size());
      if (w.write(std::string_view(block).substr(0, k)).err) return;
      n -= k;
    }
  });
  mux->handle_func("/flush", [](http::ResponseWriter& w, http::Request&) {
    w.header().set("Content-Type", "text/plain");
    w.write("a");
    EXPECT_FALSE(w.flush());
    w.write("b");
  });
  mux->handle_func("/cl-short", [](http::ResponseWriter& w, http::Request&) {
    w.header().set("Content-Length", "10");
    w.write("short");
  });
  mux->handle_func("/cl-long", [](http::ResponseWriter& w, http::Request&) {
    w.header().set("Content-Length", "5");
    w.write("toolongbody");
  });
  mux->handle_func("/throw", [](http::ResponseWriter&, http::Request&) {
    throw std::runtime_error("handler failed");
  });
  mux->handle_func("/throw-after-flush", [](http::ResponseWriter& w, http::Request&) {
    w.write("partial");
    EXPECT_FALSE(w.flush());
    throw std::runtime_error("handler failed after flush");
  });
  mux->handle_func("/sniff/{kind}", [](http::ResponseWriter& w, http::Request& r) {
    std::string_view kind = r.path_value("kind");
    if (kind == "html") w.write("<html><body>hi</body></html>");
    if (kind == "text") w.write("just some words");
    if (kind == "png") w.write("\x89PNG\r\n\x1a\n\0\0\0\rIHDR"s);
    if (kind == "typed") {
      w.header().set("Content-Type", "application/x-custom");
      w.write("<html>");
    }
  });
  mux->handle_func("/close", [](http::ResponseWriter& w, http::Request&) {
    w.header().set("Connection", "close");
    w.write("bye");
  });
  // Answers without reading the body.
  mux->handle_func("/ignore", [](http::ResponseWriter& w, http::Request&) { w.write("ignored"); });
  return [mux](http::ResponseWriter& w, http::Request& r) { (*mux)(w, r); };
}

// --- The servers, on a thread of their own -----------------------------------------

class ServerFixture : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    stop_.store(false);
    std::promise<std::pair<int, int>> ports;
    auto ready = ports.get_future();
    thread_ = std::thread([&ports] {
      gofer::run([&ports] {
        auto [site_ln, err1] = net::listen("tcp", "127.0.0.1:0");
        auto [strict_ln, err2] = net::listen("tcp", "127.0.0.1:0");
        if (err1 || err2) {
          ports.set_value({0, 0});
          return;
        }
        http::Handler handler = make_site();
        http::Server site;  // gofer serve's defaults
        site.handler = handler;
        http::Server strict;
        strict.handler = handler;
        strict.read_header_timeout = 200ms;
        strict.idle_timeout = 300ms;
        gofer::WaitGroup wg;
        wg.add(2);
        gofer::go([&] {
          EXPECT_EQ(site.serve(site_ln), http::errc::server_closed);
          wg.done();
        });
        gofer::go([&] {
          EXPECT_EQ(strict.serve(strict_ln), http::errc::server_closed);
          wg.done();
        });
        ports.set_value({site_ln.addr().port(), strict_ln.addr().port()});
        while (!stop_.load()) gofer::sleep_for(5ms);
        EXPECT_FALSE(site.shutdown(net::Clock::now() + 2s));
        EXPECT_FALSE(strict.shutdown(net::Clock::now() + 2s));
        wg.wait();
      }, {.procs = 2});
    });
    std::tie(port_, strict_port_) = ready.get();
    ASSERT_NE(port_, 0) << "could not listen";
  }

  static void TearDownTestSuite() {
    stop_.store(true);
    thread_.join();
  }

  static inline std::thread thread_;
  static inline std::atomic<bool> stop_{false};
  static inline int port_ = 0;
  static inline int strict_port_ = 0;
};

// --- A raw client ------------------------------------------------------------------

struct Response {
  std::string status_line;
  int status = 0;
  std::vector<std::pair<std::string, std::string>> fields;
  std::string body;
  bool chunked = false;

  std::string get(std::string_view name) const {
    for (const auto& [n, v] : fields) {
      if (http::equal_fold(n, name)) return v;
    }
    return {};
  }
  bool has(std::string_view name) const { return count(name) > 0; }
  std::size_t count(std::string_view name) const {
    std::size_t k = 0;
    for (const auto& f : fields) k += http::equal_fold(f.first, name);
    return k;
  }
};

bool is_tchar(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) ||
         std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

// IMF-fixdate (RFC 9110 §5.6.7), e.g. "Sun, 06 Nov 1994 08:49:37 GMT",
// within a minute of now.
bool is_current_imf_fixdate(const std::string& v) {
  std::tm tm{};
  const char* end = strptime(v.c_str(), "%a, %d %b %Y %H:%M:%S GMT", &tm);
  if (end == nullptr || *end != '\0' || v.size() != 29) return false;
  std::time_t t = timegm(&tm);
  return std::abs(std::difftime(t, std::time(nullptr))) < 60;
}

class Client {
 public:
  explicit Client(int port) {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(static_cast<std::uint16_t>(port));
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
      ADD_FAILURE() << "connect: " << std::strerror(errno);
    }
    int one = 1;
    ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  }
  Client(const Client&) = delete;
  ~Client() {
    if (fd_ >= 0) ::close(fd_);
  }

  // Sends all of `bytes`; false if the connection broke (e.g. the server
  // closed it and answered the rest with a reset).
  bool send(std::string_view bytes) {
    while (!bytes.empty()) {
      ssize_t n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
      if (n < 0) {
        if (errno == EINTR) continue;
        return false;
      }
      bytes.remove_prefix(static_cast<std::size_t>(n));
    }
    return true;
  }
  // One byte at a time, `gap` apart.
  bool trickle(std::string_view bytes, std::chrono::milliseconds gap) {
    for (char c : bytes) {
      if (!send(std::string_view(&c, 1))) return false;
      std::this_thread::sleep_for(gap);
    }
    return true;
  }
  void shutdown_write() { ::shutdown(fd_, SHUT_WR); }
  // Closes with a reset (SO_LINGER 0), as a crashing client would.
  void reset() {
    linger l{1, 0};
    ::setsockopt(fd_, SOL_SOCKET, SO_LINGER, &l, sizeof l);
    ::close(fd_);
    fd_ = -1;
  }

  // Reads one response; nullopt (and `error()` says why) if none arrives
  // whole within `timeout`. `head`: it answers a HEAD request.
  std::optional<Response> read_response(bool head = false, std::chrono::milliseconds timeout = 5s) {
    auto deadline = Clock::now() + timeout;
    for (;;) {
      Response r;
      std::size_t used = 0;
      switch (parse(head, r, used)) {
        case Parse::done:
          in_.erase(0, used);
          return r;
        case Parse::bad:
          return std::nullopt;
        case Parse::more:
          break;
      }
      if (eof_) {
        error_ = "connection ended inside a response: " + printable(in_);
        return std::nullopt;
      }
      Got g = fill(deadline);
      if (g == Got::timeout) {
        error_ = "no whole response in time; got: " + printable(in_);
        return std::nullopt;
      }
      if (g == Got::reset) {
        error_ = "connection reset; got: " + printable(in_);
        return std::nullopt;
      }
    }
  }

  // The server closes the connection (EOF or reset) within `timeout`,
  // having sent nothing more.
  ::testing::AssertionResult closes_within(std::chrono::milliseconds timeout) {
    auto deadline = Clock::now() + timeout;
    for (;;) {
      if (!in_.empty()) {
        return ::testing::AssertionFailure() << "bytes after the expected responses: " << printable(in_);
      }
      if (eof_) return ::testing::AssertionSuccess();
      switch (fill(deadline)) {
        case Got::eof:
        case Got::reset:
          if (!in_.empty()) continue;
          return ::testing::AssertionSuccess();
        case Got::timeout:
          return ::testing::AssertionFailure() << "still open after " << timeout.count() << " ms";
        case Got::data:
          break;
      }
    }
  }

  // Everything until the server closes (or `timeout`).
  std::string read_to_close(std::chrono::milliseconds timeout = 5s) {
    auto deadline = Clock::now() + timeout;
    while (!eof_) {
      Got g = fill(deadline);
      if (g == Got::timeout || g == Got::reset) break;
    }
    return std::exchange(in_, {});
  }

  // Nothing arrives, and the connection stays open, for `d`.
  bool quiet_for(std::chrono::milliseconds d) { return in_.empty() && fill(Clock::now() + d) == Got::timeout; }

  // The server ended the connection (EOF or reset).
  bool ended() const { return eof_; }
  const std::string& error() const { return error_; }
  const std::string& pending() const { return in_; }

  static std::string printable(std::string_view s) {
    std::string out;
    for (char c : s.substr(0, 400)) {
      if (c == '\r') out += "\\r";
      else if (c == '\n') out += "\\n";
      else if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) out += fmt::format("\\x{:02x}", c);
      else out += c;
    }
    if (s.size() > 400) out += fmt::format("… ({} bytes)", s.size());
    return out;
  }

 private:
  enum class Got { data, eof, reset, timeout };
  enum class Parse { done, more, bad };

  Got fill(Clock::time_point deadline) {
    for (;;) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
      if (left.count() <= 0) return Got::timeout;
      pollfd p{fd_, POLLIN, 0};
      int k = ::poll(&p, 1, static_cast<int>(left.count()));
      if (k < 0 && errno == EINTR) continue;
      if (k == 0) return Got::timeout;
      char buf[65536];
      ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
      if (n > 0) {
        in_.append(buf, static_cast<std::size_t>(n));
        return Got::data;
      }
      if (n == 0) {
        eof_ = true;
        return Got::eof;
      }
      if (errno == EINTR || errno == EAGAIN) continue;
      eof_ = true;
      return Got::reset;
    }
  }

  Parse bad(std::string why) {
    error_ = std::move(why) + ": " + printable(in_);
    return Parse::bad;
  }

  // One response at the front of in_ (RFC 9112 §4, §6): the head, then the
  // body by the framing the head announces.
  Parse parse(bool head_request, Response& r, std::size_t& used) {
    std::size_t end = in_.find("\r\n\r\n");
    if (end == std::string::npos) return Parse::more;
    std::string_view headv(in_.data(), end + 2);
    std::size_t line_end = headv.find("\r\n");
    r.status_line = std::string(headv.substr(0, line_end));
    const std::string& sl = r.status_line;
    // status-line = HTTP-version SP status-code SP [ reason-phrase ]
    if (sl.size() < 13 || !sl.starts_with("HTTP/1.1 ") || !std::isdigit(sl[9]) ||
        !std::isdigit(sl[10]) || !std::isdigit(sl[11]) || sl[12] != ' ') {
      return bad("malformed status line");
    }
    r.status = std::stoi(sl.substr(9, 3));
    std::size_t pos = line_end + 2;
    while (pos < headv.size()) {
      std::size_t e = headv.find("\r\n", pos);
      std::string_view line = headv.substr(pos, e - pos);
      pos = e + 2;
      if (line.find_first_of("\r\n") != std::string_view::npos) return bad("bare CR or LF in a response field");
      std::size_t colon = line.find(':');
      if (colon == 0 || colon == std::string_view::npos) return bad("malformed response field");
      for (char c : line.substr(0, colon)) {
        if (!is_tchar(c)) return bad("invalid response field name");
      }
      std::string_view value = line.substr(colon + 1);
      while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) value.remove_prefix(1);
      while (!value.empty() && (value.back() == ' ' || value.back() == '\t')) value.remove_suffix(1);
      r.fields.emplace_back(std::string(line.substr(0, colon)), std::string(value));
    }
    std::size_t body_start = end + 4;

    // RFC 9112 §6.3: one framing, and none where no body is allowed.
    if (r.count("Content-Length") > 1) return bad("several Content-Length fields");
    if (r.has("Content-Length") && r.has("Transfer-Encoding")) return bad("Content-Length with Transfer-Encoding");
    bool informational = r.status >= 100 && r.status < 200;
    if ((informational || r.status == 204) && (r.has("Content-Length") || r.has("Transfer-Encoding"))) {
      return bad("framing fields on a 1xx or 204 response (RFC 9110 §8.6, RFC 9112 §6.1)");
    }
    // RFC 9110 §6.6.1: an origin server with a clock sends Date.
    if (!informational && !is_current_imf_fixdate(r.get("Date"))) return bad("missing or malformed Date");

    if (head_request || informational || r.status == 204 || r.status == 304) {
      used = body_start;
      return Parse::done;
    }
    if (r.has("Transfer-Encoding")) {
      if (!http::equal_fold(r.get("Transfer-Encoding"), "chunked")) return bad("unexpected Transfer-Encoding");
      r.chunked = true;
      std::size_t p = body_start;
      for (;;) {
        std::size_t le = in_.find("\r\n", p);
        if (le == std::string::npos) return Parse::more;
        std::string size_line = in_.substr(p, le - p);
        std::size_t size = 0;
        try {
          std::size_t idx = 0;
          size = std::stoul(size_line, &idx, 16);
          if (idx != size_line.size()) return bad("malformed chunk size");
        } catch (...) {
          return bad("malformed chunk size");
        }
        p = le + 2;
        if (size == 0) {
          // Trailer section, then CRLF.
          for (;;) {
            std::size_t te = in_.find("\r\n", p);
            if (te == std::string::npos) return Parse::more;
            bool empty = te == p;
            p = te + 2;
            if (empty) break;
          }
          used = p;
          return Parse::done;
        }
        if (in_.size() < p + size + 2) return Parse::more;
        if (in_.compare(p + size, 2, "\r\n") != 0) return bad("chunk data not followed by CRLF");
        r.body.append(in_, p, size);
        p += size + 2;
      }
    }
    if (r.has("Content-Length")) {
      std::size_t n = std::stoul(r.get("Content-Length"));
      if (in_.size() < body_start + n) return Parse::more;
      r.body = in_.substr(body_start, n);
      used = body_start + n;
      return Parse::done;
    }
    // Close-delimited (RFC 9112 §6.3 rule 8).
    if (!eof_) return Parse::more;
    r.body = in_.substr(body_start);
    used = in_.size();
    return Parse::done;
  }

  int fd_ = -1;
  std::string in_;
  bool eof_ = false;
  std::string error_;
};

// --- Table-driven cases --------------------------------------------------------------

enum class After { open, closed, either };

struct Case {
  std::string name;   // the test's name
  std::string rule;   // the RFC section or Go behaviour it checks
  std::string request;
  std::vector<int> statuses;         // of the responses, in order
  After after = After::either;
  std::optional<std::string> body = std::nullopt;  // of the last response, when it matters
  bool head = false;                 // the responses answer HEAD requests
  bool half_close = false;           // shut the write side after sending
  // A field of the last response: "Name: value" must be there with that
  // value, "!Name" must not be there at all.
  std::string field = {};
};

void PrintTo(const Case& c, std::ostream* os) { *os << c.name << " (" << c.rule << ")"; }

class Table : public ServerFixture, public ::testing::WithParamInterface<Case> {};

std::string case_name(const ::testing::TestParamInfo<Case>& info) { return info.param.name; }

TEST_P(Table, Case) {
  const Case& c = GetParam();
  SCOPED_TRACE(c.rule);
  Client client(port_);
  client.send(c.request);  // may fail part-way once the server has refused the request
  if (c.half_close) client.shutdown_write();
  for (std::size_t i = 0; i < c.statuses.size(); ++i) {
    std::optional<Response> r = client.read_response(c.head);
    ASSERT_TRUE(r) << "response " << i + 1 << " of " << c.statuses.size() << ": " << client.error();
    EXPECT_EQ(r->status, c.statuses[i]) << "response " << i + 1 << ": " << r->status_line << "\n"
                                        << Client::printable(r->body);
    if (i + 1 == c.statuses.size() && c.body) {
      EXPECT_EQ(Client::printable(r->body), Client::printable(*c.body));
    }
    if (i + 1 == c.statuses.size() && !c.field.empty()) {
      if (c.field[0] == '!') {
        EXPECT_FALSE(r->has(c.field.substr(1))) << r->status_line;
      } else {
        std::string name = c.field.substr(0, c.field.find(':'));
        EXPECT_EQ(r->get(name), c.field.substr(name.size() + 2)) << name;
      }
    }
  }
  switch (c.after) {
    case After::open: {
      ASSERT_TRUE(client.send("GET /target?follow-up HTTP/1.1\r\nHost: follow\r\n\r\n"))
          << "the server closed a connection that should stay open";
      std::optional<Response> r = client.read_response();
      ASSERT_TRUE(r) << "follow-up request on the same connection: " << client.error();
      EXPECT_EQ(r->status, 200);
      EXPECT_EQ(r->body, "GET|/target|follow-up|follow") << "the follow-up was not read as a request of its own";
      break;
    }
    case After::closed:
      EXPECT_TRUE(client.closes_within(3s));
      break;
    case After::either:
      break;
  }
}

const std::string kGetTarget = "GET /target HTTP/1.1\r\nHost: x\r\n\r\n";
const std::string kTargetBody = "GET|/target||x";
std::string repeat(std::string_view s, std::size_t n) {
  std::string out;
  for (std::size_t i = 0; i < n; ++i) out += s;
  return out;
}
std::string echo_cl(std::string_view extra_fields, std::string_view body) {
  return fmt::format("POST /echo HTTP/1.1\r\nHost: x\r\n{}\r\n{}", extra_fields, body);
}
std::string echo_chunked(std::string_view chunked_body, std::string_view te = "chunked") {
  return fmt::format("POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: {}\r\n\r\n{}", te, chunked_body);
}
std::string get_header(std::string_view name, std::string_view fields) {
  return fmt::format("GET /header/{} HTTP/1.1\r\nHost: x\r\n{}\r\n", name, fields);
}

// --- Request-line (RFC 9112 §2-§3, RFC 9110 §2.5, §9.1) -------------------------------

const std::vector<Case> kRequestLine = {
    {"OriginForm", "RFC 9112 §3.2.1 origin-form", "GET / HTTP/1.1\r\nHost: x\r\n\r\n", {200}, After::open,
     std::string(kIndexHtml)},
    {"OriginFormWithQuery", "RFC 9112 §3.2.1 absolute-path [ ? query ]",
     "GET /target?a=1&b=%20 HTTP/1.1\r\nHost: x\r\n\r\n", {200}, After::open, "GET|/target|a=1&b=%20|x"},
    {"LowercaseMethodIsADifferentMethod", "RFC 9110 §9.1 methods are case-sensitive: get is not GET (405 like Go)",
     "get / HTTP/1.1\r\nHost: x\r\n\r\n", {405}, After::open},
    {"UnknownTokenMethod", "RFC 9110 §9.1 any token is a method; not allowed on / (Go's 405)",
     "FOO / HTTP/1.1\r\nHost: x\r\n\r\n", {405}, After::open},
    {"MethodWithTcharPunctuation", "RFC 9110 §5.6.2 tchar includes !#$%&'*+-.^_`|~",
     "G!E#T / HTTP/1.1\r\nHost: x\r\n\r\n", {405}, After::open},
    {"AnyMethodOnAnyMethodRoute", "RFC 9110 §9.1 an extension method reaches the handler",
     "PURGE /target HTTP/1.1\r\nHost: x\r\n\r\n", {200}, After::open, "PURGE|/target||x"},
    {"MethodWithParenthesis", "RFC 9112 §3.1 method = token; '(' is a delimiter",
     "G(T / HTTP/1.1\r\nHost: x\r\n\r\n", {400}, After::closed},
    {"MethodWithNonAscii", "RFC 9112 §3.1 method = token", "G\xc3\x89T / HTTP/1.1\r\nHost: x\r\n\r\n", {400},
     After::closed},
    {"MethodWithNul", "RFC 9112 §3.1 method = token", "GE\0T / HTTP/1.1\r\nHost: x\r\n\r\n"s, {400}, After::closed},
    {"EmptyMethod", "RFC 9112 §3 request-line = method SP request-target SP HTTP-version",
     " / HTTP/1.1\r\nHost: x\r\n\r\n", {400}, After::closed},
    {"OptionsAsterisk", "RFC 9112 §3.2.4 asterisk-form for a server-wide OPTIONS (Go answers 200)",
     "OPTIONS * HTTP/1.1\r\nHost: x\r\n\r\n", {200}, After::open, ""},
    {"AsteriskFormForGet", "RFC 9112 §3.2.4 asterisk-form is only used for OPTIONS",
     "GET * HTTP/1.1\r\nHost: x\r\n\r\n", {400}, After::closed},
    {"AbsoluteFormRoutedByPath", "RFC 9112 §3.2.2 absolute-form: a server MUST accept it; Host comes from the target",
     "GET http://example.com/target?q=1 HTTP/1.1\r\nHost: x\r\n\r\n", {200}, After::open,
     "GET|/target|q=1|example.com"},
    {"AbsoluteFormWithPort", "RFC 9112 §3.2.2 absolute-form with a port",
     "GET http://example.com:8080/target HTTP/1.1\r\nHost: example.com:8080\r\n\r\n", {200}, After::open,
     "GET|/target||example.com:8080"},
    {"AbsoluteFormHttps", "RFC 9112 §3.2.2 absolute-form, https scheme",
     "GET https://example.com/target HTTP/1.1\r\nHost: example.com\r\n\r\n", {200}, After::open,
     "GET|/target||example.com"},
    {"AbsoluteFormUppercaseScheme", "RFC 3986 §3.1 schemes are case-insensitive",
     "GET HTTP://example.com/target HTTP/1.1\r\nHost: example.com\r\n\r\n", {200}, After::open,
     "GET|/target||example.com"},
    {"AbsoluteFormWithoutPath", "RFC 9110 §4.2.3 an empty path is equivalent to /",
     "GET http://example.com HTTP/1.1\r\nHost: example.com\r\n\r\n", {200}, After::open, std::string(kIndexHtml)},
    {"AbsoluteFormPost", "RFC 9112 §3.2.2 absolute-form with a body",
     "POST http://example.com/echo HTTP/1.1\r\nHost: example.com\r\nContent-Length: 2\r\n\r\nhi", {200},
     After::open, "hi"},
    {"AbsoluteFormEmptyHost", "RFC 9110 §4.2.1 an http URI with an empty host MUST be rejected as invalid",
     "GET http:///target HTTP/1.1\r\nHost: x\r\n\r\n", {400}, After::closed},
    {"AbsoluteFormWithUserinfo", "RFC 9110 §4.2.4 userinfo in an http URI SHOULD be treated as an error",
     "GET http://user@example.com/target HTTP/1.1\r\nHost: example.com\r\n\r\n", {400}, After::closed},
    {"AbsoluteFormInvalidHost", "RFC 9112 §3.2.2 the target's host replaces Host, so it is checked like Host",
     "GET http://exa<mple.com/target HTTP/1.1\r\nHost: x\r\n\r\n", {400}, After::closed},
    {"AbsoluteFormEmptyHostWithPort", "RFC 9110 §4.2.1 an empty host, even with a port",
     "GET http://:80/target HTTP/1.1\r\nHost: x\r\n\r\n", {400}, After::closed},
    {"AbsoluteFormNoHostHeader", "RFC 9112 §3.2 Host is required in HTTP/1.1 even with absolute-form",
     "GET http://example.com/target HTTP/1.1\r\n\r\n", {400}, After::closed},
    {"ConnectWithoutPort", "RFC 9112 §3.2.3 authority-form = uri-host \":\" port",
     "CONNECT example.com HTTP/1.1\r\nHost: example.com\r\n\r\n", {400}, After::closed},
    {"ConnectWithUserinfo", "RFC 9112 §3.2.3 no userinfo in authority-form",
     "CONNECT user@example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n", {400}, After::closed},
    {"AuthorityFormForGet", "RFC 9112 §3.2.3 authority-form is only used for CONNECT",
     "GET example.com:80 HTTP/1.1\r\nHost: example.com:80\r\n\r\n", {400}, After::closed},
    {"RelativeTarget", "RFC 9112 §3.2 a target is origin-, absolute-, authority- or asterisk-form",
     "GET target HTTP/1.1\r\nHost: x\r\n\r\n", {400}, After::closed},
    {"AuthorityFormForConnect", "RFC 9112 §3.2.3 CONNECT host:port parses; no tunnel here (Go's mux: 404)",
     "CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n", {404}, After::either},
    {"Http10", "RFC 9112 §9.3 HTTP/1.0 closes by default; Host optional",
     "GET / HTTP/1.0\r\n\r\n", {200}, After::closed, std::string(kIndexHtml)},
    {"Http12ServedAs11", "RFC 9110 §2.5 a higher minor version is served as the highest we support",
     "GET /target HTTP/1.2\r\nHost: x\r\n\r\n", {200}, After::open, kTargetBody},
    {"Http19ServedAs11", "RFC 9110 §2.5 minor version 9", "GET /target HTTP/1.9\r\nHost: x\r\n\r\n", {200},
     After::open, kTargetBody},
    {"Http20", "RFC 9110 §15.6.6 505 for an unsupported major version", "GET / HTTP/2.0\r\nHost: x\r\n\r\n",
     {505}, After::closed},
    {"Http30", "RFC 9110 §15.6.6 505 for an unsupported major version", "GET / HTTP/3.0\r\nHost: x\r\n\r\n",
     {505}, After::closed},
    {"Http09", "RFC 9110 §15.6.6 major version 0 is not supported", "GET / HTTP/0.9\r\nHost: x\r\n\r\n",
     {505}, After::closed},
    // The HTTP/2 preface starts an h2c connection (RFC 9113 §3.3) unless
    // Server::http2 is off: H2Server.Http2OffOffersOnlyHttp11 checks the 505.
    {"LowercaseHttpName", "RFC 9112 §2.3 HTTP-name is case-sensitive", "GET / http/1.1\r\nHost: x\r\n\r\n",
     {400}, After::closed},
    {"TwoDigitMinor", "RFC 9112 §2.3 HTTP-version = HTTP-name / DIGIT . DIGIT",
     "GET / HTTP/1.10\r\nHost: x\r\n\r\n", {400}, After::closed},
    {"TwoDigitMajor", "RFC 9112 §2.3 one digit per part", "GET / HTTP/11.1\r\nHost: x\r\n\r\n", {400},
     After::closed},
    {"MissingMinor", "RFC 9112 §2.3", "GET / HTTP/1\r\nHost: x\r\n\r\n", {400}, After::closed},
    {"GarbageVersion", "RFC 9112 §2.3", "GET / FOO/1.1\r\nHost: x\r\n\r\n", {400}, After::closed},
    {"MissingVersion", "RFC 9112 §3 (no HTTP/0.9 simple requests)", "GET /\r\nHost: x\r\n\r\n", {400},
     After::closed},
    {"MissingTarget", "RFC 9112 §3", "GET HTTP/1.1\r\nHost: x\r\n\r\n", {400}, After::closed},
    {"MethodOnly", "RFC 9112 §3", "GET\r\nHost: x\r\n\r\n", {400}, After::closed},
    {"TwoSpacesBeforeTarget", "RFC 9112 §3 exactly one SP between parts (the lenient parse is a MAY)",
     "GET  / HTTP/1.1\r\nHost: x\r\n\r\n", {400}, After::closed},
    {"TwoSpacesBeforeVersion", "RFC 9112 §3 exactly one SP", "GET /  HTTP/1.1\r\nHost: x\r\n\r\n", {400},
     After::closed},
    {"TrailingSpace", "RFC 9112 §3 nothing after HTTP-version", "GET / HTTP/1.1 \r\nHost: x\r\n\r\n", {400},
     After::closed},
    {"TabSeparator", "RFC 9112 §3 the separator is SP", "GET\t/ HTTP/1.1\r\nHost: x\r\n\r\n", {400},
     After::closed},
    {"LeadingSpace", "RFC 9112 §3", " GET / HTTP/1.1\r\nHost: x\r\n\r\n", {400}, After::closed},
    {"SpaceInTarget", "RFC 9112 §3.2 no whitespace in a request-target", "GET /a b HTTP/1.1\r\nHost: x\r\n\r\n",
     {400}, After::closed},
    {"LeadingEmptyLine", "RFC 9112 §2.2 SHOULD ignore at least one empty line before the request-line",
     "\r\nGET /target HTTP/1.1\r\nHost: x\r\n\r\n", {200}, After::open, kTargetBody},
    {"LeadingBareLF", "RFC 9112 §2.2 a bare LF may end a line", "\nGET /target HTTP/1.1\r\nHost: x\r\n\r\n",
     {200}, After::open, kTargetBody},
    {"EmptyLinesBetweenRequests", "RFC 9112 §2.2 an extra CRLF after a request is ignored",
     "GET /target HTTP/1.1\r\nHost: x\r\n\r\n\r\nGET /target HTTP/1.1\r\nHost: x\r\n\r\n", {200, 200},
     After::open, kTargetBody},
    {"NulInTarget", "RFC 9112 §3.2 / RFC 3986: no CTL in a target", "GET /\0 HTTP/1.1\r\nHost: x\r\n\r\n"s, {400},
     After::closed},
    {"CtlInTarget", "RFC 9112 §3.2 no CTL in a target", "GET /\x01 HTTP/1.1\r\nHost: x\r\n\r\n", {400},
     After::closed},
    {"DelInTarget", "RFC 9112 §3.2 no DEL in a target", "GET /\x7f HTTP/1.1\r\nHost: x\r\n\r\n", {400},
     After::closed},
    {"BareCRInRequestLine", "RFC 9112 §2.2 a bare CR MUST be rejected or replaced",
     "GET /\r HTTP/1.1\r\nHost: x\r\n\r\n", {400}, After::closed},
    {"BareLFLineEnds", "RFC 9112 §2.2 a recipient MAY take a bare LF as the line terminator",
     "GET /target HTTP/1.1\nHost: x\n\n", {200}, After::open, kTargetBody},
    {"LongTargetWithinLimit", "RFC 9112 §3 SHOULD support request-lines of at least 8000 octets",
     "GET /target?" + std::string(7900, 'q') + " HTTP/1.1\r\nHost: x\r\n\r\n", {200}, After::open},
    {"TargetTooLong", "RFC 9112 §3 / RFC 9110 §15.5.15 414 URI Too Long",
     "GET /" + std::string(9000, 'a') + " HTTP/1.1\r\nHost: x\r\n\r\n", {414}, After::closed},
    {"TargetFarTooLong", "RFC 9110 §15.5.15 414 before the line ends",
     "GET /" + std::string(200000, 'a') + " HTTP/1.1\r\nHost: x\r\n\r\n", {414}, After::closed},
    {"TlsClientHello", "RFC 9112 §3 binary garbage is not a request-line",
     "\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03"s, {400}, After::closed},
};
INSTANTIATE_TEST_SUITE_P(RequestLine, Table, ::testing::ValuesIn(kRequestLine), case_name);

// --- Header fields (RFC 9110 §5, §7.2; RFC 9112 §2.2, §3.2, §5) -----------------------

const std::vector<Case> kHeaders = {
    {"NameIsCaseInsensitive", "RFC 9110 §5.1 field names are case-insensitive",
     get_header("X-Probe", "x-PROBE: v\r\n"), {200}, After::open, "v"},
    {"HostNameLowercase", "RFC 9110 §5.1 'host' is Host", "GET /target HTTP/1.1\r\nhOsT: x\r\n\r\n", {200},
     After::open, kTargetBody},
    {"ContentLengthNameLowercase", "RFC 9110 §5.1 'content-length' frames the body",
     echo_cl("content-length: 2\r\n", "hi"), {200}, After::open, "hi"},
    {"UnderscoreInName", "RFC 9110 §5.6.2 '_' is a tchar", get_header("X_Probe", "X_Probe: v\r\n"), {200},
     After::open, "v"},
    {"ValueOwsTrimmed", "RFC 9110 §5.5 leading and trailing OWS is not part of the value",
     get_header("X-Probe", "X-Probe: \t v w \t \r\n"), {200}, After::open, "v w"},
    {"EmptyValue", "RFC 9110 §5.5 field-value may be empty", get_header("X-Probe", "X-Probe:\r\n"), {200},
     After::open, ""},
    {"WhitespaceOnlyValue", "RFC 9110 §5.5 a value of only OWS is empty", get_header("X-Probe", "X-Probe:    \r\n"),
     {200}, After::open, ""},
    {"TabInsideValue", "RFC 9110 §5.5 HTAB is allowed inside a value", get_header("X-Probe", "X-Probe: a\tb\r\n"),
     {200}, After::open, "a\tb"},
    {"ObsTextInValue", "RFC 9110 §5.5 obs-text (bytes >= 0x80) is allowed in a value",
     get_header("X-Probe", "X-Probe: caf\xc3\xa9\r\n"), {200}, After::open, "caf\xc3\xa9"},
    {"RepeatedFieldKeptInOrder", "RFC 9110 §5.3 repeated field lines keep their order",
     get_header("X-Probe", "X-Probe: a\r\nX-Other: z\r\nX-Probe: b\r\n"), {200}, After::open, "a|b"},
    {"NoColon", "RFC 9112 §5 field-line = field-name : OWS field-value OWS", get_header("X", "NoColon\r\n"),
     {400}, After::closed},
    {"SpaceBeforeColon", "RFC 9112 §5.1 whitespace before the colon MUST be rejected with 400",
     get_header("X-Probe", "X-Probe : v\r\n"), {400}, After::closed},
    {"TabBeforeColon", "RFC 9112 §5.1 whitespace before the colon", get_header("X-Probe", "X-Probe\t: v\r\n"),
     {400}, After::closed},
    {"EmptyName", "RFC 9110 §5.1 field-name = token (at least one tchar)", get_header("X", ": v\r\n"), {400},
     After::closed},
    {"SpaceInName", "RFC 9110 §5.1 field-name = token", get_header("X", "X Probe: v\r\n"), {400}, After::closed},
    {"NonTokenName", "RFC 9110 §5.1 '@' is not a tchar", get_header("X", "X@Probe: v\r\n"), {400}, After::closed},
    {"NonAsciiName", "RFC 9110 §5.1 field-name = token", get_header("X", "X-Pr\xc3\xb6" "be: v\r\n"), {400},
     After::closed},
    {"ObsFold", "RFC 9112 §5.2 obs-fold: reject with 400 (or replace with SP)",
     get_header("X-Probe", "X-Probe: a\r\n b\r\n"), {400}, After::closed},
    {"ObsFoldWithTab", "RFC 9112 §5.2 obs-fold with HTAB", get_header("X-Probe", "X-Probe: a\r\n\tb\r\n"), {400},
     After::closed},
    {"WhitespaceBeforeFirstField", "RFC 9112 §2.2 whitespace between start-line and first field MUST be rejected",
     "GET / HTTP/1.1\r\n Host: x\r\n\r\n", {400}, After::closed},
    {"NulInValue", "RFC 9110 §5.5 NUL MUST be rejected or replaced", get_header("X-Probe", "X-Probe: a\0b\r\n"s),
     {400}, After::closed},
    {"CtlInValue", "RFC 9110 §5.5 no CTL in a value", get_header("X-Probe", "X-Probe: a\x01" "b\r\n"), {400},
     After::closed},
    {"EscInValue", "RFC 9110 §5.5 no CTL in a value", get_header("X-Probe", "X-Probe: a\x1b[0m\r\n"), {400},
     After::closed},
    {"DelInValue", "RFC 9110 §5.5 no DEL in a value", get_header("X-Probe", "X-Probe: a\x7f\r\n"), {400},
     After::closed},
    {"BareCRInValue", "RFC 9112 §2.2 a bare CR MUST be rejected or replaced",
     get_header("X-Probe", "X-Probe: a\rb\r\n"), {400}, After::closed},
    {"BareCRBeforeCRLF", "RFC 9112 §2.2 bare CR", get_header("X-Probe", "X-Probe: a\r\r\n"), {400}, After::closed},
    {"BareCRAsLineEnd", "RFC 9112 §2.2 CR alone does not end a line", "GET / HTTP/1.1\rHost: x\r\r\n", {400},
     After::closed},
    {"MixedLineEnds", "RFC 9112 §2.2 CRLF and bare LF in one head",
     "GET /header/X-Probe HTTP/1.1\r\nHost: x\nX-Probe: v\r\n\n", {200}, After::open, "v"},
    {"ManyFieldsWithinLimit", "RFC 9110 §5.4 a reasonable number of fields is accepted",
     get_header("X-Probe", repeat("X-Filler: 0123456789\r\n", 90) + "X-Probe: v\r\n"), {200}, After::open, "v"},
    {"TooManyFields", "RFC 6585 §5 431 Request Header Fields Too Large",
     get_header("X-Probe", repeat("X-Filler: 0123456789\r\n", 300)), {431}, After::closed},
    {"LongValueWithinLimit", "RFC 9110 §5.4 a 64 KiB field is within the server's limit",
     get_header("X-Probe", "X-Probe: " + std::string(65536, 'v') + "\r\n"), {200}, After::open,
     std::string(65536, 'v')},
    {"HeadTooLarge", "RFC 6585 §5 431 for a head past max_header_bytes (1 MiB)",
     get_header("X-Probe", "X-Probe: " + std::string((1 << 20) + 10, 'v') + "\r\n"), {431}, After::closed},
    {"MissingHostHttp11", "RFC 9112 §3.2 MUST answer 400 to an HTTP/1.1 request without Host",
     "GET / HTTP/1.1\r\n\r\n", {400}, After::closed},
    {"MissingHostHttp10", "RFC 9112 §3.2 Host is only required in HTTP/1.1", "GET /target HTTP/1.0\r\n\r\n",
     {200}, After::closed, "GET|/target||"},
    {"DuplicateHost", "RFC 9112 §3.2 MUST answer 400 to more than one Host field line",
     "GET / HTTP/1.1\r\nHost: x\r\nHost: y\r\n\r\n", {400}, After::closed},
    {"DuplicateHostSameValue", "RFC 9112 §3.2 more than one Host line, even equal",
     "GET / HTTP/1.1\r\nHost: x\r\nHost: x\r\n\r\n", {400}, After::closed},
    {"DuplicateHostHttp10", "RFC 9112 §3.2 'any request message' with more than one Host",
     "GET / HTTP/1.0\r\nHost: x\r\nhost: y\r\n\r\n", {400}, After::closed},
    {"HostAsList", "RFC 9112 §3.2 Host is a single uri-host [: port]",
     "GET / HTTP/1.1\r\nHost: x, y\r\n\r\n", {400}, After::closed},
    {"HostWithSpace", "RFC 9112 §3.2 invalid Host value → 400", "GET / HTTP/1.1\r\nHost: a b\r\n\r\n", {400},
     After::closed},
    {"HostWithSlash", "RFC 9112 §3.2 invalid Host value → 400", "GET / HTTP/1.1\r\nHost: a/b\r\n\r\n", {400},
     After::closed},
    {"HostWithUserinfo", "RFC 9110 §7.2 Host carries no userinfo", "GET / HTTP/1.1\r\nHost: u@a\r\n\r\n", {400},
     After::closed},
    {"HostWithNonNumericPort", "RFC 3986 §3.2.3 port = *DIGIT", "GET / HTTP/1.1\r\nHost: a:b\r\n\r\n", {400},
     After::closed},
    {"HostWithTwoPorts", "RFC 3986 §3.2.3 one port", "GET / HTTP/1.1\r\nHost: a:1:2\r\n\r\n", {400},
     After::closed},
    {"HostUnbracketedIPv6", "RFC 3986 §3.2.2 an IPv6 literal is bracketed", "GET / HTTP/1.1\r\nHost: ::1\r\n\r\n",
     {400}, After::closed},
    {"HostNonAscii", "RFC 3986 §3.2.2 reg-name is ASCII (IDNs travel as punycode)",
     "GET / HTTP/1.1\r\nHost: \xc3\xa9x\r\n\r\n", {400}, After::closed},
    {"HostWithPort", "RFC 9110 §7.2 uri-host : port", "GET /target HTTP/1.1\r\nHost: x:8080\r\n\r\n", {200},
     After::open, "GET|/target||x:8080"},
    {"HostIPv6Literal", "RFC 3986 §3.2.2 IP-literal", "GET /target HTTP/1.1\r\nHost: [::1]:8080\r\n\r\n", {200},
     After::open, "GET|/target||[::1]:8080"},
    {"HostIPv4", "RFC 3986 §3.2.2 IPv4address", "GET /target HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n", {200},
     After::open, "GET|/target||127.0.0.1"},
    {"HostEmpty", "RFC 9110 §7.2 an empty Host is sent when the URI has no authority",
     "GET /target HTTP/1.1\r\nHost:\r\n\r\n", {200}, After::open, "GET|/target||"},
    {"RejectedRequestClosesConnection", "RFC 9112 §9.6 / Go: after a 400 the next request is not read",
     get_header("X", "Bad Field\r\n") + kGetTarget, {400}, After::closed},
};
INSTANTIATE_TEST_SUITE_P(Headers, Table, ::testing::ValuesIn(kHeaders), case_name);

// --- Framing and smuggling (RFC 9112 §6, §7; RFC 9110 §8.6) -------------------------

const std::vector<Case> kFraming = {
    // Content-Length (RFC 9110 §8.6, RFC 9112 §6.3 rule 5)
    {"ContentLength", "RFC 9112 §6.2 Content-Length frames the body", echo_cl("Content-Length: 5\r\n", "hello"),
     {200}, After::open, "hello"},
    {"ContentLengthZero", "RFC 9110 §8.6 zero-length body", echo_cl("Content-Length: 0\r\n", ""), {200},
     After::open, ""},
    {"NoLengthMeansNoBody", "RFC 9112 §6.3 rule 7: a request without CL or TE has no body",
     echo_cl("", "") + kGetTarget, {200, 200}, After::open, kTargetBody},
    {"ContentLengthLeadingZeros", "RFC 9110 §8.6 1*DIGIT; leading zeros are digits",
     echo_cl("Content-Length: 005\r\n", "hello"), {200}, After::open, "hello"},
    {"ContentLengthRepeatedEqual", "RFC 9110 §8.6 identical repeated values MAY be accepted",
     echo_cl("Content-Length: 5\r\nContent-Length: 5\r\n", "hello"), {200}, After::open, "hello"},
    {"ContentLengthListEqual", "RFC 9110 §8.6 a list of identical values", echo_cl("Content-Length: 5, 5\r\n", "hello"),
     {200}, After::open, "hello"},
    {"ContentLengthRepeatedDifferent", "RFC 9112 §6.3 rule 5: differing lengths are unrecoverable → 400",
     echo_cl("Content-Length: 5\r\nContent-Length: 6\r\n", "hello!"), {400}, After::closed},
    {"ContentLengthListDifferent", "RFC 9112 §6.3 rule 5", echo_cl("Content-Length: 5, 6\r\n", "hello!"), {400},
     After::closed},
    {"ContentLengthPlusSign", "RFC 9110 §8.6 1*DIGIT: no sign", echo_cl("Content-Length: +5\r\n", "hello"), {400},
     After::closed},
    {"ContentLengthNegative", "RFC 9110 §8.6 1*DIGIT", echo_cl("Content-Length: -5\r\n", "hello"), {400},
     After::closed},
    {"ContentLengthHex", "RFC 9110 §8.6 decimal only", echo_cl("Content-Length: 0x5\r\n", "hello"), {400},
     After::closed},
    {"ContentLengthDecimalPoint", "RFC 9110 §8.6 1*DIGIT", echo_cl("Content-Length: 5.0\r\n", "hello"), {400},
     After::closed},
    {"ContentLengthInnerSpace", "RFC 9110 §8.6 1*DIGIT", echo_cl("Content-Length: 5 5\r\n", "hello"), {400},
     After::closed},
    {"ContentLengthTrailingLetter", "RFC 9110 §8.6 1*DIGIT", echo_cl("Content-Length: 5a\r\n", "hello"), {400},
     After::closed},
    {"ContentLengthEmpty", "RFC 9110 §8.6 1*DIGIT", echo_cl("Content-Length:\r\n", ""), {400}, After::closed},
    {"ContentLengthTrailingComma", "RFC 9110 §8.6 a list of valid values only", echo_cl("Content-Length: 5,\r\n", "hello"),
     {400}, After::closed},
    {"ContentLengthOverflow", "RFC 9110 §8.6 anticipate overflow: a value past 2^64",
     echo_cl("Content-Length: 99999999999999999999999\r\n", "hello"), {400}, After::closed},
    {"ContentLengthPast2To63", "RFC 9110 §8.6 a value past the largest length we can hold (2^63-1)",
     echo_cl("Content-Length: 9223372036854775808\r\n", "hello"), {400}, After::closed},
    {"ContentLengthSpaceBeforeColon", "RFC 9112 §5.1 'Content-Length :' must not be read as a length",
     echo_cl("Content-Length : 5\r\n", "hello"), {400}, After::closed},
    {"BodyThenNextRequest", "RFC 9112 §6.3 exactly Content-Length bytes; the rest is the next request",
     echo_cl("Content-Length: 5\r\n", "hello") + kGetTarget, {200, 200}, After::open, kTargetBody},
    {"GetWithBody", "RFC 9110 §9.3.1 a GET body has no meaning but is framed and skipped",
     "GET /target HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello" + kGetTarget, {200, 200}, After::open,
     kTargetBody},
    {"UnreadBodyIsSkipped", "Go: an unread body (up to 256 KiB) is discarded to keep the connection",
     "POST /ignore HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello", {200}, After::open, "ignored"},
    {"Http10ContentLength", "RFC 9112 §6.2 HTTP/1.0 with a body", "POST /echo HTTP/1.0\r\nContent-Length: 2\r\n\r\nhi",
     {200}, After::closed, "hi"},

    // Transfer-Encoding (RFC 9112 §6.1, §6.3 rules 3-4)
    {"Chunked", "RFC 9112 §7.1 chunked", echo_chunked("5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n"), {200},
     After::open, "hello world"},
    {"ChunkedOnlyLastChunk", "RFC 9112 §7.1 an empty chunked body", echo_chunked("0\r\n\r\n"), {200}, After::open,
     ""},
    {"ChunkedCaseInsensitive", "RFC 9112 §7 transfer-coding names are case-insensitive",
     echo_chunked("2\r\nhi\r\n0\r\n\r\n", "Chunked"), {200}, After::open, "hi"},
    {"ChunkedUppercase", "RFC 9112 §7", echo_chunked("2\r\nhi\r\n0\r\n\r\n", "CHUNKED"), {200}, After::open, "hi"},
    {"ChunkedLeadingSpaces", "RFC 9110 §5.5 OWS around a value is not part of it",
     echo_chunked("2\r\nhi\r\n0\r\n\r\n", "   chunked"), {200}, After::open, "hi"},
    {"ChunkedLeadingTab", "RFC 9110 §5.5 HTAB is OWS", echo_chunked("2\r\nhi\r\n0\r\n\r\n", "\tchunked"), {200},
     After::open, "hi"},
    {"ChunkedTrailingSpace", "RFC 9110 §5.5", echo_chunked("2\r\nhi\r\n0\r\n\r\n", "chunked \t"), {200},
     After::open, "hi"},
    {"ChunkedTwice", "RFC 9112 §6.1 chunked MUST NOT be applied twice; no stacked codings here (501)",
     echo_chunked("0\r\n\r\n", "chunked, chunked"), {501}, After::closed},
    {"ChunkedInTwoFieldLines", "RFC 9110 §5.3 two TE lines are one list: chunked, chunked (501)",
     "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
     {501}, After::closed},
    {"GzipThenChunked", "RFC 9112 §6.1 an unknown transfer coding SHOULD get 501",
     echo_chunked("0\r\n\r\n", "gzip, chunked"), {501}, After::closed},
    {"GzipLineThenChunkedLine", "RFC 9110 §5.3 combined: gzip, chunked → 501",
     "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
     {501}, After::closed},
    {"Gzip", "RFC 9112 §6.3 rule 4: chunked not final → MUST 400 and close", echo_chunked("0\r\n\r\n", "gzip"),
     {400}, After::closed},
    {"ChunkedThenGzip", "RFC 9112 §6.3 rule 4: chunked not final", echo_chunked("0\r\n\r\n", "chunked, gzip"),
     {400}, After::closed},
    {"ChunkedLineThenGzipLine", "RFC 9112 §6.3 rule 4 across field lines",
     "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: gzip\r\n\r\n0\r\n\r\n",
     {400}, After::closed},
    {"Identity", "RFC 9112 §6.3 rule 4 (identity is no longer a coding)", echo_chunked("0\r\n\r\n", "identity"),
     {400}, After::closed},
    {"XChunked", "RFC 9112 §6.3 rule 4: 'xchunked' is not chunked", echo_chunked("0\r\n\r\n", "xchunked"), {400},
     After::closed},
    {"ChunkedWithParameter", "RFC 9112 §7 chunked takes no parameters: 'chunked;q=1' is not chunked",
     echo_chunked("0\r\n\r\n", "chunked;q=1"), {400}, After::closed},
    {"ChunkedQuoted", "RFC 9112 §6.3 rule 4: '\"chunked\"' is not chunked", echo_chunked("0\r\n\r\n", "\"chunked\""),
     {400}, After::closed},
    {"ChunkedTrailingComma", "RFC 9112 §6.3 rule 4: refuse what a front end could read differently",
     echo_chunked("0\r\n\r\n", "chunked,"), {400}, After::closed},
    {"TransferEncodingEmpty", "RFC 9112 §6.3 rule 4: no chunked at all", echo_chunked("0\r\n\r\n", ""), {400},
     After::closed},
    {"TransferEncodingVerticalTab", "RFC 9110 §5.5 a CTL in the value",
     echo_chunked("0\r\n\r\n", "\x0b" "chunked"), {400}, After::closed},
    {"TransferEncodingSpaceBeforeColon", "RFC 9112 §5.1 (CL.TE smuggling with 'Transfer-Encoding :')",
     "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding : chunked\r\n\r\n0\r\n\r\n", {400}, After::closed},
    {"TransferEncodingObsFold", "RFC 9112 §5.2 'Transfer-Encoding:\\r\\n chunked'",
     "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding:\r\n chunked\r\n\r\n0\r\n\r\n", {400}, After::closed},
    {"ContentLengthAndChunked", "RFC 9112 §6.3 rule 3: CL with TE MAY be rejected; it must not be used",
     "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", {400},
     After::closed},
    {"ChunkedAndContentLength", "RFC 9112 §6.3 rule 3 (TE.CL order)",
     "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nContent-Length: 0\r\n\r\n0\r\n\r\n", {400},
     After::closed},
    {"ChunkedInHttp10", "RFC 9112 §6.1 TE in HTTP/1.0: the framing is faulty; close",
     "POST /echo HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nhi\r\n0\r\n\r\n", {400}, After::closed},
    {"ChunkedWithContentLengthInHttp10", "RFC 9112 §6.1 even with a Content-Length",
     "POST /echo HTTP/1.0\r\nTransfer-Encoding: chunked\r\nContent-Length: 2\r\n\r\nhi", {400}, After::closed},

    // chunk-size, extensions, data (RFC 9112 §7.1, §7.1.1)
    {"ChunkSizeUppercaseHex", "RFC 9112 §7.1 chunk-size = 1*HEXDIG", echo_chunked("A\r\n0123456789\r\n0\r\n\r\n"),
     {200}, After::open, "0123456789"},
    {"ChunkSizeLowercaseHex", "RFC 9112 §7.1 HEXDIG is case-insensitive", echo_chunked("a\r\n0123456789\r\n0\r\n\r\n"),
     {200}, After::open, "0123456789"},
    {"ChunkSizeLeadingZeros", "RFC 9112 §7.1 1*HEXDIG", echo_chunked("0005\r\nhello\r\n000\r\n\r\n"), {200},
     After::open, "hello"},
    {"ChunkSizeManyLeadingZeros", "RFC 9112 §7.1 zeros do not overflow",
     echo_chunked("00000000000000000000005\r\nhello\r\n0\r\n\r\n"), {200}, After::open, "hello"},
    {"ChunkSizeOverflow", "RFC 9112 §7.1 anticipate overflow (2^64)",
     echo_chunked("10000000000000005\r\nhello\r\n0\r\n\r\n"), {400}, After::closed},
    {"ChunkSizePast2To63", "RFC 9112 §7.1 a size we cannot hold", echo_chunked("8000000000000000\r\nhello\r\n0\r\n\r\n"),
     {400}, After::closed},
    {"ChunkSizeNegative", "RFC 9112 §7.1 1*HEXDIG: no sign", echo_chunked("-5\r\nhello\r\n0\r\n\r\n"), {400},
     After::closed},
    {"ChunkSizePlus", "RFC 9112 §7.1 no sign", echo_chunked("+5\r\nhello\r\n0\r\n\r\n"), {400}, After::closed},
    {"ChunkSize0xPrefix", "RFC 9112 §7.1 no 0x", echo_chunked("0x5\r\nhello\r\n0\r\n\r\n"), {400}, After::closed},
    {"ChunkSizeEmpty", "RFC 9112 §7.1 at least one HEXDIG", echo_chunked("\r\nhello\r\n0\r\n\r\n"), {400},
     After::closed},
    {"ChunkSizeLeadingSpace", "RFC 9112 §7.1 nothing before chunk-size", echo_chunked(" 5\r\nhello\r\n0\r\n\r\n"),
     {400}, After::closed},
    {"ChunkSizeTrailingSpace", "RFC 9112 §7.1.1 BWS only before ';' (Go trims it; we refuse)",
     echo_chunked("5 \r\nhello\r\n0\r\n\r\n"), {400}, After::closed},
    {"ChunkSizeNonHex", "RFC 9112 §7.1 HEXDIG", echo_chunked("5g\r\nhello\r\n0\r\n\r\n"), {400}, After::closed},
    {"ChunkExtension", "RFC 9112 §7.1.1 extensions are parsed and ignored",
     echo_chunked("5;name=value\r\nhello\r\n0\r\n\r\n"), {200}, After::open, "hello"},
    {"ChunkExtensionNoValue", "RFC 9112 §7.1.1 chunk-ext-name alone", echo_chunked("5;name\r\nhello\r\n0\r\n\r\n"),
     {200}, After::open, "hello"},
    {"ChunkExtensionQuoted", "RFC 9112 §7.1.1 quoted-string value with ';' and an escaped quote",
     echo_chunked("5;a=\"x;y\\\"z\"\r\nhello\r\n0\r\n\r\n"), {200}, After::open, "hello"},
    {"ChunkExtensionBWS", "RFC 9112 §7.1.1 BWS around ';' and '='", echo_chunked("5 ; a = b\r\nhello\r\n0\r\n\r\n"),
     {200}, After::open, "hello"},
    {"ChunkExtensionOnLastChunk", "RFC 9112 §7.1 last-chunk = 1*\"0\" [ chunk-ext ] CRLF",
     echo_chunked("5\r\nhello\r\n0;done\r\n\r\n"), {200}, After::open, "hello"},
    {"ChunkExtensionCtl", "RFC 9112 §7.1.1 chunk-ext-name = token", echo_chunked("5;\x01\r\nhello\r\n0\r\n\r\n"),
     {400}, After::closed},
    {"ChunkExtensionUnterminatedQuote", "RFC 9112 §7.1.1 quoted-string must close before CRLF",
     echo_chunked("5;a=\"b\r\nhello\r\n0\r\n\r\n"), {400}, After::closed},
    {"ChunkExtensionBareLFInQuote", "RFC 9112 §7.1.1 no LF in a quoted-string (smuggling via extensions)",
     echo_chunked("5;a=\"b\nc\"\r\nhello\r\n0\r\n\r\n"), {400}, After::closed},
    {"ChunkLineTooLong", "RFC 9112 §7.1.1 a server limits extension length (400)",
     echo_chunked("5;" + std::string(4000, 'a') + "\r\nhello\r\n0\r\n\r\n"), {400}, After::closed},
    {"ChunkSizeBareLF", "RFC 9112 §7.1 chunk lines end in CRLF (CVE-2025-22871)",
     echo_chunked("5\nhello\r\n0\r\n\r\n"), {400}, After::closed},
    {"ChunkDataBareLF", "RFC 9112 §7.1 chunk-data CRLF", echo_chunked("5\r\nhello\n0\r\n\r\n"), {400}, After::closed},
    {"LastChunkBareLF", "RFC 9112 §7.1 last-chunk CRLF", echo_chunked("5\r\nhello\r\n0\n\r\n"), {400},
     After::closed},
    {"ChunkSizeBareCR", "RFC 9112 §2.2 bare CR", echo_chunked("5\rhello\r\n0\r\n\r\n"), {400}, After::closed},
    {"ChunkDataLongerThanSize", "RFC 9112 §7.1 chunk-data is exactly chunk-size octets",
     echo_chunked("2\r\nhello\r\n0\r\n\r\n"), {400}, After::closed},
    {"ChunkDataShorterThanSize", "RFC 9112 §7.1 the next bytes are data, then CRLF must follow",
     echo_chunked("9\r\nhello\r\n0\r\n\r\n"), {400}, After::closed},
    {"ChunkDataMissingCRLF", "RFC 9112 §7.1 CRLF after chunk-data", echo_chunked("5\r\nhello0\r\n\r\n"), {400},
     After::closed},
    {"ChunkedMissingFinalCRLF", "RFC 9112 §7.1 the body ends with the trailer section's CRLF; EOF before it",
     echo_chunked("5\r\nhello\r\n0\r\n"), {400}, After::closed, std::nullopt, false, true},
    {"ChunkedEndsWithoutLastChunk", "RFC 9112 §7.1 EOF inside a chunked body is an incomplete message",
     echo_chunked("5\r\nhello\r\n"), {400}, After::closed, std::nullopt, false, true},
    {"ManySmallChunks", "RFC 9112 §7.1 any number of chunks", echo_chunked(repeat("1\r\nx\r\n", 1000) + "0\r\n\r\n"),
     {200}, After::open, std::string(1000, 'x')},
    {"ChunkedThenNextRequest", "RFC 9112 §7.1 the body ends after the last chunk and trailer CRLF",
     echo_chunked("5\r\nhello\r\n0\r\n\r\n") + kGetTarget, {200, 200}, After::open, kTargetBody},
    {"ChunkedSmuggledRequestInBody", "RFC 9112 §7.1 bytes inside a chunk are data, not a request",
     echo_chunked(fmt::format("{:x}\r\n{}\r\n0\r\n\r\n", kGetTarget.size(), kGetTarget)), {200}, After::open,
     kGetTarget},
    {"ChunkedGet", "RFC 9110 §9.3.1 a chunked GET body is framed and skipped",
     "GET /target HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n" + kGetTarget,
     {200, 200}, After::open, kTargetBody},

    // Trailer section (RFC 9112 §7.1.2, RFC 9110 §6.5)
    {"Trailer", "RFC 9112 §7.1.2 trailer fields reach the handler",
     "POST /trailers HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\nX-Sum: 1\r\n\r\n",
     {200}, After::open, "hello|X-Sum=1;"},
    {"TrailerManyFields", "RFC 9112 §7.1.2",
     "POST /trailers HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nA: 1\r\nB: 2\r\n\r\n", {200},
     After::open, "|A=1;B=2;"},
    {"TrailerContentLengthIgnored", "RFC 9110 §6.5.1 framing fields in a trailer MUST NOT change the framing",
     echo_chunked("5\r\nhello\r\n0\r\nContent-Length: 50\r\n\r\n") + kGetTarget, {200, 200}, After::open,
     kTargetBody},
    {"TrailerTransferEncodingIgnored", "RFC 9110 §6.5.1",
     echo_chunked("5\r\nhello\r\n0\r\nTransfer-Encoding: chunked\r\n\r\n") + kGetTarget, {200, 200}, After::open,
     kTargetBody},
    {"TrailerWithoutColon", "RFC 9112 §7.1.2 trailer-section = *( field-line CRLF )",
     echo_chunked("5\r\nhello\r\n0\r\nbad trailer\r\n\r\n"), {400}, After::closed},
    {"TrailerObsFold", "RFC 9112 §5.2 obs-fold in a trailer", echo_chunked("5\r\nhello\r\n0\r\nA: 1\r\n 2\r\n\r\n"),
     {400}, After::closed},
    {"TrailerBareLF", "RFC 9112 §7.1 chunked lines end in CRLF", echo_chunked("5\r\nhello\r\n0\r\nA: 1\n\r\n"),
     {400}, After::closed},
};
INSTANTIATE_TEST_SUITE_P(Framing, Table, ::testing::ValuesIn(kFraming), case_name);

// --- Semantics (RFC 9110 §9, §10, §15; RFC 9112 §9) -------------------------------

const std::vector<Case> kSemantics = {
    {"KeepAliveByDefaultInHttp11", "RFC 9112 §9.3 HTTP/1.1 is persistent by default", kGetTarget, {200},
     After::open, kTargetBody},
    {"ConnectionClose", "RFC 9112 §9.6 the server closes after answering 'Connection: close'",
     "GET /target HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", {200}, After::closed, kTargetBody, false,
     false, "Connection: close"},
    {"ConnectionCloseAnyCase", "RFC 9110 §7.6.1 connection options are case-insensitive",
     "GET /target HTTP/1.1\r\nHost: x\r\nConnection: CLOSE\r\n\r\n", {200}, After::closed},
    {"ConnectionCloseInList", "RFC 9110 §7.6.1 Connection is a list",
     "GET /target HTTP/1.1\r\nHost: x\r\nConnection: keep-alive, close\r\n\r\n", {200}, After::closed},
    {"ConnectionCloseSecondLine", "RFC 9110 §5.3 two Connection lines are one list",
     "GET /target HTTP/1.1\r\nHost: x\r\nConnection: keep-alive\r\nConnection: close\r\n\r\n", {200},
     After::closed},
    {"ConnectionCloseStopsPipeline", "RFC 9112 §9.6 nothing after the request with close is answered",
     kGetTarget + "GET /target HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n" + kGetTarget, {200, 200},
     After::closed},
    {"Http10ClosesByDefault", "RFC 9112 §9.3 HTTP/1.0 without keep-alive", "GET /target HTTP/1.0\r\n\r\n", {200},
     After::closed},
    {"Http10KeepAlive", "RFC 9112 §C.2.2 HTTP/1.0 'Connection: keep-alive' keeps it open",
     "GET /target HTTP/1.0\r\nHost: x\r\nConnection: keep-alive\r\n\r\n", {200}, After::open, kTargetBody,
     false, false, "Connection: keep-alive"},
    {"Http10KeepAliveThenDefault", "RFC 9112 §C.2.2 each HTTP/1.0 request decides",
     "GET /target HTTP/1.0\r\nConnection: keep-alive\r\n\r\nGET /target HTTP/1.0\r\n\r\n", {200, 200},
     After::closed},
    {"Pipelined", "RFC 9112 §9.3.2 pipelined requests are answered in order",
     "GET /target?1 HTTP/1.1\r\nHost: x\r\n\r\nGET /target?2 HTTP/1.1\r\nHost: x\r\n\r\n"
     "GET /target?3 HTTP/1.1\r\nHost: x\r\n\r\n",
     {200, 200, 200}, After::open, "GET|/target|3|x"},
    {"PipelinedPostsOfEveryFraming", "RFC 9112 §9.3.2 with bodies of each framing",
     echo_cl("Content-Length: 3\r\n", "abc") + echo_chunked("3\r\ndef\r\n0\r\n\r\n") + echo_cl("", "") +
         echo_cl("Content-Length: 3\r\n", "ghi"),
     {200, 200, 200, 200}, After::open, "ghi"},
    {"PipelinedAfterHead", "RFC 9110 §9.3.2 a HEAD response has no body: the next response follows",
     "HEAD /target HTTP/1.1\r\nHost: x\r\n\r\nHEAD / HTTP/1.1\r\nHost: x\r\n\r\n", {200, 200}, After::open, "",
     true},
    {"HeadHasNoBody", "RFC 9110 §9.3.2 HEAD: the GET headers, no body", "HEAD / HTTP/1.1\r\nHost: x\r\n\r\n", {200},
     After::open, "", true},
    {"HeadOfLargeBody", "RFC 9110 §9.3.2 no body even when GET's would be chunked",
     "HEAD /big/100000 HTTP/1.1\r\nHost: x\r\n\r\n", {200}, After::open, "", true},
    {"HeadOfFlushedBody", "RFC 9110 §9.3.2", "HEAD /flush HTTP/1.1\r\nHost: x\r\n\r\n", {200}, After::open, "",
     true},
    {"NotFound", "RFC 9110 §15.5.5", "GET /nowhere HTTP/1.1\r\nHost: x\r\n\r\n", {404}, After::open},
    {"MethodNotAllowed", "RFC 9110 §15.5.6", "DELETE / HTTP/1.1\r\nHost: x\r\n\r\n", {405}, After::open},
    {"PostToGetRouteBodySkipped", "RFC 9110 §15.5.6 with an unread body that is skipped",
     "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello", {405}, After::open},
    {"NoContent", "RFC 9110 §15.3.5 204 has no body (a write is refused)", "GET /status/204 HTTP/1.1\r\nHost: x\r\n\r\n",
     {204}, After::open, ""},
    {"NotModified", "RFC 9110 §15.4.5 304 has no body", "GET /status/304 HTTP/1.1\r\nHost: x\r\n\r\n", {304},
     After::open, ""},
    {"CustomStatusCode", "RFC 9110 §15 an unregistered code is sent as is",
     "GET /status/299 HTTP/1.1\r\nHost: x\r\n\r\n", {299}, After::open, "body"},
    {"ExpectContinueAnyCase", "RFC 9110 §10.1.1 '100-continue' is case-insensitive; 100 then the response",
     echo_cl("Expect: 100-Continue\r\nContent-Length: 2\r\n", "hi"), {100, 200}, After::open, "hi"},
    {"ExpectContinueWithoutBody", "RFC 9110 §10.1.1 no 100 when there is no body to wait for",
     "GET /target HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\n\r\n", {200}, After::open, kTargetBody},
    {"ExpectContinueInHttp10Ignored", "RFC 9110 §10.1.1 MUST ignore 100-continue in HTTP/1.0",
     "POST /echo HTTP/1.0\r\nExpect: 100-continue\r\nContent-Length: 2\r\n\r\nhi", {200}, After::closed, "hi"},
    {"ExpectUnknown", "RFC 9110 §10.1.1 an unknown expectation → 417 (as Go)",
     echo_cl("Expect: the-unexpected\r\nContent-Length: 2\r\n", "hi"), {417}, After::closed},
    {"HandlerAsksToClose", "Go: a handler's 'Connection: close' closes the connection after the response",
     "GET /close HTTP/1.1\r\nHost: x\r\n\r\n" + kGetTarget, {200}, After::closed, "bye"},
    {"HandlerException", "Go recovers a handler's panic: 500, then close",
     "GET /throw HTTP/1.1\r\nHost: x\r\n\r\n" + kGetTarget, {500}, After::closed},
    {"HandlerWritesPastContentLength", "RFC 9110 §8.6 the body is cut at the declared Content-Length",
     "GET /cl-long HTTP/1.1\r\nHost: x\r\n\r\n", {200}, After::open, "toolo"},
    {"ChunkedResponseWhenLarge", "RFC 9112 §7.1 a body past the buffer goes out chunked to HTTP/1.1",
     "GET /big/100000 HTTP/1.1\r\nHost: x\r\n\r\n", {200}, After::open, std::string(100000, 'x')},
    {"FlushedResponseIsChunked", "RFC 9112 §7.1 a flushed response of unknown length",
     "GET /flush HTTP/1.1\r\nHost: x\r\n\r\n", {200}, After::open, "ab"},
    {"Http10LargeResponseCloseDelimited", "RFC 9112 §6.1 never chunked to HTTP/1.0: the close ends it",
     "GET /big/100000 HTTP/1.0\r\n\r\n", {200}, After::closed, std::string(100000, 'x'), false, false,
     "!Transfer-Encoding"},
    {"Http10KeepAliveLargeResponse", "RFC 9112 §6.1, §C.2.2 unknown length to HTTP/1.0 forces a close",
     "GET /flush HTTP/1.0\r\nConnection: keep-alive\r\n\r\n", {200}, After::closed, "ab", false, false,
     "Connection: close"},
    {"ManyPipelined", "RFC 9112 §9.3.2 a hundred requests in one write, past the read buffer",
     repeat("GET /target?" + std::string(100, 'p') + " HTTP/1.1\r\nHost: x\r\n\r\n", 100),
     std::vector<int>(100, 200), After::open},
    {"UpgradeIgnored", "RFC 9110 §7.8 a server MAY ignore Upgrade (no h2c here, like Go by default)",
     "GET /target HTTP/1.1\r\nHost: x\r\nConnection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\n"
     "HTTP2-Settings: AAMAAABkAAQCAAAAAAIAAAAA\r\n\r\n",
     {200}, After::open, kTargetBody, false, false, "!Upgrade"},
    {"TEHeaderIsNotTransferEncoding", "RFC 9110 §10.1.4 TE is the client's wish for the response, not framing",
     echo_cl("TE: chunked\r\nContent-Length: 5\r\n", "hello"), {200}, After::open, "hello"},
    {"TransferEncodingWithUnderscoreIsAnotherField", "RFC 9110 §5.1 'Transfer_Encoding' is not Transfer-Encoding",
     echo_cl("Transfer_Encoding: chunked\r\nContent-Length: 5\r\n", "hello"), {200}, After::open, "hello"},
    {"ErrorResponseSaysClose", "RFC 9112 §9.6 a server that will close SHOULD send 'Connection: close'",
     "GET / HTTP/1.1\r\nHost: a b\r\n\r\n", {400}, After::closed, std::nullopt, false, false,
     "Connection: close"},
    {"HeadContentLengthOfGet", "RFC 9110 §9.3.2, §8.6 HEAD MAY send the Content-Length GET would",
     "HEAD /big/100000 HTTP/1.1\r\nHost: x\r\n\r\n", {200}, After::open, "", true, false,
     "Content-Length: 100000"},
    {"NoContentLengthOn204", "RFC 9110 §8.6 MUST NOT send Content-Length in a 204",
     "GET /status/204 HTTP/1.1\r\nHost: x\r\n\r\n", {204}, After::open, "", false, false, "!Content-Length"},
    {"OptionsAsteriskContentLength", "Go's globalOptionsHandler: Content-Length: 0",
     "OPTIONS * HTTP/1.1\r\nHost: x\r\n\r\n", {200}, After::open, "", false, false, "Content-Length: 0"},
    {"HalfCloseAfterRequest", "RFC 9112 §9.6 a client's half-close does not cancel its response",
     kGetTarget, {200}, After::closed, kTargetBody, false, true},
    {"HalfCloseAfterPipelinedRequests", "RFC 9112 §9.6 every request before the FIN is answered",
     kGetTarget + echo_cl("Content-Length: 2\r\n", "hi"), {200, 200}, After::closed, "hi", false, true},
};
INSTANTIATE_TEST_SUITE_P(Semantics, Table, ::testing::ValuesIn(kSemantics), case_name);

// --- Responses, one property at a time ----------------------------------------------

using Responses = ServerFixture;

// RFC 9110 §9.3.2: HEAD gets the same header fields as GET, Content-Length included.
TEST_F(Responses, HeadHasTheHeadersOfGet) {
  Client c(port_);
  c.send("GET / HTTP/1.1\r\nHost: x\r\n\r\nHEAD / HTTP/1.1\r\nHost: x\r\n\r\n");
  auto get = c.read_response();
  ASSERT_TRUE(get) << c.error();
  auto head = c.read_response(true);
  ASSERT_TRUE(head) << c.error();
  EXPECT_EQ(head->status, get->status);
  EXPECT_EQ(head->get("Content-Length"), std::to_string(kIndexHtml.size()));
  EXPECT_EQ(head->get("Content-Length"), get->get("Content-Length"));
  EXPECT_EQ(head->get("Content-Type"), get->get("Content-Type"));
  EXPECT_TRUE(c.quiet_for(100ms)) << "bytes after the HEAD response: " << Client::printable(c.pending());
}

// RFC 9110 §6.6.1: Date, as IMF-fixdate (§5.6.7), on every final response
// — those the handler writes and those the server writes itself.
TEST_F(Responses, DateOnEveryFinalResponse) {
  for (std::string_view req : {"GET / HTTP/1.1\r\nHost: x\r\n\r\n", "GET /nowhere HTTP/1.1\r\nHost: x\r\n\r\n",
                               "GET /throw HTTP/1.1\r\nHost: x\r\n\r\n", "GET / HTTP/1.1\r\n\r\n",
                               "GET / HTTP/2.0\r\nHost: x\r\n\r\n"}) {
    Client c(port_);
    c.send(req);
    auto r = c.read_response();  // checks the Date
    ASSERT_TRUE(r) << Client::printable(req) << ": " << c.error();
    EXPECT_EQ(r->count("Date"), 1u);
  }
}

// Go's DetectContentType (WHATWG MIME sniffing) when the handler sets no
// Content-Type; never overrides one that it set.
TEST_F(Responses, ContentTypeIsSniffedOnlyWhenUnset) {
  struct {
    std::string_view path, type;
  } cases[] = {{"/sniff/html", "text/html; charset=utf-8"},
               {"/sniff/text", "text/plain; charset=utf-8"},
               {"/sniff/png", "image/png"},
               {"/sniff/typed", "application/x-custom"}};
  Client c(port_);
  for (const auto& k : cases) {
    c.send(fmt::format("GET {} HTTP/1.1\r\nHost: x\r\n\r\n", k.path));
    auto r = c.read_response();
    ASSERT_TRUE(r) << c.error();
    EXPECT_EQ(r->get("Content-Type"), k.type) << k.path;
  }
  // No body: nothing to sniff (Go sends no Content-Type).
  c.send("GET /sniff/none HTTP/1.1\r\nHost: x\r\n\r\n");
  auto r = c.read_response();
  ASSERT_TRUE(r) << c.error();
  EXPECT_FALSE(r->has("Content-Type"));
  EXPECT_EQ(r->get("Content-Length"), "0");
}

// RFC 9110 §15.3.5, §8.6: no Content-Length or Transfer-Encoding in a 204
// (the reader checks), and the next response follows at once.
TEST_F(Responses, NoContentCarriesNoFraming) {
  Client c(port_);
  c.send("GET /status/204 HTTP/1.1\r\nHost: x\r\n\r\n" + kGetTarget);
  auto r = c.read_response();
  ASSERT_TRUE(r) << c.error();
  EXPECT_EQ(r->status, 204);
  auto next = c.read_response();
  ASSERT_TRUE(next) << c.error();
  EXPECT_EQ(next->body, kTargetBody);
}

// RFC 9110 §15.5.6: a 405 lists the allowed methods.
TEST_F(Responses, MethodNotAllowedHasAllow) {
  Client c(port_);
  c.send("PUT /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n");
  auto r = c.read_response();
  ASSERT_TRUE(r) << c.error();
  EXPECT_EQ(r->status, 405);
  EXPECT_EQ(r->get("Allow"), "POST");
}

// Go's globalOptionsHandler: "OPTIONS *" is answered by the server with
// 200 and an empty body.
TEST_F(Responses, OptionsAsteriskIsEmpty200) {
  Client c(port_);
  c.send("OPTIONS * HTTP/1.1\r\nHost: x\r\n\r\n");
  auto r = c.read_response();
  ASSERT_TRUE(r) << c.error();
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->get("Content-Length"), "0");
}

// RFC 9112 §6.3 rule 5 / Go: a handler that declares a Content-Length and
// writes less leaves the client waiting for bytes that never come; the
// server must close the connection so that it notices.
TEST_F(Responses, ShortBodyAfterDeclaredLengthClosesConnection) {
  Client c(port_);
  c.send("GET /cl-short HTTP/1.1\r\nHost: x\r\n\r\n");
  std::string got = c.read_to_close(3s);
  EXPECT_TRUE(c.ended()) << "still open: the client would wait for 5 more bytes";
  EXPECT_NE(got.find("Content-Length: 10\r\n"), std::string::npos) << Client::printable(got);
  EXPECT_TRUE(got.ends_with("\r\n\r\nshort")) << Client::printable(got);
}

// Go: a handler's exception after the head left cannot become a 500; the
// connection is closed without the last chunk, so the client sees the
// response as incomplete (RFC 9112 §8).
TEST_F(Responses, ExceptionAfterFlushAbortsTheResponse) {
  Client c(port_);
  c.send("GET /throw-after-flush HTTP/1.1\r\nHost: x\r\n\r\n");
  std::string got = c.read_to_close(3s);
  EXPECT_TRUE(c.ended());
  EXPECT_TRUE(got.starts_with("HTTP/1.1 200 OK\r\n")) << Client::printable(got);
  EXPECT_NE(got.find("partial"), std::string::npos) << Client::printable(got);
  EXPECT_FALSE(got.ends_with("0\r\n\r\n")) << "a truncated response must not look complete";
}

// Go: the server keeps serving other connections after a handler's exception.
TEST_F(Responses, ServerGoesOnAfterHandlerException) {
  for (int i = 0; i < 3; ++i) {
    Client c(port_);
    c.send("GET /throw HTTP/1.1\r\nHost: x\r\n\r\n");
    auto r = c.read_response();
    ASSERT_TRUE(r) << c.error();
    EXPECT_EQ(r->status, 500);
    EXPECT_TRUE(c.closes_within(3s));
  }
  Client ok(port_);
  ok.send(kGetTarget);
  auto r = ok.read_response();
  ASSERT_TRUE(r) << ok.error();
  EXPECT_EQ(r->body, kTargetBody);
}

// --- Bodies ------------------------------------------------------------------------

using Bodies = ServerFixture;

std::string pattern_bytes(std::size_t n) {
  std::string s(n, '\0');
  for (std::size_t i = 0; i < n; ++i) s[i] = static_cast<char>('a' + (i * 7 + i / 251) % 26);
  return s;
}

// RFC 9112 §6.2: a 1 MiB Content-Length body, echoed whole (the response,
// past the buffer, goes out chunked).
TEST_F(Bodies, EchoesOneMebibyteWithContentLength) {
  std::string body = pattern_bytes(1 << 20);
  Client c(port_);
  c.send(echo_cl("Content-Type: application/x-test\r\nContent-Length: 1048576\r\n", body));
  auto r = c.read_response(false, 20s);
  ASSERT_TRUE(r) << c.error();
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->get("Content-Type"), "application/x-test");
  EXPECT_TRUE(r->body == body) << "echoed body differs (" << r->body.size() << " bytes)";
}

// RFC 9112 §7.1: a 1 MiB chunked body in uneven chunks.
TEST_F(Bodies, EchoesOneMebibyteChunked) {
  std::string body = pattern_bytes(1 << 20);
  std::string wire;
  std::size_t sizes[] = {1, 4096, 65536, 7, 100000};
  for (std::size_t off = 0, k = 0; off < body.size(); ++k) {
    std::size_t n = std::min(sizes[k % 5], body.size() - off);
    wire += fmt::format("{:X}\r\n", n);
    wire.append(body, off, n);
    wire += "\r\n";
    off += n;
  }
  wire += "0\r\n\r\n";
  Client c(port_);
  c.send(echo_chunked(wire));
  auto r = c.read_response(false, 20s);
  ASSERT_TRUE(r) << c.error();
  EXPECT_EQ(r->status, 200);
  EXPECT_TRUE(r->body == body) << "echoed body differs (" << r->body.size() << " bytes)";
  // And the connection is still in step.
  c.send(kGetTarget);
  auto next = c.read_response();
  ASSERT_TRUE(next) << c.error();
  EXPECT_EQ(next->body, kTargetBody);
}

// RFC 9110 §10.1.1: the client waits for 100 Continue; the server sends it
// when the handler reads, then the final response.
TEST_F(Bodies, ExpectContinueSends100WhenTheHandlerReads) {
  Client c(port_);
  c.send(echo_cl("Expect: 100-continue\r\nContent-Length: 5\r\n", ""));
  auto cont = c.read_response();
  ASSERT_TRUE(cont) << c.error();
  EXPECT_EQ(cont->status, 100);
  c.send("hello");
  auto r = c.read_response();
  ASSERT_TRUE(r) << c.error();
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body, "hello");
  c.send(kGetTarget);
  auto next = c.read_response();
  ASSERT_TRUE(next) << c.error();
  EXPECT_EQ(next->body, kTargetBody);
}

// RFC 9110 §10.1.1: a server that answers without reading the body sends
// no 100 and the final response; Go then closes (the client may or may not
// send the body, so the stream position is unknown).
TEST_F(Bodies, ExpectContinueNotReadGetsFinalResponseAndClose) {
  Client c(port_);
  c.send("POST /ignore HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\n");
  auto r = c.read_response();
  ASSERT_TRUE(r) << c.error();
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body, "ignored");
  EXPECT_TRUE(c.closes_within(3s));
}

// Go's maxPostHandlerReadBytes: an unread body past 256 KiB is not drained;
// the connection closes after the response.
TEST_F(Bodies, LargeUnreadBodyClosesConnection) {
  Client c(port_);
  std::string body(1 << 20, 'b');
  std::thread sender([&] { c.send("POST /ignore HTTP/1.1\r\nHost: x\r\nContent-Length: 1048576\r\n\r\n" + body); });
  auto r = c.read_response();
  sender.join();
  ASSERT_TRUE(r) << c.error();
  EXPECT_EQ(r->status, 200);
  EXPECT_TRUE(c.closes_within(3s));
}

// RFC 9112 §6.3 rule 5 and §9.6: a request refused for its framing is
// answered even when the client goes on sending its (large) body.
TEST_F(Bodies, RefusedRequestIsAnsweredWhileTheBodyStillArrives) {
  Client c(port_);
  std::string body(1 << 20, 'b');
  std::thread sender([&] { c.send(echo_cl("Content-Length: 1048576\r\nContent-Length: 7\r\n", body)); });
  auto r = c.read_response();
  sender.join();
  ASSERT_TRUE(r) << c.error();
  EXPECT_EQ(r->status, 400);
}

// --- Slow and broken clients ---------------------------------------------------------

using Clients = ServerFixture;

// Slowloris-style but honest: a head trickled a byte at a time, within the
// read-header timeout, is served.
TEST_F(Clients, TrickledHeadIsServed) {
  Client c(port_);
  ASSERT_TRUE(c.trickle("GET /target HTTP/1.1\r\nHost: x\r\n\r\n", 2ms));
  auto r = c.read_response();
  ASSERT_TRUE(r) << c.error();
  EXPECT_EQ(r->body, kTargetBody);
}

// A head split at every CR and LF, and a body trickled.
TEST_F(Clients, TrickledBodyIsServed) {
  Client c(port_);
  ASSERT_TRUE(c.trickle(echo_chunked("5\r\nhello\r\n0\r\n\r\n"), 1ms));
  auto r = c.read_response();
  ASSERT_TRUE(r) << c.error();
  EXPECT_EQ(r->body, "hello");
}

// Go's ReadHeaderTimeout: a head that never completes is cut off after it
// (the server may say 408 first, RFC 9110 §15.5.9, or just close).
TEST_F(Clients, IncompleteHeadClosedAfterReadHeaderTimeout) {
  Client c(strict_port_);
  auto start = Clock::now();
  c.send("GET / HTTP/1.1\r\nHost: x\r\nX-Slow: ");
  std::string got = c.read_to_close(5s);
  EXPECT_TRUE(c.ended()) << "not closed";
  auto took = Clock::now() - start;
  EXPECT_TRUE(got.empty() || got.starts_with("HTTP/1.1 408 ")) << Client::printable(got);
  EXPECT_GE(took, 150ms);
  EXPECT_LT(took, 3s) << "not closed by the read-header timeout";
}

// The same for a trickle that never ends: the timeout covers the whole
// head, not each read.
TEST_F(Clients, EndlessTrickleClosedAfterReadHeaderTimeout) {
  Client c(strict_port_);
  auto start = Clock::now();
  std::string head = "GET / HTTP/1.1\r\nHost: x\r\n" + repeat("X: y\r\n", 200);
  c.trickle(head.substr(0, 60), 10ms);  // 600 ms, past the 200 ms timeout
  std::string got = c.read_to_close(5s);
  EXPECT_TRUE(c.ended()) << "not closed";
  EXPECT_TRUE(got.empty() || got.starts_with("HTTP/1.1 408 ")) << Client::printable(got);
  EXPECT_LT(Clock::now() - start, 3s);
}

// A connection that never sends a byte is closed too.
TEST_F(Clients, SilentConnectionClosed) {
  Client c(strict_port_);
  auto start = Clock::now();
  std::string got = c.read_to_close(5s);
  EXPECT_TRUE(c.ended()) << "not closed";
  EXPECT_TRUE(got.empty()) << Client::printable(got);
  EXPECT_LT(Clock::now() - start, 3s);
}

// Go's IdleTimeout: a kept-alive connection without a next request is
// closed after it (RFC 9112 §9.8 lets either side close an idle connection).
TEST_F(Clients, IdleKeepAliveClosedAfterIdleTimeout) {
  Client c(strict_port_);
  c.send(kGetTarget);
  auto r = c.read_response();
  ASSERT_TRUE(r) << c.error();
  auto served = Clock::now();
  EXPECT_TRUE(c.closes_within(3s));
  EXPECT_GE(Clock::now() - served, 200ms) << "closed before the idle timeout";
}

// ...but a next request inside the idle timeout is served.
TEST_F(Clients, KeepAliveRequestWithinIdleTimeoutServed) {
  Client c(strict_port_);
  for (int i = 0; i < 3; ++i) {
    c.send(kGetTarget);
    auto r = c.read_response();
    ASSERT_TRUE(r) << "request " << i << ": " << c.error();
    EXPECT_EQ(r->body, kTargetBody);
    std::this_thread::sleep_for(50ms);
  }
}

// A client that goes away in the middle of a body (FIN or reset) must not
// hurt the server or any other connection.
TEST_F(Clients, ClientClosesMidBody) {
  for (bool reset : {false, true}) {
    Client other(port_);
    other.send(kGetTarget);
    {
      Client c(port_);
      c.send(echo_cl("Content-Length: 100000\r\n", std::string(1000, 'a')));
      std::this_thread::sleep_for(20ms);
      if (reset) c.reset();
    }
    {
      Client c(port_);
      c.send(echo_chunked("100\r\n" + std::string(50, 'a')));
      std::this_thread::sleep_for(20ms);
      if (reset) c.reset();
    }
    auto r = other.read_response();
    ASSERT_TRUE(r) << other.error();
    EXPECT_EQ(r->body, kTargetBody);
    Client after(port_);
    after.send(echo_cl("Content-Length: 2\r\n", "ok"));
    auto a = after.read_response();
    ASSERT_TRUE(a) << after.error();
    EXPECT_EQ(a->body, "ok");
  }
}

// A client that sends half a body and then half-closes: the handler sees an
// error, not a short body taken for a whole one.
TEST_F(Clients, HalfCloseMidBodyIsNotACompleteBody) {
  Client c(port_);
  c.send(echo_cl("Content-Length: 10\r\n", "hello"));
  c.shutdown_write();
  std::string got = c.read_to_close(3s);
  EXPECT_TRUE(c.ended()) << "not closed";
  EXPECT_EQ(got.find("\r\n\r\nhello"), std::string::npos) << "a truncated body was echoed: " << Client::printable(got);
}

// A client that resets while a large response is being written.
TEST_F(Clients, ClientResetsDuringLargeResponse) {
  {
    Client c(port_);
    c.send("GET /big/20000000 HTTP/1.1\r\nHost: x\r\n\r\n");
    std::this_thread::sleep_for(20ms);
    c.reset();
  }
  Client after(port_);
  after.send(kGetTarget);
  auto r = after.read_response();
  ASSERT_TRUE(r) << after.error();
  EXPECT_EQ(r->body, kTargetBody);
}

// Many connections open at once, each doing a few keep-alive requests, in
// lockstep so that all are open together.
TEST_F(Clients, TwoHundredConnectionsAtOnce) {
  constexpr int kConns = 200;
  constexpr int kRounds = 3;
  std::vector<std::unique_ptr<Client>> clients;
  for (int i = 0; i < kConns; ++i) clients.push_back(std::make_unique<Client>(port_));
  for (int round = 0; round < kRounds; ++round) {
    for (int i = 0; i < kConns; ++i) {
      std::string req = round == 1 ? echo_cl("Content-Length: 4\r\n", fmt::format("{:04}", i))
                                   : fmt::format("GET /target?{} HTTP/1.1\r\nHost: x\r\n\r\n", i);
      ASSERT_TRUE(clients[i]->send(req)) << "connection " << i;
    }
    for (int i = 0; i < kConns; ++i) {
      auto r = clients[i]->read_response(false, 20s);
      ASSERT_TRUE(r) << "connection " << i << " round " << round << ": " << clients[i]->error();
      EXPECT_EQ(r->body, round == 1 ? fmt::format("{:04}", i) : fmt::format("GET|/target|{}|x", i));
    }
  }
}

}  // namespace
