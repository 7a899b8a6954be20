// The scheduler loop: how an M finds a goroutine to run, runs it, and sleeps
// when there is none (Go's schedule/findRunnable/execute, wakep/startm/stopm).
// The protocol and the structures are described in sched.h; the switch
// itself in switch.cpp.
#include "runtime/sched.h"

#include <algorithm>
#include <climits>

#include "runtime/fatal.h"
#include "runtime/netpoll.h"
#include "runtime/switch.h"
#include "runtime/trace.h"

namespace gofer::runtime {

Sched* g_sched = nullptr;

namespace {

// ---- idle lists (Sched::mu held) -------------------------------------------

void pidleput_locked(Sched& s, P* p) {
  GOFER_CHECK(p->runq.empty() || s.stopping.load(std::memory_order_relaxed),
              "P{} put idle with runnable goroutines", p->id);
  p->status = PStatus::idle;
  p->idle.store(true, std::memory_order_seq_cst);
  p->link = s.pidle;
  s.pidle = p;
  p->idle_since = coarse_nanotime();
  s.npidle.fetch_add(1, std::memory_order_seq_cst);
}

// An idle P: `prefer` if it is idle, else any.
P* pidleget_locked(Sched& s, P* prefer = nullptr) {
  P** link = &s.pidle;
  if (prefer != nullptr) {
    while (*link != nullptr && *link != prefer) link = &(*link)->link;
    if (*link == nullptr) link = &s.pidle;
  }
  P* p = *link;
  if (p != nullptr) {
    *link = p->link;
    p->link = nullptr;
    p->idle_ns += coarse_nanotime() - p->idle_since;
    p->idle_since = 0;
    p->idle.store(false, std::memory_order_relaxed);
    s.npidle.fetch_sub(1, std::memory_order_seq_cst);
  }
  return p;
}

void mput_locked(Sched& s, M* m) {
  m->link = s.midle;
  s.midle = m;
  ++s.nmidle;
}

M* mget_locked(Sched& s) {
  M* m = s.midle;
  if (m != nullptr) {
    s.midle = m->link;
    m->link = nullptr;
    --s.nmidle;
  }
  return m;
}

void acquirep(M* m, P* p) {
  GOFER_CHECK(m->p == nullptr && p->m == nullptr, "M{} acquires P{} that is taken", m->id, p->id);
  m->p = p;
  p->m = m;
  p->status = PStatus::running;
  m->p_id.store(p->id, std::memory_order_relaxed);
}

P* releasep(M* m) {
  P* p = m->p;
  m->p = nullptr;
  p->m = nullptr;
  m->p_id.store(-1, std::memory_order_relaxed);
  return p;
}

// Takes a batch from the global queue: one to run, some more into p's local
// queue (Go's globrunqget). Sched::mu held.
G* globrunq_get_locked(Sched& s, P* p, int max) {
  int size = s.runq_size.load(std::memory_order_relaxed);
  if (size == 0) return nullptr;
  int n = std::min(size, size / s.procs + 1);
  if (max > 0) n = std::min(n, max);
  n = std::min(n, static_cast<int>(RunQueue::kSize / 2));
  s.runq_size.fetch_sub(n, std::memory_order_relaxed);
  G* g = s.runq_head;
  s.runq_head = g->schedlink;
  for (int i = 1; i < n; ++i) {
    G* g2 = s.runq_head;
    s.runq_head = g2->schedlink;
    p->runq.put_tail(g2);  // cannot fail: the caller's queue is empty or nearly
  }
  if (s.runq_head == nullptr) s.runq_tail = nullptr;
  g->schedlink = nullptr;
  return g;
}

// ---- starting and stopping Ms ----------------------------------------------

void mstart(M* m);

void newm(P* p, bool spinning) {
  Sched& s = *g_sched;
  M* m = new M;
  m->nextp = p;
  m->spinning = spinning;
  m->state_clock.start(spinning ? MState::spinning : MState::running);
  {
    std::lock_guard lock(s.mu);
    if (s.stopping.load(std::memory_order_relaxed)) {
      // run() is joining the Ms it knows: start no new one.
      pidleput_locked(s, p);
      if (spinning) s.nmspinning.fetch_sub(1, std::memory_order_seq_cst);
      delete m;
      return;
    }
    m->id = static_cast<int>(s.allm.size());
    m->fastrand_state = 0x9E3779B97F4A7C15ULL * (m->id + 1);
    s.allm.push_back(m);
  }
  s.mcount.fetch_add(1, std::memory_order_relaxed);
  m->thread = std::thread(mstart, m);
}

// Starts an M to run p (or any idle P if p is null). With spinning, the
// caller has counted the new M in nmspinning.
void startm(P* p, bool spinning) {
  Sched& s = *g_sched;
  M* m;
  {
    std::lock_guard lock(s.mu);
    if (p == nullptr) p = pidleget_locked(s);
    if (p == nullptr) {
      if (spinning) s.nmspinning.fetch_sub(1, std::memory_order_seq_cst);
      return;
    }
    m = mget_locked(s);
  }
  s.stat_thread_wakeups.fetch_add(1, std::memory_order_relaxed);
  if (m == nullptr) {
    newm(p, spinning);
    return;
  }
  m->spinning = spinning;
  m->nextp = p;
  m->park.wakeup();  // release: nextp and spinning are visible to m
}

// Puts m to sleep until it is handed a P. Returns false at shutdown.
bool stopm(M* m) {
  Sched& s = *g_sched;
  {
    std::lock_guard lock(s.mu);
    if (s.stopping.load(std::memory_order_relaxed)) return false;
    mput_locked(s, m);
  }
  m->state_clock.enter(MState::futex);
  m->park.sleep();
  m->park.clear();
  // startm() set spinning before its wakeup (release; sleep() acquires).
  m->state_clock.enter(m->spinning ? MState::spinning : MState::running);
  if (m->nextp == nullptr) return false;
  acquirep(m, m->nextp);
  m->nextp = nullptr;
  return true;
}

void reset_spinning(M* m) {
  Sched& s = *g_sched;
  m->spinning = false;
  m->state_clock.enter(MState::running);
  int n = s.nmspinning.fetch_sub(1, std::memory_order_seq_cst) - 1;
  GOFER_CHECK(n >= 0, "negative nmspinning");
  // We were the last spinner and found work: there may be more, so make
  // sure someone keeps looking.
  if (n == 0 && s.npidle.load(std::memory_order_seq_cst) > 0) wakep();
}

// ---- timers ----------------------------------------------------------------

std::atomic<int> g_open_fds{0};

// After p was put idle by an M that does not poll itself. p's timers
// counted with the grace while p was held (timers_for), so a poller may
// sleep past them: make it look again. And nobody may be polling at all:
// the M that polled last took a P and runs goroutines, the others sleep
// on their Note. Then p's timers, or with every P idle the network, would
// wait until some M happens to go idle (blocking() can last any time):
// wake one, which polls if it finds nothing to do (Go's handoffp and
// wakeNetPoller do the same).
void p_went_idle(P* p) noexcept {
  Sched& s = *g_sched;
  std::int64_t w = p->timers.when0.load(std::memory_order_seq_cst);
  // seq_cst: after the store of p->idle; pairs with the poller's store of
  // poll_until and re-read of the timers (netpoll_wake_if_later).
  if (s.poll_until.load(std::memory_order_seq_cst) != 0) {
    if (w != 0) netpoll_wake_if_later(w);
    return;
  }
  bool network_unwatched = g_open_fds.load(std::memory_order_relaxed) > 0 &&
                           s.npidle.load(std::memory_order_seq_cst) == s.procs;
  if (w != 0 || network_unwatched) wakep();
}

// The earliest `when` of p's timers that the caller may fire: all of them
// if p is the caller's or idle, else only those overdue by the grace (p's
// own M fires the others). 0: none.
std::int64_t timers_for(P* p, P* own) noexcept {
  std::int64_t w = p->timers.when0.load(std::memory_order_seq_cst);
  if (w == 0 || p == own || p->idle.load(std::memory_order_seq_cst)) return w;
  return w + kTimerGraceNs;
}

// Fires p's due timers on m (which holds a P). The goroutines they ready
// queue on m's P. While that run queue is more than a quarter full, timers
// fire only at every 8th switch, a few at a time: the readied goroutines
// would run no sooner behind the ones queued already, and more would spill
// to the global queue (the rest stay due and fire in batches as the queue
// drains, which is also when the clock is read). Never not at all: a P
// whose goroutines yield in a loop still fires its timers. Returns true if
// any fired. Cheap when none is due: one load, and the clock is read only
// if a timer exists.
bool fire_timers(M* m, P* p, std::int64_t& now) {
  constexpr int kQueueLong = RunQueue::kSize / 4;
  constexpr int kTrickle = 8;
  std::int64_t w = timers_for(p, m->p);
  if (w == 0) return false;
  int queued = static_cast<int>(m->p->runq.size());
  if (queued > kQueueLong && m->p->schedtick % 8 != 0) return false;
  if (now == 0) now = nanotime();
  if (w > now) return false;
  m->firing_timers = true;
  p->timers.run_due(now, std::max(kTrickle, static_cast<int>(RunQueue::kSize / 2) - queued));
  m->firing_timers = false;
  // One decision for the batch, and another M only for surplus: this M
  // runs the first goroutine itself (a P waking from the poller for its
  // timer wakes no other M).
  if (m->p->runq.size() > 1) wakep();
  return true;
}

// Fires the due timers of other Ps that m may take over (timers_for), for
// an M that found nothing else to do. Returns true if any fired.
bool steal_timers(M* m) {
  std::int64_t now = 0;
  bool fired = false;
  for (P* p : g_sched->allp) {
    if (p != m->p) fired |= fire_timers(m, p, now);
  }
  return fired;
}

// ---- finding work ----------------------------------------------------------

G* steal_work(M* m) {
  Sched& s = *g_sched;
  constexpr int kStealTries = 4;
  for (int i = 0; i < kStealTries; ++i) {
    bool last = i == kStealTries - 1;
    std::uint32_t start = m->fastrand();
    for (int k = 0; k < s.procs; ++k) {
      P* victim = s.allp[(start + k) % s.procs];
      if (victim == m->p) continue;
      if (G* g = m->p->runq.steal_from(victim->runq, last)) {
        m->p->stat_steals.fetch_add(1, std::memory_order_relaxed);
        return g;
      }
    }
  }
  return nullptr;
}

// Of goroutines the netpoller woke: runs the first now, queues the rest.
G* take_first_inject_rest(G* list, int n) {
  G* g = list;
  G* rest = g->schedlink;
  g->schedlink = nullptr;
  if (n > 1) inject_list(rest, n - 1);
  cas_status(g, GStatus::waiting, GStatus::runnable);
  trace_go(TraceKind::go_unpark, g, static_cast<std::int64_t>(TraceUnpark::netpoll));
  return g;
}

// Go's findRunnable. Returns nullptr only at shutdown (without a P).
G* find_runnable(M* m) {
  Sched& s = *g_sched;
top:
  P* p = m->p;
  if (s.stopping.load(std::memory_order_relaxed)) {
    if (m->spinning) {
      m->spinning = false;
      s.nmspinning.fetch_sub(1, std::memory_order_seq_cst);
    }
    std::lock_guard lock(s.mu);
    pidleput_locked(s, releasep(m));
    return nullptr;
  }
  std::int64_t now = 0;
  fire_timers(m, p, now);
  // A P idle with timers while nobody sleeps in the poller: the M that
  // polled last took a P and runs goroutines. With no monitor thread to
  // watch the clock, the Ms that hold Ps fire those timers, or they would
  // wait until one of them goes idle. Costs one load while no P is idle.
  if (s.npidle.load(std::memory_order_relaxed) > 0 &&
      !s.poller_taken.load(std::memory_order_relaxed)) {
    steal_timers(m);
  }

  // Now and then, look at the global queue and the network even when local
  // work exists, so that neither starves (we have no sysmon to do it).
  if (p->schedtick % 61 == 0) {
    if (s.runq_size.load(std::memory_order_relaxed) > 0) {
      std::lock_guard lock(s.mu);
      if (G* g = globrunq_get_locked(s, p, 1)) return g;
    }
    if (g_open_fds.load(std::memory_order_relaxed) > 0 &&
        !s.poller_taken.load(std::memory_order_relaxed)) {
      int n;
      if (G* list = netpoll(0, &n)) {
        inject_list(list, n);
      }
    }
  }
  if (G* g = p->runq.get()) return g;
  if (s.runq_size.load(std::memory_order_relaxed) > 0) {
    std::lock_guard lock(s.mu);
    if (G* g = globrunq_get_locked(s, p, 0)) return g;
  }
  // The network, without blocking, if nobody blocks in it already.
  if (g_open_fds.load(std::memory_order_relaxed) > 0 &&
      !s.poller_taken.load(std::memory_order_relaxed)) {
    int n;
    if (G* list = netpoll(0, &n)) return take_first_inject_rest(list, n);
  }
  // Steal, if not too many Ms are at it already (spinning Ms burn CPU).
  int busy = s.procs - s.npidle.load(std::memory_order_seq_cst);
  if (m->spinning || 2 * s.nmspinning.load(std::memory_order_seq_cst) < busy) {
    if (!m->spinning) {
      m->spinning = true;
      m->state_clock.enter(MState::spinning);
      s.nmspinning.fetch_add(1, std::memory_order_seq_cst);
    }
    if (G* g = steal_work(m)) return g;
  }
  // Nothing to run or steal: the timers of idle Ps, and overdue ones of Ps
  // whose M is stuck in a goroutine, are ours to fire.
  if (steal_timers(m)) {
    if (G* g = p->runq.get()) return g;
  }

  // Nothing to do: give up the P.
  {
    std::lock_guard lock(s.mu);
    if (G* g = globrunq_get_locked(s, p, 0)) return g;
    pidleput_locked(s, releasep(m));
  }
  if (m->spinning) {
    m->spinning = false;
    m->state_clock.enter(MState::running);
    s.nmspinning.fetch_sub(1, std::memory_order_seq_cst);
    // The StoreLoad half of the no-lost-wake-up protocol: a submitter puts
    // work then loads nmspinning; we stored nmspinning and now load the
    // queues. One of us sees the other.
    std::atomic_thread_fence(std::memory_order_seq_cst);
    for (P* p2 : s.allp) {
      if (!p2->runq.empty() || s.runq_size.load(std::memory_order_seq_cst) > 0) {
        P* got;
        {
          std::lock_guard lock(s.mu);
          got = pidleget_locked(s);
        }
        if (got != nullptr) {
          acquirep(m, got);
          m->spinning = true;
          m->state_clock.enter(MState::spinning);
          s.nmspinning.fetch_add(1, std::memory_order_seq_cst);
          goto top;
        }
        break;
      }
    }
  }

  // Block in the netpoller if nobody else does: it is also how an idle
  // process sleeps until its next timer.
  if (!s.poller_taken.exchange(true, std::memory_order_acq_rel)) {
    P* owner = nullptr;
    std::int64_t next = earliest_timer(&owner);
    s.poll_until.store(next == 0 ? INT64_MAX : next, std::memory_order_seq_cst);
    // Re-read after publishing poll_until: a timer added (or a P with
    // timers released) in between either is seen here or sees poll_until
    // and breaks the poll.
    P* owner_again = nullptr;
    std::int64_t again = earliest_timer(&owner_again);
    if (again != 0 && (next == 0 || again < next)) {
      next = again;
      owner = owner_again;
    }
    std::int64_t delay = -1;
    if (next != 0) delay = std::max<std::int64_t>(0, next - nanotime());
    int n = 0;
    G* list = nullptr;
    m->in_netpoll.store(true, std::memory_order_relaxed);
    m->state_clock.enter(MState::netpoll);
    trace(TraceKind::poll_block, -1, delay);
    if (!s.stopping.load(std::memory_order_seq_cst)) list = netpoll(delay, &n);
    trace(TraceKind::poll_wake, -1, n);
    m->state_clock.enter(MState::running);
    m->in_netpoll.store(false, std::memory_order_relaxed);
    s.poll_until.store(0, std::memory_order_seq_cst);
    s.poller_taken.store(false, std::memory_order_release);
    s.stat_poll_wakeups.fetch_add(1, std::memory_order_relaxed);
    P* got;
    {
      // The P whose timer we slept for, so that it fires there.
      std::lock_guard lock(s.mu);
      got = pidleget_locked(s, owner);
    }
    if (got == nullptr) {
      if (list != nullptr) inject_list(list, n);
      if (!stopm(m)) return nullptr;
      goto top;
    }
    acquirep(m, got);
    if (list != nullptr) return take_first_inject_rest(list, n);
    goto top;
  }
  p_went_idle(p);  // another M polls
  if (!stopm(m)) return nullptr;
  goto top;
}

void mstart(M* m) {
  set_current_m(m);
  thread_init(m);
  acquirep(m, m->nextp);
  m->nextp = nullptr;
  schedule(m);
  thread_fini(m);
  set_current_m(nullptr);
}

}  // namespace

int open_fd_count() noexcept {
  return g_open_fds.load(std::memory_order_relaxed);
}

void netpoll_fd_opened() noexcept {
  g_open_fds.fetch_add(1, std::memory_order_relaxed);
}
void netpoll_fd_closed() noexcept {
  g_open_fds.fetch_sub(1, std::memory_order_relaxed);
}

void wakep() {
  Sched& s = *g_sched;
  // The other half of the StoreLoad pair in find_runnable: our caller put
  // work on a queue; the fence orders that before these loads.
  std::atomic_thread_fence(std::memory_order_seq_cst);
  if (s.npidle.load(std::memory_order_relaxed) == 0) return;
  int expected = 0;
  if (s.nmspinning.load(std::memory_order_relaxed) != 0 ||
      !s.nmspinning.compare_exchange_strong(expected, 1, std::memory_order_seq_cst)) {
    return;
  }
  startm(nullptr, true);
}

void runq_put(P* p, G* g, bool next) {
  if (next) {
    g = p->runq.put_next(g);
    if (g == nullptr) return;
  }
  while (!p->runq.put_tail(g)) {
    int n;
    if (G* list = p->runq.take_half_for_global(g, &n)) {
      G* tail = list;
      while (tail->schedlink != nullptr) tail = tail->schedlink;
      std::lock_guard lock(g_sched->mu);
      globrunq_put_batch_locked(list, tail, n);
      return;
    }
  }
}

void globrunq_put_batch_locked(G* head, G* tail, int n) {
  Sched& s = *g_sched;
  tail->schedlink = nullptr;
  if (s.runq_tail != nullptr)
    s.runq_tail->schedlink = head;
  else
    s.runq_head = head;
  s.runq_tail = tail;
  s.runq_size.fetch_add(n, std::memory_order_seq_cst);
}

void inject_list(G* head, int n) {
  if (head == nullptr) return;
  for (G* g = head; g != nullptr; g = g->schedlink) {
    cas_status(g, GStatus::waiting, GStatus::runnable);
    trace_go(TraceKind::go_unpark, g, static_cast<std::int64_t>(TraceUnpark::netpoll));
  }
  M* m = current_m();
  if (m != nullptr && m->p != nullptr) {
    while (head != nullptr) {
      G* g = head;
      head = g->schedlink;
      g->schedlink = nullptr;
      runq_put(m->p, g, false);
    }
  } else {
    G* tail = head;
    while (tail->schedlink != nullptr) tail = tail->schedlink;
    std::lock_guard lock(g_sched->mu);
    globrunq_put_batch_locked(head, tail, n);
  }
  wakep();
}

std::int64_t earliest_timer(P** owner) noexcept {
  std::int64_t best = 0;
  for (P* p : g_sched->allp) {
    std::int64_t w = timers_for(p, nullptr);
    if (w != 0 && (best == 0 || w < best)) {
      best = w;
      if (owner != nullptr) *owner = p;
    }
  }
  return best;
}

void netpoll_wake_if_later(std::int64_t when) noexcept {
  // seq_cst load after the seq_cst store of when0 in push_locked (or of
  // P::idle in pidleput_locked): pairs with the poller's store of
  // poll_until and re-read of both.
  std::int64_t until = g_sched->poll_until.load(std::memory_order_seq_cst);
  if (until != 0 && when < until) netpoll_break();
}

void netpoll_timer_added(P* p, std::int64_t when) noexcept {
  M* m = current_m();
  if (m != nullptr && m->p == p) {
    // Our own P: we fire it. The poller counts it only with the grace
    // (timers_for), until we give the P up (then p_went_idle tells it).
    netpoll_wake_if_later(when + kTimerGraceNs);
    return;
  }
  // Armed from a thread without a P, in an idle P's heap (or a busy one's):
  // the poller must see it; if nobody polls, make sure an M looks for work.
  if (g_sched->poll_until.load(std::memory_order_seq_cst) != 0) {
    netpoll_wake_if_later(when);
  } else {
    wakep();
  }
}

void schedule(M* m) {
  for (;;) {
    G* g = find_runnable(m);
    if (g == nullptr) return;
    if (m->spinning) reset_spinning(m);
    while (g != nullptr) g = execute(m, g);
    if (m->p == nullptr && !stopm(m)) return;  // the M lost its P in blocking()
  }
}

// ---- blocking() ------------------------------------------------------------

void handoffp(P* p) {
  Sched& s = *g_sched;
  if (!p->runq.empty() || s.runq_size.load(std::memory_order_seq_cst) > 0) {
    startm(p, false);
    return;
  }
  // No M is looking for work: start a spinner on this P, in case work comes.
  int expected = 0;
  if (s.nmspinning.load(std::memory_order_seq_cst) + s.npidle.load(std::memory_order_seq_cst) ==
          0 &&
      s.nmspinning.compare_exchange_strong(expected, 1, std::memory_order_seq_cst)) {
    startm(p, true);
    return;
  }
  {
    std::lock_guard lock(s.mu);
    pidleput_locked(s, p);
  }
  p_went_idle(p);
}

void enter_blocking_impl() {
  M* m = current_m();
  GOFER_CHECK(m != nullptr && m->curg != nullptr, "blocking() called outside a goroutine");
  G* g = m->curg;
  m->state_clock.enter(MState::blocking);
  g->wait_reason.store(WaitReason::blocking_call, std::memory_order_relaxed);
  cas_status(g, GStatus::running, GStatus::syscall);
  handoffp(releasep(m));
}

void exit_blocking_impl() {
  Sched& s = *g_sched;
  M* m = current_m();
  m->state_clock.enter(MState::running);
  G* g = m->curg;
  P* p;
  {
    std::lock_guard lock(s.mu);
    p = pidleget_locked(s);
  }
  if (p != nullptr) {
    acquirep(m, p);
    cas_status(g, GStatus::syscall, GStatus::running);
    g->wait_reason.store(WaitReason::none, std::memory_order_relaxed);
    return;
  }
  // Every P is busy: queue the goroutine and put this M to sleep (on g0).
  switch_to_g0(SwitchReason::blocking_exit);
}

// ---- Sched -----------------------------------------------------------------

namespace {
// Ps outlive a run: a Timer that escaped a run still points to its P.
std::vector<P*>& persistent_ps() {
  static auto* ps = new std::vector<P*>;
  return *ps;
}
}  // namespace

Sched::Sched(int procs_, std::size_t stack_size)
    : procs(procs_), stacks(stack_size), start_ns(coarse_nanotime()) {
  auto& ps = persistent_ps();
  while (static_cast<int>(ps.size()) < procs) ps.push_back(new P);
  for (int i = 0; i < procs; ++i) {
    P* p = ps[i];
    p->id = i;
    p->status = PStatus::idle;
    p->m = nullptr;
    p->link = nullptr;
    p->schedtick = 0;
    p->runq.clear();  // goroutines abandoned by the previous run
    p->gfree = nullptr;
    p->gfree_count = 0;
    p->goid_next = p->goid_end = 0;
    p->gcount_delta.store(0, std::memory_order_relaxed);
    p->stat_steals.store(0, std::memory_order_relaxed);
    p->idle_since = 0;
    p->idle_ns = 0;
    allp.push_back(p);
  }
}

Sched::~Sched() {
  for (P* p : allp) {
    p->stacks.drain(stacks);
    // Timers still armed belong to goroutines that were abandoned: unlink
    // them so that their owners' destructors (if ever run) find nothing.
    std::lock_guard lock(p->timers.mu);
    p->timers.clear_locked();
  }
  for (M* m : allm) delete m;
}

}  // namespace gofer::runtime
