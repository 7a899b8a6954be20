// Cookie and Set-Cookie (RFC 6265), with Go's net/http rules for what is
// skipped, dropped or quoted.
#include "gofer/http/cookie.h"

#include <algorithm>
#include <array>
#include <charconv>
#include <string>

#include "http/http_date.h"
#include "syntax.h"

namespace gofer::http {
namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && syntax::is_ows(s.front())) s.remove_prefix(1);
  while (!s.empty() && syntax::is_ows(s.back())) s.remove_suffix(1);
  return s;
}

// Splits at the first `sep`: {before, after}; after is empty without one.
std::pair<std::string_view, std::string_view> cut(std::string_view s, char sep) {
  const size_t i = s.find(sep);
  if (i == std::string_view::npos) return {s, {}};
  return {s.substr(0, i), s.substr(i + 1)};
}

bool valid_name(std::string_view name) {
  return !name.empty() && std::all_of(name.begin(), name.end(),
                                      [](char c) { return syntax::is(c, syntax::kTchar); });
}

// cookie-octet (RFC 6265 §4.1.1) loosened as Go and browsers do: any
// visible ASCII or space, but not '"', ';' or '\'.
bool value_byte(char c) {
  return c >= 0x20 && c < 0x7f && c != '"' && c != ';' && c != '\\';
}

bool path_byte(char c) {
  return c >= 0x20 && c < 0x7f && c != ';';
}

// A value, without the double quotes it may be wrapped in; nothing when a
// byte is not allowed.
std::optional<std::string_view> parse_value(std::string_view raw, bool allow_quotes) {
  if (allow_quotes && raw.size() > 1 && raw.front() == '"' && raw.back() == '"') {
    raw = raw.substr(1, raw.size() - 2);
  }
  if (!std::all_of(raw.begin(), raw.end(), value_byte)) return std::nullopt;
  return raw;
}

std::string lower_ascii(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c | 0x20);
  }
  return out;
}

bool is_ascii(std::string_view s) {
  return std::all_of(s.begin(), s.end(),
                     [](char c) { return static_cast<unsigned char>(c) < 0x80; });
}

// RFC 1034 §3.5 host names as Go's isCookieDomainName has them: labels of
// letters, digits and inner '-', at most 63 bytes each, 255 in all, at least
// one letter somewhere, an optional leading '.'.
bool is_domain_name(std::string_view s) {
  if (s.empty() || s.size() > 255) return false;
  if (s[0] == '.') s.remove_prefix(1);
  char last = '.';
  bool letter = false;
  size_t label = 0;
  for (char c : s) {
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')) {
      letter = true;
      ++label;
    } else if (c >= '0' && c <= '9') {
      ++label;
    } else if (c == '-') {
      if (last == '.') return false;
      ++label;
    } else if (c == '.') {
      if (last == '.' || last == '-' || label == 0 || label > 63) return false;
      label = 0;
    } else {
      return false;
    }
    last = c;
  }
  return last != '-' && label <= 63 && letter;
}

// A dotted-quad IPv4 address (a Domain may be one; never IPv6).
bool is_ipv4(std::string_view s) {
  for (int part = 0; part < 4; ++part) {
    if (part > 0) {
      if (s.empty() || s[0] != '.') return false;
      s.remove_prefix(1);
    }
    unsigned v = 0;
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    const size_t digits = static_cast<size_t>(p - s.data());
    if (ec != std::errc() || digits == 0 || digits > 3 || v > 255 || (digits > 1 && s[0] == '0')) {
      return false;
    }
    s.remove_prefix(digits);
  }
  return s.empty();
}

bool valid_domain(std::string_view d) {
  return is_domain_name(d) || is_ipv4(d);
}

bool valid_expires(std::chrono::sys_seconds t) {
  using namespace std::chrono;
  return year_month_day(floor<days>(t)).year() >= year(1601);
}

