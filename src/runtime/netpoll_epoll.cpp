// The epoll backend of the netpoller.
//
// Every fd is registered once, edge-triggered (EPOLLET) for EPOLLIN, EPOLLOUT
// and EPOLLRDHUP: the kernel reports each transition to "ready" once, and the
// goroutine that wants the fd retries its syscall until EAGAIN before it
// waits again, so no event needs re-arming (one epoll_ctl per connection).
// The event's data carries the PollDesc's index and sequence number, never a
// pointer: an event for a closed fd whose number was reused is recognised as
// stale (pitfall 3 in docs/design.md).
//
// Timeouts use epoll_pwait2 (nanosecond timespec; kernel >= 5.11), falling
// back to epoll_wait's milliseconds, rounded up, on older kernels (pitfall 5)
// and under TSan.
// An eventfd breaks a blocked poll when new work or an earlier timer appears;
// wake-ups are coalesced by an atomic flag (one write per poll at most).
#include <errno.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include <atomic>
#include <cstring>

#include "runtime/fatal.h"
#include "runtime/g.h"
#include "runtime/netpoll.h"
#include "runtime/poll_desc.h"
#include "runtime/trace.h"

namespace gofer::runtime {
namespace {

int g_epfd = -1;
int g_eventfd = -1;
std::atomic<bool> g_wake_pending{false};
#if defined(GOFER_TSAN)
// TSan holds an asynchronous signal's handler back until the thread that took
// it passes one of TSan's interceptors or waits in one. It intercepts
// epoll_wait but not epoll_pwait2, so an M asleep in epoll_pwait2 would sit on
// a SIGTERM for ever (gofer::signal::notify's handler never runs).
bool g_have_pwait2 = false;
#else
bool g_have_pwait2 = true;
#endif
constexpr std::uint64_t kBreakTag = ~std::uint64_t{0};

}  // namespace

void netpoll_init() {
  g_epfd = ::epoll_create1(EPOLL_CLOEXEC);
  if (g_epfd < 0) fatal("epoll_create1: {}", std::strerror(errno));
  g_eventfd = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (g_eventfd < 0) fatal("eventfd: {}", std::strerror(errno));
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.u64 = kBreakTag;
  if (::epoll_ctl(g_epfd, EPOLL_CTL_ADD, g_eventfd, &ev) != 0) {
    fatal("epoll_ctl(eventfd): {}", std::strerror(errno));
  }
  g_wake_pending.store(false, std::memory_order_relaxed);
}

void netpoll_shutdown() {
  ::close(g_eventfd);
  ::close(g_epfd);
  g_eventfd = g_epfd = -1;
}

int netpoll_open(int fd, PollDesc* pd) {
  epoll_event ev{};
  ev.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET;
  ev.data.u64 = (std::uint64_t{pd->seq.load(std::memory_order_relaxed)} << 32) | pd->index;
  return ::epoll_ctl(g_epfd, EPOLL_CTL_ADD, fd, &ev) == 0 ? 0 : errno;
}

int netpoll_close(int fd) {
  epoll_event ev{};
  return ::epoll_ctl(g_epfd, EPOLL_CTL_DEL, fd, &ev) == 0 ? 0 : errno;
}

void netpoll_break() noexcept {
  // acq_rel: pairs with the poller's exchange(false) after it drained.
  if (g_wake_pending.exchange(true, std::memory_order_acq_rel)) return;
  std::uint64_t one = 1;
  while (::write(g_eventfd, &one, sizeof one) < 0 && errno == EINTR) {
  }
}

G* netpoll(std::int64_t delay_ns, int* count) {
  *count = 0;
  if (g_epfd < 0) return nullptr;
  epoll_event events[128];
  int n;
  if (g_have_pwait2) {
    timespec ts{delay_ns / 1'000'000'000, delay_ns % 1'000'000'000};
    n = ::epoll_pwait2(g_epfd, events, 128, delay_ns < 0 ? nullptr : &ts, nullptr);
    if (n < 0 && errno == ENOSYS) {
      g_have_pwait2 = false;
      return netpoll(delay_ns, count);
    }
  } else {
    int ms = delay_ns < 0 ? -1 : static_cast<int>((delay_ns + 999'999) / 1'000'000);
    n = ::epoll_wait(g_epfd, events, 128, ms);
  }
  if (n < 0) {
    if (errno != EINTR) fatal("epoll_wait: {}", std::strerror(errno));
    return nullptr;
  }
  G* head = nullptr;
  G* tail = nullptr;
  for (int i = 0; i < n; ++i) {
    const epoll_event& ev = events[i];
    if (ev.data.u64 == kBreakTag) {
      std::uint64_t drained;
      (void)!::read(g_eventfd, &drained, sizeof drained);
      g_wake_pending.store(false, std::memory_order_release);
      continue;
    }
    PollDesc* pd = poll_lookup(static_cast<std::uint32_t>(ev.data.u64));
    if (pd == nullptr) continue;
    bool read = (ev.events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) != 0;
    bool write = (ev.events & (EPOLLOUT | EPOLLHUP | EPOLLERR)) != 0;
    pd->last_events.store(ev.events, std::memory_order_relaxed);
    if ((ev.events & (EPOLLRDHUP | EPOLLHUP | EPOLLERR)) != 0) {
      pd->read_hup.store(true, std::memory_order_relaxed);  // published by poll_ready's CAS
    }
    auto seq = static_cast<std::uint32_t>(ev.data.u64 >> 32);
    G* before = tail;
    poll_ready(pd, seq, read, write, &head, &tail, count);
    trace_netpoll(pd, seq, ev.events,
                  tail == before      ? nullptr
                  : before != nullptr ? before->schedlink
                                      : head,
                  delay_ns != 0);
  }
  return head;
}

}  // namespace gofer::runtime
