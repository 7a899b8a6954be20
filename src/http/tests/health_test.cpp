// Health: /healthz and /readyz as a load balancer or a Kubernetes probe sees
// them (a probe succeeds on 2xx/3xx and fails on anything else; haproxy's
// `option httpchk` likewise), through a ServeMux and httptest's recorder.
#include "gofer/http/health.h"

#include <gtest/gtest.h>

#include "gofer/http/httptest.h"

namespace gofer::http {
namespace {

using httptest::new_request;
using httptest::ResponseRecorder;

ResponseRecorder probe(const ServeMux& mux, std::string_view method, std::string_view path) {
  auto r = new_request(method, path);
  ResponseRecorder w;
  mux(w, *r);
  return w;
}

TEST(Health, ReadyUntilSetNotReadyThen503AtOnce) {
  ServeMux mux;
  Health health;
  health.register_handlers(mux);
  auto ready = probe(mux, "GET", "/readyz");
  EXPECT_EQ(ready.code, 200);
  EXPECT_EQ(ready.body, "ready\n");
  EXPECT_EQ(ready.sent_header().get("Cache-Control"), "no-store");

  health.set_ready(false);  // the registered handler follows the object
  auto draining = probe(mux, "GET", "/readyz");
  EXPECT_EQ(draining.code, 503);
  EXPECT_EQ(draining.body, "draining\n");
  // Alive all the same: liveness must not fail during a drain, or an
  // orchestrator would kill the process it is draining.
  auto alive = probe(mux, "GET", "/healthz");
  EXPECT_EQ(alive.code, 200);
  EXPECT_EQ(alive.body, "ok\n");

  health.set_ready(true);
  EXPECT_EQ(probe(mux, "GET", "/readyz").code, 200);
}

TEST(Health, StartsNotReadyWhenAskedAndAnswersHead) {
  ServeMux mux;
  Health health(false);  // e.g. until a cache is warm
  health.register_handlers(mux);
  EXPECT_FALSE(health.ready());
  EXPECT_EQ(probe(mux, "GET", "/readyz").code, 503);
  // Go 1.22 patterns: GET matches HEAD (haproxy's default check is HEAD-able).
  EXPECT_EQ(probe(mux, "HEAD", "/healthz").code, 200);
  // Other methods are not probes.
  EXPECT_EQ(probe(mux, "POST", "/readyz").code, 405);
}

TEST(Health, CopiesShareTheState) {
  Health health;
  Health copy = health;
  ServeMux mux;
  copy.register_handlers(mux);
  health.set_ready(false);
  EXPECT_FALSE(copy.ready());
  EXPECT_EQ(probe(mux, "GET", "/readyz").code, 503);
}

}  // namespace
}  // namespace gofer::http
