// Differential test against Go's net/url: a table of inputs goes through
// both gofer::url and Go (tests/go/godiff, built by CMake where Go is
// installed), and every field, string form and error message must agree. The table covers what Go's
// own tests check and the strict corners: bad escapes, hosts, ports, userinfo, IPv6 literals and
// zones, control characters, opaque and relative forms, request-URIs,
// reference resolution, escaping and query parsing. Two differences are on
// purpose: a %-encoded non-ASCII byte in an IPv6 zone, which Go refuses
// though its String() writes it (tested in url_test.cpp instead), and a
// path that starts with "//" without an authority, which Go prints so that
// it reads back as a host (go_string_as_ours).
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "godiff_client.h"
#include "gofer/url.h"

namespace gofer::url {
namespace {

using godiff::ask_go;
using godiff::field;
using godiff::Request;

// Go's String() of `u`, with the one change made on purpose: a path that
// starts with "//" and no authority is printed after "/.", so that it does
// not read back as a host (RFC 3986 §3.3).
std::string go_string_as_ours(const URL& u, std::string go) {
  const std::size_t path_at = u.scheme.empty() ? 0 : u.scheme.size() + 1;
  if (u.opaque.empty() && go.compare(path_at, 2, "//") == 0 &&
      u.escaped_path().rfind("//", 0) == 0 &&
      go.compare(path_at, u.escaped_path().size(), u.escaped_path()) == 0) {
    go.insert(path_at, "/.");
  }
  return go;
}

// Compares a URL result (or its error) with Go's description of it.
void expect_same_url(const Result<URL>& ours, const nlohmann::json& go) {
  const std::string go_err = field(go, "err");
  ASSERT_EQ(ours.err.message(), go_err);
  if (!go_err.empty()) return;
  const URL& u = ours.value;
  EXPECT_EQ(u.scheme, field(go, "scheme"));
  EXPECT_EQ(u.opaque, field(go, "opaque"));
  EXPECT_EQ(u.user.has_value(), go.at("has_user").get<bool>());
  if (u.user) {
    EXPECT_EQ(u.user->username, field(go, "username"));
    EXPECT_EQ(u.user->password.has_value(), go.at("has_password").get<bool>());
    EXPECT_EQ(u.user->password.value_or(""), field(go, "password"));
  }
  EXPECT_EQ(u.host, field(go, "host"));
  EXPECT_EQ(u.path, field(go, "path"));
  EXPECT_EQ(u.raw_path, field(go, "raw_path"));
  EXPECT_EQ(u.omit_host, go.at("omit_host").get<bool>());
  EXPECT_EQ(u.force_query, go.at("force_query").get<bool>());
  EXPECT_EQ(u.raw_query, field(go, "raw_query"));
  EXPECT_EQ(u.fragment, field(go, "fragment"));
  EXPECT_EQ(u.raw_fragment, field(go, "raw_fragment"));
  EXPECT_EQ(u.to_string(), go_string_as_ours(u, field(go, "string")));
  EXPECT_EQ(u.redacted(), go_string_as_ours(u, field(go, "redacted")));
  EXPECT_EQ(u.escaped_path(), field(go, "escaped_path"));
  EXPECT_EQ(u.hostname(), field(go, "hostname"));
  EXPECT_EQ(u.port(), field(go, "port"));
  EXPECT_EQ(u.request_uri(), field(go, "request_uri"));
  EXPECT_EQ(u.query().encode(), field(go, "query"));
}

// Inputs for parse and parse_request_uri, each through both.
const std::vector<std::string>& url_inputs() {
  static const std::vector<std::string> inputs = {
      // Ordinary absolute URLs.
      "http://www.google.com",
      "http://www.google.com/",
      "http://www.google.com/file%20one%26two",
      "http://www.google.com/#file%20one%26two",
      "ftp://webmaster@www.google.com/",
      "ftp://john%20doe@www.google.com/",
      "http://www.google.com/?",
      "http://www.google.com/?foo=bar?",
      "http://www.google.com/?q=go+language",
      "http://www.google.com/?q=go%20language",
      "http://www.google.com/a%20b?q=c+d",
      "HTTP://WWW.GOOGLE.COM/",
      "hTtP://example.com/Path",
      "http://user:password@google.com",
      "http://user:password@google.com:80/x",
      "http://j@ne:password@google.com",
      "http://jane:p@ssword@google.com",
      "http://j@ne:password@google.com/p@th?q=@go",
      "http://user:@host/",
      "http://user@host/",
      "http://%3Fam:pa%3Fsword@google.com",
      "http://us%zzer@host/",
      "http://us er@host/",
      "http://user:pa%2Fss@host/",
      "http://a@b@c/",
      "http://@host/",
      "http://:@host/",
      // Paths with escapes that must round-trip.
      "http://www.google.com/a%2Fb",
      "http://www.google.com/a%2fb",
      "http://host/%2e%2e/x",
      "http://host/a;b,c/d",
      "http://host/a%3Bb",
      "http://host/%7Efoo",
      "http://host/~foo",
      "http://host/caf\xc3\xa9",
      "http://host/caf%C3%A9",
      "http://host/a[b]",
      "http://host/a%5Bb%5D",
      "http://host/!$&'()*+,;=:@",
      "http://host/%41%42",
      "http://host/a%20b%2B",
      // Fragments.
      "http://host/#a%20b",
      "http://host/#a b",
      "http://host/#%zz",
      "http://host/#!$&'()*+,;=",
      "http://host/#a#b",
      "http://host/#",
      "#frag",
      "#",
      "http://host/#%2F",
      "http://host/#'",
      // Hosts and ports.
      "http://host:8080/",
      "http://host:/",
      "http://host:x/",
      "http://host:80:90/",
      "http://host:-1/",
      "http://host:99999999/",
      "http://a b.com/",
      "http://a%20b.com/",
      "http://a%C3%A9.com/",
      "http://caf\xc3\xa9.com/",
      "http://h<o>st/",
      "http://h\"st/",
      "http://a_b.c-d~e/",
      "http://h%41st/",
      "http://host%/",
      "http://[::1]/",
      "http://[::1]:80/",
      "http://[::1]:/",
      "http://[::1]x/",
      "http://[::1]:8a/",
      "http://[::1/",
      "http://::1]/",
      "http://[fe80::1%25en0]/",
      "http://[fe80::1%25en0]:8080/",
      "http://[fe80::1%en0]/",
      "http://[fe80::1%25%65%6e%30]/",
      "http://[fe80::1%25%41]/",
      "http://[fe80::1%25%2f]/",
      "http://[fe80::1%25%20x]/",
      "http://[fe80::1%25en%0a0]/",
      "http://[fe80::1%25]/",
      "http://[fe80::1%25en0%2]/",
      "http://[foo]/",
      "http://[]/",
      "http://host[/",
      "http://10.0.0.1:443/",
      "http://host:443",
      "http://HOST.example/",
      // Control characters, everywhere.
      "http://host/\x7f",
      "http://host/a\nb",
      "http://ho\rst/",
      "http://host/?q=\t",
      "http://host/#\x01",
      std::string("\0http://host/", 13),
      // Schemes.
      "mailto:webmaster@golang.org",
      "mailto:?subject=hi",
      "file:///etc/passwd",
      "file://host/x",
      "file:/x",
      "scheme:/path",
      "scheme:opaque?q#f",
      "a+b-c.d:x",
      "1http://x/",
      "+x:y",
      ":foo",
      "://x",
      "ht tp://x/",
      "http:",
      "http:?q",
      "http:#f",
      "http://",
      "http:///path",
      "HtTp://h/",
      "x:",
      "tel:+1-555",
      "urn:isbn:0451450523",
      // Relative references.
      "",
      "/",
      "//",
      "///",
      "////a",
      "//host/path",
      "//user@host",
      "/a/b?c#d",
      "a/b",
      "a:b",
      "a/b:c",
      "./a:b",
      "?q",
      "?",
      "??",
      "../x",
      ".",
      "..",
      "*",
      "/*",
      "a%zzb",
      "/%2",
      "/%",
      "path?x=1&y=2",
      "//[::1]:80",
      "//%41/",
      "cache_object:foo/bar",
      "cache_object/foo:bar",
      // Queries.
      "http://h/?a=1&a=2&b=&c",
      "http://h/?a=%zz&b=2",
      "http://h/?a=1;b=2",
      "http://h/?%gg=1",
      "http://h/??x",
      "http://h/?x?",
      "http://h/a?b#c?d",
  };
  return inputs;
}

// RFC 3986 §5.4's examples, against the base it gives, plus Go's own
// corners; Go's answers are compared with ours (and §5.4's own answers are
// asserted in url_test.cpp).
const std::vector<std::pair<std::string, std::string>>& resolve_inputs() {
  static const std::vector<std::pair<std::string, std::string>> inputs = [] {
    std::vector<std::pair<std::string, std::string>> v;
    for (const char* ref : {"g:h",       "g",          "./g",         "g/",         "/g",
                            "//g",       "?y",         "g?y",         "#s",         "g#s",
                            "g?y#s",     ";x",         "g;x",         "g;x?y#s",    "",
                            ".",         "./",         "..",          "../",        "../g",
                            "../..",     "../../",     "../../g",     "../../../g", "../../../../g",
                            "/./g",      "/../g",      "g.",          ".g",         "g..",
                            "..g",       "./../g",     "./g/.",       "g/./h",      "g/../h",
                            "g;x=1/./y", "g;x=1/../y", "g?y/./x",     "g?y/../x",   "g#s/./x",
                            "g#s/../x",  "http:g",     "?",           "#",          "g%2F..",
                            "%2E%2E/g",  "a%20b",      "//h2/a/../b", "mailto:x@y"}) {
      v.emplace_back("http://a/b/c/d;p?q", ref);
    }
    v.emplace_back("http://a/b/c/d;p?q#f", "");
    v.emplace_back("http://a/b/c/d;p?q#f", "?x");
    v.emplace_back("http://a/b/c/d;p?q#f", "#g");
    v.emplace_back("http://a", "b");
    v.emplace_back("http://a", "..");
    v.emplace_back("http://a/b%2Fc/d", "e");
    v.emplace_back("http://a/b/", "../../..");
    v.emplace_back("http://user:pw@a/b/", "c");
    v.emplace_back("http://a/b", "//user@c/d/../e");
    v.emplace_back("mailto:x@y", "z");
    v.emplace_back("http://a/b/c", "x:y");
    v.emplace_back("http://a/b/c", "./x:y");
    v.emplace_back("http://a/b/c", "%zz");
    v.emplace_back("http://a/b//c/", "../d");
    v.emplace_back("http://a/", "/./..//x");
    return v;
  }();
  return inputs;
}

const std::vector<std::string>& escape_inputs() {
  static const std::vector<std::string> inputs = {
      "",     "abc",    "one two",     "a+b",      "a/b",
      "a?b",  "a&b=c",  "10%",         "%zz",      "%1",
      "%",    "%41%42", "caf\xc3\xa9", "\xff\xfe", "!$&'()*+,;=:@",
      "-_.~", "a%2Fb",  "a%20b+c",     "\x01\x7f", "[]{}|\\^`\"<>#",
  };
  return inputs;
}

const std::vector<std::string>& query_inputs() {
  static const std::vector<std::string> inputs = {
      "",
      "a=1",
      "a=1&a=2&b=3",
      "a",
      "a=",
      "=b",
      "&&a=1&&",
      "a=1&b=%zz&c=3",
      "a=1;b=2",
      "%zz=1&a=;&b=2",
      "a=%zz&b=;",
      "x=a+b%20c",
      "k=v=w",
      "b=2&a=1&c=3&a=0",
      "%41=%42",
      "caf%C3%A9=\xc3\xa9",
      "a=1&&b",
      "q=%",
      "q=%2",
      ";",
      "a;b=c&d=e",
  };
  return inputs;
}

// Go's url.Parse and url.ParseRequestURI: the same fields, string forms and
// errors (Go's url.Error text) for every input.
TEST(GoDiff, ParseAndParseRequestUriAgreeWithGo) {
  std::vector<Request> requests;
  for (const std::string& s : url_inputs()) {
    requests.push_back({"parse", {s}});
    requests.push_back({"parse_request_uri", {s}});
  }
  auto go = ask_go(requests);
  ASSERT_EQ(go.size(), requests.size()) << "the Go oracle did not answer every request";
  for (std::size_t i = 0; i < requests.size(); ++i) {
    const std::string& input = requests[i].args[0];
    SCOPED_TRACE(requests[i].op + " " + testing::PrintToString(input));
    expect_same_url(requests[i].op == "parse" ? parse(input) : parse_request_uri(input), go[i]);
  }
}

// Go's URL.Parse(ref) = ResolveReference (RFC 3986 §5.2).
TEST(GoDiff, ResolveReferenceAgreesWithGo) {
  std::vector<Request> requests;
  for (const auto& [base, ref] : resolve_inputs()) requests.push_back({"resolve", {base, ref}});
  auto go = ask_go(requests);
  ASSERT_EQ(go.size(), requests.size());
  for (std::size_t i = 0; i < requests.size(); ++i) {
    SCOPED_TRACE(testing::PrintToString(requests[i].args));
    auto base = parse(requests[i].args[0]);
    ASSERT_FALSE(base.err) << base.err.message();
    expect_same_url(base.value.parse_reference(requests[i].args[1]), go[i]);
  }
}

// Go's URL.JoinPath (Go 1.19).
TEST(GoDiff, JoinPathAgreesWithGo) {
  const std::vector<std::vector<std::string>> cases = {
      {"https://host/a", "b", "c"},
      {"https://host/a/", "../b"},
      {"https://host", "a", "b/"},
      {"https://host/a/b", "../../../c"},
      {"https://host/a", "/b//c/", ""},
      {"a/b", "../../c"},
      {"", "x"},
      {"https://host/a%2Fb", "c"},
      {"https://host/a", "b c", "d%20e"},
      {"https://host/a", "./", "."},
      {"https://host/", ""},
      {"https://host/a?q=1#f", "b"},
  };
  std::vector<Request> requests;
  for (const auto& c : cases) requests.push_back({"join_path", c});
  auto go = ask_go(requests);
  ASSERT_EQ(go.size(), requests.size());
  for (std::size_t i = 0; i < cases.size(); ++i) {
    SCOPED_TRACE(testing::PrintToString(cases[i]));
    auto base = parse(cases[i][0]);
    ASSERT_FALSE(base.err);
    std::vector<std::string_view> elements(cases[i].begin() + 1, cases[i].end());
    expect_same_url({base.value.join_path(elements), {}}, go[i]);
  }
}

// Go's QueryEscape, QueryUnescape, PathEscape, PathUnescape.
TEST(GoDiff, EscapingAgreesWithGo) {
  std::vector<Request> requests;
  for (const std::string& s : escape_inputs()) {
    for (const char* op : {"query_escape", "query_unescape", "path_escape", "path_unescape"}) {
      requests.push_back({op, {s}});
    }
  }
  auto go = ask_go(requests);
  ASSERT_EQ(go.size(), requests.size());
  for (std::size_t i = 0; i < requests.size(); ++i) {
    const std::string& op = requests[i].op;
    const std::string& s = requests[i].args[0];
    SCOPED_TRACE(op + " " + testing::PrintToString(s));
    Result<std::string> ours;
    if (op == "query_escape") ours.value = query_escape(s);
    if (op == "path_escape") ours.value = path_escape(s);
    if (op == "query_unescape") ours = query_unescape(s);
    if (op == "path_unescape") ours = path_unescape(s);
    EXPECT_EQ(ours.err.message(), field(go[i], "err"));
    if (!ours.err) {
      EXPECT_EQ(ours.value, field(go[i], "out"));
    }
  }
}

// Go's ParseQuery: the valid pairs (through Encode, which shows every value
// of every key in order) and the error it reports.
TEST(GoDiff, ParseQueryAgreesWithGo) {
  std::vector<Request> requests;
  for (const std::string& s : query_inputs()) requests.push_back({"parse_query", {s}});
  auto go = ask_go(requests);
  ASSERT_EQ(go.size(), requests.size());
  for (std::size_t i = 0; i < requests.size(); ++i) {
    SCOPED_TRACE(testing::PrintToString(requests[i].args[0]));
    auto [values, err] = parse_query(requests[i].args[0]);
    EXPECT_EQ(err.message(), field(go[i], "err"));
    EXPECT_EQ(values.encode(), field(go[i], "out"));
  }
}

}  // namespace
}  // namespace gofer::url
