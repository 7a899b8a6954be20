// dial_context: Go's DialContext. The lookup and the connect are given up
// when the context ends, with the context's error; an abandoned lookup is
// bounded (one per name, max_lookups in all). A slow resolver is a stub
// (set_lookup_function) that answers only when the test lets it; a hanging
// connect is a loopback listener whose accept queue is full. No traffic
// leaves the machine.
#include <gtest/gtest.h>

#include <atomic>
#include <string>
#include <vector>

#include "gofer/context.h"
#include "gofer/net.h"
#include "gofer/runtime.h"
#include "net/resolve.h"
#include "test_util.h"

namespace net = gofer::net;
using namespace gofer::net::test;

namespace {

constexpr double kSlack = 5.0;  // loaded CI machines and sanitizers

// A resolver that answers 127.0.0.1 for any name, once `release` is set
// (or after 20 s, so that a failing test cannot hang its process).
std::atomic<bool> release{false};
std::atomic<int> stub_calls{0};

gofer::Result<std::vector<net::Addr>> slow_stub(const std::string&, int) {
  stub_calls.fetch_add(1);
  for (int i = 0; i < 20000 && !release.load(); ++i) ::usleep(1000);
  sockaddr_in sin{};
  sin.sin_family = AF_INET;
  sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  return {{net::Addr(reinterpret_cast<sockaddr*>(&sin), sizeof sin)}, {}};
}

// Installs the stub for one test and puts everything back after it.
class SlowResolver : public testing::Test {
 protected:
  void SetUp() override {
    release = false;
    stub_calls = 0;
    net::detail::set_lookup_function(&slow_stub);
  }
  void TearDown() override {
    release = true;
    net::detail::set_lookup_function(nullptr);
    net::detail::set_max_lookups(500);
  }
  // Lets the stub answer and waits (bounded) until no lookup is left.
  static void release_and_drain() {
    release = true;
    for (int i = 0; i < 5000 && net::detail::lookups_in_flight() > 0; ++i) sleep_for(1ms);
    EXPECT_EQ(net::detail::lookups_in_flight(), 0u);
  }
};

// Cancels `cancel` after `d`, from another goroutine.
void cancel_after(gofer::CancelFunc cancel, std::chrono::milliseconds d) {
  gofer::go([cancel, d] {
    sleep_for(d);
    cancel();
  });
}

// Go: a context that has already ended fails the dial at once, with its error.
TEST(DialContext, EndedContextFailsAtOnce) {
  gofer::run([] {
    auto [ln, err] = net::listen("tcp4", "127.0.0.1:0");
    ASSERT_FALSE(err);
    auto [ctx, cancel] = gofer::with_cancel(gofer::background());
    cancel();
    auto [c, derr] = net::dial_context(ctx, "tcp", ln.addr().to_string());
    EXPECT_EQ(derr, gofer::context_errc::canceled) << derr.message();
    EXPECT_FALSE(c);
    auto [late, lcancel] = gofer::with_timeout(gofer::background(), -1s);
    EXPECT_EQ(net::dial_context(late, "tcp", ln.addr().to_string()).err,
              gofer::context_errc::deadline_exceeded);
    lcancel();
  });
}

// A dial that succeeds before the context ends is an ordinary connection:
// the context's deadline does not stay on it as a write deadline, and a
// later cancel does not touch it.
TEST(DialContext, ConnectionOutlivesItsContext) {
  gofer::run([] {
    auto [ln, err] = net::listen("tcp4", "127.0.0.1:0");
    ASSERT_FALSE(err);
    EchoServer server(std::move(ln));
    server.start();
    auto [ctx, cancel] = gofer::with_timeout(gofer::background(), 200ms);
    auto [c, derr] = net::dial_context(ctx, "tcp", server.addr());
    ASSERT_FALSE(derr) << derr.message();
    sleep_for(300ms);  // past the context's deadline
    cancel();
    ASSERT_FALSE(c.write("hi").err);
    char buf[2];
    std::size_t got = 0;
    while (got < 2) {
      auto [n, rerr] = c.read(std::span<char>(buf + got, 2 - got));
      ASSERT_FALSE(rerr) << rerr.message();
      got += n;
    }
    // A context that never ends (no watcher at all) dials the same way.
    EXPECT_FALSE(net::dial_context(gofer::background(), "tcp", server.addr()).err);
    server.stop();
  });
}

// A listener whose accept queue is full drops SYNs, so connect hangs; fills
// it and returns the queued connections, which keep it full.
std::vector<net::Conn> fill_accept_queue(const std::string& addr) {
  std::vector<net::Conn> queued;
  for (int i = 0; i < 16; ++i) {
    auto r = net::dial("tcp", addr, 300ms);
    if (r.err) break;
    queued.push_back(std::move(r.value));
  }
  return queued;
}

// Go's DialContext: cancelling interrupts a connect in progress (SYN_SENT),
// which returns context.Canceled long before any timeout.
TEST(DialContext, CancelInterruptsAHangingConnect) {
  gofer::run([] {
    auto [ln, err] = net::listen("tcp4", "127.0.0.1:0", {.backlog = 0});
    ASSERT_FALSE(err);
    auto queued = fill_accept_queue(ln.addr().to_string());
    ASSERT_GE(queued.size(), 1u);
    auto [ctx, cancel] = gofer::with_cancel(gofer::background());
    cancel_after(cancel, 100ms);
    auto start = net::Clock::now();
    auto [c, derr] = net::dial_context(ctx, "tcp", ln.addr().to_string());
    double took = seconds_since(start);
    EXPECT_EQ(derr, gofer::context_errc::canceled) << derr.message();
    EXPECT_FALSE(c);
    EXPECT_GE(took, 0.099);
    EXPECT_LT(took, 0.1 + kSlack);
  });
}

// The context's deadline is the dial's deadline: deadline_exceeded, not the
// net layer's timeout.
TEST(DialContext, DeadlineEndsAHangingConnect) {
  gofer::run([] {
    auto [ln, err] = net::listen("tcp4", "127.0.0.1:0", {.backlog = 0});
    ASSERT_FALSE(err);
    auto queued = fill_accept_queue(ln.addr().to_string());
    ASSERT_GE(queued.size(), 1u);
    auto [ctx, cancel] = gofer::with_timeout(gofer::background(), 200ms);
    auto start = net::Clock::now();
    auto [c, derr] = net::dial_context(ctx, "tcp", ln.addr().to_string());
    double took = seconds_since(start);
    EXPECT_EQ(derr, gofer::context_errc::deadline_exceeded) << derr.message();
    EXPECT_GE(took, 0.199);
    EXPECT_LT(took, 0.2 + kSlack);
    cancel();
  });
}

// A lookup through the stub resolver, with the port applied to what it
// returns: the name dials the listener.
TEST_F(SlowResolver, ResolvedNameIsDialled) {
  gofer::run([] {
    release = true;
    auto [ln, err] = net::listen("tcp4", "127.0.0.1:0");
    ASSERT_FALSE(err);
    auto [ctx, cancel] = gofer::with_timeout(gofer::background(), 10s);
    auto [c, derr] = net::dial_context(ctx, "tcp", "stub.test:" + std::to_string(ln.addr().port()));
    ASSERT_FALSE(derr) << derr.message();
    EXPECT_EQ(c.remote_addr().to_string(), ln.addr().to_string());
    cancel();
    release_and_drain();
  });
}

// Cancelling during a lookup that hangs returns at once with the context's
// error; the lookup is abandoned, not waited for, and finishes later.
TEST_F(SlowResolver, CancelAbandonsAHangingLookup) {
  gofer::run([] {
    auto [ctx, cancel] = gofer::with_cancel(gofer::background());
    cancel_after(cancel, 100ms);
    auto start = net::Clock::now();
    auto [c, derr] = net::dial_context(ctx, "tcp", "slow.test:80");
    double took = seconds_since(start);
    EXPECT_EQ(derr, gofer::context_errc::canceled) << derr.message();
    EXPECT_LT(took, 0.1 + kSlack);
    EXPECT_EQ(net::detail::lookups_in_flight(), 1u);  // still running, abandoned
    release_and_drain();
    EXPECT_EQ(stub_calls.load(), 1);
  });
}

// The deadline of a context ends a hanging lookup with deadline_exceeded;
// plain dial's timeout still says errc::timeout.
TEST_F(SlowResolver, DeadlineEndsAHangingLookup) {
  gofer::run([] {
    auto [ctx, cancel] = gofer::with_timeout(gofer::background(), 150ms);
    EXPECT_EQ(net::dial_context(ctx, "tcp", "slow.test:80").err,
              gofer::context_errc::deadline_exceeded);
    cancel();
    EXPECT_EQ(net::dial("tcp", "slow.test:80", 150ms).err, net::errc::timeout);
    release_and_drain();
  });
}

// What stays behind is bounded: callers asking for a name already being
// looked up share that lookup (one stub call for three dials).
TEST_F(SlowResolver, OneLookupPerNameInFlight) {
  gofer::run([] {
    Latch done(3);
    std::atomic<int> cancelled{0};
    for (int i = 0; i < 3; ++i) {
      gofer::go([&] {
        auto [ctx, cancel] = gofer::with_timeout(gofer::background(), 200ms);
        if (net::dial_context(ctx, "tcp", "same.test:80").err ==
            gofer::context_errc::deadline_exceeded) {
          cancelled.fetch_add(1);
        }
        cancel();
        done.done();
      });
    }
    done.wait();
    EXPECT_EQ(cancelled.load(), 3);
    EXPECT_EQ(stub_calls.load(), 1);
    EXPECT_EQ(net::detail::lookups_in_flight(), 1u);
    release_and_drain();
  });
}

// ... and at most max_lookups() lookups run at all: with every slot held by
// an abandoned lookup, a new name waits for a slot (abandonable too) and
// starts no lookup; once a slot frees, it is looked up.
TEST_F(SlowResolver, LookupsInFlightAreBounded) {
  gofer::run([] {
    net::detail::set_max_lookups(1);
    auto [ctx1, cancel1] = gofer::with_timeout(gofer::background(), 100ms);
    EXPECT_EQ(net::dial_context(ctx1, "tcp", "first.test:80").err,
              gofer::context_errc::deadline_exceeded);
    cancel1();
    auto [ctx2, cancel2] = gofer::with_timeout(gofer::background(), 100ms);
    EXPECT_EQ(net::dial_context(ctx2, "tcp", "second.test:80").err,
              gofer::context_errc::deadline_exceeded);
    cancel2();
    EXPECT_EQ(stub_calls.load(), 1);  // "second" waited for a slot, never started

    auto [ln, err] = net::listen("tcp4", "127.0.0.1:0");
    ASSERT_FALSE(err);
    auto [ctx3, cancel3] = gofer::with_timeout(gofer::background(), 10s);
    gofer::go([] {
      sleep_for(100ms);
      release = true;  // "first" finishes and frees its slot
    });
    auto [c, derr] =
        net::dial_context(ctx3, "tcp", "second.test:" + std::to_string(ln.addr().port()));
    EXPECT_FALSE(derr) << derr.message();
    EXPECT_EQ(stub_calls.load(), 2);
    cancel3();
    release_and_drain();
  });
}

}  // namespace
