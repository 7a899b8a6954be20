// Differential tests of the response parser against libhttp-parser 2.9 in
// response mode, the oracle: on valid responses both must read the same
// status-line and fields and frame the body the same way (its length,
// chunked or until close, keep-alive, tunnel); on invalid ones we assert our
// own verdict and record, per case, whether http-parser also refuses it and
// why not.
#include <gtest/gtest.h>
#include <http_parser.h>

#include <array>
#include <cstdio>
#include <string>
#include <utility>
#include <vector>

#include "gofer/http/parser.h"

namespace gofer::http {
namespace {

using namespace std::string_literals;
using Fields = std::vector<std::pair<std::string, std::string>>;

// What http-parser made of a response, fed whole and then told of EOF.
struct Oracle {
  bool rejects = false;
  bool headers_complete = false;
  bool message_complete = false;
  bool complete_before_eof = false;  // the message ended without needing EOF
  std::string reason;
  int status = 0, major = 0, minor = 0;
  Fields headers;
  bool in_value = false;
  bool chunked = false;
  bool upgrade = false;
  bool keep_alive = false;
  std::string body;
  std::string method;  // of the request this answers: HEAD and CONNECT matter
};

Oracle& oracle_of(http_parser* p) {
  return *static_cast<Oracle*>(p->data);
}

Oracle run_oracle(std::string_view raw, std::string_view method) {
  http_parser_settings s;
  http_parser_settings_init(&s);
  s.on_status = [](http_parser* p, const char* at, size_t n) {
    oracle_of(p).reason.append(at, n);
    return 0;
  };
  s.on_header_field = [](http_parser* p, const char* at, size_t n) {
    Oracle& o = oracle_of(p);
    if (o.headers_complete) return 0;  // a trailer field: not part of the head
    if (o.headers.empty() || o.in_value) o.headers.emplace_back();
    o.in_value = false;
    o.headers.back().first.append(at, n);
    return 0;
  };
  s.on_header_value = [](http_parser* p, const char* at, size_t n) {
    Oracle& o = oracle_of(p);
    if (o.headers_complete) return 0;
    o.in_value = true;
    o.headers.back().second.append(at, n);
    return 0;
  };
  s.on_headers_complete = [](http_parser* p) {
    Oracle& o = oracle_of(p);
    o.headers_complete = true;
    o.status = p->status_code;
    o.major = p->http_major;
    o.minor = p->http_minor;
    // A HEAD response's Transfer-Encoding announces what a GET would get.
    o.chunked = (p->flags & F_CHUNKED) != 0 && o.method != "HEAD";
    // http-parser's way to be told the request method: 1 = no body (HEAD),
    // 2 = no body and the connection is upgraded (a 2xx to CONNECT).
    if (o.method == "CONNECT" && p->status_code / 100 == 2) return 2;
    return o.method == "HEAD" ? 1 : 0;
  };
  s.on_body = [](http_parser* p, const char* at, size_t n) {
    oracle_of(p).body.append(at, n);
    return 0;
  };
  s.on_message_complete = [](http_parser* p) {
    Oracle& o = oracle_of(p);
    o.message_complete = true;
    o.keep_alive = http_should_keep_alive(p) != 0;
    o.upgrade = p->upgrade != 0;
    return 0;
  };

  Oracle o;
  o.method = std::string(method);
  http_parser parser;
  http_parser_init(&parser, HTTP_RESPONSE);
  parser.data = &o;
  http_parser_execute(&parser, &s, raw.data(), raw.size());
  if (HTTP_PARSER_ERRNO(&parser) != HPE_OK) {
    o.rejects = true;
    return o;
  }
  o.complete_before_eof = o.message_complete;
  http_parser_execute(&parser, &s, nullptr, 0);  // EOF
  if (HTTP_PARSER_ERRNO(&parser) != HPE_OK) o.rejects = true;
  for (auto& [name, value] : o.headers) {  // RFC 9110 §5.5: trailing OWS is not in the value
    while (!value.empty() && (value.back() == ' ' || value.back() == '\t')) value.pop_back();
  }
  return o;
}

using Body = ResponseFraming::Body;

struct Ours {
  ParseResult head_result;
  ResponseHead head;
  ResponseFramingResult framing;
  std::array<Header, 64> storage;
};

void parse_ours(std::string_view raw, std::string_view method, Ours& out) {
  out.head_result = parse_response_head(raw, out.head, out.storage);
  if (out.head_result.status == ParseStatus::complete) {
    out.framing = analyze_response(out.head, method);
  }
}

struct Valid {
  std::string raw;  // head and body
  const char* method;
};

const std::vector<Valid>& valid_corpus() {
  static const std::vector<Valid> corpus = {
      {"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 5\r\n\r\nhello", "GET"},
      {"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n", "GET"},
      {"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3;a=b\r\nabc\r\n0\r\nT: v\r\n\r\n",
       "GET"},
      {"HTTP/1.1 200 OK\r\nServer: x\r\n\r\nuntil the end", "GET"},
      {"HTTP/1.0 200 OK\r\n\r\nold server body", "GET"},
      {"HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 2\r\n\r\nok", "GET"},
      {"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\nok", "GET"},
      {"HTTP/1.1 204 No Content\r\nDate: Mon, 01 Jan 2024 00:00:00 GMT\r\n\r\n", "DELETE"},
      {"HTTP/1.1 304 Not Modified\r\nETag: \"v1\"\r\n\r\n", "GET"},
      {"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n", "HEAD"},
      {"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", "HEAD"},
      {"HTTP/1.1 100 Continue\r\n\r\n", "POST"},
      {"HTTP/1.1 103 Early Hints\r\nLink: </style.css>; rel=preload\r\n\r\n", "GET"},
      {"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
       "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n",
       "GET"},
      {"HTTP/1.1 200 Connection Established\r\n\r\n", "CONNECT"},
      {"HTTP/1.1 404 Not Found\r\nContent-Length: 9\r\n\r\nnot found", "GET"},
      {"HTTP/1.1 200\r\nContent-Length: 0\r\n\r\n", "GET"},
      {"HTTP/1.1 302 Found\nLocation: /next\nContent-Length: 0\n\n", "GET"},
      {"HTTP/1.1 200 OK\r\nX-A:   spaced   out   \r\nX-B:\t\ttabbed\t\r\nX-C:\r\nContent-Length: "
       "0\r\n\r\n",
       "GET"},
      {"HTTP/1.1 200 OK\r\nSet-Cookie: a=1; Path=/; HttpOnly\r\nSet-Cookie: b=2\r\n"
       "Content-Length: 0\r\n\r\n",
       "GET"},
      {"HTTP/1.1 500 Internal Server Error\r\nContent-Length: 5, 5\r\n\r\nerror", "GET"},
  };
  return corpus;
}

// RFC 9112 §4, §6.3: both parsers read the same status-line and fields and
// delimit the body alike.
TEST(ResponseParserDiff, ValidCorpusReadsAndFramesTheSame) {
  for (const Valid& v : valid_corpus()) {
    SCOPED_TRACE(v.raw);
    auto ours = std::make_unique<Ours>();
    parse_ours(v.raw, v.method, *ours);
    ASSERT_EQ(ours->head_result.status, ParseStatus::complete) << ours->head_result.error.reason;
    ASSERT_TRUE(ours->framing.ok()) << ours->framing.error.reason;
    const ResponseFraming& f = ours->framing.framing;

    Oracle o = run_oracle(v.raw, v.method);
    // http-parser refuses "5, 5" lists; RFC 9110 §8.6 lets a recipient accept them.
    if (v.raw.find("Content-Length: 5, 5") != std::string::npos) {
      EXPECT_TRUE(o.rejects);
      continue;
    }
    ASSERT_FALSE(o.rejects);
    ASSERT_TRUE(o.headers_complete);
    EXPECT_EQ(ours->head.status, o.status);
    EXPECT_EQ(ours->head.reason, o.reason);
    EXPECT_EQ(ours->head.version_major, o.major);
    EXPECT_EQ(ours->head.version_minor, o.minor);
    Fields fields;
    for (const Header& h : ours->head.headers) fields.emplace_back(h.name, h.value);
    EXPECT_EQ(fields, o.headers);

    const std::string_view body = std::string_view(v.raw).substr(ours->head_result.consumed);
    EXPECT_EQ(f.body == Body::chunked, o.chunked);
    EXPECT_EQ(f.body == Body::until_close, !o.complete_before_eof);
    EXPECT_EQ(f.body == Body::tunnel, o.upgrade);
    if (f.body == Body::content_length) {
      EXPECT_EQ(o.body, body.substr(0, f.content_length));
    } else if (f.body == Body::until_close) {
      EXPECT_EQ(o.body, body);
    } else if (f.body != Body::chunked) {
      EXPECT_EQ(o.body, "");
    }
    // http-parser says keep-alive for an upgrade; the connection is no
    // longer HTTP, so we say it cannot carry another request.
    if (f.body != Body::tunnel) {
      EXPECT_EQ(f.keep_alive, o.keep_alive);
    }
  }
}

struct Disputed {
  const char* rule;
  std::string raw;
  const char* ours;          // our reason, or "" when we accept it
  bool http_parser_rejects;  // as observed with http-parser 2.9.4
  const char* why;           // when the verdicts differ: why
};

std::string resp(std::string_view fields, std::string_view start = "HTTP/1.1 200 OK") {
  return std::string(start) + "\r\n" + std::string(fields) + "\r\n";
}

const std::vector<Disputed>& agreement_table() {
  static const std::vector<Disputed> table = {
      {"RFC 9112 §6.3 CL + TE", resp("Content-Length: 5\r\nTransfer-Encoding: chunked\r\n"),
       "both Content-Length and Transfer-Encoding", true, ""},
      {"RFC 9110 §8.6 conflicting CL", resp("Content-Length: 5\r\nContent-Length: 6\r\n"),
       "conflicting Content-Length values", true, ""},
      {"RFC 9110 §8.6 CL: +5", resp("Content-Length: +5\r\n"), "invalid Content-Length", true, ""},
      {"RFC 9110 §8.6 CL overflow", resp("Content-Length: 99999999999999999999\r\n"),
       "Content-Length too large", true, ""},
      {"RFC 9112 §6.1 gzip, chunked", resp("Transfer-Encoding: gzip, chunked\r\n"),
       "unsupported transfer encoding", true, ""},
      {"RFC 9112 §6.1 TE in HTTP/1.0", resp("Transfer-Encoding: chunked\r\n", "HTTP/1.0 200 OK"),
       "Transfer-Encoding in HTTP/1.0 response", true, ""},
      {"RFC 9112 §6.3 chunked, gzip", resp("Transfer-Encoding: chunked, gzip\r\n"),
       "unsupported transfer encoding", false,
       "reads the body until close (§6.3 rule 4 for responses); we cannot decode gzip"},
      {"RFC 9112 §5.2 obs-fold", resp("X: a\r\n b\r\n"), "obsolete line folding in header section",
       false,
       "accepts obs-fold; RFC 9112 §5.2 lets a recipient reject it, as the request parser does"},
      {"RFC 9112 §5.1 space before colon", resp("Content-Length : 5\r\n"),
       "whitespace between header name and colon", true, ""},
      {"RFC 9110 §5.5 NUL in value", resp("X: a\0b\r\n"s), "invalid character in header value",
       true, ""},
      {"RFC 9112 §2.2 bare CR in value", resp("X: a\rb\r\n"), "invalid character in header value",
       true, ""},
      {"RFC 9112 §4 two-digit status", "HTTP/1.1 20 OK\r\n\r\n", "malformed status code", false,
       "reads a two-digit status code; RFC 9112 §4 requires three digits"},
      {"RFC 9110 §15 status 600", "HTTP/1.1 600 X\r\n\r\n", "status code out of range", false,
       "accepts any 3-digit code; RFC 9110 §15 ends the range at 599"},
      {"RFC 9112 §4 status 099", "HTTP/1.1 099 X\r\n\r\n", "status code out of range", false,
       "accepts any 3-digit code; RFC 9110 §15 starts the range at 100"},
      {"RFC 9112 §2.3 lowercase http", "http/1.1 200 OK\r\n\r\n", "not an HTTP/1.x status-line",
       true, ""},
      {"RFC 9110 §2.5 HTTP/2.0 on HTTP/1.1", "HTTP/2.0 200 OK\r\n\r\n",
       "not an HTTP/1.x status-line", false,
       "reports major version 2; an HTTP/1.1 client cannot read an HTTP/2 response"},
      {"RFC 9112 §4 CTL in reason", "HTTP/1.1 200 O\x01K\r\n\r\n",
       "invalid character in reason-phrase", false,
       "accepts control characters in the reason-phrase"},
      {"RFC 9112 §4 no reason, no SP", "HTTP/1.1 200\r\nContent-Length: 0\r\n\r\n", "", false, ""},
  };
  return table;
}

// Our verdict per rule (named in each row), and where http-parser differs.
TEST(ResponseParserDiff, AgreementTableOnInvalidResponses) {
  int disagreements = 0;
  for (const Disputed& d : agreement_table()) {
    SCOPED_TRACE(d.rule);
    auto ours = std::make_unique<Ours>();
    parse_ours(d.raw, "GET", *ours);
    std::string_view our_reason;
    if (ours->head_result.status == ParseStatus::error) {
      our_reason = ours->head_result.error.reason;
    } else if (ours->head_result.status == ParseStatus::complete && !ours->framing.ok()) {
      our_reason = ours->framing.error.reason;
    }
    EXPECT_EQ(our_reason, d.ours);
    const bool theirs = run_oracle(d.raw, "GET").rejects;
    // The table stays true: a newer http-parser that changes its mind shows here.
    EXPECT_EQ(theirs, d.http_parser_rejects);
    const bool we_reject = !our_reason.empty();
    if (we_reject != theirs) {
      ++disagreements;
      EXPECT_STRNE(d.why, "") << "undocumented disagreement";
      std::printf("[ differs ] %-40s ours=%s http-parser=%s: %s\n", d.rule,
                  we_reject ? "rejects" : "accepts", theirs ? "rejects" : "accepts", d.why);
    }
  }
  std::printf("[ summary ] %d of %zu disputed responses judged differently by http-parser\n",
              disagreements, agreement_table().size());
}

}  // namespace
}  // namespace gofer::http
