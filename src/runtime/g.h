// G: a goroutine.
//
// A G is a small descriptor; its stack is attached when it first runs and
// detached when it exits, so a spawned goroutine that has not run yet costs
// only its G (spawning 1,000,000 goroutines does not map 1,000,000 stacks).
// Gs are allocated in chunks and never freed while the runtime runs: a dead G
// goes to a free list and is reused, so a pointer to a G stays valid (the
// goroutine dump walks all chunks, and a stale wake-up finds a G whose status
// says it is not waiting — a fatal error, not a use-after-free).
//
// Status (Go's _Grunnable, _Grunning, …). Who owns the G in each status and
// who may move it on:
//   idle      in a free list; owned by the free list's P (or the global list).
//             → runnable by spawn().
//   runnable  in exactly one run queue (or about to be put in one by the
//             code that made it runnable); owned by that queue.
//             → running by the M that took it off the queue.
//   running   on exactly one M, which owns it.
//             → runnable by yield() (on that M's g0, after the switch),
//             → waiting by park() (on g0, after the switch, before commit),
//             → syscall by enter_blocking(), → dead when its function returns.
//   waiting   published in a wait structure; owned by whoever takes it out of
//             it. → runnable by ready() (exactly once per park), or back to
//             running when park's commit declines.
//   syscall   its M runs a blocking() call without a P. → running again.
//   dead      its stack is being released on g0. → idle.
// All transitions go through cas_status(), which aborts on an illegal one
// (invariant 1 in docs/design.md: a goroutine runs on at most one M; each wake-up resumes it
// at most once).
#pragma once

#include <boost/context/detail/fcontext.hpp>

#include <atomic>
#include <cstdint>

#include "gofer/detail/task.h"
#include "runtime/park.h"
#include "runtime/stack.h"

namespace gofer::runtime {

enum class GStatus : std::uint32_t { idle, runnable, running, waiting, syscall, dead };
const char* to_string(GStatus status) noexcept;

// The C++ runtime keeps the caught/uncaught exception state per thread; a
// goroutine that parks inside a catch block and resumes on another thread
// must take its state along (pitfall 9 in docs/design.md). Layout of libsupc++'s
// and libc++abi's __cxa_eh_globals.
struct EhGlobals {
  void* caught_exceptions = nullptr;
  unsigned int uncaught_exceptions = 0;
};

struct G {
  boost::context::detail::fcontext_t context =
      nullptr;                 // where it resumes; valid while not running
  Stack stack;                 // none until it first runs
  std::size_t stack_size = 0;  // requested; 0: default
  detail::Task task;

  std::atomic<GStatus> status{GStatus::idle};
  std::uint64_t id = 0;
  G* schedlink = nullptr;  // link in the global run queue or a free list

  // What it waits for and since when (nanotime); written by its own M before
  // park, read racily by the goroutine dump.
  std::atomic<WaitReason> wait_reason{WaitReason::none};
  std::atomic<std::int64_t> status_since{0};
  void* creator_pc = nullptr;  // return address of the go() call that made it
  std::uint64_t parent_id = 0;

  EhGlobals eh;
  std::uint32_t switches = 0;  // switch-outs since spawn (owner only; paces stack checks)

  // Tracing: when it last became runnable (nanotime; 0: not stamped). Written
  // by whoever makes it runnable, before it is queued; read by the M that
  // runs it (trace.cpp).
  std::int64_t trace_runnable_ns = 0;
  // Sampled tracing: true while this goroutine works on a unit of work (an
  // http request) that was not sampled, so its events are not recorded. Written by the
  // goroutine itself (trace_sample_work), read by any M that records an
  // event about it.
  std::atomic<bool> trace_unsampled{false};

#if defined(GOFER_ASAN)
  void* asan_fake_stack = nullptr;
#endif
#if defined(GOFER_TSAN)
  void* tsan_fiber = nullptr;
  // True from the moment g switches out until its M has left g's TSan fiber
  // (see execute() in switch.cpp); another M must not enter the fiber before.
  std::atomic<bool> tsan_busy{false};
#endif
};

// Moves g from `from` to `to`; a G in any other status is a fatal error.
void cas_status(G* g, GStatus from, GStatus to);

// Allocates Gs in chunks and keeps every chunk for the runtime's lifetime.
class GAllocator {
 public:
  GAllocator() = default;
  ~GAllocator();
  GAllocator(const GAllocator&) = delete;
  GAllocator& operator=(const GAllocator&) = delete;

  // A batch of fresh idle Gs linked through schedlink.
  G* allocate_batch(int* count);

  // Calls f(g) for every G ever allocated (any status). f must not allocate Gs.
  template <class F>
  void for_each(F&& f) {
    std::lock_guard lock(mu_);
    for (G* chunk : chunks_) {
      for (int i = 0; i < kChunk; ++i) f(&chunk[i]);
    }
  }

 private:
  static constexpr int kChunk = 128;
  std::mutex mu_;
  std::vector<G*> chunks_;  // guarded by mu_
};

}  // namespace gofer::runtime
