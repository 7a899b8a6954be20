// Chunked transfer coding decoder (RFC 9112 §7.1).
//
//   chunked-body = *chunk last-chunk trailer-section CRLF
//   chunk        = chunk-size [ chunk-ext ] CRLF chunk-data CRLF
//   last-chunk   = 1*("0") [ chunk-ext ] CRLF
//
// Protocol
//   A state machine over the framing bytes, remembered between calls, so
//   any split of the input decodes the same; chunk data passes through as
//   a view into the caller's buffer, one contiguous piece per call, never
//   copied. The trailer section is the exception: it is held back until its
//   final empty line arrives and is then returned as Header views, like the
//   head; the decoder remembers how far it checked, so a trickling trailer
//   still costs linear time.
//
// Strictness, for the sake of agreeing with whatever sits in front of us
//   - Every line ends in CRLF. A bare LF is an error anywhere in the body:
//     a proxy that takes "\n" as a line end and one that does not see
//     different chunk boundaries (Go fixed exactly this, CVE-2025-22871).
//   - The size is 1*HEXDIG and nothing else: no sign, no "0x", no spaces
//     (whitespace is only allowed where the grammar puts BWS, before ';'
//     and around '='), at most 2^63-1.
//   - Extensions are parsed to the grammar (token names, token or
//     quoted-string values) and dropped; the line they sit on is bounded,
//     which also bounds the framing overhead per chunk.
//   - Trailer lines follow the header field-line rules and are bounded in
//     number and total size.
#include <algorithm>
#include <cstring>

#include "gofer/http/parser.h"
#include "syntax.h"

namespace gofer::http {
namespace {

constexpr uint64_t kMaxChunkSize = INT64_MAX;

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  return (c | 0x20) - 'a' + 10;
}

}  // namespace

