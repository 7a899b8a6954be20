// mime::parse_media_type: RFC 2045 §5.1 media types and RFC 2183
// dispositions with their parameters, RFC 2231 continuations and charsets
// — the rules of Go's mime/mediatype.go, written for gofer.
#include <charconv>
#include <vector>

#include "gofer/mime.h"

namespace gofer::mime {
namespace {

class MimeCategory final : public std::error_category {
 public:
  const char* name() const noexcept override { return "gofer.mime"; }
  std::string message(int ev) const override {
    switch (static_cast<errc>(ev)) {
      case errc::no_media_type:
        return "mime: no media type";
      case errc::expected_slash:
        return "mime: expected slash after first token";
      case errc::expected_token_after_slash:
        return "mime: expected token after slash";
      case errc::unexpected_after_subtype:
        return "mime: unexpected content after media subtype";
      case errc::invalid_media_parameter:
        return "mime: invalid media parameter";
      case errc::duplicate_parameter:
        return "mime: duplicate parameter name";
    }
    return "mime error " + std::to_string(ev);
  }
};

// RFC 2045 §5.1 tspecials.
bool is_tspecial(char c) {
  return std::string_view("()<>@,;:\\\"/[]?=").find(c) != std::string_view::npos;
}
bool is_token_char(char c) {
  return c > 0x20 && c < 0x7f && !is_tspecial(c);
}
bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' || c == '\f';
}

std::string_view trim_left(std::string_view s) {
  while (!s.empty() && is_space(s.front())) s.remove_prefix(1);
  return s;
}
std::string_view trim(std::string_view s) {
  s = trim_left(s);
  while (!s.empty() && is_space(s.back())) s.remove_suffix(1);
  return s;
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

// The leading token of v, and what follows it.
std::pair<std::string_view, std::string_view> consume_token(std::string_view v) {
  std::size_t n = 0;
  while (n < v.size() && is_token_char(v[n])) ++n;
  return {v.substr(0, n), v.substr(n)};
}

// A token or a quoted-string. Inside quotes, a backslash escapes only a
// tspecial (browsers send Windows paths unescaped, as Go allows); a CR or
// LF, or no closing quote, is no value. `ok` false: no value was read.
struct Value {
  std::string text;
  std::string_view rest;
  bool ok;
};
Value consume_value(std::string_view v) {
  if (v.empty()) return {{}, v, false};
  if (v[0] != '"') {
    auto [tok, rest] = consume_token(v);
    return {std::string(tok), rest, !tok.empty()};
  }
  std::string out;
  for (std::size_t i = 1; i < v.size(); ++i) {
    char c = v[i];
    if (c == '"') return {std::move(out), v.substr(i + 1), true};
    if (c == '\\' && i + 1 < v.size() && is_tspecial(v[i + 1])) {
      out.push_back(v[++i]);
      continue;
    }
    if (c == '\r' || c == '\n') return {{}, v, false};
    out.push_back(c);
  }
  return {{}, v, false};
}

// Go's checkMediaTypeDisposition: "type/subtype", or a lone token.
Error check_type(std::string_view s) {
  auto [type, rest] = consume_token(s);
  if (type.empty()) return errc::no_media_type;
  if (rest.empty()) return {};
  if (rest[0] != '/') return errc::expected_slash;
  auto [subtype, after] = consume_token(rest.substr(1));
  if (subtype.empty()) return errc::expected_token_after_slash;
  if (!after.empty()) return errc::unexpected_after_subtype;
  return {};
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// %XX decoded; false for a malformed escape.
bool percent_unescape(std::string_view s, std::string& out) {
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '%') {
      out.push_back(s[i]);
      continue;
    }
    if (i + 2 >= s.size()) return false;
    int hi = hex_value(s[i + 1]), lo = hex_value(s[i + 2]);
    if (hi < 0 || lo < 0) return false;
    out.push_back(static_cast<char>(hi * 16 + lo));
    i += 2;
  }
  return true;
}

// RFC 2231 §4: charset'language'%XX-encoded; us-ascii and utf-8 only (Go).
bool decode_2231(std::string_view v, std::string& out) {
  std::size_t q1 = v.find('\'');
  if (q1 == std::string_view::npos) return false;
  std::size_t q2 = v.find('\'', q1 + 1);
  if (q2 == std::string_view::npos) return false;
  std::string charset = lower(v.substr(0, q1));
  if (charset != "us-ascii" && charset != "utf-8") return false;
  return percent_unescape(v.substr(q2 + 1), out);
}

}  // namespace

const std::error_category& mime_category() noexcept {
  static const MimeCategory category;
  return category;
}

Result<MediaType> parse_media_type(std::string_view v) {
  std::size_t semi = v.find(';');
  std::string_view base = v.substr(0, semi);
  MediaType out;
  out.type = lower(trim(base));
  if (Error err = check_type(out.type)) return {{}, err};

  // name → value for plain parameters; base name → (name → value) for
  // RFC 2231 ones ("title*", "title*0", "title*1*").
  std::map<std::string, std::map<std::string, std::string, std::less<>>, std::less<>> continued;
  std::string_view rest = semi == std::string_view::npos ? std::string_view{} : v.substr(semi);
  for (;;) {
    rest = trim_left(rest);
    if (rest.empty()) break;
    // "; name = value"
    std::string_view p = rest.substr(1);
    bool ok = rest[0] == ';';
    std::string name;
    Value value{{}, {}, false};
    if (ok) {
      auto [tok, after] = consume_token(trim_left(p));
      name = lower(tok);
      after = trim_left(after);
      ok = !name.empty() && !after.empty() && after[0] == '=';
      if (ok) {
        value = consume_value(trim_left(after.substr(1)));
        ok = value.ok;
      }
    }
    if (!ok) {
      if (trim(rest) == ";") break;  // a trailing ';' is tolerated
      return {std::move(out), errc::invalid_media_parameter};
    }
    auto* target = &out.params;
    if (std::size_t star = name.find('*'); star != std::string::npos) {
      target = &continued[name.substr(0, star)];
    }
    if (auto it = target->find(name); it != target->end() && it->second != value.text) {
      return {{}, errc::duplicate_parameter};
    }
    (*target)[name] = std::move(value.text);
    rest = value.rest;
  }

  for (auto& [key, pieces] : continued) {
    if (auto it = pieces.find(key + "*"); it != pieces.end()) {
      std::string decoded;
      if (decode_2231(it->second, decoded)) out.params[key] = std::move(decoded);
      continue;
    }
    std::string joined;
    bool valid = false;
    for (int n = 0;; ++n) {
      std::string simple = key + "*" + std::to_string(n);
      if (auto s = pieces.find(simple); s != pieces.end()) {
        valid = true;
        joined += s->second;
        continue;
      }
      auto e = pieces.find(simple + "*");
      if (e == pieces.end()) break;
      valid = true;
      std::string decoded;
      if (n == 0) {
        if (decode_2231(e->second, decoded)) joined += decoded;
      } else if (percent_unescape(e->second, decoded)) {
        joined += decoded;
      }
    }
    if (valid) out.params[key] = std::move(joined);
  }
  return {std::move(out), {}};
}

}  // namespace gofer::mime
