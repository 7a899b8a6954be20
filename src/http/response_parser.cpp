// HTTP/1.1 response head parser and response framing (RFC 9112 §4, §6.3),
// for a client or a proxy reading what a server sent.
//
// The head goes through the same scanner as a request's (head_scan.h): the
// same line rules (bare LF accepted, bare CR refused), the same field-line
// grammar and the same limits, so that an upstream cannot get past the
// client with what the server would refuse from a client. Only the start
// line differs:
//   status-line = HTTP-version SP status-code SP [ reason-phrase ]
// checked as it arrives: a first line that cannot begin "HTTP/1." (an SSH
// banner, TLS bytes, an HTML error page) is refused before its end.
//
// Every error is 502: to a proxy, a response it cannot trust is a bad
// gateway; to a client, the connection is not reused after it.
//
// Framing (§6.3), in the order the RFC gives it:
//   1. a response to HEAD, a 1xx, 204 and 304 have no body, whatever their
//      fields say; a 2xx to CONNECT and a 101 turn the connection into a
//      tunnel;
//   2. Transfer-Encoding: only a single "chunked" is read (as Go does; any
//      other coding we could not decode); with Content-Length, or in
//      HTTP/1.0, it is an error (§6.1, §6.3 rule 3: smuggling, response
//      splitting);
//   3. a valid Content-Length;
//   4. otherwise the body runs until the server closes the connection,
//      which therefore cannot be reused.
// Content-Length is checked even where rule 1 ignores it: a malformed one
// means the server cannot be trusted to frame the next response either.
// Unlike Go, which drops Content-Length when Transfer-Encoding is present
// and reads it, both at once is refused, as the request parser refuses it.
#include <string_view>

#include "gofer/http/parser.h"
#include "head_scan.h"
#include "syntax.h"

namespace gofer::http {
namespace {

constexpr std::string_view kVersionPrefix = "HTTP/1.";
constexpr int kBadGateway = 502;

bool is_digit(char c) {
  return c >= '0' && c <= '9';
}

// What makes a head a response's (see head_scan.h).
struct ResponseRules {
  using Head = ResponseHead;

  // The known bytes of the line must be a prefix of "HTTP/1." (or a lone
  // CR, which may become an empty line): a mismatch cannot be undone by
  // more bytes.
  static ParseError check_partial_start(std::string_view buf, size_t start, size_t n,
                                        const ParseLimits&) {
    if (n == start + 1 && buf[start] == '\r') return {};
    const size_t known = std::min(n - start, kVersionPrefix.size());
    if (buf.substr(start, known) != kVersionPrefix.substr(0, known)) {
      return {kBadGateway, "not an HTTP/1.x status-line"};
    }
    return {};
  }

  static ParseError parse_start_line(std::string_view line, const ParseLimits&, ResponseHead* out) {
    // "HTTP/1.x" SP 3DIGIT [SP reason]; the prefix is already checked.
    if (line.size() < 12 || !is_digit(line[7]) || line[8] != ' ') {
      return {kBadGateway, "malformed HTTP version"};
    }
    std::string_view code = line.substr(9, 3);
    if (!is_digit(code[0]) || !is_digit(code[1]) || !is_digit(code[2])) {
      return {kBadGateway, "malformed status code"};
    }
    const int status = (code[0] - '0') * 100 + (code[1] - '0') * 10 + (code[2] - '0');
    if (status < 100 || status > 599) return {kBadGateway, "status code out of range"};
    std::string_view reason;
    if (line.size() > 12) {
      if (line[12] != ' ') return {kBadGateway, "malformed status code"};
      reason = line.substr(13);
      for (char c : reason) {
        if (!syntax::is(c, syntax::kFieldValue)) {
          return {kBadGateway, "invalid character in reason-phrase"};
        }
      }
    }
    if (out != nullptr) {
      out->version_major = 1;
      out->version_minor = line[7] - '0';
      out->status = status;
      out->reason = reason;
    }
    return {};
  }

  static constexpr ParseError kTooLarge{kBadGateway, "response header section too large"};
  static constexpr ParseError kTooManyFields{kBadGateway, "too many header fields"};
  static constexpr ParseError kTooManyEmptyLines{kBadGateway,
                                                 "too many empty lines before status-line"};
};

}  // namespace

ParseResult parse_response_head(std::string_view buf, ResponseHead& out, std::span<Header> storage,
                                const ParseLimits& limits, HeadScan& scan) {
  ParseResult r = detail::parse_head<ResponseRules>(buf, out, storage, limits, scan);
  // Field-line errors come from the shared grammar with a request's status.
  if (r.status == ParseStatus::error) r.error.status = kBadGateway;
  return r;
}

ResponseFramingResult analyze_response(const ResponseHead& head, std::string_view request_method) {
  ResponseFramingResult result;
  ResponseFraming& f = result.framing;
  auto fail = [&result](std::string_view reason) {
    result.error = {kBadGateway, reason};
    return result;
  };
  const bool http11 = head.version_major == 1 && head.version_minor >= 1;

  syntax::FramingFields fields;
  for (const Header& h : head.headers) {
    if (ParseError e = syntax::fold_framing_field(h, fields)) return fail(e.reason);
  }
  if (fields.te_fields > 0) {
    if (!http11) return fail("Transfer-Encoding in HTTP/1.0 response");
    if (fields.has_length) return fail("both Content-Length and Transfer-Encoding");
    if (!fields.te_last_chunked || fields.te_codings > 1) {
      return fail("unsupported transfer encoding");
    }
  }
  f.keep_alive = !fields.close && (http11 || fields.keep_alive);

  // Rule 1: statuses and methods whose responses never have a body.
  if (head.status == 101 ||
      (request_method == "CONNECT" && head.status >= 200 && head.status < 300)) {
    f.body = ResponseFraming::Body::tunnel;
    f.keep_alive = false;
    return result;
  }
  if (head.status < 200) {
    f.interim = true;
    return result;
  }
  if (request_method == "HEAD" || head.status == 204 || head.status == 304) return result;

  if (fields.te_fields > 0) {
    f.body = ResponseFraming::Body::chunked;
  } else if (fields.has_length) {
    if (fields.length > 0) {
      f.body = ResponseFraming::Body::content_length;
      f.content_length = fields.length;
    }
  } else {
    f.body = ResponseFraming::Body::until_close;
    f.keep_alive = false;
  }
  return result;
}

}  // namespace gofer::http
