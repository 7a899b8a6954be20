// Listening sockets handed to `gofer serve` from outside, in the protocol of
// systemd's socket activation (sd_listen_fds(3)), implemented here without
// libsystemd: LISTEN_PID names the process the sockets are for, LISTEN_FDS
// how many there are (fds 3, 4, …), LISTEN_FDNAMES their names, separated
// by ':' (a socket unit's FileDescriptorName=). systemd as PID 1, Debian's
// `systemd-socket-activate -l ADDR gofer serve`, and an in-place upgrade
// (upgrade.h: the old process starts the new one this way) all pass them.
//
// Two steps, because the environment must be read and cleared before any
// thread starts, and a Listener needs the running runtime:
//   1. read_listen_env() in main(): parses and unsets the variables (so that
//      no process started later takes them for its own);
//   2. adopt_listeners() on a goroutine: each fd becomes a net::Listener
//      (net::file_listener), or the one-line reason why it cannot.
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

#include "gofer/net.h"

namespace gofer::app {

// The first passed fd (SD_LISTEN_FDS_START).
inline constexpr int kListenFdsStart = 3;

struct ListenFds {
  int count = 0;                   // 0: nothing was passed to this process
  std::vector<std::string> names;  // one per fd ("unknown" when unnamed, as systemd says)
  std::string error;               // non-empty: the variables are malformed (one line)
};

// The variables' values (null when unset) as sd_listen_fds() reads them, for
// the process `self`. Sockets passed to another process (LISTEN_PID is not
// `self`) or no LISTEN_PID at all: count 0, no error, as in systemd.
ListenFds parse_listen_fds(const char* listen_pid, const char* listen_fds,
                           const char* listen_fdnames, pid_t self);

// parse_listen_fds() of this process's environment; then unsets the three
// variables. Call before any thread starts (setenv/unsetenv are not
// thread-safe).
ListenFds read_listen_env();

struct InheritedListener {
  int fd = -1;
  std::string name;
  net::Listener listener;
};

struct Adopted {
  std::vector<InheritedListener> listeners;
  std::string error;  // non-empty: one line naming the fd and the problem
};

// Each passed fd as a Listener (on a goroutine). An fd that is not a
// listening stream socket is an error that names it and says what it is
// ("LISTEN_FDS: fd 3 (\"http\") is a regular file, not a listening socket").
Adopted adopt_listeners(const ListenFds& fds);

}  // namespace gofer::app
