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

FramingResult analyze_request(const RequestHead& head) {
  FramingResult result;
  Framing& f = result.framing;
  auto fail = [&result](ParseError e) {
    result.error = e;
    return result;
  };
  const bool http11 = head.version_major == 1 && head.version_minor >= 1;

  syntax::FramingFields fields;
  size_t hosts = 0;
  bool expect_continue = false;
  bool expect_other = false;

  for (const Header& h : head.headers) {
    // Dispatch on length first: most fields are none of these five
    // (fold_framing_field does the same for the other three).
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
      default:
        if (ParseError e = syntax::fold_framing_field(h, fields)) return fail(e);
        break;
    }
  }

  if (hosts > 1) return fail({400, "too many Host headers"});
  if (hosts == 0 && http11) return fail({400, "missing required Host header"});
  if (hosts == 1 && !syntax::valid_host(f.host)) return fail({400, "invalid Host header"});

  if (fields.te_fields > 0) {
    if (!http11) return fail({400, "Transfer-Encoding in HTTP/1.0 request"});
    if (fields.has_length) return fail({400, "both Content-Length and Transfer-Encoding"});
    // §6.3 rule 4: chunked not last means the length cannot be known:
    // MUST be 400 and close. §6.1: a coding we do not implement before a
    // final chunked (gzip, or chunked twice) SHOULD be 501.
    if (!fields.te_last_chunked) return fail({400, "chunked is not the final transfer coding"});
    if (fields.te_codings > 1) return fail({501, "unsupported transfer encoding"});
    f.body = Framing::Body::chunked;
  } else if (fields.has_length && fields.length > 0) {
    f.body = Framing::Body::content_length;
    f.content_length = fields.length;
  }

  if (expect_other) return fail({417, "unsupported Expect value"});
  bool has_body = f.body == Framing::Body::chunked || f.content_length > 0;
  f.expect_continue = expect_continue && http11 && has_body;
  f.keep_alive = !fields.close && (http11 || fields.keep_alive);
  return result;
}

}  // namespace gofer::http
