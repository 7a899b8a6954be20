// The trace rings: recording (wait-free, per M) and collecting (lock-free
// reads of every ring). The protocol is described in trace.h.
#include "runtime/trace.h"

#include <algorithm>
#include <cstring>
#include <mutex>

#include "runtime/fatal.h"
#include "runtime/g.h"
#include "runtime/park.h"
#include "runtime/poll_desc.h"
#include "runtime/sched.h"

namespace gofer::runtime {

std::atomic<bool> g_trace_enabled{false};

// One slot is one cache line: ts, g, a0, a1, meta (fd, kind, P, M), text.
struct alignas(64) TraceSlot {
  static constexpr int kWords = 8;
  std::atomic<std::uint64_t> w[kWords];
};
static_assert(sizeof(TraceSlot) == 64);
static_assert(kTraceTextBytes == 3 * sizeof(std::uint64_t));

// Invariants: claimed - published is 0 or 1 (one writer at a time: the M
// that holds the ring, or a thread holding thread_ring_mu); slots
// [max(0, published - kTraceRingSize), published) hold events in time order.
struct TraceRing {
  std::atomic<std::uint64_t> claimed{0};    // written by the writer only
  std::atomic<std::uint64_t> published{0};  // written by the writer only
  std::size_t id = 0;                       // index in Registry::rings, fixed
  TraceSlot slots[kTraceRingSize];
};

namespace {

constexpr std::uint64_t kMask = kTraceRingSize - 1;
static_assert((kTraceRingSize & kMask) == 0, "the ring size is a power of two");

// Never destroyed: a ring outlives every reader and writer, even those that
// run while static destructors do (and the leak checker sees the rings).
struct Registry {
  std::mutex mu;
  std::vector<TraceRing*> rings;       // guarded by mu; only grows
  std::vector<TraceRing*> free_rings;  // guarded by mu
  int users = 0;                       // guarded by mu
  // users by sampling rate (1 in 2^i requests, i < kRates): the rate in force
  // is the smallest with a user.
  static constexpr int kRates = 17;
  int users_by_rate[kRates] = {};  // guarded by mu

