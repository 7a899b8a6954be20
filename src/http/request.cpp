// Request accessors: headers, query parameters, path values, and
// percent-decoding (RFC 3986 §2.1).
#include <unistd.h>

#include <algorithm>
#include <cerrno>

#include "gofer/http/server.h"
#include "http/request_access.h"

namespace gofer::http {
namespace {

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Decodes %XX (and, in a query, '+' as space). A malformed escape is kept
// as it is, as browsers do.
std::string unescape(std::string_view s, bool query) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    if (c == '%' && i + 2 < s.size()) {
      int hi = hex_value(s[i + 1]), lo = hex_value(s[i + 2]);
      if (hi >= 0 && lo >= 0) {
        out.push_back(static_cast<char>(hi * 16 + lo));
        i += 2;
        continue;
      }
    }
    out.push_back(query && c == '+' ? ' ' : c);
  }
  return out;
}

}  // namespace

std::string_view Request::header(std::string_view name) const {
  for (const Header& h : headers) {
    if (equal_fold(h.name, name)) return h.value;
  }
  return {};
}

std::vector<std::string_view> Request::header_values(std::string_view name) const {
  std::vector<std::string_view> out;
  for (const Header& h : headers) {
    if (equal_fold(h.name, name)) out.push_back(h.value);
  }
  return out;
}

std::string Request::query(std::string_view key) const {
  std::string_view q = raw_query;
  while (!q.empty()) {
    std::size_t amp = q.find('&');
    std::string_view pair = q.substr(0, amp);
    q = amp == std::string_view::npos ? std::string_view{} : q.substr(amp + 1);
    std::size_t eq = pair.find('=');
    std::string_view k = pair.substr(0, eq);
    std::string_view v = eq == std::string_view::npos ? std::string_view{} : pair.substr(eq + 1);
    if (k == key || unescape(k, true) == key) return unescape(v, true);
  }
  return {};
}

std::string Request::decoded_path() const {
  return unescape(path, false);
}

std::string_view Request::path_value(std::string_view name) const {
  for (const auto& [k, v] : path_values_) {
    if (k == name) return v;
  }
  return {};
}

void Request::set_path_value(std::string_view name, std::string value) {
  for (auto& [k, v] : path_values_) {
    if (k == name) {
      v = std::move(value);
      return;
    }
  }
  path_values_.emplace_back(std::string(name), std::move(value));
}

const Context& Request::context() const {
  return context_source_ != nullptr ? context_source_->request_context() : context_;
}

std::string_view Request::proto() const noexcept {
  if (proto_major == 2) return "HTTP/2.0";
  if (proto_major == 1 && proto_minor == 0) return "HTTP/1.0";
  return "HTTP/1.1";
}

Result<std::string> Body::read_all(std::size_t limit) {
  std::string out;
  char buf[16384];
  for (;;) {
    auto [n, err] = read(buf);
    out.append(buf, n);
    if (out.size() > limit) return {std::move(out), make_error_code(errc::body_too_large)};
    if (err == net::errc::eof) return {std::move(out), {}};
    if (err) return {std::move(out), err};
  }
}

WriteResult ResponseWriter::send_file(int fd, std::int64_t offset, std::size_t count) {
  char buf[16384];
  std::size_t done = 0;
  while (done < count) {
    std::size_t want = std::min(sizeof buf, count - done);
    ssize_t n = ::pread(fd, buf, want, static_cast<off_t>(offset + done));
    if (n < 0) return {done, Error(errno, std::system_category())};
    if (n == 0) break;
    auto [w, err] = write(std::string_view(buf, static_cast<std::size_t>(n)));
    done += w;
    if (err) return {done, err};
  }
  return {done, {}};
}

}  // namespace gofer::http
