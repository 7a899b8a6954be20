// The runtime's interface for the layers above it (sync, chan, time, net):
// how a goroutine parks and how another one makes it runnable again.
// Users of gofer never include this; it is the C++ counterpart of the
// go:linkname'd runtime hooks that Go's sync and net packages call.
//
// The protocol (Go's gopark/goready): a goroutine that must wait publishes
// itself in some wait structure (a channel's queue, a poll descriptor, a
// timer) and calls park(). The publication is made visible to wakers only by
// the commit function, which runs on the scheduler's own stack *after* the
// goroutine has been switched out — so a waker can never resume a goroutine
// that is still running on its stack (invariant 1 in docs/design.md). A waker
// that found the goroutine calls ready(g) exactly once.
#pragma once

#include <cstdint>
#include <mutex>

#include "gofer/detail/task.h"

namespace gofer::runtime {

struct G;

// Why a goroutine waits; shown by the goroutine dump (Go's waitReason).
enum class WaitReason : std::uint8_t {
  none,
  chan_receive,
  chan_send,
  chan_receive_nil,  // receive on a nil channel: waits forever
  chan_send_nil,
  select,
  select_no_cases,
  sleep,
  sync_mutex,
  sync_rwmutex_read,
  sync_rwmutex_write,
  sync_wait_group,
  sync_cond,
  sync_once,
  semaphore,
  io_read,
  io_write,
  io_accept,
  io_connect,
  blocking_call,  // not a park: the goroutine's thread is inside blocking()
};
const char* to_string(WaitReason reason) noexcept;

// The running goroutine, or nullptr on a thread that is not running one.
G* current_g() noexcept;

// Runs on the scheduler stack after the goroutine was switched out. Return
// true to keep it parked (it is now published to wakers), false to resume it
// at once (the condition it waited for already holds).
using ParkCommit = bool (*)(G* g, void* arg) noexcept;

// Parks the current goroutine until ready() is called for it (or until commit
// returns false). Must be called on a goroutine. `fd`: the file descriptor
// it waits on, if any (for the trace, trace.h).
void park(ParkCommit commit, void* arg, WaitReason reason, int fd = -1);

// park() whose commit unlocks `mu`, which the caller holds and under which it
// published itself (Go's goparkunlock).
void park_unlock(std::mutex& mu, WaitReason reason);

// Makes a goroutine parked by park() runnable. Callable from a goroutine, the
// scheduler stack (timer callbacks) or any thread. Readying a goroutine that
// is not parked is a fatal error.
void ready(G* g);

// A new goroutine for `task` that starts out parked (status waiting, with
// `reason`, no stack yet): whoever it is published to readies it with
// ready(), and it then runs `task` from the start. fd and mode ('r'/'w'):
// what it waits for, for the trace.
G* new_waiting_goroutine(detail::Task task, WaitReason reason, void* creator_pc, int fd, int mode);

// Goroutine id of g (for debugging and for tie-breaking).
std::uint64_t goid(const G* g) noexcept;

// Monotonic clock in nanoseconds (CLOCK_MONOTONIC).
std::int64_t nanotime() noexcept;

// The same clock at the kernel tick's resolution (CLOCK_MONOTONIC_COARSE,
// a few ns to read, behind nanotime() by up to a tick): for "since when"
// stamps and for time accounting summed over many intervals.
std::int64_t coarse_nanotime() noexcept;

}  // namespace gofer::runtime
