// ServerConfig and ClientConfig: a Config checked and turned into an
// SSL_CTX, with every bad input reported as one line; SNI certificate
// choice and ALPN selection (the server's callbacks); certificate reload.
#include "tls/config.h"

#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include <algorithm>
#include <cctype>
#include <cstring>

#include "tls/certificate.h"
#include "tls/conn_impl.h"

namespace gofer::tls {

using namespace detail;

namespace {

// Go's defaults: ECDHE with AEAD only for TLS 1.2 (ECDSA before RSA, AES-GCM
// before ChaCha20); AES-128-GCM first for TLS 1.3; X25519 first.
constexpr const char* kDefaultTls12Suites =
    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"
    "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"
    "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305";
constexpr const char* kDefaultTls13Suites =
    "TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256";
constexpr const char* kDefaultGroups = "X25519:P-256:P-384:P-521";

// The session ID context: OpenSSL refuses to resume a session on a server
// that verifies client certificates unless one is set.
constexpr unsigned char kSessionIdContext[] = "gofer";

std::string join(const std::vector<std::string>& v) {
  std::string out;
  for (const std::string& s : v) {
    if (!out.empty()) out += ':';
    out += s;
  }
  return out;
}

// Whether the SSL_CTX's list now holds the suite `name` (an unknown TLS
// 1.3 name is dropped without an error).
bool has_cipher(SSL_CTX* ctx, const std::string& name) {
  STACK_OF(SSL_CIPHER)* ciphers = SSL_CTX_get_ciphers(ctx);
  for (int i = 0; i < sk_SSL_CIPHER_num(ciphers); ++i) {
    const SSL_CIPHER* cipher = sk_SSL_CIPHER_value(ciphers, i);
    if (name == SSL_CIPHER_get_name(cipher) || name == SSL_CIPHER_standard_name(cipher)) {
      return true;
    }
  }
  // A TLS 1.2 keyword ("HIGH", "ECDHE+AESGCM") names no one suite.
  return name.rfind("TLS_", 0) != 0 && sk_SSL_CIPHER_num(ciphers) > 0;
}

bool valid_version(Version v) {
  return v == Version::tls12 || v == Version::tls13;
}

std::string version_text(Version v) {
  if (valid_version(v)) return std::string(to_string(v));
  char buf[16];
  std::snprintf(buf, sizeof buf, "0x%04x", static_cast<unsigned>(v));
  return buf;
}

// Versions, cipher suites, groups: what both sides share.
LoadError apply_common(SSL_CTX* ctx, const Config& c) {
  if (!valid_version(c.min_version) || !valid_version(c.max_version)) {
    Version bad = valid_version(c.min_version) ? c.max_version : c.min_version;
    return {errc::unsupported_version,
            "tls: unsupported version " + version_text(bad) + " (TLS 1.2 and 1.3 are)"};
  }
  if (static_cast<int>(c.min_version) > static_cast<int>(c.max_version)) {
    return {errc::unsupported_version, "tls: min_version " + version_text(c.min_version) +
                                           " is above max_version " + version_text(c.max_version)};
  }
  SSL_CTX_set_min_proto_version(ctx, static_cast<int>(c.min_version));
  SSL_CTX_set_max_proto_version(ctx, static_cast<int>(c.max_version));

  // Each name on its own first: OpenSSL skips unknown names in a list.
  std::vector<std::string> tls12, tls13;
  for (const std::string& name : c.cipher_suites) {
    const bool is13 = name.rfind("TLS_", 0) == 0;
    const int ok = is13 ? SSL_CTX_set_ciphersuites(ctx, name.c_str())
                        : SSL_CTX_set_cipher_list(ctx, name.c_str());
    ERR_clear_error();
    if (ok != 1 || name.find_first_of(":, ") != std::string::npos || !has_cipher(ctx, name)) {
      return {errc::bad_cipher_suite, "tls: unknown cipher suite \"" + name + "\""};
    }
    (is13 ? tls13 : tls12).push_back(name);
  }
  const std::string list12 = tls12.empty() ? kDefaultTls12Suites : join(tls12);
  const std::string list13 = tls13.empty() ? kDefaultTls13Suites : join(tls13);
  if (SSL_CTX_set_cipher_list(ctx, list12.c_str()) != 1 ||
      SSL_CTX_set_ciphersuites(ctx, list13.c_str()) != 1) {
    return {errc::bad_cipher_suite, "tls: cipher suites: " + take_error_reason()};
  }

  for (const std::string& name : c.curve_preferences) {
    const int ok = SSL_CTX_set1_groups_list(ctx, name.c_str());
    ERR_clear_error();
    if (ok != 1 || name.find(':') != std::string::npos) {
      return {errc::bad_curve, "tls: unknown curve \"" + name + "\""};
    }
  }
  const std::string groups =
      c.curve_preferences.empty() ? kDefaultGroups : join(c.curve_preferences);
  if (SSL_CTX_set1_groups_list(ctx, groups.c_str()) != 1) {
    return {errc::bad_curve, "tls: curves: " + take_error_reason()};
  }
  for (const std::string& p : c.next_protos) {
    if (p.empty() || p.size() > 255) {
      return {errc::bad_config, "tls: an ALPN protocol name must be 1 to 255 bytes"};
    }
  }
  SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_COMPRESSION);
  SSL_CTX_set_mode(ctx, kSslModes);
  return {};
}

// A PEM file of CA certificates, added to `store`; their subjects go to
// `names` when given (the list a server sends in CertificateRequest).
LoadError load_ca_file(const std::string& path, X509_STORE* store, STACK_OF(X509_NAME) * names) {
  std::string pem, why;
  if (!read_small_file(path, &pem, &why)) {
    return {errc::ca_unreadable, "tls: open " + path + ": " + why};
  }
  BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  int count = 0;
  while (X509* cert = PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr)) {
    X509_STORE_add_cert(store, cert);
    if (names != nullptr) {
      if (X509_NAME* n = X509_NAME_dup(X509_get_subject_name(cert))) sk_X509_NAME_push(names, n);
    }
    X509_free(cert);
    ++count;
  }
  ERR_clear_error();
  if (count == 0) return {errc::ca_unreadable, "tls: no PEM certificate in " + path};
  return {};
}

