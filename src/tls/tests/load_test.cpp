// A thousand handshakes at once on two Ps: every one completes (full
// TLS 1.3 handshakes, a byte each way, close_notify), none waits for
// another's network round trips, and nothing is left behind. Bounded: each
// connection has a 60 s deadline, so a lost wake-up fails the test instead
// of hanging it.
#include <gtest/gtest.h>
#include <sys/resource.h>

#include <atomic>

#include "tls_test_util.h"

namespace tls = gofer::tls;
namespace net = gofer::net;
using namespace tls::test;

namespace {

void raise_nofile() {
  rlimit rl{};
  ::getrlimit(RLIMIT_NOFILE, &rl);
  rl.rlim_cur = rl.rlim_max;
  ::setrlimit(RLIMIT_NOFILE, &rl);
}

TEST(Load, ThousandConcurrentHandshakes) {
  raise_nofile();
  const int n = 1000 / kScale;
  std::atomic<int> served{0}, ok{0};
  gofer::run(
      [&] {
        auto scfg = server_config({Pki::get().localhost});
        auto ccfg = client_config();
        tls::Listener ln = loopback_listener(scfg);
        const std::string addr = ln.addr().to_string();
        gofer::WaitGroup conns;
        conns.add(1);
        gofer::go([&] {
          for (int i = 0; i < n; ++i) {
            auto [c, err] = ln.accept();
            if (err) break;
            conns.add(1);
            gofer::go([&, conn = std::make_shared<tls::Conn>(std::move(c))] {
              EXPECT_FALSE(conn->set_deadline(net::Clock::now() + 60s));
              char b;
              if (!conn->read({&b, 1}).err && !conn->write({&b, 1}).err) served.fetch_add(1);
              (void)conn->close();
              conns.done();
            });
          }
          conns.done();
        });
        gofer::WaitGroup clients;
        clients.add(n);
        for (int i = 0; i < n; ++i) {
          gofer::go([&] {
            auto [nc, err] = net::dial("tcp4", addr, 60s);
            if (!err) {
              tls::Conn c = tls::client(std::move(nc), ccfg, "localhost");
              EXPECT_FALSE(c.set_deadline(net::Clock::now() + 60s));
              char b = 'x';
              if (!c.write({&b, 1}).err && !c.read({&b, 1}).err && b == 'x') ok.fetch_add(1);
              (void)c.close();
            }
            clients.done();
          });
        }
        clients.wait();
        conns.wait();
        (void)ln.close();
      },
      {.procs = 2});
  EXPECT_EQ(ok.load(), n);
  EXPECT_EQ(served.load(), n);
}

}  // namespace
