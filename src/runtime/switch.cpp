// The goroutine switch.
//
// A goroutine never switches directly to another: it switches to its M's g0
// (the thread's own stack), which finishes what the goroutine asked for and
// then picks the next one. Two jumps per switch instead of one, but every
// decision is made off the goroutine's stack — the only way park() can
// publish a goroutine to wakers after it stopped running (invariant 1 in docs/design.md).
//
// Around each jump we carry the per-thread state a goroutine owns:
//   * the C++ exception globals (caught/uncaught exceptions; pitfall 9),
//   * ASan's fake-stack bookkeeping and stack bounds (fiber annotations),
//   * TSan's fiber (so that it sees one logical thread per goroutine).
// The current M is always read through current_m(), never cached across a
// jump: after a jump the goroutine may be on another thread (invariant 4).
#include "runtime/switch.h"

#include <cxxabi.h>
#include <signal.h>

#include <cstdlib>
#include <cstring>

#include "runtime/fatal.h"
#include "runtime/netpoll.h"
#include "runtime/trace.h"

#if defined(GOFER_ASAN)
#include <sanitizer/asan_interface.h>
#include <sanitizer/common_interface_defs.h>
#endif
#if defined(GOFER_TSAN)
#include <sanitizer/tsan_interface.h>
#endif

namespace ctx = boost::context::detail;

