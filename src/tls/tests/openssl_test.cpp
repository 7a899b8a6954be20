// Interoperability with OpenSSL's own command-line peers: `openssl
// s_client` against gofer's server, and gofer's client against `openssl
// s_server`, each started on a loopback port and stopped by its PID. Checks
// the versions, SNI, ALPN and resumption that the other side reports.
#include <gtest/gtest.h>

#include "tls_test_util.h"

namespace tls = gofer::tls;
namespace net = gofer::net;
using namespace tls::test;

namespace {

// A gofer echo server for the s_client tests; stops when the test ends.
class GoferServer {
 public:
  explicit GoferServer(std::shared_ptr<tls::ServerConfig> cfg) {
    ln_ = loopback_listener(cfg);
    wg_.add(1);
    gofer::go([this] {
      for (;;) {
        auto [c, err] = ln_.accept();
        if (err) break;
        wg_.add(1);
        gofer::go([this, conn = std::make_shared<tls::Conn>(std::move(c))] {
          char buf[4096];
          for (;;) {
            auto [n, rerr] = conn->read(buf);
            if (rerr) break;
            if (conn->write(std::span<const char>(buf, n)).err) break;
          }
          last_state = conn->connection_state();
          (void)conn->close();
          wg_.done();
        });
      }
      wg_.done();
    });
  }
  ~GoferServer() {
    (void)ln_.close();
    wg_.wait();
  }
  std::string port() const { return std::to_string(ln_.addr().port()); }
  tls::ConnectionState last_state;

 private:
  tls::Listener ln_;
  gofer::WaitGroup wg_;
};

// s_client sends a line, reads the echo, and hangs up (stdin closed).
std::string s_client(const std::string& port, std::vector<std::string> extra,
                     const std::string& line) {
  std::vector<std::string> argv = {"openssl",
                                   "s_client",
                                   "-connect",
                                   "127.0.0.1:" + port,
                                   "-CAfile",
                                   Pki::get().ca_file,
                                   "-verify_return_error",
                                   "-no_ign_eof"};
  argv.insert(argv.end(), extra.begin(), extra.end());
  Process p(argv);
  EXPECT_TRUE(p.started());
  EXPECT_TRUE(p.wait_for("Verify return code: 0 (ok)")) << p.output();
  p.send(line + "\n");
  EXPECT_TRUE(p.wait_for("\n" + line + "\n")) << p.output();  // the echo (input is not shown)
  p.close_stdin();
  return p.wait_exit();
}

TEST(OpenSsl, SClientTalksToGoferServer) {
  gofer::run([] {
    auto cfg = server_config({Pki::get().localhost, Pki::get().a_example}, [](tls::Config& c) {
      c.next_protos = {"h2", "http/1.1"};
    });
    GoferServer server(cfg);
    for (const char* v : {"-tls1_2", "-tls1_3"}) {
      std::string out =
          s_client(server.port(), {v, "-servername", "a.example", "-alpn", "http/1.1"},
                   std::string("hello over ") + v);
      EXPECT_NE(out.find(std::string("Protocol  : TLSv1.") + (v[6] == '2' ? "2" : "3")),
                std::string::npos)
          << out;
      EXPECT_NE(out.find("ALPN protocol: http/1.1"), std::string::npos) << out;
      EXPECT_NE(out.find("CN = a.example"), std::string::npos) << out;
    }
    // Let the last connection's goroutine record its state.
    gofer::blocking([] { ::usleep(100'000); });
    EXPECT_EQ(server.last_state.server_name, "a.example");
    EXPECT_EQ(server.last_state.negotiated_protocol, "http/1.1");
    EXPECT_EQ(server.last_state.version, tls::Version::tls13);
  });
}

// s_client saves its session and offers it again: gofer's server resumes
// it ("Reused" in s_client's report).
TEST(OpenSsl, SClientResumesWithGoferServer) {
  gofer::run([] {
    GoferServer server(server_config({Pki::get().localhost}));
    const std::string sess = Pki::get().dir + "/s_client.sess";
    for (const char* v : {"-tls1_2", "-tls1_3"}) {
      std::string first =
          s_client(server.port(), {v, "-servername", "localhost", "-sess_out", sess}, "first");
      EXPECT_NE(first.find("New, TLSv1."), std::string::npos) << first;
      std::string second =
          s_client(server.port(), {v, "-servername", "localhost", "-sess_in", sess}, "second");
      EXPECT_NE(second.find("Reused, TLSv1."), std::string::npos) << second;
    }
  });
}

// gofer's client against `openssl s_server -rev` (which answers each line
// reversed), TLS 1.2 and 1.3, verifying s_server's certificate, with ALPN
// and SNI.
TEST(OpenSsl, GoferClientTalksToSServer) {
  gofer::run([] {
    const Pki& pki = Pki::get();
    for (const char* v : {"-tls1_2", "-tls1_3"}) {
      const std::string port = std::to_string(free_port());
      Process server({"openssl", "s_server", "-accept", "127.0.0.1:" + port, "-cert",
                      pki.localhost.cert_file, "-key", pki.localhost.key_file, "-rev", "-alpn",
                      "h2", v});
      ASSERT_TRUE(server.started());
      ASSERT_TRUE(server.wait_for("ACCEPT")) << server.output();
      auto ccfg = client_config([](tls::Config& c) { c.next_protos = {"h2"}; });
      auto [c, err] = tls::dial("tcp4", "127.0.0.1:" + port, ccfg, 5s);
      ASSERT_FALSE(err) << err.message() << ": " << c.error_detail();
      tls::ConnectionState st = c.connection_state();
      EXPECT_EQ(st.version, v[6] == '2' ? tls::Version::tls12 : tls::Version::tls13);
      EXPECT_EQ(st.negotiated_protocol, "h2");
      EXPECT_EQ(st.peer_certificate_subject, "CN=localhost,O=gofer tests");
      ASSERT_FALSE(c.write("gofer\n").err);
      std::string got;
      char buf[64];
      while (got.find('\n') == std::string::npos) {
        auto [n, rerr] = c.read(buf);
        ASSERT_FALSE(rerr) << rerr.message();
        got.append(buf, n);
      }
      EXPECT_EQ(got, "refog\n");
      EXPECT_FALSE(c.close());
      server.stop();
    }
  });
}

}  // namespace
