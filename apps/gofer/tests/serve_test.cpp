// `gofer serve` (and `gofer proxy`, at the end) as production runs it, each test a real process
// started here on 127.0.0.1: /healthz and /readyz; the drain on SIGTERM (readyz 503 at once,
// accepting for --drain-delay, in-flight requests finished, the last response of a connection
// saying Connection: close); the access log (Combined and JSON, reopened on SIGUSR1); listening
// sockets passed in (systemd-socket-activate, LISTEN_FDS) and --reuseport; the in-place upgrade on
// SIGUSR2 under traffic; /echo streaming a body larger than any buffer. Bad input — malformed
// LISTEN_FDS, an fd that is not a listening socket, an access-log path that cannot be opened, a
// second SIGUSR2 — gets one line naming the problem, and a running server keeps serving.
//
// The test process is a child subreaper (prctl): a process started by an
// upgrade outlives its parent and comes to us, so we can stop it by PID.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "child_process.h"

namespace {

using namespace gofer::test;
namespace fs = std::filesystem;

#if defined(GOFER_ASAN) || defined(GOFER_TSAN)
constexpr bool kSanitized = true;
#else
constexpr bool kSanitized = false;
#endif

// --- a gofer serve process ----------------------------------------------

// A process whose stdout and stderr a thread of ours reads as they come
// (a process started by an upgrade writes to the same pipes). Stopped with
// SIGKILL if still running at the end, with every process it started.
class Process {
 public:
  explicit Process(std::vector<std::string> args, std::vector<std::string> env = {}) {
    ::prctl(PR_SET_CHILD_SUBREAPER, 1);
    std::vector<char*> envp;
    if (!env.empty()) {
      for (char** e = environ; *e != nullptr; ++e) env_.emplace_back(*e);
      for (auto& e : env) env_.push_back(e);
      for (auto& e : env_) envp.push_back(e.data());
      envp.push_back(nullptr);
    }
    child_ = spawn(args, env.empty() ? nullptr : envp.data());
    pids_.insert(child_.pid);
    reader_ = std::thread([this] { read_output(); });
  }
  ~Process() {
    for (pid_t p : all_pids()) ::kill(p, SIGKILL);
    for (pid_t p : all_pids()) ::waitpid(p, nullptr, 0);
    stop_reading_ = true;
    reader_.join();
    ::close(child_.out);
    ::close(child_.err);
  }

  pid_t pid() const { return child_.pid; }
  void signal(int signo) { ::kill(child_.pid, signo); }

  // Waits (up to `timeout`) until the output matches `re`; the match, or
  // nullopt (the test then prints output()).
  std::optional<std::smatch> wait_output(const std::string& re, Clock::duration timeout = 20s) {
    std::regex rx(re);
    std::unique_lock lock(mu_);
    std::optional<std::smatch> found;
    cv_.wait_for(lock, timeout, [&] {
      std::smatch m;
      if (!std::regex_search(output_, m, rx)) return false;
      found = m;
      return true;
    });
    if (found) {
      // Copy out: the smatch points into output_, which the reader extends.
      std::smatch copy;
      match_text_ = (*found)[0].str();
      std::regex_search(match_text_, copy, rx);
      return copy;
    }
    return std::nullopt;
  }
  std::string output() {
    std::lock_guard lock(mu_);
    return output_;
  }
  // The port of its first "serving http://127.0.0.1:PORT" line (0: none).
  int port() {
    auto m = wait_output(R"(serving http://127\.0\.0\.1:(\d+))");
    return m ? std::stoi((*m)[1]) : 0;
  }
  // Waits for the process to exit; its exit code, or -1 at the timeout.
  int wait_exit(Clock::duration timeout = 20s) {
    for (auto until = Clock::now() + timeout; Clock::now() < until;
         std::this_thread::sleep_for(10ms)) {
      int status = 0;
      if (::waitpid(child_.pid, &status, WNOHANG) == child_.pid) {
        std::lock_guard lock(mu_);
        pids_.erase(child_.pid);
        return exit_code_of(status);
      }
    }
    return -1;
  }
  // A process it started (an upgrade's), to be stopped with it.
  void adopt(pid_t p) {
    std::lock_guard lock(mu_);
    pids_.insert(p);
  }

 private:
  std::set<pid_t> all_pids() {
    std::lock_guard lock(mu_);
    return pids_;
  }
  void read_output() {
    bool out_open = true, err_open = true;
    while ((out_open || err_open) && !stop_reading_) {
      pollfd p[2] = {{out_open ? child_.out : -1, POLLIN, 0},
                     {err_open ? child_.err : -1, POLLIN, 0}};
      if (::poll(p, 2, 100) <= 0) continue;
      for (int i = 0; i < 2; ++i) {
        if (p[i].revents == 0) continue;
        char buf[4096];
        ssize_t n = ::read(p[i].fd, buf, sizeof buf);
        if (n <= 0) {
          (i == 0 ? out_open : err_open) = false;
          continue;
        }
        std::lock_guard lock(mu_);
        output_.append(buf, static_cast<std::size_t>(n));
        cv_.notify_all();
      }
    }
  }