// "Mon, 02 Jan 2006 15:04:05 GMT" or "Mon, 02-Jan-2006 15:04:05 GMT": the
// two forms Go's readSetCookies reads. The zone is read as UTC.
std::optional<std::chrono::sys_seconds> parse_expires(std::string_view s) {
  using namespace std::chrono;
  static constexpr std::array<std::string_view, 7> kDays = {"Mon", "Tue", "Wed", "Thu",
                                                            "Fri", "Sat", "Sun"};
  static constexpr std::array<std::string_view, 12> kMonths = {
      "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  // "Mon, 02 Jan 2006 15:04:05 " is 26 bytes, then a zone of letters.
  if (s.size() < 27 || s.substr(3, 2) != ", ") return std::nullopt;
  if (std::find(kDays.begin(), kDays.end(), s.substr(0, 3)) == kDays.end()) return std::nullopt;
  const char sep = s[7];
  if ((sep != ' ' && sep != '-') || s[11] != sep || s[16] != ' ' || s[19] != ':' || s[22] != ':' ||
      s[25] != ' ') {
    return std::nullopt;
  }
  auto number = [&](size_t at, size_t n, int& out) {
    auto [p, ec] = std::from_chars(s.data() + at, s.data() + at + n, out);
    return ec == std::errc() && p == s.data() + at + n;
  };
  int d = 0, y = 0, hh = 0, mm = 0, ss = 0;
  if (!number(5, 2, d) || !number(12, 4, y) || !number(17, 2, hh) || !number(20, 2, mm) ||
      !number(23, 2, ss)) {
    return std::nullopt;
  }
  auto mon = std::find(kMonths.begin(), kMonths.end(), s.substr(8, 3));
  if (mon == kMonths.end()) return std::nullopt;
  const std::string_view zone = s.substr(26);
  if (!std::all_of(zone.begin(), zone.end(), [](char c) { return (c >= 'A' && c <= 'Z'); })) {
    return std::nullopt;
  }
  const year_month_day ymd{year(y), month(static_cast<unsigned>(mon - kMonths.begin()) + 1),
                           day(static_cast<unsigned>(d))};
  if (!ymd.ok() || hh > 23 || mm > 59 || ss > 59) return std::nullopt;
  return sys_days(ymd) + hours(hh) + minutes(mm) + seconds(ss);
}

// The bytes of `v` that `valid` allows (Go drops the others, and logs).
template <class Valid>
std::string keep_valid(std::string_view v, Valid valid) {
  std::string out;
  std::copy_if(v.begin(), v.end(), std::back_inserter(out), valid);
  return out;
}

// Sets the Set-Cookie attribute `attr` (lower case) to `val`; false for an
// attribute not known or a value not understood, which the caller keeps as
// unparsed.
bool apply_attribute(const std::string& attr, std::string_view val, Cookie& c) {
  if (attr == "samesite") {
    const std::string v = is_ascii(val) ? lower_ascii(val) : std::string();
    c.same_site = v == "lax"      ? SameSite::lax
                  : v == "strict" ? SameSite::strict
                  : v == "none"   ? SameSite::none
                                  : SameSite::default_mode;
  } else if (attr == "secure") {
    c.secure = true;
  } else if (attr == "httponly") {
    c.http_only = true;
  } else if (attr == "domain") {
    c.domain = val;
  } else if (attr == "path") {
    c.path = val;
  } else if (attr == "max-age") {
    // An integer (Go's Atoi: a sign allowed) without a leading zero unless it
    // is "0"; <= 0 means delete now.
    const bool plus = !val.empty() && val[0] == '+';
    int secs = 0;
    auto [p, ec] = std::from_chars(val.data() + plus, val.data() + val.size(), secs);
    if (val.size() == plus || ec != std::errc() || p != val.data() + val.size() ||
        (secs != 0 && val[0] == '0')) {
      return false;
    }
    c.max_age = secs <= 0 ? -1 : secs;
  } else if (attr == "expires") {
    c.raw_expires = val;
    c.expires = parse_expires(val);
    return c.expires.has_value();
  } else {
    return false;
  }
  return true;
}

}  // namespace

