// Socket syscalls for the net layer, each returning its result or -errno.
//
// Why wrappers: errno is thread-local and glibc declares __errno_location()
// `const`, so inside one function the compiler may compute errno's address
// once and reuse it after the goroutine parked and resumed on another thread
// — then it reads another thread's errno (pitfall 1 in docs/design.md; llvm
// #98479). Each wrapper is a separate, non-inlined call that reads errno
// right after its syscall, so no errno address outlives a call; the net code
// never touches errno itself.
#pragma once

#include <sys/socket.h>
#include <sys/types.h>

#include <cstddef>

namespace gofer::net::sys {

ssize_t read(int fd, void* buf, std::size_t n) noexcept;
ssize_t send(int fd, const void* buf, std::size_t n, int flags) noexcept;
ssize_t sendmsg(int fd, const msghdr* msg, int flags) noexcept;
// sendfile(2): from in_fd at *offset (advanced; in_fd's position unchanged).
ssize_t sendfile(int out_fd, int in_fd, off_t* offset, std::size_t n) noexcept;
int accept4(int fd, sockaddr* sa, socklen_t* len, int flags) noexcept;
int connect(int fd, const sockaddr* sa, socklen_t len) noexcept;
int socket(int domain, int type, int protocol) noexcept;
int bind(int fd, const sockaddr* sa, socklen_t len) noexcept;
int listen(int fd, int backlog) noexcept;
int shutdown(int fd, int how) noexcept;
int setsockopt_int(int fd, int level, int name, int value) noexcept;
// The value of an int option in *value, or -errno.
int getsockopt_int(int fd, int level, int name, int* value) noexcept;
int getsockname(int fd, sockaddr* sa, socklen_t* len) noexcept;
int getpeername(int fd, sockaddr* sa, socklen_t* len) noexcept;
// O_NONBLOCK and FD_CLOEXEC on an fd made elsewhere; 0 or -errno.
int set_nonblock_cloexec(int fd) noexcept;
// fstat(2)'s st_mode in *mode; 0 or -errno.
int file_mode(int fd, unsigned* mode) noexcept;
// close(2); its error is reported but the fd is gone either way (Linux).
int close(int fd) noexcept;

}  // namespace gofer::net::sys
