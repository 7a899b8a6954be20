// The public face of the runtime: run(), go(), yield(), blocking(), and
// park()/ready() for the layers above. The machinery is in sched.cpp
// (finding work) and switch.cpp (the switch itself).
#include <signal.h>
#include <time.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "gofer/runtime.h"
#include "runtime/fatal.h"
#include "runtime/netpoll.h"
#include "runtime/park.h"
#include "runtime/sched.h"
#include "runtime/switch.h"
#include "runtime/trace.h"

namespace gofer {
namespace runtime {

const char* to_string(WaitReason reason) noexcept {
  switch (reason) {
    case WaitReason::none:
      return "";
    case WaitReason::chan_receive:
      return "chan receive";
    case WaitReason::chan_send:
      return "chan send";
    case WaitReason::chan_receive_nil:
      return "chan receive (nil chan)";
    case WaitReason::chan_send_nil:
      return "chan send (nil chan)";
    case WaitReason::select:
      return "select";
    case WaitReason::select_no_cases:
      return "select (no cases)";
    case WaitReason::sleep:
      return "sleep";
    case WaitReason::sync_mutex:
      return "sync.Mutex.Lock";
    case WaitReason::sync_rwmutex_read:
      return "sync.RWMutex.RLock";
    case WaitReason::sync_rwmutex_write:
      return "sync.RWMutex.Lock";
    case WaitReason::sync_wait_group:
      return "sync.WaitGroup.Wait";
    case WaitReason::sync_cond:
      return "sync.Cond.Wait";
    case WaitReason::sync_once:
      return "sync.Once.Do";
    case WaitReason::semaphore:
      return "semacquire";
    case WaitReason::io_read:
      return "IO wait (read)";
    case WaitReason::io_write:
      return "IO wait (write)";
    case WaitReason::io_accept:
      return "IO wait (accept)";
    case WaitReason::io_connect:
      return "IO wait (connect)";
    case WaitReason::blocking_call:
      return "blocking call";
  }
  return "?";
}

std::int64_t nanotime() noexcept {
  timespec ts;
  ::clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1'000'000'000LL + ts.tv_nsec;
}

std::int64_t coarse_nanotime() noexcept {
  // A few ns (no rdtsc, jiffy resolution): good enough for "waiting since".
  timespec ts;
  ::clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
  return ts.tv_sec * 1'000'000'000LL + ts.tv_nsec;
}

std::uint64_t goid(const G* g) noexcept {
  return g->id;
}

void park(ParkCommit commit, void* arg, WaitReason reason, int fd) {
  M* m = current_m();
  GOFER_CHECK(m != nullptr && m->curg != nullptr,
              "a goroutine operation ({}) was called outside a goroutine", to_string(reason));
  G* g = m->curg;
  g->wait_reason.store(reason, std::memory_order_relaxed);
  g->status_since.store(coarse_nanotime(), std::memory_order_relaxed);
  m->park_commit = commit;
  m->park_arg = arg;
  m->trace_park_fd = fd;
  switch_to_g0(SwitchReason::park);
  g->wait_reason.store(WaitReason::none, std::memory_order_relaxed);
}

void park_unlock(std::mutex& mu, WaitReason reason) {
  park(
      [](G*, void* arg) noexcept {
        static_cast<std::mutex*>(arg)->unlock();
        return true;
      },
      &mu, reason);
}

void ready(G* g) {
  cas_status(g, GStatus::waiting, GStatus::runnable);
  trace_go(TraceKind::go_unpark, g, static_cast<std::int64_t>(TraceUnpark::ready));
  M* m = current_m();
  if (m != nullptr && m->p != nullptr) {
    // A goroutine that wakes its partner hands it the rest of its slice
    // (runnext); wake-ups from the scheduler's own stack (timers firing in a
    // batch) queue in order, so that earlier deadlines run first.
    runq_put(m->p, g, m->curg != nullptr);
    // Timers firing: whether another M is needed is decided once, after the
    // batch (fire_timers in sched.cpp).
    if (m->firing_timers) return;
  } else {
    std::lock_guard lock(g_sched->mu);
    globrunq_put_batch_locked(g, g, 1);
  }
  wakep();
}

G* gfget(P* p) {
  Sched& s = *g_sched;
  if (p->gfree == nullptr) {
    {
      std::lock_guard lock(s.mu);
      while (s.gfree != nullptr && p->gfree_count < 32) {
        G* g = s.gfree;
        s.gfree = g->schedlink;
        --s.gfree_count;
        g->schedlink = p->gfree;
        p->gfree = g;
        ++p->gfree_count;
      }
    }
    if (p->gfree == nullptr) {
      p->gfree = s.gs.allocate_batch(&p->gfree_count);
    }
  }
  G* g = p->gfree;
  p->gfree = g->schedlink;
  --p->gfree_count;
  g->schedlink = nullptr;
  return g;
}

void gfput(P* p, G* g) {
  g->schedlink = p->gfree;
  p->gfree = g;
  if (++p->gfree_count > 64) {
    Sched& s = *g_sched;
    std::lock_guard lock(s.mu);
    while (p->gfree_count > 32) {
      G* x = p->gfree;
      p->gfree = x->schedlink;
      --p->gfree_count;
      x->schedlink = s.gfree;
      s.gfree = x;
      ++s.gfree_count;
    }
  }
}

namespace {

G* gfget_global() {
  Sched& s = *g_sched;
  std::lock_guard lock(s.mu);
  if (s.gfree == nullptr) {
    int n;
    s.gfree = s.gs.allocate_batch(&n);
    s.gfree_count = n;
  }
  G* g = s.gfree;
  s.gfree = g->schedlink;
  --s.gfree_count;
  g->schedlink = nullptr;
  return g;
}

std::uint64_t new_goid(P* p) {
  constexpr std::uint64_t kBatch = 16;
  if (p == nullptr) return g_sched->goid_gen.fetch_add(1, std::memory_order_relaxed) + 1;
  if (p->goid_next == p->goid_end) {
    p->goid_next = g_sched->goid_gen.fetch_add(kBatch, std::memory_order_relaxed) + 1;
    p->goid_end = p->goid_next + kBatch;
  }
  return p->goid_next++;
}

// ---- stack overflow on a guard page --------------------------------------

struct sigaction g_old_segv;

void on_segv(int sig, siginfo_t* info, void* uctx) {
  M* m = current_m();
  G* g = m != nullptr ? m->curg : nullptr;
  if (g != nullptr && g->stack) {
    auto* addr = static_cast<std::uint8_t*>(info->si_addr);
    // The guard page, or a frame that jumped a little past it.
    if (addr < g->stack.lo && addr + 64 * 1024 >= g->stack.lo) {
      char buf[160];
      int n = std::snprintf(buf, sizeof buf,
                            "gofer: fatal error: goroutine %llu: stack overflow "
                            "(stack of %zu KiB, fault at %p)\n",
                            static_cast<unsigned long long>(g->id), g->stack.size / 1024,
                            info->si_addr);
      (void)!::write(STDERR_FILENO, buf, static_cast<std::size_t>(n));
      std::abort();
    }
  }
  // Not ours: hand it to whoever handled SIGSEGV before us (or the default).
  if (g_old_segv.sa_flags & SA_SIGINFO) {
    if (g_old_segv.sa_sigaction != nullptr) {
      g_old_segv.sa_sigaction(sig, info, uctx);
      return;
    }
  } else if (g_old_segv.sa_handler != SIG_DFL && g_old_segv.sa_handler != SIG_IGN) {
    g_old_segv.sa_handler(sig);
    return;
  }
  ::signal(SIGSEGV, SIG_DFL);  // returning re-executes the fault, now fatal
}

void install_segv_handler() {
  struct sigaction sa {};
  sa.sa_sigaction = &on_segv;
  sa.sa_flags = SA_SIGINFO | SA_ONSTACK;
  sigemptyset(&sa.sa_mask);
  ::sigaction(SIGSEGV, &sa, &g_old_segv);
}

void restore_segv_handler() {
  ::sigaction(SIGSEGV, &g_old_segv, nullptr);
}

int choose_procs(int requested) {
  if (requested > 0) return requested;
  if (const char* env = std::getenv("GOFER_PROCS")) {
    int n = std::atoi(env);
    if (n > 0) return n;
  }
  unsigned hw = std::thread::hardware_concurrency();
  return hw == 0 ? 1 : static_cast<int>(hw);
}

}  // namespace
}  // namespace runtime

using namespace runtime;

bool in_goroutine() noexcept {
  return current_g() != nullptr;
}

namespace runtime {
namespace {

// A G for `task`, still idle: the caller makes it runnable or waiting.
// trace_arg: go_create's a0 (0, or fd << 8 | mode for a goroutine that
// starts out waiting in the poller).
G* new_goroutine(detail::Task task, const GoOptions& options, void* creator_pc,
                 std::int64_t trace_arg = 0) {
  Sched* s = g_sched;
  GOFER_CHECK(s != nullptr, "go() called while the runtime is not running (use gofer::run)");
  M* m = current_m();
  P* p = m != nullptr ? m->p : nullptr;
  G* g = p != nullptr ? gfget(p) : gfget_global();
  g->task = std::move(task);
  g->stack_size = options.stack_size;
  // Relaxed atomic stores: the goroutine dump reads these racily.
  __atomic_store_n(&g->creator_pc, creator_pc, __ATOMIC_RELAXED);
  __atomic_store_n(&g->parent_id, (m != nullptr && m->curg != nullptr) ? m->curg->id : 0,
                   __ATOMIC_RELAXED);
  __atomic_store_n(&g->id, new_goid(p), __ATOMIC_RELAXED);
  g->eh = EhGlobals{};
  g->switches = 0;
  g->wait_reason.store(WaitReason::none, std::memory_order_relaxed);
  g->status_since.store(coarse_nanotime(), std::memory_order_relaxed);
  g->trace_unsampled.store(false, std::memory_order_relaxed);
  trace_go(TraceKind::go_create, g, trace_arg);
  if (p != nullptr) {
    p->gcount_delta.fetch_add(1, std::memory_order_relaxed);
  } else {
    s->gcount_global.fetch_add(1, std::memory_order_relaxed);
  }
  return g;
}

}  // namespace

G* new_waiting_goroutine(detail::Task task, WaitReason reason, void* creator_pc, int fd, int mode) {
  G* g = new_goroutine(std::move(task), GoOptions{}, creator_pc,
                       (static_cast<std::int64_t>(fd) << 8) | (mode & 0xff));
  g->wait_reason.store(reason, std::memory_order_relaxed);
  cas_status(g, GStatus::idle, GStatus::waiting);
  return g;
}

}  // namespace runtime

void detail::spawn(Task task, const GoOptions& options, void* creator_pc) {
  G* g = new_goroutine(std::move(task), options, creator_pc);
  cas_status(g, GStatus::idle, GStatus::runnable);
  Sched* s = g_sched;
  M* m = current_m();
  P* p = m != nullptr ? m->p : nullptr;
  if (p != nullptr) {
    runq_put(p, g, true);
  } else {
    std::lock_guard lock(s->mu);
    globrunq_put_batch_locked(g, g, 1);
  }
  if (s->main_g != nullptr) wakep();
}

void yield() {
  GOFER_CHECK(current_g() != nullptr, "yield() called outside a goroutine");
  switch_to_g0(SwitchReason::yield);
}

std::uint64_t this_goroutine_id() noexcept {
  G* g = current_g();
  return g == nullptr ? 0 : g->id;
}

std::size_t num_goroutines() noexcept {
  Sched* s = g_sched;
  if (s == nullptr) return 0;
  std::int64_t n = s->gcount_global.load(std::memory_order_relaxed);
  for (P* p : s->allp) n += p->gcount_delta.load(std::memory_order_relaxed);
  return n < 0 ? 0 : static_cast<std::size_t>(n);
}

int procs() noexcept {
  return g_sched == nullptr ? 0 : g_sched->procs;
}

void detail::enter_blocking() {
  enter_blocking_impl();
}
void detail::exit_blocking() {
  exit_blocking_impl();
}

namespace {

// at_main_exit's functions, for the run in progress (run() starts with none).
std::mutex g_main_exit_mu;
std::vector<std::function<void()>> g_main_exit;  // guarded by g_main_exit_mu

// The main goroutine's last act: the functions registered, last first. One
// may register another; it runs too.
void run_main_exit() {
  for (;;) {
    std::function<void()> f;
    {
      std::lock_guard lock(g_main_exit_mu);
      if (g_main_exit.empty()) return;
      f = std::move(g_main_exit.back());
      g_main_exit.pop_back();
    }
    f();
  }
}

}  // namespace

void at_main_exit(std::function<void()> f) {
  GOFER_CHECK(g_sched != nullptr, "at_main_exit() called while no runtime runs");
  std::lock_guard lock(g_main_exit_mu);
  g_main_exit.push_back(std::move(f));
}

void run(std::function<void()> main, Config config) {
  GOFER_CHECK(g_sched == nullptr, "gofer::run() called while a runtime is running");
  int procs = choose_procs(config.procs);
  std::size_t page = static_cast<std::size_t>(::sysconf(_SC_PAGESIZE));
  std::size_t stack_size = config.stack_size == 0 ? 256 * 1024 : config.stack_size;
  stack_size = std::max<std::size_t>(16 * 1024, (stack_size + page - 1) / page * page);

  auto* s = new Sched(procs, stack_size);
  g_sched = s;
  netpoll_init();
  install_segv_handler();

  // The calling thread becomes M0 and holds P0; the other Ps start idle.
  auto* m0 = new M;
  m0->fastrand_state = 0x9E3779B97F4A7C15ULL;
  m0->state_clock.start(MState::running);
  s->allm.push_back(m0);
  s->mcount.store(1);
  set_current_m(m0);
  thread_init(m0);
  {
    std::lock_guard lock(s->mu);
    for (int i = procs - 1; i >= 1; --i) {
      P* p = s->allp[i];
      p->idle.store(true, std::memory_order_relaxed);
      p->link = s->pidle;
      s->pidle = p;
      p->idle_since = s->start_ns;
      s->npidle.fetch_add(1);
    }
  }
  P* p0 = s->allp[0];
  p0->idle.store(false, std::memory_order_relaxed);
  m0->p = p0;
  p0->m = m0;
  p0->status = PStatus::running;
  m0->p_id.store(0, std::memory_order_relaxed);

  G* g = gfget(p0);
  {
    std::lock_guard lock(g_main_exit_mu);
    g_main_exit.clear();
  }
  g->task = detail::Task([main = std::move(main)] {
    main();
    run_main_exit();
  });
  __atomic_store_n(&g->id, new_goid(p0), __ATOMIC_RELAXED);
  g->creator_pc = reinterpret_cast<void*>(&gofer::run);
  g->status_since.store(coarse_nanotime(), std::memory_order_relaxed);
  cas_status(g, GStatus::idle, GStatus::runnable);
  p0->gcount_delta.fetch_add(1, std::memory_order_relaxed);
  s->main_g = g;
  runq_put(p0, g, false);

  schedule(m0);

  // Shutdown: every other M leaves its loop once it sees `stopping`.
  std::vector<M*> ms;
  {
    std::lock_guard lock(s->mu);
    ms = s->allm;
  }
  for (M* m : ms) {
    if (m->thread.joinable()) m->thread.join();
  }
  thread_fini(m0);
  set_current_m(nullptr);
  restore_segv_handler();
  netpoll_shutdown();
  g_sched = nullptr;
  delete s;
}

}  // namespace gofer
