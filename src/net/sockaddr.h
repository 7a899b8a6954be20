// Parsing of networks, ports and IP literals into Addrs (no name lookup:
// that is resolve.h). Shared by listen and dial.
#pragma once

#include <cstdint>
#include <string_view>

#include "gofer/error.h"
#include "gofer/net.h"

namespace gofer::net::detail {

enum class Network { tcp, tcp4, tcp6, unix_stream };

// "tcp", "tcp4", "tcp6", "unix"; errc::unknown_network otherwise.
Result<Network> parse_network(std::string_view network);

// A decimal port or a service name ("http"); errc::bad_address otherwise.
// An empty port is 0, as in Go.
Result<std::uint16_t> parse_port(std::string_view port);

// An IPv4 or IPv6 literal ("127.0.0.1", "::1", "fe80::1%eth0") with a port.
// Returns false if `host` is not an IP literal (then it is a name);
// *err is set for a literal with a bad zone.
bool parse_ip(std::string_view host, std::uint16_t port, Addr* out, Error* err);

// The wildcard ("0.0.0.0", "::") or loopback address of a family.
Addr any_addr(int family, std::uint16_t port);
Addr loopback_addr(int family, std::uint16_t port);
bool is_unspecified(const Addr& a) noexcept;

// A Unix socket path; "@name" is Linux's abstract namespace.
Result<Addr> unix_addr(std::string_view path);

}  // namespace gofer::net::detail
