// Name resolution: host names to addresses, with getaddrinfo.
//
// getaddrinfo blocks its thread (DNS over the network, /etc/hosts, NSS
// modules) and cannot be cancelled, so it runs on a goroutine of its own,
// inside gofer::blocking() (the P goes on running other goroutines), while
// the caller waits for the result, its deadline or its context, whichever
// comes first. A caller that gives up abandons the lookup: it finishes in
// the background. What stays behind is bounded twice:
//   - one lookup per name in flight: callers that ask for a name already
//     being looked up (same host, same address family) wait for that lookup
//     instead of starting another (Go's singleflight lookupGroup);
//   - at most max_lookups() lookups in flight at all (Go limits its cgo
//     resolver to 500 threads the same way): a caller that finds them all
//     taken waits for one to finish, or gives up.
//
// Unlike Go there is no pure-Go DNS client: we rely on the C library, as
// Go's cgo resolver does. Names under ".invalid" fail at once (RFC 6761
// §6.4), without asking anybody.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "gofer/context.h"
#include "gofer/error.h"
#include "gofer/net.h"
#include "net/sockaddr.h"

namespace gofer::net::detail {

// The addresses of `host` (a name, not an IP literal) for the network's
// families, in the resolver's order (RFC 6724 through gai.conf), without
// duplicates. deadline: nanotime(), 0 for none; past it, errc::timeout.
// ctx: when it ends first, its error (context_errc); nullptr for none.
// Errors: no_such_host, dns_failure, timeout, the context's, or a system error.
Result<std::vector<Addr>> resolve(Network network, std::string_view host, std::uint16_t port,
                                  std::int64_t deadline, const Context* ctx = nullptr);

// What resolve() asks: the addresses of `host` for `family` (AF_INET,
// AF_INET6 or AF_UNSPEC), ports unset. Called inside gofer::blocking(), so
// it may block its thread.
using LookupFunction = Result<std::vector<Addr>> (*)(const std::string& host, int family);

// For tests: replaces getaddrinfo (nullptr restores it), e.g. by a stub that
// answers slowly. Not safe while lookups are in flight.
void set_lookup_function(LookupFunction f);

// The bound on lookups in flight (default 500); for tests, settable.
std::size_t max_lookups();
void set_max_lookups(std::size_t n);
// Lookups running now, abandoned ones included.
std::size_t lookups_in_flight();

}  // namespace gofer::net::detail
