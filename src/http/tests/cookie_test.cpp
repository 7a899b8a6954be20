// Cookies through the public API: the Cookie header a browser sends, the
// Set-Cookie header a server writes and a client reads. Each case names the
// RFC 6265 rule or Go net/http behaviour it checks.
#include "gofer/http/cookie.h"

#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <utility>
#include <vector>

namespace gofer::http {
namespace {

using namespace std::chrono;
using Pairs = std::vector<std::pair<std::string, std::string>>;

Pairs pairs(const std::vector<Cookie>& cookies) {
  Pairs out;
  for (const Cookie& c : cookies) out.emplace_back(c.name, c.value);
  return out;
}

// RFC 6265 §5.4 / Go's readCookies: "; "-separated pairs, in order;
// whitespace around pairs ignored; double quotes around a value dropped;
// repeated names kept (the browser sends the most specific path first).
TEST(ParseCookies, PairsInOrder) {
  EXPECT_EQ(pairs(parse_cookies("session=abc123; theme=dark; _ga=GA1.1.17")),
            (Pairs{{"session", "abc123"}, {"theme", "dark"}, {"_ga", "GA1.1.17"}}));
  EXPECT_EQ(pairs(parse_cookies("  a=1 ;b=\"quoted\";;  ;c=")),
            (Pairs{{"a", "1"}, {"b", "quoted"}, {"c", ""}}));
  EXPECT_EQ(pairs(parse_cookies("id=1; id=2")), (Pairs{{"id", "1"}, {"id", "2"}}));
  EXPECT_EQ(pairs(parse_cookies("flag")), (Pairs{{"flag", ""}}));  // Go: no '=' is an empty value
  EXPECT_TRUE(parse_cookies("").empty());
}

// Go skips, without an error, a pair whose name is not a token or whose
// value has a byte outside cookie-octet (RFC 6265 §4.1.1, loosened to allow
// space and comma as browsers send them); the other pairs stay.
TEST(ParseCookies, InvalidPairsAreSkipped) {
  EXPECT_EQ(pairs(parse_cookies("a b=1; ok=1; c\"=2; d=x\"y; e=\\; f=caf\xc3\xa9; g=1 2,3")),
            (Pairs{{"ok", "1"}, {"g", "1 2,3"}}));
  EXPECT_EQ(pairs(parse_cookies("=novalue; x=1")), (Pairs{{"x", "1"}}));
  EXPECT_EQ(pairs(parse_cookies("q=\"unbalanced; r=2")), (Pairs{{"r", "2"}}));
}

// Go's Cookie.String(): attributes in Go's order and spelling; Max-Age < 0
// is "Max-Age=0"; SameSite by its mode; Expires as IMF-fixdate.
TEST(FormatSetCookie, Attributes) {
  Cookie c;
  c.name = "session";
  c.value = "abc";
  c.path = "/app";
  c.domain = ".example.com";
  c.expires = sys_days(2030y / January / 2) + 3h + 4min + 5s;
  c.max_age = 3600;
  c.http_only = true;
  c.secure = true;
  c.same_site = SameSite::lax;
  EXPECT_EQ(format_set_cookie(c),
            "session=abc; Path=/app; Domain=example.com; Expires=Wed, 02 Jan 2030 03:04:05 GMT; "
            "Max-Age=3600; HttpOnly; Secure; SameSite=Lax");
  EXPECT_EQ(format_set_cookie({.name = "gone", .max_age = -1}), "gone=; Max-Age=0");
  EXPECT_EQ(format_set_cookie({.name = "s", .value = "v", .same_site = SameSite::none}),
            "s=v; SameSite=None");
  EXPECT_EQ(format_set_cookie({.name = "s", .value = "v", .same_site = SameSite::strict}),
            "s=v; SameSite=Strict");
  EXPECT_EQ(format_set_cookie({.name = "s", .value = "v", .same_site = SameSite::default_mode}),
            "s=v");
  EXPECT_EQ(cookie_error(c), "");
}

// What could end the header or start another attribute is never written:
// an invalid name gives "" (Go), invalid value and path bytes are dropped,
// a value with space or comma is quoted, an invalid domain (IPv6, bad
// label) or an Expires before 1601 is left out.
TEST(FormatSetCookie, NeverWritesWhatCouldInjectAnAttribute) {
  EXPECT_EQ(format_set_cookie({.name = "bad name", .value = "v"}), "");
  EXPECT_EQ(format_set_cookie({.name = "", .value = "v"}), "");
  EXPECT_EQ(format_set_cookie({.name = "a", .value = "x;Domain=evil\r\nSet-Cookie: b=\"1\\"}),
            "a=\"xDomain=evilSet-Cookie: b=1\"");
  EXPECT_EQ(format_set_cookie({.name = "a", .value = "one two,three"}), "a=\"one two,three\"");
  EXPECT_EQ(format_set_cookie({.name = "a", .value = "v", .path = "/x;HttpOnly\n"}),
            "a=v; Path=/xHttpOnly");
  EXPECT_EQ(format_set_cookie({.name = "a", .value = "v", .domain = "::1"}), "a=v");
  EXPECT_EQ(format_set_cookie({.name = "a", .value = "v", .domain = "-bad.example"}), "a=v");
  EXPECT_EQ(format_set_cookie({.name = "a", .value = "v", .domain = "127.0.0.1"}),
            "a=v; Domain=127.0.0.1");
  EXPECT_EQ(format_set_cookie({.name = "a", .value = "v", .expires = sys_days(1600y / 1 / 1)}),
            "a=v");
  EXPECT_EQ(cookie_error({.name = "a b"}), "invalid Cookie.Name");
  EXPECT_EQ(cookie_error({.name = "a", .value = "x;y"}), "invalid byte in Cookie.Value");
  EXPECT_EQ(cookie_error({.name = "a", .path = "/\x01"}), "invalid byte in Cookie.Path");
  EXPECT_EQ(cookie_error({.name = "a", .domain = "a..b"}), "invalid Cookie.Domain");
  EXPECT_EQ(cookie_error({.name = "a", .expires = sys_days(1600y / 1 / 1)}),
            "invalid Cookie.Expires");
}

// Go's readSetCookies: the name=value pair, then attributes by name without
// regard to case; what it does not understand is kept in unparsed.
TEST(ParseSetCookie, Attributes) {
  auto c = parse_set_cookie(
      "id=a3fWa; Expires=Wed, 21 Oct 2015 07:28:00 GMT; Max-Age=60; domain=Example.com; "
      "PATH=/docs; Secure; HttpOnly; SameSite=Strict; Priority=High");
  ASSERT_TRUE(c);
  EXPECT_EQ(c->name, "id");
  EXPECT_EQ(c->value, "a3fWa");
  ASSERT_TRUE(c->expires);
  EXPECT_EQ(*c->expires, sys_days(2015y / October / 21) + 7h + 28min);
  EXPECT_EQ(c->raw_expires, "Wed, 21 Oct 2015 07:28:00 GMT");
  EXPECT_EQ(c->max_age, 60);
  EXPECT_EQ(c->domain, "Example.com");
  EXPECT_EQ(c->path, "/docs");
  EXPECT_TRUE(c->secure);
  EXPECT_TRUE(c->http_only);
  EXPECT_EQ(c->same_site, SameSite::strict);
  EXPECT_EQ(c->unparsed, std::vector<std::string>{"Priority=High"});

  // The dashed Expires form (Netscape's), and what Go cannot read.
  EXPECT_TRUE(parse_set_cookie("a=1; expires=Thu, 01-Jan-2026 00:00:00 GMT")->expires);
  auto bad = parse_set_cookie("a=1; Expires=tomorrow; Max-Age=010; SameSite=whatever");
  ASSERT_TRUE(bad);
  EXPECT_FALSE(bad->expires);
  EXPECT_EQ(bad->raw_expires, "tomorrow");
  EXPECT_EQ(bad->max_age, 0);  // a leading zero is refused, as in Go
  EXPECT_EQ(bad->same_site, SameSite::default_mode);
  EXPECT_EQ(bad->unparsed, (std::vector<std::string>{"Expires=tomorrow", "Max-Age=010"}));
  // Max-Age <= 0 deletes the cookie now.
  EXPECT_EQ(parse_set_cookie("a=1; Max-Age=0")->max_age, -1);
  EXPECT_EQ(parse_set_cookie("a=1; Max-Age=-5")->max_age, -1);
}

// A Set-Cookie without '=' or with an invalid name or value is no cookie.
TEST(ParseSetCookie, InvalidCookiesAreRefused) {
  EXPECT_FALSE(parse_set_cookie(""));
  EXPECT_FALSE(parse_set_cookie("novalue"));
  EXPECT_FALSE(parse_set_cookie("bad name=1"));
  EXPECT_FALSE(parse_set_cookie("a=x\"y"));
  EXPECT_EQ(parse_set_cookie("a=\"quoted\"")->value, "quoted");
}

// What format writes, parse reads back: a server's cookie survives the
// round trip a client makes with it.
TEST(ParseSetCookie, ReadsWhatFormatWrites) {
  Cookie c{.name = "s",
           .value = "v1",
           .path = "/",
           .domain = "example.com",
           .expires = sys_days(2031y / March / 4) + 5h,
           .max_age = 10,
           .secure = true,
           .http_only = true,
           .same_site = SameSite::none};
  auto back = parse_set_cookie(format_set_cookie(c));
  ASSERT_TRUE(back);
  back->raw_expires.clear();
  EXPECT_EQ(*back, c);
}

// The example at the top of cookie.h, as written there.
TEST(FormatSetCookie, HeaderExampleCompiles) {
  const std::string id = "x1";
  EXPECT_EQ(format_set_cookie({.name = "session",
                               .value = id,
                               .path = "/",
                               .max_age = 3600,
                               .secure = true,
                               .http_only = true,
                               .same_site = SameSite::lax}),
            "session=x1; Path=/; Max-Age=3600; HttpOnly; Secure; SameSite=Lax");
}

}  // namespace
}  // namespace gofer::http
