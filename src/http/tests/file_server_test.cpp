// FileServer and serve_content: Go's http.FileServer / ServeContent
// behaviour (net/http/fs_test.go) and the RFC 9110 rules they implement
// (§13 conditional requests, §14 ranges), plus containment below the root.
// Each test builds a temporary tree and removes it; handlers run on a
// goroutine inside gofer::run, since the file system calls use blocking().
#include "gofer/http/file_server.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <functional>
#include <string>
#include <vector>

#include "gofer/http/httptest.h"
#include "gofer/http/mux.h"
#include "gofer/runtime.h"
#include "http/file_server_internal.h"

namespace gofer::http {
namespace {

namespace fs = std::filesystem;
using httptest::new_request;
using httptest::ResponseRecorder;

constexpr std::string_view kHello = "hello, world\n";  // 13 bytes
constexpr std::string_view kSecret = "TOP SECRET outside the root";

void write_file(const fs::path& p, std::string_view data) {
  std::ofstream f(p, std::ios::binary);
  f.write(data.data(), static_cast<std::streamsize>(data.size()));
}

// A temporary tree:
//   <base>/root/hello.txt, page.html, style.CSS, app.mjs, data.json, pic.svg,
//               notes (text, no extension), blob (binary, no extension),
//               empty.txt, sub/index.html, list/{a<b>.txt, x&y "q'.txt, d/},
//               inside -> hello.txt, abs_inside -> <abs>/hello.txt,
//               escape -> ../outside/secret.txt, escape_dir -> ../outside,
//               fifo
//   <base>/outside/secret.txt
class FileServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/gofer_fs_test_XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    base_ = tmpl;
    root_ = base_ / "root";
    fs::create_directories(root_ / "sub");
    fs::create_directories(root_ / "list" / "d");
    fs::create_directories(base_ / "outside");
    write_file(root_ / "hello.txt", kHello);
    write_file(root_ / "page.html", "<p>hi</p>");
    write_file(root_ / "style.CSS", "body{}");
    write_file(root_ / "app.mjs", "export {}");
    write_file(root_ / "data.json", "{}");
    write_file(root_ / "pic.svg", "<svg/>");
    write_file(root_ / "notes", "plain words only\n");
    write_file(root_ / "blob", std::string_view("\x00\x01\x02\x03binary", 10));
    write_file(root_ / "empty.txt", "");
    write_file(root_ / "sub" / "index.html", "<h1>sub index</h1>");
    write_file(root_ / "list" / "a<b>.txt", "a");
    write_file(root_ / "list" / "x&y \"q'.txt", "x");
    write_file(base_ / "outside" / "secret.txt", kSecret);
    fs::create_symlink("hello.txt", root_ / "inside");
    fs::create_symlink(root_ / "hello.txt", root_ / "abs_inside");
    fs::create_symlink("../outside/secret.txt", root_ / "escape");
    fs::create_symlink("../outside", root_ / "escape_dir");
    ASSERT_EQ(::mkfifo((root_ / "fifo").c_str(), 0644), 0);
  }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(base_, ec);
  }

  // Serves one request on a goroutine.
  ResponseRecorder get(std::string_view target, std::vector<Header> headers = {},
                       std::string_view method = "GET", FileServerOptions options = {}) {
    ResponseRecorder w;
    gofer::run([&] {
      FileServer server(root_.string(), options);
      auto r = new_request(method, target, "", std::move(headers));
      server(w, *r);
    });
    return w;
  }

  fs::path base_;
  fs::path root_;
};

// --- content and metadata ------------------------------------------------------

TEST_F(FileServerTest, ServesAFileWithMetadata) {
  auto w = get("/hello.txt");
  EXPECT_EQ(w.code, 200);
  EXPECT_EQ(w.body, kHello);
  EXPECT_EQ(w.header().get("Content-Type"), "text/plain; charset=utf-8");
  EXPECT_EQ(w.header().get("Content-Length"), "13");
  EXPECT_EQ(w.header().get("Accept-Ranges"), "bytes");
  EXPECT_FALSE(w.header().get("Last-Modified").empty());
  std::string_view etag = w.header().get("ETag");
  ASSERT_GE(etag.size(), 2u);
  EXPECT_EQ(etag.front(), '"');  // a strong validator
  EXPECT_EQ(etag.back(), '"');
}

