// ServeMux patterns: syntax, precedence and conflicts, after Go 1.22's
// net/http/pattern.go.
//
// Precedence is not a ranking: one pattern takes precedence over another
// only if it matches a strict subset of the other's requests ("more
// specific"). That is decided part by part (a literal segment is more
// specific than {x}, {x} than {x...}; a method than none; HEAD than GET,
// which also matches HEAD) and combined: if one part says "more specific"
// and another "more general", the patterns overlap, and two
// overlapping or equivalent patterns may not both be registered. Because
// conflicts are rejected at registration, matching can walk a tree trying
// literals before wildcards before multis and the first hit is the most
// specific pattern (src/http/mux.cpp).
//
// Rejected: a precedence score (longest literal prefix, fewest wildcards),
// as routers such as httprouter use; it is simpler but makes the winner of
// two overlapping patterns depend on an arbitrary tie-break, which Go's rule
// turns into an error at registration.
//
// Unlike Go: hosts are compared case-insensitively (both sides lowercased),
// a host with a port is rejected (requests are matched without their port,
// so it could never match), and a pattern with an unclean path is rejected
// whatever its method unless the method is CONNECT.
#include "http/pattern.h"

#include <stdexcept>

#include "gofer/http/parser.h"

namespace gofer::http::detail {

namespace {

bool is_token_char(char c) {
  unsigned char u = static_cast<unsigned char>(c);
  if ((u >= 'a' && u <= 'z') || (u >= 'A' && u <= 'Z') || (u >= '0' && u <= '9')) return true;
  return std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

bool is_valid_method(std::string_view m) {
  if (m.empty()) return false;
  for (char c : m) {
    if (!is_token_char(c)) return false;
  }
  return true;
}

// A Go identifier: a letter or '_' first, then letters, digits, '_'. Bytes
// >= 0x80 are taken as (parts of) UTF-8 letters.
bool is_valid_wildcard_name(std::string_view s) {
  if (s.empty()) return false;
  for (std::size_t i = 0; i < s.size(); ++i) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    bool letter = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c >= 0x80;
    bool digit = c >= '0' && c <= '9';
    if (!letter && !(digit && i > 0)) return false;
  }
  return true;
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

[[noreturn]] void fail(std::string_view pattern, std::string_view why) {
  std::string msg = "parsing \"";
  msg += pattern;
  msg += "\": ";
  msg += why;
  throw std::invalid_argument(msg);
}

Relation inverse(Relation r) {
  switch (r) {
    case Relation::more_general:
      return Relation::more_specific;
    case Relation::more_specific:
      return Relation::more_general;
    default:
      return r;
  }
}

// The relation of a pattern to another when one part relates by r1 and the
// next part by r2 (Go's combineRelationships).
Relation combine(Relation r1, Relation r2) {
  switch (r1) {
    case Relation::equivalent:
      return r2;
    case Relation::disjoint:
      return Relation::disjoint;
    case Relation::overlaps:
      return r2 == Relation::disjoint ? Relation::disjoint : Relation::overlaps;
    case Relation::more_general:
    case Relation::more_specific:
      if (r2 == Relation::equivalent) return r1;
      if (r2 == inverse(r1)) return Relation::overlaps;
      return r2;
  }
  return Relation::disjoint;
}

Relation compare_segments(const Segment& a, const Segment& b) {
  using K = Segment::Kind;
  if (a.kind == K::multi && b.kind == K::multi) return Relation::equivalent;
  if (a.kind == K::multi) return Relation::more_general;
  if (b.kind == K::multi) return Relation::more_specific;
  if (a.kind == K::wild && b.kind == K::wild) return Relation::equivalent;
  // A single wildcard never matches the trailing slash that {$} matches.
  if (a.kind == K::wild) return b.kind == K::end ? Relation::disjoint : Relation::more_general;
  if (b.kind == K::wild) return a.kind == K::end ? Relation::disjoint : Relation::more_specific;
  if (a.kind == K::end || b.kind == K::end) {
    return a.kind == b.kind ? Relation::equivalent : Relation::disjoint;
  }
  return a.text == b.text ? Relation::equivalent : Relation::disjoint;
}

// Appends the path piece that `s` matches, as an example ("/{x}" -> "/x").
void write_segment(std::string& out, const Segment& s) {
  out += '/';
  if (s.kind == Segment::literal || s.kind == Segment::wild) out += s.text;
}

void write_segments(std::string& out, const std::vector<Segment>& segs, std::size_t from) {
  for (std::size_t i = from; i < segs.size(); ++i) write_segment(out, segs[i]);
}

// A path both overlapping patterns match (Go's commonPath).
std::string common_path(const Pattern& a, const Pattern& b) {
  std::string out;
  std::size_t i = 0;
  for (; i < a.segments.size() && i < b.segments.size(); ++i) {
    // Where a has a wildcard (single or multi), b's segment is matched by both.
    bool a_wild = a.segments[i].kind == Segment::wild || a.segments[i].kind == Segment::multi;
    const Segment& s = a_wild ? b.segments[i] : a.segments[i];
    write_segment(out, s);
  }
  write_segments(out, a.segments, i);
  write_segments(out, b.segments, i);
  return out;
}

// A path that a matches and b does not, given that they overlap (Go's
// differencePath).
std::string difference_path(const Pattern& a, const Pattern& b) {
  using K = Segment::Kind;
  std::string out;
  std::size_t i = 0;
  for (; i < a.segments.size() && i < b.segments.size(); ++i) {
    const Segment& s1 = a.segments[i];
    const Segment& s2 = b.segments[i];
    if (s1.kind == K::multi && s2.kind == K::multi) {
      // The rest matches the same paths: the difference came earlier.
      out += '/';
      return out;
    }
    if (s1.kind == K::multi) {
      // A trailing slash tells them apart, unless s2 is {$}: then any segment does.
      out += '/';
      if (s2.kind == K::end) out += s1.text.empty() ? "x" : s1.text;
      return out;
    }
    if (s1.kind == K::wild && s2.kind == K::literal && s1.text == s2.text) {
      // Any segment but the literal: tweak it.
      out += '/';
      out += s2.text;
      out += 'x';
    } else {
      write_segment(out, s1);
    }
  }
  write_segments(out, a.segments, i);
  write_segments(out, b.segments, i);
  return out;
}

std::string_view relation_name(Relation r) {
  switch (r) {
    case Relation::equivalent:
      return "equivalent";
    case Relation::more_general:
      return "more general";
    case Relation::more_specific:
      return "more specific";
    case Relation::disjoint:
      return "disjoint";
    case Relation::overlaps:
      return "overlaps";
  }
  return "?";
}

int unhex(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

std::vector<std::string_view> Pattern::wildcard_names() const {
  std::vector<std::string_view> names;
  for (const Segment& s : segments) {
    if (s.kind == Segment::wild || (s.kind == Segment::multi && !s.text.empty())) {
      names.push_back(s.text);
    }
  }
  return names;
}

Pattern parse_pattern(std::string_view s) {
  if (s.empty()) throw std::invalid_argument("parsing \"\": empty pattern");
  Pattern p;
  p.str = std::string(s);

  std::string_view rest = s;
  if (std::size_t sp = s.find_first_of(" \t"); sp != std::string_view::npos) {
    p.method = std::string(s.substr(0, sp));
    rest = s.substr(sp + 1);
    while (!rest.empty() && (rest.front() == ' ' || rest.front() == '\t')) rest.remove_prefix(1);
    if (!is_valid_method(p.method)) fail(s, "invalid method \"" + p.method + "\"");
  }

  std::size_t slash = rest.find('/');
  if (slash == std::string_view::npos) fail(s, "host/path missing /");
  std::string_view host = rest.substr(0, slash);
  rest = rest.substr(slash);
  if (host.find('{') != std::string_view::npos) fail(s, "host contains '{' (missing initial '/'?)");
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  } else if (host.find(':') != std::string_view::npos) {
    fail(s, "host contains a port (requests are matched without their port)");
  }
  p.host = lower(host);

  if (p.method != "CONNECT" && !is_clean_path(rest)) {
    fail(s, "non-CONNECT pattern with unclean path can never match");
  }

  std::vector<std::string_view> seen;
  while (!rest.empty()) {
    rest.remove_prefix(1);  // the '/'
    if (rest.empty()) {
      p.segments.push_back({Segment::multi, ""});  // trailing slash
      break;
    }
    std::size_t end = rest.find('/');
    if (end == std::string_view::npos) end = rest.size();
    std::string_view seg = rest.substr(0, end);
    rest = rest.substr(end);

    std::size_t brace = seg.find('{');
    if (brace == std::string_view::npos) {
      std::string literal;
      if (!path_unescape(seg, literal)) literal = std::string(seg);
      p.segments.push_back({Segment::literal, std::move(literal)});
      continue;
    }
    if (brace != 0) fail(s, "bad wildcard segment (must start with '{')");
    if (seg.back() != '}') fail(s, "bad wildcard segment (must end with '}')");
    std::string_view name = seg.substr(1, seg.size() - 2);
    if (name == "$") {
      if (!rest.empty()) fail(s, "{$} not at end");
      p.segments.push_back({Segment::end, ""});
      break;
    }
    bool multi = name.ends_with("...");
    if (multi) {
      name.remove_suffix(3);
      if (!rest.empty()) fail(s, "{...} wildcard not at end");
    }
    if (name.empty()) fail(s, "empty wildcard");
    if (!is_valid_wildcard_name(name)) fail(s, "bad wildcard name \"" + std::string(name) + "\"");
    for (std::string_view n : seen) {
      if (n == name) fail(s, "duplicate wildcard name \"" + std::string(name) + "\"");
    }
    seen.push_back(name);
    p.segments.push_back({multi ? Segment::multi : Segment::wild, std::string(name)});
  }
  return p;
}

Relation compare_methods(const Pattern& a, const Pattern& b) {
  if (a.method == b.method) return Relation::equivalent;
  if (a.method.empty()) return Relation::more_general;
  if (b.method.empty()) return Relation::more_specific;
  // GET also matches HEAD.
  if (a.method == "GET" && b.method == "HEAD") return Relation::more_general;
  if (a.method == "HEAD" && b.method == "GET") return Relation::more_specific;
  return Relation::disjoint;
}

Relation compare_paths(const Pattern& a, const Pattern& b) {
  // Without a final multi, a pattern only matches paths of its own length.
  if (a.segments.size() != b.segments.size() && !a.ends_in_multi() && !b.ends_in_multi()) {
    return Relation::disjoint;
  }
  Relation rel = Relation::equivalent;
  std::size_t i = 0;
  for (; i < a.segments.size() && i < b.segments.size(); ++i) {
    rel = combine(rel, compare_segments(a.segments[i], b.segments[i]));
    if (rel == Relation::disjoint) return rel;
  }
  if (i == a.segments.size() && i == b.segments.size()) return rel;
  // One ran out first: only a shorter pattern ending in a multi can still
  // match what the longer one does.
  if (a.segments.size() < b.segments.size() && a.ends_in_multi()) {
    return combine(rel, Relation::more_general);
  }
  if (b.segments.size() < a.segments.size() && b.ends_in_multi()) {
    return combine(rel, Relation::more_specific);
  }
  return Relation::disjoint;
}

Relation compare(const Pattern& a, const Pattern& b) {
  Relation m = compare_methods(a, b);
  if (m == Relation::disjoint) return m;
  return combine(m, compare_paths(a, b));
}

bool conflicts(const Pattern& a, const Pattern& b) {
  // Different hosts never match the same request; a host-specific pattern
  // is always tried before host-less ones.
  if (a.host != b.host) return false;
  Relation r = compare(a, b);
  return r == Relation::equivalent || r == Relation::overlaps;
}

std::string describe_conflict(const Pattern& a, const Pattern& b) {
  Relation m = compare_methods(a, b);
  Relation p = compare_paths(a, b);
  Relation r = combine(m, p);
  if (r == Relation::equivalent) return a.str + " matches the same requests as " + b.str;
  if (p == Relation::overlaps) {
    return a.str + " and " + b.str + " both match some paths, like \"" + common_path(a, b) +
           "\".\nBut neither is more specific than the other.\n" + a.str + " matches \"" +
           difference_path(a, b) + "\", but " + b.str + " doesn't.\n" + b.str + " matches \"" +
           difference_path(b, a) + "\", but " + a.str + " doesn't.";
  }
  if (m == Relation::more_general && p == Relation::more_specific) {
    return a.str + " matches more methods than " + b.str + ", but has a more specific path pattern";
  }
  if (m == Relation::more_specific && p == Relation::more_general) {
    return a.str + " matches fewer methods than " + b.str + ", but has a more general path pattern";
  }
  return a.str + " and " + b.str + " conflict (methods " + std::string(relation_name(m)) +
         ", paths " + std::string(relation_name(p)) + ")";
}

bool is_clean_path(std::string_view p) {
  if (p.empty() || p.front() != '/') return false;
  // Look at each segment after a '/': it may not be empty (except the very
  // last, a trailing slash), ".", or "..".
  std::size_t i = 1;
  while (i <= p.size()) {
    std::size_t end = p.find('/', i);
    if (end == std::string_view::npos) end = p.size();
    std::string_view seg = p.substr(i, end - i);
    if (seg == "." || seg == "..") return false;
    if (seg.empty() && end != p.size()) return false;
    i = end + 1;
  }
  return true;
}

std::string clean_path(std::string_view p) {
  if (is_clean_path(p)) return std::string(p);
  // path.Clean on the rooted path: a stack of the segments kept.
  std::string out;
  out.reserve(p.size() + 1);
  std::size_t i = 0;
  while (i < p.size()) {
    std::size_t end = p.find('/', i);
    if (end == std::string_view::npos) end = p.size();
    std::string_view seg = p.substr(i, end - i);
    i = end + 1;
    if (seg.empty() || seg == ".") continue;
    if (seg == "..") {
      std::size_t cut = out.rfind('/');
      out.resize(cut == std::string::npos ? 0 : cut);
      continue;
    }
    out += '/';
    out += seg;
  }
  if (out.empty()) return "/";
  if (p.back() == '/') out += '/';
  return out;
}

bool path_unescape(std::string_view in, std::string& out) {
  out.clear();
  out.reserve(in.size());
  for (std::size_t i = 0; i < in.size(); ++i) {
    char c = in[i];
    if (c != '%') {
      out += c;
      continue;
    }
    int hi = i + 1 < in.size() ? unhex(in[i + 1]) : -1;
    int lo = i + 2 < in.size() ? unhex(in[i + 2]) : -1;
    if (hi < 0 || lo < 0) return false;
    out += static_cast<char>(hi * 16 + lo);
    i += 2;
  }
  return true;
}

}  // namespace gofer::http::detail
