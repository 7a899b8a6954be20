// Channels and select: Go's runtime/chan.go and runtime/select.go over the
// type-erased ChanCore (include/gofer/detail/chan_core.h).
//
// Every operation takes the channel lock, looks for a waiting peer first
// (then the buffer), and either completes or enqueues a ChanWaiter that lives
// on the caller's stack and parks (sync/parker.h). A waker always finishes
// its work on the waiter — moving the element, setting `success` and, for a
// select, `winner` — under the channel lock, then releases the lock, and only
// then unparks: a goroutine is never readied while a channel lock is held.
//
// After unparking, an operation touches nothing of the channel (a timer
// callback holds only a raw pointer; see ChanCore::own).
#include "gofer/chan.h"

#include <algorithm>
#include <limits>
#include <vector>

#include "sync/parker.h"

namespace gofer::detail {

// ---------------------------------------------------------------------------
// WaitQueue

void WaitQueue::enqueue(ChanWaiter* w) noexcept {
  w->next = nullptr;
  w->prev = last;
  if (last) {
    last->next = w;
  } else {
    first = w;
  }
  last = w;
  w->queued = true;
}

void WaitQueue::remove(ChanWaiter* w) noexcept {
  if (!w->queued) return;
  if (w->prev) {
    w->prev->next = w->next;
  } else {
    first = w->next;
  }
  if (w->next) {
    w->next->prev = w->prev;
  } else {
    last = w->prev;
  }
  w->prev = w->next = nullptr;
  w->queued = false;
}

ChanWaiter* WaitQueue::dequeue() noexcept {
  for (;;) {
    ChanWaiter* w = first;
    if (!w) return nullptr;
    remove(w);
    // A select waiter can be claimed only once: if another channel's waker
    // (or a close) won the select, drop this stale record and go on. The
    // select's goroutine will find it unqueued when it cleans up.
    if (w->select) {
      std::uint32_t expected = 0;
      if (!w->select->done.compare_exchange_strong(expected, 1, std::memory_order_acq_rel,
                                                   std::memory_order_relaxed)) {
        continue;
      }
    }
    return w;
  }
}

// ---------------------------------------------------------------------------
// ChanCore

namespace {

constexpr std::size_t round_up(std::size_t n, std::size_t align) {
  return (n + align - 1) / align * align;
}

std::size_t alloc_align(const ElemOps* ops) {
  return std::max(alignof(ChanCore), ops->align);
}
std::size_t header_size(const ElemOps* ops) {
  return round_up(sizeof(ChanCore), ops->align);
}

}  // namespace

ChanCore* ChanCore::make(const ElemOps* ops, std::size_t capacity) {
  const std::size_t header = header_size(ops);
  if (capacity > (std::numeric_limits<std::size_t>::max() - header) / ops->size ||
      capacity > (std::size_t{1} << 40)) {
    throw std::length_error("make_chan: size out of range");
  }
  void* mem = ::operator new(header + capacity * ops->size, std::align_val_t(alloc_align(ops)));
  return ::new (mem) ChanCore(ops, capacity, static_cast<unsigned char*>(mem) + header);
}

void ChanCore::destroy() noexcept {
  // First what the channel owns (an after() timer, whose callback may be
  // running right now and still needs the lock and the buffer).
  if (owned_destroy_) owned_destroy_(owned_);
  const std::size_t n = qcount_.load(std::memory_order_relaxed);
  for (std::size_t i = 0; i < n; ++i) ops_->destroy(slot((recvx_ + i) % cap_));
  const std::size_t align = alloc_align(ops_);
  this->~ChanCore();
  ::operator delete(static_cast<void*>(this), std::align_val_t(align));
}

void ChanCore::buf_put_locked(void* elem) noexcept {
  ops_->move_construct(slot(sendx_), elem);
  if (++sendx_ == cap_) sendx_ = 0;
  qcount_.store(qcount_.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
}

void ChanCore::buf_take_locked(void* dst) noexcept {
  void* head = slot(recvx_);
  ops_->move_construct(dst, head);
  ops_->destroy(head);
  if (++recvx_ == cap_) recvx_ = 0;
  qcount_.store(qcount_.load(std::memory_order_relaxed) - 1, std::memory_order_relaxed);
}

Parker* ChanCore::send_direct_locked(ChanWaiter* receiver, void* elem) noexcept {
  ops_->move_construct(receiver->elem, elem);
  receiver->success = true;
  if (receiver->select) receiver->select->winner = receiver;
  return receiver->parker;
}

Parker* ChanCore::recv_direct_locked(ChanWaiter* sender, void* dst) noexcept {
  if (cap_ == 0) {
    ops_->move_construct(dst, sender->elem);
  } else {
    // The buffer is full (a sender waits): take its head and put the
    // sender's value in the freed slot, which becomes the tail.
    void* head = slot(recvx_);
    ops_->move_construct(dst, head);
    ops_->destroy(head);
    ops_->move_construct(head, sender->elem);
    if (++recvx_ == cap_) recvx_ = 0;
    sendx_ = recvx_;
  }
  sender->success = true;
  if (sender->select) sender->select->winner = sender;
  return sender->parker;
}

ChanCore::Now ChanCore::send_now_locked(void* elem) noexcept {
  if (closed_) return {NowStatus::closed};
  if (ChanWaiter* r = recvq_.dequeue()) return {NowStatus::done, send_direct_locked(r, elem)};
  if (qcount_.load(std::memory_order_relaxed) < cap_) {
    buf_put_locked(elem);
    return {NowStatus::done};
  }
  return {NowStatus::would_block};
}

ChanCore::Now ChanCore::recv_now_locked(void* dst) noexcept {
  if (ChanWaiter* s = sendq_.dequeue()) return {NowStatus::done, recv_direct_locked(s, dst)};
  if (qcount_.load(std::memory_order_relaxed) > 0) {
    buf_take_locked(dst);
    return {NowStatus::done};
  }
  if (closed_) return {NowStatus::closed};
  return {NowStatus::would_block};
}

// Go's chansend(c, ep, block): a waiting receiver takes the value
// directly, else the buffer does, else a blocking send parks until a
// receiver takes it (or close wakes it: Go's panic). Without block, never
// throws and never parks.
TrySend ChanCore::chansend(void* elem, bool block) {
  mu_.lock();
  Now now = send_now_locked(elem);
  if (now.status != NowStatus::would_block || !block) {
    mu_.unlock();
    if (now.wake != nullptr) unpark(*now.wake);
    switch (now.status) {
      case NowStatus::done:
        return TrySend::sent;
      case NowStatus::closed:
        if (block) throw ChanClosedError("send on closed channel");
        return TrySend::closed;
      case NowStatus::would_block:
        return TrySend::full;
    }
  }
  Parker parker;
  ChanWaiter w;
  w.parker = &parker;
  w.elem = elem;
  sendq_.enqueue(&w);
  mu_.unlock();
  park(parker, runtime::WaitReason::chan_send);
  // Woken by a receiver that took the value, or by close.
  if (!w.success) throw ChanClosedError("send on closed channel");
  return TrySend::sent;
}

// Go's chanrecv(c, ep, block): a waiting sender hands its value over
// (through the buffer's head when there is one), else the buffer gives
// one, else a blocking receive parks until a sender or close wakes it.
TryRecv ChanCore::chanrecv(void* dst, bool block) noexcept {
  mu_.lock();
  Now now = recv_now_locked(dst);
  if (now.status != NowStatus::would_block || !block) {
    mu_.unlock();
    if (now.wake != nullptr) unpark(*now.wake);
    switch (now.status) {
      case NowStatus::done:
        return TryRecv::received;
      case NowStatus::closed:
        return TryRecv::closed;
      case NowStatus::would_block:
        return TryRecv::empty;
    }
  }
  Parker parker;
  ChanWaiter w;
  w.parker = &parker;
  w.elem = dst;
  recvq_.enqueue(&w);
  mu_.unlock();
  park(parker, runtime::WaitReason::chan_receive);
  return w.success ? TryRecv::received : TryRecv::closed;
}

void ChanCore::close() {
  mu_.lock();
  if (closed_) {
    mu_.unlock();
    throw ChanClosedError("close of closed channel");
  }
  closed_ = true;
  // Claim every waiter (receivers get "closed", senders will throw), chained
  // through their now unused `next` links, and wake them after unlocking.
  ChanWaiter* head = nullptr;
  ChanWaiter** tail = &head;
  for (WaitQueue* q : {&recvq_, &sendq_}) {
    while (ChanWaiter* w = q->dequeue()) {
      w->success = false;
      if (w->select) w->select->winner = w;
      *tail = w;
      tail = &w->next;
    }
  }
  *tail = nullptr;
  mu_.unlock();
  while (head) {
    ChanWaiter* next = head->next;  // read before unpark: the record dies with it
    unpark(*head->parker);
    head = next;
  }
}

// ---------------------------------------------------------------------------
// select

struct SelectImpl {
  static SelectResult run(SelectCaseRaw* cases, std::uint16_t* order, std::size_t n, bool block);
  static std::size_t order_cases(SelectCaseRaw* cases, std::size_t n, std::uint16_t* pollorder,
                                 std::uint16_t* lockorder);

  static void lock_all(SelectCaseRaw* cases, const std::uint16_t* lockorder, std::size_t n) {
    ChanCore* prev = nullptr;
    for (std::size_t k = 0; k < n; ++k) {
      ChanCore* c = cases[lockorder[k]].chan;
      if (c != prev) c->mu_.lock();  // a channel in several cases is locked once
      prev = c;
    }
  }
  static void unlock_all(SelectCaseRaw* cases, const std::uint16_t* lockorder, std::size_t n) {
    for (std::size_t k = n; k-- > 0;) {
      ChanCore* c = cases[lockorder[k]].chan;
      if (k == 0 || cases[lockorder[k - 1]].chan != c) c->mu_.unlock();
    }
  }
};

// Poll order: a uniformly random permutation of the non-nil cases (inside-
// out Fisher-Yates); nil channels never take part. Lock order: by channel
// address, so that concurrent selects cannot deadlock. Returns the number
// of cases in each order.
std::size_t SelectImpl::order_cases(SelectCaseRaw* cases, std::size_t n, std::uint16_t* pollorder,
                                    std::uint16_t* lockorder) {
  std::size_t norder = 0;
  for (std::size_t i = 0; i < n; ++i) {
    if (cases[i].chan == nullptr) continue;
    const std::uint32_t j = fastrandn(static_cast<std::uint32_t>(norder + 1));
    pollorder[norder] = pollorder[j];
    pollorder[j] = static_cast<std::uint16_t>(i);
    ++norder;
  }
  std::copy(pollorder, pollorder + norder, lockorder);
  std::sort(lockorder, lockorder + norder, [cases](std::uint16_t a, std::uint16_t b) {
    return std::less<ChanCore*>()(cases[a].chan, cases[b].chan);
  });
  return norder;
}

SelectResult SelectImpl::run(SelectCaseRaw* cases, std::uint16_t* order, std::size_t n,
                             bool block) {
  std::uint16_t* pollorder = order;
  std::uint16_t* lockorder = order + n;
  const std::size_t norder = order_cases(cases, n, pollorder, lockorder);
  if (norder == 0) {
    if (!block) return {-1, false};
    if (runtime::current_g() == nullptr) fatal("gofer: select with no cases outside a goroutine");
    for (;;) {
      runtime::park([](runtime::G*, void*) noexcept { return true; }, nullptr,
                    runtime::WaitReason::select_no_cases);
    }
  }

  lock_all(cases, lockorder, norder);

  // Pass 1: look for a case that can proceed now, in poll order.
  for (std::size_t k = 0; k < norder; ++k) {
    const int i = pollorder[k];
    SelectCaseRaw& cs = cases[i];
    ChanCore::Now now =
        cs.is_send ? cs.chan->send_now_locked(cs.elem) : cs.chan->recv_now_locked(cs.elem);
    if (now.status == ChanCore::NowStatus::would_block) continue;
    unlock_all(cases, lockorder, norder);
    if (now.wake != nullptr) unpark(*now.wake);
    if (cs.is_send && now.status == ChanCore::NowStatus::closed) {
      throw ChanClosedError("send on closed channel");
    }
    return {i, !cs.is_send && now.status == ChanCore::NowStatus::done};
  }

  if (!block) {
    unlock_all(cases, lockorder, norder);
    return {-1, false};
  }

  // Pass 2: enqueue on every channel, then park once. The first waker to
  // win `st.done` completes its case and wakes us.
  SelectState st;
  for (std::size_t k = 0; k < norder; ++k) {
    const int i = lockorder[k];
    SelectCaseRaw& cs = cases[i];
    ChanWaiter& w = cs.waiter;
    w = ChanWaiter{};
    w.parker = &st.parker;
    w.select = &st;
    w.elem = cs.elem;
    w.case_index = static_cast<std::uint16_t>(i);
    (cs.is_send ? cs.chan->sendq_ : cs.chan->recvq_).enqueue(&w);
  }
  unlock_all(cases, lockorder, norder);
  park(st.parker, runtime::WaitReason::select);

  // Pass 3: take our other waiters off their queues (wakers that lost the
  // race may already have dropped some of them).
  ChanWaiter* winner = st.winner;
  if (winner == nullptr) fatal("gofer: select woken without a winning case");
  lock_all(cases, lockorder, norder);
  for (std::size_t k = 0; k < norder; ++k) {
    SelectCaseRaw& cs = cases[lockorder[k]];
    if (&cs.waiter == winner) continue;
    (cs.is_send ? cs.chan->sendq_ : cs.chan->recvq_).remove(&cs.waiter);
  }
  unlock_all(cases, lockorder, norder);

  const int i = winner->case_index;
  if (cases[i].is_send) {
    if (!winner->success) throw ChanClosedError("send on closed channel");
    return {i, false};
  }
  return {i, winner->success};
}

SelectResult select_go(SelectCaseRaw* cases, std::uint16_t* order, std::size_t n, bool block) {
  return SelectImpl::run(cases, order, n, block);
}

}  // namespace gofer::detail

namespace gofer {

int select(std::span<SelectCase> cases) {
  int default_index = -1;
  std::vector<int> position;  // raw case -> index in `cases`
  position.reserve(cases.size());
  for (std::size_t i = 0; i < cases.size(); ++i) {
    if (cases[i].is_default()) {
      if (default_index >= 0) throw std::invalid_argument("select: multiple default cases");
      default_index = static_cast<int>(i);
    } else {
      position.push_back(static_cast<int>(i));
    }
  }
  if (position.size() >= 0x8000) throw std::invalid_argument("select: too many cases");
  std::vector<detail::SelectCaseRaw> raw(position.size());
  std::vector<std::uint16_t> order(2 * position.size());
  for (std::size_t k = 0; k < position.size(); ++k) cases[position[k]].fill(raw[k]);
  const detail::SelectResult r =
      detail::select_go(raw.data(), order.data(), raw.size(), default_index < 0);
  if (r.index < 0) {
    cases[default_index].fire(false);
    return default_index;
  }
  const int chosen = position[r.index];
  cases[chosen].fire(r.ok);
  return chosen;
}

}  // namespace gofer
