// A Request whose string views point into storage it owns, for code that
// must keep a request beyond the connection's read buffer: the late handler
// of timeout_handler (adapters.cpp) and httptest::new_request.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "gofer/http/server.h"
#include "http/request_access.h"

namespace gofer::http::detail {

// Owns the bytes that a Request's views point to.
//
// Invariant: once fill() returned, `bytes` is never resized (its buffer,
// and so every view handed out, stays put); a RequestStorage is neither
// copied nor moved while the Request that points into it is in use.
struct RequestStorage {
  std::string bytes;
  std::vector<Header> headers;
  std::vector<Header> trailers;
  std::optional<tls::ConnectionState> tls;  // what `tls` points to, over TLS

  RequestStorage() = default;
  RequestStorage(const RequestStorage&) = delete;
  RequestStorage& operator=(const RequestStorage&) = delete;

  // Copies every view of `from` into this storage and points `to`'s views
  // at the copies; the other fields of `to` (numbers, path values, remote
  // address, context) are copied as they are. the body is left to the caller.
  void fill(const Request& from, Request& to) {
    std::size_t total = from.method.size() + from.target.size() + from.path.size() +
                        from.raw_query.size() + from.host.size();
    for (const Header& h : from.headers) total += h.name.size() + h.value.size();
    for (const Header& h : from.trailers) total += h.name.size() + h.value.size();
    bytes.clear();
    bytes.reserve(total);  // no reallocation below: the views stay valid
    auto keep = [this](std::string_view s) {
      std::size_t off = bytes.size();
      bytes.append(s);
      return std::string_view(bytes.data() + off, s.size());
    };
    to.method = keep(from.method);
    to.target = keep(from.target);
    to.path = keep(from.path);
    to.raw_query = keep(from.raw_query);
    to.host = keep(from.host);
    headers.clear();
    for (const Header& h : from.headers) headers.push_back({keep(h.name), keep(h.value)});
    trailers.clear();
    for (const Header& h : from.trailers) trailers.push_back({keep(h.name), keep(h.value)});
    to.headers = headers;
    to.trailers = trailers;
    to.proto_major = from.proto_major;
    to.proto_minor = from.proto_minor;
    to.content_length = from.content_length;
    to.remote_addr = from.remote_addr;
    tls.reset();
    if (from.tls != nullptr) tls = *from.tls;  // the connection's may go first
    to.tls = tls ? &*tls : nullptr;
    to.set_context(from.context());  // the copy may outlive the connection
    RequestAccess::copy_path_values(from, to);
    RequestAccess::copy_extras(from, to);
  }
};

}  // namespace gofer::http::detail
