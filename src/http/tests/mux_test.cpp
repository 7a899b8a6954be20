// ServeMux: Go 1.22 pattern syntax, precedence, conflicts and routing
// (net/http/pattern_test.go, routing_tree_test.go, server_test.go are the
// model), through httptest's recorder — no sockets.
#include "gofer/http/mux.h"

#include <gtest/gtest.h>

#include <atomic>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "gofer/http/httptest.h"
#include "http/pattern.h"

namespace gofer::http {
namespace {

using detail::compare;
using detail::parse_pattern;
using detail::Relation;
using httptest::new_request;
using httptest::ResponseRecorder;

// A handler that answers with its own name and the path values it got.
Handler named(std::string name, std::vector<std::string> wildcards = {}) {
  return [name = std::move(name), wildcards = std::move(wildcards)](ResponseWriter& w, Request& r) {
    std::string out = name;
    for (const std::string& wc : wildcards) {
      out += " ";
      out += wc;
      out += "=";
      out += r.path_value(wc);
    }
    w.write(out);
  };
}

ResponseRecorder serve(const ServeMux& mux, std::string_view method, std::string_view target,
                       std::vector<Header> headers = {}) {
  auto r = new_request(method, target, "", std::move(headers));
  ResponseRecorder w;
  mux(w, *r);
  return w;
}

// --- syntax (Go's TestParsePattern / TestParsePatternError) --------------

TEST(PatternParse, AcceptsGoSyntax) {
  auto p = parse_pattern("GET example.com/a/{id}/{rest...}");
  EXPECT_EQ(p.method, "GET");
  EXPECT_EQ(p.host, "example.com");
  ASSERT_EQ(p.segments.size(), 3u);
  EXPECT_EQ(p.segments[0].kind, detail::Segment::literal);
  EXPECT_EQ(p.segments[1].kind, detail::Segment::wild);
  EXPECT_EQ(p.segments[1].text, "id");
  EXPECT_EQ(p.segments[2].kind, detail::Segment::multi);
  EXPECT_EQ(p.segments[2].text, "rest");

  auto slash = parse_pattern("/a/");  // trailing slash: anonymous multi
  ASSERT_EQ(slash.segments.size(), 2u);
  EXPECT_EQ(slash.segments[1].kind, detail::Segment::multi);
  EXPECT_EQ(slash.segments[1].text, "");

  auto dollar = parse_pattern("/a/{$}");
  ASSERT_EQ(dollar.segments.size(), 2u);
  EXPECT_EQ(dollar.segments[1].kind, detail::Segment::end);

  // Literals are unescaped; spaces or tabs after the method; host lowercased.
  EXPECT_EQ(parse_pattern("/a%20b").segments[0].text, "a b");
  EXPECT_EQ(parse_pattern("POST \t /x").method, "POST");
  EXPECT_EQ(parse_pattern("Example.COM/").host, "example.com");
  EXPECT_EQ(parse_pattern("[::1]/").host, "::1");
  // Go's rule: CONNECT patterns may be unclean (CONNECT paths are not cleaned).
  EXPECT_NO_THROW(parse_pattern("CONNECT /a/../b"));
  EXPECT_NO_THROW(parse_pattern("/{ünïcode}"));
}

TEST(PatternParse, RejectsWhatGoRejects) {
  for (const char* bad : {
           "",                    // empty pattern
           "GET",                 // host/path missing /
           "a.com",               // host/path missing /
           "{x}/a",               // host contains '{'
           "GE(T /",              // invalid method
           "/a{x}",               // wildcard must be the whole segment
           "/{x",                 // must end with '}'
           "/{}",                 // empty wildcard
           "/{...}",              // empty wildcard
           "/{1x}",               // bad wildcard name
           "/{a-b}",              // bad wildcard name
           "/{x}/{x}",            // duplicate name
           "/{$}/a",              // {$} not at end
           "/{a...}/b",           // {...} not at end
           "GET /a/../b",         // unclean path can never match
           "/a//b",               // unclean path
           "/a/./b",              // unclean path
           "example.com:8080/",   // Unlike Go: a port can never match
       }) {
    EXPECT_THROW(parse_pattern(bad), std::invalid_argument) << bad;
  }
}

// --- precedence (Go's TestComparePaths / TestCompareMethods) ---------------

TEST(PatternCompare, PathRelationsFollowGo) {
  struct Case {
    const char* a;
    const char* b;
    Relation want;
  } cases[] = {
      {"/a", "/a", Relation::equivalent},
      {"/a", "/b", Relation::disjoint},
      {"/a", "/a/b", Relation::disjoint},
      {"/{x}", "/{y}", Relation::equivalent},
      {"/{x}", "/a", Relation::more_general},
      {"/a", "/{x}", Relation::more_specific},
      {"/a/{x}", "/{y}/b", Relation::overlaps},
      {"/a/", "/a/b", Relation::more_general},
      {"/a/", "/a/{x...}", Relation::equivalent},
      {"/", "/a/b/c", Relation::more_general},
      {"/a/{$}", "/a/", Relation::more_specific},
      {"/{$}", "/", Relation::more_specific},
      {"/{x}", "/{$}", Relation::disjoint},   // {x} never matches the trailing slash
      {"/a/{x}", "/a/{$}", Relation::disjoint},
      {"/{x}/", "/a/b", Relation::more_general},
      {"/{x}/b/", "/a/{y}/", Relation::overlaps},
      {"/b/{x...}", "/a/", Relation::disjoint},
      {"/{x...}", "/{y...}", Relation::equivalent},
      {"/a/{x}/c", "/a/b/{y}", Relation::overlaps},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(compare(parse_pattern(c.a), parse_pattern(c.b)), c.want) << c.a << " vs " << c.b;
  }
}

TEST(PatternCompare, MethodRelationsFollowGo) {
  auto rel = [](const char* a, const char* b) { return compare(parse_pattern(a), parse_pattern(b)); };
  EXPECT_EQ(rel("GET /", "GET /"), Relation::equivalent);
  EXPECT_EQ(rel("GET /", "/"), Relation::more_specific);
  EXPECT_EQ(rel("/", "POST /"), Relation::more_general);
  EXPECT_EQ(rel("GET /", "HEAD /"), Relation::more_general);  // GET also matches HEAD
  EXPECT_EQ(rel("HEAD /", "GET /"), Relation::more_specific);
  EXPECT_EQ(rel("GET /", "POST /"), Relation::disjoint);
  // More specific method but more general path: overlap (a conflict).
  EXPECT_EQ(rel("GET /", "/a"), Relation::overlaps);
}

// --- conflicts throw at registration, like Go's Handle panics -------------

TEST(ServeMuxRegister, ConflictsThrowNamingBothPatterns) {
  ServeMux mux;
  mux.handle("/a/{x}", named("ax"));
  try {
    mux.handle("/{y}/b", named("yb"));
    FAIL() << "no exception";
  } catch (const std::invalid_argument& e) {
    std::string msg = e.what();
    EXPECT_NE(msg.find("\"/{y}/b\""), std::string::npos) << msg;
    EXPECT_NE(msg.find("\"/a/{x}\""), std::string::npos) << msg;
    EXPECT_NE(msg.find("\"/a/b\""), std::string::npos) << msg;  // the common path, as Go shows
    EXPECT_NE(msg.find("mux_test.cpp"), std::string::npos) << msg;  // where each was registered
  }

  EXPECT_THROW(mux.handle("/a/{z}", named("az")), std::invalid_argument);  // equivalent
  mux.handle("GET /g", named("g"));
  EXPECT_THROW(mux.handle("GET /g", named("g2")), std::invalid_argument);  // same pattern twice
  mux.handle("GET /p/", named("p"));
  EXPECT_THROW(mux.handle("/p/q", named("pq")), std::invalid_argument);  // more methods, more specific path
  EXPECT_THROW(mux.handle("GET /", named("root")), std::invalid_argument);  // vs "/a/{x}": fewer methods, more general path

  // Not conflicts: strictly more specific ones, other methods, other hosts.
  EXPECT_NO_THROW(mux.handle("/a/b", named("ab")));
  EXPECT_NO_THROW(mux.handle("POST /g", named("pg")));
  EXPECT_NO_THROW(mux.handle("HEAD /g", named("hg")));
  EXPECT_NO_THROW(mux.handle("example.com/a/{x}", named("host")));
  EXPECT_NO_THROW(mux.handle("/", named("root")));

  EXPECT_THROW(mux.handle("/bad{", named("x")), std::invalid_argument);
  EXPECT_THROW(mux.handle("/empty", Handler()), std::invalid_argument);
}

// --- routing ---------------------------------------------------------------

TEST(ServeMuxRoute, MostSpecificPatternWins) {
  ServeMux mux;
  mux.handle("/", named("root"));
  mux.handle("/a/", named("a/"));
  mux.handle("/a/b", named("a/b"));
  mux.handle("/a/{x}", named("a/{x}", {"x"}));
  mux.handle("/a/b/{y...}", named("a/b/{y...}", {"y"}));
  mux.handle("/{$}", named("{$}"));
  mux.handle("/c/e", named("c/e"));
  mux.handle("/c/{x}/d", named("c/{x}/d", {"x"}));

  EXPECT_EQ(serve(mux, "GET", "/").body, "{$}");
  EXPECT_EQ(serve(mux, "GET", "/zzz").body, "root");
  EXPECT_EQ(serve(mux, "GET", "/a/b").body, "a/b");      // literal beats {x}
  EXPECT_EQ(serve(mux, "GET", "/a/q").body, "a/{x} x=q");
  EXPECT_EQ(serve(mux, "GET", "/a/b/c/d").body, "a/b/{y...} y=c/d");
  EXPECT_EQ(serve(mux, "GET", "/a/b/").body, "a/b/{y...} y=");
  EXPECT_EQ(serve(mux, "GET", "/a/q/d").body, "a/");     // nothing below {x}: the prefix pattern
  EXPECT_EQ(serve(mux, "GET", "/a/").body, "a/");        // {x} does not match the trailing slash
  EXPECT_EQ(serve(mux, "GET", "/c/e").body, "c/e");
  EXPECT_EQ(serve(mux, "GET", "/c/e/d").body, "c/{x}/d x=e");  // the literal e is a dead end: backtrack
  EXPECT_EQ(serve(mux, "GET", "/c/e/f").body, "root");
}

TEST(ServeMuxRegister, ConflictMessageExamplesAreRight) {
  // Go's describeConflict: a path both match, and one each matches alone.
  auto a = parse_pattern("/a/b/{y...}");
  auto b = parse_pattern("/a/{x}/c");
  std::string msg = detail::describe_conflict(a, b);
  EXPECT_NE(msg.find("like \"/a/b/c\""), std::string::npos) << msg;
  EXPECT_NE(msg.find("/a/b/{y...} matches \"/a/b/\", but /a/{x}/c doesn't"), std::string::npos) << msg;
  EXPECT_NE(msg.find("/a/{x}/c matches \"/a/x/c\", but /a/b/{y...} doesn't"), std::string::npos) << msg;
  EXPECT_EQ(detail::describe_conflict(parse_pattern("/a"), parse_pattern("/a")), "/a matches the same requests as /a");
  EXPECT_NE(detail::describe_conflict(parse_pattern("GET /"), parse_pattern("/a")).find("fewer methods"),
            std::string::npos);
}

TEST(ServeMuxRoute, WildcardValuesAreDecodedSegments) {
  ServeMux mux;
  mux.handle("/files/{name}", named("one", {"name"}));
  mux.handle("/static/{path...}", named("rest", {"path"}));
  mux.handle("/lit%20eral", named("literal"));
  // Go matches escaped segments, then unescapes: %2F stays inside one segment.
  EXPECT_EQ(serve(mux, "GET", "/files/a%20b").body, "one name=a b");
  EXPECT_EQ(serve(mux, "GET", "/files/a%2Fb").body, "one name=a/b");
  EXPECT_EQ(serve(mux, "GET", "/static/x/y%20z").body, "rest path=x/y z");
  EXPECT_EQ(serve(mux, "GET", "/static/").body, "rest path=");
  EXPECT_EQ(serve(mux, "GET", "/lit%20eral").body, "literal");
  EXPECT_EQ(serve(mux, "GET", "/lit eral").body, "literal");
  EXPECT_EQ(serve(mux, "GET", "/files/a/b").code, 404);  // {name} is one segment
}

TEST(ServeMuxRoute, DollarMatchesOnlyTheTrailingSlash) {
  ServeMux mux;
  mux.handle("/{$}", named("home"));
  mux.handle("/docs/{$}", named("docs"));
  EXPECT_EQ(serve(mux, "GET", "/").body, "home");
  EXPECT_EQ(serve(mux, "GET", "/x").code, 404);
  EXPECT_EQ(serve(mux, "GET", "/docs/").body, "docs");
  EXPECT_EQ(serve(mux, "GET", "/docs/a").code, 404);
  // Go redirects whenever path + "/" has an exact match, {$} included.
  auto w = serve(mux, "GET", "/docs");
  EXPECT_EQ(w.code, 301);
  EXPECT_EQ(w.header().get("Location"), "/docs/");
}

TEST(ServeMuxRoute, MethodMismatchIs405WithAllow) {
  ServeMux mux;
  mux.handle("GET /r", named("get"));
  mux.handle("POST /r", named("post"));
  mux.handle("DELETE /r/", named("delete"));
  EXPECT_EQ(serve(mux, "POST", "/r").body, "post");
  auto w = serve(mux, "PUT", "/r");
  EXPECT_EQ(w.code, 405);
  // Sorted; HEAD because GET matches it; DELETE because "/r/" would match after the redirect.
  EXPECT_EQ(w.header().get("Allow"), "DELETE, GET, HEAD, POST");
  EXPECT_NE(w.body.find("Method Not Allowed"), std::string::npos);
  EXPECT_EQ(serve(mux, "PUT", "/nothing").code, 404);
}

TEST(ServeMuxRoute, HeadIsServedByGetUnlessHeadIsRegistered) {
  ServeMux mux;
  mux.handle("GET /page", named("get"));
  mux.handle("GET /both", named("get"));
  mux.handle("HEAD /both", named("head"));
  EXPECT_EQ(serve(mux, "HEAD", "/page").body, "get");
  EXPECT_EQ(serve(mux, "HEAD", "/both").body, "head");
  EXPECT_EQ(serve(mux, "GET", "/both").body, "get");
  // HEAD-only does not answer GET.
  mux.handle("HEAD /only", named("head"));
  auto w = serve(mux, "GET", "/only");
  EXPECT_EQ(w.code, 405);
  EXPECT_EQ(w.header().get("Allow"), "HEAD");
}

TEST(ServeMuxRoute, HostPatternsMatchTheHostWithoutPort) {
  ServeMux mux;
  mux.handle("example.com/", named("host"));
  mux.handle("api.example.com/v1/{x}", named("api", {"x"}));
  mux.handle("/", named("any"));
  EXPECT_EQ(serve(mux, "GET", "/a", {{"Host", "example.com"}}).body, "host");
  EXPECT_EQ(serve(mux, "GET", "/a", {{"Host", "example.com:8080"}}).body, "host");
  EXPECT_EQ(serve(mux, "GET", "/a", {{"Host", "EXAMPLE.com"}}).body, "host");
  EXPECT_EQ(serve(mux, "GET", "/a", {{"Host", "other.org"}}).body, "any");
  EXPECT_EQ(serve(mux, "GET", "/v1/7", {{"Host", "api.example.com"}}).body, "api x=7");
  // A host pattern that does not match the path falls back to host-less ones.
  EXPECT_EQ(serve(mux, "GET", "/v2", {{"Host", "api.example.com"}}).body, "any");

  ServeMux only;
  only.handle("[::1]/", named("v6"));
  EXPECT_EQ(serve(only, "GET", "/", {{"Host", "[::1]:80"}}).body, "v6");
  EXPECT_EQ(serve(only, "GET", "/", {{"Host", "localhost"}}).code, 404);
}

TEST(ServeMuxRedirect, TrailingSlashRedirectKeepsQuery) {
  ServeMux mux;
  mux.handle("/dir/", named("dir"));
  auto w = serve(mux, "GET", "/dir?x=1&y=2");
  EXPECT_EQ(w.code, 301);
  EXPECT_EQ(w.header().get("Location"), "/dir/?x=1&y=2");
  EXPECT_EQ(serve(mux, "GET", "/dir/").body, "dir");
  EXPECT_EQ(serve(mux, "GET", "/dir/sub").body, "dir");

  // With "/dir" registered too, no redirect.
  mux.handle("/dir", named("exact"));
  EXPECT_EQ(serve(mux, "GET", "/dir").body, "exact");
}

TEST(ServeMuxRedirect, UncleanPathsRedirectToTheCleanPath) {
  ServeMux mux;
  mux.handle("/", named("root"));
  struct Case {
    const char* target;
    const char* location;
  } cases[] = {
      {"/a/../b", "/b"},
      {"/a/./b?q=1", "/a/b?q=1"},
      {"//x", "/x"},
      {"/a/b/..", "/a"},
      {"/a/b/../", "/a/"},
      {"/../../etc", "/etc"},
  };
  for (const Case& c : cases) {
    auto w = serve(mux, "GET", c.target);
    EXPECT_EQ(w.code, 301) << c.target;
    EXPECT_EQ(w.header().get("Location"), c.location) << c.target;
  }
  // Percent-encoded dots are not path syntax: nothing to clean (a file
  // server must check the decoded path itself).
  EXPECT_EQ(serve(mux, "GET", "/%2e%2e/x").code, 200);
}

TEST(ServeMuxRedirect, ConnectIsNotCleaned) {
  ServeMux mux;
  mux.handle("CONNECT /a/../b", named("connect"));
  EXPECT_EQ(serve(mux, "CONNECT", "/a/../b").body, "connect");
}

TEST(ServeMuxRoute, AsteriskTargetIs400) {
  ServeMux mux;
  mux.handle("/", named("root"));
  auto w = serve(mux, "OPTIONS", "*");
  EXPECT_EQ(w.code, 400);
  EXPECT_EQ(w.header().get("Connection"), "close");
}

TEST(ServeMuxRoute, HandlerForReportsPatternAndSetsValues) {
  ServeMux mux;
  mux.handle("GET /users/{id}/posts/{post}", named("posts"));
  auto r = new_request("GET", "/users/42/posts/abc%21");
  auto route = mux.handler_for(*r);
  ASSERT_TRUE(route.has_value());
  EXPECT_EQ(route->pattern, "GET /users/{id}/posts/{post}");
  EXPECT_EQ(r->path_value("id"), "42");
  EXPECT_EQ(r->path_value("post"), "abc!");
  ResponseRecorder w;
  (*route->handler)(w, *r);
  EXPECT_EQ(w.body, "posts");

  auto missing = new_request("GET", "/nothing");
  EXPECT_FALSE(mux.handler_for(*missing).has_value());
  auto wrong_method = new_request("POST", "/users/1/posts/2");
  EXPECT_FALSE(mux.handler_for(*wrong_method).has_value());
}

TEST(ServeMuxRoute, CopiesShareRegistrations) {
  // A ServeMux is a reference (Go's *ServeMux): the copy inside a Handler
  // sees patterns registered later.
  ServeMux mux;
  Handler h = mux;
  mux.handle("/late", named("late"));
  auto r = new_request("GET", "/late");
  ResponseRecorder w;
  h(w, *r);
  EXPECT_EQ(w.body, "late");
}

TEST(ServeMuxRoute, NestedMuxKeepsOuterValues) {
  // Unlike Go (where the inner mux replaces r's pattern and matches), the
  // values of an outer mux stay visible below an inner one.
  ServeMux inner;
  inner.handle("/item/{id}", named("inner", {"tenant", "id"}));
  ServeMux outer;
  outer.handle("/t/{tenant}/", strip_prefix("/t/acme", inner));
  EXPECT_EQ(serve(outer, "GET", "/t/acme/item/7").body, "inner tenant=acme id=7");
}

TEST(ServeMuxConcurrency, RegisterWhileServing) {
  // Lookups take the lock shared, registration exclusively (run under TSan too).
  ServeMux mux;
  mux.handle("/", named("root"));
  std::atomic<bool> stop{false};
  std::vector<std::thread> readers;
  for (int t = 0; t < 2; ++t) {
    readers.emplace_back([&] {
      while (!stop.load()) {
        auto w = serve(mux, "GET", "/p/1");
        ASSERT_TRUE(w.body == "root" || w.body == "p");
      }
    });
  }
  mux.handle("/p/{n}", named("p"));
  for (int i = 0; i < 200; ++i) mux.handle("/x" + std::to_string(i), named("x"));
  stop = true;
  for (auto& t : readers) t.join();
  EXPECT_EQ(serve(mux, "GET", "/p/1").body, "p");
  EXPECT_EQ(serve(mux, "GET", "/x199").body, "x");
}

}  // namespace
}  // namespace gofer::http
