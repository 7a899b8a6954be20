// gofer::debug — see inside a running server: the goroutines, the Ms and
// Ps and what each runs, the netpoller, and the HTTP server's counters.
//
//   gofer::http::ServeMux mux;
//   gofer::debug::register_handlers(mux, &server);
//
// serves /debug/gofer (a live page), /debug/gofer/state (its JSON),
// /debug/goroutines (every goroutine, like Go's goroutine profile with
// debug=2) and /metrics (Prometheus text format). The layers below know
// nothing of this one: it reads them through narrow stats interfaces.
#pragma once

#include <string>

#include "gofer/http/mux.h"
#include "gofer/http/server.h"

namespace gofer::debug {

// Every goroutine: id, state, wait reason, time in that state, and where it
// was created.
std::string goroutine_dump();

// Prometheus text exposition (version 0.0.4) of the runtime's metrics and,
// if `server` is given, the HTTP server's.
std::string metrics_text(const http::Server* server);

// The live page's data: scheduler, goroutines by state and wait reason,
// HTTP counters (JSON).
std::string state_json(const http::Server* server);

// Registers the pages above on `mux`. `server` may be null.
void register_handlers(http::ServeMux& mux, const http::Server* server);

}  // namespace gofer::debug
