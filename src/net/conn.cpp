// Conn: a connected stream socket (Go's TCPConn/UnixConn). Thin: the
// mechanism is NetFd's (fd.cpp).
#include "gofer/net.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include "gofer/runtime.h"
#include "net/fd.h"

namespace gofer::net {

using runtime::PollMode;
namespace {
// Go returns EINVAL for a method called on a nil Conn; so do we for an
// empty (default-constructed or moved-from) one.
Error invalid() {
  return std::make_error_code(std::errc::invalid_argument);
}
}  // namespace

Conn::Conn() noexcept = default;
Conn::Conn(std::unique_ptr<Impl> impl) noexcept : impl_(std::move(impl)) {}
Conn::Conn(Conn&&) noexcept = default;
Conn& Conn::operator=(Conn&&) noexcept = default;
Conn::~Conn() = default;  // NetFd's destructor closes

void Conn::go_when_readable_impl(gofer::detail::Task task, void* creator_pc) {
  if (!impl_) {
    gofer::detail::spawn(std::move(task), GoOptions{}, creator_pc);  // its read will say why
    return;
  }
  impl_->fd.go_when_readable(std::move(task), creator_pc);
}

Result<std::size_t> Conn::read(std::span<char> buf) {
  if (!impl_) return {0, invalid()};
  return impl_->fd.read(buf);
}

Result<std::size_t> Conn::write(std::span<const char> buf) {
  if (!impl_) return {0, invalid()};
  return impl_->fd.write(buf);
}

Result<std::size_t> Conn::writev(std::span<const iovec> bufs) {
  if (!impl_) return {0, invalid()};
  return impl_->fd.writev(bufs);
}

Result<std::size_t> Conn::send_file(int fd, std::int64_t offset, std::size_t count) {
  if (!impl_) return {0, invalid()};
  return impl_->fd.send_file(fd, offset, count);
}

Error Conn::close() {
  return impl_ ? impl_->fd.close() : invalid();
}
Error Conn::close_read() {
  return impl_ ? impl_->fd.shutdown(SHUT_RD) : invalid();
}
Error Conn::close_write() {
  return impl_ ? impl_->fd.shutdown(SHUT_WR) : invalid();
}

Addr Conn::local_addr() const {
  return impl_ ? impl_->fd.local_addr() : Addr{};
}
Addr Conn::remote_addr() const {
  return impl_ ? impl_->remote : Addr{};
}

Error Conn::set_deadline(Deadline d) {
  return impl_ ? impl_->fd.set_deadline(d, PollMode::both) : invalid();
}
Error Conn::set_read_deadline(Deadline d) {
  return impl_ ? impl_->fd.set_deadline(d, PollMode::read) : invalid();
}
Error Conn::set_write_deadline(Deadline d) {
  return impl_ ? impl_->fd.set_deadline(d, PollMode::write) : invalid();
}

Error Conn::set_no_delay(bool on) {
  if (!impl_) return invalid();
  if (impl_->remote.family() == AF_UNIX) return {};
  return impl_->fd.setsockopt_int(IPPROTO_TCP, TCP_NODELAY, on ? 1 : 0);
}

int Conn::fd() const noexcept {
  return impl_ ? impl_->fd.sysfd() : -1;
}

Conn& detail::empty_conn() noexcept {
  static Conn* empty = new Conn;  // never destroyed: halves may outlive main's statics
  return *empty;
}

}  // namespace gofer::net
