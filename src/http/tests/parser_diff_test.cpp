// Differential tests against libhttp-parser 2.9 (Node.js's parser before
// llhttp), the oracle: on valid requests both must read the same method,
// target, version and fields; on invalid ones we assert our own verdict and
// record, per case, whether http-parser also refuses it and why not.
#include <gtest/gtest.h>
#include <http_parser.h>

#include <array>
#include <string>
#include <utility>
#include <vector>

#include "gofer/http/parser.h"

namespace gofer::http {
namespace {

using namespace std::string_literals;
using Fields = std::vector<std::pair<std::string, std::string>>;

// What http-parser made of a request head.
struct Oracle {
  enum Verdict { accepts, rejects, waits } verdict = waits;
  std::string method;
  std::string url;
  int major = 0;
  int minor = 0;
  Fields headers;
  bool in_value = false;  // the last callback was a value (callbacks come in pieces)
  bool headers_complete = false;
};

const char* verdict_name(Oracle::Verdict v) {
  switch (v) {
    case Oracle::accepts:
      return "accepts";
    case Oracle::rejects:
      return "rejects";
    case Oracle::waits:
      return "waits";
  }
  return "?";
}

Oracle& oracle_of(http_parser* p) {
  return *static_cast<Oracle*>(p->data);
}

Oracle run_oracle(std::string_view raw) {
  http_parser_settings settings;
  http_parser_settings_init(&settings);
  settings.on_url = [](http_parser* p, const char* at, size_t n) {
    oracle_of(p).url.append(at, n);
    return 0;
  };
  settings.on_header_field = [](http_parser* p, const char* at, size_t n) {
    Oracle& o = oracle_of(p);
    if (o.headers.empty() || o.in_value) o.headers.emplace_back();
    o.in_value = false;
    o.headers.back().first.append(at, n);
    return 0;
  };
  settings.on_header_value = [](http_parser* p, const char* at, size_t n) {
    Oracle& o = oracle_of(p);
    o.in_value = true;
    o.headers.back().second.append(at, n);
    return 0;
  };
  settings.on_headers_complete = [](http_parser* p) {
    Oracle& o = oracle_of(p);
    o.headers_complete = true;
    o.method = http_method_str(static_cast<http_method>(p->method));
    o.major = p->http_major;
    o.minor = p->http_minor;
    return 0;
  };

  Oracle o;
  http_parser parser;
  http_parser_init(&parser, HTTP_REQUEST);
  parser.data = &o;
  http_parser_execute(&parser, &settings, raw.data(), raw.size());
  if (HTTP_PARSER_ERRNO(&parser) != HPE_OK) {
    o.verdict = Oracle::rejects;
  } else if (o.headers_complete) {
    o.verdict = Oracle::accepts;
  }
  // http-parser keeps trailing whitespace in values; RFC 9110 §5.5 says it
  // is not part of the value, and we drop it.
  for (auto& [name, value] : o.headers) {
    while (!value.empty() && (value.back() == ' ' || value.back() == '\t')) value.pop_back();
  }
  return o;
}

// The status a server answers: parse error, framing error, or 200.
int our_verdict(std::string_view raw) {
  std::array<Header, 128> storage;
  RequestHead head;
  ParseResult r = parse_request_head(raw, head, storage);
  if (r.status == ParseStatus::incomplete) return 0;
  if (r.status == ParseStatus::error) return r.error.status;
  FramingResult f = analyze_request(head);
  return f.ok() ? 200 : f.error.status;
}

// ---------------------------------------------------------------------------
// Valid requests: both parsers read the same thing.

const std::vector<std::string>& valid_corpus() {
  static const std::vector<std::string> corpus = {
      "GET / HTTP/1.1\r\nHost: example.com\r\n\r\n",
      "GET /index.html HTTP/1.0\r\n\r\n",
      "GET /search?q=gofer&lang=c%2B%2B#frag HTTP/1.1\r\nHost: example.com\r\n\r\n",
      // A browser's request.
      "GET /static/app.js?v=3 HTTP/1.1\r\n"
      "Host: localhost:8080\r\n"
      "Connection: keep-alive\r\n"
      "sec-ch-ua: \"Chromium\";v=\"118\", \"Not=A?Brand\";v=\"99\"\r\n"
      "User-Agent: Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko)\r\n"
      "Accept: */*\r\n"
      "Sec-Fetch-Site: same-origin\r\n"
      "Referer: http://localhost:8080/\r\n"
      "Accept-Encoding: gzip, deflate, br\r\n"
      "Accept-Language: en-US,en;q=0.9\r\n"
      "Cookie: session=abc123; theme=dark; _ga=GA1.1.1234567890.1700000000\r\n"
      "\r\n",
      // curl posting a form.
      "POST /submit HTTP/1.1\r\nHost: 127.0.0.1:8080\r\nUser-Agent: curl/7.88.1\r\n"
      "Accept: */*\r\nContent-Length: 7\r\nContent-Type: application/x-www-form-urlencoded\r\n"
      "\r\na=1&b=2",
      "PUT /files/a.txt HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n"
      "5\r\nhello\r\n0\r\n\r\n",
      "DELETE /items/42 HTTP/1.1\r\nHost: h\r\nAuthorization: Bearer eyJhbGciOi.x.y\r\n\r\n",
      "PATCH /items/42 HTTP/1.1\r\nHost: h\r\nContent-Length: 2\r\nIf-Match: \"v1\"\r\n\r\n{}",
      "HEAD / HTTP/1.1\r\nHost: h\r\n\r\n",
      "OPTIONS * HTTP/1.1\r\nHost: h\r\n\r\n",
      "CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n",
      "GET http://example.com/a/b?c HTTP/1.1\r\nHost: example.com\r\n\r\n",
      // Field values with inner and surrounding whitespace, empty values.
      "GET / HTTP/1.1\r\nHost: h\r\nX-A:   spaced   out   \r\nX-B:\t\ttabbed\t\r\nX-C:\r\n"
      "X-D: \r\n\r\n",
      // Names in odd cases and with every tchar.
      "GET / HTTP/1.1\r\nhOsT: h\r\nX-!#$%&'*+.^_`|~: v\r\n\r\n",
      // Values with quotes, commas, colons, obs-text.
      "GET / HTTP/1.1\r\nHost: h\r\nLink: <http://a/b>; rel=\"next\", <c>; rel=x\r\n"
      "X-Time: 12:34:56\r\nX-Utf8: caf\xc3\xa9\r\n\r\n",
      // WebSocket upgrade.
      "GET /ws HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
      "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n",
      "POST /upload HTTP/1.1\r\nHost: h\r\nExpect: 100-continue\r\nContent-Length: 100\r\n\r\n",
      // Bare LF line ends, accepted by both (RFC 9112 §2.2).
      "GET /lf HTTP/1.1\nHost: h\nX: y\n\n",
      // An empty line before the request-line (RFC 9112 §2.2).
      "\r\nGET /after-crlf HTTP/1.1\r\nHost: h\r\n\r\n",
  };
  return corpus;
}

// RFC 9112 §3, §5: both parsers read the same request-line and fields.
TEST(ParserDiff, ValidCorpusReadsTheSame) {
  for (const std::string& raw : valid_corpus()) {
    SCOPED_TRACE(raw);
    std::array<Header, 128> storage;
    RequestHead head;
    ParseResult r = parse_request_head(raw, head, storage);
    ASSERT_EQ(r.status, ParseStatus::complete) << r.error.reason;
    ASSERT_TRUE(analyze_request(head).ok());

    Oracle o = run_oracle(raw);
    ASSERT_EQ(o.verdict, Oracle::accepts);
    EXPECT_EQ(head.method, o.method);
    EXPECT_EQ(head.target, o.url);
    EXPECT_EQ(head.version_major, o.major);
    EXPECT_EQ(head.version_minor, o.minor);
    Fields ours;
    for (const Header& h : head.headers) ours.emplace_back(h.name, h.value);
    EXPECT_EQ(ours, o.headers);
  }
}

// ---------------------------------------------------------------------------
// Invalid requests: the agreement table.

struct Disputed {
  const char* rule;
  std::string raw;
  int ours;                     // the status we answer
  Oracle::Verdict http_parser;  // what http-parser 2.9.4 does, as observed
  const char* why;              // when it does not reject: why we differ
};

std::string req(std::string_view fields, std::string_view version = "HTTP/1.1") {
  return "POST / " + std::string(version) + "\r\n" + std::string(fields) + "\r\n";
}

const std::vector<Disputed>& agreement_table() {
  using O = Oracle::Verdict;
  static const std::vector<Disputed> table = {
      {"RFC 9112 §6.3 CL + TE",
       req("Host: a\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n"), 400, O::rejects, ""},
      {"RFC 9112 §5.1 space before colon", req("Host: a\r\nTransfer-Encoding : chunked\r\n"), 400,
       O::accepts, "reads a field named \"Transfer-Encoding \"; a proxy that trims it sees TE"},
      {"RFC 9112 §5.1 HTAB before colon", req("Host: a\r\nContent-Length\t: 5\r\n"), 400,
       O::rejects, ""},
      {"RFC 9112 §5.2 obs-fold", req("Host: a\r\nX: b\r\n c\r\n"), 400, O::accepts,
       "accepts obs-fold as part of the value; RFC 9112 §5.2 lets a server reject it, as Go does"},
      {"RFC 9110 §8.6 Content-Length: +5", req("Host: a\r\nContent-Length: +5\r\n"), 400,
       O::rejects, ""},
      {"RFC 9110 §8.6 Content-Length: 5, 6", req("Host: a\r\nContent-Length: 5, 6\r\n"), 400,
       O::rejects, ""},
      {"RFC 9110 §8.6 Content-Length: 5, 5", req("Host: a\r\nContent-Length: 5, 5\r\n"), 200,
       O::rejects, "rejects a list; RFC 9110 §8.6 lets identical values be accepted"},
      {"RFC 9110 §8.6 two different CL lines",
       req("Host: a\r\nContent-Length: 5\r\nContent-Length: 6\r\n"), 400, O::rejects, ""},
      {"RFC 9110 §8.6 CL overflow", req("Host: a\r\nContent-Length: 99999999999999999999\r\n"), 400,
       O::rejects, ""},
      {"RFC 9112 §6.3 xchunked", req("Host: a\r\nTransfer-Encoding: xchunked\r\n"), 400, O::rejects,
       ""},
      {"RFC 9112 §6.1 gzip, chunked", req("Host: a\r\nTransfer-Encoding: gzip, chunked\r\n"), 501,
       O::accepts,
       "accepts stacked codings ending in chunked; we take only \"chunked\", like Go and nginx"},
      {"RFC 9112 §6.3 chunked, gzip", req("Host: a\r\nTransfer-Encoding: chunked, gzip\r\n"), 400,
       O::rejects, ""},
      {"RFC 9112 §6.1 two TE lines",
       req("Host: a\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n"), 501,
       O::accepts, "accepts two TE lines; we refuse more than one, like Go"},
      {"RFC 9112 §6.1 TE in HTTP/1.0", req("Transfer-Encoding: chunked\r\n", "HTTP/1.0"), 400,
       O::accepts, "accepts TE in HTTP/1.0; RFC 9112 §6.1 calls that framing faulty"},
      {"RFC 9112 §2.2 bare CR in value", req("Host: a\r\nX: a\rb\r\n"), 400, O::rejects, ""},
      {"RFC 9110 §5.5 NUL in value", req("Host: a\r\nX: a\0b\r\n"s), 400, O::rejects, ""},
      {"RFC 9110 §5.5 CTL in value", req("Host: a\r\nX: a\x01z\r\n"), 400, O::rejects, ""},
      {"RFC 9110 §5.5 DEL in value", req("Host: a\r\nX: a\x7fz\r\n"), 400, O::rejects, ""},
      {"RFC 9110 §5.1 non-token name", req("Host: a\r\nX(y): v\r\n"), 400, O::rejects, ""},
      {"RFC 9110 §5.1 empty name", req("Host: a\r\n: v\r\n"), 400, O::rejects, ""},
      {"RFC 9112 §3 method must be a token", "G(T / HTTP/1.1\r\nHost: a\r\n\r\n", 400, O::rejects,
       ""},
      {"RFC 9112 §3 double SP", "GET  / HTTP/1.1\r\nHost: a\r\n\r\n", 400, O::accepts,
       "skips repeated SP in the request-line; RFC 9112 §3 allows exactly one"},
      {"RFC 9112 §3 trailing SP after version", "GET / HTTP/1.1 \r\nHost: a\r\n\r\n", 400,
       O::rejects, ""},
      {"RFC 9112 §3 HTTP/0.9 line", "GET /\r\n\r\n", 400, O::accepts,
       "reads a version-less request-line as HTTP/0.9, which we do not serve"},
      {"RFC 9112 §2.3 lowercase http", "GET / http/1.1\r\nHost: a\r\n\r\n", 400, O::rejects, ""},
      {"RFC 9110 §15.6.6 HTTP/2.0", "GET / HTTP/2.0\r\nHost: a\r\n\r\n", 505, O::accepts,
       "reports major version 2 and leaves the choice to the application"},
      {"RFC 9112 §3.2 CTL in target", "GET /a\x01z HTTP/1.1\r\nHost: a\r\n\r\n", 400, O::rejects,
       ""},
      {"RFC 9112 §3.2 HTTP/1.1 without Host", req("Content-Length: 0\r\n"), 400, O::accepts,
       "leaves Host checks to the application"},
      {"RFC 9112 §3.2 two Host lines", req("Host: a\r\nHost: b\r\n"), 400, O::accepts,
       "leaves Host checks to the application"},
      {"RFC 9110 §10.1.1 unknown Expect", req("Host: a\r\nExpect: 101-continue\r\n"), 417,
       O::accepts, "leaves Expect to the application"},
      {"RFC 9112 §2.2 whitespace before the first field", "GET / HTTP/1.1\r\n Host: a\r\n\r\n", 400,
       O::accepts, "reads a field named \" Host\"; RFC 9112 §2.2 says reject the message"},
      {"RFC 9112 §2.2 five empty lines first",
       "\r\n\r\n\r\n\r\n\r\nGET / HTTP/1.1\r\nHost: "
       "a\r\n\r\n",
       400, O::accepts, "skips any number of empty lines; we bound them"},
  };
  return table;
}

// Our verdict per rule (named in each row), and where http-parser differs.
TEST(ParserDiff, AgreementTableOnInvalidRequests) {
  int disagreements = 0;
  for (const Disputed& d : agreement_table()) {
    SCOPED_TRACE(d.rule);
    EXPECT_EQ(our_verdict(d.raw), d.ours);
    Oracle::Verdict theirs = run_oracle(d.raw).verdict;
    // The table stays true: a newer http-parser that changes its mind shows here.
    EXPECT_EQ(theirs, d.http_parser) << "http-parser now " << verdict_name(theirs);
    bool we_reject = d.ours != 200;
    if (we_reject != (theirs == Oracle::rejects)) {
      ++disagreements;
      EXPECT_STRNE(d.why, "") << "undocumented disagreement";
      std::printf("[ differs ] %-45s ours=%d http-parser=%s: %s\n", d.rule, d.ours,
                  verdict_name(theirs), d.why);
    }
  }
  std::printf("[ summary ] %d of %zu disputed inputs judged differently by http-parser\n",
              disagreements, agreement_table().size());
}

}  // namespace
}  // namespace gofer::http
