// Parsing and printing URLs (RFC 3986 §3, §4), the way Go's net/url does.
//
// Parsing splits the reference from left to right, each part with its own
// rules, and stops at the first error:
//   1. no ASCII control character anywhere (they are how request-line and
//      header injection start);
//   2. "#fragment" off the end (parse only; a request-target has none);
//   3. "scheme:" when the text before the first ':' is a scheme
//      (ALPHA *( ALPHA / DIGIT / "+" / "-" / "." )), lower-cased;
//   4. "?query" at the first '?' (kept encoded);
//   5. what remains without a leading '/' after a scheme is opaque
//      ("mailto:a@b"); without a scheme it is a relative path, whose first
//      segment must not hold a ':' (it would read as a scheme, §4.2);
//   6. "//authority" up to the next '/': userinfo before the last '@', then
//      host[:port] — a port of digits only, an IP literal in brackets with
//      an optional "%25zone" (RFC 6874), %-escapes in a host only for
//      non-ASCII bytes;
//   7. the path, decoded; raw_path keeps the original when its encoding is
//      not the default one.
//
// Printing reverses it (to_string), choosing for each decoded part the
// encoding it was read in when that is still valid, so parse(to_string(u))
// gives u back.
#include <algorithm>
#include <string>

#include "gofer/url.h"
#include "url/escape.h"

namespace gofer::url {
namespace {

using detail::Encoding;

bool is_alpha(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

bool has_control_byte(std::string_view s) {
  return std::any_of(s.begin(), s.end(),
                     [](char c) { return static_cast<unsigned char>(c) < 0x20 || c == 0x7f; });
}

Error fail(errc code, std::string detail = {}) {
  return {{}, {}, code, std::move(detail)};
}

// "" or ':' followed by digits only.
bool valid_optional_port(std::string_view colon_port) {
  if (colon_port.empty()) return true;
  if (colon_port[0] != ':') return false;
  return std::all_of(colon_port.begin() + 1, colon_port.end(),
                     [](char c) { return c >= '0' && c <= '9'; });
}

// Splits "scheme:rest". No scheme (an invalid character first, or none at
// all) leaves everything in rest; a ':' first is an error.
Error split_scheme(std::string_view raw, std::string_view& scheme, std::string_view& rest) {
  scheme = {};
  rest = raw;
  for (std::size_t i = 0; i < raw.size(); ++i) {
    const char c = raw[i];
    if (is_alpha(c)) continue;
    if ((c >= '0' && c <= '9') || c == '+' || c == '-' || c == '.') {
      if (i == 0) return {};
      continue;
    }
    if (c == ':') {
      if (i == 0) return fail(errc::missing_scheme);
      scheme = raw.substr(0, i);
      rest = raw.substr(i + 1);
    }
    return {};
  }
  return {};
}

// userinfo = *( unreserved / pct-encoded / sub-delims / ":" ) (§3.2.1),
// escapes checked when decoded. '@' is allowed too: the authority is split
// at its last '@', so earlier ones belong to the userinfo.
bool valid_userinfo(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](char c) {
    return is_alpha(c) || (c >= '0' && c <= '9') ||
           std::string_view("-._:~!$&'()*+,;=%@").find(c) != std::string_view::npos;
  });
}

// host[:port] of an authority, decoded.
Result<std::string> parse_host(std::string_view host) {
  if (!host.empty() && host[0] == '[') {
    const std::size_t close = host.rfind(']');
    if (close == std::string_view::npos) return {{}, fail(errc::missing_bracket)};
    const std::string_view colon_port = host.substr(close + 1);
    if (!valid_optional_port(colon_port)) {
      return {{}, fail(errc::invalid_port, std::string(colon_port))};
    }
    // "%25" starts a zone (RFC 6874), which may %-encode what a host may not.
    const std::size_t zone = host.substr(0, close).find("%25");
    if (zone != std::string_view::npos) {
      auto address = detail::unescape(host.substr(0, zone), Encoding::host);
      if (address.err) return address;
      auto zone_id = detail::unescape(host.substr(zone, close - zone), Encoding::zone);
      if (zone_id.err) return zone_id;
      auto tail = detail::unescape(host.substr(close), Encoding::host);
      if (tail.err) return tail;
      return {address.value + zone_id.value + tail.value, {}};
    }
  } else if (const std::size_t colon = host.rfind(':'); colon != std::string_view::npos) {
    const std::string_view colon_port = host.substr(colon);
    if (!valid_optional_port(colon_port)) {
      return {{}, fail(errc::invalid_port, std::string(colon_port))};
    }
  }
  return detail::unescape(host, Encoding::host);
}

Error parse_authority(std::string_view authority, URL& u) {
  const std::size_t at = authority.rfind('@');
  auto host = parse_host(at == std::string_view::npos ? authority : authority.substr(at + 1));
  if (host.err) return host.err;
  u.host = std::move(host.value);
  if (at == std::string_view::npos) return {};

  const std::string_view userinfo = authority.substr(0, at);
  if (!valid_userinfo(userinfo)) return fail(errc::invalid_userinfo);
  const std::size_t colon = userinfo.find(':');
  auto username = detail::unescape(userinfo.substr(0, colon), Encoding::user_password);
  if (username.err) return username.err;
  Userinfo user{std::move(username.value), std::nullopt};
  if (colon != std::string_view::npos) {
    auto password = detail::unescape(userinfo.substr(colon + 1), Encoding::user_password);
    if (password.err) return password.err;
    user.password = std::move(password.value);
  }
  u.user = std::move(user);
  return {};
}

// Everything but the fragment. via_request: a request-target, which must be
// absolute or an absolute path.
Error parse_reference(std::string_view raw, bool via_request, URL& u) {
  if (has_control_byte(raw)) return fail(errc::control_character);
  if (raw.empty() && via_request) return fail(errc::empty_url);
  if (raw == "*") {
    u.path.assign(1, '*');  // not = "*": g++ 12 warns wrongly (-Wrestrict, GCC PR 105651)
    return {};
  }

  std::string_view scheme, rest;
  if (Error e = split_scheme(raw, scheme, rest)) return e;
  u.scheme = std::string(scheme);
  std::transform(u.scheme.begin(), u.scheme.end(), u.scheme.begin(),
                 [](char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c | 0x20) : c; });

