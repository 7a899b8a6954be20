#include "upgrade.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

#include <fmt/format.h>

#include "activation.h"
#include "gofer/runtime.h"

extern char** environ;

namespace gofer::app {
namespace {

bool is_upgrade_variable(std::string_view entry) {
  for (std::string_view name :
       {"LISTEN_PID=", "LISTEN_FDS=", "LISTEN_FDNAMES=", "GOFER_UPGRADE_READY_FD="}) {
    if (entry.starts_with(name)) return true;
  }
  return false;
}

// execvp's search, done before fork (execvp itself may allocate, which a
// child of a multi-threaded process must not).
std::string resolve(const std::string& path) {
  if (path.find('/') != std::string::npos) return path;
  const char* env_path = std::getenv("PATH");
  std::string_view dirs = env_path != nullptr ? env_path : "/usr/local/bin:/usr/bin:/bin";
  for (;;) {
    std::size_t colon = dirs.find(':');
    std::string dir(dirs.substr(0, colon));
    std::string candidate = (dir.empty() ? std::string(".") : dir) + "/" + path;
    if (::access(candidate.c_str(), X_OK) == 0) return candidate;
    if (colon == std::string_view::npos) return path;
    dirs.remove_prefix(colon + 1);
  }
}

// Async-signal-safe: digits of v into out (enough room for any pid_t).
void put_decimal(char* out, long v) {
  char tmp[24];
  int n = 0;
  do {
    tmp[n++] = static_cast<char>('0' + v % 10);
    v /= 10;
  } while (v > 0);
  while (n > 0) *out++ = tmp[--n];
  *out = '\0';
}

// The child of a multi-threaded process, between fork and exec:
// async-signal-safe calls only. sources[i] becomes fd 3 + i (the last one is
// the readiness pipe).
[[noreturn]] void exec_child(const std::vector<int>& sources, const char* path, char** argv,
                             char** envp, char* pid_digits) {
  sigset_t none;
  sigemptyset(&none);
  ::sigprocmask(SIG_SETMASK, &none, nullptr);  // gofer blocks the signals it waits for
  const int count = static_cast<int>(sources.size());
  for (int i = 0; i < count; ++i) {
    // dup2's copy is not close-on-exec: it is what the new program inherits.
    if (::dup2(sources[static_cast<std::size_t>(i)], kListenFdsStart + i) < 0) ::_exit(126);
  }
  put_decimal(pid_digits, static_cast<long>(::getpid()));
  ::execve(path, argv, envp);
  // Tell the waiting parent why, through the pipe.
  char msg[48] = "exec failed: errno ";
  put_decimal(msg + std::strlen(msg), errno);
  ssize_t ignored = ::write(kListenFdsStart + count - 1, msg, std::strlen(msg));
  (void)ignored;
  ::_exit(127);
}

std::string exit_status(int status) {
  if (WIFEXITED(status)) return fmt::format("exited with status {}", WEXITSTATUS(status));
  if (WIFSIGNALED(status)) return fmt::format("was killed by signal {}", WTERMSIG(status));
  return "stopped";
}

}  // namespace

Program program_from(int argc, char** argv) {
  Program p;
  p.argv.assign(argv, argv + argc);
  p.path = argv[0];
  if (p.path.find('/') != std::string::npos && p.path[0] != '/') {
    char cwd[4096];
    if (::getcwd(cwd, sizeof cwd) != nullptr) p.path = std::string(cwd) + "/" + p.path;
  }
  return p;
}

StartedProcess start_with_sockets(const Program& program, std::span<const PassedSocket> sockets) {
  StartedProcess out;
  const int n = static_cast<int>(sockets.size());
  const int ready_target = kListenFdsStart + n;  // the pipe's number in the new process
  std::string path = resolve(program.path);

  // Everything the child needs is built here: after fork it only dup2s,
  // writes its pid into LISTEN_PID and execs.
  std::vector<std::string> env;
  for (char** e = environ; *e != nullptr; ++e) {
    if (!is_upgrade_variable(*e)) env.emplace_back(*e);
  }
  std::string names;
  for (const PassedSocket& s : sockets) names += (names.empty() ? "" : ":") + s.name;
  env.push_back(fmt::format("LISTEN_FDS={}", n));
  env.push_back("LISTEN_FDNAMES=" + names);
  env.push_back(fmt::format("{}={}", kReadyFdEnv, ready_target));
  env.push_back("LISTEN_PID=" + std::string(24, ' '));  // the child writes its pid here
  std::vector<char*> envp;
  for (std::string& e : env) envp.push_back(e.data());
  envp.push_back(nullptr);
  char* pid_digits = env.back().data() + std::strlen("LISTEN_PID=");
  std::vector<char*> argv;
  for (const std::string& a : program.argv) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);

