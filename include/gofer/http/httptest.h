// gofer::http::httptest — helpers to test handlers without sockets, like
// Go's net/http/httptest.
//
//   auto r = gofer::http::httptest::new_request("GET", "/items/7?full=1", "",
//                                               {{"Accept", "text/plain"}});
//   gofer::http::httptest::ResponseRecorder w;
//   mux(w, *r);
//   EXPECT_EQ(w.code, 200);
//   EXPECT_EQ(w.header().get("Content-Type"), "text/plain");
//   EXPECT_EQ(w.body, "item 7");
//
// Nothing here needs the runtime, but a handler that parks (channels,
// timeout_handler) or calls gofer::blocking (FileServer) must still be run
// on a goroutine, inside gofer::run.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "gofer/http/server.h"

namespace gofer::http::httptest {

// A ResponseWriter that records what the handler does (Go's
// httptest.ResponseRecorder).
class ResponseRecorder final : public ResponseWriter {
 public:
  // The status: 200 until write_header is called (or the first write).
  int code = status_ok;
  // Everything written, including what send_file copied. As the server
  // does, a body written without a Content-Type gets a sniffed one (from
  // its first write).
  std::string body;
  // Whether flush() was called.
  bool flushed = false;

  // The live header map the handler changes (Go's rw.Header()).
  HeaderMap& header() override { return header_; }
  // Records the first code; later calls are ignored, as a server does.
  // Throws std::invalid_argument for a code outside 100..999 (Go panics).
  void write_header(int code) override;
  WriteResult write(std::string_view data) override;
  Error flush() override;
  // Reads `count` bytes of `fd` from `offset` (pread) into body; returns
  // how many it got, fewer at the end of the file.
  WriteResult send_file(int fd, std::int64_t offset, std::size_t count) override;

  bool wrote_header() const noexcept { return wrote_header_; }
  // The header as it was when the response started (write_header or the
  // first write), like Go's rw.Result().Header; the live map before that.
  const HeaderMap& sent_header() const noexcept { return wrote_header_ ? snapshot_ : header_; }

 private:
  void sniff(std::string_view first_bytes);

  HeaderMap header_;
  HeaderMap snapshot_;
  bool wrote_header_ = false;
};

// A Request that owns everything its views point to, and a readable body.
// Not copyable or movable (the views point into it): it lives on the heap,
// behind the unique_ptr that new_request returns.
class TestRequest final : public Request {
 public:
  TestRequest(const TestRequest&) = delete;
  TestRequest& operator=(const TestRequest&) = delete;
  ~TestRequest();

  struct Storage;

 private:
  friend std::unique_ptr<TestRequest> new_request(std::string_view, std::string_view,
                                                  std::string_view, std::vector<Header>);
  TestRequest();
  std::unique_ptr<Storage> storage_;
};

// A request as a server would hand it to a handler (Go's
// httptest.NewRequest): `target` is an origin-form path with an optional
// query ("/a?b=c"), or an absolute URL ("http://host:8080/a"), whose
// authority becomes the host. The host is "example.com" otherwise, unless
// `headers` has a Host field. HTTP/1.1, content_length = body.size(), the
// body reads `body`, remote_addr 192.0.2.1:1234, a background context.
// Throws std::invalid_argument for an empty method or a target that is
// neither form.
std::unique_ptr<TestRequest> new_request(std::string_view method, std::string_view target,
                                         std::string_view body = {},
                                         std::vector<Header> headers = {});

}  // namespace gofer::http::httptest
