// Certificate::Impl and the certificate helpers the rest of the layer uses.
// Private to the tls layer.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "gofer/tls.h"
#include "tls/ossl.h"

namespace gofer::tls {

// Invariants: leaf and key are non-null and match; never changed after
// construction (shared by every copy of the Certificate and by handshakes on
// any thread, which only take references).
struct Certificate::Impl {
  detail::X509Ptr leaf;
  detail::X509StackPtr chain;  // intermediates, leaf excluded; may be empty
  detail::PkeyPtr key;
  std::vector<std::string> names;  // lower case; see Certificate::names()
};

namespace detail {

// The certificate from parsed parts: checks that the key matches, and
// collects the names. `cert_what`/`key_what` name the inputs in messages.
LoadResult<Certificate> make_certificate(X509Ptr leaf, X509StackPtr chain, PkeyPtr key,
                                         std::string_view cert_what, std::string_view key_what);

// RFC 2253 text of a name ("CN=localhost,O=gofer").
std::string name_rfc2253(const X509_NAME* name);

// "127.0.0.1", "::1": an IP address, not a host name.
bool is_ip_literal(const std::string& host);

// ASCII lower case (DNS names compare case-blind).
std::string ascii_lower(std::string_view s);

// Reads a whole (small) file: PEM inputs. Runs inside gofer::blocking() on a
// goroutine. On failure returns false and sets *why to strerror's text.
bool read_small_file(std::string_view path, std::string* out, std::string* why);

}  // namespace detail
}  // namespace gofer::tls