  std::vector<std::string> env_;
  Child child_;
  std::thread reader_;
  std::atomic<bool> stop_reading_{false};
  std::mutex mu_;
  std::condition_variable cv_;
  std::string output_;      // stdout and stderr, as they came
  std::string match_text_;  // the last match, which wait_output's result points into
  std::set<pid_t> pids_;
};

std::vector<std::string> serve_args(std::vector<std::string> extra, std::string bin = GOFER_BIN) {
  std::vector<std::string> args = {bin, "serve", "--procs", "2", "--grace", "5"};
  // A port the kernel picks, unless the test names the address.
  if (std::find(extra.begin(), extra.end(), "--addr") == extra.end()) {
    args.insert(args.end(), {"--addr", "127.0.0.1:0"});
  }
  args.insert(args.end(), extra.begin(), extra.end());
  return args;
}

// --- a small HTTP/1.1 client ----------------------------------------------

struct Response {
  bool ok = false;  // a whole response arrived
  int status = 0;
  std::string head, body;
  std::string error;  // what went wrong otherwise
  bool closes() const { return head.find("\r\nConnection: close\r\n") != std::string::npos; }
};

Response failed(std::string why) {
  Response r;
  r.error = std::move(why);
  return r;
}

// One connection, requests written whole, responses read by Content-Length.
class Client {
 public:
  explicit Client(int port) : fd_(connect_loopback(port)) {}
  ~Client() {
    if (fd_ >= 0) ::close(fd_);
  }
  bool connected() const { return fd_ >= 0; }
  bool send(std::string_view bytes) {
    return ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL) ==
           static_cast<ssize_t>(bytes.size());
  }
  Response get(const std::string& path, const std::string& headers = "") {
    if (!send("GET " + path + " HTTP/1.1\r\nHost: test\r\n" + headers + "\r\n"))
      return failed("send");
    return read_response();
  }
  Response read_response(Clock::duration timeout = 20s) {
    Response r;
    auto deadline = Clock::now() + timeout;
    read_until(fd_, buf_, deadline,
               [](const std::string& s) { return s.find("\r\n\r\n") != std::string::npos; });
    std::size_t end = buf_.find("\r\n\r\n");
    if (end == std::string::npos) {
      r.error = buf_.empty() ? "no response (closed or reset)" : "incomplete head: " + buf_;
      return r;
    }
    r.head = buf_.substr(0, end + 4);
    buf_.erase(0, end + 4);
    std::smatch m;
    if (std::regex_search(r.head, m, std::regex(R"(^HTTP/1\.1 (\d{3}) )")))
      r.status = std::stoi(m[1]);
    std::size_t length = 0;
    if (std::regex_search(r.head, m, std::regex(R"(\r\nContent-Length: (\d+)\r\n)")))
      length = std::stoul(m[1]);
    read_until(fd_, buf_, deadline, [&](const std::string& s) { return s.size() >= length; });
    if (buf_.size() < length) {
      r.error = "short body";
      return r;
    }
    r.body = buf_.substr(0, length);
    buf_.erase(0, length);
    r.ok = r.status != 0;
    return r;
  }
  // True once the server closed the connection (EOF), within the timeout.
  bool closed_by_peer(Clock::duration timeout = 10s) {
    std::string rest;
    read_until(fd_, rest, Clock::now() + timeout, [](const std::string&) { return false; });
    pollfd p{fd_, POLLIN, 0};
    char c;
    return ::poll(&p, 1, 0) == 1 && ::recv(fd_, &c, 1, MSG_DONTWAIT) == 0;
  }

 private:
  int fd_;
  std::string buf_;
};

Response get(int port, const std::string& path, const std::string& headers = "") {
  Client c(port);
  if (!c.connected()) return failed("connect refused");
  return c.get(path, headers);
}

// Polls until connecting to `port` is refused (the listener closed).
bool refused_within(int port, Clock::duration timeout) {
  for (auto until = Clock::now() + timeout; Clock::now() < until;
       std::this_thread::sleep_for(5ms)) {
    int fd = connect_loopback(port);
    if (fd < 0) return true;
    ::close(fd);
  }
  return false;
}