LoadResult<std::shared_ptr<const CertSet>> make_cert_set(std::vector<Certificate> certs) {
  if (certs.empty()) {
    return {{}, {errc::no_certificate, "tls: a server needs at least one certificate"}};
  }
  auto set = std::make_shared<CertSet>();
  for (std::size_t i = 0; i < certs.size(); ++i) {
    if (certs[i].empty()) {
      return {{}, {errc::no_certificate, "tls: certificate " + std::to_string(i) + " is empty"}};
    }
    for (const std::string& name : certs[i].names()) set->by_name[name].push_back(i);
  }
  set->certs = std::move(certs);
  return {std::move(set), {}};
}

// The certificate callback (SSL_CTX_set_cert_cb), at the ClientHello: the
// certificates for the SNI name from the current snapshot. All that match
// are set, one per key type, so OpenSSL can pick one the client supports;
// the first listed wins within a key type (set last, overriding).
int select_certificate(SSL* ssl, void* arg) {
  const auto* impl = static_cast<const ServerConfig::Impl*>(arg);
  std::shared_ptr<const CertSet> set = impl->snapshot();
  const char* sni = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name);
  const std::vector<std::size_t>* matched = sni != nullptr ? set->match(sni) : nullptr;
  static const std::vector<std::size_t> kDefault{0};
  const std::vector<std::size_t>& chosen = matched != nullptr ? *matched : kDefault;
  for (auto it = chosen.rbegin(); it != chosen.rend(); ++it) {
    const Certificate::Impl* c = set->certs[*it].impl();
    if (SSL_use_cert_and_key(ssl, c->leaf.get(), c->key.get(), c->chain.get(), 1) != 1) return 0;
  }
  return 1;
}

// ALPN (RFC 7301) as Go's negotiateALPN: the server's preference order; no
// overlap is a fatal no_application_protocol alert, except for an
// http/1.1 client of an h2-only server, which gets no protocol.
int select_alpn(SSL*, const unsigned char** out, unsigned char* outlen, const unsigned char* in,
                unsigned int inlen, void* arg) {
  const auto* impl = static_cast<const ServerConfig::Impl*>(arg);
  if (impl->next_protos.empty()) return SSL_TLSEXT_ERR_NOACK;
  bool http11_fallback = false;
  for (const std::string& mine : impl->next_protos) {
    for (unsigned i = 0; i < inlen;) {
      const unsigned len = in[i];
      if (i + 1 + len > inlen) return SSL_TLSEXT_ERR_ALERT_FATAL;  // malformed list
      std::string_view theirs(reinterpret_cast<const char*>(in + i + 1), len);
      if (theirs == mine) {
        *out = in + i + 1;
        *outlen = static_cast<unsigned char>(len);
        return SSL_TLSEXT_ERR_OK;
      }
      if (mine == "h2" && theirs == "http/1.1") http11_fallback = true;
      i += 1 + len;
    }
  }
  return http11_fallback ? SSL_TLSEXT_ERR_NOACK : SSL_TLSEXT_ERR_ALERT_FATAL;
}

