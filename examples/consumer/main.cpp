// A consumer of an installed gofer: serves /hello and the library's
// /healthz on 127.0.0.1 (a port the kernel picks), asks itself for both
// over a plain net::Conn, and prints one line. Exit code 0 only if both
// answers are what they must be.
#include <cstdio>
#include <string>

#include "gofer/http/health.h"
#include "gofer/http/mux.h"
#include "gofer/http/server.h"
#include "gofer/net.h"
#include "gofer/runtime.h"
#include "gofer/sync.h"
#include "gofer/version.h"

namespace {

// One GET over a fresh connection; the whole response as it came.
std::string get(const std::string& addr, const std::string& path) {
  auto [conn, err] = gofer::net::dial("tcp", addr);
  if (err) return "dial: " + err.message();
  std::string request = "GET " + path + " HTTP/1.1\r\nHost: consumer\r\nConnection: close\r\n\r\n";
  if (auto [n, werr] = conn.write(request); werr) return "write: " + werr.message();
  std::string response;
  char buf[4096];
  for (;;) {
    auto [n, rerr] = conn.read(buf);
    response.append(buf, n);
    if (rerr) break;  // EOF after Connection: close
  }
  return response;
}

}  // namespace

int main() {
  int exit_code = 1;
  gofer::run([&] {
    gofer::http::ServeMux mux;
    mux.handle_func("GET /hello", [](gofer::http::ResponseWriter& w, gofer::http::Request&) {
      w.header().set("Content-Type", "text/plain");
      w.write("Hello from a consumer of gofer ");
      w.write(gofer::version);
    });
    gofer::http::Health health;
    health.register_handlers(mux);
    gofer::http::Server server;
    server.handler = [&mux](gofer::http::ResponseWriter& w, gofer::http::Request& r) { mux(w, r); };
    auto [ln, err] = gofer::net::listen("tcp", "127.0.0.1:0");
    if (err) {
      std::fprintf(stderr, "consumer: listen: %s\n", err.message().c_str());
      return;
    }
    std::string addr = ln.addr().to_string();
    gofer::WaitGroup served;
    served.add(1);
    gofer::go([&] {
      (void)server.serve(ln);  // returns server_closed after the shutdown below
      served.done();
    });
    std::string hello = get(addr, "/hello");
    std::string healthz = get(addr, "/healthz");
    (void)server.shutdown(gofer::background());  // no bound: every connection ends by itself
    served.wait();
    bool ok = hello.starts_with("HTTP/1.1 200 ") &&
              hello.ends_with("Hello from a consumer of gofer " GOFER_VERSION_STRING) &&
              healthz.starts_with("HTTP/1.1 200 ");
    std::printf("consumer: gofer %s, GET /hello and /healthz on %s: %s\n", GOFER_VERSION_STRING,
                addr.c_str(), ok ? "ok" : "UNEXPECTED");
    if (!ok) std::printf("--- /hello\n%s\n--- /healthz\n%s\n", hello.c_str(), healthz.c_str());
    exit_code = ok ? 0 : 1;
  });
  return exit_code;
}
