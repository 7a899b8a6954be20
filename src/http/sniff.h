// Content-Type sniffing for responses without one: a subset of the WHATWG
// MIME sniffing algorithm that Go's http.DetectContentType implements.
#pragma once

#include <string_view>

namespace gofer::http::detail {

// Looks at up to the first 512 bytes.
std::string_view detect_content_type(std::string_view data);

}  // namespace gofer::http::detail
