// Urlencoded forms through the public API: Go's ParseForm rules for which
// bodies are forms, and Request.Form's order of values.
#include "gofer/http/form.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace gofer::http {
namespace {

// RFC 9110 §8.3.1: media type names are case-insensitive; parameters
// (charset) do not change the type. Go reads nothing but this type (and
// multipart, elsewhere) as a form.
TEST(Form, RecognisesUrlencodedBodies) {
  EXPECT_TRUE(is_form_urlencoded("application/x-www-form-urlencoded"));
  EXPECT_TRUE(is_form_urlencoded("Application/X-WWW-Form-URLEncoded; charset=UTF-8"));
  EXPECT_TRUE(is_form_urlencoded(" application/x-www-form-urlencoded ;"));
  EXPECT_FALSE(is_form_urlencoded(""));
  EXPECT_FALSE(is_form_urlencoded("multipart/form-data; boundary=x"));
  EXPECT_FALSE(is_form_urlencoded("application/json"));
  EXPECT_FALSE(is_form_urlencoded("application/x-www-form-urlencodedx"));
}

// Go's Request.Form: every value of a key, the body's before the query's;
// keys only in one of them kept as they are.
TEST(Form, MergesBodyBeforeQuery) {
  auto [post, perr] = url::parse_query("a=body1&a=body2&b=x+y");
  ASSERT_FALSE(perr);
  auto [query, qerr] = url::parse_query("a=query&c=%2F");
  ASSERT_FALSE(qerr);
  url::Values form = merge_form(post, query);
  EXPECT_EQ(form.values("a"), (std::vector<std::string>{"body1", "body2", "query"}));
  EXPECT_EQ(form.get("b"), "x y");
  EXPECT_EQ(form.get("c"), "/");
  EXPECT_EQ(form.encode(), "a=body1&a=body2&a=query&b=x+y&c=%2F");
}

}  // namespace
}  // namespace gofer::http
