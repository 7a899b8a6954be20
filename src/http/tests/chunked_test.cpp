// Tests of ChunkedDecoder (RFC 9112 §7.1): valid bodies split at every byte,
// trailers, and malformed framing. Each case names the rule it checks.
#include <gtest/gtest.h>

#include <array>
#include <string>
#include <utility>
#include <vector>

#include "gofer/http/parser.h"

namespace gofer::http {
namespace {

using namespace std::string_literals;
using Fields = std::vector<std::pair<std::string, std::string>>;

struct Decoded {
  ChunkedStatus status = ChunkedStatus::incomplete;
  std::string body;
  size_t consumed = 0;  // of the whole input, when done
  Fields trailers;
  int error_status = 0;
  std::string reason;

  bool operator==(const Decoded&) const = default;
};

std::ostream& operator<<(std::ostream& os, const Decoded& d) {
  return os << "{status=" << static_cast<int>(d.status) << " body=" << d.body.size()
            << "B consumed=" << d.consumed << " trailers=" << d.trailers.size()
            << " error=" << d.error_status << " '" << d.reason << "'}";
}

// Plays a connection: input arrives in pieces ending at `cuts`; unconsumed
// bytes are kept, in a freshly allocated buffer, for the next call.
Decoded decode_in_pieces(std::string_view input, const std::vector<size_t>& cuts,
                         const ChunkedLimits& limits = {}) {
  ChunkedDecoder decoder(limits);
  std::array<Header, 8> storage;
  Decoded d;
  std::string pending;
  size_t dropped = 0;  // input bytes consumed so far
  size_t fed = 0;
  std::vector<size_t> ends = cuts;
  ends.push_back(input.size());
  for (size_t end : ends) {
    pending = pending + std::string(input.substr(fed, end - fed));
    fed = end;
    for (;;) {
      ChunkedResult r = decoder.decode(pending, storage);
      EXPECT_LE(r.consumed, pending.size());
      dropped += r.consumed;
      d.status = r.status;
      if (r.status == ChunkedStatus::data) {
        EXPECT_FALSE(r.data.empty());
        EXPECT_GE(r.data.data(), pending.data());
        EXPECT_LE(r.data.data() + r.data.size(), pending.data() + r.consumed);
        d.body += r.data;
      }
      if (r.status == ChunkedStatus::done) {
        EXPECT_TRUE(decoder.done());
        d.consumed = dropped;
        for (const Header& h : r.trailers) d.trailers.emplace_back(h.name, h.value);
        return d;
      }
      if (r.status == ChunkedStatus::error) {
        d.error_status = r.error.status;
        d.reason = std::string(r.error.reason);
        return d;
      }
      pending = pending.substr(r.consumed);
      if (r.status == ChunkedStatus::incomplete) break;
    }
  }
  return d;
}

Decoded decode_whole(std::string_view input, const ChunkedLimits& limits = {}) {
  return decode_in_pieces(input, {}, limits);
}

void expect_split_invariant(std::string_view input, const ChunkedLimits& limits = {}) {
  const Decoded whole = decode_whole(input, limits);
  for (size_t k = 1; k < input.size(); ++k) {
    ASSERT_EQ(decode_in_pieces(input, {k}, limits), whole) << "split at " << k;
  }
  std::vector<size_t> bytes;
  for (size_t k = 1; k < input.size(); ++k) bytes.push_back(k);
  ASSERT_EQ(decode_in_pieces(input, bytes, limits), whole) << "one byte at a time";
}

struct ValidBody {
  const char* rule;
  std::string input;
  std::string body;
  Fields trailers;
};

std::vector<ValidBody> valid_bodies() {
  std::string big(5000, 'b');
  return {
      {"§7.1 one chunk", "5\r\nhello\r\n0\r\n\r\n", "hello", {}},
      {"§7.1 no chunk at all", "0\r\n\r\n", "", {}},
      {"§7.1 several chunks; data may hold CRLF",
       "3\r\nab\n\r\n4\r\n\r\ncd\r\n1\r\n!\r\n0\r\n\r\n",
       "ab\n\r\ncd!",
       {}},
      {"§7.1 HEXDIG is case-insensitive; leading zeros",
       "A\r\n0123456789\r\n00a\r\nabcdefghij\r\n000\r\n\r\n",
       "0123456789abcdefghij",
       {}},
      {"§7.1 large chunk", "1388\r\n" + big + "\r\n0\r\n\r\n", big, {}},
      {"§7.1.1 extensions: names, token and quoted values",
       "5;a;b=c;d=\"q \\\" ;x\"\r\nhello\r\n0;last\r\n\r\n",
       "hello",
       {}},
      {"§7.1.1 BWS around ';' and '='", "5 \t; a = b ;c\r\nhello\r\n0\r\n\r\n", "hello", {}},
      {"§7.1.1 quoted value with obs-text and escaped HTAB",
       "1;n=\"\xc3\xa9\\\t\"\r\nx\r\n0\r\n\r\n",
       "x",
       {}},
      {"§7.1.2 trailer fields",
       "1\r\nx\r\n0\r\nX-Sum:  abc \r\nY:\r\n\r\n",
       "x",
       {{"X-Sum", "abc"}, {"Y", ""}}},
  };
}

// RFC 9112 §7.1: each valid body decodes to its data and trailers (rule per case).
TEST(ChunkedDecoder, ValidBodies) {
  for (const ValidBody& c : valid_bodies()) {
    SCOPED_TRACE(c.rule);
    Decoded d = decode_whole(c.input);
    ASSERT_EQ(d.status, ChunkedStatus::done) << d;
    EXPECT_EQ(d.body, c.body);
    EXPECT_EQ(d.consumed, c.input.size());
    EXPECT_EQ(d.trailers, c.trailers);
  }
}

// Decoding must not depend on where reads happen to end.
TEST(ChunkedDecoder, ValidBodiesSplitAnywhere) {
  for (const ValidBody& c : valid_bodies()) {
    SCOPED_TRACE(c.rule);
    expect_split_invariant(c.input);
  }
}

// RFC 9112 §7.1: the body ends at the last chunk's trailer section; what
// follows (a pipelined request) is not consumed, and nothing more ever is.
TEST(ChunkedDecoder, StopsAtTheEndOfTheBody) {
  ChunkedDecoder decoder;
  const std::string input = "1\r\nx\r\n0\r\n\r\nGET / HTTP/1.1\r\n";
  std::string_view rest = input;
  ChunkedResult r;
  do {
    r = decoder.decode(rest);
    rest.remove_prefix(r.consumed);
  } while (r.status == ChunkedStatus::data);
  EXPECT_EQ(r.status, ChunkedStatus::done);
  EXPECT_EQ(rest, "GET / HTTP/1.1\r\n");
  r = decoder.decode(rest);
  EXPECT_EQ(r.status, ChunkedStatus::done);
  EXPECT_EQ(r.consumed, 0u);
  decoder.reset();
  EXPECT_FALSE(decoder.done());
}

// RFC 9112 §7.1: a chunk-size may be as large as 2^63-1; the data then
// streams through in pieces as it arrives.
TEST(ChunkedDecoder, HugeChunkStreams) {
  ChunkedDecoder decoder;
  ChunkedResult r = decoder.decode("7fffffffffffffff\r\nabc");
  EXPECT_EQ(r.status, ChunkedStatus::data);
  EXPECT_EQ(r.data, "abc");
  r = decoder.decode("def");
  EXPECT_EQ(r.data, "def");
}

// §7.1.2: trailers beyond the caller's storage are checked but not returned.
TEST(ChunkedDecoder, TrailersBeyondStorageAreDropped) {
  ChunkedDecoder decoder;
  std::array<Header, 1> storage;
  ChunkedResult r = decoder.decode("0\r\nA: 1\r\nB: 2\r\n\r\n", storage);
  ASSERT_EQ(r.status, ChunkedStatus::done);
  ASSERT_EQ(r.trailers.size(), 1u);
  EXPECT_EQ(r.trailers[0].name, "A");
}

// API contract: a caller that drops held-back trailer bytes gets a rescan
// of what it passes, never a read outside it.
TEST(ChunkedDecoder, ShorterTrailerInputIsRescanned) {
  ChunkedDecoder decoder;
  EXPECT_EQ(decoder.decode("0\r\nA: 1\r\nB: 2").status, ChunkedStatus::incomplete);
  std::array<Header, 4> storage;
  ChunkedResult r = decoder.decode("C: 3\r\n\r\n", storage);
  ASSERT_EQ(r.status, ChunkedStatus::done);
  ASSERT_EQ(r.trailers.size(), 1u);
  EXPECT_EQ(r.trailers[0].name, "C");
}

// Errors are sticky: a decoder that failed keeps failing.
TEST(ChunkedDecoder, ErrorIsSticky) {
  ChunkedDecoder decoder;
  EXPECT_EQ(decoder.decode("z").status, ChunkedStatus::error);
  ChunkedResult r = decoder.decode("5\r\nhello\r\n0\r\n\r\n");
  EXPECT_EQ(r.status, ChunkedStatus::error);
  EXPECT_EQ(r.error.status, 400);
}

struct InvalidBody {
  const char* rule;
  std::string input;
  int status;
};

std::vector<InvalidBody> invalid_bodies() {
  std::string many_trailers = "0\r\n";
  for (int i = 0; i < 33; ++i) many_trailers += "T: v\r\n";
  many_trailers += "\r\n";
  return {
      {"§7.1 chunk-size is 1*HEXDIG: empty", "\r\nx\r\n0\r\n\r\n", 400},
      {"§7.1 chunk-size: no sign", "+1\r\nx\r\n0\r\n\r\n", 400},
      {"§7.1 chunk-size: no minus", "-1\r\nx\r\n0\r\n\r\n", 400},
      {"§7.1 chunk-size: no 0x prefix", "0x1\r\nx\r\n0\r\n\r\n", 400},
      {"§7.1 chunk-size: no leading whitespace", " 1\r\nx\r\n0\r\n\r\n", 400},
      {"§7.1 chunk-size: no trailing whitespace", "1 \r\nx\r\n0\r\n\r\n", 400},
      {"§7.1 chunk-size: not hex", "g\r\nx\r\n0\r\n\r\n", 400},
      {"§7.1 chunk-size: junk after digits", "1x\r\nx\r\n0\r\n\r\n", 400},
      {"§7.1 chunk-size: 2^63 overflows", "8000000000000000\r\n", 400},
      {"§7.1 chunk-size: 2^64 and more overflow", "ffffffffffffffffffff\r\n", 400},
      {"§7.1 chunk-size line: bare LF (CVE-2025-22871)", "1\nx\r\n0\r\n\r\n", 400},
      {"§7.1 chunk-size line: bare CR", "1\rx\r\n0\r\n\r\n", 400},
      {"§7.1 data must end in CRLF: bare LF", "1\r\nx\n0\r\n\r\n", 400},
      {"§7.1 data must end in CRLF: longer than its size", "1\r\nxy\r\n0\r\n\r\n", 400},
      {"§7.1 data must end in CRLF: CR alone", "1\r\nx\r0\r\n\r\n", 400},
      {"§7.1 last-chunk line: bare LF", "0\n\r\n", 400},
      {"§7.1.1 extension: empty name", "1;\r\nx\r\n0\r\n\r\n", 400},
      {"§7.1.1 extension: name must be a token", "1;a(b)\r\nx\r\n0\r\n\r\n", 400},
      {"§7.1.1 extension: empty value", "1;a=\r\nx\r\n0\r\n\r\n", 400},
      {"§7.1.1 extension: whitespace inside a token", "1;a=b c\r\nx\r\n0\r\n\r\n", 400},
      {"§7.1.1 extension: trailing whitespace", "1;a=b \r\nx\r\n0\r\n\r\n", 400},
      {"§7.1.1 extension: unterminated quoted-string", "1;a=\"b\r\nx\r\n0\r\n\r\n", 400},
      {"§7.1.1 extension: junk after quoted-string", "1;a=\"b\"c\r\nx\r\n0\r\n\r\n", 400},
      {"§7.1.1 extension: NUL", "1;a=\0\r\nx\r\n0\r\n\r\n"s, 400},
      {"§7.1.1 extension: NUL in quoted-string", "1;a=\"\0\"\r\nx\r\n0\r\n\r\n"s, 400},
      {"§7.1.1 extension: bare LF ends it", "1;a=b\nx\r\n0\r\n\r\n", 400},
      {"§7.1.1 extension line bounded", "1;a=" + std::string(1100, 'b') + "\r\nx\r\n0\r\n\r\n",
       400},
      {"§7.1.2 trailer: whitespace before colon", "0\r\nX : y\r\n\r\n", 400},
      {"§7.1.2 trailer: obs-fold", "0\r\nX: y\r\n z\r\n\r\n", 400},
      {"§7.1.2 trailer: NUL in value", "0\r\nX: a\0b\r\n\r\n"s, 400},
      {"§7.1.2 trailer: bare CR in value", "0\r\nX: a\rb\r\n\r\n", 400},
      {"§7.1.2 trailer: bare LF ends a field", "0\r\nX: y\n\r\n", 400},
      {"§7.1.2 trailer: bare LF as the empty line", "0\r\n\n", 400},
      {"§7.1.2 trailer: no colon", "0\r\nX\r\n\r\n", 400},
      {"§7.1.2 trailer: too many fields", many_trailers, 431},
      {"§7.1.2 trailer: section too large", "0\r\nX: " + std::string(16384, 'y') + "\r\n\r\n", 431},
  };
}

// RFC 9112 §7.1: each malformed body is refused with its status (rule per case).
TEST(ChunkedDecoder, InvalidBodies) {
  for (const InvalidBody& c : invalid_bodies()) {
    Decoded d = decode_whole(c.input);
    EXPECT_EQ(d.status, ChunkedStatus::error) << c.rule << " " << d;
    EXPECT_EQ(d.error_status, c.status) << c.rule << " " << d.reason;
  }
}

// An error is the same, with the same reason, however the bytes arrive.
TEST(ChunkedDecoder, InvalidBodiesSplitAnywhere) {
  for (const InvalidBody& c : invalid_bodies()) {
    SCOPED_TRACE(c.rule);
    expect_split_invariant(c.input);
  }
}

// §7.1.2: a trailer section too large is refused before its end arrives.
TEST(ChunkedDecoder, EndlessTrailerHitsTheLimit) {
  ChunkedLimits limits;
  limits.max_trailer_bytes = 100;
  std::string input = "0\r\nX: " + std::string(95, 'y');
  EXPECT_EQ(decode_whole(input, limits).status, ChunkedStatus::incomplete);
  input += "yyy";
  EXPECT_EQ(decode_whole(input, limits).error_status, 431);
}

}  // namespace
}  // namespace gofer::http
