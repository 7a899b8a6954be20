// Certificates: loading PEM chains and keys (Go's LoadX509KeyPair and
// X509KeyPair), and what a certificate says about itself.
#include "tls/certificate.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "gofer/runtime.h"

namespace gofer::tls {
namespace detail {
namespace {

// PEM inputs are a few KiB; a larger file is not a certificate or a key.
constexpr std::size_t kMaxPemFile = 1 << 20;

std::vector<std::string> names_of(X509* leaf) {
  std::vector<std::string> names;
  auto* sans =
      static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(leaf, NID_subject_alt_name, nullptr, nullptr));
  if (sans != nullptr) {
    for (int i = 0; i < sk_GENERAL_NAME_num(sans); ++i) {
      const GENERAL_NAME* gn = sk_GENERAL_NAME_value(sans, i);
      if (gn->type != GEN_DNS) continue;
      const ASN1_IA5STRING* s = gn->d.dNSName;
      names.push_back(
          ascii_lower(std::string_view(reinterpret_cast<const char*>(ASN1_STRING_get0_data(s)),
                                       static_cast<std::size_t>(ASN1_STRING_length(s)))));
    }
    GENERAL_NAMES_free(sans);
  }
  if (names.empty()) {
    // No DNS name: the common name, as older certificates carry it.
    char cn[256];
    int n = X509_NAME_get_text_by_NID(X509_get_subject_name(leaf), NID_commonName, cn, sizeof cn);
    if (n > 0) names.push_back(ascii_lower(std::string_view(cn, static_cast<std::size_t>(n))));
  }
  return names;
}

BioPtr mem_bio(std::string_view text) {
  return BioPtr(BIO_new_mem_buf(text.data(), static_cast<int>(text.size())));
}

std::string bio_text(BIO* bio) {
  char* data = nullptr;
  long n = BIO_get_mem_data(bio, &data);
  return n > 0 ? std::string(data, static_cast<std::size_t>(n)) : std::string();
}

}  // namespace

bool is_ip_literal(const std::string& host) {
  unsigned char buf[sizeof(in6_addr)];
  return ::inet_pton(AF_INET, host.c_str(), buf) == 1 ||
         ::inet_pton(AF_INET6, host.c_str(), buf) == 1;
}

std::string ascii_lower(std::string_view s) {
  std::string out(s);
  for (char& ch : out) {
    if (ch >= 'A' && ch <= 'Z') ch = static_cast<char>(ch - 'A' + 'a');
  }
  return out;
}

bool read_small_file(std::string_view path, std::string* out, std::string* why) {
  auto io = [&]() -> bool {
    std::string p(path);
    int fd = ::open(p.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
      *why = std::strerror(errno);
      return false;
    }
    out->clear();
    char buf[4096];
    for (;;) {
      ssize_t n = ::read(fd, buf, sizeof buf);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) {
        *why = std::strerror(errno);
        ::close(fd);
        return false;
      }
      if (n == 0) break;
      out->append(buf, static_cast<std::size_t>(n));
      if (out->size() > kMaxPemFile) {
        *why = "file too large for PEM input";
        ::close(fd);
        return false;
      }
    }
    ::close(fd);
    return true;
  };
  return gofer::in_goroutine() ? gofer::blocking(io) : io();
}

std::string name_rfc2253(const X509_NAME* name) {
  if (name == nullptr) return {};
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (!bio || X509_NAME_print_ex(bio.get(), name, 0, XN_FLAG_RFC2253) < 0) return {};
  return bio_text(bio.get());
}

LoadResult<Certificate> make_certificate(X509Ptr leaf, X509StackPtr chain, PkeyPtr key,
                                         std::string_view cert_what, std::string_view key_what) {
  ERR_clear_error();
  if (X509_check_private_key(leaf.get(), key.get()) != 1) {
    ERR_clear_error();
    return {
        {},
        {errc::key_mismatch, "tls: private key " + std::string(key_what) +
                                 " does not match the certificate in " + std::string(cert_what)}};
  }
  auto impl = std::make_shared<Certificate::Impl>();
  impl->names = names_of(leaf.get());
  impl->leaf = std::move(leaf);
  impl->chain = std::move(chain);
  impl->key = std::move(key);
  return {Certificate(std::move(impl)), {}};
}

}  // namespace detail

