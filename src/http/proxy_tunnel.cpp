// The reverse proxy's tunnel after 101 Switching Protocols (Go's
// handleUpgradeResponse): two connections out of HTTP, joined.
#include <array>

#include "gofer/runtime.h"
#include "gofer/sync.h"
#include "http/proxy_headers.h"

namespace gofer::http::detail {
namespace {

// Copies src to dst until src ends, then half-closes dst so that its
// peer reads the end too; an error ends both connections (the other
// direction's goroutine then wakes with net::errc::closed).
void pump(RawConn& src, RawConn& dst) {
  std::array<char, 16 << 10> buf;
  for (;;) {
    auto [n, err] = src.read(buf);
    if (n > 0 && dst.write(std::string_view(buf.data(), n)).err) break;
    if (err == net::errc::eof) {
      (void)dst.close_write();  // a peer gone already: the other direction says so
      return;
    }
    if (err) break;
  }
  (void)src.close();  // closed already by the other direction: nothing to report
  (void)dst.close();
}

}  // namespace

ClientError tunnel(ResponseWriter& w, std::string_view requested, Response& resp) {
  std::string agreed = upgrade_type(resp.header);
  if (!equal_fold(agreed, requested)) {
    return ClientError(make_error_code(client_errc::malformed_response), "switching protocols",
                       "the upstream switched to \"" + agreed + "\" when \"" +
                           std::string(requested) + "\" was asked for");
  }
  std::unique_ptr<RawConn> up = resp.take_conn();
  if (!up) {
    return ClientError(make_error_code(client_errc::malformed_response), "switching protocols",
                       "no connection after the 101");
  }
  // Named, not bound: clang 14 cannot capture a structured binding.
  auto hijacked = ResponseController(w).hijack();
  if (hijacked.err) return ClientError(hijacked.err, "taking over the client's connection");
  auto& down = hijacked.value;

  std::string head = "HTTP/1.1 101 Switching Protocols\r\n";
  resp.header.for_each([&](std::string_view name, std::string_view value) {
    head.append(name).append(": ").append(value).append("\r\n");
  });
  head.append("\r\n");
  if (down->write(head).err) return ClientError(make_error_code(errc::hijacked), "");

  WaitGroup both;
  both.add(2);
  go([&] {
    pump(*down, *up);
    both.done();
  });
  go([&] {
    pump(*up, *down);
    both.done();
  });
  both.wait();
  return {};
}

}  // namespace gofer::http::detail
