// `gofer serve` over HTTPS as a user runs it: --tls-self-signed prints the
// certificate's fingerprint and curl reaches the site over TLS;
// --tls-cert/--tls-key serve a key pair that SIGHUP reloads from the same
// files (new handshakes see the new certificate); a pair that does not load
// is a one-line error and exit 1. Certificates are made here with the
// openssl command; every process is stopped by its PID, every wait bounded.
#include <gtest/gtest.h>
#include <signal.h>

#include <filesystem>
#include <regex>
#include <string>

#include "tls_test_util.h"

namespace {

using gofer::tls::test::Process;
using namespace std::chrono_literals;
namespace fs = std::filesystem;

// A scratch directory, removed at the end of the test.
struct TempDir {
  fs::path path;
  TempDir() {
    std::string tmpl = (fs::temp_directory_path() / "gofer_serve_tls_XXXXXX").string();
    path = ::mkdtemp(tmpl.data());
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
};

// A self-signed P-256 certificate for `cn` in cert/key files, by the
// openssl command.
bool make_pair(const fs::path& cert, const fs::path& key, const std::string& cn) {
  Process openssl({"openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                   "ec_paramgen_curve:P-256", "-nodes", "-days", "1", "-subj", "/CN=" + cn,
                   "-keyout", key.string(), "-out", cert.string()});
  openssl.wait_exit(30s);
  return fs::exists(cert) && fs::exists(key);
}

// The port of the address `gofer serve` printed ("serving https://HOST:PORT").
int served_port(Process& gofer) {
  if (!gofer.wait_for("(procs", 20s)) return 0;
  std::smatch m;
  static const std::regex kServing(R"(serving https://127\.0\.0\.1:(\d+))");
  if (!std::regex_search(gofer.output(), m, kServing)) return 0;
  return std::stoi(m[1]);
}

// What curl prints of a GET over TLS: the body, then (with -v) the
// handshake's details, among them the server certificate's subject.
std::string curl(int port, const std::string& path) {
  Process c(
      {"curl", "-sSkv", "--max-time", "20", "https://127.0.0.1:" + std::to_string(port) + path});
  return c.wait_exit(30s);
}

std::string gofer_bin() {
  return GOFER_BIN;
}

}  // namespace

TEST(ServeTls, SelfSignedPrintsItsFingerprintAndServesTheSite) {
  Process gofer(
      {gofer_bin(), "serve", "--addr", "127.0.0.1:0", "--procs", "1", "--tls-self-signed"});
  ASSERT_TRUE(gofer.started());
  int port = served_port(gofer);
  ASSERT_NE(port, 0) << gofer.output();
  // "SHA-256 fingerprint" and 32 colon-separated bytes of upper-case hex.
  EXPECT_TRUE(std::regex_search(gofer.output(),
                                std::regex("SHA-256 fingerprint ([0-9A-F]{2}:){31}[0-9A-F]{2}")))
      << gofer.output();
  std::string out = curl(port, "/hello");
  EXPECT_NE(out.find("Hello, World!"), std::string::npos) << out;
  EXPECT_NE(out.find("ALPN: server accepted http/1.1"), std::string::npos) << out;
}

// The access log names the client of an HTTPS request as of a plain one
// (Combined Log Format: the peer's address first).
TEST(ServeTls, AccessLogNamesTheClientOfAnHttpsRequest) {
  Process gofer({gofer_bin(), "serve", "--addr", "127.0.0.1:0", "--procs", "1", "--tls-self-signed",
                 "--access-log", "-"});
  ASSERT_TRUE(gofer.started());
  int port = served_port(gofer);
  ASSERT_NE(port, 0) << gofer.output();
  std::string out = curl(port, "/hello");
  EXPECT_NE(out.find("Hello, World!"), std::string::npos) << out;
  EXPECT_TRUE(gofer.wait_for("\"GET /hello HTTP/1.1\" 200", 10s)) << gofer.output();
  EXPECT_TRUE(std::regex_search(
      gofer.output(), std::regex("\n127\\.0\\.0\\.1 - - \\[[^\n]*\"GET /hello HTTP/1.1\" 200")))
      << gofer.output();
}

TEST(ServeTls, SighupReloadsTheKeyPairForNewHandshakes) {
  TempDir dir;
  fs::path cert = dir.path / "server.crt", key = dir.path / "server.key";
  ASSERT_TRUE(make_pair(cert, key, "first.test"));
  Process gofer({gofer_bin(), "serve", "--addr", "127.0.0.1:0", "--procs", "1", "--tls-cert",
                 cert.string(), "--tls-key", key.string()});
  ASSERT_TRUE(gofer.started());
  int port = served_port(gofer);
  ASSERT_NE(port, 0) << gofer.output();
  std::string before = curl(port, "/hello");
  EXPECT_NE(before.find("CN=first.test"), std::string::npos) << before;

  // The files are replaced in place, as certbot or a secret mount does.
  fs::path cert2 = dir.path / "next.crt", key2 = dir.path / "next.key";
  ASSERT_TRUE(make_pair(cert2, key2, "second.test"));
  fs::rename(cert2, cert);
  fs::rename(key2, key);
  ASSERT_EQ(::kill(gofer.pid(), SIGHUP), 0);
  EXPECT_TRUE(gofer.wait_for("certificate reloaded", 10s)) << gofer.output();
  std::string after = curl(port, "/hello");
  EXPECT_NE(after.find("CN=second.test"), std::string::npos) << after;
  EXPECT_NE(after.find("Hello, World!"), std::string::npos) << after;
}

TEST(ServeTls, AKeyPairThatDoesNotLoadIsAOneLineErrorAndExit1) {
  TempDir dir;
  fs::path cert = dir.path / "a.crt", key = dir.path / "a.key";
  fs::path cert2 = dir.path / "b.crt", key2 = dir.path / "b.key";
  ASSERT_TRUE(make_pair(cert, key, "a.test"));
  ASSERT_TRUE(make_pair(cert2, key2, "b.test"));
  Process gofer({gofer_bin(), "serve", "--addr", "127.0.0.1:0", "--tls-cert", cert.string(),
                 "--tls-key", key2.string()});
  std::string out = gofer.wait_exit(20s);
  EXPECT_EQ(gofer.exit_status(), 1) << out;
  EXPECT_NE(out.find("gofer: TLS: "), std::string::npos) << out;
  EXPECT_EQ(out.find("serving"), std::string::npos) << out;
}
