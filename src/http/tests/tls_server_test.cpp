// HTTPS: the HTTP server over the tls layer (Server::serve_tls). Each test
// says which Go net/http behaviour or RFC rule it checks. The peers are
// gofer's own TLS client, curl and the certificates of the tls tests' PKI.
#include <gtest/gtest.h>

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <memory>
#include <random>
#include <string>

#include <fmt/format.h>

#include "gofer/http/file_server.h"
#include "gofer/http/server.h"
#include "gofer/net.h"
#include "gofer/runtime.h"
#include "gofer/sync.h"
#include "gofer/time.h"
#include "gofer/tls.h"
#include "tls_test_util.h"

namespace http = gofer::http;
namespace net = gofer::net;
namespace tls = gofer::tls;
using gofer::tls::test::kScale;
using gofer::tls::test::Pki;
using namespace std::chrono_literals;

namespace {

// An HTTPS server on 127.0.0.1:0 serving from a goroutine of its own once
// start()ed with a key pair (configure `server` before); stop() shuts it
// down within 5 s and waits for serve_tls() to return. Lives inside
// gofer::run.
class HttpsServer {
 public:
  explicit HttpsServer(http::Handler handler) {
    auto [ln, err] = net::listen("tcp4", "127.0.0.1:0");
    EXPECT_FALSE(err) << err.message();
    ln_ = std::move(ln);
    port_ = ln_.addr().port();
    server.handler = std::move(handler);
  }
  void start(const tls::test::KeyPair& pair = Pki::get().localhost) {
    serving_.add(1);
    gofer::go([this, pair] {
      EXPECT_EQ(server.serve_tls(ln_, pair.cert_file, pair.key_file), http::errc::server_closed);
      serving_.done();
    });
  }
  gofer::Error stop() {
    gofer::Error err = server.shutdown(net::Clock::now() + 5s);
    serving_.wait();
    return err;
  }
  std::string addr() const { return "127.0.0.1:" + std::to_string(port_); }
  int port() const { return port_; }

  http::Server server;

 private:
  net::Listener ln_;
  int port_ = 0;
  gofer::WaitGroup serving_;
};

// A client that trusts the test CA, offers http/1.1 and says "localhost".
tls::Conn dial_tls(const std::string& addr, const std::function<void(tls::Config&)>& adjust = {}) {
  auto config = tls::test::client_config([&](tls::Config& c) {
    c.server_name = "localhost";
    c.next_protos = {"http/1.1"};
    if (adjust) adjust(c);
  });
  auto [conn, err] = tls::dial("tcp4", addr, config, 10s);
  EXPECT_FALSE(err) << err.message() << " " << conn.error_detail();
  return std::move(conn);
}

// Sends one request and reads one response of known framing: a head and a
// Content-Length body (what the handlers below send).
std::string round_trip(tls::Conn& c, const std::string& request) {
  EXPECT_FALSE(c.write(request).err);
  std::string got;
  char buf[16384];
  for (;;) {
    std::size_t head_end = got.find("\r\n\r\n");
    if (head_end != std::string::npos) {
      std::size_t cl = got.find("Content-Length: ");
      if (cl != std::string::npos && cl < head_end) {
        std::size_t length = std::stoul(got.substr(cl + 16));
        if (got.size() >= head_end + 4 + length) return got;
      }
    }
    auto [n, err] = c.read(buf);
    got.append(buf, n);
    if (err) return got;
  }
}

// Everything a plain connection receives until it ends.
std::string read_to_end(net::Conn& c) {
  std::string got;
  char buf[1024];
  for (;;) {
    auto [n, err] = c.read(buf);
    got.append(buf, n);
    if (err) return got;
  }
}

std::string body_of(const std::string& response) {
  std::size_t head_end = response.find("\r\n\r\n");
  return head_end == std::string::npos ? "" : response.substr(head_end + 4);
}

// What the handler reports of the request's TLS state (Go's r.TLS).
void tls_state_handler(http::ResponseWriter& w, http::Request& r) {
  if (r.tls == nullptr) {
    w.write("plain");
    return;
  }
  w.write(fmt::format("{} alpn={} sni={} peer={}", tls::to_string(r.tls->version),
                      r.tls->negotiated_protocol, r.tls->server_name,
                      r.tls->peer_certificate_subject));
}

}  // namespace