  int pipefd[2];
  if (::pipe2(pipefd, O_CLOEXEC) != 0) {
    out.error = fmt::format("pipe: {}", std::strerror(errno));
    return out;
  }
  // Copies above every target number, so that no dup2 in the child
  // overwrites a source it has yet to copy.
  std::vector<int> sources;
  for (const PassedSocket& s : sockets)
    sources.push_back(::fcntl(s.fd, F_DUPFD_CLOEXEC, ready_target + 1));
  sources.push_back(::fcntl(pipefd[1], F_DUPFD_CLOEXEC, ready_target + 1));
  auto close_all = [&] {
    for (int fd : sources) {
      if (fd >= 0) ::close(fd);
    }
    ::close(pipefd[1]);
  };
  for (int fd : sources) {
    if (fd < 0) {
      out.error = fmt::format("fcntl(F_DUPFD): {}", std::strerror(errno));
      close_all();
      ::close(pipefd[0]);
      return out;
    }
  }

  // fork can take a while in a big process: off the P. The child never
  // leaves the lambda (blocking()'s way back would touch the scheduler).
  int fork_errno = 0;
  pid_t pid = gofer::blocking([&] {
    pid_t child = ::fork();
    if (child == 0) exec_child(sources, path.c_str(), argv.data(), envp.data(), pid_digits);
    fork_errno = errno;
    return child;
  });
  close_all();
  if (pid < 0) {
    ::close(pipefd[0]);
    out.error = fmt::format("fork: {}", std::strerror(fork_errno));
    return out;
  }
  out.pid = pid;
  out.ready_fd = pipefd[0];
  return out;
}

std::string wait_ready(StartedProcess& p, std::chrono::milliseconds timeout) {
  std::string said;
  bool timed_out = gofer::blocking([&] {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0) return true;
      pollfd pfd{p.ready_fd, POLLIN, 0};
      int r = ::poll(&pfd, 1, static_cast<int>(left.count()));
      if (r < 0 && errno == EINTR) continue;
      if (r <= 0) return r == 0;
      char buf[128];
      ssize_t got = ::read(p.ready_fd, buf, sizeof buf);
      if (got < 0 && errno == EINTR) continue;
      if (got <= 0) return false;  // the new process closed it: exited, or exec'd and exited
      said.append(buf, static_cast<std::size_t>(got));
      if (said.find('\n') != std::string::npos || said.size() > 256) return false;
    }
  });
  ::close(p.ready_fd);
  p.ready_fd = -1;
  if (said == "ready\n") return {};
  int status = 0;
  std::string why;
  if (timed_out) {
    ::kill(p.pid, SIGKILL);
    why = fmt::format("was not ready within {} ms; killed it", timeout.count());
  } else if (said.starts_with("exec failed: errno ")) {
    why = fmt::format("could not be started: {}",
                      std::strerror(std::atoi(said.c_str() + std::strlen("exec failed: errno "))));
  } else if (!said.empty()) {
    ::kill(p.pid, SIGKILL);
    why = fmt::format("reported \"{}\" instead of ready; killed it", said.substr(0, 80));
  }
  gofer::blocking([&] { ::waitpid(p.pid, &status, 0); });
  if (why.empty()) why = exit_status(status) + " before it was ready";
  return fmt::format("the new process (pid {}) {}", p.pid, why);
}

int read_ready_fd_env() {
  const char* v = std::getenv(kReadyFdEnv);
  if (v == nullptr) return -1;
  int fd = std::atoi(v);
  ::unsetenv(kReadyFdEnv);
  if (fd < kListenFdsStart || ::fcntl(fd, F_SETFD, FD_CLOEXEC) != 0) return -1;
  return fd;
}

void report_ready(int fd) {
  if (fd < 0) return;
  ssize_t ignored = ::write(fd, "ready\n", 6);  // the parent's read or its exit: nothing to retry
  (void)ignored;
  ::close(fd);
}

}  // namespace gofer::app
