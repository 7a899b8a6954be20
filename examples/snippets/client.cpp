// The examples of http/client.h, http/raw_conn.h and http/reverse_proxy.h,
// compiled; run against
// a closed port on 127.0.0.1, so that the error path is taken (the rest
// needs a server: the client's own tests have one).
#include <fmt/core.h>

#include <chrono>
#include <cstdio>
#include <string>

#include "gofer/context.h"
#include "gofer/http/client.h"
#include "gofer/http/raw_conn.h"
#include "gofer/http/reverse_proxy.h"
#include "gofer/http/server.h"
#include "gofer/url.h"
#include "gofer/runtime.h"

using namespace std::chrono_literals;

namespace {

// clang-format off
void client_h(const gofer::Context& ctx, std::string data) {
  auto [resp, err] = gofer::http::get("http://127.0.0.1:8080/hello");
  if (err) { fmt::print("{}\n", err.message()); return; }
  // Get "http://127.0.0.1:8080/hello": dial tcp 127.0.0.1:8080: Connection refused
  auto [body, rerr] = resp.body.read_all();   // then the connection goes back to the pool

  gofer::http::Client client{.timeout = 5s};
  auto [req, rqerr] = gofer::http::new_request("POST", "https://example.com/upload", data);
  req.header.set("Content-Type", "application/json");
  req.set_context(ctx);                       // cancelling ctx ends the exchange
  auto [r, e] = client.execute(std::move(req));
}

[[maybe_unused]] void raw_conn_h(gofer::http::Response& resp) {
  char buf[512];
  auto conn = resp.take_conn();   // resp.status_code == 101
  (void)conn->write("PING\r\n");   // the new protocol's bytes
  auto [n, err] = conn->read(buf);
}

[[maybe_unused]] void reverse_proxy_h(gofer::http::Server& server) {
  auto [target, err] = gofer::url::parse("http://127.0.0.1:9000/api");
  gofer::http::ReverseProxy proxy = gofer::http::new_single_host_reverse_proxy(target);
  server.handler = proxy;   // "/x?q=1" goes to http://127.0.0.1:9000/api/x?q=1
}
// clang-format on

}  // namespace

int main() {
  // Port 1 on loopback: nothing listens there, the get fails at once.
  gofer::run([] {
    auto [resp, err] = gofer::http::get("http://127.0.0.1:1/hello");
    if (!err) std::abort();
    (void)&client_h;
  });
  std::puts("client snippets: ok");
  return 0;
}
