// Signals as goroutine events: the signals a server reacts to are blocked in
// every thread (block() before the runtime starts: its threads inherit the
// mask), and one thread of ours takes them with sigwait and hands each to a
// callback on a new goroutine, where it may park, lock or send on a channel
// like any goroutine (no async-signal-safety to mind).
//
// (When the library has channel-delivered signals of its own, Go's
// signal.Notify, this is what they replace.)
#pragma once

#include <signal.h>

#include <functional>
#include <initializer_list>
#include <thread>

namespace gofer::app {

class SignalRelay {
 public:
  // Blocks `signals` in the calling thread, and so in every thread it starts
  // from then on. Call in main(), before gofer::run.
  explicit SignalRelay(std::initializer_list<int> signals);
  ~SignalRelay();  // stop()
  SignalRelay(const SignalRelay&) = delete;
  SignalRelay& operator=(const SignalRelay&) = delete;

  // Starts the thread; each signal taken runs `deliver(signo)` on a new
  // goroutine. Call while the runtime runs.
  void start(std::function<void(int)> deliver);
  // Ends the thread (a signal still pending stays pending, blocked).
  void stop();

 private:
  sigset_t set_;
  int wake_signal_ = 0;  // one of the set: stop() sends it to the thread
  std::thread thread_;
  std::atomic<bool> stopping_{false};
};

// "SIGTERM", "SIGUSR2", …
const char* signal_name(int signo);

}  // namespace gofer::app
