// Handlers of the debug pages that live in their own files, registered by
// register_handlers (live_page.cpp).
#pragma once

#include <string_view>

#include "gofer/http/server.h"

namespace gofer::debug::detail {

// GET /debug/trace?seconds=N (default 1, at most 30): traces for N seconds
// (tracing stays on after if someone else had it on), then answers the
// events of those seconds as Chrome trace-event JSON.
void serve_trace(http::ResponseWriter& w, http::Request& r);

// The page of /debug/gofer, with uPlot inlined (generated at build time).
extern const std::string_view kLivePage;

// GET /debug/gofer/journeys: the last requests' journeys (journeys_json).
void serve_journeys(http::ResponseWriter& w, http::Request& r);

}  // namespace gofer::debug::detail