std::vector<Cookie> parse_cookies(std::string_view header) {
  std::vector<Cookie> cookies;
  std::string_view rest = trim(header);
  while (!rest.empty()) {
    auto [part, tail] = cut(rest, ';');
    rest = tail;
    part = trim(part);
    if (part.empty()) continue;
    auto [name, raw_value] = cut(part, '=');
    if (!valid_name(name)) continue;
    auto value = parse_value(raw_value, true);
    if (!value) continue;
    Cookie c;
    c.name = name;
    c.value = *value;
    cookies.push_back(std::move(c));
  }
  return cookies;
}

std::optional<Cookie> parse_set_cookie(std::string_view line) {
  line = trim(line);
  auto [first, attributes] = cut(line, ';');
  first = trim(first);
  if (first.find('=') == std::string_view::npos) return std::nullopt;
  auto [name, raw_value] = cut(first, '=');
  if (!valid_name(name)) return std::nullopt;
  auto value = parse_value(raw_value, true);
  if (!value) return std::nullopt;
  Cookie c;
  c.name = name;
  c.value = *value;

  bool more = line.find(';') != std::string_view::npos;
  std::string_view rest = attributes;
  while (more) {
    const size_t semi = rest.find(';');
    const std::string_view part = trim(rest.substr(0, semi));
    more = semi != std::string_view::npos;
    rest = more ? rest.substr(semi + 1) : std::string_view{};
    if (part.empty()) continue;
    auto [attr, raw_val] = cut(part, '=');
    if (!is_ascii(attr)) continue;  // Go skips it, without keeping it as unparsed
    auto val = parse_value(raw_val, false);
    if (!val || !apply_attribute(lower_ascii(attr), *val, c)) c.unparsed.emplace_back(part);
  }
  return c;
}

std::string format_set_cookie(const Cookie& c) {
  if (!valid_name(c.name)) return {};
  std::string out = c.name;
  out.push_back('=');
  std::string value = keep_valid(c.value, value_byte);
  if (value.find_first_of(" ,") != std::string::npos) {
    out.push_back('"');
    out += value;
    out.push_back('"');
  } else {
    out += value;
  }
  if (!c.path.empty()) {
    out += "; Path=";
    out += keep_valid(c.path, path_byte);
  }
  if (!c.domain.empty() && valid_domain(c.domain)) {
    out += "; Domain=";
    out += c.domain[0] == '.' ? std::string_view(c.domain).substr(1) : std::string_view(c.domain);
  }
  if (c.expires && valid_expires(*c.expires)) {
    out += "; Expires=";
    out += detail::format_http_time(c.expires->time_since_epoch().count());
  }
  if (c.max_age > 0) {
    out += "; Max-Age=";
    out += std::to_string(c.max_age);
  } else if (c.max_age < 0) {
    out += "; Max-Age=0";
  }
  if (c.http_only) out += "; HttpOnly";
  if (c.secure) out += "; Secure";
  switch (c.same_site) {
    case SameSite::lax:
      out += "; SameSite=Lax";
      break;
    case SameSite::strict:
      out += "; SameSite=Strict";
      break;
    case SameSite::none:
      out += "; SameSite=None";
      break;
    case SameSite::unset:
    case SameSite::default_mode:
      break;
  }
  return out;
}

std::string cookie_error(const Cookie& c) {
  if (!valid_name(c.name)) return "invalid Cookie.Name";
  if (c.expires && !valid_expires(*c.expires)) return "invalid Cookie.Expires";
  if (!std::all_of(c.value.begin(), c.value.end(), value_byte))
    return "invalid byte in Cookie.Value";
  if (!std::all_of(c.path.begin(), c.path.end(), path_byte)) return "invalid byte in Cookie.Path";
  if (!c.domain.empty() && !valid_domain(c.domain)) return "invalid Cookie.Domain";
  return {};
}

}  // namespace gofer::http
