#include "sync/parker.h"

#include <chrono>
#include <cstdio>
#include <cstdlib>

namespace gofer::detail {

namespace {

// The park commit: runs on the scheduler stack after the switch.
bool commit_park(runtime::G*, void* arg) noexcept {
  auto* p = static_cast<Parker*>(arg);
  std::uint32_t expected = Parker::waiting;
  // Success (release): publishes "parked" to the waker's exchange (acquire).
  // Failure (acquire): the waker already ran; take its writes, which its
  // exchange released, before resuming the owner.
  return p->state.compare_exchange_strong(expected, Parker::parked, std::memory_order_acq_rel,
                                          std::memory_order_acquire);
}

bool commit_forever(runtime::G*, void*) noexcept {
  return true;
}

}  // namespace

void park(Parker& p, runtime::WaitReason reason) {
  if (p.g == nullptr) fatal("gofer: blocking sync/chan operation outside a goroutine");
  runtime::park(&commit_park, &p, reason);
  // acquire: pairs with unpark's exchange (release), so the waker's writes
  // are visible here whatever ordering the scheduler's hand-off provides.
  if (p.state.load(std::memory_order_acquire) != Parker::woken) {
    fatal("gofer: goroutine resumed without being woken");
  }
}

void unpark(Parker& p) noexcept {
  runtime::G* g = p.g;  // read before the exchange: after it p may be gone
  // acq_rel: release publishes the waker's writes to the owner (paired with
  // the commit's failure-acquire or park's final load); acquire pairs with
  // the commit's successful CAS, so "parked" really means switched out.
  if (p.state.exchange(Parker::woken, std::memory_order_acq_rel) == Parker::parked) {
    runtime::ready(g);
  }
}

void block_forever_send_nil() {
  if (runtime::current_g() == nullptr) fatal("gofer: send on nil channel outside a goroutine");
  for (;;) runtime::park(&commit_forever, nullptr, runtime::WaitReason::chan_send_nil);
}

void block_forever_recv_nil() {
  if (runtime::current_g() == nullptr) fatal("gofer: receive from nil channel outside a goroutine");
  for (;;) runtime::park(&commit_forever, nullptr, runtime::WaitReason::chan_receive_nil);
}

void fatal(const char* message) noexcept {
  std::fprintf(stderr, "fatal error: %s\n", message);
  std::fflush(stderr);
  std::abort();
}

[[gnu::noinline]] std::uint32_t fastrand() noexcept {
  // wyrand. The state is per thread: goroutines that migrate simply draw
  // from another thread's sequence, which is fine for poll orders.
  thread_local std::uint64_t state =
      static_cast<std::uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count()) ^
      reinterpret_cast<std::uintptr_t>(&state);
  state += 0xa0761d6478bd642fULL;
  __uint128_t m = static_cast<__uint128_t>(state) * (state ^ 0xe7037ed1a0b428dbULL);
  return static_cast<std::uint32_t>(static_cast<std::uint64_t>(m >> 64) ^
                                    static_cast<std::uint64_t>(m));
}

}  // namespace gofer::detail
