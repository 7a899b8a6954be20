// Tracing: what the scheduler, the netpoller and the layers above do, as
// timestamped events, so that a person can watch the seed's story
// (docs/design.md) happen for each request (the debug layer's "request
// journey", `gofer serve --explain`, /debug/trace for Perfetto).
//
// An event is a timestamp (nanotime(): CLOCK_MONOTONIC through the vDSO, no
// rdtsc), a kind, the goroutine it is about, an fd, the P and M it happened
// on, two integer arguments and up to 24 bytes of text ("GET /hello"). The
// table under TraceKind says what each field means per kind. The runtime
// knows no word of the layers above: they register kinds of their own
// (trace_register_kind: a name, what the arguments mean, the event's role)
// and record through trace() / trace_text(); the runtime records through
// trace_go(). Each hook is one line at its call site.
//
// Off: every hook is one relaxed load of g_trace_enabled and a branch that
// is predicted not taken — no clock read, no store, no call. On, an event
// about a goroutine whose unit of work was not sampled (G::trace_unsampled)
// costs a call and a load.
// On: the event goes to a ring of the calling M (one writer: that M's
// thread), fixed size (kTraceRingSize events of 64 bytes: 2 MiB an M), the
// oldest events overwritten: no lock, no allocation, wait-free. The first
// event of an M takes a ring from a registry (a lock and, once per M for
// the process's life, an allocation). Threads that are not Ms write to one
// shared ring under a mutex. An event costs ~80 ns on the development VM,
// ~60 of them in clock_gettime; a keep-alive request records ~15.
//
// The debug layer reads the rings: request journeys (debug/journey.cpp) and
// the Chrome trace-event export (debug/trace_export.cpp).
//
// Reading without stopping the writers (a seqlock per ring): the writer
// stores `claimed` = i+1, then the slot's words with release stores, then
// `published` = i+1 (release). A reader loads `published` (acquire), copies
// the slots with acquire loads, then loads `claimed`: a slot whose index is
// below claimed - kTraceRingSize may have been overwritten while it was copied
// (a word read from a newer write implies, through that release/acquire
// pair, that the reader sees the newer claim) and is dropped. All slot words
// are atomics, so the sanitizers see no race; on x86 the release stores and
// acquire loads are plain moves.
//
// Rings are never freed (a reader may hold a pointer to one at any time); an
// M gives its ring back at thread exit and the next new M reuses it. Events
// carry their M, so a reused ring's older events keep their true M.
//
// Rejected: one global ring with an atomic index (every event from every M
// would bounce one cache line); per-P rings (an M without a P — in the
// netpoller, in blocking() — records events too); a lock per ring (a reader
// copying 32 Ki events would stall the writer); rdtsc (needs calibration and
// invariant-TSC checks for a few ns of gain over the vDSO clock).
#pragma once

#include <atomic>
#include <cstdint>
#include <string_view>
#include <vector>

