// A minimal HTTP/1.1 GET for `gofer top`: one request on a connection of
// its own (Connection: close), the body read to the end.
//
// TEMPORARY: gofer has no HTTP client yet. When gofer::http gets one
// (Go's http.Client), `gofer top` uses it and this file goes.
#pragma once

#include <chrono>
#include <string>
#include <string_view>

namespace gofer::app {

struct GetResult {
  std::string error;  // non-empty: no HTTP response (connect, I/O, framing), in words
  int status = 0;
  std::string reason;  // "OK", "Not Found"
  std::string body;
};

// GET http://hostport/target, all of it within `timeout`. Call from a
// goroutine. Responses over 64 MiB are an error.
GetResult http_get(std::string_view hostport, std::string_view target,
                   std::chrono::nanoseconds timeout);

}  // namespace gofer::app
