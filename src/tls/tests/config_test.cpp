// Loading certificates and configurations: every bad input is an error
// value with one line that says what and where (as Go's LoadX509KeyPair
// and a server that must exit non-zero at start), never a crash.
#include <gtest/gtest.h>

#include <fstream>

#include "tls_test_util.h"

namespace tls = gofer::tls;
using namespace tls::test;

namespace {

std::string write_file(const std::string& name, const std::string& text) {
  std::string path = Pki::get().dir + "/" + name;
  std::ofstream(path) << text;
  return path;
}

bool one_line(const std::string& s) {
  return !s.empty() && s.find('\n') == std::string::npos;
}

TEST(LoadKeyPair, Loads) {
  const KeyPair& kp = Pki::get().localhost;
  auto [cert, err] = tls::load_x509_key_pair(kp.cert_file, kp.key_file);
  ASSERT_FALSE(err) << err.message();
  EXPECT_EQ(cert.subject(), "CN=localhost,O=gofer tests");
  EXPECT_EQ(cert.names(), std::vector<std::string>{"localhost"});
}

TEST(LoadKeyPair, MissingCertificateFile) {
  auto [cert, err] =
      tls::load_x509_key_pair("/nonexistent/cert.pem", Pki::get().localhost.key_file);
  EXPECT_EQ(err, tls::errc::cert_unreadable);
  EXPECT_EQ(err.message(), "tls: open /nonexistent/cert.pem: No such file or directory");
  EXPECT_TRUE(cert.empty());
}

TEST(LoadKeyPair, MissingKeyFile) {
  auto [cert, err] =
      tls::load_x509_key_pair(Pki::get().localhost.cert_file, "/nonexistent/key.pem");
  EXPECT_EQ(err, tls::errc::key_unreadable);
  EXPECT_TRUE(one_line(err.message())) << err.message();
}

TEST(LoadKeyPair, UnreadableDirectoryAsFile) {
  auto [cert, err] = tls::load_x509_key_pair(Pki::get().dir, Pki::get().localhost.key_file);
  EXPECT_EQ(err, tls::errc::cert_unreadable);
  EXPECT_NE(err.message().find("Is a directory"), std::string::npos) << err.message();
}

TEST(LoadKeyPair, KeyOfAnotherCertificate) {
  auto [cert, err] =
      tls::load_x509_key_pair(Pki::get().localhost.cert_file, Pki::get().a_example.key_file);
  EXPECT_EQ(err, tls::errc::key_mismatch);
  EXPECT_EQ(err.message(), "tls: private key " + Pki::get().a_example.key_file +
                               " does not match the certificate in " +
                               Pki::get().localhost.cert_file);
}

TEST(LoadKeyPair, NotPem) {
  std::string junk = write_file("junk.pem", "this is not a certificate\n");
  auto [c1, e1] = tls::load_x509_key_pair(junk, Pki::get().localhost.key_file);
  EXPECT_EQ(e1, tls::errc::no_certificate);
  EXPECT_TRUE(one_line(e1.message())) << e1.message();
  auto [c2, e2] = tls::load_x509_key_pair(Pki::get().localhost.cert_file, junk);
  EXPECT_EQ(e2, tls::errc::no_private_key);
  // The key and the certificate swapped.
  auto [c3, e3] =
      tls::load_x509_key_pair(Pki::get().localhost.key_file, Pki::get().localhost.cert_file);
  EXPECT_EQ(e3, tls::errc::no_certificate);
}

TEST(LoadKeyPair, FromPemText) {
  auto [self, err] = tls::self_signed();
  ASSERT_FALSE(err) << err.message();
  auto [again, err2] = tls::x509_key_pair(self.cert_pem(), self.key_pem());
  ASSERT_FALSE(err2) << err2.message();
  EXPECT_EQ(again.fingerprint_sha256(), self.fingerprint_sha256());
  auto [none, err3] = tls::x509_key_pair("", self.key_pem());
  EXPECT_EQ(err3, tls::errc::no_certificate);
}

// The fingerprint is the one `openssl x509 -fingerprint -sha256` prints,
// and the certificate is ECDSA P-256, valid for the hosts asked.
TEST(SelfSigned, FingerprintMatchesOpenSslCommand) {
  auto [cert, err] = tls::self_signed({"localhost", "127.0.0.1", "::1"});
  ASSERT_FALSE(err) << err.message();
  EXPECT_EQ(cert.names(), std::vector<std::string>{"localhost"});
  std::string pem = write_file("self.pem", cert.cert_pem());
  Process p({"openssl", "x509", "-in", pem, "-noout", "-fingerprint", "-sha256", "-text"});
  ASSERT_TRUE(p.started());
  std::string out = p.wait_exit();
  EXPECT_NE(out.find("sha256 Fingerprint=" + cert.fingerprint_sha256()), std::string::npos) << out;
  EXPECT_NE(out.find("ASN1 OID: prime256v1"), std::string::npos) << out;
  EXPECT_NE(out.find("DNS:localhost, IP Address:127.0.0.1, IP Address:0:0:0:0:0:0:0:1"),
            std::string::npos)
      << out;
  EXPECT_EQ(cert.fingerprint_sha256().size(), 32 * 3 - 1);
}

// A client that pins the self-signed certificate as its root verifies it.
TEST(SelfSigned, TrustedAsItsOwnRoot) {
  gofer::run([] {
    auto [cert, err] = tls::self_signed();
    ASSERT_FALSE(err);
    tls::Config sc;
    sc.certificates = {cert};
    auto [scfg, serr] = tls::ServerConfig::load(sc);
    ASSERT_FALSE(serr) << serr.message();
    std::string root = write_file("self-root.pem", cert.cert_pem());
    auto ccfg = client_config([&](tls::Config& c) { c.root_ca_file = root; });
    with_pair(
        scfg, ccfg, "localhost", [](tls::Conn& c) { EXPECT_FALSE(c.handshake()); },
        [](tls::Conn& c) { EXPECT_FALSE(c.handshake()) << c.error_detail(); });
  });
}

TEST(Config, Versions) {
  EXPECT_EQ(tls::parse_version("1.2").value, tls::Version::tls12);
  EXPECT_EQ(tls::parse_version("TLS1.3").value, tls::Version::tls13);
  auto [v, err] = tls::parse_version("1.1");
  EXPECT_EQ(err, tls::errc::unsupported_version);
  EXPECT_EQ(err.message(), "tls: unsupported version \"1.1\" (1.2 and 1.3 are)");

  tls::Config c;
  c.certificates = {load(Pki::get().localhost)};
  c.min_version = static_cast<tls::Version>(0x0301);  // TLS 1.0
  auto [s1, e1] = tls::ServerConfig::load(c);
  EXPECT_EQ(e1, tls::errc::unsupported_version);
  EXPECT_EQ(e1.message(), "tls: unsupported version 0x0301 (TLS 1.2 and 1.3 are)");
  c.min_version = tls::Version::tls13;
  c.max_version = tls::Version::tls12;
  auto [s2, e2] = tls::ServerConfig::load(c);
  EXPECT_EQ(e2, tls::errc::unsupported_version);
  EXPECT_EQ(e2.message(), "tls: min_version TLS 1.3 is above max_version TLS 1.2");
}

TEST(Config, CipherSuitesAndCurves) {
  tls::Config c;
  c.certificates = {load(Pki::get().localhost)};
  c.cipher_suites = {"ECDHE-ECDSA-AES256-GCM-SHA384", "TLS_CHACHA20_POLY1305_SHA256"};
  EXPECT_FALSE(tls::ServerConfig::load(c).err);
  c.cipher_suites = {"ECDHE-ECDSA-AES256-GCM-SHA384", "NOT-A-CIPHER"};
  auto [s1, e1] = tls::ServerConfig::load(c);
  EXPECT_EQ(e1, tls::errc::bad_cipher_suite);
  EXPECT_EQ(e1.message(), "tls: unknown cipher suite \"NOT-A-CIPHER\"");
  c.cipher_suites = {"TLS_NOT_A_SUITE"};
  EXPECT_EQ(tls::ServerConfig::load(c).err, tls::errc::bad_cipher_suite);
  c.cipher_suites = {"ECDHE-ECDSA-AES256-GCM-SHA384:AES128-SHA"};  // one name per entry
  EXPECT_EQ(tls::ClientConfig::load(c).err, tls::errc::bad_cipher_suite);
  c.cipher_suites = {};
  c.curve_preferences = {"P-256", "P-999"};
  auto [s2, e2] = tls::ServerConfig::load(c);
  EXPECT_EQ(e2, tls::errc::bad_curve);
  EXPECT_EQ(e2.message(), "tls: unknown curve \"P-999\"");
}

TEST(Config, ServerNeedsACertificate) {
  tls::Config c;
  auto [s, err] = tls::ServerConfig::load(c);
  EXPECT_EQ(err, tls::errc::no_certificate);
  EXPECT_EQ(err.message(), "tls: a server needs at least one certificate");
  c.certificates = {tls::Certificate{}};
  EXPECT_EQ(tls::ServerConfig::load(c).err, tls::errc::no_certificate);
}

TEST(Config, ClientCertificatesNeedACaFile) {
  tls::Config c;
  c.certificates = {load(Pki::get().localhost)};
  c.client_auth = tls::ClientAuth::require_and_verify;
  auto [s, err] = tls::ServerConfig::load(c);
  EXPECT_EQ(err, tls::errc::bad_config);
  EXPECT_TRUE(one_line(err.message()));
  c.client_ca_file = "/nonexistent/ca.pem";
  auto [s2, err2] = tls::ServerConfig::load(c);
  EXPECT_EQ(err2, tls::errc::ca_unreadable);
  EXPECT_EQ(err2.message(), "tls: open /nonexistent/ca.pem: No such file or directory");
  c.client_ca_file = Pki::get().localhost.key_file;  // PEM, but no certificate
  EXPECT_EQ(tls::ServerConfig::load(c).err, tls::errc::ca_unreadable);
  c.client_ca_file = Pki::get().ca_file;
  EXPECT_FALSE(tls::ServerConfig::load(c).err);
}

TEST(Config, ClientRootsAndAlpn) {
  tls::Config c;
  c.root_ca_file = "/nonexistent/roots.pem";
  EXPECT_EQ(tls::ClientConfig::load(c).err, tls::errc::ca_unreadable);
  c.root_ca_file = "";  // the system's store
  EXPECT_FALSE(tls::ClientConfig::load(c).err);
  c.next_protos = {"h2", ""};
  EXPECT_EQ(tls::ClientConfig::load(c).err, tls::errc::bad_config);
  c.next_protos = {std::string(256, 'x')};
  EXPECT_EQ(tls::ServerConfig::load(c).err, tls::errc::bad_config);
}

// A client with neither a server name nor insecure_skip_verify cannot
// verify anything: its handshake fails before a byte is sent (Go: "either
// ServerName or InsecureSkipVerify must be specified").
TEST(Config, ClientWithoutServerName) {
  gofer::run([] {
    auto scfg = server_config({Pki::get().localhost});
    auto ccfg = client_config();
    with_pair(
        scfg, ccfg, "",
        [](tls::Conn& c) {
          char b;
          EXPECT_TRUE(c.read({&b, 1}).err);  // the client hangs up
        },
        [](tls::Conn& c) {
          EXPECT_EQ(c.handshake(), tls::errc::missing_server_name);
          EXPECT_EQ(c.write("x").err, tls::errc::missing_server_name);
          (void)c.close();
        });
  });
}

}  // namespace
