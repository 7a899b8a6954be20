// gofer::http message parsing: pure functions over the caller's bytes.
//
// Five jobs, each a function (or a small state machine) that does no I/O,
// never allocates and never throws:
//
//   parse_request_head   request-line and header section -> RequestHead
//   analyze_request      RequestHead -> Framing (how long the body is, whether
//                        the connection stays open, 100-continue)
//   parse_response_head  status-line and header section -> ResponseHead
//   analyze_response     ResponseHead -> ResponseFraming (how long the body
//                        is, whether the connection may carry another request)
//   ChunkedDecoder       chunked body bytes -> body data and trailers (both)
//
// Every string_view these functions hand out points into the buffer the
// caller passed; it stays valid as long as those bytes stay where they are.
// Bad input yields a ParseError carrying the HTTP status a server should
// answer with; the design notes are at the top of src/http/parser.cpp.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

namespace gofer::http {

// One header (or trailer) field line: name and value as views into the
// caller's buffer. The value has its leading and trailing whitespace (SP,
// HTAB) removed; the name keeps the case the client sent.
struct Header {
  std::string_view name;
  std::string_view value;
};

// Bounds on a head; going past one earns the status noted (for a request;
// a response's errors are all 502).
struct ParseLimits {
  // Whole head: leading empty lines, request-line (status-line), header
  // lines and the final empty line (431).
  size_t max_header_bytes = 1 << 20;
  // The request-target (414); not used for responses, whose status-line
  // counts towards max_header_bytes only. A request-line longer than max_target_bytes
  // plus 64 bytes (room for a method and " HTTP/1.1") also gets 414, which
  // lets the parser give up before the line's end arrives.
  size_t max_target_bytes = 8192;
  // Header field lines (431). The storage passed to parse_request_head
  // lowers this further if it is smaller.
  size_t max_headers = 100;
};

// Why a message was rejected. `status` is the HTTP status code to answer
// with: for a request 400, 414, 417, 431, 501 or 505; for a response always
// 502 (what a proxy answers its client when the upstream's response is
// broken). `reason` is static text such as "invalid character in header
// name". status == 0 means no error.
struct ParseError {
  int status = 0;
  std::string_view reason;

  explicit operator bool() const { return status != 0; }
};

enum class ParseStatus : uint8_t {
  complete,    // the whole head was parsed; `consumed` says how long it is
  incomplete,  // valid so far; call again with more bytes appended
  error,       // the bytes can never become a valid head; see ParseError
};

// A parsed request head. All views point into the buffer that was parsed.
struct RequestHead {
  std::string_view method;    // a token, case-sensitive ("GET")
  std::string_view target;    // the request-target, as sent
  int version_major = 0;      // always 1 when parsing succeeded
  int version_minor = 0;      // 0 or 1 (or a later 1.x, served as 1.1)
  std::span<Header> headers;  // a prefix of the caller's storage, in order
};

// Progress of a head that is still incomplete, so the next call only looks
// at the bytes that arrived since. Keep one per connection; a fresh
// (value-initialised) HeadScan starts a new request. parse_request_head
// resets it when it returns complete or error.
//
// Contract: between calls the buffer may move or grow, but the bytes it
// already held must stay the same, and the storage span must keep its size.
struct HeadScan {
  size_t line_start = 0;    // offset of the first line not yet checked
  size_t scanned = 0;       // [line_start, scanned) holds no LF
  uint32_t headers = 0;     // header lines checked before line_start
  uint8_t empty_lines = 0;  // empty lines skipped before the request-line
  bool start_line = false;  // the request-line (status-line) has been checked
};

struct ParseResult {
  ParseStatus status = ParseStatus::incomplete;
  // When complete: bytes of the head, up to and including the empty line
  // that ends it; the body or the next request starts there. Otherwise 0.
  size_t consumed = 0;
  ParseError error;  // set when status == error
};

// Parses the head of an HTTP/1.x request at the start of `buf`.
//
// Header views go into `storage`; more header lines than
// min(storage.size(), limits.max_headers) is an error (431). `out` is only
// meaningful when the result is complete.
//
// Incremental use: call again with a longer buffer after `incomplete`,
// passing the same `scan`. The outcome is the same as parsing the final
// buffer in one call, however the bytes were split; the scan makes a head
// that trickles in cost time linear in its length.
ParseResult parse_request_head(std::string_view buf, RequestHead& out, std::span<Header> storage,
                               const ParseLimits& limits, HeadScan& scan);

// One-shot form: `buf` is parsed from the start.
inline ParseResult parse_request_head(std::string_view buf, RequestHead& out,
                                      std::span<Header> storage, const ParseLimits& limits = {}) {
  HeadScan scan;
  return parse_request_head(buf, out, storage, limits, scan);
}

// How a request's body is delimited and how the connection behaves after
// it (RFC 9112 §6, §9.3; RFC 9110 §10.1.1).
struct Framing {
  enum class Body : uint8_t {
    none,            // no body (or "Content-Length: 0"): the head is all
    content_length,  // exactly content_length (> 0) bytes follow
    chunked,         // Transfer-Encoding: chunked; use ChunkedDecoder
  };
  Body body = Body::none;
  uint64_t content_length = 0;  // when body == content_length (at most 2^63-1)
  // The connection may carry another request after this one: HTTP/1.1
  // unless "Connection: close"; HTTP/1.0 only with "Connection: keep-alive".
  bool keep_alive = false;
  // The client sent "Expect: 100-continue" on an HTTP/1.1 request with a
  // body, and waits for "100 Continue" before sending it.
  bool expect_continue = false;
  // The Host field value; host.data() == nullptr when there was none
  // (allowed in HTTP/1.0 only). May be empty but present.
  std::string_view host;
};

// A Framing, or the error that makes the request unservable.
struct FramingResult {
  Framing framing;
  ParseError error;

