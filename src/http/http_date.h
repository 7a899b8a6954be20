// HTTP dates (RFC 9110 §5.6.7).
#pragma once

#include <cstdint>
#include <string>

namespace gofer::http::detail {

// "Sun, 06 Nov 1994 08:49:37 GMT" (IMF-fixdate), whatever the locale.
std::string format_http_time(std::int64_t unix_seconds);

}  // namespace gofer::http::detail
