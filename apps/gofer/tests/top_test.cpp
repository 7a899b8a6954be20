// `gofer top` as a user runs it: against a `gofer serve` started here (on
// 127.0.0.1, port chosen by the kernel), `--once` prints the figures —
// among them the requests of a burst sent here — and exits 0; against an
// address where nothing listens, or a server without its debug pages, it
// prints one line saying why on stderr and exits non-zero. Every process is
// stopped by its PID; every wait is bounded.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include "child_process.h"

#include <chrono>
#include <regex>
#include <string>
#include <thread>
#include <vector>

namespace {

using namespace gofer::test;

// `gofer serve` on 127.0.0.1:0; the port is read from its first line.
class Server {
 public:
  explicit Server(std::vector<std::string> extra = {}) {
    std::vector<std::string> args = {GOFER_BIN, "serve", "--addr",  "127.0.0.1:0",
                                     "--procs", "2",     "--grace", "1"};
    args.insert(args.end(), extra.begin(), extra.end());
    child_ = spawn(args);
    std::string out;
    read_until(child_.out, out, Clock::now() + 20s,
               [](const std::string& s) { return s.find('\n') != std::string::npos; });
    std::smatch m;
    if (std::regex_search(out, m, std::regex(R"(serving http://127\.0\.0\.1:(\d+))"))) {
      port_ = std::stoi(m[1]);
    }
    // A server that keeps writing must not block on a full pipe nobody reads.
    ::close(child_.out);
  }
  ~Server() {
    ::kill(child_.pid, SIGTERM);
    for (auto until = Clock::now() + 10s; Clock::now() < until;) {
      if (::waitpid(child_.pid, nullptr, WNOHANG) == child_.pid) {
        ::close(child_.err);
        return;
      }
      std::this_thread::sleep_for(20ms);
    }
    ::kill(child_.pid, SIGKILL);
    ::waitpid(child_.pid, nullptr, 0);
    ::close(child_.err);
  }
  int port() const { return port_; }
  std::string addr() const { return "127.0.0.1:" + std::to_string(port_); }

 private:
  Child child_;
  int port_ = 0;
};

// n keep-alive GET /hello on one connection; how many were answered 200.
int burst(int port, int n) {
  int fd = connect_loopback(port);
  if (fd < 0) return 0;
  int ok = 0;
  std::string pending;
  auto deadline = Clock::now() + 30s;
  for (int i = 0; i < n; ++i) {
    const char req[] = "GET /hello HTTP/1.1\r\nHost: test\r\n\r\n";
    if (::send(fd, req, sizeof req - 1, MSG_NOSIGNAL) != sizeof req - 1) break;
    read_until(fd, pending, deadline,
               [](const std::string& s) { return s.find("Hello, World!") != std::string::npos; });
    std::size_t end = pending.find("Hello, World!");
    if (end == std::string::npos) break;
    if (pending.starts_with("HTTP/1.1 200")) ++ok;
    pending.erase(0, end + 13);
  }
  ::close(fd);
  return ok;
}

// A port where nothing listens: bound (so nobody else takes it), never listened on.
struct DeadPort {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  int port = 0;
  DeadPort() {
    sockaddr_in sa{};
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof sa;
    ::bind(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa);
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&sa), &len);
    port = ntohs(sa.sin_port);
  }
  ~DeadPort() { ::close(fd); }
};

// Like `top -b -n 1`: one snapshot, plain text (no terminal escapes), exit 0.
TEST(GoferTop, OnceShowsTheFiguresOfARunningServer) {
  Server server;
  ASSERT_NE(server.port(), 0) << "gofer serve did not say where it listens";
  constexpr int kBurst = 300;
  ASSERT_EQ(burst(server.port(), kBurst), kBurst);

  // The series gains a point a second: look until the burst is in one (for
  // at most 30 s). Each earlier `gofer top` adds its own requests (at most
  // two each), so the count is the burst's plus at most those.
  Ran r;
  std::smatch served;
  int tries = 0;
  for (auto until = Clock::now() + 30s; Clock::now() < until; std::this_thread::sleep_for(200ms)) {
    r = run({GOFER_BIN, "top", "--once", "--addr", server.addr()});
    ++tries;
    ASSERT_EQ(r.exit_code, 0) << r.err;
    std::regex_search(r.out, served, std::regex(R"((\d+) in these \d+ points)"));
    if (!served.empty() && std::stoi(served[1]) >= kBurst) break;
  }
  ASSERT_FALSE(served.empty()) << r.out;
  EXPECT_GE(std::stoi(served[1]), kBurst) << r.out;
  EXPECT_LE(std::stoi(served[1]), kBurst + 2 * tries) << r.out;
  EXPECT_TRUE(r.err.empty()) << r.err;
  EXPECT_EQ(r.out.find('\x1b'), std::string::npos) << "--once must be plain text";
  for (const char* what : {"gofer top — 127.0.0.1:", "procs 2", "requests/s", "latency p99",
                           "goroutines", "connections", "epoll wakes/s", "CPU (cores)", "RSS",
                           "\nP0 ", "\nP1 ", "\nM0 ", "goroutines now:"}) {
    EXPECT_NE(r.out.find(what), std::string::npos) << "no \"" << what << "\" in:\n" << r.out;
  }
  // The server is idle between our runs: the main goroutine waits in accept.
  EXPECT_NE(r.out.find("IO wait (accept) 1"), std::string::npos) << r.out;
}

TEST(GoferTop, NothingListeningIsOneClearErrorLine) {
  DeadPort dead;
  Ran r = run({GOFER_BIN, "top", "--once", "--addr", "127.0.0.1:" + std::to_string(dead.port)});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_TRUE(r.out.empty()) << r.out;
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
  EXPECT_TRUE(r.err.starts_with("gofer top: cannot connect to 127.0.0.1:")) << r.err;
  EXPECT_NE(r.err.find("refused"), std::string::npos) << r.err;
}

TEST(GoferTop, AServerWithoutDebugPagesIsOneClearErrorLine) {
  Server server({"--no-debug"});
  ASSERT_NE(server.port(), 0);
  Ran r = run({GOFER_BIN, "top", "--once", "--addr", server.addr()});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
  EXPECT_NE(r.err.find("answered 404"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("debug pages"), std::string::npos) << r.err;
}

}  // namespace