int accept_any_certificate(int, X509_STORE_CTX*) {
  return 1;
}

// The client's new-session callback: a ticket (TLS 1.3: after the
// handshake, read with application data) goes to the cache under the
// connection's key. Returning 1 keeps the reference OpenSSL gave us.
int store_session(SSL* ssl, SSL_SESSION* session) {
  auto* conn = static_cast<Conn::Impl*>(SSL_get_app_data(ssl));
  if (conn == nullptr || !conn->session_cache) return 0;
  conn->session_cache->impl().put(conn->session_key, session);
  return 1;
}

}  // namespace

const std::vector<std::size_t>* CertSet::match(std::string_view sni) const {
  if (sni.empty() || sni.size() > 253) return nullptr;
  std::string name = ascii_lower(sni);
  if (!name.empty() && name.back() == '.') name.pop_back();  // "example.com." is example.com
  if (auto it = by_name.find(name); it != by_name.end()) return &it->second;
  const std::size_t dot = name.find('.');
  if (dot == std::string::npos || dot == 0) return nullptr;
  name.replace(0, dot, "*");
  if (auto it = by_name.find(name); it != by_name.end()) return &it->second;
  return nullptr;
}

LoadResult<Version> parse_version(std::string_view text) {
  std::string t = ascii_lower(text);
  if (t.rfind("tls", 0) == 0) t.erase(0, 3);
  if (!t.empty() && (t[0] == ' ' || t[0] == 'v')) t.erase(0, 1);
  if (t == "1.2") return {Version::tls12, {}};
  if (t == "1.3") return {Version::tls13, {}};
  return {{},
          {errc::unsupported_version,
           "tls: unsupported version \"" + std::string(text) + "\" (1.2 and 1.3 are)"}};
}

std::string_view to_string(Version v) noexcept {
  switch (v) {
    case Version::tls12:
      return "TLS 1.2";
    case Version::tls13:
      return "TLS 1.3";
  }
  return "unknown";
}

ServerConfig::ServerConfig(std::unique_ptr<Impl> impl) noexcept : impl_(std::move(impl)) {}
ServerConfig::~ServerConfig() = default;

LoadResult<std::shared_ptr<ServerConfig>> ServerConfig::load(const Config& c) {
  ERR_clear_error();
  auto impl = std::make_unique<Impl>();
  impl->ctx.reset(SSL_CTX_new(TLS_server_method()));
  if (!impl->ctx) return {{}, {errc::bad_config, "tls: SSL_CTX_new: " + take_error_reason()}};
  SSL_CTX* ctx = impl->ctx.get();
  if (LoadError e = apply_common(ctx, c)) return {{}, std::move(e)};
  auto [set, serr] = make_cert_set(c.certificates);
  if (serr) return {{}, std::move(serr)};
  impl->certs = std::move(set);
  impl->next_protos = c.next_protos;

  SSL_CTX_set_options(ctx, SSL_OP_CIPHER_SERVER_PREFERENCE);
  SSL_CTX_set_session_id_context(ctx, kSessionIdContext, sizeof kSessionIdContext - 1);
  // Stateless tickets only: no server-side session cache (no lock, no
  // memory per session), as Go.
  SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
  if (c.session_tickets_disabled) {
    SSL_CTX_set_options(ctx, SSL_OP_NO_TICKET);
    SSL_CTX_set_num_tickets(ctx, 0);
  } else {
    SSL_CTX_set_num_tickets(ctx, 1);  // Go sends one
  }

  switch (c.client_auth) {
    case ClientAuth::none:
      SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, nullptr);
      break;
    case ClientAuth::request:
      SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, accept_any_certificate);
      break;
    case ClientAuth::require_any:
      SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT,
                         accept_any_certificate);
      break;
    case ClientAuth::verify_if_given:
      SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, nullptr);
      break;
    case ClientAuth::require_and_verify:
      SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, nullptr);
      break;
  }
  const bool verifies = c.client_auth == ClientAuth::verify_if_given ||
                        c.client_auth == ClientAuth::require_and_verify;
  if (verifies && c.client_ca_file.empty()) {
    return {{}, {errc::bad_config, "tls: client_auth that verifies needs a client_ca_file"}};
  }
  if (!c.client_ca_file.empty()) {
    STACK_OF(X509_NAME)* names = sk_X509_NAME_new_null();
    if (LoadError e = load_ca_file(c.client_ca_file, SSL_CTX_get_cert_store(ctx), names)) {
      sk_X509_NAME_pop_free(names, X509_NAME_free);
      return {{}, std::move(e)};
    }
    SSL_CTX_set_client_CA_list(ctx, names);  // takes ownership
  }

  SSL_CTX_set_cert_cb(ctx, select_certificate, impl.get());
  SSL_CTX_set_alpn_select_cb(ctx, select_alpn, impl.get());
  return {std::shared_ptr<ServerConfig>(new ServerConfig(std::move(impl))), {}};
}

