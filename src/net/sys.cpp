#include "net/sys.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

// noinline (and noipa for GCC): even with LTO, each call reads the errno of
// the thread it runs on (see sys.h).
#if defined(__clang__)
#define GOFER_SYSCALL __attribute__((noinline))
#else
#define GOFER_SYSCALL __attribute__((noinline, noipa))
#endif

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define GOFER_SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#define GOFER_SANITIZED 1
#endif
#endif

namespace gofer::net::sys {

// The per-request syscalls go through syscall(2), not their libc wrappers:
// those are thread-cancellation points, and the enable/disable of
// asynchronous cancellation around each call was 1.5% of the server's CPU
// in a perf profile of GET /hello (gofer never cancels threads). Sanitizer
// builds keep the wrappers, which ASan and TSan intercept to check buffers
// and to see the happens-before edge that data through a socket makes.
#ifdef GOFER_SANITIZED
GOFER_SYSCALL ssize_t read(int fd, void* buf, std::size_t n) noexcept {
  ssize_t r = ::read(fd, buf, n);
  return r >= 0 ? r : -errno;
}

GOFER_SYSCALL ssize_t send(int fd, const void* buf, std::size_t n, int flags) noexcept {
  ssize_t r = ::send(fd, buf, n, flags);
  return r >= 0 ? r : -errno;
}

GOFER_SYSCALL ssize_t sendmsg(int fd, const msghdr* msg, int flags) noexcept {
  ssize_t r = ::sendmsg(fd, msg, flags);
  return r >= 0 ? r : -errno;
}
#else
GOFER_SYSCALL ssize_t read(int fd, void* buf, std::size_t n) noexcept {
  long r = ::syscall(SYS_read, fd, buf, n);
  return r >= 0 ? r : -errno;
}

GOFER_SYSCALL ssize_t send(int fd, const void* buf, std::size_t n, int flags) noexcept {
  long r = ::syscall(SYS_sendto, fd, buf, n, flags, nullptr, 0);
  return r >= 0 ? r : -errno;
}

GOFER_SYSCALL ssize_t sendmsg(int fd, const msghdr* msg, int flags) noexcept {
  long r = ::syscall(SYS_sendmsg, fd, msg, flags);
  return r >= 0 ? r : -errno;
}
#endif

GOFER_SYSCALL ssize_t sendfile(int out_fd, int in_fd, off_t* offset, std::size_t n) noexcept {
  ssize_t r = ::sendfile(out_fd, in_fd, offset, n);
  return r >= 0 ? r : -errno;
}

GOFER_SYSCALL int accept4(int fd, sockaddr* sa, socklen_t* len, int flags) noexcept {
  int r = ::accept4(fd, sa, len, flags);
  return r >= 0 ? r : -errno;
}

GOFER_SYSCALL int connect(int fd, const sockaddr* sa, socklen_t len) noexcept {
  return ::connect(fd, sa, len) == 0 ? 0 : -errno;
}

GOFER_SYSCALL int socket(int domain, int type, int protocol) noexcept {
  int r = ::socket(domain, type, protocol);
  return r >= 0 ? r : -errno;
}

GOFER_SYSCALL int bind(int fd, const sockaddr* sa, socklen_t len) noexcept {
  return ::bind(fd, sa, len) == 0 ? 0 : -errno;
}

GOFER_SYSCALL int listen(int fd, int backlog) noexcept {
  return ::listen(fd, backlog) == 0 ? 0 : -errno;
}

GOFER_SYSCALL int shutdown(int fd, int how) noexcept {
  return ::shutdown(fd, how) == 0 ? 0 : -errno;
}

GOFER_SYSCALL int setsockopt_int(int fd, int level, int name, int value) noexcept {
  return ::setsockopt(fd, level, name, &value, sizeof value) == 0 ? 0 : -errno;
}

GOFER_SYSCALL int getsockopt_int(int fd, int level, int name, int* value) noexcept {
  socklen_t len = sizeof *value;
  return ::getsockopt(fd, level, name, value, &len) == 0 ? 0 : -errno;
}

GOFER_SYSCALL int getsockname(int fd, sockaddr* sa, socklen_t* len) noexcept {
  return ::getsockname(fd, sa, len) == 0 ? 0 : -errno;
}

GOFER_SYSCALL int getpeername(int fd, sockaddr* sa, socklen_t* len) noexcept {
  return ::getpeername(fd, sa, len) == 0 ? 0 : -errno;
}

GOFER_SYSCALL int set_nonblock_cloexec(int fd) noexcept {
  int fl = ::fcntl(fd, F_GETFL);
  if (fl < 0 || ::fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0) return -errno;
  int fdfl = ::fcntl(fd, F_GETFD);
  if (fdfl < 0 || ::fcntl(fd, F_SETFD, fdfl | FD_CLOEXEC) < 0) return -errno;
  return 0;
}

GOFER_SYSCALL int file_mode(int fd, unsigned* mode) noexcept {
  struct stat st {};
  if (::fstat(fd, &st) < 0) return -errno;
  *mode = st.st_mode;
  return 0;
}

GOFER_SYSCALL int close(int fd) noexcept {
  return ::close(fd) == 0 ? 0 : -errno;
}

}  // namespace gofer::net::sys
