// Smoke test of examples/chat, with nothing but POSIX sockets: start the
// server on an ephemeral port, connect three clients over 127.0.0.1, check
// that a line from one reaches all three, then SIGTERM: every client is
// told and sees EOF, and the server exits 0 after "chat: shut down". A
// second server with a short --idle sends a silent client away (the select
// on the idle timer).
//   example_chat_smoke <path of chat>
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

extern char** environ;

namespace {

pid_t g_server = -1;

[[noreturn]] void fail(const std::string& why) {
  std::fprintf(stderr, "chat smoke test: %s\n", why.c_str());
  if (g_server > 0) {
    ::kill(g_server, SIGKILL);
    ::waitpid(g_server, nullptr, 0);
  }
  std::exit(1);
}

// Reads from fd until `want` appeared in what was read (10 s at most);
// returns everything read. With want empty: until EOF.
std::string read_until(int fd, const std::string& want, std::string got = {}) {
  char buf[1024];
  while (want.empty() || got.find(want) == std::string::npos) {
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, 10'000) <= 0)
      fail("nothing within 10 s; waiting for \"" + want + "\", got: " + got);
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) fail("read: " + std::string(std::strerror(errno)));
    if (n == 0) {
      if (want.empty()) return got;
      fail("EOF while waiting for \"" + want + "\", got: " + got);
    }
    got.append(buf, static_cast<std::size_t>(n));
  }
  return got;
}

int connect_to(int port) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in sin{};
  sin.sin_family = AF_INET;
  sin.sin_port = htons(static_cast<uint16_t>(port));
  sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&sin), sizeof sin) != 0)
    fail("connect: " + std::string(std::strerror(errno)));
  return fd;
}

void send_line(int fd, const std::string& line) {
  std::string l = line + "\n";
  if (::write(fd, l.data(), l.size()) != static_cast<ssize_t>(l.size())) fail("write");
}

// Starts chat with `extra` flags; returns its port; *out gets its stdout.
int start(char* chat, std::vector<std::string> extra, int* out) {
  int pipe_fds[2];
  if (::pipe2(pipe_fds, O_CLOEXEC) != 0) fail("pipe");
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_adddup2(&fa, pipe_fds[1], 1);
  std::vector<std::string> words = {chat, "--addr", "127.0.0.1:0"};
  words.insert(words.end(), extra.begin(), extra.end());
  std::vector<char*> args;
  for (std::string& w : words) args.push_back(w.data());
  args.push_back(nullptr);
  int spawned = ::posix_spawn(&g_server, chat, &fa, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&fa);
  if (spawned != 0) fail("cannot start the server");
  ::close(pipe_fds[1]);
  *out = pipe_fds[0];
  std::string banner = read_until(*out, "\n");
  std::size_t colon = banner.rfind(':');
  if (banner.rfind("listening on 127.0.0.1:", 0) != 0 || colon == std::string::npos)
    fail("unexpected banner: " + banner);
  return std::atoi(banner.c_str() + colon + 1);
}

void broadcast_and_shutdown(char* chat) {
  int out = -1;
  int port = start(chat, {"--idle", "60000"}, &out);
  std::vector<int> clients;
  for (int i = 0; i < 3; ++i) {
    clients.push_back(connect_to(port));
    // Each client sees its own arrival: it is in the hub's set from then on.
    read_until(clients.back(), "joined\n");
  }
  send_line(clients[0], "hello from zero");
  send_line(clients[2], "and from two");
  for (int fd : clients) {
    std::string got = read_until(fd, ": hello from zero\n");
    read_until(fd, ": and from two\n", got);
  }

  ::kill(g_server, SIGTERM);
  for (int fd : clients) {
    std::string rest = read_until(fd, "");  // to EOF: the server closes each connection
    if (rest.find("server shutting down") == std::string::npos)
      fail("a client was not told of the shutdown: " + rest);
    ::close(fd);
  }
  std::string said = read_until(out, "chat: shut down\n");
  ::close(out);
  int status = 0;
  ::waitpid(g_server, &status, 0);
  g_server = -1;
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
    fail("the server did not exit 0 on SIGTERM: " + said);
}

void idle_kick_out(char* chat) {
  int out = -1;
  int port = start(chat, {"--idle", "200"}, &out);
  int fd = connect_to(port);
  std::string got = read_until(fd, "");  // silent: sent away, then EOF
  if (got.find("idle too long") == std::string::npos) fail("no idle kick-out: " + got);
  ::close(fd);
  ::kill(g_server, SIGTERM);
  read_until(out, "chat: shut down\n");
  ::close(out);
  int status = 0;
  ::waitpid(g_server, &status, 0);
  g_server = -1;
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) fail("the idle server did not exit 0");
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) fail("usage: example_chat_smoke <path of chat>");
  ::signal(SIGPIPE, SIG_IGN);
  broadcast_and_shutdown(argv[1]);
  idle_kick_out(argv[1]);
  std::puts("chat smoke test: ok");
  return 0;
}
