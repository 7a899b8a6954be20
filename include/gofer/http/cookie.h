// HTTP cookies (RFC 6265) as Go's net/http reads and writes them: the
// Cookie header a client sends, the Set-Cookie header a server sends.
//
//   for (const Cookie& c : parse_cookies(r.header("Cookie"))) use(c);
//   w.header().add("Set-Cookie",
//                  format_set_cookie({.name = "session", .value = id, .path = "/",
//                                     .max_age = 3600, .secure = true, .http_only = true,
//                                     .same_site = SameSite::lax}));
//
// Pure functions: no I/O, no shared state. Lenient where Go is lenient (a
// pair that is not a valid cookie is skipped, not an error, as browsers
// send what they have) and strict where it matters: a name must be a
// token, a value only cookie-octets (RFC 6265 §4.1.1), and format never
// writes a byte that could end the header or start another attribute.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace gofer::http {

// The SameSite attribute (RFC 6265bis §4.1.2.7).
enum class SameSite : std::uint8_t {
  unset,         // no attribute written (Go's zero value)
  default_mode,  // read from an unknown value; written as no attribute (Go's SameSiteDefaultMode)
  lax,
  strict,
  none,
};

struct Cookie {
  // Every member has an initializer, so that designated initializers may
  // name only some: Cookie{.name = "id", .value = v, .http_only = true}.
  std::string name{};
  std::string value{};

  std::string path{};    // optional
  std::string domain{};  // optional
  // Expires, to the second (sys_seconds reaches back before 1601, which
  // Go's rule needs); written only for years from 1601 on (Go).
  std::optional<std::chrono::sys_seconds> expires{};
  std::string raw_expires{};  // read from Set-Cookie only: the attribute as sent

  // Go's MaxAge: 0 means no Max-Age attribute; < 0 means delete now
  // ("Max-Age=0"); > 0 is the lifetime in seconds.
  int max_age = 0;
  bool secure = false;
  bool http_only = false;
  SameSite same_site = SameSite::unset;
  // Read from Set-Cookie only: attributes not understood, as sent.
  std::vector<std::string> unparsed{};

  friend bool operator==(const Cookie&, const Cookie&) = default;
};

// The cookies of one Cookie header value ("a=1; b=2"), in order (Go's
// readCookies). Pairs with an invalid name or value are skipped; a value in
// double quotes loses them. Call once per Cookie field line.
std::vector<Cookie> parse_cookies(std::string_view cookie_header);

// The cookie of one Set-Cookie value with its attributes (Go's
// readSetCookies), or nothing when its name or value is invalid. Expires is
// read in RFC 1123 form ("Mon, 02 Jan 2006 15:04:05 GMT") or with dashes
// ("Mon, 02-Jan-2006 15:04:05 GMT"), any zone name read as UTC as Go does
// for a zone it does not know; an Expires it cannot read is kept in
// raw_expires only.
std::optional<Cookie> parse_set_cookie(std::string_view set_cookie);

// The Set-Cookie value for `c` (Go's Cookie.String): "" when the name is
// not a token; bytes not allowed in a value or path are dropped; a value
// with a space or comma is quoted; an invalid domain is left out; a
// leading '.' of the domain is dropped.
std::string format_set_cookie(const Cookie& c);

// Why `c` cannot be sent as it is (Go's Cookie.Valid), or "" when it can:
// "invalid Cookie.Name", "invalid byte in Cookie.Value", …
std::string cookie_error(const Cookie& c);

}  // namespace gofer::http