  // A lone trailing '?' is remembered, so that "http://h/?" prints back so.
  if (!rest.empty() && rest.back() == '?' && rest.find('?') == rest.size() - 1) {
    u.force_query = true;
    rest.remove_suffix(1);
  } else if (const std::size_t q = rest.find('?'); q != std::string_view::npos) {
    u.raw_query = std::string(rest.substr(q + 1));
    rest = rest.substr(0, q);
  }

  const bool rooted = !rest.empty() && rest[0] == '/';
  if (!rooted) {
    if (!scheme.empty()) {
      u.opaque = std::string(rest);  // a rootless path after a scheme (§3.3) is opaque
      return {};
    }
    if (via_request) return fail(errc::invalid_request_uri);
    // §4.2: "a:b" would be read as a scheme; "./a:b" is the relative form.
    if (rest.substr(0, rest.find('/')).find(':') != std::string_view::npos) {
      return fail(errc::colon_in_first_segment);
    }
  }

  // A request-target without a scheme is a path, even "//x" (Go: "///x" is
  // a path for parse too).
  const bool authority = rest.substr(0, 2) == "//" &&
                         (!scheme.empty() || (!via_request && rest.substr(0, 3) != "///"));
  if (authority) {
    std::string_view auth = rest.substr(2);
    const std::size_t slash = auth.find('/');
    rest = slash == std::string_view::npos ? std::string_view{} : auth.substr(slash);
    if (Error e = parse_authority(auth.substr(0, slash), u)) return e;
  } else if (!scheme.empty() && rooted) {
    u.omit_host = true;  // "scheme:/path" has no authority at all
  }
  return detail::set_encoded(rest, Encoding::path, u.path, u.raw_path);
}

Result<URL> with_op(std::string_view input, Error e) {
  e.op = "parse";
  e.url = std::string(input);
  return {{}, std::move(e)};
}

// Whether `raw` is a valid encoding of `decoded`, to be printed instead of
// the default encoding.
bool raw_stands_for(const std::string& decoded, const std::string& raw, Encoding mode) {
  if (raw.empty() || !detail::valid_encoded(raw, mode)) return false;
  auto d = detail::unescape(raw, mode);
  return !d.err && d.value == decoded;
}