TEST_F(FileServerTest, ContentTypeFromExtensionElseSniffed) {
  EXPECT_EQ(get("/page.html").header().get("Content-Type"), "text/html; charset=utf-8");
  EXPECT_EQ(get("/style.CSS").header().get("Content-Type"), "text/css; charset=utf-8");  // case-insensitive
  EXPECT_EQ(get("/app.mjs").header().get("Content-Type"), "text/javascript; charset=utf-8");
  EXPECT_EQ(get("/data.json").header().get("Content-Type"), "application/json");
  EXPECT_EQ(get("/pic.svg").header().get("Content-Type"), "image/svg+xml");
  // No extension: Go sniffs the first 512 bytes (DetectContentType).
  EXPECT_EQ(get("/notes").header().get("Content-Type"), "text/plain; charset=utf-8");
  EXPECT_EQ(get("/blob").header().get("Content-Type"), "application/octet-stream");
}

TEST(MimeTypes, BuiltInTable) {
  EXPECT_EQ(type_by_extension(".html"), "text/html; charset=utf-8");
  EXPECT_EQ(type_by_extension(".HTM"), "text/html; charset=utf-8");
  EXPECT_EQ(type_by_extension(".js"), "text/javascript; charset=utf-8");
  EXPECT_EQ(type_by_extension(".png"), "image/png");
  EXPECT_EQ(type_by_extension(".jpg"), "image/jpeg");
  EXPECT_EQ(type_by_extension(".jpeg"), "image/jpeg");
  EXPECT_EQ(type_by_extension(".gif"), "image/gif");
  EXPECT_EQ(type_by_extension(".webp"), "image/webp");
  EXPECT_EQ(type_by_extension(".ico"), "image/vnd.microsoft.icon");
  EXPECT_EQ(type_by_extension(".txt"), "text/plain; charset=utf-8");
  EXPECT_EQ(type_by_extension(".xml"), "text/xml; charset=utf-8");
  EXPECT_EQ(type_by_extension(".wasm"), "application/wasm");
  EXPECT_EQ(type_by_extension(".pdf"), "application/pdf");
  EXPECT_EQ(type_by_extension(".woff"), "font/woff");
  EXPECT_EQ(type_by_extension(".woff2"), "font/woff2");
  EXPECT_EQ(type_by_extension(".mp4"), "video/mp4");
  EXPECT_EQ(type_by_extension(".unknown"), "");
  EXPECT_EQ(type_by_extension("html"), "");  // needs the dot
  EXPECT_EQ(type_by_extension(""), "");
}

TEST_F(FileServerTest, HeadSendsHeadersOnly) {
  auto w = get("/hello.txt", {}, "HEAD");
  EXPECT_EQ(w.code, 200);
  EXPECT_EQ(w.body, "");
  EXPECT_EQ(w.header().get("Content-Length"), "13");
}

TEST_F(FileServerTest, OtherMethodsAre405) {
  auto w = get("/hello.txt", {}, "POST");
  EXPECT_EQ(w.code, 405);
  EXPECT_EQ(w.header().get("Allow"), "GET, HEAD");
}

TEST_F(FileServerTest, MissingFileIs404) {
  EXPECT_EQ(get("/nope.txt").code, 404);
  EXPECT_EQ(get("/hello.txt/more").code, 404);  // ENOTDIR
}

TEST_F(FileServerTest, UnreadableFileIs403) {
  if (::geteuid() == 0) GTEST_SKIP() << "root reads everything";
  fs::permissions(root_ / "hello.txt", fs::perms::none);
  EXPECT_EQ(get("/hello.txt").code, 403);
}

TEST_F(FileServerTest, SpecialFilesAre404AndDoNotBlock) {
  EXPECT_EQ(get("/fifo").code, 404);  // opening a FIFO must not wait for a writer
}

// --- directories ---------------------------------------------------------------

TEST_F(FileServerTest, DirectoryServesIndexHtml) {
  auto w = get("/sub/");
  EXPECT_EQ(w.code, 200);
  EXPECT_EQ(w.body, "<h1>sub index</h1>");
  EXPECT_EQ(w.header().get("Content-Type"), "text/html; charset=utf-8");
}

