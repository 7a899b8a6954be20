// Health: /healthz and /readyz (include/gofer/http/health.h).
#include "gofer/http/health.h"

namespace gofer::http {
namespace {

void answer(ResponseWriter& w, int code, std::string_view body) {
  w.header().set("Content-Type", "text/plain; charset=utf-8");
  // A probe must see the state now, never a cache's copy of it.
  w.header().set("Cache-Control", "no-store");
  w.write_header(code);
  w.write(body);
}

}  // namespace

Health::Health(bool ready) : ready_(std::make_shared<std::atomic<bool>>(ready)) {}

// Relaxed: the flag carries no other data; a probe that reads it a moment
// late answers as the next probe would.
void Health::set_ready(bool ready) noexcept {
  ready_->store(ready, std::memory_order_relaxed);
}

bool Health::ready() const noexcept {
  return ready_->load(std::memory_order_relaxed);
}

Handler Health::healthz_handler() const {
  return [](ResponseWriter& w, Request&) { answer(w, status_ok, "ok\n"); };
}

Handler Health::readyz_handler() const {
  return [ready = ready_](ResponseWriter& w, Request&) {
    if (ready->load(std::memory_order_relaxed)) {
      answer(w, status_ok, "ready\n");
    } else {
      answer(w, status_service_unavailable, "draining\n");
    }
  };
}

void Health::register_handlers(ServeMux& mux) const {
  mux.handle("GET /healthz", healthz_handler());
  mux.handle("GET /readyz", readyz_handler());
}

}  // namespace gofer::http
