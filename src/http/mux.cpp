// ServeMux: Go 1.22's routing tree (net/http/routing_tree.go, server.go).
//
// The registered patterns form a tree with three levels of keys before the
// path: host ("" for none), then method ("" for none), then one node per
// path segment. A path node has literal children (keyed by the unescaped
// segment), at most one single-wildcard child, one multi-wildcard child
// (a leaf: it takes the rest of the path) and one {$} child (a leaf).
//
// Matching walks the request path segment by segment, trying the literal
// child first, then the wildcard, then the multi, and backtracks on a dead
// end. Since conflicting patterns are refused at registration (pattern.cpp),
// the first leaf reached is the most specific matching pattern. Host-
// specific patterns are tried before host-less ones, an exact method before
// GET (for HEAD) before patterns without a method: an order that again
// agrees with specificity because the alternatives that would disagree
// conflict.
//
// Concurrency: the tree is guarded by a std::shared_mutex. Lookups take it
// shared and never park or allocate while holding it beyond the wildcard
// values; registration takes it exclusively and is rare (start-up). Rejected:
// gofer::RWMutex, which would make lookups fatal outside goroutines (tests,
// handler_for from plain threads) for no gain, since no critical section
// here waits for anything. Entries are never removed, so a Handler* handed
// out stays valid without the lock.
//
// Invariants (under mu):
//   Every leaf (node with an entry) is reached from the root by exactly the
//   keys of its entry's pattern; every multi and end child is a leaf.
//   No two entries conflict (detail::conflicts).
#include "gofer/http/mux.h"

#include <algorithm>
#include <map>
#include <mutex>
#include <set>
#include <shared_mutex>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "http/pattern.h"

namespace gofer::http {

namespace {

using detail::Pattern;
using detail::Segment;

struct Entry {
  Pattern pattern;
  Handler handler;
  std::string where;  // "file:line" of the handle() call
  std::vector<std::string_view> names;  // wildcard names, into pattern
};

struct Node {
  const Entry* entry = nullptr;  // set on leaves
  std::map<std::string, std::unique_ptr<Node>, std::less<>> children;
  std::unique_ptr<Node> wild;
  std::unique_ptr<Node> multi;
  std::unique_ptr<Node> end;

