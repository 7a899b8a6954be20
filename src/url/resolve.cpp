// Resolving a reference against a base URL (RFC 3986 §5.2) and joining
// path elements, both with the removal of dot segments (§5.2.4).
//
// Paths are merged and cleaned in their escaped form, then decoded again,
// so that an encoded "%2F" stays a character of a segment and never becomes
// a separator, and "%2E%2E" is not a dot segment (§2.3's "equivalent" only
// holds for unreserved characters that were not produced by decoding a
// reserved one; Go does the same).
#include <string>
#include <vector>

#include "gofer/url.h"
#include "url/escape.h"

namespace gofer::url {
namespace {

using detail::Encoding;

// §5.2.2-§5.2.4: the reference path `ref` merged with `base` (a non-'/'
// ref replaces the base's last segment) and cleaned of "." and "..". The
// result starts with '/' unless it is empty; a final "." or ".." leaves a
// trailing '/' ("a/b/.." is "/a/").
std::string resolve_path(std::string_view base, std::string_view ref) {
  std::string full;
  if (ref.empty()) {
    full = base;
  } else if (ref[0] != '/') {
    const std::size_t slash = base.rfind('/');
    full = std::string(slash == std::string_view::npos ? std::string_view{}
                                                       : base.substr(0, slash + 1));
    full += ref;
  } else {
    full = ref;
  }
  if (full.empty()) return {};

  // Output segments; ".." pops one, but never above the root.
  std::vector<std::string_view> out;
  std::string_view rest = full;
  std::string_view last;
  for (;;) {
    const std::size_t slash = rest.find('/');
    last = rest.substr(0, slash);
    if (last == "..") {
      if (!out.empty()) out.pop_back();
    } else if (last != ".") {
      out.push_back(last);
    }
    if (slash == std::string_view::npos) break;
    rest = rest.substr(slash + 1);
  }
  // The segments are joined after one '/'. A path that started with '/'
  // has an empty first segment, whose separator is that same '/'.
  std::string result = "/";
  for (std::size_t i = 0; i < out.size(); ++i) {
    if (i > 0) result.push_back('/');
    result += out[i];
  }
  if (last == "." || last == "..") result.push_back('/');
  if (result.size() > 1 && result[1] == '/') result.erase(0, 1);
  return result;
}

// Go's path.Clean: one '/' between segments, no "." segments, ".." applied
// (dropped at the root of a rooted path, kept at the front of a relative
// one), no trailing '/'; "." for an empty result.
std::string clean(std::string_view p) {
  if (p.empty()) return ".";
  const bool rooted = p[0] == '/';
  std::vector<std::string_view> out;
  std::size_t leading_dotdots = 0;  // ".." kept at the front of a relative path
  std::size_t i = 0;
  while (i < p.size()) {
    std::size_t slash = p.find('/', i);
    if (slash == std::string_view::npos) slash = p.size();
    const std::string_view seg = p.substr(i, slash - i);
    i = slash + 1;
    if (seg.empty() || seg == ".") continue;
    if (seg == "..") {
      if (out.size() > leading_dotdots) {
        out.pop_back();
      } else if (!rooted) {
        out.push_back(seg);
        ++leading_dotdots;
      }
      continue;
    }
    out.push_back(seg);
  }
  std::string result = rooted ? "/" : "";
  for (std::size_t k = 0; k < out.size(); ++k) {
    if (k > 0) result.push_back('/');
    result += out[k];
  }
  return result.empty() ? "." : result;
}

// Go's path.Join: the non-empty elements joined by '/' and cleaned; "" when
// all are empty.
std::string join(const std::vector<std::string_view>& elements) {
  std::string joined;
  bool any = false;
  for (std::string_view e : elements) {
    if (e.empty()) continue;
    if (any) joined.push_back('/');
    joined += e;
    any = true;
  }
  return any ? clean(joined) : std::string();
}

void set_path(URL& u, std::string_view escaped) {
  // The paths built here come from escaped forms, so they decode; should a
  // caller's element hold a bad escape, the path is left as it was (Go).
  (void)detail::set_encoded(escaped, Encoding::path, u.path, u.raw_path);
}

}  // namespace

URL URL::resolve_reference(const URL& ref) const {
  URL url = ref;
  if (ref.scheme.empty()) url.scheme = scheme;
  if (!ref.scheme.empty() || !ref.host.empty() || ref.user) {
    // An absolute or network-path reference: only its dot segments go.
    set_path(url, resolve_path(ref.escaped_path(), ""));
    return url;
  }
  if (!ref.opaque.empty()) {
    url.user.reset();
    url.host.clear();
    url.path.clear();
    return url;
  }
  if (ref.path.empty() && !ref.force_query && ref.raw_query.empty()) {
    // A reference that is at most a fragment keeps the base's query, and
    // the base's fragment too when it has none (§5.2.2).
    url.raw_query = raw_query;
    if (ref.fragment.empty()) {
      url.fragment = fragment;
      url.raw_fragment = raw_fragment;
    }
  }
  url.host = host;
  url.user = user;
  set_path(url, resolve_path(escaped_path(), ref.escaped_path()));
  return url;
}

URL URL::join_path(const std::vector<std::string_view>& elements) const {
  const std::string base = escaped_path();
  std::vector<std::string_view> all;
  all.reserve(elements.size() + 1);
  std::string p;
  const std::string rooted = "/" + base;  // outlives `all`, which views it
  if (base.empty() || base[0] != '/') {
    // A relative URL stays relative, and no ".." climbs out of it.
    all.push_back(rooted);
    all.insert(all.end(), elements.begin(), elements.end());
    p = join(all).substr(1);
  } else {
    all.push_back(base);
    all.insert(all.end(), elements.begin(), elements.end());
    p = join(all);
  }
  // Cleaning drops a trailing '/'; keep the one the last element asked for.
  const std::string_view last = all.back();
  if (!last.empty() && last.back() == '/' && (p.empty() || p.back() != '/')) p.push_back('/');
  URL url = *this;
  set_path(url, p);
  return url;
}

}  // namespace gofer::url