TEST_F(FileServerTest, CanonicalRedirects) {
  // Go's serveFile: directories end in '/', files do not, index.html is "./".
  auto dir = get("/sub?x=1");
  EXPECT_EQ(dir.code, 301);
  EXPECT_EQ(dir.header().get("Location"), "sub/?x=1");
  auto index = get("/sub/index.html");
  EXPECT_EQ(index.code, 301);
  EXPECT_EQ(index.header().get("Location"), "./");
  auto file = get("/hello.txt/");
  EXPECT_EQ(file.code, 301);
  EXPECT_EQ(file.header().get("Location"), "../hello.txt");
}

TEST_F(FileServerTest, ListingIsSortedAndEscaped) {
  auto w = get("/list/");
  EXPECT_EQ(w.code, 200);
  EXPECT_EQ(w.header().get("Content-Type"), "text/html; charset=utf-8");
  EXPECT_FALSE(w.header().get("Last-Modified").empty());
  // Text HTML-escaped; href percent-encoded; directories end in '/'.
  EXPECT_NE(w.body.find("<a href=\"a%3Cb%3E.txt\">a&lt;b&gt;.txt</a>"), std::string::npos) << w.body;
  EXPECT_NE(w.body.find("<a href=\"d/\">d/</a>"), std::string::npos) << w.body;
  EXPECT_NE(w.body.find("<a href=\"x%26y%20%22q%27.txt\">x&amp;y &#34;q&#39;.txt</a>"), std::string::npos)
      << w.body;
  EXPECT_EQ(w.body.find("<b>"), std::string::npos);
  EXPECT_LT(w.body.find("a%3Cb"), w.body.find("d/"));
  EXPECT_LT(w.body.find("d/"), w.body.find("x%26y"));
}

TEST_F(FileServerTest, ListingCanBeTurnedOff) {
  EXPECT_EQ(get("/list/", {}, "GET", FileServerOptions{.list_directories = false}).code, 404);
  EXPECT_EQ(get("/sub/", {}, "GET", FileServerOptions{.list_directories = false}).code, 200);
}

// --- conditional requests (RFC 9110 §13) -----------------------------------------

TEST_F(FileServerTest, IfNoneMatchGives304) {
  auto first = get("/hello.txt");
  std::string etag(first.header().get("ETag"));
  auto w = get("/hello.txt", {{"If-None-Match", etag}});
  EXPECT_EQ(w.code, 304);
  EXPECT_EQ(w.body, "");
  EXPECT_FALSE(w.header().has("Content-Type"));    // §15.4.5: no representation metadata
  EXPECT_FALSE(w.header().has("Content-Length"));
  EXPECT_FALSE(w.header().has("Last-Modified"));   // the ETag suffices
  EXPECT_EQ(w.header().get("ETag"), etag);

  // Weak comparison (§8.8.3.2): W/ on either side still matches; lists and *.
  EXPECT_EQ(get("/hello.txt", {{"If-None-Match", "W/" + etag}}).code, 304);
  EXPECT_EQ(get("/hello.txt", {{"If-None-Match", "\"other\", " + etag}}).code, 304);
  EXPECT_EQ(get("/hello.txt", {{"If-None-Match", "*"}}).code, 304);
  EXPECT_EQ(get("/hello.txt", {{"If-None-Match", "\"other\""}}).code, 200);
}

TEST_F(FileServerTest, IfModifiedSinceGives304InAllThreeDateFormats) {
  auto first = get("/hello.txt");
  std::string lm(first.header().get("Last-Modified"));
  auto w = get("/hello.txt", {{"If-Modified-Since", lm}});
  EXPECT_EQ(w.code, 304);
  EXPECT_TRUE(w.header().has("Last-Modified") || w.header().has("ETag"));

  // Set a known mtime to check the obsolete formats (§5.6.7): 1994-11-06 08:49:37 UTC.
  struct timespec times[2] = {{784111777, 0}, {784111777, 0}};
  ASSERT_EQ(::utimensat(AT_FDCWD, (root_ / "hello.txt").c_str(), times, 0), 0);
  EXPECT_EQ(get("/hello.txt").header().get("Last-Modified"), "Sun, 06 Nov 1994 08:49:37 GMT");
  EXPECT_EQ(get("/hello.txt", {{"If-Modified-Since", "Sun, 06 Nov 1994 08:49:37 GMT"}}).code, 304);
  EXPECT_EQ(get("/hello.txt", {{"If-Modified-Since", "Sunday, 06-Nov-94 08:49:37 GMT"}}).code, 304);
  EXPECT_EQ(get("/hello.txt", {{"If-Modified-Since", "Sun Nov  6 08:49:37 1994"}}).code, 304);
  EXPECT_EQ(get("/hello.txt", {{"If-Modified-Since", "Sun, 06 Nov 1994 08:49:36 GMT"}}).code, 200);
  EXPECT_EQ(get("/hello.txt", {{"If-Modified-Since", "garbage"}}).code, 200);
  // If-None-Match takes precedence over If-Modified-Since (§13.2.2).
  EXPECT_EQ(get("/hello.txt", {{"If-None-Match", "\"other\""},
                               {"If-Modified-Since", "Sun, 06 Nov 1994 08:49:37 GMT"}})
                .code,
            200);
}

