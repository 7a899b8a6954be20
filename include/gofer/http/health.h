// gofer::http::Health — the two endpoints load balancers and orchestrators
// probe (Kubernetes' liveness and readiness probes, haproxy's health check,
// a systemd watchdog script):
//
//   gofer::http::Health health;
//   health.register_handlers(mux);      // GET /healthz, GET /readyz
//   …
//   health.set_ready(false);            // a drain begins: /readyz turns 503 at once
//
//   /healthz  200 "ok" whenever the server answers at all: the process is
//             alive and its goroutines run (a failing liveness probe means
//             "restart me").
//   /readyz   200 "ready" while the server wants new traffic, 503 "draining"
//             from the moment set_ready(false) is called (a failing
//             readiness probe means "send me nothing new"; the server keeps
//             serving what it is sent meanwhile).
//
// Both answer HEAD too, carry "Cache-Control: no-store", and cost a relaxed
// load. Copies share one state, so the handlers registered on a mux follow
// the Health object the program keeps.
#pragma once

#include <atomic>
#include <memory>

#include "gofer/http/mux.h"
#include "gofer/http/server.h"

namespace gofer::http {

class Health {
 public:
  explicit Health(bool ready = true);

  // Whether /readyz answers 200 (true) or 503 (false). Any thread.
  void set_ready(bool ready) noexcept;
  [[nodiscard]] bool ready() const noexcept;

  Handler healthz_handler() const;
  Handler readyz_handler() const;
  // "GET /healthz" and "GET /readyz" on `mux`.
  void register_handlers(ServeMux& mux) const;

 private:
  std::shared_ptr<std::atomic<bool>> ready_;
};

}  // namespace gofer::http