namespace gofer::runtime {

struct G;
struct M;
struct PollDesc;

enum class TraceKind : std::uint8_t {
  none,
  // The scheduler. g is the goroutine the event is about.
  go_create,   // g created (on the creator's M/P); a0: parent goroutine (0: none);
               // a1: PollMode ('r'/'w') if g waits, with no stack yet, for fd to be ready
               // (poll_start_when_ready), else 0 (fd -1)
  go_start,    // g starts or resumes on this M/P; a0: ns it was runnable (-1: unknown)
  go_stop,     // g switched out; a0: TraceStop; a1: WaitReason (park); fd: what it waits on (-1)
  go_unpark,   // g made runnable; a0: TraceUnpark (how); a1: goroutine that readied it (0: none)
  poll_block,  // this M blocks in epoll_wait; a0: timeout in ns (-1: none)
  poll_wake,   // it returned; a0: goroutines it made runnable
  netpoll,     // epoll reported fd ready; a0: epoll events; g: goroutine woken (0: nobody
               // waited); a1: 1 if the poll blocked, 0 if it only looked
  // The net layer (fd: the socket).
  accept,  // fd: listener; a0: the accepted fd or -errno (-EAGAIN: none queued)
  read,    // a0: bytes read, 0 at EOF, or -errno
  write,   // a0: bytes written or -errno; a1: TraceSyscall
  close,   // fd closed (its last reference went)
  // [layer_first, layer_end): the kinds of the layers above, each
  // registered with trace_register_kind (src/http/trace_kinds.cpp).
  layer_first = 32,
  layer_end = 64,
};
// The kind's name: the runtime's own, or the one registered ("?" if none).
const char* to_string(TraceKind kind) noexcept;

// What a reader of the trace does with an event of a layer above.
// Journeys and the Perfetto export are built from these roles, so neither
// needs to know which layer recorded the event.
enum class TraceRole : std::uint8_t {
  instant,     // a point on the fd's track
  work_begin,  // a unit of work starts on fd (the http layer: a request head
               // is in); its text names it. It is the one the goroutine
               // sampled with trace_sample_work().
  work_end,    // that unit of work is done (the response sent): a journey ends
  part_begin,  // a part of the unit starts (the handler) …
  part_end,    // … and ends
  fd_wait,     // fd waits for its next unit of work; a0: units done so far
  fd_done,     // the layer is done with fd; a0: units done on it
};

// A kind of a layer above, as it registers it. Every string has static
// storage duration.
struct TraceKindInfo {
  const char* layer = "?";  // who records it ("http"): the export's category
  const char* name = "?";   // a short noun: journeys' step kind ("request")
  TraceRole role = TraceRole::instant;
  // part_begin: the name of the slice it opens in exports ("handler"). A
  // unit of work's slice is named by its text.
  const char* span = nullptr;
  const char* a0 = nullptr;  // the arguments' names in exports ("status"); null: unused
  const char* a1 = nullptr;
  // For a person, with {fd}, {g}, {a0}, {a1} and {text} replaced:
  // "response sent: status {a0}, {a1} bytes".
  const char* says = "";
};
// Registers kind ∈ [layer_first, layer_end), once, before tracing starts
// (a layer does it from a static initialiser). `info` must outlive the
// process's tracing.
void trace_register_kind(TraceKind kind, const TraceKindInfo* info) noexcept;
// The registration of a layer's kind; nullptr for the runtime's own kinds
// and for numbers nobody registered.
const TraceKindInfo* trace_kind_info(TraceKind kind) noexcept;
inline TraceRole trace_role(TraceKind kind) noexcept {
  const TraceKindInfo* info = trace_kind_info(kind);
  return info != nullptr ? info->role : TraceRole::instant;
}

// go_stop's a0: why the goroutine switched out.
enum class TraceStop : std::int64_t { yield = 1, park = 2, exit = 3, blocking = 4 };
// go_unpark's a0: what made the goroutine runnable.
enum class TraceUnpark : std::int64_t {
  ready = 0,     // ready() by a goroutine, a timer or a thread (a1: the waker)
  netpoll = 1,   // the netpoller
  declined = 2,  // its park commit declined: the condition held already
  blocking = 3,  // back from blocking() with no P free
};
// write's a1: the syscall.
enum class TraceSyscall : std::int64_t {
  write = 0,
  send = 1,
  sendmsg = 2,
  writev = 3,
  sendfile = 4
};

constexpr std::size_t kTraceTextBytes = 24;

struct TraceEvent {
  std::int64_t ts = 0;  // nanotime()
  TraceKind kind = TraceKind::none;
  int m = -1;  // the M it happened on (-1: a thread that is not an M)
  int p = -1;  // the P that M held (-1: none)
  int fd = -1;
  std::uint64_t g = 0;
  std::int64_t a0 = 0, a1 = 0;
  char text[kTraceTextBytes] = {};  // NUL-padded; not terminated when full