std::string read_file(const fs::path& p) {
  std::ifstream in(p);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Waits until `p` holds at least `lines` lines (the log's writer flushes
// within its 100 ms interval).
std::string wait_lines(const fs::path& p, std::size_t lines, Clock::duration timeout = 10s) {
  std::string text;
  for (auto until = Clock::now() + timeout; Clock::now() < until;
       std::this_thread::sleep_for(20ms)) {
    text = read_file(p);
    if (static_cast<std::size_t>(std::count(text.begin(), text.end(), '\n')) >= lines) break;
  }
  return text;
}

struct TempDir {
  fs::path path;
  TempDir() {
    char tmpl[] = "/tmp/gofer-serve-test.XXXXXX";
    path = ::mkdtemp(tmpl);
  }
  ~TempDir() { fs::remove_all(path); }
};

// A free port on 127.0.0.1 (bound and released; nothing else on this
// machine picks ports in the ephemeral range we are given).
int free_port() {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof sa;
  ::bind(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa);
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&sa), &len);
  ::close(fd);
  return ntohs(sa.sin_port);
}

int count_lines(const std::string& s) {
  return static_cast<int>(std::count(s.begin(), s.end(), '\n'));
}

// --- health ----------------------------------------------------------------

// Kubernetes' probes and haproxy's check: 2xx is success.
TEST(Serve, HealthAndReadinessAreOnByDefault) {
  Process p(serve_args({}));
  int port = p.port();
  ASSERT_NE(port, 0) << p.output();
  Response alive = get(port, "/healthz");
  EXPECT_EQ(alive.status, 200) << alive.error;
  EXPECT_EQ(alive.body, "ok\n");
  Response ready = get(port, "/readyz");
  EXPECT_EQ(ready.status, 200);
  EXPECT_EQ(ready.body, "ready\n");

  Process off(serve_args({"--no-health"}));
  int off_port = off.port();
  ASSERT_NE(off_port, 0) << off.output();
  EXPECT_EQ(get(off_port, "/readyz").status, 404);
}

// --- drain -----------------------------------------------------------------

// What an orchestrator expects on SIGTERM: readiness fails at once while the
// listener still accepts for --drain-delay (new connections are served);
// then the listener closes, and the process exits 0 once its connections
// are done.
TEST(Serve, SigtermTurnsReadyzTo503AndKeepsAcceptingForTheDrainDelay) {
  Process p(serve_args({"--drain-delay", "2"}));
  int port = p.port();
  ASSERT_NE(port, 0) << p.output();
  Client before(port);
  ASSERT_EQ(before.get("/hello").status, 200);

  p.signal(SIGTERM);
  ASSERT_TRUE(p.wait_output("SIGTERM: draining: /readyz answers 503; accepting for 2 s more"))
      << p.output();
  Response readyz = get(port, "/readyz");  // a new connection: still accepted
  EXPECT_EQ(readyz.status, 503) << readyz.error;
  EXPECT_EQ(readyz.body, "draining\n");
  EXPECT_EQ(get(port, "/healthz").status, 200) << "alive while draining";
  EXPECT_EQ(get(port, "/hello").status, 200);
  EXPECT_EQ(before.get("/hello").status, 200) << "a kept-alive connection is served too";

  EXPECT_TRUE(refused_within(port, 20s)) << "the listener closes after the delay";
  EXPECT_EQ(p.wait_exit(), 0) << p.output();
  EXPECT_NE(p.output().find("drained: listeners closed"), std::string::npos) << p.output();
}

// Go's Shutdown contract, plus what a load balancer needs: a request in
// flight when the listener closes is answered in full (within --grace),
// with Connection: close, and the process exits after it.
TEST(Serve, RequestInFlightFinishesAfterTheListenerClosed) {
  Process p(serve_args({}));
  int port = p.port();
  ASSERT_NE(port, 0) << p.output();
  Client c(port);
  ASSERT_TRUE(c.send("POST /echo HTTP/1.1\r\nHost: test\r\nContent-Length: 10\r\n\r\nhello"));
  std::this_thread::sleep_for(50ms);  // the handler is reading the body now
  p.signal(SIGTERM);
  ASSERT_TRUE(refused_within(port, 10s)) << p.output();
  ASSERT_TRUE(c.send("world"));
  Response r = c.read_response();
  EXPECT_EQ(r.status, 200) << r.error;
  EXPECT_EQ(r.body, "helloworld");
  EXPECT_TRUE(r.closes()) << r.head;
  EXPECT_EQ(p.wait_exit(), 0) << p.output();
}

// RFC 9112 §9.6 lets a server close an idle keep-alive connection, but a
// client whose next request crossed the close on the wire gets a reset. A
// draining gofer gives an idle connection a moment (Server::
// shutdown_idle_wait) to bring one more request, answers it with
// Connection: close, and only then closes.
TEST(Serve, IdleConnectionMayBringOneMoreRequestDuringTheDrain) {
  Process p(serve_args({}));
  int port = p.port();
  ASSERT_NE(port, 0) << p.output();
  Client c(port);
  Response first = c.get("/hello");
  ASSERT_EQ(first.status, 200);
  EXPECT_FALSE(first.closes());
  p.signal(SIGTERM);
  ASSERT_TRUE(refused_within(port, 10s)) << p.output();  // the shutdown has begun
  Response last = c.get("/hello");
  EXPECT_EQ(last.status, 200) << last.error;
  EXPECT_TRUE(last.closes()) << last.head;
  EXPECT_TRUE(c.closed_by_peer());
  EXPECT_EQ(p.wait_exit(), 0) << p.output();
}

