// ServerConfig::Impl, ClientConfig::Impl and ClientSessionCache::Impl: the
// OpenSSL state that connections are made from. Private to the tls layer.
//
// One SSL_CTX per config, made at load and never changed afterwards, except
// for the server's certificates: they are not in the SSL_CTX but in a
// CertSet, chosen per handshake by the certificate callback from the
// current snapshot (so a reload is one pointer swap, and the session ticket
// keys, which belong to the SSL_CTX, survive it).
#pragma once

#include <list>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "gofer/tls.h"
#include "tls/ossl.h"

namespace gofer::tls {

namespace detail {

// The server's certificates and the index SNI is looked up in.
// Invariants: certs is non-empty; immutable once published.
struct CertSet {
  std::vector<Certificate> certs;
  // Lower-case name (exact, or "*.example.com") → indices into certs, in
  // the order given.
  std::unordered_map<std::string, std::vector<std::size_t>> by_name;

  // The certificates for an SNI name: exact match first, then the wildcard
  // for its parent; nullptr when none (the default, certs[0], then serves).
  const std::vector<std::size_t>* match(std::string_view sni) const;
};

// The SSL* option bits both sides use.
constexpr long kSslModes =
    SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER | SSL_MODE_RELEASE_BUFFERS;

}  // namespace detail

struct ServerConfig::Impl {
  detail::SslCtxPtr ctx;
  std::vector<std::string> next_protos;

  std::shared_ptr<const detail::CertSet> snapshot() const {
    std::lock_guard lock(certs_mu);
    return certs;
  }
  void publish(std::shared_ptr<const detail::CertSet> set) {
    std::lock_guard lock(certs_mu);
    certs.swap(set);  // the old set is released outside the lock (by set's destructor)
  }

  // A std::mutex, held only to copy or swap the pointer: never across a park.
  mutable std::mutex certs_mu;
  std::shared_ptr<const detail::CertSet> certs;  // guarded by certs_mu
};

struct ClientConfig::Impl {
  detail::SslCtxPtr ctx;
  std::string server_name;
  bool insecure_skip_verify = false;
  std::shared_ptr<ClientSessionCache> session_cache;  // null: no resumption
};

// An LRU map from "server name|address" to the newest resumable session.
struct ClientSessionCache::Impl {
  explicit Impl(std::size_t capacity) : capacity(capacity == 0 ? 1 : capacity) {}
  ~Impl();
  // Takes ownership of `session` (replacing the key's older one).
  void put(const std::string& key, SSL_SESSION* session);
  // A new reference to the key's session, or nullptr.
  SSL_SESSION* get(const std::string& key);

  struct Entry {
    std::string key;
    SSL_SESSION* session;
  };
  const std::size_t capacity;
  // Called from inside OpenSSL calls (the new-session callback) on any
  // thread: a std::mutex, never held across a park.
  mutable std::mutex mu;
  std::list<Entry> lru;  // guarded by mu; most recent first
  std::unordered_map<std::string, std::list<Entry>::iterator> index;  // guarded by mu
};

}  // namespace gofer::tls
