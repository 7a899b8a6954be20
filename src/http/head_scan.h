// The head scanner shared by the request and the response parser: finds
// lines, skips a few empty lines before the start line, checks every field
// line with syntax::parse_field_line, enforces the size and count limits,
// and resumes where the previous call stopped (HeadScan). What differs
// between a request-line and a status-line comes in as a Rules type:
//
//   struct Rules {
//     using Head = RequestHead;  // or ResponseHead: has `headers`
//     // Checks on a start line of which buf[start, n) is known, without
//     // its LF; must give the same answer for every n up to the LF.
//     static ParseError check_partial_start(std::string_view buf, size_t start, size_t n,
//                                           const ParseLimits&);
//     // Parses the whole start line; fills *out unless it is null.
//     static ParseError parse_start_line(std::string_view line, const ParseLimits&, Head* out);
//     static constexpr ParseError kTooLarge, kTooManyFields, kTooManyEmptyLines;
//   };
//
// The design (why a re-parse over a contiguous buffer, why split-invariance
// shapes every check) is at the top of parser.cpp.
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <span>
#include <string_view>

#include "gofer/http/parser.h"
#include "syntax.h"

namespace gofer::http::detail {

constexpr uint8_t kMaxLeadingEmptyLines = 4;

constexpr size_t saturating_add(size_t a, size_t b) {
  return a + b < a ? SIZE_MAX : a + b;
}

// The checks that apply to a line starting at `start` of which `n` - start
// bytes, none of them LF, are known; the same for a complete line, first,
// so that the outcome does not depend on where the bytes were split.
template <class Rules>
ParseError check_partial_line(std::string_view buf, size_t start, size_t n, bool start_line,
                              const ParseLimits& limits) {
  if (start_line) {
    if (ParseError e = Rules::check_partial_start(buf, start, n, limits)) return e;
  }
  if (n >= saturating_add(limits.max_header_bytes, 1)) return Rules::kTooLarge;
  return {};
}

// Checks lines from where `scan` stands. With `out` null it only validates
// (resuming); otherwise it also fills `out` and `storage`, and must then
// start from a fresh scan.
template <class Rules>
ParseResult scan_head(std::string_view buf, typename Rules::Head* out, std::span<Header> storage,
                      const ParseLimits& limits, HeadScan& scan) {
  const size_t max_fields = std::min(storage.size(), limits.max_headers);
  size_t pos = scan.line_start;
  size_t from = scan.scanned;
  const char* base = buf.data();
  auto fail = [](ParseError e) { return ParseResult{ParseStatus::error, 0, e}; };

  for (;;) {
    const void* lf =
        from < buf.size() ? std::memchr(base + from, '\n', buf.size() - from) : nullptr;
    if (lf == nullptr) {
      if (ParseError e =
              check_partial_line<Rules>(buf, pos, buf.size(), !scan.start_line, limits)) {
        return fail(e);
      }
      scan.line_start = pos;
      scan.scanned = buf.size();
      return {ParseStatus::incomplete, 0, {}};
    }
    size_t eol = static_cast<size_t>(static_cast<const char*>(lf) - base);
    if (ParseError e = check_partial_line<Rules>(buf, pos, eol, !scan.start_line, limits)) {
      return fail(e);
    }
    if (eol + 1 > limits.max_header_bytes) return fail(Rules::kTooLarge);
    size_t content_end = eol > pos && base[eol - 1] == '\r' ? eol - 1 : eol;
    std::string_view line(base + pos, content_end - pos);

    if (!scan.start_line) {
      if (line.empty()) {
        if (++scan.empty_lines > kMaxLeadingEmptyLines) return fail(Rules::kTooManyEmptyLines);
      } else {
        if (ParseError e = Rules::parse_start_line(line, limits, out)) return fail(e);
        scan.start_line = true;
      }
    } else if (line.empty()) {
      if (out != nullptr) out->headers = storage.first(scan.headers);
      return {ParseStatus::complete, eol + 1, {}};
    } else {
      if (scan.headers >= max_fields) return fail(Rules::kTooManyFields);
      Header field;
      if (ParseError e = syntax::parse_field_line(line, field)) return fail(e);
      if (out != nullptr) storage[scan.headers] = field;
      ++scan.headers;
    }
    pos = from = eol + 1;
  }
}

// parse_request_head / parse_response_head: a fresh scan fills `out` at
// once; a resumed one validates the new bytes and, once the head is
// complete, parses it again from the start for views into this buffer.
template <class Rules>
ParseResult parse_head(std::string_view buf, typename Rules::Head& out, std::span<Header> storage,
                       const ParseLimits& limits, HeadScan& scan) {
  // A scan that does not fit the buffer belongs to another message: a
  // caller bug that must not turn into out-of-bounds reads.
  if (scan.scanned > buf.size() || scan.line_start > scan.scanned) scan = HeadScan{};

  ParseResult result;
  if (scan.scanned == 0) {
    result = scan_head<Rules>(buf, &out, storage, limits, scan);
  } else {
    result = scan_head<Rules>(buf, nullptr, storage, limits, scan);
    if (result.status == ParseStatus::complete) {
      // Views from earlier calls may point into a buffer that has moved.
      scan = HeadScan{};
      result = scan_head<Rules>(buf, &out, storage, limits, scan);
    }
  }
  if (result.status != ParseStatus::incomplete) scan = HeadScan{};
  return result;
}

}  // namespace gofer::http::detail