// Go's ServeTLS: the same Handler answers over TLS, and r.TLS says what was
// negotiated (version, ALPN "http/1.1" by default, the client's SNI name).
TEST(HttpsServer, ServesTheHandlerOverTlsWithTheConnectionState) {
  gofer::run(
      [] {
        HttpsServer srv(tls_state_handler);
        srv.start();
        tls::Conn c = dial_tls(srv.addr());
        std::string resp = round_trip(c, "GET / HTTP/1.1\r\nHost: localhost\r\n\r\n");
        EXPECT_EQ(resp.rfind("HTTP/1.1 200 OK\r\n", 0), 0u) << resp;
        EXPECT_EQ(body_of(resp), "TLS 1.3 alpn=http/1.1 sni=localhost peer=");
        EXPECT_EQ(c.connection_state().negotiated_protocol, "http/1.1");
        (void)c.close();
        EXPECT_FALSE(srv.stop());
      },
      {.procs = 2});
}

// Go's r.Clone keeps r.TLS: a clone handed to a goroutine still says what
// was negotiated after the connection (and its TLS state) is gone.
TEST(HttpsServer, CloneKeepsTheConnectionStateAfterTheConnectionEnds) {
  gofer::run(
      [] {
        std::shared_ptr<http::Request> copy;
        HttpsServer srv([&copy](http::ResponseWriter& w, http::Request& r) {
          copy = r.clone(gofer::background());
          w.write("ok");
        });
        srv.start();
        tls::Conn c = dial_tls(srv.addr());
        EXPECT_EQ(body_of(round_trip(c, "GET / HTTP/1.1\r\nHost: localhost\r\n\r\n")), "ok");
        (void)c.close();
        EXPECT_FALSE(srv.stop());  // every connection closed and freed
        ASSERT_NE(copy, nullptr);
        ASSERT_NE(copy->tls, nullptr);
        EXPECT_EQ(copy->tls->version, tls::Version::tls13);
        EXPECT_EQ(copy->tls->server_name, "localhost");
        EXPECT_EQ(copy->tls->negotiated_protocol, "http/1.1");
      },
      {.procs = 2});
}

// RFC 9112 §9.3: the TLS connection stays open for the next request, also
// after the server parked it idle (no goroutine, OpenSSL's buffers freed)
// and the poller started a new goroutine for the second request.
TEST(HttpsServer, KeepAliveSurvivesIdleParking) {
  gofer::run(
      [] {
        HttpsServer srv([](http::ResponseWriter& w, http::Request& r) { w.write(r.path); });
        srv.server.idle_park_after = 20ms;
        srv.start();
        tls::Conn c = dial_tls(srv.addr());
        EXPECT_EQ(body_of(round_trip(c, "GET /one HTTP/1.1\r\nHost: localhost\r\n\r\n")), "/one");
        auto until = net::Clock::now() + 5s;
        while (srv.server.stats().parked_connections != 1 && net::Clock::now() < until) {
          gofer::sleep_for(5ms);
        }
        EXPECT_EQ(srv.server.stats().parked_connections, 1u);
        EXPECT_EQ(body_of(round_trip(c, "GET /two HTTP/1.1\r\nHost: localhost\r\n\r\n")), "/two");
        EXPECT_EQ(srv.server.stats().connections_accepted, 1u);
        (void)c.close();
        EXPECT_FALSE(srv.stop());
      },
      {.procs = 2});
}

// Go's answer to a plaintext request on an HTTPS port: a plaintext 400 that
// says why, then the connection closes.
TEST(HttpsServer, PlaintextRequestIsToldItReachedAnHttpsServer) {
  gofer::run(
      [] {
        HttpsServer srv(tls_state_handler);
        srv.start();
        auto [c, err] = net::dial("tcp4", srv.addr(), 5s);
        ASSERT_FALSE(err);
        ASSERT_FALSE(c.write("GET / HTTP/1.1\r\nHost: localhost\r\n\r\n").err);
        std::string got = read_to_end(c);
        EXPECT_EQ(got,
                  "HTTP/1.0 400 Bad Request\r\n\r\nClient sent an HTTP request to an HTTPS "
                  "server.\n");
        EXPECT_FALSE(srv.stop());
      },
      {.procs = 2});
}

