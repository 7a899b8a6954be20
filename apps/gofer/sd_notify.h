// systemd's service notification (sd_notify(3)), without libsystemd: one
// datagram of "KEY=value" lines to the Unix socket named by NOTIFY_SOCKET
// ('@' for Linux's abstract namespace). With Type=notify a unit learns
// when gofer serves (READY=1), drains (STOPPING=1), and which process is
// the service after an in-place upgrade (MAINPID=, from the new process;
// the unit needs NotifyAccess=all for that, as deploy/systemd says).
// Without NOTIFY_SOCKET every call does nothing.
#pragma once

#include <string_view>

namespace gofer::app {

// Reads NOTIFY_SOCKET (and leaves it set: a process started by an upgrade
// notifies the same manager). Call in main() before threads.
void read_notify_env();
// Sends `state`; best effort (a notification lost is not worth failing for).
void sd_notify(std::string_view state);

}  // namespace gofer::app
