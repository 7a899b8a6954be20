// libFuzzer target for the HTTP/1.1 response parser: status-line and header
// section, response framing, and the chunked body after it, fed arbitrary
// bytes.
//
// Besides the sanitizers' memory checks, it checks the promises a client
// relies on:
//   - consumed never exceeds the input; every view lies inside the input;
//   - every error is 502 with a reason;
//   - the result does not depend on how the input is split across calls
//     (split at a point chosen by the first byte), and a prefix never
//     contradicts the whole;
//   - the framing is coherent: a body of content_length has a length, a
//     body until close or a tunnel never lets the connection be reused, only
//     a 1xx is interim, and HEAD, 204 and 304 responses have no body.
// Every buffer handed to the parser is a heap copy of exactly its size, so
// ASan catches a read one byte too far.
//
// Input format: one steering byte (bit 0: tight limits; bits 1-2: the
// request method, GET/HEAD/CONNECT/POST; all bits: where to split), then the
// bytes of a response. The seeds in corpus/http_response/ follow it.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "fuzz_check.h"
#include "gofer/http/parser.h"

namespace {

using namespace gofer::http;
using gofer::fuzz::ExactCopy;
using gofer::fuzz::inside;

struct Head {
  ParseStatus status;
  size_t consumed;
  int error_status;
  std::string reason;
  int minor = 0, code = 0;
  std::string phrase;
  std::vector<std::pair<std::string, std::string>> headers;
  bool operator==(const Head&) const = default;
};

Head summarize(std::string_view buf, const ParseResult& r, const ResponseHead& head,
               size_t max_headers) {
  CHECK(r.consumed <= buf.size());
  Head h{r.status, r.consumed, r.error.status, std::string(r.error.reason), 0, 0, {}, {}};
  if (r.status == ParseStatus::error) CHECK(r.error.status == 502 && !r.error.reason.empty());
  if (r.status != ParseStatus::complete) {
    CHECK(r.consumed == 0);
    return h;
  }
  CHECK(r.consumed > 0 && buf[r.consumed - 1] == '\n');
  CHECK(head.version_major == 1 && head.status >= 100 && head.status <= 599);
  CHECK(inside(head.reason, buf));
  CHECK(head.headers.size() <= max_headers);
  h.minor = head.version_minor;
  h.code = head.status;
  h.phrase = head.reason;
  for (const Header& f : head.headers) {
    CHECK(inside(f.name, buf) && inside(f.value, buf) && !f.name.empty());
    h.headers.emplace_back(f.name, f.value);
  }
  return h;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const uint8_t knob = data[0];
  const std::string_view input(reinterpret_cast<const char*>(data + 1), size - 1);
  const size_t split = input.empty() ? 0 : (static_cast<size_t>(knob) * 2654435761u) % input.size();
  static constexpr std::string_view kMethods[] = {"GET", "HEAD", "CONNECT", "POST"};
  const std::string_view method = kMethods[(knob >> 1) & 3];

  ParseLimits limits;
  if (knob & 1) {
    limits.max_header_bytes = 16 + (knob >> 1);
    limits.max_headers = knob & 6;
  }
  Header storage[16];
  const size_t max_headers = std::min<size_t>(16, limits.max_headers);

  ExactCopy whole_buf(input);
  ResponseHead whole_head;
  ParseResult whole_r = parse_response_head(whole_buf.view(), whole_head, storage, limits);
  const Head whole = summarize(whole_buf.view(), whole_r, whole_head, max_headers);

  if (whole_r.status == ParseStatus::complete) {
    ResponseFramingResult f = analyze_response(whole_head, method);
    if (!f.ok()) {
      CHECK(f.error.status == 502 && !f.error.reason.empty());
    } else {
      using Body = ResponseFraming::Body;
      const ResponseFraming& fr = f.framing;
      CHECK((fr.body == Body::content_length) == (fr.content_length > 0));
      CHECK(fr.content_length <= static_cast<uint64_t>(INT64_MAX));
      if (fr.body == Body::until_close || fr.body == Body::tunnel) CHECK(!fr.keep_alive);
      CHECK(!fr.interim || (whole_head.status < 200 && fr.body == Body::none));
      if (method == "HEAD" || whole_head.status == 204 || whole_head.status == 304) {
        CHECK(fr.body == Body::none || fr.body == Body::tunnel);
      }
      if (fr.body == Body::chunked) {
        // The body after the head, through the decoder, in two pieces.
        std::string_view body = input.substr(whole_r.consumed);
        ChunkedDecoder decoder;
        std::string pending;
        size_t fed = 0;
        for (size_t end : {body.size() / 2, body.size()}) {
          pending += body.substr(fed, end - fed);
          fed = end;
          for (;;) {
            ExactCopy buf(pending);
            ChunkedResult c = decoder.decode(buf.view(), storage);
            CHECK(c.consumed <= buf.size);
            pending.erase(0, c.consumed);
            if (c.status != ChunkedStatus::data) break;
          }
        }
      }
    }
  }

  // Two calls: the prefix must not contradict the whole, and the resumed
  // call must agree with it.
  HeadScan scan;
  ExactCopy prefix_buf(input.substr(0, split));
  ResponseHead head;
  ParseResult r = parse_response_head(prefix_buf.view(), head, storage, limits, scan);
  Head prefix = summarize(prefix_buf.view(), r, head, max_headers);
  if (r.status == ParseStatus::incomplete) {
    ExactCopy again_buf(input);
    ResponseHead again_head;
    ParseResult again = parse_response_head(again_buf.view(), again_head, storage, limits, scan);
    CHECK(summarize(again_buf.view(), again, again_head, max_headers) == whole);
  } else {
    CHECK(prefix == whole);
  }
  return 0;
}