LoadError ServerConfig::set_certificates(std::vector<Certificate> certificates) {
  auto [set, err] = make_cert_set(std::move(certificates));
  if (err) return err;
  impl_->publish(std::move(set));
  return {};
}

std::vector<Certificate> ServerConfig::certificates() const {
  return impl_->snapshot()->certs;
}

ClientConfig::ClientConfig(std::unique_ptr<Impl> impl) noexcept : impl_(std::move(impl)) {}
ClientConfig::~ClientConfig() = default;

LoadResult<std::shared_ptr<ClientConfig>> ClientConfig::load(const Config& c) {
  ERR_clear_error();
  auto impl = std::make_unique<Impl>();
  impl->ctx.reset(SSL_CTX_new(TLS_client_method()));
  if (!impl->ctx) return {{}, {errc::bad_config, "tls: SSL_CTX_new: " + take_error_reason()}};
  SSL_CTX* ctx = impl->ctx.get();
  if (LoadError e = apply_common(ctx, c)) return {{}, std::move(e)};
  impl->server_name = c.server_name;
  impl->insecure_skip_verify = c.insecure_skip_verify;

  if (!c.next_protos.empty()) {
    std::string wire;
    for (const std::string& p : c.next_protos) {
      wire += static_cast<char>(p.size());
      wire += p;
    }
    // 0 is success here.
    if (SSL_CTX_set_alpn_protos(ctx, reinterpret_cast<const unsigned char*>(wire.data()),
                                static_cast<unsigned>(wire.size())) != 0) {
      return {{}, {errc::bad_config, "tls: ALPN protocols: " + take_error_reason()}};
    }
  }

  if (c.insecure_skip_verify) {
    SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, nullptr);
  } else {
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, nullptr);
    if (!c.root_ca_file.empty()) {
      if (LoadError e = load_ca_file(c.root_ca_file, SSL_CTX_get_cert_store(ctx), nullptr)) {
        return {{}, std::move(e)};
      }
    } else if (SSL_CTX_set_default_verify_paths(ctx) != 1) {
      return {{}, {errc::ca_unreadable, "tls: the system's CA store: " + take_error_reason()}};
    }
  }

  if (!c.certificates.empty()) {
    const Certificate::Impl* cert = c.certificates.front().impl();
    if (cert == nullptr) return {{}, {errc::no_certificate, "tls: certificate 0 is empty"}};
    if (SSL_CTX_use_cert_and_key(ctx, cert->leaf.get(), cert->key.get(), cert->chain.get(), 1) !=
        1) {
      return {{}, {errc::bad_config, "tls: client certificate: " + take_error_reason()}};
    }
  }

  if (c.session_tickets_disabled || !c.client_session_cache) {
    SSL_CTX_set_options(ctx, SSL_OP_NO_TICKET);
    SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
  } else {
    impl->session_cache = c.client_session_cache;
    SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_CLIENT | SSL_SESS_CACHE_NO_INTERNAL_STORE);
    SSL_CTX_sess_set_new_cb(ctx, store_session);
  }
  return {std::shared_ptr<ClientConfig>(new ClientConfig(std::move(impl))), {}};
}

}  // namespace gofer::tls