namespace gofer::runtime {
namespace {

thread_local M* tls_m = nullptr;

EhGlobals* thread_eh() noexcept {
  return reinterpret_cast<EhGlobals*>(abi::__cxa_get_globals());
}

// Both libsupc++ and libc++abi start __cxa_eh_globals with these two fields.
static_assert(sizeof(EhGlobals) == 2 * sizeof(void*));

[[noreturn]] void goroutine_main(ctx::transfer_t t) noexcept;

void check_canary(G* g, bool check_below = true) {
  if (!StackAllocator::canary_intact(g->stack, check_below)) {
    fatal("goroutine {}: stack overflow (stack of {} KiB; the stack canary was overwritten)", g->id,
          g->stack.size / 1024);
  }
}

// Called on g's own stack, as it switches out. Its own canary (hot: beside
// its first frames) every time; the neighbour's (a cache miss) every 8th
// switch and at exit, so an overflow is still caught within a few switches
// — by this goroutine, or by the neighbour, whose own canary it broke.
void check_stack(G* g) {
  char here;
  if (&here < reinterpret_cast<char*>(g->stack.lo)) {
    fatal("goroutine {}: stack overflow (stack of {} KiB; switched out below its stack)", g->id,
          g->stack.size / 1024);
  }
  check_canary(g, (++g->switches & 7) == 0);
}

}  // namespace

// Opaque to the optimiser (noinline + an asm barrier it cannot see through,
// and noipa where GCC has it): callers re-read the thread-local every time.
#if defined(__clang__)
__attribute__((noinline))
#else
__attribute__((noinline, noipa))
#endif
M* current_m() noexcept {
  M* m = tls_m;
  asm volatile("" : "+r"(m));
  return m;
}

void set_current_m(M* m) noexcept {
  tls_m = m;
}

G* current_g() noexcept {
  M* m = current_m();
  return m == nullptr ? nullptr : m->curg;
}

void switch_to_g0(SwitchReason reason) {
  M* m = current_m();
  G* g = m->curg;
  check_stack(g);
  m->switch_reason = reason;
#if defined(GOFER_ASAN)
  __sanitizer_start_switch_fiber(reason == SwitchReason::exit ? nullptr : &g->asan_fake_stack,
                                 m->asan_g0_bottom, m->asan_g0_size);
#endif
#if defined(GOFER_TSAN)
  // The TSan fiber is not switched here but on g0 after the park commit
  // (execute): the commit unlocks what this goroutine locked (park_unlock),
  // and TSan checks that the same "thread" unlocks a mutex.
  g->tsan_busy.store(true, std::memory_order_relaxed);
#endif
  ctx::transfer_t t = ctx::jump_fcontext(m->g0_context, g);
  // Resumed, possibly by another M: t.data is that M.
  M* now = static_cast<M*>(t.data);
  now->g0_context = t.fctx;
#if defined(GOFER_ASAN)
  __sanitizer_finish_switch_fiber(g->asan_fake_stack, &now->asan_g0_bottom, &now->asan_g0_size);
#endif
}

namespace {

[[noreturn]] void goroutine_main(ctx::transfer_t t) noexcept {
  M* m = static_cast<M*>(t.data);
  m->g0_context = t.fctx;
#if defined(GOFER_ASAN)
  __sanitizer_finish_switch_fiber(nullptr, &m->asan_g0_bottom, &m->asan_g0_size);
#endif
  G* g = m->curg;
  try {
    g->task();
  } catch (const std::exception& e) {
    // Like an unrecovered panic in Go: the program cannot go on correctly.
    fatal("goroutine {}: uncaught exception: {}", g->id, e.what());
  } catch (...) {
    fatal("goroutine {}: uncaught exception of unknown type", g->id);
  }
  g->task.reset();  // on the goroutine's stack: the captures' destructors may need it
  switch_to_g0(SwitchReason::exit);
  __builtin_unreachable();
}

// Switches from g0 into g and returns when g switches out.
void run_on(M* m, G* g) {
  EhGlobals* eh = thread_eh();
  m->g0_eh = *eh;
  *eh = g->eh;
#if defined(GOFER_ASAN)
  __sanitizer_start_switch_fiber(&m->asan_g0_fake_stack, g->stack.lo, g->stack.size);
#endif
#if defined(GOFER_TSAN)
  // Acquire: pairs with leave_tsan_fiber() of the M that last ran g.
  while (g->tsan_busy.load(std::memory_order_acquire)) {
  }
  __tsan_switch_to_fiber(g->tsan_fiber, 0);
#endif
  ctx::transfer_t t = ctx::jump_fcontext(g->context, m);
#if defined(GOFER_ASAN)
  __sanitizer_finish_switch_fiber(m->asan_g0_fake_stack, nullptr, nullptr);
#endif
  g->context = t.fctx;
  g->eh = *eh;
  *eh = m->g0_eh;
}

void attach_stack(M* m, G* g) {
  Sched& s = *g_sched;
  g->stack = g->stack_size == 0 || g->stack_size == s.stacks.default_size()
                 ? m->p->stacks.get(s.stacks)
                 : s.stacks.allocate(g->stack_size);
  // A random start offset inside the top page, so that goroutines' hot
  // frames do not all map to the same L1 sets (pitfall 6).
  std::size_t offset = kCanaryBytes + (m->fastrand() % 32) * 64;
  g->context = ctx::make_fcontext(g->stack.hi() - offset, g->stack.size - offset, &goroutine_main);
#if defined(GOFER_TSAN)
  g->tsan_fiber = __tsan_create_fiber(0);
#endif
}

void detach_stack(M* m, G* g) {
  check_canary(g);
#if defined(GOFER_TSAN)
  __tsan_destroy_fiber(g->tsan_fiber);
  g->tsan_fiber = nullptr;
#endif
#if defined(GOFER_ASAN)
  // Frames that never returned (the exit path) leave poisoned redzones.
  __asan_unpoison_memory_region(g->stack.lo, g->stack.size);
#endif
  m->p->stacks.put(g_sched->stacks, g->stack);
  g->stack = Stack{};
  g->context = nullptr;
}

void begin_shutdown() {
  Sched& s = *g_sched;
  std::lock_guard lock(s.mu);
  s.stopping.store(true, std::memory_order_seq_cst);
  while (M* m = s.midle) {
    s.midle = m->link;
    m->link = nullptr;
    m->nextp = nullptr;
    m->park.wakeup();
  }
  s.nmidle = 0;
  netpoll_break();
}

// Ends the TSan fiber of g on this thread (TSan builds; a no-op otherwise).
void leave_tsan_fiber([[maybe_unused]] M* m, [[maybe_unused]] G* g) {
#if defined(GOFER_TSAN)
  __tsan_switch_to_fiber(m->tsan_g0_fiber, 0);
  g->tsan_busy.store(false, std::memory_order_release);
#endif
}

// Warms the caches for the goroutines that run after the current one (a
// pipeline two deep): the descriptor of the one after next, and the saved
// registers and stack canary of the next, whose descriptor the previous
// call warmed. A goroutine woken by a timer or the network has been asleep
// while many others ran: its descriptor and stack are cold (a cache and a
// TLB miss each, with nested paging in a VM), and reading them one after
// the other was most of the cost of a wake-up. The prefetches complete
// while the current goroutine runs. Reading another goroutine's context
// races with a thief that runs it: the value is only a hint, harmless when
// stale (a prefetch never faults), but TSan would report it.
void prefetch_next(P* p) noexcept {
#if !defined(GOFER_TSAN)
  if (G* after = p->runq.peek(1)) {
    for (std::size_t off = 0; off < sizeof(G); off += 64) {
      __builtin_prefetch(reinterpret_cast<char*>(after) + off, 1);
    }
  }
  if (G* next = p->runq.peek(0)) {
    if (next->context != nullptr) {
      __builtin_prefetch(next->context, 1);
      __builtin_prefetch(next->stack.hi() - kCanaryBytes);
    }
  }
#endif
}

}  // namespace

G* execute(M* m, G* g) {
  P* p = m->p;
  cas_status(g, GStatus::runnable, GStatus::running);
  ++p->schedtick;
  if (!g->stack) attach_stack(m, g);
  m->curg = g;
  m->running_goid.store(g->id, std::memory_order_relaxed);
  trace_go(TraceKind::go_start, g);
  prefetch_next(p);
  run_on(m, g);
  trace_go(TraceKind::go_stop, g);
  m->running_goid.store(0, std::memory_order_relaxed);
  m->curg = nullptr;

  if (m->switch_reason != SwitchReason::park) leave_tsan_fiber(m, g);
  switch (m->switch_reason) {
    case SwitchReason::yield:
      cas_status(g, GStatus::running, GStatus::runnable);
      runq_put(m->p, g, false);
      return nullptr;
    case SwitchReason::park:
      cas_status(g, GStatus::running, GStatus::waiting);
      if (m->park_commit(g, m->park_arg)) {
        leave_tsan_fiber(m, g);  // g may already be readied, on another M
        return nullptr;
      }
      leave_tsan_fiber(m, g);
      // The condition holds already: resume g without going through a queue.
      cas_status(g, GStatus::waiting, GStatus::runnable);
      trace_go(TraceKind::go_unpark, g, static_cast<std::int64_t>(TraceUnpark::declined));
      return g;
    case SwitchReason::exit: {
      cas_status(g, GStatus::running, GStatus::dead);
      detach_stack(m, g);
      bool was_main = g == g_sched->main_g;
      cas_status(g, GStatus::dead, GStatus::idle);
      m->p->gcount_delta.fetch_sub(1, std::memory_order_relaxed);
      gfput(m->p, g);
      if (was_main) begin_shutdown();
      return nullptr;
    }
    case SwitchReason::blocking_exit: {
      // m has no P (exit_blocking found none idle): queue g for another M.
      cas_status(g, GStatus::syscall, GStatus::runnable);
      trace_go(TraceKind::go_unpark, g, static_cast<std::int64_t>(TraceUnpark::blocking));
      {
        std::lock_guard lock(g_sched->mu);
        globrunq_put_batch_locked(g, g, 1);
      }
      wakep();
      return nullptr;
    }
    case SwitchReason::none:
      break;
  }
  fatal("goroutine {} switched out without a reason", g->id);
}

void thread_init(M* m) {
  constexpr std::size_t kAltStack = 64 * 1024;
  m->sigaltstack_mem = std::malloc(kAltStack);
  stack_t ss{};
  ss.ss_sp = m->sigaltstack_mem;
  ss.ss_size = kAltStack;
  ::sigaltstack(&ss, nullptr);
  m->fastrand_state |= 1;
#if defined(GOFER_TSAN)
  m->tsan_g0_fiber = __tsan_get_current_fiber();
#endif
}

void thread_fini(M* m) {
  trace_release_ring(m);
  stack_t ss{};
  ss.ss_flags = SS_DISABLE;
  ::sigaltstack(&ss, nullptr);
  std::free(m->sigaltstack_mem);
  m->sigaltstack_mem = nullptr;
}

}  // namespace gofer::runtime