  bool ok() const { return error.status == 0; }
};

// Reads the framing out of a parsed head. Rejects what could let two
// parties disagree on where the request ends (request smuggling): 400 for
// Content-Length with Transfer-Encoding, differing or malformed
// Content-Length, Transfer-Encoding in HTTP/1.0, a missing (HTTP/1.1) or
// repeated Host; 501 for any Transfer-Encoding but a single "chunked"; 417
// for an Expect other than 100-continue.
FramingResult analyze_request(const RequestHead& head);

// A parsed response head. All views point into the buffer that was parsed.
struct ResponseHead {
  int version_major = 0;      // always 1 when parsing succeeded
  int version_minor = 0;      // 0 or 1 (or a later 1.x, read as 1.1)
  int status = 0;             // 100-599
  std::string_view reason;    // the reason-phrase, possibly empty ("OK")
  std::span<Header> headers;  // a prefix of the caller's storage, in order
};

// Parses the head of an HTTP/1.x response at the start of `buf`, with the
// same field-line rules, limits and incremental contract as
// parse_request_head (a HeadScan per connection). Every error is 502.
//   status-line = HTTP-version SP status-code SP [ reason-phrase ]
// Like Go and http-parser, a status-line that ends right after the code
// ("HTTP/1.1 200") is accepted; the code must be three digits from 100 to
// 599 (RFC 9110 §15).
ParseResult parse_response_head(std::string_view buf, ResponseHead& out, std::span<Header> storage,
                                const ParseLimits& limits, HeadScan& scan);

inline ParseResult parse_response_head(std::string_view buf, ResponseHead& out,
                                       std::span<Header> storage, const ParseLimits& limits = {}) {
  HeadScan scan;
  return parse_response_head(buf, out, storage, limits, scan);
}

// How a response's body is delimited, and what the connection can do after
// it (RFC 9112 §6.3, §9.3; RFC 9110 §6.4.1, §9.3.6, §15.2).
struct ResponseFraming {
  enum class Body : uint8_t {
    none,            // no body: HEAD, 1xx, 204, 304, or "Content-Length: 0"
    content_length,  // exactly content_length (> 0) bytes follow
    chunked,         // Transfer-Encoding: chunked; use ChunkedDecoder
    until_close,     // no framing: the body ends when the server closes
    tunnel,          // 101 Switching Protocols, or a 2xx to CONNECT: the
                     // connection now carries another protocol
  };
  Body body = Body::none;
  uint64_t content_length = 0;  // when body == content_length (at most 2^63-1)
  // The connection may carry another request once this body was read to
  // its end: HTTP/1.1 unless "Connection: close", HTTP/1.0 only with
  // "Connection: keep-alive"; never for until_close or tunnel.
  bool keep_alive = false;
  // A 1xx other than 101 (100 Continue, 103 Early Hints): the final
  // response follows on the same connection. A client bounds how many it
  // accepts in a row.
  bool interim = false;
};

struct ResponseFramingResult {
  ResponseFraming framing;
  ParseError error;

  bool ok() const { return error.status == 0; }
};

// Reads the framing out of a parsed response head to a request with
// `request_method` ("HEAD" responses have no body; a 2xx to "CONNECT" opens
// a tunnel). Rejects (502) what could let the client and a proxy in front of
// it disagree on where the response ends, which is also what would let a
// reused connection hand one response's bytes to the next request: both
// Content-Length and Transfer-Encoding; Transfer-Encoding in HTTP/1.0; any
// Transfer-Encoding but a single "chunked"; a malformed, too large or
// conflicting Content-Length — even where the status says there is no body.
ResponseFramingResult analyze_response(const ResponseHead& head, std::string_view request_method);

// ASCII case-insensitive equality, for header names and tokens.
inline bool equal_fold(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    unsigned char x = static_cast<unsigned char>(a[i]);
    unsigned char y = static_cast<unsigned char>(b[i]);
    if (x == y) continue;
    // Only letters may differ, and only by the 0x20 case bit.
    if ((x ^ y) != 0x20) return false;
    unsigned char lower = x | 0x20;
    if (lower < 'a' || lower > 'z') return false;
  }
  return true;
}

