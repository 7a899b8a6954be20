// HTTP/1.1 request head parser (RFC 9112 §2-§5). The line scanner it
// shares with the response parser is in head_scan.h; this file holds the
// request-line rules and the design of both.
//
// Concepts
//   head       everything before the body: optional empty lines, the
//              request-line, header field lines, and the empty line that
//              ends them.
//   line       bytes up to and including LF. Its content is the bytes before
//              the LF, less one CR right before it.
//   scan       HeadScan, the caller-kept progress of an incomplete head.
//
// Protocol
//   The parser is a pure function over a byte buffer, like picohttpparser:
//   the connection appends what it reads and calls again; the parser either
//   finishes (and says how many bytes the head took), asks for more, or
//   names the status to answer with. Views point into the buffer, so a
//   parsed head costs no copy and no allocation.
//
//   Lines are found with memchr (vectorised in libc) and then checked with
//   one 256-entry class table per byte, field values eight bytes at a time. Only complete lines are
//   checked; a partial last line is only measured against the limits, plus its first byte when it
//   is the request-line (so a TLS handshake or other binary garbage is refused at once instead of
//   after a megabyte).
//
//   Re-parsing from the start on every call would make a head that arrives
//   a byte at a time cost O(n^2) — a cheap denial of service with a 1 MiB
//   limit. So each call records in the HeadScan how far complete lines were
//   checked and how far the partial line is known to hold no LF; the next
//   call resumes there without writing any output, and only when the head
//   is complete is it parsed once more from the start to fill in the views
//   (the buffer may have moved in between, so old views cannot be kept).
//
//   Split-invariance: the result for a buffer must not depend on how its
//   bytes were split across calls. Hence every decision about a partial line
//   is one that its completion cannot reverse, and a complete line runs the
//   same partial-line checks first, in the same order (check_partial_line),
//   before any check that needs the whole line.
//
// Choices on leniency (RFC 9112 lets a recipient choose; smuggling decides)
//   - Bare LF is accepted as a line terminator in the head (RFC 9112 §2.2
//     allows it; Go and nginx do it; it keeps `printf ... | nc` usable).
//     A CR anywhere but right before LF is an error ("bare CR"), as in Go.
//     The chunked decoder accepts no bare LF at all (see chunked.cpp).
//   - Up to 4 empty lines before the request-line are skipped (§2.2 says a
//     server SHOULD ignore at least one; Go skips 4 bytes of CR/LF).
//   - HTTP/1.x for any digit x is accepted and reported as is; RFC 9110 §2.5
//     says to treat a higher minor version as the highest one we implement.
//     Other major versions (HTTP/0.9, HTTP/2.0) are well formed but get 505.
//   - Any token is a method; whether the server implements it is its call.
//   - The request-target must have one of the four forms of §3.2, the
//     asterisk only with OPTIONS, a bare authority only with CONNECT.
//
// Rejected approaches
//   - A byte-at-a-time state machine that keeps its state across calls
//     (http-parser, llhttp): it delivers fields through callbacks, possibly
//     in pieces, so the caller must copy them; a re-parse over a contiguous
//     buffer hands out views and is simpler to prove split-invariant.
//   - picohttpparser's `last_len` shortcut (only look for CRLFCRLF in the
//     new bytes, validate once complete): reports errors later and makes the
//     result depend on how the bytes were split.
//   - Checking the target's length on a partial request-line: it would need
//     the line's content parsed on every call. Bounding the whole line
//     (target limit + 64) answers 414 just as surely.
#include "gofer/http/parser.h"

#include <algorithm>
#include <cstring>

#include "head_scan.h"
#include "syntax.h"

