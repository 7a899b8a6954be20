// gofer::signal: Go's os/signal behaviours, checked with real signals sent
// to this process (kill(getpid(), …): any thread may take them, as in a
// server that gets SIGTERM from its supervisor).
#include "gofer/signal.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <chrono>

#include "gofer/context.h"
#include "gofer/runtime.h"
#include "gofer/time.h"

namespace {

using namespace std::chrono_literals;

// The next signal on `c`, or 0 if none came within `limit` (a bound on a
// wait, not a timing assertion).
int receive(const gofer::Chan<int>& c, gofer::Duration limit = 10s) {
  int got = 0;
  gofer::select(gofer::recv_case(c, [&](int sig) { got = sig; }),
                gofer::recv_case(gofer::after(limit)));
  return got;
}

void send_to_self(int sig) {
  ASSERT_EQ(::kill(::getpid(), sig), 0);
}

bool handler_is_default(int sig) {
  struct sigaction sa {};
  ::sigaction(sig, nullptr, &sa);
  return sa.sa_handler == SIG_DFL;
}

// Go: Notify(c, sig) relays sig to c.
TEST(Signal, NotifyDeliversOnTheChannel) {
  gofer::run([] {
    auto c = gofer::make_chan<int>(1);
    gofer::signal::notify(c, SIGUSR1);
    send_to_self(SIGUSR1);
    EXPECT_EQ(receive(c), SIGUSR1);
    gofer::signal::stop(c);
  });
}

// Go: Notify called twice for one channel adds the signals; one signal goes
// to every channel registered for it.
TEST(Signal, NotifyAddsUpAndReachesEveryChannel) {
  gofer::run([] {
    auto a = gofer::make_chan<int>(4);
    auto b = gofer::make_chan<int>(4);
    gofer::signal::notify(a, SIGUSR1);
    gofer::signal::notify(a, SIGUSR2);
    gofer::signal::notify(b, SIGUSR2);
    send_to_self(SIGUSR1);
    EXPECT_EQ(receive(a), SIGUSR1);
    send_to_self(SIGUSR2);
    EXPECT_EQ(receive(a), SIGUSR2);
    EXPECT_EQ(receive(b), SIGUSR2);
    EXPECT_EQ(b.len(), 0u);  // SIGUSR1 did not reach b
    gofer::signal::stop(a);
    gofer::signal::stop(b);
  });
}

// Go: "Package signal will not block sending to c": a full channel loses
// the signal, the relay goes on for the others.
TEST(Signal, AFullChannelDropsInsteadOfBlocking) {
  gofer::run([] {
    auto full = gofer::make_chan<int>(1);
    auto other = gofer::make_chan<int>(1);
    ASSERT_EQ(full.try_send(0), gofer::SendStatus::sent);
    gofer::signal::notify(full, SIGUSR1);
    gofer::signal::notify(other, SIGUSR1);
    send_to_self(SIGUSR1);
    EXPECT_EQ(receive(other), SIGUSR1);
    EXPECT_EQ(full.len(), 1u);
    EXPECT_EQ(full.try_recv().value, 0);  // still the value put there before
    gofer::signal::stop(full);
    gofer::signal::stop(other);
  });
}

// Go: after Stop(c) returns, c receives no more signals, and a signal that
// nobody asks for gets its default action back (like Reset).
TEST(Signal, StopEndsTheRelayAndRestoresTheDisposition) {
  gofer::run([] {
    ASSERT_TRUE(handler_is_default(SIGUSR2));
    auto c = gofer::make_chan<int>(4);
    auto keep = gofer::make_chan<int>(4);
    gofer::signal::notify(c, SIGUSR2);
    gofer::signal::notify(keep, SIGUSR2);
    EXPECT_FALSE(handler_is_default(SIGUSR2));
    gofer::signal::stop(c);
    EXPECT_FALSE(handler_is_default(SIGUSR2));  // `keep` still wants it
    send_to_self(SIGUSR2);
    EXPECT_EQ(receive(keep), SIGUSR2);
    EXPECT_EQ(c.len(), 0u);
    gofer::signal::stop(keep);
    EXPECT_TRUE(handler_is_default(SIGUSR2));
    gofer::signal::stop(keep);  // idempotent
  });
}

// Go: Ignore sets SIG_IGN and ends the relaying; Reset gives the default back.
TEST(Signal, IgnoreAndReset) {
  gofer::run([] {
    auto c = gofer::make_chan<int>(1);
    gofer::signal::notify(c, SIGUSR1);
    gofer::signal::ignore({SIGUSR1});
    struct sigaction sa {};
    ::sigaction(SIGUSR1, nullptr, &sa);
    EXPECT_EQ(sa.sa_handler, SIG_IGN);
    send_to_self(SIGUSR1);  // ignored: the process lives on, nothing arrives
    EXPECT_EQ(receive(c, 50ms), 0);
    gofer::signal::reset({SIGUSR1});  // undoes Ignore too, as in Go
    EXPECT_TRUE(handler_is_default(SIGUSR1));
  });
}

// Go's NotifyContext: the context is cancelled by the signal; stop()
// unregisters.
TEST(Signal, NotifyContextIsCancelledByTheSignal) {
  gofer::run([] {
    auto [ctx, stop] = gofer::signal::notify_context(gofer::background(), SIGUSR1);
    EXPECT_FALSE(ctx.err());
    send_to_self(SIGUSR1);
    bool done = false;
    gofer::select(gofer::recv_case(ctx.done(), [&] { done = true; }),
                  gofer::recv_case(gofer::after(10s)));
    EXPECT_TRUE(done);
    EXPECT_EQ(ctx.err(), gofer::context_errc::canceled);
    stop();
    EXPECT_TRUE(handler_is_default(SIGUSR1));
    stop();  // idempotent
  });
}

// Relaying needs no goroutine: notify before gofer::run, receive inside.
TEST(Signal, NotifyOutsideTheRuntime) {
  auto c = gofer::make_chan<int>(1);
  gofer::signal::notify(c, SIGUSR2);
  send_to_self(SIGUSR2);
  gofer::run([&] { EXPECT_EQ(receive(c), SIGUSR2); });
  gofer::signal::stop(c);
}

// Misuse is an exception before anything changed (error.h).
TEST(Signal, MisuseThrows) {
  auto c = gofer::make_chan<int>(1);
  EXPECT_THROW(gofer::signal::notify(c, SIGKILL), std::invalid_argument);
  EXPECT_THROW(gofer::signal::notify(c, SIGSEGV), std::invalid_argument);
  EXPECT_THROW(gofer::signal::notify(c, 0), std::invalid_argument);
  EXPECT_THROW(gofer::signal::notify(gofer::Chan<int>(), SIGUSR1), std::invalid_argument);
  EXPECT_TRUE(handler_is_default(SIGUSR1));
}

// Go's Signal.String().
TEST(Signal, NamesAsGoPrintsThem) {
  EXPECT_EQ(gofer::signal::name(SIGINT), "interrupt");
  EXPECT_EQ(gofer::signal::name(SIGTERM), "terminated");
  EXPECT_EQ(gofer::signal::name(SIGHUP), "hangup");
  EXPECT_EQ(gofer::signal::name(SIGUSR1), "user defined signal 1");
  EXPECT_EQ(gofer::signal::name(99), "signal 99");
}

}  // namespace
