// Message framing of a parsed request (RFC 9112 §6, §9.3; RFC 9110 §7.2,
// §8.6, §10.1.1): how long the body is, whether the connection stays open,
// and whether the client waits for "100 Continue".
//
// The body length is where request smuggling lives: a proxy in front and
// this server must agree on where one request ends and the next begins. So
// every header combination two implementations could read differently is
// refused rather than resolved:
//   - Content-Length with Transfer-Encoding: RFC 9112 §6.3 lets a server
//     reject it, and Go's choice to drop Content-Length is exactly what a
//     smuggler counts on a front end not doing. 400.
//   - Transfer-Encoding other than one field whose value is "chunked":
//     like Go (and nginx), no gzip or stacked codings, no "chunked, chunked",
//     no second TE line. When chunked is not the final coding ("gzip",
//     "identity", "chunked, gzip", "chunked,") §6.3 rule 4 requires 400;
//     other codings before a final chunked get 501 (§6.1), as Go answers.
//   - Transfer-Encoding in HTTP/1.0: §6.1 says to treat the framing as
//     faulty. 400 (unlike Go, which ignores the field).
//   - Content-Length must be 1*DIGIT; repeated values, in one field as a
//     list or in several fields, are accepted only when all are equal
//     (RFC 9110 §8.6 allows that). Anything else, or a value over 2^63-1,
//     is 400.
//   - Host: exactly one in HTTP/1.1, at most one in HTTP/1.0, with only the
//     characters of uri-host [":" port] (RFC 9112 §3.2). 400.
//   - Expect: only "100-continue" is known; anything else is 417, as in Go.
//     In HTTP/1.0 the expectation is ignored (RFC 9110 §10.1.1 MUST).
#include <cstdint>

#include "gofer/http/parser.h"
#include "syntax.h"

namespace gofer::http {
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
    std::string_view element = value.substr(i, comma == std::string_view::npos ? value.npos : comma - i);
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

FramingResult analyze_request(const RequestHead& head) {
  FramingResult result;
  Framing& f = result.framing;
  auto fail = [&result](ParseError e) {
    result.error = e;
    return result;
  };
  const bool http11 = head.version_major == 1 && head.version_minor >= 1;

  bool has_length = false;
  uint64_t length = 0;
  size_t te_fields = 0;
  size_t te_codings = 0;
  bool te_last_chunked = false;
  size_t hosts = 0;
  bool close = false;
  bool keep_alive = false;
  bool expect_continue = false;
  bool expect_other = false;

  for (const Header& h : head.headers) {
    // Dispatch on length first: most fields are none of these five.
    switch (h.name.size()) {
      case 4:
        if (equal_fold(h.name, "Host")) {
          ++hosts;
          f.host = h.value;
        }
        break;
      case 6:
        if (equal_fold(h.name, "Expect") && !h.value.empty()) {
          (equal_fold(h.value, "100-continue") ? expect_continue : expect_other) = true;
        }
        break;
      case 10:
        if (equal_fold(h.name, "Connection")) {
          close = close || token_list_contains(h.value, "close");
          keep_alive = keep_alive || token_list_contains(h.value, "keep-alive");
        }
        break;
      case 14:
        if (equal_fold(h.name, "Content-Length")) {
          if (ParseError e = add_content_length(h.value, length, has_length)) return fail(e);
        }
        break;
      case 17:
        if (equal_fold(h.name, "Transfer-Encoding")) {
          ++te_fields;
          add_transfer_codings(h.value, te_codings, te_last_chunked);
        }
        break;
      default:
        break;
    }
  }

  if (hosts > 1) return fail({400, "too many Host headers"});
  if (hosts == 0 && http11) return fail({400, "missing required Host header"});
  if (hosts == 1 && !syntax::valid_host(f.host)) return fail({400, "invalid Host header"});

  if (te_fields > 0) {
    if (!http11) return fail({400, "Transfer-Encoding in HTTP/1.0 request"});
    if (has_length) return fail({400, "both Content-Length and Transfer-Encoding"});
    // §6.3 rule 4: chunked not last means the length cannot be known:
    // MUST be 400 and close. §6.1: a coding we do not implement before a
    // final chunked (gzip, or chunked twice) SHOULD be 501.
    if (!te_last_chunked) return fail({400, "chunked is not the final transfer coding"});
    if (te_codings > 1) return fail({501, "unsupported transfer encoding"});
    f.body = Framing::Body::chunked;
  } else if (has_length && length > 0) {
    f.body = Framing::Body::content_length;
    f.content_length = length;
  }

  if (expect_other) return fail({417, "unsupported Expect value"});
  bool has_body = f.body == Framing::Body::chunked || f.content_length > 0;
  f.expect_continue = expect_continue && http11 && has_body;
  f.keep_alive = !close && (http11 || keep_alive);
  return result;
}

}  // namespace gofer::http
