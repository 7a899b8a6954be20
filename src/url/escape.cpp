// Percent-encoding per component, and Go's quoting for error messages.
#include "url/escape.h"

#include <string>

namespace gofer::url::detail {
namespace {

constexpr char kUpperHex[] = "0123456789ABCDEF";

bool is_hex(char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

unsigned hex_value(char c) {
  if (c >= '0' && c <= '9') return static_cast<unsigned>(c - '0');
  return static_cast<unsigned>((c | 0x20) - 'a' + 10);
}

bool is_alnum(unsigned char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

bool one_of(unsigned char c, std::string_view set) {
  return c != 0 && set.find(static_cast<char>(c)) != std::string_view::npos;
}

constexpr std::string_view kSubDelims = "!$&'()*+,;=";  // RFC 3986 §2.2
// RFC 2396's reserved characters, which Go treats as reserved in every
// component (they are what each component may keep unescaped).
constexpr std::string_view kReserved2396 = "$&+,/:;=?@";

}  // namespace

bool should_escape(unsigned char c, Encoding mode) {
  if (is_alnum(c) || one_of(c, "-_.~")) return false;  // unreserved (§2.3)
  if (mode == Encoding::host || mode == Encoding::zone) {
    // sub-delims may form a reg-name (§3.2.2); ':' and '[' ']' belong to
    // host:port and IP literals. '<', '>' and '"' are left too: parse
    // refuses them in a host anyway (a host cannot %-encode ASCII), so
    // escaping them would only produce a string that does not parse.
    if (one_of(c, kSubDelims) || one_of(c, ":[]<>\"")) return false;
  }
  if (one_of(c, kReserved2396)) {
    switch (mode) {
      case Encoding::path:
        // A whole path keeps ';' ',' '/' (the segment structure is the
        // caller's business); only '?' would end it.
        return c == '?';
      case Encoding::path_segment:
        return one_of(c, "/;,?");
      case Encoding::user_password:
        // ':' separates user from password, so it is escaped too.
        return one_of(c, "@/?:");
      case Encoding::query_component:
        return true;
      case Encoding::fragment:
        return false;
      case Encoding::host:
      case Encoding::zone:
        return true;  // the reserved ones a host may hold were allowed above
    }
  }
  // Sub-delims that RFC 2396 did not reserve stay in a fragment, but not
  // '\'', which callers long saw escaped (as Go does).
  if (mode == Encoding::fragment && one_of(c, "!()*")) return false;
  return true;
}

std::string escape(std::string_view s, Encoding mode) {
  std::string out;
  out.reserve(s.size());
  for (char ch : s) {
    auto c = static_cast<unsigned char>(ch);
    if (c == ' ' && mode == Encoding::query_component) {
      out.push_back('+');
    } else if (should_escape(c, mode)) {
      out.push_back('%');
      out.push_back(kUpperHex[c >> 4]);
      out.push_back(kUpperHex[c & 15]);
    } else {
      out.push_back(ch);
    }
  }
  return out;
}

Result<std::string> unescape(std::string_view s, Encoding mode) {
  const bool host_like = mode == Encoding::host || mode == Encoding::zone;
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) {
    const char ch = s[i];
    if (ch == '%') {
      if (i + 2 >= s.size() || !is_hex(s[i + 1]) || !is_hex(s[i + 2])) {
        return {{}, {{}, {}, errc::invalid_escape, std::string(s.substr(i, 3))}};
      }
      const unsigned v = hex_value(s[i + 1]) << 4 | hex_value(s[i + 2]);
      const std::string_view escape3 = s.substr(i, 3);
      // In a host only non-ASCII bytes may be %-encoded (§3.2.2), except
      // "%25", which RFC 6874 uses to introduce an IPv6 zone.
      if (mode == Encoding::host && v < 0x80 && escape3 != "%25") {
        return {{}, {{}, {}, errc::invalid_escape, std::string(escape3)}};
      }
      // A zone may encode anything, but only bytes it could also hold
      // unencoded (and ' ', which Windows puts in zone names): no smuggled
      // newlines or slashes. Unlike Go, that includes non-ASCII bytes,
      // which a zone may hold raw and which to_string() writes encoded:
      // Go refuses its own output there ("[fe80::1%25en%C3]").
      if (mode == Encoding::zone && escape3 != "%25" && v != ' ' && v < 0x80 &&
          should_escape(static_cast<unsigned char>(v), Encoding::host)) {
        return {{}, {{}, {}, errc::invalid_escape, std::string(escape3)}};
      }
      out.push_back(static_cast<char>(v));
      i += 2;
    } else if (ch == '+') {
      out.push_back(mode == Encoding::query_component ? ' ' : '+');
    } else {
      const auto c = static_cast<unsigned char>(ch);
      if (host_like && c < 0x80 && should_escape(c, mode)) {
        return {{}, {{}, {}, errc::invalid_host, std::string(1, ch)}};
      }
      out.push_back(ch);
    }
  }
  return {std::move(out), {}};
}

Error set_encoded(std::string_view encoded, Encoding mode, std::string& decoded, std::string& raw) {
  auto value = unescape(encoded, mode);
  if (value.err) return value.err;
  decoded = std::move(value.value);
  if (escape(decoded, mode) == encoded) {
    raw.clear();
  } else {
    raw = std::string(encoded);
  }
  return {};
}

bool valid_encoded(std::string_view s, Encoding mode) {
  for (char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    // pchar's sub-delims, ':' and '@' (RFC 3986 Appendix A); '[' and ']',
    // which browsers leave alone; '%', checked when decoded.
    if (one_of(c, kSubDelims) || one_of(c, ":@[]%")) continue;
    if (should_escape(c, mode)) return false;
  }
  return true;
}

namespace {

// The length of the UTF-8 sequence at s[i] and its code point, or 0 when
// the bytes there are not valid UTF-8 (overlong, surrogate, truncated).
std::size_t utf8_sequence(std::string_view s, std::size_t i, char32_t& cp) {
  const auto b0 = static_cast<unsigned char>(s[i]);
  std::size_t len = 0;
  char32_t min = 0;
  if (b0 >= 0xc2 && b0 <= 0xdf) {
    len = 2, cp = b0 & 0x1f, min = 0x80;
  } else if (b0 >= 0xe0 && b0 <= 0xef) {
    len = 3, cp = b0 & 0x0f, min = 0x800;
  } else if (b0 >= 0xf0 && b0 <= 0xf4) {
    len = 4, cp = b0 & 0x07, min = 0x10000;
  } else {
    return 0;
  }
  if (i + len > s.size()) return 0;
  for (std::size_t k = 1; k < len; ++k) {
    const auto b = static_cast<unsigned char>(s[i + k]);
    if ((b & 0xc0) != 0x80) return 0;
    cp = cp << 6 | (b & 0x3f);
  }
  if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return 0;
  return len;
}

void append_hex_escape(std::string& out, char prefix, std::uint32_t v, int digits) {
  out.push_back('\\');
  out.push_back(prefix);
  for (int shift = 4 * (digits - 1); shift >= 0; shift -= 4) {
    out.push_back("0123456789abcdef"[(v >> shift) & 15]);
  }
}

}  // namespace

std::string quote(std::string_view s) {
  std::string out = "\"";
  for (std::size_t i = 0; i < s.size();) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) {
      switch (c) {
        case '"':
          out += "\\\"";
          break;
        case '\\':
          out += "\\\\";
          break;
        case '\a':
          out += "\\a";
          break;
        case '\b':
          out += "\\b";
          break;
        case '\f':
          out += "\\f";
          break;
        case '\n':
          out += "\\n";
          break;
        case '\r':
          out += "\\r";
          break;
        case '\t':
          out += "\\t";
          break;
        case '\v':
          out += "\\v";
          break;
        default:
          if (c < 0x20 || c == 0x7f) {
            append_hex_escape(out, 'x', c, 2);
          } else {
            out.push_back(static_cast<char>(c));
          }
      }
      ++i;
      continue;
    }
    char32_t cp = 0;
    const std::size_t len = utf8_sequence(s, i, cp);
    if (len == 0) {
      append_hex_escape(out, 'x', c, 2);
      ++i;
    } else if (cp < 0xa0 || cp == 0xad) {
      // C1 controls and the soft hyphen are not printable (Go's IsPrint).
      // Unlike Go, the other unprintable code points (unassigned, format
      // characters) are written as they are.
      append_hex_escape(out, 'u', static_cast<std::uint32_t>(cp), 4);
      i += len;
    } else {
      out.append(s.substr(i, len));
      i += len;
    }
  }
  out.push_back('"');
  return out;
}

}  // namespace gofer::url::detail
