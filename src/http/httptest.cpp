// httptest: ResponseRecorder and new_request (Go's net/http/httptest).
//
// new_request builds the request from views into the caller's arguments and
// then copies every byte into storage owned by the TestRequest
// (detail::RequestStorage), so the caller's strings may go away at once.
#include "gofer/http/httptest.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <system_error>

#include "http/request_copy.h"
#include "http/sniff.h"

namespace gofer::http::httptest {

void ResponseRecorder::write_header(int code_) {
  if (code_ < 100 || code_ > 999) {
    throw std::invalid_argument("httptest::ResponseRecorder: invalid status code " + std::to_string(code_));
  }
  if (wrote_header_) return;
  wrote_header_ = true;
  code = code_;
  snapshot_ = header_;
}

WriteResult ResponseRecorder::write(std::string_view data) {
  if (!wrote_header_) write_header(status_ok);
  if (body.empty() && !data.empty()) sniff(data);
  body.append(data);
  return {data.size(), {}};
}

void ResponseRecorder::sniff(std::string_view first_bytes) {
  // As the server does: a body without a Content-Type gets a sniffed one.
  if (header_.has("Content-Type") || header_.has("Transfer-Encoding")) return;
  std::string_view type = detail::detect_content_type(first_bytes);
  header_.set("Content-Type", type);
  snapshot_.set("Content-Type", type);
}

Error ResponseRecorder::flush() {
  if (!wrote_header_) write_header(status_ok);
  flushed = true;
  return {};
}

WriteResult ResponseRecorder::send_file(int fd, std::int64_t offset, std::size_t count) {
  if (!wrote_header_) write_header(status_ok);
  std::size_t done = 0;
  char buf[64 << 10];
  while (done < count) {
    std::size_t want = std::min(sizeof buf, count - done);
    ssize_t n = ::pread(fd, buf, want, static_cast<off_t>(offset + static_cast<std::int64_t>(done)));
    if (n < 0) {
      if (errno == EINTR) continue;
      return {done, std::error_code(errno, std::system_category())};
    }
    if (n == 0) break;
    if (body.empty()) sniff(std::string_view(buf, static_cast<std::size_t>(n)));
    body.append(buf, static_cast<std::size_t>(n));
    done += static_cast<std::size_t>(n);
  }
  return {done, {}};
}

namespace {

// Reads a string, then EOF.
class StringBody final : public Body {
 public:
  explicit StringBody(std::string data) : data_(std::move(data)) {}
  Result<std::size_t> read(std::span<char> buf) override {
    if (pos_ == data_.size()) return {0, net::errc::eof};
    std::size_t n = std::min(buf.size(), data_.size() - pos_);
    std::memcpy(buf.data(), data_.data() + pos_, n);
    pos_ += n;
    return {n, {}};
  }

 private:
  std::string data_;
  std::size_t pos_ = 0;
};

net::Addr test_remote_addr() {
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_port = htons(1234);
  ::inet_pton(AF_INET, "192.0.2.1", &sa.sin_addr);
  return net::Addr(reinterpret_cast<const sockaddr*>(&sa), sizeof sa);
}

}  // namespace

struct TestRequest::Storage {
  detail::RequestStorage request;
  StringBody body;
  explicit Storage(std::string_view b) : body(std::string(b)) {}
};

TestRequest::TestRequest() = default;
TestRequest::~TestRequest() = default;

std::unique_ptr<TestRequest> new_request(std::string_view method, std::string_view target,
                                         std::string_view body, std::vector<Header> headers) {
  if (method.empty()) throw std::invalid_argument("httptest::new_request: empty method");
  Request src;
  src.method = method;
  src.target = target;
  src.host = "example.com";
  std::string_view path_and_query;
  if (target == "*") {
    // OPTIONS *: no path.
  } else if (target.starts_with('/')) {
    path_and_query = target;
  } else if (std::size_t scheme = target.find("://"); scheme != std::string_view::npos) {
    std::string_view rest = target.substr(scheme + 3);
    std::size_t slash = rest.find_first_of("/?");
    src.host = rest.substr(0, slash);
    path_and_query = slash == std::string_view::npos ? std::string_view("/") : rest.substr(slash);
    if (path_and_query.starts_with('?')) {
      throw std::invalid_argument("httptest::new_request: absolute URL without a path: " + std::string(target));
    }
  } else if (method == "CONNECT" && !target.empty()) {
    src.host = target;  // authority-form
  } else {
    throw std::invalid_argument("httptest::new_request: bad target " + std::string(target));
  }
  std::size_t q = path_and_query.find('?');
  src.path = path_and_query.substr(0, q);
  if (q != std::string_view::npos) src.raw_query = path_and_query.substr(q + 1);
  for (const Header& h : headers) {
    if (equal_fold(h.name, "Host")) src.host = h.value;
  }
  src.headers = headers;
  src.content_length = static_cast<std::int64_t>(body.size());
  src.remote_addr = test_remote_addr();

  std::unique_ptr<TestRequest> r(new TestRequest());
  r->storage_ = std::make_unique<TestRequest::Storage>(body);
  r->storage_->request.fill(src, *r);
  r->set_body(r->storage_->body);
  return r;
}

}  // namespace gofer::http::httptest