  const Node* child(std::string_view key) const {
    auto it = children.find(key);
    return it == children.end() ? nullptr : it->second.get();
  }
  Node& add_child(std::string_view key) {
    auto it = children.find(key);
    if (it == children.end()) it = children.emplace(std::string(key), std::make_unique<Node>()).first;
    return *it->second;
  }
};

Node& slot(std::unique_ptr<Node>& p) {
  if (!p) p = std::make_unique<Node>();
  return *p;
}

void add_segments(Node& n, const Entry& e, std::size_t i) {
  const auto& segs = e.pattern.segments;
  if (i == segs.size()) {
    n.entry = &e;
    return;
  }
  const Segment& s = segs[i];
  switch (s.kind) {
    case Segment::literal:
      add_segments(n.add_child(s.text), e, i + 1);
      break;
    case Segment::wild:
      add_segments(slot(n.wild), e, i + 1);
      break;
    case Segment::multi:
      slot(n.multi).entry = &e;
      break;
    case Segment::end:
      slot(n.end).entry = &e;
      break;
  }
}

// Go's pathUnescape: the decoded form, or `s` itself if it is malformed.
std::string_view unescape(std::string_view s, std::string& scratch) {
  if (s.find('%') == std::string_view::npos) return s;
  if (!detail::path_unescape(s, scratch)) return s;
  return scratch;
}

// The leaf below `n` that matches `path` (escaped, "" or starting with '/'),
// appending wildcard values to `values`; on failure `values` is unchanged.
const Node* match_path(const Node* n, std::string_view path, std::vector<std::string>& values) {
  if (n == nullptr) return nullptr;
  if (path.empty()) return n->entry != nullptr ? n : nullptr;
  if (path == "/") {
    // The trailing slash: {$} matches it, a single wildcard never does.
    if (n->end) return n->end.get();
  } else {
    std::string_view raw = path.substr(1);
    std::size_t cut = raw.find('/');
    if (cut == std::string_view::npos) cut = raw.size();
    std::string scratch;
    std::string_view seg = unescape(raw.substr(0, cut), scratch);
    std::string_view rest = raw.substr(cut);
    if (const Node* m = match_path(n->child(seg), rest, values)) return m;
    if (n->wild) {
      values.emplace_back(seg);
      if (const Node* m = match_path(n->wild.get(), rest, values)) return m;
      values.pop_back();
    }
  }
  if (n->multi) {
    // An anonymous multi (a trailing slash in the pattern) records nothing.
    if (!n->multi->entry->pattern.segments.back().text.empty()) {
      std::string scratch;
      values.emplace_back(unescape(path.substr(1), scratch));
    }
    return n->multi.get();
  }
  return nullptr;
}

const Node* match_method_and_path(const Node* host, std::string_view method, std::string_view path,
                                  std::vector<std::string>& values) {
  if (host == nullptr) return nullptr;
  if (const Node* m = match_path(host->child(method), path, values)) return m;
  if (method == "HEAD") {
    if (const Node* m = match_path(host->child("GET"), path, values)) return m;
  }
  return match_path(host->child(""), path, values);
}

// Whether the leaf matched `path` without a multi swallowing a non-empty
// rest (Go's exactMatch): "/a/" matches "/a/" exactly but "/a/b" only as a prefix.
bool exact_match(const Node* n, std::string_view path) {
  if (n == nullptr) return false;
  const Pattern& p = n->entry->pattern;
  if (!p.ends_in_multi()) return true;
  if (!path.empty() && path.back() != '/') return false;
  return p.segments.size() == static_cast<std::size_t>(std::count(path.begin(), path.end(), '/'));
}

// The Host without its port or IPv6 brackets, lowercased.
std::string request_host(std::string_view h) {
  if (!h.empty() && h.front() == '[') {
    std::size_t close = h.find(']');
    if (close != std::string_view::npos) h = h.substr(1, close - 1);
  } else if (std::size_t colon = h.find(':');
             colon != std::string_view::npos && h.find(':', colon + 1) == std::string_view::npos) {
    h = h.substr(0, colon);
  }
  std::string out(h);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

std::string with_query(std::string path, std::string_view raw_query) {
  if (!raw_query.empty()) {
    path += '?';
    path += raw_query;
  }
  return path;
}

}  // namespace

struct ServeMux::State {
  mutable std::shared_mutex mu;
  std::vector<std::unique_ptr<Entry>> entries;  // guarded by mu (the vector; entries are immutable)
  Node root;                                    // guarded by mu

  // What the mux does with a request.
  struct Resolution {
    enum Kind { serve, redirect, not_found, method_not_allowed } kind = not_found;
    const Entry* entry = nullptr;
    std::vector<std::string> values;
    std::string text;  // redirect: the Location; method_not_allowed: the Allow value
  };

  const Node* match_locked(std::string_view host, std::string_view method, std::string_view path,
                           std::vector<std::string>& values) const {
    if (!host.empty()) {
      if (const Node* m = match_method_and_path(root.child(host), method, path, values)) return m;
    }
    return match_method_and_path(root.child(""), method, path, values);
  }

  // Go's matchOrRedirect: the match, or the trailing-slash redirect target.
  const Node* match_or_redirect_locked(std::string_view host, std::string_view method,
                                       std::string_view path, std::vector<std::string>& values,
                                       std::string_view raw_query, std::string& redirect) const {
    const Node* n = match_locked(host, method, path, values);
    if (!exact_match(n, path) && !path.ends_with('/')) {
      std::string slashed = std::string(path) + '/';
      std::vector<std::string> ignored;
      if (exact_match(match_locked(host, method, slashed, ignored), slashed)) {
        redirect = with_query(std::move(slashed), raw_query);
        values.clear();
        return nullptr;
      }
    }
    return n;
  }

  void methods_locked(const Node* host, std::string_view path, std::set<std::string>& out) const {
    if (host == nullptr) return;
    std::vector<std::string> ignored;
    for (const auto& [method, node] : host->children) {
      // Patterns without a method would have matched already.
      if (method.empty()) continue;
      if (match_path(node.get(), path, ignored) != nullptr) out.insert(method);
      ignored.clear();
    }
  }

  // The methods for which some pattern matches host and path (Go's
  // matchingMethods), joined for an Allow header.
  std::string allowed_methods_locked(std::string_view host, std::string_view path) const {
    std::set<std::string> methods;
    auto collect = [&](std::string_view p) {
      if (!host.empty()) methods_locked(root.child(host), p, methods);
      methods_locked(root.child(""), p, methods);
    };
    collect(path);
    // The trailing-slash redirect would have tried path + "/" too.
    if (!path.ends_with('/')) collect(std::string(path) + '/');
    if (methods.contains("GET")) methods.insert("HEAD");
    std::string allow;
    for (const std::string& m : methods) {
      if (!allow.empty()) allow += ", ";
      allow += m;
    }
    return allow;
  }

