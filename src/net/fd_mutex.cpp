#include "net/fd_mutex.h"

#include "runtime/fatal.h"
#include "runtime/park.h"

namespace gofer::net::detail {
namespace {

constexpr std::uint64_t kClosed = 1ULL << 0;
constexpr std::uint64_t kRLock = 1ULL << 1;
constexpr std::uint64_t kWLock = 1ULL << 2;
constexpr std::uint64_t kRef = 1ULL << 3;
constexpr std::uint64_t kRefMask = ((1ULL << 20) - 1) << 3;
constexpr std::uint64_t kRWait = 1ULL << 23;
constexpr std::uint64_t kRMask = ((1ULL << 20) - 1) << 23;
constexpr std::uint64_t kWWait = 1ULL << 43;
constexpr std::uint64_t kWMask = ((1ULL << 20) - 1) << 43;

[[noreturn]] void overflow() { runtime::fatal("net: too many concurrent operations on one fd"); }

}  // namespace

void FdSema::acquire(Which which) {
  std::unique_lock lock(mu_);
  if (count_[which] > 0) {
    --count_[which];
    return;
  }
  Waiter self{runtime::current_g(), nullptr};
  if (tail_[which] != nullptr) tail_[which]->next = &self; else head_[which] = &self;
  tail_[which] = &self;
  lock.release();
  // Unlocked by the park commit, after this goroutine is off its stack; a
  // release() that takes `self` off the queue hands over the ticket.
  runtime::park_unlock(mu_, runtime::WaitReason::semaphore);
}

void FdSema::release(Which which) {
  runtime::G* g = nullptr;
  {
    std::lock_guard lock(mu_);
    Waiter* w = head_[which];
    if (w == nullptr) {
      ++count_[which];
      return;
    }
    head_[which] = w->next;
    if (head_[which] == nullptr) tail_[which] = nullptr;
    g = w->g;  // w lives on the waiter's stack: read it before the wake-up
  }
  runtime::ready(g);
}

bool FdMutex::incref() {
  std::uint64_t old = state_.load(std::memory_order_seq_cst);
  for (;;) {
    if (old & kClosed) return false;
    std::uint64_t next = old + kRef;
    if ((next & kRefMask) == 0) overflow();
    if (state_.compare_exchange_weak(old, next, std::memory_order_seq_cst)) return true;
  }
}

bool FdMutex::incref_and_close() {
  std::uint64_t old = state_.load(std::memory_order_seq_cst);
  for (;;) {
    if (old & kClosed) return false;
    std::uint64_t next = (old | kClosed) + kRef;
    if ((next & kRefMask) == 0) overflow();
    next &= ~(kRMask | kWMask);  // the waiters are woken below
    if (state_.compare_exchange_weak(old, next, std::memory_order_seq_cst)) break;
  }
  // Each woken waiter retries rwlock() and sees closed.
  for (; old & kRMask; old -= kRWait) sema_.release(FdSema::kRead);
  for (; old & kWMask; old -= kWWait) sema_.release(FdSema::kWrite);
  return true;
}

bool FdMutex::decref() {
  std::uint64_t old = state_.load(std::memory_order_seq_cst);
  for (;;) {
    GOFER_CHECK((old & kRefMask) != 0, "net: fd reference count underflow");
    std::uint64_t next = old - kRef;
    if (state_.compare_exchange_weak(old, next, std::memory_order_seq_cst)) {
      return (next & (kClosed | kRefMask)) == kClosed;
    }
  }
}

bool FdMutex::rwlock(bool read) {
  const std::uint64_t bit = read ? kRLock : kWLock;
  const std::uint64_t wait = read ? kRWait : kWWait;
  const std::uint64_t mask = read ? kRMask : kWMask;
  std::uint64_t old = state_.load(std::memory_order_seq_cst);
  for (;;) {
    if (old & kClosed) return false;
    std::uint64_t next;
    if ((old & bit) == 0) {
      next = (old | bit) + kRef;  // free: take it
      if ((next & kRefMask) == 0) overflow();
    } else {
      next = old + wait;  // held: queue
      if ((next & mask) == 0) overflow();
    }
    if (state_.compare_exchange_weak(old, next, std::memory_order_seq_cst)) {
      if ((old & bit) == 0) return true;
      sema_.acquire(read ? FdSema::kRead : FdSema::kWrite);
      // Our waiter count was subtracted by whoever released the ticket.
      old = state_.load(std::memory_order_seq_cst);
    }
  }
}

bool FdMutex::rwunlock(bool read) {
  const std::uint64_t bit = read ? kRLock : kWLock;
  const std::uint64_t wait = read ? kRWait : kWWait;
  const std::uint64_t mask = read ? kRMask : kWMask;
  std::uint64_t old = state_.load(std::memory_order_seq_cst);
  for (;;) {
    GOFER_CHECK((old & bit) != 0 && (old & kRefMask) != 0, "net: inconsistent fd lock state");
    if ((old & mask) == 0) {
      std::uint64_t next = (old & ~bit) - kRef;
      if (state_.compare_exchange_weak(old, next, std::memory_order_seq_cst)) {
        return (next & (kClosed | kRefMask)) == kClosed;
      }
      continue;
    }
    // Wake one waiter. Unlike Go, keep our reference until the wake-up is
    // done: without a garbage collector, a close() that completes in between
    // could let the owner free this FdMutex under release().
    std::uint64_t next = (old & ~bit) - wait;
    if (state_.compare_exchange_weak(old, next, std::memory_order_seq_cst)) {
      sema_.release(read ? FdSema::kRead : FdSema::kWrite);
      return decref();
    }
  }
}

void FdMutex::mark_never_opened() noexcept { state_.store(kClosed, std::memory_order_relaxed); }

bool FdMutex::closed() const noexcept { return (state_.load(std::memory_order_seq_cst) & kClosed) != 0; }

}  // namespace gofer::net::detail