// host[:port] split as RFC 3986 has it: the port is numeric or absent.
std::pair<std::string_view, std::string_view> split_host_port(std::string_view host) {
  std::string_view port;
  const std::size_t colon = host.rfind(':');
  if (colon != std::string_view::npos && valid_optional_port(host.substr(colon))) {
    port = host.substr(colon + 1);
    host = host.substr(0, colon);
  }
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  return {host, port};
}

}  // namespace

Result<URL> parse(std::string_view raw) {
  const std::size_t hash = raw.find('#');
  const std::string_view reference = raw.substr(0, hash);
  URL u;
  if (Error e = parse_reference(reference, false, u)) return with_op(reference, std::move(e));
  if (hash != std::string_view::npos) {
    if (Error e = detail::set_encoded(raw.substr(hash + 1), Encoding::fragment, u.fragment,
                                      u.raw_fragment)) {
      return with_op(raw, std::move(e));
    }
  }
  return {std::move(u), {}};
}

Result<URL> parse_request_uri(std::string_view raw) {
  URL u;
  if (Error e = parse_reference(raw, true, u)) return with_op(raw, std::move(e));
  return {std::move(u), {}};
}

std::string Userinfo::to_string() const {
  std::string s = detail::escape(username, Encoding::user_password);
  if (password) {
    s.push_back(':');
    s += detail::escape(*password, Encoding::user_password);
  }
  return s;
}

std::string URL::escaped_path() const {
  if (raw_stands_for(path, raw_path, Encoding::path)) return raw_path;
  if (path == "*") return "*";  // OPTIONS *, whose '*' is not a path character
  return detail::escape(path, Encoding::path);
}

std::string URL::escaped_fragment() const {
  if (raw_stands_for(fragment, raw_fragment, Encoding::fragment)) return raw_fragment;
  return detail::escape(fragment, Encoding::fragment);
}

std::string URL::to_string() const {
  std::string out;
  if (!scheme.empty()) {
    out += scheme;
    out.push_back(':');
  }
  if (!opaque.empty()) {
    out += opaque;
  } else {
    bool authority = false;
    if ((!scheme.empty() || !host.empty() || user) && !(omit_host && host.empty() && !user)) {
      authority = !host.empty() || !path.empty() || user;
      if (authority) out += "//";
      if (user) {
        out += user->to_string();
        out.push_back('@');
      }
      out += detail::escape(host, Encoding::host);
    }
    const std::string p = escaped_path();
    if (!p.empty() && p[0] != '/' && !host.empty()) out.push_back('/');
    // §3.3: without an authority a path cannot start with "//", which would
    // read back as one ("//evil.example/x", a request-target, is a path, but
    // printed as is it names a host). "/." before it keeps it a path, as the
    // WHATWG URL serializer does; the dot segment goes away when the URL is
    // resolved. Unlike Go, which prints "//evil.example/x".
    if (!authority && p.substr(0, 2) == "//") out += "/.";
    // §4.2: a relative path whose first segment has a ':' needs "./" before
    // it, or it would read as a scheme.
    if (out.empty() && p.substr(0, p.find('/')).find(':') != std::string::npos) out += "./";
    out += p;
  }
  if (force_query || !raw_query.empty()) {
    out.push_back('?');
    out += raw_query;
  }
  if (!fragment.empty()) {
    out.push_back('#');
    out += escaped_fragment();
  }
  return out;
}

std::string URL::redacted() const {
  if (!user || !user->password) return to_string();
  URL copy = *this;
  copy.user->password = "xxxxx";
  return copy.to_string();
}

std::string_view URL::hostname() const {
  return split_host_port(host).first;
}

std::string_view URL::port() const {
  return split_host_port(host).second;
}

Values URL::query() const {
  return parse_query(raw_query).value;
}

std::string URL::request_uri() const {
  std::string out = opaque;
  if (out.empty()) {
    out = escaped_path();
    if (out.empty()) out.assign(1, '/');  // see parse_reference
  } else if (out.substr(0, 2) == "//") {
    out.insert(0, 1, ':');
    out.insert(0, scheme);
  }
  if (force_query || !raw_query.empty()) {
    out.push_back('?');
    out += raw_query;
  }
  return out;
}

Result<URL> URL::parse_reference(std::string_view ref) const {
  auto r = parse(ref);
  if (r.err) return r;
  return {resolve_reference(r.value), {}};
}

}  // namespace gofer::url