  Resolution resolve(const Request& r) const {
    Resolution res;
    std::string host = request_host(r.host);
    std::string_view path = r.path.empty() ? std::string_view("/") : r.path;
    // CONNECT paths are not cleaned (Go), but the trailing-slash redirect applies.
    std::string cleaned;
    std::string_view clean = path;
    if (r.method != "CONNECT" && !detail::is_clean_path(path)) {
      cleaned = detail::clean_path(path);
      clean = cleaned;
    }
    std::shared_lock lock(mu);
    const Node* n = match_or_redirect_locked(host, r.method, clean, res.values, r.raw_query, res.text);
    if (!res.text.empty()) {
      res.kind = Resolution::redirect;
      return res;
    }
    if (clean != path) {
      res.kind = Resolution::redirect;
      res.values.clear();
      res.text = with_query(std::string(clean), r.raw_query);
      return res;
    }
    if (n == nullptr) {
      res.text = allowed_methods_locked(host, path);
      res.kind = res.text.empty() ? Resolution::not_found : Resolution::method_not_allowed;
      return res;
    }
    res.kind = Resolution::serve;
    res.entry = n->entry;
    return res;
  }
};

ServeMux::ServeMux() : state_(std::make_shared<State>()) {}

void ServeMux::handle(std::string_view pattern, Handler handler, CallSite where) {
  std::string loc = std::string(where.file) + ":" + std::to_string(where.line);
  auto entry = std::make_unique<Entry>();
  try {
    entry->pattern = detail::parse_pattern(pattern);
  } catch (const std::invalid_argument& e) {
    throw std::invalid_argument("gofer::http::ServeMux: " + std::string(e.what()) + " (at " + loc + ")");
  }
  if (!handler) {
    throw std::invalid_argument("gofer::http::ServeMux: empty handler for pattern \"" +
                                std::string(pattern) + "\" (at " + loc + ")");
  }
  entry->handler = std::move(handler);
  entry->where = std::move(loc);
  entry->names = entry->pattern.wildcard_names();

  std::unique_lock lock(state_->mu);
  for (const auto& old : state_->entries) {
    if (detail::conflicts(entry->pattern, old->pattern)) {
      throw std::invalid_argument("gofer::http::ServeMux: pattern \"" + entry->pattern.str +
                                  "\" (registered at " + entry->where +
                                  ") conflicts with pattern \"" + old->pattern.str +
                                  "\" (registered at " + old->where + "):\n" +
                                  detail::describe_conflict(entry->pattern, old->pattern));
    }
  }
  Node& method = state_->root.add_child(entry->pattern.host).add_child(entry->pattern.method);
  add_segments(method, *entry, 0);
  state_->entries.push_back(std::move(entry));
}

std::optional<ServeMux::Route> ServeMux::handler_for(Request& r) const {
  if (r.target == "*") return std::nullopt;
  State::Resolution res = state_->resolve(r);
  if (res.kind != State::Resolution::serve) return std::nullopt;
  for (std::size_t i = 0; i < res.values.size() && i < res.entry->names.size(); ++i) {
    r.set_path_value(res.entry->names[i], std::move(res.values[i]));
  }
  return Route{&res.entry->handler, res.entry->pattern.str};
}

void ServeMux::operator()(ResponseWriter& w, Request& r) const {
  if (r.target == "*") {
    if (r.proto_major > 1 || (r.proto_major == 1 && r.proto_minor >= 1)) {
      w.header().set("Connection", "close");
    }
    w.write_header(status_bad_request);
    return;
  }
  State::Resolution res = state_->resolve(r);
  switch (res.kind) {
    case State::Resolution::serve:
      for (std::size_t i = 0; i < res.values.size() && i < res.entry->names.size(); ++i) {
        r.set_path_value(res.entry->names[i], std::move(res.values[i]));
      }
      res.entry->handler(w, r);
      return;
    case State::Resolution::redirect:
      redirect(w, r, res.text, status_moved_permanently);
      return;
    case State::Resolution::method_not_allowed:
      w.header().set("Allow", res.text);
      error(w, status_text(status_method_not_allowed), status_method_not_allowed);
      return;
    case State::Resolution::not_found:
      not_found(w, r);
      return;
  }
}

}  // namespace gofer::http
