#include "runtime/poll_desc.h"

#include <array>

#include "runtime/fatal.h"
#include "runtime/netpoll.h"
#include "runtime/park.h"
#include "runtime/sched.h"
#include "runtime/switch.h"

namespace gofer::runtime {
namespace {

// The table of PollDescs: chunks allocated on demand and kept for the life of
// the process (type-stable; see poll_desc.h). Index → PollDesc needs no lock.
constexpr std::uint32_t kChunk = 256;
constexpr std::uint32_t kMaxChunks = 16384;  // 4 Mi descriptors
std::array<std::atomic<PollDesc*>, kMaxChunks> g_chunks;

std::mutex g_free_mu;
PollDesc* g_free = nullptr;   // guarded by g_free_mu
std::uint32_t g_nchunks = 0;  // guarded by g_free_mu

void read_deadline_fired(void* arg, std::uint64_t seq) noexcept;
void recycle(PollDesc* pd);
void write_deadline_fired(void* arg, std::uint64_t seq) noexcept;

std::atomic<std::uintptr_t>& sema(PollDesc* pd, PollMode mode) {
  return mode == PollMode::read ? pd->rg : pd->wg;
}

// Takes the waiter out of a direction's semaphore (Go's netpollunblock).
// With io_ready the direction becomes ready; otherwise (close, deadline) the
// state goes back to nil and the waiter re-checks the error flags.
G* unblock(std::atomic<std::uintptr_t>& gpp, bool io_ready) {
  for (;;) {
    std::uintptr_t old = gpp.load(std::memory_order_seq_cst);
    if (old == kPdReady) return nullptr;
    if (old == kPdNil && !io_ready) return nullptr;
    std::uintptr_t desired = io_ready ? kPdReady : kPdNil;
    // seq_cst: pairs with the waiter's CAS nil→wait and its later load of the
    // error flags (closing, rd, wd) — a Dekker pair: either the waiter sees
    // the flag or we see its wait state.
    if (gpp.compare_exchange_weak(old, desired, std::memory_order_seq_cst)) {
      if (old == kPdWait || old == kPdNil) return nullptr;  // not parked yet: its commit fails
      return reinterpret_cast<G*>(old);
    }
  }
}

bool block_commit(G* g, void* arg) noexcept {
  auto* gpp = static_cast<std::atomic<std::uintptr_t>*>(arg);
  std::uintptr_t expected = kPdWait;
  // Fails if readiness (or close) arrived after the goroutine decided to
  // park: then it resumes at once.
  return gpp->compare_exchange_strong(expected, reinterpret_cast<std::uintptr_t>(g),
                                      std::memory_order_seq_cst);
}

// Go's netpollblock: true if the direction became ready.
bool block(PollDesc* pd, PollMode mode, WaitReason reason) {
  auto& gpp = sema(pd, mode);
  for (;;) {
    std::uintptr_t expected = kPdReady;
    if (gpp.compare_exchange_strong(expected, kPdNil, std::memory_order_seq_cst)) return true;
    expected = kPdNil;
    if (gpp.compare_exchange_strong(expected, kPdWait, std::memory_order_seq_cst)) break;
    if (expected != kPdReady && expected != kPdNil) {
      fatal("two goroutines wait on fd {} for {} at once", pd->fd.load(std::memory_order_relaxed),
            mode == PollMode::read ? "read" : "write");
    }
  }
  // Re-check the error flags after publishing kPdWait (the other half of the
  // Dekker pair in unblock()).
  if (poll_check(pd, mode) == PollError::none) {
    if (reason == WaitReason::none)
      reason = mode == PollMode::read ? WaitReason::io_read : WaitReason::io_write;
    park(&block_commit, &gpp, reason, pd->fd.load(std::memory_order_relaxed));
  }
  std::uintptr_t old = gpp.exchange(kPdNil, std::memory_order_seq_cst);
  GOFER_CHECK(old <= kPdWait || old == reinterpret_cast<std::uintptr_t>(current_g()),
              "poll descriptor of fd {} corrupted", pd->fd.load(std::memory_order_relaxed));
  return old == kPdReady;
}

}  // namespace

void poll_start_when_ready(PollDesc* pd, PollMode mode, detail::Task task, WaitReason reason,
                           void* creator_pc) {
  G* g = new_waiting_goroutine(std::move(task), reason, creator_pc,
                               pd->fd.load(std::memory_order_relaxed), static_cast<int>(mode));
  auto& gpp = sema(pd, mode);
  const auto mine = reinterpret_cast<std::uintptr_t>(g);
  for (;;) {
    std::uintptr_t expected = kPdReady;
    if (gpp.compare_exchange_strong(expected, kPdNil, std::memory_order_seq_cst)) {
      ready(g);  // the readiness came already: start now
      return;
    }
    expected = kPdNil;
    // Published as a parked goroutine is by block_commit: from here on an
    // unblock() takes g and readies it.
    if (gpp.compare_exchange_strong(expected, mine, std::memory_order_seq_cst)) break;
    if (expected != kPdReady) {
      fatal("two goroutines wait on fd {} for {} at once", pd->fd.load(std::memory_order_relaxed),
            mode == PollMode::read ? "read" : "write");
    }
  }
  // The other half of the Dekker pair in unblock(): a close or a deadline
  // that came before g was published found nobody to wake. Take g back and
  // start it; if an unblock() took it first, that one readied it.
  if (poll_check(pd, mode) != PollError::none) {
    std::uintptr_t expected = mine;
    if (gpp.compare_exchange_strong(expected, kPdNil, std::memory_order_seq_cst)) ready(g);
  }
}

PollDesc::PollDesc() : rt(&read_deadline_fired, this), wt(&write_deadline_fired, this) {}

PollDesc* poll_lookup(std::uint32_t index) {
  PollDesc* chunk = g_chunks[index / kChunk].load(std::memory_order_acquire);
  return chunk == nullptr ? nullptr : &chunk[index % kChunk];
}

PollDesc* poll_open(int fd, int* err) {
  PollDesc* pd;
  {
    std::lock_guard lock(g_free_mu);
    if (g_free == nullptr) {
      GOFER_CHECK(g_nchunks < kMaxChunks, "too many poll descriptors");
      auto* chunk = new PollDesc[kChunk];
      for (std::uint32_t i = 0; i < kChunk; ++i) {
        chunk[i].index = g_nchunks * kChunk + i;
        chunk[i].link = i + 1 < kChunk ? &chunk[i + 1] : nullptr;
      }
      // Release: pairs with poll_lookup's acquire load (the poller thread).
      g_chunks[g_nchunks++].store(chunk, std::memory_order_release);
      g_free = chunk;
    }
    pd = g_free;
    g_free = pd->link;
  }
  {
    std::lock_guard lock(pd->mu);
    pd->fd.store(fd, std::memory_order_relaxed);
    pd->closing.store(false, std::memory_order_relaxed);
    pd->rd.store(0, std::memory_order_relaxed);
    pd->wd.store(0, std::memory_order_relaxed);
    pd->rg.store(kPdNil, std::memory_order_relaxed);
    pd->wg.store(kPdNil, std::memory_order_relaxed);
    pd->last_events.store(0, std::memory_order_relaxed);
    pd->read_hup.store(false, std::memory_order_relaxed);
    ++pd->rseq;
    ++pd->wseq;
    pd->rarmed = pd->warmed = 0;
    // Release: the poller reads seq (acquire) to accept events for this fd.
    pd->seq.fetch_add(1, std::memory_order_release);
  }
  *err = netpoll_open(fd, pd);
  if (*err != 0) {
    recycle(pd);
    return nullptr;
  }
  netpoll_fd_opened();
  return pd;
}

void poll_close(PollDesc* pd) {
  GOFER_CHECK(pd->rg.load() <= kPdReady && pd->wg.load() <= kPdReady,
              "closing fd {} while a goroutine waits on it",
              pd->fd.load(std::memory_order_relaxed));
  netpoll_close(pd->fd.load(std::memory_order_relaxed));
  netpoll_fd_closed();
  recycle(pd);
}

namespace {
void recycle(PollDesc* pd) {
  pd->rt.stop_sync();
  pd->wt.stop_sync();
  {
    std::lock_guard lock(pd->mu);
    // Events still queued for this registration carry the old seq: ignored.
    pd->seq.fetch_add(1, std::memory_order_release);
    pd->fd.store(-1, std::memory_order_relaxed);
  }
  std::lock_guard lock(g_free_mu);
  pd->link = g_free;
  g_free = pd;
}
}  // namespace

void poll_evict(PollDesc* pd) {
  G* rg;
  G* wg;
  {
    std::lock_guard lock(pd->mu);
    if (pd->closing.load(std::memory_order_relaxed)) return;
    pd->closing.store(true, std::memory_order_seq_cst);
    ++pd->rseq;
    ++pd->wseq;
    rg = unblock(pd->rg, false);
    wg = unblock(pd->wg, false);
    pd->rt.stop();
    pd->wt.stop();
    pd->rarmed = pd->warmed = 0;
  }
  if (rg != nullptr) ready(rg);
  if (wg != nullptr) ready(wg);
}

PollError poll_check(PollDesc* pd, PollMode mode) {
  if (pd->closing.load(std::memory_order_seq_cst)) return PollError::closing;
  auto& deadline = mode == PollMode::read ? pd->rd : pd->wd;
  if (deadline.load(std::memory_order_seq_cst) < 0) return PollError::timeout;
  return PollError::none;
}

PollError poll_wait(PollDesc* pd, PollMode mode, WaitReason reason) {
  PollError err = poll_check(pd, mode);
  if (err != PollError::none) return err;
  while (!block(pd, mode, reason)) {
    err = poll_check(pd, mode);
    if (err != PollError::none) return err;
    // Woken by a deadline that was extended before we ran: wait again.
  }
  return PollError::none;
}

namespace {

void deadline_fired(PollDesc* pd, std::uint64_t seq, PollMode mode) {
  G* g;
  {
    std::lock_guard lock(pd->mu);
    std::uint64_t& cur_seq = mode == PollMode::read ? pd->rseq : pd->wseq;
    if (seq != cur_seq) return;  // re-armed, cleared or closed since
    std::int64_t& armed = mode == PollMode::read ? pd->rarmed : pd->warmed;
    auto& deadline = mode == PollMode::read ? pd->rd : pd->wd;
    armed = 0;
    // A matching seq means the deadline was set and only moved later since
    // the timer was armed (see rarmed): not due yet, wait for the new one.
    std::int64_t d = deadline.load(std::memory_order_relaxed);
    if (d > nanotime()) {
      (mode == PollMode::read ? pd->rt : pd->wt).reset(d, 0, &cur_seq);
      armed = d;
      return;
    }
    deadline.store(-1, std::memory_order_seq_cst);
    g = unblock(sema(pd, mode), false);
  }
  if (g != nullptr) ready(g);
}

void read_deadline_fired(void* arg, std::uint64_t seq) noexcept {
  deadline_fired(static_cast<PollDesc*>(arg), seq, PollMode::read);
}
void write_deadline_fired(void* arg, std::uint64_t seq) noexcept {
  deadline_fired(static_cast<PollDesc*>(arg), seq, PollMode::write);
}

}  // namespace

void poll_set_deadline(PollDesc* pd, std::int64_t deadline, PollMode mode) {
  G* rg = nullptr;
  G* wg = nullptr;
  std::int64_t now = nanotime();
  if (deadline > 0 && deadline <= now) deadline = -1;  // already past: expire now
  {
    std::lock_guard lock(pd->mu);
    if (pd->closing.load(std::memory_order_relaxed)) return;
    auto arm = [&](std::atomic<std::int64_t>& d, Timer& t, std::uint64_t& seq, std::int64_t& armed,
                   PollMode m) {
      d.store(deadline, std::memory_order_seq_cst);
      if (deadline > 0) {
        // Later than the armed timer: it fires first and re-arms itself.
        if (armed == 0 || deadline < armed) {
          t.reset(deadline, 0, &seq);
          armed = deadline;
        }
      } else {
        if (armed != 0) t.stop();
        armed = 0;
        ++seq;
      }
      if (deadline < 0) {
        G* g = unblock(sema(pd, m), false);
        (m == PollMode::read ? rg : wg) = g;
      }
    };
    if (mode == PollMode::read || mode == PollMode::both)
      arm(pd->rd, pd->rt, pd->rseq, pd->rarmed, PollMode::read);
    if (mode == PollMode::write || mode == PollMode::both)
      arm(pd->wd, pd->wt, pd->wseq, pd->warmed, PollMode::write);
  }
  if (rg != nullptr) ready(rg);
  if (wg != nullptr) ready(wg);
}

void poll_ready(PollDesc* pd, std::uint32_t seq, bool read, bool write, G** head, G** tail,
                int* count) {
  // Acquire: pairs with the release increments in poll_open/poll_close.
  if (pd->seq.load(std::memory_order_acquire) != seq) return;  // stale: fd was closed/reused
  auto append = [&](G* g) {
    if (g == nullptr) return;
    g->schedlink = nullptr;
    if (*tail != nullptr)
      (*tail)->schedlink = g;
    else
      *head = g;
    *tail = g;
    ++*count;
  };
  if (read) append(unblock(pd->rg, true));
  if (write) append(unblock(pd->wg, true));
}

}  // namespace gofer::runtime