  std::string_view text_view() const noexcept {
    std::size_t n = 0;
    while (n < kTraceTextBytes && text[n] != '\0') ++n;
    return {text, n};
  }
};

// Relaxed: a hook that races with trace_start() may miss its event, nothing
// worse (the rings are valid whatever the flag says).
extern std::atomic<bool> g_trace_enabled;
inline bool trace_enabled() noexcept {
  return g_trace_enabled.load(std::memory_order_relaxed);
}

// Tracing is on while at least one user wants it (--explain, a running
// /debug/trace, a test): each trace_start() is paired with a trace_stop()
// with the same argument. The rings keep their events after the stop.
//
// Sampling: a user that asks for one unit of work in `sample_every` (the
// http layer's unit: a request) gets the events of those units only, and of
// everything that is not part of a unit (accepts, other goroutines, the
// poller blocking). The rate in force is the smallest any user asked for.
// A goroutine calls trace_sample_work() as it starts on its next unit of
// work; until its next call, its events are recorded or not as decided
// there.
void trace_start(std::uint32_t sample_every = 1);
void trace_stop(std::uint32_t sample_every = 1);
// The rate in force while tracing (1: every request).
std::uint32_t trace_sample_every() noexcept;
void trace_sample_work_slow() noexcept;
inline void trace_sample_work() noexcept {
  if (trace_enabled()) [[unlikely]]
    trace_sample_work_slow();
}

// The slow paths (tracing on). g == kTraceCurrentG: the running goroutine.
constexpr std::uint64_t kTraceCurrentG = ~std::uint64_t{0};
void trace_record(TraceKind kind, std::uint64_t g, int fd, std::int64_t a0, std::int64_t a1,
                  std::string_view text1 = {}, std::string_view text2 = {}) noexcept;
void trace_go_slow(TraceKind kind, G* g, std::int64_t a0) noexcept;
void trace_netpoll_slow(PollDesc* pd, std::uint32_t seq, std::uint32_t events, G* woken,
                        bool blocked) noexcept;

// An event about the running goroutine (or none, on a plain thread).
inline void trace(TraceKind kind, int fd = -1, std::int64_t a0 = 0, std::int64_t a1 = 0) noexcept {
  if (trace_enabled()) [[unlikely]]
    trace_record(kind, kTraceCurrentG, fd, a0, a1);
}
// The same with text: text1 + ' ' + text2, truncated to kTraceTextBytes.
inline void trace_text(TraceKind kind, int fd, std::int64_t a0, std::int64_t a1,
                       std::string_view text1, std::string_view text2) noexcept {
  if (trace_enabled()) [[unlikely]]
    trace_record(kind, kTraceCurrentG, fd, a0, a1, text1, text2);
}

// Runtime only: go_create, go_start, go_stop, go_unpark about g. The slow
// path fills the rest (go_create: the parent, and from a0 = fd << 8 | mode
// the fd and direction a goroutine started by the poller waits for; go_start: how long g was
// runnable; go_stop: the reason, wait reason and fd from the M; go_unpark:
// a0 is the TraceUnpark, the waker is the running goroutine).
inline void trace_go(TraceKind kind, G* g, std::int64_t a0 = 0) noexcept {
  if (trace_enabled()) [[unlikely]]
    trace_go_slow(kind, g, a0);
}
// Runtime only: epoll reported pd's fd (registration `seq`) with `events`;
// `woken` is the goroutine that made runnable, if any.
inline void trace_netpoll(PollDesc* pd, std::uint32_t seq, std::uint32_t events, G* woken,
                          bool blocked) noexcept {
  if (trace_enabled()) [[unlikely]]
    trace_netpoll_slow(pd, seq, events, woken, blocked);
}
// Runtime only: an M thread ends; its ring goes back to the registry.
void trace_release_ring(M* m) noexcept;

// Every event still in the rings with ts >= since_ns, sorted by time.
std::vector<TraceEvent> trace_collect(std::int64_t since_ns = 0);

// For a reader that follows the trace as it grows: each call returns the
// events recorded since its previous call (sorted by time within the call;
// an event can arrive in a later call than a slightly later one of another
// M, by the few ns between its timestamp and its publication).
struct TraceCursor {
  std::vector<std::uint64_t> next;  // per ring: the index of the next event to read
  std::uint64_t lost = 0;           // events overwritten before this reader saw them
};
std::vector<TraceEvent> trace_collect(TraceCursor& cursor);
// A cursor whose first trace_collect() returns only events recorded after
// this call.
TraceCursor trace_cursor_at_end();

// Events per ring (each M has one while tracing).
constexpr std::size_t kTraceRingSize = std::size_t{1} << 15;

}  // namespace gofer::runtime
