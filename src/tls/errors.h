// OpenSSL's failures turned into the tls layer's error values. Private.
#pragma once

#include "gofer/tls.h"

namespace gofer::tls::detail {

// The error value for a connection whose OpenSSL call failed with
// SSL_ERROR_SSL: `packed` is the first error of the queue (ERR_get_error),
// `verify_result` SSL_get_verify_result's. 0 for both: protocol_error.
Error classify_ssl_error(unsigned long packed, long verify_result) noexcept;

// One line for error_detail(): OpenSSL's reason, and the certificate
// verification error when that is why ("certificate verify failed:
// hostname mismatch"). Writes at most `cap` - 1 chars and a NUL.
void describe_ssl_error(unsigned long packed, long verify_result, char* out,
                        std::size_t cap) noexcept;

}  // namespace gofer::tls::detail
