// Test helpers shared by the client and proxy tests: a gofer Server on
// 127.0.0.1:0 for the length of a test body, inside gofer::run; a
// response's whole body.
#pragma once

#include <gtest/gtest.h>

#include <string>
#include <string_view>

#include "gofer/http/client.h"
#include "gofer/http/server.h"
#include "gofer/net.h"
#include "gofer/runtime.h"
#include "gofer/sync.h"

namespace gofer::testing {

using namespace std::chrono_literals;

// Serves `handler` from its own goroutine until destroyed; the destructor
// shuts the server down (within 5 s) and waits for serve() to return.
class ServingServer {
 public:
  explicit ServingServer(http::Handler handler) {
    auto [ln, err] = net::listen("tcp", "127.0.0.1:0");
    EXPECT_FALSE(err) << err.message();
    ln_ = std::move(ln);
    addr_ = ln_.addr().to_string();
    server_.handler = std::move(handler);
    serving_.add(1);
    go([this] {
      EXPECT_EQ(server_.serve(ln_), http::errc::server_closed);
      serving_.done();
    });
  }
  ~ServingServer() {
    EXPECT_FALSE(server_.shutdown(net::Clock::now() + 5s));
    serving_.wait();
  }
  std::string url(std::string_view path) const { return "http://" + addr_ + std::string(path); }
  const std::string& addr() const { return addr_; }

 private:
  http::Server server_;
  net::Listener ln_;
  std::string addr_;
  WaitGroup serving_;
};

// The whole body of a response, expected to read without an error.
inline std::string read_body(http::Response& resp) {
  auto [body, err] = resp.body.read_all();
  EXPECT_FALSE(err) << err.message();
  return body;
}

template <class F>
void in_runtime(F&& body) {
  gofer::run([&] { body(); }, {.procs = 2});
}

}  // namespace gofer::testing