// Whether the comma-separated list `list` (RFC 9110 §5.6.1, e.g. a
// Connection value) has an element equal, ignoring ASCII case, to `token`.
// Whitespace around elements and empty elements are skipped.
bool token_list_contains(std::string_view list, std::string_view token);

// Bounds on a chunked body's framing.
struct ChunkedLimits {
  // A chunk-size line: the size, its extensions and the CRLF (400).
  size_t max_chunk_line_bytes = 1024;
  // The trailer section, including its final empty line (431).
  size_t max_trailer_bytes = 16 << 10;
  // Trailer field lines (431).
  size_t max_trailers = 32;
};

enum class ChunkedStatus : uint8_t {
  data,        // `data` holds body bytes; call again with the rest
  incomplete,  // needs more bytes: call again with the rest plus new bytes
  done,        // the body and its trailers ended; `consumed` stops there
  error,       // malformed framing; see ParseError
};

struct ChunkedResult {
  ChunkedStatus status = ChunkedStatus::incomplete;
  // Bytes of the input used up, framing and data. The caller drops them and
  // passes what remains, with newly read bytes appended, to the next call.
  size_t consumed = 0;
  std::string_view data;       // status data: body bytes, a view into the input
  std::span<Header> trailers;  // status done: a prefix of the trailer storage
  ParseError error;            // status error
};

// Decodes the chunked transfer coding (RFC 9112 §7.1) incrementally, one
// call per batch of input, without buffering: body data comes back as views
// into the input. Chunk extensions are checked against the grammar and
// skipped. The trailer section is held back (not consumed) until its final
// empty line has arrived, so that its fields can be returned as views.
//
// The caller's read buffer must be able to hold max_trailer_bytes, since a
// trailer section is only consumed whole (as it must hold max_header_bytes
// for parse_request_head).
//
// Every line of a chunked body must end in CRLF; a bare LF is an error here
// even though parse_request_head accepts one in the head.
class ChunkedDecoder {
 public:
  explicit ChunkedDecoder(const ChunkedLimits& limits = {}) : limits_(limits) {}

  // Decodes from the start of `in`, which must begin with the bytes the
  // previous call did not consume. Trailer fields, when the body ends, go
  // into `trailer_storage`; those beyond its size are checked but dropped.
  ChunkedResult decode(std::string_view in, std::span<Header> trailer_storage = {});

  bool done() const { return state_ == State::done; }

  // Ready for a new body.
  void reset() { *this = ChunkedDecoder(limits_); }

 private:
  // Where the decoder stands in the grammar. Extension states follow
  //   chunk-ext = *( BWS ";" BWS ext-name [ BWS "=" BWS ext-val ] )
  // The decoder owns its state and only decode() (and reset()) moves it.
  // Invariant: the states of a chunk-size line come first, size_start to
  // size_lf, so that one comparison tells decode() to count line bytes.
  enum class State : uint8_t {
    size_start,        // expecting the first hex digit of a chunk-size
    size,              // in the chunk-size digits
    ws_before_semi,    // after BWS that must lead to ';'
    ext_name_start,    // after ';', expecting BWS or the first name char
    ext_name,          // in an extension name
    ws_after_name,     // after BWS that leads to ';' or '='
    ext_value_start,   // after '=', expecting BWS, a token or a quote
    ext_value_token,   // in a token value
    ext_value_quoted,  // inside a quoted-string value
    ext_value_escape,  // after a backslash inside a quoted-string
    after_quoted,      // after the closing quote
    size_lf,           // got the CR ending a chunk-size line
    data,              // inside chunk data, `remaining_` bytes to go
    data_cr,           // chunk data ended, expecting CR
    data_lf,           // expecting LF after chunk data
    trailers,          // in the trailer section (held back until complete)
    done,              // finished; decode() consumes nothing more
    error,             // failed; decode() keeps reporting `error_`
  };

  ChunkedLimits limits_;
  State state_ = State::size_start;
  uint64_t remaining_ = 0;      // chunk-size being read, then data bytes left
  size_t line_bytes_ = 0;       // bytes of the current chunk-size line so far
  size_t trailer_line_ = 0;     // trailer section: offset of the first unchecked line
  size_t trailer_scanned_ = 0;  // trailer section: [trailer_line_, this) has no LF
  size_t trailer_count_ = 0;    // trailer lines checked before trailer_line_
  ParseError error_;
};

}  // namespace gofer::http