TEST_F(FileServerTest, FailedIfMatchOrIfUnmodifiedSinceGives412) {
  std::string etag(get("/hello.txt").header().get("ETag"));
  EXPECT_EQ(get("/hello.txt", {{"If-Match", "\"other\""}}).code, 412);
  EXPECT_EQ(get("/hello.txt", {{"If-Match", etag}}).code, 200);
  EXPECT_EQ(get("/hello.txt", {{"If-Match", "*"}}).code, 200);
  EXPECT_EQ(get("/hello.txt", {{"If-Match", "W/" + etag}}).code, 412);  // strong comparison

  struct timespec times[2] = {{784111777, 0}, {784111777, 0}};
  ASSERT_EQ(::utimensat(AT_FDCWD, (root_ / "hello.txt").c_str(), times, 0), 0);
  EXPECT_EQ(get("/hello.txt", {{"If-Unmodified-Since", "Sun, 06 Nov 1994 08:49:36 GMT"}}).code, 412);
  EXPECT_EQ(get("/hello.txt", {{"If-Unmodified-Since", "Sun, 06 Nov 1994 08:49:37 GMT"}}).code, 200);
  // If-Match is evaluated instead of If-Unmodified-Since when present.
  EXPECT_EQ(get("/hello.txt", {{"If-Match", "*"},
                               {"If-Unmodified-Since", "Sun, 06 Nov 1994 08:49:36 GMT"}})
                .code,
            200);
}

// --- ranges (RFC 9110 §14) ----------------------------------------------------------

TEST_F(FileServerTest, SingleRangesGive206) {
  struct Case {
    const char* range;
    const char* content_range;
    std::string_view body;
  } cases[] = {
      {"bytes=0-4", "bytes 0-4/13", kHello.substr(0, 5)},
      {"bytes=7-", "bytes 7-12/13", kHello.substr(7)},         // open range
      {"bytes=-3", "bytes 10-12/13", kHello.substr(10)},       // suffix range
      {"bytes=-100", "bytes 0-12/13", kHello},                 // suffix longer than the file
      {"bytes=5-1000", "bytes 5-12/13", kHello.substr(5)},     // end clamped
      {"bytes=12-12", "bytes 12-12/13", kHello.substr(12)},
      {"bytes=99-,2-3", "bytes 2-3/13", kHello.substr(2, 2)},  // unsatisfiable parts dropped
  };
  for (const Case& c : cases) {
    auto w = get("/hello.txt", {{"Range", c.range}});
    EXPECT_EQ(w.code, 206) << c.range;
    EXPECT_EQ(w.header().get("Content-Range"), c.content_range) << c.range;
    EXPECT_EQ(w.body, c.body) << c.range;
    EXPECT_EQ(w.header().get("Content-Length"), std::to_string(c.body.size())) << c.range;
  }
}

TEST_F(FileServerTest, UnsatisfiableRangeGives416) {
  for (const char* range : {"bytes=13-", "bytes=100-200", "bytes=-0"}) {
    auto w = get("/hello.txt", {{"Range", range}});
    EXPECT_EQ(w.code, 416) << range;
    EXPECT_EQ(w.header().get("Content-Range"), "bytes */13") << range;
  }
  // Malformed byte ranges: 416 without Content-Range (Go).
  for (const char* range : {"bytes=abc", "bytes=5-2", "bytes=1", "bytes=--1"}) {
    auto w = get("/hello.txt", {{"Range", range}});
    EXPECT_EQ(w.code, 416) << range;
  }
}

