// A JSON string literal for text that may come from the network (a request
// target in a trace event, cut at 24 bytes): quotes, backslashes and control
// bytes are escaped, well-formed UTF-8 is kept, and any other byte (a
// truncated or invalid sequence) becomes U+FFFD — so the output is valid
// JSON whatever the input.
#pragma once

#include <string>
#include <string_view>

namespace gofer::debug::detail {

// The length of the well-formed UTF-8 sequence at s[i], or 0.
inline std::size_t utf8_sequence(std::string_view s, std::size_t i) {
  auto u = static_cast<unsigned char>(s[i]);
  std::size_t n = u >= 0xf0 && u <= 0xf4 ? 4 : u >= 0xe0 ? 3 : u >= 0xc2 && u <= 0xdf ? 2 : 0;
  if (n == 0 || i + n > s.size()) return 0;
  for (std::size_t k = 1; k < n; ++k) {
    if ((static_cast<unsigned char>(s[i + k]) & 0xc0) != 0x80) return 0;
  }
  auto b1 = static_cast<unsigned char>(s[i + 1]);
  if ((u == 0xe0 && b1 < 0xa0) || (u == 0xed && b1 >= 0xa0) || (u == 0xf0 && b1 < 0x90) ||
      (u == 0xf4 && b1 >= 0x90)) {
    return 0;  // overlong, surrogate, or beyond U+10FFFF
  }
  return n;
}

inline void append_json_string(std::string& out, std::string_view s) {
  static constexpr char kHex[] = "0123456789abcdef";
  out += '"';
  for (std::size_t i = 0; i < s.size();) {
    auto u = static_cast<unsigned char>(s[i]);
    if (u == '"' || u == '\\') {
      out += '\\';
      out += s[i++];
    } else if (u < 0x20 || u == 0x7f) {
      out += "\\u00";
      out += kHex[u >> 4];
      out += kHex[u & 0xf];
      ++i;
    } else if (u < 0x80) {
      out += s[i++];
    } else if (std::size_t n = utf8_sequence(s, i)) {
      out.append(s, i, n);
      i += n;
    } else {
      out += "\\ufffd";
      ++i;
    }
  }
  out += '"';
}

}  // namespace gofer::debug::detail
