// gofer runtime: goroutines on an M:N scheduler (Go's G/M/P model).
//
//   gofer::run([] {
//     gofer::go([] { ... });      // a goroutine: plain blocking code on its own stack
//   });                           // returns when the main goroutine returns
//
// A goroutine is cheap (a small descriptor; its stack is taken from a pool
// when it first runs), so a server can give one to every connection.
// Goroutines are cooperative: they switch at blocking points (channel, sync,
// sleep, network I/O) and at yield(). Unlike Go there is no asynchronous
// preemption: a goroutine that loops forever without blocking keeps its P.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <new>
#include <type_traits>
#include <utility>

#include "gofer/detail/task.h"

namespace gofer {

struct Config {
  // Number of Ps (processors that run goroutines at once), like GOMAXPROCS.
  // 0: the GOFER_PROCS environment variable if set, else the hardware threads.
  int procs = 0;
  // Default stack size of a goroutine; 0: 256 KiB. Stacks are committed
  // lazily, so a goroutine costs only the pages its stack touches.
  std::size_t stack_size = 0;
};

// Starts the runtime, runs `main` as the main goroutine and returns when it
// returns, as Go's main does. Goroutines still alive then are abandoned
// (their stacks are released without unwinding): join what you start.
// Must not be called from a goroutine.
void run(std::function<void()> main, Config config = {});

// Registers f to run on the main goroutine once `main` has returned,
// before run() returns: the last registered runs first. It is for state
// that belongs to one run of the runtime (timers, pooled connections) and
// that a library keeps in a global, such as the HTTP client's default
// transport — gofer::run may be called again in the same process, unlike
// Go's main. Goroutines still running meanwhile are not stopped. Call it
// while the runtime runs.
void at_main_exit(std::function<void()> f);

// True while the caller runs on a goroutine.
bool in_goroutine() noexcept;

// Per-spawn options.
struct GoOptions {
  std::size_t stack_size = 0;  // 0: the runtime's default
};

namespace detail {
void spawn(Task task, const GoOptions& options, void* creator_pc);
}

// Starts f() on a new goroutine. Callable from a goroutine or, while the
// runtime runs, from any thread.
//
// Never inlined: the return address is what the goroutine dump names as
// "created by"; inlined, it would be the return address of the function
// that called go(), and name that function's caller instead.
template <class F>
[[gnu::noinline]] void go(F&& f) {
  detail::spawn(detail::Task(std::forward<F>(f)), GoOptions{}, __builtin_return_address(0));
}
template <class F>
[[gnu::noinline]] void go(const GoOptions& options, F&& f) {
  detail::spawn(detail::Task(std::forward<F>(f)), options, __builtin_return_address(0));
}

// Lets other runnable goroutines run (Go's runtime.Gosched). The caller is
// put on the global run queue, so a goroutine that yields in a loop cannot
// starve others.
void yield();

// The current goroutine's id (1 is the main goroutine); 0 outside goroutines.
std::uint64_t this_goroutine_id() noexcept;

// Goroutines that exist now (runnable, running or waiting).
std::size_t num_goroutines() noexcept;

// Number of Ps of the running runtime.
int procs() noexcept;

namespace detail {
void enter_blocking();
void exit_blocking();
}  // namespace detail

// Runs f() — a call that may block its thread for long (file I/O,
// getaddrinfo) — without stalling the other goroutines of this P: the P is
// handed to another thread for the duration, as Go does around syscalls.
template <class F>
decltype(auto) blocking(F&& f) {
  struct Exit {
    ~Exit() { detail::exit_blocking(); }
  };
  detail::enter_blocking();
  Exit exit;
  return std::forward<F>(f)();
}

}  // namespace gofer
