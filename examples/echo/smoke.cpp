// Smoke test of examples/echo, with nothing but POSIX sockets: start the
// server on an ephemeral port, echo through a few connections (interleaved,
// so no buffer fills), half-close one and expect EOF, then stop the server;
// then the same with --park-after and pauses that park every connection.
//   example_echo_smoke <path of echo>
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

extern char** environ;

namespace {

pid_t g_server = -1;

[[noreturn]] void fail(const std::string& why) {
  std::fprintf(stderr, "echo smoke test: %s\n", why.c_str());
  if (g_server > 0) {
    ::kill(g_server, SIGKILL);
    ::waitpid(g_server, nullptr, 0);
  }
  std::exit(1);
}

// Reads the server's first line ("listening on 127.0.0.1:PORT"), 10 s at most.
std::string read_line(int fd) {
  std::string line;
  char c;
  while (line.empty() || line.back() != '\n') {
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, 10'000) <= 0) fail("the server printed nothing within 10 s");
    if (::read(fd, &c, 1) != 1) fail("the server exited before it listened");
    line += c;
  }
  line.pop_back();
  return line;
}

int connect_to(int port) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in sin{};
  sin.sin_family = AF_INET;
  sin.sin_port = htons(static_cast<uint16_t>(port));
  sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&sin), sizeof sin) != 0) fail("connect: " + std::string(std::strerror(errno)));
  timeval tv{10, 0};  // no test hangs forever
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  return fd;
}

void read_exactly(int fd, char* buf, std::size_t n) {
  for (std::size_t got = 0; got < n;) {
    ssize_t r = ::read(fd, buf + got, n - got);
    if (r <= 0) fail("short echo");
    got += static_cast<std::size_t>(r);
  }
}

// One server: echo through kConns connections for `rounds` rounds, with
// `pause_ms` of quiet between rounds, then a half-close, then SIGTERM.
void check(char* echo, std::vector<std::string> extra, int rounds, int pause_ms) {
  int out[2];
  if (::pipe2(out, O_CLOEXEC) != 0) fail("pipe");
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_adddup2(&fa, out[1], 1);
  std::vector<std::string> words = {echo, "--addr", "127.0.0.1:0", "--procs", "2"};
  words.insert(words.end(), extra.begin(), extra.end());
  std::vector<char*> args;
  for (std::string& w : words) args.push_back(w.data());
  args.push_back(nullptr);
  int spawned = ::posix_spawn(&g_server, echo, &fa, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&fa);
  if (spawned != 0) fail("cannot start the server");
  ::close(out[1]);

  std::string line = read_line(out[0]);
  ::close(out[0]);
  std::size_t colon = line.rfind(':');
  if (line.rfind("listening on 127.0.0.1:", 0) != 0 || colon == std::string::npos) fail("unexpected banner: " + line);
  int port = std::atoi(line.c_str() + colon + 1);

  constexpr int kConns = 10;
  std::vector<int> fds;
  for (int i = 0; i < kConns; ++i) fds.push_back(connect_to(port));
  std::string msg(4096, '\0');
  std::string back(msg.size(), '\0');
  for (int round = 0; round < rounds; ++round) {
    if (round > 0 && pause_ms > 0) ::usleep(static_cast<useconds_t>(pause_ms) * 1000);
    for (int i = 0; i < kConns; ++i) {
      for (std::size_t j = 0; j < msg.size(); ++j) msg[j] = static_cast<char>(round * 7 + i * 13 + j);
      if (::write(fds[i], msg.data(), msg.size()) != static_cast<ssize_t>(msg.size())) fail("write");
      read_exactly(fds[i], back.data(), back.size());
      if (back != msg) fail("echo differs from what was sent");
    }
  }
  // Half-close: the server's read sees EOF, it closes, we read EOF.
  if (pause_ms > 0) ::usleep(static_cast<useconds_t>(pause_ms) * 1000);
  ::shutdown(fds[0], SHUT_WR);
  char c;
  if (::read(fds[0], &c, 1) != 0) fail("no EOF after half-close");
  for (int fd : fds) ::close(fd);

  ::kill(g_server, SIGTERM);
  int status = 0;
  ::waitpid(g_server, &status, 0);
  g_server = -1;
  if (!WIFSIGNALED(status) || WTERMSIG(status) != SIGTERM) fail("the server did not stop on SIGTERM");
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) fail("usage: example_echo_smoke <path of echo>");
  check(argv[1], {}, 50, 0);
  // --park-after 20: every pause of 100 ms parks each connection (its
  // goroutine ends; the poller starts a new one when the next message
  // comes), and the echo must go on as before; the last half-close is
  // read by such a new goroutine.
  check(argv[1], {"--park-after", "20"}, 4, 100);
  std::puts("echo smoke test: ok");
  return 0;
}
