// Name resolution: host names to addresses, with getaddrinfo.
//
// getaddrinfo blocks its thread (DNS over the network, /etc/hosts, NSS
// modules), so it runs inside gofer::blocking(): the P goes on running other
// goroutines. With a deadline it runs on a goroutine of its own while the
// caller waits for the result or the deadline, whichever comes first — a
// resolver that hangs cannot stretch a dial past its timeout (the lookup is
// abandoned, and finishes in the background; getaddrinfo cannot be
// cancelled).
//
// Unlike Go there is no pure-Go DNS client: we rely on the C library, as
// Go's cgo resolver does. Names under ".invalid" fail at once (RFC 6761
// §6.4), without asking anybody.
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

#include "gofer/error.h"
#include "gofer/net.h"
#include "net/sockaddr.h"

namespace gofer::net::detail {

// The addresses of `host` (a name, not an IP literal) for the network's
// families, in the resolver's order (RFC 6724 through gai.conf), without
// duplicates. deadline: nanotime(), 0 for none; past it, errc::timeout.
// Errors: no_such_host, dns_failure, timeout, or a system error.
Result<std::vector<Addr>> resolve(Network network, std::string_view host, std::uint16_t port,
                                  std::int64_t deadline);

}  // namespace gofer::net::detail
