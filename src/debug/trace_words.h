// One trace event in words: the only place that decodes an event's
// arguments (runtime/trace.h), used by the request journeys (`--explain`,
// the live page) and by the Perfetto export alike, so that both say the
// same thing about the same event. The runtime's and the net layer's kinds
// are decoded here; a layer's own kinds (the http layer's) by what it
// registered (runtime::TraceKindInfo).
#pragma once

#include <cstdint>
#include <string>

#include "runtime/trace.h"

namespace gofer::debug::detail {

// What a reader knows around the event, which a sentence may use.
struct EventContext {
  bool first_run = false;       // go_start: the goroutine's first run
  std::int64_t waited_ns = -1;  // netpoll: how long the woken goroutine was parked
  std::int64_t part_ns = -1;    // part_end: how long the part (the handler) took
  int listener_fd = -1;         // netpoll, accept: the fd that is a listener
};

struct EventWords {
  bool worth_telling = true;  // false: a journey leaves it out (epoll woke nobody, …)
  std::string kind;           // a short noun: a journey step's kind ("park", "request")
  std::string label;       // a few words: an export's event name ("park G7: IO wait (read) fd 6")
  std::string text;        // a sentence for a person
  std::string detail;      // the one value a journey step shows (EAGAIN, the wait reason, …)
  std::int64_t value = 0;  // the number a journey step carries (bytes, the fd waited on, …)
  // The arguments as JSON members ("\"fd\":6,\"result\":512"); for a layer's
  // kind only its registered arguments (possibly none).
  std::string args;
};

EventWords describe_event(const runtime::TraceEvent& e, const EventContext& context = {});

// "12.3 µs", "4 ms", …
std::string duration_text(std::int64_t ns);

}  // namespace gofer::debug::detail
