// `gofer top --addr HOST:PORT`: a running gofer server's live page in a
// terminal (like top, for goroutines), read from its /debug/gofer/series and
// /debug/gofer/state.
#pragma once

#include <string>

namespace gofer::app {

struct TopFlags {
  std::string addr = "127.0.0.1:8080";
  bool once = false;  // one snapshot in plain text, then exit
};

// Refreshes every second until interrupted; with once, prints one frame.
// Returns the exit code: 1, after one line on stderr, when the server cannot
// be reached or does not serve the debug pages.
int top(const TopFlags& flags);

}  // namespace gofer::app
