// FloodGuard: a budget for what a client may send that costs the server
// work and gives it nothing (RFC 9113 §10.5: "an endpoint MAY treat
// activity that is suspicious as a connection error of type
// ENHANCE_YOUR_CALM"). A token bucket: `burst` tokens at first and at most,
// `per_second` more each second; each frame takes one, and with none left
// the session ends the connection with GOAWAY(ENHANCE_YOUR_CALM). The
// session keeps two (h2/session.h): one for PING, SETTINGS, PRIORITY and
// empty DATA frames, one for RST_STREAMs (rapid reset). No real client
// comes near either.
#pragma once

#include <algorithm>
#include <cstdint>

namespace gofer::http::detail::h2 {

class FloodGuard {
 public:
  constexpr FloodGuard(std::int64_t burst, std::int64_t per_second) noexcept
      : burst_(burst), per_second_(per_second), tokens_(burst) {}

  // False when the client spent its budget. `now_ns`: a monotonic clock.
  [[nodiscard]] bool take(std::int64_t now_ns) noexcept {
    if (last_ns_ != 0) {
      std::int64_t earned = (now_ns - last_ns_) * per_second_ / 1'000'000'000;
      if (earned > 0) {
        tokens_ = std::min(burst_, tokens_ + earned);
        last_ns_ += earned * 1'000'000'000 / per_second_;
      }
    } else {
      last_ns_ = now_ns;
    }
    if (tokens_ == 0) return false;
    --tokens_;
    return true;
  }

 private:
  std::int64_t burst_, per_second_;
  std::int64_t tokens_;
  std::int64_t last_ns_ = 0;
};

}  // namespace gofer::http::detail::h2