TEST_F(FileServerTest, RangesThatAreIgnored) {
  // Unknown unit (§14.2 MUST ignore), HEAD (range handling defined for GET
  // only), a range on an empty file (Go), ranges summing past the size.
  EXPECT_EQ(get("/hello.txt", {{"Range", "items=0-1"}}).code, 200);
  EXPECT_EQ(get("/hello.txt", {{"Range", "bytes="}}).code, 200);  // no range at all (Go)
  auto head = get("/hello.txt", {{"Range", "bytes=0-1"}}, "HEAD");
  EXPECT_EQ(head.code, 200);
  EXPECT_EQ(head.header().get("Content-Length"), "13");
  EXPECT_EQ(get("/empty.txt", {{"Range", "bytes=0-"}}).code, 200);
  auto overlap = get("/hello.txt", {{"Range", "bytes=0-10,0-10"}});
  EXPECT_EQ(overlap.code, 200);
  EXPECT_EQ(overlap.body, kHello);
}

TEST_F(FileServerTest, IfRangeDecidesBetweenPartAndWhole) {
  std::string etag(get("/hello.txt").header().get("ETag"));
  EXPECT_EQ(get("/hello.txt", {{"Range", "bytes=0-1"}, {"If-Range", etag}}).code, 206);
  EXPECT_EQ(get("/hello.txt", {{"Range", "bytes=0-1"}, {"If-Range", "\"stale\""}}).code, 200);
  std::string lm(get("/hello.txt").header().get("Last-Modified"));
  EXPECT_EQ(get("/hello.txt", {{"Range", "bytes=0-1"}, {"If-Range", lm}}).code, 206);
  EXPECT_EQ(get("/hello.txt", {{"Range", "bytes=0-1"}, {"If-Range", "Sun, 06 Nov 1994 08:49:37 GMT"}}).code,
            200);
}

TEST_F(FileServerTest, MultipleRangesGiveMultipartByteranges) {
  auto w = get("/hello.txt", {{"Range", "bytes=0-1, 7-8"}});
  EXPECT_EQ(w.code, 206);
  std::string_view ctype = w.header().get("Content-Type");
  const std::string_view prefix = "multipart/byteranges; boundary=";
  ASSERT_TRUE(ctype.starts_with(prefix)) << ctype;
  std::string boundary(ctype.substr(prefix.size()));
  std::string want = "--" + boundary +
                     "\r\nContent-Range: bytes 0-1/13\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n"
                     "he\r\n--" +
                     boundary +
                     "\r\nContent-Range: bytes 7-8/13\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n"
                     "wo\r\n--" +
                     boundary + "--\r\n";
  EXPECT_EQ(w.body, want);
  EXPECT_EQ(w.header().get("Content-Length"), std::to_string(want.size()));
}

// --- containment ---------------------------------------------------------------------

TEST_F(FileServerTest, TraversalAttemptsAreRejected) {
  for (const char* target : {
           "/../outside/secret.txt",
           "/%2e%2e/outside/secret.txt",
           "/%2E%2E/outside/secret.txt",
           "/..%2foutside/secret.txt",
           "/sub/..%2f..%2foutside/secret.txt",
           "/sub/%2e%2e/%2e%2e/outside/secret.txt",
           "/..\\outside\\secret.txt",
           "/%5c..%5coutside%5csecret.txt",
           "/hello.txt%00.html",
           "/%zz",
       }) {
    auto w = get(target);
    EXPECT_EQ(w.code, 400) << target;
    EXPECT_EQ(w.body.find(kSecret), std::string::npos) << target;
  }
}

TEST_F(FileServerTest, SymlinksMayNotLeaveTheRoot) {
  auto out = get("/escape");
  EXPECT_EQ(out.code, 404);
  EXPECT_EQ(out.body.find(kSecret), std::string::npos);
  auto out_dir = get("/escape_dir/secret.txt");
  EXPECT_EQ(out_dir.code, 404);
  EXPECT_EQ(out_dir.body.find(kSecret), std::string::npos);
  EXPECT_EQ(get("/escape_dir/").code, 404);
  // RESOLVE_BENEATH refuses absolute symlinks even when they point inside.
  EXPECT_EQ(get("/abs_inside").code, 404);
  // A relative symlink inside the root is fine.
  auto in = get("/inside");
  EXPECT_EQ(in.code, 200);
  EXPECT_EQ(in.body, kHello);
}

