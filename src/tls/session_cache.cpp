// ClientSessionCache: the sessions a client resumes (Go's
// NewLRUClientSessionCache).
#include "tls/config.h"

namespace gofer::tls {

ClientSessionCache::ClientSessionCache(std::size_t capacity)
    : impl_(std::make_unique<Impl>(capacity)) {}
ClientSessionCache::~ClientSessionCache() = default;

std::size_t ClientSessionCache::size() const {
  std::lock_guard lock(impl_->mu);
  return impl_->lru.size();
}

ClientSessionCache::Impl::~Impl() {
  for (Entry& e : lru) SSL_SESSION_free(e.session);
}

void ClientSessionCache::Impl::put(const std::string& key, SSL_SESSION* session) {
  SSL_SESSION* dropped = nullptr;
  {
    std::lock_guard lock(mu);
    if (auto it = index.find(key); it != index.end()) {
      dropped = it->second->session;
      it->second->session = session;
      lru.splice(lru.begin(), lru, it->second);
    } else {
      lru.push_front({key, session});
      index.emplace(key, lru.begin());
      if (lru.size() > capacity) {
        dropped = lru.back().session;
        index.erase(lru.back().key);
        lru.pop_back();
      }
    }
  }
  if (dropped != nullptr) SSL_SESSION_free(dropped);
}

SSL_SESSION* ClientSessionCache::Impl::get(const std::string& key) {
  std::lock_guard lock(mu);
  auto it = index.find(key);
  if (it == index.end()) return nullptr;
  SSL_SESSION* s = it->second->session;
  if (SSL_SESSION_is_resumable(s) != 1) return nullptr;
  SSL_SESSION_up_ref(s);
  lru.splice(lru.begin(), lru, it->second);
  return s;
}

}  // namespace gofer::tls