ChunkedResult ChunkedDecoder::decode(std::string_view in, std::span<Header> trailer_storage) {
  if (state_ == State::error) return {ChunkedStatus::error, 0, {}, {}, error_};
  if (state_ == State::done) return {ChunkedStatus::done, 0, {}, {}, {}};

  const size_t n = in.size();
  size_t i = 0;
  auto fail = [&](ParseError e) {
    state_ = State::error;
    error_ = e;
    return ChunkedResult{ChunkedStatus::error, i, {}, {}, e};
  };
  // A byte the grammar does not allow where it stands; name the commonest
  // smuggling attempt on its own.
  auto unexpected = [&](char c, std::string_view reason) {
    return fail({400, c == '\n' ? "bare LF in chunked encoding" : reason});
  };
  constexpr std::string_view kBadSize = "invalid chunk size";
  constexpr std::string_view kBadExt = "invalid chunk extension";

  while (i < n) {
    if (state_ == State::data) {
      size_t take = static_cast<size_t>(std::min<uint64_t>(remaining_, n - i));
      remaining_ -= take;
      if (remaining_ == 0) state_ = State::data_cr;
      return {ChunkedStatus::data, i + take, in.substr(i, take), {}, {}};
    }
    if (state_ == State::trailers) break;

    const char c = in[i];
    if (state_ <= State::size_lf && ++line_bytes_ > limits_.max_chunk_line_bytes) {
      return fail({400, "chunk-size line too long"});
    }
    const bool ows = syntax::is_ows(c);
    const bool tchar = syntax::is(c, syntax::kTchar);
    switch (state_) {
      case State::size_start:
        if (!syntax::is(c, syntax::kHex)) return unexpected(c, kBadSize);
        remaining_ = static_cast<uint64_t>(hex_value(c));
        state_ = State::size;
        break;
      case State::size:
        if (syntax::is(c, syntax::kHex)) {
          uint64_t d = static_cast<uint64_t>(hex_value(c));
          if (remaining_ > (kMaxChunkSize - d) / 16) return fail({400, "chunk size too large"});
          remaining_ = remaining_ * 16 + d;
        } else if (ows) {
          state_ = State::ws_before_semi;
        } else if (c == ';') {
          state_ = State::ext_name_start;
        } else if (c == '\r') {
          state_ = State::size_lf;
        } else {
          return unexpected(c, kBadSize);
        }
        break;
      case State::ws_before_semi:
        if (c == ';') {
          state_ = State::ext_name_start;
        } else if (!ows) {
          return unexpected(c, kBadExt);
        }
        break;
      case State::ext_name_start:
        if (tchar) {
          state_ = State::ext_name;
        } else if (!ows) {
          return unexpected(c, kBadExt);
        }
        break;
      case State::ext_name:
        if (tchar) break;
        if (ows) {
          state_ = State::ws_after_name;
        } else if (c == '=') {
          state_ = State::ext_value_start;
        } else if (c == ';') {
          state_ = State::ext_name_start;
        } else if (c == '\r') {
          state_ = State::size_lf;
        } else {
          return unexpected(c, kBadExt);
        }
        break;
      case State::ws_after_name:
        if (c == '=') {
          state_ = State::ext_value_start;
        } else if (c == ';') {
          state_ = State::ext_name_start;
        } else if (!ows) {
          return unexpected(c, kBadExt);
        }
        break;
      case State::ext_value_start:
        if (tchar) {
          state_ = State::ext_value_token;
        } else if (c == '"') {
          state_ = State::ext_value_quoted;
        } else if (!ows) {
          return unexpected(c, kBadExt);
        }
        break;
      case State::ext_value_token:
        if (tchar) break;
        if (ows) {
          state_ = State::ws_before_semi;
        } else if (c == ';') {
          state_ = State::ext_name_start;
        } else if (c == '\r') {
          state_ = State::size_lf;
        } else {
          return unexpected(c, kBadExt);
        }
        break;
      case State::ext_value_quoted:
        if (c == '"') {
          state_ = State::after_quoted;
        } else if (c == '\\') {
          state_ = State::ext_value_escape;
        } else if (!syntax::is(c, syntax::kQdtext)) {
          return unexpected(c, kBadExt);
        }
        break;
      case State::ext_value_escape:
        // quoted-pair = "\" ( HTAB / SP / VCHAR / obs-text )
        if (!syntax::is(c, syntax::kFieldValue)) return unexpected(c, kBadExt);
        state_ = State::ext_value_quoted;
        break;
      case State::after_quoted:
        if (ows) {
          state_ = State::ws_before_semi;
        } else if (c == ';') {
          state_ = State::ext_name_start;
        } else if (c == '\r') {
          state_ = State::size_lf;
        } else {
          return unexpected(c, kBadExt);
        }
        break;
      case State::size_lf:
        if (c != '\n') return fail({400, "bare CR in chunk-size line"});
        line_bytes_ = 0;
        if (remaining_ == 0) {
          state_ = State::trailers;
          trailer_line_ = trailer_scanned_ = trailer_count_ = 0;
        } else {
          state_ = State::data;
        }
        break;
      case State::data_cr:
        if (c != '\r') return unexpected(c, "missing CRLF after chunk data");
        state_ = State::data_lf;
        break;
      case State::data_lf:
        if (c != '\n') return fail({400, "bare CR after chunk data"});
        state_ = State::size_start;
        break;
      case State::data:
      case State::trailers:
      case State::done:
      case State::error:
        break;  // handled before the switch
    }
    ++i;
  }
  if (state_ != State::trailers) return {ChunkedStatus::incomplete, i, {}, {}, {}};

  // The trailer section, from `base` on, stays in the input until complete.
  const size_t base = i;
  const char* p = in.data();
  if (trailer_scanned_ > n - base) {
    // Fewer bytes than were held back: a caller bug that must not turn into
    // out-of-bounds reads. Start the section over.
    trailer_line_ = trailer_scanned_ = trailer_count_ = 0;
  }
  size_t pos = base + trailer_line_;
  size_t from = base + trailer_scanned_;
  for (;;) {
    const void* lf = from < n ? std::memchr(p + from, '\n', n - from) : nullptr;
    if (lf == nullptr) {
      if (n - base > limits_.max_trailer_bytes) return fail({431, "trailer section too large"});
      trailer_line_ = pos - base;
      trailer_scanned_ = n - base;
      return {ChunkedStatus::incomplete, base, {}, {}, {}};
    }
    size_t eol = static_cast<size_t>(static_cast<const char*>(lf) - p);
    if (eol + 1 - base > limits_.max_trailer_bytes) {
      return fail({431, "trailer section too large"});
    }
    if (eol == pos || p[eol - 1] != '\r') return fail({400, "bare LF in chunked encoding"});
    std::string_view line(p + pos, eol - 1 - pos);
    if (line.empty()) break;
    if (trailer_count_ >= limits_.max_trailers) return fail({431, "too many trailer fields"});
    Header field;
    if (ParseError e = syntax::parse_field_line(line, field)) return fail(e);
    ++trailer_count_;
    pos = from = eol + 1;
  }

  // Complete: walk the (already checked) lines again for views into `in`;
  // those kept from earlier calls could point into a buffer that has moved.
  size_t kept = std::min(trailer_count_, trailer_storage.size());
  size_t line_start = base;
  for (size_t k = 0; k < kept; ++k) {
    auto lf = static_cast<const char*>(std::memchr(p + line_start, '\n', n - line_start));
    size_t eol = static_cast<size_t>(lf - p);
    syntax::parse_field_line(std::string_view(p + line_start, eol - 1 - line_start),
                             trailer_storage[k]);
    line_start = eol + 1;
  }
  state_ = State::done;
  return {ChunkedStatus::done, pos + 2, {}, trailer_storage.first(kept), {}};
}

}  // namespace gofer::http
