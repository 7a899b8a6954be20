#include "activation.h"

#include <fcntl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstdlib>
#include <cstring>

#include <fmt/format.h>

namespace gofer::app {
namespace {

// A whole decimal number and nothing else ("12", not "12x", " 12" or "").
bool parse_number(std::string_view s, long long& out) {
  if (s.empty()) return false;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc() && end == s.data() + s.size();
}

// What an fd is, for the error that says it is not a listening socket.
std::string describe_fd(int fd) {
  struct stat st {};
  if (::fstat(fd, &st) != 0) return "not open";
  if (S_ISREG(st.st_mode)) return "a regular file";
  if (S_ISDIR(st.st_mode)) return "a directory";
  if (S_ISFIFO(st.st_mode)) return "a pipe";
  if (S_ISCHR(st.st_mode)) return "a character device";
  if (!S_ISSOCK(st.st_mode)) return "not a socket";
  int type = 0, accepting = 0;
  socklen_t len = sizeof type;
  ::getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len);
  len = sizeof accepting;
  ::getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &accepting, &len);
  if (type == SOCK_DGRAM) return "a datagram socket";
  if (type == SOCK_STREAM && !accepting) return "a stream socket that is not listening";
  return "a socket of another kind";
}

}  // namespace

ListenFds parse_listen_fds(const char* listen_pid, const char* listen_fds,
                           const char* listen_fdnames, pid_t self) {
  ListenFds out;
  if (listen_pid == nullptr || listen_fds == nullptr) return out;  // not socket-activated
  long long pid = 0;
  if (!parse_number(listen_pid, pid) || pid <= 0) {
    out.error = fmt::format("LISTEN_PID=\"{}\": not a process id", listen_pid);
    return out;
  }
  if (pid != self) return out;  // meant for another process (our parent, say)
  long long n = 0;
  if (!parse_number(listen_fds, n) || n < 0) {
    out.error = fmt::format("LISTEN_FDS=\"{}\": not a number of file descriptors", listen_fds);
    return out;
  }
  rlimit lim{};
  long long max_fds =
      ::getrlimit(RLIMIT_NOFILE, &lim) == 0 ? static_cast<long long>(lim.rlim_cur) : 1024;
  if (n > max_fds - kListenFdsStart) {
    out.error = fmt::format("LISTEN_FDS={}: more file descriptors than this process may open ({})",
                            n, max_fds);
    return out;
  }
  out.count = static_cast<int>(n);
  if (listen_fdnames != nullptr) {
    std::string_view rest = listen_fdnames;
    for (;;) {
      std::size_t colon = rest.find(':');
      out.names.emplace_back(rest.substr(0, colon));
      if (colon == std::string_view::npos) break;
      rest.remove_prefix(colon + 1);
    }
    if (static_cast<long long>(out.names.size()) != n) {
      out.error = fmt::format("LISTEN_FDNAMES=\"{}\" names {} sockets, but LISTEN_FDS={}",
                              listen_fdnames, out.names.size(), n);
      out.count = 0;
      out.names.clear();
      return out;
    }
  } else {
    out.names.assign(static_cast<std::size_t>(n), "unknown");
  }
  return out;
}

ListenFds read_listen_env() {
  ListenFds fds = parse_listen_fds(std::getenv("LISTEN_PID"), std::getenv("LISTEN_FDS"),
                                   std::getenv("LISTEN_FDNAMES"), ::getpid());
  ::unsetenv("LISTEN_PID");
  ::unsetenv("LISTEN_FDS");
  ::unsetenv("LISTEN_FDNAMES");
  // An fd that is not open must be found now: once the runtime starts, its
  // own files (epoll, eventfd) take the lowest free numbers, and a later
  // look would find one of them there instead.
  for (int i = 0; i < fds.count && fds.error.empty(); ++i) {
    int fd = kListenFdsStart + i;
    if (::fcntl(fd, F_GETFD) < 0 && errno == EBADF) {
      fds.error = fmt::format("LISTEN_FDS: fd {} (\"{}\"): {}", fd,
                              fds.names[static_cast<std::size_t>(i)], std::strerror(EBADF));
    }
  }
  if (!fds.error.empty()) fds.count = 0;
  return fds;
}

Adopted adopt_listeners(const ListenFds& fds) {
  Adopted out;
  for (int i = 0; i < fds.count; ++i) {
    int fd = kListenFdsStart + i;
    const std::string& name = fds.names[static_cast<std::size_t>(i)];
    std::string what = describe_fd(fd);  // before file_listener closes it
    auto [ln, err] = net::file_listener(fd);
    if (err) {
      if (err == net::errc::not_listening) {
        out.error =
            fmt::format("LISTEN_FDS: fd {} (\"{}\") is {}, not a listening socket", fd, name, what);
      } else {
        out.error = fmt::format("LISTEN_FDS: fd {} (\"{}\"): {}", fd, name, err.message());
      }
      // The rest of the passed fds are closed too: nothing will use them.
      for (int j = i + 1; j < fds.count; ++j) ::close(kListenFdsStart + j);
      out.listeners.clear();
      return out;
    }
    out.listeners.push_back({fd, name, std::move(ln)});
  }
  return out;
}

}  // namespace gofer::app
