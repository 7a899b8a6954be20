// HTTP dates (RFC 9110 §5.6.7).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace gofer::http::detail {

// "Sun, 06 Nov 1994 08:49:37 GMT" (IMF-fixdate), whatever the locale.
std::string format_http_time(std::int64_t unix_seconds);

// Unix seconds from the three formats RFC 9110 requires recipients to
// accept: IMF-fixdate, RFC 850 and asctime (Go's http.ParseTime); nullopt
// for anything else.
std::optional<std::int64_t> parse_http_time(std::string_view text);

}  // namespace gofer::http::detail
