// The scheduler's structures: P (processor), M (OS thread), Sched (global).
//
// Concepts (Go's names):
//   G  a goroutine (g.h).
//   M  an OS thread. It runs goroutines only while it holds a P. Its own
//      native stack is its "g0": the scheduler loop, timer callbacks, park
//      commits and the netpoller run there, never on a goroutine's stack.
//   P  a processor: the right to run goroutines, and the per-CPU state that
//      goes with it — a local run queue, a timer heap, free lists of Gs and
//      stacks. There are exactly `procs` Ps.
//
// Concurrency protocol, as in Go's proc.go:
//   * New work (spawn, ready, netpoll) goes on a run queue, then wakep()
//     starts an M with an idle P if there is an idle P and no M is spinning.
//   * A spinning M is one that holds a P and looks for work to steal. At most
//     one M is woken for new work at a time; when a spinning M finds work it
//     stops spinning and, if it was the last spinner, wakes another
//     (reset_spinning). This keeps "there is runnable work" and "some M is
//     looking for it" from both being true with all Ms asleep.
//   * An M that finds no work gives up its P, then — after decrementing
//     nmspinning — looks at every run queue once more (a StoreLoad pair with
//     the submitter's "put on queue; load nmspinning"), so no wake-up is lost
//     between its last look and its sleep (pitfall 2 in docs/design.md).
//   * Then exactly one idle M blocks in the netpoller, with the earliest timer
//     of all Ps as its timeout (a timer of a P that an M holds counts only
//     once overdue by kTimerGraceNs: that M fires it), and takes the P that
//     owns the timer when it wakes; the others sleep on their Note
//     (invariant 5).
//   * Timers fire on the P that owns them (timer.h). Goroutines they ready
//     wake another M only if they leave this one more than it can run next.
//   * While a P is idle with timers, they fire on time although nobody may
//     sleep in the poller (its M took a P and runs goroutines): the Ms that
//     hold Ps fire them at their switches, and a P given up while nobody
//     polls wakes an M, which polls once it finds nothing to do (p_went_idle
//     in sched.cpp). A goroutine that computes without switching still
//     delays them while its M is the only one awake: there is no monitor
//     thread (Go's sysmon).
//
// Lock order: Timer::mu_ → P::timers.mu → Sched::mu. The netpoller takes no
// lock while it blocks. No lock is held across a goroutine switch.
#pragma once

#include <atomic>
#include <cstdint>
#include <mutex>
#include <thread>
#include <vector>

#include "runtime/g.h"
#include "runtime/mstate.h"
#include "runtime/note.h"
#include "runtime/runq.h"
#include "runtime/stack.h"
#include "runtime/timer.h"
#include "runtime/timer_heap.h"

namespace gofer::runtime {

struct M;
struct TraceRing;

// Who owns a P in each status, and who may move it on (the transitions are
// pidleput_locked / pidleget_locked and acquirep / releasep, sched.cpp):
//   idle     in Sched's idle list (pidle), owned by that list: touched only
//            under Sched::mu. → running by the M that takes it off the list
//            (acquirep, right after pidleget_locked).
//   running  held by exactly one M (P::m), which alone touches its local
//            state (run queue tail, free lists, schedtick); other Ms only
//            steal from its run queue and use its timer heap under its lock.
//            → idle by that M (releasep, then pidleput_locked) when it finds
//            no work or enters blocking(), or handed to another M with its
//            work (handoffp → startm → acquirep). Between releasep and the
//            next acquirep or pidleput_locked (P::m null) it belongs to the
//            code that released it.
// (Unlike Go there is no _Psyscall: blocking() gives the P up at once
// rather than letting sysmon retake it.)
enum class PStatus : std::uint8_t { idle, running };

struct P {
  int id = 0;
  PStatus status = PStatus::idle;  // guarded by Sched::mu while idle
  M* m = nullptr;                  // the M that holds it (owner only)
  P* link = nullptr;               // idle list; guarded by Sched::mu
  std::uint32_t schedtick = 0;     // goroutines started on this P (owner only)
  // Mirrors status == idle for readers without Sched::mu (the poller's
  // timeout, timer stealing). seq_cst: see netpoll_wake_if_later.
  std::atomic<bool> idle{true};

  RunQueue runq;
  TimerHeap timers;

  // Free lists, owner only.
  G* gfree = nullptr;
  int gfree_count = 0;
  StackCache stacks;
  std::uint64_t goid_next = 0, goid_end = 0;  // a batch of goroutine ids

  // Goroutines created minus exited on this P (may be negative: a goroutine
  // can exit on another P). Written by the owner, summed by anyone.
  std::atomic<std::int64_t> gcount_delta{0};

  // Statistics for the debug layer (relaxed, written by the owner).
  std::atomic<std::uint64_t> stat_steals{0};

