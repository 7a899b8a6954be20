// libFuzzer target for gofer::url, fed arbitrary bytes.
//
// Besides the sanitizers' memory checks, it checks the promises the client
// and server rely on:
//   - to_string() round-trips: a URL parse accepted prints to a string that
//     parses back to the same decoded parts (but a "/." that keeps a path
//     from reading as an authority, or a "./" that keeps it from reading as
//     a scheme) and prints the same again;
//   - resolving any parsed reference against a base gives a URL that prints
//     and parses back;
//   - parse_query keeps every valid pair: what encode() writes parses back,
//     without error, to the same Values;
//   - escaping then unescaping is the identity, for query and path alike.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "fuzz_check.h"
#include "gofer/url.h"

namespace {

using namespace gofer::url;

void check_round_trip(const URL& u) {
  const std::string s = u.to_string();
  auto [again, err] = parse(s);
  if (err) std::fprintf(stderr, "reparse of \"%s\": %s\n", s.c_str(), err.message().c_str());
  CHECK(!err);
  CHECK(again.to_string() == s);
  // The decoded parts come back; the raw hints may not, when the one read
  // was not a valid encoding to print ("#a#b" prints "#a%23b", as in Go).
  URL a = again, b = u;
  a.raw_path = b.raw_path = a.raw_fragment = b.raw_fragment = {};
  // A path that starts with "//" without an authority is printed after "/."
  // (RFC 3986 §3.3), a dot segment that only resolution removes.
  if (a.path == "/." + b.path) a.path = b.path;
  // A relative path whose first segment has a ':' is printed after "./"
  // (RFC 3986 §4.2), as Go does; the reparse keeps the "./".
  if (a.path == "./" + b.path) a.path = b.path;
  CHECK(a == b);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);

  auto [u, err] = parse(input);
  if (err) {
    CHECK(!err.reason().empty() && err.op == "parse");
  } else {
    check_round_trip(u);
    (void)u.request_uri();
    (void)u.hostname();
    (void)u.port();
    (void)u.redacted();
    static const URL base = parse("http://user@a/b/c/d;p?q#f").value;
    const URL resolved = base.resolve_reference(u);
    // A resolved reference is absolute unless the reference was opaque.
    check_round_trip(resolved);
  }

  auto [r, rerr] = parse_request_uri(input);
  if (rerr) {
    CHECK(!rerr.reason().empty());
  } else {
    (void)r.to_string();
    (void)r.request_uri();
  }

  auto [values, qerr] = parse_query(input);
  auto [again, again_err] = parse_query(values.encode());
  CHECK(!again_err);
  CHECK(again == values);

  CHECK(query_unescape(query_escape(input)).value == input);
  CHECK(path_unescape(path_escape(input)).value == input);
  return 0;
}
