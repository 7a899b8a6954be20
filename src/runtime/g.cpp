#include "runtime/g.h"

#include "runtime/fatal.h"

namespace gofer::runtime {

const char* to_string(GStatus status) noexcept {
  switch (status) {
    case GStatus::idle: return "idle";
    case GStatus::runnable: return "runnable";
    case GStatus::running: return "running";
    case GStatus::waiting: return "waiting";
    case GStatus::syscall: return "syscall";
    case GStatus::dead: return "dead";
  }
  return "?";
}

void cas_status(G* g, GStatus from, GStatus to) {
  GStatus seen = from;
  // acq_rel: a transition hands the G from one owner to the next; what the
  // old owner wrote (its context, its wait record) must be visible to the new.
  if (!g->status.compare_exchange_strong(seen, to, std::memory_order_acq_rel)) {
    fatal("goroutine {}: illegal status change {} -> {} (status is {})", g->id, to_string(from),
          to_string(to), to_string(seen));
  }
}

G* GAllocator::allocate_batch(int* count) {
  G* chunk = new G[kChunk];
  {
    std::lock_guard lock(mu_);
    chunks_.push_back(chunk);
  }
  for (int i = 0; i + 1 < kChunk; ++i) chunk[i].schedlink = &chunk[i + 1];
  *count = kChunk;
  return chunk;
}

GAllocator::~GAllocator() {
  for (G* chunk : chunks_) delete[] chunk;
}

}  // namespace gofer::runtime
