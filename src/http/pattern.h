// ServeMux patterns (Go 1.22's net/http/pattern.go): parsing, and the
// relation between two patterns that decides precedence and conflicts.
// Private to the http layer; src/http/mux.cpp builds its routing tree on it.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace gofer::http::detail {

// One piece of a pattern's path. The representation differs from the
// surface syntax so that every rule below is a comparison of segments:
//   "/a"            literal "a"
//   "/{id}"         wild "id"        one non-empty segment
//   "/{rest...}"    multi "rest"     the rest of the path, possibly empty
//   "/a/"           literal "a", multi ""   (a trailing slash is an anonymous multi)
//   "/a/{$}"        literal "a", end        (only the trailing slash itself)
struct Segment {
  enum Kind : std::uint8_t { literal, wild, multi, end };
  Kind kind = literal;
  std::string text;  // the unescaped literal, or the wildcard's name ("" for an anonymous multi)
};

struct Pattern {
  std::string str;     // as registered
  std::string method;  // "" matches every method
  std::string host;    // lowercase, without brackets; "" matches every host
  std::vector<Segment> segments;

  bool ends_in_multi() const { return !segments.empty() && segments.back().kind == Segment::multi; }
  // The wildcard names, in the order their values are matched.
  std::vector<std::string_view> wildcard_names() const;
};

// Parses "[METHOD ][HOST]/[PATH]". Throws std::invalid_argument naming the
// rule the pattern breaks (Go returns an error and Handle panics with it).
Pattern parse_pattern(std::string_view s);

// How the sets of requests two patterns match relate (Go's relationship).
enum class Relation : std::uint8_t {
  equivalent,     // both match the same requests
  more_general,   // the first matches a strict superset of the second's requests
  more_specific,  // the first matches a strict subset
  disjoint,       // no request matches both
  overlaps,       // some requests match both, and each matches some the other does not
};

Relation compare_methods(const Pattern& a, const Pattern& b);
Relation compare_paths(const Pattern& a, const Pattern& b);
// Method and path relation combined (hosts are compared separately).
Relation compare(const Pattern& a, const Pattern& b);

// Two patterns conflict when they could both match a request and neither
// is more specific: registering both is an error.
bool conflicts(const Pattern& a, const Pattern& b);
// Why a and b conflict, with example paths (Go's describeConflict).
std::string describe_conflict(const Pattern& a, const Pattern& b);

// Go's cleanPath: path.Clean that keeps a trailing slash and makes the
// path rooted ("" -> "/", "/a/../b/" -> "/b/").
std::string clean_path(std::string_view p);
// Whether clean_path(p) == p, without allocating.
bool is_clean_path(std::string_view p);

// Percent-decodes `in` (no '+' rule: this is a path) into `out`. Returns
// false, leaving `out` unspecified, on a malformed escape.
bool path_unescape(std::string_view in, std::string& out);

}  // namespace gofer::http::detail
