// The middleware writer of server.h's example and of docs/go-to-gofer.md:
// records the status a handler sends (Go: a struct embedding
// http.ResponseWriter).
#pragma once

#include "gofer/http/server.h"

// clang-format off
struct StatusRecorder : gofer::http::ResponseWriterWrapper {
  using ResponseWriterWrapper::ResponseWriterWrapper;
  int status = gofer::http::status_ok;
  void write_header(int code) override {
    status = code;
    ResponseWriterWrapper::write_header(code);
  }
};
// clang-format on
