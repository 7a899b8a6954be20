#include "signals.h"

#include <pthread.h>

#include "gofer/runtime.h"

namespace gofer::app {

SignalRelay::SignalRelay(std::initializer_list<int> signals) {
  sigemptyset(&set_);
  for (int s : signals) sigaddset(&set_, s);
  wake_signal_ = *signals.begin();
  pthread_sigmask(SIG_BLOCK, &set_, nullptr);
}

SignalRelay::~SignalRelay() {
  stop();
}

void SignalRelay::start(std::function<void(int)> deliver) {
  thread_ = std::thread([this, deliver = std::move(deliver)] {
    for (;;) {
      int signo = 0;
      if (sigwait(&set_, &signo) != 0) continue;
      if (stopping_.load(std::memory_order_acquire)) return;
      gofer::go([deliver, signo] { deliver(signo); });
    }
  });
}

void SignalRelay::stop() {
  if (!thread_.joinable()) return;
  stopping_.store(true, std::memory_order_release);
  // Wakes the sigwait with a signal it takes (and drops, seeing stopping_).
  pthread_kill(thread_.native_handle(), wake_signal_);
  thread_.join();
}

const char* signal_name(int signo) {
  switch (signo) {
    case SIGINT:
      return "SIGINT";
    case SIGTERM:
      return "SIGTERM";
    case SIGHUP:
      return "SIGHUP";
    case SIGUSR1:
      return "SIGUSR1";
    case SIGUSR2:
      return "SIGUSR2";
    default:
      return "signal";
  }
}

}  // namespace gofer::app
