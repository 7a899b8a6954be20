// gofer::url through its public API: RFC 3986 §5.4's resolution examples,
// the parts a parse yields, errors that say which part and why, round trips,
// escaping and Values. The same inputs and many more are compared with Go
// in url_go_diff_test.cpp; here the expected answers are written out.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "gofer/url.h"

namespace gofer::url {
namespace {

URL must_parse(std::string_view s) {
  auto [u, err] = parse(s);
  EXPECT_FALSE(err) << err.message();
  return u;
}

// RFC 3986 §5.4.1 (normal) and §5.4.2 (abnormal) examples, base
// "http://a/b/c/d;p?q". "http:g" is the strict reading (§5.4.2: a scheme
// in the reference makes it absolute), as Go reads it.
TEST(ResolveReference, Rfc3986Section5_4Examples) {
  const URL base = must_parse("http://a/b/c/d;p?q");
  const std::vector<std::pair<const char*, const char*>> examples = {
      // §5.4.1
      {"g:h", "g:h"},
      {"g", "http://a/b/c/g"},
      {"./g", "http://a/b/c/g"},
      {"g/", "http://a/b/c/g/"},
      {"/g", "http://a/g"},
      {"//g", "http://g"},
      {"?y", "http://a/b/c/d;p?y"},
      {"g?y", "http://a/b/c/g?y"},
      {"#s", "http://a/b/c/d;p?q#s"},
      {"g#s", "http://a/b/c/g#s"},
      {"g?y#s", "http://a/b/c/g?y#s"},
      {";x", "http://a/b/c/;x"},
      {"g;x", "http://a/b/c/g;x"},
      {"g;x?y#s", "http://a/b/c/g;x?y#s"},
      {"", "http://a/b/c/d;p?q"},
      {".", "http://a/b/c/"},
      {"./", "http://a/b/c/"},
      {"..", "http://a/b/"},
      {"../", "http://a/b/"},
      {"../g", "http://a/b/g"},
      {"../..", "http://a/"},
      {"../../", "http://a/"},
      {"../../g", "http://a/g"},
      // §5.4.2
      {"../../../g", "http://a/g"},
      {"../../../../g", "http://a/g"},
      {"/./g", "http://a/g"},
      {"/../g", "http://a/g"},
      {"g.", "http://a/b/c/g."},
      {".g", "http://a/b/c/.g"},
      {"g..", "http://a/b/c/g.."},
      {"..g", "http://a/b/c/..g"},
      {"./../g", "http://a/b/g"},
      {"./g/.", "http://a/b/c/g/"},
      {"g/./h", "http://a/b/c/g/h"},
      {"g/../h", "http://a/b/c/h"},
      {"g;x=1/./y", "http://a/b/c/g;x=1/y"},
      {"g;x=1/../y", "http://a/b/c/y"},
      {"g?y/./x", "http://a/b/c/g?y/./x"},
      {"g?y/../x", "http://a/b/c/g?y/../x"},
      {"g#s/./x", "http://a/b/c/g#s/./x"},
      {"g#s/../x", "http://a/b/c/g#s/../x"},
      {"http:g", "http:g"},
  };
  for (const auto& [ref, want] : examples) {
    SCOPED_TRACE(ref);
    auto [target, err] = base.parse_reference(ref);
    ASSERT_FALSE(err) << err.message();
    EXPECT_EQ(target.to_string(), want);
    EXPECT_EQ(base.resolve_reference(must_parse(ref)).to_string(), want);
  }
}

// §5.2.2: a reference with no path and no query keeps the base's query, and
// its fragment when it has none of its own; an encoded '/' in the base is not
// a separator ("%2F" stays in the segment it belongs to).
TEST(ResolveReference, QueryFragmentAndEncodedSlash) {
  const URL base = must_parse("http://a/b/c?q#f");
  EXPECT_EQ(base.resolve_reference(must_parse("")).to_string(), "http://a/b/c?q#f");
  EXPECT_EQ(base.resolve_reference(must_parse("#g")).to_string(), "http://a/b/c?q#g");
  EXPECT_EQ(base.resolve_reference(must_parse("?x")).to_string(), "http://a/b/c?x");
  EXPECT_EQ(must_parse("http://a/b%2Fc/d").resolve_reference(must_parse("e")).to_string(),
            "http://a/b%2Fc/e");
  EXPECT_EQ(must_parse("http://a/x/y").resolve_reference(must_parse("%2E%2E/g")).to_string(),
            "http://a/x/%2E%2E/g");
  // An absolute reference loses only its dot segments.
  EXPECT_EQ(base.resolve_reference(must_parse("https://h/a/./b/../c")).to_string(),
            "https://h/a/c");
}

// RFC 3986 §3: every component of a full URL, decoded where Go decodes.
TEST(Parse, Components) {
  URL u = must_parse("HTTPS://us%20er:p%40ss@Example.com:8443/a%2Fb/c%20d?x=1&y=%20#frag%20ment");
  EXPECT_EQ(u.scheme, "https");
  ASSERT_TRUE(u.user);
  EXPECT_EQ(u.user->username, "us er");
  EXPECT_EQ(u.user->password, "p@ss");
  EXPECT_EQ(u.host, "Example.com:8443");
  EXPECT_EQ(u.hostname(), "Example.com");
  EXPECT_EQ(u.port(), "8443");
  EXPECT_EQ(u.path, "/a/b/c d");
  EXPECT_EQ(u.raw_path, "/a%2Fb/c%20d");
  EXPECT_EQ(u.escaped_path(), "/a%2Fb/c%20d");
  EXPECT_EQ(u.raw_query, "x=1&y=%20");
  EXPECT_EQ(u.fragment, "frag ment");
  EXPECT_EQ(u.request_uri(), "/a%2Fb/c%20d?x=1&y=%20");
  EXPECT_EQ(u.query().get("y"), " ");
  EXPECT_EQ(u.to_string(),
            "https://us%20er:p%40ss@Example.com:8443/a%2Fb/c%20d?x=1&y=%20#frag%20ment");
  EXPECT_EQ(u.redacted(),
            "https://us%20er:xxxxx@Example.com:8443/a%2Fb/c%20d?x=1&y=%20#frag%20ment");
  EXPECT_TRUE(u.is_abs());
}

// RFC 6874: an IPv6 literal keeps its brackets in host; "%25" introduces a
// zone, which hostname() gives back decoded. A port must be digits.
TEST(Parse, Ipv6LiteralsAndZones) {
  URL u = must_parse("http://[fe80::1%25en0]:8080/");
  EXPECT_EQ(u.host, "[fe80::1%en0]:8080");
  EXPECT_EQ(u.hostname(), "fe80::1%en0");
  EXPECT_EQ(u.port(), "8080");
  EXPECT_EQ(u.to_string(), "http://[fe80::1%25en0]:8080/");
  EXPECT_EQ(must_parse("http://[::1]/").hostname(), "::1");
  EXPECT_EQ(must_parse("http://[::1]/").port(), "");
  EXPECT_EQ(parse("http://[::1/").err.code, errc::missing_bracket);
  EXPECT_EQ(parse("http://[::1]x/").err.code, errc::invalid_port);
  // A zone may not smuggle what a host could not hold unencoded.
  EXPECT_EQ(parse("http://[fe80::1%25en%0a0]/").err.code, errc::invalid_escape);
  EXPECT_EQ(parse("http://[fe80::1%25%2f]/").err.code, errc::invalid_escape);
  // A non-ASCII zone byte, raw or encoded, and so a round trip (found by
  // url_fuzz; Go refuses the string its own String() writes here).
  URL z = must_parse("http://[fe80::1%25en\xc3]:8080/");
  EXPECT_EQ(z.to_string(), "http://[fe80::1%25en%C3]:8080/");
  EXPECT_EQ(must_parse(z.to_string()), z);
}

// Errors say which operation, on which input, and why, as Go's url.Error.
TEST(Parse, ErrorsNameThePartAndTheReason) {
  struct Case {
    const char* input;
    errc code;
    const char* message;
  };
  const std::vector<Case> cases = {
      {"http://a b.com/", errc::invalid_host,
       R"(parse "http://a b.com/": invalid character " " in host name)"},
      {"http://host:8x/", errc::invalid_port,
       R"(parse "http://host:8x/": invalid port ":8x" after host)"},
      {"http://host/%zz", errc::invalid_escape,
       R"(parse "http://host/%zz": invalid URL escape "%zz")"},
      {"http://host/%4", errc::invalid_escape,
       R"(parse "http://host/%4": invalid URL escape "%4")"},
      {"http://h%41/", errc::invalid_escape, R"(parse "http://h%41/": invalid URL escape "%41")"},
      {"http://host/a\nb", errc::control_character,
       R"(parse "http://host/a\nb": net/url: invalid control character in URL)"},
      {":foo", errc::missing_scheme, R"(parse ":foo": missing protocol scheme)"},
      {"a:b/c", errc::none, ""},  // "a" is a scheme: opaque "b/c"
      {"a/b:c", errc::none, ""},
      {"1a:b", errc::colon_in_first_segment,
       R"(parse "1a:b": first path segment in URL cannot contain colon)"},
      {"http://us<er@host/", errc::invalid_userinfo,
       R"(parse "http://us<er@host/": net/url: invalid userinfo)"},
      {"http://[::1/", errc::missing_bracket, R"(parse "http://[::1/": missing ']' in host)"},
      // The fragment's error names the whole input; the rest's names it without the fragment.
      {"http://h/#%zz", errc::invalid_escape, R"(parse "http://h/#%zz": invalid URL escape "%zz")"},
      {"http://h:x/#f", errc::invalid_port, R"(parse "http://h:x/": invalid port ":x" after host)"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.input);
    auto [u, err] = parse(c.input);
    EXPECT_EQ(err.code, c.code);
    EXPECT_EQ(err.message(), c.message);
    EXPECT_EQ(static_cast<bool>(err), c.code != errc::none);
  }
}

// Go's ParseRequestURI: only an absolute URI, an absolute path or "*"; no
// fragment is split off; "//x" is a path, not an authority.
TEST(ParseRequestUri, Strictness) {
  EXPECT_EQ(parse_request_uri("").err.message(), R"(parse "": empty url)");
  EXPECT_EQ(parse_request_uri("a/b").err.code, errc::invalid_request_uri);
  EXPECT_EQ(parse_request_uri("*").value.path, "*");
  EXPECT_EQ(parse_request_uri("*").value.request_uri(), "*");
  URL u = parse_request_uri("/a#b?c").value;
  EXPECT_EQ(u.path, "/a#b");
  EXPECT_EQ(u.raw_query, "c");
  URL v = parse_request_uri("//evil.example/x").value;
  EXPECT_EQ(v.host, "");
  EXPECT_EQ(v.path, "//evil.example/x");
  EXPECT_EQ(v.request_uri(), "//evil.example/x");
  // RFC 3986 §3.3: printed, it must not name a host (Go prints "//evil…").
  EXPECT_EQ(v.to_string(), "/.//evil.example/x");
  EXPECT_EQ(parse(v.to_string()).value.host, "");
  // Resolving removes the dot segment and keeps the path a path (url_fuzz
  // found "https:/.//x" printing as "https://x").
  URL r = must_parse("https:/.//x");
  EXPECT_EQ(r.path, "/.//x");
  URL resolved = must_parse("http://a/b").resolve_reference(r);
  EXPECT_EQ(resolved.path, "//x");
  EXPECT_EQ(resolved.to_string(), "https:/.//x");
  EXPECT_EQ(parse(resolved.to_string()).value.host, "");
  EXPECT_EQ(parse_request_uri("http://h/p?q").value.host, "h");
  EXPECT_EQ(parse_request_uri("/a b\r\n").err.code, errc::control_character);
}

// to_string() gives back what parse read, so parse(to_string(u)) == u.
TEST(Parse, RoundTrips) {
  for (const char* s :
       {"http://h/a%2Fb", "http://h/?", "http://h/#", "mailto:a@b?s=x#f", "scheme:/p", "//h/p",
        "/p?q#f", "./a:b", "http://[::1]:80/x", "http://u:@h/", "http://u@h", "http://h/caf%C3%A9",
        "?q", "#f", "", "http://h/a;b=c,d", "http://h/#a%23b", "file:///etc/hosts"}) {
    SCOPED_TRACE(s);
    URL u = must_parse(s);
    EXPECT_EQ(must_parse(u.to_string()), u);
  }
  // The default encoding is chosen where the input's was not valid for it.
  EXPECT_EQ(must_parse("http://h/a b").to_string(), "http://h/a%20b");
  URL rel;
  rel.path = "a:b";
  EXPECT_EQ(rel.to_string(), "./a:b");  // §4.2: not a scheme
}

// Go's JoinPath: elements appended, then "." and ".." and "//" cleaned; a
// trailing '/' of the last element kept.
TEST(JoinPath, CleansAndKeepsTrailingSlash) {
  URL u = must_parse("https://h/a/b?q=1");
  EXPECT_EQ(u.join_path({"c", "../d/"}).to_string(), "https://h/a/b/d/?q=1");
  EXPECT_EQ(u.join_path({"../../../x"}).to_string(), "https://h/x?q=1");
  EXPECT_EQ(must_parse("a").join_path({"../../b"}).to_string(), "b");
}

// Percent-encoding per component (RFC 3986 §2): a query escapes every
// reserved character and writes ' ' as '+'; a path segment keeps ":@&=+$".
TEST(Escape, QueryAndPath) {
  EXPECT_EQ(query_escape("a b&c=d/é"), "a+b%26c%3Dd%2F%C3%A9");
  EXPECT_EQ(path_escape("a b&c=d/é"), "a%20b&c=d%2F%C3%A9");
  EXPECT_EQ(query_unescape("a+b%26").value, "a b&");
  EXPECT_EQ(path_unescape("a+b%26").value, "a+b&");
  auto [v, err] = query_unescape("100%");
  EXPECT_EQ(err.code, errc::invalid_escape);
  EXPECT_EQ(err.message(), R"(invalid URL escape "%")");
  EXPECT_EQ(path_unescape("%G1").err.detail, "%G1");
  for (const char* s : {"", "plain", "sp ace", "%", "+", "\xff", "a/b?c#d", "caf\xc3\xa9"}) {
    EXPECT_EQ(query_unescape(query_escape(s)).value, s);
    EXPECT_EQ(path_unescape(path_escape(s)).value, s);
  }
}

// Go's url.Values: every value of a key in order; get is the first; set
// replaces, add appends, del removes; encode sorts by key.
TEST(Values, EveryValueOfAKeyInOrder) {
  Values v;
  EXPECT_FALSE(v.has("a"));
  EXPECT_EQ(v.get("a"), "");
  EXPECT_TRUE(v.values("a").empty());
  v.add("b", "2");
  v.add("a", "x y");
  v.add("a", "&");
  EXPECT_EQ(v.get("a"), "x y");
  EXPECT_EQ(v.values("a"), (std::vector<std::string>{"x y", "&"}));
  EXPECT_EQ(v.encode(), "a=x+y&a=%26&b=2");
  v.set("a", "one");
  EXPECT_EQ(v.values("a"), std::vector<std::string>{"one"});
  v.set("empty", "");
  EXPECT_TRUE(v.has("empty"));
  v.del("b");
  EXPECT_FALSE(v.has("b"));
  EXPECT_EQ(v.encode(), "a=one&empty=");
  EXPECT_EQ(v.size(), 2u);
}

// Go's ParseQuery: valid pairs are kept even when one is bad; the error is a
// ';' if any pair has one (Go 1.17 no longer splits there), else the first
// bad escape.
TEST(Values, ParseQueryKeepsValidPairs) {
  auto [v, err] = parse_query("a=1&b=%zz&a=2&c&=e&&d=%20");
  EXPECT_EQ(err.code, errc::invalid_escape);
  EXPECT_EQ(err.detail, "%zz");
  EXPECT_EQ(v.values("a"), (std::vector<std::string>{"1", "2"}));
  EXPECT_FALSE(v.has("b"));
  EXPECT_TRUE(v.has("c"));
  EXPECT_EQ(v.get("c"), "");
  EXPECT_EQ(v.get(""), "e");
  EXPECT_EQ(v.get("d"), " ");

  auto [w, werr] = parse_query("x=%zz&a=1;b=2&c=3");
  EXPECT_EQ(werr.code, errc::semicolon_in_query);
  EXPECT_EQ(werr.message(), "invalid semicolon separator in query");
  EXPECT_EQ(w.encode(), "c=3");
  EXPECT_FALSE(parse_query("").err);
}

}  // namespace
}  // namespace gofer::url