// --- access log -------------------------------------------------------------

TEST(Serve, AccessLogCombinedFormatAndReopenOnSigusr1) {
  TempDir dir;
  fs::path log = dir.path / "access.log";
  Process p(serve_args({"--access-log", log.string()}));
  int port = p.port();
  ASSERT_NE(port, 0) << p.output();
  ASSERT_EQ(
      get(port, "/hello", "Referer: http://example.com/a\"b\r\nUser-Agent: test/1.0\r\n").status,
      200);
  std::string text = wait_lines(log, 1);
  // Apache's Combined Log Format, a '"' in a field escaped as nginx does.
  EXPECT_TRUE(std::regex_match(
      text,
      std::regex(R"(127\.0\.0\.1 - - \[\d\d/[A-Z][a-z]{2}/\d{4}:\d\d:\d\d:\d\d [+-]\d{4}\] )"
                 R"("GET /hello HTTP/1\.1" 200 13 "http://example\.com/a\\"b" "test/1\.0"\n)")))
      << text;

  // logrotate: move the file, then SIGUSR1.
  fs::rename(log, dir.path / "access.log.1");
  ASSERT_EQ(get(port, "/moved-but-not-reopened").status, 404);
  // A request's line is recorded after its response is written, so the
  // client may see the 404 before the line exists. The reopen sends what was
  // recorded before it to the old file; wait until this line is recorded.
  ASSERT_EQ(count_lines(wait_lines(dir.path / "access.log.1", 2)), 2);
  p.signal(SIGUSR1);
  ASSERT_TRUE(p.wait_output("SIGUSR1: reopened access log")) << p.output();
  ASSERT_EQ(get(port, "/after-reopen").status, 404);
  std::string rotated = wait_lines(dir.path / "access.log.1", 2);
  std::string fresh = wait_lines(log, 1);
  EXPECT_EQ(count_lines(rotated), 2) << rotated;
  EXPECT_NE(rotated.find("\"GET /moved-but-not-reopened HTTP/1.1\" 404"), std::string::npos)
      << rotated;
  EXPECT_EQ(count_lines(fresh), 1) << fresh;
  EXPECT_NE(fresh.find("\"GET /after-reopen HTTP/1.1\" 404"), std::string::npos) << fresh;
}

TEST(Serve, AccessLogJsonOnStandardOutput) {
  Process p(serve_args({"--access-log", "-", "--access-log-format", "json"}));
  int port = p.port();
  ASSERT_NE(port, 0) << p.output();
  // A byte outside ASCII and a control character in the target: the line
  // must still be valid JSON.
  ASSERT_EQ(get(port, "/hello?q=%22x", "User-Agent: caf\xc3\xa9\r\n").status, 200);
  auto m = p.wait_output(R"(\{"time":[^\n]*\}\n)");
  ASSERT_TRUE(m) << p.output();
  auto j = nlohmann::json::parse((*m)[0].str());
  EXPECT_EQ(j["method"], "GET");
  EXPECT_EQ(j["uri"], "/hello?q=%22x");
  EXPECT_EQ(j["proto"], "HTTP/1.1");
  EXPECT_EQ(j["status"], 200);
  EXPECT_EQ(j["body_bytes"], 13);
  EXPECT_EQ(j["host"], "test");
  EXPECT_EQ(j["user_agent"], "caf\u00c3\u00a9");  // each byte as \u00XX
  EXPECT_TRUE(std::string(j["remote_addr"]).starts_with("127.0.0.1:"));
  EXPECT_TRUE(j["duration_us"].is_number_unsigned());
  EXPECT_TRUE(std::regex_match(std::string(j["time"]),
                               std::regex(R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z)")));
}

TEST(Serve, AccessLogThatCannotBeOpenedIsOneLineAtStart) {
  Ran r = run(serve_args({"--access-log", "/nonexistent-dir/access.log"}));
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.err, "gofer: --access-log /nonexistent-dir/access.log: No such file or directory\n");
}

TEST(Serve, AccessLogReopenThatFailsKeepsServingAndLoggingToTheOldFile) {
  TempDir dir;
  fs::create_directory(dir.path / "logs");
  fs::path log = dir.path / "logs" / "access.log";
  Process p(serve_args({"--access-log", log.string()}));
  int port = p.port();
  ASSERT_NE(port, 0) << p.output();
  fs::rename(dir.path / "logs", dir.path / "gone");  // the directory itself moved away
  p.signal(SIGUSR1);
  auto m = p.wait_output(R"(SIGUSR1: reopen access log [^\n]*\n)");
  ASSERT_TRUE(m) << p.output();
  EXPECT_EQ((*m)[0].str(),
            "SIGUSR1: reopen access log " + log.string() +
                ": No such file or directory; still writing to the file open before\n");
  EXPECT_EQ(get(port, "/hello").status, 200);
  std::string old = wait_lines(dir.path / "gone" / "access.log", 1);
  EXPECT_NE(old.find("\"GET /hello HTTP/1.1\" 200 13"), std::string::npos) << old;
}

TEST(Serve, AccessLogThatCannotKeepUpDropsLinesAndSaysHowManyAtExit) {
  // The log is a FIFO the test does not read yet, as a disk that stopped:
  // requests are still answered (no goroutine waits for the log), the lines
  // beyond the log's buffer are dropped, and the count is one line at exit.
  TempDir dir;
  fs::path fifo = dir.path / "fifo";
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  int reader = ::open(fifo.c_str(), O_RDONLY | O_NONBLOCK);  // lets gofer's open(2) succeed
  ASSERT_GE(reader, 0);
  Process p(serve_args({"--access-log", fifo.string()}));
  int port = p.port();
  ASSERT_NE(port, 0) << p.output();
  // ~4 KiB lines: 600 of them are twice the pipe and the log's 1 MiB buffer.
  Client c(port);
  std::string path = "/hello?" + std::string(4000, 'q');
  for (int i = 0; i < 600; ++i) ASSERT_EQ(c.get(path).status, 200) << i;
  p.signal(SIGTERM);
  auto m = p.wait_output(R"(access log [^:]+: (\d+) lines dropped, 0 failed writes\n)");
  ASSERT_TRUE(m) << p.output();
  EXPECT_GT(std::stoi((*m)[1]), 0);
  // Let the writer finish what it kept: gofer then exits.
  std::thread drain([&] {
    char buf[65536];
    pollfd pfd{reader, POLLIN, 0};
    while (::poll(&pfd, 1, 20000) == 1 && ::read(reader, buf, sizeof buf) > 0) {
    }
  });
  EXPECT_EQ(p.wait_exit(), 0) << p.output();
  drain.join();
  ::close(reader);
}

// --- listening sockets from outside ------------------------------------------

// Debian's systemd-socket-activate opens the socket, waits for the first
// connection, then execs gofer with LISTEN_FDS: that first request, queued
// before gofer ran, is answered.
TEST(Serve, SocketActivatedBySystemdSocketActivate) {
  if (::access("/usr/bin/systemd-socket-activate", X_OK) != 0) {
    GTEST_FAIL() << "systemd-socket-activate is missing: apt-get install systemd "
                    "(scripts/lib.sh's TEST_PACKAGES has it)";
  }
  int port = free_port();
  std::vector<std::string> args = {"/usr/bin/systemd-socket-activate", "-l",
                                   "127.0.0.1:" + std::to_string(port), "--fdname=web"};
  for (const auto& a : serve_args({"--addr", "127.0.0.1:1"})) args.push_back(a);  // --addr ignored
  Process p(args);
  ASSERT_TRUE(p.wait_output("Listening on 127.0.0.1:" + std::to_string(port))) << p.output();
  Response r = get(port, "/hello");
  EXPECT_EQ(r.status, 200) << r.error << "\n" << p.output();
  EXPECT_TRUE(p.wait_output(R"(serving http://127\.0\.0\.1:)" + std::to_string(port) +
                            R"( \(procs 2, pid \d+, inherited fd 3 "web"\))"))
      << p.output();
  p.signal(SIGTERM);
  EXPECT_EQ(p.wait_exit(), 0) << p.output();
}

// sh's $$ is the pid gofer gets with exec: LISTEN_PID names it.
std::vector<std::string> activated(const std::string& listen_fds, const std::string& redirect) {
  return {"/bin/sh", "-c",
          "LISTEN_PID=$$ LISTEN_FDS='" + listen_fds +
              "' exec " GOFER_BIN " serve --addr 127.0.0.1:0 " + redirect};
}

TEST(Serve, MalformedListenFdsIsOneLineAndNoServer) {
  Ran r = run(activated("abc", ""));
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.err, "gofer: LISTEN_FDS=\"abc\": not a number of file descriptors\n");
  EXPECT_EQ(r.out, "");
}

TEST(Serve, PassedFdThatIsNotAListeningSocketIsOneLine) {
  Ran file = run(activated("1", "3</proc/self/stat"));
  EXPECT_EQ(file.exit_code, 1);
  EXPECT_EQ(file.err,
            "gofer: LISTEN_FDS: fd 3 (\"unknown\") is a regular file, not a listening socket\n");
  Ran missing = run(activated("1", "3<&-"));  // fd 3 not open at all
  EXPECT_EQ(missing.exit_code, 1);
  EXPECT_EQ(missing.err, "gofer: LISTEN_FDS: fd 3 (\"unknown\"): Bad file descriptor\n");
}

TEST(Serve, ReuseportLetsTwoServersShareAPort) {
  Process a(serve_args({"--reuseport"}));
  int port = a.port();
  ASSERT_NE(port, 0) << a.output();
  std::string addr = "127.0.0.1:" + std::to_string(port);
  Process b(serve_args({"--reuseport", "--addr", addr}));
  EXPECT_EQ(b.port(), port) << b.output();
  Ran taken = run(serve_args({"--addr", addr}));
  EXPECT_EQ(taken.exit_code, 1);
  EXPECT_EQ(taken.err, "gofer: listen on " + addr + ": Address already in use\n");
}

// --- in-place upgrade ---------------------------------------------------------

// The binary is copied where the test may replace it, as a package upgrade
// replaces /usr/bin/gofer under a running server.
struct BinaryCopy {
  TempDir dir;
  fs::path path = dir.path / "gofer";
  BinaryCopy() { install(GOFER_BIN); }
  void install(const fs::path& from) {
    fs::path tmp = dir.path / "gofer.new";
    fs::copy_file(from, tmp, fs::copy_options::overwrite_existing);
    fs::permissions(tmp, fs::perms::owner_all);
    fs::rename(tmp, path);  // atomically, as dpkg does
  }
  void install_script(const std::string& body) {
    fs::path tmp = dir.path / "gofer.new";
    std::ofstream(tmp) << "#!/bin/sh\n" << body << "\n";
    fs::permissions(tmp, fs::perms::owner_all);
    fs::rename(tmp, path);
  }
};

// Clients that keep asking while the process behind the port changes: each
// round a new connection and a few keep-alive requests on it. Every failure
// is counted with what went wrong.
class Traffic {
 public:
  explicit Traffic(int port) : port_(port) {
    for (int i = 0; i < 4; ++i) threads_.emplace_back([this] { loop(); });
  }
  ~Traffic() { stop(); }
  void stop() {
    stop_ = true;
    for (auto& t : threads_) {
      if (t.joinable()) t.join();
    }
  }
  int ok() const { return ok_; }
  std::string failures() {
    std::lock_guard lock(mu_);
    return failures_;
  }

 private:
  void loop() {
    while (!stop_) {
      Client c(port_);
      if (!c.connected()) {
        fail("connect refused");
        continue;
      }
      for (int i = 0; i < 5 && !stop_; ++i) {
        Response r = c.get("/hello");
        if (r.status != 200) {
          fail(r.error.empty() ? "status " + std::to_string(r.status) : r.error);
          break;
        }
        ++ok_;
        if (r.closes()) break;  // the server said this connection ends: a new one
      }
    }
  }
  void fail(const std::string& what) {
    std::lock_guard lock(mu_);
    failures_ += what + "\n";
  }
  int port_;
  std::atomic<bool> stop_{false};
  std::atomic<int> ok_{0};
  std::mutex mu_;
  std::string failures_;
  std::vector<std::thread> threads_;
};

TEST(Serve, UpgradeOnSigusr2UnderTrafficLosesNothing) {
  BinaryCopy bin;
  Process p(serve_args({}, bin.path.string()));
  int port = p.port();
  ASSERT_NE(port, 0) << p.output();
  Traffic traffic(port);
  std::this_thread::sleep_for(300ms);
  p.signal(SIGUSR2);
  auto started =
      p.wait_output(R"(SIGUSR2: upgrade: started \S+ \(pid (\d+)\) with 1 listening socket)");
  ASSERT_TRUE(started) << p.output();
  pid_t fresh = std::stoi((*started)[1]);
  p.adopt(fresh);
  EXPECT_TRUE(p.wait_output(R"(serving http://127\.0\.0\.1:)" + std::to_string(port) +
                            R"( \(procs 2, pid )" + std::to_string(fresh) +
                            R"(, inherited fd 3 "http"\))"))
      << p.output();
  EXPECT_TRUE(
      p.wait_output("upgrade: the new process \\(pid " + std::to_string(fresh) + "\\) is ready"))
      << p.output();
  EXPECT_EQ(p.wait_exit(), 0) << "the old process exits once drained\n" << p.output();
  std::this_thread::sleep_for(300ms);  // traffic to the new process alone
  traffic.stop();
  EXPECT_EQ(traffic.failures(), "");
  EXPECT_GT(traffic.ok(), 0);
  // The new process serves, and upgrades again the same way.
  EXPECT_EQ(get(port, "/readyz").status, 200);
  ::kill(fresh, SIGTERM);
  int status = 0;
  ASSERT_EQ(::waitpid(fresh, &status, 0), fresh);  // ours: the test is a subreaper
  EXPECT_EQ(exit_code_of(status), 0) << p.output();
}

TEST(Serve, FailedUpgradeIsOneLineAndTheServerServesOn) {
  BinaryCopy bin;
  Process p(serve_args({}, bin.path.string()));
  int port = p.port();
  ASSERT_NE(port, 0) << p.output();
  bin.install_script("echo 'broken build' >&2; exit 3");
  p.signal(SIGUSR2);
  auto failed = p.wait_output(R"(upgrade failed: [^\n]*\n)");
  ASSERT_TRUE(failed) << p.output();
  EXPECT_TRUE(std::regex_match(
      (*failed)[0].str(), std::regex(R"(upgrade failed: the new process \(pid \d+\) exited with )"
                                     R"(status 3 before it was ready; still serving\n)")))
      << (*failed)[0].str();
  EXPECT_EQ(get(port, "/hello").status, 200);
  EXPECT_EQ(get(port, "/readyz").status, 200) << "a failed upgrade does not drain";
  // The binary fixed, the next SIGUSR2 upgrades.
  bin.install(GOFER_BIN);
  p.signal(SIGUSR2);
  auto ready = p.wait_output(R"(upgrade: the new process \(pid (\d+)\) is ready)");
  ASSERT_TRUE(ready) << p.output();
  p.adopt(std::stoi((*ready)[1]));
  EXPECT_EQ(p.wait_exit(), 0) << p.output();
  EXPECT_EQ(get(port, "/hello").status, 200);
}

TEST(Serve, SecondSigusr2DuringAnUpgradeIsRefused) {
  BinaryCopy bin;
  Process p(serve_args({"--upgrade-timeout", "3"}, bin.path.string()));
  int port = p.port();
  ASSERT_NE(port, 0) << p.output();
  bin.install_script("exec sleep 30");  // never ready
  p.signal(SIGUSR2);
  auto started = p.wait_output(R"(started \S+ \(pid (\d+)\))");
  ASSERT_TRUE(started) << p.output();
  p.adopt(std::stoi((*started)[1]));
  p.signal(SIGUSR2);
  EXPECT_TRUE(p.wait_output(
      R"(SIGUSR2: an upgrade is already under way \(new process pid \d+\); ignored\n)"))
      << p.output();
  EXPECT_EQ(get(port, "/hello").status, 200);
  EXPECT_TRUE(
      p.wait_output(R"(upgrade failed: the new process \(pid \d+\) was not ready within 3000 ms; )"
                    R"(killed it; still serving\n)"))
      << p.output();
  EXPECT_EQ(get(port, "/hello").status, 200);
}

// --- /echo --------------------------------------------------------------------

// Go's io.Copy(w, r.Body): the body comes back as it arrives. 256 MiB (the
// issue's case: it used to be refused with 413 after ~35 MiB, holding ~40
// MiB) goes through whole, and the server's memory does not grow with it.
TEST(Serve, EchoStreamsABodyLargerThanAnyBuffer) {
  Process p(serve_args({}));
  int port = p.port();
  ASSERT_NE(port, 0) << p.output();
  const std::size_t total = kSanitized ? (32u << 20) : (256u << 20);
  auto rss_kib = [&] {
    std::ifstream status("/proc/" + std::to_string(p.pid()) + "/status");
    std::string line;
    while (std::getline(status, line)) {
      if (line.starts_with("VmRSS:")) return std::stol(line.substr(6));
    }
    return 0L;
  };
  long rss_before = rss_kib();
  int fd = connect_loopback(port);
  ASSERT_GE(fd, 0);
  auto byte_at = [](std::size_t i) { return static_cast<char>((i * 131 + i / 4096) & 0xff); };
  std::thread sender([&] {
    std::string head =
        "POST /echo HTTP/1.1\r\nHost: test\r\nContent-Length: " + std::to_string(total) +
        "\r\n\r\n";
    ::send(fd, head.data(), head.size(), MSG_NOSIGNAL);
    std::vector<char> chunk(1 << 16);
    for (std::size_t off = 0; off < total; off += chunk.size()) {
      for (std::size_t i = 0; i < chunk.size(); ++i) chunk[i] = byte_at(off + i);
      if (::send(fd, chunk.data(), chunk.size(), MSG_NOSIGNAL) !=
          static_cast<ssize_t>(chunk.size()))
        return;
    }
  });
  std::string head;
  read_until(fd, head, Clock::now() + 30s,
             [](const std::string& s) { return s.find("\r\n\r\n") != std::string::npos; });
  std::size_t end = head.find("\r\n\r\n");
  ASSERT_NE(end, std::string::npos) << head;
  EXPECT_TRUE(head.starts_with("HTTP/1.1 200 ")) << head;
  EXPECT_NE(head.find("Content-Length: " + std::to_string(total) + "\r\n"), std::string::npos)
      << head;
  std::size_t got = head.size() - end - 4, mismatches = 0;
  for (std::size_t i = 0; i < got; ++i) mismatches += head[end + 4 + i] != byte_at(i);
  long rss_peak = 0;
  auto deadline = Clock::now() + (kSanitized ? 240s : 60s);
  std::vector<char> buf(1 << 16);
  while (got < total && Clock::now() < deadline) {
    pollfd pf{fd, POLLIN, 0};
    if (::poll(&pf, 1, 1000) <= 0) continue;
    ssize_t n = ::recv(fd, buf.data(), buf.size(), 0);
    if (n <= 0) break;
    for (ssize_t i = 0; i < n; ++i)
      mismatches += buf[static_cast<std::size_t>(i)] != byte_at(got + static_cast<std::size_t>(i));
    got += static_cast<std::size_t>(n);
    if ((got & ((16 << 20) - 1)) < static_cast<std::size_t>(n))
      rss_peak = std::max(rss_peak, rss_kib());
  }
  sender.join();
  ::close(fd);
  EXPECT_EQ(got, total);
  EXPECT_EQ(mismatches, 0u);
  if (!kSanitized) {
    // The whole body would be 256 MiB; what the server holds for it is its
    // buffers. 16 MiB leaves room for the allocator's and the kernel's moods.
    EXPECT_LT(rss_peak - rss_before, 16 * 1024)
        << "RSS before " << rss_before << " KiB, peak " << rss_peak;
  }
}

// --- gofer proxy ------------------------------------------------------------

// `gofer proxy` in front of two `gofer serve` and a port that refuses
// connections: requests go round robin to the two that answer (nginx's
// and Go's balancers' rule for a refused dial: the request was never
// sent, so it goes to the next upstream, and the refusing one is skipped
// for --fail-timeout, said once on stderr); bodies go through (/echo); the
// proxy's own /healthz answers; SIGTERM drains it like gofer serve.
TEST(Proxy, RoundRobinSkipsARefusingUpstreamAndDrains) {
  Process a(serve_args({"--access-log", "-"}));
  Process b(serve_args({"--access-log", "-"}));
  int port_a = a.port(), port_b = b.port();
  ASSERT_NE(port_a, 0) << a.output();
  ASSERT_NE(port_b, 0) << b.output();
  int refusing = free_port();
  auto to = [](int port) { return "http://127.0.0.1:" + std::to_string(port); };
  Process proxy({GOFER_BIN, "proxy", "--procs", "2", "--addr", "127.0.0.1:0", "--to", to(port_a),
                 "--to", to(refusing), "--to", to(port_b)});
  int port = proxy.port();
  ASSERT_NE(port, 0) << proxy.output();
  Client c(port);
  ASSERT_TRUE(c.connected());
  for (int i = 0; i < 6; ++i) {
    Response r = c.get("/hello");
    ASSERT_EQ(r.status, 200) << r.error << r.head;
    EXPECT_EQ(r.body, "Hello, World!");
  }
  ASSERT_TRUE(c.send("POST /echo HTTP/1.1\r\nHost: test\r\nContent-Length: 5\r\n\r\nhello"));
  Response echoed = c.read_response();
  EXPECT_EQ(echoed.status, 200) << echoed.error;
  EXPECT_EQ(echoed.body, "hello");
  EXPECT_TRUE(proxy.wait_output("127.0.0.1:" + std::to_string(refusing) +
                                " refused a connection; skipped for 10 s"))
      << proxy.output();
  // Each upstream logged its half of the six GETs.
  auto hellos = [](Process& p) {
    std::string out = p.output();
    int n = 0;
    for (std::size_t at = 0; (at = out.find("\"GET /hello ", at)) != std::string::npos; ++at) ++n;
    return n;
  };
  for (auto until = Clock::now() + 10s; hellos(a) + hellos(b) < 6 && Clock::now() < until;)
    std::this_thread::sleep_for(20ms);  // the access logs are written every 100 ms
  EXPECT_EQ(hellos(a), 3) << a.output();
  EXPECT_EQ(hellos(b), 3) << b.output();
  EXPECT_EQ(get(port, "/healthz").body, "ok\n");

  proxy.signal(SIGTERM);
  EXPECT_EQ(proxy.wait_exit(), 0) << proxy.output();
}

// A --to that is not an http(s) URL of a host is one line and exit 2.
TEST(Proxy, BadUpstreamUrlIsOneLine) {
  Ran r = run({GOFER_BIN, "proxy", "--to", "ftp://127.0.0.1:1"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.err, "gofer: --to ftp://127.0.0.1:1: the scheme must be http or https\n");
}

}  // namespace
