// ResponseController (Go 1.20's http.ResponseController) and what a writer
// that offers no deadline answers.
#include "gofer/http/server.h"

namespace gofer::http {

Error ResponseWriter::set_write_deadline(net::Deadline) {
  return errc::not_supported;
}

Result<std::unique_ptr<RawConn>> ResponseWriter::hijack() {
  return {nullptr, make_error_code(errc::not_supported)};
}

Error ResponseController::flush() {
  return w_->flush();
}

Error ResponseController::set_write_deadline(net::Deadline deadline) {
  // The outermost writer that has one answers; a wrapper that does not
  // forward it (a custom ResponseWriter with only unwrap()) is looked past.
  for (ResponseWriter* w = w_; w != nullptr; w = w->unwrap()) {
    Error err = w->set_write_deadline(deadline);
    if (err != errc::not_supported) return err;
  }
  return errc::not_supported;
}

Result<std::unique_ptr<RawConn>> ResponseController::hijack() {
  for (ResponseWriter* w = w_; w != nullptr; w = w->unwrap()) {
    auto r = w->hijack();
    if (r.err != errc::not_supported) return r;
  }
  return {nullptr, make_error_code(errc::not_supported)};
}

}  // namespace gofer::http
