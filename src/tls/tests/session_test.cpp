// Resumption by session tickets (RFC 8446 4.6.1, RFC 5077) seen from both
// sides as did_resume, and certificate reload: new handshakes get the new
// certificate, open connections keep theirs (Go: GetCertificate per
// handshake).
#include <gtest/gtest.h>

#include "tls_test_util.h"

namespace tls = gofer::tls;
namespace net = gofer::net;
using namespace tls::test;

namespace {

// One connection: a byte each way (a TLS 1.3 ticket arrives after the
// handshake, with the first data), then close_notify. Returns
// {client's did_resume, server's did_resume}.
std::pair<bool, bool> connect_once(std::shared_ptr<tls::ServerConfig> scfg,
                                   std::shared_ptr<tls::ClientConfig> ccfg) {
  bool client_resumed = false, server_resumed = false;
  with_pair(
      scfg, ccfg, "localhost",
      [&](tls::Conn& c) {
        char b;
        EXPECT_FALSE(c.read({&b, 1}).err);
        server_resumed = c.connection_state().did_resume;
        EXPECT_FALSE(c.write("y").err);
        EXPECT_EQ(c.read({&b, 1}).err, net::errc::eof);
        (void)c.close();
      },
      [&](tls::Conn& c) {
        char b;
        EXPECT_FALSE(c.write("x").err);
        EXPECT_FALSE(c.read({&b, 1}).err);
        client_resumed = c.connection_state().did_resume;
        (void)c.close();
      });
  return {client_resumed, server_resumed};
}

class Resumption : public ::testing::TestWithParam<tls::Version> {};

TEST_P(Resumption, SecondConnectionResumes) {
  const tls::Version v = GetParam();
  gofer::run([v] {
    auto scfg = server_config({Pki::get().localhost});
    auto cache = std::make_shared<tls::ClientSessionCache>(8);
    auto ccfg = client_config([&](tls::Config& c) {
      c.max_version = v;
      c.client_session_cache = cache;
    });
    EXPECT_EQ(connect_once(scfg, ccfg), std::make_pair(false, false));
    EXPECT_EQ(cache->size(), 1u);
    EXPECT_EQ(connect_once(scfg, ccfg), std::make_pair(true, true));
    EXPECT_EQ(connect_once(scfg, ccfg), std::make_pair(true, true));
    // The ticket keys belong to the config, not to its certificates: a
    // reload does not end resumption (clients keep their sessions).
    ASSERT_FALSE(scfg->set_certificates({load(Pki::get().localhost)}));
    EXPECT_EQ(connect_once(scfg, ccfg), std::make_pair(true, true));
  });
}

INSTANTIATE_TEST_SUITE_P(Versions, Resumption,
                         ::testing::Values(tls::Version::tls12, tls::Version::tls13),
                         [](const auto& info) {
                           return info.param == tls::Version::tls12 ? "TLS12" : "TLS13";
                         });

// Go's SessionTicketsDisabled, on either side; and no cache, no resumption.
TEST(Resumption, DisabledMeansFullHandshakes) {
  gofer::run([] {
    auto cache = std::make_shared<tls::ClientSessionCache>();
    auto off = server_config({Pki::get().localhost},
                             [](tls::Config& c) { c.session_tickets_disabled = true; });
    auto ccfg = client_config([&](tls::Config& c) { c.client_session_cache = cache; });
    connect_once(off, ccfg);
    EXPECT_EQ(connect_once(off, ccfg), std::make_pair(false, false));

    auto on = server_config({Pki::get().localhost});
    auto client_off = client_config([&](tls::Config& c) {
      c.client_session_cache = cache;
      c.session_tickets_disabled = true;
    });
    connect_once(on, client_off);
    EXPECT_EQ(connect_once(on, client_off), std::make_pair(false, false));
    auto no_cache = client_config();
    connect_once(on, no_cache);
    EXPECT_EQ(connect_once(on, no_cache), std::make_pair(false, false));
  });
}

// A connection open before set_certificates() keeps working with the old
// certificate; the next handshake gets the new one.
TEST(Reload, NewHandshakesGetTheNewCertificate) {
  gofer::run([] {
    const Pki& pki = Pki::get();
    auto scfg = server_config({pki.localhost});
    auto ccfg = client_config([](tls::Config& c) { c.insecure_skip_verify = true; });
    net::Listener ln = loopback_listener();
    gofer::WaitGroup wg;
    wg.add(2);
    gofer::go([&] {
      for (int i = 0; i < 2; ++i) {
        auto [nc, err] = ln.accept();
        ASSERT_FALSE(err);
        gofer::go([&, c = std::make_shared<tls::Conn>(tls::server(std::move(nc), scfg))] {
          char buf[64];
          for (;;) {
            auto [n, rerr] = c->read(buf);
            if (rerr) break;
            if (c->write(std::span<const char>(buf, n)).err) break;
          }
          (void)c->close();
          wg.done();
        });
      }
    });
    auto dial = [&] {
      auto [nc, err] = net::dial("tcp4", ln.addr().to_string(), 5s);
      EXPECT_FALSE(err);
      return tls::client(std::move(nc), ccfg, "localhost");
    };
    auto echo_ok = [](tls::Conn& c, std::string_view msg) {
      if (c.write(msg).err) return false;
      std::string back(msg.size(), '\0');
      return !read_full(c, back) && back == msg;
    };
    tls::Conn old = dial();
    ASSERT_TRUE(echo_ok(old, "before"));
    EXPECT_EQ(old.connection_state().peer_certificate_subject, "CN=localhost,O=gofer tests");

    // A failed reload changes nothing and says why.
    tls::LoadError bad = scfg->set_certificates({});
    EXPECT_EQ(bad, tls::errc::no_certificate);
    EXPECT_EQ(scfg->certificates().front().subject(), "CN=localhost,O=gofer tests");

    ASSERT_FALSE(scfg->set_certificates({load(pki.a_example)}));
    tls::Conn fresh = dial();
    ASSERT_TRUE(echo_ok(fresh, "after"));
    EXPECT_EQ(fresh.connection_state().peer_certificate_subject, "CN=a.example,O=gofer tests");
    // The old connection is untouched: same certificate, still echoing.
    EXPECT_TRUE(echo_ok(old, "still here"));
    EXPECT_EQ(old.connection_state().peer_certificate_subject, "CN=localhost,O=gofer tests");
    (void)old.close();
    (void)fresh.close();
    wg.wait();
    (void)ln.close();
  });
}

}  // namespace
