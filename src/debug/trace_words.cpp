// describe_event (trace_words.h): every trace kind's arguments, decoded once.
#include "debug/trace_words.h"

#include <errno.h>
#include <string.h>
#include <sys/epoll.h>

#include <fmt/format.h>

#include "runtime/park.h"
#include "runtime/poll_desc.h"

namespace gofer::debug::detail {
namespace {

using runtime::TraceEvent;
using runtime::TraceKind;

std::string epoll_events(std::uint32_t ev) {
  std::string s;
  auto add = [&](std::uint32_t bit, const char* name) {
    if ((ev & bit) == 0) return;
    if (!s.empty()) s += '|';
    s += name;
  };
  add(EPOLLIN, "EPOLLIN");
  add(EPOLLOUT, "EPOLLOUT");
  add(EPOLLRDHUP, "EPOLLRDHUP");
  add(EPOLLHUP, "EPOLLHUP");
  add(EPOLLERR, "EPOLLERR");
  return s;
}

std::string readiness(std::uint32_t ev) {
  if (ev & (EPOLLHUP | EPOLLRDHUP | EPOLLERR)) return "hung up";
  if ((ev & EPOLLIN) && (ev & EPOLLOUT)) return "readable and writable";
  if (ev & EPOLLIN) return "readable";
  if (ev & EPOLLOUT) return "writable";
  return "ready";
}

std::string errno_name(std::int64_t negative) {
  int e = static_cast<int>(-negative);
  const char* name = ::strerrorname_np(e);
  return name != nullptr ? name : fmt::format("errno {}", e);
}

std::string where(const TraceEvent& e) {
  if (e.m < 0) return "a thread outside the runtime";
  if (e.p < 0) return fmt::format("M{} (holding no P)", e.m);
  return fmt::format("P{} (M{})", e.p, e.m);
}

const char* syscall_name(std::int64_t sc) {
  switch (static_cast<runtime::TraceSyscall>(sc)) {
    case runtime::TraceSyscall::write:
      return "write";
    case runtime::TraceSyscall::send:
      return "send";
    case runtime::TraceSyscall::sendmsg:
      return "writev (sendmsg)";  // Conn::writev's syscall
    case runtime::TraceSyscall::writev:
      return "writev";
    case runtime::TraceSyscall::sendfile:
      return "sendfile";
  }
  return "?";
}

// The common fields of the syscall events' export.
std::string syscall_args(const TraceEvent& e) {
  return fmt::format("\"result\":{},\"goroutine\":{},\"m\":{},\"p\":{}", e.a0, e.g, e.m, e.p);
}

void go_create(const TraceEvent& e, EventWords& w) {
  w.kind = "create";
  w.label = fmt::format("create G{}", e.g);
  w.args = fmt::format("\"goroutine\":{},\"parent\":{}", e.g, e.a0);
  w.text = e.a0 != 0
               ? fmt::format("goroutine {} created by goroutine {} on {}", e.g, e.a0, where(e))
               : fmt::format("goroutine {} created on {}", e.g, where(e));
  const auto read = static_cast<std::int64_t>(runtime::PollMode::read);
  const auto write = static_cast<std::int64_t>(runtime::PollMode::write);
  if (e.a1 == read || e.a1 == write) {
    // Conn::go_when_readable: the creator hands the fd to the poller.
    const char* ready = e.a1 == read ? "readable" : "writable";
    w.kind = "handoff";
    w.label = fmt::format("G{} hands fd {} to the poller: G{} starts when it is {}", e.a0, e.fd,
                          e.g, ready);
    w.args += fmt::format(",\"waits_for_fd\":{}", e.fd);
    w.text = fmt::format(
        "goroutine {} hands fd {} to the poller: goroutine {}, created on {}, waits with no stack "
        "and starts when epoll reports fd {} {}",
        e.a0, e.fd, e.g, where(e), e.fd, ready);
  }
}

void go_start(const TraceEvent& e, const EventContext& c, EventWords& w) {
  w.kind = "run";
  std::string after = e.a0 < 0 ? "" : fmt::format(" after {} runnable", duration_text(e.a0));
  w.label = fmt::format("G{}", e.g);
  w.args = fmt::format("\"goroutine\":{},\"runnable_us\":{}", e.g,
                       e.a0 < 0 ? -1.0 : static_cast<double>(e.a0) / 1e3);
  w.text = fmt::format("goroutine {} {} on {}{}", e.g, c.first_run ? "started" : "resumed",
                       where(e), after);
}

void go_stop(const TraceEvent& e, EventWords& w) {
  w.args = fmt::format("\"goroutine\":{},\"fd\":{}", e.g, e.fd);
  switch (static_cast<runtime::TraceStop>(e.a0)) {
    case runtime::TraceStop::park: {
      w.kind = "park";
      w.detail = runtime::to_string(static_cast<runtime::WaitReason>(e.a1));
      w.value = e.fd;
      std::string on_fd = e.fd >= 0 ? fmt::format(" on fd {}", e.fd) : "";
      w.label = fmt::format("park G{}: {}{}", e.g, w.detail, on_fd);
      w.text = fmt::format("goroutine {} parked ({}{}); M{} is free to run other goroutines", e.g,
                           w.detail, on_fd, e.m);
      return;
    }
    case runtime::TraceStop::yield:
      w.kind = "yield";
      w.text = fmt::format("goroutine {} yielded {}", e.g, where(e));
      break;
    case runtime::TraceStop::exit:
      w.kind = "exit";
      w.text = fmt::format("goroutine {} exited", e.g);
      break;
    case runtime::TraceStop::blocking:
      w.kind = "blocking";
      w.text = fmt::format("goroutine {} back from a blocking call, waits for a free P", e.g);
      break;
    default:
      w.worth_telling = false;
      w.kind = "stop";
      break;
  }
  w.label = fmt::format("{} G{}", w.kind, e.g);
}

void go_unpark(const TraceEvent& e, EventWords& w) {
  w.kind = "unpark";
  w.args = fmt::format("\"goroutine\":{},\"by\":{}", e.g, e.a1);
  switch (static_cast<runtime::TraceUnpark>(e.a0)) {
    case runtime::TraceUnpark::netpoll:
      w.detail = "netpoll";
      w.text = e.p >= 0 ? fmt::format("goroutine {} made runnable on P{}", e.g, e.p)
                        : fmt::format("goroutine {} made runnable on the global run queue", e.g);
      break;
    case runtime::TraceUnpark::ready:
      w.detail = "ready";
      w.text = e.a1 != 0 ? fmt::format("goroutine {} readied by goroutine {}", e.g, e.a1)
                         : fmt::format("goroutine {} readied by {} (a timer or the scheduler)", e.g,
                                       e.m >= 0 ? fmt::format("M{}", e.m) : "a thread");
      break;
    case runtime::TraceUnpark::declined:
      w.detail = "declined";
      w.text = fmt::format(
          "goroutine {} did not sleep: what it waited for came before its park took effect", e.g);
      break;
    case runtime::TraceUnpark::blocking:
      w.detail = "blocking";
      w.text = fmt::format("goroutine {} queued on the global run queue", e.g);
      break;
    default:
      w.worth_telling = false;
      break;
  }
  w.label = fmt::format("unpark G{} ({})", e.g, w.detail.empty() ? "?" : w.detail);
}

void netpoll(const TraceEvent& e, const EventContext& c, EventWords& w) {
  auto ev = static_cast<std::uint32_t>(e.a0);
  w.kind = "netpoll";
  w.detail = epoll_events(ev);
  w.worth_telling = e.g != 0;  // nobody waited: the next syscall finds it
  w.label = e.g != 0 ? fmt::format("epoll: fd {} ready → G{}", e.fd, e.g)
                     : fmt::format("epoll: fd {} ready", e.fd);
  w.args = fmt::format("\"fd\":{},\"events\":{},\"goroutine\":{},\"blocking\":{}", e.fd, e.a0, e.g,
                       e.a1);
  std::string after = c.waited_ns >= 0 ? fmt::format(" after {}", duration_text(c.waited_ns)) : "";
  w.text = fmt::format("{} on M{} reported {}fd {} {} ({}){} → goroutine {} runnable",
                       e.a1 != 0 ? "epoll_wait" : "a non-blocking epoll", e.m,
                       e.fd == c.listener_fd ? "listener " : "", e.fd, readiness(ev), w.detail,
                       after, e.g);
}

void accept(const TraceEvent& e, EventWords& w) {
  w.kind = "accept";
  w.args = syscall_args(e);
  w.worth_telling = e.a0 >= 0;
  if (e.a0 < 0) {
    w.detail = errno_name(e.a0);
    w.label = fmt::format("accept → {}", w.detail);
    w.text = fmt::format("accept on listener fd {} → {}", e.fd, w.detail);
    return;
  }
  w.label = fmt::format("accept → fd {}", e.a0);
  w.text = fmt::format("conn fd {} accepted on listener fd {} by goroutine {} on {}", e.a0, e.fd,
                       e.g, where(e));
}

void read(const TraceEvent& e, EventWords& w) {
  w.kind = "read";
  w.args = syscall_args(e);
  if (e.a0 > 0) {
    w.label = fmt::format("read {} B", e.a0);
    w.text = fmt::format("read {} bytes from fd {}", e.a0, e.fd);
  } else if (e.a0 == 0) {
    w.label = "read → EOF";
    w.text = fmt::format("read fd {} → EOF: the client closed its side", e.fd);
  } else {
    w.detail = errno_name(e.a0);
    w.label = fmt::format("read → {}", w.detail);
    w.text = e.a0 == -EAGAIN ? fmt::format("read fd {} → EAGAIN: no bytes yet", e.fd)
                             : fmt::format("read fd {} → {}", e.fd, w.detail);
  }
}

void write(const TraceEvent& e, EventWords& w) {
  w.kind = "write";
  w.detail = syscall_name(e.a1);
  w.args = syscall_args(e);
  if (e.a0 >= 0) {
    w.label = fmt::format("{} {} B", w.detail, e.a0);
    w.text = fmt::format("wrote {} bytes to fd {} with {}", e.a0, e.fd, w.detail);
    return;
  }
  std::string error = errno_name(e.a0);
  w.label = fmt::format("{} → {}", w.detail, error);
  w.text = e.a0 == -EAGAIN
               ? fmt::format("{} on fd {} → EAGAIN: the socket buffer is full", w.detail, e.fd)
               : fmt::format("{} on fd {} → {}", w.detail, e.fd, error);
}

// A kind of a layer above, by its registration.
void layer_event(const TraceEvent& e, const EventContext& c, EventWords& w) {
  const runtime::TraceKindInfo* info = runtime::trace_kind_info(e.kind);
  if (info == nullptr) {
    w.worth_telling = false;
    w.kind = w.label = fmt::format("kind {}", static_cast<int>(e.kind));
    w.text = w.label;
    return;
  }
  w.kind = info->name;
  w.label = info->name;
  if (info->role == runtime::TraceRole::work_begin) {
    w.detail = std::string(e.text_view());
    w.label = w.detail;
  }
  // Only the registered arguments: a reader that joins two events' (a
  // request's head and its response) gets each name once.
  if (info->a0 != nullptr) w.args += fmt::format("\"{}\":{}", info->a0, e.a0);
  if (info->a1 != nullptr) {
    if (!w.args.empty()) w.args += ',';
    w.args += fmt::format("\"{}\":{}", info->a1, e.a1);
  }
  try {
    w.text =
        fmt::format(fmt::runtime(info->says), fmt::arg("fd", e.fd), fmt::arg("g", e.g),
                    fmt::arg("a0", e.a0), fmt::arg("a1", e.a1), fmt::arg("text", e.text_view()));
  } catch (const fmt::format_error&) {
    w.text = fmt::format("{} (a0 {}, a1 {})", info->name, e.a0, e.a1);  // a bad template
  }
  if (info->role == runtime::TraceRole::part_end && c.part_ns >= 0) {
    w.text += fmt::format(" after {}", duration_text(c.part_ns));
  }
}

}  // namespace

std::string duration_text(std::int64_t ns) {
  if (ns < 0) ns = 0;
  if (ns < 10'000) return fmt::format("{:.1f} µs", static_cast<double>(ns) / 1e3);
  if (ns < 10'000'000) return fmt::format("{} µs", ns / 1000);
  if (ns < 10'000'000'000) return fmt::format("{:.1f} ms", static_cast<double>(ns) / 1e6);
  return fmt::format("{:.1f} s", static_cast<double>(ns) / 1e9);
}

EventWords describe_event(const TraceEvent& e, const EventContext& context) {
  EventWords w;
  w.value = e.a0;
  switch (e.kind) {
    case TraceKind::go_create:
      go_create(e, w);
      break;
    case TraceKind::go_start:
      go_start(e, context, w);
      break;
    case TraceKind::go_stop:
      go_stop(e, w);
      break;
    case TraceKind::go_unpark:
      go_unpark(e, w);
      break;
    case TraceKind::poll_block:
      w.kind = "poll_block";
      w.label = "epoll_wait";
      w.worth_telling = false;  // a journey shows what the poll reported
      w.text = e.a0 < 0 ? fmt::format("M{} blocks in epoll_wait", e.m)
                        : fmt::format("M{} blocks in epoll_wait for at most {}", e.m,
                                      duration_text(e.a0));
      w.args = fmt::format("\"timeout_ns\":{}", e.a0);
      break;
    case TraceKind::poll_wake:
      w.kind = "poll_wake";
      w.label = "epoll_wait";
      w.worth_telling = false;
      w.text = fmt::format("M{} back from epoll_wait: {} goroutines runnable", e.m, e.a0);
      w.args = fmt::format("\"woke\":{}", e.a0);
      break;
    case TraceKind::netpoll:
      netpoll(e, context, w);
      break;
    case TraceKind::accept:
      accept(e, w);
      break;
    case TraceKind::read:
      read(e, w);
      break;
    case TraceKind::write:
      write(e, w);
      break;
    case TraceKind::close:
      w.kind = "close";
      w.label = "close";
      w.text = fmt::format("fd {} closed", e.fd);
      w.args = fmt::format("\"goroutine\":{}", e.g);
      break;
    default:
      layer_event(e, context, w);
      break;
  }
  return w;
}

}  // namespace gofer::debug::detail
