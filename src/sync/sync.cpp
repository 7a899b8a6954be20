// Go's sync package: runtime/sema.go, sync/mutex.go, sync/rwmutex.go,
// sync/waitgroup.go, sync/cond.go (notify list) and x/sync/semaphore, over
// Parker-based wait lists (sync/parker.h, sync/wait_list.h).
//
// Memory orders: the fast paths that take or release a lock use acquire /
// release (each is named where it is). The slow paths use seq_cst, as Go's
// atomics are: they are rare, and several of them (Sema's count/nwait pair)
// need the StoreLoad ordering only seq_cst gives.
#include "gofer/sync.h"

#include <stdexcept>

#include "gofer/runtime.h"
#include "sync/parker.h"
#include "sync/wait_list.h"

namespace gofer {

namespace detail {

// ---------------------------------------------------------------------------
// Sema

namespace {

// Go's semtable. A root's waiters may belong to several Semas that hash
// alike; each waiter records its own. The table outlives every Sema, which
// is what lets release() run after the Sema it released was destroyed.
struct alignas(64) SemaRoot {
  std::mutex mu;
  // Waiters queued in this root, counted before they re-check the Sema's
  // count (so release() may skip the lock when it reads 0).
  std::atomic<std::uint32_t> nwait{0};
  WaitList waiters;  // guarded by mu
};

constexpr std::size_t kSemaRoots = 251;  // prime, as Go's
SemaRoot g_sema_roots[kSemaRoots];

SemaRoot& root_of(const void* sema) noexcept {
  return g_sema_roots[(reinterpret_cast<std::uintptr_t>(sema) >> 3) % kSemaRoots];
}

}  // namespace

bool Sema::try_acquire() noexcept {
  std::uint32_t v = count_.load(std::memory_order_seq_cst);
  while (v > 0) {
    // seq_cst (acquire part): pairs with release()'s increment, so what the
    // releaser did before releasing happens-before the acquirer's return.
    if (count_.compare_exchange_weak(v, v - 1, std::memory_order_seq_cst)) return true;
  }
  return false;
}

void Sema::acquire(bool lifo, runtime::WaitReason reason) {
  if (try_acquire()) return;
  SemaRoot& root = root_of(this);
  for (;;) {
    root.mu.lock();
    // Announce the waiter before re-checking count_ (pairs with release(),
    // which increments count_ before loading nwait).
    root.nwait.fetch_add(1, std::memory_order_seq_cst);
    if (try_acquire()) {
      root.nwait.fetch_sub(1, std::memory_order_seq_cst);
      root.mu.unlock();
      return;
    }
    SyncWaiter w;
    w.sema = this;
    if (lifo) {
      push_front(root.waiters, &w);
    } else {
      push_back(root.waiters, &w);
    }
    root.mu.unlock();
    park(w.parker, reason);
    // Woken: either the ticket was handed to us, or we compete for it again
    // (a newcomer may have taken it first; then we queue again).
    if (w.ticket || try_acquire()) return;
  }
}

void Sema::release(bool handoff) {
  // `this` is read as an address only from here on, except by a hand-off
  // (below), which happens while the woken waiter is still parked.
  const void* self = this;
  SemaRoot& root = root_of(self);
  count_.fetch_add(1, std::memory_order_seq_cst);
  if (root.nwait.load(std::memory_order_seq_cst) == 0) return;  // nobody to wake
  root.mu.lock();
  SyncWaiter* w = root.waiters.head;
  while (w && w->sema != self) w = w->next;
  if (w) {
    remove(root.waiters, w);
    root.nwait.fetch_sub(1, std::memory_order_seq_cst);
  }
  root.mu.unlock();
  if (!w) return;
  // Starvation mode: take the ticket on the waiter's behalf, so no newcomer
  // can grab it between the wakeup and the waiter running.
  const bool handed = handoff && try_acquire();
  w->ticket = handed;
  unpark(w->parker);  // w may be gone from here on
  // Let the new owner run soon instead of keeping the P (Go's goyield).
  if (handed && in_goroutine()) yield();
}

}  // namespace detail

// ---------------------------------------------------------------------------
// Mutex

namespace {

constexpr std::int64_t kStarvationThresholdNs = 1'000'000;

// Go's runtime_canSpin: a few rounds, only if another P can run the holder.
bool can_spin(int iter) {
  return iter < 4 && procs() > 1;
}

void do_spin() {
  for (int i = 0; i < 30; ++i) {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    asm volatile("yield");
#endif
  }
}

}  // namespace

bool Mutex::try_lock() noexcept {
  std::int32_t old = state_.load(std::memory_order_relaxed);
  for (;;) {
    if (old & (kLocked | kStarving)) return false;
    // There may be a goroutine waiting for the mutex, but we are running now
    // and can try to grab it before it wakes up. acquire: pairs with unlock.
    if (state_.compare_exchange_weak(old, old | kLocked, std::memory_order_acquire,
                                     std::memory_order_relaxed)) {
      return true;
    }
  }
}

void Mutex::lock_slow() {
  std::int64_t wait_start = 0;
  bool starving = false;
  bool awoke = false;
  int iter = 0;
  std::int32_t old = state_.load(std::memory_order_seq_cst);
  for (;;) {
    // Spin only in normal mode while the mutex is held: in starvation mode
    // ownership goes to the waiters, so spinning cannot get it.
    if ((old & (kLocked | kStarving)) == kLocked && can_spin(iter)) {
      // Set kWoken so that unlock does not wake another waiter while we spin.
      if (!awoke && (old & kWoken) == 0 && (old >> kWaiterShift) != 0 &&
          state_.compare_exchange_strong(old, old | kWoken, std::memory_order_seq_cst)) {
        awoke = true;
      }
      do_spin();
      ++iter;
      old = state_.load(std::memory_order_seq_cst);
      continue;
    }
    std::int32_t next = old;
    // Don't try to take a starving mutex: newcomers queue.
    if ((old & kStarving) == 0) next |= kLocked;
    if ((old & (kLocked | kStarving)) != 0) next += 1 << kWaiterShift;
    // Switch to starvation mode, but only while the mutex is held: unlock
    // expects a starving mutex to have waiters.
    if (starving && (old & kLocked) != 0) next |= kStarving;
    if (awoke) {
      // We were woken (or spun with kWoken set): clear the flag either way.
      if ((next & kWoken) == 0) detail::fatal("sync: inconsistent mutex state");
      next &= ~kWoken;
    }
    // seq_cst (acquire when it takes the lock): pairs with unlock's release.
    if (state_.compare_exchange_strong(old, next, std::memory_order_seq_cst)) {
      if ((old & (kLocked | kStarving)) == 0) break;  // locked with the CAS
      // A goroutine that waited before queues at the front (LIFO).
      const bool lifo = wait_start != 0;
      if (wait_start == 0) wait_start = runtime::nanotime();
      sema_.acquire(lifo, runtime::WaitReason::sync_mutex);
      starving = starving || runtime::nanotime() - wait_start > kStarvationThresholdNs;
      old = state_.load(std::memory_order_seq_cst);
      if ((old & kStarving) != 0) {
        // Ownership was handed to us: kLocked is clear and we are still
        // counted as a waiter. Fix both in one add.
        if ((old & (kLocked | kWoken)) != 0 || (old >> kWaiterShift) == 0) {
          detail::fatal("sync: inconsistent mutex state");
        }
        std::int32_t delta = kLocked - (1 << kWaiterShift);
        if (!starving || (old >> kWaiterShift) == 1) {
          // Leave starvation mode (we waited little, or are the last
          // waiter): two goroutines could otherwise hand the mutex back and
          // forth in lock step forever.
          delta -= kStarving;
        }
        state_.fetch_add(delta, std::memory_order_seq_cst);
        break;
      }
      awoke = true;
      iter = 0;
    }
    // On CAS failure `old` holds the current state.
  }
}

void Mutex::unlock_slow(std::int32_t now) {
  if (((now + kLocked) & kLocked) == 0) detail::fatal("sync: unlock of unlocked mutex");
  if ((now & kStarving) == 0) {
    std::int32_t old = now;
    for (;;) {
      // No waiters, or someone already woke/locked: nothing to do.
      if ((old >> kWaiterShift) == 0 || (old & (kLocked | kWoken | kStarving)) != 0) return;
      // Take the right to wake one waiter.
      const std::int32_t next = (old - (1 << kWaiterShift)) | kWoken;
      if (state_.compare_exchange_strong(old, next, std::memory_order_seq_cst)) {
        sema_.release(false);
        return;
      }
    }
  } else {
    // Starvation mode: hand ownership to the first waiter. kLocked stays
    // clear; the waiter sets it. Newcomers see kStarving and queue.
    sema_.release(true);
  }
}

// ---------------------------------------------------------------------------
// RWMutex

void RWMutex::lock_shared() {
  // acq_rel: acquire pairs with the writer's release in unlock().
  if (reader_count_.fetch_add(1, std::memory_order_acq_rel) + 1 < 0) {
    // A writer is pending: wait for it.
    reader_sem_.acquire(false, runtime::WaitReason::sync_rwmutex_read);
  }
}

bool RWMutex::try_lock_shared() noexcept {
  std::int32_t c = reader_count_.load(std::memory_order_relaxed);
  for (;;) {
    if (c < 0) return false;
    if (reader_count_.compare_exchange_weak(c, c + 1, std::memory_order_acquire,
                                            std::memory_order_relaxed)) {
      return true;
    }
  }
}

void RWMutex::unlock_shared() {
  // release: publishes the reader's accesses to a pending writer.
  const std::int32_t r = reader_count_.fetch_sub(1, std::memory_order_acq_rel) - 1;
  if (r < 0) runlock_slow(r);
}

void RWMutex::runlock_slow(std::int32_t r) {
  if (r + 1 == 0 || r + 1 == -kMaxReaders) detail::fatal("sync: RUnlock of unlocked RWMutex");
  // A writer is pending; the last departing reader lets it in.
  if (reader_wait_.fetch_sub(1, std::memory_order_acq_rel) - 1 == 0) writer_sem_.release(false);
}

void RWMutex::lock() {
  // First, resolve competition with other writers.
  w_.lock();
  // Announce the writer to readers (new readers now wait on reader_sem_);
  // r is the number of readers inside. acq_rel: acquire pairs with the
  // readers' release in unlock_shared.
  const std::int32_t r = reader_count_.fetch_sub(kMaxReaders, std::memory_order_acq_rel);
  // Wait for the r readers that are inside.
  if (r != 0 && reader_wait_.fetch_add(r, std::memory_order_acq_rel) + r != 0) {
    writer_sem_.acquire(false, runtime::WaitReason::sync_rwmutex_write);
  }
}

bool RWMutex::try_lock() noexcept {
  if (!w_.try_lock()) return false;
  std::int32_t expected = 0;
  if (!reader_count_.compare_exchange_strong(expected, -kMaxReaders, std::memory_order_acq_rel,
                                             std::memory_order_relaxed)) {
    w_.unlock();
    return false;
  }
  return true;
}

void RWMutex::unlock() {
  // Announce to readers that no writer is active. release: publishes the
  // writer's critical section to the readers that acquire reader_count_.
  const std::int32_t r =
      reader_count_.fetch_add(kMaxReaders, std::memory_order_acq_rel) + kMaxReaders;
  if (r >= kMaxReaders) detail::fatal("sync: Unlock of unlocked RWMutex");
  // Unblock the readers that arrived while the writer was pending.
  for (std::int32_t i = 0; i < r; ++i) reader_sem_.release(false);
  // Let other writers proceed.
  w_.unlock();
}

// ---------------------------------------------------------------------------
// WaitGroup

void WaitGroup::add(int delta) {
  const std::uint64_t state =
      state_.fetch_add(static_cast<std::uint64_t>(static_cast<std::int64_t>(delta)) << 32,
                       std::memory_order_acq_rel) +
      (static_cast<std::uint64_t>(static_cast<std::int64_t>(delta)) << 32);
  const auto v = static_cast<std::int32_t>(state >> 32);
  const auto w = static_cast<std::uint32_t>(state);
  if (v < 0) detail::fatal("sync: negative WaitGroup counter");
  if (w != 0 && delta > 0 && v == delta) {
    detail::fatal("sync: WaitGroup misuse: add called concurrently with wait");
  }
  if (v > 0 || w == 0) return;
  // The counter dropped to 0 with waiters: no add or wait may run now
  // (either would be the misuse that Go also reports).
  if (state_.load(std::memory_order_seq_cst) != state) {
    detail::fatal("sync: WaitGroup misuse: add called concurrently with wait");
  }
  state_.store(0, std::memory_order_seq_cst);
  for (std::uint32_t i = 0; i < w; ++i) sema_.release(false);
}

void WaitGroup::wait() {
  std::uint64_t state = state_.load(std::memory_order_acquire);
  for (;;) {
    if ((state >> 32) == 0) return;  // acquire above pairs with done()'s acq_rel add
    // Count ourselves as a waiter.
    if (state_.compare_exchange_weak(state, state + 1, std::memory_order_acq_rel,
                                     std::memory_order_acquire)) {
      sema_.acquire(false, runtime::WaitReason::sync_wait_group);
      if (state_.load(std::memory_order_seq_cst) != 0) {
        detail::fatal("sync: WaitGroup is reused before previous wait has returned");
      }
      return;
    }
  }
}

// ---------------------------------------------------------------------------
// Cond

void Cond::wait_impl(void* lock, void (*unlock_fn)(void*), void (*lock_fn)(void*)) {
  detail::SyncWaiter w;
  // Queue before unlocking: a signal sent after the unlock must find us
  // (Go takes a notify-list ticket before unlocking, for the same reason).
  mu_.lock();
  detail::push_back(waiters_, &w);
  mu_.unlock();
  unlock_fn(lock);
  detail::park(w.parker, runtime::WaitReason::sync_cond);
  lock_fn(lock);
}

void Cond::signal() noexcept {
  mu_.lock();
  detail::SyncWaiter* w = detail::pop_front(waiters_);
  mu_.unlock();
  if (w) detail::unpark(w->parker);
}

void Cond::broadcast() noexcept {
  mu_.lock();
  detail::SyncWaiter* w = detail::take_all(waiters_);
  mu_.unlock();
  while (w) {
    detail::SyncWaiter* next = w->next;  // read before unpark: w dies with it
    detail::unpark(w->parker);
    w = next;
  }
}

// ---------------------------------------------------------------------------
// Semaphore

void Semaphore::acquire(std::int64_t n) {
  if (n < 0) throw std::invalid_argument("semaphore: acquire of a negative weight");
  if (n > size_)
    throw std::invalid_argument("semaphore: acquire of more than the semaphore's size");
  mu_.lock();
  if (size_ - cur_ >= n && waiters_.head == nullptr) {
    cur_ += n;
    mu_.unlock();
    return;
  }
  detail::SyncWaiter w;
  w.weight = n;
  detail::push_back(waiters_, &w);
  mu_.unlock();
  // release() counts our units in cur_ before waking us.
  detail::park(w.parker, runtime::WaitReason::semaphore);
}

bool Semaphore::try_acquire(std::int64_t n) {
  if (n < 0) throw std::invalid_argument("semaphore: acquire of a negative weight");
  std::lock_guard<std::mutex> lock(mu_);
  if (size_ - cur_ >= n && waiters_.head == nullptr) {
    cur_ += n;
    return true;
  }
  return false;
}

void Semaphore::release(std::int64_t n) {
  if (n < 0) throw std::invalid_argument("semaphore: release of a negative weight");
  mu_.lock();
  cur_ -= n;
  if (cur_ < 0) {
    mu_.unlock();
    detail::fatal("semaphore: released more than held");
  }
  // Grant waiters in FIFO order while the head fits; stop at the first that
  // does not, so a large request is not starved by small ones behind it.
  detail::SyncWaiter* wake = nullptr;
  detail::SyncWaiter** tail = &wake;
  while (waiters_.head && size_ - cur_ >= waiters_.head->weight) {
    detail::SyncWaiter* w = detail::pop_front(waiters_);
    cur_ += w->weight;
    *tail = w;
    tail = &w->next;
  }
  *tail = nullptr;
  mu_.unlock();
  while (wake) {
    detail::SyncWaiter* next = wake->next;
    detail::unpark(wake->parker);
    wake = next;
  }
}

}  // namespace gofer
