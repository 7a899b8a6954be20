// Character classes and the field-line grammar (RFC 9110 §5), shared by the
// request and response head parsers and the chunked decoder's trailer
// section; the uri-host [":" port] rule, shared by the request-target and
// Host checks; and the framing fields both directions read
// (fold_framing_field).
#pragma once

#include <array>
#include <charconv>
#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>

#include "gofer/http/parser.h"

namespace gofer::http::syntax {

// Bits of kCharClass; one 256-entry table answers every "may this byte
// appear here?" question with a load and a test.
enum : uint8_t {
  kTchar = 1 << 0,       // token: method, header name, extension name
  kFieldValue = 1 << 1,  // field-vchar, SP, HTAB (obs-text included)
  kTarget = 1 << 2,      // request-target: visible bytes and obs-text
  kQdtext = 1 << 3,      // inside a quoted-string, unescaped
  kHex = 1 << 4,         // HEXDIG, case-insensitive
};

constexpr std::array<uint8_t, 256> make_char_class() {
  std::array<uint8_t, 256> t{};
  for (int c = 0; c < 256; ++c) {
    uint8_t bits = 0;
    bool alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
    bool digit = c >= '0' && c <= '9';
    if (alpha || digit ||
        std::string_view("!#$%&'*+-.^_`|~").find(static_cast<char>(c)) != std::string_view::npos) {
      bits |= kTchar;
    }
    // Unlike some servers, bytes >= 0x80 are allowed in values and targets
    // (obs-text, raw UTF-8 from sloppy clients) but never CTLs or DEL.
    if (c == '\t' || (c >= 0x20 && c != 0x7f)) bits |= kFieldValue;
    if (c > 0x20 && c != 0x7f) bits |= kTarget;
    if (c == '\t' || c == ' ' || c == 0x21 || (c >= 0x23 && c <= 0x5b) ||
        (c >= 0x5d && c <= 0x7e) || c >= 0x80) {
      bits |= kQdtext;
    }
    if (digit || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')) bits |= kHex;
    t[static_cast<size_t>(c)] = bits;
  }
  return t;
}

inline constexpr std::array<uint8_t, 256> kCharClass = make_char_class();

inline bool is(char c, uint8_t cls) {
  return kCharClass[static_cast<unsigned char>(c)] & cls;
}
inline bool is_ows(char c) {
  return c == ' ' || c == '\t';
}

// A field value (or a list element) without the OWS around it.
inline std::string_view trim_ows(std::string_view s) {
  while (!s.empty() && is_ows(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_ows(s.back())) s.remove_suffix(1);
  return s;
}

// 1*DIGIT as a number in [0, 2^63-1]: Content-Length, byte ranges. No
// sign, no whitespace, nothing after the digits.
inline std::optional<std::int64_t> parse_decimal(std::string_view s) {
  if (s.empty() || s.front() < '0' || s.front() > '9') return std::nullopt;
  std::int64_t v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size()) return std::nullopt;
  return v;
}

inline void append_decimal(std::string& out, std::uint64_t v) {
  char buf[24];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
  out.append(buf, end);
}

// uri-host [":" port] (RFC 9112 §3.2, RFC 3986 §3.2.2-3.2.3): an
// IP-literal in brackets, or a reg-name / IPv4 address of unreserved,
// sub-delims and percent-encoded characters; then an optional port of
// digits only. So "a:b", "a:1:2" and an unbracketed "::1" are invalid.
inline bool valid_host(std::string_view host) {
  auto allowed = [](std::string_view s, std::string_view extra) {
    for (char c : s) {
      bool alnum = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
      if (!alnum && std::string_view("-._~!$&'()*+,;=%").find(c) == std::string_view::npos &&
          extra.find(c) == std::string_view::npos) {
        return false;
      }
    }
    return true;
  };
  std::string_view port;
  if (!host.empty() && host[0] == '[') {
    size_t close = host.find(']');
    if (close == std::string_view::npos || !allowed(host.substr(1, close - 1), ":")) return false;
    std::string_view rest = host.substr(close + 1);
    if (!rest.empty() && rest[0] != ':') return false;
    if (!rest.empty()) port = rest.substr(1);
  } else {
    size_t colon = host.find(':');
    if (!allowed(host.substr(0, colon), {})) return false;
    if (colon != std::string_view::npos) port = host.substr(colon + 1);
  }
  for (char c : port) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

// Parses one field line, `line` being its content without the line
// terminator (and not empty: the empty line ends a section).
//   field-line = field-name ":" OWS field-value OWS
// Leniencies that other parsers allow and that let two parties read the
// same bytes differently are errors: obs-fold (RFC 9112 §5.2), whitespace
// before the colon (§5.1), CTLs and bare CR in the value (RFC 9110 §5.5).
inline ParseError parse_field_line(std::string_view line, Header& out) {
  const char* p = line.data();
  const char* end = p + line.size();
  if (is_ows(*p)) return {400, "obsolete line folding in header section"};
  const char* q = p;
  while (q != end && is(*q, kTchar)) ++q;
  if (q == end) return {400, "header line without a colon"};
  if (*q != ':') {
    if (is_ows(*q)) return {400, "whitespace between header name and colon"};
    return {400, "invalid character in header name"};
  }
  if (q == p) return {400, "empty header name"};
  out.name = std::string_view(p, static_cast<size_t>(q - p));

  const char* v = q + 1;
  while (v != end && is_ows(*v)) ++v;
  const char* w = v;
  // Values (cookies, user agents) are the longest part of a head: check
  // eight bytes at a time for a CTL (< 0x20) or DEL, and let the table
  // settle the rare word that has one (HTAB is the only allowed CTL).
  constexpr uint64_t kOnes = 0x0101010101010101;
  constexpr uint64_t kHighs = 0x8080808080808080;
  while (end - w >= 8) {
    uint64_t x;
    std::memcpy(&x, w, 8);
    uint64_t below_space = (x - kOnes * 0x20) & ~x & kHighs;
    uint64_t y = x ^ (kOnes * 0x7f);
    uint64_t del = (y - kOnes) & ~y & kHighs;
    if ((below_space | del) != 0) break;
    w += 8;
  }
  while (w != end && is(*w, kFieldValue)) ++w;
  if (w != end) return {400, "invalid character in header value"};
  while (w != v && is_ows(w[-1])) --w;
  out.value = std::string_view(v, static_cast<size_t>(w - v));
  return {};
}

// The fields that delimit a message and decide whether its connection stays
// open, as found in a head's field lines: Connection, Content-Length and
// Transfer-Encoding (RFC 9112 §6, §9.3).
struct FramingFields {
  bool has_length = false;       // a Content-Length was seen, and all agree
  uint64_t length = 0;           // its value (at most 2^63-1)
  size_t te_fields = 0;          // Transfer-Encoding field lines
  size_t te_codings = 0;         // codings in all of them (empty elements count)
  bool te_last_chunked = false;  // the last coding is exactly "chunked"
  bool close = false;            // Connection has "close"
  bool keep_alive = false;       // Connection has "keep-alive"
};

// Folds `field` into `fields` if it is one of the three; other fields are
// ignored. Content-Length must be 1*DIGIT, at most 2^63-1; repeated values,
// in one field as a list or in several fields, only when all are equal
// (RFC 9110 §8.6). Errors carry status 400 (a response parser maps them).
ParseError fold_framing_field(const Header& field, FramingFields& fields);

}  // namespace gofer::http::syntax
