// roundtrip(): raw bytes to a server and what comes back, for the http
// tests that need the exact bytes on the wire (malformed requests,
// pipelining, the request line an access log records). Inside gofer::run.
#pragma once

#include <chrono>
#include <string>
#include <string_view>

#include <gtest/gtest.h>

#include "gofer/net.h"

namespace gofer::http::test_support {

// Sends `request` on a new connection and reads until the server closes it
// or `until` has been seen (5 s at most).
inline std::string roundtrip(const std::string& addr, std::string_view request,
                             std::string_view until = {}) {
  using namespace std::chrono_literals;
  auto [c, err] = net::dial("tcp", addr, 2s);
  EXPECT_FALSE(err) << err.message();
  if (err) return {};
  EXPECT_FALSE(c.set_deadline(net::Clock::now() + 5s));
  EXPECT_FALSE(c.write(request).err);
  std::string out;
  char buf[4096];
  for (;;) {
    if (!until.empty() && out.find(until) != std::string::npos) break;
    auto [n, rerr] = c.read(buf);
    out.append(buf, n);
    if (rerr) break;
  }
  return out;
}

}  // namespace gofer::http::test_support
