// Counters of rare net-layer events, for tests and the debug layer.
// Relaxed atomics: they order nothing.
#pragma once

#include <atomic>
#include <cstdint>

namespace gofer::net::detail {

struct Stats {
  std::atomic<std::uint64_t> accept_backoffs{0};  // sleeps after EMFILE/ENFILE/ENOBUFS/ENOMEM
  std::atomic<std::uint64_t> accept_retries{0};   // ECONNABORTED & co, retried at once
};

Stats& stats() noexcept;

}  // namespace gofer::net::detail
