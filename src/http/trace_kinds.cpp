// The registration of the http layer's trace kinds (trace_kinds.h): the
// words every reader of the trace uses for them — journeys, `--explain`
// and the Perfetto export (src/debug/trace_words.cpp fills the sentences).
#include "http/trace_kinds.h"

namespace gofer::http::detail::trace_kind {
namespace {

using runtime::TraceKindInfo;
using runtime::TraceRole;

constexpr TraceKindInfo kRequest{
    .layer = "http",
    .name = "request",
    .role = TraceRole::work_begin,
    .a0 = "head_bytes",
    .a1 = "request_on_conn",
    .says = "request head complete: {text} ({a0} bytes; request {a1} on this connection)"};
constexpr TraceKindInfo kHandlerStart{.layer = "http",
                                      .name = "handler_start",
                                      .role = TraceRole::part_begin,
                                      .span = "handler",
                                      .says = "handler started"};
constexpr TraceKindInfo kHandlerEnd{.layer = "http",
                                    .name = "handler_end",
                                    .role = TraceRole::part_end,
                                    .a0 = "status",
                                    .says = "handler returned"};
constexpr TraceKindInfo kResponse{.layer = "http",
                                  .name = "response",
                                  .role = TraceRole::work_end,
                                  .a0 = "status",
                                  .a1 = "bytes_out",
                                  .says = "response sent: status {a0}, {a1} bytes"};
constexpr TraceKindInfo kIdle{
    .layer = "http",
    .name = "idle",
    .role = TraceRole::fd_wait,
    .a0 = "served",
    .says = "connection idle: goroutine {g} waits on fd {fd} for its next request ({a0} served)"};
constexpr TraceKindInfo kConnClose{
    .layer = "http",
    .name = "conn_close",
    .role = TraceRole::fd_done,
    .a0 = "served",
    .says = "the server is done with fd {fd} (requests served on it: {a0})"};

constexpr TraceKindInfo kTlsHandshake{
    .layer = "http",
    .name = "tls_handshake",
    .role = TraceRole::instant,
    .a0 = "us",
    .a1 = "resumed",
    .says = "TLS handshake on fd {fd} in {a0} µs: {text} (resumed session: {a1})"};

}  // namespace

void register_trace_kinds() noexcept {
  runtime::trace_register_kind(request, &kRequest);
  runtime::trace_register_kind(handler_start, &kHandlerStart);
  runtime::trace_register_kind(handler_end, &kHandlerEnd);
  runtime::trace_register_kind(response, &kResponse);
  runtime::trace_register_kind(idle, &kIdle);
  runtime::trace_register_kind(conn_close, &kConnClose);
  runtime::trace_register_kind(tls_handshake, &kTlsHandshake);
}

}  // namespace gofer::http::detail::trace_kind
