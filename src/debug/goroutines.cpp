#include <fmt/format.h>

#include <algorithm>
#include <vector>

#include "gofer/debug.h"
#include "runtime/introspect.h"

namespace gofer::debug {
namespace {

std::int64_t coarse_now() noexcept {
  timespec ts;
  ::clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
  return ts.tv_sec * 1'000'000'000LL + ts.tv_nsec;
}

std::string human_duration(std::int64_t ns) {
  if (ns < 60'000'000'000LL) return fmt::format("{:.1f} s", static_cast<double>(ns) * 1e-9);
  return fmt::format("{} minutes", ns / 60'000'000'000LL);
}

}  // namespace

std::string goroutine_dump() {
  std::vector<runtime::GoroutineInfo> all;
  runtime::for_each_goroutine([&](const runtime::GoroutineInfo& g) { all.push_back(g); });
  std::sort(all.begin(), all.end(), [](auto& a, auto& b) { return a.id < b.id; });
  std::int64_t now = coarse_now();
  std::string out = fmt::format("{} goroutines\n\n", all.size());
  for (const auto& g : all) {
    std::string state = g.status;
    if (g.wait_reason != runtime::WaitReason::none) state = runtime::to_string(g.wait_reason);
    out += fmt::format("goroutine {} [{}, {}]:\n", g.id, state, human_duration(now - g.since_ns));
    out += fmt::format("created by {}", runtime::symbolize(g.creator_pc));
    if (g.parent_id != 0) out += fmt::format(" in goroutine {}", g.parent_id);
    out += "\n\n";
  }
  return out;
}

}  // namespace gofer::debug
