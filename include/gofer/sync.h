// Go's sync package (and golang.org/x/sync/semaphore) for goroutines:
// Mutex, RWMutex, WaitGroup, Once, Cond, Semaphore.
//
//   gofer::Mutex mu;
//   { std::lock_guard lock(mu); ++counter; }   // Mutex is a C++ Lockable
//
//   gofer::WaitGroup wg;
//   for (int i = 0; i < n; ++i) { wg.add(1); gofer::go([&] { work(); wg.done(); }); }
//   wg.wait();
//
// Everything here parks the goroutine, never the thread: a waiter publishes a
// record that lives on its own stack in the primitive's wait queue (guarded
// by a std::mutex held for a few instructions) and parks; the releaser takes
// it off the queue and readies it. The algorithms are Go's: Mutex has the
// normal and starvation modes of sync/mutex.go on top of the runtime
// semaphore of runtime/sema.go (detail::Sema), RWMutex is writer-preferring
// like sync/rwmutex.go, WaitGroup packs counter and waiters in one word.
// Operations that may block must run on a goroutine (a fatal error
// otherwise); unlock/done/signal/release may run anywhere.
//
// Unlike Go:
//   - Each primitive carries its own wait queue instead of sharing the
//     runtime's global hashed table of semaphores, so a Mutex is 72 bytes
//     (Go: 8). In exchange no two primitives ever contend for a queue lock.
//   - Misuse that is a fatal error in Go (unlock of an unlocked Mutex or
//     RWMutex, negative WaitGroup counter, Semaphore released beyond what is
//     held) aborts the process with Go's message; it is never an exception.
//   - Names are snake_case and follow C++'s lockable concepts too: Mutex
//     works with std::lock_guard / std::unique_lock, RWMutex with
//     std::shared_lock (lock_shared); rlock/runlock are Go's spellings.
#pragma once

#include <atomic>
#include <cstdint>
#include <mutex>

namespace gofer::runtime {
enum class WaitReason : std::uint8_t;
}

namespace gofer {

namespace detail {

struct SyncWaiter;  // src/sync/wait_list.h: a parked goroutine's record, on its stack

// Intrusive FIFO of SyncWaiters; guarded by the owner's std::mutex.
struct WaitList {
  SyncWaiter* head = nullptr;
  SyncWaiter* tail = nullptr;
};

// Go's runtime semaphore (runtime/sema.go) for one primitive: a counter of
// available tickets. Its waiters queue in a table shared by all Semas and
// keyed by address (src/sync/sync.cpp), never in the object: once release()
// has added a ticket, a waiter may take it, return and destroy the Sema, so
// release() must not touch the object after its increment.
class Sema {
 public:
  Sema() noexcept = default;
  Sema(const Sema&) = delete;
  Sema& operator=(const Sema&) = delete;

  // Waits until count_ > 0 and decrements it. lifo: queue ahead of the
  // other waiters (a waiter that was already woken once and lost the race,
  // as Mutex does).
  void acquire(bool lifo, runtime::WaitReason reason);
  // Increments count_ and wakes one waiter. handoff: give the ticket
  // directly to the woken waiter and yield to it (Mutex starvation mode).
  void release(bool handoff);

 private:
  bool try_acquire() noexcept;

  // seq_cst: acquire() stores the table's waiter count then loads count_,
  // release() stores count_ then loads the waiter count (a Dekker pair: one
  // of them sees the other's store, so no wakeup is lost).
  std::atomic<std::uint32_t> count_{0};
};

}  // namespace detail

// Go's sync.Mutex: mutual exclusion between goroutines.
//
// Normal mode: waiters queue FIFO, but a woken waiter competes with newly
// arriving goroutines (which also spin briefly) and usually loses; a waiter
// that fails for more than 1 ms switches the mutex to starvation mode, where
// unlock hands ownership directly to the first waiter and newcomers queue at
// the tail. The last waiter, or one that waited under 1 ms, switches back.
// Not recursive; any goroutine may unlock (as in Go), not only the locker.
class Mutex {
 public:
  Mutex() noexcept = default;
  Mutex(const Mutex&) = delete;
  Mutex& operator=(const Mutex&) = delete;

  void lock() {
    std::int32_t expected = 0;
    // Fast path. acquire: pairs with the release in unlock().
    if (state_.compare_exchange_strong(expected, kLocked, std::memory_order_acquire,
                                       std::memory_order_relaxed)) {
      return;
    }
    lock_slow();
  }
  bool try_lock() noexcept;
  // Unlocking an unlocked Mutex is a fatal error.
  void unlock() {
    // release: publishes the critical section to the next locker.
    const std::int32_t now = state_.fetch_sub(kLocked, std::memory_order_release) - kLocked;
    if (now != 0) unlock_slow(now);
  }

 private:
  friend class RWMutex;
  static constexpr std::int32_t kLocked = 1;
  static constexpr std::int32_t kWoken = 2;  // a woken/spinning waiter exists: don't wake another
  static constexpr std::int32_t kStarving = 4;  // starvation mode
  static constexpr int kWaiterShift = 3;        // bits above: number of parked waiters

  void lock_slow();
  void unlock_slow(std::int32_t now);

  std::atomic<std::int32_t> state_{0};
  detail::Sema sema_;
};

// Go's sync.RWMutex: any number of readers or one writer. A writer that
// waits blocks new readers (so writers cannot starve); the readers already
// inside finish first.
class RWMutex {
 public:
  RWMutex() noexcept = default;
  RWMutex(const RWMutex&) = delete;
  RWMutex& operator=(const RWMutex&) = delete;