// Go's tlsHandshakeTimeout: a client that connects and never says hello is
// closed once the smallest of the server's timeouts passes, and holds
// nothing after.
TEST(HttpsServer, SilentClientIsClosedAtTheHandshakeTimeout) {
  gofer::run(
      [] {
        HttpsServer srv(tls_state_handler);
        srv.server.read_header_timeout = 300ms * kScale;
        srv.start();
        auto [c, err] = net::dial("tcp4", srv.addr(), 5s);
        ASSERT_FALSE(err);
        auto started = net::Clock::now();
        (void)c.set_read_deadline(started + 10s * kScale);
        char buf[64];
        auto [n, rerr] = c.read(buf);
        EXPECT_EQ(n, 0u);
        EXPECT_NE(rerr, net::errc::timeout) << "the server did not close the silent client";
        EXPECT_GE(net::Clock::now() - started, 250ms * kScale);
        auto until = net::Clock::now() + 5s;
        while (srv.server.open_connections() != 0 && net::Clock::now() < until) {
          gofer::sleep_for(5ms);
        }
        EXPECT_EQ(srv.server.open_connections(), 0u);
        EXPECT_FALSE(srv.stop());
      },
      {.procs = 2});
}

// Certificate reload (what `gofer serve` does on SIGHUP): handshakes after
// it get the new certificate; a connection made before keeps serving; a
// pair that does not load changes nothing and says why.
TEST(HttpsServer, ReloadedCertificateServesNewHandshakesOnly) {
  const Pki& pki = Pki::get();
  gofer::run(
      [&] {
        HttpsServer srv([](http::ResponseWriter& w, http::Request&) { w.write("ok"); });
        srv.start(pki.localhost);
        auto insecure = [](tls::Config& c) { c.insecure_skip_verify = true; };
        tls::Conn before = dial_tls(srv.addr(), insecure);
        EXPECT_EQ(body_of(round_trip(before, "GET / HTTP/1.1\r\nHost: x\r\n\r\n")), "ok");
        EXPECT_NE(before.connection_state().peer_certificate_subject.find("CN=localhost"),
                  std::string::npos);

        tls::LoadError bad =
            srv.server.reload_certificates(pki.a_example.cert_file, pki.localhost.key_file);
        EXPECT_EQ(bad, tls::errc::key_mismatch) << bad.message();
        tls::Conn unchanged = dial_tls(srv.addr(), insecure);
        EXPECT_NE(unchanged.connection_state().peer_certificate_subject.find("CN=localhost"),
                  std::string::npos);

        tls::LoadError err =
            srv.server.reload_certificates(pki.a_example.cert_file, pki.a_example.key_file);
        EXPECT_FALSE(err) << err.message();
        tls::Conn after = dial_tls(srv.addr(), insecure);
        EXPECT_EQ(body_of(round_trip(after, "GET / HTTP/1.1\r\nHost: x\r\n\r\n")), "ok");
        EXPECT_NE(after.connection_state().peer_certificate_subject.find("CN=a.example"),
                  std::string::npos)
            << after.connection_state().peer_certificate_subject;
        // The connection made before the reload is untouched.
        EXPECT_EQ(body_of(round_trip(before, "GET / HTTP/1.1\r\nHost: x\r\n\r\n")), "ok");
        (void)before.close();
        (void)unchanged.close();
        (void)after.close();
        EXPECT_FALSE(srv.stop());
      },
      {.procs = 2});
}

