// os/signal for gofer (include/gofer/signal.h has the design): the
// handler, the relay thread and the registrations.
//
// Who touches what:
//   the handler      pending (fetch_or), the pipe's write end. Nothing else:
//                    it may run on any thread, between any two instructions.
//   the relay thread the pipe's read end, pending (exchange), and the
//                    registrations under mu while it sends.
//   notify/stop/...  the registrations and the signals' dispositions under mu.
// Because the relay sends under mu, a stop() that returned (it took mu)
// is never followed by a send to the channel it removed.
#include "gofer/signal.h"

#include <fcntl.h>
#include <pthread.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <csignal>
#include <cstdint>
#include <cstring>
#include <mutex>
#include <stdexcept>
#include <string>
#include <system_error>
#include <thread>
#include <vector>

namespace gofer::signal {
namespace {

constexpr int kMaxSignal = 64;  // Linux: 1..64 (SIGRTMAX); one bit each in `pending`

std::uint64_t bit(int sig) {
  return std::uint64_t{1} << (sig - 1);
}

// A channel, or the cancel of a notify_context, that signals go to.
struct Registration {
  SendChan<int> chan;  // nil for a context
  CancelFunc cancel;   // set for a context
  std::uint64_t id = 0;
  std::uint64_t signals = 0;  // bit(sig) for each signal relayed to it
};

struct State {
  std::mutex mu;
  std::vector<Registration> registrations;  // guarded by mu
  std::uint64_t next_id = 1;                // guarded by mu
  // The disposition each signal had before this package first changed it
  // (kept from then on), and whether our handler is installed now
  // (guarded by mu).
  struct sigaction saved[kMaxSignal + 1] = {};
  bool has_saved[kMaxSignal + 1] = {};
  bool installed[kMaxSignal + 1] = {};
  bool started = false;  // guarded by mu: the pipe and the relay thread exist
};

State& state() {
  static auto* s = new State;  // never destroyed: the relay thread outlives main()
  return *s;
}

// Written by the handler, read by the relay thread. seq_cst on both sides
// (a signal is rare): the bit set before the byte is written is seen by
// the exchange made after the byte is read.
std::atomic<std::uint64_t> pending{0};
// Set once, under mu, before the first handler is installed (and so before
// any handler can read it).
std::atomic<int> wake_fd{-1};

extern "C" void on_signal(int sig) {
  const int saved_errno = errno;
  pending.fetch_or(bit(sig));
  const char byte = 0;
  // A full pipe already holds a wake-up; the bit is set either way.
  [[maybe_unused]] ssize_t n = ::write(wake_fd.load(std::memory_order_relaxed), &byte, 1);
  errno = saved_errno;
}

void relay_locked(State& s, int sig) {
  for (Registration& r : s.registrations) {
    if ((r.signals & bit(sig)) == 0) continue;
    if (r.chan) {
      (void)r.chan.try_send(sig);  // full or closed: dropped for this channel, as in Go
    } else {
      r.cancel();
    }
  }
}

void relay_loop(int read_fd) {
  State& s = state();
  char buf[64];
  for (;;) {
    ssize_t n = ::read(read_fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;  // cannot happen: nobody closes the write end
    std::uint64_t got = pending.exchange(0);
    if (got == 0) continue;
    std::lock_guard lock(s.mu);
    for (int sig = 1; sig <= kMaxSignal; ++sig) {
      if (got & bit(sig)) relay_locked(s, sig);
    }
  }
}

void start_locked(State& s) {
  if (s.started) return;
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) {
    throw std::system_error(errno, std::system_category(), "signal: pipe2");
  }
  // The handler must never block: a full pipe means a wake-up is pending.
  ::fcntl(fds[1], F_SETFL, ::fcntl(fds[1], F_GETFL) | O_NONBLOCK);
  wake_fd.store(fds[1], std::memory_order_relaxed);
  // The thread takes no signal itself (none interrupts its read), so it
  // starts with every signal blocked, and the caller's mask is restored.
  sigset_t all, old;
  sigfillset(&all);
  pthread_sigmask(SIG_SETMASK, &all, &old);
  std::thread(relay_loop, fds[0]).detach();
  pthread_sigmask(SIG_SETMASK, &old, nullptr);
  s.started = true;
}

void check_signal(int sig) {
  if (sig < 1 || sig > kMaxSignal || sig == SIGKILL || sig == SIGSTOP || sig == SIGSEGV ||
      sig == SIGBUS || sig == SIGFPE || sig == SIGILL) {
    throw std::invalid_argument("signal: cannot relay signal " + std::to_string(sig));
  }
}

void save_locked(State& s, int sig) {
  if (s.has_saved[sig]) return;
  ::sigaction(sig, nullptr, &s.saved[sig]);
  s.has_saved[sig] = true;
}

void install_locked(State& s, int sig) {
  if (s.installed[sig]) return;
  save_locked(s, sig);
  struct sigaction sa {};
  sa.sa_handler = on_signal;
  sigfillset(&sa.sa_mask);
  // SA_ONSTACK: a goroutine's stack may be nearly full when the signal
  // comes; the runtime's threads have an alternate stack for that.
  sa.sa_flags = SA_RESTART | SA_ONSTACK;
  ::sigaction(sig, &sa, nullptr);
  s.installed[sig] = true;
}

// Gives `sig` back its old disposition if no registration asks for it.
void release_if_unused_locked(State& s, int sig) {
  if (!s.installed[sig]) return;
  for (const Registration& r : s.registrations) {
    if (r.signals & bit(sig)) return;
  }
  ::sigaction(sig, &s.saved[sig], nullptr);
  s.installed[sig] = false;
}

void remove_locked(State& s, std::vector<Registration>::iterator it) {
  std::uint64_t had = it->signals;
  s.registrations.erase(it);
  for (int sig = 1; sig <= kMaxSignal; ++sig) {
    if (had & bit(sig)) release_if_unused_locked(s, sig);
  }
}

std::uint64_t add_locked(State& s, Registration r, std::initializer_list<int> signals) {
  for (int sig : signals) check_signal(sig);
  start_locked(s);
  for (int sig : signals) r.signals |= bit(sig);
  for (int sig : signals) install_locked(s, sig);
  if (r.chan) {
    for (Registration& existing : s.registrations) {
      if (existing.chan == r.chan) {
        existing.signals |= r.signals;
        return existing.id;
      }
    }
  }
  r.id = s.next_id++;
  s.registrations.push_back(std::move(r));
  return s.registrations.back().id;
}

// Stops relaying `signals` to anyone; they get `action` instead (nullptr:
// the disposition they had before this package first changed them).
void drop_signals(std::initializer_list<int> signals, void (*action)(int)) {
  if (action != nullptr) {
    for (int sig : signals) check_signal(sig);
  }
  State& s = state();
  std::lock_guard lock(s.mu);
  std::uint64_t mask = 0;
  for (int sig : signals) {
    if (sig >= 1 && sig <= kMaxSignal) mask |= bit(sig);
  }
  for (Registration& r : s.registrations) r.signals &= ~mask;
  std::erase_if(s.registrations, [](const Registration& r) { return r.signals == 0; });
  for (int sig = 1; sig <= kMaxSignal; ++sig) {
    if ((mask & bit(sig)) == 0) continue;
    s.installed[sig] = false;
    if (action != nullptr) {
      save_locked(s, sig);
      struct sigaction sa {};
      sa.sa_handler = action;
      ::sigaction(sig, &sa, nullptr);
    } else if (s.has_saved[sig]) {
      ::sigaction(sig, &s.saved[sig], nullptr);
    }
  }
}

}  // namespace

void notify(const SendChan<int>& c, std::initializer_list<int> signals) {
  if (!c) throw std::invalid_argument("signal: notify using nil channel");
  State& s = state();
  std::lock_guard lock(s.mu);
  Registration r;
  r.chan = c;
  (void)add_locked(s, std::move(r), signals);
}

void stop(const SendChan<int>& c) {
  State& s = state();
  std::lock_guard lock(s.mu);
  auto it = std::find_if(s.registrations.begin(), s.registrations.end(),
                         [&](const Registration& r) { return r.chan && r.chan == c; });
  if (it != s.registrations.end()) remove_locked(s, it);
}

void reset(std::initializer_list<int> signals) {
  drop_signals(signals, nullptr);
}

void ignore(std::initializer_list<int> signals) {
  drop_signals(signals, SIG_IGN);
}

SignalContext notify_context(const Context& parent, std::initializer_list<int> signals) {
  // Named, not a structured binding: clang 14 cannot capture a binding.
  WithCancel made = with_cancel(parent);
  Context ctx = std::move(made.ctx);
  CancelFunc cancel = std::move(made.cancel);
  State& s = state();
  std::uint64_t id;
  {
    std::lock_guard lock(s.mu);
    Registration r;
    r.cancel = cancel;
    id = add_locked(s, std::move(r), signals);
  }
  auto stop = [id, cancel] {
    State& st = state();
    {
      std::lock_guard lock(st.mu);
      auto it = std::find_if(st.registrations.begin(), st.registrations.end(),
                             [&](const Registration& r) { return r.id == id; });
      if (it != st.registrations.end()) remove_locked(st, it);
    }
    cancel();
  };
  return {std::move(ctx), std::move(stop)};
}

std::string name(int sig) {
  const char* text = sig >= 1 && sig <= kMaxSignal ? ::sigdescr_np(sig) : nullptr;
  if (text == nullptr) return "signal " + std::to_string(sig);
  std::string out = text;
  if (!out.empty() && out[0] >= 'A' && out[0] <= 'Z')
    out[0] = static_cast<char>(out[0] - 'A' + 'a');
  return out;
}

}  // namespace gofer::signal
