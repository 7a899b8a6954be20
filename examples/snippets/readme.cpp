// The README's first example, whole: compiled (not run: it serves on port
// 8080 until killed).
#include <gofer/net.h>
#include <gofer/runtime.h>

// clang-format off
int main() {
  gofer::run([] {
    auto [ln, err] = gofer::net::listen("tcp", "127.0.0.1:8080");
    if (err) return;
    for (;;) {
      auto [conn, err] = ln.accept();          // the goroutine parks; the thread runs others
      if (err) continue;
      gofer::go([c = std::move(conn)]() mutable {
        char buf[4096];
        for (;;) {
          auto [n, err] = c.read(buf);         // EAGAIN → park until epoll says "ready"
          if (err) return;
          if (c.write({buf, n}).err) return;
        }
      });
    }
  });
}
// clang-format on
