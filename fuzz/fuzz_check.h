// Helpers shared by the libFuzzer targets: a CHECK that aborts (so libFuzzer
// records the input), heap copies of exactly an input's size (so ASan
// catches a read one byte too far), and a "view lies inside buffer" test.
#pragma once

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string_view>

#define CHECK(cond)                                                                 \
  do {                                                                              \
    if (!(cond)) {                                                                  \
      std::fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
      std::abort();                                                                 \
    }                                                                               \
  } while (0)

namespace gofer::fuzz {

// A heap copy of exactly `s.size()` bytes.
struct ExactCopy {
  explicit ExactCopy(std::string_view s)
      : bytes(new char[s.size() ? s.size() : 1]), size(s.size()) {
    if (!s.empty()) std::memcpy(bytes.get(), s.data(), s.size());
  }
  std::string_view view() const { return {bytes.get(), size}; }
  std::unique_ptr<char[]> bytes;
  size_t size;
};

// Whether `v` is empty or lies within `buf`.
inline bool inside(std::string_view v, std::string_view buf) {
  return v.empty() || (v.data() >= buf.data() && v.data() + v.size() <= buf.data() + buf.size());
}

}  // namespace gofer::fuzz
