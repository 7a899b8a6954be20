// A connected TCP pair over loopback for the net tests (gtest only: the
// peer process does not include it).
#pragma once

#include <gtest/gtest.h>

#include <chrono>
#include <utility>

#include "gofer/net.h"

namespace gofer::net::test {

// {client side, server side} of a connection to `ln`.
inline std::pair<Conn, Conn> connected_pair(Listener& ln) {
  auto [c, derr] = dial("tcp", ln.addr().to_string(), std::chrono::seconds(5));
  EXPECT_FALSE(derr) << derr.message();
  auto [s, aerr] = ln.accept();
  EXPECT_FALSE(aerr) << aerr.message();
  return {std::move(c), std::move(s)};
}

}  // namespace gofer::net::test
