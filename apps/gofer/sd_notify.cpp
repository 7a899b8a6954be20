#include "sd_notify.h"

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstddef>
#include <cstdlib>
#include <cstring>
#include <string>

namespace gofer::app {
namespace {

std::string& socket_path() {
  static std::string path;
  return path;
}

}  // namespace

void read_notify_env() {
  const char* v = std::getenv("NOTIFY_SOCKET");
  socket_path() = v != nullptr ? v : "";
}

void sd_notify(std::string_view state) {
  const std::string& path = socket_path();
  if (path.empty() || path.size() >= sizeof(sockaddr_un::sun_path)) return;
  if (path[0] != '/' && path[0] != '@') return;  // not a Unix socket path
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::memcpy(addr.sun_path, path.data(), path.size());
  if (path[0] == '@') addr.sun_path[0] = '\0';
  int fd = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return;
  auto len = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + path.size());
  (void)::sendto(fd, state.data(), state.size(), MSG_NOSIGNAL, reinterpret_cast<sockaddr*>(&addr),
                 len);
  ::close(fd);
}

}  // namespace gofer::app
