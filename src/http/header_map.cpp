// HeaderMap (response header fields), status texts and the http error
// category.
#include "gofer/http/server.h"

namespace gofer::http {

void HeaderMap::add(std::string_view name, std::string_view value) {
  auto off = static_cast<std::uint32_t>(arena_.size());
  arena_.append(name);
  arena_.append(value);
  fields_.push_back(Field{off, static_cast<std::uint32_t>(name.size()),
                          off + static_cast<std::uint32_t>(name.size()),
                          static_cast<std::uint32_t>(value.size())});
}

void HeaderMap::set(std::string_view name, std::string_view value) {
  del(name);
  add(name, value);
}

void HeaderMap::del(std::string_view name) {
  // Deleted fields keep their arena bytes until clear(): deleting is rare
  // and compaction would cost more than the bytes.
  for (Field& f : fields_) {
    if (f.name_len != 0 && equal_fold(view(f.name_off, f.name_len), name)) f.name_len = 0;
  }
}

std::string_view HeaderMap::get(std::string_view name) const {
  for (const Field& f : fields_) {
    if (f.name_len != 0 && equal_fold(view(f.name_off, f.name_len), name)) {
      return view(f.value_off, f.value_len);
    }
  }
  return {};
}

bool HeaderMap::has(std::string_view name) const {
  for (const Field& f : fields_) {
    if (f.name_len != 0 && equal_fold(view(f.name_off, f.name_len), name)) return true;
  }
  return false;
}

void HeaderMap::clear() {
  fields_.clear();  // keeps capacity: the next response reuses it
  arena_.clear();
}

std::string_view status_text(int code) noexcept {
  switch (code) {
    case 100:
      return "Continue";
    case 101:
      return "Switching Protocols";
    case 102:
      return "Processing";
    case 103:
      return "Early Hints";
    case 200:
      return "OK";
    case 201:
      return "Created";
    case 202:
      return "Accepted";
    case 203:
      return "Non-Authoritative Information";
    case 204:
      return "No Content";
    case 205:
      return "Reset Content";
    case 206:
      return "Partial Content";
    case 207:
      return "Multi-Status";
    case 208:
      return "Already Reported";
    case 226:
      return "IM Used";
    case 300:
      return "Multiple Choices";
    case 301:
      return "Moved Permanently";
    case 302:
      return "Found";
    case 303:
      return "See Other";
    case 304:
      return "Not Modified";
    case 305:
      return "Use Proxy";
    case 307:
      return "Temporary Redirect";
    case 308:
      return "Permanent Redirect";
    case 400:
      return "Bad Request";
    case 401:
      return "Unauthorized";
    case 402:
      return "Payment Required";
    case 403:
      return "Forbidden";
    case 404:
      return "Not Found";
    case 405:
      return "Method Not Allowed";
    case 406:
      return "Not Acceptable";
    case 407:
      return "Proxy Authentication Required";
    case 408:
      return "Request Timeout";
    case 409:
      return "Conflict";
    case 410:
      return "Gone";
    case 411:
      return "Length Required";
    case 412:
      return "Precondition Failed";
    case 413:
      return "Request Entity Too Large";
    case 414:
      return "Request URI Too Long";
    case 415:
      return "Unsupported Media Type";
    case 416:
      return "Requested Range Not Satisfiable";
    case 417:
      return "Expectation Failed";
    case 418:
      return "I'm a teapot";
    case 421:
      return "Misdirected Request";
    case 422:
      return "Unprocessable Entity";
    case 423:
      return "Locked";
    case 424:
      return "Failed Dependency";
    case 425:
      return "Too Early";
    case 426:
      return "Upgrade Required";
    case 428:
      return "Precondition Required";
    case 429:
      return "Too Many Requests";
    case 431:
      return "Request Header Fields Too Large";
    case 451:
      return "Unavailable For Legal Reasons";
    case 500:
      return "Internal Server Error";
    case 501:
      return "Not Implemented";
    case 502:
      return "Bad Gateway";
    case 503:
      return "Service Unavailable";
    case 504:
      return "Gateway Timeout";
    case 505:
      return "HTTP Version Not Supported";
    case 506:
      return "Variant Also Negotiates";
    case 507:
      return "Insufficient Storage";
    case 508:
      return "Loop Detected";
    case 510:
      return "Not Extended";
    case 511:
      return "Network Authentication Required";
    default:
      return "";
  }
}

namespace {
class HttpCategory final : public std::error_category {
 public:
  const char* name() const noexcept override { return "gofer.http"; }
  std::string message(int ev) const override {
    switch (static_cast<errc>(ev)) {
      case errc::server_closed:
        return "http: Server closed";
      case errc::body_too_large:
        return "http: request body too large";
      case errc::handler_timeout:
        return "http: Handler timeout";
      case errc::not_multipart:
        return "request Content-Type isn't multipart/form-data";
      case errc::missing_boundary:
        return "no multipart boundary param in Content-Type";
      case errc::post_too_large:
        return "http: POST too large";
      case errc::multipart_conflict:
        return "http: multipart body read both by parts and whole";
      case errc::not_supported:
        return "feature not supported";
      case errc::hijacked:
        return "http: connection has been hijacked";
    }
    return "http: unknown error";
  }
};
}  // namespace

const std::error_category& http_category() noexcept {
  static const HttpCategory category;
  return category;
}

}  // namespace gofer::http
