// What the server (and httptest) may do to a Request that a handler may
// not: its private fields, reached through one friend. Private to the http
// layer.
#pragma once

#include "gofer/context.h"
#include "gofer/http/server.h"

namespace gofer::http::detail {

// Makes a request's context on first use: the connection it came on
// (ServedConn), which also watches for the client going away.
class RequestContextSource {
 public:
  virtual const Context& request_context() = 0;

 protected:
  ~RequestContextSource() = default;
};

struct RequestAccess {
  // The connection makes the request's context when it is first asked for.
  static void set_context_source(Request& r, RequestContextSource* source) noexcept {
    r.context_source_ = source;
  }
  // A new request on the connection: no path values (storage kept).
  static void clear_path_values(Request& r) noexcept { r.path_values_.clear(); }
  // A connection parked idle keeps no memory.
  static void release_path_values(Request& r) noexcept { r.path_values_ = {}; }
  static void copy_path_values(const Request& from, Request& to) {
    to.path_values_ = from.path_values_;
  }
  // The request ended: what it parsed goes (a multipart form's temporary
  // files with it, as Go's server removes them after the handler).
  static void drop_extras(Request& r) noexcept;
  // clone() and timeout_handler's copy keep what was parsed (url(), forms).
  static void copy_extras(const Request& from, Request& to);
};

}  // namespace gofer::http::detail
