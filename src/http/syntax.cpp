// Field-value helpers the server shares with the parsers, and the framing
// fields both the request and the response framing read.
#include "syntax.h"

#include <cstdint>

#include "gofer/http/parser.h"

namespace gofer::http {

// #element lists (RFC 9110 §5.6.1): elements separated by commas, with
// optional whitespace around them; a recipient skips empty elements.
bool token_list_contains(std::string_view list, std::string_view token) {
  size_t i = 0;
  while (i < list.size()) {
    size_t comma = list.find(',', i);
    if (comma == std::string_view::npos) comma = list.size();
    size_t b = i;
    size_t e = comma;
    while (b < e && syntax::is_ows(list[b])) ++b;
    while (e > b && syntax::is_ows(list[e - 1])) --e;
    if (equal_fold(list.substr(b, e - b), token)) return true;
    i = comma + 1;
  }
  return false;
}

}  // namespace gofer::http

namespace gofer::http::syntax {
namespace {

constexpr uint64_t kMaxContentLength = INT64_MAX;

// Folds one Transfer-Encoding field value into the list of codings so far
// (RFC 9110 §5.3: several field lines are one comma-separated list):
// counts them and remembers whether the last one is exactly "chunked".
// An empty element counts as a coding that is not chunked, so that
// "chunked," is refused rather than read as chunked by us and as something
// else by a front end.
void add_transfer_codings(std::string_view value, size_t& codings, bool& last_chunked) {
  size_t i = 0;
  for (;;) {
    size_t comma = value.find(',', i);
    std::string_view element =
        value.substr(i, comma == std::string_view::npos ? value.npos : comma - i);
    while (!element.empty() && syntax::is_ows(element.front())) element.remove_prefix(1);
    while (!element.empty() && syntax::is_ows(element.back())) element.remove_suffix(1);
    ++codings;
    last_chunked = equal_fold(element, "chunked");
    if (comma == std::string_view::npos) return;
    i = comma + 1;
  }
}

// Folds one Content-Length field value into `length`/`seen`.
ParseError add_content_length(std::string_view value, uint64_t& length, bool& seen) {
  // The value is already trimmed; a list may still hold inner whitespace.
  size_t i = 0;
  for (;;) {
    while (i < value.size() && syntax::is_ows(value[i])) ++i;
    size_t start = i;
    uint64_t n = 0;
    while (i < value.size() && value[i] >= '0' && value[i] <= '9') {
      uint64_t d = static_cast<uint64_t>(value[i] - '0');
      if (n > (kMaxContentLength - d) / 10) return {400, "Content-Length too large"};
      n = n * 10 + d;
      ++i;
    }
    if (i == start) return {400, "invalid Content-Length"};
    while (i < value.size() && syntax::is_ows(value[i])) ++i;
    if (seen && n != length) return {400, "conflicting Content-Length values"};
    length = n;
    seen = true;
    if (i == value.size()) return {};
    if (value[i] != ',') return {400, "invalid Content-Length"};
    ++i;
  }
}

}  // namespace

ParseError fold_framing_field(const Header& h, FramingFields& fields) {
  switch (h.name.size()) {  // most fields are none of the three
    case 10:
      if (equal_fold(h.name, "Connection")) {
        fields.close = fields.close || token_list_contains(h.value, "close");
        fields.keep_alive = fields.keep_alive || token_list_contains(h.value, "keep-alive");
      }
      break;
    case 14:
      if (equal_fold(h.name, "Content-Length")) {
        return add_content_length(h.value, fields.length, fields.has_length);
      }
      break;
    case 17:
      if (equal_fold(h.name, "Transfer-Encoding")) {
        ++fields.te_fields;
        add_transfer_codings(h.value, fields.te_codings, fields.te_last_chunked);
      }
      break;
    default:
      break;
  }
  return {};
}

}  // namespace gofer::http::syntax
