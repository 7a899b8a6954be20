// A TLS connection in steady state allocates nothing of its own: after the
// first exchanges have grown the ciphertext buffers, round trips of
// request/response size (read, write, writev) make no operator new and no
// realloc — the buffers are reused. (OpenSSL's own record buffers come and
// go by malloc/free with SSL_MODE_RELEASE_BUFFERS, as in nginx; they are
// not counted here.) A binary of its own: it replaces operator new and
// realloc to count them, which sanitizer runtimes intercept themselves.
#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>
#include <new>

#include "tls_test_util.h"

extern "C" void* __libc_realloc(void*, std::size_t);

namespace {
std::atomic<bool> g_counting{false};
std::atomic<long> g_news{0};
std::atomic<long> g_reallocs{0};
}  // namespace

#if !defined(GOFER_ASAN) && !defined(GOFER_TSAN)
void* operator new(std::size_t n) {
  if (g_counting.load(std::memory_order_relaxed)) g_news.fetch_add(1, std::memory_order_relaxed);
  if (void* p = std::malloc(n == 0 ? 1 : n)) return p;
  throw std::bad_alloc();
}
void operator delete(void* p) noexcept {
  std::free(p);
}
void operator delete(void* p, std::size_t) noexcept {
  std::free(p);
}
extern "C" void* realloc(void* p, std::size_t n) {
  if (g_counting.load(std::memory_order_relaxed))
    g_reallocs.fetch_add(1, std::memory_order_relaxed);
  return __libc_realloc(p, n);
}
#endif

namespace tls = gofer::tls;
using namespace tls::test;

namespace {

TEST(SteadyState, RoundTripsDoNotAllocate) {
#if defined(GOFER_ASAN) || defined(GOFER_TSAN)
  GTEST_SKIP() << "the sanitizer runtime owns operator new and realloc";
#endif
  gofer::run(
      [] {
        with_pair(
            server_config({Pki::get().localhost}), client_config(), "localhost",
            [](tls::Conn& c) {
              char buf[2048];
              char head[] = "HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n";
              char body[1000] = {};
              iovec iov[2] = {{head, sizeof head - 1}, {body, sizeof body}};
              for (;;) {
                if (read_full(c, {buf, 500})) break;
                if (c.writev(iov).err) break;
              }
              (void)c.close();
            },
            [](tls::Conn& c) {
              char request[500] = {};
              char buf[2048];
              const std::size_t reply = 41 + 1000;
              auto round_trip = [&] {
                return !c.write(std::span<const char>(request, sizeof request)).err &&
                       !read_full(c, {buf, reply});
              };
              for (int i = 0; i < 50; ++i) ASSERT_TRUE(round_trip());  // warm up
              g_counting = true;
              for (int i = 0; i < 2000; ++i) {
                if (!round_trip()) {
                  g_counting = false;
                  FAIL() << "round trip " << i;
                }
              }
              g_counting = false;
              // A handful, not zero: the count is process-wide, and the
              // scheduler may start an M (a thread: a few allocations, once)
              // inside the window. One allocation per round trip would be
              // 2,000.
              EXPECT_LT(g_news.load(), 2000 / 100);
              EXPECT_LT(g_reallocs.load(), 2000 / 100);
              (void)c.close();
            });
      },
      {.procs = 2});
}

}  // namespace
