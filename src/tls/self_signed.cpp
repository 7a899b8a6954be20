// self_signed(): a certificate made in memory for local use (gofer serve
// --tls-self-signed): a new ECDSA P-256 key, SHA-256 signature, names as
// subjectAltName, serverAuth and clientAuth.
#include <arpa/inet.h>
#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>

#include <chrono>
#include <string>

#include "tls/certificate.h"

namespace gofer::tls {
namespace {

using namespace detail;

bool add_extension(X509* cert, int nid, const std::string& value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, cert, cert, nullptr, nullptr, 0);
  X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value.c_str());
  if (ext == nullptr) return false;
  const bool ok = X509_add_ext(cert, ext, -1) == 1;
  X509_EXTENSION_free(ext);
  return ok;
}

LoadError failed(const char* step) {
  return {errc::bad_config,
          std::string("tls: self-signed certificate: ") + step + ": " + take_error_reason()};
}

}  // namespace

LoadResult<Certificate> self_signed(std::vector<std::string> hosts, std::chrono::hours valid_for) {
  if (hosts.empty()) return {{}, {errc::bad_config, "tls: self-signed certificate: no host"}};
  ERR_clear_error();
  PkeyPtr key(EVP_EC_gen("P-256"));
  if (!key) return {{}, failed("key")};
  X509Ptr cert(X509_new());
  if (!cert || X509_set_version(cert.get(), X509_VERSION_3) != 1) return {{}, failed("new")};

  // A random 127-bit serial (RFC 5280: positive, at most 20 octets).
  unsigned char serial[16];
  if (RAND_bytes(serial, sizeof serial) != 1) return {{}, failed("serial")};
  serial[0] &= 0x7f;
  BIGNUM* bn = BN_bin2bn(serial, sizeof serial, nullptr);
  const bool serial_ok =
      bn != nullptr && BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(cert.get())) != nullptr;
  BN_free(bn);
  if (!serial_ok) return {{}, failed("serial")};

  // From an hour ago: a client whose clock is a little behind accepts it.
  const long valid_seconds =
      static_cast<long>(std::chrono::duration_cast<std::chrono::seconds>(valid_for).count());
  if (X509_gmtime_adj(X509_getm_notBefore(cert.get()), -3600) == nullptr ||
      X509_gmtime_adj(X509_getm_notAfter(cert.get()), valid_seconds) == nullptr) {
    return {{}, failed("validity")};
  }
  X509_NAME* name = X509_get_subject_name(cert.get());
  auto add_name = [&](const char* field, const std::string& value) {
    return X509_NAME_add_entry_by_txt(name, field, MBSTRING_UTF8,
                                      reinterpret_cast<const unsigned char*>(value.c_str()), -1, -1,
                                      0) == 1;
  };
  if (!add_name("O", "gofer self-signed") || !add_name("CN", hosts.front()) ||
      X509_set_issuer_name(cert.get(), name) != 1 || X509_set_pubkey(cert.get(), key.get()) != 1) {
    return {{}, failed("name")};
  }
  std::string san;
  for (const std::string& h : hosts) {
    if (!san.empty()) san += ',';
    san += (is_ip_literal(h) ? "IP:" : "DNS:") + h;
  }
  if (!add_extension(cert.get(), NID_basic_constraints, "critical,CA:FALSE") ||
      !add_extension(cert.get(), NID_key_usage, "critical,digitalSignature") ||
      !add_extension(cert.get(), NID_ext_key_usage, "serverAuth,clientAuth") ||
      !add_extension(cert.get(), NID_subject_key_identifier, "hash") ||
      !add_extension(cert.get(), NID_subject_alt_name, san)) {
    return {{}, failed("extensions")};
  }
  if (X509_sign(cert.get(), key.get(), EVP_sha256()) == 0) return {{}, failed("sign")};
  return make_certificate(std::move(cert), X509StackPtr(sk_X509_new_null()), std::move(key),
                          "self-signed certificate", "self-signed key");
}

}  // namespace gofer::tls