  void lock();
  bool try_lock() noexcept;
  void unlock();  // fatal if not write-locked

  void lock_shared();
  bool try_lock_shared() noexcept;
  void unlock_shared();  // fatal if not read-locked

  // Go's spellings.
  void rlock() { lock_shared(); }
  bool try_rlock() noexcept { return try_lock_shared(); }
  void runlock() { unlock_shared(); }

 private:
  static constexpr std::int32_t kMaxReaders = 1 << 30;

  void runlock_slow(std::int32_t r);

  Mutex w_;  // held by the writer (pending or active)
  // Readers inside or waiting; minus kMaxReaders while a writer is pending.
  std::atomic<std::int32_t> reader_count_{0};
  // Readers the pending writer still waits for.
  std::atomic<std::int32_t> reader_wait_{0};
  detail::Sema writer_sem_;  // the writer waits here for departing readers
  detail::Sema reader_sem_;  // readers wait here for the writer
};

// Go's sync.WaitGroup: wait() parks until the counter drops to zero.
// add() with a positive delta must happen before wait() (typically before
// starting the goroutine); a negative counter is a fatal error. A WaitGroup
// may be reused once every wait() of the previous round returned.
class WaitGroup {
 public:
  WaitGroup() noexcept = default;
  WaitGroup(const WaitGroup&) = delete;
  WaitGroup& operator=(const WaitGroup&) = delete;

  void add(int delta);
  void done() { add(-1); }
  void wait();

 private:
  // High 32 bits: counter; low 32 bits: number of waiters. acq_rel on the
  // updates: done() releases the goroutine's work, wait() acquires it.
  std::atomic<std::uint64_t> state_{0};
  detail::Sema sema_;
};

// Go's sync.Once: call(f) runs f exactly once; concurrent callers wait until
// the first call returned. Like Go, if f throws, the exception propagates to
// that caller and the Once still counts as done: f is never run again.
class Once {
 public:
  Once() noexcept = default;
  Once(const Once&) = delete;
  Once& operator=(const Once&) = delete;

  template <class F>
  void call(F&& f) {
    // acquire: pairs with the release store below, so f's effects are
    // visible to everyone who sees done_.
    if (done_.load(std::memory_order_acquire) == 0) call_slow(f);
  }

 private:
  template <class F>
  void call_slow(F& f) {
    std::lock_guard<Mutex> lock(m_);
    if (done_.load(std::memory_order_relaxed) != 0) return;
    struct MarkDone {  // runs even if f throws, before m_ is unlocked
      std::atomic<std::uint32_t>& done;
      ~MarkDone() { done.store(1, std::memory_order_release); }
    } mark{done_};
    f();
  }

  std::atomic<std::uint32_t> done_{0};
  Mutex m_;
};

// Go's sync.Cond: goroutines wait for a condition protected by a lock.
//
//   std::unique_lock lock(mu);
//   while (!ready) cond.wait(lock);     // or cond.wait(lock, [&] { return ready; })
//
// Unlike Go the lock is passed to wait() (as with std::condition_variable_any)
// instead of being fixed at construction; any Lockable works. There are no
// spurious wakeups, but another goroutine may change the condition between
// the wakeup and the relock: check it in a loop, as in Go.
class Cond {
 public:
  Cond() noexcept = default;
  Cond(const Cond&) = delete;
  Cond& operator=(const Cond&) = delete;

  // Atomically (with respect to signal/broadcast) unlocks `lock` and parks;
  // relocks before returning.
  template <class Lockable>
  void wait(Lockable& lock) {
    wait_impl(
        &lock, [](void* l) { static_cast<Lockable*>(l)->unlock(); },
        [](void* l) { static_cast<Lockable*>(l)->lock(); });
  }
  template <class Lockable, class Predicate>
  void wait(Lockable& lock, Predicate ready) {
    while (!ready()) wait(lock);
  }
  // Wakes the longest-waiting goroutine, if any.
  void signal() noexcept;
  // Wakes all waiting goroutines.
  void broadcast() noexcept;

 private:
  void wait_impl(void* lock, void (*unlock_fn)(void*), void (*lock_fn)(void*));

  std::mutex mu_;
  detail::WaitList waiters_;  // guarded by mu_
};

// A weighted semaphore (golang.org/x/sync/semaphore): up to `size` units held
// at once. Waiters are served strictly FIFO: a large request at the head
// blocks smaller ones behind it, so it cannot starve.
//
// Unlike x/sync (whose Acquire takes a context and fails when it is done),
// acquire() has no way out: asking for more than `size`, or for a negative
// weight, throws std::invalid_argument (misuse, caught before anything
// changed: error.h) instead of a wait that could never end.
class Semaphore {
 public:
  explicit Semaphore(std::int64_t size) noexcept : size_(size) {}
  Semaphore(const Semaphore&) = delete;
  Semaphore& operator=(const Semaphore&) = delete;

  void acquire(std::int64_t n = 1);
  bool try_acquire(std::int64_t n = 1);
  // A negative weight throws std::invalid_argument. Releasing more than is
  // held is a fatal error (the count is wrong already when it is seen).
  void release(std::int64_t n = 1);

 private:
  const std::int64_t size_;
  std::mutex mu_;
  std::int64_t cur_ = 0;      // units held; guarded by mu_
  detail::WaitList waiters_;  // guarded by mu_; FIFO
};

}  // namespace gofer