// FileServer over TLS (Go's ServeContent over a tls.Conn): no sendfile, the
// file is read and encrypted; every byte arrives, in order.
TEST(HttpsServer, FileServerSendsAFileThroughTls) {
  auto dir =
      std::filesystem::temp_directory_path() / ("gofer_https_files_" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  std::string content(300 * 1024 + 7, '\0');
  std::mt19937 rng(7);
  for (char& ch : content) ch = static_cast<char>(rng());
  std::ofstream(dir / "blob.bin", std::ios::binary) << content;
  gofer::run(
      [&] {
        HttpsServer srv(http::file_server(dir.string()));
        srv.start();
        tls::Conn c = dial_tls(srv.addr());
        std::string resp = round_trip(c, "GET /blob.bin HTTP/1.1\r\nHost: localhost\r\n\r\n");
        EXPECT_EQ(resp.rfind("HTTP/1.1 200 OK\r\n", 0), 0u) << resp.substr(0, 200);
        EXPECT_TRUE(body_of(resp) == content) << "body of " << body_of(resp).size() << " bytes";
        (void)c.close();
        EXPECT_FALSE(srv.stop());
      },
      {.procs = 2});
  std::filesystem::remove_all(dir);
}

// mTLS (Go's ClientAuth RequireAndVerifyClientCert): the handler sees the
// verified client certificate in r.TLS; a client without one is refused in
// the handshake and reaches no handler.
TEST(HttpsServer, ClientCertificateIsVerifiedAndShownToTheHandler) {
  const Pki& pki = Pki::get();
  gofer::run(
      [&] {
        std::atomic<int> served{0};
        HttpsServer srv([&](http::ResponseWriter& w, http::Request& r) {
          ++served;
          tls_state_handler(w, r);
        });
        srv.server.tls_config.client_auth = tls::ClientAuth::require_and_verify;
        srv.server.tls_config.client_ca_file = pki.ca_file;
        srv.start();
        tls::Conn c = dial_tls(srv.addr(), [&](tls::Config& cfg) {
          cfg.certificates.push_back(tls::test::load(pki.client));
        });
        std::string body = body_of(round_trip(c, "GET / HTTP/1.1\r\nHost: localhost\r\n\r\n"));
        EXPECT_NE(body.find("peer=CN=test client"), std::string::npos) << body;
        (void)c.close();

        auto config =
            tls::test::client_config([](tls::Config& cfg) { cfg.server_name = "localhost"; });
        auto [nc, derr] = net::dial("tcp4", srv.addr(), 5s);
        ASSERT_FALSE(derr);
        tls::Conn anonymous = tls::client(std::move(nc), config);
        // TLS 1.3: the client's handshake may end before the server checks
        // its (missing) certificate; the refusal arrives at the first read.
        gofer::Error err = anonymous.handshake();
        if (!err) {
          (void)anonymous.write(std::string_view("GET / HTTP/1.1\r\nHost: localhost\r\n\r\n"));
          char buf[256];
          err = anonymous.read(buf).err;
        }
        EXPECT_TRUE(err);
        EXPECT_EQ(served.load(), 1);
        EXPECT_FALSE(srv.stop());
      },
      {.procs = 2});
}

// Interop with a real client: curl verifies the certificate against the CA
// and reads the response over TLS with ALPN http/1.1.
TEST(HttpsServer, CurlGetsTheResponse) {
  const Pki& pki = Pki::get();
  gofer::run(
      [&] {
        HttpsServer srv(tls_state_handler);
        srv.start();
        std::string port = std::to_string(srv.port());
        tls::test::Process curl({"curl", "-sS", "--max-time", "20", "--cacert", pki.ca_file,
                                 "--resolve", "localhost:" + port + ":127.0.0.1",
                                 "https://localhost:" + port + "/"});
        ASSERT_TRUE(curl.started());
        std::string out = curl.wait_exit(30s);
        EXPECT_EQ(out, "TLS 1.3 alpn=http/1.1 sni=localhost peer=");
        EXPECT_FALSE(srv.stop());
      },
      {.procs = 2});
}

// Go's r.TLS is nil on a plain connection.
TEST(HttpsServer, PlainConnectionHasNoTlsState) {
  gofer::run(
      [] {
        auto [ln, err] = net::listen("tcp4", "127.0.0.1:0");
        ASSERT_FALSE(err);
        http::Server server;
        server.handler = tls_state_handler;
        gofer::WaitGroup serving;
        serving.add(1);
        gofer::go([&] {
          EXPECT_EQ(server.serve(ln), http::errc::server_closed);
          serving.done();
        });
        auto [c, derr] = net::dial("tcp4", ln.addr().to_string(), 5s);
        ASSERT_FALSE(derr);
        ASSERT_FALSE(c.write("GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").err);
        std::string got = read_to_end(c);
        EXPECT_EQ(body_of(got), "plain");
        EXPECT_FALSE(server.shutdown(net::Clock::now() + 5s));
        serving.wait();
      },
      {.procs = 2});
}
