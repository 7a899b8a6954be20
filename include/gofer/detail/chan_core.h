// The type-erased machinery under Chan<T> and select (Go's runtime/chan.go and
// runtime/select.go). Users never name anything here; chan.h is the API.
//
// Concepts:
//   Parker      a one-shot "park until woken" token of one goroutine. It lets
//               a goroutine publish itself in a wait queue, release the lock
//               of that queue and only then park, without losing a wakeup.
//   ChanWaiter  Go's sudog: one goroutine waiting on one channel, with the
//               address of the value it sends or of the storage it receives
//               into. It lives on the waiting goroutine's stack (no
//               allocation); a waker copies straight into / out of it.
//   ChanCore    Go's hchan: ring buffer + queues of waiting senders and
//               receivers + one lock, for elements of a size known only at
//               run time (ElemOps).
//   SelectState shared by the ChanWaiters of one blocked select: the first
//               waker to win `done` owns the select's wakeup.
//
// Why a Parker instead of parking with the channel lock held (Go's
// goparkunlock): with the token the channel lock is always released by the
// goroutine that took it, before the switch, so lock hold times stay a few
// instructions and the lock is never owned across fibres (which TSan's fiber
// API would report). The price is one atomic exchange per wakeup.
//
// Why this machinery is in include/ rather than under src/sync: Chan<T> and
// select are templates, and the parts they touch inline must be complete
// here — ChanWaiter and SelectCaseRaw, because a blocked send, receive or
// select keeps its waiters on the goroutine's own stack (no allocation per
// operation), and ChanCore, because copying a Chan is an inline atomic
// increment (retain/release) and len()/cap() are loads. Everything that
// does not need to be inline (send, recv, close, select_go) is defined in
// src/sync/chan.cpp. Rejected: an opaque ChanCore behind a pointer (an
// out-of-line call per Chan copy and per len()).
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <new>
#include <type_traits>
#include <utility>

namespace gofer::detail {

struct Parker;       // src/sync/parker.h
struct SelectState;  // src/sync/parker.h

// Park the calling goroutine forever (Go's block(): nil channel operations
// and a select with no cases).
[[noreturn]] void block_forever_send_nil();
[[noreturn]] void block_forever_recv_nil();

// Go's sudog. Fields marked "channel lock" are guarded by the lock of the
// channel whose queue holds (or held) the waiter.
struct ChanWaiter {
  Parker* parker = nullptr;       // whom to wake: own Parker, or the select's
  SelectState* select = nullptr;  // nullptr unless part of a blocked select
  void* elem = nullptr;           // sender: a live T to move from; receiver: raw storage
  ChanWaiter* prev = nullptr;     // channel lock
  ChanWaiter* next = nullptr;     // channel lock; reused as a wake-list link after dequeue
  bool queued = false;            // channel lock: true while in a sendq/recvq
  // Written by the waker before unpark, read by the owner after it woke:
  // true if a value was transferred, false if the channel was closed.
  bool success = false;
  std::uint16_t case_index = 0;  // select: which case this waiter belongs to
};

// Intrusive FIFO of ChanWaiters (Go's waitq); guarded by the channel lock.
struct WaitQueue {
  ChanWaiter* first = nullptr;
  ChanWaiter* last = nullptr;

  bool empty() const noexcept { return first == nullptr; }
  void enqueue(ChanWaiter* w) noexcept;
  // Pops the first waiter that can still be woken: waiters of a select that
  // another waker already won are dropped (Go's waitq.dequeue).
  ChanWaiter* dequeue() noexcept;
  // Removes w if it is still queued.
  void remove(ChanWaiter* w) noexcept;
};

// How to move and destroy the elements of one channel type.
struct ElemOps {
  std::size_t size;
  std::size_t align;
  void (*move_construct)(void* dst, void* src) noexcept;  // src stays alive (moved-from)
  void (*destroy)(void* p) noexcept;
};

template <class T>
inline constexpr ElemOps elem_ops_for = {
    sizeof(T),
    alignof(T),
    [](void* dst, void* src) noexcept { ::new (dst) T(std::move(*static_cast<T*>(src))); },
    [](void* p) noexcept { static_cast<T*>(p)->~T(); },
};

enum class TrySend : std::uint8_t { sent, full, closed };
enum class TryRecv : std::uint8_t { received, empty, closed };

// Go's hchan, type-erased. Always handled through ChanRef.
//
// Invariants (all under mu_):
//   At least one of sendq_ and recvq_ is empty, except for an unbuffered
//   channel with a single goroutine blocked on it for both sending and
//   receiving in one select (as in Go).
//   qcount_ > 0 implies recvq_ is empty; qcount_ < cap_ implies sendq_ is
//   empty.
//   The buffer slots [recvx_, recvx_ + qcount_) (mod cap_) hold live
//   elements; all other slots are raw storage.
//   Once closed_, never reopened; no waiter is queued on a closed channel.
class ChanCore {
 public:
  static ChanCore* make(const ElemOps* ops, std::size_t capacity);

  void retain() noexcept { refs_.fetch_add(1, std::memory_order_relaxed); }
  // acq_rel: the last release must see every other owner's writes before
  // destroying (pairs with the other owners' release decrements).
  void release() noexcept {
    if (refs_.fetch_sub(1, std::memory_order_acq_rel) == 1) destroy();
  }

