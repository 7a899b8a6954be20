// Go's mime package, the part servers use: reading a media type with its
// parameters (Content-Type, Content-Disposition), RFC 2045 §5.1 with the
// parameter continuations and charsets of RFC 2231.
//
// ```cpp
// auto [mt, err] = gofer::mime::parse_media_type("multipart/form-data; boundary=\"xyz\"");
// // mt.type == "multipart/form-data", mt.param("boundary") == "xyz"
// auto [cd, cerr] = gofer::mime::parse_media_type("form-data; name=\"f\";
// filename*=UTF-8''%e2%82%ac.txt");
// // cd.type == "form-data", cd.param("filename") == "€.txt"
// ```
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <system_error>

#include "gofer/error.h"

namespace gofer::mime {

enum class errc {
  no_media_type = 1,           // "mime: no media type"
  expected_slash,              // "mime: expected slash after first token"
  expected_token_after_slash,  // "mime: expected token after slash"
  unexpected_after_subtype,    // "mime: unexpected content after media subtype"
  invalid_media_parameter,     // Go's mime.ErrInvalidMediaParameter
  duplicate_parameter,         // "mime: duplicate parameter name"
};
const std::error_category& mime_category() noexcept;
inline std::error_code make_error_code(errc e) noexcept {
  return {static_cast<int>(e), mime_category()};
}

struct MediaType {
  std::string type;  // lower case: "text/html", or a disposition: "form-data"
  // Parameter names lower case; values decoded (quotes, RFC 2231).
  std::map<std::string, std::string, std::less<>> params;

  // The value of a parameter, "" when absent.
  std::string_view param(std::string_view name) const {
    auto it = params.find(name);
    return it == params.end() ? std::string_view{} : std::string_view(it->second);
  }
};

// Go's mime.ParseMediaType: `type/subtype` or a disposition token, then
// `; name=value` parameters (token or quoted-string; `name*=charset''%xx`
// and `name*0`, `name*1*` continuations, for the charsets us-ascii and
// utf-8). As in Go, a malformed parameter section fails with
// invalid_media_parameter but still returns the type; trailing ';' is fine.
Result<MediaType> parse_media_type(std::string_view v);

}  // namespace gofer::mime

template <>
struct std::is_error_code_enum<gofer::mime::errc> : std::true_type {};
