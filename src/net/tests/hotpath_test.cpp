// The hot path in docs/design.md: a read or write on a ready fd costs one
// syscall and no heap allocation. A binary of its own, because it replaces
// the global operator new to count allocations.
#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>
#include <new>

#include "gofer/net.h"
#include "gofer/runtime.h"
#include "test_util.h"

namespace {
std::atomic<bool> g_counting{false};
std::atomic<long> g_allocations{0};
}  // namespace

void* operator new(std::size_t n) {
  if (g_counting.load(std::memory_order_relaxed)) g_allocations.fetch_add(1, std::memory_order_relaxed);
  if (void* p = std::malloc(n == 0 ? 1 : n)) return p;
  throw std::bad_alloc();
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }

namespace net = gofer::net;
using namespace gofer::net::test;

namespace {

TEST(HotPath, ReadWriteAndWritevDoNotAllocate) {
  gofer::run([] {
    auto [ln, err] = net::listen("tcp4", "127.0.0.1:0");
    ASSERT_FALSE(err);
    auto [c, derr] = net::dial("tcp", ln.addr().to_string(), 5s);
    ASSERT_FALSE(derr);
    auto [s, aerr] = ln.accept();
    ASSERT_FALSE(aerr);
    char msg[64] = "request";
    char buf[256];
    iovec iov[3] = {{msg, 10}, {msg + 10, 20}, {msg + 30, 34}};
    g_counting = true;
    auto read_full = [](net::Conn& conn, char* p, std::size_t n) {
      for (std::size_t got = 0; got < n;) {
        auto [r, e] = conn.read(std::span<char>(p + got, n - got));  // parks when nothing is there yet
        if (e) return false;
        got += r;
      }
      return true;
    };
    for (int i = 0; i < 1000; ++i) {
      auto [n, werr] = c.write(std::span<const char>(msg, sizeof msg));
      bool server_read = read_full(s, buf, 64);
      auto [k, verr] = s.writev(iov);
      bool client_read = read_full(c, buf, 64);
      if (werr || verr || n != 64 || k != 64 || !server_read || !client_read) {
        g_counting = false;
        FAIL() << "round trip " << i;
      }
    }
    // Timers are intrusive: no allocation either.
    gofer::Error set = c.set_read_deadline(net::Clock::now() + 1h);
    gofer::Error cleared = c.set_read_deadline(net::Deadline{});
    g_counting = false;
    EXPECT_FALSE(set);
    EXPECT_FALSE(cleared);
    EXPECT_EQ(g_allocations.load(), 0);
  });
}

}  // namespace
