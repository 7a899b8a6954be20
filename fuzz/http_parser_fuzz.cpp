// libFuzzer target for the HTTP/1.1 parser: request head, framing analysis
// and chunked decoder, fed arbitrary bytes.
//
// Besides the sanitizers' memory checks, it checks the promises the server
// relies on:
//   - consumed never exceeds the input; every view lies inside the input;
//   - errors carry one of the documented statuses and a reason;
//   - the result does not depend on how the input is split across calls
//     (the input is split at a point chosen by the first byte);
//   - a prefix never contradicts the whole: it is incomplete, or it reports
//     what the whole reports.
// Every buffer handed to the parser is a heap copy of exactly its size, so
// ASan catches a read one byte too far.
//
// Input format: one steering byte (odd: tight limits; all bits: where to
// split), then the bytes of a request. The seeds in corpus/http_parser/
// follow it.
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <initializer_list>
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

bool allowed_status(int status, std::initializer_list<int> allowed) {
  for (int s : allowed) {
    if (s == status) return true;
  }
  return false;
}

// An owned summary of a head parse, comparable across buffers.
struct Head {
  ParseStatus status;
  size_t consumed;
  int error_status;
  std::string reason;
  std::string method, target;
  int minor;
  std::vector<std::pair<std::string, std::string>> headers;
  bool operator==(const Head&) const = default;
};

Head summarize(std::string_view buf, const ParseResult& r, const RequestHead& head,
               size_t max_headers) {
  CHECK(r.consumed <= buf.size());
  Head h{r.status, r.consumed, r.error.status, std::string(r.error.reason), {}, {}, 0, {}};
  if (r.status == ParseStatus::error) {
    CHECK(allowed_status(r.error.status, {400, 414, 431, 505}));
    CHECK(!r.error.reason.empty());
  }
  if (r.status != ParseStatus::complete) {
    CHECK(r.consumed == 0);
    return h;
  }
  CHECK(r.consumed > 0 && buf[r.consumed - 1] == '\n');
  CHECK(inside(head.method, buf) && !head.method.empty());
  CHECK(inside(head.target, buf) && !head.target.empty());
  CHECK(head.version_major == 1);
  CHECK(head.headers.size() <= max_headers);
  h.method = head.method;
  h.target = head.target;
  h.minor = head.version_minor;
  for (const Header& f : head.headers) {
    CHECK(inside(f.name, buf) && inside(f.value, buf) && !f.name.empty());
    CHECK(f.name.data() + f.name.size() <= buf.data() + r.consumed);
    h.headers.emplace_back(f.name, f.value);
  }
  return h;
}

// An owned summary of a chunked decode over input delivered in pieces.
struct Body {
  ChunkedStatus status = ChunkedStatus::incomplete;
  std::string data;
  size_t consumed = 0;
  int error_status = 0;
  std::string reason;
  std::vector<std::pair<std::string, std::string>> trailers;
  bool operator==(const Body&) const = default;
};

Body decode(std::string_view input, const std::vector<size_t>& cuts, const ChunkedLimits& limits) {
  ChunkedDecoder decoder(limits);
  Header storage[4];
  Body b;
  std::string pending;
  size_t fed = 0;
  std::vector<size_t> ends = cuts;
  ends.push_back(input.size());
  for (size_t end : ends) {
    pending += input.substr(fed, end - fed);
    fed = end;
    for (;;) {
      ExactCopy buf(pending);
      ChunkedResult r = decoder.decode(buf.view(), storage);
      CHECK(r.consumed <= buf.size);
      b.consumed += r.consumed;
      b.status = r.status;
      if (r.status == ChunkedStatus::data) {
        CHECK(!r.data.empty() && inside(r.data, buf.view().substr(0, r.consumed)));
        b.data += r.data;
      } else if (r.status == ChunkedStatus::done) {
        CHECK(decoder.done());
        for (const Header& h : r.trailers) {
          CHECK(inside(h.name, buf.view().substr(0, r.consumed)) &&
                inside(h.value, buf.view().substr(0, r.consumed)));
          b.trailers.emplace_back(h.name, h.value);
        }
        return b;
      } else if (r.status == ChunkedStatus::error) {
        CHECK(allowed_status(r.error.status, {400, 431}) && !r.error.reason.empty());
        b.error_status = r.error.status;
        b.reason = r.error.reason;
        return b;
      } else {
        CHECK(r.data.empty());
      }
      pending.erase(0, r.consumed);
      if (r.status == ChunkedStatus::incomplete) break;
    }
  }
  return b;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  // The first byte steers: low bits pick tight or default limits, the rest
  // where the input is split.
  const uint8_t knob = data[0];
  const std::string_view input(reinterpret_cast<const char*>(data + 1), size - 1);
  const size_t split = input.empty() ? 0 : (static_cast<size_t>(knob) * 2654435761u) % input.size();

  ParseLimits limits;
  ChunkedLimits chunked_limits;
  if (knob & 1) {
    limits.max_header_bytes = 16 + (knob >> 1);
    limits.max_target_bytes = knob >> 3;
    limits.max_headers = knob & 6;
    chunked_limits.max_chunk_line_bytes = 4 + (knob >> 4);
    chunked_limits.max_trailer_bytes = 8 + (knob >> 2);
    chunked_limits.max_trailers = knob & 6;
  }
  Header storage[16];
  const size_t max_headers = std::min<size_t>(16, limits.max_headers);

  // Head, in one call.
  ExactCopy whole_buf(input);
  RequestHead whole_head;
  ParseResult whole_r = parse_request_head(whole_buf.view(), whole_head, storage, limits);
  const Head whole = summarize(whole_buf.view(), whole_r, whole_head, max_headers);

  // Framing, when there is a head to analyse.
  std::string_view body = input;
  if (whole_r.status == ParseStatus::complete) {
    FramingResult f = analyze_request(whole_head);
    if (!f.ok()) {
      CHECK(allowed_status(f.error.status, {400, 417, 501}) && !f.error.reason.empty());
    } else {
      const Framing& fr = f.framing;
      CHECK(fr.body != Framing::Body::content_length || fr.content_length > 0);
      CHECK(fr.content_length <= static_cast<uint64_t>(INT64_MAX));
      CHECK(fr.host.data() == nullptr || inside(fr.host, whole_buf.view()));
      if (fr.body == Framing::Body::chunked) body = input.substr(whole_r.consumed);
    }
  }

  // Head, in two calls: the prefix must not contradict the whole, and the
  // resumed call must agree with it.
  {
    HeadScan scan;
    ExactCopy prefix_buf(input.substr(0, split));
    RequestHead head;
    ParseResult r = parse_request_head(prefix_buf.view(), head, storage, limits, scan);
    Head prefix = summarize(prefix_buf.view(), r, head, max_headers);
    if (r.status == ParseStatus::incomplete) {
      CHECK(scan.scanned == prefix_buf.size);
      ExactCopy again_buf(input);
      RequestHead again_head;
      ParseResult again = parse_request_head(again_buf.view(), again_head, storage, limits, scan);
      CHECK(summarize(again_buf.view(), again, again_head, max_headers) == whole);
    } else {
      CHECK(prefix == whole);
    }
  }

  // Chunked body, whole and split.
  const Body body_whole = decode(body, {}, chunked_limits);
  if (!body.empty()) {
    CHECK(decode(body, {split % body.size()}, chunked_limits) == body_whole);
  }
  if (body.size() <= 64) {
    std::vector<size_t> bytes;
    for (size_t k = 1; k < body.size(); ++k) bytes.push_back(k);
    CHECK(decode(body, bytes, chunked_limits) == body_whole);
  }
  return 0;
}
