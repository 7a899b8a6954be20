// file_listener: a listening socket made elsewhere (systemd's socket
// activation, the process an in-place upgrade replaces) becomes a Listener,
// as Go's net.FileListener makes one; anything else is refused with
// errc::not_listening and closed, so a misconfigured socket unit or a
// wrong LISTEN_FDS fails at start with a clear error.
#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <string>

#include "gofer/net.h"
#include "gofer/runtime.h"
#include "test_util.h"

namespace net = gofer::net;

namespace {

// A blocking, inheritable TCP socket on 127.0.0.1 (port chosen by the
// kernel), in the state `listen` says: what systemd hands a service.
int raw_tcp_socket(bool listen, int type = SOCK_STREAM) {
  int fd = ::socket(AF_INET, type, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  EXPECT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
  if (listen) {
    EXPECT_EQ(::listen(fd, 16), 0);
  }
  return fd;
}

bool is_open(int fd) {
  return ::fcntl(fd, F_GETFD) >= 0;
}

TEST(FileListener, TakesAListeningSocketAndAccepts) {
  gofer::run([] {
    int fd = raw_tcp_socket(true);
    auto [ln, err] = net::file_listener(fd);
    ASSERT_FALSE(err) << err.message();
    EXPECT_EQ(ln.fd(), fd);
    // Made non-blocking and close-on-exec, as every gofer socket is.
    EXPECT_TRUE(::fcntl(fd, F_GETFL) & O_NONBLOCK);
    EXPECT_TRUE(::fcntl(fd, F_GETFD) & FD_CLOEXEC);
    std::string addr = ln.addr().to_string();
    EXPECT_TRUE(addr.starts_with("127.0.0.1:")) << addr;
    gofer::go([addr] {
      auto [c, derr] = net::dial("tcp", addr);
      EXPECT_FALSE(derr);
      EXPECT_FALSE(c.write("hi").err);
    });
    auto [conn, aerr] = ln.accept();
    ASSERT_FALSE(aerr) << aerr.message();
    char buf[2];
    auto [n, rerr] = conn.read(buf);
    EXPECT_EQ(std::string(buf, n), "hi");
  });
}

TEST(FileListener, RefusesWhatIsNotAListeningStreamSocketAndClosesIt) {
  gofer::run([] {
    int file = ::open("/proc/self/stat", O_RDONLY);
    int pipefd[2];
    ASSERT_EQ(::pipe(pipefd), 0);
    int unbound_listener = raw_tcp_socket(false);  // bound, never listen()ed
    int udp = raw_tcp_socket(false, SOCK_DGRAM);
    for (int fd : {file, pipefd[0], unbound_listener, udp}) {
      auto [ln, err] = net::file_listener(fd);
      EXPECT_EQ(err, net::errc::not_listening) << "fd " << fd << ": " << err.message();
      EXPECT_FALSE(ln);
      EXPECT_FALSE(is_open(fd)) << "fd " << fd << " was left open";
    }
    ::close(pipefd[1]);
    // A connected socket is no listener either.
    int pair[2];
    ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM, 0, pair), 0);
    EXPECT_EQ(net::file_listener(pair[0]).err, net::errc::not_listening);
    ::close(pair[1]);
  });
}

TEST(FileListener, AnFdThatIsNotOpenIsBadFileDescriptor) {
  gofer::run([] {
    int fd = ::open("/dev/null", O_RDONLY);
    ::close(fd);
    auto [ln, err] = net::file_listener(fd);
    EXPECT_EQ(err, std::errc::bad_file_descriptor) << err.message();
    EXPECT_EQ(err.message(), "Bad file descriptor");
  });
}

}  // namespace
