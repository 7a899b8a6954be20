// AccessLog through its public API: the lines a Server writes with
// `Server::access_log` set (Apache's Combined Log Format, whose quoting
// nginx's "combined" follows, and one JSON object a line per RFC 8259),
// what is recorded for each response (status, body bytes, a request that
// could not be parsed), reopen() as logrotate's postrotate uses it, an
// unopenable path, and that a writer stuck on its file drops and counts
// lines instead of making the server wait.
#include "gofer/http/access_log.h"

#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <chrono>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "gofer/http/server.h"
#include "gofer/net.h"
#include "gofer/runtime.h"
#include "gofer/sync.h"
#include "roundtrip.h"

namespace http = gofer::http;
namespace net = gofer::net;
namespace fs = std::filesystem;
using namespace std::chrono_literals;

namespace {

// A directory of the test's own, removed with what is in it.
struct TempDir {
  TempDir() {
    char tmpl[] = "/tmp/gofer-access-log-XXXXXX";
    path = ::mkdtemp(tmpl);
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
  fs::path path;
};

std::string read_file(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> out;
  std::size_t start = 0;
  while (start < text.size()) {
    std::size_t nl = text.find('\n', start);
    if (nl == std::string::npos) {
      out.push_back(text.substr(start));  // an unterminated line: the test sees it
      break;
    }
    out.push_back(text.substr(start, nl - start));
    start = nl + 1;
  }
  return out;
}

std::shared_ptr<http::AccessLog> open_log(const fs::path& p, http::AccessLogOptions options = {}) {
  auto [log, err] = http::AccessLog::open(p.string(), options);
  EXPECT_FALSE(err) << err.message();
  return log;
}

// The last request of each roundtrip says Connection: close (or fails).
using gofer::http::test_support::roundtrip;

// Serves `handler` with `log` on 127.0.0.1:0, runs body(addr), shuts down,
// then flushes the log.
template <class F>
void with_logged_server(std::shared_ptr<http::AccessLog> log, http::Handler handler, F&& body) {
  gofer::run(
      [&] {
        auto [ln, err] = net::listen("tcp", "127.0.0.1:0");
        ASSERT_FALSE(err) << err.message();
        http::Server server;
        server.handler = std::move(handler);
        server.access_log = log;
        gofer::WaitGroup serving;
        serving.add(1);
        gofer::go([&] {
          EXPECT_EQ(server.serve(ln), http::errc::server_closed);
          serving.done();
        });
        body(ln.addr().to_string());
        EXPECT_FALSE(server.shutdown(net::Clock::now() + 5s));
        serving.wait();
      },
      {.procs = 2});
  log->flush();
}

// The site the server tests serve: /hello (13 bytes), /big (100,000 bytes,
// chunked), /missing (404 with its body), /boom (the handler throws: 500).
void site(http::ResponseWriter& w, http::Request& r) {
  if (r.path == "/hello") {
    w.write("Hello, World!");
  } else if (r.path == "/big") {
    std::string chunk(1000, 'x');
    for (int i = 0; i < 100; ++i) w.write(chunk);
  } else if (r.path == "/boom") {
    throw std::runtime_error("boom");
  } else {
    w.write_header(404);
    w.write("not here\n");
  }
}

// "[03/Dec/2026:13:55:36 +0000]" as Combined's %t writes `when`, in this
// process's time zone.
std::string clf_time(std::time_t when) {
  std::tm tm{};
  localtime_r(&when, &tm);
  char buf[64];
  std::strftime(buf, sizeof buf, "[%d/%b/%Y:%H:%M:%S %z]", &tm);
  return buf;
}

const auto kWhen =
    std::chrono::system_clock::from_time_t(1796306136) + 123ms;  // 2026-12-03 13:55:36.123 UTC

// --- the formats, as format_line writes them --------------------------------

TEST(AccessLogFormat, CombinedIsApachesLineWithDashesForEmptyFields) {
  http::AccessLogEntry e;
  e.remote_addr = "127.0.0.1:50012";
  e.method = "GET";
  e.target = "/hello?x=1";
  e.proto = "HTTP/1.1";
  e.status = 200;
  e.body_bytes = 13;
  e.user_agent = "curl/7.88.1";
  EXPECT_EQ(http::AccessLog::format_line(e, http::AccessLogFormat::combined, kWhen),
            "127.0.0.1 - - " + clf_time(1796306136) +
                " \"GET /hello?x=1 HTTP/1.1\" 200 13 \"-\" \"curl/7.88.1\"");
  // %h is the host without the port, an IPv6 one without its brackets; %b
  // is "-" for no body bytes (Apache's rule, which nginx's "combined"
  // does not follow but most log readers accept).
  e.remote_addr = "[::1]:8080";
  e.body_bytes = 0;
  e.status = 304;
  EXPECT_EQ(http::AccessLog::format_line(e, http::AccessLogFormat::combined, kWhen),
            "::1 - - " + clf_time(1796306136) +
                " \"GET /hello?x=1 HTTP/1.1\" 304 - \"-\" \"curl/7.88.1\"");
}

TEST(AccessLogFormat, CombinedEscapesQuotesBackslashesAndBytesOutsidePrintableAscii) {
  // A client controls the request line, Referer and User-Agent: a '"' must
  // not end the field early and a control byte (a newline above all) must
  // not start a forged line. nginx's escaping: \" and \\, others \xHH.
  http::AccessLogEntry e;
  e.remote_addr = "10.0.0.1:1";
  e.method = "GET";
  e.target = "/a\"b\\c\nd\x01\x7f\xff";
  e.proto = "HTTP/1.1";
  e.referer = "http://x/\" 200 0 \"forged";
  e.user_agent = "ua\r\n10.0.0.2 - - [x] \"GET / HTTP/1.1\"\t\xc3\xa9";
  e.status = 200;
  std::string line = http::AccessLog::format_line(e, http::AccessLogFormat::combined, kWhen);
  EXPECT_EQ(line, "10.0.0.1 - - " + clf_time(1796306136) +
                      " \"GET /a\\\"b\\\\c\\x0ad\\x01\\x7f\\xff HTTP/1.1\" 200 -"
                      " \"http://x/\\\" 200 0 \\\"forged\""
                      " \"ua\\x0d\\x0a10.0.0.2 - - [x] \\\"GET / HTTP/1.1\\\"\\x09\\xc3\\xa9\"");
  for (char c : line) EXPECT_TRUE(c >= 0x20 && c <= 0x7e) << int(c);
}

TEST(AccessLogFormat, CombinedWithoutARequestLineIsADash) {
  // A request that could not be parsed: only the peer and the status.
  http::AccessLogEntry e;
  e.remote_addr = "127.0.0.1:9";
  e.status = 400;
  EXPECT_EQ(http::AccessLog::format_line(e, http::AccessLogFormat::combined, kWhen),
            "127.0.0.1 - - " + clf_time(1796306136) + " \"-\" 400 - \"-\" \"-\"");
}

TEST(AccessLogFormat, JsonHasEveryFieldAndUtcMilliseconds) {
  http::AccessLogEntry e;
  e.remote_addr = "127.0.0.1:50012";
  e.method = "POST";
  e.target = "/echo";
  e.proto = "HTTP/1.1";
  e.host = "example.com";
  e.referer = "http://example.com/form";
  e.user_agent = "wrk";
  e.status = 201;
  e.body_bytes = 4096;
  e.duration = 41'999ns;
  EXPECT_EQ(http::AccessLog::format_line(e, http::AccessLogFormat::json, kWhen),
            R"({"time":"2026-12-03T13:55:36.123Z","remote_addr":"127.0.0.1:50012",)"
            R"("method":"POST","uri":"/echo","proto":"HTTP/1.1","host":"example.com",)"
            R"("status":201,"body_bytes":4096,"duration_us":41,)"
            R"("referer":"http://example.com/form","user_agent":"wrk"})");
}

TEST(AccessLogFormat, JsonIsValidWhateverBytesTheClientSent) {
  // Every byte 0–255 in the target, Referer and User-Agent: the line parses
  // as JSON (RFC 8259 §7: control characters escaped, quote and backslash
  // too) and is ASCII, so valid UTF-8 even for invalid input; each byte
  // comes back as the code point of the same value (\u00XX).
  std::string all;
  for (int c = 0; c < 256; ++c) all.push_back(static_cast<char>(c));
  http::AccessLogEntry e;
  e.remote_addr = "127.0.0.1:1";
  e.method = "GET";
  e.target = all;
  e.proto = "HTTP/1.1";
  e.referer = all;
  e.user_agent = all;
  e.status = 200;
  std::string line = http::AccessLog::format_line(e, http::AccessLogFormat::json, kWhen);
  for (char c : line) ASSERT_TRUE(c >= 0x20 && c <= 0x7e) << int(c);
  auto j = nlohmann::json::parse(line);
  std::string expected_utf8;  // byte b as the UTF-8 encoding of U+00bb
  for (int c = 0; c < 256; ++c) {
    if (c < 0x80) {
      expected_utf8.push_back(static_cast<char>(c));
    } else {
      expected_utf8.push_back(static_cast<char>(0xc0 | (c >> 6)));
      expected_utf8.push_back(static_cast<char>(0x80 | (c & 0x3f)));
    }
  }
  EXPECT_EQ(j["uri"], expected_utf8);
  EXPECT_EQ(j["referer"], expected_utf8);
  EXPECT_EQ(j["user_agent"], expected_utf8);
  EXPECT_EQ(j["status"], 200);
}

// --- through a Server ---------------------------------------------------------

TEST(AccessLogServer, CombinedLinesRecordStatusBytesRefererAndUserAgent) {
  TempDir dir;
  auto log = open_log(dir.path / "access.log");
  ASSERT_TRUE(log);
  auto before = std::chrono::system_clock::now();
  with_logged_server(log, site, [&](const std::string& addr) {
    std::string out =
        roundtrip(addr,
                  "GET /hello?q=%22 HTTP/1.1\r\nHost: a\r\nReferer: http://r/\"x\"\r\n"
                  "User-Agent: agent \"007\" \\o/ \xe9t\xe9\r\n\r\n"
                  "HEAD /hello HTTP/1.1\r\nHost: a\r\n\r\n"
                  "GET /big HTTP/1.1\r\nHost: a\r\n\r\n"
                  "GET /missing HTTP/1.1\r\nHost: a\r\n\r\n"
                  "GET /boom HTTP/1.0\r\nHost: a\r\n\r\n");
    EXPECT_NE(out.find("500 Internal Server Error"), std::string::npos) << out;
  });
  auto lines = lines_of(read_file(dir.path / "access.log"));
  ASSERT_EQ(lines.size(), 5u) << read_file(dir.path / "access.log");
  EXPECT_EQ(log->lines(), 5u);
  EXPECT_EQ(log->dropped(), 0u);
  // Each line's time is when its response was sent: between `before` and now.
  std::string t = lines[0].substr(lines[0].find('['), 28);
  std::string now_t = clf_time(std::chrono::system_clock::to_time_t(before));
  std::string later_t = clf_time(std::time(nullptr));
  EXPECT_TRUE(t == now_t || t == later_t || (now_t < t && t < later_t)) << t;
  auto rest = [](const std::string& l) { return l.substr(l.find(']') + 2); };
  EXPECT_TRUE(lines[0].starts_with("127.0.0.1 - - [")) << lines[0];
  // The header's obs-text bytes (RFC 9110 §5.5 lets a field value carry
  // them) as \xHH, its quotes and backslash escaped.
  EXPECT_EQ(rest(lines[0]),
            "\"GET /hello?q=%22 HTTP/1.1\" 200 13 \"http://r/\\\"x\\\"\""
            " \"agent \\\"007\\\" \\\\o/ \\xe9t\\xe9\"");
  // HEAD: the status of a GET, no body bytes sent.
  EXPECT_EQ(rest(lines[1]), "\"HEAD /hello HTTP/1.1\" 200 - \"-\" \"-\"");
  // A chunked body counts its bytes, not the chunk framing.
  EXPECT_EQ(rest(lines[2]), "\"GET /big HTTP/1.1\" 200 100000 \"-\" \"-\"");
  EXPECT_EQ(rest(lines[3]), "\"GET /missing HTTP/1.1\" 404 9 \"-\" \"-\"");
  // A handler that threw: the 500 the server answered in its place.
  EXPECT_TRUE(rest(lines[4]).starts_with("\"GET /boom HTTP/1.0\" 500 ")) << lines[4];
}

TEST(AccessLogServer, RequestThatCannotBeParsedIsLoggedWithItsStatus) {
  // RFC 9112 §3: a request line with no version gets a 400; the log has
  // the peer and the status, and no request line it could not read.
  TempDir dir;
  auto log = open_log(dir.path / "access.log");
  ASSERT_TRUE(log);
  with_logged_server(log, site, [&](const std::string& addr) {
    std::string out = roundtrip(addr, "GET /hello\r\nHost: a\r\n\r\n");
    EXPECT_TRUE(out.starts_with("HTTP/1.1 400")) << out;
  });
  auto lines = lines_of(read_file(dir.path / "access.log"));
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_TRUE(lines[0].starts_with("127.0.0.1 - - [")) << lines[0];
  EXPECT_TRUE(lines[0].ends_with("] \"-\" 400 - \"-\" \"-\"")) << lines[0];
}

TEST(AccessLogServer, JsonLinesParseAndCarryTheRequest) {
  TempDir dir;
  auto log = open_log(dir.path / "access.log", {.format = http::AccessLogFormat::json});
  ASSERT_TRUE(log);
  EXPECT_EQ(log->format(), http::AccessLogFormat::json);
  std::string client;
  with_logged_server(log, site, [&](const std::string& addr) {
    auto [c, err] = net::dial("tcp", addr, 2s);
    ASSERT_FALSE(err);
    client = c.local_addr().to_string();
    ASSERT_FALSE(c.set_deadline(net::Clock::now() + 5s));
    ASSERT_FALSE(c.write("GET /hello HTTP/1.1\r\nHost: example.com\r\n"
                         "User-Agent: a\"b\\c\x80\r\nConnection: close\r\n\r\n")
                     .err);
    char buf[4096];
    while (!c.read(buf).err) {
    }
  });
  auto lines = lines_of(read_file(dir.path / "access.log"));
  ASSERT_EQ(lines.size(), 1u);
  auto j = nlohmann::json::parse(lines[0]);
  EXPECT_EQ(j["remote_addr"], client);  // Go's RemoteAddr: host and port
  EXPECT_EQ(j["method"], "GET");
  EXPECT_EQ(j["uri"], "/hello");
  EXPECT_EQ(j["proto"], "HTTP/1.1");
  EXPECT_EQ(j["host"], "example.com");
  EXPECT_EQ(j["status"], 200);
  EXPECT_EQ(j["body_bytes"], 13);
  EXPECT_EQ(j["referer"], "");
  EXPECT_EQ(j["user_agent"], "a\"b\\c\xc2\x80");  // 0x80 came back as U+0080
  EXPECT_TRUE(j["duration_us"].is_number_unsigned());
  EXPECT_EQ(j["time"].get<std::string>().size(), 24u);  // 2026-12-03T13:55:36.123Z
}

// --- the file ---------------------------------------------------------------

TEST(AccessLogFile, ReopenWritesLaterLinesToTheNewFileAsLogrotateExpects) {
  // logrotate's postrotate (`kill -USR1`, nginx's convention): the old file
  // was renamed; lines recorded before reopen() go to it, later ones to a
  // new file at the path, appended, none lost.
  TempDir dir;
  fs::path path = dir.path / "access.log";
  auto log = open_log(path);
  ASSERT_TRUE(log);
  EXPECT_EQ(log->path(), path.string());
  log->append_line("one\n");
  log->append_line("two\n");
  fs::rename(path, dir.path / "access.log.1");
  ASSERT_FALSE(log->reopen());
  log->append_line("three\n");
  log->flush();
  EXPECT_EQ(read_file(dir.path / "access.log.1"), "one\ntwo\n");
  EXPECT_EQ(read_file(path), "three\n");
  // The new file is created 0644 (before the umask), like nginx's.
  EXPECT_EQ(fs::status(path).permissions() & fs::perms::others_write, fs::perms::none);

  // Reopening without a rotation appends to the same file.
  ASSERT_FALSE(log->reopen());
  log->append_line("four\n");
  log->flush();
  EXPECT_EQ(read_file(path), "three\nfour\n");
  EXPECT_EQ(log->lines(), 4u);
}

TEST(AccessLogFile, ReopenFromAGoroutineDoesNotStopTheOthers) {
  // reopen() runs its open(2) and its wait for the writer inside
  // gofer::blocking(): with one P, a goroutine keeps running meanwhile.
  TempDir dir;
  fs::path path = dir.path / "access.log";
  auto log = open_log(path);
  ASSERT_TRUE(log);
  gofer::run(
      [&] {
        std::atomic<bool> done{false};
        std::atomic<int> ticks{0};
        gofer::WaitGroup wg;
        wg.add(1);
        gofer::go([&] {
          while (!done.load()) {
            ticks.fetch_add(1);
            gofer::yield();
          }
          wg.done();
        });
        for (int i = 0; i < 20; ++i) {
          log->append_line("x\n");
          EXPECT_FALSE(log->reopen());
        }
        done.store(true);
        wg.wait();
        EXPECT_GT(ticks.load(), 0);
      },
      {.procs = 1});
  log->flush();
  std::string expected;
  for (int i = 0; i < 20; ++i) expected += "x\n";
  EXPECT_EQ(read_file(path), expected);
}

TEST(AccessLogFile, ReopenThatFailsKeepsTheOldFile) {
  TempDir dir;
  fs::create_directory(dir.path / "logs");
  fs::path path = dir.path / "logs" / "access.log";
  auto log = open_log(path);
  ASSERT_TRUE(log);
  log->append_line("before\n");
  fs::rename(dir.path / "logs", dir.path / "gone");  // the directory is not there any more
  gofer::Error err = log->reopen();
  EXPECT_EQ(err, std::errc::no_such_file_or_directory);
  log->append_line("after\n");
  log->flush();
  EXPECT_EQ(read_file(dir.path / "gone" / "access.log"), "before\nafter\n");
}

TEST(AccessLogFile, PathThatCannotBeOpenedIsOneLineError) {
  auto [log, err] = http::AccessLog::open("/nonexistent-dir/access.log");
  EXPECT_EQ(log, nullptr);
  EXPECT_EQ(err, std::errc::no_such_file_or_directory);
  EXPECT_EQ(err.message(), "No such file or directory");

  TempDir dir;  // a directory is not a file to append to
  auto [dir_log, dir_err] = http::AccessLog::open(dir.path.string());
  EXPECT_EQ(dir_log, nullptr);
  EXPECT_EQ(dir_err, std::errc::is_a_directory);
  EXPECT_EQ(dir_err.message().find('\n'), std::string::npos);
}

TEST(AccessLogFile, StuckWriterDropsAndCountsLinesInsteadOfWaiting) {
  // The file is a FIFO nobody reads yet: the writer thread blocks in
  // write(2) once the pipe is full, as on a disk that stopped. record()
  // must not wait for it: lines beyond the buffer are dropped and counted,
  // and every line accepted reaches the file once it moves again.
  TempDir dir;
  fs::path fifo = dir.path / "fifo";
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  int reader = ::open(fifo.c_str(), O_RDONLY | O_NONBLOCK);  // so that the log's open succeeds
  ASSERT_GE(reader, 0);
  auto log = open_log(fifo, {.buffer_bytes = 64 * 1024, .flush_interval = 1ms});
  ASSERT_TRUE(log);
  http::AccessLogEntry e;
  e.remote_addr = "127.0.0.1:1";
  e.method = "GET";
  std::string target(201, 'p');
  target[0] = '/';
  e.target = target;
  e.proto = "HTTP/1.1";
  e.status = 200;
  constexpr int kLines = 20000;  // ~5 MB: far beyond the pipe and the buffer
  auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < kLines; ++i) log->record(e);
  auto took = std::chrono::steady_clock::now() - start;
  EXPECT_GT(log->dropped(), 0u);
  EXPECT_EQ(log->lines() + log->dropped(), static_cast<std::uint64_t>(kLines));
  // Not a timing assertion on the machine's speed: a record() that waited
  // for the writer would never have returned (nobody reads the FIFO).
  EXPECT_LT(took, 60s);

  // Now drain it: everything accepted arrives, whole lines only.
  ASSERT_EQ(::fcntl(reader, F_SETFL, 0), 0);  // blocking reads
  std::string got;
  std::thread drain([&] {
    char buf[65536];
    for (;;) {
      ssize_t n = ::read(reader, buf, sizeof buf);
      if (n <= 0) break;
      got.append(buf, static_cast<std::size_t>(n));
    }
  });
  std::uint64_t accepted = log->lines();
  log.reset();  // writes what is left, closes the FIFO: the reader sees EOF
  drain.join();
  ::close(reader);
  auto lines = lines_of(got);
  EXPECT_EQ(lines.size(), accepted);
  for (const auto& l : lines) ASSERT_TRUE(l.ends_with(" HTTP/1.1\" 200 - \"-\" \"-\"")) << l;
}

}  // namespace