using namespace detail;

namespace {

LoadResult<Certificate> parse_key_pair(std::string_view cert_pem, std::string_view key_pem,
                                       std::string_view cert_what, std::string_view key_what) {
  ERR_clear_error();
  BioPtr cbio = mem_bio(cert_pem);
  X509Ptr leaf(cbio ? PEM_read_bio_X509(cbio.get(), nullptr, nullptr, nullptr) : nullptr);
  if (!leaf) {
    std::string why = take_error_reason();
    return {{},
            {errc::no_certificate, "tls: no PEM certificate in " + std::string(cert_what) +
                                       (why.empty() ? "" : " (" + why + ")")}};
  }
  X509StackPtr chain(sk_X509_new_null());
  while (X509* next = PEM_read_bio_X509(cbio.get(), nullptr, nullptr, nullptr)) {
    sk_X509_push(chain.get(), next);
  }
  ERR_clear_error();  // the loop ends on "no start line"
  BioPtr kbio = mem_bio(key_pem);
  PkeyPtr key(kbio ? PEM_read_bio_PrivateKey(kbio.get(), nullptr, nullptr, nullptr) : nullptr);
  if (!key) {
    std::string why = take_error_reason();
    return {{},
            {errc::no_private_key, "tls: no PEM private key in " + std::string(key_what) +
                                       (why.empty() ? "" : " (" + why + ")")}};
  }
  return make_certificate(std::move(leaf), std::move(chain), std::move(key), cert_what, key_what);
}

}  // namespace

LoadResult<Certificate> x509_key_pair(std::string_view cert_pem, std::string_view key_pem) {
  return parse_key_pair(cert_pem, key_pem, "certificate input", "key input");
}

LoadResult<Certificate> load_x509_key_pair(std::string_view cert_file, std::string_view key_file) {
  std::string cert_pem, key_pem, why;
  if (!read_small_file(cert_file, &cert_pem, &why)) {
    return {{}, {errc::cert_unreadable, "tls: open " + std::string(cert_file) + ": " + why}};
  }
  if (!read_small_file(key_file, &key_pem, &why)) {
    return {{}, {errc::key_unreadable, "tls: open " + std::string(key_file) + ": " + why}};
  }
  return parse_key_pair(cert_pem, key_pem, cert_file, key_file);
}

std::string Certificate::fingerprint_sha256() const {
  if (!impl_) return {};
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (X509_digest(impl_->leaf.get(), EVP_sha256(), md, &len) != 1) return {};
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(len * 3);
  for (unsigned i = 0; i < len; ++i) {
    if (i > 0) out += ':';
    out += kHex[md[i] >> 4];
    out += kHex[md[i] & 15];
  }
  return out;
}

std::string Certificate::subject() const {
  return impl_ ? name_rfc2253(X509_get_subject_name(impl_->leaf.get())) : std::string();
}

const std::vector<std::string>& Certificate::names() const noexcept {
  static const std::vector<std::string> kNone;
  return impl_ ? impl_->names : kNone;
}

std::string Certificate::cert_pem() const {
  if (!impl_) return {};
  BioPtr bio(BIO_new(BIO_s_mem()));
  PEM_write_bio_X509(bio.get(), impl_->leaf.get());
  for (int i = 0; i < sk_X509_num(impl_->chain.get()); ++i) {
    PEM_write_bio_X509(bio.get(), sk_X509_value(impl_->chain.get(), i));
  }
  return bio_text(bio.get());
}

std::string Certificate::key_pem() const {
  if (!impl_) return {};
  BioPtr bio(BIO_new(BIO_s_mem()));
  PEM_write_bio_PrivateKey(bio.get(), impl_->key.get(), nullptr, nullptr, 0, nullptr, nullptr);
  return bio_text(bio.get());
}

}  // namespace gofer::tls
