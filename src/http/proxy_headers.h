// What the reverse proxy (reverse_proxy.cpp, proxy_tunnel.cpp) needs to
// know about fields and upgrades. Private to the http layer.
#pragma once

#include <string>
#include <string_view>

#include "gofer/http/client.h"
#include "gofer/http/server.h"

namespace gofer::http::detail {

// Calls f for each non-empty element of a comma-separated list, without
// its surrounding whitespace (RFC 9110 §5.6.1).
template <class F>
void for_each_token(std::string_view list, F&& f) {
  while (!list.empty()) {
    std::size_t comma = list.find(',');
    std::string_view t = list.substr(0, comma);
    while (!t.empty() && (t.front() == ' ' || t.front() == '\t')) t.remove_prefix(1);
    while (!t.empty() && (t.back() == ' ' || t.back() == '\t')) t.remove_suffix(1);
    if (!t.empty()) f(t);
    if (comma == std::string_view::npos) break;
    list.remove_prefix(comma + 1);
  }
}

// A hop-by-hop field by name (RFC 9110 §7.6.1, and Go's list: Connection,
// Proxy-Connection, Keep-Alive, Proxy-Authenticate, Proxy-Authorization,
// TE, Trailer, Transfer-Encoding, Upgrade).
bool is_hop_header(std::string_view name);
// Removes the hop-by-hop fields, and first those that Connection names.
void remove_hop_headers(HeaderMap& h);

// The protocol an upgrade asks for or agrees to: Upgrade's value when
// Connection has the "upgrade" token, else "".
std::string upgrade_type(const Request& r);
std::string upgrade_type(const HeaderMap& h);

// Joins the client's connection to the upstream's after a 101 (`resp`):
// the client's is hijacked, gets the 101 head, and bytes are copied both
// ways until both sides have closed. An error before anything was sent to
// the client (an upgrade other than the one asked for, a writer that
// cannot be hijacked) is the caller's to answer; errc::hijacked says the
// client's connection was taken but the 101 could not be sent to it.
[[nodiscard]] ClientError tunnel(ResponseWriter& w, std::string_view requested, Response& resp);

}  // namespace gofer::http::detail
