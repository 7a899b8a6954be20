// gofer::http — a reverse proxy handler, as Go's httputil.ReverseProxy.
//
//   auto [target, err] = gofer::url::parse("http://127.0.0.1:9000/api");
//   gofer::http::ReverseProxy proxy = gofer::http::new_single_host_reverse_proxy(target);
//   server.handler = proxy;   // "/x?q=1" goes to http://127.0.0.1:9000/api/x?q=1
//
// Each request is sent upstream through a RoundTripper (a Transport with
// its pool of kept-alive connections) by the goroutine serving it, and the
// response comes back as it arrives:
//   - Hop-by-hop fields (RFC 9110 §7.6.1: Connection, Keep-Alive,
//     Proxy-Connection, Proxy-Authenticate, Proxy-Authorization, TE,
//     Trailer, Transfer-Encoding, Upgrade, and every field Connection names)
//     are removed both ways; "TE: trailers" is kept upstream.
//   - X-Forwarded-For gets the client's address appended (director mode,
//     Go's default) or set anew with X-Forwarded-Host and -Proto
//     (ProxyRequest::set_x_forwarded in a rewrite hook).
//   - Bodies stream both ways: the request's is read as the upstream takes
//     it (chunked upstream when its length is unknown, with its trailers),
//     the response's is written as it arrives and flushed every
//     flush_interval — at once for text/event-stream and for a body of
//     unknown length, as in Go.
//   - Trailers the upstream sends follow the body to the client, declared
//     ones as such and late ones as "Trailer:" fields (server.h).
//   - 101 Switching Protocols (a WebSocket): the upstream's connection and
//     the client's (hijacked) are joined, bytes copied both ways by two
//     goroutines until both sides have closed.
//   - An upstream that cannot be reached or answers badly: error_handler, by
//     default a 502 Bad Gateway (504 Gateway Timeout when a deadline
//     passed), logged to stderr. An upstream that fails in the middle of the
//     body ends the client's response short (AbortHandler): the client sees
//     a truncated response, never a complete-looking one.
//
// A ReverseProxy is plain data (copy it into Server::handler); set its
// fields before serving. Unlike Go: the request body is sent in full before
// the response head is read (the client's rule, client.h), so an upstream
// that answers before reading the whole body is not streamed to early.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>

#include "gofer/error.h"
#include "gofer/http/client.h"
#include "gofer/http/server.h"
#include "gofer/url.h"

namespace gofer::http {

// What a rewrite hook gets (Go's httputil.ProxyRequest): the request as
// received, and the one to send, made from it with hop-by-hop and
// X-Forwarded-* fields removed.
struct ProxyRequest {
  Request& in;
  ClientRequest& out;

  // Routes `out` to `target` as Go's SetURL: its scheme and host, its path
  // joined with the inbound path, its query before the inbound query; the
  // Host header becomes the target's.
  void set_url(const url::URL& target);
  // X-Forwarded-For: the client's address; X-Forwarded-Host: the inbound
  // Host; X-Forwarded-Proto: "https" over TLS, else "http" (Go's
  // SetXForwarded). Replaces what the client sent.
  void set_x_forwarded();
};

class ReverseProxy {
 public:
  // Go's Rewrite: makes the outbound request from ProxyRequest. When set,
  // `director` is not used and X-Forwarded-* fields are only those it sets.
  std::function<void(ProxyRequest&)> rewrite;
  // Go's Director: edits the outbound request, a copy of the inbound one
  // (its URL as received, the inbound Host kept). After it, the client's
  // address is appended to X-Forwarded-For unless append_x_forwarded_for
  // is false (Go skips it when the director sets the field to nil).
  std::function<void(ClientRequest&)> director;
  bool append_x_forwarded_for = true;
  // Null: default_transport().
  std::shared_ptr<RoundTripper> transport;
  // How often a response body being copied is flushed to the client: 0 —
  // only when the server's buffer fills (and at once for streaming
  // responses, see above); negative — after every write.
  std::chrono::nanoseconds flush_interval{0};
  // Edits the upstream's response before it is sent on; an error goes to
  // error_handler (Go's ModifyResponse).
  std::function<Error(Response&)> modify_response;
  // Answers a request the upstream could not serve (null: 502, or 504 for
  // a timeout, and a line on stderr).
  std::function<void(ResponseWriter&, Request&, const ClientError&)> error_handler;

  // Serves one request (the Handler).
  void operator()(ResponseWriter& w, Request& r) const;
};

// Go's NewSingleHostReverseProxy: every request goes to `target`, its path
// joined to the target's and its query after the target's; the inbound
// Host is sent on.
ReverseProxy new_single_host_reverse_proxy(url::URL target);

}  // namespace gofer::http
