// Tests of parse_response_head and analyze_response: valid shapes, every
// split of every input, hostile inputs, and the framing table of RFC 9112
// §6.3. Each case names the rule it checks.
#include <gtest/gtest.h>

#include <array>
#include <string>
#include <utility>
#include <vector>

#include "gofer/http/parser.h"

namespace gofer::http {
namespace {

using Fields = std::vector<std::pair<std::string, std::string>>;

// An owned copy of a parse outcome, comparable across buffers.
struct Outcome {
  ParseStatus status = ParseStatus::incomplete;
  size_t consumed = 0;
  int error_status = 0;
  std::string reason;
  int major = 0, minor = 0, code = 0;
  std::string phrase;
  Fields headers;
  bool operator==(const Outcome&) const = default;
};

std::ostream& operator<<(std::ostream& os, const Outcome& o) {
  return os << "{status=" << static_cast<int>(o.status) << " consumed=" << o.consumed
            << " error=" << o.error_status << " '" << o.reason << "' HTTP/" << o.major << "."
            << o.minor << " " << o.code << " '" << o.phrase << "' headers=" << o.headers.size()
            << "}";
}

bool inside(std::string_view v, std::string_view buf) {
  return v.empty() || (v.data() >= buf.data() && v.data() + v.size() <= buf.data() + buf.size());
}

Outcome capture(std::string_view buf, const ParseResult& r, const ResponseHead& head) {
  Outcome o;
  o.status = r.status;
  o.consumed = r.consumed;
  o.error_status = r.error.status;
  o.reason = r.error.reason;
  if (r.status != ParseStatus::complete) return o;
  o.major = head.version_major;
  o.minor = head.version_minor;
  o.code = head.status;
  EXPECT_TRUE(inside(head.reason, buf));
  o.phrase = head.reason;
  for (const Header& h : head.headers) {
    EXPECT_TRUE(inside(h.name, buf) && inside(h.value, buf));
    o.headers.emplace_back(h.name, h.value);
  }
  return o;
}

Outcome parse_whole(std::string_view raw, const ParseLimits& limits = {}) {
  std::array<Header, 64> storage;
  ResponseHead head;
  return capture(raw, parse_response_head(raw, head, storage, limits), head);
}

// Feeds the input cut at `cut` and then whole, each time in a fresh copy of
// the bytes (as after a read into a moved buffer), with one HeadScan.
Outcome parse_split(std::string_view raw, size_t cut, const ParseLimits& limits = {}) {
  std::array<Header, 64> storage;
  ResponseHead head;
  HeadScan scan;
  std::string first(raw.substr(0, cut));
  ParseResult r = parse_response_head(first, head, storage, limits, scan);
  if (r.status != ParseStatus::incomplete) return capture(first, r, head);
  std::string whole(raw);
  return capture(whole, parse_response_head(whole, head, storage, limits, scan), head);
}

const std::vector<std::string>& valid_responses() {
  static const std::vector<std::string> v = {
      "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello",
      "HTTP/1.1 404 Not Found\r\nContent-Type: text/plain\r\nX-Empty:\r\n\r\n",
      "HTTP/1.0 200 OK\r\nServer: old\r\n\r\n",
      "HTTP/1.1 204 No Content\r\n\r\n",
      "HTTP/1.1 200\r\nContent-Length: 0\r\n\r\n",   // no SP, no reason (Go, http-parser)
      "HTTP/1.1 200 \r\nContent-Length: 0\r\n\r\n",  // SP, empty reason (RFC 9112 §4)
      "HTTP/1.1 500 Internal Server Error (it \xc3\xa9 broke)\r\n\r\n",  // obs-text in reason
      "HTTP/1.1 301 Moved\nLocation: /x\n\n",                            // bare LF (RFC 9112 §2.2)
      "\r\nHTTP/1.1 200 OK\r\n\r\n",                                     // an empty line before it
      "HTTP/1.1 100 Continue\r\n\r\n",
      "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n",
      "HTTP/1.2 200 OK\r\n\r\n",  // a later 1.x, read as 1.1 (RFC 9110 §2.5)
  };
  return v;
}

// RFC 9112 §4: status-line fields and header fields, views into the buffer.
TEST(ParseResponseHead, ValidResponses) {
  Outcome o =
      parse_whole("HTTP/1.1 404 Not Found\r\nContent-Type: text/plain\r\nX-A:  b c \r\n\r\nbody");
  EXPECT_EQ(o.status, ParseStatus::complete);
  EXPECT_EQ(
      o.consumed,
      std::string_view("HTTP/1.1 404 Not Found\r\nContent-Type: text/plain\r\nX-A:  b c \r\n\r\n")
          .size());
  EXPECT_EQ(o.major, 1);
  EXPECT_EQ(o.minor, 1);
  EXPECT_EQ(o.code, 404);
  EXPECT_EQ(o.phrase, "Not Found");
  EXPECT_EQ(o.headers, (Fields{{"Content-Type", "text/plain"}, {"X-A", "b c"}}));
  EXPECT_EQ(parse_whole("HTTP/1.1 200\r\n\r\n").phrase, "");
  EXPECT_EQ(parse_whole("HTTP/1.0 200 OK\r\n\r\n").minor, 0);
  for (const std::string& raw : valid_responses()) {
    SCOPED_TRACE(raw);
    EXPECT_EQ(parse_whole(raw).status, ParseStatus::complete) << parse_whole(raw);
  }
}

// Split-invariance: the outcome does not depend on where the bytes were
// cut; every proper prefix of a head is incomplete.
TEST(ParseResponseHead, SplitAtEveryByte) {
  for (const std::string& raw : valid_responses()) {
    SCOPED_TRACE(raw);
    const Outcome whole = parse_whole(raw);
    for (size_t cut = 0; cut <= raw.size(); ++cut) {
      ASSERT_EQ(parse_split(raw, cut), whole) << "cut at " << cut;
      if (cut < whole.consumed) {
        ASSERT_EQ(parse_whole(raw.substr(0, cut)).status, ParseStatus::incomplete) << cut;
      }
    }
  }
}

struct Hostile {
  const char* rule;
  std::string raw;
  const char* reason;
};

// Hostile heads, each with the reason it earns; every error is 502, at
// every split.
TEST(ParseResponseHead, HostileInputsAreRefusedAtEverySplit) {
  const std::vector<Hostile> cases = {
      {"§4 version", "HTTP/2.0 200 OK\r\n\r\n", "not an HTTP/1.x status-line"},
      {"§4 version case-sensitive", "http/1.1 200 OK\r\n\r\n", "not an HTTP/1.x status-line"},
      {"not HTTP at all", "SSH-2.0-OpenSSH_9.2\r\n", "not an HTTP/1.x status-line"},
      {"binary", std::string("\x16\x03\x01\x02\x00", 5), "not an HTTP/1.x status-line"},
      {"§4 version digit", "HTTP/1.x 200 OK\r\n\r\n", "malformed HTTP version"},
      {"§4 one SP", "HTTP/1.1  200 OK\r\n\r\n", "malformed status code"},
      {"§4 3DIGIT", "HTTP/1.1 20 OK\r\n\r\n", "malformed status code"},
      {"§4 3DIGIT", "HTTP/1.1 2000 OK\r\n\r\n", "malformed status code"},
      {"§4 3DIGIT", "HTTP/1.1 2x0 OK\r\n\r\n", "malformed status code"},
      {"RFC 9110 §15 range", "HTTP/1.1 099 Low\r\n\r\n", "status code out of range"},
      {"RFC 9110 §15 range", "HTTP/1.1 600 High\r\n\r\n", "status code out of range"},
      {"§4 reason VCHAR", "HTTP/1.1 200 O\x01K\r\n\r\n", "invalid character in reason-phrase"},
      {"§2.2 bare CR", "HTTP/1.1 200 O\rK\r\n\r\n", "invalid character in reason-phrase"},
      {"§5.2 obs-fold", "HTTP/1.1 200 OK\r\nA: b\r\n c\r\n\r\n",
       "obsolete line folding in header section"},
      {"§5.1 space before colon", "HTTP/1.1 200 OK\r\nA : b\r\n\r\n",
       "whitespace between header name and colon"},
      {"RFC 9110 §5.5 CTL", std::string("HTTP/1.1 200 OK\r\nA: b\0c\r\n\r\n", 27),
       "invalid character in header value"},
      {"no colon", "HTTP/1.1 200 OK\r\nJunk\r\n\r\n", "header line without a colon"},
      {"§2.2 empty lines", "\r\n\r\n\r\n\r\n\r\nHTTP/1.1 200 OK\r\n\r\n",
       "too many empty lines before status-line"},
  };
  for (const Hostile& c : cases) {
    SCOPED_TRACE(std::string(c.rule) + ": " + c.raw);
    const Outcome whole = parse_whole(c.raw);
    EXPECT_EQ(whole.status, ParseStatus::error);
    EXPECT_EQ(whole.error_status, 502);
    EXPECT_EQ(whole.reason, c.reason);
    for (size_t cut = 0; cut <= c.raw.size(); ++cut) {
      ASSERT_EQ(parse_split(c.raw, cut), whole) << "cut at " << cut;
    }
  }
}

// The same limits as requests: total head size and field count, 502 here.
TEST(ParseResponseHead, Limits) {
  ParseLimits limits;
  limits.max_header_bytes = 64;
  limits.max_headers = 2;
  std::string big = "HTTP/1.1 200 OK\r\nX: " + std::string(60, 'a') + "\r\n\r\n";
  Outcome o = parse_whole(big, limits);
  EXPECT_EQ(o.error_status, 502);
  EXPECT_EQ(o.reason, "response header section too large");
  // Refused before the head ends: a server cannot make the client buffer more.
  EXPECT_EQ(parse_whole(big.substr(0, 70), limits).reason, "response header section too large");
  o = parse_whole("HTTP/1.1 200 OK\r\nA: 1\r\nB: 2\r\nC: 3\r\n\r\n", limits);
  EXPECT_EQ(o.reason, "too many header fields");
  EXPECT_EQ(parse_whole("HTTP/1.1 200 OK\r\nA: 1\r\nB: 2\r\n\r\n", limits).status,
            ParseStatus::complete);
}

// A head that trickles in byte by byte, through one HeadScan, gives what
// the whole does (and stays linear: the scan resumes where it stopped).
TEST(ParseResponseHead, TrickledHead) {
  std::string raw = "HTTP/1.1 200 OK\r\n";
  for (int i = 0; i < 50; ++i) raw += "X-Field-" + std::to_string(i) + ": value\r\n";
  raw += "\r\n";
  std::array<Header, 64> storage;
  ResponseHead head;
  HeadScan scan;
  ParseResult r;
  std::string buf;
  for (char c : raw) {
    buf.push_back(c);
    r = parse_response_head(buf, head, storage, {}, scan);
    if (r.status != ParseStatus::incomplete) break;
  }
  EXPECT_EQ(capture(buf, r, head), parse_whole(raw));
  EXPECT_EQ(head.headers.size(), 50u);
}

ResponseFramingResult frame(std::string_view raw, std::string_view method = "GET") {
  static std::array<Header, 64> storage;
  ResponseHead head;
  ParseResult r = parse_response_head(raw, head, storage);
  EXPECT_EQ(r.status, ParseStatus::complete) << r.error.reason;
  return analyze_response(head, method);
}

using Body = ResponseFraming::Body;

// RFC 9112 §6.3, rule by rule, and §9.3 for keep-alive.
TEST(AnalyzeResponse, FramingRules) {
  struct Case {
    const char* rule;
    std::string raw;
    const char* method;
    Body body;
    uint64_t length;
    bool keep_alive;
    bool interim;
  };
  const std::vector<Case> cases = {
      {"rule 3: Content-Length", "HTTP/1.1 200 OK\r\nContent-Length: 12\r\n\r\n", "GET",
       Body::content_length, 12, true, false},
      {"rule 3: zero length", "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", "GET", Body::none, 0,
       true, false},
      {"RFC 9110 §8.6: equal repeats",
       "HTTP/1.1 200 OK\r\nContent-Length: 7, 7\r\nContent-Length: 7\r\n\r\n", "GET",
       Body::content_length, 7, true, false},
      {"rule 4: chunked", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", "GET",
       Body::chunked, 0, true, false},
      {"rule 4: chunked, any case", "HTTP/1.1 200 OK\r\nTransfer-Encoding: Chunked\r\n\r\n", "POST",
       Body::chunked, 0, true, false},
      {"rule 8: until close", "HTTP/1.1 200 OK\r\n\r\n", "GET", Body::until_close, 0, false, false},
      {"rule 8: HTTP/1.0 until close", "HTTP/1.0 200 OK\r\nConnection: keep-alive\r\n\r\n", "GET",
       Body::until_close, 0, false, false},
      {"rule 1: HEAD", "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n", "HEAD", Body::none, 0,
       true, false},
      {"rule 1: HEAD, chunked", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", "HEAD",
       Body::none, 0, true, false},
      {"rule 1: HEAD, no framing", "HTTP/1.1 200 OK\r\n\r\n", "HEAD", Body::none, 0, true, false},
      {"rule 1: 204", "HTTP/1.1 204 No Content\r\n\r\n", "GET", Body::none, 0, true, false},
      {"rule 1: 304", "HTTP/1.1 304 Not Modified\r\nContent-Length: 50\r\n\r\n", "GET", Body::none,
       0, true, false},
      {"rule 1: 100", "HTTP/1.1 100 Continue\r\n\r\n", "POST", Body::none, 0, true, true},
      {"rule 1: 103", "HTTP/1.1 103 Early Hints\r\nLink: </a.css>; rel=preload\r\n\r\n", "GET",
       Body::none, 0, true, true},
      {"rule 1: 101", "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n", "GET",
       Body::tunnel, 0, false, false},
      {"rule 2: 2xx to CONNECT", "HTTP/1.1 200 Connection established\r\n\r\n", "CONNECT",
       Body::tunnel, 0, false, false},
      {"rule 2: 407 to CONNECT has a body", "HTTP/1.1 407 Auth\r\nContent-Length: 3\r\n\r\n",
       "CONNECT", Body::content_length, 3, true, false},
      {"§9.3 close", "HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 1\r\n\r\n", "GET",
       Body::content_length, 1, false, false},
      {"§9.3 close in a list",
       "HTTP/1.1 200 OK\r\nConnection: foo, CLOSE\r\nContent-Length: 1\r\n\r\n", "GET",
       Body::content_length, 1, false, false},
      {"§9.3 HTTP/1.0 default", "HTTP/1.0 200 OK\r\nContent-Length: 1\r\n\r\n", "GET",
       Body::content_length, 1, false, false},
      {"§9.3 HTTP/1.0 keep-alive",
       "HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 1\r\n\r\n", "GET",
       Body::content_length, 1, true, false},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(std::string(c.rule) + ": " + c.raw);
    ResponseFramingResult r = frame(c.raw, c.method);
    ASSERT_TRUE(r.ok()) << r.error.reason;
    EXPECT_EQ(r.framing.body, c.body);
    EXPECT_EQ(r.framing.content_length, c.length);
    EXPECT_EQ(r.framing.keep_alive, c.keep_alive);
    EXPECT_EQ(r.framing.interim, c.interim);
  }
}

// What would let a client and a proxy disagree on where a response ends
// (response splitting; a reused connection handing one response's bytes to
// the next request): an error, never a guess.
TEST(AnalyzeResponse, AmbiguousFramingIsAnError) {
  const std::vector<std::pair<std::string, const char*>> cases = {
      // §6.3 rule 3: "ought to be handled as an error" (Go drops Content-Length).
      {"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n",
       "both Content-Length and Transfer-Encoding"},
      // §6.1: Transfer-Encoding in HTTP/1.0 is faulty framing.
      {"HTTP/1.0 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n",
       "Transfer-Encoding in HTTP/1.0 response"},
      // Codings we cannot decode (Go refuses them too).
      {"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n",
       "unsupported transfer encoding"},
      {"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, gzip\r\n\r\n",
       "unsupported transfer encoding"},
      {"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n",
       "unsupported transfer encoding"},
      {"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked,\r\n\r\n", "unsupported transfer encoding"},
      // RFC 9110 §8.6: malformed, differing or too large lengths.
      {"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n",
       "conflicting Content-Length values"},
      {"HTTP/1.1 200 OK\r\nContent-Length: 5, 6\r\n\r\n", "conflicting Content-Length values"},
      {"HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n", "invalid Content-Length"},
      {"HTTP/1.1 200 OK\r\nContent-Length: 0x10\r\n\r\n", "invalid Content-Length"},
      {"HTTP/1.1 200 OK\r\nContent-Length: \r\n\r\n", "invalid Content-Length"},
      {"HTTP/1.1 200 OK\r\nContent-Length: 99999999999999999999\r\n\r\n",
       "Content-Length too large"},
      // Checked even where the status says there is no body.
      {"HTTP/1.1 304 Not Modified\r\nContent-Length: x\r\n\r\n", "invalid Content-Length"},
  };
  for (const auto& [raw, reason] : cases) {
    SCOPED_TRACE(raw);
    ResponseFramingResult r = frame(raw);
    EXPECT_FALSE(r.ok());
    EXPECT_EQ(r.error.status, 502);
    EXPECT_EQ(r.error.reason, reason);
  }
  // Also for HEAD: a server that frames badly cannot be trusted with the
  // next response on the connection.
  EXPECT_FALSE(
      frame("HTTP/1.1 200 OK\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n", "HEAD")
          .ok());
}

// A chunked response body goes through the same ChunkedDecoder as a
// request body (RFC 9112 §7.1), trailers included.
TEST(AnalyzeResponse, ChunkedBodyDecodes) {
  const std::string raw =
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTrailer: X-Sum\r\n\r\n"
      "5\r\nhello\r\n6;ext=1\r\n world\r\n0\r\nX-Sum: 42\r\n\r\n";
  std::array<Header, 16> storage;
  ResponseHead head;
  ParseResult r = parse_response_head(raw, head, storage);
  ASSERT_EQ(r.status, ParseStatus::complete);
  ASSERT_EQ(analyze_response(head, "GET").framing.body, Body::chunked);
  ChunkedDecoder decoder;
  std::string_view rest = std::string_view(raw).substr(r.consumed);
  std::string body;
  std::array<Header, 4> trailers;
  for (;;) {
    ChunkedResult c = decoder.decode(rest, trailers);
    rest.remove_prefix(c.consumed);
    if (c.status == ChunkedStatus::data) {
      body += c.data;
      continue;
    }
    ASSERT_EQ(c.status, ChunkedStatus::done);
    ASSERT_EQ(c.trailers.size(), 1u);
    EXPECT_EQ(c.trailers[0].value, "42");
    break;
  }
  EXPECT_EQ(body, "hello world");
  EXPECT_TRUE(rest.empty());
}

}  // namespace
}  // namespace gofer::http
