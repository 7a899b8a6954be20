// gofer::http::ServeMux — Go 1.22's request router — and the handler
// adapters of net/http (StripPrefix, TimeoutHandler, MaxBytesHandler, …).
//
//   gofer::http::ServeMux mux;
//   mux.handle_func("GET /items/{id}", [](auto& w, auto& r) {
//     w.write(r.path_value("id"));
//   });
//   mux.handle("/static/", gofer::http::strip_prefix("/static", gofer::http::file_server("www")));
//   gofer::http::Server server;
//   server.addr = ":8080";
//   server.handler = mux;  // a Handler: the mux is copied, sharing its patterns
//
// Patterns: "[METHOD ][HOST]/[PATH]".
//   - METHOD (a token) restricts the pattern to that method; GET also
//     matches HEAD. Without a method every method matches.
//   - HOST restricts it to requests for that host (the Host header without
//     its port, compared ignoring case). Host patterns are tried first.
//   - PATH is made of segments: a literal, "{name}" (any one segment),
//     "{name...}" (the rest of the path; last segment only), or "{$}" (last
//     segment only: matches the trailing slash and nothing more). A path
//     ending in '/' matches every path below it ("/static/" matches
//     "/static/a/b"); "/" matches everything.
//   - The most specific pattern wins: one that matches a strict subset of
//     another's requests. Registering two patterns that may match the same
//     request with neither more specific (e.g. "/a/{x}" and "/{y}/b", or
//     "GET /" and "/a") throws std::invalid_argument naming both, as Go's
//     Handle panics.
//
// Serving a request (Go's ServeMux.ServeHTTP):
//   - the path is matched segment by segment on its percent-encoded form,
//     each segment decoded before it is compared; wildcard values are
//     decoded and stored with Request::set_path_value.
//   - an unclean path ("/a/../b", "//a", "/./a") is redirected (301) to its
//     clean form, keeping the query — except for CONNECT requests.
//   - "/dir" when only "/dir/" is registered redirects (301) to "/dir/".
//   - a path that some pattern matches with another method gets 405 with an
//     Allow header listing those methods; anything else gets 404.
//   - the request-target "*" (OPTIONS *) gets 400, as in Go.
//
// A ServeMux is a reference, like Go's *ServeMux: copies (for instance the
// one made when it is stored in a Handler) share the registered patterns,
// and patterns may be added while requests are being served.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "gofer/http/server.h"

namespace gofer::http {

// Where a pattern was registered, for conflict messages. The job of
// std::source_location, which clang 14 cannot provide with libstdc++ 12
// (no __builtin_source_location); the builtins below exist in both.
struct CallSite {
  const char* file = "";
  int line = 0;
  static constexpr CallSite current(const char* file = __builtin_FILE(),
                                    int line = __builtin_LINE()) noexcept {
    return {file, line};
  }
};

class ServeMux {
 public:
  ServeMux();

  // Registers `handler` for `pattern`. Throws std::invalid_argument if the
  // pattern is malformed, the handler is empty, or the pattern conflicts
  // with one registered before (the message names both, and where each was
  // registered).
  void handle(std::string_view pattern, Handler handler, CallSite where = CallSite::current());
  // Go's HandleFunc: the same as handle(); any callable f(w, r) will do.
  void handle_func(std::string_view pattern, Handler handler,
                   CallSite where = CallSite::current()) {
    handle(pattern, std::move(handler), where);
  }

  // Routes `r` to the handler of the most specific matching pattern, or
  // answers itself with a redirect, 404 or 405 (see above).
  void operator()(ResponseWriter& w, Request& r) const;

  // The registered handler that serves `r` and its pattern as registered.
  // On a match, the wildcard values are set on `r` (path_value). Returns
  // nullopt when the mux would answer itself (redirect, 404, 405, "*").
  // The pointers stay valid as long as the mux (any copy of it) lives.
  struct Route {
    const Handler* handler;
    std::string_view pattern;
  };
  std::optional<Route> handler_for(Request& r) const;

  struct State;

 private:
  std::shared_ptr<State> state_;
};

// --- Handler adapters (src/http/adapters.cpp) ---------------------------

// Answers every request with 404 (Go's NotFoundHandler).
Handler not_found_handler();

// Redirects every request to `url` with `code` (Go's RedirectHandler).
Handler redirect_handler(std::string url, int code);

// Removes `prefix` from the request path and calls `handler`; 404 if the
// path does not start with it (Go's StripPrefix). The prefix is compared
// with the path as sent, still percent-encoded. The path is restored when
// `handler` returns. An empty prefix returns `handler` itself.
Handler strip_prefix(std::string prefix, Handler handler);

// Runs `handler` with a time limit (Go's TimeoutHandler). The handler runs
// on its own goroutine and writes into a buffer; if it returns within
// `limit`, its status, headers and body are copied to the real writer.
// Otherwise the client gets 503 with `message` as body (a default HTML page
// if empty), the request's context that the handler sees is cancelled
// (context_errc::deadline_exceeded), and the handler's later writes fail
// with errc::handler_timeout. flush() on the buffered writer sends nothing.
// An exception thrown by `handler` in time is rethrown to the caller.
//
// Unlike Go, the late handler cannot touch freed memory: it works on a copy
// of the request (its views point into storage of the timeout handler, not
// the connection's buffer; trailers are not copied), and its body reads
// fail with errc::handler_timeout once the timeout handler has returned. A
// body read in progress at the timeout is waited for before returning.
// `message` is sent as text/html if it starts with '<', else as text/plain.
Handler timeout_handler(Handler handler, std::chrono::nanoseconds limit, std::string message = {});

// Limits the request body that `handler` may read to `max_bytes` (Go's
// MaxBytesHandler / MaxBytesReader): a read past the limit returns the
// bytes up to it and then errc::body_too_large, which a handler answers
// with error(w, ..., status_payload_too_large).
Handler max_bytes_handler(Handler handler, std::int64_t max_bytes);

}  // namespace gofer::http