  // Events of threads that are not Ms (a plain thread calling ready()).
  // Lock order: thread_ring_mu → mu.
  std::mutex thread_ring_mu;
  TraceRing* thread_ring = nullptr;  // guarded by thread_ring_mu
};
Registry& registry() {
  static auto* r = new Registry;
  return *r;
}

// When tracing last went on: a runnable timestamp older than this was not
// refreshed while tracing was off and says nothing about the wait.
std::atomic<std::int64_t> g_started_ns{0};

TraceRing* new_ring_locked(Registry& reg) {
  if (!reg.free_rings.empty()) {
    TraceRing* r = reg.free_rings.back();
    reg.free_rings.pop_back();
    return r;
  }
  auto* r = new TraceRing;  // never freed: readers may hold it at any time
  r->id = reg.rings.size();
  reg.rings.push_back(r);
  return r;
}

std::uint64_t meta(TraceKind kind, int fd, int p, int m) noexcept {
  auto small = [](int v) { return static_cast<std::uint64_t>(std::clamp(v + 1, 0, 0xfff)); };
  return static_cast<std::uint32_t>(fd) | std::uint64_t{static_cast<std::uint8_t>(kind)} << 32 |
         small(p) << 40 | small(m) << 52;
}

void append(TraceRing* r, const std::uint64_t (&w)[TraceSlot::kWords]) noexcept {
  std::uint64_t i = r->claimed.load(std::memory_order_relaxed);
  r->claimed.store(i + 1, std::memory_order_relaxed);
  TraceSlot& slot = r->slots[i & kMask];
  // Release: a reader that loads any of these words (acquire) then sees
  // the claim above, and drops the slot as overwritten.
  for (int k = 0; k < TraceSlot::kWords; ++k) slot.w[k].store(w[k], std::memory_order_release);
  r->published.store(i + 1, std::memory_order_release);  // pairs with read_ring's acquire
}

void record(M* m, std::int64_t ts_or_zero, TraceKind kind, std::uint64_t g, int fd, std::int64_t a0,
            std::int64_t a1, std::string_view t1 = {}, std::string_view t2 = {}) noexcept {
  std::uint64_t w[TraceSlot::kWords] = {};
  w[1] = g;
  w[2] = static_cast<std::uint64_t>(a0);
  w[3] = static_cast<std::uint64_t>(a1);
  w[4] = meta(kind, fd, m != nullptr && m->p != nullptr ? m->p->id : -1, m != nullptr ? m->id : -1);
  if (!t1.empty() || !t2.empty()) {
    char text[kTraceTextBytes] = {};
    std::size_t n = std::min(t1.size(), kTraceTextBytes);
    std::memcpy(text, t1.data(), n);
    if (!t2.empty() && n < kTraceTextBytes) {
      text[n++] = ' ';
      std::size_t k = std::min(t2.size(), kTraceTextBytes - n);
      std::memcpy(text + n, t2.data(), k);
    }
    std::memcpy(&w[5], text, kTraceTextBytes);
  }
  Registry& reg = registry();
  if (m != nullptr) {
    if (m->trace_ring == nullptr) {
      std::lock_guard lock(reg.mu);
      m->trace_ring = new_ring_locked(reg);
    }
    w[0] = static_cast<std::uint64_t>(ts_or_zero != 0 ? ts_or_zero : nanotime());
    append(m->trace_ring, w);
    return;
  }
  std::lock_guard lock(reg.thread_ring_mu);
  if (reg.thread_ring == nullptr) {
    std::lock_guard registry_lock(reg.mu);
    reg.thread_ring = new_ring_locked(reg);
  }
  // Read under the lock, so that the shared ring stays in time order.
  w[0] = static_cast<std::uint64_t>(nanotime());
  append(reg.thread_ring, w);
}

std::uint64_t current_goid(M* m) noexcept {
  return m != nullptr && m->curg != nullptr ? __atomic_load_n(&m->curg->id, __ATOMIC_RELAXED) : 0;
}

TraceEvent decode(const std::uint64_t (&w)[TraceSlot::kWords]) noexcept {
  TraceEvent e;
  e.ts = static_cast<std::int64_t>(w[0]);
  e.g = w[1];
  e.a0 = static_cast<std::int64_t>(w[2]);
  e.a1 = static_cast<std::int64_t>(w[3]);
  e.fd = static_cast<std::int32_t>(static_cast<std::uint32_t>(w[4]));
  e.kind = static_cast<TraceKind>((w[4] >> 32) & 0xff);
  e.p = static_cast<int>((w[4] >> 40) & 0xfff) - 1;
  e.m = static_cast<int>((w[4] >> 52) & 0xfff) - 1;
  std::memcpy(e.text, &w[5], kTraceTextBytes);
  return e;
}

// Appends to `out` the events of r with index >= from and ts >= since;
// returns the index after the last event published.
std::uint64_t read_ring(TraceRing* r, std::uint64_t from, std::int64_t since,
                        std::vector<TraceEvent>& out, std::uint64_t* lost) {
  std::uint64_t end = r->published.load(std::memory_order_acquire);  // pairs with append's release
  std::uint64_t begin = std::max(end > kTraceRingSize ? end - kTraceRingSize : 0, from);
  if (begin > from && lost != nullptr) *lost += begin - from;
  // Events are in time order: skip back only as far as `since`.
  std::uint64_t lo = end;
  while (lo > begin) {
    auto ts =
        static_cast<std::int64_t>(r->slots[(lo - 1) & kMask].w[0].load(std::memory_order_acquire));
    if (ts < since) break;
    --lo;
  }
  std::size_t base = out.size();
  for (std::uint64_t i = lo; i < end; ++i) {
    std::uint64_t w[TraceSlot::kWords];
    for (int k = 0; k < TraceSlot::kWords; ++k)
      w[k] = r->slots[i & kMask].w[k].load(std::memory_order_acquire);
    out.push_back(decode(w));
  }
  // Slots below claimed - size may have been rewritten while we copied them.
  std::uint64_t claimed = r->claimed.load(std::memory_order_relaxed);
  std::uint64_t valid = claimed > kTraceRingSize ? claimed - kTraceRingSize : 0;
  if (valid > lo) {
    std::size_t drop = static_cast<std::size_t>(std::min(valid, end) - lo);
    out.erase(out.begin() + static_cast<std::ptrdiff_t>(base),
              out.begin() + static_cast<std::ptrdiff_t>(base + drop));
    if (lost != nullptr) *lost += drop;
  }
  return end;
}

std::vector<TraceRing*> all_rings() {
  Registry& reg = registry();
  std::lock_guard lock(reg.mu);
  return reg.rings;
}

void sort_by_time(std::vector<TraceEvent>& events) {
  std::stable_sort(events.begin(), events.end(),
                   [](const TraceEvent& a, const TraceEvent& b) { return a.ts < b.ts; });
}

}  // namespace

namespace {
// The kinds the layers above registered, by number - layer_first. Written
// once each, at static initialisation; the release store publishes the
// pointed-to info to the acquire loads of readers.
constexpr int kLayerKinds =
    static_cast<int>(TraceKind::layer_end) - static_cast<int>(TraceKind::layer_first);
std::atomic<const TraceKindInfo*> g_layer_kinds[kLayerKinds];

int layer_slot(TraceKind kind) noexcept {
  int i = static_cast<int>(kind) - static_cast<int>(TraceKind::layer_first);
  return i >= 0 && i < kLayerKinds ? i : -1;
}
}  // namespace

void trace_register_kind(TraceKind kind, const TraceKindInfo* info) noexcept {
  int i = layer_slot(kind);
  if (i < 0) fatal("trace_register_kind: kind {} is not a layer's", static_cast<int>(kind));
  const TraceKindInfo* expected = nullptr;
  if (!g_layer_kinds[i].compare_exchange_strong(expected, info, std::memory_order_acq_rel) &&
      expected != info) {
    fatal("trace_register_kind: kind {} registered twice ({} and {})", static_cast<int>(kind),
          expected->name, info->name);
  }
}

const TraceKindInfo* trace_kind_info(TraceKind kind) noexcept {
  int i = layer_slot(kind);
  return i < 0 ? nullptr : g_layer_kinds[i].load(std::memory_order_acquire);
}

const char* to_string(TraceKind kind) noexcept {
  switch (kind) {
    case TraceKind::none:
      return "none";
    case TraceKind::go_create:
      return "go_create";
    case TraceKind::go_start:
      return "go_start";
    case TraceKind::go_stop:
      return "go_stop";
    case TraceKind::go_unpark:
      return "go_unpark";
    case TraceKind::poll_block:
      return "poll_block";
    case TraceKind::poll_wake:
      return "poll_wake";
    case TraceKind::netpoll:
      return "netpoll";
    case TraceKind::accept:
      return "accept";
    case TraceKind::read:
      return "read";
    case TraceKind::write:
      return "write";
    case TraceKind::close:
      return "close";
    default:
      break;
  }
  const TraceKindInfo* info = trace_kind_info(kind);
  return info != nullptr ? info->name : "?";
}

namespace {

std::atomic<std::uint32_t> g_sample_every{1};

// Rates are rounded down to a power of two, so the users of each fit in a
// small table.
int rate_index(std::uint32_t sample_every) noexcept {
  int i = 0;
  while (i + 1 < Registry::kRates && (std::uint32_t{2} << i) <= sample_every) ++i;
  return i;
}

void publish_rate_locked(const Registry& reg) noexcept {
  for (int i = 0; i < Registry::kRates; ++i) {
    if (reg.users_by_rate[i] > 0) {
      g_sample_every.store(std::uint32_t{1} << i, std::memory_order_relaxed);
      return;
    }
  }
  g_sample_every.store(1, std::memory_order_relaxed);
}

// Per thread: a connection's goroutine may run on any M, and a shared
// counter would bounce between cores on every unit of work.
thread_local std::uint32_t t_units_seen = 0;

}  // namespace

void trace_start(std::uint32_t sample_every) {
  Registry& reg = registry();
  std::lock_guard lock(reg.mu);
  ++reg.users_by_rate[rate_index(sample_every)];
  publish_rate_locked(reg);
  if (reg.users++ == 0) {
    g_started_ns.store(nanotime(), std::memory_order_relaxed);
    g_trace_enabled.store(true, std::memory_order_relaxed);
  }
}

void trace_stop(std::uint32_t sample_every) {
  Registry& reg = registry();
  std::lock_guard lock(reg.mu);
  int& by_rate = reg.users_by_rate[rate_index(sample_every)];
  if (by_rate > 0) --by_rate;
  publish_rate_locked(reg);
  if (reg.users > 0 && --reg.users == 0) g_trace_enabled.store(false, std::memory_order_relaxed);
}

std::uint32_t trace_sample_every() noexcept {
  return g_sample_every.load(std::memory_order_relaxed);
}

void trace_sample_work_slow() noexcept {
  M* m = current_m();
  if (m == nullptr || m->curg == nullptr) return;
  std::uint32_t every = g_sample_every.load(std::memory_order_relaxed);
  bool sampled = every <= 1 || ++t_units_seen % every == 0;
  m->curg->trace_unsampled.store(!sampled, std::memory_order_relaxed);
}

namespace {
bool skipped(const G* g) noexcept {
  return g != nullptr && g->trace_unsampled.load(std::memory_order_relaxed);
}
}  // namespace

void trace_record(TraceKind kind, std::uint64_t g, int fd, std::int64_t a0, std::int64_t a1,
                  std::string_view text1, std::string_view text2) noexcept {
  M* m = current_m();
  if (g == kTraceCurrentG) {
    if (m != nullptr && skipped(m->curg)) return;
    g = current_goid(m);
  }
  record(m, 0, kind, g, fd, a0, a1, text1, text2);
}

// g's trace_runnable_ns is written only by whoever owns g at that moment
// (its creator, its waker, its M on g0) before g is published on a run
// queue, and read by the M that took it off the queue.
void trace_go_slow(TraceKind kind, G* g, std::int64_t a0) noexcept {
  if (skipped(g)) return;
  M* m = current_m();
  std::int64_t now = nanotime();
  std::uint64_t id = __atomic_load_n(&g->id, __ATOMIC_RELAXED);
  int fd = -1;
  std::int64_t a1 = 0;
  switch (kind) {
    case TraceKind::go_create:
      g->trace_runnable_ns = now;
      if (a0 != 0) {  // fd << 8 | mode: it waits in the poller
        fd = static_cast<int>(a0 >> 8);
        a1 = a0 & 0xff;
      }
      a0 = static_cast<std::int64_t>(__atomic_load_n(&g->parent_id, __ATOMIC_RELAXED));
      break;
    case TraceKind::go_unpark:
      g->trace_runnable_ns = now;
      a1 = static_cast<std::int64_t>(current_goid(m));
      break;
    case TraceKind::go_start: {
      std::int64_t since = g->trace_runnable_ns;
      a0 = since != 0 && since >= g_started_ns.load(std::memory_order_relaxed) ? now - since : -1;
      g->trace_runnable_ns = 0;
      break;
    }
    case TraceKind::go_stop: {
      // On g0, right after g switched out: the M says why.
      switch (m->switch_reason) {
        case SwitchReason::yield:
          a0 = static_cast<std::int64_t>(TraceStop::yield);
          break;
        case SwitchReason::park:
          a0 = static_cast<std::int64_t>(TraceStop::park);
          break;
        case SwitchReason::exit:
          a0 = static_cast<std::int64_t>(TraceStop::exit);
          break;
        case SwitchReason::blocking_exit:
          a0 = static_cast<std::int64_t>(TraceStop::blocking);
          break;
        case SwitchReason::none:
          break;
      }
      if (m->switch_reason == SwitchReason::park) {
        a1 = static_cast<std::int64_t>(g->wait_reason.load(std::memory_order_relaxed));
        fd = m->trace_park_fd;
      }
      if (m->switch_reason == SwitchReason::yield) g->trace_runnable_ns = now;
      break;
    }
    default:
      break;
  }
  record(m, now, kind, id, fd, a0, a1);
}

void trace_netpoll_slow(PollDesc* pd, std::uint32_t seq, std::uint32_t events, G* woken,
                        bool blocked) noexcept {
  // Acquire: pairs with poll_open/recycle's release increments; a stale
  // event (its fd closed since) is left out, as poll_ready ignores it.
  if (pd->seq.load(std::memory_order_acquire) != seq) return;
  if (skipped(woken)) return;
  std::uint64_t id = woken != nullptr ? __atomic_load_n(&woken->id, __ATOMIC_RELAXED) : 0;
  record(current_m(), 0, TraceKind::netpoll, id, pd->fd.load(std::memory_order_relaxed), events,
         blocked ? 1 : 0);
}

void trace_release_ring(M* m) noexcept {
  if (m->trace_ring == nullptr) return;
  Registry& reg = registry();
  std::lock_guard lock(reg.mu);
  reg.free_rings.push_back(m->trace_ring);
  m->trace_ring = nullptr;
}

std::vector<TraceEvent> trace_collect(std::int64_t since_ns) {
  std::vector<TraceEvent> out;
  for (TraceRing* r : all_rings()) read_ring(r, 0, since_ns, out, nullptr);
  sort_by_time(out);
  return out;
}

std::vector<TraceEvent> trace_collect(TraceCursor& cursor) {
  std::vector<TraceEvent> out;
  std::vector<TraceRing*> rings = all_rings();
  if (cursor.next.size() < rings.size()) {
    // A ring this reader has not seen yet: from its oldest event.
    cursor.next.resize(rings.size(), 0);
  }
  for (TraceRing* r : rings) {
    cursor.next[r->id] = read_ring(r, cursor.next[r->id], INT64_MIN, out, &cursor.lost);
  }
  sort_by_time(out);
  return out;
}

TraceCursor trace_cursor_at_end() {
  TraceCursor cursor;
  for (TraceRing* r : all_rings()) {
    cursor.next.resize(r->id + 1, 0);
    cursor.next[r->id] = r->published.load(std::memory_order_acquire);
  }
  return cursor;
}

}  // namespace gofer::runtime
