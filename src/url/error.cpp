// Error texts, worded as Go's net/url words them so that a message reads
// the same to someone who knows Go (and a differential test can compare).
#include <string>

#include "gofer/url.h"
#include "url/escape.h"

namespace gofer::url {

namespace {

// text1 + quote(piece) + text2, appended piecewise (g++ 12 warns, wrongly,
// about operator+ chains on temporaries: -Wrestrict, GCC PR 105329).
std::string around(std::string_view before, std::string_view piece, std::string_view after) {
  std::string s(before);
  s += detail::quote(piece);
  s += after;
  return s;
}

}  // namespace

std::string Error::reason() const {
  switch (code) {
    case errc::none:
      return {};
    case errc::invalid_escape:
      return around("invalid URL escape ", this->detail, "");
    case errc::invalid_host:
      return around("invalid character ", this->detail, " in host name");
    case errc::invalid_port:
      return around("invalid port ", this->detail, " after host");
    case errc::missing_bracket:
      return "missing ']' in host";
    case errc::missing_scheme:
      return "missing protocol scheme";
    case errc::control_character:
      return "net/url: invalid control character in URL";
    case errc::invalid_userinfo:
      return "net/url: invalid userinfo";
    case errc::empty_url:
      return "empty url";
    case errc::invalid_request_uri:
      return "invalid URI for request";
    case errc::colon_in_first_segment:
      return "first path segment in URL cannot contain colon";
    case errc::semicolon_in_query:
      return "invalid semicolon separator in query";
  }
  return "unknown error";
}

std::string Error::message() const {
  if (op.empty()) return reason();
  std::string s = around(op + " ", url, ": ");
  s += reason();
  return s;
}

}  // namespace gofer::url
