// FdMutex: Go's fdMutex (internal/poll/fd_mutex.go) — the reference count
// and the read/write locks of one socket, in a single atomic word.
//
// Two jobs:
//   1. An fd is closed exactly once, and never while a syscall on it may
//      still run (invariant 7 in docs/design.md). Every operation holds a
//      reference while it uses the fd; close() sets the closed bit (no new
//      references) and the last reference to go releases the fd.
//   2. Concurrent reads (and concurrent writes) on one Conn are serialised,
//      because a PollDesc has room for one waiter per direction. The read
//      lock and the write lock are independent: one goroutine may read while
//      another writes.
// Uncontended, lock and unlock are one CAS each — no mutex on the hot path.
// Waiters for a held lock sleep on a small semaphore (FdSema); close() wakes
// them all and they fail with "closed".
//
// State word layout (as in Go):
//   bit 0       closed
//   bit 1       read lock held
//   bit 2       write lock held
//   bits 3-22   references (operations in flight, lock holders included)
//   bits 23-42  goroutines waiting for the read lock
//   bits 43-62  goroutines waiting for the write lock
// Invariants: a held lock counts one reference; references == 0 and closed
// happen together exactly once (the caller that observes it releases the fd);
// waiter counts are zero once closed.
#pragma once

#include <atomic>
#include <cstdint>
#include <mutex>

namespace gofer::runtime {
struct G;
}

namespace gofer::net::detail {

// Counting semaphores for the goroutines that wait for the read or the write
// lock (Go's runtime_Semacquire/Semrelease on fdMutex.rsema/wsema). One
// std::mutex for both queues: they are used only under contention.
class FdSema {
 public:
  enum Which { kRead = 0, kWrite = 1 };
  void acquire(Which which);
  // Hands a ticket to the first waiter, or keeps it for the next acquire().
  void release(Which which);

 private:
  struct Waiter {
    runtime::G* g;
    Waiter* next;
  };
  std::mutex mu_;
  std::uint32_t count_[2] = {0, 0};              // guarded by mu_
  Waiter* head_[2] = {nullptr, nullptr};         // guarded by mu_
  Waiter* tail_[2] = {nullptr, nullptr};         // guarded by mu_
};

class FdMutex {
 public:
  // Takes a reference; false if closed.
  bool incref();
  // Sets closed and takes a reference (dropped with decref()); wakes every
  // lock waiter. False if it was already closed.
  bool incref_and_close();
  // Drops a reference; true if it was the last one of a closed fd — the
  // caller must release the fd.
  bool decref();
  // Takes the read or write lock and a reference; false if closed (also
  // when it closes while waiting).
  bool rwlock(bool read);
  // Releases it (and the reference); true as for decref().
  bool rwunlock(bool read);

  bool closed() const noexcept;
  // For an fd that never opened: every operation fails as on a closed one,
  // and nothing is left to release.
  void mark_never_opened() noexcept;

 private:
  // seq_cst on every access: the closed bit and the reference count are one
  // word, so "set closed" and "take a reference" are totally ordered.
  std::atomic<std::uint64_t> state_{0};
  FdSema sema_;
};

}  // namespace gofer::net::detail
