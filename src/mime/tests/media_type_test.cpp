// mime::parse_media_type against Go's mime.ParseMediaType (the cases of
// Go's mediatype_test.go that a server meets: Content-Type and
// Content-Disposition as browsers send them).
#include <gtest/gtest.h>

#include "gofer/mime.h"

namespace mime = gofer::mime;

namespace {

TEST(MediaType, TypeIsLowerCasedAndParamsRead) {
  auto [mt, err] = mime::parse_media_type(" Text/HTML ; Charset=\"UTF-8\" ; q=1");
  ASSERT_FALSE(err) << err.message();
  EXPECT_EQ(mt.type, "text/html");
  EXPECT_EQ(mt.param("charset"), "UTF-8");  // names lower case, values as sent
  EXPECT_EQ(mt.param("q"), "1");
  EXPECT_EQ(mt.param("absent"), "");
}

// RFC 2183: a disposition is a lone token; quoted-strings lose their
// quotes; a backslash escapes only a tspecial (Go keeps "C:\dir" intact).
TEST(MediaType, DispositionAndQuotedValues) {
  auto [cd, err] = mime::parse_media_type(R"(form-data; name="a\"b"; filename="C:\dir\f.txt")");
  ASSERT_FALSE(err) << err.message();
  EXPECT_EQ(cd.type, "form-data");
  EXPECT_EQ(cd.param("name"), "a\"b");
  EXPECT_EQ(cd.param("filename"), R"(C:\dir\f.txt)");
}

// RFC 2231 §4: charset'lang'%XX; §3: continuations, encoded or not.
TEST(MediaType, Rfc2231EncodingsAndContinuations) {
  auto [a, e1] = mime::parse_media_type("attachment; filename*=UTF-8''%e2%82%ac%20rates.txt");
  ASSERT_FALSE(e1);
  EXPECT_EQ(a.param("filename"), "\xe2\x82\xac rates.txt");
  auto [b, e2] = mime::parse_media_type(
      "message/external-body; access-type=URL; URL*0=\"ftp://\"; URL*1=\"cs.utk.edu/pub\"");
  ASSERT_FALSE(e2);
  EXPECT_EQ(b.param("url"), "ftp://cs.utk.edu/pub");
  auto [c, e3] =
      mime::parse_media_type("attachment; title*0*=us-ascii'en'This%20is; title*1*=%20fun");
  ASSERT_FALSE(e3);
  EXPECT_EQ(c.param("title"), "This is fun");
  auto [d, e4] = mime::parse_media_type("attachment; filename*=ISO-8859-1''caf%e9");
  ASSERT_FALSE(e4);
  EXPECT_EQ(d.param("filename"), "");  // Go decodes us-ascii and utf-8 only
}

TEST(MediaType, Errors) {
  EXPECT_EQ(mime::parse_media_type("").err, mime::errc::no_media_type);
  EXPECT_EQ(mime::parse_media_type("text").err, gofer::Error{});  // a disposition-like token
  EXPECT_EQ(mime::parse_media_type("text html").err, mime::errc::expected_slash);
  EXPECT_EQ(mime::parse_media_type("text/").err, mime::errc::expected_token_after_slash);
  EXPECT_EQ(mime::parse_media_type("text/html x").err, mime::errc::unexpected_after_subtype);
  EXPECT_EQ(mime::parse_media_type("text/html; a=1; a=2").err, mime::errc::duplicate_parameter);
  auto [mt, err] = mime::parse_media_type("text/html; charset");
  EXPECT_EQ(err, mime::errc::invalid_media_parameter);
  EXPECT_EQ(mt.type, "text/html");  // Go returns the type with this error
  EXPECT_FALSE(mime::parse_media_type("text/html; charset=utf-8;").err);  // trailing ';'
  EXPECT_EQ(mime::parse_media_type("text/html; a=\"unterminated").err,
            mime::errc::invalid_media_parameter);
}

}  // namespace
