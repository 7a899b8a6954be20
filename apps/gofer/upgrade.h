// In-place upgrade (SIGUSR2, as nginx's binary upgrade and Cloudflare's
// tableflip do it): the running process starts the program again — the
// binary now at the path it was started from, with the same arguments —
// handing it its listening sockets, and waits until the new process says
// it serves. Only then does the old one drain and exit. The listening
// sockets are never closed in between: the new process accepts from the
// very accept queues the old one did, so no connection is refused or
// reset, whichever process takes it.
//
// The sockets go over as socket activation does it (activation.h): fds 3…,
// LISTEN_FDS, LISTEN_PID (the new process's own pid, set between fork and
// exec, as systemd does) and LISTEN_FDNAMES. The readiness report comes
// back through a pipe whose write end the new process finds in
// GOFER_UPGRADE_READY_FD: it writes "ready\n" there once it serves
// (report_ready), and the pipe's end (the process died) or the timeout is
// a failed upgrade: the new process is killed and the old one serves on.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <span>
#include <string>
#include <vector>

namespace gofer::app {

inline constexpr const char* kReadyFdEnv = "GOFER_UPGRADE_READY_FD";

// The program to start again: argv[0] made absolute against the working
// directory at start-up (a relative path would mean something else after a
// chdir), or left to a PATH search (done at the upgrade, before fork).
struct Program {
  std::string path;               // as given (argv[0])
  std::vector<std::string> argv;  // argv[0] included
};
Program program_from(int argc, char** argv);

struct PassedSocket {
  int fd;
  std::string name;
};

struct StartedProcess {
  pid_t pid = -1;
  int ready_fd = -1;  // read end of the readiness pipe
  std::string error;  // non-empty: nothing was started (one line)
};

// Starts `program` with `sockets` as its fds 3… (see above).
StartedProcess start_with_sockets(const Program& program, std::span<const PassedSocket> sockets);

// Waits (inside gofer::blocking(): call it on a goroutine) for the new
// process to report ready. "" when it did; otherwise the one-line reason,
// after the process was killed (if it still ran) and reaped. Closes
// ready_fd either way.
std::string wait_ready(StartedProcess& process, std::chrono::milliseconds timeout);

// The new process's side: the fd from GOFER_UPGRADE_READY_FD (-1 if none),
// made close-on-exec, the variable unset. Call in main() before threads.
int read_ready_fd_env();
// Writes "ready\n" to the fd and closes it. Call once every listener serves.
void report_ready(int fd);

}  // namespace gofer::app
