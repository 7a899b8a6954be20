// Addr: socket addresses, parsed and printed as Go's net package does.
#include "gofer/net.h"

#include <arpa/inet.h>
#include <net/if.h>
#include <netdb.h>
#include <netinet/in.h>
#include <sys/un.h>

#include <charconv>
#include <cstddef>
#include <cstring>
#include <string>

#include "gofer/runtime.h"
#include "net/sockaddr.h"

namespace gofer::net {

Addr::Addr(const sockaddr* sa, socklen_t len) {
  len_ = std::min<socklen_t>(len, sizeof storage_);
  std::memcpy(&storage_, sa, len_);
}

int Addr::port() const noexcept {
  switch (family()) {
    case AF_INET:
      return ntohs(reinterpret_cast<const sockaddr_in*>(&storage_)->sin_port);
    case AF_INET6:
      return ntohs(reinterpret_cast<const sockaddr_in6*>(&storage_)->sin6_port);
    default:
      return 0;
  }
}

bool Addr::is_loopback() const noexcept {
  switch (family()) {
    case AF_INET: {
      auto ip = ntohl(reinterpret_cast<const sockaddr_in*>(&storage_)->sin_addr.s_addr);
      return (ip >> 24) == 127;
    }
    case AF_INET6: {
      const in6_addr& a = reinterpret_cast<const sockaddr_in6*>(&storage_)->sin6_addr;
      if (IN6_IS_ADDR_LOOPBACK(&a)) return true;
      return IN6_IS_ADDR_V4MAPPED(&a) && a.s6_addr[12] == 127;
    }
    case AF_UNIX:
      return true;
    default:
      return false;
  }
}

std::string_view Addr::network() const noexcept {
  switch (family()) {
    case AF_INET:
    case AF_INET6:
      return "tcp";
    case AF_UNIX:
      return "unix";
    default:
      return "";
  }
}

std::string Addr::to_string() const {
  char ip[INET6_ADDRSTRLEN + IF_NAMESIZE + 2];
  switch (family()) {
    case AF_INET: {
      auto* sin = reinterpret_cast<const sockaddr_in*>(&storage_);
      ::inet_ntop(AF_INET, &sin->sin_addr, ip, sizeof ip);
      return std::string(ip) + ':' + std::to_string(port());
    }
    case AF_INET6: {
      auto* sin6 = reinterpret_cast<const sockaddr_in6*>(&storage_);
      if (IN6_IS_ADDR_V4MAPPED(&sin6->sin6_addr)) {  // Go prints ::ffff:a.b.c.d as a.b.c.d
        ::inet_ntop(AF_INET, &sin6->sin6_addr.s6_addr[12], ip, sizeof ip);
        return std::string(ip) + ':' + std::to_string(port());
      }
      ::inet_ntop(AF_INET6, &sin6->sin6_addr, ip, sizeof ip);
      std::string host(ip);
      if (sin6->sin6_scope_id != 0) {
        char name[IF_NAMESIZE];
        host += '%';
        host += ::if_indextoname(sin6->sin6_scope_id, name) != nullptr
                    ? std::string(name)
                    : std::to_string(sin6->sin6_scope_id);
      }
      return '[' + host + "]:" + std::to_string(port());
    }
    case AF_UNIX: {
      auto* sun = reinterpret_cast<const sockaddr_un*>(&storage_);
      std::size_t n =
          len_ > offsetof(sockaddr_un, sun_path) ? len_ - offsetof(sockaddr_un, sun_path) : 0;
      if (n == 0) return "";  // unnamed (a connected client)
      if (sun->sun_path[0] == '\0') return '@' + std::string(sun->sun_path + 1, n - 1);
      return std::string(sun->sun_path, ::strnlen(sun->sun_path, n));
    }
    default:
      return "";
  }
}

bool operator==(const Addr& a, const Addr& b) noexcept {
  return a.len_ == b.len_ && std::memcmp(&a.storage_, &b.storage_, a.len_) == 0;
}

// Go's SplitHostPort, with its error cases.
Result<std::pair<std::string_view, std::string_view>> split_host_port(std::string_view hp) {
  const Error bad = errc::bad_address;
  std::size_t i = hp.rfind(':');
  if (i == std::string_view::npos) return {{}, bad};  // missing port
  std::string_view host;
  std::size_t j = 0, k = 0;
  if (!hp.empty() && hp[0] == '[') {
    std::size_t end = hp.find(']');
    if (end == std::string_view::npos) return {{}, bad};  // missing ']'
    if (end + 1 != i) return {{}, bad};                   // missing port or too many colons
    host = hp.substr(1, end - 1);
    j = 1;
    k = end + 1;
  } else {
    host = hp.substr(0, i);
    if (host.find(':') != std::string_view::npos) return {{}, bad};  // too many colons
  }
  if (hp.find('[', j) != std::string_view::npos) return {{}, bad};
  if (hp.find(']', k) != std::string_view::npos) return {{}, bad};
  return {{host, hp.substr(i + 1)}, {}};
}

std::string join_host_port(std::string_view host, std::string_view port) {
  std::string s;
  if (host.find(':') != std::string_view::npos) {
    s.append("[").append(host).append("]");
  } else {
    s.append(host);
  }
  return s.append(":").append(port);
}

namespace detail {

Result<Network> parse_network(std::string_view network) {
  if (network == "tcp") return {Network::tcp, {}};
  if (network == "tcp4") return {Network::tcp4, {}};
  if (network == "tcp6") return {Network::tcp6, {}};
  if (network == "unix") return {Network::unix_stream, {}};
  return {Network::tcp, errc::unknown_network};
}

Result<std::uint16_t> parse_port(std::string_view port) {
  if (port.empty()) return {0, {}};
  unsigned value = 0;
  auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
  if (ec == std::errc{} && end == port.data() + port.size()) {
    if (value > 65535) return {0, errc::bad_address};
    return {static_cast<std::uint16_t>(value), {}};
  }
  if (port.size() > 64 || (port[0] >= '0' && port[0] <= '9') || port[0] == '-' || port[0] == '+') {
    return {0, errc::bad_address};
  }
  // A service name, from /etc/services (through NSS, which may block).
  std::string name(port);
  auto lookup = [&]() -> int {
    servent se;
    servent* result = nullptr;
    char buf[1024];
    if (::getservbyname_r(name.c_str(), "tcp", &se, buf, sizeof buf, &result) != 0 ||
        result == nullptr) {
      return -1;
    }
    return ntohs(static_cast<std::uint16_t>(result->s_port));
  };
  int p = gofer::in_goroutine() ? gofer::blocking(lookup) : lookup();
  if (p < 0) return {0, errc::bad_address};
  return {static_cast<std::uint16_t>(p), {}};
}

bool parse_ip(std::string_view host, std::uint16_t port, Addr* out, Error* err) {
  *err = {};
  char buf[INET6_ADDRSTRLEN + IF_NAMESIZE + 2];
  if (host.empty() || host.size() >= sizeof buf) return false;
  std::memcpy(buf, host.data(), host.size());
  buf[host.size()] = '\0';

  sockaddr_in sin{};
  if (::inet_pton(AF_INET, buf, &sin.sin_addr) == 1) {
    sin.sin_family = AF_INET;
    sin.sin_port = htons(port);
    *out = Addr(reinterpret_cast<sockaddr*>(&sin), sizeof sin);
    return true;
  }
  sockaddr_in6 sin6{};
  char* zone = std::strchr(buf, '%');
  if (zone != nullptr) *zone++ = '\0';
  if (::inet_pton(AF_INET6, buf, &sin6.sin6_addr) != 1) return false;
  sin6.sin6_family = AF_INET6;
  sin6.sin6_port = htons(port);
  if (zone != nullptr) {
    unsigned index = 0;
    auto [end, ec] = std::from_chars(zone, zone + std::strlen(zone), index);
    if (ec != std::errc{} || *end != '\0') index = ::if_nametoindex(zone);
    if (index == 0) {
      *err = errc::bad_address;  // an unknown interface
      return true;
    }
    sin6.sin6_scope_id = index;
  }
  *out = Addr(reinterpret_cast<sockaddr*>(&sin6), sizeof sin6);
  return true;
}

namespace {
// An IPv6 or IPv4 address (by family) with the port.
Addr ip_with_port(int family, std::uint16_t port, const in6_addr& v6, in_addr_t v4) {
  if (family == AF_INET6) {
    sockaddr_in6 sin6{};
    sin6.sin6_family = AF_INET6;
    sin6.sin6_addr = v6;
    sin6.sin6_port = htons(port);
    return Addr(reinterpret_cast<sockaddr*>(&sin6), sizeof sin6);
  }
  sockaddr_in sin{};
  sin.sin_family = AF_INET;
  sin.sin_addr.s_addr = htonl(v4);
  sin.sin_port = htons(port);
  return Addr(reinterpret_cast<sockaddr*>(&sin), sizeof sin);
}
}  // namespace

Addr any_addr(int family, std::uint16_t port) {
  return ip_with_port(family, port, in6addr_any, INADDR_ANY);
}

Addr loopback_addr(int family, std::uint16_t port) {
  return ip_with_port(family, port, in6addr_loopback, INADDR_LOOPBACK);
}

bool is_unspecified(const Addr& a) noexcept {
  if (a.family() == AF_INET) {
    return reinterpret_cast<const sockaddr_in*>(a.data())->sin_addr.s_addr == htonl(INADDR_ANY);
  }
  if (a.family() == AF_INET6) {
    return IN6_IS_ADDR_UNSPECIFIED(&reinterpret_cast<const sockaddr_in6*>(a.data())->sin6_addr);
  }
  return false;
}

Result<Addr> unix_addr(std::string_view path) {
  sockaddr_un sun{};
  sun.sun_family = AF_UNIX;
  // A path must fit with its NUL; an abstract name ('@' → '\0') need not.
  if (path.empty() || path.size() > sizeof sun.sun_path - (path[0] == '@' ? 0 : 1)) {
    return {{}, errc::bad_address};
  }
  std::memcpy(sun.sun_path, path.data(), path.size());
  socklen_t len = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + path.size());
  if (path[0] == '@') {
    sun.sun_path[0] = '\0';
  } else {
    ++len;  // the NUL, as Go counts it
  }
  return {Addr(reinterpret_cast<sockaddr*>(&sun), len), {}};
}

}  // namespace detail
}  // namespace gofer::net
