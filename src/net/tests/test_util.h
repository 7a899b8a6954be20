// Helpers shared by the net tests and their peer process (peer.cpp).
#pragma once

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>
#include <netinet/in.h>
#include <dirent.h>

#include <chrono>
#include <cstdint>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "gofer/net.h"
#include "gofer/runtime.h"
#include "runtime/park.h"
#include "runtime/timer.h"

namespace gofer::net::test {

#if defined(GOFER_TSAN) || defined(GOFER_ASAN)
constexpr int kScale = 10;  // sanitizers keep shadow state per fiber and per fd
#else
constexpr int kScale = 1;
#endif

using namespace std::chrono_literals;

inline void sleep_for(std::chrono::nanoseconds d) { runtime::sleep_until_ns(runtime::nanotime() + d.count()); }

inline double seconds_since(Clock::time_point t) {
  return std::chrono::duration<double>(Clock::now() - t).count();
}

// A countdown latch for goroutines (the tests do not depend on gofer::sync).
class Latch {
 public:
  explicit Latch(long count = 0) : count_(count) {}
  void add(long n) {
    std::lock_guard lock(mu_);
    count_ += n;
  }
  void done() {
    std::vector<runtime::G*> woken;
    {
      std::lock_guard lock(mu_);
      if (--count_ == 0) woken.swap(waiters_);
    }
    for (runtime::G* g : woken) runtime::ready(g);
  }
  void wait() {
    mu_.lock();
    if (count_ == 0) {
      mu_.unlock();
      return;
    }
    waiters_.push_back(runtime::current_g());
    runtime::park_unlock(mu_, runtime::WaitReason::semaphore);
  }

 private:
  std::mutex mu_;
  long count_;                         // guarded by mu_
  std::vector<runtime::G*> waiters_;   // guarded by mu_
};

// RLIMIT_NOFILE soft limit up to the hard limit.
inline void raise_nofile() {
  rlimit rl{};
  ::getrlimit(RLIMIT_NOFILE, &rl);
  rl.rlim_cur = rl.rlim_max;
  ::setrlimit(RLIMIT_NOFILE, &rl);
}

inline int count_open_fds() {
  int n = 0;
  if (DIR* d = ::opendir("/proc/self/fd")) {
    while (dirent* e = ::readdir(d)) {
      if (e->d_name[0] != '.') ++n;
    }
    ::closedir(d);
    --n;  // the directory's own fd
  }
  return n;
}

// The RLIMIT_NOFILE soft limit that leaves exactly `k` fd numbers free for
// new fds (the kernel hands out the lowest free number below the limit;
// inherited fds above it stay usable).
inline rlim_t nofile_limit_leaving(int k) {
  std::set<int> open;
  if (DIR* d = ::opendir("/proc/self/fd")) {
    int self = ::dirfd(d);
    while (dirent* e = ::readdir(d)) {
      if (e->d_name[0] == '.') continue;
      int fd = std::atoi(e->d_name);
      if (fd != self) open.insert(fd);
    }
    ::closedir(d);
  }
  int n = 0;
  for (int free = 0;; ++n) {
    if (open.count(n) == 0 && ++free == k) break;
  }
  return static_cast<rlim_t>(n + 1);
}

// CPU time (user + system) of this process, all threads.
inline std::int64_t cpu_time_ns() {
  rusage ru{};
  ::getrusage(RUSAGE_SELF, &ru);
  auto tv = [](const timeval& t) { return t.tv_sec * 1'000'000'000LL + t.tv_usec * 1000LL; };
  return tv(ru.ru_utime) + tv(ru.ru_stime);
}

inline bool have_ipv6_loopback() {
  int fd = ::socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  sockaddr_in6 sin6{};
  sin6.sin6_family = AF_INET6;
  sin6.sin6_addr = in6addr_loopback;
  bool ok = ::bind(fd, reinterpret_cast<sockaddr*>(&sin6), sizeof sin6) == 0;
  ::close(fd);
  return ok;
}

// The peer process (net_test_peer): clients for the tests that need more
// connections than one process may hold fds, driven by line commands on its
// stdin (see peer.cpp). Killed and reaped on destruction.
class Peer {
 public:
  explicit Peer(const char* path) {
    int in[2], out[2];
    if (::pipe2(in, O_CLOEXEC) != 0 || ::pipe2(out, O_CLOEXEC) != 0) return;
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, in[0], 0);
    posix_spawn_file_actions_adddup2(&fa, out[1], 1);
    char* argv[] = {const_cast<char*>(path), nullptr};
    if (::posix_spawn(&pid_, path, &fa, nullptr, argv, environ) != 0) pid_ = -1;
    posix_spawn_file_actions_destroy(&fa);
    ::close(in[0]);
    ::close(out[1]);
    to_ = in[1];
    from_ = out[0];
  }
  ~Peer() {
    if (to_ >= 0) ::close(to_);
    if (from_ >= 0) ::close(from_);
    if (pid_ > 0) {
      // Closing its stdin asks it to exit; give it a moment, then insist.
      for (int i = 0; i < 200; ++i) {
        if (::waitpid(pid_, &status_, WNOHANG) == pid_) return;
        ::usleep(10'000);
      }
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, &status_, 0);
    }
  }
  Peer(const Peer&) = delete;
  Peer& operator=(const Peer&) = delete;

  bool started() const { return pid_ > 0; }

  // Sends one command line and returns the reply line ("" on timeout or
  // EOF). Runs the blocking pipe I/O inside gofer::blocking() when called
  // on a goroutine.
  std::string command(const std::string& line, std::chrono::milliseconds timeout = 60s) {
    auto io = [&]() -> std::string {
      std::string l = line + "\n";
      if (::write(to_, l.data(), l.size()) != static_cast<ssize_t>(l.size())) return "";
      auto end = Clock::now() + timeout;
      for (;;) {
        if (auto nl = buf_.find('\n'); nl != std::string::npos) {
          std::string reply = buf_.substr(0, nl);
          buf_.erase(0, nl + 1);
          return reply;
        }
        auto left = std::chrono::duration_cast<std::chrono::milliseconds>(end - Clock::now()).count();
        if (left <= 0) return "";
        pollfd p{from_, POLLIN, 0};
        if (::poll(&p, 1, static_cast<int>(left)) <= 0) continue;
        char chunk[512];
        ssize_t n = ::read(from_, chunk, sizeof chunk);
        if (n <= 0) return "";
        buf_.append(chunk, static_cast<std::size_t>(n));
      }
    };
    return gofer::in_goroutine() ? gofer::blocking(io) : io();
  }

 private:
  pid_t pid_ = -1;
  int to_ = -1;
  int from_ = -1;
  int status_ = 0;
  std::string buf_;
};

// An echo server for the tests: an accept loop and a goroutine per
// connection, as in examples/echo. stop() closes the listener and waits for
// every connection goroutine to end (after their peers hang up).
class EchoServer {
 public:
  explicit EchoServer(Listener ln) : ln_(std::move(ln)) {}

