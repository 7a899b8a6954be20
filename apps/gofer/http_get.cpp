// TEMPORARY (see http_get.h): to be replaced by gofer's HTTP client.
#include "http_get.h"

#include <fmt/format.h>

#include <charconv>

#include "gofer/http/parser.h"
#include "gofer/net.h"

namespace gofer::app {
namespace {

constexpr std::size_t kMaxResponse = 64 << 20;

// The value of header `name` (case-insensitive) in `head`, or "".
std::string_view header(std::string_view head, std::string_view name) {
  std::size_t at = head.find("\r\n");
  while (at != std::string_view::npos && at + 2 < head.size()) {
    std::size_t begin = at + 2;
    std::size_t end = head.find("\r\n", begin);
    std::string_view line = head.substr(begin, end - begin);
    std::size_t colon = line.find(':');
    if (colon == name.size() &&
        std::equal(name.begin(), name.end(), line.begin(),
                   [](char a, char b) { return std::tolower(a) == std::tolower(b); })) {
      std::string_view v = line.substr(colon + 1);
      while (!v.empty() && (v.front() == ' ' || v.front() == '\t')) v.remove_prefix(1);
      while (!v.empty() && (v.back() == ' ' || v.back() == '\t')) v.remove_suffix(1);
      return v;
    }
    at = end;
  }
  return {};
}

std::string dechunk(std::string_view in, std::string* error) {
  http::ChunkedDecoder decoder;
  std::string body;
  for (;;) {
    http::ChunkedResult r = decoder.decode(in);
    in.remove_prefix(r.consumed);
    switch (r.status) {
      case http::ChunkedStatus::data:
        body.append(r.data);
        continue;
      case http::ChunkedStatus::done:
        return body;
      case http::ChunkedStatus::incomplete:
        *error = "the response's chunked body was cut short";
        return body;
      case http::ChunkedStatus::error:
        *error = "the response's chunked body is malformed";
        return body;
    }
  }
}

}  // namespace

GetResult http_get(std::string_view hostport, std::string_view target,
                   std::chrono::nanoseconds timeout) {
  GetResult out;
  auto [conn, err] = net::dial("tcp", hostport, timeout);
  if (err) {
    out.error = fmt::format("cannot connect to {}: {}", hostport, err.message());
    return out;
  }
  (void)conn.set_deadline(net::Clock::now() + timeout);
  std::string request = fmt::format(
      "GET {} HTTP/1.1\r\nHost: {}\r\nUser-Agent: gofer-top\r\nAccept: application/json\r\n"
      "Connection: close\r\n\r\n",
      target, hostport);
  if (auto [n, werr] = conn.write(request); werr) {
    out.error = fmt::format("{}: sending the request: {}", hostport, werr.message());
    return out;
  }
  std::string raw;
  for (;;) {
    char buf[16384];
    auto [n, rerr] = conn.read(buf);
    if (rerr == net::errc::eof) break;
    if (rerr) {
      out.error =
          fmt::format("{}: reading the response: {}", hostport,
                      net::is_timeout(rerr) ? "no complete answer in time" : rerr.message());
      return out;
    }
    raw.append(buf, n);
    if (raw.size() > kMaxResponse) {
      out.error = fmt::format("{}: the response is over {} MiB", hostport, kMaxResponse >> 20);
      return out;
    }
  }
  std::size_t head_end = raw.find("\r\n\r\n");
  std::string_view status_line = std::string_view(raw).substr(0, raw.find("\r\n"));
  int status = 0;
  auto digits = status_line.size() >= 12 ? status_line.substr(9, 3) : std::string_view{};
  auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), status);
  if (head_end == std::string::npos || !status_line.starts_with("HTTP/1.") || ec != std::errc() ||
      end != digits.data() + 3) {
    out.error = fmt::format("{} did not answer in HTTP/1.x", hostport);
    return out;
  }
  out.status = status;
  out.reason = std::string(status_line.size() > 13 ? status_line.substr(13) : "");
  std::string_view head = std::string_view(raw).substr(0, head_end + 2);
  std::string_view body = std::string_view(raw).substr(head_end + 4);
  if (header(head, "Transfer-Encoding").find("chunked") != std::string_view::npos) {
    out.body = dechunk(body, &out.error);
  } else if (std::string_view cl = header(head, "Content-Length"); !cl.empty()) {
    std::size_t length = 0;
    auto [cend, cec] = std::from_chars(cl.data(), cl.data() + cl.size(), length);
    if (cec != std::errc() || cend != cl.data() + cl.size() || length > body.size()) {
      out.error =
          fmt::format("{}: the response's body is shorter than its Content-Length", hostport);
    } else {
      out.body = std::string(body.substr(0, length));
    }
  } else {
    out.body = std::string(body);  // delimited by the end of the connection
  }
  return out;
}

}  // namespace gofer::app
