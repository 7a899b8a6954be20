// Owning pointers for OpenSSL objects, and reading OpenSSL's error queue.
// Private to the tls layer.
//
// OpenSSL keeps its error queue per thread, and a goroutine may resume on
// another thread after a park: whoever calls OpenSSL reads (and empties)
// the queue right after the call, before anything can park (HACKING.md,
// rule 2).
#pragma once

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <memory>
#include <string>

namespace gofer::tls::detail {

template <auto Free>
struct Deleter {
  template <class T>
  void operator()(T* p) const noexcept {
    Free(p);
  }
};

using BioPtr = std::unique_ptr<BIO, Deleter<BIO_free_all>>;
using X509Ptr = std::unique_ptr<X509, Deleter<X509_free>>;
using PkeyPtr = std::unique_ptr<EVP_PKEY, Deleter<EVP_PKEY_free>>;
using SslCtxPtr = std::unique_ptr<SSL_CTX, Deleter<SSL_CTX_free>>;
using SslPtr = std::unique_ptr<SSL, Deleter<SSL_free>>;

inline void free_x509_stack(STACK_OF(X509) * s) noexcept {
  sk_X509_pop_free(s, X509_free);
}
using X509StackPtr = std::unique_ptr<STACK_OF(X509), Deleter<free_x509_stack>>;

// The reason text of the first error in this thread's queue ("no such
// file", "key values mismatch"), and empties the queue. Empty if none.
std::string take_error_reason();

}  // namespace gofer::tls::detail