  void start() {
    loops_.add(1);
    gofer::go([this] {
      for (;;) {
        auto [conn, err] = ln_.accept();
        if (err) {
          if (err == errc::closed) break;
          accept_errors.fetch_add(1);
          continue;
        }
        accepted.fetch_add(1);
        loops_.add(1);
        gofer::go([this, c = std::move(conn)]() mutable {
          active.fetch_add(1);
          {
            std::lock_guard lock(mu_);
            conns_.insert(&c);
          }
          char buf[4096];
          for (;;) {
            auto [n, rerr] = c.read(buf);
            if (rerr) break;
            if (c.write(std::span<const char>(buf, n)).err) break;
          }
          {
            std::lock_guard lock(mu_);
            conns_.erase(&c);
          }
          (void)c.close();  // stop() may have shut it down: nothing to report
          active.fetch_sub(1);
          loops_.done();
        });
      }
      loops_.done();
    });
  }

  // Closes the listener and ends every connection (like Go's
  // Server.Close), then waits for all goroutines of the server.
  void stop() {
    if (stopped_) return;
    stopped_ = true;
    (void)ln_.close();  // closed already if the test closed it
    {
      // shutdown, not close: it cannot park, and the connection goroutine
      // still owns (and closes) its fd.
      std::lock_guard lock(mu_);
      for (Conn* c : conns_) ::shutdown(c->fd(), SHUT_RDWR);
    }
    loops_.wait();
  }
  ~EchoServer() { stop(); }

  Listener& listener() { return ln_; }
  std::string addr() const { return ln_.addr().to_string(); }

  std::atomic<long> accepted{0};
  std::atomic<long> active{0};
  std::atomic<long> accept_errors{0};

 private:
  Listener ln_;
  Latch loops_;
  bool stopped_ = false;
  std::mutex mu_;
  std::set<Conn*> conns_;  // guarded by mu_
};

}  // namespace gofer::net::test
