// Test certificates, made when the tests start (no key is committed): a CA,
// leaves it signs, and a second CA nobody trusts, written as PEM files into
// a temporary directory that is removed at exit. Test code only: it uses
// OpenSSL directly to play the part of a certificate authority.
#pragma once

#include <openssl/bn.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>
#include <stdlib.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

namespace gofer::tls::test {

struct KeyPair {
  std::string cert_file;
  std::string key_file;
  std::string subject_cn;
};

class Pki {
 public:
  // The process's test PKI, made on first use.
  static const Pki& get() {
    static const Pki pki;
    return pki;
  }

  std::string dir;
  std::string ca_file;            // the trusted CA's certificate
  std::string other_ca_file;      // a CA nobody in the tests trusts
  KeyPair localhost;              // DNS:localhost, IP:127.0.0.1, IP:::1 (ECDSA P-256)
  KeyPair localhost_rsa;          // the same names, RSA 2048
  KeyPair a_example;              // DNS:a.example
  KeyPair wild_b_example;         // DNS:*.b.example
  KeyPair client;                 // CN=test client, clientAuth
  KeyPair untrusted_client;       // signed by the other CA
  KeyPair expired;                // localhost, expired yesterday
  KeyPair self_signed_localhost;  // not signed by any CA

  ~Pki() {
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
  }

 private:
  struct Issuer {
    X509* cert;
    EVP_PKEY* key;
  };

  Pki() {
    char tmpl[] = "/tmp/gofer-tls-test-XXXXXX";
    dir = ::mkdtemp(tmpl);
    EVP_PKEY* ca_key = EVP_EC_gen("P-256");
    X509* ca = make("gofer test CA", {}, ca_key, nullptr, true, false, 365);
    ca_file = write_cert("ca.pem", ca);
    EVP_PKEY* other_key = EVP_EC_gen("P-256");
    X509* other = make("other test CA", {}, other_key, nullptr, true, false, 365);
    other_ca_file = write_cert("other-ca.pem", other);
    Issuer issuer{ca, ca_key};
    Issuer other_issuer{other, other_key};

    localhost = leaf("localhost", {"DNS:localhost", "IP:127.0.0.1", "IP:::1"}, issuer, false);
    localhost_rsa = leaf("localhost rsa", {"DNS:localhost", "IP:127.0.0.1"}, issuer, false, 365,
                         /*rsa=*/true);
    a_example = leaf("a.example", {"DNS:a.example"}, issuer, false);
    wild_b_example = leaf("wildcard b.example", {"DNS:*.b.example"}, issuer, false);
    client = leaf("test client", {}, issuer, true);
    untrusted_client = leaf("untrusted client", {}, other_issuer, true);
    expired = leaf("expired localhost", {"DNS:localhost"}, issuer, false, -1);
    self_signed_localhost = leaf("self-signed localhost", {"DNS:localhost"}, {}, false);
    X509_free(ca);
    EVP_PKEY_free(ca_key);
    X509_free(other);
    EVP_PKEY_free(other_key);
  }

  // days < 0: expired that many days ago.
  static X509* make(const std::string& cn, const std::vector<std::string>& sans, EVP_PKEY* key,
                    const Issuer* issuer, bool ca, bool client_auth, int days) {
    X509* x = X509_new();
    X509_set_version(x, X509_VERSION_3);
    unsigned char serial[16];
    RAND_bytes(serial, sizeof serial);
    serial[0] &= 0x7f;
    BIGNUM* bn = BN_bin2bn(serial, sizeof serial, nullptr);
    BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x));
    BN_free(bn);
    if (days >= 0) {
      X509_gmtime_adj(X509_getm_notBefore(x), -3600);
      X509_gmtime_adj(X509_getm_notAfter(x), 86400L * days);
    } else {
      X509_gmtime_adj(X509_getm_notBefore(x), 86400L * (days - 30));
      X509_gmtime_adj(X509_getm_notAfter(x), 86400L * days);
    }
    X509_NAME* name = X509_get_subject_name(x);
    X509_NAME_add_entry_by_txt(name, "O", MBSTRING_UTF8,
                               reinterpret_cast<const unsigned char*>("gofer tests"), -1, -1, 0);
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8,
                               reinterpret_cast<const unsigned char*>(cn.c_str()), -1, -1, 0);
    X509_set_issuer_name(x, issuer ? X509_get_subject_name(issuer->cert) : name);
    X509_set_pubkey(x, key);
    X509* signer = issuer ? issuer->cert : x;
    auto ext = [&](int nid, const std::string& value) {
      X509V3_CTX ctx;
      X509V3_set_ctx_nodb(&ctx);
      X509V3_set_ctx(&ctx, signer, x, nullptr, nullptr, 0);
      X509_EXTENSION* e = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value.c_str());
      X509_add_ext(x, e, -1);
      X509_EXTENSION_free(e);
    };
    ext(NID_basic_constraints, ca ? "critical,CA:TRUE" : "critical,CA:FALSE");
    ext(NID_key_usage,
        ca ? "critical,keyCertSign,cRLSign" : "critical,digitalSignature,keyEncipherment");
    if (!ca) ext(NID_ext_key_usage, client_auth ? "clientAuth" : "serverAuth");
    ext(NID_subject_key_identifier, "hash");
    if (issuer) ext(NID_authority_key_identifier, "keyid:always");
    if (!sans.empty()) {
      std::string v;
      for (const auto& s : sans) v += (v.empty() ? "" : ",") + s;
      ext(NID_subject_alt_name, v);
    }
    X509_sign(x, issuer ? issuer->key : key, EVP_sha256());
    return x;
  }

  KeyPair leaf(const std::string& cn, const std::vector<std::string>& sans, Issuer issuer,
               bool client_auth, int days = 365, bool rsa = false) {
    EVP_PKEY* key = rsa ? EVP_RSA_gen(2048) : EVP_EC_gen("P-256");
    X509* x = make(cn, sans, key, issuer.cert ? &issuer : nullptr, false, client_auth, days);
    std::string base;
    for (char c : cn) base += std::isalnum(static_cast<unsigned char>(c)) ? c : '-';
    KeyPair kp{write_cert(base + ".pem", x), write_key(base + "-key.pem", key), cn};
    X509_free(x);
    EVP_PKEY_free(key);
    return kp;
  }

  std::string write_cert(const std::string& name, X509* x) {
    std::string path = dir + "/" + name;
    FILE* f = std::fopen(path.c_str(), "w");
    PEM_write_X509(f, x);
    std::fclose(f);
    return path;
  }
  std::string write_key(const std::string& name, EVP_PKEY* k) {
    std::string path = dir + "/" + name;
    FILE* f = std::fopen(path.c_str(), "w");
    PEM_write_PrivateKey(f, k, nullptr, nullptr, 0, nullptr, nullptr);
    std::fclose(f);
    return path;
  }
};

}  // namespace gofer::tls::test
