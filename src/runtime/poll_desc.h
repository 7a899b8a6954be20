// PollDesc: the runtime's per-fd readiness state (Go's pollDesc), shared by
// the netpoller, which reports readiness, and the goroutines that wait for it.
//
// Each direction (read, write) has a semaphore word `rg`/`wg`:
//   kPdNil   nothing happened and nobody waits
//   kPdReady readiness arrived and nobody consumed it yet
//   kPdWait  a goroutine is about to park (it has not committed yet)
//   G*       that goroutine is parked
// It changes only by atomic exchange/CAS (invariant 2 in docs/design.md): a goroutine's failed
// read (EAGAIN) is followed by wait(), which consumes kPdReady if readiness
// arrived in between, so no wake-up is lost. Transitions:
//   waiter:  nil→wait (about to park), wait→G (commit, on g0), ready→nil
//            (consume), G/ready/nil→nil (after waking up)
//   poller:  nil/wait/G→ready, readying the G it replaced
//   close/deadline: wait/G→nil, readying the G; the waiter then sees the
//            error flags.
//
// PollDescs are type-stable: allocated in chunks, reused through a free list
// and never freed while the runtime runs, so an event that arrives after
// close finds a live PollDesc — whose `seq` no longer matches the tag of
// the event (pitfall 3: epoll keys interest on the file, not the fd number).
#pragma once

#include <atomic>
#include <cstdint>
#include <mutex>

#include "gofer/detail/task.h"
#include "runtime/park.h"
#include "runtime/timer.h"

namespace gofer::runtime {

struct G;

constexpr std::uintptr_t kPdNil = 0;
constexpr std::uintptr_t kPdReady = 1;
constexpr std::uintptr_t kPdWait = 2;

enum class PollError : int { none = 0, closing = 1, timeout = 2 };

struct PollDesc {
  PollDesc();

  std::uint32_t index = 0;            // in the PollDesc table; fixed for life
  std::atomic<std::uint32_t> seq{0};  // bumped at every open and close
  // Written under mu at open and recycle; the trace reads it from the
  // poller without mu (relaxed: a stale value only mislabels one event).
  std::atomic<int> fd{-1};

  std::atomic<std::uintptr_t> rg{kPdNil};
  std::atomic<std::uintptr_t> wg{kPdNil};

  std::mutex mu;  // guards the deadlines and closing's writers
  std::atomic<bool> closing{false};
  // Deadlines (nanotime), 0: none; < 0: expired. Written under mu; read by
  // waiters without it.
  std::atomic<std::int64_t> rd{0};
  std::atomic<std::int64_t> wd{0};
  std::uint64_t rseq = 0, wseq = 0;  // guarded by mu: arming of rt/wt
  // When rt/wt will fire (0: not armed); guarded by mu. A deadline moved
  // later leaves its timer where it is: it fires early, finds rd/wd later
  // than now and re-arms itself. A keep-alive connection pushes its idle
  // deadline forward at every request; this makes that one store instead
  // of a timer-heap update (two locks and a sift) per request.
  std::int64_t rarmed = 0, warmed = 0;
  Timer rt;
  Timer wt;

  // Readiness reports by the poller, for statistics and the debug layer.
  std::atomic<std::uint32_t> last_events{0};
  // The poller saw the peer's FIN, a hang-up or an error since the fd was
  // opened. Set before the readiness it comes with is published, so a
  // reader that consumed that readiness sees it. Lets a reader know that
  // "my last read was short" does not mean "nothing more will come without
  // a new report": an EOF already reported brings no further one.
  std::atomic<bool> read_hup{false};

  PollDesc* link = nullptr;  // free list
};

// Allocates a PollDesc for fd and registers fd with the poller.
// Returns nullptr and sets *err (an errno) on failure.
PollDesc* poll_open(int fd, int* err);
// Unregisters and recycles pd. The caller guarantees no goroutine waits on
// it (it called poll_evict and every operation finished).
void poll_close(PollDesc* pd);
// Marks pd closing and wakes its waiters; later waits fail with `closing`.
void poll_evict(PollDesc* pd);

// A direction of an fd (Go's pollDesc modes, with Go's values: they are
// what a go_create trace event carries in a1).
enum class PollMode : int { read = 'r', write = 'w', both = 'r' + 'w' };

// Before an operation: the error it must fail with, if any (read or write).
PollError poll_check(PollDesc* pd, PollMode mode);
// Parks until the direction is ready, or fails with closing/timeout.
// `reason` is what the goroutine dump shows (default: io_read / io_write).
PollError poll_wait(PollDesc* pd, PollMode mode, WaitReason reason = WaitReason::none);
// Starts `task` as a new goroutine when the direction becomes ready, its
// deadline passes or the fd is closed — whatever would wake a goroutine
// parked in poll_wait — and at once if one of them already happened. Until
// then the goroutine waits with `reason` and has no stack: an idle
// connection can wait this way for a few hundred bytes instead of a
// goroutine's stack pages. The task re-tries its operation (the readiness
// is a hint, as after poll_wait). One waiter per direction, as poll_wait.
void poll_start_when_ready(PollDesc* pd, PollMode mode, detail::Task task, WaitReason reason,
                           void* creator_pc);
// Sets a deadline (nanotime; 0 clears it) for one direction or both. A
// deadline in the past wakes the waiter at once.
void poll_set_deadline(PollDesc* pd, std::int64_t deadline, PollMode mode);

// Called by the backend for each event: marks the directions ready and
// appends the woken Gs to the list.
void poll_ready(PollDesc* pd, std::uint32_t seq, bool read, bool write, G** head, G** tail,
                int* count);
PollDesc* poll_lookup(std::uint32_t index);

}  // namespace gofer::runtime
