// dial: resolve, then connect to each address in turn (Go's net.Dialer
// without Happy Eyeballs: addresses are tried one after the other, each
// with a share of the time left, as Go does for a single address family).
// dial_context gives up both steps when its context ends: the lookup is
// abandoned (resolve.h bounds what stays behind), the connect interrupted
// (NetFd::connect), and the context's error returned.
#include "gofer/net.h"

#include <netinet/in.h>
#include <netinet/tcp.h>

#include <algorithm>
#include <memory>
#include <vector>

#include "gofer/context.h"
#include "net/fd.h"
#include "net/resolve.h"
#include "net/sockaddr.h"
#include "net/sys.h"
#include "runtime/park.h"

namespace gofer::net {
namespace {

using detail::Network;
using detail::sys_error;

// Go's partialDeadline: an equal share of the time left for each remaining
// address, but at least 2 s each when there is that much time.
Result<std::int64_t> partial_deadline(std::int64_t now, std::int64_t deadline,
                                      std::size_t remaining) {
  if (deadline == 0) return {0, {}};
  std::int64_t left = deadline - now;
  if (left <= 0) return {0, errc::timeout};
  constexpr std::int64_t kSaneMinimum = 2'000'000'000;
  std::int64_t share = left / static_cast<std::int64_t>(remaining);
  if (share < kSaneMinimum) share = std::min(left, kSaneMinimum);
  return {now + share, {}};
}

Result<Conn> dial_one(const Addr& remote, std::int64_t deadline, const Context* ctx) {
  const bool tcp = remote.family() != AF_UNIX;
  // Go's selfConnect: a dial to a local port that nobody listens on may pick
  // that very port as its ephemeral port and connect to itself (TCP
  // simultaneous open). Detect it and try again, twice at most.
  for (int attempt = 0;; ++attempt) {
    int fd = sys::socket(remote.family(), SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) return {Conn{}, sys_error(-fd)};
    if (tcp) sys::setsockopt_int(fd, IPPROTO_TCP, TCP_NODELAY, 1);  // as Go does
    Error err;
    auto impl = std::make_unique<Conn::Impl>(fd, remote, &err);
    if (err) return {Conn{}, err};
    if ((err = impl->fd.connect(remote, deadline, ctx))) return {Conn{}, err};
    if (tcp && attempt < 2 && impl->fd.local_addr() == remote) continue;  // impl closes it
    return {Conn(std::move(impl)), {}};
  }
}

// deadline: nanotime, 0 for none. ctx: nullptr for none; when it ends, the
// lookup or connect under way returns its error.
Result<Conn> dial_until(std::string_view network, std::string_view address, std::int64_t deadline,
                        const Context* ctx) {
  auto [net, nerr] = detail::parse_network(network);
  if (nerr) return {Conn{}, nerr};

  if (net == Network::unix_stream) {
    auto [addr, err] = detail::unix_addr(address);
    if (err) return {Conn{}, err};
    return dial_one(addr, deadline, ctx);
  }

  auto [hostport, serr] = split_host_port(address);
  if (serr) return {Conn{}, serr};
  auto [host, port_name] = hostport;
  auto [port, perr] = detail::parse_port(port_name);
  if (perr) return {Conn{}, perr};

  std::vector<Addr> addrs;
  Addr literal;
  Error err;
  if (host.empty()) {
    // Go: "if the host is empty … the local system is assumed".
    addrs.push_back(detail::loopback_addr(net == Network::tcp6 ? AF_INET6 : AF_INET, port));
  } else if (detail::parse_ip(host, port, &literal, &err)) {
    if (err) return {Conn{}, err};
    if ((net == Network::tcp4 && literal.family() != AF_INET) ||
        (net == Network::tcp6 && literal.family() != AF_INET6)) {
      return {Conn{}, errc::bad_address};
    }
    addrs.push_back(literal);
  } else {
    auto [list, rerr] = detail::resolve(net, host, port, deadline, ctx);
    if (rerr) return {Conn{}, rerr};
    addrs = std::move(list);
  }

  Error first;  // Go reports the first address's error
  for (std::size_t i = 0; i < addrs.size(); ++i) {
    auto [part, derr] = partial_deadline(runtime::nanotime(), deadline, addrs.size() - i);
    if (derr) {
      if (!first) first = derr;
      break;
    }
    auto r = dial_one(addrs[i], part, ctx);
    if (!r.err) return r;
    if (!first) first = r.err;
    if (ctx != nullptr && ctx->err()) break;  // no time for the next address
  }
  return {Conn{}, first};
}

}  // namespace

Result<Conn> dial(std::string_view network, std::string_view address,
                  std::chrono::nanoseconds timeout) {
  const std::int64_t deadline = timeout.count() > 0 ? runtime::nanotime() + timeout.count() : 0;
  return dial_until(network, address, deadline, nullptr);
}

Result<Conn> dial_context(const Context& ctx, std::string_view network, std::string_view address) {
  if (Error e = ctx.err()) return {Conn{}, e};
  std::optional<TimePoint> d = ctx.deadline();
  const std::int64_t deadline = d ? detail::to_nanotime(*d) : 0;
  auto r = dial_until(network, address, deadline, &ctx);
  // Whatever failed while the context ended (a lookup or connect cut short,
  // a timeout at its deadline), the context's error says why (Go's mapErr).
  // The context's own timer may not have run yet when the dial's timer,
  // armed for the same instant, ended the wait: past the deadline it is
  // deadline_exceeded all the same.
  if (r.err) {
    if (Error e = ctx.err()) {
      r.err = e;
    } else if (deadline != 0 && r.err == errc::timeout && runtime::nanotime() >= deadline) {
      r.err = context_errc::deadline_exceeded;
    }
  }
  return r;
}

}  // namespace gofer::net
