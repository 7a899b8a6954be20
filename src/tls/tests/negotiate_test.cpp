// What the handshake negotiates and checks: the certificate chosen by SNI
// (RFC 6066; Go's getCertificate), ALPN (RFC 7301; Go's negotiateALPN),
// verification of the server's certificate and name (RFC 6125; Go's
// VerifyHostname), insecure_skip_verify, and client certificates (mTLS).
#include <gtest/gtest.h>

#include "tls_test_util.h"

namespace tls = gofer::tls;
namespace net = gofer::net;
using namespace tls::test;

namespace {

// The subject of the certificate the server presented for `sni`.
std::string served_subject(std::shared_ptr<tls::ServerConfig> scfg, const std::string& sni) {
  std::string subject;
  auto ccfg = client_config([](tls::Config& c) { c.insecure_skip_verify = true; });
  with_pair(
      scfg, ccfg, sni,
      [&](tls::Conn& c) {
        EXPECT_FALSE(c.handshake());
        EXPECT_EQ(c.connection_state().server_name, sni);
      },
      [&](tls::Conn& c) {
        EXPECT_FALSE(c.handshake()) << c.error_detail();
        subject = c.connection_state().peer_certificate_subject;
      });
  return subject;
}

TEST(Sni, ChoosesTheCertificateByName) {
  gofer::run([] {
    const Pki& pki = Pki::get();
    auto scfg = server_config({pki.localhost, pki.a_example, pki.wild_b_example});
    EXPECT_EQ(served_subject(scfg, "a.example"), "CN=a.example,O=gofer tests");
    EXPECT_EQ(served_subject(scfg, "A.Example"), "CN=a.example,O=gofer tests");  // case-blind
    EXPECT_EQ(served_subject(scfg, "x.b.example"), "CN=wildcard b.example,O=gofer tests");
    // A wildcard covers one label only (RFC 6125 6.4.3).
    EXPECT_EQ(served_subject(scfg, "y.x.b.example"), "CN=localhost,O=gofer tests");
    EXPECT_EQ(served_subject(scfg, "b.example"), "CN=localhost,O=gofer tests");
    // No match, and no SNI at all: the first certificate (Go's default).
    EXPECT_EQ(served_subject(scfg, "unknown.example"), "CN=localhost,O=gofer tests");
    EXPECT_EQ(served_subject(scfg, ""), "CN=localhost,O=gofer tests");
  });
}

// Two key types for one name: a client that accepts only RSA signatures
// gets the RSA certificate, others the first (ECDSA) one.
TEST(Sni, OffersEveryKeyTypeForAName) {
  gofer::run([] {
    const Pki& pki = Pki::get();
    auto scfg = server_config({pki.localhost, pki.localhost_rsa});
    EXPECT_EQ(served_subject(scfg, "localhost"), "CN=localhost,O=gofer tests");
    auto rsa_only = client_config([](tls::Config& c) {
      c.max_version = tls::Version::tls12;
      c.cipher_suites = {"ECDHE-RSA-AES128-GCM-SHA256"};
    });
    with_pair(
        scfg, rsa_only, "localhost", [](tls::Conn& c) { EXPECT_FALSE(c.handshake()); },
        [](tls::Conn& c) {
          ASSERT_FALSE(c.handshake()) << c.error_detail();
          EXPECT_EQ(c.connection_state().peer_certificate_subject,
                    "CN=localhost rsa,O=gofer tests");
        });
  });
}

struct AlpnCase {
  std::vector<std::string> server, client;
  std::string expect;  // the protocol both see
  bool fails = false;
};

void check_alpn(const AlpnCase& t) {
  auto scfg =
      server_config({Pki::get().localhost}, [&](tls::Config& c) { c.next_protos = t.server; });
  auto ccfg = client_config([&](tls::Config& c) { c.next_protos = t.client; });
  with_pair(
      scfg, ccfg, "localhost",
      [&](tls::Conn& c) {
        tls::Error err = c.handshake();
        if (t.fails) {
          EXPECT_EQ(err, tls::errc::handshake_failure) << err.message();
        } else {
          EXPECT_FALSE(err) << err.message();
          EXPECT_EQ(c.connection_state().negotiated_protocol, t.expect);
        }
      },
      [&](tls::Conn& c) {
        tls::Error err = c.handshake();
        if (t.fails) {
          EXPECT_EQ(err, tls::errc::remote_alert) << err.message();
          EXPECT_NE(c.error_detail().find("no application protocol"), std::string::npos)
              << c.error_detail();
        } else {
          EXPECT_FALSE(err) << err.message();
          EXPECT_EQ(c.connection_state().negotiated_protocol, t.expect);
        }
      });
}

TEST(Alpn, ServerPreferenceWins) {
  gofer::run([] { check_alpn({{"h2", "http/1.1"}, {"http/1.1", "h2"}, "h2"}); });
}
TEST(Alpn, OnlyCommonProtocol) {
  gofer::run([] { check_alpn({{"h2", "http/1.1"}, {"foo", "http/1.1"}, "http/1.1"}); });
}
TEST(Alpn, NoneOffered) {
  gofer::run([] {
    check_alpn({{"h2"}, {}, ""});
    check_alpn({{}, {"h2"}, ""});
  });
}
// RFC 7301 3.2: no protocol in common is a fatal no_application_protocol.
TEST(Alpn, NoOverlapFails) {
  gofer::run([] { check_alpn({{"h2"}, {"spdy/3"}, "", true}); });
}
// Go's exception (issue 46310): an http/1.1 client of an h2-only server
// connects without a protocol.
TEST(Alpn, Http11ClientOfH2OnlyServer) {
  gofer::run([] { check_alpn({{"h2"}, {"http/1.1"}, ""}); });
}

// The client's view of one handshake against a server with `pair`.
tls::Error client_handshake(const KeyPair& pair, std::shared_ptr<tls::ClientConfig> ccfg,
                            const std::string& name, std::string* detail = nullptr) {
  tls::Error result;
  with_pair(
      server_config({pair}), ccfg, name,
      [](tls::Conn& c) {
        (void)c.handshake();
        (void)c.close();
      },
      [&](tls::Conn& c) {
        result = c.handshake();
        if (detail) *detail = c.error_detail();
      });
  return result;
}

TEST(Verify, HostnameMismatchIsRefused) {
  gofer::run([] {
    std::string detail;
    EXPECT_EQ(client_handshake(Pki::get().a_example, client_config(), "localhost", &detail),
              tls::errc::verify_failed);
    EXPECT_EQ(detail, "certificate verify failed: hostname mismatch");
  });
}

TEST(Verify, IpAddressIsCheckedAgainstIpNames) {
  gofer::run([] {
    EXPECT_FALSE(client_handshake(Pki::get().localhost, client_config(), "127.0.0.1"));
    std::string detail;
    EXPECT_EQ(client_handshake(Pki::get().localhost, client_config(), "127.0.0.2", &detail),
              tls::errc::verify_failed);
    EXPECT_EQ(detail, "certificate verify failed: IP address mismatch");
  });
}

TEST(Verify, UntrustedExpiredAndSelfSignedAreRefused) {
  gofer::run([] {
    std::string detail;
    EXPECT_EQ(
        client_handshake(Pki::get().self_signed_localhost, client_config(), "localhost", &detail),
        tls::errc::verify_failed);
    EXPECT_EQ(detail, "certificate verify failed: self-signed certificate");
    EXPECT_EQ(client_handshake(Pki::get().expired, client_config(), "localhost", &detail),
              tls::errc::verify_failed);
    EXPECT_EQ(detail, "certificate verify failed: certificate has expired");
    // The system's store does not know the test CA.
    auto system = client_config([](tls::Config& c) { c.root_ca_file.clear(); });
    EXPECT_EQ(client_handshake(Pki::get().localhost, system, "localhost"),
              tls::errc::verify_failed);
  });
}

// Go's InsecureSkipVerify: any certificate, any name — and only when asked.
TEST(Verify, InsecureSkipVerifyAcceptsAnything) {
  gofer::run([] {
    auto insecure = client_config([](tls::Config& c) { c.insecure_skip_verify = true; });
    EXPECT_FALSE(client_handshake(Pki::get().self_signed_localhost, insecure, "localhost"));
    EXPECT_FALSE(client_handshake(Pki::get().a_example, insecure, "localhost"));
    EXPECT_FALSE(client_handshake(Pki::get().expired, insecure, ""));
  });
}

// The server's and the client's results of one mTLS handshake followed by
// one byte each way (TLS 1.3 sends the client's certificate in its last
// flight, so the client learns of a refusal on its first read).
struct MtlsResult {
  tls::Error server, client;
  std::string subject_seen_by_server;
};

MtlsResult mtls(tls::ClientAuth auth, const KeyPair* client_pair,
                tls::Version max = tls::Version::tls13) {
  MtlsResult r;
  auto scfg = server_config({Pki::get().localhost}, [&](tls::Config& c) {
    c.client_auth = auth;
    if (auth != tls::ClientAuth::request && auth != tls::ClientAuth::require_any) {
      c.client_ca_file = Pki::get().ca_file;
    }
  });
  auto ccfg = client_config([&](tls::Config& c) {
    c.max_version = max;
    if (client_pair) c.certificates = {load(*client_pair)};
  });
  with_pair(
      scfg, ccfg, "localhost",
      [&](tls::Conn& c) {
        char b;
        r.server = c.read({&b, 1}).err;
        if (!r.server) {
          r.subject_seen_by_server = c.connection_state().peer_certificate_subject;
          r.server = c.write("k").err;
        }
        (void)c.close();
      },
      [&](tls::Conn& c) {
        char b;
        r.client = c.write("x").err;
        if (!r.client) r.client = c.read({&b, 1}).err;
      });
  return r;
}

TEST(Mtls, VerifiedClientIsAccepted) {
  gofer::run([] {
    for (auto v : {tls::Version::tls12, tls::Version::tls13}) {
      MtlsResult r = mtls(tls::ClientAuth::require_and_verify, &Pki::get().client, v);
      EXPECT_FALSE(r.server) << r.server.message();
      EXPECT_FALSE(r.client) << r.client.message();
      EXPECT_EQ(r.subject_seen_by_server, "CN=test client,O=gofer tests");
    }
  });
}

TEST(Mtls, MissingOrUntrustedClientCertificateIsRefused) {
  gofer::run([] {
    for (auto v : {tls::Version::tls12, tls::Version::tls13}) {
      MtlsResult none = mtls(tls::ClientAuth::require_and_verify, nullptr, v);
      EXPECT_EQ(none.server, tls::errc::verify_failed) << none.server.message();
      EXPECT_EQ(none.client, tls::errc::remote_alert) << none.client.message();
      MtlsResult other = mtls(tls::ClientAuth::require_and_verify, &Pki::get().untrusted_client, v);
      EXPECT_EQ(other.server, tls::errc::verify_failed) << other.server.message();
      EXPECT_EQ(other.client, tls::errc::remote_alert) << other.client.message();
    }
  });
}

// Go's VerifyClientCertIfGiven, RequestClientCert and RequireAnyClientCert.
TEST(Mtls, OtherClientAuthModes) {
  gofer::run([] {
    MtlsResult r = mtls(tls::ClientAuth::verify_if_given, nullptr);
    EXPECT_FALSE(r.server);
    EXPECT_EQ(r.subject_seen_by_server, "");
    r = mtls(tls::ClientAuth::verify_if_given, &Pki::get().untrusted_client);
    EXPECT_EQ(r.server, tls::errc::verify_failed);
    r = mtls(tls::ClientAuth::request, &Pki::get().untrusted_client);
    EXPECT_FALSE(r.server) << r.server.message();
    EXPECT_EQ(r.subject_seen_by_server, "CN=untrusted client,O=gofer tests");
    r = mtls(tls::ClientAuth::require_any, nullptr);
    EXPECT_EQ(r.server, tls::errc::verify_failed);
    r = mtls(tls::ClientAuth::require_any, &Pki::get().untrusted_client);
    EXPECT_FALSE(r.server) << r.server.message();
  });
}

}  // namespace