namespace gofer::http {
namespace {

using syntax::is;

// Room on a request-line besides the target: method, two SPs, "HTTP/1.1".
constexpr size_t kRequestLineSlack = 64;

constexpr ParseError kInvalidMethod{400, "invalid character in method"};

bool is_alpha(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

// The request-target is one of four forms (RFC 9112 §3.2): origin-form
// "/path?query", absolute-form "scheme://authority/path" (§3.2.2),
// authority-form "host:port" for CONNECT only (§3.2.3) and asterisk-form
// "*" for OPTIONS only (§3.2.4). Unlike Go, which takes whatever
// url.ParseRequestURI accepts ("host:80" is a URI of scheme "host"), a
// target of no form — a relative path, an authority for GET — is refused,
// and so is an absolute URI without an authority (RFC 9110 §4.2.1: an http
// URI with an empty host MUST be rejected). Like Go, CONNECT may also carry
// an origin-form path (net/rpc's "CONNECT /_goRPC_").
ParseError check_target_form(std::string_view method, std::string_view target) {
  if (target[0] == '/') return {};
  if (target == "*") {
    if (method == "OPTIONS") return {};
    return {400, "asterisk-form target is only for OPTIONS"};
  }
  // A host, and no userinfo (RFC 9110 §4.2.4 says to treat it as an error).
  auto valid_authority = [](std::string_view authority, bool need_port) {
    size_t colon = authority.rfind(':');
    bool has_port = colon != std::string_view::npos && colon + 1 < authority.size() &&
                    authority.find(']', colon) == std::string_view::npos;
    return !authority.empty() && authority[0] != ':' && (has_port || !need_port) &&
           syntax::valid_host(authority);
  };
  if (method == "CONNECT") {
    if (!valid_authority(target, true)) return {400, "CONNECT target must be host:port"};
    return {};
  }
  // absolute-form: scheme = ALPHA *( ALPHA / DIGIT / "+" / "-" / "." ),
  // then "//" and a non-empty authority.
  size_t i = 0;
  if (!is_alpha(target[0])) return {400, "invalid request-target"};
  while (i < target.size() && (is_alpha(target[i]) || (target[i] >= '0' && target[i] <= '9') ||
                               target[i] == '+' || target[i] == '-' || target[i] == '.')) {
    ++i;
  }
  if (target.substr(i, 3) != "://") return {400, "invalid request-target"};
  std::string_view rest = target.substr(i + 3);
  if (!valid_authority(rest.substr(0, rest.find_first_of("/?#")), false)) {
    return {400, "invalid host in absolute-form target"};
  }
  return {};
}

// request-line = method SP request-target SP HTTP-version (RFC 9112 §3),
// with exactly one SP between the parts and nothing around them.
ParseError parse_request_line(std::string_view line, const ParseLimits& limits, RequestHead* out) {
  const char* p = line.data();
  const char* end = p + line.size();

  const char* q = p;
  while (q != end && is(*q, syntax::kTchar)) ++q;
  if (q == end) return {400, "malformed request-line"};
  if (q == p || *q != ' ') return kInvalidMethod;
  std::string_view method(p, static_cast<size_t>(q - p));

  const char* t = q + 1;
  const char* r = t;
  while (r != end && is(*r, syntax::kTarget)) ++r;
  if (static_cast<size_t>(r - t) > limits.max_target_bytes) return {414, "URI too long"};
  if (r == end) return {400, "malformed request-line"};
  if (r == t || *r != ' ') return {400, "invalid character in request-target"};
  std::string_view target(t, static_cast<size_t>(r - t));

  // HTTP-version = "HTTP" "/" DIGIT "." DIGIT, case-sensitive (§2.3).
  const char* v = r + 1;
  auto digit = [](char c) { return c >= '0' && c <= '9'; };
  if (end - v != 8 || std::memcmp(v, "HTTP/", 5) != 0 || !digit(v[5]) || v[6] != '.' ||
      !digit(v[7])) {
    return {400, "malformed HTTP version"};
  }
  int major = v[5] - '0';
  if (major != 1) return {505, "HTTP version not supported"};
  if (ParseError e = check_target_form(method, target)) return e;

  if (out != nullptr) {
    out->method = method;
    out->target = target;
    out->version_major = major;
    out->version_minor = v[7] - '0';
  }
  return {};
}

// What makes a head a request's (see head_scan.h).
struct RequestRules {
  using Head = RequestHead;

  // The first byte must start a method (a lone CR may still become an
  // empty line; CR then anything else cannot). The line may not exceed the
  // target limit plus room for the rest (414) — unless the whole head limit
  // comes first (431), which is then reported instead.
  static ParseError check_partial_start(std::string_view buf, size_t start, size_t n,
                                        const ParseLimits& limits) {
    if (n > start) {
      char c = buf[start];
      if (!is(c, syntax::kTchar) && !(c == '\r' && n == start + 1)) return kInvalidMethod;
    }
    size_t too_big_at = detail::saturating_add(limits.max_header_bytes, 1);
    size_t line_limit = detail::saturating_add(limits.max_target_bytes, kRequestLineSlack);
    size_t too_long_at = detail::saturating_add(start, detail::saturating_add(line_limit, 1));
    if (n >= too_long_at && too_long_at <= too_big_at) return {414, "request-line too long"};
    return {};
  }

  static ParseError parse_start_line(std::string_view line, const ParseLimits& limits,
                                     RequestHead* out) {
    return parse_request_line(line, limits, out);
  }

  static constexpr ParseError kTooLarge{431, "request header section too large"};
  static constexpr ParseError kTooManyFields{431, "too many header fields"};
  static constexpr ParseError kTooManyEmptyLines{400, "too many empty lines before request-line"};
};

}  // namespace

ParseResult parse_request_head(std::string_view buf, RequestHead& out, std::span<Header> storage,
                               const ParseLimits& limits, HeadScan& scan) {
  return detail::parse_head<RequestRules>(buf, out, storage, limits, scan);
}

}  // namespace gofer::http
