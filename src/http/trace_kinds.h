// The http layer's trace events (runtime/trace.h): their kinds, taken from
// the range the runtime leaves to the layers above (layer_first + 0 … 15
// are the http layer's), and their registration (trace_kinds.cpp) with a
// name, what the arguments mean and the role a trace reader gives them.
// fd is the connection's in every one.
#pragma once

#include "runtime/trace.h"

namespace gofer::http::detail::trace_kind {

constexpr runtime::TraceKind layer_kind(int i) noexcept {
  return static_cast<runtime::TraceKind>(static_cast<int>(runtime::TraceKind::layer_first) + i);
}

// A request head is complete; a0: head bytes; a1: the request's number on
// the connection; text: "METHOD target" (truncated). Role work_begin.
inline constexpr runtime::TraceKind request = layer_kind(0);
inline constexpr runtime::TraceKind handler_start = layer_kind(1);  // part_begin
// a0: the status the handler set (0: none yet). Role part_end.
inline constexpr runtime::TraceKind handler_end = layer_kind(2);
// The response is sent; a0: status; a1: bytes sent. Role work_end.
inline constexpr runtime::TraceKind response = layer_kind(3);
// The connection waits for its next request; a0: requests served so far.
inline constexpr runtime::TraceKind idle = layer_kind(4);
// The server is done with the connection; a0: requests served on it.
inline constexpr runtime::TraceKind conn_close = layer_kind(5);
// A TLS connection's handshake ended; a0: its µs (from the goroutine's
// first look at the connection); a1: 1 if a session ticket resumed an
// earlier session, 0 for a full handshake, -1 if it failed; text: the
// version and "alpn=<protocol>" ("TLS 1.3 alpn=http/1.1"), or why it failed.
inline constexpr runtime::TraceKind tls_handshake = layer_kind(6);

// Registers the kinds above with the runtime (idempotent).
void register_trace_kinds() noexcept;

}  // namespace gofer::http::detail::trace_kind
