// Hop-by-hop fields and upgrades, for the reverse proxy (proxy_headers.h).
#include "http/proxy_headers.h"

#include <array>
#include <vector>

namespace gofer::http::detail {

namespace {

constexpr std::array<std::string_view, 9> kHopHeaders = {
    "Connection",
    "Proxy-Connection",
    "Keep-Alive",
    "Proxy-Authenticate",
    "Proxy-Authorization",
    "TE",
    "Trailer",  // RFC 7230 errata 4522: "Trailer", not "Trailers"
    "Transfer-Encoding",
    "Upgrade",
};

}  // namespace

bool is_hop_header(std::string_view name) {
  for (std::string_view h : kHopHeaders) {
    if (equal_fold(h, name)) return true;
  }
  return false;
}

void remove_hop_headers(HeaderMap& h) {
  std::vector<std::string> named;
  h.for_each([&](std::string_view name, std::string_view value) {
    if (!equal_fold(name, "Connection")) return;
    for_each_token(value, [&](std::string_view t) { named.emplace_back(t); });
  });
  for (const std::string& n : named) h.del(n);
  for (std::string_view n : kHopHeaders) h.del(n);
}

std::string upgrade_type(const HeaderMap& h) {
  bool upgrade = false;
  h.for_each([&](std::string_view name, std::string_view value) {
    upgrade = upgrade || (equal_fold(name, "Connection") && token_list_contains(value, "upgrade"));
  });
  return upgrade ? std::string(h.get("Upgrade")) : std::string();
}

std::string upgrade_type(const Request& r) {
  for (std::string_view v : r.header_values("Connection")) {
    if (token_list_contains(v, "upgrade")) return std::string(r.header("Upgrade"));
  }
  return {};
}

}  // namespace gofer::http::detail
