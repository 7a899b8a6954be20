// The tls error category, and how OpenSSL's reasons map onto it.
#include "tls/errors.h"

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <cstdio>
#include <cstring>

#include "tls/ossl.h"

namespace gofer::tls {
namespace {

class TlsCategory final : public std::error_category {
 public:
  const char* name() const noexcept override { return "tls"; }
  std::string message(int ev) const override {
    switch (static_cast<errc>(ev)) {
      case errc::truncated:
        return "tls: connection ended without close_notify (truncated)";
      case errc::not_tls:
        return "tls: the peer does not speak TLS";
      case errc::http_request:
        return "tls: client sent an HTTP request to a TLS server";
      case errc::handshake_failure:
        return "tls: handshake failure (no common version, cipher suite, group or protocol)";
      case errc::verify_failed:
        return "tls: the peer's certificate was refused";
      case errc::remote_alert:
        return "tls: the peer sent a fatal alert";
      case errc::protocol_error:
        return "tls: protocol error";
      case errc::missing_server_name:
        return "tls: either server_name or insecure_skip_verify must be set";
      case errc::cert_unreadable:
        return "tls: cannot read the certificate";
      case errc::key_unreadable:
        return "tls: cannot read the private key";
      case errc::no_certificate:
        return "tls: no certificate";
      case errc::no_private_key:
        return "tls: no private key";
      case errc::key_mismatch:
        return "tls: the private key does not match the certificate";
      case errc::ca_unreadable:
        return "tls: cannot read the CA file";
      case errc::unsupported_version:
        return "tls: unsupported version";
      case errc::bad_cipher_suite:
        return "tls: bad cipher suite";
      case errc::bad_curve:
        return "tls: bad curve";
      case errc::bad_config:
        return "tls: bad configuration";
    }
    return "tls: unknown error";
  }
};

}  // namespace

const std::error_category& tls_category() noexcept {
  static const TlsCategory category;
  return category;
}

namespace detail {

std::string take_error_reason() {
  unsigned long e = ERR_get_error();
  ERR_clear_error();
  if (e == 0) return {};
  const char* reason = ERR_reason_error_string(e);
  return reason != nullptr ? reason : "unknown OpenSSL error";
}

Error classify_ssl_error(unsigned long packed, long verify_result) noexcept {
  if (packed == 0) return errc::protocol_error;
  const int reason = ERR_GET_REASON(packed);
  if (ERR_GET_LIB(packed) != ERR_LIB_SSL) return errc::protocol_error;
  // An alert from the peer: reason = SSL_AD_REASON_OFFSET + the alert.
  if (reason >= SSL_AD_REASON_OFFSET && reason < SSL_AD_REASON_OFFSET + 256) {
    return errc::remote_alert;
  }
  switch (reason) {
    case SSL_R_CERTIFICATE_VERIFY_FAILED:
    case SSL_R_PEER_DID_NOT_RETURN_A_CERTIFICATE:
    case SSL_R_NO_CERTIFICATES_RETURNED:
      return errc::verify_failed;
    case SSL_R_HTTP_REQUEST:
    case SSL_R_HTTPS_PROXY_REQUEST:
      return errc::http_request;
    case SSL_R_WRONG_VERSION_NUMBER:
    case SSL_R_UNKNOWN_PROTOCOL:
    case SSL_R_PACKET_LENGTH_TOO_LONG:
    case SSL_R_RECORD_LENGTH_MISMATCH:
    case SSL_R_WRONG_SSL_VERSION:
      return errc::not_tls;
    case SSL_R_NO_SHARED_CIPHER:
    case SSL_R_NO_SHARED_GROUPS:
    case SSL_R_UNSUPPORTED_PROTOCOL:
    case SSL_R_NO_PROTOCOLS_AVAILABLE:
    case SSL_R_NO_APPLICATION_PROTOCOL:
    case SSL_R_NO_SUITABLE_SIGNATURE_ALGORITHM:
    case SSL_R_NO_SHARED_SIGNATURE_ALGORITHMS:
    case SSL_R_VERSION_TOO_LOW:
    case SSL_R_VERSION_TOO_HIGH:
    case SSL_R_INAPPROPRIATE_FALLBACK:
    case SSL_R_CALLBACK_FAILED:
      return errc::handshake_failure;
    default:
      break;
  }
  if (verify_result != X509_V_OK) return errc::verify_failed;
  return errc::protocol_error;
}

void describe_ssl_error(unsigned long packed, long verify_result, char* out,
                        std::size_t cap) noexcept {
  if (cap == 0) return;
  out[0] = '\0';
  if (packed == 0) return;
  const char* reason = ERR_reason_error_string(packed);
  if (reason == nullptr) reason = "unknown OpenSSL error";
  if (ERR_GET_REASON(packed) == SSL_R_CERTIFICATE_VERIFY_FAILED && verify_result != X509_V_OK) {
    std::snprintf(out, cap, "%s: %s", reason, X509_verify_cert_error_string(verify_result));
  } else {
    std::snprintf(out, cap, "%s", reason);
  }
}

}  // namespace detail
}  // namespace gofer::tls
