// Tests of parse_request_head and analyze_request: valid shapes, every split
// of every input, and a table of hostile inputs with the status each earns.
// Each case names the rule (RFC 9110 / RFC 9112 section) it checks.
#include <gtest/gtest.h>

#include <array>
#include <string>
#include <utility>
#include <vector>

#include "gofer/http/parser.h"

namespace gofer::http {
namespace {

using Fields = std::vector<std::pair<std::string, std::string>>;

// An owned copy of a parse outcome, so outcomes of different buffers compare.
struct Outcome {
  ParseStatus status = ParseStatus::incomplete;
  size_t consumed = 0;
  int error_status = 0;
  std::string reason;
  std::string method;
  std::string target;
  int major = 0;
  int minor = 0;
  Fields headers;

  bool operator==(const Outcome&) const = default;
};

std::ostream& operator<<(std::ostream& os, const Outcome& o) {
  os << "{status=" << static_cast<int>(o.status) << " consumed=" << o.consumed
     << " error=" << o.error_status << " '" << o.reason << "' " << o.method << " " << o.target
     << " HTTP/" << o.major << "." << o.minor << " headers=" << o.headers.size() << "}";
  return os;
}

bool inside(std::string_view view, std::string_view buf) {
  return view.empty() ||
         (view.data() >= buf.data() && view.data() + view.size() <= buf.data() + buf.size());
}

Outcome capture(std::string_view buf, const ParseResult& r, const RequestHead& head) {
  Outcome o;
  o.status = r.status;
  o.consumed = r.consumed;
  o.error_status = r.error.status;
  o.reason = std::string(r.error.reason);
  if (r.status != ParseStatus::complete) return o;
  EXPECT_LE(r.consumed, buf.size());
  EXPECT_TRUE(inside(head.method, buf));
  EXPECT_TRUE(inside(head.target, buf));
  o.method = std::string(head.method);
  o.target = std::string(head.target);
  o.major = head.version_major;
  o.minor = head.version_minor;
  for (const Header& h : head.headers) {
    EXPECT_TRUE(inside(h.name, buf) && inside(h.value, buf));
    o.headers.emplace_back(h.name, h.value);
  }
  return o;
}

constexpr size_t kStorage = 128;

Outcome parse_whole(std::string_view raw, const ParseLimits& limits = {}) {
  std::array<Header, kStorage> storage;
  RequestHead head;
  ParseResult r = parse_request_head(raw, head, storage, limits);
  return capture(raw, r, head);
}

// Feeds growing prefixes, ending at each cut and then at the whole input, as a
// connection would after each read. Every call sees a fresh copy of the bytes
// so that views kept from an earlier buffer would be caught.
Outcome parse_in_pieces(std::string_view raw, const std::vector<size_t>& cuts,
                        const ParseLimits& limits = {}) {
  std::array<Header, kStorage> storage;
  HeadScan scan;
  std::vector<size_t> ends = cuts;
  ends.push_back(raw.size());
  for (size_t end : ends) {
    std::string buf(raw.substr(0, end));
    RequestHead head;
    ParseResult r = parse_request_head(buf, head, storage, limits, scan);
    if (r.status != ParseStatus::incomplete) return capture(buf, r, head);
    // The scan covers the whole buffer: the next call reads only new bytes.
    EXPECT_EQ(scan.scanned, buf.size());
    if (end == raw.size()) return capture(buf, r, head);
  }
  return {};
}

// Whole, split in two at every position, and one byte at a time: all equal.
void expect_split_invariant(std::string_view raw, const ParseLimits& limits = {}) {
  const Outcome whole = parse_whole(raw, limits);
  for (size_t k = 1; k < raw.size(); ++k) {
    ASSERT_EQ(parse_in_pieces(raw, {k}, limits), whole) << "split at " << k;
  }
  std::vector<size_t> bytes;
  for (size_t k = 1; k < raw.size(); ++k) bytes.push_back(k);
  ASSERT_EQ(parse_in_pieces(raw, bytes, limits), whole) << "one byte at a time";
}

// ---------------------------------------------------------------------------
// Valid requests

struct ValidCase {
  const char* rule;
  std::string raw;
  std::string method;
  std::string target;
  int minor;
  Fields headers;
  size_t head_size;  // 0: the whole input
};

std::vector<ValidCase> valid_cases() {
  std::string long_value(6000, 'v');
  std::string many;
  Fields many_fields;
  for (int i = 0; i < 100; ++i) {
    many += "X-" + std::to_string(i) + ": " + std::to_string(i) + "\r\n";
    many_fields.emplace_back("X-" + std::to_string(i), std::to_string(i));
  }
  return {
      {"RFC 9112 §3: minimal HTTP/1.1 request",
       "GET / HTTP/1.1\r\nHost: a\r\n\r\n",
       "GET",
       "/",
       1,
       {{"Host", "a"}},
       0},
      {"RFC 9112 §2.3: HTTP/1.0, no header at all",
       "GET /x HTTP/1.0\r\n\r\n",
       "GET",
       "/x",
       0,
       {},
       0},
      {"RFC 9110 §5.5: OWS around the value is not part of it",
       "GET / HTTP/1.1\r\nHost:   a  \r\nX:\tb c\t\r\nEmpty:\r\nSpaces:    \r\n\r\n",
       "GET",
       "/",
       1,
       {{"Host", "a"}, {"X", "b c"}, {"Empty", ""}, {"Spaces", ""}},
       0},
      {"RFC 9110 §5.1: names keep their case; duplicates stay in order",
       "POST /p HTTP/1.1\r\nhost: h\r\nACCEPT: a\r\nAccept: b\r\nContent-Length: 3\r\n\r\nabc",
       "POST",
       "/p",
       1,
       {{"host", "h"}, {"ACCEPT", "a"}, {"Accept", "b"}, {"Content-Length", "3"}},
       sizeof("POST /p HTTP/1.1\r\nhost: h\r\nACCEPT: a\r\nAccept: b\r\nContent-Length: "
              "3\r\n\r\n") -
           1},
      {"RFC 9112 §2.2: empty lines before the request-line are ignored",
       "\r\n\r\n\nGET / HTTP/1.1\r\nHost: a\r\n\r\n",
       "GET",
       "/",
       1,
       {{"Host", "a"}},
       0},
      {"RFC 9112 §2.2: bare LF accepted as line terminator in the head",
       "GET / HTTP/1.1\nHost: a\nX: y\r\n\n",
       "GET",
       "/",
       1,
       {{"Host", "a"}, {"X", "y"}},
       0},
      {"RFC 9112 §3.2.2: absolute-form target",
       "GET http://a.example/x?y=1 HTTP/1.1\r\nHost: "
       "a.example\r\n\r\n",
       "GET",
       "http://a.example/x?y=1",
       1,
       {{"Host", "a.example"}},
       0},
      {"RFC 9112 §3.2.3: authority-form target for CONNECT",
       "CONNECT a.example:443 HTTP/1.1\r\nHost: a.example:443\r\n\r\n",
       "CONNECT",
       "a.example:443",
       1,
       {{"Host", "a.example:443"}},
       0},
      {"RFC 9112 §3.2.4: asterisk-form for OPTIONS",
       "OPTIONS * HTTP/1.1\r\nHost: a\r\n\r\n",
       "OPTIONS",
       "*",
       1,
       {{"Host", "a"}},
       0},
      {"RFC 9110 §9.1: a method is any token",
       "M-SEARCH! /q HTTP/1.1\r\nHost: a\r\n\r\n",
       "M-SEARCH!",
       "/q",
       1,
       {{"Host", "a"}},
       0},
      {"RFC 9110 §5.6.2: every tchar in a name",
       "GET / HTTP/1.1\r\n!#$%&'*+-.^_`|~09azAZ: v\r\n\r\n",
       "GET",
       "/",
       1,
       {{"!#$%&'*+-.^_`|~09azAZ", "v"}},
       0},
      {"RFC 9110 §5.5: obs-text and visible bytes in values; colons inside values",
       "GET / HTTP/1.1\r\nX: caf\xc3\xa9 \x80\xff \"q\" a:b::\r\n\r\n",
       "GET",
       "/",
       1,
       {{"X", "caf\xc3\xa9 \x80\xff \"q\" a:b::"}},
       0},
      {"RFC 9112 §3.2: target bytes >= 0x80 tolerated (raw UTF-8)",
       "GET /caf\xc3\xa9?q=%20 HTTP/1.1\r\nHost: a\r\n\r\n",
       "GET",
       "/caf\xc3\xa9?q=%20",
       1,
       {{"Host", "a"}},
       0},
      {"RFC 9110 §2.5: a later HTTP/1.x minor version is accepted",
       "GET / HTTP/1.7\r\nHost: a\r\n\r\n",
       "GET",
       "/",
       7,
       {{"Host", "a"}},
       0},
      {"RFC 9112 §9.3: pipelined requests: the head stops at its empty line",
       "GET /1 HTTP/1.1\r\nHost: a\r\n\r\nGET /2 HTTP/1.1\r\nHost: a\r\n\r\n",
       "GET",
       "/1",
       1,
       {{"Host", "a"}},
       sizeof("GET /1 HTTP/1.1\r\nHost: a\r\n\r\n") - 1},
      {"limits: a long value is fine below max_header_bytes",
       "GET / HTTP/1.1\r\nCookie: " + long_value + "\r\n\r\n",
       "GET",
       "/",
       1,
       {{"Cookie", long_value}},
       0},
      {"limits: exactly max_headers (100) fields", "GET / HTTP/1.1\r\n" + many + "\r\n", "GET", "/",
       1, many_fields, 0},
  };
}

// RFC 9112 §2-§5: each shape parses to its parts (rule per case).
TEST(ParseRequestHead, ValidRequests) {
  for (const ValidCase& c : valid_cases()) {
    SCOPED_TRACE(c.rule);
    Outcome o = parse_whole(c.raw);
    ASSERT_EQ(o.status, ParseStatus::complete) << o;
    EXPECT_EQ(o.consumed, c.head_size ? c.head_size : c.raw.size());
    EXPECT_EQ(o.method, c.method);
    EXPECT_EQ(o.target, c.target);
    EXPECT_EQ(o.major, 1);
    EXPECT_EQ(o.minor, c.minor);
    EXPECT_EQ(o.headers, c.headers);
  }
}

// Incremental parsing must not depend on where reads happen to end.
TEST(ParseRequestHead, ValidRequestsSplitAnywhere) {
  for (const ValidCase& c : valid_cases()) {
    SCOPED_TRACE(c.rule);
    expect_split_invariant(c.raw);
  }
}

// A proper prefix of a valid head is always "incomplete", never an error.
TEST(ParseRequestHead, PrefixesOfValidRequestsAreIncomplete) {
  for (const ValidCase& c : valid_cases()) {
    SCOPED_TRACE(c.rule);
    size_t head = c.head_size ? c.head_size : c.raw.size();
    for (size_t k = 0; k < head; ++k) {
      ASSERT_EQ(parse_whole(std::string_view(c.raw).substr(0, k)).status, ParseStatus::incomplete)
          << "prefix " << k;
    }
  }
}

// A caller's scan from an unrelated, longer buffer must not cause reads out
// of bounds; the parser starts over.
TEST(ParseRequestHead, StaleScanIsReset) {
  std::array<Header, 8> storage;
  RequestHead head;
  HeadScan scan;
  scan.line_start = 500;
  scan.scanned = 1000;
  ParseResult r = parse_request_head("GET / HTTP/1.1\r\nHost: a\r\n\r\n", head, storage, {}, scan);
  EXPECT_EQ(r.status, ParseStatus::complete);
  EXPECT_EQ(scan.scanned, 0u);  // reset for the next request
}

// ---------------------------------------------------------------------------
// Invalid requests: what the server answers, head and framing together.

// The status a server would answer with: the parse error, the framing
// error, 200 when both pass, 0 while incomplete.
int verdict(std::string_view raw, const ParseLimits& limits = {}) {
  std::array<Header, kStorage> storage;
  RequestHead head;
  ParseResult r = parse_request_head(raw, head, storage, limits);
  if (r.status == ParseStatus::incomplete) return 0;
  if (r.status == ParseStatus::error) return r.error.status;
  FramingResult f = analyze_request(head);
  return f.ok() ? 200 : f.error.status;
}

struct InvalidCase {
  const char* rule;
  std::string raw;
  int status;
};

std::string req(std::string_view fields, std::string_view version = "HTTP/1.1") {
  return "POST / " + std::string(version) + "\r\n" + std::string(fields) + "\r\n";
}

std::vector<InvalidCase> invalid_cases() {
  using namespace std::string_literals;
  return {
      // Request-line (RFC 9112 §3).
      {"§3 method must be a token", "G(T / HTTP/1.1\r\nHost: a\r\n\r\n", 400},
      {"§3 method must be a token (TLS handshake bytes)", "\x16\x03\x01\x02\x00\x01\x00\x01", 400},
      {"§3 single SP after method, not HTAB", "GET\t/ HTTP/1.1\r\nHost: a\r\n\r\n", 400},
      {"§3 single SP between parts", "GET  / HTTP/1.1\r\nHost: a\r\n\r\n", 400},
      {"§3 no whitespace before the method", " GET / HTTP/1.1\r\nHost: a\r\n\r\n", 400},
      {"§3 nothing after the version", "GET / HTTP/1.1 \r\nHost: a\r\n\r\n", 400},
      {"§3 HTTP/0.9 request-line without version", "GET /\r\n\r\n", 400},
      {"§3 method alone", "GET\r\n\r\n", 400},
      {"§3.2 target may not hold CTLs", "GET /a\x01z HTTP/1.1\r\nHost: a\r\n\r\n", 400},
      {"§3.2 target may not hold DEL", "GET /a\x7fz HTTP/1.1\r\nHost: a\r\n\r\n", 400},
      {"§2.3 HTTP-name is case-sensitive", "GET / http/1.1\r\nHost: a\r\n\r\n", 400},
      {"§2.3 version needs both digits", "GET / HTTP/1\r\nHost: a\r\n\r\n", 400},
      {"§2.3 version digits are single", "GET / HTTP/1.10\r\nHost: a\r\n\r\n", 400},
      {"§2.3 version needs the dot", "GET / HTTP/11\r\nHost: a\r\n\r\n", 400},
      {"§2.3 version digits are digits", "GET / HTTP/1.x\r\nHost: a\r\n\r\n", 400},
      {"RFC 9110 §15.6.6 major version 2 is not ours", "GET / HTTP/2.0\r\nHost: a\r\n\r\n", 505},
      {"RFC 9110 §15.6.6 HTTP/0.9 is not served", "GET / HTTP/0.9\r\n\r\n", 505},
      {"RFC 9110 §15.6.6 the HTTP/2 preface", "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", 505},
      {"RFC 9110 §15.5.15 target over max_target_bytes",
       "GET /" + std::string(8192, 'a') + " HTTP/1.1\r\nHost: a\r\n\r\n", 414},
      {"§2.2 bounded number of empty lines before the request-line",
       "\r\n\r\n\r\n\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n", 400},
      // Line terminators (RFC 9112 §2.2).
      {"§2.2 bare CR in a field value", req("Host: a\r\nX: a\rb\r\n"), 400},
      {"§2.2 CR CR LF ending a field line", req("Host: a\r\nX: a\r\r\n"), 400},
      {"§2.2 bare CR in the request-line", "GET /\r HTTP/1.1\r\nHost: a\r\n\r\n", 400},
      {"§2.2 CR CR LF ending the request-line", "GET / HTTP/1.1\r\r\nHost: a\r\n\r\n", 400},
      {"§2.2 bare CR as the empty line", "GET / HTTP/1.1\r\nHost: a\r\n\r\rX\r\n\r\n", 400},
      // Field lines (RFC 9112 §5, RFC 9110 §5).
      {"§5.1 whitespace between name and colon (smuggling classic)",
       req("Host: a\r\nTransfer-Encoding : chunked\r\n"), 400},
      {"§5.1 HTAB between name and colon", req("Host: a\r\nContent-Length\t: 5\r\n"), 400},
      {"§5.2 obs-fold continuation line", req("Host: a\r\nX: b\r\n c\r\n"), 400},
      {"§5.2 obs-fold with HTAB", req("Host: a\r\nX: b\r\n\tc\r\n"), 400},
      {"§2.2 whitespace before the first field line", "GET / HTTP/1.1\r\n Host: a\r\n\r\n", 400},
      {"RFC 9110 §5.1 empty field name", req("Host: a\r\n: v\r\n"), 400},
      {"RFC 9110 §5.1 field line without colon", req("Host: a\r\nNoColon\r\n"), 400},
      {"RFC 9110 §5.1 name must be a token", req("Host: a\r\nX(y): v\r\n"), 400},
      {"RFC 9110 §5.1 NUL in a name", req("Host: a\r\nX\0Y: v\r\n"s), 400},
      {"RFC 9110 §5.1 non-ASCII in a name", req("Host: a\r\nCaf\xc3\xa9: v\r\n"), 400},
      {"RFC 9110 §5.5 NUL in a value", req("Host: a\r\nX: a\0b\r\n"s), 400},
      {"RFC 9110 §5.5 CTL in a value", req("Host: a\r\nX: a\x01z\r\n"), 400},
      {"RFC 9110 §5.5 ESC in a value", req("Host: a\r\nX: \x1b[31m\r\n"), 400},
      {"RFC 9110 §5.5 DEL in a value", req("Host: a\r\nX: a\x7f\r\n"), 400},
      // Limits (RFC 6585 §5).
      {"RFC 6585 §5 more than max_headers fields",
       [] {
         std::string s = "GET / HTTP/1.1\r\n";
         for (int i = 0; i < 101; ++i) s += "X: y\r\n";
         return s + "\r\n";
       }(),
       431},
      {"RFC 6585 §5 head over max_header_bytes",
       req("Host: a\r\nX: " + std::string(1 << 20, 'x') + "\r\n"), 431},
      // Framing (RFC 9112 §6).
      {"§6.3 Content-Length with Transfer-Encoding (CL.TE / TE.CL)",
       req("Host: a\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n"), 400},
      {"§6.3 Transfer-Encoding with Content-Length, reversed",
       req("Host: a\r\nTransfer-Encoding: chunked\r\nContent-Length: 0\r\n"), 400},
      {"§6.1 Transfer-Encoding in HTTP/1.0", req("Transfer-Encoding: chunked\r\n", "HTTP/1.0"),
       400},
      {"§6.3 rule 4: chunked not final: other token that contains it",
       req("Host: a\r\nTransfer-Encoding: xchunked\r\n"), 400},
      {"§6.3 rule 4: chunked not final: prefix", req("Host: a\r\nTransfer-Encoding: chunkedx\r\n"), 400},
      {"§6.1 only chunked: stacked codings (Go refuses)",
       req("Host: a\r\nTransfer-Encoding: gzip, chunked\r\n"), 501},
      {"§6.3 rule 4: chunked not last",
       req("Host: a\r\nTransfer-Encoding: chunked, gzip\r\n"), 400},
      {"§6.3 rule 4: chunked not last, across field lines",
       req("Host: a\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: gzip\r\n"), 400},
      {"§6.3 rule 4: a trailing empty element is not chunked",
       req("Host: a\r\nTransfer-Encoding: chunked,\r\n"), 400},
      {"§6.3 rule 4: chunked with a parameter is not chunked",
       req("Host: a\r\nTransfer-Encoding: chunked;q=1\r\n"), 400},
      {"§6.1 only chunked: chunked twice in a list",
       req("Host: a\r\nTransfer-Encoding: chunked, chunked\r\n"), 501},
      {"§6.1 only chunked: two Transfer-Encoding lines",
       req("Host: a\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n"), 501},
      {"§6.3 rule 4: identity", req("Host: a\r\nTransfer-Encoding: identity\r\n"), 400},
      {"§6.3 rule 4: empty value", req("Host: a\r\nTransfer-Encoding:\r\n"), 400},
      {"§6.3 rule 4: gzip alone", req("Host: a\r\nTransfer-Encoding: gzip\r\n"), 400},
      {"§3.2 Host port must be digits", req("Host: a:b\r\n"), 400},
      {"§3.2 Host with two ports", req("Host: a:1:2\r\n"), 400},
      {"§3.2 Host IPv6 literal must be bracketed", req("Host: ::1\r\n"), 400},
      {"§3.2 Host IPv6 literal unclosed", req("Host: [::1\r\n"), 400},
      {"§3.2 Host IPv6 literal, junk after", req("Host: [::1]x\r\n"), 400},
      {"§3.2.4 asterisk-form only with OPTIONS", "GET * HTTP/1.1\r\nHost: a\r\n\r\n", 400},
      {"§3.2.3 authority-form only with CONNECT", "GET a.example:80 HTTP/1.1\r\nHost: a\r\n\r\n", 400},
      {"§3.2.3 CONNECT needs a port", "CONNECT a.example HTTP/1.1\r\nHost: a\r\n\r\n", 400},
      {"§3.2 a relative target has no form", "GET a/b HTTP/1.1\r\nHost: a\r\n\r\n", 400},
      {"RFC 9110 §4.2.1 http URI with an empty host", "GET http:///x HTTP/1.1\r\nHost: a\r\n\r\n",
       400},
      {"RFC 9110 §8.6 Content-Length with a sign", req("Host: a\r\nContent-Length: +5\r\n"), 400},
      {"RFC 9110 §8.6 negative Content-Length", req("Host: a\r\nContent-Length: -5\r\n"), 400},
      {"RFC 9110 §8.6 Content-Length list that differs", req("Host: a\r\nContent-Length: 5, 6\r\n"),
       400},
      {"RFC 9110 §8.6 Content-Length lines that differ",
       req("Host: a\r\nContent-Length: 5\r\nContent-Length: 6\r\n"), 400},
      {"RFC 9110 §8.6 Content-Length in hex", req("Host: a\r\nContent-Length: 0x5\r\n"), 400},
      {"RFC 9110 §8.6 Content-Length with junk after", req("Host: a\r\nContent-Length: 5a\r\n"),
       400},
      {"RFC 9110 §8.6 Content-Length with inner space", req("Host: a\r\nContent-Length: 1 2\r\n"),
       400},
      {"RFC 9110 §8.6 empty Content-Length", req("Host: a\r\nContent-Length:\r\n"), 400},
      {"RFC 9110 §8.6 empty list element in Content-Length",
       req("Host: a\r\nContent-Length: 5,,5\r\n"), 400},
      {"RFC 9110 §8.6 Content-Length of 2^63",
       req("Host: a\r\nContent-Length: 9223372036854775808\r\n"), 400},
      {"RFC 9110 §8.6 Content-Length that overflows 64 bits",
       req("Host: a\r\nContent-Length: 99999999999999999999999\r\n"), 400},
      {"§3.2 HTTP/1.1 without Host", req("Content-Length: 0\r\n"), 400},
      {"§3.2 two Host lines", req("Host: a\r\nHost: b\r\n"), 400},
      {"§3.2 two Host lines in HTTP/1.0", req("Host: a\r\nHost: a\r\n", "HTTP/1.0"), 400},
      {"§3.2 Host with a space", req("Host: a b\r\n"), 400},
      {"§3.2 Host with a slash", req("Host: a/b\r\n"), 400},
      {"§3.2 Host with userinfo", req("Host: u@a\r\n"), 400},
      {"RFC 9110 §10.1.1 unknown expectation", req("Host: a\r\nExpect: 101-continue\r\n"), 417},
  };
}

// RFC 9110/9112: each hostile request earns its status (rule per case).
TEST(ParseRequestHead, InvalidRequestsEarnTheirStatus) {
  for (const InvalidCase& c : invalid_cases()) {
    EXPECT_EQ(verdict(c.raw), c.status) << c.rule;
  }
}

// An error is reported the same, with the same reason, however the bytes
// arrive; a prefix reports either "incomplete" or that very error.
TEST(ParseRequestHead, InvalidRequestsSplitAnywhere) {
  for (const InvalidCase& c : invalid_cases()) {
    if (c.raw.size() > 20000) continue;  // the 1 MiB case: covered by Limits below
    SCOPED_TRACE(c.rule);
    expect_split_invariant(c.raw);
  }
}

// RFC 9110 §5.5: values are checked a word at a time; a forbidden byte is
// found at every offset within and across words, and allowed ones (HTAB,
// obs-text) pass at every offset.
TEST(ParseRequestHead, ValueBytesAtEveryOffset) {
  for (size_t at = 0; at < 40; ++at) {
    for (char c : {'\0', '\x01', '\x1f', '\r', '\x7f'}) {
      std::string value(40, 'v');
      value[at] = c;
      Outcome o = parse_whole("GET / HTTP/1.1\r\nX: " + value + "\r\n\r\n");
      EXPECT_EQ(o.error_status, 400) << "byte " << int(c) << " at " << at;
    }
    for (char c : {'\t', ' ', '\x80', '\xff', '~', '!'}) {
      std::string value(40, 'v');
      value[at] = c;
      Outcome o = parse_whole("GET / HTTP/1.1\r\nX: " + value + "\r\n\r\n");
      ASSERT_EQ(o.status, ParseStatus::complete) << "byte " << int(c) << " at " << at;
      // Whitespace at either end is trimmed; elsewhere it stays.
      std::string expected = value;
      if (at == 0 || at == 39) {
        if (c == ' ' || c == '\t') expected.erase(at, 1);
      }
      EXPECT_EQ(o.headers[0].second, expected);
    }
  }
}

// ---------------------------------------------------------------------------
// Limits

// RFC 9110 §15.5.15: 414 comes before the request-line's end arrives, so a
// client can't make the server buffer an endless line.
TEST(ParseRequestHead, LongRequestLineRejectedBeforeItEnds) {
  ParseLimits limits;
  limits.max_target_bytes = 100;
  // 164 bytes (target limit + 64) is still a line that could end well.
  std::string line = "GET /" + std::string(100 + 64 - 5, 'a');
  EXPECT_EQ(parse_whole(line, limits).status, ParseStatus::incomplete);
  line += "a";
  Outcome o = parse_whole(line, limits);
  EXPECT_EQ(o.status, ParseStatus::error);
  EXPECT_EQ(o.error_status, 414);
}

// RFC 9110 §15.5.15: the target limit itself; exactly max_target_bytes passes.
TEST(ParseRequestHead, TargetLimitIsInclusive) {
  ParseLimits limits;
  limits.max_target_bytes = 10;
  EXPECT_EQ(verdict("GET /123456789 HTTP/1.1\r\nHost: a\r\n\r\n", limits), 200);
  EXPECT_EQ(verdict("GET /1234567890 HTTP/1.1\r\nHost: a\r\n\r\n", limits), 414);
}

// RFC 6585 §5: max_header_bytes bounds the head including its final empty
// line; a head that would exceed it is refused before it completes.
TEST(ParseRequestHead, HeaderBytesLimit) {
  const std::string head = "GET / HTTP/1.1\r\nHost: a\r\n\r\n";
  ParseLimits limits;
  limits.max_header_bytes = head.size();
  EXPECT_EQ(parse_whole(head, limits).status, ParseStatus::complete);
  limits.max_header_bytes = head.size() - 1;
  EXPECT_EQ(parse_whole(head, limits).error_status, 431);
  expect_split_invariant(head, limits);
  // No empty line in sight: 431 as soon as the buffer passes the limit.
  limits.max_header_bytes = 64;
  std::string endless = "GET / HTTP/1.1\r\nX: " + std::string(64, 'x');
  EXPECT_EQ(parse_whole(endless, limits).error_status, 431);
  expect_split_invariant(endless, limits);
}

// When the 431 limit falls inside the request-line, whichever limit the
// growing line crosses first decides, however the bytes are split.
TEST(ParseRequestHead, RequestLineLimitsInteract) {
  for (size_t max_header : {20, 40, 60, 80, 200}) {
    ParseLimits limits;
    limits.max_target_bytes = 10;
    limits.max_header_bytes = max_header;
    SCOPED_TRACE(max_header);
    expect_split_invariant("GET /" + std::string(150, 'a') + " HTTP/1.1\r\n\r\n", limits);
  }
}

// RFC 6585 §5: the storage the caller provides also bounds the field count.
TEST(ParseRequestHead, StorageBoundsHeaderCount) {
  std::array<Header, 2> storage;
  RequestHead head;
  EXPECT_EQ(parse_request_head("GET / HTTP/1.1\r\nA: 1\r\nB: 2\r\n\r\n", head, storage).status,
            ParseStatus::complete);
  ParseResult r =
      parse_request_head("GET / HTTP/1.1\r\nA: 1\r\nB: 2\r\nC: 3\r\n\r\n", head, storage);
  EXPECT_EQ(r.error.status, 431);
}

// RFC 9112 §2.2 (bare CR): a client that ends lines with CR alone never
// sends an LF; the parser waits for one and gives up at the line limit.
TEST(ParseRequestHead, CrOnlyLineEndsHitTheLimit) {
  ParseLimits limits;
  limits.max_target_bytes = 100;
  std::string raw = "GET / HTTP/1.1\rHost: a\r\r";
  EXPECT_EQ(parse_whole(raw, limits).status, ParseStatus::incomplete);
  raw += std::string(200, 'x');
  EXPECT_EQ(parse_whole(raw, limits).error_status, 414);
}

// A head trickling in one byte per read costs linear time: each call resumes
// where the previous one stopped (checked inside parse_in_pieces).
TEST(ParseRequestHead, TrickledLongHeadCompletes) {
  std::string raw = "GET / HTTP/1.1\r\nHost: a\r\n";
  for (int i = 0; i < 50; ++i) raw += "X-Field: " + std::string(400, 'v') + "\r\n";
  raw += "\r\n";
  std::vector<size_t> cuts;
  for (size_t k = 1; k < raw.size(); ++k) cuts.push_back(k);
  Outcome o = parse_in_pieces(raw, cuts);
  EXPECT_EQ(o.status, ParseStatus::complete);
  EXPECT_EQ(o.headers.size(), 51u);
  EXPECT_EQ(o, parse_whole(raw));
}

// ---------------------------------------------------------------------------
// Framing of valid requests (RFC 9112 §6, §9.3; RFC 9110 §10.1.1)

FramingResult framing_of(const std::string& raw, std::array<Header, kStorage>& storage) {
  RequestHead head;
  ParseResult r = parse_request_head(raw, head, storage);
  EXPECT_EQ(r.status, ParseStatus::complete) << raw;
  return analyze_request(head);
}

struct FramingCase {
  const char* rule;
  std::string raw;
  Framing::Body body;
  uint64_t length;
  bool keep_alive;
  bool expect_continue;
};

// RFC 9112 §6, §9.3; RFC 9110 §10.1.1: body framing, keep-alive, Expect
// (rule per case).
TEST(AnalyzeRequest, ValidFraming) {
  using B = Framing::Body;
  const FramingCase cases[] = {
      {"§6.3 no CL, no TE: no body", req("Host: a\r\n"), B::none, 0, true, false},
      {"§6.3 Content-Length", req("Host: a\r\nContent-Length: 42\r\n"), B::content_length, 42, true,
       false},
      {"§6.3 Content-Length: 0 is no body", req("Host: a\r\nContent-Length: 0\r\n"), B::none, 0,
       true, false},
      {"RFC 9110 §8.6 leading zeros", req("Host: a\r\nContent-Length: 007\r\n"), B::content_length,
       7, true, false},
      {"RFC 9110 §8.6 identical list", req("Host: a\r\nContent-Length: 5 , 5,5\r\n"),
       B::content_length, 5, true, false},
      {"RFC 9110 §8.6 identical lines",
       req("Host: a\r\nContent-Length: 5\r\nContent-Length: 5\r\n"), B::content_length, 5, true,
       false},
      {"RFC 9110 §8.6 largest Content-Length",
       req("Host: a\r\nContent-Length: 9223372036854775807\r\n"), B::content_length,
       9223372036854775807ull, true, false},
      {"§6.1 chunked", req("Host: a\r\nTransfer-Encoding: chunked\r\n"), B::chunked, 0, true,
       false},
      {"§6.1 chunked, any case", req("Host: a\r\nTransfer-Encoding: ChUnKeD\r\n"), B::chunked, 0,
       true, false},
      {"§9.3 HTTP/1.1 close", req("Host: a\r\nConnection: close\r\n"), B::none, 0, false, false},
      {"§9.3 close is a token in a list, any case",
       req("Host: a\r\nConnection: Upgrade, CLOSE\r\n"), B::none, 0, false, false},
      {"§9.3 close found on a second Connection line",
       req("Host: a\r\nConnection: te\r\nConnection: close\r\n"), B::none, 0, false, false},
      {"§9.3 'closed' is not 'close'", req("Host: a\r\nConnection: closed\r\n"), B::none, 0, true,
       false},
      {"§9.3 HTTP/1.0 closes by default", req("", "HTTP/1.0"), B::none, 0, false, false},
      {"§9.3 HTTP/1.0 keep-alive", req("Connection: Keep-Alive\r\n", "HTTP/1.0"), B::none, 0, true,
       false},
      {"§9.3 HTTP/1.0 keep-alive and close: close wins",
       req("Connection: keep-alive, close\r\n", "HTTP/1.0"), B::none, 0, false, false},
      {"RFC 9110 §2.5 HTTP/1.7 behaves as 1.1", req("Host: a\r\n", "HTTP/1.7"), B::none, 0, true,
       false},
      {"RFC 9110 §10.1.1 100-continue with a body",
       req("Host: a\r\nExpect: 100-Continue\r\nContent-Length: 5\r\n"), B::content_length, 5, true,
       true},
      {"RFC 9110 §10.1.1 100-continue without a body: nothing to wait for",
       req("Host: a\r\nExpect: 100-continue\r\n"), B::none, 0, true, false},
      {"RFC 9110 §10.1.1 100-continue in HTTP/1.0 is ignored",
       req("Expect: 100-continue\r\nContent-Length: 5\r\n", "HTTP/1.0"), B::content_length, 5,
       false, false},
      {"empty Expect is no expectation", req("Host: a\r\nExpect:\r\n"), B::none, 0, true, false},
  };
  for (const FramingCase& c : cases) {
    SCOPED_TRACE(c.rule);
    std::array<Header, kStorage> storage;
    FramingResult f = framing_of(c.raw, storage);
    ASSERT_TRUE(f.ok()) << f.error.reason;
    EXPECT_EQ(f.framing.body, c.body);
    EXPECT_EQ(f.framing.content_length, c.length);
    EXPECT_EQ(f.framing.keep_alive, c.keep_alive);
    EXPECT_EQ(f.framing.expect_continue, c.expect_continue);
  }
}

// RFC 9112 §3.2: Host is reported; absent only in HTTP/1.0, and "Host:" with
// an empty value is present.
TEST(AnalyzeRequest, Host) {
  std::array<Header, kStorage> storage;
  EXPECT_EQ(framing_of(req("Host: example.com:8080\r\n"), storage).framing.host,
            "example.com:8080");
  EXPECT_EQ(framing_of(req("Host: [::1]:80\r\n"), storage).framing.host, "[::1]:80");
  FramingResult empty = framing_of(req("Host:\r\n"), storage);
  ASSERT_TRUE(empty.ok());
  EXPECT_TRUE(empty.framing.host.empty());
  EXPECT_NE(empty.framing.host.data(), nullptr);
  FramingResult absent = framing_of(req("", "HTTP/1.0"), storage);
  ASSERT_TRUE(absent.ok());
  EXPECT_EQ(absent.framing.host.data(), nullptr);
}

// ---------------------------------------------------------------------------
// Helpers the server shares

// RFC 9110 §5.1: field names are case-insensitive (ASCII only).
TEST(Helpers, EqualFold) {
  EXPECT_TRUE(equal_fold("Content-Length", "content-LENGTH"));
  EXPECT_TRUE(equal_fold("", ""));
  EXPECT_FALSE(equal_fold("Host", "Hos"));
  EXPECT_FALSE(equal_fold("Host", "Hosu"));
  // '@' ^ '`' and '[' ^ '{' differ by 0x20 too, but are not letters.
  EXPECT_FALSE(equal_fold("@", "`"));
  EXPECT_FALSE(equal_fold("[", "{"));
  EXPECT_FALSE(equal_fold("\xc9", "\xe9"));  // no folding beyond ASCII
}

// RFC 9110 §5.6.1: list elements, OWS around them, empty elements skipped.
TEST(Helpers, TokenListContains) {
  EXPECT_TRUE(token_list_contains("close", "close"));
  EXPECT_TRUE(token_list_contains("keep-alive , Close", "close"));
  EXPECT_TRUE(token_list_contains(",, \tclose\t,", "close"));
  EXPECT_FALSE(token_list_contains("closed", "close"));
  EXPECT_FALSE(token_list_contains("xclose, cl ose", "close"));
  EXPECT_FALSE(token_list_contains("", "close"));
}

}  // namespace
}  // namespace gofer::http
