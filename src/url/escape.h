// Percent-encoding (RFC 3986 §2.1) per URL component, as Go's net/url
// escapes and unescapes: which bytes each component leaves alone differs, so
// every function takes the component it works for.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "gofer/url.h"

namespace gofer::url::detail {

// The component being escaped or unescaped.
enum class Encoding : std::uint8_t {
  path,             // a whole path: '/' and ';' and ',' stay
  path_segment,     // one segment: '/', ';', ',' and '?' are escaped
  host,             // reg-name, IP literal and port: only non-ASCII may be %-encoded
  zone,             // an IPv6 zone identifier after "%25" (RFC 6874)
  user_password,    // userinfo: '@', '/', '?', ':' are escaped
  query_component,  // every reserved character is escaped, ' ' is '+'
  fragment,         // reserved characters and "!()*" stay
};

// Whether `c` must be %XX-encoded in component `mode` (Go's shouldEscape,
// including its departures from RFC 3986 that browsers rely on).
bool should_escape(unsigned char c, Encoding mode);

std::string escape(std::string_view s, Encoding mode);

// Decodes %XX (and '+' in a query component). The error's code is
// invalid_escape (detail: the bad escape, e.g. "%zz") or, for host and zone,
// invalid_host (detail: the character).
Result<std::string> unescape(std::string_view s, Encoding mode);

// Sets a decoded part (path, fragment) and its raw hint from its encoded
// form; the hint stays empty when escaping the decoded part gives the same
// text back (Go's setPath). On error neither is changed.
Error set_encoded(std::string_view encoded, Encoding mode, std::string& decoded, std::string& raw);

// Whether `s` holds only bytes that may appear unescaped in `mode` (plus the
// sub-delims, ':', '@', '[', ']' and '%'): a raw_path or raw_fragment that
// can stand for its decoded form.
bool valid_encoded(std::string_view s, Encoding mode);

// Go's strconv.Quote, for error messages: "..." with \" \\ \n \t \xNN escapes
// for control bytes, DEL and bytes that are not valid UTF-8.
std::string quote(std::string_view s);

}  // namespace gofer::url::detail
