#include "runtime/introspect.h"

#include <cxxabi.h>
#include <dlfcn.h>

#include <algorithm>
#include <cstdlib>

#include "gofer/runtime.h"
#include "runtime/sched.h"
#include "runtime/switch.h"

namespace gofer::runtime {

void for_each_goroutine(const std::function<void(const GoroutineInfo&)>& f) {
  Sched* s = g_sched;
  if (s == nullptr) return;
  s->gs.for_each([&](G* g) {
    // Acquire: pairs with the status transition that published the fields.
    GStatus st = g->status.load(std::memory_order_acquire);
    if (st == GStatus::idle || st == GStatus::dead) return;
    GoroutineInfo info;
    info.id = __atomic_load_n(&g->id, __ATOMIC_RELAXED);
    info.parent_id = __atomic_load_n(&g->parent_id, __ATOMIC_RELAXED);
    info.creator_pc = __atomic_load_n(&g->creator_pc, __ATOMIC_RELAXED);
    info.status = to_string(st);
    info.wait_reason = st == GStatus::waiting || st == GStatus::syscall
                           ? g->wait_reason.load(std::memory_order_relaxed)
                           : WaitReason::none;
    info.since_ns = g->status_since.load(std::memory_order_relaxed);
    f(info);
  });
}

int open_fd_count() noexcept;

SchedInfo sched_info() {
  SchedInfo info;
  Sched* s = g_sched;
  if (s == nullptr) return info;
  info.running = true;
  info.procs = s->procs;
  info.goroutines = num_goroutines();
  info.idle_procs = s->npidle.load(std::memory_order_relaxed);
  info.spinning_threads = s->nmspinning.load(std::memory_order_relaxed);
  info.global_runq = s->runq_size.load(std::memory_order_relaxed);
  info.poll_wakeups = s->stat_poll_wakeups.load(std::memory_order_relaxed);
  info.thread_wakeups = s->stat_thread_wakeups.load(std::memory_order_relaxed);
  info.open_fds = open_fd_count();
  for (P* p : s->allp) {
    ProcInfo pi;
    pi.id = p->id;
    pi.runq = p->runq.size();
    pi.steals = p->stat_steals.load(std::memory_order_relaxed);
    info.steals += pi.steals;
    {
      std::lock_guard lock(p->timers.mu);
      pi.timers = p->timers.size_locked();
    }
    info.ps.push_back(pi);
  }
  std::vector<M*> ms;
  info.start_ns = s->start_ns;
  {
    std::lock_guard lock(s->mu);
    ms = s->allm;
    // The Ps' idle stretches are kept under mu; one clock for all of them.
    info.clock_ns = coarse_nanotime();
    for (std::size_t i = 0; i < s->allp.size(); ++i) {
      const P* p = s->allp[i];
      std::int64_t idle = p->idle_ns + (p->idle_since != 0 ? info.clock_ns - p->idle_since : 0);
      info.ps[i].busy_ns = std::max<std::int64_t>(0, info.clock_ns - s->start_ns - idle);
    }
  }
  for (M* m : ms) {
    ThreadInfo ti;
    ti.id = m->id;
    ti.p_id = m->p_id.load(std::memory_order_relaxed);
    ti.running_goid = m->running_goid.load(std::memory_order_relaxed);
    ti.in_netpoll = m->in_netpoll.load(std::memory_order_relaxed);
    MStateClock::Reading r = m->state_clock.read(info.clock_ns);
    ti.state = r.state;
    ti.state_ns = r.ns;
    info.ms.push_back(ti);
  }
  return info;
}

const char* to_string(MState state) noexcept {
  switch (state) {
    case MState::running:
      return "running";
    case MState::spinning:
      return "spinning";
    case MState::netpoll:
      return "netpoll";
    case MState::futex:
      return "futex";
    case MState::blocking:
      return "blocking";
  }
  return "?";
}

std::string symbolize(void* pc) {
  Dl_info dl{};
  if (pc != nullptr && ::dladdr(pc, &dl) != 0 && dl.dli_sname != nullptr) {
    int status = 0;
    char* demangled = abi::__cxa_demangle(dl.dli_sname, nullptr, nullptr, &status);
    std::string name = status == 0 && demangled != nullptr ? demangled : dl.dli_sname;
    std::free(demangled);
    return name;
  }
  char buf[32];
  std::snprintf(buf, sizeof buf, "%p", pc);
  return buf;
}

}  // namespace gofer::runtime
