// The BIO between OpenSSL and a tls::Conn's ciphertext buffers. OpenSSL's
// reads take bytes from Conn::Impl::in, its writes append to
// Conn::Impl::out; when `in` is empty or `out` is full the BIO says
// "retry", so SSL_read/SSL_write/SSL_do_handshake return WANT_READ or
// WANT_WRITE, and conn.cpp moves ciphertext with net::Conn (parking the
// goroutine) before it calls OpenSSL again. Both callbacks run inside an
// OpenSSL call, under ssl_mu.
#include <climits>
#include <cstring>

#include "tls/conn_impl.h"

namespace gofer::tls::detail {
namespace {

Conn::Impl* impl_of(BIO* bio) {
  return static_cast<Conn::Impl*>(BIO_get_data(bio));
}

int bio_read(BIO* bio, char* dst, int len) {
  BIO_clear_retry_flags(bio);
  Conn::Impl* c = impl_of(bio);
  if (len <= 0) return 0;
  if (c->in.empty()) {
    BIO_set_retry_read(bio);
    return -1;
  }
  const std::size_t n = std::min(c->in.size(), static_cast<std::size_t>(len));
  std::memcpy(dst, c->in.data(), n);
  c->in.consume(n);
  return static_cast<int>(n);
}

int bio_write(BIO* bio, const char* src, int len) {
  BIO_clear_retry_flags(bio);
  Conn::Impl* c = impl_of(bio);
  if (len <= 0) return 0;
  // While a send is in flight the pending bytes must stay where they are:
  // only the free tail may be used.
  std::span<char> room = c->flushing ? c->out.tail()
                                     : c->out.reserve(static_cast<std::size_t>(len),
                                                      Conn::Impl::kOutMin, Conn::Impl::kOutMax);
  if (room.empty()) {
    BIO_set_retry_write(bio);
    return -1;
  }
  const std::size_t n = std::min(room.size(), static_cast<std::size_t>(len));
  std::memcpy(room.data(), src, n);
  c->out.commit(n);
  return static_cast<int>(n);  // a short write: OpenSSL offers the rest again
}

long bio_ctrl(BIO* bio, int cmd, long, void*) {
  Conn::Impl* c = impl_of(bio);
  switch (cmd) {
    case BIO_CTRL_FLUSH:  // conn.cpp sends `out` after each OpenSSL call
      return 1;
    case BIO_CTRL_PENDING:
      return static_cast<long>(std::min<std::size_t>(c->in.size(), LONG_MAX));
    case BIO_CTRL_WPENDING:
      return static_cast<long>(std::min<std::size_t>(c->out.size(), LONG_MAX));
    default:
      return 0;
  }
}

int bio_create(BIO* bio) {
  BIO_set_init(bio, 1);
  return 1;
}

BIO_METHOD* make_method() {
  BIO_METHOD* m = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "gofer tls conn");
  if (m == nullptr) return nullptr;
  BIO_meth_set_write(m, bio_write);
  BIO_meth_set_read(m, bio_read);
  BIO_meth_set_ctrl(m, bio_ctrl);
  BIO_meth_set_create(m, bio_create);
  return m;
}

}  // namespace

bool attach_bio(Conn::Impl* impl) {
  static BIO_METHOD* const method = make_method();  // for the life of the process
  if (method == nullptr) return false;
  BIO* bio = BIO_new(method);
  if (bio == nullptr) return false;
  BIO_set_data(bio, impl);
  SSL_set_bio(impl->ssl.get(), bio, bio);  // the SSL owns it (one reference for both)
  return true;
}

}  // namespace gofer::tls::detail
