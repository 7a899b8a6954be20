// A read-only view of the scheduler for the debug layer (goroutine dump,
// /metrics, the live page). Every value is read without stopping the world:
// a snapshot may be a moment old and not consistent across fields, but no
// field is ever torn.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "runtime/mstate.h"
#include "runtime/park.h"

namespace gofer::runtime {

struct GoroutineInfo {
  std::uint64_t id = 0;
  std::uint64_t parent_id = 0;  // 0: started by run() or from a plain thread
  const char* status = "";      // "runnable", "running", "waiting", "syscall"
  WaitReason wait_reason = WaitReason::none;
  std::int64_t since_ns = 0;   // coarse monotonic time of the last park or spawn
  void* creator_pc = nullptr;  // where go() was called
};

// Calls f for every goroutine that exists (not for free descriptors).
void for_each_goroutine(const std::function<void(const GoroutineInfo&)>& f);

struct ProcInfo {
  int id = 0;
  std::uint32_t runq = 0;    // goroutines in its local run queue
  std::size_t timers = 0;    // timers in its heap
  std::uint64_t steals = 0;  // successful steals by its Ms
  // Time an M held it (running goroutines, scheduling or spinning) since
  // run() began, as of SchedInfo::clock_ns.
  std::int64_t busy_ns = 0;
};

struct ThreadInfo {
  int id = 0;
  int p_id = -1;                   // -1: holds no P
  std::uint64_t running_goid = 0;  // 0: in the scheduler or asleep
  bool in_netpoll = false;         // blocked in epoll_wait
  MState state = MState::running;  // what it does now
  // Time in each state (indexed by MState) since it started, as of
  // SchedInfo::clock_ns.
  std::array<std::int64_t, kMStates> state_ns{};
};

struct SchedInfo {
  bool running = false;  // a runtime is running
  int procs = 0;
  std::size_t goroutines = 0;
  int idle_procs = 0;
  int spinning_threads = 0;
  int global_runq = 0;
  int open_fds = 0;                  // registered with the netpoller
  std::uint64_t poll_wakeups = 0;    // returns from a blocking netpoll
  std::uint64_t thread_wakeups = 0;  // idle threads woken (or started) to run a P
  std::uint64_t steals = 0;
  std::vector<ProcInfo> ps;
  std::vector<ThreadInfo> ms;
  // coarse_nanotime() at which busy_ns and state_ns were read, and
  // run()'s start on the same clock.
  std::int64_t clock_ns = 0;
  std::int64_t start_ns = 0;
};

SchedInfo sched_info();

// "file:line"-free symbolic name of a code address ("main", "0x4012ab" when
// unknown), for "created by" lines.
std::string symbolize(void* pc);

}  // namespace gofer::runtime