  // Blocking send: moves from *elem (a live element). Throws ChanClosedError.
  void send(void* elem) { (void)chansend(elem, true); }
  // Non-blocking send: moves from *elem only if it returns sent. Never throws
  // and never parks, so timer callbacks may call it.
  TrySend try_send(void* elem) noexcept { return chansend(elem, false); }
  // Blocking receive into raw storage `dst`. Returns true if an element was
  // constructed there, false if the channel is closed and drained.
  bool recv(void* dst) { return chanrecv(dst, true) == TryRecv::received; }
  // Non-blocking receive; constructs into dst only if it returns received.
  TryRecv try_recv(void* dst) noexcept { return chanrecv(dst, false); }
  // Throws ChanClosedError if already closed.
  void close();

  std::size_t len() const noexcept { return qcount_.load(std::memory_order_relaxed); }
  std::size_t cap() const noexcept { return cap_; }

  // Hands `owned` to the channel: destroy(owned) runs when the last reference
  // goes, before anything of the channel is torn down (used by after(): its
  // timer lives exactly as long as its channel). Call before sharing.
  void own(void* owned, void (*destroy)(void*) noexcept) noexcept {
    owned_ = owned;
    owned_destroy_ = destroy;
  }

 private:
  friend struct SelectImpl;

  ChanCore(const ElemOps* ops, std::size_t capacity, unsigned char* buf) noexcept
      : ops_(ops), cap_(capacity), buf_(buf) {}
  void destroy() noexcept;

  unsigned char* slot(std::size_t i) const noexcept { return buf_ + i * ops_->size; }
  // Go's send/recv/bufsend/bufrecv; all need mu_ held. The direct ones
  // complete a dequeued peer's operation and return the Parker to wake once
  // every lock is released.
  Parker* send_direct_locked(ChanWaiter* receiver, void* elem) noexcept;
  Parker* recv_direct_locked(ChanWaiter* sender, void* dst) noexcept;
  void buf_put_locked(void* elem) noexcept;
  void buf_take_locked(void* dst) noexcept;
  // What an operation can do now, the lock held: done (then `wake`, if
  // set, is a peer's Parker to unpark once every lock is released), the
  // channel is closed (for a receive: closed and drained), or it would
  // block. Shared by send, receive and select's first pass.
  enum class NowStatus : std::uint8_t { done, closed, would_block };
  struct Now {
    NowStatus status;
    Parker* wake = nullptr;
  };
  Now send_now_locked(void* elem) noexcept;
  Now recv_now_locked(void* dst) noexcept;
  // Go's chansend / chanrecv: one body for the blocking and the
  // non-blocking form (block = false never parks, and chansend then never
  // throws).
  TrySend chansend(void* elem, bool block);
  TryRecv chanrecv(void* dst, bool block) noexcept;

  std::atomic<std::size_t> refs_{1};
  const ElemOps* const ops_;
  const std::size_t cap_;
  unsigned char* const buf_;  // cap_ slots of ops_->size bytes, in the same allocation
  void* owned_ = nullptr;
  void (*owned_destroy_)(void*) noexcept = nullptr;

  mutable std::mutex mu_;
  // Written under mu_; read without it by len() (relaxed: a snapshot, as Go).
  std::atomic<std::size_t> qcount_{0};
  std::size_t sendx_ = 0;  // guarded by mu_
  std::size_t recvx_ = 0;  // guarded by mu_
  bool closed_ = false;    // guarded by mu_
  WaitQueue recvq_;        // guarded by mu_
  WaitQueue sendq_;        // guarded by mu_
};

// Intrusive reference to a ChanCore; null is Go's nil channel.
class ChanRef {
 public:
  ChanRef() noexcept = default;
  explicit ChanRef(ChanCore* adopt) noexcept : core_(adopt) {}
  ChanRef(const ChanRef& o) noexcept : core_(o.core_) {
    if (core_) core_->retain();
  }
  ChanRef(ChanRef&& o) noexcept : core_(o.core_) { o.core_ = nullptr; }
  ChanRef& operator=(ChanRef o) noexcept {
    std::swap(core_, o.core_);
    return *this;
  }
  ~ChanRef() {
    if (core_) core_->release();
  }
  ChanCore* get() const noexcept { return core_; }

 private:
  ChanCore* core_ = nullptr;
};

// One case of a select, as the engine sees it. Each case owns the
// ChanWaiter it enqueues if the select blocks, so the whole select lives on
// the calling goroutine's stack.
struct SelectCaseRaw {
  ChanCore* chan = nullptr;  // nullptr: a nil channel, never ready
  void* elem = nullptr;      // send: live value; receive: raw storage
  bool is_send = false;
  ChanWaiter waiter;
};

struct SelectResult {
  int index;  // chosen case, or -1: none was ready and block was false
  bool ok;    // receive cases: true if a value was received
};

// Go's selectgo over cases[0..n). `order` is scratch space for 2n entries.
// Throws ChanClosedError if the chosen case sends on a closed channel. With
// block and no non-nil case, parks forever.
SelectResult select_go(SelectCaseRaw* cases, std::uint16_t* order, std::size_t n, bool block);

}  // namespace gofer::detail
