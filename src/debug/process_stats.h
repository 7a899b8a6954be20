// The process's own CPU time, resident memory and open file descriptors —
// what Prometheus' process collector calls process_cpu_seconds_total,
// process_resident_memory_bytes and process_open_fds.
#pragma once

#include <cstdint>

namespace gofer::debug::detail {

struct ProcessStats {
  double user_seconds = 0;    // CPU time in user mode, all threads, since start
  double system_seconds = 0;  // CPU time in the kernel on its behalf
  std::uint64_t rss_bytes = 0;
  int open_fds = -1;  // -1: could not be counted
};

// A few syscalls (getrusage, one read of /proc/self/statm, a stat — or, on
// kernels before 6.2, a listing — of /proc/self/fd): cheap enough once a
// second, not for a request's path.
ProcessStats process_stats() noexcept;

}  // namespace gofer::debug::detail
