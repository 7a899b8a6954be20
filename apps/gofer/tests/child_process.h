// Helpers of the tests that run the gofer command as a user would: start a
// process with its stdout and stderr on pipes, read them with a deadline,
// run a command to its end. Every wait is bounded; every process is
// stopped by its PID.
#pragma once

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <vector>

extern char** environ;

namespace gofer::test {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

struct Child {
  pid_t pid = -1;
  int out = -1, err = -1;  // read ends of its stdout and stderr
};

// Starts args[0] (a path) with `env` (null: ours).
inline Child spawn(const std::vector<std::string>& args, char** env = nullptr) {
  int out[2], err[2];
  EXPECT_EQ(::pipe2(out, O_CLOEXEC), 0);
  EXPECT_EQ(::pipe2(err, O_CLOEXEC), 0);
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_adddup2(&fa, out[1], STDOUT_FILENO);
  posix_spawn_file_actions_adddup2(&fa, err[1], STDERR_FILENO);
  std::vector<char*> argv;
  for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  Child c;
  int rc = posix_spawn(&c.pid, argv[0], &fa, nullptr, argv.data(), env != nullptr ? env : environ);
  posix_spawn_file_actions_destroy(&fa);
  ::close(out[1]);
  ::close(err[1]);
  c.out = out[0];
  c.err = err[0];
  EXPECT_EQ(rc, 0) << "posix_spawn " << args[0];
  return c;
}

// Reads from fd into `into` until `done(into)`, EOF, or the deadline.
template <class F>
void read_until(int fd, std::string& into, Clock::time_point deadline, F done) {
  while (!done(into)) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    if (left <= 0ms) return;
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) return;
    char buf[4096];
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n <= 0) return;
    into.append(buf, static_cast<std::size_t>(n));
  }
}

struct Ran {
  int exit_code = -1;
  std::string out, err;
};

inline int exit_code_of(int status) {
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

// Runs a command to its end (killed after 30 s).
inline Ran run(const std::vector<std::string>& args, char** env = nullptr) {
  Child c = spawn(args, env);
  Ran r;
  auto deadline = Clock::now() + 30s;
  read_until(c.out, r.out, deadline, [](const std::string&) { return false; });
  read_until(c.err, r.err, deadline, [](const std::string&) { return false; });
  if (Clock::now() >= deadline) ::kill(c.pid, SIGKILL);
  int status = 0;
  ::waitpid(c.pid, &status, 0);
  r.exit_code = exit_code_of(status);
  ::close(c.out);
  ::close(c.err);
  return r;
}

// A TCP connection to 127.0.0.1:port (blocking); -1 if it was refused.
inline int connect_loopback(int port) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_port = htons(static_cast<std::uint16_t>(port));
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

}  // namespace gofer::test
