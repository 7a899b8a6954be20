// listen and Listener: socket/bind/listen, and accept (Go's net.Listen and
// TCPListener/UnixListener).
#include "gofer/net.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

#include <memory>
#include <string>

#include "net/fd.h"
#include "net/resolve.h"
#include "net/sockaddr.h"
#include "net/sys.h"

namespace gofer::net {
namespace {

using detail::Network;
using detail::sys_error;

// v6only: -1 leaves IPV6_V6ONLY alone; 0 makes a dual-stack socket.
Result<int> listen_socket(const Addr& addr, int v6only, const ListenOptions& options) {
  int fd = sys::socket(addr.family(), SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return {-1, sys_error(-fd)};
  auto fail = [fd](int errnum) -> Result<int> {
    sys::close(fd);
    return {-1, sys_error(errnum)};
  };
  int r = 0;
  if (addr.family() != AF_UNIX) {
    // Go sets SO_REUSEADDR on every listener: a restarted server can bind
    // while connections of its previous life sit in TIME_WAIT.
    if ((r = sys::setsockopt_int(fd, SOL_SOCKET, SO_REUSEADDR, 1)) < 0) return fail(-r);
    if (options.reuse_port && (r = sys::setsockopt_int(fd, SOL_SOCKET, SO_REUSEPORT, 1)) < 0) {
      return fail(-r);
    }
    if (addr.family() == AF_INET6 && v6only >= 0 &&
        (r = sys::setsockopt_int(fd, IPPROTO_IPV6, IPV6_V6ONLY, v6only)) < 0) {
      return fail(-r);
    }
  }
  if ((r = sys::bind(fd, addr.data(), addr.size())) < 0) return fail(-r);
  if ((r = sys::listen(fd, options.backlog)) < 0) return fail(-r);
  return {fd, {}};
}

Result<Listener> make_listener(int fd, std::string unlink_path) {
  Error err;
  auto impl = std::make_unique<Listener::Impl>(fd, &err);
  if (err) return {Listener{}, err};
  impl->local = impl->fd.local_addr();
  impl->unlink_path = std::move(unlink_path);
  return {Listener(std::move(impl)), {}};
}

Result<Listener> listen_unix(std::string_view path, const ListenOptions& options) {
  auto [addr, err] = detail::unix_addr(path);
  if (err) return {Listener{}, err};
  auto [fd, lerr] = listen_socket(addr, -1, options);
  if (lerr) return {Listener{}, lerr};
  return make_listener(fd, path[0] == '@' ? std::string() : std::string(path));
}

}  // namespace

Result<Listener> listen(std::string_view network, std::string_view address,
                        const ListenOptions& options) {
  auto [net, nerr] = detail::parse_network(network);
  if (nerr) return {Listener{}, nerr};
  if (net == Network::unix_stream) return listen_unix(address, options);

  auto [hostport, serr] = split_host_port(address);
  if (serr) return {Listener{}, serr};
  auto [host, port_name] = hostport;
  auto [port, perr] = detail::parse_port(port_name);
  if (perr) return {Listener{}, perr};

  Addr addr;
  Error err;
  bool literal = !host.empty() && detail::parse_ip(host, port, &addr, &err);
  if (err) return {Listener{}, err};
  if (host.empty() || (literal && detail::is_unspecified(addr))) {
    // A wildcard. As Go does: "tcp" gets a dual-stack IPv6 socket (IPv4
    // clients appear as ::ffff:a.b.c.d), if the host has IPv6 at all.
    Result<int> r;
    if (net != Network::tcp4) {
      r = listen_socket(detail::any_addr(AF_INET6, port), net == Network::tcp6 ? 1 : 0, options);
    }
    if (net == Network::tcp4 ||
        (net == Network::tcp && r.err == std::errc::address_family_not_supported)) {
      r = listen_socket(detail::any_addr(AF_INET, port), -1, options);
    }
    auto [fd, e] = r;
    if (e) return {Listener{}, e};
    return make_listener(fd, {});
  }
  if (literal) {
    if ((net == Network::tcp4 && addr.family() != AF_INET) ||
        (net == Network::tcp6 && addr.family() != AF_INET6)) {
      return {Listener{}, errc::bad_address};
    }
  } else {
    auto [addrs, rerr] = detail::resolve(net, host, port, 0);
    if (rerr) return {Listener{}, rerr};
    // Go listens on the first IPv4 address for "tcp" (IPv6 for "tcp6").
    addr = addrs.front();
    for (const Addr& a : addrs) {
      if (a.family() == (net == Network::tcp6 ? AF_INET6 : AF_INET)) {
        addr = a;
        break;
      }
    }
  }
  auto [fd, lerr] = listen_socket(addr, net == Network::tcp6 ? 1 : 0, options);
  if (lerr) return {Listener{}, lerr};
  return make_listener(fd, {});
}

Result<Listener> file_listener(int fd) {
  auto fail = [fd](Error err) -> Result<Listener> {
    sys::close(fd);
    return {Listener{}, err};
  };
  unsigned mode = 0;
  int r = sys::file_mode(fd, &mode);
  if (r == -EBADF) return {Listener{}, sys_error(EBADF)};  // not ours to close
  if (r < 0) return fail(sys_error(-r));
  if (!S_ISSOCK(mode)) return fail(errc::not_listening);
  int type = 0, accepting = 0;
  if (sys::getsockopt_int(fd, SOL_SOCKET, SO_TYPE, &type) < 0 || type != SOCK_STREAM ||
      sys::getsockopt_int(fd, SOL_SOCKET, SO_ACCEPTCONN, &accepting) < 0 || !accepting) {
    return fail(errc::not_listening);
  }
  if ((r = sys::set_nonblock_cloexec(fd)) < 0) return fail(sys_error(-r));
  // An inherited Unix socket's file belongs to whoever made it: not unlinked.
  return make_listener(fd, {});
}

Listener::Listener() noexcept = default;
Listener::Listener(std::unique_ptr<Impl> impl) noexcept : impl_(std::move(impl)) {}
Listener::Listener(Listener&&) noexcept = default;
Listener& Listener::operator=(Listener&&) noexcept = default;
Listener::~Listener() {
  // A destructor has nobody to tell; close() fails only on a closed listener.
  if (impl_) (void)close();
}

Result<Conn> Listener::accept() {
  if (!impl_) return {Conn{}, std::make_error_code(std::errc::invalid_argument)};
  Addr remote;
  auto [fd, err] = impl_->fd.accept(&remote);
  if (err) return {Conn{}, err};
  // TCP_NODELAY on, as Go does for every TCP connection: a reply leaves at
  // once instead of waiting for the previous one's ACK (Nagle).
  if (remote.family() != AF_UNIX) sys::setsockopt_int(fd, IPPROTO_TCP, TCP_NODELAY, 1);
  Error perr;
  auto impl = std::make_unique<Conn::Impl>(fd, remote, &perr);
  if (perr) return {Conn{}, perr};
  return {Conn(std::move(impl)), {}};
}

Error Listener::close() {
  if (!impl_) return std::make_error_code(std::errc::invalid_argument);
  Error err = impl_->fd.close();
  // Only the first close removes the file (Go's unlinkOnce).
  if (!err && !impl_->unlink_path.empty()) ::unlink(impl_->unlink_path.c_str());
  return err;
}

Addr Listener::addr() const {
  return impl_ ? impl_->local : Addr{};
}

int Listener::fd() const noexcept {
  return impl_ ? impl_->fd.sysfd() : -1;
}

}  // namespace gofer::net
