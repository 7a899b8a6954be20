#include "runtime/fatal.h"

#include <unistd.h>

#include <cstdlib>
#include <cstring>

namespace gofer::runtime {

void fatal_message(const char* message) noexcept {
  // write(2), not stdio: stdio may hold a lock or be broken by what failed.
  constexpr const char kPrefix[] = "gofer: fatal error: ";
  (void)!::write(STDERR_FILENO, kPrefix, sizeof kPrefix - 1);
  (void)!::write(STDERR_FILENO, message, std::strlen(message));
  (void)!::write(STDERR_FILENO, "\n", 1);
  std::abort();
}

}  // namespace gofer::runtime
