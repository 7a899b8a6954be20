// Go's os/signal: incoming signals delivered on a channel, so that a
// graceful shutdown is a select, not a sigwait thread of one's own.
//
// ```cpp
// gofer::run([] {
//   auto sigs = gofer::make_chan<int>(1);
//   gofer::signal::notify(sigs, SIGTERM, SIGINT);
//   // ... start the work ...
//   gofer::signal::stop(sigs);  // the default action again (here: before any signal came)
// });
// ```
//
// The same with a context that ends at the first signal (Go's
// signal.NotifyContext):
//
// ```cpp
// auto [ctx, stop] = gofer::signal::notify_context(gofer::background(), SIGUSR2);
// // ... ctx.done() is closed at the first SIGUSR2 ...
// stop();  // ends the relaying (and cancels ctx)
// ```
//
// How it works (Go's runtime/sigqueue.go, in our terms): the first notify()
// of a signal installs a handler for it. The handler does only what a
// signal handler may: it sets the signal's bit in a pending mask (an
// atomic word) and writes a byte to a pipe. A thread of the package's own
// waits on that pipe, takes the pending mask and, for each signal, makes a
// non-blocking send to every channel registered for it. Rejected: waiting on
// the pipe with a goroutine through the netpoller (notify may be called
// before gofer::run and outlive it; a thread needs no runtime); blocking
// the signals and sigwait (a mask set now does not reach threads already
// running, such as the runtime's Ms).
//
// As in Go:
//   - the send never blocks: a signal that finds the channel's buffer full
//     is dropped for that channel, so give it room (a buffer of 1 is enough
//     for "shut down once"); signals that arrive close together may come as
//     one (the pending mask coalesces them, as Go's does).
//   - several notify() calls for one channel add up; one signal reaches
//     every channel registered for it.
//   - stop(c) (Go's Stop) ends the relaying to c; when it returns, c gets
//     nothing more. A signal that no channel asks for any longer gets back
//     the action it had before the first notify() (reset() does that at
//     once for the signals it names; ignore() sets SIG_IGN).
// Unlike Go:
//   - signals are plain ints (SIGTERM), and notify() needs at least one: Go's
//     "all signals" form is not offered (the synchronous signals, SIGSEGV and
//     co., belong to the runtime and the sanitizers).
//   - notify() of SIGKILL, SIGSTOP, SIGSEGV, SIGBUS, SIGFPE, SIGILL or an int
//     that is no signal throws std::invalid_argument (misuse: error.h).
//   - a channel that a signal may still reach must be stop()ped before the
//     gofer::run() whose goroutines receive from it returns.
#pragma once

#include <concepts>
#include <functional>
#include <initializer_list>
#include <string>

#include "gofer/chan.h"
#include "gofer/context.h"

namespace gofer::signal {

// Relays `signals` to `c` (Go's signal.Notify).
void notify(const SendChan<int>& c, std::initializer_list<int> signals);
template <std::same_as<int>... Signals>
void notify(const SendChan<int>& c, Signals... signals) {
  notify(c, {signals...});
}

// Ends the relaying to `c` (Go's signal.Stop). Idempotent.
void stop(const SendChan<int>& c);

// Stops relaying `signals` to any channel and gives them back the action
// they had before the first notify() (Go's signal.Reset).
void reset(std::initializer_list<int> signals);
// Ignores `signals` (SIG_IGN), ending their relaying (Go's signal.Ignore).
void ignore(std::initializer_list<int> signals);

// What notify_context returns: auto [ctx, stop] = notify_context(…).
struct SignalContext {
  Context ctx;
  // Ends the relaying (as reset() would for signals nobody else asks for)
  // and cancels ctx. Idempotent; call it when done, as Go's stop.
  std::function<void()> stop;
};

// A child of `parent` cancelled (context_errc::canceled) when one of
// `signals` arrives (Go's signal.NotifyContext). After the first signal
// the relaying goes on until stop(): a second Ctrl-C does not kill the
// process until then (Go's behaviour too).
SignalContext notify_context(const Context& parent, std::initializer_list<int> signals);
template <std::same_as<int>... Signals>
SignalContext notify_context(const Context& parent, Signals... signals) {
  return notify_context(parent, {signals...});
}

// The signal's name as Go prints it: "interrupt", "terminated", "hangup",
// "user defined signal 1", … ("signal 42" when it has none).
std::string name(int sig);

}  // namespace gofer::signal
