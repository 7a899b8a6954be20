#include "net/resolve.h"

#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <algorithm>
#include <cstring>
#include <memory>
#include <string>

#include "gofer/runtime.h"
#include "net/fd.h"
#include "net/wakeup.h"
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
    case EAI_MEMORY: return std::make_error_code(std::errc::not_enough_memory);
    case EAI_SYSTEM: return sys_error(saved_errno);
    default: return errc::dns_failure;  // EAI_AGAIN, EAI_FAIL, …
  }
}

// What a lookup goroutine hands back. Shared with the caller, which may have
// given up (timed out) before it is done.
struct Lookup {
  std::string host;
  int family = AF_UNSPEC;
  std::uint16_t port = 0;
  std::vector<Addr> addrs;  // written before done.notify()
  Error err;
  Wakeup done;
};

void run_lookup(Lookup& l) {
  addrinfo hints{};
  hints.ai_family = l.family;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* list = nullptr;
  int saved_errno = 0;
  int rc = gofer::blocking([&] {
    int r = ::getaddrinfo(l.host.c_str(), nullptr, &hints, &list);
    saved_errno = errno;  // same thread as the call, inside this lambda
    return r;
  });
  if (rc != 0) {
    l.err = gai_error(rc, saved_errno);
    return;
  }
  for (addrinfo* ai = list; ai != nullptr; ai = ai->ai_next) {
    if (ai->ai_family != AF_INET && ai->ai_family != AF_INET6) continue;
    sockaddr_storage ss{};
    std::memcpy(&ss, ai->ai_addr, std::min<std::size_t>(ai->ai_addrlen, sizeof ss));
    if (ai->ai_family == AF_INET) {
      reinterpret_cast<sockaddr_in*>(&ss)->sin_port = htons(l.port);
    } else {
      reinterpret_cast<sockaddr_in6*>(&ss)->sin6_port = htons(l.port);
    }
    Addr a(reinterpret_cast<sockaddr*>(&ss), ai->ai_addrlen);
    if (std::find(l.addrs.begin(), l.addrs.end(), a) == l.addrs.end()) l.addrs.push_back(a);
  }
  ::freeaddrinfo(list);
  if (l.addrs.empty()) l.err = errc::no_such_host;
}

}  // namespace

Result<std::vector<Addr>> resolve(Network network, std::string_view host, std::uint16_t port,
                                  std::int64_t deadline) {
  if (is_invalid_tld(host)) return {{}, errc::no_such_host};
  auto lookup = std::make_shared<Lookup>();
  lookup->host = std::string(host);
  lookup->family = network == Network::tcp4 ? AF_INET : network == Network::tcp6 ? AF_INET6 : AF_UNSPEC;
  lookup->port = port;
  if (deadline == 0) {
    run_lookup(*lookup);
    return {std::move(lookup->addrs), lookup->err};
  }
  if (deadline <= runtime::nanotime()) return {{}, errc::timeout};
  gofer::go([lookup] {
    run_lookup(*lookup);
    lookup->done.notify();
  });
  if (!lookup->done.wait(deadline, runtime::WaitReason::io_connect)) return {{}, errc::timeout};
  // acquire (in wait's final load): the lookup's writes are visible.
  return {std::move(lookup->addrs), lookup->err};
}

}  // namespace gofer::net::detail