TEST_F(FileServerTest, DotSegmentsThatStayInsideAreCleaned) {
  auto w = get("/./sub//index.htm%6c");  // decodes to /./sub//index.html: the index redirect
  EXPECT_EQ(w.code, 301);
  EXPECT_EQ(get("/%2e/hello.txt").body, kHello);
}

TEST_F(FileServerTest, OpenBeneathIsTheRealGuard) {
  // The path checks before opening are defence in depth; the kernel keeps
  // ".." and symlinks inside the root on its own (openat2 RESOLVE_BENEATH),
  // and so does the /proc/self/fd check used where openat2 is missing.
  int root = ::open(root_.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC);
  ASSERT_GE(root, 0);
  for (auto open : {&detail::open_beneath, &detail::open_beneath_checked}) {
    for (const char* escape : {"../outside/secret.txt", "escape", "escape_dir/secret.txt",
                               "sub/../../outside/secret.txt"}) {
      int fd = open(root, escape);
      EXPECT_EQ(fd, -EXDEV) << escape;
      if (fd >= 0) ::close(fd);
    }
    for (const char* ok : {"hello.txt", "inside", "sub/../hello.txt", ".", "fifo"}) {
      int fd = open(root, ok);
      EXPECT_GE(fd, 0) << ok;
      if (fd >= 0) ::close(fd);
    }
    EXPECT_EQ(open(root, "missing"), -ENOENT);
  }
  EXPECT_EQ(detail::open_beneath(root, "abs_inside"), -EXDEV);  // absolute: refused by RESOLVE_BENEATH
  int abs = detail::open_beneath_checked(root, "abs_inside");  // the fallback judges where it lands
  EXPECT_GE(abs, 0);
  if (abs >= 0) ::close(abs);
  ::close(root);
}

// --- composition and serve_content ------------------------------------------------------

TEST_F(FileServerTest, BehindStripPrefixInAServeMux) {
  ResponseRecorder w, dir;
  gofer::run([&] {
    ServeMux mux;
    mux.handle("GET /static/", strip_prefix("/static", file_server(root_.string())));
    auto r = new_request("GET", "/static/hello.txt");
    mux(w, *r);
    auto d = new_request("GET", "/static/sub");
    mux(dir, *d);
  });
  EXPECT_EQ(w.code, 200);
  EXPECT_EQ(w.body, kHello);
  EXPECT_EQ(dir.code, 301);
  EXPECT_EQ(dir.header().get("Location"), "sub/");  // relative: right below any prefix
}

TEST_F(FileServerTest, RootCreatedAfterConstruction) {
  fs::path later = base_ / "later";
  ResponseRecorder before, after;
  gofer::run([&] {
    FileServer server(later.string());
    auto r = new_request("GET", "/f.txt");
    server(before, *r);
    fs::create_directories(later);
    write_file(later / "f.txt", "late");
    auto r2 = new_request("GET", "/f.txt");
    server(after, *r2);
  });
  EXPECT_EQ(before.code, 404);
  EXPECT_EQ(after.code, 200);
  EXPECT_EQ(after.body, "late");
}

TEST_F(FileServerTest, ServeContentKeepsAPresetTypeAndETag) {
  ResponseRecorder w, cond;
  gofer::run([&] {
    int fd = ::open((root_ / "hello.txt").c_str(), O_RDONLY | O_CLOEXEC);
    ASSERT_GE(fd, 0);
    auto r = new_request("GET", "/whatever");
    w.header().set("Content-Type", "application/x-custom");
    w.header().set("ETag", "\"v1\"");
    serve_content(w, *r, "x.html", std::chrono::system_clock::time_point{}, fd, 5);
    auto r2 = new_request("GET", "/whatever", "", {{"If-None-Match", "\"v1\""}});
    cond.header().set("ETag", "\"v1\"");
    serve_content(cond, *r2, "x.html", std::chrono::system_clock::time_point{}, fd, 5);
    ::close(fd);
  });
  EXPECT_EQ(w.code, 200);
  EXPECT_EQ(w.header().get("Content-Type"), "application/x-custom");
  EXPECT_FALSE(w.header().has("Last-Modified"));  // epoch modtime: unknown
  EXPECT_EQ(w.body, "hello");
  EXPECT_EQ(cond.code, 304);
}

}  // namespace
}  // namespace gofer::http
