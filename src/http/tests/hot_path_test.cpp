// The performance rule of docs/design.md: a keep-alive request in steady state costs
// one read, one write and no heap allocation. A counting operator new (this
// test binary replaces the global one) checks the allocations; the read
// syscalls come from /proc/self/io (syscr) of the server process. (Writes
// go out with sendmsg(MSG_NOSIGNAL), which /proc/self/io does not count, so
// they are not checked here.) The client is a forked child using plain
// blocking sockets, so neither its allocations nor its syscalls count.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <new>
#include <string>

#include "gofer/http/server.h"
#include "gofer/net.h"
#include "gofer/runtime.h"
#include "gofer/sync.h"

namespace {
std::atomic<long> g_allocations{0};
}

void* operator new(std::size_t n) {
  g_allocations.fetch_add(1, std::memory_order_relaxed);
  if (void* p = std::malloc(n == 0 ? 1 : n)) return p;
  throw std::bad_alloc();
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }

namespace {

namespace http = gofer::http;

struct IoCounts {
  long reads = 0;
};

IoCounts io_counts() {
  IoCounts c;
  if (std::FILE* f = std::fopen("/proc/self/io", "r")) {
    char key[64];
    long value;
    while (std::fscanf(f, "%63s %ld", key, &value) == 2) {
      if (std::string(key) == "syscr:") c.reads = value;
    }
    std::fclose(f);
  }
  return c;
}

// The child: `warmup + measured` keep-alive requests on one connection,
// each waiting for its response, then a byte on `done_fd` per phase.
[[noreturn]] void client(int port, int warmup, int measured, int sync_fd) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_port = htons(static_cast<std::uint16_t>(port));
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 0) ::_exit(2);
  const char req[] = "GET /hello HTTP/1.1\r\nHost: bench\r\n\r\n";
  char buf[4096];
  auto one = [&] {
    if (::write(fd, req, sizeof req - 1) != static_cast<ssize_t>(sizeof req - 1)) ::_exit(3);
    std::string got;
    while (got.find("Hello, World!") == std::string::npos) {
      ssize_t n = ::read(fd, buf, sizeof buf);
      if (n <= 0) ::_exit(4);
      got.append(buf, static_cast<std::size_t>(n));
    }
  };
  for (int i = 0; i < warmup; ++i) one();
  char c = 'w';
  if (::write(sync_fd, &c, 1) != 1) ::_exit(5);
  if (::read(sync_fd, &c, 1) != 1) ::_exit(6);  // the parent took its "before" counts
  for (int i = 0; i < measured; ++i) one();
  c = 'm';
  if (::write(sync_fd, &c, 1) != 1) ::_exit(7);
  if (::read(sync_fd, &c, 1) != 1) ::_exit(8);
  ::close(fd);
  ::_exit(0);
}

TEST(HotPath, KeepAliveRequestAllocatesNothingAndCostsOneReadOneWrite) {
  constexpr int kWarmup = 200, kMeasured = 2000;
  long allocations = -1;
  IoCounts before, after;
  gofer::run([&] {
    auto [ln, err] = gofer::net::listen("tcp", "127.0.0.1:0");
    ASSERT_FALSE(err);
    int port = ln.addr().port();
    int sv[2];
    ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    pid_t pid = ::fork();
    if (pid == 0) {
      ::close(sv[0]);
      client(port, kWarmup, kMeasured, sv[1]);
    }
    ::close(sv[1]);
    http::Server server;
    server.handler = [](http::ResponseWriter& w, http::Request&) {
      w.header().set("Content-Type", "text/plain");
      w.write("Hello, World!");
    };
    // A client stalled on a loaded machine must not make the connection
    // park idle: parking gives its buffers back and resuming takes them
    // again, which the allocation count would see.
    server.idle_park_after = std::chrono::hours(1);
    gofer::WaitGroup wg;
    wg.add(1);
    gofer::go([&] {
      EXPECT_EQ(server.serve(ln), http::errc::server_closed);
      wg.done();
    });
    // The sync socket is read with blocking(): the child paces the phases.
    char c;
    gofer::blocking([&] { return ::read(sv[0], &c, 1); });
    long a0 = g_allocations.load();
    before = io_counts();
    gofer::blocking([&] { return ::write(sv[0], "g", 1); });
    gofer::blocking([&] { return ::read(sv[0], &c, 1); });
    after = io_counts();
    allocations = g_allocations.load() - a0;
    gofer::blocking([&] { return ::write(sv[0], "g", 1); });
    int status = 0;
    gofer::blocking([&] { return ::waitpid(pid, &status, 0); });
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "client status " << status;
    ::close(sv[0]);
    EXPECT_FALSE(server.shutdown(gofer::net::Clock::now() + std::chrono::seconds(2)));
    wg.wait();
  }, {.procs = 1});
  // A handful of allocations in a window of 2,000 requests (the sync
  // socket's own syscalls and a timer heap that may grow once) is noise;
  // one per request is a regression.
  EXPECT_LT(allocations, kMeasured / 100) << allocations << " allocations in " << kMeasured << " requests";
  double reads = static_cast<double>(after.reads - before.reads) / kMeasured;
  // One read that finds the request, and sometimes one that finds EAGAIN
  // before the goroutine parks (the client sends the next request only
  // after the response).
  EXPECT_GE(reads, 1.0) << "reads per request";
  EXPECT_LE(reads, 2.05) << "reads per request";
  std::printf("per request: %.2f reads, %.4f allocations\n", reads,
              static_cast<double>(allocations) / kMeasured);
}

}  // namespace
