// fatal(): the runtime's answer to an impossible state (a broken invariant,
// a double wake-up, a stack overflow). It prints one line naming what broke
// and aborts; it never returns and never throws.
#pragma once

#include <fmt/format.h>

namespace gofer::runtime {

[[noreturn]] void fatal_message(const char* message) noexcept;

template <class... Args>
[[noreturn]] void fatal(fmt::format_string<Args...> format, Args&&... args) noexcept {
  // Formatting may allocate; a fatal path can afford it.
  fatal_message(fmt::format(format, std::forward<Args>(args)...).c_str());
}

}  // namespace gofer::runtime

// Checks an invariant in every build: runtime invariants are cheap to test
// and a broken one must stop the program, never be repaired silently.
#define GOFER_CHECK(cond, ...)                                                       \
  do {                                                                               \
    if (__builtin_expect(!(cond), 0)) ::gofer::runtime::fatal(__VA_ARGS__);          \
  } while (0)
