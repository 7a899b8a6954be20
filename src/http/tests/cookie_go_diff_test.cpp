// Differential test of the cookie functions against Go's net/http: Cookie
// headers read as Request.Cookies() reads them, Set-Cookie headers as
// Response.Cookies() does, and each cookie read written back as
// Cookie.String() writes it. Go answers through tests/go/godiff.
#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <vector>

#include "godiff_client.h"
#include "gofer/http/cookie.h"

namespace gofer::http {
namespace {

using godiff::ask_go;
using godiff::field;
using godiff::Request;

const std::vector<std::string>& cookie_headers() {
  static const std::vector<std::string> v = {
      "a=1",
      "session=abc123; theme=dark; _ga=GA1.1.1234567890.1700000000",
      "  a=1 ;b=\"quoted\";;  ;c=",
      "id=1; id=2",
      "flag",
      "=novalue; x=1",
      "a b=1; ok=1; c\"=2; d=x\"y; e=\\; g=1 2,3",
      "f=caf\xc3\xa9; h=\x01; i=\x7f",
      "q=\"unbalanced; r=2",
      "\"",
      "a=\"\"",
      "a==b; c=d=e",
      "$Version=1; Customer=\"WILE_E_COYOTE\"; $Path=\"/acme\"",
      "",
      ";;;",
  };
  return v;
}

const std::vector<std::string>& set_cookie_headers() {
  static const std::vector<std::string> v = {
      "id=a3fWa; Expires=Wed, 21 Oct 2015 07:28:00 GMT; Max-Age=60; domain=Example.com; "
      "PATH=/docs; Secure; HttpOnly; SameSite=Strict; Priority=High",
      "a=1; expires=Thu, 01-Jan-2026 00:00:00 GMT",
      "a=1; Expires=tomorrow; Max-Age=010; SameSite=whatever",
      "a=1; Max-Age=0",
      "a=1; Max-Age=-5",
      "a=1; Max-Age=+7",
      "a=1; Max-Age=",
      "a=1; Max-Age=99999999999999999999",
      "a=1; SameSite=Lax",
      "a=1; SameSite=NONE",
      "a=1; SameSite",
      "a=1; Secure=yes; HttpOnly=no",
      "a=1; Path=/a b; Domain=.example.com",
      "a=1; Domain=::1",
      "a=1; Domain=127.0.0.1",
      "a=1; Domain=-bad.example",
      "a=\"quoted value\"",
      "a=one two,three",
      "a=x\"y",
      "novalue",
      "bad name=1",
      "",
      "a=1;;; ; Secure ;",
      "a=1; Expires=Wed, 21 Oct 2015 07:28:00 PST",
      "a=1; Expires=Wed, 30 Feb 2015 07:28:00 GMT",
      "a=1; Expires=Wed, 21 Oct 1600 07:28:00 GMT",
      "a=1; Expires=Wed, 1 Oct 2015 07:28:00 GMT",
      "a=1; Expires=Wed,21 Oct 2015 07:28:00 GMT",
      "a=1; Expires=Xyz, 21 Oct 2015 07:28:00 GMT",
      "a=1; Comment=\"x\"; Version=1",
      "a=1; caf\xc3\xa9=x; Path=/",
      "a=1; Path=\"/quoted\"",
  };
  return v;
}

// Compares our cookies with Go's list, field by field, and what each writes.
void expect_same(const std::vector<Cookie>& ours, const nlohmann::json& go) {
  const auto& list = go.at("cookies");
  ASSERT_EQ(ours.size(), list.size());
  for (std::size_t i = 0; i < ours.size(); ++i) {
    const Cookie& c = ours[i];
    const nlohmann::json& g = list[i];
    SCOPED_TRACE("cookie " + std::to_string(i) + ": " + c.name);
    EXPECT_EQ(c.name, field(g, "name"));
    EXPECT_EQ(c.value, field(g, "value"));
    EXPECT_EQ(c.path, field(g, "path"));
    EXPECT_EQ(c.domain, field(g, "domain"));
    EXPECT_EQ(c.raw_expires, field(g, "raw_expires"));
    if (g.at("expires").is_null()) {
      EXPECT_FALSE(c.expires);
    } else {
      ASSERT_TRUE(c.expires);
      EXPECT_EQ(c.expires->time_since_epoch().count(), g.at("expires").get<long long>());
    }
    EXPECT_EQ(c.max_age, g.at("max_age").get<int>());
    EXPECT_EQ(c.secure, g.at("secure").get<bool>());
    EXPECT_EQ(c.http_only, g.at("http_only").get<bool>());
    EXPECT_EQ(static_cast<int>(c.same_site), g.at("same_site").get<int>());
    std::vector<std::string> unparsed;
    for (const auto& u : g.at("unparsed"))
      unparsed.push_back(godiff::from_hex(u.get<std::string>()));
    EXPECT_EQ(c.unparsed, unparsed);
    EXPECT_EQ(format_set_cookie(c), field(g, "string"));
  }
}

// Go's Request.Cookies(): the same cookies, in order, and the same
// Set-Cookie text for each.
TEST(CookieGoDiff, CookieHeadersReadAsGoReadsThem) {
  std::vector<Request> requests;
  for (const std::string& h : cookie_headers()) requests.push_back({"cookies", {h}});
  auto go = ask_go(requests);
  ASSERT_EQ(go.size(), requests.size()) << "the Go oracle did not answer every request";
  for (std::size_t i = 0; i < requests.size(); ++i) {
    SCOPED_TRACE(testing::PrintToString(requests[i].args[0]));
    expect_same(parse_cookies(requests[i].args[0]), go[i]);
  }
}

// Go's Response.Cookies() (readSetCookies) and Cookie.String().
TEST(CookieGoDiff, SetCookieHeadersReadAsGoReadsThem) {
  std::vector<Request> requests;
  for (const std::string& h : set_cookie_headers()) requests.push_back({"set_cookie", {h}});
  auto go = ask_go(requests);
  ASSERT_EQ(go.size(), requests.size()) << "the Go oracle did not answer every request";
  for (std::size_t i = 0; i < requests.size(); ++i) {
    SCOPED_TRACE(testing::PrintToString(requests[i].args[0]));
    std::vector<Cookie> ours;
    if (auto c = parse_set_cookie(requests[i].args[0])) ours.push_back(std::move(*c));
    expect_same(ours, go[i]);
  }
}

}  // namespace
}  // namespace gofer::http
