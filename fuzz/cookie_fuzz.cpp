// libFuzzer target for the cookie functions, fed arbitrary bytes as a
// Cookie header value and as a Set-Cookie value.
//
// Besides the sanitizers' memory checks, it checks the promises a server
// and a client rely on:
//   - every cookie read has a token name and a value of cookie-octets;
//   - format_set_cookie never writes a byte that could end the header
//     (CR, LF, NUL) or hide an attribute in a value;
//   - what format_set_cookie writes, parse_set_cookie reads back with the
//     same name, value, path, flags and Max-Age.
#include <cstdint>
#include <string>
#include <string_view>

#include "fuzz_check.h"
#include "gofer/http/cookie.h"

namespace {

using namespace gofer::http;

bool token(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    const bool alnum = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
    if (!alnum && std::string_view("!#$%&'*+-.^_`|~").find(c) == std::string_view::npos)
      return false;
  }
  return true;
}

bool cookie_octets(std::string_view s) {
  for (char c : s) {
    if (c < 0x20 || c >= 0x7f || c == '"' || c == ';' || c == '\\') return false;
  }
  return true;
}

void check_written(const Cookie& c) {
  const std::string s = format_set_cookie(c);
  CHECK(s.find_first_of(std::string_view("\r\n\0", 3)) == std::string::npos);
  auto back = parse_set_cookie(s);
  CHECK(back.has_value());
  CHECK(back->name == c.name && back->value == c.value && back->path == c.path);
  CHECK(back->secure == c.secure && back->http_only == c.http_only);
  CHECK(back->max_age == c.max_age);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  for (const Cookie& c : parse_cookies(input)) {
    CHECK(token(c.name) && cookie_octets(c.value));
  }
  if (auto c = parse_set_cookie(input)) {
    CHECK(token(c->name) && cookie_octets(c->value));
    check_written(*c);
  }
  return 0;
}
