#include "net/resolve.h"

#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <algorithm>
#include <atomic>
#include <cstring>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <utility>

#include "gofer/chan.h"
#include "gofer/runtime.h"
#include "gofer/time.h"
#include "net/fd.h"
#include "runtime/park.h"

namespace gofer::net::detail {
namespace {

bool is_invalid_tld(std::string_view host) {
  if (!host.empty() && host.back() == '.') host.remove_suffix(1);  // a rooted name
  constexpr std::string_view kInvalid = "invalid";
  if (host.size() < kInvalid.size()) return false;
  std::string_view tail = host.substr(host.size() - kInvalid.size());
  if (!std::equal(tail.begin(), tail.end(), kInvalid.begin(),
                  [](char a, char b) { return (a | 0x20) == b; })) {
    return false;
  }
  return host.size() == kInvalid.size() || host[host.size() - kInvalid.size() - 1] == '.';
}

Error gai_error(int rc, int saved_errno) {
  switch (rc) {
    case EAI_NONAME:
#ifdef EAI_NODATA
    case EAI_NODATA:
#endif
#ifdef EAI_ADDRFAMILY
    case EAI_ADDRFAMILY:
#endif
      return errc::no_such_host;
    case EAI_MEMORY:
      return std::make_error_code(std::errc::not_enough_memory);
    case EAI_SYSTEM:
      return sys_error(saved_errno);
    default:
      return errc::dns_failure;  // EAI_AGAIN, EAI_FAIL, …
  }
}

// The default LookupFunction: getaddrinfo, stream sockets, IPv4 and IPv6
// only, duplicates dropped.
Result<std::vector<Addr>> getaddrinfo_lookup(const std::string& host, int family) {
  addrinfo hints{};
  hints.ai_family = family;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* list = nullptr;
  int rc = ::getaddrinfo(host.c_str(), nullptr, &hints, &list);
  if (rc != 0) return {{}, gai_error(rc, errno)};  // errno: same thread, right after the call
  std::vector<Addr> addrs;
  for (addrinfo* ai = list; ai != nullptr; ai = ai->ai_next) {
    if (ai->ai_family != AF_INET && ai->ai_family != AF_INET6) continue;
    Addr a(ai->ai_addr, ai->ai_addrlen);
    if (std::find(addrs.begin(), addrs.end(), a) == addrs.end()) addrs.push_back(a);
  }
  ::freeaddrinfo(list);
  if (addrs.empty()) return {{}, errc::no_such_host};
  return {std::move(addrs), {}};
}

Addr with_port(const Addr& a, std::uint16_t port) {
  sockaddr_storage ss{};
  std::memcpy(&ss, a.data(), a.size());
  if (a.family() == AF_INET) {
    reinterpret_cast<sockaddr_in*>(&ss)->sin_port = htons(port);
  } else {
    reinterpret_cast<sockaddr_in6*>(&ss)->sin6_port = htons(port);
  }
  return Addr(reinterpret_cast<sockaddr*>(&ss), a.size());
}

// One lookup in flight, shared by every caller that asked for its name
// while it ran; a caller that gives up drops its reference and the lookup
// goroutine keeps its own.
struct Lookup {
  std::string host;
  int family = AF_UNSPEC;
  Result<std::vector<Addr>> result;  // written before `done` is closed
  Chan<Empty> done = make_chan<Empty>();
};

// The lookups in flight, by name, and the bound on how many there are.
//
// Invariants (under mu):
//   by_name holds exactly the lookups whose goroutine has not finished, so
//   running == by_name.size() <= limit, except after set_max_lookups lowered
//   the limit.
//   slot_freed is closed, and replaced, each time a lookup finishes: a
//   caller that found no free slot waits on the channel it saw, then looks
//   again.
struct InFlight {
  std::mutex mu;
  std::map<std::pair<std::string, int>, std::shared_ptr<Lookup>> by_name;
  std::size_t limit = 500;
  Chan<Empty> slot_freed = make_chan<Empty>();
};

InFlight& in_flight() {
  static InFlight* state = new InFlight;  // never destroyed: lookups may outlive main's statics
  return *state;
}

std::atomic<LookupFunction> lookup_function{&getaddrinfo_lookup};

void run_lookup(const std::shared_ptr<Lookup>& l) {
  LookupFunction f = lookup_function.load(std::memory_order_acquire);
  l->result = gofer::blocking([&] { return f(l->host, l->family); });
  InFlight& s = in_flight();
  Chan<Empty> freed;
  {
    std::lock_guard<std::mutex> lock(s.mu);
    s.by_name.erase({l->host, l->family});
    freed = std::exchange(s.slot_freed, make_chan<Empty>());
  }
  // Closing publishes `result` to the waiters (a channel close
  // happens-before the receives it completes).
  l->done.close();
  freed.close();
}

// The result of waiting: the lookup finished, or the caller gave up.
enum class Wait { done, timed_out, cancelled };

// Waits until `ch` is ready (closed), the deadline passes or the context
// ends, whichever comes first.
Wait wait_for(const Chan<Empty>& ch, std::int64_t deadline, const Context* ctx) {
  RecvChan<Empty> ctx_done = ctx != nullptr ? ctx->done() : RecvChan<Empty>{};
  std::optional<Timer> timer;
  RecvChan<TimePoint> timer_c;  // nil (never ready) without a deadline
  if (deadline != 0) {
    timer.emplace(
        std::chrono::nanoseconds(std::max<std::int64_t>(deadline - runtime::nanotime(), 0)));
    timer_c = timer->c();
  }
  Wait result = Wait::done;
  gofer::select(recv_case(ch),
                recv_case(timer_c, [&](TimePoint, bool) { result = Wait::timed_out; }),
                recv_case(ctx_done, [&](Empty, bool) { result = Wait::cancelled; }));
  if (timer) timer->stop();
  return result;
}

}  // namespace

void set_lookup_function(LookupFunction f) {
  lookup_function.store(f != nullptr ? f : &getaddrinfo_lookup, std::memory_order_release);
}

std::size_t max_lookups() {
  InFlight& s = in_flight();
  std::lock_guard<std::mutex> lock(s.mu);
  return s.limit;
}

void set_max_lookups(std::size_t n) {
  InFlight& s = in_flight();
  std::lock_guard<std::mutex> lock(s.mu);
  s.limit = std::max<std::size_t>(n, 1);
}

std::size_t lookups_in_flight() {
  InFlight& s = in_flight();
  std::lock_guard<std::mutex> lock(s.mu);
  return s.by_name.size();
}

Result<std::vector<Addr>> resolve(Network network, std::string_view host, std::uint16_t port,
                                  std::int64_t deadline, const Context* ctx) {
  if (is_invalid_tld(host)) return {{}, errc::no_such_host};
  const int family = network == Network::tcp4   ? AF_INET
                     : network == Network::tcp6 ? AF_INET6
                                                : AF_UNSPEC;
  auto gave_up = [&](Wait w) -> Error {
    return w == Wait::cancelled ? ctx->err() : Error(errc::timeout);
  };

  // Join the lookup of this name in flight, or start one in a free slot,
  // or wait for a slot.
  std::shared_ptr<Lookup> lookup;
  for (;;) {
    if (deadline != 0 && deadline <= runtime::nanotime()) return {{}, errc::timeout};
    if (ctx != nullptr && ctx->err()) return {{}, ctx->err()};
    InFlight& s = in_flight();
    Chan<Empty> slot_freed;
    bool start = false;
    {
      std::lock_guard<std::mutex> lock(s.mu);
      auto key = std::make_pair(std::string(host), family);
      if (auto it = s.by_name.find(key); it != s.by_name.end()) {
        lookup = it->second;
      } else if (s.by_name.size() < s.limit) {
        lookup = std::make_shared<Lookup>();
        lookup->host = key.first;
        lookup->family = family;
        s.by_name.emplace(std::move(key), lookup);
        start = true;
      } else {
        slot_freed = s.slot_freed;
      }
    }
    if (start) gofer::go([lookup] { run_lookup(lookup); });
    if (lookup) break;
    if (Wait w = wait_for(slot_freed, deadline, ctx); w != Wait::done) return {{}, gave_up(w)};
  }

  if (Wait w = wait_for(lookup->done, deadline, ctx); w != Wait::done) return {{}, gave_up(w)};
  if (lookup->result.err) return {{}, lookup->result.err};
  std::vector<Addr> addrs;
  addrs.reserve(lookup->result.value.size());
  for (const Addr& a : lookup->result.value) addrs.push_back(with_port(a, port));
  return {std::move(addrs), {}};
}

}  // namespace gofer::net::detail