  // Time in the idle list, for the debug layer's busy fraction; guarded by
  // Sched::mu (coarse_nanotime()). idle_since: when it last went idle, 0
  // while an M holds it; idle_ns: its finished idle stretches. A P counts
  // as busy while an M holds it (running, scheduling or spinning), as Go
  // counts a P's idle time.
  std::int64_t idle_since = 0;
  std::int64_t idle_ns = 0;
};

// What a goroutine asks its M to do after it switched out (Go's mcall
// argument): the code that runs on g0 once the goroutine's stack is free.
enum class SwitchReason : std::uint8_t { none, yield, park, exit, blocking_exit };

struct M {
  int id = 0;
  std::thread thread;  // empty for M0 (the thread that called run())
  P* p = nullptr;      // the P it holds, if any
  P* nextp = nullptr;  // P handed to it while asleep
  G* curg = nullptr;   // the goroutine it runs
  bool spinning = false;
  // True while it fires timers (fire_timers in sched.cpp): ready() then
  // leaves the decision to wake another M to the end of the batch.
  bool firing_timers = false;
  M* link = nullptr;  // idle list; guarded by Sched::mu
  Note park;          // sleeps here when idle

  boost::context::detail::fcontext_t g0_context = nullptr;  // where curg switches back to
  EhGlobals g0_eh;

  SwitchReason switch_reason = SwitchReason::none;
  ParkCommit park_commit = nullptr;
  void* park_arg = nullptr;

  std::uint64_t fastrand_state = 0;

  // Mirrors for the debug layer, which reads them from other threads.
  std::atomic<int> p_id{-1};                   // the P it holds, -1: none
  std::atomic<std::uint64_t> running_goid{0};  // 0: on g0
  std::atomic<bool> in_netpoll{false};
  MStateClock state_clock;  // where its time goes (mstate.h)

  // Tracing (trace.h): this M's event ring, taken at its first event, and
  // the fd its goroutine's park() named, for the go_stop event on g0
  // (both owner only).
  TraceRing* trace_ring = nullptr;
  int trace_park_fd = -1;

  void* sigaltstack_mem = nullptr;
#if defined(GOFER_ASAN)
  void* asan_g0_fake_stack = nullptr;
  const void* asan_g0_bottom = nullptr;
  std::size_t asan_g0_size = 0;
#endif
#if defined(GOFER_TSAN)
  void* tsan_g0_fiber = nullptr;
#endif

  std::uint32_t fastrand() noexcept {
    // xorshift64*: cheap randomness for steal order and the canary offset.
    fastrand_state ^= fastrand_state >> 12;
    fastrand_state ^= fastrand_state << 25;
    fastrand_state ^= fastrand_state >> 27;
    return static_cast<std::uint32_t>((fastrand_state * 0x2545F4914F6CDD1DULL) >> 32);
  }
};

struct Sched {
  explicit Sched(int procs, std::size_t stack_size);
  ~Sched();

  int procs;
  std::vector<P*> allp;
  StackAllocator stacks;
  GAllocator gs;

  std::mutex mu;
  // Guarded by mu:
  M* midle = nullptr;
  int nmidle = 0;
  P* pidle = nullptr;
  G* runq_head = nullptr;
  G* runq_tail = nullptr;
  std::vector<M*> allm;
  G* gfree = nullptr;  // global G free list
  int gfree_count = 0;

  // Readable without mu (seq_cst: they take part in the StoreLoad protocols).
  std::atomic<int> npidle{0};
  std::atomic<int> nmspinning{0};
  std::atomic<int> runq_size{0};
  std::atomic<bool> stopping{false};
  std::atomic<std::uint64_t> goid_gen{0};
  std::atomic<std::int64_t> gcount_global{0};  // spawns from threads without a P
  std::atomic<int> mcount{0};

  // The netpoller: whether an M is blocked in it (exactly one may be) and
  // until when it sleeps (0: it is not sleeping, or it is busy).
  std::atomic<bool> poller_taken{false};
  std::atomic<std::int64_t> poll_until{0};
  std::atomic<std::uint64_t> stat_poll_wakeups{0};
  std::atomic<std::uint64_t> stat_thread_wakeups{0};  // idle Ms woken (or started) for a P

  G* main_g = nullptr;
  std::int64_t start_ns = 0;  // coarse_nanotime() when run() began: the Ps' clocks start
};

// The runtime that is running, or nullptr. Set by run() before any M starts.
extern Sched* g_sched;

// The M the calling thread is, or nullptr. Never inlined, and opaque to the
// optimiser: a goroutine may resume on another thread, and a cached
// thread-local address would then be another thread's (invariant 4).
M* current_m() noexcept;

// Scheduler operations used across runtime files.
void schedule(M* m);  // g0 loop of an M that holds a P; returns at shutdown
void wakep();
void runq_put(P* p, G* g, bool next);
void globrunq_put_batch_locked(G* head, G* tail, int n);
void inject_list(G* head, int n);  // makes a list of runnable Gs run soon
G* gfget(P* p);
void gfput(P* p, G* g);
// The timers of a P that an M holds are that M's to fire; an M with nothing
// else to do (or the poller) takes them over only once they are this late,
// which happens when the M is stuck in one long goroutine.
constexpr std::int64_t kTimerGraceNs = 1'000'000;
// The earliest `when` the poller must wake for (0: none), and in *owner the
// P whose timer it is.
std::int64_t earliest_timer(P** owner = nullptr) noexcept;
void netpoll_wake_if_later(std::int64_t when) noexcept;
// Timer::reset() armed a timer at `when` in p's heap.
void netpoll_timer_added(P* p, std::int64_t when) noexcept;

// Switches from the running goroutine to its M's g0 with `reason`. Returns
// when the goroutine is resumed (on this or another M).
void switch_to_g0(SwitchReason reason);

}  // namespace gofer::runtime
